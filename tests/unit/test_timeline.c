/* test_timeline.c - the state model and interval arithmetic on synthetic events, hand-checked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/timeline.h"

enum { C = TL_COMPUTE, IOC = TL_IO_CPU, IOW = TL_IO_WAIT, LCK = TL_LOCK_WAIT,
       POLL = TL_POLL_WAIT, OTH = TL_OTHER_WAIT, RUN = TL_RUNNABLE };

static struct tl_thread *th(struct tl_timeline *tl, uint32_t tid)
{
	struct tl_thread *t = tl_thread_find(tl, tid);

	assert_non_null(t);
	return t;
}

/* Spans are contiguous from start to end, each non-empty, and the states sum exactly. */
static void check_thread(const struct tl_thread *t)
{
	uint64_t sum = 0, by[TL_NSTATES] = {0};

	for (int s = 0; s < TL_NSTATES; s++)
		sum += t->state_ns[s];
	assert_int_equal(sum, t->end - t->start);
	if (!t->nspans) {
		assert_int_equal(t->start, t->end);
		return;
	}
	assert_int_equal(t->spans[0].start, t->start);
	assert_int_equal(t->spans[t->nspans - 1].end, t->end);
	for (size_t i = 0; i < t->nspans; i++) {
		assert_true(t->spans[i].start < t->spans[i].end);
		if (i) {
			assert_int_equal(t->spans[i].start, t->spans[i - 1].end);
			/* adjacent spans of one state (and kind) are merged */
			assert_true(t->spans[i].state != t->spans[i - 1].state ||
				    t->spans[i].kind != t->spans[i - 1].kind);
		}
		by[t->spans[i].state] += t->spans[i].end - t->spans[i].start;
	}
	for (int s = 0; s < TL_NSTATES; s++)
		assert_int_equal(by[s], t->state_ns[s]);
}

static void check_all(const struct tl_timeline *tl)
{
	for (size_t i = 0; i < tl->nthreads; i++)
		check_thread(&tl->threads[i]);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(tl_state_name(TL_COMPUTE), "compute");
	assert_string_equal(tl_state_name(TL_IO_CPU), "io_cpu");
	assert_string_equal(tl_state_name(TL_RUNNABLE), "runnable");
	assert_string_equal(tl_state_name(TL_NSTATES), "?");
	for (int s = 0; s < TL_NSTATES; s++)
		assert_int_equal(tl_state_from_name(tl_state_name(s)), s);
	assert_true(tl_state_from_name("nope") < 0);
	assert_true(tl_state_from_name(NULL) < 0);
}

/* Computing, preempted at 100 (runnable), back on CPU at 150; window [0, 200). */
static void test_preemption(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	assert_non_null(tl_thread_add(tl, 10, 10, 0, TL_COMPUTE, "md5"));
	assert_int_equal(tl_transition(tl, 10, 10, 100, TL_RUNNABLE), 0);
	assert_int_equal(tl_transition(tl, 10, 10, 150, TL_COMPUTE), 0);
	assert_int_equal(tl_finish(tl, 0, 200), 0);
	t = th(tl, 10);
	assert_int_equal(t->state_ns[C], 150);
	assert_int_equal(t->state_ns[RUN], 50);
	assert_int_equal(t->nspans, 3);
	assert_int_equal(t->spans[1].start, 100);
	assert_int_equal(t->spans[1].end, 150);
	assert_int_equal(t->spans[1].state, TL_RUNNABLE);
	assert_string_equal(t->comm, "md5");
	check_all(tl);
	tl_free(tl);
}

/*
 * read() entered at 100 (io_cpu), switched out inside it at 120 (io_wait), switched back
 * in at 300 still inside (io_cpu), returned at 310 (compute); window [0, 400).
 * compute 100 + 90 = 190, io_cpu 20 + 10 = 30, io_wait 180.
 */
static void feed_read(struct tl_timeline *tl, uint32_t tid)
{
	assert_non_null(tl_thread_add(tl, 1, tid, 0, TL_COMPUTE, "w"));
	assert_int_equal(tl_transition(tl, 1, tid, 100, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 1, tid, 120, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 1, tid, 300, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 1, tid, 310, TL_COMPUTE), 0);
}

static void test_switch_out_in_syscall(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	feed_read(tl, 5);
	assert_int_equal(tl_finish(tl, 0, 400), 0);
	t = th(tl, 5);
	assert_int_equal(t->state_ns[C], 190);
	assert_int_equal(t->state_ns[IOC], 30);
	assert_int_equal(t->state_ns[IOW], 180);
	assert_int_equal(t->nspans, 5);
	check_all(tl);
	tl_free(tl);
}

/* Worker created at 250 (runnable), on CPU at 260, exits at 400; a stale event at 450. */
static void test_thread_mid_run_and_exit(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, "main"));
	assert_non_null(tl_thread_add(tl, 1, 2, 250, TL_RUNNABLE, "worker"));
	assert_int_equal(tl_transition(tl, 1, 2, 260, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 300, TL_LOCK_WAIT), 0);
	assert_int_equal(tl_thread_exit(tl, 2, 400, "worker-renamed"), 0);
	assert_int_equal(tl_transition(tl, 1, 2, 450, TL_OTHER_WAIT), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 410, TL_COMPUTE), 0);
	assert_int_equal(tl_finish(tl, 0, 500), 0);

	t = th(tl, 2);
	assert_int_equal(t->start, 250);
	assert_int_equal(t->end, 400);
	assert_int_equal(t->state_ns[RUN], 10);
	assert_int_equal(t->state_ns[C], 140);
	assert_int_equal(t->state_ns[OTH], 0);
	assert_string_equal(t->comm, "worker-renamed");
	t = th(tl, 1);
	assert_int_equal(t->start, 0);
	assert_int_equal(t->end, 500);
	assert_int_equal(t->state_ns[C], 300 + 90);
	assert_int_equal(t->state_ns[LCK], 110);
	check_all(tl);
	tl_free(tl);
}

/*
 * The same read as test_switch_out_in_syscall plus a second thread, arriving out of
 * order the way per-CPU buffers deliver them, and a creation record arriving after the
 * thread's first transitions.
 */
static void test_out_of_order(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	assert_int_equal(tl_transition(tl, 1, 7, 300, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 1, 8, 260, TL_COMPUTE), 0); /* before 8's birth record */
	assert_int_equal(tl_transition(tl, 1, 7, 120, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 1, 7, 310, TL_COMPUTE), 0);
	assert_non_null(tl_thread_add(tl, 1, 7, 0, TL_COMPUTE, "a"));
	assert_int_equal(tl_transition(tl, 1, 7, 100, TL_IO_CPU), 0);
	assert_non_null(tl_thread_add(tl, 1, 8, 250, TL_RUNNABLE, "b"));
	/* a second add of a known thread only updates pid/comm */
	assert_non_null(tl_thread_add(tl, 2, 8, 10, TL_IO_WAIT, "b2"));
	assert_int_equal(tl_finish(tl, 0, 400), 0);

	t = th(tl, 7);
	assert_int_equal(t->state_ns[C], 190);
	assert_int_equal(t->state_ns[IOC], 30);
	assert_int_equal(t->state_ns[IOW], 180);
	t = th(tl, 8);
	assert_int_equal(t->pid, 2);
	assert_string_equal(t->comm, "b2");
	assert_int_equal(t->start, 250);
	assert_int_equal(t->state_ns[RUN], 10);
	assert_int_equal(t->state_ns[C], 140);
	check_all(tl);
	tl_free(tl);
}

/* Events at one instant keep their arrival order: the last one is the state from then on. */
static void test_equal_timestamps_stable(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, NULL));
	assert_int_equal(tl_transition(tl, 1, 1, 50, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 50, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 20, TL_RUNNABLE), 0); /* late arrival */
	assert_int_equal(tl_transition(tl, 1, 1, 30, TL_COMPUTE), 0);
	assert_int_equal(tl_finish(tl, 0, 100), 0);
	t = th(tl, 1);
	assert_int_equal(t->state_ns[C], 20 + 20);
	assert_int_equal(t->state_ns[RUN], 10);
	assert_int_equal(t->state_ns[IOC], 0);
	assert_int_equal(t->state_ns[IOW], 50);
	check_all(tl);
	tl_free(tl);
}

/*
 * Window [100, 800). Thread 1 lives 50..900: compute, io_wait at 90, compute at 150,
 * runnable at 780, compute at 850 (outside). Thread 2 lives 10..60 (before the window),
 * thread 3 is born at 800 (after it).
 */
static void test_clipping(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	assert_non_null(tl_thread_add(tl, 1, 1, 50, TL_COMPUTE, NULL));
	assert_int_equal(tl_transition(tl, 1, 1, 90, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 150, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 780, TL_RUNNABLE), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 850, TL_COMPUTE), 0);
	assert_int_equal(tl_thread_exit(tl, 1, 900, NULL), 0);
	assert_non_null(tl_thread_add(tl, 1, 2, 10, TL_COMPUTE, NULL));
	assert_int_equal(tl_thread_exit(tl, 2, 60, NULL), 0);
	assert_non_null(tl_thread_add(tl, 1, 3, 800, TL_COMPUTE, NULL));
	assert_int_equal(tl_finish(tl, 100, 800), 0);

	t = th(tl, 1);
	assert_int_equal(t->start, 100);
	assert_int_equal(t->end, 800);
	assert_int_equal(t->state_ns[IOW], 50);
	assert_int_equal(t->state_ns[C], 630);
	assert_int_equal(t->state_ns[RUN], 20);
	assert_int_equal(t->spans[0].state, TL_IO_WAIT);
	t = th(tl, 2);
	assert_int_equal(t->start, t->end);
	assert_int_equal(t->nspans, 0);
	t = th(tl, 3);
	assert_int_equal(t->start, t->end);
	assert_int_equal(t->nspans, 0);
	check_all(tl);
	tl_free(tl);
}

/* A thread known only from its exit record has no known state: no lifetime. */
static void test_exit_only_and_errors(void **state)
{
	struct tl_timeline *tl = tl_new();

	(void)state;
	assert_int_equal(tl_thread_exit(tl, 9, 50, "ghost"), 0);
	assert_int_equal(tl_transition(tl, 1, 9, 10, TL_NSTATES), -EINVAL);
	assert_int_equal(tl_finish(tl, 100, 50), -EINVAL);
	assert_int_equal(tl_finish(tl, 0, 100), 0);
	assert_int_equal(th(tl, 9)->start, th(tl, 9)->end);
	assert_string_equal(th(tl, 9)->comm, "ghost");
	/* once finished, the timeline takes no more events */
	assert_int_equal(tl_finish(tl, 0, 100), -EINVAL);
	assert_int_equal(tl_transition(tl, 1, 9, 10, TL_COMPUTE), -EINVAL);
	assert_null(tl_thread_add(tl, 1, 10, 10, TL_COMPUTE, NULL));
	assert_int_equal(tl_io_begin(tl, 1, 10), -EINVAL);
	tl_free(tl);
	tl_free(NULL);
}

/* Lost transitions: the gap is counted, clipped to the thread's lifetime, merged. */
static void test_gaps(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	feed_read(tl, 1);
	tl_gap(tl, 1, 150, 200);
	tl_gap(tl, 1, 180, 250); /* overlaps the first */
	tl_gap(tl, 1, 390, 500); /* past the window */
	tl_gap(tl, 1, 5, 5);	 /* empty */
	assert_int_equal(tl_finish(tl, 0, 400), 0);
	t = th(tl, 1);
	assert_int_equal(t->ngaps, 2);
	assert_int_equal(t->gaps[0].start, 150);
	assert_int_equal(t->gaps[0].end, 250);
	assert_int_equal(t->gap_ns, 100 + 10);
	assert_int_equal(tl->gaps_ns, 110);
	/* the states still sum to the lifetime */
	check_all(tl);
	tl_free(tl);
}

/*
 * Lost transitions whose time per state the kernel gave back: thread 3 computes from 0,
 * its batches from 100 to 200 are lost, and the kernel says the 100 ns held 30 of
 * compute, 50 of io_wait and 20 of runnable; at 200 it computes again until 300. The
 * states are exact, the stretch is still a gap, and the fill is one span per state with
 * the state it was in first. Sums that do not close are refused.
 */
static void test_gap_fill(void **state)
{
	struct tl_timeline *tl = tl_new();
	uint64_t ns[TL_NSTATES] = {0}, bad[TL_NSTATES] = {0};
	struct tl_thread *t;

	(void)state;
	assert_non_null(tl_thread_add(tl, 1, 3, 0, TL_COMPUTE, "t"));
	ns[C] = 30;
	ns[IOW] = 50;
	ns[RUN] = 20;
	bad[C] = 99;
	assert_int_equal(tl_gap_fill(tl, 1, 3, 100, 200, TL_COMPUTE, bad), -EINVAL);
	assert_int_equal(tl_gap_fill(tl, 1, 3, 100, 200, TL_NSTATES, ns), -EINVAL);
	assert_int_equal(tl_gap_fill(tl, 1, 3, 100, 200, TL_COMPUTE, ns), 0);
	assert_int_equal(tl_transition(tl, 1, 3, 200, TL_COMPUTE), 0);
	assert_int_equal(tl_thread_exit(tl, 3, 300, NULL), 0);
	assert_int_equal(tl_finish(tl, 0, 400), 0);
	t = th(tl, 3);
	assert_int_equal(t->state_ns[C], 100 + 30 + 100);
	assert_int_equal(t->state_ns[IOW], 50);
	assert_int_equal(t->state_ns[RUN], 20);
	assert_int_equal(t->gap_ns, 100);
	/* compute runs on to 130, then io_wait (state order) to 180, runnable to 200 */
	assert_int_equal(t->nspans, 4);
	assert_int_equal(t->spans[0].end, 130);
	assert_int_equal(t->spans[1].state, TL_IO_WAIT);
	assert_int_equal(t->spans[1].end, 180);
	assert_int_equal(t->spans[2].state, TL_RUNNABLE);
	assert_int_equal(t->spans[3].start, 200);
	check_all(tl);
	tl_free(tl);
}

/*
 * The kernel reuses tid 5: the first thread lives [0,100), the second is born at 150.
 * A late event (io_wait at 50) and a gap (20..40) of the first arrive after the second's
 * birth and still land on the first.
 */
static void test_tid_reuse(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *a = NULL, *b = NULL;

	(void)state;
	assert_non_null(tl_thread_add(tl, 1, 5, 0, TL_COMPUTE, "first"));
	assert_int_equal(tl_thread_exit(tl, 5, 100, NULL), 0);
	assert_non_null(tl_thread_add(tl, 1, 5, 150, TL_RUNNABLE, "second"));
	assert_int_equal(tl_transition(tl, 1, 5, 160, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 1, 5, 50, TL_IO_WAIT), 0);
	tl_gap(tl, 5, 20, 40);
	assert_int_equal(tl->nthreads, 2);
	assert_string_equal(tl_thread_find(tl, 5)->comm, "second");
	assert_int_equal(tl_finish(tl, 0, 300), 0);
	for (size_t i = 0; i < tl->nthreads; i++) {
		if (!strcmp(tl->threads[i].comm, "first"))
			a = &tl->threads[i];
		else
			b = &tl->threads[i];
	}
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->start, 0);
	assert_int_equal(a->end, 100);
	assert_int_equal(a->state_ns[C], 50);
	assert_int_equal(a->state_ns[IOW], 50);
	assert_int_equal(a->gap_ns, 20);
	assert_int_equal(b->start, 150);
	assert_int_equal(b->end, 300);
	assert_int_equal(b->state_ns[RUN], 10);
	assert_int_equal(b->state_ns[C], 140);
	assert_int_equal(b->gap_ns, 0);
	assert_ptr_equal(tl_thread_find(tl, 5), b);
	check_all(tl);
	tl_free(tl);
}

/* ---- interval arithmetic ---- */

static void test_iv_normalize(void **state)
{
	struct tl_interval v[] = {
		{40, 50}, /* unsorted */
		{1, 5},	  {3, 8},   /* overlapping */
		{10, 20}, {12, 13}, /* nested */
		{20, 25},	    /* touching */
		{30, 30},	    /* zero-length */
		{35, 33},	    /* backwards: empty */
		{45, 60},
	};
	size_t n = tl_iv_normalize(v, sizeof(v) / sizeof(v[0]));

	(void)state;
	assert_int_equal(n, 3);
	assert_int_equal(v[0].start, 1);
	assert_int_equal(v[0].end, 8);
	assert_int_equal(v[1].start, 10);
	assert_int_equal(v[1].end, 25);
	assert_int_equal(v[2].start, 40);
	assert_int_equal(v[2].end, 60);
	assert_int_equal(tl_iv_length(v, n), 7 + 15 + 20);
	assert_int_equal(tl_iv_normalize(v, 0), 0);
}

static void test_iv_intersect(void **state)
{
	struct tl_interval a[] = {{0, 10}, {20, 30}, {40, 50}};
	struct tl_interval b[] = {{5, 25}};
	struct tl_interval c[] = {{10, 20}, {30, 40}}; /* touching a only at edges */
	struct tl_interval d[] = {{0, 100}};	      /* a nested in d */
	struct tl_interval e[] = {{2, 3}, {4, 6}, {8, 22}, {29, 41}};

	(void)state;
	assert_int_equal(tl_iv_intersect_len(a, 3, b, 1), 5 + 5);
	assert_int_equal(tl_iv_intersect_len(b, 1, a, 3), 10);
	assert_int_equal(tl_iv_intersect_len(a, 3, c, 2), 0);
	assert_int_equal(tl_iv_intersect_len(a, 3, d, 1), 30);
	assert_int_equal(tl_iv_intersect_len(a, 3, e, 4), 1 + 2 + 2 + 2 + 1 + 1);
	assert_int_equal(tl_iv_intersect_len(a, 3, NULL, 0), 0);
}

/*
 * Two threads, window [0, 100):
 *   A: compute [0,20) io_cpu [20,30) io_wait [30,60) compute [60,100)
 *   B: born 10 runnable [10,15) compute [15,40) io_wait [40,70) io_cpu [70,75) exit 75
 * and one io_uring request in flight [80, 90).
 * On CPU: [0,10) 1, [10,15) 1, [15,30) 2, [30,40) 1, [40,60) 0, [60,70) 1, [70,75) 2,
 * [75,100) 1  =>  k=0: 20, k=1: 10+5+10+10+25 = 60, k=2: 15+5 = 20.
 */
static struct tl_timeline *two_threads(void)
{
	struct tl_timeline *tl = tl_new();

	assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, "A"));
	assert_int_equal(tl_transition(tl, 1, 1, 20, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 30, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 60, TL_COMPUTE), 0);
	assert_non_null(tl_thread_add(tl, 1, 2, 10, TL_RUNNABLE, "B"));
	assert_int_equal(tl_transition(tl, 1, 2, 15, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 1, 2, 40, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 1, 2, 70, TL_IO_CPU), 0);
	assert_int_equal(tl_thread_exit(tl, 2, 75, NULL), 0);
	assert_int_equal(tl_io_end(tl, 42, 90), 0); /* arrives before its begin */
	assert_int_equal(tl_io_begin(tl, 42, 80), 0);
	assert_int_equal(tl_finish(tl, 0, 100), 0);
	check_all(tl);
	return tl;
}

static void expect_iv(const struct tl_interval *v, long n, const uint64_t *want, long nwant)
{
	assert_int_equal(n, nwant);
	for (long i = 0; i < n; i++) {
		assert_int_equal(v[i].start, want[2 * i]);
		assert_int_equal(v[i].end, want[2 * i + 1]);
	}
}

static void test_union_states(void **state)
{
	struct tl_timeline *tl = two_threads();
	struct tl_interval *u;
	long n;

	(void)state;
	/* U_blocked: [30,70) (A [30,60) and B [40,70) overlap) */
	n = tl_union_states(tl, 1u << TL_IO_WAIT, &u);
	expect_iv(u, n, (const uint64_t[]){30, 70}, 1);
	free(u);
	/* U_busy: everything but [40,60) */
	n = tl_union_states(tl, 1u << TL_COMPUTE | 1u << TL_IO_CPU, &u);
	expect_iv(u, n, (const uint64_t[]){0, 40, 60, 100}, 2);
	free(u);
	/* U_io with requests in flight: [20,75) and [80,90) */
	n = tl_union_states(tl, 1u << TL_IO_CPU | 1u << TL_IO_WAIT | TL_MASK_IO, &u);
	expect_iv(u, n, (const uint64_t[]){20, 75, 80, 90}, 2);
	free(u);
	/* U_cpu: A [0,20) + [60,100), B [15,40) */
	n = tl_union_states(tl, 1u << TL_COMPUTE, &u);
	expect_iv(u, n, (const uint64_t[]){0, 40, 60, 100}, 2);
	free(u);
	/* nobody was polling */
	n = tl_union_states(tl, 1u << TL_POLL_WAIT, &u);
	assert_int_equal(n, 0);
	assert_null(u);
	tl_free(tl);
}

static void test_concurrency(void **state)
{
	struct tl_timeline *tl = two_threads();
	uint64_t h[4], h1[2];

	(void)state;
	assert_int_equal(tl_concurrency(tl, h, 3), 0);
	assert_int_equal(h[0], 20);
	assert_int_equal(h[1], 60);
	assert_int_equal(h[2], 20);
	assert_int_equal(h[3], 0);
	assert_int_equal(h[0] + h[1] + h[2] + h[3], 100);
	/* last bin collects >= maxk */
	assert_int_equal(tl_concurrency(tl, h1, 1), 0);
	assert_int_equal(h1[0], 20);
	assert_int_equal(h1[1], 80);
	tl_free(tl);
}

/* An empty window and an empty timeline still sum to the window. */
static void test_concurrency_empty(void **state)
{
	struct tl_timeline *tl = tl_new();
	uint64_t h[3];

	(void)state;
	assert_int_equal(tl_concurrency(tl, h, 2), -EINVAL); /* not finished */
	assert_int_equal(tl_finish(tl, 1000, 1500), 0);
	assert_int_equal(tl_concurrency(tl, h, 2), 0);
	assert_int_equal(h[0], 500);
	assert_int_equal(h[1] + h[2], 0);
	tl_free(tl);
}

/*
 * I/O requests: ids reused, an end and a begin of one id at one instant, an end with no
 * begin (dropped), a begin with no end (runs to the window end), clipping.
 */
static void test_io_pairing(void **state)
{
	struct tl_timeline *tl = tl_new();

	(void)state;
	assert_int_equal(tl_io_begin(tl, 1, 10), 0);
	assert_int_equal(tl_io_begin(tl, 1, 20), 0); /* reuse: arrives before the first end */
	assert_int_equal(tl_io_end(tl, 1, 20), 0);
	assert_int_equal(tl_io_end(tl, 1, 25), 0);
	assert_int_equal(tl_io_end(tl, 2, 40), 0);   /* never began: dropped */
	assert_int_equal(tl_io_begin(tl, 3, 50), 0); /* never ends */
	assert_int_equal(tl_io_begin(tl, 4, 0), 0);  /* before the window */
	assert_int_equal(tl_io_end(tl, 4, 7), 0);
	assert_int_equal(tl_io_begin(tl, 0, 30), 0); /* id 0 is an id like any other */
	assert_int_equal(tl_io_end(tl, 0, 35), 0);
	assert_int_equal(tl_finish(tl, 5, 60), 0);
	/* [5,7) [10,25) [30,35) [50,60) */
	expect_iv(tl->io, (long)tl->nio, (const uint64_t[]){5, 7, 10, 25, 30, 35, 50, 60}, 4);
	assert_int_equal(tl->io_unmatched, 2);
	tl_free(tl);
}

/* Many ids in flight at once: exercises the id map's growth and deletion. */
static void test_io_many(void **state)
{
	struct tl_timeline *tl = tl_new();
	const uint64_t n = 5000;

	(void)state;
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(tl_io_begin(tl, i * 7919, 2 * i), 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(tl_io_end(tl, i * 7919, 2 * i + 1), 0);
	assert_int_equal(tl_finish(tl, 0, 3 * n), 0);
	assert_int_equal(tl->nio, n);
	assert_int_equal(tl_iv_length(tl->io, tl->nio), n);
	assert_int_equal(tl->io_unmatched, 0);
	tl_free(tl);
}

/* ---- randomized check against a per-nanosecond oracle ---- */

struct ev {
	uint32_t tid;
	int kind; /* 0 transition, 1 add, 2 exit */
	uint64_t ts;
	int state;
};

static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

#define NT 5
#define TMAX 600

/* State of thread tid at instant t from the events in arrival order, or -1 if not alive. */
static int oracle(const struct ev *e, size_t n, uint32_t tid, uint64_t t)
{
	uint64_t death = UINT64_MAX, first = UINT64_MAX, best_ts = 0;
	int st = -1, added = 0;

	for (size_t i = 0; i < n; i++) {
		if (e[i].tid != tid)
			continue;
		if (e[i].kind == 2) {
			if (death == UINT64_MAX)
				death = e[i].ts;
			continue;
		}
		if (e[i].kind == 1 && added++)
			continue; /* a second add is not an event */
		if (e[i].ts < first)
			first = e[i].ts;
		/* the last event in (time, arrival) order at or before t */
		if (e[i].ts <= t && (st < 0 || e[i].ts >= best_ts)) {
			best_ts = e[i].ts;
			st = e[i].state;
		}
	}
	if (first == UINT64_MAX || t < first || t >= death)
		return -1;
	return st;
}

static void test_random_vs_oracle(void **state)
{
	(void)state;
	for (int round = 0; round < 40; round++) {
		struct ev e[NT * 40];
		size_t n = 0;
		struct tl_timeline *tl = tl_new();
		uint64_t ws = rnd(100), we = ws + rnd(TMAX - ws);
		uint64_t hist[4] = {0}, want_hist[4] = {0};
		struct tl_interval *u;
		long nu;
		uint64_t want_blocked = 0;

		for (uint32_t tid = 1; tid <= NT; tid++) {
			int nev = (int)rnd(30);
			/* births before the exit (one at or after it would be a reused tid) */
			uint64_t death = rnd(2) ? 1 + rnd(TMAX) : TMAX;

			for (int k = 0; k < nev; k++) {
				int add = rnd(8) == 0;
				uint64_t ts = add ? rnd(death) : rnd(TMAX);

				e[n++] = (struct ev){tid, add, ts, (int)rnd(TL_NSTATES)};
			}
			if (death < TMAX)
				e[n++] = (struct ev){tid, 2, death, 0};
		}
		/* a mild shuffle: neighbours swap, as per-CPU buffers interleave */
		for (size_t i = 1; i < n; i++)
			if (rnd(3) == 0) {
				struct ev x = e[i];

				e[i] = e[i - 1];
				e[i - 1] = x;
			}
		for (size_t i = 0; i < n; i++) {
			if (e[i].kind == 0)
				assert_int_equal(
					tl_transition(tl, 1, e[i].tid, e[i].ts, e[i].state), 0);
			else if (e[i].kind == 1)
				assert_non_null(
					tl_thread_add(tl, 1, e[i].tid, e[i].ts, e[i].state, NULL));
			else
				assert_int_equal(tl_thread_exit(tl, e[i].tid, e[i].ts, NULL), 0);
		}
		assert_int_equal(tl_finish(tl, ws, we), 0);
		check_all(tl);
		for (uint32_t tid = 1; tid <= NT; tid++) {
			struct tl_thread *t = tl_thread_find(tl, tid);
			uint64_t want[TL_NSTATES] = {0};

			if (!t)
				continue;
			for (uint64_t x = ws; x < we; x++) {
				int s = oracle(e, n, tid, x);

				if (s >= 0)
					want[s]++;
			}
			for (int s = 0; s < TL_NSTATES; s++)
				assert_int_equal(t->state_ns[s], want[s]);
		}
		for (uint64_t x = ws; x < we; x++) {
			unsigned on = 0, blocked = 0;

			for (uint32_t tid = 1; tid <= NT; tid++) {
				int s = oracle(e, n, tid, x);

				on += s >= 0 && tl_state_on_cpu(s);
				blocked |= s == TL_IO_WAIT;
			}
			want_hist[on < 3 ? on : 3]++;
			want_blocked += blocked;
		}
		assert_int_equal(tl_concurrency(tl, hist, 3), 0);
		for (int k = 0; k < 4; k++)
			assert_int_equal(hist[k], want_hist[k]);
		nu = tl_union_states(tl, 1u << TL_IO_WAIT, &u);
		assert_true(nu >= 0);
		assert_int_equal(tl_iv_length(u, (size_t)nu), want_blocked);
		for (long i = 1; i < nu; i++)
			assert_true(u[i].start > u[i - 1].end); /* normalized: no touching */
		free(u);
		tl_free(tl);
	}
}

/*
 * Far out of order, long enough for the merge passes of the sort (beyond its 32-element
 * insertion runs): event i at 3i in state i % 7, fed in a scrambled order. Every span is
 * [3i, 3i+3), so each state gets 3 ns per event in it.
 */
static void test_large_unsorted(void **state)
{
	enum { N = 10007 };
	struct tl_timeline *tl = tl_new();
	struct tl_interval *iv = malloc(N * sizeof(*iv));
	uint64_t want[TL_NSTATES] = {0};
	struct tl_thread *t;

	(void)state;
	assert_non_null(iv);
	for (uint64_t k = 0; k < N; k++) {
		uint64_t i = (k * 7919) % N; /* a permutation: N is prime */

		assert_int_equal(tl_transition(tl, 1, 1, 3 * i, (enum tl_state)(i % 7)), 0);
		/* io requests [3i, 3i+1) ending out of order too */
		assert_int_equal(tl_io_end(tl, i, 3 * i + 1), 0);
		assert_int_equal(tl_io_begin(tl, i, 3 * i), 0);
		iv[k] = (struct tl_interval){3 * i, 3 * i + 2};
		want[i % 7] += 3;
	}
	assert_int_equal(tl_finish(tl, 0, 3 * N), 0);
	t = th(tl, 1);
	assert_int_equal(t->nspans, N);
	for (int s = 0; s < TL_NSTATES; s++)
		assert_int_equal(t->state_ns[s], want[s]);
	check_all(tl);
	assert_int_equal(tl->nio, N);
	assert_int_equal(tl_iv_length(tl->io, tl->nio), N);
	assert_int_equal(tl_iv_normalize(iv, N), N);
	for (size_t k = 0; k < N; k++)
		assert_int_equal(iv[k].start, 3 * k);
	assert_int_equal(tl_iv_length(iv, N), 2 * N);
	free(iv);
	tl_free(tl);
}

/* A thread's pointer and lookups survive growth to many threads. */
static void test_many_threads(void **state)
{
	struct tl_timeline *tl = tl_new();

	(void)state;
	for (uint32_t tid = 1; tid <= 3000; tid++) {
		assert_non_null(tl_thread_add(tl, 1, tid * 4096, tid, TL_COMPUTE, NULL));
		assert_int_equal(tl_transition(tl, 1, tid * 4096, tid + 10, TL_IO_WAIT), 0);
	}
	for (uint32_t tid = 1; tid <= 3000; tid++)
		assert_int_equal(tl_transition(tl, 1, tid * 4096, tid + 20, TL_COMPUTE), 0);
	assert_int_equal(tl->nthreads, 3000);
	assert_int_equal(tl_finish(tl, 0, 4000), 0);
	for (uint32_t tid = 1; tid <= 3000; tid++) {
		struct tl_thread *t = th(tl, tid * 4096);

		assert_int_equal(t->state_ns[IOW], 10);
		assert_int_equal(t->state_ns[C], 4000 - tid - 10);
	}
	check_all(tl);
	tl_free(tl);
}

/* ---- folding long runs (tl_cut) and downsampling ---- */

struct cev {
	int kind; /* 0 transition, 1 add, 2 exit, 3 io begin, 4 io end, 5 gap, 6 block */
	uint32_t tid;
	uint64_t ts, id, to;
	int state;
	unsigned wk; /* what a wait is for (tl_span.kind) */
};

static int cev_cmp(const void *a, const void *b)
{
	const struct cev *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static void feed(struct tl_timeline *tl, const struct cev *e)
{
	switch (e->kind) {
	case 0:
		assert_int_equal(tl_transition_kind(tl, 1, e->tid, e->ts, e->state, e->wk), 0);
		break;
	case 1:
		assert_non_null(tl_thread_add(tl, 1, e->tid, e->ts, e->state, NULL));
		break;
	case 2:
		assert_int_equal(tl_thread_exit(tl, e->tid, e->ts, NULL), 0);
		break;
	case 3:
		assert_int_equal(tl_io_begin(tl, e->id, e->ts), 0);
		break;
	case 4:
		assert_int_equal(tl_io_end(tl, e->id, e->ts), 0);
		break;
	case 6:
		assert_int_equal(tl_block(tl, e->ts, e->to), 0);
		break;
	default:
		tl_gap(tl, e->tid, e->ts, e->to);
	}
}

/* A random stream in time order, neighbours swapped (events arrive slightly out of order). */
static size_t cut_stream(struct cev *e, size_t max)
{
	size_t n = 0;

	for (uint32_t tid = 1; tid <= NT; tid++) {
		uint64_t death = rnd(2) ? 1 + rnd(TMAX) : TMAX;
		int nev = 5 + (int)rnd(60);

		e[n++] = (struct cev){.kind = 1, .tid = tid, .ts = rnd(death), .state = (int)rnd(7)};
		for (int k = 0; k < nev && n + 4 < max; k++)
			e[n++] = (struct cev){.kind = 0, .tid = tid, .ts = rnd(TMAX),
					      .state = (int)rnd(TL_NSTATES), .wk = (unsigned)rnd(6)};
		if (death < TMAX)
			e[n++] = (struct cev){.kind = 2, .tid = tid, .ts = death};
		if (rnd(3) == 0) {
			uint64_t a = rnd(TMAX);

			e[n++] = (struct cev){.kind = 5, .tid = tid, .ts = a, .to = a + rnd(50)};
		}
	}
	/* requests, some never ending, one id reused, a stray end */
	for (uint64_t id = 1; id <= 12 && n + 3 < max; id++) {
		uint64_t a = rnd(TMAX);

		e[n++] = (struct cev){.kind = 3, .id = id % 9, .ts = a};
		if (rnd(5))
			e[n++] = (struct cev){.kind = 4, .id = id % 9, .ts = a + rnd(120)};
	}
	e[n++] = (struct cev){.kind = 4, .id = 99, .ts = rnd(TMAX)};
	/* block requests [ts, to), fed in order of their start (so a cut never clips one) */
	for (int k = 0; k < 8 && n + 1 < max; k++) {
		uint64_t a = rnd(TMAX);

		e[n++] = (struct cev){.kind = 6, .ts = a, .to = a + rnd(60)};
	}
	qsort(e, n, sizeof(*e), cev_cmp);
	for (size_t i = 1; i < n; i++)
		if (rnd(3) == 0) {
			struct cev x = e[i];

			e[i] = e[i - 1];
			e[i - 1] = x;
		}
	return n;
}

static void same_figures(const struct tl_timeline *a, const struct tl_timeline *b)
{
	assert_int_equal(a->nthreads, b->nthreads);
	assert_memory_equal(&a->measure, &b->measure, sizeof(a->measure));
	assert_int_equal(a->io_unmatched, b->io_unmatched);
	assert_int_equal(a->gaps_ns, b->gaps_ns);
	assert_int_equal(b->late_events, 0);
	for (size_t i = 0; i < a->nthreads; i++) {
		const struct tl_thread *x = &a->threads[i], *y = &b->threads[i];

		assert_int_equal(x->tid, y->tid);
		/* never alive in the window: start == end, wherever */
		assert_int_equal(x->end > x->start, y->end > y->start);
		if (x->end > x->start) {
			assert_int_equal(x->start, y->start);
			assert_int_equal(x->end, y->end);
		}
		assert_int_equal(x->switches, y->switches);
		assert_int_equal(x->gap_ns, y->gap_ns);
		assert_memory_equal(x->state_ns, y->state_ns, sizeof(x->state_ns));
	}
}

/*
 * The bounds and the capacity split by brute force, instant by instant, from a finished
 * timeline's exact spans, its request intervals and the block requests of the stream: the
 * rules of time-model.md written out again, independently of the sweep.
 */
static void bound_oracle(const struct tl_timeline *tl, const struct cev *e, size_t n,
			 unsigned ncpu, uint64_t *bound, uint64_t *unused, uint64_t *oncpu_ns)
{
	memset(bound, 0, TL_NBOUNDS * sizeof(*bound));
	memset(unused, 0, TL_NUNUSED * sizeof(*unused));
	*oncpu_ns = 0;
	for (uint64_t x = tl->win_start; x < tl->win_end; x++) {
		unsigned cnt[TL_NSTATES] = {0}, peer = 0, child = 0, polled = 0, contended = 0,
			 storage, on, idle, k;
		bool req = false, blk = false;
		int b;

		for (size_t i = 0; i < tl->nthreads; i++) {
			const struct tl_thread *t = &tl->threads[i];

			for (size_t j = 0; j < t->nspans; j++) {
				const struct tl_span *sp = &t->spans[j];

				if (x < sp->start || x >= sp->end)
					continue;
				cnt[sp->state]++;
				peer += sp->state == TL_IO_WAIT && sp->kind >= TL_IOK_PIPE;
				child += sp->state == TL_OTHER_WAIT && sp->kind == TL_OWK_CHILD;
				/* a poll for the pipe or socket the thread read next */
				polled += sp->state == TL_POLL_WAIT &&
					  (sp->kind == TL_IOK_PIPE || sp->kind == TL_IOK_SOCKET);
				contended += sp->state == TL_LOCK_WAIT &&
					     (sp->kind == TL_LK_MUTEX || sp->kind == TL_LK_GIL);
			}
		}
		for (size_t i = 0; i < tl->nio; i++)
			req |= x >= tl->io[i].start && x < tl->io[i].end;
		for (size_t i = 0; i < n; i++)
			blk |= e[i].kind == 6 && x >= e[i].ts && x < e[i].to;
		storage = cnt[TL_IO_WAIT] - peer;
		on = cnt[TL_COMPUTE] + cnt[TL_IO_CPU];
		b = cnt[TL_COMPUTE]		? TL_B_CPU
		    : cnt[TL_IO_CPU]		? TL_B_READ_CPU
		    : storage || req || blk	? TL_B_DEVICE
		    : contended			? TL_B_LOCK
		    : cnt[TL_RUNNABLE]		? TL_B_CPU_WAIT
		    : peer || child || polled	? TL_B_PEER
						: TL_B_IDLE;
		bound[b]++;
		*oncpu_ns += on;
		idle = on < ncpu ? ncpu - on : 0;
		k = cnt[TL_RUNNABLE] < idle ? cnt[TL_RUNNABLE] : idle;
		unused[TL_U_WAKEUP] += k;
		idle -= k;
		k = contended < idle ? contended : idle;
		unused[TL_U_LOCK] += k;
		idle -= k;
		k = storage < idle ? storage : idle;
		unused[TL_U_DEVICE] += k;
		unused[TL_U_SERIAL] += idle - k;
	}
}

/*
 * Folding as the events come (cut at every instant no later event can precede) changes
 * nothing: under the span budget not even the spans; the figures always, whatever the
 * budget, and a small budget downsamples the spans into contiguous bins within it.
 */
static void test_cut_equals_uncut(void **state)
{
	(void)state;
	for (int round = 0; round < 60; round++) {
		struct cev e[NT * 70 + 40];
		uint64_t sufmin[NT * 70 + 41];
		size_t n = cut_stream(e, NT * 70 + 30);
		uint64_t ws = rnd(100), we = ws + 1 + rnd(TMAX - ws);
		struct tl_timeline *a = tl_new(), *b = tl_new(), *c = tl_new();
		int cuts = 0;

		tl_set_span_budget(c, 6 + rnd(10));
		/* as many CPUs as threads: the capacity split always sums to ncpu x wall */
		tl_set_ncpu(a, NT);
		tl_set_ncpu(b, NT);
		tl_set_ncpu(c, NT);
		sufmin[n] = UINT64_MAX;
		for (size_t i = n; i-- > 0;)
			sufmin[i] = e[i].ts < sufmin[i + 1] ? e[i].ts : sufmin[i + 1];
		for (size_t i = 0; i < n; i++) {
			uint64_t upto = sufmin[i + 1];

			feed(a, &e[i]);
			feed(b, &e[i]);
			feed(c, &e[i]);
			if (rnd(4) == 0 && upto > ws && upto <= we && upto > b->cut_at) {
				assert_int_equal(tl_cut(b, ws, upto), 0);
				assert_int_equal(tl_cut(c, ws, upto), 0);
				cuts++;
			}
		}
		assert_int_equal(tl_finish(a, ws, we), 0);
		assert_int_equal(tl_finish(b, ws, we), 0);
		assert_int_equal(tl_finish(c, ws, we), 0);
		same_figures(a, b);
		same_figures(a, c);
		{
			uint64_t bound[TL_NBOUNDS], unused[TL_NUNUSED], oncpu, sum = 0, usum = 0;

			bound_oracle(a, e, n, NT, bound, unused, &oncpu);
			assert_memory_equal(a->measure.bound, bound, sizeof(bound));
			assert_memory_equal(a->measure.unused, unused, sizeof(unused));
			assert_int_equal(a->measure.oncpu_ns, oncpu);
			for (int k = 0; k < TL_NBOUNDS; k++)
				sum += a->measure.bound[k];
			for (int k = 0; k < TL_NUNUSED; k++)
				usum += a->measure.unused[k];
			assert_int_equal(sum, we - ws);
			assert_int_equal(oncpu + usum, (uint64_t)NT * (we - ws));
		}
		/* under budget: the very same spans and I/O intervals */
		assert_int_equal(b->resolution_ns, 0);
		assert_int_equal(b->exact_from, ws);
		check_all(b);
		for (size_t i = 0; i < a->nthreads; i++) {
			assert_int_equal(a->threads[i].nspans, b->threads[i].nspans);
			for (size_t k = 0; k < a->threads[i].nspans; k++) {
				const struct tl_span *x = &a->threads[i].spans[k];
				const struct tl_span *y = &b->threads[i].spans[k];

				assert_int_equal(x->start, y->start);
				assert_int_equal(x->end, y->end);
				assert_int_equal(x->state, y->state);
				assert_int_equal(x->kind, y->kind);
			}
		}
		assert_int_equal(a->nio, b->nio);
		assert_memory_equal(a->io, b->io, a->nio * sizeof(*a->io));
		/* downsampled: contiguous, non-empty, inside the lifetime, within budget */
		{
			size_t total = c->nio;

			for (size_t i = 0; i < c->nthreads; i++) {
				const struct tl_thread *t = &c->threads[i];

				total += t->nspans;
				if (!t->nspans)
					continue;
				assert_int_equal(t->spans[0].start, t->start);
				assert_int_equal(t->spans[t->nspans - 1].end, t->end);
				for (size_t k = 0; k < t->nspans; k++) {
					assert_true(t->spans[k].start < t->spans[k].end);
					if (k)
						assert_int_equal(t->spans[k].start,
								 t->spans[k - 1].end);
				}
			}
			if (total > c->span_budget)
				assert_true(c->resolution_ns > we - ws);
			if (c->resolution_ns)
				assert_true(c->exact_from > ws);
		}
		(void)cuts;
		tl_free(a);
		tl_free(b);
		tl_free(c);
	}
}

/*
 * Downsampling by hand: 0..4000 ns alternating compute 60 ns / io_wait 40 ns. At the first
 * bin (1 µs) compute holds 600 of every 1000 ns, so the thread is drawn as one compute
 * span; the figures stay those of the 80 alternations.
 */
static void test_downsample_by_hand(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	tl_set_span_budget(tl, 4);
	assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, "w"));
	for (uint64_t x = 0; x < 4000; x += 100) {
		assert_int_equal(tl_transition(tl, 1, 1, x, TL_COMPUTE), 0);
		assert_int_equal(tl_transition(tl, 1, 1, x + 60, TL_IO_WAIT), 0);
	}
	assert_int_equal(tl_finish(tl, 0, 4000), 0);
	t = th(tl, 1);
	assert_int_equal(tl->resolution_ns, 1000);
	assert_int_equal(tl->exact_from, 4000);
	assert_int_equal(t->nspans, 1);
	assert_int_equal(t->spans[0].state, C);
	assert_int_equal(t->spans[0].end, 4000);
	assert_int_equal(t->state_ns[C], 2400);
	assert_int_equal(t->state_ns[IOW], 1600);
	assert_int_equal(t->switches, 40);
	assert_int_equal(tl->measure.blocked, 1600);
	assert_int_equal(tl->measure.computing, 2400);
	assert_int_equal(tl->measure.oncpu[1], 2400);
	assert_int_equal(tl->measure.oncpu[0], 1600);
	tl_free(tl);
}

/* Events for folded time: a transition is dropped, an I/O edge moves to the cut; counted. */
static void test_cut_late_events(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	(void)state;
	assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, "w"));
	assert_int_equal(tl_transition(tl, 1, 1, 100, TL_IO_WAIT), 0);
	assert_int_equal(tl_cut(tl, 0, 150), 0);
	assert_int_equal(tl_cut(tl, 0, 150), -EINVAL); /* not after the last cut */
	assert_int_equal(tl_transition(tl, 1, 1, 120, TL_COMPUTE), 0);
	assert_int_equal(tl_io_begin(tl, 7, 100), 0);
	assert_int_equal(tl_io_end(tl, 7, 400), 0);
	assert_int_equal(tl_transition(tl, 1, 1, 250, TL_COMPUTE), 0);
	assert_int_equal(tl_finish(tl, 0, 100), -EINVAL); /* ends before the cut */
	assert_int_equal(tl_finish(tl, 0, 300), 0);
	assert_int_equal(tl->late_events, 2);
	t = th(tl, 1);
	assert_int_equal(t->state_ns[C], 150);
	assert_int_equal(t->state_ns[IOW], 150);
	assert_int_equal(tl->nio, 1);
	assert_int_equal(tl->io[0].start, 150);
	assert_int_equal(tl->io[0].end, 300);
	/* U_io: in io_wait [100, 250) or the request [150, 300) */
	assert_int_equal(tl->measure.io, 200);
	assert_int_equal(tl->io_unmatched, 0);
	check_all(tl);
	tl_free(tl);
}

/*
 * Bounds and capacity by hand, one 100 ns stretch per priority boundary, 2 CPUs, window
 * [0, 1000). Each stretch puts the winning condition next to the lower ones it beats:
 *   [0,100)    T1 compute, T2 io_cpu, T3 io_wait file         cpu       on 2
 *   [100,200)  T1 io_cpu, T2 io_wait file, T3 runnable        read_cpu  on 1: wakeup 1
 *   [200,300)  T1 io_wait file, T2 mutex, T3 runnable         device    wakeup 1, lock 1
 *   [300,400)  T1 gil, T2 runnable, T3 io_wait pipe           lock      wakeup 1, lock 1
 *   [400,500)  T1 runnable, T2 io_wait socket, T3 join        cpu_wait  wakeup 1, serial 1
 *   [500,600)  T1 io_wait pipe, T2 condvar, T3 poll           peer      serial 2
 *   [600,700)  T1 other_wait, T2 join, T3 poll                idle      serial 2
 *   [700,800)  T1-T3 io_wait file, a block request            device    device 2
 *   [800,900)  T1 other_wait, block [800,850), request [850,900): device, serial 2
 *   [900,1000) T1, T2 compute, T3 runnable                    cpu       on 2
 * cpu 200, read_cpu 100, device 300, lock 100, cpu_wait 100, peer 100, idle 100; on-CPU
 * 500 + wakeup 400 + lock 200 + device 200 + serial 700 = 2 x 1000. The same with cuts.
 */
static void bounds_feed(struct tl_timeline *tl, uint64_t cut1, uint64_t cut2)
{
	static const struct {
		uint64_t ts;
		int st[3];
		unsigned k[3];
	} seg[] = {
		{0, {C, IOC, IOW}, {0, TL_IOK_FILE, TL_IOK_FILE}},
		{100, {IOC, IOW, RUN}, {TL_IOK_FILE, TL_IOK_FILE, 0}},
		{200, {IOW, LCK, RUN}, {TL_IOK_FILE, TL_LK_MUTEX, 0}},
		{300, {LCK, RUN, IOW}, {TL_LK_GIL, 0, TL_IOK_PIPE}},
		{400, {RUN, IOW, LCK}, {0, TL_IOK_SOCKET, TL_LK_JOIN}},
		{500, {IOW, LCK, POLL}, {TL_IOK_PIPE, TL_LK_CONDVAR, 0}},
		{600, {OTH, LCK, POLL}, {0, TL_LK_JOIN, 0}},
		{700, {IOW, IOW, IOW}, {TL_IOK_FILE, TL_IOK_FILE, TL_IOK_NONE}},
		{800, {OTH, OTH, OTH}, {0, 0, 0}},
		{900, {C, C, RUN}, {0, 0, 0}},
	};

	tl_set_ncpu(tl, 2);
	for (size_t i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		if (cut1 && seg[i].ts > cut1 && seg[i].ts - 100 <= cut1)
			assert_int_equal(tl_cut(tl, 0, cut1), 0);
		if (cut2 && seg[i].ts > cut2 && seg[i].ts - 100 <= cut2)
			assert_int_equal(tl_cut(tl, 0, cut2), 0);
		for (uint32_t t = 0; t < 3; t++)
			assert_int_equal(tl_transition_kind(tl, 1, t + 1, seg[i].ts, seg[i].st[t],
							    seg[i].k[t]), 0);
		if (seg[i].ts == 700)
			assert_int_equal(tl_block(tl, 720, 780), 0);
		if (seg[i].ts == 800) {
			assert_int_equal(tl_block(tl, 800, 850), 0);
			assert_int_equal(tl_io_begin(tl, 7, 850), 0);
			assert_int_equal(tl_io_end(tl, 7, 900), 0);
		}
	}
}

static void test_bounds_by_hand(void **state)
{
	static const uint64_t want_b[TL_NBOUNDS] = {
		[TL_B_CPU] = 200, [TL_B_READ_CPU] = 100, [TL_B_DEVICE] = 300, [TL_B_LOCK] = 100,
		[TL_B_CPU_WAIT] = 100, [TL_B_PEER] = 100, [TL_B_IDLE] = 100,
	};
	static const uint64_t want_u[TL_NUNUSED] = {
		[TL_U_WAKEUP] = 400, [TL_U_LOCK] = 200, [TL_U_DEVICE] = 200, [TL_U_SERIAL] = 700,
	};
	static const uint64_t cuts[][2] = {{0, 0}, {450, 0}, {250, 820}, {100, 900}};

	(void)state;
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct tl_timeline *tl = tl_new();

		bounds_feed(tl, cuts[c][0], cuts[c][1]);
		assert_int_equal(tl_finish(tl, 0, 1000), 0);
		check_all(tl);
		for (int k = 0; k < TL_NBOUNDS; k++)
			assert_int_equal(tl->measure.bound[k], want_b[k]);
		for (int k = 0; k < TL_NUNUSED; k++)
			assert_int_equal(tl->measure.unused[k], want_u[k]);
		assert_int_equal(tl->measure.oncpu_ns, 500);
		/* U_io: threads in reads, requests, and block requests ([800,850) alone) */
		assert_int_equal(tl->measure.io, 200 + 100 + 100 + 100 + 100 + 100 + 50 + 50);
		assert_int_equal(tl->measure.io_block_only, 50);
		assert_int_equal(tl->measure.io_block_only_computing, 0);
		/* each thread's waits by kind, folded or not (T3's [700,800) kind not known) */
		{
			const struct tl_thread *t1 = tl_thread_find(tl, 1), *t2 = tl_thread_find(tl, 2);
			const struct tl_thread *t3 = tl_thread_find(tl, 3);

			assert_int_equal(t1->kind_ns[TL_IO_CPU][TL_IOK_FILE], 100);
			assert_int_equal(t1->kind_ns[TL_IO_WAIT][TL_IOK_FILE], 200);
			assert_int_equal(t1->kind_ns[TL_IO_WAIT][TL_IOK_PIPE], 100);
			assert_int_equal(t1->kind_ns[TL_LOCK_WAIT][TL_LK_GIL], 100);
			assert_int_equal(t2->kind_ns[TL_IO_CPU][TL_IOK_FILE], 100);
			assert_int_equal(t2->kind_ns[TL_IO_WAIT][TL_IOK_FILE], 200);
			assert_int_equal(t2->kind_ns[TL_IO_WAIT][TL_IOK_SOCKET], 100);
			assert_int_equal(t2->kind_ns[TL_LOCK_WAIT][TL_LK_MUTEX], 100);
			assert_int_equal(t2->kind_ns[TL_LOCK_WAIT][TL_LK_CONDVAR], 100);
			assert_int_equal(t2->kind_ns[TL_LOCK_WAIT][TL_LK_JOIN], 100);
			assert_int_equal(t3->kind_ns[TL_IO_WAIT][TL_IOK_FILE], 100);
			assert_int_equal(t3->kind_ns[TL_IO_WAIT][TL_IOK_PIPE], 100);
			assert_int_equal(t3->kind_ns[TL_IO_WAIT][TL_IOK_NONE], 100);
			assert_int_equal(t3->kind_ns[TL_LOCK_WAIT][TL_LK_JOIN], 100);
		}
		tl_free(tl);
	}
	assert_string_equal(tl_bound_name(TL_B_READ_CPU), "read_cpu");
	assert_string_equal(tl_bound_name(TL_NBOUNDS), "?");
	assert_string_equal(tl_unused_name(TL_U_WAKEUP), "wakeup");
}

/*
 * The device busy for the run while nothing of it reads (readahead): one thread computes
 * [0,100) while a block request runs [20,80), then waits in a read [100,150) on a request
 * [100,150). U_io = 60 + 50; of it the device alone 60, all while computing.
 */
static void test_readahead_hidden(void **state)
{
	static const uint64_t cuts[] = {0, 50, 120};

	(void)state;
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct tl_timeline *tl = tl_new();

		assert_int_equal(tl_transition(tl, 1, 1, 0, TL_COMPUTE), 0);
		assert_int_equal(tl_block(tl, 20, 80), 0);
		if (cuts[c] == 50)
			assert_int_equal(tl_cut(tl, 0, 50), 0);
		assert_int_equal(tl_transition_kind(tl, 1, 1, 100, TL_IO_WAIT, TL_IOK_FILE), 0);
		assert_int_equal(tl_block(tl, 100, 150), 0);
		if (cuts[c] == 120)
			assert_int_equal(tl_cut(tl, 0, 120), 0);
		assert_int_equal(tl_transition(tl, 1, 1, 150, TL_COMPUTE), 0);
		assert_int_equal(tl_finish(tl, 0, 200), 0);
		assert_int_equal(tl->measure.io, 110);
		assert_int_equal(tl->measure.io_computing, 60);
		assert_int_equal(tl->measure.io_block_only, 60);
		assert_int_equal(tl->measure.io_block_only_computing, 60);
		/* the device's busy time is kept, whole across the cuts */
		expect_iv(tl->dev, (long)tl->ndev, (const uint64_t[]){20, 80, 100, 150}, 2);
		tl_free(tl);
	}
}

/*
 * A futex wait's kind comes after its transitions (tl_label): two lock waits of one thread,
 * [10,30) and [50,60), labelled join and mutex; a cut at 20 keeps [10,20) unlabelled.
 */
static void test_label(void **state)
{
	for (int cut = 0; cut < 2; cut++) {
		struct tl_timeline *tl = tl_new();
		const struct tl_thread *t;

		(void)state;
		assert_int_equal(tl_transition(tl, 1, 1, 0, TL_COMPUTE), 0);
		assert_int_equal(tl_transition(tl, 1, 1, 10, TL_LOCK_WAIT), 0);
		assert_int_equal(tl_transition(tl, 1, 1, 30, TL_COMPUTE), 0);
		if (cut)
			assert_int_equal(tl_cut(tl, 0, 20), 0);
		assert_int_equal(tl_transition(tl, 1, 1, 50, TL_LOCK_WAIT), 0);
		assert_int_equal(tl_transition(tl, 1, 1, 60, TL_COMPUTE), 0);
		tl_label(tl, 1, 10, 30, TL_LOCK_WAIT, TL_LK_JOIN);
		tl_label(tl, 1, 50, 60, TL_LOCK_WAIT, TL_LK_MUTEX);
		tl_label(tl, 1, 0, 100, TL_IO_WAIT, TL_IOK_PIPE); /* no such state: no change */
		assert_int_equal(tl_finish(tl, 0, 100), 0);
		t = tl_thread_find(tl, 1);
		assert_int_equal(t->kind_ns[TL_LOCK_WAIT][TL_LK_JOIN], cut ? 10 : 20);
		assert_int_equal(t->kind_ns[TL_LOCK_WAIT][TL_LK_NONE], cut ? 10 : 0);
		assert_int_equal(t->kind_ns[TL_LOCK_WAIT][TL_LK_MUTEX], 10);
		assert_int_equal(t->state_ns[TL_LOCK_WAIT], 30);
		tl_free(tl);
	}
}

/*
 * A parent waiting for its child (wait4: other_wait of kind child) is waiting on a peer;
 * any other sleep is idle. Window [0,400), 2 CPUs: the parent P forks C, waits [50,350)
 * (kind child), then sleeps [350,400) (no kind). C computes [0,100) and [200,250), sleeps
 * between (no kind: idle unless P's wait), exits at 250.
 *   [0,50) cpu  [50,100) cpu  [100,200) peer  [200,250) cpu  [250,350) peer  [350,400) idle
 * cpu 150, peer 200, idle 50; capacity: on-CPU 50 + 150 + serial 600 = 2 x 400 (a thread
 * waiting for its child has no work for a CPU). P's other_wait
 * splits into child 300, other 50. The same with a cut inside each stretch.
 */
static void test_bounds_child_wait(void **state)
{
	static const uint64_t cuts[] = {0, 75, 220, 360};

	(void)state;
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct tl_timeline *tl = tl_new();
		const struct tl_thread *p;

		tl_set_ncpu(tl, 2);
		assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, "sh"));
		assert_non_null(tl_thread_add(tl, 2, 2, 0, TL_COMPUTE, "child"));
		assert_int_equal(tl_transition_kind(tl, 1, 1, 50, TL_OTHER_WAIT, TL_OWK_CHILD), 0);
		if (cuts[c] == 75)
			assert_int_equal(tl_cut(tl, 0, 75), 0);
		assert_int_equal(tl_transition(tl, 2, 2, 100, TL_OTHER_WAIT), 0);
		assert_int_equal(tl_transition(tl, 2, 2, 200, TL_COMPUTE), 0);
		if (cuts[c] == 220)
			assert_int_equal(tl_cut(tl, 0, 220), 0);
		assert_int_equal(tl_thread_exit(tl, 2, 250, NULL), 0);
		assert_int_equal(tl_transition(tl, 1, 1, 350, TL_OTHER_WAIT), 0);
		if (cuts[c] == 360)
			assert_int_equal(tl_cut(tl, 0, 360), 0);
		assert_int_equal(tl_finish(tl, 0, 400), 0);
		assert_int_equal(tl->measure.bound[TL_B_CPU], 150);
		assert_int_equal(tl->measure.bound[TL_B_PEER], 200);
		assert_int_equal(tl->measure.bound[TL_B_IDLE], 50);
		assert_int_equal(tl->measure.bound[TL_B_LOCK] + tl->measure.bound[TL_B_DEVICE] +
					 tl->measure.bound[TL_B_READ_CPU] +
					 tl->measure.bound[TL_B_CPU_WAIT],
				 0);
		assert_int_equal(tl->measure.oncpu_ns, 200);
		assert_int_equal(tl->measure.unused[TL_U_SERIAL], 600);
		p = tl_thread_find(tl, 1);
		assert_int_equal(p->kind_ns[TL_OTHER_WAIT][TL_OWK_CHILD], 300);
		assert_int_equal(p->kind_ns[TL_OTHER_WAIT][TL_OWK_NONE], 50);
		tl_free(tl);
	}
}

/* Without the CPUs (tl_set_ncpu never called) the capacity stays 0; the bounds do not. */
static void test_bounds_no_ncpu(void **state)
{
	struct tl_timeline *tl = tl_new();

	(void)state;
	assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, NULL));
	assert_int_equal(tl_transition(tl, 1, 1, 40, TL_IO_WAIT), 0);
	assert_int_equal(tl_finish(tl, 0, 100), 0);
	assert_int_equal(tl->measure.bound[TL_B_CPU], 40);
	/* a read of unknown kind counts as storage */
	assert_int_equal(tl->measure.bound[TL_B_DEVICE], 60);
	assert_int_equal(tl->measure.oncpu_ns, 0);
	for (int k = 0; k < TL_NUNUSED; k++)
		assert_int_equal(tl->measure.unused[k], 0);
	tl_free(tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_preemption),
		cmocka_unit_test(test_switch_out_in_syscall),
		cmocka_unit_test(test_thread_mid_run_and_exit),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_equal_timestamps_stable),
		cmocka_unit_test(test_clipping),
		cmocka_unit_test(test_exit_only_and_errors),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_gap_fill),
		cmocka_unit_test(test_tid_reuse),
		cmocka_unit_test(test_iv_normalize),
		cmocka_unit_test(test_iv_intersect),
		cmocka_unit_test(test_union_states),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_concurrency_empty),
		cmocka_unit_test(test_io_pairing),
		cmocka_unit_test(test_io_many),
		cmocka_unit_test(test_random_vs_oracle),
		cmocka_unit_test(test_large_unsorted),
		cmocka_unit_test(test_cut_equals_uncut),
		cmocka_unit_test(test_downsample_by_hand),
		cmocka_unit_test(test_cut_late_events),
		cmocka_unit_test(test_bounds_by_hand),
		cmocka_unit_test(test_readahead_hidden),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_bounds_no_ncpu),
		cmocka_unit_test(test_bounds_child_wait),
		cmocka_unit_test(test_many_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
