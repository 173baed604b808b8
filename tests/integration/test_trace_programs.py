"""test_trace_programs.py - `iotrace trace` with no option on real multi-process and
multi-threaded programs nobody here wrote, each answer checked against an independent source:
make -j2 compiling a small C project with gcc (every compiler process, each compile's CPU
against wait4's rusage of its gcc driver), a Python multiprocessing.Pool hashing files (all
bytes, the parent's waits not counted as disk I/O), Node.js hashing a directory with
fs.promises (the event loop and libuv's pool threads recognized, bytes against the files'
sizes). Small and quick: the module runs in well under a minute.
"""
import hashlib
import re
import socket
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

import common
import runlib
from test_trace import DIGEST_LINE, ENV, python3, trace

# gcc run through this wrapper reports the CPU time of the compile (the driver and the cc1
# and as it reaps: wait4's rusage) beside its pid; the wrapper is not the compiler
CC_WRAP = r"""
import os, sys
out = os.environ["CCWRAP_OUT"]
pid = os.fork()
if pid == 0:
    os.execvp("gcc", ["gcc"] + sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
with open(out, "a") as f:
    f.write("%d %d\n" % (pid, round((ru.ru_utime + ru.ru_stime) * 1e9)))
sys.exit(os.waitstatus_to_exitcode(status))
"""

# one translation unit: enough code that -O2 takes ~0.2 s, so a compile's exit (after the
# probes saw it) is a small part of its CPU time
C_UNIT = """
#include <string.h>
%s
int unit_%d(const char *s) { int r = 0; %s return r; }
"""

POOL = r"""
import hashlib, multiprocessing, os, sys

def digest(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest(), path

if __name__ == "__main__":
    d = sys.argv[1]
    files = sorted(os.path.join(d, n) for n in os.listdir(d))
    with multiprocessing.Pool(2) as p:
        for h, path in p.imap_unordered(digest, files):
            print(h + "  " + path, flush=True)
"""

NODE_HASH = r"""
const fs = require('fs/promises');
const crypto = require('crypto');
const path = require('path');
(async () => {
  const dir = process.argv[2];
  const names = (await fs.readdir(dir)).sort();
  await Promise.all(names.map(async (n) => {
    const fh = await fs.open(path.join(dir, n));
    const h = crypto.createHash('md5');
    const buf = Buffer.alloc(256 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      h.update(buf.subarray(0, bytesRead));
    }
    await fh.close();
    console.log(h.digest('hex') + '  ' + path.join(dir, n));
  }));
})();
"""


# a client on CPython's own HTTP client (blocking receives: waits in recvfrom, not poll),
# timing its request by its own clock
URL_CLIENT = r"""
import sys, time, urllib.request
t0 = time.perf_counter()
with urllib.request.urlopen(sys.argv[1]) as r:
    t1 = time.perf_counter()
    body = r.read()
t2 = time.perf_counter()
print("client %d %d %d" % (round((t1 - t0) * 1e9), round((t2 - t0) * 1e9), len(body)))
"""


# a server on a unix stream socket: each request costs it WORK_S seconds of computing (by its
# own clock) before it answers; with "fork" as argv[2] the client starts it itself (traced)
UNIX_SERVER = r"""
import os, socket, sys, time
def serve(path, ready):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    os.write(ready, b"x")
    while True:
        c, _ = srv.accept()
        with c:
            req = c.recv(64)
            if not req or req == b"quit":
                return
            t0 = time.perf_counter()
            n = 0
            while time.perf_counter() - t0 < 0.15:
                n += 1
            c.sendall(b"done %d\n" % n)
"""

# the client: asks once, timing the answer by its own clock (request sent to first byte,
# and the whole exchange); argv[2] "fork": it starts the server itself, as a child
UNIX_CLIENT = UNIX_SERVER + r"""
path, mode = sys.argv[1], sys.argv[2]
if mode == "fork":
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        serve(path, w)
        os._exit(0)
    os.read(r, 1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(path)
t0 = time.perf_counter()
c.sendall(b"work")
t1 = time.perf_counter()
first = c.recv(64)
t2 = time.perf_counter()
c.close()
print("client %d %d %s" % (round((t2 - t1) * 1e9), round((t2 - t0) * 1e9), first.split()[0].decode()))
if mode == "fork":
    q = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    q.connect(path)
    q.sendall(b"quit")
    q.close()
    os.waitpid(child, 0)
"""

# traced as `sh TRACER_PROBE DIR`: iotrace's own CPU time (the run time of each of its
# threads in their schedstat, ns, read with the shell's builtin read: no process of ours in
# between) as the script starts, then two builds of DIR with make -j2 (many short
# processes, each a new set of maps and symbols for iotrace's consumer), then again once
# iotrace has caught up (its CPU time grew by less than 3 ms over 0.2 s); writes
# "start end" and iotrace's thread counts at both to DIR/probe
TRACER_PROBE = r"""
d=$1
cpu() {
  n=0
  t=0
  for f in /proc/$PPID/task/*/schedstat; do
    read -r x _ < "$f"
    t=$((t + x))
    n=$((n + 1))
  done
}
cpu
a=$t
na=$n
for i in 1 2; do make -s -j2 -C "$d" clean; make -s -j2 -C "$d" prog; done
last=$a
k=0
while [ $k -lt 25 ]; do
  sleep 0.2
  cpu
  [ $((t - last)) -lt 3000000 ] && break
  last=$t
  k=$((k + 1))
done
echo "$a $t $na $n" > "$d/probe"
"""

# spin MS: on CPU until the process's own CPU clock reaches MS milliseconds (a CPU-bound job)
SPIN_C = r"""
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 100;
	struct timespec t;
	volatile unsigned long x = 0;

	do {
		for (int i = 0; i < 100000; i++)
			x += i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	} while (t.tv_sec * 1000L + t.tv_nsec / 1000000 < ms);
	return 0;
}
"""

DUR = re.compile(r"([0-9.]+) (ns|µs|ms|s)\b")
DUR_NS = {"ns": 1, "µs": 1e3, "ms": 1e6, "s": 1e9}


def dur_ns(text):
    """The first duration in text ("46.3 ms"), in ns."""
    m = DUR.search(text)
    return float(m.group(1)) * DUR_NS[m.group(2)]


def pct_is(said, x):
    """Is a sentence's share ("67", "99.9" before its %) x, to the digits it shows?"""
    return abs(float(said) - 100 * x) <= (0.05 if "." in said else 0.5) + 1e-9


def digests(text):
    """{path: md5} of the program's digest lines (the report around them aside)."""
    return {p: h for h, p in DIGEST_LINE.findall(text)}


def descendants_of(procs, pid):
    """pid and every process under it, by the processes' parent links."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [x["pid"] for x in procs if x["parent"] == p and x["pid"] not in out]
    return out


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class TracePrograms(common.TmpDirCase):
    TMP_PREFIX = "iot-progs-"

    NFILES, SIZE = 6, 2 << 20

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ds = common.Dataset([cls.SIZE] * cls.NFILES)
        cls.addClassCleanup(cls.ds.remove)
        cls.expect = {}
        for p in cls.ds.files:
            with open(p, "rb") as f:
                cls.expect[p] = hashlib.md5(f.read()).hexdigest()

    # ---- make -j2 of a small C project ----

    def test_make_j2(self):
        """Every compile's gcc, cc1 and as are seen, each with its command line; each
        compile's CPU (its gcc driver and the processes under it, on-CPU less stolen) within
        3% of wait4's rusage of the driver; make's exit status and the link."""
        if not shutil.which("gcc") or not shutil.which("make"):
            self.skipTest("gcc and make are needed (Debian packages gcc, make)")
        src = self.out("proj")
        os.makedirs(src)
        units = 4
        for i in range(units):
            funcs = "\n".join(
                "static int f%d_%d(const char *s) { int r = %d; for (size_t k = 0; "
                "k < strlen(s); k++) r = r * 31 + s[k] * %d; return r; }" % (i, j, j, j + 1)
                for j in range(250))
            calls = " ".join("r += f%d_%d(s);" % (i, j) for j in range(250))
            with open(os.path.join(src, "u%d.c" % i), "w") as f:
                f.write(C_UNIT % (funcs, i, calls))
        with open(os.path.join(src, "main.c"), "w") as f:
            f.write("int main(void) { return 0; }\n")
        objs = " ".join("u%d.o" % i for i in range(units))
        with open(os.path.join(src, "Makefile"), "w") as f:
            f.write("CC = %s %s\nCFLAGS = -O2\nprog: main.o %s\n\t$(CC) -o $@ $^\n" %
                    (python3(), os.path.join(src, "ccwrap.py"), objs))
        with open(os.path.join(src, "ccwrap.py"), "w") as f:
            f.write(CC_WRAP)
        rus = self.out("ccwrap.txt")
        env = dict(ENV, CCWRAP_OUT=rus)
        p, s = trace(["--no-stacks"], ["make", "-s", "-j2", "-C", src], self.out("make"),
                     env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(src, "prog")))
        run = s["runs"][0]
        procs = run["processes"]
        self.assertEqual(procs[0]["comm"], "make")
        self.assertEqual(procs[0]["exit_status"], 0)
        for i in range(units + 1):
            c = "u%d.c" % i if i < units else "main.c"
            for comm in ("gcc", "cc1", "as"):
                seen = [x for x in procs if x["comm"] == comm and
                        (c in x["cmdline"] or comm == "as")]
                self.assertTrue(seen, "%s of %s not seen: %s" % (comm, c, procs))
            cc1 = [x for x in procs if x["comm"] == "cc1" and c in x["cmdline"]]
            self.assertEqual(len(cc1), 1, cc1)
            self.assertEqual(cc1[0]["exit_status"], 0)
        self.assertEqual(len([x for x in procs if x["comm"] == "as"]), units + 1)
        self.assertTrue([x for x in procs if x["comm"] in ("ld", "collect2")])
        for x in procs:
            self.assertIsNotNone(x["end_ns"], x)
        # nothing outlived make (a lost exit record is not a process left running)
        self.assertNotIn("visibility", [v["rule"] for v in run["verdict"]], run["verdict"])
        # the default output lists the first six and says how many more
        self.assertIn("\n%d processes\n" % len(procs), p.stdout)
        self.assertIn("... %d more processes (-v shows 16, all of them are in summary.json)"
                      % (len(procs) - 6), p.stdout)
        # each compile's CPU against the kernel's own accounting of it
        with open(rus) as f:
            measured = [tuple(int(v) for v in l.split()) for l in f if l.strip()]
        self.assertEqual(len(measured), units + 2)  # the compiles and the link
        by_pid = {x["pid"]: x for x in procs}
        worst = 0.0
        for pid, ru in measured:
            self.assertIn(pid, by_pid, "gcc driver %d not traced" % pid)
            tree = descendants_of(procs, pid)
            ours = sum(runlib.ran(by_pid[t]) for t in tree)
            err = (ours - ru) / ru
            print("\n  compile %d (%s): %d processes, on-CPU less stolen %.1f ms, rusage "
                  "%.1f ms (%+.2f%%)" % (pid, by_pid[pid]["cmdline"][-24:], len(tree),
                                        ours / 1e6, ru / 1e6, 100 * err), end="")
            if ru > 50e6:  # the link and main.c are too small for a 3% band
                worst = max(worst, abs(err))
        self.assertLessEqual(worst, 0.03)

    # ---- make -j2 whose answer is known: a serial chain, and two jobs at once ----

    def spin_make(self, name, rules):
        """A make -j2 project of CPU-bound jobs (spin: a C program on CPU until its own
        CPU clock reaches the milliseconds it is given), traced; (run, machine's ncpu)."""
        if not shutil.which("gcc") or not shutil.which("make"):
            self.skipTest("gcc and make are needed (Debian packages gcc, make)")
        d = self.out(name)
        os.makedirs(d)
        with open(os.path.join(d, "spin.c"), "w") as f:
            f.write(SPIN_C)
        subprocess.run(["gcc", "-O1", "-o", os.path.join(d, "spin"),
                        os.path.join(d, "spin.c")], check=True)
        with open(os.path.join(d, "Makefile"), "w") as f:
            f.write(rules)
        p, s = trace(["--no-stacks"], ["make", "-s", "-j2", "-C", d], self.out(name + "-out"))
        self.assertEqual(p.returncode, 0, p.stderr)
        return s["runs"][0], s["machine"]["ncpu"]

    def machine_idle(self, run):
        m = run["machine_cpu"]
        return m["idle_ns"] / (m["busy_ns"] + m["idle_ns"] + m["steal_ns"])

    def test_make_j2_serial_chain_cpu(self):
        """Three jobs each needing the one before (spin 120 ms each) under make -j2: one
        job on CPU at a time, so the CPUs are not full of this run. The cause is the cpu
        line, whose figures (its share and time of the wall, the parallelism, the time with
        one thread on CPU) are summary.json's; "the CPUs were full" only when the machine's
        other work left them idle under 10% of the time, and then with that figure."""
        run, ncpu = self.spin_make("chain", "all: c\nc: b\n\t./spin 120\nb: a\n\t./spin 120\n"
                                   "a:\n\t./spin 120\n.PHONY: all a b c\n")
        wall = run["wall_ns"]
        one = run["concurrency_ns"][1]
        idle = self.machine_idle(run)
        rules = {v["rule"]: v["text"] for v in run["verdict"]}
        print("\n  chain: parallelism %.2f of %d, one thread on CPU %.0f%% of the wall, the "
              "machine idle %.0f%%: %s" % (run["parallelism"], ncpu, 100 * one / wall,
                                           100 * idle, sorted(rules)), end="")
        if ncpu < 2:
            self.skipTest("one CPU: a serial chain fills it")
        self.assertLess(run["parallelism"], 1.15)
        self.assertGreaterEqual(one / wall, 0.80)
        if "cpu_saturated" in rules:
            # full only as the machine's figure: others' work left it idle under 10%, and
            # the line says so with that figure
            self.assertLess(idle, 0.10, rules)
            m = re.search(r"its CPUs idle ([0-9.]+)% of the time", rules["cpu_saturated"])
            self.assertIsNotNone(m, rules)
            self.assertTrue(pct_is(m.group(1), idle), (m.group(1), idle))
            return
        self.assertNotIn("full", run["headline"])
        m = re.match(r"Computing held ([0-9.]+)% of the wall \(([^)]+)\) at parallelism "
                     r"([0-9.]+) of (\d+) CPUs: one thread on CPU at a time for ([0-9.]+)% "
                     r"of the wall \(([^)]+)\)", rules.get("cpu", ""))
        self.assertIsNotNone(m, rules)
        cpu = run["bound_ns"]["cpu"]
        self.assertTrue(pct_is(m.group(1), cpu / wall), (m.group(1), cpu / wall))
        self.assertLessEqual(abs(dur_ns(m.group(2)) - cpu), 0.005 * cpu)
        self.assertEqual(m.group(3), "%.2f" % run["parallelism"])
        self.assertEqual(int(m.group(4)), ncpu)
        self.assertTrue(pct_is(m.group(5), one / wall), (m.group(5), one / wall))
        self.assertLessEqual(abs(dur_ns(m.group(6)) - one), 0.005 * one)
        # the headline has it (first, unless waiting for a CPU held more of the wall)
        self.assertIn("computing held", run["headline"])

    def test_make_j2_parallel_jobs_cpu_saturated(self):
        """Two independent jobs (spin 250 ms each) under make -j2 on 2 CPUs: both on CPU
        at once, the CPUs full of this run (parallelism at least 0.85 x 2) or, when other
        work took some, full with it; the line's parallelism is summary.json's."""
        run, ncpu = self.spin_make("pair", "all: a b\na:\n\t./spin 250\nb:\n\t./spin 250\n"
                                   ".PHONY: all a b\n")
        rules = {v["rule"]: v["text"] for v in run["verdict"]}
        print("\n  pair: parallelism %.2f of %d, the machine idle %.0f%%: %s" %
              (run["parallelism"], ncpu, 100 * self.machine_idle(run), sorted(rules)), end="")
        if ncpu != 2:
            self.skipTest("the answer is known for 2 CPUs")
        self.assertIn("cpu_saturated", rules)
        self.assertNotIn("cpu", rules)
        self.assertIn("at parallelism %.2f of 2 CPUs" % run["parallelism"],
                      rules["cpu_saturated"])
        if run["parallelism"] < 1.7:
            m = re.search(r"its CPUs idle ([0-9.]+)% of the time", rules["cpu_saturated"])
            self.assertIsNotNone(m, rules)
            self.assertTrue(pct_is(m.group(1), self.machine_idle(run)), m.group(1))
        self.assertTrue(run["headline"].startswith("make: the CPUs were full"), run["headline"])

    # ---- iotrace's own CPU: measured, and named where the machine's other work is ----

    def test_tracer_cpu(self):
        """tracer_cpu_ns (iotrace's getrusage over the window) against iotrace's run time as
        its schedstat shows it, read by the traced script itself at its start and once
        iotrace caught up at its end: no less, and no more than the window's edges add
        (the script's start, the last sleep); machine_cpu's iotrace_ns and the share agree;
        the -v text and report.html name it with the same figure, and so does a verdict
        line that blames the machine's other work."""
        if not shutil.which("gcc") or not shutil.which("make"):
            self.skipTest("gcc and make are needed (Debian packages gcc, make)")
        d = self.out("tcpu")
        os.makedirs(d)
        for i in range(6):
            with open(os.path.join(d, "f%d.c" % i), "w") as f:
                f.write("#include <stdio.h>\nint f%d(int x) { return x * %d; }\n" % (i, i))
        with open(os.path.join(d, "main.c"), "w") as f:
            f.write("int main(void) { return 0; }\n")
        objs = " ".join("f%d.o" % i for i in range(6))
        with open(os.path.join(d, "Makefile"), "w") as f:
            f.write("prog: main.o %s\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -O2 -c $< -o $@\n"
                    "clean:\n\trm -f *.o prog\n" % objs)
        script = os.path.join(d, "probe.sh")
        with open(script, "w") as f:
            f.write(TRACER_PROBE)
        out = self.out("tcpu-out")
        p, s = trace(["-v"], ["sh", script, d], out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "probe")) as f:
            a, b, na, nb = (int(v) for v in f.read().split())
        # the same threads at both reads: none ended between them with its time
        self.assertEqual(na, nb)
        run = s["runs"][0]
        t = run["tracer_cpu_ns"]
        ours = t["user"] + t["sys"]
        probe = b - a
        print("\n  iotrace's CPU in the window %.1f ms (user %.1f, sys %.1f), by its "
              "schedstat between the script's reads %.1f ms (%+.1f ms)" %
              (ours / 1e6, t["user"] / 1e6, t["sys"] / 1e6, probe / 1e6,
               (ours - probe) / 1e6), end="")
        self.assertGreater(probe, 0)
        # the window holds the script's reads: never less (rusage's own rounding aside)
        self.assertGreaterEqual(ours, probe - 1e6)
        self.assertLessEqual(ours, probe + max(8e6, 0.05 * probe))
        m = run["machine_cpu"]
        self.assertEqual(m["iotrace_ns"], ours)
        self.assertAlmostEqual(run["tracer_cpu_share"],
                               min(1.0, ours / (m["busy_ns"] + m["idle_ns"] + m["steal_ns"])),
                               places=6)
        # named, with its figure, in the text (-v) and the page
        text = re.sub(r"\s+", " ", p.stdout)  # as wrapped to the terminal's width
        named = re.search(r"iotrace's own tracing ([0-9.]+ (?:ns|µs|ms|s)): user", text)
        self.assertIsNotNone(named, p.stdout)
        self.assertLessEqual(abs(dur_ns(named.group(1)) - ours), 0.005 * ours + 1)
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            page = f.read().replace("&#39;", "'")
        self.assertIn("iotrace's own tracing %s: user" % named.group(1), page)
        # a line that blames the machine's other work names iotrace's part of it
        for v in run["verdict"]:
            if v["rule"] in ("cpu_saturated", "cpu_wait", "wakeup_latency") and \
                    re.search(r"other work held them|other programs held", v["text"]):
                self.assertRegex(v["text"], r"iotrace('s own tracing| itself)", v["text"])

    def test_tracer_cpu_outside_window(self):
        """iotrace's own CPU over the whole command (tracer_cpu_total_ns: getrusage when
        summary.json is written, the rest of the folder written before it) against its
        rusage as its parent sees it (wait4), less the traced command's (runs[0].rusage):
        no more, and no less than what iotrace does after writing summary.json (the text
        report, its exit); the window's part (tracer_cpu_in_windows_ns: the run's
        tracer_cpu_ns) and the rest (tracer_cpu_outside_window_ns: loading the probes, the
        drain after the exit, the report) add up to it; -v says it."""
        d = self.out("outside")
        os.makedirs(d)
        with open(os.path.join(d, "f"), "wb") as f:
            f.write(os.urandom(8 << 20))
        out = self.out("outside-out")
        with open(self.out("outside.stdout"), "w+") as fo, \
                open(self.out("outside.stderr"), "w+") as fe:
            p = subprocess.Popen([common.IOTRACE, "trace", "--no-color", "-v", "-o", out,
                                  "--", "md5sum", os.path.join(d, "f")], stdout=fo,
                                 stderr=fe, env=ENV)
            # the parent's view of iotrace: wait4's rusage (iotrace and what it reaped)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            fo.seek(0)
            fe.seek(0)
            stdout, stderr = fo.read(), fe.read()
        self.assertEqual(p.returncode, 0, stderr)
        s = runlib.load_summary(out)
        run = s["runs"][0]
        tot, win, rest = (s[k] for k in ("tracer_cpu_total_ns", "tracer_cpu_in_windows_ns",
                                         "tracer_cpu_outside_window_ns"))
        for part in ("user", "sys"):
            self.assertEqual(win[part], run["tracer_cpu_ns"][part], s)
            self.assertEqual(rest[part], max(0, tot[part] - win[part]), s)
        ours = tot["user"] + tot["sys"]
        child = run["rusage"]["utime_ns"] + run["rusage"]["stime_ns"]
        seen = round((ru.ru_utime + ru.ru_stime) * 1e9) - child
        print("\n  iotrace's CPU: %.1f ms until summary.json (%.1f in the window, %.1f "
              "outside), %.1f ms by wait4 less md5sum's" %
              (ours / 1e6, (win["user"] + win["sys"]) / 1e6,
               (rest["user"] + rest["sys"]) / 1e6, seen / 1e6), end="")
        # rusage's microseconds, twice: 2 µs of rounding
        self.assertLessEqual(ours, seen + 2000)
        self.assertGreaterEqual(ours, seen - max(10e6, 0.10 * seen))
        # the probes' load alone is outside every window
        self.assertGreater(rest["user"] + rest["sys"], 0)
        text = re.sub(r"\s+", " ", stdout)
        self.assertIn("iotrace's own CPU: user", text)
        self.assertIn("outside the runs' windows", text)

    # ---- work handed to a server outside the trace, over a socket ----

    def http_server(self):
        """CPython's http.server (a real program nobody here wrote), started apart from the
        trace, on a directory of 40000 empty files: each listing takes it ~0.1 s of work
        before the first byte. Returns (pid, url)."""
        d = self.out("listing")
        if not os.path.isdir(d):
            os.makedirs(d)
            for i in range(40000):
                open(os.path.join(d, "f%05d" % i), "w").close()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = subprocess.Popen([python3(), "-m", "http.server", str(port), "--bind",
                                "127.0.0.1", "--directory", d],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(srv.wait)
        self.addCleanup(srv.kill)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline, "http.server did not listen")
                time.sleep(0.05)
        return srv.pid, "http://127.0.0.1:%d/" % port

    def handed_off(self, s, comm, port):
        run = s["runs"][0]
        peers = [x for x in run["socket_peers"] if x["comm"] == comm]
        self.assertEqual(len(peers), 1, run["socket_peers"])
        self.assertEqual(peers[0]["peer"], "127.0.0.1:%d" % port)
        self.assertTrue(peers[0]["peer_local"])
        return run, peers[0]

    def test_socket_handoff_curl(self):
        """curl (which polls, then reads) fetches a listing from http.server: the report says
        curl waited on a socket to the server's pid, not traced, for as long as curl's own
        clock says the server took to answer (time to first byte less the request's
        sending), at most its whole transfer; the wall is bound by the peer, not idle."""
        if not shutil.which("curl"):
            self.skipTest("curl is not installed (Debian package curl)")
        pid, url = self.http_server()
        port = int(url.rsplit(":", 1)[1].strip("/"))
        p, s = trace([], ["curl", "-s", "-o", "/dev/null", "-w",
                          "curl %{time_pretransfer} %{time_starttransfer} %{time_total}\n",
                          url], self.out("curl"))
        self.assertEqual(p.returncode, 0, p.stderr)
        m = re.search(r"^curl ([0-9.]+) ([0-9.]+) ([0-9.]+)$", p.stdout, re.M)
        self.assertTrue(m, p.stdout)
        pre, ttfb, total = (float(v) * 1e9 for v in m.groups())
        run, peer = self.handed_off(s, "curl", port)
        print("\n  curl: waited %.1f ms on %s (pid %d); its own clock: server %.1f ms, "
              "total %.1f ms" % (peer["wait_ns"] / 1e6, peer["peer"], peer["peer_pid"],
                                 (ttfb - pre) / 1e6, total / 1e6), end="")
        self.assertEqual(peer["peer_pid"], pid)
        self.assertIn("http.server", peer["peer_cmdline"])
        self.assertGreater(peer["poll_waits"], 0)
        self.assertGreaterEqual(peer["wait_ns"], 0.9 * (ttfb - pre) - 2e6)
        self.assertLessEqual(peer["wait_ns"], total + 1e6)
        # the wait is the peer's, not idle time, and the report says who to trace
        self.assertGreaterEqual(run["bound_ns"]["peer"], 0.8 * peer["wait_ns"], run["bound_ns"])
        notes = [v["text"] for v in run["verdict"] if v["rule"] == "handoff"]
        self.assertEqual(len(notes), 1, run["verdict"])
        self.assertIn("-p %d" % pid, notes[0])
        self.assertIn("note: Not traced: curl (pid %d) waited" % peer["pid"],
                      " ".join(p.stdout.split()))

    def test_socket_handoff_python_client(self):
        """CPython's urllib (blocking receives) fetches the same listing: its waits in
        recvfrom on the socket match its own clock of the request, and the server's pid."""
        pid, url = self.http_server()
        port = int(url.rsplit(":", 1)[1].strip("/"))
        prog = self.out("client.py")
        with open(prog, "w") as f:
            f.write(URL_CLIENT)
        p, s = trace(["--no-stacks"], [python3(), prog, url], self.out("urlclient"))
        self.assertEqual(p.returncode, 0, p.stderr)
        m = re.search(r"^client (\d+) (\d+) (\d+)$", p.stdout, re.M)
        self.assertTrue(m, p.stdout)
        head, whole = int(m.group(1)), int(m.group(2))
        comm = os.path.basename(python3())[:15]
        run, peer = self.handed_off(s, comm, port)
        print("\n  urllib: waited %.1f ms on %s (pid %d); its own clock: response %.1f ms, "
              "whole %.1f ms" % (peer["wait_ns"] / 1e6, peer["peer"], peer["peer_pid"],
                                 head / 1e6, whole / 1e6), end="")
        self.assertEqual(peer["peer_pid"], pid)
        self.assertGreater(peer["recv_waits"], 0)
        # urlopen returns with the headers: the server's work is before them
        self.assertGreaterEqual(peer["wait_ns"], 0.9 * head - 5e6)
        self.assertLessEqual(peer["wait_ns"], whole + 1e6)

    def unix_client(self, mode, out):
        """The unix-socket client traced, its server outside the trace ("outside": started
        here, by the test) or inside it ("fork"); returns (the trace, its summary, the
        client's own clock of the answer: sent to first byte, whole exchange, in ns)."""
        prog = self.out("unix_client.py")
        with open(prog, "w") as f:
            f.write(UNIX_CLIENT)
        path = self.out("sock-%s" % mode)
        if mode == "outside":
            srv_prog = self.out("unix_server.py")
            with open(srv_prog, "w") as f:
                f.write(UNIX_SERVER + "\nserve(sys.argv[1], sys.stdout.fileno())\n")
            srv = subprocess.Popen([python3(), srv_prog, path], stdout=subprocess.PIPE)
            self.addCleanup(srv.wait)
            self.addCleanup(srv.kill)
            self.assertEqual(srv.stdout.read(1), b"x", "the unix-socket server did not start")
        p, s = trace(["--no-stacks"], [python3(), prog, path, mode], self.out(out))
        self.assertEqual(p.returncode, 0, p.stderr)
        m = re.search(r"^client (\d+) (\d+) done$", p.stdout, re.M)
        self.assertTrue(m, p.stdout)
        return p, s, int(m.group(1)), int(m.group(2)), (srv.pid if mode == "outside" else 0)

    def test_socket_handoff_unix(self):
        """A client asks a server on a unix stream socket, started apart from the trace, for
        0.15 s of work: the report names the server's pid (the socket's peer credentials),
        says the client waited on a unix socket for as long as its own clock says the answer
        took (request sent to first byte), and says who to trace; the wall is the peer's."""
        p, s, head, whole, pid = self.unix_client("outside", "unix-out")
        run = s["runs"][0]
        comm = os.path.basename(python3())[:15]
        peers = [x for x in run["socket_peers"] if x["comm"] == comm]
        self.assertEqual(len(peers), 1, run["socket_peers"])
        peer = peers[0]
        print("\n  unix socket: waited %.1f ms on pid %d; its own clock: answer %.1f ms, "
              "whole %.1f ms" % (peer["wait_ns"] / 1e6, peer["peer_pid"], head / 1e6,
                                 whole / 1e6), end="")
        self.assertEqual(peer["peer"], "unix socket")
        self.assertTrue(peer["peer_local"])
        self.assertEqual(peer["peer_pid"], pid)
        self.assertIn("unix_server.py", peer["peer_cmdline"])
        self.assertGreater(peer["recv_waits"], 0)
        self.assertGreaterEqual(peer["wait_ns"], 0.9 * head - 2e6)
        self.assertLessEqual(peer["wait_ns"], whole + 1e6)
        # a socket wait, bound by the peer, and said so by default
        self.assertGreaterEqual(run["io_wait_by_kind_ns"]["socket"], 0.9 * head - 2e6,
                                run["io_wait_by_kind_ns"])
        self.assertGreaterEqual(run["bound_ns"]["peer"], 0.8 * peer["wait_ns"], run["bound_ns"])
        notes = [v["text"] for v in run["verdict"] if v["rule"] == "handoff"]
        self.assertEqual(len(notes), 1, run["verdict"])
        self.assertIn("on a unix socket, whose other end is pid %d" % pid, notes[0])
        self.assertIn("-p %d" % pid, notes[0])
        self.assertIn("note: Not traced: %s (pid %d) waited" % (comm, peer["pid"]),
                      " ".join(p.stdout.split()))

    def test_socket_unix_peer_traced(self):
        """The same exchange with the server forked by the client, so traced too: no blind
        spot to report (its work is in the trace: its process computed for the answer), and
        the client's wait is still a socket wait of the length its own clock says."""
        p, s, head, whole, _ = self.unix_client("fork", "unix-in")
        run = s["runs"][0]
        self.assertEqual(run["socket_peers"], [])
        self.assertNotIn("handoff", [v["rule"] for v in run["verdict"]], run["verdict"])
        procs = run["processes"]
        self.assertEqual(len(procs), 2, procs)
        server = [x for x in procs if x["parent"] == procs[0]["pid"]]
        self.assertEqual(len(server), 1, procs)
        self.assertGreaterEqual(server[0]["states_ns"]["compute"], 0.9 * 0.15e9, server)
        client = [t for t in run["threads"] if t["tid"] == procs[0]["pid"]][0]
        sock = client["io_wait_by_kind_ns"]["socket"]
        print("\n  unix socket (server traced): client waited %.1f ms on the socket; its own "
              "clock: answer %.1f ms" % (sock / 1e6, head / 1e6), end="")
        self.assertGreaterEqual(sock, 0.9 * head - 2e6)
        self.assertLessEqual(sock, whole + 1e6)

    # ---- Python multiprocessing.Pool ----

    def test_python_pool(self):
        """Every byte of every file is seen (in the pool's worker processes); the parent
        waits for results on pipes and futexes: its waits are not disk I/O."""
        prog = self.out("pool.py")
        with open(prog, "w") as f:
            f.write(POOL)
        p, s = trace(["--no-stacks"], [python3(), prog, self.ds.dir], self.out("pool"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(digests(p.stdout), self.expect)
        run = s["runs"][0]
        procs = run["processes"]
        parent = procs[0]
        workers = [x for x in procs if x["parent"] == parent["pid"] and x["bytes_read"] >=
                   self.SIZE]
        self.assertGreaterEqual(len(workers), 1, procs)
        size = self.NFILES * self.SIZE
        got = sum(x["bytes_read"] for x in workers)
        print("\n  pool: %d processes, workers read %d of %d bytes" % (len(procs), got, size),
              end="")
        self.assertGreaterEqual(got, size)
        self.assertLess(got, size + (4 << 20))  # the workers' own imports: small
        self.assertGreaterEqual(run["bytes_read"], size)
        # the parent reads its results from pipes, never the files: its blocked time
        # (io_wait) is far from the dataset's
        self.assertLess(parent["bytes_read"], self.SIZE)
        kinds = run.get("io_wait_by_kind_ns")
        if kinds is not None:
            # the files were cached: what the processes waited on were the pool's pipes
            self.assertGreater(kinds.get("pipe", 0), kinds.get("file", 0), kinds)
            # and the reports say pipe, not disk: -v's waits line lists the pipe first
            # (largest) with the time summary.json gives, report.html has a pipe segment
            v = common.run(["report", "-v", "--no-color", self.out("pool"), "-o",
                            self.out("pool-v")])
            self.assertEqual(v.returncode, 0, v.stderr)
            m = re.search(r"waits: io_wait [^:]+: (\w+) ", v.stdout)
            self.assertIsNotNone(m, v.stdout[-3000:])
            self.assertEqual(m.group(1), "pipe", v.stdout[-3000:])
            with open(os.path.join(self.out("pool"), "report.html")) as h:
                html = h.read()
            self.assertIn('data-kind="io_wait pipe"', html)
            self.assertIn(": io_wait, pipe ", html)
        rules = [v["rule"] for v in run["verdict"]]
        self.assertNotIn("disk", rules, run["verdict"])
        # the parent's helper threads poll sentinels and read pipes: CPython threads, not
        # an event loop and its I/O pool
        roles = [t["role"] for t in run["threads"] if t["pid"] == parent["pid"]]
        self.assertEqual(roles.count("python main"), 1, roles)
        self.assertTrue(all(r.startswith("python") for r in roles), roles)

    # ---- Node.js ----

    def test_node_fs_promises(self):
        """node hashing the files with fs.promises: the digests are md5's, the bytes read
        within 1% of the files' sizes (libuv's pool threads read them), the event loop (the
        main thread, which polls, when it has to wait at all) and the pool threads
        recognized, from their stacks and, with --no-stacks, from their waits alone."""
        node = shutil.which("node") or shutil.which("nodejs")
        if not node:
            self.skipTest("node is not installed (Debian package nodejs)")
        prog = self.out("hash.js")
        with open(prog, "w") as f:
            f.write(NODE_HASH)
        size = self.NFILES * self.SIZE
        for stacks in (True, False):
            opts = ["-v"] + ([] if stacks else ["--no-stacks"])
            p, s = trace(opts, [node, prog, self.ds.dir], self.out("node-%d" % stacks))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(digests(p.stdout), self.expect)
            run = s["runs"][0]
            th = run["threads"]
            roles = {t["tid"]: t["role"] for t in th}
            root = run["processes"][0]["pid"]
            self.assertEqual(roles[root], "event loop", th)
            pool = [t for t in th if t["role"].startswith("uv pool")]
            self.assertGreaterEqual(len(pool), 2, roles)
            pool_bytes = sum(t["bytes_read"] for t in pool)
            print("\n  node (%s): roles %s; pool read %d of %d bytes (%+.3f%%)" %
                  ("stacks" if stacks else "no stacks", sorted(set(roles.values())),
                   pool_bytes, size, 100.0 * (pool_bytes - size) / size), end="")
            self.assertLessEqual(abs(pool_bytes - size), size * 0.01)
            self.assertIn("uv pool", p.stdout)  # the terminal report names them too (-v)
            # the ring buffer (4 MiB a CPU, 8 with stacks) keeps up: node once lost 79% of
            # its thread time with a smaller one, and its roles with it
            self.assertEqual(run["lost_events"], 0, "%d events lost" % run["lost_events"])
            # every thread is node's, named so: the loop's thread, met before its exec,
            # used to keep iotrace's name when its exit record was lost
            self.assertEqual([t["comm"] for t in th if t["tid"] == root],
                             [os.path.basename(os.path.realpath(node))[:15]], th)
            self.assertNotIn("iotrace", [t["comm"] for t in th], th)
            words = [v["text"] for v in run["verdict"]] + [run["headline"]]
            # (iotrace's own CPU, named where the machine's other work is, is no thread)
            self.assertFalse([w for w in words
                              if re.search(r"iotrace(?!'s own tracing| itself used)", w)],
                             words)
            busiest = [v["text"] for v in run["verdict"] if v["rule"] == "serial"]
            for w in busiest:  # the loop does the hashing: it is the busiest
                self.assertIn("the busiest, event loop (node)", w)
            # the machine's CPU figures span the run's wall, not the drain after it: with
            # stacks, iotrace unwinds node's copies for a second after node exits, and
            # /proc/stat sampled then made "its CPUs idle N%" a figure of 1.3 s, not 0.2 s
            mc = run["machine_cpu"]
            window = (mc["busy_ns"] + mc["idle_ns"] + mc["steal_ns"]) / s["machine"]["ncpu"]
            tick = 1e9 / os.sysconf("SC_CLK_TCK")
            self.assertLess(abs(window - run["wall_ns"]), 3 * tick + 0.05 * run["wall_ns"],
                            "machine_cpu spans %.1f ms, the wall %.1f ms" %
                            (window / 1e6, run["wall_ns"] / 1e6))
            self.assertLessEqual(mc["iotrace_ns"], mc["busy_ns"] + 2 * tick, mc)


if __name__ == "__main__":
    unittest.main()
