/* units.c - durations, sizes and rates as people read them (three significant digits), and shares. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

#define NUNITS 5

struct scale {
	double step;
	int n;
	const char *name[NUNITS];
};

static const struct scale scales[] = {
	[UN_DUR] = {1000, 4, {"ns", "µs", "ms", "s"}},
	[UN_BYTES] = {1024, 5, {"B", "KiB", "MiB", "GiB", "TiB"}},
	[UN_RATE] = {1024, 5, {"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"}},
};

/*
 * v's unit: the largest one in which it is at least 1. The threshold is half a base unit
 * short of the step so that what would round up to the step ("1000 µs") is written in
 * the next unit ("1.00 ms") instead. *x receives v in that unit.
 */
static int unit_of(const struct scale *sc, double v, double *x)
{
	int u = 0;

	*x = v;
	while (u + 1 < sc->n && *x >= sc->step - 0.5) {
		*x /= sc->step;
		u++;
	}
	return u;
}

/* Decimals that leave x (>= 1, or 0) three significant digits once rounded. */
static int decimals_of(int unit, double x)
{
	if (unit == 0)
		return 0; /* nanoseconds and bytes are whole */
	return x < 9.995 ? 2 : x < 99.95 ? 1 : 0;
}

static struct un_str out(const struct scale *sc, int unit, int decimals, double x)
{
	struct un_str r;

	snprintf(r.s, sizeof(r.s), "%.*f %s", decimals, x, sc->name[unit]);
	return r;
}

struct un_str un_fmt(enum un_kind kind, double v)
{
	const struct scale *sc = &scales[kind];
	struct un_str r;
	double x;
	int u;

	if (!isfinite(v) || v < 0) {
		snprintf(r.s, sizeof(r.s), "?");
		return r;
	}
	u = unit_of(sc, v, &x);
	return out(sc, u, decimals_of(u, x), x);
}

struct un_str un_dur(uint64_t ns)
{
	return un_fmt(UN_DUR, (double)ns);
}

struct un_str un_bytes(uint64_t bytes)
{
	return un_fmt(UN_BYTES, (double)bytes);
}

struct un_str un_rate(double bytes_per_s)
{
	return un_fmt(UN_RATE, bytes_per_s);
}

struct un_col un_column(enum un_kind kind, double max)
{
	struct un_col c = {.kind = kind};
	double x;

	if (!isfinite(max) || max < 0)
		max = 0;
	c.unit = unit_of(&scales[kind], max, &x);
	c.decimals = decimals_of(c.unit, x);
	return c;
}

struct un_str un_cell(const struct un_col *c, double v)
{
	const struct scale *sc = &scales[c->kind];
	double x, least;
	struct un_str r;

	if (!isfinite(v) || v < 0) {
		snprintf(r.s, sizeof(r.s), "?");
		return r;
	}
	x = v / pow(sc->step, c->unit);
	/* half the column's last digit: what rounds to zero below it */
	least = 0.5 * pow(10, -c->decimals);
	if (c->kind != UN_DUR && v > 0 && x < least) {
		/* an amount is never read as none: "<0.1 MiB" in the column's unit */
		snprintf(r.s, sizeof(r.s), "<%.*f %s", c->decimals, 2 * least, sc->name[c->unit]);
		return r;
	}
	return out(sc, c->unit, c->decimals, x);
}

struct un_str un_pct(double share, int decimals)
{
	double p = share * 100;
	struct un_str r;
	/* the smallest share the shown digits can tell from none: half their last digit */
	double half = decimals > 0 ? 0.05 : 0.5;

	if (!isfinite(p) || p < 0) {
		snprintf(r.s, sizeof(r.s), "?");
		return r;
	}
	decimals = decimals > 0 ? 1 : 0;
	if (p > 0 && p < 0.05)
		snprintf(r.s, sizeof(r.s), "<0.1%%"); /* below what one decimal shows */
	else if (p > 0 && p <= half)
		snprintf(r.s, sizeof(r.s), "%.1f%%", p); /* not none: a decimal more */
	else if (p < 100 && p >= 99.95)
		snprintf(r.s, sizeof(r.s), ">99.9%%");
	else if (p < 100 && p >= 100 - half - 1e-9)
		snprintf(r.s, sizeof(r.s), "%.1f%%", p); /* not all of it */
	else
		snprintf(r.s, sizeof(r.s), "%.*f%%", decimals, p);
	return r;
}

void un_vappendf(char *buf, size_t len, const char *fmt, va_list ap)
{
	size_t n = strnlen(buf, len);

	if (n + 1 >= len)
		return;
	if (vsnprintf(buf + n, len - n, fmt, ap) >= (int)(len - n)) {
		size_t e = len - 1, i = e;

		while (i > n && ((unsigned char)buf[i - 1] & 0xC0) == 0x80)
			i--;
		if (i > n) {
			unsigned char lead = (unsigned char)buf[i - 1];
			size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;

			if (i - 1 + need > e)
				buf[i - 1] = '\0';
		}
	}
}

void un_appendf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	un_vappendf(buf, len, fmt, ap);
	va_end(ap);
}
