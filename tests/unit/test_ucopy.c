/* test_ucopy.c - unwound user stacks: equal frames share an id, a record finds only its own copy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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
	assert_int_equal(uc_put(u, 7, 1, a, 3, true), 0);
	assert_int_equal(uc_get(u, 7, 1, &ips, &n, &complete), 0);
	assert_int_equal(n, 3);
	assert_true(complete);
	assert_memory_equal(ips, a, sizeof(a));
	/* the same frames from another thread: the same id; cut short: another one */
	assert_int_equal(uc_put(u, 8, 5, a, 3, true), 0);
	assert_int_equal(uc_get(u, 8, 5, &ips, &n, &complete), 0);
	assert_int_equal(uc_put(u, 9, 1, a, 3, false), 0);
	assert_int_equal(uc_get(u, 9, 1, &ips, &n, &complete), 1);
	assert_false(complete);
	/* a prefix is another stack */
	assert_int_equal(uc_put(u, 7, 2, b, 2, false), 0);
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
	assert_int_equal(uc_put(u, 7, 3, NULL, -ESRCH, false), 0);
	assert_int_equal(uc_get(u, 7, 3, &ips, &n, &complete), -ESRCH);
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
		assert_int_equal(uc_put(u, t, t, f, 4, t % 2), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_copies),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
