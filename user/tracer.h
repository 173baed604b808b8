/* tracer.h - loads, attaches and drains the BPF probes, and feeds a timeline with what they saw. */
#ifndef IOTRACE_TRACER_H
#define IOTRACE_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analysis.h"
#include "timeline.h"

/*
 * Life: tr_open() (open -> configure -> load -> attach, once per iotrace process), then per
 * run tr_start() (reset maps, seed the target) ... tr_poll() ... tr_stop() (final drain,
 * counters), and tr_close() (detach, free) on every exit path. Nothing is pinned: all
 * kernel objects are held by fds and links, so even SIGKILL of iotrace frees them.
 */

struct tr_stack {
	int kind;		/* IT_STACK_ONCPU / IT_STACK_OFFCPU */
	uint32_t pid, tid;
	enum tl_state state;	/* off-CPU: the state while off */
	uint64_t value;		/* samples (on-CPU) or ns (off-CPU) */
	int nkern, nuser;	/* <0: unavailable (-errno) */
	uint64_t kips[127];
	uint64_t uips[127];
};

typedef void (*tr_stack_fn)(void *ctx, const struct tr_stack *s);

struct tr_opts {
	bool verbose;		/* libbpf debug output */
	bool follow;		/* child processes join the target (procs strategy, trace --follow) */
	bool stacks;		/* off-CPU stacks at switch-out and on-CPU sampling */
	unsigned sample_hz;	/* on-CPU sampling frequency, default 99 */
	unsigned ringbuf_mb;	/* 0 = sized from the expected event rate */
	tr_stack_fn on_stack;	/* called from tr_poll/tr_stop for each stack record */
	void *stack_ctx;
};

struct tr;

/* Load and attach everything. On failure returns -errno and writes a user-facing reason
 * ("tracepoint sched_switch: Operation not permitted ...") into err. */
int tr_open(const struct tr_opts *o, struct tr **out, char *err, size_t errlen);
/* Begin a run: clear per-run state, make pid (and, for -p, all its current threads) the
 * target; from here on events feed tl. */
int tr_start(struct tr *t, pid_t pid, struct tl_timeline *tl);
/* Consume ring-buffer records for up to timeout_ms; >= 0 records or -errno. */
int tr_poll(struct tr *t, int timeout_ms);
/* End the run: final drain, flush pending per-thread batches from the threads map, close
 * each thread's data into tl, fill counters; *last_ts = last event time seen (for the window). */
int tr_stop(struct tr *t, struct an_counters *c, uint64_t *last_ts);
void tr_close(struct tr *t);

/* The probes' clock (CLOCK_MONOTONIC, as bpf_ktime_get_ns). */
uint64_t tr_now(void);

/* Probe-by-probe attachability report for `iotrace check`: one line per probe. */
struct tr_probe_status {
	char name[48];
	bool required;
	int err;		/* 0 ok, else -errno */
};
int tr_probe_check(struct tr_probe_status *st, size_t max, size_t *n);

#endif /* IOTRACE_TRACER_H */
