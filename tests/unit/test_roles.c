/* test_roles.c - thread roles of traced programs from names, stack frames and waits, by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/roles.h"

#define MS 1000000ULL
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* rl_assign over the threads t, then each thread's role is the one wanted, in t's order */
static void check_roles(struct rl_thread *t, size_t n, const char *const *want, size_t nwant)
{
	assert_int_equal(nwant, n);
	rl_assign(t, n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].role, want[i]) != 0)
			fail_msg("t[%zu] (tid %u): role \"%s\", want \"%s\"", i, t[i].tid,
				 t[i].role, want[i]);
}

#define CHECK_ROLES(t, ...)                                                                        \
	do {                                                                                       \
		static const char *const want_[] = {__VA_ARGS__};                                  \
		check_roles(t, N_OF(t), want_, N_OF(want_));                                       \
	} while (0)

static void test_frame_hints(void **state)
{
	(void)state;
	assert_int_equal(rl_frame_hints(NULL), 0);
	assert_int_equal(rl_frame_hints("main;compute;do_work"), 0);
	assert_int_equal(rl_frame_hints("start_thread;uv__io_poll;epoll_wait"), RL_H_LOOP);
	assert_int_equal(rl_frame_hints("_start;main;node::Start;uv_run;uv__io_poll"), RL_H_LOOP);
	assert_int_equal(rl_frame_hints("start_thread;worker;uv__fs_work;uv__fs_read;read"),
			 RL_H_UVPOOL);
	assert_int_equal(rl_frame_hints("[truncated];uv__fs_work;read"), RL_H_UVPOOL);
	assert_int_equal(rl_frame_hints("start_thread;workers_loop;read"), 0);
	/* the loop thread runs the pool's completions: a loop, not the pool */
	assert_int_equal(rl_frame_hints("main;node::Start;uv_run;uv__work_done;cb"), RL_H_LOOP);
	assert_int_equal(
		rl_frame_hints("start_thread;_ZN4node12_GLOBAL__N_1L20PlatformWorkerThreadEPv;f"),
		RL_H_V8);
	/* the main thread posts tasks to the platform: not one of its threads */
	assert_int_equal(rl_frame_hints("__libc_start_call_main;_ZN4node5StartEiPPc;"
					"_ZN4node23WorkerThreadsTaskRunner8PostTaskE;futex"),
			 0);
	/* the platform's delayed-task scheduler runs a loop: both said */
	assert_int_equal(rl_frame_hints("clone3;start_thread;_ZZN4node23WorkerThreadsTaskRunner20"
					"DelayedTaskScheduler5StartEvENUlPvE_4_FUNES2_;uv_run"),
			 RL_H_V8 | RL_H_LOOP);
	assert_int_equal(rl_frame_hints("_start;Py_BytesMain;Py_RunMain;_PyEval_EvalFrame"),
			 RL_H_PYMAIN);
	assert_int_equal(rl_frame_hints("clone3;start_thread;thread_run;_PyEval_EvalFrame"),
			 RL_H_PYTHREAD);
	/* a function merely named like it is not CPython's thread_run */
	assert_int_equal(rl_frame_hints("start_thread;my_thread_run_loop"), 0);
}

/*
 * node with no stacks (--no-stacks): the main thread polled (the loop), three threads read
 * files (libuv's pool, numbered in tid order), two only waited on futexes (V8's platform);
 * io_uring's worker by its name.
 */
static void test_node_by_waits(void **state)
{
	struct rl_thread t[8] = {
		{.pid = 100, .tid = 104, .comm = "node", .reads = 12,
		 .states_ns = {[TL_IO_CPU] = 3 * MS, [TL_LOCK_WAIT] = 20 * MS}},
		{.pid = 100, .tid = 100, .comm = "node",
		 .states_ns = {[TL_COMPUTE] = 50 * MS, [TL_POLL_WAIT] = 10 * MS}},
		{.pid = 100, .tid = 101, .comm = "node", .states_ns = {[TL_LOCK_WAIT] = 60 * MS}},
		{.pid = 100, .tid = 102, .comm = "node", .states_ns = {[TL_COMPUTE] = 1 * MS}},
		{.pid = 100, .tid = 103, .comm = "node", .reads = 7,
		 .states_ns = {[TL_IO_WAIT] = 5 * MS}},
		{.pid = 100, .tid = 105, .comm = "node", .reads = 1},
		{.pid = 100, .tid = 106, .comm = "iou-wrk-100", .reads = 3},
		/* node's delayed-task scheduler: polls longer than the main thread did, reads
		 * its eventfd; the main thread is still the loop */
		{.pid = 100, .tid = 99, .comm = "node", .reads = 1,
		 .states_ns = {[TL_POLL_WAIT] = 40 * MS}},
	};

	(void)state;
	CHECK_ROLES(t, "uv pool 2", "event loop", "V8 platform 2", "V8 platform 3", "uv pool 1",
		    "uv pool 3", "io-wq worker", "V8 platform 1");
}

/* node's main thread is its loop even when it never blocked in epoll_wait (busy). */
static void test_node_busy_loop(void **state)
{
	struct rl_thread t[3] = {
		{.pid = 5, .tid = 5, .comm = "node", .states_ns = {[TL_COMPUTE] = 80 * MS}},
		{.pid = 5, .tid = 6, .comm = "node", .reads = 4},
		{.pid = 5, .tid = 7, .comm = "node", .states_ns = {[TL_LOCK_WAIT] = 80 * MS}},
	};

	(void)state;
	CHECK_ROLES(t, "event loop", "uv pool 1", "V8 platform 1");
}

/* Stacks outrank waits: a pool thread that did no read yet is still the pool's. */
static void test_stacks_first(void **state)
{
	struct rl_thread t[4] = {
		{.pid = 7, .tid = 7, .comm = "node", .hints = RL_H_LOOP},
		{.pid = 7, .tid = 8, .comm = "node", .hints = RL_H_UVPOOL,
		 .states_ns = {[TL_LOCK_WAIT] = MS}},
		{.pid = 7, .tid = 9, .comm = "node", .hints = RL_H_V8, .reads = 2},
		/* polls, but the stacks named the loop: node's delayed-task scheduler */
		{.pid = 7, .tid = 10, .comm = "node", .states_ns = {[TL_POLL_WAIT] = 99 * MS}},
	};

	(void)state;
	CHECK_ROLES(t, "event loop", "uv pool 1", "V8 platform 1", "V8 platform 2");
}

/* CPython, a C program with a poll loop and a reader, and processes kept apart. */
static void test_other_programs(void **state)
{
	struct rl_thread t[7] = {
		{.pid = 10, .tid = 10, .comm = "python3", .states_ns = {[TL_LOCK_WAIT] = MS}},
		{.pid = 10, .tid = 11, .comm = "python3", .reads = 5},
		{.pid = 20, .tid = 20, .comm = "server", .states_ns = {[TL_POLL_WAIT] = 5 * MS}},
		{.pid = 20, .tid = 21, .comm = "server", .reads = 1},
		{.pid = 20, .tid = 22, .comm = "server"},
		{.pid = 30, .tid = 30, .comm = "cat", .reads = 9},
		{.pid = 30, .tid = 31, .comm = "helper"},
	};

	(void)state;
	CHECK_ROLES(t, "python main", "python thread 1", "event loop", "I/O pool 1", "server",
		    "main", "helper");
}

/*
 * A multiprocessing.Pool's parent (no stacks): main waits on a condvar; the worker handler
 * polls its workers' sentinels, the task handler waits on a queue, the result handler reads
 * the workers' pipe. None is an event loop or an I/O pool: CPython's threads, numbered.
 * Its main thread polling (asyncio) is still the loop.
 */
static void test_python_pool_parent(void **state)
{
	struct rl_thread t[5] = {
		{.pid = 40, .tid = 40, .comm = "python3", .states_ns = {[TL_LOCK_WAIT] = 117 * MS}},
		{.pid = 40, .tid = 43, .comm = "python3", .states_ns = {[TL_POLL_WAIT] = 110 * MS}},
		{.pid = 40, .tid = 44, .comm = "python3", .states_ns = {[TL_LOCK_WAIT] = 119 * MS}},
		{.pid = 40, .tid = 45, .comm = "python3", .reads = 20,
		 .states_ns = {[TL_IO_WAIT] = 111 * MS}},
		{.pid = 50, .tid = 50, .comm = "python3", .states_ns = {[TL_POLL_WAIT] = 9 * MS}},
	};

	(void)state;
	CHECK_ROLES(t, "python main", "python thread 1", "python thread 2", "python thread 3",
		    "event loop");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_hints),
		cmocka_unit_test(test_node_by_waits),
		cmocka_unit_test(test_node_busy_loop),
		cmocka_unit_test(test_stacks_first),
		cmocka_unit_test(test_other_programs),
		cmocka_unit_test(test_python_pool_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
