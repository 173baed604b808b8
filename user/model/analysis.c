/* analysis.c - per-run metrics from a finished timeline, the ideal bound, folded-stack sets. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "units.h"

/*
 * The best device rate is taken from runs that moved at least this much through the
 * block layer when there are any: a handful of metadata reads says little about what the
 * device can sustain.
 */
#define AN_RATE_MIN_BYTES (1ULL << 20)

/* ---- per run ---- */

_Static_assert(WT_NIO_SLOTS == TL_IOK_OTHER, "tl_thread.bytes_read_by_kind: one slot a kind");

static double ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : 0.0;
}

/* wall_min_ns, wall_max_ns: over the repetitions, or the run's own wall without them */
static void repeat_spread(struct an_run *run)
{
	run->wall_min_ns = run->wall_max_ns = run->wall_ns;
	for (size_t i = 0; i < run->nrepeats; i++) {
		if (run->repeats[i].wall_ns < run->wall_min_ns)
			run->wall_min_ns = run->repeats[i].wall_ns;
		if (run->repeats[i].wall_ns > run->wall_max_ns)
			run->wall_max_ns = run->repeats[i].wall_ns;
	}
}

/*
 * File reads' hit ratio: the bytes the reads' own misses (and their readahead) inserted,
 * over the bytes read from files through the page cache. Pipe and socket bytes never touch
 * it, nor do reads of files opened O_DIRECT (counted as hits, `fio --direct=1` read "100%"),
 * and pages faulted in (a binary, a mapped file) or inserted by writes are no read's miss:
 * counting either made a cold `cat | md5sum` read "50%" and warm reads of a freshly
 * started node "0%".
 */
static void hit_ratio(struct an_run *run)
{
	const struct an_counters *c = &run->c;
	uint64_t file = c->bytes_read_by_kind[TL_IOK_FILE - 1];
	uint64_t direct = c->bytes_direct_ok && c->bytes_read_direct <= file ? c->bytes_read_direct
									      : 0;
	const char *why = NULL;

	if (!c->pcache_ok)
		why = "page-cache insertions were not traced";
	else if (!c->bytes_kind_ok || !c->pcache_cause_ok)
		why = "reads were not split by what they read (not traced, or saved before that)";
	else if (!file)
		why = c->bytes_read ? "no file bytes were read (only pipes, sockets or devices)"
				    : "nothing was read";
	else if (file == direct)
		why = "all file reads were O_DIRECT: they bypass the page cache";
	run->hit_ratio_ok = !why;
	snprintf(run->hit_ratio_unavailable, sizeof(run->hit_ratio_unavailable), "%s",
		 why ? why : "");
	run->hit_ratio = 0.0;
	run->hit_ratio_bytes = run->hit_ratio_ok ? file - direct : 0;
	if (run->hit_ratio_ok) {
		double h = 1.0 - ratio(c->pcache_read_bytes, file - direct);

		/* readahead can insert more than was read: that is a 0% hit, not negative */
		run->hit_ratio = h < 0.0 ? 0.0 : h > 1.0 ? 1.0 : h;
	}
}

void an_run_derive(struct an_run *run)
{
	const uint64_t *st = run->states_ns;
	uint64_t oncpu = an_run_oncpu_ns(run);
	uint64_t reading = st[TL_IO_CPU] + st[TL_IO_WAIT];
	unsigned maxk = run->ncpu < AN_MAX_CPUS ? run->ncpu : AN_MAX_CPUS;

	repeat_spread(run);
	run->parallelism = ratio(oncpu, run->wall_ns);
	run->ucopy_bps = run->ucopy_ok ? (double)run->ucopy_bytes * 1e9 / (double)(run->wall_ns ? run->wall_ns : 1) : 0.0;
	run->cpu_overlap_ok = run->blocked_ns > 0;
	run->cpu_overlap = ratio(run->blocked_busy_ns, run->blocked_ns);
	run->hidden_io_ok = run->io_ns > 0;
	run->hidden_io = run->io_ns && run->exposed_io_ns <= run->io_ns
				 ? 1.0 - ratio(run->exposed_io_ns, run->io_ns)
				 : 0.0;
	run->hidden_io_readahead_ok = run->io_block_only_ok && run->io_ns > 0;
	run->hidden_io_readahead = run->hidden_io_readahead_ok
					   ? ratio(run->io_block_only_computing_ns, run->io_ns)
					   : 0.0;
	for (unsigned k = 0; k <= AN_MAX_CPUS; k++)
		run->concurrency[k] = k <= maxk ? ratio(run->concurrency_ns[k], run->wall_ns) : 0.0;

	hit_ratio(run);
	run->device_rate_ok = run->c.block_ok && run->c.block_busy_ns > 0;
	run->device_rate = run->device_rate_ok
				   ? (double)run->c.block_bytes * 1e9 / (double)run->c.block_busy_ns
				   : 0.0;
	run->runnable_share_ok = oncpu + st[TL_RUNNABLE] > 0;
	run->runnable_share = ratio(st[TL_RUNNABLE], oncpu + st[TL_RUNNABLE]);
	run->read_oncpu_share_ok = reading > 0;
	run->read_oncpu_share = ratio(st[TL_IO_CPU], reading);
}

/* A thread's waits by kind, from the timeline's exact per-kind totals ("not known": other). */
static void split_kinds(struct an_thread *o, const struct tl_thread *t)
{
	memset(o->io_wait_by_kind_ns, 0, sizeof(o->io_wait_by_kind_ns));
	memset(o->io_cpu_by_kind_ns, 0, sizeof(o->io_cpu_by_kind_ns));
	memset(o->lock_wait_by_kind_ns, 0, sizeof(o->lock_wait_by_kind_ns));
	memset(o->other_wait_by_kind_ns, 0, sizeof(o->other_wait_by_kind_ns));
	memset(o->poll_wait_by_kind_ns, 0, sizeof(o->poll_wait_by_kind_ns));
	for (unsigned k = 0; k < TL_NKINDS; k++) {
		o->io_wait_by_kind_ns[wt_io_slot(k)] += t->kind_ns[TL_IO_WAIT][k];
		o->io_cpu_by_kind_ns[wt_io_slot(k)] += t->kind_ns[TL_IO_CPU][k];
		o->lock_wait_by_kind_ns[wt_lock_slot(k)] += t->kind_ns[TL_LOCK_WAIT][k];
		o->other_wait_by_kind_ns[wt_other_slot(k)] += t->kind_ns[TL_OTHER_WAIT][k];
		o->poll_wait_by_kind_ns[wt_poll_slot(k)] += t->kind_ns[TL_POLL_WAIT][k];
	}
	o->by_kind_ok = o->other_kind_ok = o->poll_kind_ok = true;
}

int an_run_compute(struct an_run *run, const struct tl_timeline *tl,
		   const struct an_counters *c, unsigned ncpu)
{
	const struct tl_measure *m = &tl->measure;
	struct an_thread *th = NULL;
	size_t nth = 0;

	if (!run || !tl || !tl->finished || !ncpu)
		return -EINVAL;
	if (ncpu > AN_MAX_CPUS)
		ncpu = AN_MAX_CPUS;
	if (tl->nthreads) {
		th = calloc(tl->nthreads, sizeof(*th));
		if (!th)
			return -ENOMEM;
	}
	/* the timeline measured the unions exactly (before any downsampling of its spans) */
	memset(run->concurrency_ns, 0, sizeof(run->concurrency_ns));
	for (unsigned k = 0; k <= TL_MAX_K; k++)
		run->concurrency_ns[k < ncpu ? k : ncpu] += m->oncpu[k];

	memset(run->states_ns, 0, sizeof(run->states_ns));
	memset(run->io_wait_by_kind_ns, 0, sizeof(run->io_wait_by_kind_ns));
	memset(run->io_cpu_by_kind_ns, 0, sizeof(run->io_cpu_by_kind_ns));
	memset(run->lock_wait_by_kind_ns, 0, sizeof(run->lock_wait_by_kind_ns));
	memset(run->other_wait_by_kind_ns, 0, sizeof(run->other_wait_by_kind_ns));
	memset(run->poll_wait_by_kind_ns, 0, sizeof(run->poll_wait_by_kind_ns));
	run->switches = 0;
	run->stolen_ns = 0;
	run->stolen_ok = c && c->stolen_ok;
	for (size_t i = 0; i < tl->nthreads; i++) {
		const struct tl_thread *t = &tl->threads[i];
		struct an_thread *o;

		run->switches += t->switches;
		if (t->end <= t->start)
			continue;	/* never alive in the window */
		o = &th[nth++];
		o->pid = t->pid;
		o->tid = t->tid;
		memcpy(o->comm, t->comm, sizeof(o->comm));
		memcpy(o->role, t->role, sizeof(o->role));
		o->comm[sizeof(o->comm) - 1] = o->role[sizeof(o->role) - 1] = '\0';
		o->lifetime_ns = t->end - t->start;
		o->reads = t->reads;
		o->bytes_read = t->bytes_read;
		o->bytes_kind_ok = c && c->bytes_kind_ok;
		if (o->bytes_kind_ok)
			memcpy(o->bytes_read_by_kind, t->bytes_read_by_kind,
			       sizeof(o->bytes_read_by_kind));
		o->bytes_direct_ok = c && c->bytes_direct_ok;
		o->bytes_read_direct = o->bytes_direct_ok ? t->bytes_read_direct : 0;
		o->ctx_switches = t->ctx_switches;
		o->stolen_ns = t->stolen_ns;
		run->stolen_ns += t->stolen_ns;
		o->gap_ns = t->gap_ns;
		for (int s = 0; s < TL_NSTATES; s++) {
			o->states_ns[s] = t->state_ns[s];
			run->states_ns[s] += t->state_ns[s];
		}
		split_kinds(o, t);
		for (unsigned k = 0; k < WT_NIO_SLOTS; k++) {
			run->io_wait_by_kind_ns[k] += o->io_wait_by_kind_ns[k];
			run->io_cpu_by_kind_ns[k] += o->io_cpu_by_kind_ns[k];
		}
		for (unsigned k = 0; k < WT_NLK_SLOTS; k++)
			run->lock_wait_by_kind_ns[k] += o->lock_wait_by_kind_ns[k];
		for (unsigned k = 0; k < WT_NOW_SLOTS; k++)
			run->other_wait_by_kind_ns[k] += o->other_wait_by_kind_ns[k];
		for (unsigned k = 0; k < WT_NPW_SLOTS; k++)
			run->poll_wait_by_kind_ns[k] += o->poll_wait_by_kind_ns[k];
	}
	run->by_kind_ok = run->other_kind_ok = run->poll_kind_ok = true;
	free(run->threads);
	run->threads = th;
	run->nthreads = nth;

	run->wall_ns = tl->win_end - tl->win_start;
	run->ncpu = ncpu;
	run->blocked_ns = m->blocked;
	run->blocked_busy_ns = m->blocked_busy;
	run->io_ns = m->io;
	run->exposed_io_ns = m->io - m->io_computing;
	run->computing_ns = m->computing;
	run->io_block_only_ns = m->io_block_only;
	run->io_block_only_computing_ns = m->io_block_only_computing;
	run->io_block_only_ok = true;
	run->exposed_io_peer_ns = m->io_peer_exposed;
	run->exposed_io_peer_ok = true;
	memcpy(run->bound_ns, m->bound, sizeof(run->bound_ns));
	run->bound_ok = true;
	/* capacity needs the sweep to have known the CPUs the run is judged on */
	run->unused_cpu_ok = m->ncpu == ncpu;
	if (run->unused_cpu_ok)
		memcpy(run->unused_cpu_ns, m->unused, sizeof(run->unused_cpu_ns));
	else
		memset(run->unused_cpu_ns, 0, sizeof(run->unused_cpu_ns));
	run->gaps_ns = tl->gaps_ns;
	run->spans_exact_from_ns = tl->exact_from - tl->win_start;
	run->spans_resolution_ns = tl->resolution_ns;
	if (c)
		run->c = *c;
	else
		memset(&run->c, 0, sizeof(run->c));
	/* events that came in after their time was folded could not be placed */
	run->c.lost_events += tl->late_events;
	an_run_derive(run);
	run->tl = (struct tl_timeline *)tl;
	return 0;
}

/* ---- across runs ---- */

bool an_run_clean(const struct an_run *run)
{
	/* -1: attached to a process iotrace did not start, so there is no status to judge */
	return run->exit_status == 0 || run->exit_status == -1;
}

uint64_t an_run_oncpu_ns(const struct an_run *run)
{
	return run->states_ns[TL_COMPUTE] + run->states_ns[TL_IO_CPU];
}

void an_run_tracer_cpu(struct an_run *run, uint64_t user_ns, uint64_t sys_ns)
{
	uint64_t all = run->machine_busy_ns + run->machine_idle_ns + run->machine_steal_ns;
	double sh;

	run->tracer_user_ns = user_ns;
	run->tracer_sys_ns = sys_ns;
	run->tracer_cpu_ok = true;
	run->tracer_cpu_share_ok = run->machine_ok && all;
	if (!run->tracer_cpu_share_ok)
		return;
	/* rusage is exact, /proc/stat counts ticks: a short window can come out a tick short */
	sh = (double)(user_ns + sys_ns) / (double)all;
	run->tracer_cpu_share = sh < 1 ? sh : 1;
}

void an_report_tracer_cpu(struct an_report *r, uint64_t total_user, uint64_t total_sys,
			  uint64_t win_user, uint64_t win_sys, bool win_ok)
{
	r->tracer_total_user_ns = total_user;
	r->tracer_total_sys_ns = total_sys;
	r->tracer_total_ok = true;
	r->tracer_outside_ok = win_ok;
	if (!win_ok)
		return;
	r->tracer_windows_user_ns = win_user;
	r->tracer_windows_sys_ns = win_sys;
	r->tracer_outside_user_ns = total_user > win_user ? total_user - win_user : 0;
	r->tracer_outside_sys_ns = total_sys > win_sys ? total_sys - win_sys : 0;
}

bool an_run_tracer_ns(const struct an_run *run, uint64_t *ns)
{
	if (run->tracer_cpu_ok)
		*ns = run->tracer_user_ns + run->tracer_sys_ns;
	else if (run->machine_ok && run->machine_iotrace_ns)
		*ns = run->machine_iotrace_ns;
	else
		return false;
	return true;
}

bool an_run_other_work_ns(const struct an_run *run, uint64_t *ns)
{
	uint64_t ran = an_run_ran_ns(run), self;

	if (!run->machine_ok)
		return false;
	*ns = run->machine_busy_ns > ran ? run->machine_busy_ns - ran : 0;
	/* iotrace is other work, timed exactly: the ticks' total can come out below it */
	if (an_run_tracer_ns(run, &self) && self > *ns)
		*ns = self;
	return true;
}

uint64_t an_run_ran_ns(const struct an_run *run)
{
	uint64_t oncpu = an_run_oncpu_ns(run);

	if (!run->stolen_ok)
		return oncpu;
	return oncpu > run->stolen_ns ? oncpu - run->stolen_ns : 0;
}

const struct an_run *an_sync_of(const struct an_report *rep, const struct an_run *run)
{
	if (!rep || !run)
		return NULL;
	if (!strcmp(run->strategy, "sync"))
		return run;
	for (size_t i = 0; i < rep->nruns; i++)
		if (!strcmp(rep->runs[i].strategy, "sync") &&
		    !strcmp(rep->runs[i].cache, run->cache))
			return &rep->runs[i];
	return NULL;
}

static void best_device_rate(struct an_report *rep)
{
	rep->device_rate_best = 0.0;
	rep->device_rate_best_ok = false;
	for (int pass = 0; pass < 2 && !rep->device_rate_best_ok; pass++) {
		for (size_t i = 0; i < rep->nruns; i++) {
			const struct an_counters *c = &rep->runs[i].c;
			double r;

			if (!c->block_ok || !c->block_busy_ns)
				continue;
			if (pass == 0 && c->block_bytes < AN_RATE_MIN_BYTES)
				continue;
			/* from the integers, not the run's double: re-rendering is exact */
			r = (double)c->block_bytes * 1e9 / (double)c->block_busy_ns;
			if (!rep->device_rate_best_ok || r > rep->device_rate_best)
				rep->device_rate_best = r;
			rep->device_rate_best_ok = true;
		}
	}
}

/*
 * The work of the runs of sync's cache mode, the least any clean run needed: on-CPU time
 * less what the hypervisor stole (cpu), and bytes from the device (bytes; *bytes_ok false
 * when no run could tell). Not sync's alone: the same reads can cost one run several
 * times the CPU of another (seen here, cold, 512 MiB: 564 ms of io_cpu for sync, 106 ms for
 * procs, most of it copying pages out), and a bound that another run beats is no bound
 * (procs/cold was at 111% of one built on sync's). A run's own work, spread over every CPU
 * or moved at the best rate measured, takes at most its wall time, so no run can beat the
 * least.
 */
static void least_work(const struct an_report *rep, const struct an_run *sync, uint64_t *cpu,
		       uint64_t *bytes, bool *bytes_ok)
{
	*cpu = UINT64_MAX;
	*bytes = UINT64_MAX;
	for (size_t i = 0; i < rep->nruns; i++) {
		const struct an_run *r = &rep->runs[i];
		uint64_t w = an_run_ran_ns(r), b;

		if (strcmp(r->cache, sync->cache) || !an_run_clean(r) || !r->wall_ns)
			continue;
		if (w < *cpu)
			*cpu = w;
		if (r->c.block_ok)
			b = r->c.block_bytes;
		else if (r->c.pcache_ok) /* what entered the page cache came from the device */
			b = r->c.pcache_insert_bytes;
		else
			continue;
		if (b < *bytes)
			*bytes = b;
	}
	*bytes_ok = *bytes != UINT64_MAX;
	if (*cpu == UINT64_MAX)
		*cpu = 0;
	if (!*bytes_ok)
		*bytes = 0;
}

bool an_run_throughput(const struct an_run *run, double *bps)
{
	*bps = 0.0;
	if (!run->c.block_ok || !run->wall_ns)
		return false;
	*bps = (double)run->c.block_bytes * 1e9 / (double)run->wall_ns;
	return true;
}

/* The best whole-run throughput of the report's clean runs moving >= 1 MiB, or 0. */
static double best_throughput(const struct an_report *rep)
{
	double best = 0.0, r;

	for (size_t i = 0; i < rep->nruns; i++) {
		const struct an_run *run = &rep->runs[i];

		if (!an_run_clean(run) || run->c.block_bytes < AN_RATE_MIN_BYTES ||
		    !an_run_throughput(run, &r))
			continue;
		if (r > best)
			best = r;
	}
	return best;
}

bool an_device_ceiling(const struct an_report *rep, double *bps, bool *measured)
{
	double best = best_throughput(rep);

	*measured = rep->device_ceiling_ok && rep->device_ceiling_bps > 0.0;
	if (*measured) {
		*bps = rep->device_ceiling_bps;
		return true;
	}
	if (best <= 0.0 && rep->throttle_bps)
		best = (double)rep->throttle_bps;
	*bps = best;
	return best > 0.0;
}

bool an_run_disk_bound(const struct an_run *run, const struct an_report *rep, double *share)
{
	double r, cap;
	bool measured;

	*share = 0.0;
	if (!rep || !an_device_ceiling(rep, &cap, &measured) || !measured ||
	    run->c.block_bytes < AN_RATE_MIN_BYTES || !an_run_throughput(run, &r))
		return false;
	*share = r / cap;
	return *share >= AN_DISK_BOUND_SHARE;
}

static void ideal_bound(struct an_run *run, const struct an_run *sync, const struct an_report *rep)
{
	unsigned ncpu = rep->ncpu ? rep->ncpu : sync ? sync->ncpu : 0;
	bool bytes_ok = false;
	uint64_t bytes = 0, cpu = 0, ideal;
	double rate = 0.0;

	run->ideal_ok = run->ideal_dev_ok = false;
	run->ideal_fraction = run->ideal_speedup = run->ideal_dev_rate = 0.0;
	run->ideal_wall_ns = run->ideal_cpu_ns = run->ideal_dev_ns = run->ideal_dev_bytes = 0;
	if (!sync || !sync->wall_ns || !ncpu || !an_run_clean(sync))
		return;
	least_work(rep, sync, &cpu, &bytes, &bytes_ok);
	run->ideal_cpu_ns = (cpu + ncpu / 2) / ncpu;
	/*
	 * The measured ceiling, else the best whole-run throughput; not the rate over busy
	 * stretches (seen: 555 MiB/s under a 300 MiB/s throttle, which put every run at 54-59%
	 * of ideal while all moved data at the throttle's rate), nor the configured throttle
	 * while anything was measured (blk-throttle's slices let bursts through: 226 MiB/s
	 * under --throttle 200M).
	 */
	/*
	 * ... and a run that beat the ceiling over its whole wall raises it: a throttle lets a
	 * slice's worth through at once when a reader starts, so a 0.8 s run behind 20 MiB/s
	 * moved its bytes up to 5% faster than the ceiling sustained, and a bound it beats is
	 * no bound.
	 */
	{
		bool measured;
		double best = best_throughput(rep);

		an_device_ceiling(rep, &rate, &measured);
		if (best > rate)
			rate = best;
	}
	run->ideal_dev_bytes = bytes;
	run->ideal_dev_rate = rate;
	if (bytes_ok && bytes == 0) {
		run->ideal_dev_ok = true;
	} else if (bytes_ok && rate > 0.0) {
		run->ideal_dev_ns = (uint64_t)((double)bytes * 1e9 / rate + 0.5);
		run->ideal_dev_ok = true;
	}
	if (!run->ideal_dev_ok)
		return;	/* bytes came from the device at an unknown rate: no bound */
	ideal = run->ideal_cpu_ns > run->ideal_dev_ns ? run->ideal_cpu_ns : run->ideal_dev_ns;
	if (!ideal)
		return;
	run->ideal_wall_ns = ideal;
	run->ideal_speedup = (double)sync->wall_ns / (double)ideal;
	if (run->speedup_ok) {
		run->ideal_fraction = run->speedup_vs_sync / run->ideal_speedup;
		run->ideal_ok = true;
	}
}

int an_report_derive(struct an_report *rep)
{
	if (!rep || (rep->nruns && !rep->runs))
		return -EINVAL;
	best_device_rate(rep);
	for (size_t i = 0; i < rep->nruns; i++) {
		struct an_run *run = &rep->runs[i];
		const struct an_run *sync = an_sync_of(rep, run);

		/* a run cut short (killed, failed) ran part of the work: no speedup from it */
		run->speedup_ok = sync && sync->wall_ns && run->wall_ns && an_run_clean(run) &&
				  an_run_clean(sync);
		run->speedup_vs_sync =
			run->speedup_ok ? (double)sync->wall_ns / (double)run->wall_ns : 0.0;
		ideal_bound(run, sync, rep);
	}
	return 0;
}

/* ---- folded stacks ---- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int stack_reindex(struct an_stackset *s, size_t need)
{
	size_t cap = 64;
	uint32_t *n;

	while (cap < need * 2)
		cap *= 2;
	n = calloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	free(s->hidx);
	s->hidx = n;
	s->hcap = cap;
	for (size_t i = 0; i < s->n; i++) {
		size_t k = str_hash(s->v[i].frames) & (cap - 1);

		while (n[k])
			k = (k + 1) & (cap - 1);
		n[k] = (uint32_t)(i + 1);
	}
	s->hn = s->n;
	return 0;
}

int an_stack_add(struct an_stackset *s, const char *frames, uint64_t value)
{
	uint64_t h;
	size_t k;

	if (!s || !frames)
		return -EINVAL;
	/* v changed behind the index (filled by a loader, truncated): rebuild it */
	if (s->hn != s->n || !s->hidx || (s->n + 1) * 2 > s->hcap) {
		int ret = stack_reindex(s, s->n + 1);

		if (ret)
			return ret;
	}
	h = str_hash(frames);
	for (k = h & (s->hcap - 1); s->hidx[k]; k = (k + 1) & (s->hcap - 1)) {
		struct an_stack *e = &s->v[s->hidx[k] - 1];

		if (!strcmp(e->frames, frames)) {
			e->value += value;
			s->total += value;
			return 0;
		}
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct an_stack *n = realloc(s->v, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->v = n;
		s->cap = nc;
	}
	s->v[s->n].frames = strdup(frames);
	if (!s->v[s->n].frames)
		return -ENOMEM;
	s->v[s->n].value = value;
	s->hidx[k] = (uint32_t)(s->n + 1);
	s->n++;
	s->hn = s->n;
	s->total += value;
	return 0;
}

void an_stackset_free(struct an_stackset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].frames);
	free(s->v);
	free(s->hidx);
	s->v = NULL;
	s->hidx = NULL;
	s->n = s->cap = s->hcap = s->hn = 0;
	s->total = 0;
}

/* ---- the wall-clock stack set ---- */

static int add_scaled(struct an_stackset *out, const struct an_stackset *s, double scale)
{
	for (size_t i = 0; i < s->n; i++) {
		int ret = an_stack_add(out, s->v[i].frames,
				       (uint64_t)((double)s->v[i].value * scale + 0.5));

		if (ret)
			return ret;
	}
	return 0;
}

struct share {
	size_t i;
	uint64_t rem;
};

static int share_cmp(const void *pa, const void *pb)
{
	const struct share *a = pa, *b = pb;

	if (a->rem != b->rem)
		return a->rem > b->rem ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

double an_stack_unwound_share(const struct an_stackset *s)
{
	return s->total ? (double)(s->unwound < s->total ? s->unwound : s->total) /
				  (double)s->total
			: 0.0;
}

/* where each enum an_ustack's figure is kept in struct an_stackset */
static const size_t stack_user_off[AN_NUSTACK] = {
	[AN_US_UNWOUND] = offsetof(struct an_stackset, unwound),
	[AN_US_CUT_SHORT] = offsetof(struct an_stackset, cut_short),
	[AN_US_OVER_BUDGET] = offsetof(struct an_stackset, over_budget),
	[AN_US_COPY_FAILED] = offsetof(struct an_stackset, copy_failed),
	[AN_US_COPY_LOST] = offsetof(struct an_stackset, copy_lost),
	[AN_US_UNWIND_FAILED] = offsetof(struct an_stackset, unwind_failed),
	[AN_US_KERNEL_ONLY] = offsetof(struct an_stackset, kernel_only),
	[AN_US_COPIES_OFF] = offsetof(struct an_stackset, copies_off),
};

int an_stack_count_user(struct an_stackset *s, enum an_ustack how, uint64_t value)
{
	if ((unsigned)how >= AN_NUSTACK)
		return -EINVAL;
	*(uint64_t *)((char *)s + stack_user_off[how]) += value;
	return 0;
}

uint64_t an_stack_by_user(const struct an_stackset *s, enum an_ustack how)
{
	if ((unsigned)how >= AN_NUSTACK)
		return 0;
	return *(const uint64_t *)((const char *)s + stack_user_off[how]);
}

double an_stack_user_share(const struct an_stackset *s, enum an_ustack how)
{
	uint64_t v = an_stack_by_user(s, how);

	return s->total ? (double)(v < s->total ? v : s->total) / (double)s->total : 0.0;
}

uint64_t an_stack_user_sum(const struct an_stackset *s)
{
	uint64_t sum = 0;

	for (int i = 0; i < AN_NUSTACK; i++)
		sum += an_stack_by_user(s, (enum an_ustack)i);
	return sum;
}

const char *an_ustack_name(enum an_ustack how)
{
	static const char *const names[AN_NUSTACK] = {
		"unwound", "cut_short", "over_budget", "copy_failed", "copy_lost",
		"unwind_failed", "kernel_only", "copies_off",
	};

	return (unsigned)how < AN_NUSTACK ? names[how] : "?";
}

/* ", 2.1% not copied, over the byte budget, 0.2% cut short" (the rest: each non-zero
 * figure of set's but unwound), appended to buf */
static void not_unwound(char *buf, size_t len, const struct an_stackset *set)
{
	static const char *const why[AN_NUSTACK] = {
		[AN_US_CUT_SHORT] = "cut short",
		[AN_US_OVER_BUDGET] = "not copied, over the byte budget",
		[AN_US_COPY_FAILED] = "copy failed",
		[AN_US_COPY_LOST] = "copy lost",
		[AN_US_UNWIND_FAILED] = "unwinding failed",
		[AN_US_KERNEL_ONLY] = "kernel-only threads",
		[AN_US_COPIES_OFF] = "not copied",
	};
	bool first = true;

	for (int i = AN_US_CUT_SHORT; i < AN_NUSTACK; i++) {
		if (!an_stack_by_user(set, (enum an_ustack)i))
			continue;
		un_appendf(buf, len, "%s%s %s", first ? " (the rest: " : ", ",
			   un_pct(an_stack_user_share(set, (enum an_ustack)i), 1).s, why[i]);
		first = false;
	}
	if (!first)
		un_appendf(buf, len, ")");
}

/* "98.2% of off-CPU time (the rest: ...)": one set's unwound share and why the rest was not */
static void unwound_part(char *buf, size_t len, const struct an_stackset *set, const char *sep,
			 const char *what)
{
	if (set->total)
		un_appendf(buf, len, "%s%s", sep, un_pct(an_stack_unwound_share(set), 1).s);
	else
		un_appendf(buf, len, "%sunavailable", sep);
	un_appendf(buf, len, " of %s", what);
	not_unwound(buf, len, set);
}

bool an_unwind_line(const struct an_run *run, char *buf, size_t len)
{
	if (!len)
		return false;
	buf[0] = 0;
	if (!run->ucopy_ok)
		return false;
	un_appendf(buf, len,
		   "user stacks: %s copied for unwinding (%s, %" PRIu64 " copies, %" PRIu64
		   " switch-outs unwound before, %" PRIu64 " over the budget, %" PRIu64
		   " failed, %" PRIu64 " lost, %" PRIu64 " not unwindable); unwound with the CFI "
		   "to the thread's start: ",
		   un_bytes(run->ucopy_bytes).s, un_rate(run->ucopy_bps).s, run->ucopies,
		   run->ucopy_reused, run->ucopy_skipped, run->ucopy_failed, run->ucopy_lost,
		   run->ucopy_unwind_failed);
	unwound_part(buf, len, &run->oncpu, "", "on-CPU samples");
	unwound_part(buf, len, &run->offcpu, ", ", "off-CPU time");
	un_appendf(buf, len, "; frame pointers where not copied, [truncated] where they or a "
			     "short copy stop");
	return true;
}

/* ---- the state frames, split by kind ---- */

static const char *const other_kind_names[] = {
#define AN_OWK_NAME(name, str) str,
	TL_OTHER_KINDS(AN_OWK_NAME)
#undef AN_OWK_NAME
	"other",
};

unsigned an_state_slots(enum tl_state st)
{
	switch (st) {
	case TL_IO_WAIT: return WT_NIO_SLOTS;
	case TL_LOCK_WAIT: return WT_NLK_SLOTS;
	case TL_OTHER_WAIT: return WT_NOW_SLOTS;
	default: return 0;
	}
}

unsigned an_kind_slot(enum tl_state st, unsigned k)
{
	switch (st) {
	case TL_IO_WAIT: return wt_io_slot(k);
	case TL_LOCK_WAIT: return wt_lock_slot(k);
	case TL_OTHER_WAIT: return wt_other_slot(k);
	default: return 0;
	}
}

const char *an_slot_name(enum tl_state st, unsigned slot)
{
	if (slot >= an_state_slots(st))
		return NULL;
	switch (st) {
	case TL_IO_WAIT: return wt_io_kind_name(slot + 1);
	case TL_LOCK_WAIT: return wt_lock_kind_name(slot + 1);
	default: return other_kind_names[slot];
	}
}

char *an_state_frame(char *buf, size_t len, enum tl_state st, unsigned slot)
{
	const char *k = an_slot_name(st, slot);

	snprintf(buf, len, "%s%s%s", tl_state_name(st), k ? ": " : "", k ? k : "");
	return buf;
}

int an_state_frame_parse(const char *name, size_t n, int *slot)
{
	const char *colon = memchr(name, ':', n);
	size_t sn = colon ? (size_t)(colon - name) : n;

	*slot = -1;
	for (int st = 0; st < TL_NSTATES; st++) {
		const char *s = tl_state_name((enum tl_state)st);

		if (strlen(s) != sn || memcmp(s, name, sn))
			continue;
		if (!colon)
			return st;
		if (n < sn + 2 || colon[1] != ' ')
			return -1;
		for (unsigned k = 0; k < an_state_slots((enum tl_state)st); k++) {
			const char *kn = an_slot_name((enum tl_state)st, k);

			if (strlen(kn) == n - sn - 2 && !memcmp(kn, colon + 2, n - sn - 2)) {
				*slot = (int)k;
				return st;
			}
		}
		return -1;
	}
	return -1;
}

bool an_thread_slot_ns(const struct an_thread *th, enum tl_state st, uint64_t *ns)
{
	const uint64_t *v = st == TL_IO_WAIT	 ? th->io_wait_by_kind_ns
			    : st == TL_LOCK_WAIT ? th->lock_wait_by_kind_ns
			    : st == TL_OTHER_WAIT ? th->other_wait_by_kind_ns
						  : NULL;

	if (!v || !(st == TL_OTHER_WAIT ? th->other_kind_ok : th->by_kind_ok))
		return false;
	memcpy(ns, v, an_state_slots(st) * sizeof(*ns));
	return true;
}

/* Split us among n weights in proportion, by largest remainders (the lower index between
 * equals): q sums to us. 0 or -ENOMEM. */
static int lr_split(uint64_t us, const uint64_t *weights, size_t n, uint64_t *q)
{
	uint64_t wsum = 0, given = 0;
	struct share *r;

	for (size_t i = 0; i < n; i++)
		wsum += weights[i];
	if (!wsum)
		return 0;
	r = calloc(n, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned __int128 x = (unsigned __int128)us * weights[i];

		q[i] = (uint64_t)(x / wsum);
		r[i].i = i;
		r[i].rem = (uint64_t)(x % wsum);
		given += q[i];
	}
	/* what the floors left (fewer µs than stacks) goes to the largest remainders */
	qsort(r, n, sizeof(*r), share_cmp);
	for (size_t k = 0; given < us && k < n; k++, given++)
		q[r[k].i]++;
	free(r);
	return 0;
}

/* an_wall_add_exact's sharing, of us already rounded. */
static int add_exact_us(struct an_stackset *wall, const char *const *frames,
			const uint64_t *weights, size_t n, uint64_t us, const char *none)
{
	uint64_t wsum = 0, *q;
	int ret;

	for (size_t i = 0; i < n; i++)
		wsum += weights[i];
	if (!us)
		return 0;
	if (!wsum)
		return an_stack_add(wall, none, us);
	q = calloc(n, sizeof(*q));
	if (!q)
		return -ENOMEM;
	ret = lr_split(us, weights, n, q);
	for (size_t i = 0; i < n && !ret; i++)
		if (q[i])
			ret = an_stack_add(wall, frames[i], q[i]);
	free(q);
	return ret;
}

int an_wall_add_split(struct an_stackset *wall, const char *const *frames,
		      const uint64_t *weights, const unsigned *slot, size_t n, uint64_t exact_ns,
		      const uint64_t *slot_ns, unsigned nslots, const char *const *none)
{
	uint64_t us = exact_ns / 1000 + (exact_ns % 1000 >= 500), sum = 0, given = 0;
	uint64_t q[AN_MAX_SLOTS];
	struct share r[AN_MAX_SLOTS];
	const char **fr = NULL;
	uint64_t *w = NULL;
	int ret = 0;

	if (nslots > AN_MAX_SLOTS)
		return -EINVAL;
	for (unsigned k = 0; k < nslots; k++)
		sum += slot_ns[k];
	for (size_t i = 0; i < n; i++)
		if (slot[i] >= nslots)
			return -EINVAL;
	if (sum != exact_ns)
		return -EINVAL;
	for (unsigned k = 0; k < nslots; k++) {
		q[k] = slot_ns[k] / 1000;
		r[k].i = k;
		r[k].rem = slot_ns[k] % 1000;
		given += q[k];
	}
	qsort(r, nslots, sizeof(*r), share_cmp);
	for (unsigned k = 0; given < us && k < nslots; k++, given++)
		q[r[k].i]++;
	fr = malloc((n ? n : 1) * sizeof(*fr));
	w = malloc((n ? n : 1) * sizeof(*w));
	if (!fr || !w) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned k = 0; k < nslots && !ret; k++) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (slot[i] == k) {
				fr[m] = frames[i];
				w[m++] = weights[i];
			}
		ret = add_exact_us(wall, fr, w, m, q[k], none[k]);
	}
out:
	free(fr);
	free(w);
	return ret;
}

int an_wall_add_exact(struct an_stackset *wall, const char *const *frames,
		      const uint64_t *weights, size_t n, uint64_t exact_ns, const char *none)
{
	uint64_t us = exact_ns / 1000 + (exact_ns % 1000 >= 500);

	return add_exact_us(wall, frames, weights, n, us, none);
}

/*
 * On-CPU stacks are counted in samples and off-CPU ones in ns; the wall-clock view puts
 * both on one axis of time. A sample stands for 1/hz s of running.
 */
int an_run_wall(struct an_run *run)
{
	int ret = 0;

	an_stackset_free(&run->wall);
	if (run->sample_hz)
		ret = add_scaled(&run->wall, &run->oncpu, 1e6 / run->sample_hz);
	if (!ret)
		ret = add_scaled(&run->wall, &run->offcpu, 1e-3);
	run->wall.errors = run->oncpu.errors + run->offcpu.errors;
	memcpy(run->wall.unavailable, run->oncpu.unavailable, sizeof(run->wall.unavailable));
	return ret;
}

/* ---- freeing ---- */

int an_run_set_processes(struct an_run *run, const struct an_process *p, size_t n)
{
	struct an_process *v = NULL;

	if (n) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, p, n * sizeof(*v));
	}
	for (size_t i = 0; i < n; i++) {
		v[i].nthreads = 0;
		v[i].stolen_ns = v[i].reads = v[i].bytes_read = v[i].ctx_switches = 0;
		memset(v[i].bytes_read_by_kind, 0, sizeof(v[i].bytes_read_by_kind));
		v[i].bytes_kind_ok = true;
		v[i].bytes_read_direct = 0;
		v[i].bytes_direct_ok = true;
		memset(v[i].states_ns, 0, sizeof(v[i].states_ns));
		v[i].comm[sizeof(v[i].comm) - 1] = v[i].cmdline[sizeof(v[i].cmdline) - 1] = '\0';
	}
	for (size_t t = 0; t < run->nthreads; t++) {
		const struct an_thread *th = &run->threads[t];

		for (size_t i = n; i-- > 0;) {
			struct an_process *o = &v[i];

			if (o->pid != th->pid)
				continue;
			o->nthreads++;
			o->stolen_ns += th->stolen_ns;
			o->reads += th->reads;
			o->bytes_read += th->bytes_read;
			for (unsigned k = 0; k < WT_NIO_SLOTS; k++)
				o->bytes_read_by_kind[k] += th->bytes_read_by_kind[k];
			o->bytes_kind_ok &= th->bytes_kind_ok;
			o->bytes_read_direct += th->bytes_read_direct;
			o->bytes_direct_ok &= th->bytes_direct_ok;
			o->ctx_switches += th->ctx_switches;
			for (int s = 0; s < TL_NSTATES; s++)
				o->states_ns[s] += th->states_ns[s];
			break;
		}
	}
	free(run->processes);
	run->processes = v;
	run->nprocesses = n;
	return 0;
}

static int by_wait(const void *a, const void *b)
{
	const struct an_sockpeer *x = a, *y = b;

	if (x->wait_ns != y->wait_ns)
		return x->wait_ns > y->wait_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int an_run_set_sockpeers(struct an_run *run, const struct an_sockpeer *p, size_t n)
{
	struct an_sockpeer *v = NULL;

	if (n) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, p, n * sizeof(*v));
		for (size_t i = 0; i < n; i++) {
			v[i].wait_ns = v[i].recv_wait_ns + v[i].poll_wait_ns;
			v[i].comm[sizeof(v[i].comm) - 1] = v[i].addr[sizeof(v[i].addr) - 1] = '\0';
			v[i].peer_comm[sizeof(v[i].peer_comm) - 1] = '\0';
			v[i].peer_cmdline[sizeof(v[i].peer_cmdline) - 1] = '\0';
		}
		qsort(v, n, sizeof(*v), by_wait);
	}
	free(run->sockpeers);
	run->sockpeers = v;
	run->nsockpeers = n;
	return 0;
}

void an_repeat_of(const struct an_run *run, struct an_repeat *r)
{
	memset(r, 0, sizeof(*r));
	r->wall_ns = run->wall_ns;
	r->oncpu_ns = an_run_oncpu_ns(run);
	r->io_ns = run->io_ns;
	r->exposed_io_ns = run->exposed_io_ns;
	r->hidden_io = run->hidden_io;
	r->hidden_io_ok = run->hidden_io_ok;
}

size_t an_median_index(const uint64_t *walls, size_t n)
{
	/* the element with (n-1)/2 others strictly below it, ties broken by order */
	for (size_t i = 0; i < n; i++) {
		size_t below = 0, equal_before = 0;

		for (size_t k = 0; k < n; k++) {
			if (walls[k] < walls[i])
				below++;
			else if (walls[k] == walls[i] && k < i)
				equal_before++;
		}
		if (below + equal_before == (n - 1) / 2)
			return i;
	}
	return 0;
}

void an_run_set_repeats(struct an_run *run, struct an_repeat *reps, size_t n)
{
	if (run->repeats != reps)
		free(run->repeats);
	run->repeats = reps;
	run->nrepeats = reps ? n : 0;
	repeat_spread(run);
}

int an_report_fold_repeats(struct an_report *rep)
{
	struct an_run *folded = calloc(rep->nruns ? rep->nruns : 1, sizeof(*folded));
	size_t *idx = calloc(rep->nruns ? rep->nruns : 1, sizeof(*idx));
	uint64_t *walls = calloc(rep->nruns ? rep->nruns : 1, sizeof(*walls));
	bool *taken = calloc(rep->nruns ? rep->nruns : 1, sizeof(*taken));
	struct an_repeat **reps = calloc(rep->nruns ? rep->nruns : 1, sizeof(*reps));
	size_t out = 0, ngroups = 0;
	int ret = -ENOMEM;

	if (!folded || !idx || !walls || !taken || !reps)
		goto out;
	/* first every allocation, so that a failure leaves the report as it was */
	for (size_t i = 0; i < rep->nruns; i++) {
		size_t n = 0;

		if (taken[i])
			continue;
		for (size_t k = i; k < rep->nruns; k++)
			if (!taken[k] && !strcmp(rep->runs[k].label, rep->runs[i].label))
				taken[k] = true, n++;
		if (n > 1 && !(reps[ngroups] = calloc(n, sizeof(**reps))))
			goto out;
		ngroups++;
	}
	memset(taken, 0, rep->nruns * sizeof(*taken));
	for (size_t i = 0, g = 0; i < rep->nruns; i++) {
		size_t n = 0, m;

		if (taken[i])
			continue;
		for (size_t k = i; k < rep->nruns; k++) {
			if (taken[k] || strcmp(rep->runs[k].label, rep->runs[i].label))
				continue;
			taken[k] = true;
			idx[n] = k;
			walls[n++] = rep->runs[k].wall_ns;
		}
		m = an_median_index(walls, n);
		for (size_t j = 0; j < n && n > 1; j++)
			an_repeat_of(&rep->runs[idx[j]], &reps[g][j]);
		folded[out] = rep->runs[idx[m]];
		memset(&rep->runs[idx[m]], 0, sizeof(rep->runs[idx[m]]));
		for (size_t j = 0; j < n; j++)
			an_run_free(&rep->runs[idx[j]]);
		an_run_set_repeats(&folded[out++], reps[g], n > 1 ? n : 0);
		reps[g++] = NULL;
	}
	free(rep->runs);
	rep->runs = folded;
	rep->nruns = out;
	folded = NULL;
	ret = 0;
out:
	for (size_t g = 0; reps && g < ngroups; g++)
		free(reps[g]);
	free(reps);
	free(folded);
	free(idx);
	free(walls);
	free(taken);
	return ret;
}

void an_run_free(struct an_run *run)
{
	if (!run)
		return;
	free(run->repeats);
	run->repeats = NULL;
	run->nrepeats = 0;
	free(run->threads);
	run->threads = NULL;
	run->nthreads = 0;
	free(run->processes);
	run->processes = NULL;
	run->nprocesses = 0;
	free(run->sockpeers);
	run->sockpeers = NULL;
	run->nsockpeers = 0;
	an_stackset_free(&run->oncpu);
	an_stackset_free(&run->offcpu);
	an_stackset_free(&run->wall);
	wt_locks_free(run->locks, run->nlocks);
	run->locks = NULL;
	run->nlocks = 0;
	tl_free(run->tl);
	run->tl = NULL;
}

void an_report_free(struct an_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->nruns; i++)
		an_run_free(&rep->runs[i]);
	free(rep->runs);
	rep->runs = NULL;
	rep->nruns = 0;
	if (rep->command) {
		for (char **p = rep->command; *p; p++)
			free(*p);
		free(rep->command);
		rep->command = NULL;
	}
}
