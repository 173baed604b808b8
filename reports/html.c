/* html.c - report.html: one self-contained page: the question and its answer, the table, bars, runs, graphs. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/cause.h"
#include "render.h"
#include "report.h"

/*
 * The page is polyglot XHTML: valid HTML5 for browsers and well-formed XML, so the tests
 * can check it with an XML parser as they check the SVGs. Every graph is inlined as SVG
 * (one copy of the timelines' and the flame graphs' scripts runs for all of them), nothing is
 * fetched: the file can be mailed.
 * Graphs in the page merge frames harder than the standalone SVG files do (max_frames),
 * which is what keeps a report of a dozen runs small.
 */

#define HTML_MAX_FRAMES 700	/* per flame graph in the page; the runs/ SVGs keep them all */
/* the timelines' finer levels (zoom), shared by the page's runs; one run gets at most the cap */
#define HTML_TL_DETAIL (192 * 1024)
#define HTML_TL_DETAIL_MAX (64 * 1024)

static const struct rp_svg_opts embed_opts = {
	.embed = true, .min_frac = RP_MIN_FRAC, .max_frames = HTML_MAX_FRAMES,
};

static const char page_style[] =
	"body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
	"margin:0;color:#1d1d1f;background:#fff}"
	"main{max-width:1280px;margin:0 auto;padding:12px 24px 40px}"
	"@media (max-width:900px){main{padding:8px 12px 30px}}"
	"h1{font-size:22px;margin:10px 0 2px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:1px solid #ddd;padding-bottom:3px}h3{font-size:15px;margin:14px 0 4px}"
	".question{font-size:18px;font-weight:600;margin:8px 0 4px}"
	".meta{color:#555;margin:0 0 10px;font-size:13px}"
	".answer{background:#f3f7ff;border-left:4px solid #1a5fb4;padding:8px 12px;margin:10px 0}"
	".answer p{margin:0 0 6px}.answer ul{margin:4px 0 0;padding-left:20px}"
	".answer li{margin:2px 0}"
	".tw,.gw{overflow-x:auto}"
	"table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:14px}"
	"th,td{padding:3px 9px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}"
	"th{background:#f5f5f2;font-weight:600}"
	"td:first-child,th:first-child,td.cause,th.cause{text-align:left}"
	".na{color:#999}.headline{font-weight:600;margin:2px 0}"
	"ul.why{margin:2px 0 8px;padding-left:22px}ul.why li{margin:2px 0}"
	".files{font-size:14px}.files a{margin-right:10px}"
	".run{border:1px solid #ddd;border-radius:6px;margin:14px 0;padding:0 14px 12px}"
	".run>summary{font-weight:600;font-size:16px;padding:9px 0;cursor:pointer}"
	".run>summary .sub{font-weight:400;color:#555;font-size:14px}"
	".tabs{margin:10px 0 4px}"
	".tabs button,button.all{font:inherit;font-size:14px;border:1px solid #bbb;background:#f6f6f3;"
	"padding:3px 12px;margin-right:4px;border-radius:4px;cursor:pointer}"
	".tabs button.on{background:#1a5fb4;border-color:#1a5fb4;color:#fff}"
	".panel{display:none;max-height:88vh;overflow:auto}.panel.on{display:block}"
	"svg{display:block;max-width:100%;height:auto}"
	/* below ~1100 px a graph keeps its size and scrolls sideways: its text stays readable */
	".gw>svg,.panel>svg{max-width:none;min-width:1100px}"
	".note{color:#666;font-size:13px}";

/*
 * Tabs of each run: show one graph at a time. A graph taller than the screen scrolls in
 * its panel, which starts at the bottom: a flame graph's root is there.
 */
static const char page_script[] =
	"<script>//<![CDATA[\n"
	"function fgBottom(p){p.scrollTop=p.scrollHeight;}\n"
	"document.querySelectorAll('details[open] .panel.on').forEach(fgBottom);\n"
	"document.addEventListener('toggle',function(e){var d=e.target;\n"
	" if(d.matches&&d.matches('details.run')&&d.open)d.querySelectorAll('.panel.on').forEach(fgBottom);\n"
	"},true);\n"
	"document.addEventListener('click',function(e){\n"
	" var a=e.target.closest?e.target.closest('button.all'):null;\n"
	" if(a){var open=a.getAttribute('data-open')==='1';\n"
	"  document.querySelectorAll('details.run').forEach(function(d){d.open=open;});return;}\n"
	" var b=e.target.closest?e.target.closest('.tabs button'):null;if(!b)return;\n"
	" var run=b.closest('.run'),tab=b.getAttribute('data-tab');\n"
	" run.querySelectorAll('.tabs button').forEach(function(x){x.classList.toggle('on',x===b);});\n"
	" run.querySelectorAll('.panel').forEach(function(p){var on=p.getAttribute('data-tab')===tab;\n"
	"  p.classList.toggle('on',on);if(on)fgBottom(p);});\n"
	"});\n"
	"//]]></script>\n";

static void put(FILE *f, const char *s)
{
	rp_xml(f, s, SIZE_MAX);
}

/* A duration in its column's unit (units.h: one unit per column). */
static void td_dur(FILE *f, const struct un_col *c, uint64_t ns)
{
	fprintf(f, "<td>%s</td>", un_cell(c, (double)ns).s);
}

/* A share, escaped: un_pct writes what is not none but rounds to it as "<0.1%". */
static void pct(FILE *f, double v, int decimals)
{
	put(f, un_pct(v, decimals).s);
}

static void td_pct(FILE *f, bool ok, double v)
{
	if (ok) {
		fputs("<td>", f);
		pct(f, v, 0);
		fputs("</td>", f);
	}
	else
		fputs("<td class=\"na\" title=\"not measured\">&#8212;</td>", f);
}

static void td_x(FILE *f, bool ok, double v)
{
	if (ok)
		fprintf(f, "<td>%.2f&#215;</td>", v);
	else
		fputs("<td class=\"na\" title=\"no sync run of this cache mode\">&#8212;</td>", f);
}

static void header(FILE *f, const struct an_report *r)
{
	char (*lines)[AN_LINE] = calloc(r->nruns ? r->nruns : 1, sizeof(*lines));
	size_t n = lines ? an_answer_lines(r, lines, r->nruns) : 0;

	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<link rel=\"icon\" href=\"data:,\"/>\n<title>iotrace: ", f);
	put(f, r->workload[0] ? r->workload : "report");
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1>iotrace: ", page_style);
	put(f, r->workload[0] ? r->workload : "report");
	fputs("</h1>\n<p class=\"question\">", f);
	put(f, an_question(r));
	/* the answer first: the model's, then a line for each strategy, losers included */
	fputs("</p>\n<div class=\"answer\">", f);
	/* a combined report holds one answer per folder, one per line */
	for (const char *p = r->answer; *p;) {
		size_t len = strcspn(p, "\n");

		fputs("<p>", f);
		rp_xml(f, p, len);
		fputs("</p>", f);
		p += len + (p[len] ? 1 : 0);
	}
	if (n) {
		fputs("<ul class=\"strategies\">", f);
		for (size_t i = 0; i < n; i++) {
			fputs("<li>", f);
			put(f, lines[i]);
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	free(lines);
	fputs("</div>\n<p class=\"meta\">", f);
	if (r->command) {
		fputs("command <code>", f);
		for (char **p = r->command; *p; p++) {
			if (p != r->command)
				fputc(' ', f);
			put(f, *p);
		}
		fputs("</code> &#183; ", f);
	}
	fprintf(f, "%zu run%s on %u CPU%s, kernel ", r->nruns, r->nruns == 1 ? "" : "s", r->ncpu,
		r->ncpu == 1 ? "" : "s");
	put(f, r->kernel[0] ? r->kernel : "unknown");
	fputs(" &#183; iotrace ", f);
	put(f, r->version[0] ? r->version : "?");
	if (r->readahead[0]) {
		fputs(" &#183; readahead ", f);
		put(f, r->readahead);
	}
	fputs("</p>\n", f);
}

/*
 * Each run's repeated walls as a strip plot, one row per run on one time axis from 0: a dot
 * per repetition, a bar from the shortest to the longest, a tick at the median (the run's
 * figures). Drawn before the table, so the spread is seen before the ranking. Nothing when no
 * run was repeated.
 */
static void repeat_strips(FILE *f, const struct an_report *r)
{
	const double left = 130, width = 520, row = 22, top = 8;
	uint64_t max = 0;
	size_t n = 0, nrep = 0;
	double h;

	for (size_t i = 0; i < r->nruns; i++) {
		if (r->runs[i].nrepeats < 2)
			continue;
		n++;
		nrep = r->runs[i].nrepeats > nrep ? r->runs[i].nrepeats : nrep;
		if (r->runs[i].wall_max_ns > max)
			max = r->runs[i].wall_max_ns;
	}
	if (!n || !max)
		return;
	h = top + row * (double)n + 28;
	fprintf(f,
		"<p class=\"note\">Wall time of every repetition (%zu interleaved runs per "
		"strategy): a dot each, the bar from the shortest to the longest, the tick at the "
		"median, whose run the figures below are. The Answer ranks two runs only when a rank test on "
		"these walls tells them apart (p ≤ 0.10; with 3 runs each: no bars overlapping).</p>\n"
		"<svg class=\"strips\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
		"height=\"%.0f\" role=\"img\" aria-label=\"repeated wall times per run\">\n",
		nrep, left + width + 20, h);
	for (size_t i = 0, k = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		double y = top + row * (double)k + row / 2;
		double x0 = left + width * (double)run->wall_min_ns / (double)max;
		double x1 = left + width * (double)run->wall_max_ns / (double)max;
		double xm = left + width * (double)run->wall_ns / (double)max;

		if (run->nrepeats < 2)
			continue;
		k++;
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">",
			left - 8, y + 4);
		put(f, run->label);
		fprintf(f,
			"</text>\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#9ab\" stroke-width=\"6\" stroke-linecap=\"round\"/>\n"
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#123\" "
			"stroke-width=\"2\"/>\n",
			x0, y, x1, y, xm, y - 8, xm, y + 8);
		for (size_t j = 0; j < run->nrepeats; j++)
			fprintf(f,
				"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#c43\">"
				"<title>repetition %zu: %s</title></circle>\n",
				left + width * (double)run->repeats[j].wall_ns / (double)max, y, j + 1,
				un_dur(run->repeats[j].wall_ns).s);
	}
	for (int t = 0; t <= 4; t++) {
		double x = left + width * t / 4.0;

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ccc\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%s</text>\n",
			x, top, x, h - 22, x, h - 8, un_dur((uint64_t)((double)max * t / 4.0)).s);
	}
	fputs("</svg>\n", f);
}

static void comparison(FILE *f, const struct an_report *r)
{
	struct rp_cmp_cols u;

	rp_cmp_cols(r, &u);
	fputs("<h2>Comparison</h2>\n", f);
	repeat_strips(f, r);
	fputs("<div class=\"tw\"><table>\n<tr><th>run</th><th>wall</th>"
	      "<th title=\"sync wall / this wall\">speedup</th>"
	      "<th title=\"share of the ideal speedup reached\">of ideal</th>"
	      "<th title=\"on-CPU thread time / wall\">parallelism</th>"
	      "<th title=\"time with at least one thread blocked in an I/O syscall\">blocked</th>"
	      "<th title=\"share of the blocked time some thread was on CPU\">CPU overlap</th>"
	      "<th title=\"share of the I/O time that overlapped computation\">hidden I/O</th>"
	      "<th title=\"of the I/O time, the share the device's own I/O (readahead) hid "
	      "while no thread was reading: part of hidden I/O\">by readahead</th>"
	      "<th title=\"I/O time with no computation beside it (and how much of it was a "
	      "wait on a pipe or socket, not storage)\">exposed I/O</th>"
	      "<th title=\"how often the file reads found their data in the page cache: 1 - "
	      "what their misses and readahead inserted / the bytes read from files (pipe and "
	      "socket reads, and pages faulted in or written, do not count)\">file-read hit</th>"
	      "<th>lost events</th>"
	      "<th class=\"cause\" title=\"what bounded the run's wall longest; hover for why\">"
	      "cause</th></tr>\n", f);
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		struct an_cause cause;
		char n[32];

		fputs("<tr><td>", f);
		put(f, run->label);
		fputs("</td>", f);
		td_dur(f, &u.wall, run->wall_ns);
		td_x(f, run->speedup_ok, run->speedup_vs_sync);
		td_pct(f, run->ideal_ok, run->ideal_fraction);
		fprintf(f, "<td>%.2f</td>", run->parallelism);
		td_dur(f, &u.blocked, run->blocked_ns);
		td_pct(f, run->cpu_overlap_ok, run->cpu_overlap);
		td_pct(f, run->hidden_io_ok, run->hidden_io);
		td_pct(f, run->hidden_io_readahead_ok, run->hidden_io_readahead);
		if (run->exposed_io_peer_ok && run->exposed_io_peer_ns)
			fprintf(f, "<td title=\"%s waiting on a %s: another process's work, not "
				   "storage\">%s<br/><small>%s %s</small></td>",
				un_dur(run->exposed_io_peer_ns).s, an_run_peer_word(run),
				un_cell(&u.exposed, (double)run->exposed_io_ns).s,
				an_run_peer_word(run), un_dur(run->exposed_io_peer_ns).s);
		else
			td_dur(f, &u.exposed, run->exposed_io_ns);
		if (run->hit_ratio_ok) {
			fputs("<td title=\"file reads hit the page cache ", f);
			pct(f, run->hit_ratio, 1);
			fprintf(f, ": %s inserted by their misses and readahead for %s read from "
				   "files",
				un_bytes(run->c.pcache_read_bytes).s, un_bytes(run->hit_ratio_bytes).s);
			if (run->c.bytes_direct_ok && run->c.bytes_read_direct)
				fprintf(f, " through it; %s read O_DIRECT bypassed it",
					un_bytes(run->c.bytes_read_direct).s);
			fputs("\">", f);
			pct(f, run->hit_ratio, 0);
			fputs("</td>", f);
		} else {
			fputs("<td class=\"na\" title=\"unavailable: ", f);
			put(f, run->hit_ratio_unavailable[0] ? run->hit_ratio_unavailable
							     : "not measured");
			fputs("\">&#8212;</td>", f);
		}
		fprintf(f, "<td>%s</td>", rp_thousands(run->c.lost_events, n));
		an_run_cause(run, &cause);
		fputs("<td class=\"cause\" title=\"", f);
		put(f, cause.reason);
		fputs("\">", f);
		put(f, cause.name);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></div>\n", f);
}

/* The files of the folder: what each is, where to open it. */
static void files(FILE *f)
{
	fputs("<h2>Files</h2>\n<p class=\"files\">"
	      "<a href=\"summary.json\">summary.json</a> every figure of this page, machine-readable "
	      "(its fields: docs/summary-schema.md)<br/>"
	      "<a href=\"trace.json\">trace.json</a> every thread's states on one time axis: open "
	      "<code>https://ui.perfetto.dev</code> in a browser, choose "
	      "&#8220;Open trace file&#8221; and give it this file (it stays on your machine)<br/>"
	      "<a href=\"runs/\">runs/</a> a folder per run, linked in each run below: its "
	      "timeline and flame graphs as SVG files with finer detail, the folded stacks and "
	      "the spans</p>\n", f);
}

/* A run's findings, each once: the headline's lead (label, speedup) is the summary line. */
static void findings(FILE *f, const struct an_run *run)
{
	if (!run->nverdict) {
		fputs("<p class=\"note\">No rule fired for this run: nothing in its numbers points "
		      "to one cause.</p>\n", f);
		return;
	}
	fputs("<ul class=\"why\">\n", f);
	for (size_t v = 0; v < run->nverdict && v < AN_MAX_VERDICT; v++) {
		fputs("<li>", f);
		put(f, run->verdict[v].text);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

/* Links to a run's own files, as rp_write_outdir names them. */
static void run_files(FILE *f, const struct an_run *run, const char *slug, bool diff)
{
	static const char *const always[] = {"flame-wall.svg", "flame-oncpu.svg", "flame-offcpu.svg",
					      "wall.folded", "oncpu.folded", "offcpu.folded"};

	fputs("<p class=\"files note\">Files: ", f);
	if (run->tl) {
		fputs("<a href=\"runs/", f);
		put(f, slug);
		fputs("/timeline.svg\">timeline.svg</a><a href=\"runs/", f);
		put(f, slug);
		fputs("/spans.tsv\">spans.tsv</a>", f);
	}
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
		fputs("<a href=\"runs/", f);
		put(f, slug);
		fprintf(f, "/%s\">%s</a>", always[i], always[i]);
	}
	if (diff) {
		fputs("<a href=\"runs/", f);
		put(f, slug);
		fputs("/flame-diff.svg\">flame-diff.svg</a>", f);
	}
	fputs("</p>\n", f);
}

static uint64_t thread_time(const struct an_run *run)
{
	uint64_t t = 0;

	for (int s = 0; s < TL_NSTATES; s++)
		t += run->states_ns[s];
	return t;
}

/* Horizontal stacked bars of thread time per state, one per run, on one scale. */
static void state_bars(FILE *f, const struct an_report *r)
{
	const double x0 = 190, pw = 820; /* room after the longest bar for its label */
	const unsigned pitch = 30, top = 52;
	unsigned h = top + (unsigned)r->nruns * pitch + 10;
	uint64_t max = 1;
	struct un_col tcol;

	for (size_t i = 0; i < r->nruns; i++)
		if (thread_time(&r->runs[i]) > max)
			max = thread_time(&r->runs[i]);
	fputs("<h2>Where the time went</h2>\n"
	      "<p class=\"note\">Thread time by state, summed over each run's threads (a concurrent "
	      "run has more thread time than wall time). io_wait is split by what the reads "
	      "read from (storage, a pipe, a socket), lock_wait by what the futex was: contention "
	      "(a mutex, the GIL) in dark shades, a join or an idle thread in pale ones. Hover a "
	      "segment for its value.</p>\n", f);
	fprintf(f, "<div class=\"gw\"><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bars\" "
		   "width=\"100%%\" "
		   "viewBox=\"0 0 1200 %u\" font-family=\"Verdana,DejaVu Sans,sans-serif\" "
		   "font-size=\"12\">\n", h);
	for (int s = 0; s < TL_NSTATES; s++)
		fprintf(f, "<rect x=\"%.0f\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			   "<text x=\"%.0f\" y=\"15\">%s</text>",
			x0 + s * 110, rp_state_color((enum tl_state)s), x0 + s * 110 + 14,
			tl_state_name((enum tl_state)s));
	fputc('\n', f);
	/* the kinds' shades, each list under its state */
	{
		double lx = x0;

		for (int s = TL_IO_WAIT; s <= TL_LOCK_WAIT; s++) {
			unsigned nk = s == TL_IO_WAIT ? WT_NIO_SLOTS : WT_NLK_SLOTS;

			fprintf(f, "<text x=\"%.0f\" y=\"35\">%s:</text>", lx,
				tl_state_name((enum tl_state)s));
			lx += s == TL_IO_WAIT ? 62 : 74;
			for (unsigned k = 0; k < nk; k++) {
				const char *n = rp_kind_name((enum tl_state)s, k);

				fprintf(f, "<rect x=\"%.0f\" y=\"26\" width=\"10\" height=\"10\" "
					   "fill=\"%s\"><title>%s: %s</title></rect>"
					   "<text x=\"%.0f\" y=\"35\">%s</text>",
					lx, rp_kind_color((enum tl_state)s, k),
					tl_state_name((enum tl_state)s), rp_kind_meaning((enum tl_state)s, k),
					lx + 14, n);
				lx += 14 + 8 * (double)strlen(n) + 14;
			}
			lx += 20;
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		unsigned y = top + (unsigned)i * pitch;
		double x = x0;

		fprintf(f, "<text x=\"%.0f\" y=\"%u\" text-anchor=\"end\">", x0 - 8, y + 15);
		put(f, run->label);
		fputs("</text>", f);
		for (int s = 0; s < TL_NSTATES; s++) {
			double w = (double)run->states_ns[s] / (double)max * pw;
			const uint64_t *kind = s == TL_IO_WAIT	 ? run->io_wait_by_kind_ns
					       : s == TL_LOCK_WAIT ? run->lock_wait_by_kind_ns
								   : NULL;
			unsigned nk = s == TL_IO_WAIT ? WT_NIO_SLOTS : WT_NLK_SLOTS;

			if (!run->states_ns[s])
				continue;
			if (kind && run->by_kind_ok) {
				/* one segment per kind: a join is not contention, a pipe not a disk */
				for (unsigned k = 0; k < nk; k++) {
					double kw = (double)kind[k] / (double)max * pw;

					if (!kind[k])
						continue;
					fprintf(f, "<rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" "
						   "height=\"20\" fill=\"%s\" data-kind=\"%s %s\"><title>",
						x, y, kw, rp_kind_color((enum tl_state)s, k),
						tl_state_name((enum tl_state)s),
						rp_kind_name((enum tl_state)s, k));
					put(f, run->label);
					fprintf(f, ": %s, %s %s (%s)</title></rect>",
						tl_state_name((enum tl_state)s),
						rp_kind_name((enum tl_state)s, k), un_dur(kind[k]).s,
						rp_kind_meaning((enum tl_state)s, k));
					x += kw;
				}
				continue;
			}
			fprintf(f, "<rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"20\" fill=\"%s\">"
				   "<title>",
				x, y, w, rp_state_color((enum tl_state)s));
			put(f, run->label);
			fprintf(f, ": %s %s</title></rect>", tl_state_name((enum tl_state)s),
				un_dur(run->states_ns[s]).s);
			x += w;
		}
		fprintf(f, "<text x=\"%.2f\" y=\"%u\" fill=\"#555\">%s (wall %s)</text>\n", x + 6,
			y + 15, un_dur(thread_time(run)).s, un_dur(run->wall_ns).s);
	}
	fputs("</svg></div>\n", f);

	/* the same numbers as shares, for reading off */
	tcol = un_column(UN_DUR, (double)max);
	fputs("<div class=\"tw\"><table>\n<tr><th>run</th>", f);
	for (int s = 0; s < TL_NSTATES; s++)
		fprintf(f, "<th>%s</th>", tl_state_name((enum tl_state)s));
	fputs("<th>thread time</th></tr>\n", f);
	for (size_t i = 0; i < r->nruns; i++) {
		const struct an_run *run = &r->runs[i];
		uint64_t tt = thread_time(run);

		fputs("<tr><td>", f);
		put(f, run->label);
		fputs("</td>", f);
		for (int s = 0; s < TL_NSTATES; s++) {
			const uint64_t *kind = s == TL_IO_WAIT	 ? run->io_wait_by_kind_ns
					       : s == TL_LOCK_WAIT ? run->lock_wait_by_kind_ns
								   : NULL;
			unsigned nk = s == TL_IO_WAIT ? WT_NIO_SLOTS : WT_NLK_SLOTS;
			bool first = true;

			if (!kind || !run->by_kind_ok || !tt || !run->states_ns[s]) {
				td_pct(f, tt > 0, tt ? (double)run->states_ns[s] / (double)tt : 0);
				continue;
			}
			/* the share, and under it what the waits were for */
			fputs("<td title=\"", f);
			for (unsigned k = 0; k < nk; k++)
				if (kind[k]) {
					fprintf(f, "%s%s %s", first ? "" : ", ",
						rp_kind_name((enum tl_state)s, k), un_dur(kind[k]).s);
					first = false;
				}
			fputs("\">", f);
			pct(f, (double)run->states_ns[s] / (double)tt, 0);
			fputs("<br/><small>", f);
			first = true;
			for (unsigned k = 0; k < nk; k++)
				if (kind[k]) {
					fprintf(f, "%s%s ", first ? "" : ", ",
						rp_kind_name((enum tl_state)s, k));
					pct(f, (double)kind[k] / (double)tt, 0);
					first = false;
				}
			fputs("</small></td>", f);
		}
		td_dur(f, &tcol, tt);
		fputs("</tr>\n", f);
	}
	fputs("</table></div>\n", f);
}

static void tab_button(FILE *f, const char *tab, const char *text, bool on)
{
	fprintf(f, "<button type=\"button\" data-tab=\"%s\"%s>%s</button>", tab,
		on ? " class=\"on\"" : "", text);
}

static int panel(FILE *f, const char *tab, bool on, const struct rp_layer *a, size_t na,
		 const struct rp_layer *b, size_t nb, const char *title, const char *unit)
{
	int ret;

	fprintf(f, "<div class=\"panel%s\" data-tab=\"%s\">\n", on ? " on" : "", tab);
	ret = rp_flame_layers_svg(f, a, na, b, nb, title, unit, &embed_opts);
	fputs("</div>\n", f);
	return ret;
}

/* One row per process when the run spans several: who started it, how it ended, where
 * its threads' time went, what it read, its command line. */
static void process_table(FILE *f, const struct an_run *run)
{
	struct un_col when, col[TL_NSTATES];
	double max[TL_NSTATES + 1] = {0}; /* each state's, then start/end's */

	if (run->nprocesses < 2)
		return;
	for (size_t i = 0; i < run->nprocesses; i++) {
		const struct an_process *p = &run->processes[i];

		for (int s = 0; s < TL_NSTATES; s++)
			max[s] = fmax(max[s], (double)p->states_ns[s]);
		max[TL_NSTATES] =
			fmax(max[TL_NSTATES], (double)(p->ended ? p->end_ns : p->start_ns));
	}
	for (int s = 0; s < TL_NSTATES; s++)
		col[s] = un_column(UN_DUR, max[s]);
	when = un_column(UN_DUR, max[TL_NSTATES]);
	fputs("<div class=\"tw\"><table>\n<tr><th>pid</th><th>parent</th>"
	      "<th title=\"from the start of the trace\">start</th><th>end</th>"
	      "<th>exit</th><th>threads</th>", f);
	for (int s = 0; s < TL_NSTATES; s++)
		fprintf(f, "<th>%s</th>", tl_state_name((enum tl_state)s));
	fputs("<th>read</th><th>command</th></tr>\n", f);
	for (size_t i = 0; i < run->nprocesses; i++) {
		const struct an_process *p = &run->processes[i];

		fprintf(f, "<tr><td>%" PRIu32 "</td><td>%" PRIu32 "</td>", p->pid, p->ppid);
		if (p->before)
			fputs("<td title=\"it existed before the trace began\">before</td>", f);
		else
			td_dur(f, &when, p->start_ns);
		if (p->ended)
			td_dur(f, &when, p->end_ns);
		else
			fputs(p->exit_lost ? "<td title=\"its exit was not seen (events lost); gone by "
					     "the trace's end\">?</td>"
					   : "<td title=\"still running when the trace ended\">running</td>",
			      f);
		if (p->exit_status >= 0)
			fprintf(f, "<td>%d</td>", p->exit_status);
		else
			fputs("<td class=\"na\">&#8212;</td>", f);
		fprintf(f, "<td>%" PRIu32 "</td>", p->nthreads);
		for (int s = 0; s < TL_NSTATES; s++)
			td_dur(f, &col[s], p->states_ns[s]);
		if (p->bytes_kind_ok && p->bytes_read) {
			/* what it read from, in the tooltip: "file 64.0 MiB, pipe 832 B" */
			fputs("<td title=\"", f);
			for (int k = 0, m = 0; k < WT_NIO_SLOTS; k++) {
				if (!p->bytes_read_by_kind[k])
					continue;
				fprintf(f, "%s%s %s", m++ ? ", " : "", wt_io_kind_name(k + 1),
					un_bytes(p->bytes_read_by_kind[k]).s);
				if (k == TL_IOK_FILE - 1 && p->bytes_direct_ok &&
				    p->bytes_read_direct)
					fprintf(f, " (%s of it O_DIRECT)",
						un_bytes(p->bytes_read_direct).s);
			}
			fprintf(f, "\">%s</td><td class=\"cmd\">", un_bytes(p->bytes_read).s);
		} else {
			fprintf(f, "<td>%s</td><td class=\"cmd\">", un_bytes(p->bytes_read).s);
		}
		put(f, p->cmdline[0] ? p->cmdline : p->comm);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></div>\n", f);
}

static int run_section(FILE *f, const struct an_report *r, const struct an_run *run,
		       const char *slug)
{
	const struct an_run *sync = an_sync_of(r, run);
	/* open: the baseline and the fastest, the two a reader compares first */
	bool open = !strcmp(run->strategy, "sync") || an_run_is_best(r, run) || r->nruns < 3;
	struct an_cause cause;
	struct rp_layer wall = {&run->wall, 1}, on = {&run->oncpu, 1}, off = {&run->offcpu, 1e-3};
	struct rp_svg_opts tl_opts = embed_opts;
	char title[200];
	int ret;

	an_run_cause(run, &cause);
	fprintf(f, "<details class=\"run\"%s><summary>", open ? " open=\"open\"" : "");
	put(f, run->label);
	fputs(" <span class=\"sub\">", f);
	if (run->speedup_ok && strcmp(run->strategy, "sync"))
		fprintf(f, "%.2f&#215; &#8212; ", run->speedup_vs_sync);
	else if (!strcmp(run->strategy, "sync"))
		fputs("baseline &#8212; ", f);
	put(f, cause.reason);
	fputs("</span></summary>\n", f);
	findings(f, run);
	{
		char line[512];

		if (an_machine_line(run, line, sizeof(line))) {
			/* the machine's other work, iotrace's own part of it named */
			fputs("<p class=\"note\">", f);
			put(f, line);
			fputs("</p>\n", f);
		}
	}
	run_files(f, run, slug, sync && sync != run);
	process_table(f, run);
	tl_opts.tl_detail = HTML_TL_DETAIL / (r->nruns ? r->nruns : 1);
	if (tl_opts.tl_detail > HTML_TL_DETAIL_MAX)
		tl_opts.tl_detail = HTML_TL_DETAIL_MAX;
	fputs("<div class=\"gw\">", f);
	ret = rp_timeline_svg_ex(f, run, &tl_opts);
	fputs("</div>\n", f);
	if (ret)
		return ret;
	if (run->spans_resolution_ns)
		fprintf(f,
			"<p class=\"note\">Timeline drawn at %s resolution for its first %s "
			"(a long run is folded as it goes, to bound memory): each bin shows the state "
			"that held most of it. Every figure is exact.</p>\n",
			un_dur(run->spans_resolution_ns).s, un_dur(run->spans_exact_from_ns).s);
	{
		char line[1024];

		/* how much of the stacks below was unwound, and why the rest was not */
		if (an_unwind_line(run, line, sizeof(line))) {
			fputs("<p class=\"note\">", f);
			put(f, line);
			fputs("</p>\n", f);
		}
	}
	fputs("<div class=\"tabs\">", f);
	tab_button(f, "wall", "Wall clock", true);
	tab_button(f, "oncpu", "On-CPU", false);
	tab_button(f, "offcpu", "Off-CPU", false);
	if (sync && sync != run)
		tab_button(f, "diff", "Diff vs sync", false);
	fputs("</div>\n", f);
	snprintf(title, sizeof(title), "%s: wall clock (on- and off-CPU)", run->label);
	ret = panel(f, "wall", true, &wall, 1, NULL, 0, title, "µs");
	snprintf(title, sizeof(title), "%s: on-CPU", run->label);
	if (!ret)
		ret = panel(f, "oncpu", false, &on, 1, NULL, 0, title, "samples");
	snprintf(title, sizeof(title), "%s: off-CPU", run->label);
	if (!ret)
		ret = panel(f, "offcpu", false, &off, 1, NULL, 0, title, "µs");
	if (!ret && sync && sync != run) {
		struct rp_layer sw = {&sync->wall, 1};

		snprintf(title, sizeof(title), "%s against %s: wall clock", run->label, sync->label);
		ret = panel(f, "diff", false, &wall, 1, &sw, 1, title, "µs");
	}
	fputs("</details>\n", f);
	return ret;
}

int rp_html(FILE *f, const struct an_report *r)
{
	char (*slugs)[RP_SLUG_MAX] = rp_run_slugs(r);
	int ret = 0;

	if (!slugs)
		return -ENOMEM;
	header(f, r);
	comparison(f, r);
	state_bars(f, r);
	files(f);
	fputs("<h2>Runs</h2>\n<p class=\"note\">Per run: its findings, the timeline (a lane per "
	      "thread; wheel to zoom, drag to pan, double-click to reset), then flame graphs. The "
	      "first frames of every stack are strategy, thread role and state, a wait's with what "
	      "it waited for (lock_wait: join is no contention, io_wait: pipe no disk read; hover "
	      "for each); click a frame to "
	      "zoom, press / (or Ctrl-F over a graph) to search. The sync runs and the fastest "
	      "are open; "
	      "<button type=\"button\" class=\"all\" data-open=\"1\">Expand all</button>"
	      "<button type=\"button\" class=\"all\" data-open=\"0\">Collapse all</button></p>\n",
	      f);
	for (size_t i = 0; i < r->nruns && !ret; i++)
		ret = run_section(f, r, &r->runs[i], slugs[i]);
	free(slugs);
	fputs(page_script, f);
	/* the timelines' zoom and the flame graphs', one copy for all of them */
	fprintf(f, "<script>//<![CDATA[\n%sdocument.querySelectorAll('svg.tl').forEach(iotTimeline);\n"
		   "%sdocument.querySelectorAll('svg.fg').forEach(iotFlame);\n//]]></script>\n",
		rp_timeline_js, rp_flame_js);
	fputs("</main>\n</body>\n</html>\n", f);
	if (ret)
		return ret;
	return ferror(f) ? -EIO : 0;
}
