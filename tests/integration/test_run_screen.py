"""test_run_screen.py - the default `iotrace run md5dir` answers on one screen (issue 18).

The default layout, as a new user gets it: every strategy, warm and cold, three interleaved
repetitions each (--repeat's default, given here only because the test library otherwise
asks for one), stacks on, no terminal (100 columns). The generated dataset is the smallest
the tests use (4 files of 1 MiB): the layout does not depend on the bytes, and tiny runs are
the noisiest, so the Answer's "within noise" clauses, the longest lines, show up.
What must hold: at most 40 lines, none wider than 100 columns, no line said twice, a table
row per run, and in the Answer a line for each strategy, losers included.
"""
import os
import re
import shutil
import tempfile
import unittest

import runlib

SCREEN_LINES = 40
SCREEN_COLS = 100
STRATEGIES = ["sync", "threads", "callback", "uring", "procs", "gil"]


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class DefaultScreen(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="iotrace-screen-")
        env = dict(os.environ)
        env.pop("COLUMNS", None)  # the width is the default's, not the caller's terminal
        cls.r = runlib.iotrace(["run", "md5dir", "--files", "4", "--file-size", "1M",
                                "--repeat", "3", "--no-color", "-o",
                                os.path.join(cls.tmp, "out")], env=env, timeout=600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.r.rc, 0, self.r.describe())

    def lines(self):
        return self.r.stdout.rstrip("\n").split("\n")

    def test_one_screen(self):
        lines = self.lines()
        self.assertLessEqual(len(lines), SCREEN_LINES,
                             "%d lines:\n%s" % (len(lines), self.r.stdout))
        for line in lines:
            self.assertLessEqual(len(line), SCREEN_COLS, line)
        said = [l for l in lines if l.strip()]
        self.assertEqual(len(said), len(set(said)),
                         "a line said twice:\n%s" % self.r.stdout)
        self.assertEqual(self.r.leftovers(), [])

    def test_table_and_answer_lines(self):
        out = self.r.stdout
        for st in STRATEGIES:
            for cache in ("warm", "cold"):
                self.assertRegex(out, r"(?m)^%s/%s +\S" % (st, cache))
        answer = out[out.index("\nAnswer\n"):out.index("\nreport: ")]
        # a line per strategy, losers included: its name at the line's start, both modes
        for st in STRATEGIES:
            with self.subTest(strategy=st):
                m = re.search(r"(?m)^  %s(, the baseline)?: (.*(\n      .*)*)" % st, answer)
                self.assertIsNotNone(m, answer)
                self.assertIn("warm", m.group(2))
                self.assertIn("cold", m.group(2))
                if st != "sync":
                    self.assertRegex(m.group(2), r"\d\.\d\d×")
        self.assertRegex(out, r"(?m)^report: /\S+/out/report\.html$")
        self.assertRegex(out, r"(?m)^for Perfetto: /\S+/out/trace\.json ")


if __name__ == "__main__":
    unittest.main()
