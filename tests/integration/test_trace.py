"""test_trace.py - `iotrace trace` on real programs nobody here wrote, checked against their own
figures: coreutils md5sum, CPython with threads, fio (psync and io_uring), a shell pipeline
under --follow, a running process under -p; and what happens on bad input and signals.

The independent sources: md5sum's digests, fio's JSON report (bytes and I/O counts), the
kernel's rusage of the launched command, file sizes. Runs are shared per class (setUpClass)
and kept small: the whole module runs in well under a minute.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import common
import runlib
from test_tracer import PROGS, build_progs

HERE = os.path.dirname(os.path.abspath(__file__))
HASH_THREADS = os.path.join(HERE, "progs", "hash_threads.py")
DIGEST_LINE = re.compile(r"^([0-9a-f]{32})  (/.+)$", re.M)
# iotrace's own exit codes (user/cli.h)
EXIT_INPUT = 5
# md5sum and friends read no locale files, so runs differ only by what they read on purpose
ENV = dict(os.environ, LC_ALL="C")


python3 = runlib.python3


def steal_ns():
    """Hypervisor steal time so far (/proc/stat). The kernel leaves it out of a task's
    rusage but sched_switch times include it (see test_tracer.steal_ns)."""
    with open("/proc/stat") as f:
        w = f.readline().split()
    return int(w[8]) * 1000000000 // os.sysconf("SC_CLK_TCK") if len(w) > 8 else 0


def oncpu(states):
    return states["compute"] + states["io_cpu"]


def summary(outdir):
    with open(os.path.join(outdir, "summary.json")) as f:
        return json.load(f)


def our_prog_ids(pid):
    return sorted(common.bpf_ids_of(pid))


def holds_bpf(pid):
    """Has process pid opened any BPF object yet (it is loading its probes)?"""
    d = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(d):
            try:
                if os.readlink(os.path.join(d, fd)).startswith("anon_inode:bpf"):
                    return True
            except OSError:
                pass
    except OSError:
        pass
    return False


def loaded_iot_progs():
    """{id: name} of the iot_ programs loaded now."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    return {p["id"]: p["name"] for p in json.loads(out.stdout or "[]")
            if p.get("name", "").startswith("iot_")}


def orphaned_iot_progs(settle=2.0):
    """iot_ programs still loaded that no live process holds: what a run left behind.

    Other iotrace processes on the machine (other tests, other users) may hold theirs:
    those are not leaks. A program seen unheld once may be one being loaded or freed at
    that instant, so only those unheld throughout `settle` seconds count.
    """
    if shutil.which("bpftool") is None or not common.bpf_programs_left():
        return []
    suspects = None
    deadline = time.time() + settle
    while True:
        ids = loaded_iot_progs()
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                for i in our_prog_ids(int(pid)):
                    ids.pop(i, None)
        suspects = ids if suspects is None else {i: n for i, n in ids.items() if i in suspects}
        if not suspects or time.time() > deadline:
            return sorted(suspects.values())
        time.sleep(0.2)


def progs_gone(ids, timeout=5):
    """Wait until none of the program ids is loaded; returns those still loaded."""
    deadline = time.time() + timeout
    while True:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
        alive = [i for i in ids if i in {p["id"] for p in json.loads(out.stdout or "[]")}]
        if not alive or time.time() > deadline:
            return alive
        time.sleep(0.05)


def trace(args, cmd=None, outdir=None, timeout=120, env=ENV):
    """iotrace trace ARGS [-- CMD]; returns (CompletedProcess, summary dict or None)."""
    a = ["trace", "--no-color"] + list(args)
    if outdir:
        a += ["-o", outdir]
    if cmd is not None:
        a += ["--"] + list(cmd)
    p = common.run(a, timeout=timeout, env=env)
    s = None
    if outdir and os.path.exists(os.path.join(outdir, "summary.json")):
        s = summary(outdir)
    return p, s


def kill_quietly(proc):
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


READ_LOOP = """
import os, sys, time
path, marker = sys.argv[1], sys.argv[2]
n = 0
while True:
    with open(path, "rb") as f:
        while f.read(65536):
            pass
    n += 1
    if n == 1 and marker != "-":
        with open(marker + ".tmp", "w") as m:
            m.write(str(os.getpid()))
        os.rename(marker + ".tmp", marker)
    time.sleep(0.01)
"""


def wait_for(pred, timeout=20, step=0.01):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TraceRealPrograms(common.TmpDirCase):
    """md5sum, CPython threads, fio and a --follow pipeline over one shared dataset."""

    TMP_PREFIX = "iot-trace-"

    NFILES, SIZE = 8, 4 << 20

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(common.IOTRACE):
            raise AssertionError("iotrace is not built: " + common.IOTRACE)
        super().setUpClass()
        cls.ds = common.Dataset([cls.SIZE] * cls.NFILES)
        cls.addClassCleanup(cls.ds.remove)
        cls.expect = {os.path.join(cls.ds.dir, k): v for k, v in cls.ds.md5sum().items()}
        # the empty file: the same program's reads of its own libraries, as a baseline
        cls.empty = os.path.join(cls.ds.dir, "empty")
        open(cls.empty, "w").close()
        cls.warm()

    @classmethod
    def warm(cls):
        for p in cls.ds.files:
            with open(p, "rb") as f:
                while f.read(1 << 20):
                    pass

    # ---- coreutils md5sum ----

    def test_md5sum_bytes_and_page_cache(self):
        """bytes_read is exactly the dataset (beyond what md5sum of an empty file reads),
        the warm run's verdict names the page cache, and the exit status is md5sum's."""
        self.warm()
        p, s = trace(["--no-stacks", "--json"], ["md5sum"] + self.ds.files, self.out("md5"))
        self.assertEqual(p.returncode, 0, p.stderr)
        # --json: stdout is the summary alone; md5sum's own output went to stderr
        self.assertEqual(json.loads(p.stdout), s)
        self.assertEqual(dict((b, a) for a, b in DIGEST_LINE.findall(p.stderr)), self.expect)
        p0, s0 = trace(["--no-stacks"], ["md5sum", self.empty], self.out("md5-empty"))
        self.assertEqual(p0.returncode, 0, p0.stderr)
        run, base = s["runs"][0], s0["runs"][0]
        self.assertEqual(s["workload"], "trace")
        self.assertEqual(s["command"], ["md5sum"] + self.ds.files)
        self.assertEqual(run["label"], "md5sum")
        self.assertEqual(run["exit_status"], 0)
        self.assertIsNone(run["resident_before"])  # nobody prepared the files: unknown
        self.assertEqual(run["bytes_read"] - base["bytes_read"], self.ds.size())
        self.assertEqual(run["lost_events"], 0)
        rules = [v["rule"] for v in run["verdict"]]
        self.assertIn("page_cache", rules, run["verdict"])
        self.assertIn("page cache", run["headline"])
        self.assertNotIn("python_gil", rules)
        # a trace has nothing to be compared with: no "speedup unavailable" noise
        self.assertNotIn("sync", run["headline"])

    # ---- CPython, one thread per file ----

    @classmethod
    def py_runs(cls):
        """The threaded and the single-threaded run of hash_threads.py, made once."""
        if not hasattr(cls, "_py"):
            cls.warm()
            res = {}
            for mode in ("threads", "sync"):
                out = os.path.join(cls.tmp, "py-" + mode)
                p, s = trace(["--no-stacks", "--label", mode],
                             [python3(), HASH_THREADS, "--" + mode, cls.ds.dir], out)
                res[mode] = (p, s, out)
            cls._py = res
        return cls._py

    def test_python_threads_digests_and_gil(self):
        for mode, (p, s, _) in self.py_runs().items():
            self.assertEqual(p.returncode, 0, mode + ": " + p.stderr)
            got = {b: a for a, b in DIGEST_LINE.findall(p.stdout)}
            got.pop(self.empty, None)
            self.assertEqual(got, self.expect, mode)
        p, s, _ = self.py_runs()["threads"]
        run = s["runs"][0]
        py = [t for t in run["threads"] if t["comm"].startswith("python")]
        workers = [t for t in py if t["tid"] != t["pid"]]
        self.assertGreaterEqual(len(workers), self.NFILES, [t["comm"] for t in run["threads"]])
        # the GIL: workers wait for it in futex, which the time model calls lock_wait
        self.assertGreater(sum(t["states_ns"]["lock_wait"] for t in workers), 0, workers)
        self.assertGreater(run["states_ns"]["lock_wait"], 0)
        notes = [v["text"] for v in run["verdict"] if v["rule"] == "python_gil"]
        self.assertEqual(len(notes), 1, run["verdict"])
        for words in ("python", "GIL", "lock_wait", "futex"):
            self.assertIn(words, notes[0])
        self.assertIn("python_gil", [v["rule"] for v in self.py_runs()["sync"][1]["runs"][0]
                                      ["verdict"]])
        # and the terminal report says it, among the findings of -v
        v = common.run(["report", "-v", "--no-color", self.py_runs()["threads"][2], "-o",
                        os.path.join(self.tmp, "py-threads-v")])
        self.assertEqual(v.returncode, 0, v.stderr)
        # with the wait kinds the note gives the GIL's own part of lock_wait, not all of it
        self.assertIn("was for the interpreter lock, the GIL", v.stdout)
        self.assertIn("python_gil", [x["rule"] for x in run["verdict"]])
        if run.get("lock_wait_by_kind_ns"):
            k = run["lock_wait_by_kind_ns"]
            self.assertEqual(sum(k.values()), run["states_ns"]["lock_wait"], k)

    def test_report_compares_two_traces(self):
        """`iotrace report A B`: one table with both runs, each with its own figures."""
        runs = self.py_runs()
        a, b = runs["threads"][2], runs["sync"][2]
        r = common.run(["report", "--json", a, b])
        self.assertEqual(r.returncode, 0, r.stderr)
        both = json.loads(r.stdout)
        self.assertEqual([x["label"] for x in both["runs"]], ["py-threads:threads",
                                                               "py-sync:sync"])
        for got, src in zip(both["runs"], (runs["threads"][1], runs["sync"][1])):
            for k in ("wall_ns", "states_ns", "bytes_read", "reads", "verdict", "rusage"):
                self.assertEqual(got[k], src["runs"][0][k], k)
        t = common.run(["report", "--no-color", a, b])
        self.assertEqual(t.returncode, 0, t.stderr)
        self.assertIn("py-threads:threads", t.stdout)
        self.assertIn("py-sync:sync", t.stdout)
        # and one trace folder re-renders to the same summary.json, byte for byte
        again = os.path.join(self.tmp, "py-again")
        r = common.run(["report", a, "-o", again])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(a, "summary.json"), "rb") as f1, \
                open(os.path.join(again, "summary.json"), "rb") as f2:
            self.assertEqual(f1.read(), f2.read())

    # ---- fio ----

    def fio(self, engine, extra=(), cached=True):
        """fio reading a 64 MiB file (4 KiB blocks: 16384 requests) under iotrace with no
        option (fio runs each job in a process of its own, which iotrace follows by
        default); cached=False: fio drops the file's pages first (its default). Returns
        (fio's read stats, run, job process's threads); the job's process entry is
        self.job_proc."""
        if shutil.which("fio") is None:
            self.skipTest("fio is not installed (Debian package fio)")
        if not hasattr(type(self), "_fio_file"):
            ds = common.Dataset([64 << 20])
            self.addClassCleanup(ds.remove)
            type(self)._fio_file = ds.files[0]
        path = self._fio_file
        if not cached:
            # written back first: dirty pages are not dropped (fio's fadvise DONTNEED)
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        tag = engine + ("" if cached else "-cold")
        fio_json = self.out("fio-%s.json" % tag)
        # invalidate=0: keep the file cached (the counts do not depend on it; time does)
        cmd = ["fio", "--name=r", "--filename=" + path, "--rw=read", "--bs=4k",
               "--size=64M", "--invalidate=%d" % (not cached), "--ioengine=" + engine,
               "--output-format=json", "--output=" + fio_json] + list(extra)
        p, s = trace([], cmd, self.out("fio-" + tag))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(fio_json) as f:
            rd = json.load(f)["jobs"][0]["read"]
        self.assertEqual(rd["io_bytes"], 64 << 20)
        run = s["runs"][0]
        root = min(t["pid"] for t in run["threads"])
        job = [t for t in run["threads"] if t["pid"] != root and t["comm"] == "fio"]
        self.assertTrue(job, "fio's job process was not traced: %s" % run["threads"])
        procs = [x for x in run["processes"] if x["pid"] == job[0]["pid"]]
        self.assertEqual(len(procs), 1, run["processes"])
        self.job_proc = procs[0]
        return rd, run, job

    def near(self, ours, theirs, what):
        print("\n  %s: iotrace %d, fio %d (%+.3f%%)" % (what, ours, theirs,
                                                    100.0 * (ours - theirs) / theirs), end="")
        self.assertLessEqual(abs(ours - theirs), theirs * 0.01,
                             "%s: iotrace %d vs fio %d (%.2f%%)" %
                             (what, ours, theirs, 100.0 * (ours - theirs) / theirs))

    def test_fio_psync(self):
        rd, run, job = self.fio("psync")
        # fio's job process made the reads fio reports; the whole run adds fio's set-up
        self.near(sum(t["reads"] for t in job), rd["total_ios"], "job process reads")
        self.near(sum(t["bytes_read"] for t in job), rd["io_bytes"], "job process bytes")
        self.near(self.job_proc["reads"], rd["total_ios"], "job process entry's reads")
        self.near(self.job_proc["bytes_read"], rd["io_bytes"], "job process entry's bytes")
        self.near(run["reads"], rd["total_ios"], "reads")
        self.near(run["bytes_read"], rd["io_bytes"], "bytes_read")
        self.assertEqual(run["uring"]["completed"], 0)
        # fio's helper thread waits in pselect6 on its own process's pipe, which the main
        # thread writes to at the end: no peer (the parent sleeps, the job waits on a
        # condvar meanwhile); it was 'Waiting on pipes or sockets held 29-43% of the wall'
        pk = run["poll_wait_by_kind_ns"]
        print("\n  fio psync: poll_wait by kind %s, bounds %s" % (pk, run["bound_ns"]), end="")
        self.assertEqual(pk["pipe"] + pk["socket"], 0, pk)
        self.assertGreater(pk["own_process"], 0, pk)
        self.assertLessEqual(run["bound_ns"]["peer"], 0.01 * run["wall_ns"], run["bound_ns"])
        self.assertFalse([v for v in run["verdict"] if v["rule"] == "peer"], run["verdict"])

    def test_fio_io_uring(self):
        """Plain io_uring submission (fio's defaults: no SQPOLL thread, no registered files
        or buffers): every request passes the io_uring_submit_req / io_uring_complete
        tracepoints, and with the file cached each completes inline."""
        rd, run, job = self.fio("io_uring", ["--iodepth=8"])
        self.near(run["uring"]["submitted"], rd["total_ios"], "io_uring submissions")
        self.near(run["uring"]["completed"], rd["total_ios"], "io_uring completions")
        # summary-schema.md: reads and bytes_read count io_uring read completions too,
        # and the thread that submitted them (and its process) made them
        self.near(run["reads"], rd["total_ios"], "reads (io_uring completions)")
        self.near(run["bytes_read"], rd["io_bytes"], "bytes_read (io_uring completions)")
        self.near(sum(t["reads"] for t in job), rd["total_ios"], "job process reads")
        self.near(sum(t["bytes_read"] for t in job), rd["io_bytes"], "job process bytes")
        self.near(self.job_proc["reads"], rd["total_ios"], "job process entry's reads")
        self.near(self.job_proc["bytes_read"], rd["io_bytes"], "job process entry's bytes")

    def test_fio_io_uring_waits_are_file_waits(self):
        """fio io_uring on a file whose pages fio dropped (its default, --invalidate=1),
        with no readahead (FADV_RANDOM: every read goes to the disk): the job waits in
        io_uring_enter for reads of a regular file, so its io_wait is `file` (the
        request's file is looked up from its fd at submission: the kernel gives the
        request its file only when it issues it), and the bytes are the job's."""
        rd, run, job = self.fio("io_uring", ["--iodepth=8", "--fadvise_hint=random"],
                                cached=False)
        self.near(self.job_proc["bytes_read"], rd["io_bytes"], "job process entry's bytes")
        iow = {}
        for t in job:
            for k, ns in (t.get("io_wait_by_kind_ns") or {}).items():
                iow[k] = iow.get(k, 0) + ns
        total = sum(t["states_ns"]["io_wait"] for t in job)
        print("\n  job io_wait %.2f ms by kind %s" % (total / 1e6, iow), end="")
        self.assertGreater(total, 0, "the job never waited for its reads: %s" % job)
        self.assertEqual(sum(iow.values()), total, iow)
        self.assertGreaterEqual(iow["file"], 0.9 * total, iow)
        # the run's lines are the whole program's (its parent's start-up computing leads):
        # a note says the job did the reading, and where its time went
        notes = [v["text"] for v in run["verdict"] if v["rule"] == "reader"]
        self.assertEqual(len(notes), 1, run["verdict"])
        self.assertIn("The reading was pid %d (fio)'s: 64.0 MiB" % job[0]["pid"], notes[0])
        self.assertRegex(notes[0], r"reading [0-9.]+ m?s \([0-9.]+ m?s on CPU, [0-9.]+ [mµ]?s "
                         r"waiting ([<>]?[0-9.]+% )?for files\)")

    # ---- a shell pipeline: processes followed by default ----

    def test_shell_pipeline_processes(self):
        """sh -c 'cat FILE | md5sum': three processes with their parents, command lines
        (read at exec by the probes) and exit statuses; cat reads the file, md5sum reads as
        much from the pipe; the processes add up to the run; the folder re-renders alike."""
        self.warm()
        f = self.ds.files[0]
        out = self.out("pipeline")
        p, s = trace(["--no-stacks", "-v"], ["sh", "-c", "cat %s | md5sum" % f], out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(self.expect[f] + "  -", p.stdout)
        run = s["runs"][0]
        procs = run["processes"]
        self.assertEqual([x["comm"] for x in procs[:1]], ["sh"])
        by = {x["comm"]: x for x in procs}
        self.assertEqual(set(by), {"sh", "cat", "md5sum"}, procs)
        sh = by["sh"]
        self.assertEqual(sh["cmdline"], "sh -c cat %s | md5sum" % f)
        self.assertFalse(sh["before_trace"])
        self.assertEqual(by["cat"]["cmdline"], "cat " + f)
        self.assertEqual(by["md5sum"]["cmdline"], "md5sum")
        for x in procs:
            self.assertEqual(x["exit_status"], 0, x)
            self.assertIsNotNone(x["end_ns"], x)
            self.assertLessEqual(x["start_ns"], x["end_ns"])
            self.assertLessEqual(x["end_ns"], run["wall_ns"])
            self.assertEqual(x["threads"], 1, x)
            self.assertFalse(x["setuid"])
            if x is not sh:
                self.assertEqual(x["parent"], sh["pid"], x)
        # the file through cat, then the same bytes through the pipe
        self.assertGreaterEqual(by["cat"]["bytes_read"], self.SIZE)
        self.assertLess(by["cat"]["bytes_read"], self.SIZE + (1 << 20))
        self.assertGreaterEqual(by["md5sum"]["bytes_read"], self.SIZE)
        self.assertLess(by["md5sum"]["bytes_read"], self.SIZE + (1 << 20))
        for k in run["states_ns"]:
            self.assertEqual(sum(x["states_ns"][k] for x in procs), run["states_ns"][k], k)
        self.assertEqual(sum(x["bytes_read"] for x in procs),
                         sum(t["bytes_read"] for t in run["threads"]))
        self.assertRegex(p.stdout, r"pid +parent +start +end +exit +threads")  # -v
        # md5sum reads only its stdin: what it waited for was the pipe from cat, and the
        # reports say so (-v: its thread's io_wait cell, the waits line; report.html)
        md = [t for t in run["threads"] if t["comm"] == "md5sum"]
        kinds = {}
        for t in md:
            for k, ns in (t.get("io_wait_by_kind_ns") or {}).items():
                kinds[k] = kinds.get(k, 0) + ns
        self.assertGreaterEqual(kinds.get("pipe", 0), kinds.get("file", 0), kinds)
        if kinds.get("pipe"):
            self.assertRegex(p.stdout, r"\n +main +md5sum +\d+ .* pipe ")
            self.assertRegex(p.stdout, r"waits: io_wait [^;\n]*pipe ")
            with open(os.path.join(out, "report.html")) as h:
                self.assertIn('data-kind="io_wait pipe"', h.read())
        self.assertNotIn("visibility", [v["rule"] for v in run["verdict"]])
        again = self.out("pipeline-again")
        r = common.run(["report", out, "-o", again])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "summary.json"), "rb") as f1, \
                open(os.path.join(again, "summary.json"), "rb") as f2:
            self.assertEqual(f1.read(), f2.read())
        with open(os.path.join(out, "report.html")) as h:
            html = h.read()
        for x in procs:
            self.assertIn(">%d<" % x["pid"], html)
        self.assertIn("cat " + f, html)
        # the default output lists them too, in short: pid, parent, times, exit, on CPU,
        # bytes read, command line
        d = common.run(["report", "--no-color", out])
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertIn("\n3 processes\n", d.stdout)
        self.assertRegex(d.stdout, r"pid +parent +start +end +exit +threads +on CPU +read +command")
        for x in procs:
            self.assertRegex(d.stdout, r"\n +%d +%d .* 0 +1 .*%s.*\n" % (
                x["pid"], x["parent"], re.escape(x["cmdline"][:37])))

    def test_no_follow(self):
        """--no-follow: the shell alone, none of md5sum's reads; by default, md5sum too."""
        f = self.ds.files[0]
        cmd = ["sh", "-c", "md5sum %s; true" % f]
        for follow in (False, True):
            p, s = trace(["--no-stacks"] + ([] if follow else ["--no-follow"]), cmd,
                         self.out("nofollow-%d" % follow))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(self.expect[f], p.stdout)
            run = s["runs"][0]
            comms = [x["comm"] for x in run["processes"]]
            self.assertEqual(comms, ["sh", "md5sum"] if follow else ["sh"])
            self.assertEqual({t["pid"] for t in run["threads"]},
                             {x["pid"] for x in run["processes"]})
            if follow:
                self.assertGreaterEqual(run["bytes_read"], self.SIZE)
            else:
                self.assertLess(run["bytes_read"], self.SIZE)

    # ---- --follow over a pipeline ----

    def test_follow_xargs_md5sum(self):
        """Both md5sum processes appear, and the whole's on-CPU time agrees with the
        launched shell's rusage (wait4: it and the descendants it reaped) within 3%, less
        the set-up before release (setup_ns; a command has no exit_ns: its exit is its own)."""
        self.warm()
        cmd = ["sh", "-c", "ls -1 %s/f* | xargs -n4 -P2 md5sum" % self.ds.dir]
        msgs = []
        for _ in range(3):  # a loaded VM skews one side now and then: see steal_ns
            s0 = steal_ns()
            p, s = trace(["--no-stacks", "--follow", "-v"], cmd, self.out("follow"))
            steal = steal_ns() - s0
            self.assertEqual(p.returncode, 0, p.stderr)
            got = {b: a for a, b in DIGEST_LINE.findall(p.stdout)}
            self.assertEqual(got, self.expect)
            run = s["runs"][0]
            md5 = [t for t in run["threads"] if t["comm"] == "md5sum"]
            self.assertEqual(len({t["pid"] for t in md5}), 2, run["threads"])
            for t in md5:
                self.assertGreaterEqual(t["bytes_read"], 4 * self.SIZE, t)
            self.assertEqual({t["comm"] for t in run["threads"]} >= {"sh", "xargs", "md5sum"},
                             True, run["threads"])
            # the terminal report (-v: with the thread table) tells the processes apart
            self.assertRegex(p.stdout, r"role +comm +pid +tid")
            self.assertIsNotNone(run["rusage"], "summary.json has no rusage for the run")
            self.assertIsNotNone(run["rusage"]["setup_ns"])
            self.assertIsNone(run["rusage"]["exit_ns"])
            ru = runlib.rusage_in_window(run["rusage"])
            self.assertEqual(sum(oncpu(t["states_ns"]) for t in run["threads"]),
                             oncpu(run["states_ns"]))
            self.assertEqual(sum(t["stolen_ns"] for t in run["threads"]), run["stolen_ns"])
            # steal is not the processes' run time: iotrace measures it, no allowance made
            total = runlib.ran(run)
            print("\n  follow: on-CPU less stolen %.1f ms, rusage %.1f ms (%+.2f%%), stolen "
                  "%.1f ms, machine's steal %.1f ms" % (total / 1e6, ru / 1e6,
                  100.0 * (total - ru) / ru, run["stolen_ns"] / 1e6, steal / 1e6), end="")
            if abs(total - ru) <= ru * 0.03:
                return
            msgs.append("on-CPU less stolen %d vs rusage %d (%.1f%%, stolen %d, steal %d)" %
                        (total, ru, 100.0 * (total - ru) / ru, run["stolen_ns"], steal))
        self.fail(" / ".join(msgs))


evict = common.evict


def resident(path):
    """Bytes of path in the page cache, from util-linux fincore (mincore): independent."""
    out = subprocess.run(["fincore", "-b", "-n", "-o", "RES", path], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[0])


MAP_AND_READ = """
import mmap, subprocess, sys
cold, warm, cold_cat = sys.argv[1:4]
with open(cold, "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    touched = sum(m[i] for i in range(0, len(m), 4096))
    m.close()
with open(warm, "rb") as f:
    while f.read(1 << 16):
        pass
subprocess.run([cold_cat, warm], stdout=subprocess.DEVNULL, check=True)
"""


class TwoFilesCase(common.TmpDirCase):
    """Tests of what reads did to the page cache: two files of SIZE on the real disk."""

    SIZE = 16 << 20

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(common.IOTRACE):
            raise AssertionError("iotrace is not built: " + common.IOTRACE)
        super().setUpClass()
        cls.ds = common.Dataset([cls.SIZE, cls.SIZE])
        cls.addClassCleanup(cls.ds.remove)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TraceHitRatio(TwoFilesCase):
    """The file-read hit ratio counts file reads and the page-cache insertions their own
    misses made, nothing else: not the pipe a consumer reads (cat | md5sum), not a file
    mapped and faulted in, not a cold binary paged in at exec. Checked against the files'
    sizes and what fincore says was resident."""

    TMP_PREFIX = "iot-hit-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a copy of cat: a binary of its own inode, evicted apart from the system's
        cls.cold_cat = os.path.join(cls.ds.dir, "cold-cat")
        shutil.copy2(shutil.which("cat"), cls.cold_cat)

    def check_sums(self, run):
        """bytes_read_by_kind sums to bytes_read for the run, each process and thread; the
        insertions by cause to page_cache_insert_bytes."""
        for x in [run] + run["processes"] + run["threads"]:
            self.assertEqual(sum(x["bytes_read_by_kind"].values()), x["bytes_read"], x)
        self.assertEqual(sum(run["page_cache_insert_bytes_by_cause"].values()),
                         run["page_cache_insert_bytes"])
        self.assertEqual(run["file_read_hit_ratio"], run["hit_ratio"])

    def test_cold_file_through_a_pipe(self):
        """sh -c 'cat F | md5sum' with F evicted: cat's reads are the file's and miss
        (hit ~0%); md5sum's are the pipe's, exactly F's size, and count in no hit ratio
        (counted as hits they made it ~50%)."""
        f = self.ds.files[0]
        evict(f)
        self.assertEqual(resident(f), 0)
        out = os.path.join(self.tmp, "pipe")
        p, s = trace(["--no-stacks", "-v"], ["sh", "-c", "cat %s | md5sum" % f], out)
        self.assertEqual(p.returncode, 0, p.stderr)
        run = s["runs"][0]
        self.check_sums(run)
        by = {x["comm"]: x for x in run["processes"]}
        cat, md5 = by["cat"]["bytes_read_by_kind"], by["md5sum"]["bytes_read_by_kind"]
        # cat: the file (and its libraries' headers), no pipe; md5sum: the pipe, all of F
        self.assertGreaterEqual(cat["file"], self.SIZE)
        self.assertLess(cat["file"], self.SIZE + (1 << 20))
        self.assertEqual(cat["pipe"], 0)
        self.assertEqual(md5["pipe"], self.SIZE)
        self.assertLess(md5["file"], 1 << 20)
        kinds = run["bytes_read_by_kind"]
        self.assertEqual(kinds["pipe"], self.SIZE)
        # every page of F came in through cat's reads (readahead may add a window past
        # the end: nothing there) and now sits in the page cache
        cause = run["page_cache_insert_bytes_by_cause"]
        self.assertGreaterEqual(cause["read"], self.SIZE)
        self.assertEqual(resident(f), self.SIZE)
        self.assertLessEqual(run["hit_ratio"], 0.05)
        self.assertIsNone(run["hit_ratio_unavailable"])
        # what every byte read over every insertion would have said: about half
        self.assertGreater(1 - run["page_cache_insert_bytes"] / run["bytes_read"], 0.4)
        self.assertRegex(p.stdout, r"file reads hit it (<0\.1|[0-5]\.\d)%")
        self.assertRegex(p.stdout, r"reads: \d+ \([^)]*file [^)]*pipe 16\.0 MiB\)")

    def test_warm_reads_beside_cold_maps_and_exec(self):
        """A warm file read while the process maps a cold file (faulting every page in) and
        runs a cold binary: the reads hit ~100%; the mapped file's pages are insertions by
        faults, not misses of the reads (with them the ratio was ~0%)."""
        cold, warm_f = self.ds.files
        with open(warm_f, "rb") as f:
            while f.read(1 << 20):
                pass
        evict(cold)
        evict(self.cold_cat)
        self.assertEqual(resident(cold), 0)
        self.assertEqual(resident(self.cold_cat), 0)
        self.assertEqual(resident(warm_f), self.SIZE)
        out = os.path.join(self.tmp, "maps")
        p, s = trace(["--no-stacks"], [python3(), "-c", MAP_AND_READ, cold, warm_f,
                                       self.cold_cat], out)
        self.assertEqual(p.returncode, 0, p.stderr)
        run = s["runs"][0]
        self.check_sums(run)
        cause = run["page_cache_insert_bytes_by_cause"]
        # the mapped file came in whole at faults, and the binary at faults and at exec
        self.assertEqual(resident(cold), self.SIZE)
        self.assertGreaterEqual(cause["fault"], self.SIZE)
        self.assertLess(cause["read"], 1 << 20)
        # python and the cold cat each read the warm file: twice its size from files
        self.assertGreaterEqual(run["bytes_read_by_kind"]["file"], 2 * self.SIZE)
        self.assertGreaterEqual(run["hit_ratio"], 0.95)
        self.assertIsNone(run["hit_ratio_unavailable"])
        # over every insertion the ratio would have been about half
        self.assertLess(1 - run["page_cache_insert_bytes"] / run["bytes_read"], 0.6)
        d = common.run(["report", "--no-color", "-v", out])
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertRegex(d.stdout, r"file reads hit it (>99\.9|(9[5-9]|100)\.\d)%")
        self.assertRegex(d.stdout, r"of it by page faults")

    def test_io_uring_writes_then_cold_reads(self):
        """fio over io_uring: buffered writes of a new file insert its pages, and they are no
        read's misses (other); reading it back cold, the reads' insertions are the file
        (hit ~0%), its bytes counted as file reads under their requests' file."""
        if shutil.which("fio") is None:
            self.skipTest("fio is not installed (Debian package fio)")
        path = os.path.join(self.ds.dir, "uring.bin")
        base = ["fio", "--name=j", "--filename=" + path, "--bs=64k", "--size=16M",
                "--ioengine=io_uring", "--iodepth=4", "--output-format=json"]
        p, s = trace(["--no-stacks"], base + ["--rw=write", "--output=" + path + ".w.json"],
                     os.path.join(self.tmp, "uring-w"))
        self.assertEqual(p.returncode, 0, p.stderr)
        run = s["runs"][0]
        self.check_sums(run)
        cause = run["page_cache_insert_bytes_by_cause"]
        print("\n  io_uring writes: inserted by cause %s" % cause, end="")
        self.assertGreaterEqual(cause["other"], self.SIZE)
        self.assertLess(cause["read"], 1 << 20)
        evict(path)
        self.assertEqual(resident(path), 0)
        p, s = trace(["--no-stacks"], base + ["--rw=read", "--invalidate=0",
                                              "--output=" + path + ".r.json"],
                     os.path.join(self.tmp, "uring-r"))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(path + ".r.json") as f:
            rd = json.load(f)["jobs"][0]["read"]
        self.assertEqual(rd["io_bytes"], self.SIZE)
        run = s["runs"][0]
        self.check_sums(run)
        cause = run["page_cache_insert_bytes_by_cause"]
        print("\n  io_uring cold reads: by kind %s, inserted by cause %s, hit %s" % (
            run["bytes_read_by_kind"], cause, run["hit_ratio"]), end="")
        self.assertGreaterEqual(run["bytes_read_by_kind"]["file"], self.SIZE)
        self.assertGreaterEqual(cause["read"], self.SIZE)
        self.assertEqual(resident(path), self.SIZE)
        self.assertLessEqual(run["hit_ratio"], 0.05)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TraceDirectReads(TwoFilesCase):
    """Reads of files opened O_DIRECT bypass the page cache: their bytes are counted apart
    (bytes_read_direct) and left out of the file-read hit ratio, which covers the buffered
    file reads only (counted as hits, fio --direct=1 read "100%"). Checked against fio's
    JSON report and a program that counts its own bytes, on files of the real disk."""

    TMP_PREFIX = "iot-direct-"

    @classmethod
    def setUpClass(cls):
        build_progs()  # direct_read, tracer_work
        super().setUpClass()

    def check_run(self, run):
        """The sums hold with the direct bytes in; the ratio is the model's over the
        buffered file bytes (the direct ones out), or unavailable for the direct reason."""
        for x in [run] + run["processes"] + run["threads"]:
            self.assertEqual(sum(x["bytes_read_by_kind"].values()), x["bytes_read"], x)
            self.assertIsNotNone(x["bytes_read_direct"], x)
            self.assertLessEqual(x["bytes_read_direct"], x["bytes_read_by_kind"]["file"], x)
        self.assertEqual(sum(t["bytes_read_direct"] for t in run["threads"]),
                         run["bytes_read_direct"])
        self.assertEqual(run["file_read_hit_ratio"], run["hit_ratio"])
        buffered = run["bytes_read_by_kind"]["file"] - run["bytes_read_direct"]
        misses = run["page_cache_insert_bytes_by_cause"]["read"]
        if buffered == 0:
            self.assertIsNone(run["hit_ratio"])
            self.assertEqual(run["hit_ratio_unavailable"],
                             "all file reads were O_DIRECT: they bypass the page cache")
        else:
            self.assertIsNone(run["hit_ratio_unavailable"])
            self.assertAlmostEqual(run["hit_ratio"], min(1, max(0, 1 - misses / buffered)),
                                   places=5)
        return buffered, misses

    def fio(self, name, path, engine, direct):
        """fio randread of all of path (4 KiB blocks, QD 4) under iotrace trace -v: (the
        run, fio's read bytes, iotrace's stdout)."""
        fjson = self.out(name + ".json")
        p, s = trace(["--no-stacks", "-v"],
                     ["fio", "--name=j", "--filename=" + path, "--bs=4k",
                      "--size=%d" % self.SIZE, "--rw=randread", "--ioengine=" + engine,
                      "--iodepth=4", "--direct=%d" % direct, "--output-format=json",
                      "--output=" + fjson], self.out(name))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(fjson) as f:
            fio_bytes = json.load(f)["jobs"][0]["read"]["io_bytes"]
        self.assertEqual(fio_bytes, self.SIZE)
        return s["runs"][0], fio_bytes, p.stdout

    def test_fio_direct(self):
        """fio --direct=1, psync and io_uring, on a file evicted first: the direct bytes are
        exactly fio's (its other reads, of libraries' headers and /proc, are buffered),
        all in the job's thread; no read inserted a page of the file; the hit ratio is
        over fio's few buffered bytes, or unavailable."""
        if shutil.which("fio") is None:
            self.skipTest("fio is not installed (Debian package fio)")
        path = self.ds.files[0]
        for engine in ("psync", "io_uring"):
            with self.subTest(engine=engine):
                evict(path)
                run, fio_bytes, out = self.fio("direct-" + engine, path, engine, 1)
                buffered, misses = self.check_run(run)
                print("\n  fio %s --direct=1: direct %d of file %d (fio %d), read "
                      "insertions %d, hit %s" % (engine, run["bytes_read_direct"],
                                                 run["bytes_read_by_kind"]["file"], fio_bytes,
                                                 misses, run["hit_ratio"]), end="")
                self.assertEqual(run["bytes_read_direct"], fio_bytes)
                job = [t for t in run["threads"] if t["bytes_read_direct"]]
                self.assertEqual(len(job), 1, run["threads"])
                self.assertEqual(job[0]["bytes_read_direct"], fio_bytes)
                # the direct reads came from the disk and left nothing in the cache
                self.assertEqual(resident(path), 0)
                self.assertLess(misses, 1 << 20)
                self.assertLess(buffered, 1 << 20)
                # counted as hits, the file bytes would have said >= 90%
                self.assertGreater(1 - misses / run["bytes_read_by_kind"]["file"], 0.9)
                self.assertIn("16.0 MiB of it O_DIRECT", out)
                if run["hit_ratio"] is not None:
                    self.assertIn("16.0 MiB read O_DIRECT bypassed it", out)

    def test_fio_direct_laid_out(self):
        """fio lays out a new file, then reads it O_DIRECT, in one run: the layout's writes
        are no reads; the direct bytes are still exactly fio's."""
        if shutil.which("fio") is None:
            self.skipTest("fio is not installed (Debian package fio)")
        path = os.path.join(self.ds.dir, "laid-out.bin")
        run, fio_bytes, _ = self.fio("laid-out", path, "psync", 1)
        buffered, misses = self.check_run(run)
        print("\n  fio lays out, reads --direct=1: direct %d of file %d, insertions by cause "
              "%s, hit %s" % (run["bytes_read_direct"], run["bytes_read_by_kind"]["file"],
                             run["page_cache_insert_bytes_by_cause"], run["hit_ratio"]), end="")
        self.assertEqual(run["bytes_read_direct"], fio_bytes)
        self.assertLess(buffered, 1 << 20)
        self.assertGreaterEqual(run["page_cache_insert_bytes_by_cause"]["other"], self.SIZE)

    def test_fio_buffered_unchanged(self):
        """The same fio run without --direct, cold: nothing direct; the ratio over every
        file byte as before, ~0% (each 4 KiB block read once, missed)."""
        if shutil.which("fio") is None:
            self.skipTest("fio is not installed (Debian package fio)")
        path = self.ds.files[0]
        evict(path)
        run, fio_bytes, _ = self.fio("buffered", path, "psync", 0)
        buffered, misses = self.check_run(run)
        self.assertEqual(run["bytes_read_direct"], 0)
        self.assertEqual(buffered, run["bytes_read_by_kind"]["file"])
        self.assertGreaterEqual(buffered, fio_bytes)
        self.assertGreaterEqual(misses, self.SIZE)
        self.assertLessEqual(run["hit_ratio"], 0.05)

    def test_all_direct_unavailable(self):
        """A program whose only file reads are O_DIRECT (tests/progs/direct_read, static: no
        loader reading libraries' headers): every file byte is direct, as many as it read
        itself, and the run has no file-read hit (counted as hits it was 100%): null, the
        reason in summary.json and under the table."""
        prog = os.path.join(PROGS, "direct_read")
        path = self.ds.files[0]
        evict(path)
        p, s = trace(["--no-stacks"], [prog, path, "65536"], self.out("all-direct"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("direct %d\n" % self.SIZE, p.stdout)
        run = s["runs"][0]
        buffered, misses = self.check_run(run)
        self.assertEqual(run["bytes_read_by_kind"]["file"], self.SIZE)
        self.assertEqual(run["bytes_read_direct"], self.SIZE)
        self.assertEqual(buffered, 0)
        self.assertIsNone(run["hit_ratio"])
        self.assertEqual(misses, 0)
        self.assertEqual(resident(path), 0)
        self.assertIn("file-read hit unavailable: all file reads were O_DIRECT: they bypass "
                      "the page cache\n", p.stdout)

    def test_mixed_program(self):
        """tracer_work direct: one thread reads file 0 O_DIRECT while another reads file 1
        buffered, both cold. Each thread's direct bytes are what it counted itself (all of
        its file bytes, or none); the hit ratio is the buffered file's, ~0% (with the direct
        bytes as hits, ~50%)."""
        work = os.path.join(PROGS, "tracer_work")
        dfile, bfile = self.ds.files
        for f in self.ds.files:
            evict(f)
            self.assertEqual(resident(f), 0)
        wout = self.out("mixed.txt")
        p, s = trace(["--no-stacks"], [work, "direct", dfile, bfile, "65536"],
                     self.out("mixed"), env=dict(ENV, TRACER_WORK_OUT=wout))
        self.assertEqual(p.returncode, 0, p.stderr)
        own = {}
        with open(wout) as f:
            for line in f:
                w = line.split()
                if w[0] in ("direct", "buffered"):
                    own[w[0]] = (int(w[1]), int(w[2]))
        self.assertEqual(own["direct"][1], self.SIZE)
        self.assertEqual(own["buffered"][1], self.SIZE)
        run = s["runs"][0]
        buffered, misses = self.check_run(run)
        by_tid = {t["tid"]: t for t in run["threads"]}
        d, b = by_tid[own["direct"][0]], by_tid[own["buffered"][0]]
        self.assertEqual(d["bytes_read_direct"], self.SIZE)
        self.assertEqual(b["bytes_read_direct"], 0)
        # all of a thread's file bytes are its file's, but a byte or so of /proc: glibc
        # reads /proc/sys/vm/overcommit_memory when a thread's malloc arena is made
        for t in (d, b):
            self.assertGreaterEqual(t["bytes_read_by_kind"]["file"], self.SIZE)
            self.assertLess(t["bytes_read_by_kind"]["file"], self.SIZE + 4096)
        self.assertEqual(run["bytes_read_direct"], self.SIZE)
        # the buffered file came in through its reads (its pages may be reclaimed since:
        # not checked with fincore); the direct one stayed out
        self.assertEqual(resident(dfile), 0)
        self.assertGreaterEqual(misses, self.SIZE)
        self.assertLessEqual(run["hit_ratio"], 0.05)
        self.assertGreater(1 - misses / run["bytes_read_by_kind"]["file"], 0.4)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TraceAttach(common.TmpDirCase):
    """-p PID: a process the test started, reading a file in a loop."""

    TMP_PREFIX = "iot-trace-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ds = common.Dataset([1 << 20])
        cls.addClassCleanup(cls.ds.remove)

    def reader(self):
        p = subprocess.Popen([python3(), "-c", READ_LOOP, self.ds.files[0], "-"])
        self.addCleanup(kill_quietly, p)
        return p

    def test_attach_duration_detach(self):
        target = self.reader()
        out = os.path.join(self.tmp, "attach")
        it = subprocess.Popen([common.IOTRACE, "trace", "--no-stacks", "-p", str(target.pid),
                               "-d", "1", "-o", out, "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        self.addCleanup(kill_quietly, it)
        ids = []
        while it.poll() is None:
            # the fullest snapshot: one taken while it loads or detaches holds fewer
            cur = our_prog_ids(it.pid)
            ids = cur if len(cur) > len(ids) else ids
            time.sleep(0.02)
        stdout, stderr = it.communicate(timeout=60)
        self.assertEqual(it.returncode, 0, stderr)
        self.assertIsNone(target.poll(), "the attached process did not survive the trace")
        self.assertGreaterEqual(len(ids), 7, "did not see iotrace's probes: %s" % ids)
        self.assertEqual(progs_gone(ids), [], "iotrace's programs outlived it")
        self.assertEqual(orphaned_iot_progs(), [])
        run = json.loads(stdout)["runs"][0]
        self.assertEqual(run, summary(out)["runs"][0])
        self.assertEqual({t["pid"] for t in run["threads"]}, {target.pid})
        self.assertGreater(run["reads"], 0)
        self.assertGreaterEqual(run["bytes_read"], self.ds.size())
        self.assertEqual(run["exit_status"], -1)  # not ours: no status
        self.assertIsNone(run["rusage"])
        self.assertGreater(run["wall_ns"], 0.9e9)
        self.assertLess(run["wall_ns"], 1.5e9)
        with open("/proc/%d/comm" % target.pid) as f:
            self.assertEqual(run["label"], f.read().strip())  # the process's name
        time.sleep(0.1)
        self.assertIsNone(target.poll(), "the process stopped after iotrace detached")

    def test_attach_follow_existing_children(self):
        """-p takes in the children (and theirs) that existed before the attach, not only
        those forked after it; with --no-follow only the process itself."""
        marker = os.path.join(self.tmp, "grandchild-ready")
        # parent -> child -> grandchild reading in a loop; the first two only wait
        prog = ("import subprocess, sys\n"
                "inner = [sys.executable, '-c', sys.argv[1], sys.argv[2], sys.argv[3]]\n"
                "outer = [sys.executable, '-c', 'import subprocess, sys; "
                "subprocess.run(sys.argv[1:])'] + inner\n"
                "subprocess.run(outer)\n")
        parent = subprocess.Popen([python3(), "-c", prog, READ_LOOP, self.ds.files[0], marker],
                                  start_new_session=True)

        def kill_tree():
            try:
                os.killpg(parent.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            parent.wait()
        self.addCleanup(kill_tree)
        self.assertTrue(wait_for(lambda: os.path.exists(marker)), "the reader never started")
        with open(marker) as f:
            grandchild = int(f.read())
        for follow in (True, False):
            out = os.path.join(self.tmp, "attach-follow-%d" % follow)
            p, s = trace(["--no-stacks", "-p", str(parent.pid), "-d", "0.5"] +
                         ([] if follow else ["--no-follow"]), outdir=out)
            self.assertEqual(p.returncode, 0, p.stderr)
            run = s["runs"][0]
            pids = {t["pid"] for t in run["threads"]}
            if not follow:
                self.assertEqual(pids, {parent.pid})
                self.assertEqual(run["reads"], 0)
                continue
            self.assertEqual(len(pids), 3, pids)
            self.assertIn(grandchild, pids)
            gc = [t for t in run["threads"] if t["pid"] == grandchild]
            self.assertGreater(sum(runlib.oncpu(t["states_ns"]) for t in gc), 0)
            self.assertGreater(run["reads"], 0)
            self.assertGreater(run["bytes_read"], 0)
        self.assertIsNone(parent.poll(), "the attached process did not survive the traces")

    def test_attach_sigint(self):
        """Ctrl-C ends the trace (report written, exit 130); the process lives on."""
        target = self.reader()
        out = os.path.join(self.tmp, "attach-int")
        it = subprocess.Popen([common.IOTRACE, "trace", "--no-stacks", "-p", str(target.pid),
                               "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        self.addCleanup(kill_quietly, it)
        self.assertTrue(wait_for(lambda: len(our_prog_ids(it.pid)) >= 7), "never attached")
        time.sleep(0.5)
        it.send_signal(signal.SIGINT)
        _, stderr = it.communicate(timeout=60)
        self.assertEqual(it.returncode, 130, stderr)
        run = summary(out)["runs"][0]
        self.assertGreater(run["reads"], 0)
        self.assertIsNone(target.poll())

    def test_attach_thread_id(self):
        """A thread id names its process: the whole process is traced."""
        prog = "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\n" \
               "time.sleep(60)\n"
        target = subprocess.Popen([python3(), "-c", prog])
        self.addCleanup(kill_quietly, target)
        task = "/proc/%d/task" % target.pid
        self.assertTrue(wait_for(lambda: len(os.listdir(task)) >= 2))
        tid = max(int(t) for t in os.listdir(task))
        p, s = trace(["--no-stacks", "-p", str(tid), "-d", "0.3"],
                     outdir=os.path.join(self.tmp, "tid"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("thread of process %d" % target.pid, p.stderr)
        self.assertEqual({t["pid"] for t in s["runs"][0]["threads"]}, {target.pid})


TTY_PROBE = """
import os
print("tty", os.isatty(0), os.isatty(1), os.isatty(2),
      os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp())
"""


def sig_ignored(text):
    """The SigIgn mask of a /proc/PID/status text, as a set of signal numbers."""
    m = re.search(r"SigIgn:\s*([0-9a-f]+)", text)
    mask = int(m.group(1), 16)
    return {n + 1 for n in range(64) if mask >> n & 1}


USR1_EXIT = """
import signal, sys, time
signal.signal(signal.SIGUSR1, lambda *a: sys.exit(42))
print("ready", flush=True)
time.sleep(60)
sys.exit(1)
"""


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TracePassThrough(common.TmpDirCase):
    """CMD runs as if iotrace were not there: its stdin, stdout, stderr and terminal,
    the signals sent to iotrace, the dispositions iotrace was started with."""

    TMP_PREFIX = "iot-trace-"

    def test_stdin_read_by_the_command(self):
        """md5sum digests what iotrace's stdin carries, and its reads of it are traced."""
        data = bytes(range(256)) * 4096  # 1 MiB
        import hashlib
        out = self.out("stdin")
        p = subprocess.run([common.IOTRACE, "trace", "--no-stacks", "--no-color", "-o", out,
                            "--", "md5sum"], input=data, capture_output=True, timeout=120,
                           env=ENV)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(hashlib.md5(data).hexdigest() + "  -", p.stdout.decode())
        run = summary(out)["runs"][0]
        self.assertGreaterEqual(run["bytes_read"], len(data))

    def test_terminal_and_dispositions(self):
        """Under a pty: CMD's fds 0-2 are the terminal and it is in the foreground group;
        a SIGHUP ignored by the caller (nohup) stays ignored, SIGPIPE and SIGINT (which
        iotrace handles for itself) are back to their defaults."""
        import pty
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)

        def setup():
            # as from an interactive shell: a background job's ignored SIGINT is not ours
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.setsid()
            import fcntl
            import termios
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        # python sets its own SIGPIPE and SIGINT handling: the shell's mask is the one read
        probe = '"$0" -c "$1"; grep SigIgn /proc/$$/status'
        it = subprocess.Popen([common.IOTRACE, "trace", "--no-stacks", "--no-color", "-o",
                               self.out("tty"), "--", "sh", "-c", probe, python3(),
                               TTY_PROBE],
                              stdin=slave, stdout=slave, stderr=slave, preexec_fn=setup)
        os.close(slave)
        self.addCleanup(kill_quietly, it)
        buf = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every holder of the slave closed it
                break
            if not chunk:
                break
            buf += chunk
        it.wait(timeout=60)
        text = buf.decode(errors="replace")
        self.assertEqual(it.returncode, 0, text)
        self.assertIn("tty True True True True", text)
        ign = sig_ignored(text)
        self.assertIn(signal.SIGHUP, ign, text)
        self.assertNotIn(signal.SIGPIPE, ign, text)
        self.assertNotIn(signal.SIGINT, ign, text)

    def test_signal_passed_on(self):
        """SIGUSR1 to iotrace reaches CMD (whose handler exits 42), and iotrace exits 42
        with the report written."""
        out = self.out("usr1")
        it = subprocess.Popen([common.IOTRACE, "trace", "--no-stacks", "--no-color", "-o", out,
                               "--", python3(), "-c", USR1_EXIT], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        self.addCleanup(kill_quietly, it)
        self.assertEqual(it.stdout.readline().strip(), "ready")
        it.send_signal(signal.SIGUSR1)
        _, err = it.communicate(timeout=60)
        self.assertEqual(it.returncode, 42, err)
        run = summary(out)["runs"][0]
        self.assertEqual(run["exit_status"], 42)
        self.assertFalse(run["interrupted"])


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TraceBadInput(common.TmpDirCase):
    """What a shell would say, and what happens to the report, when things go wrong."""

    TMP_PREFIX = "iot-trace-"

    def test_command_not_found_127(self):
        for cmd in ("iotrace-no-such-command", "/nonexistent/cmd"):
            p, s = trace(["--no-stacks"], [cmd], self.out("nf"))
            self.assertEqual(p.returncode, 127, p.stderr)
            self.assertIn(cmd, p.stderr)
            self.assertIsNone(s)

    def test_not_executable_126(self):
        path = self.out("not-exec.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(path, 0o644)
        for cmd in (path, self.tmp):
            p, s = trace(["--no-stacks"], [cmd], self.out("ne"))
            self.assertEqual(p.returncode, 126, p.stderr)
            self.assertIn(cmd, p.stderr)
            self.assertIsNone(s)

    def test_pid_that_does_not_exist(self):
        pid = 4194304 + 1  # above pid_max's ceiling: never a process
        p, _ = trace(["-p", str(pid)])
        self.assertEqual(p.returncode, EXIT_INPUT, p.stderr)
        self.assertIn("no such process", p.stderr)
        self.assertIn(str(pid), p.stderr)

    def test_pid_is_iotrace_itself(self):
        # the shell's pid becomes iotrace's with exec
        p = subprocess.run(["sh", "-c", 'exec "$0" trace -p $$', common.IOTRACE],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, EXIT_INPUT, p.stderr)
        self.assertIn("iotrace itself", p.stderr)

    def test_pid_kernel_thread(self):
        p, _ = trace(["-p", "2"])  # kthreadd
        self.assertEqual(p.returncode, EXIT_INPUT, p.stderr)
        self.assertIn("kernel thread", p.stderr)

    def test_pid_exits_while_attaching(self):
        """The process ends while iotrace loads its probes: a clear message, exit 5, no
        report, nothing loaded left behind."""
        msgs = []
        for _ in range(3):  # the kill must land before the attach; retry if it did not
            target = subprocess.Popen(["sleep", "60"])
            self.addCleanup(kill_quietly, target)
            out = self.out("gone")
            it = subprocess.Popen([common.IOTRACE, "trace", "--no-stacks", "-p",
                                   str(target.pid), "-d", "5", "-o", out],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.addCleanup(kill_quietly, it)
            self.assertTrue(wait_for(lambda: holds_bpf(it.pid) or it.poll() is not None,
                                     step=0.0005))
            target.kill()
            target.wait()  # reaped: gone, as a process that exits by itself
            _, stderr = it.communicate(timeout=60)
            if it.returncode == EXIT_INPUT:
                self.assertIn("exited while iotrace was attaching", stderr)
                self.assertFalse(os.path.exists(os.path.join(out, "summary.json")))
                self.assertEqual(orphaned_iot_progs(), [])
                return
            # attached first: then it is a trace of a process that exited, which is fine
            self.assertEqual(it.returncode, 0, stderr)
            msgs.append("attached before the process exited")
            shutil.rmtree(out, ignore_errors=True)
        self.fail("; ".join(msgs))

    def test_killed_by_signal(self):
        """Report written, exit status 128+N, the headline says the run did not finish."""
        p, s = trace(["--no-stacks"], ["sh", "-c", "head -c 1000000 /dev/zero >/dev/null; "
                                                   "kill -KILL $$"], self.out("killed"))
        self.assertEqual(p.returncode, 128 + signal.SIGKILL, p.stderr)
        run = s["runs"][0]
        self.assertEqual(run["exit_status"], 128 + signal.SIGKILL)
        self.assertIn("did not finish", run["headline"])
        self.assertFalse(run["interrupted"])  # the command died, nobody stopped iotrace
        self.assertIsNotNone(run["rusage"])

    def test_exit_status_passed_through(self):
        p, s = trace(["--no-stacks"], ["sh", "-c", "exit 3"], self.out("exit3"))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(s["runs"][0]["exit_status"], 3)

    def test_daemon_not_waited_for(self):
        """A command that forks a daemon and exits: the trace ends with the command (the
        daemon, still running, is not waited for), exit status the command's."""
        pidfile = self.out("daemon.pid")
        cmd = ["sh", "-c", "sleep 60 </dev/null >/dev/null 2>&1 & echo $! > %s; exit 0" %
               pidfile]
        t0 = time.time()
        try:
            p, s = trace(["--no-stacks", "--follow"], cmd, self.out("daemon"), timeout=30)
            took = time.time() - t0
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertLess(took, 20)
            with open(pidfile) as f:
                daemon = int(f.read())
            os.kill(daemon, 0)  # still there
            run = s["runs"][0]
            self.assertEqual(run["exit_status"], 0)
            self.assertLess(run["wall_ns"], 5e9)
            # the report says what it did not see: the daemon outlived the trace
            d = [x for x in run["processes"] if x["pid"] == daemon]
            self.assertEqual(len(d), 1, run["processes"])
            self.assertIsNone(d[0]["end_ns"])
            self.assertEqual(d[0]["exit_status"], -1)
            self.assertEqual(d[0]["cmdline"], "sleep 60")
            notes = [v["text"] for v in run["verdict"] if v["rule"] == "visibility"]
            self.assertEqual(len(notes), 1, run["verdict"])
            self.assertIn("%d (sleep 60)" % daemon, notes[0])
            self.assertIn("outlived the trace", notes[0])
            # said on the default screen too
            self.assertIn("note: 1 process outlived the trace", p.stdout)
        finally:
            try:
                with open(pidfile) as f:
                    os.kill(int(f.read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def test_setuid_program_said(self):
        """A setuid program (a copy of coreutils' id owned by nobody, mode 4755) run by the
        command: traced like the rest, its process marked setuid, and the note says so, on
        the default screen too; id's own output says it ran as nobody."""
        d = tempfile.mkdtemp(prefix="iot-suid-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        prog = os.path.join(d, "id-nobody")
        shutil.copy("/usr/bin/id", prog)
        os.chown(prog, 65534, 65534)
        os.chmod(prog, 0o4755)
        p, s = trace(["--no-stacks"], ["sh", "-c", "%s -u; true" % prog], self.out("suid"))
        self.assertEqual(p.returncode, 0, p.stderr)
        if not re.search(r"^65534$", p.stdout, re.M):
            self.skipTest("setuid bits are ignored here (nosuid mount?): %s" % p.stdout[:40])
        run = s["runs"][0]
        suid = [x for x in run["processes"] if x["setuid"]]
        self.assertEqual([x["cmdline"] for x in suid], ["%s -u" % prog], run["processes"])
        notes = [v["text"] for v in run["verdict"] if v["rule"] == "visibility"]
        self.assertEqual(len(notes), 1, run["verdict"])
        self.assertIn("1 process ran a setuid program", notes[0])
        self.assertIn("%d (%s -u)" % (suid[0]["pid"], prog), notes[0])
        self.assertIn("note: 1 process ran a setuid program", " ".join(p.stdout.split()))

    def test_duration_leaves_command_running(self):
        """-d: the report covers SECS, the command runs on, iotrace exits with its status."""
        t0 = time.time()
        p, s = trace(["--no-stacks", "-d", "0.3"], ["sh", "-c", "sleep 1; exit 7"],
                     self.out("dur"))
        took = time.time() - t0
        self.assertEqual(p.returncode, 7, p.stderr)
        self.assertGreaterEqual(took, 1.0)
        run = s["runs"][0]
        self.assertLess(run["wall_ns"], 0.9e9)
        self.assertGreaterEqual(run["wall_ns"], 0.3e9)
        self.assertEqual(run["exit_status"], -1)  # unknown when the trace ended
        self.assertIsNone(run["rusage"])
        self.assertIn("still running", p.stderr)

    def test_sigint_mid_trace(self):
        """SIGINT to iotrace: the report covers what was traced, the command gets the signal
        (and is gone), iotrace exits 130."""
        ds = common.Dataset([1 << 20])
        self.addCleanup(ds.remove)
        marker = self.out("started")
        out = self.out("int")
        # SIGINT at its default, as from a terminal: a background job's ignored SIGINT
        # would be the command's too (passed through), and it would outlive the signal
        it = subprocess.Popen([common.IOTRACE, "trace", "--no-stacks", "-o", out, "--",
                               python3(), "-c", READ_LOOP, ds.files[0], marker],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.addCleanup(kill_quietly, it)
        self.assertTrue(wait_for(lambda: os.path.exists(marker) or it.poll() is not None))
        with open(marker) as f:
            child = int(f.read())
        time.sleep(0.2)
        it.send_signal(signal.SIGINT)
        _, stderr = it.communicate(timeout=60)
        self.assertEqual(it.returncode, 130, stderr)
        run = summary(out)["runs"][0]
        self.assertGreater(run["reads"], 0)
        self.assertGreaterEqual(run["bytes_read"], ds.size())
        # python dies of the SIGINT passed on to it (KeyboardInterrupt, then the signal)
        self.assertEqual(run["exit_status"], 128 + signal.SIGINT)
        self.assertIn("did not finish", run["headline"])
        # the user stopped it: said so, not blamed on the signal's exit status
        self.assertTrue(run["interrupted"])
        self.assertIn("interrupted by the user (Ctrl-C)", run["headline"])
        self.assertFalse(os.path.exists("/proc/%d" % child), "the command outlived iotrace")
        self.assertEqual(orphaned_iot_progs(), [])


if __name__ == "__main__":
    unittest.main()
