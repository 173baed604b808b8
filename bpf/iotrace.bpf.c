/* iotrace.bpf.c - kernel probes: per-thread state machine, page cache, block, io_uring, stacks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "iotrace.h"

/*
 * Design (docs/time-model.md, docs/architecture.md): every transition of a target thread
 * is made by the thread's own CPU context (syscall enter/exit, its switch-out and switch-in, its exit), so
 * each `threads` entry has a single writer and needs no locks. The only foreign write is
 * wake_ts (by the waker's CPU); the switch-in handler turns it into a runnable interval.
 * Exact per-state totals stay in the map; transitions are streamed in per-thread batches
 * with no consumer wake-up, which is what keeps a read storm cheap.
 *
 * Everything is filtered first on something cheap: the syscall number, then the thread's
 * entry (absence = not a target); other probes look up the tgid in `targets`. A thread's
 * entry is its task's local storage (`tstore`) where the kernel has it: a read storm looks
 * its thread up twice per read, and task storage is a pointer and a cache slot away where
 * the `threads` hash hashes the tid and walks a bucket. Without it, `threads` holds every
 * entry; with it, only those of exited threads (and, at the end, the last ones), which user
 * space reads by tid after the thread's task is gone.
 */

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0
#define REQ_OP_MASK 0xff
#define EFAULT 14
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFIFO 0010000

/* set by user space before load */
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

const volatile bool stacks_enabled = false;
/*
 * User stack copies for CFI unwinding in user space (it_ustack_rec): bytes of stack per
 * copy, 0 = none (frame-pointer stacks only). Every on-CPU sample is copied; off-CPU
 * switch-outs are, within ucopy_offcpu_bps bytes per second per CPU (a switch storm would
 * copy gigabytes), the others keep their frame-pointer stack.
 */
const volatile __u32 ucopy_bytes = 0;
const volatile __u64 ucopy_offcpu_bps = 0;
const volatile __u32 features_off = 0; /* enum it_feature: make bench's cost rows only */
const volatile __u64 rb_wakeup_bytes = 1 << 20; /* force a consumer wake-up past this backlog */
const volatile __u32 page_size = 4096;
/*
 * A running thread's batch is streamed once its oldest transition is this old (checked on
 * the scheduler tick), so user space may fold everything older than a bound: without it,
 * a thread computing for minutes would hold its last few transitions all along.
 */
const volatile __u64 batch_max_age_ns = 50000000;

/* runtime: child processes of a target join the target (procs strategy, trace --follow) */
volatile bool follow_children;

/*
 * runtime, per run: the id of a blkio (v1) / io (v2) cgroup the target is alone in (the
 * --throttle cgroup), 0 = none. blk-throttle holds the target's bios and dispatches them
 * later from a kworker, so the submitter's tgid can't attribute those requests; the cgroup
 * of the bio can. target_css is that cgroup's css, learned from a target task whose cgroup
 * has this id (never trusted blindly: a css of any other cgroup, the root's included,
 * would take in other processes' requests).
 */
volatile __u64 own_cgroup_id;
volatile __u64 target_css;

/*
 * runtime: block_io_start is attached. Then it alone decides which requests are the
 * target's (in the submitter's context, or by cgroup), and block_rq_issue only dates and
 * counts those: the context of an issue says nothing, since whoever runs a hardware queue
 * dispatches every request waiting in it (seen: another process's direct reads issued from
 * fio's io_uring_enter, and fio's from theirs).
 */
volatile bool io_start_on;

/*
 * Set by user space before load: threads live in `tstore` (task storage), not `threads`.
 * Then run_gen is the current run's number, stamped on every entry the run creates: an
 * entry of another run is no entry (a thread whose every record was lost outlives its run
 * in its task's storage). At the end user space sets frozen_gen to it and moves run_gen
 * on, which freezes every entry at once while it reads them; an entry frozen so whose
 * thread exits meanwhile is copied to `threads` as it was, so nothing is lost.
 */
const volatile bool use_tstore = false;
volatile __u32 run_gen;
volatile __u32 frozen_gen;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IT_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct it_thread);
} threads SEC(".maps");

/* the threads' entries when use_tstore (user space changes its type to a hash otherwise) */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct it_thread);
} tstore SEC(".maps");

/* tgids of the target processes (value unused) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

/*
 * (process, socket) -> how long its threads waited on the socket (struct it_sock_wait),
 * read and cleared by user space at the run's end, which finds the other end's process
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IT_MAX_SOCKS);
	__type(key, struct it_sock_key);
	__type(value, struct it_sock_wait);
} sock_waits SEC(".maps");

struct blk_start {
	__u64 start_ts;
	__u64 issue_ts;
	__u64 queued_ts;	/* own cgroup: the target's submission (see folio_added) */
	__u32 bytes;
	__u32 dev;
	__u32 pid;
	__u32 counted;	/* its bytes are in IT_CNT_BLOCK_BYTES (at issue: see below) */
};

/*
 * block read requests of the target in flight, keyed by request pointer. Bytes are counted
 * when a request is issued to the driver, once (a requeued request is issued again), not at
 * completion: on this kernel (6.18, virtio-blk) a few requests of a run now and then end
 * with neither block_rq_complete nor block_io_done seen by any tracer, their data delivered
 * all the same. Their entries stay behind; block_io_start drops one when another process's
 * request reuses the struct request.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IT_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct blk_start);
} blk_inflight SEC(".maps");

/*
 * Own cgroup (--throttle) only: when the target inserted a folio into the page cache, keyed
 * by folio pointer. A read's bios are submitted right after their folios are inserted, and
 * then blk-throttle holds them: the emulated slow disk is busy with a request from there
 * on, not from the kworker's dispatch to the fast device under it. The first folio of a
 * request's first bio dates it. LRU: entries of folios that start no request are never
 * looked up, and age out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IT_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, __u64);
} folio_added SEC(".maps");

struct uring_start {
	__u64 ts;
	__u32 pid;
	__u32 tid;
	__u32 opcode;	/* carried to the completion: user space sums the bytes of reads */
	__u32 punted;	/* handed to an io-wq worker */
	__u32 kind;	/* enum it_io_kind of the request's file at submission (NONE: not found) */
	__u32 pad;
	__u64 span;	/* the submitter's last transition when it submitted: its on-CPU
			 * stretch inside that io_uring_enter (0: not a tracked thread) */
};

/* io_uring requests of the target between submit and complete, keyed by request pointer */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IT_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct uring_start);
} uring_reqs SEC(".maps");

/* max_entries set by user space (1 when stacks are off) */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, IT_MAX_STACK * sizeof(__u64));
} stacks SEC(".maps");

/* per thread: the user stack's mapping (the copy's end) and the last copy's seq */
struct ucopy_thread {
	__u64 lo, hi;
	__u32 seq;
	__u32 pad;
};

/* max_entries set by user space (1 when copies are off) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IT_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct ucopy_thread);
} ucopy_threads SEC(".maps");

/*
 * per thread, set by user space: where the thread's outermost frame is (its stack pointer
 * there, plus a margin), learned from a copy unwound to the end. The frames above it
 * never change while the thread lives, so no copy of it needs to go further: most copies
 * shrink from ucopy_bytes to the depth of the stack at the time. max_entries as above.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IT_MAX_THREADS);
	__type(key, __u32);
	__type(value, __u64);
} ucopy_top SEC(".maps");

/* off-CPU stacks unwound before, set by user space (it_umemo). max_entries as above. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct it_umemo_key);
	__type(value, struct it_umemo);
} ucopy_memo SEC(".maps");

/* the record being built (too big for the BPF stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct it_ustack_rec);
} ucopy_buf SEC(".maps");

/* off-CPU copies' token bucket, per CPU: bytes it may still copy, as of `last` */
struct ucopy_budget {
	__s64 tokens;
	__u64 last;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ucopy_budget);
} ucopy_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* size set by user space */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} rb SEC(".maps");

_Static_assert(sizeof(struct it_thread) % sizeof(__u64) == 0, "add_thread zeroes it by words");

/* template for new `threads` entries (never written) */
static const struct it_thread zero_thread;

/* The entry of thread tid (task: its task_struct), NULL if it is not a target's. */
static __always_inline struct it_thread *thread_of(struct task_struct *task, __u32 tid)
{
	struct it_thread *th;

	if (!use_tstore)
		return bpf_map_lookup_elem(&threads, &tid);
	th = bpf_task_storage_get(&tstore, task, 0, 0);
	return th && th->gen == run_gen ? th : NULL;
}

static __always_inline void cnt_add(__u32 idx, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += v;
}

/* No wake-up per record: the consumer drains on a tick, unless the backlog grows large. */
static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) > rb_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									   : BPF_RB_NO_WAKEUP;
}

/*
 * A new process or program: user space reads its maps when it takes the record, for the
 * stacks it unwinds later (user/trace/symbols.c sym_proc_forked), and a fork of a few ms
 * (a shell's) is gone by the next 10 ms drain. Woken at once while stacks are unwound.
 */
static __always_inline __u64 rb_flags_proc(void)
{
	return ucopy_bytes ? BPF_RB_FORCE_WAKEUP : rb_flags();
}

#define NR_IO_URING_ENTER 426

static __always_inline long regs_syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#else
	return regs->syscallno;
#endif
}

/* The per-state time since the last batch the ring took, ahead of the next batch (seq). */
static __always_inline bool resync(struct it_thread *th, __u32 tid)
{
	struct it_resync_rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r)
		return false;
	r->type = IT_REC_RESYNC;
	r->tid = tid;
	r->seq = th->seq;
	r->pad = 0;
	r->from = th->ok_since;
	r->to = th->since;
#pragma unroll
	for (int i = 0; i < IT_NSTATES; i++)
		r->ns[i] = th->ns[i] - th->ns_ok[i];
	bpf_ringbuf_submit(r, rb_flags());
	return true;
}

/*
 * Stream the thread's pending transitions. A lost batch still takes a seq number, so user
 * space sees the gap. The record is built in place in the entry (th->out, its e[] the
 * pending transitions) and sent as long as its n entries: one copy, no bigger than what it
 * holds, so a batch can be long for a read storm (fewer records, each ring-buffer reserve
 * and commit paid once per IT_BATCH / 2 reads) and short at a switch-out.
 */
static __noinline void flush(struct it_thread *th, __u32 tid)
{
	__u32 n = th->n, last, fx;

	if (n == 0)
		return;
	if (n > IT_BATCH)
		n = IT_BATCH;
	cnt_add(IT_CNT_BATCHES, 1);
	/* a futex wait that began (only with its lock_wait entry, the batch's last), ended */
	last = n - 1;
	fx = th->fx_pending;
	if ((fx & IT_FX_BEGIN) &&
	    (last >= IT_BATCH ||
	     ((th->out.e[last] >> IT_STATE_SHIFT) & IT_STATE_MASK) != IT_LOCK_WAIT))
		fx &= ~IT_FX_BEGIN;
	th->out.type = IT_REC_BATCH;
	th->out.n = n;
	th->out.pid = th->pid;
	th->out.tid = tid;
	th->out.seq = th->seq;
	th->out.fx = fx;
	if (fx & IT_FX_BEGIN)
		th->out.fx_begin = th->fx;
	if (fx & IT_FX_END)
		th->out.fx_end = th->fx_end;
	th->n = 0;
	/* after a loss, first what the lost batches held (a lost resync is one loss more);
	 * the resync names this batch's seq, so seq moves on only after it */
	if ((th->lost && !resync(th, tid)) ||
	    bpf_ringbuf_output(&rb, &th->out, IT_BATCH_SIZE(n), rb_flags())) {
		th->seq++;
		cnt_add(IT_CNT_LOST_BATCHES, 1);
		th->lost = 1;
		return;
	}
	th->seq++;
	th->fx_pending &= ~fx;
	/* the resync point: what the ring has of this thread ends at since */
#pragma unroll
	for (int i = 0; i < IT_NSTATES; i++)
		th->ns_ok[i] = th->ns[i];
	th->ok_since = th->since;
	th->lost = 0;
}

/*
 * A batch entry is appended in two steps, reserve then commit, so that what the entry says
 * can be worked out in between: the slot, streaming the batch first when it is full. The
 * scheduler tick can interrupt a syscall probe here and stream the batch (see
 * iot_stat_runtime): not while it is half-updated, hence busy from reserve to commit. Same
 * CPU, so volatile accesses (kept in program order by the compiler) are ordering enough.
 */
static __always_inline __u32 batch_reserve(struct it_thread *th, __u32 tid)
{
	__u32 n;

	WRITE_ONCE(th->busy, 1);
	n = READ_ONCE(th->n);
	if (n >= IT_BATCH) {
		flush(th, tid);
		n = 0;
	}
	return n;
}

/* The entry in slot n: state (or mark) st, its kind, at ts; the batch streamed when full. */
static __always_inline void batch_commit(struct it_thread *th, __u32 tid, __u32 n, __u32 st,
					 __u32 kind, __u64 ts)
{
	WRITE_ONCE(th->out.e[n], (ts & IT_TS_MASK) | ((__u64)st << IT_STATE_SHIFT) |
				     ((__u64)kind << IT_KIND_SHIFT));
	WRITE_ONCE(th->n, n + 1);
	if (n + 1 >= IT_BATCH)
		flush(th, tid);
	WRITE_ONCE(th->busy, 0);
}

/* The thread enters state st at ts: close the running total, append to the batch. */
static __always_inline void transition(struct it_thread *th, __u32 tid, __u32 st, __u64 ts)
{
	__u32 old = th->state, n, kind;

	if (st == old)
		return;
	if (old < IT_NSTATES && ts > th->since) {
		__u64 i = old;

		/* clang may check one copy of old and index with another, which the verifier
		 * then sees unbounded: bound the index register itself (a no-op here) */
		asm volatile("%0 &= 7" : "+r"(i));
		th->ns[i] += ts - th->since;
	}
	if (ts > th->since)
		th->since = ts;
	th->state = st;
	n = batch_reserve(th, tid);
	/* what the wait is for: a read's file kind; waiting in wait4/waitid, a child */
	kind = st == IT_IO_CPU || st == IT_IO_WAIT ? th->io_kind & IT_IOK_KIND_MASK
	       : st == IT_OTHER_WAIT && th->sys == IT_SYS_CHILD ? IT_OWK_CHILD
								  : 0;
	batch_commit(th, tid, n, st, kind, ts);
}

static __always_inline void emit_thread_rec(__u32 type, __u32 flags, __u32 pid, __u32 tid,
					    __u32 ppid, __u32 ptid, __u64 ts, __u32 last_seq,
					    __u64 child_tid, struct task_struct *task, __u32 status,
					    __u64 oncpu_ns)
{
	struct it_thread_rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r) {
		cnt_add(IT_CNT_LOST_RECORDS, 1);
		return;
	}
	r->type = type;
	r->flags = flags;
	r->pid = pid;
	r->tid = tid;
	r->ppid = ppid;
	r->ptid = ptid;
	r->ts = ts;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), task->comm);
	r->last_seq = last_seq;
	r->status = status;
	r->child_tid = child_tid;
	r->oncpu_ns = oncpu_ns;
	bpf_ringbuf_submit(r, type == IT_REC_THREAD && (flags & IT_TF_PROCESS) ? rb_flags_proc()
									       : rb_flags());
}

/*
 * A new task of the target: starts runnable at ts (it has been created and is about to be
 * woken for the first time). Called from the creator's context, before the task can run.
 */
static __always_inline void add_thread(struct task_struct *task, __u32 flags, __u32 ppid,
				       __u32 ptid, __u64 ts)
{
	__u32 tid = task->pid, pid = task->tgid;
	struct it_thread *th;
	long err;

	if (use_tstore) {
		th = bpf_task_storage_get(&tstore, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!th) {
			cnt_add(IT_CNT_THREADS_FULL, 1);
			return;
		}
		/* a live entry of this run (seen by fork already): keep it */
		if (th->gen == run_gen && !th->exited)
			return;
		/* too big for an inlined memset: word by word (once per thread) */
		for (__u32 i = 0; i < sizeof(*th) / sizeof(__u64); i++)
			WRITE_ONCE(((__u64 *)th)[i], 0);
		th->gen = run_gen;
		goto init;
	}
	err = bpf_map_update_elem(&threads, &tid, &zero_thread, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		th = bpf_map_lookup_elem(&threads, &tid);
		/* a live entry (seen by fork already): keep it; an exited one: tid reused */
		if (!th || !th->exited)
			return;
		err = bpf_map_update_elem(&threads, &tid, &zero_thread, BPF_EXIST);
	}
	if (err) {
		cnt_add(IT_CNT_THREADS_FULL, 1);
		return;
	}
	th = bpf_map_lookup_elem(&threads, &tid);
	if (!th)
		return;
init:
	th->pid = pid;
	th->start_ts = ts;
	th->since = ts;
	th->ok_since = ts;
	th->switch_out_ts = ts;
	th->state = IT_RUNNABLE;
	th->kstack = -1;
	th->ustack = -1;
	th->flags = flags;
	/* pthread_join waits on this word, which the kernel clears and wakes at the exit */
	emit_thread_rec(IT_REC_THREAD, flags, pid, tid, ppid, ptid, ts, 0,
			(__u64)BPF_CORE_READ(task, clear_child_tid), task, 0, 0);
}

/* Syscall argument i (0..2) at sys_enter. */
static __always_inline unsigned long sys_arg(struct pt_regs *regs, int i)
{
#if defined(__TARGET_ARCH_x86)
	return i == 0 ? regs->di : i == 1 ? regs->si : regs->dx;
#else
	return regs->regs[i & 7];
#endif
}

/* A pointer the verifier lets a program read through directly (no helper call per field). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* O_DIRECT in the target architecture's uapi (fcntl.h) */
#if defined(__TARGET_ARCH_arm64) || defined(__TARGET_ARCH_arm)
#define IT_O_DIRECT 0200000
#elif defined(__TARGET_ARCH_powerpc)
#define IT_O_DIRECT 0400000
#elif defined(__TARGET_ARCH_mips)
#define IT_O_DIRECT 0100000
#elif defined(__TARGET_ARCH_sparc)
#define IT_O_DIRECT 0x100000
#else
#define IT_O_DIRECT 040000	/* x86, asm-generic (riscv, s390, loongarch) */
#endif

/*
 * What an open file is, as enum it_io_kind (f: a struct file pointer, maybe NULL), with
 * IT_IOK_DIRECT for storage opened O_DIRECT: one load of f_flags (next to f_inode, just
 * read), on the storage path only, and no branch of its own (a shift and a mask).
 */
static __always_inline __u32 file_kind(struct file *f)
{
	struct file *bf;
	__u32 mode;

	if (!f)
		return IT_IOK_OTHER;
	bf = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
	mode = bf->f_inode->i_mode & S_IFMT;
	if (mode == S_IFREG || mode == S_IFBLK)
		return IT_IOK_FILE | (bf->f_flags & IT_O_DIRECT ? IT_IOK_DIRECT : 0);
	if (mode == S_IFIFO)
		return IT_IOK_PIPE;
	if (mode == S_IFSOCK)
		return IT_IOK_SOCKET;
	return IT_IOK_OTHER;
}

/*
 * The file behind the current task's fd (NULL: none): its file table, under the RCU read
 * side the tracepoint runs in. The fd array is a pointer the verifier can't index: its slot
 * is read as the first member (a pointer) of a struct cast onto it, a load the verifier
 * makes fault-safe, which costs a read storm less than a bpf_probe_read_kernel per read.
 */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct llist_node *slot;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	slot = bpf_rdonly_cast((void *)((__u64)fdt->fd + fd * sizeof(void *)),
			       bpf_core_type_id_kernel(struct llist_node));
	return (struct file *)slot->next;
}

/* The kind of file behind the current task's fd. */
static __always_inline __u32 fd_kind(long fd)
{
	return file_kind(fd_file(fd));
}

#define IT_AF_UNIX 1
#define IT_AF_INET 2
#define IT_AF_INET6 10

/*
 * The ends of the socket behind the current task's fd into k, for process pid (k->pid 0:
 * not a socket iotrace can name). Only for reads on sockets: a few reads of the socket.
 */
static __always_inline void sock_key(struct it_sock_key *k, long fd, __u32 pid)
{
	struct file *f = fd_file(fd);
	struct socket *so;
	struct sock *sk;
	struct pid *peer;
	__u16 fam;

	k->pid = 0;
	if (!f)
		return;
	so = (struct socket *)BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(so, sk);
	if (!sk)
		return;
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	k->family = fam;
	k->peer_pid = 0;
	k->proto = 0;
	k->sport = k->dport = 0;
	__builtin_memset(k->saddr, 0, sizeof(k->saddr));
	__builtin_memset(k->daddr, 0, sizeof(k->daddr));
	if (fam == IT_AF_UNIX) {
		peer = BPF_CORE_READ(sk, sk_peer_pid);
		if (peer)
			k->peer_pid = BPF_CORE_READ(peer, numbers[0].nr);
	} else if (fam == IT_AF_INET || fam == IT_AF_INET6) {
		if (fam == IT_AF_INET) {
			__be32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
			__be32 b = BPF_CORE_READ(sk, __sk_common.skc_daddr);

			__builtin_memcpy(k->saddr, &a, sizeof(a));
			__builtin_memcpy(k->daddr, &b, sizeof(b));
		} else if (bpf_core_field_exists(sk->__sk_common.skc_v6_daddr)) {
			BPF_CORE_READ_INTO(&k->saddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&k->daddr, sk, __sk_common.skc_v6_daddr);
		}
		k->proto = BPF_CORE_READ(sk, sk_protocol);
		k->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
		k->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else {
		return;
	}
	k->pid = pid;
}

/* Add a wait to the (process, socket) entry k. */
static __always_inline void sock_add(struct it_sock_key *k, __u64 recv_ns, __u64 recvs,
				     __u64 poll_ns, __u64 polls)
{
	struct it_sock_wait *v = bpf_map_lookup_elem(&sock_waits, k);

	if (!v) {
		struct it_sock_wait z = {};

		bpf_map_update_elem(&sock_waits, k, &z, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&sock_waits, k);
		if (!v) {
			cnt_add(IT_CNT_SOCKS_FULL, 1);
			return;
		}
	}
	__sync_fetch_and_add(&v->recv_ns, recv_ns);
	__sync_fetch_and_add(&v->recvs, recvs);
	__sync_fetch_and_add(&v->poll_ns, poll_ns);
	__sync_fetch_and_add(&v->polls, polls);
}

/*
 * A read-family call id begins: the socket it reads, if any; the poll waits before it are
 * that socket's (the thread polled for it), and nobody's if it reads anything else.
 */
static __always_inline void sock_enter(struct it_thread *th, struct pt_regs *regs, long id)
{
	if (th->io_kind == IT_IOK_SOCKET && id != IT_NR_io_uring_enter) {
		sock_key(&th->sock, (long)(int)sys_arg(regs, 0), th->pid);
		if (th->poll_pend_n && th->sock.pid)
			sock_add(&th->sock, 0, 0, th->poll_pend_ns, th->poll_pend_n);
	} else {
		th->sock.pid = 0;
	}
	th->poll_pend_ns = th->poll_pend_n = 0;
}

/* What the read-family call id (entered with regs) reads from. */
static __always_inline __u32 io_kind(struct pt_regs *regs, long id, struct it_thread *th)
{
	switch (id) {
	case IT_NR_recvfrom:
	case IT_NR_recvmsg:
	case IT_NR_recvmmsg:
		return IT_IOK_SOCKET;
	case IT_NR_io_uring_enter:
		/* until this call submits something: what the thread's requests read last */
		return th->uring_kind;
	default:
		return fd_kind((long)(int)sys_arg(regs, 0));
	}
}

/*
 * A poll-class call that went off CPU returns (it was woken: poll_wake): when no peer ended
 * it, a mark in its stream says what did, for user space to name the wait by (a poll
 * wait is a peer's when the read after it is a pipe's or a socket's): it returned 0, its
 * timeout did; a task of its own process was current at its wake-up (if it reads a pipe
 * next, that task wrote to it: the process signalled itself, as fio's main thread wakes
 * its helper thread's poll). Poll calls only, never a read.
 */
static __noinline void poll_end(struct it_thread *th, __u32 tid, long ret)
{
	__u32 kind = ret == 0 ? IT_PK_TIMEOUT : th->poll_wake == IT_PW_OWN ? IT_PK_OWN_PROCESS : 0;
	__u64 ts;

	th->poll_wake = IT_PW_NONE;
	if (!kind)
		return;
	ts = bpf_ktime_get_ns();
	batch_commit(th, tid, batch_reserve(th, tid), IT_MARK_POLL_END, kind, ts);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(iot_sys_enter, struct pt_regs *regs, long id)
{
	__u32 cls = it_sys_class(id), tid;
	struct task_struct *task;
	struct it_thread *th;

	if (!cls)
		return 0;
	task = bpf_get_current_task_btf();
	tid = task->pid;
	th = thread_of(task, tid);
	if (!th || th->exited)
		return 0;
	th->sys = cls;
	if (cls == IT_SYS_IO) {
		th->io_kind = features_off & IT_FEAT_FDKIND ? IT_IOK_NONE : io_kind(regs, id, th);
		if (!(features_off & IT_FEAT_FDKIND))
			sock_enter(th, regs, id);
		transition(th, tid, IT_IO_CPU, bpf_ktime_get_ns());
	} else if (cls == IT_SYS_LOCK && !(features_off & IT_FEAT_FUTEX)) {
		/* which lock: user space names it (and tells a join from the GIL) */
		if (id == IT_NR_futex_waitv) {
			th->fx.uaddr = 0;
			th->fx.op = ~0u;
			th->fx.val = 0;
		} else {
			th->fx.uaddr = sys_arg(regs, 0);
			th->fx.op = (__u32)sys_arg(regs, 1);
			th->fx.val = (__u32)sys_arg(regs, 2);
		}
		th->fx_lock0 = th->ns[IT_LOCK_WAIT];
		th->fx_begun = 0;
		/* a start never streamed is of a wait that never went off CPU */
		th->fx_pending &= ~IT_FX_BEGIN;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(iot_sys_exit, struct pt_regs *regs, long ret)
{
	long id = regs_syscall_nr(regs);
	__u32 cls = it_sys_class(id), tid;
	struct task_struct *task;
	struct it_thread *th;

	if (!cls)
		return 0;
	task = bpf_get_current_task_btf();
	tid = task->pid;
	th = thread_of(task, tid);
	if (!th || th->exited)
		return 0;
	if (th->sys == IT_SYS_IO)
		transition(th, tid, IT_COMPUTE, bpf_ktime_get_ns());
	else if (th->sys == IT_SYS_LOCK && th->fx_begun) {
		/* a call that blocked returns: its lock_wait spans are closed, the thread runs */
		th->fx_end.enter_ts = th->fx_enter_ts;
		th->fx_end.exit_ts = bpf_ktime_get_ns();
		/* sched_wakeup's: the wake-up that ended the wait (a later one would have to
		 * be before the thread got back on CPU, which runs this) */
		th->fx_end.wake_ts = th->fx_waker ? th->wake_ts : 0;
		th->fx_end.waker = th->fx_waker;
		th->fx_end.waker_oncpu = th->fx_waker ? th->fx_waker_oncpu : 0;
		th->fx_end.lock_ns = th->ns[IT_LOCK_WAIT] - th->fx_lock0;
		th->fx_end.ret = (__s32)ret;
		th->fx_end.kstack_id = th->kstack;
		th->fx_end.ustack_id = th->ustack;
		th->fx_pending |= IT_FX_END;
		th->fx_begun = 0;
	} else if (th->sys == IT_SYS_POLL && th->poll_wake) {
		poll_end(th, tid, ret);
	}
	/* counted even if the call began before the target was seeded: the bytes are real */
	if (cls == IT_SYS_IO && id != NR_IO_URING_ENTER && ret >= 0) {
		th->reads++;
		th->bytes_read += ret;
		th->bytes_read_kind[th->io_kind & (IT_READ_KIND_SLOTS - 1)] += ret;
	}
	th->sys = IT_SYS_NONE;
	return 0;
}

/* A stack record: kind IT_STACK_ONCPU (value 1 sample) or IT_STACK_OFFCPU (value ns). */
static __always_inline void emit_stack(__u32 kind, __u32 pid, __u32 tid, __u64 ts, __u64 value,
				       __u32 state, __s32 kstack, __s32 ustack, __u32 wkind,
				       __u32 ucopy)
{
	struct it_stack_rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r) {
		cnt_add(IT_CNT_LOST_RECORDS, 1);
		return;
	}
	r->type = IT_REC_STACK;
	r->kind = kind;
	r->pid = pid;
	r->tid = tid;
	r->ts = ts;
	r->value = value;
	r->state = state;
	r->kstack_id = kstack;
	r->ustack_id = ustack;
	r->wkind = wkind;
	r->ucopy = ucopy;
	r->pad_ucopy = 0;
	bpf_ringbuf_submit(r, rb_flags());
}

/*
 * An off-CPU stack, with what its wait was for: the kind transition() gave the state's
 * entry (the syscall and the read's file cannot change while the thread is off CPU), so
 * the flame graphs split a state's stacks exactly as the timeline splits its time.
 */
static __always_inline void emit_offcpu(struct it_thread *th, __u32 pid, __u32 tid, __u64 ts,
					__u64 value, __u32 state, __s32 kstack, __s32 ustack)
{
	__u32 wkind = state == IT_IO_WAIT ? th->io_kind & IT_IOK_KIND_MASK
		      : state == IT_OTHER_WAIT && th->sys == IT_SYS_CHILD ? IT_OWK_CHILD
									  : 0;

	if (value)
		emit_stack(IT_STACK_OFFCPU, pid, tid, ts, value, state, kstack, ustack, wkind,
			   th->ucopy);
}

static long vma_range(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct ucopy_thread *r = data;

	r->lo = vma->vm_start;
	r->hi = vma->vm_end;
	return 0;
}

/* ucopy(): task has no user registers (a kernel thread, an io worker); never a seq */
#define UCOPY_NO_USER IT_UCOPY_ID

/*
 * Copy task's (the current task's) user registers and the top of its user stack into
 * one record; the copy's seq, or 0 when none was made (a failed read), UCOPY_NO_USER
 * when there is no user state to copy (a kernel thread or io worker). The copy ends at
 * the end of the stack's mapping, which is looked up once per thread (bpf_find_vma) and
 * kept: a read past it would fail whole.
 */
static __noinline __u32 ucopy(struct task_struct *task, __u32 pid, __u32 tid, __u32 flags)
{
#if defined(__TARGET_ARCH_x86)
	struct ucopy_thread *u, r = {};
	struct it_ustack_rec *rec;
	struct pt_regs *regs;
	__u32 zero = 0, seq;
	__u64 sp, len, *top;

	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs || (regs->cs & 3) != 3)
		return UCOPY_NO_USER;
	sp = regs->sp;
	u = bpf_map_lookup_elem(&ucopy_threads, &tid);
	if (!u) {
		bpf_map_update_elem(&ucopy_threads, &tid, &r, BPF_NOEXIST);
		u = bpf_map_lookup_elem(&ucopy_threads, &tid);
		if (!u)
			goto fail;
	}
	len = ucopy_bytes;
	if (sp < u->lo || sp >= u->hi) {
		/*
		 * -EBUSY when mmap_read_trylock fails: another thread of the process holds the
		 * mmap lock for writing (mmap, mprotect, munmap: a thread being created, a malloc
		 * arena) or a writer is queued behind a reader, which fails a trylock too. Seen
		 * in md5dir threads: the switching-out thread itself waiting for the lock
		 * (killable sleep in mmap's write lock or a page fault's read lock) with a
		 * reader holding it and a writer queued, or a pool thread going to sleep in a
		 * futex while another held it for writing. (Also -EBUSY: this CPU's deferred
		 * unlock from an earlier lookup with interrupts off not run yet; not seen.)
		 */
		if (!bpf_find_vma(task, sp, vma_range, &r, 0) && sp >= r.lo && sp < r.hi) {
			u->lo = r.lo;
			u->hi = r.hi;
		}
	}
	if (sp >= u->lo && sp < u->hi && u->hi - sp < len)
		len = u->hi - sp;
	top = bpf_map_lookup_elem(&ucopy_top, &tid);
	if (top && *top > sp && *top - sp < len)
		len = *top - sp;
	rec = bpf_map_lookup_elem(&ucopy_buf, &zero);
	if (!rec)
		goto fail;
	/*
	 * the end unknown, or the read failed: shorter copies, each ending on the page
	 * boundary below the last (it_ucopy_shorter), so one ends at the mapping's end.
	 */
	for (int i = 0; i < IT_UCOPY_TRIES; i++) {
		if (len > IT_USTACK_MAX || len < 8)
			goto fail;
		if (!bpf_probe_read_user(rec->data, len, (void *)sp))
			break;
		len = it_ucopy_shorter(sp, len);
		if (i == IT_UCOPY_TRIES - 1)
			goto fail;
	}
	rec->regs[0] = regs->ax;
	rec->regs[1] = regs->dx;
	rec->regs[2] = regs->cx;
	rec->regs[3] = regs->bx;
	rec->regs[4] = regs->si;
	rec->regs[5] = regs->di;
	rec->regs[6] = regs->bp;
	rec->regs[7] = sp;
	rec->regs[8] = regs->r8;
	rec->regs[9] = regs->r9;
	rec->regs[10] = regs->r10;
	rec->regs[11] = regs->r11;
	rec->regs[12] = regs->r12;
	rec->regs[13] = regs->r13;
	rec->regs[14] = regs->r14;
	rec->regs[15] = regs->r15;
	rec->regs[16] = regs->ip;
	seq = u->seq + 1;
	if (seq >= IT_UCOPY_ID)
		seq = 1;
	u->seq = seq;
	rec->type = IT_REC_USTACK;
	rec->size = len;
	rec->pid = pid;
	rec->tid = tid;
	rec->seq = seq;
	rec->flags = flags;
	if (bpf_ringbuf_output(&rb, rec, offsetof(struct it_ustack_rec, data) + len, rb_flags())) {
		cnt_add(IT_CNT_LOST_RECORDS, 1);
		goto fail;
	}
	cnt_add(IT_CNT_UCOPIES, 1);
	cnt_add(IT_CNT_UCOPY_BYTES, len);
	return seq;
fail:
	cnt_add(IT_CNT_UCOPY_FAILED, 1);
#endif
	return 0;
}

/*
 * The id of an off-CPU stack user space unwound before from what task's stack holds now
 * (it_umemo: the same pc and stack pointer, and the registers and words that decided its
 * frames), or -1: then it is copied; -2: task has no user registers (nothing to copy).
 * A few words read instead of kilobytes.
 */
static __noinline __s32 umemo_find(struct task_struct *task, __u32 tid)
{
#if defined(__TARGET_ARCH_x86)
	struct it_umemo_key k = {};
	struct it_umemo *m;
	struct pt_regs *regs;
	__u64 w;

	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs || (regs->cs & 3) != 3)
		return -2;
	k.tid = tid;
	k.ip = regs->ip;
	k.sp = regs->sp;
	m = bpf_map_lookup_elem(&ucopy_memo, &k);
	if (!m)
		return -1;
#define UMEMO_REG(i, f) \
	if ((m->regmask & (1u << (i))) && m->regs[i] != regs->f) \
		return -1;
	UMEMO_REG(0, ax) UMEMO_REG(1, dx) UMEMO_REG(2, cx) UMEMO_REG(3, bx)
	UMEMO_REG(4, si) UMEMO_REG(5, di) UMEMO_REG(6, bp) UMEMO_REG(8, r8)
	UMEMO_REG(9, r9) UMEMO_REG(10, r10) UMEMO_REG(11, r11) UMEMO_REG(12, r12)
	UMEMO_REG(13, r13) UMEMO_REG(14, r14) UMEMO_REG(15, r15)
#undef UMEMO_REG
	for (__u32 i = 0; i < IT_UMEMO_WORDS; i++) {
		if (i >= m->n)
			break;
		if (bpf_probe_read_user(&w, sizeof(w), (void *)(k.sp + m->off[i])) ||
		    w != m->val[i])
			return -1;
	}
	cnt_add(IT_CNT_UMEMO_HITS, 1);
	return (__s32)(m->id & (IT_UMEMO_ID - 1));
#else
	return -1;
#endif
}

/* Bytes of this CPU's last copy. */
static __always_inline __u32 ucopy_len(void)
{
	__u32 zero = 0;
	struct it_ustack_rec *r = bpf_map_lookup_elem(&ucopy_buf, &zero);

	return r ? r->size : 0;
}

/*
 * May this CPU copy one more off-CPU stack now? A token bucket of bytes, a quarter second
 * deep: a copy is allowed while the balance is positive and charged what it copied
 * (ucopy_offcpu_charge), which may take the balance below zero.
 */
static __always_inline struct ucopy_budget *ucopy_offcpu_allowed(__u64 now)
{
	struct ucopy_budget *b;
	__u32 zero = 0;
	__s64 tokens, burst = ucopy_offcpu_bps / 4;
	__u64 dt;

	b = bpf_map_lookup_elem(&ucopy_budget, &zero);
	if (!b)
		return NULL;
	dt = now - b->last;
	if (dt > 1000000000ULL)
		dt = 1000000000ULL;
	tokens = b->tokens + (__s64)(dt * ucopy_offcpu_bps / 1000000000ULL);
	if (tokens > burst)
		tokens = burst;
	b->last = now;
	b->tokens = tokens;
	if (tokens <= 0) {
		cnt_add(IT_CNT_UCOPY_SKIPPED, 1);
		return NULL;
	}
	return b;
}

/*
 * The user stack id of a stack record: the copy's (IT_UCOPY_ID + seq) when one was made,
 * else a frame-pointer walk's id in `stacks`. Kernel-only threads (io-wq) and samples with
 * no user frames have none (-EFAULT): not an error.
 */
static __always_inline long ustack_id(void *ctx, __u32 seq)
{
	long u;

	if (seq)
		return IT_UCOPY_ID + seq;
	u = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (u < 0 && u != -EFAULT)
		cnt_add(IT_CNT_STACK_ERRORS, 1);
	return u;
}

/*
 * Steal checkpoint of task p, on (or, end: just off) its CPU. Each update of a run queue's
 * clock moves rq->clock by the time passed and rq->clock_task by that less what the
 * hypervisor stole meanwhile, so their difference only grows, and what it grew by while
 * the thread held the CPU is what was stolen from the thread. Both are fresh here: the
 * scheduler updates the clock before a switch and before the runtime accounting that
 * sched_stat_runtime reports, under the run queue's lock. The run queue is reached through
 * the task's cfs_rq (per-CPU variables are not in kallsyms without KALLSYMS_ALL); without
 * group scheduling there is no such link, and user space reports steal unavailable.
 */
static __always_inline void steal_ckpt(struct it_thread *th, struct task_struct *p, bool end)
{
	struct rq *rq;
	__u64 u;

	if ((features_off & IT_FEAT_STEAL) || !bpf_core_field_exists(((struct cfs_rq *)0)->rq))
		return;
	rq = BPF_CORE_READ(p, se.cfs_rq, rq);
	if (!rq) {
		th->ckpt_on = 0;
		return;
	}
	u = BPF_CORE_READ(rq, clock) - BPF_CORE_READ(rq, clock_task);
	/* a thread cannot change CPU while it runs: another run queue means a missed switch */
	if (th->ckpt_on && th->ckpt_rq == (__u64)rq && u > th->ckpt_unrun)
		th->stolen_ns += u - th->ckpt_unrun;
	th->ckpt_unrun = u;
	th->ckpt_rq = (__u64)rq;
	th->ckpt_on = !end;
}

/*
 * tid is on a CPU from ts on (now: the time of the event that says so). If it slept and was
 * woken since, the time from the wake-up to ts was spent waiting for a CPU.
 */
static __always_inline void switch_in(struct it_thread *th, __u32 tid, __u64 ts, __u64 now)
{
	__u64 out = th->switch_out_ts, wake = th->wake_ts;
	__u32 off = th->state;

	/* a wait on a socket, to its wake-up: its socket's, or the next read's (a poll) */
	if (!th->on_cpu && out && ts > out && !(features_off & IT_FEAT_FDKIND)) {
		__u64 d = (wake > out && wake < ts ? wake : ts) - out;

		if (off == IT_POLL_WAIT) {
			th->poll_pend_ns += d;
			th->poll_pend_n++;
		} else if (off == IT_IO_WAIT && th->sock.pid) {
			sock_add(&th->sock, d, 1, 0, 0);
		}
	}
	if (!th->on_cpu && off != IT_RUNNABLE && off != IT_COMPUTE && off != IT_IO_CPU &&
	    wake > out && wake < ts)
		transition(th, tid, IT_RUNNABLE, wake);
	else
		wake = 0;
	transition(th, tid, th->sys == IT_SYS_IO ? IT_IO_CPU : IT_COMPUTE, ts);
	/* a thread seeded as running was not seen going off: no off-CPU stack to report */
	if (stacks_enabled && !th->on_cpu && th->off_state != IT_COMPUTE) {
		__u32 pid = th->pid;

		/*
		 * a switch-in inferred late (sched_stat_runtime): the thread ran unseen, and a
		 * read's entry or exit may have moved its state since; its stack was taken
		 * leaving in off_state (an off-CPU stack in "compute" was a preemption)
		 */
		if (off == IT_COMPUTE || off == IT_IO_CPU)
			off = th->off_state;

		if (wake) {
			emit_offcpu(th, pid, tid, now, wake - out, off, th->kstack, th->ustack);
			emit_offcpu(th, pid, tid, now, ts - wake, IT_RUNNABLE, th->kstack, th->ustack);
		} else if (ts > out) {
			emit_offcpu(th, pid, tid, now, ts - out, off, th->kstack, th->ustack);
		}
	}
	th->on_cpu = 1;
}

/* The io controller's css of task (0 without one), whatever the hierarchy (v1 blkio, v2). */
static __always_inline __u64 task_io_css(struct task_struct *task)
{
	struct cgroup_subsys_state *css = NULL;
	struct css_set *cset;
	int id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, io_cgrp_id))
		return 0;
	id = bpf_core_enum_value(enum cgroup_subsys_id, io_cgrp_id);
	cset = BPF_CORE_READ(task, cgroups);
	if (!cset || id < 0 || id >= 64)
		return 0;
	bpf_core_read(&css, sizeof(css), &cset->subsys[id]);
	return (__u64)css;
}

/* Learn target_css from a task of the target, once per run (own_cgroup_id set). */
static __always_inline void learn_css(struct task_struct *task)
{
	__u64 css;

	if (!own_cgroup_id || target_css)
		return;
	css = task_io_css(task);
	if (css && BPF_CORE_READ((struct cgroup_subsys_state *)css, cgroup, kn, id) ==
			   own_cgroup_id)
		target_css = css;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(iot_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 ptid = prev->pid, ntid = next->pid, st;
	struct it_thread *th;
	__u64 now = 0;

	th = thread_of(prev, ptid);
	if (th && !th->exited) {
		now = bpf_ktime_get_ns();
		/* its switch-in was not seen, nor inferred from sched_stat_runtime: counted */
		if (!th->on_cpu)
			cnt_add(IT_CNT_SWITCHIN_UNSEEN, 1);
		/* preempted, or woken before it got off the CPU: still wants to run */
		if (preempt || BPF_CORE_READ(prev, __state) == TASK_RUNNING)
			st = IT_RUNNABLE;
		else
			st = it_sys_wait_state(th->sys);
		th->switch_out_ts = now;
		th->on_cpu = 0;
		th->ctx_switches++;
		steal_ckpt(th, prev, true);
		th->off_state = st;
		/* the batch holding this lock_wait transition says which futex it is on */
		if (st == IT_LOCK_WAIT && th->sys == IT_SYS_LOCK && !th->fx_begun &&
		    !(features_off & IT_FEAT_FUTEX)) {
			th->fx_begun = 1;
			th->fx_enter_ts = now;
			th->fx_waker = 0;
			th->fx_pending |= IT_FX_BEGIN;
		}
		if (stacks_enabled) {
			/* prev is still current here: its stacks are the ones that blocked */
			long k = bpf_get_stackid(ctx, &stacks, 0);
			__u32 seq = 0;

			if (k < 0)
				cnt_add(IT_CNT_STACK_ERRORS, 1);
			th->kstack = k;
			/* unwound before: no copy, nothing charged to the budget */
			__s32 m = ucopy_bytes ? umemo_find(prev, ptid) : -1;

			if (m >= 0) {
				th->ustack = IT_UMEMO_ID + m;
				th->ucopy = IT_UC_REUSED;
			} else {
				struct ucopy_budget *b = NULL;

				th->ucopy = !ucopy_bytes ? IT_UC_OFF
					    : m == -2	 ? IT_UC_NO_USER
							 : IT_UC_OVER_BUDGET;
				if (th->ucopy == IT_UC_OVER_BUDGET)
					b = ucopy_offcpu_allowed(now);
				if (b) {
					seq = ucopy(prev, th->pid, ptid, IT_UCOPY_OFFCPU);
					th->ucopy = seq == UCOPY_NO_USER ? IT_UC_NO_USER
						    : seq		 ? IT_UC_COPIED
									 : IT_UC_FAILED;
					if (th->ucopy == IT_UC_COPIED)
						b->tokens -= ucopy_len();
					else
						seq = 0;
				}
				th->ustack = ustack_id(ctx, seq);
			}
		}
		transition(th, ptid, st, now);
		flush(th, ptid);
	}

	th = thread_of(next, ntid);
	if (th && !th->exited) {
		if (!now)
			now = bpf_ktime_get_ns();
		switch_in(th, ntid, now, now);
		steal_ckpt(th, next, false);
		/* released from its start-up wait: its first switch-in, before any I/O */
		learn_css(next);
	}
	return 0;
}

/*
 * Some context switches never reach the sched_switch tracepoint (seen here: switches away
 * from one of the VM agent's threads), so a target thread can start running unseen. The
 * fair scheduler's runtime accounting of the running task says so: the first one after an
 * unseen switch-in carries the time since it (exec_start is set at the switch), which
 * dates the switch-in. Otherwise a lookup that finds the thread already on CPU.
 */
SEC("tp_btf/sched_stat_runtime")
int BPF_PROG(iot_stat_runtime, struct task_struct *p, u64 runtime)
{
	__u32 tid = p->pid;
	struct it_thread *th = thread_of(p, tid);
	__u64 now, ts;

	if (!th || th->exited)
		return 0;
	steal_ckpt(th, p, false);
	if (th->on_cpu) {
		if (th->n && !READ_ONCE(th->busy) &&
		    bpf_ktime_get_ns() - (th->out.e[0] & IT_TS_MASK) > batch_max_age_ns)
			flush(th, tid);
		return 0;
	}
	now = bpf_ktime_get_ns();
	ts = now - runtime;
	if (ts < th->switch_out_ts)
		ts = th->switch_out_ts;
	if (ts < th->since)
		ts = th->since;
	cnt_add(IT_CNT_SWITCHIN_INFERRED, 1);
	switch_in(th, tid, ts, now);
	learn_css(p);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(iot_sched_wakeup, struct task_struct *p)
{
	__u32 tid = p->pid;
	struct it_thread *th = thread_of(p, tid);

	if (th)
		th->wake_ts = bpf_ktime_get_ns();
	return 0;
}

/*
 * Who woke a thread waiting on a futex: sched_waking runs in the waker's context (the
 * wake-up proper may complete on the wakee's CPU). Only threads inside a futex call; for a
 * thread in a poll-class call, whether the task current here is of its own process
 * (poll_end): a pipe's writer, in its own context; an interrupt's wake-up (a timer, a
 * NIC) names whatever task it came upon, which user space knows by what is read next.
 */
SEC("tp_btf/sched_waking")
int BPF_PROG(iot_sched_waking, struct task_struct *p)
{
	__u32 tid = p->pid;
	struct it_thread *th = thread_of(p, tid);

	if (th && th->fx_begun && !th->on_cpu) {
		__u32 wtid = (__u32)bpf_get_current_pid_tgid();
		struct it_thread *w = thread_of(bpf_get_current_task_btf(), wtid);
		__u64 oncpu = 0;

		/* a waker of the target: its exact on-CPU time so far (it is on CPU now) */
		if (w && !w->exited) {
			__u64 now = bpf_ktime_get_ns();

			oncpu = w->ns[IT_COMPUTE] + w->ns[IT_IO_CPU];
			if ((w->state == IT_COMPUTE || w->state == IT_IO_CPU) && now > w->since)
				oncpu += now - w->since;
		}
		th->fx_waker = wtid;
		th->fx_waker_oncpu = oncpu;
	} else if (th && th->sys == IT_SYS_POLL && !th->on_cpu) {
		th->poll_wake = bpf_get_current_pid_tgid() >> 32 == th->pid ? IT_PW_OWN : IT_PW_OTHER;
	}
	return 0;
}

/*
 * Every new task passes here, including io_uring's io-wq workers and SQPOLL threads, which
 * are created without sched_process_fork: add any task of a target thread group not known
 * yet. Runs in the creator's context with the new task not yet runnable elsewhere.
 */
SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(iot_sched_wakeup_new, struct task_struct *p)
{
	__u32 tid = p->pid, pid = p->tgid;
	struct it_thread *th = thread_of(p, tid);
	__u64 pt;

	if (th && !th->exited)
		return 0;
	if (!bpf_map_lookup_elem(&targets, &pid))
		return 0;
	pt = bpf_get_current_pid_tgid();
	add_thread(p, 0, pt >> 32, (__u32)pt, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(iot_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid = parent->tgid, cpid = child->tgid, one = 1;
	__u32 flags = 0;

	if (!bpf_map_lookup_elem(&targets, &ppid))
		return 0;
	if (cpid != ppid) {
		if (!follow_children)
			return 0;
		flags = IT_TF_PROCESS;
		if (bpf_map_update_elem(&targets, &cpid, &one, BPF_ANY)) {
			cnt_add(IT_CNT_THREADS_FULL, 1);
			return 0;
		}
	}
	add_thread(child, flags, ppid, parent->pid, bpf_ktime_get_ns());
	return 0;
}

/*
 * What wait(2) will tell the parent of a process whose last thread is exiting: the group's
 * code when it exited as a group (exit_group, a fatal signal), else the thread's own.
 */
#define SIGNAL_GROUP_EXIT_ 0x00000004 /* include/linux/sched/signal.h */
static __always_inline __u32 exit_status(struct task_struct *p)
{
	struct signal_struct *sig = p->signal;

	if (sig && (sig->flags & SIGNAL_GROUP_EXIT_))
		return (__u32)sig->group_exit_code;
	return (__u32)p->exit_code;
}

/* A target process ran a new program: its command line, while it is the current task. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(iot_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 pid = p->tgid;
	struct it_exec_rec *r;
	struct mm_struct *mm;
	unsigned long start = 0, end = 0;
	__u32 len = 0;

	if (!bpf_map_lookup_elem(&targets, &pid))
		return 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		cnt_add(IT_CNT_LOST_RECORDS, 1);
		return 0;
	}
	r->type = IT_REC_EXEC;
	r->pid = pid;
	r->tid = p->pid;
	r->ts = bpf_ktime_get_ns();
	r->uid = p->cred->uid.val;
	r->euid = p->cred->euid.val;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), p->comm);
	mm = p->mm;
	if (mm) {
		start = mm->arg_start;
		end = mm->arg_end;
	}
	if (end > start)
		len = end - start > IT_ARGS_LEN ? IT_ARGS_LEN : (__u32)(end - start);
	barrier_var(len);
	if (len > IT_ARGS_LEN)
		len = IT_ARGS_LEN;
	if (len && bpf_probe_read_user(r->args, len, (const void *)start))
		len = 0;
	r->args_len = len;
	bpf_ringbuf_submit(r, rb_flags_proc());
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(iot_sched_exit, struct task_struct *p, bool group_dead)
{
	__u32 tid = p->pid, pid = p->tgid;
	struct it_thread *th = thread_of(p, tid);
	__u64 now;

	if (th && !th->exited) {
		now = bpf_ktime_get_ns();
		if (th->state < IT_NSTATES && now > th->since)
			th->ns[th->state] += now - th->since;
		th->since = now; /* = exit time from here on */
		th->exited = 1;
		flush(th, tid);
		/* user space takes an exited thread's totals by tid: its task may be gone by then */
		if (use_tstore && bpf_map_update_elem(&threads, &tid, th, BPF_ANY))
			cnt_add(IT_CNT_THREADS_FULL, 1);
		emit_thread_rec(IT_REC_EXIT, th->flags | (group_dead ? IT_TF_GROUP_DEAD : 0), pid,
				tid, 0, 0, now, th->seq, 0, p, group_dead ? exit_status(p) : 0,
				th->ns[IT_COMPUTE] + th->ns[IT_IO_CPU]);
	}
	/* an entry frozen at the end while user space reads them: kept as it was */
	if (use_tstore && !th && frozen_gen) {
		th = bpf_task_storage_get(&tstore, p, 0, 0);
		if (th && th->gen == frozen_gen)
			bpf_map_update_elem(&threads, &tid, th, BPF_NOEXIST);
	}
	if (group_dead)
		bpf_map_delete_elem(&targets, &pid);
	return 0;
}

#define IT_PF_IO_WORKER 0x00000010	/* task->flags: an io_uring worker (include/linux/sched.h) */
#define IT_ENOSYS 38

/* io_uring opcodes whose result is bytes received: they count as reads, as read(2) does. */
static __always_inline bool uring_is_read(__u32 op)
{
	return op == IORING_OP_READV || op == IORING_OP_READ_FIXED || op == IORING_OP_READ ||
	       op == IORING_OP_RECV || op == IORING_OP_RECVMSG;
}

/*
 * An io_uring worker (io-wq) inserting: is the request it is running a read? Its worker
 * (task->worker_private) holds the work it took (cur_work, set before it runs it), the
 * request's `work` member. Unknown layout: counted as a read.
 */
static __always_inline bool io_worker_reads(struct task_struct *task)
{
	struct io_worker *w;
	struct io_wq_work *work;
	struct io_kiocb *req;

	if (!bpf_core_field_exists(task->worker_private) ||
	    !bpf_core_field_exists(struct io_worker, cur_work) ||
	    !bpf_core_field_exists(struct io_kiocb, work))
		return true;
	w = (struct io_worker *)BPF_CORE_READ(task, worker_private);
	work = w ? BPF_CORE_READ(w, cur_work) : NULL;
	if (!work)
		return true;
	req = (struct io_kiocb *)((void *)work - bpf_core_field_offset(struct io_kiocb, work));
	return uring_is_read(BPF_CORE_READ(req, opcode));
}

/*
 * Why the current task inserts into the page cache, as an IT_CNT_PCACHE_* counter (0: other),
 * from the syscall its user registers show: a read-family call (a read's miss, or its
 * readahead of the same file), io_uring_enter when the thread's last submission is a read
 * (the request is issued there), an io_uring worker running a read; none (a page fault from
 * user mode: an executable or library paged in, a file read through mmap); another syscall
 * (write, execve's headers, fadvise), or an io_uring write.
 * In a syscall, x86-64's entry leaves -ENOSYS in ax until the call returns (an exception
 * saves the user's ax, and an error code where the syscall number would be); arm64's sets
 * syscallno to -1 (NO_SYSCALL) at every entry but a syscall's.
 */
static __always_inline __u32 pcache_cause(struct task_struct *task)
{
	struct it_thread *th;
	struct pt_regs *regs;
	long nr;

	if (task->flags & IT_PF_IO_WORKER)
		return io_worker_reads(task) ? IT_CNT_PCACHE_READ_BYTES : 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return 0;
#if defined(__TARGET_ARCH_x86)
	if ((long)regs->ax != -IT_ENOSYS)
		return IT_CNT_PCACHE_FAULT_BYTES;
	nr = regs->orig_ax;
#else
	nr = regs->syscallno;
	if (nr == -1)
		return IT_CNT_PCACHE_FAULT_BYTES;
#endif
	if (nr == IT_NR_io_uring_enter) {
		th = thread_of(task, task->pid);
		return !th || th->uring_issue_read ? IT_CNT_PCACHE_READ_BYTES : 0;
	}
	return it_sys_class(nr) == IT_SYS_IO ? IT_CNT_PCACHE_READ_BYTES : 0;
}

/*
 * Bytes inserted into the page cache on the target's behalf: the folio's size, in all and
 * by why (pcache_cause). Runs where the insertion happens: a read's readahead in the
 * reader, a fault in the faulting thread.
 */
SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(iot_pcache_add, struct folio *folio)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, order = 0, cause;
	unsigned long flags = 0;
	__u64 bytes;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	/* folio->flags is an unsigned long or (6.18+) a one-word struct: read the word */
	bpf_core_read(&flags, sizeof(flags), &folio->flags);
	if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))) {
		if (bpf_core_field_exists(folio->_flags_1))
			order = BPF_CORE_READ(folio, _flags_1) & 0xff;
	}
	bytes = (__u64)page_size << (order & 31);
	cnt_add(IT_CNT_PCACHE_BYTES, bytes);
	cnt_add(IT_CNT_PCACHE_FOLIOS, 1);
	cause = pcache_cause(bpf_get_current_task_btf());
	if (cause)
		cnt_add(cause, bytes);
	if (own_cgroup_id) {
		__u64 key = (__u64)folio, now = bpf_ktime_get_ns();

		bpf_map_update_elem(&folio_added, &key, &now, BPF_ANY);
	}
	return 0;
}

static __always_inline __u32 rq_dev(struct request *rq)
{
	struct block_device *part = BPF_CORE_READ(rq, part);

	return part ? BPF_CORE_READ(part, bd_dev) : 0;
}

/*
 * Is rq the target's? Created in its context (the submitter's, so readahead counts), or,
 * when the target has a cgroup of its own, carrying a bio of that cgroup (dispatched by
 * blk-throttle's kworker). *pid: the target's tgid, 0 when matched by cgroup. Called for
 * every read request on the machine: the tgid lookup first, the cgroup only when set.
 */
static __always_inline bool rq_is_target(struct request *rq, __u32 *pid)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 css = target_css;
	struct blkcg *blkcg;

	*pid = tgid;
	if (bpf_map_lookup_elem(&targets, &tgid))
		return true;
	if (!css || !bpf_core_field_exists(struct bio, bi_blkg))
		return false;
	blkcg = BPF_CORE_READ(rq, bio, bi_blkg, blkcg);
	*pid = 0;
	return blkcg && (__u64)&blkcg->css == css;
}

/*
 * Own cgroup: when the target submitted rq's first bio (its first folio's insertion), 0 if
 * unknown (no cgroup, metadata, a split's tail). Not deleted: both halves of a split bio
 * were submitted then.
 */
static __always_inline __u64 rq_queued(struct request *rq)
{
	__u64 key, *ts;

	if (!own_cgroup_id)
		return 0;
	key = (__u64)BPF_CORE_READ(rq, bio, bi_io_vec, bv_page);
	ts = key ? bpf_map_lookup_elem(&folio_added, &key) : NULL;
	return ts ? *ts : 0;
}

SEC("tp_btf/block_io_start")
int BPF_PROG(iot_block_io_start, struct request *rq)
{
	struct blk_start v = {};
	__u64 key = (__u64)rq;
	__u32 pid;

	if ((BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK) != 0 /* REQ_OP_READ */)
		return 0;
	if (!rq_is_target(rq, &pid)) {
		/* a target's request whose completion went unseen: not this one's */
		if (bpf_map_lookup_elem(&blk_inflight, &key))
			bpf_map_delete_elem(&blk_inflight, &key);
		return 0;
	}
	v.start_ts = bpf_ktime_get_ns();
	v.queued_ts = rq_queued(rq);
	v.bytes = BPF_CORE_READ(rq, __data_len);
	v.dev = rq_dev(rq);
	v.pid = pid;
	if (bpf_map_update_elem(&blk_inflight, &key, &v, BPF_ANY))
		cnt_add(IT_CNT_INFLIGHT_FULL, 1);
	return 0;
}

static __always_inline void blk_count(struct blk_start *v)
{
	if (v->counted)
		return;
	v->counted = 1;
	cnt_add(IT_CNT_BLOCK_BYTES, v->bytes);
	cnt_add(IT_CNT_BLOCK_REQS, 1);
}

/* Issue to the driver (any context): device time starts here, and the bytes are counted
 * (see blk_inflight). Without block_io_start (older kernels) requests issued in the
 * target's context (or cgroup) are taken here, which can take in another process's
 * request dispatched by the target (and miss the target's dispatched by another). */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(iot_block_rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq;
	struct blk_start *v = bpf_map_lookup_elem(&blk_inflight, &key);
	__u32 pid;

	if (v) {
		v->issue_ts = bpf_ktime_get_ns();
		/* merges happen before the first issue: its size is final then */
		if (!v->counted)
			v->bytes = BPF_CORE_READ(rq, __data_len);
		blk_count(v);
		return 0;
	}
	if (io_start_on || (BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK) != 0)
		return 0;
	if (!rq_is_target(rq, &pid))
		return 0;
	{
		struct blk_start n = {};

		n.start_ts = n.issue_ts = bpf_ktime_get_ns();
		n.queued_ts = rq_queued(rq);
		n.bytes = BPF_CORE_READ(rq, __data_len);
		n.dev = rq_dev(rq);
		n.pid = pid;
		blk_count(&n);
		if (bpf_map_update_elem(&blk_inflight, &key, &n, BPF_ANY))
			cnt_add(IT_CNT_INFLIGHT_FULL, 1);
	}
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(iot_block_rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq, now;
	struct blk_start *v = bpf_map_lookup_elem(&blk_inflight, &key);
	struct it_block_rec *r;

	if (!v)
		return 0;
	/* a partial completion leaves the rest of the request in flight */
	if (nr_bytes < BPF_CORE_READ(rq, __data_len))
		return 0;
	now = bpf_ktime_get_ns();
	blk_count(v); /* ended without an issue (e.g. failed before dispatch) */
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (r) {
		r->type = IT_REC_BLOCK;
		r->dev = v->dev;
		r->pid = v->pid;
		r->bytes = v->bytes;
		/* the device's time with it; under a throttle, the emulated disk's */
		r->issue_ts = v->queued_ts ? v->queued_ts : v->issue_ts ? v->issue_ts : v->start_ts;
		r->complete_ts = now;
		bpf_ringbuf_submit(r, rb_flags());
	} else {
		cnt_add(IT_CNT_LOST_RECORDS, 1);
	}
	bpf_map_delete_elem(&blk_inflight, &key);
	return 0;
}

static __always_inline void emit_uring(__u32 ev, __u32 pid, __u32 tid, __u64 ts, __u64 req,
				       __u64 user_data, __s32 res, __u32 opcode, __u32 kind,
				       __u32 rkind)
{
	struct it_uring_rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r) {
		cnt_add(IT_CNT_LOST_RECORDS, 1);
		return;
	}
	r->type = IT_REC_URING;
	r->ev = ev;
	r->pid = pid;
	r->tid = tid;
	r->ts = ts;
	r->req = req;
	r->user_data = user_data;
	r->res = res;
	r->opcode = opcode;
	r->kind = kind;
	r->rkind = rkind;
	bpf_ringbuf_submit(r, rb_flags());
}

/* The older fixed-file table (5.19 to 6.12): an array of tagged file pointers. */
struct io_fixed_file___old {
	unsigned long file_ptr;
};

struct io_file_table___old {
	struct io_fixed_file___old *files;
};

struct io_ring_ctx___old {
	struct io_file_table___old file_table;
	unsigned int nr_user_files;
};

/* A fixed-file slot's pointer carries flags in its low bits (FFS_NOWAIT, FFS_ISREG). */
#define IT_FFS_MASK (~3UL)

/* The file in slot idx of the ring's registered files (NULL: none, or a layout not known). */
static __always_inline struct file *uring_fixed_file(struct io_ring_ctx *ctx, __u32 idx)
{
	unsigned long ptr = 0;

	if (bpf_core_field_exists(ctx->file_table.data)) {
		struct io_rsrc_node *node = NULL, **nodes;

		if (idx >= BPF_CORE_READ(ctx, file_table.data.nr))
			return NULL;
		nodes = BPF_CORE_READ(ctx, file_table.data.nodes);
		bpf_core_read(&node, sizeof(node), nodes + idx);
		if (node)
			ptr = BPF_CORE_READ(node, file_ptr);
	} else {
		struct io_ring_ctx___old *o = (void *)ctx;
		struct io_fixed_file___old *files;

		if (!bpf_core_field_exists(o->file_table.files) ||
		    idx >= BPF_CORE_READ(o, nr_user_files))
			return NULL;
		files = BPF_CORE_READ(o, file_table.files);
		bpf_core_read(&ptr, sizeof(ptr), &files[idx].file_ptr);
	}
	return (struct file *)(ptr & IT_FFS_MASK);
}

/*
 * What a request being submitted reads from (IT_IOK_NONE: its file not found). The kernel gives a request its file only when
 * it issues it, after the submission's tracepoint: until then cqe.fd holds the SQE's fd, or
 * its slot among the ring's registered files (REQ_F_FIXED_FILE, bit 0 of the flags as of
 * IOSQE_FIXED_FILE). The fd is the submitter's: the submission runs in its context (or in
 * its SQPOLL thread's, which shares its file table).
 */
static __always_inline __u32 uring_req_kind(struct io_kiocb *req)
{
	struct file *f = BPF_CORE_READ(req, file);
	__u8 flags0 = 0;
	int fd;

	if (f)
		return file_kind(f);
	fd = BPF_CORE_READ(req, cqe.fd);
	/* the low byte of flags, whatever the field's width (u32 before 6.10): little-endian */
	bpf_core_read(&flags0, 1, &req->flags);
	if (flags0 & 1)
		f = uring_fixed_file(BPF_CORE_READ(req, ctx), (__u32)fd);
	else
		f = fd_file(fd);
	return f ? file_kind(f) : IT_IOK_NONE;
}

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

/*
 * Credit a completed request to its submitter's entry th: a read's bytes, by rkind (the
 * request's file kind), and kind (NONE: keep it) as what its io_uring_enter waits for.
 */
static __always_inline bool uring_credit_th(struct it_thread *th, bool read, __s32 res,
					    __u32 kind, __u32 rkind)
{
	if (!th)
		return false;
	if (kind != IT_IOK_NONE)
		th->uring_kind = kind;
	if (read && res >= 0) {
		/* atomic: an io-wq worker or softirq completes it beside the thread itself;
		 * apart from reads and bytes_read, which iot_sys_exit adds to without one */
		__sync_fetch_and_add(&th->uring_reads, 1);
		__sync_fetch_and_add(&th->uring_bytes_read, (__u64)res);
		__sync_fetch_and_add(&th->uring_bytes_read_kind[rkind & (IT_READ_KIND_SLOTS - 1)],
				     (__u64)res);
	}
	return true;
}

/*
 * The submitter tid's entry, from wherever the completion runs (its own task work, an
 * io-wq worker, softirq): its task storage needs its task, which another context finds by
 * tid (bpf_task_from_pid, 6.2; task storage needs 6.9 already).
 */
static __always_inline bool uring_credit(__u32 tid, bool read, __s32 res, __u32 kind,
					 __u32 rkind)
{
	struct task_struct *cur = bpf_get_current_task_btf(), *task;
	bool ok;

	if (!use_tstore)
		return uring_credit_th(bpf_map_lookup_elem(&threads, &tid), read, res, kind,
				       rkind);
	if (cur->pid == tid)
		return uring_credit_th(thread_of(cur, tid), read, res, kind, rkind);
	if (!bpf_task_from_pid)	/* a weak ksym the kernel lacks is NULL */
		return false;
	task = bpf_task_from_pid(tid);
	if (!task)
		return false;
	ok = uring_credit_th(thread_of(task, tid), read, res, kind, rkind);
	bpf_task_release(task);
	return ok;
}

/*
 * Submission runs in the submitter's context (or its SQPOLL thread, same thread group). The
 * record is reserved before the request is published in the map, so its completion (maybe
 * on another CPU) can't be ahead of it in the ring buffer.
 */
SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(iot_uring_submit, struct io_kiocb *req)
{
	__u64 pt = bpf_get_current_pid_tgid(), key = (__u64)req;
	__u32 tgid = pt >> 32;
	struct uring_start v = {};
	struct it_uring_rec *r;
	struct it_thread *th;
	__u32 kind;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		cnt_add(IT_CNT_LOST_RECORDS, 1);
		return 0;
	}
	v.ts = bpf_ktime_get_ns();
	v.pid = tgid;
	v.tid = (__u32)pt;
	v.opcode = BPF_CORE_READ(req, opcode);
	kind = uring_req_kind(req);
	v.kind = kind;
	th = thread_of(bpf_get_current_task_btf(), v.tid);
	if (th)
		th->uring_issue_read = uring_is_read(v.opcode);
	if (th && th->state == IT_IO_CPU)
		v.span = th->since;
	if (th && kind != IT_IOK_NONE) {
		/* the thread's wait in io_uring_enter is for what it submits (a file not
		 * found keeps what its requests read last: the completion tells it) */
		th->uring_kind = kind;
		if (th->sys == IT_SYS_IO)
			th->io_kind = kind;
	}
	if (bpf_map_update_elem(&uring_reqs, &key, &v, BPF_ANY)) {
		cnt_add(IT_CNT_INFLIGHT_FULL, 1);
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return 0;
	}
	cnt_add(IT_CNT_URING_SUBMIT, 1);
	r->type = IT_REC_URING;
	r->ev = IT_URING_SUBMIT;
	r->pid = tgid;
	r->tid = v.tid;
	r->ts = v.ts;
	r->req = key;
	r->user_data = BPF_CORE_READ(req, cqe.user_data);
	r->res = 0;
	r->opcode = v.opcode;
	r->kind = kind;
	r->rkind = 0;
	bpf_ringbuf_submit(r, rb_flags());
	return 0;
}

SEC("tp_btf/io_uring_queue_async_work")
int BPF_PROG(iot_uring_async, struct io_kiocb *req, int rw)
{
	__u64 key = (__u64)req;
	struct uring_start *v = bpf_map_lookup_elem(&uring_reqs, &key);

	if (!v)
		return 0;
	cnt_add(IT_CNT_URING_ASYNC, 1);
	v->punted = 1;
	emit_uring(IT_URING_ASYNC, v->pid, v->tid, bpf_ktime_get_ns(), key, 0, 0,
		   BPF_CORE_READ(req, opcode), 0, 0);
	return 0;
}

/*
 * Completion may run in an io-wq worker, softirq or the task: match by request pointer.
 * Counted by where it ran: after a punt to io-wq; else within the call that submitted it
 * (the submitter, still on CPU in the same io_uring_enter with no transition since the
 * submission: the read found its data, or failed, at once, or the device delivered it before
 * the call left the CPU: a fast disk can, even cold); else later, which for a request
 * not punted is task work in the submitter (a cold buffered read waits on the page lock and
 * is retried by task work once the page is in; io_uring has no tracepoint there, and this
 * kernel's fentry may be closed to BPF).
 * A read's bytes go to the submitter's entry, as a read(2)'s would, and the file it read
 * from (the request has it now) becomes what the submitter's io_uring_enter waits for.
 */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(iot_uring_complete, void *ctx_, void *req, struct io_uring_cqe *cqe)
{
	__u64 key = (__u64)req;
	struct uring_start *v = bpf_map_lookup_elem(&uring_reqs, &key);
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), at = IT_CNT_URING_TASK_WORK;
	struct it_thread *th;
	struct file *f;
	bool credited;
	__u32 rkind;
	__s32 res;

	if (!v)
		return 0;
	cnt_add(IT_CNT_URING_COMPLETE, 1);
	if (v->punted) {
		at = IT_CNT_URING_IO_WQ;
	} else if (tid == v->tid && v->span) {
		th = thread_of(bpf_get_current_task_btf(), tid);
		if (th && th->state == IT_IO_CPU && th->since == v->span)
			at = IT_CNT_URING_AT_SUBMIT;
	}
	cnt_add(at, 1);
	res = BPF_CORE_READ(cqe, res);
	f = BPF_CORE_READ((struct io_kiocb *)req, file);
	/* the request's file: as found at submission, else now */
	rkind = v->kind != IT_IOK_NONE ? v->kind : f ? file_kind(f) : IT_IOK_NONE;
	credited = uring_credit(v->tid, uring_is_read(v->opcode), res,
				v->kind != IT_IOK_NONE ? IT_IOK_NONE : rkind, rkind);
	emit_uring(IT_URING_COMPLETE, v->pid, v->tid, bpf_ktime_get_ns(), key,
		   BPF_CORE_READ(cqe, user_data), res, v->opcode, credited, rkind);
	bpf_map_delete_elem(&uring_reqs, &key);
	return 0;
}

/* On-CPU sampling (cpu-clock, every CPU): one sample for a target thread. */
SEC("perf_event")
int iot_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt, st = IT_COMPUTE, how = IT_UC_OFF;
	struct it_thread *th;
	long k, u;
	__u32 seq;

	if (!tgid || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	th = thread_of(bpf_get_current_task_btf(), tid);
	if (th && th->state == IT_IO_CPU)
		st = IT_IO_CPU;
	k = bpf_get_stackid(ctx, &stacks, 0);
	/* -EFAULT: no frames of that kind (a sample in user mode, a kernel-only thread) */
	if (k < 0 && k != -EFAULT)
		cnt_add(IT_CNT_STACK_ERRORS, 1);
	seq = ucopy_bytes ? ucopy(bpf_get_current_task_btf(), tgid, tid, 0) : 0;
	if (ucopy_bytes)
		how = seq == UCOPY_NO_USER ? IT_UC_NO_USER : seq ? IT_UC_COPIED : IT_UC_FAILED;
	if (how != IT_UC_COPIED)
		seq = 0;
	u = ustack_id(ctx, seq);
	emit_stack(IT_STACK_ONCPU, tgid, tid, bpf_ktime_get_ns(), 1, st, k, u, 0, how);
	return 0;
}
