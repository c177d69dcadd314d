#!/bin/bash
# systemd-verify.sh: the systemd units, sysusers.d and tmpfiles.d entries are
# valid. Generates them with systemd/subst.sh (as `make` does) but pointing at
# the responders just built, then:
#   - `systemd-analyze verify` accepts every unit and prints nothing;
#   - every program a unit runs exists and is executable;
#   - `systemd-analyze security --offline` rates each service's exposure low;
#   - systemd-sysusers and systemd-tmpfiles, run on a scratch root, make the
#     board user, /run/board (2750 board:www-data) and the state folder;
#   - the socket paths agree with etc/nginx and etc/lighttpd;
#   - each service has no core dumps (LimitCORE=0) and a MemoryMax=;
#   - lighttpd's pid file (written as root) is in no folder the board user
#     can write.
# Needs no running systemd (PID 1 is not systemd here).
# Environment: top_srcdir, top_builddir (default: the current directory,
# where `make check` runs tests, if it holds fcgi/board-posts, else the
# source tree), BOARD_MAX_EXPOSURE (default 2.0).
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-${BOARD_BUILDDIR:-.}}
[ -x "$builddir/fcgi/board-posts" ] || [ -n "${top_builddir:-}${BOARD_BUILDDIR:-}" ] ||
	builddir=$srcdir
builddir=$(cd "$builddir" && pwd)
max_exposure=${BOARD_MAX_EXPOSURE:-2.0}
names="signup login posts"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
IT_TMP=$tmp
. "$srcdir/tests/it/lib.sh"
units=$tmp/units
mkdir -p "$units" "$tmp/tmpfiles.d" "$tmp/sysusers.d"

spawn_fcgi=$(command -v spawn-fcgi || echo /usr/bin/spawn-fcgi)
multiwatch=$(command -v multiwatch || echo /usr/bin/multiwatch)
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "1..1"
	ok 1 "systemd-analyze is installed (apt-get install systemd)"
	exit 1
fi

# 1. Generate, with the built responders as the programs to run.
gen_ok=yes
for name in $names; do
	[ -x "$builddir/fcgi/board-$name" ] || {
		diag "$builddir/fcgi/board-$name is not built (run make first)"
		gen_ok=no
	}
	upper=$(echo "$name" | tr a-z A-Z)
	sh "$srcdir/systemd/subst.sh" "$srcdir/systemd/board-responder.service.in" \
	    "$units/board-$name.service" name="$name" NAME="$upper" workers=4 \
	    boardexecdir="$builddir/fcgi" sysconfdir=/etc localstatedir=/var \
	    tmpfilesdir="$tmp/tmpfiles.d" SPAWN_FCGI="$spawn_fcgi" \
	    MULTIWATCH="$multiwatch" || gen_ok=no
done
sh "$srcdir/systemd/subst.sh" "$srcdir/systemd/board-drain.service.in" \
    "$units/board-drain.service" boardexecdir="$builddir/fcgi" \
    sysconfdir=/etc || gen_ok=no
cp "$srcdir/systemd/board.target" "$units/" || gen_ok=no
sh "$srcdir/systemd/subst.sh" "$srcdir/systemd/board.tmpfiles.in" \
    "$tmp/tmpfiles.d/board.conf" localstatedir=/var sysconfdir=/etc || gen_ok=no
sh "$srcdir/systemd/subst.sh" "$srcdir/systemd/board.sysusers.in" \
    "$tmp/sysusers.d/board.conf" localstatedir=/var || gen_ok=no

echo "1..23"
check "units, tmpfiles.d and sysusers.d generated from the templates" \
    test "$gen_ok" = yes

# 2-6. systemd-analyze verify: exit 0 and not a word of complaint (unknown
# keys and bad values are only warnings, with exit status 0).
for unit in board-signup.service board-login.service board-posts.service \
    board-drain.service board.target; do
	out=$(cd "$units" && systemd-analyze verify --man=no "$unit" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok 0 "systemd-analyze verify $unit"
	else
		ok 1 "systemd-analyze verify $unit (exit $rc)"
		diag "$out"
	fi
done

# 7. Every absolute path an Exec line runs is an executable file: verify
# checks only the first word, not multiwatch or the responder after it.
bad=""
for name in $names drain; do
	for word in $(sed -n 's/^Exec[A-Za-z]*=[-+!@:]*//p' "$units/board-$name.service"); do
		case $word in
		/run/*|*.conf) ;;
		/*) [ -f "$word" ] && [ -x "$word" ] || bad="$bad $word" ;;
		esac
	done
done
if [ -z "$bad" ]; then
	ok 0 "every program the services run is executable"
else
	ok 1 "every program the services run is executable"
	diag "not executable:$bad"
fi

# 8. Stopping and reloading reach the workers the way the responders expect:
# multiwatch passes SIGTERM on (its default, SIGUSR1, would kill them on the
# spot), SIGUSR2 is what it forwards without shutting down, and workers
# replaced by reloads are not taken for failed starts (-t 1000).
grep_all() {
	for name in $names; do
		grep -q -e "$1" "$units/board-$name.service" || return 1
	done
}
if grep_all '^ExecStart=.* -t 1000 -s TERM -- ' && grep_all '^KillMode=mixed$' &&
    grep_all '^ExecReload=/bin/kill -USR2 \$MAINPID$'; then
	ok 0 "stop sends SIGTERM through multiwatch, reload sends SIGUSR2"
else
	ok 1 "stop sends SIGTERM through multiwatch, reload sends SIGUSR2"
fi

# 9. Stopping board.target drains first: board-drain.service is part of it,
# ordered after the responders (so stopped before them), and runs --drain
# on stop with 10 s by default, --undrain on start.
d=$units/board-drain.service
if grep -q '^Wants=board-drain.service$' "$units/board.target" &&
    grep -q '^PartOf=board.target$' "$d" &&
    grep -q '^After=board-signup.service board-login.service board-posts.service$' "$d" &&
    grep -q '^ExecStop=.*/board-posts --drain$' "$d" &&
    grep -q '^ExecStart=.*/board-posts --undrain$' "$d" &&
    grep -q '^Environment=BOARD_DRAIN_SECONDS=10$' "$d"; then
	ok 0 "board.target drains (board-drain.service) before the responders stop"
else
	ok 1 "board.target drains (board-drain.service) before the responders stop"
fi

# 10-13. Hardening, as systemd itself rates it (0 = locked down, 10 = none).
for name in $names drain; do
	out=$(cd "$units" && systemd-analyze security --offline=yes --no-pager \
	    "board-$name.service" 2>&1)
	level=$(printf '%s\n' "$out" |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$level" ] && awk -v l="$level" -v m="$max_exposure" \
	    'BEGIN { exit !(l <= m) }'; then
		ok 0 "board-$name.service exposure $level <= $max_exposure"
	else
		ok 1 "board-$name.service exposure '${level:-?}' <= $max_exposure"
		diag "$(printf '%s\n' "$out" | tail -5)"
	fi
done

# 14-18. sysusers.d and tmpfiles.d on a scratch root: the board user, the
# socket folder nginx (group www-data) can enter, the private state folder.
root=$tmp/root
mkdir -p "$root/etc/board"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
printf 'root:x:0:\nwww-data:x:33:\n' >"$root/etc/group"
: >"$root/etc/board/board.conf"
out=$(systemd-sysusers --root="$root" "$tmp/sysusers.d/board.conf" 2>&1)
uid=$(awk -F: '$1 == "board" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "board" { print $4 }' "$root/etc/passwd")
shell=$(awk -F: '$1 == "board" { print $7 }' "$root/etc/passwd")
case $shell in
*/nologin|*/false) shell_ok=yes ;;
*) shell_ok=no ;;
esac
if [ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] && [ "$shell_ok" = yes ]; then
	ok 0 "sysusers.d makes a system user board ($uid:$gid) that cannot log in"
else
	ok 1 "sysusers.d makes a system user board that cannot log in"
	diag "$out"
fi

if [ "$(id -u)" != 0 ]; then
	for what in "tmpfiles.d runs" "/run/board" "state folder" "board.conf"; do
		T_N=$((T_N + 1))
		echo "ok $T_N # SKIP $what: systemd-tmpfiles needs root to chown"
	done
else
	out=$(systemd-tmpfiles --root="$root" --create "$tmp/tmpfiles.d/board.conf" 2>&1)
	check "systemd-tmpfiles --create applies board.conf" test $? -eq 0
	[ -n "$out" ] && diag "$out"
	st=$(stat -c '%a %u %g' "$root/run/board" 2>/dev/null)
	check "/run/board is 2750 board:www-data ($st)" test "$st" = "2750 $uid 33"
	st=$(stat -c '%a %u %g' "$root/var/lib/board" 2>/dev/null)
	check "state folder is 0750 board:board ($st)" test "$st" = "750 $uid $gid"
	st=$(stat -c '%a %u %g' "$root/etc/board/board.conf" 2>/dev/null)
	check "board.conf is 0640 root:board ($st)" test "$st" = "640 0 $gid"
fi

# The front-server configs point at the sockets the units make. (Counted in
# the plan through check below; the lighttpd config is the lead's.)
miss=""
for name in $names; do
	grep -q "/run/board/$name.sock" "$srcdir/etc/nginx/board.conf" ||
		miss="$miss nginx:$name"
	if [ -d "$srcdir/etc/lighttpd" ]; then
		grep -rq "/run/board/$name.sock" "$srcdir/etc/lighttpd" ||
			miss="$miss lighttpd:$name"
	fi
done
[ -n "$miss" ] && diag "missing sockets:$miss"
check "etc/nginx and etc/lighttpd use the units' sockets" test -z "$miss"

# 17-19. No core dumps (a worker's memory holds secrets and passwords), and a
# bound on the service's memory.
for name in $names; do
	u=$units/board-$name.service
	if grep -qx 'LimitCORE=0' "$u" && grep -Eqx 'MemoryMax=[0-9]+[KMGT]?' "$u"; then
		ok 0 "board-$name.service: LimitCORE=0, $(grep '^MemoryMax=' "$u")"
	else
		ok 1 "board-$name.service: LimitCORE=0 and a MemoryMax="
		diag "$(grep -E '^(LimitCORE|MemoryMax)=' "$u")"
	fi
done

# 20. lighttpd writes its pid file while it is root: in a folder the board
# user can write (the tmpfiles.d folders it owns, the units'
# ReadWritePaths), a responder could replace it with a symbolic link to any
# file, which lighttpd would truncate.
pidfile=$(sed -n 's/^[[:space:]]*server\.pid-file[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$srcdir/etc/lighttpd/board.conf")
owned=$( { awk '$1 ~ /^[dDvqQ]$/ && $4 == "board" { print $2 }' "$tmp/tmpfiles.d/board.conf"
    sed -n 's/^ReadWritePaths=//p' "$units"/board-*.service | tr ' ' '\n'; } | sort -u)
bad=
if [ -n "$pidfile" ]; then
	piddir=$(dirname "$pidfile")
	for d in $owned; do
		case $piddir/ in
		"${d%/}"/*) bad="$bad $d" ;;
		esac
	done
	case $piddir in
	/run | /var/run) ;;
	*) bad="$bad (not directly in /run)" ;;
	esac
fi
[ -n "$bad" ] && diag "lighttpd pid file $pidfile is in a folder the board user can write:$bad"
check "lighttpd's pid file (${pidfile:-none}) is in no folder the board user can write" test -z "$bad"

[ "$T_FAILED" -eq 0 ]
