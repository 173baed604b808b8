"""test_check.py - `iotrace check`: what it says about this kernel is what the kernel has.

Each probe's line is checked against an independent source (the kernel's BTF, read with
bpftool), the exit code against the documented one for each case, and the run leaves no
program behind.
"""
import json
import os
import subprocess
import time
import unittest

import common
import runlib

REQUIRED = {"sys_enter", "sys_exit", "sched_switch", "sched_wakeup", "sched_waking",
            "sched_wakeup_new", "sched_process_fork", "sched_process_exit", "sched_process_exec"}


_BTF = {}


def btf_has(kind, name, member=None):
    """Does the kernel's BTF (read with bpftool, not iotrace) have type kind name (with
    member)?"""
    if not _BTF:
        out = subprocess.run(["bpftool", "-j", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                             capture_output=True, text=True, check=True).stdout
        for t in json.loads(out)["types"]:
            if t.get("name"):
                _BTF.setdefault((t["kind"], t["name"]), set()).update(
                    m["name"] for m in t.get("members", []))
    members = _BTF.get((kind, name))
    return members is not None and (member is None or member in members)


@unittest.skipUnless(os.geteuid() == 0, "needs root (loads BPF probes)")
class Check(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = common.run(["check"])
        cls.js = common.run(["check", "--json"])
        cls.j = json.loads(cls.js.stdout)

    def test_exit_0_and_can_run(self):
        self.assertEqual(self.text.returncode, 0, self.text.stdout + self.text.stderr)
        self.assertEqual(self.js.returncode, 0, self.js.stderr)
        self.assertTrue(self.j["can_run"])
        self.assertEqual(self.j["exit"], 0)
        self.assertTrue(self.text.stdout.rstrip().endswith("iotrace can run here."))

    def test_probes_match_the_kernels_btf(self):
        """Every probe reported present is a tracepoint this kernel's BTF has; the required
        ones are all there and attached."""
        probes = {p["name"]: p for p in self.j["probes"]}
        self.assertGreaterEqual(set(probes), REQUIRED)
        for name, p in probes.items():
            if name == "perf cpu-clock":
                continue
            self.assertEqual(p["ok"], btf_has("TYPEDEF", "btf_trace_" + name),
                             "%s: check says %s" % (name, p))
            self.assertEqual(p["required"], name in REQUIRED, name)
            # the text report has the same verdict on its own line
            self.assertRegex(self.text.stdout, r"\n  %s +%s " % ("ok" if p["ok"] else "warn",
                                                                 name))

    def test_steal_as_the_btf_allows(self):
        """Per-thread steal needs the task -> cfs_rq -> rq links the probes follow."""
        want = (btf_has("STRUCT", "sched_entity", "cfs_rq") and btf_has("STRUCT", "cfs_rq", "rq")
                and btf_has("STRUCT", "rq", "clock_task"))
        self.assertEqual(self.j["steal"], want)
        self.assertRegex(self.text.stdout, r"\n  %s +steal " % ("ok" if want else "warn"))

    def test_nothing_left_loaded(self):
        """check loads and attaches every probe for real: all of it is gone once it exits
        (the kernel frees a closed program a moment later)."""
        deadline = time.time() + 5
        while common.bpf_programs_left() and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(common.bpf_programs_left(), [])

    def test_not_root_exit_3_names_sudo(self):
        p = subprocess.run(["setpriv", "--reuid=%d" % runlib.NOBODY, "--regid=%d" % runlib.NOBODY,
                            "--clear-groups", common.IOTRACE, "check", "--json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        j = json.loads(p.stdout)
        self.assertFalse(j["can_run"])
        self.assertIsNone(j["probes"])
        self.assertIn("sudo", j["reason"])


if __name__ == "__main__":
    unittest.main()
