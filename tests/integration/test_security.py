"""test_security.py - iotrace runs as root: nothing written through a planted symlink, no
shell, the caller's environment, names that cannot be guessed.

The symlink cases are those an unprivileged user could set up for a root run: a link in
place of OUTDIR, of a file or of runs/ inside an existing OUTDIR, of ./iotrace-out, a
./iotrace-out of their own in a shared sticky directory, and a link in /var/tmp dressed as
a dataset a killed run left (the next run's sweep must not follow it).
"""
import glob
import os
import re
import stat
import subprocess
import tempfile
import unittest

import common

NOBODY = 65534
SRC_DIRS = ["user", "workloads", "reports"]


def trace(args, cwd=None, env=None):
    return subprocess.run([common.IOTRACE, "trace", "--no-color"] + list(args),
                          capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


class Symlinks(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="iot-sec-")
        self.victim = os.path.join(self.d, "victim")
        os.mkdir(self.victim)
        self.vfile = os.path.join(self.victim, "precious")
        with open(self.vfile, "w") as f:
            f.write("keep me\n")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.d])

    def assertVictimIntact(self):
        self.assertEqual(sorted(os.listdir(self.victim)), ["precious"])
        with open(self.vfile) as f:
            self.assertEqual(f.read(), "keep me\n")

    def test_outdir_is_a_symlink(self):
        link = os.path.join(self.d, "out")
        os.symlink(self.victim, link)
        p = trace(["-o", link, "--", "true"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(link, p.stderr)
        self.assertVictimIntact()

    def test_file_in_outdir_is_a_symlink(self):
        out = os.path.join(self.d, "out")
        os.mkdir(out)
        for name in ("summary.json", "report.html", "trace.json"):
            os.symlink(self.vfile, os.path.join(out, name))
        p = trace(["-o", out, "--", "true"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertVictimIntact()
        # the links were replaced by the real files, not written through
        for name in ("summary.json", "report.html", "trace.json"):
            st = os.lstat(os.path.join(out, name))
            self.assertTrue(stat.S_ISREG(st.st_mode), name)

    def test_runs_dir_is_a_symlink(self):
        out = os.path.join(self.d, "out")
        os.mkdir(out)
        os.symlink(self.victim, os.path.join(out, "runs"))
        p = trace(["-o", out, "--", "true"])
        self.assertNotEqual(p.returncode, 0)
        self.assertVictimIntact()

    def test_run_folder_is_a_symlink(self):
        out = os.path.join(self.d, "out")
        os.makedirs(os.path.join(out, "runs"))
        os.symlink(self.victim, os.path.join(out, "runs", "true"))
        p = trace(["-o", out, "--", "true"])
        self.assertNotEqual(p.returncode, 0)
        self.assertVictimIntact()

    def test_default_outdir_is_a_symlink(self):
        cwd = os.path.join(self.d, "cwd")
        os.mkdir(cwd)
        os.symlink(self.victim, os.path.join(cwd, "iotrace-out"))
        p = trace(["--", "true"], cwd=cwd)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("iotrace-out", p.stderr)
        self.assertVictimIntact()

    def test_default_outdir_of_another_user_in_a_sticky_dir(self):
        """./iotrace-out made by someone else in /tmp could be swapped for a symlink
        between iotrace's check and its writes: it is refused, not used."""
        cwd = os.path.join(self.d, "shared")
        os.mkdir(cwd)
        os.chmod(cwd, 0o1777)
        theirs = os.path.join(cwd, "iotrace-out")
        os.mkdir(theirs)
        os.chown(theirs, NOBODY, NOBODY)
        p = trace(["--", "true"], cwd=cwd)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("iotrace-out", p.stderr)
        self.assertEqual(os.listdir(theirs), [])

    def test_files_belong_to_the_invoking_user(self):
        out = os.path.join(self.d, "out")
        env = dict(os.environ, SUDO_UID=str(NOBODY), SUDO_GID=str(NOBODY))
        os.chmod(self.d, 0o755)
        p = trace(["-o", out, "--", "true"], env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        for root, dirs, files in os.walk(out):
            for n in dirs + files + ["."]:
                st = os.lstat(os.path.join(root, n))
                self.assertEqual((st.st_uid, st.st_gid), (NOBODY, NOBODY), n)

    def test_sweep_does_not_follow_a_planted_symlink(self):
        """A link in /var/tmp named like the dataset of a killed run (a pid that no longer
        exists) pointing at a directory with files named like a dataset's: the sweep of
        the next `iotrace run` must remove the link at most, never the files it points to."""
        victim_ds = os.path.join(self.d, "victim-ds")
        os.mkdir(victim_ds)
        names = ["file-000000", "file-000001"]
        for n in names:
            with open(os.path.join(victim_ds, n), "w") as f:
                f.write("keep me\n")
        dead = 4194304 - 7  # above any pid_max this machine uses: never a live process
        with open("/proc/sys/kernel/pid_max") as f:
            self.assertLess(int(f.read()), dead)
        link = "/var/tmp/iotrace-data-%d-planted" % dead
        os.symlink(victim_ds, link)
        try:
            p = common.run(["run", "md5dir", "--files", "1", "--file-size", "64K", "-s", "sync",
                            "--cache", "warm", "-o", os.path.join(self.d, "out")])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(sorted(os.listdir(victim_ds)), names,
                             "the sweep followed a planted symlink and deleted through it")
        finally:
            if os.path.islink(link):
                os.unlink(link)


class NoShell(unittest.TestCase):
    def test_no_shell_in_the_sources(self):
        """No system(), popen(), sh -c, or exec of a shell anywhere in iotrace itself."""
        bad = re.compile(r"\b(system|popen|execl|execlp)\s*\(|\"/bin/sh\"|\"sh\"\s*,\s*\"-c\"")
        hits = []
        for d in SRC_DIRS:
            for path in glob.glob(os.path.join(common.ROOT, d, "*.[ch]")):
                with open(path) as f:
                    for i, line in enumerate(f, 1):
                        code = line.split("//")[0]
                        if bad.search(code) and not code.lstrip().startswith(("*", "/*")):
                            hits.append("%s:%d: %s" % (os.path.relpath(path, common.ROOT), i,
                                                        line.strip()))
        self.assertEqual(hits, [])

    def test_shell_syntax_is_not_interpreted(self):
        with tempfile.TemporaryDirectory() as d:
            pwned = os.path.join(d, "pwned")
            p = trace(["-o", os.path.join(d, "out"), "--", "true; touch %s" % pwned])
            self.assertEqual(p.returncode, 127, p.stderr)
            p = trace(["-o", os.path.join(d, "out"), "--", "echo", "$(touch %s)" % pwned])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertFalse(os.path.exists(pwned))

    def test_script_without_shebang_is_not_run_by_a_shell(self):
        with tempfile.TemporaryDirectory() as d:
            pwned = os.path.join(d, "pwned")
            script = os.path.join(d, "script")
            with open(script, "w") as f:
                f.write("touch %s\n" % pwned)
            os.chmod(script, 0o755)
            p = trace(["-o", os.path.join(d, "out"), "--", script])
            self.assertEqual(p.returncode, 126, p.stderr)
            self.assertFalse(os.path.exists(pwned))


class Environment(unittest.TestCase):
    def _env_of_command(self, env):
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o777)
            dump = os.path.join(d, "env")
            # Debian's python: the user the command runs as may not read root's own
            p = trace(["-o", os.path.join(d, "out"), "--", "/usr/bin/python3", "-c",
                       "import os, json; json.dump([os.getuid(), dict(os.environ)], "
                       "open(%r, 'w'))" % dump], env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            import json
            with open(dump) as f:
                return json.load(f)

    def test_command_gets_the_callers_environment(self):
        env = dict(os.environ, IOTRACE_SEC_TEST="caller's value", LD_BIND_NOW="1")
        env.pop("SUDO_UID", None)
        env.pop("SUDO_GID", None)
        uid, got = self._env_of_command(env)
        self.assertEqual(uid, 0)
        self.assertEqual(got, env)

    def test_under_sudo_only_the_users_identity_changes(self):
        env = dict(os.environ, IOTRACE_SEC_TEST="caller's value", SUDO_UID=str(NOBODY),
                   SUDO_GID=str(NOBODY), HOME="/root", USER="root", LOGNAME="root")
        uid, got = self._env_of_command(env)
        self.assertEqual(uid, NOBODY)
        import pwd
        pw = pwd.getpwuid(NOBODY)
        want = dict(env, HOME=pw.pw_dir, USER=pw.pw_name, LOGNAME=pw.pw_name)
        self.assertEqual(got, want)


class Names(unittest.TestCase):
    def test_dataset_and_cgroup_names_are_not_guessable(self):
        """The generated dataset and the throttle cgroup carry random parts, and the
        dataset is not writable by others."""
        seen = []
        for _ in range(2):
            p = subprocess.Popen([common.IOTRACE, "run", "md5dir", "--files", "2",
                                  "--file-size", "2M", "-s", "sync", "--cache", "cold",
                                  "--throttle", "2M", "-o", tempfile.mkdtemp(prefix="iot-sec-")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for line in p.stderr:
                if "running" in line:
                    break
            ds = glob.glob("/var/tmp/iotrace-data-%d-*" % p.pid)
            cg = [c for pat in ("/sys/fs/cgroup/blkio", "/sys/fs/cgroup/unified")
                  for c in glob.glob("%s/iotrace-%d-*" % (pat, p.pid))]
            self.assertEqual(len(ds), 1)
            self.assertEqual(len(cg), 1)
            st = os.lstat(ds[0])
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual(st.st_mode & 0o022, 0, oct(st.st_mode))
            seen.append((ds[0].rsplit("-", 1)[1], cg[0].rsplit("-", 1)[1]))
            p.terminate()
            p.communicate(timeout=60)
        for ds_rand, cg_rand in seen:
            self.assertGreaterEqual(len(ds_rand), 6)
            self.assertRegex(cg_rand, r"^[0-9a-f]{16}$")
        self.assertNotEqual(seen[0], seen[1])


if __name__ == "__main__":
    unittest.main()
