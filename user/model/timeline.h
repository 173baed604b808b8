/* timeline.h - per-thread state intervals built from transition events; knows nothing of BPF. */
#ifndef IOTRACE_TIMELINE_H
#define IOTRACE_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "kinds.h"
#include "states.h"

/*
 * The timeline module owns the exact time model of docs/time-model.md: every nanosecond of every
 * thread of the target, over the run window, is in exactly one state. Its input is a
 * stream of events (thread appeared, state transition, thread exited, I/O request
 * began/ended) that may arrive slightly out of order across CPUs; tl_finish() sorts them
 * per thread, closes open intervals at the window end and clips everything to the
 * window. Unit tests feed it synthetic events; the tracer feeds it decoded probe records.
 */

/* TL_COMPUTE = 0, ... in the order of states.h, which the probes share */
enum tl_state {
#define TL_STATE_ENUM(name, str) TL_##name,
	TL_STATES(TL_STATE_ENUM)
#undef TL_STATE_ENUM
	TL_NSTATES,
};

/* JSON/state names of states.h: "compute", "io_cpu", ... ("?" when out of range) */
const char *tl_state_name(enum tl_state s);
/* Inverse of tl_state_name (for loaders): the state, or -EINVAL. */
int tl_state_from_name(const char *name);
static inline int tl_state_on_cpu(enum tl_state s)
{
	return s == TL_COMPUTE || s == TL_IO_CPU;
}

/*
 * What a wait was for (kinds.h): a span of io_cpu or io_wait carries an io kind (what the
 * read read from), a span of lock_wait a lock kind, a span of other_wait an other kind (a
 * child process), a span of poll_wait the io kind of the thread's next read when that was a
 * pipe or a socket (what it polled for, labelled once the read came: tl_label), or a poll
 * kind (tl_poll_kind: its timeout, or its own process, ended it); 0 (TL_IOK_NONE,
 * TL_LK_NONE, TL_OWK_NONE) is "not known" (or, for other_wait and poll_wait, nothing
 * named), and any other state carries 0.
 */
enum tl_io_kind {
	TL_IOK_NONE = 0,
#define TL_IOK_ENUM(name, str) TL_IOK_##name,
	TL_IO_KINDS(TL_IOK_ENUM)
#undef TL_IOK_ENUM
};
enum tl_lock_kind {
	TL_LK_NONE = 0,
#define TL_LK_ENUM(name, str) TL_LK_##name,
	TL_LOCK_KINDS(TL_LK_ENUM)
#undef TL_LK_ENUM
};
enum tl_other_kind {
	TL_OWK_NONE = 0,
#define TL_OWK_ENUM(name, str) TL_OWK_##name,
	TL_OTHER_KINDS(TL_OWK_ENUM)
#undef TL_OWK_ENUM
};
/* poll_wait's kinds besides TL_IOK_PIPE and TL_IOK_SOCKET (kinds.h), numbered after the io kinds */
enum tl_poll_kind {
	TL_PK_BASE = TL_IOK_OTHER,
#define TL_PK_ENUM(name, str) TL_PK_##name,
	TL_POLL_KINDS(TL_PK_ENUM)
#undef TL_PK_ENUM
	TL_PK_END,
};

/*
 * What bounded the wall (time-model.md, "Bounds"): every instant of the window goes to the
 * first of these that holds. X(NAME, "name") in priority order; the names are summary.json's
 * keys of bound_ns.
 */
#define TL_BOUNDS(X)                                                                       \
	X(CPU, "cpu")		/* some thread in compute */                               \
	X(READ_CPU, "read_cpu")	/* else a thread on CPU in a read: copying, filling the cache */ \
	X(DEVICE, "device")	/* else storage I/O under way: io_wait on a file, a request */ \
	X(LOCK, "lock")		/* else a thread waiting on a contended lock: mutex, GIL */  \
	X(CPU_WAIT, "cpu_wait")	/* else a thread runnable, waiting for a CPU */            \
	X(PEER, "peer")		/* else a thread waiting on a pipe, socket or child process */ \
	X(IDLE, "idle")		/* else: sleep, poll, join, condvar */
enum tl_bound {
#define TL_BOUND_ENUM(name, str) TL_B_##name,
	TL_BOUNDS(TL_BOUND_ENUM)
#undef TL_BOUND_ENUM
	TL_NBOUNDS,
};

/*
 * Why CPUs went unused ("Capacity"): of the CPUs no thread of the run held at an instant,
 * as many as there were runnable threads went unused for a slow wake-up, then as many as
 * threads waiting on a contended lock, then on storage; the rest had no thread with work.
 * X(NAME, "name"): summary.json's keys of unused_cpu_ns.
 */
#define TL_UNUSED(X)                                                                       \
	X(LOCK, "lock")		/* threads that could have run waited on a mutex or the GIL */ \
	X(DEVICE, "device")	/* ... on storage */                                       \
	X(WAKEUP, "wakeup")	/* ... were runnable while a CPU was idle */               \
	X(SERIAL, "serial")	/* no thread had work: less parallel work than CPUs */
enum tl_unused {
#define TL_UNUSED_ENUM(name, str) TL_U_##name,
	TL_UNUSED(TL_UNUSED_ENUM)
#undef TL_UNUSED_ENUM
	TL_NUNUSED,
};

/* "cpu", ... / "lock", ... ("?" when out of range) */
const char *tl_bound_name(unsigned b);
const char *tl_unused_name(unsigned u);

struct tl_interval {
	uint64_t start, end; /* [start, end) ns */
};

/* Room for every kind value of a span (both lists of kinds.h, and 0). */
#define TL_NKINDS 8
_Static_assert(TL_PK_END <= TL_NKINDS, "poll kinds past a span's kind room");

struct tl_span {
	uint64_t start, end;
	enum tl_state state;
	uint8_t kind;		/* enum tl_io_kind or tl_lock_kind, by state (see above) */
};

/*
 * The measures of the window's unions (docs/time-model.md's U_blocked, U_busy, U_io, U_cpu) and the
 * concurrency histogram, computed by tl_finish (and tl_cut, for what it folds) from the
 * exact spans before any downsampling. They add up over disjoint stretches of time, which
 * is what lets a long run be folded as it goes.
 */
#define TL_MAX_K 256
struct tl_measure {
	uint64_t blocked;	/* some thread in io_wait */
	uint64_t blocked_busy;	/* ... while some thread is on CPU */
	uint64_t io;		/* some I/O under way: a thread in io_cpu/io_wait, an io_uring
				 * request in flight, or a block request at the device */
	uint64_t io_computing;	/* ... while some thread is in compute */
	/* of io: only the device busy for the run (readahead, throttled dispatch), no thread
	 * in a read and no request in flight; and that while some thread computed */
	uint64_t io_block_only, io_block_only_computing;
	/* of io without compute (exposed): the only I/O under way was threads waiting on
	 * pipes, sockets or other non-storage files (another process's work, not the disk) */
	uint64_t io_peer_exposed;
	uint64_t computing;	/* some thread in compute */
	uint64_t oncpu[TL_MAX_K + 1]; /* ns with exactly k threads on CPU (last bin: >= k) */
	/* the wall, each instant to the first bound that holds: sums to the window */
	uint64_t bound[TL_NBOUNDS];
	/*
	 * Capacity (with ncpu set: tl_set_ncpu): CPU-ns no thread of the run used, by why;
	 * with oncpu_ns it sums to ncpu x the window (while never more threads were on CPU
	 * than CPUs: the histogram's last bin says). All 0 when ncpu is 0.
	 */
	unsigned ncpu;
	uint64_t oncpu_ns;	/* thread-ns on CPU (compute + io_cpu) */
	uint64_t unused[TL_NUNUSED];
};

struct tl_thread {
	uint32_t pid, tid;
	char comm[16];
	char role[32];		/* "main", "worker 3", "io-wq worker", ... (set by the caller) */
	uint64_t start, end;	/* lifetime clipped to the window */
	struct tl_span *spans;	/* sorted, contiguous from start to end after tl_finish */
	size_t nspans;
	uint64_t state_ns[TL_NSTATES];	/* exact, even where spans are downsampled */
	/* of state_ns, by what the wait was for (tl_span.kind; 0: not known), exact too */
	uint64_t kind_ns[TL_NSTATES][TL_NKINDS];
	uint64_t switches;	/* on CPU -> off CPU state changes (exact) */
	uint64_t reads, bytes_read, ctx_switches; /* counters the caller attaches */
	/* ... bytes_read by what was read (kind - 1: file, pipe, socket, other; not known
	 * counted as other), summing to bytes_read */
	uint64_t bytes_read_by_kind[TL_IOK_OTHER];
	uint64_t bytes_read_direct; /* ... of the file's, those read O_DIRECT (page cache bypassed) */
	uint64_t stolen_ns;	/* ... and the on-CPU time the vCPU was stolen (see an_thread) */
	/*
	 * After tl_finish: the parts of [start, end) whose transitions were lost (tl_gap),
	 * normalized. The spans there carry the last state seen before the gap, so the
	 * states still sum to the lifetime; gap_ns says how much of it is uncertain.
	 */
	struct tl_interval *gaps;
	size_t ngaps;
	uint64_t gap_ns;
	/* private to user/model/timeline*.c (timeline_int.h) */
	struct tl_raw *raw;
	size_t nraw, capraw;
	uint64_t create_ts, exit_ts;
	int init_state;		/* -1 until tl_thread_add gave a birth time and state */
	int has_exit;
	size_t prev;		/* reused tid: index + 1 of the earlier thread, 0 if none */
	/* what tl_cut folded: spans (downsampled once over budget) and exact figures */
	struct tl_span *hist;
	size_t nhist, caphist;
	uint64_t hist_state_ns[TL_NSTATES];
	uint64_t hist_kind_ns[TL_NSTATES][TL_NKINDS];
	uint64_t hist_start, hist_end, hist_switches;
	int hist_last;		/* state of the last folded span, -1 before any */
};

struct tl_timeline {
	uint64_t win_start, win_end;
	struct tl_thread *threads;
	size_t nthreads, capthreads;
	/* I/O requests in flight that no thread is blocked on (io_uring), as intervals */
	struct tl_interval *io;
	size_t nio, capio;
	struct tl_ioreq *open_io;
	size_t nopen_io, capopen_io;
	/*
	 * The device busy for the run: the union of its block requests (tl_block), kept once
	 * measured, for drawing and export; normalized, downsampled like the I/O intervals
	 */
	struct tl_interval *dev;
	size_t ndev, capdev;
	uint64_t gaps_ns;	/* thread-time lost batches covered (tl_gap), after tl_finish */
	/* I/O ends with no begin (dropped) and begins with no end (run to the window end) */
	uint64_t io_unmatched;
	int finished;
	/* exact figures of the whole window (after tl_finish) */
	struct tl_measure measure;
	/*
	 * Memory stays bounded on long runs: tl_cut folds everything before an instant into
	 * `measure`, the threads' exact totals and downsampled spans. After tl_finish, the
	 * spans and I/O intervals before exact_from are downsampled to bins of resolution_ns
	 * (each bin drawn in the state that held most of it) and the rest are exact; with
	 * resolution_ns 0 every span is exact (exact_from == win_start). Only drawing reads
	 * spans: every figure comes from `measure` and the threads' state_ns/switches.
	 */
	uint64_t exact_from, resolution_ns;
	size_t span_budget;	/* most spans kept (tl_set_span_budget), 0 = the default */
	uint64_t cut_at;	/* folded up to here (0: never cut) */
	/* events that arrived for time already folded: dropped or clamped, and counted */
	uint64_t late_events;
	/* private to user/model/timeline*.c (timeline_int.h) */
	struct tl_gaprec *gapraw;
	size_t ngapraw, capgapraw;
	uint32_t *tidx;		/* open-addressing tid -> index + 1 */
	size_t tidx_cap;
	size_t last;		/* index of the last thread looked up (events come in runs) */
	int err;		/* first error of a void call (tl_gap), returned by tl_finish */
	struct tl_interval *hist_io;
	size_t nhist_io, caphist_io;
	/* block requests (tl_block) not measured yet: into dev as tl_cut and tl_finish sweep */
	struct tl_interval *blk;
	size_t nblk, capblk;
};

struct tl_timeline *tl_new(void);
void tl_free(struct tl_timeline *tl);

/*
 * A thread exists from ts on, in state `state` (a new thread starts runnable or in
 * compute; a thread seeded at attach time is in whatever state the caller knows).
 * Returns the thread, or NULL on ENOMEM (or EINVAL after tl_finish). Adding a known tid
 * again updates pid/comm only, except that a thread first met through tl_transition,
 * tl_thread_exit or tl_gap (its creation record arrived late) takes ts/state as its birth.
 * The pointer stays valid until the next call that adds a thread: keep the tid, not it.
 *
 * Ordering: a thread's events are sorted by time (stably) in tl_finish; it starts at its
 * earliest event (birth or transition) and ends at its exit or the window end; transitions
 * after its exit are ignored. A tid the kernel reused (tl_thread_add at or after the known
 * thread's exit) starts a new entry; tl_thread_find then returns the newest, and events
 * older than its birth still go to the earlier one.
 */
struct tl_thread *tl_thread_add(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t ts,
				enum tl_state state, const char *comm);
struct tl_thread *tl_thread_find(struct tl_timeline *tl, uint32_t tid);
/* tid entered `state` at ts; an unknown tid is added first. 0, -ENOMEM, or -EINVAL after
 * tl_finish. */
int tl_transition(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t ts,
		  enum tl_state state);
/* The same, with what the wait is for (a tl_io_kind or tl_lock_kind, by state). */
int tl_transition_kind(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t ts,
		       enum tl_state state, unsigned kind);
int tl_thread_exit(struct tl_timeline *tl, uint32_t tid, uint64_t ts, const char *comm);
/*
 * What tid's waits in `state` between from and to (inclusive) were for, decided once the
 * transitions arrived (a futex wait's kind: user/model/waits.c): their kind becomes kind.
 * Time already folded (tl_cut) keeps the kind it had then.
 */
void tl_label(struct tl_timeline *tl, uint32_t tid, uint64_t from, uint64_t to,
	      enum tl_state state, unsigned kind);
/*
 * An I/O request (e.g. io_uring SQE) identified by id is outstanding from begin to end.
 * Ids may be reused once a request ended; begin/end are paired in time order in
 * tl_finish (an end and a begin of one id at the same ns: the end closes the older one).
 */
int tl_io_begin(struct tl_timeline *tl, uint64_t id, uint64_t ts);
int tl_io_end(struct tl_timeline *tl, uint64_t id, uint64_t ts);
/*
 * A block request issued on the run's behalf was at the device from start to end (known
 * once it completed: one that started before the last cut counts from the cut on). The
 * bounds count it as storage I/O under way.
 */
int tl_block(struct tl_timeline *tl, uint64_t start, uint64_t end);
/* The machine's CPUs, for the capacity figures (measure.unused): before the first tl_cut. */
void tl_set_ncpu(struct tl_timeline *tl, unsigned ncpu);
/* Record that the tid's transitions between from and to were lost. */
void tl_gap(struct tl_timeline *tl, uint32_t tid, uint64_t from, uint64_t to);
/*
 * ... but how long the thread spent in each state meanwhile is known (ns[], summing to
 * to - from): the stretch is filled with one span per state, `cur` (the state it was in
 * at from) first and the rest in state order, so the states stay exact while the order
 * inside the gap, which was lost, stays a gap. 0, -EINVAL (ns does not sum to the
 * stretch) or -ENOMEM.
 */
int tl_gap_fill(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t from,
		uint64_t to, enum tl_state cur, const uint64_t ns[TL_NSTATES]);
/*
 * Sort, build spans, clip to [win_start, win_end), compute `measure`. 0 or -ENOMEM /
 * -EINVAL. Once only: the raw events are freed. A thread entirely outside the window keeps
 * start == end, no spans. Adjacent spans of one state are merged, so every exact span
 * boundary is a state change. Over the span budget, spans are downsampled (see exact_from).
 */
int tl_finish(struct tl_timeline *tl, uint64_t win_start, uint64_t win_end);

/*
 * Fold everything before `upto` (window starting at win_start, as tl_finish will be given)
 * into exact figures and spans kept within the span budget, so that a long run needs
 * memory for the recent events only. The caller promises that no event older than upto
 * is still to come: one that does is counted in late_events (a transition is dropped, a
 * birth, exit or I/O edge is moved to upto). 0, -ENOMEM or -EINVAL (finished, upto not
 * after the last cut or the window start).
 */
int tl_cut(struct tl_timeline *tl, uint64_t win_start, uint64_t upto);
/* Events held and not folded yet (what tl_cut frees). */
size_t tl_pending(const struct tl_timeline *tl);
/* Keep at most about n spans (over all threads) for drawing; the default is
 * TL_SPAN_BUDGET. Downsampling never changes a figure, only the spans. */
#define TL_SPAN_BUDGET (1u << 19)
void tl_set_span_budget(struct tl_timeline *tl, size_t n);

/* ---- interval arithmetic (sets of [start,end) intervals) ---- */

/* Sort and merge in place (overlapping and touching merge, empty dropped); new count. */
size_t tl_iv_normalize(struct tl_interval *iv, size_t n);
uint64_t tl_iv_length(const struct tl_interval *iv, size_t n); /* of a normalized set */
/* |a ∩ b| for normalized sets. */
uint64_t tl_iv_intersect_len(const struct tl_interval *a, size_t na, const struct tl_interval *b,
			     size_t nb);
/* In a tl_union_states mask: also the instants an I/O request (tl_io_*) is in flight. */
#define TL_MASK_IO (1u << TL_NSTATES)
/*
 * Instants (of the window) where at least one thread is in a state of `mask`
 * (bit i = state i), as a normalized set in *out (malloc'd; NULL when empty). Returns
 * count or -ENOMEM (-EINVAL before tl_finish).
 */
long tl_union_states(const struct tl_timeline *tl, unsigned mask, struct tl_interval **out);
/* hist[k] = ns of the window with exactly k threads on CPU, k = 0..maxk (last bin = >=maxk).
 * hist has maxk + 1 entries and sums to the window. 0 or -ENOMEM / -EINVAL. */
int tl_concurrency(const struct tl_timeline *tl, uint64_t *hist, unsigned maxk);

/*
 * The sweep behind the unions and the histogram (over the spans, downsampled or not: for
 * drawing; the exact figures are tl->measure), for callers that need several figures
 * in one pass: fn is called for consecutive segments [t0, t1) covering the whole window,
 * with nstate[s] = the number of threads in state s during the segment (TL_NCOUNT
 * entries: the states, then the counts below) and io's TL_IO_REQ bit set when an I/O
 * request (tl_io_*) is in flight, TL_IO_BLOCK when a block request (tl_block) is (the
 * sweeps of tl_cut and tl_finish only: the timeline keeps no block requests once
 * measured). O(spans * log threads). 0 or -ENOMEM / -EINVAL.
 */
#define TL_N_IO_WAIT_PEER TL_NSTATES	/* of io_wait: on a pipe, socket or other: not storage */
#define TL_N_LOCK_CONTENDED (TL_NSTATES + 1) /* of lock_wait: a mutex or the GIL */
#define TL_N_CHILD_WAIT (TL_NSTATES + 2) /* of other_wait: for a child process (wait4) */
#define TL_N_POLL_PEER (TL_NSTATES + 3)	/* of poll_wait: for a pipe or socket read next */
#define TL_NCOUNT (TL_NSTATES + 4)
#define TL_IO_REQ 1u
#define TL_IO_BLOCK 2u
typedef void (*tl_sweep_fn)(void *ctx, uint64_t t0, uint64_t t1, const uint32_t *nstate,
			    unsigned io);
int tl_sweep(const struct tl_timeline *tl, tl_sweep_fn fn, void *ctx);

#endif /* IOTRACE_TIMELINE_H */
