/* tracer.c - loads, attaches and drains the BPF probes, and feeds a timeline with what they saw. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "iotrace.skel.h"
#include "ring.h"
#include "tracer.h"
#include "ucopy.h"

/*
 * The probes record states as enum it_state and the tracer hands them to the model as enum
 * tl_state: both come from user/model/states.h, and these keep a hand edit of either honest.
 */
#define SAME_STATE(name, str) _Static_assert((int)IT_##name == (int)TL_##name, "IT_" #name " != TL_" #name);
TL_STATES(SAME_STATE)
#undef SAME_STATE
_Static_assert((int)IT_NSTATES == (int)TL_NSTATES, "the probes and the model count different states");
_Static_assert(IT_NSTATES <= IT_STATE_MASK + 1, "a state must fit a batch entry");
/* read kinds pass from the probes to the timeline as they are: one list (kinds.h) */
#define SAME_IO_KIND(name, str) \
	_Static_assert((int)IT_IOK_##name == (int)TL_IOK_##name, "io kind " str " differs");
TL_IO_KINDS(SAME_IO_KIND)
#undef SAME_IO_KIND
#define SAME_OTHER_KIND(name, str) \
	_Static_assert((int)IT_OWK_##name == (int)TL_OWK_##name, "other_wait kind " str " differs");
TL_OTHER_KINDS(SAME_OTHER_KIND)
#undef SAME_OTHER_KIND
#define SAME_POLL_KIND(name, str) \
	_Static_assert((int)IT_PK_##name == (int)TL_PK_##name, "poll_wait kind " str " differs");
TL_POLL_KINDS(SAME_POLL_KIND)
#undef SAME_POLL_KIND
_Static_assert(IT_MARK_POLL_END >= IT_NSTATES && IT_MARK_POLL_END <= IT_STATE_MASK,
	       "a mark is no state and fits a batch entry");

/*
 * Record flow: the probes keep exact totals in each thread's entry (its task storage, or
 * the `threads` map; exited threads' in the map) and stream transitions in per-thread
 * batches; tr_poll decodes records into the timeline as they come. Every record type that
 * can be lost is accounted for: a batch carries a per-thread sequence number, so a lost one
 * becomes a tl_gap() with its duration counted; other losses are counters.
 */

/* One probe: program name in the skeleton, tracepoint (for the BTF presence test), group. */
enum pgroup { PG_CORE, PG_REPAIR, PG_PCACHE, PG_BLOCK, PG_BLOCK_START, PG_URING, PG_SAMPLE };

struct probe {
	const char *prog;
	const char *tp;		/* tp_btf target, NULL for perf_event */
	const char *desc;	/* plain words for `iotrace check` */
	enum pgroup group;
};

static const struct probe probes[] = {
	{"iot_sys_enter", "sys_enter", "syscall entry (read/futex/poll family)", PG_CORE},
	{"iot_sys_exit", "sys_exit", "syscall exit", PG_CORE},
	{"iot_sched_switch", "sched_switch", "context switches", PG_CORE},
	{"iot_sched_wakeup", "sched_wakeup", "wake-ups", PG_CORE},
	{"iot_sched_waking", "sched_waking", "who woke a futex wait", PG_CORE},
	{"iot_sched_wakeup_new", "sched_wakeup_new", "new tasks", PG_CORE},
	{"iot_sched_fork", "sched_process_fork", "fork and thread creation", PG_CORE},
	{"iot_sched_exit", "sched_process_exit", "thread exit", PG_CORE},
	{"iot_sched_exec", "sched_process_exec", "program execution (command lines)", PG_CORE},
	{"iot_stat_runtime", "sched_stat_runtime", "switch-ins the switch tracepoint misses",
	 PG_REPAIR},
	{"iot_pcache_add", "mm_filemap_add_to_page_cache", "page-cache insertions", PG_PCACHE},
	{"iot_block_io_start", "block_io_start", "block request start (submitter)",
	 PG_BLOCK_START},
	{"iot_block_rq_issue", "block_rq_issue", "block request issue", PG_BLOCK},
	{"iot_block_rq_complete", "block_rq_complete", "block request completion", PG_BLOCK},
	{"iot_uring_submit", "io_uring_submit_req", "io_uring submissions", PG_URING},
	{"iot_uring_async", "io_uring_queue_async_work", "io_uring punts to io-wq", PG_URING},
	{"iot_uring_complete", "io_uring_complete", "io_uring completions", PG_URING},
	{"iot_sample", NULL, "on-CPU stack sampling (perf cpu-clock)", PG_SAMPLE},
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* Per-thread stream state: where its batches are, for gap detection. */
struct tstream {
	uint32_t tid;		/* 0 = free slot (tid 0 is the idle task, never a target) */
	uint32_t next_seq;
	uint64_t last_ts;	/* last transition (or start) seen */
	int last_state;		/* ... and the state it entered (-1: not known) */
	uint64_t poll_from;	/* its last poll wait since its last read began, 0 none */
	uint64_t input_from;	/* its last read, poll wait or other sleep began, 0 none */
	bool poll_own;		/* ... and a task of its own process woke it (IT_PK_OWN_PROCESS) */
	bool exited;
	bool taken;		/* tr_stop: its task storage entry was read */
	/* what the next batch's lost predecessors held (IT_REC_RESYNC), if one came */
	bool rs_valid;
	uint32_t rs_seq;
	uint64_t rs_from, rs_to;
	__u64 rs_ns[TL_NSTATES];
};

struct tr {
	struct tr_opts o;
	struct iotrace_bpf *skel;
	struct rg *rb;
	struct bpf_link *links[NPROBES];
	int *perf_fds;
	struct bpf_link **perf_links;
	int nperf;
	int ncpu;		/* possible CPUs (per-CPU map values) */
	unsigned rb_mb;
	bool group_ok[PG_SAMPLE + 1];
	bool steal_ok;		/* the probes can reach a task's run queue (see steal_ckpt) */
	bool running;

	/* per run */
	struct tl_timeline *tl;
	struct wt_set *waits;	/* optional (tr_start_opts) */
	void (*alive)(void *ctx, uint32_t pid, bool exec); /* optional (tr_start_opts) */
	void *alive_ctx;
	int err;		/* sticky error from a record callback (-ENOMEM) */
	uint64_t last_ts;
	struct tstream *ts;
	size_t nts, capts;
	bool tstore;		/* threads' entries in task storage (bpf use_tstore) */
	struct tl_interval *blk;
	size_t nblk, capblk;
	uint64_t lost_ns;
	uint64_t lost_exact_ns;	/* of lost_ns, what the kernel's totals gave back per state */
	uint64_t reads, bytes_read, ctx_switches; /* of threads consumed at exit */
	uint64_t uring_reads, uring_bytes;	/* io_uring reads no thread was credited with */
	/* bytes_read + uring_bytes by what was read (wt_io_slot) */
	uint64_t bytes_by_kind[WT_NIO_SLOTS];
	uint64_t bytes_direct;	/* ... of the file bytes, those read O_DIRECT */
	struct uc_table *uc;	/* unwound user stack copies (NULL: copies off) */
	uint64_t ucopy_lost, unwind_failed;
	bool umemo;		/* ucopy_memo in use (copies on) */
	uint64_t **stack_cache; /* stack id -> ips (IT_MAX_STACK), ids are stable in a run */
	uint32_t stack_cache_n;
	struct tr_stack *stack_buf;
	struct tr_stats stats;
	struct tr_process *procs;
	size_t nprocs, capprocs;
	struct tr_sock *socks;
	size_t nsocks;
};

static bool tr_verbose;

/* Silent unless verbose, warnings included: the caller reports what failed in plain words. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!tr_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void tr_set_verbose(bool verbose)
{
	tr_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

uint64_t tr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- per-thread stream table (open addressing, tid keys) ---- */

static struct tstream *ts_get(struct tr *t, uint32_t tid)
{
	size_t i, mask;

	if ((t->nts + 1) * 2 > t->capts) {
		size_t cap = t->capts ? t->capts * 2 : 256;
		struct tstream *n = calloc(cap, sizeof(*n)), *old = t->ts;

		if (!n)
			return NULL;
		for (i = 0; i < t->capts; i++) {
			size_t j;

			if (!old[i].tid)
				continue;
			for (j = old[i].tid & (cap - 1); n[j].tid; j = (j + 1) & (cap - 1))
				;
			n[j] = old[i];
		}
		free(old);
		t->ts = n;
		t->capts = cap;
	}
	mask = t->capts - 1;
	for (i = tid & mask; t->ts[i].tid; i = (i + 1) & mask)
		if (t->ts[i].tid == tid)
			return &t->ts[i];
	t->ts[i].tid = tid;
	t->ts[i].last_state = -1;
	t->nts++;
	return &t->ts[i];
}

static void note_ts(struct tr *t, uint64_t ts)
{
	if (ts > t->last_ts)
		t->last_ts = ts;
}

static void set_err(struct tr *t, int err)
{
	if (err < 0 && !t->err)
		t->err = err;
}

/*
 * What the kernel's totals say a thread's lost batches held: d[] is its time in each state
 * from `from` (the last transition the ring delivered) to `closed` (up to where the kernel
 * closed its totals), and from closed to end it is in `state`. Less what the delivered
 * entries e[0..n) account for from e[0] to end, what is left is the time in each state of
 * the lost stretch, from s->last_ts to e[0] (or end). False when the figures do not close
 * (then the stretch keeps the last state seen).
 */
static bool gap_states(const struct tstream *s, uint64_t from, uint64_t closed,
		       const __u64 *d, unsigned state, const __u64 *e, uint32_t n, uint64_t end,
		       uint64_t *to, uint64_t out[TL_NSTATES])
{
	int64_t c[TL_NSTATES];
	uint64_t sum = 0;

	*to = n ? e[0] & IT_TS_MASK : end;
	if (s->last_ts != from || s->last_state < 0 || closed > end || *to <= from ||
	    n > IT_BATCH)
		return false;
	for (int i = 0; i < TL_NSTATES; i++)
		c[i] = (int64_t)d[i];
	if (end > closed) {
		if (state >= TL_NSTATES)
			return false;
		c[state] += (int64_t)(end - closed);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = e[i] & IT_TS_MASK, b = end;
		unsigned st = (unsigned)(e[i] >> IT_STATE_SHIFT) & IT_STATE_MASK;

		if (st == IT_MARK_POLL_END)
			continue;	/* a mark: the state runs on to the next transition */
		for (uint32_t j = i + 1; j < n; j++)
			if (((e[j] >> IT_STATE_SHIFT) & IT_STATE_MASK) != IT_MARK_POLL_END) {
				b = e[j] & IT_TS_MASK;
				break;
			}
		if (st >= TL_NSTATES || b < a)
			return false;
		c[st] -= (int64_t)(b - a);
	}
	for (int i = 0; i < TL_NSTATES; i++) {
		if (c[i] < 0)
			return false;
		out[i] = (uint64_t)c[i];
		sum += out[i];
	}
	return sum == *to - from;
}

/*
 * Batches [next_seq, seq) of tid never arrived: its transitions from its last one to `to`
 * are lost. With the kernel's per-state time of the stretch (ns, from gap_states), the
 * timeline gets exact state totals there, and only the order is a gap; without, the
 * stretch carries the last state seen.
 */
static void stream_gap_ns(struct tr *t, struct tstream *s, uint32_t pid, uint32_t seq,
			  uint64_t to, const uint64_t *ns)
{
	if (seq == s->next_seq)
		return;
	/* last_ts 0: the thread's start was lost too; the timeline only has what it got */
	if (s->last_ts && to > s->last_ts) {
		t->lost_ns += to - s->last_ts;
		if (ns && tl_gap_fill(t->tl, pid, s->tid, s->last_ts, to,
				      (enum tl_state)s->last_state, ns) == 0)
			t->lost_exact_ns += to - s->last_ts;
		else
			tl_gap(t->tl, s->tid, s->last_ts, to);
	}
	s->next_seq = seq;
	s->rs_valid = false;
}

static void stream_gap(struct tr *t, struct tstream *s, uint32_t seq, uint64_t to)
{
	stream_gap_ns(t, s, 0, seq, to, NULL);
}

/*
 * The gap before a thread's pending entries e[0..n) (or up to end) from its map entry's
 * totals: what it held since the last batch the ring took (ns - ns_ok from ok_since).
 */
static void stream_gap_map(struct tr *t, struct tstream *s, const struct it_thread *v,
			   uint32_t seq, const __u64 *e, uint32_t n, uint64_t end)
{
	__u64 d[TL_NSTATES];
	uint64_t ns[TL_NSTATES], to;

	if (seq == s->next_seq)
		return;
	for (int i = 0; i < TL_NSTATES; i++)
		d[i] = v->ns[i] - v->ns_ok[i];
	if (gap_states(s, v->ok_since, v->since, d, v->state, e, n, end, &to, ns))
		stream_gap_ns(t, s, v->pid, seq, to, ns);
	else
		stream_gap(t, s, seq, n ? e[0] & IT_TS_MASK : end);
}

static void feed_entries(struct tr *t, struct tstream *s, uint32_t pid, const __u64 *e,
			 uint32_t n)
{
	if (n > IT_BATCH)
		n = IT_BATCH;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t ts = e[i] & IT_TS_MASK;
		unsigned st = (unsigned)(e[i] >> IT_STATE_SHIFT) & IT_STATE_MASK;
		/* what a read read from (the model's bounds tell storage from pipes, sockets),
		 * what an other_wait waited for (a child process: a peer) */
		unsigned kind = (unsigned)(e[i] >> IT_KIND_SHIFT);

		/*
		 * A poll call that waited returned 0: its timeout ended it, not a peer's data,
		 * whatever it reads next (its last wait is named so). Or a task of its own
		 * process was current at its wake-up: if the thread reads a pipe next, that task
		 * wrote to it (a pipe's reader is woken in its writer's context), the process
		 * signalled itself; a socket's reader may have been woken by an interrupt
		 * (whatever task it came upon), so a socket keeps its peer.
		 */
		if (st == IT_MARK_POLL_END) {
			if (s->poll_from && kind == TL_PK_TIMEOUT) {
				tl_label(t->tl, s->tid, s->poll_from, ts, TL_POLL_WAIT, kind);
				s->poll_from = 0;
			}
			s->poll_own = s->poll_from && kind == TL_PK_OWN_PROCESS;
			continue;
		}
		if (st >= TL_NSTATES)
			continue;
		if (st == TL_IO_CPU || st == TL_IO_WAIT ? kind >= IT_NIOKINDS
		    : st == TL_OTHER_WAIT		  ? kind >= IT_NOWKINDS
							  : true)
			kind = 0;
		set_err(t, tl_transition_kind(t->tl, pid, s->tid, ts, (enum tl_state)st, kind));
		/*
		 * A poll wait was for what the thread read next (as the probes' sock_waits say):
		 * a pipe's or a socket's is a wait on the program at its other end. Only the
		 * last one before the read: a thread polling with a timeout that reads a pipe
		 * once at its end (fio's helper) waited on its timer before (the stream has no
		 * call boundaries: a poll that went off CPU twice counts its last stretch).
		 */
		if (st == TL_POLL_WAIT) {
			s->poll_from = ts;
			s->poll_own = false;
		}
		/*
		 * Input: a read begun or a poll wait. Not other_wait: a finishing thread
		 * can block there on its way out (a page fault, the mmap lock while its
		 * process makes a thread, or our own read of its maps), and a CPython
		 * worker that released main's join() so lost the join (71 ms of main's
		 * join() read as condvar in a CI run).
		 */
		if ((st == TL_IO_CPU || st == TL_IO_WAIT || st == TL_POLL_WAIT) &&
		    ts > s->input_from)
			s->input_from = ts;
		if (st == TL_IO_CPU) {
			if (s->poll_from && (kind == TL_IOK_PIPE || kind == TL_IOK_SOCKET))
				tl_label(t->tl, s->tid, s->poll_from, ts, TL_POLL_WAIT,
					 s->poll_own && kind == TL_IOK_PIPE ? TL_PK_OWN_PROCESS
									    : kind);
			s->poll_from = 0;
			s->poll_own = false;
		}
		if (ts >= s->last_ts) {
			s->last_ts = ts;
			s->last_state = (int)st;
		}
		note_ts(t, ts);
	}
}

/* The futex waits a batch (or a thread's pending entries) carries: to the wait set. */
static void futex_waits(struct tr *t, uint32_t pid, uint32_t tid, uint32_t fx,
			const struct it_fx_begin *fb, const struct it_fx_end *fe, uint64_t last_ts)
{
	if (!t->waits)
		return;
	/* the end first: it is of a wait that began before the one this batch starts */
	if (fx & IT_FX_END) {
		struct wt_wait w = {
			/* the word and the call come with its start: unknown (other) without */
			.pid = pid, .tid = tid, .op = ~0u,
			.begin_ts = fe->enter_ts, .end_ts = fe->exit_ts,
			.lock_ns = fe->lock_ns, .wake_ts = fe->wake_ts, .waker = fe->waker,
			.ret = fe->ret, .kstack_id = fe->kstack_id, .ustack_id = fe->ustack_id,
			.waker_oncpu = fe->waker_oncpu,
		};

		set_err(t, wt_end(t->waits, &w));
	}
	if ((fx & IT_FX_BEGIN) && last_ts)
		set_err(t, wt_begin(t->waits, pid, tid, fb->uaddr, fb->op, fb->val, last_ts));
}

static void on_batch(struct tr *t, const struct it_batch *b)
{
	struct tstream *s = ts_get(t, b->tid);

	if (!s) {
		set_err(t, -ENOMEM);
		return;
	}
	if (b->n && b->seq != s->next_seq) {
		uint64_t ns[TL_NSTATES], to;

		/* the kernel's account of the lost batches came just before this one */
		if (s->rs_valid && s->rs_seq == b->seq &&
		    gap_states(s, s->rs_from, s->rs_to, s->rs_ns, TL_NSTATES, b->e, b->n,
			       s->rs_to, &to, ns))
			stream_gap_ns(t, s, b->pid, b->seq, to, ns);
		else
			stream_gap(t, s, b->seq, b->e[0] & IT_TS_MASK);
	}
	s->rs_valid = false;
	s->next_seq = b->seq + 1;
	feed_entries(t, s, b->pid, b->e, b->n);
	futex_waits(t, b->pid, b->tid, b->fx, &b->fx_begin, &b->fx_end,
		    b->n && b->n <= IT_BATCH ? b->e[b->n - 1] & IT_TS_MASK : 0);
}

static void read_comm(uint32_t pid, uint32_t tid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

/* Kernel totals of one thread: into the run's sums, the tl thread and the callback. */
static void take_totals(struct tr *t, uint32_t tid, const struct it_thread *v, const char *comm,
			uint64_t end_ts)
{
	struct tr_thread_totals tt;
	struct tl_thread *th;

	t->reads += it_thread_reads(v);
	t->bytes_read += it_thread_bytes_read(v);
	t->ctx_switches += v->ctx_switches;
	th = tl_thread_find(t->tl, tid);
	if (th) {
		memset(th->bytes_read_by_kind, 0, sizeof(th->bytes_read_by_kind));
		th->bytes_read_direct = 0;
	}
	for (unsigned k = 0; k < IT_READ_KIND_SLOTS; k++) {
		uint64_t b = it_thread_bytes_by_kind(v, k);
		unsigned slot = wt_io_slot(k & IT_IOK_KIND_MASK);

		t->bytes_by_kind[slot] += b;
		if (th)
			th->bytes_read_by_kind[slot] += b;
		if (!(k & IT_IOK_DIRECT))
			continue;
		t->bytes_direct += b;
		if (th)
			th->bytes_read_direct += b;
	}
	if (th) {
		th->reads = it_thread_reads(v);
		th->bytes_read = it_thread_bytes_read(v);
		th->ctx_switches = v->ctx_switches;
		th->stolen_ns = v->stolen_ns;
	}
	if (!t->o.on_thread)
		return;
	memset(&tt, 0, sizeof(tt));
	tt.pid = v->pid;
	tt.tid = tid;
	if (comm)
		snprintf(tt.comm, sizeof(tt.comm), "%s", comm);
	tt.exited = v->exited;
	tt.start_ts = v->start_ts;
	tt.end_ts = end_ts;
	for (int i = 0; i < TL_NSTATES; i++)
		tt.state_ns[i] = v->ns[i];
	/* a live thread's current state runs on to end_ts */
	if (!v->exited && v->state < TL_NSTATES && end_ts > v->since)
		tt.state_ns[v->state] += end_ts - v->since;
	tt.reads = it_thread_reads(v);
	tt.bytes_read = it_thread_bytes_read(v);
	tt.ctx_switches = v->ctx_switches;
	tt.stolen_ns = v->stolen_ns;
	t->o.on_thread(t->o.thread_ctx, &tt);
}

/* The live process pid (the newest entry: a pid the kernel reused starts a new one). */
static struct tr_process *proc_find(struct tr *t, uint32_t pid)
{
	for (size_t i = t->nprocs; i-- > 0;)
		if (t->procs[i].pid == pid)
			return t->procs[i].end_ts ? NULL : &t->procs[i];
	return NULL;
}

static struct tr_process *proc_add(struct tr *t, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	struct tr_process *p;

	if (t->nprocs == t->capprocs) {
		size_t cap = t->capprocs ? t->capprocs * 2 : 16;

		p = realloc(t->procs, cap * sizeof(*p));
		if (!p) {
			set_err(t, -ENOMEM);
			return NULL;
		}
		t->procs = p;
		t->capprocs = cap;
	}
	p = &t->procs[t->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->start_ts = ts;
	p->status = -1;
	return p;
}

/* A NUL-separated argv (as /proc/PID/cmdline) of len bytes into one line. */
static void set_cmdline(struct tr_process *p, const char *args, size_t len)
{
	size_t n = len < sizeof(p->cmdline) ? len : sizeof(p->cmdline) - 1;

	memcpy(p->cmdline, args, n);
	p->cmdline[n] = 0;
	while (n && !p->cmdline[n - 1])
		n--;
	for (size_t i = 0; i < n; i++)
		if (!p->cmdline[i] || p->cmdline[i] == '\n')
			p->cmdline[i] = ' ';
	p->cmdline[n] = 0;
}

static void on_exec_rec(struct tr *t, const struct it_exec_rec *r)
{
	struct tr_process *p = proc_find(t, r->pid);
	struct tl_thread *th;

	note_ts(t, r->ts);
	if (!p && !(p = proc_add(t, r->pid, 0, r->ts)))
		return;
	memcpy(p->comm, r->comm, sizeof(r->comm));
	p->comm[sizeof(p->comm) - 1] = 0;
	if (t->o.proc_event)
		t->o.proc_event(t->o.unwind_ctx, r->pid, 0, r->ts);
	set_cmdline(p, r->args, r->args_len < IT_ARGS_LEN ? r->args_len : IT_ARGS_LEN);
	p->setuid = r->uid != r->euid;
	/*
	 * The thread that exec'd (the leader now) is named by its new program at once: its
	 * exit record, which names it otherwise, can be lost, and a command's thread was met
	 * before the exec, still named iotrace (node's loop read "event loop (iotrace)").
	 */
	th = tl_thread_find(t->tl, r->pid);
	if (th && th->pid == r->pid)
		snprintf(th->comm, sizeof(th->comm), "%s", p->comm);
	if (t->alive)
		t->alive(t->alive_ctx, r->pid, true);
}

/* A process the probes saw begin (fork) or end (its last thread). */
static void proc_thread_rec(struct tr *t, const struct it_thread_rec *r, const char *comm)
{
	struct tr_process *p, *parent;

	if (r->type == IT_REC_THREAD && (r->flags & IT_TF_PROCESS)) {
		p = proc_find(t, r->pid);
		if (p && p->seeded) {
			/* forked while tr_start read /proc: seeded from there, born here */
			p->seeded = false;
			p->start_ts = r->ts;
			p->ppid = r->ppid;
			return;
		}
		parent = proc_find(t, r->ppid);
		/* an index: adding may move the table */
		size_t pi = parent ? (size_t)(parent - t->procs) : SIZE_MAX;

		p = proc_add(t, r->pid, r->ppid, r->ts);
		if (!p)
			return;
		snprintf(p->comm, sizeof(p->comm), "%.*s", (int)sizeof(p->comm) - 1, comm);
		/* a fork runs its parent's program until it execs one of its own */
		if (pi != SIZE_MAX)
			memcpy(p->cmdline, t->procs[pi].cmdline, sizeof(p->cmdline));
	} else if (r->type == IT_REC_EXIT && (r->flags & IT_TF_GROUP_DEAD)) {
		p = proc_find(t, r->pid);
		if (!p)
			return;
		p->end_ts = r->ts;
		p->status = (int)r->status;
		if (comm[0])
			snprintf(p->comm, sizeof(p->comm), "%.*s", (int)sizeof(p->comm) - 1, comm);
	}
}

static void on_thread_rec(struct tr *t, const struct it_thread_rec *r)
{
	struct tstream *s = ts_get(t, r->tid);
	char comm[IT_COMM_LEN + 1];

	if (!s) {
		set_err(t, -ENOMEM);
		return;
	}
	memcpy(comm, r->comm, IT_COMM_LEN);
	comm[IT_COMM_LEN] = 0;
	note_ts(t, r->ts);
	proc_thread_rec(t, r, comm);
	if (r->type == IT_REC_THREAD) {
		/* a reused tid starts a new stream */
		s->next_seq = 0;
		s->exited = false;
		s->last_ts = r->ts;
		s->last_state = TL_RUNNABLE; /* as add_thread starts it */
		s->rs_valid = false;
		s->input_from = 0;
		if (!tl_thread_add(t->tl, r->pid, r->tid, r->ts, TL_RUNNABLE, comm))
			set_err(t, -ENOMEM);
		if (t->waits)
			set_err(t, wt_thread_new(t->waits, r->pid, r->tid, r->child_tid, r->ts));
		if (t->alive)
			t->alive(t->alive_ctx, r->pid, false);
		if (t->o.proc_event && r->tid == r->pid && r->ppid && r->ppid != r->pid)
			t->o.proc_event(t->o.unwind_ctx, r->pid, r->ppid, r->ts);
		return;
	}
	/* IT_REC_EXIT: the thread's last batch came just before this record */
	{
		int fd = bpf_map__fd(t->skel->maps.threads);
		struct it_thread v;
		__u32 key = r->tid;
		bool have = bpf_map_lookup_elem(fd, &key, &v) == 0 && v.exited && v.since == r->ts;

		/* with its totals, lost last batches are rebuilt per state */
		if (have)
			stream_gap_map(t, s, &v, r->last_seq, NULL, 0, r->ts);
		else
			stream_gap(t, s, r->last_seq, r->ts);
		s->exited = true;
		set_err(t, tl_thread_exit(t->tl, r->tid, r->ts, comm));
		if (t->waits) {
			set_err(t, wt_thread_exit(t->waits, r->tid, r->ts, r->oncpu_ns));
			wt_thread_input_wait(t->waits, r->tid, s->input_from);
		}
		/* take its totals now and free the entry, so thread churn can't fill the map */
		if (have) {
			take_totals(t, r->tid, &v, comm, r->ts);
			bpf_map_delete_elem(fd, &key);
		}
	}
}

/* io_uring opcodes whose result is bytes received: they count as reads, as read(2) does. */
static bool uring_is_read(__u32 op)
{
	return op == IORING_OP_READV || op == IORING_OP_READ_FIXED || op == IORING_OP_READ ||
	       op == IORING_OP_RECV || op == IORING_OP_RECVMSG;
}

static void on_uring(struct tr *t, const struct it_uring_rec *r)
{
	note_ts(t, r->ts);
	if (r->ev == IT_URING_SUBMIT) {
		set_err(t, tl_io_begin(t->tl, r->req, r->ts));
	} else if (r->ev == IT_URING_COMPLETE) {
		set_err(t, tl_io_end(t->tl, r->req, r->ts));
		/* a read whose submitter's entry was not found: the run's, no thread's */
		if (!r->kind && uring_is_read(r->opcode) && r->res >= 0) {
			t->uring_reads++;
			t->uring_bytes += (uint64_t)r->res;
			t->bytes_by_kind[wt_io_slot(r->rkind & IT_IOK_KIND_MASK)] += (uint64_t)r->res;
			if (r->rkind & IT_IOK_DIRECT)
				t->bytes_direct += (uint64_t)r->res;
		}
	}
}

static void on_block(struct tr *t, const struct it_block_rec *r)
{
	if (t->nblk == t->capblk) {
		size_t cap = t->capblk ? t->capblk * 2 : 1024;
		void *n = realloc(t->blk, cap * sizeof(*t->blk));

		if (!n) {
			set_err(t, -ENOMEM);
			return;
		}
		t->blk = n;
		t->capblk = cap;
	}
	t->blk[t->nblk].start = r->issue_ts;
	t->blk[t->nblk].end = r->complete_ts;
	t->nblk++;
	/* the bounds count it as storage I/O under way (the run's own or readahead) */
	set_err(t, tl_block(t->tl, r->issue_ts, r->complete_ts));
}

/* Frames of stack id (cached: a run never deletes stack ids); count, or -errno. */
static int stack_frames(struct tr *t, __s32 id, uint64_t *ips, int max)
{
	uint64_t *v;
	int n = 0;

	if (id < 0)
		return id;
	if ((uint32_t)id >= t->stack_cache_n)
		return -ENOENT;
	v = t->stack_cache[id];
	if (!v) {
		v = calloc(IT_MAX_STACK, sizeof(*v));
		if (!v)
			return -ENOMEM;
		if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stacks), &id, v)) {
			int err = -errno;

			free(v);
			return err;
		}
		t->stack_cache[id] = v;
	}
	while (n < max && n < IT_MAX_STACK && v[n])
		ips[n] = v[n], n++;
	return n;
}

/*
 * An off-CPU copy unwound whole: the next switch-outs of the thread at the same place
 * need no copy if the words the unwinding read are still there (it_umemo).
 */
static void umemo_put(struct tr *t, const struct it_ustack_rec *r, const uint16_t *reads,
		      int nreads, uint32_t regmask)
{
	struct it_umemo_key k = {.tid = r->tid, .ip = r->regs[IT_UREG_IP],
				 .sp = r->regs[IT_UREG_SP]};
	struct it_umemo m = {.n = (__u32)nreads};
	const uint64_t *ips;
	bool complete;
	int n, id;

	if (nreads < 0 || !t->umemo)
		return;
	id = uc_get(t->uc, r->tid, r->seq, &ips, &n, &complete);
	if (id < 0 || id >= IT_UCOPY_ID - IT_UMEMO_ID)
		return;
	m.id = (__u32)id;
	m.regmask = regmask;
	for (int i = 0; i < IT_UREGS; i++)
		m.regs[i] = r->regs[i];
	for (int i = 0; i < nreads; i++) {
		m.off[i] = reads[i];
		memcpy(&m.val[i], r->data + reads[i], sizeof(m.val[i]));
	}
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.ucopy_memo), &k, &m, BPF_ANY))
		set_err(t, -errno);
}

/* A user stack copy: unwind it now, while the process lives; the stack record follows. */
static void on_ustack(struct tr *t, const struct it_ustack_rec *r)
{
	uint64_t ips[127], top = 0;
	uint16_t reads[IT_UMEMO_WORDS];
	bool complete = false;
	int n, nreads = -1;
	uint32_t regmask = 0;

	if (!t->uc || !t->o.unwind)
		return;
	uint64_t regs[IT_UREGS];

	for (int i = 0; i < IT_UREGS; i++)
		regs[i] = r->regs[i];
	n = t->o.unwind(t->o.unwind_ctx, r->pid, r->tid, regs, r->data, r->size, ips, 127,
			&complete, &top, reads, &nreads, &regmask);
	if (n < 0)
		t->unwind_failed++;
	set_err(t, uc_put(t->uc, r->tid, r->seq, r->flags & IT_UCOPY_OFFCPU, ips, n, complete));
	if (n > 0 && (r->flags & IT_UCOPY_OFFCPU))
		umemo_put(t, r, reads, nreads, regmask);
	/* the next copies of the thread stop there (bpf ucopy_top) */
	if (top && uc_set_top(t->uc, r->tid, top)) {
		__u32 tid = r->tid;
		__u64 v = top;

		bpf_map_update_elem(bpf_map__fd(t->skel->maps.ucopy_top), &tid, &v, BPF_ANY);
	}
}

/* Why a stack record with no copy has none (the probe's it_ucopy_how). */
static enum an_ustack no_copy_why(__u32 how)
{
	switch (how) {
	case IT_UC_OFF: return AN_US_COPIES_OFF;
	case IT_UC_OVER_BUDGET: return AN_US_OVER_BUDGET;
	case IT_UC_NO_USER: return AN_US_KERNEL_ONLY;
	default: return AN_US_COPY_FAILED; /* IT_UC_FAILED */
	}
}

/* User frames of a stack record: from its copy, or the stack map (frame pointers). */
static void user_frames(struct tr *t, const struct it_stack_rec *r, struct tr_stack *s)
{
	const uint64_t *ips;
	bool complete;
	int n, id;

	s->uwalk = TR_UWALK_FP;
	if (r->ustack_id >= IT_UMEMO_ID && r->ustack_id < IT_UCOPY_ID) {
		/* a switch-out at a place unwound before (umemo_put) */
		id = uc_stack(t->uc, r->ustack_id - IT_UMEMO_ID, &ips, &n, &complete);
		if (id < 0) {
			t->ucopy_lost++;
			s->ustack_id = id;
			s->nuser = id;
			s->ustack_how = AN_US_COPY_LOST;
			return;
		}
		goto found;
	}
	if (r->ustack_id < IT_UCOPY_ID) {
		s->nuser = stack_frames(t, r->ustack_id, s->uips, 127);
		s->ustack_how = no_copy_why(r->ucopy);
		return;
	}
	id = uc_get(t->uc, r->tid, (uint32_t)(r->ustack_id - IT_UCOPY_ID), &ips, &n, &complete);
	if (id < 0) {
		/* never arrived (its record lost), or its unwinding failed (uc_put) */
		if (id == -ENOENT)
			t->ucopy_lost++;
		s->ustack_how = id == -ENOENT ? AN_US_COPY_LOST : AN_US_UNWIND_FAILED;
		s->ustack_id = id;
		s->nuser = id;
		return;
	}
found:
	memcpy(s->uips, ips, (size_t)n * sizeof(*ips));
	s->nuser = n;
	s->ustack_id = TR_UCOPY_ID_BASE + id;
	s->uwalk = complete ? TR_UWALK_CFI_END : TR_UWALK_CFI;
	s->ustack_how = complete ? AN_US_UNWOUND : AN_US_CUT_SHORT;
}

static void on_stack_rec(struct tr *t, const struct it_stack_rec *r)
{
	struct tr_stack *s = t->stack_buf;

	if (!t->o.on_stack || !s)
		return;
	s->kind = (int)r->kind;
	s->pid = r->pid;
	s->tid = r->tid;
	s->state = r->state < TL_NSTATES ? (enum tl_state)r->state : TL_COMPUTE;
	s->wkind = s->state == TL_IO_WAIT ? (r->wkind < IT_NIOKINDS ? r->wkind : 0)
		   : s->state == TL_OTHER_WAIT ? (r->wkind < IT_NOWKINDS ? r->wkind : 0)
					       : 0;
	s->value = r->value;
	s->ts = r->ts;
	s->kstack_id = r->kstack_id;
	s->ustack_id = r->ustack_id;
	s->nkern = stack_frames(t, r->kstack_id, s->kips, 127);
	user_frames(t, r, s);
	t->o.on_stack(t->o.stack_ctx, s);
}

/* A thread's lost batches, in per-state time: kept for the batch that follows it. */
static void on_resync(struct tr *t, const struct it_resync_rec *r)
{
	struct tstream *s = ts_get(t, r->tid);

	if (!s) {
		set_err(t, -ENOMEM);
		return;
	}
	s->rs_valid = true;
	s->rs_seq = r->seq;
	s->rs_from = r->from;
	s->rs_to = r->to;
	for (int i = 0; i < TL_NSTATES; i++)
		s->rs_ns[i] = r->ns[i];
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tr *t = ctx;
	__u32 type;

	if (!t->tl || size < sizeof(type))
		return 0; /* between runs: stale records are dropped */
	memcpy(&type, data, sizeof(type));
	switch (type) {
	case IT_REC_BATCH: {
		/* as long as its entries (IT_BATCH_SIZE) */
		const struct it_batch *b = data;

		if (size >= IT_BATCH_SIZE(0) && b->n <= IT_BATCH && size >= IT_BATCH_SIZE(b->n))
			on_batch(t, b);
		break;
	}
	case IT_REC_THREAD:
	case IT_REC_EXIT:
		if (size >= sizeof(struct it_thread_rec))
			on_thread_rec(t, data);
		break;
	case IT_REC_URING:
		if (size >= sizeof(struct it_uring_rec))
			on_uring(t, data);
		break;
	case IT_REC_STACK:
		if (size >= sizeof(struct it_stack_rec))
			on_stack_rec(t, data);
		break;
	case IT_REC_BLOCK:
		if (size >= sizeof(struct it_block_rec))
			on_block(t, data);
		break;
	case IT_REC_EXEC:
		if (size >= sizeof(struct it_exec_rec))
			on_exec_rec(t, data);
		break;
	case IT_REC_RESYNC:
		if (size >= sizeof(struct it_resync_rec))
			on_resync(t, data);
		break;
	case IT_REC_USTACK:
		if (size >= offsetof(struct it_ustack_rec, data) &&
		    size >= offsetof(struct it_ustack_rec, data) +
				    ((const struct it_ustack_rec *)data)->size)
			on_ustack(t, data);
		break;
	}
	return 0;
}

/* ---- open / close ---- */

static struct bpf_program *prog_of(struct iotrace_bpf *skel, const struct probe *p)
{
	return bpf_object__find_program_by_name(skel->obj, p->prog);
}

/* Power of two MiB: the ring buffer must be a power-of-two number of pages. */
static unsigned pow2_mb(unsigned mb)
{
	unsigned v = 1;

	while (v < mb && v < 1024)
		v <<= 1;
	return v;
}

/*
 * Measured (make bench): a 4 KiB-read storm streams ~12 MiB/s of batches per CPU it keeps
 * busy; with stacks, a switch-heavy program adds off-CPU records (~11 MiB/s at 200k
 * switches/s), and user-stack copies add up to 999 Hz x the copied depth per CPU. The
 * consumer drains every 10 ms and the probes wake it once a quarter of the buffer is used.
 * 1 MiB per CPU (2 with stacks) held one storm with stacks and copies without a loss (7
 * runs), and two at once on 2 CPUs without copies (6 runs); two storms with copies lost
 * events with 4 MiB in 6 runs of 6 and none with 8 (the consumer's first unwind of each
 * process is slow). md5dir's callback strategy with stacks (libuv's pool threads switch
 * out for every 64 KiB read, ~8500 user-stack copies a run, each 84-250 us for the consumer
 * to unwind) lost 3600-10600 events a run with 2 MiB per CPU on a busy machine, and none
 * with 4: with stacks, 4 MiB per CPU. The buffer counts once in our RSS (ring.c maps it
 * once); within 2..256 MiB. --ringbuf-mb sets it, and any overflow is counted and named
 * with that hint.
 */
static unsigned rb_size_mb(const struct tr_opts *o, int ncpu)
{
	unsigned mb = o->ringbuf_mb;

	if (!mb) {
		mb = (unsigned)ncpu * (o->stacks ? 4 : 1);
		if (mb < 2)
			mb = 2;
		if (mb > 256)
			mb = 256;
	}
	return pow2_mb(mb);
}

/*
 * Can the probes copy user stacks here: the helpers to find a task's user registers and
 * its stack's mapping (5.15 / 5.17)? (Tracing programs cannot be probed; they get what
 * kprobe programs get.)
 */
static bool ucopy_supported(void)
{
#if defined(__x86_64__)
	static const enum bpf_prog_type types[] = {BPF_PROG_TYPE_PERF_EVENT, BPF_PROG_TYPE_KPROBE};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (libbpf_probe_bpf_helper(types[i], BPF_FUNC_task_pt_regs, NULL) != 1 ||
		    libbpf_probe_bpf_helper(types[i], BPF_FUNC_find_vma, NULL) != 1)
			return false;
	return true;
#else
	return false; /* registers copied for x86-64 only (bpf ucopy) */
#endif
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL	/* linux/pidfd.h, 6.9 */
#endif

/* A pidfd of thread tid (any thread, not only a leader), or -errno. */
static int thread_pidfd(uint32_t tid)
{
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)tid, PIDFD_THREAD);

	return fd < 0 ? -errno : fd;
}

/*
 * Can the threads' entries live in task storage? The map type, and pidfds of threads
 * (6.9), which user space needs to seed and read an entry: its key is the task's pidfd.
 */
static bool tstore_supported(void)
{
	int fd;

	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) != 1)
		return false;
	fd = thread_pidfd((uint32_t)syscall(SYS_gettid));
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The threads' entries in task storage (on), or in the `threads` hash. */
static void tstore_set(struct iotrace_bpf *skel, bool on)
{
	skel->rodata->use_tstore = on;
	if (on) {
		/*
		 * `threads` then holds only the entries of threads that exited before user
		 * space read them: allocated as they come rather than all 16384 up front
		 * (43.9 MB of kernel memory at 2.6 KiB an entry; the hash alone keeps its
		 * preallocation: older kernels allow perf_event programs no other).
		 */
		bpf_map__set_map_flags(skel->maps.threads, BPF_F_NO_PREALLOC);
		return;
	}
	/* the probes never reach it: the smallest map any kernel makes */
	bpf_map__set_type(skel->maps.tstore, BPF_MAP_TYPE_HASH);
	bpf_map__set_map_flags(skel->maps.tstore, 0);
	bpf_map__set_key_size(skel->maps.tstore, sizeof(__u32));
	bpf_map__set_max_entries(skel->maps.tstore, 1);
}

/* Does struct sname of the kernel have a member mname? */
static bool member_in_btf(const struct btf *btf, const char *sname, const char *mname)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, id);
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (int i = 0; m && i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), mname))
			return true;
	return false;
}

/* The links the probes follow from a task to its run queue's clocks (steal_ckpt). */
static bool steal_in_btf(const struct btf *btf)
{
	return member_in_btf(btf, "sched_entity", "cfs_rq") && member_in_btf(btf, "cfs_rq", "rq") &&
	       member_in_btf(btf, "rq", "clock_task");
}

bool tr_steal_measurable(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok = btf && steal_in_btf(btf);

	btf__free(btf);
	return ok;
}

static bool tp_in_btf(const struct btf *btf, const char *tp)
{
	char name[128];

	if (!btf)
		return true; /* can't tell: let the load decide */
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) >= 0;
}

static int perf_open_cpu(unsigned hz, int cpu)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.freq = 1;
	a.sample_freq = hz;
	return (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static const char *perm_hint(int err)
{
	return err == -EPERM || err == -EACCES
		       ? " (loading eBPF probes needs root, or CAP_BPF and CAP_PERFMON: run with sudo)"
		       : "";
}

/* Attach on-CPU sampling on every online CPU. 0, or -errno (nothing left attached). */
static int attach_sampling(struct tr *t, struct bpf_program *prog, unsigned hz)
{
	int ret = 0;

	t->perf_fds = calloc((size_t)t->ncpu, sizeof(*t->perf_fds));
	t->perf_links = calloc((size_t)t->ncpu, sizeof(*t->perf_links));
	if (!t->perf_fds || !t->perf_links)
		return -ENOMEM;
	for (int cpu = 0; cpu < t->ncpu; cpu++) {
		int fd = perf_open_cpu(hz, cpu);

		if (fd < 0) {
			if (errno == ENODEV)
				continue; /* offline CPU */
			ret = -errno;
			break;
		}
		t->perf_fds[t->nperf] = fd;
		t->perf_links[t->nperf] = bpf_program__attach_perf_event(prog, fd);
		t->nperf++;
		if (!t->perf_links[t->nperf - 1]) {
			ret = -errno;
			break;
		}
	}
	if (!ret && !t->nperf)
		ret = -ENODEV;
	return ret;
}

static void detach_sampling(struct tr *t)
{
	for (int i = t->nperf - 1; i >= 0; i--) {
		bpf_link__destroy(t->perf_links[i]);
		close(t->perf_fds[i]);
	}
	free(t->perf_links);
	free(t->perf_fds);
	t->perf_links = NULL;
	t->perf_fds = NULL;
	t->nperf = 0;
}

void tr_close(struct tr *t)
{
	if (!t)
		return;
	rg_free(t->rb);
	detach_sampling(t);
	for (int i = (int)NPROBES - 1; i >= 0; i--)
		bpf_link__destroy(t->links[i]);
	iotrace_bpf__destroy(t->skel);
	for (uint32_t i = 0; i < t->stack_cache_n; i++)
		free(t->stack_cache[i]);
	free(t->stack_cache);
	free(t->stack_buf);
	uc_free(t->uc);
	free(t->ts);
	free(t->blk);
	free(t->procs);
	free(t->socks);
	free(t);
}

int tr_open(const struct tr_opts *o, struct tr **out, char *err, size_t errlen)
{
	struct iotrace_bpf *skel = NULL;
	struct btf *btf = NULL;
	struct tr *t;
	unsigned hz = o->sample_hz ? o->sample_hz : TR_SAMPLE_HZ;
	int ret;

	*out = NULL;
	tr_verbose = o->verbose;
	libbpf_set_print(libbpf_print);

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "failed to allocate the tracer: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	t->o = *o;
	t->o.sample_hz = hz;
	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu <= 0) {
		ret = t->ncpu ? t->ncpu : -EINVAL;
		snprintf(err, errlen, "failed to count the CPUs: %s", strerror(-ret));
		goto cleanup;
	}

	skel = iotrace_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "failed to open the BPF probes: %s", strerror(errno));
		goto cleanup;
	}
	t->skel = skel;
	t->rb_mb = rb_size_mb(o, t->ncpu);
	skel->rodata->stacks_enabled = o->stacks;
	skel->rodata->features_off = o->features_off;
	skel->rodata->rb_wakeup_bytes = (uint64_t)t->rb_mb << 18; /* a quarter full */
	skel->rodata->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	skel->rodata->batch_max_age_ns = TR_BATCH_MAX_AGE_NS;
	bpf_map__set_max_entries(skel->maps.rb, t->rb_mb << 20);
	t->tstore = !o->thread_hash && tstore_supported();
	tstore_set(skel, t->tstore);
	if (!o->stacks)
		bpf_map__set_max_entries(skel->maps.stacks, 1);
	if (o->stacks && o->unwind && !(o->features_off & IT_FEAT_UCOPY) && ucopy_supported()) {
		unsigned b = o->ucopy_bytes ? o->ucopy_bytes : TR_UCOPY_BYTES;

		skel->rodata->ucopy_bytes = b < IT_USTACK_MAX ? b : IT_USTACK_MAX;
		skel->rodata->ucopy_offcpu_bps = o->ucopy_offcpu_bps ? o->ucopy_offcpu_bps
								     : TR_UCOPY_OFFCPU_BPS;
		t->uc = uc_new();
		if (!t->uc) {
			ret = -ENOMEM;
			snprintf(err, errlen, "failed to allocate the stack table: %s",
				 strerror(ENOMEM));
			goto cleanup;
		}
		t->umemo = true;
	} else {
		bpf_map__set_max_entries(skel->maps.ucopy_threads, 1);
		bpf_map__set_max_entries(skel->maps.ucopy_top, 1);
		bpf_map__set_max_entries(skel->maps.ucopy_memo, 1);
	}

	/* optional probes whose tracepoint this kernel lacks are left out, not fatal */
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		ret = -errno;
		snprintf(err, errlen,
			 "failed to read the kernel's BTF (/sys/kernel/btf/vmlinux): %s; iotrace "
			 "needs a kernel built with CONFIG_DEBUG_INFO_BTF",
			 strerror(errno));
		goto cleanup;
	}
	for (size_t i = 0; i < NPROBES; i++) {
		const struct probe *p = &probes[i];
		bool want = p->group != PG_SAMPLE || o->stacks;

		if (want && p->tp && !tp_in_btf(btf, p->tp)) {
			if (p->group == PG_CORE) {
				ret = -ENOENT;
				snprintf(err, errlen,
					 "failed to find tracepoint %s in the kernel: iotrace needs it",
					 p->tp);
				goto cleanup;
			}
			want = false;
		}
		bpf_program__set_autoload(prog_of(skel, p), want);
	}
	t->steal_ok = steal_in_btf(btf) && !(o->features_off & IT_FEAT_STEAL);
	btf__free(btf);
	btf = NULL;

	ret = iotrace_bpf__load(skel);
	if (ret < 0) {
		snprintf(err, errlen, "failed to load the BPF probes: %s%s%s", strerror(-ret),
			 perm_hint(ret), o->verbose ? "" : " (--verbose shows the verifier log)");
		goto cleanup;
	}
	/* libbpf parsed the kernel's BTF (~12 MiB here) to load, and freed it: hand those
	 * pages back now, or they stay resident under everything the run allocates next */
	malloc_trim(0);

	for (size_t i = 0; i < NPROBES; i++) {
		const struct probe *p = &probes[i];
		struct bpf_program *prog = prog_of(skel, p);

		if (!bpf_program__autoload(prog) || p->group == PG_SAMPLE)
			continue;
		t->links[i] = bpf_program__attach(prog);
		if (!t->links[i]) {
			ret = -errno;
			if (p->group == PG_CORE) {
				snprintf(err, errlen, "failed to attach tracepoint %s: %s%s", p->tp,
					 strerror(-ret), perm_hint(ret));
				goto cleanup;
			}
		}
	}
	/* a group works only if all its probes are attached */
	for (int g = PG_CORE; g <= PG_SAMPLE; g++)
		t->group_ok[g] = g != PG_SAMPLE;
	/* block_io_start is the better start point; issue alone still works (older kernels) */
	for (size_t i = 0; i < NPROBES; i++)
		if (probes[i].group != PG_SAMPLE && !t->links[i])
			t->group_ok[probes[i].group] = false;
	t->skel->bss->io_start_on = t->group_ok[PG_BLOCK_START];
	if (o->stacks) {
		const struct probe *p = &probes[NPROBES - 1];

		ret = attach_sampling(t, prog_of(skel, p), hz);
		if (ret < 0)
			detach_sampling(t); /* off-CPU stacks still work; on-CPU reported missing */
		t->group_ok[PG_SAMPLE] = ret == 0;
		t->stack_cache_n = bpf_map__max_entries(skel->maps.stacks);
		t->stack_cache = calloc(t->stack_cache_n, sizeof(*t->stack_cache));
		t->stack_buf = calloc(1, sizeof(*t->stack_buf));
		if (!t->stack_cache || !t->stack_buf) {
			ret = -ENOMEM;
			snprintf(err, errlen, "failed to allocate the stack cache: %s",
				 strerror(ENOMEM));
			goto cleanup;
		}
	}

	t->rb = rg_new(bpf_map__fd(skel->maps.rb), on_record, t);
	if (!t->rb) {
		ret = -errno;
		snprintf(err, errlen, "failed to set up the ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	*out = t;
	return 0;

cleanup:
	btf__free(btf);
	tr_close(t);
	return ret < 0 ? ret : -EINVAL;
}

/* ---- per run ---- */

/*
 * Delete every entry: collect the keys first, then delete. (Deleting while walking would
 * restart the walk each time, which scans all buckets: quadratic on a full stack map.)
 */
static void map_clear(int fd, size_t key_size)
{
	size_t n = 0, cap = 0;
	char *keys = NULL, *p;
	void *prev = NULL;
	char next[32];

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			p = realloc(keys, cap * key_size);
			if (!p)
				break;
			keys = p;
		}
		memcpy(keys + n * key_size, next, key_size);
		prev = keys + n * key_size;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
	/* out of memory above: fall back to deleting one at a time */
	while (bpf_map_get_next_key(fd, NULL, next) == 0)
		if (bpf_map_delete_elem(fd, next) && errno != ENOENT)
			break;
}

/*
 * Take the sock_waits entries out of the map: into t->socks if keep (else dropped). Keys are
 * too big for map_clear's walk; each entry is taken whole, so a probe adding to it after
 * that starts a new one, which the next reset clears.
 */
static int socks_take(struct tr *t, struct tr *keep)
{
	int fd = bpf_map__fd(t->skel->maps.sock_waits);
	struct it_sock_key k;
	struct it_sock_wait w;
	size_t cap = 0;

	while (bpf_map_get_next_key(fd, NULL, &k) == 0) {
		if (bpf_map_lookup_and_delete_elem(fd, &k, &w)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		if (!keep)
			continue;
		if (keep->nsocks == cap) {
			size_t c = cap ? cap * 2 : 16;
			void *p = realloc(keep->socks, c * sizeof(*keep->socks));

			if (!p)
				return -ENOMEM;
			keep->socks = p;
			cap = c;
		}
		keep->socks[keep->nsocks].k = k;
		keep->socks[keep->nsocks++].w = w;
	}
	return 0;
}

static int counters_read(struct tr *t, uint64_t *sum)
{
	int fd = bpf_map__fd(t->skel->maps.counters);
	uint64_t *v = calloc((size_t)t->ncpu, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < IT_CNT_MAX; k++) {
		sum[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < t->ncpu; c++)
			sum[k] += v[c];
	}
	free(v);
	return 0;
}

static int counters_zero(struct tr *t)
{
	int fd = bpf_map__fd(t->skel->maps.counters), ret = 0;
	uint64_t *v = calloc((size_t)t->ncpu, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < IT_CNT_MAX && !ret; k++)
		if (bpf_map_update_elem(fd, &k, v, BPF_ANY))
			ret = -errno;
	free(v);
	return ret;
}

static void drain_discard(struct tr *t)
{
	struct tl_timeline *tl = t->tl;

	t->tl = NULL;
	rg_consume(t->rb);
	t->tl = tl;
}

static void maps_reset(struct tr *t)
{
	/* task storage entries made until now are no entries (never 0: a zeroed entry) */
	t->skel->bss->frozen_gen = 0;
	if (++t->skel->bss->run_gen == 0)
		t->skel->bss->run_gen = 1;
	/* no cgroup matching until a run sets it: the css is learned anew every run */
	t->skel->bss->own_cgroup_id = 0;
	t->skel->bss->target_css = 0;
	map_clear(bpf_map__fd(t->skel->maps.targets), sizeof(__u32));
	map_clear(bpf_map__fd(t->skel->maps.threads), sizeof(__u32));
	map_clear(bpf_map__fd(t->skel->maps.blk_inflight), sizeof(__u64));
	map_clear(bpf_map__fd(t->skel->maps.uring_reqs), sizeof(__u64));
	map_clear(bpf_map__fd(t->skel->maps.folio_added), sizeof(__u64));
	socks_take(t, NULL);
}

static void run_state_free(struct tr *t)
{
	free(t->ts);
	t->ts = NULL;
	t->nts = t->capts = 0;
	free(t->blk);
	t->blk = NULL;
	t->nblk = t->capblk = 0;
	for (uint32_t i = 0; i < t->stack_cache_n; i++) {
		free(t->stack_cache[i]);
		t->stack_cache[i] = NULL;
	}
	uc_reset(t->uc);
	t->ucopy_lost = t->unwind_failed = 0;
	t->lost_ns = 0;
	t->lost_exact_ns = 0;
	free(t->procs);
	t->procs = NULL;
	t->nprocs = t->capprocs = 0;
	free(t->socks);
	t->socks = NULL;
	t->nsocks = 0;
	t->reads = t->bytes_read = t->ctx_switches = 0;
	t->uring_reads = t->uring_bytes = 0;
	memset(t->bytes_by_kind, 0, sizeof(t->bytes_by_kind));
	t->bytes_direct = 0;
	t->last_ts = 0;
	t->err = 0;
}

/* Syscall number the thread is blocked in (/proc/PID/task/TID/syscall), or -1. */
static long blocked_syscall(uint32_t pid, uint32_t tid)
{
	char path[64], buf[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/syscall", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && isdigit((unsigned char)buf[0]))
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr;
}

/*
 * Seed one existing thread. What /proc tells: 'R' = running or queued (we can't tell which:
 * taken as on CPU, compute; a queued thread's wait before its next switch-in then counts as
 * compute, at most one time slice); sleeping = off CPU in the state of the syscall it is
 * blocked in (/proc/.../syscall: io_wait, lock_wait, poll_wait, else other_wait), so its
 * syscall exit is classified right; stopped/traced = other_wait; dead = skipped.
 */
/*
 * Seed tid's task storage entry with v, stamped with this run, unless the probes made one
 * in this run already (-EEXIST). -ESRCH: the thread is gone.
 */
static int seed_tstore(struct tr *t, uint32_t tid, struct it_thread *v)
{
	int fd = bpf_map__fd(t->skel->maps.tstore), pfd, ret = 0;
	struct it_thread cur;

	pfd = thread_pidfd(tid);
	if (pfd < 0)
		return pfd;
	v->gen = t->skel->bss->run_gen;
	if (bpf_map_update_elem(fd, &pfd, v, BPF_NOEXIST)) {
		ret = -errno;
		/* another run's entry (its thread outlived that run) is no entry */
		if (ret == -EEXIST && !bpf_map_lookup_elem(fd, &pfd, &cur) && cur.gen != v->gen)
			ret = bpf_map_update_elem(fd, &pfd, v, BPF_EXIST) ? -errno : 0;
	}
	close(pfd);
	return ret;
}

static int seed_thread(struct tr *t, uint32_t pid, uint32_t tid, uint64_t now)
{
	char path[64], buf[512], comm[IT_COMM_LEN + 1] = "";
	struct it_thread v;
	char *p, st = 'S';
	FILE *f;
	__u32 key = tid;
	int ret;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
			st = p[2];
		fclose(f);
	}
	if (st == 'Z' || st == 'X' || st == 'x')
		return 0;
	read_comm(pid, tid, comm, sizeof(comm));
	memset(&v, 0, sizeof(v));
	v.pid = pid;
	v.start_ts = v.since = v.ok_since = v.switch_out_ts = now;
	v.kstack = v.ustack = -1;
	v.flags = IT_TF_INITIAL;
	if (st == 'R') {
		v.state = IT_COMPUTE;
		v.on_cpu = 1;
	} else {
		v.sys = st == 'S' || st == 'D' ? it_sys_class(blocked_syscall(pid, tid)) : IT_SYS_NONE;
		v.state = it_sys_wait_state(v.sys);
	}
	/* NOEXIST: a thread created since targets was set is already tracked by the probes */
	ret = t->tstore ? seed_tstore(t, tid, &v)
			: bpf_map_update_elem(bpf_map__fd(t->skel->maps.threads), &key, &v,
					      BPF_NOEXIST) ? -errno : 0;
	if (ret == -EEXIST || ret == -ESRCH)
		return 0;
	if (ret < 0)
		return ret;
	{
		struct tstream *s = ts_get(t, tid);

		if (!s)
			return -ENOMEM;
		s->last_ts = now;
		s->last_state = (int)v.state;
	}
	if (!tl_thread_add(t->tl, pid, tid, now, (enum tl_state)v.state, comm))
		return -ENOMEM;
	/* found waiting for a child: its first span says so, as the probes' would */
	if (v.sys == IT_SYS_CHILD)
		tl_label(t->tl, tid, now, now, TL_OTHER_WAIT, TL_OWK_CHILD);
	return 0;
}

/*
 * Make pid a target and seed its threads; with follow, its existing descendants too (new
 * ones the probes add at fork). The target is in the map before its threads are read, so a
 * thread or child born meanwhile is seen by one side or the other (seed_thread ignores a
 * thread the probes already added). -ESRCH if pid has no thread (it is gone).
 */
/* A process that existed before the trace: its parent, program and users from /proc. */
static void seed_proc_entry(struct tr *t, pid_t pid, uint64_t now)
{
	char path[64], buf[IT_ARGS_LEN], line[256], *p;
	struct tr_process *e = proc_add(t, (uint32_t)pid, 0, now);
	unsigned long ppid = 0, uid[2] = {0, 0};
	size_t n = 0;
	FILE *f;

	if (!e)
		return;
	e->seeded = true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
		    sscanf(p + 1, " %*c %lu", &ppid) == 1)
			e->ppid = (uint32_t)ppid;
		fclose(f);
	}
	read_comm((uint32_t)pid, (uint32_t)pid, e->comm, sizeof(e->comm));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	set_cmdline(e, buf, n);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Uid: %lu %lu", &uid[0], &uid[1]) == 2)
				break;
		fclose(f);
	}
	e->setuid = uid[0] != uid[1];
}

static int seed_process(struct tr *t, pid_t pid, uint64_t now, int depth)
{
	__u32 key = (__u32)pid, one = 1;
	char path[64];
	struct dirent *d;
	DIR *dir;
	int ret = 0, n = 0;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.targets), &key, &one, BPF_ANY))
		return -errno;
	/* one the probes saw fork since (targets set before its parent's /proc was read) has
	 * its entry already */
	if (!proc_find(t, (uint32_t)pid))
		seed_proc_entry(t, pid, now);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && ret >= 0) {
		char *end;
		unsigned long tid = strtoul(d->d_name, &end, 10);

		if (*end || !tid)
			continue;
		ret = seed_thread(t, (uint32_t)pid, (uint32_t)tid, now);
		n++;
	}
	if (ret >= 0 && !n)
		ret = -ESRCH;
	/* children of every thread (a child's parent is the thread that forked it) */
	rewinddir(dir);
	while (ret >= 0 && t->o.follow && depth < 64 && (d = readdir(dir))) {
		char cpath[320], *buf = NULL, *p, *end;
		size_t cap = 0;
		FILE *f;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid, d->d_name);
		f = fopen(cpath, "re");
		if (!f)
			continue;	/* the thread ended */
		/* one line, however many children */
		while (ret >= 0 && getline(&buf, &cap, f) > 0) {
			for (p = buf;; p = end) {
				long c = strtol(p, &end, 10);
				int r;

				if (end == p || c <= 0)
					break;
				r = seed_process(t, (pid_t)c, now, depth + 1);
				/* a child that exited meanwhile is no error */
				if (r < 0 && r != -ENOENT && r != -ESRCH)
					ret = r;
			}
		}
		free(buf);
		fclose(f);
	}
	closedir(dir);
	return ret < 0 ? ret : 0;
}

int tr_start(struct tr *t, pid_t pid, struct tl_timeline *tl)
{
	return tr_start_opts(t, pid, tl, NULL);
}

int tr_start_opts(struct tr *t, pid_t pid, struct tl_timeline *tl, const struct tr_start_opts *so)
{
	uint64_t now;
	int ret = 0;

	if (t->running)
		return -EBUSY;
	if (pid <= 0 || !tl)
		return -EINVAL;
	t->tl = NULL;
	rg_consume(t->rb);
	maps_reset(t);
	map_clear(bpf_map__fd(t->skel->maps.stacks), sizeof(__u32));
	map_clear(bpf_map__fd(t->skel->maps.ucopy_threads), sizeof(__u32));
	map_clear(bpf_map__fd(t->skel->maps.ucopy_top), sizeof(__u32));
	map_clear(bpf_map__fd(t->skel->maps.ucopy_memo), sizeof(struct it_umemo_key));
	ret = counters_zero(t);
	if (ret < 0)
		return ret;
	rg_consume(t->rb); /* records of the last run that were still in flight */
	run_state_free(t);
	memset(&t->stats, 0, sizeof(t->stats));
	t->skel->bss->follow_children = t->o.follow;
	t->skel->bss->own_cgroup_id = so ? so->own_cgroup_id : 0;

	t->tl = tl;
	t->waits = so ? so->waits : NULL;
	t->alive = so ? so->alive : NULL;
	t->alive_ctx = so ? so->alive_ctx : NULL;
	now = tr_now();
	ret = seed_process(t, pid, now, 0);
	if (ret < 0)
		goto fail;
	note_ts(t, now);
	t->running = true;
	return 0;
fail:
	maps_reset(t);
	t->tl = NULL;
	return ret;
}

const struct tr_process *tr_processes(const struct tr *t, size_t *n)
{
	*n = t->nprocs;
	return t->procs;
}

const struct tr_sock *tr_socks(const struct tr *t, size_t *n)
{
	*n = t->nsocks;
	return t->socks;
}

int tr_poll(struct tr *t, int timeout_ms)
{
	int n, m;

	n = rg_consume(t->rb);
	if (n < 0)
		return n;
	if (timeout_ms > 0) {
		/* the probes don't wake us unless the buffer fills up: this mostly sleeps */
		m = rg_poll(t->rb, timeout_ms);
		if (m < 0)
			return m;
		n += m;
		m = rg_consume(t->rb);
		if (m < 0)
			return m;
		n += m;
	}
	if (t->err)
		return t->err;
	return n;
}

struct snap {
	__u32 tid;
	struct it_thread v;
};

/* A new slot at the end of the snapshot, NULL without memory. */
static struct snap *snap_push(struct snap **sn, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct snap *p = realloc(*sn, c * sizeof(**sn));

		if (!p)
			return NULL;
		*sn = p;
		*cap = c;
	}
	return &(*sn)[(*n)++];
}

/*
 * Task storage: freeze every entry of the run at once (the probes leave them alone from
 * here, and copy the entry of a thread that exits meanwhile to `threads` as it is), then
 * read the live threads' entries by pidfd. Exited threads' entries are in `threads`.
 */
static int tstore_take(struct tr *t, struct snap **sn, size_t *n, size_t *cap)
{
	int fd = bpf_map__fd(t->skel->maps.tstore);
	struct snap *e;

	t->skel->bss->frozen_gen = t->skel->bss->run_gen;
	if (++t->skel->bss->run_gen == 0)
		t->skel->bss->run_gen = 1;
	for (size_t i = 0; i < t->capts; i++) {
		struct tstream *s = &t->ts[i];
		int pfd;

		if (!s->tid || s->exited)
			continue;
		pfd = thread_pidfd(s->tid);
		if (pfd < 0)
			continue; /* gone: its entry, if any, is in `threads` */
		e = snap_push(sn, n, cap);
		if (!e) {
			close(pfd);
			return -ENOMEM;
		}
		if (bpf_map_lookup_elem(fd, &pfd, &e->v) || e->v.gen != t->skel->bss->frozen_gen ||
		    e->v.exited) {
			(*n)--;
		} else {
			e->tid = s->tid;
			s->taken = true;
			bpf_map_delete_elem(fd, &pfd);
		}
		close(pfd);
	}
	return 0;
}

/* Threads still in the map at the end: pending batch entries, lost exits, totals. */
static int finish_threads(struct tr *t, struct snap *sn, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		const struct it_thread *v = &sn[i].v;
		struct tstream *s = ts_get(t, sn[i].tid);
		char comm[IT_COMM_LEN + 1] = "";
		uint64_t end;

		if (!s)
			return -ENOMEM;
		end = v->exited ? v->since : now;
		if (v->n) {
			stream_gap_map(t, s, v, v->seq, v->out.e, v->n, end);
			feed_entries(t, s, v->pid, v->out.e, v->n);
			s->next_seq = v->seq; /* pending entries carry the next seq */
		}
		/* what the next batch would have carried (a start only with its entry) */
		{
			uint64_t last = v->n && v->n <= IT_BATCH ? v->out.e[v->n - 1] : 0;
			unsigned fx = v->fx_pending;

			if (((last >> IT_STATE_SHIFT) & IT_STATE_MASK) != IT_LOCK_WAIT || !last)
				fx &= ~(unsigned)IT_FX_BEGIN;
			futex_waits(t, v->pid, sn[i].tid, fx, &v->fx, &v->fx_end,
				    last & IT_TS_MASK);
		}
		if (v->exited) {
			/* its exit record may have been lost: the map still knows when */
			note_ts(t, end);
			stream_gap_map(t, s, v, v->seq, NULL, 0, end);
			if (!s->exited) {
				set_err(t, tl_thread_exit(t->tl, sn[i].tid, end, NULL));
				s->exited = true;
			}
		} else {
			stream_gap_map(t, s, v, v->seq, NULL, 0, end);
			read_comm(v->pid, sn[i].tid, comm, sizeof(comm));
			if (comm[0] && !tl_thread_add(t->tl, v->pid, sn[i].tid, v->start_ts,
						      (enum tl_state)v->state, comm))
				return -ENOMEM;
		}
		take_totals(t, sn[i].tid, v, comm[0] ? comm : NULL, end);
	}
	return 0;
}

int tr_stop(struct tr *t, struct an_counters *c, uint64_t *last_ts)
{
	int tfd = bpf_map__fd(t->skel->maps.threads);
	uint64_t cnt[IT_CNT_MAX], now;
	struct snap *sn = NULL;
	size_t nsn = 0, capsn = 0;
	__u32 key, next;
	int ret;

	memset(c, 0, sizeof(*c));
	if (last_ts)
		*last_ts = 0;
	if (!t->running)
		return -EINVAL;
	rg_consume(t->rb);
	/* no new threads from here; take each thread's entry away from the probes atomically */
	map_clear(bpf_map__fd(t->skel->maps.targets), sizeof(__u32));
	now = tr_now();
	if (t->tstore) {
		ret = tstore_take(t, &sn, &nsn, &capsn);
		if (ret < 0)
			goto out;
	}
	while (bpf_map_get_next_key(tfd, NULL, &next) == 0) {
		struct snap *e = snap_push(&sn, &nsn, &capsn);

		if (!e) {
			ret = -ENOMEM;
			goto out;
		}
		key = next;
		if (bpf_map_lookup_and_delete_elem(tfd, &key, &e->v)) {
			nsn--;
			if (errno == ENOENT)
				continue;
			ret = -errno;
			goto out;
		}
		e->tid = key;
		/* exited after tstore_take read its entry: that one counts */
		if (t->tstore) {
			struct tstream *s = ts_get(t, key);

			if (s && s->taken)
				nsn--;
		}
	}
	/* batches flushed before the entries were taken precede their pending entries */
	rg_consume(t->rb);
	ret = finish_threads(t, sn, nsn, now);
	if (ret < 0)
		goto out;

	ret = counters_read(t, cnt);
	if (ret < 0)
		goto out;
	ret = socks_take(t, t);
	if (ret < 0)
		goto out;
	/* read completions of io_uring are reads too: their bytes come back without read(2);
	 * the probes credit them to the submitting thread, the rest are counted here */
	c->reads = t->reads + t->uring_reads;
	c->bytes_read = t->bytes_read + t->uring_bytes;
	c->ctx_switches = t->ctx_switches;
	c->stolen_ok = t->steal_ok;
	c->pcache_ok = t->group_ok[PG_PCACHE];
	c->pcache_insert_bytes = cnt[IT_CNT_PCACHE_BYTES];
	memcpy(c->bytes_read_by_kind, t->bytes_by_kind, sizeof(c->bytes_read_by_kind));
	c->bytes_kind_ok = !(t->o.features_off & IT_FEAT_FDKIND);
	c->bytes_read_direct = t->bytes_direct;
	c->bytes_direct_ok = c->bytes_kind_ok;
	/* the counters are read one after another, the probes still live: the rest clamps at 0 */
	c->pcache_cause_ok = c->pcache_ok;
	c->pcache_read_bytes = cnt[IT_CNT_PCACHE_READ_BYTES];
	c->pcache_fault_bytes = cnt[IT_CNT_PCACHE_FAULT_BYTES];
	c->pcache_other_bytes =
		c->pcache_insert_bytes > c->pcache_read_bytes + c->pcache_fault_bytes
			? c->pcache_insert_bytes - c->pcache_read_bytes - c->pcache_fault_bytes
			: 0;
	c->block_ok = t->group_ok[PG_BLOCK];
	c->block_bytes = cnt[IT_CNT_BLOCK_BYTES];
	c->block_reqs = cnt[IT_CNT_BLOCK_REQS];
	if (t->nblk) {
		size_t m = tl_iv_normalize(t->blk, t->nblk);

		c->block_busy_ns = tl_iv_length(t->blk, m);
	}
	c->uring_ok = t->group_ok[PG_URING];
	c->uring_submitted = cnt[IT_CNT_URING_SUBMIT];
	c->uring_completed = cnt[IT_CNT_URING_COMPLETE];
	c->uring_punted = cnt[IT_CNT_URING_ASYNC];
	c->uring_paths_ok = c->uring_ok;
	c->uring_io_wq = cnt[IT_CNT_URING_IO_WQ];
	c->uring_at_submit = cnt[IT_CNT_URING_AT_SUBMIT];
	c->uring_task_work = cnt[IT_CNT_URING_TASK_WORK];
	/* "inline": completed within the submitting call (it once counted every request not
	 * punted, which took a cold read completed later by task work for an inline one) */
	c->uring_inline = c->uring_at_submit;
	c->lost_events = cnt[IT_CNT_LOST_BATCHES] + cnt[IT_CNT_LOST_RECORDS] +
			 cnt[IT_CNT_THREADS_FULL] + cnt[IT_CNT_INFLIGHT_FULL] +
			 cnt[IT_CNT_SWITCHIN_UNSEEN];
	c->lost_ns = t->lost_ns;
	c->lost_exact_ns = t->lost_exact_ns;

	t->stats.batches = cnt[IT_CNT_BATCHES];
	t->stats.lost_batches = cnt[IT_CNT_LOST_BATCHES];
	t->stats.lost_records = cnt[IT_CNT_LOST_RECORDS];
	t->stats.threads_full = cnt[IT_CNT_THREADS_FULL];
	t->stats.inflight_full = cnt[IT_CNT_INFLIGHT_FULL];
	t->stats.stack_errors = cnt[IT_CNT_STACK_ERRORS];
	t->stats.pcache_folios = cnt[IT_CNT_PCACHE_FOLIOS];
	t->stats.switchin_inferred = cnt[IT_CNT_SWITCHIN_INFERRED];
	t->stats.switchin_unseen = cnt[IT_CNT_SWITCHIN_UNSEEN];
	t->stats.ucopy_ok = t->uc != NULL;
	t->stats.ucopies = cnt[IT_CNT_UCOPIES];
	t->stats.ucopy_bytes = cnt[IT_CNT_UCOPY_BYTES];
	t->stats.ucopy_skipped = cnt[IT_CNT_UCOPY_SKIPPED];
	t->stats.ucopy_reused = cnt[IT_CNT_UMEMO_HITS];
	t->stats.ucopy_failed = cnt[IT_CNT_UCOPY_FAILED];
	t->stats.unwind_failed = t->unwind_failed;
	t->stats.ucopy_lost = t->ucopy_lost;
	if (last_ts)
		*last_ts = t->last_ts;
	ret = t->err;
out:
	free(sn);
	/* the probes go idle until the next run */
	maps_reset(t);
	drain_discard(t);
	/* its pages are resident while mapped: not under the model the caller builds next */
	rg_idle(t->rb);
	t->tl = NULL;
	t->running = false;
	return ret;
}

void tr_last_stats(const struct tr *t, struct tr_stats *st)
{
	*st = t->stats;
	st->ringbuf_mb = t->rb_mb;
	st->pcache_ok = t->group_ok[PG_PCACHE];
	st->block_ok = t->group_ok[PG_BLOCK];
	st->uring_ok = t->group_ok[PG_URING];
	st->oncpu_ok = t->group_ok[PG_SAMPLE];
}

/* ---- iotrace check ---- */

/*
 * Load everything the kernel has a tracepoint for, once (small maps: it's a test), then
 * attach each probe on its own and report. If the load as a whole fails, each program is
 * loaded alone to tell which one the kernel refuses.
 */
static int check_open(struct iotrace_bpf **out, const struct btf *btf, int only, bool *present)
{
	struct iotrace_bpf *skel = iotrace_bpf__open();
	int ret;

	*out = NULL;
	if (!skel)
		return -errno;
	skel->rodata->stacks_enabled = true;
	/* the user stack copies' code is checked too where the kernel has their helpers */
	if (ucopy_supported()) {
		skel->rodata->ucopy_bytes = 4096;
		skel->rodata->ucopy_offcpu_bps = 1 << 20;
	}
	bpf_map__set_max_entries(skel->maps.ucopy_threads, 16);
	bpf_map__set_max_entries(skel->maps.ucopy_top, 16);
	bpf_map__set_max_entries(skel->maps.ucopy_memo, 16);
	bpf_map__set_max_entries(skel->maps.rb, 64 << 10);
	bpf_map__set_max_entries(skel->maps.stacks, 16);
	bpf_map__set_max_entries(skel->maps.threads, 16);
	tstore_set(skel, tstore_supported());
	bpf_map__set_max_entries(skel->maps.blk_inflight, 16);
	bpf_map__set_max_entries(skel->maps.uring_reqs, 16);
	bpf_map__set_max_entries(skel->maps.folio_added, 16);
	bpf_map__set_max_entries(skel->maps.sock_waits, 16);
	for (size_t i = 0; i < NPROBES; i++) {
		present[i] = !probes[i].tp || tp_in_btf(btf, probes[i].tp);
		bpf_program__set_autoload(prog_of(skel, &probes[i]),
					  present[i] && (only < 0 || (size_t)only == i));
	}
	ret = iotrace_bpf__load(skel);
	if (ret < 0) {
		iotrace_bpf__destroy(skel);
		return ret;
	}
	*out = skel;
	return 0;
}

static int check_attach(struct iotrace_bpf *skel, size_t i)
{
	struct bpf_program *prog = prog_of(skel, &probes[i]);
	struct bpf_link *l;
	int fd, ret = 0;

	if (probes[i].group != PG_SAMPLE) {
		l = bpf_program__attach(prog);
		if (!l)
			return -errno;
		bpf_link__destroy(l);
		return 0;
	}
	fd = perf_open_cpu(99, 0);
	if (fd < 0)
		return -errno;
	l = bpf_program__attach_perf_event(prog, fd);
	if (!l)
		ret = -errno;
	bpf_link__destroy(l);
	close(fd);
	return ret;
}

int tr_probe_check(struct tr_probe_status *st, size_t max, size_t *n)
{
	struct iotrace_bpf *skel = NULL;
	struct btf *btf;
	bool present[NPROBES];
	int ret;

	*n = 0;
	libbpf_set_print(libbpf_print);
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -errno;
	ret = check_open(&skel, btf, -1, present);
	for (size_t i = 0; i < NPROBES && *n < max; i++) {
		struct tr_probe_status *s = &st[(*n)++];

		snprintf(s->name, sizeof(s->name), "%s", probes[i].tp ? probes[i].tp : "perf cpu-clock");
		s->required = probes[i].group == PG_CORE;
		snprintf(s->desc, sizeof(s->desc), "%s", probes[i].desc);
		if (!present[i]) {
			s->err = -ENOENT;
			continue;
		}
		if (skel) {
			s->err = check_attach(skel, i);
			continue;
		}
		/* the whole load failed: try this program alone */
		{
			struct iotrace_bpf *one = NULL;
			bool pr[NPROBES];

			s->err = check_open(&one, btf, (int)i, pr);
			if (!s->err)
				s->err = check_attach(one, i);
			iotrace_bpf__destroy(one);
		}
	}
	iotrace_bpf__destroy(skel);
	btf__free(btf);
	/* the individual results say what failed; a failed joint load is not itself an error */
	(void)ret;
	return 0;
}
