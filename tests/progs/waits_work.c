/* waits_work.c - one known wait of each kind (mutex, join, condvar, pipe, socket, file), timed by itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: waits_work MODE OUT [ARGS]
 *   mutex ROUNDS MS      a worker blocks on a pthread mutex the main thread holds while it
 *                        computes MS ms (ROUNDS times): contention
 *   join WORKERS MS      worker i computes (i+1)*MS ms; main pthread_joins each in turn
 *   rtjoin WORKERS MS    a runtime's join (CPython's Thread.join()): worker i computes
 *                        (i+1)*MS ms, posts a semaphore main waits on (the measured call),
 *                        then sleeps 20 ms and ends; main then pthread_joins it (not measured)
 *   condvar WORKERS MS   an idle pool: WORKERS threads wait on their condition variables
 *                        while main computes MS ms, then each is signalled and ends
 *   pipe ROUNDS MS       main reads a pipe that a child process writes a byte to after
 *                        computing MS ms (ROUNDS times)
 *   socketpair ROUNDS MS main reads an AF_UNIX socketpair that a thread feeds likewise
 *   tcp ROUNDS MS        main recv()s a TCP loopback connection that a thread feeds likewise
 *   selfpoll ROUNDS MS   main polls a pipe of its own process with a timeout of MS ms; a
 *                        thread computes 2 ms, sleeps 2.5 MS ms and writes a byte to it
 *                        (ROUNDS times; the byte comes half-way between two timeouts, so
 *                        that no call is woken by its timer as the byte arrives): main's
 *                        polls end by their timeout (two accounts: "timeout", calls that
 *                        returned 0, and "own_process", those the thread's byte ended),
 *                        never by a peer
 *   file PATH BS         PATH's pages dropped from the page cache (fdatasync, then
 *                        posix_fadvise DONTNEED), then read(2) to the end in BS-byte calls
 * Threads hand each other the turn by spinning on atomics (they never wait in the kernel
 * but in the call under test), so the only blocking calls are the ones measured.
 * Every thread that waits measures each blocking call with CLOCK_MONOTONIC (wall), its
 * own CLOCK_THREAD_CPUTIME_ID (on CPU inside the call) and its schedstat run-queue delay
 * (ready to run after the wake-up, not yet on a CPU); OUT gets one JSON object:
 *   {"mode": M, "pid": P, "bytes": B,
 *    "waits": [{"tid": T, "calls": N, "wall_ns": W, "cpu_ns": C, "runq_ns": Q}, ...]}
 * (selfpoll's also say "what": "timeout" or "own_process").
 * wall - cpu - runq is the time the thread waited inside the calls (off CPU, not ready).
 * (The schedstat reads are preads on a procfs file, outside the timed calls: a few µs of
 * file reads on CPU each.)
 */

#define MAXT 16
#define NS 1000000000ull

struct acct {
	long tid;
	const char *what;	/* selfpoll: which of the thread's calls (NULL: all) */
	int schedstat;		/* fd of /proc/self/task/TID/schedstat */
	uint64_t calls, wall, cpu, runq;
};

static struct acct accts[MAXT];
static atomic_int naccts;
static uint64_t nbytes;

static uint64_t clk(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clk(CLOCK_MONOTONIC);
}

static void die(const char *what);

static struct acct *acct_new(void)
{
	char path[64];
	int i = atomic_fetch_add(&naccts, 1);

	if (i >= MAXT) {
		fprintf(stderr, "waits_work: more than %d waiting threads\n", MAXT);
		exit(1);
	}
	accts[i].tid = syscall(SYS_gettid);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", accts[i].tid);
	accts[i].schedstat = open(path, O_RDONLY | O_CLOEXEC);
	if (accts[i].schedstat < 0)
		die("open the thread's schedstat");
	return &accts[i];
}

/* The thread's run-queue delay so far (schedstat's second field: ready, not running). */
static uint64_t runq_ns(const struct acct *a)
{
	char buf[96];
	unsigned long long run, delay;
	ssize_t n = pread(a->schedstat, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		die("read the thread's schedstat");
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &run, &delay) != 2) {
		errno = EINVAL;
		die("parse the thread's schedstat");
	}
	return delay;
}

/* Timing of one blocking call: begin, then end adds it to a. */
struct mark {
	uint64_t wall, cpu, runq;
};

static struct mark mark_begin(const struct acct *a)
{
	uint64_t runq = runq_ns(a);

	return (struct mark){now_ns(), clk(CLOCK_THREAD_CPUTIME_ID), runq};
}

static void mark_end(struct acct *a, struct mark m)
{
	uint64_t cpu = clk(CLOCK_THREAD_CPUTIME_ID), wall = now_ns();

	a->calls++;
	a->wall += wall - m.wall;
	a->cpu += cpu - m.cpu;
	a->runq += runq_ns(a) - m.runq;
}

/* Compute (no syscall) until the monotonic clock reaches t. */
static void compute_until(uint64_t t)
{
	volatile uint64_t x = 1;

	while (now_ns() < t)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
}

/* Wait for another thread's store without a blocking call (yielding the CPU meanwhile). */
static void spin_until_eq(atomic_int *v, int want)
{
	while (atomic_load(v) != want)
		sched_yield();
}

static void die(const char *what)
{
	fprintf(stderr, "waits_work: failed to %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- mutex ---- */

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static atomic_int held_round = -1, asked_round = -1, done_round = -1;
static _Atomic uint64_t asked_at;
static int rounds;
static uint64_t ms_ns;

static void *mutex_waiter(void *arg)
{
	struct acct *a = acct_new();

	(void)arg;
	for (int r = 0; r < rounds; r++) {
		struct mark m;

		spin_until_eq(&held_round, r);
		m = mark_begin(a);
		atomic_store(&asked_at, m.wall);
		atomic_store(&asked_round, r);
		pthread_mutex_lock(&mtx);
		mark_end(a, m);
		pthread_mutex_unlock(&mtx);
		atomic_store(&done_round, r);
	}
	return NULL;
}

static void run_mutex(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, mutex_waiter, NULL))
		die("create a thread");
	for (int r = 0; r < rounds; r++) {
		pthread_mutex_lock(&mtx);
		atomic_store(&held_round, r);
		spin_until_eq(&asked_round, r);
		/* held while the waiter waits: the critical section's work */
		compute_until(atomic_load(&asked_at) + ms_ns);
		pthread_mutex_unlock(&mtx);
		spin_until_eq(&done_round, r);
	}
	pthread_join(t, NULL);
}

/* ---- join ---- */

static void *join_worker(void *arg)
{
	compute_until(now_ns() + (uint64_t)(uintptr_t)arg);
	return NULL;
}

static void run_join(int workers)
{
	pthread_t t[MAXT];
	struct acct *a = acct_new();

	for (int i = 0; i < workers; i++)
		if (pthread_create(&t[i], NULL, join_worker, (void *)(uintptr_t)((i + 1) * ms_ns)))
			die("create a thread");
	for (int i = 0; i < workers; i++) {
		struct mark m = mark_begin(a);

		pthread_join(t[i], NULL);
		mark_end(a, m);
	}
}

/* ---- a runtime's join ---- */

/*
 * The waker ends 20 ms after its wake-up, on CPU for microseconds of it: what a loaded
 * machine makes of a CPython worker that released main's join() and then waited for a
 * CPU or the GIL on its way out. Decided by the waker's on-CPU time (WT_JOIN_EXIT_CPU_NS),
 * not its wall (over WT_JOIN_EXIT_NS).
 */
static sem_t rt_done[MAXT];

static void *rtjoin_worker(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	struct timespec nap = {0, 20 * 1000 * 1000};

	compute_until(now_ns() + (i + 1) * ms_ns);
	sem_post(&rt_done[i]);
	while (nanosleep(&nap, &nap) && errno == EINTR)
		;
	return NULL;
}

static void run_rtjoin(int workers)
{
	pthread_t t[MAXT];
	struct acct *a = acct_new();

	for (int i = 0; i < workers; i++)
		if (sem_init(&rt_done[i], 0, 0) ||
		    pthread_create(&t[i], NULL, rtjoin_worker, (void *)(uintptr_t)i))
			die("create a thread");
	for (int i = 0; i < workers; i++) {
		struct mark m = mark_begin(a);

		while (sem_wait(&rt_done[i]) && errno == EINTR)
			;
		mark_end(a, m);
		pthread_join(t[i], NULL);
	}
}

/* ---- condvar ---- */

struct slot {
	pthread_mutex_t m;
	pthread_cond_t c;
	int go;
};

static struct slot slots[MAXT];
static atomic_int ready;

static void *pool_worker(void *arg)
{
	struct slot *s = arg;
	struct acct *a = acct_new();
	struct mark m;

	atomic_fetch_add(&ready, 1);
	m = mark_begin(a);
	pthread_mutex_lock(&s->m);
	while (!s->go)
		pthread_cond_wait(&s->c, &s->m);
	pthread_mutex_unlock(&s->m);
	mark_end(a, m);
	return NULL;
}

static void run_condvar(int workers)
{
	pthread_t t[MAXT];

	for (int i = 0; i < workers; i++) {
		pthread_mutex_init(&slots[i].m, NULL);
		pthread_cond_init(&slots[i].c, NULL);
		if (pthread_create(&t[i], NULL, pool_worker, &slots[i]))
			die("create a thread");
	}
	spin_until_eq(&ready, workers);
	compute_until(now_ns() + ms_ns);
	for (int i = 0; i < workers; i++) {
		pthread_mutex_lock(&slots[i].m);
		slots[i].go = 1;
		/* signalled after the unlock: the woken worker finds its mutex free */
		pthread_mutex_unlock(&slots[i].m);
		pthread_cond_signal(&slots[i].c);
	}
	for (int i = 0; i < workers; i++)
		pthread_join(t[i], NULL);
}

/* ---- pipe, socketpair, tcp: a reader fed late ---- */

static int feed_fd;

/* The feeder: compute, then one byte, rounds times. */
static void feed(int fd)
{
	for (int r = 0; r < rounds; r++) {
		char b = (char)r;

		compute_until(now_ns() + ms_ns);
		if (write(fd, &b, 1) != 1)
			die("write to the reader");
	}
}

static void *feed_thread(void *arg)
{
	(void)arg;
	feed(feed_fd);
	return NULL;
}

static void read_rounds(int fd, int use_recv)
{
	struct acct *a = acct_new();

	for (int r = 0; r < rounds; r++) {
		char b;
		struct mark m = mark_begin(a);
		ssize_t n = use_recv ? recv(fd, &b, 1, 0) : read(fd, &b, 1);

		mark_end(a, m);
		if (n != 1)
			die("read a byte");
		nbytes++;
	}
}

static void run_pipe(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		die("create a pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		feed(p[1]);
		_exit(0);
	}
	close(p[1]);
	read_rounds(p[0], 0);
	if (waitpid(pid, NULL, 0) < 0)
		die("wait for the writer");
}

static void run_socket(int tcp)
{
	int rd, wr;
	pthread_t t;

	if (!tcp) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			die("create a socketpair");
		rd = sv[0];
		wr = sv[1];
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(sa);
		int l = socket(AF_INET, SOCK_STREAM, 0);

		if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
		    getsockname(l, (struct sockaddr *)&sa, &len))
			die("listen on the loopback");
		wr = socket(AF_INET, SOCK_STREAM, 0);
		if (wr < 0 || connect(wr, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect on the loopback");
		/* the connection is in the backlog already: accept does not wait */
		rd = accept(l, NULL, NULL);
		if (rd < 0)
			die("accept");
		close(l);
	}
	feed_fd = wr;
	if (pthread_create(&t, NULL, feed_thread, NULL))
		die("create a thread");
	read_rounds(rd, tcp);
	pthread_join(t, NULL);
	close(rd);
	close(wr);
}

/* ---- selfpoll: a thread of the process wakes main's poll ---- */

static int self_pipe[2];

static void *self_feeder(void *arg)
{
	(void)arg;
	for (int r = 0; r < rounds; r++) {
		uint64_t sleep_ns = ms_ns * 5 / 2;
		struct timespec d = {(time_t)(sleep_ns / NS), (long)(sleep_ns % NS)};
		char b = (char)r;

		compute_until(now_ns() + 2000000ull);
		while (nanosleep(&d, &d) && errno == EINTR)
			;
		if (write(self_pipe[1], &b, 1) != 1)
			die("write to the pipe");
	}
	return NULL;
}

static void run_selfpoll(void)
{
	struct acct *timeout = acct_new(), *own = acct_new();
	pthread_t t;
	int got = 0;

	timeout->what = "timeout";
	own->what = "own_process";
	if (pipe(self_pipe))
		die("create a pipe");
	if (pthread_create(&t, NULL, self_feeder, NULL))
		die("create a thread");
	while (got < rounds) {
		struct pollfd pf = {.fd = self_pipe[0], .events = POLLIN};
		struct mark m = mark_begin(timeout);
		int n = poll(&pf, 1, (int)(ms_ns / 1000000ull));
		char b;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("poll the pipe");
		}
		/* the byte is read before the schedstat (a file read) that ends the timing: a
		 * poll is the pipe's if the pipe is what the thread reads next */
		if (n && read(self_pipe[0], &b, 1) == 1) {
			got++;
			nbytes++;
		}
		mark_end(n ? own : timeout, m);
	}
	pthread_join(t, NULL);
}

/* ---- file ---- */

static void run_file(const char *path, size_t bs)
{
	int fd = open(path, O_RDONLY);
	char *buf = malloc(bs);
	struct acct *a = acct_new();

	if (fd < 0 || !buf)
		die("open the file");
	/* clean pages only can be dropped: write back whatever is dirty first */
	if (fdatasync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die("drop the file's pages from the page cache");
	for (;;) {
		struct mark m = mark_begin(a);
		ssize_t n = read(fd, buf, bs);

		mark_end(a, m);
		if (n < 0)
			die("read the file");
		if (n == 0)
			break;
		nbytes += (uint64_t)n;
	}
	free(buf);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	FILE *out;
	int n = argc > 3 ? atoi(argv[3]) : 0;

	ms_ns = argc > 4 ? (uint64_t)atoi(argv[4]) * 1000000ull : 0;
	rounds = n;
	if (!strcmp(mode, "mutex") && n > 0)
		run_mutex();
	else if (!strcmp(mode, "join") && n > 0 && n <= MAXT)
		run_join(n);
	else if (!strcmp(mode, "rtjoin") && n > 0 && n <= MAXT)
		run_rtjoin(n);
	else if (!strcmp(mode, "condvar") && n > 0 && n < MAXT)
		run_condvar(n);
	else if (!strcmp(mode, "pipe") && n > 0)
		run_pipe();
	else if (!strcmp(mode, "socketpair") && n > 0)
		run_socket(0);
	else if (!strcmp(mode, "tcp") && n > 0)
		run_socket(1);
	else if (!strcmp(mode, "selfpoll") && n > 0 && ms_ns > 0)
		run_selfpoll();
	else if (!strcmp(mode, "file") && argc > 4 && atoi(argv[4]) > 0)
		run_file(argv[3], (size_t)atoi(argv[4]));
	else {
		fprintf(stderr, "usage: waits_work mutex|join|rtjoin|condvar|pipe|socketpair|tcp|selfpoll "
				"OUT N MS\n"
				"       waits_work file OUT PATH BS\n");
		return 2;
	}
	out = fopen(argv[2], "we");
	if (!out)
		die("open the output file");
	fprintf(out, "{\"mode\": \"%s\", \"pid\": %d, \"bytes\": %llu, \"waits\": [", mode,
		(int)getpid(), (unsigned long long)nbytes);
	for (int i = 0; i < naccts; i++) {
		fprintf(out, "%s{\"tid\": %ld, \"calls\": %llu, \"wall_ns\": %llu, "
			"\"cpu_ns\": %llu, \"runq_ns\": %llu", i ? ", " : "", accts[i].tid,
			(unsigned long long)accts[i].calls, (unsigned long long)accts[i].wall,
			(unsigned long long)accts[i].cpu, (unsigned long long)accts[i].runq);
		if (accts[i].what)
			fprintf(out, ", \"what\": \"%s\"", accts[i].what);
		fprintf(out, "}");
	}
	fprintf(out, "]}\n");
	return fclose(out) ? 1 : 0;
}
