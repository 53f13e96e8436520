#!/bin/sh
# Black-box tests of the secret store: `secret set` (--value and --stdin, create and replace),
# `secret list` (names and dates only), `secret delete`, refusals of bad input with the database
# unchanged, and {{secret.NAME}} in the Data Engine: listed by `tags`, masked by `template
# render`, refused in plain text. No output, message or JSON ever carries a value.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=secret

hb init --community acme >/dev/null
hb user create --email zoe@example.com --first-name Zoë >/dev/null
V1=shippo_live_V1x7q
V2=shippo_live_V2k9z
V3=jira-tok3n-V3w
stored() { sqlite3 "$HOOKBRIDGE_DB" "SELECT value FROM secrets WHERE name = '$1'"; }
# no_value TEXT: none of the values set in this script appears in TEXT
no_value() {
	for v in "$V1" "$V2" "$V3" abc-crlf; do
		case "$1" in *"$v"*) t_fail "a secret value shows: [$1]" ;; esac
	done
}

t_begin set_with_value
expect 0 hb secret set shippo --value "$V1"
same "$OUT" "created secret 'shippo'"
same "$(stored shippo)" "$V1"
no_value "$OUT$ERR"
t_end

t_begin set_from_stdin_strips_newline
printf '%s\n' "$V3" >"$T_DIR/in"
expect 0 hb --json secret set jira --stdin <"$T_DIR/in"
same "$(json 'j["name"], j["replaced"], sorted(j)')" "jira False ['created_at', 'id', 'name', 'replaced', 'updated_at']"
same "$(stored jira)" "$V3"
no_value "$OUT$ERR"
printf 'abc-crlf\r\n' >"$T_DIR/in"
expect 0 hb secret set crlf --stdin <"$T_DIR/in"
same "$(stored crlf)" "abc-crlf"
printf 'two\nlines' >"$T_DIR/in" # only a trailing line break is taken off
expect 2 hb secret set twolines --stdin <"$T_DIR/in"
contains "$ERR" "control characters"
t_end

t_begin set_replaces
expect 0 hb secret set shippo --value "$V2"
same "$OUT" "replaced secret 'shippo'"
same "$(stored shippo)" "$V2"
same "$(sqlite3 "$HOOKBRIDGE_DB" "SELECT count(*) FROM secrets WHERE name = 'shippo'")" 1
printf '%s' "$V1" >"$T_DIR/in"
expect 0 hb --json secret set shippo --stdin <"$T_DIR/in"
same "$(json 'j["replaced"]')" "True"
same "$(stored shippo)" "$V1"
no_value "$OUT$ERR"
t_end

t_begin list_names_and_dates_only
expect 0 hb secret list
contains "$OUT" "name"
contains "$OUT" "shippo"
contains "$OUT" "jira"
no_value "$OUT$ERR"
expect 0 hb --json secret list
same "$(json '[s["name"] for s in j]')" "['shippo', 'jira', 'crlf']"
same "$(json 'sorted(set(k for s in j for k in s))')" "['created_at', 'name', 'updated_at']"
no_value "$OUT$ERR"
t_end

# bad NAME MESSAGE [< input] ARGS…: exit 2, MESSAGE on stderr, no value shown, database unchanged
bad() {
	name=$1
	message=$2
	shift 2
	t_begin "bad_$name"
	before=$(snapshot)
	expect 2 hb "$@"
	contains "$ERR" "$message"
	no_value "$OUT$ERR"
	[ "$before" = "$(snapshot)" ] || t_fail "database changed"
	t_end
}
bad name "'Bad Name' is not a valid secret name" secret set "Bad Name" --value "$V2"
bad name_long "is not a valid secret name" secret set "$(printf 'a%.0s' $(seq 1 65))" --value x
bad empty_value "the value of secret 'shippo' is empty" secret set shippo --value ""
bad no_value "give the value with --value V or --stdin" secret set shippo
bad both_values "give the value with --value V or --stdin" secret set shippo --value "$V2" --stdin
bad value_as_argument "expected exactly one argument" secret set shippo "$V2"
bad no_name "expected exactly one argument" secret set --value "$V2"
bad control_char "value must not contain control characters" secret set shippo --value "$(printf 'a\tb')"
bad too_long "value is too long (8193 bytes; at most 8192)" \
	secret set shippo --value "$(head -c 8193 /dev/zero | tr '\0' x)"
bad delete_unknown "no secret 'nope'" secret delete nope
bad delete_bad_name "'Nope!' is not a valid secret name" secret delete 'Nope!'
bad delete_no_name "expected the secret's NAME" secret delete
bad unknown_verb "unknown subcommand 'show'" secret show shippo

bad_stdin() {
	name=$1
	message=$2
	t_begin "bad_stdin_$name"
	before=$(snapshot)
	expect 2 hb secret set shippo --stdin <"$T_DIR/in"
	contains "$ERR" "$message"
	[ "$before" = "$(snapshot)" ] || t_fail "database changed"
	same "$(stored shippo)" "$V1"
	t_end
}
printf '\n' >"$T_DIR/in"
bad_stdin empty "the value of secret 'shippo' is empty"
: >"$T_DIR/in"
bad_stdin nothing "the value of secret 'shippo' is empty"
head -c 8193 /dev/zero | tr '\0' x >"$T_DIR/in"
bad_stdin too_long "the value on standard input is over 8192 bytes"
head -c 100000 /dev/zero | tr '\0' x >"$T_DIR/in"
bad_stdin far_too_long "the value on standard input is over 8192 bytes"
printf '\377\376\n' >"$T_DIR/in"
bad_stdin not_utf8 "not valid UTF-8"

t_begin stdin_at_the_cap
head -c 8192 /dev/zero | tr '\0' y >"$T_DIR/in"
echo >>"$T_DIR/in"
expect 0 hb secret set big --stdin <"$T_DIR/in"
same "$(stored big | wc -c)" 8193 # 8192 bytes and the newline sqlite3 prints
t_end

t_begin tags_list_secret_names
expect 0 hb --json tags
same "$(json '[(t["tag"], t["type"]) for t in j if t["tag"].startswith("secret.")]')" \
	"[('secret.shippo', 'string'), ('secret.jira', 'string'), ('secret.crlf', 'string'), ('secret.big', 'string')]"
no_value "$OUT$ERR"
expect 0 hb tags --on feedback
contains "$OUT" "secret.jira"
no_value "$OUT$ERR"
t_end

t_begin render_masks_secrets
expect 0 hb template render --user zoe@example.com --context header \
	--text 'Authorization: ShippoToken {{secret.shippo}}
X-Jira: {{ secret.jira | upper }}'
same "$OUT" 'Authorization: ShippoToken ********
X-Jira: ********'
expect 0 hb template render --user zoe@example.com --context url \
	--text 'https://api.example.com/v1/{{secret.jira}}?who={{user.first_name}}'
same "$OUT" 'https://api.example.com/v1/********?who=Zo%C3%AB'
expect 0 hb template render --user zoe@example.com --context json \
	--text '{"token":{{secret.jira}},"auth":"Bearer {{secret.shippo}}"}'
same "$OUT" '{"token":"********","auth":"Bearer ********"}'
expect 0 hb --json template render --user zoe@example.com --context form \
	--text 'key={{secret.shippo}}&name={{user.first_name}}'
same "$(json 'j["rendered"]')" 'key=********&name=Zo%C3%AB'
no_value "$OUT$ERR"
t_end

t_begin render_refuses_secret_in_text
expect 2 hb template render --user zoe@example.com --context text \
	--text "$(printf 'Hello {{user.first_name}},\n  your key: {{ secret.shippo }}')"
contains "$ERR" "line 2, column 13: a secret cannot be used in plain text"
same "$OUT" ""
no_value "$OUT$ERR"
expect 2 hb template render --user zoe@example.com --text '{{secret.jira}}' # text is the default
contains "$ERR" "line 1, column 1: a secret cannot be used in plain text"
t_end

t_begin macro_uses_secret
cat >"$T_DIR/m.json" <<'EOF'
{"key":"validate","name":"Validate","on":"users","actions":[{"type":"webhook","method":"POST",
 "url":"https://api.example.com/addresses/","headers":"Authorization: ShippoToken {{secret.shippo}}",
 "content_type":"form","body":"name={{user.first_name}}"}]}
EOF
expect 0 hb macro create --file "$T_DIR/m.json"
expect 0 hb --json macro show validate
no_value "$OUT$ERR"
sed 's/secret\.shippo/secret.shipo/' "$T_DIR/m.json" | sed 's/"validate"/"validate2"/' >"$T_DIR/m2.json"
expect 2 hb macro create --file "$T_DIR/m2.json"
contains "$ERR" "unknown path 'secret.shipo' (did you mean 'secret.shippo'?)"
no_value "$OUT$ERR"
t_end

t_begin delete
expect 0 hb secret delete jira
same "$OUT" "deleted secret 'jira'"
same "$(stored jira)" ""
expect 0 hb --json secret delete crlf
same "$(json 'j["deleted"], j["name"]')" "True crlf"
expect 0 hb --json secret list
same "$(json '[s["name"] for s in j]')" "['shippo', 'big']"
expect 0 hb tags
case "$OUT" in *secret.jira*) t_fail "tags still lists secret.jira" ;; esac
expect 2 hb template render --user zoe@example.com --context header --text 'X: {{secret.jira}}'
contains "$ERR" "unknown path 'secret.jira'"
t_end

t_begin other_community_apart
expect 0 hb init --community other
expect 0 hb --community other secret list
same "$OUT" "name  created_at  updated_at"
expect 2 hb --community other secret delete shippo
contains "$ERR" "no secret 'shippo'"
expect 0 hb --community other secret set shippo --value other-value
same "$(sqlite3 "$HOOKBRIDGE_DB" "SELECT count(*) FROM secrets WHERE name = 'shippo'")" 2
same "$(stored shippo | sort | head -1)" "other-value"
t_end
