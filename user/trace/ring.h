/* ring.h - the consumer of the probes' BPF ring buffer, its data mapped once. */
#ifndef IOTRACE_RING_H
#define IOTRACE_RING_H

#include <stddef.h>

/*
 * libbpf's ring_buffer maps the data area twice, back to back, so that a record that wraps
 * around the end reads as one piece; the kernel maps every page of both copies at mmap
 * time, so a ring of N MiB costs 2N MiB of resident memory. This consumer maps it once
 * and copies the (rare) wrapping record into a buffer of its own instead. Same protocol
 * and semantics as ring_buffer__consume/__poll: records in order, discarded ones skipped.
 */
struct rg;
typedef int (*rg_fn)(void *ctx, void *data, size_t size);

/* Map the ring buffer map fd; NULL with errno set on failure. */
struct rg *rg_new(int map_fd, rg_fn fn, void *ctx);
/* Hand every record available now to fn: the count, or fn's negative return (stops). */
int rg_consume(struct rg *r);
/* Wait up to timeout_ms for the probes to signal data (epoll), then consume. */
int rg_poll(struct rg *r, int timeout_ms);
/*
 * Unmap the data until the next rg_consume maps it again: every page of the mapping is
 * resident however little of it was written, so an idle ring (the run stopped, its model
 * being built) costs its whole size for nothing. Records the probes add meanwhile wait.
 */
void rg_idle(struct rg *r);
void rg_free(struct rg *r);

#endif /* IOTRACE_RING_H */
