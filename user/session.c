/* session.c - one traced run: launch start-synchronised, drain the probes, build the model. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "session.h"
#include "symbols.h"

/*
 * Stacks arrive while the run is going, but their first frames (strategy;role;state) need
 * the thread's role, which is only known once the thread has named itself: keep the
 * symbolized frames per tid and prefix them when the run is over.
 */
struct ss_pending {
	uint32_t tid;
	int kind;
	enum tl_state state;
	uint64_t value;
	char *frames;
};

#define SS_POLL_MS 10	/* the probes don't wake us (BPF_RB_NO_WAKEUP): drain on a tick */
#define SS_MAX_FRAMES_LEN 8192

static void on_stack(void *ctx, const struct tr_stack *st)
{
	struct ss_session *s = ctx;
	char buf[SS_MAX_FRAMES_LEN];
	struct ss_pending *p;

	if (!s->sym)
		return;
	if (sym_fold(s->sym, st, "", buf, sizeof(buf)) < 0) {
		s->stack_drops++;
		return;
	}
	if (s->npend == s->cappend) {
		size_t cap = s->cappend ? s->cappend * 2 : 1024;
		void *n = realloc(s->pend, cap * sizeof(*s->pend));

		if (!n) {
			s->stack_drops++;
			return;
		}
		s->pend = n;
		s->cappend = cap;
	}
	p = &s->pend[s->npend];
	p->frames = strdup(buf);
	if (!p->frames) {
		s->stack_drops++;
		return;
	}
	p->tid = st->tid;
	p->kind = st->kind;
	p->state = st->state;
	p->value = st->value;
	s->npend++;
}

static void pending_clear(struct ss_session *s)
{
	for (size_t i = 0; i < s->npend; i++)
		free(s->pend[i].frames);
	s->npend = 0;
	s->stack_drops = 0;
}

int ss_open(struct ss_session *s, const struct tr_opts *o, volatile sig_atomic_t *stop, char *err,
	    size_t errlen)
{
	struct tr_opts to = *o;
	long n;
	int ret;

	memset(s, 0, sizeof(*s));
	s->stop = stop;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	s->ncpu = n > 0 ? (unsigned)n : 1;
	if (s->ncpu > AN_MAX_CPUS)
		s->ncpu = AN_MAX_CPUS;
	s->stacks = o->stacks;
	s->sample_hz = o->sample_hz ? o->sample_hz : 99;
	if (s->stacks) {
		s->sym = sym_new();
		if (!s->sym) {
			snprintf(err, errlen, "failed to set up the symbolizer: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		to.on_stack = on_stack;
		to.stack_ctx = s;
		to.sample_hz = s->sample_hz;
	}
	ret = tr_open(&to, &s->tr, err, errlen);
	if (ret < 0) {
		sym_free(s->sym);
		s->sym = NULL;
		return ret;
	}
	return 0;
}

void ss_close(struct ss_session *s)
{
	pending_clear(s);
	free(s->pend);
	s->pend = NULL;
	tr_close(s->tr);
	s->tr = NULL;
	sym_free(s->sym);
	s->sym = NULL;
}

int ss_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

void ss_report_header(struct an_report *rep, const char *workload, unsigned ncpu)
{
	struct utsname u;

	snprintf(rep->version, sizeof(rep->version), "%s", IOTRACE_VERSION);
	snprintf(rep->workload, sizeof(rep->workload), "%s", workload);
	rep->ncpu = ncpu;
	if (uname(&u) == 0)
		snprintf(rep->kernel, sizeof(rep->kernel), "%.*s", (int)sizeof(rep->kernel) - 1,
			 u.release);
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Has the process behind pidfd ended? */
static bool pidfd_done(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ULL + (uint64_t)tv->tv_usec * 1000ULL;
}

static void set_roles(struct tl_timeline *tl, pid_t root)
{
	for (size_t i = 0; i < tl->nthreads; i++) {
		struct tl_thread *t = &tl->threads[i];

		wl_role(t->comm, t->tid == (uint32_t)root, t->role, sizeof(t->role));
	}
}

static int attach_stacks(struct ss_session *s, const struct ss_spec *spec, struct an_run *run,
			 struct tl_timeline *tl)
{
	char *buf = malloc(SS_MAX_FRAMES_LEN + 256);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	run->sample_hz = s->sample_hz;
	for (size_t i = 0; i < s->npend && !ret; i++) {
		struct ss_pending *p = &s->pend[i];
		struct tl_thread *t = tl_thread_find(tl, p->tid);
		const char *role = t && t->role[0] ? t->role : "thread";
		struct an_stackset *set = p->kind == IT_STACK_ONCPU ? &run->oncpu : &run->offcpu;

		snprintf(buf, SS_MAX_FRAMES_LEN + 256, "%s;%s;%s%s%s", spec->strategy, role,
			 tl_state_name(p->state), p->frames[0] ? ";" : "", p->frames);
		ret = an_stack_add(set, buf, p->value);
	}
	run->oncpu.errors += s->stack_drops;
	free(buf);
	return ret ? ret : an_run_wall(run);
}

int ss_run(struct ss_session *s, const struct ss_spec *spec, struct an_run *run,
	   struct ss_outcome *out, char *err, size_t errlen)
{
	struct wl_child child = {.pid = -1, .go_fd = -1, .res_fd = -1, .err_fd = -1};
	struct tl_timeline *tl = NULL;
	struct an_counters c;
	uint64_t t0, t_end = 0, last_ts = 0;
	pid_t pid;
	int pidfd = -1, ret, status = 0;
	bool launched = spec->attach_pid == 0, started = false, waited = false;

	memset(out, 0, sizeof(*out));
	out->child.pid = -1;
	memset(&c, 0, sizeof(c));
	pending_clear(s);
	tl = tl_new();
	if (!tl) {
		snprintf(err, errlen, "failed to allocate the timeline: %s", strerror(ENOMEM));
		return -ENOMEM;
	}

	if (launched) {
		ret = spec->w ? wl_spawn(spec->w, spec->strategy, spec->o, &child)
			      : wl_spawn_cmd(spec->argv, spec->o, &child);
		if (ret < 0) {
			snprintf(err, errlen, "failed to start the %s: %s",
				 spec->w ? "workload" : "command",
				 child.errmsg[0] ? child.errmsg : strerror(-ret));
			goto fail;
		}
		pid = child.pid;
	} else {
		pid = spec->attach_pid;
	}
	pidfd = pidfd_open_(pid);
	if (pidfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "failed to watch process %d: %s", (int)pid, strerror(errno));
		goto fail;
	}
	ret = tr_start_opts(s->tr, pid, tl,
			    &(struct tr_start_opts){.own_cgroup_id = spec->own_cgroup_id});
	if (ret < 0) {
		snprintf(err, errlen, "failed to start tracing process %d: %s", (int)pid,
			 strerror(-ret));
		goto fail;
	}
	started = true;
	t0 = tr_now();
	if (launched) {
		ret = wl_release(&child);
		if (ret < 0) {
			/* the child died in set-up: say what it said */
			wl_wait(&child, &status, &out->ru, NULL);
			waited = true;
			snprintf(err, errlen, "failed to start the %s: %s",
				 spec->w ? "workload" : "command",
				 strerror(-ret));
			goto fail;
		}
	}

	for (;;) {
		if (*s->stop) {
			out->interrupted = true;
			break;
		}
		ret = tr_poll(s->tr, SS_POLL_MS);
		if (ret < 0 && ret != -EINTR) {
			snprintf(err, errlen, "failed to read probe events: %s", strerror(-ret));
			goto fail;
		}
		if (pidfd_done(pidfd)) {
			out->exited = true;
			break;
		}
		if (spec->duration_ns && tr_now() - t0 >= spec->duration_ns) {
			out->timed_out = true;
			break;
		}
	}
	t_end = tr_now();
	if (launched && !out->exited && spec->leave_running) {
		/* the trace is over, the command is not: the caller decides its fate */
		out->child = child;
		child.pid = -1;
	} else if (launched) {
		if (!out->exited)
			wl_kill(&child, SIGKILL);
		do
			ret = wl_wait(&child, &status, &out->ru, &out->res);
		while (ret == -EINTR);
		waited = true;
		if (ret < 0) {
			snprintf(err, errlen, "failed to collect the results of process %d: %s",
				 (int)pid, strerror(-ret));
			goto fail;
		}
		out->status = status;
	}
	ret = tr_stop(s->tr, &c, &last_ts);
	started = false;
	if (ret < 0) {
		snprintf(err, errlen, "failed to collect probe data: %s", strerror(-ret));
		goto fail;
	}
	/* a run that ended by itself ends at its last thread's exit, not when we noticed */
	if (out->exited && last_ts > t0 && last_ts < t_end)
		t_end = last_ts;
	ret = tl_finish(tl, t0, t_end);
	if (ret < 0) {
		snprintf(err, errlen, "failed to build the timeline: %s", strerror(-ret));
		goto fail;
	}
	set_roles(tl, pid);
	ret = an_run_compute(run, tl, &c, s->ncpu);
	if (ret < 0) {
		snprintf(err, errlen, "failed to analyse the run: %s", strerror(-ret));
		goto fail;
	}
	tl = NULL; /* owned by run->tl now */
	snprintf(run->label, sizeof(run->label), "%s", spec->label);
	snprintf(run->strategy, sizeof(run->strategy), "%s", spec->strategy);
	snprintf(run->cache, sizeof(run->cache), "%s", spec->cache ? spec->cache : "");
	run->exit_status = waited ? ss_exit_status(status) : -1;
	run->interrupted = out->interrupted;
	if (waited) {
		/* the kernel's own CPU accounting of the child, to check the states against */
		run->rusage_utime_ns = tv_ns(&out->ru.ru_utime);
		run->rusage_stime_ns = tv_ns(&out->ru.ru_stime);
		run->rusage_ok = true;
		/* of which outside the window: the set-up before release, the exit after */
		run->rusage_setup_ns = child.setup_cpu_ns;
		run->rusage_setup_ok = child.setup_cpu_ok;
		if (out->res.end_cpu_ok) {
			uint64_t total = run->rusage_utime_ns + run->rusage_stime_ns;

			run->rusage_exit_ns = total > out->res.end_cpu_ns
						      ? total - out->res.end_cpu_ns : 0;
			run->rusage_exit_ok = true;
		}
	}
	if (s->stacks) {
		ret = attach_stacks(s, spec, run, run->tl);
		if (ret < 0) {
			snprintf(err, errlen, "failed to fold stacks: %s", strerror(-ret));
			goto fail_run;
		}
	} else {
		snprintf(run->oncpu.unavailable, sizeof(run->oncpu.unavailable),
			 "stack capture disabled (--no-stacks)");
		snprintf(run->offcpu.unavailable, sizeof(run->offcpu.unavailable),
			 "stack capture disabled (--no-stacks)");
	}
	pending_clear(s);
	close(pidfd);
	return 0;

fail_run:
	an_run_free(run);
	tl = NULL;
fail:
	if (started)
		tr_stop(s->tr, &c, &last_ts);
	if (launched && child.pid > 0 && !waited) {
		wl_kill(&child, SIGKILL);
		wl_wait(&child, &status, &out->ru, NULL);
	}
	if (pidfd >= 0)
		close(pidfd);
	pending_clear(s);
	tl_free(tl);
	return ret < 0 ? ret : -EIO;
}
