/* test_waits.c - futex waits classified by kind and summed per lock, on hand-made records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/waits.h"

#define WAIT_PRIVATE 128	/* FUTEX_WAIT | FUTEX_PRIVATE_FLAG */
#define BITSET_PRIVATE 137	/* FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG */
#define MS 1000000ull

/* The namer: _PyRuntime lies at [0x2000, 0x3000), the rest is heap. */
static int namer(void *ctx, uint32_t pid, uint64_t addr, char *where, size_t len)
{
	(void)ctx;
	(void)pid;
	if (addr >= 0x2000 && addr < 0x3000)
		snprintf(where, len, "_PyRuntime+0x%llx", (unsigned long long)(addr - 0x2000));
	else if (addr >= 0x3000 && addr < 0x3010)
		snprintf(where, len, "_PyRuntimeX");
	else
		snprintf(where, len, "[heap]");
	return 0;
}

static struct wt_wait wait_on(uint32_t tid, uint64_t uaddr, uint32_t op, uint32_t val,
			      uint64_t begin, uint64_t end)
{
	return (struct wt_wait){.pid = 1, .tid = tid, .uaddr = uaddr, .op = op, .val = val,
				.begin_ts = begin, .end_ts = end, .lock_ns = end - begin,
				.kstack_id = -1, .ustack_id = -1};
}

static void test_classify(void **state)
{
	struct wt_set *s = wt_new();
	struct wt_wait w;

	(void)state;
	wt_set_namer(s, namer, NULL);
	/* thread 2 created with its clear_child_tid at 0x1000; thread 3 exits at 200 ms */
	assert_int_equal(wt_thread_new(s, 1, 2, 0x1000, 0), 0);
	assert_int_equal(wt_thread_new(s, 1, 3, 0x1100, 0), 0);
	assert_int_equal(wt_thread_exit(s, 3, 200 * MS, 100 * MS), 0);
	for (uint64_t a = 0x1000; a <= 0x4000; a += 0x100)
		assert_int_equal(wt_begin(s, 1, 9, a, BITSET_PRIVATE, 0, 1), 0);

	/* pthread_join: the word is a created thread's clear_child_tid */
	w = wait_on(1, 0x1000, 9 /* shared */, 2, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_JOIN);
	/* the GIL: inside _PyRuntime, even as a contended mutex; not a longer name */
	w = wait_on(1, 0x2100, WAIT_PRIVATE, 2, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_GIL);
	w = wait_on(1, 0x3000, BITSET_PRIVATE, 0, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	/* glibc's contended mutex (value 2), a PI lock */
	w = wait_on(1, 0x4000, WAIT_PRIVATE, 2, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_MUTEX);
	w = wait_on(1, 0x4000, 6 | 128, 0, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_MUTEX);
	/*
	 * Woken by a thread that exits right after (thread 3: at 200 ms, 100 ms on CPU in
	 * all): a runtime's join. Its CPU time unknown: within 5 ms of wall time (4: join, 6:
	 * condvar); known: at most 2 ms of it (1 ms over 50 ms of wall: join; 3 ms: condvar),
	 * within 100 ms (1 ms over 101 ms: condvar)
	 */
	w = wait_on(1, 0x4000, BITSET_PRIVATE, 0, 10, 200 * MS);
	w.waker = 3;
	w.wake_ts = 196 * MS;
	assert_int_equal(wt_classify(s, &w), TL_LK_JOIN);
	w.wake_ts = 194 * MS;
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	w.waker_oncpu = 99 * MS;
	w.wake_ts = 150 * MS;
	assert_int_equal(wt_classify(s, &w), TL_LK_JOIN);
	w.wake_ts = 99 * MS;
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	w.waker_oncpu = 97 * MS;
	w.wake_ts = 196 * MS;
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	/* the wake-up proper seen after the waker's exit (another CPU's sched_wakeup): join */
	w.waker_oncpu = 99 * MS;
	w.wake_ts = 200 * MS + 1700;
	assert_int_equal(wt_classify(s, &w), TL_LK_JOIN);
	w.waker_oncpu = 0;
	w.ret = -110; /* timed out: nobody woke it */
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	/*
	 * No join: the waker is the process's main thread (tid 1 == pid 1, exiting at 200 ms:
	 * a pool signalled before the exit), or the waiter (5) ended before the waker did
	 */
	assert_int_equal(wt_thread_new(s, 1, 5, 0x1200, 0), 0);
	assert_int_equal(wt_thread_exit(s, 1, 200 * MS, 0), 0);
	assert_int_equal(wt_thread_exit(s, 5, 199 * MS, 0), 0);
	w = wait_on(2, 0x4000, BITSET_PRIVATE, 0, 10, 197 * MS);
	w.waker = 1;
	w.wake_ts = 196 * MS;
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	w.waker = 3;
	assert_int_equal(wt_classify(s, &w), TL_LK_JOIN);
	/*
	 * Nor when the waker waited for input between the wake-up (196 ms) and its exit (200):
	 * a pool's result thread reading its pipe until the pool closes. A wait for input
	 * before the wake-up says nothing.
	 */
	wt_thread_input_wait(s, 3, 197 * MS);
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	wt_thread_input_wait(s, 3, 195 * MS);
	assert_int_equal(wt_classify(s, &w), TL_LK_JOIN);
	w.tid = 5;
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	/* FUTEX_WAIT with another value: waiting to be signalled; futex_waitv, WAKE: other */
	w = wait_on(1, 0x4000, WAIT_PRIVATE, 0, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_CONDVAR);
	w = wait_on(1, 0, 0xffffffffu, 0, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_OTHER);
	w = wait_on(1, 0x4000, 1 | 128, 0, 10, 20);
	assert_int_equal(wt_classify(s, &w), TL_LK_OTHER);
	assert_string_equal(wt_lock_kind_name(TL_LK_GIL), "gil");
	assert_string_equal(wt_lock_kind_name(TL_LK_NONE), "other");
	assert_string_equal(wt_io_kind_name(TL_IOK_PIPE), "pipe");
	assert_int_equal(wt_lock_kind_from_name("condvar"), TL_LK_CONDVAR);
	assert_int_equal(wt_io_kind_from_name("nope"), -22);
	wt_free(s);
}

/*
 * An off-CPU stack's kind is its futex wait's (wt_kind_at), asked right before the flush
 * that decides it. Main (tid 1) joins thread 2 (its clear_child_tid 0x1000) from 10 to 50
 * ms, waits on a contended mutex (value 2) from 60 to 70 ms, and again from 80 ms on
 * (open). Stacks taken back on CPU at 30, 65 and 85 ms: join, mutex, and not decided
 * until the wait ends or the trace does (then a mutex, as wt_take_locks sums it). With
 * the flush at 55 ms only the join is decided. Outside every wait: nothing to wait for but
 * the end (then "not known"); another thread's stack at 30 ms is in none of main's waits.
 */
static void test_stack_kinds(void **state)
{
	struct wt_set *s = wt_new();
	struct wt_wait e;

	(void)state;
	assert_int_equal(wt_thread_new(s, 1, 2, 0x1000, 0), 0);
	assert_int_equal(wt_begin(s, 1, 1, 0x1000, 0, 2, 10 * MS), 0);
	e = wait_on(1, 0x1000, 0, 2, 10 * MS, 50 * MS);
	assert_int_equal(wt_end(s, &e), 0);
	assert_int_equal(wt_begin(s, 1, 1, 0x4000, WAIT_PRIVATE, 2, 60 * MS), 0);
	e = wait_on(1, 0x4000, WAIT_PRIVATE, 2, 60 * MS, 70 * MS);
	assert_int_equal(wt_end(s, &e), 0);
	assert_int_equal(wt_begin(s, 1, 1, 0x4000, WAIT_PRIVATE, 2, 80 * MS), 0);

	assert_int_equal(wt_kind_at(s, 1, 30 * MS, 100 * MS), TL_LK_JOIN);
	assert_int_equal(wt_kind_at(s, 1, 50 * MS, 100 * MS), TL_LK_JOIN);
	assert_int_equal(wt_kind_at(s, 1, 65 * MS, 100 * MS), TL_LK_MUTEX);
	assert_int_equal(wt_kind_at(s, 1, 85 * MS, 100 * MS), -EAGAIN);
	assert_int_equal(wt_kind_at(s, 1, 85 * MS, UINT64_MAX), TL_LK_MUTEX);
	assert_int_equal(wt_kind_at(s, 1, 30 * MS, 55 * MS), TL_LK_JOIN);
	assert_int_equal(wt_kind_at(s, 1, 65 * MS, 55 * MS), -EAGAIN);
	assert_int_equal(wt_kind_at(s, 1, 55 * MS, 100 * MS), -EAGAIN);
	assert_int_equal(wt_kind_at(s, 1, 55 * MS, UINT64_MAX), TL_LK_NONE);
	assert_int_equal(wt_kind_at(s, 2, 30 * MS, UINT64_MAX), TL_LK_NONE);
	/* the flush forgets what it decided: ask before it */
	assert_int_equal(wt_flush(s, NULL, 100 * MS), 0);
	assert_int_equal(wt_kind_at(s, 1, 30 * MS, 100 * MS), -EAGAIN);
	assert_int_equal(wt_kind_at(s, 1, 85 * MS, UINT64_MAX), TL_LK_MUTEX);
	wt_free(s);
}

/*
 * Two threads wait on one mutex (300 and 500 ns, woken by thread 3), one on the GIL (50 ns,
 * still open at the end: measured from the spans, 40 ns of lock_wait). The locks, largest
 * first: the mutex (800 ns, 2 waits, waiters 1 and 4, waker 3, top stack "c"), the GIL.
 * The timeline's lock_wait spans take each wait's kind.
 */
static void test_locks(void **state)
{
	struct wt_set *s = wt_new();
	struct tl_timeline *tl = tl_new();
	struct wt_lock *v = NULL;
	struct wt_wait w;
	size_t n = 0;

	(void)state;
	wt_set_namer(s, namer, NULL);
	assert_int_equal(tl_transition(tl, 1, 1, 0, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 1, 4, 0, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 1, 5, 0, TL_COMPUTE), 0);

	assert_int_equal(tl_transition(tl, 1, 1, 100, TL_LOCK_WAIT), 0);
	assert_int_equal(wt_begin(s, 1, 1, 0x4000, WAIT_PRIVATE, 2, 100), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 400, TL_COMPUTE), 0);
	assert_int_equal(wt_stack(s, 1, 400, "a;b", 300), 0);
	w = wait_on(1, 0x4000, WAIT_PRIVATE, 2, 100, 400);
	w.waker = 3;
	assert_int_equal(wt_end(s, &w), 0);

	assert_int_equal(tl_transition(tl, 1, 4, 200, TL_LOCK_WAIT), 0);
	assert_int_equal(wt_begin(s, 1, 4, 0x4000, WAIT_PRIVATE, 2, 200), 0);
	assert_int_equal(tl_transition(tl, 1, 4, 700, TL_COMPUTE), 0);
	assert_int_equal(wt_stack(s, 4, 700, "c", 500), 0);
	w = wait_on(4, 0x4000, WAIT_PRIVATE, 2, 200, 700);
	w.waker = 3;
	assert_int_equal(wt_end(s, &w), 0);
	/* the first wait is decided; the second ended past upto: labelled, kept */
	assert_int_equal(wt_flush(s, tl, 500), 0);

	assert_int_equal(tl_transition(tl, 1, 5, 960, TL_LOCK_WAIT), 0);
	assert_int_equal(wt_begin(s, 1, 5, 0x2008, BITSET_PRIVATE, 0, 960), 0);
	assert_int_equal(wt_flush(s, tl, UINT64_MAX), 0);
	assert_int_equal(tl_finish(tl, 0, 1000), 0);
	assert_int_equal(tl_thread_find(tl, 1)->kind_ns[TL_LOCK_WAIT][TL_LK_MUTEX], 300);
	assert_int_equal(tl_thread_find(tl, 4)->kind_ns[TL_LOCK_WAIT][TL_LK_MUTEX], 500);
	assert_int_equal(tl_thread_find(tl, 5)->kind_ns[TL_LOCK_WAIT][TL_LK_GIL], 40);

	assert_int_equal(wt_take_locks(s, tl, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].addr, 0x4000);
	assert_string_equal(v[0].where, "[heap]");
	assert_int_equal(v[0].kind, TL_LK_MUTEX);
	assert_int_equal(v[0].wait_ns, 800);
	assert_int_equal(v[0].waits, 2);
	assert_int_equal(v[0].nwaiters, 2);
	assert_int_equal(v[0].waiters[0], 1);
	assert_int_equal(v[0].waiters[1], 4);
	assert_int_equal(v[0].nwakers, 1);
	assert_int_equal(v[0].wakers[0], 3);
	assert_string_equal(v[0].stack, "c");
	assert_int_equal(v[1].addr, 0x2008);
	assert_string_equal(v[1].where, "_PyRuntime+0x8");
	assert_int_equal(v[1].kind, TL_LK_GIL);
	assert_int_equal(v[1].wait_ns, 40);
	assert_null(v[1].stack);
	wt_locks_free(v, n);
	wt_free(s);
	tl_free(tl);
}

/* One futex wait of tid on uaddr over [a, b): its transitions and its records. */
static void futex_wait(struct wt_set *s, struct tl_timeline *tl, uint32_t tid, uint64_t uaddr,
		       uint32_t op, uint32_t val, uint64_t a, uint64_t b)
{
	struct wt_wait w = wait_on(tid, uaddr, op, val, a, b);

	assert_int_equal(tl_transition(tl, 1, tid, a, TL_LOCK_WAIT), 0);
	assert_int_equal(wt_begin(s, 1, tid, uaddr, op, val, a), 0);
	if (b < 1000) {
		assert_int_equal(tl_transition(tl, 1, tid, b, TL_COMPUTE), 0);
		assert_int_equal(wt_end(s, &w), 0);
	}
}

/*
 * The lock bound and the lock capacity come from mutex and GIL waits only, as the waits'
 * kinds land on the timeline (wt_flush before each fold, as the session does). 2 CPUs,
 * window [0,1000): main (1) computes [0,100) then joins thread 2 (on its clear_child_tid)
 * to the end. Thread 2 computes, waits on a mutex [200,400), computes [400,500), idles on a
 * condvar [500,700), waits on the GIL [700,800), computes [800,900), sleeps [900,1000).
 *   [0,100) cpu on 2  [100,200) cpu serial 1  [200,400) lock: lock 1, serial 1
 *   [400,500) cpu serial 1  [500,700) idle serial 2  [700,800) lock: lock 1, serial 1
 *   [800,900) cpu serial 1  [900,1000) idle serial 2
 * cpu 400, lock 300, idle 300; on-CPU 500 + lock 300 + serial 1200 = 2 x 1000. The join
 * (900) and the condvar (200) are no contention: unlabelled, or labelled join and condvar,
 * they count as idle. The same with folds inside the waits.
 */
static void test_lock_bound_from_kinds(void **state)
{
	static const uint64_t cuts[][2] = {{0, 0}, {450, 0}, {300, 750}};

	(void)state;
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct wt_set *s = wt_new();
		struct tl_timeline *tl = tl_new();
		const struct tl_thread *t1, *t2;
		struct wt_lock *v = NULL;
		size_t n = 0;

		wt_set_namer(s, namer, NULL);
		tl_set_ncpu(tl, 2);
		assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, "main"));
		assert_non_null(tl_thread_add(tl, 1, 2, 0, TL_COMPUTE, "worker"));
		assert_int_equal(wt_thread_new(s, 1, 2, 0x1000, 0), 0);
		futex_wait(s, tl, 1, 0x1000, WAIT_PRIVATE, 2, 100, 1000); /* join, open */
		futex_wait(s, tl, 2, 0x4000, WAIT_PRIVATE, 2, 200, 400);  /* mutex */
		for (int k = 0; k < 2; k++)
			if (cuts[c][k] && cuts[c][k] < 500) {
				assert_int_equal(wt_flush(s, tl, cuts[c][k]), 0);
				assert_int_equal(tl_cut(tl, 0, cuts[c][k]), 0);
			}
		futex_wait(s, tl, 2, 0x5000, BITSET_PRIVATE, 0, 500, 700); /* condvar */
		futex_wait(s, tl, 2, 0x2008, BITSET_PRIVATE, 0, 700, 800); /* the GIL */
		for (int k = 0; k < 2; k++)
			if (cuts[c][k] >= 500) {
				assert_int_equal(wt_flush(s, tl, cuts[c][k]), 0);
				assert_int_equal(tl_cut(tl, 0, cuts[c][k]), 0);
			}
		assert_int_equal(tl_transition(tl, 1, 2, 900, TL_OTHER_WAIT), 0);
		assert_int_equal(wt_flush(s, tl, UINT64_MAX), 0);
		assert_int_equal(tl_finish(tl, 0, 1000), 0);

		assert_int_equal(tl->measure.bound[TL_B_CPU], 400);
		assert_int_equal(tl->measure.bound[TL_B_LOCK], 300);
		assert_int_equal(tl->measure.bound[TL_B_IDLE], 300);
		assert_int_equal(tl->measure.oncpu_ns, 500);
		assert_int_equal(tl->measure.unused[TL_U_LOCK], 300);
		assert_int_equal(tl->measure.unused[TL_U_SERIAL], 1200);
		assert_int_equal(tl->measure.unused[TL_U_WAKEUP] + tl->measure.unused[TL_U_DEVICE],
				 0);
		t1 = tl_thread_find(tl, 1);
		t2 = tl_thread_find(tl, 2);
		assert_int_equal(t1->kind_ns[TL_LOCK_WAIT][TL_LK_JOIN], 900);
		assert_int_equal(t2->kind_ns[TL_LOCK_WAIT][TL_LK_MUTEX], 200);
		assert_int_equal(t2->kind_ns[TL_LOCK_WAIT][TL_LK_CONDVAR], 200);
		assert_int_equal(t2->kind_ns[TL_LOCK_WAIT][TL_LK_GIL], 100);
		assert_int_equal(wt_take_locks(s, tl, &v, &n), 0);
		assert_int_equal(n, 4);
		wt_locks_free(v, n);
		wt_free(s);
		tl_free(tl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_stack_kinds),
		cmocka_unit_test(test_locks),
		cmocka_unit_test(test_lock_bound_from_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
