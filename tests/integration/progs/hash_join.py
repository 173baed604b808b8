#!/usr/bin/env python3
"""hash_join.py - MD5 of every file in DIR by a thread each (hashlib, threading), while the
main thread times its own joins. The threads start hashing together (a barrier), so each
waits for the interpreter lock.

    hash_join.py DIR OUT

Prints "digest  path" lines like md5sum. OUT gets one JSON object: the main thread's tid and,
for its Thread.join() calls, their count and time: wall (time.monotonic_ns), on CPU
(time.thread_time_ns) and ready to run but not running (the run-queue delay of its
/proc/self/task/TID/schedstat, read with the interpreter lock held: a read through os would
let it go and wait for it again, outside the timed call); wall less both is the time main
waited inside join(), for the threads to end and, once one has, for the interpreter lock to
come back. Each thread notes the time as its last act (ends_ns); "threads_ns" is the part of
main's joins before the thread it joined had noted it: time main certainly waited for the
thread, not for the lock, which it can want only once the thread is done.
"""
import ctypes
import hashlib
import json
import os
import sys
import threading
import time


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        # 1 KiB at a time: hashlib keeps the interpreter lock for buffers under 2 KiB
        # (it lets it go for larger ones), so the threads take turns with it
        while True:
            b = f.read(1024)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


# PyDLL: the call keeps the interpreter lock (CDLL's let it go)
LIBC = ctypes.PyDLL(None, use_errno=True)
LIBC.pread.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_long]
LIBC.pread.restype = ctypes.c_ssize_t
BUF = ctypes.create_string_buffer(128)


def runq_ns(fd):
    n = LIBC.pread(fd, BUF, 127, 0)
    if n <= 0:
        raise OSError(ctypes.get_errno(), "failed to read the thread's schedstat")
    return int(BUF.raw[:n].split()[1])


def main(argv):
    top, out = argv[1], argv[2]
    paths = sorted(os.path.join(top, n) for n in os.listdir(top))
    digests = {}
    ends = {}
    together = threading.Barrier(len(paths))

    def work(p):
        together.wait()
        digests[p] = md5_file(p)
        ends[p] = time.monotonic_ns()

    tid = threading.get_native_id()
    sched = os.open("/proc/self/task/%d/schedstat" % tid, os.O_RDONLY)
    threads = [threading.Thread(target=work, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    calls = wall = cpu = runq = before_end = 0
    for t, p in zip(threads, paths):
        q0, c0, w0 = runq_ns(sched), time.thread_time_ns(), time.monotonic_ns()
        t.join()
        w1, c1, q1 = time.monotonic_ns(), time.thread_time_ns(), runq_ns(sched)
        calls += 1
        wall += w1 - w0
        cpu += c1 - c0
        runq += q1 - q0
        before_end += max(0, min(ends[p], w1) - w0)
    for p in paths:
        print("%s  %s" % (digests[p], p))
    with open(out, "w") as f:
        json.dump({"tid": tid, "calls": calls, "wall_ns": wall, "cpu_ns": cpu,
                   "runq_ns": runq, "threads_ns": before_end}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
