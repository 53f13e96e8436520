#!/bin/sh
# Black-box tests of filters, views and reports: users and tickets with External Data, chosen
# with --filter (text and saved), shown through a view, counted by report as a table, JSON and
# CSV (the CSV read back with Python's csv module and compared with the JSON row for row); bad
# filters, views and reports refused with exit status 2 and the database left unchanged.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=filter

hb init --community acme >/dev/null
hb project create beta --name Beta >/dev/null
for u in "ann US" "bob CA" "cy US" "dee IE" "eve CA"; do
	set -- $u
	hb user create --email "$1@example.com" --first-name "$1" --country "$2" >/dev/null
done
hb user update eve@example.com --company "Eve's \"Co\", Inc" >/dev/null
hb user join beta ann@example.com cy@example.com eve@example.com >/dev/null
hb xdata group create shipping --on users --name Shipping >/dev/null
hb xdata field create shipping is_valid --label Valid --param validation_results.is_valid --type boolean --favorite >/dev/null
hb xdata field create shipping score --label Score --param score --type integer >/dev/null
hb xdata field create shipping carrier --label Carrier --param carrier --type string >/dev/null
hb xdata group create jira --on feedback --name Jira >/dev/null
hb xdata field create jira key --label "Jira key" --param key --type string >/dev/null
hb xdata set ann@example.com shipping.is_valid true >/dev/null
hb xdata set ann@example.com shipping.score 90 >/dev/null
hb xdata set ann@example.com shipping.carrier UPS >/dev/null
hb xdata set bob@example.com shipping.is_valid false >/dev/null
hb xdata set bob@example.com shipping.score 40 >/dev/null
hb xdata set cy@example.com shipping.is_valid false >/dev/null
hb xdata set eve@example.com shipping.is_valid true >/dev/null
hb xdata set eve@example.com shipping.carrier "DHL, Express" >/dev/null
hb feedback-type create beta bug --name Bug --prefix EXA --statuses New,Open >/dev/null
hb feedback create beta bug --title Crash --submitter ann@example.com --severity high >/dev/null
hb feedback create beta bug --title Typo --submitter bob@example.com >/dev/null
hb xdata set EXA-0002 jira.key BETA-7 >/dev/null

emails() { json '",".join(u["email"].split("@")[0] for u in j)'; }

t_begin list_filter_native_and_external
expect 0 hb --json user list --filter 'external.shipping.is_valid = false and user.country in ("US", "CA")'
same "$(emails)" "bob,cy"
expect 0 hb --json user list --filter 'external.shipping.score >= 50 or external.shipping.carrier contains "dhl"'
same "$(emails)" "ann,eve"
expect 0 hb --json user list --filter 'external.shipping.score is empty and not user.country = "IE"'
same "$(emails)" "cy,eve"
expect 0 hb --json user list --filter 'user.created_at > now - 1d and user.created_at <= now'
same "$(emails)" "ann,bob,cy,dee,eve"
expect 0 hb --json user list --filter 'user.country = "CA"' --limit 1
same "$(emails)" "bob"
expect 0 hb --json user list --filter 'user.country = "CA"' --after 2
same "$(emails)" "eve"
expect 0 hb user list --filter 'external.shipping.is_valid = true' --count
same "$OUT" "2"
expect 0 hb --json user list --project beta --filter 'external.shipping.is_valid = true'
same "$(emails)" "ann,eve"
t_end

t_begin list_filter_feedback
expect 0 hb --json feedback list --filter 'submitter.external.shipping.is_valid = false'
same "$(json '[t["number"] for t in j]')" "['EXA-0002']"
expect 0 hb --json feedback list --filter 'external.jira.key is empty or feedback.severity = "high"' --project beta
same "$(json '[t["number"] for t in j]')" "['EXA-0001']"
expect 0 hb --json feedback list --filter 'feedback.type = "bug" and feedback.number in ("EXA-0002")'
same "$(json '[t["title"] for t in j]')" "['Typo']"
t_end

t_begin injection_is_a_plain_value
for evil in "' or 1=1 --" "\" or \"\"=\"" "x'); DROP TABLE users; --" '\\' '%' '_'; do
	q=$(printf '%s' "$evil" | python3 -c 'import sys,json; print(json.dumps(sys.stdin.read()))')
	expect 0 hb --json user list --filter "user.country = $q or user.email contains $q"
	same "$(json 'len(j)')" "0"
done
expect 0 hb user list --count
same "$OUT" "5"
t_end

t_begin bad_filters_exit_2_database_unchanged
before=$(snapshot)
expect 2 hb user list --filter 'external.shipping.is_valid = "yes"'
contains "$ERR" "line 1, column 30: 'external.shipping.is_valid' is a boolean; it cannot be compared with \"yes\""
expect 2 hb user list --filter "$(printf 'user.country = "US" and\n  user.emial = "x"')"
contains "$ERR" "line 2, column 3: unknown path 'user.emial' (did you mean 'user.email'?)"
expect 2 hb user list --filter 'user.country = US'
contains "$ERR" "text must be quoted"
expect 2 hb user list --filter '(user.country = "US"'
contains "$ERR" "expected ')'"
expect 2 hb user list --filter @nope
contains "$ERR" "no saved filter 'nope'"
expect 2 hb user list --filter 'user.country = "US"' --country US
contains "$ERR" "cannot be combined"
expect 2 hb filter save broken --filter 'user.score > 5'
contains "$ERR" "expression: line 1, column 1: unknown path 'user.score'"
expect 2 hb filter save broken --on projects --filter ''
expect 2 hb view save broken --columns 'user.email,external.shipping.is_vlid'
contains "$ERR" "column 2: unknown path 'external.shipping.is_vlid' (did you mean 'external.shipping.is_valid'?)"
expect 2 hb report --on users --group-by user.contry
contains "$ERR" "did you mean 'user.country'"
expect 2 hb report --on users --by year user.created_at
expect 2 hb report --on users --by month user.country
contains "$ERR" "'user.country' is a string, not a datetime"
expect 2 hb report --on users
same "$(snapshot)" "$before"
t_end

t_begin saved_filters_and_views
expect 0 hb --json filter save valid-na --filter 'external.shipping.is_valid = true and user.country in ("US","CA")' --name "Valid, North America"
same "$(json 'j["key"], j["on"]')" "valid-na users"
expect 0 hb --json user list --filter @valid-na
same "$(emails)" "ann,eve"
expect 0 hb --json filter save valid-na --filter 'external.shipping.is_valid = true and user.country = "US"'
same "$(json 'j["name"]')" "valid-na"
expect 0 hb --json user list --filter @valid-na
same "$(emails)" "ann"
expect 2 hb filter save valid-na --on feedback --filter ''
contains "$ERR" "exists for other records"
expect 0 hb --json filter save beta-only --filter 'user.email is not empty' --project beta
expect 0 hb --json user list --filter @beta-only
same "$(emails)" "ann,cy,eve"
expect 0 hb --json filter list
same "$(json '[f["key"] for f in j]')" "['valid-na', 'beta-only']"
expect 2 hb feedback list --filter @valid-na
contains "$ERR" "saved filter 'valid-na' chooses users, not feedback"
expect 0 hb --json view save contact --columns 'user.email=Email,external.shipping.is_valid=Valid?,external.shipping.carrier'
same "$(json '[c["heading"] for c in j["columns"]]')" "['Email', 'Valid?', 'external.shipping.carrier']"
expect 0 hb --json user list --view contact --filter @valid-na
same "$OUT" '[
  {"user.email":"ann@example.com","external.shipping.is_valid":true,"external.shipping.carrier":"UPS"}
]'
expect 0 hb user list --view contact --filter 'user.country = "CA"'
same "$(printf '%s\n' "$OUT" | head -1 | tr -s ' ')" "Email Valid? external.shipping.carrier"
contains "$OUT" "DHL, Express"
expect 2 hb feedback list --view contact
contains "$ERR" "view 'contact' shows users, not feedback"
expect 0 hb filter delete valid-na
expect 2 hb filter show valid-na
expect 0 hb view delete contact
t_end

t_begin report_table_json_csv
expect 0 hb report --on users --group-by external.shipping.is_valid
contains "$OUT" "(empty)                     1      20.00%"
contains "$OUT" "true                        2      40.00%"
contains "$OUT" "total                       5      100.00%"
expect 0 hb report --on users --group-by external.shipping.is_valid --group-by user.country --format json
same "$(json 'j["total"], [(g["external.shipping.is_valid"], g["user.country"], g["count"]) for g in j["groups"]]')" \
	"5 [(None, 'IE', 1), (False, 'CA', 1), (False, 'US', 1), (True, 'CA', 1), (True, 'US', 1)]"
printf '%s' "$OUT" >"$T_DIR/report.json"
expect 0 hb report --on users --group-by external.shipping.is_valid --group-by user.country --format csv
printf '%s' "$OUT" >"$T_DIR/report.csv"
same "$(python3 - "$T_DIR/report.csv" "$T_DIR/report.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
groups = json.load(open(sys.argv[2]))["groups"]
def text(v):
    return "" if v is None else ("true" if v is True else "false" if v is False else str(v))
ok = len(rows) == len(groups) and all(
    r["external.shipping.is_valid"] == text(g["external.shipping.is_valid"]) and
    r["user.country"] == text(g["user.country"]) and int(r["count"]) == g["count"] and
    float(r["percent"]) == g["percent"] for r, g in zip(rows, groups))
print("match" if ok else f"differ: {rows} {groups}")
PY
)" "match"
expect 0 hb report --on users --group-by external.shipping.carrier --format csv --filter 'external.shipping.carrier is not empty'
same "$OUT" "$(printf 'external.shipping.carrier,count,percent\r\n"DHL, Express",1,50.00\r\nUPS,1,50.00\r')"
expect 0 hb --json report --on feedback --group-by submitter.country --by day feedback.created_at
same "$(json '[(g["day"] == j["groups"][0]["day"], g["submitter.country"], g["count"]) for g in j["groups"]]')" \
	"[(True, 'CA', 1), (True, 'US', 1)]"
expect 0 hb report --on users --project beta --group-by user.company --format csv
same "$(printf '%s' "$OUT" | python3 -c 'import csv,sys; print([r[0] for r in csv.reader(sys.stdin)])')" \
	"['user.company', '', 'Eve\\'s \"Co\", Inc']"
t_end

t_begin list_csv_matches_json
hb view save ship --columns 'user.email,external.shipping.is_valid,external.shipping.score,external.shipping.carrier,user.company=Company' >/dev/null
expect 0 hb user list --view ship --filter 'user.country != "IE"' --format json
printf '%s' "$OUT" >"$T_DIR/list.json"
expect 0 hb user list --view ship --filter 'user.country != "IE"' --format csv
printf '%s' "$OUT" >"$T_DIR/list.csv"
same "$(python3 - "$T_DIR/list.csv" "$T_DIR/list.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
data = json.load(open(sys.argv[2]))
paths = ["user.email", "external.shipping.is_valid", "external.shipping.score", "external.shipping.carrier", "user.company"]
def text(v):
    return "" if v is None else ("true" if v is True else "false" if v is False else str(v))
ok = rows[0][4] == "Company" and len(rows) == len(data) + 1 and all(
    r == [text(d[p]) for p in paths] for r, d in zip(rows[1:], data))
print("match" if ok else f"differ: {rows} {data}")
PY
)" "match"
contains "$OUT" "\"Eve's \"\"Co\"\", Inc\""
t_end
