#!/bin/bash
# express.sh: sessions cross between board and an express-session +
# connect-redis app sharing the Redis, cookie name and secrets, both ways,
# including a cookie signed with the old secret after a rotation.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
tool=$top_builddir/tests/session-tool
# The pinned npm packages (tests/package.json); distcheck can point here.
node_modules=${BOARD_NODE_MODULES:-$top_srcdir/tests/node_modules}

for p in redis-server redis-cli node curl; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "1..0 # SKIP $p not installed"
		exit 0
	fi
done
if [ ! -d "$node_modules/express-session" ]; then
	echo "1..0 # SKIP $node_modules: no express-session (npm ci in tests/)"
	exit 0
fi
if [ ! -x "$tool" ]; then
	echo "Bail out! $tool not built (make check builds it)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-express.XXXXXX")
. "$top_srcdir/script/stack.sh"
cleanup() {
	stack_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

IT_TMP=$tmp
. "$top_srcdir/tests/it/lib.sh"

# wait_for TEST...: up to 100 tries, 0.1 s apart.
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		i=$((i + 1))
		sleep 0.1
	done
	return 1
}

redis-server --port 0 --unixsocket "$tmp/redis.sock" --unixsocketperm 700 \
	--save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
_stack_track $!
if ! wait_for redis-cli -s "$tmp/redis.sock" ping; then
	echo "Bail out! redis-server did not start"
	cat "$tmp/redis.log" | sed 's/^/# /'
	exit 1
fi

new=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
old=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
foreign=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
# 0600 from the start: board refuses a secret file others may read.
(umask 077 && printf '%s\n%s\n' "$new" "$old" >"$tmp/secret")
: >"$tmp/board.conf"

# start_app NAME SECRETS: an Express app on the unix socket $tmp/NAME.sock.
start_app() {
	NODE_PATH="$node_modules" REDIS_SOCKET="$tmp/redis.sock" SECRETS="$2" \
	    LISTEN="$tmp/$1.sock" node "$top_srcdir/tests/express/app.js" \
	    >"$tmp/$1.log" 2>&1 &
	_stack_track $!
	if ! wait_for test -S "$tmp/$1.sock"; then
		echo "Bail out! the Express app $1 did not start"
		sed 's/^/# /' "$tmp/$1.log"
		exit 1
	fi
}
nl='
'
start_app rotated "$new$nl$old"		# express-session secret: [new, old]
start_app before "$old"			# the same app before the rotation
start_app other "$foreign"		# an app with another secret

board() {
	env BOARD_CONFIG="$tmp/board.conf" REDIS_URL="unix:$tmp/redis.sock" \
	    SESSION_SECRET_FILE="$tmp/secret" SESSION_SECRET_NAME= \
	    "$tool" "$@"
}

# express_whoami APP COOKIE: prints "STATUS BODY".
express_whoami() {
	curl -s --max-time 5 --unix-socket "$tmp/$1.sock" \
	    -H "Cookie: board.sid=$2" -w ' %{http_code}' http://app/whoami
}

# express_mint APP USERID USERNAME: prints the cookie value it set.
express_mint() {
	curl -s --max-time 5 --unix-socket "$tmp/$1.sock" -D - -o /dev/null \
	    -H 'Content-Type: application/json' \
	    --data "{\"userId\":\"$2\",\"username\":\"$3\"}" http://app/mint |
	    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: board\.sid=\([^;]*\);.*/\1/p'
}

# tamper COOKIE: flips the last character of the signature.
tamper() {
	last=$(printf '%s' "$1" | tail -c 1)
	case $last in
	A) repl=B ;;
	*) repl=A ;;
	esac
	printf '%s%s' "${1%?}" "$repl"
}

# (a) board mints, Express accepts.
c1=$(board mint u-board-1 alice)
ok $? "board mints a session"
case $c1 in
s%3A*) ok 0 "board's cookie starts s%3A" ;;
*) ok 1 "board's cookie starts s%3A (got '$c1')" ;;
esac
is "$(express_whoami rotated "$c1")" \
    '{"userId":"u-board-1","username":"alice"} 200' \
    "Express [new, old] accepts board's cookie"
is "$(express_whoami before "$c1" | tail -c 3)" 401 \
    "Express with only the old secret rejects it (board signs with new)"
is "$(board whoami "$c1")" "u-board-1 alice" "board reads its own cookie"

# (b) Express mints, board accepts.
c2=$(express_mint rotated u-express-2 bob)
[ -n "$c2" ]
ok $? "Express mints a session"
is "$(board whoami "$c2")" "u-express-2 bob" "board accepts Express's cookie"
sid2=$(printf '%s' "$c2" | sed 's/^s%3A//; s/\..*//')
redis-cli -s "$tmp/redis.sock" expire "sess:$sid2" 100 >/dev/null
board whoami "$c2" >/dev/null 2>&1
ttl=$(redis-cli -s "$tmp/redis.sock" ttl "sess:$sid2")
[ "$ttl" -ge 86390 ] 2>/dev/null
ok $? "board's load touched the TTL as connect-redis does ($ttl)"

# (c) Express signed with the old secret (before the rotation), board holds
# [new, old] from its secret file and accepts it.
c3=$(express_mint before u-express-3 carol)
[ -n "$c3" ]
ok $? "Express mints with the old secret"
is "$(board whoami "$c3")" "u-express-3 carol" \
    "board accepts a cookie signed with its second (old) secret"
is "$(express_whoami rotated "$c3")" \
    '{"userId":"u-express-3","username":"carol"} 200' \
    "as does Express [new, old]"

# (d) Tampered cookies are rejected by both.
for c in "$c1" "$c2" "$c3"; do
	t=$(tamper "$c")
	board whoami "$t" >/dev/null 2>&1
	is $? 1 "board rejects a tampered cookie"
	is "$(express_whoami rotated "$t" | tail -c 3)" 401 \
	    "Express rejects the same tampered cookie"
done
# The signature of one session on another session's id.
sig1=${c1#*.}
id2=$(printf '%s' "$c2" | sed 's/\..*//')
board whoami "$id2.$sig1" >/dev/null 2>&1
is $? 1 "board rejects another session's signature"
is "$(express_whoami rotated "$id2.$sig1" | tail -c 3)" 401 "so does Express"

# A foreign secret: valid session, wrong key.
c4=$(express_mint other u-4 dave)
[ -n "$c4" ]
ok $? "an app with a foreign secret mints"
board whoami "$c4" >/dev/null 2>&1
is $? 1 "board rejects a cookie signed with a foreign secret"
is "$(express_whoami rotated "$c4" | tail -c 3)" 401 "so does Express"

# A session board destroyed is gone for Express too.
sid1=$(printf '%s' "$c1" | sed 's/^s%3A//; s/\..*//')
redis-cli -s "$tmp/redis.sock" del "sess:$sid1" >/dev/null
is "$(express_whoami rotated "$c1" | tail -c 3)" 401 \
    "a deleted session is rejected by Express"
board whoami "$c1" >/dev/null 2>&1
is $? 1 "and by board"

done_testing
