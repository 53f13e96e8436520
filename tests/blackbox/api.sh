#!/bin/sh
# Black-box tests of the REST API: `hookbridge serve` on a free loopback port, every route
# driven with curl. Happy paths first (which build the data), then for each route: no key, a
# disabled key, a key outside its IP allow-list, the wrong role, another project's records,
# malformed JSON, wrong types, unknown fields, a wrong content type, an oversized body and bad
# paging — each answered with its documented status and error code, and the database left
# unchanged. Then limits (headers, connections, idle timeout, rate limit), key use counts,
# logs without secrets, and a stop that lets a request in flight finish. Every exchange is
# finally checked against docs/openapi.json (tests/openapi_check.py).
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=api
. tests/blackbox/api_lib.sh


hb init --community acme >/dev/null
KEY=$(hb --json apikey create --name tests --role community-manager | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
start_server "$T_DIR/serve.log" --flush-interval 1 --max-connections 40 --timeout 2

# ---- happy paths ----

t_begin projects
req POST /api/v1/projects '{"key":"beta","name":"Beta 1"}'
is 201
same "$(json 'j["key"], j["status"]')" "beta active"
req POST /api/v1/projects '{"key":"gamma","name":"Gamma"}'
is 201
req POST /api/v1/projects '{"key":"tmp","name":"Tmp"}'
is 201
req PATCH /api/v1/projects/beta '{"name":"Beta one"}'
is 200
same "$(json 'j["name"]')" "Beta one"
req GET /api/v1/projects/beta
is 200
req DELETE /api/v1/projects/tmp
is 204
req GET /api/v1/projects/tmp
is 404 not_found
req POST /api/v1/projects '{"key":"beta","name":"Again"}'
is 409 conflict key
t_end

t_begin users
req POST /api/v1/users '{"email":"Zoe@Example.com","first_name":"Zoë","country":"IE"}'
is 201
same "$(json 'j["email"], j["first_name"]')" "zoe@example.com Zoë"
contains "$(cat "$T_DIR/x/$n.body")" "zoe@example.com"
req POST /api/v1/users '{"email":"max@example.com","last_name":"Robert'"'"'); DROP TABLE users;--"}'
is 201
req POST /api/v1/users '{"email":"bob@example.com"}'
is 201
req GET /api/v1/users/max@example.com
is 200
same "$(json 'j["last_name"]')" "Robert'); DROP TABLE users;--"
req GET "/api/v1/users/x'%20OR%20'1'='1"
is 404 not_found
req GET "/api/v1/users?country=IE"
is 200
same "$(json '[u["email"] for u in j["data"]]')" "['zoe@example.com']"
req GET "/api/v1/users?email=nobody'--@x.co"
is 200
same "$(json 'len(j["data"])')" "0"
req PATCH /api/v1/users/zoe@example.com '{"company":"Zoë & Co"}'
is 200
same "$(json 'j["company"]')" "Zoë & Co"
req POST /api/v1/users '{"email":"gone@example.com"}'
req DELETE /api/v1/users/gone@example.com
is 204
t_end

t_begin paging
req GET "/api/v1/users?limit=2"
is 200
same "$(json 'len(j["data"]), j["next_cursor"] is not None')" "2 True"
cur=$(json 'j["next_cursor"]')
req GET "/api/v1/users?limit=2&cursor=$cur"
is 200
same "$(json '[u["email"] for u in j["data"]], j["next_cursor"]')" "['bob@example.com'] None"
t_end

t_begin participants_and_notes
req POST /api/v1/projects/beta/participants '{"users":["zoe@example.com"],"team":"red"}'
is 201
same "$(json 'j["data"][0]["user"], j["data"][0]["team"]')" "zoe@example.com red"
req POST /api/v1/projects/gamma/participants '{"users":["max@example.com"]}'
is 201
req POST /api/v1/projects/beta/participants '{"users":["bob@example.com","zoe@example.com"]}'
is 409 conflict users
req GET /api/v1/projects/beta/participants
is 200
same "$(json '[p["user"] for p in j["data"]]')" "['zoe@example.com']"
req POST /api/v1/users/zoe@example.com/notes '{"body":"called about the shipment\nline two"}'
is 201
same "$(json 'j["source"] .startswith("api:")')" "True"
req GET /api/v1/users/zoe@example.com/notes
is 200
same "$(json 'j["data"][0]["body"]')" "called about the shipment
line two"
t_end

t_begin feedback
req POST /api/v1/feedback-types '{"project":"beta","key":"bug","name":"Bug","prefix":"exa","statuses":["New","Open","Closed"]}'
is 201
FT_BETA=$(json 'j["id"]')
same "$(json 'j["prefix"], j["default_status"]')" "EXA New"
req POST /api/v1/feedback-types '{"project":"gamma","key":"bug","name":"Bug","prefix":"gam","statuses":["New","Closed"]}'
is 201
FT_GAMMA=$(json 'j["id"]')
req POST /api/v1/feedback-types '{"project":"beta","key":"idea","name":"Idea","prefix":"IDE","statuses":["New"]}'
FT_TMP=$(json 'j["id"]')
req PATCH /api/v1/feedback-types/$FT_BETA '{"plural_name":"Bugs"}'
is 200
req GET /api/v1/feedback-types/$FT_BETA
is 200
same "$(json 'j["plural_name"]')" "Bugs"
req DELETE /api/v1/feedback-types/$FT_TMP
is 204
req GET "/api/v1/feedback-types?project=beta"
is 200
same "$(json 'len(j["data"])')" "1"
req POST /api/v1/feedback '{"project":"beta","type":"bug","title":"Crash \"on\" start","submitter":"zoe@example.com","severity":"high"}'
is 201
same "$(json 'j["number"], j["status"]')" "EXA-0001 New"
req POST /api/v1/feedback '{"project":"gamma","type":"bug","title":"Gamma bug","submitter":"max@example.com"}'
is 201
same "$(json 'j["number"]')" "GAM-0001"
req POST /api/v1/feedback '{"project":"beta","type":"bug","title":"Second","submitter":"zoe@example.com"}'
req PATCH /api/v1/feedback/EXA-0002 '{"status":"Closed"}'
is 200
req PATCH /api/v1/feedback/EXA-0002 '{"status":"Nope"}'
is 422 invalid status
req GET /api/v1/feedback/exa-0001
is 200
req GET "/api/v1/feedback?status=Closed"
is 200
same "$(json '[t["number"] for t in j["data"]]')" "['EXA-0002']"
req DELETE /api/v1/feedback/EXA-0002
is 204
req POST /api/v1/feedback/EXA-0001/replies '{"body":"Thanks, fixed in 1.2"}'
is 201
req POST /api/v1/feedback/GAM-0001/replies '{"body":"Looking"}'
req GET /api/v1/feedback/EXA-0001/replies
is 200
same "$(json 'j["data"][0]["body"]')" "Thanks, fixed in 1.2"
t_end

t_begin xdata
req POST /api/v1/xdata/groups '{"key":"shipping","on":"users","name":"Shipping"}'
is 201
req POST /api/v1/xdata/groups '{"key":"gstats","on":"feedback","project":"gamma","name":"Gamma stats"}'
is 201
req POST /api/v1/xdata/groups '{"key":"tmpg","on":"projects","name":"Tmp"}'
req PATCH /api/v1/xdata/groups/shipping '{"name":"Shipping address"}'
is 200
req GET /api/v1/xdata/groups/shipping
is 200
req DELETE /api/v1/xdata/groups/tmpg
is 204
req GET /api/v1/xdata/groups
is 200
same "$(json '[g["key"] for g in j["data"]]')" "['shipping', 'gstats']"
req POST /api/v1/xdata/fields '{"group":"shipping","key":"is_valid","label":"Address valid","param":"validation_results.is_valid","type":"boolean","favorite":true}'
is 201
req POST /api/v1/xdata/fields '{"group":"shipping","key":"object_id","label":"Shippo id","param":"object_id","type":"string"}'
req POST /api/v1/xdata/fields '{"group":"gstats","key":"score","label":"Score","param":"score","type":"integer"}'
is 201
req PATCH /api/v1/xdata/fields/shipping.object_id '{"label":"Shippo object"}'
is 200
req GET /api/v1/xdata/fields/shipping.object_id
is 200
same "$(json 'j["label"], j["group"]')" "Shippo object shipping"
req GET /api/v1/xdata/fields
is 200
req PUT /api/v1/xdata/values '{"record":"zoe@example.com","field":"shipping.is_valid","value":"YES"}'
is 200
same "$(json 'j["value"], j["source"].startswith("api:")')" "True True"
req PUT /api/v1/xdata/values '{"record":"zoe@example.com","field":"shipping.object_id","value":"abc'"'"'; DELETE FROM users;--"}'
is 200
req PUT /api/v1/xdata/values '{"record":"zoe@example.com","field":"shipping.is_valid","value":"maybe"}'
is 422 coercion_error value
req PUT /api/v1/xdata/values '{"record":"GAM-0001","field":"gstats.score","value":"42"}'
is 200
same "$(json 'j["value"]')" "42"
req GET "/api/v1/xdata/values?on=users&record=zoe@example.com"
is 200
same "$(json '[(v["field"], v["value"]) for v in j["values"]]')" "[('shipping.is_valid', True), ('shipping.object_id', \"abc'; DELETE FROM users;--\")]"
req DELETE "/api/v1/xdata/values?record=zoe@example.com&field=shipping.is_valid"
is 200
same "$(json 'j["value"]')" "None"
req DELETE /api/v1/xdata/fields/shipping.object_id
is 204
t_end

MACRO='{"key":"validate-address","name":"Validate","on":"users","actions":[{"type":"webhook","method":"POST","url":"https://api.example.com/a/","body":"{\"email\": {{user.email}}}","capture":{"group":"shipping"}}]}'
GMACRO='{"key":"gamma-macro","name":"Gamma","on":"users","project":"gamma","actions":[{"type":"webhook","url":"https://api.example.com/g/"}]}'
BMACRO='{"key":"beta-macro","name":"Beta","on":"users","project":"beta","actions":[{"type":"webhook","url":"https://api.example.com/b/"}]}'
t_begin macros
req POST /api/v1/macros/validate "$MACRO"
is 200
same "$(json 'j["as"]')" "create"
req GET /api/v1/macros/validate-address
is 404 not_found
req POST /api/v1/macros "$MACRO"
is 201
same "$(json 'j["key"], len(j["actions"])')" "validate-address 1"
req POST /api/v1/macros "$GMACRO"
is 201
req POST /api/v1/macros "$BMACRO"
is 201
req POST /api/v1/macros/validate '{"key":"bad","name":"Bad","on":"users","actions":[{"type":"webhook","url":"https://x.example/{{user.nope}}"}]}'
is 422 invalid
req GET /api/v1/macros/bad
is 404
req PUT /api/v1/macros/validate-address '{"name":"Validate v2","on":"users","actions":[{"type":"webhook","url":"https://api.example.com/v2/"}]}'
is 200
same "$(json 'j["name"], j["actions"][0]["url"]')" "Validate v2 https://api.example.com/v2/"
req PUT /api/v1/macros/validate-address '{"key":"other","name":"X","on":"users","actions":[{"type":"webhook","url":"https://a.example/"}]}'
is 422 invalid key
req GET /api/v1/macros/validate-address
is 200
req GET /api/v1/macros
is 200
same "$(json 'len(j["data"])')" "3"
req POST /api/v1/macros '{"key":"tmp-macro","name":"T","on":"users","actions":[{"type":"webhook","url":"https://a.example/"}]}'
req DELETE /api/v1/macros/tmp-macro
is 204
t_end

t_begin apikeys_and_secrets
req POST /api/v1/apikeys '{"name":"beta pm","role":"project-manager","projects":["beta"]}'
is 201
PM=$(json 'j["key"]')
req POST /api/v1/apikeys '{"name":"off","role":"community-manager"}'
OFF=$(json 'j["key"]')
OFF_ID=$(json 'j["id"]')
req POST /api/v1/apikeys '{"name":"far away","role":"community-manager","allow_ips":["10.0.0.0/8","2001:db8::/32"]}'
is 201
FAR=$(json 'j["key"]')
req POST /api/v1/apikeys '{"name":"near","role":"community-manager","allow_ips":["127.0.0.0/8"]}'
NEAR=$(json 'j["key"]')
req POST /api/v1/apikeys '{"name":"pm","role":"project-manager"}'
is 422 invalid projects
req POST /api/v1/apikeys/$OFF_ID/disable
is 200
same "$(json 'j["enabled"], "key" in j')" "False False"
req GET /api/v1/apikeys/$OFF_ID
is 200
req GET /api/v1/apikeys
is 200
contains "$(json '[k["name"] for k in j["data"]]')" "beta pm"
case "$OUT" in *secret_hash*|*"$PM"*) t_fail "a key listing shows a secret" ;; esac
req GET /api/v1/projects "" "$NEAR"
is 200
req PUT /api/v1/secrets/shippo '{"value":"shippo_live_abc123"}'
is 201
req PUT /api/v1/secrets/shippo '{"value":"shippo_live_def456"}'
is 200
req PUT /api/v1/secrets/tmp '{"value":"x"}'
req DELETE /api/v1/secrets/tmp
is 204
req GET /api/v1/secrets
is 200
same "$(json '[s["name"] for s in j["data"]]')" "['shippo']"
case "$OUT" in *shippo_live*) t_fail "a secret's value was shown" ;; esac
t_end

t_begin key_in_header_and_query
EXTRA="X-API-Key: $KEY"
req GET /api/v1/projects "" -
EXTRA=""
is 200
req GET "/api/v1/projects?apiKey=$KEY" "" -
is 200
req GET /api/v1/projects "" "hb_00000000_00000000000000000000000000000000"
is 401 unauthorized
case "$KEY" in *0) wrong="${KEY%?}1" ;; *) wrong="${KEY%?}0" ;; esac
req GET /api/v1/projects "" "$wrong"
is 401 unauthorized
t_end

t_begin project_manager_sees_own_projects
req GET /api/v1/projects "" "$PM"
is 200
same "$(json '[p["key"] for p in j["data"]]')" "['beta']"
req GET /api/v1/users "" "$PM"
same "$(json '[u["email"] for u in j["data"]]')" "['zoe@example.com']"
req GET /api/v1/feedback "" "$PM"
same "$(json '[t["number"] for t in j["data"]]')" "['EXA-0001']"
req GET /api/v1/macros "" "$PM"
same "$(json '[m["key"] for m in j["data"]]')" "['beta-macro']"
req PATCH /api/v1/feedback/EXA-0001 '{"severity":"critical"}' "$PM"
is 200
req GET /api/v1/xdata/groups/shipping "" "$PM"
is 200
req POST /api/v1/users '{"email":"pm-made@example.com"}' "$PM"
is 201
t_end

# ---- refusals: nothing below may change the database ----
sleep 1.2 # let the key use counts be written, so the snapshot is of a settled database
before=$(snapshot)
GT="/api/v1/feedback-types/$FT_GAMMA"
BIG="$T_DIR/big.json"
python3 -c 'import sys; sys.stdout.write("{\"name\":\"" + "x" * (1024 * 1024 + 10) + "\"}")' >"$BIG"
# every route that needs a key: METHOD PATH BODY FLAGS (L list, M community managers only)
cat >"$T_DIR/routes" <<ROUTES
GET|/api/v1/projects||L
POST|/api/v1/projects|{"key":"delta","name":"D"}|M
GET|/api/v1/projects/beta||
PATCH|/api/v1/projects/beta|{"name":"B"}|
DELETE|/api/v1/projects/beta||M
GET|/api/v1/projects/beta/participants||L
POST|/api/v1/projects/beta/participants|{"users":["bob@example.com"]}|
GET|/api/v1/users||L
POST|/api/v1/users|{"email":"new@example.com"}|
GET|/api/v1/users/zoe@example.com||
PATCH|/api/v1/users/zoe@example.com|{"city":"Cork"}|
DELETE|/api/v1/users/zoe@example.com||M
GET|/api/v1/users/zoe@example.com/notes||L
POST|/api/v1/users/zoe@example.com/notes|{"body":"n"}|
GET|/api/v1/feedback-types||L
POST|/api/v1/feedback-types|{"project":"beta","key":"q","name":"Q","prefix":"QQ","statuses":["New"]}|
GET|/api/v1/feedback-types/$FT_BETA||
PATCH|/api/v1/feedback-types/$FT_BETA|{"name":"B"}|
DELETE|/api/v1/feedback-types/$FT_BETA||
GET|/api/v1/feedback||L
POST|/api/v1/feedback|{"project":"beta","type":"bug","title":"T","submitter":"zoe@example.com"}|
GET|/api/v1/feedback/EXA-0001||
PATCH|/api/v1/feedback/EXA-0001|{"title":"T2"}|
DELETE|/api/v1/feedback/EXA-0001||
GET|/api/v1/feedback/EXA-0001/replies||L
POST|/api/v1/feedback/EXA-0001/replies|{"body":"r"}|
GET|/api/v1/xdata/groups||L
POST|/api/v1/xdata/groups|{"key":"g2","on":"users","name":"G"}|
GET|/api/v1/xdata/groups/shipping||
PATCH|/api/v1/xdata/groups/shipping|{"name":"S"}|
DELETE|/api/v1/xdata/groups/shipping||
GET|/api/v1/xdata/fields||L
POST|/api/v1/xdata/fields|{"group":"shipping","key":"f2","label":"F","param":"f","type":"string"}|
GET|/api/v1/xdata/fields/shipping.is_valid||
PATCH|/api/v1/xdata/fields/shipping.is_valid|{"label":"L"}|
DELETE|/api/v1/xdata/fields/shipping.is_valid||
GET|/api/v1/xdata/values?on=users&record=zoe@example.com||
PUT|/api/v1/xdata/values|{"record":"zoe@example.com","field":"shipping.is_valid","value":true}|
DELETE|/api/v1/xdata/values?record=zoe@example.com&field=shipping.is_valid||
GET|/api/v1/macros||L
POST|/api/v1/macros|$(printf '%s' "$MACRO" | sed 's/validate-address/m2/')|
POST|/api/v1/macros/validate|$MACRO|
GET|/api/v1/macros/validate-address||
PUT|/api/v1/macros/validate-address|$MACRO|
DELETE|/api/v1/macros/validate-address||
GET|/api/v1/apikeys||LM
POST|/api/v1/apikeys|{"name":"k","role":"community-manager"}|M
GET|/api/v1/apikeys/$OFF_ID||M
POST|/api/v1/apikeys/$OFF_ID/disable||M
GET|/api/v1/secrets||LM
PUT|/api/v1/secrets/shippo|{"value":"v"}|M
DELETE|/api/v1/secrets/shippo||M
ROUTES

t_begin refusals_every_route
while IFS='|' read -r m p body flags; do
	req "$m" "$p" "$body" -
	is 401 unauthorized
	req "$m" "$p" "$body" "$OFF"
	is 401 unauthorized
	contains "$OUT" "disabled"
	req "$m" "$p" "$body" "$FAR"
	is 403 forbidden
	case "$flags" in *M*)
		req "$m" "$p" "$body" "$PM"
		is 403 forbidden ;;
	esac
	if [ -n "$body" ]; then
		req "$m" "$p" '{"name": ' ; is 400 parse_error
		req "$m" "$p" '[]' ; is 422 invalid
		req "$m" "$p" "${body%\}},\"bogus\":1}" ; is 422 invalid bogus
		req "$m" "$p" "{\"a\":1,\"a\":2}" ; is 400 parse_error
		CT=text/plain; req "$m" "$p" "$body"; CT=application/json; is 415 unsupported_media_type
		req "$m" "$p" "@$BIG" ; is 413 too_large
		EXTRA="Transfer-Encoding: chunked"; req "$m" "$p" "@$BIG"; EXTRA=""; is 413 too_large
	fi
	case "$flags" in *L*)
		q="?"; case "$p" in *\?*) q="&" ;; esac
		req "$m" "$p${q}cursor=not-a-cursor" ; is 400 bad_request cursor
		req "$m" "$p${q}cursor=Yz0xMg" ; is 400 bad_request cursor
		req "$m" "$p${q}limit=0" ; is 400 bad_request limit
		req "$m" "$p${q}limit=abc" ; is 400 bad_request limit ;;
	esac
done <"$T_DIR/routes"
t_end

t_begin wrong_types
req POST /api/v1/users '{"email":5}' ; is 422 invalid email
req POST /api/v1/users '{"email":"not an email"}' ; is 422 invalid email
req PATCH /api/v1/users/zoe@example.com '{"first_name":["a"]}' ; is 422 invalid first_name
req POST /api/v1/feedback-types '{"project":"beta","key":"q","name":"Q","prefix":"QQ","statuses":["New"],"digits":"four"}' ; is 422 invalid digits
req POST /api/v1/xdata/fields '{"group":"shipping","key":"f2","label":"F","param":"f","type":"string","favorite":"yes"}' ; is 422 invalid favorite
req PUT /api/v1/xdata/values '{"record":"zoe@example.com","field":"shipping.is_valid","value":[1]}' ; is 422 coercion_error value
req POST /api/v1/projects/beta/participants '{"users":"bob@example.com"}' ; is 422 invalid users
req PUT /api/v1/secrets/shippo '{"value":12}' ; is 422 invalid value
req POST /api/v1/apikeys '{"name":"k","role":"community-manager","allow_ips":["10.0.0.300/8"]}' ; is 422 invalid allow_ips
req POST /api/v1/macros '{"key":"m3","name":"M","on":"users","actions":[{"type":"webhook","url":"https://a.example/","timeout_ms":"fast"}]}' ; is 422 invalid timeout_ms
req GET "/api/v1/users?nosuchfield=1" ; is 400 bad_request nosuchfield
req GET "/api/v1/xdata/values?on=planets&record=x" ; is 400 bad_request on
req GET "/api/v1/xdata/values?on=users" ; is 400 bad_request record
t_end

t_begin wrong_project
while IFS='|' read -r m p body; do
	req "$m" "$p" "$body" "$PM"
	is 403 forbidden
done <<WRONG
GET|/api/v1/projects/gamma|
PATCH|/api/v1/projects/gamma|{"name":"G"}
GET|/api/v1/projects/gamma/participants|
POST|/api/v1/projects/gamma/participants|{"users":["bob@example.com"]}
GET|/api/v1/users/max@example.com|
PATCH|/api/v1/users/max@example.com|{"city":"Oslo"}
GET|/api/v1/users/max@example.com/notes|
POST|/api/v1/users/max@example.com/notes|{"body":"n"}
POST|/api/v1/feedback-types|{"project":"gamma","key":"q","name":"Q","prefix":"QQ","statuses":["New"]}
GET|$GT|
PATCH|$GT|{"name":"B"}
DELETE|$GT|
POST|/api/v1/feedback|{"project":"gamma","type":"bug","title":"T","submitter":"max@example.com"}
GET|/api/v1/feedback/GAM-0001|
PATCH|/api/v1/feedback/GAM-0001|{"title":"T2"}
DELETE|/api/v1/feedback/GAM-0001|
GET|/api/v1/feedback/GAM-0001/replies|
POST|/api/v1/feedback/GAM-0001/replies|{"body":"r"}
POST|/api/v1/xdata/groups|{"key":"g2","on":"feedback","project":"gamma","name":"G"}
POST|/api/v1/xdata/groups|{"key":"g3","on":"users","name":"community-wide"}
GET|/api/v1/xdata/groups/gstats|
PATCH|/api/v1/xdata/groups/gstats|{"name":"S"}
PATCH|/api/v1/xdata/groups/shipping|{"name":"S"}
DELETE|/api/v1/xdata/groups/gstats|
POST|/api/v1/xdata/fields|{"group":"gstats","key":"f2","label":"F","param":"f","type":"string"}
GET|/api/v1/xdata/fields/gstats.score|
PATCH|/api/v1/xdata/fields/gstats.score|{"label":"L"}
DELETE|/api/v1/xdata/fields/gstats.score|
GET|/api/v1/xdata/values?on=feedback&record=GAM-0001|
PUT|/api/v1/xdata/values|{"record":"GAM-0001","field":"gstats.score","value":1}
DELETE|/api/v1/xdata/values?record=GAM-0001&field=gstats.score|
PUT|/api/v1/xdata/values|{"record":"max@example.com","field":"shipping.is_valid","value":true}
POST|/api/v1/macros|$GMACRO
POST|/api/v1/macros|$(printf '%s' "$MACRO" | sed 's/validate-address/m4/')
POST|/api/v1/macros/validate|$GMACRO
GET|/api/v1/macros/gamma-macro|
PUT|/api/v1/macros/gamma-macro|$GMACRO
DELETE|/api/v1/macros/gamma-macro|
GET|/api/v1/macros/validate-address|
WRONG
t_end

t_begin unknown_routes
req GET /api/v1/nothing ; is 404 not_found
req PUT /api/v1/users ; is 405 method_not_allowed
req GET /api/v1/users/zoe@example.com/nothing ; is 404 not_found
t_end

t_begin database_unchanged
after=$(snapshot)
[ "$before" = "$after" ] || t_fail "the refused requests changed the database: $(printf '%s\n' "$before" >"$T_DIR/b"; printf '%s\n' "$after" >"$T_DIR/a"; diff "$T_DIR/b" "$T_DIR/a" | head -5)"
t_end

# ---- limits ----

t_begin header_cap
OUT=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' x)" "$BASE/healthz")
same "$OUT" "431"
t_end

t_begin idle_connection_timeout
OUT=$(python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
s.settimeout(6)
t = time.time()
try:
    data = s.recv(100)
except socket.timeout:
    data = b"timeout"
print("closed" if data == b"" else data, round(time.time() - t))
PY
)
contains "$OUT" "closed"
t_end

t_begin connection_cap
# 60 clients send a request each and keep their connections: at most 40 are served at once
OUT=$(python3 - "$port" <<'PY'
import socket, sys, time
socks, answered = [], 0
for _ in range(60):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
time.sleep(0.8)
for s in socks:
    s.settimeout(0.01)
    try:
        answered += s.recv(100).startswith(b"HTTP/1.1 200")
    except (socket.timeout, ConnectionResetError):
        pass
print(answered)
PY
)
[ "$OUT" -ge 1 ] && [ "$OUT" -le 40 ] || t_fail "$OUT of 60 clients were served at once; the cap is 40"
sleep 0.2
OUT=$(curl -s "$BASE/healthz")
same "$OUT" '{"status":"ok"}'
t_end

t_begin key_use_counted
req GET /api/v1/projects "" "$NEAR"
sleep 1.5
OUT=$(sqlite3 "$HOOKBRIDGE_DB" "SELECT use_count, last_used_at IS NOT NULL FROM api_keys WHERE name = 'near'")
same "$OUT" "2|1"
t_end

t_begin health_and_metrics
req GET /healthz "" - ; is 200
req GET /readyz "" - ; is 200
same "$OUT" '{"status":"ready","store":"ok","workers":"running"}'
req GET /api/v1/openapi.json "" - ; is 200
same "$(json 'j["openapi"]')" "3.1.0"
req GET /metrics "" - ; is 200
contains "$OUT" 'hookbridge_api_requests_total{method="GET",route="/api/v1/users/{user}",status="200"}'
contains "$OUT" 'status="401"'
t_end

t_begin key_changes_apply_to_the_next_request
# a key just used successfully is refused on the very next request once it is disabled (by the
# API or by the command line in another process), and a changed allow-list applies at once:
# nothing about a key is remembered between requests
req POST /api/v1/apikeys '{"name":"brief","role":"community-manager"}'
is 201
BRIEF=$(json 'j["key"]')
BRIEF_ID=$(json 'j["id"]')
req GET /api/v1/users/max@example.com "" "$BRIEF"
is 200
req GET /api/v1/users/max@example.com "" "$BRIEF"
is 200
req POST /api/v1/apikeys/$BRIEF_ID/disable
is 200
req GET /api/v1/users/max@example.com "" "$BRIEF"
is 401 unauthorized
contains "$OUT" "disabled"
CLIKEY=$(hb --json apikey create --name cli-brief --role community-manager | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
req GET /api/v1/users/max@example.com "" "$CLIKEY"
is 200
hb apikey disable "$(echo "$CLIKEY" | cut -c4-11)" >/dev/null
req GET /api/v1/users/max@example.com "" "$CLIKEY"
is 401 unauthorized
contains "$OUT" "disabled"
req POST /api/v1/apikeys '{"name":"moving","role":"community-manager","allow_ips":["127.0.0.0/8"]}'
MOVING=$(json 'j["key"]')
MOVING_ID=$(json 'j["id"]')
req GET /api/v1/projects/beta "" "$MOVING"
is 200
sqlite3 "$HOOKBRIDGE_DB" "UPDATE api_keys SET allow_ips = '[\"10.0.0.0/8\"]' WHERE id = $MOVING_ID"
req GET /api/v1/projects/beta "" "$MOVING"
is 403 forbidden
sqlite3 "$HOOKBRIDGE_DB" "UPDATE api_keys SET allow_ips = '[\"::1/128\",\"127.0.0.1/32\"]' WHERE id = $MOVING_ID"
req GET /api/v1/projects/beta "" "$MOVING"
is 200
t_end

t_begin logs_hold_no_secrets
stop_server
log=$(cat "$T_DIR/serve.log")
for s in "$KEY" "$PM" "$OFF" "${KEY#hb_????????_}" shippo_live; do
	case "$log" in *"$s"*) t_fail "the log shows a secret" ;; esac
done
contains "$log" "reason=\"key disabled\""
contains "$log" "reason=\"address not allowed\""
contains "$log" "stopped"
t_end

t_begin rate_limit_and_json_logs
start_server "$T_DIR/serve2.log" --rate-limit 3 --log-format json
limited=""
for i in 1 2 3 4 5 6 7 8; do
	req GET /api/v1/projects
	[ "$CODE" = 429 ] && { limited=yes; is 429 rate_limited; }
done
same "$limited" "yes"
stop_server
OUT=$(python3 -c 'import json,sys; lines=[json.loads(l) for l in open(sys.argv[1])]; print(lines[0]["msg"], sum(l.get("status")=="429" for l in lines) >= 1)' "$T_DIR/serve2.log")
same "$OUT" "listening True"
t_end

t_begin stop_lets_request_finish
start_server "$T_DIR/serve3.log" --access-log off
python3 -c 'import sys; sys.stdout.write("{\"email\":\"slow@example.com\"" + " " * 60000 + "}")' >"$T_DIR/slow.json"
curl -s -o "$T_DIR/slow.out" -w '%{http_code}' --limit-rate 30k -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' --data-binary "@$T_DIR/slow.json" "$BASE/api/v1/users" >"$T_DIR/slow.code" &
cpid=$!
sleep 0.7
kill -TERM "$pid"
sleep 0.3
late=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")
wait "$cpid"
wait "$pid"
same "$?|$(cat "$T_DIR/slow.code")|$late" "0|201|000"
t_end

t_begin project_manager_pages_are_bounded
# a project manager's list scans at most 2,000 records a request; the cursor goes on from there
python3 -c 'print("email"); [print(f"bulk{i}@example.com") for i in range(2100)]' >"$T_DIR/bulk.csv"
hb user import "$T_DIR/bulk.csv" >/dev/null
start_server "$T_DIR/serve5.log" --access-log off
req GET "/api/v1/users?limit=5" "" "$PM"
is 200
same "$(json '[u["email"] for u in j["data"]], j["next_cursor"] is not None')" "['zoe@example.com'] True"
req GET "/api/v1/users?limit=5&cursor=$(json 'j["next_cursor"]')" "" "$PM"
is 200
same "$(json 'j["data"], j["next_cursor"]')" "[] None"
stop_server
t_end

t_begin tls
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-days 1 -keyout "$T_DIR/tls.key" -out "$T_DIR/tls.crt" 2>/dev/null; then
	start_server "$T_DIR/serve4.log" --tls-cert "$T_DIR/tls.crt" --tls-key "$T_DIR/tls.key"
	OUT=$(curl -s --cacert "$T_DIR/tls.crt" --resolve "localhost:$port:127.0.0.1" \
		-H "Authorization: Bearer $KEY" "https://localhost:$port/api/v1/projects/beta")
	stop_server
	same "$(json 'j["key"]')" "beta"
	expect 2 "$HB_BIN" serve --tls-cert "$T_DIR/tls.crt"
	contains "$ERR" "go together"
else
	t_fail "openssl could not make a test certificate"
fi
t_end

t_begin print_config
OUT=$(HOOKBRIDGE_MAX_BODY=2m "$HB_BIN" serve --listen '[::1]:9999' --threads 3 --print-config)
same "$(json 'j["listen"], j["max-body"], j["threads"], j["log-format"]')" "[::1]:9999 2097152 3 human"
expect 2 env HOOKBRIDGE_MAX_BODY=lots "$HB_BIN" serve --print-config
contains "$ERR" "HOOKBRIDGE_MAX_BODY"
t_end

# ---- every exchange against the OpenAPI document ----
check_openapi api
