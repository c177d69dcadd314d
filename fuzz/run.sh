#!/bin/sh
# fuzz/run.sh: runs every fuzz target for FUZZ_SECONDS (default 30) with
# libFuzzer, ASan and UBSan, each on a copy of its seed corpus in a
# temporary directory (the repository is never written). Builds them
# first with `make fuzz` in top_builddir. Prints TAP: "ok" per target that
# ran its time without a finding; "not ok" names the reproducer, which is
# kept under FUZZ_ARTIFACTS (default top_builddir/fuzz/artifacts).
# Replay one with: fuzz/fuzz-<target> <reproducer>; keep it as a
# regression case in tests/data/fuzz-regress/<target>/ once fixed.
#
# Environment: top_srcdir, top_builddir (default: this script's tree),
# FUZZ_SECONDS, FUZZ_TARGETS (space separated; default all),
# FUZZ_ARGS (more libFuzzer flags).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
seconds=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-"json cookie query id conf secret-aws awscred"}
artifacts=${FUZZ_ARTIFACTS:-$top_builddir/fuzz/artifacts}
args=${FUZZ_ARGS:-}

n=0
for t in $targets; do n=$((n + 1)); done
echo "1..$n"

work=$(mktemp -d "${TMPDIR:-/tmp}/board-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

if ! make -s -C "$top_builddir" fuzz >"$work/build.log" 2>&1; then
	sed 's/^/# /' "$work/build.log" | tail -40
	i=0
	for t in $targets; do
		i=$((i + 1))
		echo "not ok $i - $t: make fuzz failed"
	done
	exit 1
fi
mkdir -p "$artifacts" || exit 1

i=0 failed=0
for t in $targets; do
	i=$((i + 1))
	bin=$top_builddir/fuzz/fuzz-$t
	seeds=$top_srcdir/fuzz/corpus/$t
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "not ok $i - $t: no $bin or no $seeds"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$work/$t/corpus" "$work/$t/art"
	cp -R "$seeds/." "$work/$t/corpus/"
	# -timeout: one input taking 10 s is a finding too (a request would
	# hang a worker); -rss_limit_mb: so is a memory blow-up.
	# shellcheck disable=SC2086
	(cd "$work/$t" && "$bin" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=70000 -print_final_stats=1 \
		-artifact_prefix="$work/$t/art/" $args corpus \
		>"$work/$t/log" 2>&1)
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log")
	found=$(ls "$work/$t/art" 2>/dev/null | head -1)
	if [ $rc -eq 0 ] && [ -z "$found" ]; then
		echo "ok $i - $t: ${runs:-?} runs in ${seconds} s, no finding"
		continue
	fi
	failed=$((failed + 1))
	if [ -n "$found" ]; then
		mkdir -p "$artifacts/$t"
		cp "$work/$t/art/$found" "$artifacts/$t/$found"
		cp "$work/$t/log" "$artifacts/$t/$found.log"
		echo "not ok $i - $t: reproducer $artifacts/$t/$found"
	else
		echo "not ok $i - $t: libFuzzer exited $rc without a reproducer"
	fi
	grep -E 'ERROR|SUMMARY|runtime error|invariant failed|^    #[0-9]' \
		"$work/$t/log" | head -25 | sed 's/^/# /'
done
[ $failed -eq 0 ]
