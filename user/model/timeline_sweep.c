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

/* Where a span's thread is counted beyond its state (TL_N_*), or -1. */
static int extra_count(const struct tl_span *sp)
{
	if (sp->state == TL_IO_WAIT && sp->kind != TL_IOK_NONE && sp->kind != TL_IOK_FILE)
		return TL_N_IO_WAIT_PEER;
	if (sp->state == TL_LOCK_WAIT && (sp->kind == TL_LK_MUTEX || sp->kind == TL_LK_GIL))
		return TL_N_LOCK_CONTENDED;
	if (sp->state == TL_OTHER_WAIT && sp->kind == TL_OWK_CHILD)
		return TL_N_CHILD_WAIT;
	if (sp->state == TL_POLL_WAIT && (sp->kind == TL_IOK_PIPE || sp->kind == TL_IOK_SOCKET))
		return TL_N_POLL_PEER;
	return -1;
}

static void count_span(uint32_t *nstate, const struct tl_span *sp, int d)
{
	int x = extra_count(sp);

	nstate[sp->state] += (uint32_t)d;
	if (x >= 0)
		nstate[x] += (uint32_t)d;
}

/* The interval sets the sweep merges with the threads: requests, then block requests. */
#define NIVSRC 2

/*
 * Each thread's spans are contiguous and sorted, so a thread is a stream of boundaries:
 * at spans[i].start it leaves spans[i-1].state and enters spans[i].state, and at the
 * last span's end it leaves. A heap merges the threads' streams (and the in-flight sets')
 * in time order; between two consecutive boundary instants nothing changes.
 */
int tli_sweep_from(const struct tl_timeline *tl, uint64_t from, tl_sweep_fn fn, void *ctx)
{
	const struct tl_interval *ivs[NIVSRC] = {tl->io, tl->blk};
	const size_t nivs[NIVSRC] = {tl->nio, tl->nblk};
	uint32_t nstate[TL_NCOUNT] = {0};
	size_t nsrc = 0, n = 0, *cur;
	struct hnode *h;
	uint32_t *map;
	uint64_t prev;
	unsigned io = 0;

	h = malloc((tl->nthreads + NIVSRC) * sizeof(*h));
	cur = calloc(tl->nthreads + NIVSRC, sizeof(*cur));
	map = malloc((tl->nthreads + NIVSRC) * sizeof(*map));
	if (!h || !cur || !map) {
		free(h);
		free(cur);
		free(map);
		return -ENOMEM;
	}
	/* a source is a thread with spans (map: its index) or interval set j (UINT32_MAX - j) */
	for (size_t i = 0; i < tl->nthreads; i++) {
		if (!tl->threads[i].nspans)
			continue;
		map[nsrc] = (uint32_t)i;
		h[n++] = (struct hnode){tl->threads[i].spans[0].start, (uint32_t)nsrc};
		nsrc++;
	}
	for (unsigned j = 0; j < NIVSRC; j++) {
		if (!nivs[j])
			continue;
		map[nsrc] = UINT32_MAX - j;
		h[n++] = (struct hnode){ivs[j][0].start, (uint32_t)nsrc};
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

			if (map[k] > UINT32_MAX - NIVSRC) {
				unsigned j = UINT32_MAX - map[k];
				const struct tl_interval *v = ivs[j];

				/* even cursor: an interval starts; odd: it ends */
				if (!(c & 1))
					io |= 1u << j;
				else
					io &= ~(1u << j);
				more = c + 1 < 2 * nivs[j];
				if (more)
					h[0].key = (c + 1) & 1 ? v[(c + 1) / 2].end : v[(c + 1) / 2].start;
			} else {
				const struct tl_thread *th = &tl->threads[map[k]];

				if (c > 0)
					count_span(nstate, &th->spans[c - 1], -1);
				if (c < th->nspans)
					count_span(nstate, &th->spans[c], 1);
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

int tli_take_blk(struct tl_timeline *tl, uint64_t lo, uint64_t hi, struct tl_interval **out,
		 size_t *n)
{
	size_t cap = 0, keep = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < tl->nblk; i++) {
		struct tl_interval b = tl->blk[i];

		if (tli_iv_push(out, n, &cap, b.start, b.end, lo, hi))
			return -ENOMEM;
		if (b.end > hi)
			tl->blk[keep++] = (struct tl_interval){max64(b.start, hi), b.end};
	}
	tl->nblk = keep;
	*n = tl_iv_normalize(*out, *n);
	/* kept as the device's busy time: cuts come in time order, so appending keeps it sorted */
	for (size_t i = 0; i < *n; i++) {
		struct tl_interval b = (*out)[i];

		if (tl->ndev && tl->dev[tl->ndev - 1].end >= b.start) {
			tl->dev[tl->ndev - 1].end = max64(tl->dev[tl->ndev - 1].end, b.end);
			continue;
		}
		if (tli_iv_push(&tl->dev, &tl->ndev, &tl->capdev, b.start, b.end, lo, hi))
			return -ENOMEM;
	}
	return 0;
}

int tl_sweep(const struct tl_timeline *tl, tl_sweep_fn fn, void *ctx)
{
	if (!tl || !tl->finished)
		return -EINVAL;
	return tli_sweep_from(tl, tl->win_start, fn, ctx);
}

/*
 * One pass gives every union of docs/time-model.md, the bounds and the capacity: all of
 * them functions of the segment's counts, so they add up over segments exactly.
 */
void tli_measure_seg(void *p, uint64_t t0, uint64_t t1, const uint32_t *n, unsigned io)
{
	struct tl_measure *m = p;
	uint64_t dt = t1 - t0;
	unsigned oncpu = n[TL_COMPUTE] + n[TL_IO_CPU];
	unsigned storage = n[TL_IO_WAIT] - n[TL_N_IO_WAIT_PEER];
	bool busy = oncpu > 0, computing = n[TL_COMPUTE] > 0;
	enum tl_bound b;

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
		else if (!io && !n[TL_IO_CPU] && n[TL_IO_WAIT] == n[TL_N_IO_WAIT_PEER])
			m->io_peer_exposed += dt;
		/* the kernel's own I/O for the run (readahead): nothing of the run asked yet */
		if (!(io & TL_IO_REQ) && !n[TL_IO_CPU] && !n[TL_IO_WAIT]) {
			m->io_block_only += dt;
			if (computing)
				m->io_block_only_computing += dt;
		}
	}
	m->oncpu[oncpu < TL_MAX_K ? oncpu : TL_MAX_K] += dt;

	if (computing)
		b = TL_B_CPU;
	else if (n[TL_IO_CPU])
		b = TL_B_READ_CPU;
	else if (storage || io)
		b = TL_B_DEVICE;
	else if (n[TL_N_LOCK_CONTENDED])
		b = TL_B_LOCK;
	else if (n[TL_RUNNABLE])
		b = TL_B_CPU_WAIT;
	else if (n[TL_N_IO_WAIT_PEER] || n[TL_N_CHILD_WAIT] || n[TL_N_POLL_PEER])
		b = TL_B_PEER;
	else
		b = TL_B_IDLE;
	m->bound[b] += dt;

	if (m->ncpu) {
		unsigned idle = oncpu < m->ncpu ? m->ncpu - oncpu : 0, k;

		m->oncpu_ns += (uint64_t)oncpu * dt;
		k = n[TL_RUNNABLE] < idle ? n[TL_RUNNABLE] : idle;
		m->unused[TL_U_WAKEUP] += (uint64_t)k * dt;
		idle -= k;
		k = n[TL_N_LOCK_CONTENDED] < idle ? n[TL_N_LOCK_CONTENDED] : idle;
		m->unused[TL_U_LOCK] += (uint64_t)k * dt;
		idle -= k;
		k = storage < idle ? storage : idle;
		m->unused[TL_U_DEVICE] += (uint64_t)k * dt;
		idle -= k;
		m->unused[TL_U_SERIAL] += (uint64_t)idle * dt;
	}
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
	int in = (u->mask & TL_MASK_IO) && (io & TL_IO_REQ);

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
