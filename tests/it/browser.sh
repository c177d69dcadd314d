#!/bin/sh
# End-to-end tests of the web page (www/) in headless Chromium, against the
# stack at BOARD_URL (script/test starts it and sets BOARD_URL). Prints TAP.
#
# BOARD_URL          the running stack, e.g. http://127.0.0.1:8080/
# BOARD_SCREENSHOTS  where screenshots of the main views go
#                    (default tests/e2e/screenshots under the current directory)
# BOARD_NODE_MODULES where playwright-core is installed (default tests/node_modules
#                    of the source tree)
set -u

if [ -z "${BOARD_URL:-}" ]; then
	echo '1..0 # SKIP BOARD_URL not set'
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
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

# Bounded: every step inside has its own timeout too.
exec timeout -k 10 600 node "$top/tests/e2e/board.spec.mjs"
