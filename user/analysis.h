/* analysis.h - per-run metrics, the ideal bound and the verdict; the numbers of summary.json. */
#ifndef IOTRACE_ANALYSIS_H
#define IOTRACE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

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
#define AN_MAX_VERDICT 8

/* What the tracer counted for one run, besides the timeline. */
struct an_counters {
	uint64_t reads, bytes_read;
	uint64_t pcache_insert_bytes;
	bool pcache_ok;
	uint64_t block_bytes, block_busy_ns, block_reqs;
	bool block_ok;
	uint64_t uring_submitted, uring_completed, uring_inline, uring_punted;
	bool uring_ok;
	uint64_t lost_events;	/* batches + records lost, all causes */
	uint64_t lost_ns;	/* thread-time covered by lost batches */
	uint64_t ctx_switches;
};

struct an_thread {
	uint32_t pid, tid;
	char comm[16];
	char role[32];
	uint64_t lifetime_ns;
	uint64_t states_ns[TL_NSTATES];
};

/* Folded stacks: frames "a;b;c" root first, value in samples (on-CPU) or ns (off-CPU). */
struct an_stack {
	char *frames;
	uint64_t value;
};

struct an_stackset {
	struct an_stack *v;
	size_t n, cap;
	uint64_t total;		/* sum of values */
	uint64_t errors;	/* stacks lost: map collisions, truncation, failed captures */
	char unavailable[128];	/* non-empty: why there are none (e.g. "stacks disabled") */
};

/* Add value to the stack (merging an existing identical one). 0 or -ENOMEM. */
int an_stack_add(struct an_stackset *s, const char *frames, uint64_t value);
void an_stackset_free(struct an_stackset *s);

struct an_verdict {
	char rule[32];	/* stable id: "page_cache", "cpu_saturated", "lock", "disk", ... */
	char text[512];
};

struct an_run {
	char label[64];		/* "threads/warm" */
	char strategy[32];
	char cache[8];		/* "warm", "cold", or "" (null) */
	int exit_status;	/* as in summary.json: exit code, or 128+signal */
	uint64_t wall_ns;
	uint64_t states_ns[TL_NSTATES]; /* summed over threads */
	struct an_thread *threads;
	size_t nthreads;

	uint64_t blocked_ns;	/* |U_blocked| */
	double cpu_overlap;	/* |U_blocked ∩ U_busy| / |U_blocked| */
	bool cpu_overlap_ok;	/* false when blocked_ns == 0 (JSON null) */
	uint64_t io_ns;		/* |U_io| */
	double hidden_io;
	bool hidden_io_ok;
	uint64_t exposed_io_ns;

	double parallelism;	/* on-CPU thread-ns / wall */
	unsigned ncpu;
	double concurrency[AN_MAX_CPUS + 1]; /* share of wall with k threads on CPU, k=0..ncpu */

	struct an_counters c;	/* reads, bytes, page cache, block, uring, lost */
	double hit_ratio;	/* 1 - pcache_insert_bytes / bytes_read, clamped to [0,1] */
	bool hit_ratio_ok;
	double device_rate;	/* block bytes / block busy s */
	bool device_rate_ok;
	double runnable_share;	/* runnable ns / (on-CPU + runnable ns) */

	double speedup_vs_sync;	/* sync wall / this wall */
	bool speedup_ok;
	double ideal_fraction;	/* (speedup - 1) / (ideal speedup - 1), or speedup/ideal */
	bool ideal_ok;
	uint64_t ideal_wall_ns;	/* of the sync run of the same cache mode */

	struct an_verdict verdict[AN_MAX_VERDICT];
	size_t nverdict;

	/* stacks: first frames are strategy;role;state (see reports) */
	struct an_stackset oncpu, offcpu;
	unsigned sample_hz;

	/* rendering aids carried with the model (timeline for lanes; owned by the run) */
	struct tl_timeline *tl;
};

struct an_report {
	char version[32];
	unsigned ncpu;
	char kernel[64];
	char workload[32];	/* "md5dir" | "readfile" | "fetch" | "trace" */
	char **command;		/* trace only, NULL-terminated */
	struct an_run *runs;
	size_t nruns;
	char answer[1024];	/* closing answer to the original question (md5dir) */
};

/* Fill run metrics from a finished timeline and counters. 0 or -errno. */
int an_run_compute(struct an_run *run, const struct tl_timeline *tl,
		   const struct an_counters *c, unsigned ncpu);
/* Cross-run figures: speedup vs sync, ideal bound, verdicts, the closing answer. */
int an_report_finish(struct an_report *rep);
void an_run_free(struct an_run *run);
void an_report_free(struct an_report *rep);

/* ---- verdict rules (one table in verdict.c) ---- */
struct an_rule {
	const char *id;
	/* fills text and returns true when the rule holds for run (sync = same-cache sync run or NULL) */
	bool (*fires)(const struct an_run *run, const struct an_run *sync, const struct an_report *rep,
		      char *text, size_t len);
};
extern const struct an_rule an_rules[];
extern const size_t an_nrules;
/* Evaluate all rules for one run into run->verdict. */
void an_verdict_eval(struct an_run *run, const struct an_run *sync, const struct an_report *rep);

#endif /* IOTRACE_ANALYSIS_H */
