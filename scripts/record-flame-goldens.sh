#!/bin/bash
# record-flame-goldens.sh - re-record tests/golden/flame/ after a deliberate renderer change.
#
#   scripts/record-flame-goldens.sh [BUILD_DIR]
#
# Builds the unit test, runs it in record mode (it writes the goldens instead of comparing),
# runs it again to compare, and shows what changed, for a reviewer to read before committing.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
make -s "$build/tests/test_flame"
IOTRACE_RECORD_GOLDENS=1 "$build/tests/test_flame" >/dev/null
"$build/tests/test_flame"
git status --short tests/golden/flame/
git diff --stat tests/golden/flame/
