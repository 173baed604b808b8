"""test_manpage.py - iotrace(8) and the bash completion cannot drift from --help.

The man page (docs/iotrace.8) must list every command of `iotrace --help` and, under each
command, exactly the options that command's --help lists; it must render with no groff
warning. The completion script is run in a real bash against the built binary.
"""
import os
import re
import subprocess
import unittest

import common

MAN = os.path.join(common.ROOT, "docs", "iotrace.8")
COMPLETION = os.path.join(common.ROOT, "scripts", "completion", "iotrace.bash")


def help_text(*args):
    return subprocess.run([common.IOTRACE, *args, "--help"], capture_output=True, text=True,
                          check=True).stdout


def commands():
    """Command names listed by `iotrace --help`."""
    block = help_text().split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def help_options(cmd):
    """Every option name (-x and --long) of the Options block of `iotrace CMD --help`."""
    text = help_text(cmd)
    block = text.split("Options:\n", 1)[1].split("\n\n", 1)[0]
    opts = set()
    for line in block.splitlines():
        m = re.match(r"^\s+(-[A-Za-z])?(?:, )?(--[a-z0-9-]+)?", line)
        if m:
            opts.update(o for o in m.groups() if o)
    return opts


def man_sections():
    """{command: set of option names} from the .SS sections under COMMANDS."""
    with open(MAN) as f:
        src = f.read()
    cmds = src.split(".SH COMMANDS\n", 1)[1].split("\n.SH ", 1)[0]
    out = {}
    for part in cmds.split(".SS ")[1:]:
        name, body = part.split("\n", 1)
        opts = set()
        lines = body.splitlines()
        for i, line in enumerate(lines):
            if line == ".TP" and i + 1 < len(lines):
                item = lines[i + 1].replace("\\-", "-")
                opts.update(re.findall(r"(?<![\w-])(--[a-z0-9-]+|-[A-Za-z])(?![\w-])", item))
        out[name.strip()] = opts
    return out


class ManPage(unittest.TestCase):
    def test_every_command_and_option(self):
        sections = man_sections()
        self.assertEqual(sorted(sections), sorted(commands()),
                         "the man page's COMMANDS sections differ from `iotrace --help`")
        for cmd in commands():
            with self.subTest(cmd=cmd):
                want, have = help_options(cmd), sections[cmd]
                self.assertTrue(want, "no options parsed from `iotrace %s --help`" % cmd)
                self.assertEqual(sorted(want - have), [],
                                 "options of `iotrace %s --help` missing from docs/iotrace.8"
                                 % cmd)
                self.assertEqual(sorted(have - want), [],
                                 "options in docs/iotrace.8's %s section that `iotrace %s "
                                 "--help` does not list" % (cmd, cmd))

    def test_renders_without_warnings(self):
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", "groff warnings in docs/iotrace.8")

    def test_install_puts_it_in_place(self):
        dest = common.tempfile.mkdtemp(prefix="iotrace-install-")
        try:
            subprocess.run(["make", "-s", "-C", common.ROOT, "install", "DESTDIR=" + dest,
                            "PREFIX=/usr", "INSTALL_BIN=" + common.IOTRACE], check=True,
                           capture_output=True)
            for rel in ("usr/sbin/iotrace", "usr/share/man/man8/iotrace.8",
                        "usr/share/bash-completion/completions/iotrace"):
                self.assertTrue(os.path.isfile(os.path.join(dest, rel)), rel)
        finally:
            common.shutil.rmtree(dest, ignore_errors=True)


def complete(*words):
    """COMPREPLY of the completion for the words (the last is the one being completed)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
              '_iotrace; printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", script, "bash", COMPLETION, common.IOTRACE, *words],
                       capture_output=True, text=True, check=True)
    return [w for w in r.stdout.splitlines() if w]


class Completion(unittest.TestCase):
    def test_commands(self):
        self.assertEqual(sorted(complete("")), sorted(commands() + ["--help", "--version"]))
        self.assertEqual(complete("tr"), ["trace"])

    def test_options_are_the_help_ones(self):
        for cmd in commands():
            with self.subTest(cmd=cmd):
                self.assertEqual(sorted(complete(cmd, "-")), sorted(help_options(cmd)))

    def test_strategies(self):
        self.assertEqual(complete("run", "md5dir", "-s", "sy"), ["sync"])
        self.assertEqual(complete("run", "md5dir", "--strategies", "sync,thr"), ["sync,threads"])
        self.assertEqual(sorted(complete("run", "readfile", "-s", "")), ["sync", "threads"])
        self.assertIn("uring", complete("run", "md5dir", "-s", ""))

    def test_workloads_and_values(self):
        self.assertEqual(sorted(complete("run", "")), ["fetch", "md5dir", "readfile"])
        self.assertEqual(complete("run", "md5dir", "--cache", "c"), ["cold"])


if __name__ == "__main__":
    unittest.main()
