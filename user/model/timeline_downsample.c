/* timeline_downsample.c - spans binned coarser, the bin doubling, until they fit the budget. */
#include "timeline_int.h"

#define TL_RES0 1000ULL	/* first downsampling bin: 1 µs */

struct bin {
	uint64_t ns[TL_NSTATES];
	uint64_t idx, a, b;	/* bin number, extent covered in it */
	bool open;
};

/* What downsample() has made so far: the spans (out NULL: only counted) and the last. */
struct ds_out {
	struct tl_span **out;
	size_t *capout;
	struct tl_span last;
	size_t count;
	int err;		/* -ENOMEM once out could not grow; sticky */
};

/* One span of the output: merged into the last when it continues it in the same state. */
static inline void ds_emit(struct ds_out *o, enum tl_state st, uint64_t a, uint64_t b)
{
	if (b <= a)
		return;
	if (o->count && o->last.state == st && o->last.end == a) {
		o->last.end = b;
		if (o->out)
			(*o->out)[o->count - 1].end = b;
		return;
	}
	o->last = (struct tl_span){.start = a, .end = b, .state = st};
	if (o->out && tli_grow((void **)o->out, o->capout, o->count + 1, sizeof(**o->out)))
		o->err = -ENOMEM;
	else if (o->out)
		(*o->out)[o->count] = o->last;
	o->count++;
}

/* An open bin is done: it becomes one span, in the state that held most of it. */
static inline void ds_close_bin(struct ds_out *o, struct bin *bn)
{
	int best = 0;

	if (!bn->open)
		return;
	bn->open = false;
	for (int s = 1; s < TL_NSTATES; s++)
		if (bn->ns[s] > bn->ns[best])
			best = s;
	ds_emit(o, (enum tl_state)best, bn->a, bn->b);
}

/*
 * Downsample contiguous sorted spans to bins of r ns (at multiples of r): a bin is drawn
 * in the state that held most of it; runs of whole bins in one state stay one span. The
 * extent is unchanged. With out NULL it only counts the spans it would make (no memory
 * needed: how tli_fit() finds the bin). 0 or -ENOMEM; *nout gets the count.
 */
static int downsample(const struct tl_span *v, size_t n, uint64_t r, struct tl_span **out,
		      size_t *nout, size_t *capout)
{
	struct ds_out o = {.out = out, .capout = capout};
	struct bin bn = {0};

	for (size_t i = 0; i < n && !o.err; i++) {
		uint64_t a = v[i].start, b = v[i].end;
		enum tl_state st = v[i].state;

		while (a < b && !o.err) {
			uint64_t idx = a / r, lo = idx * r, hi = lo + r;

			if (bn.open && bn.idx != idx)
				ds_close_bin(&o, &bn);
			if (!bn.open && a == lo && b >= hi) {
				/* whole bins in one state */
				uint64_t e = lo + (b - lo) / r * r;

				ds_emit(&o, st, a, e);
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
				ds_close_bin(&o, &bn);
		}
	}
	if (!o.err)
		ds_close_bin(&o, &bn);
	*nout = o.count;
	return o.err;
}

/* Downsample *v in place of itself (see downsample). 0 or -ENOMEM. */
int tli_coarsen(struct tl_span **v, size_t *n, size_t *cap, uint64_t r)
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

/*
 * Downsample, doubling the bin, until the kept spans fit in limit: the folded history
 * only (all = false, in tl_cut) or every span (in tl_finish). Gives up once a bin is as
 * long as the time covered: each thread then has a span or two, however many threads.
 * 1 if it downsampled, 0 if it did not need to, or -ENOMEM.
 */
int tli_fit(struct tl_timeline *tl, size_t limit, bool all, uint64_t span_ns)
{
	size_t total = (all ? tl->nio : tl->nhist_io) + tl->ndev;
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
		total += (all ? tl->nio : tl->nhist_io) + tl->ndev;
	} while (total > limit && r <= span_ns);
	tl->resolution_ns = r;
	for (size_t i = 0; i < tl->nthreads; i++) {
		struct tl_thread *t = &tl->threads[i];
		size_t cap = 0;
		int ret = all ? tli_coarsen(&t->spans, &t->nspans, &cap, r)
			      : tli_coarsen(&t->hist, &t->nhist, &t->caphist, r);

		if (ret)
			return ret;
	}
	if (all)
		tl->nio = coarsen_iv(tl->io, tl->nio, r);
	else
		tl->nhist_io = coarsen_iv(tl->hist_io, tl->nhist_io, r);
	/* the device's busy time kept so far is all history (measured up to the cut) */
	tl->ndev = coarsen_iv(tl->dev, tl->ndev, r);
	return 1;
}
