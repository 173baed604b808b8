/* analysis.h - per-run metrics and the ideal bound: the numbers of summary.json. */
#ifndef IOTRACE_ANALYSIS_H
#define IOTRACE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline.h"
#include "waits.h"

/*
 * The analysis module is the only place a metric is computed. Its input is a finished
 * timeline plus the counters the tracer collected; its output (struct an_run, struct
 * an_report) is what every renderer reads and what summary.json serializes, field for
 * field. Renderers never compute; this module never formats output (the verdict texts
 * are the one exception: they are part of the model, as summary.json carries them).
 *
 * A figure that could not be measured carries its `*_ok` flag false (JSON null) and, where
 * it helps, a reason in `unavailable`.
 */

#define AN_MAX_CPUS 256
#define AN_MAX_VERDICT 24	/* room for every rule of an_rules[] at once */

/* What the tracer counted for one run, besides the timeline. */
struct an_counters {
	uint64_t reads, bytes_read;
	/*
	 * bytes_read by what was read (kinds.h's order: file, pipe, socket, other; "not known"
	 * counted as other), summing to bytes_read. Not ok when the read kinds were not traced
	 * (or a file before them).
	 */
	uint64_t bytes_read_by_kind[WT_NIO_SLOTS];
	bool bytes_kind_ok;
	/*
	 * Of bytes_read_by_kind's file bytes, those read from files opened O_DIRECT (read
	 * family and io_uring): they bypass the page cache, so the hit ratio leaves them out.
	 * Not ok when not traced (read kinds off, a file saved before it).
	 */
	uint64_t bytes_read_direct;
	bool bytes_direct_ok;
	uint64_t pcache_insert_bytes;
	bool pcache_ok;
	/*
	 * Of pcache_insert_bytes, by what the inserting thread was doing (pcache_cause_ok):
	 * in a read-family call or an io_uring read (the reads' misses and their readahead);
	 * at a page fault (binaries and libraries paged in, files read through mmap); the
	 * rest in other syscalls (writes, execve, fadvise) and io_uring writes.
	 */
	uint64_t pcache_read_bytes, pcache_fault_bytes, pcache_other_bytes;
	bool pcache_cause_ok;
	uint64_t block_bytes, block_busy_ns, block_reqs;
	bool block_ok;
	uint64_t uring_submitted, uring_completed, uring_inline, uring_punted;
	bool uring_ok;
	/* completions by where they ran (uring_ok): within the submitting call (= inline),
	 * later by task work in the submitter, or after a punt to an io-wq worker */
	uint64_t uring_at_submit, uring_task_work, uring_io_wq;
	bool uring_paths_ok;	/* those three were counted (not in older summary.json files) */
	uint64_t lost_events;	/* batches + records lost, all causes */
	uint64_t lost_ns;	/* thread-time covered by lost batches */
	/* of it, the part whose time in each state the kernel's totals gave back exactly
	 * (only the order of the transitions there is lost) */
	uint64_t lost_exact_ns;
	uint64_t ctx_switches;
	bool stolen_ok;		/* the probes measured steal (the threads' stolen_ns) */
};

struct an_thread {
	uint32_t pid, tid;
	char comm[16];
	char role[32];
	uint64_t lifetime_ns;
	uint64_t states_ns[TL_NSTATES];
	uint64_t reads, bytes_read, ctx_switches; /* as the tracer attached them to tl_thread */
	/* bytes_read by what was read (as an_counters'); not ok (null) when the run's is not */
	uint64_t bytes_read_by_kind[WT_NIO_SLOTS];
	bool bytes_kind_ok;
	uint64_t bytes_read_direct;	/* of the file bytes, read O_DIRECT (as an_counters') */
	bool bytes_direct_ok;
	/*
	 * Part of its on-CPU time (compute + io_cpu) that the scheduler did not count as run
	 * time: the hypervisor ran something else on the vCPU (steal). The switch times are the
	 * guest's, so the states include it; rusage and schedstat do not.
	 */
	uint64_t stolen_ns;
	uint64_t gap_ns;	/* part of the lifetime whose transitions were lost */
	/*
	 * What the waits were for (kinds.h, in its order; "not known" counted as other): each
	 * split sums exactly to its state's states_ns. Not ok (JSON null) in files before it.
	 */
	uint64_t io_wait_by_kind_ns[WT_NIO_SLOTS], io_cpu_by_kind_ns[WT_NIO_SLOTS];
	uint64_t lock_wait_by_kind_ns[WT_NLK_SLOTS];
	bool by_kind_ok;
	/* other_wait by what it waited for (wt_other_slot: child, other); not ok in files
	 * before it */
	uint64_t other_wait_by_kind_ns[WT_NOW_SLOTS];
	bool other_kind_ok;
	/* poll_wait by what ended it (wt_poll_slot); not ok in files before it */
	uint64_t poll_wait_by_kind_ns[WT_NPW_SLOTS];
	bool poll_kind_ok;
};

/*
 * One process of the target (trace follows a program's children): who started it, what it
 * ran, when, how it ended, and its threads' figures summed (an_run_set_processes).
 */
struct an_process {
	uint32_t pid, ppid;
	char comm[16];
	char cmdline[256];	/* argv joined by spaces, cut at 255 bytes ("" unknown) */
	uint64_t start_ns;	/* from the window start (0: it existed before the trace) */
	uint64_t end_ns;	/* its last thread's exit, from the window start; if ended */
	bool ended;		/* it ended inside the trace; false: still running at its end */
	bool before;		/* it existed before the trace began (-p) */
	bool setuid;		/* ran a program whose effective uid is not its user's */
	bool exit_lost;		/* not ended in the trace, yet gone at its end: its exit's record
				 * was lost (a full ring buffer); it did not outlive the trace */
	int exit_status;	/* as summary.json's: exit code, or 128+signal; -1 unknown */
	/* its threads' figures, summed */
	uint32_t nthreads;
	uint64_t states_ns[TL_NSTATES];
	uint64_t stolen_ns, reads, bytes_read, ctx_switches;
	uint64_t bytes_read_by_kind[WT_NIO_SLOTS];
	bool bytes_kind_ok;	/* every one of its threads' is */
	uint64_t bytes_read_direct;
	bool bytes_direct_ok;	/* every one of its threads' is */
};

/*
 * A socket a traced process waited on whose other end is not traced (trace only): a
 * process of this machine, found by its socket, or another host. The work that end did
 * while the traced process waited is not in the report; the waits are (io_wait in a
 * receive, poll_wait in a poll whose next read was on it). One entry per waiting process
 * and other end, its connections summed.
 */
struct an_sockpeer {
	uint32_t pid;		/* the traced process that waited */
	char comm[16];
	char addr[64];		/* the other end: "127.0.0.1:8000", "[::1]:80", "unix socket" */
	bool local;		/* on this machine */
	uint32_t peer_pid;	/* its process, 0 not known */
	char peer_comm[16];
	char peer_cmdline[128];	/* argv joined by spaces ("" not known) */
	uint32_t sockets;	/* connections summed into this entry */
	uint64_t wait_ns;	/* recv_wait_ns + poll_wait_ns */
	uint64_t recv_wait_ns, recv_waits;
	uint64_t poll_wait_ns, poll_waits;
};

/* Folded stacks: frames "a;b;c" root first, value in samples (on-CPU) or ns (off-CPU). */
struct an_stack {
	char *frames;
	uint64_t value;
};

/*
 * How a stack's user frames were found. Every stack of a set is one of these, so a set's
 * total is the sum of its figures for each (an_stack_by_user, an_stack_user_sum).
 */
enum an_ustack {
	AN_US_UNWOUND,		/* with the CFI from a copy (or a place unwound before) to the
				 * thread's start */
	AN_US_CUT_SHORT,	/* ... stopped short of it ([truncated]) */
	AN_US_OVER_BUDGET,	/* not copied, over the off-CPU byte budget: frame pointers */
	AN_US_COPY_FAILED,	/* the probe's copy failed (stack unreadable, ring full):
				 * frame pointers */
	AN_US_COPY_LOST,	/* copied, the copy never reached the unwinder: no user frames */
	AN_US_UNWIND_FAILED,	/* copied, the unwinder failed on it: no user frames */
	AN_US_KERNEL_ONLY,	/* the thread had no user registers (an io_uring worker, a
				 * kernel thread): nothing to copy */
	AN_US_COPIES_OFF,	/* no copies in the run (no helpers, not x86-64): frame pointers */
	AN_NUSTACK
};

struct an_stackset {
	struct an_stack *v;
	size_t n, cap;
	uint64_t total;		/* sum of values */
	uint64_t errors;	/* stacks lost: map collisions, truncation, failed captures */
	uint64_t unwound;	/* of total: user frames unwound with the CFI to the thread's
				 * start (the rest: frame pointers, no user stack, or an unwind
				 * that stopped short: [truncated]) */
	uint64_t cut_short;	/* of total: unwound with the CFI from a copy but short of the
				 * thread's start ([truncated]): the copy ended too soon, or a
				 * frame the unwinder could not step out of */
	/* of total, the rest by why it was not unwound (enum an_ustack's order) */
	uint64_t over_budget, copy_failed, copy_lost, unwind_failed, kernel_only, copies_off;
	char unavailable[128];	/* non-empty: why there are none (e.g. "stacks disabled") */
	/* private to analysis.c: hash index over v */
	uint32_t *hidx;
	size_t hcap, hn;
};

/*
 * Add value to the stack (merging an existing identical one, found by hash). 0 or -ENOMEM.
 * v may be appended to by hand between calls (the index is rebuilt when n moved); reorder
 * it only after the last an_stack_add, or identical stacks may no longer merge.
 */
int an_stack_add(struct an_stackset *s, const char *frames, uint64_t value);
void an_stackset_free(struct an_stackset *s);
/* Share of s's total whose user frames were unwound with the CFI whole (0 when empty). */
double an_stack_unwound_share(const struct an_stackset *s);
/* Add value to s's figure for how (an_stack_add counts it in total). 0 or -EINVAL. */
int an_stack_count_user(struct an_stackset *s, enum an_ustack how, uint64_t value);
/* s's figure for how (unwound, cut_short, over_budget, ...). */
uint64_t an_stack_by_user(const struct an_stackset *s, enum an_ustack how);
/* ... as a share of s's total (0 when empty). */
double an_stack_user_share(const struct an_stackset *s, enum an_ustack how);
/* The sum of its figures over every how: total, when each stack was counted once. */
uint64_t an_stack_user_sum(const struct an_stackset *s);
/* The key of how in summary.json's stacks.oncpu/offcpu ("unwound", "over_budget", ...). */
const char *an_ustack_name(enum an_ustack how);

struct an_verdict {
	char rule[32];	/* stable id: "page_cache", "cpu_saturated", "lock", "disk", ... */
	char text[512];
	/* the share of the wall (or of ncpu x wall: share_of) the line explains; not ok for notes */
	double share;
	bool share_ok;
	char share_of[12];	/* "wall", "capacity", or "" */
};

/*
 * One traced run. an_run_compute fills the measurements (integers, from the timeline and
 * counters) and derives the ratios (an_run_derive); an_report_derive adds what needs the
 * other runs (speedup, ideal bound), and the verdict (verdict.h) is drawn from them all. The
 * caller's fields (label, strategy,
 * cache, exit_status, interrupted, rusage, resident_before, stacks, sample_hz) are never
 * touched by them.
 *
 * Verdict: verdict[] holds every rule of an_rules[] that fired, in table order, each
 * text a sentence with its evidence numbers. headline is the run's one line: label,
 * speedup vs sync and % of ideal, then the first (up to two) causes that fired, e.g.
 * "threads/warm: 1.02× over sync (51% of ideal 2.00×) — reads came from the page cache
 * (hit 100%, 97% of read time on CPU copying); ...".
 */
/* One repetition of a run (iotrace run --repeat): what the spread is drawn from. */
struct an_repeat {
	uint64_t wall_ns;
	uint64_t oncpu_ns;	/* compute + io_cpu of every thread */
	uint64_t io_ns, exposed_io_ns;
	double hidden_io;
	bool hidden_io_ok;
};

struct an_run {
	char label[64];		/* "threads/warm" */
	char strategy[32];
	char cache[8];		/* "warm", "cold", or "" (null) */
	int exit_status;	/* as in summary.json: exit code, or 128+signal */
	/* the user stopped iotrace (Ctrl-C) before the run ended by itself: exit_status is
	 * then what stopping did (iotrace's SIGKILL, 137), not the workload's fault */
	bool interrupted;
	/*
	 * Caller's: the launched child's rusage (wait4: the child and the descendants it
	 * reaped), an independent check of the on-CPU states. Not ok (JSON null) for runs
	 * attached to a process iotrace did not start. Of it, outside the window: setup_ns
	 * before it (the child's set-up until release) and exit_ns after it (a built-in
	 * workload's exit once its work returned, which the probes do not see); each not ok
	 * (JSON null) when unknown.
	 */
	uint64_t rusage_utime_ns, rusage_stime_ns, rusage_setup_ns, rusage_exit_ns;
	bool rusage_ok, rusage_setup_ok, rusage_exit_ok;
	/*
	 * Caller's: what the whole machine's CPUs did over the run (/proc/stat deltas, tick
	 * resolution): busy (user, system, irq; this program included), idle (idle, iowait)
	 * and steal (taken by the hypervisor), in CPU-ns. Tells threads queued behind other
	 * work from threads slow to be woken on idle CPUs. Not ok (JSON null) when unknown.
	 */
	uint64_t machine_busy_ns, machine_idle_ns, machine_steal_ns;
	uint64_t machine_iotrace_ns;	/* of busy: iotrace's own CPU time (RUSAGE_SELF) */
	bool machine_ok;
	/*
	 * Caller's: iotrace's own CPU time over the same window, user and system
	 * (getrusage(RUSAGE_SELF) deltas: its consumer draining the ring, reading the traced
	 * processes' maps and symbols, unwinding their stack copies). The probes never count
	 * it: they follow the traced processes only, so it is part of the machine's "other
	 * work". Not ok (JSON null) when unknown (files from before it).
	 */
	uint64_t tracer_user_ns, tracer_sys_ns;
	bool tracer_cpu_ok;
	/* (tracer_user_ns + tracer_sys_ns) / the machine's CPU time in the window (busy + idle
	 * + steal); an_run_tracer_cpu sets it; not ok without both */
	double tracer_cpu_share;
	bool tracer_cpu_share_ok;
	/* sum of the threads' stolen_ns (an_thread); not ok (JSON null) in files before it */
	uint64_t stolen_ns;
	bool stolen_ok;
	uint64_t wall_ns;
	/*
	 * The run's repetitions (iotrace run --repeat N), in the order they ran; the run's own
	 * figures are those of the median one (by wall; the lower middle one for an even N), so
	 * wall_ns is the median wall. None (0) for a run made once: it is its own. wall_min_ns and
	 * wall_max_ns: the spread (= wall_ns without repetitions; an_run_derive sets them).
	 */
	struct an_repeat *repeats;
	size_t nrepeats;
	uint64_t wall_min_ns, wall_max_ns;
	uint64_t states_ns[TL_NSTATES]; /* summed over threads */
	struct an_thread *threads;
	size_t nthreads;
	/* the processes, in order of appearance; none for a built-in workload's run */
	struct an_process *processes;
	size_t nprocesses;
	/* sockets waited on whose other end is not traced, most waited first (trace only) */
	struct an_sockpeer *sockpeers;
	size_t nsockpeers;

	uint64_t blocked_ns;	/* |U_blocked| */
	uint64_t blocked_busy_ns; /* |U_blocked ∩ U_busy| (the numerator of cpu_overlap) */
	double cpu_overlap;	/* |U_blocked ∩ U_busy| / |U_blocked| */
	bool cpu_overlap_ok;	/* false when blocked_ns == 0 (JSON null) */
	uint64_t io_ns;		/* |U_io| */
	double hidden_io;
	bool hidden_io_ok;	/* false when io_ns == 0 */
	uint64_t exposed_io_ns;	/* |U_io \ U_cpu|; hidden_io = 1 - exposed / io_ns */
	uint64_t computing_ns;	/* |U_cpu|: wall time with at least one thread in compute */
	/*
	 * Of U_io, the time only the device was busy for the run (readahead, throttled
	 * dispatch: no thread in a read, no request in flight) while some thread computed:
	 * hidden_io_readahead = io_block_only_computing_ns / io_ns, the share of U_io hidden by
	 * the kernel's own I/O alone. Not ok (JSON null) when io_ns is 0 or in older files.
	 */
	uint64_t io_block_only_ns, io_block_only_computing_ns;
	bool io_block_only_ok;
	/*
	 * Of exposed_io_ns, the time the only I/O under way was threads waiting on pipes,
	 * sockets or other non-storage files: a peer's work, not storage. Ok with
	 * io_block_only_ok's measures (from the same sweep); 0 in files before it.
	 */
	uint64_t exposed_io_peer_ns;
	bool exposed_io_peer_ok;
	double hidden_io_readahead;
	bool hidden_io_readahead_ok;
	/* the threads' splits summed (see an_thread); ok when every thread's is */
	uint64_t io_wait_by_kind_ns[WT_NIO_SLOTS], io_cpu_by_kind_ns[WT_NIO_SLOTS];
	uint64_t lock_wait_by_kind_ns[WT_NLK_SLOTS];
	bool by_kind_ok;
	uint64_t other_wait_by_kind_ns[WT_NOW_SLOTS];
	bool other_kind_ok;
	uint64_t poll_wait_by_kind_ns[WT_NPW_SLOTS];
	bool poll_kind_ok;
	/* the futex words waited on, largest wait first (model/waits.h; owned) */
	struct wt_lock *locks;
	size_t nlocks;
	/*
	 * What bounded the wall (timeline.h's TL_BOUNDS, time-model.md): each instant to the
	 * first bound that holds; sums to wall_ns exactly. Not ok (JSON null) in files before it.
	 */
	uint64_t bound_ns[TL_NBOUNDS];
	bool bound_ok;
	/*
	 * Capacity: CPU-ns of ncpu x wall no thread of the run used, by why (TL_UNUSED); with
	 * the on-CPU time (states compute + io_cpu) it sums to ncpu x wall exactly. Not ok
	 * when the timeline was not told the CPUs (tl_set_ncpu) or in files before it.
	 */
	uint64_t unused_cpu_ns[TL_NUNUSED];
	bool unused_cpu_ok;

	double parallelism;	/* on-CPU thread-ns / wall */
	unsigned ncpu;
	double concurrency[AN_MAX_CPUS + 1]; /* share of wall with k threads on CPU, k=0..ncpu */
	uint64_t concurrency_ns[AN_MAX_CPUS + 1]; /* the same in ns (last bin: >= ncpu) */

	struct an_counters c;	/* reads, bytes, page cache, block, uring, lost */
	/*
	 * File reads' page-cache hit ratio: 1 - pcache_read_bytes / buffered file bytes read
	 * (the file bytes less those read O_DIRECT, which bypass the cache), clamped to [0,1]
	 * (readahead can insert more than was read). Not ok when no buffered file bytes were
	 * read (none at all, or all O_DIRECT), or insertions or read kinds were not traced:
	 * hit_ratio_unavailable says why.
	 */
	double hit_ratio;
	bool hit_ratio_ok;
	char hit_ratio_unavailable[96];
	uint64_t hit_ratio_bytes;	/* the buffered file bytes it is over (when ok) */
	double device_rate;	/* block bytes / block busy s */
	bool device_rate_ok;
	double runnable_share;	/* runnable ns / (on-CPU + runnable ns) */
	bool runnable_share_ok;	/* false when no thread was ever on CPU or runnable */
	double read_oncpu_share; /* io_cpu / (io_cpu + io_wait): read time spent on CPU */
	bool read_oncpu_share_ok; /* false when no time was spent in reads */
	uint64_t switches;	/* switch-outs (on CPU -> off) seen in the timeline */
	uint64_t gaps_ns;	/* thread-time whose transitions were lost (tl->gaps_ns) */
	/*
	 * Drawing only: the timeline's spans before spans_exact_from_ns (from the window
	 * start) are downsampled to bins of spans_resolution_ns to bound memory and report
	 * size on long runs (0: every span exact). Every figure above is exact regardless.
	 */
	uint64_t spans_exact_from_ns, spans_resolution_ns;
	double resident_before;	/* caller's: dataset share cached before the run, <0 unknown */

	double speedup_vs_sync;	/* sync wall / this wall */
	bool speedup_ok;	/* false without a clean sync run of the same cache mode, or if
				 * this run did not finish cleanly (see an_run_clean) */
	/*
	 * The ideal bound, from the least work the clean runs of the cache mode needed (sync's,
	 * unless another run needed less):
	 *   ideal wall = max(ideal_cpu_ns, ideal_dev_ns)
	 *   ideal_cpu_ns = the least on-CPU time (compute + io_cpu, less stolen_ns) / ncpu
	 *   ideal_dev_ns = ideal_dev_bytes / ideal_dev_rate, where the bytes are the least
	 *     block bytes (page-cache insertions if block I/O was not traced) and the rate the
	 *     best achieved in the report (an_report.device_rate_best; the throttle when none).
	 * ideal_speedup = sync wall / ideal wall; ideal_fraction = speedup / ideal_speedup
	 * (= ideal wall / this wall). ideal_ok is false when a needed input is unavailable
	 * (no sync run, device bytes or rate unknown while bytes came from the device).
	 */
	double ideal_fraction;
	bool ideal_ok;
	uint64_t ideal_wall_ns;	/* of the sync run of the same cache mode */
	double ideal_speedup;
	uint64_t ideal_cpu_ns, ideal_dev_ns;
	bool ideal_dev_ok;	/* the device term is known (0 when no bytes came from it) */
	uint64_t ideal_dev_bytes;
	double ideal_dev_rate;	/* bytes/s used for ideal_dev_ns; 0 when unknown */

	struct an_verdict verdict[AN_MAX_VERDICT];
	size_t nverdict;
	char headline[512];

	/* stacks: first frames are strategy;role;state (see reports) */
	struct an_stackset oncpu, offcpu;
	unsigned sample_hz;
	/* user stack copies for the CFI unwinding (ucopy_ok: they were on): made, their
	 * bytes, off-CPU ones left out for the byte budget, switch-outs at a place unwound
	 * before (no copy needed); copies that failed in the probe, stacks whose copy never
	 * reached the unwinder, copies it failed on (the stacks' weights: oncpu/offcpu's
	 * copy_failed, ...); bytes per second of the wall */
	bool ucopy_ok;
	uint64_t ucopies, ucopy_bytes, ucopy_skipped, ucopy_reused;
	uint64_t ucopy_failed, ucopy_lost, ucopy_unwind_failed;
	double ucopy_bps;
	/* ELF files mapped for the stacks' unwinding and names in the run, and the
	 * references to them the processes' modules took (elf_ok: stacks were on) */
	bool elf_ok;
	uint64_t elf_files_mapped, elf_file_uses;
	/*
	 * both on one scale, µs. Traced runs: exact (an_wall_add_exact): per thread and
	 * state, the stacks give the shape and the thread's exact state total the size, so
	 * the frames under a thread's state add up to its figure in the thread table. Runs
	 * loaded without wall.folded: samples x 1e6/hz plus off-CPU ns / 1000 (an_run_wall).
	 */
	struct an_stackset wall;

	/* rendering aids carried with the model (timeline for lanes; owned by the run) */
	struct tl_timeline *tl;
};
/*
 * The run's user stack copies and how much of its stacks they unwound, the rest by why:
 * "user stacks: 1.2 MiB copied for unwinding (...); unwound with the CFI to the thread's
 * start: 100% of on-CPU samples, 97.9% of off-CPU time (the rest: 2.1% not copied, over
 * the byte budget) ...". false (buf "") when copies were off.
 */
bool an_unwind_line(const struct an_run *run, char *buf, size_t len);

struct an_report {
	char version[32];
	unsigned ncpu;
	char kernel[64];
	char workload[32];	/* "md5dir" | "readfile" | "fetch" | "trace" */
	char **command;		/* trace only, NULL-terminated */
	struct an_run *runs;
	size_t nruns;
	uint64_t throttle_bps;	/* --throttle read limit in bytes/s, 0 = none (caller's) */
	/* best block bytes / block busy over the runs (those moving >= 1 MiB if any did) */
	double device_rate_best;
	bool device_rate_best_ok;
	/*
	 * The device's ceiling (caller's): how fast storage delivered the dataset's files to a
	 * reader keeping it busy (iotrace run: O_DIRECT reads, qd in flight of block bytes each,
	 * inside the throttle's cgroup when throttled), measured once per report before the
	 * cold runs. Not ok when not measured: device_ceiling_unavailable says why ("" when
	 * nobody said), and an_device_ceiling falls back to the best whole-run throughput.
	 */
	double device_ceiling_bps;
	bool device_ceiling_ok;
	char device_ceiling_method[32];	/* "o_direct" when measured */
	uint64_t device_ceiling_bytes, device_ceiling_ns;
	/* the calibration's whole cost to the run (listing the files, its process, the reads):
	 * issue 14 holds it to a tenth of a default run; 0 when not measured */
	uint64_t device_ceiling_elapsed_ns;
	unsigned device_ceiling_qd, device_ceiling_block;
	bool device_ceiling_throttled;
	char device_ceiling_unavailable[160];
	/* the caller's workload asks the question the Answer answers (md5dir: its struct
	 * wl_workload says so); md_report_finish writes the answer only then */
	bool want_answer;
	char answer[4096];	/* closing answer to the original question */
	/* md5dir's --readahead: "on" or "off"; "" when the workload has no such switch */
	char readahead[8];
	/* what `iotrace run` did before the first measured run so none pays first-use costs
	 * alone; "" when nothing (trace) */
	char warmup[512];
	/*
	 * iotrace's own CPU time, user and system (getrusage(RUSAGE_SELF): its workloads,
	 * children, are not in it), over the whole command until summary.json was written
	 * (total: the probes' load, preparing the datasets, every run's window, the drain after
	 * each exit, the analysis, the rest of the report folder), the part of it inside the
	 * runs' windows (every repetition's tracer_cpu_ns summed), and the rest, outside them.
	 * an_report_tracer_cpu sets them; each not ok (JSON null) when unknown.
	 */
	uint64_t tracer_total_user_ns, tracer_total_sys_ns;
	bool tracer_total_ok;
	uint64_t tracer_windows_user_ns, tracer_windows_sys_ns;
	uint64_t tracer_outside_user_ns, tracer_outside_sys_ns;
	bool tracer_outside_ok;	/* ... and tracer_windows_*: every window's was known */
};

/*
 * Set the report's iotrace CPU (struct an_report's tracer_*): total_* so far, win_* the
 * windows' sum (win_ok: every run's was known), outside = total - windows, part by part
 * (a part's windows above its total, a tick of rounding, counts as none outside).
 */
void an_report_tracer_cpu(struct an_report *r, uint64_t total_user, uint64_t total_sys,
			  uint64_t win_user, uint64_t win_sys, bool win_ok);

/* The repetition a finished run is (its wall, on-CPU time, I/O figures). */
void an_repeat_of(const struct an_run *run, struct an_repeat *r);
/* Index of the median of n walls (the lower middle one for an even n): the repetition whose
 * figures stand for the run. n > 0. */
size_t an_median_index(const uint64_t *walls, size_t n);
/* Attach the repetitions (the run takes reps, malloc'd) and derive the spread. */
void an_run_set_repeats(struct an_run *run, struct an_repeat *reps, size_t n);
/*
 * Fold the repetitions of each run (runs of the report with the same label, as `iotrace run
 * --repeat` appends them, interleaved) into one run: the median one by wall, carrying every
 * repetition's figures in its repeats; the others are freed. Each label keeps the place of
 * its first repetition. 0 or -ENOMEM (the report is then unchanged).
 */
int an_report_fold_repeats(struct an_report *rep);
/*
 * Noise (noise.c): can two repeated runs' walls be told apart? The exact two-sided
 * Wilcoxon-Mann-Whitney rank-sum test on their repetitions' walls (docs/time-model.md,
 * "Repetitions and noise"). an_rank_u: U, the pairs (x_i, y_j) with x_i < y_j, a tie
 * counting half. an_rank_p: the two-sided p-value, the share of the C(n+m, n) equally likely
 * splits of the walls whose U is at least as far from nm/2 as the one seen (exact while n and
 * m are both at most AN_RANK_EXACT_MAX, a normal approximation beyond); 1 for an empty side.
 * an_noise_p: that p for two runs' repetitions, or -1 when either was not repeated (a single
 * measurement says nothing of noise). an_within_noise: both repeated and p > AN_NOISE_ALPHA.
 * With 3 runs each, the smallest p is 2/20 = 0.10: only a complete separation (every run of
 * one faster than every run of the other) tells them apart; with 2 each nothing can (1/3).
 */
#define AN_NOISE_ALPHA 0.10
#define AN_RANK_EXACT_MAX 25
double an_rank_u(const uint64_t *x, size_t n, const uint64_t *y, size_t m);
double an_rank_p(const uint64_t *x, size_t n, const uint64_t *y, size_t m);
double an_noise_p(const struct an_run *a, const struct an_run *b);
bool an_within_noise(const struct an_run *a, const struct an_run *b);

/*
 * The stacks' state frame, split by what the wait was for: io_wait, lock_wait and other_wait
 * stacks go under "STATE: KIND" ("lock_wait: join", "io_wait: pipe", "other_wait: child"),
 * one frame per slot of the state's split (waits.h: "not known" counted with other), so a
 * flame graph tells contention from a join, a disk read from a pipe, and the frames under
 * each add up to the split's figure (io_wait_by_kind_ns...). Other states keep the bare
 * name, as do files saved before the split.
 */
#define AN_MAX_SLOTS 8
/* Slots of st's split, 0 for a state not split. */
unsigned an_state_slots(enum tl_state st);
/* The slot of kind k (tl_io_kind, tl_lock_kind or tl_other_kind, by st); 0 if not split. */
unsigned an_kind_slot(enum tl_state st, unsigned k);
/* The slot's name as the frame and summary.json's keys have it ("join"); NULL if none. */
const char *an_slot_name(enum tl_state st, unsigned slot);
/* "STATE: KIND" into buf (just "STATE" for a state not split); buf. */
char *an_state_frame(char *buf, size_t len, enum tl_state st, unsigned slot);
/*
 * A state frame (n bytes at name): its state and *slot (-1 for a bare state name), or -1
 * when name is no state frame.
 */
int an_state_frame_parse(const char *name, size_t n, int *slot);
/* A thread's exact time in each slot of st's split (its *_by_kind_ns); false if unknown. */
bool an_thread_slot_ns(const struct an_thread *th, enum tl_state st, uint64_t *ns);

/* Build run->wall from run->oncpu and run->offcpu (each stack rounded to whole µs). */
int an_run_wall(struct an_run *run);
/*
 * Add one thread's stacks of one state to wall (µs), sized exactly: frames[i] weighs
 * weights[i] (samples or ns: only their proportions count) and together they take
 * exact_ns, rounded to whole µs, split by largest remainders so that the µs added sum to
 * exactly round(exact_ns / 1000). With no weight at all the whole goes to `none` (a
 * thread that ran between two samples). 0 or -ENOMEM.
 */
int an_wall_add_exact(struct an_stackset *wall, const char *const *frames,
		      const uint64_t *weights, size_t n, uint64_t exact_ns, const char *none);
/*
 * The same for a state split by kind: frames[i] is of slot slot[i], and the state's
 * exact_ns (slot_ns[k] of it in slot k, nslots of them) rounded to whole µs is first split
 * among the slots, each getting floor(slot_ns / 1000) and the µs left going to the largest
 * remainders (the lower slot between equals), so the state keeps its figure and each slot
 * its own to within a µs; each slot's stacks then share its µs as above, none[k] taking a
 * slot with time but no stack. 0 or -ENOMEM; -EINVAL if slot_ns does not sum to exact_ns
 * or a slot is out of range.
 */
int an_wall_add_split(struct an_stackset *wall, const char *const *frames,
		      const uint64_t *weights, const unsigned *slot, size_t n, uint64_t exact_ns,
		      const uint64_t *slot_ns, unsigned nslots, const char *const *none);
/*
 * Fill run metrics from a finished timeline and counters (c may be NULL: all counters
 * unavailable). On success the run owns tl (run->tl, freed by an_run_free) even though
 * it is passed const. Threads with no lifetime in the window are left out of
 * run->threads. 0, or -EINVAL (tl not finished, ncpu 0) / -ENOMEM.
 */
int an_run_compute(struct an_run *run, const struct tl_timeline *tl,
		   const struct an_counters *c, unsigned ncpu);
/*
 * Recompute every ratio of the run from its integer fields (wall, states, blocked_ns,
 * blocked_busy_ns, io_ns, exposed_io_ns, concurrency_ns, ncpu, counters): for loaders of
 * saved runs, so re-rendering gives the same figures. an_run_compute calls it.
 */
void an_run_derive(struct an_run *run);
/* Cross-run figures: speedup vs sync, ideal bound (the verdicts and the answer, which read
 * them, are verdict.h's; md_report_finish runs both). Idempotent. 0 or -EINVAL. */
int an_report_derive(struct an_report *rep);
/* Did the run do all its work (exit status 0, or -1 = attached, no status)? Speedups and
 * the ideal bound need clean runs on both sides. */
bool an_run_clean(const struct an_run *run);
/* The threads' on-CPU time (compute + io_cpu); and that less what the hypervisor stole
 * (stolen_ns, where measured): the run time the kernel's own accounting counts. */
uint64_t an_run_oncpu_ns(const struct an_run *run);
uint64_t an_run_ran_ns(const struct an_run *run);
/*
 * iotrace's own CPU time over the run's window, user and system: sets tracer_* and, when
 * the machine's CPU time is known (machine_ok, set first), tracer_cpu_share.
 */
void an_run_tracer_cpu(struct an_run *run, uint64_t user_ns, uint64_t sys_ns);
/* iotrace's own CPU time in the window (tracer_user_ns + tracer_sys_ns; in a file from
 * before them, machine_cpu's iotrace_ns); false when unknown. */
bool an_run_tracer_ns(const struct an_run *run, uint64_t *ns);
/*
 * The machine's "other work": its busy CPU time in the window less what this run's threads
 * ran (an_run_ran_ns), iotrace's own included; /proc/stat's tick resolution, so never less
 * than iotrace's own exact figure (an_run_tracer_ns), which the ticks can undercount (make
 * -j2: 24.1 ms of other work by the ticks beside 32.8 ms of iotrace's). False without
 * machine_ok.
 */
bool an_run_other_work_ns(const struct an_run *run, uint64_t *ns);
/*
 * Storage throughput of a run over its whole wall (block bytes / wall, bytes/s); false when
 * block I/O was not traced or the run has no wall.
 */
bool an_run_throughput(const struct an_run *run, double *bps);
/*
 * The rate storage can deliver, for the ideal bound and the disk-bound test: the measured
 * ceiling (*measured true), else the best whole-run throughput of the report's clean runs
 * that moved >= 1 MiB (never a rate over busy stretches alone: a reader with one request
 * in flight sees each request's latency, and a throttle holds requests before they reach
 * the device), else the throttle. false when none is known. The ideal bound takes the
 * larger of it and the best whole-run throughput (a short run behind a throttle can beat
 * the sustained ceiling by the throttle's first slice).
 */
bool an_device_ceiling(const struct an_report *rep, double *bps, bool *measured);
/*
 * Disk-bound: the run moved >= 1 MiB at >= AN_DISK_BOUND_SHARE of the measured ceiling
 * over its wall (*share: that fraction, when a ceiling is measured). false without one.
 */
#define AN_DISK_BOUND_SHARE 0.90
bool an_run_disk_bound(const struct an_run *run, const struct an_report *rep, double *share);
/* The sync run with the same cache mode as run (run itself if it is one), or NULL. */
const struct an_run *an_sync_of(const struct an_report *rep, const struct an_run *run);
/*
 * Take n processes (copied; pid, ppid, comm, cmdline, times, status, flags set) and sum
 * each one's threads into it (nthreads, states, reads...): a thread belongs to the last
 * process listed with its pid. Call after an_run_compute. 0 or -ENOMEM.
 */
int an_run_set_processes(struct an_run *run, const struct an_process *p, size_t n);
/* Copy the sockets' other ends into run, most waited first (wait_ns: the two waits' sum).
 * 0 or -ENOMEM. */
int an_run_set_sockpeers(struct an_run *run, const struct an_sockpeer *p, size_t n);
void an_run_free(struct an_run *run);
void an_report_free(struct an_report *rep);
/*
 * Move every run of reps[0..n) into out (zeroed first), in order, each labelled
 * "<names[i]>:<label>" and keeping its own figures (nothing is recomputed); the sources
 * are left without runs. out's kernel/workload are the sources' or "mixed", its throttle
 * theirs or 0, its answer one line per source with an answer; version is the caller's.
 * 0, -EINVAL (n == 0) or -ENOMEM (out then holds nothing). merge.c.
 */
int an_report_merge(struct an_report *reps, const char *const *names, size_t n,
		    struct an_report *out);

#endif /* IOTRACE_ANALYSIS_H */
