/* flame.c - folded stacks and self-contained interactive SVG flame graphs (plain and differential). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "report.h"

/*
 * The graph is laid out from a prefix tree of the folded stacks, built in one pass over
 * the stacks sorted frame by frame (so a frame's stacks are contiguous and each node is
 * appended to its parent in order). Frames narrower than min_frac of the total are not
 * drawn one by one: siblings that narrow merge into one "[N narrow frames]" box, which
 * is drawn when it is wide enough itself; either way their time stays in the parent's
 * width. Frame geometry is in the markup; the embedded script only moves it (zoom),
 * recolors it (search) and shows titles (hover), so the SVG reads without scripts too.
 */

#define FG_W 1200.0	/* SVG width in user units */
#define FG_L 10.0	/* left/right margin */
#define FG_PW (FG_W - 2 * FG_L)
#define FG_FH 16	/* row pitch; rects are one less */
#define FG_TOP 64	/* first row (the deepest frame) starts below title, subtitle, legend */
#define FG_BOTTOM 34	/* details line under the root */
#define FG_CHARW 7.0	/* average glyph width of 12px Verdana, for fitting labels */

static const char *const state_colors[TL_NSTATES] = {
	[TL_COMPUTE] = "#2e9e5b",    [TL_IO_CPU] = "#a6cc3c",     [TL_IO_WAIT] = "#d8423c",
	[TL_LOCK_WAIT] = "#8e5ec4",  [TL_POLL_WAIT] = "#2f8fd8",  [TL_OTHER_WAIT] = "#9e9e9e",
	[TL_RUNNABLE] = "#f29d38",
};

static const struct {
	const char *name, *meaning, *color;
} io_kinds[WT_NIO_SLOTS] = {
	{"file", "reading storage (a file or block device)", "#d8423c"},
	{"pipe", "waiting on a pipe: another process's work", "#f0a39b"},
	{"socket", "waiting on a socket: a peer's work", "#e57368"},
	{"other", "a tty, an eventfd, a device, or not seen", "#f6d0cb"},
}, lock_kinds[WT_NLK_SLOTS] = {
	{"mutex", "contention on a mutex", "#8e5ec4"},
	{"GIL", "waiting for CPython's GIL: contention", "#5b2f91"},
	{"join", "waiting for a thread to end (join): not contention", "#cdb9e6"},
	{"condvar", "idle, waiting to be signalled (a pool, a queue): not contention", "#e6dcf2"},
	{"other", "other futex waits", "#b7a2d6"},
};

/*
 * The flame graphs' state frames split by kind ("lock_wait: join", model/analysis.h): each
 * kind keeps one color (its state's family, as report.html's bars draw it) and says in its
 * tooltip what it means, contention or not. Tooltips have no " (": the graph's script
 * takes a frame's name up to its title's last one.
 */
static const struct {
	enum tl_state st;
	const char *tip[AN_MAX_SLOTS];
} frame_kinds[] = {
	{TL_IO_WAIT,
	 {"reading storage: a file or block device",
	  "waiting on a pipe: another process's work, not the disk",
	  "waiting on a socket: a peer's work, not the disk",
	  "a tty, an eventfd, a device, or a read whose file was not seen"}},
	{TL_LOCK_WAIT,
	 {"contention on a mutex",
	  "waiting for CPython's GIL: contention",
	  "waiting for a thread to exit: not contention",
	  "idle, waiting to be signalled by a pool or a queue: not contention",
	  "other futex waits, or a wait whose futex was not seen"}},
	{TL_OTHER_WAIT,
	 {"waiting for a child process: its work is elsewhere",
	  "sleeping outside reads, locks and polls: a timer, a page fault, another call"}},
};
/* other_wait's kinds (the bars do not split it): child, other */
static const char *const other_colors[WT_NOW_SLOTS] = {"#767676", "#9e9e9e"};

static const char *frame_kind_tip(enum tl_state st, int slot)
{
	for (size_t i = 0; slot >= 0 && i < sizeof(frame_kinds) / sizeof(frame_kinds[0]); i++)
		if (frame_kinds[i].st == st && (unsigned)slot < an_state_slots(st))
			return frame_kinds[i].tip[slot];
	return NULL;
}

static const char *frame_kind_color(enum tl_state st, int slot)
{
	if (slot < 0)
		return NULL;
	if (st == TL_OTHER_WAIT && slot < WT_NOW_SLOTS)
		return other_colors[slot];
	return rp_kind_color(st, (unsigned)slot);
}

const char *rp_span_kind(unsigned state, unsigned kind)
{
	if (!kind)
		return NULL;
	if ((state == TL_IO_CPU || state == TL_IO_WAIT) && kind < WT_NIO)
		return wt_io_kind_name(kind);
	if (state == TL_LOCK_WAIT && kind < WT_NLK)
		return wt_lock_kind_name(kind);
	return NULL;
}

const char *rp_kind_name(enum tl_state st, unsigned slot)
{
	if (st == TL_IO_WAIT && slot < WT_NIO_SLOTS)
		return io_kinds[slot].name;
	if (st == TL_LOCK_WAIT && slot < WT_NLK_SLOTS)
		return lock_kinds[slot].name;
	return NULL;
}

const char *rp_kind_meaning(enum tl_state st, unsigned slot)
{
	if (st == TL_IO_WAIT && slot < WT_NIO_SLOTS)
		return io_kinds[slot].meaning;
	if (st == TL_LOCK_WAIT && slot < WT_NLK_SLOTS)
		return lock_kinds[slot].meaning;
	return NULL;
}

const char *rp_kind_color(enum tl_state st, unsigned slot)
{
	if (st == TL_IO_WAIT && slot < WT_NIO_SLOTS)
		return io_kinds[slot].color;
	if (st == TL_LOCK_WAIT && slot < WT_NLK_SLOTS)
		return lock_kinds[slot].color;
	return NULL;
}

const char *rp_state_color(enum tl_state st)
{
	return (unsigned)st < TL_NSTATES ? state_colors[st] : "#bdbdbd";
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid; *cp = code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and what XML 1.0 does not allow as a character */
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	*cp = c;
	return len;
}

void rp_xml(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return;
	if (n == SIZE_MAX)
		n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t l;

		if (c < 0x80) {
			switch (c) {
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '&': fputs("&amp;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&#39;", f); break;
			default: fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
			}
			i++;
		} else if ((l = utf8_seq(p + i, n - i, &cp))) {
			fprintf(f, "&#x%X;", cp);
			i += l;
		} else {
			fprintf(f, "\\x%02X", c);
			i++;
		}
	}
}

char *rp_thousands(uint64_t v, char *buf)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

/*
 * A value as people read it: durations (unit "µs" or "ns") as units.h writes them ("812 ms",
 * "47.5 s"), anything else as "1,234 samples".
 */
static char *amount(uint64_t v, const char *unit, char *buf, size_t len)
{
	char t[32];

	if (!strcmp(unit, "ns") || !strcmp(unit, "µs"))
		snprintf(buf, len, "%s", un_fmt(UN_DUR, (double)v * (unit[0] == 'n' ? 1 : 1e3)).s);
	else
		snprintf(buf, len, "%s%s%s", rp_thousands(v, t), *unit ? " " : "", unit);
	return buf;
}

/* ---- folded ---- */

/* Frame-wise order: ';' sorts before every other byte, the end of the string before ';'. */
static int frames_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned x = (unsigned char)*a, y = (unsigned char)*b;

		x = x == ';' ? 1 : x ? x + 1 : 0;
		y = y == ';' ? 1 : y ? y + 1 : 0;
		if (x != y || !x)
			return (int)x - (int)y;
	}
}

static int stack_cmp(const void *pa, const void *pb)
{
	const struct an_stack *a = *(const struct an_stack *const *)pa;
	const struct an_stack *b = *(const struct an_stack *const *)pb;
	int c = frames_cmp(a->frames, b->frames);

	return c ? c : a->value < b->value ? -1 : a->value > b->value;
}

int rp_folded(FILE *f, const struct an_stackset *s)
{
	const struct an_stack **v;

	if (!s->n)
		return ferror(f) ? -EIO : 0;
	v = malloc(s->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		v[i] = &s->v[i];
	qsort(v, s->n, sizeof(*v), stack_cmp);
	for (size_t i = 0; i < s->n; i++)
		if (v[i]->value)
			fprintf(f, "%s %" PRIu64 "\n", v[i]->frames, v[i]->value);
	free(v);
	return ferror(f) ? -EIO : 0;
}

/* ---- the prefix tree ---- */

struct fnode {
	const char *name;
	uint32_t nlen;
	uint32_t depth;
	uint64_t v[2];		/* [0] the graph's value, [1] the baseline's (diff) */
	uint32_t child, last, next; /* first/last child, next sibling; 0 = none (0 is the root) */
};

struct ftree {
	struct fnode *n;
	size_t nn, cap;
};

struct fent {
	const char *frames;
	uint64_t v;
	int which;
};

static int fent_cmp(const void *pa, const void *pb)
{
	const struct fent *a = pa, *b = pb;

	return frames_cmp(a->frames, b->frames);
}

static long node_new(struct ftree *t, const char *name, size_t nlen, uint32_t depth)
{
	if (t->nn == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		void *n = realloc(t->n, cap * sizeof(*t->n));

		if (!n)
			return -ENOMEM;
		t->n = n;
		t->cap = cap;
	}
	memset(&t->n[t->nn], 0, sizeof(t->n[0]));
	t->n[t->nn].name = name;
	t->n[t->nn].nlen = (uint32_t)nlen;
	t->n[t->nn].depth = depth;
	return (long)t->nn++;
}

/* Skip the first `skip` frames of a folded stack. */
static const char *skip_frames(const char *p, unsigned skip)
{
	while (skip--) {
		const char *q = strchr(p, ';');

		if (!q)
			return p + strlen(p);
		p = q + 1;
	}
	return p;
}

/* Weighted value of one stack in a layer; 0 drops it. */
static uint64_t scaled(uint64_t v, double scale)
{
	return scale == 1 ? v : (uint64_t)((double)v * scale + 0.5);
}

/*
 * Tree of layers a (value 0) and b (value 1, the diff baseline), dropping the first
 * `skip` frames of every stack.
 */
static int tree_build(struct ftree *t, const struct rp_layer *a, size_t na,
		      const struct rp_layer *b, size_t nb, unsigned skip)
{
	size_t ne = 0, k = 0, pathlen = 1, pathcap = 256;
	uint32_t *path = NULL;
	struct fent *e;
	int ret = -ENOMEM;

	for (size_t i = 0; i < na; i++)
		ne += a[i].s->n;
	for (size_t i = 0; i < nb; i++)
		ne += b[i].s->n;
	memset(t, 0, sizeof(*t));
	e = malloc((ne ? ne : 1) * sizeof(*e));
	path = malloc(pathcap * sizeof(*path));
	if (!e || !path || node_new(t, "all", 3, 0) < 0)
		goto out;
	for (size_t l = 0; l < na + nb; l++) {
		const struct rp_layer *ly = l < na ? &a[l] : &b[l - na];

		for (size_t i = 0; i < ly->s->n; i++) {
			uint64_t v = scaled(ly->s->v[i].value, ly->scale);

			if (!v || !ly->s->v[i].frames)
				continue;
			e[k].frames = skip_frames(ly->s->v[i].frames, skip);
			e[k].v = v;
			e[k++].which = l >= na;
		}
	}
	qsort(e, k, sizeof(*e), fent_cmp);
	path[0] = 0;
	for (size_t i = 0; i < k; i++) {
		const char *p = e[i].frames;
		size_t d = 1;

		t->n[0].v[e[i].which] += e[i].v;
		while (*p) {
			const char *q = strchrnul(p, ';');
			size_t len = (size_t)(q - p);
			uint32_t node;

			if (d < pathlen && t->n[path[d]].nlen == len &&
			    !memcmp(t->n[path[d]].name, p, len)) {
				node = path[d];
			} else {
				long nn = node_new(t, p, len, (uint32_t)d);
				struct fnode *parent;

				if (nn < 0)
					goto out;
				node = (uint32_t)nn;
				parent = &t->n[path[d - 1]];
				if (parent->last)
					t->n[parent->last].next = node;
				else
					parent->child = node;
				parent->last = node;
				if (d == pathcap) {
					void *np = realloc(path, pathcap * 2 * sizeof(*path));

					if (!np)
						goto out;
					path = np;
					pathcap *= 2;
				}
				path[d] = node;
				pathlen = d + 1;
			}
			t->n[node].v[e[i].which] += e[i].v;
			d++;
			p = *q ? q + 1 : q;
		}
	}
	ret = 0;
out:
	free(e);
	free(path);
	if (ret)
		free(t->n);
	return ret;
}

/* ---- drawing ---- */

struct fg {
	FILE *f;
	const struct ftree *t;
	const char *unit;
	bool diff;
	uint64_t total, btotal;
	uint64_t minv;		/* narrower than this: merged */
	double scale;		/* user units per value unit */
	double maxd;		/* diff: largest |share delta| drawn, for color intensity */
	unsigned rows;		/* drawn depth + 1 */
	unsigned frames;	/* drawn frames */
	unsigned height;
};

static uint32_t hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void hsl_hex(double h, double s, double l, char out[8])
{
	double c = (1 - fabs(2 * l - 1)) * s, hp = fmod(h, 360) / 60, x = c * (1 - fabs(fmod(hp, 2) - 1));
	double r = 0, g = 0, b = 0, m = l - c / 2;

	if (hp < 1)
		r = c, g = x;
	else if (hp < 2)
		r = x, g = c;
	else if (hp < 3)
		g = c, b = x;
	else if (hp < 4)
		g = x, b = c;
	else if (hp < 5)
		r = x, b = c;
	else
		r = c, b = x;
	snprintf(out, 8, "#%02x%02x%02x", (unsigned)lround((r + m) * 255),
		 (unsigned)lround((g + m) * 255), (unsigned)lround((b + m) * 255));
}

/*
 * Stable per name: the hash picks a shade inside the frame's family, so a function keeps
 * its color across graphs and runs. Families: the time-model states (the shared palette),
 * the strategy/role frames above them (slate), user code (warm), kernel (cool), and the
 * placeholders iotrace writes itself ("[truncated]", "[anon]"...: gray).
 */
static void frame_color(const char *name, size_t n, unsigned depth, char out[8])
{
	uint32_t h = hash_name(name, n);
	int slot, st = depth <= 3 ? an_state_frame_parse(name, n, &slot) : -1;
	const char *kc = st >= 0 ? frame_kind_color((enum tl_state)st, slot) : NULL;

	if (depth == 0)
		snprintf(out, 8, "#c9c9c9");
	else if (kc)
		snprintf(out, 8, "%s", kc);
	else if (st >= 0)
		snprintf(out, 8, "%s", state_colors[st]);
	else if (depth <= 2)
		hsl_hex(210 + h % 20, 0.22, 0.70 + (h >> 8) % 8 / 100.0, out);
	else if (n && name[0] == '[' && !(n > 4 && !memcmp(name + n - 4, "_[k]", 4)))
		hsl_hex(0, 0, 0.74 + h % 6 / 100.0, out);
	else if (n > 4 && !memcmp(name + n - 4, "_[k]", 4))
		hsl_hex(180 + h % 30, 0.50, 0.62 + (h >> 8) % 10 / 100.0, out);
	else
		hsl_hex(18 + h % 38, 0.82, 0.60 + (h >> 8) % 10 / 100.0, out);
}

/* Red grew, blue shrank, light gray unchanged; intensity is |delta| / largest |delta|. */
static void diff_color(double d, double maxd, char out[8])
{
	double k = maxd > 0 ? fabs(d) / maxd : 0;
	unsigned hi = 232, lo = (unsigned)lround(232 - 182 * k);

	if (d > 0)
		snprintf(out, 8, "#%02x%02x%02x", 240, lo, lo);
	else if (d < 0)
		snprintf(out, 8, "#%02x%02x%02x", lo, lo, 240);
	else
		snprintf(out, 8, "#%02x%02x%02x", hi, hi, hi);
}

static double share(uint64_t v, uint64_t total)
{
	return total ? (double)v / (double)total : 0;
}

/* Walk the drawn tree once to size the SVG (and the diff color scale). */
static void measure(struct fg *g, uint32_t i)
{
	const struct fnode *nd = &g->t->n[i];
	uint64_t narrow = 0, nb = 0;

	g->frames++;
	if (nd->depth + 1 > g->rows)
		g->rows = nd->depth + 1;
	if (g->diff) {
		double d = fabs((double)nd->v[0] - (double)nd->v[1]);

		g->maxd = d > g->maxd ? d : g->maxd;
	}
	for (uint32_t c = nd->child; c; c = g->t->n[c].next) {
		const struct fnode *cn = &g->t->n[c];

		if (!cn->v[0])
			continue;
		if (cn->v[0] < g->minv) {
			narrow += cn->v[0];
			nb += cn->v[1];
		} else {
			measure(g, c);
		}
	}
	if (narrow && narrow >= g->minv) {
		g->frames++;
		if (nd->depth + 2 > g->rows)
			g->rows = nd->depth + 2;
		if (g->diff) {
			double d = fabs((double)narrow - (double)nb);

			g->maxd = d > g->maxd ? d : g->maxd;
		}
	}
}

/* The label that fits width w: the whole name, a cut one ending in "..", or nothing. */
static void label(FILE *f, const char *name, size_t n, double w)
{
	long fit = (long)((w - 6) / FG_CHARW);
	size_t chars = 0, i = 0, cut;

	if (fit < 3)
		return;
	for (size_t j = 0; j < n; j++)
		chars += ((unsigned char)name[j] & 0xc0) != 0x80;
	if ((long)chars <= fit) {
		rp_xml(f, name, n);
		return;
	}
	/* keep fit - 2 characters, never splitting a UTF-8 sequence */
	for (cut = 0; i < n && (long)cut < fit - 2; cut++) {
		i++;
		while (i < n && ((unsigned char)name[i] & 0xc0) == 0x80)
			i++;
	}
	rp_xml(f, name, i);
	fputs("..", f);
}

static void emit_frame(struct fg *g, const char *name, size_t n, uint64_t v, uint64_t bv,
		       double x, unsigned depth)
{
	double w = (double)v * g->scale;
	unsigned y = FG_TOP + (g->rows - 1 - depth) * FG_FH;
	char col[8], a[48], b[48];

	/* a diff compares absolute amounts: the two runs' totals differ, so shares of each
	 * would make a frame that took as long in both look shrunk (or grown) */
	if (g->diff)
		diff_color((double)v - (double)bv, g->maxd, col);
	else
		frame_color(name, n, depth, col);
	fputs("<g><title>", g->f);
	rp_xml(g->f, name, n);
	fputs(" (", g->f);
	rp_xml(g->f, amount(v, g->unit, a, sizeof(a)), SIZE_MAX);
	fprintf(g->f, ", %.2f%%", 100 * share(v, g->total));
	if (depth <= 3) {
		int slot, st = an_state_frame_parse(name, n, &slot);
		const char *tip = st >= 0 ? frame_kind_tip((enum tl_state)st, slot) : NULL;

		if (tip) {
			fputs("; ", g->f);
			rp_xml(g->f, tip, SIZE_MAX);
		}
	}
	if (g->diff) {
		char d[48];

		fputs("; baseline ", g->f);
		rp_xml(g->f, amount(bv, g->unit, b, sizeof(b)), SIZE_MAX);
		fprintf(g->f, "; %s", v >= bv ? "+" : "-");
		rp_xml(g->f, amount(v >= bv ? v - bv : bv - v, g->unit, d, sizeof(d)), SIZE_MAX);
	}
	fprintf(g->f, ")</title><rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"%u\" fill=\"%s\"/>"
		      "<text x=\"%.2f\" y=\"%u\">",
		x, y, w, FG_FH - 1, col, x + 3, y + FG_FH - 4);
	label(g->f, name, n, w);
	fputs("</text></g>\n", g->f);
}

static void emit_node(struct fg *g, uint32_t i, double x)
{
	const struct fnode *nd = &g->t->n[i];
	uint64_t narrow = 0, nb = 0;
	unsigned nnarrow = 0;
	double cx = x;

	emit_frame(g, nd->name, nd->nlen, nd->v[0], nd->v[1], x, nd->depth);
	for (uint32_t c = nd->child; c; c = g->t->n[c].next) {
		const struct fnode *cn = &g->t->n[c];

		if (!cn->v[0])
			continue;	/* diff: only in the baseline, nothing to draw */
		if (cn->v[0] < g->minv) {
			narrow += cn->v[0];
			nb += cn->v[1];
			nnarrow++;
			continue;
		}
		emit_node(g, c, cx);
		cx += (double)cn->v[0] * g->scale;
	}
	if (narrow && narrow >= g->minv) {
		char name[64];
		int n = snprintf(name, sizeof(name), "[%u narrow frames]", nnarrow);

		emit_frame(g, name, (size_t)n, narrow, nb, cx, nd->depth + 1);
	}
}

static const char fg_style[] =
	"<style>"
	".fg text{font-family:Verdana,DejaVu Sans,sans-serif;font-size:12px;fill:#000}"
	".fg .fg-title{font-size:17px}.fg .fg-sub{fill:#555}"
	".fg .fg-btn{fill:#1a5fb4;cursor:pointer}.fg .fg-btn:hover{text-decoration:underline}"
	".fg-frames rect{stroke:#fff;stroke-width:.4}"
	".fg-frames g{cursor:pointer}.fg-frames g:hover rect{stroke:#000;stroke-width:.8}"
	".fg-frames text{pointer-events:none}"
	"</style>\n";

/*
 * Zoom, search, details: iotFlame(svg). Scoped to its own <svg> (report.html has many
 * graphs and one copy of this, run for each), no ids, no globals but the function; reads the
 * frames' geometry from the markup once.
 */
const char rp_flame_js[] =
	"function iotFlame(svg){\n"
	"if(!svg||svg.fgF)return;\n"
	"var L=+svg.getAttribute('data-l'),W=+svg.getAttribute('data-w'),E=0.02;\n"
	"function q(c){return svg.getElementsByClassName(c)[0];}\n"
	"var det=q('fg-details'),rst=q('fg-reset'),srch=q('fg-search'),mat=q('fg-matched'),gs=q('fg-frames').children,F=[];\n"
	"for(var i=0;i<gs.length;i++){var g=gs[i],ti=g.children[0].textContent,r=g.children[1],t=g.children[2];\n"
	" var f={g:g,r:r,t:t,x:+r.getAttribute('x'),w:+r.getAttribute('width'),y:+r.getAttribute('y'),\n"
	"  c:r.getAttribute('fill'),l:t.textContent,n:ti.slice(0,ti.lastIndexOf(' ('))};g.fgf=f;F.push(f);}\n"
	"svg.fgF=F;\n"
	"function fit(f,w){var c=Math.floor((w-6)/7);return c<3?'':(f.n.length<=c?f.n:f.n.slice(0,c-2)+'..');}\n"
	"function place(f,x,w,lab,o){f.r.setAttribute('x',x.toFixed(2));f.r.setAttribute('width',w.toFixed(2));\n"
	" f.t.setAttribute('x',(x+3).toFixed(2));f.t.textContent=lab;f.g.style.display='';f.g.style.opacity=o;}\n"
	"function unzoom(){F.forEach(function(f){place(f,f.x,f.w,f.l,'');});rst.style.display='none';}\n"
	"function zoom(z){if(z===F[0]){unzoom();return;}var k=W/z.w;\n"
	" F.forEach(function(f){\n"
	"  if(f.y<=z.y&&f.x>=z.x-E&&f.x+f.w<=z.x+z.w+E){var w=f.w*k;place(f,L+(f.x-z.x)*k,w,fit(f,w),'');}\n"
	"  else if(f.y>z.y&&f.x<=z.x+E&&f.x+f.w>=z.x+z.w-E)place(f,L,W,fit(f,W),'0.6');\n"
	"  else f.g.style.display='none';});\n"
	" rst.style.display='';}\n"
	"function clear(){F.forEach(function(f){f.r.setAttribute('fill',f.c);});mat.textContent='';}\n"
	"function search(re){var rx,m=[],s=0,end=-1;try{rx=new RegExp(re,'i');}catch(e){mat.textContent='Bad pattern';return -1;}\n"
	" F.forEach(function(f){var hit=rx.test(f.n);f.r.setAttribute('fill',hit?'#e040e0':f.c);if(hit)m.push(f);});\n"
	" m.sort(function(a,b){return a.x-b.x;});\n"
	" m.forEach(function(f){var a=Math.max(f.x,end),b=f.x+f.w;if(b>a){s+=b-a;end=b;}});\n"
	" mat.textContent=m.length?'Matched: '+(100*s/W).toFixed(1)+'% (click to clear)':'No match';return s/W;}\n"
	"svg.addEventListener('click',function(e){var t=e.target;\n"
	" if(t===rst){unzoom();return;}\n"
	" if(t===srch){startType();return;}\n"
	" if(t===mat){clear();return;}\n"
	" var g=t.closest?t.closest('g'):null;if(g&&g.fgf)zoom(g.fgf);});\n"
	"svg.addEventListener('mouseover',function(e){var g=e.target.closest?e.target.closest('g'):null;\n"
	" if(g&&g.fgf)det.textContent=g.fgf.g.children[0].textContent;});\n"
	"svg.addEventListener('mouseout',function(){det.textContent=' ';});\n"
	/* keyboard search: / (the graph under the pointer, else the first one in view) or
	 * Ctrl-F over a graph; typed text searches as it goes, Enter keeps it, Esc clears */
	"var typing=false,buf='',D=document;\n"
	"function show(){srch.textContent=typing?'Search: '+buf+'_':'Search (/)';}\n"
	"function startType(){typing=true;buf='';D.fgActive=svg;show();}\n"
	"function vis(x){var r=x.getBoundingClientRect();return r.width>0&&r.bottom>0&&r.top<innerHeight;}\n"
	"function mine(){var a=D.fgActive;if(a&&a.isConnected&&vis(a))return a===svg;\n"
	" var all=D.querySelectorAll('svg.fg');for(var i=0;i<all.length;i++)if(vis(all[i]))return all[i]===svg;return false;}\n"
	"svg.addEventListener('mouseenter',function(){D.fgActive=svg;D.fgOver=svg;});\n"
	"svg.addEventListener('mouseleave',function(){if(D.fgOver===svg)D.fgOver=null;});\n"
	"D.addEventListener('keydown',function(e){var k=e.key;\n"
	" if(typing){if(D.fgActive!==svg){typing=false;show();return;}\n"
	"  if(k==='Escape'){typing=false;clear();}else if(k==='Enter')typing=false;\n"
	"  else if(k==='Backspace')buf=buf.slice(0,-1);\n"
	"  else if(k.length===1&&!e.ctrlKey&&!e.metaKey)buf+=k;else return;\n"
	"  e.preventDefault();show();if(typing){if(buf)search(buf);else clear();}return;}\n"
	" var t=e.target;if(t&&/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName||''))return;\n"
	" if(k==='/'&&!e.ctrlKey&&!e.metaKey&&!e.altKey&&mine()){e.preventDefault();startType();}\n"
	" else if((e.ctrlKey||e.metaKey)&&(k==='f'||k==='F')&&D.fgOver===svg){e.preventDefault();startType();}});\n"
	"show();\n"
	"svg.fgSearch=search;svg.fgZoom=function(i){zoom(F[i]);};svg.fgUnzoom=unzoom;\n"
	"svg.fgTyping=function(){return typing?buf:null;};\n"
	"}\n";

static void svg_open(FILE *f, const struct rp_svg_opts *o, unsigned height)
{
	if (!o->embed)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", f);
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" class=\"fg\" ", f);
	/* in the page the graph follows the column's width; the viewBox keeps its proportions */
	if (o->embed)
		fputs("width=\"100%\"", f);
	else
		fprintf(f, "width=\"%.0f\" height=\"%u\"", FG_W, height);
	fprintf(f, " viewBox=\"0 0 %.0f %u\" data-l=\"%.0f\" data-w=\"%.0f\">\n", FG_W, height,
		FG_L, FG_PW);
	fputs(fg_style, f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"%s\"/>\n", "#fbfbf8");
}

static void svg_titles(FILE *f, const char *title, const char *sub)
{
	fprintf(f, "<text class=\"fg-title\" x=\"%.0f\" y=\"22\" text-anchor=\"middle\">", FG_W / 2);
	rp_xml(f, title ? title : "Flame graph", SIZE_MAX);
	fprintf(f, "</text>\n<text class=\"fg-sub\" x=\"%.0f\" y=\"40\" text-anchor=\"middle\">",
		FG_W / 2);
	rp_xml(f, sub, SIZE_MAX);
	fputs("</text>\n", f);
}

static void legend_item(FILE *f, double *x, const char *color, const char *text)
{
	fprintf(f, "<rect x=\"%.0f\" y=\"46\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		   "<text x=\"%.0f\" y=\"55\">%s</text>",
		*x, color, *x + 14, text);
	*x += 22 + FG_CHARW * (double)strlen(text);
}

static void legend(FILE *f, bool diff)
{
	double x = FG_L;
	char col[8];

	fputs("<g class=\"fg-legend\">", f);
	if (diff) {
		diff_color(1, 1, col);
		legend_item(f, &x, col, "more time than the baseline");
		diff_color(-1, 1, col);
		legend_item(f, &x, col, "less time");
		diff_color(0, 1, col);
		legend_item(f, &x, col, "the same; widths are this run's time");
	} else {
		frame_color("x", 1, 5, col);
		legend_item(f, &x, col, "user");
		frame_color("x_[k]", 5, 5, col);
		legend_item(f, &x, col, "kernel");
		for (int i = 0; i < TL_NSTATES; i++)
			legend_item(f, &x, state_colors[i], tl_state_name((enum tl_state)i));
	}
	fputs("</g>\n", f);
}

static void svg_controls(FILE *f, unsigned height)
{
	fprintf(f,
		"<text class=\"fg-btn fg-reset\" x=\"%.0f\" y=\"22\" style=\"display:none\">Reset zoom</text>\n"
		"<text class=\"fg-btn fg-search\" x=\"%.0f\" y=\"22\" text-anchor=\"end\">Search (/)</text>\n"
		"<text class=\"fg-btn fg-matched\" x=\"%.0f\" y=\"%u\" text-anchor=\"end\"></text>\n"
		"<text class=\"fg-details\" x=\"%.0f\" y=\"%u\"> </text>\n",
		FG_L, FG_W - FG_L, FG_W - FG_L, height - 12, FG_L, height - 12);
}

/* A graph with nothing to draw still says what it is and why it is empty. */
static int svg_empty(FILE *f, const struct rp_layer *a, size_t na, const char *title,
		     const struct rp_svg_opts *o)
{
	char why[256], n[32];
	uint64_t errors = 0;

	why[0] = '\0';
	for (size_t i = 0; i < na; i++) {
		errors += a[i].s->errors;
		if (!why[0] && a[i].s->unavailable[0])
			snprintf(why, sizeof(why), "%s", a[i].s->unavailable);
	}
	if (!why[0] && errors)
		snprintf(why, sizeof(why), "every stack was lost (%s failed captures or map collisions)",
			 rp_thousands(errors, n));
	else if (!why[0])
		snprintf(why, sizeof(why), "no stack was recorded in this run");
	svg_open(f, o, 110);
	svg_titles(f, title, "");
	fprintf(f, "<text x=\"%.0f\" y=\"72\" text-anchor=\"middle\" style=\"font-size:16px\">No samples</text>\n"
		   "<text class=\"fg-sub\" x=\"%.0f\" y=\"94\" text-anchor=\"middle\">",
		FG_W / 2, FG_W / 2);
	rp_xml(f, why, SIZE_MAX);
	fputs("</text>\n</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

static void subtitle(char *buf, size_t len, const struct rp_layer *a, size_t na, uint64_t total,
		     const char *unit, const char *extra)
{
	uint64_t n = 0, errors = 0;
	char x[32], y[48], z[32];
	int w;

	/* the stacks drawn, as tree_build takes them: one whose weight is 0 (an off-CPU stretch
	 * under half a microsecond) is neither drawn nor saved in the folded file, so counting
	 * it would make a re-rendered folder differ from the live run */
	for (size_t i = 0; i < na; i++) {
		for (size_t j = 0; j < a[i].s->n; j++)
			n += a[i].s->v[j].frames && scaled(a[i].s->v[j].value, a[i].scale);
		errors += a[i].s->errors;
	}
	w = snprintf(buf, len, "%s stack%s, %s in all", rp_thousands(n, x), n == 1 ? "" : "s",
		     amount(total, unit, y, sizeof(y)));
	if (errors && w > 0 && (size_t)w < len)
		w += snprintf(buf + w, len - (size_t)w,
			      "; %s stack%s lost (failed captures, map collisions)",
			      rp_thousands(errors, z), errors == 1 ? "" : "s");
	if (extra && w > 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w, "%s", extra);
}

int rp_flame_layers_svg(FILE *f, const struct rp_layer *a, size_t na, const struct rp_layer *b,
			size_t nb, const char *title, const char *unit, const struct rp_svg_opts *o)
{
	static const struct rp_svg_opts def = {.min_frac = RP_MIN_FRAC};
	struct fg g = {.f = f, .unit = unit ? unit : "", .diff = nb > 0};
	struct ftree t;
	char sub[512];
	int ret;

	o = o ? o : &def;
	ret = tree_build(&t, a, na, b, nb, nb ? 2 : 0);
	if (ret)
		return ret;
	if (!t.n[0].v[0]) {
		free(t.n);
		return svg_empty(f, a, na, title, o);
	}
	g.t = &t;
	g.total = t.n[0].v[0];
	g.btotal = t.n[0].v[1];
	g.minv = (uint64_t)((double)g.total * o->min_frac);
	measure(&g, 0);
	/* a size budget (report.html holds dozens of graphs): merge wider frames until it fits */
	while (o->max_frames && g.frames > o->max_frames && g.minv < g.total) {
		g.minv = g.minv ? g.minv * 2 : 1;
		g.rows = g.frames = 0;
		g.maxd = 0;
		measure(&g, 0);
	}
	g.scale = FG_PW / (double)g.total;
	g.height = FG_TOP + g.rows * FG_FH + FG_BOTTOM;
	subtitle(sub, sizeof(sub), a, na, g.total, g.unit,
		 !nb ? "; click a frame to zoom"
		 : g.btotal ? "; colors: this run's time minus the baseline's, absolute (not shares "
			      "of the two totals); strategy and thread frames merged"
			    : "; the baseline has no samples: nothing to compare");
	svg_open(f, o, g.height);
	svg_titles(f, title, sub);
	legend(f, g.diff);
	svg_controls(f, g.height);
	fputs("<g class=\"fg-frames\">\n", f);
	emit_node(&g, 0, FG_L);
	fputs("</g>\n", f);
	if (!o->embed) {
		/* a file on its own: its script runs the zoom for its own <svg> */
		fputs("<script><![CDATA[\n", f);
		fputs(rp_flame_js, f);
		fputs("(function(){var ss=document.getElementsByTagName('script'),"
		      "me=document.currentScript||ss[ss.length-1];"
		      "iotFlame(me.ownerSVGElement||me.parentNode);})();\n]]></script>\n",
		      f);
	}
	fputs("</svg>\n", f);
	free(t.n);
	return ferror(f) ? -EIO : 0;
}

int rp_flame_svg(FILE *f, const struct an_stackset *s, const char *title, const char *unit)
{
	struct rp_layer l = {s, 1};

	return rp_flame_layers_svg(f, &l, 1, NULL, 0, title, unit, NULL);
}

int rp_flame_diff_svg(FILE *f, const struct an_stackset *base, const struct an_stackset *s,
		      const char *title, const char *unit)
{
	static const struct an_stackset none;
	struct rp_layer a = {s, 1}, b = {base ? base : &none, 1};

	return rp_flame_layers_svg(f, &a, 1, &b, 1, title, unit, NULL);
}
