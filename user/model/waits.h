/* waits.h - what each wait was for: read kinds, futex waits classified by lock, per-lock figures. */
#ifndef IOTRACE_WAITS_H
#define IOTRACE_WAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

/*
 * Two states lump together things a person must tell apart: io_cpu/io_wait (a disk read
 * or a pipe or socket waiting on someone else) and lock_wait (contention, or a thread
 * merely waiting to be joined or to be given work). The probes tell the read kinds apart
 * themselves (the timeline carries them per span); futex waits arrive as records (which
 * word, which call, who woke it) and this module decides what each one was, labels the
 * timeline's lock_wait spans with it, and sums the waits by lock.
 *
 * Kind 0 on a span means "not known" (reports count it as "other").
 */

/* Counts of each list's values, 0 ("not known") included (timeline.h's enums). */
#define WT_NIO (0 TL_IO_KINDS(WT_COUNT) + 1)
#define WT_NLK (0 TL_LOCK_KINDS(WT_COUNT) + 1)
#define WT_COUNT(name, str) +1

/* "file", "pipe", ... / "mutex", "gil", ...; 0 is "other" (how reports count it). */
const char *wt_io_kind_name(unsigned k);
const char *wt_lock_kind_name(unsigned k);
/* Inverse (for loaders): the kind (never 0), or -EINVAL. */
int wt_io_kind_from_name(const char *name);
int wt_lock_kind_from_name(const char *name);
/*
 * The reported splits have one slot per name of kinds.h, in its order, "not known" counted
 * with "other": slot of kind k, 0 .. WT_NIO_SLOTS - 1 (resp. WT_NLK_SLOTS - 1).
 */
#define WT_NIO_SLOTS (WT_NIO - 1)
#define WT_NLK_SLOTS (WT_NLK - 1)
static inline unsigned wt_io_slot(unsigned k)
{
	return (k == TL_IOK_NONE || k >= WT_NIO ? TL_IOK_OTHER : k) - 1;
}
static inline unsigned wt_lock_slot(unsigned k)
{
	return (k == TL_LK_NONE || k >= WT_NLK ? TL_LK_OTHER : k) - 1;
}
/*
 * other_wait's split: one slot per name of TL_OTHER_KINDS, then "other" (every other sleep:
 * nanosleep, page faults, syscalls not named), WT_NOW_SLOTS in all.
 */
#define WT_NOW (0 TL_OTHER_KINDS(WT_COUNT) + 1)
#define WT_NOW_SLOTS WT_NOW
static inline unsigned wt_other_slot(unsigned k)
{
	return k == TL_OWK_NONE || k >= WT_NOW ? WT_NOW_SLOTS - 1 : k - 1;
}
/*
 * poll_wait's split: what ended the wait (kinds.h): `pipe` and `socket` (the read after it
 * was on one: a peer's data), `timeout`, `own_process`, then "other" (nothing named: no
 * such read came, a poll that went off CPU more than once before its last stretch),
 * WT_NPW_SLOTS in all.
 */
enum wt_poll_slot {
	WT_PW_PIPE,
	WT_PW_SOCKET,
	WT_PW_TIMEOUT,
	WT_PW_OWN_PROCESS,
	WT_PW_OTHER,
	WT_NPW_SLOTS,
};
static inline unsigned wt_poll_slot(unsigned k)
{
	return k == TL_IOK_PIPE		? WT_PW_PIPE
	       : k == TL_IOK_SOCKET	? WT_PW_SOCKET
	       : k == TL_PK_TIMEOUT	? WT_PW_TIMEOUT
	       : k == TL_PK_OWN_PROCESS ? WT_PW_OWN_PROCESS
					: WT_PW_OTHER;
}

/*
 * A waker that exits right after the wake-up ended a join: a runtime's own join (CPython's
 * Thread.join() waits on a lock the finishing thread releases as it ends). Unless the waker
 * is its process's main thread, or the waiter ended first: a program's last act,
 * signalling its idle pool and exiting, is no join. Nor when the waker went on to take or
 * wait for input (a read begun, a poll wait) before its exit: it was not finishing but
 * serving, and ended later for another reason (multiprocessing.Pool's result thread hands
 * main each result, then reads its pipe until the pool closes, often without blocking:
 * the pool's sentinel is there already; main's 105-122 ms in map() read as join).
 * "Right after" is measured in the waker's own CPU time when the probes know it: a
 * finishing CPython thread used 10-47 us of CPU between waking main's join() and its exit,
 * a new thread that signals Thread.start() and goes on hashing 16-24 ms. The wall time
 * between them is no measure on a loaded machine (the finishing thread competes for a CPU
 * with the thread it woke: a 5 ms wall bound once made 7.4 ms of main's joins condvar) and
 * only bounds it. Without the CPU times (the waker not a thread of the target), 5 ms of
 * wall time.
 */
#define WT_JOIN_EXIT_CPU_NS (2ull * 1000 * 1000)
#define WT_JOIN_EXIT_WALL_NS (100ull * 1000 * 1000)
#define WT_JOIN_EXIT_NS (5ull * 1000 * 1000)

/* One futex call that blocked (the probes' BEGIN and END records). */
struct wt_wait {
	uint32_t pid, tid;
	uint64_t uaddr;		/* futex word; 0 for futex_waitv */
	uint32_t op, val;	/* futex op (flags included), expected value */
	uint64_t begin_ts;	/* first switch-out inside the call */
	uint64_t end_ts;	/* return; 0 while open */
	uint64_t lock_ns;	/* its lock_wait time (probes' exact totals); open: measured later */
	uint64_t wake_ts;
	uint32_t waker;		/* tid that woke it (sched_waking), 0 none */
	uint64_t waker_oncpu;	/* the waker's on-CPU time (compute + io_cpu) then, 0 unknown */
	int32_t ret;		/* return value (-ETIMEDOUT: nobody woke it) */
	int32_t kstack_id, ustack_id; /* off-CPU stacks at its last switch-out, <0 none */
};

/* A lock: one futex word of one process, with every wait on it. */
struct wt_lock {
	uint32_t pid;
	uint64_t addr;
	char where[128];	/* "g_lock", "_PyRuntime+0x1a8", "[heap]", "[anon]", ... "" unknown */
	enum tl_lock_kind kind;	/* the kind most of its wait time had */
	uint64_t wait_ns;	/* lock_wait time of its waits */
	uint64_t waits;
	uint32_t *waiters, *wakers; /* distinct tids, in order of first appearance */
	size_t nwaiters, nwakers;
	char *stack;		/* its off-CPU stack with the most wait time ("a;b;c"), or NULL
				 * (stacks off, or none seen) */
	uint64_t kind_ns[WT_NLK], kind_waits[WT_NLK]; /* by the kind of each wait */
	/* private */
	size_t capwaiters, capwakers;
	struct wt_lstack *stacks;
	size_t nstacks, capstacks;
};

/*
 * Names the futex word addr of process pid while it lives (symbol+offset, or the mapping:
 * "[heap]", "[stack]", "[anon]"): where (NUL-terminated). 0 or -errno (where left "").
 */
typedef int (*wt_name_fn)(void *ctx, uint32_t pid, uint64_t addr, char *where, size_t len);

struct wt_set;

struct wt_set *wt_new(void);
void wt_free(struct wt_set *s);
/* Called once per new (pid, addr), at its first wait (while the process is alive). */
void wt_set_namer(struct wt_set *s, wt_name_fn fn, void *ctx);

/* Events, in arrival order. 0 or -ENOMEM. */
int wt_thread_new(struct wt_set *s, uint32_t pid, uint32_t tid, uint64_t child_tid, uint64_t ts);
/* oncpu_ns: its on-CPU time (compute + io_cpu) over its life, 0 if not known. */
int wt_thread_exit(struct wt_set *s, uint32_t tid, uint64_t ts, uint64_t oncpu_ns);
/*
 * tid (exited) last took or waited for input at ts (began a read, or a poll wait: not a
 * futex wait, not other_wait, not runnable), 0 never: call it after wt_thread_exit.
 */
void wt_thread_input_wait(struct wt_set *s, uint32_t tid, uint64_t ts);
int wt_begin(struct wt_set *s, uint32_t pid, uint32_t tid, uint64_t uaddr, uint32_t op,
	     uint32_t val, uint64_t ts);
/* The wait of w->tid begun at w->begin_ts ended (an END without its BEGIN starts one). */
int wt_end(struct wt_set *s, const struct wt_wait *w);

/*
 * The wait's kind: join (its word is a created thread's clear_child_tid: pthread_join),
 * gil (the word lies in CPython's _PyRuntime), mutex (glibc's contended-mutex wait, a PI
 * futex), join (woken by a thread, not its process's main one, that exited right after
 * while the waiter lived on: see WT_JOIN_EXIT_*), condvar (any other wait to be signalled),
 * other (futex_waitv, other calls). An open wait is judged on what is known so far.
 */
enum tl_lock_kind wt_classify(const struct wt_set *s, const struct wt_wait *w);

/*
 * Decide and label every wait that ended before upto (its lock_wait transitions in tl
 * take its kind), sum it into its lock and forget it; label the waits still open with
 * what is known so far. Call it before tl_cut(upto) (and, to bound memory, now and then
 * with upto = what the tracer says is final). 0 or -ENOMEM.
 */
int wt_flush(struct wt_set *s, struct tl_timeline *tl, uint64_t upto);
/*
 * After tl_finish: the waits still open are measured from the spans and summed too; the
 * locks, largest wait first, move to *out (the caller's, wt_locks_free). 0 or -ENOMEM.
 */
int wt_take_locks(struct wt_set *s, const struct tl_timeline *tl, struct wt_lock **out,
		  size_t *n);
/*
 * An off-CPU stack (folded frames) of tid, taken when it got back on CPU at ts after ns in
 * lock_wait: counted to the lock of the wait it was in, if any. 0 or -ENOMEM.
 */
int wt_stack(struct wt_set *s, uint32_t tid, uint64_t ts, const char *frames, uint64_t ns);
/*
 * The kind of the futex wait tid was in at ts (an off-CPU stack taken when it got back on
 * CPU at ts, matched as wt_stack matches it), as wt_flush(upto) is about to decide it:
 * the kind (TL_LK_NONE when no wait of tid holds ts), or -EAGAIN while that wait is still
 * open or ends at or after upto (its kind may change; ask again at a later flush), or when
 * no wait holds ts yet and upto is not UINT64_MAX (its start may still come). With upto
 * UINT64_MAX (the last flush) every wait is decided: an open one as wt_take_locks sums it.
 */
int wt_kind_at(const struct wt_set *s, uint32_t tid, uint64_t ts, uint64_t upto);
/* Add tid to a list of distinct tids (waiters, wakers; loaders too): 0 or -ENOMEM. */
int wt_lock_add_tid(uint32_t **v, size_t *n, size_t *cap, uint32_t tid);
void wt_locks_free(struct wt_lock *v, size_t n);

#endif /* IOTRACE_WAITS_H */
