#!/bin/bash
# End-to-end tests of the web page (www/) in headless Chromium, against the
# stack at BOARD_URL, or, when it is unset, a private stack this script
# starts (Redis, the built responders, lighttpd on loopback). Prints TAP.
#
# BOARD_URL          a running stack, e.g. http://127.0.0.1:8080/
# BOARD_SCREENSHOTS  where screenshots of the main views go
#                    (default tests/e2e/screenshots under the current directory)
# BOARD_NODE_MODULES where playwright-core is installed (default tests/node_modules
#                    of the source tree)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
top_srcdir=${top_srcdir:-$top}
top_builddir=${top_builddir:-$top_srcdir}
BOARD_NODE_MODULES=${BOARD_NODE_MODULES:-$top/tests/node_modules}
BOARD_SCREENSHOTS=${BOARD_SCREENSHOTS:-$PWD/tests/e2e/screenshots}
BOARD_CHROMIUM=${BOARD_CHROMIUM:-/usr/bin/chromium}
export BOARD_URL BOARD_NODE_MODULES BOARD_SCREENSHOTS BOARD_CHROMIUM

# A missing tool is a failure, not a skip.
if ! command -v node >/dev/null 2>&1; then
	echo 'Bail out! node is not installed'
	exit 1
fi
if [ ! -d "$BOARD_NODE_MODULES/playwright-core" ]; then
	echo "Bail out! playwright-core is not in $BOARD_NODE_MODULES (run npm ci in tests/)"
	exit 1
fi
if [ ! -x "$BOARD_CHROMIUM" ]; then
	echo "Bail out! no browser at $BOARD_CHROMIUM (apt-get install chromium)"
	exit 1
fi

if [ -z "${BOARD_URL:-}" ]; then
	. "$top_srcdir/script/stack.sh"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-browser.XXXXXX")
	trap 'stack_stop; rm -rf "$tmp"' EXIT
	trap 'exit 1' INT TERM HUP
	export BOARD_CONFIG=$top_srcdir/etc/board.conf BOARD_DB=$tmp/board.db
	export SESSION_SECRET_FILE=$tmp/secret
	export BOARD_PWHASH_OPSLIMIT=1 BOARD_PWHASH_MEMLIMIT_KIB=8
	unset MONGODB_URI
	port=$(stack_free_port)
	if ! { stack_start_redis "$tmp/redis" &&
		stack_start_responders "$top_builddir" "$tmp/run" 2 &&
		stack_start_front lighttpd "$top_srcdir" "$tmp/run" "$port"; } >&2; then
		echo "Bail out! the stack did not start"
		exit 1
	fi
	BOARD_URL=http://127.0.0.1:$port/
fi

# Bounded: every step inside has its own timeout too.
timeout -k 10 600 node "$top/tests/e2e/board.spec.mjs"
