/* units.h - how every human-readable output writes a duration, a size, a rate or a share. */
#ifndef IOTRACE_UNITS_H
#define IOTRACE_UNITS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One rule for the text report, the HTML page, the SVGs and the verdict's sentences: three
 * significant digits in the largest unit that keeps the value at least 1 ("812 µs",
 * "12.3 ms", "1.04 s", "100 MiB", "320 MiB/s"); the base unit stays whole ("0 ns",
 * "512 B"). Sizes and rates step by 1024 (KiB, MiB, GiB, TiB), so 1000 to 1023 of a unit
 * keep four digits ("1010 KiB"); durations stop at seconds ("1234 s").
 *
 * A table writes each column in one unit: un_column() picks the unit and the decimals from
 * the column's largest value (three significant digits for it), and un_cell() writes every
 * cell of the column with them, so the column reads "200 ms", "120 ms", "5 ms".
 *
 * Results are small values, so calls nest in one printf: printf("%s", un_dur(ns).s).
 */
#define UN_LEN 24

struct un_str {
	char s[UN_LEN];
};

enum un_kind {
	UN_DUR,		/* nanoseconds */
	UN_BYTES,	/* bytes */
	UN_RATE,	/* bytes per second */
};

struct un_str un_dur(uint64_t ns);
struct un_str un_bytes(uint64_t bytes);
struct un_str un_rate(double bytes_per_s);
/* Any of the three; a negative or non-finite value is written as "?" */
struct un_str un_fmt(enum un_kind kind, double v);

/* A column's unit and decimals (fields are the module's own). */
struct un_col {
	enum un_kind kind;
	int unit;
	int decimals;
};

/* The column format that gives `max`, the column's largest value, three digits. */
struct un_col un_column(enum un_kind kind, double max);
/*
 * v in the column's unit and decimals. A duration that rounds to nothing reads "0 ms"; a
 * size or rate that does is "<" the column's last digit ("<0.1 MiB", "<1 KiB"): a process
 * that read 4 KiB beside one that read 64 MiB did not read nothing.
 */
struct un_str un_cell(const struct un_col *c, double v);

/*
 * A share (0..1) as a percentage with `decimals` decimals (0 or 1): "42%", "42.0%". A share
 * that is not zero never reads as none, nor one short of the whole as all of it: what
 * rounds to 0 is written with one decimal more while that shows it ("0.2%", for 608 µs of
 * 279 ms), else "<0.1%"; what rounds to 100 but is less is "99.7%", else ">99.9%". Exactly
 * 0 is "0%" ("0.0%"); above 1 is written as is ("105%"). Negative or non-finite: "?".
 */
struct un_str un_pct(double share, int decimals);

/*
 * Append printf-style to the string in buf (len bytes), never past its end: a cut text
 * never ends in half a UTF-8 character (×, µ, —), since sentences go into JSON.
 */
void un_appendf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void un_vappendf(char *buf, size_t len, const char *fmt, va_list ap);

#endif /* IOTRACE_UNITS_H */
