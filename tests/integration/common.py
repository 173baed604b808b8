"""common.py - helpers for integration tests: run iotrace, make datasets, check leftovers."""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("IOTRACE_BUILD", "build")
IOTRACE = os.path.join(ROOT, BUILD, "iotrace")
STATES = ["compute", "io_cpu", "io_wait", "lock_wait", "poll_wait", "other_wait", "runnable"]


def run(args, timeout=600, env=None, check=False, **kw):
    """Run iotrace with args; returns CompletedProcess (text)."""
    p = subprocess.run([IOTRACE] + list(args), capture_output=True, text=True,
                       timeout=timeout, env=env, **kw)
    if check and p.returncode != 0:
        raise AssertionError("iotrace %s exited %d\nstdout:\n%s\nstderr:\n%s" %
                             (" ".join(args), p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    return p


def run_json(args, **kw):
    """Run iotrace with --json; returns (summary dict, CompletedProcess)."""
    p = run(list(args) + ["--json"], **kw)
    try:
        return json.loads(p.stdout), p
    except ValueError as e:
        raise AssertionError("no JSON from iotrace %s (exit %d): %s\nstderr:\n%s" %
                             (" ".join(args), p.returncode, e, p.stderr[-4000:]))


class TmpDirCase(unittest.TestCase):
    """A test class whose outputs go in one temporary folder of its own (cls.tmp, named
    after TMP_PREFIX), removed after its tests; out(name) is a path in it."""

    TMP_PREFIX = "iot-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix=cls.TMP_PREFIX)
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)

    def out(self, name):
        return os.path.join(self.tmp, name)


class Dataset:
    """A directory of files on the real disk (/var/tmp), removed however the test ends."""

    def __init__(self, sizes=None, nested=False, prefix="iotrace-test-"):
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
        self.files = []
        for i, size in enumerate(sizes or []):
            sub = os.path.join(self.dir, "d%d" % (i % 3)) if nested and i % 2 else self.dir
            os.makedirs(sub, exist_ok=True)
            path = os.path.join(sub, "f%04d.bin" % i)
            with open(path, "wb") as f:
                left = size
                while left > 0:
                    n = min(left, 1 << 20)
                    f.write(os.urandom(n))
                    left -= n
            self.files.append(path)

    def size(self):
        return sum(os.path.getsize(p) for p in self.files)

    def md5sum(self):
        """Digests from coreutils md5sum, an independent source: {relative path: hex}."""
        out = subprocess.run(["md5sum"] + self.files, capture_output=True, text=True,
                             check=True).stdout
        res = {}
        for line in out.splitlines():
            digest, path = line.split(None, 1)
            res[os.path.relpath(path.lstrip("*"), self.dir)] = digest
        return res

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def bpf_ids_of(pid, kind="prog"):
    """Ids of the BPF programs (kind "prog") or maps ("map") process pid holds (its fds and
    links, from /proc/PID/fdinfo): a set, empty if the process is gone."""
    ids = set()
    key = kind + "_id:"
    d = "/proc/%d/fdinfo" % pid
    try:
        fds = os.listdir(d)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(os.path.join(d, fd)) as f:
                for line in f:
                    if line.startswith(key):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def bpf_programs_left():
    """Names of loaded BPF programs that belong to iotrace (iot_ prefix)."""
    if shutil.which("bpftool") is None:
        return []
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    try:
        progs = json.loads(out.stdout or "[]")
    except ValueError:
        return []
    return [p.get("name", "") for p in progs if p.get("name", "").startswith("iot_")]


def cgroups_left():
    pats = ["/sys/fs/cgroup/blkio/iotrace*", "/sys/fs/cgroup/unified/iotrace*",
            "/sys/fs/cgroup/iotrace*"]
    return [d for p in pats for d in glob.glob(p)]


def datasets_left():
    return glob.glob("/var/tmp/iotrace-*")


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def evict(path):
    """Drop path's pages from the page cache (written back first: dirty pages stay)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
