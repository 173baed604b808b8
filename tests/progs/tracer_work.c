/* tracer_work.c - known workloads for the tracer's tests; each thread reports its own schedstat. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: tracer_work MODE [ARGS]
 *   read FILE BS          read(2) FILE to the end in BS-byte calls (one thread)
 *   pingpong ITERS        two threads hand a token over a mutex+condvar (lock_wait)
 *   spin THREADS MS       THREADS busy threads for MS ms (runnable when THREADS > CPUs)
 *   sleep MS              nanosleep (other_wait)
 *   poll MS               poll(2) on a silent pipe (poll_wait)
 *   pipe N MS             a reader blocked in read(2) on a pipe written every MS ms (io_wait)
 *   mix                   a bit of everything, several threads
 *   direct DFILE BFILE BS  two threads at once: one reads DFILE to the end opened O_DIRECT
 *                         (page cache bypassed), the other BFILE buffered, in BS-byte calls
 *                         (BS a multiple of 4096)
 * Every thread prints, just before it ends:
 *   sched TID RUN_NS RUNQ_NS RUNS (from /proc/self/task/TID/schedstat; RUNS: times it was
 *                                  switched in)
 * spinning threads also `self TID NS` (the time they saw themselves run, see spin_ms),
 * `sleep` and `poll` also `waited TID NS` (the call's duration by the thread's own clock),
 * `read` prints `bytes N reads N`, `direct` `direct TID BYTES` and `buffered TID BYTES`,
 * and the process `rusage NS` (user+system, all threads) last. The tests compare these with what the tracer saw. The lines go to stdout, or are
 * appended to the file $TRACER_WORK_OUT when set (stdout may be the tracer's JSON).
 */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;

static void report_sched(void)
{
	char path[64], buf[128];
	unsigned long long run = 0, runq = 0, runs = 0;
	long tid = syscall(SYS_gettid);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			sscanf(buf, "%llu %llu %llu", &run, &runq, &runs);
		fclose(f);
	}
	pthread_mutex_lock(&out_lock);
	fprintf(out, "sched %ld %llu %llu %llu\n", tid, run, runq, runs);
	fflush(out);
	pthread_mutex_unlock(&out_lock);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

/*
 * Busy for ms of wall time; returns the time this thread saw itself running: the sum of
 * the steps between clock reads that are short (< 20 us). A longer step is time it was
 * off the CPU (preempted, or its vCPU descheduled). An independent lower bound of on-CPU
 * time, whatever the kernel's accounting says.
 */
static uint64_t spin_ms(unsigned ms)
{
	uint64_t t = now_ns(), end = t + (uint64_t)ms * 1000000ull, x = 0, on = 0, prev = t;

	while (t < end) {
		for (int i = 0; i < 100; i++)
			x += (uint64_t)i * i;
		t = now_ns();
		if (t - prev < 20000)
			on += t - prev;
		prev = t;
	}
	sink = x;
	return on;
}

static void report_self(uint64_t on)
{
	pthread_mutex_lock(&out_lock);
	fprintf(out, "self %ld %llu\n", (long)syscall(SYS_gettid), (unsigned long long)on);
	fflush(out);
	pthread_mutex_unlock(&out_lock);
}

static int do_read(const char *path, size_t bs)
{
	char *buf = malloc(bs);
	unsigned long long bytes = 0, reads = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf) {
		perror(path);
		return 1;
	}
	while ((n = read(fd, buf, bs)) > 0) {
		bytes += (unsigned long long)n;
		reads++;
	}
	reads++; /* the read that returned 0 */
	close(fd);
	free(buf);
	fprintf(out, "bytes %llu reads %llu\n", bytes, reads);
	report_sched();
	return n < 0;
}

/* ---- O_DIRECT and buffered reads side by side, a thread each ---- */

struct rd_job {
	const char *path;
	int flags;		/* O_DIRECT or 0 */
	size_t bs;
	int err;
};

static void *rd_thread(void *arg)
{
	struct rd_job *j = arg;
	unsigned long long bytes = 0;
	void *buf = NULL;
	ssize_t n = -1;
	int fd;

	/* O_DIRECT wants the buffer aligned to the device's logical block: a page is */
	if (posix_memalign(&buf, 4096, j->bs)) {
		j->err = 1;
		return NULL;
	}
	fd = open(j->path, O_RDONLY | j->flags);
	if (fd >= 0) {
		while ((n = read(fd, buf, j->bs)) > 0)
			bytes += (unsigned long long)n;
		close(fd);
	}
	free(buf);
	if (fd < 0 || n < 0) {
		perror(j->path);
		j->err = 1;
		return NULL;
	}
	pthread_mutex_lock(&out_lock);
	fprintf(out, "%s %ld %llu\n", j->flags ? "direct" : "buffered", (long)syscall(SYS_gettid),
		bytes);
	fflush(out);
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

static int do_direct(const char *dpath, const char *bpath, size_t bs)
{
	struct rd_job jobs[2] = {{dpath, O_DIRECT, bs, 0}, {bpath, 0, bs, 0}};
	pthread_t t[2];

	if (!bs || bs % 4096) {
		fprintf(stderr, "tracer_work direct: BS must be a multiple of 4096\n");
		return 1;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, rd_thread, &jobs[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return jobs[0].err || jobs[1].err;
}

/* ---- ping-pong over a mutex and condvar: both threads block in futex ---- */
static pthread_mutex_t pp_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_c = PTHREAD_COND_INITIALIZER;
static int pp_turn;
static long pp_iters;

static void *pp_thread(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (long i = 0; i < pp_iters; i++) {
		pthread_mutex_lock(&pp_m);
		while (pp_turn != me)
			pthread_cond_wait(&pp_c, &pp_m);
		pp_turn = !me;
		pthread_cond_broadcast(&pp_c);
		pthread_mutex_unlock(&pp_m);
	}
	report_sched();
	return NULL;
}

static int do_pingpong(long iters)
{
	pthread_t a, b;

	pp_iters = iters;
	pthread_create(&a, NULL, pp_thread, (void *)0);
	pthread_create(&b, NULL, pp_thread, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	report_sched();
	return 0;
}

static unsigned spin_len;

static void *spin_thread(void *arg)
{
	(void)arg;
	report_self(spin_ms(spin_len));
	report_sched();
	return NULL;
}

static int do_spin(int n, unsigned ms)
{
	pthread_t t[64];

	if (n > 64)
		n = 64;
	spin_len = ms;
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, spin_thread, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	report_sched();
	return 0;
}

static void report_waited(uint64_t ns)
{
	pthread_mutex_lock(&out_lock);
	fprintf(out, "waited %ld %llu\n", (long)syscall(SYS_gettid), (unsigned long long)ns);
	fflush(out);
	pthread_mutex_unlock(&out_lock);
}

static int do_sleep(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	uint64_t t0 = now_ns();

	nanosleep(&ts, NULL);
	report_waited(now_ns() - t0);
	report_sched();
	return 0;
}

static int do_poll(unsigned ms)
{
	int p[2];
	struct pollfd pf;
	uint64_t t0;

	if (pipe(p))
		return 1;
	pf.fd = p[0];
	pf.events = POLLIN;
	t0 = now_ns();
	poll(&pf, 1, (int)ms);
	report_waited(now_ns() - t0);
	report_sched();
	return 0;
}

static int pipe_fds[2];
static int pipe_n;

static void *pipe_reader(void *arg)
{
	char c;

	(void)arg;
	for (int i = 0; i < pipe_n; i++)
		if (read(pipe_fds[0], &c, 1) != 1)
			break;
	report_sched();
	return NULL;
}

static int do_pipe(int n, unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	pthread_t r;

	if (pipe(pipe_fds))
		return 1;
	pipe_n = n;
	pthread_create(&r, NULL, pipe_reader, NULL);
	for (int i = 0; i < n; i++) {
		nanosleep(&ts, NULL);
		if (write(pipe_fds[1], "x", 1) != 1)
			break;
	}
	pthread_join(r, NULL);
	report_sched();
	return 0;
}

static void *mix_thread(void *arg)
{
	int k = (int)(intptr_t)arg;

	for (int i = 0; i < 5; i++) {
		spin_ms(10 + (unsigned)k);
		pthread_mutex_lock(&pp_m);
		spin_ms(2);
		pthread_mutex_unlock(&pp_m);
		usleep(3000);
	}
	report_sched();
	return NULL;
}

static int do_mix(void)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, mix_thread, (void *)(intptr_t)i);
	do_poll(20);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int dispatch(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "read") && argc == 4)
		return do_read(argv[2], strtoul(argv[3], NULL, 0));
	if (!strcmp(m, "pingpong") && argc == 3)
		return do_pingpong(strtol(argv[2], NULL, 0));
	if (!strcmp(m, "spin") && argc == 4)
		return do_spin(atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (!strcmp(m, "sleep") && argc == 3)
		return do_sleep((unsigned)atoi(argv[2]));
	if (!strcmp(m, "poll") && argc == 3)
		return do_poll((unsigned)atoi(argv[2]));
	if (!strcmp(m, "pipe") && argc == 4)
		return do_pipe(atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (!strcmp(m, "mix") && argc == 2)
		return do_mix();
	if (!strcmp(m, "direct") && argc == 5)
		return do_direct(argv[2], argv[3], strtoul(argv[4], NULL, 0));
	fprintf(stderr, "usage: tracer_work read FILE BS | pingpong N | spin T MS | sleep MS | "
			"poll MS | pipe N MS | mix | direct DFILE BFILE BS\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = getenv("TRACER_WORK_OUT");
	struct rusage ru;
	int rc;

	out = path ? fopen(path, "ae") : stdout;
	if (!out) {
		perror(path);
		return 1;
	}
	rc = dispatch(argc, argv);
	if (rc != 2 && getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(out, "rusage %llu\n",
			(unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
				(unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull);
	fclose(out);
	return rc;
}
