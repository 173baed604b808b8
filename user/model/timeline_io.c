/* timeline_io.c - I/O request edges (tl_io_begin/end) paired into in-flight intervals. */
#include "timeline_int.h"

/* id -> begin ts of the open requests; linear probing with backward-shift deletion */
struct iomap {
	uint64_t *key, *val;
	unsigned char *used;
	size_t cap, n;
};

static size_t io_slot(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)(id & (cap - 1));
}

static int iomap_init(struct iomap *m, size_t cap)
{
	m->cap = cap;
	m->n = 0;
	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	m->used = calloc(cap, 1);
	return m->key && m->val && m->used ? 0 : -ENOMEM;
}

static void iomap_free(struct iomap *m)
{
	free(m->key);
	free(m->val);
	free(m->used);
}

static long iomap_find(const struct iomap *m, uint64_t id)
{
	for (size_t s = io_slot(id, m->cap); m->used[s]; s = (s + 1) & (m->cap - 1))
		if (m->key[s] == id)
			return (long)s;
	return -1;
}

static int iomap_put(struct iomap *m, uint64_t id, uint64_t v)
{
	size_t s;

	if ((m->n + 1) * 2 > m->cap) {
		struct iomap n;

		if (iomap_init(&n, m->cap * 2)) {
			iomap_free(&n);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->used[i])
				iomap_put(&n, m->key[i], m->val[i]);
		iomap_free(m);
		*m = n;
	}
	for (s = io_slot(id, m->cap); m->used[s]; s = (s + 1) & (m->cap - 1))
		;
	m->used[s] = 1;
	m->key[s] = id;
	m->val[s] = v;
	m->n++;
	return 0;
}

static void iomap_del(struct iomap *m, size_t s)
{
	size_t j = s;

	m->used[s] = 0;
	m->n--;
	/* backward shift: pull later members of the probe run into the hole */
	for (;;) {
		size_t home;

		j = (j + 1) & (m->cap - 1);
		if (!m->used[j])
			return;
		home = io_slot(m->key[j], m->cap);
		/* j may move to s only if its home is not within (s, j] cyclically */
		if ((s <= j) ? (home > s && home <= j) : (home > s || home <= j))
			continue;
		m->key[s] = m->key[j];
		m->val[s] = m->val[j];
		m->used[s] = 1;
		m->used[j] = 0;
		s = j;
	}
}

/*
 * Pair the sorted request edges ev[0..n) into intervals clipped to [lo, hi). A request
 * still open at hi runs to hi; with carry it is also handed back (a begin at hi, for the
 * events after a cut), without carry it counts as unmatched (outstanding past the window).
 */
int tli_io_pair(const struct tl_ioreq *ev, size_t n, uint64_t lo, uint64_t hi,
		   struct tl_interval **iv, size_t *niv, size_t *capiv, uint64_t *unmatched,
		   struct tl_ioreq **carry, size_t *ncarry)
{
	struct iomap m;
	size_t capcarry = 0;
	int ret = 0;

	if (iomap_init(&m, 64)) {
		iomap_free(&m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		const struct tl_ioreq *r = &ev[i];
		long s = iomap_find(&m, r->id);

		if (r->end != 1) {
			if (s < 0)
				ret = iomap_put(&m, r->id, r->ts);
			/* else a begin with the request open: an end was lost; keep the older */
			else
				(*unmatched)++;
		} else if (s >= 0) {
			ret = tli_iv_push(iv, niv, capiv, m.val[s], r->ts, lo, hi);
			iomap_del(&m, (size_t)s);
		} else {
			/* an end with no begin: when it began is unknown, so no interval */
			(*unmatched)++;
		}
	}
	for (size_t s = 0; s < m.cap && !ret; s++) {
		if (!m.used[s])
			continue;
		if (carry) {
			ret = tli_grow((void **)carry, &capcarry, *ncarry + 1, sizeof(**carry));
			if (!ret)
				(*carry)[(*ncarry)++] =
					(struct tl_ioreq){.id = m.key[s], .ts = hi, .end = -1};
		} else {
			/* still in flight at the end: a real request outstanding past the window */
			(*unmatched)++;
		}
		if (!ret)
			ret = tli_iv_push(iv, niv, capiv, m.val[s], hi, lo, hi);
	}
	iomap_free(&m);
	return ret;
}

int tli_finish_io(struct tl_timeline *tl, uint64_t lo)
{
	int ret;

	tl->nio = 0;
	if (!tl->nopen_io)
		return 0;
	ret = tli_sort_ioreq(tl->open_io, tl->nopen_io);
	if (!ret)
		ret = tli_io_pair(tl->open_io, tl->nopen_io, lo, tl->win_end, &tl->io, &tl->nio,
			      &tl->capio, &tl->io_unmatched, NULL, NULL);
	if (ret)
		return ret;
	tl->nio = tl_iv_normalize(tl->io, tl->nio);
	free(tl->open_io);
	tl->open_io = NULL;
	tl->nopen_io = tl->capopen_io = 0;
	return 0;
}
