#!/bin/bash
# headers.sh: the security headers of SECURITY.md through each front server
# (lighttpd and nginx, whichever are installed), with etc/'s own configs:
# the page carries a CSP that forbids framing and inline script, every
# answer -- the page, the API's JSON, the front server's own JSON errors --
# carries X-Content-Type-Options: nosniff, the API's answers are not cached,
# no answer grants cross-origin access (no CORS headers), and no static path
# leads out of www/.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${BOARD_BUILD_DIR:-${top_builddir:-$top_srcdir}}
PATH=$PATH:/usr/sbin

for p in redis-server redis-cli curl spawn-fcgi multiwatch node; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "1..0 # SKIP $p not installed"
		exit 0
	fi
done
fronts=
for f in lighttpd nginx; do
	command -v "$f" >/dev/null 2>&1 && fronts="$fronts $f"
done
if [ -z "$fronts" ]; then
	echo "1..0 # SKIP neither lighttpd nor nginx is installed"
	exit 0
fi
for r in signup login posts; do
	[ -x "$top_builddir/fcgi/board-$r" ] ||
		{ echo "Bail out! $top_builddir/fcgi/board-$r not built"; exit 1; }
done

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/board-headers.XXXXXX")
. "$top_srcdir/tests/it/lib.sh"
. "$top_srcdir/script/stack.sh"
cleanup() {
	stack_stop
	it_finish_tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

it_test_env

stack_start_redis "$IT_TMP/redis" || bail "redis-server did not start"
stack_start_responders "$top_builddir" "$IT_TMP/run" 1 ||
	bail "responders did not start"

# get PATH [CURL-ARGS]: headers of the answer in $H (lower-case names).
get() {
	_p=$1
	shift
	H=$(curl -sS -o /dev/null -D - --max-time 10 "$@" "$BASE$_p" |
		tr -d '\r' | awk -F: '{ printf "%s:%s\n", tolower($1), substr($0, length($1) + 2) }')
}
has() {
	# has NAME-REGEX VALUE-REGEX DESCRIPTION
	if printf '%s\n' "$H" | grep -Eiq "^$1: *$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "headers were: $(printf '%s' "$H" | tr '\n' '|')"
	fi
}
hasnt() {
	if printf '%s\n' "$H" | grep -Eiq "^$1:"; then
		ok 1 "$2"
		diag "headers were: $(printf '%s' "$H" | tr '\n' '|')"
	else
		ok 0 "$2"
	fi
}

for front in $fronts; do
	run=$IT_TMP/run-$front
	mkdir -p "$run"
	for r in signup login posts; do
		ln -sf "$IT_TMP/run/$r.sock" "$run/$r.sock"
	done
	port=$(stack_free_port)
	stack_start_front "$front" "$top_srcdir" "$run" "$port" ||
		bail "$front did not start: $(tail -3 "$run/front-error.log" 2>/dev/null)"
	front_pid=$FRONT_PID
	BASE=http://127.0.0.1:$port

	get /
	has content-security-policy ".*frame-ancestors 'none'" \
		"$front: the page may not be framed (CSP frame-ancestors)"
	has content-security-policy "default-src 'self'" \
		"$front: the page loads only its own scripts (CSP default-src)"
	has x-content-type-options nosniff "$front: the page: nosniff"
	has referrer-policy same-origin "$front: the page: Referrer-Policy"

	for p in /api/posts /api/auth/me /api/nope; do
		get "$p" -H "Origin: https://evil.example"
		has x-content-type-options nosniff "$front: GET $p: nosniff"
		has cache-control no-store "$front: GET $p: Cache-Control no-store"
		has content-security-policy ".*frame-ancestors 'none'" \
			"$front: GET $p: may not be framed"
		hasnt access-control-allow-origin \
			"$front: GET $p with a foreign Origin: no CORS grant"
	done
	get /api/posts -X OPTIONS -H "Origin: https://evil.example" \
		-H "Access-Control-Request-Method: DELETE"
	hasnt access-control-allow-origin "$front: a CORS preflight is not granted"
	hasnt access-control-allow-methods "$front: nor any method"

	# Static files: no way out of www/ (the answer is a 4xx, not a file).
	for u in /../../../../etc/passwd /%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd \
	    /..%2f..%2f..%2f..%2fetc%2fpasswd /%2e%2e%5c%2e%2e%5cetc%5cpasswd \
	    /index.html%00.txt; do
		st=$(curl -sS --path-as-is -o "$IT_TMP/static.body" \
			-w '%{http_code}' --max-time 10 "$BASE$u")
		if grep -q '^root:' "$IT_TMP/static.body"; then
			ok 1 "$front: GET $u: serves /etc/passwd"
		else
			like "$st" '^4[0-9][0-9]$' "$front: GET $u: a 4xx, no file"
		fi
	done

	# The front server's own JSON answer when a responder is missing.
	rm -f "$run/posts.sock"
	get /api/posts
	has x-content-type-options nosniff \
		"$front: its own answer with the responder gone: nosniff"
	has cache-control no-store \
		"$front: its own answer with the responder gone: Cache-Control no-store"
	ln -sf "$IT_TMP/run/posts.sock" "$run/posts.sock"
	# And its own answer to a URL it refuses (%00), made before any
	# responder sees the request.
	get /api/posts/%00
	has x-content-type-options nosniff "$front: its own 400 for %00: nosniff"
	has cache-control no-store "$front: its own 400 for %00: Cache-Control no-store"
	has content-security-policy ".*frame-ancestors 'none'" \
		"$front: its own 400 for %00: may not be framed"

	stack_stop_pids "$front_pid"
done

done_testing
