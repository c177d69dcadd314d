#!/bin/bash
# hardening.sh: the build and install hardening of SECURITY.md (issue 13).
#   - the responders are built with a stack protector (__stack_chk_fail),
#     full RELRO (a GNU_RELRO segment and BIND_NOW) and, outside the
#     sanitizer build, glibc's checked functions (_FORTIFY_SOURCE=2: calls
#     to __*_chk); configure adds the flags (HARDEN_CFLAGS, HARDEN_LDFLAGS);
#   - `make install` puts board.conf in place as 0640, never readable by
#     others (it may hold a Redis password), also when an edited copy is
#     kept beside the new board.conf.dist.
# Environment: top_srcdir, top_builddir (the build to check; `make check`
# sets both).
set -u

top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
top_builddir=$(cd "${BOARD_BUILD_DIR:-${top_builddir:-.}}" && pwd)
for p in readelf make; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "Bail out! $p is not installed (script/bootstrap installs it)"
		exit 1
	fi
done
[ -f "$top_builddir/Makefile" ] || { echo "Bail out! $top_builddir is not a build"; exit 1; }

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/board-hardening.XXXXXX")
trap 'rm -rf "$IT_TMP"' EXIT
. "$top_srcdir/tests/it/lib.sh"

mkvar() { sed -n "s/^$1 = //p" "$top_builddir/Makefile"; }
harden_cflags=$(mkvar HARDEN_CFLAGS)
san_flags=$(mkvar SAN_FLAGS)
diag "HARDEN_CFLAGS = $harden_cflags; HARDEN_LDFLAGS = $(mkvar HARDEN_LDFLAGS); SAN_FLAGS = $san_flags"

for r in signup login posts; do
	bin=$top_builddir/fcgi/board-$r
	if ! [ -x "$bin" ]; then
		ok 1 "board-$r is built"
		continue
	fi
	syms=$(readelf --dyn-syms -W "$bin" | awk '{ print $8 }' | sed 's/@.*//')
	check "board-$r: stack protector (calls __stack_chk_fail)" \
	    grep -qx __stack_chk_fail <<<"$syms"
	check "board-$r: RELRO (a GNU_RELRO segment)" \
	    sh -c "readelf -lW '$bin' | grep -q GNU_RELRO"
	check "board-$r: BIND_NOW (relocations resolved at start, then read-only)" \
	    sh -c "readelf -dW '$bin' | grep -Eq '\\(FLAGS\\).*BIND_NOW|\\(FLAGS_1\\).*NOW'"
	chk=$(grep -E '^__.+_chk$' <<<"$syms" | grep -vx __stack_chk_fail | tr '\n' ' ')
	if [ -n "$san_flags" ]; then
		# ASan checks these calls itself; configure leaves
		# _FORTIFY_SOURCE out of this build on purpose.
		is "$chk" "" "board-$r: sanitizer build: no _FORTIFY_SOURCE (ASan checks those calls)"
	else
		like "$harden_cflags" '-D_FORTIFY_SOURCE=2' "board-$r: built with -D_FORTIFY_SOURCE=2"
		ok $(test -n "$chk"; echo $?) "board-$r: calls glibc's checked functions (${chk:-none})"
	fi
done

# make install of the configuration, twice: fresh, then over an edited copy.
dest=$IT_TMP/dest
make -s -C "$top_builddir" install-board-data DESTDIR="$dest" >"$IT_TMP/install.log" 2>&1
ok $? "make install-board-data DESTDIR=..."
conf=$(find "$dest" -path '*/board/board.conf' | head -n 1)
if [ -z "$conf" ]; then
	ok 1 "board.conf installed"
	diag "$(tail -5 "$IT_TMP/install.log")"
else
	is "$(stat -c %a "$conf")" 640 "board.conf is installed 0640"
	if [ "$(id -u)" = 0 ] && getent group board >/dev/null 2>&1; then
		is "$(stat -c %U:%G "$conf")" root:board "board.conf is root:board"
	else
		is "$(stat -c %U "$conf")" "$(id -un)" "board.conf belongs to the installer (group board is set by tmpfiles.d at start)"
	fi
	for f in nginx/board.conf lighttpd/board.conf; do
		is "$(stat -c %a "$(dirname "$conf")/$f")" 644 "$f is installed 0644 (no secrets)"
	done
	# An operator edited it, and an older install left it world-readable.
	echo "# edited" >>"$conf"
	chmod 644 "$conf"
	make -s -C "$top_builddir" install-board-data DESTDIR="$dest" >"$IT_TMP/install.log" 2>&1
	ok $? "make install-board-data again, over an edited board.conf"
	is "$(tail -n 1 "$conf")" "# edited" "the edited board.conf is kept"
	is "$(stat -c %a "$conf.dist")" 640 "the new one beside it, board.conf.dist, is 0640"
	is "$(stat -c %a "$conf")" 640 "the kept board.conf is no longer readable by others"
fi
done_testing
