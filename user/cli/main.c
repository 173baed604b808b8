/* main.c - iotrace entry point: dispatches to one subcommand per file through cmds[]. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "version.h"

static const struct it_cmd cmds[] = {
	{"run", cmd_run, "run a built-in workload under several strategies and explain the result"},
	{"trace", cmd_trace, "trace any command (-- CMD) or running process (-p PID)"},
	{"report", cmd_report, "re-render or compare saved runs (no root needed)"},
	{"check", cmd_check, "can this kernel and user run iotrace?"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: iotrace COMMAND [OPTIONS]\n\n"
		   "Why did (or didn't) your I/O-and-compute program get faster when made concurrent?\n"
		   "iotrace traces it with eBPF and tells where every thread's time went.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nExamples:\n"
		   "  sudo iotrace run md5dir\n"
		   "  sudo iotrace run md5dir ~/photos --strategies sync,threads --cache cold\n"
		   "  sudo iotrace trace -- python3 hash_all.py ~/photos\n"
		   "  iotrace report ./iotrace-out/run-1\n"
		   "  sudo iotrace check\n\n"
		   "'iotrace COMMAND --help' for a command's options; --version for the version.\n");
}

int main(int argc, char **argv)
{
	int rc;

	/*
	 * A fixed mmap threshold, not glibc's sliding one: once libbpf frees the kernel's
	 * parsed BTF (an mmapped ~12 MiB) glibc raises the threshold to that size, so the
	 * timeline's big arrays then grew in the heap by copying, each old copy left resident
	 * in a hole: the storm's peak RSS swung by up to 6 MiB from run to run with how many
	 * were alive at once. Big blocks mmapped grow with mremap and go back when freed.
	 * The trim threshold stays where the sliding one took it (twice that), since built-in
	 * workloads are forked from here: lower, their threads' arenas shrink, and glibc then
	 * reads /proc/sys/vm/overcommit_memory (a 1-byte read the workload's counts would show).
	 */
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);

	if (argc < 2) {
		usage(stderr);
		return IT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		rc = IT_EXIT_OK;
		goto out;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("iotrace %s\n", IOTRACE_VERSION);
		rc = IT_EXIT_OK;
		goto out;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			rc = cmds[i].fn(argc - 1, argv + 1);
			goto out;
		}
	}
	it_err("unknown command '%s'; commands are run, trace, report, check (see iotrace --help)",
	       argv[1]);
	return IT_EXIT_USAGE;
out:
	/* a full disk or closed pipe on stdout must not look like success */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		it_err("failed to write output: %s", strerror(errno));
		return rc ? rc : IT_EXIT_FAIL;
	}
	return rc;
}
