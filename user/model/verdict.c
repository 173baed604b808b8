/* verdict.c - the rule table: why a run was (or was not) faster, each finding with its numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "verdict.h"

/*
 * Every threshold of every rule, in one place. A rule fires when its metric is at or past
 * its threshold (>= for "at least", < for "below"); an unavailable input never fires.
 */
/* a bound explains a line from this share of the wall (the largest bound always does) */
#define BOUND_MIN_SHARE 0.20
#define PAGE_CACHE_MIN_HIT 0.90		/* file reads' hit ratio */
#define PAGE_CACHE_MIN_READ_ONCPU 0.80	/* io_cpu / (io_cpu + io_wait) */
#define CPU_SAT_MIN_PAR_FRAC 0.85	/* CPUs full: parallelism >= this x ncpu, or ... */
#define CPU_SAT_MIN_RUNNABLE 0.20	/* ... runnable / (on-CPU + runnable) >= this, */
#define CPU_SAT_MIN_RUNNABLE_WALL 0.10	/*   runnable thread-time >= this of the wall, */
/*
 *   the machine's CPUs idle less than this: "full" is then the machine's figure too. At
 *   0.25, make -j2 at parallelism 1.07-1.25 of 2 with the machine idle 21-23% of the time
 *   read "the CPUs were full": its threads queued behind one another and iotrace's
 *   consumer while a quarter of the machine idled.
 */
#define CPU_SAT_MAX_IDLE 0.10
#define WORKER_MIN_ONCPU 0.05		/* a thread worked: on CPU >= this of its lifetime */
#define SERIAL_MIN_CAP 0.25		/* no thread ready for >= this of ncpu x wall */
#define WAKE_MIN_CAP 0.05		/* ready threads, idle CPUs: >= this of ncpu x wall */
#define LOCK_MIN_CAP 0.10		/* lock waiters, idle CPUs: >= this of ncpu x wall */
/* without wait kinds, the GIL case by its signature: */
#define LOCK_MIN_THREADS 2		/*   working threads (computing >= ... */
#define LOCK_WORKER_MIN_ONCPU 0.05	/*   ... this of their lifetime) */
#define LOCK_MAX_PAR 1.20		/*   parallelism <= this ("about one") */
#define LOCK_MIN_SHARE 0.20		/*   lock_wait / lifetime of the working threads */
#define DISK_MIN_BYTES (1ULL << 20)	/* block bytes: less is metadata, not a workload */
/* disk-bound: block bytes / wall >= AN_DISK_BOUND_SHARE (0.90) of the measured ceiling */
#define EXPOSED_MAX_HIDDEN 0.50		/* in-flight advice: hidden_io below this, */
#define EXPOSED_MIN_DEVICE 0.10		/*   storage bound >= this of the wall, */
#define EXPOSED_MIN_APART 0.05		/*   compute apart from I/O >= this of the wall, */
					/*   the device below its measured ceiling */
#define OVERHEAD_MAX_SPEEDUP 1.00	/* slower than sync, ... */
#define OVERHEAD_MIN_LOSS 0.02		/* ... by >= this of sync's wall; the costs that grew: */
#define OVERHEAD_MIN_SWITCH_GROWTH 2.0	/*   context switches >= this x sync's */
#define OVERHEAD_MIN_IOCPU_GROWTH 1.25	/*   io_cpu ns >= this x sync's */
#define HIDDEN_MIN 0.80			/* hidden_io ... */
#define HIDDEN_MIN_IO 0.10		/* ... with io_ns >= this of the wall */
#define NEAR_IDEAL_MIN 0.90		/* ideal_fraction */
/* steal at least this share of the threads' on-CPU time (or the machine's CPU time): a note */
#define STEAL_MIN_SHARE 0.05
#define ANSWER_MIN_SPEEDUP 1.10		/* closing answer: "yes" needs at least this */
#define HANDOFF_MIN_SHARE 0.01		/* a socket's untraced other end: waited >= this of the wall */
/* the reader: one of several processes read at least this share of the run's bytes ... */
#define READER_MIN_SHARE 0.75		/* (a pipeline's bytes are read twice: file, pipe) */
#define READER_MIN_BYTES (1ULL << 20)	/* ... and at least this */
#define READER_MIN_PART 0.01		/* a part of its life is said from this share of it */

/* How a run the user stopped is told (an_run.interrupted): not as a signal's exit status. */
#define INTERRUPTED "interrupted by the user (Ctrl-C)"

/* ---- formatting of evidence ---- */

struct num {
	char s[32];
};

/* A share in a sentence: whole percents, but never "0%" for some nor "100%" for less. */
static struct num pct(double x)
{
	struct num n;

	snprintf(n.s, sizeof(n.s), "%s", un_pct(x, 0).s);
	return n;
}

/*
 * A number of CPUs (CPU time over the wall) to two decimals, never "0.00" for some: a
 * consumer that used 0.4 ms of CPU in a 100 ms run used "<0.01", not none.
 */
static struct num cpus_used(double x)
{
	struct num n;

	if (x > 0 && x < 0.005)
		snprintf(n.s, sizeof(n.s), "<0.01");
	else
		snprintf(n.s, sizeof(n.s), "%.2f", x > 0 ? x : 0.0);
	return n;
}

static double share(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : 0.0;
}

static unsigned ncpu_of(const struct an_run *run, const struct an_report *rep)
{
	return run->ncpu ? run->ncpu : rep ? rep->ncpu : 0;
}

static const char *cpus(unsigned n)
{
	return n == 1 ? "CPU" : "CPUs";
}

/* The tracer's count when it has one, else the switch-outs the timeline saw. */
static uint64_t switches_of(const struct an_run *r)
{
	return r->c.ctx_switches ? r->c.ctx_switches : r->switches;
}

/* ---- the rules ---- */

/* The GIL case: several threads want the CPU, only about one runs, and they queue on a lock. */
/*
 * Parallelism less what the hypervisor stole: the threads' on-CPU time includes it, and a
 * thread outside the lock (reading, for a GIL) that its vCPU's steal keeps on CPU longer
 * seems to run beside the holder all that while (seen: a GIL run at 1.33-1.56 with a
 * quarter of the machine's CPU stolen). The run's parallelism when steal is unmeasured.
 */
static double ran_parallelism(const struct an_run *run)
{
	uint64_t oncpu = an_run_oncpu_ns(run), ran = an_run_ran_ns(run);

	if (!oncpu || !ran)
		return run->parallelism;
	return run->parallelism * (double)ran / (double)oncpu;
}

/* ---- what bounded the run: the attribution every cause reads ---- */

/*
 * A run's bounds and capacity (analysis.h's bound_ns, unused_cpu_ns) and what the device
 * delivered against its ceiling: the facts the rules below are functions of.
 */
struct attr {
	bool ok;		/* bounds measured (files before them have none) */
	uint64_t wall, cap;	/* wall; ncpu x wall (0: capacity unknown) */
	const uint64_t *b, *u;
	int top;		/* the largest bound */
	unsigned ncpu;
	bool disk_bound, measured; /* >= AN_DISK_BOUND_SHARE of a measured ceiling */
	double disk_share, ceiling, thru; /* of the ceiling; it; block bytes / wall */
	bool thru_ok;
};

static void attr_of(const struct an_run *run, const struct an_report *rep, struct attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ok = run->bound_ok && run->wall_ns;
	a->wall = run->wall_ns;
	a->ncpu = ncpu_of(run, rep);
	a->cap = run->unused_cpu_ok ? (uint64_t)a->ncpu * run->wall_ns : 0;
	a->b = run->bound_ns;
	a->u = run->unused_cpu_ns;
	for (int k = 1; k < TL_NBOUNDS; k++)
		if (a->b[k] > a->b[a->top])
			a->top = k;
	a->disk_bound = an_run_disk_bound(run, rep, &a->disk_share);
	if (rep)
		an_device_ceiling(rep, &a->ceiling, &a->measured);
	a->thru_ok = an_run_throughput(run, &a->thru) && run->c.block_bytes >= DISK_MIN_BYTES;
}

/* Does bound k explain a line: the largest always, any other from BOUND_MIN_SHARE of the wall. */
static bool bound_holds(const struct attr *a, int k)
{
	return a->ok && a->b[k] && (k == a->top || share(a->b[k], a->wall) >= BOUND_MIN_SHARE);
}

/* "62% of the wall (310 ms)" */
static void of_wall(char *t, size_t len, uint64_t ns, uint64_t wall)
{
	un_appendf(t, len, "%s of the wall (%s)", pct(share(ns, wall)).s, un_dur(ns).s);
}

/* The run's io_wait / lock_wait (thread time) of one kind of kinds.h; 0 without kinds. */
static uint64_t io_wait_of(const struct an_run *run, enum tl_io_kind k)
{
	return run->by_kind_ok ? run->io_wait_by_kind_ns[wt_io_slot(k)] : 0;
}

static uint64_t lock_wait_of(const struct an_run *run, enum tl_lock_kind k)
{
	return run->by_kind_ok ? run->lock_wait_by_kind_ns[wt_lock_slot(k)] : 0;
}

/*
 * Append "NAME DUR" for each of n (name, ns) pairs with ns > 0, separated by ", ";
 * returns how many it wrote.
 */
static int list_ns(char *t, size_t len, const char *const *name, const uint64_t *ns, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (ns[i])
			un_appendf(t, len, "%s%s %s", k++ ? ", " : "", name[i], un_dur(ns[i]).s);
	return k;
}

/* Share of the machine's CPU time (ncpu x wall) that was idle, or -1 if unknown. */
static double machine_idle(const struct an_run *run)
{
	uint64_t all = run->machine_busy_ns + run->machine_idle_ns + run->machine_steal_ns;

	return run->machine_ok && all ? share(run->machine_idle_ns, all) : -1.0;
}

/* Threads queued for a CPU a real share of their ready time and of the wall. */
static bool queued(const struct an_run *run)
{
	return run->runnable_share_ok && run->runnable_share >= CPU_SAT_MIN_RUNNABLE &&
	       run->wall_ns &&
	       share(run->states_ns[TL_RUNNABLE], run->wall_ns) >= CPU_SAT_MIN_RUNNABLE_WALL;
}

/*
 * The CPUs were full: this run's threads filled them, or they queued for CPUs the machine's
 * other work held (its CPUs idle under CPU_SAT_MAX_IDLE of the time).
 */
static bool saturated(const struct an_run *run, const struct attr *a)
{
	double idle = machine_idle(run);

	return a->ncpu && (bound_holds(a, TL_B_CPU) || bound_holds(a, TL_B_READ_CPU)) &&
	       (run->parallelism >= CPU_SAT_MIN_PAR_FRAC * a->ncpu ||
		(queued(run) && idle >= 0 && idle < CPU_SAT_MAX_IDLE));
}

/* Threads that did the work: on CPU at least WORKER_MIN_ONCPU of their lifetime. */
static size_t workers(const struct an_run *run, const struct an_thread **busiest)
{
	uint64_t best = 0;
	size_t n = 0;

	*busiest = NULL;
	for (size_t i = 0; i < run->nthreads; i++) {
		const struct an_thread *th = &run->threads[i];
		uint64_t on = th->states_ns[TL_COMPUTE] + th->states_ns[TL_IO_CPU];

		if (th->lifetime_ns && share(on, th->lifetime_ns) >= WORKER_MIN_ONCPU)
			n++;
		if (on > best) {
			best = on;
			*busiest = th;
		}
	}
	return n;
}

/*
 * iotrace's own part of the machine's other work, for the lines that blame that work: the
 * probes follow the traced processes only, so the consumer's CPU (draining, symbols,
 * unwinding) is "other work" to them. "; of the 90.0 ms of CPU that other work used,
 * 46.3 ms (most of it) was iotrace's own tracing, 16% of the machine's CPU time". The
 * other work's total comes from /proc/stat's ticks: when they come to no more than
 * iotrace's exact figure, only iotrace's is said. Nothing when iotrace's CPU is unknown.
 */
static void tracer_part(char *t, size_t len, const struct an_run *run)
{
	uint64_t self, other;

	if (!an_run_tracer_ns(run, &self))
		return;
	if (an_run_other_work_ns(run, &other) && other > self)
		un_appendf(t, len, "; of the %s of CPU that other work used, %s%s was iotrace's own "
			    "tracing",
		    un_dur(other).s, un_dur(self).s, 2 * self >= other ? " (most of it)" : "");
	else
		un_appendf(t, len, "; of that other work, %s of CPU was iotrace's own tracing",
		    un_dur(self).s);
	if (run->tracer_cpu_share_ok)
		un_appendf(t, len, ", %s of the machine's CPU time", pct(run->tracer_cpu_share).s);
}

/* ---- the rules ---- */

static bool rule_cpu_saturated(const struct an_run *run, const struct an_run *sync,
			       const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (!saturated(run, &a))
		return false;
	*sh = share(a.b[TL_B_CPU] + a.b[TL_B_READ_CPU], a.wall);
	snprintf(t, len, "the CPUs were full: computing and copying held ");
	of_wall(t, len, a.b[TL_B_CPU] + a.b[TL_B_READ_CPU], a.wall);
	un_appendf(t, len, " at parallelism %.2f of %u %s", run->parallelism, a.ncpu, cpus(a.ncpu));
	if (run->runnable_share_ok)
		un_appendf(t, len, ", %s of ready time spent waiting for a CPU", pct(run->runnable_share).s);
	if (run->parallelism < CPU_SAT_MIN_PAR_FRAC * a.ncpu) {
		un_appendf(t, len, " while the machine's other work held them (its CPUs idle %s of the "
			    "time",
		    pct(machine_idle(run)).s);
		tracer_part(t, len, run);
		un_appendf(t, len, ")");
	}
	return true;
}

/*
 * Fewer threads on CPU than CPUs, and how long: the concurrency histogram's bins from one
 * thread up, each of at least 1% of the wall (": one thread on CPU at a time for 67% of the
 * wall (63.3 ms), 2 for 29%"). What kept a compute-bound run below its CPUs: serial
 * sections, said as measured rather than as full CPUs. Nothing at ncpu or past it, or
 * without the histogram (files before it).
 */
static void serial_sections(char *t, size_t len, const struct an_run *run, unsigned ncpu)
{
	unsigned top = ncpu < AN_MAX_CPUS ? ncpu : AN_MAX_CPUS;

	if (ncpu < 2 || !run->wall_ns || run->parallelism >= (double)ncpu ||
	    share(run->concurrency_ns[1], run->wall_ns) < 0.01)
		return;
	un_appendf(t, len, ": one thread on CPU at a time for %s of the wall (%s)",
	    pct(share(run->concurrency_ns[1], run->wall_ns)).s, un_dur(run->concurrency_ns[1]).s);
	for (unsigned k = 2; k <= top; k++)
		if (share(run->concurrency_ns[k], run->wall_ns) >= 0.01)
			un_appendf(t, len, ", %u at once for %s", k,
			    pct(share(run->concurrency_ns[k], run->wall_ns)).s);
}

static bool rule_cpu(const struct an_run *run, const struct an_run *sync,
		     const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (saturated(run, &a) || !bound_holds(&a, TL_B_CPU))
		return false;
	*sh = share(a.b[TL_B_CPU], a.wall);
	snprintf(t, len, "computing held ");
	of_wall(t, len, a.b[TL_B_CPU], a.wall);
	un_appendf(t, len, " at parallelism %.2f of %u %s", run->parallelism, a.ncpu, cpus(a.ncpu));
	serial_sections(t, len, run, a.ncpu);
	return true;
}

/*
 * Were the reads mostly of files? A hit ratio says nothing of socket or pipe reads (curl's
 * receives count as reads and fill no page cache). Without kinds (a saved run from before
 * them: everything in "other"), as before.
 */
static bool reads_of_files(const struct an_run *run)
{
	unsigned f = wt_io_slot(TL_IOK_FILE), o = wt_io_slot(TL_IOK_OTHER);
	uint64_t all = 0, file = run->io_cpu_by_kind_ns[f] + run->io_wait_by_kind_ns[f];

	for (unsigned i = 0; i < WT_NIO_SLOTS; i++)
		all += run->io_cpu_by_kind_ns[i] + run->io_wait_by_kind_ns[i];
	if (all == run->io_cpu_by_kind_ns[o] + run->io_wait_by_kind_ns[o])
		return true;
	return 2 * file >= all;
}

static bool page_cache(const struct an_run *run)
{
	return run->hit_ratio_ok && run->read_oncpu_share_ok &&
	       run->hit_ratio >= PAGE_CACHE_MIN_HIT &&
	       run->read_oncpu_share >= PAGE_CACHE_MIN_READ_ONCPU && reads_of_files(run);
}

static bool rule_page_cache(const struct an_run *run, const struct an_run *sync,
			    const struct an_report *rep, char *t, size_t len, double *sh)
{
	(void)sync;
	(void)rep;
	if (!page_cache(run))
		return false;
	snprintf(t, len,
		 "file reads came from the page cache (they hit it %s; %s of read time on CPU "
		 "copying: %s on CPU, %s waiting)",
		 pct(run->hit_ratio).s, pct(run->read_oncpu_share).s,
		 un_dur(run->states_ns[TL_IO_CPU]).s, un_dur(run->states_ns[TL_IO_WAIT]).s);
	if (run->bound_ok) {
		*sh = share(run->bound_ns[TL_B_READ_CPU], run->wall_ns);
		un_appendf(t, len, "; copying alone held ");
		of_wall(t, len, run->bound_ns[TL_B_READ_CPU], run->wall_ns);
	}
	return true;
}

static bool rule_read_cpu(const struct an_run *run, const struct an_run *sync,
			  const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (page_cache(run) || !bound_holds(&a, TL_B_READ_CPU))
		return false;
	*sh = share(a.b[TL_B_READ_CPU], a.wall);
	snprintf(t, len, "reading on the CPU (filling the page cache, copying out) held ");
	of_wall(t, len, a.b[TL_B_READ_CPU], a.wall);
	un_appendf(t, len, " with nothing computing beside it");
	if (run->hit_ratio_ok)
		un_appendf(t, len, "; file reads hit the page cache %s", pct(run->hit_ratio).s);
	return true;
}

static bool rule_disk(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (!a.disk_bound || !a.ok)
		return false;
	*sh = share(a.b[TL_B_DEVICE], a.wall);
	snprintf(t, len, "the disk was the ceiling: %s read at %s, %s of the device's measured %s; "
		 "storage held ",
		 un_bytes(run->c.block_bytes).s, un_rate(a.thru).s, pct(a.disk_share).s,
		 un_rate(a.ceiling).s);
	of_wall(t, len, a.b[TL_B_DEVICE], a.wall);
	return true;
}

static bool rule_device(const struct an_run *run, const struct an_run *sync,
			const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (a.disk_bound || !bound_holds(&a, TL_B_DEVICE))
		return false;
	*sh = share(a.b[TL_B_DEVICE], a.wall);
	snprintf(t, len, "waiting on storage held ");
	of_wall(t, len, a.b[TL_B_DEVICE], a.wall);
	if (a.thru_ok)
		un_appendf(t, len, "; %s read at %s", un_bytes(run->c.block_bytes).s, un_rate(a.thru).s);
	if (a.thru_ok && a.measured)
		un_appendf(t, len, ", %s of the device's measured %s", pct(a.disk_share).s,
		    un_rate(a.ceiling).s);
	else if (a.thru_ok)
		un_appendf(t, len, " (the device's ceiling was not measured)");
	return true;
}

/* Within reach of the ideal bound: little is left to win, by overlap or by idle CPUs. */
static bool near_ideal(const struct an_run *run)
{
	return run->ideal_ok && run->ideal_fraction >= NEAR_IDEAL_MIN;
}

/* Compute that ran while no I/O was under way: what overlapping could still hide. */
static uint64_t unoverlapped_compute(const struct an_run *run)
{
	uint64_t hidden = run->io_ns >= run->exposed_io_ns ? run->io_ns - run->exposed_io_ns : 0;

	return run->computing_ns > hidden ? run->computing_ns - hidden : 0;
}

/*
 * Storage time with compute beside it for little of it, compute apart from the I/O, and a
 * device below its measured ceiling: more reads in flight would both fetch faster and
 * overlap. A disk-bound run gets no such advice (its reads could not arrive faster), nor
 * one whose ceiling is unknown (nobody knows the device had room).
 */
static bool rule_exposed_io(const struct an_run *run, const struct an_run *sync,
			    const struct an_report *rep, char *t, size_t len, double *sh)
{
	uint64_t apart = unoverlapped_compute(run);
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (!a.ok || a.disk_bound || near_ideal(run) || !a.measured || !a.thru_ok ||
	    !run->hidden_io_ok ||
	    run->hidden_io >= EXPOSED_MAX_HIDDEN ||
	    share(a.b[TL_B_DEVICE], a.wall) < EXPOSED_MIN_DEVICE ||
	    share(apart, a.wall) < EXPOSED_MIN_APART)
		return false;
	*sh = share(run->exposed_io_ns, a.wall);
	snprintf(t, len,
		 "I/O was left exposed: %s of I/O time had no compute beside it (%s of the wall) "
		 "and %s of compute ran with no I/O under way, while the device delivered %s of "
		 "its measured %s",
		 un_dur(run->exposed_io_ns).s, pct(*sh).s, un_dur(apart).s, pct(a.disk_share).s,
		 un_rate(a.ceiling).s);
	return true;
}

/*
 * Contention: threads that could have run waited on a mutex or the GIL (their kinds) while
 * CPUs idled, or nothing else happened while they waited. Without the kinds (a report or a
 * kernel before them), the GIL case by its signature: several threads that compute run at
 * a parallelism of about one and wait on futexes a real share of their time.
 */
static bool lock_signature(const struct an_run *run, const struct an_report *rep, double *sh,
			   size_t *nwork, double *ws, double *par)
{
	unsigned ncpu = ncpu_of(run, rep);
	uint64_t lock = 0, life = 0;

	*nwork = 0;
	*par = ran_parallelism(run);
	/* with the kinds, contention is read from the mutex and GIL waits (the bounds) alone:
	 * a main thread in join and an idle pool are not a lock's signature */
	if (run->by_kind_ok)
		return false;
	for (size_t i = 0; i < run->nthreads; i++) {
		const struct an_thread *th = &run->threads[i];

		/* a worker computes: not a main thread parked in join, nor an idle pool */
		if (!th->lifetime_ns ||
		    share(th->states_ns[TL_COMPUTE], th->lifetime_ns) < LOCK_WORKER_MIN_ONCPU)
			continue;
		(*nwork)++;
		lock += th->states_ns[TL_LOCK_WAIT];
		life += th->lifetime_ns;
	}
	*ws = share(lock, life);
	/* on one CPU, parallelism 1 is the CPU's limit, not the lock's */
	if (ncpu < 2 || *nwork < LOCK_MIN_THREADS || *par > LOCK_MAX_PAR || *ws < LOCK_MIN_SHARE)
		return false;
	*sh = share(lock, (uint64_t)ncpu * run->wall_ns);
	if (*sh > 1.0)
		*sh = 1.0;
	return true;
}

/*
 * The run's futex waits were classified (some lock_wait has a kind other than "other"):
 * then contention is its mutex and GIL waits and nothing else; a join or an idle pool's
 * condvar is no lock's queue, whatever the threads' figures look like.
 */
static bool lock_kinds_known(const struct an_run *run)
{
	for (unsigned k = 0; run->by_kind_ok && k < WT_NLK_SLOTS; k++)
		if (k != TL_LK_OTHER - 1 && run->lock_wait_by_kind_ns[k])
			return true;
	return false;
}

/* The GIL's signature, for runs whose futex waits have no kinds (older files, probes). */
static bool gil_signature(const struct an_run *run, const struct an_report *rep, double *sh,
			  size_t *nwork, double *ws, double *par)
{
	return !lock_kinds_known(run) && lock_signature(run, rep, sh, nwork, ws, par);
}

/* Contended locks explain a line: waiters on idle CPUs, or the lock bound. */
static bool contended(const struct attr *a)
{
	return a->ok && ((a->cap && share(a->u[TL_U_LOCK], a->cap) >= LOCK_MIN_CAP) ||
			 bound_holds(a, TL_B_LOCK));
}

static bool rule_lock(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;
	size_t nwork;
	double ws, par;

	(void)sync;
	attr_of(run, rep, &a);
	if (contended(&a) && !a.cap) {
		/* the CPUs unknown: the bound alone (its share is of the wall, not said) */
		snprintf(t, len, "threads waited on contended locks (mutex, GIL) with nothing "
				 "else running for ");
		of_wall(t, len, a.b[TL_B_LOCK], a.wall);
		return true;
	}
	if (contended(&a)) {
		uint64_t mx = lock_wait_of(run, TL_LK_MUTEX), gil = lock_wait_of(run, TL_LK_GIL);

		*sh = share(a.u[TL_U_LOCK], a.cap);
		/* which locks: only mutex and GIL waits count here (time-model.md, "Bounds") */
		if (mx && gil)
			snprintf(t, len, "threads waited on contended locks (a mutex %s, the GIL %s "
					 "of thread time)",
				 un_dur(mx).s, un_dur(gil).s);
		else if (gil)
			snprintf(t, len, "threads waited for the GIL, CPython's interpreter lock (%s "
					 "of thread time)",
				 un_dur(gil).s);
		else if (mx)
			snprintf(t, len, "threads waited on a contended mutex lock (%s of thread time)",
				 un_dur(mx).s);
		else
			snprintf(t, len, "threads waited on contended locks (mutex, GIL)");
		un_appendf(t, len, " while CPUs idled: %s of the CPU capacity (%u %s × the wall), %s",
		    pct(*sh).s, a.ncpu, cpus(a.ncpu), un_dur(a.u[TL_U_LOCK]).s);
		/* the lock bound said when it is worth a word (the GIL's hand-offs: µs) */
		if (share(a.b[TL_B_LOCK], a.wall) >= 0.005) {
			un_appendf(t, len, "; nothing else ran for ");
			of_wall(t, len, a.b[TL_B_LOCK], a.wall);
		}
		/* the lock waited on longest, where a person can find it */
		for (size_t i = 0; i < run->nlocks; i++) {
			const struct wt_lock *l = &run->locks[i];

			if (l->kind != TL_LK_MUTEX && l->kind != TL_LK_GIL)
				continue;
			un_appendf(t, len, "; most on %s (%s): %s in %llu waits by %zu thread%s",
			    l->where[0] ? l->where : "an unnamed word", wt_lock_kind_name(l->kind),
			    un_dur(l->wait_ns).s, (unsigned long long)l->waits, l->nwaiters,
			    l->nwaiters == 1 ? "" : "s");
			break;
		}
		return true;
	}
	if (a.u[TL_U_LOCK] || a.b[TL_B_LOCK] || !gil_signature(run, rep, sh, &nwork, &ws, &par))
		return false;
	snprintf(t, len,
		 "threads took turns on a lock, the GIL case: %zu working threads ran at "
		 "parallelism %.2f on %u %s and spent %s of their time waiting on a lock (futex), "
		 "%s of the CPU capacity",
		 nwork, par, a.ncpu, cpus(a.ncpu), pct(ws).s, pct(*sh).s);
	if (run->parallelism - par >= 0.005)
		un_appendf(t, len, " (parallelism %.2f counting the time the hypervisor stole)",
		    run->parallelism);
	return true;
}


/* Ready threads and none of them running: other work held the CPUs. */
static bool rule_cpu_wait(const struct an_run *run, const struct an_run *sync,
			  const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (!bound_holds(&a, TL_B_CPU_WAIT))
		return false;
	*sh = share(a.b[TL_B_CPU_WAIT], a.wall);
	snprintf(t, len, "threads waited for a CPU with none of them running for ");
	of_wall(t, len, a.b[TL_B_CPU_WAIT], a.wall);
	if (run->machine_ok && run->wall_ns) {
		double w = (double)run->wall_ns;
		double busy = (double)run->machine_busy_ns / w;
		double self = (double)run->machine_iotrace_ns / w;
		double rest = busy - (double)an_run_oncpu_ns(run) / w - self;

		double idle = machine_idle(run);

		/* iotrace's own consumer is one of the others: say how much of it */
		un_appendf(t, len, " (iotrace itself used %s CPUs, the rest of the machine %s",
		    cpus_used(self).s, cpus_used(rest).s);
		if (run->machine_steal_ns)
			un_appendf(t, len, ", the hypervisor took %s",
			    cpus_used((double)run->machine_steal_ns / w).s);
		/*
		 * CPUs idle beside the queue: other work did not hold them all that time, the
		 * threads waited for a wake-up too (the advice's "quieter machine" is then not
		 * the whole story)
		 */
		if (idle >= CPU_SAT_MAX_IDLE)
			un_appendf(t, len, "; the machine's CPUs were idle %s of the time", pct(idle).s);
		un_appendf(t, len, ")");
	}
	return true;
}

/* Runnable threads while CPUs idled: the wait was for a wake-up, not for other work. */
static bool rule_wakeup(const struct an_run *run, const struct an_run *sync,
			const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;
	double idle = machine_idle(run);
	uint64_t ready, hi, lo, other = 0, self;
	bool others;

	(void)sync;
	attr_of(run, rep, &a);
	if (!a.ok || !a.cap)
		return false;
	/*
	 * Ready threads on CPUs this program left unused: each such CPU either idled (a
	 * wake-up not yet done) or ran other programs' work, and the machine's figures are
	 * totals, not instants. So the time on idle CPUs is at most the machine's idle time
	 * (node on a machine 2% idle read "ready while CPUs idled: 7% of the capacity"), and
	 * at least what other work could not have covered: ready less other programs' CPU
	 * time (make -j2 read "15% of the capacity went unused waiting for wake-ups" while
	 * other programs, iotrace's consumer most of it, used more CPU than that ready time;
	 * its 1-4 ms runnable stretches were queueing). The line claims the least.
	 */
	ready = hi = lo = a.u[TL_U_WAKEUP];
	if (idle >= 0 && (double)hi > idle * (double)a.cap)
		hi = (uint64_t)(idle * (double)a.cap);
	others = an_run_other_work_ns(run, &other) && other;
	lo = others ? (ready > other ? ready - other : 0) : hi;
	if (lo > hi)
		lo = hi;
	/* ready threads on CPUs the machine's other work held: the saturation line says it */
	if (share(lo, a.cap) < WAKE_MIN_CAP || saturated(run, &a))
		return false;
	*sh = share(lo, a.cap);
	snprintf(t, len, "threads were ready while CPUs idled: %s%s of the CPU capacity (%s) went "
			 "unused waiting for wake-ups",
		 lo < hi ? "at least " : "", pct(*sh).s, un_dur(lo).s);
	if (lo < hi)
		un_appendf(t, len, ", up to %s (%s)", pct(share(hi, a.cap)).s, un_dur(hi).s);
	if (idle >= 0) {
		un_appendf(t, len, " (the machine's CPUs were idle %s of the time", pct(idle).s);
		if (others && ready > lo) {
			/* what of the ready time other programs may have held, iotrace among them */
			un_appendf(t, len, "; other programs used %s of CPU", un_dur(other).s);
			if (an_run_tracer_ns(run, &self))
				un_appendf(t, len, ", iotrace's own tracing %s of it", un_dur(self).s);
			if (ready > hi)
				un_appendf(t, len, ": they held the CPUs for %s to %s of the %s ready",
				    un_dur(ready - hi).s, un_dur(ready - lo).s, un_dur(ready).s);
			else
				un_appendf(t, len, ": they held the CPUs for up to %s of the %s ready",
				    un_dur(ready - lo).s, un_dur(ready).s);
		}
		un_appendf(t, len, ")");
	}
	return true;
}

/* Less parallel work than CPUs: idle CPUs, and no thread ready to use them. */
static bool rule_serial(const struct an_run *run, const struct an_run *sync,
			const struct an_report *rep, char *t, size_t len, double *sh)
{
	const struct an_thread *busy;
	struct attr a;
	size_t nwork, nw;
	double ls, ws, par;

	(void)sync;
	attr_of(run, rep, &a);

	/*
	 * Work on a CPU bounded the wall (else idle CPUs had nothing to do: a wait elsewhere);
	 * at the disk's ceiling, idle CPUs could not have helped; and threads queued on a
	 * contended lock (or, its kind unknown, taking turns on one: the GIL's signature) were
	 * not short of work: more threads would only queue too (the lock line's advice).
	 */
	if (!a.ok || !a.cap || a.ncpu < 2 || saturated(run, &a) || a.disk_bound ||
	    near_ideal(run) || (!bound_holds(&a, TL_B_CPU) && !bound_holds(&a, TL_B_READ_CPU)) ||
	    share(a.u[TL_U_SERIAL], a.cap) < SERIAL_MIN_CAP || contended(&a) ||
	    (!a.u[TL_U_LOCK] && gil_signature(run, rep, &ls, &nw, &ws, &par)))
		return false;
	nwork = workers(run, &busy);
	*sh = share(a.u[TL_U_SERIAL], a.cap);
	snprintf(t, len,
		 "less parallel work than CPUs: %s of the CPU capacity (%u %s × the wall) went "
		 "unused with no thread ready to run; ",
		 pct(*sh).s, a.ncpu, cpus(a.ncpu));
	if (nwork <= 1)
		un_appendf(t, len, "one thread did the work");
	else
		un_appendf(t, len, "%zu threads worked", nwork);
	if (busy)
		un_appendf(t, len, ", the busiest, %s (%s), on CPU %s (%s of the wall)",
		    busy->role[0] ? busy->role : busy->comm, busy->comm,
		    un_dur(busy->states_ns[TL_COMPUTE] + busy->states_ns[TL_IO_CPU]).s,
		    pct(share(busy->states_ns[TL_COMPUTE] + busy->states_ns[TL_IO_CPU],
			      a.wall)).s);
	return true;
}

static bool rule_peer(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len, double *sh)
{
	uint64_t pipe = io_wait_of(run, TL_IOK_PIPE), sock = io_wait_of(run, TL_IOK_SOCKET), child;
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (!bound_holds(&a, TL_B_PEER))
		return false;
	*sh = share(a.b[TL_B_PEER], a.wall);
	/* which peers: reads of pipes and sockets, a parent waiting for its children */
	child = run->other_kind_ok ? run->other_wait_by_kind_ns[TL_OWK_CHILD - 1] : 0;
	{
		const char *who[3];
		int n = 0;

		if (pipe)
			who[n++] = "on pipes";
		if (sock)
			who[n] = n ? "sockets" : "on sockets", n++;
		if (child)
			who[n] = n ? "child processes" : "for child processes", n++;
		if (!n)
			snprintf(t, len, "waiting on pipes or sockets held ");
		else if (n == 1)
			snprintf(t, len, "waiting %s held ", who[0]);
		else if (n == 2)
			snprintf(t, len, "waiting %s and %s held ", who[0], who[1]);
		else
			snprintf(t, len, "waiting %s, %s and %s held ", who[0], who[1], who[2]);
	}
	of_wall(t, len, a.b[TL_B_PEER], a.wall);
	un_appendf(t, len, ": the work was done %s",
	    (pipe || child) && !sock ? "in another process" : "elsewhere");
	if (pipe || sock || child) {
		static const char *const nm[] = {"pipes", "sockets"};
		uint64_t ns[] = {pipe, sock};

		un_appendf(t, len, " (");
		if (pipe || sock) {
			un_appendf(t, len, "reads waited on ");
			list_ns(t, len, nm, ns, 2);
		}
		if (child)
			un_appendf(t, len, "%sthreads waited %s in wait4/waitid", pipe || sock ? "; " : "",
			    un_dur(child).s);
		un_appendf(t, len, ")");
	}
	return true;
}

static bool rule_idle(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len, double *sh)
{
	struct attr a;

	(void)sync;
	attr_of(run, rep, &a);
	if (!bound_holds(&a, TL_B_IDLE))
		return false;
	*sh = share(a.b[TL_B_IDLE], a.wall);
	snprintf(t, len, "nothing ran or read for ");
	of_wall(t, len, a.b[TL_B_IDLE], a.wall);
	if (!run->by_kind_ok) {
		un_appendf(t, len, ": sleeps, polls, joins, idle pools");
		return true;
	}
	{
		/* the waits that make the idle bound, by what they were, in thread time */
		static const char *const nm[] = {
			"joins (waiting for threads to end)",
			"idle on condition variables (pools, queues)", "other futex waits",
			"polls its own process woke (a thread signalling another)",
			"polls that ran to their timeout", "polls", "sleeps and other waits"};
		const uint64_t *pk = run->poll_wait_by_kind_ns;
		/*
		 * a wait for a child is the peer bound's (wait4), and so is a poll for a pipe's
		 * or a socket's data: not among the idle waits
		 */
		uint64_t ns[] = {lock_wait_of(run, TL_LK_JOIN), lock_wait_of(run, TL_LK_CONDVAR),
				 lock_wait_of(run, TL_LK_OTHER),
				 run->poll_kind_ok ? pk[WT_PW_OWN_PROCESS] : 0,
				 run->poll_kind_ok ? pk[WT_PW_TIMEOUT] : 0,
				 run->poll_kind_ok ? pk[WT_PW_OTHER] : run->states_ns[TL_POLL_WAIT],
				 run->other_kind_ok
					 ? run->other_wait_by_kind_ns[wt_other_slot(TL_OWK_NONE)]
					 : run->states_ns[TL_OTHER_WAIT]};

		un_appendf(t, len, "; its threads' waits (thread time): ");
		if (!list_ns(t, len, nm, ns, 7))
			un_appendf(t, len, "none");
	}
	return true;
}

/*
 * sync.bound - run.bound per bound, largest first: the wall's difference decomposed
 * exactly (each wall sums its bounds). Writes up to `most` terms ("80 ms less device-bound
 * time, 13 ms more cpu_wait-bound time") and what the rest sum to.
 */
static void bound_diff(const struct an_run *run, const struct an_run *sync, char *t, size_t len,
		       int most)
{
	int64_t d[TL_NBOUNDS], rest = 0;
	bool used[TL_NBOUNDS] = {0};
	int n = 0;

	for (int k = 0; k < TL_NBOUNDS; k++)
		d[k] = (int64_t)sync->bound_ns[k] - (int64_t)run->bound_ns[k];
	for (; n < most; n++) {
		int best = -1;

		for (int k = 0; k < TL_NBOUNDS; k++)
			if (!used[k] && d[k] &&
			    (best < 0 || llabs(d[k]) > llabs(d[best])))
				best = k;
		if (best < 0)
			break;
		used[best] = true;
		un_appendf(t, len, "%s%s %s %s-bound time", n ? ", " : "",
		    un_dur((uint64_t)llabs(d[best])).s, d[best] > 0 ? "less" : "more",
		    tl_bound_name((unsigned)best));
	}
	for (int k = 0; k < TL_NBOUNDS; k++)
		if (!used[k])
			rest += d[k];
	if (rest)
		un_appendf(t, len, "%s%s %s elsewhere", n ? ", " : "", un_dur((uint64_t)llabs(rest)).s,
		    rest > 0 ? "less" : "more");
}

/* Slower than sync: what grew, by bound, and the costs that grew with it. */
static bool rule_overhead(const struct an_run *run, const struct an_run *sync,
			  const struct an_report *rep, char *t, size_t len, double *sh)
{
	uint64_t sw = switches_of(run), sw0 = sync ? switches_of(sync) : 0;
	uint64_t ioc = run->states_ns[TL_IO_CPU], ioc0 = sync ? sync->states_ns[TL_IO_CPU] : 0;

	(void)rep;
	if (!sync || sync == run || !strcmp(run->strategy, "sync") || !run->speedup_ok ||
	    run->speedup_vs_sync >= OVERHEAD_MAX_SPEEDUP || run->wall_ns <= sync->wall_ns ||
	    share(run->wall_ns - sync->wall_ns, sync->wall_ns) < OVERHEAD_MIN_LOSS)
		return false;
	*sh = share(run->wall_ns - sync->wall_ns, run->wall_ns);
	snprintf(t, len, "concurrency cost more than it won: %.2f× sync's speed, %s longer",
		 run->speedup_vs_sync, un_dur(run->wall_ns - sync->wall_ns).s);
	if (run->bound_ok && sync->bound_ok) {
		un_appendf(t, len, " (");
		bound_diff(run, sync, t, len, 3);
		un_appendf(t, len, ")");
	}
	if (sw0 && (double)sw >= OVERHEAD_MIN_SWITCH_GROWTH * (double)sw0)
		un_appendf(t, len, ", %.1f× the context switches (%llu vs %llu)", share(sw, sw0),
		    (unsigned long long)sw, (unsigned long long)sw0);
	if (ioc0 && (double)ioc >= OVERHEAD_MIN_IOCPU_GROWTH * (double)ioc0)
		un_appendf(t, len, ", %.2f× the CPU time in reads (%s vs %s)", share(ioc, ioc0),
		    un_dur(ioc).s, un_dur(ioc0).s);
	return true;
}

static bool rule_io_hidden(const struct an_run *run, const struct an_run *sync,
			   const struct an_report *rep, char *t, size_t len, double *sh)
{
	uint64_t peer = io_wait_of(run, TL_IOK_PIPE) + io_wait_of(run, TL_IOK_SOCKET);

	(void)sync;
	(void)rep;
	if (!run->hidden_io_ok || !run->wall_ns || run->hidden_io < HIDDEN_MIN ||
	    share(run->io_ns, run->wall_ns) < HIDDEN_MIN_IO)
		return false;
	*sh = share(run->io_ns - run->exposed_io_ns, run->wall_ns);
	snprintf(t, len,
		 "I/O was hidden behind compute: a thread was computing during %s of the %s with "
		 "I/O under way",
		 pct(run->hidden_io).s, un_dur(run->io_ns).s);
	/* a Pool's parent reading its workers' results is not disk I/O: say what it was */
	if (peer > io_wait_of(run, TL_IOK_FILE))
		un_appendf(t, len, "; its reads blocked mostly on pipes or sockets (%s of %s), waiting for "
			    "other processes' output, not for the disk",
		    un_dur(peer).s, un_dur(run->states_ns[TL_IO_WAIT]).s);
	return true;
}

static bool rule_near_ideal(const struct an_run *run, const struct an_run *sync,
			    const struct an_report *rep, char *t, size_t len, double *sh)
{
	unsigned ncpu = rep && rep->ncpu ? rep->ncpu : ncpu_of(run, rep);
	bool dev = run->ideal_dev_ns > run->ideal_cpu_ns;

	(void)sync;
	(void)sh;
	if (!near_ideal(run))
		return false;
	snprintf(t, len, "it reached %s of the ideal speedup (%.2f× of %.2f×; ideal wall %s, ",
		 pct(run->ideal_fraction).s, run->speedup_vs_sync, run->ideal_speedup,
		 un_dur(run->ideal_wall_ns).s);
	if (dev)
		un_appendf(t, len, "set by the device: %s at %s)", un_bytes(run->ideal_dev_bytes).s,
		    un_rate(run->ideal_dev_rate).s);
	else
		un_appendf(t, len, "set by the CPUs: %s of on-CPU work over %u %s)",
		    un_dur(run->ideal_cpu_ns * ncpu).s, ncpu, cpus(ncpu));
	return true;
}

/* Is the thread a CPython interpreter's? Its comm is the executable's name (python3,
 * python3.11); a script started through its #! line is named after the script instead. */
static bool is_python_comm(const char *comm)
{
	return !strncmp(comm, "python", 6);
}

/* The command of a trace, when it names a python executable ("python3 x.py"). */
static bool is_python_command(const struct an_report *rep)
{
	const char *c, *slash;

	if (!rep || !rep->command || !rep->command[0])
		return false;
	c = rep->command[0];
	slash = strrchr(c, '/');
	return is_python_comm(slash ? slash + 1 : c);
}

/*
 * Not a cause but a reading aid: in a CPython program lock_wait holds the waits for the
 * interpreter lock, which users look for under "GIL", not "futex". Says so plainly whenever
 * the traced executable is python, with how much lock_wait there was.
 */
static bool rule_python(const struct an_run *run, const struct an_run *sync,
			const struct an_report *rep, char *t, size_t len, double *share_unused)
{
	uint64_t lock = 0, life = 0, kind[WT_NLK] = {0}; /* by enum tl_lock_kind */
	size_t npy = 0;
	const char *name = NULL;
	bool all;

	(void)share_unused;
	(void)sync;
	for (size_t i = 0; i < run->nthreads; i++)
		if (is_python_comm(run->threads[i].comm)) {
			if (!name)
				name = run->threads[i].comm;
			npy++;
		}
	if (!npy && !is_python_command(rep))
		return false;
	/* a python named in the command whose threads renamed themselves: count all */
	all = !npy;
	npy = 0;
	for (size_t i = 0; i < run->nthreads; i++) {
		const struct an_thread *th = &run->threads[i];

		if (!all && !is_python_comm(th->comm))
			continue;
		npy++;
		lock += th->states_ns[TL_LOCK_WAIT];
		life += th->lifetime_ns;
		for (unsigned k = 1; k < WT_NLK && th->by_kind_ok; k++)
			kind[k] += th->lock_wait_by_kind_ns[wt_lock_slot(k)];
	}
	if (!run->by_kind_ok) {
		snprintf(t, len,
			 "the traced executable is python (%s): a CPython thread waiting for the "
			 "interpreter lock, the GIL, sleeps in futex, so GIL waits show as lock_wait "
			 "on futex (%s here, %s of the %zu python %s time; a thread waiting in "
			 "join() or on a queue is counted there too)",
			 name ? name : rep->command[0], un_dur(lock).s, pct(share(lock, life)).s,
			 npy, npy == 1 ? "thread's" : "threads'");
		return true;
	}
	/* the GIL's own share, from the futex words in _PyRuntime; join() and queues apart */
	snprintf(t, len,
		 "the traced executable is python (%s): of the %zu python %s lock_wait (futex "
		 "waits, %s), %s was for the interpreter lock, the GIL (%s of their time)",
		 name ? name : rep->command[0], npy, npy == 1 ? "thread's" : "threads'",
		 un_dur(lock).s, un_dur(kind[TL_LK_GIL]).s,
		 pct(share(kind[TL_LK_GIL], life)).s);
	{
		static const char *const nm[] = {"in join() waiting for threads to end",
						 "on other conditions (queues, events, idle pools)",
						 "on other mutexes", "in other futex waits"};
		uint64_t ns[] = {kind[TL_LK_JOIN], kind[TL_LK_CONDVAR], kind[TL_LK_MUTEX],
				 kind[TL_LK_OTHER]};

		for (int i = 0; i < 4; i++)
			if (ns[i])
				un_appendf(t, len, ", %s %s", un_dur(ns[i]).s, nm[i]);
	}
	return true;
}

static bool rule_lost(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len, double *share_unused)
{
	uint64_t ns = run->c.lost_ns > run->gaps_ns ? run->c.lost_ns : run->gaps_ns;
	unsigned long long n = run->c.lost_events;

	(void)share_unused;
	(void)sync;
	(void)rep;
	if (!n && !ns)
		return false;
	snprintf(t, len, "%llu %s lost (%s of thread time", n, n == 1 ? "event was" : "events were",
		 un_dur(ns).s);
	/* the probes' totals rebuild lost stretches exactly (lost_exact_ns): only the order goes */
	if (run->c.lost_exact_ns && run->c.lost_exact_ns >= ns)
		un_appendf(t, len, "; the time in each state there is exact, from the kernel's totals, "
			    "only its order is lost)");
	else if (run->c.lost_exact_ns)
		un_appendf(t, len, "; the time in each state is exact for %s of it, the rest has an "
			    "uncertain state)", un_dur(run->c.lost_exact_ns).s);
	else
		un_appendf(t, len, " with an uncertain state)");
	return true;
}

/*
 * A data-quality note: the hypervisor ran other guests on the vCPUs while the target's
 * threads held them (steal). The switch times iotrace reads are the guest's, so that time
 * counts as on CPU here, where the kernel's own accounting (rusage, schedstat) leaves it
 * out. The probes measure it per thread (stolen_ns); runs saved before they did have only
 * the machine's steal, which bounds it.
 */
static bool rule_steal(const struct an_run *run, const struct an_run *sync,
		       const struct an_report *rep, char *t, size_t len, double *share_unused)
{
	uint64_t all = run->machine_busy_ns + run->machine_idle_ns + run->machine_steal_ns;
	uint64_t oncpu = an_run_oncpu_ns(run);
	double sh;

	(void)share_unused;
	(void)sync;
	(void)rep;
	if (run->stolen_ok) {
		sh = share(run->stolen_ns, oncpu);
		if (!oncpu || sh < STEAL_MIN_SHARE)
			return false;
		snprintf(t, len,
			 "the hypervisor stole %s of the %s the threads were on CPU (%s, steal): "
			 "their vCPUs ran another guest meanwhile",
			 un_dur(run->stolen_ns).s, un_dur(oncpu).s, pct(sh).s);
		return true;
	}
	if (!run->machine_ok || !all)
		return false;
	sh = share(run->machine_steal_ns, all);
	if (sh < STEAL_MIN_SHARE)
		return false;
	snprintf(t, len,
		 "the hypervisor took %s of this machine's CPU time during the run (steal, %s of "
		 "CPU time): a thread on a stolen vCPU counts as on CPU here",
		 pct(sh).s, un_dur(run->machine_steal_ns).s);
	return true;
}

/*
 * What the trace did not cover of a traced program (its processes, an_run.processes): the
 * processes it left behind, still running when the trace ended with it (a daemon, a
 * background job: their work after that is not here); and, to say it was seen, a program
 * that ran setuid (as another user).
 */
static bool rule_visibility(const struct an_run *run, const struct an_run *sync,
			    const struct an_report *rep, char *t, size_t len, double *share_unused)
{
	const struct an_process *root = run->nprocesses ? &run->processes[0] : NULL;
	size_t left = 0, suid = 0, shown = 0;

	(void)share_unused;
	(void)sync;
	(void)rep;
	if (!root)
		return false;
	for (size_t i = 1; i < run->nprocesses; i++)
		left += root->ended && !run->processes[i].ended && !run->processes[i].exit_lost;
	for (size_t i = 0; i < run->nprocesses; i++)
		suid += run->processes[i].setuid;
	if (!left && !suid)
		return false;
	t[0] = '\0';
	if (left) {
		un_appendf(t, len, "%zu process%s outlived the trace (still running when %s ended it):",
		    left, left == 1 ? "" : "es", root->comm[0] ? root->comm : "the command");
		for (size_t i = 1; i < run->nprocesses && shown < 3; i++) {
			const struct an_process *p = &run->processes[i];

			if (p->ended || p->exit_lost)
				continue;
			un_appendf(t, len, "%s %u (%.60s)", shown ? "," : "", p->pid,
			    p->cmdline[0] ? p->cmdline : p->comm);
			shown++;
		}
		if (left > shown)
			un_appendf(t, len, " and %zu more", left - shown);
		un_appendf(t, len, "; what %s did after that is not in this report",
		    left == 1 ? "it" : "they");
	}
	if (suid) {
		shown = 0;
		un_appendf(t, len, "%s%zu process%s ran a setuid program (another effective user):",
		    t[0] ? "; " : "", suid, suid == 1 ? "" : "es");
		for (size_t i = 0; i < run->nprocesses && shown < 3; i++) {
			const struct an_process *p = &run->processes[i];

			if (!p->setuid)
				continue;
			un_appendf(t, len, "%s %u (%.60s)", shown ? "," : "", p->pid,
			    p->cmdline[0] ? p->cmdline : p->comm);
			shown++;
		}
		un_appendf(t, len, ", traced like the rest (the probes see every user's processes)");
	}
	return true;
}

/*
 * Work a traced process handed to a program outside the trace over a socket (an_sockpeer:
 * a server started apart, another host): how long it waited on it, and who that is. That
 * program's work is not in the report; its pid says what to trace too.
 */
static bool rule_handoff(const struct an_run *run, const struct an_run *sync,
			 const struct an_report *rep, char *t, size_t len, double *share_unused)
{
	size_t shown = 0, more = 0;

	(void)share_unused;
	(void)sync;
	(void)rep;
	t[0] = '\0';
	for (size_t i = 0; i < run->nsockpeers; i++) {
		const struct an_sockpeer *p = &run->sockpeers[i];
		bool unix_sock = !strcmp(p->addr, "unix socket");

		if (!run->wall_ns || share(p->wait_ns, run->wall_ns) < HANDOFF_MIN_SHARE)
			continue;
		if (shown == 1) { /* one in full: the line has room for one command line */
			more++;
			continue;
		}
		un_appendf(t, len, "not traced: %s (pid %u) waited %s (%s of the wall) on %s%s",
		    p->comm[0] ? p->comm : "a process", p->pid, un_dur(p->wait_ns).s,
		    pct(share(p->wait_ns, run->wall_ns)).s, unix_sock ? "a unix socket" : "a socket to ",
		    unix_sock ? "" : p->addr);
		if (p->sockets > 1)
			un_appendf(t, len, " (%u connections)", p->sockets);
		if (p->peer_pid) {
			const char *who = p->peer_cmdline[0] ? p->peer_cmdline
					  : p->peer_comm[0] ? p->peer_comm : "gone by the trace's end";
			int cut = strlen(who) > 60 ? 57 : 60;

			/* a long command line cut where it says it was ("... us.py /tm" read
			 * as a path) */
			while (cut < 60 && cut > 0 && who[cut - 1] == ' ')
				cut--;
			un_appendf(t, len, ", whose other end is pid %u (%.*s%s): what that process did "
				    "meanwhile is not in this report (trace it too: -p %u)",
			    p->peer_pid, cut, who, cut < 60 ? "..." : "", p->peer_pid);
		}
		else if (p->local)
			un_appendf(t, len, ", whose other end's process was not found (its socket was closed "
				    "by the trace's end): its work is not in this report");
		else
			un_appendf(t, len, ", another host: its work is not in this report");
		shown++;
	}
	if (more)
		un_appendf(t, len, "; and %zu more other end%s (summary.json socket_peers)", more,
		    more == 1 ? "" : "s");
	return shown > 0;
}

/* A process's threads' wait splits, summed (false: no thread has them). */
static bool proc_kinds(const struct an_run *run, uint32_t pid, uint64_t *iow, uint64_t *lkw)
{
	bool ok = false;

	memset(iow, 0, WT_NIO_SLOTS * sizeof(*iow));
	memset(lkw, 0, WT_NLK_SLOTS * sizeof(*lkw));
	for (size_t i = 0; i < run->nthreads; i++) {
		const struct an_thread *t = &run->threads[i];

		if (t->pid != pid || !t->by_kind_ok)
			continue;
		ok = true;
		for (unsigned k = 0; k < WT_NIO_SLOTS; k++)
			iow[k] += t->io_wait_by_kind_ns[k];
		for (unsigned k = 0; k < WT_NLK_SLOTS; k++)
			lkw[k] += t->lock_wait_by_kind_ns[k];
	}
	return ok;
}

/* What a read waited for, and a futex wait was, in words: kinds.h's order, slot = kind - 1. */
static const char *const io_kind_words[WT_NIO_SLOTS] = {"files", "pipes", "sockets",
							"other reads"};
static const char *const lock_kind_words[WT_NLK_SLOTS] = {"mutexes", "the GIL", "joins",
							  "condvars", "futexes"};

/* The slot of the largest of n figures. */
static unsigned top_slot(const uint64_t *v, unsigned n)
{
	unsigned top = 0;

	for (unsigned k = 1; k < n; k++)
		if (v[k] > v[top])
			top = k;
	return top;
}

/*
 * A traced program whose reading was done by one of its processes (fio's job process,
 * forked by a parent that spends the first half of the wall setting up): the run's lines
 * are the whole program's, so its bounds can be another process's (the parent's start-up
 * computing). This says where that process's own life went, its parts longest first, and
 * whose the run's computing was when it was not the reader's.
 */
static bool rule_reader(const struct an_run *run, const struct an_run *sync,
			const struct an_report *rep, char *t, size_t len, double *share_unused)
{
	const struct an_process *p = NULL, *cpu = NULL;
	uint64_t iow[WT_NIO_SLOTS], lkw[WT_NLK_SLOTS], life, all = 0, cpu_all = 0;
	struct {
		uint64_t ns;
		int what;
	} part[5], tmp;
	size_t n = 0;
	bool kinds;

	(void)share_unused;
	(void)sync;
	(void)rep;
	t[0] = '\0';
	if (run->nprocesses < 2)
		return false;
	for (size_t i = 0; i < run->nprocesses; i++) {
		const struct an_process *q = &run->processes[i];

		all += q->bytes_read;
		cpu_all += q->states_ns[TL_COMPUTE];
		if (!p || q->bytes_read > p->bytes_read)
			p = q;
		if (!cpu || q->states_ns[TL_COMPUTE] > cpu->states_ns[TL_COMPUTE])
			cpu = q;
	}
	if (p->bytes_read < READER_MIN_BYTES || share(p->bytes_read, all) < READER_MIN_SHARE)
		return false;
	life = (p->ended ? p->end_ns : run->wall_ns) - p->start_ns;
	if (p->start_ns > (p->ended ? p->end_ns : run->wall_ns) || !life)
		return false;
	kinds = proc_kinds(run, p->pid, iow, lkw);
	part[n].ns = p->states_ns[TL_IO_CPU] + p->states_ns[TL_IO_WAIT], part[n++].what = 0;
	part[n].ns = p->states_ns[TL_COMPUTE], part[n++].what = 1;
	part[n].ns = p->states_ns[TL_LOCK_WAIT], part[n++].what = 2;
	part[n].ns = p->states_ns[TL_POLL_WAIT] + p->states_ns[TL_OTHER_WAIT], part[n++].what = 3;
	part[n].ns = p->states_ns[TL_RUNNABLE], part[n++].what = 4;
	for (size_t i = 1; i < n; i++) /* longest first (insertion: five parts) */
		for (size_t j = i; j > 0 && part[j].ns > part[j - 1].ns; j--)
			tmp = part[j], part[j] = part[j - 1], part[j - 1] = tmp;
	un_appendf(t, len, "the reading was pid %u (%s)'s: %s of the run's %s, in %s of the %s wall "
		    "(from %s)",
	    p->pid, p->comm, un_bytes(p->bytes_read).s, un_bytes(all).s, un_dur(life).s,
	    un_dur(run->wall_ns).s, un_dur(p->start_ns).s);
	for (size_t i = 0, said = 0; i < n; i++) {
		const char *sep = said ? ", " : ": ";

		if (share(part[i].ns, life) < READER_MIN_PART)
			continue;
		said++;
		switch (part[i].what) {
		case 0:
			un_appendf(t, len, "%sreading %s (%s on CPU, %s waiting", sep, un_dur(part[i].ns).s,
			    un_dur(p->states_ns[TL_IO_CPU]).s, un_dur(p->states_ns[TL_IO_WAIT]).s);
			if (kinds && p->states_ns[TL_IO_WAIT]) {
				unsigned k = top_slot(iow, WT_NIO_SLOTS);
				double sh = share(iow[k], p->states_ns[TL_IO_WAIT]);

				un_appendf(t, len, " %s%s%s", sh >= 0.90 ? "" : pct(sh).s,
				    sh >= 0.90 ? "for " : " for ", io_kind_words[k]);
			}
			un_appendf(t, len, ")");
			break;
		case 1:
			un_appendf(t, len, "%scomputing %s", sep, un_dur(part[i].ns).s);
			break;
		case 2:
			if (kinds) {
				unsigned k = top_slot(lkw, WT_NLK_SLOTS);
				double sh = share(lkw[k], p->states_ns[TL_LOCK_WAIT]);

				un_appendf(t, len, "%swaiting on %s%s %s", sep, sh >= 0.90 ? "" : "futexes, mostly ",
				    lock_kind_words[k], un_dur(part[i].ns).s);
			} else {
				un_appendf(t, len, "%swaiting on futexes %s", sep, un_dur(part[i].ns).s);
			}
			break;
		case 3:
			un_appendf(t, len, "%ssleeping or polling %s", sep, un_dur(part[i].ns).s);
			break;
		default:
			un_appendf(t, len, "%swaiting for a CPU %s", sep, un_dur(part[i].ns).s);
		}
	}
	/* the run's computing was another process's: say whose, the run's lines are about it */
	if (cpu != p && 2 * cpu->states_ns[TL_COMPUTE] > cpu_all &&
	    share(cpu_all, run->wall_ns) >= BOUND_MIN_SHARE)
		un_appendf(t, len, "; pid %u (%s) did %s of the run's %s of computing", cpu->pid, cpu->comm,
		    un_dur(cpu->states_ns[TL_COMPUTE]).s, un_dur(cpu_all).s);
	return true;
}

/* Why run has no speedup over sync, in words. */
static void why_no_speedup(const struct an_run *run, const struct an_run *sync, char *b,
			   size_t n)
{
	if (!an_run_clean(run) && run->interrupted)
		snprintf(b, n, "the run was %s", INTERRUPTED);
	else if (!an_run_clean(run))
		snprintf(b, n, "the run did not finish: exit status %d", run->exit_status);
	else if (!sync)
		snprintf(b, n, "no sync run with the same cache mode");
	else if (!an_run_clean(sync) && sync->interrupted)
		snprintf(b, n, "the sync run was %s", INTERRUPTED);
	else if (!an_run_clean(sync))
		snprintf(b, n, "the sync run did not finish: exit status %d", sync->exit_status);
	else
		snprintf(b, n, "no wall time");
}

/* A traced program with no sync run beside it: speedups are not a question it asked. */
static bool lone_trace(const struct an_run *sync, const struct an_report *rep)
{
	return !sync && rep && !strcmp(rep->workload, "trace");
}

static bool rule_unavailable(const struct an_run *run, const struct an_run *sync,
			     const struct an_report *rep, char *t, size_t len, double *share_unused)
{
	(void)share_unused;
	t[0] = '\0';
	if (!run->c.pcache_ok)
		un_appendf(t, len, "%spage_cache (page-cache insertions were not traced)",
		    t[0] ? "; " : "");
	if (!run->c.block_ok)
		un_appendf(t, len, "%sdisk (block-layer I/O was not traced)", t[0] ? "; " : "");
	if (!run->speedup_ok && lone_trace(sync, rep)) {
		/* nothing was left out: there was nothing to compare with */
	} else if (!run->speedup_ok) {
		char why[128];

		why_no_speedup(run, sync, why, sizeof(why));
		un_appendf(t, len, "%soverhead, near_ideal (%s)", t[0] ? "; " : "", why);
	} else if (!run->ideal_ok) {
		un_appendf(t, len, "%snear_ideal (%s)", t[0] ? "; " : "",
		    run->ideal_dev_ok ? "no ideal bound"
				      : "bytes came from the device at an unknown rate, so the "
					"ideal bound is unknown");
	}
	if (!t[0])
		return false;
	{
		char list[512];

		snprintf(list, sizeof(list), "%s", t);
		snprintf(t, len, "not evaluated, input unavailable: %s", list);
	}
	return true;
}

/*
 * The table: each line names what bounded the wall, or a loss of CPU capacity, or a
 * comparison with sync, with the share it explains (of the wall, or of ncpu x the wall);
 * then notes on the data. verdict[] lists them in this order; the headline gives the cause
 * explaining the largest share of the wall first, then the next cause in this order, then
 * the largest loss of capacity.
 *
 *   id              fires when (thresholds above)                          share of
 *   cpu_saturated   cpu or read_cpu bound, and parallelism >= 0.85 x ncpu  wall
 *                   or queued (runnable >= 20% of ready time, 10% of the
 *                   wall) while the machine's CPUs idled < 10%
 *   cpu             cpu bound (largest, or >= 20% of the wall), not full   wall
 *   page_cache      hit >= 90% and >= 80% of read time on CPU              wall (read_cpu)
 *   read_cpu        read_cpu bound, not page_cache                         wall
 *   disk            >= 90% of the measured ceiling over the wall           wall (device)
 *   device          device bound, not disk                                 wall
 *   exposed_io      below a measured ceiling, hidden_io < 50%, device      wall (exposed)
 *                   >= 10% and compute apart >= 5% of the wall, not
 *                   near_ideal
 *   lock            lock waiters (mutex, GIL) on idle CPUs >= 10% of       capacity
 *                   capacity, or lock bound; without wait kinds (no futex
 *                   wait classified), the GIL signature
 *   cpu_wait        cpu_wait bound                                         wall
 *   peer            peer bound                                             wall
 *   idle            idle bound                                             wall
 *   serial          no thread ready >= 25% of capacity, >= 2 CPUs, cpu   capacity
 *                   or read_cpu bound, not full, not disk, not lock, not
 *                   near_ideal
 *   wakeup_latency  ready threads on idle CPUs >= 5% of capacity (at      capacity
 *                   least: ready less other programs' CPU), not full
 *   overhead        slower than sync by >= 2% of its wall                  wall (the loss)
 *   io_hidden       hidden_io >= 80% with I/O >= 10% of the wall           wall (hidden)
 *   near_ideal      >= 90% of the ideal speedup                            -
 * Never together on one run: an_rule_conflicts.
 */
const struct an_rule an_rules[] = {
	{"cpu_saturated", rule_cpu_saturated, AN_SHARE_WALL,
	 "runnable threads beyond the free CPUs only queue: more (or idler) CPUs would help, "
	 "more threads would not",
	 NULL, true},
	{"cpu", rule_cpu, AN_SHARE_WALL,
	 "less computing, or more of it at once on the idle CPUs, shortens this", NULL, true},
	{"page_cache", rule_page_cache, AN_SHARE_WALL,
	 "a cached read is a memory copy done on the CPU, so there was little disk wait to "
	 "overlap",
	 NULL, true},
	{"read_cpu", rule_read_cpu, AN_SHARE_WALL,
	 "a read's copy is CPU work: more readers at once, or fewer and larger copies, shorten "
	 "it",
	 NULL, true},
	{"disk", rule_disk, AN_SHARE_WALL,
	 "reads could not arrive faster; only a faster device (or fewer bytes) shortens this",
	 NULL, true},
	{"device", rule_device, AN_SHARE_WALL,
	 "a faster device, fewer bytes, or this wait overlapped with compute shortens it", NULL,
	 true},
	{"exposed_io", rule_exposed_io, AN_SHARE_WALL,
	 "overlap them: more reads in flight while computing (a bigger pool, a deeper io_uring "
	 "queue) would hide this wait and fetch faster",
	 NULL, true},
	{"lock", rule_lock, AN_SHARE_CAPACITY,
	 "threads queued on the lock instead of computing; more threads cannot help until the "
	 "lock is released around the work (or the work runs in processes)",
	 NULL, true},
	{"cpu_wait", rule_cpu_wait, AN_SHARE_WALL,
	 "a quieter machine (or fewer runnable threads) shortens this",
	 NULL, true},
	{"peer", rule_peer, AN_SHARE_WALL,
	 "a faster peer, or more requests to it at once, shortens this", NULL, true},
	{"idle", rule_idle, AN_SHARE_WALL,
	 "waiting the program chose or had to: timers, joins, an idle loop", NULL, true},
	{"serial", rule_serial, AN_SHARE_CAPACITY,
	 "work spread over more threads or processes would use the idle CPUs",
	 "one thread doing all the work (a loop's, an event loop's) caps the run at one CPU: "
	 "spread the work over threads or processes",
	 true},
	{"wakeup_latency", rule_wakeup, AN_SHARE_CAPACITY,
	 "each sleep costs a wake-up of an idle CPU (slow on a VM); fewer, longer waits (bigger "
	 "reads, batching hand-offs) pay it less often",
	 NULL, true},
	{"overhead", rule_overhead, AN_SHARE_WALL,
	 "the extra threads added switching and queueing but no useful overlap; fewer threads "
	 "(at most the CPU count) or larger reads cost less",
	 "its own costs (switches, copies, queueing) outweighed the overlap it bought", true},
	{"io_hidden", rule_io_hidden, AN_SHARE_WALL, "this is the overlap concurrency can buy",
	 NULL, true},
	{"near_ideal", rule_near_ideal, AN_SHARE_NONE, "little is left to win on this machine",
	 NULL, true},
	{"python_gil", rule_python, AN_SHARE_NONE,
	 "CPython releases the GIL around blocking reads (and hashlib around large buffers), so "
	 "threads can overlap reads but run Python code one at a time",
	 NULL, false},
	{"steal", rule_steal, AN_SHARE_NONE,
	 "the on-CPU and parallelism figures count it, the kernel's own accounting (rusage, "
	 "schedstat) does not; to compare strategies, rerun on a quieter host",
	 NULL, false},
	{"lost_events", rule_lost, AN_SHARE_NONE,
	 "figures that depend on the lost part are less exact", NULL, false},
	{"handoff", rule_handoff, AN_SHARE_NONE, NULL, NULL, false},
	{"reader", rule_reader, AN_SHARE_NONE, NULL, NULL, false},
	{"visibility", rule_visibility, AN_SHARE_NONE, NULL, NULL, false},
	{"unavailable", rule_unavailable, AN_SHARE_NONE, NULL, NULL, false},
};
const size_t an_nrules = sizeof(an_rules) / sizeof(an_rules[0]);

/* Lines that would contradict each other: their conditions exclude one another. */
const char *const an_rule_conflicts[][2] = {
	{"disk", "exposed_io"},	      /* at its ceiling, more reads in flight cannot help */
	{"disk", "device"},	      /* one storage line */
	{"cpu_saturated", "cpu"},     /* one compute line */
	{"cpu_saturated", "serial"},  /* CPUs full, or CPUs idle */
	{"cpu_saturated", "wakeup_latency"}, /* queued for busy CPUs, or for idle ones */
	{"disk", "serial"},	      /* at the ceiling, idle CPUs could not help */
	{"lock", "serial"},	      /* queued on a lock, more threads only queue too */
	{"near_ideal", "serial"},     /* little left to win: idle CPUs cannot win it */
	{"near_ideal", "exposed_io"}, /* little left to win: nor more reads in flight */
	{"page_cache", "read_cpu"},   /* one copying line */
	{"io_hidden", "exposed_io"},  /* hidden, or exposed */
};
const size_t an_nconflicts = sizeof(an_rule_conflicts) / sizeof(an_rule_conflicts[0]);

void an_verdict_eval(struct an_run *run, const struct an_run *sync, const struct an_report *rep)
{
	char clauses[AN_MAX_VERDICT][sizeof(run->verdict[0].text)];
	const char *sep = " — ";
	size_t nclause = 0, norder = 0, order[3];
	int first = -1, capl = -1;
	double bestcap = -1;
	const struct an_thread *busiest;
	bool alone = workers(run, &busiest) <= 1;
	double best = -1;

	run->nverdict = 0;
	run->headline[0] = '\0';
	for (size_t i = 0; i < an_nrules && run->nverdict < AN_MAX_VERDICT; i++) {
		struct an_verdict *v = &run->verdict[run->nverdict];
		char clause[sizeof(v->text)];
		const char *advice;
		double sh = -1;

		clause[0] = '\0';
		if (!an_rules[i].fires(run, sync, rep, clause, sizeof(clause), &sh))
			continue;
		memset(v, 0, sizeof(*v));
		snprintf(v->rule, sizeof(v->rule), "%s", an_rules[i].id);
		snprintf(v->text, sizeof(v->text), "%s", clause);
		if (v->text[0] >= 'a' && v->text[0] <= 'z')
			v->text[0] = (char)(v->text[0] - 'a' + 'A');
		advice = alone && an_rules[i].advice_one ? an_rules[i].advice_one
							 : an_rules[i].advice;
		if (advice)
			un_appendf(v->text, sizeof(v->text), " — %s", advice);
		un_appendf(v->text, sizeof(v->text), ".");
		/*
		 * Idle CPUs for want of work ready (serial, before overhead in the table): the
		 * lines after it advise as for one thread, or "fewer threads" would contradict
		 * serial's "spread the work over more".
		 */
		if (!strcmp(an_rules[i].id, "serial"))
			alone = true;
		if (an_rules[i].of != AN_SHARE_NONE && sh >= 0) {
			v->share = sh > 1.0 ? 1.0 : sh;
			v->share_ok = true;
			snprintf(v->share_of, sizeof(v->share_of), "%s",
				 an_rules[i].of == AN_SHARE_WALL ? "wall" : "capacity");
		}
		if (an_rules[i].cause) {
			/* the headline leads with the cause explaining most of the wall */
			if (v->share_ok && an_rules[i].of == AN_SHARE_WALL && v->share > best) {
				best = v->share;
				first = (int)nclause;
			}
			if (v->share_ok && an_rules[i].of == AN_SHARE_CAPACITY &&
			    v->share > bestcap) {
				bestcap = v->share;
				capl = (int)nclause;
			}
			memcpy(clauses[nclause++], clause, sizeof(clause));
		}
		run->nverdict++;
	}
	/*
	 * The headline: the cause explaining most of the wall, the next cause in table order,
	 * and the largest loss of capacity if neither is it.
	 */
	if (first < 0 && nclause)
		first = 0;
	if (first >= 0) {
		order[norder++] = (size_t)first;
		if (nclause > 1)
			order[norder++] = first == 0 ? 1 : 0;
		if (capl >= 0 && (size_t)capl != order[0] && (norder < 2 || (size_t)capl != order[1]))
			order[norder++] = (size_t)capl;
	}

	/* headline: label, speedup and % of ideal, then the first causes */
	un_appendf(run->headline, sizeof(run->headline), "%s: ",
	    run->label[0] ? run->label : run->strategy);
	if (!an_run_clean(run) && run->interrupted) {
		/* its exit status is iotrace's doing, not the workload's */
		un_appendf(run->headline, sizeof(run->headline),
		    "%s, so it did not finish and these figures cover part of the work",
		    INTERRUPTED);
	} else if (!an_run_clean(run)) {
		un_appendf(run->headline, sizeof(run->headline),
		    "did not finish (exit status %d), so these figures cover part of the work",
		    run->exit_status);
	} else if (sync == run || !strcmp(run->strategy, "sync")) {
		un_appendf(run->headline, sizeof(run->headline), "baseline");
	} else if (run->speedup_ok) {
		un_appendf(run->headline, sizeof(run->headline), "%.2f× over sync", run->speedup_vs_sync);
	} else if (lone_trace(sync, rep)) {
		sep = ""; /* "python3: reads came from ...": the causes are the whole line */
	} else {
		char why[128];

		why_no_speedup(run, sync, why, sizeof(why));
		un_appendf(run->headline, sizeof(run->headline), "speedup unavailable (%s)", why);
	}
	if (run->ideal_ok)
		un_appendf(run->headline, sizeof(run->headline), " (%s of ideal %.2f×)",
		    pct(run->ideal_fraction).s, run->ideal_speedup);
	for (size_t k = 0; k < norder; k++)
		un_appendf(run->headline, sizeof(run->headline), "%s%s", k ? "; " : sep,
		    clauses[order[k]]);
	if (!nclause && !run->bound_ok) {
		un_appendf(run->headline, sizeof(run->headline),
		    "%swhat bounded the wall was not measured (a report saved before iotrace did)",
		    sep);
	} else if (!nclause) {
		/* the largest bound always has its line: only a run with no wall has none */
		un_appendf(run->headline, sizeof(run->headline), "%sno wall time to attribute", sep);
	}
}

/* ---- the closing answer ---- */

static const struct an_run *find(const struct an_report *rep, const char *cache, bool sync)
{
	const struct an_run *best = NULL;

	for (size_t i = 0; i < rep->nruns; i++) {
		const struct an_run *r = &rep->runs[i];

		if (strcmp(r->cache, cache) || !strcmp(r->strategy, "sync") != sync)
			continue;
		if (sync)
			return r;
		if (r->speedup_ok && (!best || r->speedup_vs_sync > best->speedup_vs_sync))
			best = r;
	}
	return best;
}

/* The fastest run of the cache mode after best (not sync), or NULL. */
static const struct an_run *runner_up(const struct an_report *rep, const char *cache,
				      const struct an_run *best)
{
	const struct an_run *r2 = NULL;

	for (size_t i = 0; best && i < rep->nruns; i++) {
		const struct an_run *r = &rep->runs[i];

		if (r == best || strcmp(r->cache, cache) || !strcmp(r->strategy, "sync"))
			continue;
		if (r->speedup_ok && (!r2 || r->speedup_vs_sync > r2->speedup_vs_sync))
			r2 = r;
	}
	return r2;
}

/* " (walls A to B against B's C to D; rank test p = P)": what the test was given and what
 * it found */
static void spreads(char *buf, size_t len, const struct an_run *a, const struct an_run *b)
{
	un_appendf(buf, len, " (walls %s to %s against %s's %s to %s; rank test p = %.2f)",
	    un_dur(a->wall_min_ns).s, un_dur(a->wall_max_ns).s, b->strategy,
	    un_dur(b->wall_min_ns).s, un_dur(b->wall_max_ns).s, an_noise_p(a, b));
}

/*
 * Two runs of the mode the ranking would put apart, that their repetitions do not tell
 * apart: said in a few words (the table's ± and report.html's strips show the spreads), so
 * the Answer stays on one screen.
 */
static void noise_note(char *buf, size_t len, const struct an_report *rep, const char *cache,
		       const struct an_run *best)
{
	const struct an_run *r2 = runner_up(rep, cache, best);

	/* its own figure: said of warm and of cold, the sentence would repeat word for word */
	if (r2 && an_within_noise(best, r2))
		un_appendf(buf, len, " So did %s (%.2f×), within noise.", r2->strategy,
		    r2->speedup_vs_sync);
}

static const struct an_verdict *verdict_of(const struct an_run *r, const char *rule)
{
	for (size_t i = 0; i < r->nverdict; i++)
		if (!strcmp(r->verdict[i].rule, rule))
			return &r->verdict[i];
	return NULL;
}

/* The first cause's clause of a run's headline ("" if none). */
static void first_cause(const struct an_run *r, char *buf, size_t len)
{
	const char *p = strstr(r->headline, " — ");

	buf[0] = '\0';
	if (!p)
		return;
	p += strlen(" — ");
	snprintf(buf, len, "%.*s", (int)strcspn(p, ";"), p);
}

static void answer_bound(const struct an_run *best, const struct an_run *sync, unsigned ncpu,
			 char *buf, size_t len)
{
	const struct an_run *r = best ? best : sync;

	if (!r->ideal_dev_ok) {
		un_appendf(buf, len,
		    " The device rate was not measured, so how far the disk allows this to go is "
		    "unknown.");
		return;
	}
	if (r->ideal_dev_ns > r->ideal_cpu_ns)
		un_appendf(buf, len,
		    " The disk bounds it: %s at %s take %s, more than the %s of CPU work over "
		    "%u %s; past that only a faster device or fewer bytes help.",
		    un_bytes(r->ideal_dev_bytes).s, un_rate(r->ideal_dev_rate).s,
		    un_dur(r->ideal_dev_ns).s, un_dur(r->ideal_cpu_ns).s, ncpu, cpus(ncpu));
	else
		un_appendf(buf, len,
		    " The CPU bounds it: %s of CPU work over %u %s is %s, over the disk's %s; more "
		    "cores would help, not more threads.",
		    un_dur(r->ideal_cpu_ns * ncpu).s, ncpu, cpus(ncpu), un_dur(r->ideal_cpu_ns).s,
		    un_dur(r->ideal_dev_ns).s);
	if (best && verdict_of(best, "exposed_io"))
		un_appendf(buf, len,
		    " %s still left %s of compute apart from its I/O: more reads in flight (a "
		    "bigger pool, a deeper io_uring queue) would overlap more.",
		    best->strategy, un_dur(unoverlapped_compute(best)).s);
	else if (!best && verdict_of(sync, "exposed_io"))
		un_appendf(buf, len,
		    " Overlapping its %s of compute with the reads is what a concurrent strategy "
		    "can win.",
		    un_dur(unoverlapped_compute(sync)).s);
}

void an_answer(const struct an_report *rep, char *buf, size_t len)
{
	const struct an_run *sc = find(rep, "cold", true), *bc = find(rep, "cold", false);
	const struct an_run *sw = find(rep, "warm", true), *bw = find(rep, "warm", false);
	unsigned ncpu = rep->ncpu ? rep->ncpu : sc ? sc->ncpu : sw ? sw->ncpu : 0;
	char why[512];

	if (!len)
		return;
	buf[0] = '\0';
	if (!rep->nruns)
		return;
	if (sc && bc) {
		/* the evidence of overlap: blocked time with the CPU busy, or for strategies
		 * that never block (io_uring), I/O under way with a thread computing */
		bool by_overlap = bc->cpu_overlap_ok;
		double ov = by_overlap ? bc->cpu_overlap : bc->hidden_io;
		bool base_ok = by_overlap ? sc->cpu_overlap_ok : sc->hidden_io_ok;
		double base = by_overlap ? sc->cpu_overlap : sc->hidden_io;
		bool yes = bc->speedup_vs_sync >= ANSWER_MIN_SPEEDUP &&
			   (by_overlap || bc->hidden_io_ok) && (!base_ok || ov > base);

		if (an_within_noise(bc, sc)) {
			un_appendf(buf, len,
			    "Within noise. Reading from disk (cold cache), the best strategy, %s, ran "
			    "%.2f× sync's speed, which the repeats do not tell apart from sync's",
			    bc->strategy, bc->speedup_vs_sync);
			spreads(buf, len, bc, sc);
			un_appendf(buf, len, ".");
		} else if (yes) {
			un_appendf(buf, len, "Yes. Reading from disk (cold cache), %s %s %s of its %s",
			    bc->strategy,
			    by_overlap ? "kept the CPU busy during" : "computed during", pct(ov).s,
			    by_overlap ? "blocked time" : "I/O time");
			if (base_ok)
				un_appendf(buf, len, " (sync: %s)", pct(base).s);
			un_appendf(buf, len, " and ran %.2f× faster than sync", bc->speedup_vs_sync);
			if (bc->ideal_ok)
				un_appendf(buf, len, ", %s of the ideal %.2f×", pct(bc->ideal_fraction).s,
				    bc->ideal_speedup);
			un_appendf(buf, len, ".");
		} else {
			first_cause(bc, why, sizeof(why));
			un_appendf(buf, len,
			    "Not much here. Reading from disk (cold cache), the best strategy, %s, "
			    "ran %.2f× sync's speed",
			    bc->strategy, bc->speedup_vs_sync);
			if (bc->ideal_ok)
				un_appendf(buf, len, " (%s of the ideal %.2f×)", pct(bc->ideal_fraction).s,
				    bc->ideal_speedup);
			if (why[0])
				un_appendf(buf, len, " — %s", why);
			un_appendf(buf, len, ".");
		}
		noise_note(buf, len, rep, "cold", bc);
		answer_bound(bc, sc, ncpu, buf, len);
	} else if (sc) {
		un_appendf(buf, len,
		    "Reading from disk (cold cache) only sync ran: it was blocked in reads for "
		    "%s of %s",
		    un_dur(sc->blocked_ns).s, un_dur(sc->wall_ns).s);
		if (sc->cpu_overlap_ok)
			un_appendf(buf, len, " with %s CPU overlap", pct(sc->cpu_overlap).s);
		un_appendf(buf, len, "; run a concurrent strategy to see how much of it can be hidden.");
		answer_bound(NULL, sc, ncpu, buf, len);
	} else {
		un_appendf(buf, len, "No cold-cache run was made, so disk reads were not measured here "
			      "(run with --cache cold, and --throttle to emulate a slow disk).");
	}

	if (sw) {
		const struct an_verdict *pc = verdict_of(sw, "page_cache");

		if (pc)
			/* "nothing" only when no read waited: a 90% hit leaves some disk wait */
			un_appendf(buf, len,
			    " Warm (file reads hit the page cache %s, %s of read time on CPU), reads "
			    "are page-cache copies: "
			    "%s to overlap, only more CPUs help",
			    pct(sw->hit_ratio).s, pct(sw->read_oncpu_share).s,
			    sw->states_ns[TL_IO_WAIT] ? "little" : "nothing");
		else
			un_appendf(buf, len, " Warm, sync was blocked in reads for %s of %s",
			    un_dur(sw->blocked_ns).s, un_dur(sw->wall_ns).s);
		if (bw)
			un_appendf(buf, len, "; %s ran %.2f× sync's speed", bw->strategy,
			    bw->speedup_vs_sync);
		if (bw && bw->ideal_ok)
			un_appendf(buf, len, " (ideal %.2f× with %u %s)", bw->ideal_speedup, ncpu,
			    cpus(ncpu));
		if (bw && an_within_noise(bw, sw))
			un_appendf(buf, len, ", within noise of sync");
		un_appendf(buf, len, ".");
		if (bw)
			noise_note(buf, len, rep, "warm", bw);
	}
}
