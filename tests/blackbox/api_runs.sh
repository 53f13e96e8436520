#!/bin/sh
# Black-box tests of runs, deliveries, retries and test-sends over the REST API, with the
# delivery workers inside `hookbridge serve` sending to the scriptable test receiver on
# 127.0.0.1: a run started over the API and polled until finished, captured values stored,
# hand retries (409 and 202, one and in bulk), test-sends (dry and real, nothing stored),
# refusals (no key, another project's key, bad bodies, unknown fields, a community without
# enhanced integrations) with the database unchanged, /readyz and /metrics of the workers,
# --no-workers, and a stop that lets a transfer in flight finish and be recorded. Every
# exchange is checked against docs/openapi.json (tests/openapi_check.py).
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=api_runs
RECEIVER="${HB_RECEIVER:-$PWD/build/test-receiver}"
. tests/blackbox/api_lib.sh

"$RECEIVER" --port-file "$T_DIR/rport" >/dev/null 2>&1 &
rpid=$!
trap 'kill $rpid $pid 2>/dev/null; rm -rf "$T_DIR"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T_DIR/rport" ] && break; sleep 0.1; done
RBASE="http://127.0.0.1:$(cat "$T_DIR/rport")"
script() { curl -s -X PUT --data-binary "$1" "$RBASE/_control/script" >/dev/null; curl -s -X DELETE "$RBASE/_control/requests" >/dev/null; }
requests() { curl -s "$RBASE/_control/requests"; }

# wait_run ID: poll GET /runs/ID until it is finished (10 s at most); the run is in $OUT
wait_run() {
	for _ in $(seq 100); do
		req GET "/api/v1/runs/$1"
		[ "$(json 'j["status"]')" = finished ] && return 0
		sleep 0.1
	done
	t_fail "run $1 did not finish: $OUT"
}
keyof() { python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'; }

hb init --community acme >/dev/null
hb project create beta --name Beta >/dev/null
hb project create gamma --name Gamma >/dev/null
hb user create --email zoe@example.com --first-name Zoe >/dev/null
hb user create --email max@example.com --first-name Max >/dev/null
hb xdata group create shipping --on users --name Shipping >/dev/null
hb xdata field create shipping object_id --label "Object id" --param object_id --type string >/dev/null
KEY=$(hb --json apikey create --name manager --role community-manager | keyof)
PMB=$(hb --json apikey create --name beta-pm --role project-manager --project beta | keyof)
PMG=$(hb --json apikey create --name gamma-pm --role project-manager --project gamma | keyof)
SHIP='{"key":"ship","name":"Ship","on":"users","project":"beta","actions":[{"type":"webhook","method":"POST","url":"'"$RBASE"'/ship","body":"{\"email\": {{user.email}}}","capture":{"group":"shipping"}}]}'
FLAKY='{"key":"flaky","name":"Flaky","on":"users","actions":[{"type":"webhook","url":"'"$RBASE"'/flaky"}]}'
SERVE_ARGS="--allow-target 127.0.0.1/32 --retry-schedule 100ms,100ms"
start_server "$T_DIR/serve.log"

t_begin setup
req POST /api/v1/macros "$SHIP"
is 201
req POST /api/v1/macros "$FLAKY"
is 201
req POST /api/v1/projects/beta/participants '{"users":["zoe@example.com","max@example.com"]}'
is 201
req GET /readyz "" -
is 200
same "$(json 'j["status"], j["workers"]')" "ready running"
t_end

t_begin run_over_the_api
script '[{"path":"/ship","responses":[{"status":201,"json":{"object_id":"obj-1"}}]}]'
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com","max@example.com"]}'
is 202
RUN=$(json 'j["id"]')
same "$(json 'j["macro"], j["selection"], j["total"], j["started_by"].startswith("api:")')" "ship 2 users 2 True"
contains "$(curl -s -o /dev/null -D - -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"users":["zoe@example.com"]}' "$BASE/api/v1/macros/ship/runs")" "Location: /api/v1/runs/"
wait_run "$RUN"
same "$(json 'j["deliveries"]["succeeded"], j["deliveries"]["failed"], j["finished_at"] is not None')" "2 0 True"
OUT=$(requests)
same "$(json 'sorted(r["body"] for r in j if r["path"] == "/ship")[:2]')" "['{\"email\": \"max@example.com\"}', '{\"email\": \"zoe@example.com\"}']"
same "$(json 'all(r["headers"]["idempotency-key"].startswith("hbd_") for r in j)')" "True"
OUT=$(sqlite3 "$HOOKBRIDGE_DB" "SELECT count(*) FROM user_xvalues v JOIN xdata_fields f ON f.id = v.field_id WHERE f.key = 'object_id' AND v.v_text = 'obj-1'")
same "$OUT" "2"
req GET /api/v1/macros/ship/runs
is 200
same "$(json '[r["id"] for r in j["data"]][0], len(j["data"]), j["next_cursor"]')" "$RUN 2 None"
req GET "/api/v1/macros/ship/runs?limit=1"
is 200
same "$(json 'len(j["data"]), j["next_cursor"] is not None')" "1 True"
t_end

t_begin deliveries
req GET "/api/v1/deliveries?run=$RUN"
is 200
same "$(json '[d["status"] for d in j["data"]], sorted(d["record"] for d in j["data"]), j["data"][0]["macro"]')" "['succeeded', 'succeeded'] ['max@example.com', 'zoe@example.com'] ship"
DID=$(json 'j["data"][0]["id"]')
req GET "/api/v1/deliveries?run=$RUN&status=failed"
is 200
same "$(json 'j["data"]')" "[]"
req GET "/api/v1/deliveries?limit=1"
is 200
same "$(json 'len(j["data"]), j["next_cursor"] is not None')" "1 True"
req GET "/api/v1/deliveries/$DID"
is 200
same "$(json 'j["status"], len(j["attempts_log"]), j["attempts_log"][0]["status"], j["attempts_log"][0]["capture"][0]["outcome"]')" "succeeded 1 201 stored"
req GET "/api/v1/deliveries?status=lost"
is 422 invalid status
req GET "/api/v1/deliveries?colour=red"
is 400 bad_request colour
req GET "/api/v1/deliveries/999999"
is 404 not_found
t_end

t_begin retries
req POST "/api/v1/deliveries/$DID/retry"
is 409 conflict
script '[{"path":"/flaky","responses":[{"status":500}]}]'
req POST /api/v1/macros/flaky/runs '{"users":["zoe@example.com"]}'
is 202
FRUN=$(json 'j["id"]')
wait_run "$FRUN"
same "$(json 'j["deliveries"]["failed"]')" "1"
same "$(requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "3"
req GET "/api/v1/deliveries?run=$FRUN&status=failed"
FID=$(json 'j["data"][0]["id"]')
same "$(json 'j["data"][0]["attempts"], j["data"][0]["last_status"]')" "3 500"
script '[{"path":"/flaky","responses":[{"status":200}]}]'
req POST "/api/v1/deliveries/$FID/retry"
is 202
same "$(json 'j["id"], j["status"]')" "$FID pending"
wait_run "$FRUN"
same "$(json 'j["deliveries"]["succeeded"]')" "1"
req GET "/api/v1/deliveries/$FID"
same "$(json 'j["status"], j["attempts"], len(j["attempts_log"])')" "succeeded 4 4"
# in bulk: every failed delivery since a time
script '[{"path":"/flaky","responses":[{"status":503}]}]'
req POST /api/v1/macros/flaky/runs '{"all":true}'
is 202
BRUN=$(json 'j["id"]')
wait_run "$BRUN"
same "$(json 'j["total"], j["deliveries"]["failed"]')" "2 2"
script '[{"path":"/flaky","responses":[{"status":200}]}]'
req POST /api/v1/deliveries/retry '{"status":"failed","since":"2000-01-01T00:00:00Z"}' "$PMB"
is 403 forbidden
req POST /api/v1/deliveries/retry '{"status":"failed","since":"2000-01-01T00:00:00Z"}'
is 202
same "$(json 'j["retried"]')" "2"
wait_run "$BRUN"
same "$(json 'j["deliveries"]["succeeded"], j["deliveries"]["failed"]')" "2 0"
t_end

t_begin test_send
script '[{"path":"/ship","responses":[{"json":{"object_id":"test-9"}}]}]'
before=$(snapshot)
req POST /api/v1/macros/ship/test '{"user":"zoe@example.com","dry_run":true}'
is 200
same "$(json 'j["sent"], j["request"]["body"]["text"]')" 'False {"email": "zoe@example.com"}'
same "$(requests)" "[]"
req POST /api/v1/macros/ship/test '{"user":"zoe@example.com"}'
is 200
same "$(json 'j["sent"], j["response"]["status"], j["stored"], [(c["field"], c["outcome"]) for c in j["capture"]]')" "True 200 False [('shipping.object_id', 'stored')]"
same "$(requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "1"
same "$(snapshot)" "$before"
req POST /api/v1/macros/ship/test '{"user":"max@example.com","store":true}' "$PMB"
is 200
same "$(json 'j["stored"]')" "True"
OUT=$(sqlite3 "$HOOKBRIDGE_DB" "SELECT count(*) FROM user_xvalues v JOIN xdata_fields f ON f.id = v.field_id WHERE f.key = 'object_id' AND v.v_text = 'test-9'")
same "$OUT" "1"
req POST /api/v1/macros/ship/test '{"user":"zoe@example.com","action":7}'
is 422 invalid action
t_end

t_begin project_keys
req GET "/api/v1/runs/$RUN" "" "$PMB"
is 200
req GET "/api/v1/deliveries?limit=200" "" "$PMB"
is 200
same "$(json 'sorted(set(d["macro"] for d in j["data"]))')" "['ship']"
req GET "/api/v1/deliveries?limit=200" "" "$PMG"
is 200
same "$(json 'j["data"], j["next_cursor"]')" "[] None"
req GET "/api/v1/runs/$FRUN" "" "$PMB"
is 403 forbidden
req GET "/api/v1/deliveries/$FID" "" "$PMB"
is 403 forbidden
t_end

t_begin refusals_leave_the_database_unchanged
before=$(snapshot)
count=$(requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com"]}' -
is 401 unauthorized
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com"]}' "$PMG"
is 403 forbidden
req GET /api/v1/macros/ship/runs "" "$PMG"
is 403 forbidden
req GET "/api/v1/runs/$RUN" "" "$PMG"
is 403 forbidden
req GET "/api/v1/deliveries/$DID" "" "$PMG"
is 403 forbidden
req POST "/api/v1/deliveries/$FID/retry" "" "$PMB"
is 403 forbidden
req POST /api/v1/macros/ship/test '{"user":"zoe@example.com"}' "$PMG"
is 403 forbidden
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com"'
is 400 parse
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com"],"colour":"red"}'
is 422 invalid colour
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com"],"all":true}'
is 422 invalid
req POST /api/v1/macros/ship/runs '{}'
is 422 invalid
req POST /api/v1/macros/ship/runs '{"feedback":["EXA-0001"]}'
is 422 invalid feedback
req POST /api/v1/macros/ship/runs '{"users":["ghost@example.com"]}'
is 422 invalid users
req POST /api/v1/macros/ship/runs '{"users":[]}'
is 422 invalid users
req POST /api/v1/macros/ship/runs '{"all":false}'
is 422 invalid all
req POST /api/v1/macros/ship/runs '{"filter":"user.email ==="}'
is 422 invalid
req POST /api/v1/macros/nope/runs '{"all":true}'
is 404 not_found
req POST /api/v1/macros/ship/test '{"user":"zoe@example.com","dry_run":"yes"}'
is 422 invalid dry_run
req POST /api/v1/macros/ship/test '{"user":"zoe@example.com","feedback":"EXA-0001"}'
is 422 invalid
req POST /api/v1/macros/ship/test '{"user":"zoe@example.com","when":"now"}'
is 422 invalid when
req POST /api/v1/deliveries/retry '{"status":"succeeded","since":"2000-01-01T00:00:00Z"}'
is 422 invalid status
req POST /api/v1/deliveries/retry '{"status":"failed","since":"yesterday"}'
is 422 invalid since
req POST /api/v1/deliveries/retry '{"status":"failed"}'
is 422 invalid since
req GET /api/v1/runs/abc
is 404 not_found
req GET /api/v1/runs/999999
is 404 not_found
same "$(snapshot)" "$before"
same "$(requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "$count"
t_end

t_begin integrations_required
hb init --community plain --enhanced-integrations false >/dev/null
PLAIN=$(hb --community plain --json apikey create --name plain --role community-manager | keyof)
req POST /api/v1/users '{"email":"ann@example.com"}' "$PLAIN"
is 201
req POST /api/v1/macros '{"key":"hook","name":"Hook","on":"users","actions":[{"type":"webhook","url":"'"$RBASE"'/plain"}]}' "$PLAIN"
is 201
before=$(snapshot)
req POST /api/v1/macros/hook/runs '{"all":true}' "$PLAIN"
is 403 forbidden
contains "$OUT" "does not have enhanced integrations"
req POST /api/v1/macros/hook/test '{"user":"ann@example.com","dry_run":true}' "$PLAIN"
is 403 forbidden
contains "$OUT" "does not have enhanced integrations"
same "$(snapshot)" "$before"
# another community's runs and deliveries are not there at all
req GET "/api/v1/runs/$RUN" "" "$PLAIN"
is 404 not_found
req GET "/api/v1/deliveries/$DID" "" "$PLAIN"
is 404 not_found
req GET /api/v1/deliveries "" "$PLAIN"
is 200
same "$(json 'j["data"]')" "[]"
t_end

t_begin metrics
# the engine publishes its counts about every 200 ms: read them once they have caught up
totals() { printf '%s\n' "$1" | sed -n 's/^hookbridge_deliveries_total{outcome="\(.*\)"} \(.*\)/\1=\2/p' | tr '\n' ' '; }
for _ in $(seq 20); do
	OUT=$(curl -s "$BASE/metrics")
	[ "$(totals "$OUT")" = "sent=15 succeeded=6 failed=3 retrying=6 " ] && break
	sleep 0.1
done
contains "$OUT" "# TYPE hookbridge_deliveries_total counter"
contains "$OUT" "hookbridge_deliveries_in_flight 0"
contains "$OUT" "hookbridge_workers_up 1"
# succeeded: 3 ship deliveries, the flaky one retried by hand and the 2 retried in bulk;
# failed for good: 1 + 2, after 2 retries each; sent: every attempt
same "$(totals "$OUT")" "sent=15 succeeded=6 failed=3 retrying=6 "
# every attempt sent is in the latency histogram, whose buckets only grow
contains "$OUT" "# TYPE hookbridge_attempt_duration_seconds histogram"
same "$(printf '%s\n' "$OUT" | sed -n 's/^hookbridge_attempt_duration_seconds_\(count\|bucket{le="+Inf"}\) //p' | tr '\n' ' ')" "15 15 "
same "$(printf '%s\n' "$OUT" | awk '/^hookbridge_attempt_duration_seconds_bucket/ { if ($2 < last) bad = 1; last = $2 } END { print bad ? "shrinks" : "grows" }')" "grows"
contains "$OUT" "hookbridge_deliveries_due 0"
contains "$OUT" "hookbridge_retries_waiting 0"
contains "$OUT" "hookbridge_deliveries_queued 0"
t_end

t_begin metrics_count_a_failed_action_as_failed
# a native action that fails after its webhook fails the delivery: /metrics counts it failed,
# never succeeded, as the store does
metric() { printf '%s\n' "$1" | sed -n "s/^hookbridge_deliveries_total{outcome=\"$2\"} //p"; }
expect 0 hb --community acme user create --email ann@example.com --first-name Ann
script '[{"path":"/ship","responses":[{"status":201,"json":{"object_id":"obj-9"}}]}]'
req POST /api/v1/macros '{"key":"leave","name":"Leave","on":"users","actions":[{"type":"webhook","method":"POST","url":"'"$RBASE"'/ship","body":"{}","capture":{"group":"shipping"}},{"type":"remove_from_project"}]}'
is 201
BEFORE=$(curl -s "$BASE/metrics")
req POST /api/v1/macros/leave/runs '{"users":["ann@example.com"]}'
is 202
wait_run "$(json 'j["id"]')"
same "$(json 'j["deliveries"]["failed"], j["deliveries"]["succeeded"]')" "1 0"
# the engine publishes its counts about every 200 ms, after the commit that finished the run
for _ in $(seq 20); do
	AFTER=$(curl -s "$BASE/metrics")
	[ "$(( $(metric "$AFTER" failed) - $(metric "$BEFORE" failed) ))" = 1 ] && break
	sleep 0.1
done
same "$(( $(metric "$AFTER" sent) - $(metric "$BEFORE" sent) ))" "1"
same "$(( $(metric "$AFTER" succeeded) - $(metric "$BEFORE" succeeded) ))" "0"
same "$(( $(metric "$AFTER" failed) - $(metric "$BEFORE" failed) ))" "1"
t_end

t_begin stop_finishes_transfers_in_flight
script '[{"path":"/ship","responses":[{"delay_ms":1500,"json":{"object_id":"late"}}]}]'
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com"]}'
is 202
LRUN=$(json 'j["id"]')
for _ in $(seq 50); do [ "$(curl -s "$RBASE/_control/count")" = '{"count":1}' ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
same "$?" "0"
pid=""
OUT=$(sqlite3 "$HOOKBRIDGE_DB" "SELECT status, attempts FROM deliveries WHERE run_id = $LRUN")
same "$OUT" "succeeded|1"
contains "$(cat "$T_DIR/serve.log")" "delivery workers stopped"
t_end

t_begin no_workers
start_server "$T_DIR/serve2.log" --no-workers
req GET /readyz "" -
is 200
same "$(json 'j["workers"]')" "off"
script '[]'
req POST /api/v1/macros/ship/runs '{"users":["zoe@example.com"]}'
is 202
NRUN=$(json 'j["id"]')
sleep 0.5
req GET "/api/v1/runs/$NRUN"
same "$(json 'j["status"], j["deliveries"]["pending"]')" "running 1"
same "$(requests)" "[]"
stop_server
OUT=$(HOOKBRIDGE_WORKERS=off "$HB_BIN" serve --concurrency 8 --print-config)
same "$(json 'j["workers"], j["concurrency"]')" "False 8"
expect 2 "$HB_BIN" serve --concurrency 0 --print-config
contains "$ERR" "concurrency"
t_end

# ---- every exchange against the OpenAPI document (api.sh exercises the other operations) ----
check_openapi api_runs
