#!/bin/sh
# api-nginx.sh: the HTTP contract suite (api.sh) through nginx instead of
# lighttpd, with etc/nginx/board.conf.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v nginx >/dev/null 2>&1 && ! [ -x /usr/sbin/nginx ]; then
	echo "1..0 # SKIP nginx not installed"
	exit 0
fi
BOARD_FRONT=nginx
export BOARD_FRONT top_srcdir
exec "$top_srcdir/tests/it/api.sh"
