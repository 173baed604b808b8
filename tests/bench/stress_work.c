/* stress_work.c - the loads of the stress tests and make bench: many threads, read storms, futex storms. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 *   stress_work threads N MS      N threads alive at once (small stacks), each reads a file
 *                                 a few times, sleeps MS ms and exits after all started
 *   stress_work storm FILE T SECS T threads pread() 4 KiB blocks of FILE (warm) in a loop
 *                                 for SECS seconds
 *   stress_work pingpong N        two threads hand a token back and forth N times over a
 *                                 raw futex: every hand-off is a wake-up and a switch
 * Each prints one line "KEY VALUE ..." on stdout with what it did and at what rate, so a
 * test can tell the load it meant to make from the load it made.
 */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long futex(atomic_int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* ---- threads ---- */

static pthread_barrier_t bar;
static unsigned sleep_ms;

static void *one_thread(void *arg)
{
	char buf[512];
	int fd = open("/proc/self/stat", O_RDONLY);
	struct timespec ts = {.tv_sec = sleep_ms / 1000, .tv_nsec = (sleep_ms % 1000) * 1000000L};

	(void)arg;
	for (int i = 0; fd >= 0 && i < 4; i++)
		if (pread(fd, buf, sizeof(buf), 0) < 0)
			break;
	if (fd >= 0)
		close(fd);
	pthread_barrier_wait(&bar); /* all N alive at once */
	nanosleep(&ts, NULL);
	return NULL;
}

static int do_threads(unsigned n, unsigned ms)
{
	pthread_t *t = calloc(n, sizeof(*t));
	pthread_attr_t a;
	unsigned started = 0;
	double t0 = now();

	if (!t)
		return 1;
	sleep_ms = ms;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	pthread_barrier_init(&bar, NULL, n + 1);
	for (; started < n; started++)
		if (pthread_create(&t[started], &a, one_thread, NULL)) {
			fprintf(stderr, "stress_work: thread %u: %s\n", started, strerror(errno));
			return 1;
		}
	pthread_barrier_wait(&bar);
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	printf("threads %u seconds %.3f\n", started, now() - t0);
	free(t);
	return 0;
}

/* ---- read storm ---- */

struct storm {
	int fd;
	off_t size;
	double secs;
	unsigned idx;
	uint64_t calls;
};

static void *storm_thread(void *arg)
{
	struct storm *s = arg;
	char buf[4096];
	off_t off = (off_t)s->idx * (s->size / 8) % s->size;
	double end = now() + s->secs;

	off -= off % 4096;
	for (;;) {
		/* check the clock every 4096 calls: the storm is the syscalls, not clock_gettime */
		for (int i = 0; i < 4096; i++) {
			if (pread(s->fd, buf, sizeof(buf), off) < 0)
				return NULL;
			off += 4096;
			if (off + 4096 > s->size)
				off = 0;
		}
		s->calls += 4096;
		if (now() >= end)
			break;
	}
	return NULL;
}

static int do_storm(const char *file, unsigned nt, double secs)
{
	struct storm s[64];
	pthread_t t[64];
	struct stat st;
	uint64_t calls = 0;
	double t0;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 8192 || nt < 1 || nt > 64) {
		fprintf(stderr, "stress_work: storm %s: %s\n", file, strerror(errno));
		return 1;
	}
	t0 = now();
	for (unsigned i = 0; i < nt; i++) {
		s[i] = (struct storm){.fd = fd, .size = st.st_size, .secs = secs, .idx = i};
		pthread_create(&t[i], NULL, storm_thread, &s[i]);
	}
	for (unsigned i = 0; i < nt; i++) {
		pthread_join(t[i], NULL);
		calls += s[i].calls;
	}
	t0 = now() - t0;
	printf("reads %llu seconds %.3f rate %.0f\n", (unsigned long long)calls, t0,
	       (double)calls / t0);
	return 0;
}

/* ---- futex ping-pong ---- */

static atomic_int token; /* whose turn: 0 or 1 */
static long rounds;

static void *pong(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (long i = 0; i < rounds; i++) {
		while (atomic_load(&token) != me)
			futex(&token, FUTEX_WAIT_PRIVATE, !me);
		atomic_store(&token, !me);
		futex(&token, FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

static int do_pingpong(long n)
{
	pthread_t a, b;
	double t0 = now();

	rounds = n;
	pthread_create(&a, NULL, pong, (void *)(intptr_t)0);
	pthread_create(&b, NULL, pong, (void *)(intptr_t)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	t0 = now() - t0;
	printf("handoffs %ld seconds %.3f rate %.0f\n", 2 * n, t0, (double)(2 * n) / t0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "threads"))
		return do_threads((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "storm"))
		return do_storm(argv[2], (unsigned)atoi(argv[3]), atof(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "pingpong"))
		return do_pingpong(atol(argv[2]));
	fprintf(stderr, "usage: stress_work threads N MS | storm FILE THREADS SECS | "
			"pingpong N\n");
	return 2;
}
