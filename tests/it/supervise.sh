#!/bin/bash
# supervise.sh: worker supervision and graceful stop, without systemd, the
# way systemd/board-*.service run the responders (spawn-fcgi + multiwatch).
#
#   - kill -9 one worker of each responder while a bounded load runs (posts
#     created, sign-ups, "who am I"): multiwatch replaces it, at most the
#     requests in flight on the killed workers fail, and every post
#     acknowledged with 201 is still there afterwards;
#   - SIGUSR2 to multiwatch (what `systemctl reload` sends), four times
#     1.5 s apart under load through lighttpd and nginx at once (wrk, a mix
#     of "who am I", list and create): every worker is replaced and not one
#     request fails, through either front server;
#   - a responder stopped (SIGTERM) or reloaded (SIGUSR2) while a request is
#     half read answers that request, then exits 0; SIGTERM when idle: exit 0.
#
# Environment: top_srcdir, top_builddir (default: this source tree, and the
# current directory if it holds fcgi/board-posts), BOARD_FRONT=lighttpd|nginx
# (default lighttpd; the reload test adds the other one), BOARD_LOAD_SECONDS
# (default 10).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${top_builddir:-}" ]; then
	top_builddir=.
	[ -x ./fcgi/board-posts ] || top_builddir=$top_srcdir
fi
top_builddir=$(cd "$top_builddir" && pwd)
front=${BOARD_FRONT:-lighttpd}
load_secs=${BOARD_LOAD_SECONDS:-10}
names="signup login posts"

for p in redis-server redis-cli spawn-fcgi multiwatch lighttpd nginx curl jq node pgrep wrk; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "Bail out! $p is not installed (script/bootstrap installs it)"
		exit 1
	fi
done
for name in $names; do
	if [ ! -x "$top_builddir/fcgi/board-$name" ]; then
		echo "Bail out! $top_builddir/fcgi/board-$name is not built"
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-supervise.XXXXXX")
. "$top_srcdir/script/stack.sh"
own_pids=""
cleanup() {
	for p in $own_pids; do kill -KILL "$p" 2>/dev/null; done
	for p in $own_pids; do wait "$p" 2>/dev/null; done
	stack_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

IT_TMP=$tmp
. "$top_srcdir/tests/it/lib.sh"
children() { pgrep -P "$1" | sort -n | tr '\n' ' '; }
count_children() { pgrep -P "$1" | wc -l; }

echo "1..17"

# The stack: private Redis on a unix socket, SQLite in the temp folder, the
# three responders with 2 workers each, the front server on a free port.
export BOARD_CONFIG="$top_srcdir/etc/board.conf"
export BOARD_DB="$tmp/board.db"
export SESSION_SECRET_FILE="$tmp/session-secret"
export BOARD_PWHASH_OPSLIMIT=1 BOARD_PWHASH_MEMLIMIT_KIB=8
unset MONGODB_URI SESSION_SECRET_NAME
run=$tmp/run
up=0
stack_start_redis "$tmp/redis" || up=1
[ $up -eq 0 ] && { stack_start_responders "$top_builddir" "$run" 2 || up=1; }
port=$(stack_free_port)
[ $up -eq 0 ] && { stack_start_front "$front" "$top_srcdir" "$run" "$port" || up=1; }
ok $up "the stack is up behind $front on 127.0.0.1:$port"
if [ $up -ne 0 ]; then
	diag "$(tail -5 "$run/responders.log" "$run/front-error.log" 2>/dev/null)"
	exit 1
fi
base=http://127.0.0.1:$port
set -- $RESPONDER_PIDS
mw_signup=$1 mw_login=$2 mw_posts=$3

all_two=0
for mw in $RESPONDER_PIDS; do
	[ "$(count_children "$mw")" -eq 2 ] || all_two=1
done
ok $all_two "multiwatch runs 2 workers for each responder"

# A user to post as.
jar=$tmp/cookies
c1=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' -d '{"username":"loader","password":"load-test-pw"}' \
    "$base/api/auth/signup")
c2=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -c "$jar" -X POST \
    -H 'Content-Type: application/json' -d '{"username":"loader","password":"load-test-pw"}' \
    "$base/api/auth/login")
[ "$c1" = 201 ] && [ "$c2" = 200 ]
ok $? "sign up and log in (got $c1 and $c2)"

# Load: each loop runs until the deadline and records one line per request:
# "<status> <body>" (status 000: no HTTP answer at all).
deadline=$(( $(date +%s) + load_secs ))
post_loop() {	# post_loop TAG
	i=0
	while [ "$(date +%s)" -lt "$deadline" ]; do
		i=$((i + 1))
		out=$(curl -s --max-time 10 -b "$jar" -X POST \
		    -H 'Content-Type: application/json' \
		    -d "{\"title\":\"$1-$i\",\"content\":\"load $1 $i\"}" \
		    -w '\n%{http_code}' "$base/api/posts" | tr -d '\r')
		code=$(printf '%s\n' "$out" | tail -n 1)
		body=$(printf '%s\n' "$out" | sed '$d' | tr -d '\n')
		echo "$code $body"
	done >"$tmp/load-$1"
}
me_loop() {
	while [ "$(date +%s)" -lt "$deadline" ]; do
		curl -s -o /dev/null --max-time 10 -b "$jar" -w '%{http_code}\n' \
		    "$base/api/auth/me"
	done >"$tmp/load-me"
}
signup_loop() {
	i=0
	while [ "$(date +%s)" -lt "$deadline" ]; do
		i=$((i + 1))
		curl -s -o /dev/null --max-time 10 -X POST \
		    -H 'Content-Type: application/json' \
		    -d "{\"username\":\"user-$i\",\"password\":\"pw-$i-long-enough\"}" \
		    -w '%{http_code}\n' "$base/api/auth/signup"
	done >"$tmp/load-signup"
}
load_pids=""
post_loop a & load_pids="$load_pids $!"
post_loop b & load_pids="$load_pids $!"
me_loop & load_pids="$load_pids $!"
signup_loop & load_pids="$load_pids $!"
own_pids="$own_pids $load_pids"

# busy_worker MULTIWATCH: a worker that is not waiting in accept() (syscall
# 43 or 288), i.e. one with a request in hand, tried for up to 2 s; else the
# oldest worker.
busy_worker() {
	j=0
	while [ $j -lt 40 ]; do
		for w in $(pgrep -P "$1"); do
			sc=$(cut -d' ' -f1 "/proc/$w/syscall" 2>/dev/null)
			case $sc in
			43|288|'') ;;
			*) echo "$w busy"; return ;;
			esac
		done
		sleep 0.05
		j=$((j + 1))
	done
	echo "$(pgrep -P "$1" | sort -n | head -n 1) idle"
}

# A third of the way in, kill -9 a worker of each responder, a busy one if
# possible, so that a request in flight is cut off.
sleep $((load_secs / 3))
killed=""
states=""
for mw in $RESPONDER_PIDS; do
	set -- $(busy_worker "$mw")
	if [ -n "${1:-}" ]; then
		kill -KILL "$1" && killed="$killed $mw:$1" && states="$states $2"
	fi
done
nkilled=$(echo $killed | wc -w)
ok $(test "$nkilled" -eq 3; echo $?) "killed one worker of each responder:$killed (${states# })"

# multiwatch replaces each within 5 s: 2 workers again, the victim gone.
respawned=1
i=0
while [ $i -lt 50 ]; do
	respawned=0
	for kv in $killed; do
		mw=${kv%%:*} victim=${kv#*:}
		kids=" $(children "$mw")"
		[ "$(count_children "$mw")" -eq 2 ] || respawned=1
		case $kids in *" $victim "*) respawned=1 ;; esac
	done
	[ $respawned -eq 0 ] && break
	sleep 0.1
	i=$((i + 1))
done
ok $respawned "multiwatch replaced every killed worker within 5 s"

for p in $load_pids; do wait "$p"; done
own_pids=""

# Clients saw at most the requests in flight on the killed workers fail: one
# each, as a responder process serves one request at a time.
total=$(cat "$tmp"/load-* | wc -l)
bad=$(cat "$tmp/load-a" "$tmp/load-b" | awk '$1 != 201' | wc -l)
bad=$((bad + $(awk '$1 != 200' "$tmp/load-me" | wc -l)))
bad=$((bad + $(awk '$1 != 201' "$tmp/load-signup" | wc -l)))
[ "$total" -ge 50 ] && [ "$bad" -le "$nkilled" ]
ok $? "$bad of $total requests failed (at most $nkilled allowed; at least 50 made)"
[ "$bad" -gt 0 ] && diag "failures: $(cat "$tmp"/load-* | awk '$1 !~ /^20[01]$/ { print $1 }' | sort | uniq -c | tr '\n' ' ')"

# Every acknowledged post is still there: by id, and in the paged list.
cat "$tmp/load-a" "$tmp/load-b" | awk '$1 == 201 { sub(/^201 /, ""); print }' |
    jq -r .id >"$tmp/acked" 2>/dev/null
nacked=$(wc -l <"$tmp/acked")
: >"$tmp/get.cfg"
while read -r id; do
	printf 'url = "%s/api/posts/%s"\noutput = "/dev/null"\n' "$base" "$id"
done <"$tmp/acked" >"$tmp/get.cfg"
missing=$(curl -s --max-time 60 -K "$tmp/get.cfg" -w '%{http_code}\n' | grep -vc '^200$')
[ "$nacked" -gt 0 ] && [ "$missing" -eq 0 ]
ok $? "all $nacked acknowledged posts answer GET /api/posts/{id} ($missing do not)"

: >"$tmp/listed"
cursor=""
pages=0
while [ $pages -lt 1000 ]; do
	url="$base/api/posts?limit=100"
	[ -n "$cursor" ] && url="$url&cursor=$cursor"
	page=$(curl -s --max-time 10 "$url") || break
	printf '%s\n' "$page" | jq -r '.posts[].id' >>"$tmp/listed" || break
	cursor=$(printf '%s\n' "$page" | jq -r '.next // empty')
	pages=$((pages + 1))
	[ -z "$cursor" ] && break
done
sort -u "$tmp/listed" >"$tmp/listed.s"
sort -u "$tmp/acked" >"$tmp/acked.s"
lost=$(comm -23 "$tmp/acked.s" "$tmp/listed.s" | wc -l)
ok $(test "$nacked" -gt 0 && test "$lost" -eq 0; echo $?) \
    "paging GET /api/posts lists every acknowledged post ($lost missing)"

# Reload under load: SIGUSR2 to multiwatch (ExecReload), four times, while
# wrk drives both front servers (the other one on the same sockets). Each
# worker finishes the request in hand and is replaced; connections wait in
# the socket's backlog meanwhile; a worker takes the signal only while it
# waits for a connection. Not one request may fail: before that rule, about
# one worker replacement in 20 under load cut a request off (lighttpd
# answered 500, nginx 503).
other=nginx
[ "$front" = nginx ] && other=lighttpd
port2=$(stack_free_port)
up2=0
stack_start_front "$other" "$top_srcdir" "$run" "$port2" || up2=1
ok $up2 "$other on 127.0.0.1:$port2 on the same responders"
cookie=$(awk '$6 == "board.sid" { print $6 "=" $7 }' "$jar")
cat >"$tmp/reload.lua" <<'EOF'
-- A mix of "who am I", list and create; counts statuses per thread.
local n = 0
local post = {}
init = function(args)
	statuses = {}
	for k, v in pairs(wrk.headers) do post[k] = v end	-- -H: cookie
	post["Content-Type"] = "application/json"
end
request = function()
	n = n + 1
	local k = n % 4
	if k == 0 then
		return wrk.format("POST", "/api/posts", post,
			'{"title":"reload","content":"sent during a reload"}')
	elseif k == 1 then
		return wrk.format("GET", "/api/posts?limit=5")
	end
	return wrk.format("GET", "/api/auth/me")
end
response = function(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end
local threads = {}
setup = function(t) table.insert(threads, t) end
done = function(summary, latency, requests)
	local all = {}
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
	end
	for k, v in pairs(all) do io.write(string.format("status %d %d\n", k, v)) end
	local e = summary.errors
	io.write(string.format("errors %d\n",
		e.connect + e.read + e.write + e.timeout))
end
EOF
reload_gap=1.5
reload_n=4
wrk_secs=$(( reload_n * 3 / 2 + 3 ))
wrk_pids=""
for pp in "$front:$port" "$other:$port2"; do
	wrk -t1 -c8 -d"${wrk_secs}s" --timeout 10s -s "$tmp/reload.lua" \
	    -H "Cookie: $cookie" -H "Origin: http://127.0.0.1:${pp#*:}" \
	    "http://127.0.0.1:${pp#*:}" >"$tmp/wrk-${pp%%:*}" 2>&1 &
	wrk_pids="$wrk_pids $!"
done
own_pids="$own_pids $wrk_pids"
sleep 1
before=""
for mw in $RESPONDER_PIDS; do before="$before $(children "$mw")"; done
r=0
while [ $r -lt $reload_n ]; do
	stack_reload
	sleep $reload_gap
	r=$((r + 1))
done
fresh=1
i=0
while [ $i -lt 50 ]; do
	fresh=0
	for mw in $RESPONDER_PIDS; do
		[ "$(count_children "$mw")" -eq 2 ] || fresh=1
		for p in $(children "$mw"); do
			case " $before " in *" $p "*) fresh=1 ;; esac
		done
	done
	[ $fresh -eq 0 ] && break
	sleep 0.1
	i=$((i + 1))
done
ok $fresh "$reload_n x SIGUSR2 to multiwatch under load replaced every worker"
for p in $wrk_pids; do wait "$p"; done
own_pids=""
for f in "$front" "$other"; do
	out=$tmp/wrk-$f
	total=$(awk '$1 == "status" { n += $3 } END { print n + 0 }' "$out")
	bad=$(awk '$1 == "status" && $2 != 200 && $2 != 201 { n += $3 }
	    $1 == "errors" { n += $2 } END { print n + 0 }' "$out")
	[ "$total" -ge 200 ] && [ "$bad" -eq 0 ]
	ok $? "reloads under load through $f: $bad of $total requests failed (none allowed)"
	[ "$bad" -ne 0 ] || [ "$total" -lt 200 ] && diag "$(grep -E '^(status|errors)' "$out")"
done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -b "$jar" "$base/api/auth/me")
ok $(test "$code" = 200; echo $?) "after the reload the session still works (GET /api/auth/me: $code)"

# Graceful stop of one responder process (no multiwatch): a FastCGI client
# sends the request's params and half its body; while the responder waits
# for the rest, it gets the signal; then the rest is sent. The request must
# be answered in full, and the process must then exit 0.
cat >"$tmp/fcgi-half.js" <<'EOF'
// node fcgi-half.js SOCKET READYFILE GOFILE: one FastCGI request in two
// halves; prints the response's status line; exit 0 on FCGI_END_REQUEST.
const net = require("net"), fs = require("fs");
const [sock, ready, go] = process.argv.slice(2);
const rec = (type, body) => {
	const h = Buffer.alloc(8);
	h[0] = 1; h[1] = type; h.writeUInt16BE(1, 2);
	h.writeUInt16BE(body.length, 4);
	return Buffer.concat([h, body]);
};
const len = (n) => n < 128 ? Buffer.from([n]) :
	Buffer.from([(n >>> 24) | 0x80, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const body = Buffer.from('{"title":"half","content":"sent in two halves"}');
const params = {
	REQUEST_METHOD: "POST", REQUEST_URI: "/api/posts", SCRIPT_NAME: "/api/posts",
	QUERY_STRING: "", CONTENT_TYPE: "application/json",
	CONTENT_LENGTH: String(body.length), HTTP_HOST: "127.0.0.1",
	SERVER_PORT: "80", REMOTE_ADDR: "127.0.0.1", SERVER_PROTOCOL: "HTTP/1.1",
};
const pv = Buffer.concat(Object.entries(params).map(([k, v]) =>
	Buffer.concat([len(k.length), len(v.length), Buffer.from(k), Buffer.from(v)])));
const begin = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]);
const half = body.length >> 1;
setTimeout(() => { console.log("timeout"); process.exit(2); }, 15000);
const c = net.connect(sock, () => {
	c.write(Buffer.concat([rec(1, begin), rec(4, pv), rec(4, Buffer.alloc(0)),
		rec(5, body.subarray(0, half))]));
	setTimeout(() => {
		fs.writeFileSync(ready, "");
		const t = setInterval(() => {
			if (!fs.existsSync(go)) return;
			clearInterval(t);
			c.write(Buffer.concat([rec(5, body.subarray(half)), rec(5, Buffer.alloc(0))]));
		}, 20);
	}, 300);
});
let buf = Buffer.alloc(0), out = "";
c.on("data", (d) => {
	buf = Buffer.concat([buf, d]);
	while (buf.length >= 8) {
		const n = buf.readUInt16BE(4), pad = buf[6];
		if (buf.length < 8 + n + pad) break;
		const type = buf[1], content = buf.subarray(8, 8 + n);
		buf = buf.subarray(8 + n + pad);
		if (type === 6) out += content.toString();
		if (type === 3) {
			console.log((out.split("\r\n")[0] || "no output").trim());
			process.exit(0);
		}
	}
});
c.on("error", (e) => { console.log("error " + e.code); process.exit(1); });
c.on("end", () => { console.log("closed without FCGI_END_REQUEST"); process.exit(1); });
EOF

half_request() {	# half_request SIGNAL TAG: sets $answer and $rc
	sock=$tmp/$2.sock
	rm -f "$sock" "$tmp/$2.ready" "$tmp/$2.go"
	spawn-fcgi -n -s "$sock" -M 0600 -- "$top_builddir/fcgi/board-posts" \
	    2>>"$tmp/$2.log" &
	rpid=$!
	own_pids="$own_pids $rpid"
	stack_wait "$2 socket" 10 test -S "$sock"
	node "$tmp/fcgi-half.js" "$sock" "$tmp/$2.ready" "$tmp/$2.go" >"$tmp/$2.out" &
	cpid=$!
	own_pids="$own_pids $cpid"
	stack_wait "$2 half request" 10 test -e "$tmp/$2.ready"
	kill -"$1" "$rpid"
	sleep 0.3
	: >"$tmp/$2.go"
	wait "$cpid"
	answer=$(cat "$tmp/$2.out")
	rc=timeout
	i=0
	while [ $i -lt 100 ]; do
		if ! kill -0 "$rpid" 2>/dev/null; then
			wait "$rpid"
			rc=$?
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	[ "$rc" = timeout ] && kill -KILL "$rpid" 2>/dev/null
}

half_request TERM term
ok $(test "$answer" = "Status: 401 Unauthorized" || test "${answer%% *}" = Status:; echo $?) \
    "SIGTERM while a request is half read: the request is answered ($answer)"
ok $(test "$rc" = 0; echo $?) "... and then the responder exits 0 (exit $rc)"

half_request USR2 reload
ok $(test "${answer%% *}" = Status: && test "$rc" = 0; echo $?) \
    "SIGUSR2 (reload) while a request is half read: answered ($answer), then exit 0 (exit $rc)"

# SIGTERM when idle: exit 0 at once.
sock=$tmp/idle.sock
spawn-fcgi -n -s "$sock" -M 0600 -- "$top_builddir/fcgi/board-login" 2>>"$tmp/idle.log" &
rpid=$!
own_pids="$own_pids $rpid"
stack_wait "idle socket" 10 test -S "$sock"
sleep 0.3
kill -TERM "$rpid"
rc=timeout
i=0
while [ $i -lt 50 ]; do
	if ! kill -0 "$rpid" 2>/dev/null; then
		wait "$rpid"
		rc=$?
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
ok $(test "$rc" = 0; echo $?) "an idle responder exits 0 on SIGTERM within 5 s (exit $rc)"

[ "$T_FAILED" -eq 0 ]
