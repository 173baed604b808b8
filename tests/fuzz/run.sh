#!/bin/bash
# run.sh - make fuzz: each libFuzzer target for SECS seconds, from its seeds in tests/fuzz/corpus.
#
#   tests/fuzz/run.sh SECS NAME...     (targets built as build-fuzz/fuzz_NAME)
#
# What a target learns stays in build-fuzz/corpus-NAME for the next run. A crash leaves
# build-fuzz/crash-NAME-*: fix it, then copy the input into tests/fuzz/corpus/NAME so that
# make test replays it (build/tests/test_fuzz_NAME).
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=$1
shift
failed=0
for name in "$@"; do
	mkdir -p "build-fuzz/corpus-$name"
	echo "  FUZZ    $name for ${secs}s"
	if ! "build-fuzz/fuzz_$name" -max_total_time="$secs" -max_len=65536 -timeout=20 \
		-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="build-fuzz/crash-$name-" \
		"build-fuzz/corpus-$name" "tests/fuzz/corpus/$name" >"build-fuzz/fuzz-$name.log" 2>&1; then
		echo "  FUZZ    $name: CRASH, see build-fuzz/fuzz-$name.log and build-fuzz/crash-$name-*"
		grep -m5 -E "ERROR|SUMMARY|runtime error" "build-fuzz/fuzz-$name.log" | sed 's/^/          /'
		failed=$((failed + 1))
	else
		grep -E "stat::number_of_executed_units|stat::peak_rss" "build-fuzz/fuzz-$name.log" |
			sed 's/^/          /'
	fi
done
echo "fuzz: $# targets, $failed crashed"
[ "$failed" -eq 0 ]
