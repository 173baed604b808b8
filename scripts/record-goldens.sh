#!/bin/bash
# record-goldens.sh - re-record the golden files of the unit tests after a deliberate change.
#
#   scripts/record-goldens.sh [TEST...]    TEST: test_reports, test_flame, ... (default: all)
#   scripts/record-goldens.sh --run12 DIR  take DIR/summary.json (a report folder of a default
#                                          `iotrace run md5dir`) as the saved 12-run report,
#                                          then re-record test_reports
#
# Builds the unit tests, runs them with IOTRACE_RECORD_GOLDENS=1 (each golden test then
# writes its output to tests/golden/ instead of comparing), runs them again normally to
# prove the new goldens pass, and shows what changed: review it before committing.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}

if [ "${1:-}" = --run12 ]; then
	[ $# -eq 2 ] || { echo "usage: record-goldens.sh --run12 DIR" >&2; exit 2; }
	# a default run: md5dir, 6 strategies x warm and cold, each repeated (--repeat's default)
	python3 - "$2/summary.json" <<-'EOF' || exit 2
	import json, sys
	try:
	    s = json.load(open(sys.argv[1]))
	except (OSError, ValueError) as e:
	    sys.exit("record-goldens: failed to read %s: %s" % (sys.argv[1], e))
	runs = s.get("runs") or []
	labels = ["%s/%s" % (st, c) for c in ("warm", "cold")
	          for st in ("sync", "threads", "callback", "uring", "procs", "gil")]
	if s.get("workload") != "md5dir" or [r["label"] for r in runs] != labels:
	    sys.exit("record-goldens: %s is not a default md5dir run (12 runs: %s)"
	             % (sys.argv[1], " ".join(labels)))
	if any(len(r.get("repeats") or []) < 2 for r in runs):
	    sys.exit("record-goldens: %s: runs not repeated (a default run repeats them)" % sys.argv[1])
	EOF
	cp "$2/summary.json" tests/golden/run12/summary.json
	set -- test_reports
fi

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
