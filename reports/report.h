/* report.h - renderers: each takes the finished analysis model and writes one format. */
#ifndef IOTRACE_REPORT_H
#define IOTRACE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "model/analysis.h"

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
 * <slug> is the label with '/' replaced by '-' ("threads-warm"); other bytes outside
 * [A-Za-z0-9._+,=@:-] and a leading '.' become '_', "" becomes "run", and a slug already
 * taken by an earlier run gets "-2", "-3"... (rp_write_outdir and rp_load_outdir agree).
 *
 * spans.tsv (written from run->tl, rebuilt into a new timeline by user/model/restore.h;
 * tab-separated, times in ns on the probes' clock, one record per line):
 *   # iotrace spans/1: ...                           first line, the format's version
 *   window  WIN_START  WIN_END  IO_UNMATCHED          once, before everything else
 *   thread  PID  TID  START  END  READS  BYTES_READ  CTX_SWITCHES  COMM  ROLE
 *   TID  START  END  STATE [KIND]                     the thread's spans, in order, after
 *                                                     its thread line (STATE: tl_state_name;
 *                                                     KIND, when known, what an io_cpu,
 *                                                     io_wait or lock_wait span was for:
 *                                                     wt_io_kind_name / wt_lock_kind_name)
 *   gap  TID  START  END                              its stretches of lost events
 *   io  START  END                                    I/O in flight (tl->io), any order
 *   dev  START  END                                   the device busy for the run (tl->dev:
 *                                                     its block requests' union), in order
 * A tid the kernel reused has one thread line per thread, in timeline order.
 * COMM and ROLE escape '\' as "\\", tab as "\t", newline as "\n" and other control
 * bytes as "\xHH"; other bytes are written as they are. Lines starting with '#' are
 * comments. A run without a timeline has no spans.tsv; the loader then leaves run->tl NULL.
 *
 * The folded files hold what rp_folded writes; the loader adds them back into the run's
 * stack sets (off-CPU microseconds times 1000), and summary.json's totals stay authoritative.
 * rp_load_outdir errors: -ENOENT (no such folder, or no summary.json: not a run folder),
 * -ENOTDIR, -EINVAL (invalid JSON with file:line:column, a wrong type, a missing field, a
 * bad spans/folded line with file:line), -EPROTONOSUPPORT (a newer schema), -ENOMEM.
 */

/* ---- summary.json and the terminal (reports/json.c, reports/text.c) ---- */
int rp_summary_json(FILE *f, const struct an_report *r);
/* Load OUTDIR back (summary.json + spans + folded; reports/load.c); on error -errno and a
 * message naming the file and what is wrong in err. */
int rp_load_outdir(const char *outdir, struct an_report *r, char *err, size_t errlen);
/*
 * The terminal report. By default a header, the comparison table with each run's cause,
 * the Answer (the model's, then a line for each strategy) and where the folder is; it fits
 * 40 lines for twelve runs at 100 columns. verbose 1 adds the thread-state shares, each
 * run's details and thread table, and every finding.
 */
struct rp_text_opts {
	bool color;		/* ANSI styles: only when the caller saw a terminal */
	unsigned width;		/* paragraphs wrap here (the terminal's columns); < 40: 100 */
	int verbose;
	const char *folder;	/* the written report folder's absolute path, or NULL */
};
int rp_text(FILE *f, const struct an_report *r, const struct rp_text_opts *o);
/* Write every file of the run folder; files owned by uid/gid (-1 = leave). */
int rp_write_outdir(const char *outdir, const struct an_report *r, uid_t uid, gid_t gid);
/*
 * The same, calling before_summary(ctx) (if set) right before summary.json, the last file
 * written: a caller can set figures of r that cover the writing of every other file
 * (iotrace's own CPU until then: an_report_tracer_cpu).
 */
int rp_write_outdir_cb(const char *outdir, const struct an_report *r, uid_t uid, gid_t gid,
		       void (*before_summary)(void *ctx), void *ctx);
/* Chrome Trace Event JSON (reports/perfetto.c). */
int rp_perfetto(FILE *f, const struct an_report *r);
void rp_slug(const char *label, char *slug, size_t len);
/* The folder names of all runs, in order (the slugs made unique as above): the writer and
 * the loader both use it, so they agree. malloc'd; NULL on ENOMEM. */
#define RP_SLUG_MAX 96
char (*rp_run_slugs(const struct an_report *r))[RP_SLUG_MAX];
/* The first line of spans.tsv starts with this. */
#define RP_SPANS_MAGIC "# iotrace spans/1"

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
