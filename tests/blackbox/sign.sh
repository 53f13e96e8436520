#!/bin/sh
# sign.sh - checks hookbridge's Standard Webhooks signatures (src/deliver/sign.c) against an
# independent implementation: the `standardwebhooks` npm package, installed once into
# $HB_BUILD/node. A tiny C program linked with libhookbridge.a signs; Node verifies, and signs
# the same inputs for comparison. Needs cc, node and npm (a missing one is a FAIL, not a skip).
# Prints "PASS sign:NAME" or "FAIL sign:NAME: why" per case.
set -u
cd "$(dirname "$0")/../.." || exit 1
build="${HB_BUILD:-build}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hb-sign.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

pass() { echo "PASS sign:$1"; }
fail() { echo "FAIL sign:$1: $2"; }

for tool in cc node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		fail setup "$tool is not installed"
		exit 1
	fi
done
if [ ! -f "$build/libhookbridge.a" ]; then
	fail setup "$build/libhookbridge.a is not built (make build)"
	exit 1
fi
nodedir="$PWD/$build/node"
if [ ! -f "$nodedir/node_modules/standardwebhooks/package.json" ]; then
	mkdir -p "$nodedir"
	if ! npm install --prefix "$nodedir" --no-audit --no-fund --silent standardwebhooks@1 \
		>"$tmp/npm.log" 2>&1; then
		fail setup "npm install standardwebhooks failed: $(tail -n 3 "$tmp/npm.log")"
		exit 1
	fi
fi

# signer gen NBYTES            → a new secret
# signer sign SECRET ID TS     → the signature of stdin
cat >"$tmp/signer.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "deliver/sign.h"
int main(int argc, char **argv)
{
	hb_error e;
	if (argc == 3 && strcmp(argv[1], "gen") == 0) {
		char s[HB_SIGN_SECRET_MAX];
		if (hb_sign_secret_generate(strtoul(argv[2], NULL, 10), s, sizeof s, &e) != HB_OK)
			return fprintf(stderr, "%s\n", e.message), 1;
		return puts(s) < 0;
	}
	if (argc != 5 || strcmp(argv[1], "sign") != 0)
		return 2;
	static char body[1 << 20];
	size_t n = fread(body, 1, sizeof body, stdin);
	char sig[HB_SIGN_SIG_MAX];
	if (hb_sign(argv[2], argv[3], strtoll(argv[4], NULL, 10), body, n, sig, sizeof sig, &e) != HB_OK)
		return fprintf(stderr, "%s\n", e.message), 1;
	return puts(sig) < 0;
}
EOF
san=""
case "$build" in *san*) san="-fsanitize=address,undefined" ;; esac # match the library's build
# shellcheck disable=SC2046,SC2086
if ! cc -std=c17 $san -Isrc -o "$tmp/signer" "$tmp/signer.c" "$build/libhookbridge.a" \
	$(pkg-config --libs libcrypto) 2>"$tmp/cc.log"; then
	fail setup "cannot build the signer: $(head -n 3 "$tmp/cc.log")"
	exit 1
fi

# node_check SECRET ID TS SIG BODYFILE → prints "verify=ok|error sign=<node's signature>"
cat >"$tmp/check.js" <<'EOF'
const { Webhook, WebhookVerificationError } = require("standardwebhooks");
const fs = require("fs");
const [secret, id, ts, sig, file] = process.argv.slice(2);
const body = fs.readFileSync(file, "utf8");
const wh = new Webhook(secret);
let verdict = "ok";
try {
  wh.verify(body, { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig });
} catch (err) {
  // verify() also JSON.parses the payload once the signature matched: a form body is fine.
  verdict = err instanceof WebhookVerificationError ? "error" : "ok";
}
console.log(`verify=${verdict} sign=${wh.sign(id, new Date(Number(ts) * 1000), body)}`);
EOF
node_check() { NODE_PATH="$nodedir/node_modules" node "$tmp/check.js" "$@"; }

now=$(date +%s)
printf '{"event":"user.updated","name":"Zoë Ørsted","note":"line1\\nline2 ✓"}' >"$tmp/body1"
printf '' >"$tmp/body2"
printf 'name=Zo%%C3%%AB&street1=1+Main+St&validate=true' >"$tmp/body3"

n=0
for bytes in 24 32 64; do
	secret=$("$tmp/signer" gen "$bytes") || { fail "secret_$bytes" "cannot generate"; continue; }
	for b in 1 2 3; do
		n=$((n + 1))
		id="dlv_01HZX$n"
		sig=$("$tmp/signer" sign "$secret" "$id" "$now" <"$tmp/body$b")
		out=$(node_check "$secret" "$id" "$now" "$sig" "$tmp/body$b" 2>&1)
		if [ "$out" = "verify=ok sign=$sig" ]; then
			pass "node_verifies_${bytes}_byte_key_body$b"
		else
			fail "node_verifies_${bytes}_byte_key_body$b" "C signed $sig, node said: $out"
		fi
	done
done

# A signature must not verify for another body, id or time.
secret=$("$tmp/signer" gen 32)
sig=$("$tmp/signer" sign "$secret" dlv_1 "$now" <"$tmp/body1")
out=$(node_check "$secret" dlv_1 "$now" "$sig" "$tmp/body3" 2>&1)
case "$out" in
"verify=error sign="*) pass node_rejects_other_body ;;
*) fail node_rejects_other_body "node said: $out" ;;
esac
out=$(node_check "$secret" dlv_2 "$now" "$sig" "$tmp/body1" 2>&1)
case "$out" in
"verify=error sign="*) pass node_rejects_other_id ;;
*) fail node_rejects_other_id "node said: $out" ;;
esac
out=$(node_check "$secret" dlv_1 "$((now + 1))" "$sig" "$tmp/body1" 2>&1)
case "$out" in
"verify=error sign="*) pass node_rejects_other_time ;;
*) fail node_rejects_other_time "node said: $out" ;;
esac
