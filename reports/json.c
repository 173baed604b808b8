/* json.c - summary.json: the versioned machine-readable contract, written and read back. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "rp_json.h"

/*
 * The writer fixes key order and number formats (integers exact, reals %.6f), so writing
 * a model, reading it back and writing it again gives the same bytes: `iotrace report`
 * relies on that. Every field is documented in docs/summary-schema.md; names are a
 * contract, add fields freely but rename none without bumping SCHEMA.
 */
#define SCHEMA_PREFIX "iotrace.summary/"
#define SCHEMA_VERSION 1
#define SCHEMA SCHEMA_PREFIX "1"
#define MAX_SUMMARY_BYTES (256u << 20) /* a hand-made giant is refused, not slurped */

_Static_assert(TL_NSTATES == 7, "summary.json lists seven states: update the schema");

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

/* ---- summary.json ---- */

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

static void jw_stackset(struct rp_jw *w, const struct an_stackset *s)
{
	rp_jw_obj(w, true);
	rp_jw_key(w, "total");
	rp_jw_u64(w, s->total);
	rp_jw_key(w, "errors");
	rp_jw_u64(w, s->errors);
	rp_jw_key(w, "unavailable");
	rp_jw_str(w, s->unavailable[0] ? s->unavailable : NULL);
	rp_jw_obj_end(w);
}

static unsigned conc_len(const struct an_run *run)
{
	return (run->ncpu > AN_MAX_CPUS ? AN_MAX_CPUS : run->ncpu) + 1;
}

static void jw_run(struct rp_jw *w, const struct an_run *run)
{
	const struct an_counters *c = &run->c;
	bool dev = run->ideal_ok && run->ideal_dev_ok;

	rp_jw_obj(w, false);
	rp_jw_key(w, "label");
	rp_jw_str(w, run->label);
	rp_jw_key(w, "strategy");
	rp_jw_str(w, run->strategy);
	rp_jw_key(w, "cache");
	rp_jw_str(w, run->cache[0] ? run->cache : NULL);
	rp_jw_key(w, "exit_status");
	rp_jw_i64(w, run->exit_status);
	rp_jw_key(w, "interrupted");
	rp_jw_bool(w, run->interrupted);
	rp_jw_key(w, "wall_ns");
	rp_jw_u64(w, run->wall_ns);
	rp_jw_key(w, "rusage");
	if (run->rusage_ok) {
		rp_jw_obj(w, true);
		rp_jw_key(w, "utime_ns");
		rp_jw_u64(w, run->rusage_utime_ns);
		rp_jw_key(w, "stime_ns");
		rp_jw_u64(w, run->rusage_stime_ns);
		rp_jw_key(w, "setup_ns");
		if (run->rusage_setup_ok)
			rp_jw_u64(w, run->rusage_setup_ns);
		else
			rp_jw_null(w);
		rp_jw_key(w, "exit_ns");
		if (run->rusage_exit_ok)
			rp_jw_u64(w, run->rusage_exit_ns);
		else
			rp_jw_null(w);
		rp_jw_obj_end(w);
	} else {
		rp_jw_null(w);
	}
	rp_jw_key(w, "machine_cpu");
	if (run->machine_ok) {
		rp_jw_obj(w, true);
		rp_jw_key(w, "busy_ns");
		rp_jw_u64(w, run->machine_busy_ns);
		rp_jw_key(w, "idle_ns");
		rp_jw_u64(w, run->machine_idle_ns);
		rp_jw_key(w, "steal_ns");
		rp_jw_u64(w, run->machine_steal_ns);
		rp_jw_key(w, "iotrace_ns");
		rp_jw_u64(w, run->machine_iotrace_ns);
		rp_jw_obj_end(w);
	} else {
		rp_jw_null(w);
	}
	rp_jw_key(w, "states_ns");
	jw_states(w, run->states_ns);
	rp_jw_key(w, "stolen_ns");
	if (run->stolen_ok)
		rp_jw_u64(w, run->stolen_ns);
	else
		rp_jw_null(w);

	rp_jw_key(w, "threads");
	rp_jw_arr(w, false);
	for (size_t i = 0; i < run->nthreads; i++) {
		const struct an_thread *t = &run->threads[i];

		rp_jw_obj(w, true);
		rp_jw_key(w, "pid");
		rp_jw_u64(w, t->pid);
		rp_jw_key(w, "tid");
		rp_jw_u64(w, t->tid);
		rp_jw_key(w, "comm");
		rp_jw_str(w, t->comm);
		rp_jw_key(w, "role");
		rp_jw_str(w, t->role);
		rp_jw_key(w, "lifetime_ns");
		rp_jw_u64(w, t->lifetime_ns);
		rp_jw_key(w, "states_ns");
		jw_states(w, t->states_ns);
		rp_jw_key(w, "stolen_ns");
		rp_jw_u64(w, t->stolen_ns);
		rp_jw_key(w, "reads");
		rp_jw_u64(w, t->reads);
		rp_jw_key(w, "bytes_read");
		rp_jw_u64(w, t->bytes_read);
		rp_jw_key(w, "ctx_switches");
		rp_jw_u64(w, t->ctx_switches);
		rp_jw_key(w, "gap_ns");
		rp_jw_u64(w, t->gap_ns);
		rp_jw_obj_end(w);
	}
	rp_jw_arr_end(w);

	rp_jw_key(w, "blocked_ns");
	rp_jw_u64(w, run->blocked_ns);
	rp_jw_key(w, "blocked_busy_ns");
	rp_jw_u64(w, run->blocked_busy_ns);
	rp_jw_key(w, "cpu_overlap");
	jw_real_or_null(w, run->cpu_overlap_ok, run->cpu_overlap);
	rp_jw_key(w, "io_ns");
	rp_jw_u64(w, run->io_ns);
	rp_jw_key(w, "hidden_io");
	jw_real_or_null(w, run->hidden_io_ok, run->hidden_io);
	rp_jw_key(w, "exposed_io_ns");
	rp_jw_u64(w, run->exposed_io_ns);
	rp_jw_key(w, "parallelism");
	rp_jw_real(w, run->parallelism);
	rp_jw_key(w, "concurrency");
	rp_jw_arr(w, true);
	for (unsigned k = 0; k < conc_len(run); k++)
		rp_jw_real(w, run->concurrency[k]);
	rp_jw_arr_end(w);
	rp_jw_key(w, "concurrency_ns");
	rp_jw_arr(w, true);
	for (unsigned k = 0; k < conc_len(run); k++)
		rp_jw_u64(w, run->concurrency_ns[k]);
	rp_jw_arr_end(w);
	rp_jw_key(w, "runnable_share");
	jw_real_or_null(w, run->runnable_share_ok, run->runnable_share);
	rp_jw_key(w, "read_oncpu_share");
	jw_real_or_null(w, run->read_oncpu_share_ok, run->read_oncpu_share);
	rp_jw_key(w, "switches");
	rp_jw_u64(w, run->switches);

	rp_jw_key(w, "reads");
	rp_jw_u64(w, c->reads);
	rp_jw_key(w, "bytes_read");
	rp_jw_u64(w, c->bytes_read);
	rp_jw_key(w, "page_cache_insert_bytes");
	jw_u64_or_null(w, c->pcache_ok, c->pcache_insert_bytes);
	rp_jw_key(w, "hit_ratio");
	jw_real_or_null(w, run->hit_ratio_ok, run->hit_ratio);
	rp_jw_key(w, "resident_before");
	jw_real_or_null(w, run->resident_before >= 0, run->resident_before);
	rp_jw_key(w, "block_bytes");
	jw_u64_or_null(w, c->block_ok, c->block_bytes);
	rp_jw_key(w, "block_busy_ns");
	jw_u64_or_null(w, c->block_ok, c->block_busy_ns);
	rp_jw_key(w, "block_reqs");
	jw_u64_or_null(w, c->block_ok, c->block_reqs);
	rp_jw_key(w, "device_rate");
	jw_real_or_null(w, run->device_rate_ok, run->device_rate);
	rp_jw_key(w, "uring");
	rp_jw_obj(w, true);
	rp_jw_key(w, "submitted");
	jw_u64_or_null(w, c->uring_ok, c->uring_submitted);
	rp_jw_key(w, "completed");
	jw_u64_or_null(w, c->uring_ok, c->uring_completed);
	rp_jw_key(w, "inline");
	jw_u64_or_null(w, c->uring_ok, c->uring_inline);
	rp_jw_key(w, "punted");
	jw_u64_or_null(w, c->uring_ok, c->uring_punted);
	rp_jw_obj_end(w);
	rp_jw_key(w, "ctx_switches");
	rp_jw_u64(w, c->ctx_switches);
	rp_jw_key(w, "lost_events");
	rp_jw_u64(w, c->lost_events);
	rp_jw_key(w, "lost_ns");
	rp_jw_u64(w, c->lost_ns);
	rp_jw_key(w, "gaps_ns");
	rp_jw_u64(w, run->gaps_ns);
	rp_jw_key(w, "spans_exact_from_ns");
	rp_jw_u64(w, run->spans_exact_from_ns);
	rp_jw_key(w, "spans_resolution_ns");
	rp_jw_u64(w, run->spans_resolution_ns);

	rp_jw_key(w, "speedup_vs_sync");
	jw_real_or_null(w, run->speedup_ok, run->speedup_vs_sync);
	rp_jw_key(w, "ideal_fraction");
	jw_real_or_null(w, run->ideal_ok, run->ideal_fraction);
	rp_jw_key(w, "ideal_wall_ns");
	jw_u64_or_null(w, run->ideal_ok, run->ideal_wall_ns);
	rp_jw_key(w, "ideal_speedup");
	jw_real_or_null(w, run->ideal_ok, run->ideal_speedup);
	rp_jw_key(w, "ideal_cpu_ns");
	jw_u64_or_null(w, run->ideal_ok, run->ideal_cpu_ns);
	rp_jw_key(w, "ideal_device_ns");
	jw_u64_or_null(w, dev, run->ideal_dev_ns);
	rp_jw_key(w, "ideal_device_bytes");
	jw_u64_or_null(w, dev, run->ideal_dev_bytes);
	rp_jw_key(w, "ideal_device_rate");
	jw_real_or_null(w, dev, run->ideal_dev_rate);

	rp_jw_key(w, "stacks");
	rp_jw_obj(w, true);
	rp_jw_key(w, "sample_hz");
	rp_jw_u64(w, run->sample_hz);
	rp_jw_key(w, "oncpu");
	jw_stackset(w, &run->oncpu);
	rp_jw_key(w, "offcpu");
	jw_stackset(w, &run->offcpu);
	rp_jw_obj_end(w);

	rp_jw_key(w, "headline");
	rp_jw_str(w, run->headline[0] ? run->headline : NULL);
	rp_jw_key(w, "verdict");
	rp_jw_arr(w, false);
	for (size_t i = 0; i < run->nverdict && i < AN_MAX_VERDICT; i++) {
		rp_jw_obj(w, true);
		rp_jw_key(w, "rule");
		rp_jw_str(w, run->verdict[i].rule);
		rp_jw_key(w, "text");
		rp_jw_str(w, run->verdict[i].text);
		rp_jw_obj_end(w);
	}
	rp_jw_arr_end(w);
	rp_jw_obj_end(w);
}

int rp_summary_json(FILE *f, const struct an_report *r)
{
	struct rp_jw w;

	rp_jw_init(&w, f);
	rp_jw_obj(&w, false);
	rp_jw_key(&w, "schema");
	rp_jw_str(&w, SCHEMA);
	rp_jw_key(&w, "iotrace");
	rp_jw_obj(&w, true);
	rp_jw_key(&w, "version");
	rp_jw_str(&w, r->version);
	rp_jw_obj_end(&w);
	rp_jw_key(&w, "machine");
	rp_jw_obj(&w, true);
	rp_jw_key(&w, "ncpu");
	rp_jw_u64(&w, r->ncpu);
	rp_jw_key(&w, "kernel");
	rp_jw_str(&w, r->kernel);
	rp_jw_obj_end(&w);
	rp_jw_key(&w, "workload");
	rp_jw_str(&w, r->workload);
	rp_jw_key(&w, "command");
	if (r->command) {
		rp_jw_arr(&w, true);
		for (char **a = r->command; *a; a++)
			rp_jw_str(&w, *a);
		rp_jw_arr_end(&w);
	} else {
		rp_jw_null(&w);
	}
	rp_jw_key(&w, "throttle_bps");
	jw_u64_or_null(&w, r->throttle_bps > 0, r->throttle_bps);
	rp_jw_key(&w, "device_rate_best");
	jw_real_or_null(&w, r->device_rate_best_ok, r->device_rate_best);
	rp_jw_key(&w, "answer");
	rp_jw_str(&w, r->answer[0] ? r->answer : NULL);
	rp_jw_key(&w, "runs");
	rp_jw_arr(&w, false);
	for (size_t i = 0; i < r->nruns; i++)
		jw_run(&w, &r->runs[i]);
	rp_jw_arr_end(&w);
	rp_jw_obj_end(&w);
	return rp_jw_finish(&w);
}

/* ---- loader ---- */

/*
 * Hand-edited or truncated files must give a message that names the file, the field
 * (as a path like runs[2].states_ns.io_wait) and what is wrong, and never crash: every
 * value is type-checked before use, strings are length-checked against their buffers.
 */
struct ld {
	const char *file;
	char *err;
	size_t errlen;
};

static int ld_fail(struct ld *l, int ret, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int ld_fail(struct ld *l, int ret, const char *field, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (field && *field)
		snprintf(l->err, l->errlen, "%s: %s: %s", l->file, field, msg);
	else
		snprintf(l->err, l->errlen, "%s: %s", l->file, msg);
	return ret;
}

static const char *jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "a whole number";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* "runs[2]" + "." + "wall_ns" */
static void fpath(char *out, size_t len, const char *base, const char *key)
{
	if (base && *base)
		snprintf(out, len, "%s.%s", base, key);
	else
		snprintf(out, len, "%s", key);
}

/* Member key of obj: required (missing is an error) or optional (*v = NULL). */
static int ld_get(struct ld *l, const json_t *obj, const char *base, const char *key, bool required,
		  json_t **v)
{
	char p[160];

	*v = json_object_get(obj, key);
	if (!*v && required) {
		fpath(p, sizeof(p), base, key);
		return ld_fail(l, -EINVAL, p, "missing required field");
	}
	return 0;
}

/* Whole number 0..INT64_MAX; null accepted when ok != NULL (then *ok says which). */
static int ld_u64(struct ld *l, const json_t *obj, const char *base, const char *key, bool required,
		  uint64_t *out, bool *ok)
{
	char p[160];
	json_t *v;
	int ret = ld_get(l, obj, base, key, required, &v);

	if (ret || !v)
		return ret;
	fpath(p, sizeof(p), base, key);
	if (ok && json_is_null(v)) {
		*ok = false;
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v))
		return ld_fail(l, -EINVAL, p, "expected a whole number%s, found %s",
			       ok ? " or null" : "", jtype(v));
	if (json_integer_value(v) < 0)
		return ld_fail(l, -EINVAL, p, "expected a whole number >= 0, found %lld",
			       (long long)json_integer_value(v));
	*out = (uint64_t)json_integer_value(v);
	if (ok)
		*ok = true;
	return 0;
}

/* Same, into an unsigned int (pids, CPU counts). */
static int ld_uint(struct ld *l, const json_t *obj, const char *base, const char *key,
		   bool required, unsigned *out, unsigned max)
{
	char p[160];
	uint64_t v = 0;
	int ret = ld_u64(l, obj, base, key, required, &v, NULL);

	if (ret)
		return ret;
	if (v > max) {
		fpath(p, sizeof(p), base, key);
		return ld_fail(l, -EINVAL, p, "%" PRIu64 " is out of range (at most %u)", v, max);
	}
	*out = (unsigned)v;
	return 0;
}

/*
 * A real in [lo, hi]; whole numbers are reals too. null: accepted when ok != NULL; when
 * ok == NULL it reads as NaN, which the writer prints as null again (a figure without an
 * ok flag that the model could not compute).
 */
static int ld_real(struct ld *l, const json_t *obj, const char *base, const char *key,
		   bool required, double *out, bool *ok, double lo, double hi)
{
	char p[160];
	json_t *v;
	double d;
	int ret = ld_get(l, obj, base, key, required, &v);

	if (ret || !v)
		return ret;
	fpath(p, sizeof(p), base, key);
	if (json_is_null(v)) {
		if (ok)
			*ok = false;
		*out = ok ? 0 : NAN;
		return 0;
	}
	if (!json_is_number(v))
		return ld_fail(l, -EINVAL, p, "expected a number%s, found %s", ok ? " or null" : "",
			       jtype(v));
	d = json_number_value(v);
	if (!(d >= lo && d <= hi))
		return ld_fail(l, -EINVAL, p, "%g is out of range (%g to %g)", d, lo, hi);
	*out = d;
	if (ok)
		*ok = true;
	return 0;
}

/*
 * Copy a JSON string into buf. Each U+FFFD becomes one 0xff byte: the writer prints
 * every invalid byte as \ufffd, so this keeps a round trip byte-identical and a kernel
 * comm within its 16 bytes. null reads as "" when nullable.
 */
static int ld_strcpy(struct ld *l, const char *p, const json_t *v, char *buf, size_t len,
		     bool nullable)
{
	const char *s;
	size_t n, o = 0;

	if (nullable && json_is_null(v)) {
		buf[0] = 0;
		return 0;
	}
	if (!json_is_string(v))
		return ld_fail(l, -EINVAL, p, "expected a string%s, found %s",
			       nullable ? " or null" : "", jtype(v));
	s = json_string_value(v);
	n = json_string_length(v);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 1 >= len)
			return ld_fail(l, -EINVAL, p, "too long (at most %zu bytes)", len - 1);
		if (c == 0xef && i + 2 < n && (unsigned char)s[i + 1] == 0xbf &&
		    (unsigned char)s[i + 2] == 0xbd) {
			buf[o++] = (char)0xff;
			i += 2;
			continue;
		}
		buf[o++] = (char)c;
	}
	buf[o] = 0;
	return 0;
}

static int ld_str(struct ld *l, const json_t *obj, const char *base, const char *key, bool required,
		  char *buf, size_t len, bool nullable)
{
	char p[160];
	json_t *v;
	int ret = ld_get(l, obj, base, key, required, &v);

	if (ret)
		return ret;
	if (!v) {
		buf[0] = 0;
		return 0;
	}
	fpath(p, sizeof(p), base, key);
	return ld_strcpy(l, p, v, buf, len, nullable);
}

static int ld_obj(struct ld *l, const json_t *obj, const char *base, const char *key, bool required,
		  json_t **out)
{
	char p[160];
	int ret = ld_get(l, obj, base, key, required, out);

	if (ret || !*out)
		return ret;
	if (!json_is_object(*out)) {
		fpath(p, sizeof(p), base, key);
		return ld_fail(l, -EINVAL, p, "expected an object, found %s", jtype(*out));
	}
	return 0;
}

/* An optional object that may also be null: *out is NULL for both. */
static int ld_obj_or_null(struct ld *l, const json_t *obj, const char *base, const char *key,
			  json_t **out)
{
	*out = json_object_get(obj, key);
	if (*out && json_is_null(*out)) {
		*out = NULL;
		return 0;
	}
	return ld_obj(l, obj, base, key, false, out);
}

static int ld_arr(struct ld *l, const json_t *obj, const char *base, const char *key, bool required,
		  json_t **out)
{
	char p[160];
	int ret = ld_get(l, obj, base, key, required, out);

	if (ret || !*out)
		return ret;
	if (!json_is_array(*out)) {
		fpath(p, sizeof(p), base, key);
		return ld_fail(l, -EINVAL, p, "expected an array, found %s", jtype(*out));
	}
	return 0;
}

static int ld_states(struct ld *l, const json_t *obj, const char *base, uint64_t *ns)
{
	char p[160];
	json_t *o;
	int ret = ld_obj(l, obj, base, "states_ns", true, &o);

	if (ret)
		return ret;
	fpath(p, sizeof(p), base, "states_ns");
	for (int i = 0; i < TL_NSTATES; i++) {
		ret = ld_u64(l, o, p, tl_state_name((enum tl_state)i), true, &ns[i], NULL);
		if (ret)
			return ret;
	}
	return 0;
}

static int ld_stackset(struct ld *l, const json_t *obj, const char *base, const char *key,
		       struct an_stackset *s)
{
	char p[160];
	json_t *o;
	int ret = ld_obj(l, obj, base, key, false, &o);

	if (ret || !o)
		return ret;
	fpath(p, sizeof(p), base, key);
	ret = ld_u64(l, o, p, "total", false, &s->total, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "errors", false, &s->errors, NULL);
	if (!ret)
		ret = ld_str(l, o, p, "unavailable", false, s->unavailable, sizeof(s->unavailable),
			     true);
	return ret;
}

/* "rusage": {"utime_ns", "stime_ns", "setup_ns", "exit_ns"} or null; optional (files from
 * before it existed), as are setup_ns and exit_ns within it (null: unknown). */
static int ld_rusage(struct ld *l, const json_t *obj, const char *base, struct an_run *run)
{
	char p[160];
	json_t *v;
	int ret = ld_obj_or_null(l, obj, base, "rusage", &v);

	run->rusage_ok = false;
	run->rusage_setup_ok = false;
	run->rusage_exit_ok = false;
	if (ret || !v)
		return ret;
	fpath(p, sizeof(p), base, "rusage");
	ret = ld_u64(l, v, p, "utime_ns", true, &run->rusage_utime_ns, NULL);
	if (!ret)
		ret = ld_u64(l, v, p, "stime_ns", true, &run->rusage_stime_ns, NULL);
	if (!ret)
		ret = ld_u64(l, v, p, "setup_ns", false, &run->rusage_setup_ns,
			     &run->rusage_setup_ok);
	if (!ret)
		ret = ld_u64(l, v, p, "exit_ns", false, &run->rusage_exit_ns,
			     &run->rusage_exit_ok);
	run->rusage_ok = !ret;
	return ret;
}

/* "machine_cpu": {"busy_ns", "idle_ns", "steal_ns"} or null; optional. */
static int ld_machine(struct ld *l, const json_t *obj, const char *base, struct an_run *run)
{
	char p[160];
	json_t *v;
	int ret = ld_obj_or_null(l, obj, base, "machine_cpu", &v);

	run->machine_ok = false;
	if (ret || !v)
		return ret;
	fpath(p, sizeof(p), base, "machine_cpu");
	ret = ld_u64(l, v, p, "busy_ns", true, &run->machine_busy_ns, NULL);
	if (!ret)
		ret = ld_u64(l, v, p, "idle_ns", true, &run->machine_idle_ns, NULL);
	if (!ret)
		ret = ld_u64(l, v, p, "steal_ns", true, &run->machine_steal_ns, NULL);
	if (!ret)
		ret = ld_u64(l, v, p, "iotrace_ns", false, &run->machine_iotrace_ns, NULL);
	run->machine_ok = !ret;
	return ret;
}

static int ld_thread(struct ld *l, const json_t *o, const char *p, struct an_thread *t)
{
	unsigned v;
	int ret;

	if (!json_is_object(o))
		return ld_fail(l, -EINVAL, p, "expected an object, found %s", jtype(o));
	ret = ld_uint(l, o, p, "pid", true, &v, UINT32_MAX);
	if (ret)
		return ret;
	t->pid = v;
	ret = ld_uint(l, o, p, "tid", true, &v, UINT32_MAX);
	if (ret)
		return ret;
	t->tid = v;
	ret = ld_str(l, o, p, "comm", true, t->comm, sizeof(t->comm), false);
	if (!ret)
		ret = ld_str(l, o, p, "role", true, t->role, sizeof(t->role), false);
	if (!ret)
		ret = ld_u64(l, o, p, "lifetime_ns", true, &t->lifetime_ns, NULL);
	if (!ret)
		ret = ld_states(l, o, p, t->states_ns);
	if (!ret)
		ret = ld_u64(l, o, p, "stolen_ns", false, &t->stolen_ns, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "reads", false, &t->reads, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "bytes_read", false, &t->bytes_read, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "ctx_switches", false, &t->ctx_switches, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "gap_ns", false, &t->gap_ns, NULL);
	return ret;
}

/* An array of 1..AN_MAX_CPUS+1 numbers (reals in 0..1, or whole numbers). Its length. */
static int ld_hist(struct ld *l, const json_t *o, const char *p, const char *key, bool required,
		   double *shares, uint64_t *ns, size_t *len)
{
	char q[160];
	json_t *a;
	int ret = ld_arr(l, o, p, key, required, &a);

	*len = 0;
	if (ret || !a)
		return ret;
	fpath(q, sizeof(q), p, key);
	if (json_array_size(a) < 1 || json_array_size(a) > AN_MAX_CPUS + 1)
		return ld_fail(l, -EINVAL, q,
			       "expected 1 to %d entries (one per CPU count 0..ncpu), found %zu",
			       AN_MAX_CPUS + 1, json_array_size(a));
	for (size_t k = 0; k < json_array_size(a); k++) {
		json_t *e = json_array_get(a, k);

		snprintf(q, sizeof(q), "%s.%s[%zu]", p, key, k);
		if (ns) {
			if (!json_is_integer(e) || json_integer_value(e) < 0)
				return ld_fail(l, -EINVAL, q,
					       "expected a whole number >= 0, found %s", jtype(e));
			ns[k] = (uint64_t)json_integer_value(e);
			continue;
		}
		if (!json_is_number(e))
			return ld_fail(l, -EINVAL, q, "expected a number, found %s", jtype(e));
		shares[k] = json_number_value(e);
		if (!(shares[k] >= 0 && shares[k] <= 1))
			return ld_fail(l, -EINVAL, q, "%g is out of range (0 to 1)", shares[k]);
	}
	*len = json_array_size(a);
	return 0;
}

static int ld_run(struct ld *l, const json_t *o, const char *p, struct an_run *run)
{
	struct an_counters *c = &run->c;
	json_t *a, *u, *st, *es, *busy;
	size_t nconc, nconc_ns;
	char q[160];
	bool ok;
	int ret;

	if (!json_is_object(o))
		return ld_fail(l, -EINVAL, p, "expected an object, found %s", jtype(o));
	ret = ld_str(l, o, p, "label", true, run->label, sizeof(run->label), false);
	if (ret)
		return ret;
	if (!run->label[0]) {
		fpath(q, sizeof(q), p, "label");
		return ld_fail(l, -EINVAL, q, "empty; every run needs a label");
	}
	ret = ld_str(l, o, p, "strategy", true, run->strategy, sizeof(run->strategy), false);
	if (!ret)
		ret = ld_str(l, o, p, "cache", true, run->cache, sizeof(run->cache), true);
	if (!ret)
		ret = ld_get(l, o, p, "exit_status", true, &es);
	if (ret)
		return ret;
	if (!json_is_integer(es) || json_integer_value(es) < INT_MIN ||
	    json_integer_value(es) > INT_MAX) {
		fpath(q, sizeof(q), p, "exit_status");
		return ld_fail(l, -EINVAL, q, "expected a whole number, found %s", jtype(es));
	}
	run->exit_status = (int)json_integer_value(es);
	/* optional: summaries written before it was added are of runs nobody stopped */
	ret = ld_get(l, o, p, "interrupted", false, &es);
	if (ret)
		return ret;
	if (es && !json_is_boolean(es)) {
		fpath(q, sizeof(q), p, "interrupted");
		return ld_fail(l, -EINVAL, q, "expected true or false, found %s", jtype(es));
	}
	run->interrupted = es && json_is_true(es);
	ret = ld_u64(l, o, p, "wall_ns", true, &run->wall_ns, NULL);
	if (!ret)
		ret = ld_rusage(l, o, p, run);
	if (!ret)
		ret = ld_machine(l, o, p, run);
	if (!ret)
		ret = ld_states(l, o, p, run->states_ns);
	run->stolen_ok = false; /* absent in files from before it */
	if (!ret)
		ret = ld_u64(l, o, p, "stolen_ns", false, &run->stolen_ns, &run->stolen_ok);
	if (!ret)
		ret = ld_arr(l, o, p, "threads", true, &a);
	if (ret)
		return ret;
	if (json_array_size(a)) {
		run->threads = calloc(json_array_size(a), sizeof(*run->threads));
		if (!run->threads)
			return ld_fail(l, -ENOMEM, p, "out of memory");
	}
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(q, sizeof(q), "%s.threads[%zu]", p, i);
		ret = ld_thread(l, json_array_get(a, i), q, &run->threads[i]);
		if (ret)
			return ret;
		run->nthreads = i + 1;
	}

	ret = ld_u64(l, o, p, "blocked_ns", true, &run->blocked_ns, NULL);
	if (!ret)
		ret = ld_get(l, o, p, "blocked_busy_ns", false, &busy);
	if (!ret)
		ret = ld_u64(l, o, p, "blocked_busy_ns", false, &run->blocked_busy_ns, NULL);
	if (!ret)
		ret = ld_real(l, o, p, "cpu_overlap", true, &run->cpu_overlap, &run->cpu_overlap_ok,
			      0, 1);
	if (!ret)
		ret = ld_u64(l, o, p, "io_ns", true, &run->io_ns, NULL);
	if (!ret)
		ret = ld_real(l, o, p, "hidden_io", true, &run->hidden_io, &run->hidden_io_ok, 0,
			      1);
	if (!ret)
		ret = ld_u64(l, o, p, "exposed_io_ns", true, &run->exposed_io_ns, NULL);
	if (!ret)
		ret = ld_real(l, o, p, "parallelism", true, &run->parallelism, NULL, 0, HUGE_VAL);
	if (!ret)
		ret = ld_hist(l, o, p, "concurrency", true, run->concurrency, NULL, &nconc);
	if (!ret)
		ret = ld_hist(l, o, p, "concurrency_ns", false, NULL, run->concurrency_ns,
			      &nconc_ns);
	if (ret)
		return ret;
	run->ncpu = (unsigned)nconc - 1;
	if (nconc_ns && nconc_ns != nconc) {
		fpath(q, sizeof(q), p, "concurrency_ns");
		return ld_fail(l, -EINVAL, q, "%zu entries but concurrency has %zu", nconc_ns,
			       nconc);
	}
	ret = ld_real(l, o, p, "runnable_share", false, &run->runnable_share,
		      &run->runnable_share_ok, 0, 1);
	if (!ret)
		ret = ld_real(l, o, p, "read_oncpu_share", false, &run->read_oncpu_share,
			      &run->read_oncpu_share_ok, 0, 1);
	if (!ret)
		ret = ld_u64(l, o, p, "switches", false, &run->switches, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "reads", true, &c->reads, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "bytes_read", true, &c->bytes_read, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "page_cache_insert_bytes", true, &c->pcache_insert_bytes,
			     &c->pcache_ok);
	if (!ret)
		ret =
		    ld_real(l, o, p, "hit_ratio", true, &run->hit_ratio, &run->hit_ratio_ok, 0, 1);
	run->resident_before = -1;
	ok = false;
	if (!ret)
		ret = ld_real(l, o, p, "resident_before", false, &run->resident_before, &ok, 0, 1);
	if (!ret && !ok)
		run->resident_before = -1;
	if (!ret)
		ret = ld_u64(l, o, p, "block_bytes", true, &c->block_bytes, &c->block_ok);
	if (!ret)
		ret = ld_u64(l, o, p, "block_busy_ns", true, &c->block_busy_ns, &ok);
	if (!ret)
		ret = ld_u64(l, o, p, "block_reqs", false, &c->block_reqs, &ok);
	if (!ret)
		ret = ld_real(l, o, p, "device_rate", false, &run->device_rate,
			      &run->device_rate_ok, 0, HUGE_VAL);
	if (!ret)
		ret = ld_obj(l, o, p, "uring", true, &u);
	if (ret)
		return ret;
	fpath(q, sizeof(q), p, "uring");
	ret = ld_u64(l, u, q, "submitted", true, &c->uring_submitted, &c->uring_ok);
	if (!ret)
		ret = ld_u64(l, u, q, "completed", true, &c->uring_completed, &ok);
	if (!ret)
		ret = ld_u64(l, u, q, "inline", false, &c->uring_inline, &ok);
	if (!ret)
		ret = ld_u64(l, u, q, "punted", false, &c->uring_punted, &ok);
	if (!ret)
		ret = ld_u64(l, o, p, "ctx_switches", false, &c->ctx_switches, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "lost_events", true, &c->lost_events, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "lost_ns", false, &c->lost_ns, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "gaps_ns", false, &run->gaps_ns, NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "spans_exact_from_ns", false, &run->spans_exact_from_ns,
			     NULL);
	if (!ret)
		ret = ld_u64(l, o, p, "spans_resolution_ns", false, &run->spans_resolution_ns,
			     NULL);
	if (!ret)
		ret = ld_real(l, o, p, "speedup_vs_sync", true, &run->speedup_vs_sync,
			      &run->speedup_ok, 0, HUGE_VAL);
	if (!ret)
		ret = ld_real(l, o, p, "ideal_fraction", true, &run->ideal_fraction, &run->ideal_ok,
			      0, HUGE_VAL);
	if (!ret)
		ret = ld_u64(l, o, p, "ideal_wall_ns", false, &run->ideal_wall_ns, &ok);
	if (!ret)
		ret = ld_real(l, o, p, "ideal_speedup", false, &run->ideal_speedup, &ok, 0,
			      HUGE_VAL);
	if (!ret)
		ret = ld_u64(l, o, p, "ideal_cpu_ns", false, &run->ideal_cpu_ns, &ok);
	if (!ret)
		ret = ld_u64(l, o, p, "ideal_device_ns", false, &run->ideal_dev_ns,
			     &run->ideal_dev_ok);
	if (!ret)
		ret = ld_u64(l, o, p, "ideal_device_bytes", false, &run->ideal_dev_bytes, &ok);
	if (!ret)
		ret = ld_real(l, o, p, "ideal_device_rate", false, &run->ideal_dev_rate, &ok, 0,
			      HUGE_VAL);
	if (!ret)
		ret = ld_obj(l, o, p, "stacks", false, &st);
	if (ret)
		return ret;
	if (st) {
		fpath(q, sizeof(q), p, "stacks");
		ret = ld_uint(l, st, q, "sample_hz", false, &run->sample_hz, 1000000);
		if (!ret)
			ret = ld_stackset(l, st, q, "oncpu", &run->oncpu);
		if (!ret)
			ret = ld_stackset(l, st, q, "offcpu", &run->offcpu);
		if (ret)
			return ret;
	}
	ret = ld_str(l, o, p, "headline", false, run->headline, sizeof(run->headline), true);
	if (!ret)
		ret = ld_arr(l, o, p, "verdict", true, &a);
	if (ret)
		return ret;
	if (json_array_size(a) > AN_MAX_VERDICT) {
		fpath(q, sizeof(q), p, "verdict");
		return ld_fail(l, -EINVAL, q, "%zu entries; at most %d", json_array_size(a),
			       AN_MAX_VERDICT);
	}
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);

		snprintf(q, sizeof(q), "%s.verdict[%zu]", p, i);
		if (!json_is_object(e))
			return ld_fail(l, -EINVAL, q, "expected an object, found %s", jtype(e));
		ret = ld_str(l, e, q, "rule", true, run->verdict[i].rule,
			     sizeof(run->verdict[i].rule), false);
		if (!ret)
			ret = ld_str(l, e, q, "text", true, run->verdict[i].text,
				     sizeof(run->verdict[i].text), false);
		if (ret)
			return ret;
		run->nverdict = i + 1;
	}
	/*
	 * With the integers the ratios come from, let the model derive them again: the
	 * figures are then exactly those of the original run (not their 6-decimal print),
	 * in summary.json and in every view. A file without them keeps its printed ratios.
	 */
	if (busy && nconc_ns)
		an_run_derive(run);
	return 0;
}

static int ld_schema(struct ld *l, const json_t *root)
{
	const char *s, *num;
	char *end;
	unsigned long n;
	json_t *v;

	v = json_object_get(root, "schema");
	if (!v)
		return ld_fail(l, -EINVAL, NULL,
			       "not an iotrace summary (no \"schema\" field; expected \"%s\")",
			       SCHEMA);
	if (!json_is_string(v))
		return ld_fail(l, -EINVAL, "schema", "expected a string, found %s", jtype(v));
	s = json_string_value(v);
	if (strncmp(s, SCHEMA_PREFIX, strlen(SCHEMA_PREFIX)))
		return ld_fail(l, -EINVAL, "schema", "unknown schema '%.64s' (expected \"%s\")", s,
			       SCHEMA);
	num = s + strlen(SCHEMA_PREFIX);
	errno = 0;
	n = strtoul(num, &end, 10);
	if (end == num || *end || *num == '-' || *num == '+' || errno)
		return ld_fail(l, -EINVAL, "schema", "unknown schema '%.64s' (expected \"%s\")", s,
			       SCHEMA);
	if (n > SCHEMA_VERSION)
		return ld_fail(l, -EPROTONOSUPPORT, NULL,
			       "%.64s: written by a newer iotrace; upgrade iotrace to read it "
			       "(this one reads %s)",
			       s, SCHEMA);
	if (n < SCHEMA_VERSION)
		return ld_fail(l, -EINVAL, "schema", "unknown schema '%.64s' (expected \"%s\")", s,
			       SCHEMA);
	return 0;
}

static int ld_report(struct ld *l, const json_t *root, struct an_report *r)
{
	json_t *o, *a;
	char q[64];
	bool ok;
	int ret;

	if (!json_is_object(root))
		return ld_fail(l, -EINVAL, NULL, "expected a JSON object at the top, found %s",
			       jtype(root));
	ret = ld_schema(l, root);
	if (ret)
		return ret;
	ret = ld_obj(l, root, NULL, "iotrace", false, &o);
	if (!ret && o)
		ret = ld_str(l, o, "iotrace", "version", false, r->version, sizeof(r->version),
			     false);
	if (!ret)
		ret = ld_obj(l, root, NULL, "machine", true, &o);
	if (!ret)
		ret = ld_uint(l, o, "machine", "ncpu", true, &r->ncpu, 65536);
	if (!ret)
		ret = ld_str(l, o, "machine", "kernel", false, r->kernel, sizeof(r->kernel),
			     false);
	if (!ret)
		ret = ld_str(l, root, NULL, "workload", true, r->workload, sizeof(r->workload),
			     false);
	if (!ret)
		ret = ld_u64(l, root, NULL, "throttle_bps", false, &r->throttle_bps, &ok);
	if (!ret)
		ret = ld_real(l, root, NULL, "device_rate_best", false, &r->device_rate_best,
			      &r->device_rate_best_ok, 0, HUGE_VAL);
	if (!ret)
		ret = ld_str(l, root, NULL, "answer", false, r->answer, sizeof(r->answer), true);
	if (!ret)
		ret = ld_get(l, root, NULL, "command", false, &a);
	if (ret)
		return ret;
	if (a && !json_is_null(a)) {
		if (!json_is_array(a))
			return ld_fail(l, -EINVAL, "command", "expected an array or null, found %s",
				       jtype(a));
		r->command = calloc(json_array_size(a) + 1, sizeof(char *));
		if (!r->command)
			return ld_fail(l, -ENOMEM, NULL, "out of memory");
		for (size_t i = 0; i < json_array_size(a); i++) {
			json_t *e = json_array_get(a, i);

			snprintf(q, sizeof(q), "command[%zu]", i);
			if (!json_is_string(e))
				return ld_fail(l, -EINVAL, q, "expected a string, found %s",
					       jtype(e));
			/* a NUL inside would cut the argument: jansson refuses \u0000 */
			r->command[i] = strdup(json_string_value(e));
			if (!r->command[i])
				return ld_fail(l, -ENOMEM, NULL, "out of memory");
		}
	}

	ret = ld_arr(l, root, NULL, "runs", true, &a);
	if (ret)
		return ret;
	if (json_array_size(a) == 0)
		return ld_fail(l, -EINVAL, "runs", "empty; a summary holds at least one run");
	r->runs = calloc(json_array_size(a), sizeof(*r->runs));
	if (!r->runs)
		return ld_fail(l, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(q, sizeof(q), "runs[%zu]", i);
		r->nruns = i + 1; /* counted before filling: a failure frees a partial run */
		ret = ld_run(l, json_array_get(a, i), q, &r->runs[i]);
		if (ret)
			return ret;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->runs[j].label, r->runs[i].label))
				return ld_fail(l, -EINVAL, q,
					       "label '%s' is used twice (also runs[%zu])",
					       r->runs[i].label, j);
	}
	return 0;
}

int rp_summary_load(const char *path, struct an_report *r, char *err, size_t errlen)
{
	struct ld l = {.file = path, .err = err, .errlen = errlen};
	json_error_t je;
	json_t *root;
	struct stat st;
	FILE *f;
	int ret;

	memset(r, 0, sizeof(*r));
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		if (ret == -ENOENT)
			return ld_fail(&l, ret, NULL, "no such file");
		return ld_fail(&l, ret, NULL, "failed to open: %s", strerror(-ret));
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return ld_fail(&l, -EINVAL, NULL, "not a regular file");
	}
	if (st.st_size > (off_t)MAX_SUMMARY_BYTES) {
		fclose(f);
		return ld_fail(&l, -EFBIG, NULL, "%lld bytes; larger than any summary iotrace "
			       "writes (at most %u MiB)", (long long)st.st_size,
			       MAX_SUMMARY_BYTES >> 20);
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		/* compiler-style file:line:column, the place an editor jumps to */
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column,
			 je.text);
		return -EINVAL;
	}
	ret = ld_report(&l, root, r);
	json_decref(root);
	return ret;
}
