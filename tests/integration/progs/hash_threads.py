#!/usr/bin/env python3
"""hash_threads.py - MD5 of every regular file under DIR, one thread per file (or none).

The script the project started from, in the shape people write it: hashlib + threading.
Prints "digest  path" lines like md5sum (paths as given: DIR/name), sorted by path.

    hash_threads.py [--threads | --sync] [--chunk BYTES] DIR
"""
import hashlib
import os
import sys
import threading


def md5_file(path, chunk):
    h = hashlib.md5()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def main(argv):
    mode, chunk, args = "threads", 64 * 1024, []
    it = iter(argv[1:])
    for a in it:
        if a in ("--threads", "--sync"):
            mode = a[2:]
        elif a == "--chunk":
            chunk = int(next(it))
        else:
            args.append(a)
    if len(args) != 1:
        sys.stderr.write("usage: hash_threads.py [--threads | --sync] [--chunk BYTES] DIR\n")
        return 2
    top = args[0]
    paths = sorted(os.path.join(d, n) for d, _, names in os.walk(top) for n in names
                   if os.path.isfile(os.path.join(d, n)))
    digests = {}
    if mode == "sync":
        for p in paths:
            digests[p] = md5_file(p, chunk)
    else:
        def work(p):
            digests[p] = md5_file(p, chunk)

        threads = [threading.Thread(target=work, args=(p,)) for p in paths]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for p in paths:
        print("%s  %s" % (digests[p], p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
