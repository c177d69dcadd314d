#!/bin/bash
# mongo-tls.sh: the MongoDB backend over TLS, as DocumentDB requires it
# (tls=true&tlsCAFile=...). jongodb has no TLS, so stunnel terminates TLS
# in front of it with a throwaway CA made here. Runs the MongoDB unit test
# through the tunnel, then checks that an untrusted server is refused.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/it/mongo-lib.sh"

TEST_BIN=${TEST_STORE_MONGO:-$top_builddir/tests/test-store-mongo}
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)

if [ -z "$STUNNEL" ] || ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP stunnel4 or openssl missing"
	exit 0
fi
if [ ! -x "$TEST_BIN" ]; then
	echo "1..0 # SKIP $TEST_BIN not built"
	exit 0
fi

tmp=$(mktemp -d)
STUNNEL_PID=
cleanup() {
	[ -n "$STUNNEL_PID" ] && kill "$STUNNEL_PID" 2>/dev/null
	mongo_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failed=0
check() {	# check DESCRIPTION COMMAND...
	local d=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $d"
	else
		echo "not ok $n - $d"
		failed=$((failed + 1))
	fi
}

# A CA, a server certificate for 127.0.0.1 signed by it, and a second CA
# that signed nothing (the "wrong bundle").
mkcerts() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=board test CA" \
		-keyout "$tmp/ca.key" -out "$tmp/ca.pem" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout "$tmp/other.key" -out "$tmp/other.pem" &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$tmp/server.key" -out "$tmp/server.csr" &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/san.ext" &&
	openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" \
		-CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
		-extfile "$tmp/san.ext" -out "$tmp/server.crt" &&
	(umask 077 && cat "$tmp/server.crt" "$tmp/server.key" >"$tmp/server.pem")
} >"$tmp/openssl.log" 2>&1

start_stunnel() {
	local i
	TLS_PORT=$(mongo_free_port) || return 1
	cat >"$tmp/stunnel.conf" <<-EOF
	foreground = yes
	pid =
	debug = 5
	output = $tmp/stunnel.log
	[mongo]
	accept = 127.0.0.1:$TLS_PORT
	connect = 127.0.0.1:$MONGO_PORT
	cert = $tmp/server.pem
	EOF
	"$STUNNEL" "$tmp/stunnel.conf" >/dev/null 2>&1 </dev/null &
	STUNNEL_PID=$!
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null && return 0
		kill -0 "$STUNNEL_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Runs the unit test against a URI; its TAP goes to a log, indented.
run_unit() {	# run_unit NAME URI
	BOARD_TEST_MONGODB_URI=$2 srcdir=$top_srcdir "$TEST_BIN" \
		>"$tmp/$1.log" 2>&1
}

check "make a throwaway CA and server certificate" mkcerts
check "start jongodb" mongo_start "$tmp"
check "start stunnel in front of it" start_stunnel
if [ $failed -ne 0 ]; then
	echo "Bail out! setup failed"
	sed 's/^/# /' "$tmp"/*.log
	exit 1
fi

base="mongodb://127.0.0.1:$TLS_PORT/board"
check "the MongoDB unit test passes over TLS (tls=true&tlsCAFile=)" \
	run_unit tls "$base?tls=true&tlsCAFile=$tmp/ca.pem"
check "  and really went through stunnel" \
	grep -q "accepted connection" "$tmp/stunnel.log"
check "a DocumentDB-style URI minus replicaSet works over TLS" \
	run_unit docdb "$base?tls=true&tlsCAFile=$tmp/ca.pem&readPreference=secondaryPreferred&retryWrites=false"
check "a server signed by another CA is refused" \
	grep -q "^not ok 1 - opens the test server" \
	<(run_unit wrongca "$base?tls=true&tlsCAFile=$tmp/other.pem"; cat "$tmp/wrongca.log")
check "so is a plain connection to the TLS port" \
	grep -q "^not ok 1 - opens the test server" \
	<(run_unit plain "$base"; cat "$tmp/plain.log")

if [ $failed -ne 0 ]; then
	for f in "$tmp"/*.log; do
		echo "# --- $f"
		grep -v '^ok ' "$f" | sed 's/^/#   /' | head -40
	done
fi
echo "1..$n"
[ $failed -eq 0 ]
