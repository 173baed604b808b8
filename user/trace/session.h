/* session.h - one traced run: launch start-synchronised, drain the probes, build the model. */
#ifndef IOTRACE_SESSION_H
#define IOTRACE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>

#include "model/analysis.h"
#include "tracer.h"
#include "workload.h"

/*
 * The session glues the independent modules together and is the only place that knows
 * all of them: workloads launch the child, the tracer watches it, the timeline and
 * analysis turn what was seen into an an_run. `run` and `trace` both go through here.
 */

struct ss_session {
	struct tr *tr;
	struct sym *sym;	/* NULL when stacks are off */
	volatile sig_atomic_t *stop; /* set by the signal handler */
	unsigned ncpu;
	unsigned sample_hz;
	bool stacks;
	/* per-run, private */
	/* stacks of the run so far, by tid/kind/state/stack ids (session.c) */
	struct ss_pend *pend;
	size_t npend, cappend;
	/* lock_wait stacks whose futex wait is not decided yet (session.c) */
	struct ss_defer *defer;
	size_t ndefer, capdefer;
	uint64_t stack_drops;
	struct sym *names;	/* names futex words (lock addresses), stacks or not */
	struct wt_set *waits;	/* the run's futex waits (model/waits.h) */
	/* iotrace's CPU in the windows of every ss_run so far (its tracer_cpu_ns), summed;
	 * win_unknown: one's was not known */
	uint64_t win_user_ns, win_sys_ns;
	unsigned nwin;
	bool win_unknown;
};

struct ss_spec {
	const char *label;	/* "threads/warm" */
	const char *strategy;	/* also the first frame of every stack */
	const char *cache;	/* "warm", "cold", or NULL */
	const struct wl_workload *w;	/* built-in workload, or NULL with argv */
	char *const *argv;	/* trace -- CMD */
	pid_t attach_pid;	/* trace -p PID (no launch); 0 otherwise */
	uint64_t duration_ns;	/* stop after this long (0 = until exit) */
	/* trace -- CMD: a command still running when the trace ends (-d, a signal) is not
	 * killed but handed to the caller in ss_outcome.child (the run's exit_status is then
	 * -1 and its rusage null: neither is known yet) */
	bool leave_running;
	/* if set: the launched child's pid while it may be signalled (set after the launch,
	 * 0 before the session reaps it), for a signal handler that passes signals on */
	volatile sig_atomic_t *launched_pid;
	const struct wl_opts *o;
	/* id of a cgroup the workload is alone in (--throttle's), 0 = none: see
	 * tr_start_opts.own_cgroup_id */
	uint64_t own_cgroup_id;
	/* called about every SS_TICK_MS while the run goes, with the time since its start
	 * (a progress line); NULL = none */
	void (*tick)(void *arg, uint64_t elapsed_ns);
	void *tick_arg;
};
#define SS_TICK_MS 250

struct ss_outcome {
	int status;		/* waitpid status (launched runs) */
	bool exited;		/* the child (or attached process) ended by itself */
	bool interrupted;	/* cut short by a signal to iotrace */
	bool timed_out;		/* -d elapsed */
	struct rusage ru;	/* children's rusage (launched runs) */
	struct wl_child child;	/* leave_running: the command still running (pid > 0), which
				 * the caller must wait for (wl_wait); pid -1 otherwise */
	struct wl_result res;
	char err[256];		/* set-up error reported by the child, if any */
};

int ss_open(struct ss_session *s, const struct tr_opts *o, volatile sig_atomic_t *stop, char *err,
	    size_t errlen);
void ss_close(struct ss_session *s);
/* Run one spec to completion (or interruption) and fill run. 0 or -errno (err set). */
int ss_run(struct ss_session *s, const struct ss_spec *spec, struct an_run *run,
	   struct ss_outcome *out, char *err, size_t errlen);
/* version, machine and workload fields of a report. */
void ss_report_header(struct an_report *rep, const char *workload, unsigned ncpu);
/* The exit_status figure of summary.json for a waitpid status: code, or 128+signal. */
int ss_exit_status(int status);

/* iotrace's own CPU time so far (getrusage(RUSAGE_SELF): not its children's). 0 or -errno. */
int ss_self_cpu(uint64_t *user_ns, uint64_t *sys_ns);
/* Its CPU time in the windows of the session's runs so far, summed; false when unknown (no
 * run, or one's was not known). */
bool ss_windows_cpu(const struct ss_session *s, uint64_t *user_ns, uint64_t *sys_ns);
#endif /* IOTRACE_SESSION_H */
