"""stress_common.py - helpers of the stress tests (stress_*.py, test_stress_short.py).

Each stress case runs a load under `iotrace trace --json` (or `iotrace run`) and checks the
same things: the run completed; every thread's states add up to its lifetime within 1%;
the kernel's own per-thread totals (tests/progs/tracer_drv) agree with the timeline within
1% of each thread's lifetime plus what was lost; and lost events, if any, are counted in
summary.json and shown with the share of time they cover in the text and the HTML report.
"""
import json
import os
import re
import subprocess
import tempfile

import common

BENCH = os.path.join(common.ROOT, common.BUILD, "tests", "bench")
WORK = os.path.join(BENCH, "stress_work")
DRV = os.path.join(common.ROOT, common.BUILD, "tests", "progs", "tracer_drv")
FULL = os.environ.get("IOTRACE_STRESS") == "full"


def build():
    """stress_work (make benchprogs) and tracer_drv (make progs) are not part of `make all`."""
    args = ["make", "-s", "-C", common.ROOT, "benchprogs", "progs"]
    if common.BUILD.rstrip("/").endswith("build-san"):
        args.append("SANITIZE=1")
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("make benchprogs progs failed:\n" + p.stdout[-3000:] +
                             p.stderr[-3000:])


def warm_file(path, size):
    """A file of size bytes on the real disk, read once so that it is in the page cache."""
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        left = size
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


def trace(tc, cmd, extra=(), timeout=600):
    """iotrace trace --json CMD into a temporary folder: (run, summary, text, html, stdout
    of CMD). The text is `iotrace report`'s table of the saved folder: what a user sees."""
    with tempfile.TemporaryDirectory(prefix="iot-stress-") as d:
        out = os.path.join(d, "out")
        p = common.run(["trace", "--json", "-o", out] + list(extra) + ["--"] + list(cmd),
                       timeout=timeout)
        tc.assertEqual(p.returncode, 0, "iotrace trace %s: exit %d\n%s" %
                       (" ".join(cmd), p.returncode, p.stderr[-3000:]))
        # with --json, CMD's stdout goes to stderr (older builds: before the JSON)
        i = p.stdout.find("{\n")
        tc.assertGreaterEqual(i, 0, "no JSON in the output:\n" + p.stdout[-2000:])
        summary = json.loads(p.stdout[i:])
        rep = common.run(["report", "--no-color", out], timeout=300)
        tc.assertEqual(rep.returncode, 0, rep.stderr[-2000:])
        with open(os.path.join(out, "report.html")) as f:
            html = f.read()
        return summary["runs"][0], summary, rep.stdout, html, p.stdout[:i] + p.stderr


def check_closure(tc, run, tol=0.01):
    """Every thread's states sum to its lifetime within tol (1 µs floor for tiny threads)."""
    tc.assertTrue(run["threads"], "no threads in the run")
    worst = 0.0
    for t in run["threads"]:
        life = t["lifetime_ns"]
        s = sum(t["states_ns"].values())
        err = abs(s - life)
        tc.assertLessEqual(err, max(tol * life, 1000),
                           "thread %d (%s): states sum to %d ns, lifetime %d ns" %
                           (t["tid"], t["comm"], s, life))
        if life:
            worst = max(worst, err / life)
    return worst


def check_losses_shown(tc, run, text, html):
    """Lost events are counted, and shown with the share of thread time they cover."""
    lost = run["lost_events"]
    tc.assertIsInstance(lost, int)
    if lost or run.get("gaps_ns"):
        # -v: "N events lost, covering 12 ms of thread time (1.5% of it)"; by default one
        # line a run: "N events lost (1.5% of thread time)"
        m = re.search(r"warning: (?:\S+: )?([0-9]+) events lost(?:, covering .+? of thread "
                      r"time)? \(([0-9.]+)% of\s+(?:it|thread time)[;),]",
                      text.replace("\n ", " "))
        tc.assertIsNotNone(m, "lost events not shown in the text report:\n" + text[-3000:])
        tc.assertEqual(int(m.group(1)), lost)
        tc.assertIn("lost events", html)
    return lost


def drv(tc, cmd, extra=(), timeout=600):
    """The tracer alone (tracer_drv): kernel totals and timeline per thread, side by side."""
    with tempfile.TemporaryDirectory(prefix="iot-stress-") as d:
        out = os.path.join(d, "o.json")
        p = subprocess.run([DRV, "--out", out] + list(extra) + ["--"] + list(cmd),
                           capture_output=True, text=True, timeout=timeout)
        tc.assertTrue(os.path.exists(out), "tracer_drv failed (%d): %s" %
                      (p.returncode, p.stderr[-2000:]))
        with open(out) as f:
            return json.load(f), p.stdout


def check_kernel_vs_timeline(tc, res, tol=0.01):
    """Per thread, the timeline's states against the kernel's exact totals: within tol of
    the lifetime, plus the stretches whose events were lost (gap_ns), where the timeline
    keeps the last state seen. Returns the worst relative difference."""
    kern = {(k["tid"], k["start"]): k for k in res["kernel"]}
    by_tid = {}
    for k in res["kernel"]:
        by_tid.setdefault(k["tid"], []).append(k)
    worst = 0.0
    for t in res["timeline"]:
        ks = by_tid.get(t["tid"], [])
        tc.assertTrue(ks, "thread %d has no kernel totals" % t["tid"])
        # a reused tid: the kernel entry that overlaps this timeline thread
        k = min(ks, key=lambda k: abs(k["start"] - t["start"]))
        life = max(k["end"] - k["start"], 1)
        diff = sum(abs(a - b) for a, b in zip(t["states"], k["states"])) / 2
        allowed = tol * life + t["gap_ns"] + 20000
        tc.assertLessEqual(diff, allowed,
                           "thread %d (%s): timeline %s vs kernel %s (lifetime %d, gap %d)" %
                           (t["tid"], t["comm"], t["states"], k["states"], life, t["gap_ns"]))
        worst = max(worst, diff / life)
    del kern
    return worst


def stat_line(out, key):
    """stress_work's 'key value ...' line as a dict."""
    for line in out.splitlines():
        w = line.split()
        if w and w[0] == key:
            return {w[i]: float(w[i + 1]) for i in range(0, len(w) - 1, 2)}
    return None
