"""stress_load.py - make stress: the full-size loads (IOTRACE_SUITE=stress).

1,000 threads; 100,000 tiny files under every md5dir strategy; one 4 GiB file; a 4 KiB-read
storm of over a million syscalls a second; a futex ping-pong context-switch storm; and an
overflowing ring buffer. For each: the run completes, every thread's states close within
1%, the timeline agrees with the kernel's own per-thread totals within 1% plus what was
lost, and lost events are counted and shown with the share of time they cover. Each test
prints what it measured (rates, losses, worst closure) so a run of make stress says it.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import common
import stress_common as sc


def note(msg):
    print("\n    " + msg, end=" ", flush=True)


class StressLoad(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sc.build()
        cls.tmp = tempfile.mkdtemp(prefix="iot-stress-", dir="/var/tmp")
        cls.storm = os.path.join(cls.tmp, "storm.bin")
        sc.warm_file(cls.storm, 512 << 20)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.tmp])

    def test_threads_1000(self):
        cmd = [sc.WORK, "threads", "1000", "500"]
        run, _, text, html, out = sc.trace(self, cmd)
        self.assertEqual(sc.stat_line(out, "threads")["threads"], 1000)
        self.assertGreaterEqual(len(run["threads"]), 1001)
        worst = sc.check_closure(self, run)
        lost = sc.check_losses_shown(self, run, text, html)
        res, _ = sc.drv(self, cmd, extra=["--stacks"])
        self.assertEqual(len(res["timeline"]), 1001)
        kworst = sc.check_kernel_vs_timeline(self, res)
        note("1001 threads: lost %d, worst closure %.4f%%, worst kernel/timeline %.3f%%" %
             (lost, 100 * worst, 100 * kworst))

    def test_tiny_files_100k(self):
        with common.Dataset() as ds:
            for i in range(100000):
                sub = os.path.join(ds.dir, "d%02d" % (i % 50))
                if i < 50:
                    os.mkdir(sub)
                with open(os.path.join(sub, "t%06d" % i), "wb") as f:
                    f.write(os.urandom(i % 2000 + 1))
            s, p = common.run_json(["run", "md5dir", ds.dir, "--cache", "both", "-s",
                                    "sync,threads,callback,uring,procs,gil",
                                    "-o", ds.dir + ".out"], timeout=3600)
            subprocess.run(["rm", "-rf", ds.dir + ".out"])
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            msgs = []
            for run in s["runs"]:
                self.assertEqual(run["exit_status"], 0, run["label"])
                self.assertGreaterEqual(run["reads"], 100000, run["label"])
                worst = sc.check_closure(self, run)
                msgs.append("%s %.2fs lost %d closure %.4f%%" %
                            (run["label"], run["wall_ns"] / 1e9, run["lost_events"],
                             100 * worst))
            note("100k files: " + "; ".join(msgs))

    def test_one_4gib_file(self):
        with common.Dataset() as ds:
            sc.warm_file(os.path.join(ds.dir, "big.bin"), 4 << 30)
            s, p = common.run_json(["run", "md5dir", ds.dir, "--cache", "warm", "-s",
                                    "sync,threads,uring", "-o", ds.dir + ".out"], timeout=3600)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            s2, p2 = common.run_json(["run", "md5dir", ds.dir, "--cache", "cold", "-s", "sync",
                                      "-o", ds.dir + ".out"], timeout=3600)
            subprocess.run(["rm", "-rf", ds.dir + ".out"])
            self.assertEqual(p2.returncode, 0, p2.stderr[-3000:])
            msgs = []
            for run in s["runs"] + s2["runs"]:
                self.assertGreaterEqual(run["bytes_read"], 4 << 30, run["label"])
                self.assertLess(run["bytes_read"], (4 << 30) + (1 << 20), run["label"])
                worst = sc.check_closure(self, run)
                msgs.append("%s %.0f MB/s lost %d closure %.4f%%" %
                            (run["label"], run["bytes_read"] / run["wall_ns"] * 1e3,
                             run["lost_events"], 100 * worst))
            note("4 GiB: " + "; ".join(msgs))

    def test_read_storm_over_a_million_per_s(self):
        cmd = [sc.WORK, "storm", self.storm, "2", "5"]
        base = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rate = sc.stat_line(base, "reads")["rate"]
        self.assertGreater(rate, 1e6, "the storm made only %.0f reads/s" % rate)
        run, _, text, html, out = sc.trace(self, cmd)
        st = sc.stat_line(out, "reads")
        self.assertGreaterEqual(run["reads"], st["reads"])
        worst = sc.check_closure(self, run)
        lost = sc.check_losses_shown(self, run, text, html)
        res, _ = sc.drv(self, cmd, extra=["--stacks"])
        kworst = sc.check_kernel_vs_timeline(self, res)
        note("storm: %.2f M reads/s untraced, %.2f M/s traced, lost %d, closure %.4f%%, "
             "kernel/timeline %.3f%%" % (rate / 1e6, st["rate"] / 1e6, lost, 100 * worst,
                                         100 * kworst))

    def test_dd_storm_4gib(self):
        """dd of a 4 GiB warm file in 4 KiB reads (a million reads) under iotrace."""
        path = os.path.join(self.tmp, "dd.bin")
        sc.warm_file(path, 4 << 30)
        try:
            run, _, text, html, _ = sc.trace(self, ["dd", "if=" + path, "of=/dev/null",
                                                    "bs=4k", "status=none"])
            self.assertGreaterEqual(run["reads"], (4 << 30) // 4096)
            worst = sc.check_closure(self, run)
            lost = sc.check_losses_shown(self, run, text, html)
            note("dd 4 GiB: %.2f M reads/s traced, lost %d, closure %.4f%%" %
                 (run["reads"] / run["wall_ns"] * 1e3, lost, 100 * worst))
        finally:
            os.unlink(path)

    def test_futex_pingpong(self):
        cmd = [sc.WORK, "pingpong", "500000"]
        run, _, text, html, out = sc.trace(self, cmd)
        st = sc.stat_line(out, "handoffs")
        self.assertEqual(st["handoffs"], 1000000)
        self.assertGreaterEqual(run["ctx_switches"], 500000)
        worst = sc.check_closure(self, run)
        lost = sc.check_losses_shown(self, run, text, html)
        res, _ = sc.drv(self, cmd, extra=["--stacks"])
        kworst = sc.check_kernel_vs_timeline(self, res)
        note("ping-pong: %.0f hand-offs/s traced, %d switches, lost %d, closure %.4f%%, "
             "kernel/timeline %.3f%%" % (st["rate"], run["ctx_switches"], lost, 100 * worst,
                                         100 * kworst))

    def test_overflow_counted_and_shown(self):
        with tempfile.TemporaryDirectory(prefix="iot-stress-") as d:
            out = os.path.join(d, "out")
            p = subprocess.Popen([common.IOTRACE, "trace", "--json", "--ringbuf-mb", "1", "-o",
                                  out, "--", sc.WORK, "storm", self.storm, "2", "6"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

            def pause():
                # three stalls of the consumer: the ring buffer overflows each time
                for _ in range(3):
                    time.sleep(0.7)
                    try:
                        os.kill(p.pid, signal.SIGSTOP)
                        time.sleep(0.7)
                    finally:
                        os.kill(p.pid, signal.SIGCONT)
            th = threading.Thread(target=pause)
            th.start()
            stdout, stderr = p.communicate(timeout=600)
            th.join()
            self.assertEqual(p.returncode, 0, stderr[-2000:])
            run = json.loads(stdout[stdout.find("{\n"):])["runs"][0]
            self.assertGreater(run["lost_events"], 0)
            worst = sc.check_closure(self, run)
            rep = common.run(["report", "--no-color", out])
            with open(os.path.join(out, "report.html")) as f:
                html = f.read()
            sc.check_losses_shown(self, run, rep.stdout, html)
            self.assertIn("--ringbuf-mb", stderr)
            tt = sum(run["states_ns"].values())
            # the HTML report too says how much of the time the losses cover, not only
            # how many events were lost (as a share, or as thread time)
            share = "%.1f%%" % (100 * max(run["lost_ns"], run["gaps_ns"]) / tt)
            self.assertTrue(share in html or re.search(
                r"events were lost \([0-9.]+ (s|ms|µs) of thread time", html),
                "report.html gives the lost events' count only")
            note("overflow: %d events lost covering %.1f%% of thread time, closure %.4f%%" %
                 (run["lost_events"], 100 * max(run["lost_ns"], run["gaps_ns"]) / tt,
                  100 * worst))


if __name__ == "__main__":
    unittest.main()
