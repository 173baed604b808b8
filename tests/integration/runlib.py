"""runlib.py - helpers of the `iotrace run` acceptance tests (test_run_*.py).

- IotraceRun: runs iotrace, follows its stderr line by line (the "iotrace: running X..."
  lines say a run has started: the probes are loaded then, so the programs it holds are
  taken from /proc/PID/fdinfo at that moment, and a test can act on the running workload
  without sleeping and hoping), and checks afterwards that what this iotrace made is gone:
  its BPF programs, its cgroups and its generated datasets (both carry its pid).
- Taskstats: the kernel's per-thread accounting at each thread's exit (netlink taskstats:
  sum_exec_runtime and the schedstat run-queue delay), an independent source for the
  on-CPU and runnable states of threads that no longer exist when the run is over.
- shared(): runs that several modules assert on, made once per process (the runner loads
  every module in one process), their datasets removed as soon as the runs are done.
"""
import glob
import json
import os
import resource
import shutil
import signal
import socket
import sys
import struct
import subprocess
import tempfile
import threading
import time

import common

MS = 1000000
NOBODY = 65534


def steal_ns():
    """Hypervisor steal time so far, all CPUs (/proc/stat).

    The kernel leaves steal out of a task's run time (PARAVIRT_TIME_ACCOUNTING), so rusage
    and schedstat omit it while sched_switch times include it: comparisons allow for it.
    """
    with open("/proc/stat") as f:
        w = f.readline().split()
    return int(w[8]) * 1000000000 // os.sysconf("SC_CLK_TCK") if len(w) > 8 else 0


bpf_ids_of = common.bpf_ids_of


def bpf_alive(ids, kind="prog"):
    """Those of ids still loaded; waits up to 5 s for the kernel's deferred frees."""
    deadline = time.time() + 5
    while True:
        out = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True,
                             text=True).stdout
        alive = sorted(i for i in ids if i in {p["id"] for p in json.loads(out or "[]")})
        if not alive or time.time() > deadline:
            return alive
        time.sleep(0.1)


def cgroups_of(pid):
    return [d for d in common.cgroups_left() if os.path.basename(d).startswith(
        "iotrace-%d-" % pid)]


def datasets_of(pid):
    return glob.glob("/var/tmp/iotrace-data-%d-*" % pid)


def proc_children(pid):
    """[(pid, comm)] of the processes whose parent is pid."""
    res = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        if int(s[s.rindex(")") + 2:].split()[1]) == pid:
            res.append((int(d), comm))
    return res


def rchar(pid):
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def wait_workload_reading(iot_pid, min_bytes, timeout=30):
    """The workload child of iotrace once it has read min_bytes (its pid), or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for pid, comm in proc_children(iot_pid):
            if comm.startswith("iot-") and rchar(pid) >= min_bytes:
                return pid
        time.sleep(0.005)
    return None


class IotraceRun:
    """One iotrace invocation, followed line by line.

    on_running(run, line) is called (in the reading thread) for every "iotrace: running"
    line. After wait(): rc, stdout, stderr, prog_ids (programs iotrace held once running).
    """

    def __init__(self, args, env=None, on_running=None, timeout=300, user=None, rt=False):
        self.args = list(args)
        # one run per strategy unless the test asks for repetitions: `run` repeats 3 times by
        # default, which would triple the suite's time for tests that look at one run
        if self.args[:1] == ["run"] and not any(a.startswith("--repeat") for a in self.args):
            self.args += ["--repeat", "1"]
        self.on_running = on_running
        self.prog_ids = set()
        self.map_ids = set()
        self.running = []
        self.err_lines = []
        cmd = [common.IOTRACE] + self.args
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user,
                   "--clear-groups"] + cmd
        def preexec():
            # a crashed workload must not leave a core file in someone's directory
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            # rt: SCHED_FIFO (inherited by the workload) so that other work on this shared
            # machine cannot take the CPUs from it: for the figures that depend on having
            # them (a lock handoff or a wake-up otherwise waits for a busy CPU's time slice,
            # whatever the nice value). The kernel's RT throttling still bounds it.
            if rt:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))

        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env, start_new_session=True,
                                  preexec_fn=preexec)
        self.pid = self.p.pid
        self.steal0 = steal_ns()
        self.timer = threading.Timer(timeout, self._kill)
        self.timer.start()
        self.timed_out = False
        self._out = []
        self._tout = threading.Thread(target=lambda: self._out.append(self.p.stdout.read()))
        self._tout.start()

    def _kill(self):
        self.timed_out = True
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except OSError:
            pass

    def wait(self):
        for line in self.p.stderr:
            self.err_lines.append(line)
            if line.startswith("iotrace: running "):
                self.prog_ids |= bpf_ids_of(self.pid, "prog")
                self.map_ids |= bpf_ids_of(self.pid, "map")
                self.running.append(line.split()[2].rstrip("."))
                if self.on_running:
                    self.on_running(self, line)
        self._tout.join()
        self.rc = self.p.wait()
        self.steal = steal_ns() - self.steal0  # hypervisor steal while it ran, all CPUs
        self.timer.cancel()
        self.stdout = self._out[0] if self._out else ""
        self.stderr = "".join(self.err_lines)
        return self

    def describe(self):
        return "iotrace %s -> exit %s%s\nstderr:\n%s\nstdout (end):\n%s" % (
            " ".join(self.args), self.rc, " (TIMED OUT)" if self.timed_out else "",
            self.stderr[-3000:], self.stdout[-3000:])

    def leftovers(self):
        """What this iotrace left behind: [] when nothing."""
        left = []
        alive = bpf_alive(self.prog_ids, "prog") if self.prog_ids else []
        if alive:
            left.append("BPF programs %s still loaded" % alive)
        alive = bpf_alive(self.map_ids, "map") if self.map_ids else []
        if alive:
            left.append("BPF maps %s still loaded" % alive)
        if cgroups_of(self.pid):
            left.append("cgroups %s" % cgroups_of(self.pid))
        if datasets_of(self.pid):
            left.append("datasets %s" % datasets_of(self.pid))
        return left


def iotrace(args, **kw):
    return IotraceRun(args, **kw).wait()


def load_summary(outdir):
    with open(os.path.join(outdir, "summary.json")) as f:
        return json.load(f)


def runs_by_label(summary):
    return {r["label"]: r for r in summary["runs"]}


def folded(path):
    """[(frames list, value)] of a folded file (runs/<run>/*.folded)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                frames, v = line.rsplit(" ", 1)
                out.append((frames.split(";"), int(v)))
    return out


# the states the flame graphs split by kind ("lock_wait: join", issue 13), their kinds
SPLIT_KINDS = {"io_wait": ("file", "pipe", "socket", "other"),
               "lock_wait": ("mutex", "gil", "join", "condvar", "other"),
               "other_wait": ("child", "other")}


def wall_by_kind(run, stacks):
    """Per (thread role, state, kind) of the split states: (summary.json's *_by_kind_ns in
    µs, summed over the role's threads; how many threads; the µs under "STATE: KIND" in
    the wall.folded stacks)."""
    want, n, got = {}, {}, {}
    for t in run["threads"]:
        for st in SPLIT_KINDS:
            for kind, ns in t[st + "_by_kind_ns"].items():
                k = (t["role"], st, kind)
                want[k] = want.get(k, 0) + ns / 1000.0
                n[k] = n.get(k, 0) + 1
    for fr, v in stacks:
        st, _, kind = fr[2].partition(": ")
        if st in SPLIT_KINDS:
            k = (fr[1], st, kind)
            got[k] = got.get(k, 0) + v
    return want, n, got


def assert_wall_sizes(tc, want, n, got, what, figures="summary.json"):
    """Per key, the µs under it in the stacks (got) are the figures' (want) within one µs per
    thread summed into it (n: each thread's time is rounded to the µs), and the stacks have
    no key the figures lack."""
    for k, w in want.items():
        tc.assertLessEqual(abs(got.get(k, 0) - w), n[k],
                           "%s %s: %d µs in the flame graph, %.1f µs in %s"
                           % (what, k, got.get(k, 0), w, figures))
    for k in got:
        tc.assertIn(k, want, "%s: stacks of %s, not in %s" % (what, k, figures))


def parse_verify(stdout, directory):
    """--verify lines ("digest  DIR/rel") as {rel: digest}."""
    res = {}
    prefix = directory.rstrip("/") + "/"
    for line in stdout.splitlines():
        w = line.split(None, 1)
        if len(w) == 2 and len(w[0]) == 32 and w[1].startswith(prefix):
            res[w[1][len(prefix):]] = w[0]
    return res


def oncpu(states):
    return states["compute"] + states["io_cpu"]


def ran(x):
    """On-CPU time of a summary.json thread or run less what the hypervisor stole of it
    (stolen_ns): the run time rusage and schedstat count."""
    return oncpu(x["states_ns"]) - x["stolen_ns"]


def rusage_in_window(ru):
    """The part of a run's rusage (summary.json: wait4 of the child) spent in the traced
    window: utime + stime less what the child used before it (setup_ns: its set-up until
    release) and after it (exit_ns: a built-in workload's exit once its work returned; the
    kernel tears the address space down after the exit probe, which for a fork of a
    sanitizer build of iotrace takes ~3 ms). Like with like for the on-CPU states."""
    return ru["utime_ns"] + ru["stime_ns"] - (ru.get("setup_ns") or 0) - (ru.get("exit_ns") or 0)


def iv_union(iv):
    """Sorted, merged [start, end) intervals."""
    out = []
    for a, b in sorted(x for x in iv if x[1] > x[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def iv_len(iv):
    return sum(b - a for a, b in iv)


def iv_and(x, y):
    """Intersection of two unions."""
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if b > a:
            out.append([a, b])
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def iv_minus(x, y):
    """x less y (both unions)."""
    out, j = [], 0
    for a, b in x:
        while j < len(y) and y[j][1] <= a:
            j += 1
        k = j
        while k < len(y) and y[k][0] < b:
            if y[k][0] > a:
                out.append([a, y[k][0]])
            a = max(a, y[k][1])
            k += 1
        if b > a:
            out.append([a, b])
    return out


def overlap_from_spans(text):
    """The I/O overlap recomputed from a run's spans.tsv alone, in Python: {io_ns (|U_io|:
    a thread in a read, io_cpu or io_wait, an io_uring request in flight, or the device busy
    for the run), io_block_only_ns (of it, the device alone: no thread in a read, no request
    in flight), io_block_only_computing_ns (of that, some thread computing), exact (every
    span saved exactly)}."""
    reads, compute, io, dev = [], [], [], []
    ws = we = None
    for line in text.splitlines()[1:]:
        f = line.split("\t")
        if f[0] == "window":
            ws, we = int(f[1]), int(f[2])
        elif f[0] == "io":
            io.append((int(f[1]), int(f[2])))
        elif f[0] == "dev":
            dev.append((int(f[1]), int(f[2])))
        elif f[0] not in ("thread", "gap", "") and not f[0].startswith("#"):
            span = (int(f[1]), int(f[2]))
            if f[3] in ("io_cpu", "io_wait"):
                reads.append(span)
            elif f[3] == "compute":
                compute.append(span)
    win = [[ws, we]]
    reads, compute = iv_and(iv_union(reads), win), iv_and(iv_union(compute), win)
    io, dev = iv_and(iv_union(io), win), iv_and(iv_union(dev), win)
    alone = iv_minus(dev, iv_union(reads + io))
    return {"io_ns": iv_len(iv_union(reads + io + dev)), "io_block_only_ns": iv_len(alone),
            "io_block_only_computing_ns": iv_len(iv_and(alone, compute)), "dev": dev}


def make_dataset(sizes, nested=False, readable_by_all=False):
    ds = common.Dataset(sizes, nested=nested)
    if readable_by_all:
        for root, dirs, files in os.walk(ds.dir):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
    return ds


# ---- taskstats: the kernel's accounting of each thread at its exit ----

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
TASKSTATS_CMD_GET = 1
TASKSTATS_CMD_ATTR_REGISTER_CPUMASK = 3
TASKSTATS_TYPE_PID = 1
TASKSTATS_TYPE_STATS = 3
TASKSTATS_TYPE_AGGR_PID = 4
NLM_F_REQUEST = 1
NLMSG_ERROR = 2


def _attrs(buf):
    off = 0
    while off + 4 <= len(buf):
        ln, typ = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        yield typ & 0x3fff, buf[off + 4:off + ln]
        off += (ln + 3) & ~3


def _attr(typ, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, typ) + payload + b"\0" * (((ln + 3) & ~3) - ln)


def _genl(family, cmd, version, payload, seq):
    body = struct.pack("=BBH", cmd, version, 0) + payload
    return struct.pack("=IHHII", 16 + len(body), family, NLM_F_REQUEST, seq, 0) + body


class Taskstats:
    """Per-thread (tid) kernel figures at exit: {"run_ns": sum_exec_runtime, "delay_ns":
    run-queue wait (schedstat field 2), "comm": ...}, collected while the context is open."""

    def __init__(self):
        self.exits = {}
        self.error = None

    def __enter__(self):
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((0, 0))
        s.sendall(_genl(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
                        _attr(CTRL_ATTR_FAMILY_NAME, b"TASKSTATS\0"), 1))
        fam = None
        msg = s.recv(65536)
        for typ, val in _attrs(msg[20:]):
            if typ == CTRL_ATTR_FAMILY_ID:
                fam = struct.unpack_from("=H", val)[0]
        if fam is None:
            s.close()
            raise OSError("taskstats: no TASKSTATS generic netlink family")
        cpus = "0-%d" % (os.cpu_count() - 1)
        s.sendall(_genl(fam, TASKSTATS_CMD_GET, 1,
                        _attr(TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, cpus.encode() + b"\0"), 2))
        self.sock = s
        self.cpus = cpus
        self.fam = fam
        self.stop = False
        s.settimeout(0.05)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def _loop(self):
        while not self.stop:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError as e:  # ENOBUFS: exits were dropped
                self.error = e
                continue
            off = 0
            while off + 16 <= len(data):
                ln, typ = struct.unpack_from("=IH", data, off)
                if ln < 16:
                    break
                if typ == self.fam:
                    self._msg(data[off + 20:off + ln])
                off += (ln + 3) & ~3

    def _msg(self, payload):
        for typ, val in _attrs(payload):
            if typ != TASKSTATS_TYPE_AGGR_PID:
                continue
            tid, st = None, None
            for t2, v2 in _attrs(val):
                if t2 == TASKSTATS_TYPE_PID:
                    tid = struct.unpack_from("=I", v2)[0]
                elif t2 == TASKSTATS_TYPE_STATS:
                    st = v2
            if tid is None or st is None or len(st) < 112:
                continue
            # struct taskstats: cpu_count (schedstat's switch-ins) at 16, cpu_delay_total
            # at 24, cpu_run_virtual_total (sum_exec_runtime) at 72, ac_comm[32] at 80
            runs = struct.unpack_from("=Q", st, 16)[0]
            delay = struct.unpack_from("=Q", st, 24)[0]
            run = struct.unpack_from("=Q", st, 72)[0]
            comm = st[80:112].split(b"\0")[0].decode("utf-8", "replace")
            self.exits[tid] = {"run_ns": run, "delay_ns": delay, "runs": runs, "comm": comm}

    def __exit__(self, *exc):
        time.sleep(0.1)  # exits already sent are in the socket: let the loop take them
        self.stop = True
        self.thread.join()
        try:
            self.sock.close()
        except OSError:
            pass


# ---- runs shared by several modules ----

_shared = {}
_lock = threading.Lock()


class Fixture:
    """A dataset and the iotrace runs made on it; the dataset is gone once they are done."""

    def __init__(self):
        self.runs = {}
        self.files = {}
        self.size = 0
        self.md5 = {}
        self.dir = None
        self.error = None


def shared(name, make):
    """make(fixture) once per process; an exception in it is re-raised for every user."""
    with _lock:
        if name not in _shared:
            fx = Fixture()
            try:
                make(fx)
            except Exception as e:  # noqa: BLE001 - reported to each test that needs it
                fx.error = e
            _shared[name] = fx
        fx = _shared[name]
    if fx.error:
        raise fx.error
    return fx


def run_into(fx, key, args, keep=(), **kw):
    """Run iotrace with -o into a temporary folder; keep (run, summary) as fx.runs[key], and
    the text of each file of the folder named in keep as fx.files[key, name] (None if absent)."""
    out = tempfile.mkdtemp(prefix="iot-run-")
    try:
        r = iotrace(list(args) + ["-o", os.path.join(out, "o")], **kw)
        summ = None
        if os.path.exists(os.path.join(out, "o", "summary.json")):
            summ = load_summary(os.path.join(out, "o"))
        fx.runs[key] = (r, summ)
        for name in keep:
            try:
                with open(os.path.join(out, "o", name)) as f:
                    fx.files[key, name] = f.read()
            except OSError:
                fx.files[key, name] = None
        return r, summ
    finally:
        shutil.rmtree(out, ignore_errors=True)


def python3():
    """The machine's CPython binary: python3 on PATH unless it is a wrapper script (pyenv's
    shim, whose bash start-up would be traced too), then Debian's, then the interpreter
    running this test."""
    for cand in (shutil.which("python3"), "/usr/bin/python3", sys.executable):
        try:
            with open(cand, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    return cand
        except (OSError, TypeError):
            pass
    return sys.executable
