#!/bin/bash
# run-tests.sh - runs every unit and integration test and ends with "N passed, N failed".
#
#   tests/run-tests.sh [BUILD_DIR] [SUITE]   SUITE: all (default), unit, integration, stress
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
suite=${2:-all}
passed=0
failed=0
failures=()

# The layering rule of docs/architecture.md, one counted test: an include across layers fails.
run_layers() {
	local out
	if out=$(scripts/check-layers.sh 2>&1); then
		echo "check-layers: [       OK ] includes follow the layers"
		passed=$((passed + 1))
	else
		echo "$out"
		echo "check-layers: [  FAILED  ] an include crosses the layers"
		failures+=("check-layers")
		failed=$((failed + 1))
	fi
}

run_unit() {
	local t out rc p f
	run_layers
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" 2>&1)
		rc=$?
		p=$(grep -oE '\[  PASSED  \] [0-9]+' <<<"$out" | tail -1 | grep -oE '[0-9]+$')
		f=$(grep -oE '\[  FAILED  \] [0-9]+' <<<"$out" | tail -1 | grep -oE '[0-9]+$')
		p=${p:-0}
		f=${f:-0}
		# a crash or a non-zero exit without a cmocka count is one failure
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		echo "$out" | grep -E '^\[ *(OK|FAILED|ERROR|SKIPPED) *\]|^\[ RUN' | grep -v '\[ RUN' | sed "s|^|$(basename "$t"): |"
		if [ "$f" -gt 0 ]; then
			echo "$out" | tail -30
			failures+=("$(basename "$t")")
		fi
		passed=$((passed + p))
		failed=$((failed + f))
	done
}

run_integration() {
	local out line
	if [ "$(id -u)" != 0 ]; then
		echo "integration tests load BPF probes and need root: run 'sudo make test'" >&2
		failed=$((failed + 1))
		return
	fi
	out=$(mktemp)
	IOTRACE_BUILD="$build" IOTRACE_SUITE="$1" python3 tests/integration/runner.py "$out"
	line=$(tail -1 "$out")
	rm -f "$out"
	passed=$((passed + $(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")))
	failed=$((failed + $(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")))
}

case "$suite" in
all) run_unit; run_integration integration ;;
unit) run_unit ;;
integration) run_integration integration ;;
stress) run_integration stress ;;
*) echo "unknown suite '$suite': all, unit, integration, stress" >&2; exit 2 ;;
esac

if [ ${#failures[@]} -gt 0 ]; then echo "failed unit binaries: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
