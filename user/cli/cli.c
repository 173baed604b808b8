/* cli.c - messages and privilege checks shared by the subcommands (linked into tests too). */
#include <inttypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "trace/tracer.h"

int it_verbose;
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

void it_warn_losses(const char *label, const struct tr_stats *st)
{
	/* the report counts every loss; this names the map that overflowed and the remedy */
	if (st->lost_batches || st->lost_records)
		it_warn("%s: the %u MiB ring buffer overflowed: %" PRIu64 " batches and %" PRIu64
			" records lost (see the report for the time they cover); raise it with "
			"--ringbuf-mb",
			label, st->ringbuf_mb, st->lost_batches, st->lost_records);
	if (st->threads_full)
		it_warn("%s: the threads map was full: %" PRIu64 " threads not tracked (limit %d "
			"threads alive at once)",
			label, st->threads_full, IT_MAX_THREADS);
	if (st->inflight_full)
		it_warn("%s: the in-flight requests map was full: %" PRIu64
			" block or io_uring requests not tracked (limit %d in flight)",
			label, st->inflight_full, IT_MAX_INFLIGHT);
}

void it_sudo_ids(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (geteuid() != 0 || !u || !g)
		return;
	*uid = (uid_t)strtoul(u, NULL, 10);
	*gid = (gid_t)strtoul(g, NULL, 10);
}

int it_parse_uint(const char *s, const char *what, unsigned min, unsigned max, unsigned *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || n < min || n > max || s[0] == '-') {
		it_err("invalid %s '%s': expected a whole number from %u to %u", what, s, min, max);
		return -EINVAL;
	}
	*v = (unsigned)n;
	return 0;
}

sigset_t it_ignored_at_start;

void it_catch_signals(const struct sigaction *sa)
{
	static bool noted;

	/* what iotrace was started with ignoring (nohup, a shell's `&`) stays ignored in a
	 * command it runs: the dispositions pass through as if iotrace were not there */
	if (!noted) {
		sigemptyset(&it_ignored_at_start);
		for (int sig = 1; sig < NSIG; sig++) {
			struct sigaction old;

			if (sig != SIGKILL && sig != SIGSTOP && !sigaction(sig, NULL, &old) &&
			    old.sa_handler == SIG_IGN)
				sigaddset(&it_ignored_at_start, sig);
		}
		noted = true;
	}
	/*
	 * A hang-up ignored from the start (nohup) does not end iotrace either. SIGINT and
	 * SIGTERM always do: a shell starts a background job with SIGINT ignored, and iotrace
	 * must stay stoppable there (the command keeps the ignored disposition).
	 */
	sigaction(SIGINT, sa, NULL);
	sigaction(SIGTERM, sa, NULL);
	if (!sigismember(&it_ignored_at_start, SIGHUP))
		sigaction(SIGHUP, sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
