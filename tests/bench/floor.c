/* floor.c - make bench's floor tracer: loads floor.bpf.c, waits for SIGINT/SIGTERM, detaches.
 *
 *   floor [--clock | --tstore]   empty programs, or the timed variants (see floor.bpf.c) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	const char *v = argc > 1 ? argv[1] : "";
	struct floor_bpf *skel;
	int ret;

	if (*v && strcmp(v, "--clock") && strcmp(v, "--tstore")) {
		fprintf(stderr, "floor: unknown option '%s' (usage: floor [--clock | --tstore])\n", v);
		return 2;
	}
	libbpf_set_print(quiet);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: failed to open the programs: %s\n", strerror(errno));
		return 1;
	}
	/* one pair of programs: the empty one, or a timed variant */
	bpf_program__set_autoload(skel->progs.floor_sys_enter, !*v);
	bpf_program__set_autoload(skel->progs.floor_sys_exit, !*v);
	bpf_program__set_autoload(skel->progs.floor_clock_enter, !strcmp(v, "--clock"));
	bpf_program__set_autoload(skel->progs.floor_clock_exit, !strcmp(v, "--clock"));
	bpf_program__set_autoload(skel->progs.floor_tstore_enter, !strcmp(v, "--tstore"));
	bpf_program__set_autoload(skel->progs.floor_tstore_exit, !strcmp(v, "--tstore"));
	ret = floor_bpf__load(skel);
	if (ret) {
		fprintf(stderr, "floor: failed to load the programs: %s\n", strerror(-ret));
		floor_bpf__destroy(skel);
		return 1;
	}
	ret = floor_bpf__attach(skel);
	if (ret) {
		fprintf(stderr, "floor: failed to attach: %s\n", strerror(-ret));
		floor_bpf__destroy(skel);
		return 1;
	}
	while (!stop)
		pause();
	floor_bpf__destroy(skel);
	return 0;
}
