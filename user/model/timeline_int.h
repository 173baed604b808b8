/* timeline_int.h - what the timeline*.c files share; nothing else includes it. */
#ifndef IOTRACE_TIMELINE_INT_H
#define IOTRACE_TIMELINE_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

/*
 * The timeline in files, by concern (timeline.h is the one public interface):
 *   timeline.c             state names, tl_new/tl_free, tid index, ingest of events
 *   timeline_sort.c        the stable merge sort of raw events, request edges, intervals
 *   timeline_spans.c       a thread's raw events -> spans clipped to the window; its gaps
 *   timeline_io.c          request edges (tl_io_*) paired into in-flight intervals
 *   timeline_sweep.c       interval sets, the sweep, the unions, measure and histogram
 *   timeline_downsample.c  spans binned coarser until they fit the span budget
 *   timeline_fold.c        tl_cut (fold the past as a run goes on) and tl_finish
 */

/* One state change of one thread, as it arrived. */
struct tl_raw {
	uint64_t ts;
	int32_t state;
	uint32_t kind;		/* what the wait is for (tl_span.kind) */
};

/* One edge of an I/O request. */
struct tl_ioreq {
	uint64_t id, ts;
	int end;	/* 1 end, 0 begin, -1 begin carried over a cut (tl_cut) */
};

/* Transitions of tid lost between from and to (tl_gap), resolved in tl_finish. */
struct tl_gaprec {
	uint32_t tid;
	uint64_t from, to;
};

/* Room for need elements in *p (capacity *cap, doubling). 0 or -ENOMEM. */
static inline int tli_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc;
	void *n;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	n = realloc(*p, nc * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = nc;
	return 0;
}

static inline uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- timeline_sort.c: stable, O(n) on sorted input; 0 or -ENOMEM ---- */
int tli_sort_raw(struct tl_raw *a, size_t n);		/* by ts */
int tli_sort_ioreq(struct tl_ioreq *a, size_t n);	/* by ts, then carried, end, begin */
int tli_sort_iv(struct tl_interval *a, size_t n);	/* by start */

/* ---- timeline.c ---- */
/* The newest entry of tid, or -1. */
long tli_tid_lookup(const struct tl_timeline *tl, uint32_t tid);
/* Of the entries of a reused tid (i: the newest), the one an event at ts belongs to. */
long tli_route(const struct tl_timeline *tl, long i, uint64_t ts);

/* ---- timeline_spans.c ---- */
/* Spans of t over [ws, we) from its raw events (sorted here), which it leaves in place. */
int tli_build_core(struct tl_thread *t, uint64_t ws, uint64_t we);
/* The same, then the raw events are freed. */
int tli_build_spans(struct tl_thread *t, uint64_t ws, uint64_t we);
/* The tl_gap records into each thread's normalized gaps, gap_ns and tl->gaps_ns. */
int tli_finish_gaps(struct tl_timeline *tl);

/* ---- timeline_io.c ---- */
int tli_io_pair(const struct tl_ioreq *ev, size_t n, uint64_t lo, uint64_t hi,
		struct tl_interval **iv, size_t *niv, size_t *capiv, uint64_t *unmatched,
		struct tl_ioreq **carry, size_t *ncarry);
/* The pending request edges into tl->io over [lo, tl->win_end), normalized. */
int tli_finish_io(struct tl_timeline *tl, uint64_t lo);

/* ---- timeline_sweep.c ---- */
int tli_iv_push(struct tl_interval **v, size_t *n, size_t *cap, uint64_t a, uint64_t b,
		uint64_t lo, uint64_t hi);
/* tl_sweep over [from, tl->win_end), finished or not (tl_cut sweeps a partial timeline). */
int tli_sweep_from(const struct tl_timeline *tl, uint64_t from, tl_sweep_fn fn, void *ctx);
/* A tl_sweep_fn adding each segment to the struct tl_measure at p. */
void tli_measure_seg(void *p, uint64_t t0, uint64_t t1, const uint32_t *n, unsigned io);
/*
 * The block requests (tl_block) over [lo, hi) into *out (normalized, the caller's), and
 * tl->blk keeps only what lies at or after hi. 0 or -ENOMEM.
 */
int tli_take_blk(struct tl_timeline *tl, uint64_t lo, uint64_t hi, struct tl_interval **out,
		 size_t *n);

/* ---- timeline_downsample.c ---- */
/* Downsample *v in place of itself to bins of r ns. 0 or -ENOMEM. */
int tli_coarsen(struct tl_span **v, size_t *n, size_t *cap, uint64_t r);
/* Bins doubled until the kept spans fit in limit: 1 if it downsampled, 0, or -ENOMEM. */
int tli_fit(struct tl_timeline *tl, size_t limit, bool all, uint64_t span_ns);

#endif /* IOTRACE_TIMELINE_INT_H */
