#!/bin/bash
# record-goldens.sh - re-record the golden files of the unit tests after a deliberate change.
#
#   scripts/record-goldens.sh [TEST...]    TEST: test_reports, test_flame, ... (default: all)
#
# Builds the unit tests, runs them with IOTRACE_RECORD_GOLDENS=1 (each golden test then
# writes its output to tests/golden/ instead of comparing), runs them again normally to
# prove the new goldens pass, and shows what changed: review it before committing.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}

make -s unit
if [ $# -eq 0 ]; then
	tests=()
	for t in "$build"/tests/test_*; do
		[[ $t == *.d ]] || tests+=("$t") # the compiler's dependency files sit beside them
	done
else
	tests=()
	for t in "$@"; do tests+=("$build/tests/$t"); done
fi
for t in "${tests[@]}"; do
	[ -x "$t" ] || { echo "record-goldens: no test binary $t" >&2; exit 2; }
	echo "  RECORD  $(basename "$t")"
	IOTRACE_RECORD_GOLDENS=1 "$t" >/dev/null || echo "record-goldens: $(basename "$t") failed while recording" >&2
done
for t in "${tests[@]}"; do
	"$t" >/dev/null || { echo "record-goldens: $(basename "$t") fails with the new goldens" >&2; exit 1; }
done
git status --short -- tests/golden
git diff --stat -- tests/golden
