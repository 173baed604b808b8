/* test_noise.c - the rank test that says whether repeated runs are within noise, by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model/analysis.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static double p_of(const uint64_t *x, size_t n, const uint64_t *y, size_t m)
{
	return an_rank_p(x, n, y, m);
}

/*
 * 3 runs each: the C(6,3) = 20 splits by U are 1,1,2,3,3,3,3,2,1,1 (U = 0..9; the
 * partitions of U into at most 3 parts of at most 3), so the two-sided p of U (or 9 - U)
 * = 0, 1, 2, 3 is 2 x 1/20, 2/20, 4/20, 7/20.
 */
static void test_three_each(void **s)
{
	const uint64_t a[] = {1, 2, 3}, b[] = {4, 5, 6};
	const uint64_t c[] = {1, 2, 4}, d[] = {3, 5, 6};
	const uint64_t e[] = {1, 3, 5}, f[] = {2, 4, 6};
	const uint64_t g[] = {1, 2, 3}, h[] = {3, 4, 5};

	(void)s;
	/* every run of one faster than every run of the other: U = 9, p = 2/20 */
	assert_true(an_rank_u(a, 3, b, 3) == 9);
	assert_true(fabs(p_of(a, 3, b, 3) - 0.10) < 1e-12);
	assert_true(fabs(p_of(b, 3, a, 3) - 0.10) < 1e-12); /* two-sided: either order */
	/* one pair crossed: U = 8, p = 2 x 2/20 */
	assert_true(an_rank_u(c, 3, d, 3) == 8);
	assert_true(fabs(p_of(c, 3, d, 3) - 0.20) < 1e-12);
	/* interleaved: U = 3 + 2 + 1 = 6, the tail U <= 3 holds 7 splits: p = 0.70 */
	assert_true(an_rank_u(e, 3, f, 3) == 6);
	assert_true(fabs(p_of(e, 3, f, 3) - 0.70) < 1e-12);
	/* a tie counts half (U = 8.5) and rounds toward the centre: the tail U <= 1, p 0.20,
	 * never the 0.10 of a separation it is not */
	assert_true(an_rank_u(g, 3, h, 3) == 8.5);
	assert_true(fabs(p_of(g, 3, h, 3) - 0.20) < 1e-12);
	/* all equal: U = 4.5, nothing to tell */
	assert_true(fabs(p_of(a, 3, a, 3) - 1.0) < 1e-12);
}

/* Sizes other than 3: 2 each can never be told apart; more runs need less than separation. */
static void test_other_sizes(void **s)
{
	const uint64_t a2[] = {1, 2}, b2[] = {3, 4};
	const uint64_t a3[] = {1, 2, 3}, b4[] = {4, 5, 6, 7};
	/* 5 each, C(10,5) = 252 splits: U = 0..5 counts 1,1,2,3,5,7 */
	const uint64_t x5[] = {1, 2, 3, 4, 10}, y5[] = {5, 6, 7, 8, 9};
	const uint64_t u5[] = {1, 2, 3, 4, 9}, v5[] = {5, 6, 7, 8, 10};

	(void)s;
	/* C(4,2) = 6: separated, p = 2/6 */
	assert_true(fabs(p_of(a2, 2, b2, 2) - 1.0 / 3) < 1e-12);
	/* 3 against 4, C(7,3) = 35: separated, p = 2/35 */
	assert_true(fabs(p_of(a3, 3, b4, 4) - 2.0 / 35) < 1e-12);
	/* one slow run of five (10, past all of the other's): U = 20, tail U <= 5 holds 19,
	 * p = 38/252 = 0.151: not told apart */
	assert_true(an_rank_u(x5, 5, y5, 5) == 20);
	assert_true(fabs(p_of(x5, 5, y5, 5) - 38.0 / 252) < 1e-12);
	/* its slow run under the other's slowest: U = 21, tail 12, p = 24/252 = 0.095, told
	 * apart although the ranges overlap (9 > 5) */
	assert_true(an_rank_u(u5, 5, v5, 5) == 21);
	assert_true(fabs(p_of(u5, 5, v5, 5) - 24.0 / 252) < 1e-12);
	/* an empty side says nothing */
	assert_true(p_of(a2, 0, b2, 2) == 1.0);
}

/* Past AN_RANK_EXACT_MAX runs a side, the normal approximation with continuity correction:
 * 30 each, U = 300: z = (300.5 - 450) / sqrt(900 x 61 / 12) = -2.2103, p = 2 Phi(z) =
 * 0.027086. */
static void test_large(void **s)
{
	uint64_t x[30], y[30];

	(void)s;
	for (int i = 0; i < 30; i++) {
		x[i] = 100 + 2 * (uint64_t)i; /* 100, 102, ..., 158 */
		y[i] = 1000 + (uint64_t)i;
	}
	assert_true(an_rank_u(x, 30, y, 30) == 900);
	assert_true(p_of(x, 30, y, 30) < 1e-9);
	/* U = 300: 10 of x below all of y (300), the other 20 above all of it */
	for (int i = 10; i < 30; i++)
		x[i] = 2000 + (uint64_t)i;
	assert_true(an_rank_u(x, 30, y, 30) == 300);
	assert_true(fabs(p_of(x, 30, y, 30) - 0.027086) < 1e-6);
	/* the exact count at its largest size is still exact: separation at 25 each is
	 * 2 / C(50,25) = 2 / 126410606437752 */
	for (int i = 0; i < 25; i++)
		x[i] = (uint64_t)i;
	assert_true(an_rank_u(x, 25, y, 25) == 625);
	assert_true(fabs(p_of(x, 25, y, 25) * 126410606437752.0 - 2) < 1e-9);
}

static struct an_repeat *walls(const uint64_t *w, size_t n)
{
	struct an_repeat *r = calloc(n, sizeof(*r));

	assert_non_null(r);
	for (size_t i = 0; i < n; i++)
		r[i].wall_ns = w[i];
	return r;
}

/* On runs: judged only when both were repeated; within noise when p > 0.10. */
static void test_runs(void **s)
{
	const uint64_t fast[] = {90, 100, 95}, slow[] = {120, 101, 130}, mixed[] = {99, 120, 130};
	struct an_run a = {0}, b = {0};

	(void)s;
	an_run_set_repeats(&a, walls(fast, 3), 3);
	an_run_set_repeats(&b, walls(slow, 3), 3);
	/* 90-100 against 101-130: separated, p = 0.10, ranked */
	assert_true(fabs(an_noise_p(&a, &b) - 0.10) < 1e-12);
	assert_false(an_within_noise(&a, &b));
	/* 99 below 100: one pair crossed, p = 0.20, within noise */
	an_run_set_repeats(&b, walls(mixed, 3), 3);
	assert_true(fabs(an_noise_p(&a, &b) - 0.20) < 1e-12);
	assert_true(an_within_noise(&a, &b));
	/* made once: no spread to judge by */
	an_run_set_repeats(&b, NULL, 0);
	b.wall_ns = 500;
	assert_true(an_noise_p(&a, &b) < 0);
	assert_false(an_within_noise(&a, &b));
	an_run_free(&a);
	an_run_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_each),
		cmocka_unit_test(test_other_sizes),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
