"""test_run_screen.py - the default `iotrace run md5dir` answers on one screen (issue 18).

The default layout, as a new user gets it: every strategy, warm and cold, three interleaved
repetitions each (--repeat's default, given here only because the test library otherwise
asks for one), stacks on, no terminal (100 columns). The generated dataset is the smallest
the tests use (4 files of 1 MiB): the layout does not depend on the bytes, and tiny runs are
the noisiest, so the Answer's "within noise" clauses, the longest lines, show up.
What must hold: at most 40 lines, none wider than 100 columns, no line said twice, a table
row per run, and in the Answer a line for each strategy, losers included.
Progress: on a terminal one line redrawn in place, none with -q; -vv adds libbpf's messages.
"""
import os
import pty
import re
import shutil
import subprocess
import tempfile
import unittest

import common

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
        # "no sentence is printed twice" (the issue): sentences, not lines, since two
        # wrapped Answer lines may both end in the fragment "the wall"
        text = " ".join(l.strip() for l in lines if l.strip())
        said = [x for x in re.split(r"(?<=[.!?])\s+", text) if len(x) > 12]
        twice = sorted({x for x in said if said.count(x) > 1})
        self.assertEqual(twice, [], "a sentence said twice:\n%s" % self.r.stdout)
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


def on_terminal(args, timeout=120):
    """iotrace with stdout and stderr on a pty: (exit status, what the terminal got)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([common.IOTRACE] + args, stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave, start_new_session=True)
        os.close(slave)
        buf = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: iotrace and its children closed the terminal
                break
            if not chunk:
                break
            buf += chunk
        return p.wait(timeout=timeout), buf.decode(errors="replace")
    finally:
        os.close(master)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class Progress(unittest.TestCase):
    """Two tiny warm runs: what the terminal shows while they go."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="iotrace-progress-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def args(self, name, *extra):
        return ["run", "md5dir", "--files", "2", "--file-size", "1M", "-s", "sync,threads",
                "--cache", "warm", "--repeat", "1", "--no-stacks", "--no-color",
                "-o", os.path.join(self.tmp, name)] + list(extra)

    def test_one_line_in_place(self):
        rc, text = on_terminal(self.args("tty"))
        self.assertEqual(rc, 0, text)
        # each run's line drawn over the last ("\r" and erase to the end of the line) with
        # its elapsed time, never a line of its own, and erased before the report
        for i, label in enumerate(["sync/warm", "threads/warm"]):
            self.assertRegex(text, r"\r\x1b\[Kiotrace: running %s \(run %d of 2\), \d+\.\d s"
                             % (label, i + 1))
        self.assertNotRegex(text, r"running \S+ \(run \d of 2\)\.\.\.")
        self.assertRegex(text, r"\r\x1b\[Kiotrace [0-9a-f]\S*: md5dir on ")

    def test_quiet_prints_no_progress(self):
        rc, text = on_terminal(self.args("q", "-q"))
        self.assertEqual(rc, 0, text)
        # the progress line ("iotrace: running LABEL (run N of M)"), not the word: a
        # verdict may say threads were "running" (cpu_wait: "none of them running")
        self.assertNotRegex(text, r"running \S+ \(run \d+ of \d+\)")
        self.assertIn("\nAnswer", text.replace("\r\n", "\n"))

    def test_vv_adds_libbpf(self):
        r = runlib.iotrace(self.args("vv", "-vv"))
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIn("libbpf: ", r.stderr)
        r = runlib.iotrace(self.args("v", "-v"))
        self.assertEqual(r.rc, 0, r.describe())
        self.assertNotIn("libbpf: ", r.stderr)
        # -v: each run's details and thread tables
        self.assertIn("Share of thread time by state", r.stdout)
        self.assertRegex(r.stdout, r"(?m)^  role +comm +tid ")


if __name__ == "__main__":
    unittest.main()
