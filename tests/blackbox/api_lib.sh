# api_lib.sh - what the API black-box scripts share (api.sh, api_runs.sh, api_packages.sh):
# a server on a free loopback port, requests whose exchanges are kept for the OpenAPI check,
# status and error-code checks, and that check itself. Sourced after lib.sh.
mkdir -p "$T_DIR/x"
: >"$T_DIR/exchanges.tsv"
pid=""
SERVE_ARGS="" # options every start_server passes to serve before its own

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_server() { # start_server LOG ARGS…
	log=$1
	shift
	port=$(free_port)
	BASE="http://127.0.0.1:$port"
	# shellcheck disable=SC2086 # SERVE_ARGS is a list of words
	"$HB_BIN" serve --listen "127.0.0.1:$port" $SERVE_ARGS "$@" 2>"$log" &
	pid=$!
	for _ in $(seq 50); do
		curl -s "$BASE/healthz" >/dev/null 2>&1 && return 0
		curl -sk "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "server did not start: $(cat "$log")" >&2
}
stop_server() {
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	pid=""
}

n=0
EXTRA=""
CT="application/json"
# req METHOD PATH [BODY [KEY]]: $CODE, $CTYPE and $OUT; the exchange is kept for the OpenAPI check.
# KEY defaults to $KEY; "-" sends none. $EXTRA adds one curl header; $CT is the body's type.
req() {
	_m=$1 _p=$2 _body=${3-} _key=${4-$KEY}
	n=$((n + 1))
	LAST="$_m $_p"
	set -- -g -s -o "$T_DIR/x/$n.body" -w '%{http_code} %{content_type}' -X "$_m"
	[ "$_key" != "-" ] && set -- "$@" -H "Authorization: Bearer $_key"
	[ -n "$EXTRA" ] && set -- "$@" -H "$EXTRA"
	if [ -n "$_body" ]; then
		if [ "${_body#@}" != "$_body" ]; then
			set -- "$@" -H "Content-Type: $CT" --data-binary "$_body"
		else
			printf '%s' "$_body" >"$T_DIR/x/$n.in"
			set -- "$@" -H "Content-Type: $CT" --data-binary "@$T_DIR/x/$n.in"
		fi
	fi
	r=$(curl "$@" "$BASE$_p")
	CODE=${r%% *}
	CTYPE=${r#* }
	OUT=$(cat "$T_DIR/x/$n.body")
	printf '%s\t%s\t%s\t%s\t%s\n' "$_m" "$_p" "$CODE" "$CTYPE" "$n" >>"$T_DIR/exchanges.tsv"
}
# is STATUS [CODE [FIELD]]: the last answer's status, error code and field
is() {
	[ "$CODE" = "$1" ] || { t_fail "$LAST: status $CODE, expected $1: $OUT"; return; }
	case "$OUT" in *"\"code\":\"${2-}"*) ;; *) [ -z "${2-}" ] || t_fail "$LAST: expected code $2: $OUT" ;; esac
	case "$OUT" in *"\"field\":\"${3-}\""*) ;; *) [ -z "${3-}" ] || t_fail "$LAST: expected field $3: $OUT" ;; esac
}

# check_openapi SCRIPT: every exchange kept so far against docs/openapi.json, for the
# operations marked "x-tested-by": SCRIPT (api: the unmarked ones); the server must be running
check_openapi() {
	"$HB_BIN" serve --print-routes >"$T_DIR/routes.txt"
	python3 - "$T_DIR" <<'PY' >"$T_DIR/exchanges.jsonl"
import json, sys
d = sys.argv[1]
for line in open(d + "/exchanges.tsv"):
    m, p, status, ctype, n = line.rstrip("\n").split("\t")
    body = open(f"{d}/x/{n}.body", encoding="utf-8", errors="replace").read()
    print(json.dumps({"method": m, "path": p, "status": int(status), "type": ctype, "body": body}))
PY
	python3 tests/openapi_check.py docs/openapi.json "$T_DIR/routes.txt" "$T_DIR/exchanges.jsonl" "$1"
}
