/* timeline_sweep.c - interval sets; the sweep over all threads behind unions and histogram. */
#include "timeline_int.h"

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
	if (tli_sort_iv(iv, n))
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

/* Append [a, b) clipped to [lo, hi), if anything is left of it. 0 or -ENOMEM. */
int tli_iv_push(struct tl_interval **v, size_t *n, size_t *cap, uint64_t a, uint64_t b,
		   uint64_t lo, uint64_t hi)
{
	a = max64(a, lo);
	b = min64(b, hi);
	if (b <= a)
		return 0;
	if (tli_grow((void **)v, cap, *n + 1, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = (struct tl_interval){a, b};
	return 0;
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
int tli_sweep_from(const struct tl_timeline *tl, uint64_t from, tl_sweep_fn fn, void *ctx)
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
	return tli_sweep_from(tl, tl->win_start, fn, ctx);
}

/* One pass gives every union of docs/time-model.md. */
void tli_measure_seg(void *p, uint64_t t0, uint64_t t1, const uint32_t *n, unsigned io)
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
	if (tli_grow((void **)&u->v, &u->cap, u->n + 1, sizeof(*u->v))) {
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
