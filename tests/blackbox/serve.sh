#!/bin/sh
# Black-box test of `hookbridge serve`: starts on a free loopback port, answers /healthz and
# /readyz, refuses other routes with a JSON error, and stops cleanly on SIGTERM.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=serve

hb init --community acme >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$HB_BIN" serve --listen "127.0.0.1:$port" 2>"$T_DIR/serve.log" &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	curl -s "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

t_begin healthz
OUT=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/healthz")
same "$OUT" '{"status":"ok"} 200'
t_end

t_begin readyz
OUT=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/readyz")
same "$OUT" '{"status":"ready","store":"ok","workers":"running"} 200'
t_end

t_begin unknown_route
OUT=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/nope")
contains "$OUT" '"code":"not_found"'
contains "$OUT" ' 404'
t_end

t_begin sigterm_stops
kill -TERM "$pid"
wait "$pid"
same "$?" "0"
contains "$(cat "$T_DIR/serve.log")" "stopped"
t_end

t_begin bad_listen
expect 2 hb serve --listen nowhere
contains "$ERR" "--listen must be"
t_end
