/* test_workloads.c - workloads: digests against md5sum, listing, parsing, cache, throttle, launch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define NOBODY 65534

/* The fixture every digest test hashes; removed in the group teardown, whatever happened. */
static char fixture[64];
/* Datasets and cgroups a test made, removed by teardown if the test did not get to it. */
static char *made_dataset, *fixture_dataset;
static struct wl_throttle made_cgroup;

static bool is_root(void) { return geteuid() == 0; }

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_file(const char *rel, size_t size, unsigned seed)
{
	char path[256];
	unsigned char *buf = malloc(size ? size : 1);
	int fd;

	assert_non_null(buf);
	for (size_t i = 0; i < size; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	snprintf(path, sizeof(path), "%s/%s", fixture, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

static void mkdir_rel(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", fixture, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* The regular files of the fixture, sorted; md5sum is asked about exactly these. */
static const char *const fixture_files[] = {
    "a/b/c/deep.bin", "a/b/x.txt", "a/mid.bin", "big.bin", "empty", "odd.bin", "one",
};
#define NFIX (sizeof(fixture_files) / sizeof(fixture_files[0]))

static int group_setup(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[256];
	int s;

	(void)state;
	snprintf(fixture, sizeof(fixture), "/var/tmp/iotrace-test-XXXXXX");
	if (!mkdtemp(fixture))
		return -1;
	chmod(fixture, 0755); /* the privilege tests read it as nobody */
	mkdir_rel("a");
	mkdir_rel("a/b");
	mkdir_rel("a/b/c");
	write_file("empty", 0, 1);
	write_file("one", 1, 2);
	write_file("odd.bin", 200001, 3);	   /* not a multiple of any chunk */
	write_file("big.bin", (3u << 20) + 17, 4); /* many chunks in flight */
	write_file("a/mid.bin", 3 * 4096, 5);	   /* exactly 3 small chunks */
	write_file("a/b/x.txt", 4095, 6);
	write_file("a/b/c/deep.bin", 70000, 7);
	/* what a listing must skip without opening */
	snprintf(path, sizeof(path), "%s/link", fixture);
	symlink("one", path);
	snprintf(path, sizeof(path), "%s/a/dirlink", fixture);
	symlink("b", path);
	snprintf(path, sizeof(path), "%s/fifo", fixture);
	mkfifo(path, 0644);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", fixture);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	close(s);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fixture[0])
		nftw(fixture, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static int test_teardown(void **state)
{
	(void)state;
	if (made_dataset) {
		wl_dataset_remove(made_dataset);
		free(made_dataset);
		made_dataset = NULL;
	}
	if (fixture_dataset) {
		wl_dataset_remove(fixture_dataset);
		free(fixture_dataset);
		fixture_dataset = NULL;
	}
	if (made_cgroup.path[0]) {
		snprintf(made_cgroup.procs, sizeof(made_cgroup.procs), "%s/cgroup.procs",
			 made_cgroup.path);
		wl_throttle_remove(&made_cgroup);
	}
	return 0;
}

/* ---- md5sum as the independent source ---- */

struct digest {
	char path[64];
	char hex[33];
};

static void run_md5sum(struct digest *out)
{
	int p[2], st;
	pid_t pid;
	FILE *f;
	char line[256];
	size_t n = 0;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[NFIX + 2];

		argv[0] = "md5sum";
		for (size_t i = 0; i < NFIX; i++)
			argv[i + 1] = (char *)fixture_files[i];
		argv[NFIX + 1] = NULL;
		dup2(p[1], 1);
		if (chdir(fixture) == 0)
			execvp("md5sum", argv);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (fgets(line, sizeof(line), f) && n < NFIX) {
		assert_int_equal(sscanf(line, "%32s %63s", out[n].hex, out[n].path), 2);
		n++;
	}
	fclose(f);
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(n, NFIX);
}

static void hex(const unsigned char *md5, char *out)
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", md5[i]);
}

/* Spawn, release, wait; the child's exit status. */
static int run_workload(const char *wl, const char *strategy, const struct wl_opts *o,
			struct wl_result *res)
{
	struct wl_child c;
	struct rusage ru;
	int st = -1, ret;

	ret = wl_spawn(wl_find(wl), strategy, o, &c);
	if (ret < 0)
		fail_msg("wl_spawn %s/%s: %s (%s)", wl, strategy, strerror(-ret), c.errmsg);
	assert_int_equal(wl_release(&c), 0);
	assert_int_equal(wl_wait(&c, &st, &ru, res), 0);
	assert_true(c.reaped);
	/* the CPU time before release and at the end are parts of what wait4 counted (its
	 * timevals are whole microseconds: four of them may each be a microsecond short) */
	assert_true(c.setup_cpu_ok);
	if (res && res->complete) {
		uint64_t total = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
				 (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;

		assert_true(res->end_cpu_ok);
		assert_true(res->end_cpu_ns <= total);
		assert_true(c.setup_cpu_ns <= res->end_cpu_ns + 4000);
	}
	return st;
}

static struct wl_opts base_opts(void)
{
	struct wl_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = fixture;
	o.uid = (uid_t)-1;
	o.gid = (gid_t)-1;
	return o;
}

/*
 * The release is a send and a close back to back. A child that looked for the go byte just
 * before it (FIONREAD: none yet) and polls just after sees the hang-up with the byte still
 * queued: it must run, not take the hang-up for the caller giving up (exit 125, seen in CI
 * as "the workload exited with status 125"). Made deterministic with ptrace: the child is
 * held at the entry of that poll while the release happens.
 */
static void test_release_meets_hangup(void **state)
{
	struct __ptrace_syscall_info si;
	struct wl_opts o = base_opts();
	struct wl_result r;
	struct wl_child c;
	struct rusage ru;
	bool held = false;
	int st;

	(void)state;
	assert_int_equal(wl_spawn(wl_find("md5dir"), "sync", &o, &c), 0);
	assert_int_equal(ptrace(PTRACE_SEIZE, c.pid, 0, PTRACE_O_TRACESYSGOOD), 0);
	assert_int_equal(ptrace(PTRACE_INTERRUPT, c.pid, 0, 0), 0);
	assert_int_equal(waitpid(c.pid, &st, __WALL), c.pid);
	assert_true(WIFSTOPPED(st));
	/* out of sigwaitinfo, as the channel's own signal would wake it: round the loop again */
	assert_int_equal(kill(c.pid, SIGUSR1), 0);
	for (int i = 0; i < 64 && !held; i++) {
		assert_int_equal(ptrace(PTRACE_SYSCALL, c.pid, 0, 0), 0);
		assert_int_equal(waitpid(c.pid, &st, __WALL), c.pid);
		assert_true(WIFSTOPPED(st));
		if (WSTOPSIG(st) != (SIGTRAP | 0x80))
			continue;
		assert_true(ptrace(PTRACE_GET_SYSCALL_INFO, c.pid, sizeof(si), &si) > 0);
		held = si.op == PTRACE_SYSCALL_INFO_ENTRY &&
		       (si.entry.nr == SYS_poll || si.entry.nr == SYS_ppoll);
	}
	assert_true(held);
	/* the FIONREAD before this poll found nothing; now the byte and the hang-up together */
	assert_int_equal(wl_release(&c), 0);
	assert_int_equal(ptrace(PTRACE_DETACH, c.pid, 0, 0), 0);
	assert_int_equal(wl_wait(&c, &st, &ru, &r), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(r.complete);
	assert_int_equal(r.nfiles, NFIX);
	wl_result_free(&r);
}

static void check_digests(const char *strategy, size_t chunk, unsigned qd, unsigned threads)
{
	struct digest ref[NFIX];
	struct wl_result r;
	struct wl_opts o = base_opts();
	int st;

	run_md5sum(ref);
	o.chunk = chunk;
	o.qd = qd;
	o.threads = threads;
	st = run_workload("md5dir", strategy, &o, &r);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(r.complete);
	assert_int_equal(r.nfiles, NFIX);
	assert_int_equal(r.nerrors, 0);
	for (size_t i = 0; i < NFIX; i++) {
		char h[33];

		assert_string_equal(r.files[i].path, ref[i].path);
		hex(r.files[i].md5, h);
		if (strcmp(h, ref[i].hex))
			fail_msg("%s chunk %zu: %s: md5 %s, md5sum says %s", strategy, chunk,
				 ref[i].path, h, ref[i].hex);
		assert_int_equal(r.files[i].err, 0);
	}
	if (!strcmp(strategy, "callback"))
		assert_true(r.pool_threads >= 1);
	wl_result_free(&r);
}

static void test_digests_sync(void **s)
{
	(void)s;
	check_digests("sync", 0, 0, 0);
	check_digests("sync", 4096, 0, 0);
}

static void test_digests_threads(void **s)
{
	(void)s;
	check_digests("threads", 0, 0, 3);
	check_digests("threads", 4096, 0, 0);
}

static void test_digests_callback(void **s)
{
	(void)s;
	check_digests("callback", 0, 0, 0);
	check_digests("callback", 4096, 2, 3);
}

static void test_digests_uring(void **s)
{
	(void)s;
	check_digests("uring", 0, 0, 0);
	check_digests("uring", 4096, 32, 0);
	check_digests("uring", 65536, 1, 0);
}

static void test_digests_procs(void **s)
{
	(void)s;
	check_digests("procs", 0, 0, 3);
}

static void test_digests_gil(void **s)
{
	struct wl_opts o = base_opts();
	struct wl_result a, b;

	(void)s;
	check_digests("gil", 4096, 0, 3);
	/* holding the lock across reads changes the timing, not the answer */
	o.gil_hold_io = true;
	o.threads = 3;
	assert_int_equal(run_workload("md5dir", "gil", &o, &a), 0);
	o.gil_hold_io = false;
	assert_int_equal(run_workload("md5dir", "gil", &o, &b), 0);
	assert_int_equal(a.nfiles, b.nfiles);
	for (size_t i = 0; i < a.nfiles; i++)
		assert_memory_equal(a.files[i].md5, b.files[i].md5, 16);
	assert_non_null(strstr(a.note, "held across reads"));
	wl_result_free(&a);
	wl_result_free(&b);
}

/* ---- listing ---- */

static void test_list_files(void **s)
{
	char **paths;
	size_t n;
	uint64_t total, want = 0;

	(void)s;
	assert_int_equal(wl_list_files(fixture, &paths, &n, &total), 0);
	assert_int_equal(n, NFIX);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char p[256];

		/* sorted, regular files only: no link, dirlink, fifo or sock */
		assert_string_equal(paths[i], fixture_files[i]);
		snprintf(p, sizeof(p), "%s/%s", fixture, paths[i]);
		assert_int_equal(lstat(p, &st), 0);
		want += (uint64_t)st.st_size;
		free(paths[i]);
	}
	free(paths);
	assert_int_equal(total, want);
	assert_int_equal(wl_list_files("/nonexistent-iotrace", &paths, &n, &total), -ENOENT);
	assert_int_equal(wl_list_files("/etc/hostname", &paths, &n, &total), -ENOTDIR);
}

/* ---- parsing ---- */

static void test_parse(void **s)
{
	static const struct {
		const char *in;
		uint64_t want;
	} good[] = {
	    {"1", 1},	      {"512", 512},	  {"64K", 65536},
	    {"64k", 65536},   {"64KiB", 65536},	  {"8M", 8u << 20},
	    {"1G", 1u << 30}, {"2T", 2ULL << 40}, {"1.5G", 3ULL << 29},
	    {"0.5K", 512},    {"2KB", 2000},	  {"50MB", 50000000},
	    {"7B", 7},
	};
	static const char *const bad[] = {
	    "",		"abc", "-5M",  "+5M", "0",   "0K", "5X",     "5 M",
	    " 5M",	"5M ", "1.5",  "M",   ".5M", "1.", "1.5.2K", "99999999999999999999",
	    "9999999T", "5m",  "5M/s",
	};
	uint64_t v;

	(void)s;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 0;
		if (wl_parse_size(good[i].in, &v))
			fail_msg("size '%s' rejected", good[i].in);
		assert_int_equal(v, good[i].want);
		v = 0;
		assert_int_equal(wl_parse_rate(good[i].in, &v), 0);
		assert_int_equal(v, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wl_parse_size(bad[i], &v) != -EINVAL)
			fail_msg("size '%s' accepted as %llu", bad[i], (unsigned long long)v);
	assert_int_equal(wl_parse_size(NULL, &v), -EINVAL);
	assert_int_equal(wl_parse_rate("100M/s", &v), 0);
	assert_int_equal(v, 100u << 20);
	assert_int_equal(wl_parse_rate("20MB/s", &v), 0);
	assert_int_equal(v, 20000000);
	assert_int_equal(wl_parse_rate("/s", &v), -EINVAL);
	assert_int_equal(wl_parse_rate("0M/s", &v), -EINVAL);
	assert_int_equal(wl_parse_rate("5M/", &v), -EINVAL);
}

/* ---- roles ---- */

static void test_roles(void **s)
{
	static const struct {
		const char *comm;
		bool is_main;
		const char *role;
	} cases[] = {
	    {"iot-main", true, "main"},
	    {"iot-worker-3", false, "worker 3"},
	    {"iot-loop", true, "loop"},
	    {"iot-uvpool-2", false, "uv pool 2"},
	    {"iou-wrk-4242", false, "io-wq worker"},
	    {"iot-proc-1", true, "proc 1"},
	    {"iot-reader", false, "reader"},
	    {"iot-factorial", false, "factorial"},
	    {"python3", true, "main"},
	    {"python3", false, "python3"},
	    {"iot-worker-", false, "iot-worker-"},
	    {"iot-worker-x", false, "iot-worker-x"},
	};
	char role[32];

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wl_role(cases[i].comm, cases[i].is_main, role, sizeof(role));
		assert_string_equal(role, cases[i].role);
	}
	wl_role("iot-worker-12", false, role, 5);
	assert_string_equal(role, "work");
	assert_non_null(wl_find("md5dir"));
	assert_null(wl_find("nope"));
	assert_true(wl_has_strategy(wl_find("md5dir"), "uring"));
	assert_false(wl_has_strategy(wl_find("fetch"), "uring"));
	/* what each workload is, as iotrace run asks it */
	assert_int_equal(wl_find("md5dir")->input, WL_INPUT_DIR);
	assert_int_equal(wl_find("readfile")->input, WL_INPUT_FILE);
	assert_int_equal(wl_find("fetch")->input, WL_INPUT_NONE);
	assert_int_equal(wl_find("readfile")->gen_files, 1);
	assert_true(wl_find("md5dir")->answer);
	assert_false(wl_find("readfile")->answer || wl_find("fetch")->answer);
	assert_null(wl_find("md5dir")->service_start);
	assert_non_null(wl_find("fetch")->service_start);
	assert_string_equal(wl_strerror(WL_ECHANGED), "file changed size while it was read");
}

/* ---- datasets and the page cache ---- */

static void test_dataset_and_cache(void **s)
{
	char **paths;
	size_t n;
	uint64_t total;
	double res = -1;
	struct stat st;
	char *dir = NULL;

	(void)s;
	assert_int_equal(wl_dataset_create("/dev/shm", 2, 4096, -1, -1, &dir), -EXDEV);
	assert_null(dir);
	assert_int_equal(wl_dataset_create("/var/tmp", 5, (1u << 20) + 3, -1, -1, &made_dataset),
			 0);
	assert_int_equal(strncmp(made_dataset, "/var/tmp/iotrace-data-", 22), 0);
	assert_int_equal(atoi(made_dataset + 22), getpid());
	assert_int_equal(wl_list_files(made_dataset, &paths, &n, &total), 0);
	assert_int_equal(n, 5);
	assert_int_equal(total, 5 * ((1u << 20) + 3));
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);

	assert_int_equal(wl_cache_prepare(made_dataset, WL_CACHE_COLD, &res), 0);
	if (res > 0.01)
		fail_msg("cold: %.3f of the pages still resident", res);
	assert_int_equal(wl_cache_prepare(made_dataset, WL_CACHE_WARM, &res), 0);
	if (res < 0.999)
		fail_msg("warm: only %.3f of the pages resident", res);
	assert_int_equal(wl_cache_prepare(made_dataset, WL_CACHE_COLD, &res), 0);
	assert_true(res <= 0.01);

	/* a file works as well as a directory (readfile) */
	{
		char f[300];

		snprintf(f, sizeof(f), "%s/file-000000", made_dataset);
		assert_int_equal(wl_cache_prepare(f, WL_CACHE_WARM, &res), 0);
		assert_true(res >= 0.999);
		assert_int_equal(wl_cache_prepare(f, WL_CACHE_COLD, &res), 0);
		assert_true(res <= 0.01);
	}
	/* no block device: no cold cache */
	{
		char f[] = "/dev/shm/iotrace-test-XXXXXX";
		int fd = mkstemp(f);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "x", 1), 1);
		close(fd);
		assert_int_equal(wl_cache_prepare(f, WL_CACHE_COLD, &res), -EOPNOTSUPP);
		assert_int_equal(wl_cache_prepare(f, WL_CACHE_WARM, &res), 0);
		unlink(f);
	}

	/* generated for the invoking user: owned by them, directory and files */
	if (is_root()) {
		char f[300];

		assert_int_equal(stat(made_dataset, &st), 0);
		assert_int_equal(st.st_uid, 0);
		assert_int_equal(wl_dataset_create("/var/tmp", 2, 10, NOBODY, NOBODY, &dir), 0);
		assert_int_equal(stat(dir, &st), 0);
		assert_true(st.st_uid == NOBODY && st.st_gid == NOBODY);
		assert_int_equal(st.st_mode & 07777, 0700); /* mkdtemp: private */
		snprintf(f, sizeof(f), "%s/file-000001", dir);
		assert_int_equal(stat(f, &st), 0);
		assert_true(st.st_uid == NOBODY && st.st_gid == NOBODY && st.st_size == 10);
		assert_int_equal(wl_dataset_remove(dir), 0);
		free(dir);
		dir = NULL;
	}

	/* removal leaves what it did not create */
	{
		char extra[300];
		int fd;

		snprintf(extra, sizeof(extra), "%s/mine.txt", made_dataset);
		fd = open(extra, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(wl_dataset_remove(made_dataset), -ENOTEMPTY);
		assert_int_equal(stat(extra, &st), 0);
		unlink(extra);
	}
	assert_int_equal(wl_dataset_remove(made_dataset), 0);
	assert_int_equal(stat(made_dataset, &st), -1);
	free(made_dataset);
	made_dataset = NULL;
	assert_int_equal(wl_dataset_remove(fixture), -EINVAL);
}

/* What a killed run leaves (its pid is in the names) is swept; a live run's is not. */
static void test_sweep(void **s)
{
	int p[2], st;
	char buf[300] = "";
	struct stat sb;
	pid_t pid;

	(void)s;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct wl_throttle t;
		char *dir = NULL;
		int n;

		if (wl_dataset_create("/var/tmp", 1, 10, -1, -1, &dir) < 0)
			_exit(1);
		if (!is_root() || wl_throttle_setup("/var/tmp", 1 << 20, &t) < 0)
			t.path[0] = 0;
		n = snprintf(buf, sizeof(buf), "%s\n%s", dir, t.path);
		_exit(write(p[1], buf, (size_t)n) == n ? 0 : 1); /* "killed": no clean-up */
	}
	close(p[1]);
	assert_true(read(p[0], buf, sizeof(buf) - 1) > 0);
	close(p[0]);
	waitpid(pid, &st, 0); /* a zombie still counts as alive */
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	*strchr(buf, '\n') = 0;
	made_dataset = strdup(buf);
	if (buf[strlen(buf) + 1])
		snprintf(made_cgroup.path, sizeof(made_cgroup.path), "%s", buf + strlen(buf) + 1);
	assert_int_equal(stat(made_dataset, &sb), 0);

	/* ours are alive: kept; a link planted under a dead run's name is never followed */
	assert_int_equal(wl_dataset_create("/var/tmp", 1, 10, -1, -1, &fixture_dataset), 0);
	{
		char victim[] = "/var/tmp/iotrace-victim-XXXXXX", link[128], file[128];
		int fd;

		assert_non_null(mkdtemp(victim));
		snprintf(file, sizeof(file), "%s/file-000000", victim);
		fd = open(file, O_CREAT | O_WRONLY, 0600);
		assert_true(fd >= 0);
		close(fd);
		snprintf(link, sizeof(link), "/var/tmp/iotrace-data-%d-planted", (int)pid);
		assert_int_equal(symlink(victim, link), 0);
		assert_true(wl_dataset_sweep("/var/tmp", getuid()) >= 1);
		assert_int_equal(stat(file, &sb), 0);
		unlink(link);
		unlink(file);
		rmdir(victim);
	}
	assert_int_equal(stat(made_dataset, &sb), -1);
	assert_int_equal(stat(fixture_dataset, &sb), 0);
	assert_int_equal(wl_dataset_remove(fixture_dataset), 0);
	free(fixture_dataset);
	fixture_dataset = NULL;
	free(made_dataset);
	made_dataset = NULL;
	if (made_cgroup.path[0]) {
		assert_int_equal(stat(made_cgroup.path, &sb), 0);
		assert_true(wl_throttle_sweep() >= 1);
		assert_int_equal(stat(made_cgroup.path, &sb), -1);
		made_cgroup.path[0] = 0;
	}
}

/* ---- launch: fds, privileges, exec errors, set-up errors, parent death ---- */

static void test_child_fds(void **s)
{
	struct wl_opts o = base_opts();
	struct wl_child c;
	char path[64];
	struct dirent *e;
	DIR *d;
	int extra = fcntl(0, F_DUPFD, 40), st;

	(void)s;
	assert_true(extra >= 40);
	assert_int_equal(wl_spawn(wl_find("md5dir"), "sync", &o, &c), 0);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)c.pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		/* stdio, the go channel (3) and the result memfd (5): nothing of ours */
		if (fd > 5 || fd == 4)
			fail_msg("the child holds fd %d", fd);
	}
	closedir(d);
	/* its name is its role before it even starts */
	{
		char comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)c.pid);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(comm, sizeof(comm), f));
		fclose(f);
		assert_string_equal(comm, "iot-main\n");
	}
	/* never released: waiting makes it give up */
	assert_int_equal(wl_wait(&c, &st, NULL, NULL), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == WL_EXIT_SETUP);
	wl_kill(&c, SIGKILL); /* a no-op after wait */
	close(extra);
}

static void status_line(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			char *v = line + strlen(key) + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(out, len, "%s", v);
		}
	fclose(f);
}

static void test_privilege_drop(void **s)
{
	struct wl_opts o = base_opts();
	struct wl_child c;
	struct wl_result r;
	char *argv[] = {"true", NULL}, v[128], path[300];
	int st;

	(void)s;
	if (!is_root())
		skip();
	o.uid = NOBODY;
	o.gid = NOBODY;
	assert_int_equal(wl_spawn_cmd(argv, &o, &c), 0);
	status_line(c.pid, "Uid", v, sizeof(v));
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	status_line(c.pid, "Gid", v, sizeof(v));
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	status_line(c.pid, "Groups", v, sizeof(v));
	assert_string_equal(v, "");
	status_line(c.pid, "CapEff", v, sizeof(v));
	assert_string_equal(v, "0000000000000000");
	status_line(c.pid, "CapPrm", v, sizeof(v));
	assert_string_equal(v, "0000000000000000");
	assert_int_equal(wl_release(&c), 0);
	assert_int_equal(wl_wait(&c, &st, NULL, NULL), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* as nobody, an unreadable file is reported and skipped, the rest is hashed */
	snprintf(path, sizeof(path), "%s/odd.bin", fixture);
	chmod(path, 0);
	st = run_workload("md5dir", "threads", &o, &r);
	chmod(path, 0644);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(r.nfiles, NFIX);
	assert_int_equal(r.nerrors, 1);
	for (size_t i = 0; i < r.nfiles; i++)
		assert_int_equal(r.files[i].err, !strcmp(r.files[i].path, "odd.bin") ? EACCES : 0);
	wl_result_free(&r);

	/* as nobody, a subdirectory it cannot list is reported (its path ends in '/') */
	snprintf(path, sizeof(path), "%s/a/b/c", fixture);
	chmod(path, 0700);
	st = run_workload("md5dir", "uring", &o, &r);
	chmod(path, 0755);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(r.nfiles, NFIX);
	assert_int_equal(r.nerrors, 1);
	assert_string_equal(r.files[0].path, "a/b/c/");
	assert_int_equal(r.files[0].err, EACCES);
	wl_result_free(&r);

	/* as nobody, a DIR it cannot read: the run fails with a message and its code */
	chmod(fixture, 0700);
	{
		int devnull = open("/dev/null", O_WRONLY), saved = dup(2);

		dup2(devnull, 2);
		st = run_workload("md5dir", "sync", &o, &r);
		dup2(saved, 2);
		close(saved);
		close(devnull);
	}
	chmod(fixture, 0755);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == WL_EXIT_INPUT);
	assert_false(r.complete);
	wl_result_free(&r);

	/* a uid without a gid is refused by the child, with a message */
	o.gid = (gid_t)-1;
	assert_int_equal(wl_spawn_cmd(argv, &o, &c), -EINVAL);
	assert_non_null(strstr(c.errmsg, "without a group"));
}

static int exec_status(char *const argv[])
{
	struct wl_opts o = base_opts();
	struct wl_child c;
	int st = -1;

	assert_int_equal(wl_spawn_cmd(argv, &o, &c), 0);
	assert_int_equal(c.res_fd, -1);
	assert_int_equal(wl_release(&c), 0);
	assert_int_equal(wl_wait(&c, &st, NULL, NULL), 0);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_exec_errors(void **s)
{
	char path[300];
	char *missing[] = {"iotrace-no-such-command", NULL};
	char *missing_abs[] = {"/nonexistent/iotrace-cmd", NULL};
	char *noexec[] = {path, NULL};
	char *ok[] = {"true", NULL};
	char *fails[] = {"false", NULL};
	struct wl_opts o = base_opts();
	struct wl_child c;
	int devnull = open("/dev/null", O_WRONLY), saved = dup(2);

	(void)s;
	snprintf(path, sizeof(path), "%s/one", fixture);
	/* the child's shell-style message goes to our stderr: keep the test output clean */
	int st_missing, st_abs, st_noexec;

	dup2(devnull, 2);
	st_missing = exec_status(missing);
	st_abs = exec_status(missing_abs);
	st_noexec = exec_status(noexec);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	assert_int_equal(st_missing, WL_EXIT_NOTFOUND);
	assert_int_equal(st_abs, WL_EXIT_NOTFOUND);
	assert_int_equal(st_noexec, WL_EXIT_NOEXEC);
	assert_int_equal(exec_status(ok), 0);
	assert_int_equal(exec_status(fails), 1);

	/* a set-up failure comes back from wl_spawn with the child's words */
	o.throttle_cgroup = "/nonexistent/iotrace/cgroup.procs";
	assert_int_equal(wl_spawn_cmd(ok, &o, &c), -ENOENT);
	assert_non_null(strstr(c.errmsg, "throttle cgroup"));
	assert_int_equal(wl_spawn(wl_find("md5dir"), "nope", &o, &c), -EINVAL);
}

static void test_parent_death(void **s)
{
	struct wl_opts o = base_opts();
	int p[2], st;
	pid_t mid, wl = 0;
	double t0;

	(void)s;
	/* we adopt the orphaned workload child, so we can see how it ended */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	assert_int_equal(pipe(p), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		struct wl_child c;
		char *argv[] = {"sleep", "30", NULL};

		/* released and running (exec'd even): only PR_SET_PDEATHSIG can end it */
		if (wl_spawn_cmd(argv, &o, &c) < 0 || wl_release(&c) < 0)
			_exit(1);
		if (write(p[1], &c.pid, sizeof(c.pid)) != sizeof(c.pid))
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &wl, sizeof(wl)), sizeof(wl));
	close(p[0]);
	kill(mid, SIGKILL);
	waitpid(mid, &st, 0);
	t0 = now_s();
	for (;;) {
		pid_t r = waitpid(wl, &st, WNOHANG);

		if (r == wl)
			break;
		if (now_s() - t0 > 5) {
			kill(wl, SIGKILL);
			waitpid(wl, &st, 0);
			fail_msg("the workload child outlived its parent");
		}
		usleep(10000);
	}
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

/* ---- readfile and fetch ---- */

static void test_readfile(void **s)
{
	struct wl_opts o = base_opts();
	struct wl_result r;
	char path[300];
	const char *strategies[] = {"sync", "threads"};

	(void)s;
	snprintf(path, sizeof(path), "%s/big.bin", fixture);
	o.dir = path;
	o.factorial_n = 3000;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(run_workload("readfile", strategies[i], &o, &r), 0);
		assert_int_equal(r.nfiles, 1);
		assert_int_equal(r.files[0].err, 0);
		assert_int_equal(r.files[0].size, (3u << 20) + 17);
		assert_int_equal(r.bytes, (3u << 20) + 17);
		assert_non_null(strstr(r.note, "3000! has"));
		wl_result_free(&r);
	}
	o.dir = "/nonexistent-iotrace";
	{
		int devnull = open("/dev/null", O_WRONLY), saved = dup(2), st;

		dup2(devnull, 2);
		st = run_workload("readfile", "sync", &o, &r);
		dup2(saved, 2);
		close(saved);
		close(devnull);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == WL_EXIT_INPUT);
		assert_false(r.complete);
		wl_result_free(&r);
	}
}

static void test_fetch(void **s)
{
	struct wl_opts o = base_opts();
	struct wl_server srv;
	struct wl_result r;
	unsigned char want[16];
	unsigned int wl = 0;
	const char *strategies[] = {"sync", "threads"};
	double t0;

	(void)s;
	EVP_Digest(wl_fetch_body(), WL_FETCH_BODY, want, &wl, EVP_md5(), NULL);
	assert_int_equal(wl_fetch_server_start(200, &o.fetch_port, &srv), 0);
	assert_true(o.fetch_port > 0);
	o.dir = NULL;
	o.factorial_n = 3000;
	for (int i = 0; i < 2; i++) {
		t0 = now_s();
		assert_int_equal(run_workload("fetch", strategies[i], &o, &r), 0);
		assert_true(now_s() - t0 >= 0.19); /* the server's delay was waited for */
		assert_int_equal(r.nfiles, 1);
		assert_int_equal(r.files[0].err, 0);
		assert_int_equal(r.files[0].size, WL_FETCH_BODY);
		assert_memory_equal(r.files[0].md5, want, 16);
		wl_result_free(&r);
	}
	assert_int_equal(srv.served, 2);
	t0 = now_s();
	wl_fetch_server_stop(&srv);
	assert_true(now_s() - t0 < 1);
	assert_false(srv.running);

	/* the same server behind the workload's interface, as iotrace run starts it */
	{
		const struct wl_workload *w = wl_find("fetch");
		void *svc = NULL;

		o.fetch_port = 0;
		o.fetch_delay_ms = 0;
		assert_int_equal(w->service_start(&o, &svc), 0);
		assert_true(o.fetch_port > 0);
		assert_int_equal(run_workload("fetch", "sync", &o, &r), 0);
		assert_int_equal(r.nfiles, 1);
		assert_memory_equal(r.files[0].md5, want, 16);
		wl_result_free(&r);
		w->service_stop(svc);
	}
}

/* ---- throttle ---- */

/* ours only: other engineers' or tests' iotrace runs may hold theirs meanwhile */
static bool no_iotrace_cgroups(void)
{
	char pat[64];
	glob_t g;
	int r;

	snprintf(pat, sizeof(pat), "/sys/fs/cgroup/blkio/iotrace-%d-*", (int)getpid());
	r = glob(pat, 0, NULL, &g);

	globfree(&g);
	return r == GLOB_NOMATCH;
}

static void test_throttle(void **s)
{
	struct wl_opts o = base_opts();
	struct wl_result r;
	char line[320], file[300];
	double t0, secs, rate;
	const uint64_t bps = 8u << 20, size = 12u << 20;
	int fd;
	ssize_t n;

	(void)s;
	if (!is_root() || access("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", F_OK))
		skip();
	assert_true(no_iotrace_cgroups());
	assert_int_equal(wl_throttle_setup("/dev/shm", bps, &made_cgroup), -EXDEV);
	assert_true(no_iotrace_cgroups());
	assert_int_equal(wl_throttle_setup("/var/tmp", bps, &made_cgroup), 0);
	assert_int_equal(strncmp(made_cgroup.path, "/sys/fs/cgroup/blkio/iotrace-", 29), 0);
	assert_false(no_iotrace_cgroups());
	snprintf(line, sizeof(line), "%s/blkio.throttle.read_bps_device", made_cgroup.path);
	fd = open(line, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	assert_true(n > 0);
	line[n] = 0;
	assert_non_null(strstr(line, " 8388608"));

	/* it works: a cold read inside the group runs at the limit */
	assert_int_equal(wl_dataset_create("/var/tmp", 1, size, -1, -1, &made_dataset), 0);
	assert_int_equal(wl_cache_prepare(made_dataset, WL_CACHE_COLD, NULL), 0);
	o.dir = made_dataset;
	o.throttle_cgroup = made_cgroup.procs;
	t0 = now_s();
	assert_int_equal(run_workload("md5dir", "sync", &o, &r), 0);
	secs = now_s() - t0;
	rate = (double)size / secs;
	print_message("throttled cold read: %.1f MiB/s with a limit of %.1f MiB/s\n",
		      rate / (1 << 20), (double)bps / (1 << 20));
	assert_int_equal(r.files[0].size, size);
	wl_result_free(&r);
	if (rate > 1.15 * (double)bps || rate < 0.5 * (double)bps)
		fail_msg("rate %.0f B/s is not near the limit %llu B/s", rate,
			 (unsigned long long)bps);

	/* a file that shrinks mid-read is reported, the run goes on */
	{
		const char *strategies[] = {"sync", "uring", "callback"};
		uint64_t small = 8u << 20;

		snprintf(file, sizeof(file), "%s/file-000000", made_dataset);
		for (int i = 0; i < 3; i++) {
			struct wl_child c;
			int st;

			char *data = malloc(small);

			/* real data: a hole would be read without touching the disk */
			assert_non_null(data);
			memset(data, 0x5a + i, small);
			fd = open(file, O_WRONLY | O_TRUNC);
			assert_true(fd >= 0);
			assert_int_equal(write(fd, data, small), (ssize_t)small);
			assert_int_equal(fdatasync(fd), 0);
			close(fd);
			free(data);
			assert_int_equal(wl_cache_prepare(file, WL_CACHE_COLD, NULL), 0);
			o.chunk = 4096;
			assert_int_equal(wl_spawn(wl_find("md5dir"), strategies[i], &o, &c), 0);
			assert_int_equal(wl_release(&c), 0);
			usleep(150000);
			assert_int_equal(truncate(file, 4096), 0);
			assert_int_equal(wl_wait(&c, &st, NULL, &r), 0);
			assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			assert_int_equal(r.nfiles, 1);
			if (r.files[0].err != WL_ECHANGED)
				fail_msg("%s: err %d after a shrink (read %llu bytes)",
					 strategies[i], r.files[0].err,
					 (unsigned long long)r.files[0].size);
			wl_result_free(&r);
		}
	}

	assert_int_equal(wl_throttle_remove(&made_cgroup), 0);
	assert_true(no_iotrace_cgroups());
	assert_int_equal(wl_dataset_remove(made_dataset), 0);
	free(made_dataset);
	made_dataset = NULL;
}

/* Share of the pages of dir's files in the page cache, by mincore (changes nothing). */
static double pages_resident(const char *dir)
{
	char **paths;
	size_t n, pages = 0, in = 0;
	uint64_t total;
	long pg = sysconf(_SC_PAGESIZE);

	assert_int_equal(wl_list_files(dir, &paths, &n, &total), 0);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		unsigned char *vec;
		void *m;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, paths[i]);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		assert_true(m != MAP_FAILED);
		vec = malloc((size_t)(st.st_size + pg - 1) / (size_t)pg);
		assert_non_null(vec);
		assert_int_equal(mincore(m, (size_t)st.st_size, vec), 0);
		for (size_t p = 0; p < (size_t)(st.st_size + pg - 1) / (size_t)pg; p++, pages++)
			in += vec[p] & 1;
		free(vec);
		munmap(m, (size_t)st.st_size);
		close(fd);
		free(paths[i]);
	}
	free(paths);
	return pages ? (double)in / (double)pages : 0;
}

/*
 * The device's ceiling, measured behind a known throttle: the calibration must find the
 * throttle's rate (within 10%), not the device's latency-bound rate of one reader nor a
 * burst. Unthrottled, the same disk delivers more than the throttle lets through.
 */
static void test_calibrate(void **s)
{
	struct wl_ceiling c, free_c;
	const uint64_t bps = 48u << 20;
	double r;

	(void)s;
	if (!is_root() || access("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", F_OK))
		skip();
	assert_int_equal(wl_dataset_create("/var/tmp", 4, 12u << 20, -1, -1, &made_dataset), 0);
	assert_int_equal(wl_throttle_setup(made_dataset, bps, &made_cgroup), 0);
	assert_int_equal(wl_cache_prepare(made_dataset, WL_CACHE_COLD, NULL), 0);
	assert_int_equal(wl_device_calibrate(made_dataset, made_cgroup.procs, 32u << 20,
					     3000000000ull, &c),
			 0);
	r = c.bps / (double)bps;
	print_message("calibration behind %.0f MiB/s: %.1f MiB/s (%.2fx), %.1f MiB in %.0f ms\n",
		      (double)bps / (1 << 20), c.bps / (1 << 20), r, (double)c.bytes / (1 << 20),
		      (double)c.ns / 1e6);
	assert_true(c.throttled);
	assert_true(c.bytes >= (16u << 20));
	if (r < 0.9 || r > 1.1)
		fail_msg("ceiling %.0f B/s is not within 10%% of the throttle's %llu B/s", c.bps,
			 (unsigned long long)bps);
	/* O_DIRECT left the page cache as it was: the files made cold stay cold */
	assert_true(pages_resident(made_dataset) < 0.01);
	assert_int_equal(wl_device_calibrate(made_dataset, NULL, 32u << 20, 3000000000ull,
					     &free_c),
			 0);
	print_message("calibration unthrottled: %.1f MiB/s\n", free_c.bps / (1 << 20));
	assert_false(free_c.throttled);
	assert_true(free_c.bps > 1.2 * (double)bps);
	/* too little to measure */
	assert_int_equal(wl_device_calibrate(made_dataset, NULL, 0, 3000000000ull, &free_c),
			 -ENODATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_list_files),
	    cmocka_unit_test(test_release_meets_hangup),
		cmocka_unit_test(test_digests_sync),
	    cmocka_unit_test(test_digests_threads),
	    cmocka_unit_test(test_digests_callback),
	    cmocka_unit_test(test_digests_uring),
	    cmocka_unit_test(test_digests_procs),
	    cmocka_unit_test(test_digests_gil),
	    cmocka_unit_test_teardown(test_dataset_and_cache, test_teardown),
	    cmocka_unit_test_teardown(test_sweep, test_teardown),
	    cmocka_unit_test(test_child_fds),
	    cmocka_unit_test(test_privilege_drop),
	    cmocka_unit_test(test_exec_errors),
	    cmocka_unit_test(test_parent_death),
	    cmocka_unit_test(test_readfile),
	    cmocka_unit_test(test_fetch),
	    cmocka_unit_test_teardown(test_throttle, test_teardown),
	    cmocka_unit_test_teardown(test_calibrate, test_teardown),
	};

	return cmocka_run_group_tests_name("workloads", tests, group_setup, group_teardown);
}
