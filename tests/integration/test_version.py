"""test_version.py - iotrace names the checkout it was built from: --version, the header of
a report it merges from saved folders, and summary.json's iotrace.version of a run.

The version reaches the code through build/version.h, which make rewrites only when
`git describe --always --dirty` changes. It used to be a -D on every compile line, so a
new commit recompiled nothing and an old commit's name stayed in the binary.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import common
import runlib
import test_run_core


def describe():
    """The checkout's version as the Makefile computes it, or None outside a git checkout."""
    p = subprocess.run(["git", "-C", common.ROOT, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else None


class Version(unittest.TestCase):
    def setUp(self):
        self.want = describe()
        if not self.want:
            self.skipTest("not a git checkout: the version is make's fallback")

    def test_version_flag(self):
        p = subprocess.run([common.IOTRACE, "--version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "iotrace %s\n" % self.want,
                         "built from another commit than the checkout's: rebuild")

    def test_report_header(self):
        """A saved folder keeps the version that ran it; folders merged into one report are
        this build's work, and its header names this build."""
        with tempfile.TemporaryDirectory(prefix="iot-version-") as d:
            dirs = []
            for name in ("a", "b"):
                dirs.append(os.path.join(d, name))
                shutil.copytree(os.path.join(common.ROOT, "tests", "golden", "run12"),
                                dirs[-1])
            one = runlib.iotrace(["report", dirs[0], "--no-color"])
            both = runlib.iotrace(["report", dirs[0], dirs[1], "--no-color"])
        with open(os.path.join(common.ROOT, "tests", "golden", "run12", "summary.json")) as f:
            saved = json.load(f)["iotrace"]["version"]
        self.assertEqual(one.rc, 0, one.describe())
        self.assertTrue(one.stdout.startswith("iotrace %s: " % saved), one.describe())
        self.assertEqual(both.rc, 0, both.describe())
        self.assertTrue(both.stdout.startswith("iotrace %s: " % self.want), both.describe())

    @unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
    def test_run_summary(self):
        r, s = test_run_core.warm_fixture().runs["core"]
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(s["iotrace"]["version"], self.want)


if __name__ == "__main__":
    unittest.main()
