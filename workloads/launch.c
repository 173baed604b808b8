/* launch.c - the workload table, the start-synchronised child, its result stream and roles. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

#include "wl_internal.h"
#include "workload.h"

extern char **environ;

/* Fixed fds in the child: everything else is closed before it can run anything. */
enum { CHILD_GO_FD = 3, CHILD_ERR_FD = 4, CHILD_RES_FD = 5 };

static const char *const md5dir_strategies[] = {"sync",	 "threads", "callback", "uring",
						"procs", "gil",	    NULL};
static const char *const pair_strategies[] = {"sync", "threads", NULL};

static const struct wl_workload md5dir = {
    .name = "md5dir",
    .strategies = md5dir_strategies,
    .default_strategies = "sync,threads,callback,uring,procs,gil",
    .input = WL_INPUT_DIR,
    .does = "hashes every regular file of a directory",
    .answer = true,
    .readahead = true,
    .warmup = wl_md5dir_warmup,
    .run = wl_md5dir_run,
};
static const struct wl_workload readfile = {
    .name = "readfile",
    .strategies = pair_strategies,
    .default_strategies = "sync,threads",
    .input = WL_INPUT_FILE,
    .does = "reads one large file",
    .gen_files = 1,
    .gen_file_size = 256ULL << 20,
    .run = wl_readfile_run,
};
static const struct wl_workload fetch = {
    .name = "fetch",
    .strategies = pair_strategies,
    .default_strategies = "sync,threads",
    .input = WL_INPUT_NONE,
    .does = "fetches from a loopback HTTP server",
    .service = "the loopback HTTP server",
    .service_start = wl_fetch_service_start,
    .service_stop = wl_fetch_service_stop,
    .run = wl_fetch_run,
};

const struct wl_workload *const wl_workloads[] = {&md5dir, &readfile, &fetch, NULL};

const struct wl_workload *wl_find(const char *name)
{
	for (size_t i = 0; name && wl_workloads[i]; i++)
		if (!strcmp(wl_workloads[i]->name, name))
			return wl_workloads[i];
	return NULL;
}

bool wl_has_strategy(const struct wl_workload *w, const char *strategy)
{
	for (size_t i = 0; w && strategy && w->strategies[i]; i++)
		if (!strcmp(w->strategies[i], strategy))
			return true;
	return false;
}

const char *wl_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == WL_ECHANGED)
		return "file changed size while it was read";
	return strerror(err);
}

void wl_name_self(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

unsigned wl_ncpu(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

void wl_child_err(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "iotrace: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	/* one write: lines from several threads or processes do not interleave */
	if (write(STDERR_FILENO, buf, strlen(buf)) < 0)
		return;
}

/* ---- roles ---- */

/* "prefix<digits>" -> the digits, or NULL */
static const char *numbered(const char *comm, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(comm, prefix, n) || !comm[n])
		return NULL;
	for (const char *p = comm + n; *p; p++)
		if (!isdigit((unsigned char)*p))
			return NULL;
	return comm + n;
}

void wl_role(const char *comm, bool is_main, char *role, size_t len)
{
	static const struct {
		const char *comm, *role;
	} fixed[] = {
	    {"iot-main", "main"},     {"iot-loop", "loop"},   {"iot-uvpool", "uv pool"},
	    {"iot-reader", "reader"}, {"iot-fetch", "fetch"}, {"iot-factorial", "factorial"},
	};
	static const struct {
		const char *prefix, *role;
	} counted[] = {
	    {"iot-worker-", "worker"},
	    {"iot-uvpool-", "uv pool"},
	    {"iot-proc-", "proc"},
	};
	const char *n;

	if (!len)
		return;
	if (!comm)
		comm = "";
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(comm, fixed[i].comm)) {
			snprintf(role, len, "%s", fixed[i].role);
			return;
		}
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		if ((n = numbered(comm, counted[i].prefix))) {
			snprintf(role, len, "%s %s", counted[i].role, n);
			return;
		}
	if (!strncmp(comm, "iou-wrk-", 8)) {
		snprintf(role, len, "io-wq worker");
		return;
	}
	if (!strncmp(comm, "iou-sqp-", 8)) {
		snprintf(role, len, "sq poll");
		return;
	}
	snprintf(role, len, "%s", is_main ? "main" : comm);
}

/* ---- result stream ----
 * Native-endian records appended to a memfd (no pipe-size limit, no disk I/O in the run):
 *   "IOTR" u32 version
 *   'F' u32 pathlen, path, u64 size, i32 err, u8 md5[16]    one per file
 *   'S' u64 bytes, u32 pool_threads, u16 notelen, note       once
 *   'E'                                                      end: the stream is complete
 *   'C' u64 cpu_ns     after it, from the launcher: the child's CPU time (user + system, its
 *                      own and its reaped children's, as wait4 will count it) when the
 *                      workload's body returned, just before it exits
 */
#define RES_MAGIC "IOTR"
#define RES_VERSION 1u

struct wbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct wbuf *b, const void *d, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

int wl_res_write(int fd, const struct wl_result *r)
{
	struct wbuf b = {0};
	uint32_t ver = RES_VERSION, u32;
	uint16_t u16;
	int32_t i32;
	size_t off = 0;
	int ret = 0;

	put(&b, RES_MAGIC, 4);
	put(&b, &ver, 4);
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct wl_file_result *f = &r->files[i];
		const char *path = f->path ? f->path : "";

		put(&b, "F", 1);
		u32 = (uint32_t)strlen(path);
		put(&b, &u32, 4);
		put(&b, path, u32);
		put(&b, &f->size, 8);
		i32 = f->err;
		put(&b, &i32, 4);
		put(&b, f->md5, 16);
	}
	put(&b, "S", 1);
	put(&b, &r->bytes, 8);
	u32 = r->pool_threads;
	put(&b, &u32, 4);
	u16 = (uint16_t)strnlen(r->note, sizeof(r->note) - 1);
	put(&b, &u16, 2);
	put(&b, r->note, u16);
	put(&b, "E", 1);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	while (off < b.len) {
		ssize_t n = write(fd, b.p + off, b.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(b.p);
	return ret;
}

struct rbuf {
	const char *p;
	size_t len, off;
};

static bool get(struct rbuf *b, void *d, size_t n)
{
	if (b->len - b->off < n)
		return false;
	memcpy(d, b->p + b->off, n);
	b->off += n;
	return true;
}

static int parse(struct rbuf *b, struct wl_result *r)
{
	char magic[4];
	uint32_t ver;
	size_t cap = 0;

	if (!get(b, magic, 4) || memcmp(magic, RES_MAGIC, 4) || !get(b, &ver, 4) ||
	    ver != RES_VERSION)
		return b->len ? -EPROTO : 0;
	for (;;) {
		char type;

		if (!get(b, &type, 1))
			return 0; /* truncated: what we have, not complete */
		if (type == 'F') {
			struct wl_file_result f = {0};
			uint32_t plen;
			int32_t err;

			if (!get(b, &plen, 4) || b->len - b->off < plen)
				return 0;
			f.path = strndup(b->p + b->off, plen);
			if (!f.path)
				return -ENOMEM;
			b->off += plen;
			if (!get(b, &f.size, 8) || !get(b, &err, 4) || !get(b, f.md5, 16)) {
				free(f.path);
				return 0;
			}
			f.err = err;
			if (r->nfiles == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				void *n = realloc(r->files, ncap * sizeof(*r->files));

				if (!n) {
					free(f.path);
					return -ENOMEM;
				}
				r->files = n;
				cap = ncap;
			}
			r->files[r->nfiles++] = f;
			if (f.err)
				r->nerrors++;
		} else if (type == 'S') {
			uint32_t pool;
			uint16_t nlen;

			if (!get(b, &r->bytes, 8) || !get(b, &pool, 4) || !get(b, &nlen, 2) ||
			    b->len - b->off < nlen)
				return 0;
			r->pool_threads = pool;
			if (nlen >= sizeof(r->note))
				nlen = sizeof(r->note) - 1;
			memcpy(r->note, b->p + b->off, nlen);
			r->note[nlen] = 0;
			b->off += nlen;
		} else if (type == 'E') {
			r->complete = true;
		} else if (type == 'C' && r->complete) {
			if (!get(b, &r->end_cpu_ns, 8))
				return 0;
			r->end_cpu_ok = true;
		} else {
			return -EPROTO;
		}
	}
}

int wl_res_read(int fd, struct wl_result *r)
{
	struct stat st;
	struct rbuf b = {0};
	void *map;
	int ret;

	memset(r, 0, sizeof(*r));
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	b.p = map;
	b.len = (size_t)st.st_size;
	ret = parse(&b, r);
	munmap(map, (size_t)st.st_size);
	if (ret < 0)
		wl_result_free(r);
	return ret;
}

void wl_result_free(struct wl_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	free(r->files);
	r->files = NULL;
	r->nfiles = 0;
	r->nerrors = 0;
}

/* ---- the child ---- */

/* Report a set-up failure to the parent ("errno\tmessage") and die. */
static __attribute__((noreturn, format(printf, 2, 3))) void setup_fail(int err, const char *fmt,
								       ...)
{
	char buf[300];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%d\t", err);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (write(CHILD_ERR_FD, buf, strlen(buf)) < 0)
		_exit(WL_EXIT_SETUP);
	_exit(WL_EXIT_SETUP);
}

static void place_fd(int fd, int target)
{
	int hi;

	if (fd < 0)
		return;
	/* via a high slot, so that moving one fd never clobbers another still to be moved */
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 64);
	if (hi < 0 || dup3(hi, target, O_CLOEXEC) < 0)
		_exit(WL_EXIT_SETUP); /* the error channel itself may be what failed */
}

int wl_cgroup_join(const char *procs)
{
	char buf[32];
	int fd, n, ret = 0;

	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

static void join_cgroup(const char *procs)
{
	int ret = wl_cgroup_join(procs);

	if (ret)
		setup_fail(-ret, "failed to join the throttle cgroup (%s): %s", procs,
			   strerror(-ret));
}

static void drop_privileges(uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (uid == (uid_t)-1)
		return;
	if (gid == (gid_t)-1)
		setup_fail(EINVAL, "a user id (%u) to run as was given without a group id",
			   (unsigned)uid);
	/* already exactly that user, unprivileged: nothing to drop (and no right to) */
	if (getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid &&
	    geteuid() != 0 && getgroups(0, NULL) == 0)
		return;
	if (setgroups(0, NULL) < 0)
		setup_fail(errno, "failed to drop supplementary groups (setgroups): %s",
			   strerror(errno));
	if (setresgid(gid, gid, gid) < 0)
		setup_fail(errno, "failed to switch to group %u: %s", (unsigned)gid,
			   strerror(errno));
	if (setresuid(uid, uid, uid) < 0)
		setup_fail(errno, "failed to switch to user %u: %s", (unsigned)uid,
			   strerror(errno));
	/* check, rather than trust, that the way back is closed */
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid ||
	    getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid ||
	    getgroups(0, NULL) != 0)
		setup_fail(EPERM, "switching to user %u group %u did not take", (unsigned)uid,
			   (unsigned)gid);
	if (uid != 0) {
		if (setuid(0) == 0 || seteuid(0) == 0)
			setup_fail(EPERM, "user %u could regain root after dropping it",
				   (unsigned)uid);
		if (syscall(SYS_capget, &hdr, data) < 0)
			setup_fail(errno, "capget: %s", strerror(errno));
		if (data[0].effective || data[0].permitted || data[1].effective ||
		    data[1].permitted)
			setup_fail(EPERM, "user %u kept capabilities after dropping root",
				   (unsigned)uid);
	}
}

static void reset_signals(const sigset_t *keep_ignored)
{
	struct sigaction sa = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};
	sigset_t none;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&ign.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			/* EINVAL for glibc's internal ones: fine */
			sigaction(sig, keep_ignored && sigismember(keep_ignored, sig) == 1 ? &ign : &sa,
				  NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* execvp without its /bin/sh fallback for ENOEXEC: no shell ever runs anything. Returns
 * the exit code a shell would use. */
static int exec_path(char *const argv[])
{
	const char *path, *name = argv[0];
	char buf[PATH_MAX];
	bool eacces = false;
	int err = ENOENT;

	if (strchr(name, '/')) {
		execve(name, argv, environ);
		err = errno;
		wl_child_err("%s: %s", name, strerror(err));
		return err == ENOENT ? WL_EXIT_NOTFOUND : WL_EXIT_NOEXEC;
	}
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		size_t dlen = (size_t)(end - path);

		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)dlen, dlen ? path : ".",
			     dlen && path[dlen - 1] == '/' ? "" : "/", name) < (int)sizeof(buf)) {
			struct stat st;

			execve(buf, argv, environ);
			/* as a shell: a PATH directory we may not search is not a hit, a file
			 * that is there but not executable is */
			if (errno == EACCES)
				eacces |= stat(buf, &st) == 0;
			else if (errno != ENOENT && errno != ENOTDIR) {
				err = errno;
				break;
			}
		}
		path = *end ? end + 1 : end;
	}
	if (err != ENOENT) {
		wl_child_err("%s: cannot execute: %s", name, strerror(err));
		return WL_EXIT_NOEXEC;
	}
	if (eacces) {
		wl_child_err("%s: %s", name, strerror(EACCES));
		return WL_EXIT_NOEXEC;
	}
	wl_child_err("%s: command not found", name);
	return WL_EXIT_NOTFOUND;
}

/* The target user's HOME, USER and LOGNAME, looked up before fork (NSS is not safe in a
 * child of a threaded parent). */
struct user_env {
	bool set;
	char home[PATH_MAX], name[64];
};

static void lookup_user(uid_t uid, struct user_env *ue)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	ue->set = false;
	if (uid == (uid_t)-1 || uid == geteuid())
		return;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res)
		return;
	snprintf(ue->home, sizeof(ue->home), "%s", pw.pw_dir);
	snprintf(ue->name, sizeof(ue->name), "%s", pw.pw_name);
	ue->set = true;
}

/*
 * The 'C' record: what the child's CPU time is as its body returns. wait4's rusage also
 * counts the exit after it, which the probes do not see (the kernel tears the address space
 * down after sched_process_exit; for a copy of a big parent, e.g. a sanitizer build, that
 * takes milliseconds): the difference tells the caller how long the exit took.
 */
static void write_end_cpu(int fd)
{
	struct rusage self, kids;
	char rec[9] = {'C'};
	uint64_t ns;

	/* only after a stream: a workload that failed early wrote none (then neither do we) */
	if (lseek(fd, 0, SEEK_CUR) <= 0)
		return;
	if (getrusage(RUSAGE_SELF, &self) || getrusage(RUSAGE_CHILDREN, &kids))
		return;
	ns = ((uint64_t)self.ru_utime.tv_sec + (uint64_t)self.ru_stime.tv_sec +
	      (uint64_t)kids.ru_utime.tv_sec + (uint64_t)kids.ru_stime.tv_sec) * 1000000000ull +
	     ((uint64_t)self.ru_utime.tv_usec + (uint64_t)self.ru_stime.tv_usec +
	      (uint64_t)kids.ru_utime.tv_usec + (uint64_t)kids.ru_stime.tv_usec) * 1000ull;
	memcpy(rec + 1, &ns, 8);
	if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
		return; /* the caller then has no end figure: null */
}

/* What the workload's body needs once on its own stack. */
struct body {
	const struct wl_workload *w;
	const char *strategy;
	const struct wl_opts *o;
	bool switched;		/* on the new stack (ASan is told) */
};

static __attribute__((noreturn)) void body_run(void *arg)
{
	struct body *b = arg;
	int rc;

#ifdef __SANITIZE_ADDRESS__
	if (b->switched)
		__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	rc = b->w->run(b->strategy, b->o, CHILD_RES_FD);
	fflush(NULL);
	write_end_cpu(CHILD_RES_FD);
	_exit(rc);
}

/*
 * A built-in workload's body runs on a stack of its own, not on top of iotrace's: the
 * forked child's stack holds iotrace's command frames (tens of KiB of them), which the
 * probes' copies of the stack (32 KiB at most) could not reach past, so every stack of a
 * process's main thread ended in [truncated] short of its start. wl_child_start is the new
 * stack's outermost frame, as clone3's child is a thread's: its CFI says the return
 * address is undefined, which is where an unwinder stops, whole. The copies then end
 * there, a few KiB up. Never returns (the body _exits).
 */
#define FRESH_PREFAULT (256u << 10)

#if defined(__x86_64__)
void wl_child_start(void *arg, void *top, void (*fn)(void *)) __attribute__((noreturn));
__asm__(".text\n"
	".globl wl_child_start\n"
	".hidden wl_child_start\n"
	".type wl_child_start, @function\n"
	".p2align 4\n"
	"wl_child_start:\n"
	".cfi_startproc\n"
	".cfi_undefined rip\n"
	"	movq %rsi, %rsp\n"
	"	xorl %ebp, %ebp\n"	/* ends a frame-pointer walk here too */
	"	callq *%rdx\n"
	"	ud2\n"
	".cfi_endproc\n"
	".size wl_child_start, .-wl_child_start\n");
#endif

static __attribute__((noreturn)) void run_fresh(const struct wl_workload *w, const char *strategy,
						 const struct wl_opts *o)
{
	static struct body b;

	b = (struct body){.w = w, .strategy = strategy, .o = o};
#if defined(__x86_64__)
	{
		struct rlimit rl;
		size_t size = 8u << 20, page = (size_t)sysconf(_SC_PAGESIZE);
		char *base;

		/* as large as the main thread's could grow */
		if (!getrlimit(RLIMIT_STACK, &rl) && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur >= 2 * FRESH_PREFAULT && rl.rlim_cur <= (1ull << 30))
			size = (size_t)rl.rlim_cur & ~(page - 1);
		base = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
		/* without one it runs where it is: whole stacks are then less likely */
		if (base != MAP_FAILED) {
			mprotect(base, page, PROT_NONE); /* the guard page */
			/*
			 * Its top written now: the probes copy the stack without faulting (in
			 * the sampling interrupt), and a page a frame skipped (libuv's 12 KiB
			 * of epoll events, mostly unwritten) would fail every copy across it.
			 * The stack iotrace's frames had left behind was all written.
			 */
			memset(base + page + size - FRESH_PREFAULT, 0, FRESH_PREFAULT);
			b.switched = true;
#ifdef __SANITIZE_ADDRESS__
			__sanitizer_start_switch_fiber(NULL, base + page, size);
#endif
			wl_child_start(&b, base + page + size, body_run);
		}
	}
#endif
	body_run(&b);
}

static __attribute__((noreturn)) void child(const struct wl_workload *w, const char *strategy,
					    char *const argv[], const struct wl_opts *o,
					    const struct user_env *ue, pid_t parent, int go,
					    int errw, int res)
{
	sigset_t go_set;
	int rc;

	/* the parent's unflushed stdio buffers are the parent's to write, not ours */
	__fpurge(stdout);
	__fpurge(stderr);
	place_fd(go, CHILD_GO_FD);
	place_fd(errw, CHILD_ERR_FD);
	place_fd(res, CHILD_RES_FD);
	/* every other fd goes: a copy of a BPF link fd would keep the probes attached */
	if (close_range(res >= 0 ? CHILD_RES_FD + 1 : CHILD_ERR_FD + 1, ~0U, 0) < 0)
		setup_fail(errno, "close_range: %s", strerror(errno));
	reset_signals(o->keep_ignored);
	if (w)
		wl_name_self("iot-main");
	if (o->throttle_cgroup)
		join_cgroup(o->throttle_cgroup);
	drop_privileges(o->uid, o->gid);
	if (ue->set) {
		/* as su -c / sudo -H do: a program run as the user looks in the user's home */
		setenv("HOME", ue->home, 1);
		setenv("USER", ue->name, 1);
		setenv("LOGNAME", ue->name, 1);
	}
	/* after the credential change, which clears it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		setup_fail(errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
	if (getppid() != parent)
		_exit(WL_EXIT_SETUP); /* the parent is already gone */
	/*
	 * Wait for the go without reading it: the child is already traced, and a read of the
	 * go channel would count as one of the workload's reads. The channel raises SIGUSR1
	 * itself (O_ASYNC + F_SETSIG) when the go byte arrives or the parent hangs up;
	 * sigwaitinfo is no tracked syscall (a plain other_wait), and FIONREAD and a
	 * zero-timeout poll tell the two apart without blocking. The signal is blocked
	 * before the parent can learn we are ready, so an early one stays pending.
	 */
	sigemptyset(&go_set);
	sigaddset(&go_set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &go_set, NULL) < 0 ||
	    fcntl(CHILD_GO_FD, F_SETOWN, getpid()) < 0 ||
	    fcntl(CHILD_GO_FD, F_SETSIG, SIGUSR1) < 0 ||
	    fcntl(CHILD_GO_FD, F_SETFL, fcntl(CHILD_GO_FD, F_GETFL) | O_ASYNC) < 0)
		setup_fail(errno, "go channel: %s", strerror(errno));
	close(CHILD_ERR_FD);	      /* EOF: set up, waiting */
	for (;;) {
		struct pollfd p = {.fd = CHILD_GO_FD, .events = POLLIN};
		int avail = 0;

		if (ioctl(CHILD_GO_FD, FIONREAD, &avail) == 0 && avail > 0)
			break;
		/*
		 * The release is a send and a close back to back: if both land between the
		 * FIONREAD above and this poll, the poll sees the hang-up with the go byte
		 * still queued. After a hang-up nothing more can arrive, so one more look
		 * tells a release from giving up.
		 */
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
			if (ioctl(CHILD_GO_FD, FIONREAD, &avail) == 0 && avail > 0)
				break;
			_exit(WL_EXIT_SETUP); /* closed without release: the caller gave up */
		}
		sigwaitinfo(&go_set, NULL);
	}
	/* no more signals from the channel; the parent's hang-up may have queued one more */
	close(CHILD_GO_FD);
	{
		const struct timespec zero = {0};

		while (sigtimedwait(&go_set, NULL, &zero) > 0)
			;
	}
	if (sigprocmask(SIG_UNBLOCK, &go_set, NULL) < 0)
		_exit(WL_EXIT_SETUP);
	if (w)
		run_fresh(w, strategy, o);
	rc = exec_path(argv);
	fflush(NULL);
	_exit(rc);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int spawn(const struct wl_workload *w, const char *strategy, char *const argv[],
		 const struct wl_opts *o, struct wl_child *c)
{
	int go[2] = {-1, -1}, errp[2] = {-1, -1}, res = -1, ret, st;
	char msg[320];
	size_t len = 0;
	pid_t parent = getpid(), pid;
	struct user_env ue;

	c->pid = -1;
	c->go_fd = c->res_fd = c->err_fd = -1;
	c->errmsg[0] = 0;
	c->reaped = false;
	if (!o || (w && !wl_has_strategy(w, strategy)) || (!w && (!argv || !argv[0]))) {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s",
			 !o  ? "no options"
			 : w ? "unknown strategy"
			     : "no command");
		return -EINVAL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0) {
		ret = -errno;
		goto fail;
	}
	if (w) {
		res = memfd_create("iotrace-results", MFD_CLOEXEC);
		if (res < 0) {
			ret = -errno;
			goto fail;
		}
	}
	lookup_user(o->uid, &ue);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto fail;
	}
	if (pid == 0)
		child(w, strategy, argv, o, &ue, parent, go[1], errp[1], res);
	close_fd(&go[1]);
	close_fd(&errp[1]);
	/* wait until the child is set up (EOF) or says why it could not be */
	for (;;) {
		ssize_t n = read(errp[0], msg + len, sizeof(msg) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof(msg) - 1)
			break;
	}
	msg[len] = 0;
	close_fd(&errp[0]);
	if (len || waitpid(pid, &st, WNOHANG) == pid) {
		char *tab = strchr(msg, '\t');
		int err = len ? atoi(msg) : ECHILD;

		if (len) {
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		}
		snprintf(c->errmsg, sizeof(c->errmsg), "%s",
			 tab ? tab + 1 : "the child died during set-up");
		ret = err > 0 ? -err : -ECHILD;
		goto fail;
	}
	c->pid = pid;
	c->go_fd = go[0];
	c->res_fd = res;
	return 0;
fail:
	if (!c->errmsg[0])
		snprintf(c->errmsg, sizeof(c->errmsg), "%s", strerror(-ret));
	close_fd(&go[0]);
	close_fd(&go[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&res);
	return ret;
}

/*
 * libcrypto reads its configuration file (openssl.cnf) and sets up its providers on first
 * use. Done in the child, those reads would be traced as the workload's own: do it once
 * here, before fork, so a run's reads are exactly the dataset's.
 */
static void crypto_preload(void)
{
	static bool done;
	EVP_MD *md;

	if (done)
		return;
	done = true;
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	md = EVP_MD_fetch(NULL, "MD5", NULL);
	EVP_MD_free(md);
}

int wl_spawn(const struct wl_workload *w, const char *strategy, const struct wl_opts *o,
	     struct wl_child *c)
{
	if (!w) {
		c->pid = -1;
		c->go_fd = c->res_fd = c->err_fd = -1;
		snprintf(c->errmsg, sizeof(c->errmsg), "no workload");
		return -EINVAL;
	}
	crypto_preload();
	return spawn(w, strategy, NULL, o, c);
}

int wl_spawn_cmd(char *const argv[], const struct wl_opts *o, struct wl_child *c)
{
	return spawn(NULL, NULL, argv, o, c);
}

int wl_release(struct wl_child *c)
{
	struct timespec ts;
	clockid_t clk;
	ssize_t n;
	int err;

	c->setup_cpu_ok = false;
	if (c->go_fd < 0 || c->pid <= 0 || c->reaped)
		return -EINVAL;
	/* the child is blocked waiting for the go: what it used so far is its set-up */
	if (clock_getcpuclockid(c->pid, &clk) == 0 && clock_gettime(clk, &ts) == 0) {
		c->setup_cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		c->setup_cpu_ok = true;
	}
	do
		n = send(c->go_fd, "g", 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	err = n == 1 ? 0 : errno;
	close_fd(&c->go_fd);
	if (err)
		return err == EPIPE || err == ECONNRESET ? -ECHILD : -err;
	return 0;
}

void wl_kill(struct wl_child *c, int sig)
{
	if (c && c->pid > 0 && !c->reaped)
		kill(c->pid, sig);
}

int wl_wait(struct wl_child *c, int *status, struct rusage *ru, struct wl_result *res)
{
	struct rusage dummy;
	int st = 0, ret = 0;
	pid_t r;

	if (res)
		memset(res, 0, sizeof(*res));
	if (c->pid <= 0 || c->reaped)
		return -ECHILD;
	/* never released: EOF makes the child give up */
	close_fd(&c->go_fd);
	r = wait4(c->pid, &st, 0, ru ? ru : &dummy);
	if (r < 0)
		return -errno;
	c->reaped = true;
	if (status)
		*status = st;
	if (res && c->res_fd >= 0)
		ret = wl_res_read(c->res_fd, res);
	close_fd(&c->res_fd);
	close_fd(&c->err_fd);
	return ret;
}
