/* fork_gone.c - forks children that block once on a pipe and exit as soon as it is closed (issue 16: stacks of forks gone before their maps were read). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: fork_gone N MS
 * Forks, first thing in main (no reading of this program's maps can predate it):
 * - a keeper, blocked on its own pipe until the end (the test's "a sibling still alive");
 * - N children, each of which blocks in child_block's read of a shared pipe and exits
 *   (_exit) the moment read returns: the parent closes the pipe's write end right after
 *   forking the last one, so their lives end within about a ms of their start, before a
 *   10 ms drain (and often before a prompt one) can read their maps. No sleeps: every
 *   child's end is the parent's close.
 * Then computes MS ms of CPU in parent_spin (the tracer reads the parent's maps meanwhile),
 * releases the keeper, reaps everyone and prints "forked N". Exit 0 if all exited 0.
 */

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) unsigned long parent_spin(double ms)
{
	volatile unsigned long x = 1;
	double end = cpu_ms() + ms;

	while (cpu_ms() < end)
		for (int i = 0; i < 20000; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

/* The frame a test looks for in the children's off-CPU stacks (a pipe read's wait). */
__attribute__((noinline)) int child_block(int fd)
{
	char c;
	ssize_t r;

	while ((r = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	__asm__ volatile("" : : : "memory");
	return (int)r;
}

/* The keeper's: another frame, so its long wait is told from the children's. */
__attribute__((noinline)) int keeper_block(int fd)
{
	int r = child_block(fd);

	__asm__ volatile("" : "+r"(r));
	return r;
}

static pid_t fork_blocked(int rfd, const int *wfds, int nw, bool keeper)
{
	pid_t p = fork();

	if (p)
		return p;
	for (int i = 0; i < nw; i++)
		close(wfds[i]);
	prctl(PR_SET_NAME, keeper ? "fg-keeper" : "fg-child", 0, 0, 0);
	if (keeper)
		keeper_block(rfd);
	else
		child_block(rfd);
	_exit(0);
}

int main(int argc, char **argv)
{
	int n, go[2], keep[2], bad = 0;
	pid_t keeper, *pids;
	double ms;

	if (argc != 3 || (n = atoi(argv[1])) <= 0 || n > 1000 || (ms = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: fork_gone N MS\n");
		return 2;
	}
	pids = calloc((size_t)n, sizeof(*pids));
	if (!pids || pipe(go) || pipe(keep)) {
		fprintf(stderr, "failed to set up: %s\n", strerror(errno));
		return 1;
	}
	keeper = fork_blocked(keep[0], (const int[]){keep[1], go[1]}, 2, true);
	for (int i = 0; i < n; i++)
		pids[i] = fork_blocked(go[0], (const int[]){keep[1], go[1]}, 2, false);
	close(go[1]);
	parent_spin(ms);
	close(keep[1]);
	for (int i = 0; i <= n; i++) {
		pid_t p = i < n ? pids[i] : keeper;
		int st;

		if (p < 0) {
			bad++;
			continue;
		}
		while (waitpid(p, &st, 0) < 0 && errno == EINTR)
			;
		bad += !WIFEXITED(st) || WEXITSTATUS(st);
	}
	printf("forked %d\n", n);
	free(pids);
	return bad ? 1 : 0;
}
