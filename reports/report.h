/* report.h - renderers: each takes the finished analysis model and writes one format. */
#ifndef IOTRACE_REPORT_H
#define IOTRACE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "analysis.h"

/*
 * No renderer computes a metric: everything printed comes from struct an_report. Every
 * function returns 0 or -errno (a write error included: callers check, so a full disk is
 * never a silent success).
 *
 * Run folder (OUTDIR) layout, written by rp_write_outdir and read back by rp_load_outdir:
 *   summary.json                      the contract (schema iotrace.summary/1, docs/summary-schema.md)
 *   runs/<slug>/spans.tsv             per-thread state spans (re-rendering timelines)
 *   runs/<slug>/oncpu.folded          on-CPU samples      (strategy;role;state;frames... N)
 *   runs/<slug>/offcpu.folded         off-CPU microseconds
 *   runs/<slug>/wall.folded           both, in microseconds (samples scaled by 1e6/hz)
 *   runs/<slug>/flame-wall.svg, flame-oncpu.svg, flame-offcpu.svg, flame-diff.svg (vs sync)
 *   runs/<slug>/timeline.svg
 *   report.html, trace.json
 * <slug> is the label with '/' replaced by '-' ("threads-warm").
 */

/* ---- summary.json and the terminal (reports/json.c, reports/text.c) ---- */
int rp_summary_json(FILE *f, const struct an_report *r);
/* Load OUTDIR back (summary.json + spans + folded); on error -errno and a message naming the
 * file and what is wrong in err. */
int rp_load_outdir(const char *outdir, struct an_report *r, char *err, size_t errlen);
/* Comparison table + "Why" section; color only when asked (caller checks isatty). */
int rp_text(FILE *f, const struct an_report *r, bool color);
/* Write every file of the run folder; files owned by uid/gid (-1 = leave). */
int rp_write_outdir(const char *outdir, const struct an_report *r, uid_t uid, gid_t gid);
/* Chrome Trace Event JSON (reports/perfetto.c). */
int rp_perfetto(FILE *f, const struct an_report *r);
void rp_slug(const char *label, char *slug, size_t len);

/* ---- flame graphs, timelines, HTML (reports/flame.c, reports/timeline_svg.c, reports/html.c) ---- */
/* Folded lines "a;b;c N", sorted by frames. */
int rp_folded(FILE *f, const struct an_stackset *s);
/* Self-contained interactive SVG flame graph (hover, click-zoom, search). */
int rp_flame_svg(FILE *f, const struct an_stackset *s, const char *title, const char *unit);
/* Differential flame graph of s against base (colors: red grew, blue shrank). */
int rp_flame_diff_svg(FILE *f, const struct an_stackset *base, const struct an_stackset *s,
		      const char *title, const char *unit);
/* One lane per thread colored by state, plus I/O-in-flight and threads-on-CPU lanes. */
int rp_timeline_svg(FILE *f, const struct an_run *run);
/* One self-contained HTML file: table, verdict, stacked bars, flame graphs, timelines. */
int rp_html(FILE *f, const struct an_report *r);

#endif /* IOTRACE_REPORT_H */
