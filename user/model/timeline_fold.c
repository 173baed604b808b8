/* timeline_fold.c - tl_cut folds the past into exact figures as a run goes on; tl_finish. */
#include "timeline_int.h"

/* Switch-outs (on CPU -> off CPU) between consecutive spans. */
static uint64_t count_switches(const struct tl_span *s, size_t n)
{
	uint64_t k = 0;

	for (size_t i = 1; i < n; i++)
		k += tl_state_on_cpu(s[i - 1].state) && !tl_state_on_cpu(s[i].state);
	return k;
}

/* Append a span to *v, merged into the last when it continues it. 0 or -ENOMEM. */
static int span_put(struct tl_span **v, size_t *n, size_t *cap, const struct tl_span *sp)
{
	uint64_t a = sp->start, b = sp->end;

	if (b <= a)
		return 0;
	if (*n && (*v)[*n - 1].state == sp->state && (*v)[*n - 1].kind == sp->kind &&
	    (*v)[*n - 1].end == a) {
		(*v)[*n - 1].end = b;
		return 0;
	}
	if (tli_grow((void **)v, cap, *n + 1, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = *sp;
	return 0;
}

static size_t budget_of(const struct tl_timeline *tl)
{
	return tl->span_budget ? tl->span_budget : TL_SPAN_BUDGET;
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
	{
		t->hist_state_ns[s] += h->state_ns[s];
		for (int k = 0; k < TL_NKINDS; k++)
			t->hist_kind_ns[s][k] += h->kind_ns[s][k];
	}
	if (tl->resolution_ns && tli_coarsen(&h->spans, &h->nspans, &cap, tl->resolution_ns))
		return -ENOMEM;
	/* the first joins the last folded span if it continues it */
	if (h->nspans && t->nhist && t->hist[t->nhist - 1].state == h->spans[0].state &&
	    t->hist[t->nhist - 1].kind == h->spans[0].kind &&
	    t->hist[t->nhist - 1].end == h->spans[0].start) {
		t->hist[t->nhist - 1].end = h->spans[0].end;
		k = 1;
	}
	if (h->nspans <= k)
		return 0;
	if (tli_grow((void **)&t->hist, &t->caphist, t->nhist + h->nspans - k, sizeof(*t->hist)))
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
	n[0] = (struct tl_raw){.ts = upto, .state = t->raw[k - 1].state, .kind = t->raw[k - 1].kind};
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

		ret = tli_sort_raw(t->raw, t->nraw);
		while (!ret && k < t->nraw && t->raw[k].ts < upto)
			k++;
		split[i] = k;
		h->raw = t->raw;
		h->nraw = k;
		h->has_exit = t->has_exit && t->exit_ts <= upto;
		h->exit_ts = t->exit_ts;
		if (!ret && k)
			ret = tli_build_core(h, from, upto);
	}
	/* requests: edges before upto (and ends at it) pair up; those open carry over */
	if (!ret && tl->nopen_io) {
		ret = tli_sort_ioreq(tl->open_io, tl->nopen_io);
		while (!ret && p < tl->nopen_io &&
		       (tl->open_io[p].ts < upto ||
			(tl->open_io[p].ts == upto && tl->open_io[p].end == 1)))
			p++;
		if (!ret)
			ret = tli_io_pair(tl->open_io, p, from, upto, &head.io, &head.nio, &head.capio,
				      &tl->io_unmatched, &carry, &ncarry);
		if (!ret)
			head.nio = tl_iv_normalize(head.io, head.nio);
	}
	if (!ret)
		ret = tli_take_blk(tl, from, upto, &head.blk, &head.nblk);
	if (!ret)
		ret = tli_sweep_from(&head, from, tli_measure_seg, &tl->measure);
	for (size_t i = 0; i < tl->nthreads && !ret; i++) {
		ret = fold_thread(tl, &tl->threads[i], &head.threads[i]);
		if (!ret)
			ret = keep_tail(&tl->threads[i], split[i], upto);
	}
	for (size_t i = 0; i < head.nio && !ret; i++) {
		ret = tli_iv_push(&tl->hist_io, &tl->nhist_io, &tl->caphist_io, head.io[i].start,
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
		ret = tli_fit(tl, budget_of(tl) / 2, false, upto - win_start);
		ret = ret > 0 ? 0 : ret;
	}
out:
	for (size_t i = 0; head.threads && i < head.nthreads; i++)
		free(head.threads[i].spans);
	free(head.threads);
	free(head.io);
	free(head.blk);
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
	{
		t->state_ns[s] += t->hist_state_ns[s];
		for (int k = 0; k < TL_NKINDS; k++)
			t->kind_ns[s][k] += t->hist_kind_ns[s][k];
	}
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
		span_put(&v, &n, &cap, &t->spans[k]);
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
		ret = tli_build_spans(&tl->threads[i], lo, win_end);
		if (ret)
			return ret;
	}
	ret = tli_finish_io(tl, lo);
	if (!ret) {
		struct tl_interval *blk;
		size_t nblk;

		ret = tli_take_blk(tl, lo, win_end, &blk, &nblk);
		free(tl->blk);
		tl->blk = blk;
		tl->nblk = nblk;
		tl->capblk = nblk;
	}
	/* the exact figures of what was not folded yet; block requests are needed no more */
	if (!ret)
		ret = tli_sweep_from(tl, lo, tli_measure_seg, &tl->measure);
	free(tl->blk);
	tl->blk = NULL;
	tl->nblk = tl->capblk = 0;
	for (size_t i = 0; i < tl->nthreads && !ret; i++)
		ret = join_history(&tl->threads[i]);
	if (!ret && tl->nhist_io) {
		for (size_t i = 0; i < tl->nio && !ret; i++)
			ret = tli_iv_push(&tl->hist_io, &tl->nhist_io, &tl->caphist_io, tl->io[i].start,
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
		ret = tli_finish_gaps(tl);
	if (ret)
		return ret;
	tl->exact_from = tl->resolution_ns ? tl->cut_at : win_start;
	ret = tli_fit(tl, budget_of(tl), true, win_end - win_start);
	if (ret < 0)
		return ret;
	if (ret)
		tl->exact_from = win_end;
	tl->finished = 1;
	return 0;
}
