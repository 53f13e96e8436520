#!/bin/sh
# receiver.sh - black-box test of the scriptable test receiver (build/test-receiver, or
# $HB_RECEIVER): starts it on a free loopback port, scripts answers through /_control and
# checks with curl that each one behaves and that requests are recorded, then stops it.
# Prints "PASS receiver:NAME" or "FAIL receiver:NAME: why" per case. Talks to 127.0.0.1 only.
set -u
cd "$(dirname "$0")/../.." || exit 1
RECEIVER="${HB_RECEIVER:-build/test-receiver}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hb-receiver.XXXXXX") || exit 1
pid=""

cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

pass() { echo "PASS receiver:$1"; }
fail() { echo "FAIL receiver:$1: $2"; }

# ---- small helpers, local to this script ----
base=""
# set_script JSON: upload a script; fails unless the receiver accepts it.
set_script() {
	curl -s -o "$tmp/script.out" -w '%{http_code}' -X PUT --data-binary "$1" \
		"$base/_control/script" >"$tmp/script.code" 2>/dev/null &&
		[ "$(cat "$tmp/script.code")" = 200 ]
}
# status_of ARGS…: the HTTP status of one request (000 when there was no answer); the
# body goes to $tmp/body, curl's exit status to $tmp/rc.
status_of() {
	curl -s -o "$tmp/body" -w '%{http_code}' "$@" 2>/dev/null >"$tmp/code"
	echo $? >"$tmp/rc"
	cat "$tmp/code"
}
# requests: the recorded requests as JSON (one line).
requests() { curl -s "$base/_control/requests"; }
count() { curl -s "$base/_control/count" | sed -n 's/^{"count":\([0-9]*\)}$/\1/p'; }
clear_requests() { curl -s -o /dev/null -X DELETE "$base/_control/requests"; }
# seconds_at_least T MIN: whether T >= MIN (decimals).
seconds_at_least() { awk -v t="$1" -v m="$2" 'BEGIN { exit !(t + 0 >= m + 0) }'; }

# ---- start ----
if [ ! -x "$RECEIVER" ]; then
	fail start "$RECEIVER is not built (make build)"
	exit 1
fi
"$RECEIVER" --port-file "$tmp/port" --log "$tmp/log" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
port=$(cat "$tmp/port" 2>/dev/null)
if [ -z "$port" ] || [ "$(head -n 1 "$tmp/stdout")" != "$port" ]; then
	fail start "no port in the port file or on stdout: $(cat "$tmp/stderr")"
	exit 1
fi
base="http://127.0.0.1:$port"
pass start

# ---- cases ----
code=$(status_of "$base/anything")
if [ "$code" = 200 ] && [ "$(cat "$tmp/body")" = '{"ok":true}' ]; then
	pass default_answer
else
	fail default_answer "got $code $(cat "$tmp/body")"
fi

if set_script '[{"method":"POST","path":"/slack","responses":[
	{"status":503,"retry_after":7,"json":{"error":"busy"}},
	{"status":200,"json":{"id":"ABC-1"},"headers":{"X-Reply":"yes"}}]}]'; then
	c1=$(status_of -D "$tmp/h1" -d x "$base/slack")
	b1=$(cat "$tmp/body")
	c2=$(status_of -D "$tmp/h2" -d x "$base/slack")
	b2=$(cat "$tmp/body")
	c3=$(status_of -d x "$base/slack")
	c4=$(status_of "$base/slack") # GET: the rule is for POST only
	if [ "$c1" = 503 ] && [ "$b1" = '{"error":"busy"}' ] && grep -qi '^Retry-After: 7' "$tmp/h1" &&
		[ "$c2" = 200 ] && [ "$b2" = '{"id":"ABC-1"}' ] && grep -qi '^X-Reply: yes' "$tmp/h2" &&
		[ "$c3" = 200 ] && [ "$c4" = 200 ] && [ "$(cat "$tmp/body")" = '{"ok":true}' ]; then
		pass 503_then_200
	else
		fail 503_then_200 "statuses $c1 $c2 $c3 $c4, bodies $b1 $b2"
	fi
else
	fail 503_then_200 "script refused: $(cat "$tmp/script.out")"
fi

if set_script '[{"path":"/once*","repeat_last":false,"responses":[{"status":201,"body":"made"}]}]'; then
	c1=$(status_of "$base/once/a")
	b1=$(cat "$tmp/body")
	c2=$(status_of "$base/once/b")
	if [ "$c1" = 201 ] && [ "$b1" = made ] && [ "$c2" = 404 ]; then
		pass no_repeat_last
	else
		fail no_repeat_last "statuses $c1 $c2, body $b1"
	fi
else
	fail no_repeat_last "script refused: $(cat "$tmp/script.out")"
fi

if set_script '[{"path":"/slow","responses":[{"delay_ms":700,"status":202}]}]'; then
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$base/slow")
	if [ "${t% *}" = 202 ] && seconds_at_least "${t#* }" 0.7; then
		pass delay
	else
		fail delay "got $t, wanted 202 after at least 0.7 s"
	fi
else
	fail delay "script refused: $(cat "$tmp/script.out")"
fi

if set_script '[{"path":"/reset","responses":[{"reset":true}]}]'; then
	code=$(status_of -d x "$base/reset")
	rc=$(cat "$tmp/rc")
	# 56: failure receiving data (connection reset); 52: empty reply.
	if [ "$code" = 000 ] && { [ "$rc" = 56 ] || [ "$rc" = 52 ]; }; then
		pass reset
	else
		fail reset "got status $code, curl exit $rc; wanted no answer"
	fi
else
	fail reset "script refused: $(cat "$tmp/script.out")"
fi

if set_script '[{"path":"/huge","responses":[{"size":10485760}]}]'; then
	code=$(status_of "$base/huge")
	size=$(wc -c <"$tmp/body" | tr -d ' ')
	if [ "$code" = 200 ] && [ "$size" = 10485760 ] && [ "$(head -c 5 "$tmp/body")" = xxxxx ]; then
		pass huge_body
	else
		fail huge_body "got $code with $size bytes"
	fi
else
	fail huge_body "script refused: $(cat "$tmp/script.out")"
fi

if set_script '[{"path":"/trickle","responses":[{"trickle_ms":4,"body":"slowly"}]}]'; then
	t=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' "$base/trickle")
	# About 100 bytes of answer at 4 ms each.
	if [ "${t% *}" = 200 ] && [ "$(cat "$tmp/body")" = slowly ] && seconds_at_least "${t#* }" 0.3; then
		pass trickle
	else
		fail trickle "got $t, body $(cat "$tmp/body")"
	fi
else
	fail trickle "script refused: $(cat "$tmp/script.out")"
fi

if set_script '[{"path":"/form","responses":[{"form":{"key":"ABC 1","ok":true}}]}]'; then
	code=$(status_of -D "$tmp/h" "$base/form")
	if [ "$code" = 200 ] && [ "$(cat "$tmp/body")" = 'key=ABC+1&ok=true' ] &&
		grep -qi '^Content-Type: application/x-www-form-urlencoded' "$tmp/h"; then
		pass form_answer
	else
		fail form_answer "got $code $(cat "$tmp/body")"
	fi
else
	fail form_answer "script refused: $(cat "$tmp/script.out")"
fi

code=$(status_of -X PUT --data-binary '[{"path":"/x","responses":[{"sttus":500}]}]' \
	"$base/_control/script")
if [ "$code" = 400 ] &&
	[ "$(cat "$tmp/body")" = '{"error":"rule 1, response 1: unknown key '"'sttus'"'"}' ]; then
	pass bad_script_refused
else
	fail bad_script_refused "got $code $(cat "$tmp/body")"
fi

clear_requests
curl -s -o /dev/null -X DELETE "$base/_control/script"
curl -s -o /dev/null -H 'X-Test: one' -H 'X-Test: two' -H 'Content-Type: application/json' \
	--data-binary '{"user":"zoe@example.com"}' "$base/record/me?a=1&b=2"
printf 'line1\nline2' | curl -s -o /dev/null -H 'Transfer-Encoding: chunked' \
	--data-binary @- "$base/chunked"
printf '\377\376' | curl -s -o /dev/null --data-binary @- "$base/binary"
r=$(requests)
n=$(count)
case "$r" in
*'"method":"POST","path":"/record/me","query":"a=1&b=2"'*'"x-test":"one, two"'*'"body":"{\"user\":\"zoe@example.com\"}"'*'"path":"/chunked"'*'"body":"line1\nline2"'*'"path":"/binary"'*'"body_b64":"//4="'*)
	if [ "$n" = 3 ]; then
		pass records_requests
	else
		fail records_requests "count is $n, wanted 3"
	fi
	;;
*) fail records_requests "recorded: $r" ;;
esac

clear_requests
if [ "$(count)" = 0 ] && [ "$(requests)" = '[]' ]; then
	pass clear_requests
else
	fail clear_requests "count $(count) after DELETE"
fi

# Two requests in one curl run share a kept-alive connection.
curl -s -o /dev/null -o /dev/null "$base/ka/1" "$base/ka/2"
conns=$(requests | grep -o '"conn":[0-9]*' | sort -u | wc -l | tr -d ' ')
if [ "$(count)" = 2 ] && [ "$conns" = 1 ]; then
	pass keep_alive
else
	fail keep_alive "$(count) requests on $conns connections: $(requests)"
fi

head -c 9437184 /dev/zero >"$tmp/9mib"
code=$(status_of --data-binary @"$tmp/9mib" "$base/too-big")
if [ "$code" = 413 ]; then
	pass body_cap
else
	fail body_cap "a 9 MiB body got $code, wanted 413"
fi

# 40 requests at once, each held for 400 ms: served together, not one after another.
if set_script '[{"path":"/wait","responses":[{"delay_ms":400}]}]'; then
	clear_requests
	urls=""
	i=0
	while [ $i -lt 40 ]; do
		urls="$urls $base/wait"
		i=$((i + 1))
	done
	start=$(date +%s%N)
	# shellcheck disable=SC2086
	ok=$(curl -s -Z --parallel-max 40 -o /dev/null -w '%{http_code}\n' $urls 2>/dev/null | grep -c '^200$')
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ "$ok" = 40 ] && [ "$ms" -lt 3000 ]; then
		pass concurrent
	else
		fail concurrent "$ok of 40 answered in $ms ms"
	fi
else
	fail concurrent "script refused: $(cat "$tmp/script.out")"
fi

lines=$(wc -l <"$tmp/log" | tr -d ' ')
# Every request above but the control calls and the refused 9 MiB one: 57.
if [ "$lines" = 57 ] && grep -q '"path":"/record/me"' "$tmp/log"; then
	pass log_file
else
	fail log_file "$lines lines in the log, wanted 57"
fi

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
	fail sigterm "still running 3 s after SIGTERM"
else
	wait "$pid"
	rc=$?
	pid=""
	if [ "$rc" = 0 ]; then
		pass sigterm
	else
		fail sigterm "exit status $rc"
	fi
fi
