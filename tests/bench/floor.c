/* floor.c - make bench's floor tracer: loads floor.bpf.c, waits for SIGINT/SIGTERM, detaches. */
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
	struct floor_bpf *skel;
	int ret;

	(void)argc;
	(void)argv;
	libbpf_set_print(quiet);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: failed to load the programs: %s\n", strerror(errno));
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
