/* tracer.h - loads, attaches and drains the BPF probes, and feeds a timeline with what they saw. */
#ifndef IOTRACE_TRACER_H
#define IOTRACE_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "iotrace.h" /* IT_STACK_*, IT_CNT_*: the records the probes emit */
#include "model/analysis.h"
#include "model/timeline.h"
#include "model/waits.h"

/*
 * Life: tr_open() (open -> configure -> load -> attach, once per iotrace process), then per
 * run tr_start() (reset maps, seed the target) ... tr_poll() ... tr_stop() (final drain,
 * counters), and tr_close() (detach, free) on every exit path. Nothing is pinned: all
 * kernel objects are held by fds and links, so even SIGKILL of iotrace frees them.
 */

/* How a stack's user frames were found. */
enum tr_uwalk {
	TR_UWALK_FP = 0,	/* frame pointers, walked in the probe (stops at code without) */
	TR_UWALK_CFI,		/* unwound from a copy with the CFI, cut short (copy too small) */
	TR_UWALK_CFI_END,	/* ... up to the outermost frame (_start, clone3's child) */
};

/* ustack_id of a stack unwound from a copy: TR_UCOPY_ID_BASE + its id (ucopy.h) */
#define TR_UCOPY_ID_BASE (1 << 24)

struct tr_stack {
	int kind;		/* IT_STACK_ONCPU / IT_STACK_OFFCPU */
	uint32_t pid, tid;
	enum tl_state state;	/* off-CPU: the state while off */
	/* off-CPU io_wait / other_wait: what the wait was for (tl_io_kind, tl_other_kind, as
	 * the timeline's spans have it); 0 otherwise (lock_wait: see wt_kind_at) */
	unsigned wkind;
	uint64_t value;		/* samples (on-CPU) or ns (off-CPU) */
	uint64_t ts;		/* when it was taken (off-CPU: the switch back in) */
	/* the stacks' ids: within one run (tr_start to tr_start), equal ids of one pid mean
	 * equal frames, so a consumer can fold a stack once and count it by its ids */
	int32_t kstack_id, ustack_id;
	int nkern, nuser;	/* <0: unavailable (-errno) */
	enum tr_uwalk uwalk;
	/* how the user frames were found: AN_US_UNWOUND or AN_US_CUT_SHORT from a copy (as
	 * uwalk: whole or not), else why there was no copy to unwind */
	enum an_ustack ustack_how;
	uint64_t kips[127];
	uint64_t uips[127];
};

typedef void (*tr_stack_fn)(void *ctx, const struct tr_stack *s);

/*
 * A thread's exact totals as the kernel kept them (not rebuilt from transitions): the
 * cross-check of the timeline. Reported once per thread, at its exit (from tr_poll) or at
 * tr_stop for threads still alive then; state_ns sums to end_ts - start_ts.
 */
struct tr_thread_totals {
	uint32_t pid, tid;
	char comm[16];
	bool exited;
	uint64_t start_ts;	/* seeded (tr_start) or created */
	uint64_t end_ts;	/* exit, or tr_stop for a live thread */
	uint64_t state_ns[TL_NSTATES];
	uint64_t reads, bytes_read, ctx_switches;
	uint64_t stolen_ns;	/* of the on-CPU time, what the scheduler did not run it for */
};

typedef void (*tr_thread_fn)(void *ctx, const struct tr_thread_totals *t);

/*
 * Unwinds a user stack copy (sym_unwind's contract): regs (IT_UREGS, DWARF order), size
 * bytes of stack from regs[IT_UREG_SP]; fills ips leaf first, sets *complete and *top
 * (0, or the address no copy of the thread needs to go past) and, with nreads, the stack
 * words and registers that decided the frames (reads[IT_UMEMO_WORDS], *regmask; *nreads
 * = -1 when no it_umemo may stand for it); the frame count or -errno. Called from tr_poll/tr_stop as copies arrive, while the
 * process lives.
 */
typedef int (*tr_unwind_fn)(void *ctx, uint32_t pid, uint32_t tid, const uint64_t *regs,
			    const void *stack, size_t size, uint64_t *ips, int max,
			    bool *complete, uint64_t *top, uint16_t *reads, int *nreads,
			    uint32_t *regmask);

/*
 * Default on-CPU sampling frequency: a 0.5 s run gets ~500 samples a thread, enough for
 * the shape of its stacks (their size comes from the exact state totals, analysis.h);
 * a sample costs a copy of the stack's used part and its unwinding in user space.
 */
#define TR_SAMPLE_HZ 999

/* Defaults of tr_opts.ucopy_bytes / ucopy_offcpu_bps (see tr_opts) */
#define TR_UCOPY_BYTES IT_USTACK_MAX
#define TR_UCOPY_OFFCPU_BPS (16ull << 20)

struct tr_opts {
	bool verbose;		/* libbpf debug output */
	bool follow;		/* child processes join the target (procs strategy, trace --follow) */
	bool stacks;		/* off-CPU stacks at switch-out and on-CPU sampling */
	unsigned sample_hz;	/* on-CPU sampling frequency, 0: TR_SAMPLE_HZ */
	unsigned ringbuf_mb;	/* 0 = sized from the expected event rate */
	unsigned features_off;	/* enum it_feature parts the probes skip: make bench only */
	bool thread_hash;	/* threads' entries in the hash even where task storage
				 * works: make bench only (what task storage saves) */
	tr_stack_fn on_stack;	/* called from tr_poll/tr_stop for each stack record */
	void *stack_ctx;
	tr_thread_fn on_thread;	/* optional: kernel totals per thread (tests, cross-checks) */
	void *thread_ctx;
	/*
	 * With stacks and an unwinder: the probes copy the user registers and the top
	 * ucopy_bytes (0: TR_UCOPY_BYTES, at most IT_USTACK_MAX) of the user stack, which
	 * unwind turns into frames: at every on-CPU sample, and at switch-outs within
	 * ucopy_offcpu_bps bytes per second per CPU (0: TR_UCOPY_OFFCPU_BPS); the others keep
	 * the probe's frame-pointer walk. No unwinder: frame pointers only.
	 */
	tr_unwind_fn unwind;
	void *unwind_ctx;
	/*
	 * Optional, with unwind (its ctx): a process of the target was forked by ppid, or
	 * exec'd (ppid 0), at ts, as its record arrives, before any stack of it: a fork that
	 * never exec'd has its parent's mappings, and may be gone before its own are read.
	 */
	void (*proc_event)(void *ctx, uint32_t pid, uint32_t ppid, uint64_t ts);
	unsigned ucopy_bytes;
	uint64_t ucopy_offcpu_bps;
};

/* What the last run (tr_stop) lost or could not see, for reports and tests. */
struct tr_stats {
	uint64_t batches;	/* transition batches streamed */
	uint64_t lost_batches;	/* ring buffer full: gaps the timeline was told about */
	uint64_t lost_records;	/* other records dropped for a full ring buffer */
	uint64_t threads_full;	/* target threads not tracked: threads map full */
	uint64_t inflight_full;	/* block / io_uring requests not tracked: map full */
	uint64_t stack_errors;	/* stacks not captured (collisions, no memory) */
	uint64_t pcache_folios;
	/* context switches the sched_switch tracepoint never showed (it skips some, e.g.
	 * away from a VM agent's thread): dated from sched_stat_runtime, or not at all */
	uint64_t switchin_inferred, switchin_unseen;
	/* user stack copies: made, their bytes, off-CPU ones left out for the byte budget,
	 * failed in the probe (unreadable stack, ring buffer full), not unwound in user space,
	 * and stack records whose copy never arrived */
	uint64_t ucopies, ucopy_bytes, ucopy_skipped, ucopy_failed, unwind_failed, ucopy_lost;
	uint64_t ucopy_reused;	/* switch-outs whose stack was unwound before (no copy) */
	bool ucopy_ok;		/* copies were on (an unwinder, and the kernel's helpers) */
	unsigned ringbuf_mb;
	bool pcache_ok, block_ok, uring_ok, oncpu_ok; /* probe groups attached */
};

/*
 * A process of the target as the probes and /proc saw it over the last run (tr_stop to the
 * next tr_start): the one traced, and with follow every descendant. Times are the probes'
 * clock.
 */
struct tr_process {
	uint32_t pid, ppid;
	uint64_t start_ts;	/* fork, or tr_start for one that existed before (seeded) */
	uint64_t end_ts;	/* its last thread's exit; 0 while it runs (or its exit was lost) */
	int status;		/* at its end: as wait(2) reports it; -1 unknown */
	bool seeded;		/* it existed before the trace began */
	bool setuid;		/* its program runs with another effective uid than its user */
	char comm[16];
	char cmdline[IT_ARGS_LEN]; /* argv joined by spaces (cut at IT_ARGS_LEN bytes) */
};

/*
 * A socket a process of the target waited on over the last run, as the probes counted it
 * (it_sock_key: who waited and the socket's ends; it_sock_wait: how long).
 */
struct tr_sock {
	struct it_sock_key k;
	struct it_sock_wait w;
};

struct tr;

/* Load and attach everything. On failure returns -errno and writes a user-facing reason
 * ("tracepoint sched_switch: Operation not permitted ...") into err. */
int tr_open(const struct tr_opts *o, struct tr **out, char *err, size_t errlen);
/* Begin a run: clear per-run state, make pid (and, for -p, all its current threads) the
 * target; from here on events feed tl. */
int tr_start(struct tr *t, pid_t pid, struct tl_timeline *tl);

/* Per-run options of tr_start_opts(); all zero is tr_start(). */
struct tr_start_opts {
	/*
	 * Id (the inode number of its directory) of a blkio (v1) or io (v2) cgroup the target
	 * is alone in, as under --throttle; 0 = none. Block requests carrying that cgroup's
	 * bios are the target's whoever submits them: blk-throttle dispatches the bios it held
	 * from a kworker. Never set it for a cgroup shared with other work (the root).
	 */
	uint64_t own_cgroup_id;
	/*
	 * Optional: told of every thread's creation and exit and every futex wait that blocked
	 * (user/model/waits.h), to decide what each wait was for and label the timeline.
	 */
	struct wt_set *waits;
	/*
	 * Optional: told that a process of the target lives (as its records arrive, so
	 * recently): a thread of it was created, or it exec'd (exec true: a new program). For
	 * what must be read from /proc while it lives: a short program has exited by the
	 * time its waits are decided and their futex words named.
	 */
	void (*alive)(void *ctx, uint32_t pid, bool exec);
	void *alive_ctx;
};
int tr_start_opts(struct tr *t, pid_t pid, struct tl_timeline *tl, const struct tr_start_opts *so);
/* Consume ring-buffer records for up to timeout_ms; >= 0 records or -errno. */
int tr_poll(struct tr *t, int timeout_ms);
/* End the run: final drain, flush pending per-thread batches from the threads map, close
 * each thread's data into tl, fill counters; *last_ts = last event time seen (for the window). */
int tr_stop(struct tr *t, struct an_counters *c, uint64_t *last_ts);
void tr_close(struct tr *t);
/* The processes of the last run, in order of appearance (valid after tr_stop until the
 * next tr_start or tr_close). */
const struct tr_process *tr_processes(const struct tr *t, size_t *n);
/* The sockets waited on in the last run (valid as tr_processes). */
const struct tr_sock *tr_socks(const struct tr *t, size_t *n);
/* Counts of the last finished run (valid after tr_stop). */
void tr_last_stats(const struct tr *t, struct tr_stats *st);

/* The probes' clock (CLOCK_MONOTONIC, as bpf_ktime_get_ns). */
uint64_t tr_now(void);
/*
 * Events reach the timeline late by a bound: a running thread's batch is streamed once
 * its oldest transition is TR_BATCH_MAX_AGE_NS old (checked on the scheduler tick), a
 * thread going off CPU streams its batch at once, and tr_poll drains every few ms.
 * TR_EVENT_DELAY_NS is that bound with a wide margin: time older than now - it is final
 * (what the session folds, tl_cut); anything arriving later still is counted as late.
 */
#define TR_BATCH_MAX_AGE_NS (50ULL * 1000 * 1000)
#define TR_EVENT_DELAY_NS (250ULL * 1000 * 1000)

/* Probe-by-probe attachability report for `iotrace check`: one line per probe. */
struct tr_probe_status {
	char name[48];
	bool required;
	int err;		/* 0 ok, else -errno (-ENOENT: the kernel has no such tracepoint) */
	char desc[64];		/* what it is for, in plain words */
};
int tr_probe_check(struct tr_probe_status *st, size_t max, size_t *n);
/* Can the probes measure the steal of each thread here (stolen_ns; see bpf steal_ckpt)? */
bool tr_steal_measurable(void);
/* libbpf's own messages on stderr (tr_open sets it from tr_opts.verbose). */
void tr_set_verbose(bool verbose);

#endif /* IOTRACE_TRACER_H */
