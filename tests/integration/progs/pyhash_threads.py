#!/usr/bin/env python3
"""pyhash_threads.py - FNV-1a of NTHREADS buffers in pure Python, one thread per buffer.

Python-level code runs only while its thread holds the interpreter lock (hashlib releases it
around large buffers; this loop never does), so the threads take turns: the GIL bounds the
run however many CPUs there are. Prints each thread's digest, then one line per thread,
"thread TID CPU_NS" (its own CPU time, time.thread_time_ns at its end: the kernel's run time
of the thread), and "hashing WALL_NS" (from the first start to the last join), for the tests
to check iotrace's figures against.

With --exit-at-once it prints only the "hashing" line, then ends the process without the
interpreter's teardown (os._exit), a few ms after its last GIL wait: a tracer that names
the futex words only once it has read the waits finds the process gone.

    pyhash_threads.py NTHREADS BYTES [--exit-at-once]
"""
import os
import sys
import threading
import time


def fnv1a(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def main(argv):
    at_once = argv[3:] == ["--exit-at-once"]
    if len(argv) != 3 and not at_once:
        sys.stderr.write("usage: pyhash_threads.py NTHREADS BYTES [--exit-at-once]\n")
        return 2
    n, size = int(argv[1]), int(argv[2])
    bufs = [bytes((i * 7 + k) & 0xFF for i in range(256)) * (size // 256) for k in range(n)]
    out = [None] * n

    def work(k):
        d = fnv1a(bufs[k])
        out[k] = (d, threading.get_native_id(), time.thread_time_ns())

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    t0 = time.monotonic_ns()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic_ns() - t0
    if at_once:
        sys.stdout.write("hashing %d\n" % wall)
        sys.stdout.flush()
        os._exit(0)
    for k, (d, tid, cpu) in enumerate(out):
        print("%08x buffer %d" % (d, k))
        print("thread %d %d" % (tid, cpu))
    print("hashing %d" % wall)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
