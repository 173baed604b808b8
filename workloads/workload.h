/* workload.h - built-in workloads and strategies, launched start-synchronised in a child. */
#ifndef IOTRACE_WORKLOAD_H
#define IOTRACE_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * A workload runs in a child process so that its threads form one thread group the
 * probes can filter on. The launch is in two steps: wl_spawn() forks a child that drops
 * privileges and then blocks on a pipe; the caller registers the child's pid with the
 * probes and calls wl_release(), after which the child does its work and exits. The
 * child reports its results (digests, per-file problems) through a result pipe, read by
 * wl_wait(). Thread names (comm) carry roles: "iot-main", "iot-worker-N", "iot-loop",
 * libuv's pool threads keep theirs; wl_role() maps a comm to a role label.
 */

enum wl_cache { WL_CACHE_NONE = 0, WL_CACHE_WARM, WL_CACHE_COLD };

struct wl_opts {
	const char *dir;	/* dataset directory (md5dir), or file (readfile) */
	unsigned threads;	/* pool size / process count; 0 = CPU count */
	size_t chunk;		/* read size, default 64 KiB */
	unsigned qd;		/* io_uring queue depth / callback files in flight */
	bool gil_hold_io;	/* gil: keep the lock held across reads */
	bool verify;		/* print each file's digest */
	uid_t uid;		/* run the workload as this user (SUDO_UID), or -1 = keep */
	gid_t gid;
	const char *throttle_cgroup; /* cgroup.procs path to join before release, or NULL */
	unsigned fetch_delay_ms;	/* fetch: server answer delay */
	unsigned factorial_n;		/* readfile/fetch: n of n! */
	bool quiet;
};

struct wl_file_result {
	char *path;		/* relative to the dataset dir */
	unsigned char md5[16];
	uint64_t size;
	int err;		/* 0, or errno: reported and skipped */
};

struct wl_result {
	struct wl_file_result *files;
	size_t nfiles;
	uint64_t bytes;		/* bytes hashed */
	size_t nerrors;
	unsigned pool_threads;	/* libuv pool size etc., 0 if n/a */
	char note[256];		/* e.g. "libuv pool: 4 threads (UV_THREADPOOL_SIZE)" */
};

struct wl_child {
	pid_t pid;
	int go_fd;		/* write end: release */
	int res_fd;		/* read end: results */
	int err_fd;		/* read end: child's setup error, if any */
};

struct wl_workload {
	const char *name;
	const char *const *strategies;	/* NULL-terminated */
	const char *default_strategies;	/* comma list */
	/* body, runs in the child after release; returns exit code, writes results to fd */
	int (*run)(const char *strategy, const struct wl_opts *o, int res_fd);
};

extern const struct wl_workload *const wl_workloads[]; /* NULL-terminated */
const struct wl_workload *wl_find(const char *name);
bool wl_has_strategy(const struct wl_workload *w, const char *strategy);

/* Fork the child (blocked before work). 0 or -errno. */
int wl_spawn(const struct wl_workload *w, const char *strategy, const struct wl_opts *o,
	     struct wl_child *c);
/* Same launch for an arbitrary command (iotrace trace): exec after release. */
int wl_spawn_cmd(char *const argv[], const struct wl_opts *o, struct wl_child *c);
/* Let the child go. 0 or -errno (e.g. -ECHILD if it already died in set-up). */
int wl_release(struct wl_child *c);
/* Kill a spawned, unreleased or running child. */
void wl_kill(struct wl_child *c, int sig);
/* Wait for exit; status as waitpid; collects rusage and (if res) the results. */
int wl_wait(struct wl_child *c, int *status, struct rusage *ru, struct wl_result *res);
void wl_result_free(struct wl_result *r);
/* "main", "worker 3", "loop", "uv pool 2", "io-wq worker", or the comm itself. */
void wl_role(const char *comm, bool is_main, char *role, size_t len);

/* ---- datasets ---- */
/* Create nfiles random files of size bytes in a fresh, unguessable directory under base
 * (must be disk-backed). *dir receives the malloc'd path. 0 or -errno. */
int wl_dataset_create(const char *base, unsigned nfiles, uint64_t size, uid_t uid, gid_t gid,
		      char **dir);
int wl_dataset_remove(const char *dir);
/* List regular files under dir (recursive, symlinks/FIFOs/devices skipped unopened). */
int wl_list_files(const char *dir, char ***paths, size_t *n, uint64_t *total_bytes);

/* ---- page cache ---- */
/* Make every file warm (read + verify resident) or cold (DONTNEED + verify with mincore).
 * *resident receives the resident share (0..1) measured after preparing. 0 or -errno;
 * -EOPNOTSUPP when cold is impossible (no block device: tmpfs, overlay, NFS). */
int wl_cache_prepare(const char *dir, enum wl_cache mode, double *resident);

/* ---- slow disk ---- */
struct wl_throttle {
	char path[256];		/* cgroup dir created */
	char procs[300];	/* its cgroup.procs */
	int v2;
};
/* Parse "50M", "1G", "100k" (bytes/s). 0 or -EINVAL. */
int wl_parse_rate(const char *s, uint64_t *bps);
/* Parse a size "64K", "8M". 0 or -EINVAL. */
int wl_parse_size(const char *s, uint64_t *bytes);
int wl_throttle_setup(const char *dir, uint64_t bps, struct wl_throttle *t);
int wl_throttle_remove(struct wl_throttle *t);

#endif /* IOTRACE_WORKLOAD_H */
