/* ucopy.h - user stacks unwound from the probes' copies: interned frame lists, each thread's last copy. */
#ifndef IOTRACE_UCOPY_H
#define IOTRACE_UCOPY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A copy of a user stack (it_ustack_rec) is streamed before the stack record that uses
 * it, which names it by (tid, seq). The tracer unwinds each copy as it arrives, keeps the
 * result as the thread's last copy of its kind (on-CPU, off-CPU), and gives the stack
 * record an id for its frames: equal frame lists get equal ids within a run (as the stack
 * map's ids do), so the session folds each distinct stack once. Ids are 0, 1, 2, ... in
 * order of first sight.
 */
struct uc_table;

struct uc_table *uc_new(void);
void uc_free(struct uc_table *u);
/* Forget everything (a new run). */
void uc_reset(struct uc_table *u);
/*
 * tid's copy seq unwound to ips[0..n) (leaf first; complete: the walk reached the outermost
 * frame), or n = -errno when it could not be unwound; offcpu: taken at a switch-out. It
 * replaces the thread's last copy of the same kind only: a thread sampled between its
 * switch-out and the off-CPU record (a switch-in seen late) keeps that record's copy.
 * 0 or -ENOMEM.
 */
int uc_put(struct uc_table *u, uint32_t tid, uint32_t seq, bool offcpu, const uint64_t *ips,
	   int n, bool complete);
/*
 * The frames of tid's copy seq: its id (>= 0), with ips, n and complete set; -ENOENT when that
 * copy never arrived (a lost record, or a later copy of the thread replaced it), or the
 * -errno its unwinding failed with (-ENODATA for an unwinding that found no frame, which
 * uc_put was given as -ENOENT: never -ENOENT).
 */
int uc_get(const struct uc_table *u, uint32_t tid, uint32_t seq, const uint64_t **ips, int *n,
	   bool *complete);
/* The frames of stack id (uc_get's id), which stays valid until uc_reset; id or -ENOENT. */
int uc_stack(const struct uc_table *u, int id, const uint64_t **ips, int *n, bool *complete);
/* Record where tid's copies may stop (sym_unwind's top); true when that changed it. */
bool uc_set_top(struct uc_table *u, uint32_t tid, uint64_t top);
/* Distinct stacks held. */
size_t uc_count(const struct uc_table *u);

#endif /* IOTRACE_UCOPY_H */
