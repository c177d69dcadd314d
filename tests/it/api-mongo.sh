#!/bin/bash
# api-mongo.sh: the HTTP contract suite (api.sh) with the documents in
# MongoDB (the jongodb test server from tests/node_modules) instead of
# SQLite.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_srcdir
. "$top_srcdir/tests/it/mongo-lib.sh"
if [ ! -x "$JONGODB_BIN" ]; then
	echo "1..0 # SKIP $JONGODB_BIN missing (npm ci in tests/)"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-api-mongo.XXXXXX")
trap 'mongo_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
if ! mongo_start "$tmp"; then
	echo "Bail out! the MongoDB test server did not start"
	exit 1
fi
"$top_srcdir/tests/it/api.sh"
