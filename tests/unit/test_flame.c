/* test_flame.c - folded/flame/timeline/HTML renderers on a fixed synthetic model (goldens), and the symbolizer. */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "golden.h"
#include "model/analysis.h"
#include "render.h"
#include "report.h"
#include "trace/symbols.h"
#include "model/timeline.h"

/*
 * Goldens live in tests/golden/flame/; IOTRACE_RECORD_GOLDENS=1 rewrites them instead of
 * comparing (scripts/record-flame-goldens.sh). On a mismatch the actual output is left
 * in /tmp/iotrace-actual-<name> for a diff (golden.h). The fixture is deterministic: same input, same
 * bytes.
 */

#define MS 1000000ull
#define T0 (5000 * MS)	/* the window starts at an arbitrary monotonic time */

static char golden_dir[PATH_MAX];

/* ---- helpers ---- */

/*
 * What fn renders of arg, in memory (its length in *len); the renderer must succeed. Not
 * inlined: gcc 12 then mistakes the memstream buffer for a dangling local.
 */
__attribute__((noinline)) static char *render_mem(int (*fn)(FILE *, const void *), const void *arg,
						  size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int ret;

	assert_non_null(f);
	ret = fn(f, arg);
	fclose(f);
	assert_int_equal(ret, 0);
	return buf;
}

/* Compare with (or record) tests/golden/flame/<name>. */
static void golden(const char *name, const char *buf, size_t len)
{
	golden_check(golden_dir, name, buf, len);
}

/* xmllint --noout on buf: the XML is well-formed (libxml2-utils is a build dependency). */
static void assert_well_formed(const char *name, const char *buf, size_t len)
{
	char path[128], cmd[256];
	int rc;

	if (system("command -v xmllint >/dev/null 2>&1") != 0) {
		print_message("xmllint missing (apt-get install libxml2-utils): not checked\n");
		return;
	}
	snprintf(path, sizeof(path), "/tmp/test_flame-wf-%d-%s", (int)getpid(), name);
	spit(path, buf, len);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --nonet '%s'", path);
	rc = system(cmd);
	if (rc != 0)
		print_error("%s is not well-formed XML (kept at %s)\n", name, path);
	else
		unlink(path);
	assert_int_equal(rc, 0);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- the fixture ---- */

/* Deterministic pseudo-random numbers (the fixture must not change between runs). */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static const char *const kread =
	"read;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];ksys_read_[k];vfs_read_[k];"
	"filemap_read_[k]";

static void add(struct an_stackset *s, uint64_t v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct an_stackset *s, uint64_t v, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_int_equal(an_stack_add(s, buf, v), 0);
}

/*
 * Stacks as the session builds them: strategy;role;state;user frames;kernel frames (a wait's
 * state frame with its kind, "io_wait: file"). With
 * names a renderer must escape, a stack deeper than any screen, and 300 frames far too
 * narrow to draw one by one.
 */
static void fixture_stacks(struct an_run *run, const char *strat, unsigned workers, int variant)
{
	const char *base = "_start;__libc_start_main;main;md5dir_run";
	char role[32];

	for (unsigned w = 0; w <= workers; w++) {
		const char *thr = w ? "start_thread;worker_main" : base;
		uint64_t k = (uint64_t)(variant + 1);

		if (w)
			snprintf(role, sizeof(role), "worker %u", w);
		else
			snprintf(role, sizeof(role), "main");
		if (w == 0 && workers) {
			/* the main thread only waits (joins) when there are workers: its state
			 * frame says so (issue 13), apart from the workers' mutex */
			add(&run->offcpu, 196 * MS, "%s;%s;lock_wait: join;%s;pthread_join;"
						    "__pthread_clockjoin_ex;do_futex_[k];"
						    "futex_wait_[k];schedule_[k]",
			    strat, role, thr);
			continue;
		}
		add(&run->oncpu, 400 / k, "%s;%s;compute;%s;hash_file;EVP_DigestUpdate;MD5_Update", strat,
		    role, thr);
		add(&run->oncpu, 900, "%s;%s;compute;[truncated];libcrypto.so.3+0x2431a0", strat, role);
		add(&run->oncpu, 120 * k, "%s;%s;io_cpu;%s;hash_file;%s;copy_page_to_iter_[k]", strat, role,
		    thr, kread);
		add(&run->offcpu, 40 * MS * k, "%s;%s;io_wait: file;%s;hash_file;%s;folio_wait_bit_common_[k];"
					       "io_schedule_[k];schedule_[k];__schedule_[k]",
		    strat, role, thr, kread);
		if (variant)
			add(&run->offcpu, 25 * MS, "%s;%s;lock_wait: mutex;%s;pthread_mutex_lock;"
						   "__lll_lock_wait;do_futex_[k];futex_wait_[k];"
						   "schedule_[k]",
			    strat, role, thr);
		add(&run->offcpu, 3 * MS, "%s;%s;runnable;%s;hash_file;irqentry_exit_to_user_mode_[k];"
					  "schedule_[k]",
		    strat, role, thr);
	}
	/* names with markup, quotes, valid and invalid UTF-8 */
	add(&run->oncpu, 60, "%s;main;compute;%s;tmpl<int, std::vector<T>&>::run", strat, base);
	add(&run->oncpu, 50, "%s;main;compute;%s;say \"hi\" & 'bye'", strat, base);
	add(&run->oncpu, 40, "%s;main;compute;%s;caf\xc3\xa9_\xe6\x97\xa5\xe6\x9c\xac", strat, base);
	add(&run->oncpu, 30, "%s;main;compute;%s;bad\xff\xfe_bytes", strat, base);
	add(&run->oncpu, 20, "%s;main;compute;[anon];[anon]", strat);
	/* 300 frames of 1 sample each: narrower than 0.1%, merged into one box */
	for (int i = 0; i < 300; i++)
		add(&run->oncpu, 1, "%s;main;compute;%s;tiny_fn_%03d", strat, base, i);
	/* a very deep stack (one run's: it is the largest part of the page otherwise) */
	if (variant == 1) {
		char deep[8192];
		int n = snprintf(deep, sizeof(deep), "%s;main;compute;%s", strat, base);

		for (int i = 0; i < 140 && n < (int)sizeof(deep) - 16; i++)
			n += snprintf(deep + n, sizeof(deep) - (size_t)n, ";recurse_%03d", i);
		add(&run->oncpu, 150, "%s", deep);
	}
}

static const char *const roles[] = {"main", "worker 1", "worker 2", "worker 3"};

/* A timeline with a main thread and `workers` workers over 200 ms, states from an LCG. */
static struct tl_timeline *fixture_timeline(unsigned workers, bool uring, uint32_t seed)
{
	struct tl_timeline *tl = tl_new();
	static const enum tl_state cycle[] = {TL_COMPUTE, TL_IO_CPU, TL_COMPUTE, TL_IO_WAIT,
					      TL_RUNNABLE, TL_COMPUTE, TL_LOCK_WAIT};
	uint64_t end = T0 + 200 * MS;

	assert_non_null(tl);
	for (unsigned t = 0; t <= workers; t++) {
		uint32_t tid = 4200 + t;
		uint64_t ts = T0 + (t ? 2 * MS + t * 300000 : 0);
		char comm[32];

		snprintf(comm, sizeof(comm), t ? "iot-worker-%u" : "iot-main", t);
		assert_non_null(tl_thread_add(tl, 4200, tid, ts, TL_COMPUTE, comm));
		if (t == 0 && workers) {
			/* main starts the workers, then waits for them on a futex */
			assert_int_equal(tl_transition(tl, 4200, tid, T0 + 3 * MS, TL_LOCK_WAIT), 0);
			assert_int_equal(tl_transition(tl, 4200, tid, end - MS, TL_COMPUTE), 0);
			continue;
		}
		for (unsigned i = 0; ts < end - 5 * MS; i++) {
			enum tl_state st = cycle[lcg(&seed) % (sizeof(cycle) / sizeof(cycle[0]))];

			assert_int_equal(tl_transition(tl, 4200, tid, ts, st), 0);
			ts += 20000 + lcg(&seed) % (st == TL_IO_WAIT ? 4 * MS : MS);
		}
		assert_int_equal(tl_thread_exit(tl, tid, t ? ts : end, comm), 0);
	}
	if (uring)
		for (uint64_t id = 1, ts = T0 + MS; ts < end - 10 * MS; id++, ts += 3 * MS) {
			assert_int_equal(tl_io_begin(tl, id, ts), 0);
			assert_int_equal(tl_io_end(tl, id, ts + 2 * MS), 0);
		}
	assert_int_equal(tl_finish(tl, T0, end), 0);
	for (size_t i = 0; i < tl->nthreads; i++)
		snprintf(tl->threads[i].role, sizeof(tl->threads[i].role), "%s",
			 roles[tl->threads[i].tid - 4200]);
	return tl;
}

/* Figures as the analysis would fill them; fixed numbers so the goldens do not depend on it. */
static void fixture_run(struct an_run *run, const char *strat, unsigned workers, int variant)
{
	memset(run, 0, sizeof(*run));
	snprintf(run->label, sizeof(run->label), "%s/warm", strat);
	snprintf(run->strategy, sizeof(run->strategy), "%s", strat);
	snprintf(run->cache, sizeof(run->cache), "warm");
	run->tl = fixture_timeline(workers, variant == 2, 7u + (uint32_t)variant);
	run->wall_ns = 200 * MS / (uint64_t)(variant + 1);
	for (size_t i = 0; i < run->tl->nthreads; i++)
		for (int s = 0; s < TL_NSTATES; s++)
			run->states_ns[s] += run->tl->threads[i].state_ns[s];
	if (workers) {
		/* what the waits were for: main's futex wait is its join, the workers' a mutex;
		 * 4 ms of the workers' io_wait on a pipe, the rest on files */
		uint64_t join = run->tl->threads[0].state_ns[TL_LOCK_WAIT];

		run->by_kind_ok = true;
		run->lock_wait_by_kind_ns[wt_lock_slot(TL_LK_JOIN)] = join;
		run->lock_wait_by_kind_ns[wt_lock_slot(TL_LK_MUTEX)] =
			run->states_ns[TL_LOCK_WAIT] - join;
		assert_true(run->states_ns[TL_IO_WAIT] >= 4 * MS);
		run->io_wait_by_kind_ns[wt_io_slot(TL_IOK_PIPE)] = 4 * MS;
		run->io_wait_by_kind_ns[wt_io_slot(TL_IOK_FILE)] = run->states_ns[TL_IO_WAIT] - 4 * MS;
	}
	run->ncpu = 2;
	run->parallelism = 0.9 + variant * 0.4;
	run->blocked_ns = 80 * MS;
	run->cpu_overlap = 0.25 + 0.3 * variant;
	run->cpu_overlap_ok = true;
	run->io_ns = 120 * MS;
	run->hidden_io = 0.3 + 0.2 * variant;
	run->hidden_io_ok = true;
	run->exposed_io_ns = 50 * MS;
	/* 64 MiB read from files, all found cached; threads/warm read only a pipe */
	run->c.bytes_read = 64 * 1024 * 1024;
	run->c.bytes_kind_ok = true;
	run->c.bytes_read_by_kind[wt_io_slot(variant == 1 ? TL_IOK_PIPE : TL_IOK_FILE)] =
		run->c.bytes_read;
	run->c.pcache_ok = run->c.pcache_cause_ok = true;
	run->hit_ratio = 1;
	run->hit_ratio_ok = variant != 1;
	run->hit_ratio_bytes = run->hit_ratio_ok ? run->c.bytes_read : 0;
	if (variant == 1)
		snprintf(run->hit_ratio_unavailable, sizeof(run->hit_ratio_unavailable),
			 "no file bytes were read (only pipes, sockets or devices)");
	run->speedup_vs_sync = variant + 1.0;
	run->speedup_ok = true;
	run->ideal_fraction = 0.5 + variant * 0.2;
	run->ideal_ok = variant > 0;
	run->c.lost_events = (uint64_t)variant * 3;
	run->sample_hz = 99;
	snprintf(run->headline, sizeof(run->headline),
		 "%s: %.2f\xc3\x97 over sync \xe2\x80\x94 reads came from the page cache <100%%> & more",
		 run->label, run->speedup_vs_sync);
	run->nverdict = 2;
	snprintf(run->verdict[0].rule, sizeof(run->verdict[0].rule), "page_cache");
	snprintf(run->verdict[0].text, sizeof(run->verdict[0].text),
		 "reads came from the page cache (hit 100%%, 97%% of read time on CPU copying)");
	snprintf(run->verdict[1].rule, sizeof(run->verdict[1].rule), "lock");
	snprintf(run->verdict[1].text, sizeof(run->verdict[1].text),
		 "threads serialized on a lock (\"GIL\"): parallelism 1.02 with %u threads", workers);
	fixture_stacks(run, strat, workers, variant);
	assert_int_equal(an_run_wall(run), 0);
}

static void fixture_report(struct an_report *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->version, sizeof(r->version), "test");
	snprintf(r->kernel, sizeof(r->kernel), "6.18.0-test");
	snprintf(r->workload, sizeof(r->workload), "md5dir");
	snprintf(r->answer, sizeof(r->answer),
		 "Threads cannot overlap these reads with hashing: they are page-cache copies done "
		 "on the CPU. Evict the cache (--cache cold) or throttle the disk to see overlap.");
	r->ncpu = 2;
	r->nruns = 3;
	r->runs = calloc(r->nruns, sizeof(*r->runs));
	assert_non_null(r->runs);
	fixture_run(&r->runs[0], "sync", 0, 0);
	fixture_run(&r->runs[1], "threads", 3, 1);
	fixture_run(&r->runs[2], "uring", 0, 2);
}

static void report_free(struct an_report *r)
{
	for (size_t i = 0; i < r->nruns; i++)
		an_run_free(&r->runs[i]);
	free(r->runs);
}

/* ---- renderer adapters for render_mem ---- */

static int do_folded(FILE *f, const void *a)
{
	return rp_folded(f, a);
}

static int do_flame(FILE *f, const void *a)
{
	return rp_flame_svg(f, a, "threads/warm: on-CPU <test> & \"quotes\"", "samples");
}

static const struct an_stackset *diff_base;

static int do_diff(FILE *f, const void *a)
{
	return rp_flame_diff_svg(f, diff_base, a, "threads/warm against sync/warm: on-CPU",
				 "samples");
}

static int do_timeline(FILE *f, const void *a)
{
	return rp_timeline_svg(f, a);
}

static int do_html(FILE *f, const void *a)
{
	return rp_html(f, a);
}

/* ---- tests: renderers ---- */

static void test_folded_golden(void **state)
{
	struct an_report *r = *state;
	size_t len;
	char *out = render_mem(do_folded, &r->runs[1].oncpu, &len);

	golden("threads-oncpu.folded", out, len);
	free(out);
}

/* Sorted frame by frame: a stack comes before its extensions, "a;b" before "a b". */
static void test_folded_order(void **state)
{
	struct an_stackset s = {0};
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(an_stack_add(&s, "a b;c", 1), 0);
	assert_int_equal(an_stack_add(&s, "a;b;c", 2), 0);
	assert_int_equal(an_stack_add(&s, "a;b", 3), 0);
	assert_int_equal(an_stack_add(&s, "a", 4), 0);
	out = render_mem(do_folded, &s, &len);
	assert_string_equal(out, "a 4\na;b 3\na;b;c 2\na b;c 1\n");
	free(out);
	an_stackset_free(&s);
}

static void test_flame_golden(void **state)
{
	struct an_report *r = *state;
	size_t len;
	char *out = render_mem(do_flame, &r->runs[1].oncpu, &len);

	assert_well_formed("flame.svg", out, len);
	golden("threads-oncpu.svg", out, len);
	free(out);
}

static void test_flame_escaping(void **state)
{
	struct an_report *r = *state;
	size_t len;
	char *out = render_mem(do_flame, &r->runs[1].oncpu, &len);

	/* markup and quotes as entities, never raw */
	assert_non_null(strstr(out, "tmpl&lt;int, std::vector&lt;T&gt;&amp;&gt;::run"));
	assert_non_null(strstr(out, "say &quot;hi&quot; &amp; &#39;bye&#39;"));
	assert_null(strstr(out, "vector<T>"));
	assert_null(strstr(out, "\"hi\""));
	/* UTF-8 as character references, invalid bytes visibly */
	assert_non_null(strstr(out, "caf&#xE9;_&#x65E5;&#x672C;"));
	assert_non_null(strstr(out, "bad\\xFF\\xFE_bytes"));
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)out[i] < 0x80);
	/* the title too */
	assert_non_null(strstr(out, "on-CPU &lt;test&gt; &amp; &quot;quotes&quot;"));
	free(out);
}

/* Widths are proportional to value; the 300 narrow frames are one box; time is kept. */
static void test_flame_geometry(void **state)
{
	struct an_stackset s = {0};
	char name[64];
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(an_stack_add(&s, "s;main;compute;big", 500000), 0);
	assert_int_equal(an_stack_add(&s, "s;main;compute;half", 498500), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "s;main;compute;tiny%d", i);
		assert_int_equal(an_stack_add(&s, name, 5), 0);
	}
	out = render_mem(do_flame, &s, &len);
	/* root spans the full width (1180 units), "big" just over half of it */
	assert_non_null(strstr(out, "<title>all (1,000,000 samples, 100.00%)</title><rect x=\"10.00\""));
	assert_non_null(strstr(out, "width=\"1180.00\""));
	assert_non_null(strstr(out, "<title>big (500,000 samples, 50.00%)</title>"));
	assert_non_null(strstr(out, "width=\"590.00\""));
	assert_null(strstr(out, "tiny1"));
	/* 300 x 0.0005%: one box of 0.15%, after the wide siblings */
	assert_non_null(strstr(out, "<title>[300 narrow frames] (1,500 samples, 0.15%)</title>"
				    "<rect x=\"1188.23\""));
	free(out);
	/* narrow frames adding up to less than the limit are not drawn; their time stays */
	an_stackset_free(&s);
	memset(&s, 0, sizeof(s));
	assert_int_equal(an_stack_add(&s, "s;main;compute;big", 999400), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "s;main;compute;tiny%d", i);
		assert_int_equal(an_stack_add(&s, name, 2), 0);
	}
	out = render_mem(do_flame, &s, &len);
	assert_null(strstr(out, "narrow frames"));
	assert_non_null(strstr(out, "<title>compute (1,000,000 samples, 100.00%)</title>"));
	free(out);
	an_stackset_free(&s);
}

static void test_flame_narrow_merged(void **state)
{
	struct an_report *r = *state;
	size_t len;
	char *out = render_mem(do_flame, &r->runs[1].oncpu, &len);

	assert_null(strstr(out, "tiny_fn_"));
	assert_non_null(strstr(out, "[300 narrow frames] (300 samples"));
	/* the deep stack is drawn to its leaf */
	assert_non_null(strstr(out, "<title>recurse_139 "));
	/* stable colors: the same state gets the shared palette color */
	assert_non_null(strstr(out, rp_state_color(TL_IO_CPU)));
	free(out);
}

/* A stack of weight 0 is not drawn, not saved (rp_folded), so not counted either: the graph
 * re-rendered from the folded file is the live one, byte for byte. */
static void test_flame_zero_stack(void **state)
{
	struct an_stackset live = {0}, saved = {0};
	char *a, *b;
	size_t la, lb;

	(void)state;
	assert_int_equal(an_stack_add(&live, "t;main;read", 5), 0);
	assert_int_equal(an_stack_add(&live, "t;main;futex", 0), 0);
	assert_int_equal(an_stack_add(&saved, "t;main;read", 5), 0);
	a = render_mem(do_flame, &live, &la);
	b = render_mem(do_flame, &saved, &lb);
	assert_non_null(strstr(a, ">1 stack, 5 samples in all"));
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	an_stackset_free(&live);
	an_stackset_free(&saved);
}

static void test_flame_empty(void **state)
{
	struct an_stackset s = {0};
	size_t len;
	char *out;

	(void)state;
	snprintf(s.unavailable, sizeof(s.unavailable), "stack capture disabled (--no-stacks)");
	out = render_mem(do_flame, &s, &len);
	assert_well_formed("empty.svg", out, len);
	assert_non_null(strstr(out, "No samples"));
	assert_non_null(strstr(out, "stack capture disabled (--no-stacks)"));
	golden("empty.svg", out, len);
	free(out);
	s.unavailable[0] = '\0';
	s.errors = 12;
	out = render_mem(do_flame, &s, &len);
	assert_non_null(strstr(out, "every stack was lost (12 failed captures"));
	free(out);
}

static void test_flame_diff(void **state)
{
	struct an_report *r = *state;
	size_t len;
	char *out;

	diff_base = &r->runs[0].oncpu;
	out = render_mem(do_diff, &r->runs[1].oncpu, &len);
	assert_well_formed("diff.svg", out, len);
	golden("threads-vs-sync-oncpu.svg", out, len);
	/* strategy and role frames are merged away: the states sit on the root */
	assert_null(strstr(out, "<title>threads "));
	assert_null(strstr(out, "<title>worker 1 "));
	/* io_cpu grew (threads: 240 samples a worker vs 120), compute shrank, in samples (not
	 * shares of the two totals): red and blue */
	{
		const char *io = strstr(out, "<title>io_cpu ");
		const char *co = strstr(out, "<title>compute ");

		assert_non_null(io);
		assert_non_null(co);
		assert_non_null(strstr(io, "fill=\"#f0"));
		assert_non_null(strstr(io, "; +"));
		assert_non_null(strstr(co, "; -"));
	}
	free(out);
	/* no baseline: drawn, and says there is nothing to compare */
	diff_base = NULL;
	out = render_mem(do_diff, &r->runs[1].oncpu, &len);
	assert_non_null(strstr(out, "the baseline has no samples"));
	free(out);
}

static bool starts_with(const char *p, const char *prefix)
{
	return p && !strncmp(p, prefix, strlen(prefix));
}

/*
 * The state frames split by kind (issue 13): a join and a mutex of one thread are two
 * frames, each in its kind's color (report.html's bars': join light, mutex the state's
 * purple) with a tooltip saying what it means; a bare state from a folder saved before
 * keeps its state's color and no such note. In the diff, a join against a baseline that
 * only had a mutex is all growth, and the mutex's frame is not drawn (only in the base).
 */
static void test_flame_kinds(void **state)
{
	struct an_stackset run = {0}, base = {0};
	const char *join, *mutex, *cv, *bare, *pipe, *child;
	size_t len;
	char *out;

	(void)state;
	add(&run, 6000, "threads;main;lock_wait: join;main;pthread_join;futex_wait_[k]");
	add(&run, 4000, "threads;main;lock_wait: mutex;main;__lll_lock_wait;futex_wait_[k]");
	add(&run, 3000, "threads;worker 1;lock_wait: condvar;start_thread;pthread_cond_wait");
	add(&run, 2000, "threads;worker 1;lock_wait;start_thread;old_folder");
	add(&run, 1000, "threads;worker 1;io_wait: pipe;start_thread;read;pipe_read_[k]");
	add(&run, 1000, "threads;main;other_wait: child;main;wait4");
	out = render_mem(do_flame, &run, &len);
	assert_well_formed("kinds.svg", out, len);
	join = strstr(out, "<title>lock_wait: join (");
	mutex = strstr(out, "<title>lock_wait: mutex (");
	cv = strstr(out, "<title>lock_wait: condvar (");
	bare = strstr(out, "<title>lock_wait (");
	pipe = strstr(out, "<title>io_wait: pipe (");
	child = strstr(out, "<title>other_wait: child (");
	assert_non_null(join);
	assert_non_null(mutex);
	assert_non_null(cv);
	assert_non_null(bare);
	assert_non_null(pipe);
	assert_non_null(child);
	assert_true(starts_with(join, "<title>lock_wait: join (6,000 samples, 35.29%; waiting for a "
				   "thread to exit: not contention)</title><rect"));
	assert_non_null(strstr(join, "fill=\"#cdb9e6\""));
	assert_true(strstr(join, "fill=") < strstr(join, "</g>"));
	assert_true(starts_with(mutex, "<title>lock_wait: mutex (4,000 samples, 23.53%; contention on "
				    "a mutex)</title>"));
	assert_true(starts_with(strstr(mutex, "fill="), "fill=\"#8e5ec4\""));
	assert_true(starts_with(strstr(cv, "fill="), "fill=\"#e6dcf2\""));
	assert_non_null(strstr(cv, "not contention)</title>"));
	assert_true(starts_with(bare, "<title>lock_wait (2,000 samples, 11.76%)</title>"));
	assert_true(starts_with(strstr(bare, "fill="), "fill=\"#8e5ec4\""));
	assert_true(starts_with(strstr(pipe, "fill="), "fill=\"#f0a39b\""));
	assert_non_null(strstr(pipe, "not the disk)</title>"));
	assert_true(starts_with(strstr(child, "fill="), "fill=\"#767676\""));
	free(out);

	add(&base, 5000, "sync;main;lock_wait: mutex;main;__lll_lock_wait;futex_wait_[k]");
	diff_base = &base;
	an_stackset_free(&run);
	memset(&run, 0, sizeof(run));
	add(&run, 6000, "threads;main;lock_wait: join;main;pthread_join;futex_wait_[k]");
	out = render_mem(do_diff, &run, &len);
	join = strstr(out, "<title>lock_wait: join (");
	assert_non_null(join);
	assert_non_null(strstr(join, "; waiting for a thread to exit: not contention; baseline 0 "));
	assert_null(strstr(out, "<title>lock_wait: mutex ("));
	free(out);
	diff_base = NULL;
	an_stackset_free(&run);
	an_stackset_free(&base);
}

static void test_timeline_golden(void **state)
{
	struct an_report *r = *state;
	size_t len;
	char *out;

	for (size_t i = 0; i < r->nruns; i++) {
		char name[64];

		out = render_mem(do_timeline, &r->runs[i], &len);
		snprintf(name, sizeof(name), "timeline-%s.svg", r->runs[i].strategy);
		assert_well_formed(name, out, len);
		golden(name, out, len);
		/* a lane per thread, plus I/O and threads on CPU */
		assert_int_equal(count(out, "class=\"tl-lab\""), r->runs[i].tl->nthreads + 2);
		assert_non_null(strstr(out, ">worker 1 (4201)<") ? out : (r->runs[i].tl->nthreads > 1 ? NULL : out));
		free(out);
	}
}

/* Lanes stay small however many spans: at most one rectangle per column and state. */
static void test_timeline_bounded(void **state)
{
	struct an_run run;
	struct tl_timeline *tl = tl_new();
	uint64_t ts = T0;
	size_t len;
	char *out;

	(void)state;
	memset(&run, 0, sizeof(run));
	assert_non_null(tl);
	assert_non_null(tl_thread_add(tl, 1, 1, ts, TL_COMPUTE, "busy"));
	for (int i = 0; i < 200000; i++, ts += 5000)
		assert_int_equal(tl_transition(tl, 1, 1, ts, i % 2 ? TL_IO_CPU : TL_COMPUTE), 0);
	assert_int_equal(tl_finish(tl, T0, ts), 0);
	run.tl = tl;
	run.ncpu = 1;
	snprintf(run.label, sizeof(run.label), "flood");
	out = render_mem(do_timeline, &run, &len);
	assert_true(len < 200 * 1024);
	assert_well_formed("flood.svg", out, len);
	free(out);
	tl_free(tl);

	/* no timeline at all: still an SVG that says so */
	memset(&run, 0, sizeof(run));
	out = render_mem(do_timeline, &run, &len);
	assert_non_null(strstr(out, "no timeline"));
	assert_well_formed("none.svg", out, len);
	free(out);
}

/* The tl-levels lane of kind k (and lane index i among them): its data-lv, in buf. */
static const char *lane_levels(const char *svg, const char *k, int i, char *buf, size_t len)
{
	char want[32];
	const char *p = svg, *q, *e;

	snprintf(want, sizeof(want), "<g data-k=\"%s\"", k);
	for (p = strstr(p, want); p && i--; p = strstr(p + 1, want))
		;
	if (!p)
		return NULL;
	q = strstr(p, "data-lv=\"");
	assert_non_null(q);
	q += strlen("data-lv=\"");
	e = strchr(q, '"');
	snprintf(buf, len, "%.*s", (int)(e - q), q);
	return buf;
}

static struct rp_svg_opts level_opts;

static int do_timeline_opts(FILE *f, const void *a)
{
	return rp_timeline_svg_ex(f, a, &level_opts);
}

/*
 * Zoom's finer levels, by hand: one thread computing over a 960 ms window but for 100 µs
 * waiting on I/O (500.3 to 500.4 ms). The 960 columns of 1 ms cannot show it, nor level 1
 * (250 µs: 100 µs against 150 of compute in column 2001); level 2 (62.5 µs) has the one
 * column 8005 wholly in io_wait, 8004 and 8006 partly (the I/O lane's pale 'A'); level 3
 * (15.6 µs) io_wait in columns 32019-32025, each the state that held most of it (32019:
 * 12.5 of 15.6 µs), solid I/O there; level 4 (3.9 µs) in 128077-128101. Threads on CPU: a
 * full lane is 48 px ('w'), 0.8 of a column 38 px ('m'), 0.6 29 px ('d'), 0.2 10 ('K').
 * (level 1's column 2001 is partly I/O: pale). With a budget of 40 bytes, the cheapest
 * refinements first: the thread's level 1 (5 bytes), its level 2 (11), the I/O and CPU
 * lanes' level 1 (11 each); then none fits (the cheapest left is 13).
 */
static void test_timeline_levels(void **state)
{
	struct an_run run;
	struct tl_timeline *tl = tl_new();
	char buf[256];
	size_t len;
	char *out;

	(void)state;
	memset(&run, 0, sizeof(run));
	assert_non_null(tl);
	assert_non_null(tl_thread_add(tl, 7, 7, T0, TL_COMPUTE, "one"));
	assert_int_equal(tl_transition(tl, 7, 7, T0 + 500300000, TL_IO_WAIT), 0);
	assert_int_equal(tl_transition(tl, 7, 7, T0 + 500400000, TL_COMPUTE), 0);
	assert_int_equal(tl_finish(tl, T0, T0 + 960 * MS), 0);
	run.tl = tl;
	run.ncpu = 1;
	snprintf(run.label, sizeof(run.label), "levels");
	level_opts = (struct rp_svg_opts){0};
	out = render_mem(do_timeline_opts, &run, &len);
	assert_well_formed("levels.svg", out, len);
	assert_non_null(strstr(out, "data-cols=\"3840,15360,61440,245760\""));
	assert_string_equal(lane_levels(out, "s", 0, buf, sizeof(buf)),
			    "A3840 A8005CA7354 A32019C7A29414 A128077C25A117658");
	assert_string_equal(lane_levels(out, "i", 0, buf, sizeof(buf)),
			    ".2001A.1838 .8004ABA.7353 .32019B7.29414 .128076AB25A.117657");
	assert_string_equal(lane_levels(out, "c", 0, buf, sizeof(buf)),
			    "w2001dw1838 w8004mAdw7353 w32019KA5Tw29414 w128076mA25dw117657");
	free(out);

	level_opts.tl_detail = 40;
	out = render_mem(do_timeline_opts, &run, &len);
	assert_non_null(strstr(out, "data-cols=\"3840,15360\""));
	assert_string_equal(lane_levels(out, "s", 0, buf, sizeof(buf)), "A3840 A8005CA7354");
	assert_string_equal(lane_levels(out, "i", 0, buf, sizeof(buf)), ".2001A.1838");
	assert_string_equal(lane_levels(out, "c", 0, buf, sizeof(buf)), "w2001dw1838");
	free(out);

	/* less than any level: no metadata, the 960 columns alone */
	level_opts.tl_detail = 4;
	out = render_mem(do_timeline_opts, &run, &len);
	assert_null(strstr(out, "<metadata"));
	assert_non_null(strstr(out, "iotTimeline("));
	free(out);
	tl_free(tl);
}

static void test_html_golden(void **state)
{
	struct an_report *r = *state;
	size_t len;
	char *out = render_mem(do_html, r, &len);

	/* polyglot: the whole page is well-formed XML too */
	assert_well_formed("report.html", out, len);
	golden("report.html", out, len);
	assert_null(strstr(out, "src=\"http"));
	assert_null(strstr(out, "href=\"http"));
	/* verdicts escaped, said once (the headline's causes are the findings); every run has
	 * its graphs; diff only against sync */
	assert_null(strstr(out, "page cache &lt;100%&gt; &amp; more"));
	assert_int_equal(count(out, "<details class=\"run\""), (int)r->nruns);
	assert_non_null(strstr(out, "(&quot;GIL&quot;)"));
	assert_int_equal(count(out, "class=\"fg\""), 3 * 3 + 2);
	assert_int_equal(count(out, "class=\"tl\""), 3);
	assert_int_equal(count(out, "data-tab=\"diff\">Diff vs sync"), 2);
	assert_true(len < 2 * 1024 * 1024);
	/* the question and its answer come first, a line for each strategy in it */
	assert_true(strstr(out, "class=\"question\"") < strstr(out, "class=\"answer\""));
	assert_true(strstr(out, "class=\"answer\"") < strstr(out, "<h2>Comparison"));
	assert_int_equal(count(out, "<ul class=\"strategies\"><li>"), 1);
	/* a cause column; no internal rule id anywhere a reader sees */
	assert_int_equal(count(out, "<td class=\"cause\""), (int)r->nruns);
	assert_null(strstr(out, "[page_cache]"));
	assert_null(strstr(out, "class=\"rule\""));
	/* every file of the folder is linked, and where trace.json opens */
	assert_non_null(strstr(out, "href=\"summary.json\""));
	assert_non_null(strstr(out, "href=\"trace.json\""));
	assert_non_null(strstr(out, "ui.perfetto.dev"));
	assert_int_equal(count(out, "/flame-wall.svg\">"), (int)r->nruns);
	/* an expand-all; no prompt() for the search */
	assert_non_null(strstr(out, "class=\"all\" data-open=\"1\""));
	assert_null(strstr(out, "prompt("));
	free(out);
}

static void test_xml_escape(void **state)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	/* overlong '/', a lone continuation byte, a surrogate, U+FFFE, a control character */
	rp_xml(f, "a\xc0\xaf" "b\x80" "c\xed\xa0\x80" "d\xef\xbf\xbe" "e\x01" "f\xf0\x9f\x94\xa5", SIZE_MAX);
	fclose(f);
	assert_string_equal(buf, "a\\xC0\\xAFb\\x80c\\xED\\xA0\\x80d\\xEF\\xBF\\xBEe?f&#x1F525;");
	free(buf);
}

/* ---- tests: symbolizer ---- */

int main(int argc, char **argv);

__attribute__((noinline)) int flame_test_leaf_fn(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}

__attribute__((noinline)) int flame_test_caller_fn(int x)
{
	__asm__ volatile("" : "+r"(x));
	return flame_test_leaf_fn(x) + 2;
}

static void test_sym_own_function(void **state)
{
	struct sym *s = sym_new();
	struct tr_stack st;
	char out[4096];
	int n;

	(void)state;
	assert_non_null(s);
	memset(&st, 0, sizeof(st));
	st.pid = (uint32_t)getpid();
	st.tid = st.pid;
	st.nuser = 2;
	st.nkern = 0;
	/* leaf: an address inside the function; caller: a return address into it */
	st.uips[0] = (uint64_t)(uintptr_t)flame_test_leaf_fn + 1;
	st.uips[1] = (uint64_t)(uintptr_t)flame_test_caller_fn + 4;
	sym_pid_seen(s, (pid_t)st.pid);
	n = sym_fold(s, &st, "strat;main;compute", out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	/* root first; no entry frame at the root, so the stack is marked truncated */
	assert_string_equal(out, "strat;main;compute;[truncated];flame_test_caller_fn;flame_test_leaf_fn");

	/* a stack reaching main is complete; frames are root first */
	st.uips[1] = (uint64_t)(uintptr_t)main + 4;
	n = sym_fold(s, &st, "", out, sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, "main;flame_test_leaf_fn");
	sym_free(s);
}

/* Two readings of a process's maps agree on the lines both hold, byte for byte. */
static void test_sym_maps_common(void **state)
{
	const char a[] = "55d0000-55d1000 r-xp 00001000 08:01 22 /usr/bin/prog\n"
			 "7f00000-7f10000 r--p 00000000 08:01 11 /usr/lib/libc.so.6\n"
			 "7f10000-7f20000 r-xp 00010000 08:01 11 /usr/lib/libc.so.6\n"
			 "7f30000-7f31000 r-xp 00000000 08:01 44 /usr/lib/libgone.so\n"
			 "7f40000-7f41000 r-xp 00000000 08:01 55 /usr/lib/libold.so";
	/* libgone unmapped, libold replaced by another file (inode) at its address, libnew
	 * mapped, the lines in another order: what stays is prog and libc */
	const char b[] = "7f10000-7f20000 r-xp 00010000 08:01 11 /usr/lib/libc.so.6\n"
			 "7f00000-7f10000 r--p 00000000 08:01 11 /usr/lib/libc.so.6\n"
			 "55d0000-55d1000 r-xp 00001000 08:01 22 /usr/bin/prog\n"
			 "7f40000-7f41000 r-xp 00000000 08:01 66 /usr/lib/libold.so\n"
			 "7e00000-7e10000 r-xp 00000000 08:01 33 /usr/lib/libnew.so\n";
	const char want[] = "55d0000-55d1000 r-xp 00001000 08:01 22 /usr/bin/prog\n"
			    "7f00000-7f10000 r--p 00000000 08:01 11 /usr/lib/libc.so.6\n"
			    "7f10000-7f20000 r-xp 00010000 08:01 11 /usr/lib/libc.so.6\n";
	char out[sizeof(a) + 1];

	(void)state;
	assert_int_equal(sym_maps_common(a, strlen(a), b, strlen(b), out), strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(sym_maps_common(a, strlen(a), "", 0, out), 0);
	assert_string_equal(out, "");
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A child of ours forked now that exits at once and is reaped: its maps can't be read. */
static pid_t gone_child(uint64_t *ts)
{
	pid_t c;
	int st;

	*ts = mono_now();
	c = fork();
	if (!c)
		_exit(0);
	assert_true(c > 0);
	assert_int_equal(waitpid(c, &st, 0), c);
	return c;
}

static const char *fold_of(struct sym *s, pid_t pid, uint64_t leaf)
{
	static char out[4096];
	struct tr_stack st;

	memset(&st, 0, sizeof(st));
	st.pid = st.tid = (uint32_t)pid;
	st.nuser = 2;
	st.uwalk = TR_UWALK_CFI_END;
	st.uips[0] = leaf;
	st.uips[1] = (uint64_t)(uintptr_t)main + 4;
	assert_true(sym_fold(s, &st, "", out, sizeof(out)) > 0);
	return out;
}

/*
 * A fork gone before its maps were read is named with what it had from its parent for
 * certain (in a reading of the parent's before the fork and one after), never with what
 * the parent mapped after the fork, never after an exec, and not at all without a reading
 * of the parent's from before the fork.
 */
static void test_sym_fork_inherits(void **state)
{
	struct sym *s = sym_new(), *s2 = sym_new();
	uint64_t leaf = (uint64_t)(uintptr_t)flame_test_leaf_fn + 1, ts, fn = 0;
	pid_t me = getpid(), c;
	void *h;
	const char *out;

	(void)state;
	assert_non_null(s);
	assert_non_null(s2);
	sym_pid_seen(s, me); /* a reading before the forks */
	c = gone_child(&ts);
	sym_proc_forked(s, c, me, ts);
	assert_string_equal(fold_of(s, c, leaf), "main;flame_test_leaf_fn");

	/* exec'd: its mappings are another program's */
	c = gone_child(&ts);
	sym_proc_forked(s, c, me, ts);
	sym_proc_forked(s, c, 0, mono_now());
	assert_string_equal(fold_of(s, c, leaf), "[unknown]");

	/* no reading of the parent before the fork (only after): what it inherited is unknown */
	c = gone_child(&ts);
	sym_pid_seen(s2, me);
	sym_proc_forked(s2, c, me, ts);
	assert_string_equal(fold_of(s2, c, leaf), "[unknown]");

	/* the parent maps a library after the fork: the child had none there (it could have
	 * mapped another file at that address itself, as the parent's maps show it now) */
	c = gone_child(&ts);
	h = dlopen("libexpat.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h)
		fn = (uint64_t)(uintptr_t)dlsym(h, "XML_ParserCreate");
	sym_proc_forked(s, c, me, ts);
	assert_string_equal(fold_of(s, c, leaf), "main;flame_test_leaf_fn");
	if (fn) {
		/* the parent's own stack there is named: it is a real function */
		assert_non_null(strstr(fold_of(s, me, fn + 1), "XML_ParserCreate"));
		out = fold_of(s, c, fn + 1);
		assert_null(strstr(out, "XML"));
		assert_string_equal(out, "[truncated]");
	}
	if (h)
		dlclose(h);
	sym_free(s);
	sym_free(s2);
}

/* A child of ours blocked on a pipe until held_release: *rel is the write end. */
static pid_t held_child(uint64_t *ts, int *rel, const char *exec_after)
{
	int p[2];
	pid_t c;
	char b;

	assert_int_equal(pipe(p), 0);
	*ts = mono_now();
	c = fork();
	if (!c) {
		close(p[1]);
		if (read(p[0], &b, 1) == 1 && exec_after) {
			/* cat, blocked on the rest of the pipe until it is closed */
			dup2(p[0], 0);
			execl(exec_after, "cat", (char *)NULL);
		}
		_exit(0);
	}
	assert_true(c > 0);
	close(p[0]);
	*rel = p[1];
	return c;
}

static void held_reap(pid_t c)
{
	int st;

	assert_int_equal(waitpid(c, &st, 0), c);
}

/* Where cat's code is in c, waited for: c execs cat (its exec, not a timing of ours). */
static uint64_t cat_text(pid_t c)
{
	char path[64], line[512];
	uint64_t a = 0, b;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)c);
	while (!a) {
		f = fopen(path, "r");
		assert_non_null(f);
		while (!a && fgets(line, sizeof(line), f))
			if (strstr(line, " r-xp ") && strstr(line, "/cat\n") &&
			    sscanf(line, "%" SCNx64 "-%" SCNx64, &a, &b) != 2)
				a = 0;
		fclose(f);
		if (!a)
			sched_yield();
	}
	return a;
}

/*
 * The maps read at the fork and exec records (sym_proc_forked, while the processes may
 * live): a fork gone before any reading of its parent's from before it is named from a
 * sibling still alive at its own record (what it inherited then) or from the parent's
 * maps read at an earlier fork's record; a fork read at its record is named from that;
 * one that exec'd by the time its stacks (of the parent's code) are unwound is not named
 * with its new program's maps, and those name its new program's frames after the exec.
 */
static void test_sym_fork_read_at_record(void **state)
{
	struct sym *s = sym_new();
	uint64_t leaf = (uint64_t)(uintptr_t)flame_test_leaf_fn + 1, ts, ts2, text;
	pid_t me = getpid(), held, c, c2;
	int rel;
	char name[64];

	(void)state;
	/* a sibling alive at its record: the parent's maps as of its fork */
	assert_non_null(s);
	held = held_child(&ts, &rel, NULL);
	sym_proc_forked(s, held, me, ts);
	c = gone_child(&ts2);
	sym_proc_forked(s, c, me, ts2);
	assert_string_equal(fold_of(s, c, leaf), "main;flame_test_leaf_fn");
	/* itself, gone before its stacks are unwound */
	close(rel);
	held_reap(held);
	assert_string_equal(fold_of(s, held, leaf), "main;flame_test_leaf_fn");
	sym_free(s);

	/* the parent read at an earlier fork's record: not for that fork, for the next */
	s = sym_new();
	assert_non_null(s);
	c = gone_child(&ts);
	sym_proc_forked(s, c, me, ts);
	c2 = gone_child(&ts2);
	sym_proc_forked(s, c2, me, ts2);
	assert_string_equal(fold_of(s, c2, leaf), "main;flame_test_leaf_fn");
	assert_string_equal(fold_of(s, c, leaf), "[unknown]");
	sym_free(s);

	/* exec'd cat before its stacks were unwound: ours are named from its fork record */
	s = sym_new();
	assert_non_null(s);
	held = held_child(&ts, &rel, "/bin/cat");
	sym_proc_forked(s, held, me, ts);
	assert_int_equal(write(rel, "x", 1), 1);
	text = cat_text(held);
	assert_true(text != 0);
	assert_string_equal(fold_of(s, held, leaf), "main;flame_test_leaf_fn");
	/* the exec record: read while cat lives; cat is gone when its frames are named */
	sym_proc_forked(s, held, 0, mono_now());
	close(rel);
	held_reap(held);
	snprintf(name, sizeof(name), "%s", fold_of(s, held, text + 0x10));
	assert_non_null(strstr(name, ";cat+0x"));
	sym_free(s);
}

#if defined(__x86_64__)
/*
 * Code as a compiler lays out a tail call: tc_caller calls tc_middle, which jumps to
 * tc_leaf (no frame of its own); tc_plt_caller calls abs through the PLT. Each call is 5
 * bytes (call rel32): its return address is the function's start + 5.
 */
__asm__(".text\n"
	".globl tc_caller, tc_middle, tc_leaf, tc_plt_caller\n"
	".type tc_caller, @function\n"
	"tc_caller:\n"
	"	call tc_middle\n"
	"	ret\n"
	".size tc_caller, .-tc_caller\n"
	".type tc_middle, @function\n"
	"tc_middle:\n"
	"	jmp tc_leaf\n"
	".size tc_middle, .-tc_middle\n"
	".type tc_leaf, @function\n"
	"tc_leaf:\n"
	"	nop\n"
	"	ret\n"
	".size tc_leaf, .-tc_leaf\n"
	".type tc_plt_caller, @function\n"
	"tc_plt_caller:\n"
	"	call abs@PLT\n"
	"	ret\n"
	".size tc_plt_caller, .-tc_plt_caller\n");
extern char tc_caller[], tc_middle[], tc_leaf[], tc_plt_caller[];

static const char *fold_two(struct sym *s, uint64_t leaf, uint64_t ra, enum tr_uwalk walk)
{
	static char out[4096];
	struct tr_stack st;

	memset(&st, 0, sizeof(st));
	st.pid = st.tid = (uint32_t)getpid();
	st.nuser = 2;
	st.uwalk = walk;
	st.uips[0] = leaf;
	st.uips[1] = ra;
	assert_true(sym_fold(s, &st, "", out, sizeof(out)) > 0);
	return out;
}
#endif

/* A tail call's frame is put back, marked, from the call before the caller's return
 * address; not when the frame below is the function called, nor on a frame-pointer walk. */
static void test_sym_tail_call(void **state)
{
#if defined(__x86_64__)
	struct sym *s = sym_new();
	uint64_t ra = (uint64_t)(uintptr_t)tc_caller + 5, pra = (uint64_t)(uintptr_t)tc_plt_caller + 5;
	const char *out;
	char want[256];

	(void)state;
	assert_non_null(s);
	sym_pid_seen(s, getpid());
	assert_string_equal(fold_two(s, (uintptr_t)tc_leaf, ra, TR_UWALK_CFI_END),
			    "tc_caller;tc_middle (tail call);tc_leaf");
	assert_string_equal(fold_two(s, (uintptr_t)tc_middle, ra, TR_UWALK_CFI_END),
			    "tc_caller;tc_middle");
	/* frame pointers: a frame the walk skipped would look the same, so nothing inferred */
	assert_string_equal(fold_two(s, (uintptr_t)tc_leaf, ra, TR_UWALK_FP),
			    "[truncated];tc_caller;tc_leaf");
	/* through the PLT: the stub's relocation names abs; div is not abs */
	out = fold_two(s, (uintptr_t)div + 1, pra, TR_UWALK_CFI_END);
	assert_non_null(strstr(out, "tc_plt_caller;abs (tail call);"));
	out = fold_two(s, (uintptr_t)abs + 1, pra, TR_UWALK_CFI_END);
	snprintf(want, sizeof(want), "%s", out);
	assert_null(strstr(want, "(tail call)"));
	assert_true(!strncmp(want, "tc_plt_caller;", 14));
	sym_free(s);
#else
	(void)state;
	skip();
#endif
}

static void test_sym_kallsyms(void **state)
{
	char line[512], name[256], type, out[1024];
	uint64_t addr = 0;
	struct tr_stack st;
	struct sym *s;
	FILE *f;

	(void)state;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		skip();
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) == 3 &&
		    !strcmp(name, "vfs_read") && (type == 'T' || type == 't'))
			break;
	fclose(f);
	if (!addr) {
		print_message("kallsyms addresses are hidden (not root, kptr_restrict): skipped\n");
		skip();
	}
	s = sym_new();
	assert_non_null(s);
	memset(&st, 0, sizeof(st));
	st.pid = (uint32_t)getpid();
	st.nkern = 2;
	st.kips[0] = addr + 16;	/* leaf: inside vfs_read */
	st.kips[1] = addr + 1;	/* a return address just past its start: still vfs_read */
	assert_true(sym_fold(s, &st, "x", out, sizeof(out)) > 0);
	assert_string_equal(out, "x;vfs_read_[k];vfs_read_[k]");
	/* the capture's own frames on the leaf side (BPF program, tracepoint) are dropped */
	{
		uint64_t bpf = 0, sched = 0;

		f = fopen("/proc/kallsyms", "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f) && (!bpf || !sched))
			if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) == 3 &&
			    (type == 'T' || type == 't')) {
				if (!strcmp(name, "bpf_trace_run4"))
					bpf = addr;
				else if (!strcmp(name, "__schedule"))
					sched = addr;
			}
		fclose(f);
		if (bpf && sched) {
			st.nkern = 3;
			st.kips[0] = bpf + 8;
			st.kips[1] = sched + 8;
			st.kips[2] = bpf + 8; /* not on the leaf side: kept */
			assert_true(sym_fold(s, &st, "x", out, sizeof(out)) > 0);
			assert_string_equal(out, "x;bpf_trace_run4_[k];__schedule_[k]");
		}
	}
	/* not a kernel address: named as such, never a bare number */
	st.nkern = 1;
	st.kips[0] = 0x1000;
	assert_true(sym_fold(s, &st, "x", out, sizeof(out)) > 0);
	assert_string_equal(out, "x;[kernel]_[k]");
	sym_free(s);
}

static void test_sym_bad_input(void **state)
{
	struct sym *s = sym_new();
	struct tr_stack st;
	char out[4096], small[160];
	void *anon;
	pid_t pid;
	int n;

	(void)state;
	assert_non_null(s);
	memset(&st, 0, sizeof(st));

	/* JIT-like code: anonymous executable memory */
	anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(anon != MAP_FAILED);
	st.pid = (uint32_t)getpid();
	st.nuser = 3;
	st.uips[0] = (uint64_t)(uintptr_t)anon + 100;
	st.uips[1] = (uint64_t)(uintptr_t)anon + 200;
	st.uips[2] = (uint64_t)(uintptr_t)main + 4;
	assert_true(sym_fold(s, &st, "", out, sizeof(out)) > 0);
	assert_string_equal(out, "main;[anon]");
	munmap(anon, 4096);

	/* a broken frame-pointer chain: the junk link ends the stack, marked */
	st.nuser = 2;
	st.uips[0] = (uint64_t)(uintptr_t)flame_test_leaf_fn + 1;
	st.uips[1] = 0x10;
	assert_true(sym_fold(s, &st, "", out, sizeof(out)) > 0);
	assert_string_equal(out, "[truncated];flame_test_leaf_fn");

	/* very deep: cut on the leaf side, marked, never past len */
	st.nuser = 127;
	for (int i = 0; i < 127; i++)
		st.uips[i] = (uint64_t)(uintptr_t)flame_test_leaf_fn + 1;
	st.uips[126] = (uint64_t)(uintptr_t)main + 4;
	n = sym_fold(s, &st, "p", small, sizeof(small));
	assert_true(n > 0 && (size_t)n < sizeof(small));
	assert_int_equal((size_t)n, strlen(small));
	assert_non_null(strstr(small, "p;main;flame_test_leaf_fn;"));
	assert_non_null(strstr(small, ";[deeper frames cut]"));
	assert_int_equal(sym_fold(s, &st, "a-prefix-longer-than-the-buffer", small, 8), -ENOSPC);

	/* a process that exited before anyone looked at it */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	st.pid = (uint32_t)pid;
	st.nuser = 2;
	st.uips[0] = 0x401000;
	st.uips[1] = 0x401100;
	assert_true(sym_fold(s, &st, "", out, sizeof(out)) > 0);
	assert_string_equal(out, "[unknown]");

	/* no stack at all */
	st.nuser = -14;
	st.nkern = -14;
	assert_true(sym_fold(s, &st, "p", out, sizeof(out)) > 0);
	assert_string_equal(out, "p;[no stack]");
	sym_free(s);
}

/* Where this process's own copy of flame_test_leaf_fn is, as an ELF address. */
static uint64_t own_leaf_offset(uint64_t *addr)
{
	Dl_info di;

	assert_true(dladdr((void *)(uintptr_t)flame_test_leaf_fn, &di) != 0);
	*addr = (uint64_t)(uintptr_t)flame_test_leaf_fn;
	return *addr - (uint64_t)(uintptr_t)di.dli_fbase;
}

/*
 * A stripped copy of this test binary, deleted while it runs and symbolized after it
 * exited: its frames are module+offset (the ELF address of the function), never a bare
 * address.
 */
static void test_sym_stripped_deleted(void **state)
{
	char dir[] = "/tmp/test_flame-XXXXXX", exe[PATH_MAX], cmd[PATH_MAX * 2 + 64];
	char out[4096], want[128], rfd[16], wfd[16];
	uint64_t got[2];
	struct tr_stack st;
	struct sym *s;
	int down[2], up[2];
	pid_t pid;

	(void)state;
	if (system("command -v strip >/dev/null 2>&1") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/stripped", dir);
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe '%s' && strip '%s'", (int)getpid(), exe, exe);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(pipe(down), 0);
	assert_int_equal(pipe(up), 0);
	snprintf(rfd, sizeof(rfd), "%d", down[0]);
	snprintf(wfd, sizeof(wfd), "%d", up[1]);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(down[1]);
		close(up[0]);
		execl(exe, exe, "--child", rfd, wfd, (char *)NULL);
		_exit(127);
	}
	close(down[0]);
	close(up[1]);
	/* the child says where its function is, then waits for us to close the pipe */
	assert_int_equal(read(up[0], got, sizeof(got)), (ssize_t)sizeof(got));
	close(up[0]);
	assert_int_equal(unlink(exe), 0);
	assert_int_equal(rmdir(dir), 0);
	s = sym_new();
	assert_non_null(s);
	sym_pid_seen(s, pid);	/* maps captured while it runs, its file already deleted */
	close(down[1]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	memset(&st, 0, sizeof(st));
	st.pid = (uint32_t)pid;
	st.nuser = 1;
	st.uips[0] = got[0] + 1;
	assert_true(sym_fold(s, &st, "", out, sizeof(out)) > 0);
	/* named by the function's start (from .eh_frame_hdr): one frame per function */
	snprintf(want, sizeof(want), "[truncated];stripped+0x%" PRIx64, got[1]);
	assert_string_equal(out, want);
	sym_free(s);
}

static int setup(void **state)
{
	struct an_report *r = calloc(1, sizeof(*r));
	const char *src = getenv("IOTRACE_SRCDIR");
	char exe[PATH_MAX];
	ssize_t n;

	if (!r)
		return -1;
	/* tests run from the repository root (run-tests.sh); else find it from build/tests/ */
	if (src) {
		snprintf(golden_dir, sizeof(golden_dir), "%s/tests/golden/flame", src);
	} else if (access("tests/golden/flame", F_OK) == 0) {
		snprintf(golden_dir, sizeof(golden_dir), "tests/golden/flame");
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return -1;
		exe[n] = '\0';
		snprintf(golden_dir, sizeof(golden_dir), "%s/../../tests/golden/flame", dirname(exe));
	}
	fixture_report(r);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	report_free(*state);
	free(*state);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded_golden),
		cmocka_unit_test(test_folded_order),
		cmocka_unit_test(test_flame_golden),
		cmocka_unit_test(test_flame_escaping),
		cmocka_unit_test(test_flame_geometry),
		cmocka_unit_test(test_flame_narrow_merged),
		cmocka_unit_test(test_flame_empty),
		cmocka_unit_test(test_flame_zero_stack),
		cmocka_unit_test(test_flame_diff),
		cmocka_unit_test(test_flame_kinds),
		cmocka_unit_test(test_timeline_golden),
		cmocka_unit_test(test_timeline_levels),
		cmocka_unit_test(test_timeline_bounded),
		cmocka_unit_test(test_html_golden),
		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_sym_own_function),
		cmocka_unit_test(test_sym_maps_common),
		cmocka_unit_test(test_sym_fork_inherits),
		cmocka_unit_test(test_sym_fork_read_at_record),
		cmocka_unit_test(test_sym_tail_call),
		cmocka_unit_test(test_sym_kallsyms),
		cmocka_unit_test(test_sym_bad_input),
		cmocka_unit_test(test_sym_stripped_deleted),
	};

	/* test_sym_stripped_deleted runs a stripped copy of this binary as its target */
	if (argc == 4 && !strcmp(argv[1], "--child")) {
		uint64_t v[2];
		char c;

		v[1] = own_leaf_offset(&v[0]);
		if (write(atoi(argv[3]), v, sizeof(v)) != (ssize_t)sizeof(v))
			return 1;
		close(atoi(argv[3]));
		while (read(atoi(argv[2]), &c, 1) > 0)
			;
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
