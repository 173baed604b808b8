"""stress_long.py - make stress: the tracer's memory and CPU stay bounded on a long trace.

`iotrace trace -p PID -d SECS` of a busy process (IOTRACE_STRESS_SECS, default 600: ten
minutes; a read storm of one thread, the worst case for events per second), sampling
iotrace's own memory (RssAnon: what it allocates; the ring buffer's mapping is RssFile and
fixed) and CPU time every few seconds. Bounded means: the last quarter of the trace adds
no more than a quarter of what the first quarter did, plus 16 MiB. A trace whose memory
passes 2 GiB is stopped there (SIGKILL, the kernel frees its probes) and fails at once,
rather than taking the machine's memory with it.
"""
import os
import signal
import subprocess
import tempfile
import time
import unittest

import common
import stress_common as sc

SECS = int(os.environ.get("IOTRACE_STRESS_SECS", "600"))
CAP_KB = 2 << 20


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            w = f.read().rsplit(")", 1)[1].split()
        return (int(w[11]) + int(w[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


class StressLong(unittest.TestCase):
    def test_memory_bounded_on_a_long_trace(self):
        sc.build()
        with tempfile.TemporaryDirectory(prefix="iot-stress-", dir="/var/tmp") as d:
            data = os.path.join(d, "storm.bin")
            sc.warm_file(data, 256 << 20)
            busy = subprocess.Popen([sc.WORK, "storm", data, "1", str(SECS + 120)],
                                    stdout=subprocess.DEVNULL)
            it = subprocess.Popen([common.IOTRACE, "trace", "--json", "-p", str(busy.pid), "-d",
                                   str(SECS), "-o", os.path.join(d, "out")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            samples = []  # (seconds, anon KiB, cpu s)
            t0 = time.time()
            killed = False
            try:
                while it.poll() is None:
                    anon = status_kb(it.pid, "RssAnon")
                    if anon is not None:
                        samples.append((time.time() - t0, anon, cpu_s(it.pid)))
                        if anon > CAP_KB:
                            it.kill()
                            killed = True
                            break
                    time.sleep(2)
                it.wait(timeout=3600)
            finally:
                busy.kill()
                busy.wait()
                if it.poll() is None:
                    it.kill()
                    it.wait()
            tracing = [s for s in samples if s[0] <= SECS]
            self.assertFalse(killed, "iotrace's memory passed %d MiB after %.0f s of tracing "
                             "a busy process (samples: %s)" %
                             (CAP_KB >> 10, samples[-1][0],
                              [(round(t), a >> 10) for t, a, _ in samples[::5]]))
            self.assertEqual(it.returncode, 0, it.stderr.read()[-2000:] if it.stderr else "")
            self.assertGreater(len(tracing), 8)
            n = len(tracing)
            q1 = tracing[n // 4][1] - tracing[0][1]
            q4 = tracing[-1][1] - tracing[3 * n // 4][1]
            cpu = tracing[-1][2] / tracing[-1][0] if tracing[-1][2] else 0
            print("\n    %d s trace: RssAnon %d -> %d MiB, first quarter +%d MiB, last +%d MiB; "
                  "iotrace CPU %.0f%% of one CPU" %
                  (SECS, tracing[0][1] >> 10, tracing[-1][1] >> 10, q1 >> 10, q4 >> 10,
                   100 * cpu), end=" ")
            self.assertLessEqual(q4, q1 / 4 + (16 << 10), "memory keeps growing")
            self.assertLess(cpu, 0.5, "iotrace used %.0f%% of a CPU" % (100 * cpu))


if __name__ == "__main__":
    unittest.main()
