"""test_tracer.py - the probes and tracer against independent sources: rusage, schedstat, file sizes.

Two levels: the tracer alone through tests/progs/tracer_drv (kernel totals, timeline and
the child's rusage side by side), and `iotrace trace` end to end (summary.json). The known
workloads are tests/progs/tracer_work, whose threads report their own schedstat.
"""
import json
import math
import os
import signal
import statistics
import subprocess
import tempfile
import time
import unittest

import common

STATES = common.STATES
PROGS = os.path.join(common.ROOT, common.BUILD, "tests", "progs")
DRV = os.path.join(PROGS, "tracer_drv")
WORK = os.path.join(PROGS, "tracer_work")
MS = 1000000


def build_progs():
    """The helpers are built by `make progs` (not part of `make all`)."""
    args = ["make", "-s", "-C", common.ROOT, "progs"]
    if common.BUILD.rstrip("/").endswith("build-san"):
        args.append("SANITIZE=1")
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("make progs failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])


def parse_work(path):
    """tracer_work's report: {"sched": {tid: (run, runq)}, "runs": {tid: times switched in},
    "self": {tid: ns}, "rusage": ns, "bytes": n}."""
    res = {"sched": {}, "runs": {}, "self": {}, "waited": {}, "rusage": None, "bytes": None}
    if not os.path.exists(path):
        return res
    with open(path) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "sched":
                res["sched"][int(w[1])] = (int(w[2]), int(w[3]))
                res["runs"][int(w[1])] = int(w[4])
            elif w and w[0] == "self":
                res["self"][int(w[1])] = int(w[2])
            elif w and w[0] == "waited":
                res["waited"][int(w[1])] = int(w[2])
            elif w and w[0] == "rusage":
                res["rusage"] = int(w[1])
            elif w and w[0] == "bytes":
                res["bytes"] = int(w[1])
    return res


def steal_ns():
    """Hypervisor steal time so far, all CPUs (/proc/stat).

    The kernel leaves steal out of a task's run time (PARAVIRT_TIME_ACCOUNTING), so
    schedstat and rusage omit it, while sched_switch times include it: the thread was on
    the (virtual) CPU. Comparisons with them allow for the steal of the run.
    """
    with open("/proc/stat") as f:
        w = f.readline().split()
    return int(w[8]) * 1000000000 // os.sysconf("SC_CLK_TCK") if len(w) > 8 else 0


def drv(work, args=(), timeout=300):
    """Run CMD under tracer_drv; returns (result JSON, tracer_work report)."""
    with tempfile.TemporaryDirectory(prefix="iot-tracer-") as d:
        out, wout = os.path.join(d, "o.json"), os.path.join(d, "w.txt")
        env = dict(os.environ, TRACER_WORK_OUT=wout)
        s0 = steal_ns()
        p = subprocess.run([DRV, "--out", out] + list(args) + ["--"] + list(work), env=env,
                           capture_output=True, text=True, timeout=timeout)
        steal = steal_ns() - s0
        if not os.path.exists(out):
            raise AssertionError("tracer_drv %s failed (%d): %s" % (work, p.returncode, p.stderr))
        with open(out) as f:
            res = json.load(f)
        res["stderr"] = p.stderr
        res["steal_ns"] = steal
        return res, parse_work(wout)


def on_cpu(states):
    return states[0] + states[1]


def ran(k):
    """A thread's on-CPU time less what the hypervisor stole of it (the kernel's "stolen"):
    the run time schedstat and rusage count."""
    return on_cpu(k["states"]) - k["stolen"]


def ran_summary(t):
    """ran() of a summary.json thread."""
    return t["states_ns"]["compute"] + t["states_ns"]["io_cpu"] - t["stolen_ns"]


def sparse_file(size):
    f = tempfile.NamedTemporaryFile(prefix="iotrace-test-", dir="/var/tmp", delete=False)
    f.truncate(size)
    f.close()
    return f.name


evict = common.evict


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def our_prog_ids(pid):
    return sorted(common.bpf_ids_of(pid))


def prog_ids_alive(ids):
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    alive = {p["id"] for p in json.loads(out or "[]")}
    return [i for i in ids if i in alive]


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TracerAlone(unittest.TestCase):
    """The tracer through its own driver: kernel totals vs timeline vs independent sources."""

    @classmethod
    def setUpClass(cls):
        build_progs()

    def check_sums(self, res):
        """Every thread: kernel totals and timeline states each add up to the lifetime."""
        for k in res["kernel"]:
            life = k["end"] - k["start"]
            self.assertGreater(life, 0, k)
            self.assertLessEqual(abs(sum(k["states"]) - life), max(1000, life // 100),
                                 "kernel totals of %d don't add up: %s" % (k["tid"], k))
        for t in res["timeline"]:
            life = t["end"] - t["start"]
            self.assertLessEqual(abs(sum(t["states"]) - life), max(1000, life // 100),
                                 "timeline of %d doesn't add up: %s" % (t["tid"], t))

    def test_states_sum_and_timeline_matches_kernel(self):
        res, work = drv([WORK, "mix"])
        self.assertEqual(res["status"], 0, res["stderr"])
        self.assertEqual(len(res["kernel"]), 5)
        self.check_sums(res)
        self.assertEqual(res["counters"]["lost_events"], 0)
        # the ring's data is mapped (resident, every page) while tracing, not once stopped
        run_kb, stop_kb = res["bpf_mapped_kb"]
        self.assertGreaterEqual(run_kb - stop_kb, res["stats"]["ringbuf_mb"] * 1024, res["bpf_mapped_kb"])
        tl = {t["tid"]: t for t in res["timeline"]}
        for k in res["kernel"]:
            if k["tid"] == res["pid"]:
                continue  # seeded before the window opened: clipped
            t = tl[k["tid"]]
            life = k["end"] - k["start"]
            for i, s in enumerate(STATES):
                self.assertLessEqual(abs(t["states"][i] - k["states"][i]), 10000 + life // 1000,
                                     "%s of %d: timeline %d kernel %d" % (
                                         s, k["tid"], t["states"][i], k["states"][i]))
        # the mix: workers compute, take a lock, sleep; main polls then joins
        main = [k for k in res["kernel"] if k["tid"] == res["pid"]][0]
        self.assertGreater(main["states"][STATES.index("poll_wait")], 15 * MS)
        self.assertGreater(main["states"][STATES.index("lock_wait")], 40 * MS)
        for k in res["kernel"]:
            if k["tid"] != res["pid"]:
                self.assertGreater(on_cpu(k["states"]), 10 * MS)
                self.assertGreater(k["states"][STATES.index("other_wait")], 10 * MS)

    def check_self_observed(self, res, work):
        """No on-CPU time is missed: each spinning thread saw itself run at least that long."""
        ks = {k["tid"]: k for k in res["kernel"]}
        self.assertTrue(work["self"])
        for tid, seen in work["self"].items():
            self.assertGreaterEqual(on_cpu(ks[tid]["states"]), seen - MS // 2,
                                    "thread %d ran %d ns by its own clock" % (tid, seen))

    def test_oncpu_vs_rusage(self):
        """Total on-CPU less the stolen time measured per thread within 1% of rusage: steal
        is left out of the kernel's run time, and iotrace measures it (no allowance for
        the machine's steal is made). Seen here: -0.04% to -0.08%, where on-CPU alone was
        +0.02% to +0.22% off with no steal the machine's tick-based counter could see.

        A sanitized tracer_work also spends CPU the probes do not see, before its threads
        are traced and after its exit probe (the sanitizer's start-up, and the tear-down of
        its large address space): 5.7-6.2 ms seen, allowed for with 10 ms in that build.

        On a loaded VM the kernel's own accounting drifts (a preemption by a wake-up is
        charged with a stale run-queue clock), so it is tried up to 3 times; the thread's
        own clock (self-observed running time) is the load-independent check.
        """
        unseen = 10 * MS if common.BUILD.rstrip("/").endswith("build-san") else 0
        msgs = []
        for _ in range(3):
            res, work = drv([WORK, "spin", "3", "300"])
            self.check_sums(res)
            self.check_self_observed(res, work)
            total = sum(ran(k) for k in res["kernel"])
            # the unseen CPU is in rusage only: it widens one side of the band
            tol = res["rusage_ns"] * 0.01
            if -tol <= res["rusage_ns"] - total <= tol + unseen:
                return
            msgs.append("on-CPU less stolen %d vs rusage %d (stolen %d, machine's steal %d)" % (
                total, res["rusage_ns"], sum(k["stolen"] for k in res["kernel"]),
                res["steal_ns"]))
        self.fail("; ".join(msgs))

    def test_schedstat_cpu_contention(self):
        """4 spinning threads on fewer CPUs: on-CPU and runnable per thread vs schedstat."""
        n = max(2, 2 * os.cpu_count())
        msgs = []
        for _ in range(3):  # see test_oncpu_vs_rusage: a loaded VM skews the kernel's side
            res, work = drv([WORK, "spin", str(n), "300"])
            self.check_sums(res)
            self.check_self_observed(res, work)
            ks = {k["tid"]: k for k in res["kernel"]}
            self.assertEqual(len(work["sched"]), n + 1)
            steal = res["steal_ns"]
            bad = []
            for tid, (run, runq) in work["sched"].items():
                k = ks[tid]
                # schedstat is read by the thread itself just before it ends: a slice short
                if abs(ran(k) - run) > 2 * MS + run * 0.03:
                    bad.append("on-CPU less stolen of %d: %d vs %d (stolen %d)" % (
                        tid, ran(k), run, k["stolen"]))
                if abs(k["states"][6] - runq) > 3 * MS + runq * 0.05 + steal:
                    bad.append("runnable of %d: %d vs %d" % (tid, k["states"][6], runq))
            if not bad:
                return
            msgs.append("; ".join(bad) + " (steal %d)" % steal)
        self.fail(" / ".join(msgs))

    def test_schedstat_wakeups(self):
        """Futex ping-pong: every switch is a wake-up.

        Pinned to one CPU the split matches schedstat. Across CPUs, the kernel charges the
        wake-up latency of an idle CPU (IPI, idle exit: a few us in a VM) to the woken
        task's run time, not to run_delay (the wake-up skips the run-queue clock update),
        while sched_switch times say when it really ran: there only the sum of on-CPU and
        runnable is comparable, within a bound per switch-in (see check_switch_ins).

        Exact in both: every switch-in schedstat counted (its third field) follows one
        runnable span of ours, and ours are as many as the kernel's (+-2: the window's
        edges, and the switches after the thread read its schedstat). A tracer that lost
        the wake-ups' runnable time, 0.5 us a switch-in across CPUs, would pass the sums
        and fail this.
        """
        res, work = drv(["taskset", "-c", "0", WORK, "pingpong", "10000"])
        self.check_sums(res)
        ks = {k["tid"]: k for k in res["kernel"]}
        workers = [t for t in work["sched"] if t != res["pid"]]
        self.assertEqual(len(workers), 2)
        self.check_switch_ins(res, work, workers)
        steal = res["steal_ns"]
        for tid in workers:
            run, runq = work["sched"][tid]
            k = ks[tid]
            self.assertAlmostEqual(ran(k), run, delta=1 * MS + run * 0.05)
            # 20,000 wake-ups, each dated by the scheduler's lazily updated run-queue clock
            # there and by the tracepoint here: a few hundred ns apart each (seen: 5.7 ms
            # of 29 ms), so the queue time gets 25% where on-CPU time gets 5%
            self.assertAlmostEqual(k["states"][6], runq, delta=1 * MS + runq * 0.25 + steal)
            self.assertGreater(k["states"][STATES.index("lock_wait")], 0)
        res, work = drv([WORK, "pingpong", "10000"])
        self.check_sums(res)
        workers = [t for t in work["sched"] if t != res["pid"]]
        self.check_switch_ins(res, work, workers)
        ks = {k["tid"]: k for k in res["kernel"]}
        steal = res["steal_ns"]
        for tid in workers:
            run, runq = work["sched"][tid]
            k = ks[tid]
            ours = ran(k) + k["states"][6]
            runs = work["runs"][tid]
            # The kernel's sum spans each wake-up's enqueue to the next switch-out, both on
            # the run-queue clock; ours, sched_wakeup's tracepoint to sched_switch's. Its
            # clock is read first each time, before code run with the run queue locked and
            # interrupts off: the enqueue (and its cgroup and pressure accounting) ahead of
            # sched_wakeup, the dequeue and the pick ahead of sched_switch. The first is
            # longer (our own sched_wakeup program runs ahead of our clock read there too),
            # so the kernel's sum gains per switch-in what the difference of those paths
            # takes: 0.1-0.4 us on a quiet machine here, up to 0.7 us with three spinners
            # on its 2 CPUs and no steal (7.6 ms over 10,000 in a loaded CI run; more when
            # the host stole CPU, allowed for in full). Allowed: 1.5 us times the
            # switch-ins schedstat counted. The other way, ours longer than the kernel's,
            # has no such cause: the flat margin only (seen: -0.6 to +0.1 ms when the
            # threads shared a CPU).
            gain = run + runq - ours
            margin = 2 * MS + (run + runq) * 0.03 + steal
            detail = "ours %d vs schedstat's %d (run %d, runq %d) over %d switch-ins, steal " \
                "%d" % (ours, run + runq, run, runq, runs, steal)
            self.assertGreaterEqual(gain, -margin, detail)
            self.assertLessEqual(gain, margin + runs * 1500, detail)

    def check_switch_ins(self, res, work, tids):
        """Each thread's switch-ins by schedstat's count: ours (switch-outs, runnable spans
        before a switch-in) as many."""
        ks = {k["tid"]: k for k in res["kernel"]}
        tl = {t["tid"]: t for t in res["timeline"]}
        for tid in tids:
            runs = work["runs"][tid]
            self.assertGreater(runs, 1000, tid)
            self.assertAlmostEqual(ks[tid]["ctxsw"], runs, delta=2, msg=tid)
            self.assertAlmostEqual(tl[tid]["count"][STATES.index("runnable")], runs, delta=2,
                                   msg="runnable spans of %d vs its switch-ins" % tid)

    def test_wait_states(self):
        """A 100 ms poll and sleep: the thread's longest span in the wait state (the call's
        wait; the thread may wait elsewhere too: 3 ms more when sanitized) lies between
        what was asked (the timer cannot fire early; the thread leaves the CPU a few us into
        the call) and the call's duration by the thread's own clock (which also holds the
        wake-up and the way back, however late a loaded host makes them)."""
        for mode, state in (("poll", "poll_wait"), ("sleep", "other_wait")):
            res, work = drv([WORK, mode, "100"])
            k = res["kernel"][0]
            t = [x for x in res["timeline"] if x["tid"] == k["tid"]][0]
            waited = work["waited"][k["tid"]]
            got = t["longest"][STATES.index(state)]
            self.assertGreaterEqual(k["states"][STATES.index(state)], got)
            self.assertGreaterEqual(got, 100 * MS - MS // 2, mode)
            self.assertLessEqual(got, waited, "%s: %s span %d, the call took %d" % (
                mode, state, got, waited))
        res, _ = drv([WORK, "pipe", "10", "10"])
        reader = [k for k in res["kernel"] if k["tid"] != res["pid"]][0]
        self.assertGreater(reader["states"][STATES.index("io_wait")], 80 * MS)
        # 10 one-byte pipe reads, then the thread reads its schedstat file
        self.assertEqual(reader["reads"], 11)
        self.assertGreater(reader["bytes"], 10)

    def test_bytes_read_exact(self):
        size = 8 * 1024 * 1024 + 1234
        with common.Dataset([size]) as ds, tempfile.NamedTemporaryFile(
                prefix="iotrace-test-", dir="/var/tmp") as empty:
            path = ds.files[0]
            dd = ["dd", "of=/dev/null", "bs=4k", "status=none"]
            full, _ = drv(dd + ["if=" + path])
            zero, _ = drv(dd + ["if=" + empty.name])
        self.assertEqual(full["counters"]["bytes_read"] - zero["counters"]["bytes_read"], size)
        self.assertEqual(full["counters"]["reads"] - zero["counters"]["reads"],
                         math.ceil(size / 4096))

    def test_cold_read_page_cache_and_block(self):
        size = 32 * 1024 * 1024
        with common.Dataset([size]) as ds:
            path = ds.files[0]
            evict(path)
            res, work = drv([WORK, "read", path, "65536"])
        c = res["counters"]
        self.assertEqual(work["bytes"], size)
        self.assertTrue(c["pcache_ok"] and c["block_ok"])
        self.assertGreaterEqual(c["pcache_bytes"], size)
        self.assertLess(c["pcache_bytes"], size + 2 * 1024 * 1024)
        self.assertGreaterEqual(c["block_bytes"], size)
        self.assertLess(c["block_bytes"], size + 2 * 1024 * 1024)
        self.assertGreater(c["block_busy_ns"], 0)
        self.assertLessEqual(c["block_busy_ns"], res["wall_ns"])
        # a warm re-read inserts nothing and reads no blocks
        with common.Dataset([size]) as ds:
            warm(ds.files[0])
            res, _ = drv([WORK, "read", ds.files[0], "65536"])
        self.assertLess(res["counters"]["pcache_bytes"], 1024 * 1024)
        self.assertLess(res["counters"]["block_bytes"], 1024 * 1024)

    def test_lost_batches_become_gaps_totals_stay_exact(self):
        """A stalled consumer: batches are lost and counted, the kernel totals stay exact."""
        size = 512 * 1024 * 1024
        path = sparse_file(size)
        try:
            with tempfile.TemporaryDirectory(prefix="iot-tracer-") as d:
                out = os.path.join(d, "o.json")
                p = subprocess.Popen([DRV, "--ringbuf-mb", "1", "--out", out, "--", "dd",
                                      "if=" + path, "of=/dev/null", "bs=4k", "status=none"],
                                     stderr=subprocess.PIPE, text=True)
                # stop the consumer once the traced child runs dd: it execs only after
                # the release, so tracing has started (its mere existence does not say so)
                deadline = time.time() + 20
                released, k = False, None
                while time.time() < deadline and not released:
                    try:
                        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                            kids = f.read().split()
                        for kid in kids:
                            with open("/proc/%s/comm" % kid) as f:
                                if f.read().strip() == "dd":
                                    released, k = True, kid
                    except OSError:
                        pass
                    time.sleep(0.001)
                self.assertTrue(released, "the traced dd never started")
                os.kill(p.pid, signal.SIGSTOP)
                # all of dd's reads happen with nobody draining: until it is a zombie
                deadline = time.time() + 60
                while time.time() < deadline:
                    try:
                        with open("/proc/%s/stat" % k) as f:
                            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                                break
                    except OSError:
                        break
                    time.sleep(0.01)
                os.kill(p.pid, signal.SIGCONT)
                _, err = p.communicate(timeout=120)
                with open(out) as f:
                    res = json.load(f)
        finally:
            os.unlink(path)
        self.assertGreater(res["stats"]["lost_batches"], 0, "the buffer never overflowed")
        self.assertGreater(res["counters"]["lost_events"], 0)
        self.assertGreater(res["counters"]["lost_ns"], 0)
        self.check_sums(res)
        k = [k for k in res["kernel"] if k["tid"] == res["pid"]][0]
        self.assertGreaterEqual(k["bytes"], size)
        t = [t for t in res["timeline"] if t["tid"] == res["pid"]][0]
        self.assertGreater(t["gap_ns"], 0)

    def test_follow_child_processes(self):
        sh = ["sh", "-c", "%s sleep 30 & %s sleep 30; wait" % (WORK, WORK)]
        res, _ = drv(sh, ["--follow"])
        pids = {k["pid"] for k in res["kernel"]}
        self.assertGreaterEqual(len(pids), 3, res["kernel"])
        self.check_sums(res)
        res, _ = drv(sh)
        self.assertEqual({k["pid"] for k in res["kernel"]}, {res["pid"]})

    def test_stacks(self):
        res, _ = drv([WORK, "spin", "2", "300"], ["--stacks", "--hz", "199"])
        s = res["stacks"]
        self.assertTrue(res["stats"]["oncpu_ok"])
        # a stack-map hash collision (-EEXIST) is counted, not retried: rare, never silent
        self.assertLessEqual(res["stats"]["stack_errors"], 1 + 0.02 * s["oncpu_samples"])
        cpu_s = sum(on_cpu(k["states"]) for k in res["kernel"]) / 1e9
        self.assertAlmostEqual(s["oncpu_samples"], 199 * cpu_s, delta=0.3 * 199 * cpu_s + 3)
        self.assertGreater(s["maxdepth"], 0)
        # off-CPU stacks account for the waits the thread was seen entering
        lock = sum(k["states"][STATES.index("lock_wait")] for k in res["kernel"])
        self.assertAlmostEqual(s["offcpu_ns"][STATES.index("lock_wait")], lock, delta=lock * 0.02)

    @unittest.skipUnless(subprocess.run(["sh", "-c", "command -v fio"],
                                        capture_output=True).returncode == 0, "fio not installed")
    def test_io_uring(self):
        size = 16 * 1024 * 1024
        with common.Dataset([size]) as ds:
            fio = ["fio", "--name=u", "--filename=" + ds.files[0], "--rw=read", "--bs=64k",
                   "--ioengine=io_uring", "--iodepth=8", "--size=%d" % size, "--thread",
                   "--output=/dev/null"]
            # O_DIRECT: every byte comes from the device, counted once. A run now and then
            # has requests whose completion no tracer sees (counted at issue since): a few
            # runs, as a single one rarely shows it. Above the file: fio's own cold reads,
            # which after a cache drop (other tests) were 2.6 MiB once: fio runs untraced
            # first, so that its program and libraries are in the page cache.
            subprocess.run(fio + ["--direct=1"], check=True, capture_output=True)
            for _ in range(3):
                res, _ = drv(fio + ["--direct=1"])
                c = res["counters"]
                self.assertTrue(c["uring_ok"])
                self.assertEqual(c["uring_submitted"], size // 65536)
                self.assertEqual(c["uring_completed"], size // 65536)
                self.assertGreaterEqual(c["block_bytes"], size)
                self.assertLessEqual(c["block_bytes"], size + size // 8)
                self.check_sums(res)
            res, _ = drv(fio + ["--force_async=1"])
            c = res["counters"]
            self.assertEqual(c["uring_submitted"], size // 65536)
            self.assertEqual(c["uring_punted"], size // 65536)
            self.assertTrue(any(k["comm"].startswith("iou-wrk") for k in res["kernel"]),
                            "io-wq workers not traced")
            self.check_sums(res)

    @unittest.skipUnless(subprocess.run(["sh", "-c", "command -v fio"],
                                        capture_output=True).returncode == 0, "fio not installed")
    def test_io_uring_direct_beside_other_io(self):
        """fio's io_uring O_DIRECT reads while another process reads the same disk directly
        in 1 MiB requests: whoever runs the hardware queue dispatches both processes'
        requests, so the context of an issue says nothing. Counted by where each request
        started, the block bytes are fio's file plus at most its own start-up page-ins."""
        size = 16 * 1024 * 1024
        with common.Dataset([size, 64 << 20]) as ds:
            fio = ["fio", "--name=u", "--filename=" + ds.files[0], "--rw=read", "--bs=64k",
                   "--ioengine=io_uring", "--iodepth=8", "--size=%d" % size, "--thread",
                   "--direct=1", "--output=/dev/null"]
            bg = subprocess.Popen(["sh", "-c", "while :; do dd if=%s of=/dev/null bs=1M "
                                   "iflag=direct status=none; done" % ds.files[1]],
                                  start_new_session=True)
            try:
                for _ in range(4):
                    res, _ = drv(fio)
                    c = res["counters"]
                    print("\n  block_bytes %d (file %d, %+d)" % (c["block_bytes"], size,
                                                                 c["block_bytes"] - size), end="")
                    self.assertGreaterEqual(c["block_bytes"], size)
                    self.assertLess(c["block_bytes"], size + (1 << 20))
            finally:
                os.killpg(bg.pid, signal.SIGKILL)
                bg.wait()

    def test_sigkill_frees_everything(self):
        p = subprocess.Popen([DRV, "--stacks", "--out", "/dev/null", "--", "sleep", "30"],
                             stderr=subprocess.DEVNULL)
        children = []
        try:
            ids = []
            deadline = time.time() + 20
            while time.time() < deadline and not (ids and children):
                ids = our_prog_ids(p.pid)
                try:
                    with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                        children = [int(x) for x in f.read().split()]
                except OSError:
                    pass
                time.sleep(0.05)
            self.assertTrue(ids, "the driver never loaded its probes")
        finally:
            p.kill()
            p.wait()
            for c in children:  # the traced `sleep`, now orphaned
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 5
        while time.time() < deadline and prog_ids_alive(ids):
            time.sleep(0.1)
        self.assertEqual(prog_ids_alive(ids), [], "probes outlived SIGKILL")

    @unittest.skipUnless(os.environ.get("IOTRACE_BENCH"), "overhead benchmark: IOTRACE_BENCH=1")
    def test_overhead_read_storm(self):
        """dd bs=4k of a warm 512 MiB file, traced vs not; target <= 1.5x.

        Best of 7 each: on a shared VM the noise is other work, which only adds time.
        """
        with common.Dataset([512 * 1024 * 1024]) as ds:
            warm(ds.files[0])
            dd = ["dd", "if=" + ds.files[0], "of=/dev/null", "bs=4k", "status=none"]
            base, traced = [], []
            for _ in range(7):
                base.append(drv(dd, ["--no-trace"])[0]["wall_ns"])
                traced.append(drv(dd)[0]["wall_ns"])
        ratio = min(traced) / min(base)
        print("\n  read storm: best base %.1f ms, traced %.1f ms, ratio %.2f (medians %.1f, %.1f)"
              % (min(base) / 1e6, min(traced) / 1e6, ratio, statistics.median(base) / 1e6,
                 statistics.median(traced) / 1e6))
        self.assertLess(ratio, 1.5)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TracerThroughIotrace(unittest.TestCase):
    """The same checks end to end: `iotrace trace --json`."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(common.IOTRACE):
            raise AssertionError("iotrace is not built: " + common.IOTRACE)
        build_progs()

    def trace(self, cmd, args=()):
        with tempfile.TemporaryDirectory(prefix="iot-tracer-") as d:
            wout = os.path.join(d, "w.txt")
            env = dict(os.environ, TRACER_WORK_OUT=wout)
            p = common.run(["trace", "--json", "-o", os.path.join(d, "out")] + list(args) +
                           ["--"] + list(cmd), env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout)["runs"][0], parse_work(wout)

    def test_states_sum_to_lifetime(self):
        run, _ = self.trace([WORK, "mix"])
        # the command's own threads: children are followed by default, and a sanitized
        # tracer_work's leak check forks a helper process at exit (LeakSanitizer's
        # StopTheWorld), which is traced too
        own = run["processes"][0]["pid"]
        self.assertEqual(len([t for t in run["threads"] if t["pid"] == own]), 5)
        for t in run["threads"]:
            total = sum(t["states_ns"][s] for s in STATES)
            self.assertLessEqual(abs(total - t["lifetime_ns"]), max(1000, t["lifetime_ns"] // 100),
                                 t)
        self.assertEqual(run["lost_events"], 0)

    def test_oncpu_vs_rusage_and_schedstat(self):
        n = max(2, 2 * os.cpu_count())
        msgs = []
        for _ in range(3):  # see TracerAlone.test_oncpu_vs_rusage
            s0 = steal_ns()
            run, work = self.trace([WORK, "spin", str(n), "300"], ["--no-stacks"])
            steal = steal_ns() - s0
            ts = {t["tid"]: t for t in run["threads"]}
            for tid, seen in work["self"].items():
                st = ts[tid]["states_ns"]
                self.assertGreaterEqual(st["compute"] + st["io_cpu"], seen - MS // 2)
            total = sum(ran_summary(t) for t in run["threads"])
            self.assertEqual(run["stolen_ns"], sum(t["stolen_ns"] for t in run["threads"]))
            bad = []
            if abs(total - work["rusage"]) > work["rusage"] * 0.03:
                bad.append("on-CPU less stolen %d vs rusage %d" % (total, work["rusage"]))
            for tid, (oncpu, runq) in work["sched"].items():
                st = ts[tid]["states_ns"]
                if abs(ran_summary(ts[tid]) - oncpu) > 2 * MS + oncpu * 0.03:
                    bad.append("on-CPU less stolen of %d: %d vs %d" % (tid, ran_summary(ts[tid]),
                                                                       oncpu))
                if abs(st["runnable"] - runq) > 3 * MS + runq * 0.05 + steal:
                    bad.append("runnable of %d: %d vs %d" % (tid, st["runnable"], runq))
            if not bad:
                return
            msgs.append("; ".join(bad) + " (steal %d)" % steal)
        self.fail(" / ".join(msgs))

    def test_bytes_read_exact(self):
        size = 4 * 1024 * 1024 + 777
        with common.Dataset([size]) as ds, tempfile.NamedTemporaryFile(
                prefix="iotrace-test-", dir="/var/tmp") as empty:
            dd = ["dd", "of=/dev/null", "bs=4k", "status=none"]
            full, _ = self.trace(dd + ["if=" + ds.files[0]], ["--no-stacks"])
            zero, _ = self.trace(dd + ["if=" + empty.name], ["--no-stacks"])
        self.assertEqual(full["bytes_read"] - zero["bytes_read"], size)
        self.assertEqual(full["reads"] - zero["reads"], math.ceil(size / 4096))

    def test_no_probe_left_after_run(self):
        """The programs this iotrace loaded are gone when it exits (others may run theirs)."""
        with tempfile.TemporaryDirectory(prefix="iot-tracer-") as d:
            p = subprocess.Popen([common.IOTRACE, "trace", "--json", "-o", os.path.join(d, "o"),
                                  "--", WORK, "sleep", "1000"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            ids = []
            deadline = time.time() + 20
            while p.poll() is None and time.time() < deadline:
                # the fullest snapshot: one taken while it loads or detaches holds fewer
                cur = our_prog_ids(p.pid)
                ids = cur if len(cur) > len(ids) else ids
                time.sleep(0.02)
            p.wait(timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertGreaterEqual(len(ids), 7, "did not see iotrace's probes: %s" % ids)
        deadline = time.time() + 5
        while time.time() < deadline and prog_ids_alive(ids):
            time.sleep(0.1)
        self.assertEqual(prog_ids_alive(ids), [])


if __name__ == "__main__":
    unittest.main()
