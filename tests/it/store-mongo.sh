#!/bin/bash
# store-mongo.sh: the store conformance suite (tests/test-store) and the
# MongoDB-only unit test (tests/test-store-mongo) against a private jongodb,
# so `make check` covers the MongoDB backend with no server set up by hand.
# (tests/test-store on its own covers SQLite.) Both TAP streams are merged
# into one, renumbered; a program that skips or exits non-zero is a failure.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/it/mongo-lib.sh"

if [ ! -x "$JONGODB_BIN" ]; then
	echo "1..0 # SKIP jongodb not installed (script/bootstrap installs it)"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/board-store-mongo.XXXXXX")
trap 'mongo_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

n=0
failed=0
emit() {	# emit STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

if ! mongo_start "$tmp"; then
	echo "Bail out! jongodb did not start"
	exit 1
fi
echo "# jongodb at $MONGODB_URI (pid $MONGO_PID)"

for prog in test-store test-store-mongo; do
	bin=$top_builddir/tests/$prog
	if [ ! -x "$bin" ]; then
		emit "not ok" "$prog: $bin not built"
		continue
	fi
	BOARD_TEST_MONGODB_URI=$MONGODB_URI srcdir=${srcdir:-$top_srcdir} \
		"$bin" >"$tmp/$prog.out" 2>"$tmp/$prog.err"
	rc=$?
	ran=0
	while IFS= read -r line; do
		case $line in
		"ok "*)
			emit ok "$prog: ${line#ok [0-9]* - }"
			ran=$((ran + 1)) ;;
		"not ok "*)
			emit "not ok" "$prog: ${line#not ok [0-9]* - }"
			ran=$((ran + 1)) ;;
		"1..0"*)
			emit "not ok" "$prog skipped: ${line#1..0}" ;;
		"1.."*) ;;
		*)
			echo "# $prog: $line" ;;
		esac
	done <"$tmp/$prog.out"
	[ $ran -gt 0 ] || emit "not ok" "$prog ran no test"
	if [ $rc -ne 0 ]; then
		emit "not ok" "$prog exits 0 (got $rc)"
		sed "s/^/# $prog stderr: /" "$tmp/$prog.err" | tail -40
	else
		emit ok "$prog exits 0"
	fi
done

echo "1..$n"
[ $failed -eq 0 ]
