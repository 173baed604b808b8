/* test_ucopy.c - unwound user stacks: equal frames share an id, a record finds only its own copy; copy lengths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/types.h>

#include "iotrace.h"
#include "trace/ucopy.h"

static void test_ids_and_copies(void **state)
{
	static const uint64_t a[] = {0x401000, 0x402000, 0x403000};
	static const uint64_t b[] = {0x401000, 0x402000};
	struct uc_table *u = uc_new();
	const uint64_t *ips;
	bool complete;
	int n;

	(void)state;
	assert_non_null(u);
	/* thread 7's copy 1: the first stack, id 0 */
	assert_int_equal(uc_put(u, 7, 1, false, a, 3, true), 0);
	assert_int_equal(uc_get(u, 7, 1, &ips, &n, &complete), 0);
	assert_int_equal(n, 3);
	assert_true(complete);
	assert_memory_equal(ips, a, sizeof(a));
	/* the same frames from another thread: the same id; cut short: another one */
	assert_int_equal(uc_put(u, 8, 5, false, a, 3, true), 0);
	assert_int_equal(uc_get(u, 8, 5, &ips, &n, &complete), 0);
	assert_int_equal(uc_put(u, 9, 1, false, a, 3, false), 0);
	assert_int_equal(uc_get(u, 9, 1, &ips, &n, &complete), 1);
	assert_false(complete);
	/* a prefix is another stack */
	assert_int_equal(uc_put(u, 7, 2, false, b, 2, false), 0);
	assert_int_equal(uc_get(u, 7, 2, &ips, &n, &complete), 2);
	assert_int_equal(n, 2);
	assert_int_equal(uc_count(u), 3);
	/* a record naming a copy that a later one replaced, or that never came */
	assert_int_equal(uc_get(u, 7, 1, &ips, &n, &complete), -ENOENT);
	assert_int_equal(uc_get(u, 10, 1, &ips, &n, &complete), -ENOENT);
	/* ... but its stack is still there by id (a switch-out unwound before: it_umemo) */
	assert_int_equal(uc_stack(u, 0, &ips, &n, &complete), 0);
	assert_int_equal(n, 3);
	assert_true(complete);
	assert_memory_equal(ips, a, sizeof(a));
	assert_int_equal(uc_stack(u, 1, &ips, &n, &complete), 1);
	assert_false(complete);
	assert_int_equal(uc_stack(u, 3, &ips, &n, &complete), -ENOENT);
	assert_int_equal(uc_stack(u, -1, &ips, &n, &complete), -ENOENT);
	/* a copy that could not be unwound: its error */
	assert_int_equal(uc_put(u, 7, 3, false, NULL, -ESRCH, false), 0);
	assert_int_equal(uc_get(u, 7, 3, &ips, &n, &complete), -ESRCH);
	/*
	 * an off-CPU copy is kept until a later off-CPU one: the thread sampled between its
	 * switch-out and a switch-in the tracepoint did not show (its off-CPU record comes
	 * late) replaces only its last on-CPU copy
	 */
	assert_int_equal(uc_put(u, 12, 1, true, b, 2, false), 0);
	assert_int_equal(uc_put(u, 12, 2, false, a, 3, true), 0);
	assert_int_equal(uc_put(u, 12, 3, false, a, 3, true), 0);
	assert_int_equal(uc_get(u, 12, 1, &ips, &n, &complete), 2);
	assert_int_equal(n, 2);
	assert_int_equal(uc_get(u, 12, 3, &ips, &n, &complete), 0);
	assert_int_equal(uc_get(u, 12, 2, &ips, &n, &complete), -ENOENT);
	assert_int_equal(uc_put(u, 12, 4, true, a, 3, true), 0);
	assert_int_equal(uc_get(u, 12, 1, &ips, &n, &complete), -ENOENT);
	assert_int_equal(uc_get(u, 12, 4, &ips, &n, &complete), 0);
	assert_int_equal(uc_get(u, 12, 3, &ips, &n, &complete), 0);
	/* one whose unwinding found no frame is not one that never arrived (copy_lost) */
	assert_int_equal(uc_put(u, 7, 4, false, NULL, -ENOENT, false), 0);
	assert_int_equal(uc_get(u, 7, 4, &ips, &n, &complete), -ENODATA);
	assert_int_equal(uc_get(u, 7, 5, &ips, &n, &complete), -ENOENT);
	/* where the thread's copies may stop: said once */
	assert_true(uc_set_top(u, 7, 0x7ffd1000));
	assert_false(uc_set_top(u, 7, 0x7ffd1000));
	assert_false(uc_set_top(u, 11, 0x7ffd1000)); /* no copy of it yet */
	/* a new run forgets everything */
	uc_reset(u);
	assert_int_equal(uc_count(u), 0);
	assert_int_equal(uc_get(u, 8, 5, &ips, &n, &complete), -ENOENT);
	assert_int_equal(uc_stack(u, 0, &ips, &n, &complete), -ENOENT);
	uc_free(u);
}

/* Many threads and stacks: the tables grow and every id stays with its frames. */
static void test_growth(void **state)
{
	struct uc_table *u = uc_new();
	uint64_t f[4];

	(void)state;
	for (uint32_t t = 1; t <= 3000; t++) {
		f[0] = t;
		f[1] = t % 7;
		f[2] = 0x400000;
		f[3] = t * 3;
		assert_int_equal(uc_put(u, t, t, false, f, 4, t % 2), 0);
	}
	assert_int_equal(uc_count(u), 3000);
	for (uint32_t t = 1; t <= 3000; t++) {
		const uint64_t *ips;
		bool complete;
		int n;

		assert_int_equal(uc_get(u, t, t, &ips, &n, &complete), (int)t - 1);
		assert_int_equal(n, 4);
		assert_true(ips[0] == t && ips[3] == t * 3);
		assert_int_equal(complete, t % 2);
	}
	uc_free(u);
}

/*
 * The probe's tries for a copy whose end is unknown (it_ucopy_shorter): the first length,
 * then each ending on the page boundary below the last. The case that made
 * test_offcpu_stacks_unwound flaky: a pool thread's stack 2192 bytes deep to its mapping's
 * end, where halving from 32512 got 2032 bytes (the outermost frames lost).
 */
static void test_shorter_lengths(void **state)
{
	uint64_t sp = 0x7efd4e9ff770, len = IT_USTACK_MAX, want = 0x1000 - 0x770 + 7 * 0x1000;
	int tries = 1;

	(void)state;
	assert_int_equal(IT_USTACK_MAX, 32512);
	/* 32512 bytes from sp end 0x7f0f past it: the last boundary before is 7 pages up */
	for (len = it_ucopy_shorter(sp, len); len; len = it_ucopy_shorter(sp, len), tries++) {
		assert_int_equal(len, want);
		want -= 0x1000;
		if (len == 2192)
			break;
	}
	assert_int_equal(len, 2192);
	assert_int_equal(tries, 8); /* 32512, 30864, 26768, ..., 6288 failed */
	assert_true(tries + 1 <= IT_UCOPY_TRIES);
	/* sp's own page failed: nothing shorter (0 < 8: the probe gives up) */
	assert_int_equal(it_ucopy_shorter(sp, 2192), 0);
	assert_int_equal(it_ucopy_shorter(0x7ffd0000, 4096), 0);
	assert_int_equal(it_ucopy_shorter(0x7ffd0000, 4097), 4096);
	assert_int_equal(it_ucopy_shorter(0x7ffd0000, 0), 0);
	assert_int_equal(it_ucopy_shorter(0x7ffd0ff8, 4096), 8);
}

/*
 * Against every mapping end within reach: the probe's loop (a read succeeds when it ends
 * at or before the mapping's end) copies exactly to the end, within IT_UCOPY_TRIES reads;
 * an end beyond the first length gets the first length.
 */
static void test_shorter_reaches_the_end(void **state)
{
	static const uint64_t sps[] = {0x7ffd1000, 0x7ffd1008, 0x7ffd1770, 0x7ffd1ff0, 0x7ffd1ff8};
	static const uint64_t firsts[] = {IT_USTACK_MAX, 8192, 8128, 4096, 1000};

	(void)state;
	for (size_t i = 0; i < sizeof(sps) / sizeof(sps[0]); i++) {
		uint64_t sp = sps[i], first_end = (sp + 0xfff) & ~0xfffull;

		for (size_t f = 0; f < sizeof(firsts) / sizeof(firsts[0]); f++) {
			for (uint64_t end = first_end; end <= sp + IT_USTACK_MAX + 0x2000; end += 0x1000) {
				uint64_t len = firsts[f], want = end - sp < len ? end - sp : len;
				bool copied = false;

				for (int i = 0; i < IT_UCOPY_TRIES && len >= 8; i++) {
					if (sp + len <= end) {
						copied = true;
						break;
					}
					len = it_ucopy_shorter(sp, len);
				}
				/* under 8 bytes to the end: the probe gives up, no copy */
				assert_int_equal(copied, want >= 8);
				if (copied)
					assert_int_equal(len, want);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_copies),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_shorter_lengths),
		cmocka_unit_test(test_shorter_reaches_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
