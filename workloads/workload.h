/* workload.h - built-in workloads and strategies, launched start-synchronised in a child. */
#ifndef IOTRACE_WORKLOAD_H
#define IOTRACE_WORKLOAD_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * A workload runs in a child process so that its threads form one thread group the
 * probes can filter on. The launch is in two steps: wl_spawn() forks a child that sets
 * itself up (fds, cgroup, privileges) and then blocks on a socket; the caller registers the
 * child's pid with the probes and calls wl_release(), after which the child does its work
 * and exits. The child writes its results (digests, per-file problems) to a memfd, read by
 * wl_wait() (no pipe to drain, whatever the file count). Thread names (comm) carry roles:
 * "iot-main", "iot-worker-N", "iot-loop", "iot-uvpool-N" (the callback strategy names
 * libuv's pool threads, which libuv 1.44 leaves unnamed; they are born "iot-uvpool" and
 * renamed a moment later: take the last comm seen), "iot-proc-N" (procs: child processes),
 * "iot-reader", "iot-fetch", "iot-factorial" (readfile, fetch); wl_role() maps a comm to a
 * role label.
 *
 * md5dir strategies: sync; threads (o->threads workers); callback (libuv, o->qd files in
 * flight, pool = UV_THREADPOOL_SIZE, else o->threads if set, else 4); uring (o->qd reads in
 * flight); procs (o->threads processes); gil (o->threads threads, one mutex). A file that
 * cannot be read has err set and is skipped; one that no strategy got to (the run failed
 * midway) has ECANCELED.
 */

enum wl_cache { WL_CACHE_NONE = 0, WL_CACHE_WARM, WL_CACHE_COLD };

struct wl_opts {
	const char *dir;  /* dataset directory (md5dir), or file (readfile) */
	unsigned threads; /* pool size / process count; 0 = CPU count */
	size_t chunk;	  /* read size, default 64 KiB */
	unsigned qd;	  /* io_uring queue depth / callback files in flight */
	bool gil_hold_io; /* gil: keep the lock held across reads */
	/* md5dir: advise each file POSIX_FADV_RANDOM (the kernel's readahead off: a read
	 * fetches only what it asks for) instead of POSIX_FADV_SEQUENTIAL (md5sum's) */
	bool readahead_off;
	bool verify;	  /* print each file's digest: the caller does, from wl_result */
	uid_t uid;	  /* run the workload as this user (SUDO_UID), or -1 = keep */
	gid_t gid;
	const char *throttle_cgroup; /* cgroup.procs path to join before release, or NULL */
	unsigned fetch_delay_ms;     /* fetch: server answer delay */
	unsigned factorial_n;	     /* readfile/fetch: n of n!, 0 = 60000 */
	uint16_t fetch_port;	     /* fetch: port of wl_fetch_server_start()'s server */
	/* signals the child keeps ignoring (SIG_IGN) instead of the default: those the
	 * caller was started with ignored (trace -- CMD under nohup); NULL = none */
	const sigset_t *keep_ignored;
};

struct wl_file_result {
	char *path; /* relative to the dataset dir */
	unsigned char md5[16];
	uint64_t size; /* bytes hashed */
	int err;       /* 0, or errno: reported and skipped; WL_ECHANGED: see below */
};

/* A file whose size changed between listing and the end of its read (it shrank, grew or
 * was truncated mid-run): its digest covers what was read. wl_strerror() words it. */
#define WL_ECHANGED ESTALE
/* strerror(), except WL_ECHANGED reads "file changed size while it was read". */
const char *wl_strerror(int err);

/* Exit codes of a workload child (wl_spawn_cmd: the command's own, or 126/127 as a shell). */
enum {
	WL_EXIT_OK = 0,		/* ran; per-file problems are in the results */
	WL_EXIT_FAIL = 1,	/* internal failure (allocation, a library call); stderr says */
	WL_EXIT_INPUT = 5,	/* DIR/FILE missing, unreadable, not a directory; stderr says */
	WL_EXIT_SETUP = 125,	/* set-up before release failed; wl_spawn() returned the error */
	WL_EXIT_NOEXEC = 126,	/* wl_spawn_cmd: found but not executable */
	WL_EXIT_NOTFOUND = 127, /* wl_spawn_cmd: command not found */
};

struct wl_result {
	struct wl_file_result *files;
	size_t nfiles;
	uint64_t bytes; /* bytes hashed */
	size_t nerrors;
	unsigned pool_threads; /* libuv pool size etc., 0 if n/a */
	char note[256];	       /* e.g. "libuv pool: 4 threads (UV_THREADPOOL_SIZE)" */
	bool complete;	       /* the child wrote its whole result stream (false: crashed) */
	/* the child's CPU time (user + system, with its reaped children's) when the workload
	 * returned, just before its exit; not ok if it never got there */
	uint64_t end_cpu_ns;
	bool end_cpu_ok;
};

struct wl_child {
	pid_t pid;
	int go_fd;	  /* write end: release */
	int res_fd;	  /* read end: results (a memfd the child appends to; -1 for commands) */
	int err_fd;	  /* always -1 once wl_spawn() returns: set-up errors come back from it */
	char errmsg[256]; /* wl_spawn() failure: what the child said ("setuid(1000): ...") */
	bool reaped;	  /* wl_wait() collected it: wl_kill() is a no-op */
	/* CPU time the child had used when wl_release() let it go (its set-up: fork, fds,
	 * cgroup, privileges; the process CPU clock, the figure rusage sums), so that the
	 * caller can take the released part of wait4's rusage; setup_cpu_ok false if unread */
	uint64_t setup_cpu_ns;
	bool setup_cpu_ok;
};

/* What a workload reads: decides what `iotrace run` checks, generates and makes warm or cold. */
enum wl_input {
	WL_INPUT_NONE = 0,	/* nothing on disk (fetch: the network): no DIR/FILE, no cache modes */
	WL_INPUT_DIR,		/* every regular file under a directory (wl_opts.dir) */
	WL_INPUT_FILE,		/* one regular file (wl_opts.dir names it) */
};

struct wl_workload {
	const char *name;
	const char *const *strategies;	/* NULL-terminated */
	const char *default_strategies; /* comma list */
	enum wl_input input;
	const char *does;		/* for messages: "md5dir <does>" ("hashes every regular ...") */
	/* the dataset generated when no DIR/FILE is given: files, and bytes each; 0 = what the
	 * user asked (iotrace run --files, --file-size). WL_INPUT_FILE reads the one file. */
	unsigned gen_files;
	uint64_t gen_file_size;
	/* the report closes with the Answer (could concurrency overlap the reads with the
	 * computing here, and what bounds it): for a workload that reads files and computes */
	bool answer;
	/* it takes wl_opts.readahead_off (iotrace run --readahead): it advises its files */
	bool readahead;
	/* called once in the caller before the first run, which forks every run from it: do
	 * each library's first-use work (loading, first allocations) there, so that no run pays
	 * it alone; did receives what was done, for the report. NULL: nothing. 0 or -errno. */
	int (*warmup)(const struct wl_opts *o, char *did, size_t len);
	/* what iotrace runs beside the workload from the first run to the last, outside the
	 * traced processes (fetch: its loopback HTTP server); NULL when nothing. start fills
	 * what the runs need into o (fetch_port): 0 or -errno. */
	const char *service;	/* for messages: "the loopback HTTP server" */
	int (*service_start)(struct wl_opts *o, void **svc);
	void (*service_stop)(void *svc);
	/* body, runs in the child after release; returns exit code, writes results to fd */
	int (*run)(const char *strategy, const struct wl_opts *o, int res_fd);
};

extern const struct wl_workload *const wl_workloads[]; /* NULL-terminated */
const struct wl_workload *wl_find(const char *name);
bool wl_has_strategy(const struct wl_workload *w, const char *strategy);

/*
 * Fork the child (blocked before work). The child keeps only fds 0-2 and its own channels
 * (everything else is closed: BPF link fds must not outlive a SIGKILLed iotrace), dies with
 * SIGKILL when the calling THREAD exits (PR_SET_PDEATHSIG: call from a thread that outlives
 * the run), joins o->throttle_cgroup, drops to o->uid/o->gid (supplementary groups dropped,
 * checked that root cannot be regained; gid -1 with a uid set = -EINVAL), then blocks.
 * Returns once the child is set up and waiting: 0, or -errno with c->errmsg saying what
 * failed in the child (which is reaped). Signal dispositions (but o->keep_ignored) and mask are
 * reset in the child.
 */
int wl_spawn(const struct wl_workload *w, const char *strategy, const struct wl_opts *o,
	     struct wl_child *c);
/* Same launch for an arbitrary command (iotrace trace): exec after release. */
int wl_spawn_cmd(char *const argv[], const struct wl_opts *o, struct wl_child *c);
/* Let the child go, first reading the CPU time its set-up took (c->setup_cpu_ns). 0 or
 * -errno (e.g. -ECHILD if it died meanwhile). */
int wl_release(struct wl_child *c);
/* Kill a spawned, unreleased or running child. */
void wl_kill(struct wl_child *c, int sig);
/* Wait for exit; status as waitpid; collects rusage (wait4: the child and the descendants
 * it reaped) and (if res) the results. Blocks; -EINTR if a signal interrupts (call again).
 * Closes the child's fds. */
int wl_wait(struct wl_child *c, int *status, struct rusage *ru, struct wl_result *res);
void wl_result_free(struct wl_result *r);
/* "main", "worker 3", "loop", "uv pool 2", "io-wq worker", "proc 2", "reader", "fetch",
 * "factorial", or the comm itself. Comms: iot-main, iot-worker-N, iot-loop, iot-uvpool-N
 * (libuv pool threads, named by the callback strategy), iot-proc-N, iot-reader, iot-fetch,
 * iot-factorial; iou-wrk-* are io_uring's. is_main only decides for unknown comms. */
void wl_role(const char *comm, bool is_main, char *role, size_t len);

/* ---- fetch's loopback HTTP server: runs in a thread of the caller, outside the target ---- */
struct wl_server {
	int listen_fd;
	int stop_fd; /* eventfd that ends the thread */
	unsigned delay_ms;
	uint16_t port;
	bool running;
	unsigned long served; /* responses sent */
	pthread_t thread;
};
/* Body served for GET /: WL_FETCH_BODY bytes, deterministic (wl_fetch_body()). */
#define WL_FETCH_BODY (256u * 1024)
/* Listen on 127.0.0.1, ephemeral port (*port receives it); each GET is answered after
 * delay_ms. 0 or -errno. */
int wl_fetch_server_start(unsigned delay_ms, uint16_t *port, struct wl_server *srv);
void wl_fetch_server_stop(struct wl_server *srv);
/* The body the server sends (len WL_FETCH_BODY), for checking what the client got. */
const unsigned char *wl_fetch_body(void);

/* ---- datasets ---- */
/* Create nfiles random files of size bytes (file-000000 ...) in a fresh, unguessable
 * directory base/iotrace-data-<our pid>-XXXXXX, owned by uid/gid (-1 = keep). *dir
 * receives the malloc'd path. 0 or -errno: -EXDEV when base is not disk-backed (tmpfs, ramfs,
 * overlay, NFS/CIFS, FUSE, 9p), -EINVAL for nfiles 0. On failure nothing is left behind. */
int wl_dataset_create(const char *base, unsigned nfiles, uint64_t size, uid_t uid, gid_t gid,
		      char **dir);
/* Removes only what wl_dataset_create() made: its file-NNNNNN files, then the directory
 * (-ENOTEMPTY if someone added files; -EINVAL if dir is not an iotrace-data-* dir). */
int wl_dataset_remove(const char *dir);
/* Remove the datasets under base whose creating process is gone (a SIGKILLed run's; the
 * name carries the creator's pid): real directories owned by root or caller only, never
 * through a symlink. Number removed, or -errno. */
int wl_dataset_sweep(const char *base, uid_t caller);
/* List regular files under dir (recursive, symlinks/FIFOs/sockets/devices skipped unopened
 * via d_type/lstat), as paths relative to dir, sorted bytewise (LC_ALL=C). A subdirectory
 * that cannot be listed is returned as "sub/" so that opening it fails and is reported with
 * its errno. *total_bytes sums the sizes. -errno if dir itself cannot be listed. Free each
 * path and the array. */
int wl_list_files(const char *dir, char ***paths, size_t *n, uint64_t *total_bytes);

/* ---- page cache ---- */
/* Make every file warm (read + verify resident) or cold (fdatasync + DONTNEED + verify with
 * mincore); path is a directory (its wl_list_files() files) or one regular file.
 * *resident receives the resident share (0..1, of pages) measured after preparing; an empty
 * set counts as 1 warm and 0 cold. 0 or -errno; -EOPNOTSUPP when cold is impossible (no
 * block device: tmpfs, overlay, NFS). A share short of the goal is not an error (memory
 * pressure, pages mapped by someone): the caller sees it in *resident. */
int wl_cache_prepare(const char *dir, enum wl_cache mode, double *resident);

/* ---- the device's ceiling ---- */
struct wl_ceiling {
	double bps;		/* bytes/s delivered once the queue was full */
	uint64_t bytes, ns;	/* what the calibration read, and how long it took */
	unsigned qd, block;	/* requests in flight, bytes each */
	bool throttled;		/* measured inside the run's throttle cgroup */
};
/*
 * Measure how fast storage delivers the files under dir to a reader that keeps it busy:
 * O_DIRECT reads (the page cache is neither used nor disturbed), many in flight, round-robin
 * over the files, by a child placed in throttle_procs' cgroup when not NULL (so the
 * throttle applies as it does to the runs). Stops after max_bytes or max_ns. 0 or -errno:
 * -EOPNOTSUPP when the filesystem refuses O_DIRECT, -ENODATA when the files are too small
 * to measure (under 256 KiB each, or too little read).
 */
int wl_device_calibrate(const char *dir, const char *throttle_procs, uint64_t max_bytes,
			uint64_t max_ns, struct wl_ceiling *out);

/* ---- slow disk ---- */
struct wl_throttle {
	char path[256];	 /* cgroup dir created */
	char procs[300]; /* its cgroup.procs */
	int v2;
	uint64_t id;	 /* cgroup id (inode of path): the probes match the bios it holds */
};
/*
 * Sizes and rates: digits, optionally a fraction ("1.5G"), then a unit. k/K, M, G, T (and
 * KiB, MiB, GiB, TiB) are binary: 1024, 1024^2...; KB, MB, GB, TB are decimal (1000...);
 * "B" or nothing = bytes. A rate may end in "/s" ("50M/s", "50MB/s"). Rejected (-EINVAL):
 * empty, sign, spaces, unknown unit, zero, a result that does not fit in 63 bits (-ERANGE
 * folded into -EINVAL) or a fraction of a byte.
 */
int wl_parse_rate(const char *s, uint64_t *bps);
int wl_parse_size(const char *s, uint64_t *bytes);
/*
 * Create a cgroup "iotrace-<our pid>-<16 random hex>" limiting reads from the whole disk that backs
 * dir (a directory or file; partitions -> their disk; loop/dm: the device itself, or its
 * slaves if the controller refuses it) to bps: cgroup v2 io.max when the io controller is
 * enabled at the v2 root, else v1 blkio.throttle.read_bps_device. t->procs is what
 * wl_opts.throttle_cgroup takes. 0 or -errno: -EXDEV when dir is not on a block device,
 * -ENODEV when no blkio/io controller is available, -EPERM when not root. Nothing is left
 * behind on failure.
 */
int wl_throttle_setup(const char *dir, uint64_t bps, struct wl_throttle *t);
/* Move any remaining processes to the hierarchy's root and rmdir (retried while exiting
 * tasks linger). Only touches an "iotrace-*" directory. 0 or -errno. */
int wl_throttle_remove(struct wl_throttle *t);
/* Remove the iotrace cgroups whose creating process is gone (names carry its pid): call at
 * start-up to clean up after a SIGKILLed run. Number removed, or -errno. */
int wl_throttle_sweep(void);

/* ---- the guardian: clean-up that survives iotrace ---- */
struct wl_guard {
	pid_t pid; /* the guardian process, -1 = none */
	int fd;	   /* our end of its pipe */
};
/*
 * Fork a guardian (comm "iotrace-guard") that outlives iotrace only to clean up after it:
 * when iotrace's end of the pipe closes (iotrace exited or was killed, even by SIGKILL),
 * it SIGKILLs every task of each registered cgroup, removes the cgroup, then removes each
 * registered dataset, and exits. Call early, before any thread or BPF object exists (the
 * child closes every fd but the pipe, and never holds the probes). 0 or -errno.
 */
int wl_guard_start(struct wl_guard *g);
/* Register (add) or forget (!add: removed by us) a throttle cgroup dir / a dataset dir. */
int wl_guard_cgroup(struct wl_guard *g, const char *dir, bool add);
int wl_guard_dataset(struct wl_guard *g, const char *dir, bool add);
/* Close our end and wait for the guardian (it removes what is still registered first). */
int wl_guard_stop(struct wl_guard *g);

#endif /* IOTRACE_WORKLOAD_H */
