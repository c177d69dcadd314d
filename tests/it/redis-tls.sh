#!/bin/bash
# redis-tls.sh: sessions in a TLS-only Redis (as ElastiCache with in-transit
# encryption), reached through a local stunnel client because Debian's
# hiredis 0.14 has no TLS. Also: a rediss:// URL is refused at start with a
# message pointing at stunnel, and a tunnel that cannot verify the server's
# certificate gives 503, never a session.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}

for p in redis-server redis-cli stunnel4 openssl lighttpd spawn-fcgi multiwatch curl jq node; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "1..0 # SKIP $p not installed"
		exit 0
	fi
done

. "$top_srcdir/script/stack.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-tls.XXXXXX")
trap 'stack_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

IT_TMP=$tmp
. "$top_srcdir/tests/it/lib.sh"

# A throwaway CA and a server certificate for "localhost".
cd "$tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=board-test-ca \
	-keyout ca.key -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
	-keyout server.key -out server.csr >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-days 2 -extfile san.ext -out server.pem >/dev/null 2>&1
# Another CA that did not sign the server: a tunnel trusting it must fail.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca \
	-keyout other.key -out other.pem >/dev/null 2>&1
ok $? "made a test CA and server certificate"

tls_port=$(stack_free_port)
pw=tls-test-password
redis-server --port 0 --tls-port "$tls_port" --bind 127.0.0.1 \
	--tls-cert-file server.pem --tls-key-file server.key \
	--tls-ca-cert-file ca.pem --tls-auth-clients no \
	--requirepass "$pw" --save "" --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
_stack_track $!
rcli() {
	redis-cli --tls --cacert "$tmp/ca.pem" -h 127.0.0.1 -p "$tls_port" \
		--no-auth-warning -a "$pw" "$@"
}
stack_wait "TLS redis" 10 rcli ping
ok $? "redis answers on its TLS port only"

# stunnel client mode, as README.md documents for ElastiCache.
tunnel() {	# tunnel NAME CAFILE PORT
	cat >"$tmp/$1.conf" <<EOF
foreground = yes
pid =
[redis]
client = yes
accept = 127.0.0.1:$3
connect = 127.0.0.1:$tls_port
verifyChain = yes
CAfile = $2
checkHost = localhost
EOF
	stunnel4 "$tmp/$1.conf" >"$tmp/$1.log" 2>&1 &
	_stack_track $!
	stack_wait "stunnel $1" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$3"
}
good_port=$(stack_free_port)
tunnel good "$tmp/ca.pem" "$good_port"
ok $? "stunnel client listens on 127.0.0.1:$good_port"

export BOARD_CONFIG=$top_srcdir/etc/board.conf
export BOARD_DB=$tmp/board.db SESSION_SECRET_FILE=$tmp/secret
export BOARD_PWHASH_OPSLIMIT=1 BOARD_PWHASH_MEMLIMIT_KIB=8
unset MONGODB_URI

# rediss:// cannot work with hiredis 0.14: refused at start, naming stunnel.
msg=$(REDIS_URL="rediss://:x@127.0.0.1:$tls_port" \
	"$top_builddir/fcgi/board-posts" </dev/null 2>&1)
rc=$?
[ $rc -ne 0 ] && case $msg in *REDIS_URL*stunnel*) true ;; *) false ;; esac
ok $? "a rediss:// URL stops start-up with a message naming REDIS_URL and stunnel"
[ $rc -ne 0 ] || echo "#   exit $rc: $msg"
case $msg in *"x@"*) ok 1 "the message hides the password" ;;
*) ok 0 "the message hides the password" ;; esac

export REDIS_URL="redis://:$pw@127.0.0.1:$good_port"
port=$(stack_free_port)
stack_start_responders "$top_builddir" "$tmp/run" 1 &&
	stack_start_front lighttpd "$top_srcdir" "$tmp/run" "$port"
ok $? "stack up with REDIS_URL pointing at the tunnel"
base=http://127.0.0.1:$port

health=$(curl -s "$base/api/health" | jq -c .checks)
is "$health" '{"sessions":"ok","store":"ok"}' "health: sessions ok through TLS"

user=tls$RANDOM$$
body="{\"username\":\"$user\",\"password\":\"password123\"}"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "$body" "$base/api/auth/signup")
is "$code" 201 "signup"
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$tmp/jar" \
	-H 'Content-Type: application/json' -d "$body" "$base/api/auth/login")
is "$code" 200 "login stores a session through the tunnel"
got=$(curl -s -b "$tmp/jar" "$base/api/auth/me" | jq -r .username)
is "$got" "$user" "me reads the session back through the tunnel"
sid=$(awk '$6 == "board.sid" {print $7}' "$tmp/jar" | sed 's/^s%3A//; s/\..*//')
stored=$(rcli get "sess:$sid" | jq -r .username)
is "$stored" "$user" "the session is in the TLS Redis under sess:<id>"

# A tunnel that cannot verify the server: no session, 503 not 401.
stack_stop
bad_port=$(stack_free_port)
redis-server --port 0 --tls-port "$tls_port" --bind 127.0.0.1 \
	--tls-cert-file server.pem --tls-key-file server.key \
	--tls-ca-cert-file ca.pem --tls-auth-clients no \
	--requirepass "$pw" --save "" --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
_stack_track $!
stack_wait "TLS redis" 10 rcli ping
tunnel bad "$tmp/other.pem" "$bad_port"
export REDIS_URL="redis://:$pw@127.0.0.1:$bad_port"
stack_start_responders "$top_builddir" "$tmp/run" 1
port=$(stack_free_port)
stack_start_front lighttpd "$top_srcdir" "$tmp/run" "$port"
code=$(curl -s -o "$tmp/h" -w '%{http_code}' "http://127.0.0.1:$port/api/health")
is "$code" 503 "an unverifiable Redis certificate: health 503"
is "$(jq -r .checks.sessions "$tmp/h")" down "health names sessions down"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$tmp/jar" "http://127.0.0.1:$port/api/auth/me")
is "$code" 503 "me answers 503 (not 401) while Redis cannot be verified"
grep -q "certificate verify failed\|CERTIFICATE_VERIFY_FAILED\|verify" "$tmp/bad.log"
ok $? "stunnel logged the verification failure"

done_testing
