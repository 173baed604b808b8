#!/usr/bin/env python3
"""runner.py - discovers tests/integration/test_*.py (or stress_*.py), runs them, counts."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


class LeakCheck(unittest.TestCase):
    """Runs last: whatever the tests did, nothing of iotrace may outlive them."""

    def test_zz_nothing_left_behind(self):
        # the kernel frees a closed program a moment later (deferred): ~200 ms seen here
        deadline = time.time() + 5
        while common.bpf_programs_left() and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(common.bpf_programs_left(), [], "iotrace BPF programs still loaded")
        self.assertEqual(common.cgroups_left(), [], "iotrace cgroups left behind")
        self.assertEqual(common.datasets_left(), [], "iotrace datasets left in /var/tmp")


def main():
    out = sys.argv[1]
    suite_name = os.environ.get("IOTRACE_SUITE", "integration")
    pattern = "stress_*.py" if suite_name == "stress" else "test_*.py"
    here = os.path.dirname(os.path.abspath(__file__))
    only = os.environ.get("IOTRACE_TESTS")  # e.g. "test_run" to run one module
    loader = unittest.TestLoader()
    suite = loader.discover(here, pattern=(only + ".py") if only else pattern, top_level_dir=here)
    suite.addTests(loader.loadTestsFromTestCase(LeakCheck))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors)
    passed = res.testsRun - failed - len(res.skipped)
    with open(out, "w") as f:
        f.write("passed=%d failed=%d skipped=%d\n" % (passed, failed, len(res.skipped)))


if __name__ == "__main__":
    main()
