#!/bin/bash
# errors.sh: every answer under /api/ is JSON with the API's error shape,
# the front server's own answers included (API.md v1.1, issue 13). lighttpd
# and nginx run side by side on one set of responders, with etc/'s configs,
# and each case is sent to both as raw bytes on a socket
# (tests/it/errors-client.js): malformed URLs (%00, invalid UTF-8, dot
# segments, encoded slashes and dots), headers and cookies too large, an
# unknown method, bodies too large, malformed request lines and headers,
# HTTP/0.9, an unsupported Expect, a responder that is down, that dies
# mid-request or that never answers, and clients that stall. Each answer
# must have the expected status and error code, Content-Type
# application/json; charset=utf-8, Cache-Control: no-store and nosniff, and
# a body {"error": ..., "message": ...}; a client that stalls gets no
# answer at all (never an HTML page). The responders' own answers pass
# through both untouched: the v1.1 routes /api/auth/password and
# /api/auth/logout-all reach board-login, HEAD included, and a draining
# host's health check stays its 503 {"status":"draining"}.
#
# The exceptions, each asserted as it is (SECURITY.md, doc/API.md):
#   - lighttpd 1.4.69 cannot change the status of its own error answers
#     without mod_magnet: a responder that dies mid-request is 500, one that
#     never answers 504 (with the JSON "unavailable" body), where nginx and
#     API.md say 503; some malformed requests keep lighttpd's status (501,
#     505, 411) with a JSON body;
#   - HTTP/0.9 has no status line and no headers: nginx answers it with the
#     JSON body of a 400 alone; lighttpd does not speak it (400 in HTTP/1.0).
# The page outside /api/ keeps HTML error pages (404 here).
#
# Takes about 40 s: a responder that never answers is given up on after the
# fronts' 30 s timeouts. Environment: top_srcdir, top_builddir (or
# BOARD_BUILD_DIR). BOARD_IT_KEEP=1 keeps the temporary directory.
set -u

top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
top_builddir=${BOARD_BUILD_DIR:-${top_builddir:-$top_srcdir}}
top_builddir=$(cd "$top_builddir" && pwd)
. "$top_srcdir/tests/it/lib.sh"
it_private_stack errors 1 redis-server redis-cli curl jq spawn-fcgi multiwatch \
    node lighttpd nginx
CLIENT=$top_srcdir/tests/it/errors-client.js
FRONTS="lighttpd nginx"
# Each front reaches the responders through its own folder of symbolic
# links, so that a case can point one route at a fake responder.
link() {	# link FRONT ROUTE TARGET-SOCKET
	ln -sfn "$3" "$IT_TMP/run-$1/$2.sock"
}
for f in $FRONTS; do
	mkdir -p "$IT_TMP/run-$f"
	for r in signup login posts; do link "$f" "$r" "$RUN/$r.sock"; done
	port=$(stack_free_port)
	stack_start_front "$f" "$top_srcdir" "$IT_TMP/run-$f" "$port" ||
		bail "$f did not start: $(tail -3 "$IT_TMP/run-$f/front-error.log")"
	eval "PORT_$f=$port FRONT_$f=$FRONT_PID"
done
port_of() { eval "echo \$PORT_$1"; }
diag "lighttpd on $PORT_lighttpd, nginx on $PORT_nginx"

# Fake responders: one that dies mid-request, one that never answers.
for how in die stuck; do
	node "$CLIENT" fcgi "$IT_TMP/$how.sock" "$how" 90 >"$IT_TMP/fcgi-$how.log" &
	OWN_PIDS="$OWN_PIDS $!"
done
stack_wait "the fake responders" 10 grep -q ready "$IT_TMP/fcgi-die.log"
stack_wait "the fake responders" 10 grep -q ready "$IT_TMP/fcgi-stuck.log"

# mkreq NAME FORMAT [ARGS...]: the raw request $IT_TMP/NAME.req (printf).
mkreq() {
	_n=$1
	shift
	# shellcheck disable=SC2059
	printf "$@" >"$IT_TMP/$_n.req"
}
# ask FRONT NAME [MAX_S [N PAUSE_MS]]: send NAME.req, the answer (the
# client's JSON line) in NAME-FRONT.ans.
ask() {
	_f=$1 _n=$2
	shift 2
	node "$CLIENT" send "$(port_of "$_f")" "$IT_TMP/$_n.req" "$@" \
	    >"$IT_TMP/$_n-$_f.ans" 2>&1
}
# answer FRONT NAME: "STATUS CODE" of the answer (CODE: the body's error
# member, "-" when the body is not a JSON object with one).
answer() {
	jq -r '"\(.status) \(.body | fromjson? | objects | .error // "-")"' \
	    "$IT_TMP/$2-$1.ans" 2>/dev/null || echo "no answer"
}
# shape FRONT NAME: Content-Type|Cache-Control|nosniff|type of message.
shape() {
	jq -r '[.headers["content-type"] // "", .headers["cache-control"] // "",
	    .headers["x-content-type-options"] // "",
	    (.body | fromjson? | objects | .message | type) // "no JSON body"]
	    | join("|")' "$IT_TMP/$2-$1.ans" 2>/dev/null
}
JSON_SHAPE="application/json; charset=utf-8|no-store|nosniff|string"
# expect FRONT NAME "STATUS CODE" DESC: the answer is that JSON error.
expect() {
	_got=$(answer "$1" "$2")
	is "$_got" "$3" "$1: $4: $3"
	_s=$(shape "$1" "$2")
	is "$_s" "$JSON_SHAPE" "$1: $4: JSON, no-store, nosniff"
	[ "$_got" = "$3" ] && [ "$_s" = "$JSON_SHAPE" ] ||
		diag "answer: $(head -c 600 "$IT_TMP/$2-$1.ans")"
}
# both NAME DESC "LIGHTTPD-STATUS CODE" "NGINX-STATUS CODE": send NAME.req
# to both fronts and expect those answers.
both() {
	_n=$1 _d=$2 _l=$3 _x=$4
	ask lighttpd "$_n"
	ask nginx "$_n"
	expect lighttpd "$_n" "$_l" "$_d"
	expect nginx "$_n" "$_x" "$_d"
}
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }
# status_type_body NAME FRONT [JQ]: "STATUS|Content-Type|body" of the
# answer (JQ: what of the body, default all of it).
status_type_body() {
	_q="[.status, .headers[\"content-type\"], (${3:-.body})]"
	jq -r "$_q | join(\"|\")" "$IT_TMP/$1-$2.ans"
}
H='Host: 127.0.0.1\r\nConnection: close\r\n'

###########################################################################
# Started first, checked at the end: the slow cases.
#
# A responder that takes the request and never answers (the signup route
# points at the stuck fake): both fronts give up after their 30 s.
for f in $FRONTS; do link "$f" signup "$IT_TMP/stuck.sock"; done
mkreq stuck 'POST /api/auth/signup HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'
for f in $FRONTS; do
	ask "$f" stuck 45 &
	OWN_PIDS="$OWN_PIDS $!"
done
# Clients that stall, in the header and in the body, past the fronts' 10 s
# read timeouts.
mkreq hstall 'GET /api/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaa'
mkreq bstall 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"title":"stalled","con'
for f in $FRONTS; do
	for n in hstall bstall; do
		ask "$f" "$n" 20 &
		OWN_PIDS="$OWN_PIDS $!"
	done
done

###########################################################################
diag "malformed URLs"
mkreq nul 'GET /api/posts/%%00 HTTP/1.1\r\n'"$H"'\r\n'
both nul "GET /api/posts/%00" "400 invalid_request" "400 invalid_request"
mkreq utf8 'GET /api/posts/%%ff%%fe HTTP/1.1\r\n'"$H"'\r\n'
both utf8 "GET /api/posts/%ff%fe (invalid UTF-8; nginx passes it on)" \
    "400 invalid_request" "404 not_found"
mkreq cnul 'GET /api/posts?cursor=%%00 HTTP/1.1\r\n'"$H"'\r\n'
both cnul "GET /api/posts?cursor=%00" "400 invalid_request" "400 invalid_field"
mkreq cutf8 'GET /api/posts?cursor=%%ff%%fe HTTP/1.1\r\n'"$H"'\r\n'
both cutf8 "GET /api/posts?cursor=%ff%fe" "400 invalid_request" "400 invalid_field"
mkreq ctrl 'GET /api/posts/%%01 HTTP/1.1\r\n'"$H"'\r\n'
both ctrl "GET /api/posts/%01 (a control character)" "400 invalid_request" "404 not_found"
mkreq dots2f 'GET /api/posts/..%%2f..%%2fetc%%2fpasswd HTTP/1.1\r\n'"$H"'\r\n'
both dots2f "GET /api/posts/..%2f..%2fetc%2fpasswd" "400 invalid_request" "400 invalid_request"
mkreq dots 'GET /api/posts/../../etc/passwd HTTP/1.1\r\n'"$H"'\r\n'
both dots "GET /api/posts/../../etc/passwd" "400 invalid_request" "400 invalid_request"
mkreq dots2e 'GET /api/posts/%%2e%%2e HTTP/1.1\r\n'"$H"'\r\n'
both dots2e "GET /api/posts/%2e%2e" "400 invalid_request" "400 invalid_request"
# nginx drops a fragment from the request target before it resolves dot
# segments: "/api/..#x" would be "/", the page.
mkreq dotsfrag 'GET /api/..#x HTTP/1.1\r\n'"$H"'\r\n'
both dotsfrag "GET /api/..#x (a fragment after the dots)" \
    "400 invalid_request" "400 invalid_request"
mkreq absdots 'GET http://127.0.0.1/api/../etc/passwd HTTP/1.1\r\n'"$H"'\r\n'
both absdots "GET http://127.0.0.1/api/../etc/passwd (absolute form)" \
    "400 invalid_request" "400 invalid_request"
mkreq slash2f 'GET /api/posts/a%%2Fb HTTP/1.1\r\n'"$H"'\r\n'
both slash2f "GET /api/posts/a%2Fb (stays under /api/)" "404 not_found" "404 not_found"
mkreq tilde 'GET /api/posts/abc~ HTTP/1.1\r\n'"$H"'\r\n'
both tilde "GET /api/posts/abc~" "404 not_found" "404 not_found"
mkreq apiroot 'GET /api HTTP/1.1\r\n'"$H"'\r\n'
both apiroot "GET /api" "404 not_found" "404 not_found"

###########################################################################
diag "headers and cookies too large"
mkreq cookie24k 'GET /api/posts HTTP/1.1\r\n'"$H"'Cookie: board.sid=%s\r\n\r\n' "$(rep a 24576)"
both cookie24k "a 24 KB cookie" "431 header_too_large" "431 header_too_large"
junk=$(for i in $(seq 1 300); do printf 'junk%03d=%s; ' "$i" "$(rep j 64)"; done)
mkreq cookies300 'GET /api/posts HTTP/1.1\r\n'"$H"'Cookie: %s\r\n\r\n' "$junk"
both cookies300 "300 junk cookies in one header (22 KB)" \
    "431 header_too_large" "431 header_too_large"
junk=$(for i in $(seq 1 300); do printf 'Cookie: junk%03d=%s\\r\\n' "$i" "$(rep j 64)"; done)
mkreq cookielines 'GET /api/posts HTTP/1.1\r\n'"$H$junk"'\r\n'
both cookielines "300 Cookie header lines" "431 header_too_large" "431 header_too_large"
mkreq longline 'GET /api/posts?x=%s HTTP/1.1\r\n'"$H"'\r\n' "$(rep q 20000)"
both longline "a 20 KB request line" "431 header_too_large" "431 header_too_large"

###########################################################################
diag "methods"
mkreq brew 'BREW /api/posts HTTP/1.1\r\n'"$H"'\r\n'
both brew "BREW /api/posts (nginx passes it to the responder)" \
    "501 method_not_allowed" "405 method_not_allowed"
mkreq trace 'TRACE /api/posts HTTP/1.1\r\n'"$H"'\r\n'
both trace "TRACE /api/posts" "405 method_not_allowed" "405 method_not_allowed"
mkreq lower 'get /api/posts HTTP/1.1\r\n'"$H"'\r\n'
both lower "a lower-case method" "501 method_not_allowed" "400 invalid_request"
mkreq connect 'CONNECT /api/posts HTTP/1.1\r\n'"$H"'\r\n'
both connect "CONNECT /api/posts" "405 method_not_allowed" "405 method_not_allowed"

###########################################################################
diag "bodies"
{
	printf 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n'
	rep ' ' 2097152
} >"$IT_TMP/body2m.req"
both body2m "a 2 MiB body" "413 payload_too_large" "413 payload_too_large"
{
	printf 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
	for i in $(seq 1 32); do printf '10000\r\n%s\r\n' "$(rep ' ' 65536)"; done
	printf '0\r\n\r\n'
} >"$IT_TMP/chunk2m.req"
both chunk2m "a 2 MiB chunked body" "413 payload_too_large" "413 payload_too_large"
mkreq expect2m 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\nContent-Length: 2097152\r\nExpect: 100-continue\r\n\r\n'
both expect2m "Expect: 100-continue with 2 MiB announced: 413 before the body" \
    "413 payload_too_large" "413 payload_too_large"
mkreq expectx 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 202-whatever\r\n\r\n{}'
both expectx "an unsupported Expect (ignored; the responder answers)" \
    "401 unauthorized" "401 unauthorized"
mkreq tegzip 'POST /api/posts HTTP/1.1\r\n'"$H"'Transfer-Encoding: gzip\r\n\r\n'
both tegzip "Transfer-Encoding: gzip" "501 method_not_allowed" "501 method_not_allowed"
mkreq clte 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
both clte "Content-Length and Transfer-Encoding together" "400 invalid_request" "400 invalid_request"
mkreq clbad 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Length: abc\r\n\r\n'
both clbad "Content-Length: abc" "400 invalid_request" "400 invalid_request"
mkreq nolen 'POST /api/posts HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\n\r\n'
both nolen "POST without Content-Length (nginx: no body)" \
    "411 invalid_request" "401 unauthorized"

###########################################################################
diag "malformed requests"
mkreq garbage 'GARBAGE\r\n'"$H"'\r\n'
both garbage "a bad request line" "400 invalid_request" "400 invalid_request"
mkreq http2 'GET /api/posts HTTP/2.0\r\n'"$H"'\r\n'
both http2 "HTTP/2.0 in an HTTP/1 request line" "505 invalid_request" "400 invalid_request"
mkreq nohost 'GET /api/posts HTTP/1.1\r\nConnection: close\r\n\r\n'
both nohost "HTTP/1.1 without Host" "400 invalid_request" "400 invalid_request"
mkreq badhost 'GET /api/posts HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n'
both badhost "Host: a b" "400 invalid_request" "400 invalid_request"
mkreq badname 'GET /api/posts HTTP/1.1\r\n'"$H"'Foo Bar: x\r\n\r\n'
both badname "a space in a header name" "400 invalid_request" "400 invalid_request"
mkreq http10 'GET /api/posts/%%00 HTTP/1.0\r\n\r\n'
both http10 "HTTP/1.0, %00" "400 invalid_request" "400 invalid_request"

# HEAD: the same status and headers, no body.
mkreq head 'HEAD /api/posts/%%00 HTTP/1.1\r\n'"$H"'\r\n'
for f in $FRONTS; do
	ask "$f" head
	is "$(jq -r '[.status, .headers["content-type"], .headers["cache-control"], .body] | join("|")' "$IT_TMP/head-$f.ans")" \
	    "400|application/json; charset=utf-8|no-store|" "$f: HEAD /api/posts/%00: 400, JSON type, no-store, no body"
done

# HTTP/0.9: a request line without a version.
mkreq http09 'GET /api/posts\r\n\r\n'
ask lighttpd http09
expect lighttpd http09 "400 invalid_request" "HTTP/0.9 (answered in HTTP/1.0)"
is "$(jq -r .version "$IT_TMP/http09-lighttpd.ans")" "HTTP/1.0" "lighttpd: HTTP/0.9: answered in HTTP/1.0"
ask nginx http09
is "$(jq -r '"\(.http09) \(.body | fromjson? | objects | .error // "-")"' "$IT_TMP/http09-nginx.ans")" \
    "true invalid_request" "nginx: HTTP/0.9: no status line or headers (0.9 has none), the JSON body of 400 invalid_request (exception)"

###########################################################################
diag "the page keeps HTML error pages"
mkreq page404 'GET /no-such-page HTTP/1.1\r\n'"$H"'\r\n'
mkreq page 'GET / HTTP/1.1\r\n'"$H"'\r\n'
for f in $FRONTS; do
	ask "$f" page404
	is "$(jq -r '"\(.status) \(.headers["content-type"] | split(";")[0])"' "$IT_TMP/page404-$f.ans")" \
	    "404 text/html" "$f: GET /no-such-page: 404 HTML"
	ask "$f" page
	is "$(jq -r '"\(.status) \(.headers["content-type"] | split(";")[0])"' "$IT_TMP/page-$f.ans")" \
	    "200 text/html" "$f: GET /: 200 HTML"
done

###########################################################################
diag "the responders' own answers pass through as they are"
# The routes API.md v1.1 added reach board-login through both configs:
# without a session it answers 401 unauthorized, where board-posts (the
# fallback route) would say 404 not_found. HEAD gets the status and JSON
# type without a body.
for r in password logout-all; do
	mkreq "$r" 'POST /api/auth/%s HTTP/1.1\r\n'"$H"'Content-Type:'\
' application/json\r\nContent-Length: 2\r\n\r\n{}' "$r"
	both "$r" "POST /api/auth/$r without a session (board-login)" \
	    "401 unauthorized" "401 unauthorized"
	mkreq "head-$r" 'HEAD /api/auth/%s HTTP/1.1\r\n'"$H"'\r\n' "$r"
	for f in $FRONTS; do
		ask "$f" "head-$r"
		is "$(status_type_body "head-$r" "$f")" \
		    "405|application/json; charset=utf-8|" \
		    "$f: HEAD /api/auth/$r: 405, JSON type, no body"
	done
done
# A draining host's health check: 503 {"status":"draining"}, as JSON, not
# replaced by the fronts' own 503 page; HEAD the same without a body.
touch "$STACK_DRAIN_FILE"
mkreq health 'GET /api/health HTTP/1.1\r\n'"$H"'\r\n'
mkreq headhealth 'HEAD /api/health HTTP/1.1\r\n'"$H"'\r\n'
for f in $FRONTS; do
	ask "$f" health
	is "$(status_type_body health "$f" '.body | fromjson? | .status')" \
	    "503|application/json; charset=utf-8|draining" \
	    "$f: GET /api/health while draining: 503 JSON draining"
	ask "$f" headhealth
	is "$(status_type_body headhealth "$f")" \
	    "503|application/json; charset=utf-8|" \
	    "$f: HEAD /api/health while draining: 503, JSON type, no body"
done
rm -f "$STACK_DRAIN_FILE"

###########################################################################
diag "responders down, dead or stuck"
mkreq list 'GET /api/posts HTTP/1.1\r\n'"$H"'\r\n'
for f in $FRONTS; do rm -f "$IT_TMP/run-$f/posts.sock"; done
both list "board-posts down" "503 unavailable" "503 unavailable"
for f in $FRONTS; do link "$f" posts "$RUN/posts.sock"; done

for f in $FRONTS; do link "$f" login "$IT_TMP/die.sock"; done
mkreq login 'POST /api/auth/login HTTP/1.1\r\n'"$H"'Content-Type: application/json\r\nContent-Length: 44\r\n\r\n{"username":"nobody","password":"whatever1"}'
both login "a responder that dies mid-request (lighttpd: 500, exception)" \
    "500 unavailable" "503 unavailable"
is "$(grep -c '^request die' "$IT_TMP/fcgi-die.log")" 2 \
    "the dying fake responder took both requests to their end"
for f in $FRONTS; do link "$f" login "$RUN/login.sock"; done

# Back to normal: health through both (lighttpd may hold a route it could
# not connect to as down for a second or two).
for f in $FRONTS; do
	ok $(stack_wait "$f health" 10 sh -c \
	    "curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:$(port_of "$f")/api/health"
	    echo $?) "$f: health 200 again once the responders are back"
done

###########################################################################
diag "waiting for the slow cases (about 30 s)"
for f in $FRONTS; do
	for n in stuck hstall bstall; do
		stack_wait "$f $n" 50 test -s "$IT_TMP/$n-$f.ans"
	done
done
expect lighttpd stuck "504 unavailable" "a responder that never answers (read-timeout 30 s; 504, exception)"
expect nginx stuck "503 unavailable" "a responder that never answers (fastcgi_read_timeout 30 s)"
for f in $FRONTS; do
	at=$(jq -r .closedAt "$IT_TMP/stuck-$f.ans")
	ok $(awk -v t="$at" 'BEGIN { exit !(t != "null" && t >= 29 && t <= 45) }'; echo $?) \
	    "$f: ... after the 30 s timeout ($at s)"
	for n in hstall bstall; do
		is "$(jq -r '"\(.status) \(.body | length) \(.closedAt != null and .closedAt < 20)"' "$IT_TMP/$n-$f.ans")" \
		    "null 0 true" "$f: a client stalling in the $( [ $n = hstall ] && echo header || echo body ): closed at its timeout without an answer (no HTML)"
	done
done

###########################################################################
for f in $FRONTS; do
	ok $(kill -0 "$(eval "echo \$FRONT_$f")"; echo $?) "$f is still running"
done
stack_stop
san=$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$RUN/responders.log" | head -n 3)
is "$san" "" "no sanitizer report from the responders"
done_testing
