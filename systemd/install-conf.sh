#!/bin/sh
# install-conf.sh install|uninstall NEW DEST [MODE [GROUP]]: configuration
# files that an operator edits. install: put NEW at DEST unless DEST exists
# and differs (an edited copy): then NEW goes to DEST.dist beside it, with a
# note. uninstall: remove DEST only if it is still what NEW is, and
# DEST.dist. NEW is the file as it would be installed (paths already
# substituted).
#
# MODE (default 644) is the installed file's mode; GROUP, when given, its
# group (only as root, and only once the group exists: before
# systemd-sysusers has made it, tmpfiles.d's "z" line sets it at the
# service's start). A file whose MODE gives others nothing (board.conf,
# 640: it may hold a Redis password) is never readable by others, not even
# for a moment: it is written under umask 077 and renamed into place, and
# an operator's edited copy that is kept loses any access for others.
set -eu
[ $# -ge 3 ] && [ $# -le 5 ] ||
	{ echo "usage: $0 install|uninstall NEW DEST [MODE [GROUP]]" >&2; exit 2; }
mode=$1 new=$2 dest=$3 perm=${4:-644} group=${5:-}
case $perm in
[0-7][0-7][0-7] | [0-7][0-7][0-7][0-7]) ;;
*) echo "$0: bad mode $perm" >&2; exit 2 ;;
esac

# put FILE: NEW at FILE with MODE (and GROUP), in one rename.
put() {
	_tmp=$1.tmp$$
	(umask 077 && cp "$new" "$_tmp")
	if [ -n "$group" ] && [ "$(id -u)" = 0 ] &&
	    getent group "$group" >/dev/null 2>&1; then
		chgrp "$group" "$_tmp"
	fi
	chmod "$perm" "$_tmp"
	mv -f "$_tmp" "$1"
}

case $mode in
install)
	if [ -f "$dest" ] && ! cmp -s "$new" "$dest"; then
		put "$dest.dist"
		case $perm in
		*0) chmod o-rwx "$dest" ;;
		esac
		echo "install-conf: kept your $dest; the new one is $dest.dist"
	else
		put "$dest"
	fi
	;;
uninstall)
	if [ -f "$dest" ] && cmp -s "$new" "$dest"; then
		rm -f "$dest"
	elif [ -f "$dest" ]; then
		echo "install-conf: kept your edited $dest"
	fi
	rm -f "$dest.dist"
	;;
*)
	echo "$0: unknown mode $mode" >&2
	exit 2
	;;
esac
