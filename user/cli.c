/* cli.c - messages and privilege checks shared by the subcommands (linked into tests too). */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

bool it_verbose;
const char *it_prog = "iotrace";

void it_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", it_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void it_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: warning: ", it_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int it_require_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	it_err("failed to %s: loading eBPF probes needs root (or CAP_BPF and CAP_PERFMON); "
	       "run it with sudo",
	       what);
	return IT_EXIT_PERM;
}
