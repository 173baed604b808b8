/* ucopy.c - user stacks unwound from the probes' copies: interned frame lists, each thread's last copies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ucopy.h"

struct uc_stack {
	uint64_t hash;
	int n;
	bool complete;
	uint64_t *ips;
};

/*
 * A thread's last on-CPU copy and its last off-CPU one, apart: an off-CPU stack record
 * comes at the switch-in, and when the tracepoint did not show that switch-in (it is
 * inferred later, at the thread's next runtime accounting) the thread was sampled in
 * between; with one slot those samples' copies replaced the one the record names, and
 * its stack had no user frame at all (test_offcpu_stacks_unwound's flake).
 */
struct uc_last {
	uint32_t tid;		/* 0: free slot */
	struct {
		uint32_t seq;	/* 0: none yet */
		int id;		/* index in stacks[], or -errno */
	} copy[2];		/* [offcpu] */
	uint64_t top;		/* uc_set_top's */
};

struct uc_table {
	struct uc_stack *stacks;
	size_t nstacks, capstacks;
	uint32_t *idx;		/* open addressing over stacks: id + 1, 0 = free */
	size_t capidx;
	struct uc_last *last;
	size_t nlast, caplast;
};

struct uc_table *uc_new(void)
{
	return calloc(1, sizeof(struct uc_table));
}

void uc_reset(struct uc_table *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nstacks; i++)
		free(u->stacks[i].ips);
	free(u->stacks);
	free(u->idx);
	free(u->last);
	memset(u, 0, sizeof(*u));
}

void uc_free(struct uc_table *u)
{
	uc_reset(u);
	free(u);
}

size_t uc_count(const struct uc_table *u)
{
	return u ? u->nstacks : 0;
}

static uint64_t hash_ips(const uint64_t *ips, int n, bool complete)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)n ^ ((uint64_t)complete << 40);

	for (int i = 0; i < n; i++) {
		h ^= ips[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

static int idx_grow(struct uc_table *u)
{
	size_t cap = u->capidx ? u->capidx * 2 : 1024;
	uint32_t *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < u->nstacks; i++) {
		size_t j = (size_t)u->stacks[i].hash & (cap - 1);

		while (n[j])
			j = (j + 1) & (cap - 1);
		n[j] = (uint32_t)i + 1;
	}
	free(u->idx);
	u->idx = n;
	u->capidx = cap;
	return 0;
}

/* The id of ips[0..n), added if new; -ENOMEM. */
static int intern(struct uc_table *u, const uint64_t *ips, int n, bool complete)
{
	uint64_t h = hash_ips(ips, n, complete);
	struct uc_stack *st;
	size_t j;

	if ((u->nstacks + 1) * 2 > u->capidx && idx_grow(u))
		return -ENOMEM;
	for (j = (size_t)h & (u->capidx - 1); u->idx[j]; j = (j + 1) & (u->capidx - 1)) {
		st = &u->stacks[u->idx[j] - 1];
		if (st->hash == h && st->n == n && st->complete == complete &&
		    !memcmp(st->ips, ips, (size_t)n * sizeof(*ips)))
			return (int)u->idx[j] - 1;
	}
	if (u->nstacks == u->capstacks) {
		size_t cap = u->capstacks ? u->capstacks * 2 : 256;
		void *nv = realloc(u->stacks, cap * sizeof(*u->stacks));

		if (!nv)
			return -ENOMEM;
		u->stacks = nv;
		u->capstacks = cap;
	}
	st = &u->stacks[u->nstacks];
	st->ips = malloc((size_t)(n ? n : 1) * sizeof(*ips));
	if (!st->ips)
		return -ENOMEM;
	memcpy(st->ips, ips, (size_t)n * sizeof(*ips));
	st->n = n;
	st->complete = complete;
	st->hash = h;
	u->idx[j] = (uint32_t)++u->nstacks;
	return (int)u->nstacks - 1;
}

static struct uc_last *last_find(const struct uc_table *u, uint32_t tid)
{
	if (!u->caplast)
		return NULL;
	for (size_t i = tid & (u->caplast - 1);; i = (i + 1) & (u->caplast - 1)) {
		if (u->last[i].tid == tid)
			return &u->last[i];
		if (!u->last[i].tid)
			return NULL;
	}
}

static struct uc_last *last_get(struct uc_table *u, uint32_t tid)
{
	struct uc_last *l = last_find(u, tid);
	size_t i;

	if (l)
		return l;
	if ((u->nlast + 1) * 2 > u->caplast) {
		size_t cap = u->caplast ? u->caplast * 2 : 256;
		struct uc_last *n = calloc(cap, sizeof(*n));

		if (!n)
			return NULL;
		for (i = 0; i < u->caplast; i++) {
			size_t j;

			if (!u->last[i].tid)
				continue;
			for (j = u->last[i].tid & (cap - 1); n[j].tid; j = (j + 1) & (cap - 1))
				;
			n[j] = u->last[i];
		}
		free(u->last);
		u->last = n;
		u->caplast = cap;
	}
	for (i = tid & (u->caplast - 1); u->last[i].tid; i = (i + 1) & (u->caplast - 1))
		;
	u->last[i].tid = tid;
	u->nlast++;
	return &u->last[i];
}

int uc_put(struct uc_table *u, uint32_t tid, uint32_t seq, bool offcpu, const uint64_t *ips,
	   int n, bool complete)
{
	struct uc_last *l;
	int id = n;

	if (!u || !tid)
		return -EINVAL;
	if (n >= 0) {
		id = intern(u, ips, n, complete);
		if (id < 0)
			return id;
	}
	l = last_get(u, tid);
	if (!l)
		return -ENOMEM;
	l->copy[offcpu].seq = seq;
	l->copy[offcpu].id = id;
	return 0;
}

bool uc_set_top(struct uc_table *u, uint32_t tid, uint64_t top)
{
	struct uc_last *l = u ? last_find(u, tid) : NULL;

	if (!l || l->top == top)
		return false;
	l->top = top;
	return true;
}

int uc_get(const struct uc_table *u, uint32_t tid, uint32_t seq, const uint64_t **ips, int *n,
	   bool *complete)
{
	const struct uc_last *l = u ? last_find(u, tid) : NULL;
	const struct uc_stack *st;
	int id, k;

	if (!l || !seq)
		return -ENOENT;
	for (k = 0; k < 2 && l->copy[k].seq != seq; k++)
		;
	if (k == 2)
		return -ENOENT;
	id = l->copy[k].id;
	/* an unwinding that found no frame (-ENOENT) is no copy that never arrived */
	if (id < 0)
		return id == -ENOENT ? -ENODATA : id;
	st = &u->stacks[id];
	*ips = st->ips;
	*n = st->n;
	*complete = st->complete;
	return id;
}

int uc_stack(const struct uc_table *u, int id, const uint64_t **ips, int *n, bool *complete)
{
	const struct uc_stack *st;

	if (!u || id < 0 || (size_t)id >= u->nstacks)
		return -ENOENT;
	st = &u->stacks[id];
	*ips = st->ips;
	*n = st->n;
	*complete = st->complete;
	return id;
}
