#!/bin/bash
# cluster.sh: a fleet of board hosts behind a health-checking load balancer
# (issue 12). Three hosts, each a whole script/server stack (lighttpd and
# the three responders) on its own loopback address, 127.0.1.1, 127.0.2.1
# and 127.0.3.1, sharing one Redis (persistence on), one MongoDB test server
# and one secret file, behind HAProxy checking GET /api/health every 500 ms
# (2 failures: down, 2 passes: up), as an AWS load balancer would. A steady
# mixed load of 8 clients (who am I, list, create, read; cluster-load.js)
# runs through HAProxy throughout, and each phase prints its figures:
#
#   steady     0 failed requests;
#   kill       one host SIGKILLed (every process of it): only requests in
#              flight to it may fail; after HAProxy marks it down none; it
#              starts again over its stale sockets and pid files and HAProxy
#              takes it back;
#   rolling    every host in turn: SIGTERM to its script/server (drain:
#              /api/health 503 "draining" while everything is served, then
#              lighttpd finishes its requests, then the responders), and
#              started again: 0 failed requests;
#   rotation   a new first secret in the shared file, a rolling reload
#              (SIGUSR2), sessions from before still work everywhere; the
#              clients log in again, the old secret goes, a rolling reload:
#              0 failed requests, and the old cookies stop working;
#   redis      Redis restarted with its data: during the gap only 503,
#              afterwards none, and the sessions survive;
# and afterwards every acknowledged post is there, unchanged. A session
# made on one host works on every other (no sticky sessions), and failed
# logins from one forwarded client reach 429 while another client behind
# the same balancer still logs in (BOARD_TRUSTED_PROXIES as CIDR ranges;
# IPv6 clients counted by /64).
#
# Environment: top_srcdir, top_builddir (as supervise.sh),
# BOARD_NODE_MODULES, BOARD_CLUSTER_STEADY (seconds, default 8),
# BOARD_CLUSTER_CLIENTS (default 8), BOARD_CLUSTER_PAUSE_MS (per client
# between requests, default 15), BOARD_IT_KEEP (keep the scratch folder).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${top_builddir:-}" ]; then
	top_builddir=.
	[ -x ./fcgi/board-posts ] || top_builddir=$top_srcdir
fi
top_builddir=$(cd "$top_builddir" && pwd)
steady_secs=${BOARD_CLUSTER_STEADY:-8}
nclients=${BOARD_CLUSTER_CLIENTS:-8}
hosts="1 2 3"
addr_1=127.0.1.1 addr_2=127.0.2.1 addr_3=127.0.3.1
lb_src=127.0.9.1	# HAProxy's address towards the hosts
lb_src2=127.0.9.2	# nginx's, as the second balancer

for p in redis-server redis-cli spawn-fcgi multiwatch lighttpd haproxy curl jq node pgrep; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "Bail out! $p is not installed (script/bootstrap installs it)"
		exit 1
	fi
done
if [ ! -x "$top_builddir/fcgi/board-posts" ]; then
	echo "Bail out! $top_builddir/fcgi/board-posts is not built"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-cluster.XXXXXX")
IT_TMP=$tmp
. "$top_srcdir/tests/it/lib.sh"
. "$top_srcdir/script/stack.sh"
. "$top_srcdir/tests/it/mongo-lib.sh"
[ -x "$JONGODB_BIN" ] || bail "$JONGODB_BIN is missing (script/bootstrap)"

started=$(date +%s)
own_pids=""
# Every process of host N: its script/server and all their descendants.
host_tree() {
	eval "_todo=\${host_pid_$1:-}"
	_all=""
	while [ -n "$_todo" ]; do
		_next=""
		for _p in $_todo; do
			_all="$_all $_p"
			_next="$_next $(pgrep -P "$_p" | tr '\n' ' ')"
		done
		_todo=$(echo $_next)
	done
	echo $_all
}
cleanup() {
	# Hosts left running: every process of each, at once (no drain).
	{
		for n in $hosts; do
			t=$(host_tree "$n")
			[ -n "$t" ] && kill -KILL $t
			eval "p=\${host_pid_$n:-}"
			[ -n "$p" ] && wait "$p"
		done
	} 2>/dev/null
	# TERM first: nginx's master then takes its worker along.
	for p in $own_pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $own_pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	mongo_stop
	stack_stop
	for n in $hosts; do
		f=$tmp/h$n/run/responders.log
		[ -s "$f" ] && [ "$T_FAILED" -ne 0 ] && {
			echo "# last lines of h$n/run/responders.log:"
			tail -n 5 "$f" | sed 's/^/#   /'
		}
	done
	it_finish_tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- The shared pieces: Redis (persistence on), jongodb, the secret. ---
stack_start_redis "$tmp/redis" persist || bail "redis did not start"
mongo_start "$tmp" || bail "jongodb did not start"
umask 077
old_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
new_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$old_secret" >"$tmp/secret"
umask 022
set_secrets() {	# the secret file, replaced in one rename
	printf '%s\n' "$@" >"$tmp/secret.new" && chmod 600 "$tmp/secret.new" &&
		mv "$tmp/secret.new" "$tmp/secret"
}

export BOARD_CONFIG=$top_srcdir/etc/board.conf
export SESSION_SECRET_FILE=$tmp/secret
export BOARD_PWHASH_OPSLIMIT=1 BOARD_PWHASH_MEMLIMIT_KIB=8
# HAProxy, and an edge proxy in front of it for the IPv6 case (127.0.7.x).
export BOARD_TRUSTED_PROXIES="127.0.9.0/24, 127.0.7.0/24"
export BOARD_LOGIN_MAX_FAILURES=5
export BOARD_DRAIN_SECONDS=3
export BOARD_LOG_LEVEL=warn
unset SESSION_SECRET_NAME BOARD_DB

# start_host N: script/server for host N on its address, in the background;
# waits (at most 30 s) until its /api/health answers 200.
start_host() {
	eval "_a=\$addr_$1 _port=\$port_$1"
	mkdir -p "$tmp/h$1"
	(
		export BOARD_NO_BUILD=1 BOARD_BUILD_DIR=$top_builddir
		export BOARD_STATE_DIR=$tmp/h$1 BOARD_PORT=$_port BOARD_BIND=$_a
		export BOARD_WORKERS=2 BOARD_FRONT=lighttpd
		exec "$top_srcdir/script/server"
	) >>"$tmp/h$1/server.log" 2>&1 &
	eval "host_pid_$1=$!"
	stack_wait "host $1 on $_a:$_port" 30 \
		curl -sf -o /dev/null "http://$_a:$_port/api/health"
}
# stop_host N: SIGTERM to its script/server (drain, then stop); waits at
# most 40 s for it to exit; returns its exit status.
stop_host() {
	eval "_p=\$host_pid_$1"
	kill -TERM "$_p" 2>/dev/null
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ $_i -lt 400 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	wait "$_p"
	_rc=$?
	eval "host_pid_$1="
	return $_rc
}

for n in $hosts; do
	eval "a=\$addr_$n"
	eval "port_$n=$(stack_free_port "$a")"
done
up=0
for n in $hosts; do
	start_host "$n" || { up=1; diag "$(tail -5 "$tmp/h$n/server.log")"; }
done
ok $up "three hosts up: $addr_1:$port_1, $addr_2:$port_2, $addr_3:$port_3"
[ $up -eq 0 ] || exit 1

# --- HAProxy: active health checks, JSON for its own errors. ---
lb_port=$(stack_free_port)
stats_port=$(stack_free_port)
# The front servers' JSON error files serve the balancers' own errors too.
errdir=$(cd "$top_srcdir/etc/lighttpd/errors" && pwd)
# json_error STATUS-LINE FILE: an errorfile in the API's shape, with the
# body of $errdir/503.html.
json_error() {
	_b=$(cat "$errdir/503.html")
	printf 'HTTP/1.1 %s\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\n' \
		"$1" $((${#_b} + 1)) "$_b" >"$2"
}
json_error "503 Service Unavailable" "$tmp/503.http"
cat >"$tmp/haproxy.cfg" <<EOF
global
	maxconn 2000

defaults
	mode http
	timeout connect 2s
	timeout client 30s
	timeout server 30s
	timeout http-request 10s
	timeout check 2s
	# A connection refused (a host gone) is tried again on another host;
	# nothing sent is ever resent, so a POST is never made twice.
	retries 3
	option redispatch 1
	# One request per server connection: a host that stops closes none
	# under a request, and HAProxy never reuses one a host has closed.
	option http-server-close
	option forwardfor
	errorfile 502 $tmp/503.http
	errorfile 503 $tmp/503.http
	errorfile 504 $tmp/503.http

frontend lb
	bind 127.0.0.1:$lb_port
	default_backend board

backend board
	balance roundrobin
	option httpchk
	http-check send meth GET uri /api/health ver HTTP/1.1 hdr Host board
	http-check expect status 200
	default-server inter 500 fall 2 rise 2 source $lb_src
	http-response set-header X-Board-Host %s
	server h1 $addr_1:$port_1 check
	server h2 $addr_2:$port_2 check
	server h3 $addr_3:$port_3 check

listen stats
	bind 127.0.0.1:$stats_port
	stats enable
	stats uri /stats
EOF
haproxy -f "$tmp/haproxy.cfg" -db >"$tmp/haproxy.log" 2>&1 &
haproxy_pid=$!
own_pids="$own_pids $haproxy_pid"
lb=http://127.0.0.1:$lb_port

# A second balancer, nginx: it has passive checks only (a host that refuses
# connections is skipped for fail_timeout), so a draining host keeps its
# share until its front server stops; the drain serves it meanwhile, and a
# refused connection is tried on the next host (never a request already
# sent: proxy_next_upstream's default leaves POST alone).
nlb_port=$(stack_free_port)
mkdir -p "$tmp/nginx-lb"
nginx_user=""
[ "$(id -u)" = 0 ] && nginx_user="user root root;"
cat >"$tmp/nginx-lb.conf" <<EOF
$nginx_user
daemon off;
worker_processes 1;
pid $tmp/nginx-lb/nginx.pid;
error_log $tmp/nginx-lb/error.log warn;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx-lb/body;
	proxy_temp_path $tmp/nginx-lb/proxy;
	fastcgi_temp_path $tmp/nginx-lb/fastcgi;
	uwsgi_temp_path $tmp/nginx-lb/uwsgi;
	scgi_temp_path $tmp/nginx-lb/scgi;
	upstream board_hosts {
		server $addr_1:$port_1 max_fails=1 fail_timeout=2s;
		server $addr_2:$port_2 max_fails=1 fail_timeout=2s;
		server $addr_3:$port_3 max_fails=1 fail_timeout=2s;
	}
	server {
		listen 127.0.0.1:$nlb_port;
		location / {
			proxy_pass http://board_hosts;
			proxy_bind $lb_src2;
			proxy_set_header Host \$http_host;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_connect_timeout 2s;
			proxy_read_timeout 30s;
			proxy_next_upstream error timeout;
			add_header X-Board-Host \$upstream_addr always;
		}
		# Its own errors in the API's shape: a host gone mid-request,
		# a request it cannot parse, headers over its buffers (494),
		# a body over client_max_body_size. URIs, not named locations:
		# nginx cannot send an unparsable request to a named one.
		error_page 400 414 494 =400 /.lb-error/400.html;
		error_page 413 /.lb-error/413.html;
		error_page 500 502 504 =503 /.lb-error/503.html;
		location ^~ /.lb-error/ {
			internal;
			alias $errdir/;
			types { }
			default_type "application/json; charset=utf-8";
			add_header Cache-Control no-store always;
		}
	}
}
EOF
nginx -c "$tmp/nginx-lb.conf" -e "$tmp/nginx-lb/error.log" &
own_pids="$own_pids $!"
nlb=http://127.0.0.1:$nlb_port
stack_wait "nginx balancer" 10 curl -sf -o /dev/null "$nlb/api/health"
ok $? "nginx balancer on 127.0.0.1:$nlb_port"

# The nginx balancer's own answers under /api/ are JSON too (API.md v1.1):
# a request line it cannot parse, a 24 KB cookie (over its header buffers,
# so it answers before any host), a 2 MiB body (over its default
# client_max_body_size). (HAProxy 2.6 answers the first two with its
# built-in HTML 400 whatever errorfile says: doc/deploy.md.)
printf 'GARBAGE\r\nHost: board\r\n\r\n' >"$tmp/garbage.req"
hh='Host: board\r\nConnection: close\r\n'
printf 'GET /api/posts HTTP/1.1\r\n'"$hh"'Cookie: board.sid=%s\r\n\r\n' \
    "$(head -c 24576 /dev/zero | tr '\0' a)" >"$tmp/cookie.req"
{
	printf 'POST /api/posts HTTP/1.1\r\n'"$hh"'Content-Length: 2097152\r\n\r\n'
	head -c 2097152 /dev/zero | tr '\0' ' '
} >"$tmp/body.req"
for r in garbage cookie body; do
	a=$(node "$top_srcdir/tests/it/errors-client.js" send "$nlb_port" \
	    "$tmp/$r.req" 10 | jq -r '[(.status // 0 | tostring | .[0:1]),
	    .headers["content-type"], .headers["cache-control"],
	    (.body | fromjson? | objects | .error | type)] | join("|")' \
	    2>/dev/null)
	is "$a" "4|application/json; charset=utf-8|no-store|string" \
	    "nginx balancer: its answer to $r is a 4xx in the API's JSON"
done

# HAProxy's view of host N: UP, DOWN, "UP 1/2" (going down), ...
lb_state() {
	curl -s --max-time 2 "http://127.0.0.1:$stats_port/stats;csv" |
		awk -F, -v s="h$1" '$1 == "board" && $2 == s { print $18 }'
}
# wait_state N UP|DOWN SECONDS
wait_state() {
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		[ "$(lb_state "$1")" = "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
all_up=0
for n in $hosts; do wait_state "$n" UP 10 || all_up=1; done
ok $all_up "HAProxy on 127.0.0.1:$lb_port sees the three hosts UP"
[ $all_up -eq 0 ] || { diag "$(tail -5 "$tmp/haproxy.log")"; exit 1; }

# --- No sticky sessions: a session made on one host works on the others. ---
host_url() { eval "echo http://\$addr_$1:\$port_$1"; }
creds='{"username":"roamer","password":"roamer-password"}'
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' -d "$creds" "$(host_url 1)/api/auth/signup")
login() {	# login BASE JAR [curl args]: the status of a login as roamer
	_b=$1 _j=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -c "$_j" "$@" \
	    -X POST -H 'Content-Type: application/json' -d "$creds" "$_b/api/auth/login"
}
lcode=$(login "$(host_url 1)" "$tmp/jar-old")
old_cookie=$(awk '$6 == "board.sid" { print $6 "=" $7 }' "$tmp/jar-old")
is "$code $lcode" "201 200" "signed up and logged in on host 1"
# status_json URL [CURL-ARGS]: "STATUS FIELD" where FIELD is the answer's
# .username or .status (health), if any.
status_json() {
	_u=$1
	shift
	_out=$(curl -s --max-time 10 -w '\n%{http_code}' "$@" "$_u")
	_f=$(printf '%s\n' "$_out" | sed '$d' | jq -r '.username // .status // empty' 2>/dev/null)
	echo "$(printf '%s\n' "$_out" | tail -n 1)${_f:+ $_f}"
}
me_on() {	# me_on N COOKIE: "STATUS USERNAME" of GET /api/auth/me on host N
	status_json "$(host_url "$1")/api/auth/me" -H "Cookie: $2"
}
is "$(me_on 2 "$old_cookie"), $(me_on 3 "$old_cookie")" "200 roamer, 200 roamer" \
    "the session made on host 1 works on hosts 2 and 3"
pid=$(curl -s --max-time 10 -H "Cookie: $old_cookie" -H "Origin: $(host_url 3)" \
    -H 'Content-Type: application/json' -d '{"title":"from 3","content":"made on host 3"}' \
    "$(host_url 3)/api/posts" | jq -r '.id // empty')
got=""
for n in 1 2; do
	got="$got $(curl -s --max-time 10 "$(host_url $n)/api/posts/$pid" | jq -r .content)"
done
is "$got" " made on host 3 made on host 3" "a post made on host 3 with that session reads back on hosts 1 and 2"

# --- Client addresses behind the balancer: throttling per real client. ---
fail_login() {	# fail_login CURL-ARGS...: a wrong password for a fresh name
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" -X POST \
	    -H 'Content-Type: application/json' \
	    -d "{\"username\":\"nobody$RANDOM$RANDOM\",\"password\":\"wrong-password\"}" \
	    "$lb/api/auth/login"
}
codes=""
for i in 1 2 3 4 5; do codes="$codes $(fail_login --interface 127.0.5.1)"; done
c429=$(login "$lb" "$tmp/jar-x" --interface 127.0.5.1)
c200=$(login "$lb" "$tmp/jar-y" --interface 127.0.6.1)
is "$codes | $c429 $c200" " 401 401 401 401 401 | 429 200" \
    "5 failed logins from 127.0.5.1 through HAProxy, then 429 for it, while 127.0.6.1 logs in"
# IPv6 clients behind an edge proxy (127.0.7.1, trusted like HAProxy):
# addresses in one /64 count together, another /64 does not.
codes=""
for i in 1 2 3 4 5; do
	codes="$codes $(fail_login --interface 127.0.7.1 -H "X-Forwarded-For: 2001:db8:1:2::$i")"
done
c429=$(login "$lb" "$tmp/jar-x" --interface 127.0.7.1 -H 'X-Forwarded-For: 2001:db8:1:2::99')
c200=$(login "$lb" "$tmp/jar-y" --interface 127.0.7.1 -H 'X-Forwarded-For: 2001:db8:1:3::1')
is "$codes | $c429 $c200" " 401 401 401 401 401 | 429 200" \
    "IPv6: 5 failures from 2001:db8:1:2::1-5 lock 2001:db8:1:2::99 (same /64), not 2001:db8:1:3::1"

# --- The load. ---
ctl=$tmp/control.json
set_phase() {	# set_phase NAME [GEN [stop]]
	printf '{"phase":"%s","gen":%s,"stop":%s}\n' "$1" "${2:-$gen}" \
	    "$( [ "${3:-}" = stop ] && echo true || echo false)" >"$ctl.tmp" &&
		mv "$ctl.tmp" "$ctl"
	echo "$1 $(date +%s%N)" >>"$tmp/phases"
}
# enter_phase NAME: set_phase, then give the clients (they read the control
# file every 100 ms) time to see it, so that no request made before a
# disruption is counted in the phase before it.
enter_phase() {
	set_phase "$@"
	sleep 0.3
}
# phase_secs PHASE: how long the phase lasted (to the next one).
phase_secs() {
	awk -v p="$1" '$1 == p && !t { t = $2; next } t && !e && $1 != p { e = $2 }
	    END { printf "%.1f", t && e ? (e - t) / 1e9 : 0 }' "$tmp/phases"
}
gen=0
set_phase setup
max_secs=$(( steady_secs + 200 ))
# Through HAProxy (load/) and through nginx (nload/, a quarter as many).
nnclients=$(( (nclients + 3) / 4 ))
load_pids=""
for l in "load $lb $nclients" "nload $nlb $nnclients"; do
	set -- $l
	mkdir -p "$tmp/$1"
	node "$top_srcdir/tests/it/cluster-load.js" "$2" "$ctl" "$tmp/$1" \
	    "$3" "$max_secs" 2>"$tmp/$1/stderr" &
	load_pids="$load_pids $!"
done
own_pids="$own_pids $load_pids"
# wait_gen G SECONDS: until every client holds a session of generation G.
wait_gen() {
	_i=0
	while [ $_i -lt $(($2 * 10)) ]; do
		[ "$(cat "$tmp/load/gen" 2>/dev/null)" = "$1" ] &&
			[ "$(cat "$tmp/nload/gen" 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
wait_gen 0 30
ok $? "$nclients load clients through HAProxy and $nnclients through nginx signed up and logged in"

set_phase steady
sleep "$steady_secs"

# --- One host killed outright. ---
victim=2
enter_phase kill
tree=$(host_tree $victim)
kill -KILL $tree 2>/dev/null
killed_at=$(date +%s%N)
{ wait "$host_pid_2"; } 2>/dev/null
host_pid_2=""
wait_state $victim DOWN 10
ok $? "HAProxy marked host $victim down after SIGKILL of its $(echo $tree | wc -w) processes"
down_after=$(awk -v a="$killed_at" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
set_phase down
sleep 2
left=$(ls "$tmp/h$victim/run" | tr '\n' ' ')
start_host $victim
ok $? "host $victim starts again over what the kill left ($left)"
wait_state $victim UP 20
ok $? "HAProxy takes host $victim back in"
set_phase back
sleep 3

# --- Rolling restart: drain, stop, start, one host at a time. ---
enter_phase rolling
drain_seen="" served_seen="" out_in_time=1 stop_rcs=""
for n in $hosts; do
	eval "_p=\$host_pid_$n"
	kill -TERM "$_p"
	if [ "$n" = 1 ]; then
		# While it drains: health is 503 "draining", the rest is served,
		# and HAProxy takes the host out before it stops.
		sleep 0.5
		drain_seen=$(status_json "$(host_url 1)/api/health")
		served_seen=$(me_on 1 "$old_cookie")
		wait_state 1 DOWN 5
		out_in_time=$?
		kill -0 "$_p" 2>/dev/null || out_in_time=1
	fi
	stop_host "$n"
	stop_rcs="$stop_rcs $?"
	start_host "$n" || diag "host $n did not start again"
	wait_state "$n" UP 20 || diag "host $n not back in HAProxy within 20 s"
done
is "$drain_seen / $served_seen" "503 draining / 200 roamer" \
    "a draining host answers /api/health 503 draining and still serves the rest"
ok $out_in_time "HAProxy took the draining host out while it still served"
is "$stop_rcs" " 0 0 0" "every script/server exits 0 after its drain and stop"

# --- Rolling secret rotation. ---
enter_phase rotation
set_secrets "$new_secret" "$old_secret"
for n in $hosts; do
	eval "kill -USR2 \$host_pid_$n"
	sleep 1.5
done
is "$(me_on 1 "$old_cookie"), $(me_on 2 "$old_cookie"), $(me_on 3 "$old_cookie")" \
    "200 roamer, 200 roamer, 200 roamer" \
    "with a new first secret, a session made before works on every host"
gen=1
set_phase rotation
wait_gen 1 20
ok $? "every load client logged in again (cookies signed with the new secret)"
login "$lb" "$tmp/jar-new" >/dev/null
new_cookie=$(awk '$6 == "board.sid" { print $6 "=" $7 }' "$tmp/jar-new")
set_secrets "$new_secret"
for n in $hosts; do
	eval "kill -USR2 \$host_pid_$n"
	sleep 1.5
done
is "$(me_on 1 "$old_cookie") $(me_on 2 "$old_cookie") $(me_on 3 "$old_cookie")" "401 401 401" \
    "with the old secret removed, a cookie signed with it is refused everywhere"
is "$(me_on 1 "$new_cookie"), $(me_on 2 "$new_cookie"), $(me_on 3 "$new_cookie")" \
    "200 roamer, 200 roamer, 200 roamer" \
    "a cookie signed with the new secret works everywhere"

# --- Redis restarted with its data. ---
enter_phase redis-gap
kill -TERM "$REDIS_PID"
i=0
while kill -0 "$REDIS_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$REDIS_PID" 2>/dev/null
sleep 1
stack_start_redis "$tmp/redis" persist
ok $? "Redis restarted on the same socket with its data"
back=0
for n in $hosts; do
	stack_wait "host $n healthy" 20 curl -sf -o /dev/null "$(host_url "$n")/api/health" || back=1
	wait_state "$n" UP 20 || back=1
done
ok $back "every host healthy and UP again after the Redis restart"
set_phase redis-after
sleep 4
is "$(me_on 1 "$new_cookie"), $(me_on 3 "$new_cookie")" "200 roamer, 200 roamer" \
    "a session from before the Redis restart still works"

# --- Stop the load; the figures. ---
set_phase end "$gen" stop
fin=0
for p in $load_pids; do
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$p" || fin=1
done
ok $fin "the load clients finished"
fig() {	# fig STATS PHASE: "requests failed" (failed: not the expected status)
	jq -r --arg p "$2" '.[$p] // {requests: 0, ok: 0} | "\(.requests) \(.requests - .ok)"' "$1"
}
outcomes() {	# outcomes STATS PHASE: the failures by outcome
	jq -r --arg p "$2" '(.[$p].outcomes // {}) | to_entries |
	    map(select(.key | test("^20[01]$") | not)) | map("\(.key) x\(.value)") | join(", ")' "$1"
}
failed_in() {	# failed_in STATS PHASE: its first failed requests
	jq -r --arg p "$2" '[._failures[] | select(.phase == $p) |
	    "\(.op) \(.outcome) from \(.host // "?") at \(.t) s"][:4] | join(", ")' "$1"
}
total=0
for l in "load HAProxy $nclients $lb" "nload nginx $nnclients $nlb"; do
	set -- $l
	dir=$1 name=$2 n=$3 base=$4
	stats=$tmp/$dir/stats.json
	[ -s "$stats" ] || bail "no $stats: $(tail -3 "$tmp/$dir/stderr")"
	diag "through $name, $n clients:"
	for p in setup steady kill down back rolling rotation redis-gap redis-after; do
		set -- $(fig "$stats" "$p")
		total=$((total + $1))
		diag "$(printf '  %-12s %5s s %6s requests %4s failed  %s' "$p" \
		    "$(phase_secs "$p")" "$1" "$2" "$(outcomes "$stats" "$p")")"
	done
	for p in steady down back rolling rotation redis-after; do
		set -- $(fig "$stats" "$p")
		# A failure names its outcomes and first requests in the
		# test line itself, where a CI summary shows it.
		why=""
		[ "$2" -ne 0 ] && why=" [$(outcomes "$stats" "$p"): $(failed_in "$stats" "$p")]"
		[ "$1" -gt 0 ] && [ "$2" -eq 0 ]
		ok $? "$name, $p: $2 of $1 requests failed (none allowed)$why"
	done
	set -- $(fig "$stats" kill)
	[ "$2" -le "$n" ]
	ok $? "$name, kill: $2 of $1 requests failed (at most the $n in flight allowed)"
	gap_bad=$(jq -r '(.["redis-gap"].outcomes // {}) | to_entries |
	    map(select(.key | test("^(20[01]|503)$") | not) | .value) | add // 0' "$stats")
	gap_503=$(jq -r '.["redis-gap"].outcomes["503"] // 0' "$stats")
	ok $(test "$gap_bad" -eq 0; echo $?) \
	    "$name, redis-gap: $gap_503 answered 503, $gap_bad anything else but success"
	[ "$T_FAILED" -ne 0 ] && diag "first failures: $(jq -c '._failures[:10]' "$stats")"

	# Every acknowledged post is there, unchanged.
	nacked=$(wc -l <"$tmp/$dir/acked.jsonl")
	v=$(node "$top_srcdir/tests/it/cluster-load.js" verify "$base" "$tmp/$dir/acked.jsonl")
	is "$(printf '%s' "$v" | jq -r '"\(.checked) \(.missing) \(.changed) \(.errors)"')" "$nacked 0 0 0" \
	    "$name: all $nacked acknowledged posts read back unchanged (checked missing changed errors)"
done
diag "HAProxy marked the killed host down ${down_after} s after the kill"
back_h2=$(jq -r '.back.hosts.h2 // 0' "$tmp/load/stats.json")
ok $(test "$back_h2" -gt 0; echo $?) "host 2 served $back_h2 requests through HAProxy once back"

san=$(grep -l -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp"/h*/run/responders.log 2>/dev/null)
ok $(test -z "$san"; echo $?) "no sanitizer report in any host's responder log"
diag "$total requests in $(( $(date +%s) - started )) s"
done_testing
