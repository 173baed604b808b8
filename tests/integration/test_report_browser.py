"""test_report_browser.py - report.html and the flame SVGs in headless Chromium (Debian's).

Opens the golden report.html (rendered by the unit test from a fixed synthetic model) and
the report of a real `iotrace run md5dir` (small dataset, sync and gil, cold cache; or the
run folder IOTRACE_REPORT_DIR names): a screenshot is saved (build/screenshots/), the page
must log no console errors and fetch nothing, a click on a flame frame must zoom it to
the full width, runs collapse and expand, the timeline zooms (wheel), pans (drag) and
resets (double click), / and Ctrl-F search a flame graph by keyboard, every link to the
folder's files leads to one, and at 800 px the page does not scroll sideways and the
graphs' text stays at 10 px or more. The real run's stacks are checked too: MD5 (libcrypto) on CPU in every run,
the page-cache wait path off CPU in the cold runs, futex waits in gil. The driver is
tests/js/report_browser.js (playwright-core, installed by `make deps` from
tests/js/package-lock.json; no browser is downloaded).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

JS = os.path.join(common.ROOT, "tests", "js")
GOLDEN = os.path.join(common.ROOT, "tests", "golden", "flame")
CHROMIUM = os.environ.get("IOTRACE_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("IOTRACE_SCREENSHOTS", os.path.join(common.ROOT, common.BUILD, "screenshots"))


def browser_missing():
    """Why the browser test cannot run here, or None."""
    if not shutil.which("node"):
        return "node is missing (apt-get install nodejs)"
    if not os.access(CHROMIUM, os.X_OK):
        return "%s is missing (apt-get install chromium)" % CHROMIUM
    if not os.path.isdir(os.path.join(JS, "node_modules", "playwright-core")):
        return "playwright-core is not installed (make -C tests/js deps)"
    return None


def open_in_browser(html, shot, svgs=()):
    """Run the driver; returns its JSON result (raises with its output when it cannot run)."""
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    p = subprocess.run(["node", os.path.join(JS, "report_browser.js"), html, shot] + list(svgs),
                       capture_output=True, text=True, timeout=180, cwd=JS)
    try:
        res = json.loads(p.stdout)
    except ValueError:
        raise AssertionError("report_browser.js exited %d without a result\nstdout:\n%s\nstderr:\n%s"
                             % (p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    res["exit"] = p.returncode
    return res


class ReportBrowser(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        RealRun.tearDownClass()

    def setUp(self):
        why = browser_missing()
        if why:
            # make test installs all of it (make deps): missing here is a set-up failure
            self.fail("cannot run the browser test: " + why)

    def check(self, res, shot):
        self.assertIsNone(res.get("error"), res.get("error"))
        self.assertEqual(res["failed"], [], json.dumps(res, indent=1)[-4000:])
        self.assertEqual(res["console_errors"], [])
        self.assertEqual(res["external_requests"], [])
        self.assertTrue(os.path.getsize(shot) > 10000, "screenshot %s is empty" % shot)
        self.assertEqual(res["exit"], 0)

    def test_golden_report(self):
        shot = os.path.join(SHOTS, "golden-report.png")
        svgs = [os.path.join(GOLDEN, "threads-oncpu.svg"),
                os.path.join(GOLDEN, "threads-vs-sync-oncpu.svg")]
        res = open_in_browser(os.path.join(GOLDEN, "report.html"), shot, svgs)
        self.check(res, shot)
        self.assertEqual(res["layout"]["runs"], 3)
        # the baseline and the fastest open, threads collapsed until expanded
        self.assertEqual(res["open_at_first"], ["sync/warm", "uring/warm"])  # uring: 3.00x
        self.assertIsNone(res["links"])  # the golden page has no folder beside it
        # the bars split io_wait and lock_wait by kind (threads/warm, the one run with the
        # kinds: 4 ms of io_wait on a pipe, the rest on files; main's join apart from the
        # workers' mutex), each drawn and saying what it was
        kinds = {b["kind"]: b for b in res["bar_kinds"]}
        self.assertEqual(set(kinds), {"io_wait file", "io_wait pipe", "lock_wait mutex",
                                      "lock_wait join"}, kinds)
        for b in kinds.values():
            self.assertGreater(b["px"], 0.5, b)
            self.assertTrue(b["title"].startswith("threads/warm: "), b)
        self.assertIn("threads/warm: io_wait, pipe 4.00 ms (waiting on a pipe: another "
                      "process's work)", kinds["io_wait pipe"]["title"])
        self.assertIn("(contention on a mutex)", kinds["lock_wait mutex"]["title"])
        self.assertIn("(waiting for a thread to end (join): not contention)",
                      kinds["lock_wait join"]["title"])
        # every click zoomed the clicked frame to the full width
        for name, z in res["zoom"].items():
            self.assertAlmostEqual(z["width_after"], 1180, places=1, msg=name)
            self.assertLess(z["width_before"], z["width_after"], name)

    def test_real_report(self):
        out = RealRun.folder()
        html = os.path.join(out, "report.html")
        self.assertTrue(os.path.isfile(html), html)
        self.assertLess(os.path.getsize(html), 10 * 1024 * 1024, "report.html over 10 MB")
        # polyglot XHTML: an XML parser reads the page, and every SVG file
        for path in [html] + glob.glob(os.path.join(out, "runs", "*", "*.svg")):
            p = subprocess.run(["xmllint", "--noout", "--nonet", path], capture_output=True,
                               text=True)
            self.assertEqual(p.returncode, 0, "%s: %s" % (path, p.stderr[-2000:]))
        shot = os.path.join(SHOTS, "real-report.png")
        svgs = sorted(glob.glob(os.path.join(out, "runs", "*", "flame-wall.svg")))[:1]
        res = open_in_browser(html, shot, svgs)
        self.check(res, shot)
        self.assertGreater(res["links"]["local"], 10)
        self.assertEqual(res["links"]["missing"], [])
        # zoomed in 86 times, the timeline shows detail the overview's 960 columns do not
        # have: more state runs in the same window, from columns at least 16 times finer
        tl = res["timeline"]
        self.assertGreater(tl["finer"]["shown"], tl["finer"]["coarse"], tl)
        self.assertGreaterEqual(tl["finer"]["cols"], 16 * 960, tl)
        self.assertLess(os.path.getsize(html), 2 * 1024 * 1024, "report.html over 2 MB")
        # gil's main thread joins its workers, which contend on the one mutex: the bars say
        # so (a join is not contention), in the sizes summary.json gives
        with open(os.path.join(out, "summary.json")) as f:
            runs = {r["label"]: r for r in json.load(f)["runs"]}
        gil = runs["gil/cold"]["lock_wait_by_kind_ns"]
        bars = [b for b in res["bar_kinds"] if b["title"].startswith("gil/cold: ")]
        got = {b["kind"] for b in bars}
        self.assertIn("lock_wait mutex", got, bars)
        self.assertIn("lock_wait join", got, bars)
        self.assertNotIn("lock_wait gil", got, bars)
        for b in bars:
            if b["kind"] == "lock_wait join":
                self.assertIn("waiting for a thread to end (join): not contention", b["title"])
                self.assertGreater(b["px"], 0.5, b)
        self.assertGreater(gil["join"], 0, gil)
        self.assertGreater(gil["mutex"], 0, gil)


class RealRun(unittest.TestCase):
    """One small real run shared by the tests here (root: it loads the probes)."""
    _dir = None
    _tmp = None

    @classmethod
    def folder(cls):
        if os.environ.get("IOTRACE_REPORT_DIR"):
            return os.environ["IOTRACE_REPORT_DIR"]
        if cls._dir is None:
            cls._tmp = tempfile.mkdtemp(prefix="iotrace-flame-")
            cls._dir = os.path.join(cls._tmp, "out")
            # 32 MiB of MD5 is ~50 ms of CPU: at the default 99 Hz that is a handful of
            # samples, and under ASan the instrumented code around MD5 takes a bigger share
            # of them; 999 Hz makes "some sample landed in MD5" a certainty, not a bet
            common.run(["run", "md5dir", "--files", "16", "--file-size", "2M",
                        "--strategies", "sync,gil", "--cache", "cold", "-F", "999", "-o",
                        cls._dir, "--no-color"], timeout=300, check=True)
        return cls._dir

    @classmethod
    def tearDownClass(cls):
        if cls._tmp:
            shutil.rmtree(cls._tmp, ignore_errors=True)
            cls._tmp = cls._dir = None

    def folded(self, run, kind):
        with open(os.path.join(self.folder(), "runs", run, kind + ".folded")) as f:
            return [line.rsplit(" ", 1)[0].split(";") for line in f if line.strip()]

    def runs(self):
        return sorted(os.path.basename(d) for d in glob.glob(os.path.join(self.folder(), "runs", "*")))

    def test_md5_on_cpu_everywhere(self):
        # libcrypto's MD5 is stripped assembly: it shows as libcrypto + its function's start
        for run in self.runs():
            stacks = self.folded(run, "oncpu")
            self.assertTrue(stacks, "%s: no on-CPU samples" % run)
            self.assertTrue(any(s[2] == "compute" and any(f.startswith("libcrypto") for f in s)
                                for s in stacks), "%s: no libcrypto frame on CPU" % run)

    def test_frames_well_formed(self):
        for run in self.runs():
            for kind in ("oncpu", "offcpu", "wall"):
                for s in self.folded(run, kind):
                    self.assertGreaterEqual(len(s), 3, (run, kind, s))
                    # the waits' states say their kind ("io_wait: file", issue 13)
                    self.assertIn(s[2].split(": ")[0], common.STATES, (run, kind, s))
                    for f in s:
                        # never a bare address
                        self.assertNotRegex(f, r"^(0x)?[0-9a-f]{8,}$", (run, kind, s))
                    # the capture's own frames (sampler, sched_switch probe) are cut off the
                    # leaf; iotrace's other probes, where the target ran them, stay
                    self.assertFalse(s[-1].startswith(("bpf_prog_", "bpf_trace_run",
                                                       "__traceiter_", "bpf_overflow_handler")),
                                     (run, kind, s))

    def test_cold_waits_in_page_cache(self):
        for run in self.runs():
            # a cold md5dir run's reads are of files: storage, not a pipe or socket
            waits = [s for s in self.folded(run, "offcpu") if s[2] == "io_wait: file"]
            self.assertTrue(waits, "%s: no io_wait stacks" % run)
            path = [s for s in waits if any(f.startswith(("filemap_", "folio_wait", "io_schedule",
                                                          "blk_", "submit_bio"))
                                            for f in s)]
            self.assertTrue(path, "%s: io_wait stacks without the page-cache wait path: %s"
                            % (run, waits[:3]))

    def test_gil_waits_on_futex(self):
        waits = [s for s in self.folded("gil-cold", "offcpu") if s[2].startswith("lock_wait")]
        self.assertTrue(any(any("futex" in f for f in s) for s in waits),
                        "gil: no futex frames in lock_wait stacks: %s" % waits[:3])


if __name__ == "__main__":
    unittest.main()
