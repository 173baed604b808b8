/* timeline.c - exact per-thread state spans from (possibly reordered) events; interval sets. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

/* One state change of one thread, as it arrived. */
struct tl_raw {
	uint64_t ts;
	int32_t state;
};

/* One edge of an I/O request. */
struct tl_ioreq {
	uint64_t id, ts;
	int end;	/* 1 end, 0 begin, -1 begin carried over a cut (tl_cut) */
};

struct tl_gaprec {
	uint32_t tid;
	uint64_t from, to;
};

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

/*
 * Stable bottom-up merge sort. Input is usually already sorted (one CPU's events in
 * order) or nearly so, hence the O(n) check first; qsort is neither stable nor cheap
 * per comparison, and a thread's equal-time events must keep their arrival order.
 */
#define DEFINE_MSORT(name, T, LESS)                                                        \
	static int name(T *a, size_t n)                                                    \
	{                                                                                  \
		size_t i, w;                                                               \
		T *src = a, *dst, *tmp;                                                    \
                                                                                           \
		for (i = 1; i < n; i++)                                                    \
			if (LESS(&a[i], &a[i - 1]))                                        \
				break;                                                     \
		if (i >= n)                                                                \
			return 0;                                                          \
		tmp = malloc(n * sizeof(T));                                               \
		if (!tmp)                                                                  \
			return -ENOMEM;                                                    \
		dst = tmp;                                                                 \
		/* insertion-sort runs of 32: cheap on nearly sorted data */             \
		for (size_t lo = 0; lo < n; lo += 32) {                                    \
			size_t hi = lo + 32 < n ? lo + 32 : n;                             \
			for (size_t j = lo + 1; j < hi; j++) {                             \
				T x = a[j];                                                \
				size_t k = j;                                              \
				while (k > lo && LESS(&x, &a[k - 1])) {                    \
					a[k] = a[k - 1];                                   \
					k--;                                               \
				}                                                          \
				a[k] = x;                                                  \
			}                                                                  \
		}                                                                          \
		for (w = 32; w < n; w *= 2) {                                              \
			for (size_t lo = 0; lo < n; lo += 2 * w) {                         \
				size_t mid = lo + w < n ? lo + w : n;                      \
				size_t hi = lo + 2 * w < n ? lo + 2 * w : n;               \
				size_t l = lo, r = mid, o = lo;                            \
				if (mid >= hi || !LESS(&src[mid], &src[mid - 1])) {        \
					memcpy(&dst[lo], &src[lo], (hi - lo) * sizeof(T)); \
					continue;                                          \
				}                                                          \
				while (l < mid && r < hi)                                  \
					dst[o++] = LESS(&src[r], &src[l]) ? src[r++]       \
									  : src[l++];      \
				while (l < mid)                                            \
					dst[o++] = src[l++];                               \
				while (r < hi)                                             \
					dst[o++] = src[r++];                               \
			}                                                                  \
			T *t = src;                                                        \
			src = dst;                                                         \
			dst = t;                                                           \
		}                                                                          \
		if (src != a)                                                              \
			memcpy(a, src, n * sizeof(T));                                     \
		free(tmp);                                                                 \
		return 0;                                                                  \
	}

#define RAW_LESS(x, y) ((x)->ts < (y)->ts)
/*
 * At one instant a request carried over a cut goes first (it began earlier), then ends,
 * so a reused id closes its old request first, then begins.
 */
#define IOREQ_RANK(x) ((x)->end < 0 ? 0 : (x)->end ? 1 : 2)
#define IOREQ_LESS(x, y) ((x)->ts < (y)->ts || ((x)->ts == (y)->ts && IOREQ_RANK(x) < IOREQ_RANK(y)))
#define IV_LESS(x, y) ((x)->start < (y)->start)
DEFINE_MSORT(sort_raw, struct tl_raw, RAW_LESS)
DEFINE_MSORT(sort_ioreq, struct tl_ioreq, IOREQ_LESS)
DEFINE_MSORT(sort_iv, struct tl_interval, IV_LESS)

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc;
	void *n;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	n = realloc(*p, nc * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = nc;
	return 0;
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

static long tid_lookup(const struct tl_timeline *tl, uint32_t tid)
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
	if (grow((void **)&tl->threads, &tl->capthreads, tl->nthreads + 1, sizeof(*tl->threads)))
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
	long i = tid_lookup(tl, tid);

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
static long route(const struct tl_timeline *tl, long i, uint64_t ts)
{
	while (tl->threads[i].prev && tl->threads[i].init_state >= 0 &&
	       ts < tl->threads[i].create_ts)
		i = (long)tl->threads[i].prev - 1;
	return i;
}

static int raw_push(struct tl_thread *t, uint64_t ts, int state)
{
	if (t->nraw == t->capraw &&
	    grow((void **)&t->raw, &t->capraw, t->nraw + 1, sizeof(*t->raw)))
		return -ENOMEM;
	t->raw[t->nraw].ts = ts;
	t->raw[t->nraw].state = state;
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
		if (raw_push(t, ts, (int)state)) {
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
	long i = tid_lookup(tl, tid);

	return i < 0 ? NULL : &tl->threads[i];
}

int tl_transition(struct tl_timeline *tl, uint32_t pid, uint32_t tid, uint64_t ts,
		  enum tl_state state)
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
	t = &tl->threads[route(tl, i, ts)];
	if (pid)
		t->pid = pid;
	return raw_push(t, ts, (int)state);
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
	t = &tl->threads[route(tl, i, ts)];
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
	    grow((void **)&tl->open_io, &tl->capopen_io, tl->nopen_io + 1, sizeof(*tl->open_io)))
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

void tl_gap(struct tl_timeline *tl, uint32_t tid, uint64_t from, uint64_t to)
{
	if (tl->finished || to <= from)
		return;
	if (thread_get(tl, tid) < 0 ||
	    grow((void **)&tl->gapraw, &tl->capgapraw, tl->ngapraw + 1, sizeof(*tl->gapraw))) {
		/* void by contract: remembered for tl_finish rather than dropped */
		tl->err = -ENOMEM;
		return;
	}
	tl->gapraw[tl->ngapraw++] = (struct tl_gaprec){.tid = tid, .from = from, .to = to};
}

/* ---- tl_finish ---- */

static inline uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void span_emit(struct tl_thread *t, int state, uint64_t a, uint64_t b)
{
	struct tl_span *last;

	a = max64(a, t->start);
	b = min64(b, t->end);
	if (b <= a)
		return;
	t->state_ns[state] += b - a;
	last = t->nspans ? &t->spans[t->nspans - 1] : NULL;
	if (last && last->state == (enum tl_state)state && last->end == a) {
		last->end = b;
		return;
	}
	t->spans[t->nspans++] = (struct tl_span){.start = a, .end = b, .state = state};
}

/* Spans of t over [ws, we) from its raw events (sorted here), which it leaves in place. */
static int build_core(struct tl_thread *t, uint64_t ws, uint64_t we)
{
	uint64_t death, cur_ts;
	int cur, ret;

	memset(t->state_ns, 0, sizeof(t->state_ns));
	t->nspans = 0;
	t->spans = NULL;
	death = t->has_exit ? t->exit_ts : we;
	if (!t->nraw) {
		/* seen only exiting or losing events: no known state, so no lifetime */
		t->start = t->end = min64(max64(death, ws), we);
		return 0;
	}
	ret = sort_raw(t->raw, t->nraw);
	if (ret)
		return ret;
	t->start = max64(t->raw[0].ts, ws);
	t->end = min64(death, we);
	if (t->end <= t->start) {
		t->start = t->end = min64(t->start, we);
		return 0;
	}
	/* each raw event opens at most one span */
	t->spans = malloc(t->nraw * sizeof(*t->spans));
	if (!t->spans)
		return -ENOMEM;
	cur = t->raw[0].state;
	cur_ts = t->raw[0].ts;
	for (size_t i = 1; i < t->nraw; i++) {
		uint64_t ts = t->raw[i].ts;

		if (ts > death)
			break;	/* after the exit: stale or misattributed, ignored */
		span_emit(t, cur, cur_ts, ts);
		cur = t->raw[i].state;
		cur_ts = ts;
	}
	span_emit(t, cur, cur_ts, death);
	if (!t->nspans) {
		free(t->spans);
		t->spans = NULL;
	} else if (t->nspans < t->nraw) {
		struct tl_span *n = realloc(t->spans, t->nspans * sizeof(*t->spans));

		if (n)
			t->spans = n;
	}
	return 0;
}

static int build_spans(struct tl_thread *t, uint64_t ws, uint64_t we)
{
	int ret = build_core(t, ws, we);

	free(t->raw);
	t->raw = NULL;
	t->nraw = t->capraw = 0;
	return ret;
}

static uint64_t count_switches(const struct tl_span *s, size_t n)
{
	uint64_t k = 0;

	for (size_t i = 1; i < n; i++)
		k += tl_state_on_cpu(s[i - 1].state) && !tl_state_on_cpu(s[i].state);
	return k;
}

/* gap records resolved to the thread entry they belong to */
struct gapref {
	size_t idx;
	uint64_t from, to;
};

static int gapref_cmp(const void *a, const void *b)
{
	const struct gapref *x = a, *y = b;

	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

static int finish_gaps(struct tl_timeline *tl)
{
	struct gapref *g;
	size_t i, j, n = 0;

	tl->gaps_ns = 0;
	if (!tl->ngapraw)
		return 0;
	g = malloc(tl->ngapraw * sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (i = 0; i < tl->ngapraw; i++) {
		long k = tid_lookup(tl, tl->gapraw[i].tid);

		if (k >= 0)
			g[n++] = (struct gapref){(size_t)route(tl, k, tl->gapraw[i].from),
						 tl->gapraw[i].from, tl->gapraw[i].to};
	}
	qsort(g, n, sizeof(*g), gapref_cmp);
	for (i = 0; i < n; i = j) {
		struct tl_thread *t = &tl->threads[g[i].idx];
		size_t m = 0;

		for (j = i; j < n && g[j].idx == g[i].idx; j++)
			;
		if (t->end <= t->start)
			continue;
		t->gaps = malloc((j - i) * sizeof(*t->gaps));
		if (!t->gaps) {
			free(g);
			return -ENOMEM;
		}
		for (size_t k = i; k < j; k++) {
			uint64_t a = max64(g[k].from, t->start);
			uint64_t b = min64(g[k].to, t->end);

			if (b > a)
				t->gaps[m++] = (struct tl_interval){a, b};
		}
		t->ngaps = tl_iv_normalize(t->gaps, m);
		t->gap_ns = tl_iv_length(t->gaps, t->ngaps);
		tl->gaps_ns += t->gap_ns;
		if (!t->ngaps) {
			free(t->gaps);
			t->gaps = NULL;
		}
	}
	free(g);
	free(tl->gapraw);
	tl->gapraw = NULL;
	tl->ngapraw = tl->capgapraw = 0;
	return 0;
}

/* id -> begin ts of the open requests; linear probing with backward-shift deletion */
struct iomap {
	uint64_t *key, *val;
	unsigned char *used;
	size_t cap, n;
};

static size_t io_slot(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)(id & (cap - 1));
}

static int iomap_init(struct iomap *m, size_t cap)
{
	m->cap = cap;
	m->n = 0;
	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	m->used = calloc(cap, 1);
	return m->key && m->val && m->used ? 0 : -ENOMEM;
}

static void iomap_free(struct iomap *m)
{
	free(m->key);
	free(m->val);
	free(m->used);
}

static long iomap_find(const struct iomap *m, uint64_t id)
{
	for (size_t s = io_slot(id, m->cap); m->used[s]; s = (s + 1) & (m->cap - 1))
		if (m->key[s] == id)
			return (long)s;
	return -1;
}

static int iomap_put(struct iomap *m, uint64_t id, uint64_t v)
{
	size_t s;

	if ((m->n + 1) * 2 > m->cap) {
		struct iomap n;

		if (iomap_init(&n, m->cap * 2)) {
			iomap_free(&n);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->used[i])
				iomap_put(&n, m->key[i], m->val[i]);
		iomap_free(m);
		*m = n;
	}
	for (s = io_slot(id, m->cap); m->used[s]; s = (s + 1) & (m->cap - 1))
		;
	m->used[s] = 1;
	m->key[s] = id;
	m->val[s] = v;
	m->n++;
	return 0;
}

static void iomap_del(struct iomap *m, size_t s)
{
	size_t j = s;

	m->used[s] = 0;
	m->n--;
	/* backward shift: pull later members of the probe run into the hole */
	for (;;) {
		size_t home;

		j = (j + 1) & (m->cap - 1);
		if (!m->used[j])
			return;
		home = io_slot(m->key[j], m->cap);
		/* j may move to s only if its home is not within (s, j] cyclically */
		if ((s <= j) ? (home > s && home <= j) : (home > s || home <= j))
			continue;
		m->key[s] = m->key[j];
		m->val[s] = m->val[j];
		m->used[s] = 1;
		m->used[j] = 0;
		s = j;
	}
}

static int iv_push(struct tl_interval **v, size_t *n, size_t *cap, uint64_t a, uint64_t b,
		   uint64_t lo, uint64_t hi)
{
	a = max64(a, lo);
	b = min64(b, hi);
	if (b <= a)
		return 0;
	if (grow((void **)v, cap, *n + 1, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = (struct tl_interval){a, b};
	return 0;
}

/*
 * Pair the sorted request edges ev[0..n) into intervals clipped to [lo, hi). A request
 * still open at hi runs to hi; with carry it is also handed back (a begin at hi, for the
 * events after a cut), without carry it counts as unmatched (outstanding past the window).
 */
static int io_pair(const struct tl_ioreq *ev, size_t n, uint64_t lo, uint64_t hi,
		   struct tl_interval **iv, size_t *niv, size_t *capiv, uint64_t *unmatched,
		   struct tl_ioreq **carry, size_t *ncarry)
{
	struct iomap m;
	size_t capcarry = 0;
	int ret = 0;

	if (iomap_init(&m, 64)) {
		iomap_free(&m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		const struct tl_ioreq *r = &ev[i];
		long s = iomap_find(&m, r->id);

		if (r->end != 1) {
			if (s < 0)
				ret = iomap_put(&m, r->id, r->ts);
			/* else a begin with the request open: an end was lost; keep the older */
			else
				(*unmatched)++;
		} else if (s >= 0) {
			ret = iv_push(iv, niv, capiv, m.val[s], r->ts, lo, hi);
			iomap_del(&m, (size_t)s);
		} else {
			/* an end with no begin: when it began is unknown, so no interval */
			(*unmatched)++;
		}
	}
	for (size_t s = 0; s < m.cap && !ret; s++) {
		if (!m.used[s])
			continue;
		if (carry) {
			ret = grow((void **)carry, &capcarry, *ncarry + 1, sizeof(**carry));
			if (!ret)
				(*carry)[(*ncarry)++] =
					(struct tl_ioreq){.id = m.key[s], .ts = hi, .end = -1};
		} else {
			/* still in flight at the end: a real request outstanding past the window */
			(*unmatched)++;
		}
		if (!ret)
			ret = iv_push(iv, niv, capiv, m.val[s], hi, lo, hi);
	}
	iomap_free(&m);
	return ret;
}

static int finish_io(struct tl_timeline *tl, uint64_t lo)
{
	int ret;

	tl->nio = 0;
	if (!tl->nopen_io)
		return 0;
	ret = sort_ioreq(tl->open_io, tl->nopen_io);
	if (!ret)
		ret = io_pair(tl->open_io, tl->nopen_io, lo, tl->win_end, &tl->io, &tl->nio,
			      &tl->capio, &tl->io_unmatched, NULL, NULL);
	if (ret)
		return ret;
	tl->nio = tl_iv_normalize(tl->io, tl->nio);
	free(tl->open_io);
	tl->open_io = NULL;
	tl->nopen_io = tl->capopen_io = 0;
	return 0;
}

/* ---- interval sets ---- */

static int iv_cmp(const void *a, const void *b)
{
	const struct tl_interval *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

size_t tl_iv_normalize(struct tl_interval *iv, size_t n)
{
	size_t o = 0;

	/* out of memory for the merge sort's buffer: qsort needs none (stability is moot) */
	if (sort_iv(iv, n))
		qsort(iv, n, sizeof(*iv), iv_cmp);
	for (size_t i = 0; i < n; i++) {
		if (iv[i].end <= iv[i].start)
			continue;
		if (o && iv[i].start <= iv[o - 1].end) {
			iv[o - 1].end = max64(iv[o - 1].end, iv[i].end);
			continue;
		}
		iv[o++] = iv[i];
	}
	return o;
}

uint64_t tl_iv_length(const struct tl_interval *iv, size_t n)
{
	uint64_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += iv[i].end - iv[i].start;
	return len;
}

uint64_t tl_iv_intersect_len(const struct tl_interval *a, size_t na, const struct tl_interval *b,
			     size_t nb)
{
	size_t i = 0, j = 0;
	uint64_t len = 0;

	while (i < na && j < nb) {
		uint64_t lo = max64(a[i].start, b[j].start);
		uint64_t hi = min64(a[i].end, b[j].end);

		if (hi > lo)
			len += hi - lo;
		/* advance whichever ends first: it cannot meet anything later in the other */
		if (a[i].end < b[j].end)
			i++;
		else
			j++;
	}
	return len;
}

/* ---- the sweep ---- */

struct hnode {
	uint64_t key;
	uint32_t src;
};

static void sift_down(struct hnode *h, size_t n, size_t i)
{
	struct hnode x = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].key < h[c].key)
			c++;
		if (h[c].key >= x.key)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * Each thread's spans are contiguous and sorted, so a thread is a stream of boundaries:
 * at spans[i].start it leaves spans[i-1].state and enters spans[i].state, and at the
 * last span's end it leaves. A heap merges the threads' streams (and the I/O-in-flight
 * set's) in time order; between two consecutive boundary instants nothing changes.
 */
static int sweep_from(const struct tl_timeline *tl, uint64_t from, tl_sweep_fn fn, void *ctx)
{
	uint32_t nstate[TL_NSTATES] = {0};
	size_t nsrc = 0, n = 0, *cur;
	struct hnode *h;
	uint32_t *map;
	uint64_t prev;
	unsigned io = 0;

	h = malloc((tl->nthreads + 1) * sizeof(*h));
	cur = calloc(tl->nthreads + 1, sizeof(*cur));
	map = malloc((tl->nthreads + 1) * sizeof(*map));
	if (!h || !cur || !map) {
		free(h);
		free(cur);
		free(map);
		return -ENOMEM;
	}
	/* source k < nsrc-1..: threads with spans; the source with map == UINT32_MAX is I/O */
	for (size_t i = 0; i < tl->nthreads; i++) {
		if (!tl->threads[i].nspans)
			continue;
		map[nsrc] = (uint32_t)i;
		h[n++] = (struct hnode){tl->threads[i].spans[0].start, (uint32_t)nsrc};
		nsrc++;
	}
	if (tl->nio) {
		map[nsrc] = UINT32_MAX;
		h[n++] = (struct hnode){tl->io[0].start, (uint32_t)nsrc};
		nsrc++;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift_down(h, n, i);

	prev = from;
	while (n) {
		uint64_t t = h[0].key;

		if (t > prev) {
			fn(ctx, prev, t, nstate, io);
			prev = t;
		}
		while (n && h[0].key == t) {
			uint32_t k = h[0].src;
			size_t c = cur[k]++;
			bool more;

			if (map[k] == UINT32_MAX) {
				/* even cursor: an interval starts; odd: it ends */
				io = !(c & 1);
				more = c + 1 < 2 * tl->nio;
				if (more)
					h[0].key = (c + 1) & 1 ? tl->io[(c + 1) / 2].end
							       : tl->io[(c + 1) / 2].start;
			} else {
				const struct tl_thread *th = &tl->threads[map[k]];

				if (c > 0)
					nstate[th->spans[c - 1].state]--;
				if (c < th->nspans)
					nstate[th->spans[c].state]++;
				more = c < th->nspans;
				if (more)
					h[0].key = c + 1 < th->nspans ? th->spans[c + 1].start
								     : th->spans[c].end;
			}
			if (!more)
				h[0] = h[--n];
			if (n)
				sift_down(h, n, 0);
		}
	}
	if (tl->win_end > prev)
		fn(ctx, prev, tl->win_end, nstate, io);
	free(h);
	free(cur);
	free(map);
	return 0;
}

int tl_sweep(const struct tl_timeline *tl, tl_sweep_fn fn, void *ctx)
{
	if (!tl || !tl->finished)
		return -EINVAL;
	return sweep_from(tl, tl->win_start, fn, ctx);
}

/* One pass gives every union of DESIGN.md. */
static void measure_seg(void *p, uint64_t t0, uint64_t t1, const uint32_t *n, unsigned io)
{
	struct tl_measure *m = p;
	uint64_t dt = t1 - t0;
	unsigned oncpu = n[TL_COMPUTE] + n[TL_IO_CPU];
	bool busy = oncpu > 0, computing = n[TL_COMPUTE] > 0;

	if (n[TL_IO_WAIT]) {
		m->blocked += dt;
		if (busy)
			m->blocked_busy += dt;
	}
	if (computing)
		m->computing += dt;
	if (io || n[TL_IO_CPU] || n[TL_IO_WAIT]) {
		m->io += dt;
		if (computing)
			m->io_computing += dt;
	}
	m->oncpu[oncpu < TL_MAX_K ? oncpu : TL_MAX_K] += dt;
}

struct union_ctx {
	unsigned mask;
	struct tl_interval *v;
	size_t n, cap;
	int err;
};

static void union_seg(void *p, uint64_t t0, uint64_t t1, const uint32_t *nstate, unsigned io)
{
	struct union_ctx *u = p;
	int in = (u->mask & TL_MASK_IO) && io;

	for (int s = 0; s < TL_NSTATES && !in; s++)
		in = (u->mask & (1u << s)) && nstate[s];
	if (!in || u->err)
		return;
	if (u->n && u->v[u->n - 1].end == t0) {
		u->v[u->n - 1].end = t1;
		return;
	}
	if (grow((void **)&u->v, &u->cap, u->n + 1, sizeof(*u->v))) {
		u->err = -ENOMEM;
		return;
	}
	u->v[u->n++] = (struct tl_interval){t0, t1};
}

long tl_union_states(const struct tl_timeline *tl, unsigned mask, struct tl_interval **out)
{
	struct union_ctx u = {.mask = mask};
	int ret = tl_sweep(tl, union_seg, &u);

	if (!ret)
		ret = u.err;
	if (ret) {
		free(u.v);
		*out = NULL;
		return ret;
	}
	*out = u.v;
	return (long)u.n;
}

struct conc_ctx {
	uint64_t *hist;
	unsigned maxk;
};

static void conc_seg(void *p, uint64_t t0, uint64_t t1, const uint32_t *nstate, unsigned io)
{
	struct conc_ctx *c = p;
	unsigned k = nstate[TL_COMPUTE] + nstate[TL_IO_CPU];

	(void)io;
	c->hist[k < c->maxk ? k : c->maxk] += t1 - t0;
}

int tl_concurrency(const struct tl_timeline *tl, uint64_t *hist, unsigned maxk)
{
	struct conc_ctx c = {hist, maxk};

	if (!hist)
		return -EINVAL;
	memset(hist, 0, (maxk + 1) * sizeof(*hist));
	return tl_sweep(tl, conc_seg, &c);
}

/* ---- bounded memory: downsampling, tl_cut, tl_finish ---- */

#define TL_RES0 1000ULL	/* first downsampling bin: 1 µs */

static int span_put(struct tl_span **v, size_t *n, size_t *cap, enum tl_state st, uint64_t a,
		    uint64_t b)
{
	if (b <= a)
		return 0;
	if (*n && (*v)[*n - 1].state == st && (*v)[*n - 1].end == a) {
		(*v)[*n - 1].end = b;
		return 0;
	}
	if (grow((void **)v, cap, *n + 1, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = (struct tl_span){.start = a, .end = b, .state = st};
	return 0;
}

struct bin {
	uint64_t ns[TL_NSTATES];
	uint64_t idx, a, b;	/* bin number, extent covered in it */
	bool open;
};

/*
 * Downsample contiguous sorted spans to bins of r ns (at multiples of r): a bin is drawn
 * in the state that held most of it; runs of whole bins in one state stay one span. The
 * extent is unchanged. With out NULL it only counts the spans it would make (no memory
 * needed: how fit() finds the bin). 0 or -ENOMEM; *nout gets the count.
 */
static int downsample(const struct tl_span *v, size_t n, uint64_t r, struct tl_span **out,
		      size_t *nout, size_t *capout)
{
	struct tl_span last = {0};
	struct bin bn = {0};
	size_t count = 0;
	int ret = 0;

	/* one emitted span: merged into the last when it continues it in the same state */
#define EMIT(st_, a_, b_)                                                                  	do {                                                                               		if ((b_) > (a_)) {                                                         			if (count && last.state == (st_) && last.end == (a_)) {            				last.end = (b_);                                           				if (out)                                                   					(*out)[count - 1].end = (b_);                      			} else {                                                           				last = (struct tl_span){.start = (a_), .end = (b_),        							.state = (st_)};                   				if (out && grow((void **)out, capout, count + 1,           						sizeof(**out)))                            					ret = -ENOMEM;                                     				else if (out)                                              					(*out)[count] = last;                              				count++;                                                   			}                                                                  		}                                                                          	} while (0)
#define CLOSE_BIN()                                                                        	do {                                                                               		if (bn.open) {                                                             			int best_ = 0;                                                                                                                                                			bn.open = false;                                                   			for (int s_ = 1; s_ < TL_NSTATES; s_++)                            				if (bn.ns[s_] > bn.ns[best_])                              					best_ = s_;                                        			EMIT((enum tl_state)best_, bn.a, bn.b);                            		}                                                                          	} while (0)

	for (size_t i = 0; i < n && !ret; i++) {
		uint64_t a = v[i].start, b = v[i].end;
		enum tl_state st = v[i].state;

		while (a < b && !ret) {
			uint64_t idx = a / r, lo = idx * r, hi = lo + r;

			if (bn.open && bn.idx != idx)
				CLOSE_BIN();
			if (!bn.open && a == lo && b >= hi) {
				/* whole bins in one state */
				uint64_t e = lo + (b - lo) / r * r;

				EMIT(st, a, e);
				a = e;
				continue;
			}
			if (!bn.open) {
				memset(&bn, 0, sizeof(bn));
				bn.open = true;
				bn.idx = idx;
				bn.a = a;
			}
			bn.b = min64(b, hi);
			bn.ns[st] += bn.b - a;
			a = bn.b;
			if (a == hi)
				CLOSE_BIN();
		}
	}
	if (!ret)
		CLOSE_BIN();
#undef CLOSE_BIN
#undef EMIT
	*nout = count;
	return ret;
}

/* Downsample *v in place of itself (see downsample). 0 or -ENOMEM. */
static int coarsen(struct tl_span **v, size_t *n, size_t *cap, uint64_t r)
{
	struct tl_span *out = NULL;
	size_t nout = 0, capout = 0;
	int ret = downsample(*v, *n, r, &out, &nout, &capout);

	if (ret) {
		free(out);
		return ret;
	}
	free(*v);
	*v = out;
	*n = nout;
	*cap = capout;
	return 0;
}

/* I/O-in-flight intervals (normalized) at resolution r: gaps shorter than r are closed. */
static size_t coarsen_iv(struct tl_interval *iv, size_t n, uint64_t r)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (o && iv[i].start - iv[o - 1].end < r) {
			iv[o - 1].end = max64(iv[o - 1].end, iv[i].end);
			continue;
		}
		iv[o++] = iv[i];
	}
	return o;
}

static size_t budget_of(const struct tl_timeline *tl)
{
	return tl->span_budget ? tl->span_budget : TL_SPAN_BUDGET;
}

/*
 * Downsample, doubling the bin, until the kept spans fit in limit: the folded history
 * only (all = false, in tl_cut) or every span (in tl_finish). Gives up once a bin is as
 * long as the time covered: each thread then has a span or two, however many threads.
 * 1 if it downsampled, 0 if it did not need to, or -ENOMEM.
 */
static int fit(struct tl_timeline *tl, size_t limit, bool all, uint64_t span_ns)
{
	size_t total = all ? tl->nio : tl->nhist_io;
	uint64_t r = tl->resolution_ns;

	for (size_t i = 0; i < tl->nthreads; i++)
		total += all ? tl->threads[i].nspans : tl->threads[i].nhist;
	if (total <= limit || r > span_ns)
		return 0;	/* fits, or bins already as long as the time covered */
	/* find the bin by counting (cheap), then downsample once */
	do {
		size_t n;

		r = r ? r * 2 : TL_RES0;
		total = 0;
		for (size_t i = 0; i < tl->nthreads; i++) {
			const struct tl_thread *t = &tl->threads[i];

			downsample(all ? t->spans : t->hist, all ? t->nspans : t->nhist, r, NULL,
				   &n, NULL);
			total += n;
		}
		/* I/O intervals shrink too; counted as they are, an upper bound */
		total += all ? tl->nio : tl->nhist_io;
	} while (total > limit && r <= span_ns);
	tl->resolution_ns = r;
	for (size_t i = 0; i < tl->nthreads; i++) {
		struct tl_thread *t = &tl->threads[i];
		size_t cap = 0;
		int ret = all ? coarsen(&t->spans, &t->nspans, &cap, r)
			      : coarsen(&t->hist, &t->nhist, &t->caphist, r);

		if (ret)
			return ret;
	}
	if (all)
		tl->nio = coarsen_iv(tl->io, tl->nio, r);
	else
		tl->nhist_io = coarsen_iv(tl->hist_io, tl->nhist_io, r);
	return 1;
}

size_t tl_pending(const struct tl_timeline *tl)
{
	size_t n = tl->nopen_io;

	for (size_t i = 0; i < tl->nthreads; i++)
		n += tl->threads[i].nraw;
	return n;
}

void tl_set_span_budget(struct tl_timeline *tl, size_t n)
{
	tl->span_budget = n;
}

/*
 * Fold one thread's head (its spans over [from, upto), exact) into its history; the head's
 * spans are downsampled first when the history already is.
 */
static int fold_thread(struct tl_timeline *tl, struct tl_thread *t, struct tl_thread *h)
{
	size_t k = 0, cap = h->nspans;

	if (h->end <= h->start || !h->nspans)
		return 0;
	if (t->hist_last < 0)
		t->hist_start = h->start;
	else if (tl_state_on_cpu((enum tl_state)t->hist_last) &&
		 !tl_state_on_cpu(h->spans[0].state))
		t->hist_switches++;
	t->hist_end = h->end;
	t->hist_switches += count_switches(h->spans, h->nspans);
	t->hist_last = (int)h->spans[h->nspans - 1].state;
	for (int s = 0; s < TL_NSTATES; s++)
		t->hist_state_ns[s] += h->state_ns[s];
	if (tl->resolution_ns && coarsen(&h->spans, &h->nspans, &cap, tl->resolution_ns))
		return -ENOMEM;
	/* the first joins the last folded span if it continues it */
	if (h->nspans && t->nhist && t->hist[t->nhist - 1].state == h->spans[0].state &&
	    t->hist[t->nhist - 1].end == h->spans[0].start) {
		t->hist[t->nhist - 1].end = h->spans[0].end;
		k = 1;
	}
	if (h->nspans <= k)
		return 0;
	if (grow((void **)&t->hist, &t->caphist, t->nhist + h->nspans - k, sizeof(*t->hist)))
		return -ENOMEM;
	memcpy(t->hist + t->nhist, h->spans + k, (h->nspans - k) * sizeof(*t->hist));
	t->nhist += h->nspans - k;
	return 0;
}

/* After the head [.., upto) went into the history: the thread's events from upto on. */
static int keep_tail(struct tl_thread *t, size_t k, uint64_t upto)
{
	struct tl_raw *n;
	size_t rest = t->nraw - k;

	if (t->has_exit && t->exit_ts <= upto) {
		/* dead by the cut: nothing of it is left to come */
		free(t->raw);
		t->raw = NULL;
		t->nraw = t->capraw = 0;
		return 0;
	}
	if (!k)
		return 0;
	/* the state it was in at the cut opens what follows */
	n = malloc((rest + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	n[0] = (struct tl_raw){.ts = upto, .state = t->raw[k - 1].state};
	memcpy(n + 1, t->raw + k, rest * sizeof(*n));
	free(t->raw);
	t->raw = n;
	t->nraw = t->capraw = rest + 1;
	return 0;
}

int tl_cut(struct tl_timeline *tl, uint64_t win_start, uint64_t upto)
{
	uint64_t from = tl->cut_at ? tl->cut_at : win_start;
	struct tl_timeline head = {0};
	struct tl_ioreq *carry = NULL;
	size_t *split = NULL, ncarry = 0, p = 0;
	int ret = 0;

	if (!tl || tl->finished || tl->err || upto <= from || win_start > from)
		return tl && tl->err ? tl->err : -EINVAL;
	head.win_start = from;
	head.win_end = upto;
	head.nthreads = tl->nthreads;
	head.threads = calloc(tl->nthreads ? tl->nthreads : 1, sizeof(*head.threads));
	split = calloc(tl->nthreads ? tl->nthreads : 1, sizeof(*split));
	if (!head.threads || !split) {
		ret = -ENOMEM;
		goto out;
	}
	/* each thread's events before upto, as a thread of its own over [from, upto) */
	for (size_t i = 0; i < tl->nthreads && !ret; i++) {
		struct tl_thread *t = &tl->threads[i], *h = &head.threads[i];
		size_t k = 0;

		ret = sort_raw(t->raw, t->nraw);
		while (!ret && k < t->nraw && t->raw[k].ts < upto)
			k++;
		split[i] = k;
		h->raw = t->raw;
		h->nraw = k;
		h->has_exit = t->has_exit && t->exit_ts <= upto;
		h->exit_ts = t->exit_ts;
		if (!ret && k)
			ret = build_core(h, from, upto);
	}
	/* requests: edges before upto (and ends at it) pair up; those open carry over */
	if (!ret && tl->nopen_io) {
		ret = sort_ioreq(tl->open_io, tl->nopen_io);
		while (!ret && p < tl->nopen_io &&
		       (tl->open_io[p].ts < upto ||
			(tl->open_io[p].ts == upto && tl->open_io[p].end == 1)))
			p++;
		if (!ret)
			ret = io_pair(tl->open_io, p, from, upto, &head.io, &head.nio, &head.capio,
				      &tl->io_unmatched, &carry, &ncarry);
		if (!ret)
			head.nio = tl_iv_normalize(head.io, head.nio);
	}
	if (!ret)
		ret = sweep_from(&head, from, measure_seg, &tl->measure);
	for (size_t i = 0; i < tl->nthreads && !ret; i++) {
		ret = fold_thread(tl, &tl->threads[i], &head.threads[i]);
		if (!ret)
			ret = keep_tail(&tl->threads[i], split[i], upto);
	}
	for (size_t i = 0; i < head.nio && !ret; i++) {
		ret = iv_push(&tl->hist_io, &tl->nhist_io, &tl->caphist_io, head.io[i].start,
			      head.io[i].end, from, upto);
		/* touching the previous cut's last interval: one interval */
		if (!ret && tl->nhist_io > 1 &&
		    tl->hist_io[tl->nhist_io - 2].end >= tl->hist_io[tl->nhist_io - 1].start) {
			tl->hist_io[tl->nhist_io - 2].end = tl->hist_io[tl->nhist_io - 1].end;
			tl->nhist_io--;
		}
	}
	if (!ret && tl->nopen_io) {
		size_t rest = tl->nopen_io - p;
		struct tl_ioreq *n = malloc((ncarry + rest + 1) * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
		} else {
			if (ncarry)
				memcpy(n, carry, ncarry * sizeof(*n));
			if (rest)
				memcpy(n + ncarry, tl->open_io + p, rest * sizeof(*n));
			free(tl->open_io);
			tl->open_io = n;
			tl->nopen_io = tl->capopen_io = ncarry + rest;
			if (!tl->capopen_io)
				tl->capopen_io = 1;
		}
	}
	if (!ret) {
		tl->cut_at = upto;
		ret = fit(tl, budget_of(tl) / 2, false, upto - win_start);
		ret = ret > 0 ? 0 : ret;
	}
out:
	for (size_t i = 0; head.threads && i < head.nthreads; i++)
		free(head.threads[i].spans);
	free(head.threads);
	free(head.io);
	free(carry);
	free(split);
	/* half-folded is not a timeline: tl_finish reports it */
	if (ret && !tl->err)
		tl->err = ret;
	return ret;
}

/* The folded history in front of the thread's exact spans (built from tl->cut_at on). */
static int join_history(struct tl_thread *t)
{
	struct tl_span *v;
	size_t n = 0, cap;

	t->switches = count_switches(t->spans, t->nspans);
	if (t->hist_last < 0)
		return 0;
	if (t->nspans && tl_state_on_cpu((enum tl_state)t->hist_last) &&
	    !tl_state_on_cpu(t->spans[0].state))
		t->switches++;
	t->switches += t->hist_switches;
	for (int s = 0; s < TL_NSTATES; s++)
		t->state_ns[s] += t->hist_state_ns[s];
	if (t->end <= t->start)
		t->end = t->hist_end;
	t->start = t->hist_start;
	cap = t->nhist + t->nspans;
	v = malloc((cap ? cap : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (t->nhist)
		memcpy(v, t->hist, t->nhist * sizeof(*v));
	n = t->nhist;
	for (size_t k = 0; k < t->nspans; k++)
		span_put(&v, &n, &cap, t->spans[k].state, t->spans[k].start, t->spans[k].end);
	free(t->spans);
	free(t->hist);
	t->hist = NULL;
	t->nhist = t->caphist = 0;
	t->spans = v;
	t->nspans = n;
	return 0;
}

int tl_finish(struct tl_timeline *tl, uint64_t win_start, uint64_t win_end)
{
	uint64_t lo;
	int ret;

	if (!tl || tl->finished || win_end < win_start)
		return -EINVAL;
	if (tl->err)
		return tl->err;
	if (tl->cut_at && (win_start > tl->cut_at || win_end < tl->cut_at))
		return -EINVAL;
	lo = tl->cut_at ? tl->cut_at : win_start;
	tl->win_start = win_start;
	tl->win_end = win_end;
	for (size_t i = 0; i < tl->nthreads; i++) {
		ret = build_spans(&tl->threads[i], lo, win_end);
		if (ret)
			return ret;
	}
	ret = finish_io(tl, lo);
	/* the exact figures of what was not folded yet */
	if (!ret)
		ret = sweep_from(tl, lo, measure_seg, &tl->measure);
	for (size_t i = 0; i < tl->nthreads && !ret; i++)
		ret = join_history(&tl->threads[i]);
	if (!ret && tl->nhist_io) {
		for (size_t i = 0; i < tl->nio && !ret; i++)
			ret = iv_push(&tl->hist_io, &tl->nhist_io, &tl->caphist_io, tl->io[i].start,
				      tl->io[i].end, lo, win_end);
		if (!ret) {
			free(tl->io);
			tl->io = tl->hist_io;
			tl->nio = tl_iv_normalize(tl->io, tl->nhist_io);
			tl->capio = tl->caphist_io;
			tl->hist_io = NULL;
			tl->nhist_io = tl->caphist_io = 0;
		}
	}
	if (!ret)
		ret = finish_gaps(tl);
	if (ret)
		return ret;
	tl->exact_from = tl->resolution_ns ? tl->cut_at : win_start;
	ret = fit(tl, budget_of(tl), true, win_end - win_start);
	if (ret < 0)
		return ret;
	if (ret)
		tl->exact_from = win_end;
	tl->finished = 1;
	return 0;
}
