/* test_tables.c - the tables shared by the probes and user space, against independent sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include <cmocka.h>
#include <linux/types.h>

#include "iotrace.h"
#include "model/timeline.h"

/* Every number of the syscall table is the C library's for that name, on this architecture. */
static void test_syscall_numbers(void **s)
{
	unsigned n = 0;

	(void)s;
#define SAME_NR(nr, name, cls)                                                             \
	assert_int_equal(nr, SYS_##name);                                                  \
	assert_int_equal(it_sys_class(SYS_##name), IT_SYS_##cls);                          \
	n++;
	IT_SYSCALLS(SAME_NR)
#undef SAME_NR
	assert_true(n >= 15);
	assert_int_equal(it_sys_class(SYS_write), IT_SYS_NONE);
	assert_int_equal(it_sys_class(SYS_nanosleep), IT_SYS_NONE);
	assert_int_equal(it_sys_class(-1), IT_SYS_NONE); /* /proc/.../syscall unreadable */
}

/* A thread off CPU in a call of each class waits in that class's state. */
static void test_wait_states(void **s)
{
	(void)s;
	assert_int_equal(it_sys_wait_state(it_sys_class(SYS_read)), IT_IO_WAIT);
	assert_int_equal(it_sys_wait_state(it_sys_class(SYS_recvfrom)), IT_IO_WAIT);
	assert_int_equal(it_sys_wait_state(it_sys_class(SYS_futex)), IT_LOCK_WAIT);
	assert_int_equal(it_sys_wait_state(it_sys_class(SYS_ppoll)), IT_POLL_WAIT);
	assert_int_equal(it_sys_wait_state(IT_SYS_NONE), IT_OTHER_WAIT);
}

/* The probes' states are the model's, by value and by name. */
static void test_states(void **s)
{
	static const char *const names[] = {"compute",	 "io_cpu",     "io_wait", "lock_wait",
					    "poll_wait", "other_wait", "runnable"};

	(void)s;
	assert_int_equal(IT_NSTATES, TL_NSTATES);
	assert_int_equal(sizeof(names) / sizeof(names[0]), TL_NSTATES);
	for (int i = 0; i < TL_NSTATES; i++) {
		assert_string_equal(tl_state_name((enum tl_state)i), names[i]);
		assert_int_equal(tl_state_from_name(names[i]), i);
	}
	assert_int_equal((int)IT_LOCK_WAIT, (int)TL_LOCK_WAIT);
	assert_string_equal(tl_state_name(TL_NSTATES), "?");
}

/*
 * A thread's reads are its syscalls' (reads, bytes_read: its own exits write them) plus its
 * io_uring requests' (uring_*: completions elsewhere add to them atomically): user space
 * adds the two, so neither writer's count is lost to the other's.
 */
static void test_thread_reads_sum(void **s)
{
	struct it_thread t = {0};

	(void)s;
	t.reads = 3;
	t.bytes_read = 3 * 4096;
	t.uring_reads = 1024;
	t.uring_bytes_read = 1024ull * 65536;
	assert_int_equal(it_thread_reads(&t), 1027);
	assert_int_equal(it_thread_bytes_read(&t), 3 * 4096 + 64ull * 1024 * 1024);
	t.reads = t.bytes_read = 0;
	assert_int_equal(it_thread_reads(&t), 1024);
	assert_int_equal(it_thread_bytes_read(&t), 64ull * 1024 * 1024);
}

/* A poll's mark is no state and fits an entry; its kinds follow the io kinds (one span kind). */
static void test_poll_marks(void **s)
{
	(void)s;
	assert_true(IT_MARK_POLL_END >= IT_NSTATES && IT_MARK_POLL_END <= IT_STATE_MASK);
	assert_int_equal(IT_PK_TIMEOUT, TL_PK_TIMEOUT);
	assert_int_equal(IT_PK_OWN_PROCESS, TL_PK_OWN_PROCESS);
	assert_true((int)IT_PK_TIMEOUT > (int)IT_IOK_OTHER && (int)IT_PK_OWN_PROCESS > (int)IT_IOK_OTHER);
	assert_true(TL_PK_END <= TL_NKINDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syscall_numbers),
		cmocka_unit_test(test_wait_states),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_thread_reads_sum),
		cmocka_unit_test(test_poll_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
