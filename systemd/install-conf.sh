#!/bin/sh
# install-conf.sh install|uninstall NEW DEST: configuration files that an
# operator edits. install: put NEW at DEST unless DEST exists and differs
# (an edited copy): then NEW goes to DEST.dist beside it, with a note.
# uninstall: remove DEST only if it is still what NEW is, and DEST.dist.
# NEW is the file as it would be installed (paths already substituted).
set -eu
[ $# -eq 3 ] || { echo "usage: $0 install|uninstall NEW DEST" >&2; exit 2; }
mode=$1 new=$2 dest=$3
case $mode in
install)
	if [ -f "$dest" ] && ! cmp -s "$new" "$dest"; then
		cp "$new" "$dest.dist"
		chmod 644 "$dest.dist"
		echo "install-conf: kept your $dest; the new one is $dest.dist"
	else
		cp "$new" "$dest"
		chmod 644 "$dest"
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
