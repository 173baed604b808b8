/* waits.c - what each wait was for: futex waits classified and labelled, summed per lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline_int.h" /* tli_grow */
#include "waits.h"

/*
 * Futex calls, by the number in the low bits of op (the kernel's ABI): the ones a thread
 * waits in. glibc's contended mutex waits with FUTEX_WAIT and the value 2 (its "locked,
 * with waiters" state); condition variables, semaphores, barriers and pthread_join wait
 * with FUTEX_WAIT_BITSET; PI mutexes lock in the kernel.
 */
#define FUTEX_CMD_MASK 127
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_WAITV_OP 0xffffffffu /* the probes' mark for futex_waitv */
#define MUTEX_CONTENDED 2
#define ETIMEDOUT_ 110

static const char *const io_names[WT_NIO] = {
	[TL_IOK_NONE] = "other",
#define IO_NAME(name, str) [TL_IOK_##name] = str,
	TL_IO_KINDS(IO_NAME)
#undef IO_NAME
};

static const char *const lk_names[WT_NLK] = {
	[TL_LK_NONE] = "other",
#define LK_NAME(name, str) [TL_LK_##name] = str,
	TL_LOCK_KINDS(LK_NAME)
#undef LK_NAME
};

const char *wt_io_kind_name(unsigned k)
{
	return io_names[k < WT_NIO ? k : TL_IOK_NONE];
}

const char *wt_lock_kind_name(unsigned k)
{
	return lk_names[k < WT_NLK ? k : TL_LK_NONE];
}

int wt_io_kind_from_name(const char *name)
{
	for (unsigned i = 1; name && i < WT_NIO; i++)
		if (!strcmp(name, io_names[i]))
			return (int)i;
	return -EINVAL;
}

int wt_lock_kind_from_name(const char *name)
{
	for (unsigned i = 1; name && i < WT_NLK; i++)
		if (!strcmp(name, lk_names[i]))
			return (int)i;
	return -EINVAL;
}

/* A thread seen being created (its clear_child_tid) or exiting. */
struct wt_thr {
	uint32_t pid, tid;
	uint64_t child_tid, born;
	uint64_t exit_ts;	/* 0: alive */
	uint64_t exit_oncpu;	/* its on-CPU time over its life (at exit), 0 unknown */
	uint64_t input_ts;	/* it last took or waited for input (wt_thread_input_wait), 0 none */
};

/* Name of one futex word, asked once. */
struct wt_name {
	uint32_t pid;
	uint64_t addr;
	char where[128];
};

struct wt_lstack {
	char *frames;
	uint64_t ns;
};

struct wt_set {
	struct wt_thr *thr;	/* in arrival order; a reused tid appends a new entry */
	size_t nthr, capthr;
	struct wt_wait *w;	/* waits not summed yet (open, or ended after the last flush) */
	size_t nw, capw;
	struct wt_name *names;
	size_t nnames, capnames;
	struct wt_lock *locks;
	size_t nlocks, caplocks;
	wt_name_fn namer;
	void *namer_ctx;
};


struct wt_set *wt_new(void)
{
	return calloc(1, sizeof(struct wt_set));
}

void wt_locks_free(struct wt_lock *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].waiters);
		free(v[i].wakers);
		for (size_t j = 0; j < v[i].nstacks; j++)
			free(v[i].stacks[j].frames);
		free(v[i].stacks);
		free(v[i].stack);
	}
	free(v);
}

void wt_free(struct wt_set *s)
{
	if (!s)
		return;
	free(s->thr);
	free(s->w);
	free(s->names);
	wt_locks_free(s->locks, s->nlocks);
	free(s);
}

void wt_set_namer(struct wt_set *s, wt_name_fn fn, void *ctx)
{
	s->namer = fn;
	s->namer_ctx = ctx;
}

/* The newest entry of tid (threads are few: a linear scan from the end). */
static struct wt_thr *thr_find(const struct wt_set *s, uint32_t tid)
{
	for (size_t i = s->nthr; i-- > 0;)
		if (s->thr[i].tid == tid)
			return &s->thr[i];
	return NULL;
}

int wt_thread_new(struct wt_set *s, uint32_t pid, uint32_t tid, uint64_t child_tid, uint64_t ts)
{
	if (tli_grow((void **)&s->thr, &s->capthr, s->nthr + 1, sizeof(*s->thr)))
		return -ENOMEM;
	s->thr[s->nthr++] = (struct wt_thr){.pid = pid, .tid = tid, .child_tid = child_tid,
					    .born = ts};
	return 0;
}

int wt_thread_exit(struct wt_set *s, uint32_t tid, uint64_t ts, uint64_t oncpu_ns)
{
	struct wt_thr *t = thr_find(s, tid);

	if (!t) {
		/* a thread seeded at attach time: only its exit matters (it may wake a join) */
		if (wt_thread_new(s, 0, tid, 0, 0))
			return -ENOMEM;
		t = &s->thr[s->nthr - 1];
	}
	t->exit_ts = ts;
	t->exit_oncpu = oncpu_ns;
	return 0;
}

void wt_thread_input_wait(struct wt_set *s, uint32_t tid, uint64_t ts)
{
	struct wt_thr *t = thr_find(s, tid);

	if (t)
		t->input_ts = ts;
}

static const struct wt_name *name_of(const struct wt_set *s, uint32_t pid, uint64_t addr)
{
	for (size_t i = s->nnames; i-- > 0;)
		if (s->names[i].pid == pid && s->names[i].addr == addr)
			return &s->names[i];
	return NULL;
}

/* Ask the namer about a new word while its process lives. */
static int name_new(struct wt_set *s, uint32_t pid, uint64_t addr)
{
	struct wt_name *n;

	if (name_of(s, pid, addr))
		return 0;
	if (tli_grow((void **)&s->names, &s->capnames, s->nnames + 1, sizeof(*s->names)))
		return -ENOMEM;
	n = &s->names[s->nnames++];
	n->pid = pid;
	n->addr = addr;
	n->where[0] = 0;
	/* 0: futex_waitv, or a wait whose start was lost: nothing to name */
	if (addr && s->namer)
		s->namer(s->namer_ctx, pid, addr, n->where, sizeof(n->where));
	return 0;
}

static struct wt_wait *open_wait(struct wt_set *s, uint32_t tid)
{
	for (size_t i = s->nw; i-- > 0;)
		if (s->w[i].tid == tid && !s->w[i].end_ts)
			return &s->w[i];
	return NULL;
}

int wt_begin(struct wt_set *s, uint32_t pid, uint32_t tid, uint64_t uaddr, uint32_t op,
	     uint32_t val, uint64_t ts)
{
	struct wt_wait *w = open_wait(s, tid);

	/* an open wait of the thread whose END was lost: it ended by this one at the latest */
	if (w)
		w->end_ts = ts > w->begin_ts ? ts : w->begin_ts + 1;
	if (name_new(s, pid, uaddr))
		return -ENOMEM;
	if (tli_grow((void **)&s->w, &s->capw, s->nw + 1, sizeof(*s->w)))
		return -ENOMEM;
	s->w[s->nw++] = (struct wt_wait){.pid = pid, .tid = tid, .uaddr = uaddr, .op = op,
					 .val = val, .begin_ts = ts, .kstack_id = -1,
					 .ustack_id = -1};
	return 0;
}

int wt_end(struct wt_set *s, const struct wt_wait *e)
{
	struct wt_wait *w = open_wait(s, e->tid);

	if (!w || w->begin_ts != e->begin_ts) {
		/* its start was lost: which word is not known (other) */
		if (name_new(s, e->pid, e->uaddr))
			return -ENOMEM;
		if (tli_grow((void **)&s->w, &s->capw, s->nw + 1, sizeof(*s->w)))
			return -ENOMEM;
		w = &s->w[s->nw++];
		w->end_ts = 1; /* not an open wait: copied over whole below */
	}
	{
		/* the word and the call came with the start (the end record has none) */
		uint64_t uaddr = w->uaddr;
		uint32_t op = w->op, val = w->val;
		bool begun = w->begin_ts == e->begin_ts && w->tid == e->tid && !w->end_ts;

		*w = *e;
		if (begun) {
			w->uaddr = uaddr;
			w->op = op;
			w->val = val;
		}
	}
	if (!w->end_ts)
		w->end_ts = w->begin_ts + 1;
	return 0;
}

/* Is addr the clear_child_tid of a thread of pid that existed when the wait began? */
static bool is_child_tid(const struct wt_set *s, uint32_t pid, uint64_t addr, uint64_t ts)
{
	for (size_t i = 0; addr && i < s->nthr; i++) {
		const struct wt_thr *t = &s->thr[i];

		if (t->pid == pid && t->child_tid == addr && t->born <= ts)
			return true;
	}
	return false;
}

static bool in_pyruntime(const char *where)
{
	static const char sym[] = "_PyRuntime";
	size_t n = sizeof(sym) - 1;

	return !strncmp(where, sym, n) && (where[n] == 0 || where[n] == '+');
}

/* Did the waker exit right after the wake-up (WT_JOIN_EXIT_*)? */
static bool exited_after(const struct wt_wait *w, const struct wt_thr *waker)
{
	uint64_t wall;

	if (!waker->exit_ts || !w->wake_ts)
		return false;
	/* it took or waited for input after the wake-up: serving, not finishing */
	if (waker->input_ts > w->wake_ts)
		return false;
	/*
	 * wake_ts is sched_wakeup's, on the wakee's CPU: it can come after the exit of a waker
	 * that woke it at once and exited (seen: 1.7 us after CPython 3.13's finishing thread
	 * exited, all four of main's join() waits then condvar). That is no time at all.
	 */
	wall = waker->exit_ts > w->wake_ts ? waker->exit_ts - w->wake_ts : 0;
	if (w->waker_oncpu && waker->exit_oncpu >= w->waker_oncpu)
		return waker->exit_oncpu - w->waker_oncpu <= WT_JOIN_EXIT_CPU_NS &&
		       wall <= WT_JOIN_EXIT_WALL_NS;
	return wall <= WT_JOIN_EXIT_NS;
}

/* Was tid alive after ts (not exited, or exited later)? */
static bool outlives(const struct wt_set *s, uint32_t tid, uint64_t ts)
{
	const struct wt_thr *t = thr_find(s, tid);

	return !t || !t->exit_ts || t->exit_ts > ts;
}

enum tl_lock_kind wt_classify(const struct wt_set *s, const struct wt_wait *w)
{
	uint32_t cmd = w->op == FUTEX_WAITV_OP ? FUTEX_WAITV_OP : w->op & FUTEX_CMD_MASK;
	const struct wt_name *n = name_of(s, w->pid, w->uaddr);
	const struct wt_thr *waker;

	if (cmd == FUTEX_WAITV_OP)
		return TL_LK_OTHER;
	if (is_child_tid(s, w->pid, w->uaddr, w->begin_ts))
		return TL_LK_JOIN;
	if (n && in_pyruntime(n->where))
		return TL_LK_GIL;
	if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI ||
	    (cmd == FUTEX_WAIT && w->val == MUTEX_CONTENDED))
		return TL_LK_MUTEX;
	/*
	 * A runtime's join: the waker exits right after the wake-up and the waiter lives on.
	 * Not the process's main thread (tid == pid): a main thread that signals its idle pool
	 * and then exits the process wakes condvar waits, not joins (measured: a pool of three
	 * workers signalled by main 0.2 ms before its exit); and not a waker the waiter did
	 * not outlive (the pool's threads end with the process).
	 */
	waker = w->waker && w->ret != -ETIMEDOUT_ && w->waker != w->pid ? thr_find(s, w->waker)
									: NULL;
	if (waker && exited_after(w, waker) && outlives(s, w->tid, waker->exit_ts))
		return TL_LK_JOIN;
	if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET)
		return TL_LK_CONDVAR;
	return TL_LK_OTHER;
}

int wt_lock_add_tid(uint32_t **v, size_t *n, size_t *cap, uint32_t tid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == tid)
			return 0;
	if (tli_grow((void **)v, cap, *n + 1, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = tid;
	return 0;
}

static struct wt_lock *lock_get(struct wt_set *s, uint32_t pid, uint64_t addr)
{
	const struct wt_name *n;
	struct wt_lock *l;

	for (size_t i = 0; i < s->nlocks; i++)
		if (s->locks[i].pid == pid && s->locks[i].addr == addr)
			return &s->locks[i];
	if (tli_grow((void **)&s->locks, &s->caplocks, s->nlocks + 1, sizeof(*s->locks)))
		return NULL;
	l = &s->locks[s->nlocks++];
	memset(l, 0, sizeof(*l));
	l->pid = pid;
	l->addr = addr;
	n = name_of(s, pid, addr);
	if (n)
		snprintf(l->where, sizeof(l->where), "%s", n->where);
	return l;
}

/* Sum a decided wait into its lock. */
static int lock_add(struct wt_set *s, const struct wt_wait *w, enum tl_lock_kind k)
{
	struct wt_lock *l = lock_get(s, w->pid, w->uaddr);
	size_t i;

	if (!l)
		return -ENOMEM;
	l->wait_ns += w->lock_ns;
	l->waits++;
	l->kind_ns[k] += w->lock_ns;
	l->kind_waits[k]++;
	if (wt_lock_add_tid(&l->waiters, &l->nwaiters, &l->capwaiters, w->tid))
		return -ENOMEM;
	if (w->waker && w->ret != -ETIMEDOUT_ &&
	    wt_lock_add_tid(&l->wakers, &l->nwakers, &l->capwakers, w->waker))
		return -ENOMEM;
	(void)i;
	return 0;
}

int wt_stack(struct wt_set *s, uint32_t tid, uint64_t ts, const char *frames, uint64_t ns)
{
	struct wt_lock *l = NULL;
	size_t i;

	for (i = s->nw; i-- > 0;) {
		const struct wt_wait *w = &s->w[i];

		if (w->tid == tid && w->begin_ts <= ts && (!w->end_ts || ts <= w->end_ts)) {
			l = lock_get(s, w->pid, w->uaddr);
			if (!l)
				return -ENOMEM;
			break;
		}
	}
	if (!l || !frames)
		return 0;
	for (i = 0; i < l->nstacks; i++)
		if (!strcmp(l->stacks[i].frames, frames))
			break;
	if (i == l->nstacks) {
		if (tli_grow((void **)&l->stacks, &l->capstacks, l->nstacks + 1, sizeof(*l->stacks)))
			return -ENOMEM;
		l->stacks[i].frames = strdup(frames);
		if (!l->stacks[i].frames)
			return -ENOMEM;
		l->stacks[i].ns = 0;
		l->nstacks++;
	}
	l->stacks[i].ns += ns;
	return 0;
}

int wt_kind_at(const struct wt_set *s, uint32_t tid, uint64_t ts, uint64_t upto)
{
	for (size_t i = s->nw; i-- > 0;) {
		const struct wt_wait *w = &s->w[i];

		if (w->tid != tid || w->begin_ts > ts || (w->end_ts && ts > w->end_ts))
			continue;
		if (upto != UINT64_MAX && (!w->end_ts || w->end_ts >= upto))
			return -EAGAIN;
		return (int)wt_classify(s, w);
	}
	return upto == UINT64_MAX ? TL_LK_NONE : -EAGAIN;
}

int wt_flush(struct wt_set *s, struct tl_timeline *tl, uint64_t upto)
{
	size_t keep = 0;
	int ret = 0;

	for (size_t i = 0; i < s->nw; i++) {
		struct wt_wait *w = &s->w[i];
		enum tl_lock_kind k = wt_classify(s, w);

		if (w->end_ts && w->end_ts < upto) {
			if (tl)
				tl_label(tl, w->tid, w->begin_ts, w->end_ts, TL_LOCK_WAIT, k);
			if (!ret)
				ret = lock_add(s, w, k);
			continue;
		}
		/* still open (or ended past upto): what is known so far, relabelled later */
		if (tl)
			tl_label(tl, w->tid, w->begin_ts, w->end_ts ? w->end_ts : UINT64_MAX,
				 TL_LOCK_WAIT, k);
		s->w[keep++] = *w;
	}
	s->nw = keep;
	return ret;
}

/* lock_wait time of tid's spans within [from, to). */
static uint64_t span_lock_ns(const struct tl_timeline *tl, uint32_t tid, uint64_t from,
			     uint64_t to)
{
	uint64_t ns = 0;

	for (size_t i = 0; i < tl->nthreads; i++) {
		const struct tl_thread *th = &tl->threads[i];

		if (th->tid != tid)
			continue;
		for (size_t j = 0; j < th->nspans; j++) {
			const struct tl_span *sp = &th->spans[j];
			uint64_t a = sp->start > from ? sp->start : from;
			uint64_t b = sp->end < to ? sp->end : to;

			if (sp->state == TL_LOCK_WAIT && b > a)
				ns += b - a;
		}
	}
	return ns;
}

static int lock_cmp(const void *a, const void *b)
{
	const struct wt_lock *x = a, *y = b;

	if (x->wait_ns != y->wait_ns)
		return x->wait_ns > y->wait_ns ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int wt_take_locks(struct wt_set *s, const struct tl_timeline *tl, struct wt_lock **out,
		  size_t *n)
{
	/* what is left: waits open at the end (or ended after the last flush) */
	for (size_t i = 0; i < s->nw; i++) {
		struct wt_wait *w = &s->w[i];

		if (!w->end_ts && tl)
			w->lock_ns = span_lock_ns(tl, w->tid, w->begin_ts, UINT64_MAX);
		if (lock_add(s, w, wt_classify(s, w)))
			return -ENOMEM;
	}
	s->nw = 0;
	for (size_t i = 0; i < s->nlocks; i++) {
		struct wt_lock *l = &s->locks[i];
		uint64_t best = 0;

		/* the kind with the most wait time; the most waits between equals */
		l->kind = TL_LK_OTHER;
		for (unsigned k = 1; k < WT_NLK; k++)
			if (l->kind_ns[k] > l->kind_ns[l->kind] ||
			    (l->kind_ns[k] == l->kind_ns[l->kind] &&
			     l->kind_waits[k] > l->kind_waits[l->kind]))
				l->kind = (enum tl_lock_kind)k;
		for (size_t j = 0; j < l->nstacks; j++)
			if (!l->stack || l->stacks[j].ns > best) {
				best = l->stacks[j].ns;
				l->stack = l->stacks[j].frames;
			}
		if (l->stack && !(l->stack = strdup(l->stack)))
			return -ENOMEM;
	}
	if (s->nlocks) /* qsort's base may not be NULL, even for no elements */
		qsort(s->locks, s->nlocks, sizeof(*s->locks), lock_cmp);
	*out = s->locks;
	*n = s->nlocks;
	s->locks = NULL;
	s->nlocks = s->caplocks = 0;
	return 0;
}
