#!/bin/bash
# aws-rotation.sh: the whole stack (lighttpd, the responders, Redis) with
# its session secret in the Secrets Manager stand-in tests/aws/fake-aws.js.
#   - start-up fails with one line naming the secret and the AWS error
#     (missing, denied, unreachable, no region), never the value;
#   - a cookie signed by a secret the responder does not hold yet (rotated
#     in AWS) is accepted at once through the re-read on a miss;
#   - a cookie signed before a rotation works after it (AWSPREVIOUS), and
#     stops working after a second rotation;
#   - the refresh timer (BOARD_SECRET_REFRESH) picks up a rotation, and new
#     sessions are signed with the new AWSCURRENT;
#   - a failed refresh (AccessDenied) keeps the held secrets and is logged;
#   - no secret value appears in any log.
# Environment: top_srcdir, top_builddir, BOARD_NODE_MODULES.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${top_builddir:-}" ]; then
	top_builddir=.
	[ -x ./fcgi/board-login ] || top_builddir=$top_srcdir
fi
top_builddir=$(cd "$top_builddir" && pwd)
node_modules=${BOARD_NODE_MODULES:-$top_srcdir/tests/node_modules}
tool=$top_builddir/tests/session-tool

for p in redis-server redis-cli spawn-fcgi multiwatch lighttpd curl jq node; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "Bail out! $p is not installed (script/bootstrap installs it)"
		exit 1
	fi
done
for f in fcgi/board-signup fcgi/board-login fcgi/board-posts \
	tests/session-tool; do
	if [ ! -x "$top_builddir/$f" ]; then
		echo "Bail out! $top_builddir/$f is not built"
		exit 1
	fi
done
if [ ! -d "$node_modules/@smithy/signature-v4" ]; then
	echo "Bail out! $node_modules has no @smithy/signature-v4 (npm ci in tests/)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-aws-rotation.XXXXXX")
. "$top_srcdir/script/stack.sh"
cleanup() {
	stack_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

IT_TMP=$tmp
. "$top_srcdir/tests/it/lib.sh"

# The stand-in, tracked by stack_stop like everything else.
BOARD_NODE_MODULES=$node_modules node "$top_srcdir/tests/aws/fake-aws.js" \
	>"$tmp/fake.out" 2>"$tmp/fake.err" &
_stack_track $!
if ! stack_wait fake-aws.js 10 grep -q '^PORT=' "$tmp/fake.out"; then
	echo "Bail out! fake-aws.js did not start"
	exit 1
fi
aws=http://127.0.0.1:$(sed -n 's/^PORT=//p' "$tmp/fake.out")
admin() {	# admin PATH JSON
	curl -sf -o /dev/null -X POST "$aws/_admin/$1" -d "$2"
}
sm_ok() {
	curl -sf "$aws/_admin/state" | jq -r .counters.smOk
}
admin secret '{"name":"board/session","value":"rot-v1-VALUE"}'
admin secret '{"name":"board/denied","value":"denied-VALUE","denied":true}'

# What every process (responders, session-tool) is configured with.
: >"$tmp/board.conf"
unset SESSION_SECRET_FILE AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	AWS_CONTAINER_CREDENTIALS_FULL_URI
export BOARD_CONFIG=$tmp/board.conf
export BOARD_DB=$tmp/board.db
export SESSION_SECRET_NAME=board/session
export AWS_REGION=us-east-1
export BOARD_SECRETS_ENDPOINT=$aws
export AWS_ACCESS_KEY_ID=AKIDFAKEAWSTEST00001
export AWS_SECRET_ACCESS_KEY=fake/secret/key/for/tests/only/0001
export AWS_EC2_METADATA_DISABLED=true

# --- Start-up failures: exit non-zero, one line, secret and AWS code. ---
startup() {	# startup DESCRIPTION NEEDLE ENV-ASSIGNMENTS...
	_what=$1 _needle=$2
	shift 2
	env "$@" timeout 20 "$top_builddir/fcgi/board-login" \
		</dev/null >/dev/null 2>"$tmp/startup.err"
	_st=$?
	ok "$([ $_st -ne 0 ] && [ $_st -ne 124 ]; echo $?)" \
		"start-up, $_what: exits non-zero (status $_st)"
	ok "$(grep -qF -- "$_needle" "$tmp/startup.err"; echo $?)" \
		"start-up, $_what: says $_needle"
	is "$(wc -l <"$tmp/startup.err" | tr -d ' ')" 1 \
		"start-up, $_what: one line"
	sed 's/^/#   /' "$tmp/startup.err"
	cat "$tmp/startup.err" >>"$tmp/all-startup.err"
}
startup "missing secret" \
	'secret "board/missing": ResourceNotFoundException' \
	SESSION_SECRET_NAME=board/missing
startup "denied secret" 'secret "board/denied": AccessDeniedException' \
	SESSION_SECRET_NAME=board/denied
startup "wrong key" 'InvalidSignatureException' \
	AWS_SECRET_ACCESS_KEY=fake/secret/key/for/tests/only/0002
startup "unreachable endpoint" 'secret "board/session": POST http://127.0.0.1:1/' \
	BOARD_SECRETS_ENDPOINT=http://127.0.0.1:1
startup "no region" 'AWS_REGION' -u AWS_REGION

# --- The stack, refresh timer out of the way: only a miss re-reads. ---
if ! stack_start_redis "$tmp/redis"; then
	echo "Bail out! redis did not start"
	exit 1
fi
port=$(stack_free_port)
base=http://127.0.0.1:$port
BOARD_SECRET_REFRESH=3600 stack_start_responders "$top_builddir" "$tmp/run" 2 ||
	{ echo "Bail out! responders did not start"; sed 's/^/# /' "$tmp/run/responders.log"; exit 1; }
first_responders=$RESPONDER_PIDS
if ! stack_start_front lighttpd "$top_srcdir" "$tmp/run" "$port"; then
	echo "Bail out! lighttpd did not start"
	sed 's/^/# /' "$tmp/run/responders.log" "$tmp/run/front-error.log" 2>/dev/null
	exit 1
fi

json='Content-Type: application/json'
curl -s -o "$tmp/signup.json" -H "$json" "$base/api/auth/signup" \
	-d '{"username":"alice","password":"correct horse battery"}'
uid=$(jq -r .id "$tmp/signup.json")
login() {	# login JAR: prints the status
	curl -s -o /dev/null -w '%{http_code}' -c "$1" -H "$json" \
		"$base/api/auth/login" \
		-d '{"username":"alice","password":"correct horse battery"}'
}
me_jar() {	# me_jar JAR: prints the status of GET /api/auth/me
	curl -s -o /dev/null -w '%{http_code}' -b "$1" "$base/api/auth/me"
}
me_cookie() {	# me_cookie VALUE
	curl -s -o /dev/null -w '%{http_code}' \
		-H "Cookie: board.sid=$1" "$base/api/auth/me"
}
is "$(login "$tmp/a.jar")" 200 "login A with secret v1"
is "$(me_jar "$tmp/a.jar")" 200 "cookie A works"

admin rotate '{"name":"board/session","value":"rot-v2-VALUE"}'
m=$("$tool" mint "$uid" alice 2>>"$tmp/tool.err")
ok "$([ -n "$m" ]; echo $?)" "session-tool mints cookie M with v2 (AWSCURRENT)"
before=$(sm_ok)
is "$(me_cookie "$m")" 200 \
	"cookie M, signed by a secret the responder lacked, works (miss re-read)"
ok "$([ "$(sm_ok)" -gt "$before" ]; echo $?)" \
	"the miss made the responder read Secrets Manager again"
is "$(me_jar "$tmp/a.jar")" 200 "cookie A (now AWSPREVIOUS) still works"
bad=$(printf '%s' "$m" | sed 's/.$/A/')
[ "$bad" = "$m" ] && bad=$(printf '%s' "$m" | sed 's/.$/B/')
is "$(me_cookie "$bad")" 401 "a tampered cookie is still refused"

# --- The refresh timer: new responders re-reading every 2 s. ---
for p in $first_responders; do kill -TERM "$p" 2>/dev/null; done
for p in $first_responders; do
	stack_wait "responder $p to stop" 10 sh -c "! kill -0 $p" ||
		kill -KILL "$p" 2>/dev/null
done
BOARD_SECRET_REFRESH=2 stack_start_responders "$top_builddir" "$tmp/run" 2 ||
	{ echo "Bail out! responders did not restart"; exit 1; }
is "$(me_jar "$tmp/a.jar")" 200 "after a restart, cookie A (v1) works"
is "$(me_cookie "$m")" 200 "after a restart, cookie M (v2) works"

admin rotate '{"name":"board/session","value":"rot-v3-VALUE"}'
sleep 2.5
is "$(login "$tmp/d.jar")" 200 "login D after rotation to v3 and a refresh"
is "$(me_jar "$tmp/d.jar")" 200 "cookie D works"

admin rotate '{"name":"board/session","value":"rot-v4-VALUE"}'
sleep 2.5
is "$(me_jar "$tmp/d.jar")" 200 \
	"after rotation to v4, cookie D works: it was signed with v3, the new AWSCURRENT"
is "$(me_jar "$tmp/a.jar")" 401 "cookie A (v1) no longer works"
is "$(me_cookie "$m")" 401 "cookie M (v2) no longer works"

# --- A failed refresh keeps the held secrets. ---
admin deny '{"name":"board/session","denied":true}'
sleep 2.5
is "$(me_jar "$tmp/d.jar")" 200 "while AWS denies the secret, cookie D works"
is "$(login "$tmp/e.jar")" 200 "while AWS denies the secret, login works"
ok "$(grep -q 'refresh failed.*secret "board/session": AccessDeniedException' \
	"$tmp/run/responders.log"; echo $?)" "the failed refresh is logged with the AWS code"
admin deny '{"name":"board/session","denied":false}'

# --- Nothing secret in any log. ---
leaks=$(cat "$tmp/run/responders.log" "$tmp/run/front-error.log" \
	"$tmp/all-startup.err" "$tmp/tool.err" "$tmp/fake.err" 2>/dev/null |
	grep -c -e '-VALUE' -e 'fake/secret/key/for/tests')
is "$leaks" 0 "no secret value or AWS key in any log"
ok "$(! grep -q 'Sanitizer\|runtime error' "$tmp/run/responders.log"; echo $?)" \
	"no sanitizer report from the responders"

done_testing
