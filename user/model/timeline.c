/* timeline.c - state names, a timeline's life, and ingest: events into per-thread raw storage. */
#include "timeline_int.h"

static const char *const state_names[TL_NSTATES] = {
#define STATE_NAME(name, str) [TL_##name] = str,
	TL_STATES(STATE_NAME)
#undef STATE_NAME
};

const char *tl_state_name(enum tl_state s)
{
	return (unsigned)s < TL_NSTATES ? state_names[s] : "?";
}

int tl_state_from_name(const char *name)
{
	for (int i = 0; name && i < TL_NSTATES; i++)
		if (!strcmp(name, state_names[i]))
			return i;
	return -EINVAL;
}

static const char *const bound_names[TL_NBOUNDS] = {
#define BOUND_NAME(name, str) [TL_B_##name] = str,
	TL_BOUNDS(BOUND_NAME)
#undef BOUND_NAME
};

static const char *const unused_names[TL_NUNUSED] = {
#define UNUSED_NAME(name, str) [TL_U_##name] = str,
	TL_UNUSED(UNUSED_NAME)
#undef UNUSED_NAME
};

const char *tl_bound_name(unsigned b)
{
	return b < TL_NBOUNDS ? bound_names[b] : "?";
}

const char *tl_unused_name(unsigned u)
{
	return u < TL_NUNUSED ? unused_names[u] : "?";
}

struct tl_timeline *tl_new(void)
{
	return calloc(1, sizeof(struct tl_timeline));
}

void tl_free(struct tl_timeline *tl)
{
	if (!tl)
		return;
	for (size_t i = 0; i < tl->nthreads; i++) {
		free(tl->threads[i].spans);
		free(tl->threads[i].raw);
		free(tl->threads[i].gaps);
		free(tl->threads[i].hist);
	}
	free(tl->threads);
	free(tl->io);
	free(tl->hist_io);
	free(tl->open_io);
	free(tl->gapraw);
	free(tl->tidx);
	free(tl->blk);
	free(tl->dev);
	free(tl);
}

/* ---- tid -> thread index ---- */

static size_t tid_slot(uint32_t tid, size_t cap)
{
	return (size_t)((tid * 2654435761u) & (cap - 1));
}

static int tidx_rehash(struct tl_timeline *tl)
{
	size_t cap = tl->tidx_cap ? tl->tidx_cap * 2 : 64;
	uint32_t *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	/* a reused tid has several entries: the slot keeps the newest (highest index) */
	for (size_t i = 0; i < tl->nthreads; i++) {
		size_t s = tid_slot(tl->threads[i].tid, cap);

		while (n[s] && tl->threads[n[s] - 1].tid != tl->threads[i].tid)
			s = (s + 1) & (cap - 1);
		n[s] = (uint32_t)(i + 1);
	}
	free(tl->tidx);
	tl->tidx = n;
	tl->tidx_cap = cap;
	return 0;
}

long tli_tid_lookup(const struct tl_timeline *tl, uint32_t tid)
{
	if (tl->last < tl->nthreads && tl->threads[tl->last].tid == tid)
		return (long)tl->last;
	if (!tl->tidx_cap)
		return -1;
	for (size_t s = tid_slot(tid, tl->tidx_cap); tl->tidx[s]; s = (s + 1) & (tl->tidx_cap - 1))
		if (tl->threads[tl->tidx[s] - 1].tid == tid)
			return (long)tl->tidx[s] - 1;
	return -1;
}

static void set_comm(struct tl_thread *t, const char *comm)
{
	if (comm && comm[0]) {
		strncpy(t->comm, comm, sizeof(t->comm) - 1);
		t->comm[sizeof(t->comm) - 1] = '\0';
	}
}

/* A new entry for tid (prev: index + 1 of the entry it succeeds, 0 if none); -ENOMEM. */
static long thread_new(struct tl_timeline *tl, uint32_t tid, size_t prev)
{
	struct tl_thread *t;
	size_t s;

	if ((tl->nthreads + 1) * 2 > tl->tidx_cap && tidx_rehash(tl))
		return -ENOMEM;
	if (tli_grow((void **)&tl->threads, &tl->capthreads, tl->nthreads + 1, sizeof(*tl->threads)))
		return -ENOMEM;
	t = &tl->threads[tl->nthreads];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->init_state = -1;
	t->hist_last = -1;
	t->prev = prev;
	s = tid_slot(tid, tl->tidx_cap);
	while (tl->tidx[s] && tl->threads[tl->tidx[s] - 1].tid != tid)
		s = (s + 1) & (tl->tidx_cap - 1);
	tl->tidx[s] = (uint32_t)(tl->nthreads + 1);
	/* the lookup cache only ever holds a tid's newest entry */
	tl->last = tl->nthreads;
	return (long)tl->nthreads++;
}

/* The thread's (newest) index, created if unknown; -ENOMEM. */
static long thread_get(struct tl_timeline *tl, uint32_t tid)
{
	long i = tli_tid_lookup(tl, tid);

	if (i >= 0) {
		tl->last = (size_t)i;
		return i;
	}
	return thread_new(tl, tid, 0);
}

/*
 * Of the entries of a reused tid, the one an event at ts belongs to: a late event of the
 * earlier thread predates the newer one's birth.
 */
long tli_route(const struct tl_timeline *tl, long i, uint64_t ts)
{
	while (tl->threads[i].prev && tl->threads[i].init_state >= 0 &&
	       ts < tl->threads[i].create_ts)
		i = (long)tl->threads[i].prev - 1;
	return i;
}

static int raw_push(struct tl_thread *t, uint64_t ts, int state, unsigned kind)
{
	if (t->nraw == t->capraw &&
	    tli_grow((void **)&t->raw, &t->capraw, t->nraw + 1, sizeof(*t->raw)))
		return -ENOMEM;
	t->raw[t->nraw].ts = ts;
	t->raw[t->nraw].state = state;
	t->raw[t->nraw].kind = kind;
	t->nraw++;
	return 0;
}

struct tl_thread *tl_thread_add(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t ts,
				enum tl_state state, const char *comm)
{
	struct tl_thread *t;
	long i;

	if (tl->finished || (unsigned)state >= TL_NSTATES) {
		errno = EINVAL;
		return NULL;
	}
	i = thread_get(tl, tid);
	/* born at or after the known thread's exit: the kernel reused its tid */
	if (i >= 0 && tl->threads[i].has_exit && ts >= tl->threads[i].exit_ts)
		i = thread_new(tl, tid, (size_t)i + 1);
	if (i < 0) {
		errno = ENOMEM;
		return NULL;
	}
	t = &tl->threads[i];
	t->pid = pid;
	set_comm(t, comm);
	if (t->init_state < 0) {
		if (ts < tl->cut_at) {
			/* born in time already folded: it exists from the cut on */
			ts = tl->cut_at;
			tl->late_events++;
		}
		/* the birth is an event like the others: sorted with them in tl_finish */
		if (raw_push(t, ts, (int)state, 0)) {
			errno = ENOMEM;
			return NULL;
		}
		t->init_state = (int)state;
		t->create_ts = ts;
	}
	return t;
}

struct tl_thread *tl_thread_find(struct tl_timeline *tl, uint32_t tid)
{
	long i = tli_tid_lookup(tl, tid);

	return i < 0 ? NULL : &tl->threads[i];
}

int tl_transition(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t ts,
		  enum tl_state state)
{
	return tl_transition_kind(tl, pid, tid, ts, state, 0);
}

int tl_transition_kind(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t ts,
		       enum tl_state state, unsigned kind)
{
	struct tl_thread *t;
	long i;

	if (tl->finished || (unsigned)state >= TL_NSTATES)
		return -EINVAL;
	if (ts < tl->cut_at) {
		/* the folded past cannot change any more */
		tl->late_events++;
		return 0;
	}
	i = thread_get(tl, tid);
	if (i < 0)
		return -ENOMEM;
	t = &tl->threads[tli_route(tl, i, ts)];
	if (pid)
		t->pid = pid;
	return raw_push(t, ts, (int)state, kind);
}

void tl_label(struct tl_timeline *tl, uint32_t tid, uint64_t from, uint64_t to,
	      enum tl_state state, unsigned kind)
{
	long i;

	if (tl->finished || to < from)
		return;
	/* every entry of a reused tid: the waits are dated, not routed */
	for (i = tli_tid_lookup(tl, tid); i >= 0;) {
		struct tl_thread *t = &tl->threads[i];

		/*
		 * From the newest: a wait is recent, and a thread's events arrive in near order
		 * (its batches in sequence): past a run of older ones there are no more.
		 */
		for (size_t j = t->nraw, older = 0; j-- > 0 && older < 64;) {
			struct tl_raw *r = &t->raw[j];

			older = r->ts < from ? older + 1 : 0;
			if (r->ts >= from && r->ts <= to && r->state == (int32_t)state)
				r->kind = kind;
		}
		i = t->prev ? (long)t->prev - 1 : -1;
	}
}

int tl_thread_exit(struct tl_timeline *tl, uint32_t tid, uint64_t ts, const char *comm)
{
	struct tl_thread *t;
	long i;

	if (tl->finished)
		return -EINVAL;
	if (ts < tl->cut_at) {
		ts = tl->cut_at;
		tl->late_events++;
	}
	i = thread_get(tl, tid);
	if (i < 0)
		return -ENOMEM;
	t = &tl->threads[tli_route(tl, i, ts)];
	set_comm(t, comm);
	/* a thread dies once; a repeated record keeps the first */
	if (!t->has_exit) {
		t->has_exit = 1;
		t->exit_ts = ts;
	}
	return 0;
}

static int io_push(struct tl_timeline *tl, uint64_t id, uint64_t ts, int end)
{
	if (tl->finished)
		return -EINVAL;
	if (ts < tl->cut_at) {
		/* a request's edge in folded time: it counts from the cut on */
		ts = tl->cut_at;
		tl->late_events++;
	}
	if (tl->nopen_io == tl->capopen_io &&
	    tli_grow((void **)&tl->open_io, &tl->capopen_io, tl->nopen_io + 1, sizeof(*tl->open_io)))
		return -ENOMEM;
	tl->open_io[tl->nopen_io++] = (struct tl_ioreq){.id = id, .ts = ts, .end = end};
	return 0;
}

int tl_io_begin(struct tl_timeline *tl, uint64_t id, uint64_t ts)
{
	return io_push(tl, id, ts, 0);
}

int tl_io_end(struct tl_timeline *tl, uint64_t id, uint64_t ts)
{
	return io_push(tl, id, ts, 1);
}

int tl_block(struct tl_timeline *tl, uint64_t start, uint64_t end)
{
	if (tl->finished)
		return -EINVAL;
	/*
	 * At the device across a cut already made: it counts from the cut on. Not a late
	 * event: a request is known only once it completed, and the cut lags the clock by
	 * the events' delay bound, far longer than a request takes at the device.
	 */
	if (start < tl->cut_at)
		start = tl->cut_at;
	if (end <= start)
		return 0;
	if (tli_grow((void **)&tl->blk, &tl->capblk, tl->nblk + 1, sizeof(*tl->blk)))
		return -ENOMEM;
	tl->blk[tl->nblk++] = (struct tl_interval){start, end};
	return 0;
}

void tl_set_ncpu(struct tl_timeline *tl, unsigned ncpu)
{
	tl->measure.ncpu = ncpu;
}

void tl_gap(struct tl_timeline *tl, uint32_t tid, uint64_t from, uint64_t to)
{
	if (tl->finished || to <= from)
		return;
	if (thread_get(tl, tid) < 0 ||
	    tli_grow((void **)&tl->gapraw, &tl->capgapraw, tl->ngapraw + 1, sizeof(*tl->gapraw))) {
		/* void by contract: remembered for tl_finish rather than dropped */
		tl->err = -ENOMEM;
		return;
	}
	tl->gapraw[tl->ngapraw++] = (struct tl_gaprec){.tid = tid, .from = from, .to = to};
}

int tl_gap_fill(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t from,
		uint64_t to, enum tl_state cur, const uint64_t ns[TL_NSTATES])
{
	uint64_t sum = 0, ts = from;
	int ret = 0;

	if (tl->finished || to <= from || (unsigned)cur >= TL_NSTATES)
		return -EINVAL;
	for (int s = 0; s < TL_NSTATES; s++) {
		if (ns[s] > to - from)
			return -EINVAL;
		sum += ns[s];
	}
	if (sum != to - from)
		return -EINVAL;
	/* the state it is in runs on first: no transition at from unless it had no time */
	if (ns[cur])
		ts += ns[cur];
	for (int s = 0; s < TL_NSTATES && !ret; s++) {
		if (s == (int)cur || !ns[s])
			continue;
		ret = tl_transition_kind(tl, pid, tid, ts, (enum tl_state)s, 0);
		ts += ns[s];
	}
	if (!ret)
		tl_gap(tl, tid, from, to);
	return ret;
}

size_t tl_pending(const struct tl_timeline *tl)
{
	size_t n = tl->nopen_io + tl->nblk;

	for (size_t i = 0; i < tl->nthreads; i++)
		n += tl->threads[i].nraw;
	return n;
}

void tl_set_span_budget(struct tl_timeline *tl, size_t n)
{
	tl->span_budget = n;
}
