/* restore.c - a saved run's timeline rebuilt from its spans, through the timeline's own API. */
#include <errno.h>
#include <stdio.h>

#include "restore.h"

int rs_begin(struct rs_timeline *r)
{
	r->io_id = 0;
	r->tl = tl_new();
	return r->tl ? 0 : -ENOMEM;
}

int rs_thread(struct rs_timeline *r, const struct rs_thread *t)
{
	/*
	 * Born in compute at its start (a first span at the same instant replaces that; an
	 * empty span is dropped by tl_finish). A tid the kernel reused has a second thread
	 * starting at or after the first one's end: tl_thread_add then opens a new entry, as
	 * it did when the run was traced.
	 */
	struct tl_thread *th = tl_thread_add(r->tl, t->pid, t->tid, t->start, TL_COMPUTE, t->comm);

	if (!th)
		return -ENOMEM;
	snprintf(th->role, sizeof(th->role), "%s", t->role);
	th->reads = t->reads;
	th->bytes_read = t->bytes_read;
	th->ctx_switches = t->ctx_switches;
	return tl_thread_exit(r->tl, t->tid, t->end, t->comm);
}

int rs_span(struct rs_timeline *r, uint32_t tid, uint64_t start, enum tl_state state)
{
	return tl_transition(r->tl, 0, tid, start, state);
}

int rs_span_kind(struct rs_timeline *r, uint32_t tid, uint64_t start, enum tl_state state,
		 unsigned kind)
{
	return tl_transition_kind(r->tl, 0, tid, start, state, kind);
}

void rs_gap(struct rs_timeline *r, uint32_t tid, uint64_t start, uint64_t end)
{
	tl_gap(r->tl, tid, start, end);
}

int rs_io(struct rs_timeline *r, uint64_t start, uint64_t end)
{
	int ret = tl_io_begin(r->tl, ++r->io_id, start);

	return ret ? ret : tl_io_end(r->tl, r->io_id, end);
}

int rs_dev(struct rs_timeline *r, uint64_t start, uint64_t end)
{
	return tl_block(r->tl, start, end);
}

int rs_finish(struct rs_timeline *r, uint64_t win_start, uint64_t win_end, uint64_t io_unmatched,
	      struct tl_timeline **out)
{
	int ret = tl_finish(r->tl, win_start, win_end);

	*out = NULL;
	if (ret) {
		rs_abort(r);
		return ret;
	}
	r->tl->io_unmatched = io_unmatched;
	*out = r->tl;
	r->tl = NULL;
	return 0;
}

void rs_abort(struct rs_timeline *r)
{
	tl_free(r->tl);
	r->tl = NULL;
}
