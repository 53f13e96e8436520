#!/bin/sh
# Build every libFuzzer target fuzz/fuzz_NAME.c and run each for a short while.
#
#   fuzz/run.sh [SECONDS]     (default 10 seconds per target; `make fuzz FUZZ_SECONDS=N`)
#
# Each target is linked with clang -fsanitize=fuzzer,address,undefined against every
# src/**/*.c except src/main.c (compiled once per run, in parallel, into build/fuzz/obj), into
# build/fuzz/NAME. It runs on the corpus build/fuzz/corpus/NAME (kept between runs) plus the
# seeds in fuzz/seeds/NAME when that folder exists. Crash inputs land in
# build/fuzz/artifacts/NAME/; replay one with `build/fuzz/NAME FILE`.
# Prints one "PASS fuzz:NAME" / "FAIL fuzz:NAME" line per target; exits 1 if any failed,
# 2 when the tools are missing.
set -u
cd "$(dirname "$0")/.."

secs="${1:-10}"
case "$secs" in
'' | *[!0-9]*)
	echo "usage: fuzz/run.sh [SECONDS]" >&2
	exit 2
	;;
esac
CLANG="${CLANG:-clang}"
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "fuzz/run.sh: $CLANG not found (Debian: apt-get install clang)" >&2
	exit 2
fi
PKGS="libcurl sqlite3 libpq jansson libmicrohttpd libcrypto"
if ! pkg_cflags=$(pkg-config --cflags $PKGS) || ! pkg_libs=$(pkg-config --libs $PKGS); then
	echo "fuzz/run.sh: pkg-config cannot find $PKGS (run: make deps)" >&2
	exit 2
fi

out=build/fuzz
version=$(cat VERSION 2>/dev/null || echo 0.0.0)
# Word splitting of these is intended; none of the parts holds a space.
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O1 -g -fno-omit-frame-pointer
 -Isrc -DHB_VERSION=\"$version\" $pkg_cflags"
jobs=$(nproc 2>/dev/null || echo 2)

# The library, once for all targets. Always rebuilt: header changes are not tracked here.
rm -rf "$out/obj"
mkdir -p "$out/obj"
export CLANG cflags san out
if ! find src -name '*.c' ! -path src/main.c | sort | xargs -r -P "$jobs" -n 1 sh -c '
	obj="$out/obj/$(printf "%s" "${1%.c}" | tr / _).o"
	$CLANG $cflags $san -fsanitize=fuzzer-no-link -c "$1" -o "$obj"' sh; then
	echo "FAIL fuzz:build (the library did not compile for fuzzing)"
	exit 1
fi
objs=$(find "$out/obj" -name '*.o' | sort)

failed=0
ran=0
for target in fuzz/fuzz_*.c; do
	[ -f "$target" ] || continue
	name=$(basename "$target" .c)
	name=${name#fuzz_}
	bin="$out/$name"
	ran=$((ran + 1))
	if ! $CLANG $cflags $san -fsanitize=fuzzer "$target" $objs -o "$bin" $pkg_libs -lm \
		>"$out/$name.build.log" 2>&1; then
		echo "FAIL fuzz:$name (did not build; see $out/$name.build.log)"
		sed -n '1,20p' "$out/$name.build.log" >&2
		failed=1
		continue
	fi
	corpus="$out/corpus/$name"
	artifacts="$out/artifacts/$name"
	mkdir -p "$corpus" "$artifacts"
	seeds=""
	[ -d "fuzz/seeds/$name" ] && seeds="fuzz/seeds/$name"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/" "$corpus" $seeds >"$out/$name.log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$name.log" | tail -n 1)
		echo "PASS fuzz:$name (${runs:-?} runs in ${secs}s)"
	else
		echo "FAIL fuzz:$name (see $out/$name.log; inputs in $artifacts/)"
		grep -E 'ERROR|SUMMARY|fuzz_|Test unit written' "$out/$name.log" | sed -n '1,20p' >&2
		failed=1
	fi
done
if [ "$ran" -eq 0 ]; then
	echo "fuzz/run.sh: no fuzz/fuzz_*.c targets" >&2
	exit 1
fi
exit "$failed"
