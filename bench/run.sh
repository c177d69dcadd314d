#!/bin/bash
# bench/run.sh: board's benchmark harness (wrk, loopback only).
#
#   bench/run.sh --local [--mongo] [--front lighttpd|nginx]
#	builds board (in $BOARD_BUILD_DIR, default _build/bench), starts a
#	private stack on 127.0.0.1 (Redis, the three responders under
#	spawn-fcgi + multiwatch, the front server; with --mongo the documents
#	go to the jongodb test server instead of SQLite), plus a second front
#	server from the same config whose /api/ goes to bench/ceiling.c, the
#	do-nothing responder; benchmarks, reports, stops every PID it started.
#   bench/run.sh BASE_URL
#	benchmarks a server that is already running (it writes a user, a
#	session and posts to it). Ratios need BENCH_CEILING_URL (a front server
#	routing /api/posts to the ceiling); peak RSS is read from this user's
#	board-* processes on this machine, if any.
#
# Figures: requests/s and latency p50/p99 from wrk for list 20 posts, read
# one post, me (with a cookie), create a post, sign up, log in, and the
# ceiling; ratios to the ceiling; peak RSS (VmHWM) of every board-* worker
# after the runs. Local mode adds a login whose stored hash is bcrypt at
# cost 10 (the Node auth service's; board-login restarted with
# BOARD_PASSWORD_HASH=bcrypt so it stays bcrypt) and board-admin copy of
# the store the runs filled, in posts per second. A Markdown report is
# printed at the end and saved with wrk's raw output under $BENCH_RESULTS
# (default bench/results/, ignored by git).
#
# Settings (environment): BENCH_DURATION seconds per figure (10),
# BENCH_THREADS (2), BENCH_CONNECTIONS (32), BENCH_WORKERS processes per
# responder (2, as script/server), BENCH_POSTS seeded (200), BENCH_ONLY
# (figures to run, e.g. "me ceiling login-bcrypt copy"; default all).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
duration=${BENCH_DURATION:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
workers=${BENCH_WORKERS:-2}
nposts=${BENCH_POSTS:-200}
only=${BENCH_ONLY:-}
export BENCH_LUA_DIR=$top/bench/lua

usage() {
	echo "usage: bench/run.sh --local [--mongo] [--front lighttpd|nginx]" >&2
	echo "       bench/run.sh BASE_URL" >&2
	exit 2
}

local_mode=0 mongo=0 front=lighttpd base=
while [ $# -gt 0 ]; do
	case $1 in
	--local) local_mode=1 ;;
	--mongo) mongo=1 ;;
	--front) front=${2:?}; shift ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) base=${1%/} ;;
	esac
	shift
done
if [ $local_mode = 1 ] && [ -n "$base" ]; then usage; fi
if [ $local_mode = 0 ] && [ -z "$base" ]; then usage; fi
if [ $local_mode = 0 ] && [ $mongo = 1 ]; then usage; fi
for t in wrk curl jq; do
	command -v $t >/dev/null || { echo "bench: $t is missing" >&2; exit 1; }
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-bench.XXXXXX")
MONGO_PID=
cleanup() {
	if [ -n "${results:-}" ] && [ -d "${run:-}" ]; then
		cp "$run/responders.log" "$run/front-error.log" "$results/" \
			2>/dev/null || :
	fi
	if [ $local_mode = 1 ]; then
		! command -v stack_stop >/dev/null || stack_stop
		! command -v mongo_stop >/dev/null || mongo_stop
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ceiling_pids=""
if [ $local_mode = 1 ]; then
	build=${BOARD_BUILD_DIR:-$top/_build/bench}
	mkdir -p "$build"
	echo "bench: building board in $build"
	if [ ! -f "$build/Makefile" ]; then
		[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null)
		(cd "$build" && "$top/configure" --quiet) >/dev/null
	fi
	make -s -C "$build" -j"$(nproc)" >/dev/null
	# shellcheck source=../script/stack.sh
	. "$top/script/stack.sh"
	# shellcheck disable=SC2046
	cc -std=gnu11 -O2 -Wall -Wextra -o "$tmp/ceiling" \
		"$top/bench/ceiling.c" $(pkg-config --cflags --libs fcgi)

	run=$tmp/run
	mkdir -p "$run"
	export BOARD_CONFIG=$top/etc/board.conf
	export BOARD_DB=$tmp/board.db
	export SESSION_SECRET_FILE=$tmp/session-secret
	unset MONGODB_URI REDIS_URL
	stack_start_redis "$tmp/redis"
	backend=SQLite
	if [ $mongo = 1 ]; then
		# shellcheck source=../tests/it/mongo-lib.sh
		. "$top/tests/it/mongo-lib.sh"
		mongo_start "$tmp" || exit 1
		backend="MongoDB (jongodb 0.1.6)"
	fi
	stack_start_responders "$build" "$run" "$workers" || {
		tail -5 "$run/responders.log" >&2
		exit 1
	}
	board_pids=$RESPONDER_PIDS
	port=$(stack_free_port)
	stack_start_front "$front" "$top" "$run" "$port" || {
		tail -5 "$run/responders.log" "$run/front-error.log" >&2
		exit 1
	}
	board_front=$FRONT_PID
	base=http://127.0.0.1:$port

	# The ceiling: the same front config in a second run folder, whose
	# posts socket (hence every /api/ path but auth) is bench/ceiling.c
	# under spawn-fcgi + multiwatch with as many workers.
	crun=$tmp/ceiling-run
	mkdir -p "$crun"
	spawn-fcgi -n -s "$crun/posts.sock" -M 0660 -- \
		/usr/bin/multiwatch -f "$workers" -- "$tmp/ceiling" \
		2>>"$crun/ceiling.log" &
	ceiling_pids=$!
	_stack_track $!
	stack_wait "ceiling socket" 10 test -S "$crun/posts.sock"
	cport=$(stack_free_port)
	stack_start_front "$front" "$top" "$crun" "$cport" || {
		tail -5 "$crun/front-error.log" >&2
		exit 1
	}
	ceiling_front=$FRONT_PID
	ceiling_url=http://127.0.0.1:$cport/api/posts
else
	backend="(server at $base)"
	front="(unknown)"
	ceiling_url=${BENCH_CEILING_URL:-}
fi
case $base in
http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
*) echo "bench: refusing a non-loopback BASE_URL ($base)" >&2; exit 2 ;;
esac

results=${BENCH_RESULTS:-$top/bench/results}/$stamp-$([ $mongo = 1 ] && echo mongo || echo sqlite)
mkdir -p "$results"

# --- Seed through the API: one user, its session cookie, the posts. ---
user=bench$(date +%s)$((RANDOM % 1000))
password=bench-password-$RANDOM
jar=$tmp/cookies
api() {	# api METHOD PATH [BODY]: prints the body, then the status line
	curl -sS -o "$tmp/body" -w '%{http_code}' -b "$jar" -c "$jar" \
		-X "$1" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$base$2"
}
expect() {	# expect STATUS WHAT METHOD PATH [BODY]
	local want=$1 what=$2 got
	shift 2
	got=$(api "$@") || got=000
	if [ "$got" != "$want" ]; then
		echo "bench: $what answered $got, wanted $want:" >&2
		head -c 300 "$tmp/body" >&2
		echo >&2
		exit 1
	fi
}
echo "bench: seeding $base (user $user, $nposts posts)"
expect 201 signup POST /api/auth/signup \
	"{\"username\":\"$user\",\"password\":\"$password\"}"
expect 200 login POST /api/auth/login \
	"{\"username\":\"$user\",\"password\":\"$password\"}"
cookie=$(awk 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) \
	{ print $6 "=" $7; exit }' "$jar")
[ -n "$cookie" ] || { echo "bench: login set no cookie" >&2; exit 1; }
: >"$tmp/ids"
for i in $(seq 1 "$nposts"); do
	expect 201 "create post $i" POST /api/posts \
		"{\"title\":\"Seed post $i\",\"content\":\"Seeded by bench/run.sh: post number $i of $nposts, with some text so that a list of twenty has a realistic size.\"}"
	jq -r .id "$tmp/body" >>"$tmp/ids"
done
expect 200 "me" GET /api/auth/me
expect 200 "list" GET "/api/posts?limit=20"
[ "$(jq '.posts | length' "$tmp/body")" = 20 ] ||
	{ echo "bench: list did not give 20 posts" >&2; exit 1; }
expect 200 "read one" GET "/api/posts/$(head -n 1 "$tmp/ids")"
if [ -n "$ceiling_url" ]; then
	code=$(curl -sS -o /dev/null -w '%{http_code}' "$ceiling_url")
	[ "$code" = 200 ] || { echo "bench: ceiling answered $code" >&2; exit 1; }
fi
export BENCH_COOKIE=$cookie BENCH_USER=$user BENCH_PASSWORD=$password
export BENCH_IDS=$tmp/ids BENCH_PREFIX=b${RANDOM}x

# --- The runs. ---
declare -A rps=() p50=() p99=() bad=() errs=() cpu=()
clk=$(getconf CLK_TCK)
ticks() {	# ticks PID...: user + system CPU ticks of these processes
	local p t=0
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo $t
}
kids() {	# kids PID...: the children (multiwatch's workers)
	local p
	for p in "$@"; do cat "/proc/$p/task/$p/children" 2>/dev/null; done
}
# cpu_sample: one line "front responders redis store" of CPU ticks, local
# mode only (the front is the ceiling's own for the ceiling's figures).
cpu_sample() {
	[ $local_mode = 1 ] || return 0
	local fr resp
	fr="$board_front $(kids "$board_front")"	# nginx's workers too
	# shellcheck disable=SC2086
	resp=$(kids $board_pids)
	if [ "$1" = ceiling ]; then
		fr="$ceiling_front $(kids "$ceiling_front")"
		# shellcheck disable=SC2086
		resp=$(kids $ceiling_pids)
	fi
	# shellcheck disable=SC2086
	echo "$(ticks $fr) $(ticks $resp) $(ticks $REDIS_PID) $(ticks ${MONGO_PID:-})"
}
# want FIGURE: FIGURE is in BENCH_ONLY, or BENCH_ONLY is unset.
want() { case " ${only:-$1} " in *" $1 "*) return 0 ;; esac; return 1; }
# bench_run NAME LUA URL [wrk options...]
bench_run() {
	local name=$1 lua=$2 url=$3 line
	shift 3
	rps[$name]=- p50[$name]=- p99[$name]=- bad[$name]=0 errs[$name]=0
	want "${name%-[12]}" || return 0
	echo "bench: $name ($duration s, $threads threads, $conns connections)"
	sleep 1	# let the previous run's connections close
	local before after
	before=$(cpu_sample "${name%-[12]}")
	wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 10s \
		-s "$BENCH_LUA_DIR/$lua" "$@" "$url" >"$results/$name.txt" 2>&1 || {
		cat "$results/$name.txt" >&2
		exit 1
	}
	line=$(grep '^BENCH ' "$results/$name.txt") || {
		cat "$results/$name.txt" >&2
		exit 1
	}
	rps[$name]=$(sed 's/.* rps=\([^ ]*\).*/\1/' <<<"$line")
	p50[$name]=$(sed 's/.* p50_ms=\([^ ]*\).*/\1/' <<<"$line")
	p99[$name]=$(sed 's/.* p99_ms=\([^ ]*\).*/\1/' <<<"$line")
	bad[$name]=$(sed 's/.* bad=\([^ ]*\).*/\1/' <<<"$line")
	errs[$name]=$(sed 's/.* errors=\([^ ]*\).*/\1/' <<<"$line")
	after=$(cpu_sample "${name%-[12]}")
	[ -z "$before" ] || cpu[$name]=$(awk -v b="$before" -v a="$after" \
		-v n="$(sed 's/.* requests=\([^ ]*\).*/\1/' <<<"$line")" \
		-v clk="$clk" 'BEGIN {
			split(b, x, " "); split(a, y, " "); t = 0
			for (i = 1; i <= 4; i++) {
				u = n > 0 ? (y[i] - x[i]) * 1e6 / clk / n : 0
				t += u; printf "%.0f | ", u
			}
			printf "%.0f", t
		}')
	echo "       ${rps[$name]} req/s, p50 ${p50[$name]} ms, p99 ${p99[$name]} ms"
}

# The ceiling is measured before and after the read-only figures and the
# ratios use the mean, which evens out some of a shared machine's drift.
[ -z "$ceiling_url" ] || bench_run ceiling-1 get.lua "$ceiling_url"
bench_run me get.lua "$base/api/auth/me" -H "Cookie: $cookie"
bench_run list get.lua "$base/api/posts?limit=20"
bench_run read read.lua "$base"
[ -z "$ceiling_url" ] || bench_run ceiling-2 get.lua "$ceiling_url"
bench_run create create.lua "$base"
bench_run signup signup.lua "$base"
bench_run login login.lua "$base"

# --- A login whose hash is bcrypt, cost 10 (local mode). ---
# board-login alone is restarted with BOARD_PASSWORD_HASH=bcrypt: the first
# login rehashes the user's Argon2id hash to bcrypt, and every later one
# verifies bcrypt (the configured scheme and cost: no rehash), as logins
# of the Node services' users do while both run side by side.
if [ $local_mode = 1 ] && want login-bcrypt; then
	set -- $board_pids	# signup login posts (stack_start_responders)
	kill -TERM "$2"
	stack_wait "board-login to stop" 10 sh -c "! kill -0 $2"
	BOARD_PASSWORD_HASH=bcrypt BOARD_BCRYPT_COST=10 \
		stack_start_responder login
	board_pids="$1 $RESPONDER_PID $3"
	stack_wait "board-login socket" 10 test -S "$run/login.sock"
	stack_wait "a bcrypt login" 10 sh -c "curl -sf -o /dev/null \
		-H 'Content-Type: application/json' --data-binary \
		'{\"username\":\"$user\",\"password\":\"$password\"}' \
		$base/api/auth/login"
	bench_run login-bcrypt login.lua "$base"
fi

# --- board-admin copy of the filled store (local mode), posts/s. ---
declare -A copy_rate=() copy_posts=()
copy_run() {	# copy_run NAME FROM TO
	local out
	out=$("$build/admin/board-admin" copy -q "$2" "$3" 2>&1) || {
		echo "bench: board-admin copy failed: $out" >&2
		exit 1
	}
	copy_posts[$1]=$(sed -n 's/.* \([0-9]*\) posts in .*/\1/p' <<<"$out")
	copy_rate[$1]=$(sed -n 's/.*(\([0-9]*\) posts\/s).*/\1/p' <<<"$out")
	echo "       $1: ${copy_posts[$1]} posts, ${copy_rate[$1]} posts/s"
}
if [ $local_mode = 1 ] && want copy; then
	echo "bench: board-admin copy"
	if [ $mongo = 1 ]; then
		copy_run "MongoDB -> SQLite" "$MONGODB_URI" "sqlite:$tmp/copy.db"
		copy_run "SQLite -> MongoDB" "sqlite:$tmp/copy.db" \
			"${MONGODB_URI%/*}/benchcopy"
	else
		copy_run "SQLite -> SQLite" "sqlite:$BOARD_DB" "sqlite:$tmp/copy.db"
	fi
fi

# --- Peak RSS of every responder process, after the runs. ---
# VmHWM is the process's peak resident set since it started.
rss_rows=""
hwm_of() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# Now, for the notes: private memory (RssAnon) and the proportional set
# size (shared library pages divided among the processes that map them).
anon_of() { awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
pss_of() { awk '/^Pss:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/smaps_rollup"; }
memkib=${BOARD_PWHASH_MEMLIMIT_KIB:-19456}
argon_mib=$(awk -v k="$memkib" 'BEGIN { printf "%.0f", k / 1024 }')
rss_pids=""
if [ $local_mode = 1 ]; then
	for m in $board_pids $ceiling_pids; do
		for c in $(cat "/proc/$m/task/$m/children" 2>/dev/null); do
			rss_pids="$rss_pids $c"
		done
	done
else
	for d in /proc/[0-9]*; do
		[ -O "$d" ] || continue
		case $(cat "$d/comm" 2>/dev/null) in
		board-signup|board-login|board-posts) rss_pids="$rss_pids ${d#/proc/}" ;;
		esac
	done
fi
missed=""
for p in $rss_pids; do
	comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
	hwm=$(hwm_of "$p") anon=$(anon_of "$p") pss=$(pss_of "$p" 2>/dev/null || echo ?)
	case $comm in
	board-posts) limit=16; target="< 16" ;;
	board-signup|board-login)
		limit=$((16 + argon_mib)); target="< 16 + $argon_mib (Argon2)" ;;
	*) limit=; target="(reference)"; comm="ceiling" ;;
	esac
	verdict=
	if [ -n "$limit" ]; then
		if awk -v h="$hwm" -v l="$limit" 'BEGIN { exit !(h < l) }'; then
			verdict=yes
		else
			verdict="**no**"; missed="$missed $comm-rss"
		fi
	fi
	rss_rows="$rss_rows| $comm | $p | $hwm | $target | $verdict | $anon | $pss |
"
done

# Every worker logs "ready" once when it starts: more lines than workers
# means multiwatch restarted some (a crash), which the report must show.
restarts=
if [ $local_mode = 1 ]; then
	restarts=$(($(grep -c ' ready ' "$run/responders.log" || :) - 3 * workers))
	# board-login restarted on purpose for the bcrypt login.
	[ -z "${rps[login-bcrypt]:-}" ] || [ "${rps[login-bcrypt]}" = - ] ||
		restarts=$((restarts - workers))
fi

# --- The report. ---
ceil=
if [ -n "$ceiling_url" ] && [ "${rps[ceiling-1]}" != - ]; then
	ceil=$(awk -v a="${rps[ceiling-1]}" -v b="${rps[ceiling-2]}" \
		'BEGIN { printf "%.1f", (a + b) / 2 }')
fi
ratio() {	# ratio NAME TARGET_PERCENT: "nn %" and whether the target is met
	[ -n "$ceil" ] && [ "${rps[$1]}" != - ] && [ "${2:-}" != - ] ||
		{ echo "n/a"; return; }
	awk -v r="${rps[$1]}" -v c="$ceil" -v t="${2:-}" 'BEGIN {
		p = 100 * r / c
		if (t == "") printf "%.0f %%", p
		else printf "%.0f %% (target ≥ %d %%: %s)", p, t, (p >= t ? "met" : "**missed**")
	}'
}
row() {	# row NAME LABEL [TARGET]
	local flag=
	[ "${rps[$1]:--}" != - ] || return 0
	[ "${bad[$1]}${errs[$1]}" = 00 ] ||
		flag=" (${bad[$1]} bad status, ${errs[$1]} socket errors)"
	printf '| %s | %s | %s | %s | %s |%s\n' "$2" "${rps[$1]}" \
		"${p50[$1]}" "${p99[$1]}" "$(ratio "$1" "${3:-}")" "$flag"
}
{
	echo "### $(date -u +%Y-%m-%d) — store: $backend, front: $front"
	echo
	echo "$(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr);" \
		"wrk $threads threads, $conns connections, $duration s per figure;" \
		"$workers processes per responder; board $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo
	echo "| figure | requests/s | p50 ms | p99 ms | of the ceiling |"
	echo "| --- | ---: | ---: | ---: | --- |"
	[ -z "$ceil" ] || {
		row ceiling-1 "ceiling (before)"
		row ceiling-2 "ceiling (after)"
		echo "| ceiling (mean) | $ceil | | | 100 % |"
	}
	row me "me (GET /api/auth/me, cookie)" 80
	row list "list 20 (GET /api/posts)" 50
	row read "read one (GET /api/posts/{id})" 70
	row create "create (POST /api/posts)"
	row signup "sign up (POST /api/auth/signup, Argon2id)" -
	row login "log in (POST /api/auth/login, Argon2id)" -
	row login-bcrypt "log in, bcrypt hash (cost 10)" -
	echo
	if [ ${#copy_rate[@]} -gt 0 ]; then
		echo "| board-admin copy | posts | posts/s |"
		echo "| --- | ---: | ---: |"
		for n in "${!copy_rate[@]}"; do
			echo "| $n | ${copy_posts[$n]} | ${copy_rate[$n]} |"
		done
		echo
	fi
	if [ ${#cpu[@]} -gt 0 ]; then
		echo "CPU time per request, µs (user + system, from /proc; wrk's own not counted):"
		echo
		echo "| figure | front server | responders | redis | store server | total |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: |"
		for n in ceiling-1 ceiling-2 me list read create signup login \
		    login-bcrypt; do
			[ -z "${cpu[$n]:-}" ] || echo "| $n | ${cpu[$n]} |"
		done
		echo
	fi
	if [ -n "$restarts" ] && [ "$restarts" != 0 ]; then
		echo "**$restarts responder processes were restarted during the run" \
			"(see responders.log).**"
		echo
	fi
	if [ -n "$rss_rows" ]; then
		echo "Peak RSS (VmHWM) after the runs, MiB:"
		echo
		echo "| process | pid | peak RSS | target | met | anon now | PSS now |"
		echo "| --- | ---: | ---: | --- | --- | ---: | ---: |"
		printf '%s' "$rss_rows"
	else
		echo "Peak RSS: no board-* process of this user found here."
	fi
} >"$results/report.md"
echo
cat "$results/report.md"
echo
for t in me:80 list:50 read:70; do
	[ -n "$ceil" ] && [ "${rps[${t%:*}]}" != - ] || continue
	awk -v r="${rps[${t%:*}]}" -v c="$ceil" -v t="${t#*:}" \
		'BEGIN { exit !(100 * r / c < t) }' && missed="$missed ${t%:*}-ratio"
done
echo "bench: raw wrk output and this report are in $results"
echo "bench: targets missed:${missed:- none}"
