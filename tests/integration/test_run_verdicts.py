"""test_run_verdicts.py - issue 4's acceptance tests on real runs: the verdict, and re-rendering.

The runs are the ones test_run_core and test_run_strategies make (shared: made once in a
process): warm md5dir, threads at 4 x CPU count, gil, and the throttled cold dataset.
`iotrace report` gets a run folder of its own, with stacks.
"""
import filecmp
import json
import os
import re
import shutil
import tempfile
import unittest

import runlib
from test_run_core import warm_dataset_sizes, warm_fixture
from runlib import python3
from test_run_strategies import throttled_fixture

CONCURRENT = ["threads", "callback", "uring", "procs", "gil"]


def rules(run):
    return [v["rule"] for v in run["verdict"]]


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class VerdictsOnRealRuns(unittest.TestCase):

    def summary(self, fx, key):
        r, s = fx.runs[key]
        self.assertEqual(r.rc, 0, r.describe())
        return s

    def test_warm_md5dir_page_cache(self):
        s = self.summary(warm_fixture(), "core")
        for run in s["runs"]:
            with self.subTest(run=run["label"]):
                self.assertIn("page_cache", rules(run), run["headline"])
                # and it is a cause the headline gives (the page cache comes first in the
                # table after the lock, which cannot fire for sync)
                self.assertIn("page cache", run["headline"])

    def test_threads_4x_cpus_warm_cpu_saturated(self):
        s = self.summary(warm_fixture(), "saturated")
        run = s["runs"][0]
        self.assertEqual(len([t for t in run["threads"] if t["role"].startswith("worker")]),
                         4 * os.cpu_count())
        # more ready threads than CPUs: either they queued for busy CPUs (cpu_saturated), or
        # CPUs sat idle while they waited to be woken (wakeup_latency: seen with the machine's
        # CPUs 38% idle); issue 14's test asks for cpu_wait or wakeup, whichever held
        self.assertTrue({"cpu_saturated", "wakeup_latency"} & set(rules(run)), run["headline"])

    def test_gil_lock(self):
        """At real-time priority (see test_run_core.make_warm): without it, on this shared
        machine, threads woken by the lock's release wait for a CPU, not for the lock. The
        lock rule wants parallelism about 1, less the time the hypervisor stole (which
        kept a thread reading outside the lock on CPU longer: seen 1.33-1.56 before it was
        taken out); a miss is still retried twice on fresh runs."""
        fx = warm_fixture()
        r, s = fx.runs["gil-rt"]
        msgs = []
        for i in range(3):
            self.assertEqual(r.rc, 0, r.describe())
            run = s["runs"][0]
            if "lock" in rules(run):
                self.assertIn("lock", run["headline"])
                return
            msgs.append("%s (parallelism %.3f, steal %.1f ms): %s" % (
                rules(run), run["parallelism"], r.steal / 1e6, run["headline"]))
            if i < 2:
                with runlib.make_dataset(warm_dataset_sizes(), nested=True) as ds:
                    r, s = runlib.run_into(fx, "gil-rt-retry-%d" % i, [
                        "run", "md5dir", ds.dir, "--cache", "warm", "-s", "gil", "-t", "2",
                        "--no-stacks"], rt=True)
        self.fail(" / ".join(msgs))

    def test_throttled_cold_sync_disk_or_exposed(self):
        s = self.summary(throttled_fixture(), "all")
        sync = runlib.runs_by_label(s)["sync/cold"]
        self.assertTrue({"disk", "exposed_io"} & set(rules(sync)),
                        "sync/cold verdict: %s" % rules(sync))

    def test_throttled_cold_concurrent_overlap_higher(self):
        """Higher overlap than sync: CPU overlap of blocked time for the strategies whose
        threads block in reads; for uring, whose one thread waits for completions with no
        other thread to run meanwhile, the I/O hidden behind its own compute."""
        runs = runlib.runs_by_label(self.summary(throttled_fixture(), "all"))
        sync = runs["sync/cold"]
        for st in CONCURRENT:
            with self.subTest(strategy=st):
                run = runs[st + "/cold"]
                key = "hidden_io" if st == "uring" else "cpu_overlap"
                self.assertIsNotNone(run[key])
                self.assertIsNotNone(sync[key])
                self.assertGreater(run[key], sync[key], "%s %s %s vs sync %s" % (
                    st, key, run[key], sync[key]))

    def test_text_report_has_the_why(self):
        """The terminal output carries the table with each run, the Answer's line for each
        strategy, and the report's absolute path; one line a run said which was going."""
        r, s = warm_fixture().runs["core"]
        self.assertIn("\nAnswer\n", r.stdout)
        for run in s["runs"]:
            self.assertIn(run["label"], r.stdout)
            self.assertRegex(r.stdout, r"(?m)^  %s[,:] " % re.escape(run["strategy"]))
        self.assertRegex(r.stdout, r"(?m)^report: /\S+/o/report\.html$")
        self.assertRegex(r.stdout, r"(?m)^for Perfetto: /\S+/o/trace\.json ")
        n = len(s["runs"])
        for i, run in enumerate(s["runs"]):
            self.assertIn("iotrace: running %s (run %d of %d)...\n" % (run["label"], i + 1, n),
                          r.stderr)


def oncpu(run):
    return run["states_ns"]["compute"] + run["states_ns"]["io_cpu"]


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class Attribution(unittest.TestCase):
    """Issue 14 on real runs, each answer known in advance: the bounds sum to the wall, the
    capacity to ncpu x wall, the throttled device's ceiling is measured near the throttle,
    disk-bound runs get no in-flight advice, and the Answer has a line per strategy."""

    def all_runs(self):
        for fx, keys in ((warm_fixture(), ["core", "saturated", "gil"]),
                         (throttled_fixture(), ["all"])):
            for key in keys:
                r, s = fx.runs[key]
                self.assertEqual(r.rc, 0, r.describe())
                for run in s["runs"]:
                    yield s, run

    def test_bounds_sum_to_the_wall_and_capacity(self):
        for s, run in self.all_runs():
            with self.subTest(run=run["label"]):
                self.assertEqual(sum(run["bound_ns"].values()), run["wall_ns"])
                self.assertEqual(list(run["bound_ns"]), ["cpu", "read_cpu", "device", "lock",
                                                         "cpu_wait", "peer", "idle"])
                cap = s["machine"]["ncpu"] * run["wall_ns"]
                # exact while no more threads were on CPU than CPUs (the probes' clocks
                # are per CPU: a switch's two sides can disagree by a few µs)
                self.assertAlmostEqual(oncpu(run) + sum(run["unused_cpu_ns"].values()), cap,
                                       delta=cap * 0.002)
                # every run has a cause, and the old "no limiting cause" is gone
                self.assertNotIn("no limiting cause", run["headline"])
                self.assertIn(" — ", run["headline"])

    def test_throttled_ceiling_and_disk_bound(self):
        """20 MiB/s throttle: the ceiling within 10% of it; sync waited on the device;
        threads and procs moved data at the ceiling and are told so, without the advice
        to put more reads in flight."""
        s = throttled_fixture().runs["all"][1]
        thr = s["throttle_bps"]
        self.assertIsNotNone(s["device_ceiling_bps"], s["device_ceiling"])
        self.assertEqual(s["device_ceiling"]["method"], "o_direct")
        self.assertTrue(s["device_ceiling"]["throttled"])
        self.assertLess(abs(s["device_ceiling_bps"] - thr) / thr, 0.10,
                        "ceiling %.1f MiB/s vs throttle %.1f" % (
                            s["device_ceiling_bps"] / 2**20, thr / 2**20))
        runs = runlib.runs_by_label(s)
        self.assertGreater(runs["sync/cold"]["bound_ns"]["device"], 0)
        for st in ["threads", "procs"]:
            with self.subTest(strategy=st):
                run = runs[st + "/cold"]
                self.assertIn("disk", rules(run), run["headline"])
                self.assertNotIn("exposed_io", rules(run), run["headline"])
                for v in run["verdict"]:
                    self.assertNotIn("more reads in flight", v["text"])
        # the ideal's device term: the least bytes at the ceiling (or a run's better
        # throughput over its wall), never a rate over busy stretches
        for run in runs.values():
            self.assertGreaterEqual(run["ideal_device_rate"], s["device_ceiling_bps"] * 0.999)

    def test_answer_has_every_strategy(self):
        """The Answer printed has a line per strategy, losers included, with its wall's
        change against sync decomposed by bound."""
        r, s = throttled_fixture().runs["all"]
        out = r.stdout[r.stdout.index("Answer"):]
        self.assertIn("  sync, the baseline: cold", out)
        for st in CONCURRENT:
            with self.subTest(strategy=st):
                self.assertRegex(out, r"\n  %s: cold \d+\.\d\d× \([+−]" % st)

    def test_saturated_waits_for_cpus(self):
        """4 threads per CPU on warm data: they queue for the CPUs."""
        run = warm_fixture().runs["saturated"][1]["runs"][0]
        self.assertTrue(run["bound_ns"]["cpu_wait"] > 0 or run["unused_cpu_ns"]["wakeup"] > 0,
                        run["headline"])

    def test_pipe_wait_is_peer(self):
        """cat reading a pipe that sleep never writes: 300 ms waiting on a peer, not on
        storage (the probes' read kind reaches the bounds)."""
        r = runlib.iotrace(["trace", "--no-stacks", "--json", "--", "sh", "-c",
                            "sleep 0.3 | cat"])
        self.assertEqual(r.rc, 0, r.describe())
        run = json.loads(r.stdout)["runs"][0]
        b = run["bound_ns"]
        self.assertGreaterEqual(b["peer"], 0.9 * run["wall_ns"], b)
        # what storage there was: the programs' own pages loading as they start
        self.assertLess(b["device"], 0.05 * run["wall_ns"], b)
        self.assertIn("peer", rules(run), run["headline"])
        self.assertNotIn("serial", rules(run), run["headline"])

    def test_child_wait_is_peer(self):
        """sh running awk that computes ~40 ms, then `true` (so sh forks and waits in wait4
        rather than exec'ing awk). Not following children, sh alone is traced: the wall is
        sh waiting for its child (peer, equal to sh's wait4 time, which covers the CPU time
        rusage gives the child); following them, awk's own states bound it (cpu or, on a
        busy machine, cpu_wait) and little is left to peer."""
        cmd = ["sh", "-c", 'awk "BEGIN{for(i=0;i<3000000;i++)s+=i}"; true']
        r = runlib.iotrace(["trace", "--no-stacks", "--no-follow", "--json", "--"] + cmd)
        self.assertEqual(r.rc, 0, r.describe())
        run = json.loads(r.stdout)["runs"][0]
        b = run["bound_ns"]
        self.assertEqual([t["comm"] for t in run["threads"]], ["sh"])
        child = run["threads"][0]["other_wait_by_kind_ns"]["child"]
        self.assertEqual(run["other_wait_by_kind_ns"]["child"], child)
        # sh's only wait4 is peer, every instant of it (nothing else of the run was traced)
        self.assertEqual(b["peer"], child, b)
        self.assertGreaterEqual(b["peer"], 0.8 * run["wall_ns"], b)
        # the child ran inside it: its CPU time (rusage, less sh's own) fits in the wait
        ru = run["rusage"]["utime_ns"] + run["rusage"]["stime_ns"] - oncpu(run)
        self.assertGreaterEqual(child, 0.9 * ru, (child, run["rusage"]))
        self.assertIn("peer", rules(run), run["headline"])
        # the headline leads with it: the cause explaining most of the wall
        self.assertTrue(run["headline"].startswith("sh: waiting for child processes held"),
                        run["headline"])

        r = runlib.iotrace(["trace", "--no-stacks", "--json", "--"] + cmd)
        self.assertEqual(r.rc, 0, r.describe())
        run = json.loads(r.stdout)["runs"][0]
        b = run["bound_ns"]
        awk = [t for t in run["threads"] if t["comm"] == "awk"]
        self.assertEqual(len(awk), 1, [t["comm"] for t in run["threads"]])
        awk = awk[0]["states_ns"]
        # the child's computing (or waiting for a CPU to compute on) is the wall's bound
        self.assertGreaterEqual(b["cpu"] + b["cpu_wait"], 0.8 * run["wall_ns"], b)
        self.assertGreaterEqual(awk["compute"], 0.8 * b["cpu"], (awk, b))
        self.assertLess(b["peer"], 0.1 * run["wall_ns"], b)

    def test_cpython_gil_is_lock(self):
        """Four CPython threads hashing in Python code (FNV-1a, never releasing the GIL) on
        2+ CPUs: one computes at a time while the others wait on the GIL, so the verdict
        calls it lock contention, from the GIL's waits (lock_wait_by_kind_ns, the locks
        table: CPython's _PyRuntime), with the lost capacity within what they waited. The
        threads' CPU time is checked against the program's own (thread_time_ns). At
        real-time priority like the other lock test: a thread handed the GIL then finds a
        CPU free instead of queueing behind this shared machine's other work."""
        prog = os.path.join(os.path.dirname(os.path.abspath(__file__)), "progs",
                            "pyhash_threads.py")
        with tempfile.TemporaryDirectory(prefix="iot-gil-") as tmp:
            r = runlib.iotrace(["trace", "--no-stacks", "--no-color", "-o",
                                os.path.join(tmp, "o"), "--", python3(), prog, "4",
                                "1500000"], rt=True)
            self.assertEqual(r.rc, 0, r.describe())
            run = runlib.load_summary(os.path.join(tmp, "o"))["runs"][0]
        # the program's own lines ("thread TID CPU_NS"), passed through on iotrace's stdout
        own = {}
        for line in r.stdout.splitlines():
            w = line.split()
            if len(w) == 3 and w[0] == "thread":
                own[int(w[1])] = int(w[2])
        self.assertEqual(len(own), 4, r.stdout)
        lk = run["lock_wait_by_kind_ns"]
        cap = os.cpu_count() * run["wall_ns"]
        u = run["unused_cpu_ns"]
        self.assertGreater(lk["gil"], 0, lk)
        self.assertGreaterEqual(lk["gil"], 0.9 * (lk["gil"] + lk["mutex"]), lk)
        # a CPU counts as lost to a lock only while a thread waited on one
        self.assertLessEqual(u["lock"], lk["gil"] + lk["mutex"], (u, lk))
        self.assertGreaterEqual(u["lock"], 0.25 * cap, (u, cap, run["headline"]))
        self.assertIn("lock", rules(run), run["headline"])
        self.assertNotIn("serial", rules(run), run["headline"])
        top = run["locks"][0]
        self.assertEqual(top["kind"], "gil", top)
        self.assertTrue((top["where"] or "").startswith("_PyRuntime"), top)
        self.assertGreaterEqual(len(top["waiters"]), 3, top)
        # the GIL bound it: the four workers' CPU time is about one CPU's worth
        workers = [t for t in run["threads"] if t["tid"] != t["pid"]]
        self.assertEqual(len(workers), 4, [(t["tid"], t["comm"]) for t in run["threads"]])
        busy = sum(runlib.ran(t) for t in workers)
        self.assertLessEqual(busy, 1.15 * run["wall_ns"], (busy, run["wall_ns"]))
        for t in workers:
            self.assertAlmostEqual(runlib.ran(t), own[t["tid"]],
                                   delta=0.05 * own[t["tid"]] + 2 * runlib.MS, msg=t)

    def test_callback_loop_is_serial(self):
        """md5dir's callback strategy on warm data: the event loop hashes every file on its
        one thread while libuv's pool only copies reads, so idle CPUs had no thread ready:
        serial, with the loop named as the busiest thread."""
        with runlib.make_dataset(warm_dataset_sizes(), nested=True) as ds:
            r = runlib.iotrace(["run", "md5dir", ds.dir, "--cache", "warm", "-s", "callback",
                                "--no-stacks", "--json"], rt=True)
        self.assertEqual(r.rc, 0, r.describe())
        s = json.loads(r.stdout)
        run = s["runs"][0]
        cap = s["machine"]["ncpu"] * run["wall_ns"]
        self.assertIn("serial", rules(run), run["headline"])
        self.assertNotIn("lock", rules(run), run["headline"])
        self.assertGreaterEqual(run["unused_cpu_ns"]["serial"], 0.25 * cap, run["unused_cpu_ns"])
        loop = max(run["threads"], key=lambda t: runlib.oncpu(t["states_ns"]))
        self.assertEqual(loop["role"], "loop", [(t["role"], t["comm"]) for t in run["threads"]])
        # the loop computed through most of the wall, the rest of its threads little
        self.assertGreaterEqual(loop["states_ns"]["compute"], 0.5 * run["wall_ns"], loop)
        serial = [v for v in run["verdict"] if v["rule"] == "serial"][0]
        self.assertIn("the busiest, loop", serial["text"])

    def test_readfile_cold_names_read_cpu(self):
        """readfile, cold, with little to compute: the reader's time on CPU inside read
        (filling the page cache, copying out) bounds the wall."""
        r = runlib.iotrace(["run", "readfile", "-s", "sync", "--cache", "cold",
                            "--factorial", "100", "--no-stacks", "--json"])
        self.assertEqual(r.rc, 0, r.describe())
        s = json.loads(r.stdout)
        run = s["runs"][0]
        b = run["bound_ns"]
        self.assertGreaterEqual(b["read_cpu"], 0.2 * run["wall_ns"], b)
        self.assertIn("read_cpu", rules(run), run["headline"])


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class ReportRoundTrip(unittest.TestCase):
    """`iotrace report OUTDIR` on a saved run: the same files, byte for byte, without root."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="iot-report-")
        os.chmod(cls.tmp, 0o755)
        cls.out = os.path.join(cls.tmp, "run")
        with runlib.make_dataset([700000, 1024 * 1024 + 3, 5, 0], nested=True) as ds:
            cls.r = runlib.iotrace(["run", "md5dir", ds.dir, "-s", "sync,uring", "-t", "2",
                                    "--no-color", "-o", cls.out])
        cls.orig = os.path.join(cls.tmp, "orig")
        if os.path.isdir(cls.out):
            shutil.copytree(cls.out, cls.orig)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.r.rc, 0, self.r.describe())

    def same_tree(self, a, b):
        """Files that differ or exist on one side only, recursively."""
        diff = []
        cmp = filecmp.dircmp(a, b)
        stack = [("", cmp)]
        while stack:
            rel, c = stack.pop()
            diff += [os.path.join(rel, f) + " (one side only)" for f in
                     c.left_only + c.right_only]
            _, mismatch, errors = filecmp.cmpfiles(os.path.join(a, rel), os.path.join(b, rel),
                                                   c.common_files, shallow=False)
            diff += [os.path.join(rel, f) for f in mismatch + errors]
            stack += [(os.path.join(rel, d), sub) for d, sub in c.subdirs.items()]
        return diff

    def test_in_place_as_root(self):
        work = os.path.join(self.tmp, "inplace")
        shutil.copytree(self.orig, work)
        p = runlib.iotrace(["report", work, "--no-color"])
        self.assertEqual(p.rc, 0, p.describe())
        self.assertTrue(filecmp.cmp(os.path.join(self.orig, "summary.json"),
                                    os.path.join(work, "summary.json"), shallow=False))
        self.assertEqual(self.same_tree(self.orig, work), [])
        # the table printed again is the one the run printed, which named its folder
        self.assertIn(os.path.realpath(work) + "/report.html", p.stdout)
        self.assertEqual(p.stdout.replace(os.path.realpath(work), "FOLDER"),
                         self.r.stdout.replace(os.path.realpath(self.out), "FOLDER"))

    def test_as_nobody_into_new_folder(self):
        newroot = os.path.join(self.tmp, "nobody")
        os.mkdir(newroot)
        os.chown(newroot, runlib.NOBODY, runlib.NOBODY)
        new = os.path.join(newroot, "x")
        p = runlib.iotrace(["report", self.orig, "-o", new, "--json"], user=runlib.NOBODY)
        self.assertEqual(p.rc, 0, p.describe())
        with open(os.path.join(self.orig, "summary.json")) as f:
            orig = f.read()
        self.assertEqual(p.stdout, orig)
        with open(os.path.join(new, "summary.json")) as f:
            self.assertEqual(f.read(), orig)
        self.assertEqual(self.same_tree(self.orig, new), [])

    def test_rusage_round_trips(self):
        """The field added for issue 2's rusage check survives a re-render (not null)."""
        s = runlib.load_summary(self.orig)
        for run in s["runs"]:
            self.assertIsNotNone(run["rusage"])
            self.assertGreater(run["rusage"]["utime_ns"] + run["rusage"]["stime_ns"], 0)
            # and so do the parts outside the window (built-in workloads: both known)
            self.assertIsNotNone(run["rusage"]["setup_ns"])
            self.assertIsNotNone(run["rusage"]["exit_ns"])


if __name__ == "__main__":
    unittest.main()
