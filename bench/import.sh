#!/bin/sh
# Benchmark: `hookbridge user import` of a generated CSV of ROWS users (default 1,000,000),
# beside the sqlite3 shell's own `.import` of the same file into a plain table, in the same run
# (hyperfine, alternating), plus peak memory of each (/usr/bin/time -v), and peak memory at a
# tenth of the rows to show it does not grow with the file. Target: at most 3x the shell's time,
# peak memory under 64 MiB and independent of the row count. Writes the "import" section of
# BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
BIN=$PWD/build/hookbridge
W=$(mktemp -d /tmp/hb-bench-import-XXXXXX)
trap 'rm -rf "$W"' EXIT
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

gen() { # gen N FILE
	python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("email,first_name,last_name,company,city,country\n")
    for i in range(n):
        f.write(f"user{i}@example.com,First{i},Last \"{i}\",\"Company {i % 977}, Inc\",City {i % 313},US\n".replace('"'+str(i)+'"', str(i)))
PY
}
gen "$ROWS" "$W/users.csv"
gen $((ROWS / 10)) "$W/small.csv"

prep_hb='rm -f '"$W"'/hb.db*; '"$BIN"' --db '"$W"'/hb.db init >/dev/null'
prep_sq='rm -f '"$W"'/sq.db*; sqlite3 '"$W"'/sq.db "CREATE TABLE users (email TEXT, first_name TEXT, last_name TEXT, company TEXT, city TEXT, country TEXT)"'
# This machine's speed drifts: alternate the two commands (A B A B …) over ROUNDS rounds.
ROUNDS=${ROUNDS:-7}
for r in $(seq "$ROUNDS"); do
	hyperfine -N --runs 1 --export-json "$W/h$r.json" \
		--prepare "sh -c '$prep_hb'" -n hookbridge "$BIN --db $W/hb.db user import $W/users.csv" \
		--prepare "sh -c '$prep_sq'" -n sqlite3 "sqlite3 $W/sq.db '.import --csv --skip 1 $W/users.csv users'" >"$W/h.txt"
done

peak() { # peak CMD… → max RSS in KiB
	/usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}'
}
sh -c "$prep_hb"
mem_big=$(peak "$BIN" --db "$W/hb.db" user import "$W/users.csv")
sh -c "$prep_hb"
mem_small=$(peak "$BIN" --db "$W/hb.db" user import "$W/small.csv")
sh -c "$prep_sq"
mem_sq=$(peak sqlite3 "$W/sq.db" ".import --csv --skip 1 $W/users.csv users")

python3 - "$W" "$ROWS" "$mem_big" "$mem_small" "$mem_sq" <<'PY'
import json, sys, re, datetime, os, subprocess, glob, statistics
times = {"hookbridge": [], "sqlite3": [], "ratio": []}
for path in sorted(glob.glob(sys.argv[1] + "/h[0-9]*.json")):
    r = {x["command"]: x["times"][0] for x in json.load(open(path))["results"]}
    times["hookbridge"].append(r["hookbridge"]); times["sqlite3"].append(r["sqlite3"])
    times["ratio"].append(r["hookbridge"] / r["sqlite3"])
rows, mem_big, mem_small, mem_sq = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
hb, sq = statistics.median(times["hookbridge"]), statistics.median(times["sqlite3"])
ratio = statistics.median(times["ratio"])
rounds = len(times["ratio"])
each = ", ".join(f"{x:.2f}" for x in times["ratio"])
table = "\n".join(f"| {i+1} | {a:.2f} | {b:.2f} | {a/b:.2f} |" for i, (a, b) in enumerate(zip(times["hookbridge"], times["sqlite3"])))
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True, capture_output=True, text=True).stdout.strip()
met_t = ratio <= 3
met_m = mem_big < 64 * 1024 and mem_big < mem_small * 1.5
section = f"""<!-- import:begin -->
## import

`hookbridge user import` of a generated CSV of {rows:,} users (6 columns, some quoted with
commas), one transaction, validation of every row, into the full schema (unique email index),
beside the sqlite3 shell's `.import` of the same file into a plain table without indexes.
hyperfine, one run of each per round, alternating, {rounds} rounds; medians.

| round | hookbridge user import (s) | sqlite3 `.import` (s) | ratio |
|---|---|---|---|
{table}

Rows per second (medians): hookbridge {rows/hb:,.0f}, sqlite3 {rows/sq:,.0f}. Peak memory: hookbridge
{mem_big/1024:.1f} MiB, sqlite3 {mem_sq/1024:.1f} MiB.

Time relative to sqlite3, median of the per-round ratios: **{ratio:.2f}x** (rounds: {each}; target
at most 3x: {'met' if met_t else '**not met**'}).
Peak memory: {mem_big/1024:.1f} MiB for {rows:,} rows, {mem_small/1024:.1f} MiB for {rows//10:,} rows
(target under 64 MiB and flat in the row count: {'met' if met_m else '**not met**'}).

Machine: {os.cpu_count()} cores, {cpu}; measured {datetime.datetime.utcnow():%Y-%m-%dT%H:%MZ}. Reproduce: `sh bench/import.sh`.
<!-- import:end -->"""
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nFigures written by the scripts in bench/; each rewrites only its own section.\n"
if "<!-- import:begin -->" in text:
    text = re.sub(r"<!-- import:begin -->.*<!-- import:end -->", lambda m: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
print(section)
PY
