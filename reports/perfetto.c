/* perfetto.c - trace.json: the runs' thread states as Chrome Trace Events, for Perfetto. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model/units.h"
#include "render.h"
#include "report.h"
#include "rp_json.h"

/*
 * One process per run (pid = run index + 1, so runs never collide and sort in report
 * order), named by the run's label; one thread track per traced thread, named
 * "role (comm) tid"; each state span a complete ("X") event on its thread; each
 * stretch with I/O in flight (the timeline's io intervals, io_uring requests no thread
 * blocks on), each stretch the device was busy for the run (its block requests) and each
 * stretch of lost events an async slice ("b"/"e") of the process.
 * Times are relative to each run's window start, so runs line up at 0 for comparison;
 * ts/dur are microseconds printed with ns precision (three decimals, exact integers).
 */

static const char *const state_cname[TL_NSTATES] = {
	"thread_state_running",	   "thread_state_running",  "thread_state_iowait",
	"thread_state_uninterruptible", "thread_state_sleeping", "thread_state_sleeping",
	"thread_state_runnable",
};

struct pw {
	FILE *f;
	bool first;
	uint64_t next_id;	/* async ids, unique over the whole file */
};

static void ev_begin(struct pw *w)
{
	fputs(w->first ? "\n" : ",\n", w->f);
	w->first = false;
}

/* ns as microseconds with three decimals, exactly */
static void us(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

static void meta(struct pw *w, unsigned pid, uint32_t tid, const char *what, const char *key,
		 const char *str, long num)
{
	ev_begin(w);
	fprintf(w->f,
		"{\"ph\":\"M\",\"pid\":%u,\"tid\":%" PRIu32 ",\"name\":\"%s\",\"args\":{\"%s\":",
		pid, tid, what, key);
	if (str)
		rp_json_string(w->f, str);
	else
		fprintf(w->f, "%ld", num);
	fputs("}}", w->f);
}

static void async(struct pw *w, unsigned pid, uint32_t tid, const char *cat, const char *name,
		  uint64_t t0, uint64_t t1)
{
	uint64_t id = ++w->next_id;

	ev_begin(w);
	fprintf(w->f,
		"{\"ph\":\"b\",\"pid\":%u,\"tid\":%" PRIu32
		",\"cat\":\"%s\",\"name\":\"%s\",\"id\":\"0x%" PRIx64 "\",\"ts\":",
		pid, tid, cat, name, id);
	us(w->f, t0);
	fputs("}", w->f);
	ev_begin(w);
	fprintf(w->f,
		"{\"ph\":\"e\",\"pid\":%u,\"tid\":%" PRIu32
		",\"cat\":\"%s\",\"name\":\"%s\",\"id\":\"0x%" PRIx64 "\",\"ts\":",
		pid, tid, cat, name, id);
	us(w->f, t1);
	fputs("}", w->f);
}

static int iv_start_cmp(const void *a, const void *b)
{
	const struct tl_interval *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* rel(t): t relative to the window start (times before it, impossible after tl_finish, as 0) */
#define REL(t) ((t) > ws ? (t) - ws : 0)

static int run_events(struct pw *w, const struct an_run *run, unsigned pid)
{
	const struct tl_timeline *tl = run->tl;
	uint64_t ws;
	uint32_t main_tid = 0;
	struct tl_interval *lost = NULL;
	size_t nlost = 0;

	meta(w, pid, 0, "process_name", "name", run->label, 0);
	meta(w, pid, 0, "process_sort_index", "sort_index", NULL, (long)pid);
	if (run->spans_resolution_ns) {
		char lab[160];

		snprintf(lab, sizeof(lab),
			 "states before %s drawn in %s bins (majority state); figures exact",
			 un_dur(run->spans_exact_from_ns).s, un_dur(run->spans_resolution_ns).s);
		meta(w, pid, 0, "process_labels", "labels", lab, 0);
	}
	if (!tl)
		return 0;
	ws = tl->win_start;
	for (size_t i = 0; i < tl->nthreads; i++) {
		const struct tl_thread *t = &tl->threads[i];
		char name[96];

		if (i == 0)
			main_tid = t->tid;
		snprintf(name, sizeof(name), "%s (%s) %" PRIu32, t->role[0] ? t->role : "thread",
			 t->comm, t->tid);
		meta(w, pid, t->tid, "thread_name", "name", name, 0);
		meta(w, pid, t->tid, "thread_sort_index", "sort_index", NULL, (long)i);
		nlost += t->ngaps;
	}
	for (size_t i = 0; i < tl->nthreads; i++) {
		const struct tl_thread *t = &tl->threads[i];

		for (size_t s = 0; s < t->nspans; s++) {
			const struct tl_span *sp = &t->spans[s];
			unsigned st = (unsigned)sp->state < TL_NSTATES ? sp->state : TL_OTHER_WAIT;
			const char *kind = rp_span_kind(st, sp->kind);

			/* a wait's slice is named by what it was for: "lock_wait: join" */
			ev_begin(w);
			fprintf(w->f,
				"{\"ph\":\"X\",\"pid\":%u,\"tid\":%" PRIu32
				",\"cat\":\"state\",\"name\":\"%s%s%s\",\"cname\":\"%s\",\"ts\":",
				pid, t->tid, tl_state_name(st), kind ? ": " : "", kind ? kind : "",
				state_cname[st]);
			us(w->f, REL(sp->start));
			fputs(",\"dur\":", w->f);
			us(w->f, sp->end > sp->start ? sp->end - sp->start : 0);
			if (kind)
				fprintf(w->f, ",\"args\":{\"state\":\"%s\",\"kind\":\"%s\"}",
					tl_state_name(st), kind);
			fputs("}", w->f);
		}
	}
	/* async tracks: ordered by start so each reads in time order */
	if (tl->nio) {
		struct tl_interval *io = malloc(tl->nio * sizeof(*io));

		if (!io)
			return -ENOMEM;
		memcpy(io, tl->io, tl->nio * sizeof(*io));
		qsort(io, tl->nio, sizeof(*io), iv_start_cmp);
		for (size_t i = 0; i < tl->nio; i++)
			async(w, pid, main_tid, "io", "I/O in flight", REL(io[i].start),
			      REL(io[i].end));
		free(io);
	}
	/* the device busy for the run: its block requests, readahead included (sorted) */
	for (size_t i = 0; i < tl->ndev; i++)
		async(w, pid, main_tid, "device", "device busy (block requests)", REL(tl->dev[i].start),
		      REL(tl->dev[i].end));
	if (nlost) {
		size_t n = 0;

		lost = malloc(nlost * sizeof(*lost));
		if (!lost)
			return -ENOMEM;
		for (size_t i = 0; i < tl->nthreads; i++)
			for (size_t g = 0; g < tl->threads[i].ngaps; g++)
				lost[n++] = tl->threads[i].gaps[g];
		qsort(lost, n, sizeof(*lost), iv_start_cmp);
		for (size_t i = 0; i < n; i++)
			async(w, pid, main_tid, "lost", "events lost", REL(lost[i].start),
			      REL(lost[i].end));
		free(lost);
	}
	return 0;
}

int rp_perfetto(FILE *f, const struct an_report *r)
{
	struct pw w = {.f = f, .first = true};
	int ret = 0;

	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"iotrace\":", f);
	rp_json_string(f, r->version);
	fputs(",\"workload\":", f);
	rp_json_string(f, r->workload);
	fputs("},\"traceEvents\":[", f);
	for (size_t i = 0; i < r->nruns && !ret; i++)
		ret = run_events(&w, &r->runs[i], (unsigned)i + 1);
	fputs("\n]}\n", f);
	if (ret)
		return ret;
	if (fflush(f) == EOF || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
