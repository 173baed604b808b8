/* bench_drv.c - times a workload with and without probes, the same way each time, for make bench. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/analysis.h"
#include "trace/symbols.h"
#include "model/timeline.h"
#include "trace/tracer.h"
#include "workload.h"

/*
 * Modes (one measurement per invocation: tests/bench.sh interleaves them):
 *
 *   bench_drv run [--iotrace [--no-stacks | --no-ucopy] [--freq HZ] [--off F,...]
 *                 [--hash-threads] [--ringbuf-mb N]]
 *                 [--ext 'TRACER ARGS {pid}'] [--cold] [--throttle RATE]
 *                 (--md5dir DIR [--strategy S] | -- CMD ARGS...)
 *     Launches the workload start-synchronised (wl_spawn / wl_spawn_cmd, as iotrace does)
 *     and times it from release to exit. --iotrace: the tracer is opened once, before the
 *     child is spawned, and drained on a 10 ms tick with stacks symbolized as they come,
 *     exactly as `iotrace run` does (user/session.c). --ext: an external tracer (bpftrace,
 *     offcputime) is started on the child's pid while the child waits, and the child is
 *     released only once the tracer's fds have stopped changing (it has attached). Both
 *     ways the end is stamped by a thread blocked on the child's pidfd, so the measured
 *     window is the same whoever drains what. --no-ucopy: stacks by frame pointers only
 *     (no user stack copies: what the CFI unwinding costs); --freq: sampling rate;
 *     --hash-threads: the threads' entries in a hash even where task storage works;
 *     --ringbuf-mb: the ring buffer's size (iotrace --ringbuf-mb; default: the tracer's).
 *     Prints "wall_ns N cpu_ns N bytes N lost N gaps_ns N thread_ns N others_ns N status N";
 *     cpu_ns: the workload's own CPU time (rusage), which the probes' work is part of;
 *     others_ns: CPU time the rest of the machine (an external tracer included) used
 *     meanwhile, so a table can tell a slow run from a busy machine.
 *   bench_drv md5rate SECONDS    single-core MD5 (libcrypto EVP, 64 KiB updates): "bps N"
 *   bench_drv stamp FILE         writes CLOCK_MONOTONIC ns to FILE (a traced command)
 *   bench_drv attach FILE -- TRACER ARGS...
 *     Runs TRACER (whose traced command is `bench_drv stamp FILE`) and prints
 *     "attach_ns N maxrss_kb N": exec of the tracer to the command's first instruction,
 *     and the tracer's peak RSS (wait4; its child is a small exec'd program).
 *   bench_drv rss -- TRACER ARGS...   "wall_ns N maxrss_kb N anon_kb N status N" of a tracer
 *     run; anon_kb: the peak of RssAnon sampled every 5 ms (what it allocated itself).
 *   bench_drv features   the parts of the probes (enum it_feature) that --off can switch off
 *     in this build, one name a line: make bench runs iotrace without each, for its cost.
 */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "bench_drv: %s: %s\n", what, strerror(err));
	return 1;
}

/* ---- the stacks, as the session keeps them: symbolized as they arrive ---- */

struct stk {
	struct sym *sym;
	char **v;
	size_t n, cap;
};

static void on_stack(void *ctx, const struct tr_stack *st)
{
	struct stk *s = ctx;
	char buf[8192];

	if (sym_fold(s->sym, st, "", buf, sizeof(buf)) < 0)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		char **n = realloc(s->v, cap * sizeof(*n));

		if (!n)
			return;
		s->v = n;
		s->cap = cap;
	}
	s->v[s->n] = strdup(buf);
	if (s->v[s->n])
		s->n++;
}

static int unwind(void *ctx, uint32_t pid, uint32_t tid, const uint64_t *regs, const void *stack,
		  size_t size, uint64_t *ips, int max, bool *complete, uint64_t *top,
		  uint16_t *reads, int *nreads, uint32_t *regmask)
{
	struct stk *s = ctx;

	return sym_unwind(s->sym, (pid_t)pid, (pid_t)tid, regs, stack, size, ips, max, complete,
			  top, reads, nreads, regmask);
}

static void stk_clear(struct stk *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* ---- the end stamp: a thread blocked on the child's pidfd ---- */

struct waiter {
	int pidfd;
	uint64_t t_exit;
	volatile int done;
};

static void *wait_exit(void *arg)
{
	struct waiter *w = arg;
	struct pollfd p = {.fd = w->pidfd, .events = POLLIN};

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	w->t_exit = now_ns();
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- external tracers ---- */

/* anon_inode fds (bpf maps, progs, links, perf events) the process holds */
static int count_bpf_fds(pid_t pid)
{
	char path[64], link[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char p[384];
		ssize_t k;

		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		k = readlink(p, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = 0;
		if (strstr(link, "bpf") || strstr(link, "perf_event"))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * Start "TRACER ARGS {pid}" (split at spaces, {pid} replaced; no shell) with its output in
 * out_fd, and return once it has attached: its BPF/perf fds have existed and stayed the
 * same for a second (bpftrace's BEGIN fires before its probes attach, and offcputime says
 * nothing, so neither output tells).
 */
static pid_t ext_start(const char *spec, pid_t target, int out_fd)
{
	char *dup = strdup(spec), *save = NULL, *tok, *argv[64], pidbuf[16];
	int argc = 0, last = -1, stable_ms = 0;
	pid_t pid;

	if (!dup)
		return -1;
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	for (tok = strtok_r(dup, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = strcmp(tok, "{pid}") ? tok : pidbuf;
	argv[argc] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	free(dup);
	if (pid < 0)
		return -1;
	for (int waited = 0; waited < 60000; waited += 50) {
		int n = count_bpf_fds(pid), st;

		if (n < 0 || waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "bench_drv: tracer '%s' exited before attaching\n", spec);
			return -1;
		}
		if (n > 0 && n == last)
			stable_ms += 50;
		else
			stable_ms = 0;
		last = n;
		if (stable_ms >= 1000)
			return pid;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fprintf(stderr, "bench_drv: tracer '%s' did not settle in 60 s\n", spec);
	return -1;
}

static void ext_stop(pid_t pid)
{
	int st;

	kill(pid, SIGINT);
	for (int i = 0; i < 600; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* ---- what else ran: other processes' CPU time during a measurement ---- */

/* CPU time the whole machine spent busy so far (not idle, not iowait), in ns */
static uint64_t machine_busy_ns(void)
{
	unsigned long long v[10] = {0}, busy = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) < 8)
		v[0] = 0;
	fclose(f);
	for (int i = 0; i < 8; i++)
		if (i != 3 && i != 4) /* idle, iowait */
			busy += v[i];
	return busy * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

/* ---- run ---- */

struct run_args {
	bool iotrace, stacks, cold, ucopy, thread_hash;
	unsigned hz;		/* 0: the tracer's default */
	unsigned ringbuf_mb;	/* 0: the tracer's default */
	unsigned features_off; /* --off: enum it_feature */
	const char *ext, *md5dir, *strategy;
	uint64_t throttle;
	char **argv;
};

static int mode_run(const struct run_args *a)
{
	struct wl_opts o = {.chunk = 64 << 10, .uid = (uid_t)-1, .gid = (gid_t)-1};
	struct wl_child c = {.pid = -1, .go_fd = -1, .res_fd = -1, .err_fd = -1};
	struct wl_result res = {0};
	struct wl_throttle thr;
	struct stk stk = {0};
	struct tr_opts to = {0};
	struct tr *tr = NULL;
	struct tl_timeline *tl = NULL;
	struct an_counters cnt = {0};
	struct an_run run;
	struct waiter w = {.pidfd = -1};
	struct rusage ru;
	pthread_t th;
	char err[512];
	uint64_t t0, last_ts = 0, thread_ns = 0, busy0, self0, others;
	struct rusage self;
	pid_t ext = -1;
	int ret, status = 0, ext_fd = -1;
	bool thr_ok = false;
	const struct wl_workload *wl = a->md5dir ? wl_find("md5dir") : NULL;

	memset(&run, 0, sizeof(run));
	if (a->md5dir) {
		double resident;

		o.dir = a->md5dir;
		ret = wl_cache_prepare(o.dir, a->cold ? WL_CACHE_COLD : WL_CACHE_WARM, &resident);
		if (ret < 0)
			return die("cache", -ret);
		if (a->throttle) {
			ret = wl_throttle_setup(o.dir, a->throttle, &thr);
			if (ret < 0)
				return die("throttle", -ret);
			thr_ok = true;
			o.throttle_cgroup = thr.procs;
		}
	}
	if (a->iotrace) {
		to.stacks = a->stacks;
		to.features_off = a->features_off;
		to.thread_hash = a->thread_hash;
		to.ringbuf_mb = a->ringbuf_mb;
		if (a->stacks) {
			stk.sym = sym_new();
			if (!stk.sym)
				return die("sym_new", ENOMEM);
			sym_kernel_load(stk.sym);
			to.on_stack = on_stack;
			to.stack_ctx = &stk;
			to.unwind = a->ucopy ? unwind : NULL;
			to.unwind_ctx = &stk;
			to.sample_hz = a->hz;
		}
		to.follow = true;
		ret = tr_open(&to, &tr, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "bench_drv: %s\n", err);
			return 1;
		}
		tl = tl_new();
		if (!tl)
			return die("tl_new", ENOMEM);
	}
	ret = wl ? wl_spawn(wl, a->strategy, &o, &c) : wl_spawn_cmd(a->argv, &o, &c);
	if (ret < 0) {
		fprintf(stderr, "bench_drv: spawn: %s\n", c.errmsg[0] ? c.errmsg : strerror(-ret));
		return 1;
	}
	w.pidfd = (int)syscall(SYS_pidfd_open, c.pid, 0);
	if (w.pidfd < 0)
		return die("pidfd_open", errno);
	if (tr) {
		ret = tr_start(tr, c.pid, tl);
		if (ret < 0)
			return die("tr_start", -ret);
	}
	if (a->ext) {
		char tmpl[] = "/tmp/bench-ext-XXXXXX";

		ext_fd = mkstemp(tmpl);
		if (ext_fd < 0)
			return die("mkstemp", errno);
		unlink(tmpl);
		ext = ext_start(a->ext, c.pid, ext_fd);
		if (ext < 0) {
			wl_kill(&c, SIGKILL);
			wl_wait(&c, &status, &ru, NULL);
			return 1;
		}
	}
	if (pthread_create(&th, NULL, wait_exit, &w))
		return die("pthread_create", EAGAIN);
	busy0 = machine_busy_ns();
	getrusage(RUSAGE_SELF, &self);
	self0 = tv_ns(&self.ru_utime) + tv_ns(&self.ru_stime);
	t0 = tr ? tr_now() : now_ns();
	ret = wl_release(&c);
	if (ret < 0)
		return die("release", -ret);
	while (tr && !__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
		ret = tr_poll(tr, 10);
		if (ret < 0 && ret != -EINTR)
			return die("tr_poll", -ret);
	}
	pthread_join(th, NULL);
	others = machine_busy_ns() - busy0;
	getrusage(RUSAGE_SELF, &self);
	others -= tv_ns(&self.ru_utime) + tv_ns(&self.ru_stime) - self0;
	do
		ret = wl_wait(&c, &status, &ru, wl ? &res : NULL);
	while (ret == -EINTR);
	if (ret < 0)
		return die("wl_wait", -ret);
	if (ext > 0)
		ext_stop(ext);
	if (ext_fd >= 0)
		close(ext_fd);
	if (tr) {
		uint64_t t_end = w.t_exit;

		ret = tr_stop(tr, &cnt, &last_ts);
		if (ret < 0)
			return die("tr_stop", -ret);
		if (last_ts > t0 && last_ts < t_end)
			t_end = last_ts;
		ret = tl_finish(tl, t0, t_end);
		if (!ret)
			ret = an_run_compute(&run, tl, &cnt, 2);
		if (ret < 0)
			return die("analysis", -ret);
		for (int s = 0; s < TL_NSTATES; s++)
			thread_ns += run.states_ns[s];
	}
	/* the workload's own CPU (rusage) is no one else's; an external tracer's is */
	others -= tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
	if ((int64_t)others < 0)
		others = 0;
	printf("wall_ns %llu cpu_ns %llu bytes %llu lost %llu gaps_ns %llu thread_ns %llu "
	       "others_ns %llu status %d\n",
	       (unsigned long long)(w.t_exit - t0),
	       (unsigned long long)(tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime)),
	       (unsigned long long)res.bytes,
	       (unsigned long long)cnt.lost_events, (unsigned long long)run.gaps_ns,
	       (unsigned long long)thread_ns, (unsigned long long)others,
	       WIFEXITED(status) ? WEXITSTATUS(status)
							: 128 + WTERMSIG(status));
	if (tr)
		an_run_free(&run);
	else
		tl_free(tl);
	wl_result_free(&res);
	tr_close(tr);
	stk_clear(&stk);
	sym_free(stk.sym);
	close(w.pidfd);
	if (thr_ok)
		wl_throttle_remove(&thr);
	return 0;
}

/* ---- md5rate, stamp, attach, rss ---- */

static int mode_md5rate(double secs)
{
	static unsigned char buf[64 << 10];
	unsigned char md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t t0, t, bytes = 0;

	memset(buf, 0x5a, sizeof(buf));
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL))
		return die("EVP", EINVAL);
	t0 = now_ns();
	do {
		for (int i = 0; i < 64; i++)
			EVP_DigestUpdate(ctx, buf, sizeof(buf));
		bytes += 64 * sizeof(buf);
		t = now_ns();
	} while (t - t0 < (uint64_t)(secs * 1e9));
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	printf("bps %.0f\n", (double)bytes / ((double)(t - t0) / 1e9));
	return 0;
}

static int mode_stamp(const char *file)
{
	uint64_t t = now_ns();
	FILE *f = fopen(file, "w");

	if (!f)
		return die(file, errno);
	fprintf(f, "%llu\n", (unsigned long long)t);
	return fclose(f) ? 1 : 0;
}

static long anon_peak_kb;

static int run_tracer(char **argv, uint64_t *t0, uint64_t *t1, struct rusage *ru, int *status)
{
	pid_t pid;
	int devnull = open("/dev/null", O_WRONLY);

	*t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		dup2(devnull, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return die("fork", errno);
	close(devnull);
	/* RssAnon, sampled: what the tracer allocates, apart from mappings such as the ring
	 * buffer's (wait4's ru_maxrss counts those too) */
	anon_peak_kb = 0;
	for (;;) {
		char path[64], line[128];
		pid_t w = wait4(pid, status, WNOHANG, ru);
		FILE *f;

		if (w == pid)
			break;
		if (w < 0)
			return die("wait4", errno);
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			long kb;

			if (sscanf(line, "RssAnon: %ld", &kb) == 1 && kb > anon_peak_kb)
				anon_peak_kb = kb;
		}
		if (f)
			fclose(f);
		usleep(5000);
	}
	*t1 = now_ns();
	return 0;
}

static int mode_attach(const char *file, char **argv)
{
	unsigned long long stamp = 0;
	uint64_t t0, t1;
	struct rusage ru;
	int status;
	FILE *f;

	unlink(file);
	if (run_tracer(argv, &t0, &t1, &ru, &status))
		return 1;
	f = fopen(file, "r");
	if (!f || fscanf(f, "%llu", &stamp) != 1) {
		fprintf(stderr, "bench_drv: the traced command never ran (status %d)\n", status);
		return 1;
	}
	fclose(f);
	unlink(file);
	printf("attach_ns %llu maxrss_kb %ld\n", stamp - (unsigned long long)t0, ru.ru_maxrss);
	return 0;
}

static int mode_rss(char **argv)
{
	uint64_t t0, t1;
	struct rusage ru;
	int status;

	if (run_tracer(argv, &t0, &t1, &ru, &status))
		return 1;
	printf("wall_ns %llu maxrss_kb %ld anon_kb %ld status %d\n", (unsigned long long)(t1 - t0),
	       ru.ru_maxrss, anon_peak_kb, status);
	return 0;
}

/* "steal,fdkind" -> IT_FEAT_* bits; -1 for a name this build does not have */
static int parse_features(const char *list, unsigned *off)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *n = strtok_r(buf, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		unsigned bit = 0;

#define MATCH_FEATURE(b, name)                                                             \
	if (!strcmp(n, name))                                                              \
		bit = b;
		IT_FEATURES(MATCH_FEATURE)
#undef MATCH_FEATURE
		if (!bit) {
			fprintf(stderr, "bench_drv: unknown feature '%s' (see bench_drv features)\n",
				n);
			return -1;
		}
		*off |= bit;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"iotrace", no_argument, NULL, 'i'}, {"no-stacks", no_argument, NULL, 'S'},
		{"ext", required_argument, NULL, 'e'}, {"md5dir", required_argument, NULL, 'm'},
		{"strategy", required_argument, NULL, 's'}, {"cold", no_argument, NULL, 'c'},
		{"throttle", required_argument, NULL, 't'}, {"no-ucopy", no_argument, NULL, 'U'},
		{"freq", required_argument, NULL, 'F'}, {"off", required_argument, NULL, 'o'},
		{"hash-threads", no_argument, NULL, 'H'}, {"ringbuf-mb", required_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	struct run_args a = {.stacks = true, .ucopy = true, .strategy = "sync"};
	int opt;

	if (argc < 2)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "md5rate"))
		return mode_md5rate(argc > 2 ? atof(argv[2]) : 1.0);
	if (!strcmp(argv[1], "stamp") && argc == 3)
		return mode_stamp(argv[2]);
	if (!strcmp(argv[1], "attach") && argc > 4 && !strcmp(argv[3], "--"))
		return mode_attach(argv[2], argv + 4);
	if (!strcmp(argv[1], "rss") && argc > 3 && !strcmp(argv[2], "--"))
		return mode_rss(argv + 3);
	if (!strcmp(argv[1], "features")) {
		/* the parts of the probes --off can switch off in this build */
#define PRINT_FEATURE(bit, name) printf("%s\n", name);
		IT_FEATURES(PRINT_FEATURE)
#undef PRINT_FEATURE
		return 0;
	}
	if (strcmp(argv[1], "run"))
		goto usage;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (opt) {
		case 'i': a.iotrace = true; break;
		case 'S': a.stacks = false; break;
		case 'U': a.ucopy = false; break;
		case 'H': a.thread_hash = true; break;
		case 'R': a.ringbuf_mb = (unsigned)atoi(optarg); break;
		case 'F': a.hz = (unsigned)atoi(optarg); break;
		case 'e': a.ext = optarg; break;
		case 'm': a.md5dir = optarg; break;
		case 's': a.strategy = optarg; break;
		case 'c': a.cold = true; break;
		case 'o':
			if (parse_features(optarg, &a.features_off))
				goto usage;
			break;
		case 't':
			if (wl_parse_rate(optarg, &a.throttle))
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (!a.md5dir && optind >= argc)
		goto usage;
	a.argv = argv + optind;
	return mode_run(&a);
usage:
	fprintf(stderr, "usage: bench_drv run [--iotrace [--no-stacks | --no-ucopy] [--freq HZ] "
			"[--off FEATURE,...] [--hash-threads] [--ringbuf-mb N]]\n"
			"                     [--ext 'CMD {pid}'] [--cold] [--throttle RATE] "
			"(--md5dir DIR [--strategy S] | -- CMD...)\n"
			"       bench_drv md5rate SECS | stamp FILE | attach FILE -- TRACER... | "
			"rss -- TRACER... | features\n");
	return 2;
}
