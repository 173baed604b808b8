/* noise.c - whether two repeated runs' walls tell them apart: an exact rank-sum test. */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"

/*
 * Why a rank test. The repetitions are few (3 by default), their distribution is unknown and
 * a shared machine gives them a long tail (one run of three taking 1.5x the others is common),
 * so neither a t-test (normality, a variance from 3 values) nor min-max overlap (one outlier
 * hides any difference; and with 10 runs each it asks for complete separation, p < 1e-5)
 * suits them. The Wilcoxon-Mann-Whitney rank-sum test assumes only that the repetitions are
 * independent draws: under "no difference" every way of splitting the n + m walls into the two
 * runs is equally likely, so the exact p-value is a count of those splits.
 */

/* Counts of the C(n+m, n) splits by U, for U = 0..n*m, into c (n*m + 1 doubles): the
 * coefficients of the Gaussian binomial [n+m choose n]_q, built as prod_{i=1..n} (1 -
 * q^(m+i)) / (1 - q^i). After step i, c holds [m+i choose i]_q: whole numbers below
 * C(n+m, n), exact in a double while that is below 2^53 (n + m <= 2 * AN_RANK_EXACT_MAX). */
static void u_counts(unsigned n, unsigned m, double *c)
{
	unsigned top = n * m;

	c[0] = 1;
	for (unsigned u = 1; u <= top; u++)
		c[u] = 0;
	for (unsigned i = 1; i <= n; i++) {
		for (unsigned u = top; u >= m + i && u <= top; u--) /* times (1 - q^(m+i)) */
			c[u] -= c[u - (m + i)];
		for (unsigned u = i; u <= top; u++) /* over (1 - q^i) */
			c[u] += c[u - i];
	}
}

double an_rank_u(const uint64_t *x, size_t n, const uint64_t *y, size_t m)
{
	double u = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
			u += x[i] < y[j] ? 1.0 : x[i] == y[j] ? 0.5 : 0.0;
	return u;
}

double an_rank_p(const uint64_t *x, size_t n, const uint64_t *y, size_t m)
{
	double u, lo, p;

	if (!n || !m)
		return 1.0;
	u = an_rank_u(x, n, y, m);
	/* the tail on the observed side; a tie counts half, and its half-step rounds toward
	 * the centre (the larger tail), so ties never make a difference look surer */
	lo = ceil(fmin(u, (double)n * (double)m - u));
	if (n <= AN_RANK_EXACT_MAX && m <= AN_RANK_EXACT_MAX) {
		double *c = malloc(((size_t)n * m + 1) * sizeof(*c));
		double below = 0, all = 0;

		if (!c)
			return 1.0; /* cannot count: claim nothing */
		u_counts((unsigned)n, (unsigned)m, c);
		for (size_t k = 0; k <= (size_t)n * m; k++) {
			all += c[k];
			if ((double)k <= lo)
				below += c[k];
		}
		free(c);
		p = 2 * below / all;
	} else {
		/* large samples: U is close to normal, mean nm/2, variance nm(n+m+1)/12; the
		 * half-unit continuity correction matches the exact count's whole steps */
		double nm = (double)n * (double)m;
		double sd = sqrt(nm * ((double)n + (double)m + 1) / 12);
		double z = (lo + 0.5 - nm / 2) / sd;

		p = 2 * 0.5 * erfc(-z / sqrt(2.0));
	}
	return p > 1 ? 1 : p;
}

/* The repetitions' walls of a run, into w (n of them). */
static void walls_of(const struct an_run *r, uint64_t *w)
{
	for (size_t i = 0; i < r->nrepeats; i++)
		w[i] = r->repeats[i].wall_ns;
}

double an_noise_p(const struct an_run *a, const struct an_run *b)
{
	uint64_t *wa, *wb;
	double p;

	if (a->nrepeats < 2 || b->nrepeats < 2 || !a->repeats || !b->repeats)
		return -1;
	wa = malloc(a->nrepeats * sizeof(*wa));
	wb = malloc(b->nrepeats * sizeof(*wb));
	if (!wa || !wb) {
		free(wa);
		free(wb);
		return 1.0;
	}
	walls_of(a, wa);
	walls_of(b, wb);
	p = an_rank_p(wa, a->nrepeats, wb, b->nrepeats);
	free(wa);
	free(wb);
	return p;
}

bool an_within_noise(const struct an_run *a, const struct an_run *b)
{
	double p = an_noise_p(a, b);

	/* p is a ratio of whole counts: 2/20 must equal 0.10, not exceed it by a rounding */
	return p >= 0 && p > AN_NOISE_ALPHA + 1e-12;
}
