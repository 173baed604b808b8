/* load_summary.c - summary.json read back into the model, by the field tables of summary_fields.h. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rp_json.h"
#include "summary_fields.h"

#define MAX_SUMMARY_BYTES (256u << 20) /* a hand-made giant is refused, not slurped */

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

/* Member key of obj, refused unless is(*v) holds ("expected <what>, found ..."). */
static int ld_typed(struct ld *l, const json_t *obj, const char *base, const char *key,
		    bool required, json_t **v, bool (*is)(const json_t *), const char *what)
{
	char p[160];
	int ret = ld_get(l, obj, base, key, required, v);

	if (ret || !*v || is(*v))
		return ret;
	fpath(p, sizeof(p), base, key);
	return ld_fail(l, -EINVAL, p, "expected %s, found %s", what, jtype(*v));
}

static bool is_object(const json_t *v)
{
	return json_is_object(v);
}

static bool is_array(const json_t *v)
{
	return json_is_array(v);
}

static bool is_bool(const json_t *v)
{
	return json_is_boolean(v);
}

static bool is_int(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= INT_MIN &&
	       json_integer_value(v) <= INT_MAX;
}

static int ld_obj(struct ld *l, const json_t *obj, const char *base, const char *key, bool required,
		  json_t **out)
{
	return ld_typed(l, obj, base, key, required, out, is_object, "an object");
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
	return ld_typed(l, obj, base, key, required, out, is_array, "an array");
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

/*
 * The optional object key of obj, which may be null: ld_NAME reads its fields into x and
 * *ok says whether it was there and whole.
 */
typedef int (*ld_fields_fn)(struct ld *l, const json_t *o, const char *p, void *x);

static int ld_sub(struct ld *l, const json_t *obj, const char *base, const char *key,
		  bool required, bool nullable, ld_fields_fn fn, void *x, bool *ok)
{
	char p[160];
	json_t *v;
	int ret = nullable ? ld_obj_or_null(l, obj, base, key, &v)
			   : ld_obj(l, obj, base, key, required, &v);

	if (ok)
		*ok = false;
	if (ret || !v)
		return ret;
	fpath(p, sizeof(p), base, key);
	ret = fn(l, v, p, x);
	if (ok)
		*ok = !ret;
	return ret;
}

/*
 * One row of a field table, read: the key from the JSON object o (at path p) into x, each
 * row only while the ones before succeeded (ret). LD_TABLE makes ld_NAME(l, o, p, x).
 */
#define REQ true
#define OPT false
#define LD_STR(key, m, load) LD_DO(ld_str(l, o, p, key, load, x->m, sizeof(x->m), false))
#define LD_STRN(key, m, load) LD_DO(ld_str(l, o, p, key, load, x->m, sizeof(x->m), true))
#define LD_U64(key, m, load) LD_DO(ld_u64(l, o, p, key, load, &x->m, NULL))
#define LD_UINT(key, m, load, max) LD_DO(ld_uint(l, o, p, key, load, &x->m, max))
#define LD_INT(key, m, load)                                                                 \
	LD_TYPED(key, load, is_int, "a whole number", x->m = (int)json_integer_value(v))
/* absent leaves the member alone: false in a zeroed model */
#define LD_BOOL(key, m, load) LD_TYPED(key, load, is_bool, "true or false", x->m = json_is_true(v))
#define LD_TYPED(key, load, is, what, take)                                                  \
	LD_DO(ld_typed(l, o, p, key, load, &v, is, what))                                    \
	if (!ret && v)                                                                       \
		take;
#define LD_U64N(key, m, load, ok) LD_DO(ld_u64(l, o, p, key, load, &x->m, &x->ok))
#define LD_U64IF(key, m, load, cond) LD_DO(ld_u64(l, o, p, key, load, &x->m, &(bool){0}))
#define LD_REAL(key, m, load, lo, hi) LD_DO(ld_real(l, o, p, key, load, &x->m, NULL, lo, hi))
#define LD_REALN(key, m, load, ok, lo, hi)                                                   \
	LD_DO(ld_real(l, o, p, key, load, &x->m, &x->ok, lo, hi))
#define LD_REALIF(key, m, load, cond, lo, hi)                                                \
	LD_DO(ld_real(l, o, p, key, load, &x->m, &(bool){0}, lo, hi))
#define LD_OBJ(key, fields, load, sub)                                                       \
	LD_DO(ld_sub(l, o, p, key, load, false, ld_##fields##_v, sub, NULL))
#define LD_OBJN(key, fields, ok)                                                             \
	LD_DO(ld_sub(l, o, p, key, false, true, ld_##fields##_v, x, &x->ok))
#define LD_STATES(m) LD_DO(ld_states(l, o, p, x->m))
#define LD_CUSTOM(name) LD_DO(ld_##name(l, o, p, x))
#define LD_DO(call)                                                                          \
	if (!ret)                                                                            \
		ret = call;
#define LD_ROW(kind, ...) LD_##kind(__VA_ARGS__)
#define LD_TABLE(name, type, TABLE)                                                          \
	static int ld_##name(struct ld *l, const json_t *o, const char *p, type *x)         \
	{                                                                                    \
		json_t *v __attribute__((unused)) = NULL; /* LD_TYPED's */                  \
		int ret = 0;                                                                 \
                                                                                             \
		TABLE(LD_ROW)                                                                \
		return ret;                                                                  \
	}                                                                                    \
	static int __attribute__((unused)) ld_##name##_v(struct ld *l, const json_t *o,    \
							 const char *p, void *x)           \
	{                                                                                    \
		return ld_##name(l, o, p, x);                                                \
	}

SUMMARY_OBJECT_TABLES(LD_TABLE)

/* The array a of objects of table fn, into v (size bytes each, room for all); *n counts them. */
static int ld_objects(struct ld *l, const json_t *a, const char *p, const char *key,
		      ld_fields_fn fn, void *v, size_t size, size_t *n)
{
	char q[160];
	int ret;

	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);

		snprintf(q, sizeof(q), "%s.%s[%zu]", p, key, i);
		if (!json_is_object(e))
			return ld_fail(l, -EINVAL, q, "expected an object, found %s", jtype(e));
		ret = fn(l, e, q, (char *)v + i * size);
		if (ret)
			return ret;
		*n = i + 1;
	}
	return 0;
}

static int ld_threads(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	json_t *a;
	int ret = ld_arr(l, o, p, "threads", true, &a);

	if (ret)
		return ret;
	if (json_array_size(a)) {
		x->threads = calloc(json_array_size(a), sizeof(*x->threads));
		if (!x->threads)
			return ld_fail(l, -ENOMEM, p, "out of memory");
	}
	return ld_objects(l, a, p, "threads", ld_thread_v, x->threads, sizeof(*x->threads),
			  &x->nthreads);
}

/* Optional: files before it have none. */
static int ld_repeats(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	json_t *a = NULL;
	int ret = ld_arr(l, o, p, "repeats", false, &a);

	if (ret || !a || !json_array_size(a))
		return ret;
	x->repeats = calloc(json_array_size(a), sizeof(*x->repeats));
	if (!x->repeats)
		return ld_fail(l, -ENOMEM, p, "out of memory");
	return ld_objects(l, a, p, "repeats", ld_repeat_v, x->repeats, sizeof(*x->repeats),
			  &x->nrepeats);
}

/* Optional: files before it, and built-in workloads' runs, have none. */
static int ld_processes(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	json_t *a = NULL;
	int ret = ld_arr(l, o, p, "processes", false, &a);

	if (ret || !a)
		return ret;
	if (json_array_size(a)) {
		x->processes = calloc(json_array_size(a), sizeof(*x->processes));
		if (!x->processes)
			return ld_fail(l, -ENOMEM, p, "out of memory");
	}
	return ld_objects(l, a, p, "processes", ld_process_v, x->processes,
			  sizeof(*x->processes), &x->nprocesses);
}

/* Optional: files before it, and built-in workloads' runs, have none. */
static int ld_socket_peers(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	json_t *a = NULL;
	int ret = ld_arr(l, o, p, "socket_peers", false, &a);

	if (ret || !a)
		return ret;
	if (json_array_size(a)) {
		x->sockpeers = calloc(json_array_size(a), sizeof(*x->sockpeers));
		if (!x->sockpeers)
			return ld_fail(l, -ENOMEM, p, "out of memory");
	}
	return ld_objects(l, a, p, "socket_peers", ld_sockpeer_v, x->sockpeers,
			  sizeof(*x->sockpeers), &x->nsockpeers);
}

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


static int ld_concurrency(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	size_t n;
	int ret = ld_hist(l, o, p, "concurrency", true, x->concurrency, NULL, &n);

	if (!ret)
		x->ncpu = (unsigned)n - 1;
	return ret;
}

/* optional (files from before it), and as long as concurrency when there */
static int ld_concurrency_ns(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	char q[160];
	size_t n;
	int ret = ld_hist(l, o, p, "concurrency_ns", false, NULL, x->concurrency_ns, &n);

	if (ret || !n || n == (size_t)x->ncpu + 1)
		return ret;
	fpath(q, sizeof(q), p, "concurrency_ns");
	return ld_fail(l, -EINVAL, q, "%zu entries but concurrency has %u", n, x->ncpu + 1);
}

/* null or absent: unknown, which the model keeps as a negative share */
static int ld_resident_before(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	bool ok = false;
	int ret = ld_real(l, o, p, "resident_before", false, &x->resident_before, &ok, 0, 1);

	if (!ok)
		x->resident_before = -1;
	return ret;
}

static int ld_ideal_device_ns(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	return ld_u64(l, o, p, "ideal_device_ns", false, &x->ideal_dev_ns, &x->ideal_dev_ok);
}

/* An array of tids (waiters, wakers) into a distinct-tid list. */
static int ld_tids(struct ld *l, const json_t *o, const char *p, const char *key, uint32_t **v,
		   size_t *n, size_t *cap)
{
	char q[160];
	json_t *a;
	int ret = ld_arr(l, o, p, key, true, &a);

	if (ret)
		return ret;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);

		snprintf(q, sizeof(q), "%s.%s[%zu]", p, key, i);
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > UINT32_MAX)
			return ld_fail(l, -EINVAL, q, "expected a thread id, found %s", jtype(e));
		if (wt_lock_add_tid(v, n, cap, (uint32_t)json_integer_value(e)))
			return ld_fail(l, -ENOMEM, q, "out of memory");
	}
	return 0;
}

/* Optional: files before it have none. */
static int ld_locks(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	char q[160], buf[32], *end;
	json_t *a;
	int ret = ld_arr(l, o, p, "locks", false, &a);

	if (ret || !a)
		return ret;
	if (json_array_size(a)) {
		x->locks = calloc(json_array_size(a), sizeof(*x->locks));
		if (!x->locks)
			return ld_fail(l, -ENOMEM, p, "out of memory");
	}
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i), *v;
		struct wt_lock *k = &x->locks[i];
		uint64_t pid = 0;
		int kind;

		snprintf(q, sizeof(q), "%s.locks[%zu]", p, i);
		if (!json_is_object(e))
			return ld_fail(l, -EINVAL, q, "expected an object, found %s", jtype(e));
		x->nlocks = i + 1;
		ret = ld_u64(l, e, q, "pid", true, &pid, NULL);
		if (!ret && pid > UINT32_MAX)
			ret = ld_fail(l, -EINVAL, q, "pid out of range");
		k->pid = (uint32_t)pid;
		if (!ret)
			ret = ld_str(l, e, q, "addr", true, buf, sizeof(buf), false);
		if (!ret) {
			errno = 0;
			k->addr = strtoull(buf, &end, 16);
			if (strncmp(buf, "0x", 2) || *end || errno)
				ret = ld_fail(l, -EINVAL, q, "addr: expected \"0x\" and hex digits");
		}
		if (!ret)
			ret = ld_str(l, e, q, "where", true, k->where, sizeof(k->where), true);
		if (!ret)
			ret = ld_str(l, e, q, "kind", true, buf, sizeof(buf), false);
		if (!ret) {
			kind = wt_lock_kind_from_name(buf);
			if (kind < 0)
				ret = ld_fail(l, -EINVAL, q, "kind: unknown '%s'", buf);
			k->kind = kind < 0 ? TL_LK_OTHER : (enum tl_lock_kind)kind;
		}
		if (!ret)
			ret = ld_u64(l, e, q, "wait_ns", true, &k->wait_ns, NULL);
		if (!ret)
			ret = ld_u64(l, e, q, "waits", true, &k->waits, NULL);
		if (!ret)
			ret = ld_tids(l, e, q, "waiters", &k->waiters, &k->nwaiters, &k->capwaiters);
		if (!ret)
			ret = ld_tids(l, e, q, "wakers", &k->wakers, &k->nwakers, &k->capwakers);
		if (!ret && (v = json_object_get(e, "stack")) && !json_is_null(v)) {
			if (!json_is_string(v))
				ret = ld_fail(l, -EINVAL, q, "stack: expected a string or null");
			else if (!(k->stack = strdup(json_string_value(v))))
				ret = ld_fail(l, -ENOMEM, q, "out of memory");
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int ld_verdict(struct ld *l, const json_t *o, const char *p, struct an_run *x)
{
	char q[160];
	json_t *a;
	int ret = ld_arr(l, o, p, "verdict", true, &a);

	if (ret)
		return ret;
	if (json_array_size(a) > AN_MAX_VERDICT) {
		fpath(q, sizeof(q), p, "verdict");
		return ld_fail(l, -EINVAL, q, "%zu entries; at most %d", json_array_size(a),
			       AN_MAX_VERDICT);
	}
	return ld_objects(l, a, p, "verdict", ld_verdict_entry_v, x->verdict,
			  sizeof(x->verdict[0]), &x->nverdict);
}

LD_TABLE(run, struct an_run, SUMMARY_RUN_FIELDS)

static int ld_schema(struct ld *l, const json_t *root, const char *p, struct an_report *x)
{
	const char *s, *num;
	char *end;
	unsigned long n;
	json_t *v;

	(void)p;
	(void)x;

	v = json_object_get(root, "schema");
	if (!v)
		return ld_fail(l, -EINVAL, NULL,
			       "not an iotrace summary (no \"schema\" field; expected \"%s\")",
			       RP_SUMMARY_SCHEMA);
	if (!json_is_string(v))
		return ld_fail(l, -EINVAL, "schema", "expected a string, found %s", jtype(v));
	s = json_string_value(v);
	if (strncmp(s, RP_SUMMARY_SCHEMA_PREFIX, strlen(RP_SUMMARY_SCHEMA_PREFIX)))
		return ld_fail(l, -EINVAL, "schema", "unknown schema '%.64s' (expected \"%s\")", s,
			       RP_SUMMARY_SCHEMA);
	num = s + strlen(RP_SUMMARY_SCHEMA_PREFIX);
	errno = 0;
	n = strtoul(num, &end, 10);
	if (end == num || *end || *num == '-' || *num == '+' || errno)
		return ld_fail(l, -EINVAL, "schema", "unknown schema '%.64s' (expected \"%s\")", s,
			       RP_SUMMARY_SCHEMA);
	if (n > RP_SUMMARY_SCHEMA_VERSION)
		return ld_fail(l, -EPROTONOSUPPORT, NULL,
			       "%.64s: written by a newer iotrace; upgrade iotrace to read it "
			       "(this one reads %s)",
			       s, RP_SUMMARY_SCHEMA);
	if (n < RP_SUMMARY_SCHEMA_VERSION)
		return ld_fail(l, -EINVAL, "schema", "unknown schema '%.64s' (expected \"%s\")", s,
			       RP_SUMMARY_SCHEMA);
	return 0;
}

/* null, or the traced command's arguments */
static int ld_command(struct ld *l, const json_t *o, const char *p, struct an_report *x)
{
	char q[64];
	json_t *a;
	int ret = ld_get(l, o, p, "command", false, &a);

	if (ret || !a || json_is_null(a))
		return ret;
	if (!json_is_array(a))
		return ld_fail(l, -EINVAL, "command", "expected an array or null, found %s",
			       jtype(a));
	x->command = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!x->command)
		return ld_fail(l, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);

		snprintf(q, sizeof(q), "command[%zu]", i);
		if (!json_is_string(e))
			return ld_fail(l, -EINVAL, q, "expected a string, found %s", jtype(e));
		/* a NUL inside would cut the argument: jansson refuses \u0000 */
		x->command[i] = strdup(json_string_value(e));
		if (!x->command[i])
			return ld_fail(l, -ENOMEM, NULL, "out of memory");
	}
	return 0;
}

/* At least one run, each labelled, no label twice. */
static int ld_runs(struct ld *l, const json_t *o, const char *p, struct an_report *x)
{
	char q[64], lq[80];
	json_t *a;
	int ret = ld_arr(l, o, p, "runs", true, &a);

	if (ret)
		return ret;
	if (json_array_size(a) == 0)
		return ld_fail(l, -EINVAL, "runs", "empty; a summary holds at least one run");
	x->runs = calloc(json_array_size(a), sizeof(*x->runs));
	if (!x->runs)
		return ld_fail(l, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		struct an_run *run = &x->runs[i];

		snprintf(q, sizeof(q), "runs[%zu]", i);
		x->nruns = i + 1; /* counted before filling: a failure frees a partial run */
		if (!json_is_object(e))
			return ld_fail(l, -EINVAL, q, "expected an object, found %s", jtype(e));
		ret = ld_run(l, e, q, run);
		if (ret)
			return ret;
		if (!run->label[0]) {
			fpath(lq, sizeof(lq), q, "label");
			return ld_fail(l, -EINVAL, lq, "empty; every run needs a label");
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(x->runs[j].label, run->label))
				return ld_fail(l, -EINVAL, q,
					       "label '%s' is used twice (also runs[%zu])",
					       run->label, j);
		/*
		 * With the integers the ratios come from, let the model derive them again: the
		 * figures are then exactly those of the original run (not their 6-decimal
		 * print), in summary.json and in every view. A file without them keeps its
		 * printed ratios.
		 */
		/* the spread, from the repetitions (a file before them: the run alone) */
		an_run_set_repeats(run, run->repeats, run->nrepeats);
		if (json_object_get(e, "blocked_busy_ns") && json_object_get(e, "concurrency_ns"))
			an_run_derive(run);
	}
	return 0;
}

LD_TABLE(report, struct an_report, SUMMARY_REPORT_FIELDS)


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
	if (json_is_object(root))
		ret = ld_report(&l, root, NULL, r);
	else
		ret = ld_fail(&l, -EINVAL, NULL, "expected a JSON object at the top, found %s",
			      jtype(root));
	json_decref(root);
	return ret;
}
