"""test_run_core.py - issue 2's acceptance tests: `iotrace run md5dir` sync and threads, end to end.

One shared warm run (sync and threads on a 48 MiB dataset, --verify) is checked against
sources independent of iotrace: md5sum for the digests, the dataset's size for the bytes,
the child's rusage (summary.json "rusage", from wait4) for the on-CPU time, the kernel's
per-thread accounting at exit (taskstats: schedstat's run time and run-queue delay) for
on-CPU and runnable per thread, and bpftool for the probes left behind.
"""
import os
import unittest

import common
import runlib

STATES = common.STATES
MS = runlib.MS


def warm_dataset_sizes():
    # 24 files of ~2 MiB, none a multiple of the 64 KiB chunk: ~90 ms of MD5 per strategy,
    # enough that fixed costs (the child's set-up before tracing) stay far below 3%
    return [2 * 1024 * 1024 + 777 * i + 13 for i in range(24)]


def make_warm(fx):
    """The warm md5dir runs shared by test_run_core, test_run_strategies and test_run_verdicts.

    The dataset is removed as soon as they are done; a retry makes a fresh one.
    """
    with runlib.make_dataset(warm_dataset_sizes(), nested=True) as ds:
        fx.dir = ds.dir
        fx.size = ds.size()
        fx.md5 = ds.md5sum()
        base = ["run", "md5dir", ds.dir, "--cache", "warm", "--no-stacks", "--no-color"]
        s0 = runlib.steal_ns()
        with runlib.Taskstats() as ts:
            runlib.run_into(fx, "core", base + ["-s", "sync,threads", "-t", "2", "--verify"])
        fx.taskstats = ts.exits
        fx.taskstats_error = ts.error
        fx.steal = runlib.steal_ns() - s0
        # the saturation case of issue 4: 4 threads per CPU on warm data
        runlib.run_into(fx, "saturated",
                        base + ["-s", "threads", "-t", str(4 * os.cpu_count())])
        runlib.run_into(fx, "gil", base + ["-s", "gil", "-t", "2"])
        # the lock verdict's case, with the workload at real-time priority: on this shared
        # machine other work otherwise holds the CPUs, and a thread woken by the lock's
        # release then waits for a CPU (runnable) instead of for the lock
        runlib.run_into(fx, "gil-rt", base + ["-s", "gil", "-t", "2"], rt=True)


def rerun_core(fx, key):
    """sync and threads again on a fresh copy of the dataset (sizes alike): for retries of
    the checks against the kernel's accounting, which a loaded VM skews now and then.
    Returns (run, summary, taskstats exits, steal)."""
    with runlib.make_dataset(warm_dataset_sizes(), nested=True) as ds:
        s0 = runlib.steal_ns()
        with runlib.Taskstats() as ts:
            r, s = runlib.run_into(fx, key, ["run", "md5dir", ds.dir, "--cache", "warm",
                                             "--no-stacks", "-s", "sync,threads", "-t", "2"])
        return r, s, ts.exits, runlib.steal_ns() - s0


def warm_fixture():
    return runlib.shared("warm", make_warm)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class RunCoreWarm(unittest.TestCase):
    """sync and threads on a warm 48 MiB dataset, one iotrace run shared by the tests."""

    @classmethod
    def setUpClass(cls):
        cls.fx = warm_fixture()
        cls.r, cls.s = cls.fx.runs["core"]

    def setUp(self):
        if self.s is None:
            self.fail("no summary.json: " + self.r.describe())

    def runs(self):
        return runlib.runs_by_label(self.s)

    def test_exit_and_runs(self):
        self.assertEqual(self.r.rc, 0, self.r.describe())
        self.assertEqual([r["label"] for r in self.s["runs"]], ["sync/warm", "threads/warm"])
        self.assertEqual(self.r.running, ["sync/warm", "threads/warm"])
        for run in self.s["runs"]:
            self.assertEqual(run["exit_status"], 0)
            self.assertEqual(run["lost_events"], 0, run["label"])
            self.assertGreater(run["wall_ns"], 0)

    def test_states_sum_to_lifetime(self):
        """Every thread's seven states add up to its lifetime within 1%."""
        for run in self.s["runs"]:
            self.assertTrue(run["threads"], run["label"])
            for t in run["threads"]:
                self.assertEqual(sorted(t["states_ns"]), sorted(STATES))
                total = sum(t["states_ns"].values())
                self.assertLessEqual(abs(total - t["lifetime_ns"]), t["lifetime_ns"] / 100,
                                     "%s %s: states %d vs lifetime %d" % (
                                         run["label"], t["role"], total, t["lifetime_ns"]))
                self.assertLessEqual(t["lifetime_ns"], run["wall_ns"])
            # the run's totals are the threads' sums
            for st in STATES:
                self.assertEqual(run["states_ns"][st],
                                 sum(t["states_ns"][st] for t in run["threads"]), st)

    def test_model_identities(self):
        """What the unions must give on real data: one thread (sync) is in a read exactly
        when I/O is under way, blocked exactly in io_wait, and never computes meanwhile;
        the concurrency histogram covers the wall; parallelism is on-CPU over wall."""
        for run in self.s["runs"]:
            with self.subTest(run=run["label"]):
                st = run["states_ns"]
                self.assertEqual(sum(run["concurrency_ns"]), run["wall_ns"])
                self.assertEqual(len(run["concurrency_ns"]), os.cpu_count() + 1)
                self.assertAlmostEqual(run["parallelism"], runlib.oncpu(st) / run["wall_ns"],
                                       places=5)
                self.assertAlmostEqual(run["concurrency"][0], 1 - sum(run["concurrency"][1:]),
                                       places=5)
                self.assertGreaterEqual(run["hit_ratio"], 0.99)
                self.assertGreaterEqual(run["resident_before"], 0.99)
        sync = self.runs()["sync/warm"]
        st = sync["states_ns"]
        self.assertEqual(sync["io_ns"], st["io_cpu"] + st["io_wait"])
        self.assertEqual(sync["blocked_ns"], st["io_wait"])
        self.assertEqual(sync["exposed_io_ns"], sync["io_ns"])
        self.assertEqual(sync["hidden_io"], 0.0)
        self.assertEqual(sync["speedup_vs_sync"], 1.0)
        self.assertEqual(sync["concurrency_ns"][2:], [0] * (os.cpu_count() - 1))

    def test_roles_and_who_read(self):
        runs = self.runs()
        self.assertEqual([t["role"] for t in runs["sync/warm"]["threads"]], ["main"])
        th = runs["threads/warm"]["threads"]
        self.assertEqual(sorted(t["role"] for t in th), ["main", "worker 1", "worker 2"])
        for t in th:
            if t["role"].startswith("worker"):
                # the workers read and hashed (how much each is up to the scheduler)
                self.assertGreater(t["bytes_read"], 0, t)
                self.assertGreater(t["reads"], 0, t)
                self.assertGreater(t["states_ns"]["compute"], 0, t)
        # and the files were read by the workers only (main reads no dataset file)
        main = [t for t in th if t["role"] == "main"][0]
        self.assertLess(main["bytes_read"], min(warm_dataset_sizes()), main)

    def test_bytes_read_equal_dataset_size(self):
        """bytes_read is what the workload's reads returned: the dataset, no more, no less."""
        for run in self.s["runs"]:
            self.assertEqual(run["bytes_read"], self.fx.size,
                             "%s read %d bytes, the dataset is %d (%+d); per thread: %s" % (
                                 run["label"], run["bytes_read"], self.fx.size,
                                 run["bytes_read"] - self.fx.size,
                                 [(t["role"], t["reads"], t["bytes_read"])
                                  for t in run["threads"]]))

    def test_verify_digests_equal_md5sum(self):
        got = runlib.parse_verify(self.r.stdout, self.fx.dir)
        self.assertEqual(got, self.fx.md5)

    def check_rusage(self, summary, steal):
        bad = []
        for run in summary["runs"]:
            ru = run.get("rusage")
            if ru is None:
                bad.append("%s: rusage is null" % run["label"])
                continue
            if ru.get("setup_ns") is None or ru.get("exit_ns") is None:
                bad.append("%s: rusage has no setup_ns/exit_ns: %s" % (run["label"], ru))
                continue
            cpu = runlib.rusage_in_window(ru)
            traced = sum(runlib.ran(t) for t in run["threads"])
            if abs(traced - cpu) > cpu * 0.03:
                bad.append("%s: on-CPU less stolen %d vs rusage %d in the window (%+.1f%%; "
                           "set-up %d, exit %d, stolen %d, machine's steal %d)" % (
                               run["label"], traced, cpu, 100.0 * (traced - cpu) / cpu,
                               ru["setup_ns"], ru["exit_ns"], run["stolen_ns"], steal))
        return bad

    def test_oncpu_within_3pct_of_rusage(self):
        """Total on-CPU (compute + io_cpu, all threads) less the stolen time iotrace measured
        (stolen_ns) within 3% of the child's rusage over the same window: less its set-up
        before release and its exit after the work returned (summary.json's setup_ns and
        exit_ns), which the probes do not cover.

        The kernel leaves hypervisor steal out of rusage while the switch times include it:
        no allowance for the machine's steal is made, iotrace's own figure must account for
        it. A loaded VM also skews the kernel's side now and then, so a miss is retried
        twice on fresh runs (see test_tracer.py).
        """
        self.assertIsNotNone(self.s["runs"][0].get("rusage"), "summary.json has no rusage")
        msgs = []
        bad = self.check_rusage(self.s, self.fx.steal)
        for i in range(2):
            if not bad:
                return
            msgs += bad
            r, s, _, steal = rerun_core(self.fx, "rusage-retry-%d" % i)
            self.assertEqual(r.rc, 0, r.describe())
            bad = self.check_rusage(s, steal)
        if bad:
            self.fail("; ".join(msgs + bad))

    def test_runnable_and_oncpu_vs_kernel_schedstat(self):
        """Per thread: runnable vs schedstat's run-queue delay, on-CPU vs its run time.

        The figures come from taskstats at each thread's exit (the same counters as
        /proc/PID/task/TID/schedstat, which is gone by then). Workers live entirely inside
        the traced window; the main thread's figures also cover its set-up before tracing
        started (fork, privilege drop), so for it the kernel's side is only an upper bound.
        """
        if self.fx.taskstats_error:
            self.fail("taskstats dropped exits: %s" % self.fx.taskstats_error)
        attempts = [(self.s, self.fx.taskstats, self.fx.steal)]
        msgs = []
        for i in range(3):
            summary, kern, steal = attempts[-1]
            bad, seen = [], 0
            for run in summary["runs"]:
                for t in run["threads"]:
                    k = kern.get(t["tid"])
                    if k is None:
                        bad.append("%s %s: no taskstats exit record" % (run["label"],
                                                                       t["role"]))
                        continue
                    seen += 1
                    st = t["states_ns"]
                    on, rq = runlib.ran(t), st["runnable"]
                    # per switch-in, the kernel's clock and the tracepoints read at
                    # different points of the same paths (test_tracer's pingpong: up to
                    # 0.7 us a switch-in under load), and a wake-up that preempts dates
                    # the switch with the wake-up's clock, moving its latency from the
                    # queue delay to the run time: 1.5 us a switch-in taskstats counted
                    per_run = k["runs"] * 1500
                    tol_on = 2 * MS + k["run_ns"] * 0.03 + per_run
                    tol_rq = 3 * MS + k["delay_ns"] * 0.05 + steal + per_run
                    if t["role"] == "main":
                        ok = on <= k["run_ns"] + tol_on and rq <= k["delay_ns"] + tol_rq
                    else:
                        ok = abs(on - k["run_ns"]) <= tol_on and abs(rq - k["delay_ns"]) <= tol_rq
                    if not ok:
                        bad.append("%s %s: on-CPU less stolen %d vs %d (stolen %d), runnable "
                                   "%d vs %d, %d switch-ins" % (
                                       run["label"], t["role"], on, k["run_ns"],
                                       t["stolen_ns"], rq, k["delay_ns"], k["runs"]))
            self.assertEqual(seen, 4)
            if not bad:
                return
            msgs.append("; ".join(bad) + " (steal %d)" % steal)
            if i == 2:
                break
            r, s, kern, steal = rerun_core(self.fx, "schedstat-retry-%d" % i)
            self.assertEqual(r.rc, 0, r.describe())
            attempts.append((s, kern, steal))
        self.fail(" / ".join(msgs))

    def test_no_probe_or_map_left(self):
        self.assertGreaterEqual(len(self.r.prog_ids), 7,
                                "did not see iotrace's probes: %s" % self.r.prog_ids)
        self.assertGreaterEqual(len(self.r.map_ids), 2, "did not see iotrace's maps")
        self.assertEqual(self.r.leftovers(), [])
        self.assertFalse(os.path.exists(self.fx.dir), "the test dataset is still there")


if __name__ == "__main__":
    unittest.main()
