# lib.sh - shared by the black-box scripts: a temporary directory, the real binary, and
# assertions that print one "PASS group:name" / "FAIL group:name: why" line per case.
# Usage in a script:  . "$(dirname "$0")/lib.sh"; GROUP=cli; t_begin name; …; t_end
HB_BIN="${HB_BIN:-$PWD/build/hookbridge}"
T_DIR=$(mktemp -d /tmp/hb-bb-XXXXXX)
trap 'rm -rf "$T_DIR"' EXIT INT TERM
export HOOKBRIDGE_DB="$T_DIR/hb.db"
T_FAILED=""

hb() { "$HB_BIN" "$@"; }
t_begin() { T_NAME=$1; T_FAILED=""; }
t_fail() { [ -n "$T_FAILED" ] || T_FAILED=$*; }
t_end() {
	# printf, not echo: dash's echo would turn a "\t" in a message into a tab
	if [ -z "$T_FAILED" ]; then printf 'PASS %s:%s\n' "$GROUP" "$T_NAME"; else printf 'FAIL %s:%s: %s\n' "$GROUP" "$T_NAME" "$T_FAILED"; fi
}
# expect STATUS CMD…: run CMD, keep stdout in $OUT and stderr in $ERR, check the exit status
expect() {
	want=$1
	shift
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"
	got=$?
	OUT=$(cat "$T_DIR/out")
	ERR=$(cat "$T_DIR/err")
	[ "$got" = "$want" ] || t_fail "'$*' exited $got, expected $want; stderr: $ERR"
}
# json EXPR: evaluate a Python expression over the JSON in $OUT (bound to j)
json() { printf '%s' "$OUT" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
same() { [ "$1" = "$2" ] || t_fail "got [$1], expected [$2]"; }
contains() { case "$1" in *"$2"*) ;; *) t_fail "[$1] lacks [$2]" ;; esac; }
snapshot() { sqlite3 "$HOOKBRIDGE_DB" .dump | grep -v '^INSERT INTO api_keys' ; }
