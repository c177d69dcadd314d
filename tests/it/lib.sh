# lib.sh: TAP and HTTP helpers for the integration tests (bash). Source it after
# setting IT_TMP (a private directory) and BASE (http://127.0.0.1:PORT).
#
#	ok STATUS DESC		ok when STATUS is 0
#	is GOT WANT DESC	string equality, shows both on failure
#	like GOT ERE DESC	grep -E match
#	check DESC CMD...	ok when CMD succeeds
#	diag MSG...		MSG as a TAP comment, every line of it
#	req METHOD PATH [BODY] [CURL-ARGS...]
#		BODY is a string, @FILE for bytes from a file, or - (or
#		nothing, when CURL-ARGS follow) for none.
#		A body gets Content-Type: application/json unless REQ_CT is
#		set (REQ_CT=none sends no Content-Type). Sets STATUS, BODY
#		(the response body) and HDRS (file of response headers).
#	hdr NAME		a header of the last response ("" if absent)
#	jf [OPTS] FILTER	jq -r on the last response body
#	expect_error STATUS CODE DESC [FIELD]
#		the last response is that error (and names FIELD)
#	done_testing		prints the plan; exit status for the script
#	it_test_env		exports the settings of a private test stack in
#				$IT_TMP (config, SQLite file, secret, cheap Argon2)
#	it_finish_tmp		after the stack is stopped: on failure (or with
#				BOARD_IT_KEEP) shows the last log lines, then
#				removes $IT_TMP unless BOARD_IT_KEEP is set
#	it_private_stack NAME WORKERS CMD...
#		the start of a test against its own stack: bails out
#		unless every CMD is installed and the responders are
#		built; makes IT_TMP (board-NAME.XXXXXX), sources
#		script/stack.sh, stops on exit the PIDs in OWN_PIDS (the
#		test's own helpers), then the stack, then it_finish_tmp;
#		exports it_test_env's settings (no MongoDB, AWS secret or
#		trusted proxies) and starts a private Redis and the three
#		responders, WORKERS each, in RUN=$IT_TMP/run
#
# For the scripts that run a stack of their own (with script/stack.sh):
#	it_need CMD...		skips the whole script unless every CMD is
#				installed (PATH, /usr/sbin, /usr/bin); adds
#				/usr/sbin to PATH
#	it_need_responders	bails out unless the responders are built
#	it_stack DIR FRONT WORKERS
#				Redis in DIR/redis, the responders (WORKERS
#				each) and FRONT (lighttpd or nginx) on a free
#				port, from DIR/run; bails out when one fails.
#				Sets REDIS_DIR, RSOCK, RUN, PORT and BASE
#	it_stop_redis		stops that Redis (SIGTERM, at most 5 s)
#	rcli ARGS...		redis-cli on $RSOCK
#	creds USER PASS		{"username":..., "password":...}
#	xff			a new "X-Forwarded-For: 10.1.x.y" at each call,
#				also in a $(...) (the count is in $IT_TMP/xff),
#				so that the per-address login throttle bites
#				only where a test means it to (BOARD_TRUSTED_
#				PROXIES=127.0.0.1)
#	login USER PASS [CURL-ARGS]
#				POST /api/auth/login from a new address; sets
#				COOKIE ("name=value") on a 200, else ""
#	cookie_sid COOKIE	the session id in "name=s%3A<id>.<signature>"
#	it_log_check LOG DESC [WHAT:TEXT]...
#				LOG has no sanitizer report and no TEXT
#	it_summary		the checks over every response (below)
#
# Every response is also checked in passing: the status goes to
# $IT_TMP/statuses, and a body without the API's Content-Type and
# Cache-Control, or an error without "error" and "message", is recorded in
# $IT_TMP/violations, for the summary checks at the end (it_summary). A 503
# counts as a 5xx unless EXPECT_503=1 was set for its request.

T_N=0
T_FAILED=0
REQ_N=0
EXPECT_503=0

ok() {
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %.300s\n#   want: %.300s\n' "$1" "$2"
		[ -n "${REQ_LAST:-}" ] && printf '#   (last request: %s -> %s %.200s)\n' \
			"$REQ_LAST" "$STATUS" "$BODY"
	fi
	return 0
}

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %.300s\n#   want: /%s/\n' "$1" "$2"
	fi
	return 0
}

check() {
	_d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok 0 "$_d"; else ok 1 "$_d"; fi
	return 0
}

diag() {
	# Every line commented, so that a multi-line message stays TAP.
	printf '%s\n' "$*" | sed 's/^/# /'
}

bail() {
	echo "Bail out! $*"
	exit 1
}

hdr() {
	# Last value of header $1 (case-insensitive), without CR.
	awk -v n="$(printf '%s' "$1" | tr 'A-Z' 'a-z')" '
		BEGIN { FS = ":" }
		{ sub(/\r$/, "") }
		tolower($1) == n { v = substr($0, length($1) + 2); sub(/^[ \t]+/, "", v) }
		END { print v }' "$HDRS"
}

jf() {
	printf '%s' "$BODY" | jq -r "$@" 2>/dev/null
}

req() {
	_m=$1 _p=$2
	shift 2
	_b=-
	case ${1:-} in
	-?*) ;;	# curl options follow: no body
	*)
		if [ $# -gt 0 ]; then
			_b=$1
			shift
		fi
		;;
	esac
	REQ_N=$((REQ_N + 1))
	HDRS=$IT_TMP/resp.hdrs
	_bf=$IT_TMP/resp.body
	set -- -sS --path-as-is -o "$_bf" -D "$HDRS" -w '%{http_code}' \
		--max-time 20 -X "$_m" "$@"
	if [ "$_b" = - ]; then
		# No body. A POST/PATCH/DELETE still says Content-Length: 0, as
		# browsers do (lighttpd answers 411 to a POST without one).
		case $_m in
		POST | PUT | PATCH) set -- "$@" --data-binary '' -H 'Content-Type:' ;;
		esac
	else
		case $_b in
		@*) set -- "$@" --data-binary "$_b" ;;
		*)
			printf '%s' "$_b" >"$IT_TMP/req.body"
			set -- "$@" --data-binary "@$IT_TMP/req.body"
			;;
		esac
		case ${REQ_CT:-application/json} in
		none) set -- "$@" -H 'Content-Type:' ;;
		*) set -- "$@" -H "Content-Type: ${REQ_CT:-application/json}" ;;
		esac
	fi
	: >"$_bf"
	: >"$HDRS"
	STATUS=$(curl "$@" "$BASE$_p" 2>"$IT_TMP/curl.err") || STATUS=000
	BODY=$(<"$_bf")
	REQ_LAST="$_m $_p"
	echo "$STATUS $_m $_p" >>"$IT_TMP/statuses"
	_req_audit
}

_req_audit() {
	_v=$IT_TMP/violations
	case $STATUS in
	000) echo "no answer: $REQ_LAST ($(cat "$IT_TMP/curl.err"))" >>"$_v" ;;
	503) [ "$EXPECT_503" = 1 ] || echo "unexpected 503: $REQ_LAST" >>"$_v" ;;
	5*) echo "status $STATUS: $REQ_LAST" >>"$_v" ;;
	esac
	# Only the API's own answers; REQ_NOAUDIT=1 marks a request that the
	# front server may refuse itself, with its own (HTML) error page.
	case $REQ_LAST in
	*" /api"*) [ "${REQ_NOAUDIT:-0}" = 1 ] && return 0 ;;
	*) return 0 ;;
	esac
	# One jq for the body: N not an object, E an error object, O other.
	_kind=
	[ -n "$BODY" ] && _kind=$(printf '%s' "$BODY" | jq -r 'if type != "object"
		then "N" elif (.error | type == "string") and
		(.message | type == "string") and .message != "" then "E"
		else "O" end' 2>/dev/null)
	if [ -s "$IT_TMP/resp.body" ]; then
		_hs=$(awk 'BEGIN { FS = ":" }
			{ sub(/\r$/, ""); n = tolower($1); v = substr($0, length($1) + 2)
			  sub(/^[ \t]+/, "", v) }
			n == "content-type" { ct = v }
			n == "cache-control" { cc = v }
			END { print ct "|" cc }' "$HDRS")
		[ "${_hs%%|*}" = "application/json; charset=utf-8" ] ||
			echo "Content-Type '${_hs%%|*}': $REQ_LAST -> $STATUS" >>"$_v"
		[ "${_hs#*|}" = "no-store" ] ||
			echo "Cache-Control '${_hs#*|}': $REQ_LAST -> $STATUS" >>"$_v"
		[ "$_kind" != N ] ||
			echo "body not a JSON object: $REQ_LAST -> $STATUS" >>"$_v"
	fi
	case $STATUS:$REQ_LAST in
	*" /api/health") ;;	# its 503 has the health body, not an error
	4*:* | 5*:*)
		[ "$_kind" = E ] ||
			echo "error body without error+message: $REQ_LAST -> $STATUS" >>"$_v"
		;;
	esac
	return 0
}

# expect_error STATUS CODE DESC [FIELD]
expect_error() {
	_want="$1 $2"
	_got="$STATUS $(jf .error)"
	if [ $# -ge 4 ]; then
		_want="$_want $4"
		_got="$_got $(jf .field)"
	fi
	is "$_got" "$_want" "$3"
}

# A JSON string literal for $1.
jstr() {
	printf '%s' "$1" | jq -Rs .
}

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ] || echo "# $T_FAILED of $T_N failed"
	[ "$T_FAILED" -eq 0 ]
}

it_test_env() {
	export BOARD_CONFIG=$top_srcdir/etc/board.conf
	export BOARD_DB=$IT_TMP/board.db
	export SESSION_SECRET_FILE=$IT_TMP/secret
	export BOARD_PWHASH_OPSLIMIT=1 BOARD_PWHASH_MEMLIMIT_KIB=8
}

it_finish_tmp() {
	if [ "$T_FAILED" -ne 0 ] || [ -n "${BOARD_IT_KEEP:-}" ]; then
		for f in "$IT_TMP"/*/responders.log "$IT_TMP"/*/front-error.log \
		    "$IT_TMP"/*/*/responders.log "$IT_TMP"/*/*/front-error.log; do
			[ -s "$f" ] || continue
			echo "# last lines of ${f#"$IT_TMP"/}:"
			tail -n 15 "$f" | sed 's/^/#   /'
		done
	fi
	if [ -n "${BOARD_IT_KEEP:-}" ]; then
		echo "# kept $IT_TMP"
	else
		rm -rf "$IT_TMP"
	fi
}

it_need() {
	for _p; do
		command -v "$_p" >/dev/null 2>&1 || [ -x "/usr/sbin/$_p" ] ||
			[ -x "/usr/bin/$_p" ] ||
			{ echo "1..0 # SKIP $_p not installed"; exit 0; }
	done
	PATH=$PATH:/usr/sbin
}

it_need_responders() {
	for _r in signup login posts; do
		[ -x "$top_builddir/fcgi/board-$_r" ] ||
			bail "$top_builddir/fcgi/board-$_r not built"
	done
}

# it_backend DIR WORKERS: a private Redis in DIR/redis and the three
# responders, WORKERS each, in RUN=DIR/run (it_stack and it_private_stack).
it_backend() {
	REDIS_DIR=$1/redis
	RSOCK=$REDIS_DIR/redis.sock
	RUN=$1/run
	stack_start_redis "$REDIS_DIR" || bail "redis-server did not start"
	stack_start_responders "$top_builddir" "$RUN" "$2" ||
		bail "responders did not start: $(tail -3 "$RUN/responders.log")"
}

it_stack() {
	it_backend "$1" "$3"
	PORT=$(stack_free_port)
	stack_start_front "$2" "$top_srcdir" "$RUN" "$PORT" ||
		bail "$2 did not start: $(tail -3 "$RUN/front-error.log" \
		    "$RUN/responders.log" 2>/dev/null)"
	BASE=http://127.0.0.1:$PORT
}

# Once it is gone, its PID leaves STACK_PIDS: stack_stop must not signal
# whatever process gets that PID next.
it_stop_redis() {
	kill -TERM "$REDIS_PID" 2>/dev/null
	for _i in $(seq 1 50); do
		kill -0 "$REDIS_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$REDIS_PID" 2>/dev/null && return 1
	wait "$REDIS_PID" 2>/dev/null
	STACK_PIDS=$(printf ' %s ' $STACK_PIDS | sed "s/ $REDIS_PID / /")
	return 0
}

rcli() {
	redis-cli -s "$RSOCK" "$@"
}

creds() {
	jq -cn --arg u "$1" --arg p "$2" '{username: $u, password: $p}'
}

xff() {
	_n=$(($(cat "$IT_TMP/xff" 2>/dev/null || echo 0) + 1))
	echo "$_n" >"$IT_TMP/xff"
	echo "X-Forwarded-For: 10.1.$((_n / 250 % 250)).$((_n % 250 + 1))"
}

login() {
	_u=$1 _pw=$2
	shift 2
	req POST /api/auth/login "$(creds "$_u" "$_pw")" -H "$(xff)" "$@"
	COOKIE=
	[ "$STATUS" = 200 ] && COOKIE=$(hdr Set-Cookie | cut -d';' -f1)
	return 0
}

cookie_sid() {
	_v=${1#*=}
	_v=$(printf '%b' "$(printf '%s' "$_v" |
		sed 's/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')")
	_v=${_v#s:}
	echo "${_v%.*}"
}

it_log_check() {
	_log=$1 _d=$2
	shift 2
	if [ ! -f "$_log" ]; then
		ok 1 "$_d: the responders' log $_log is there"
		return 0
	fi
	is "$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: ' \
	    "$_log" | head -n 5)" "" "$_d: no sanitizer report from the responders"
	for _w; do
		if grep -qF -- "${_w#*:}" "$_log"; then
			ok 1 "$_d: the responders' log holds ${_w%%:*}"
		else
			ok 0 "$_d: the responders' log does not hold ${_w%%:*}"
		fi
	done
}

it_summary() {
	_v=$IT_TMP/violations
	is "$(grep -v '^unexpected 503\|^status 5\|^no answer' "$_v" 2>/dev/null)" "" \
		"every response with a body: JSON, charset=utf-8, no-store; errors have error+message"
	is "$(grep '^status 5\|^no answer' "$_v" 2>/dev/null)" "" \
		"no 5xx but 503, no dropped connection, in $REQ_N requests"
	is "$(grep '^unexpected 503' "$_v" 2>/dev/null)" "" \
		"no 503 but the deliberate ones"
}

it_private_stack() {
	_name=$1 _workers=$2
	shift 2
	PATH=$PATH:/usr/sbin:/sbin
	for _p in "$@"; do
		command -v "$_p" >/dev/null 2>&1 || bail "$_p is not" \
			"installed (script/bootstrap installs it)"
	done
	for _r in signup login posts; do
		[ -x "$top_builddir/fcgi/board-$_r" ] ||
			bail "$top_builddir/fcgi/board-$_r not built"
	done
	IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/board-$_name.XXXXXX")
	. "$top_srcdir/script/stack.sh"
	OWN_PIDS=
	trap _it_private_stack_stop EXIT
	trap 'exit 1' INT TERM HUP
	it_test_env
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	unset MONGODB_URI SESSION_SECRET_NAME BOARD_TRUSTED_PROXIES
	it_backend "$IT_TMP" "$_workers"
}

_it_private_stack_stop() {
	for _p in $OWN_PIDS; do kill -KILL "$_p" 2>/dev/null; done
	for _p in $OWN_PIDS; do wait "$_p" 2>/dev/null; done
	stack_stop
	it_finish_tmp
}
