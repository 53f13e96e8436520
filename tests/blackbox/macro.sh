#!/bin/sh
# Black-box tests of macro definitions: create from a JSON file, show, list, update (replacing
# the actions), delete; templates checked when saved; bad definitions refused unchanged.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=macro

hb init --community acme >/dev/null
hb project create beta --name Beta >/dev/null
hb xdata group create shipping --on users --name Shipping >/dev/null
hb xdata group create jira --on feedback --name Jira >/dev/null
hb xdata field create shipping is_valid --label Valid --param validation_results.is_valid --type boolean >/dev/null

cat >"$T_DIR/m.json" <<'JSON'
{ "key": "validate-address", "name": "Validate shipping address", "on": "users",
  "description": "Checks each tester's address",
  "actions": [
    { "type": "webhook", "method": "POST", "url": "https://api.goshippo.com/addresses/",
      "headers": "Accept: application/json", "content_type": "form",
      "body": "name={{user.first_name}} {{user.last_name}}&street1={{user.street1}}&validate=true",
      "capture": { "group": "shipping" }, "timeout_ms": 15000,
      "retry": { "schedule": ["5s", "5m", "30m"] } },
    { "type": "add_note", "text": "address checked" } ] }
JSON

t_begin create_show_list
expect 0 hb --json macro create --file "$T_DIR/m.json"
same "$(json 'j["key"], j["on"], len(j["actions"])')" "validate-address users 2"
same "$(json 'j["actions"][0]["capture_group"], j["actions"][0]["content_type"], j["actions"][0]["retry_schedule"]')" "shipping form ['5s', '5m', '30m']"
same "$(json 'j["actions"][1]["type"], j["actions"][1]["text"]')" "add_note address checked"
expect 0 hb --json macro list
same "$(json '[m["key"] for m in j]')" "['validate-address']"
t_end

t_begin update_replaces_actions
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["name"]="Validate v2"; m["actions"]=m["actions"][:1]; print(json.dumps(m))' "$T_DIR/m.json" >"$T_DIR/m2.json"
expect 0 hb --json macro update --file "$T_DIR/m2.json"
same "$(json 'j["name"], len(j["actions"])')" "Validate v2 1"
t_end

bad() {
	name=$1
	message=$2
	body=$3
	t_begin "bad_$name"
	printf '%s' "$body" >"$T_DIR/bad.json"
	before=$(snapshot)
	expect 2 hb macro create --file "$T_DIR/bad.json"
	contains "$ERR" "$message"
	[ "$before" = "$(snapshot)" ] || t_fail "database changed"
	t_end
}
bad unknown_path "action 1, url: line 1, column 21: unknown path 'user.emial'" \
	'{"key":"m1","name":"M","on":"users","actions":[{"type":"webhook","url":"https://x.example/{{user.emial}}"}]}'
bad tag_in_host "host" \
	'{"key":"m2","name":"M","on":"users","actions":[{"type":"webhook","url":"https://{{user.email}}/x"}]}'
bad bad_json_body "action 1, body" \
	'{"key":"m3","name":"M","on":"users","actions":[{"type":"webhook","url":"https://x.example/","body":"{\"a\": {{user.email}} {{user.id}}}"}]}'
bad wrong_capture_target "is not stored against the records this macro runs on" \
	'{"key":"m4","name":"M","on":"users","actions":[{"type":"webhook","url":"https://x.example/","capture":{"group":"jira"}}]}'
bad unknown_field "unknown field 'colour'" \
	'{"key":"m5","name":"M","on":"users","colour":"red","actions":[{"type":"add_note"}]}'
bad no_actions "a macro needs a list of actions" '{"key":"m6","name":"M","on":"users","actions":[]}'
bad bad_method "'FETCH' is not a valid method" \
	'{"key":"m7","name":"M","on":"users","actions":[{"type":"webhook","method":"FETCH","url":"https://x.example/"}]}'
bad bad_secret "whsec_" \
	'{"key":"m8","name":"M","on":"users","actions":[{"type":"webhook","url":"https://x.example/","signing_secret":"nope"}]}'
bad duplicate "a macro with key 'validate-address' already exists" \
	'{"key":"validate-address","name":"M","on":"users","actions":[{"type":"add_note"}]}'
bad malformed_json "line 1, column" '{"key": "m9",'
bad feedback_needs_type "a feedback macro belongs to a feedback type" \
	'{"key":"m10","name":"M","on":"feedback","actions":[{"type":"add_reply"}]}'

t_begin delete
expect 0 hb macro delete validate-address
expect 2 hb macro show validate-address
contains "$ERR" "no macro 'validate-address'"
t_end
