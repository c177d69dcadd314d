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
# Every response is also checked in passing: the status goes to
# $IT_TMP/statuses, and a body without the API's Content-Type and
# Cache-Control, or an error without "error" and "message", is recorded in
# $IT_TMP/violations, for summary checks at the end (it_summary).

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
		for f in "$IT_TMP"/*/responders.log "$IT_TMP"/*/front-error.log; do
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
	RUN=$IT_TMP/run
	stack_start_redis "$IT_TMP/redis" || bail "redis-server did not start"
	stack_start_responders "$top_builddir" "$RUN" "$_workers" || bail \
		"responders did not start: $(tail -3 "$RUN/responders.log")"
}

_it_private_stack_stop() {
	for _p in $OWN_PIDS; do kill -KILL "$_p" 2>/dev/null; done
	for _p in $OWN_PIDS; do wait "$_p" 2>/dev/null; done
	stack_stop
	it_finish_tmp
}
