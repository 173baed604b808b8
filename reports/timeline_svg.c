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
 */

#define TL_W 1200.0
#define TL_X0 180	/* plot starts after the lane labels */
#define TL_PW 960	/* plot width in columns (user units); the CPU count label follows */
#define TL_TOP 66
#define TL_LH 14	/* lane height */
#define TL_PITCH 18
#define TL_CPU_H 48	/* the threads-on-CPU lane */
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
 * is redrawn for the view. Scoped to its own <svg>, as report.html inlines many.
 */
static const char tl_script[] =
	"<script><![CDATA[\n"
	"(function(){\n"
	"var ss=document.getElementsByTagName('script'),me=document.currentScript||ss[ss.length-1];\n"
	"var svg=me.ownerSVGElement||me.parentNode,c=svg.getElementsByClassName('tl-cursor')[0],\n"
	" r=svg.getElementsByClassName('tl-readout')[0],X0=+svg.getAttribute('data-x0'),\n"
	" PW=+svg.getAttribute('data-pw'),ms=+svg.getAttribute('data-ms'),NS='http://www.w3.org/2000/svg',\n"
	" H=+svg.getAttribute('viewBox').split(' ')[3],ax=svg.getElementsByClassName('tl-axis')[0],\n"
	" Y0=+ax.getAttribute('data-y0'),Y1=+ax.getAttribute('data-y1'),v0=0,vw=PW,drag=null;\n"
	"var plot=document.createElementNS(NS,'svg'),ps=Array.prototype.slice.call(svg.getElementsByTagName('path'));\n"
	"[['x',X0],['y',0],['width',PW],['height',H],['preserveAspectRatio','none'],['class','tl-plot']]\n"
	" .forEach(function(a){plot.setAttribute(a[0],a[1]);});\n"
	"if(ps.length){ps[0].parentNode.insertBefore(plot,ps[0]);ps.forEach(function(p){plot.appendChild(p);});}\n"
	"function add(n,at){var e=document.createElementNS(NS,n);for(var k in at)e.setAttribute(k,at[k]);ax.appendChild(e);return e;}\n"
	"function ticks(){while(ax.firstChild)ax.removeChild(ax.firstChild);\n"
	" var a=v0/PW*ms,b=(v0+vw)/PW*ms,raw=(b-a)/10,p=Math.pow(10,Math.floor(Math.log(raw>0?raw:1)/Math.LN10)),\n"
	"  q=raw/p,st=q<1.5?p:q<3.5?2*p:q<7.5?5*p:10*p;\n"
	" add('line',{x1:X0,x2:X0+PW,y1:Y1,y2:Y1,stroke:'#555'});\n"
	" for(var t=Math.ceil(a/st-1e-9)*st;t<=b+st*1e-9;t+=st){var x=X0+(t-a)/(b-a)*PW;\n"
	"  add('line',{x1:x,x2:x,y1:Y0,y2:Y1+4,stroke:'#ddd'});\n"
	"  add('text',{'class':'tl-tick',x:x,y:Y1+16,'text-anchor':'middle'}).textContent=+t.toPrecision(6);}\n"
	" add('text',{'class':'tl-tick',x:X0-8,y:Y1+16,'text-anchor':'end'}).textContent='ms';}\n"
	"function view(){plot.setAttribute('viewBox',(X0+v0)+' 0 '+vw+' '+H);ticks();}\n"
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
	"svg.tlZoomAt=zoomAt;\n"
	"})();\n"
	"]]></script>\n";

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
	unsigned nlanes = 0, y, h;
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
	wall_ms = (double)(tl->win_end - tl->win_start) / 1e6;
	s.pxns = (double)(tl->win_end - tl->win_start) / TL_PW;
	s.bins = malloc(sizeof(double) * TL_NSTATES * TL_PW);
	s.cpu = malloc(sizeof(double) * TL_PW);
	if (!s.bins || !s.cpu) {
		ret = -ENOMEM;
		goto out;
	}
	h = TL_TOP + nlanes * TL_PITCH + 8 + TL_PITCH + 8 + TL_CPU_H + 40;
	snprintf(sub, sizeof(sub),
		 "%u thread%s over %s; a lane per thread colored by its state (hover for totals)",
		 nlanes, nlanes == 1 ? "" : "s", un_dur(tl->win_end - tl->win_start).s);
	open_svg(f, o, h, wall_ms);
	titles(f, run, sub);
	legend(f);
	y = TL_TOP;
	for (size_t i = 0; i < tl->nthreads; i++) {
		if (!tl->threads[i].nspans)
			continue;
		thread_lane(&s, &tl->threads[i], y);
		y += TL_PITCH;
	}
	y += 8;
	ret = io_lane(&s, y);
	if (ret)
		goto out;
	y += TL_PITCH + 8;
	ret = cpu_lane(&s, y);
	if (ret)
		goto out;
	y += TL_CPU_H;
	axis(f, wall_ms, TL_TOP - 4, y + 4);
	fprintf(f, "<line class=\"tl-cursor\" x1=\"0\" x2=\"0\" y1=\"%d\" y2=\"%u\" stroke=\"#000\" "
		   "stroke-width=\".6\" style=\"display:none;pointer-events:none\"/>\n"
		   "<text class=\"tl-readout\" x=\"%d\" y=\"22\" text-anchor=\"end\"> </text>\n",
		TL_TOP - 4, y + 4, TL_X0 + TL_PW);
	fputs(tl_script, f);
	fputs("</svg>\n", f);
	ret = ferror(f) ? -EIO : 0;
out:
	free(s.bins);
	free(s.cpu);
	return ret;
}

int rp_timeline_svg(FILE *f, const struct an_run *run)
{
	return rp_timeline_svg_ex(f, run, NULL);
}
