#!/bin/sh
# tests/it/fuzz-regress.sh: replays, in the normal build, every seed in
# fuzz/corpus/<target>/ and every crash input kept in
# tests/data/fuzz-regress/<target>/ through the fuzz target's entry point
# (fuzz/regress-<target>, built from fuzz/fuzz-<target>.c + fuzz/replay.c).
# One TAP line per target: ok when every input ran to its end; with
# ASan/UBSan a crash, leak or broken invariant aborts and fails it.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
targets="json cookie query id conf secret-aws awscred"
out=$(mktemp -d "${TMPDIR:-/tmp}/board-fuzz-regress.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT INT TERM

n=0
for t in $targets; do n=$((n + 1)); done
echo "1..$n"
i=0 failed=0
for t in $targets; do
	i=$((i + 1))
	prog=$top_builddir/fuzz/regress-$t
	set -- "$top_srcdir/fuzz/corpus/$t"
	[ -d "$top_srcdir/tests/data/fuzz-regress/$t" ] &&
		set -- "$@" "$top_srcdir/tests/data/fuzz-regress/$t"
	if [ ! -x "$prog" ] || [ ! -d "$top_srcdir/fuzz/corpus/$t" ]; then
		echo "not ok $i - $t: no $prog or no seed corpus"
		failed=$((failed + 1))
		continue
	fi
	"$prog" "$@" >"$out/$t.out" 2>"$out/$t.err"
	rc=$?
	ran=$(grep -c '^ok ' "$out/$t.out")
	kept=0
	[ -d "$top_srcdir/tests/data/fuzz-regress/$t" ] &&
		kept=$(find "$top_srcdir/tests/data/fuzz-regress/$t" -type f \
			! -name '.*' | wc -l)
	# Each target must have replayed something, or this proves nothing.
	if [ $rc -eq 0 ] && grep -q "^1\.\.$ran\$" "$out/$t.out" &&
		[ "$ran" -gt 0 ]; then
		echo "ok $i - $t: $ran inputs replayed ($kept kept crash inputs)"
	else
		last=$(grep '^replay: ' "$out/$t.err" | tail -1)
		echo "not ok $i - $t: exit $rc after $ran inputs (${last:-none})"
		grep -v '^replay: ' "$out/$t.err" | tail -30 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
[ $failed -eq 0 ]
