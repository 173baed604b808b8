"""test_faults.py - every way iotrace can end leaves nothing behind.

Success, an error, SIGINT, SIGTERM, SIGHUP, the workload or command crashing, and iotrace
itself SIGKILLed: afterwards none of the BPF programs that this iotrace held is loaded, no
cgroup or dataset carrying its pid exists, no workload process of it runs, and no mount
was added. After SIGKILL the kernel frees the probes by itself only because they are held
by fds and links, never pinned (checked: nothing under any bpffs mount); the throttled
workload, its cgroup and the dataset go within seconds, removed by iotrace's guardian
process (iotrace-guard); and if the guardian is killed too, the next `iotrace run` sweeps
them. Two runs at once keep their numbers and their clean-up apart.

Everything is matched by this iotrace's pid, so other iotrace processes on the machine
(other tests, other people) are never mistaken for leftovers.
"""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import common

# a throttled cold run long enough to be interrupted: 4 x 16 MiB at 8 MiB/s ~ 8 s
LONG_RUN = ["run", "md5dir", "--files", "4", "--file-size", "16M", "-s", "sync", "--cache",
            "cold", "--throttle", "8M", "--no-color"]


def prog_ids_of(pid):
    return common.bpf_ids_of(pid)


def progs_alive(ids, wait=5.0):
    """Those of ids still loaded, after up to `wait` s for the kernel's deferred frees."""
    deadline = time.time() + wait
    while True:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                             text=True).stdout
        loaded = {p["id"] for p in json.loads(out or "[]")}
        alive = sorted(i for i in ids if i in loaded)
        if not alive or time.time() > deadline:
            return alive
        time.sleep(0.1)


def cgroups_of(pid):
    return [d for p in ("/sys/fs/cgroup/blkio", "/sys/fs/cgroup/unified", "/sys/fs/cgroup")
            for d in glob.glob("%s/iotrace-%d-*" % (p, pid))]


def datasets_of(pid):
    return glob.glob("/var/tmp/iotrace-data-%d-*" % pid)


def descendants(pid, guardian=False):
    """All processes below pid (by /proc/*/stat ppid): the workload's, or (guardian=True)
    iotrace's clean-up guardian only."""
    kids = {}
    for st in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(st) as f:
                s = f.read()
            comm, w = s[s.find("(") + 1:s.rfind(")")], s.rsplit(")", 1)[1].split()
            if (comm == "iotrace-guard") == guardian:
                kids.setdefault(int(w[1]), []).append(int(st.split("/")[2]))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def gone_within(what, seconds):
    """Poll what() (a list of things still there) until it is empty or the deadline passes;
    return what is left then."""
    deadline = time.time() + seconds
    while True:
        left = what()
        if not left or time.time() > deadline:
            return left
        time.sleep(0.02)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def mounts():
    with open("/proc/self/mountinfo") as f:
        return {" ".join(line.split()[3:5]) for line in f}


def bpffs_pins():
    """Everything pinned under any bpffs mount whose name says iotrace."""
    pins = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            w = line.split()
            if " - bpf " in line:
                for root, dirs, files in os.walk(w[4]):
                    pins += [os.path.join(root, n) for n in dirs + files if "iot" in n]
    return pins


class Iotrace:
    """iotrace in the background; `until` waits for a line on its stderr (the probes are
    attached once 'running' is printed), remembering the programs it holds then."""

    def __init__(self, args, session=False):
        self.p = subprocess.Popen([common.IOTRACE] + list(args), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=session)
        self.err = []
        self.progs = set()
        self.kids = []

    def until(self, word, timeout=60):
        deadline = time.time() + timeout
        for line in self.p.stderr:
            self.err.append(line)
            if word in line:
                break
            if time.time() > deadline:
                break
        self.progs = prog_ids_of(self.p.pid)
        # "running X..." comes just before the workload is spawned: wait for it to be
        deadline = time.time() + 20
        self.kids = descendants(self.p.pid)
        while not self.kids and self.p.poll() is None and time.time() < deadline:
            time.sleep(0.01)
            self.kids = descendants(self.p.pid)

    def finish(self, timeout=120):
        out, err = self.p.communicate(timeout=timeout)
        self.err.append(err)
        return self.p.returncode, out, "".join(self.err)


class Faults(unittest.TestCase):
    def setUp(self):
        self.mounts = mounts()

    def assertNothingLeft(self, it):
        pid = it.p.pid
        self.assertTrue(it.progs, "never saw the probes attached")
        self.assertEqual(progs_alive(it.progs), [], "BPF programs outlived iotrace")
        self.assertEqual(cgroups_of(pid), [])
        self.assertEqual(datasets_of(pid), [])
        deadline = time.time() + 5
        while any(alive(k) for k in it.kids) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual([k for k in it.kids if alive(k)], [], "workload processes left")
        self.assertEqual(mounts() - self.mounts, set(), "mounts added")
        self.assertEqual(bpffs_pins(), [])

    def test_success(self):
        with tempfile.TemporaryDirectory() as d:
            it = Iotrace(["run", "md5dir", "--files", "2", "--file-size", "1M", "-s", "sync",
                          "--cache", "warm", "--throttle", "1G", "-o", os.path.join(d, "o")])
            it.until("running")
            rc, out, err = it.finish()
            self.assertEqual(rc, 0, err)
            self.assertNothingLeft(it)

    def test_error_exit(self):
        """An error after the probes attached: the report folder cannot be written."""
        it = Iotrace(["run", "md5dir", "--files", "2", "--file-size", "1M", "-s", "sync",
                      "--cache", "warm", "--throttle", "1G", "-o", "/proc/iotrace-nope/out"])
        it.until("running")
        rc, out, err = it.finish()
        self.assertEqual(rc, 1, err)
        self.assertIn("/proc/iotrace-nope/out", err)
        self.assertNothingLeft(it)

    def _signal_run(self, sig, code):
        with tempfile.TemporaryDirectory() as d:
            it = Iotrace(LONG_RUN + ["-o", os.path.join(d, "out")])
            it.until("running")
            self.assertTrue(cgroups_of(it.p.pid), "the throttled run made no cgroup")
            self.assertTrue(datasets_of(it.p.pid))
            time.sleep(0.5)
            it.p.send_signal(sig)
            rc, out, err = it.finish()
            self.assertEqual(rc, code, err)
            # the partial report is written
            self.assertTrue(os.path.exists(os.path.join(d, "out", "summary.json")), err)
            self.assertNothingLeft(it)

    def test_sigint(self):
        self._signal_run(signal.SIGINT, 130)

    def test_sigterm(self):
        self._signal_run(signal.SIGTERM, 143)

    def test_sighup(self):
        self._signal_run(signal.SIGHUP, 129)

    def test_trace_signals(self):
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)):
            with tempfile.TemporaryDirectory() as d:
                mark = os.path.join(d, "started")
                it = Iotrace(["trace", "-o", os.path.join(d, "out"), "--", sys.executable,
                              "-c", "import time; open(%r, 'w').close(); time.sleep(60)" %
                              mark])
                deadline = time.time() + 30
                while not os.path.exists(mark) and time.time() < deadline:
                    time.sleep(0.02)
                it.progs = prog_ids_of(it.p.pid)
                it.kids = descendants(it.p.pid)
                it.p.send_signal(sig)
                rc, out, err = it.finish()
                # interrupted trace: iotrace's own code, or the command's if it was killed first
                self.assertIn(rc, (code, 128 + sig), err)
                self.assertNothingLeft(it)

    def test_command_crashes(self):
        with tempfile.TemporaryDirectory() as d:
            it = Iotrace(["trace", "-o", os.path.join(d, "out"), "--", sys.executable, "-c",
                          "import os, signal, time; time.sleep(0.3); "
                          "os.kill(os.getpid(), signal.SIGSEGV)"])
            time.sleep(0.2)
            it.progs = prog_ids_of(it.p.pid)
            it.kids = descendants(it.p.pid)
            rc, out, err = it.finish()
            self.assertEqual(rc, 128 + signal.SIGSEGV, err)
            self.assertNothingLeft(it)

    def test_workload_crashes(self):
        """md5dir's child killed by a signal mid-run: reported, cleaned up."""
        with tempfile.TemporaryDirectory() as d:
            it = Iotrace(LONG_RUN + ["-o", os.path.join(d, "out")])
            it.until("running")
            kids = [k for k in it.kids if alive(k)]
            self.assertTrue(kids, "no workload process")
            time.sleep(0.3)
            for k in kids:
                os.kill(k, signal.SIGSEGV)
            rc, out, err = it.finish()
            self.assertEqual(rc, 1, err)
            self.assertIn("signal", err)
            self.assertNothingLeft(it)

    def test_sigkill_leaves_nothing(self):
        """iotrace SIGKILLed mid-way through a throttled run: within 5 s its workload is
        dead, its cgroup and dataset removed (by the guardian, which then exits)."""
        it = Iotrace(LONG_RUN + ["-o", tempfile.mkdtemp()])
        it.until("running")
        pid = it.p.pid
        self.assertTrue(it.progs)
        self.assertTrue(cgroups_of(pid) and datasets_of(pid))
        guard = descendants(pid, guardian=True)
        self.assertEqual(len(guard), 1, "no guardian process")
        kids = [k for k in it.kids if alive(k)]
        self.assertTrue(kids, "no workload process")
        time.sleep(0.3)
        it.p.kill()
        it.p.wait()
        t0 = time.time()
        self.assertEqual(gone_within(lambda: [k for k in kids if alive(k)], 5), [],
                         "the workload outlived iotrace")
        self.assertEqual(gone_within(lambda: cgroups_of(pid), 5 - (time.time() - t0)), [])
        self.assertEqual(gone_within(lambda: datasets_of(pid), 5 - (time.time() - t0)), [])
        self.assertEqual(gone_within(lambda: [g for g in guard if alive(g)],
                                     5 - (time.time() - t0)), [], "the guardian stayed")
        self.assertEqual(progs_alive(it.progs), [], "probes outlived a SIGKILLed iotrace")
        self.assertEqual(bpffs_pins(), [])
        self.assertEqual(mounts() - self.mounts, set())

    def test_sigkill_with_guardian_then_next_run_sweeps(self):
        """iotrace and its guardian both SIGKILLed (the whole process group): what they
        left is swept by the next run."""
        it = Iotrace(LONG_RUN + ["-o", tempfile.mkdtemp()], session=True)
        it.until("running")
        pid = it.p.pid
        self.assertTrue(it.progs)
        left_cg, left_ds = cgroups_of(pid), datasets_of(pid)
        self.assertTrue(left_cg and left_ds)
        time.sleep(0.3)
        os.killpg(pid, signal.SIGKILL)
        it.p.wait()
        # the kernel freed the probes: they were held by fds and links only
        self.assertEqual(progs_alive(it.progs), [], "probes outlived a SIGKILLed iotrace")
        self.assertEqual(bpffs_pins(), [])
        self.assertEqual(gone_within(lambda: [k for k in it.kids if alive(k)], 5), [],
                         "the workload outlived iotrace")
        # what only iotrace (or its guardian) could remove is still there...
        self.assertTrue(cgroups_of(pid) or datasets_of(pid))
        # ...until the next run sweeps it
        with tempfile.TemporaryDirectory() as d:
            p = common.run(["run", "md5dir", "--files", "1", "--file-size", "64K", "-s", "sync",
                            "--cache", "warm", "-o", os.path.join(d, "out")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(cgroups_of(pid), [], p.stderr)
        self.assertEqual(datasets_of(pid), [], p.stderr)
        self.assertEqual(mounts() - self.mounts, set())

    def test_two_runs_at_once(self):
        """A long run A; meanwhile B runs (and sweeps) and C traces md5sum. A's dataset and
        cgroup survive B's sweep, each run sees only its own threads, and A's counts equal
        those of the same run alone."""
        args = ["run", "md5dir", "--files", "4", "--file-size", "8M", "-s", "sync", "--cache",
                "cold", "--throttle", "16M", "--json"]
        with tempfile.TemporaryDirectory() as d:
            solo = common.run(args + ["-o", os.path.join(d, "solo")])
            self.assertEqual(solo.returncode, 0, solo.stderr)
            solo = json.loads(solo.stdout)["runs"][0]
            a = Iotrace(args + ["-o", os.path.join(d, "a")])
            time.sleep(0.2)
            a.progs = prog_ids_of(a.p.pid)
            with common.Dataset([4 << 20, 4 << 20]) as ds:
                b = common.run(["run", "md5dir", ds.dir, "-s", "sync,threads", "--cache", "warm",
                                "--json", "-o", os.path.join(d, "b")])
                c = common.run(["trace", "--json", "-o", os.path.join(d, "c"), "--", "md5sum"] +
                               ds.files)
                self.assertTrue(datasets_of(a.p.pid), "B swept the dataset of a live run")
                self.assertTrue(cgroups_of(a.p.pid), "B swept the cgroup of a live run")
            rc, out, err = a.finish()
            self.assertEqual(rc, 0, err)
            self.assertEqual(b.returncode, 0, b.stderr)
            self.assertEqual(c.returncode, 0, c.stderr)
            ra = json.loads(out)["runs"][0]
            rb = json.loads(b.stdout)["runs"]
            rc_ = json.loads(c.stdout[c.stdout.find("{\n"):])["runs"][0]
            self.assertTrue(all(t["comm"].startswith("iot-") for t in ra["threads"]))
            self.assertFalse(any(t["comm"] == "md5sum" for t in ra["threads"]))
            for r in rb:
                self.assertTrue(all(t["comm"].startswith("iot-") for t in r["threads"]))
                self.assertLess(r["bytes_read"], (8 << 20) + (1 << 20))
            self.assertEqual({t["comm"] for t in rc_["threads"]}, {"md5sum"})
            self.assertEqual(ra["bytes_read"], solo["bytes_read"])
            self.assertEqual(ra["reads"], solo["reads"])
            self.assertEqual(len(ra["threads"]), len(solo["threads"]))
            a.kids = []
            self.assertNothingLeft(a)


if __name__ == "__main__":
    unittest.main()
