#!/bin/sh
# Black-box tests of the API's data packages, record lookups, reports and filtered lists:
# `hookbridge serve` on a free loopback port driven with curl; happy paths, then refusals
# (project-manager keys, missing packages, bad filters, bad paging). Every exchange is checked
# against docs/openapi.json (tests/openapi_check.py) for the operations marked
# "x-tested-by": "api_packages".
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=api_packages
. tests/blackbox/api_lib.sh


hb init --community acme >/dev/null
KEY=$(hb --json apikey create --name tests --role community-manager | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
hb project create beta --name Beta >/dev/null
hb project create gamma --name Gamma >/dev/null
PM=$(hb --json apikey create --name pm --role project-manager --project gamma | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
hb user create --email zoe@example.com --first-name 'Zoë, "Z"' --country IE >/dev/null
hb user create --email max@example.com --country US >/dev/null
hb user join beta zoe@example.com max@example.com >/dev/null
hb xdata group create shipping --on users --name Shipping >/dev/null
hb xdata field create shipping is_valid --label Valid --param is_valid --type boolean >/dev/null
hb xdata set zoe@example.com shipping.is_valid true >/dev/null
hb xdata group create pstats --on projects --name Stats >/dev/null
hb xdata field create pstats testers --label Testers --param testers --type integer >/dev/null
hb xdata set beta pstats.testers 2 >/dev/null
hb feedback-type create beta bug --name Bug --prefix EXA --statuses "New,Open" >/dev/null
hb feedback create beta bug --title 'Crash, "now"' --submitter zoe@example.com >/dev/null
hb view save ship --columns 'user.email=Email,external.shipping.is_valid=Valid' >/dev/null
hb package save ship-beta --project beta --filter 'user.country != "FR"' --view ship >/dev/null
hb package save all-users >/dev/null
start_server "$T_DIR/serve.log"

t_begin data_packages
req GET /api/v1/projects/beta/data-packages/ship-beta
is 200
same "$(json 'j["paging"]["total_results"], [r["Email"] for r in j["data"]]')" "2 ['zoe@example.com', 'max@example.com']"
req GET "/api/v1/projects/beta/data-packages/ship-beta?format=csv"
is 200
contains "$CTYPE" "text/csv"
same "$(printf '%s' "$OUT" | python3 -c 'import csv,sys; print(list(csv.reader(sys.stdin)))')" "[['Email', 'Valid'], ['zoe@example.com', 'true'], ['max@example.com', '']]"
req GET "/api/v1/projects/beta/data-packages/ship-beta?page=2&page_size=1"
is 200
same "$(json 'j["paging"]["total_pages"], j["data"]')" "2 [{'Email': 'max@example.com', 'Valid': None}]"
req GET /api/v1/data-packages/all-users
is 200
same "$(json 'len(j["fields"]), j["paging"]["total_results"]')" "16 2"
t_end

t_begin data_package_refusals
req GET /api/v1/projects/beta/data-packages/ship-beta "" "$PM" ; is 403 forbidden
req GET /api/v1/data-packages/all-users "" "$PM" ; is 403 forbidden
req GET /api/v1/projects/gamma/data-packages/ship-beta "" "$PM" ; is 404 not_found
req GET /api/v1/data-packages/ship-beta ; is 404 not_found
req GET /api/v1/data-packages/nope ; is 404 not_found
req GET "/api/v1/data-packages/all-users?page=0" ; is 400 bad_request page
req GET "/api/v1/data-packages/all-users?format=xml" ; is 400 bad_request format
req GET "/api/v1/data-packages/all-users?sort=x" ; is 400 bad_request sort
req GET /api/v1/data-packages/all-users "" - ; is 401
t_end

t_begin lookups
req GET "/api/v1/lookup/users/zoe@example.com?view=ship"
is 200
same "$(json 'j["data"], [f["type"] for f in j["fields"]]')" "{'Email': 'zoe@example.com', 'Valid': True} ['string', 'boolean']"
req GET "/api/v1/lookup/users/1?format=csv"
is 200
same "$(printf '%s' "$OUT" | python3 -c 'import csv,sys; r=list(csv.DictReader(sys.stdin)); print(len(r), r[0]["user.first_name"], r[0]["external.shipping.is_valid"])')" '1 Zoë, "Z" true'
req GET /api/v1/lookup/feedback/EXA-0001
is 200
same "$(json 'j["data"]["feedback.title"], j["data"]["feedback.number"]')" 'Crash, "now" EXA-0001'
req GET /api/v1/lookup/projects/beta
is 200
same "$(json 'j["data"]["key"], j["data"]["external.pstats.testers"]')" "beta 2"
req GET "/api/v1/lookup/projects/beta?format=csv"
is 200
contains "$OUT" "external.pstats.testers"
req GET /api/v1/lookup/users/nobody@example.com ; is 404 not_found
req GET "/api/v1/lookup/users/zoe@example.com" "" "$PM" ; is 403 forbidden
req GET "/api/v1/lookup/planets/x" ; is 404 not_found
req GET "/api/v1/lookup/users/zoe@example.com?view=nope" ; is 404 not_found
t_end

t_begin filtered_lists
req GET "/api/v1/users?filter=external.shipping.is_valid%20%3D%20true"
is 200
same "$(json '[u["email"] for u in j["data"]], j["next_cursor"]')" "['zoe@example.com'] None"
req GET "/api/v1/users?filter=user.country%20!%3D%20%22XX%22&view=ship&limit=1"
is 200
same "$(json 'j["data"], j["next_cursor"] is not None')" "[{'Email': 'zoe@example.com', 'Valid': True}] True"
req GET "/api/v1/users?filter=user.country%20!%3D%20%22XX%22&view=ship&limit=1&cursor=$(json 'j["next_cursor"]')"
is 200
same "$(json 'j["data"], j["next_cursor"]')" "[{'Email': 'max@example.com', 'Valid': None}] None"
req GET "/api/v1/users?filter=user.last_name%20%3D%20%22'%20or%201%3D1%20--%22"
is 200
same "$(json 'j["data"]')" "[]"
req GET "/api/v1/feedback?filter=feedback.title%20contains%20%22crash%22"
is 200
same "$(json 'len(j["data"])')" "1"
req GET "/api/v1/users?filter=external.shipping.is_valid%20%3D%20%27yes%27" ; is 422 invalid filter
req GET "/api/v1/users?filter=user.email%20is%20not%20empty" "" "$PM"
is 200
same "$(json 'j["data"]')" "[]"
req GET "/api/v1/users?filter=x&country=US" ; is 400 bad_request country
t_end

t_begin reports
req GET "/api/v1/reports?on=users&group_by=external.shipping.is_valid"
is 200
same "$(json 'j["total"], [(g["external.shipping.is_valid"], g["count"], g["percent"]) for g in j["groups"]]')" "2 [(None, 1, 50.0), (True, 1, 50.0)]"
req GET "/api/v1/reports?on=users&group_by=user.country&by=month&by_path=user.created_at&format=csv"
is 200
same "$(printf '%s' "$OUT" | python3 -c 'import csv,sys; r=list(csv.reader(sys.stdin)); print(r[0], len(r))')" "['month', 'user.country', 'count', 'percent'] 3"
req GET "/api/v1/reports?on=feedback&group_by=feedback.status&project=beta"
is 200
same "$(json 'j["groups"][0]["feedback.status"], j["total"]')" "New 1"
req GET "/api/v1/reports?on=users&group_by=user.nope" ; is 422 invalid group_by
req GET "/api/v1/reports?on=planets&group_by=user.email" ; is 400 bad_request on
req GET "/api/v1/reports?group_by=user.email" ; is 400 bad_request on
req GET "/api/v1/reports?on=users&group_by=user.email" "" "$PM" ; is 403 forbidden
req GET "/api/v1/reports?on=users&group_by=user.email&project=gamma" "" "$PM" ; is 200
t_end

# A CSV longer than one piece of the stream (4096 rows) and one batch (500): chunked, no
# Content-Length, parses to the JSON pages row for row; refusals before it starts are JSON.
t_begin csv_streamed
python3 - "$T_DIR/many.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("email,first_name,country\n")
    for i in range(6000):
        f.write(f'm{i}@example.com,"F ""{i}"", x",{["US", "CA", "FR"][i % 3]}\n')
PY
hb user import "$T_DIR/many.csv" >/dev/null
hb package save bulk --filter 'user.country != "FR"' --view ship --format csv >/dev/null
curl -s -D "$T_DIR/bulk.head" -o "$T_DIR/bulk.csv" -H "Authorization: Bearer $KEY" "$BASE/api/v1/data-packages/bulk"
grep -qi '^transfer-encoding: chunked' "$T_DIR/bulk.head" || t_fail "the CSV was not chunked: $(cat "$T_DIR/bulk.head")"
grep -qi '^content-length' "$T_DIR/bulk.head" && t_fail "a streamed CSV has a Content-Length"
grep -qi '^content-type: text/csv' "$T_DIR/bulk.head" || t_fail "the CSV's type: $(cat "$T_DIR/bulk.head")"
for pg in 1 2 3; do
	curl -s -o "$T_DIR/bulk.$pg.json" -H "Authorization: Bearer $KEY" "$BASE/api/v1/data-packages/bulk?format=json&page=$pg&page_size=2000"
done
req GET "/api/v1/data-packages/bulk?format=csv&page=2&page_size=1500"
is 200
printf '%s' "$OUT" >"$T_DIR/bulk.p2.csv"
OUT=$(python3 - "$T_DIR" <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.reader(open(f"{d}/bulk.csv", newline="", encoding="utf-8")))
data = []
for pg in (1, 2, 3):
    doc = json.load(open(f"{d}/bulk.{pg}.json"))
    names, total = [f["name"] for f in doc["fields"]], doc["paging"]["total_results"]
    data += doc["data"]
text = lambda v: "" if v is None else ("true" if v is True else "false" if v is False else str(v))
assert rows[0] == names, rows[0]
assert rows[1:] == [[text(r[n]) for n in names] for r in data], "CSV and JSON differ"
page2 = list(csv.reader(open(f"{d}/bulk.p2.csv", newline="", encoding="utf-8")))
assert page2[0] == names and page2[1:] == rows[1501:3001], "page 2 differs"
print(len(rows) - 1, total)
PY
)
same "$OUT" "4002 4002"
req GET "/api/v1/data-packages/nope?format=csv" ; is 404 not_found package
req GET "/api/v1/data-packages/bulk?format=csv&page=2" ; is 400 bad_request page_size
req GET "/api/v1/data-packages/bulk?format=csv&page_size=0" ; is 400 bad_request page_size
req GET "/api/v1/data-packages/bulk?format=csv" "" "$PM" ; is 403 forbidden
contains "$CTYPE" "application/json"
t_end

t_begin packages_need_integrations
sqlite3 "$HOOKBRIDGE_DB" "UPDATE communities SET enhanced_integrations = 0"
stop_server
start_server "$T_DIR/serve2.log"
req GET /api/v1/data-packages/all-users ; is 403 forbidden
contains "$OUT" "enhanced"
stop_server
t_end

# ---- every exchange against the OpenAPI document ----
check_openapi api_packages
