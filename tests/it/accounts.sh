#!/bin/bash
# accounts.sh: change password and sign out everywhere (doc/API.md) through
# the real stack: a private Redis, the responders under spawn-fcgi +
# multiwatch, lighttpd on 127.0.0.1, and an express-session + connect-redis
# app sharing the Redis and the secret, once with the documents in SQLite
# and once in MongoDB (the jongodb test server). One user holds sessions A
# and B made by board and C minted by Express: a password change from A
# ends B and C and keeps A; sign out everywhere ends them all. Also the
# old and new passwords, throttling of wrong current passwords, a broken
# valid-from key and a Redis outage (503, never a session that ended).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${BOARD_BUILD_DIR:-${top_builddir:-$top_srcdir}}
node_modules=${BOARD_NODE_MODULES:-$top_srcdir/tests/node_modules}

. "$top_srcdir/tests/it/lib.sh"
it_need redis-server redis-cli curl jq spawn-fcgi multiwatch node lighttpd
if [ ! -d "$node_modules/express-session" ]; then
	echo "1..0 # SKIP $node_modules: no express-session (npm ci in tests/)"
	exit 0
fi
it_need_responders

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/board-accounts.XXXXXX")
. "$top_srcdir/script/stack.sh"
. "$top_srcdir/tests/it/mongo-lib.sh"
cleanup() {
	stack_stop
	mongo_stop
	it_finish_tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

it_test_env
export BOARD_LOGIN_MAX_FAILURES=5
export BOARD_LOGIN_WINDOW=900
export BOARD_TRUSTED_PROXIES=127.0.0.1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# The secret board and the Express app share: 32 random bytes in hex.
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$SECRET" >"$SESSION_SECRET_FILE"
chmod 600 "$SESSION_SECRET_FILE"

RUNID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')

pwchange() {
	jq -cn --arg c "$1" --arg n "$2" '{currentPassword: $c, newPassword: $n}'
}

# me COOKIE: GET /api/auth/me with it; "STATUS USERNAME-or-ERROR".
me() {
	req GET /api/auth/me -H "Cookie: $1"
	if [ "$STATUS" = 200 ]; then
		echo "$STATUS $(jf .username)"
	else
		echo "$STATUS $(jf .error)"
	fi
}

# express_mint USERID USERNAME: "board.sid=..." as the Express app set it.
express_mint() {
	_c=$(curl -s --max-time 5 --unix-socket "$EXPRESS_SOCK" -D - -o /dev/null \
	    -H 'Content-Type: application/json' \
	    --data "$(jq -cn --arg i "$1" --arg n "$2" '{userId: $i, username: $n}')" \
	    http://app/mint | tr -d '\r' |
	    sed -n 's/^[Ss]et-[Cc]ookie: \(board\.sid=[^;]*\);.*/\1/p')
	echo "$_c"
}

# express_whoami COOKIE: the Express app's status for it.
express_whoami() {
	curl -s --max-time 5 --unix-socket "$EXPRESS_SOCK" -o /dev/null \
	    -H "Cookie: $1" -w '%{http_code}' http://app/whoami
}

# suite NAME: the whole scenario on the stack that is running.
suite() {
	_s=$1
	U=u${_s}_$RUNID V=v${_s}_$RUNID W=w${_s}_$RUNID
	P1='first password 1' P2='second password 2' PV='bystander pass'

	diag "$_s: one user, sessions A and B (board) and C (Express)"
	req POST /api/auth/signup "$(creds "$U" "$P1")"
	is "$STATUS" 201 "$_s: signup"
	U_ID=$(jf .id)
	req POST /api/auth/signup "$(creds "$V" "$PV")"
	is "$STATUS" 201 "$_s: signup of a bystander"
	login "$U" "$P1"
	A=$COOKIE
	login "$U" "$P1"
	B=$COOKIE
	login "$V" "$PV"
	VC=$COOKIE
	C=$(express_mint "$U_ID" "$U")
	like "$C" '^board\.sid=s%3A' "$_s: Express mints session C for the user"
	is "$(me "$A")" "200 $U" "$_s: A works"
	is "$(me "$B")" "200 $U" "$_s: B works"
	is "$(me "$C")" "200 $U" "$_s: C (Express's) works on board"
	is "$(express_whoami "$A")" 200 "$_s: and A works on Express"
	is "$(rcli EXISTS "board:validfrom:$U_ID")" 0 \
		"$_s: no valid-from time before it is needed"
	is "$(rcli GET "sess:$(cookie_sid "$A")" | jq -r '.boardIssuedAt | type')" \
		number "$_s: board's session document holds its issue time"

	diag "$_s: POST /api/auth/password, what it refuses"
	req POST /api/auth/password "$(pwchange "$P1" "$P2")"
	expect_error 401 unauthorized "$_s: password change without a session: 401"
	req POST /api/auth/password "$(pwchange "$P1" "$P2")" \
		-H "Cookie: board.sid=s%3Anosuchsession.abc"
	expect_error 401 unauthorized "$_s: with a bad cookie: 401"
	req POST /api/auth/password '{"currentPassword":' -H "Cookie: $A"
	expect_error 400 invalid_json "$_s: broken JSON: 400 invalid_json"
	req POST /api/auth/password "{\"newPassword\":\"$P2\"}" -H "Cookie: $A"
	expect_error 400 invalid_field "$_s: no currentPassword: 400" currentPassword
	req POST /api/auth/password "$(pwchange "$P1" short)" -H "Cookie: $A"
	expect_error 400 invalid_field "$_s: newPassword of 5 bytes: 400" newPassword
	req POST /api/auth/password "$(pwchange "$P1" "$(printf 'x%.0s' $(seq 257))")" \
		-H "Cookie: $A"
	expect_error 400 invalid_field "$_s: newPassword of 257 bytes: 400" newPassword
	req POST /api/auth/password "{\"currentPassword\":\"$P1\",\"newPassword\":12345678}" \
		-H "Cookie: $A"
	expect_error 400 invalid_field "$_s: newPassword a number: 400" newPassword
	req POST /api/auth/password "{\"currentPassword\":\"$P1\",\"newPassword\":\"nul\\u0000password\"}" \
		-H "Cookie: $A"
	expect_error 400 invalid_field "$_s: newPassword with \\u0000: 400" newPassword
	req POST /api/auth/password "$(pwchange "$P1" "$P2")" -H "Cookie: $A" \
		-H "Origin: http://evil.example"
	expect_error 403 bad_origin "$_s: a foreign Origin: 403"
	req GET /api/auth/password -H "Cookie: $A"
	expect_error 405 method_not_allowed "$_s: GET: 405"
	is "$(hdr Allow)" POST "$_s: Allow: POST"
	REQ_CT=text/plain req POST /api/auth/password "$(pwchange "$P1" "$P2")" -H "Cookie: $A"
	expect_error 415 unsupported_media_type "$_s: text/plain: 415"
	req POST /api/auth/password "$(pwchange 'not the password' "$P2")" \
		-H "Cookie: $A" -H "$(xff)"
	expect_error 401 invalid_credentials "$_s: wrong current password: 401 invalid_credentials"
	is "$(me "$A")" "200 $U" "$_s: and A still works (a wrong password ends nothing)"
	is "$(me "$B")" "200 $U" "$_s: as does B"

	diag "$_s: password change from A"
	req POST /api/auth/password "$(pwchange "$P1" "$P2")" -H "Cookie: $A" \
		-H "$(xff)"
	is "$STATUS" 204 "$_s: change password: 204"
	is "$BODY" "" "$_s: no body"
	is "$(hdr Set-Cookie)" "" "$_s: A's cookie stays as it is"
	is "$(me "$A")" "200 $U" "$_s: A goes on"
	is "$(me "$B")" "401 unauthorized" "$_s: B has ended: 401"
	is "$(rcli EXISTS "sess:$(cookie_sid "$B")")" 0 "$_s: and B is deleted from Redis"
	is "$(me "$C")" "401 unauthorized" "$_s: C (minted by Express) has ended: 401"
	is "$(express_whoami "$C")" 401 "$_s: and Express no longer accepts C either"
	is "$(me "$VC")" "200 $V" "$_s: another user's session goes on"
	ttl=$(rcli TTL "board:validfrom:$U_ID")
	[ "$ttl" -ge 86390 ] && [ "$ttl" -le 86400 ] 2>/dev/null
	ok $? "$_s: valid-from lives for the session lifetime (TTL $ttl)"
	req POST /api/posts '{"title":"after the change","content":"c"}' -H "Cookie: $A"
	is "$STATUS" 201 "$_s: A can still write a post (posts responder)"
	login "$U" "$P1"
	expect_error 401 invalid_credentials "$_s: the old password: 401"
	login "$U" "$P2"
	is "$STATUS" 200 "$_s: the new password: 200"
	D=$COOKIE
	is "$(me "$D")" "200 $U" "$_s: the new session works"
	C2=$(express_mint "$U_ID" "$U")
	is "$(me "$C2")" "200 $U" "$_s: a session Express mints afterwards works"

	diag "$_s: a broken valid-from key is 503, never the session"
	rcli DEL "board:validfrom:$U_ID" >/dev/null
	rcli LPUSH "board:validfrom:$U_ID" x >/dev/null
	EXPECT_503=1
	req GET /api/auth/me -H "Cookie: $A"
	expect_error 503 unavailable "$_s: me: 503 when reading valid-from fails"
	EXPECT_503=0
	rcli DEL "board:validfrom:$U_ID" >/dev/null

	diag "$_s: POST /api/auth/logout-all"
	req POST /api/auth/logout-all
	expect_error 401 unauthorized "$_s: without a session: 401"
	req POST /api/auth/logout-all -H "Cookie: $B"
	expect_error 401 unauthorized "$_s: with an ended session: 401"
	req POST /api/auth/logout-all -H "Cookie: $D"
	is "$STATUS" 204 "$_s: sign out everywhere from D: 204"
	like "$(hdr Set-Cookie)" '^board\.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$' \
		"$_s: the cookie is cleared"
	is "$(rcli EXISTS "sess:$(cookie_sid "$D")")" 0 "$_s: D is deleted from Redis"
	is "$(me "$D")" "401 unauthorized" "$_s: D has ended"
	is "$(me "$A")" "401 unauthorized" "$_s: A has ended"
	is "$(me "$C2")" "401 unauthorized" "$_s: the Express session has ended"
	is "$(me "$VC")" "200 $V" "$_s: another user's session goes on"
	login "$U" "$P2"
	is "$STATUS" 200 "$_s: a login afterwards works"
	E=$COOKIE
	is "$(me "$E")" "200 $U" "$_s: and its session too"

	diag "$_s: throttling of wrong current passwords"
	req POST /api/auth/signup "$(creds "$W" "$P1")"
	login "$W" "$P1"
	WC=$COOKIE
	for i in 1 2 3 4 5; do
		req POST /api/auth/password "$(pwchange "wrong guess $i" "$P2")" \
			-H "Cookie: $WC" -H "$(xff)"
		[ "$STATUS" = 401 ] || break
	done
	expect_error 401 invalid_credentials "$_s: 5 wrong current passwords: 401 each"
	req POST /api/auth/password "$(pwchange "$P1" "$P2")" -H "Cookie: $WC" \
		-H "$(xff)"
	expect_error 429 too_many_attempts "$_s: the 6th, even the right one: 429"
	like "$(hdr Retry-After)" '^[0-9]+$' "$_s: with Retry-After ($(hdr Retry-After))"
	login "$W" "$P1"
	expect_error 429 too_many_attempts "$_s: they count as failed logins: login is 429 too"
	is "$(me "$WC")" "200 $W" "$_s: the session itself goes on"
	rcli DEL "board:fail:user:$W" >/dev/null
	login "$W" "$P1"
	is "$STATUS" 200 "$_s: once the lock is gone, the old password still works"

	diag "$_s: Redis down"
	it_stop_redis || bail "redis-server did not stop within 5 s"
	EXPECT_503=1
	req GET /api/auth/me -H "Cookie: $E"
	expect_error 503 unavailable "$_s: Redis down: me: 503"
	req POST /api/auth/password "$(pwchange "$P2" "$P1")" -H "Cookie: $E"
	expect_error 503 unavailable "$_s: Redis down: password change: 503"
	req POST /api/auth/logout-all -H "Cookie: $E"
	expect_error 503 unavailable "$_s: Redis down: logout-all: 503"
	is "$(hdr Set-Cookie)" "" "$_s: Redis down: logout-all does not clear the cookie"
	login "$U" "$P2"
	expect_error 503 unavailable "$_s: Redis down: login: 503"
	EXPECT_503=0
}

# stack NAME: Redis, the responders, lighttpd and the Express app under
# $IT_TMP/NAME; sets what it_stack sets and EXPRESS_SOCK.
stack() {
	_d=$IT_TMP/$1
	it_stack "$_d" lighttpd 2
	EXPRESS_SOCK=$_d/express.sock
	NODE_PATH="$node_modules" REDIS_SOCKET="$RSOCK" SECRETS="$SECRET" \
	    LISTEN="$EXPRESS_SOCK" node "$top_srcdir/tests/express/app.js" \
	    >"$_d/express.log" 2>&1 &
	_stack_track $!
	stack_wait "the Express app" 20 test -S "$EXPRESS_SOCK" ||
		bail "the Express app did not start: $(tail -3 "$_d/express.log")"
}

# The end of a run: what the responders logged.
logcheck() {
	it_log_check "$IT_TMP/$1/run/responders.log" "$1" "a password:$P1" \
		"a password:$P2" "the secret:$SECRET"
}

unset MONGODB_URI
stack sqlite
diag "SQLite, lighttpd on $BASE"
suite sqlite
stack_stop
logcheck sqlite

if [ ! -x "$JONGODB_BIN" ]; then
	# script/test installs it and counts a skip as a failure.
	T_N=$((T_N + 1))
	echo "ok $T_N # SKIP MongoDB: $JONGODB_BIN missing (npm ci in tests/)"
elif ! mongo_start "$IT_TMP"; then
	ok 1 "MongoDB: the test server did not start"
else
	stack mongo
	diag "MongoDB, lighttpd on $BASE"
	suite mongo
	stack_stop
	mongo_stop
	logcheck mongo
fi

it_summary
done_testing
