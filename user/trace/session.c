/* session.c - one traced run: launch start-synchronised, drain the probes, build the model. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/roles.h"
#include "elfshare.h"
#include "peers.h"
#include "session.h"
#include "symbols.h"
#include "version.h"

/*
 * Stacks arrive while the run is going, one record per switch-out or sample, but their
 * first frames (strategy;role;state) need the thread's role, which is only known once the
 * thread has named itself. They are counted by (tid, kind, state, stack ids) as they come,
 * folded to text the first time a key is seen (while the process lives, for its maps), and
 * prefixed when the run is over: a switch storm costs a hash lookup per record, not a
 * symbolization, and a long run holds one entry per distinct stack.
 *
 * An off-CPU stack of io_wait, lock_wait or other_wait also counts by what its wait was
 * for (wkind), so the flame graphs split those states as the timeline does. The probes
 * give a read's and a wait4's kind with the record; a futex wait's is decided in user
 * space (model/waits.c) once its end is known: its stacks wait in `defer` (tid, time,
 * value) under an undecided entry (wkind -1), and move to their kind's entry just before
 * wt_flush decides and labels that wait, so a stack's kind is its wait's, exactly.
 */
struct ss_pend {
	uint32_t tid, pid;
	int32_t kid, uid;
	int kind, state;
	int wkind;		/* off-CPU: what the wait was for (tl_*_kind); -1 not decided */
	int how;		/* enum an_ustack: how its user frames were found */
	uint64_t value;
	char *frames;		/* folded; NULL: the slot is free */
};

/* One off-CPU lock_wait stack whose wait's kind is not decided yet. */
struct ss_defer {
	uint32_t tid, pid;
	int32_t kid, uid;
	int how;
	uint64_t ts, value;
};

#define SS_WAITS_MS 100	/* decided futex waits are summed (and forgotten) this often */
#define SS_POLL_MS 10	/* the probes don't wake us (BPF_RB_NO_WAKEUP): drain on a tick */
/*
 * The timeline holds raw events until it is folded (tl_cut): once this many are held,
 * everything older than TR_EVENT_DELAY_NS is folded, and the next fold waits until twice
 * what was left is held, so each event is copied a bounded number of times.
 */
#define SS_FOLD_EVENTS (1u << 17)
#define SS_MAX_FRAMES_LEN 8192

static size_t pend_slot(const struct ss_pend *k, size_t cap)
{
	uint64_t h = ((uint64_t)k->tid << 32 | (uint32_t)k->kid) * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)(uint32_t)k->uid << 20 | (uint64_t)(uint8_t)k->how << 16 |
	      (uint64_t)(uint8_t)k->wkind << 8 | (unsigned)k->kind << 4 | (unsigned)k->state) *
	     0xff51afd7ed558ccdULL;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static bool pend_same(const struct ss_pend *a, const struct ss_pend *b)
{
	return a->tid == b->tid && a->pid == b->pid && a->kid == b->kid && a->uid == b->uid &&
	       a->kind == b->kind && a->state == b->state && a->wkind == b->wkind &&
	       a->how == b->how;
}

static int pend_grow(struct ss_session *s)
{
	size_t cap = s->cappend ? s->cappend * 2 : 1024;
	struct ss_pend *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < s->cappend; i++) {
		size_t j;

		if (!s->pend[i].frames)
			continue;
		for (j = pend_slot(&s->pend[i], cap); n[j].frames; j = (j + 1) & (cap - 1))
			;
		n[j] = s->pend[i];
	}
	free(s->pend);
	s->pend = n;
	s->cappend = cap;
	return 0;
}

/* A lock wait's off-CPU stack also counts to its lock (its top stack). */
static void lock_stack(struct ss_session *s, const struct tr_stack *st, const char *frames)
{
	if (s->waits && st->kind == IT_STACK_OFFCPU && st->state == TL_LOCK_WAIT &&
	    wt_stack(s->waits, st->tid, st->ts, frames, st->value))
		s->stack_drops++;
}

/* wt_name_fn: a futex word named while its process lives. */
static int name_word(void *ctx, uint32_t pid, uint64_t addr, char *where, size_t len)
{
	struct ss_session *s = ctx;

	return sym_data_name(s->names, (pid_t)pid, addr, where, len);
}

/* tr_start_opts.alive: its mappings captured while it lives, for name_word. */
static void proc_alive(void *ctx, uint32_t pid, bool exec)
{
	struct ss_session *s = ctx;

	sym_data_seen(s->names, (pid_t)pid, exec);
}

/*
 * The entry of key k (its frames: frames, or folded from st for a new one), made room for
 * first; NULL when out of memory or the stack could not be folded (counted as dropped).
 */
static struct ss_pend *pend_get(struct ss_session *s, const struct ss_pend *k,
				const struct tr_stack *st, const char *frames)
{
	char buf[SS_MAX_FRAMES_LEN];
	size_t i;

	if ((s->npend + 1) * 2 > s->cappend && pend_grow(s)) {
		s->stack_drops++;
		return NULL;
	}
	for (i = pend_slot(k, s->cappend); s->pend[i].frames; i = (i + 1) & (s->cappend - 1))
		if (pend_same(&s->pend[i], k))
			return &s->pend[i];
	if (!frames) {
		if (!st || sym_fold(s->sym, st, "", buf, sizeof(buf)) < 0) {
			s->stack_drops++;
			return NULL;
		}
		frames = buf;
	}
	s->pend[i] = *k;
	s->pend[i].value = 0;
	s->pend[i].frames = strdup(frames);
	if (!s->pend[i].frames) {
		s->stack_drops++;
		return NULL;
	}
	s->npend++;
	return &s->pend[i];
}

static void on_stack(void *ctx, const struct tr_stack *st)
{
	struct ss_session *s = ctx;
	struct ss_pend k = {.tid = st->tid, .pid = st->pid, .kid = st->kstack_id,
			    .uid = st->ustack_id, .kind = st->kind, .state = (int)st->state,
			    .how = (int)st->ustack_how};
	bool defer = false;
	struct ss_pend *p;

	if (!s->sym)
		return;
	if (st->kind == IT_STACK_OFFCPU && st->state == TL_LOCK_WAIT && s->waits) {
		/* its futex wait's kind comes later (resolve_stacks) */
		if (s->ndefer == s->capdefer) {
			size_t cap = s->capdefer ? 2 * s->capdefer : 256;
			void *n = realloc(s->defer, cap * sizeof(*s->defer));

			if (!n) {
				s->stack_drops++;
				return;
			}
			s->defer = n;
			s->capdefer = cap;
		}
		k.wkind = -1;
		defer = true;
	} else if (st->kind == IT_STACK_OFFCPU) {
		k.wkind = (int)st->wkind;
	}
	p = pend_get(s, &k, st, NULL);
	if (!p)
		return;
	p->value += st->value;
	lock_stack(s, st, p->frames);
	if (defer)
		s->defer[s->ndefer++] = (struct ss_defer){.tid = k.tid, .pid = k.pid, .kid = k.kid,
							 .uid = k.uid, .how = k.how,
							 .ts = st->ts, .value = st->value};
}

/*
 * The lock_wait stacks whose waits wt_flush(upto) is about to decide move from their
 * undecided entry to their kind's (all of them with upto UINT64_MAX). Call it right before
 * that flush. 0 or -ENOMEM.
 */
static int resolve_stacks(struct ss_session *s, uint64_t upto)
{
	size_t keep = 0;

	for (size_t i = 0; i < s->ndefer; i++) {
		const struct ss_defer *d = &s->defer[i];
		struct ss_pend k = {.tid = d->tid, .pid = d->pid, .kid = d->kid, .uid = d->uid,
				    .kind = IT_STACK_OFFCPU, .state = TL_LOCK_WAIT, .wkind = -1,
				    .how = d->how};
		int kind = wt_kind_at(s->waits, d->tid, d->ts, upto);
		struct ss_pend *u, *p;
		char *frames;

		if (kind == -EAGAIN) {
			s->defer[keep++] = *d;
			continue;
		}
		/* room for one more entry first, so no lookup below moves the entries */
		while ((s->npend + 2) * 2 > s->cappend)
			if (pend_grow(s))
				return -ENOMEM;
		u = pend_get(s, &k, NULL, NULL);
		if (!u || !u->frames || u->value < d->value)
			continue; /* cannot be: on_stack put it there */
		frames = u->frames;
		k.wkind = kind < 0 ? 0 : kind;
		p = pend_get(s, &k, NULL, frames);
		if (!p)
			return -ENOMEM;
		u->value -= d->value;
		p->value += d->value;
	}
	s->ndefer = keep;
	return 0;
}

static int unwind(void *ctx, uint32_t pid, uint32_t tid, const uint64_t *regs, const void *stack,
		  size_t size, uint64_t *ips, int max, bool *complete, uint64_t *top,
		  uint16_t *reads, int *nreads, uint32_t *regmask)
{
	struct ss_session *s = ctx;

	return sym_unwind(s->sym, (pid_t)pid, (pid_t)tid, regs, stack, size, ips, max, complete,
			  top, reads, nreads, regmask);
}

/* tr_opts.proc_event: a fork gone before its maps are read has what it inherited. */
static void proc_event(void *ctx, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	struct ss_session *s = ctx;

	sym_proc_forked(s->sym, (pid_t)pid, (pid_t)ppid, ts);
}

static void pending_clear(struct ss_session *s)
{
	for (size_t i = 0; i < s->cappend; i++)
		free(s->pend[i].frames);
	free(s->pend);
	s->pend = NULL;
	s->npend = s->cappend = 0;
	s->stack_drops = 0;
	free(s->defer);
	s->defer = NULL;
	s->ndefer = s->capdefer = 0;
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
	s->sample_hz = o->sample_hz ? o->sample_hz : TR_SAMPLE_HZ;
	s->names = sym_new();
	if (!s->names) {
		snprintf(err, errlen, "failed to set up the symbolizer: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (s->stacks) {
		s->sym = sym_new();
		if (!s->sym) {
			snprintf(err, errlen, "failed to set up the symbolizer: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		sym_kernel_load(s->sym);
		to.on_stack = on_stack;
		to.stack_ctx = s;
		to.unwind = unwind;
		to.unwind_ctx = s;
		to.proc_event = proc_event;
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
	tr_close(s->tr);
	s->tr = NULL;
	sym_free(s->sym);
	s->sym = NULL;
	sym_free(s->names);
	s->names = NULL;
	wt_free(s->waits);
	s->waits = NULL;
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

/* The machine's CPU time so far from /proc/stat's "cpu" line, in CPU-ns, and ours. */
struct cpu_sample {
	uint64_t busy, idle, steal;
	uint64_t self_user, self_sys;	/* iotrace's own CPU time (all its threads) */
	bool ok;
};

static struct cpu_sample cpu_sample(void)
{
	unsigned long long v[8] = {0};
	struct cpu_sample c = {0};
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");

	if (!f || hz <= 0) {
		if (f)
			fclose(f);
		return c;
	}
	/* user nice system idle iowait irq softirq steal */
	c.ok = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		      &v[3], &v[4], &v[5], &v[6], &v[7]) == 8;
	fclose(f);
	c.busy = (v[0] + v[1] + v[2] + v[5] + v[6]) * (1000000000ULL / (uint64_t)hz);
	c.idle = (v[3] + v[4]) * (1000000000ULL / (uint64_t)hz);
	c.steal = v[7] * (1000000000ULL / (uint64_t)hz);
	if (c.ok) {
		struct rusage ru;

		c.ok = !getrusage(RUSAGE_SELF, &ru);
		c.self_user = tv_ns(&ru.ru_utime);
		c.self_sys = tv_ns(&ru.ru_stime);
	}
	return c;
}

/*
 * The machine's CPU when the process ends, taken by a thread that does nothing but wait for
 * that: after the exit the drain loop can stay busy for a long time (unwinding a large
 * program's stacks), and a sample taken then would spread the machine's figures, iotrace's
 * own CPU among them, over a window much longer than the run's wall (node: 1.3 s of
 * machine time for a 0.18 s run).
 */
struct exit_watch {
	pthread_t th;
	int pidfd, stop_fd;
	bool running;
	bool seen;			/* read only after the join */
	struct cpu_sample at_exit;
};

static void *exit_watch_main(void *arg)
{
	struct exit_watch *w = arg;
	struct pollfd p[2] = {{.fd = w->pidfd, .events = POLLIN},
			      {.fd = w->stop_fd, .events = POLLIN}};

	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
	if (p[0].revents & POLLIN) {
		w->at_exit = cpu_sample();
		w->seen = true;
	}
	return NULL;
}

/* Start watching pidfd; without the thread the loop samples when it sees the exit. */
static void exit_watch_start(struct exit_watch *w, int pidfd)
{
	sigset_t all, old;

	memset(w, 0, sizeof(*w));
	w->pidfd = pidfd;
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_fd < 0)
		return;
	/* signals stay the main thread's: its handlers only set the stop flag it polls */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	w->running = !pthread_create(&w->th, NULL, exit_watch_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!w->running) {
		close(w->stop_fd);
		w->stop_fd = -1;
	}
}

/* Stop the watcher; true with *at_exit set if it sampled the process's end. */
static bool exit_watch_stop(struct exit_watch *w, struct cpu_sample *at_exit)
{
	uint64_t one = 1;

	if (!w->running)
		return false;
	/* an eventfd write of 1 fails only on overflow, which one write can't reach */
	(void)!write(w->stop_fd, &one, sizeof(one));
	pthread_join(w->th, NULL);
	close(w->stop_fd);
	w->running = false;
	if (w->seen && at_exit)
		*at_exit = w->at_exit;
	return w->seen;
}

/*
 * A built-in workload's threads are named by it (wl_role); a traced program's are read
 * from their names, stacks and waits (model/roles.h).
 */
static void set_roles(struct ss_session *s, const struct ss_spec *spec, struct tl_timeline *tl,
		      pid_t root)
{
	struct rl_thread *rt = spec->w ? NULL : calloc(tl->nthreads ? tl->nthreads : 1,
							sizeof(*rt));

	for (size_t i = 0; i < tl->nthreads; i++) {
		struct tl_thread *t = &tl->threads[i];

		wl_role(t->comm, t->tid == (uint32_t)root, t->role, sizeof(t->role));
		if (!rt)
			continue;
		rt[i].pid = t->pid;
		rt[i].tid = t->tid;
		rt[i].comm = t->comm;
		rt[i].reads = t->reads;
		memcpy(rt[i].states_ns, t->state_ns, sizeof(rt[i].states_ns));
	}
	if (!rt)
		return; /* a built-in workload, or no memory: the names alone */
	/* what the stacks say, per thread (a reused tid's newest thread has them all) */
	for (size_t i = 0; i < s->cappend; i++) {
		const struct ss_pend *p = &s->pend[i];
		struct tl_thread *t;
		unsigned h;

		if (!p->frames || !(h = rl_frame_hints(p->frames)) ||
		    !(t = tl_thread_find(tl, p->tid)))
			continue;
		rt[t - tl->threads].hints |= h;
	}
	rl_assign(rt, tl->nthreads);
	for (size_t i = 0; i < tl->nthreads; i++)
		snprintf(tl->threads[i].role, sizeof(tl->threads[i].role), "%s", rt[i].role);
	free(rt);
}

/*
 * The processes the tracer saw, dated from the window start [t0, t_end): a process of a
 * traced program (not of a built-in workload, whose processes are its strategy's).
 */
static int attach_processes(struct ss_session *s, const struct ss_spec *spec, struct an_run *run,
			    pid_t root, uint64_t t0, uint64_t t_end)
{
	size_t n;
	const struct tr_process *tp = tr_processes(s->tr, &n);
	struct an_process *v;
	int ret;

	if (spec->w || !n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct tr_process *p = &tp[i];
		struct an_process *o = &v[i];

		o->pid = p->pid;
		o->ppid = p->ppid;
		memcpy(o->comm, p->comm, sizeof(o->comm));
		snprintf(o->cmdline, sizeof(o->cmdline), "%s", p->cmdline);
		/* the command iotrace launched was seeded at the start, but is no older */
		o->before = p->seeded && !(spec->argv && p->pid == (uint32_t)root);
		o->start_ns = p->start_ts > t0 ? p->start_ts - t0 : 0;
		if (o->start_ns > t_end - t0)
			o->start_ns = t_end - t0;
		o->ended = p->end_ts != 0 && p->end_ts <= t_end;
		if (o->ended)
			o->end_ns = p->end_ts > t0 ? p->end_ts - t0 : 0;
		o->exit_status = o->ended && p->status >= 0 ? ss_exit_status(p->status) : -1;
		o->setuid = p->setuid;
		/* no exit seen, yet gone: its exit's record was lost, it did not outlive us */
		o->exit_lost = !o->ended && kill((pid_t)p->pid, 0) && errno == ESRCH;
	}
	ret = an_run_set_processes(run, v, n);
	free(v);
	return ret;
}

/*
 * The sockets the traced program's processes waited on whose other end is not traced: that
 * end found now, while its process likely still runs (a server started outside the trace);
 * one entry per waiting process and other end. Not for built-in workloads (fetch's server
 * is iotrace's own).
 */
static int attach_sockpeers(struct ss_session *s, const struct ss_spec *spec, struct an_run *run)
{
	size_t n, np, nv = 0;
	const struct tr_sock *ts = tr_socks(s->tr, &n);
	const struct tr_process *tp = tr_processes(s->tr, &np);
	struct an_sockpeer *v;
	bool *done;
	int ret;

	if (spec->w || !n)
		return 0;
	v = calloc(n, sizeof(*v));
	done = calloc(n, sizeof(*done));
	if (!v || !done) {
		free(v);
		free(done);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct an_sockpeer *o = &v[nv];
		struct pr_peer p;
		bool traced = false;

		if (done[i])
			continue;
		pr_find(&ts[i].k, &p);
		for (size_t j = 0; j < np && p.pid; j++)
			traced |= tp[j].pid == p.pid;
		for (size_t j = i; j < n; j++) {
			if (done[j] || !pr_same_end(&ts[i].k, &ts[j].k))
				continue;
			done[j] = true;
			o->sockets++;
			o->recv_wait_ns += ts[j].w.recv_ns;
			o->recv_waits += ts[j].w.recvs;
			o->poll_wait_ns += ts[j].w.poll_ns;
			o->poll_waits += ts[j].w.polls;
		}
		/* a traced peer's side is in the report: no blind spot */
		if (traced || !(o->recv_wait_ns + o->poll_wait_ns)) {
			memset(o, 0, sizeof(*o));
			continue;
		}
		o->pid = ts[i].k.pid;
		for (size_t j = 0; j < np; j++)
			if (tp[j].pid == o->pid)
				memcpy(o->comm, tp[j].comm, sizeof(o->comm));
		snprintf(o->addr, sizeof(o->addr), "%s", p.addr);
		o->local = p.local;
		o->peer_pid = p.pid;
		memcpy(o->peer_comm, p.comm, sizeof(o->peer_comm));
		memcpy(o->peer_cmdline, p.cmdline, sizeof(o->peer_cmdline));
		nv++;
	}
	ret = an_run_set_sockpeers(run, v, nv);
	free(v);
	free(done);
	return ret;
}

/* By (tid, state, kind), then by frames and the rest of the key: the same stacks give the
 * same order, so the µs that the largest remainders share out go to the same stacks */
static int pend_cmp(const void *pa, const void *pb)
{
	const struct ss_pend *a = *(const struct ss_pend *const *)pa;
	const struct ss_pend *b = *(const struct ss_pend *const *)pb;
	int c;

	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	if (a->state != b->state)
		return a->state - b->state;
	if (a->wkind != b->wkind)
		return a->wkind - b->wkind;
	if ((c = strcmp(a->frames, b->frames)))
		return c;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->kid != b->kid)
		return a->kid < b->kid ? -1 : 1;
	if (a->how != b->how)
		return a->how - b->how;
	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

/* The stack's state frame: split by its wait's kind for an off-CPU stack of a split state. */
static const char *state_frame(const struct ss_pend *p, char *buf, size_t len)
{
	enum tl_state st = (enum tl_state)p->state;

	if (p->kind != IT_STACK_OFFCPU || p->wkind < 0 || !an_state_slots(st))
		return tl_state_name(st);
	return an_state_frame(buf, len, st, an_kind_slot(st, (unsigned)p->wkind));
}

/*
 * The wall-clock stacks, sized exactly: for each thread of the run's table and each state,
 * its stacks of that state (on-CPU samples, off-CPU ns) share the thread's exact state
 * total (an_wall_add_exact); a state split by kind is split first, each kind's stacks
 * sharing the thread's exact figure of that kind (an_wall_add_split). v: the stacks sorted
 * by (tid, state), names[i] their frames.
 */
/*
 * Folded frames whose user part stops short of the thread's start (sym_fold puts SYM_CUT
 * first). A stack unwound with the CFI (the copy's ids, tracer.h) counts as unwound only
 * without it: a copy that ended below the stack's top (its mapping's end unknown to the
 * probe) unwinds without error and still loses the outermost frames.
 */
static bool cut_short(const char *frames)
{
	size_t n = strlen(SYM_CUT);

	return !strncmp(frames, SYM_CUT, n) && (frames[n] == ';' || !frames[n]);
}

static int exact_wall(struct an_run *run, const struct ss_pend *const *v, char *const *names,
		      size_t n, const char *strategy)
{
	const char **fr = malloc((n ? n : 1) * sizeof(*fr));
	uint64_t *w = malloc((n ? n : 1) * sizeof(*w));
	unsigned *slot = malloc((n ? n : 1) * sizeof(*slot));
	char none[AN_MAX_SLOTS][160], sf[64];
	const char *nonep[AN_MAX_SLOTS];
	size_t lo = 0;
	int ret = 0;

	if (!fr || !w || !slot) {
		ret = -ENOMEM;
		goto out;
	}
	an_stackset_free(&run->wall);
	for (size_t t = 0; t < run->nthreads && !ret; t++) {
		const struct an_thread *th = &run->threads[t];
		const char *role = th->role[0] ? th->role : "thread";

		/* v is sorted by tid: find this thread's first stack */
		size_t a = 0, b = n;

		while (a < b) {
			size_t m = a + (b - a) / 2;

			if (v[m]->tid < th->tid)
				a = m + 1;
			else
				b = m;
		}
		lo = a;
		for (int st = 0; st < TL_NSTATES && !ret; st++) {
			const char *leaf = st == TL_COMPUTE || st == TL_IO_CPU ? "[no sample]"
									       : "[no stack]";
			unsigned nslots = an_state_slots((enum tl_state)st);
			uint64_t slot_ns[AN_MAX_SLOTS];
			size_t k = 0;

			for (size_t i = lo; i < n && v[i]->tid == th->tid; i++)
				if (v[i]->state == st && names[i]) {
					fr[k] = names[i];
					slot[k] = v[i]->wkind < 0 ? an_kind_slot((enum tl_state)st, 0)
						  : an_kind_slot((enum tl_state)st,
								 (unsigned)v[i]->wkind);
					w[k++] = v[i]->value;
				}
			if (nslots && an_thread_slot_ns(th, (enum tl_state)st, slot_ns)) {
				for (unsigned j = 0; j < nslots; j++) {
					snprintf(none[j], sizeof(none[j]), "%s;%s;%s;%s", strategy, role,
						 an_state_frame(sf, sizeof(sf), (enum tl_state)st, j),
						 leaf);
					nonep[j] = none[j];
				}
				ret = an_wall_add_split(&run->wall, fr, w, slot, k,
							th->states_ns[st], slot_ns, nslots, nonep);
				if (ret != -EINVAL)
					continue;
				/* the kinds do not add up to the state (cannot be): the state whole */
				ret = 0;
			}
			snprintf(none[0], sizeof(none[0]), "%s;%s;%s;%s", strategy, role,
				 tl_state_name((enum tl_state)st), leaf);
			ret = an_wall_add_exact(&run->wall, fr, w, k, th->states_ns[st], none[0]);
		}
	}
	run->wall.errors = run->oncpu.errors + run->offcpu.errors;
out:
	free(fr);
	free(w);
	free(slot);
	return ret;
}

static int attach_stacks(struct ss_session *s, const struct ss_spec *spec, struct an_run *run,
			 struct tl_timeline *tl)
{
	const struct ss_pend **v = malloc((s->npend ? s->npend : 1) * sizeof(*v));
	char **names = calloc(s->npend ? s->npend : 1, sizeof(*names));
	size_t n = 0;
	int ret = 0;

	if (!v || !names) {
		ret = -ENOMEM;
		goto out;
	}
	run->sample_hz = s->sample_hz;
	/* an entry emptied when its stacks moved to their kind's (resolve_stacks) is left out */
	for (size_t i = 0; i < s->cappend; i++)
		if (s->pend[i].frames && s->pend[i].value && n < s->npend)
			v[n++] = &s->pend[i];
	if (n) /* qsort's base may not be NULL */
		qsort(v, n, sizeof(*v), pend_cmp);
	for (size_t i = 0; i < n && !ret; i++) {
		const struct ss_pend *p = v[i];
		struct an_stackset *set = p->kind == IT_STACK_ONCPU ? &run->oncpu : &run->offcpu;
		struct tl_thread *t = tl_thread_find(tl, p->tid);
		const char *role = t && t->role[0] ? t->role : "thread";
		char sf[64];
		const char *state = state_frame(p, sf, sizeof(sf));
		size_t len = strlen(spec->strategy) + strlen(role) + strlen(state) +
			     strlen(p->frames) + 8;

		names[i] = malloc(len);
		if (!names[i]) {
			ret = -ENOMEM;
			break;
		}
		snprintf(names[i], len, "%s;%s;%s%s%s", spec->strategy, role, state,
			 p->frames[0] ? ";" : "", p->frames);
		ret = an_stack_add(set, names[i], p->value);
		/* one from a copy is whole unless its folded frames begin cut (cut_short) */
		if (!ret)
			ret = an_stack_count_user(set,
						  p->uid < TR_UCOPY_ID_BASE ? (enum an_ustack)p->how
						  : cut_short(p->frames)    ? AN_US_CUT_SHORT
									    : AN_US_UNWOUND,
						  p->value);
	}
	run->oncpu.errors += s->stack_drops;
	if (!ret)
		ret = run->nthreads ? exact_wall(run, v, names, n, spec->strategy) : an_run_wall(run);
out:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(v);
	return ret;
}

int ss_run(struct ss_session *s, const struct ss_spec *spec, struct an_run *run,
	   struct ss_outcome *out, char *err, size_t errlen)
{
	struct wl_child child = {.pid = -1, .go_fd = -1, .res_fd = -1, .err_fd = -1};
	struct tl_timeline *tl = NULL;
	struct an_counters c;
	uint64_t t0, t_end = 0, last_ts = 0, last_tick, last_waits;
	size_t fold_at = SS_FOLD_EVENTS;
	struct cpu_sample cpu0 = {0}, cpu1 = {0};
	struct exit_watch watch = {.running = false};
	pid_t pid;
	int pidfd = -1, ret, status = 0;
	bool launched = spec->attach_pid == 0, started = false, waited = false;
	struct es_stats es0, es1;

	es_get_stats(&es0);
	memset(out, 0, sizeof(*out));
	out->child.pid = -1;
	memset(&c, 0, sizeof(c));
	pending_clear(s);
	tl = tl_new();
	if (!tl) {
		snprintf(err, errlen, "failed to allocate the timeline: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	tl_set_ncpu(tl, s->ncpu);
	wt_free(s->waits);
	s->waits = wt_new();
	if (!s->waits) {
		snprintf(err, errlen, "failed to allocate the timeline: %s", strerror(ENOMEM));
		tl_free(tl);
		return -ENOMEM;
	}
	wt_set_namer(s->waits, name_word, s);

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
		if (spec->launched_pid)
			*spec->launched_pid = pid;
	} else {
		pid = spec->attach_pid;
	}
	/*
	 * Read a built-in workload's maps (a fork of ours, stopped until released) or an
	 * attached process's now, not at its first stack: reading them and the CFI of its
	 * libraries takes tens of ms, and the drain that waits for it unwinds nothing
	 * meanwhile, so no switch-out is found unwound before (tracer.c umemo_put) and each
	 * copies its stack. A command is captured after its exec, at its first stack.
	 */
	if (s->sym && (spec->w || !launched))
		sym_pid_seen(s->sym, pid);
	pidfd = pidfd_open_(pid);
	if (pidfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "failed to watch process %d: %s", (int)pid, strerror(errno));
		goto fail;
	}
	ret = tr_start_opts(s->tr, pid, tl,
			    &(struct tr_start_opts){.own_cgroup_id = spec->own_cgroup_id,
						    .waits = s->waits,
						    .alive = proc_alive, .alive_ctx = s});
	if (ret < 0) {
		snprintf(err, errlen, "failed to start tracing process %d: %s", (int)pid,
			 strerror(-ret));
		goto fail;
	}
	started = true;
	t0 = last_tick = last_waits = tr_now();
	cpu0 = cpu_sample();
	exit_watch_start(&watch, pidfd);
	if (launched) {
		ret = wl_release(&child);
		if (ret < 0) {
			/* the child died in set-up: say what it said */
			if (spec->launched_pid)
				*spec->launched_pid = 0;
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
		sym_data_tick(s->names);
		sym_tick(s->sym);
		if (tr_now() - last_waits >= SS_WAITS_MS * 1000000ULL) {
			/* the waits the probes are done with: decided, labelled, summed */
			last_waits = tr_now();
			if (resolve_stacks(s, last_waits - TR_EVENT_DELAY_NS) < 0 ||
			    wt_flush(s->waits, tl, last_waits - TR_EVENT_DELAY_NS) < 0) {
				ret = -ENOMEM;
				snprintf(err, errlen, "failed to sum lock waits: %s", strerror(ENOMEM));
				goto fail;
			}
		}
		if (tl_pending(tl) >= fold_at) {
			uint64_t upto = tr_now() - TR_EVENT_DELAY_NS;

			if (upto > t0 && upto > tl->cut_at) {
				/* the lock waits' kinds go into what is folded */
				ret = resolve_stacks(s, upto);
				if (!ret)
					ret = wt_flush(s->waits, tl, upto);
				if (!ret)
					ret = tl_cut(tl, t0, upto);
				if (ret < 0) {
					snprintf(err, errlen, "failed to fold the timeline: %s",
						 strerror(-ret));
					goto fail;
				}
				/* folding frees big arrays in the middle of the heap: give the
				 * pages back, or RSS keeps the high-water mark of every fold */
				malloc_trim(0);
			}
			fold_at = 2 * tl_pending(tl);
			if (fold_at < SS_FOLD_EVENTS)
				fold_at = SS_FOLD_EVENTS;
		}
		if (pidfd_done(pidfd)) {
			out->exited = true;
			break;
		}
		if (spec->tick && tr_now() - last_tick >= SS_TICK_MS * 1000000ULL) {
			last_tick = tr_now();
			spec->tick(spec->tick_arg, last_tick - t0);
		}
		if (spec->duration_ns && tr_now() - t0 >= spec->duration_ns) {
			out->timed_out = true;
			break;
		}
	}
	t_end = tr_now();
	if (!exit_watch_stop(&watch, &cpu1) || !out->exited)
		cpu1 = cpu_sample();
	if (launched && !out->exited && spec->leave_running) {
		/* the trace is over, the command is not: the caller decides its fate */
		out->child = child;
		child.pid = -1;
	} else if (launched) {
		if (!out->exited)
			wl_kill(&child, SIGKILL);
		if (spec->launched_pid)
			*spec->launched_pid = 0;
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
	if (t_end < tl->cut_at)
		t_end = tl->cut_at;
	/* every wait that ended is decided now; those still open are labelled as seen */
	ret = resolve_stacks(s, UINT64_MAX);
	if (!ret)
		ret = wt_flush(s->waits, tl, UINT64_MAX);
	if (ret < 0) {
		snprintf(err, errlen, "failed to sum lock waits: %s", strerror(-ret));
		goto fail;
	}
	ret = tl_finish(tl, t0, t_end);
	if (ret < 0) {
		snprintf(err, errlen, "failed to build the timeline: %s", strerror(-ret));
		goto fail;
	}
	set_roles(s, spec, tl, pid);
	if (s->stacks) {
		struct tr_stats ts;

		tr_last_stats(s->tr, &ts);
		run->ucopy_ok = ts.ucopy_ok;
		run->ucopies = ts.ucopies;
		run->ucopy_bytes = ts.ucopy_bytes;
		run->ucopy_skipped = ts.ucopy_skipped;
		run->ucopy_reused = ts.ucopy_reused;
		run->ucopy_failed = ts.ucopy_failed;
		run->ucopy_lost = ts.ucopy_lost;
		run->ucopy_unwind_failed = ts.unwind_failed;
		es_get_stats(&es1);
		run->elf_ok = true;
		run->elf_files_mapped = es1.opened - es0.opened;
		run->elf_file_uses = es1.uses - es0.uses;
	}
	ret = an_run_compute(run, tl, &c, s->ncpu); /* derives ucopy_bps too */
	if (ret < 0) {
		snprintf(err, errlen, "failed to analyse the run: %s", strerror(-ret));
		goto fail;
	}
	tl = NULL; /* owned by run->tl now */
	ret = wt_take_locks(s->waits, run->tl, &run->locks, &run->nlocks);
	if (ret < 0) {
		snprintf(err, errlen, "failed to sum lock waits: %s", strerror(-ret));
		goto fail_run;
	}
	ret = attach_processes(s, spec, run, pid, t0, t_end);
	if (ret < 0) {
		snprintf(err, errlen, "failed to list the processes: %s", strerror(-ret));
		goto fail_run;
	}
	ret = attach_sockpeers(s, spec, run);
	if (ret < 0) {
		snprintf(err, errlen, "failed to find the sockets' other ends: %s", strerror(-ret));
		goto fail_run;
	}
	snprintf(run->label, sizeof(run->label), "%s", spec->label);
	snprintf(run->strategy, sizeof(run->strategy), "%s", spec->strategy);
	snprintf(run->cache, sizeof(run->cache), "%s", spec->cache ? spec->cache : "");
	run->exit_status = waited ? ss_exit_status(status) : -1;
	run->interrupted = out->interrupted;
	if (cpu0.ok && cpu1.ok && cpu1.busy >= cpu0.busy && cpu1.idle >= cpu0.idle &&
	    cpu1.steal >= cpu0.steal) {
		run->machine_busy_ns = cpu1.busy - cpu0.busy;
		run->machine_idle_ns = cpu1.idle - cpu0.idle;
		run->machine_steal_ns = cpu1.steal - cpu0.steal;
		run->machine_ok = true;
		/* ours, from the window's start to its end (the kernel keeps each part monotonic;
		 * a sample from another thread is no reason to trust that blindly) */
		an_run_tracer_cpu(run,
				  cpu1.self_user > cpu0.self_user ? cpu1.self_user - cpu0.self_user : 0,
				  cpu1.self_sys > cpu0.self_sys ? cpu1.self_sys - cpu0.self_sys : 0);
		run->machine_iotrace_ns = run->tracer_user_ns + run->tracer_sys_ns;
		s->win_user_ns += run->tracer_user_ns;
		s->win_sys_ns += run->tracer_sys_ns;
	} else {
		s->win_unknown = true;
	}
	s->nwin++;
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
	exit_watch_stop(&watch, NULL);
	if (started)
		tr_stop(s->tr, &c, &last_ts);
	if (launched && child.pid > 0 && !waited) {
		if (spec->launched_pid)
			*spec->launched_pid = 0;
		wl_kill(&child, SIGKILL);
		wl_wait(&child, &status, &out->ru, NULL);
	}
	if (pidfd >= 0)
		close(pidfd);
	pending_clear(s);
	tl_free(tl);
	return ret < 0 ? ret : -EIO;
}

int ss_self_cpu(uint64_t *user_ns, uint64_t *sys_ns)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -errno;
	*user_ns = tv_ns(&ru.ru_utime);
	*sys_ns = tv_ns(&ru.ru_stime);
	return 0;
}

bool ss_windows_cpu(const struct ss_session *s, uint64_t *user_ns, uint64_t *sys_ns)
{
	*user_ns = s->win_user_ns;
	*sys_ns = s->win_sys_ns;
	return s->nwin && !s->win_unknown;
}
