/* timeline_sort.c - stable merge sort of raw events, request edges and intervals by time. */
#include "timeline_int.h"

/*
 * Stable bottom-up merge sort. Input is usually already sorted (one CPU's events in
 * order) or nearly so, hence the O(n) check first; qsort is neither stable nor cheap
 * per comparison, and a thread's equal-time events must keep their arrival order.
 */
#define DEFINE_MSORT(name, T, LESS)                                                        \
	int name(T *a, size_t n)                                                           \
	{                                                                                  \
		size_t i, w;                                                               \
		T *src = a, *dst, *tmp;                                                    \
                                                                                           \
		for (i = 1; i < n; i++)                                                    \
			if (LESS(&a[i], &a[i - 1]))                                        \
				break;                                                     \
		if (i >= n)                                                                \
			return 0;                                                          \
		tmp = malloc(n * sizeof(T));                                               \
		if (!tmp)                                                                  \
			return -ENOMEM;                                                    \
		dst = tmp;                                                                 \
		/* insertion-sort runs of 32: cheap on nearly sorted data */             \
		for (size_t lo = 0; lo < n; lo += 32) {                                    \
			size_t hi = lo + 32 < n ? lo + 32 : n;                             \
			for (size_t j = lo + 1; j < hi; j++) {                             \
				T x = a[j];                                                \
				size_t k = j;                                              \
				while (k > lo && LESS(&x, &a[k - 1])) {                    \
					a[k] = a[k - 1];                                   \
					k--;                                               \
				}                                                          \
				a[k] = x;                                                  \
			}                                                                  \
		}                                                                          \
		for (w = 32; w < n; w *= 2) {                                              \
			for (size_t lo = 0; lo < n; lo += 2 * w) {                         \
				size_t mid = lo + w < n ? lo + w : n;                      \
				size_t hi = lo + 2 * w < n ? lo + 2 * w : n;               \
				size_t l = lo, r = mid, o = lo;                            \
				if (mid >= hi || !LESS(&src[mid], &src[mid - 1])) {        \
					memcpy(&dst[lo], &src[lo], (hi - lo) * sizeof(T)); \
					continue;                                          \
				}                                                          \
				while (l < mid && r < hi)                                  \
					dst[o++] = LESS(&src[r], &src[l]) ? src[r++]       \
									  : src[l++];      \
				while (l < mid)                                            \
					dst[o++] = src[l++];                               \
				while (r < hi)                                             \
					dst[o++] = src[r++];                               \
			}                                                                  \
			T *t = src;                                                        \
			src = dst;                                                         \
			dst = t;                                                           \
		}                                                                          \
		if (src != a)                                                              \
			memcpy(a, src, n * sizeof(T));                                     \
		free(tmp);                                                                 \
		return 0;                                                                  \
	}

#define RAW_LESS(x, y) ((x)->ts < (y)->ts)
/*
 * At one instant a request carried over a cut goes first (it began earlier), then ends,
 * so a reused id closes its old request first, then begins.
 */
#define IOREQ_RANK(x) ((x)->end < 0 ? 0 : (x)->end ? 1 : 2)
#define IOREQ_LESS(x, y) \
	((x)->ts < (y)->ts || ((x)->ts == (y)->ts && IOREQ_RANK(x) < IOREQ_RANK(y)))
#define IV_LESS(x, y) ((x)->start < (y)->start)
DEFINE_MSORT(tli_sort_raw, struct tl_raw, RAW_LESS)
DEFINE_MSORT(tli_sort_ioreq, struct tl_ioreq, IOREQ_LESS)
DEFINE_MSORT(tli_sort_iv, struct tl_interval, IV_LESS)
