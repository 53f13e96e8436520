#!/bin/sh
# Start hookbridge on the embedded default store (./hookbridge.db, or $HOOKBRIDGE_DB),
# creating the database and a community on first use.
set -eu
bin=$1
db=${HOOKBRIDGE_DB:-./hookbridge.db}
if [ ! -f "$db" ]; then
	"$bin" --db "$db" init --community demo --name "Demo community"
fi
exec "$bin" --db "$db" serve ${HOOKBRIDGE_LISTEN:+--listen "$HOOKBRIDGE_LISTEN"}
