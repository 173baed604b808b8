/* guard.c - a small process that stops a run's workload and removes its cgroup and dataset
 * if iotrace dies without doing it (SIGKILL, a crash). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wl_internal.h"
#include "workload.h"

/*
 * The guardian is forked before anything it guards exists and learns of it through a pipe:
 * "C<cgroup dir>\n" and "D<dataset dir>\n" add, "c..."/"d..." forget (iotrace removed it
 * itself). iotrace holds the only write end (close-on-exec, and the workload's child closes
 * every inherited fd), so the pipe's end of file comes exactly when iotrace is gone, however
 * it ended: the guardian then removes whatever is still registered and exits. A normal exit
 * goes the same way with nothing left to do.
 */

#define GUARD_MAX 16

/* what is registered: kind 'C' (cgroup dir) or 'D' (dataset dir), 0 = free slot */
static struct {
	char kind;
	char path[PATH_MAX];
} entries[GUARD_MAX];

static void entry_set(char kind, const char *path, bool add)
{
	int free_slot = -1;

	for (int i = 0; i < GUARD_MAX; i++) {
		if (entries[i].kind == kind && !strcmp(entries[i].path, path)) {
			if (!add)
				entries[i].kind = 0;
			return;
		}
		if (!entries[i].kind && free_slot < 0)
			free_slot = i;
	}
	if (add && free_slot >= 0 && strlen(path) < PATH_MAX) {
		entries[free_slot].kind = kind;
		strcpy(entries[free_slot].path, path);
	}
}

/* Lift the cgroup's read limits, so that the bios it holds back are sent now and the tasks
 * waiting on them can die (a throttled run may have megabytes queued: seconds). */
static void unthrottle(const char *path)
{
	static const struct {
		const char *file, *fmt;
	} ctl[] = {
	    {"blkio.throttle.read_bps_device", "%u:%u 0\n"}, /* v1: 0 removes the rule */
	    {"io.max", "%u:%u rbps=max\n"},		       /* v2 */
	};
	char file[320], buf[4096], val[64];

	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		ssize_t n;
		int fd;

		snprintf(file, sizeof(file), "%s/%s", path, ctl[i].file);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			unsigned maj, min;

			if (sscanf(line, "%u:%u", &maj, &min) != 2)
				continue;
			fd = open(file, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				break;
			n = snprintf(val, sizeof(val), ctl[i].fmt, maj, min);
			if (write(fd, val, (size_t)n) < 0)
				(void)0; /* then the tasks die when their bios come through */
			close(fd);
		}
	}
}

/* SIGKILL everything in the cgroup until it is empty, then remove it (at most ~10 s). */
static void kill_and_remove_cgroup(const char *path)
{
	struct wl_throttle t = {0};
	char kill_path[300], buf[4096];
	int fd;

	snprintf(t.path, sizeof(t.path), "%s", path);
	snprintf(t.procs, sizeof(t.procs), "%s/cgroup.procs", path);
	unthrottle(path);
	/* cgroup v2 kills the whole group, forks in flight included, in one write */
	snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", path);
	fd = open(kill_path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			(void)0; /* v1 below: SIGKILL one by one */
		close(fd);
	}
	for (int attempt = 0; attempt < 500; attempt++) {
		ssize_t n = 0;

		fd = open(t.procs, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break; /* gone */
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			break;
		buf[n] = 0;
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			long pid = strtol(line, NULL, 10);

			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
		}
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	wl_throttle_remove(&t);
}

static __attribute__((noreturn)) void guardian(int rfd)
{
	char buf[PATH_MAX + 2], *line;
	size_t len = 0;
	int null;

	/* only the pipe: no BPF fd (the probes must go with iotrace), no stdout/stderr a
	 * caller waits on for end of file */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(1);
	if (dup2(rfd, 3) < 0 || close_range(4, ~0U, 0) < 0)
		_exit(1);
	rfd = 3;
	/* a terminal's ^C reaches the whole process group: iotrace handles it, we wait for
	 * it to finish (or die) */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	wl_name_self("iotrace-guard");
	for (;;) {
		ssize_t n = read(rfd, buf + len, sizeof(buf) - 1 - len);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			line = buf;
			if (line[0] && strchr("CcDd", line[0]))
				entry_set((char)(line[0] & ~0x20), line + 1,
					  line[0] == 'C' || line[0] == 'D');
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0; /* no line is that long: drop it */
	}
	/* iotrace is gone: first the workload and its cgroup, then the data it read */
	for (int i = 0; i < GUARD_MAX; i++)
		if (entries[i].kind == 'C')
			kill_and_remove_cgroup(entries[i].path);
	for (int i = 0; i < GUARD_MAX; i++)
		if (entries[i].kind == 'D')
			wl_dataset_remove(entries[i].path);
	_exit(0);
}

int wl_guard_start(struct wl_guard *g)
{
	int p[2];
	pid_t pid;

	g->pid = -1;
	g->fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(p[0]);
		close(p[1]);
		return -err;
	}
	if (pid == 0) {
		close(p[1]);
		guardian(p[0]);
	}
	close(p[0]);
	g->pid = pid;
	g->fd = p[1];
	return 0;
}

static int tell(struct wl_guard *g, char op, const char *path)
{
	char line[PATH_MAX + 2];
	int n;

	if (!g || g->fd < 0 || !path)
		return -EINVAL;
	n = snprintf(line, sizeof(line), "%c%s\n", op, path);
	if (n >= (int)sizeof(line) || strchr(path, '\n'))
		return -ENAMETOOLONG;
	/* one write under PIPE_BUF: atomic, never split */
	if (write(g->fd, line, (size_t)n) != n)
		return -errno;
	return 0;
}

int wl_guard_cgroup(struct wl_guard *g, const char *dir, bool add)
{
	return tell(g, add ? 'C' : 'c', dir);
}

int wl_guard_dataset(struct wl_guard *g, const char *dir, bool add)
{
	return tell(g, add ? 'D' : 'd', dir);
}

int wl_guard_stop(struct wl_guard *g)
{
	int st;

	if (!g || g->pid <= 0)
		return 0;
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	while (waitpid(g->pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	g->pid = -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}
