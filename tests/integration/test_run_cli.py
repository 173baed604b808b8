"""test_run_cli.py - `iotrace run` bad input and faults: messages, exit codes, nothing left behind.

Exit codes (README): 0 ok, 1 run failed, 2 usage, 3 not permitted, 5 bad input, 130 SIGINT.
Faults are caused deterministically: the interrupt and the crash are delivered once the
workload child has read its first MiB (its /proc/PID/io), on a throttled cold dataset so
that the run is still going then.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

import runlib

MIB = 1024 * 1024


def mounted(path):
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class BadInput(unittest.TestCase):

    def assert_rejected(self, r, code, *words):
        self.assertEqual(r.rc, code, r.describe())
        for w in words:
            self.assertIn(w, r.stderr, r.describe())
        self.assertEqual(r.running, [], "a run started: " + r.describe())
        self.assertEqual(r.leftovers(), [])

    def test_not_root_exit_3_names_sudo(self):
        with runlib.make_dataset([1000], readable_by_all=True) as ds:
            os.chmod(ds.dir, 0o755)
            r = runlib.iotrace(["run", "md5dir", ds.dir, "--no-stacks"], user=runlib.NOBODY)
        self.assert_rejected(r, 3, "sudo")

    def test_dir_missing_exit_5(self):
        missing = "/var/tmp/iotrace-test-no-such-dir-%d" % os.getpid()
        r = runlib.iotrace(["run", "md5dir", missing])
        self.assert_rejected(r, 5, missing, "No such file")

    def test_not_a_directory_exit_5(self):
        with tempfile.NamedTemporaryFile(prefix="iotrace-test-", dir="/var/tmp") as f:
            r = runlib.iotrace(["run", "md5dir", f.name])
        self.assert_rejected(r, 5, f.name, "not a directory")

    def test_empty_dir_exit_5(self):
        with runlib.make_dataset([]) as ds, tempfile.TemporaryDirectory() as out:
            os.mkdir(os.path.join(ds.dir, "sub"))  # folders but no file: still empty
            os.symlink("/etc/passwd", os.path.join(ds.dir, "link"))  # skipped unopened
            r = runlib.iotrace(["run", "md5dir", ds.dir, "-o", os.path.join(out, "o")])
            self.assertFalse(os.path.exists(os.path.join(out, "o")),
                             "a report was written for a run that could not be")
        self.assert_rejected(r, 5, ds.dir, "no regular files")

    def test_unknown_workload_exit_2_lists_valid(self):
        r = runlib.iotrace(["run", "md5sum"])
        self.assert_rejected(r, 2, "md5sum", "md5dir", "readfile", "fetch")

    def test_unknown_strategy_exit_2_lists_valid(self):
        r = runlib.iotrace(["run", "md5dir", "-s", "sync,fibers"])
        self.assert_rejected(r, 2, "fibers", "sync", "threads", "callback", "uring", "procs",
                             "gil")

    def test_bad_readahead_exit_2(self):
        r = runlib.iotrace(["run", "md5dir", "--readahead", "maybe"])
        self.assert_rejected(r, 2, "--readahead", "maybe", "on or off")
        r = runlib.iotrace(["run", "readfile", "--readahead", "off"])
        self.assert_rejected(r, 2, "--readahead", "readfile")

    def test_bad_throttle_exit_2(self):
        for rate in ["10Q", "0", "-5M", "", "fast", "1.5"]:
            with self.subTest(rate=rate):
                r = runlib.iotrace(["run", "md5dir", "--throttle", rate])
                self.assert_rejected(r, 2, "--throttle")


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class Tmpfs(unittest.TestCase):
    """A dataset on tmpfs: no block device, so no cold cache and no throttle."""

    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="iot-tmpfs-")
        self.addCleanup(shutil.rmtree, self.mnt, ignore_errors=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", self.mnt], check=True)
        self.addCleanup(self.umount)
        for i in range(3):
            with open(os.path.join(self.mnt, "f%d" % i), "wb") as f:
                f.write(os.urandom(10000 + i))

    def umount(self):
        subprocess.run(["umount", self.mnt])
        self.assertFalse(mounted(self.mnt))

    def test_cache_cold_refused(self):
        r = runlib.iotrace(["run", "md5dir", self.mnt, "--cache", "cold", "--no-stacks"])
        self.assertEqual(r.rc, 5, r.describe())
        self.assertIn("no block device", r.stderr)
        self.assertIn("--cache warm", r.stderr)  # what to do instead
        self.assertEqual(r.running, [])
        self.assertEqual(r.leftovers(), [])

    def test_throttle_refused_no_cgroup(self):
        r = runlib.iotrace(["run", "md5dir", self.mnt, "--throttle", "20M", "--cache", "warm",
                            "--no-stacks"])
        self.assertEqual(r.rc, 5, r.describe())
        self.assertIn("no block device", r.stderr)
        self.assertEqual(r.running, [])
        self.assertEqual(runlib.cgroups_of(r.pid), [])
        self.assertEqual(r.leftovers(), [])

    def test_cache_both_runs_warm_only(self):
        with tempfile.TemporaryDirectory() as out:
            r = runlib.iotrace(["run", "md5dir", self.mnt, "-s", "sync", "--no-stacks",
                                "-o", os.path.join(out, "o")])
            self.assertEqual(r.rc, 0, r.describe())
            self.assertIn("cold cache is impossible", r.stderr)
            s = runlib.load_summary(os.path.join(out, "o"))
        self.assertEqual([run["label"] for run in s["runs"]], ["sync/warm"])


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class AsInvokingUser(unittest.TestCase):
    """Under sudo (SUDO_UID/SUDO_GID) the workload runs as that user: what it cannot read is
    reported and skipped, and the run goes on."""

    env = dict(os.environ, SUDO_UID=str(runlib.NOBODY), SUDO_GID=str(runlib.NOBODY))

    def test_unreadable_file_and_folder_skipped(self):
        sizes = [70000, MIB, 123457, 9]  # the unreadable one large enough to tell
        with runlib.make_dataset(sizes, nested=True, readable_by_all=True) as ds, \
                tempfile.TemporaryDirectory() as out:
            secret = ds.files[1]
            os.chmod(secret, 0)
            closed = os.path.join(ds.dir, "closed")
            os.mkdir(closed, 0o700)
            with open(os.path.join(closed, "inside"), "wb") as f:
                f.write(b"x" * 100)
            expect = {k: v for k, v in ds.md5sum().items()
                      if k != os.path.relpath(secret, ds.dir)}
            r = runlib.iotrace(["run", "md5dir", ds.dir, "-s", "sync,threads", "--cache",
                                "warm", "--verify", "--no-stacks", "--no-color",
                                "-o", os.path.join(out, "o")], env=self.env)
            self.assertEqual(r.rc, 0, r.describe())
            self.assertIn(secret, r.stderr)
            self.assertIn(closed, r.stderr)
            self.assertIn("Permission denied", r.stderr)
            self.assertEqual(r.running, ["sync/warm", "threads/warm"])
            self.assertEqual(runlib.parse_verify(r.stdout, ds.dir), expect)
            summ = os.path.join(out, "o", "summary.json")
            # files the run writes belong to the invoking user
            self.assertEqual(os.stat(summ).st_uid, runlib.NOBODY)
            s = runlib.load_summary(os.path.join(out, "o"))
            readable = sum(sizes) - sizes[1]
            for run in s["runs"]:
                # the hashed files were read, the skipped one was not
                self.assertGreaterEqual(run["bytes_read"], readable, run["label"])
                self.assertLess(run["bytes_read"], readable + sizes[1] // 2, run["label"])
        self.assertEqual(r.leftovers(), [])

    def test_unreadable_dir_exit_5(self):
        with runlib.make_dataset([1000]) as ds:
            os.chmod(ds.dir, 0o700)
            r = runlib.iotrace(["run", "md5dir", ds.dir, "-s", "sync", "--cache", "warm",
                                "--no-stacks", "-o", os.path.join(ds.dir, "o")], env=self.env)
        self.assertEqual(r.rc, 5, r.describe())
        self.assertIn(ds.dir, r.stderr)
        self.assertIn("Permission denied", r.stderr)
        self.assertEqual(r.leftovers(), [])

    def test_json_verify_keeps_stdout_json(self):
        with runlib.make_dataset([1000, 0, 77777], readable_by_all=True) as ds, \
                tempfile.TemporaryDirectory() as out:
            r = runlib.iotrace(["run", "md5dir", ds.dir, "-s", "sync", "--cache", "warm",
                                "--no-stacks", "--json", "--verify", "-o",
                                os.path.join(out, "o")], env=self.env)
            self.assertEqual(r.rc, 0, r.describe())
            doc = json.loads(r.stdout)  # one JSON document, nothing else
            self.assertEqual(doc["runs"][0]["label"], "sync/warm")
            digests = runlib.parse_verify(r.stdout + "\n" + r.stderr, ds.dir)
            self.assertEqual(digests, ds.md5sum())


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class Faults(unittest.TestCase):
    """SIGINT to iotrace and a crashing workload, mid-run, on a throttled cold dataset."""

    def interrupt_at_first_mib(self, run, line, action):
        """on_running hook: once the workload read 1 MiB, do action(run, child pid)."""
        if getattr(run, "acted", False):
            return
        run.acted = True
        child = runlib.wait_workload_reading(run.pid, MIB, timeout=60)
        run.child = child
        if child is None:
            return
        action(run, child)

    def test_sigint_partial_report_nothing_left(self):
        self.interrupted(signal.SIGINT, 130)

    def test_sigterm_partial_report_nothing_left(self):
        self.interrupted(signal.SIGTERM, 143)

    def interrupted(self, sig, code):
        with tempfile.TemporaryDirectory() as out:
            # a generated dataset (no DIR): iotrace must remove it on the way out too
            r = runlib.iotrace(
                ["run", "md5dir", "--files", "4", "--file-size", "4M", "--cache", "cold",
                 "--throttle", "10M", "-s", "sync,threads", "--no-stacks", "--no-color",
                 "-o", os.path.join(out, "o")],
                on_running=lambda run, line: self.interrupt_at_first_mib(
                    run, line, lambda run, child: os.kill(run.pid, sig)))
            self.assertIsNotNone(getattr(r, "child", None), "never saw the workload read: " +
                                 r.describe())
            self.assertEqual(r.rc, code, r.describe())
            self.assertEqual(r.running, ["sync/cold"])
            # the partial table: the interrupted run's row, and no later run
            self.assertIn("sync/cold", r.stdout)
            self.assertNotIn("threads/cold", r.stdout)
            s = runlib.load_summary(os.path.join(out, "o"))
        self.assertEqual([run["label"] for run in s["runs"]], ["sync/cold"])
        run = s["runs"][0]
        self.assertGreaterEqual(run["bytes_read"], MIB)
        self.assertLess(run["bytes_read"], 16 * MIB)
        # iotrace's own SIGKILL of the workload is not blamed on it
        self.assertTrue(run["interrupted"])
        self.assertIn("interrupted by the user (Ctrl-C)", run["headline"])
        self.assertNotIn("killed by signal", r.stdout)
        self.assertGreaterEqual(len(r.prog_ids), 7)
        self.assertEqual(r.leftovers(), [])  # probes, cgroup, dataset

    def test_workload_crash_exit_1_and_reported(self):
        with runlib.make_dataset([2 * MIB + 1] * 4) as ds, \
                tempfile.TemporaryDirectory() as out:
            r = runlib.iotrace(
                ["run", "md5dir", ds.dir, "--cache", "cold", "--throttle", "10M", "-s",
                 "sync,threads", "--no-stacks", "--no-color", "-o", os.path.join(out, "o")],
                on_running=lambda run, line: self.interrupt_at_first_mib(
                    run, line, lambda run, child: os.kill(child, signal.SIGSEGV)))
            self.assertIsNotNone(getattr(r, "child", None), "never saw the workload read: " +
                                 r.describe())
            self.assertEqual(r.rc, 1, r.describe())
            self.assertIn("killed by signal 11", r.stderr)
            self.assertEqual(r.running, ["sync/cold"])  # the remaining runs are skipped
            s = runlib.load_summary(os.path.join(out, "o"))
        self.assertEqual([run["label"] for run in s["runs"]], ["sync/cold"])
        run = s["runs"][0]
        self.assertEqual(run["exit_status"], 128 + signal.SIGSEGV)
        self.assertIn("did not finish", run["headline"])
        self.assertFalse(run["interrupted"])
        self.assertIsNone(run["speedup_vs_sync"])  # no figure from a run cut short
        self.assertIn("sync/cold", r.stdout)
        self.assertIn("killed by signal 11", r.stdout)
        self.assertEqual(r.leftovers(), [])


if __name__ == "__main__":
    unittest.main()
