#!/bin/sh
# Benchmark "deliver": a macro over USERS users (default 100,000) that POSTs a JSON body with 6
# tags and captures two fields (`id`, `ok`) of each answer into an External Data group, against
# nginx on loopback answering {"id":"ABC-1","ok":true}. Beside it, in the same rounds and with
# the same concurrency and CPU pinning (nginx on core 0, every client on core 1):
#   (a) bench/deliver_client.c, a minimal libcurl-multi client with no store (the libcurl ceiling),
#   (b) wrk with bench/deliver-wrk.lua (the loopback ceiling),
#   (c) Node-RED 4's http request node (bench/deliver-flow.json), over NR_REQUESTS requests.
# hookbridge's delivery phase (`worker --until-idle` over a run created beforehand) is timed apart
# from the run's creation, and the whole `macro run --all --wait` is timed too. Every run is
# checked afterwards: deliveries succeeded and values captured (sqlite3), and nginx's stub_status
# request count. Peak memory (/usr/bin/time -v) of `macro run --all --wait` for USERS and for
# BIG_USERS (default 1,000,000) users.
# Targets: hookbridge at least 50 % of (a) and at least 15x (c); peak memory of the 1,000,000-user
# run under 128 MiB and flat in the record count. Rewrites only the "deliver" section of
# BENCHMARKS.md.
#   sh bench/deliver.sh   (USERS, BIG_USERS, CONCURRENCY, ROUNDS, NR_REQUESTS, NR_WARM,
#                          WRK_SECONDS, BIG_LIMIT, NODE_RED_DIR, BENCH_FILE to change the defaults)
set -eu
cd "$(dirname "$0")/.."
USERS=${USERS:-100000}
BIG_USERS=${BIG_USERS:-1000000}
CONC=${CONCURRENCY:-16}
ROUNDS=${ROUNDS:-3}
NR_REQUESTS=${NR_REQUESTS:-10000}
NR_WARM=${NR_WARM:-1000}
WRK_SECONDS=${WRK_SECONDS:-3}
BIG_LIMIT=${BIG_LIMIT:-900} # seconds the memory run may take before it is stopped
BENCH_FILE=${BENCH_FILE:-BENCHMARKS.md}
NODE_RED_DIR=${NODE_RED_DIR:-$PWD/build/bench/node-red}
REPO=$PWD
BIN=$REPO/build/hookbridge
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
command -v nginx >/dev/null || apt-get install -y -qq nginx >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null

make --no-print-directory build >/dev/null
mkdir -p build/bench
${CC:-cc} -O2 -g -std=c17 -D_POSIX_C_SOURCE=200809L -Wall -Wextra bench/deliver_client.c -o build/bench/deliver_client -lcurl
CLIENT=$REPO/build/bench/deliver_client

# Node-RED 4 (5.x needs a newer Node.js than 20), installed once into NODE_RED_DIR
NR_JS=$NODE_RED_DIR/node_modules/node-red/red.js
if [ ! -f "$NR_JS" ]; then
	echo "deliver.sh: installing node-red@4 into $NODE_RED_DIR" >&2
	mkdir -p "$NODE_RED_DIR"
	[ -f "$NODE_RED_DIR/package.json" ] || echo '{"private":true}' >"$NODE_RED_DIR/package.json"
	(cd "$NODE_RED_DIR" && npm install --no-audit --no-fund --loglevel=error node-red@4 >&2) ||
		echo "deliver.sh: node-red could not be installed; (c) is left out" >&2
fi
NR_VERSION=$(node -p "require('$NODE_RED_DIR/node_modules/node-red/package.json').version" 2>/dev/null || echo none)

W=$(mktemp -d /tmp/hb-bench-deliver-XXXXXX)
ng_pid="" nr_pid=""
cleanup() {
	[ -z "$nr_pid" ] || kill "$nr_pid" 2>/dev/null || true
	[ -z "$ng_pid" ] || kill "$ng_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
RES=$W/results # one line per measurement: NAME ROUND key=value …
: >"$RES"

# nginx on core 0: one worker, no access log, long keep-alive, the fixed answer and stub_status
NG_PORT=$(free_port)
mkdir -p "$W/tmp"
cat >"$W/nginx.conf" <<NGINX
worker_processes 1;
worker_cpu_affinity 01;
daemon off;
error_log $W/nginx-error.log;
pid $W/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 10000000;
	client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
	uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
	server {
		listen 127.0.0.1:$NG_PORT;
		location = /in { default_type application/json; return 200 '{"id":"ABC-1","ok":true}'; }
		location = /status { stub_status; }
	}
}
NGINX
taskset -c 0 nginx -p "$W" -c "$W/nginx.conf" &
ng_pid=$!
URL=http://127.0.0.1:$NG_PORT/in
for _ in $(seq 50); do curl -s "http://127.0.0.1:$NG_PORT/status" >/dev/null && break; sleep 0.1; done
[ "$(curl -s -X POST -d '{}' "$URL")" = '{"id":"ABC-1","ok":true}' ] || { echo "deliver.sh: nginx does not answer" >&2; exit 1; }
# stub ACCEPTS REQUESTS of nginx now; each reading counts itself once in both
stub() { curl -s "http://127.0.0.1:$NG_PORT/status" | awk 'NR == 3 { print $1, $3 }'; }
# measured NAME ROUND BEFORE-STUB → "nginx_requests=N nginx_connections=N" of what came in between
measured() {
	set -- $(stub) $1
	echo "nginx_requests=$(($2 - $4 - 1)) nginx_connections=$(($1 - $3 - 1))"
}

# users CSV (the same generated users as the import benchmark, without quoting) and a database
# with the External Data group and the macro; each hookbridge measurement starts from a copy
gen() { # gen N FILE
	python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("email,first_name,last_name,company,city,country\n")
    for i in range(n):
        f.write(f"user{i}@example.com,First{i},Last{i},Company {i % 977},City {i % 313},US\n")
PY
}
cat >"$W/macro.json" <<JSON
{"key": "push", "name": "Push", "on": "users", "actions": [{"type": "webhook", "method": "POST",
 "url": "$URL", "content_type": "json",
 "body": "{\"email\":\"{{user.email}}\",\"first_name\":\"{{user.first_name}}\",\"last_name\":\"{{user.last_name}}\",\"company\":\"{{user.company}}\",\"city\":\"{{user.city}}\",\"country\":\"{{user.country}}\"}",
 "capture": {"group": "ext"}}]}
JSON
setup_db() { # setup_db N DB
	gen "$1" "$W/users.csv"
	HOOKBRIDGE_DB=$2 "$BIN" init --community bench >/dev/null
	HOOKBRIDGE_DB=$2 "$BIN" user import "$W/users.csv" >/dev/null
	HOOKBRIDGE_DB=$2 "$BIN" xdata group create ext --on users --name Ext >/dev/null
	HOOKBRIDGE_DB=$2 "$BIN" xdata field create ext id --label Id --param id --type string >/dev/null
	HOOKBRIDGE_DB=$2 "$BIN" xdata field create ext ok --label OK --param ok --type boolean >/dev/null
	HOOKBRIDGE_DB=$2 "$BIN" macro create --file "$W/macro.json" >/dev/null
	sqlite3 "$2" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
	rm -f "$W/users.csv"
}
fresh() { rm -f "$W/run.db" "$W/run.db-wal" "$W/run.db-shm"; cp "$1" "$W/run.db"; }
# verify DB N → "succeeded=N captured_id=N captured_ok=N"; fails the benchmark on a miss
verify() {
	set -- "$(sqlite3 "$1" "SELECT (SELECT count(*) FROM deliveries WHERE status = 'succeeded'),
		(SELECT count(*) FROM user_xvalues x JOIN xdata_fields f ON f.id = x.field_id
		  WHERE f.key = 'id' AND x.v_text = 'ABC-1'),
		(SELECT count(*) FROM user_xvalues x JOIN xdata_fields f ON f.id = x.field_id
		  WHERE f.key = 'ok' AND x.v_int = 1);" | tr '|' ' ')" "$2"
	set -- $1 $2
	echo "succeeded=$1 captured_id=$2 captured_ok=$3"
	[ "$1" = "$4" ] && [ "$2" = "$4" ] && [ "$3" = "$4" ] ||
		{ echo "deliver.sh: expected $4 succeeded deliveries and captured values, got $*" >&2; exit 1; }
}
peak_kib() { awk -F: '/Maximum resident/ { gsub(/ /, "", $2); print $2 }' "$1"; }
ENGINE="--allow-target 127.0.0.1/32 --concurrency $CONC --per-host $CONC"

echo "deliver.sh: preparing $USERS users" >&2
setup_db "$USERS" "$W/base.db"

hb_worker() { # round: create the run, then time the worker that sends it
	fresh "$W/base.db"
	t0=$(now)
	HOOKBRIDGE_DB=$W/run.db taskset -c 1 "$BIN" macro run push --all >/dev/null
	t1=$(now)
	s=$(stub)
	HOOKBRIDGE_DB=$W/run.db /usr/bin/time -v -o "$W/time.txt" taskset -c 1 "$BIN" worker --until-idle $ENGINE >/dev/null
	t2=$(now)
	m=$(measured "$s")
	v=$(verify "$W/run.db" "$USERS")
	echo "worker $1 create_s=$(sub "$t1" "$t0") send_s=$(sub "$t2" "$t1") peak_kib=$(peak_kib "$W/time.txt") $m $v" >>"$RES"
}
hb_wait() { # round: the whole `macro run --all --wait`
	fresh "$W/base.db"
	s=$(stub)
	t0=$(now)
	HOOKBRIDGE_DB=$W/run.db /usr/bin/time -v -o "$W/time.txt" taskset -c 1 "$BIN" macro run push --all --wait $ENGINE >/dev/null
	t1=$(now)
	m=$(measured "$s")
	v=$(verify "$W/run.db" "$USERS")
	echo "wait $1 total_s=$(sub "$t1" "$t0") peak_kib=$(peak_kib "$W/time.txt") $m $v" >>"$RES"
}
client() {
	s=$(stub)
	out=$(taskset -c 1 "$CLIENT" "$URL" "$USERS" "$CONC" || true)
	set -- "$1" $(echo "$out" | tr ' ' '\n' | awk -F= '$1 == "ok" || $1 == "seconds" { print $2 }')
	[ "$2" = "$USERS" ] || { echo "deliver.sh: the libcurl client got $out" >&2; exit 1; }
	echo "client $1 send_s=$3 ok=$2 $(measured "$s")" >>"$RES"
}
wrk_run() { # wrk runs for a fixed time, not a fixed count (see bench/deliver-wrk.lua)
	s=$(stub)
	taskset -c 1 wrk -t1 -c"$CONC" -d"${WRK_SECONDS}s" -s bench/deliver-wrk.lua "$URL" >"$W/wrk.txt"
	set -- "$1" $(awk -F'[ =]' '/^answers=/ { print $2, $4 }' "$W/wrk.txt")
	rate=$(awk '/^Requests\/sec/ { print $2 }' "$W/wrk.txt")
	[ "${2:-0}" -gt 0 ] && [ "$2" = "$3" ] && ! grep -q Non-2xx "$W/wrk.txt" || { echo "deliver.sh: wrk got" >&2; cat "$W/wrk.txt" >&2; exit 1; }
	echo "wrk $1 rate=$rate answers=$2 ok=$3 $(measured "$s")" >>"$RES"
}
node_red() {
	[ "$NR_VERSION" != none ] || return 0
	rm -rf "$W/nr" && mkdir -p "$W/nr"
	cp bench/deliver-flow.json "$W/nr/flows.json"
	s=$(stub)
	NR_PORT=$(free_port) NR_URL=$URL NR_CONC=$CONC NR_REQUESTS=$NR_REQUESTS NR_WARM=$NR_WARM NR_OUT=$W/nr/result.json \
		taskset -c 1 node "$NR_JS" --settings "$REPO/bench/deliver-settings.js" --userDir "$W/nr" flows.json \
		>"$W/nr/log" 2>&1 &
	nr_pid=$!
	waited=0
	while [ ! -s "$W/nr/result.json" ] && [ $waited -lt 600 ] && kill -0 "$nr_pid" 2>/dev/null; do sleep 1; waited=$((waited + 1)); done
	kill "$nr_pid" 2>/dev/null || true
	wait "$nr_pid" 2>/dev/null || true
	nr_pid=""
	[ -s "$W/nr/result.json" ] || { echo "deliver.sh: Node-RED gave no result" >&2; cat "$W/nr/log" >&2; echo "nodered $1 failed=1" >>"$RES"; return 0; }
	python3 - "$W/nr/result.json" "$1" "$NR_REQUESTS" "$NR_WARM" "$(measured "$s")" >>"$RES" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, warm = int(sys.argv[3]), int(sys.argv[4])
if r["ok"] != n + warm:
    sys.exit(f"deliver.sh: Node-RED got {r}")
print(f"nodered {sys.argv[2]} send_s={r['ms'] / 1000:.3f} ok={r['ok']} {sys.argv[5]}")
PY
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Rounds, alternating the clients because this machine's speed drifts over minutes
for r in $(seq "$ROUNDS"); do
	echo "deliver.sh: round $r of $ROUNDS" >&2
	hb_worker "$r"
	client "$r"
	wrk_run "$r"
	node_red "$r"
	hb_wait "$r"
done

# Peak memory of the whole run for BIG_USERS users (done once: a few minutes)
echo "deliver.sh: preparing $BIG_USERS users for the memory run" >&2
rm -f "$W/base.db"*
setup_db "$BIG_USERS" "$W/big.db"
s=$(stub)
t0=$(now)
big_rc=0
HOOKBRIDGE_DB=$W/big.db /usr/bin/time -v -o "$W/time.txt" timeout -k 30 "$BIG_LIMIT" \
	taskset -c 1 "$BIN" macro run push --all --wait $ENGINE >/dev/null || big_rc=$?
t1=$(now)
m=$(measured "$s")
if [ "$big_rc" = 0 ]; then
	v=$(verify "$W/big.db" "$BIG_USERS")
	echo "big 1 finished=1 total_s=$(sub "$t1" "$t0") peak_kib=$(peak_kib "$W/time.txt") $m $v" >>"$RES"
else # stopped at the time limit: what was sent by then, and that it was all captured
	set -- $(sqlite3 "$W/big.db" "SELECT (SELECT count(*) FROM deliveries),
		(SELECT count(*) FROM deliveries WHERE status = 'succeeded'),
		(SELECT count(*) FROM deliveries WHERE status NOT IN ('succeeded', 'pending', 'sending')),
		(SELECT count(*) FROM user_xvalues x JOIN xdata_fields f ON f.id = x.field_id
		  WHERE f.key = 'id' AND x.v_text = 'ABC-1');" | tr '|' ' ')
	echo "big 1 finished=0 exit=$big_rc total_s=$(sub "$t1" "$t0") peak_kib=$(peak_kib "$W/time.txt") $m created=$1 succeeded=$2 bad=$3 captured_id=$4" >>"$RES"
fi
cat "$RES" >&2
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
export ROUNDS BIG_LIMIT

python3 - "$RES" "$BENCH_FILE" "$USERS" "$BIG_USERS" "$CONC" "$NR_REQUESTS" "$NR_WARM" "$NR_VERSION" \
	"$(wrk -v 2>&1 | head -1 | awk '{ print $2 }')" "$(curl-config --version 2>/dev/null | awk '{ print $2 }')" \
	"$WRK_SECONDS" "$LOAD_BEFORE" "$LOAD_AFTER" <<'PY'
import sys, re, os, datetime, statistics, subprocess
res, path, users, big, conc, nr_n, nr_warm, nr_version, wrk_version, curl_version, wrk_s, load0, load1 = sys.argv[1:14]
users, big, conc, nr_n, nr_warm = int(users), int(big), int(conc), int(nr_n), int(nr_warm)
rows = {}
for line in open(res):
    name, rnd, *kv = line.split()
    rows.setdefault(name, {})[int(rnd)] = {k: float(v) for k, v in (x.split("=") for x in kv)}
rounds = sorted(rows["worker"])
med = statistics.median

def rate(name, r):
    x = rows.get(name, {}).get(r)
    if x is None or x.get("failed"):
        return None
    if name == "wrk":
        return x["rate"]
    n = nr_n if name == "nodered" else users
    return n / (x["total_s"] if name == "wait" else x["send_s"])

def fmt(v, spec=",.0f"):
    return "–" if v is None else format(v, spec)

table = []
for r in rounds:
    w, c, k, n, e = (rate(x, r) for x in ("worker", "client", "wrk", "nodered", "wait"))
    table.append(f"| {r} | {fmt(rows['worker'][r]['create_s'], '.2f')} | **{fmt(w)}** | {fmt(e)} | {fmt(c)} | {fmt(k)} | {fmt(n)} "
                 f"| {fmt(w / c if w and c else None, '.1%')} | {fmt(w / n if w and n else None, '.2f')}x |")
def mrate(name):
    v = [x for x in (rate(name, r) for r in rounds) if x]
    return med(v) if v else None
hb, hb_e2e, cl, wk, nr = (mrate(x) for x in ("worker", "wait", "client", "wrk", "nodered"))
vs_c = med([rate("worker", r) / rate("client", r) for r in rounds])
vs_c_e2e = med([rate("wait", r) / rate("client", r) for r in rounds])
nr_ratios = [rate("worker", r) / rate("nodered", r) for r in rounds if rate("nodered", r)]
vs_nr = med(nr_ratios) if nr_ratios else None
create = med([rows["worker"][r]["create_s"] for r in rounds])
mem_small = max(rows["wait"][r]["peak_kib"] for r in rounds)
mem_worker = max(rows["worker"][r]["peak_kib"] for r in rounds)
b = rows["big"][1]
mem_big = b["peak_kib"]
conns = {name: sorted({int(x["nginx_connections"]) for x in rows[name].values() if "nginx_connections" in x}) for name in rows}
def expected(name, x):
    if name == "big":
        return big if x["finished"] else x["succeeded"]
    return nr_n + nr_warm if name == "nodered" else users
reqs_ok = all(int(x["nginx_requests"]) == expected(name, x)
              for name in rows if name != "wrk" for x in rows[name].values() if not x.get("failed"))
met_c = vs_c >= 0.5
met_nr = vs_nr is not None and vs_nr >= 15
met_m = mem_big < 128 * 1024 and mem_big <= mem_small * 1.5
if b["finished"]:
    big_note = (f"(that run took {b['total_s']:.0f} s, {big / b['total_s']:,.0f} deliveries/s, all succeeded and "
                f"captured)")
else:
    big_note = (f"— **that run did not finish**: it was stopped after {b['total_s']:.0f} s (the time limit) with all "
                f"{int(b['created']):,} deliveries created and {int(b['succeeded']):,} sent, succeeded and captured "
                f"({int(b['captured_id']):,} values; {int(b['bad'])} failed), so the peak covers the whole creation but "
                f"only that part of the sending")
yes = lambda ok: "met" if ok else "**not met**"
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True, capture_output=True, text=True).stdout.strip()
nr_note = (f"(c) Node-RED {nr_version} (Node.js {subprocess.run(['node', '-v'], capture_output=True, text=True).stdout.strip()}), "
           f"headless, a flow where a function node keeps {conc} messages in flight into an http request node "
           f"(POST, keep-alive on, answer parsed as JSON) whose answers come back to it, read `id` and `ok` and send "
           f"the next; {nr_warm:,} requests to warm up, then {nr_n:,} timed in the flow (`Date.now()`)."
           if vs_nr is not None else "(c) Node-RED could not be run: no figure.")
section = f"""<!-- deliver:begin -->
## deliver

A macro over {users:,} imported users with one webhook action: POST of a JSON body with 6 tags
(email, first and last name, company, city, country; about 125 bytes) and capture of two fields
(`id` string, `ok` boolean) of each answer into an External Data group, against nginx on loopback
answering `{{"id":"ABC-1","ok":true}}` (one worker on core 0, access log off). Every client runs on
core 1 (`taskset -c 1`) with {conc} requests in flight over keep-alive connections:
hookbridge's delivery phase is `hookbridge worker --until-idle --concurrency {conc}` over a run
created beforehand by `macro run push --all` (its creation time is the first column), each round
on a fresh copy of the same database; "whole run" is `macro run push --all --wait` from the same
copy, creation included. (a) is a minimal C client on libcurl {curl_version}'s multi interface
(`bench/deliver_client.c`: the same bodies, about the same headers, checks status and both
fields, stores nothing); (b) wrk {wrk_version} (`-t1 -c{conc} -d{wrk_s}s`, `bench/deliver-wrk.lua`, the same
bodies, checks both fields; wrk runs for a fixed time, not a fixed count); {nr_note} {len(rounds)} rounds, each running every client
once in that order; medians. Requests per second:

| round | run creation (s) | hookbridge delivery | hookbridge whole run | (a) libcurl client | (b) wrk | (c) Node-RED | hookbridge / (a) | hookbridge / (c) |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(table)}

Checked after every run: all {users:,} deliveries `succeeded` and both fields captured for every
user (sqlite3 counts), and nginx's stub_status counted exactly the requests sent by each client
(Node-RED: {nr_n + nr_warm:,}) — {"all matched" if reqs_ok else "**a count did not match**"}; connections opened per run:
{", ".join(f"{k} {'/'.join(map(str, v))}" for k, v in conns.items())}.

hookbridge's delivery phase, durable and capturing: **{fmt(hb)}** requests/s (median), whole run
{fmt(hb_e2e)}/s (run creation median {create:.2f} s). Relative to (a) the libcurl ceiling
({fmt(cl)}/s): **{vs_c:.1%}** (median of the per-round ratios; target at least 50 %:
{yes(met_c)}; whole run {vs_c_e2e:.1%}). Relative to (c) Node-RED ({fmt(nr)}/s):
**{fmt(vs_nr, '.2f')}x** (target at least 15x: {yes(met_nr)}). (b) wrk, the loopback ceiling: {fmt(wk)}/s.

Peak memory (maximum resident set): `macro run --all --wait` {mem_small/1024:.1f} MiB for {users:,} users,
**{mem_big/1024:.1f} MiB** for {big:,} users {big_note}; the worker alone {mem_worker/1024:.1f} MiB for {users:,}. Target under 128 MiB and
flat in the record count: {yes(met_m) if b["finished"] else "**not shown** (the run did not complete)"}.

Machine: {os.cpu_count()} cores, {cpu}; load average (1, 5, 15 min) {load0} before the rounds,
{load1} after the memory run; measured {datetime.datetime.utcnow():%Y-%m-%dT%H:%MZ}. Reproduce: `ROUNDS={os.environ.get('ROUNDS', 3)} BIG_LIMIT={os.environ.get('BIG_LIMIT', 900)} sh bench/deliver.sh`.
<!-- deliver:end -->"""
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nFigures written by the scripts in bench/; each rewrites only its own section.\n"
if "<!-- deliver:begin -->" in text:
    text = re.sub(r"<!-- deliver:begin -->.*<!-- deliver:end -->", lambda m: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
print(section)
PY
