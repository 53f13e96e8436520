#!/bin/sh
# Black-box tests of macro runs against the scriptable test receiver on 127.0.0.1: the worked
# examples of the product (Shippo form + capture, trade.gov GET, Jira create-then-update,
# Slack JSON), faults (retries, Retry-After, timeout, reset, redirect, 404, huge and invalid
# answers, one field failing coercion), signing, the address guard, hand retries, and a run
# killed with SIGKILL and resumed by a worker.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=deliver
RECEIVER="${HB_RECEIVER:-$PWD/build/test-receiver}"

"$RECEIVER" --port-file "$T_DIR/port" >/dev/null 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$T_DIR"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T_DIR/port" ] && break; sleep 0.1; done
BASE="http://127.0.0.1:$(cat "$T_DIR/port")"
ALLOW="--allow-target 127.0.0.1/32"
export HOOKBRIDGE_RETRY_SCHEDULE="100ms,100ms"

script() { curl -s -X PUT --data-binary "$1" "$BASE/_control/script" >/dev/null; curl -s -X DELETE "$BASE/_control/requests" >/dev/null; }
requests() { curl -s "$BASE/_control/requests"; }
# macro FILE-CONTENT: create (or replace) a macro from JSON text
macro() { printf '%s' "$1" >"$T_DIR/m.json"; hb macro create --file "$T_DIR/m.json" >/dev/null 2>"$T_DIR/merr" || hb macro update --file "$T_DIR/m.json" >/dev/null; }
# last_delivery: `delivery show` of the newest delivery as JSON in $OUT
last_delivery() { id=$(hb --json delivery list | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])'); expect 0 hb --json delivery show "$id"; }

hb init --community acme >/dev/null
hb project create beta --name Beta >/dev/null
hb user create --email zoe@example.com --first-name "Zoë" --last-name "O'Brien & Co" --street1 "1 Main St & 2nd = corner" >/dev/null
hb feedback-type create beta bug --name Bug --prefix EXA --statuses "New,Open,Filed" >/dev/null
hb feedback create beta bug --title 'Crash "on" save \ }} 🎉' --submitter zoe@example.com --description "$(printf 'line1\nline2\001')" >/dev/null
hb xdata group create shipping --on users --name Shipping >/dev/null
for f in "is_valid validation_results.is_valid boolean" "is_complete validation_results.is_complete boolean" \
	"is_residential is_residential boolean" "object_id object_id string"; do
	set -- $f
	hb xdata field create shipping "$1" --label "$1" --param "$2" --type "$3" >/dev/null
done
hb xdata set zoe@example.com shipping.is_residential true >/dev/null
hb xdata group create screening --on users --name Screening >/dev/null
hb xdata field create screening total --label Total --param total --type integer >/dev/null
hb xdata group create jira --on feedback --name Jira >/dev/null
hb xdata field create jira key --label Key --param key --type string >/dev/null

t_begin shippo_form_capture
script '[{"path":"/addresses/","responses":[{"status":201,"json":{"object_id":"a1b2","is_residential":null,"validation_results":{"is_valid":true,"is_complete":false}}}]}]'
macro '{"key":"shippo","name":"Shippo","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/addresses/","headers":"Authorization: ShippoToken shippo_test_123","content_type":"form","body":"name={{user.first_name}} {{user.last_name}}&street1={{user.street1}}&validate=true","capture":{"group":"shipping"}}]}'
expect 0 hb --json macro run shippo --user zoe@example.com --wait $ALLOW
same "$(json 'j["status"], j["deliveries"]["succeeded"]')" "finished 1"
OUT=$(requests)
same "$(json 'j[0]["body"]')" "name=Zo%C3%AB+O%27Brien+%26+Co&street1=1+Main+St+%26+2nd+%3D+corner&validate=true"
same "$(json 'j[0]["headers"]["content-type"], j[0]["headers"]["idempotency-key"].startswith("hbd_"), j[0]["headers"]["user-agent"].startswith("hookbridge/")')" "application/x-www-form-urlencoded True True"
expect 0 hb --json user show zoe@example.com
same "$(json '{x["field"]: x["value"] for x in j["external"] if x["value"] is not None}')" "{'shipping.is_valid': True, 'shipping.is_complete': False, 'shipping.object_id': 'a1b2'}"
last_delivery
same "$(json '[(c["field"], c["outcome"]) for c in j["attempts_log"][0]["capture"]]')" "[('shipping.is_valid', 'stored'), ('shipping.is_complete', 'stored'), ('shipping.is_residential', 'cleared'), ('shipping.object_id', 'stored')]"
contains "$OUT" '"ShippoToken ********"'
case "$OUT" in *shippo_test_123*) t_fail "the token shows in the delivery log" ;; esac
t_end

t_begin test_send
hb secret set shippo --value shippo_live_secret >/dev/null
macro '{"key":"shippo2","name":"Shippo with a secret","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/addresses/","headers":"Authorization: ShippoToken {{secret.shippo}}\nX-Trace: {{secret.shippo}}","content_type":"form","body":"name={{user.first_name}}","capture":{"group":"shipping"}}]}'
before=$(snapshot)
curl -s -X DELETE "$BASE/_control/requests" >/dev/null
expect 0 hb --json macro test shippo2 --user zoe@example.com --dry-run
same "$(json 'j["sent"], j["request"]["url"], j["request"]["body"]["text"]')" "False $BASE/addresses/ name=Zo%C3%AB"
same "$(requests)" "[]"
script '[{"path":"/addresses/","responses":[{"json":{"object_id":"test-1","validation_results":{"is_valid":"maybe"}}}]}]'
expect 0 hb --json macro test shippo2 --user zoe@example.com $ALLOW
same "$(json 'j["sent"], j["response"]["status"], j["stored"]')" "True 200 False"
same "$(json '[(c["field"], c["outcome"]) for c in j["capture"]]')" "[('shipping.is_valid', 'error'), ('shipping.is_complete', 'missing'), ('shipping.is_residential', 'missing'), ('shipping.object_id', 'stored')]"
case "$OUT" in *shippo_live_secret*) t_fail "the secret shows in a test-send" ;; esac
contains "$OUT" '"ShippoToken ********"'
same "$(requests | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["headers"]["authorization"])')" "ShippoToken shippo_live_secret"
same "$(snapshot)" "$before"
expect 0 hb macro test shippo2 --user zoe@example.com --store $ALLOW
contains "$OUT" "shipping.object_id"
contains "$OUT" '  stored "test-1"'
expect 0 hb --json user show zoe@example.com
same "$(json '{x["field"]: x.get("source") for x in j["external"]}["shipping.object_id"]')" "test:shippo2"
expect 0 hb --json macro test shippo2 --user zoe@example.com
same "$(json 'j["error_class"]')" "refused"
expect 2 hb macro test shippo2 --feedback EXA-0001
contains "$ERR" "runs on users"
expect 2 hb macro test shippo2 --user nobody@example.com
expect 2 hb macro test shippo2 --user zoe@example.com --action 5
contains "$ERR" "no webhook at action 5"
hb macro delete shippo2 >/dev/null
t_end

t_begin tradegov_get_integer
script '[{"method":"GET","path":"/v1/search","responses":[{"json":{"total":3,"results":[]}}]}]'
macro '{"key":"screen","name":"Screen","on":"users","actions":[{"type":"webhook","method":"GET","url":"'"$BASE"'/v1/search?name={{user.first_name}} {{user.last_name}}&fuzzy_name=true","capture":{"group":"screening"}}]}'
expect 0 hb --json macro run screen --all --wait $ALLOW
OUT=$(requests)
same "$(json 'j[0]["method"], j[0]["query"], j[0]["body_size"]')" "GET name=Zo%C3%AB%20O%27Brien%20%26%20Co&fuzzy_name=true 0"
expect 0 hb --json user show zoe@example.com
same "$(json '[x["value"] for x in j["external"] if x["field"]=="screening.total"]')" "[3]"
t_end

t_begin run_on_a_filter
hb user create --email other@example.com --first-name Other >/dev/null
expect 0 hb --json macro run screen --filter 'user.first_name = "Zoë" and external.screening.total = 3' --wait $ALLOW
same "$(json 'j["total"], j["selection"], j["deliveries"]["succeeded"]')" '1 filter: user.first_name = "Zoë" and external.screening.total = 3 1'
hb filter save nobody --on users --filter 'user.first_name = "Nobody"' >/dev/null
expect 0 hb --json macro run screen --filter @nobody --wait $ALLOW
same "$(json 'j["total"], j["status"]')" "0 finished"
hb user delete other@example.com >/dev/null
t_end

t_begin jira_create_then_update
script '[{"method":"POST","path":"/rest/api/2/issue","responses":[{"status":201,"json":{"id":"10001","key":"ABC-7"}}]},{"method":"PUT","path":"/rest/api/2/issue/*","responses":[{"status":204}]}]'
macro '{"key":"jira","name":"Jira","on":"feedback","feedback_type":"bug","project":"beta","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/rest/api/2/issue","content_type":"json","body":"{\"fields\":{\"summary\":\"{{feedback.title}}\",\"description\":\"{{feedback.description}}\"}}","capture":{"group":"jira"}},{"type":"webhook","method":"PUT","url":"'"$BASE"'/rest/api/2/issue/{{external.jira.key}}","body":"{\"fields\":{\"labels\":[\"{{feedback.number}}\"]}}"},{"type":"set_status","status":"Filed"},{"type":"add_reply","text":"Filed as {{external.jira.key}}"}]}'
expect 0 hb --json macro run jira --feedback EXA-0001 --wait $ALLOW
same "$(json 'j["deliveries"]["succeeded"], j["deliveries"]["total"]')" "2 2"
OUT=$(requests)
same "$(json 'j[1]["method"], j[1]["path"]')" "PUT /rest/api/2/issue/ABC-7"
same "$(json 'json.loads(j[1]["body"])["fields"]["labels"]')" "['EXA-0001']"
same "$(json 'json.loads(j[0]["body"])["fields"]["summary"]')" 'Crash "on" save \ }} 🎉'
same "$(json 'repr(json.loads(j[0]["body"])["fields"]["description"])')" "'line1\\nline2\\x01'"
expect 0 hb --json feedback show EXA-0001
same "$(json 'j["status"], [r["body"] for r in j.get("replies", [])]')" "Filed ['Filed as ABC-7']"
t_end

t_begin methods_in_turn_on_one_connection
# one transfer slot sends a record's POST, GET, DELETE, PATCH and PUT in turn on the same
# handle: each goes with its own method and body, nothing carried over from the one before (a
# PUT without a body still sends an empty JSON one, as every PUT does)
script '[{"path":"/m/*","responses":[{"json":{}}]}]'
macro '{"key":"methods","name":"Methods","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/m/1","content_type":"json","body":"{\"a\":1}"},{"type":"webhook","method":"GET","url":"'"$BASE"'/m/2"},{"type":"webhook","method":"DELETE","url":"'"$BASE"'/m/3"},{"type":"webhook","method":"PATCH","url":"'"$BASE"'/m/4","content_type":"form","body":"x=1"},{"type":"webhook","method":"PUT","url":"'"$BASE"'/m/5"}]}'
expect 0 hb --json macro run methods --user zoe@example.com --wait --concurrency 1 $ALLOW
same "$(json 'j["deliveries"]["succeeded"]')" "5"
OUT=$(requests)
same "$(json '[(r["method"], r["path"], r["body_size"], r["headers"].get("content-type")) for r in j]')" "[('POST', '/m/1', 7, 'application/json'), ('GET', '/m/2', 0, None), ('DELETE', '/m/3', 0, None), ('PATCH', '/m/4', 3, 'application/x-www-form-urlencoded'), ('PUT', '/m/5', 0, 'application/json')]"
same "$(json 'len({r["conn"] for r in j})')" "1"
t_end

t_begin slack_json_signed
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
script '[{"path":"/slack","responses":[{"body":"ok"}]}]'
macro '{"key":"slack","name":"Slack","on":"feedback","feedback_type":"bug","project":"beta","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/slack","headers":"X-Run: {{macro.key}} run {{run.id}}","body":"{\"text\":\"New bug: {{feedback.title}} by {{submitter.email}}\"}","signing_secret":"'$secret'"}]}'
expect 0 hb --json macro run slack --all --wait $ALLOW
OUT=$(requests)
same "$(json 'json.loads(j[0]["body"])["text"]')" 'New bug: Crash "on" save \ }} 🎉 by zoe@example.com'
verified=$(printf '%s' "$OUT" | python3 -c '
import json,sys,hmac,hashlib,base64
r=json.load(sys.stdin)[0]; h=r["headers"]
key=base64.b64decode(sys.argv[1][len("whsec_"):])
msg=("%s.%s.%s" % (h["webhook-id"], h["webhook-timestamp"], r["body"])).encode()
sig="v1,"+base64.b64encode(hmac.new(key,msg,hashlib.sha256).digest()).decode()
print(sig==h["webhook-signature"], h["webhook-id"]==h["idempotency-key"])' "$secret")
same "$verified" "True True"
run=$(hb --json macro log slack | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
same "$(json 'j[0]["headers"]["x-run"]')" "slack run $run"
t_end

# one macro reused for the faults: capture of the shipping group from /fault
fault_macro() {
	macro '{"key":"fault","name":"Fault","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/fault","body":"{}","capture":{"group":"shipping"},"timeout_ms":'"${2:-15000}"',"retry":{"schedule":'"${1:-[\"100ms\",\"100ms\"]}"'}}]}'
}
fault_macro
t_begin retry_503_then_200
script '[{"path":"/fault","responses":[{"status":503},{"status":200,"json":{"object_id":"after-503"}}]}]'
expect 0 hb --json macro run fault --all --wait $ALLOW
same "$(json 'j["deliveries"]["succeeded"]')" "1"
last_delivery
same "$(json 'j["attempts"], [a["status"] for a in j["attempts_log"]], j["attempts_log"][0]["error_class"]')" "2 [503, 200] http"
t_end

t_begin retry_after_honoured
script '[{"path":"/fault","responses":[{"status":429,"retry_after":1},{"status":200,"json":{}}]}]'
expect 0 hb --json macro run fault --all --wait $ALLOW
OUT=$(requests)
gap=$(json 'round((__import__("datetime").datetime.fromisoformat(j[1]["time"].replace("Z","+00:00")) - __import__("datetime").datetime.fromisoformat(j[0]["time"].replace("Z","+00:00"))).total_seconds(), 1)')
python3 -c "import sys; sys.exit(0 if $gap >= 0.9 else 1)" || t_fail "second attempt came after ${gap}s, not after Retry-After: 1"
t_end

t_begin failures_without_retry
for case in '{"status":404}|http|answered 404' '{"status":301,"headers":{"Location":"https://elsewhere.example/"}}|redirect|redirects are not followed'; do
	answer=${case%%|*}; rest=${case#*|}; cls=${rest%%|*}; msg=${rest#*|}
	script '[{"path":"/fault","responses":['"$answer"']}]'
	expect 0 hb --json macro run fault --all --wait $ALLOW
	same "$(json 'j["deliveries"]["failed"]')" "1"
	same "$(requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "1"
	last_delivery
	same "$(json 'j["attempts_log"][0]["error_class"]')" "$cls"
	contains "$(json 'j["last_error"]')" "$msg"
done
t_end

t_begin timeout_and_reset_retried
fault_macro '["100ms"]' 300
script '[{"path":"/fault","responses":[{"delay_ms":1500},{"reset":true}]}]'
expect 0 hb --json macro run fault --all --wait $ALLOW
last_delivery
same "$(json '[a["error_class"] for a in j["attempts_log"]], j["status"]')" "['timeout', 'network'] failed"
contains "$(json 'j["last_error"]')" "attempt 2 of 2"
fault_macro
t_end

t_begin huge_and_invalid_answers
script '[{"path":"/fault","responses":[{"size":3000000}]}]'
expect 0 hb --json macro run fault --all --wait $ALLOW
last_delivery
same "$(json 'j["status"], j["attempts_log"][0]["response"]["body"]["truncated"], j["attempts_log"][0]["capture"][0]["outcome"]')" "succeeded True error"
script '[{"path":"/fault","responses":[{"headers":{"Content-Type":"application/json"},"body":"{\"object_id\": tru"}]}]'
expect 0 hb --json macro run fault --all --wait $ALLOW
last_delivery
same "$(json 'j["status"], j["attempts_log"][0]["capture"][0]["outcome"]')" "succeeded error"
contains "$(json 'j["attempts_log"][0]["capture"][0]["error"]')" "could not be read"
t_end

t_begin coercion_error_on_one_field
script '[{"path":"/fault","responses":[{"json":{"object_id":"kept","validation_results":{"is_valid":"maybe"}}}]}]'
expect 0 hb --json macro run fault --all --wait $ALLOW
last_delivery
same "$(json '[(c["field"], c["outcome"]) for c in j["attempts_log"][0]["capture"]]')" "[('shipping.is_valid', 'error'), ('shipping.is_complete', 'missing'), ('shipping.is_residential', 'missing'), ('shipping.object_id', 'stored')]"
contains "$(json 'j["attempts_log"][0]["capture"][0]["error"]')" 'field shipping.is_valid: cannot store "maybe" as a boolean'
expect 0 hb --json user show zoe@example.com
same "$(json '{x["field"]: x["value"] for x in j["external"]}["shipping.is_valid"]')" "True"
t_end

t_begin guard_refuses_loopback_by_default
script '[]'
expect 0 hb --json macro run fault --all --wait
same "$(json 'j["deliveries"]["failed"]')" "1"
same "$(requests)" "[]"
last_delivery
same "$(json 'j["attempts_log"][0]["error_class"], j["attempts"]')" "refused 1"
contains "$(json 'j["last_error"]')" "refused to connect to 127.0.0.1"
t_end

t_begin hand_retry
script '[{"path":"/fault","responses":[{"status":200,"json":{}}]}]'
id=$(hb --json delivery list --status failed | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
expect 0 hb delivery retry "$id" --wait $ALLOW
expect 0 hb --json delivery show "$id"
same "$(json 'j["status"], j["attempts"]')" "succeeded 2"
expect 2 hb delivery retry "$id"
contains "$ERR" "only failed or skipped deliveries are retried"
expect 2 hb delivery retry --failed --since yesterday
contains "$ERR" "--since takes a time"
expect 0 hb --json delivery retry --failed --since 2000-01-01
same "$(json 'j["retried"] > 0')" "True"
expect 0 hb worker --until-idle $ALLOW
expect 0 hb --json delivery list --status failed
t_end

t_begin native_actions
hb user join beta zoe@example.com >/dev/null
macro '{"key":"tidy","name":"Tidy","on":"users","project":"beta","actions":[{"type":"set_field","field":"city","value":"Oslo"},{"type":"set_team","team":"Blue"},{"type":"set_score","score":7},{"type":"add_note","text":"tidied by {{macro.key}} in run {{run.id}}"},{"type":"remove_from_project"}]}'
expect 0 hb --json macro run tidy --all --wait
same "$(json 'j["status"], j["total"], j["deliveries"]["total"]')" "finished 1 0"
run=$(json 'j["id"]')
expect 0 hb --json user show zoe@example.com
same "$(json 'j["city"], [(p["team"], p["score"], p["status"]) for p in j.get("projects", j.get("participations", []))], [n["body"] for n in j["notes"]][-1]')" "Oslo [('Blue', 7, 'removed')] tidied by tidy in run $run"
macro '{"key":"badnative","name":"Bad","on":"users","actions":[{"type":"set_score","score":"high"}]}'
contains "$(cat "$T_DIR/merr")" 'set_score needs "score" (a whole number)'
macro '{"key":"badnative","name":"Bad","on":"users","actions":[{"type":"set_status","status":"Done"}]}'
contains "$(cat "$T_DIR/merr")" "set_status works on feedback tickets only"
t_end

t_begin native_action_failing_after_webhook
# a native action that fails after its webhook (a status the ticket type does not have) undoes
# only its own writes: the delivery fails with the reason, the captured value stays, and the
# worker goes on
script '[{"path":"/issue","responses":[{"status":201,"json":{"key":"BETA-9"}}]}]'
expect 0 hb --json feedback show EXA-0001
before=$(json 'j["status"]')
macro '{"key":"badstatus","name":"Bad status","on":"feedback","feedback_type":"bug","project":"beta","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/issue","body":"{}","capture":{"group":"jira"}},{"type":"set_status","status":"Closed"}]}'
expect 0 hb --json macro run badstatus --all --wait $ALLOW
same "$(json 'j["status"], j["deliveries"]["failed"]')" "finished 1"
last_delivery
same "$(json 'j["status"], j["attempts_log"][0]["status"], j["attempts_log"][0]["error_class"]')" "failed 201 action"
contains "$(json 'j["last_error"]')" "action 2 (set_status): 'Closed' is not a status"
expect 0 hb --json feedback show EXA-0001
same "$(json 'j["status"]')" "$before"
same "$(json '[x["value"] for x in j["external"] if x["field"] == "jira.key"]')" "['BETA-9']"
t_end

t_begin bad_run_input
before=$(snapshot)
expect 2 hb macro run fault
contains "$ERR" "choose the records"
expect 2 hb macro run fault --feedback EXA-0001
contains "$ERR" "runs on users"
expect 2 hb macro run nope --all
expect 2 hb macro run fault --all --concurrency 0
export HOOKBRIDGE_PER_HOST=0
expect 2 hb macro run fault --all --wait
contains "$ERR" "--per-host must be a whole number"
unset HOOKBRIDGE_PER_HOST
expect 2 hb macro run fault --filter 'user.frist_name = "x"'
contains "$ERR" "column 1"
expect 2 hb macro run fault --all --filter 'user.first_name = "x"'
same "$(snapshot)" "$before"
t_end

t_begin macro_log
expect 0 hb --json macro log fault
same "$(json '[r["id"] for r in j if r["status"] != "finished" or not r["started_by"]], len(j) >= 5')" "[] True"
t_end

t_begin record_deleted_in_flight
# a user deleted while its request is out: the answer is recorded, nothing is captured for a
# record that is gone, and the worker carries on (the batch is not lost)
hb user create --email gone@example.com >/dev/null
script '[{"path":"/slow","responses":[{"delay_ms":800,"json":{"object_id":"late"}}]}]'
macro '{"key":"slow","name":"Slow","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/slow","body":"{}","capture":{"group":"shipping"}}]}'
expect 0 hb --json macro run slow --user gone@example.com
run=$(json 'j["id"]')
"$HB_BIN" worker --until-idle $ALLOW >"$T_DIR/wout" 2>"$T_DIR/werr" &
wpid=$!
while [ "$(curl -s "$BASE/_control/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" -lt 1 ]; do sleep 0.05; done
expect 0 hb user delete gone@example.com
wait $wpid
same "$? $(cat "$T_DIR/werr")" "0 "
expect 0 hb --json delivery list --run "$run"
same "$(json '[d["status"] for d in j]')" "['succeeded']"
t_end

t_begin sigkill_resume_20k
python3 -c '
import sys
print("email,first_name")
for i in range(20000): print("u%05d@example.com,U%d" % (i, i))' >"$T_DIR/users.csv"
hb user import "$T_DIR/users.csv" >/dev/null
script '[{"path":"/bulk","responses":[{"json":{"object_id":"ok"}}]}]'
macro '{"key":"bulk","name":"Bulk","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$BASE"'/bulk","body":"{\"email\":\"{{user.email}}\"}","capture":{"group":"shipping"}}]}'
"$HB_BIN" macro run bulk --all --wait $ALLOW >/dev/null 2>&1 &
kpid=$!
while [ "$(curl -s "$BASE/_control/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" -lt 3000 ]; do sleep 0.05; done
kill -KILL $kpid; wait $kpid 2>/dev/null
t0=$(date +%s)
expect 0 hb worker --until-idle $ALLOW
echo "resumed in $(( $(date +%s) - t0 ))s" >&2
run=$(hb --json macro log bulk | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
expect 0 hb --json delivery list --run "$run" --status succeeded
same "$(json 'len(j)')" "20001"
requests >"$T_DIR/reqs.json"
same "$(python3 - "$T_DIR/reqs.json" "$HOOKBRIDGE_DB" <<'PY'
import json, sys, sqlite3, collections
reqs = json.load(open(sys.argv[1]))
keys = collections.Counter(r["headers"]["idempotency-key"] for r in reqs)
bad = [r for r in reqs if "email" not in json.loads(r["body"])]
if bad: print(bad[0], file=sys.stderr)
emails = set(json.loads(r["body"])["email"] for r in reqs if r not in bad)
db = sqlite3.connect(sys.argv[2])
captured = db.execute("select count(*) from user_xvalues v join xdata_fields f on f.id = v.field_id where f.key = 'object_id' and v.v_text = 'ok'").fetchone()[0]
repeats = sum(n - 1 for n in keys.values())
# every record delivered and captured; a request repeats only with its own key, and only if it
# was in flight or answered but not yet recorded at the kill: at most the concurrency (64)
# plus one group of outcomes written together (256)
print(len(emails) == 20001, captured == 20001, repeats <= 64 + 256, len(keys) == 20001)
PY
)" "True True True True"
t_end

t_begin sigterm_hands_back_queue
# a worker stopped with SIGTERM finishes its transfers and hands back what it had queued:
# nothing stays 'sending', and every request the receiver answered is recorded
script '[{"path":"/bulk","responses":[{"delay_ms":300,"json":{"object_id":"ok"}}]}]'
expect 0 hb --json macro run bulk --all
run=$(json 'j["id"]')
"$HB_BIN" worker $ALLOW --concurrency 4 >/dev/null 2>&1 &
wpid=$!
while [ "$(curl -s "$BASE/_control/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" -lt 4 ]; do sleep 0.05; done
kill -TERM $wpid
wait $wpid
same "$?" "0"
expect 0 hb --json delivery list --run "$run" --status sending
same "$(json 'len(j)')" "0"
expect 0 hb --json delivery list --run "$run" --status succeeded
same "$(json 'len(j)')" "$(curl -s "$BASE/_control/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
expect 0 hb --json delivery list --run "$run" --status pending
same "$(json 'len(j) > 20001 - 64')" "True"
t_end

t_begin resume_interrupted_creation
# A creator killed between two batches leaves its run 'creating' with the batches it
# committed and a lease it no longer renews. The database is put in exactly that state (a run
# of every user cut back to its first 7,000 records, and a run of a list of ids cut back to
# one); a worker waits out the lease, carries both creations on from where they stopped, and
# every record gets exactly one delivery.
script '[{"path":"/bulk","responses":[{"json":{"object_id":"ok"}}]}]'
hb worker --until-idle $ALLOW >/dev/null 2>&1
expect 0 hb --json macro run bulk --all
all_run=$(json 'j["id"]')
expect 0 hb --json macro run bulk --user u00001@example.com --user u00002@example.com --user u00003@example.com
ids_run=$(json 'j["id"]')
python3 - "$HOOKBRIDGE_DB" "$all_run" "$ids_run" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
all_run, ids_run = int(sys.argv[2]), int(sys.argv[3])
lease = int(time.time() * 1000) + 1500  # the dead creator's lease runs out in 1.5 s
cut = db.execute("select record_id from deliveries where run_id = ? order by record_id limit 1 offset 6999", (all_run,)).fetchone()[0]
db.execute("delete from deliveries where run_id = ? and record_id > ?", (all_run, cut))
db.execute("update runs set status = 'creating', cursor = ?, total = 7000, lease_until = ?, finished_at = null where id = ?", (cut, lease, all_run))
first = db.execute("select min(id) from deliveries where run_id = ?", (ids_run,)).fetchone()[0]
db.execute("delete from deliveries where run_id = ? and id > ?", (ids_run, first))
db.execute("update runs set status = 'creating', cursor = 1, total = 1, lease_until = 0, finished_at = null where id = ?", (ids_run,))
for run in (all_run, ids_run):  # the counts commit with their batches: those of the batches kept
    db.execute("update run_counts set pending = (select count(*) from deliveries where run_id = ?) where run_id = ?", (run, run))
db.commit()
PY
script '[{"path":"/bulk","responses":[{"json":{"object_id":"ok"}}]}]'
expect 0 hb worker --until-idle $ALLOW
expect 0 hb --json macro log bulk
same "$(json "[(r['status'], r['total']) for r in j if r['id'] in ($all_run, $ids_run)]")" "[('finished', 20001), ('finished', 3)]"
same "$(python3 - "$HOOKBRIDGE_DB" "$all_run" "$ids_run" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
out = []
for run in (int(sys.argv[2]), int(sys.argv[3])):
    n, distinct, ok = db.execute("select count(*), count(distinct record_id), sum(status = 'succeeded') from deliveries where run_id = ?", (run,)).fetchone()
    out.append((n, distinct, ok))
print(out)
PY
)" "[(20001, 20001, 20001), (3, 3, 3)]"
# each delivery of the two runs was sent once (none had been sent before the cut)
same "$(requests | python3 -c 'import json,sys; r = json.load(sys.stdin); print(len(r), len({x["headers"]["idempotency-key"] for x in r}))')" "20004 20004"
t_end

t_begin resume_that_cannot_go_on
# a half-created run whose filter no longer compiles is let finish with what it has, and says so
expect 0 hb --json macro run bulk --user u00004@example.com
run=$(json 'j["id"]')
python3 - "$HOOKBRIDGE_DB" "$run" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("""update runs set status = 'creating', spec = '{"filter":"user.no_such_field = 1"}',
              cursor = 0, lease_until = 0, finished_at = null where id = ?""", (int(sys.argv[2]),))
db.commit()
PY
expect 0 hb worker --until-idle $ALLOW
expect 0 hb --json macro log bulk
same "$(json "[(r['status'], r['total']) for r in j if r['id'] == $run]")" "[('finished', 1)]"
contains "$(json "[r['selection'] for r in j if r['id'] == $run][0]")" "creation stopped after 1 records"
t_end

t_begin counts_match_deliveries
# every run's counts by state, kept by the writes that change a delivery's state (claims,
# outcomes, retries, follow-on webhooks, hand-backs, creation), equal what the deliveries say
# after all of the above
same "$(python3 - "$HOOKBRIDGE_DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
states = ["waiting", "pending", "sending", "succeeded", "failed", "skipped"]
want = {}
for run, status, n in db.execute("select run_id, status, count(*) from deliveries group by 1, 2"):
    want.setdefault(run, [0] * 6)[states.index(status)] = n
kept = {r[0]: list(r[1:]) for r in db.execute("select run_id, " + ", ".join(states) + " from run_counts")}
kept = {run: c for run, c in kept.items() if any(c) or run in want}
bad = [(run, want.get(run), kept.get(run)) for run in set(want) | set(kept) if want.get(run) != kept.get(run)]
print("runs", len(want), "mismatched", bad)
PY
)" "runs $(sqlite3 "$HOOKBRIDGE_DB" 'select count(distinct run_id) from deliveries') mismatched []"
t_end
