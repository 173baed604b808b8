/* restore.h - a saved run's timeline rebuilt from its spans: loaders parse, this rebuilds. */
#ifndef IOTRACE_RESTORE_H
#define IOTRACE_RESTORE_H

#include <stdint.h>

#include "timeline.h"

/*
 * A run folder keeps each thread's spans, lost stretches and the I/O intervals (the format
 * is the loader's business: reports/report.h). Fed back here in the order they were saved
 * (a thread, then its spans and gaps), they give a finished timeline equal to the one the
 * tracer built, through the timeline's own API, so every view draws it as it did then.
 */
struct rs_timeline {
	struct tl_timeline *tl;
	uint64_t io_id;		/* a fresh id per saved I/O interval */
};

/* A saved thread: alive over [start, end), with the counters the tracer attached. */
struct rs_thread {
	uint32_t pid, tid;
	uint64_t start, end;
	uint64_t reads, bytes_read, ctx_switches;
	const char *comm, *role;
};

/* Start an empty timeline. 0 or -ENOMEM. */
int rs_begin(struct rs_timeline *r);
/* The thread, before its spans. 0 or -ENOMEM / -EINVAL. */
int rs_thread(struct rs_timeline *r, const struct rs_thread *t);
/* The thread tid (the last one given) was in state from start on. 0 or -ENOMEM. */
int rs_span(struct rs_timeline *r, uint32_t tid, uint64_t start, enum tl_state state);
/* The same, with what the wait was for (a tl_io_kind or tl_lock_kind, by state; 0 none). */
int rs_span_kind(struct rs_timeline *r, uint32_t tid, uint64_t start, enum tl_state state,
		 unsigned kind);
/* Its transitions between start and end were lost. */
void rs_gap(struct rs_timeline *r, uint32_t tid, uint64_t start, uint64_t end);
/* I/O in flight over [start, end) that no thread was blocked on. 0 or -ENOMEM. */
int rs_io(struct rs_timeline *r, uint64_t start, uint64_t end);
/* The device busy for the run over [start, end) (its block requests). 0 or -ENOMEM. */
int rs_dev(struct rs_timeline *r, uint64_t start, uint64_t end);
/*
 * Finish over the saved window, with the saved count of unmatched I/O edges: *out is the
 * timeline (the caller's to free). Either way r holds nothing after. 0 or -errno.
 */
int rs_finish(struct rs_timeline *r, uint64_t win_start, uint64_t win_end, uint64_t io_unmatched,
	      struct tl_timeline **out);
/* Drop a timeline left unfinished (a bad file). */
void rs_abort(struct rs_timeline *r);

#endif /* IOTRACE_RESTORE_H */
