#!/bin/sh
# subst.sh TEMPLATE OUTPUT KEY=VALUE...: copy TEMPLATE to OUTPUT replacing
# each @KEY@ with VALUE; fail, leaving no OUTPUT, if a @word@ is left over.
# One place for the substitution that `make` (systemd/install.am) and
# tests/it/systemd-verify.sh both use.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 TEMPLATE OUTPUT KEY=VALUE..." >&2; exit 2; }
in=$1 out=$2
shift 2
script=""
for kv in "$@"; do
	key=${kv%%=*}
	val=${kv#*=}
	case $key in
	''|*[!A-Za-z0-9_]*) echo "$0: bad key in '$kv'" >&2; exit 2 ;;
	esac
	# Escape what is special on the right-hand side of s|||.
	val=$(printf '%s\n' "$val" | sed -e 's/[\\|&]/\\&/g')
	script="$script
s|@$key@|$val|g"
done
sed -e "$script" "$in" >"$out.tmp"
if left=$(grep -o '@[A-Za-z_][A-Za-z0-9_]*@' "$out.tmp"); then
	echo "$0: $in: no value for $(echo "$left" | sort -u | tr '\n' ' ')" >&2
	rm -f "$out.tmp"
	exit 1
fi
mv "$out.tmp" "$out"
