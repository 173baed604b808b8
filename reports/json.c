/* json.c - the renderers' JSON writer, and summary.json: the versioned machine-readable contract. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"
#include "rp_json.h"
#include "summary_fields.h"

/*
 * The writer fixes key order and number formats (integers exact, reals %.6f), so writing
 * a model, reading it back (reports/load_summary.c) and writing it again gives the same
 * bytes: `iotrace report` relies on that. Every field is documented in
 * docs/summary-schema.md; names are a contract, add fields freely but rename none without
 * bumping RP_SUMMARY_SCHEMA.
 */

_Static_assert(TL_NSTATES == 7, "summary.json lists seven states: update the schema");
_Static_assert(TL_NBOUNDS == 7 && TL_NUNUSED == 4,
	       "summary.json's bound_ns and unused_cpu_ns list each: update the table and schema");

/* ---- writer ---- */

void rp_jw_init(struct rp_jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->first[0] = true;
}

static void jw_sep(struct rp_jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (!w->first[w->depth])
		fputc(',', w->f);
	if (w->flat[w->depth]) {
		if (!w->first[w->depth])
			fputc(' ', w->f);
	} else {
		fputc('\n', w->f);
		for (int i = 0; i < w->depth; i++)
			fputs("  ", w->f);
	}
	w->first[w->depth] = false;
}

void rp_jw_key(struct rp_jw *w, const char *key)
{
	jw_sep(w);
	rp_json_string(w->f, key);
	fputs(": ", w->f);
	w->after_key = true;
}

static void jw_open(struct rp_jw *w, bool flat, char c)
{
	jw_sep(w);
	fputc(c, w->f);
	if (w->depth + 1 >= RP_JW_MAXDEPTH)
		return; /* never happens with our fixed schema; keep the writer memory-safe */
	w->depth++;
	w->first[w->depth] = true;
	/* a flat container's children are flat too: a line never breaks halfway */
	w->flat[w->depth] = flat || w->flat[w->depth - 1];
}

static void jw_close(struct rp_jw *w, char c)
{
	bool empty = w->first[w->depth], flat = w->flat[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (!empty && !flat) {
		fputc('\n', w->f);
		for (int i = 0; i < w->depth; i++)
			fputs("  ", w->f);
	}
	fputc(c, w->f);
}

void rp_jw_obj(struct rp_jw *w, bool flat)
{
	jw_open(w, flat, '{');
}

void rp_jw_obj_end(struct rp_jw *w)
{
	jw_close(w, '}');
}

void rp_jw_arr(struct rp_jw *w, bool flat)
{
	jw_open(w, flat, '[');
}

void rp_jw_arr_end(struct rp_jw *w)
{
	jw_close(w, ']');
}

void rp_jw_str(struct rp_jw *w, const char *s)
{
	jw_sep(w);
	if (s)
		rp_json_string(w->f, s);
	else
		fputs("null", w->f);
}

void rp_jw_u64(struct rp_jw *w, uint64_t v)
{
	jw_sep(w);
	fprintf(w->f, "%" PRIu64, v);
}

void rp_jw_i64(struct rp_jw *w, int64_t v)
{
	jw_sep(w);
	fprintf(w->f, "%" PRId64, v);
}

void rp_jw_real(struct rp_jw *w, double v)
{
	jw_sep(w);
	if (isfinite(v))
		fprintf(w->f, "%.6f", v);
	else
		fputs("null", w->f);
}

void rp_jw_null(struct rp_jw *w)
{
	jw_sep(w);
	fputs("null", w->f);
}

void rp_jw_bool(struct rp_jw *w, bool v)
{
	jw_sep(w);
	fputs(v ? "true" : "false", w->f);
}

int rp_jw_finish(struct rp_jw *w)
{
	fputc('\n', w->f);
	if (fflush(w->f) == EOF || ferror(w->f))
		return errno ? -errno : -EIO;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s[0] does not start one. */
static int utf8_len(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	int n;
	uint32_t v, lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0; /* also stops at the terminating NUL */
		v = (v << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return n;
}

void rp_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		uint32_t cp;
		int n;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '<':
		case '>':
		case '&':
		case 0x7f:
			fprintf(f, "\\u%04x", c);
			break;
		default:
			if (c < 0x20) {
				fprintf(f, "\\u%04x", c);
				break;
			}
			if (c < 0x80) {
				fputc(c, f);
				break;
			}
			n = utf8_len(s, &cp);
			if (n == 0) {
				fputs("\\ufffd", f);
				break;
			}
			if (cp == 0xfffd || cp == 0x2028 || cp == 0x2029)
				fprintf(f, "\\u%04x", cp);
			else
				fwrite(s, 1, (size_t)n, f);
			s += n;
			continue;
		}
		s++;
	}
	fputc('"', f);
}

/* ---- summary.json (its keys: summary_fields.h) ---- */

static void jw_states(struct rp_jw *w, const uint64_t *ns)
{
	rp_jw_obj(w, true);
	for (int i = 0; i < TL_NSTATES; i++) {
		rp_jw_key(w, tl_state_name((enum tl_state)i));
		rp_jw_u64(w, ns[i]);
	}
	rp_jw_obj_end(w);
}

static void jw_u64_or_null(struct rp_jw *w, bool ok, uint64_t v)
{
	if (ok)
		rp_jw_u64(w, v);
	else
		rp_jw_null(w);
}

static void jw_real_or_null(struct rp_jw *w, bool ok, double v)
{
	if (ok)
		rp_jw_real(w, v);
	else
		rp_jw_null(w);
}

/*
 * One row of a field table, written: the key, then the value of x (the object the table
 * describes). JW_TABLE makes jw_NAME(w, x) print every row of a table in order.
 */
#define JW_STR(key, m, load) rp_jw_key(w, key); rp_jw_str(w, x->m);
#define JW_STRN(key, m, load) rp_jw_key(w, key); rp_jw_str(w, x->m[0] ? x->m : NULL);
#define JW_U64(key, m, load) rp_jw_key(w, key); rp_jw_u64(w, x->m);
#define JW_UINT(key, m, load, max) JW_U64(key, m, load)
#define JW_INT(key, m, load) rp_jw_key(w, key); rp_jw_i64(w, x->m);
#define JW_BOOL(key, m, load) rp_jw_key(w, key); rp_jw_bool(w, x->m);
#define JW_U64N(key, m, load, ok) JW_U64IF(key, m, load, x->ok)
#define JW_U64IF(key, m, load, cond) rp_jw_key(w, key); jw_u64_or_null(w, cond, x->m);
#define JW_REAL(key, m, load, lo, hi) rp_jw_key(w, key); rp_jw_real(w, x->m);
#define JW_REALN(key, m, load, ok, lo, hi) JW_REALIF(key, m, load, x->ok, lo, hi)
#define JW_REALIF(key, m, load, cond, lo, hi)                                                \
	rp_jw_key(w, key);                                                                   \
	jw_real_or_null(w, cond, x->m);
#define JW_OBJ(key, fields, load, sub)                                                       \
	rp_jw_key(w, key);                                                                   \
	rp_jw_obj(w, true);                                                                  \
	jw_##fields(w, sub);                                                                 \
	rp_jw_obj_end(w);
#define JW_OBJN(key, fields, ok)                                                             \
	rp_jw_key(w, key);                                                                   \
	if (x->ok) {                                                                         \
		rp_jw_obj(w, true);                                                          \
		jw_##fields(w, x);                                                           \
		rp_jw_obj_end(w);                                                            \
	} else {                                                                             \
		rp_jw_null(w);                                                               \
	}
#define JW_STATES(m) rp_jw_key(w, #m); jw_states(w, x->m);
#define JW_CUSTOM(name) rp_jw_key(w, #name); jw_##name(w, x);
#define JW_ROW(kind, ...) JW_##kind(__VA_ARGS__)
#define JW_TABLE(name, type, TABLE)                                                          \
	static void jw_##name(struct rp_jw *w, const type *x)                               \
	{                                                                                    \
		TABLE(JW_ROW)                                                                \
	}                                                                                    \
	static void __attribute__((unused)) jw_##name##_v(struct rp_jw *w, const void *x)   \
	{                                                                                    \
		jw_##name(w, x);                                                             \
	}

typedef void (*jw_fields_fn)(struct rp_jw *w, const void *x);

/* An array of n objects of table fn, each size bytes from v on. */
static void jw_objects(struct rp_jw *w, jw_fields_fn fn, const void *v, size_t size, size_t n,
		       bool flat)
{
	rp_jw_arr(w, false);
	for (size_t i = 0; i < n; i++) {
		rp_jw_obj(w, flat);
		fn(w, (const char *)v + i * size);
		rp_jw_obj_end(w);
	}
	rp_jw_arr_end(w);
}

SUMMARY_OBJECT_TABLES(JW_TABLE)

static void jw_threads(struct rp_jw *w, const struct an_run *x)
{
	jw_objects(w, jw_thread_v, x->threads, sizeof(*x->threads), x->nthreads, true);
}

/* a run made once is its own one repetition */
static void jw_repeats(struct rp_jw *w, const struct an_run *x)
{
	struct an_repeat self;

	if (x->nrepeats) {
		jw_objects(w, jw_repeat_v, x->repeats, sizeof(*x->repeats), x->nrepeats, true);
		return;
	}
	an_repeat_of(x, &self);
	jw_objects(w, jw_repeat_v, &self, sizeof(self), 1, true);
}

static void jw_processes(struct rp_jw *w, const struct an_run *x)
{
	jw_objects(w, jw_process_v, x->processes, sizeof(*x->processes), x->nprocesses, true);
}

static void jw_socket_peers(struct rp_jw *w, const struct an_run *x)
{
	jw_objects(w, jw_sockpeer_v, x->sockpeers, sizeof(*x->sockpeers), x->nsockpeers, true);
}

static unsigned conc_len(const struct an_run *run)
{
	return (run->ncpu > AN_MAX_CPUS ? AN_MAX_CPUS : run->ncpu) + 1;
}

static void jw_concurrency(struct rp_jw *w, const struct an_run *x)
{
	rp_jw_arr(w, true);
	for (unsigned k = 0; k < conc_len(x); k++)
		rp_jw_real(w, x->concurrency[k]);
	rp_jw_arr_end(w);
}

static void jw_concurrency_ns(struct rp_jw *w, const struct an_run *x)
{
	rp_jw_arr(w, true);
	for (unsigned k = 0; k < conc_len(x); k++)
		rp_jw_u64(w, x->concurrency_ns[k]);
	rp_jw_arr_end(w);
}

/* the model's "unknown" is a negative share */
static void jw_resident_before(struct rp_jw *w, const struct an_run *x)
{
	jw_real_or_null(w, x->resident_before >= 0, x->resident_before);
}

/* null unless the whole bound is known; loading sets ideal_dev_ok */
static void jw_ideal_device_ns(struct rp_jw *w, const struct an_run *x)
{
	jw_u64_or_null(w, SUMMARY_IDEAL_DEV(x), x->ideal_dev_ns);
}

/* The futex words waited on, largest wait first: one flat object each. */
static void jw_locks(struct rp_jw *w, const struct an_run *x)
{
	char addr[24];

	rp_jw_arr(w, false);
	for (size_t i = 0; i < x->nlocks; i++) {
		const struct wt_lock *l = &x->locks[i];

		rp_jw_obj(w, true);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, l->addr);
		rp_jw_key(w, "pid");
		rp_jw_u64(w, l->pid);
		rp_jw_key(w, "addr");
		rp_jw_str(w, addr);
		rp_jw_key(w, "where");
		rp_jw_str(w, l->where[0] ? l->where : NULL);
		rp_jw_key(w, "kind");
		rp_jw_str(w, wt_lock_kind_name(l->kind));
		rp_jw_key(w, "wait_ns");
		rp_jw_u64(w, l->wait_ns);
		rp_jw_key(w, "waits");
		rp_jw_u64(w, l->waits);
		rp_jw_key(w, "waiters");
		rp_jw_arr(w, true);
		for (size_t j = 0; j < l->nwaiters; j++)
			rp_jw_u64(w, l->waiters[j]);
		rp_jw_arr_end(w);
		rp_jw_key(w, "wakers");
		rp_jw_arr(w, true);
		for (size_t j = 0; j < l->nwakers; j++)
			rp_jw_u64(w, l->wakers[j]);
		rp_jw_arr_end(w);
		rp_jw_key(w, "stack");
		rp_jw_str(w, l->stack);
		rp_jw_obj_end(w);
	}
	rp_jw_arr_end(w);
}

static void jw_verdict(struct rp_jw *w, const struct an_run *x)
{
	size_t n = x->nverdict < AN_MAX_VERDICT ? x->nverdict : AN_MAX_VERDICT;

	jw_objects(w, jw_verdict_entry_v, x->verdict, sizeof(x->verdict[0]), n, true);
}

JW_TABLE(run, struct an_run, SUMMARY_RUN_FIELDS)

static void jw_schema(struct rp_jw *w, const struct an_report *x)
{
	(void)x;
	rp_jw_str(w, RP_SUMMARY_SCHEMA);
}

static void jw_command(struct rp_jw *w, const struct an_report *x)
{
	if (!x->command) {
		rp_jw_null(w);
		return;
	}
	rp_jw_arr(w, true);
	for (char **a = x->command; *a; a++)
		rp_jw_str(w, *a);
	rp_jw_arr_end(w);
}

static void jw_runs(struct rp_jw *w, const struct an_report *x)
{
	jw_objects(w, jw_run_v, x->runs, sizeof(*x->runs), x->nruns, false);
}

JW_TABLE(report, struct an_report, SUMMARY_REPORT_FIELDS)

int rp_summary_json(FILE *f, const struct an_report *r)
{
	struct rp_jw w;

	rp_jw_init(&w, f);
	rp_jw_obj(&w, false);
	jw_report(&w, r);
	rp_jw_obj_end(&w);
	return rp_jw_finish(&w);
}
