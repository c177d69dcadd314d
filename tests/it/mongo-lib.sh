# mongo-lib.sh: start and stop the in-memory MongoDB-compatible test server
# (jongodb, from the npm package in tests/node_modules). Source it:
#
#	. "$srcdir/tests/it/mongo-lib.sh"
#	mongo_start "$tmp" || exit 1
#	trap 'mongo_stop' EXIT
#	... MONGODB_URI is exported ...
#
# The server keeps its data in memory: a restart starts empty.

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE:-$0}")/../.." && pwd)}"
JONGODB_BIN=${JONGODB_BIN:-${BOARD_NODE_MODULES:-$top_srcdir/tests/node_modules}/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb}
export JONGODB_BIN
MONGO_PID=
MONGO_PORT=

# Prints a TCP port on 127.0.0.1 that nothing listens on right now, below
# the kernel's ephemeral range: a port there may be some client socket's
# local port, and jongodb's bind then fails with "Address already in use".
mongo_free_port() {
	local p tries=0 low=32768 span
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	[ "${low:-0}" -gt 11024 ] 2>/dev/null || low=32768
	span=$((low - 10000))
	while [ $tries -lt 50 ]; do
		p=$(( 10000 + (RANDOM * 32768 + RANDOM) % span ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
		tries=$((tries + 1))
	done
	return 1
}

# Starts jongodb on port $1 and waits at most 20 s for its ready line.
# Returns 2 when it exited (port taken), 1 on a timeout.
mongo_start_on() {
	local port=$1 log=$2 i uri
	: >"$log"
	"$JONGODB_BIN" --host=127.0.0.1 --port="$port" --database=board \
		>>"$log" 2>&1 </dev/null &
	MONGO_PID=$!
	MONGO_PORT=$port
	for i in $(seq 1 200); do
		uri=$(sed -n 's/^JONGODB_URI=//p' "$log" | head -n 1)
		if [ -n "$uri" ]; then
			MONGODB_URI=$uri
			export MONGODB_URI MONGO_PID MONGO_PORT
			return 0
		fi
		if ! kill -0 "$MONGO_PID" 2>/dev/null; then
			wait "$MONGO_PID" 2>/dev/null
			MONGO_PID=
			return 2
		fi
		sleep 0.1
	done
	echo "mongo_start: jongodb not ready after 20 s" >&2
	mongo_stop
	return 1
}

# mongo_start DIR [PORT]: starts jongodb on 127.0.0.1 (a free port unless
# PORT is given; up to 5 ports are tried), waits at most 20 s for its ready
# line, and exports MONGODB_URI, MONGO_PID and MONGO_PORT. Output goes to
# DIR/jongodb.log.
mongo_start() {
	local dir=$1 port=${2:-} tries rc
	if [ ! -x "$JONGODB_BIN" ]; then
		echo "mongo_start: $JONGODB_BIN missing (run script/bootstrap)" >&2
		return 1
	fi
	for tries in 1 2 3 4 5; do
		if [ -n "${2:-}" ]; then
			port=$2
		else
			port=$(mongo_free_port) || {
				echo "mongo_start: no free port" >&2
				return 1
			}
		fi
		mongo_start_on "$port" "$dir/jongodb.log"
		rc=$?
		[ $rc -eq 2 ] && [ -z "${2:-}" ] && continue
		break
	done
	if [ $rc -eq 2 ]; then
		echo "mongo_start: jongodb exited:" >&2
		sed 's/^/  /' "$dir/jongodb.log" >&2
	fi
	return $rc
}

# mongo_stop: stops the server mongo_start started (only that PID) and
# waits at most 5 s for it to go, then kills it.
mongo_stop() {
	local i
	[ -n "$MONGO_PID" ] || return 0
	kill "$MONGO_PID" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$MONGO_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$MONGO_PID" 2>/dev/null
	wait "$MONGO_PID" 2>/dev/null
	MONGO_PID=
}
