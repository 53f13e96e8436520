#!/bin/sh
# Black-box test of data packages end to end: users imported from CSV, External Data captured
# by a real macro run against the test receiver, then filtered, shown in a view, counted in a
# report and exported as a data package; the CSV export parses with Python's csv module and
# matches the JSON export row for row, through the command line and through the API.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=package
RECEIVER="${HB_RECEIVER:-$PWD/build/test-receiver}"

"$RECEIVER" --port-file "$T_DIR/port" >/dev/null 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; [ -n "${spid-}" ] && kill $spid 2>/dev/null; rm -rf "$T_DIR"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T_DIR/port" ] && break; sleep 0.1; done
RBASE="http://127.0.0.1:$(cat "$T_DIR/port")"

hb init --community acme >/dev/null
hb project create beta --name Beta >/dev/null
cat >"$T_DIR/users.csv" <<'CSV'
email,first_name,last_name,country,company
ann@example.com,Ann,"Lee, Jr.",US,"Quote ""Co"""
bob@example.com,Bob,Brown,CA,
cid@example.com,Cid, Spaced ,US,Zoë & Acme
dee@example.com,Dee,' or 1=1 --,FR,
eve@example.com,Eve,Evans,US,
CSV

t_begin import_and_capture
expect 0 hb user import "$T_DIR/users.csv" --project beta
hb xdata group create shipping --on users --name Shipping >/dev/null
hb xdata field create shipping is_valid --label Valid --param validation_results.is_valid --type boolean >/dev/null
hb xdata field create shipping object_id --label Object --param object_id --type string >/dev/null
curl -s -X PUT --data-binary '[{"path":"/addresses/","responses":[
 {"status":201,"json":{"object_id":"o,1","validation_results":{"is_valid":true}}},
 {"status":201,"json":{"object_id":"o\"2","validation_results":{"is_valid":true}}},
 {"status":201,"json":{"object_id":"o3","validation_results":{"is_valid":false}}},
 {"status":201,"json":{"object_id":"o4","validation_results":{"is_valid":true}}},
 {"status":201,"json":{"object_id":"o5","validation_results":{"is_valid":false}}}]}]' "$RBASE/_control/script" >/dev/null
printf '%s' '{"key":"validate","name":"Validate","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$RBASE"'/addresses/","content_type":"json","body":"{\"email\": \"{{user.email}}\"}","capture":{"group":"shipping"}}]}' >"$T_DIR/m.json"
expect 0 hb macro create --file "$T_DIR/m.json"
expect 0 hb --json macro run validate --all --wait --allow-target 127.0.0.1/32
same "$(json 'j["status"], j["deliveries"]["succeeded"]')" "finished 5"
t_end

t_begin filter_on_captured_values
expect 0 hb --json user list --filter 'external.shipping.is_valid = true'
same "$(json 'len(j)')" "3"
expect 0 hb user list --filter 'external.shipping.is_valid = false and user.country = "US"' --count
valid_false_us=$OUT
expect 0 hb user list --filter "user.last_name = \"' or 1=1 --\"" --count
same "$OUT" "1"
t_end

t_begin view_and_report
expect 0 hb view save ship --columns 'user.email=Email,user.last_name=Last,user.company=Company,external.shipping.is_valid=Valid,external.shipping.object_id=Object,user.created_at=Created'
expect 0 hb --json user list --filter 'external.shipping.is_valid = true' --view ship
same "$(json 'len(j), sorted(j[0])')" "3 ['external.shipping.is_valid', 'external.shipping.object_id', 'user.company', 'user.created_at', 'user.email', 'user.last_name']"
expect 0 hb report --on users --group-by external.shipping.is_valid --format json
same "$(json '[(g["external.shipping.is_valid"], g["count"], g["percent"]) for g in j["groups"]], j["total"]')" "[(False, 2, 40.0), (True, 3, 60.0)] 5"
t_end

t_begin export_csv_matches_json
expect 0 hb package save valid --on users --project beta --filter 'external.shipping.object_id is not empty and user.country != "FR"' --view ship --format csv
expect 0 hb package export valid --format json
cp "$T_DIR/out" "$T_DIR/p.json"
same "$(json 'j["paging"], [f["name"] for f in j["fields"]]')" "{'total_pages': 1, 'current_page': 1, 'page_size': 4, 'total_results': 4} ['Email', 'Last', 'Company', 'Valid', 'Object', 'Created']"
expect 0 hb package export valid
cp "$T_DIR/out" "$T_DIR/p.csv"
OUT=$(python3 - "$T_DIR/p.csv" "$T_DIR/p.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
doc = json.load(open(sys.argv[2]))
names = [f["name"] for f in doc["fields"]]
assert rows[0] == names, rows[0]
def text(v):
    return "" if v is None else ("true" if v is True else "false" if v is False else str(v))
want = [[text(r[n]) for n in names] for r in doc["data"]]
assert rows[1:] == want, (rows[1:], want)
print(len(rows) - 1, open(sys.argv[1], "rb").read().count(b"\r\n") >= 5)
PY
)
same "$OUT" "4 True"
expect 0 hb package export valid --format json --page 2 --page-size 3
same "$(json 'j["paging"]["total_pages"], j["paging"]["current_page"], len(j["data"])')" "2 2 1"
expect 2 hb package export valid --page 0 --page-size 3
expect 2 hb package export nope
contains "$ERR" "no data package 'nope'"
t_end

t_begin package_errors_write_nothing
before=$(snapshot)
expect 2 hb package save bad --filter 'external.shipping.is_valid = "yes"'
contains "$ERR" "boolean"
expect 2 hb package save bad --view nope
expect 2 hb package save bad --on feedback --view ship
contains "$ERR" "shows users, not feedback"
expect 2 hb package save bad --format xml
expect 2 hb view delete ship
contains "$ERR" "refer to it"
same "$(snapshot)" "$before"
t_end

t_begin api_export_matches_cli
KEY=$(hb --json apikey create --name t --role community-manager | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$HB_BIN" serve --listen "127.0.0.1:$port" 2>"$T_DIR/serve.log" &
spid=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
A="http://127.0.0.1:$port/api/v1"
curl -s -H "Authorization: Bearer $KEY" "$A/projects/beta/data-packages/valid?format=csv" >"$T_DIR/a.csv"
cmp -s "$T_DIR/a.csv" "$T_DIR/p.csv" || t_fail "the API's CSV differs from the command line's"
OUT=$(curl -s -H "Authorization: Bearer $KEY" "$A/projects/beta/data-packages/valid?format=json&page_size=4")
same "$(json 'j["data"]')" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"])' "$T_DIR/p.json")"
OUT=$(curl -s -H "Authorization: Bearer $KEY" "$A/reports?on=users&group_by=external.shipping.is_valid")
same "$(json '[(g["external.shipping.is_valid"], g["count"]) for g in j["groups"]]')" "[(False, 2), (True, 3)]"
OUT=$(curl -s -H "Authorization: Bearer $KEY" "$A/users?filter=external.shipping.is_valid%20%3D%20false%20and%20user.country%20%3D%20%22US%22")
same "$(json 'len(j["data"])')" "$valid_false_us"
kill $spid
wait $spid 2>/dev/null
spid=
t_end

# More rows than one piece of a CSV stream (4096 ids) and one batch of rows (500), with a
# dense filter (rows read by id range) and a sparse one (rows read by their ids).
t_begin csv_stream_many_batches
python3 - "$T_DIR/many.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("email,first_name,last_name,country\n")
    for i in range(9000):
        f.write(f'm{i}@example.com,"F,{i}",L{i},{["US", "CA", "IE", "DE", "FR"][i % 5]}\n')
PY
expect 0 hb user import "$T_DIR/many.csv"
hb xdata set m7@example.com shipping.object_id 'x"7' >/dev/null
expect 0 hb view save mv --columns 'user.email=Email,user.first_name=First,user.country=Country,external.shipping.object_id=Object,community.key=Community'
for spec in 'dense:user.country != "FR"' 'sparse:user.country = "CA" or user.email = "m7@example.com"'; do
	name=${spec%%:*}
	expect 0 hb package save "$name" --filter "${spec#*:}" --view mv --format csv
	expect 0 hb package export "$name"
	cp "$T_DIR/out" "$T_DIR/$name.csv"
	for pg in 1 2 3 4; do
		expect 0 hb package export "$name" --format json --page $pg --page-size 2500
		cp "$T_DIR/out" "$T_DIR/$name.$pg.json"
	done
	expect 0 hb package export "$name" --page 2 --page-size 3000
	cp "$T_DIR/out" "$T_DIR/$name.p2.csv"
	OUT=$(python3 - "$T_DIR" "$name" <<'PY'
import csv, json, sys
d, name = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(f"{d}/{name}.csv", newline="", encoding="utf-8")))
data, names, total = [], None, None
for pg in range(1, 5):
    doc = json.load(open(f"{d}/{name}.{pg}.json"))
    names, total = [f["name"] for f in doc["fields"]], doc["paging"]["total_results"]
    data += doc["data"]
def text(v):
    return "" if v is None else ("true" if v is True else "false" if v is False else str(v))
want = [[text(r[n]) for n in names] for r in data]
assert rows[0] == names, rows[0]
assert rows[1:] == want, "CSV and JSON differ"
assert len(want) == total, (len(want), total)
page2 = list(csv.reader(open(f"{d}/{name}.p2.csv", newline="", encoding="utf-8")))
assert page2[0] == names and page2[1:] == rows[3001:6001], "page 2 differs"
print(len(rows) - 1, any(r[3] == 'x"7' for r in rows))
PY
)
	case $name in
	dense) same "$OUT" "7204 True" ;;
	sparse) same "$OUT" "1802 True" ;;
	esac
done
t_end
