/* timeline_svg.c - per-run timeline SVG: a lane per thread colored by state, I/O in flight, threads on CPU. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "report.h"

/*
 * Everything drawn is the model's: the threads' spans, U_io from tl_union_states and the
 * count of threads on CPU from tl_sweep. The renderer only resamples them to pixel
 * columns so a long run stays small: a column shows the state a thread spent most of
 * it in, and each state of a lane is one <path> of rectangles. What the columns hide
 * (exact totals) is in the lanes' hover titles, taken from the model as well.
 *
 * Zoom shows real detail: besides the 960 columns drawn, the same lanes are resampled at
 * 4, 16, 64 and 256 times the columns (each column again the state that held most of it),
 * run-length encoded into a <metadata> element, as many of those levels as fit a byte
 * budget, the cheapest refinements first (report.html's budget is small: a dozen
 * timelines share its weight). When the view is zoomed, the script draws each lane in the
 * window from the level with a column per unit of the plot, or the finest it has, and
 * says the columns' width.
 */

#define TL_W 1200.0
#define TL_X0 180	/* plot starts after the lane labels */
#define TL_PW 960	/* plot width in columns (user units); the CPU count label follows */
#define TL_TOP 66
#define TL_LH 14	/* lane height */
#define TL_PITCH 18
#define TL_CPU_H 48	/* the threads-on-CPU lane */
/* finer levels: TL_LEVEL_STEP^k times TL_PW columns, k = 1..TL_LEVELS */
#define TL_LEVELS 4
#define TL_LEVEL_STEP 4
/* the levels' bytes, at most, unless the caller says (report.html shares its budget) */
#define TL_DETAIL_EMBED (16 * 1024)
#define TL_DETAIL_FILE (256 * 1024)
/* not state colors: these lanes are not states */
#define TL_IO_COLOR "#795548"
#define TL_CPU_COLOR "#455a64"

struct tls {
	FILE *f;
	const struct an_run *run;
	const struct tl_timeline *tl;
	double pxns;		/* ns per column */
	double *bins;		/* [TL_NSTATES][TL_PW] ns per state per column, one lane at a time */
	double *cpu;		/* [TL_PW] thread-ns on CPU per column */
	double cpu_top;		/* threads at the top of the CPU lane */
};

/* Add [t0, t1) (ns from the window start) to column bins b. */
static void spread(double *b, double pxns, double t0, double t1, double weight)
{
	long p0 = (long)(t0 / pxns), p1 = (long)(t1 / pxns);

	if (p0 < 0)
		p0 = 0;
	if (p1 >= TL_PW)
		p1 = TL_PW - 1;
	for (long p = p0; p <= p1 && t1 > t0; p++) {
		double a = fmax(t0, p * pxns), e = fmin(t1, (p + 1) * pxns);

		if (e > a)
			b[p] += (e - a) * weight;
	}
}

/* One path per state: the columns where that state dominated, as runs of rectangles. */
static void lane_paths(struct tls *s, unsigned y, const char *who)
{
	signed char dom[TL_PW];

	for (int p = 0; p < TL_PW; p++) {
		double best = 0;

		dom[p] = -1;
		for (int st = 0; st < TL_NSTATES; st++)
			if (s->bins[st * TL_PW + p] > best) {
				best = s->bins[st * TL_PW + p];
				dom[p] = (signed char)st;
			}
	}
	for (int st = 0; st < TL_NSTATES; st++) {
		bool open = false;

		for (int p = 0; p < TL_PW;) {
			int q = p;

			if (dom[p] != st) {
				p++;
				continue;
			}
			while (q < TL_PW && dom[q] == st)
				q++;
			if (!open) {
				fprintf(s->f, "<path fill=\"%s\" d=\"", rp_state_color((enum tl_state)st));
				open = true;
			}
			fprintf(s->f, "M%d %uh%dv%dh-%dz", TL_X0 + p, y, q - p, TL_LH, q - p);
			p = q;
		}
		if (open) {
			fputs("\"><title>", s->f);
			rp_xml(s->f, who, SIZE_MAX);
			fprintf(s->f, ": %s</title></path>", tl_state_name((enum tl_state)st));
		}
	}
	fputc('\n', s->f);
}

/*
 * The thread's exact totals: the model's (run->threads), since the lane's spans may be
 * downsampled (and a timeline reloaded from spans.tsv only has those). A reused tid is
 * matched in order. The timeline's own totals if the model has no such thread.
 */
static const uint64_t *exact_states(const struct tls *s, const struct tl_thread *t)
{
	size_t k = 0;

	for (const struct tl_thread *o = s->tl->threads; o < t; o++)
		k += o->tid == t->tid && o->nspans;
	for (size_t i = 0; i < s->run->nthreads; i++)
		if (s->run->threads[i].tid == t->tid && k-- == 0)
			return s->run->threads[i].states_ns;
	return t->state_ns;
}

static void thread_lane(struct tls *s, const struct tl_thread *t, unsigned y)
{
	const uint64_t *states = exact_states(s, t);
	char who[96];

	if (t->role[0])
		snprintf(who, sizeof(who), "%s (%" PRIu32 ")", t->role, t->tid);
	else
		snprintf(who, sizeof(who), "%s (%" PRIu32 ")", t->comm, t->tid);
	memset(s->bins, 0, sizeof(double) * TL_NSTATES * TL_PW);
	for (size_t i = 0; i < t->nspans; i++) {
		const struct tl_span *sp = &t->spans[i];

		if ((unsigned)sp->state >= TL_NSTATES || sp->end <= sp->start)
			continue;
		spread(s->bins + sp->state * TL_PW, s->pxns, (double)(sp->start - s->tl->win_start),
		       (double)(sp->end - s->tl->win_start), 1);
	}
	/* the label says who the lane is and carries its totals, which the pixel columns blur */
	fprintf(s->f, "<text class=\"tl-lab\" x=\"%d\" y=\"%u\" text-anchor=\"end\"><title>", TL_X0 - 8,
		y + TL_LH - 3);
	rp_xml(s->f, who, SIZE_MAX);
	fputs(" comm ", s->f);
	rp_xml(s->f, t->comm, strnlen(t->comm, sizeof(t->comm)));
	fputc(':', s->f);
	for (int st = 0; st < TL_NSTATES; st++)
		if (states[st])
			fprintf(s->f, " %s %s;", tl_state_name((enum tl_state)st), un_dur(states[st]).s);
	fputs("</title>", s->f);
	rp_xml(s->f, who, SIZE_MAX);
	fputs("</text>", s->f);
	lane_paths(s, y, who);
}

/* U_io as the model defines it, in columns: solid where it covers most of one. */
static int io_lane(struct tls *s, unsigned y)
{
	unsigned mask = 1u << TL_IO_CPU | 1u << TL_IO_WAIT | TL_MASK_IO;
	struct tl_interval *iv = NULL;
	long n = tl_union_states(s->tl, mask, &iv);
	double *cov = s->bins; /* reuse: one row */

	if (n < 0)
		return (int)n;
	memset(cov, 0, sizeof(double) * TL_PW);
	for (long i = 0; i < n; i++)
		spread(cov, s->pxns, (double)(iv[i].start - s->tl->win_start),
		       (double)(iv[i].end - s->tl->win_start), 1);
	free(iv);
	fprintf(s->f, "<text class=\"tl-lab\" x=\"%d\" y=\"%u\" text-anchor=\"end\"><title>"
		      "a thread inside a read-family syscall, or an io_uring request in flight: "
		      "%s of the run</title>I/O in flight</text>",
		TL_X0 - 8, y + TL_LH - 3, un_dur(s->run->io_ns).s);
	for (int pass = 0; pass < 2; pass++) {
		bool open = false;

		for (int p = 0; p < TL_PW;) {
			int q = p;
			bool solid = cov[p] >= s->pxns / 2;

			if (cov[p] <= 0 || solid != !pass) {
				p++;
				continue;
			}
			while (q < TL_PW && cov[q] > 0 && (cov[q] >= s->pxns / 2) == solid)
				q++;
			if (!open) {
				fprintf(s->f, "<path fill=\"%s\"%s d=\"", TL_IO_COLOR,
					pass ? " fill-opacity=\".4\"" : "");
				open = true;
			}
			fprintf(s->f, "M%d %uh%dv%dh-%dz", TL_X0 + p, y, q - p, TL_LH, q - p);
			p = q;
		}
		if (open)
			fprintf(s->f, "\"><title>I/O in flight%s</title></path>",
				pass ? " for part of this stretch" : "");
	}
	fputc('\n', s->f);
	return 0;
}

static void cpu_seg(void *ctx, uint64_t t0, uint64_t t1, const uint32_t *nstate, unsigned io)
{
	struct tls *s = ctx;
	unsigned k = nstate[TL_COMPUTE] + nstate[TL_IO_CPU];

	(void)io;
	if (k)
		spread(s->cpu, s->pxns, (double)(t0 - s->tl->win_start),
		       (double)(t1 - s->tl->win_start), k);
}

/* Threads on CPU per column (mean over the column), against the CPU count. */
static int cpu_lane(struct tls *s, unsigned y)
{
	unsigned ncpu = s->run->ncpu ? s->run->ncpu : 1, base = y + TL_CPU_H;
	double top = ncpu, prev = -1;
	int ret;

	memset(s->cpu, 0, sizeof(double) * TL_PW);
	ret = tl_sweep(s->tl, cpu_seg, s);
	if (ret)
		return ret;
	for (int p = 0; p < TL_PW; p++)
		top = fmax(top, ceil(s->cpu[p] / s->pxns));
	s->cpu_top = top;
	fprintf(s->f, "<text class=\"tl-lab\" x=\"%d\" y=\"%u\" text-anchor=\"end\"><title>"
		      "mean number of this run's threads on a CPU; parallelism %.2f over the run"
		      "</title>threads on CPU</text>"
		      "<text class=\"tl-tick\" x=\"%d\" y=\"%u\" text-anchor=\"end\">%.0f</text>"
		      "<text class=\"tl-tick\" x=\"%d\" y=\"%u\" text-anchor=\"end\">0</text>",
		TL_X0 - 8, y + TL_CPU_H / 2 + 4, s->run->parallelism, TL_X0 - 2, y + 9, top,
		TL_X0 - 2, base);
	fprintf(s->f, "<rect x=\"%d\" y=\"%u\" width=\"%d\" height=\"%d\" fill=\"#f1f1ee\"/>",
		TL_X0, y, TL_PW, TL_CPU_H);
	fprintf(s->f, "<path fill=\"%s\" d=\"M%d %u", TL_CPU_COLOR, TL_X0, base);
	for (int p = 0; p < TL_PW; p++) {
		double h = round(s->cpu[p] / s->pxns / top * TL_CPU_H * 10) / 10;

		if (h != prev)
			fprintf(s->f, "H%dV%.1f", TL_X0 + p, base - h);
		prev = h;
	}
	fprintf(s->f, "H%dV%uz\"><title>threads on CPU</title></path>", TL_X0 + TL_PW, base);
	/* the CPU count: above this line threads queue for a CPU */
	fprintf(s->f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" "
		      "stroke-dasharray=\"4 3\"><title>%u CPUs</title></line>"
		      "<text class=\"tl-tick\" x=\"%d\" y=\"%.1f\">%u CPU%s</text>\n",
		TL_X0, TL_X0 + TL_PW, base - ncpu / top * TL_CPU_H, base - ncpu / top * TL_CPU_H,
		ncpu, TL_X0 + TL_PW + 3, base - ncpu / top * TL_CPU_H + 4, ncpu,
		ncpu == 1 ? "" : "s");
	return 0;
}

/* Ticks at 1, 2 or 5 times a power of ten, about ten of them. */
static void axis(FILE *f, double wall_ms, unsigned y0, unsigned y1)
{
	double raw = wall_ms / 10, p = pow(10, floor(log10(raw > 0 ? raw : 1))), step;

	step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
	fprintf(f, "<g class=\"tl-axis\" data-y0=\"%u\" data-y1=\"%u\"><line x1=\"%d\" x2=\"%d\" y1=\"%u\" y2=\"%u\" stroke=\"#555\"/>",
		y0, y1, TL_X0, TL_X0 + TL_PW, y1, y1);
	for (double t = 0; t <= wall_ms * (1 + 1e-9) && wall_ms > 0; t += step) {
		double x = TL_X0 + t / wall_ms * TL_PW;

		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%u\" y2=\"%u\" stroke=\"#ddd\"/>"
			   "<text class=\"tl-tick\" x=\"%.1f\" y=\"%u\" text-anchor=\"middle\">%g</text>",
			x, x, y0, y1 + 4, x, y1 + 16, t);
	}
	fprintf(f, "<text class=\"tl-tick\" x=\"%d\" y=\"%u\" text-anchor=\"end\">ms</text></g>\n",
		TL_X0 - 8, y1 + 16);
}

static void legend_item(FILE *f, double *x, const char *col, const char *extra,
			const char *name)
{
	fprintf(f, "<rect x=\"%.0f\" y=\"44\" width=\"10\" height=\"10\" fill=\"%s\"%s/>"
		   "<text x=\"%.0f\" y=\"53\">%s</text>",
		*x, col, extra, *x + 14, name);
	*x += 24 + 7.0 * (double)strlen(name);
}

/* Every color the lanes use: the states, I/O in flight (solid where it covers most of a
 * column, pale where only part), threads on CPU. */
static void legend(FILE *f)
{
	double x = TL_X0 - 120;

	fputs("<g class=\"tl-legend\">", f);
	for (int st = 0; st < TL_NSTATES; st++)
		legend_item(f, &x, rp_state_color((enum tl_state)st), "",
			    tl_state_name((enum tl_state)st));
	legend_item(f, &x, TL_IO_COLOR, "", "I/O in flight");
	legend_item(f, &x, TL_IO_COLOR, " fill-opacity=\".4\"", "part of the column");
	legend_item(f, &x, TL_CPU_COLOR, "", "threads on CPU");
	fputs("</g>\n", f);
}

/* ---- finer levels ---- */

/*
 * A lane at one level, column by column, run-length encoded as it is swept: a symbol (a
 * state 'A'+state, '.' none; I/O '.' none, 'A' part of the column, 'B' most of it; threads
 * on CPU the height in pixels, 0-25 'A'-'Z', 26-51 'a'-'z') and its count in decimal when
 * more than 1. Writing stops (full) past max bytes: no level bigger than the budget.
 */
enum lv_kind { LV_STATE, LV_IO, LV_CPU };

struct lv_enc {
	char *b;
	size_t n, cap, max;
	bool full;		/* over max, or not wanted: nothing more is written */
	bool count;		/* only count the bytes (n) */
	int sym;		/* the pending run's, -2 before any */
	long cnt;
};

struct lv_col {
	enum lv_kind kind;
	double w;		/* ns per column */
	long ncols, cur;	/* the column being summed */
	double acc[TL_NSTATES];	/* ns per state (I/O, CPU: [0], thread-ns for CPU) */
	double top;		/* CPU: the lane's full height in threads */
	struct lv_enc e;
};

static void enc_write(struct lv_enc *e, int sym, long cnt)
{
	char tmp[24];
	int len;

	if (e->full || cnt <= 0)
		return;
	len = cnt > 1 ? snprintf(tmp, sizeof(tmp), "%c%ld", sym, cnt)
		      : snprintf(tmp, sizeof(tmp), "%c", sym);
	if (e->n + (size_t)len > e->max) {
		e->full = true;
		return;
	}
	if (e->count) {
		e->n += (size_t)len;
		return;
	}
	if (e->n + (size_t)len + 1 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;
		char *nb;

		while (cap < e->n + (size_t)len + 1)
			cap *= 2;
		nb = realloc(e->b, cap);
		if (!nb) {
			e->full = true;
			return;
		}
		e->b = nb;
		e->cap = cap;
	}
	memcpy(e->b + e->n, tmp, (size_t)len + 1);
	e->n += (size_t)len;
}

static void enc_put(struct lv_enc *e, int sym, long cnt)
{
	if (cnt <= 0)
		return;
	if (sym == e->sym) {
		e->cnt += cnt;
		return;
	}
	if (e->sym != -2)
		enc_write(e, e->sym, e->cnt);
	e->sym = sym;
	e->cnt = cnt;
}

static void enc_end(struct lv_enc *e)
{
	if (e->sym != -2)
		enc_write(e, e->sym, e->cnt);
	e->sym = -2;
}

static int height_sym(double threads, double top)
{
	long h = lround(threads / top * TL_CPU_H);

	h = h < 0 ? 0 : h > TL_CPU_H ? TL_CPU_H : h;
	return h < 26 ? 'A' + (int)h : 'a' + (int)h - 26;
}

/* The symbol of the summed column cur, as level 0 draws it (lane_paths, io_lane, cpu_lane). */
static int col_sym(const struct lv_col *c)
{
	double best = 0;
	int sym = '.';

	switch (c->kind) {
	case LV_STATE:
		for (int st = 0; st < TL_NSTATES; st++)
			if (c->acc[st] > best) {
				best = c->acc[st];
				sym = 'A' + st;
			}
		return sym;
	case LV_IO:
		return c->acc[0] >= c->w / 2 ? 'B' : c->acc[0] > 0 ? 'A' : '.';
	default:
		return height_sym(c->acc[0] / c->w, c->top);
	}
}

/* Close column cur, then columns up to `to` (exclusive) with nothing in them. */
static void col_close(struct lv_col *c, long to)
{
	enc_put(&c->e, col_sym(c), 1);
	memset(c->acc, 0, sizeof(c->acc));
	if (to > c->cur + 1)
		enc_put(&c->e, c->kind == LV_CPU ? height_sym(0, c->top) : '.', to - c->cur - 1);
	c->cur = to;
}

/* Add [a, b) ns from the window start, in state st (CPU: weight threads on CPU). */
static void col_add(struct lv_col *c, double a, double b, int st, double weight)
{
	double end = c->w * (double)c->ncols;

	a = fmax(a, 0);
	b = fmin(b, end);
	while (a < b && c->cur < c->ncols) {
		long col = (long)(a / c->w), last;
		double ce;

		col = col >= c->ncols ? c->ncols - 1 : col < c->cur ? c->cur : col;
		if (col > c->cur)
			col_close(c, col);
		ce = (double)(col + 1) * c->w;
		if (b <= ce) {
			c->acc[st] += (b - a) * weight;
			return;
		}
		c->acc[st] += (ce - a) * weight;
		/* the columns it covers whole are its own: no sums needed */
		last = (long)(b / c->w);
		last = last > c->ncols ? c->ncols : last;
		col_close(c, col + 1);
		if (last > col + 1) {
			int sym = c->kind == LV_STATE ? 'A' + st
				  : c->kind == LV_IO  ? 'B'
						      : height_sym(weight, c->top);

			enc_put(&c->e, sym, last - col - 1);
			c->cur = last;
		}
		a = (double)c->cur * c->w;
	}
}

/* One lane's levels: their sizes (first sweep), then the ones kept (second sweep). */
struct lv_lane {
	char attrs[64], who[96];
	size_t size[TL_LEVELS];	/* bytes of the level, SIZE_MAX over the budget */
	bool keep[TL_LEVELS];
	char *b[TL_LEVELS];
	size_t n[TL_LEVELS];
};

/* Every lane's levels, swept twice: to size them, then to write the kept ones. */
struct levels {
	size_t budget;
	long ncols[TL_LEVELS];
	double wall;		/* ns */
	bool sizing;		/* the first sweep */
	struct lv_col col[TL_LEVELS];
	struct lv_lane *lanes;
	size_t nlanes, lane;	/* the lane being swept */
};

static void lv_begin(struct levels *lv, enum lv_kind kind, double top)
{
	const struct lv_lane *l = &lv->lanes[lv->lane];

	for (int k = 0; k < TL_LEVELS; k++) {
		struct lv_col *c = &lv->col[k];

		memset(c, 0, sizeof(*c));
		c->kind = kind;
		c->ncols = lv->ncols[k];
		c->w = lv->wall / (double)c->ncols;
		c->top = top;
		c->e.sym = -2;
		c->e.count = lv->sizing;
		c->e.max = lv->budget;
		c->e.full = !lv->sizing && !l->keep[k];
	}
}

static void lv_add(struct levels *lv, double a, double b, int st, double weight)
{
	for (int k = 0; k < TL_LEVELS; k++)
		if (!lv->col[k].e.full)
			col_add(&lv->col[k], a, b, st, weight);
}

static void lv_end(struct levels *lv, const char *attrs, const char *who)
{
	struct lv_lane *l = &lv->lanes[lv->lane++];

	snprintf(l->attrs, sizeof(l->attrs), "%s", attrs);
	snprintf(l->who, sizeof(l->who), "%s", who ? who : "");
	for (int k = 0; k < TL_LEVELS; k++) {
		struct lv_col *c = &lv->col[k];

		if (!c->e.full && c->cur < c->ncols)
			col_close(c, c->ncols);
		enc_end(&c->e);
		if (lv->sizing) {
			l->size[k] = c->e.full ? SIZE_MAX : c->e.n;
		} else if (l->keep[k] && !c->e.full) {
			l->b[k] = c->e.b;
			l->n[k] = c->e.n;
			c->e.b = NULL;
		} else {
			l->keep[k] = false; /* out of memory on the way: drawn coarser */
		}
		free(c->e.b);
		c->e.b = NULL;
	}
}

/*
 * Which levels each lane keeps, within the budget: always the cheapest next refinement of
 * any lane (a lane's level only after its coarser one). A quiet lane thus goes finer than
 * a busy one, and one busy lane does not take the budget of many others; the script draws
 * each lane at the finest it has.
 */
static void lv_choose(struct levels *lv)
{
	size_t used = 0;

	for (;;) {
		struct lv_lane *best = NULL;
		int bk = 0;

		for (size_t i = 0; i < lv->nlanes; i++) {
			struct lv_lane *l = &lv->lanes[i];
			int k = 0;

			while (k < TL_LEVELS && l->keep[k])
				k++;
			if (k == TL_LEVELS || l->size[k] == SIZE_MAX || used + l->size[k] > lv->budget)
				continue;
			if (!best || l->size[k] < best->size[bk])
				best = l, bk = k;
		}
		if (!best)
			break;
		best->keep[bk] = true;
		used += best->size[bk];
	}
}

struct lv_cpu_ctx {
	struct levels *lv;
	uint64_t start;
};

static void lv_cpu_seg(void *ctx, uint64_t t0, uint64_t t1, const uint32_t *nstate, unsigned io)
{
	struct lv_cpu_ctx *x = ctx;
	unsigned k = nstate[TL_COMPUTE] + nstate[TL_IO_CPU];

	(void)io;
	if (k)
		lv_add(x->lv, (double)(t0 - x->start), (double)(t1 - x->start), 0, k);
}

/* Sweep every lane at every level, in the order drawn: threads, I/O in flight, on CPU. */
static int lv_sweep(struct tls *s, struct levels *lv, const unsigned *ys, unsigned y_io,
		    unsigned y_cpu, double top)
{
	const struct tl_timeline *tl = s->tl;
	struct tl_interval *iv = NULL;
	unsigned mask = 1u << TL_IO_CPU | 1u << TL_IO_WAIT | TL_MASK_IO;
	char attrs[64], who[96];
	struct lv_cpu_ctx cx = {lv, tl->win_start};
	size_t lane = 0;
	long n;

	lv->lane = 0;
	for (size_t i = 0; i < tl->nthreads; i++) {
		const struct tl_thread *t = &tl->threads[i];

		if (!t->nspans)
			continue;
		lv_begin(lv, LV_STATE, 1);
		for (size_t j = 0; j < t->nspans; j++) {
			const struct tl_span *sp = &t->spans[j];

			if ((unsigned)sp->state >= TL_NSTATES || sp->end <= sp->start)
				continue;
			lv_add(lv, (double)(sp->start - tl->win_start),
			       (double)(sp->end - tl->win_start), (int)sp->state, 1);
		}
		snprintf(who, sizeof(who), "%s (%" PRIu32 ")", t->role[0] ? t->role : t->comm,
			 t->tid);
		snprintf(attrs, sizeof(attrs), "data-k=\"s\" data-y=\"%u\"", ys[lane++]);
		lv_end(lv, attrs, who);
	}
	n = tl_union_states(tl, mask, &iv);
	if (n < 0)
		return (int)n;
	lv_begin(lv, LV_IO, 1);
	for (long i = 0; i < n; i++)
		lv_add(lv, (double)(iv[i].start - tl->win_start), (double)(iv[i].end - tl->win_start),
		       0, 1);
	free(iv);
	snprintf(attrs, sizeof(attrs), "data-k=\"i\" data-y=\"%u\"", y_io);
	lv_end(lv, attrs, NULL);
	lv_begin(lv, LV_CPU, top);
	n = tl_sweep(tl, lv_cpu_seg, &cx);
	snprintf(attrs, sizeof(attrs), "data-k=\"c\" data-y=\"%u\"", y_cpu);
	lv_end(lv, attrs, NULL);
	return (int)n;
}

/*
 * The finer levels of every lane into a <metadata> element (lv_choose says which fit the
 * budget); nothing when no lane has one.
 */
static int levels(struct tls *s, const unsigned *ys, size_t nys, unsigned y_io, unsigned y_cpu,
		  double top, size_t budget)
{
	struct levels lv = {.budget = budget, .sizing = true,
			    .wall = (double)(s->tl->win_end - s->tl->win_start)};
	int ret, nl = 0;

	for (int k = 0; k < TL_LEVELS; k++)
		lv.ncols[k] = (k ? lv.ncols[k - 1] : TL_PW) * TL_LEVEL_STEP;
	lv.nlanes = nys + 2;
	lv.lanes = calloc(lv.nlanes, sizeof(*lv.lanes));
	if (!lv.lanes)
		return -ENOMEM;
	ret = lv_sweep(s, &lv, ys, y_io, y_cpu, top);
	if (ret)
		goto out;
	lv_choose(&lv);
	lv.sizing = false;
	ret = lv_sweep(s, &lv, ys, y_io, y_cpu, top);
	if (ret)
		goto out;
	for (size_t i = 0; i < lv.nlanes; i++)
		for (int k = nl; k < TL_LEVELS; k++)
			if (lv.lanes[i].keep[k])
				nl = k + 1;
	if (!nl)
		goto out;
	fprintf(s->f, "<metadata class=\"tl-levels\" data-lh=\"%d\" data-cpuh=\"%d\" "
		      "data-io=\"%s\" data-cpu=\"%s\" data-cols=\"",
		TL_LH, TL_CPU_H, TL_IO_COLOR, TL_CPU_COLOR);
	for (int k = 0; k < nl; k++)
		fprintf(s->f, "%s%ld", k ? "," : "", lv.ncols[k]);
	fputs("\" data-colors=\"", s->f);
	for (int st = 0; st < TL_NSTATES; st++)
		fprintf(s->f, "%s%s", st ? "," : "", rp_state_color((enum tl_state)st));
	fputs("\" data-names=\"", s->f);
	for (int st = 0; st < TL_NSTATES; st++)
		fprintf(s->f, "%s%s", st ? "," : "", tl_state_name((enum tl_state)st));
	fputs("\">\n", s->f);
	for (size_t i = 0; i < lv.nlanes; i++) {
		const struct lv_lane *l = &lv.lanes[i];

		fprintf(s->f, "<g %s", l->attrs);
		if (l->who[0]) {
			fputs(" data-who=\"", s->f);
			rp_xml(s->f, l->who, SIZE_MAX);
			fputc('"', s->f);
		}
		/* a lane's levels, coarse first, as far as it has them */
		fputs(" data-lv=\"", s->f);
		for (int k = 0; k < nl && l->keep[k]; k++) {
			if (k)
				fputc(' ', s->f);
			fwrite(l->b[k], 1, l->n[k], s->f);
		}
		fputs("\"/>\n", s->f);
	}
	fputs("</metadata>\n", s->f);
out:
	for (size_t i = 0; i < lv.nlanes; i++)
		for (int k = 0; k < TL_LEVELS; k++)
			free(lv.lanes[i].b[k]);
	for (int k = 0; k < TL_LEVELS; k++)
		free(lv.col[k].e.b);
	free(lv.lanes);
	return ret;
}

static const char tl_style[] =
	"<style>"
	".tl text{font-family:Verdana,DejaVu Sans,sans-serif;font-size:12px;fill:#000}"
	".tl .tl-title{font-size:17px}.tl .tl-sub,.tl .tl-tick{fill:#555;font-size:11px}"
	".tl path{vector-effect:non-scaling-stroke}.tl path:hover{stroke:#000;stroke-width:.6}"
	"</style>\n";

/*
 * A time readout under the pointer, and zoom: the wheel zooms about the pointer, a drag
 * pans, a double click shows the whole run again. The lanes' paths move into a nested
 * <svg> over the plot whose viewBox is the view (it clips what is outside), and the axis
 * is redrawn for the view. Zoomed in, the window is drawn again from the finest level it
 * needs (the <metadata> tl-levels; the 960 columns are hidden meanwhile): tlDetail() says
 * which level is shown and how many state runs each draws in the view. Scoped to its own
 * <svg>: a standalone file runs it from its own script, report.html once for all of its
 * timelines (svg.tl), so that a dozen of them do not carry a copy each.
 */
const char rp_timeline_js[] =
	"function iotTimeline(svg){\n"
	"var c=svg.getElementsByClassName('tl-cursor')[0],\n"
	" r=svg.getElementsByClassName('tl-readout')[0],X0=+svg.getAttribute('data-x0'),\n"
	" PW=+svg.getAttribute('data-pw'),ms=+svg.getAttribute('data-ms'),NS='http://www.w3.org/2000/svg',\n"
	" H=+svg.getAttribute('viewBox').split(' ')[3],ax=svg.getElementsByClassName('tl-axis')[0],\n"
	" Y0=+ax.getAttribute('data-y0'),Y1=+ax.getAttribute('data-y1'),v0=0,vw=PW,drag=null;\n"
	"var plot=document.createElementNS(NS,'svg'),ps=Array.prototype.slice.call(svg.getElementsByTagName('path'));\n"
	"[['x',X0],['y',0],['width',PW],['height',H],['preserveAspectRatio','none'],['class','tl-plot']]\n"
	" .forEach(function(a){plot.setAttribute(a[0],a[1]);});\n"
	"var coarse=document.createElementNS(NS,'g'),fine=document.createElementNS(NS,'g');\n"
	"coarse.setAttribute('class','tl-coarse');fine.setAttribute('class','tl-fine');\n"
	"// the plot goes over the lanes' backgrounds (the CPU lane's rect), under the axis and cursor\n"
	"if(ps.length){ax.parentNode.insertBefore(plot,ax);plot.appendChild(coarse);plot.appendChild(fine);\n"
	" ps.forEach(function(p){coarse.appendChild(p);});}\n"
	"var md=svg.getElementsByClassName('tl-levels')[0],\n"
	" LC=md?md.getAttribute('data-cols').split(',').map(Number):[],\n"
	" COL=md?md.getAttribute('data-colors').split(','):[],NAM=md?md.getAttribute('data-names').split(','):[],\n"
	" LH=md?+md.getAttribute('data-lh'):0,CH=md?+md.getAttribute('data-cpuh'):0,\n"
	" lanes=md?Array.prototype.slice.call(md.getElementsByTagName('g')):[],lvl=0,nfine=0,byY={};\n"
	"// each lane's coarse paths (found by the y of their first rectangle; the CPU lane's by its base)\n"
	"ps.forEach(function(p){var m=/^M[-\\d.e]+ ([-\\d.e]+)/.exec(p.getAttribute('d')||'');if(m)(byY[+m[1]]=byY[+m[1]]||[]).push(p);});\n"
	"lanes.forEach(function(g){var y=+g.getAttribute('data-y')+(g.getAttribute('data-k')==='c'?CH:0),\n"
	" lv=g.getAttribute('data-lv');g.tlCoarse=byY[y]||[];g.tlDepth=lv?lv.split(' ').length:0;});\n"
	"function runs(g,l){var R=g.tlRuns||(g.tlRuns=[]);if(R[l])return R[l];\n"
	" var s=g.getAttribute('data-lv').split(' ')[l-1]||'',a=[],n=[],y=[],col=0,i=0;\n"
	" while(i<s.length){var ch=s.charCodeAt(i++),k=0;\n"
	"  while(i<s.length){var d=s.charCodeAt(i)-48;if(d<0||d>9)break;k=k*10+d;i++;}\n"
	"  k=k||1;if(ch!==46){a.push(col);n.push(k);y.push(ch>=97?ch-71:ch-65);}col+=k;}\n"
	" return R[l]={a:a,n:n,y:y};}\n"
	"function el(n,at,t){var e=document.createElementNS(NS,n);for(var k in at)e.setAttribute(k,at[k]);\n"
	" if(t){var ti=document.createElementNS(NS,'title');ti.textContent=t;e.appendChild(ti);}fine.appendChild(e);return e;}\n"
	"var res=document.createElementNS(NS,'text');res.setAttribute('class','tl-tick');res.setAttribute('x',10);\n"
	"res.setAttribute('y',22);svg.appendChild(res);\n"
	"function dur(m){return m>=1?+m.toPrecision(3)+' ms':m>=1e-3?+(m*1e3).toPrecision(3)+' \\u00b5s':+(m*1e6).toPrecision(3)+' ns';}\n"
	"// zoomed: each lane from the level the view needs, or the finest it has; the resolution said\n"
	"function detail(){var z=PW/vw,l=0,co=[];while(l<LC.length&&Math.pow(4,l)<z-1e-9)l++;\n"
	" while(fine.firstChild)fine.removeChild(fine.firstChild);lvl=l;nfine=0;\n"
	" lanes.forEach(function(g){var m=Math.min(l,g.tlDepth),k=g.getAttribute('data-k');\n"
	"  g.tlCoarse.forEach(function(p){p.style.display=m?'none':'';});if(m)lane(g,m);\n"
	"  if(m<l)co.push((k==='s'?g.getAttribute('data-who'):k==='i'?'I/O in flight':'threads on CPU')+' '+\n"
	"   dur(ms/(m?LC[m-1]:PW)));});\n"
	" res.textContent=l?'a column is '+dur(ms/LC[l-1])+(co.length>2?'; '+co.length+' lanes coarser (less kept)':\n"
	"  co.length?'; '+co.join(', '):''):'';}\n"
	"// a lane drawn from its level l for the view\n"
	"function lane(g,l){var u=PW/LC[l-1],c0=Math.floor(v0/u),c1=Math.ceil((v0+vw)/u),\n"
	"  R=runs(g,l),k=g.getAttribute('data-k'),y=+g.getAttribute('data-y'),\n"
	"  lo=0,hi=R.a.length,d={},i,a,b;\n"
	"  while(lo<hi){var m=(lo+hi)>>1;if(R.a[m]+R.n[m]<=c0)lo=m+1;else hi=m;}\n"
	"  if(k==='c'){var base=y+CH,p='M'+(X0+c0*u)+' '+base;\n"
	"   for(i=lo;i<R.a.length&&R.a[i]<c1;i++)p+='H'+(X0+Math.max(R.a[i],c0)*u)+'V'+(base-R.y[i]);\n"
	"   el('path',{fill:md.getAttribute('data-cpu'),d:p+'H'+(X0+c1*u)+'V'+base+'z'},'threads on CPU');return;}\n"
	"  for(i=lo;i<R.a.length&&R.a[i]<c1;i++){a=Math.max(R.a[i],c0);b=Math.min(R.a[i]+R.n[i],c1);\n"
	"   (d[R.y[i]]=d[R.y[i]]||[]).push('M'+(X0+a*u)+' '+y+'h'+(b-a)*u+'v'+LH+'h'+(a-b)*u+'z');nfine++;}\n"
	"  for(var sy in d){if(k==='s')el('path',{fill:COL[sy],d:d[sy].join('')},g.getAttribute('data-who')+': '+NAM[sy]);\n"
	"   else el('path',{fill:md.getAttribute('data-io'),'fill-opacity':sy==='0'?'.4':'1',d:d[sy].join('')},\n"
	"    sy==='0'?'I/O in flight for part of this stretch':'I/O in flight');}}\n"
	"function inview(p){var n=0,re=/M([-\\d.e]+) [-\\d.e]+h([-\\d.e]+)/g,m,a=X0+v0,b=X0+v0+vw,d=p.getAttribute('d')||'';\n"
	" while((m=re.exec(d)))if(+m[1]<b&&+m[1]+ +m[2]>a)n++;return n;}\n"
	"function add(n,at){var e=document.createElementNS(NS,n);for(var k in at)e.setAttribute(k,at[k]);ax.appendChild(e);return e;}\n"
	"function ticks(){while(ax.firstChild)ax.removeChild(ax.firstChild);\n"
	" var a=v0/PW*ms,b=(v0+vw)/PW*ms,raw=(b-a)/10,p=Math.pow(10,Math.floor(Math.log(raw>0?raw:1)/Math.LN10)),\n"
	"  q=raw/p,st=q<1.5?p:q<3.5?2*p:q<7.5?5*p:10*p;\n"
	" add('line',{x1:X0,x2:X0+PW,y1:Y1,y2:Y1,stroke:'#555'});\n"
	" for(var t=Math.ceil(a/st-1e-9)*st;t<=b+st*1e-9;t+=st){var x=X0+(t-a)/(b-a)*PW;\n"
	"  add('line',{x1:x,x2:x,y1:Y0,y2:Y1+4,stroke:'#ddd'});\n"
	"  add('text',{'class':'tl-tick',x:x,y:Y1+16,'text-anchor':'middle'}).textContent=+t.toPrecision(6);}\n"
	" add('text',{'class':'tl-tick',x:X0-8,y:Y1+16,'text-anchor':'end'}).textContent='ms';}\n"
	"function view(){plot.setAttribute('viewBox',(X0+v0)+' 0 '+vw+' '+H);detail();ticks();}\n"
	"function clamp(){vw=Math.min(PW,Math.max(PW/2000,vw));v0=Math.min(PW-vw,Math.max(0,v0));}\n"
	"function ux(e){var m=svg.getScreenCTM();if(!m)return null;var p=svg.createSVGPoint();\n"
	" p.x=e.clientX;p.y=e.clientY;return p.matrixTransform(m.inverse());}\n"
	"function inplot(p){return p&&p.x>=X0&&p.x<=X0+PW;}\n"
	"function zoomAt(f,px){var at=v0+(px-X0)/PW*vw;vw*=f;clamp();v0=at-(px-X0)/PW*vw;clamp();view();}\n"
	"svg.addEventListener('wheel',function(e){var p=ux(e);if(!inplot(p))return;e.preventDefault();\n"
	" zoomAt(e.deltaY<0?0.8:1.25,p.x);},{passive:false});\n"
	"svg.addEventListener('mousedown',function(e){var p=ux(e);if(!inplot(p)||e.button)return;\n"
	" drag={x:p.x,v:v0};e.preventDefault();});\n"
	"window.addEventListener('mouseup',function(){drag=null;});\n"
	"svg.addEventListener('dblclick',function(){v0=0;vw=PW;view();});\n"
	"svg.addEventListener('mousemove',function(e){var p=ux(e);if(!p)return;\n"
	" if(drag){v0=drag.v-(p.x-drag.x)/PW*vw;clamp();view();}\n"
	" if(!inplot(p)){c.style.display='none';r.textContent=' ';return;}\n"
	" c.setAttribute('x1',p.x);c.setAttribute('x2',p.x);c.style.display='';\n"
	" var t=(v0+(p.x-X0)/PW*vw)/PW*ms;r.textContent='t = '+t.toFixed(vw/PW*ms<10?3:1)+' ms';});\n"
	"svg.addEventListener('mouseleave',function(){c.style.display='none';r.textContent=' ';drag=null;});\n"
	"svg.tlView=function(){return {start:v0/PW*ms,end:(v0+vw)/PW*ms,ms:ms};};\n"
	"// the level asked for, and the state runs in the view: drawn now (finer lanes and the lanes\n"
	"// still coarse), and in the 960 columns\n"
	"svg.tlDetail=function(){var n=0,v=0;ps.forEach(function(p){var k=inview(p);n+=k;if(p.style.display!=='none')v+=k;});\n"
	" return {level:lvl,levels:LC.length,cols:lvl?LC[lvl-1]:PW,shown:nfine+v,coarse:n};};\n"
	"svg.tlZoomAt=zoomAt;\n"
	"// the plot's viewBox from the start: without one its paths would be drawn X0 too far right\n"
	"if(ps.length)view();\n"
	"}\n";

static void open_svg(FILE *f, const struct rp_svg_opts *o, unsigned h, double wall_ms)
{
	if (!o->embed)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", f);
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" class=\"tl\" ", f);
	if (o->embed)
		fputs("width=\"100%\"", f);
	else
		fprintf(f, "width=\"%.0f\" height=\"%u\"", TL_W, h);
	fprintf(f, " viewBox=\"0 0 %.0f %u\" data-x0=\"%d\" data-pw=\"%d\" data-ms=\"%.6f\">\n", TL_W,
		h, TL_X0, TL_PW, wall_ms);
	fputs(tl_style, f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fbfbf8\"/>\n");
}

static void titles(FILE *f, const struct an_run *run, const char *sub)
{
	fprintf(f, "<text class=\"tl-title\" x=\"%.0f\" y=\"22\" text-anchor=\"middle\">", TL_W / 2);
	rp_xml(f, run->label[0] ? run->label : "run", SIZE_MAX);
	fputs(": timeline</text>\n", f);
	fprintf(f, "<text class=\"tl-sub\" x=\"%.0f\" y=\"38\" text-anchor=\"middle\">", TL_W / 2);
	rp_xml(f, sub, SIZE_MAX);
	fputs("</text>\n", f);
}

static int empty(FILE *f, const struct an_run *run, const struct rp_svg_opts *o, const char *why)
{
	open_svg(f, o, 90, 0);
	titles(f, run, "");
	fprintf(f, "<text x=\"%.0f\" y=\"70\" text-anchor=\"middle\">", TL_W / 2);
	rp_xml(f, why, SIZE_MAX);
	fputs("</text>\n</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

int rp_timeline_svg_ex(FILE *f, const struct an_run *run, const struct rp_svg_opts *o)
{
	static const struct rp_svg_opts def;
	const struct tl_timeline *tl = run->tl;
	struct tls s = {.f = f, .run = run, .tl = tl};
	unsigned nlanes = 0, y, h, y_io, y_cpu, *ys = NULL;
	double wall_ms;
	char sub[256];
	int ret = 0;

	o = o ? o : &def;
	if (!tl || !tl->finished)
		return empty(f, run, o, "no timeline: this run's thread states were not saved");
	if (tl->win_end <= tl->win_start)
		return empty(f, run, o, "no timeline: the run has no duration");
	for (size_t i = 0; i < tl->nthreads; i++)
		nlanes += tl->threads[i].nspans > 0;
	h = TL_TOP + nlanes * TL_PITCH + 8 + TL_PITCH + 8 + TL_CPU_H + 40;
	wall_ms = (double)(tl->win_end - tl->win_start) / 1e6;
	s.pxns = (double)(tl->win_end - tl->win_start) / TL_PW;
	s.bins = malloc(sizeof(double) * TL_NSTATES * TL_PW);
	s.cpu = malloc(sizeof(double) * TL_PW);
	ys = calloc(nlanes + 1, sizeof(*ys));
	if (!s.bins || !s.cpu || !ys) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(sub, sizeof(sub),
		 "%u thread%s over %s; a lane per thread colored by its state (hover for totals)",
		 nlanes, nlanes == 1 ? "" : "s", un_dur(tl->win_end - tl->win_start).s);
	open_svg(f, o, h, wall_ms);
	titles(f, run, sub);
	legend(f);
	y = TL_TOP;
	nlanes = 0;
	for (size_t i = 0; i < tl->nthreads; i++) {
		if (!tl->threads[i].nspans)
			continue;
		ys[nlanes++] = y;
		thread_lane(&s, &tl->threads[i], y);
		y += TL_PITCH;
	}
	y += 8;
	y_io = y;
	ret = io_lane(&s, y);
	if (ret)
		goto out;
	y += TL_PITCH + 8;
	y_cpu = y;
	ret = cpu_lane(&s, y);
	if (ret)
		goto out;
	ret = levels(&s, ys, nlanes, y_io, y_cpu, s.cpu_top,
		     o->tl_detail ? o->tl_detail : o->embed ? TL_DETAIL_EMBED : TL_DETAIL_FILE);
	if (ret)
		goto out;
	y += TL_CPU_H;
	axis(f, wall_ms, TL_TOP - 4, y + 4);
	fprintf(f, "<line class=\"tl-cursor\" x1=\"0\" x2=\"0\" y1=\"%d\" y2=\"%u\" stroke=\"#000\" "
		   "stroke-width=\".6\" style=\"display:none;pointer-events:none\"/>\n"
		   "<text class=\"tl-readout\" x=\"%d\" y=\"22\" text-anchor=\"end\"> </text>\n",
		TL_TOP - 4, y + 4, TL_X0 + TL_PW);
	if (!o->embed) {
		/* a file on its own: its script runs the zoom for its own <svg> */
		fputs("<script><![CDATA[\n", f);
		fputs(rp_timeline_js, f);
		fputs("(function(){var ss=document.getElementsByTagName('script'),"
		      "me=document.currentScript||ss[ss.length-1];"
		      "iotTimeline(me.ownerSVGElement||me.parentNode);})();\n]]></script>\n",
		      f);
	}
	fputs("</svg>\n", f);
	ret = ferror(f) ? -EIO : 0;
out:
	free(s.bins);
	free(s.cpu);
	free(ys);
	return ret;
}

int rp_timeline_svg(FILE *f, const struct an_run *run)
{
	return rp_timeline_svg_ex(f, run, NULL);
}
