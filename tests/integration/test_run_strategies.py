"""test_run_strategies.py - issue 3's acceptance tests: every strategy, warm and cold, a slow disk.

- Digests: each strategy alone with --verify on a dataset with an empty file, a 1-byte
  file, files that are not a multiple of the chunk size and nested folders, against
  md5sum.
- A throttled cold dataset (all six strategies in one run, plus gil --gil-hold-io),
  shared with test_run_verdicts: page-cache insertions vs the dataset size, the state
  that dominates, hidden I/O per strategy, libuv's pool, io_uring's counts.
- gil on warm data (the shared warm runs of test_run_core), fetch's network overlap.
"""
import os
import unittest

import runlib
from test_run_core import warm_dataset_sizes, warm_fixture

STRATEGIES = ["sync", "threads", "callback", "uring", "procs", "gil"]
THROTTLE = "20M"
# blk-throttle's slice (block/blk-throttle.c, throtl_slice: HZ/10), the credit a group may
# run ahead of its rate
THROTTLE_SLICE_S = 0.100


def digest_sizes():
    chunk = 64 * 1024
    return [0, 1, 3 * chunk + 17, chunk, 1024 * 1024 + 5, 300000, 2 * 1024 * 1024, 777]


def throttled_sizes():
    # 16 MiB at 20 MiB/s: ~0.8 s per cold run; sizes off the 64 KiB chunk
    return [1024 * 1024 + 333 * i for i in range(16)]


def make_throttled(fx):
    """Cold runs through a 20 MiB/s throttle, shared with test_run_verdicts."""
    with runlib.make_dataset(throttled_sizes(), nested=True) as ds:
        fx.dir = ds.dir
        fx.size = ds.size()
        base = ["run", "md5dir", ds.dir, "--cache", "cold", "--throttle", THROTTLE,
                "--no-stacks", "--no-color"]
        runlib.run_into(fx, "all", base + ["-s", ",".join(STRATEGIES), "-t", "2"])
        runlib.run_into(fx, "hold", base + ["-s", "gil", "-t", "2", "--gil-hold-io"])


def throttled_fixture():
    return runlib.shared("throttled", make_throttled)


def role_threads(run, prefix):
    return [t for t in run["threads"] if t["role"].startswith(prefix)]


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class StrategyDigests(unittest.TestCase):
    """Each strategy alone, warm, with --verify: digests against md5sum."""

    @classmethod
    def setUpClass(cls):
        cls.runs = {}
        with runlib.make_dataset(digest_sizes(), nested=True) as ds:
            cls.dir = ds.dir
            cls.size = ds.size()
            cls.md5 = ds.md5sum()
            fx = runlib.Fixture()
            for st in STRATEGIES:
                cls.runs[st] = runlib.run_into(
                    fx, st, ["run", "md5dir", ds.dir, "-s", st, "--cache", "warm", "--verify",
                             "--no-stacks", "--no-color"])

    def test_digests_equal_md5sum(self):
        for st in STRATEGIES:
            with self.subTest(strategy=st):
                r, s = self.runs[st]
                self.assertEqual(r.rc, 0, r.describe())
                self.assertEqual(runlib.parse_verify(r.stdout, self.dir), self.md5)

    def test_each_run_sound(self):
        for st in STRATEGIES:
            with self.subTest(strategy=st):
                r, s = self.runs[st]
                self.assertIsNotNone(s, r.describe())
                run = s["runs"][0]
                self.assertEqual(run["label"], st + "/warm")
                self.assertEqual(run["exit_status"], 0)
                for t in run["threads"]:
                    total = sum(t["states_ns"].values())
                    self.assertLessEqual(abs(total - t["lifetime_ns"]), t["lifetime_ns"] / 100,
                                         t)
                self.assertEqual(r.leftovers(), [])

    def test_warm_page_cache_insertions_under_1pct(self):
        for st in STRATEGIES:
            with self.subTest(strategy=st):
                run = self.runs[st][1]["runs"][0]
                self.assertIsNotNone(run["page_cache_insert_bytes"])
                self.assertLess(run["page_cache_insert_bytes"], 0.01 * self.size, run["label"])
                self.assertGreaterEqual(run["resident_before"], 0.99)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class ThrottledCold(unittest.TestCase):
    """All strategies, cold, disk throttled to 20 MiB/s (one iotrace run) + gil --gil-hold-io."""

    @classmethod
    def setUpClass(cls):
        cls.fx = throttled_fixture()
        cls.r, cls.s = cls.fx.runs["all"]
        cls.hold_r, cls.hold_s = cls.fx.runs["hold"]

    def setUp(self):
        if self.s is None:
            self.fail("no summary.json: " + self.r.describe())
        self.runs = runlib.runs_by_label(self.s)

    def run_of(self, st):
        return self.runs[st + "/cold"]

    def test_all_ran_and_nothing_left(self):
        self.assertEqual(self.r.rc, 0, self.r.describe())
        self.assertEqual(sorted(self.runs), sorted(st + "/cold" for st in STRATEGIES))
        self.assertEqual(self.s["throttle_bps"], 20 * 1024 * 1024)
        self.assertEqual(self.r.leftovers(), [])
        self.assertEqual(self.hold_r.rc, 0, self.hold_r.describe())
        self.assertEqual(self.hold_r.leftovers(), [])

    def test_cold_page_cache_insertions_within_5pct(self):
        for st in STRATEGIES:
            with self.subTest(strategy=st):
                run = self.run_of(st)
                self.assertLessEqual(run["resident_before"], 0.01)
                ins = run["page_cache_insert_bytes"]
                self.assertIsNotNone(ins)
                self.assertLessEqual(abs(ins - self.fx.size), 0.05 * self.fx.size,
                                     "%s inserted %d, dataset %d" % (st, ins, self.fx.size))

    def test_block_bytes_cover_the_dataset(self):
        """Cold: every byte came from the device on the run's behalf (block_bytes within 5%
        of the dataset, as page_cache_insert_bytes are), throttled or not."""
        for st in STRATEGIES:
            with self.subTest(strategy=st):
                run = self.run_of(st)
                self.assertIsNotNone(run["block_bytes"])
                self.assertLessEqual(abs(run["block_bytes"] - self.fx.size), 0.05 * self.fx.size,
                                     "%s: block_bytes %d (%d requests), page cache %d, dataset "
                                     "%d" % (st, run["block_bytes"], run["block_reqs"],
                                             run["page_cache_insert_bytes"], self.fx.size))

    def test_throttle_held_the_rate(self):
        """The cgroup limit applied to every thread and process of the workload (io-wq
        workers, libuv's pool, procs' children): no run read faster than 20 MiB/s allows.

        blk-throttle lets a group dispatch what the rate allows over the time since its
        slice started rounded up to a whole slice (throtl_slice: 100 ms), so a run can be
        up to one slice ahead: 2 MiB of this 16 MiB dataset (12.5%) may come without
        waiting, and a deep queue (uring) gets close (22.1 MiB/s seen). The bound is that,
        plus 10 ms for the jiffy rounding; an unthrottled thread would read at the disk's
        own rate, many times more."""
        bps = 20 * 1024 * 1024
        least_ns = (self.fx.size / bps - THROTTLE_SLICE_S - 0.010) * 1e9
        for st in STRATEGIES:
            with self.subTest(strategy=st):
                run = self.run_of(st)
                rate = self.fx.size * 1e9 / run["wall_ns"]
                self.assertGreaterEqual(run["wall_ns"], least_ns, "%.1f MiB/s in %.0f ms" % (
                    rate / 2**20, run["wall_ns"] / 1e6))
                self.assertLessEqual(run["hit_ratio"], 0.05)

    def test_sync_io_wait_is_the_largest_state(self):
        states = self.run_of("sync")["states_ns"]
        self.assertEqual(max(states, key=states.get), "io_wait", states)

    def test_concurrent_strategies_hide_more_io_than_sync(self):
        sync = self.run_of("sync")["hidden_io"]
        self.assertIsNotNone(sync)
        for st in ["threads", "callback", "uring"]:
            with self.subTest(strategy=st):
                h = self.run_of(st)["hidden_io"]
                self.assertIsNotNone(h)
                self.assertGreater(h, sync, "%s hidden_io %s vs sync %s" % (st, h, sync))

    def test_gil_released_around_reads_overlaps_more_than_held(self):
        rel = self.run_of("gil")
        hold = self.hold_s["runs"][0]
        self.assertEqual(hold["label"], "gil/cold")
        self.assertIsNotNone(rel["cpu_overlap"])
        self.assertIsNotNone(hold["cpu_overlap"])
        self.assertGreater(rel["cpu_overlap"], hold["cpu_overlap"])

    def test_callback_pool_threads_did_the_reads(self):
        run = self.run_of("callback")
        pool = role_threads(run, "uv pool ")
        readers = [t for t in pool if t["reads"] > 0 and t["bytes_read"] > 0]
        self.assertGreaterEqual(len(readers), 2, [(t["role"], t["reads"]) for t in pool])
        # the pool read the files (and nothing else); the loop thread hashed
        self.assertEqual(sum(t["bytes_read"] for t in pool), self.fx.size)
        loop = role_threads(run, "loop")
        self.assertEqual(len(loop), 1)
        self.assertGreater(loop[0]["states_ns"]["compute"],
                           max(t["states_ns"]["compute"] for t in pool))

    def test_uring_counts(self):
        u = self.run_of("uring")["uring"]
        self.assertIsNotNone(u["submitted"])
        self.assertGreater(u["submitted"], 0)
        self.assertEqual(u["completed"], u["submitted"])
        self.assertIsNotNone(u["inline"])
        self.assertIsNotNone(u["punted"])
        self.assertLessEqual(u["inline"] + u["punted"], u["submitted"])
        # each completion counted once, by where it ran; inline is the first kind
        self.assertEqual(u["at_submit"] + u["task_work"] + u["io_wq"], u["completed"], u)
        self.assertEqual(u["inline"], u["at_submit"], u)

    def test_no_run_beats_the_ideal_bound(self):
        """The bound is the least work any run needed (CPU spread over the CPUs, bytes at the
        best rate measured): its CPU term recomputed from summary.json's own figures, and no
        run's wall time beats it, up to 1% of measurement error."""
        runs = self.s["runs"]
        ncpu = self.s["machine"]["ncpu"]
        work = min(runlib.ran(r) for r in runs if r["exit_status"] == 0)
        for run in runs:
            with self.subTest(run=run["label"]):
                self.assertEqual(run["ideal_cpu_ns"], (work + ncpu // 2) // ncpu)
                self.assertIsNotNone(run["ideal_fraction"], run["label"])
                self.assertLessEqual(run["ideal_fraction"], 1.01,
                                     "%s: wall %d, ideal %d (cpu %d, device %d)" % (
                                         run["label"], run["wall_ns"], run["ideal_wall_ns"],
                                         run["ideal_cpu_ns"], run["ideal_device_ns"]))

    def test_every_strategy_read_what_sync_read(self):
        """Same files, same bytes: io_uring completions count as reads (summary-schema.md).

        callback is left out: its loop thread also reads libuv's wake-up eventfd."""
        sync = self.run_of("sync")["bytes_read"]
        for st in ["threads", "uring", "procs", "gil"]:
            with self.subTest(strategy=st):
                self.assertEqual(self.run_of(st)["bytes_read"], sync)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class GilWarm(unittest.TestCase):
    """gil with 2 threads on the warm 48 MiB dataset (the shared runs of test_run_core)."""

    def check(self, r, s):
        self.assertEqual(r.rc, 0, r.describe())
        run = s["runs"][0]
        workers = role_threads(run, "worker ")
        self.assertEqual(len(workers), 2)
        self.assertGreater(run["states_ns"]["lock_wait"], 0)
        for w in workers:
            self.assertGreater(w["states_ns"]["lock_wait"], 0, w)
        # hypervisor steal is on-CPU time to the guest (the thread was current) that the
        # host took: a stolen lock holder inflates on-CPU past one CPU's worth
        limit = 1.1 + r.steal / run["wall_ns"]
        if run["parallelism"] <= limit:
            return None
        return "parallelism %.3f > %.3f (steal %.1f ms)" % (run["parallelism"], limit,
                                                           r.steal / 1e6)

    def test_serialized_by_the_lock(self):
        """parallelism <= 1.1 and lock_wait > 0; a miss (steal, a loaded host) is retried
        twice on fresh runs."""
        fx = warm_fixture()
        msgs = []
        bad = self.check(*fx.runs["gil"])
        for i in range(2):
            if not bad:
                return
            msgs.append(bad)
            with runlib.make_dataset(warm_dataset_sizes(), nested=True) as ds:
                bad = self.check(*runlib.run_into(
                    fx, "gil-retry-%d" % i, ["run", "md5dir", ds.dir, "--cache", "warm",
                                             "-s", "gil", "-t", "2", "--no-stacks"]))
        if bad:
            self.fail("; ".join(msgs + [bad]))


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class FetchThreads(unittest.TestCase):
    def test_network_wait_overlaps_factorial(self):
        """threads: the factorial (~0.5 s) computes while the fetch waits 200 ms.

        Time a thread of the target spends runnable is not CPU overlap: the workload runs
        at real-time priority so that other work on this shared machine cannot take its
        CPU, and a miss is still retried twice."""
        msgs = []
        for i in range(3):
            fx = runlib.Fixture()
            r, s = runlib.run_into(fx, "fetch", ["run", "fetch", "-s", "threads", "--delay",
                                                 "200", "--no-stacks"], rt=True)
            self.assertEqual(r.rc, 0, r.describe())
            run = s["runs"][0]
            self.assertEqual(run["label"], "threads")
            self.assertIsNone(run["cache"])
            self.assertGreaterEqual(run["blocked_ns"], 200 * runlib.MS)
            fetch = role_threads(run, "fetch")
            self.assertEqual(len(fetch), 1)
            self.assertGreaterEqual(fetch[0]["states_ns"]["io_wait"], 190 * runlib.MS)
            if run["cpu_overlap"] >= 0.90:
                return
            msgs.append("cpu_overlap %.3f (runnable %d ns)" % (run["cpu_overlap"],
                                                              run["states_ns"]["runnable"]))
        self.fail("; ".join(msgs))


if __name__ == "__main__":
    unittest.main()
