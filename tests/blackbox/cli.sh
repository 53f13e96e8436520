#!/bin/sh
# Black-box tests of the command line: every record type created, listed, shown, updated and
# deleted and read back with --json; bad input refused with a clear message, exit status 2,
# and the database left unchanged.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=cli

t_begin init
expect 0 hb --json init --community acme --name "Acme beta"
same "$(json 'j["key"], j["api_key"].startswith("hb_")')" "acme True"
expect 2 hb init --community acme
contains "$ERR" "already exists"
t_end

t_begin project_crud
expect 0 hb --json project create beta --name "Beta 1"
same "$(json 'j["key"], j["name"], j["status"]')" "beta Beta 1 active"
expect 0 hb --json project update beta --name "Beta one" --status archived
same "$(json 'j["name"], j["status"]')" "Beta one archived"
expect 0 hb --json project list
same "$(json 'len(j), j[0]["key"]')" "1 beta"
expect 0 hb --json project create tmp --name Tmp
expect 0 hb --json project delete tmp
expect 2 hb project show tmp
contains "$ERR" "no project 'tmp'"
t_end

t_begin user_crud
expect 0 hb --json user create --email Zoe@Example.com --first-name "Zoë" --last-name "O'Brien" --country IE
same "$(json 'j["email"], j["first_name"], j["country"]')" "zoe@example.com Zoë IE"
expect 0 hb --json user update zoe@example.com --company "Zoë & Co"
same "$(json 'j["company"]')" "Zoë & Co"
expect 0 hb user join beta zoe@example.com --team red
expect 0 hb user note zoe@example.com "called about the shipment"
expect 0 hb --json user show zoe@example.com
same "$(json 'j["projects"][0]["project"], j["projects"][0]["team"], j["notes"][0]["body"]')" "beta red called about the shipment"
expect 0 hb --json user list --country IE
same "$(json 'len(j)')" "1"
t_end

t_begin feedback_crud
expect 0 hb --json feedback-type create beta bug --name Bug --prefix exa --statuses "New, Open, Closed"
same "$(json 'j["prefix"], j["statuses"], j["default_status"]')" "EXA ['New', 'Open', 'Closed'] New"
expect 0 hb --json feedback create beta bug --title 'Crash "on" start' --submitter zoe@example.com --severity high
same "$(json 'j["number"], j["status"], j["submitter"]')" "EXA-0001 New zoe@example.com"
expect 0 hb --json feedback create beta bug --title Second --submitter zoe@example.com
same "$(json 'j["number"]')" "EXA-0002"
expect 0 hb --json feedback update EXA-0002 --status Closed
same "$(json 'j["status"]')" "Closed"
expect 0 hb feedback reply EXA-0001 "Thanks, fixed in 1.2"
expect 0 hb --json feedback show exa-0001
same "$(json 'j["title"], j["replies"][0]["body"]')" 'Crash "on" start Thanks, fixed in 1.2'
expect 0 hb --json feedback list --status Closed
same "$(json '[t["number"] for t in j]')" "['EXA-0002']"
expect 0 hb feedback delete EXA-0002
expect 2 hb feedback show EXA-0002
t_end

t_begin xdata_crud
expect 0 hb --json xdata group create shipping --on users --name Shipping
same "$(json 'j["on"], j["project"]')" "users None"
expect 0 hb --json xdata field create shipping is_valid --label "Address valid" --param validation_results.is_valid --type boolean --favorite
same "$(json 'j["favorite"], j["type"]')" "True boolean"
expect 0 hb xdata field create shipping object_id --label "Shippo id" --param object_id --type string
expect 0 hb --json xdata field update shipping object_id --label "Shippo object"
same "$(json 'j["label"]')" "Shippo object"
expect 0 hb --json xdata set zoe@example.com shipping.object_id abc123
expect 0 hb --json xdata set zoe@example.com shipping.is_valid YES
same "$(json 'j["value"]')" "True"
expect 0 hb --json user show zoe@example.com
same "$(json '[x["field"] for x in j["external"]]')" "['shipping.is_valid', 'shipping.object_id']"
expect 0 hb --json xdata clear zoe@example.com shipping.is_valid
expect 0 hb --json user show zoe@example.com
same "$(json 'j["external"][0]["value"]')" "None"
expect 0 hb xdata field delete shipping object_id
expect 0 hb --json xdata field list
same "$(json 'len(j)')" "1"
t_end

t_begin apikey_crud
expect 0 hb --json apikey create --name zap --role project-manager --project beta --allow-ip 203.0.113.0/24
same "$(json 'j["projects"], j["allow_ips"], j["key"].startswith("hb_")')" "['beta'] ['203.0.113.0/24'] True"
prefix=$(json 'j["prefix"]')
expect 0 hb apikey disable "$prefix"
expect 0 hb --json apikey list
same "$(json '[k["enabled"] for k in j]')" "[True, False]"
t_end

t_begin import
printf 'email,first_name,last_name,country\nann@x.com,Ann,Lee,US\n"bo@x.com","Bo, Jr","O""Neil",CA\n' >"$T_DIR/ok.csv"
expect 0 hb --json user import "$T_DIR/ok.csv" --project beta
same "$(json 'j["imported"]')" "2"
expect 0 hb --json user show bo@x.com
same "$(json 'j["first_name"], j["last_name"], j["projects"][0]["project"]')" "Bo, Jr O\"Neil beta"
t_end

# Each bad input: exit 2, a message naming what and where, and no change to the database.
bad() {
	name=$1
	message=$2
	shift 2
	t_begin "bad_$name"
	before=$(snapshot)
	expect 2 hb "$@"
	contains "$ERR" "$message"
	[ "$before" = "$(snapshot)" ] || t_fail "database changed"
	t_end
}
bad email "'not-an-email' is not a valid email address" user create --email not-an-email
bad duplicate_email "a user with email 'zoe@example.com' already exists" user create --email ZOE@example.com
bad key_syntax "'Bad Key' is not a valid key" project create "Bad Key" --name X
bad duplicate_project "a project with key 'beta' already exists" project create beta --name Again
bad prefix_length "prefix is too long (16 bytes; at most 15)" feedback-type create beta story --name S --prefix ABCDEFGHIJKLMNOP --statuses New
bad duplicate_prefix "prefix 'EXA' is already used by feedback type 'bug'" feedback-type create beta story --name S --prefix EXA --statuses New
bad field_type "'money' is not a valid type" xdata field create shipping cost --label C --param cost --type money
bad bad_param "column 3: array index must be a number" xdata field create shipping cost --label C --param "a[x]" --type integer
bad unknown_project "no project 'nope'" user join nope zoe@example.com
bad unknown_user "no user 'ghost@example.com'" user join beta ghost@example.com
bad unknown_submitter "no user 'ghost@example.com'" feedback create beta bug --title T --submitter ghost@example.com
bad status "'Done' is not a status of feedback type 'bug'" feedback update EXA-0001 --status Done
bad immutable "key cannot be changed" project update beta --key other
bad unknown_option "unknown option '--colour'" user create --email x@y.com --colour red
bad missing_required "name is required" project create gamma
bad default_status "default status 'Nope' is not one of the statuses" feedback-type create beta story --name S --prefix ST --statuses "A,B" --default-status Nope
bad pm_without_project "needs at least one project" apikey create --name x --role project-manager
bad cidr "prefix length" apikey create --name x --role community-manager --allow-ip 10.0.0.0/33
printf 'email,first_name\nok1@x.com,A\nnope,B\n' >"$T_DIR/bad.csv"
bad import_row "line 3, column 1 (email): 'nope' is not a valid email address" user import "$T_DIR/bad.csv"
printf 'email,shoe_size\nok2@x.com,9\n' >"$T_DIR/badhead.csv"
bad import_header "line 1, column 2: 'shoe_size' is not a user field" user import "$T_DIR/badhead.csv"

t_begin referenced_delete_refused
before=$(snapshot)
expect 2 hb project delete beta
contains "$ERR" "other records still refer to it"
[ "$before" = "$(snapshot)" ] || t_fail "database changed"
t_end

t_begin newer_schema_refused
cp "$HOOKBRIDGE_DB" "$T_DIR/new.db"
sqlite3 "$T_DIR/new.db" "PRAGMA user_version = 99"
expect 1 hb --db "$T_DIR/new.db" project list
contains "$ERR" "written by a newer hookbridge"
t_end

t_begin help_everywhere
for c in "init" "serve" "project create" "project list" "user show" "user import" "user join" \
	"feedback-type create" "feedback reply" "xdata group create" "xdata field update" \
	"xdata set" "apikey create" "apikey disable"; do
	# shellcheck disable=SC2086
	expect 0 hb $c --help
	contains "$OUT" "usage: hookbridge"
done
t_end
