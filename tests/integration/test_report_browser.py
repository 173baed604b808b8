"""test_report_browser.py - report.html and the flame SVGs in headless Chromium (Debian's).

Opens the golden report.html (rendered by the unit test from a fixed synthetic model) and,
when IOTRACE_REPORT_DIR names a run folder, that real report too: a screenshot is saved,
the page must log no console errors and fetch nothing, and a click on a flame frame must
zoom it to the full width. The driver is tests/js/report_browser.js (playwright-core,
installed by `make deps` from tests/js/package-lock.json; no browser is downloaded).
"""
import json
import os
import shutil
import subprocess
import sys
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
        # every click zoomed the clicked frame to the full width
        for name, z in res["zoom"].items():
            self.assertAlmostEqual(z["width_after"], 1180, places=1, msg=name)
            self.assertLess(z["width_before"], z["width_after"], name)

    def test_real_report(self):
        out = os.environ.get("IOTRACE_REPORT_DIR")
        if not out:
            self.skipTest("IOTRACE_REPORT_DIR not set (a run folder of `iotrace run`)")
        html = os.path.join(out, "report.html")
        self.assertTrue(os.path.isfile(html), html)
        self.assertLess(os.path.getsize(html), 10 * 1024 * 1024, "report.html over 10 MB")
        shot = os.path.join(SHOTS, "real-report.png")
        res = open_in_browser(html, shot)
        self.check(res, shot)


if __name__ == "__main__":
    unittest.main()
