#!/bin/bash
# review.sh: the security review's findings (issue 13), against a live
# stack: a private Redis, the three responders and lighttpd on 127.0.0.1,
# documents in SQLite, run as an https site would be (BOARD_COOKIE_SECURE=1,
# a __Host- cookie name). Checks that failed-login counting fails closed
# when Redis refuses EVAL (an ACL without @scripting), that only https
# Origins pass, that a shadowing cookie does not hide the real one, and
# that a page of posts full of control characters stays under 1 MiB.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${BOARD_BUILD_DIR:-${top_builddir:-$top_srcdir}}

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/board-review.XXXXXX")
. "$top_srcdir/tests/it/lib.sh"
it_need redis-server redis-cli curl jq spawn-fcgi multiwatch node lighttpd
it_need_responders
. "$top_srcdir/script/stack.sh"
cleanup() {
	stack_stop
	it_finish_tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

it_test_env
export BOARD_LOGIN_MAX_FAILURES=5
export BOARD_LOGIN_WINDOW=900
export BOARD_TRUSTED_PROXIES=127.0.0.1	# each login its own xff address
# As doc/deploy.md advises for a site on https that shares no sessions.
export BOARD_COOKIE_SECURE=1
export BOARD_COOKIE_NAME=__Host-board.sid
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
it_stack "$IT_TMP" lighttpd 1
# The TLS proxy in front would keep Host; the browser's Origin is https.
ORIGIN=https://127.0.0.1:$PORT
CNAME=__Host-board.sid
RUNID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')

USER=rev_$RUNID
PW='correct horse battery'
req POST /api/auth/signup "$(creds "$USER" "$PW")" -H "Origin: $ORIGIN"
is "$STATUS" 201 "signup"
USER_ID=$(jf .id)

###########################################################################
diag "Origin: with cookie_secure only https:// origins pass"
req POST /api/auth/login "$(creds "$USER" "$PW")" \
	-H "Origin: http://127.0.0.1:$PORT" -H "$(xff)"
expect_error 403 bad_origin "http:// Origin of our host:port: 403 bad_origin"
req POST /api/auth/login "$(creds "$USER" "$PW")" \
	-H "Origin: http://127.0.0.1" -H "Host: 127.0.0.1" -H "$(xff)"
expect_error 403 bad_origin "http:// Origin, Host without a port: 403"
login "$USER" "$PW" -H "Origin: $ORIGIN"
is "$STATUS" 200 "https:// Origin of our host: 200"

###########################################################################
diag "the __Host- cookie"
SETC=$(hdr Set-Cookie)
like "$SETC" "^$CNAME=s%3A" "Set-Cookie names $CNAME"
like "$SETC" '; Secure(;|$)' "  with Secure"
like "$SETC" '; Path=/(;|$)' "  with Path=/"
if printf '%s' "$SETC" | grep -qi 'domain='; then
	ok 1 "  and no Domain: $SETC"
else
	ok 0 "  and no Domain"
fi
GOOD=$COOKIE
req GET /api/auth/me -H "Cookie: $GOOD"
is "$STATUS $(jf .id)" "200 $USER_ID" "the cookie signs in"

###########################################################################
diag "cookie shadowing: every cookie of our name is tried"
# A sibling subdomain's cookie with a longer Path comes first.
FORGED="$CNAME=s%3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
req GET /api/auth/me -H "Cookie: $FORGED; $GOOD"
is "$STATUS $(jf .id)" "200 $USER_ID" "a forged cookie before ours: ours is used"
req GET /api/auth/me -H "Cookie: $CNAME=junk; other=1; $GOOD"
is "$STATUS $(jf .id)" "200 $USER_ID" "a junk cookie before ours: ours is used"
req GET /api/auth/me -H "Cookie: $GOOD; $FORGED"
is "$STATUS $(jf .id)" "200 $USER_ID" "ours before a forged one: ours"
# A signed cookie for a session that is gone, then ours.
req POST /api/auth/login "$(creds "$USER" "$PW")" -H "Origin: $ORIGIN" -H "$(xff)"
OLD=$(hdr Set-Cookie | cut -d';' -f1)
req POST /api/auth/logout -H "Origin: $ORIGIN" -H "Cookie: $OLD"
is "$STATUS" 204 "a second session, signed out"
req GET /api/auth/me -H "Cookie: $OLD; $GOOD"
is "$STATUS $(jf .id)" "200 $USER_ID" "a signed cookie of an ended session before ours: ours"
# Bounded: the fifth cookie is not looked at.
J="$CNAME=j1; $CNAME=j2; $CNAME=j3; $CNAME=j4"
req GET /api/auth/me -H "Cookie: $J; $GOOD"
expect_error 401 unauthorized "four junk cookies before ours: only four are tried (401)"
req GET /api/auth/me -H "Cookie: $CNAME=j1; $CNAME=j2; $CNAME=j3; $GOOD"
is "$STATUS" 200 "three junk cookies before ours: the fourth is ours (200)"

###########################################################################
diag "posts full of control characters: a page stays under 1 MiB"
# 10,900 U+0001 each (6 bytes escaped, in and out): ~65 KB a post.
CTRL=$(awk 'BEGIN { for (i = 0; i < 10900; i++) printf "\\u0001" }')
printf '{"title":"ctl","content":"%s"}' "$CTRL" >"$IT_TMP/ctl.json"
NPOSTS=20
made=0
for i in $(seq 1 $NPOSTS); do
	req POST /api/posts "@$IT_TMP/ctl.json" -H "Origin: $ORIGIN" -H "Cookie: $GOOD"
	[ "$STATUS" = 201 ] && made=$((made + 1))
done
is "$made" "$NPOSTS" "$NPOSTS posts of control characters made"
req GET '/api/posts?limit=100'
size=$(stat -c %s "$IT_TMP/resp.body")
n=$(jf '.posts | length')
diag "first page: $n posts, $size bytes"
is "$STATUS" 200 "GET /api/posts?limit=100: 200"
ok $((size > 1048576)) "  the answer is at most 1 MiB ($size bytes)"
ok $((n >= NPOSTS)) "  it stops early ($n posts of $NPOSTS)"
is "$(jf '.next | type')" string "  and gives next"
# Following next visits every post once.
seen=$(jf '.posts[].id')
next=$(jf .next)
pages=1
over=0
while [ -n "$next" ] && [ "$next" != null ] && [ "$pages" -lt 20 ]; do
	req GET "/api/posts?limit=100&cursor=$next"
	[ "$STATUS" = 200 ] || break
	size=$(stat -c %s "$IT_TMP/resp.body")
	[ "$size" -le 1048576 ] || {
		diag "page $pages: $size bytes"
		over=$((over + 1))
	}
	seen="$seen
$(jf '.posts[].id')"
	next=$(jf .next)
	pages=$((pages + 1))
done
total=$(printf '%s\n' "$seen" | grep -c .)
uniq=$(printf '%s\n' "$seen" | grep . | sort -u | wc -l)
is "$total $uniq" "$NPOSTS $NPOSTS" "paging with next visits all $NPOSTS posts once ($pages pages)"
is "$over" 0 "  every later page is at most 1 MiB too"
req GET '/api/posts?limit=5'
is "$STATUS $(jf '.posts | length')" "200 5" "a small page is not cut"

###########################################################################
diag "failed-login counting fails closed when Redis refuses EVAL"
is "$(rcli ACL SETUSER default -@scripting)" OK \
	"the Redis user loses @scripting (GET still works)"
EXPECT_503=1
answers=
for i in 1 2 3 4 5 6 7; do
	login "$USER" 'a wrong password' -H "Origin: $ORIGIN"
	answers="$answers $STATUS"
	login "$USER" "$PW" -H "Origin: $ORIGIN"
	answers="$answers $STATUS"
done
EXPECT_503=0
diag "answers (wrong, right, ...):$answers"
ok "$(printf '%s' "$answers" | grep -cE ' (200|401)( |$)')" \
	"no 200 and no 401: neither a right nor a wrong password is told apart"
like "$answers" '^( (503|429))+$' "every answer is 503 or 429"
is "$(rcli ACL SETUSER default +@all)" OK "the Redis user gets EVAL back"
login "$USER" "$PW" -H "Origin: $ORIGIN"
is "$STATUS" 200 "then the right password signs in"
login "$USER" 'a wrong password' -H "Origin: $ORIGIN"
expect_error 401 invalid_credentials "and a wrong one is 401"

###########################################################################
diag "nothing crashed"
req GET /api/health
is "$STATUS" 200 "still healthy"
it_log_check "$RUN/responders.log" "nothing crashed"
is "$(cat "$IT_TMP/violations" 2>/dev/null)" "" "every answer was the API's JSON"

stack_stop
done_testing
