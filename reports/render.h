/* render.h - what the renderers share: state palette, XML escaping, table units, embedding. */
#ifndef IOTRACE_RENDER_H
#define IOTRACE_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model/analysis.h"
#include "model/units.h"

/*
 * Private to reports/: one palette so a state has the same color in the flame graphs, the
 * timelines and the HTML bar chart, one escaper so every name from a stack or a thread
 * reaches the markup the same way, and the comparison table's units, so the text and HTML
 * tables write the same figures alike.
 */

struct rp_svg_opts {
	bool embed;		/* inside report.html: no XML prolog, width follows the page */
	double min_frac;	/* flame frames narrower than this share of the total are merged */
	unsigned max_frames;	/* 0, or raise the merge width until at most this many are drawn */
	size_t tl_detail;	/* timeline: bytes for its finer levels (0: a file's default) */
};

/*
 * One stack set drawn at a scale: the wall-clock graph draws on-CPU samples and off-CPU
 * time on one axis (report.h: wall = samples * 1e6 / hz + off-CPU ns / 1000, in µs).
 */
struct rp_layer {
	const struct an_stackset *s;
	double scale;		/* 0: leave the set out */
};

#define RP_MIN_FRAC 0.001	/* "narrower than ~0.1%" */

/* "#rrggbb" of a time-model state; gray for an out-of-range value. */
const char *rp_state_color(enum tl_state st);
/*
 * What a wait was for, for people (report.html's bars, their tooltips, trace.json): slot k
 * of io_wait's or lock_wait's split (waits.h's wt_io_slot / wt_lock_slot); its short name
 * ("pipe", "join"), what it means ("waiting on another process"), and a color in its
 * state's family: storage and contention strong, waits on others and idle waits pale.
 * NULL for another state or an out-of-range slot.
 */
const char *rp_kind_name(enum tl_state st, unsigned slot);
/* A span's kind (timeline.h: a tl_io_kind or tl_lock_kind, by state) as summary.json names
 * it ("pipe", "join"); NULL when not known or not a wait's state. */
const char *rp_span_kind(unsigned state, unsigned kind);
const char *rp_kind_meaning(enum tl_state st, unsigned slot);
const char *rp_kind_color(enum tl_state st, unsigned slot);

/*
 * Write n bytes of s (n = SIZE_MAX: up to its NUL) as XML character data that is also
 * valid in an attribute: markup characters as entities, valid UTF-8 beyond ASCII as
 * character references, control characters as '?', invalid bytes as a visible "\xNN".
 */
void rp_xml(FILE *f, const char *s, size_t n);
/* 1234567 -> "1,234,567" into buf (at least 32 bytes); returns buf. */
char *rp_thousands(uint64_t v, char *buf);

/* The comparison table's duration columns, each in the one unit of its largest value. */
struct rp_cmp_cols {
	struct un_col wall, blocked, exposed;
};
void rp_cmp_cols(const struct an_report *r, struct rp_cmp_cols *c);

/* The layers of a run's wall-clock graph (2 entries), in µs. */
/*
 * Flame graph of layers a; with nb > 0 a differential one against layers b (the first
 * two frames, strategy and role, dropped from both: a diff compares what was done).
 */
int rp_flame_layers_svg(FILE *f, const struct rp_layer *a, size_t na, const struct rp_layer *b,
			size_t nb, const char *title, const char *unit, const struct rp_svg_opts *o);
int rp_timeline_svg_ex(FILE *f, const struct an_run *run, const struct rp_svg_opts *o);
/* The timeline's zoom script, iotTimeline(svg): an embedded timeline (o->embed) carries
 * none, the page runs it for every svg.tl once loaded. */
extern const char rp_timeline_js[];
/* The flame graphs' zoom and search, iotFlame(svg): likewise, one copy for all of the page's
 * svg.fg (a dozen runs have some fifty graphs). */
extern const char rp_flame_js[];

#endif /* IOTRACE_RENDER_H */
