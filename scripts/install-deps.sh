#!/bin/sh
# Install the Debian 12 packages hookbridge needs to build, test and benchmark, when missing.
# Runs apt-get only when something is missing; needs root for that.
set -eu
need="build-essential pkg-config libcurl4-openssl-dev libsqlite3-dev libpq-dev libjansson-dev
libmicrohttpd-dev libssl-dev sqlite3 curl python3 clang libclang-rt-14-dev"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# the signature test verifies with Node's standardwebhooks package; any Node.js will do
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "hookbridge: missing Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "hookbridge: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
