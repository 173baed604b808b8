/* wl_internal.h - private glue shared by the workload sources (not part of the wl_ API). */
#ifndef IOTRACE_WL_INTERNAL_H
#define IOTRACE_WL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workload.h"

/* Default knobs when wl_opts leaves them 0. */
#define WL_DEF_CHUNK (64u * 1024)
#define WL_DEF_QD_CALLBACK 4u
#define WL_DEF_QD_URING 16u
#define WL_URING_FILES 4u /* uring: files read at once, at most */
#define WL_DEF_FACTORIAL 60000u
#define WL_MAX_CHUNK (64u << 20)

/* The workload bodies (struct wl_workload.run). */
int wl_md5dir_run(const char *strategy, const struct wl_opts *o, int res_fd);
int wl_md5dir_warmup(const struct wl_opts *o, char *did, size_t len);
int wl_readfile_run(const char *strategy, const struct wl_opts *o, int res_fd);
int wl_fetch_run(const char *strategy, const struct wl_opts *o, int res_fd);
/* fetch's service: wl_fetch_server_start() on o->fetch_delay_ms, its port into o */
int wl_fetch_service_start(struct wl_opts *o, void **svc);
void wl_fetch_service_stop(void *svc);

/* Result stream: the child writes one with wl_res_write(), the parent reads it back. */
int wl_res_write(int fd, const struct wl_result *r);
int wl_res_read(int fd, struct wl_result *r);

/* Name the calling thread (comm, 15 chars). */
void wl_name_self(const char *name);
/* CPUs this process may run on. */
unsigned wl_ncpu(void);
/* n! with libcrypto BN; returns its size in bits, or -errno. */
long wl_factorial(unsigned n);
/* "iotrace: " + message on stderr: only ever called inside the child. */
void wl_child_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* name is prefix + a pid of no live process + "-...": left by a killed run. */
bool wl_orphan_name(const char *name, const char *prefix);
/* Move the calling process into the cgroup whose cgroup.procs is procs. 0 or -errno. */
int wl_cgroup_join(const char *procs);
/* statfs says: 1 disk-backed, 0 not (tmpfs, overlay, NFS...), -errno. */
int wl_fs_disk_backed(const char *path);

#endif /* IOTRACE_WL_INTERNAL_H */
