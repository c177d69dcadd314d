#!/bin/bash
# package.sh: the Debian package from build to purge.
#
#   1. script/package builds board and board-dbgsym from the working tree,
#      and again with a higher version (for the upgrade);
#   2. lintian finds no error and no warning in the .changes and the .debs;
#   3. in a throwaway root, without systemd running (as in a chroot or an
#      image build): `apt-get install ./board_*.deb` makes the board user,
#      /run/board and /var/lib/board, installs every file, enables
#      board.target and the services, and starts nothing;
#   4. the responders start by the command lines of the installed units
#      (Environment=, EnvironmentFile=, ExecStartPre=+, ExecStart= as
#      User=), then board-drain.service by its ExecStart=; lighttpd by the
#      one deploy.md gives for its configuration, and script/smoke passes
#      against them;
#   5. with systemd "running" (a recording systemctl stand-in and
#      /run/systemd/system), the upgrade to the higher version keeps an
#      edited /etc/board/board.conf and the environment file, asks systemd
#      to try-restart board.target and its units (board-drain.service
#      before the responders) and nothing else, and keeps the data (a user
#      made before logs in after). What that try-restart does under
#      systemd is played by the units' command lines: board-drain's
#      ExecStop= drains (/api/health 503 "draining", the rest served), the
#      responders restart, board-drain's ExecStart= ends the drain, and the
#      new responders pass script/smoke. Removal asks systemd to stop
#      board.target and every board unit and keeps the configuration and
#      data; purge leaves nothing of board (the board user stays, as
#      README.Debian says).
#
# The throwaway root is an overlay on this machine's own root file system
# (its packages satisfy the dependencies: script/bootstrap installed them),
# in private mount, PID and network namespaces: writes go to a tmpfs and
# vanish, every process dies with the namespace, and the only network is a
# loopback of its own (so lighttpd listens on port 80 as configured, and
# Redis on 127.0.0.1:6379, board.conf's default). Needs root; takes about a
# minute. A release tarball has no debian/ (debian/README.source): there,
# under `make distcheck`, the test skips.
#
# Environment: top_srcdir (default: this script's tree); BOARD_IT_KEEP
# keeps the temporary folder (packages, logs).
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
srcdir=$(cd "$srcdir" && pwd)
self=$srcdir/tests/it/package.sh

# ---------------------------------------------------------------------------
# Helpers used inside the throwaway root.

# unit_values UNIT KEY: the values of KEY= in an installed unit, one a line.
unit_values() {
	sed -n "s/^$2=//p" "/lib/systemd/system/$1"
}

# unit_setup UNIT: what systemd gives UNIT's commands, in globals: U_ENV
# (KEY=VALUE: PATH, then Environment=, then the lines of EnvironmentFile=,
# which override them), U_VALS (the same by name: the last wins), U_USER,
# U_GROUP and U_UMASK.
unit_setup() {
	local unit=$1 kv f line
	U_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
	declare -gA U_VALS=()
	while IFS= read -r kv; do
		U_ENV+=("$kv")
	done < <(unit_values "$unit" Environment)
	while IFS= read -r f; do
		f=${f#-}
		[ -f "$f" ] || continue
		while IFS= read -r line; do
			case $line in '' | '#'* | ';'*) continue ;; esac
			U_ENV+=("$line")
		done <"$f"
	done < <(unit_values "$unit" EnvironmentFile)
	for kv in "${U_ENV[@]}"; do U_VALS[${kv%%=*}]=${kv#*=}; done
	U_USER=$(unit_values "$unit" User)
	U_GROUP=$(unit_values "$unit" Group)
	U_UMASK=$(unit_values "$unit" UMask)
}

# unit_argv UNIT CMD: CMD (an Exec*= value without its prefixes) with
# ${VAR} expanded from U_VALS, split into U_ARGV; fails on a "$" left.
unit_argv() {
	local cmd=$2 name
	for name in "${!U_VALS[@]}"; do cmd=${cmd//"\${$name}"/${U_VALS[$name]}}; done
	case $cmd in *'$'*) echo "unit_argv: $1: unexpanded: $cmd" >&2; return 1 ;; esac
	read -ra U_ARGV <<<"$cmd"
}

# run_unit_cmds UNIT KEY LOG: run every KEY= line of UNIT (ExecStartPre=,
# ExecStop=, ...) in turn, in the foreground, as systemd would: with the
# unit's environment, umask and User=/Group=, or as root for "+"; a
# failure ends it unless the line has "-".
run_unit_cmds() {
	local unit=$1 key=$2 log=$3 cmd root mayfail
	unit_setup "$unit"
	while IFS= read -r cmd; do
		root=no mayfail=no
		while :; do
			case $cmd in
			+*) root=yes; cmd=${cmd#+} ;;
			-*) mayfail=yes; cmd=${cmd#-} ;;
			*) break ;;
			esac
		done
		unit_argv "$unit" "$cmd" || return 1
		[ $root = yes ] || U_ARGV=(setpriv --reuid="$U_USER" --regid="$U_GROUP" --init-groups -- "${U_ARGV[@]}")
		(
			umask "${U_UMASK:-0022}"
			exec env -i "${U_ENV[@]}" "${U_ARGV[@]}" >>"$log" 2>&1 </dev/null
		) || [ $mayfail = yes ] || return 1
	done < <(unit_values "$unit" "$key")
}

# start_unit UNIT LOG: run UNIT's ExecStartPre= (run_unit_cmds), then its
# ExecStart= as User=/Group= in the background, with its PID tracked for
# stack_stop.
start_unit() {
	local unit=$1 log=$2
	run_unit_cmds "$unit" ExecStartPre "$log" || return 1
	unit_setup "$unit"
	unit_argv "$unit" "$(unit_values "$unit" ExecStart)" || return 1
	(
		umask "${U_UMASK:-0022}"
		exec env -i "${U_ENV[@]}" setpriv --reuid="$U_USER" --regid="$U_GROUP" \
			--init-groups -- "${U_ARGV[@]}" >>"$log" 2>&1 </dev/null
	) &
	_stack_track $!
	RESP_PIDS="$RESP_PIDS $!"
}

# responders_start: the responder units (RESPONDERS); waits for the sockets.
responders_start() {
	local unit
	RESP_PIDS=""
	for unit in "${RESPONDERS[@]}"; do
		start_unit "$unit" "$LOGS/responders.log" || return 1
	done
	for unit in "${RESPONDERS[@]}"; do
		unit=${unit#board-}
		stack_wait "${unit%.service} socket" 15 test -S "/run/board/${unit%.service}.sock" ||
			return 1
	done
}

# responders_stop: what systemctl stop does to them (SIGTERM to multiwatch,
# which stops its workers; SIGKILL after 5 s), by PID.
responders_stop() {
	# shellcheck disable=SC2086
	stack_stop_pids $RESP_PIDS
	RESP_PIDS=""
}

# apt_do ARGS...: apt-get as an operator runs it, output to the log.
apt_do() {
	echo "### apt-get $*" >>"$LOGS/apt.log"
	DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends "$@" \
		>>"$LOGS/apt.log" 2>&1
}

# board_leftovers: what of board is on the system (after purge: nothing).
# The overlay's upper layer holds everything written since the start;
# whiteouts (character devices) are deletions.
board_leftovers() {
	(cd "$UPPER" && find . ! -type c -iname '*board*' | sed 's|^\.||')
	for p in /etc/board /var/lib/board /run/board /usr/libexec/board \
		/usr/share/board /usr/share/doc/board /var/log/lighttpd/board-error.log \
		/lib/systemd/system/board.target /usr/lib/sysusers.d/board.conf \
		/usr/lib/tmpfiles.d/board.conf; do
		[ -e "$p" ] || [ -L "$p" ] && echo "$p"
	done
	find /etc /var /run /srv /opt /tmp -xdev -user board 2>/dev/null
	find /etc/systemd /var/lib/systemd -name '*board*' 2>/dev/null
	pgrep -u board -l 2>/dev/null
	:
}

# ---------------------------------------------------------------------------
# Inside the throwaway root (chroot, namespaces made): steps 3-5.
inside() {
	. "$srcdir/tests/it/lib.sh"
	. "$srcdir/script/stack.sh"
	T_N=$1 T_FAILED=0
	trap 'stack_stop; echo "$T_N $T_FAILED" >"$STATE"' EXIT
	LOGS=$IT_TMP/logs
	mkdir -p "$LOGS" /run/pkgtest
	BASE=http://127.0.0.1
	ip link set lo up
	local v1deb=$DEB1 v2deb=$DEB2 v2=$V2 out u f missing bad rc
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

	# A clean slate: no board from this machine's own installs.
	if dpkg-query -W board >/dev/null 2>&1; then
		diag "this machine has board installed: purged inside the throwaway root first"
		dpkg --purge board >/dev/null 2>&1
	fi
	getent passwd board >/dev/null && userdel board 2>/dev/null
	getent group board >/dev/null && groupdel board 2>/dev/null
	rm -rf /etc/board /var/lib/board /usr/libexec/board /usr/share/board \
		/lib/systemd/system/board* /usr/lib/sysusers.d/board.conf \
		/usr/lib/tmpfiles.d/board.conf /etc/systemd/system/*board* \
		/etc/systemd/system/*/board* /var/lib/systemd/deb-systemd-*/*board* \
		/usr/sbin/policy-rc.d
	# systemctl: a stand-in that records each call. Offline calls (--root=,
	# as deb-systemd-helper makes to enable units) go to the real one;
	# calls to a running systemd are answered as if it were there
	# (is-enabled: "enabled").
	cp /usr/bin/systemctl /run/pkgtest/systemctl.real
	rm -f /usr/bin/systemctl
	cat >/usr/bin/systemctl <<-'EOF'
	#!/bin/sh
	echo "$*" >>/run/pkgtest/systemctl.log
	case " $* " in *" --root="*) exec /run/pkgtest/systemctl.real "$@" ;; esac
	case " $* " in *" is-enabled "*) echo enabled ;; esac
	exit 0
	EOF
	chmod 755 /usr/bin/systemctl
	: >/run/pkgtest/systemctl.log
	local before
	before=$(board_leftovers)
	is "$before" "" "the throwaway root starts without board"

	# 3. Install without systemd.
	apt_do install "$v1deb"
	ok $? "apt-get install ./$(basename "$v1deb") (systemd not running)"
	is "$(dpkg-query -W -f='${db:Status-Status} ${Version}' board 2>&1)" \
		"installed $V1" "dpkg: board $V1 installed"
	is "$(grep -v -e '--root=' /run/pkgtest/systemctl.log)" "" \
		"without systemd, no systemctl call but offline ones (--root=, enabling)"

	# Every packaged file is there and unchanged; the essential ones are
	# packaged; every configuration file is a conffile.
	missing=""
	while IFS= read -r f; do
		[ -e "$f" ] || missing="$missing $f"
	done < <(dpkg -L board)
	is "$missing" "" "every file of dpkg -L board exists"
	out=$(dpkg --verify board 2>&1)
	is "$out" "" "dpkg --verify board: checksums match"
	missing=""
	for f in /usr/libexec/board/board-signup /usr/libexec/board/board-login \
		/usr/libexec/board/board-posts /lib/systemd/system/board.target \
		/lib/systemd/system/board-signup.service \
		/lib/systemd/system/board-login.service \
		/lib/systemd/system/board-posts.service \
		/usr/lib/sysusers.d/board.conf /usr/lib/tmpfiles.d/board.conf \
		/etc/board/board.conf /etc/board/nginx/board.conf \
		/etc/board/nginx/board-fastcgi-params /etc/board/lighttpd/board.conf \
		/usr/share/doc/board/copyright /usr/share/doc/board/changelog.gz \
		/usr/share/doc/board/README.Debian /usr/share/doc/board/deploy.md.gz; do
		dpkg -L board | grep -qx "$f" || missing="$missing $f"
	done
	is "$missing" "" "the responders, units, sysusers/tmpfiles, configuration and docs are packaged"
	bad=""
	for f in "$srcdir"/www/*; do
		cmp -s "$f" "/usr/share/board/www/${f##*/}" || bad="$bad ${f##*/}"
	done
	is "$bad" "" "/usr/share/board/www holds the page (every file of www/)"
	is "$(dpkg-query -W -f='${Conffiles}\n' board | awk 'NF {print $1}' | sort | tr '\n' ' ')" \
		"$(find /etc/board -type f | sort | tr '\n' ' ')" \
		"every file in /etc/board is a conffile"
	bad=""
	for f in /usr/libexec/board/*; do
		[ -x "$f" ] || bad="$bad $f (not executable)"
		ldd "$f" 2>&1 | grep -q 'not found' && bad="$bad $f (library missing)"
	done
	is "$bad" "" "the responders are executable and their libraries resolve"
	UNITS=() RESPONDERS=()
	for f in /lib/systemd/system/board-*.service; do
		UNITS+=("${f##*/}")
		[ "${f##*/}" = board-drain.service ] || RESPONDERS+=("${f##*/}")
	done
	is "${UNITS[*]}" \
		"board-drain.service board-login.service board-posts.service board-signup.service" \
		"the units installed: the three responders and board-drain.service"

	# The user and the folders (sysusers.d, tmpfiles.d in the postinst).
	IFS=: read -r u _ uid gid _ home shell < <(getent passwd board)
	is "$u:$home:$shell" "board:/var/lib/board:/usr/sbin/nologin" \
		"the board user: home /var/lib/board, no login shell"
	[ "${uid:-1000}" -lt 1000 ] && [ "$(getent group board | cut -d: -f3)" = "$gid" ]
	ok $? "board is a system user (uid ${uid:-?} < 1000) with its own group"
	is "$(stat -c '%a %U %G' /run/board)" "2750 board www-data" "/run/board: 2750 board:www-data"
	is "$(stat -c '%a %U %G' /var/lib/board)" "750 board board" "/var/lib/board: 0750 board:board"
	is "$(stat -c '%a %U %G' /etc/board/board.conf)" "640 root board" \
		"/etc/board/board.conf: 0640 root:board (it may hold a password)"

	# Enabled for the next boot, nothing started.
	bad=""
	[ "$(readlink /etc/systemd/system/multi-user.target.wants/board.target)" = \
		/lib/systemd/system/board.target ] || bad="$bad board.target"
	for u in "${UNITS[@]}"; do
		[ "$(readlink "/etc/systemd/system/board.target.wants/$u")" = \
			"/lib/systemd/system/$u" ] || bad="$bad $u"
	done
	is "$bad" "" "board.target enabled (multi-user.target.wants) with the services (board.target.wants)"
	out=""
	for u in board-signup board-login board-posts spawn-fcgi multiwatch; do
		pgrep -x "$u" >/dev/null && out="$out $u"
	done
	pgrep -u board >/dev/null && out="$out (a process of user board)"
	is "$out" "" "nothing started by the installation"

	# 4. Configured as an operator would, started by the units' command lines.
	sed -i 's/^#login_window = 900$/login_window = 600/' /etc/board/board.conf
	install -m 0600 /dev/null /etc/board/environment
	cat >/etc/board/environment <<-'EOF'
	# tests/it/package.sh: cheap password hashing for a quick test.
	BOARD_PWHASH_OPSLIMIT=1
	BOARD_PWHASH_MEMLIMIT_KIB=8
	BOARD_SIGNUP_WORKERS=1
	BOARD_LOGIN_WORKERS=2
	# board-drain.service's ExecStop= drains for 2 s instead of its 10.
	BOARD_DRAIN_SECONDS=2
	EOF
	mkdir -p /run/pkgtest/redis
	redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
		--dir /run/pkgtest/redis --daemonize no --logfile "$LOGS/redis.log" &
	_stack_track $!
	stack_wait redis 10 redis-cli -h 127.0.0.1 -p 6379 ping
	ok $? "redis-server on 127.0.0.1:6379 (board.conf's default)"
	responders_start
	ok $? "the responders start by their units' ExecStartPre= and ExecStart= as user board"
	# board-drain.service starts after them; a drain file left by a host
	# killed in the middle of its drain goes.
	touch /run/board/drain
	run_unit_cmds board-drain.service ExecStart "$LOGS/drain.log" && [ ! -e /run/board/drain ]
	ok $? "board-drain.service's ExecStart= as user board removes a drain file left behind"
	out=$(pgrep -u board -c -x board-login)
	is "$out" 2 "BOARD_LOGIN_WORKERS=2 from /etc/board/environment: two login workers"
	is "$(stat -c '%a %U %G' /run/board/posts.sock)" "660 board www-data" \
		"/run/board/posts.sock: 0660, group www-data"
	/usr/sbin/lighttpd -tt -f /etc/board/lighttpd/board.conf >>"$LOGS/lighttpd.log" 2>&1 &&
		{
			/usr/sbin/lighttpd -D -f /etc/board/lighttpd/board.conf >>"$LOGS/lighttpd.log" 2>&1 &
			_stack_track $!
			stack_wait lighttpd 10 curl -sf -o /dev/null "$BASE/"
		}
	ok $? "lighttpd -D -f /etc/board/lighttpd/board.conf serves the page on port 80"
	"$srcdir/script/smoke" "$BASE/" >"$LOGS/smoke1.log" 2>&1
	rc=$?
	ok $rc "script/smoke against the installed package"
	[ $rc -eq 0 ] || diag "$(tail -5 "$LOGS/smoke1.log")"
	req POST /api/auth/signup '{"username":"pkgkeeper","password":"kept across upgrade 1"}'
	is "$STATUS" 201 "sign up a user before the upgrade"

	# 5. Upgrade, with systemd "running".
	mkdir -p /run/systemd/system
	: >/run/pkgtest/systemctl.log
	apt_do install "$v2deb"
	ok $? "apt-get install ./$(basename "$v2deb") (the upgrade)"
	is "$(dpkg-query -W -f='${db:Status-Status} ${Version}' board 2>&1)" \
		"installed $v2" "dpkg: board $v2 installed"
	grep -qx 'login_window = 600' /etc/board/board.conf &&
		[ ! -e /etc/board/board.conf.dpkg-dist ] && [ ! -e /etc/board/board.conf.dist ]
	ok $? "the edited /etc/board/board.conf survives the upgrade"
	grep -qx 'BOARD_LOGIN_WORKERS=2' /etc/board/environment
	ok $? "/etc/board/environment survives the upgrade"
	is "$(stat -c '%a %U %G' /etc/board/board.conf)" "640 root board" \
		"/etc/board/board.conf still 0640 root:board"
	is "$(grep -v -e 'daemon-reload' -e 'is-enabled' -e 'is-active' -e '--root=' \
		/run/pkgtest/systemctl.log | tr '\n' ';')" \
		"try-restart board.target ${UNITS[*]};" \
		"the upgrade asks systemd to try-restart board.target and its units (board-drain first), nothing else"
	grep -q 'daemon-reload' /run/pkgtest/systemctl.log
	ok $? "the upgrade reloads systemd (daemon-reload)"
	req GET /api/health
	is "$STATUS" 200 "the running responders answer through the upgrade"
	# What that try-restart does under systemd (one transaction, as
	# board.target's restart reaches its units): board-drain.service is
	# ordered after the responders, so it stops first (its ExecStop= drains
	# while the old responders still serve), then the responders stop and
	# the new ones start, then it starts again (its ExecStart= ends the
	# drain).
	local t0 ms drain_pid i health
	t0=$(date +%s%N)
	run_unit_cmds board-drain.service ExecStop "$LOGS/drain.log" &
	drain_pid=$!
	stack_wait "drain file" 10 test -e /run/board/drain
	req GET /api/health
	health="$STATUS $(jf .status)"
	req POST /api/auth/login '{"username":"pkgkeeper","password":"kept across upgrade 1"}'
	is "$health / $STATUS" "503 draining / 200" \
		"board-drain.service's ExecStop=: /api/health answers 503 draining, the rest is served"
	i=0
	while kill -0 $drain_pid 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill $drain_pid 2>/dev/null
	wait $drain_pid
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $rc -eq 0 ] && [ $ms -ge 2000 ]
	ok $? "the drain ends, exit 0, after BOARD_DRAIN_SECONDS=2 from /etc/board/environment (exit $rc after $ms ms)"
	responders_stop
	responders_start
	ok $? "the upgraded responders start by their units' command lines"
	run_unit_cmds board-drain.service ExecStart "$LOGS/drain.log" && [ ! -e /run/board/drain ]
	ok $? "board-drain.service's ExecStart= ends the drain"
	req GET /api/health
	is "$STATUS $(jf .status)" "200 ok" "/api/health answers 200 ok again"
	"$srcdir/script/smoke" "$BASE/" >"$LOGS/smoke2.log" 2>&1
	rc=$?
	ok $rc "script/smoke against the upgraded package"
	[ $rc -eq 0 ] || diag "$(tail -5 "$LOGS/smoke2.log")"
	req POST /api/auth/login '{"username":"pkgkeeper","password":"kept across upgrade 1"}'
	is "$STATUS" 200 "the user made before the upgrade logs in after it (data kept)"

	# Removal: systemd is asked to stop them (the stand-in cannot: we do).
	stack_stop
	: >/run/pkgtest/systemctl.log
	apt_do remove board
	ok $? "apt-get remove board"
	grep -qx "stop board.target ${UNITS[*]}" /run/pkgtest/systemctl.log
	ok $? "removal asks systemd to stop board.target and every board unit (board-drain.service first)"
	[ "$(dpkg-query -W -f='${db:Status-Status}' board)" = config-files ] &&
		[ ! -e /usr/libexec/board ] && grep -qx 'login_window = 600' /etc/board/board.conf &&
		[ -s /var/lib/board/board.db ]
	ok $? "after removal: programs gone, configuration and data kept"

	# Purge: nothing left.
	apt_do purge board
	ok $? "apt-get purge board"
	is "$(dpkg-query -W -f='${db:Status-Status}' board 2>/dev/null)" "" \
		"dpkg no longer knows board"
	out=$(board_leftovers)
	is "$out" "" "nothing of board left after purge"
	getent passwd board >/dev/null
	ok $? "the board system user stays after purge (README.Debian)"
	out=$(grep -Ei '(^|[^a-z])(error|warning)' "$LOGS/apt.log" | grep -v '^###' || :)
	is "$out" "" "no error or warning from apt, dpkg or the maintainer scripts"
	return 0
}

# ---------------------------------------------------------------------------
# In the new namespaces: the overlay root, then the steps inside it.
namespace() {
	local t=$IT_TMP/ns root
	mkdir -p "$t"
	mount -t tmpfs -o size=1g,mode=0755 pkgtest "$t" || return 1
	mkdir -p "$t/upper" "$t/work" "$t/root"
	mount -t overlay pkgtest -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" \
		"$t/root" || return 1
	root=$t/root
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=0755 run "$root/run"
	mount -t tmpfs -o mode=1777 tmp "$root/tmp"
	# The sources and this test's folder, at the same paths (a clone under
	# /tmp or /run needs its mount point made on the fresh tmpfs).
	mkdir -p "$root$IT_TMP" "$root$srcdir" "$root/run/pkgtest/upper"
	mount --bind "$IT_TMP" "$root$IT_TMP"
	mount --bind -o ro "$srcdir" "$root$srcdir" 2>/dev/null ||
		mount --bind "$srcdir" "$root$srcdir"
	mount --bind -o ro "$t/upper" "$root/run/pkgtest/upper" 2>/dev/null ||
		mount --bind "$t/upper" "$root/run/pkgtest/upper"
	UPPER=/run/pkgtest/upper chroot "$root" /bin/bash "$self" --inside "$1"
}

# ---------------------------------------------------------------------------
case ${1:-} in
--namespace)
	namespace "$2"
	exit $?
	;;
--inside)
	inside "$2"
	exit 0
	;;
esac

if [ ! -f "$srcdir/debian/control" ] || [ ! -x "$srcdir/script/package" ]; then
	echo "1..0 # SKIP no debian/ here (a release tarball): the package is built from the git tree"
	exit 0
fi

IT_TMP=$(mktemp -d /tmp/pkgtest.XXXXXX)
export IT_TMP
. "$srcdir/tests/it/lib.sh"
started=$(date +%s)
trap 'it_finish_tmp' EXIT

missing=""
for p in dpkg-buildpackage lintian unshare chroot setpriv apt-get redis-server \
	redis-cli lighttpd spawn-fcgi multiwatch curl jq pgrep ip; do
	command -v "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ "$(id -u)" != 0 ] || [ -n "$missing" ]; then
	ok 1 "root, and the tools are installed (script/bootstrap)${missing:+: missing$missing}"
	done_testing
	exit 1
fi

# 1. Build, twice.
V1=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
V2=$V1+test1
arch=$(dpkg --print-architecture)
# Bounded: a build takes 10-30 s on 2 busy cores.
BOARD_DEB_DIR=$IT_TMP/deb1 timeout -k 10 300 "$srcdir/script/package" \
	>"$IT_TMP/package1.log" 2>&1
ok $? "script/package builds board $V1"
[ -f "$IT_TMP/deb1/board_${V1}_$arch.deb" ] &&
	[ -f "$IT_TMP/deb1/board-dbgsym_${V1}_$arch.deb" ] &&
	[ -f "$IT_TMP/deb1/board_${V1}_$arch.changes" ]
ok $? "board, board-dbgsym and the .changes are made"
[ "$T_FAILED" -eq 0 ] || diag "$(tail -20 "$IT_TMP/package1.log")"
BOARD_DEB_DIR=$IT_TMP/deb2 timeout -k 10 300 "$srcdir/script/package" --version "$V2" \
	>"$IT_TMP/package2.log" 2>&1
ok $? "script/package --version $V2 builds the upgrade"
[ "$T_FAILED" -eq 0 ] || { diag "$(tail -20 "$IT_TMP/package2.log")"; done_testing; exit 1; }

# 2. lintian (as root it says so on stderr: not a finding).
(cd "$IT_TMP/deb1" && timeout -k 10 120 lintian --fail-on error,warning \
	"board_${V1}_$arch.changes") \
	>"$IT_TMP/lintian.log" 2>&1
rc=$?
out=$(grep -v '^running with root privileges' "$IT_TMP/lintian.log")
[ $rc -eq 0 ] && [ -z "$out" ]
ok $? "lintian: no error, no warning (board, board-dbgsym, .changes)"
[ -n "$out" ] && diag "$out"

# 3-5. In the throwaway root.
DEB1=$IT_TMP/deb1/board_${V1}_$arch.deb DEB2=$IT_TMP/deb2/board_${V2}_$arch.deb
STATE=$IT_TMP/state
export DEB1 DEB2 V1 V2 STATE srcdir IT_TMP
timeout -k 10 240 unshare --mount --propagation private --net --pid --fork \
	--kill-child /bin/bash "$self" --namespace "$T_N"
rc=$?
if [ -s "$STATE" ]; then
	read -r T_N failed_inside <"$STATE"
	T_FAILED=$((T_FAILED + failed_inside))
else
	ok 1 "the throwaway root ran to the end (exit $rc; 124: timed out)"
fi
[ $rc -eq 0 ] || [ -s "$STATE" ] || diag "$(tail -20 "$IT_TMP"/logs/*.log 2>/dev/null)"
diag "package test took $(($(date +%s) - started)) s"
done_testing
