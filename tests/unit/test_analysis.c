/* test_analysis.c - per-run metrics, ideal bound and speedups on synthetic runs, by hand. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"

#define EPS 1e-9

/* cmocka 1.1 compares floats only: doubles with their values in the failure message */
static void near(double a, double b, double eps, const char *expr, int line)
{
	if (!(fabs(a - b) <= eps)) {
		print_error("line %d: %s = %.15g, expected %.15g (±%g)\n", line, expr, a, b, eps);
		fail();
	}
}
#define assert_near(a, b, eps) near((a), (b), (eps), #a, __LINE__)

/*
 * Three threads, window [0, 100):
 *   M (main): compute [0,10), lock_wait [10,100)                      (joins)
 *   A: runnable [10,12) compute [12,30) io_cpu [30,35) io_wait [35,60)
 *      io_cpu [60,62) compute [62,90), exits at 90
 *   B: runnable [10,15) io_cpu [15,20) io_wait [20,50) io_cpu [50,55)
 *      compute [55,80) runnable [80,85) compute [85,100)
 *   an io_uring request in flight [64,75) that nobody blocks on.
 *
 * Per state (thread-ns): compute 10+46+40 = 96, io_cpu 7+10 = 17, io_wait 25+30 = 55,
 * lock_wait 90, runnable 2+10 = 12; sum 270 = lifetimes 100+80+90.
 *
 * Segment by segment (threads on CPU; blocked = some io_wait; io = some io_cpu/io_wait
 * or the request; cpu = some compute):
 *   [0,10) 1 | [10,12) 0 | [12,15) 1 | [15,20) 2 io cpu | [20,30) 1 blocked io cpu
 *   [30,35) 1 blocked io | [35,50) 0 blocked io | [50,55) 1 blocked io
 *   [55,60) 1 blocked io cpu | [60,62) 2 io cpu | [62,64) 2 | [64,75) 2 io cpu
 *   [75,80) 2 | [80,85) 1 | [85,90) 2 | [90,100) 1
 * U_blocked = [20,60) = 40; busy in it: [20,35) + [50,60) = 25  -> overlap 25/40 = 0.625
 * U_io = [15,62) + [64,75) = 58; with compute: [15,30) + [55,62) + [64,75) = 33
 *   -> hidden 33/58, exposed 25 ([30,55))
 * histogram (ncpu 2): k=0 2+15 = 17, k=2 5+2+2+11+5+5 = 30, k=1 100-17-30 = 53
 * parallelism (96+17)/100 = 1.13; runnable share 12/125; read on CPU 17/72
 * switch-outs: M at 10, A at 35, B at 20 and 80 = 4
 */
static struct tl_timeline *scenario(void)
{
	struct tl_timeline *tl = tl_new();
	struct tl_thread *t;

	t = tl_thread_add(tl, 100, 100, 0, TL_COMPUTE, "md5dir");
	assert_non_null(t);
	snprintf(t->role, sizeof(t->role), "main");
	assert_int_equal(tl_transition(tl, 100, 100, 10, TL_LOCK_WAIT), 0);

	t = tl_thread_add(tl, 100, 101, 10, TL_RUNNABLE, "worker");
	assert_non_null(t);
	snprintf(t->role, sizeof(t->role), "worker 1");
	t->reads = 2;
	t->bytes_read = 600;
	t->bytes_read_by_kind[TL_IOK_FILE - 1] = 400;
	t->bytes_read_by_kind[TL_IOK_SOCKET - 1] = 200;
	t->stolen_ns = 7;
	assert_int_equal(tl_transition(tl, 100, 101, 12, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 100, 101, 30, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 100, 101, 35, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 100, 101, 60, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 100, 101, 62, TL_COMPUTE), 0);
	assert_int_equal(tl_thread_exit(tl, 101, 90, NULL), 0);

	t = tl_thread_add(tl, 100, 102, 10, TL_RUNNABLE, "worker");
	assert_non_null(t);
	snprintf(t->role, sizeof(t->role), "worker 2");
	t->stolen_ns = 4;
	assert_int_equal(tl_transition(tl, 100, 102, 15, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 100, 102, 20, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 100, 102, 50, TL_IO_CPU), 0);
	assert_int_equal(tl_transition(tl, 100, 102, 55, TL_COMPUTE), 0);
	assert_int_equal(tl_transition(tl, 100, 102, 80, TL_RUNNABLE), 0);
	assert_int_equal(tl_transition(tl, 100, 102, 85, TL_COMPUTE), 0);

	assert_int_equal(tl_io_begin(tl, 0xabc, 64), 0);
	assert_int_equal(tl_io_end(tl, 0xabc, 75), 0);
	/* a thread entirely before the window is left out of run->threads */
	assert_non_null(tl_thread_add(tl, 100, 103, 0, TL_COMPUTE, "gone"));
	assert_int_equal(tl_thread_exit(tl, 103, 0, NULL), 0);
	assert_int_equal(tl_finish(tl, 0, 100), 0);
	return tl;
}

/* --repeat: the median (lower middle for an even count), the spread, the fold by label */
static void test_repeats(void **state)
{
	static const uint64_t odd[] = {30, 10, 20}, even[] = {40, 10, 30, 20}, ties[] = {5, 5, 5};
	static const char *const order[] = {"a/warm", "b/warm", "b/warm", "a/warm", "a/warm",
					    "b/warm", "c/cold"};
	static const uint64_t walls[] = {300, 100, 90, 100, 200, 95, 7};
	struct an_report rep = {0};

	(void)state;
	assert_int_equal(an_median_index(odd, 3), 2);
	assert_int_equal(an_median_index(even, 4), 3); /* 20: the lower of 20 and 30 */
	assert_int_equal(an_median_index(ties, 3), 1);
	assert_int_equal(an_median_index(odd, 1), 0);
	rep.nruns = 7;
	rep.runs = calloc(rep.nruns, sizeof(*rep.runs));
	assert_non_null(rep.runs);
	for (size_t i = 0; i < rep.nruns; i++) {
		snprintf(rep.runs[i].label, sizeof(rep.runs[i].label), "%s", order[i]);
		rep.runs[i].wall_ns = walls[i];
		rep.runs[i].io_ns = 10 * i; /* tells which repetition was kept */
	}
	assert_int_equal(an_report_fold_repeats(&rep), 0);
	assert_int_equal(rep.nruns, 3);
	/* each label where it first ran; the median repetition's own figures */
	assert_string_equal(rep.runs[0].label, "a/warm");
	assert_int_equal(rep.runs[0].wall_ns, 200);
	assert_int_equal(rep.runs[0].io_ns, 40);
	assert_int_equal(rep.runs[0].nrepeats, 3);
	assert_int_equal(rep.runs[0].repeats[0].wall_ns, 300); /* in the order they ran */
	assert_int_equal(rep.runs[0].repeats[1].wall_ns, 100);
	assert_int_equal(rep.runs[0].repeats[2].wall_ns, 200);
	assert_int_equal(rep.runs[0].wall_min_ns, 100);
	assert_int_equal(rep.runs[0].wall_max_ns, 300);
	assert_string_equal(rep.runs[1].label, "b/warm");
	assert_int_equal(rep.runs[1].wall_ns, 95);
	assert_int_equal(rep.runs[1].wall_min_ns, 90);
	assert_int_equal(rep.runs[1].wall_max_ns, 100);
	/* made once: no repetitions, its own wall is the spread */
	assert_string_equal(rep.runs[2].label, "c/cold");
	assert_int_equal(rep.runs[2].nrepeats, 0);
	assert_int_equal(rep.runs[2].wall_min_ns, 7);
	assert_int_equal(rep.runs[2].wall_max_ns, 7);
	/* a: 300, 100, 200 and b: 100, 90, 95 tie at 100 (a rank test's U = 0.5, counted as 1:
	 * p = 0.20): within noise; c was not repeated */
	assert_true(an_within_noise(&rep.runs[0], &rep.runs[1]));
	assert_false(an_within_noise(&rep.runs[0], &rep.runs[2]));
	rep.runs[1].repeats[0].wall_ns = 99; /* every b under every a: p = 0.10, ranked */
	assert_false(an_within_noise(&rep.runs[0], &rep.runs[1]));
	an_report_free(&rep);
}

static void test_run_metrics(void **state)
{
	/* 800 bytes from files, 200 from a pipe; of 450 bytes inserted, 200 by the reads */
	struct an_counters c = {
		.reads = 4, .bytes_read = 1000, .pcache_insert_bytes = 450, .pcache_ok = true,
		.bytes_read_by_kind = {[TL_IOK_FILE - 1] = 800, [TL_IOK_PIPE - 1] = 200},
		.bytes_kind_ok = true, .pcache_read_bytes = 200, .pcache_fault_bytes = 150,
		.pcache_other_bytes = 100, .pcache_cause_ok = true,
		.block_bytes = 4000, .block_busy_ns = 2000, .block_ok = true, .stolen_ok = true,
	};
	struct an_run run;
	struct tl_timeline *tl = scenario();
	double sum = 0.0;

	(void)state;
	memset(&run, 0, sizeof(run));
	snprintf(run.label, sizeof(run.label), "threads/cold");
	run.resident_before = 0.25;
	assert_int_equal(an_run_compute(&run, tl, &c, 2), 0);
	assert_ptr_equal(run.tl, tl);
	assert_string_equal(run.label, "threads/cold"); /* the caller's fields stay */
	assert_true(run.resident_before == 0.25);

	assert_int_equal(run.wall_ns, 100);
	assert_int_equal(run.states_ns[TL_COMPUTE], 96);
	assert_int_equal(run.states_ns[TL_IO_CPU], 17);
	assert_int_equal(run.states_ns[TL_IO_WAIT], 55);
	assert_int_equal(run.states_ns[TL_LOCK_WAIT], 90);
	assert_int_equal(run.states_ns[TL_RUNNABLE], 12);
	assert_int_equal(run.states_ns[TL_POLL_WAIT] + run.states_ns[TL_OTHER_WAIT], 0);

	assert_int_equal(run.nthreads, 3);
	assert_string_equal(run.threads[0].role, "main");
	assert_string_equal(run.threads[1].role, "worker 1");
	assert_string_equal(run.threads[1].comm, "worker");
	assert_int_equal(run.threads[1].tid, 101);
	assert_int_equal(run.threads[1].pid, 100);
	assert_int_equal(run.threads[1].lifetime_ns, 80);
	assert_int_equal(run.threads[1].states_ns[TL_IO_WAIT], 25);
	assert_int_equal(run.threads[1].bytes_read, 600);
	assert_true(run.threads[1].bytes_kind_ok);
	assert_int_equal(run.threads[1].bytes_read_by_kind[TL_IOK_FILE - 1], 400);
	assert_int_equal(run.threads[1].bytes_read_by_kind[TL_IOK_PIPE - 1], 0);
	assert_int_equal(run.threads[1].bytes_read_by_kind[TL_IOK_SOCKET - 1], 200);
	/* the tracer's per-thread steal is carried, and summed over the run's threads */
	assert_int_equal(run.threads[1].stolen_ns, 7);
	assert_int_equal(run.threads[2].stolen_ns, 4);
	assert_int_equal(run.stolen_ns, 11);
	assert_true(run.stolen_ok);
	assert_int_equal(run.threads[2].lifetime_ns, 90);

	assert_int_equal(run.blocked_ns, 40);
	assert_int_equal(run.blocked_busy_ns, 25);
	assert_true(run.cpu_overlap_ok);
	assert_near(run.cpu_overlap, 0.625, EPS);
	assert_int_equal(run.io_ns, 58);
	assert_int_equal(run.exposed_io_ns, 25);
	assert_true(run.hidden_io_ok);
	assert_near(run.hidden_io, 33.0 / 58.0, EPS);

	assert_int_equal(run.ncpu, 2);
	assert_int_equal(run.concurrency_ns[0], 17);
	assert_int_equal(run.concurrency_ns[1], 53);
	assert_int_equal(run.concurrency_ns[2], 30);
	for (unsigned k = 0; k <= run.ncpu; k++)
		sum += run.concurrency[k];
	assert_near(sum, 1.0, EPS);
	assert_near(run.concurrency[0], 0.17, EPS);
	assert_near(run.parallelism, 1.13, EPS);
	assert_true(run.runnable_share_ok);
	assert_near(run.runnable_share, 12.0 / 125.0, EPS);
	assert_true(run.read_oncpu_share_ok);
	assert_near(run.read_oncpu_share, 17.0 / 72.0, EPS);
	assert_int_equal(run.switches, 4);

	/* file reads only, their own insertions only: 1 - 200/800 (all bytes and all
	 * insertions would say 1 - 450/1000 = 55%) */
	assert_true(run.hit_ratio_ok);
	assert_near(run.hit_ratio, 0.75, EPS);
	assert_string_equal(run.hit_ratio_unavailable, "");
	assert_true(run.device_rate_ok);
	assert_near(run.device_rate, 4000.0 * 1e9 / 2000.0, 1e-3);
	assert_int_equal(run.c.reads, 4);

	an_run_free(&run);
	assert_null(run.tl);
	assert_null(run.threads);
}

/*
 * Reads of files opened O_DIRECT bypass the page cache: the hit ratio is over the file bytes
 * read through it, and unavailable when every file byte was read O_DIRECT; each thread
 * carries its own direct bytes. Hand-computed on the scenario.
 */
static void test_hit_ratio_direct(void **state)
{
	/* 800 file bytes, 600 of them O_DIRECT; the other 200's misses inserted 50 */
	struct an_counters c = {
		.reads = 4, .bytes_read = 1000, .pcache_insert_bytes = 50, .pcache_ok = true,
		.bytes_read_by_kind = {[TL_IOK_FILE - 1] = 800, [TL_IOK_PIPE - 1] = 200},
		.bytes_kind_ok = true, .bytes_read_direct = 600, .bytes_direct_ok = true,
		.pcache_read_bytes = 50, .pcache_cause_ok = true,
	};
	struct tl_timeline *tl = scenario();
	struct an_run run;

	(void)state;
	memset(&run, 0, sizeof(run));
	/* worker 1 read 300 of its 400 file bytes O_DIRECT */
	tl_thread_find(tl, 101)->bytes_read_direct = 300;
	assert_int_equal(an_run_compute(&run, tl, &c, 2), 0);
	assert_true(run.threads[1].bytes_direct_ok);
	assert_int_equal(run.threads[1].bytes_read_direct, 300);
	assert_true(run.threads[0].bytes_direct_ok);
	assert_int_equal(run.threads[0].bytes_read_direct, 0);
	/* 1 - 50/200 (the direct bytes counted as hits: 1 - 50/800 = 93.75%) */
	assert_true(run.hit_ratio_ok);
	assert_near(run.hit_ratio, 0.75, EPS);
	assert_int_equal(run.hit_ratio_bytes, 200);
	assert_string_equal(run.hit_ratio_unavailable, "");

	/* every file byte O_DIRECT: nothing went through the page cache, no ratio (not 100%) */
	c.bytes_read_direct = 800;
	c.pcache_read_bytes = c.pcache_insert_bytes = 0;
	run.c = c;
	an_run_derive(&run);
	assert_false(run.hit_ratio_ok);
	assert_int_equal(run.hit_ratio_bytes, 0);
	assert_string_equal(run.hit_ratio_unavailable,
			    "all file reads were O_DIRECT: they bypass the page cache");
	/* ... but the tracing of insertions missing says that first */
	c.pcache_ok = false;
	run.c = c;
	an_run_derive(&run);
	assert_string_equal(run.hit_ratio_unavailable, "page-cache insertions were not traced");
	c.pcache_ok = true;

	/* buffered reads' misses above what they read: 0%, over the 100 buffered bytes */
	c.bytes_read_direct = 700;
	c.pcache_read_bytes = 200;
	run.c = c;
	an_run_derive(&run);
	assert_true(run.hit_ratio_ok);
	assert_near(run.hit_ratio, 0.0, EPS);
	assert_int_equal(run.hit_ratio_bytes, 100);

	/* direct bytes not known (a file from before them): over every file byte, as then */
	c.bytes_direct_ok = false;
	c.bytes_read_direct = 0;
	run.c = c;
	an_run_derive(&run);
	assert_true(run.hit_ratio_ok);
	assert_near(run.hit_ratio, 0.75, EPS);
	assert_int_equal(run.hit_ratio_bytes, 800);
	an_run_free(&run);

	/* ... and then no thread's are known either */
	tl = scenario();
	memset(&run, 0, sizeof(run));
	assert_int_equal(an_run_compute(&run, tl, &c, 2), 0);
	assert_false(run.threads[1].bytes_direct_ok);
	an_run_free(&run);
}

/* No blocked time, no I/O, counters unavailable: every dependent figure says so. */
static void test_run_unavailable(void **state)
{
	struct tl_timeline *tl = tl_new();
	struct an_run run;
	struct an_counters c = {.bytes_read = 100, .pcache_insert_bytes = 300, .pcache_ok = true,
				.bytes_read_by_kind = {[TL_IOK_FILE - 1] = 100}, .bytes_kind_ok = true,
				.pcache_read_bytes = 300, .pcache_cause_ok = true};

	(void)state;
	memset(&run, 0, sizeof(run));
	assert_non_null(tl_thread_add(tl, 1, 1, 0, TL_COMPUTE, "x"));
	assert_int_equal(an_run_compute(&run, tl, NULL, 1), -EINVAL); /* not finished */
	assert_int_equal(tl_finish(tl, 0, 50), 0);
	assert_int_equal(an_run_compute(&run, tl, NULL, 0), -EINVAL); /* no CPUs */
	assert_int_equal(an_run_compute(&run, tl, NULL, 1), 0);
	assert_false(run.cpu_overlap_ok);
	assert_false(run.hidden_io_ok);
	assert_false(run.hit_ratio_ok);
	assert_false(run.device_rate_ok);
	assert_false(run.read_oncpu_share_ok);
	assert_false(run.stolen_ok); /* no counters: steal was not measured (null, not 0) */
	assert_true(run.runnable_share_ok);
	assert_near(run.parallelism, 1.0, EPS);
	assert_near(run.concurrency[1], 1.0, EPS);

	/* readahead inserting more than was read clamps to a 0% hit, not a negative one */
	run.c = c;
	an_run_derive(&run);
	assert_true(run.hit_ratio_ok);
	assert_near(run.hit_ratio, 0.0, EPS);
	/* a binary paged in and a write's pages are no read's miss */
	c.pcache_read_bytes = 0;
	c.pcache_fault_bytes = 200;
	c.pcache_other_bytes = 100;
	run.c = c;
	an_run_derive(&run);
	assert_true(run.hit_ratio_ok);
	assert_near(run.hit_ratio, 1.0, EPS);
	/* reads of pipes only: no file read, no ratio (not 100%), and why */
	c.bytes_read_by_kind[TL_IOK_FILE - 1] = 0;
	c.bytes_read_by_kind[TL_IOK_PIPE - 1] = 100;
	run.c = c;
	an_run_derive(&run);
	assert_false(run.hit_ratio_ok);
	assert_string_equal(run.hit_ratio_unavailable,
			    "no file bytes were read (only pipes, sockets or devices)");
	c.bytes_read = 0;
	c.bytes_read_by_kind[TL_IOK_PIPE - 1] = 0;
	run.c = c;
	an_run_derive(&run);
	assert_false(run.hit_ratio_ok); /* nothing read: no ratio */
	assert_string_equal(run.hit_ratio_unavailable, "nothing was read");
	/* reads not split by kind (a file from before it): no ratio, not all bytes' */
	c.bytes_read = c.bytes_read_by_kind[TL_IOK_FILE - 1] = 100;
	c.bytes_kind_ok = false;
	run.c = c;
	an_run_derive(&run);
	assert_false(run.hit_ratio_ok);
	assert_string_equal(run.hit_ratio_unavailable,
			    "reads were not split by what they read (not traced, or saved before that)");
	c.pcache_ok = false;
	run.c = c;
	an_run_derive(&run);
	assert_string_equal(run.hit_ratio_unavailable, "page-cache insertions were not traced");
	an_run_free(&run);
}

/* ---- the ideal bound and speedups ---- */

#define MiB (1ULL << 20)
#define SEC 1000000000ULL

static void mkrun(struct an_run *r, const char *strategy, const char *cache, uint64_t wall,
		  uint64_t compute, uint64_t io_cpu, uint64_t block_bytes, uint64_t block_busy)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->strategy, sizeof(r->strategy), "%s", strategy);
	snprintf(r->cache, sizeof(r->cache), "%s", cache);
	snprintf(r->label, sizeof(r->label), "%s/%s", strategy, cache);
	r->wall_ns = wall;
	r->ncpu = 2;
	r->states_ns[TL_COMPUTE] = compute;
	r->states_ns[TL_IO_CPU] = io_cpu;
	r->c.block_ok = r->c.pcache_ok = true;
	r->c.block_bytes = block_bytes;
	r->c.block_busy_ns = block_busy;
	r->c.bytes_read = 800 * MiB;
	r->c.pcache_insert_bytes = block_bytes;
	an_run_derive(r);
}

/*
 * ncpu 2.
 *   sync/cold:    wall 10 s, compute 6 s, io_cpu 1 s, 800 MiB in 4 s busy (200 MiB/s)
 *   threads/cold: wall  5 s, 800 MiB in 3.2 s busy (250 MiB/s: the best rate)
 *   sync/warm:    wall  7 s, compute 6 s, io_cpu 1 s, nothing from the device
 *   threads/warm: wall  3.6 s
 *   uring/hot:    no sync run with that cache mode
 * cold: CPU term 7 s / 2 = 3.5 s, device term 800 MiB / 250 MiB/s = 3.2 s -> ideal 3.5 s,
 *   ideal speedup 10/3.5; threads: speedup 2, fraction 2 / (10/3.5) = 0.7 (= 3.5/5)
 * warm: ideal 3.5 s, ideal speedup 2; threads: speedup 7/3.6, fraction 3.5/3.6
 * The device's ceiling was measured at 250 MiB/s; a 160 MiB/s throttle changes nothing.
 */
static struct an_report *mkreport(void)
{
	struct an_report *rep = calloc(1, sizeof(*rep));

	rep->runs = calloc(5, sizeof(*rep->runs));
	rep->nruns = 5;
	rep->ncpu = 2;
	snprintf(rep->workload, sizeof(rep->workload), "md5dir");
	rep->want_answer = true;
	rep->device_ceiling_ok = true;
	rep->device_ceiling_bps = 250.0 * MiB;
	mkrun(&rep->runs[0], "sync", "cold", 10 * SEC, 6 * SEC, 1 * SEC, 800 * MiB, 4 * SEC);
	mkrun(&rep->runs[1], "threads", "cold", 5 * SEC, 6 * SEC, 1 * SEC, 800 * MiB,
	      3200 * SEC / 1000);
	mkrun(&rep->runs[2], "sync", "warm", 7 * SEC, 6 * SEC, 1 * SEC, 0, 0);
	mkrun(&rep->runs[3], "threads", "warm", 3600 * SEC / 1000, 6 * SEC, 1 * SEC, 0, 0);
	mkrun(&rep->runs[4], "uring", "hot", 4 * SEC, 6 * SEC, 1 * SEC, 0, 0);
	return rep;
}

static void test_ideal_and_speedup(void **state)
{
	struct an_report *rep = mkreport();
	struct an_run *r = rep->runs;

	(void)state;
	assert_int_equal(md_report_finish(rep), 0);
	assert_true(rep->device_rate_best_ok);
	assert_near(rep->device_rate_best, 250.0 * MiB, 1e-3);

	assert_ptr_equal(an_sync_of(rep, &r[1]), &r[0]);
	assert_ptr_equal(an_sync_of(rep, &r[0]), &r[0]);
	assert_ptr_equal(an_sync_of(rep, &r[3]), &r[2]);
	assert_null(an_sync_of(rep, &r[4]));

	/* cold */
	assert_true(r[0].speedup_ok);
	assert_near(r[0].speedup_vs_sync, 1.0, EPS);
	assert_int_equal(r[0].ideal_cpu_ns, 3500 * SEC / 1000);
	assert_int_equal(r[0].ideal_dev_ns, 3200 * SEC / 1000);
	assert_int_equal(r[0].ideal_wall_ns, 3500 * SEC / 1000);
	assert_true(r[0].ideal_dev_ok);
	assert_near(r[0].ideal_speedup, 10.0 / 3.5, EPS);
	assert_near(r[0].ideal_fraction, 0.35, EPS);
	assert_near(r[1].speedup_vs_sync, 2.0, EPS);
	assert_true(r[1].ideal_ok);
	assert_near(r[1].ideal_fraction, 0.7, EPS);
	assert_int_equal(r[1].ideal_wall_ns, r[0].ideal_wall_ns);

	/* warm: no device term */
	assert_int_equal(r[2].ideal_dev_ns, 0);
	assert_int_equal(r[3].ideal_wall_ns, 3500 * SEC / 1000);
	assert_near(r[3].speedup_vs_sync, 7.0 / 3.6, EPS);
	assert_near(r[3].ideal_speedup, 2.0, EPS);
	assert_near(r[3].ideal_fraction, 3.5 / 3.6, EPS);

	/* no sync to compare with */
	assert_false(r[4].speedup_ok);
	assert_false(r[4].ideal_ok);
	assert_true(strstr(r[4].headline, "speedup unavailable") != NULL);

	/* headlines and the answer are built from these numbers */
	assert_true(strncmp(r[1].headline, "threads/cold: 2.00× over sync (70% of ideal 2.86×)",
			    strlen("threads/cold: 2.00× over sync (70% of ideal 2.86×)")) == 0);
	assert_true(strncmp(r[0].headline, "sync/cold: baseline", 19) == 0);
	assert_true(rep->answer[0] != '\0');

	/*
	 * A measured ceiling wins over the nominal throttle, below it or above: blk-throttle
	 * lets bursts through, so a bound at 160 MiB/s (800 MiB in 5 s) would be beaten by
	 * the 250 MiB/s measured. The ideal stays 3.5 s.
	 */
	rep->throttle_bps = 160 * MiB;
	assert_int_equal(md_report_finish(rep), 0);
	assert_int_equal(r[1].ideal_dev_ns, 3200 * SEC / 1000);
	assert_int_equal(r[1].ideal_wall_ns, 3500 * SEC / 1000);
	assert_near(r[1].ideal_fraction, 0.7, EPS);
	rep->throttle_bps = 1000 * MiB;
	assert_int_equal(md_report_finish(rep), 0);
	assert_int_equal(r[1].ideal_wall_ns, 3500 * SEC / 1000);
	an_report_free(rep);
	free(rep);
}

/* Device bytes known only from page-cache insertions, and a rate nobody measured. */
/*
 * The CPU term is the least work any clean run of the cache mode needed, less steal: here
 * threads/cold copied the same pages for 0.2 s of io_cpu where sync/cold took 1 s, so cold's
 * CPU term is (6 + 0.2) / 2 = 3.1 s and the device's 3.2 s bounds it. Were it sync's
 * 3.5 s, a run of 3.3 s would have reached 106% of "ideal". A killed run's small figures do
 * not count (it did part of the work); what the hypervisor stole is not work.
 */
static void test_ideal_least_work(void **state)
{
	struct an_report *rep = mkreport();
	struct an_run *r = rep->runs;

	(void)state;
	r[1].states_ns[TL_IO_CPU] = 200 * SEC / 1000;
	r[1].wall_ns = 3300 * SEC / 1000;
	mkrun(&r[4], "uring", "cold", 1 * SEC, 1 * SEC, 0, 100 * MiB, SEC / 2);
	r[4].exit_status = 137;
	assert_int_equal(md_report_finish(rep), 0);
	assert_int_equal(r[0].ideal_cpu_ns, 3100 * SEC / 1000);
	assert_int_equal(r[1].ideal_cpu_ns, 3100 * SEC / 1000);
	assert_int_equal(r[1].ideal_wall_ns, 3200 * SEC / 1000);
	assert_near(r[1].ideal_fraction, 3.2 / 3.3, EPS);
	for (int i = 0; i < 4; i++)
		assert_true(!r[i].ideal_ok || r[i].ideal_fraction <= 1.0);
	/* warm is its own mode: still 7 s / 2 */
	assert_int_equal(r[3].ideal_cpu_ns, 3500 * SEC / 1000);

	/* threads/cold needed 700 MiB from the device: 2.8 s at the 250 MiB/s ceiling */
	r[1].c.block_bytes = r[1].c.pcache_insert_bytes = 700 * MiB;
	assert_int_equal(md_report_finish(rep), 0);
	assert_int_equal(r[0].ideal_dev_bytes, 700 * MiB);
	assert_int_equal(r[0].ideal_dev_ns, 2800 * SEC / 1000);
	assert_int_equal(r[1].ideal_wall_ns, 3100 * SEC / 1000);

	/* 1.5 s of sync/warm's on-CPU time was stolen: its work was 5.5 s */
	r[2].stolen_ok = true;
	r[2].stolen_ns = 1500 * SEC / 1000;
	assert_int_equal(md_report_finish(rep), 0);
	assert_int_equal(r[3].ideal_cpu_ns, 2750 * SEC / 1000);
	an_report_free(rep);
	free(rep);
}

/*
 * Without a measured ceiling the device term uses the best whole-run throughput, never a
 * rate over busy stretches: threads/cold moved 800 MiB in its 5 s wall (160 MiB/s) though
 * its busy stretches ran at 250 MiB/s; the device term is 800 MiB / 160 MiB/s = 5 s.
 * Disk-bound needs a measured ceiling: 160 MiB/s is 64% of 250, 94% of 170.
 */
static void test_device_ceiling(void **state)
{
	struct an_report *rep = mkreport();
	struct an_run *r = rep->runs;
	double bps, sh;
	bool measured;

	(void)state;
	assert_true(an_device_ceiling(rep, &bps, &measured));
	assert_true(measured);
	assert_near(bps, 250.0 * MiB, 1e-3);
	assert_false(an_run_disk_bound(&r[1], rep, &sh));
	assert_near(sh, 0.64, EPS);
	rep->device_ceiling_bps = 170.0 * MiB;
	assert_true(an_run_disk_bound(&r[1], rep, &sh));
	assert_near(sh, 160.0 / 170.0, EPS);
	/* sync/cold at 80 MiB/s is not */
	assert_false(an_run_disk_bound(&r[0], rep, &sh));
	/* a run that beat the ceiling over its wall (a throttle's first slice) raises the ideal's
	 * rate to its throughput: no run beats the bound */
	rep->device_ceiling_bps = 150.0 * MiB;
	assert_int_equal(md_report_finish(rep), 0);
	assert_near(r[1].ideal_dev_rate, 160.0 * MiB, 1e-3);
	assert_true(r[1].ideal_fraction <= 1.0 + EPS);
	rep->device_ceiling_bps = 170.0 * MiB;

	rep->device_ceiling_ok = false;
	assert_true(an_device_ceiling(rep, &bps, &measured));
	assert_false(measured);
	assert_near(bps, 160.0 * MiB, 1e-3);
	assert_false(an_run_disk_bound(&r[1], rep, &sh));
	assert_int_equal(md_report_finish(rep), 0);
	assert_near(r[1].ideal_dev_rate, 160.0 * MiB, 1e-3);
	assert_int_equal(r[1].ideal_dev_ns, 5 * SEC);
	assert_int_equal(r[1].ideal_wall_ns, 5 * SEC);
	assert_near(r[1].ideal_fraction, 1.0, EPS);
	/* a killed run's throughput does not count; with none measured, the throttle */
	for (int i = 0; i < 2; i++)
		r[i].exit_status = 137;
	rep->throttle_bps = 100 * MiB;
	assert_true(an_device_ceiling(rep, &bps, &measured));
	assert_near(bps, 100.0 * MiB, 1e-3);
	an_report_free(rep);
	free(rep);
}

static void test_ideal_unavailable(void **state)
{
	struct an_report *rep = mkreport();
	struct an_run *r = rep->runs;

	(void)state;
	rep->device_ceiling_ok = false;
	for (size_t i = 0; i < rep->nruns; i++) {
		r[i].c.block_ok = false;
		an_run_derive(&r[i]);
	}
	assert_int_equal(md_report_finish(rep), 0);
	assert_false(rep->device_rate_best_ok);
	/* cold: 800 MiB came from the device at an unknown rate: no bound */
	assert_false(r[1].ideal_ok);
	assert_false(r[1].ideal_dev_ok);
	assert_int_equal(r[1].ideal_dev_bytes, 800 * MiB);
	assert_true(r[1].speedup_ok);
	/* warm: nothing came from the device, the bound stands on the CPU alone */
	assert_true(r[3].ideal_ok);
	assert_int_equal(r[3].ideal_wall_ns, 3500 * SEC / 1000);
	/* the throttle gives the rate when nothing was measured */
	rep->throttle_bps = 200 * MiB;
	assert_int_equal(md_report_finish(rep), 0);
	assert_true(r[1].ideal_ok);
	assert_int_equal(r[1].ideal_dev_ns, 4 * SEC);
	/* the least bytes any cold run moved: sync's unknown, threads' still tell */
	r[0].c.pcache_ok = false;
	assert_int_equal(md_report_finish(rep), 0);
	assert_true(r[1].ideal_ok);
	assert_int_equal(r[1].ideal_dev_bytes, 800 * MiB);
	/* neither block nor page-cache traced in any cold run: the device term is unknown */
	r[1].c.pcache_ok = false;
	assert_int_equal(md_report_finish(rep), 0);
	assert_false(r[1].ideal_ok);
	an_report_free(rep);
	free(rep);
}

/* The best rate prefers runs that moved real data over a few metadata blocks. */
static void test_best_rate(void **state)
{
	struct an_report *rep = mkreport();

	(void)state;
	rep->runs[4].c.block_bytes = 64 * 1024;	/* 64 KiB in 10 µs: 6.5 GB/s, noise */
	rep->runs[4].c.block_busy_ns = 10000;
	assert_int_equal(md_report_finish(rep), 0);
	assert_near(rep->device_rate_best, 250.0 * MiB, 1e-3);
	/* with only small runs, the small run's rate is what there is */
	rep->runs[0].c.block_ok = rep->runs[1].c.block_ok = false;
	assert_int_equal(md_report_finish(rep), 0);
	assert_true(rep->device_rate_best_ok);
	assert_near(rep->device_rate_best, 64.0 * 1024 * 1e9 / 10000, 1e-3);
	an_report_free(rep);
	free(rep);
}

/* A run cut short has no speedup; a sync run cut short gives no bound to anyone. */
static void test_unclean_runs(void **state)
{
	struct an_report *rep = mkreport();
	struct an_run *r = rep->runs;

	(void)state;
	r[1].exit_status = 137;
	r[3].exit_status = -1; /* attached: no status, counts as clean */
	assert_int_equal(md_report_finish(rep), 0);
	assert_false(an_run_clean(&r[1]));
	assert_true(an_run_clean(&r[3]));
	assert_false(r[1].speedup_ok);
	assert_false(r[1].ideal_ok);
	assert_non_null(strstr(r[1].headline, "did not finish (exit status 137)"));
	assert_true(r[3].speedup_ok);
	r[1].exit_status = 0;
	r[0].exit_status = 1;
	assert_int_equal(md_report_finish(rep), 0);
	assert_false(r[1].speedup_ok);
	assert_false(r[1].ideal_ok);
	assert_int_equal(r[1].ideal_wall_ns, 0);
	assert_non_null(strstr(r[1].headline, "the sync run did not finish: exit status 1"));
	an_report_free(rep);
	free(rep);
}

/* A run the user stopped (Ctrl-C) is told so, not blamed on the SIGKILL iotrace sent. */
static void test_interrupted_runs(void **state)
{
	struct an_report *rep = mkreport();
	struct an_run *r = rep->runs;

	(void)state;
	r[1].exit_status = 137;
	r[1].interrupted = true;
	assert_int_equal(md_report_finish(rep), 0);
	assert_false(r[1].speedup_ok);
	assert_non_null(strstr(r[1].headline, ": interrupted by the user (Ctrl-C), so it did not "
					      "finish and these figures cover part of the work"));
	assert_null(strstr(r[1].headline, "137"));
	r[1].exit_status = 0;
	r[1].interrupted = false;
	r[0].exit_status = 137;
	r[0].interrupted = true;
	assert_int_equal(md_report_finish(rep), 0);
	assert_false(r[1].speedup_ok);
	assert_non_null(strstr(r[1].headline, "the sync run was interrupted by the user (Ctrl-C)"));
	/* the workload had ended by itself when the user stopped iotrace: nothing was lost */
	r[0].exit_status = 0;
	assert_int_equal(md_report_finish(rep), 0);
	assert_true(r[1].speedup_ok);
	an_report_free(rep);
	free(rep);
}

/* Re-running the cross-run step gives the same text (re-rendering depends on it). */
static void test_finish_idempotent(void **state)
{
	struct an_report *rep = mkreport();
	char h[512], a[1024];

	(void)state;
	assert_int_equal(md_report_finish(rep), 0);
	memcpy(h, rep->runs[1].headline, sizeof(h));
	memcpy(a, rep->answer, sizeof(a));
	assert_int_equal(md_report_finish(rep), 0);
	assert_string_equal(h, rep->runs[1].headline);
	assert_string_equal(a, rep->answer);
	assert_int_equal(md_report_finish(NULL), -EINVAL);
	an_report_free(rep);
	free(rep);
}

/* ---- folded stacks ---- */

static void test_stacks(void **state)
{
	struct an_stackset s;
	char buf[64];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(an_stack_add(&s, "sync;main;compute;md5", 3), 0);
	assert_int_equal(an_stack_add(&s, "sync;main;io_wait;read", 5), 0);
	assert_int_equal(an_stack_add(&s, "sync;main;compute;md5", 4), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0].value, 7);
	assert_int_equal(s.total, 12);
	/* many distinct stacks: the index grows, duplicates still merge */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 5000; i++) {
			snprintf(buf, sizeof(buf), "threads;worker;compute;f%d", i);
			assert_int_equal(an_stack_add(&s, buf, 1), 0);
		}
	assert_int_equal(s.n, 5002);
	assert_int_equal(s.v[2].value, 2);
	assert_int_equal(s.total, 12 + 10000);
	/* appended by hand (a loader): the index catches up */
	s.v[s.n].frames = strdup("x;y");
	s.v[s.n].value = 1;
	s.n++;
	s.total++;
	assert_int_equal(an_stack_add(&s, "x;y", 2), 0);
	assert_int_equal(s.n, 5003);
	assert_int_equal(s.v[5002].value, 3);
	assert_int_equal(an_stack_add(&s, NULL, 1), -EINVAL);
	an_stackset_free(&s);
	assert_int_equal(s.n, 0);
	assert_null(s.v);
	an_stackset_free(&s);
}

static void test_report_free(void **state)
{
	struct an_report rep;
	struct tl_timeline *tl = scenario();

	(void)state;
	memset(&rep, 0, sizeof(rep));
	rep.command = calloc(3, sizeof(char *));
	rep.command[0] = strdup("python3");
	rep.command[1] = strdup("x.py");
	rep.runs = calloc(1, sizeof(*rep.runs));
	rep.nruns = 1;
	assert_int_equal(an_run_compute(&rep.runs[0], tl, NULL, 2), 0);
	assert_int_equal(an_stack_add(&rep.runs[0].oncpu, "a;b", 1), 0);
	an_report_free(&rep);
	assert_null(rep.runs);
	assert_null(rep.command);
	an_report_free(&rep);
}

/*
 * Processes: threads are summed into the process of their pid (the last listed with it, a
 * reused pid's newer one); the caller's fields are kept, the sums recomputed.
 */
static void test_set_processes(void **state)
{
	struct an_run run;
	struct an_thread th[4] = {
		{.pid = 10, .tid = 10, .states_ns = {5, 1, 2}, .reads = 3, .bytes_read = 300,
		 .bytes_read_by_kind = {300}, .bytes_kind_ok = true},
		{.pid = 11, .tid = 11, .states_ns = {7, 0, 0, 4}, .reads = 1, .bytes_read = 50,
		 .ctx_switches = 2, .stolen_ns = 1, .bytes_read_by_kind = {20, 30},
		 .bytes_kind_ok = true, .bytes_read_direct = 16, .bytes_direct_ok = true},
		{.pid = 11, .tid = 12, .states_ns = {1, 1, 1, 1, 1, 1, 1}, .ctx_switches = 5,
		 .bytes_read = 9, .bytes_read_by_kind = {0, 4, 0, 5}, .bytes_kind_ok = true,
		 .bytes_direct_ok = true},
		{.pid = 99, .tid = 99, .states_ns = {100}},	/* no process listed: in none */
	};
	struct an_process p[3] = {
		{.pid = 10, .ppid = 1, .comm = "sh", .cmdline = "sh -c x", .ended = true,
		 .end_ns = 40, .exit_status = 3, .nthreads = 77, .reads = 1000},
		{.pid = 11, .ppid = 10, .comm = "old"},	/* pid 11's earlier life: gets nothing */
		{.pid = 11, .ppid = 10, .comm = "md5sum", .start_ns = 5, .exit_status = -1},
	};

	(void)state;
	memset(&run, 0, sizeof(run));
	run.threads = th;
	run.nthreads = 4;
	assert_int_equal(an_run_set_processes(&run, p, 3), 0);
	assert_int_equal(run.nprocesses, 3);
	assert_int_equal(run.processes[0].nthreads, 1);
	assert_int_equal(run.processes[0].reads, 3);
	assert_int_equal(run.processes[0].bytes_read, 300);
	assert_int_equal(run.processes[0].states_ns[TL_IO_WAIT], 2);
	assert_int_equal(run.processes[0].exit_status, 3);
	assert_true(run.processes[0].ended);
	assert_string_equal(run.processes[0].cmdline, "sh -c x");
	assert_int_equal(run.processes[1].nthreads, 0);
	assert_int_equal(run.processes[1].states_ns[TL_COMPUTE], 0);
	assert_int_equal(run.processes[2].nthreads, 2);
	assert_int_equal(run.processes[2].states_ns[TL_COMPUTE], 8);
	assert_int_equal(run.processes[2].states_ns[TL_LOCK_WAIT], 5);
	assert_int_equal(run.processes[2].states_ns[TL_RUNNABLE], 1);
	assert_int_equal(run.processes[2].reads, 1);
	/* bytes by kind: summed as the bytes are (file, pipe, socket, other) */
	assert_true(run.processes[0].bytes_kind_ok);
	assert_int_equal(run.processes[0].bytes_read_by_kind[0], 300);
	assert_true(run.processes[2].bytes_kind_ok);
	assert_int_equal(run.processes[2].bytes_read, 59);
	assert_int_equal(run.processes[2].bytes_read_by_kind[0], 20);
	assert_int_equal(run.processes[2].bytes_read_by_kind[1], 34);
	assert_int_equal(run.processes[2].bytes_read_by_kind[2], 0);
	assert_int_equal(run.processes[2].bytes_read_by_kind[3], 5);
	/* O_DIRECT bytes summed too; pid 10's thread did not know them: neither does it */
	assert_true(run.processes[2].bytes_direct_ok);
	assert_int_equal(run.processes[2].bytes_read_direct, 16);
	assert_false(run.processes[0].bytes_direct_ok);
	assert_int_equal(run.processes[2].ctx_switches, 7);
	assert_int_equal(run.processes[2].stolen_ns, 1);
	assert_int_equal(run.processes[2].start_ns, 5);
	run.threads = NULL;
	run.nthreads = 0;
	an_run_free(&run);
	assert_null(run.processes);
	assert_int_equal(run.nprocesses, 0);
}

/* Value of frames in s, 0 when absent. */
static uint64_t stack_value(const struct an_stackset *s, const char *frames)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].frames, frames))
			return s->v[i].value;
	return 0;
}

/*
 * Exact wall sizes: a thread's stacks of a state share its exact total by their weights,
 * in whole µs that add up to the rounded total (largest remainders), whatever the weights.
 */
static void test_wall_exact(void **state)
{
	const char *fr[] = {"t;w;compute;a", "t;w;compute;b", "t;w;compute;c"};
	uint64_t w2[] = {2, 1}, w3[] = {1, 1, 1}, w0[] = {0, 0};
	struct an_stackset s = {0};

	(void)state;
	/* 10 µs by 2:1 -> 6.67 + 3.33 -> floors 6 + 3, the 1 left to the larger remainder */
	assert_int_equal(an_wall_add_exact(&s, fr, w2, 2, 10000, "t;w;compute;[no sample]"), 0);
	assert_int_equal(stack_value(&s, fr[0]), 7);
	assert_int_equal(stack_value(&s, fr[1]), 3);
	assert_int_equal(s.total, 10);
	an_stackset_free(&s);
	/* 63.1 ms of io_cpu in 90 samples' shapes of 1:1:1 (the 90.9 ms case): 63100
	 * µs, 21033 each and one µs to the first of the equal remainders */
	memset(&s, 0, sizeof(s));
	assert_int_equal(an_wall_add_exact(&s, fr, w3, 3, 63100000, "x"), 0);
	assert_int_equal(stack_value(&s, fr[0]), 21034);
	assert_int_equal(stack_value(&s, fr[1]), 21033);
	assert_int_equal(stack_value(&s, fr[2]), 21033);
	assert_int_equal(s.total, 63100);
	an_stackset_free(&s);
	/* rounding: 1499 ns is 1 µs, 1500 is 2; under 500 ns nothing */
	memset(&s, 0, sizeof(s));
	assert_int_equal(an_wall_add_exact(&s, fr, w3, 1, 1499, "x"), 0);
	assert_int_equal(s.total, 1);
	assert_int_equal(an_wall_add_exact(&s, fr + 1, w3, 1, 1500, "x"), 0);
	assert_int_equal(stack_value(&s, fr[1]), 2);
	assert_int_equal(an_wall_add_exact(&s, fr + 2, w3, 1, 499, "x"), 0);
	assert_int_equal(stack_value(&s, fr[2]), 0);
	an_stackset_free(&s);
	/* no weight (no sample landed in a short burst): the whole to the placeholder */
	memset(&s, 0, sizeof(s));
	assert_int_equal(an_wall_add_exact(&s, fr, w0, 2, 2000000, "t;w;compute;[no sample]"), 0);
	assert_int_equal(stack_value(&s, "t;w;compute;[no sample]"), 2000);
	assert_int_equal(an_wall_add_exact(&s, fr, NULL, 0, 3000000, "t;w;compute;[no sample]"), 0);
	assert_int_equal(stack_value(&s, "t;w;compute;[no sample]"), 5000);
	assert_int_equal(s.total, 5000);
	an_stackset_free(&s);
	/* ns weights of off-CPU stacks: 1 ns against 1 s still gets its share (none here) */
	memset(&s, 0, sizeof(s));
	{
		uint64_t wb[] = {1, 1000000000};

		assert_int_equal(an_wall_add_exact(&s, fr, wb, 2, 1000000001, "x"), 0);
		assert_int_equal(stack_value(&s, fr[0]), 0);
		assert_int_equal(stack_value(&s, fr[1]), 1000000);
	}
	an_stackset_free(&s);
}

/*
 * A state split by kind (issue 13): one thread's lock_wait of 10,002,400 ns is a join
 * (6,000,700 ns), a contended mutex (3,999,700) and an idle condvar (2,000, no stack seen).
 * 10,002 µs in all; floors 3999 (mutex), 6000 (join), 2 (condvar) = 10,001; the µs left
 * goes to the largest remainder, 700 for both mutex and join: the lower slot, the mutex.
 * So mutex 4000 µs (its one stack), join 6000 split 3:1 between its two stacks (4500,
 * 1500), condvar 2 to its placeholder: each within a µs of its own figure, the state
 * exactly its rounded total, and the join never mixed into the mutex's frames.
 */
static void test_wall_split_kinds(void **state)
{
	const char *fr[] = {"t;main;lock_wait: join;pthread_join;clone3",
			    "t;main;lock_wait: mutex;__lll_lock_wait",
			    "t;main;lock_wait: join;pthread_join"};
	const char *none[WT_NLK_SLOTS] = {"t;main;lock_wait: mutex;[no stack]",
					  "t;main;lock_wait: gil;[no stack]",
					  "t;main;lock_wait: join;[no stack]",
					  "t;main;lock_wait: condvar;[no stack]",
					  "t;main;lock_wait: other;[no stack]"};
	/* weights in ns as the off-CPU records had them: the join's 3:1, the mutex's any */
	uint64_t w[] = {3000, 5, 1000}, ns[WT_NLK_SLOTS] = {0};
	unsigned slot[] = {wt_lock_slot(TL_LK_JOIN), wt_lock_slot(TL_LK_MUTEX),
			   wt_lock_slot(TL_LK_JOIN)};
	struct an_stackset s = {0};
	char buf[64];
	int k;

	(void)state;
	ns[wt_lock_slot(TL_LK_JOIN)] = 6000700;
	ns[wt_lock_slot(TL_LK_MUTEX)] = 3999700;
	ns[wt_lock_slot(TL_LK_CONDVAR)] = 2000;
	assert_int_equal(an_wall_add_split(&s, fr, w, slot, 3, 10002400, ns, WT_NLK_SLOTS, none),
			 0);
	assert_int_equal(stack_value(&s, fr[1]), 4000);
	assert_int_equal(stack_value(&s, fr[0]), 4500);
	assert_int_equal(stack_value(&s, fr[2]), 1500);
	assert_int_equal(stack_value(&s, none[3]), 2);
	assert_int_equal(stack_value(&s, none[2]), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.total, 10002);
	an_stackset_free(&s);
	/* the kinds must add up to the state, and a stack's slot be one of them */
	memset(&s, 0, sizeof(s));
	assert_int_equal(an_wall_add_split(&s, fr, w, slot, 3, 10002401, ns, WT_NLK_SLOTS, none),
			 -EINVAL);
	slot[0] = WT_NLK_SLOTS;
	assert_int_equal(an_wall_add_split(&s, fr, w, slot, 3, 10002400, ns, WT_NLK_SLOTS, none),
			 -EINVAL);
	assert_int_equal(s.n, 0);

	/* the state frames: named, parsed back; a bare state (files saved before) too */
	assert_string_equal(an_state_frame(buf, sizeof(buf), TL_LOCK_WAIT,
					   wt_lock_slot(TL_LK_JOIN)), "lock_wait: join");
	assert_string_equal(an_state_frame(buf, sizeof(buf), TL_IO_WAIT, wt_io_slot(TL_IOK_PIPE)),
			    "io_wait: pipe");
	assert_string_equal(an_state_frame(buf, sizeof(buf), TL_IO_WAIT, wt_io_slot(0)),
			    "io_wait: other");
	assert_string_equal(an_state_frame(buf, sizeof(buf), TL_OTHER_WAIT,
					   wt_other_slot(TL_OWK_CHILD)), "other_wait: child");
	assert_string_equal(an_state_frame(buf, sizeof(buf), TL_OTHER_WAIT, wt_other_slot(0)),
			    "other_wait: other");
	assert_string_equal(an_state_frame(buf, sizeof(buf), TL_COMPUTE, 0), "compute");
	assert_int_equal(an_state_frame_parse("lock_wait: join", 15, &k), TL_LOCK_WAIT);
	assert_int_equal(k, wt_lock_slot(TL_LK_JOIN));
	assert_int_equal(an_state_frame_parse("io_wait: socket", 15, &k), TL_IO_WAIT);
	assert_int_equal(k, wt_io_slot(TL_IOK_SOCKET));
	assert_int_equal(an_state_frame_parse("lock_wait", 9, &k), TL_LOCK_WAIT);
	assert_int_equal(k, -1);
	assert_int_equal(an_state_frame_parse("lock_wait: joins", 16, &k), -1);
	assert_int_equal(an_state_frame_parse("lock_wait:join", 14, &k), -1);
	assert_int_equal(an_state_frame_parse("compute: join", 13, &k), -1);
	assert_int_equal(an_state_frame_parse("lock_wait: join;x", 15, &k), TL_LOCK_WAIT);
	assert_int_equal(an_state_frame_parse("main", 4, &k), -1);
}

/* The unwound share: of the total, clamped, 0 for an empty set. */
static void test_unwound_share(void **state)
{
	struct an_stackset s = {0};

	(void)state;
	assert_true(an_stack_unwound_share(&s) == 0.0);
	s.total = 200;
	s.unwound = 150;
	assert_true(fabs(an_stack_unwound_share(&s) - 0.75) < 1e-12);
	s.unwound = 300;
	assert_true(an_stack_unwound_share(&s) == 1.0);
}

/*
 * Every stack counted once by how its user frames were found: the figures add up to the
 * total, and the -v / report.html line says the unwound share and why the rest was not
 * (hand-computed: off-CPU 970 of 1000 ns unwound, 3 cut short, 20 over the budget, 7 lost).
 */
static void test_unwound_by_why(void **state)
{
	struct an_run run;
	char line[1024];

	(void)state;
	memset(&run, 0, sizeof(run));
	assert_int_equal(an_stack_add(&run.offcpu, "s;t;io_wait;main;read", 970), 0);
	assert_int_equal(an_stack_count_user(&run.offcpu, AN_US_UNWOUND, 970), 0);
	assert_int_equal(an_stack_add(&run.offcpu, "s;t;io_wait;[truncated];read", 3), 0);
	assert_int_equal(an_stack_count_user(&run.offcpu, AN_US_CUT_SHORT, 3), 0);
	assert_int_equal(an_stack_add(&run.offcpu, "s;t;runnable;[truncated];md5", 20), 0);
	assert_int_equal(an_stack_count_user(&run.offcpu, AN_US_OVER_BUDGET, 20), 0);
	assert_int_equal(an_stack_add(&run.offcpu, "s;t;runnable;schedule_[k]", 7), 0);
	assert_int_equal(an_stack_count_user(&run.offcpu, AN_US_COPY_LOST, 7), 0);
	assert_int_equal(an_stack_count_user(&run.offcpu, AN_NUSTACK, 1), -EINVAL);
	assert_int_equal(run.offcpu.total, 1000);
	assert_int_equal(an_stack_user_sum(&run.offcpu), run.offcpu.total);
	assert_int_equal(run.offcpu.unwound, 970);
	assert_int_equal(run.offcpu.cut_short, 3);
	assert_int_equal(run.offcpu.over_budget, 20);
	assert_int_equal(run.offcpu.copy_lost, 7);
	assert_true(fabs(an_stack_unwound_share(&run.offcpu) - 0.97) < 1e-12);
	assert_true(fabs(an_stack_user_share(&run.offcpu, AN_US_OVER_BUDGET) - 0.02) < 1e-12);
	assert_string_equal(an_ustack_name(AN_US_KERNEL_ONLY), "kernel_only");
	/* copies off: no line */
	assert_false(an_unwind_line(&run, line, sizeof(line)));
	assert_string_equal(line, "");
	run.ucopy_ok = true;
	run.ucopies = 12;
	run.ucopy_bytes = 2048;
	run.ucopy_bps = 4096;
	run.ucopy_skipped = 2;
	run.ucopy_lost = 1;
	assert_int_equal(an_stack_add(&run.oncpu, "s;t;compute;main;md5", 5), 0);
	assert_int_equal(an_stack_count_user(&run.oncpu, AN_US_UNWOUND, 5), 0);
	assert_int_equal(an_stack_add(&run.oncpu, "s;io-wq;compute;io_worker_[k]", 5), 0);
	assert_int_equal(an_stack_count_user(&run.oncpu, AN_US_KERNEL_ONLY, 5), 0);
	assert_true(an_unwind_line(&run, line, sizeof(line)));
	assert_non_null(strstr(line, "12 copies, 0 switch-outs unwound before, 2 over the budget, "
				     "0 failed, 1 lost, 0 not unwindable"));
	assert_non_null(strstr(line, ": 50.0% of on-CPU samples (the rest: 50.0% kernel-only "
				     "threads), 97.0% of off-CPU time (the rest: 0.3% cut short, "
				     "2.0% not copied, over the byte budget, 0.7% copy lost);"));
	an_stackset_free(&run.oncpu);
	an_stackset_free(&run.offcpu);
}

/* iotrace's CPU outside the windows: the total less the windows', part by part; a part
 * whose windows exceed its total (rusage's tick split) is 0 outside; unknown windows: only
 * the total */
static void test_tracer_cpu_outside(void **state)
{
	struct an_report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	an_report_tracer_cpu(&r, 500, 300, 120, 310, true);
	assert_true(r.tracer_total_ok && r.tracer_outside_ok);
	assert_int_equal(r.tracer_total_user_ns, 500);
	assert_int_equal(r.tracer_total_sys_ns, 300);
	assert_int_equal(r.tracer_windows_user_ns, 120);
	assert_int_equal(r.tracer_outside_user_ns, 380);
	assert_int_equal(r.tracer_outside_sys_ns, 0);
	memset(&r, 0, sizeof(r));
	an_report_tracer_cpu(&r, 500, 300, 120, 10, false);
	assert_true(r.tracer_total_ok);
	assert_false(r.tracer_outside_ok);
	assert_int_equal(r.tracer_outside_user_ns, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeats),
		cmocka_unit_test(test_run_metrics),
		cmocka_unit_test(test_hit_ratio_direct),
		cmocka_unit_test(test_run_unavailable),
		cmocka_unit_test(test_ideal_and_speedup),
		cmocka_unit_test(test_ideal_least_work),
		cmocka_unit_test(test_device_ceiling),
		cmocka_unit_test(test_ideal_unavailable),
		cmocka_unit_test(test_best_rate),
		cmocka_unit_test(test_unclean_runs),
		cmocka_unit_test(test_interrupted_runs),
		cmocka_unit_test(test_finish_idempotent),
		cmocka_unit_test(test_stacks),
		cmocka_unit_test(test_report_free),
		cmocka_unit_test(test_set_processes),
		cmocka_unit_test(test_wall_exact),
		cmocka_unit_test(test_wall_split_kinds),
		cmocka_unit_test(test_unwound_share),
		cmocka_unit_test(test_unwound_by_why),
		cmocka_unit_test(test_tracer_cpu_outside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
