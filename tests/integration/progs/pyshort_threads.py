#!/usr/bin/env python3
"""pyshort_threads.py - NTHREADS threads taking turns on the GIL for a few ms, then gone at once.

Each thread runs FNV-1a over BYTES bytes in Python code (which never releases the
interpreter lock), so the threads wait on the GIL; then the process ends without the
interpreter's teardown (os._exit), a few ms after its last GIL wait: a tracer that names
the futex words only once it has read the waits finds the process gone. Prints
"hashing WALL_NS" (first start to last join).

    pyshort_threads.py NTHREADS BYTES
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
    if len(argv) != 3:
        sys.stderr.write("usage: pyshort_threads.py NTHREADS BYTES\n")
        return 2
    n, size = int(argv[1]), int(argv[2])
    buf = bytes(range(256)) * (size // 256)
    threads = [threading.Thread(target=fnv1a, args=(buf,)) for _ in range(n)]
    t0 = time.monotonic_ns()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.stdout.write("hashing %d\n" % (time.monotonic_ns() - t0))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
