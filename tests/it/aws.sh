#!/bin/bash
# aws.sh: the Secrets Manager client and the AWS credential chain against
# tests/aws/fake-aws.js, a loopback stand-in that recomputes every SigV4
# signature with the AWS JavaScript signer. Checks the stand-in itself
# first (it must refuse what AWS refuses), then runs tests/test-secret-aws
# against it, then checks that no secret value reached any output.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
prog=$top_builddir/tests/test-secret-aws
node_modules=${BOARD_NODE_MODULES:-$top_srcdir/tests/node_modules}

for p in node curl; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "1..0 # SKIP $p not installed"
		exit 0
	fi
done
if [ ! -d "$node_modules/@smithy/signature-v4" ]; then
	echo "1..0 # SKIP $node_modules: no @smithy/signature-v4 (npm ci in tests/)"
	exit 0
fi
if [ ! -x "$prog" ]; then
	echo "Bail out! $prog not built (make check builds it)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-aws.XXXXXX")
. "$top_srcdir/script/stack.sh"
cleanup() {
	stack_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

IT_TMP=$tmp
. "$top_srcdir/tests/it/lib.sh"

BOARD_NODE_MODULES=$node_modules node "$top_srcdir/tests/aws/fake-aws.js" \
	>"$tmp/fake.out" 2>"$tmp/fake.err" &
_stack_track $!
port=
i=0
while [ $i -lt 100 ]; do
	port=$(sed -n 's/^PORT=\([0-9][0-9]*\)$/\1/p' "$tmp/fake.out")
	[ -n "$port" ] && break
	i=$((i + 1))
	sleep 0.1
done
if [ -z "$port" ]; then
	echo "Bail out! fake-aws.js did not start"
	sed 's/^/# /' "$tmp/fake.err"
	exit 1
fi
url=http://127.0.0.1:$port

curl -sf -o /dev/null -X POST "$url/_admin/secret" \
	-d '{"name":"cli/secret","value":"cli-VALUE"}' || {
	echo "Bail out! admin call failed"
	exit 1
}

# sm CURL-ARGS...: a GetSecretValue from the curl tool (same libcurl);
# prints the status and the __type, or OK.
sm() {
	curl -s -o "$tmp/body" -w '%{http_code}' "$url/" "$@" \
		>"$tmp/status" 2>/dev/null
	printf '%s %s' "$(cat "$tmp/status")" \
		"$(sed -n 's/.*"__type":"\([^"]*\)".*/\1/p' "$tmp/body")"
}
sign="--aws-sigv4 aws:amz:us-east-1:secretsmanager"
key=AKIDFAKEAWSTEST00001:fake/secret/key/for/tests/only/0001
ct='Content-Type: application/x-amz-json-1.1'
tgt='X-Amz-Target: secretsmanager.GetSecretValue'
body='{"SecretId":"cli/secret"}'

# shellcheck disable=SC2086
got=$(sm $sign -u "$key" -H "$ct" -H "$tgt" -d "$body")
ok "$([ "$got" = "200 " ]; echo $?)" \
	"stand-in: a request signed by libcurl (sigv4, headers as awscred.c sets them) passes ($got)"
got=$(sm -H "$ct" -H "$tgt" -d "$body")
ok "$([ "$got" = "400 MissingAuthenticationTokenException" ]; echo $?)" \
	"stand-in: an unsigned request is refused ($got)"
# shellcheck disable=SC2086
got=$(sm $sign -u "${key}x" -H "$ct" -H "$tgt" -d "$body")
ok "$([ "$got" = "400 InvalidSignatureException" ]; echo $?)" \
	"stand-in: a wrong secret key is refused ($got)"
# libcurl 7.88 signs a removal header it does not send (curl #11664).
# shellcheck disable=SC2086
got=$(sm $sign -u "$key" -H "$ct" -H "$tgt" -H 'Expect:' -d "$body")
ok "$([ "$got" = "400 InvalidSignatureException" ]; echo $?)" \
	"stand-in: catches libcurl 7.88's signed-but-unsent header ($got)"
# shellcheck disable=SC2086
got=$(sm $sign -u "$key" -H "$ct" \
	-H 'X-Amz-Target: secretsmanager.ListSecrets' -d "$body")
ok "$([ "$got" = "400 com.amazon.coral.service#UnknownOperationException" ]; echo $?)" \
	"stand-in: another operation is refused ($got)"
# shellcheck disable=SC2086
got=$(sm $sign -u "$key" -H 'Content-Type: application/json' -H "$tgt" \
	-d "$body")
ok "$([ "$got" = "400 com.amazon.coral.service#SerializationException" ]; echo $?)" \
	"stand-in: the wrong content type is refused ($got)"

# The C client, every credential source and failure (TAP, renumbered).
BOARD_TEST_AWS_ENDPOINT=$url "$prog" >"$tmp/unit.out" 2>"$tmp/unit.err"
status=$?
ok "$status" "test-secret-aws exits 0"
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$tmp/unit.out")
ok "$([ "${plan:-0}" -gt 100 ]; echo $?)" \
	"test-secret-aws ran its plan (${plan:-none} tests)"
while IFS= read -r line; do
	case $line in
	"ok "*)
		ok 0 "unit: ${line#ok * - }" ;;
	"not ok "*)
		ok 1 "unit: ${line#not ok * - }" ;;
	"#"*)
		echo "$line" ;;
	esac
done <"$tmp/unit.out"
if [ "$status" -ne 0 ] || grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error' \
	"$tmp/unit.err"; then
	sed 's/^/# stderr: /' "$tmp/unit.err"
fi
ok "$(! grep -q 'Sanitizer\|runtime error' "$tmp/unit.err"; echo $?)" \
	"no sanitizer report"

# No secret value or secret key in anything the client printed or logged.
leaks=$(cat "$tmp/unit.out" "$tmp/unit.err" |
	grep -c -e '-VALUE' -e 'fake/secret/key/for/tests' -e 'tok-abc')
ok "$([ "$leaks" -eq 0 ]; echo $?)" \
	"no secret value, key or token in the test's output or logs"
ok "$(grep -q 'expired early' "$tmp/unit.err"; echo $?)" \
	"an early ExpiredTokenException is logged"
ok "$(grep -q 'credential refresh failed, keeping' "$tmp/unit.err"; echo $?)" \
	"a failed refresh of unexpired credentials is logged"
ok "$([ ! -s "$tmp/fake.err" ]; echo $?)" "the stand-in logged no fault"
[ -s "$tmp/fake.err" ] && sed 's/^/# fake-aws: /' "$tmp/fake.err"

done_testing
