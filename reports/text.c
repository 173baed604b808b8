/* text.c - the terminal report: comparison tables, per-run thread breakdown, the "Why" section. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "model/cause.h"
#include "report.h"

/*
 * Everything printed is a field of the model, formatted: the only arithmetic here is
 * turning a total into a share of its run for display. A figure the model marks as not
 * measured prints "unavailable", never 0. Names that come from the traced program (comm,
 * labels) are printed with control bytes and invalid UTF-8 replaced, so a thread name
 * cannot move the cursor or recolor the terminal.
 */

#define WRAP_COLS 100	/* without a terminal to ask */
#define MAX_THREAD_ROWS 16
#define UNAVAILABLE "unavailable"

enum style { ST_NONE, ST_BOLD, ST_DIM, ST_WARN, ST_LABEL };

static const char *const style_on[] = {"", "\033[1m", "\033[2m", "\033[33m", "\033[36m"};
#define STYLE_OFF "\033[0m"

struct out {
	FILE *f;
	bool color;
	int cols;	/* paragraphs wrap here */
	bool glue;	/* a short "(...)" is not broken across lines */
};

static void on(struct out *o, enum style s)
{
	if (o->color && s != ST_NONE)
		fputs(style_on[s], o->f);
}

static void off(struct out *o, enum style s)
{
	if (o->color && s != ST_NONE)
		fputs(STYLE_OFF, o->f);
}

/* ---- safe strings ---- */

/* Valid UTF-8 sequence length at s, 0 if invalid; C1 controls count as invalid. */
static int u8len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 0; /* U+0080..U+009F: terminals may act on them */
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/* Copy src into dst (always terminated), control bytes and invalid UTF-8 as '?'. */
static void safe(char *dst, size_t len, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	while (*s && o + 1 < len) {
		int n = u8len(s);

		if (*s == '\t') {
			dst[o++] = ' ';
			s++;
			continue;
		}
		if (*s < 0x20 || *s == 0x7f || n == 0) {
			dst[o++] = '?';
			s++;
			continue;
		}
		if (o + (size_t)n >= len)
			break;
		memcpy(dst + o, s, (size_t)n);
		o += (size_t)n;
		s += n;
	}
	dst[o] = 0;
}

/* Display columns of a (sanitized) string: one per code point. */
static int width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Display columns of the first n bytes of a (sanitized) string. */
static int width_n(const char *s, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n && s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* ---- units ---- */

/* share (0..1) as a percentage; "unavailable" when not measured. */
static void fmt_pct(char *b, size_t n, bool ok, double share)
{
	if (!ok || !isfinite(share))
		snprintf(b, n, UNAVAILABLE);
	else
		snprintf(b, n, "%s", un_pct(share, 1).s);
}

static void fmt_real(char *b, size_t n, bool ok, double v, const char *suffix)
{
	if (!ok || !isfinite(v))
		snprintf(b, n, UNAVAILABLE);
	else
		snprintf(b, n, "%.2f%s", v, suffix);
}

/* ---- tables ---- */

#define TMAXCOL 16
#define TCELL 80

struct trow {
	char c[TMAXCOL][TCELL];
	unsigned char st[TMAXCOL];
};

struct tbl {
	int ncol;
	bool left[TMAXCOL];	/* text columns align left, numbers right */
	struct trow *rows;	/* rows[0] is the header */
	size_t nrow, cap;
};

static struct trow *tbl_row(struct tbl *t)
{
	struct trow *r;

	if (t->nrow == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		void *n = realloc(t->rows, cap * sizeof(*t->rows));

		if (!n)
			return NULL;
		t->rows = n;
		t->cap = cap;
	}
	r = &t->rows[t->nrow++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Set a cell; text through safe(); "unavailable" is dimmed. */
static void cell(struct trow *r, int col, enum style st, const char *s)
{
	safe(r->c[col], TCELL, s);
	r->st[col] = !strcmp(s, UNAVAILABLE) ? ST_DIM : st;
}

static void tbl_print(struct out *o, const struct tbl *t, const char *indent)
{
	int w[TMAXCOL] = {0};

	for (size_t i = 0; i < t->nrow; i++)
		for (int c = 0; c < t->ncol; c++)
			if (width(t->rows[i].c[c]) > w[c])
				w[c] = width(t->rows[i].c[c]);
	for (size_t i = 0; i < t->nrow; i++) {
		const struct trow *r = &t->rows[i];

		fputs(indent, o->f);
		for (int c = 0; c < t->ncol; c++) {
			int pad = w[c] - width(r->c[c]);
			enum style st = i == 0 ? ST_BOLD : (enum style)r->st[c];

			if (c)
				fputs("  ", o->f);
			if (!t->left[c])
				fprintf(o->f, "%*s", pad, "");
			on(o, st);
			fputs(r->c[c], o->f);
			off(o, st);
			/* no trailing blanks: the last column is not padded */
			if (t->left[c] && c + 1 < t->ncol)
				fprintf(o->f, "%*s", pad, "");
		}
		fputc('\n', o->f);
	}
}

/* ---- wrapped paragraphs ---- */

/* A short parenthetical is read as one phrase ("(−319 ms: CPU −280 ms)"): no break inside;
 * nor in a short reason after a dash ("— the CPUs were full"). */
#define GLUE_COLS 40
#define GLUE_DASH_COLS 32

/* Whether s starts with a unit units.h writes after a number ("ms", "MiB/s", "%" is glued). */
static bool unit_word(const char *s)
{
	static const char *const units[] = {"ns", "µs", "ms", "s", "min", "B", "KiB", "MiB",
					    "GiB", "TiB", "CPU", "CPUs"};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i]);

		if (!strncmp(s, units[i], n) && strchr(" ,;:.)/", s[n]))
			return true;
	}
	return false;
}

/*
 * Print text (sanitized) wrapped at o->cols: the caller has already printed `col`
 * columns of this line (a label, a bullet); continuation lines start with indent.
 * With o->glue, a word opening a parenthetical of at most GLUE_COLS columns runs to its
 * close (and the punctuation after it), and a dash to the end of its clause (the next ';'
 * or the end) when that is short.
 */
static void para_at(struct out *o, int col, const char *indent, const char *text)
{
	char buf[1200];
	const char *p = buf;
	bool empty = true; /* no word on this line yet */

	safe(buf, sizeof(buf), text);
	while (*p) {
		const char *e;
		int ww = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (e = p; *e && *e != ' '; e++)
			if (((unsigned char)*e & 0xc0) != 0x80)
				ww++;
		/* a number and its unit are one phrase: "668 ms" is never split */
		while (e > p && e[-1] >= '0' && e[-1] <= '9' && e[0] == ' ' && unit_word(e + 1)) {
			for (e++; *e && *e != ' '; e++)
				;
			ww = width_n(p, (size_t)(e - p));
		}
		if (o->glue && *p == '(' && !memchr(p, ')', (size_t)(e - p))) {
			const char *c = strchr(p, ')');

			if (c && !memchr(p + 1, '(', (size_t)(c - p - 1)) &&
			    width_n(p, (size_t)(c - p)) < GLUE_COLS) {
				for (e = c; *e && *e != ' '; e++)
					;
				ww = width_n(p, (size_t)(e - p));
			}
		}
		if (o->glue && e - p == 3 && !memcmp(p, "—", 3)) {
			const char *c = p + strcspn(p, ";");

			if (*c == ';')
				c++;
			if (width_n(p, (size_t)(c - p)) <= GLUE_DASH_COLS) {
				e = c;
				ww = width_n(p, (size_t)(e - p));
			}
		}
		if (!empty && col + 1 + ww > o->cols) {
			fputc('\n', o->f);
			fputs(indent, o->f);
			col = width(indent);
			empty = true;
		}
		if (!empty) {
			fputc(' ', o->f);
			col++;
		}
		fwrite(p, 1, (size_t)(e - p), o->f);
		col += ww;
		empty = false;
		p = e;
	}
	fputc('\n', o->f);
}

static void para(struct out *o, const char *first, const char *indent, const char *text)
{
	fputs(first, o->f);
	para_at(o, width(first), indent, text);
}

/* ---- sections ---- */

static uint64_t thread_time(const uint64_t *ns)
{
	uint64_t t = 0;

	for (int i = 0; i < TL_NSTATES; i++)
		t += ns[i];
	return t;
}

void rp_cmp_cols(const struct an_report *r, struct rp_cmp_cols *c)
{
	double wall = 0, blocked = 0, exposed = 0;

	for (size_t i = 0; i < r->nruns; i++) {
		wall = fmax(wall, (double)r->runs[i].wall_ns);
		blocked = fmax(blocked, (double)r->runs[i].blocked_ns);
		exposed = fmax(exposed, (double)r->runs[i].exposed_io_ns);
	}
	c->wall = un_column(UN_DUR, wall);
	c->blocked = un_column(UN_DUR, blocked);
	c->exposed = un_column(UN_DUR, exposed);
}

/*
 * The comparison: one row a run, its cause last. The default keeps the columns that say
 * how fast and why within 100 columns; -v (all) adds blocked time, CPU overlap and hidden
 * I/O, which the findings then explain.
 */
enum cmp_col { C_RUN, C_WALL, C_SPEEDUP, C_IDEAL, C_PAR, C_BLOCKED, C_OVERLAP, C_HIDDEN,
	       C_READAHEAD, C_EXPOSED, C_HIT, C_CAUSE, C_N };

/* "exposed I/O": the time, and how much of it was a wait on a peer (a pipe's writer, a
 * socket's): the time it was not the disk ("106 ms (pipe 103 ms)") */
static void exposed_cell(char *b, size_t n, const struct un_col *u, const struct an_run *run)
{
	if (run->exposed_io_peer_ok && run->exposed_io_peer_ns)
		snprintf(b, n, "%s (%s %s)", un_cell(u, (double)run->exposed_io_ns).s,
			 an_run_peer_word(run), un_dur(run->exposed_io_peer_ns).s);
	else
		snprintf(b, n, "%s", un_cell(u, (double)run->exposed_io_ns).s);
}

/*
 * Why a run's file-read hit is unavailable, under the table: one line per reason, naming
 * the runs unless it is every run's ("file-read hit unavailable: no file bytes were read");
 * and, for a run that also read files O_DIRECT, that its hit is over the other reads only.
 */
static void hit_notes(struct out *o, const struct an_report *r)
{
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];

		if (!run->hit_ratio_ok || !run->c.bytes_direct_ok || !run->c.bytes_read_direct)
			continue;
		fprintf(o->f, "file-read hit%s%s: over the %s read through the page cache; %s read "
			      "O_DIRECT bypassed it\n", r->nruns > 1 ? " of " : "",
			r->nruns > 1 ? run->label : "", un_bytes(run->hit_ratio_bytes).s,
			un_bytes(run->c.bytes_read_direct).s);
	}
	for (size_t i = 0; i < r->nruns; i++) {
		const char *why = r->runs[i].hit_ratio_unavailable;
		size_t n = 0, all = 0;
		bool seen = false;

		if (r->runs[i].hit_ratio_ok || !why[0])
			continue;
		for (size_t j = 0; j < r->nruns; j++) {
			bool same = !r->runs[j].hit_ratio_ok &&
				    !strcmp(r->runs[j].hit_ratio_unavailable, why);

			seen |= same && j < i;
			n += same;
			all++;
		}
		if (seen)
			continue;	/* said with an earlier run */
		fprintf(o->f, "file-read hit unavailable");
		if (n < all)
			for (size_t j = 0, k = 0; j < r->nruns; j++)
				if (!r->runs[j].hit_ratio_ok &&
				    !strcmp(r->runs[j].hit_ratio_unavailable, why))
					fprintf(o->f, "%s%s", k++ ? ", " : " for ",
						r->runs[j].label);
		fprintf(o->f, ": %s\n", why);
	}
}

static int comparison(struct out *o, const struct an_report *r, bool all)
{
	static const char *const head[C_N] = {"run", "wall", "speedup", "of ideal", "parallelism",
					      "blocked", "CPU overlap", "hidden I/O",
					      "by readahead", "exposed I/O", "file-read hit", "cause"};
	struct tbl t = {0};
	struct trow *h;
	char b[TCELL];
	struct rp_cmp_cols u;
	int col[C_N], ret = 0;
	size_t nrep = 0;

	for (int c = 0; c < C_N; c++)
		col[c] = all || (c != C_BLOCKED && c != C_OVERLAP && c != C_HIDDEN &&
				 c != C_READAHEAD)
				 ? t.ncol++
				 : -1;
	rp_cmp_cols(r, &u);
	t.left[col[C_RUN]] = t.left[col[C_CAUSE]] = true;
	h = tbl_row(&t);
	if (!h)
		return -ENOMEM;
	for (int c = 0; c < C_N; c++)
		if (col[c] >= 0)
			cell(h, col[c], ST_NONE, head[c]);
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		struct trow *w = tbl_row(&t);
		struct an_cause cause;

		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		cell(w, col[C_RUN], ST_LABEL, run->label);
		if (run->nrepeats > 1) {
			/* the median, and how far its farthest repetition lay from it */
			uint64_t dev = run->wall_max_ns - run->wall_ns > run->wall_ns - run->wall_min_ns
					       ? run->wall_max_ns - run->wall_ns
					       : run->wall_ns - run->wall_min_ns;

			snprintf(b, sizeof(b), "%s ±%.0f%%", un_cell(&u.wall, (double)run->wall_ns).s,
				 run->wall_ns ? 100.0 * (double)dev / (double)run->wall_ns : 0.0);
			cell(w, col[C_WALL], ST_NONE, b);
			nrep = run->nrepeats > nrep ? run->nrepeats : nrep;
		} else {
			cell(w, col[C_WALL], ST_NONE, un_cell(&u.wall, (double)run->wall_ns).s);
		}
		fmt_real(b, sizeof(b), run->speedup_ok, run->speedup_vs_sync, "×");
		cell(w, col[C_SPEEDUP], ST_NONE, b);
		fmt_pct(b, sizeof(b), run->ideal_ok, run->ideal_fraction);
		cell(w, col[C_IDEAL], ST_NONE, b);
		fmt_real(b, sizeof(b), true, run->parallelism, "");
		cell(w, col[C_PAR], ST_NONE, b);
		if (all) {
			cell(w, col[C_BLOCKED], ST_NONE,
			     un_cell(&u.blocked, (double)run->blocked_ns).s);
			fmt_pct(b, sizeof(b), run->cpu_overlap_ok, run->cpu_overlap);
			cell(w, col[C_OVERLAP], ST_NONE, b);
			fmt_pct(b, sizeof(b), run->hidden_io_ok, run->hidden_io);
			cell(w, col[C_HIDDEN], ST_NONE, b);
			/* of the hidden I/O, the part the device's own I/O (readahead) hid */
			fmt_pct(b, sizeof(b), run->hidden_io_readahead_ok, run->hidden_io_readahead);
			cell(w, col[C_READAHEAD], ST_NONE, b);
		}
		exposed_cell(b, sizeof(b), &u.exposed, run);
		cell(w, col[C_EXPOSED], ST_NONE, b);
		fmt_pct(b, sizeof(b), run->hit_ratio_ok, run->hit_ratio);
		cell(w, col[C_HIT], ST_NONE, b);
		an_run_cause(run, &cause);
		cell(w, col[C_CAUSE], ST_NONE, cause.name);
	}
	tbl_print(o, &t, "");
	hit_notes(o, r);
	/* by default the conditions line says it in a few words (one screen) */
	if (nrep > 1 && all)
		fprintf(o->f,
			"(walls: medians of %zu interleaved runs each, ± the farthest one; the rest: "
			"the median run's)\n",
			nrep);
out:
	free(t.rows);
	return ret;
}

static int state_shares(struct out *o, const struct an_report *r)
{
	struct tbl t = {.ncol = TL_NSTATES + 2};
	struct trow *h;
	char b[TCELL];
	struct un_col tcol;
	double max = 0;
	int ret = 0;

	for (size_t i = 0; i < r->nruns; i++)
		max = fmax(max, (double)thread_time(r->runs[i].states_ns));
	tcol = un_column(UN_DUR, max);
	t.left[0] = true;
	h = tbl_row(&t);
	if (!h)
		return -ENOMEM;
	cell(h, 0, ST_NONE, "run");
	for (int s = 0; s < TL_NSTATES; s++)
		cell(h, s + 1, ST_NONE, tl_state_name((enum tl_state)s));
	cell(h, TL_NSTATES + 1, ST_NONE, "thread time");
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		uint64_t tt = thread_time(run->states_ns);
		struct trow *w = tbl_row(&t);

		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		cell(w, 0, ST_LABEL, run->label);
		for (int s = 0; s < TL_NSTATES; s++) {
			if (tt)
				snprintf(b, sizeof(b), "%s",
					 un_pct((double)run->states_ns[s] / (double)tt, 1).s);
			else
				snprintf(b, sizeof(b), "-");
			cell(w, s + 1, ST_NONE, b);
		}
		cell(w, TL_NSTATES + 1, ST_NONE, un_cell(&tcol, (double)tt).s);
	}
	tbl_print(o, &t, "");
out:
	free(t.rows);
	return ret;
}

/*
 * What the waits were for: io_wait by what the reads read from, lock_wait by what the
 * futex was, as shares of thread time (so each group adds up to its state's column of the
 * table above). Only the kinds some run had; nothing without the splits (older files).
 */
static const char *const io_heads[WT_NIO_SLOTS] = {"file", "pipe", "socket", "other read"};
static const char *const lock_heads[WT_NLK_SLOTS] = {"mutex", "GIL", "join", "condvar",
						     "other futex"};

static int wait_kinds(struct out *o, const struct an_report *r)
{
	enum { NK = WT_NIO_SLOTS + WT_NLK_SLOTS };
	struct tbl t = {0};
	struct trow *h;
	char b[TCELL];
	int col[NK], ret = 0;
	bool any = false;

	t.ncol = 1;
	for (int k = 0; k < NK; k++) {
		bool used = false;

		for (size_t i = 0; i < r->nruns && !used; i++) {
			const struct an_run *run = &r->runs[i];

			used = run->by_kind_ok && (k < WT_NIO_SLOTS
							   ? run->io_wait_by_kind_ns[k]
							   : run->lock_wait_by_kind_ns[k - WT_NIO_SLOTS]);
		}
		col[k] = used && t.ncol < TMAXCOL ? t.ncol++ : -1;
		any |= used;
	}
	if (!any)
		return 0;
	fputs("\nio_wait by what the reads read from, lock_wait by what the futex was (share of "
	      "thread time)\n", o->f);
	t.left[0] = true;
	h = tbl_row(&t);
	if (!h)
		return -ENOMEM;
	cell(h, 0, ST_NONE, "run");
	for (int k = 0; k < NK; k++)
		if (col[k] >= 0)
			cell(h, col[k], ST_NONE,
			     k < WT_NIO_SLOTS ? io_heads[k] : lock_heads[k - WT_NIO_SLOTS]);
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		uint64_t tt = thread_time(run->states_ns);
		struct trow *w = tbl_row(&t);

		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		cell(w, 0, ST_LABEL, run->label);
		for (int k = 0; k < NK; k++) {
			uint64_t ns = k < WT_NIO_SLOTS ? run->io_wait_by_kind_ns[k]
						       : run->lock_wait_by_kind_ns[k - WT_NIO_SLOTS];

			if (col[k] < 0)
				continue;
			if (!run->by_kind_ok)
				snprintf(b, sizeof(b), UNAVAILABLE);
			else if (tt)
				snprintf(b, sizeof(b), "%s", un_pct((double)ns / (double)tt, 1).s);
			else
				snprintf(b, sizeof(b), "-");
			cell(w, col[k], ST_NONE, b);
		}
	}
	tbl_print(o, &t, "");
out:
	free(t.rows);
	return ret;
}

/* "io_wait 54.0 ms: pipe 53.9 ms, file 95.3 µs": a state's time and its kinds, largest
 * first (the thread table's cells name the largest only) */
static void kinds_of(char *line, size_t len, const char *state, uint64_t total,
		     const uint64_t *ns, const char *const *name, int n)
{
	bool used[WT_NLK_SLOTS] = {false};

	un_appendf(line, len, "%s %s:", state, un_dur(total).s);
	for (int done = 0; done < n; done++) {
		int best = -1;

		for (int k = 0; k < n; k++)
			if (!used[k] && ns[k] && (best < 0 || ns[k] > ns[best]))
				best = k;
		if (best < 0)
			break;
		used[best] = true;
		un_appendf(line, len, "%s %s %s", done ? "," : "", name[best], un_dur(ns[best]).s);
	}
}

/* -v: what the run's waits were for, and the locks waited on longest. */
static void wait_lines(struct out *o, const struct an_run *run)
{
	char line[1024] = "";
	size_t shown = 0;

	if (!run->by_kind_ok)
		return;
	if (run->states_ns[TL_IO_WAIT])
		kinds_of(line, sizeof(line), "io_wait", run->states_ns[TL_IO_WAIT],
			 run->io_wait_by_kind_ns, io_heads, WT_NIO_SLOTS);
	if (run->states_ns[TL_LOCK_WAIT]) {
		if (line[0])
			un_appendf(line, sizeof(line), "; ");
		kinds_of(line, sizeof(line), "lock_wait", run->states_ns[TL_LOCK_WAIT],
			 run->lock_wait_by_kind_ns, lock_heads, WT_NLK_SLOTS);
	}
	if (!line[0])
		return;
	{
		char full[1100];

		snprintf(full, sizeof(full), "waits: %s", line);
		para(o, "  ", "  ", full);
	}
	if (!run->nlocks)
		return;
	snprintf(line, sizeof(line), "locks, longest wait first:");
	for (size_t i = 0; i < run->nlocks && shown < 3; i++, shown++) {
		const struct wt_lock *l = &run->locks[i];
		char where[64];

		safe(where, sizeof(where), l->where[0] ? l->where : "an unnamed word");
		un_appendf(line, sizeof(line),
			   "%s %s (%s, pid %" PRIu32 ") %s in %" PRIu64 " wait%s by %zu "
			   "thread%s",
			   i ? ";" : "", where, lock_heads[wt_lock_slot(l->kind)], l->pid,
			   un_dur(l->wait_ns).s, l->waits, l->waits == 1 ? "" : "s", l->nwaiters,
			   l->nwaiters == 1 ? "" : "s");
	}
	if (run->nlocks > shown)
		un_appendf(line, sizeof(line), "; %zu more in summary.json", run->nlocks - shown);
	para(o, "  ", "  ", line);
}

static void run_facts(struct out *o, const struct an_run *run)
{
	const struct an_counters *c = &run->c;
	char line[1024], a[48], b[48];

	/* time */
	line[0] = 0;
	fmt_real(b, sizeof(b), true, run->parallelism, "");
	un_appendf(line, sizeof(line),
		   "wall %s on %u CPUs, parallelism %s, %zu thread%s, %" PRIu64 " context switches",
		   un_dur(run->wall_ns).s, run->ncpu, b, run->nthreads,
		   run->nthreads == 1 ? "" : "s", c->ctx_switches);
	fmt_pct(a, sizeof(a), run->runnable_share_ok, run->runnable_share);
	un_appendf(line, sizeof(line), ", waiting for a CPU %s of the time runnable or on CPU", a);
	/* sub-millisecond steal is the host's background noise: not worth a reader's time */
	if (run->stolen_ok && run->stolen_ns >= 1000000)
		un_appendf(line, sizeof(line), ", %s of the on-CPU time stolen by the hypervisor",
			   un_dur(run->stolen_ns).s);
	if (run->interrupted) /* iotrace killed it (or passed the signal on): not its fault */
		un_appendf(line, sizeof(line), "; interrupted by the user (Ctrl-C)");
	else if (run->exit_status > 128)
		un_appendf(line, sizeof(line), "; killed by signal %d", run->exit_status - 128);
	else if (run->exit_status > 0) /* -1: attached with -p, no status of ours */
		un_appendf(line, sizeof(line), "; exited with status %d", run->exit_status);
	para(o, "  ", "  ", line);
	/* the machine's other work, iotrace's own part of it named */
	if (an_machine_line(run, line, sizeof(line)))
		para(o, "  ", "  ", line);

	/* reads and I/O */
	line[0] = 0;
	fmt_pct(b, sizeof(b), run->read_oncpu_share_ok, run->read_oncpu_share);
	un_appendf(line, sizeof(line), "reads: %" PRIu64 " (%s", c->reads,
		   un_bytes(c->bytes_read).s);
	if (c->bytes_kind_ok) /* from what: the kinds that gave any */
		for (unsigned k = 0, n = 0; k < WT_NIO_SLOTS; k++) {
			if (!c->bytes_read_by_kind[k])
				continue;
			un_appendf(line, sizeof(line), "%s %s %s", n++ ? "," : ":",
				   wt_io_kind_name(k + 1), un_bytes(c->bytes_read_by_kind[k]).s);
			if (k == TL_IOK_FILE - 1 && c->bytes_direct_ok && c->bytes_read_direct)
				un_appendf(line, sizeof(line), " (%s of it O_DIRECT)",
					   un_bytes(c->bytes_read_direct).s);
		}
	un_appendf(line, sizeof(line), "), %s of read time on CPU; ", b);
	fmt_pct(b, sizeof(b), run->cpu_overlap_ok, run->cpu_overlap);
	un_appendf(line, sizeof(line), "blocked in I/O %s with CPU overlap %s; ",
		   un_dur(run->blocked_ns).s, b);
	fmt_pct(b, sizeof(b), run->hidden_io_ok, run->hidden_io);
	un_appendf(line, sizeof(line), "I/O under way %s, hidden %s", un_dur(run->io_ns).s, b);
	if (run->hidden_io_readahead_ok && run->hidden_io_readahead > 0) {
		fmt_pct(a, sizeof(a), true, run->hidden_io_readahead);
		un_appendf(line, sizeof(line), " (%s by the device's own readahead alone)", a);
	}
	un_appendf(line, sizeof(line), ", exposed %s", un_dur(run->exposed_io_ns).s);
	if (run->exposed_io_peer_ok && run->exposed_io_peer_ns)
		un_appendf(line, sizeof(line), " (%s of it waiting on a %s, not storage)",
			   un_dur(run->exposed_io_peer_ns).s, an_run_peer_word(run));
	para(o, "  ", "  ", line);
	wait_lines(o, run);

	/* page cache and disk */
	line[0] = 0;
	fmt_pct(a, sizeof(a), run->hit_ratio_ok, run->hit_ratio);
	if (run->hit_ratio_ok) {
		bool direct = c->bytes_direct_ok && c->bytes_read_direct;

		un_appendf(line, sizeof(line),
			   "page cache: file reads hit it %s (the reads' misses and readahead "
			   "inserted %s for %s read from files%s); ",
			   a, un_bytes(c->pcache_read_bytes).s, un_bytes(run->hit_ratio_bytes).s,
			   direct ? " through it" : "");
		if (direct)
			un_appendf(line, sizeof(line), "%s read O_DIRECT bypassed it; ",
				   un_bytes(c->bytes_read_direct).s);
	} else {
		un_appendf(line, sizeof(line), "page cache: file-read hit " UNAVAILABLE " (%s); ",
			   run->hit_ratio_unavailable[0] ? run->hit_ratio_unavailable
							 : "not measured");
	}
	un_appendf(line, sizeof(line), "%s inserted",
		   c->pcache_ok ? un_bytes(c->pcache_insert_bytes).s : UNAVAILABLE);
	if (c->pcache_ok && c->pcache_cause_ok)
		un_appendf(line, sizeof(line), " in all");
	/* what was no read's miss, where there was some */
	if (c->pcache_ok && c->pcache_cause_ok && c->pcache_fault_bytes)
		un_appendf(line, sizeof(line),
			   ", %s of it by page faults (binaries, libraries, mapped files)",
			   un_bytes(c->pcache_fault_bytes).s);
	if (c->pcache_ok && c->pcache_cause_ok && c->pcache_other_bytes)
		un_appendf(line, sizeof(line), ", %s of it in other syscalls (writes, exec)",
			   un_bytes(c->pcache_other_bytes).s);
	if (run->resident_before >= 0) {
		fmt_pct(a, sizeof(a), true, run->resident_before);
		un_appendf(line, sizeof(line), ", %s of the data resident before the run", a);
	}
	if (c->block_ok) {
		un_appendf(line, sizeof(line), "; disk: %s in %" PRIu64 " requests, busy %s",
			   un_bytes(c->block_bytes).s, c->block_reqs, un_dur(c->block_busy_ns).s);
		if (run->device_rate_ok && isfinite(run->device_rate) && run->device_rate >= 0)
			un_appendf(line, sizeof(line), " (%s)", un_rate(run->device_rate).s);
	} else {
		un_appendf(line, sizeof(line), "; disk: " UNAVAILABLE);
	}
	para(o, "  ", "  ", line);

	/* the ideal bound */
	if (run->ideal_ok) {
		line[0] = 0;
		un_appendf(line, sizeof(line),
			   "ideal (the least work of the %s%sruns): wall %s = the larger of "
			   "CPU %s",
			   run->cache, run->cache[0] ? " " : "", un_dur(run->ideal_wall_ns).s,
			   un_dur(run->ideal_cpu_ns).s);
		un_appendf(line, sizeof(line), " and device %s",
			   run->ideal_dev_ok ? un_dur(run->ideal_dev_ns).s : UNAVAILABLE);
		fmt_real(a, sizeof(a), true, run->ideal_speedup, "×");
		fmt_pct(b, sizeof(b), true, run->ideal_fraction);
		un_appendf(line, sizeof(line), ", a %s speedup; this run reached %s of it", a, b);
		para(o, "  ", "  ", line);
	}

	if (c->uring_ok && (c->uring_submitted || c->uring_completed)) {
		if (c->uring_paths_ok)
			snprintf(line, sizeof(line),
				 "io_uring: %" PRIu64 " submitted, %" PRIu64 " completed: %" PRIu64
				 " within the submitting call, %" PRIu64
				 " later by task work, %" PRIu64 " by io-wq workers (%" PRIu64
				 " punted)",
				 c->uring_submitted, c->uring_completed, c->uring_at_submit,
				 c->uring_task_work, c->uring_io_wq, c->uring_punted);
		else
			snprintf(line, sizeof(line),
				 "io_uring: %" PRIu64 " submitted, %" PRIu64 " completed, %" PRIu64
				 " inline, %" PRIu64 " punted to io-wq workers",
				 c->uring_submitted, c->uring_completed, c->uring_inline,
				 c->uring_punted);
		para(o, "  ", "  ", line);
	}
	if (c->lost_events || run->gaps_ns) {
		uint64_t tt = thread_time(run->states_ns);
		uint64_t lost = c->lost_ns > run->gaps_ns ? c->lost_ns : run->gaps_ns;
		char how[128];

		if (tt)
			snprintf(b, sizeof(b), "%s", un_pct((double)lost / (double)tt, 1).s);
		else
			snprintf(b, sizeof(b), UNAVAILABLE);
		if (c->lost_exact_ns && c->lost_exact_ns >= lost)
			snprintf(how, sizeof(how), "the time in each state there is still exact (the "
					       "kernel's totals), only the order is lost");
		else if (c->lost_exact_ns)
			snprintf(how, sizeof(how), "the time in each state is still exact for %s of it, "
					       "the rest carries the last state seen",
				 un_dur(c->lost_exact_ns).s);
		else
			snprintf(how, sizeof(how), "the states there are the last ones seen");
		snprintf(line, sizeof(line),
			 "warning: %" PRIu64 " events lost, covering %s of thread time (%s of "
			 "it); %s",
			 c->lost_events, un_dur(lost).s, b, how);
		fputs("  ", o->f);
		on(o, ST_WARN);
		para_at(o, 2, "  ", line);
		off(o, ST_WARN);
	}
	if (run->spans_resolution_ns) {
		snprintf(line, sizeof(line),
			 "timeline drawn at %s resolution for its first %s (to bound memory); "
			 "every figure is exact",
			 un_dur(run->spans_resolution_ns).s, un_dur(run->spans_exact_from_ns).s);
		para(o, "  ", "  ", line);
	}
	if (an_unwind_line(run, line, sizeof(line)))
		para(o, "  ", "  ", line);
	for (int k = 0; k < 2; k++) {
		const struct an_stackset *s = k ? &run->offcpu : &run->oncpu;

		if (s->unavailable[0])
			snprintf(line, sizeof(line), "%s stacks: unavailable (%s)",
				 k ? "off-CPU" : "on-CPU", s->unavailable);
		else if (s->errors)
			snprintf(line, sizeof(line),
				 "%s stacks: %" PRIu64
				 " could not be captured (map full or truncated)",
				 k ? "off-CPU" : "on-CPU", s->errors);
		else
			continue;
		para(o, "  ", "  ", line);
	}
}

/*
 * A thread's io_wait or lock_wait cell names what the wait was for: its largest kind,
 * with "+" when it had others too (the run's waits line lists them all).
 */
static void kind_tag(char *b, size_t n, const struct an_thread *th, int s)
{
	const uint64_t *ns;
	const char *const *name;
	int nk, best = -1, used = 0;

	if (!th->by_kind_ok || (s != TL_IO_WAIT && s != TL_LOCK_WAIT))
		return;
	ns = s == TL_IO_WAIT ? th->io_wait_by_kind_ns : th->lock_wait_by_kind_ns;
	name = s == TL_IO_WAIT ? io_heads : lock_heads;
	nk = s == TL_IO_WAIT ? WT_NIO_SLOTS : WT_NLK_SLOTS;
	for (int k = 0; k < nk; k++)
		if (ns[k]) {
			used++;
			if (best < 0 || ns[k] > ns[best])
				best = k;
		}
	if (best >= 0)
		un_appendf(b, n, " %s%s", name[best], used > 1 ? "+" : "");
}

static int thread_table(struct out *o, const struct an_run *run)
{
	struct tbl t = {.ncol = TL_NSTATES + 4};
	struct trow *h, *w;
	char b[TCELL];
	size_t shown = run->nthreads < MAX_THREAD_ROWS ? run->nthreads : MAX_THREAD_ROWS;
	int ret = 0, k = 0; /* k: the pid column, shown when the run spans processes */
	struct un_col life, col[TL_NSTATES];
	double max[TL_NSTATES + 1] = {0}; /* each state's column, then the lifetimes' */

	for (size_t i = 1; i < run->nthreads && !k; i++)
		k = run->threads[i].pid != run->threads[0].pid;
	for (int s = 0; s < TL_NSTATES; s++)
		max[s] = (double)run->states_ns[s]; /* the "all" row */
	for (size_t i = 0; i < shown; i++) {
		for (int s = 0; s < TL_NSTATES; s++)
			max[s] = fmax(max[s], (double)run->threads[i].states_ns[s]);
		max[TL_NSTATES] = fmax(max[TL_NSTATES], (double)run->threads[i].lifetime_ns);
	}
	for (int s = 0; s < TL_NSTATES; s++)
		col[s] = un_column(UN_DUR, max[s]);
	life = un_column(UN_DUR, max[TL_NSTATES]);
	t.ncol += k;
	t.left[0] = t.left[1] = true;
	h = tbl_row(&t);
	if (!h)
		return -ENOMEM;
	cell(h, 0, ST_NONE, "role");
	cell(h, 1, ST_NONE, "comm");
	if (k)
		cell(h, 2, ST_NONE, "pid");
	cell(h, 2 + k, ST_NONE, "tid");
	cell(h, 3 + k, ST_NONE, "lifetime");
	for (int s = 0; s < TL_NSTATES; s++)
		cell(h, s + 4 + k, ST_NONE, tl_state_name((enum tl_state)s));
	for (size_t i = 0; i < shown; i++) {
		const struct an_thread *th = &run->threads[i];

		w = tbl_row(&t);
		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		cell(w, 0, ST_NONE, th->role);
		cell(w, 1, ST_NONE, th->comm);
		if (k) {
			snprintf(b, sizeof(b), "%" PRIu32, th->pid);
			cell(w, 2, ST_NONE, b);
		}
		snprintf(b, sizeof(b), "%" PRIu32, th->tid);
		cell(w, 2 + k, ST_NONE, b);
		cell(w, 3 + k, ST_NONE, un_cell(&life, (double)th->lifetime_ns).s);
		/* "-" for none: the eye finds the states a thread was in */
		for (int s = 0; s < TL_NSTATES; s++) {
			snprintf(b, sizeof(b), "%s",
				 th->states_ns[s] ? un_cell(&col[s], (double)th->states_ns[s]).s
						  : "-");
			if (th->states_ns[s])
				kind_tag(b, sizeof(b), th, s);
			cell(w, s + 4 + k, ST_NONE, b);
		}
	}
	w = tbl_row(&t);
	if (!w) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(b, sizeof(b), "all %zu thread%s", run->nthreads, run->nthreads == 1 ? "" : "s");
	cell(w, 0, ST_BOLD, b);
	for (int s = 0; s < TL_NSTATES; s++)
		cell(w, s + 4 + k, ST_BOLD,
		     run->states_ns[s] ? un_cell(&col[s], (double)run->states_ns[s]).s : "-");
	tbl_print(o, &t, "  ");
	if (run->nthreads > shown)
		fprintf(o->f, "  ... %zu more threads (all of them are in summary.json)\n",
			run->nthreads - shown);
out:
	free(t.rows);
	return ret;
}

/* Width of the command column: a long command line is cut there ("..." marks it). */
#define CMD_COLS 40

/* Rows of the default output's process table: more are said in one line (-v has 16). */
#define SHORT_PROCESS_ROWS 6

/* A process's time on CPU (its threads' compute and io_cpu). */
static uint64_t proc_oncpu(const struct an_process *p)
{
	return p->states_ns[TL_COMPUTE] + p->states_ns[TL_IO_CPU];
}

/*
 * A process's read cell names what it read from: its largest kind, with "+" when others
 * made 1% or more of it (every program reads a few hundred bytes of its libraries' headers
 * from files: md5sum reading a pipe stays "pipe").
 */
static void bytes_tag(char *b, size_t n, const struct an_process *p)
{
	int best = -1, used = 0;

	if (!p->bytes_kind_ok)
		return;
	for (int k = 0; k < WT_NIO_SLOTS; k++) {
		if (!p->bytes_read_by_kind[k])
			continue;
		used += p->bytes_read_by_kind[k] * 100 >= p->bytes_read;
		if (best < 0 || p->bytes_read_by_kind[k] > p->bytes_read_by_kind[best])
			best = k;
	}
	if (best >= 0)
		un_appendf(b, n, " %s%s", io_heads[best], used > 1 ? "+" : "");
}

/*
 * One row per process when the run spans several (a traced program's children): who
 * started it, how it ended, its threads' time by state and what it read; the command last.
 * Short (the default output): the first SHORT_PROCESS_ROWS, on-CPU time for the states.
 */
static int process_table(struct out *o, const struct an_run *run, bool brief)
{
	enum { C_PID, C_PARENT, C_START, C_END, C_EXIT, C_THREADS, C_STATES };
	/* brief: the states' columns are one, on CPU */
	int nstates = brief ? 1 : TL_NSTATES;
	struct tbl t = {.ncol = C_STATES + nstates + 2};
	struct trow *w;
	char b[TCELL];
	size_t cap = brief ? SHORT_PROCESS_ROWS : MAX_THREAD_ROWS;
	size_t shown = run->nprocesses < cap ? run->nprocesses : cap;
	int ret = 0, c_read = C_STATES + nstates, c_cmd = c_read + 1;
	struct un_col when, rd, col[TL_NSTATES];
	double max[TL_NSTATES + 2] = {0}; /* each state's, then start/end's, then bytes' */

	if (run->nprocesses < 2)
		return 0;
	for (size_t i = 0; i < shown; i++) {
		const struct an_process *p = &run->processes[i];

		if (brief)
			max[0] = fmax(max[0], (double)proc_oncpu(p));
		for (int s = 0; s < TL_NSTATES && !brief; s++)
			max[s] = fmax(max[s], (double)p->states_ns[s]);
		max[TL_NSTATES] =
			fmax(max[TL_NSTATES], (double)(p->ended ? p->end_ns : p->start_ns));
		max[TL_NSTATES + 1] = fmax(max[TL_NSTATES + 1], (double)p->bytes_read);
	}
	for (int s = 0; s < nstates; s++)
		col[s] = un_column(UN_DUR, max[s]);
	when = un_column(UN_DUR, max[TL_NSTATES]);
	rd = un_column(UN_BYTES, max[TL_NSTATES + 1]);
	t.left[c_cmd] = true;
	w = tbl_row(&t);
	if (!w)
		return -ENOMEM;
	cell(w, C_PID, ST_NONE, "pid");
	cell(w, C_PARENT, ST_NONE, "parent");
	cell(w, C_START, ST_NONE, "start");
	cell(w, C_END, ST_NONE, "end");
	cell(w, C_EXIT, ST_NONE, "exit");
	cell(w, C_THREADS, ST_NONE, "threads");
	if (brief)
		cell(w, C_STATES, ST_NONE, "on CPU");
	for (int s = 0; s < TL_NSTATES && !brief; s++)
		cell(w, C_STATES + s, ST_NONE, tl_state_name((enum tl_state)s));
	cell(w, c_read, ST_NONE, "read");
	cell(w, c_cmd, ST_NONE, "command");
	for (size_t i = 0; i < shown; i++) {
		const struct an_process *p = &run->processes[i];

		w = tbl_row(&t);
		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		snprintf(b, sizeof(b), "%" PRIu32, p->pid);
		cell(w, C_PID, ST_NONE, b);
		snprintf(b, sizeof(b), "%" PRIu32, p->ppid);
		cell(w, C_PARENT, ST_NONE, b);
		cell(w, C_START, ST_NONE,
		     p->before ? "before" : un_cell(&when, (double)p->start_ns).s);
		cell(w, C_END, p->ended ? ST_NONE : ST_WARN,
		     p->ended ? un_cell(&when, (double)p->end_ns).s : p->exit_lost ? "?" : "running");
		if (p->exit_status >= 0)
			snprintf(b, sizeof(b), "%d", p->exit_status);
		cell(w, C_EXIT, ST_NONE, p->exit_status >= 0 ? b : "-");
		snprintf(b, sizeof(b), "%" PRIu32, p->nthreads);
		cell(w, C_THREADS, ST_NONE, b);
		if (brief)
			cell(w, C_STATES, ST_NONE,
			     proc_oncpu(p) ? un_cell(&col[0], (double)proc_oncpu(p)).s : "-");
		for (int s = 0; s < TL_NSTATES && !brief; s++)
			cell(w, C_STATES + s, ST_NONE,
			     p->states_ns[s] ? un_cell(&col[s], (double)p->states_ns[s]).s : "-");
		if (p->bytes_read) {
			snprintf(b, sizeof(b), "%s", un_cell(&rd, (double)p->bytes_read).s);
			bytes_tag(b, sizeof(b), p);
		}
		cell(w, c_read, ST_NONE, p->bytes_read ? b : "-");
		if (strlen(p->cmdline) > CMD_COLS)
			snprintf(b, sizeof(b), "%.*s...", CMD_COLS - 3, p->cmdline);
		else
			snprintf(b, sizeof(b), "%s", p->cmdline[0] ? p->cmdline : p->comm);
		cell(w, c_cmd, ST_NONE, b);
	}
	tbl_print(o, &t, "  ");
	if (run->nprocesses > shown)
		fprintf(o->f, "  ... %zu more processes (%sall of them are in summary.json)\n",
			run->nprocesses - shown, brief ? "-v shows 16, " : "");
out:
	free(t.rows);
	return ret;
}

/* The verdict's advice follows " — " in a line; NULL if it has none. */
static const char *advice_of(const char *text)
{
	return strstr(text, " — ");
}

/*
 * -v: each run's findings. The label and its speedup once (the headline's part before its
 * causes, which the findings below say in full), then each finding; a rule's advice is
 * said the first time it fires only, so twelve page-cache runs do not repeat it.
 */
static void findings(struct out *o, const struct an_report *r)
{
	const char *said[AN_MAX_VERDICT * 4];
	size_t nsaid = 0;
	char lab[160], head[600];

	on(o, ST_BOLD);
	fputs("Findings\n", o->f);
	off(o, ST_BOLD);
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		size_t ll = strlen(run->label);
		const char *h = run->headline, *cut = advice_of(h);

		safe(lab, sizeof(lab), run->label);
		fputs("  ", o->f);
		on(o, ST_LABEL);
		fputs(lab, o->f);
		off(o, ST_LABEL);
		/* "threads/warm: 1.96× over sync (93% of ideal 2.10×) — causes" */
		if (cut && !strncmp(h, run->label, ll) && !strncmp(h + ll, ": ", 2)) {
			snprintf(head, sizeof(head), "%.*s", (int)(cut - h - ll - 2), h + ll + 2);
			fputs(": ", o->f);
			para_at(o, width(lab) + 4, "      ", head);
		} else {
			fputc('\n', o->f);
		}
		if (!run->nverdict)
			para(o, "    - ", "      ",
			     "No rule fired: nothing in this run's numbers points to one cause.");
		for (size_t v = 0; v < run->nverdict && v < AN_MAX_VERDICT; v++) {
			const char *t = run->verdict[v].text, *adv = advice_of(t);
			bool again = false;

			for (size_t k = 0; k < nsaid && !again; k++)
				again = !strcmp(said[k], run->verdict[v].rule);
			if (adv && again) {
				snprintf(head, sizeof(head), "%.*s.", (int)(adv - t), t);
				para(o, "    - ", "      ", head);
				continue;
			}
			if (adv && nsaid < sizeof(said) / sizeof(said[0]))
				said[nsaid++] = run->verdict[v].rule;
			para(o, "    - ", "      ", t);
		}
	}
}

/* The Answer: the model's answer, then one line for each strategy (why each was as fast
 * as it was, losers included); without an answer the lines alone, under "Why". */
static void answer(struct out *o, const struct an_report *r)
{
	char (*lines)[AN_LINE] = calloc(r->nruns ? r->nruns : 1, sizeof(*lines));
	size_t n;

	on(o, ST_BOLD);
	fputs(r->answer[0] ? "Answer\n" : "Why\n", o->f);
	off(o, ST_BOLD);
	/* a combined report holds one answer per folder, one per line */
	for (const char *p = r->answer; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char piece[sizeof(r->answer)];

		snprintf(piece, sizeof(piece), "%.*s", (int)len, p);
		para(o, "  ", "  ", piece);
		p += len + (nl ? 1 : 0);
	}
	if (!lines)
		return;
	n = an_answer_lines(r, lines, r->nruns);
	o->glue = true;
	for (size_t i = 0; i < n; i++)
		para(o, "  ", "      ", lines[i]);
	o->glue = false;
	free(lines);
}

/* Data-quality notes the default output keeps, one line a run: its figures are less exact
 * (the share is of the run's thread time, as in -v's details). */
static void short_warnings(struct out *o, const struct an_report *r)
{
	char line[400], share[32];

	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		uint64_t lost = run->c.lost_ns > run->gaps_ns ? run->c.lost_ns : run->gaps_ns;
		uint64_t tt = thread_time(run->states_ns);

		if (!run->c.lost_events && !run->gaps_ns)
			continue;
		if (tt)
			snprintf(share, sizeof(share), "%s", un_pct((double)lost / (double)tt, 1).s);
		else
			snprintf(share, sizeof(share), UNAVAILABLE);
		/* one line a run (how long the lost stretches were: -v) */
		snprintf(line, sizeof(line),
			 "warning: %s: %" PRIu64 " events lost (%s of thread time%s); -v says more",
			 run->label, run->c.lost_events, share,
			 run->c.lost_exact_ns && run->c.lost_exact_ns >= lost ? ", totals exact"
									      : "");
		on(o, ST_WARN);
		para(o, "", "  ", line);
		off(o, ST_WARN);
	}
}

/*
 * The default output's processes: for each run of several (a traced program's children),
 * a short table under a line that says how many and what ran (labelled by run when a
 * combined report has several such runs).
 */
static int short_processes(struct out *o, const struct an_report *r)
{
	size_t many = 0;
	char lab[160];
	int ret;

	for (size_t i = 0; i < r->nruns; i++)
		many += r->runs[i].nprocesses > 1;
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];

		if (run->nprocesses < 2)
			continue;
		safe(lab, sizeof(lab), run->label);
		fputc('\n', o->f);
		on(o, ST_BOLD);
		if (many > 1)
			fprintf(o->f, "%s: ", lab);
		fprintf(o->f, "%zu processes\n", run->nprocesses);
		off(o, ST_BOLD);
		ret = process_table(o, run, true);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * What a trace could not see (the handoff and visibility notes), said by default too: a
 * run's figures stop there, and the user must know to trace the rest. And which of its
 * processes did the reading, and where its time went (reader): the run's lines are the
 * whole program's, whose largest part may be another process's.
 */
static void short_notes(struct out *o, const struct an_report *r)
{
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];

		for (size_t v = 0; v < run->nverdict && v < AN_MAX_VERDICT; v++)
			if (!strcmp(run->verdict[v].rule, "handoff") ||
			    !strcmp(run->verdict[v].rule, "visibility") ||
			    !strcmp(run->verdict[v].rule, "reader"))
				para(o, "  note: ", "    ", run->verdict[v].text);
	}
}

int rp_text(FILE *f, const struct an_report *r, const struct rp_text_opts *opt)
{
	struct out o = {.f = f, .color = opt && opt->color,
			.cols = opt && opt->width >= 40 ? (int)opt->width : WRAP_COLS};
	int verbose = opt ? opt->verbose : 0;
	char a[160], b[160];
	size_t nrep = 0;
	int ret;

	for (size_t i = 0; i < r->nruns; i++)
		nrep = r->runs[i].nrepeats > nrep ? r->runs[i].nrepeats : nrep;
	safe(a, sizeof(a), r->workload);
	safe(b, sizeof(b), r->kernel);
	fprintf(f, "iotrace %s: %s on %u CPUs, kernel %s\n", r->version[0] ? r->version : "?", a,
		r->ncpu, b[0] ? b : "unknown");
	if (r->command) {
		char line[1024];
		size_t n = 0;

		for (char **p = r->command; *p && n < sizeof(line); p++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
					      p == r->command ? "" : " ", *p);
		para(&o, "command: ", "  ", line);
	}
	/* the conditions of the runs: said in full with -v, in one line by default */
	if (r->warmup[0] && verbose > 0) {
		char w[sizeof(r->warmup)];

		safe(w, sizeof(w), r->warmup);
		para(&o, "warm-up: ", "  ", w);
	}
	if (r->tracer_total_ok && verbose > 0) {
		char line[300];

		snprintf(line, sizeof(line), "user %s, system %s", un_dur(r->tracer_total_user_ns).s,
			 un_dur(r->tracer_total_sys_ns).s);
		if (r->tracer_outside_ok)
			un_appendf(line, sizeof(line),
				   "; outside the runs' windows (loading the probes, preparing, "
				   "draining after each exit, analysing, writing the report) user "
				   "%s, system %s",
				   un_dur(r->tracer_outside_user_ns).s,
				   un_dur(r->tracer_outside_sys_ns).s);
		para(&o, "iotrace's own CPU: ", "  ", line);
	}
	if (r->readahead[0] && verbose > 0)
		fprintf(f, "readahead %s: %s\n", !strcmp(r->readahead, "off") ? "off" : "on",
			!strcmp(r->readahead, "off")
				? "each file advised POSIX_FADV_RANDOM, a read fetches what it asks for"
				: "each file advised POSIX_FADV_SEQUENTIAL, as md5sum does");
	if ((r->warmup[0] || r->readahead[0] || nrep > 1) && !verbose) {
		char line[200] = "";

		/* the repetitions first: they say what the table's walls and ± are */
		if (nrep > 1)
			un_appendf(line, sizeof(line),
				   "walls: medians of %zu interleaved runs, ± the farthest", nrep);
		if (r->warmup[0])
			un_appendf(line, sizeof(line), "%s",
				   nrep > 1 ? "; warm-up first"
					    : "warm-up: one, before the first run");
		if (r->readahead[0] && nrep > 1)
			un_appendf(line, sizeof(line), "; readahead %s",
				   !strcmp(r->readahead, "off") ? "off" : "on");
		else if (r->readahead[0])
			un_appendf(line, sizeof(line), "%sreadahead %s: POSIX_FADV_%s",
				   line[0] ? "; " : "", !strcmp(r->readahead, "off") ? "off" : "on",
				   !strcmp(r->readahead, "off") ? "RANDOM" : "SEQUENTIAL");
		un_appendf(line, sizeof(line), " (more with -v)");
		para(&o, "", "  ", line);
	}
	fputc('\n', f);
	ret = comparison(&o, r, verbose > 0);
	if (ret)
		return ret;
	if (verbose > 0) {
		fputs("\nShare of thread time by state\n", f);
		ret = state_shares(&o, r);
		if (!ret)
			ret = wait_kinds(&o, r);
		if (ret)
			return ret;
		for (size_t i = 0; i < r->nruns; i++) {
			safe(a, sizeof(a), r->runs[i].label);
			fputc('\n', f);
			on(&o, ST_LABEL);
			fputs(a, f);
			off(&o, ST_LABEL);
			fputc('\n', f);
			run_facts(&o, &r->runs[i]);
			ret = process_table(&o, &r->runs[i], false);
			if (ret)
				return ret;
			ret = thread_table(&o, &r->runs[i]);
			if (ret)
				return ret;
		}
		fputc('\n', f);
		findings(&o, r);
	} else {
		ret = short_processes(&o, r);
		if (ret)
			return ret;
		short_warnings(&o, r);
	}
	fputc('\n', f);
	answer(&o, r);
	if (!verbose)
		short_notes(&o, r);
	if (opt && opt->folder) {
		char line[4200];

		fputc('\n', f);
		snprintf(line, sizeof(line), "%s/report.html", opt->folder);
		para(&o, "report: ", "  ", line);
		snprintf(line, sizeof(line), "%s/trace.json (open it in ui.perfetto.dev)",
			 opt->folder);
		para(&o, "for Perfetto: ", "  ", line);
	}
	if (fflush(f) == EOF || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
