"""test_waits.py - what each wait was for, against programs that time their own waits:
tests/progs/waits_work blocks in one known way per case (a contended pthread mutex, a
pthread_join, an idle condvar pool, a pipe fed late by a child process, a socketpair and a
TCP loopback connection fed late by a thread, cold reads of a file on the disk) and measures
each blocking call itself: CLOCK_MONOTONIC around it, less its own on-CPU time
(CLOCK_THREAD_CPUTIME_ID) and run-queue delay (schedstat), is the time it waited. Under
`iotrace trace`, the case's kind (lock_wait_by_kind_ns, io_wait_by_kind_ns) must hold that
time within max(2%, 0.5 ms), per thread and per run, and every other kind no more than
noise. Each run takes well under a second.
"""
import json
import os
import shutil
import tempfile
import unittest

import common
from test_tracer import PROGS, build_progs
from test_trace import ENV, trace

WORK = os.path.join(PROGS, "waits_work")
MS = 1000000
NOISE = 0.5 * MS  # what a kind the case does not exercise may hold (start-up, the final join)
LOCK_KINDS = ["mutex", "gil", "join", "condvar", "other"]
IO_KINDS = ["file", "pipe", "socket", "other"]


def tol(ns):
    return max(0.02 * ns, 0.5 * MS)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class WaitKinds(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        build_progs()
        cls.tmp = tempfile.mkdtemp(prefix="iot-waits-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)

    def traced(self, mode, *args):
        """waits_work MODE under iotrace trace: (its own report, the run's summary)."""
        out = os.path.join(self.tmp, mode + ".json")
        p, s = trace(["--no-stacks"], [WORK, mode, out] + [str(a) for a in args],
                     os.path.join(self.tmp, mode))
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        with open(out) as f:
            prog = json.load(f)
        run = s["runs"][0]
        for w in prog["waits"]:
            w["wait_ns"] = w["wall_ns"] - w["cpu_ns"] - w["runq_ns"]
        return prog, run

    def thread(self, run, tid):
        th = [t for t in run["threads"] if t["tid"] == tid]
        self.assertEqual(len(th), 1, "thread %d not in the run" % tid)
        return th[0]

    def check(self, prog, run, field, kind):
        """Each waiting thread's `field`[kind] against its own measure, the run's against
        their sum; the run's other kinds of both splits no more than noise."""
        total = 0
        for w in prog["waits"]:
            th = self.thread(run, w["tid"])
            got = th[field][kind]
            print("\n  %s: thread %d %s %.3f ms, measured %.3f ms (%d calls; on CPU %.3f, "
                  "run queue %.3f)" % (prog["mode"], w["tid"], kind, got / MS,
                                       w["wait_ns"] / MS, w["calls"], w["cpu_ns"] / MS,
                                       w["runq_ns"] / MS), end="")
            self.assertAlmostEqual(got, w["wait_ns"], delta=tol(w["wait_ns"]),
                                   msg="thread %d: %s" % (w["tid"], th))
            total += w["wait_ns"]
        self.assertAlmostEqual(run[field][kind], total, delta=tol(total), msg=run[field])
        for f, kinds in (("lock_wait_by_kind_ns", LOCK_KINDS), ("io_wait_by_kind_ns", IO_KINDS)):
            for k in kinds:
                if (f, k) != (field, kind):
                    self.assertLessEqual(run[f][k], NOISE, "%s %s: %s" % (f, k, run[f]))
        return total

    def test_mutex(self):
        """A worker blocks 10 times on a mutex main holds while computing 20 ms: mutex; the
        lock is named (its symbol), with its waits, waiter and waker."""
        prog, run = self.traced("mutex", 10, 20)
        self.check(prog, run, "lock_wait_by_kind_ns", "mutex")
        (w,) = prog["waits"]
        lock = run["locks"][0]
        self.assertEqual((lock["kind"], lock["where"]), ("mutex", "mtx"), lock)
        self.assertEqual(lock["waits"], w["calls"], lock)
        self.assertEqual(lock["waiters"], [w["tid"]], lock)
        self.assertEqual(lock["wakers"], [prog["pid"]], lock)

    def test_join(self):
        """main pthread_joins two workers computing 50 and 100 ms: join, one lock per
        worker's thread id word, each woken by that worker as it ended."""
        prog, run = self.traced("join", 2, 50)
        self.check(prog, run, "lock_wait_by_kind_ns", "join")
        joins = [lk for lk in run["locks"] if lk["kind"] == "join"]
        self.assertEqual(len(joins), 2, run["locks"])
        workers = {t["tid"] for t in run["threads"]} - {prog["pid"]}
        for lk in joins:
            self.assertEqual(lk["waiters"], [prog["pid"]], lk)
            self.assertEqual(len(lk["wakers"]), 1, lk)
            self.assertIn(lk["wakers"][0], workers, lk)

    def test_condvar(self):
        """Three idle workers wait on their condition variables while main computes 50 ms,
        then main signals each and exits: condvar (not a join: main is no exiting worker)."""
        prog, run = self.traced("condvar", 3, 50)
        self.assertEqual(len(prog["waits"]), 3)
        self.check(prog, run, "lock_wait_by_kind_ns", "condvar")

    def test_pipe(self):
        """main reads a pipe a child process writes to every 20 ms: pipe."""
        prog, run = self.traced("pipe", 10, 20)
        self.assertEqual(len(run["processes"]), 2, run["processes"])
        self.check(prog, run, "io_wait_by_kind_ns", "pipe")

    def test_socketpair(self):
        """main reads a socketpair a thread writes to every 20 ms: socket."""
        prog, run = self.traced("socketpair", 10, 20)
        self.check(prog, run, "io_wait_by_kind_ns", "socket")

    def test_tcp(self):
        """main recv()s a TCP loopback connection a thread writes to every 20 ms: socket."""
        prog, run = self.traced("tcp", 10, 20)
        self.check(prog, run, "io_wait_by_kind_ns", "socket")

    def test_file_cold(self):
        """64 MiB read cold (its pages dropped by the program) in 1 MiB reads: the waits
        are file, and so is the time on CPU in the reads; the device read it all."""
        size = 64 << 20
        with common.Dataset([size]) as ds:
            prog, run = self.traced("file", ds.files[0], 1 << 20)
        self.assertEqual(prog["bytes"], size)
        self.assertGreaterEqual(run["block_bytes"], size, "the reads were not cold")
        self.check(prog, run, "io_wait_by_kind_ns", "file")
        (w,) = prog["waits"]
        # on CPU in the reads: the program's schedstat preads and ld.so's reads are file
        # reads too, outside its timed calls (a few µs each)
        cpu = self.thread(run, w["tid"])["io_cpu_by_kind_ns"]
        print("; on CPU in reads %.3f ms, measured %.3f ms" % (cpu["file"] / MS,
                                                              w["cpu_ns"] / MS), end="")
        self.assertAlmostEqual(cpu["file"], w["cpu_ns"], delta=tol(w["cpu_ns"]), msg=cpu)
        for k in ("pipe", "socket", "other"):
            self.assertLessEqual(run["io_cpu_by_kind_ns"][k], NOISE, run["io_cpu_by_kind_ns"])


if __name__ == "__main__":
    unittest.main()
