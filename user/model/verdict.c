/* verdict.c - the rule table: why a run was (or was not) faster, each finding with its numbers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "units.h"
#include "verdict.h"

/*
 * Every threshold of every rule, in one place. A rule fires when its metric is at or past
 * its threshold (>= for "at least", < for "below"); an unavailable input never fires.
 */
#define PAGE_CACHE_MIN_HIT 0.90		/* hit ratio */
#define PAGE_CACHE_MIN_READ_ONCPU 0.80	/* io_cpu / (io_cpu + io_wait) */
#define CPU_SAT_MIN_PAR_FRAC 0.85	/* parallelism >= this x ncpu, or ... */
#define CPU_SAT_MIN_RUNNABLE 0.20	/* ... runnable / (on-CPU + runnable) >= this, */
#define CPU_SAT_MIN_RUNNABLE_WALL 0.10	/*   with runnable thread-time >= this of the wall */
/* queued threads while the machine's CPUs idled this share of the time: slow wake-ups */
#define WAKE_MIN_IDLE 0.25
/* steal at least this share of the threads' on-CPU time (or the machine's CPU time): a note */
#define STEAL_MIN_SHARE 0.05
#define LOCK_MIN_THREADS 2		/* working threads (see below) */
#define LOCK_WORKER_MIN_ONCPU 0.05	/* a thread works if computing >= this of its lifetime */
#define LOCK_MAX_PAR 1.20		/* parallelism <= this ("about one") */
#define LOCK_MIN_SHARE 0.20		/* lock_wait / lifetime of the working threads */
#define DISK_MIN_BYTES (1ULL << 20)	/* block bytes: less is metadata, not a workload */
#define DISK_MIN_BUSY 0.80		/* block busy / wall, or ... */
#define DISK_MIN_RATE 0.80		/* ... (block bytes / wall) / (throttle or best rate) */
#define EXPOSED_MAX_OVERLAP 0.50	/* cpu_overlap below this ... */
#define EXPOSED_MIN_BLOCKED 0.10	/* ... with blocked_ns >= this of the wall, and */
#define EXPOSED_MIN_APART 0.05		/*   compute apart from I/O >= this of the wall, */
					/*   or the disk below its ceiling (see disk) */
#define OVERHEAD_MAX_SPEEDUP 1.00	/* speedup vs sync below this, and one of: */
#define OVERHEAD_MIN_SWITCH_GROWTH 2.0	/*   context switches >= this x sync's */
#define OVERHEAD_MIN_RUNNABLE_PTS 0.10	/*   runnable share - sync's >= this */
#define OVERHEAD_MIN_IOCPU_GROWTH 1.25	/*   io_cpu ns >= this x sync's */
#define HIDDEN_MIN 0.80			/* hidden_io ... */
#define HIDDEN_MIN_IO 0.10		/* ... with io_ns >= this of the wall */
#define NEAR_IDEAL_MIN 0.90		/* ideal_fraction */
#define ANSWER_MIN_SPEEDUP 1.10		/* closing answer: "yes" needs at least this */

/* How a run the user stopped is told (an_run.interrupted): not as a signal's exit status. */
#define INTERRUPTED "interrupted by the user (Ctrl-C)"

/* ---- formatting of evidence ---- */

static void app(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void app(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strnlen(buf, len);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	if (vsnprintf(buf + n, len - n, fmt, ap) >= (int)(len - n)) {
		/* cut: never leave half a UTF-8 character (×, µ, — ...) in JSON-bound text */
		size_t e = len - 1, i = e;

		while (i > n && ((unsigned char)buf[i - 1] & 0xC0) == 0x80)
			i--;
		if (i > n) {
			unsigned char lead = (unsigned char)buf[i - 1];
			size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;

			if (i - 1 + need > e)
				buf[i - 1] = '\0';
		}
	}
	va_end(ap);
}

struct num {
	char s[32];
};

static struct num pct(double x)
{
	struct num n;

	snprintf(n.s, sizeof(n.s), "%.0f%%", x * 100.0);
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

static bool rule_lock(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len)
{
	unsigned ncpu = ncpu_of(run, rep);
	uint64_t lock = 0, life = 0;
	size_t nwork = 0;
	double sh, par = ran_parallelism(run);

	(void)sync;
	for (size_t i = 0; i < run->nthreads; i++) {
		const struct an_thread *th = &run->threads[i];

		/*
		 * A lock like the GIL serializes computing: a worker is a thread that computes.
		 * Not a main thread parked in pthread_join, nor an I/O pool's thread (libuv's)
		 * that only reads and then waits on its queue's condition variable: those wait
		 * on a futex too, for work, not for a lock held by others computing.
		 */
		if (!th->lifetime_ns ||
		    share(th->states_ns[TL_COMPUTE], th->lifetime_ns) < LOCK_WORKER_MIN_ONCPU)
			continue;
		nwork++;
		lock += th->states_ns[TL_LOCK_WAIT];
		life += th->lifetime_ns;
	}
	sh = share(lock, life);
	/* on one CPU, parallelism 1 is the CPU's limit, not the lock's */
	if (ncpu < 2 || nwork < LOCK_MIN_THREADS || par > LOCK_MAX_PAR || sh < LOCK_MIN_SHARE)
		return false;
	snprintf(t, len,
		 "threads took turns on a lock, the GIL case: %zu working threads ran at "
		 "parallelism %.2f on %u %s and spent %s of their time waiting on a lock (futex)",
		 nwork, par, ncpu, cpus(ncpu), pct(sh).s);
	if (run->parallelism - par >= 0.005)
		app(t, len, " (parallelism %.2f counting the time the hypervisor stole)",
		    run->parallelism);
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
			const struct an_report *rep, char *t, size_t len)
{
	uint64_t lock = 0, life = 0;
	size_t npy = 0;
	const char *name = NULL;

	(void)sync;
	for (size_t i = 0; i < run->nthreads; i++) {
		const struct an_thread *th = &run->threads[i];

		if (!is_python_comm(th->comm))
			continue;
		if (!name)
			name = th->comm;
		npy++;
		lock += th->states_ns[TL_LOCK_WAIT];
		life += th->lifetime_ns;
	}
	if (!npy && !is_python_command(rep))
		return false;
	if (!npy) {
		/* a python named in the command whose threads renamed themselves: count all */
		for (size_t i = 0; i < run->nthreads; i++) {
			lock += run->threads[i].states_ns[TL_LOCK_WAIT];
			life += run->threads[i].lifetime_ns;
		}
		npy = run->nthreads;
	}
	snprintf(t, len,
		 "the traced executable is python (%s): a CPython thread waiting for the "
		 "interpreter lock, the GIL, sleeps in futex, so GIL waits show as lock_wait on "
		 "futex (%s here, %s of the %zu python %s time)",
		 name ? name : rep->command[0], un_dur(lock).s, pct(share(lock, life)).s, npy,
		 npy == 1 ? "thread's" : "threads'");
	return true;
}

static bool rule_page_cache(const struct an_run *run, const struct an_run *sync,
			    const struct an_report *rep, char *t, size_t len)
{
	(void)sync;
	(void)rep;
	if (!run->hit_ratio_ok || !run->read_oncpu_share_ok ||
	    run->hit_ratio < PAGE_CACHE_MIN_HIT ||
	    run->read_oncpu_share < PAGE_CACHE_MIN_READ_ONCPU)
		return false;
	snprintf(t, len,
		 "reads came from the page cache (hit %s, %s of read time on CPU copying: "
		 "%s on CPU, %s waiting)",
		 pct(run->hit_ratio).s, pct(run->read_oncpu_share).s,
		 un_dur(run->states_ns[TL_IO_CPU]).s, un_dur(run->states_ns[TL_IO_WAIT]).s);
	return true;
}

/* Threads queued for a CPU a real share of their ready time and of the wall. */
static bool queued(const struct an_run *run)
{
	return run->runnable_share_ok && run->runnable_share >= CPU_SAT_MIN_RUNNABLE &&
	       run->wall_ns &&
	       share(run->states_ns[TL_RUNNABLE], run->wall_ns) >= CPU_SAT_MIN_RUNNABLE_WALL;
}

/* Share of the machine's CPU time (ncpu x wall) that was idle, or -1 if unknown. */
static double machine_idle(const struct an_run *run)
{
	uint64_t all = run->machine_busy_ns + run->machine_idle_ns + run->machine_steal_ns;

	return run->machine_ok && all ? share(run->machine_idle_ns, all) : -1.0;
}

static bool rule_cpu_saturated(const struct an_run *run, const struct an_run *sync,
			       const struct an_report *rep, char *t, size_t len)
{
	unsigned ncpu = ncpu_of(run, rep);
	uint64_t runnable = run->states_ns[TL_RUNNABLE];
	bool par;

	(void)sync;
	if (!ncpu)
		return false;
	par = run->parallelism >= CPU_SAT_MIN_PAR_FRAC * ncpu;
	/* a large share of almost no ready time (an I/O-bound run) is a few wake-ups' wait */
	if (!par && (!queued(run) || machine_idle(run) >= WAKE_MIN_IDLE))
		return false;
	if (par) {
		snprintf(t, len, "the CPUs were saturated: parallelism %.2f of %u %s",
			 run->parallelism, ncpu, cpus(ncpu));
		if (run->runnable_share_ok)
			app(t, len, ", %s of ready time spent waiting for a CPU",
			    pct(run->runnable_share).s);
		return true;
	}
	/* queued for CPUs this program did not fill, which were not idle: something else
	 * held them */
	snprintf(t, len,
		 "threads waited for a CPU %s of their ready time (%s, %s of the wall) at "
		 "parallelism %.2f of %u %s: other work held the CPUs",
		 pct(run->runnable_share).s, un_dur(runnable).s,
		 pct(share(runnable, run->wall_ns)).s, run->parallelism, ncpu, cpus(ncpu));
	if (run->machine_ok && run->wall_ns) {
		double w = (double)run->wall_ns;
		double busy = (double)run->machine_busy_ns / w;
		double self = (double)run->machine_iotrace_ns / w;
		double rest = busy - (double)(run->states_ns[TL_COMPUTE] +
					      run->states_ns[TL_IO_CPU]) / w - self;

		/* iotrace's own consumer is one of the others: say how much of it */
		app(t, len, " (iotrace itself used %.2f CPUs, the rest of the machine %.2f", self,
		    rest > 0 ? rest : 0);
		if (run->machine_steal_ns)
			app(t, len, ", the hypervisor took %.2f", (double)run->machine_steal_ns / w);
		app(t, len, ")");
	}
	return true;
}

/*
 * Threads queued while the machine had idle CPUs: the wait was for a sleeping CPU to
 * wake (slow on a VM, whose idle vCPU the host must schedule), not for other work.
 */
static bool rule_wakeup(const struct an_run *run, const struct an_run *sync,
			const struct an_report *rep, char *t, size_t len)
{
	unsigned ncpu = ncpu_of(run, rep);
	double idle = machine_idle(run);

	(void)sync;
	if (!ncpu || run->parallelism >= CPU_SAT_MIN_PAR_FRAC * ncpu || !queued(run) ||
	    idle < WAKE_MIN_IDLE)
		return false;
	snprintf(t, len,
		 "threads waited %s for a CPU (%s of their ready time, %s of the wall) while the "
		 "machine's CPUs were idle %s of the time: wake-up latency, not other work",
		 un_dur(run->states_ns[TL_RUNNABLE]).s, pct(run->runnable_share).s,
		 pct(share(run->states_ns[TL_RUNNABLE], run->wall_ns)).s, pct(idle).s);
	return true;
}

/* The rate the device (or its throttle) allows, and what it is called. */
static bool ceiling(const struct an_run *run, const struct an_report *rep, double *r,
		    const char **what)
{
	if (rep && rep->throttle_bps) {
		*r = (double)rep->throttle_bps;
		*what = "the throttle's";
		return true;
	}
	if (rep && rep->device_rate_best_ok) {
		*r = rep->device_rate_best;
		*what = "the best measured";
		return true;
	}
	if (run->device_rate_ok) {
		*r = run->device_rate;
		*what = "the device's";
		return true;
	}
	return false;
}

/*
 * The device's side of a run: busy share, achieved rate (block bytes over the wall) and
 * the ceiling it is compared with. false when block I/O was not traced or too small.
 */
struct disk_ev {
	double busy, achieved, cap;
	const char *what;
	bool have_cap;
	bool at_ceiling;
};

static bool disk_eval(const struct an_run *run, const struct an_report *rep, struct disk_ev *d)
{
	memset(d, 0, sizeof(*d));
	if (!run->c.block_ok || !run->wall_ns || run->c.block_bytes < DISK_MIN_BYTES)
		return false;
	d->busy = share(run->c.block_busy_ns, run->wall_ns);
	d->achieved = (double)run->c.block_bytes * 1e9 / (double)run->wall_ns;
	d->have_cap = ceiling(run, rep, &d->cap, &d->what) && d->cap > 0.0;
	d->at_ceiling = d->busy >= DISK_MIN_BUSY ||
			(d->have_cap && d->achieved / d->cap >= DISK_MIN_RATE);
	return true;
}

static bool rule_disk(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len)
{
	struct disk_ev d;

	(void)sync;
	if (!disk_eval(run, rep, &d) || !d.at_ceiling)
		return false;
	snprintf(t, len, "the disk was the ceiling: device busy %s of the wall, %s read at %s",
		 pct(d.busy).s, un_bytes(run->c.block_bytes).s, un_rate(d.achieved).s);
	if (d.have_cap)
		app(t, len, " (%s of %s %s)", pct(d.achieved / d.cap).s, d.what, un_rate(d.cap).s);
	return true;
}

/* Compute that ran while no I/O was under way: what overlapping could still hide. */
static uint64_t unoverlapped_compute(const struct an_run *run)
{
	uint64_t hidden = run->io_ns >= run->exposed_io_ns ? run->io_ns - run->exposed_io_ns : 0;

	return run->computing_ns > hidden ? run->computing_ns - hidden : 0;
}

/*
 * Blocked with the CPU idle, and something to gain: either compute that ran apart from
 * the I/O (overlapping it would shorten the run) or a device with room to spare (more
 * requests in flight would). Waiting on a saturated disk with nothing to overlap is the
 * disk rule's case, not this one.
 */
static bool rule_exposed_io(const struct an_run *run, const struct an_run *sync,
			    const struct an_report *rep, char *t, size_t len)
{
	uint64_t apart = unoverlapped_compute(run);
	struct disk_ev d;
	bool dev, room, cpu;

	(void)sync;
	if (!run->cpu_overlap_ok || !run->wall_ns || run->cpu_overlap >= EXPOSED_MAX_OVERLAP ||
	    share(run->blocked_ns, run->wall_ns) < EXPOSED_MIN_BLOCKED)
		return false;
	dev = disk_eval(run, rep, &d);
	room = dev && !d.at_ceiling;
	cpu = share(apart, run->wall_ns) >= EXPOSED_MIN_APART;
	if (!room && !cpu)
		return false;
	snprintf(t, len,
		 "I/O was left exposed: blocked in reads for %s (%s of the wall) with the CPU "
		 "busy during only %s of it; %s of compute ran with no I/O under way",
		 un_dur(run->blocked_ns).s, pct(share(run->blocked_ns, run->wall_ns)).s,
		 pct(run->cpu_overlap).s, un_dur(apart).s);
	if (room)
		app(t, len, ", while the device was busy only %s of the wall", pct(d.busy).s);
	return true;
}

static bool rule_overhead(const struct an_run *run, const struct an_run *sync,
			  const struct an_report *rep, char *t, size_t len)
{
	uint64_t sw = switches_of(run), sw0 = sync ? switches_of(sync) : 0;
	uint64_t ioc = run->states_ns[TL_IO_CPU], ioc0 = sync ? sync->states_ns[TL_IO_CPU] : 0;
	bool csw, rq, io;

	(void)rep;
	if (!sync || sync == run || !strcmp(run->strategy, "sync") || !run->speedup_ok ||
	    run->speedup_vs_sync >= OVERHEAD_MAX_SPEEDUP)
		return false;
	csw = sw0 && (double)sw >= OVERHEAD_MIN_SWITCH_GROWTH * (double)sw0;
	rq = run->runnable_share_ok && sync->runnable_share_ok &&
	     run->runnable_share - sync->runnable_share >= OVERHEAD_MIN_RUNNABLE_PTS;
	io = ioc0 && (double)ioc >= OVERHEAD_MIN_IOCPU_GROWTH * (double)ioc0;
	if (!csw && !rq && !io)
		return false;
	/* the costs that grew past their threshold are the evidence */
	snprintf(t, len, "concurrency cost more than it won: %.2f× sync's speed",
		 run->speedup_vs_sync);
	if (csw)
		app(t, len, ", %.1f× the context switches (%llu vs %llu)", share(sw, sw0),
		    (unsigned long long)sw, (unsigned long long)sw0);
	if (rq)
		app(t, len, ", %s of ready time waiting for a CPU (sync %s)",
		    pct(run->runnable_share).s, pct(sync->runnable_share).s);
	if (io)
		app(t, len, ", %.2f× the CPU time in reads (%s vs %s)", share(ioc, ioc0),
		    un_dur(ioc).s, un_dur(ioc0).s);
	return true;
}

static bool rule_io_hidden(const struct an_run *run, const struct an_run *sync,
			   const struct an_report *rep, char *t, size_t len)
{
	(void)sync;
	(void)rep;
	if (!run->hidden_io_ok || !run->wall_ns || run->hidden_io < HIDDEN_MIN ||
	    share(run->io_ns, run->wall_ns) < HIDDEN_MIN_IO)
		return false;
	snprintf(t, len,
		 "I/O was hidden behind compute: a thread was computing during %s of the %s with "
		 "I/O under way",
		 pct(run->hidden_io).s, un_dur(run->io_ns).s);
	return true;
}

static bool rule_near_ideal(const struct an_run *run, const struct an_run *sync,
			    const struct an_report *rep, char *t, size_t len)
{
	unsigned ncpu = rep && rep->ncpu ? rep->ncpu : ncpu_of(run, rep);
	bool dev = run->ideal_dev_ns > run->ideal_cpu_ns;

	(void)sync;
	if (!run->ideal_ok || run->ideal_fraction < NEAR_IDEAL_MIN)
		return false;
	snprintf(t, len, "it reached %s of the ideal speedup (%.2f× of %.2f×; ideal wall %s, ",
		 pct(run->ideal_fraction).s, run->speedup_vs_sync, run->ideal_speedup,
		 un_dur(run->ideal_wall_ns).s);
	if (dev)
		app(t, len, "set by the device: %s at %s)", un_bytes(run->ideal_dev_bytes).s,
		    un_rate(run->ideal_dev_rate).s);
	else
		app(t, len, "set by the CPUs: %s of on-CPU work over %u %s)",
		    un_dur(run->ideal_cpu_ns * ncpu).s, ncpu, cpus(ncpu));
	return true;
}

static bool rule_lost(const struct an_run *run, const struct an_run *sync,
		      const struct an_report *rep, char *t, size_t len)
{
	uint64_t ns = run->c.lost_ns > run->gaps_ns ? run->c.lost_ns : run->gaps_ns;

	(void)sync;
	(void)rep;
	if (!run->c.lost_events && !ns)
		return false;
	snprintf(t, len, "%llu events were lost (%s of thread time with an uncertain state)",
		 (unsigned long long)run->c.lost_events, un_dur(ns).s);
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
		       const struct an_report *rep, char *t, size_t len)
{
	uint64_t all = run->machine_busy_ns + run->machine_idle_ns + run->machine_steal_ns;
	uint64_t oncpu = an_run_oncpu_ns(run);
	double sh;

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
			    const struct an_report *rep, char *t, size_t len)
{
	const struct an_process *root = run->nprocesses ? &run->processes[0] : NULL;
	size_t left = 0, suid = 0, shown = 0;

	(void)sync;
	(void)rep;
	if (!root)
		return false;
	for (size_t i = 1; i < run->nprocesses; i++)
		left += root->ended && !run->processes[i].ended;
	for (size_t i = 0; i < run->nprocesses; i++)
		suid += run->processes[i].setuid;
	if (!left && !suid)
		return false;
	t[0] = '\0';
	if (left) {
		app(t, len, "%zu process%s outlived the trace (still running when %s ended it):",
		    left, left == 1 ? "" : "es", root->comm[0] ? root->comm : "the command");
		for (size_t i = 1; i < run->nprocesses && shown < 3; i++) {
			const struct an_process *p = &run->processes[i];

			if (p->ended)
				continue;
			app(t, len, "%s %u (%.60s)", shown ? "," : "", p->pid,
			    p->cmdline[0] ? p->cmdline : p->comm);
			shown++;
		}
		if (left > shown)
			app(t, len, " and %zu more", left - shown);
		app(t, len, "; what %s did after that is not in this report",
		    left == 1 ? "it" : "they");
	}
	if (suid) {
		shown = 0;
		app(t, len, "%s%zu process%s ran a setuid program (another effective user):",
		    t[0] ? "; " : "", suid, suid == 1 ? "" : "es");
		for (size_t i = 0; i < run->nprocesses && shown < 3; i++) {
			const struct an_process *p = &run->processes[i];

			if (!p->setuid)
				continue;
			app(t, len, "%s %u (%.60s)", shown ? "," : "", p->pid,
			    p->cmdline[0] ? p->cmdline : p->comm);
			shown++;
		}
		app(t, len, ", traced like the rest (the probes see every user's processes)");
	}
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
			     const struct an_report *rep, char *t, size_t len)
{
	t[0] = '\0';
	if (!run->c.pcache_ok)
		app(t, len, "%spage_cache (page-cache insertions were not traced)",
		    t[0] ? "; " : "");
	if (!run->c.block_ok)
		app(t, len, "%sdisk (block-layer I/O was not traced)", t[0] ? "; " : "");
	if (!run->speedup_ok && lone_trace(sync, rep)) {
		/* nothing was left out: there was nothing to compare with */
	} else if (!run->speedup_ok) {
		char why[128];

		why_no_speedup(run, sync, why, sizeof(why));
		app(t, len, "%soverhead, near_ideal (%s)", t[0] ? "; " : "", why);
	} else if (!run->ideal_ok) {
		app(t, len, "%snear_ideal (%s)", t[0] ? "; " : "",
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
 * The table. Order matters twice: verdict[] lists findings in this order, and the
 * headline names the first two causes, so the more specific explanation comes first
 * (a lock or the page cache explains a saturated CPU or exposed I/O, not the reverse).
 */
const struct an_rule an_rules[] = {
	{"lock", rule_lock,
	 "only one thread computed at a time; more threads cannot help until the lock is "
	 "released around the work (or the work runs in processes)",
	 true},
	{"python_gil", rule_python,
	 "CPython releases the GIL around blocking reads (and hashlib around large buffers), so "
	 "threads can overlap reads but run Python code one at a time; a thread waiting in "
	 "join() or on a queue is counted there too",
	 false},
	{"page_cache", rule_page_cache,
	 "a cached read is a memory copy done on the CPU, so there was no disk wait to overlap",
	 true},
	{"cpu_saturated", rule_cpu_saturated,
	 "runnable threads beyond the free CPUs only queue: more (or idler) CPUs would help, "
	 "more threads would not",
	 true},
	{"disk", rule_disk,
	 "reads could not arrive faster; only a faster device (or fewer bytes) shortens this",
	 true},
	{"exposed_io", rule_exposed_io,
	 "overlap them: more reads in flight while computing (a bigger pool, a deeper io_uring "
	 "queue) would hide this wait",
	 true},
	{"overhead", rule_overhead,
	 "the extra threads added switching and queueing but no useful overlap; fewer threads "
	 "(at most the CPU count) or larger reads cost less",
	 true},
	{"wakeup_latency", rule_wakeup,
	 "each sleep costs a wake-up of an idle CPU (slow on a VM); fewer, longer waits (bigger "
	 "reads, batching hand-offs) pay it less often",
	 true},
	{"io_hidden", rule_io_hidden, "this is the overlap concurrency can buy", true},
	{"near_ideal", rule_near_ideal, "little is left to win on this machine", true},
	{"steal", rule_steal,
	 "the on-CPU and parallelism figures count it, the kernel's own accounting (rusage, "
	 "schedstat) does not; to compare strategies, rerun on a quieter host",
	 false},
	{"lost_events", rule_lost, "figures that depend on the lost part are less exact", false},
	{"visibility", rule_visibility, NULL, false},
	{"unavailable", rule_unavailable, NULL, false},
};
const size_t an_nrules = sizeof(an_rules) / sizeof(an_rules[0]);

void an_verdict_eval(struct an_run *run, const struct an_run *sync, const struct an_report *rep)
{
	char clauses[2][sizeof(run->verdict[0].text)];
	const char *sep = " — ";
	size_t nclause = 0;

	run->nverdict = 0;
	run->headline[0] = '\0';
	for (size_t i = 0; i < an_nrules && run->nverdict < AN_MAX_VERDICT; i++) {
		struct an_verdict *v = &run->verdict[run->nverdict];
		char clause[sizeof(v->text)];

		clause[0] = '\0';
		if (!an_rules[i].fires(run, sync, rep, clause, sizeof(clause)))
			continue;
		snprintf(v->rule, sizeof(v->rule), "%s", an_rules[i].id);
		snprintf(v->text, sizeof(v->text), "%s", clause);
		if (v->text[0] >= 'a' && v->text[0] <= 'z')
			v->text[0] = (char)(v->text[0] - 'a' + 'A');
		if (an_rules[i].advice)
			app(v->text, sizeof(v->text), " — %s", an_rules[i].advice);
		app(v->text, sizeof(v->text), ".");
		if (an_rules[i].cause && nclause < 2)
			memcpy(clauses[nclause++], clause, sizeof(clause));
		run->nverdict++;
	}

	/* headline: label, speedup and % of ideal, then the first causes */
	app(run->headline, sizeof(run->headline), "%s: ",
	    run->label[0] ? run->label : run->strategy);
	if (!an_run_clean(run) && run->interrupted) {
		/* its exit status is iotrace's doing, not the workload's */
		app(run->headline, sizeof(run->headline),
		    "%s, so it did not finish and these figures cover part of the work",
		    INTERRUPTED);
	} else if (!an_run_clean(run)) {
		app(run->headline, sizeof(run->headline),
		    "did not finish (exit status %d), so these figures cover part of the work",
		    run->exit_status);
	} else if (sync == run || !strcmp(run->strategy, "sync")) {
		app(run->headline, sizeof(run->headline), "baseline");
	} else if (run->speedup_ok) {
		app(run->headline, sizeof(run->headline), "%.2f× over sync", run->speedup_vs_sync);
	} else if (lone_trace(sync, rep)) {
		sep = ""; /* "python3: reads came from ...": the causes are the whole line */
	} else {
		char why[128];

		why_no_speedup(run, sync, why, sizeof(why));
		app(run->headline, sizeof(run->headline), "speedup unavailable (%s)", why);
	}
	if (run->ideal_ok)
		app(run->headline, sizeof(run->headline), " (%s of ideal %.2f×)",
		    pct(run->ideal_fraction).s, run->ideal_speedup);
	for (size_t k = 0; k < nclause; k++)
		app(run->headline, sizeof(run->headline), "%s%s", k ? "; " : sep, clauses[k]);
	if (!nclause) {
		unsigned ncpu = ncpu_of(run, rep);

		app(run->headline, sizeof(run->headline),
		    "%sno limiting cause found by the rules: parallelism %.2f of %u %s", sep,
		    run->parallelism, ncpu, cpus(ncpu));
		if (run->cpu_overlap_ok)
			app(run->headline, sizeof(run->headline),
			    ", CPU overlap of blocked time %s", pct(run->cpu_overlap).s);
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
	if (!p || strstr(p, " — no limiting cause"))
		return;
	p += strlen(" — ");
	snprintf(buf, len, "%.*s", (int)strcspn(p, ";"), p);
}

static void answer_bound(const struct an_run *best, const struct an_run *sync, unsigned ncpu,
			 char *buf, size_t len)
{
	const struct an_run *r = best ? best : sync;

	if (!r->ideal_dev_ok) {
		app(buf, len,
		    " The device rate was not measured, so how far the disk allows this to go is "
		    "unknown.");
		return;
	}
	if (r->ideal_dev_ns > r->ideal_cpu_ns)
		app(buf, len,
		    " What bounds it is the disk: %s at %s take %s, more than the %s of CPU work "
		    "spread over %u %s; past that only a faster device or fewer bytes help.",
		    un_bytes(r->ideal_dev_bytes).s, un_rate(r->ideal_dev_rate).s,
		    un_dur(r->ideal_dev_ns).s, un_dur(r->ideal_cpu_ns).s, ncpu, cpus(ncpu));
	else
		app(buf, len,
		    " What bounds it is the CPU: %s of on-CPU work over %u %s is %s, more than the "
		    "%s the disk needs; more cores would help, more threads would not.",
		    un_dur(r->ideal_cpu_ns * ncpu).s, ncpu, cpus(ncpu), un_dur(r->ideal_cpu_ns).s,
		    un_dur(r->ideal_dev_ns).s);
	if (best && verdict_of(best, "exposed_io"))
		app(buf, len,
		    " %s still left %s of compute apart from its I/O: more reads in flight (a "
		    "bigger pool, a deeper io_uring queue) would overlap more.",
		    best->strategy, un_dur(unoverlapped_compute(best)).s);
	else if (!best && verdict_of(sync, "exposed_io"))
		app(buf, len,
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

		if (yes) {
			app(buf, len, "Yes. Reading from disk (cold cache), %s %s %s of its %s",
			    bc->strategy,
			    by_overlap ? "kept the CPU busy during" : "computed during", pct(ov).s,
			    by_overlap ? "blocked time" : "I/O time");
			if (base_ok)
				app(buf, len, " (sync: %s)", pct(base).s);
			app(buf, len, " and ran %.2f× faster than sync", bc->speedup_vs_sync);
			if (bc->ideal_ok)
				app(buf, len, ", %s of the ideal %.2f×", pct(bc->ideal_fraction).s,
				    bc->ideal_speedup);
			app(buf, len, ".");
		} else {
			first_cause(bc, why, sizeof(why));
			app(buf, len,
			    "Not much here. Reading from disk (cold cache), the best strategy, %s, "
			    "ran %.2f× sync's speed",
			    bc->strategy, bc->speedup_vs_sync);
			if (bc->ideal_ok)
				app(buf, len, " (%s of the ideal %.2f×)", pct(bc->ideal_fraction).s,
				    bc->ideal_speedup);
			if (why[0])
				app(buf, len, " — %s", why);
			app(buf, len, ".");
		}
		answer_bound(bc, sc, ncpu, buf, len);
	} else if (sc) {
		app(buf, len,
		    "Reading from disk (cold cache) only sync ran: it was blocked in reads for "
		    "%s of %s",
		    un_dur(sc->blocked_ns).s, un_dur(sc->wall_ns).s);
		if (sc->cpu_overlap_ok)
			app(buf, len, " with %s CPU overlap", pct(sc->cpu_overlap).s);
		app(buf, len, "; run a concurrent strategy to see how much of it can be hidden.");
		answer_bound(NULL, sc, ncpu, buf, len);
	} else {
		app(buf, len, "No cold-cache run was made, so disk reads were not measured here "
			      "(run with --cache cold, and --throttle to emulate a slow disk).");
	}

	if (sw) {
		const struct an_verdict *pc = verdict_of(sw, "page_cache");

		if (pc)
			app(buf, len,
			    " With the files in the page cache (warm), reads are memory copies on "
			    "the CPU (hit %s, %s of read time on CPU): there is no disk wait to "
			    "overlap",
			    pct(sw->hit_ratio).s, pct(sw->read_oncpu_share).s);
		else
			app(buf, len, " With a warm cache, sync was blocked in reads for %s of %s",
			    un_dur(sw->blocked_ns).s, un_dur(sw->wall_ns).s);
		if (bw)
			app(buf, len,
			    "; concurrency can only help by computing on more CPUs, and %s ran "
			    "%.2f× sync's speed",
			    bw->strategy, bw->speedup_vs_sync);
		if (bw && bw->ideal_ok)
			app(buf, len, " (ideal %.2f× with %u %s)", bw->ideal_speedup, ncpu,
			    cpus(ncpu));
		app(buf, len, ".");
	}
}
