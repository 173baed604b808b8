/* progress.c - which run is under way: one line redrawn in place on a terminal, a line a run otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

/*
 * On a terminal the line says which run and for how long, redrawn by the session's tick
 * (about four times a second) and erased when the run ends, so the report that follows
 * starts on a clean screen. Without one (a log, a pipe) each run gets one line when it
 * starts, "iotrace: running LABEL (run I of N)...", which scripts and the tests follow.
 */

unsigned it_term_cols(int fd)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	if (env && atoi(env) > 0)
		return (unsigned)atoi(env);
	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 0;
}

void it_progress_init(struct it_progress *p, bool quiet)
{
	memset(p, 0, sizeof(*p));
	p->quiet = quiet;
	p->tty = isatty(STDERR_FILENO);
	p->cols = it_term_cols(STDERR_FILENO);
}

static void draw(struct it_progress *p, uint64_t elapsed_ns)
{
	char line[256];
	int n;

	/* tenths of a second: the line is redrawn about four times a second ("0 ns" at first) */
	n = snprintf(line, sizeof(line), "%s: running %s (run %u of %u), %.1f s", it_prog, p->label,
		     p->i, p->n, (double)(elapsed_ns / 100000000ULL) / 10);
	/* a line longer than the terminal would wrap, and \r would not reach its start */
	if (p->cols > 1 && n > (int)p->cols - 1)
		line[p->cols - 1] = '\0';
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	p->drawn = true;
}

void it_progress_begin(struct it_progress *p, const char *label, unsigned i, unsigned n)
{
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->i = i;
	p->n = n;
	if (p->quiet)
		return;
	if (p->tty)
		draw(p, 0);
	else
		fprintf(stderr, "%s: running %s (run %u of %u)...\n", it_prog, label, i, n);
}

void it_progress_tick(void *arg, uint64_t elapsed_ns)
{
	struct it_progress *p = arg;

	if (!p->quiet && p->tty)
		draw(p, elapsed_ns);
}

void it_progress_end(struct it_progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->drawn = false;
	}
}
