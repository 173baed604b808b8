#!/usr/bin/env python3
"""pool_hash.py - a multiprocessing.Pool of two hashing, its parent timing its own calls.

The parent's main thread waits in Pool.map() for its results, which the pool's result
thread hands it as they come (then reads its pipe again until the pool closes), and in
Pool.join() for the pool's threads and processes to end. Writes OUT (JSON): main's tid,
and for "map" and "join" the call's CLOCK_MONOTONIC wall and main's CPU time in it.

    pool_hash.py TASKS BLOCKS OUT
"""
import hashlib
import json
import multiprocessing
import sys
import threading
import time


def work(n):
    h = hashlib.md5()
    b = bytes(1024)
    for _ in range(n):
        h.update(b)
    return h.hexdigest()


def timed(fn):
    w, c = time.monotonic_ns(), time.thread_time_ns()
    r = fn()
    return r, {"wall_ns": time.monotonic_ns() - w, "cpu_ns": time.thread_time_ns() - c}


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: pool_hash.py TASKS BLOCKS OUT\n")
        return 2
    tasks, blocks = int(argv[1]), int(argv[2])
    p = multiprocessing.Pool(2)
    r, m = timed(lambda: p.map(work, [blocks] * tasks))
    p.close()
    _, j = timed(p.join)
    assert len(set(r)) == 1 and len(r) == tasks
    with open(argv[3], "w") as f:
        json.dump({"tid": threading.get_native_id(), "map": m, "join": j}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
