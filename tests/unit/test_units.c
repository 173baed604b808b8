/* test_units.c - durations, sizes and rates as every report writes them, checked by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "model/units.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define KiB 1024ULL
#define MiB (1024ULL * 1024)
#define GiB (1024ULL * 1024 * 1024)

/* Three significant digits in the largest unit that keeps the value >= 1; ns whole. */
static void test_durations(void **s)
{
	(void)s;
	assert_string_equal(un_dur(0).s, "0 ns");
	assert_string_equal(un_dur(999).s, "999 ns");
	assert_string_equal(un_dur(1000).s, "1.00 µs");
	assert_string_equal(un_dur(1234).s, "1.23 µs");
	assert_string_equal(un_dur(812 * US + 400).s, "812 µs");
	assert_string_equal(un_dur(12 * MS).s, "12.0 ms");
	assert_string_equal(un_dur(12345678).s, "12.3 ms");
	assert_string_equal(un_dur(1037700000).s, "1.04 s");
	assert_string_equal(un_dur(47500 * MS).s, "47.5 s");
	assert_string_equal(un_dur(3600 * SEC).s, "3600 s"); /* no unit above seconds */
	/* what would round up to 1000 of a unit is written in the next one */
	assert_string_equal(un_dur(999600).s, "1.00 ms");
	assert_string_equal(un_dur(999400).s, "999 µs");
	assert_string_equal(un_dur(9996).s, "10.0 µs");
	assert_string_equal(un_dur(99960).s, "100 µs");
}

static void test_sizes_and_rates(void **s)
{
	(void)s;
	assert_string_equal(un_bytes(0).s, "0 B");
	assert_string_equal(un_bytes(512).s, "512 B");
	assert_string_equal(un_bytes(1023).s, "1023 B");
	assert_string_equal(un_bytes(1024).s, "1.00 KiB");
	assert_string_equal(un_bytes(100 * MiB).s, "100 MiB");
	assert_string_equal(un_bytes(40 * MiB).s, "40.0 MiB");
	assert_string_equal(un_bytes(1010 * KiB).s, "1010 KiB"); /* binary steps: four digits */
	assert_string_equal(un_bytes(3 * GiB / 2).s, "1.50 GiB");
	assert_string_equal(un_rate(320.0 * MiB).s, "320 MiB/s");
	assert_string_equal(un_rate(102.4 * MiB).s, "102 MiB/s");
	assert_string_equal(un_rate(1.5 * KiB).s, "1.50 KiB/s");
	assert_string_equal(un_rate(NAN).s, "?");
	assert_string_equal(un_rate(-1).s, "?");
	assert_string_equal(un_fmt(UN_BYTES, 2048).s, "2.00 KiB");
}

/* A column takes its unit and decimals from its largest value. */
static void test_columns(void **s)
{
	struct un_col c = un_column(UN_DUR, 300 * MS);

	(void)s;
	assert_string_equal(un_cell(&c, 300 * MS).s, "300 ms");
	assert_string_equal(un_cell(&c, 120.4 * MS).s, "120 ms");
	assert_string_equal(un_cell(&c, 5 * MS).s, "5 ms");
	assert_string_equal(un_cell(&c, 400 * US).s, "0 ms");
	assert_string_equal(un_cell(&c, 0).s, "0 ms");

	c = un_column(UN_DUR, 1037700000); /* "1.04 s" next to "1037.7 ms" no more */
	assert_string_equal(un_cell(&c, 1037700000).s, "1.04 s");
	assert_string_equal(un_cell(&c, 350 * MS).s, "0.35 s");

	c = un_column(UN_DUR, 0);
	assert_string_equal(un_cell(&c, 0).s, "0 ns");

	c = un_column(UN_BYTES, 64 * MiB);
	assert_string_equal(un_cell(&c, 100 * KiB).s, "0.1 MiB");
	assert_string_equal(un_cell(&c, NAN).s, "?");
}

/*
 * A size column never reads 0 for a non-zero cell (fio's parent read 59.5 KiB beside its
 * job's 64 MiB; a process that read a few KiB read "0.0 MiB"): a cell under half the
 * column's last digit is "<" that digit; one that reaches it rounds as before.
 */
static void test_byte_cells_never_zero(void **s)
{
	struct un_col c = un_column(UN_BYTES, 64 * MiB); /* "64.0 MiB": one decimal */

	(void)s;
	assert_string_equal(un_cell(&c, 64 * MiB).s, "64.0 MiB");
	assert_string_equal(un_cell(&c, 4 * KiB).s, "<0.1 MiB");
	assert_string_equal(un_cell(&c, 1).s, "<0.1 MiB");
	assert_string_equal(un_cell(&c, 0.05 * MiB - 1).s, "<0.1 MiB");
	assert_string_equal(un_cell(&c, 0.05 * MiB + 1).s, "0.1 MiB");
	assert_string_equal(un_cell(&c, 59.5 * KiB).s, "0.1 MiB");
	assert_string_equal(un_cell(&c, 0).s, "0.0 MiB"); /* zero is zero (tables write "-") */

	c = un_column(UN_BYTES, 500 * MiB); /* "500 MiB": no decimals */
	assert_string_equal(un_cell(&c, 300 * KiB).s, "<1 MiB");
	assert_string_equal(un_cell(&c, 600 * KiB).s, "1 MiB");

	c = un_column(UN_BYTES, 5 * GiB); /* "5.00 GiB" */
	assert_string_equal(un_cell(&c, 3 * MiB).s, "<0.01 GiB");

	c = un_column(UN_BYTES, 59.5 * KiB); /* the job's 3 bytes beside the parent's 59.5 KiB */
	assert_string_equal(un_cell(&c, 3).s, "<0.1 KiB");

	c = un_column(UN_BYTES, 900); /* bytes are whole: nothing rounds to zero */
	assert_string_equal(un_cell(&c, 1).s, "1 B");

	c = un_column(UN_RATE, 64 * MiB);
	assert_string_equal(un_cell(&c, 1 * KiB).s, "<0.1 MiB/s");
}

/* A share that is not none never reads "0%", nor one short of the whole "100%". */
static void test_shares(void **s)
{
	(void)s;
	/* CPython's GIL: 608 µs of the python threads' 279 ms = 0.218% */
	assert_string_equal(un_pct(608e3 / 279e6, 0).s, "0.2%");
	assert_string_equal(un_pct(0, 0).s, "0%");
	assert_string_equal(un_pct(0, 1).s, "0.0%");
	assert_string_equal(un_pct(0.0004, 0).s, "<0.1%"); /* 0.04% */
	assert_string_equal(un_pct(0.0004, 1).s, "<0.1%");
	assert_string_equal(un_pct(0.004, 0).s, "0.4%");
	assert_string_equal(un_pct(0.005, 0).s, "0.5%"); /* %.0f would round it to even: 0 */
	assert_string_equal(un_pct(0.004, 1).s, "0.4%");
	assert_string_equal(un_pct(0.006, 0).s, "1%");
	assert_string_equal(un_pct(0.42, 0).s, "42%");
	assert_string_equal(un_pct(0.4249, 1).s, "42.5%");
	assert_string_equal(un_pct(0.997, 0).s, "99.7%");
	assert_string_equal(un_pct(0.995, 0).s, "99.5%");
	assert_string_equal(un_pct(0.9999, 0).s, ">99.9%");
	assert_string_equal(un_pct(0.9999, 1).s, ">99.9%");
	assert_string_equal(un_pct(0.994, 0).s, "99%");
	assert_string_equal(un_pct(0.998, 1).s, "99.8%");
	assert_string_equal(un_pct(1, 0).s, "100%");
	assert_string_equal(un_pct(1, 1).s, "100.0%");
	assert_string_equal(un_pct(1.05, 0).s, "105%");
	assert_string_equal(un_pct(-0.1, 0).s, "?");
	assert_string_equal(un_pct(NAN, 0).s, "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes_and_rates),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_byte_cells_never_zero),
		cmocka_unit_test(test_shares),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
