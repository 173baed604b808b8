/* timeline_spans.c - a thread's raw events into spans clipped to the window; its gaps. */
#include "timeline_int.h"

/* One span of t, clipped to its lifetime; merged into the last when it continues it. */
static void span_emit(struct tl_thread *t, int state, unsigned kind, uint64_t a, uint64_t b)
{
	struct tl_span *last;

	a = max64(a, t->start);
	b = min64(b, t->end);
	if (b <= a)
		return;
	t->state_ns[state] += b - a;
	t->kind_ns[state][kind % TL_NKINDS] += b - a;
	last = t->nspans ? &t->spans[t->nspans - 1] : NULL;
	if (last && last->state == (enum tl_state)state && last->kind == kind && last->end == a) {
		last->end = b;
		return;
	}
	t->spans[t->nspans++] =
		(struct tl_span){.start = a, .end = b, .state = state, .kind = (uint8_t)kind};
}

/* Spans of t over [ws, we) from its raw events (sorted here), which it leaves in place. */
int tli_build_core(struct tl_thread *t, uint64_t ws, uint64_t we)
{
	uint64_t death, cur_ts;
	int cur, ret;
	unsigned kind;

	memset(t->state_ns, 0, sizeof(t->state_ns));
	memset(t->kind_ns, 0, sizeof(t->kind_ns));
	t->nspans = 0;
	t->spans = NULL;
	death = t->has_exit ? t->exit_ts : we;
	if (!t->nraw) {
		/* seen only exiting or losing events: no known state, so no lifetime */
		t->start = t->end = min64(max64(death, ws), we);
		return 0;
	}
	ret = tli_sort_raw(t->raw, t->nraw);
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
	kind = t->raw[0].kind;
	cur_ts = t->raw[0].ts;
	for (size_t i = 1; i < t->nraw; i++) {
		uint64_t ts = t->raw[i].ts;

		if (ts > death)
			break;	/* after the exit: stale or misattributed, ignored */
		span_emit(t, cur, kind, cur_ts, ts);
		cur = t->raw[i].state;
		kind = t->raw[i].kind;
		cur_ts = ts;
	}
	span_emit(t, cur, kind, cur_ts, death);
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

int tli_build_spans(struct tl_thread *t, uint64_t ws, uint64_t we)
{
	int ret = tli_build_core(t, ws, we);

	free(t->raw);
	t->raw = NULL;
	t->nraw = t->capraw = 0;
	return ret;
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

int tli_finish_gaps(struct tl_timeline *tl)
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
		long k = tli_tid_lookup(tl, tl->gapraw[i].tid);

		if (k >= 0)
			g[n++] = (struct gapref){(size_t)tli_route(tl, k, tl->gapraw[i].from),
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
