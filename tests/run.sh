#!/bin/sh
# Run every test: the unit tests, then each black-box script under tests/blackbox/.
# Prints one PASS/FAIL line per test and closes with "N passed, N failed".
#   tests/run.sh            everything
#   tests/run.sh NAME       unit tests whose name contains NAME, or the black-box script NAME(.sh)
set -u
cd "$(dirname "$0")/.."
export HB_BUILD="${HB_BUILD:-build}"
export HB_BIN="$PWD/$HB_BUILD/hookbridge"
export HB_RECEIVER="$PWD/$HB_BUILD/test-receiver"
only="${1:-}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_unit() {
	"$HB_BUILD/unit-tests" $only | grep -v '^[0-9]* passed, [0-9]* failed$' | tee -a "$log"
}
run_script() {
	sh "$1" 2>&1 | tee -a "$log"
}

if [ -n "$only" ] && [ -f "tests/blackbox/${only%.sh}.sh" ]; then
	run_script "tests/blackbox/${only%.sh}.sh"
else
	run_unit
	if [ -z "$only" ]; then
		for s in tests/blackbox/*.sh; do
			case "$s" in */lib.sh | */*_lib.sh) continue ;; esac # sourced by the scripts
			run_script "$s"
		done
	fi
fi
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
