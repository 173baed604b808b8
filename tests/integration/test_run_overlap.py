"""test_run_overlap.py - issue 17: io_uring keeps reads in flight while it hashes; the
readahead switch; where io_uring completions ran.

The disk is throttled to the rate at which this machine hashes (measured first, from a warm
sync run's on-CPU time), so that reading and hashing take about as long as each other: the
case where overlapping them matters most, on whatever machine runs the test. With the
kernel's readahead off (--readahead off) a read fetches only what it asks for, so what
overlaps the disk with the hashing is the strategy's own reads in flight, nothing else.
"""
import os
import re
import unittest

import runlib

CHUNK = 64 * 1024
QD = 16  # md5dir uring's default queue depth: no call submits more reads than that


def sizes():
    # 64 MiB in 16 files, sizes off the chunk; ~0.1 s of hashing on this project's VM
    return [4 * 1024 * 1024 + 4099 * i for i in range(16)]


def make_overlap(fx):
    with runlib.make_dataset(sizes()) as ds:
        fx.dir = ds.dir
        fx.size = ds.size()
        base = ["run", "md5dir", ds.dir, "--no-stacks", "--no-color"]
        r, s = runlib.run_into(fx, "warm", base + ["-s", "sync,uring", "--cache", "warm"])
        if r.rc != 0 or not s:
            raise AssertionError("the warm runs failed: " + r.describe())
        sync = runlib.runs_by_label(s)["sync/warm"]
        # bytes/s at which one thread hashes: the disk as fast as the CPU
        fx.rate = int(fx.size * 1e9 / runlib.ran(sync))
        thr = ["--cache", "cold", "--throttle", str(fx.rate)]
        runlib.run_into(fx, "off", base + ["-s", "sync,uring", "--readahead", "off"] + thr,
                        keep=["runs/uring-cold/spans.tsv"])
        runlib.run_into(fx, "on", base + ["-s", "sync,uring", "--readahead", "on"] + thr,
                        keep=["runs/sync-cold/spans.tsv"])


def device_within_io_cpu(text):
    """From a run's spans.tsv: how many of the device's busy stretches began and ended
    inside one io_cpu stretch of a thread (a block request served while a call stayed on
    CPU)."""
    cpu, dev = [], []
    for line in text.splitlines()[1:]:
        f = line.split("\t")
        if f[0] == "dev":
            dev.append((int(f[1]), int(f[2])))
        elif f[0] not in ("window", "io", "thread", "gap", "") and f[3] == "io_cpu":
            cpu.append((int(f[1]), int(f[2])))
    return sum(any(s <= a and b <= e for s, e in cpu) for a, b in dev)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class UringOverlap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # the class's own runs (not runlib.shared): a test retried alone measures afresh
        cls.fx = runlib.Fixture()
        make_overlap(cls.fx)

    def run_of(self, key, label):
        r, s = self.fx.runs[key]
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIsNotNone(s)
        return runlib.runs_by_label(s)[label]

    def test_uring_hides_half_its_io(self):
        """Reading as fast as hashing, with nothing but its own queue reading ahead, uring
        computed during at least half of the time its reads were under way; sync, with one
        read at a time and no readahead, computes only between reads."""
        u = self.run_of("off", "uring/cold")
        s = self.run_of("off", "sync/cold")
        detail = "uring hidden %.3f of %.1f ms of I/O (wall %.1f ms, on CPU %.1f ms), sync " \
            "hidden %s, throttle %.0f MiB/s" % (
                u["hidden_io"], u["io_ns"] / 1e6, u["wall_ns"] / 1e6,
                runlib.oncpu(u["states_ns"]) / 1e6, s["hidden_io"], self.fx.rate / 2**20)
        self.assertGreaterEqual(u["hidden_io"], 0.5, detail)
        self.assertLessEqual(s["hidden_io"], 0.05, detail)
        self.assertLessEqual(u["hit_ratio"], 0.05, detail)

    def test_uring_hides_half_with_readahead(self):
        """Readahead on (md5sum's default): the kernel reads ahead for uring as for sync, so
        its reads mostly find their pages and complete at submission (a copy, on CPU in
        io_uring_enter: I/O no compute hides), and the device works alone while the thread
        hashes. That device time is I/O under way (U_io counts block requests), so uring
        still computed during at least half of its I/O (0.52-0.63 seen), part of it the
        device alone (hidden_io_readahead); docs/strategies.md has the measurements."""
        u = self.run_of("on", "uring/cold")
        detail = "uring hidden %.3f (by the device alone %.3f) of %.1f ms of I/O, wall %.1f " \
            "ms, completions %s" % (u["hidden_io"], u["hidden_io_readahead"], u["io_ns"] / 1e6,
                                    u["wall_ns"] / 1e6, u["uring"])
        self.assertGreaterEqual(u["hidden_io"], 0.5, detail)
        self.assertGreater(u["hidden_io_readahead"], 0, detail)
        self.assertLessEqual(u["hidden_io_readahead"], u["hidden_io"], detail)
        self.assertGreaterEqual(u["uring"]["at_submit"], 0.5 * u["uring"]["completed"], detail)

    def test_completion_paths(self):
        """Where each completion ran, against what the page cache held: warm, a read finds
        its pages and completes within the io_uring_enter that submitted it. Cold with
        readahead off, no page is there at submission (every page of the dataset comes from
        the device during the run), so a read completes within its submitting call only if
        the device delivered its data before that call left the CPU: a 64 KiB request on
        this VM's virtio disk takes 12-40 us, and a call submitting several reads stays on
        CPU that long now and then (1 read in 1039 in about 1 run in 30 here). Such a read
        needs a block request issued and completed inside one io_cpu stretch of the thread:
        counted from the spans' device stretches, independently of the io_uring probes, and
        no call submits more than QD reads. Every completion is counted once."""
        for key, label in [("warm", "uring/warm"), ("off", "uring/cold")]:
            with self.subTest(run=label):
                run = self.run_of(key, label)
                u = run["uring"]
                self.assertGreater(u["completed"], 0, u)
                self.assertEqual(u["at_submit"] + u["task_work"] + u["io_wq"], u["completed"], u)
                self.assertEqual(u["inline"], u["at_submit"], u)
                if label == "uring/warm":
                    self.assertGreaterEqual(u["at_submit"], 0.9 * u["completed"], u)
                    continue
                page = os.sysconf("SC_PAGE_SIZE")
                pages = sum((s + page - 1) // page * page for s in sizes())
                self.assertGreaterEqual(run["block_bytes"], pages,
                                        "a page was cached at the start of the cold run")
                spans = self.fx.files["off", "runs/uring-cold/spans.tsv"]
                self.assertIsNotNone(spans)
                served = device_within_io_cpu(spans)
                print("\n  uring/cold, readahead off: %d of %d completions at submit, %d "
                      "device stretches inside one io_cpu stretch" % (
                          u["at_submit"], u["completed"], served), end="")
                self.assertLessEqual(u["at_submit"], QD * served, "%s; %d device stretches "
                                     "inside an io_cpu stretch" % (u, served))

    def test_readahead_switch(self):
        """--readahead off: each 64 KiB read is its own block request; on: the kernel reads
        ahead in larger requests, and the device works for sync while it is not in a read
        (io_block_only_ns: the device alone busy for the run), more than with it off; that
        time hid I/O behind sync's hashing (hidden_io_readahead)."""
        off = self.run_of("off", "sync/cold")
        on = self.run_of("on", "sync/cold")
        self.assertEqual(self.fx.runs["off"][1]["readahead"], "off")
        self.assertEqual(self.fx.runs["on"][1]["readahead"], "on")
        self.assertIn("readahead off: ", self.fx.runs["off"][0].stdout)
        chunks = sum((s + CHUNK - 1) // CHUNK for s in sizes())
        self.assertGreaterEqual(off["block_reqs"], 0.9 * chunks, off["block_reqs"])
        self.assertLess(on["block_reqs"], 0.5 * chunks, on["block_reqs"])
        ahead_on = on["io_block_only_ns"]
        ahead_off = off["io_block_only_ns"]
        self.assertGreater(ahead_on, ahead_off, "device busy beyond sync's reads: on %.1f ms, "
                           "off %.1f ms" % (ahead_on / 1e6, ahead_off / 1e6))
        self.assertGreater(ahead_on, 0)
        self.assertGreater(on["hidden_io_readahead"], 0)
        self.assertAlmostEqual(on["hidden_io_readahead"],
                               on["io_block_only_computing_ns"] / on["io_ns"], places=6)
        # the same from the saved spans alone (the threads' states, the device's busy
        # stretches), in Python: exact when every span was saved exactly
        spans = self.fx.files["on", "runs/sync-cold/spans.tsv"]
        self.assertIsNotNone(spans)
        self.assertEqual(on["spans_resolution_ns"], 0)
        mine = runlib.overlap_from_spans(spans)
        print("\n  sync/cold, readahead on: device alone %.1f of %.1f ms of I/O, %.1f while "
              "hashing (hidden_io_readahead %.3f); from the spans %.1f, %.1f, %.1f" % (
                  on["io_block_only_ns"] / 1e6, on["io_ns"] / 1e6,
                  on["io_block_only_computing_ns"] / 1e6, on["hidden_io_readahead"],
                  mine["io_block_only_ns"] / 1e6, mine["io_ns"] / 1e6,
                  mine["io_block_only_computing_ns"] / 1e6), end="")
        self.assertEqual(runlib.iv_len(mine["dev"]), on["block_busy_ns"])
        for k in ("io_ns", "io_block_only_ns", "io_block_only_computing_ns"):
            self.assertEqual(mine[k], on[k], k)
        self.assertAlmostEqual(mine["io_block_only_computing_ns"] / mine["io_ns"],
                               on["hidden_io_readahead"], places=6)

    def test_warmup_reported(self):
        """The report says what was done before the first run: the files read once (the
        cold runs' page-cache pages then come from memory the kernel has used), and md5dir's
        libraries used once in the process every run is forked from."""
        for key in ["warm", "off"]:
            with self.subTest(run=key):
                r, s = self.fx.runs[key]
                self.assertIn("page cache", s["warmup"])
                self.assertIn("io_uring", s["warmup"])
                self.assertIn("warm-up: ", r.stdout)
        self.assertIn("evicted before each cold run", self.fx.runs["off"][1]["warmup"])
        self.assertNotIn("evicted", self.fx.runs["warm"][1]["warmup"])


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class Repeats(unittest.TestCase):
    """--repeat 3: three measurements per run, interleaved, the median kept."""

    @classmethod
    def setUpClass(cls):
        cls.fx = runlib.Fixture()
        with runlib.make_dataset([2 * 1024 * 1024 + 7 * i for i in range(8)]) as ds:
            cls.r, cls.s = runlib.run_into(cls.fx, "rep", [
                "run", "md5dir", ds.dir, "-s", "sync,threads", "--cache", "warm",
                "--repeat", "3", "--no-stacks", "--no-color"])

    def test_three_measurements_and_the_median(self):
        self.assertEqual(self.r.rc, 0, self.r.describe())
        self.assertEqual([r["label"] for r in self.s["runs"]], ["sync/warm", "threads/warm"])
        for run in self.s["runs"]:
            with self.subTest(run=run["label"]):
                walls = [x["wall_ns"] for x in run["repeats"]]
                self.assertEqual(len(walls), 3)
                self.assertTrue(all(w > 0 for w in walls), walls)
                self.assertEqual(run["wall_ns"], sorted(walls)[1], walls)
                self.assertEqual(run["wall_min_ns"], min(walls))
                self.assertEqual(run["wall_max_ns"], max(walls))
                # the figures are the median repetition's own: its on-CPU time is one of them
                self.assertIn(runlib.oncpu(run["states_ns"]),
                              [x["oncpu_ns"] for x in run["repeats"]])
        sync, threads = (runlib.runs_by_label(self.s)[k] for k in ["sync/warm", "threads/warm"])
        self.assertAlmostEqual(threads["speedup_vs_sync"], sync["wall_ns"] / threads["wall_ns"],
                               places=4)
        self.assertIn("walls: medians of 3 interleaved runs, ± the farthest", self.r.stdout)

    def test_interleaved_and_rotated(self):
        """Round after round, each starting one strategy later: AB BA AB."""
        order = re.findall(r"running (\S+/warm) \((\d)/3\)", self.r.stderr)
        self.assertEqual(order, [("sync/warm", "1"), ("threads/warm", "1"),
                                 ("threads/warm", "2"), ("sync/warm", "2"),
                                 ("sync/warm", "3"), ("threads/warm", "3")], self.r.stderr)


if __name__ == "__main__":
    unittest.main()
