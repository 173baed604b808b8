/* test_reports.c - summary.json, text, trace.json and the run folder on a hand-built model. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "golden.h"
#include "report.h"
#include "rp_json.h"

/*
 * The model is built by hand (no tracer, no an_run_compute), so these goldens pin the
 * renderers alone. Goldens live in tests/golden/report/ (tests run from the repo root);
 * IOTRACE_RECORD_GOLDENS=1 (scripts/record-goldens.sh) rewrites them instead of comparing.
 */

#define GOLDEN_DIR "tests/golden/report"
#define MS 1000000ULL
#define T0 1000000000ULL /* window start of every synthetic run */

/* ---- the synthetic model ---- */

struct span_spec {
	uint64_t a, b; /* ms from T0 */
	enum tl_state st;
};

/* kinds: what each span's wait was for (timeline.h; 0 not known), or NULL for none */
static void add_thread_kinds(struct tl_timeline *tl, uint32_t pid, uint32_t tid,
			     const char *comm, const char *role, const struct span_spec *sp,
			     const unsigned *kinds, size_t n)
{
	struct tl_thread *t = tl_thread_add(tl, pid, tid, T0 + sp[0].a * MS, sp[0].st, comm);

	assert_non_null(t);
	snprintf(t->role, sizeof(t->role), "%s", role);
	t->reads = tid % 7;
	t->bytes_read = (tid % 7) * 4096;
	t->ctx_switches = tid % 5;
	for (size_t i = 1; i < n; i++)
		assert_int_equal(tl_transition_kind(tl, pid, tid, T0 + sp[i].a * MS, sp[i].st,
						    kinds ? kinds[i] : 0),
				 0);
	assert_int_equal(tl_thread_exit(tl, tid, T0 + sp[n - 1].b * MS, comm), 0);
}

static void add_thread(struct tl_timeline *tl, uint32_t pid, uint32_t tid, const char *comm,
		       const char *role, const struct span_spec *sp, size_t n)
{
	add_thread_kinds(tl, pid, tid, comm, role, sp, NULL, n);
}

static void set_thread(struct an_thread *t, uint32_t pid, uint32_t tid, const char *comm,
		       const char *role, uint64_t life_ms, const uint64_t *st_ms)
{
	t->pid = pid;
	t->tid = tid;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	snprintf(t->role, sizeof(t->role), "%s", role);
	t->lifetime_ns = life_ms * MS;
	for (int i = 0; i < TL_NSTATES; i++)
		t->states_ns[i] = st_ms[i] * MS;
	t->reads = tid % 7;
	t->bytes_read = (tid % 7) * 4096;
	/* a thread of odd tid read one page of it from a pipe */
	t->bytes_read_by_kind[TL_IOK_PIPE - 1] = t->bytes_read && tid % 2 ? 4096 : 0;
	t->bytes_read_by_kind[TL_IOK_FILE - 1] =
		t->bytes_read - t->bytes_read_by_kind[TL_IOK_PIPE - 1];
	t->bytes_kind_ok = true;
	t->ctx_switches = tid % 5;
}

/* The ratios as the model defines them (analysis.h), from the integers set by hand. */
static void ratios(struct an_run *r)
{
	const uint64_t *st = r->states_ns;
	uint64_t oncpu = st[TL_COMPUTE] + st[TL_IO_CPU], reading = st[TL_IO_CPU] + st[TL_IO_WAIT];
	uint64_t file, direct;

	r->parallelism = (double)oncpu / (double)r->wall_ns;
	r->cpu_overlap_ok = r->blocked_ns > 0;
	r->cpu_overlap = r->blocked_ns ? (double)r->blocked_busy_ns / (double)r->blocked_ns : 0;
	r->hidden_io_ok = r->io_ns > 0;
	r->hidden_io = r->io_ns ? 1.0 - (double)r->exposed_io_ns / (double)r->io_ns : 0;
	r->hidden_io_readahead_ok = r->io_block_only_ok && r->io_ns > 0;
	r->hidden_io_readahead = r->hidden_io_readahead_ok
					 ? (double)r->io_block_only_computing_ns / (double)r->io_ns
					 : 0;
	for (unsigned k = 0; k <= r->ncpu; k++)
		r->concurrency[k] = (double)r->concurrency_ns[k] / (double)r->wall_ns;
	/* unless a fixture says otherwise: every byte read from files, every insertion a read's */
	if (!r->c.bytes_kind_ok) {
		r->c.bytes_kind_ok = true;
		r->c.bytes_read_by_kind[TL_IOK_FILE - 1] = r->c.bytes_read;
	}
	if (r->c.pcache_ok && !r->c.pcache_cause_ok) {
		r->c.pcache_cause_ok = true;
		r->c.pcache_read_bytes = r->c.pcache_insert_bytes;
	}
	/* over the file bytes read through the page cache: O_DIRECT ones are not */
	file = r->c.bytes_read_by_kind[TL_IOK_FILE - 1];
	direct = r->c.bytes_direct_ok ? r->c.bytes_read_direct : 0;
	r->hit_ratio_ok = r->c.pcache_ok && file > direct;
	r->hit_ratio_bytes = r->hit_ratio_ok ? file - direct : 0;
	r->hit_ratio = r->hit_ratio_ok ? 1.0 - (double)r->c.pcache_read_bytes /
						       (double)r->hit_ratio_bytes
				       : 0;
	if (r->hit_ratio < 0)
		r->hit_ratio = 0;
	snprintf(r->hit_ratio_unavailable, sizeof(r->hit_ratio_unavailable), "%s",
		 r->hit_ratio_ok     ? ""
		 : !r->c.pcache_ok   ? "page-cache insertions were not traced"
		 : file ? "all file reads were O_DIRECT: they bypass the page cache"
		 : r->c.bytes_read ? "no file bytes were read (only pipes, sockets or devices)"
				   : "nothing was read");
	r->device_rate_ok = r->c.block_ok && r->c.block_busy_ns > 0;
	r->device_rate = r->device_rate_ok ? (double)r->c.block_bytes * 1e9 /
						     (double)r->c.block_busy_ns
					   : 0;
	r->runnable_share_ok = oncpu + st[TL_RUNNABLE] > 0;
	r->runnable_share = r->runnable_share_ok ? (double)st[TL_RUNNABLE] /
							   (double)(oncpu + st[TL_RUNNABLE])
						 : 0;
	r->read_oncpu_share_ok = reading > 0;
	r->read_oncpu_share = reading ? (double)st[TL_IO_CPU] / (double)reading : 0;
	assert_int_equal(an_run_wall(r), 0); /* the model builds the wall-clock stacks */
}

static void verdict(struct an_run *r, const char *rule, const char *text)
{
	snprintf(r->verdict[r->nverdict].rule, sizeof(r->verdict[0].rule), "%s", rule);
	snprintf(r->verdict[r->nverdict].text, sizeof(r->verdict[0].text), "%s", text);
	r->nverdict++;
}

static void states_ms(struct an_run *r, uint64_t c, uint64_t ic, uint64_t iw, uint64_t lw,
		      uint64_t pw, uint64_t ow, uint64_t rq)
{
	uint64_t v[TL_NSTATES] = {c, ic, iw, lw, pw, ow, rq};

	for (int i = 0; i < TL_NSTATES; i++)
		r->states_ns[i] = v[i] * MS;
}

/* A comm with every kind of byte the escapers must handle (15 bytes max). */
static const char weird_comm[] = "w<&\"\\\x01\xff\xc3\xa9";

static void build(struct an_report *rep)
{
	struct an_run *r;
	struct tl_timeline *tl;

	memset(rep, 0, sizeof(*rep));
	snprintf(rep->version, sizeof(rep->version), "test-1.0");
	rep->ncpu = 2;
	snprintf(rep->kernel, sizeof(rep->kernel), "6.1.0-test");
	snprintf(rep->workload, sizeof(rep->workload), "md5dir");
	rep->throttle_bps = 100ULL << 20;
	rep->device_rate_best = 335544320.0;
	rep->device_rate_best_ok = true;
	/* measured behind the 100 MiB/s throttle: 32 MiB in 330 ms */
	rep->device_ceiling_ok = true;
	rep->device_ceiling_bps = 101711872.0;
	snprintf(rep->device_ceiling_method, sizeof(rep->device_ceiling_method), "o_direct");
	rep->device_ceiling_bytes = 32ULL << 20;
	rep->device_ceiling_ns = 330000000;
	rep->device_ceiling_elapsed_ns = 345000000; /* the reads and the set-up around them */
	rep->device_ceiling_qd = 32;
	rep->device_ceiling_block = 262144;
	rep->device_ceiling_throttled = true;
	snprintf(rep->answer, sizeof(rep->answer),
		 "No: on warm data the reads are memory copies on the CPU, so there is no wait to "
		 "hide; threads helped only by using the second CPU. On cold data the disk is the "
		 "ceiling at 320 MiB/s.");
	/* iotrace's own CPU: 150 ms user, 90 system in all, 30 + 20 of it in the windows */
	an_report_tracer_cpu(rep, 150 * MS, 90 * MS, 30 * MS, 20 * MS, true);
	rep->nruns = 3;
	rep->runs = calloc(3, sizeof(*rep->runs));
	assert_non_null(rep->runs);

	/* sync/warm: one thread, reads from the page cache */
	r = &rep->runs[0];
	snprintf(r->label, sizeof(r->label), "sync/warm");
	snprintf(r->strategy, sizeof(r->strategy), "sync");
	snprintf(r->cache, sizeof(r->cache), "warm");
	r->wall_ns = 200 * MS;
	states_ms(r, 150, 30, 20, 0, 0, 0, 0);
	r->nthreads = 1;
	r->threads = calloc(1, sizeof(*r->threads));
	assert_non_null(r->threads);
	set_thread(&r->threads[0], 1000, 1000, "iot-main", "main", 200,
		   (const uint64_t[]){150, 30, 20, 0, 0, 0, 0});
	r->blocked_ns = 20 * MS;
	r->blocked_busy_ns = 0;
	r->io_ns = 50 * MS;
	r->exposed_io_ns = 50 * MS;
	/* one thread: computing, copying, waiting on the disk, one CPU of two left serial */
	r->bound_ns[TL_B_CPU] = 150 * MS;
	r->bound_ns[TL_B_READ_CPU] = 30 * MS;
	r->bound_ns[TL_B_DEVICE] = 20 * MS;
	r->bound_ok = true;
	r->unused_cpu_ns[TL_U_DEVICE] = 20 * MS;
	r->unused_cpu_ns[TL_U_SERIAL] = 200 * MS;
	r->unused_cpu_ok = true;
	r->ncpu = 2;
	r->concurrency_ns[0] = 20 * MS;
	r->concurrency_ns[1] = 180 * MS;
	r->switches = 11;
	r->c.reads = 100;
	r->c.bytes_read = 100ULL << 20;
	r->c.pcache_ok = true;
	r->c.ctx_switches = 12;
	r->stolen_ok = true; /* measured: nothing stolen */
	r->resident_before = 1.0;
	r->speedup_ok = true;
	r->speedup_vs_sync = 1.0;
	r->ideal_ok = true;
	r->ideal_wall_ns = 90 * MS;
	r->ideal_cpu_ns = 90 * MS;
	r->ideal_dev_ok = true;
	r->ideal_speedup = 200.0 / 90.0;
	r->ideal_fraction = 90.0 / 200.0;
	snprintf(r->headline, sizeof(r->headline),
		 "sync/warm: 1.00× over sync (45%% of ideal 2.22×) — reads came from the page "
		 "cache (hit 100%%, 60%% of read time on CPU copying)");
	verdict(r, "page_cache",
		"reads came from the page cache (hit 100%, 60% of read time on CPU copying) — "
		"there is no disk wait for concurrency to hide.");
	r->sample_hz = 99;
	assert_int_equal(an_stack_add(&r->oncpu, "sync;main;compute;main;md5_update", 15), 0);
	assert_int_equal(an_stack_add(&r->oncpu, "sync;main;io_cpu;main;read;copy_page_to_iter", 3),
			 0);
	assert_int_equal(an_stack_add(&r->offcpu, "sync;main;io_wait;main;read;io_schedule",
				      20 * MS),
			 0);
	tl = tl_new();
	assert_non_null(tl);
	add_thread(tl, 1000, 1000, "iot-main", "main",
		   (const struct span_spec[]){{0, 120, TL_COMPUTE},
					      {120, 150, TL_IO_CPU},
					      {150, 170, TL_IO_WAIT},
					      {170, 200, TL_COMPUTE}},
		   4);
	assert_int_equal(tl_finish(tl, T0, T0 + 200 * MS), 0);
	r->tl = tl;
	ratios(r);

	/* threads/warm: three threads, escaping, lost events, stack errors */
	r = &rep->runs[1];
	snprintf(r->label, sizeof(r->label), "threads/warm");
	snprintf(r->strategy, sizeof(r->strategy), "threads");
	snprintf(r->cache, sizeof(r->cache), "warm");
	r->wall_ns = 120 * MS;
	states_ms(r, 170, 30, 10, 10, 0, 110, 10);
	r->nthreads = 3;
	r->threads = calloc(3, sizeof(*r->threads));
	assert_non_null(r->threads);
	set_thread(&r->threads[0], 2000, 2000, "iot-main", "main", 120,
		   (const uint64_t[]){10, 0, 0, 0, 0, 110, 0});
	set_thread(&r->threads[1], 2000, 2001, "iot-worker-1", "worker 1", 110,
		   (const uint64_t[]){85, 15, 10, 0, 0, 0, 0});
	set_thread(&r->threads[2], 2000, 2002, weird_comm, "worker 2 <é>", 110,
		   (const uint64_t[]){75, 15, 0, 10, 0, 0, 10});
	r->threads[1].gap_ns = 2 * MS;
	/* what the waits were for: worker 1 read 15 ms on CPU from files, waited 6 ms on a
	 * file and 4 on a pipe; worker 2 read on a socket and waited 10 ms on a mutex */
	for (int i = 0; i < 3; i++)
		r->threads[i].by_kind_ok = r->threads[i].other_kind_ok =
			r->threads[i].poll_kind_ok = true;
	r->poll_kind_ok = true;	/* no poll waits: every kind 0 */
	/* main waited 100 of its 110 ms of other_wait for a child (wait4) */
	r->threads[0].other_wait_by_kind_ns[TL_OWK_CHILD - 1] = 100 * MS;
	r->threads[0].other_wait_by_kind_ns[WT_NOW_SLOTS - 1] = 10 * MS;
	r->other_kind_ok = true;
	r->other_wait_by_kind_ns[TL_OWK_CHILD - 1] = 100 * MS;
	r->other_wait_by_kind_ns[WT_NOW_SLOTS - 1] = 10 * MS;
	r->threads[1].io_cpu_by_kind_ns[TL_IOK_FILE - 1] = 15 * MS;
	r->threads[1].io_wait_by_kind_ns[TL_IOK_FILE - 1] = 6 * MS;
	r->threads[1].io_wait_by_kind_ns[TL_IOK_PIPE - 1] = 4 * MS;
	r->threads[2].io_cpu_by_kind_ns[TL_IOK_SOCKET - 1] = 15 * MS;
	r->threads[2].lock_wait_by_kind_ns[TL_LK_MUTEX - 1] = 10 * MS;
	r->by_kind_ok = true;
	r->io_cpu_by_kind_ns[TL_IOK_FILE - 1] = 15 * MS;
	r->io_cpu_by_kind_ns[TL_IOK_SOCKET - 1] = 15 * MS;
	r->io_wait_by_kind_ns[TL_IOK_FILE - 1] = 6 * MS;
	r->io_wait_by_kind_ns[TL_IOK_PIPE - 1] = 4 * MS;
	r->lock_wait_by_kind_ns[TL_LK_MUTEX - 1] = 10 * MS;
	r->locks = calloc(1, sizeof(*r->locks));
	assert_non_null(r->locks);
	r->nlocks = 1;
	r->locks[0].pid = 2000;
	r->locks[0].addr = 0x55d0c0de1040;
	snprintf(r->locks[0].where, sizeof(r->locks[0].where), "g_lock");
	r->locks[0].kind = TL_LK_MUTEX;
	r->locks[0].wait_ns = 10 * MS;
	r->locks[0].waits = 4;
	assert_int_equal(wt_lock_add_tid(&r->locks[0].waiters, &r->locks[0].nwaiters,
					 &r->locks[0].capwaiters, 2002), 0);
	assert_int_equal(wt_lock_add_tid(&r->locks[0].wakers, &r->locks[0].nwakers,
					 &r->locks[0].capwakers, 2001), 0);
	r->locks[0].stack = strdup("start_thread;worker;pthread_mutex_lock");
	/* the device alone busy 5 ms of U_io, 4 of them while a thread computed */
	r->io_block_only_ok = true;
	r->io_block_only_ns = 5 * MS;
	r->io_block_only_computing_ns = 4 * MS;
	/* of the 10 ms of exposed I/O, 3 ms had only worker 1's pipe wait under way */
	r->exposed_io_peer_ok = true;
	r->exposed_io_peer_ns = 3 * MS;
	/* the hypervisor stole 5 + 3 ms of the workers' on-CPU time */
	r->threads[1].stolen_ns = 5 * MS;
	r->threads[2].stolen_ns = 3 * MS;
	r->stolen_ns = 8 * MS;
	r->stolen_ok = true;
	r->blocked_ns = 10 * MS;
	r->blocked_busy_ns = 7500000;
	r->io_ns = 40 * MS;
	r->exposed_io_ns = 10 * MS;
	r->ncpu = 2;
	r->concurrency_ns[0] = 10 * MS;
	r->concurrency_ns[1] = 30 * MS;
	r->concurrency_ns[2] = 80 * MS;
	r->switches = 40;
	r->c.reads = 100;
	r->c.bytes_read = 100ULL << 20;
	r->c.pcache_ok = true;
	r->c.block_ok = true;
	r->c.ctx_switches = 45;
	r->c.lost_events = 3;
	r->c.lost_ns = 2 * MS;
	r->gaps_ns = 2 * MS;
	r->resident_before = 1.0;
	r->speedup_ok = true;
	r->speedup_vs_sync = 200.0 / 120.0;
	r->ideal_ok = true;
	r->ideal_wall_ns = 90 * MS;
	r->ideal_cpu_ns = 90 * MS;
	r->ideal_dev_ok = true;
	r->ideal_speedup = 200.0 / 90.0;
	r->ideal_fraction = 90.0 / 120.0;
	snprintf(r->headline, sizeof(r->headline),
		 "threads/warm: 1.67× over sync (75%% of ideal 2.22×) — the CPUs were busy "
		 "(parallelism 1.67 of 2)");
	verdict(r, "cpu_saturated",
		"the CPUs were busy (parallelism 1.67 of 2, 4.8% of the time runnable) — more "
		"threads than CPUs cannot help.");
	verdict(r, "lost", "3 events were lost <covering 2.0 ms> & \"quoted\" \\ back\tslash.");
	r->sample_hz = 99;
	r->oncpu.errors = 2;
	assert_int_equal(an_stack_add(&r->oncpu, "threads;worker 1;compute;worker;md5_update", 9),
			 0);
	assert_int_equal(an_stack_add(&r->oncpu, "threads;worker 2 <é>;compute;w<&>;md5_update",
				      7),
			 0);
	assert_int_equal(an_stack_add(&r->offcpu, "threads;main;other_wait;main;pthread_join",
				      110 * MS + 123),
			 0);
	/* how their user frames were found: every sample and ns once (an_unwind_line) */
	r->ucopy_ok = true;
	r->ucopies = 40;
	r->ucopy_bytes = 40 * 4096;
	r->ucopy_bps = 40 * 4096 / 0.12;
	r->ucopy_skipped = 3;
	r->ucopy_reused = 5;
	r->ucopy_failed = 1;
	r->ucopy_lost = 2;
	r->ucopy_unwind_failed = 4;
	r->oncpu.unwound = 9;
	r->oncpu.unwind_failed = 4;
	r->oncpu.kernel_only = 3;
	r->offcpu.unwound = 100 * MS;
	r->offcpu.over_budget = 10 * MS + 123;
	tl = tl_new();
	assert_non_null(tl);
	add_thread(tl, 2000, 2000, "iot-main", "main",
		   (const struct span_spec[]){{0, 5, TL_COMPUTE},
					      {5, 115, TL_OTHER_WAIT},
					      {115, 120, TL_COMPUTE}},
		   3);
	add_thread_kinds(tl, 2000, 2001, "iot-worker-1", "worker 1",
			 (const struct span_spec[]){{5, 60, TL_COMPUTE},
						    {60, 75, TL_IO_CPU},
						    {75, 81, TL_IO_WAIT},
						    {81, 85, TL_IO_WAIT},
						    {85, 115, TL_COMPUTE}},
			 (const unsigned[]){0, TL_IOK_FILE, TL_IOK_FILE, TL_IOK_PIPE, 0}, 5);
	add_thread_kinds(tl, 2000, 2002, weird_comm, "worker 2 <é>",
			 (const struct span_spec[]){{5, 20, TL_IO_CPU},
						    {20, 70, TL_COMPUTE},
						    {70, 80, TL_RUNNABLE},
						    {80, 90, TL_LOCK_WAIT},
						    {90, 115, TL_COMPUTE}},
			 (const unsigned[]){TL_IOK_SOCKET, 0, 0, TL_LK_MUTEX, 0}, 5);
	tl_gap(tl, 2001, T0 + 40 * MS, T0 + 42 * MS);
	assert_int_equal(tl_finish(tl, T0, T0 + 120 * MS), 0);
	r->tl = tl;
	ratios(r);

	/* uring/cold: the disk, io_uring requests in flight, stacks off, no sync to compare */
	r = &rep->runs[2];
	snprintf(r->label, sizeof(r->label), "uring/cold");
	snprintf(r->strategy, sizeof(r->strategy), "uring");
	snprintf(r->cache, sizeof(r->cache), "cold");
	r->wall_ns = 300 * MS;
	states_ms(r, 250, 0, 50, 0, 0, 260, 0);
	r->nthreads = 2;
	r->threads = calloc(2, sizeof(*r->threads));
	assert_non_null(r->threads);
	set_thread(&r->threads[0], 3000, 3000, "iot-main", "main", 300,
		   (const uint64_t[]){250, 0, 50, 0, 0, 0, 0});
	set_thread(&r->threads[1], 3000, 3001, "iou-wrk-3000", "io-wq worker", 260,
		   (const uint64_t[]){0, 0, 0, 0, 0, 260, 0});
	r->exit_status = 0;
	r->blocked_ns = 50 * MS;
	r->io_ns = 235 * MS;
	r->exposed_io_ns = 50 * MS;
	r->ncpu = 2;
	r->concurrency_ns[0] = 50 * MS;
	r->concurrency_ns[1] = 250 * MS;
	r->switches = 3;
	/* 64 MiB of cold file reads, 1 MiB from a pipe; 2 MiB of a binary paged in */
	r->c.bytes_read = 65ULL << 20;
	r->c.bytes_read_by_kind[TL_IOK_FILE - 1] = 64ULL << 20;
	r->c.bytes_read_by_kind[TL_IOK_PIPE - 1] = 1ULL << 20;
	r->c.bytes_kind_ok = true;
	r->c.pcache_ok = true;
	r->c.pcache_insert_bytes = 66ULL << 20;
	r->c.pcache_read_bytes = 64ULL << 20;
	r->c.pcache_fault_bytes = 2ULL << 20;
	r->c.pcache_cause_ok = true;
	r->c.block_ok = true;
	r->c.block_bytes = 64ULL << 20;
	r->c.block_busy_ns = 200 * MS;
	r->c.block_reqs = 512;
	r->c.uring_ok = true;
	r->c.uring_submitted = 512;
	r->c.uring_completed = 512;
	r->c.uring_inline = 12;
	r->c.uring_punted = 500;
	r->resident_before = 0.0;
	verdict(r, "disk", "the disk was the ceiling (busy 67% of the run at 320 MiB/s).");
	snprintf(r->oncpu.unavailable, sizeof(r->oncpu.unavailable),
		 "stacks disabled (--no-stacks)");
	snprintf(r->offcpu.unavailable, sizeof(r->offcpu.unavailable),
		 "stacks disabled (--no-stacks)");
	tl = tl_new();
	assert_non_null(tl);
	add_thread(tl, 3000, 3000, "iot-main", "main",
		   (const struct span_spec[]){{0, 100, TL_COMPUTE},
					      {100, 150, TL_IO_WAIT},
					      {150, 300, TL_COMPUTE}},
		   3);
	add_thread(tl, 3000, 3001, "iou-wrk-3000", "io-wq worker",
		   (const struct span_spec[]){{20, 280, TL_OTHER_WAIT}}, 1);
	assert_int_equal(tl_io_begin(tl, 7, T0 + 10 * MS), 0);
	assert_int_equal(tl_io_end(tl, 7, T0 + 90 * MS), 0);
	assert_int_equal(tl_io_begin(tl, 8, T0 + 95 * MS), 0);
	assert_int_equal(tl_io_end(tl, 8, T0 + 160 * MS), 0);
	assert_int_equal(tl_io_begin(tl, 9, T0 + 200 * MS), 0);
	assert_int_equal(tl_io_end(tl, 9, T0 + 290 * MS), 0);
	assert_int_equal(tl_finish(tl, T0, T0 + 300 * MS), 0);
	r->tl = tl;
	ratios(r);
}

/* ---- helpers ---- */

/* noinline: gcc 12 mistakes the open_memstream buffer for a dangling local once inlined */
static __attribute__((noinline)) char *render(int (*fn)(FILE *, const struct an_report *),
					      const struct an_report *rep, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(fn(f, rep), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

/* -v: everything the text report can say */
static int text_plain(FILE *f, const struct an_report *r)
{
	return rp_text(f, r, &(struct rp_text_opts){.verbose = 1});
}

static int text_color(FILE *f, const struct an_report *r)
{
	return rp_text(f, r, &(struct rp_text_opts){.color = true, .verbose = 1});
}

/* the default: table, Answer, where the folder is */
static int text_short(FILE *f, const struct an_report *r)
{
	return rp_text(f, r, &(struct rp_text_opts){.folder = "/home/user/iotrace-out/run-1"});
}

static void golden(const char *name, const char *buf, size_t len)
{
	golden_check(GOLDEN_DIR, name, buf, len);
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/iotrace-test-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rmtree(const char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static void write_text(const char *path, const char *s)
{
	spit(path, s, strlen(s));
}

/* ---- goldens ---- */

static void test_summary_golden(void **state)
{
	struct an_report rep;
	size_t n;
	char *out;

	(void)state;
	build(&rep);
	out = render(rp_summary_json, &rep, &n);
	golden("summary.json", out, n);
	free(out);
	an_report_free(&rep);
}

static void test_text_golden(void **state)
{
	struct an_report rep;
	size_t n;
	char *out;

	(void)state;
	build(&rep);
	out = render(text_short, &rep, &n);
	golden("report.txt", out, n);
	assert_null(strchr(out, '\033'));
	free(out);
	out = render(text_plain, &rep, &n);
	golden("report-v.txt", out, n);
	assert_null(strchr(out, '\033'));
	free(out);
	an_report_free(&rep);
}

static const char *const run12_strategies[] = {"sync", "threads", "callback", "uring", "procs",
					       "gil"};

/*
 * A saved default run (md5dir, six strategies warm and cold, each repeated: tests/golden/
 * run12, its summary.json as iotrace wrote it; scripts/record-goldens.sh --run12 DIR takes
 * a new one) read as a user would at 100 columns: the default text is its golden, and what
 * the default view must hold does not depend on a re-record: one screen (40 lines), no line
 * said twice or wider than the terminal, the repetitions said, a table row per run with its
 * spread, each strategy's Answer line, where the report is.
 */
static void test_text_one_screen(void **state)
{
	struct an_report rep;
	char err[512], *out, *line, *save = NULL, *ans;
	char *seen[64];
	size_t n, nlines = 0;

	(void)state;
	if (rp_load_outdir("tests/golden/run12", &rep, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(rep.nruns, 12);
	for (size_t i = 0; i < rep.nruns; i++)
		assert_true(rep.runs[i].nrepeats >= 2);
	out = render(text_short, &rep, &n);
	golden("run12.txt", out, n);
	assert_non_null(strstr(out, "\nwalls: medians of "));
	for (size_t i = 0; i < rep.nruns; i++) {
		char want[80];
		const char *row;

		snprintf(want, sizeof(want), "\n%s ", rep.runs[i].label);
		row = strstr(out, want);
		if (!row)
			fail_msg("no table row for %s", rep.runs[i].label);
		assert_true(strcspn(row + 1, "\n") > strcspn(row + 1, "±"));
	}
	ans = strstr(out, "\nAnswer\n");
	assert_non_null(ans);
	for (size_t k = 0; k < sizeof(run12_strategies) / sizeof(run12_strategies[0]); k++) {
		char want[64];

		snprintf(want, sizeof(want), "\n  %s%s", run12_strategies[k],
			 k ? ": warm " : ", the baseline: warm");
		if (!strstr(ans, want))
			fail_msg("no Answer line for %s", run12_strategies[k]);
	}
	assert_non_null(strstr(ans, "\nreport: /home/user/iotrace-out/run-1/report.html\n"));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t cols = 0;

		for (const char *p = line; *p; p++)
			cols += ((unsigned char)*p & 0xc0) != 0x80;
		if (cols > 100)
			fail_msg("line of %zu columns: %s", cols, line);
		for (size_t k = 0; k < nlines && k < 64; k++)
			if (!strcmp(seen[k], line))
				fail_msg("said twice: %s", line);
		if (nlines < 64)
			seen[nlines] = line;
		nlines++;
	}
	/* strtok_r skipped the blank lines: count them back */
	nlines = 0;
	for (size_t i = 0; i < n; i++)
		nlines += out[i] == '\0' || out[i] == '\n';
	if (nlines > 40)
		fail_msg("%zu lines: more than one screen of 40", nlines);
	free(out);
	an_report_free(&rep);
}

/*
 * Every name and value of old in new (new may have more: names are added, never renamed).
 * A figure whose old value was wrong may come back null, no other value: hit_ratio, which
 * files before bytes_read_by_kind computed over every byte read (pipes' too) and every
 * insertion (binaries paged in too).
 */
static void json_within(const json_t *old, const json_t *new, const char *path)
{
	static const char *const corrected[] = {"/hit_ratio"};
	char sub[512];
	size_t pl = strlen(path);

	for (size_t i = 0; i < sizeof(corrected) / sizeof(corrected[0]); i++) {
		size_t cl = strlen(corrected[i]);

		if (pl >= cl && !strcmp(path + pl - cl, corrected[i]) && json_is_null(new))
			return;
	}

	if (json_is_object(old)) {
		const char *k;
		const json_t *v;

		if (!json_is_object(new))
			fail_msg("%s: an object became %d", path, json_typeof(new));
		json_object_foreach((json_t *)old, k, v) {
			snprintf(sub, sizeof(sub), "%s/%s", path, k);
			if (!json_object_get(new, k))
				fail_msg("%s: gone", sub);
			json_within(v, json_object_get(new, k), sub);
		}
	} else if (json_is_array(old)) {
		if (!json_is_array(new) || json_array_size(new) != json_array_size(old))
			fail_msg("%s: the array changed length", path);
		for (size_t i = 0; i < json_array_size(old); i++) {
			snprintf(sub, sizeof(sub), "%s/%zu", path, i);
			json_within(json_array_get(old, i), json_array_get(new, i), sub);
		}
	} else if (json_is_real(old)) {
		double a = json_real_value(old), b = json_number_value(new);

		if (!json_is_number(new) || fabs(a - b) > 1e-12 * fmax(fabs(a), 1))
			fail_msg("%s: %.17g became %.17g", path, a, b);
	} else if (!json_equal((json_t *)old, (json_t *)new)) {
		fail_msg("%s: changed", path);
	}
}

/*
 * The saved default run read back and written again: summary.json keeps every name and
 * value it was saved with (the machine-readable side does not shrink, and an old folder
 * re-renders as it was).
 */
static void test_run12_summary_round_trip(void **state)
{
	struct an_report rep;
	json_error_t je;
	json_t *old, *new;
	char err[512], *out;

	(void)state;
	old = json_load_file("tests/golden/run12/summary.json", 0, &je);
	if (!old)
		fail_msg("tests/golden/run12/summary.json:%d: %s", je.line, je.text);
	if (rp_load_outdir("tests/golden/run12", &rep, err, sizeof(err)))
		fail_msg("%s", err);
	out = render(rp_summary_json, &rep, NULL);
	new = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	if (!new)
		fail_msg("re-rendered summary.json:%d: %s", je.line, je.text);
	json_within(old, new, "");
	json_decref(old);
	json_decref(new);
	free(out);
	an_report_free(&rep);
}

/* The line of out that starts with prefix, after the first occurrence of after. */
static void line_after(const char *out, const char *after, const char *prefix, char *line,
		       size_t len)
{
	const char *p = strstr(out, after);

	assert_non_null(p);
	for (p = strchr(p, '\n'); p; p = strchr(p + 1, '\n'))
		if (!strncmp(p + 1, prefix, strlen(prefix))) {
			size_t n = strcspn(p + 1, "\n");

			snprintf(line, len, "%.*s", (int)n, p + 1);
			return;
		}
	fail_msg("no line starting '%s' after '%s'", prefix, after);
}

static void assert_in(const char *s, const char *sub)
{
	if (!strstr(s, sub))
		fail_msg("expected '%s' in:\n%s", sub, s);
}

/*
 * A run that read no file has no file-read hit: the table says "unavailable" and the line
 * under it why, naming the run; -v's page-cache line says it with the reason; report.html's
 * cell is a dash whose tooltip says why. With file reads: the read insertions over them.
 */
static void test_hit_ratio_named(void **state)
{
	static const char why[] = "no file bytes were read (only pipes, sockets or devices)";
	struct an_report rep;
	char *out, line[512];

	(void)state;
	build(&rep);
	rep.runs[1].hit_ratio_ok = false;
	snprintf(rep.runs[1].hit_ratio_unavailable, sizeof(rep.runs[1].hit_ratio_unavailable),
		 "%s", why);
	out = render(text_short, &rep, NULL);
	line_after(out, "file-read hit", "threads/warm", line, sizeof(line));
	assert_in(line, " unavailable ");
	assert_in(out, "\nfile-read hit unavailable for threads/warm: no file bytes were read "
		       "(only pipes, sockets or devices)\n");
	free(out);
	out = render(text_plain, &rep, NULL);
	assert_in(out, "page cache: file-read hit unavailable (no file bytes were read (only pipes,");
	/* uring/cold: 64 MiB of file reads all missed; 2 MiB of a binary faulted in is apart */
	assert_in(out, "page cache: file reads hit it 0.0% (the reads' misses and readahead inserted "
		       "64.0 MiB for 64.0 MiB\n  read from files); 66.0 MiB inserted in all, "
		       "2.00 MiB of it by page faults");
	free(out);
	out = render(rp_html, &rep, NULL);
	assert_in(out, "<td class=\"na\" title=\"unavailable: no file bytes were read (only pipes, "
		       "sockets or devices)\">&#8212;</td>");
	free(out);
	/*
	 * The processes' read cells say from what: pid 2000's threads read 40 KiB from files
	 * and 4 KiB from a pipe (set_thread), "file+"; a reader of a pipe alone, "pipe"; one
	 * whose other kinds are under 1% (a library's header) names its main one alone.
	 */
	{
		struct an_process p[3] = {{.pid = 2000, .comm = "a", .cmdline = "a"},
					  {.pid = 2001, .comm = "b", .cmdline = "b"},
					  {.pid = 2002, .comm = "c", .cmdline = "c"}};
		struct an_run *r = &rep.runs[1];

		r->threads[1].pid = 2001; /* worker 1: 24 KiB, 4 of them from a pipe */
		r->threads[1].bytes_read = 4096;
		r->threads[1].bytes_read_by_kind[TL_IOK_FILE - 1] = 0;
		r->threads[2].pid = 2002;
		r->threads[2].bytes_read = 1 << 20;
		r->threads[2].bytes_read_by_kind[TL_IOK_SOCKET - 1] = (1 << 20) - 832;
		r->threads[2].bytes_read_by_kind[TL_IOK_FILE - 1] = 832;
		assert_int_equal(an_run_set_processes(r, p, 3), 0);
	}
	out = render(text_short, &rep, NULL);
	assert_in(out, " 0.02 MiB file ");
	assert_in(out, " <0.01 MiB pipe ");
	assert_in(out, " 1.00 MiB socket ");
	free(out);
	rep.runs[1].threads[0].bytes_read_by_kind[TL_IOK_PIPE - 1] = 4096;
	rep.runs[1].threads[0].bytes_read += 4096;
	an_run_set_processes(&rep.runs[1], rep.runs[1].processes, 3);
	out = render(text_short, &rep, NULL);
	assert_in(out, " 0.02 MiB file+ ");
	free(out);
	out = render(rp_html, &rep, NULL);
	assert_in(out, "<td title=\"file 20.0 KiB, pipe 4.00 KiB\">24.0 KiB</td>");
	assert_in(out, "title=\"file reads hit the page cache 0.0%: 64.0 MiB inserted by their "
		       "misses and readahead for 64.0 MiB read from files\">0%</td>");
	free(out);
	/* a hit that is not none but rounds to it: "<0.1%", escaped in the page */
	rep.runs[2].hit_ratio = 0.0004;
	out = render(text_plain, &rep, NULL);
	assert_in(out, "page cache: file reads hit it <0.1% (");
	free(out);
	out = render(rp_html, &rep, NULL);
	assert_in(out, "title=\"file reads hit the page cache &lt;0.1%: ");
	assert_in(out, "read from files\">&lt;0.1%</td>");
	assert_null(strstr(out, "><0.1%"));
	free(out);
	an_report_free(&rep);
}

/*
 * O_DIRECT reads in every view: a run whose file reads were all direct has no file-read hit,
 * and the line under the table says why; one that read some direct has its hit over the
 * others, the note under the table, -v's reads and page-cache lines and report.html's
 * tooltips say how much was direct. The figures are the model's (ratios() here).
 */
static void test_hit_ratio_direct_named(void **state)
{
	struct an_report rep;
	char *out;

	(void)state;
	build(&rep);
	/* threads/warm: its 100 MiB of file reads all O_DIRECT */
	rep.runs[1].c.bytes_read_direct = rep.runs[1].c.bytes_read_by_kind[TL_IOK_FILE - 1];
	rep.runs[1].c.bytes_direct_ok = true;
	ratios(&rep.runs[1]);
	/* uring/cold: 48 of its 64 MiB from files O_DIRECT; the other 16 MiB missed */
	rep.runs[2].c.bytes_read_direct = 48ULL << 20;
	rep.runs[2].c.bytes_direct_ok = true;
	rep.runs[2].c.pcache_read_bytes = 16ULL << 20;
	ratios(&rep.runs[2]);
	assert_false(rep.runs[1].hit_ratio_ok);
	assert_true(rep.runs[2].hit_ratio_ok);
	out = render(text_short, &rep, NULL);
	assert_in(out, "\nfile-read hit unavailable for threads/warm: all file reads were O_DIRECT: "
		       "they bypass the page cache\n");
	assert_in(out, "\nfile-read hit of uring/cold: over the 16.0 MiB read through the page "
		       "cache; 48.0 MiB read O_DIRECT bypassed it\n");
	free(out);
	out = render(text_plain, &rep, NULL);
	assert_in(out, "page cache: file-read hit unavailable (all file reads were O_DIRECT: they "
		       "bypass the page cache);");
	assert_in(out, "(65.0 MiB: file 64.0 MiB (48.0 MiB of it O_DIRECT), pipe 1.00 MiB)");
	assert_in(out, "for 16.0 MiB\n  read from files through it); 48.0 MiB read O_DIRECT "
		       "bypassed it; 66.0 MiB inserted in all");
	free(out);
	out = render(rp_html, &rep, NULL);
	assert_in(out, "<td class=\"na\" title=\"unavailable: all file reads were O_DIRECT: they "
		       "bypass the page cache\">&#8212;</td>");
	assert_in(out, "title=\"file reads hit the page cache 0.0%: 16.0 MiB inserted by their "
		       "misses and readahead for 16.0 MiB read from files through it; 48.0 MiB "
		       "read O_DIRECT bypassed it\">0%</td>");
	free(out);
	an_report_free(&rep);
}

/*
 * What each wait was for, in every view, from the synthetic threads/warm: worker 1 waited
 * 6 ms on a file and 4 on a pipe, worker 2 10 ms on a mutex (g_lock), 340 ms of thread
 * time; 3 of the 10 ms of exposed I/O were the pipe wait alone; readahead hid 4 of the
 * 40 ms of I/O.
 */
static void test_wait_kinds_shown(void **state)
{
	struct an_report rep;
	char *out, line[512];

	(void)state;
	build(&rep);
	/* the default screen: the exposed I/O that was a pipe's, in its cell */
	out = render(text_short, &rep, NULL);
	line_after(out, "exposed I/O", "threads/warm", line, sizeof(line));
	assert_in(line, " 10.0 ms (pipe 3.00 ms) ");
	line_after(out, "exposed I/O", "sync/warm", line, sizeof(line));
	assert_null(strstr(line, "pipe"));
	free(out);
	/* -v: shares of thread time by kind (6/340 = 1.76%, 4/340 = 1.18%, 10/340 = 2.94%),
	 * only the kinds some run had */
	out = render(text_plain, &rep, NULL);
	line_after(out, "lock_wait by what the futex was", "run ", line, sizeof(line));
	assert_non_null(strstr(line, "file"));
	assert_true(strstr(line, "file") < strstr(line, "pipe"));
	assert_true(strstr(line, "pipe") < strstr(line, "mutex"));
	assert_null(strstr(line, "socket"));
	assert_null(strstr(line, "GIL"));
	assert_null(strstr(line, "join"));
	line_after(out, "lock_wait by what the futex was", "threads/warm", line, sizeof(line));
	assert_in(line, " 1.8% ");
	assert_in(line, " 1.2% ");
	assert_true(strlen(line) > 4 && !strcmp(line + strlen(line) - 5, " 2.9%"));
	line_after(out, "lock_wait by what the futex was", "sync/warm", line, sizeof(line));
	assert_in(line, "unavailable");
	assert_in(out, "  waits: io_wait 10.0 ms: file 6.00 ms, pipe 4.00 ms; lock_wait 10.0 ms: "
		       "mutex 10.0 ms\n");
	assert_in(out, "  locks, longest wait first: g_lock (mutex, pid 2000) 10.0 ms in 4 waits "
		       "by 1 thread\n");
	/* (the line wraps at 100 columns between them) */
	assert_in(out, "hidden 75.0% (10.0% by the device's own readahead alone),\n  exposed 10.0 ms");
	assert_in(out, "(3.00 ms of it waiting on a pipe, not storage)\n");
	line_after(out, "\nthreads/warm\n", "  worker 1 ", line, sizeof(line));
	assert_in(line, " 10.0 ms file+ ");
	line_after(out, "\nthreads/warm\n", "  worker 2 ", line, sizeof(line));
	assert_in(line, " 10.0 ms mutex ");
	free(out);
	/* report.html: a bar segment per kind, its tooltip saying what it was */
	out = render(rp_html, &rep, NULL);
	assert_in(out, "data-kind=\"io_wait file\"><title>threads/warm: io_wait, file 6.00 ms "
		       "(reading storage (a file or block device))</title>");
	assert_in(out, "data-kind=\"io_wait pipe\"><title>threads/warm: io_wait, pipe 4.00 ms "
		       "(waiting on a pipe: another process's work)</title>");
	assert_in(out, "data-kind=\"lock_wait mutex\"><title>threads/warm: lock_wait, mutex "
		       "10.0 ms (contention on a mutex)</title>");
	assert_null(strstr(out, "data-kind=\"lock_wait join\""));
	assert_in(out, "<td title=\"file 6.00 ms, pipe 4.00 ms\">3%<br/><small>file 2%, pipe 1%"
		       "</small></td>");
	assert_in(out, "<td title=\"3.00 ms waiting on a pipe: another process's work, not "
		       "storage\">10.0 ms<br/><small>pipe 3.00 ms</small></td>");
	free(out);
	/* trace.json: a wait's slice named by what it waited for */
	out = render(rp_perfetto, &rep, NULL);
	assert_in(out, "\"name\":\"lock_wait: mutex\"");
	assert_in(out, "\"name\":\"io_wait: pipe\"");
	assert_in(out, "\"name\":\"io_cpu: file\"");
	assert_in(out, "\"args\":{\"state\":\"io_wait\",\"kind\":\"file\"}");
	free(out);
	an_report_free(&rep);
}

static void test_perfetto_golden(void **state)
{
	struct an_report rep;
	size_t n;
	char *out;

	(void)state;
	build(&rep);
	out = render(rp_perfetto, &rep, &n);
	golden("trace.json", out, n);
	free(out);
	an_report_free(&rep);
}

/* trace.json parses; each thread's complete events are ordered and never overlap (so they
 * nest); every async slice begins before it ends; each run is its own process. */
static void test_perfetto_well_formed(void **state)
{
	struct an_report rep;
	json_error_t je;
	json_t *root, *evs, *e;
	char *out;
	size_t i, nx = 0, nb = 0;
	struct {
		long pid, tid;
		double end;
	} last[16] = {{0}};
	size_t nlast = 0;

	(void)state;
	build(&rep);
	out = render(rp_perfetto, &rep, NULL);
	root = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		fail_msg("trace.json:%d:%d: %s", je.line, je.column, je.text);
	evs = json_object_get(root, "traceEvents");
	assert_true(json_is_array(evs));
	json_array_foreach(evs, i, e) {
		const char *ph = json_string_value(json_object_get(e, "ph"));
		long pid = (long)json_integer_value(json_object_get(e, "pid"));
		long tid = (long)json_integer_value(json_object_get(e, "tid"));

		assert_non_null(ph);
		assert_true(pid >= 1 && pid <= (long)rep.nruns);
		if (!strcmp(ph, "X")) {
			double ts = json_number_value(json_object_get(e, "ts"));
			double dur = json_number_value(json_object_get(e, "dur"));
			size_t k;

			assert_true(dur > 0);
			for (k = 0; k < nlast && (last[k].pid != pid || last[k].tid != tid); k++)
				;
			if (k == nlast) {
				assert_true(nlast < 16);
				last[nlast].pid = pid;
				last[nlast].tid = tid;
				last[nlast++].end = 0;
			}
			assert_true(ts >= last[k].end);
			last[k].end = ts + dur;
			nx++;
		} else if (!strcmp(ph, "b")) {
			json_t *end = json_array_get(evs, i + 1);

			/* written as adjacent pairs: the matching end follows */
			assert_string_equal(json_string_value(json_object_get(end, "ph")), "e");
			assert_string_equal(json_string_value(json_object_get(end, "id")),
					    json_string_value(json_object_get(e, "id")));
			assert_true(json_number_value(json_object_get(end, "ts")) >=
				    json_number_value(json_object_get(e, "ts")));
			nb++;
		} else {
			assert_true(!strcmp(ph, "M") || !strcmp(ph, "e"));
		}
	}
	/* worker 1's io_wait is two spans: on a file, then on a pipe */
	assert_int_equal(nx, 4 + 3 + 5 + 5 + 3 + 1);
	assert_int_equal(nb, 3 + 1); /* three I/O stretches, one lost stretch */
	json_decref(root);
	free(out);
	an_report_free(&rep);
}

/* ---- summary.json content ---- */

static void test_summary_nulls_and_types(void **state)
{
	struct an_report rep;
	json_error_t je;
	json_t *root, *runs, *r2, *r0;
	char *out;

	(void)state;
	build(&rep);
	out = render(rp_summary_json, &rep, NULL);
	root = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "schema")),
			    "iotrace.summary/1");
	runs = json_object_get(root, "runs");
	assert_int_equal(json_array_size(runs), 3);
	r0 = json_array_get(runs, 0);
	r2 = json_array_get(runs, 2);
	/* unmeasured figures are null, never 0 */
	assert_true(json_is_null(json_object_get(r2, "speedup_vs_sync")));
	assert_true(json_is_null(json_object_get(r2, "ideal_fraction")));
	assert_true(json_is_null(json_object_get(r0, "block_bytes")));
	assert_true(json_is_null(json_object_get(json_object_get(r0, "uring"), "submitted")));
	assert_true(json_is_integer(json_object_get(json_object_get(r2, "uring"), "punted")));
	assert_true(json_is_null(json_object_get(root, "command")));
	/* ns are integers, shares reals in 0..1 */
	assert_true(json_is_integer(json_object_get(r0, "wall_ns")));
	assert_true(json_is_real(json_object_get(r0, "hit_ratio")));
	assert_int_equal(json_array_size(json_object_get(r0, "concurrency")), 3);
	assert_string_equal(json_string_value(json_object_get(r2, "cache")), "cold");
	json_decref(root);
	free(out);
	an_report_free(&rep);
}

static void test_json_escaping(void **state)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	(void)state;
	assert_non_null(f);
	rp_json_string(f, "a<b>&\"q\"\\\n\t\r\b\f\x01\x1f\x7f é \xff\xc3 \xef\xbf\xbd \xe2\x80\xa8 "
			  "\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 😀");
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf,
			    "\"a\\u003cb\\u003e\\u0026\\\"q\\\"\\\\\\n\\t\\r\\b\\f\\u0001\\u001f"
			    "\\u007f é \\ufffd\\ufffd \\ufffd \\u2028 "
			    "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\\ufffd "
			    "😀\"");
	free(buf);
}

/* A comm with invalid bytes keeps its bytes through JSON (U+FFFD <-> one 0xff byte). */
static void test_roundtrip_weird_names(void **state)
{
	struct an_report rep, back;
	char *d = tmpdir(), path[512], err[512];
	const char *s;
	FILE *f;
	int ret;

	(void)state;
	build(&rep);
	snprintf(path, sizeof(path), "%s/summary.json", d);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(rp_summary_json(f, &rep), 0);
	assert_int_equal(fclose(f), 0);
	ret = rp_summary_load(path, &back, err, sizeof(err));
	if (ret)
		fail_msg("%s", err);
	s = back.runs[1].threads[2].comm;
	assert_int_equal(strlen(s), strlen(weird_comm));
	/* the invalid \xff came back as one 0xff byte; the rest exactly */
	assert_memory_equal(s, weird_comm, strlen(weird_comm));
	assert_string_equal(back.runs[1].threads[2].role, "worker 2 <é>");
	assert_string_equal(back.runs[1].verdict[1].text, rep.runs[1].verdict[1].text);
	an_report_free(&back);
	an_report_free(&rep);
	rmtree(d);
	free(d);
}

/* ---- the run folder ---- */

static const char *const files[] = {
	"summary.json",
	"trace.json",
	"runs/sync-warm/spans.tsv",
	"runs/threads-warm/spans.tsv",
	"runs/uring-cold/spans.tsv",
	"runs/sync-warm/oncpu.folded",
	"runs/threads-warm/oncpu.folded",
	"runs/threads-warm/offcpu.folded",
	"runs/threads-warm/wall.folded",
};

static void test_roundtrip(void **state)
{
	struct an_report rep, back;
	char *a = tmpdir(), *b = tmpdir(), pa[512], pb[512], err[512];
	char *t1, *t2;
	int ret;

	(void)state;
	build(&rep);
	/* a saved run is one the model derived: its ratios follow from its integers */
	for (size_t i = 0; i < rep.nruns; i++)
		an_run_derive(&rep.runs[i]);
	/* the machine's CPU in the window, iotrace's own: 40 ms of 400 ms */
	rep.runs[1].machine_ok = true;
	rep.runs[1].machine_busy_ns = 300000000;
	rep.runs[1].machine_idle_ns = 100000000;
	an_run_tracer_cpu(&rep.runs[1], 30000000, 10000000);
	rep.runs[1].machine_iotrace_ns = 40000000;
	assert_int_equal(rp_write_outdir(a, &rep, (uid_t)-1, (gid_t)-1), 0);
	ret = rp_load_outdir(a, &back, err, sizeof(err));
	if (ret)
		fail_msg("load: %s", err);
	assert_int_equal(back.nruns, 3);
	assert_true(back.runs[1].tracer_cpu_ok && back.runs[1].tracer_cpu_share_ok);
	assert_int_equal(back.runs[1].tracer_user_ns, 30000000);
	assert_int_equal(back.runs[1].tracer_sys_ns, 10000000);
	assert_true(back.tracer_total_ok && back.tracer_outside_ok);
	assert_int_equal(back.tracer_total_user_ns, 150 * MS);
	assert_int_equal(back.tracer_total_sys_ns, 90 * MS);
	assert_int_equal(back.tracer_windows_user_ns, 30 * MS);
	assert_int_equal(back.tracer_windows_sys_ns, 20 * MS);
	assert_int_equal(back.tracer_outside_user_ns, 120 * MS);
	assert_int_equal(back.tracer_outside_sys_ns, 70 * MS);
	assert_true(back.runs[1].tracer_cpu_share > 0.0999 && back.runs[1].tracer_cpu_share < 0.1001);
	assert_false(back.runs[0].tracer_cpu_ok || back.runs[0].tracer_cpu_share_ok);
	assert_non_null(back.runs[1].tl);
	assert_int_equal(back.runs[1].tl->nthreads, 3);
	assert_string_equal(back.runs[1].tl->threads[2].comm, weird_comm);
	{
		/* what the waits were for comes back with the spans (spans.tsv's KIND) */
		const struct tl_thread *w2 = &back.runs[1].tl->threads[2];
		bool mutex = false;

		for (size_t s = 0; s < w2->nspans; s++)
			mutex |= w2->spans[s].state == TL_LOCK_WAIT &&
				 w2->spans[s].kind == TL_LK_MUTEX;
		assert_true(mutex);
	}
	assert_int_equal(back.runs[1].oncpu.total, rep.runs[1].oncpu.total);
	assert_int_equal(back.runs[1].offcpu.total, rep.runs[1].offcpu.total);
	assert_int_equal(back.runs[1].oncpu.errors, 2);
	/* how the stacks' user frames were found comes back whole */
	for (int i = 0; i < AN_NUSTACK; i++) {
		assert_int_equal(an_stack_by_user(&back.runs[1].oncpu, (enum an_ustack)i),
				 an_stack_by_user(&rep.runs[1].oncpu, (enum an_ustack)i));
		assert_int_equal(an_stack_by_user(&back.runs[1].offcpu, (enum an_ustack)i),
				 an_stack_by_user(&rep.runs[1].offcpu, (enum an_ustack)i));
	}
	assert_int_equal(an_stack_user_sum(&back.runs[1].offcpu), back.runs[1].offcpu.total);
	assert_int_equal(back.runs[1].ucopy_failed, 1);
	assert_int_equal(back.runs[1].ucopy_lost, 2);
	assert_int_equal(back.runs[1].ucopy_unwind_failed, 4);
	assert_string_equal(back.runs[2].offcpu.unavailable, "stacks disabled (--no-stacks)");
	assert_int_equal(rp_write_outdir(b, &back, (uid_t)-1, (gid_t)-1), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t la, lb;
		char *x, *y;

		snprintf(pa, sizeof(pa), "%s/%s", a, files[i]);
		snprintf(pb, sizeof(pb), "%s/%s", b, files[i]);
		x = slurp(pa, &la);
		y = slurp(pb, &lb);
		if (!x || !y)
			fail_msg("%s missing after the round trip", files[i]);
		if (la != lb || memcmp(x, y, la))
			fail_msg("%s differs after write -> load -> write: diff %s %s", files[i],
				 pa, pb);
		free(x);
		free(y);
	}
	/* every view reads the same numbers back */
	t1 = render(text_plain, &rep, NULL);
	t2 = render(text_plain, &back, NULL);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	/* and every file of the layout is there */
	{
		static const char *const layout[] = {
			"report.html",		     "runs/threads-warm/flame-wall.svg",
			"runs/threads-warm/flame-oncpu.svg", "runs/threads-warm/flame-offcpu.svg",
			"runs/threads-warm/flame-diff.svg",  "runs/threads-warm/timeline.svg",
			"runs/uring-cold/offcpu.folded",
		};
		struct stat st;

		for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
			snprintf(pa, sizeof(pa), "%s/%s", a, layout[i]);
			if (stat(pa, &st) < 0 || !S_ISREG(st.st_mode))
				fail_msg("%s was not written", layout[i]);
		}
		/* sync has no diff against itself; no stray temporaries */
		snprintf(pa, sizeof(pa), "%s/runs/sync-warm/flame-diff.svg", a);
		assert_int_equal(stat(pa, &st), -1);
		snprintf(pa, sizeof(pa), "ls -A '%s' | grep -q tmp", a);
		assert_int_not_equal(system(pa), 0);
	}
	an_report_free(&back);
	an_report_free(&rep);
	rmtree(a);
	rmtree(b);
	free(a);
	free(b);
}

/* A tid the kernel reused is two threads in the timeline, and stays two after loading. */
static void test_roundtrip_reused_tid(void **state)
{
	struct an_report rep, back;
	struct an_run *r;
	struct tl_timeline *tl;
	char *a = tmpdir(), *b = tmpdir(), pa[512], pb[512], err[512], *x, *y;
	size_t la, lb;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	snprintf(rep.workload, sizeof(rep.workload), "trace");
	rep.ncpu = 1;
	rep.nruns = 1;
	rep.runs = calloc(1, sizeof(*rep.runs));
	assert_non_null(rep.runs);
	r = &rep.runs[0];
	snprintf(r->label, sizeof(r->label), "trace");
	snprintf(r->strategy, sizeof(r->strategy), "trace");
	r->exit_status = -1;
	r->wall_ns = 40 * MS;
	r->ncpu = 1;
	tl = tl_new();
	assert_non_null(tl);
	add_thread(tl, 50, 50, "sh", "main", (const struct span_spec[]){{0, 40, TL_OTHER_WAIT}}, 1);
	add_thread(tl, 50, 77, "job", "job 1", (const struct span_spec[]){{0, 10, TL_COMPUTE}}, 1);
	add_thread(tl, 50, 77, "job", "job 2",
		   (const struct span_spec[]){{20, 25, TL_COMPUTE}, {25, 30, TL_IO_WAIT}}, 2);
	assert_int_equal(tl_finish(tl, T0, T0 + 40 * MS), 0);
	assert_int_equal(tl->nthreads, 3);
	r->tl = tl;
	assert_int_equal(rp_write_outdir(a, &rep, (uid_t)-1, (gid_t)-1), 0);
	if (rp_load_outdir(a, &back, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(back.runs[0].tl->nthreads, 3);
	assert_int_equal(back.runs[0].tl->threads[2].nspans, 2);
	assert_int_equal(rp_write_outdir(b, &back, (uid_t)-1, (gid_t)-1), 0);
	snprintf(pa, sizeof(pa), "%s/runs/trace/spans.tsv", a);
	snprintf(pb, sizeof(pb), "%s/runs/trace/spans.tsv", b);
	x = slurp(pa, &la);
	y = slurp(pb, &lb);
	assert_non_null(x);
	assert_non_null(y);
	assert_int_equal(la, lb);
	assert_memory_equal(x, y, la);
	free(x);
	free(y);
	an_report_free(&back);
	an_report_free(&rep);
	rmtree(a);
	rmtree(b);
	free(a);
	free(b);
}

/* Re-rendering a folder in place (the `iotrace report DIR` case) keeps it identical. */
static void test_rerender_in_place(void **state)
{
	struct an_report rep, back;
	char *a = tmpdir(), p[512], err[512], *x, *y;
	size_t la, lb;

	(void)state;
	build(&rep);
	for (size_t i = 0; i < rep.nruns; i++)
		an_run_derive(&rep.runs[i]);
	assert_int_equal(rp_write_outdir(a, &rep, (uid_t)-1, (gid_t)-1), 0);
	snprintf(p, sizeof(p), "%s/summary.json", a);
	x = slurp(p, &la);
	assert_non_null(x);
	if (rp_load_outdir(a, &back, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(rp_write_outdir(a, &back, (uid_t)-1, (gid_t)-1), 0);
	y = slurp(p, &lb);
	assert_non_null(y);
	assert_int_equal(la, lb);
	assert_memory_equal(x, y, la);
	free(x);
	free(y);
	an_report_free(&back);
	an_report_free(&rep);
	rmtree(a);
	free(a);
}

static void test_write_refuses_symlinks(void **state)
{
	struct an_report rep;
	char *d = tmpdir(), *victim = tmpdir(), p[512], q[512], *x;
	size_t n;
	struct stat st;

	(void)state;
	build(&rep);
	/* a symlink in place of a file is replaced, the file it points to untouched */
	snprintf(q, sizeof(q), "%s/precious", victim);
	write_text(q, "keep me\n");
	snprintf(p, sizeof(p), "%s/summary.json", d);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(rp_write_outdir(d, &rep, (uid_t)-1, (gid_t)-1), 0);
	x = slurp(q, &n);
	assert_non_null(x);
	assert_string_equal(x, "keep me\n");
	free(x);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	rmtree(d);
	/* a symlinked folder is refused */
	assert_int_equal(mkdir(d, 0755), 0);
	snprintf(p, sizeof(p), "%s/runs", d);
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(rp_write_outdir(d, &rep, (uid_t)-1, (gid_t)-1), -ELOOP);
	snprintf(q, sizeof(q), "%s/sync-warm", victim);
	assert_int_equal(stat(q, &st), -1);
	/* and so is an OUTDIR that is itself a link */
	snprintf(p, sizeof(p), "%s/link", d);
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(rp_write_outdir(p, &rep, (uid_t)-1, (gid_t)-1), -ELOOP);
	an_report_free(&rep);
	rmtree(d);
	rmtree(victim);
	free(d);
	free(victim);
}

static void test_write_error_reported(void **state)
{
	struct an_report rep;

	(void)state;
	build(&rep);
	/* a full disk is never a silent success */
	if (access("/dev/full", W_OK) == 0) {
		FILE *f = fopen("/dev/full", "w");

		assert_non_null(f);
		setvbuf(f, NULL, _IONBF, 0);
		assert_true(rp_summary_json(f, &rep) < 0);
		assert_true(rp_text(f, &rep, NULL) < 0);
		assert_true(rp_perfetto(f, &rep) < 0);
		fclose(f);
	}
	assert_true(rp_write_outdir("/nonexistent-dir/x", &rep, (uid_t)-1, (gid_t)-1) < 0);
	an_report_free(&rep);
}

/* ---- loader errors ---- */

/* Write a valid folder, let edit() spoil it, load: the error and its message. */
static int load_spoilt(const char *sed, char *err, size_t errlen)
{
	struct an_report rep, back;
	char *d = tmpdir(), cmd[1024];
	int ret;

	build(&rep);
	for (size_t i = 0; i < rep.nruns; i++)
		an_run_derive(&rep.runs[i]);
	assert_int_equal(rp_write_outdir(d, &rep, (uid_t)-1, (gid_t)-1), 0);
	an_report_free(&rep);
	if (sed) {
		snprintf(cmd, sizeof(cmd), "cd '%s' && %s", d, sed);
		assert_int_equal(system(cmd), 0);
	}
	ret = rp_load_outdir(d, &back, err, errlen);
	if (!ret)
		an_report_free(&back);
	else
		assert_int_equal(back.nruns, 0); /* nothing left half-loaded */
	rmtree(d);
	free(d);
	return ret;
}

static void assert_has(const char *s, const char *sub)
{
	if (!strstr(s, sub))
		fail_msg("expected '%s' in the message: %s", sub, s);
}

/* The run folder spoilt by the shell command cmd fails to load with want_rc, saying want. */
static void assert_spoilt(const char *cmd, int want_rc, const char *want)
{
	char err[512];

	assert_int_equal(load_spoilt(cmd, err, sizeof(err)), want_rc);
	assert_has(err, want);
}

static void test_load_missing(void **state)
{
	struct an_report back;
	char err[512], *d = tmpdir();

	(void)state;
	assert_int_equal(rp_load_outdir("/nonexistent/iotrace-run", &back, err, sizeof(err)),
			 -ENOENT);
	assert_has(err, "/nonexistent/iotrace-run: no such folder");
	assert_int_equal(rp_load_outdir(d, &back, err, sizeof(err)), -ENOENT);
	assert_has(err, "not an iotrace run folder (no summary.json)");
	assert_has(err, d);
	assert_int_equal(rp_load_outdir("/etc/hostname", &back, err, sizeof(err)), -ENOTDIR);
	assert_has(err, "not a folder");
	rmtree(d);
	free(d);
}

static void test_load_truncated(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(load_spoilt("head -c 300 summary.json > s && mv s summary.json", err,
				     sizeof(err)),
			 -EINVAL);
	assert_has(err, "summary.json:");
	assert_has(err, "invalid JSON");
	/* file:line:column */
	{
		const char *p = strstr(err, "summary.json:");
		int line = 0, col = 0;

		assert_int_equal(sscanf(p, "summary.json:%d:%d:", &line, &col), 2);
		assert_true(line > 1);
	}
	assert_spoilt(": > summary.json", -EINVAL, "invalid JSON");
}

static void test_load_wrong_type(void **state)
{
	(void)state;
	assert_spoilt("sed -i '0,/\"wall_ns\": [0-9]*/s//\"wall_ns\": \"fast\"/' "
		      "summary.json",
		      -EINVAL,
		      "summary.json: runs[0].wall_ns: expected a whole number, found a string");
	assert_spoilt("sed -i 's/\"hit_ratio\": 1.000000/\"hit_ratio\": 7/' "
		      "summary.json",
		      -EINVAL, "runs[0].hit_ratio: 7 is out of range (0 to 1)");
	assert_spoilt("sed -i 's/\"io_wait\": 20000000/\"io_wait\": -1/' "
		      "summary.json",
		      -EINVAL, "states_ns.io_wait: expected a whole number >= 0");
	assert_spoilt("sed -i '0,/\"interrupted\": false/s//\"interrupted\": 0/' "
		      "summary.json",
		      -EINVAL, "runs[0].interrupted: expected true or false, found a whole number");
	assert_spoilt("sed -i 's/\"runs\": \\[/\"runs\": {\"x\": [/; "
		      "s/^  \\]$/  ]}/' summary.json",
		      -EINVAL, "runs: expected an array, found an object");
}

static void test_load_missing_field(void **state)
{
	(void)state;
	assert_spoilt("sed -i 's/\"blocked_ns\"/\"blocked_nz\"/' summary.json", -EINVAL,
		      "runs[0].blocked_ns: missing required field");
	assert_spoilt("sed -i 's/\"label\": \"threads\\/warm\"/\"label\": \"sync\\/warm\"/' "
		      "summary.json",
		      -EINVAL, "runs[1]: label 'sync/warm' is used twice");
}

static void test_load_schema(void **state)
{
	(void)state;
	assert_spoilt("sed -i 's/iotrace.summary\\/1/iotrace.summary\\/2/' "
		      "summary.json",
		      -EPROTONOSUPPORT,
		      "summary.json: iotrace.summary/2: written by a newer iotrace; upgrade");
	assert_spoilt("sed -i 's/iotrace.summary\\/1/other.thing\\/1/' "
		      "summary.json",
		      -EINVAL, "schema: unknown schema 'other.thing/1'");
	assert_spoilt("echo '[1, 2]' > summary.json", -EINVAL,
		      "expected a JSON object at the top, found an array");
	assert_spoilt("echo '{\"runs\": []}' > summary.json", -EINVAL,
		      "not an iotrace summary (no \"schema\" field");
}

static void test_load_bad_side_files(void **state)
{
	char err[512];

	(void)state;
	assert_spoilt("sed -i '4s/compute/computing/' runs/sync-warm/spans.tsv", -EINVAL,
		      "runs/sync-warm/spans.tsv:4: expected 'TID START END STATE [KIND]'");
	/* a kind that is not one of the span's state */
	assert_spoilt("sed -i '4s/$/\tjoin/' runs/sync-warm/spans.tsv", -EINVAL,
		      "runs/sync-warm/spans.tsv:4: expected 'TID START END STATE [KIND]'");
	assert_spoilt("sed -i 's/\tmutex$/\tpipe/' runs/threads-warm/spans.tsv", -EINVAL,
		      "runs/threads-warm/spans.tsv:");
	assert_spoilt("echo 'frames-without-count' >> runs/sync-warm/oncpu.folded", -EINVAL,
		      "runs/sync-warm/oncpu.folded:3: expected 'frame;frame;... COUNT'");
	/* side files are optional: a summary alone still loads (no timeline, no stacks) */
	assert_int_equal(load_spoilt("rm -rf runs", err, sizeof(err)), 0);
}

/* Prefixes and single-byte corruptions of every saved file: an error or a load, no crash. */
static void test_load_never_crashes(void **state)
{
	struct an_report rep, back;
	char *d = tmpdir(), path[512], err[512], *orig;
	size_t len;
	unsigned seed = 12345;

	(void)state;
	build(&rep);
	for (size_t i = 0; i < rep.nruns; i++)
		an_run_derive(&rep.runs[i]);
	assert_int_equal(rp_write_outdir(d, &rep, (uid_t)-1, (gid_t)-1), 0);
	an_report_free(&rep);
	snprintf(path, sizeof(path), "%s/summary.json", d);
	orig = slurp(path, &len);
	assert_non_null(orig);
	for (size_t cut = 0; cut < len; cut += 13) {
		if (strspn(orig + cut, " \n") == len - cut)
			continue;	/* only the final newline cut: still the whole document */
		spit(path, orig, cut);
		assert_int_not_equal(rp_load_outdir(d, &back, err, sizeof(err)), 0);
		assert_true(strlen(err) > 0);
	}
	for (int i = 0; i < 400; i++) {
		char *m = malloc(len);
		static const char junk[] = "{}[]\",:0-9.eE\\nul\xff\x01 ";

		assert_non_null(m);
		memcpy(m, orig, len);
		seed = seed * 1103515245 + 12345;
		m[(seed >> 8) % len] = junk[(seed >> 20) % (sizeof(junk) - 1)];
		spit(path, m, len);
		if (rp_load_outdir(d, &back, err, sizeof(err)) == 0)
			an_report_free(&back);
		free(m);
	}
	spit(path, orig, len);
	free(orig);
	/* and the side files: spans.tsv and a folded file */
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/runs/threads-warm/%s", d,
			 k ? "oncpu.folded" : "spans.tsv");
		orig = slurp(path, &len);
		assert_non_null(orig);
		for (int i = 0; i < 300; i++) {
			char *m = malloc(len);
			static const char junk[] = "\t\n 0123456789-#\\x;";

			assert_non_null(m);
			memcpy(m, orig, len);
			seed = seed * 1103515245 + 12345;
			m[(seed >> 8) % len] = junk[(seed >> 20) % (sizeof(junk) - 1)];
			/* a prefix too, cut anywhere */
			spit(path, m, i % 3 ? len : (seed >> 4) % len);
			if (rp_load_outdir(d, &back, err, sizeof(err)) == 0)
				an_report_free(&back);
			free(m);
		}
		spit(path, orig, len);
		free(orig);
	}
	rmtree(d);
	free(d);
}

/* ---- text ---- */

static void test_text_unavailable_and_color(void **state)
{
	struct an_report rep;
	char *plain, *color, *line;

	(void)state;
	build(&rep);
	plain = render(text_plain, &rep, NULL);
	/* uring/cold has no sync run: speedup and ideal unavailable, not 0 */
	line = strstr(plain, "\nuring/cold ");
	assert_non_null(line);
	assert_has(line, "unavailable");
	assert_has(plain, "warning: 3 events lost");
	assert_has(plain, "on-CPU stacks: unavailable (stacks disabled (--no-stacks))");
	/* the comm's control byte and invalid byte never reach the terminal */
	assert_null(strchr(plain, '\x01'));
	assert_null(strchr(plain, '\xff'));
	assert_has(plain, "w<&\"\\??é");
	color = render(text_color, &rep, NULL);
	assert_non_null(strstr(color, "\033[1m"));
	free(plain);
	free(color);
	an_report_free(&rep);
}

/* A run the user stopped: "interrupted" in summary.json, loaded back, told in the text. */
static void test_interrupted(void **state)
{
	struct an_report rep, back;
	char *d = tmpdir(), path[512], err[512], *out, *plain;
	json_error_t je;
	json_t *root, *runs;
	FILE *f;
	int ret;

	(void)state;
	build(&rep);
	rep.runs[2].exit_status = 137;
	rep.runs[2].interrupted = true;
	out = render(rp_summary_json, &rep, NULL);
	root = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	runs = json_object_get(root, "runs");
	assert_true(json_is_false(json_object_get(json_array_get(runs, 0), "interrupted")));
	assert_true(json_is_true(json_object_get(json_array_get(runs, 2), "interrupted")));
	json_decref(root);

	snprintf(path, sizeof(path), "%s/summary.json", d);
	spit(path, out, strlen(out));
	ret = rp_summary_load(path, &back, err, sizeof(err));
	if (ret)
		fail_msg("%s", err);
	assert_false(back.runs[0].interrupted);
	assert_true(back.runs[2].interrupted);
	assert_int_equal(back.runs[2].exit_status, 137);
	an_report_free(&back);

	/* written before the field existed: nobody stopped those runs */
	f = fopen(path, "w");
	assert_non_null(f);
	for (char *p = out, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!strstr(p, "\"interrupted\"") || strstr(p, "\"interrupted\"") > nl)
			fwrite(p, 1, (size_t)(nl - p + 1), f);
	}
	assert_int_equal(fclose(f), 0);
	ret = rp_summary_load(path, &back, err, sizeof(err));
	if (ret)
		fail_msg("%s", err);
	assert_false(back.runs[2].interrupted);
	an_report_free(&back);

	plain = render(text_plain, &rep, NULL);
	assert_has(plain, "; interrupted by the user (Ctrl-C)");
	assert_null(strstr(plain, "killed by signal"));
	free(plain);
	free(out);
	an_report_free(&rep);
	rmtree(d);
	free(d);
}

static void test_slug(void **state)
{
	char s[32];

	(void)state;
	rp_slug("threads/warm", s, sizeof(s));
	assert_string_equal(s, "threads-warm");
	rp_slug("..", s, sizeof(s));
	assert_string_equal(s, "_.");
	rp_slug("", s, sizeof(s));
	assert_string_equal(s, "run");
	rp_slug("a b/c\n", s, sizeof(s));
	assert_string_equal(s, "a_b-c_");
	rp_slug("run-1:sync/warm", s, sizeof(s));
	assert_string_equal(s, "run-1:sync-warm");
}

/* ---- iotrace report ---- */

static int run_report(char **argv, int argc, const char *out)
{
	int saved = dup(STDOUT_FILENO), fd, rc;

	fflush(stdout);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	rc = cmd_report(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return rc;
}

static void test_cmd_report(void **state)
{
	struct an_report rep;
	char *a = tmpdir(), *b = tmpdir(), o[256], x[512], y[512], out[512], *s1, *s2, *txt;
	size_t l1, l2;

	(void)state;
	build(&rep);
	for (size_t i = 0; i < rep.nruns; i++)
		an_run_derive(&rep.runs[i]);
	assert_int_equal(rp_write_outdir(a, &rep, (uid_t)-1, (gid_t)-1), 0);
	snprintf(out, sizeof(out), "%s/stdout", b);
	snprintf(o, sizeof(o), "%s/copy", b);
	{
		char *argv[] = {"report", a, "-o", o, "--no-color", NULL};

		assert_int_equal(run_report(argv, 5, out), IT_EXIT_OK);
	}
	snprintf(x, sizeof(x), "%s/summary.json", a);
	snprintf(y, sizeof(y), "%s/summary.json", o);
	s1 = slurp(x, &l1);
	s2 = slurp(y, &l2);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	free(s2);
	{
		char *argv[] = {"report", a, "--json", "-o", o, NULL};

		assert_int_equal(run_report(argv, 5, out), IT_EXIT_OK);
		s2 = slurp(out, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(s1, s2, l1);
		free(s2);
	}
	{
		char *argv[] = {"report", a, o, "--no-color", NULL};

		assert_int_equal(run_report(argv, 4, out), IT_EXIT_OK);
		txt = slurp(out, &l2);
		assert_non_null(strstr(txt, "copy:threads/warm"));
		assert_non_null(strstr(txt, "copy:sync/warm"));
		free(txt);
	}
	{
		char *argv[] = {"report", "/nonexistent/run-9", NULL};

		assert_int_equal(run_report(argv, 2, out), IT_EXIT_INPUT);
	}
	{
		char *argv[] = {"report", NULL};

		assert_int_equal(run_report(argv, 1, out), IT_EXIT_USAGE);
	}
	free(s1);
	an_report_free(&rep);
	rmtree(a);
	rmtree(b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_golden),
		cmocka_unit_test(test_text_golden),
		cmocka_unit_test(test_text_one_screen),
		cmocka_unit_test(test_run12_summary_round_trip),
		cmocka_unit_test(test_wait_kinds_shown),
		cmocka_unit_test(test_hit_ratio_named),
		cmocka_unit_test(test_hit_ratio_direct_named),
		cmocka_unit_test(test_perfetto_golden),
		cmocka_unit_test(test_perfetto_well_formed),
		cmocka_unit_test(test_summary_nulls_and_types),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_roundtrip_weird_names),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_reused_tid),
		cmocka_unit_test(test_rerender_in_place),
		cmocka_unit_test(test_write_refuses_symlinks),
		cmocka_unit_test(test_write_error_reported),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_truncated),
		cmocka_unit_test(test_load_wrong_type),
		cmocka_unit_test(test_load_missing_field),
		cmocka_unit_test(test_load_schema),
		cmocka_unit_test(test_load_bad_side_files),
		cmocka_unit_test(test_load_never_crashes),
		cmocka_unit_test(test_text_unavailable_and_color),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_slug),
		cmocka_unit_test(test_cmd_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
