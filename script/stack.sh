# script/stack.sh: start and stop the pieces of a board stack, for
# script/server, script/test, the integration tests and the benchmarks.
# Source it; every process started is recorded in STACK_PIDS and stopped by
# stack_stop, by its PID. Everything binds to loopback or unix sockets.

STACK_PIDS=""

# libmongoc (linked by every responder) otherwise makes a shared-memory
# counters file /dev/shm/mongoc-<pid> in each process at load; one left by
# a killed process makes a later process with the same PID warn on stderr.
export MONGOC_DISABLE_SHM=1

# stack_free_port [ADDR]: a free TCP port on ADDR (default 127.0.0.1; any
# 127.x.y.z is loopback on Linux).
stack_free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,process.argv[1],()=>{console.log(s.address().port);s.close()})' \
		"${1:-127.0.0.1}"
}

# stack_wait DESCRIPTION SECONDS COMMAND...: retry COMMAND every 0.1 s.
stack_wait() {
	_what=$1 _secs=$2
	shift 2
	_i=0
	while [ "$_i" -lt $((_secs * 10)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "stack: $_what not ready after ${_secs}s" >&2
	return 1
}

_stack_track() {
	STACK_PIDS="$STACK_PIDS $1"
}

# stack_start_redis DIR [persist]: a private redis-server on DIR/redis.sock.
# Sets REDIS_URL and REDIS_PID.
stack_start_redis() {
	_dir=$1
	mkdir -p "$_dir"
	if [ "${2:-}" = persist ]; then
		set -- --save "60 1" --appendonly yes
	else
		set -- --save "" --appendonly no
	fi
	redis-server --port 0 --unixsocket "$_dir/redis.sock" \
		--unixsocketperm 700 --dir "$_dir" --daemonize no \
		--logfile "$_dir/redis.log" "$@" &
	REDIS_PID=$!
	_stack_track $REDIS_PID
	REDIS_URL="unix:$_dir/redis.sock"
	export REDIS_URL
	stack_wait redis 10 redis-cli -s "$_dir/redis.sock" ping
}

# stack_start_responders BUILDDIR RUNDIR [WORKERS]: the three responders,
# each under spawn-fcgi + multiwatch on RUNDIR/<name>.sock. The environment
# (REDIS_URL, BOARD_DB, ...) is theirs; their drain file is BOARD_DRAIN_FILE,
# else RUNDIR/drain, removed first (a starting host is not draining). Sets
# RESPONDER_PIDS (multiwatch), STACK_BUILD, STACK_RUN, STACK_WORKERS and
# STACK_DRAIN_FILE.
stack_start_responders() {
	STACK_BUILD=$1 STACK_RUN=$2 STACK_WORKERS=${3:-2}
	mkdir -p "$STACK_RUN"
	RESPONDER_PIDS=""
	STACK_DRAIN_FILE=${BOARD_DRAIN_FILE:-$STACK_RUN/drain}
	rm -f "$STACK_DRAIN_FILE"
	for _r in signup login posts; do
		stack_start_responder "$_r"
		RESPONDER_PIDS="$RESPONDER_PIDS $RESPONDER_PID"
	done
	for _r in signup login posts; do
		stack_wait "board-$_r socket" 10 \
			test -S "$STACK_RUN/$_r.sock" || return 1
	done
}

# stack_start_responder NAME: one responder (signup, login or posts) as
# stack_start_responders starts it, in its folder with its workers, e.g.
# again with other settings after the caller stopped the first one. Sets
# RESPONDER_PID (multiwatch); the caller waits for the socket.
#
# multiwatch -t 1000: a worker that exits within 1 s of its start counts as
# a failed start (4 in a row and multiwatch gives up on it). The default,
# 10 s, counted workers replaced by reloads less than 10 s apart too, and
# the fifth such reload left the responder without workers.
stack_start_responder() {
	rm -f "$STACK_RUN/$1.sock"
	BOARD_DRAIN_FILE=$STACK_DRAIN_FILE \
	spawn-fcgi -n -s "$STACK_RUN/$1.sock" -M 0660 -- \
		/usr/bin/multiwatch -f "$STACK_WORKERS" -t 1000 -s TERM -- \
		"$STACK_BUILD/fcgi/board-$1" 2>>"$STACK_RUN/responders.log" &
	RESPONDER_PID=$!
	_stack_track $RESPONDER_PID
}

# stack_start_front lighttpd|nginx SRCDIR RUNDIR PORT [ADDR]: the front
# server on ADDR:PORT (default 127.0.0.1), made from etc/ by rewriting the
# production paths. Sets FRONT_PID and FRONT_KIND.
stack_start_front() {
	_front=$1 _src=$2 _run=$3 _port=$4 _addr=${5:-127.0.0.1}
	_errors=$_src/etc/lighttpd/errors/	# both fronts' JSON errors
	case $_front in
	lighttpd)
		sed -e "s|/run/board/|$_run/|g" \
			-e "s|/usr/share/board/www|$_src/www|g" \
			-e "s|/usr/share/board/errors/|$_errors|g" \
			-e "s|^server.port = 80\$|server.port = $_port|" \
			-e "s|^server.bind = .*|server.bind = \"$_addr\"|" \
			-e '/^server.username/d' -e '/^server.groupname/d' \
			-e '/^server.pid-file/d' \
			-e "s|/var/log/lighttpd/board-error.log|$_run/front-error.log|" \
			"$_src/etc/lighttpd/board.conf" >"$_run/lighttpd.conf"
		lighttpd -D -f "$_run/lighttpd.conf" &
		;;
	nginx)
		mkdir -p "$_run/nginx-tmp"
		sed -e "s|/run/board/|$_run/|g" \
			-e "s|/usr/share/board/www|$_src/www|g" \
			-e "s|/usr/share/board/errors/|$_errors|g" \
			-e "s|/etc/nginx/board-fastcgi-params|$_src/etc/nginx/board-fastcgi-params|g" \
			-e "s|listen 80;|listen $_addr:$_port;|" \
			-e "/listen \[::\]:80;/d" \
			"$_src/etc/nginx/board.conf" >"$_run/nginx-site.conf"
		# As root, nginx's workers would drop to nobody and lose access
		# to the 0660 root-owned sockets of this private stack.
		_user=""
		[ "$(id -u)" = 0 ] && _user="user root root;"
		cat >"$_run/nginx.conf" <<EOF2
$_user
daemon off;
worker_processes 1;
pid $_run/nginx.pid;
error_log $_run/front-error.log warn;
events { worker_connections 2048; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log off;
	client_body_temp_path $_run/nginx-tmp/body;
	fastcgi_temp_path $_run/nginx-tmp/fastcgi;
	proxy_temp_path $_run/nginx-tmp/proxy;
	uwsgi_temp_path $_run/nginx-tmp/uwsgi;
	scgi_temp_path $_run/nginx-tmp/scgi;
	include $_run/nginx-site.conf;
}
EOF2
		nginx -c "$_run/nginx.conf" -e "$_run/front-error.log" &
		;;
	*)
		echo "stack: unknown front server $_front" >&2
		return 1
		;;
	esac
	FRONT_PID=$!
	FRONT_KIND=$_front
	_stack_track $FRONT_PID
	# Any HTTP answer will do: health may rightly be 503.
	stack_wait "$_front on $_addr:$_port" 10 \
		curl -sS -o /dev/null "http://$_addr:$_port/api/health"
}

# stack_drain: /api/health answers 503 "draining" for BOARD_DRAIN_SECONDS
# (board.conf's drain_seconds), while everything else is served, so that a
# load balancer takes the host out; returns when that time is up. Needs
# stack_start_responders' STACK_BUILD and STACK_DRAIN_FILE.
stack_drain() {
	[ -n "${STACK_BUILD:-}" ] || return 0	# no responders yet
	BOARD_DRAIN_FILE=$STACK_DRAIN_FILE "$STACK_BUILD/fcgi/board-posts" --drain
}

# stack_reload: what `systemctl reload` does: SIGUSR2 to each multiwatch,
# whose workers finish the request in hand and are replaced.
stack_reload() {
	for _p in $RESPONDER_PIDS; do kill -USR2 "$_p" 2>/dev/null || :; done
}

# stack_stop_front_gracefully PID KIND [SECONDS]: the front server stops
# accepting and finishes the requests it has (lighttpd: SIGINT, nginx:
# SIGQUIT), within SECONDS (default 30), else it is killed.
stack_stop_front_gracefully() {
	_pid=$1 _kind=$2 _secs=${3:-30}
	case $_kind in
	nginx) kill -QUIT "$_pid" 2>/dev/null || : ;;
	*) kill -INT "$_pid" 2>/dev/null || : ;;
	esac
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt $((_secs * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$_pid" 2>/dev/null || :
	wait "$_pid" 2>/dev/null || :
}

# stack_stop_gracefully: the front server (FRONT_PID) first, finishing what
# it has in flight, then stack_stop: the responders finish the request in
# hand and exit, then the rest. Call stack_drain before it to leave a load
# balancer first.
stack_stop_gracefully() {
	[ -n "${FRONT_PID:-}" ] &&
		stack_stop_front_gracefully "$FRONT_PID" "${FRONT_KIND:-lighttpd}"
	stack_stop
}

# stack_stop_pids PID...: TERM them, KILL what is left after 5 s, and
# forget them (STACK_PIDS keeps the others).
stack_stop_pids() {
	for _p in "$@"; do kill -TERM "$_p" 2>/dev/null || :; done
	_i=0
	for _p in "$@"; do
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -KILL "$_p" 2>/dev/null || :
		wait "$_p" 2>/dev/null || :
	done
	_keep=""
	for _p in $STACK_PIDS; do
		case " $* " in *" $_p "*) ;; *) _keep="$_keep $_p" ;; esac
	done
	STACK_PIDS=$_keep
}

# stack_stop: TERM everything started, newest first, then KILL stragglers.
stack_stop() {
	_rev=""
	for _p in $STACK_PIDS; do _rev="$_p $_rev"; done
	# shellcheck disable=SC2086
	stack_stop_pids $_rev
}
