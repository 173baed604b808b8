/* symindex.c - per-module symbol indexes that give dwfl_module_addrinfo's answer by binary search. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gelf.h>

#include "symindex.h"

/*
 * An index built at one load address answers at another when every symbol value moves
 * with the load address. Those that do not (SHN_ABS, SHN_COMMON, non-allocated sections:
 * libdwfl adds no bias to them) must then lie below this, the lowest address a mapping
 * can have by default (vm.mmap_min_addr), so they are below every address looked up.
 */
#define SI_LOW 0x10000ULL
/*
 * Indexes no module holds any more, kept for the next: a process whose maps are read
 * again (a library loaded since) gets a new Dwfl whose modules ask for the same files
 * just after the old ones let go, and in a build one cc1 exits before the next starts.
 */
#define SI_IDLE_MAX 8

struct si_index {
	struct si_cache *cache;	/* NULL: private, or the cache is gone */
	unsigned refs;		/* 0: idle in the cache */
	uint64_t idle_since;	/* the cache's tick when it went idle */
	unsigned char *key;	/* 'B' + build-id, or 'F' + file identity; NULL: private */
	size_t keylen;
	bool movable;		/* valid at any load bias >= SI_LOW, else only at bias */
	uint64_t bias;		/* the bias it was built at */
	int syments, first_global;	/* of the table it was built from */
	size_t n;		/* stretches */
	uint32_t *s32;		/* their starts, relative to the bias (when all fit) */
	uint64_t *s64;		/* or these */
	int32_t *ndx;		/* the symbol naming each stretch, -1 none */
};

struct si_cache {
	struct si_index **v;
	size_t n, cap;
	size_t nidle;
	uint64_t tick;
	size_t builds;		/* indexes built (not shared) */
};

struct si_cache *si_cache_new(void)
{
	return calloc(1, sizeof(struct si_cache));
}

static void index_free(struct si_index *x);

void si_cache_free(struct si_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i]->refs)
			c->v[i]->cache = NULL;
		else
			index_free(c->v[i]);
	}
	free(c->v);
	free(c);
}

static void index_free(struct si_index *x)
{
	free(x->key);
	free(x->s32);
	free(x->s64);
	free(x->ndx);
	free(x);
}

static void cache_drop(struct si_cache *c, size_t i)
{
	index_free(c->v[i]);
	c->v[i] = c->v[--c->n];
}

void si_put(struct si_index *x)
{
	struct si_cache *c;
	size_t oldest = SIZE_MAX;

	if (!x || --x->refs)
		return;
	c = x->cache;
	if (!c) {
		index_free(x);
		return;
	}
	x->idle_since = ++c->tick;
	if (++c->nidle <= SI_IDLE_MAX)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (!c->v[i]->refs && (oldest == SIZE_MAX || c->v[i]->idle_since < c->v[oldest]->idle_since))
			oldest = i;
	cache_drop(c, oldest);
	c->nidle--;
}

size_t si_cache_builds(const struct si_cache *c)
{
	return c ? c->builds : 0;
}

size_t si_bytes(const struct si_index *x, size_t *stretches)
{
	if (stretches)
		*stretches = x ? x->n : 0;
	if (!x)
		return 0;
	return sizeof(*x) + x->keylen + x->n * ((x->s32 ? 4 : 8) + sizeof(*x->ndx));
}

/* ---- building: libdwfl's choice, stretch by stretch ---- */

/* A symbol dwfl_module_addrinfo considers (named, defined, not a section, file or TLS). */
struct cand {
	uint64_t v, s;		/* value as libdwfl computes it, st_size */
	int32_t ndx;		/* in dwfl_module_getsym's numbering */
	uint32_t pos;		/* order of the scan: the global pass, then the local one */
	uint8_t bind;		/* GLOBAL 3, WEAK 2, LOCAL 1, else 0: higher is preferred */
	bool local;		/* seen in the second (local) pass */
	bool exact;		/* section index reserved (SHN_ABS, not allocated): names only its own address */
	uint32_t sec;		/* sizeless and not exact: the section its value lies in */
};

/* An allocated section of the main file, where libdwfl's section search sees it. */
struct secref {
	uint64_t start, end;
	size_t ndx;
};

/* The best label (sizeless symbol) so far in one section. */
struct label {
	bool has;
	uint64_t v;
	int32_t ndx;
};

struct build {
	struct cand *c;
	size_t nc;
	struct secref *sec;
	size_t nsec;
	bool locals;		/* a local pass happens (first global > 1) */
	uint32_t *act[2];	/* sized symbols containing the stretch: global, local; by pos */
	size_t nact[2];
	struct label *best[2];	/* per section (nsec: none): globals only, all */
	uint64_t min_label[2];	/* highest value + size seen: globals only, all */
	/* output, absolute starts */
	uint64_t *start;
	int32_t *res;
	size_t n, cap;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int sec_cmp(const void *a, const void *b)
{
	const struct secref *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->ndx < y->ndx ? -1 : x->ndx > y->ndx;
}

static int binding(const GElf_Sym *s)
{
	switch (GELF_ST_BIND(s->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

/*
 * The allocated sections as libdwfl lists them to tell which section an address is in
 * (sorted by start, end, index), or none at all when it fails to read them: then every
 * address is in "no section", as it is for libdwfl.
 */
static int sections_read(Dwfl_Module *mod, struct build *b)
{
	GElf_Addr bias = 0;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	Elf_Scn *scn = NULL;
	size_t shstrndx, cap = 0;
	GElf_Shdr sh;

	b->nsec = 0;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) < 0)
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			goto none;
		if (!(sh.sh_flags & SHF_ALLOC))
			continue;
		if (!elf_strptr(elf, shstrndx, sh.sh_name))
			goto none;
		if (b->nsec == cap) {
			size_t nc = cap ? cap * 2 : 32;
			void *nv = realloc(b->sec, nc * sizeof(*b->sec));

			if (!nv)
				return -ENOMEM;
			b->sec = nv;
			cap = nc;
		}
		b->sec[b->nsec].start = sh.sh_addr + bias;
		b->sec[b->nsec].end = sh.sh_addr + bias + sh.sh_size;
		b->sec[b->nsec].ndx = elf_ndxscn(scn);
		b->nsec++;
	}
	if (b->nsec)
		qsort(b->sec, b->nsec, sizeof(*b->sec), sec_cmp);
	return 0;
none:
	b->nsec = 0;
	return 0;
}

/*
 * The section (index into b->sec, b->nsec for none) libdwfl's binary search finds a:
 * ends count as inside, unless the next section starts there. The same search, so that
 * overlapping sections (.tbss) give the same answer.
 */
static uint32_t section_of(const struct build *b, uint64_t a)
{
	size_t l = 0, u = b->nsec;

	while (l < u) {
		size_t i = (l + u) / 2;

		if (a < b->sec[i].start) {
			u = i;
		} else if (a > b->sec[i].end) {
			l = i + 1;
		} else {
			if (a == b->sec[i].end && i + 1 < b->nsec && a == b->sec[i + 1].start)
				i++;
			return (uint32_t)i;
		}
	}
	return (uint32_t)b->nsec;
}

/*
 * Which of the sized symbols containing an address (in scan order) libdwfl keeps: a
 * later one replaces the one kept when it starts higher or binds stronger, or starts at
 * the same address, is shorter and binds as strongly.
 */
static int32_t choose_sized(const struct build *b, int pass)
{
	const struct cand *k = NULL;

	for (size_t i = 0; i < b->nact[pass]; i++) {
		const struct cand *c = &b->c[b->act[pass][i]];

		if (!k || k->v < c->v || k->bind < c->bind ||
		    (k->v == c->v && k->s > c->s && k->bind <= c->bind))
			k = c;
	}
	return k ? k->ndx : -1;
}

/*
 * The symbol naming address a (-1 none), with every candidate of value <= a added:
 * point when a is a breakpoint (labels exactly at a are then in at[]: the last global
 * one, the last of all), else a lies strictly inside a stretch.
 * libdwfl scans the globals; a sized symbol containing a wins. Failing that, unless a
 * label is exactly at a, it scans the locals the same way. Failing that, the label
 * highest below a in a's section (the last scanned among equals) if no sized symbol
 * seen ends above it.
 */
static int32_t evaluate(const struct build *b, uint64_t a, const struct cand *const at[2])
{
	const struct label *l;
	uint32_t sec;
	int pass = 0;

	if (b->nact[0])
		return choose_sized(b, 0);
	sec = section_of(b, a);
	l = &b->best[0][sec];
	if (b->locals && !(at[0] || (l->has && l->v == a))) {
		if (b->nact[1])
			return choose_sized(b, 1);
		pass = 1;
		l = &b->best[1][sec];
	}
	if (at[pass])
		return at[pass]->v >= b->min_label[pass] ? at[pass]->ndx : -1;
	return l->has && l->v >= b->min_label[pass] ? l->ndx : -1;
}

static int emit(struct build *b, uint64_t start, int32_t res)
{
	if (b->n && b->res[b->n - 1] == res)
		return 0;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 1024;
		uint64_t *ns = realloc(b->start, nc * sizeof(*ns));
		int32_t *nr;

		if (!ns)
			return -ENOMEM;
		b->start = ns;
		nr = realloc(b->res, nc * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		b->res = nr;
		b->cap = nc;
	}
	b->start[b->n] = start;
	b->res[b->n++] = res;
	return 0;
}

static void act_insert(struct build *b, int pass, uint32_t ci)
{
	size_t i = b->nact[pass];

	while (i > 0 && b->c[b->act[pass][i - 1]].pos > b->c[ci].pos) {
		b->act[pass][i] = b->act[pass][i - 1];
		i--;
	}
	b->act[pass][i] = ci;
	b->nact[pass]++;
}

static void act_remove(struct build *b, int pass, uint32_t ci)
{
	for (size_t i = 0; i < b->nact[pass]; i++)
		if (b->act[pass][i] == ci) {
			memmove(&b->act[pass][i], &b->act[pass][i + 1],
				(b->nact[pass] - i - 1) * sizeof(b->act[pass][0]));
			b->nact[pass]--;
			return;
		}
}

static uint64_t cand_end(const struct cand *c)
{
	return c->v + c->s < c->v ? UINT64_MAX : c->v + c->s;
}

static int end_cmp(const void *a, const void *b, void *cands)
{
	const struct cand *c = cands;
	uint64_t x = cand_end(&c[*(const uint32_t *)a]);
	uint64_t y = cand_end(&c[*(const uint32_t *)b]);

	return x < y ? -1 : x > y;
}

/* The cursors over the three sorted lists of breakpoints: starts, ends, section bounds. */
struct cursor {
	const uint32_t *byend;
	size_t nsized;
	const uint64_t *sb;
	size_t nsb;
	size_t iv, ie, is;
};

/*
 * The next breakpoint: the lowest start or end not yet swept (iv, ie are past what was)
 * or section bound above a (every one when first). False when none is left.
 */
static bool next_point(const struct build *b, struct cursor *k, bool first, uint64_t a,
		       uint64_t *out)
{
	bool any = false;

	while (!first && k->is < k->nsb && k->sb[k->is] <= a)
		k->is++;
	if (k->iv < b->nc) {
		*out = b->c[k->iv].v;
		any = true;
	}
	if (k->ie < k->nsized && (!any || cand_end(&b->c[k->byend[k->ie]]) < *out)) {
		*out = cand_end(&b->c[k->byend[k->ie]]);
		any = true;
	}
	if (k->is < k->nsb && (!any || k->sb[k->is] < *out)) {
		*out = k->sb[k->is];
		any = true;
	}
	return any;
}

/*
 * Sweep the breakpoints (symbol starts and ends, section bounds) upwards: between two of
 * them the candidates below, the sized ones containing the address and its section do not
 * change, so one answer holds for the breakpoint itself and one for the rest up to the next.
 */
static int sweep(struct build *b)
{
	uint32_t *byend = malloc((b->nc + 1) * sizeof(*byend));
	uint64_t *sb = malloc((3 * b->nsec + 1) * sizeof(*sb)), a = 0, na = 0;
	struct cursor k = {.byend = byend, .sb = sb};
	int err = -ENOMEM;
	bool have;

	b->act[0] = malloc((b->nc + 1) * sizeof(uint32_t));
	b->act[1] = malloc((b->nc + 1) * sizeof(uint32_t));
	b->best[0] = calloc(b->nsec + 1, sizeof(struct label));
	b->best[1] = calloc(b->nsec + 1, sizeof(struct label));
	if (!sb || !byend || !b->act[0] || !b->act[1] || !b->best[0] || !b->best[1])
		goto out;
	for (size_t i = 0; i < b->nc; i++)
		if (b->c[i].s)
			byend[k.nsized++] = (uint32_t)i;
	qsort_r(byend, k.nsized, sizeof(*byend), end_cmp, b->c);
	for (size_t i = 0; i < b->nsec; i++) {
		sb[k.nsb++] = b->sec[i].start;
		sb[k.nsb++] = b->sec[i].end;
		if (b->sec[i].end != UINT64_MAX)
			sb[k.nsb++] = b->sec[i].end + 1;
	}
	qsort(sb, k.nsb, sizeof(*sb), u64_cmp);
	for (have = next_point(b, &k, true, 0, &a); have; a = na) {
		const struct cand *at[2] = {NULL, NULL};

		for (; k.ie < k.nsized && cand_end(&b->c[byend[k.ie]]) <= a; k.ie++)
			act_remove(b, b->c[byend[k.ie]].local, byend[k.ie]);
		for (; k.iv < b->nc && b->c[k.iv].v <= a; k.iv++) {
			const struct cand *c = &b->c[k.iv];
			uint64_t top = c->v + c->s;	/* libdwfl's sum, wrapping as it does */
			int pass = c->local;

			for (int p = pass; p < 2; p++)
				if (top > b->min_label[p])
					b->min_label[p] = top;
			if (c->s) {
				act_insert(b, pass, (uint32_t)k.iv);
				continue;
			}
			/* labels: the last scanned among those at one address wins */
			for (int p = pass; p < 2; p++) {
				struct label *l = &b->best[p][c->sec];

				if (c->v == a)
					at[p] = c;
				if (!c->exact && (!l->has || c->v >= l->v))
					*l = (struct label){.has = true, .v = c->v, .ndx = c->ndx};
			}
		}
		if (emit(b, a, evaluate(b, a, at)))
			goto out;
		have = next_point(b, &k, false, a, &na);
		if (a != UINT64_MAX && (!have || na > a + 1)) {
			const struct cand *none[2] = {NULL, NULL};

			if (emit(b, a + 1, evaluate(b, a + 1, none)))
				goto out;
		}
	}
	err = 0;
out:
	free(sb);
	free(byend);
	return err;
}

/*
 * The candidates in libdwfl's scan order. *movable stays true only if every value moves
 * with the load bias (see SI_LOW). Returns -errno, or -ENOTSUP for what is not reproduced.
 */
static int candidates(Dwfl_Module *mod, struct build *b, uint64_t bias, bool *movable)
{
	int n = dwfl_module_getsymtab(mod), fg, gstart;

	if (n < 0)
		return 0;	/* no table: libdwfl names nothing either */
	fg = dwfl_module_getsymtab_first_global(mod);
	if (fg < 0)
		return 0;
	gstart = fg == 0 ? 1 : fg;
	b->locals = fg > 1;
	b->c = malloc(((size_t)n + 1) * sizeof(*b->c));
	if (!b->c)
		return -ENOMEM;
	for (int i = 1; i < n; i++) {
		struct cand *c = &b->c[b->nc];
		GElf_Word shndx = 0;
		GElf_Addr v = 0;
		GElf_Sym s;
		const char *name = dwfl_module_getsym_info(mod, i, &s, &v, &shndx, NULL, NULL);
		int type;
		bool moves;

		if (!name || !name[0] || s.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (type == STT_SECTION || type == STT_FILE || type == STT_TLS)
			continue;
		*c = (struct cand){.v = v, .s = s.st_size, .ndx = i, .bind = (uint8_t)binding(&s),
				   .local = i < gstart, .exact = shndx >= SHN_LORESERVE};
		c->pos = i >= gstart ? (uint32_t)(i - gstart) : (uint32_t)(n - gstart + i - 1);
		moves = !(s.st_shndx == SHN_ABS || s.st_shndx == SHN_COMMON || shndx == (GElf_Word)-1);
		if (moves ? v - s.st_value != bias
			  : !c->exact || v + s.st_size < v || v + s.st_size >= SI_LOW)
			*movable = false;
		if (!c->s && !c->exact)
			c->sec = section_of(b, v);
		b->nc++;
	}
	qsort(b->c, b->nc, sizeof(*b->c), cand_cmp);
	return 0;
}

/* Build mod's index (no key, not cached), or NULL with *err. */
static struct si_index *index_build(Dwfl_Module *mod, int *err)
{
	struct build b = {0};
	struct si_index *x = calloc(1, sizeof(*x));
	GElf_Addr bias = 0;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	GElf_Ehdr eh;
	uint64_t maxrel = 0;
	bool movable;

	*err = -ENOMEM;
	if (!x)
		return NULL;
	x->refs = 1;
	*err = -ENOTSUP;
	/* relocatable files' symbols and ppc64's function descriptors resolve otherwise */
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_type == ET_REL || eh.e_machine == EM_PPC64)
		goto fail;
	movable = bias >= SI_LOW;
	x->bias = bias;
	x->syments = dwfl_module_getsymtab(mod);
	x->first_global = dwfl_module_getsymtab_first_global(mod);
	if ((*err = sections_read(mod, &b)) || (*err = candidates(mod, &b, bias, &movable)) ||
	    (*err = sweep(&b)))
		goto fail;
	x->movable = movable;
	/* relative to the bias; what starts below it (values libdwfl does not move) starts at 0 */
	x->s64 = malloc((b.n + 1) * sizeof(*x->s64));
	x->ndx = malloc((b.n + 1) * sizeof(*x->ndx));
	*err = -ENOMEM;
	if (!x->s64 || !x->ndx)
		goto fail;
	for (size_t i = 0; i < b.n; i++) {
		uint64_t rel = b.start[i] < bias ? 0 : b.start[i] - bias;

		if (x->n && x->s64[x->n - 1] == rel)
			x->n--;
		if (x->n && x->ndx[x->n - 1] == b.res[i])
			continue;
		x->s64[x->n] = rel;
		x->ndx[x->n++] = b.res[i];
		if (rel > maxrel)
			maxrel = rel;
	}
	if (x->n && maxrel <= UINT32_MAX) {
		x->s32 = malloc(x->n * sizeof(*x->s32));
		*err = -ENOMEM;
		if (!x->s32)
			goto fail;
		for (size_t i = 0; i < x->n; i++)
			x->s32[i] = (uint32_t)x->s64[i];
		free(x->s64);
		x->s64 = NULL;
	}
	if (x->n) {
		void *shrunk = realloc(x->ndx, x->n * sizeof(*x->ndx));

		if (shrunk)
			x->ndx = shrunk;
		if (x->s64 && (shrunk = realloc(x->s64, x->n * sizeof(*x->s64))))
			x->s64 = shrunk;
	}
	*err = 0;
	goto out;
fail:
	index_free(x);
	x = NULL;
out:
	free(b.c);
	free(b.sec);
	free(b.act[0]);
	free(b.act[1]);
	free(b.best[0]);
	free(b.best[1]);
	free(b.start);
	free(b.res);
	return x;
}

/* ---- sharing ---- */

/* The file's identity: its build-id, else device, inode, size and mtime. */
static unsigned char *module_key(Dwfl_Module *mod, size_t *len)
{
	const unsigned char *bits;
	const char *file = NULL;
	GElf_Addr vaddr;
	unsigned char *k;
	struct stat st;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);

	if (n > 0) {
		k = malloc((size_t)n + 1);
		if (!k)
			return NULL;
		k[0] = 'B';
		memcpy(k + 1, bits, (size_t)n);
		*len = (size_t)n + 1;
		return k;
	}
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &file, NULL);
	if (!file || stat(file, &st))
		return NULL;
	k = malloc(1 + sizeof(st.st_dev) + sizeof(st.st_ino) + sizeof(st.st_size) +
		   sizeof(st.st_mtim));
	if (!k)
		return NULL;
	*len = 0;
	k[(*len)++] = 'F';
	memcpy(k + *len, &st.st_dev, sizeof(st.st_dev));
	*len += sizeof(st.st_dev);
	memcpy(k + *len, &st.st_ino, sizeof(st.st_ino));
	*len += sizeof(st.st_ino);
	memcpy(k + *len, &st.st_size, sizeof(st.st_size));
	*len += sizeof(st.st_size);
	memcpy(k + *len, &st.st_mtim, sizeof(st.st_mtim));
	*len += sizeof(st.st_mtim);
	return k;
}

static bool fits(const struct si_index *x, uint64_t bias)
{
	return x->movable ? bias >= SI_LOW : bias == x->bias;
}

struct si_index *si_get(struct si_cache *c, Dwfl_Module *mod)
{
	GElf_Addr bias = 0;
	size_t klen = 0;
	unsigned char *key;
	struct si_index *x;
	int err, n, fg;

	if (!mod || !dwfl_module_getelf(mod, &bias))
		return NULL;
	n = dwfl_module_getsymtab(mod);
	fg = dwfl_module_getsymtab_first_global(mod);
	key = c ? module_key(mod, &klen) : NULL;
	for (size_t i = 0; key && i < c->n; i++) {
		x = c->v[i];
		if (x->keylen == klen && !memcmp(x->key, key, klen) && x->syments == n &&
		    x->first_global == fg && fits(x, bias)) {
			free(key);
			if (!x->refs++)
				c->nidle--;
			return x;
		}
	}
	x = index_build(mod, &err);
	if (x && c)
		c->builds++;
	if (!x || !key) {
		free(key);
		return x;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		void *nv = realloc(c->v, nc * sizeof(*c->v));

		if (!nv) {
			free(key);
			return x;	/* private */
		}
		c->v = nv;
		c->cap = nc;
	}
	x->key = key;
	x->keylen = klen;
	x->cache = c;
	c->v[c->n++] = x;
	return x;
}

const char *si_addrinfo(const struct si_index *x, Dwfl_Module *mod, GElf_Addr addr,
			GElf_Off *off, GElf_Sym *sym, bool *fallback)
{
	GElf_Addr bias = 0, v = 0;
	GElf_Word shndx;
	uint64_t rel;
	size_t lo = 0, hi;
	const char *name;

	*fallback = false;
	*off = addr;
	if (!x || !dwfl_module_getelf(mod, &bias) || addr < bias || !fits(x, bias)) {
		*fallback = true;
		return NULL;
	}
	rel = addr - bias;
	hi = x->n;
	/* the last stretch starting at or below rel */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t s = x->s32 ? x->s32[mid] : x->s64[mid];

		if (s <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || x->ndx[lo - 1] < 0)
		return NULL;
	name = dwfl_module_getsym_info(mod, x->ndx[lo - 1], sym, &v, &shndx, NULL, NULL);
	if (!name)
		return NULL;
	*off = addr - v;
	return name;
}
