/* iotrace.h - fixed-width records shared by the BPF probes and the user-space tracer. */
#ifndef IOTRACE_BPF_H
#define IOTRACE_BPF_H

/*
 * Everything here crosses the kernel/user boundary, so: fixed-width types only, no
 * pointers, explicit padding. The probes keep exact per-thread state totals in each
 * thread's entry (task storage, or the `threads` map) and stream state transitions in
 * per-thread batches (one ring-buffer record per IT_BATCH transitions or per switch-out),
 * which is what keeps a 4 KiB-read storm cheap: one ring-buffer reserve per batch instead
 * of one per syscall edge.
 */

#define IT_COMM_LEN 16
/*
 * Transitions per batch record, at most. A 4 KiB-read storm fills one every IT_BATCH / 2
 * reads, and each costs the read it closes a ring-buffer reserve, copy and commit plus the
 * entry's bookkeeping: 62 cost dd 6.3% of its CPU time over the timed floor, 126 4.0% and
 * 254 3.1% (bench_drv, medians of 14 interleaved runs). A batch is sent as long as its
 * entries, so the size costs only memory: 2 KiB more in each thread's entry.
 */
#define IT_BATCH 254
#define IT_TS_MASK ((1ULL << 56) - 1)
#define IT_STATE_SHIFT 56	/* batch entry = ts | (state << 56) | (kind << 60) */
#define IT_STATE_MASK 0xf
#define IT_KIND_SHIFT 60	/* enum it_io_kind of an io_cpu / io_wait entry, it_other_kind of
				 * an other_wait one, else 0 */
/*
 * An entry with this state is a mark, no transition: a poll-class call that went off CPU
 * returned 0 (kind IT_PK_TIMEOUT) or was woken with a task of its own process current
 * (IT_PK_OWN_PROCESS). Readers that know no marks skip it as a state out of range.
 */
#define IT_MARK_POLL_END 0xf
#define IT_MAX_STACK 64
#define IT_MAX_THREADS 16384	/* `threads` map entries: live threads + exited ones not yet consumed */
#define IT_MAX_INFLIGHT 16384	/* block requests / io_uring requests in flight */
#define IT_MAX_SOCKS 4096	/* `sock_waits` entries: (process, socket) pairs waited on */

/*
 * Per-thread states: the time model's list (user/model/states.h, macros only), so
 * IT_<state> == TL_<state> by construction; user/trace asserts it where it casts one into
 * the other.
 */
#include "model/states.h"
#include "model/kinds.h"

enum it_state {
#define IT_STATE_ENUM(name, str) IT_##name,
	TL_STATES(IT_STATE_ENUM)
#undef IT_STATE_ENUM
	IT_NSTATES,
};

/*
 * What a thread is inside of, as far as the state model cares: X(CLASS, state off CPU in
 * it). IT_SYS_NONE (0) is every other syscall; a thread off CPU there is in other_wait.
 */
#define IT_SYS_CLASSES(X)                                                                  \
	X(IO, IT_IO_WAIT)	/* read family, io_uring_enter, socket receives (on CPU: io_cpu) */ \
	X(LOCK, IT_LOCK_WAIT)	/* futex, futex_waitv */                                    \
	X(POLL, IT_POLL_WAIT)	/* epoll_wait, epoll_pwait(2), poll, ppoll, select, pselect6 */ \
	X(CHILD, IT_OTHER_WAIT)	/* wait4, waitid: for a child process (other_wait, kind child) */

enum it_sys {
	IT_SYS_NONE = 0,
#define IT_SYS_ENUM(cls, wait) IT_SYS_##cls,
	IT_SYS_CLASSES(IT_SYS_ENUM)
#undef IT_SYS_ENUM
};

/*
 * The syscalls of each class, X(number, name, CLASS), for the architecture being built:
 * the probes classify every syscall entry and exit with it, the tracer the syscall an
 * existing thread sleeps in when it seeds it. BPF builds define __TARGET_ARCH_*, user
 * space builds the compiler's own macro.
 */
#if defined(__TARGET_ARCH_x86) || defined(__x86_64__)
#define IT_SYSCALLS(X)                                                                     \
	X(0, read, IO)                                                                     \
	X(17, pread64, IO)                                                                 \
	X(19, readv, IO)                                                                   \
	X(295, preadv, IO)                                                                 \
	X(327, preadv2, IO)                                                                \
	X(426, io_uring_enter, IO)                                                         \
	X(45, recvfrom, IO)                                                                \
	X(47, recvmsg, IO)                                                                 \
	X(299, recvmmsg, IO)                                                               \
	X(202, futex, LOCK)                                                                \
	X(449, futex_waitv, LOCK)                                                          \
	X(232, epoll_wait, POLL)                                                           \
	X(281, epoll_pwait, POLL)                                                          \
	X(441, epoll_pwait2, POLL)                                                         \
	X(7, poll, POLL)                                                                   \
	X(271, ppoll, POLL)                                                                \
	X(23, select, POLL)                                                                \
	X(270, pselect6, POLL)                                                             \
	X(61, wait4, CHILD)                                                                \
	X(247, waitid, CHILD)
#elif defined(__TARGET_ARCH_arm64) || defined(__aarch64__)
#define IT_SYSCALLS(X)                                                                     \
	X(63, read, IO)                                                                    \
	X(67, pread64, IO)                                                                 \
	X(65, readv, IO)                                                                   \
	X(69, preadv, IO)                                                                  \
	X(286, preadv2, IO)                                                                \
	X(426, io_uring_enter, IO)                                                         \
	X(207, recvfrom, IO)                                                               \
	X(212, recvmsg, IO)                                                                \
	X(243, recvmmsg, IO)                                                               \
	X(98, futex, LOCK)                                                                 \
	X(449, futex_waitv, LOCK)                                                          \
	X(22, epoll_pwait, POLL)                                                           \
	X(441, epoll_pwait2, POLL)                                                         \
	X(73, ppoll, POLL)                                                                 \
	X(72, pselect6, POLL)                                                              \
	X(260, wait4, CHILD)                                                               \
	X(95, waitid, CHILD)
#else
#error "syscall table: add this architecture"
#endif

/* Each syscall's number by name (IT_NR_recvfrom, ...): the probes single out a few. */
enum it_nr {
#define IT_NR_ENUM(nr, name, cls) IT_NR_##name = nr,
	IT_SYSCALLS(IT_NR_ENUM)
#undef IT_NR_ENUM
};

/* Syscall number -> enum it_sys. */
static inline __attribute__((always_inline)) unsigned int it_sys_class(long nr)
{
	switch (nr) {
#define IT_SYS_CASE(nr, name, cls)                                                         \
	case nr:                                                                           \
		return IT_SYS_##cls;
		IT_SYSCALLS(IT_SYS_CASE)
#undef IT_SYS_CASE
	default:
		return IT_SYS_NONE;
	}
}

/* The state of a thread off CPU inside a syscall of class `sys`. */
static inline __attribute__((always_inline)) unsigned int it_sys_wait_state(unsigned int sys)
{
	switch (sys) {
#define IT_SYS_WAIT(cls, wait)                                                             \
	case IT_SYS_##cls:                                                                 \
		return wait;
		IT_SYS_CLASSES(IT_SYS_WAIT)
#undef IT_SYS_WAIT
	default:
		return IT_OTHER_WAIT;
	}
}

/*
 * What an other_wait was for, as the model's (kinds.h): IT_OWK_CHILD while the thread is in
 * wait4/waitid (a parent waiting for its children: the work is done elsewhere); 0 else.
 */
enum it_other_kind {
	IT_OWK_NONE = 0,
#define IT_OWK_ENUM(name, str) IT_OWK_##name,
	TL_OTHER_KINDS(IT_OWK_ENUM)
#undef IT_OWK_ENUM
	IT_NOWKINDS,
};

/*
 * What a read-family call (or an io_uring request) reads from: the type of the file behind
 * its fd, read from the task's file table at syscall entry (io_uring: at submission).
 * IT_IOK_NONE: not an I/O state, or not known. Values as the model's (kinds.h).
 */
enum it_io_kind {
	IT_IOK_NONE = 0,
#define IT_IOK_ENUM(name, str) IT_IOK_##name,
	TL_IO_KINDS(IT_IOK_ENUM)
#undef IT_IOK_ENUM
	IT_NIOKINDS,
};

/*
 * Or'ed into IT_IOK_FILE by the probes when the file was opened O_DIRECT: its reads bypass
 * the page cache, so their bytes are no page-cache hits (nor misses). It stays in the
 * probes' own copies of a read's kind (it_thread's io_kind and uring_kind, an io_uring
 * request's, it_uring_rec's kind and rkind) and picks the bytes-by-kind slot, so a direct
 * read's bytes land apart at no cost to a buffered one's; what is streamed as a state's
 * kind (batch entries, stack records) is masked with IT_IOK_KIND_MASK and never carries it.
 */
#define IT_IOK_DIRECT 8
#define IT_IOK_KIND_MASK (IT_IOK_DIRECT - 1)
_Static_assert(IT_NIOKINDS <= IT_IOK_DIRECT, "IT_IOK_DIRECT: overlaps a kind");

/* it_thread's bytes-by-kind slots: a power of two above every kind, IT_IOK_DIRECT or'ed in
 * too, for an index mask */
#define IT_READ_KIND_SLOTS 16
_Static_assert((IT_IOK_DIRECT | IT_IOK_KIND_MASK) < IT_READ_KIND_SLOTS, "IT_READ_KIND_SLOTS: too few");

/* What ended a poll-class call (IT_MARK_POLL_END's kind): as the model's. */
enum it_poll_kind {
	IT_PK_BASE = IT_NIOKINDS - 1,
#define IT_PK_ENUM(name, str) IT_PK_##name,
	TL_POLL_KINDS(IT_PK_ENUM)
#undef IT_PK_ENUM
};

/*
 * How a thread in a poll-class call was last woken (it_thread.poll_wake): by the task
 * current at sched_waking. A pipe's reader is woken by its writer, in the writer's
 * context; an interrupt (a timer, a NIC's softirq) wakes in whatever task it came upon.
 */
enum it_poll_wake {
	IT_PW_NONE = 0,		/* not woken yet in this call */
	IT_PW_OWN,		/* a task of its own process was current */
	IT_PW_OTHER,		/* another process's task was */
};

enum it_rec_type {
	IT_REC_BATCH = 1,	/* struct it_batch */
	IT_REC_THREAD,		/* struct it_thread_rec: a thread or process appeared */
	IT_REC_EXIT,		/* struct it_thread_rec: a thread exited */
	IT_REC_URING,		/* struct it_uring_rec */
	IT_REC_STACK,		/* struct it_stack_rec */
	IT_REC_BLOCK,		/* struct it_block_rec */
	IT_REC_EXEC,		/* struct it_exec_rec: a target process ran a new program */
	IT_REC_USTACK,		/* struct it_ustack_rec: registers + top of a user stack */
	IT_REC_RESYNC,		/* struct it_resync_rec: what a thread's lost batches held */
};

/*
 * A futex call that went off CPU: its start, with the batch holding its first lock_wait
 * entry (the batch's last), so user space knows which lock a wait is on with the wait.
 */
struct it_fx_begin {
	__u64 uaddr;		/* futex word (user address); 0 for futex_waitv */
	__u32 op;		/* futex op (flags included); ~0 for futex_waitv */
	__u32 val;		/* the expected value (glibc's contended mutex waits with 2) */
};

/* ... and its return, with the thread's next batch. */
struct it_fx_end {
	__u64 enter_ts;		/* its first switch-out (the ts of its first lock_wait entry) */
	__u64 exit_ts;
	__u64 lock_ns;		/* the call's lock_wait time (exact, from the state totals) */
	__u64 wake_ts;		/* its wake-up (sched_wakeup) if something woke it, else 0 */
	__u32 waker;		/* the tid that woke it (current at sched_waking), 0 none */
	__s32 ret;		/* return value (-ETIMEDOUT: nobody woke it) */
	__s32 kstack_id;	/* off-CPU stacks at its last switch-out (<0: none) */
	__s32 ustack_id;
	/* the waker's on-CPU time so far (compute + io_cpu) at the wake-up; 0: not a target
	 * thread. With its total at exit (it_thread_rec.oncpu_ns): the work it did after */
	__u64 waker_oncpu;
};

enum it_batch_fx {
	IT_FX_BEGIN = 1,	/* fx_begin valid: the batch's last entry starts that wait */
	IT_FX_END = 2,		/* fx_end valid: a wait that started earlier returned */
};

struct it_batch {
	__u32 type;
	__u32 n;		/* valid entries in e[] */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 seq;		/* per-thread batch sequence: a gap means a lost batch */
	__u32 fx;		/* enum it_batch_fx: what of fx_begin / fx_end is valid */
	/*
	 * Futex waits ride on the batches, which a thread streams at each switch-out anyway:
	 * a record of their own would lengthen every context switch and futex return of a
	 * lock-heavy program. Between two futex waits that block there is always a switch-out,
	 * so a batch carries at most one wait's start and one wait's end.
	 */
	struct it_fx_begin fx_begin;
	struct it_fx_end fx_end;
	/* ts | state << IT_STATE_SHIFT | kind << IT_KIND_SHIFT; the record ends after e[n - 1]
	 * (IT_BATCH_SIZE(n) bytes) */
	__u64 e[IT_BATCH];
};

/* The size of a batch record of n entries. */
#define IT_BATCH_SIZE(n) (__builtin_offsetof(struct it_batch, e) + (n) * sizeof(__u64))

/*
 * Parts of the probes' work that can be switched off before load (rodata features_off),
 * for `make bench` only: its cost rows run iotrace with and without each, on the same
 * workload, to show what each part costs against the overhead budget. Never off in a real
 * trace. IT_FEATURES lists them, X(bit, name) (tests/bench/bench_drv --off NAME,...). Off,
 * fdkind leaves every read's kind unknown, futex records no futex word nor wait end (the
 * sched_waking probe still runs, finding no wait begun), ucopy copies no user stack (the
 * frame-pointer walk only).
 */
enum it_feature {
	IT_FEAT_STEAL = 1u << 0,	/* per-thread steal: the run queue's clocks at each switch and tick */
	IT_FEAT_FDKIND = 1u << 1,	/* what a read reads from (file, pipe, socket) */
	IT_FEAT_FUTEX = 1u << 2,	/* futex addresses and the waits' ends */
	IT_FEAT_UCOPY = 1u << 3,	/* copies of the user stack for CFI unwinding (user space) */
};
#define IT_FEATURES(X)                                                                     \
	X(IT_FEAT_STEAL, "steal")                                                          \
	X(IT_FEAT_FDKIND, "fdkind")                                                        \
	X(IT_FEAT_FUTEX, "futex")                                                          \
	X(IT_FEAT_UCOPY, "ucopy")

enum it_thread_flags {
	IT_TF_PROCESS = 1,	/* new thread group (fork), not a thread (clone) */
	IT_TF_INITIAL = 2,	/* seeded by user space, not seen being created */
	IT_TF_GROUP_DEAD = 4,	/* IT_REC_EXIT only: the process's last thread; status valid */
};

struct it_thread_rec {
	__u32 type;
	__u32 flags;
	__u32 pid;
	__u32 tid;
	__u32 ppid;		/* parent's tgid (IT_REC_THREAD) */
	__u32 ptid;		/* creating thread */
	__u64 ts;
	char comm[IT_COMM_LEN];
	__u32 last_seq;		/* IT_REC_EXIT: batches the thread emitted (its next seq) */
	__u32 status;		/* IT_REC_EXIT with IT_TF_GROUP_DEAD: the process's exit status
				 * as wait(2) reports it (code << 8, or the signal) */
	__u64 child_tid;	/* IT_REC_THREAD: its clear_child_tid (user address), 0 if none:
				 * the futex pthread_join waits on */
	__u64 oncpu_ns;		/* IT_REC_EXIT: its on-CPU time (compute + io_cpu), exact */
};

#define IT_ARGS_LEN 256		/* bytes of a command line kept (power of 2) */

struct it_exec_rec {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 uid, euid;	/* real and effective uid after the exec: they differ for setuid */
	__u32 args_len;		/* bytes of args[] valid (the command line is cut there) */
	__u64 ts;
	char comm[IT_COMM_LEN];
	char args[IT_ARGS_LEN];	/* argv, NUL-separated, as /proc/PID/cmdline */
};

enum it_uring_ev {
	IT_URING_SUBMIT = 1,
	IT_URING_ASYNC,		/* punted to an io-wq worker */
	IT_URING_COMPLETE,
};

struct it_uring_rec {
	__u32 type;
	__u32 ev;		/* enum it_uring_ev */
	__u32 pid;
	__u32 tid;
	__u64 ts;
	__u64 req;		/* opaque request id (kernel pointer value, never dereferenced) */
	__u64 user_data;
	__s32 res;
	__u32 opcode;
	__u32 kind;		/* IT_URING_SUBMIT: enum it_io_kind of the request's file
				 * (NONE: not found; IT_IOK_DIRECT or'ed in as at read entry);
				 * IT_URING_COMPLETE: 1 when the read was
				 * counted in the submitter's it_thread (reads, bytes_read),
				 * 0 when its entry was not found */
	__u32 rkind;		/* IT_URING_COMPLETE: enum it_io_kind of the request's file
				 * (NONE: not known), with IT_IOK_DIRECT; 0 otherwise */
};

struct it_block_rec {
	__u32 type;
	__u32 dev;
	__u32 pid;		/* submitting target's tgid; 0: matched by the target's cgroup */
	__u32 bytes;
	__u64 issue_ts;		/* issue to the driver; with an own cgroup (--throttle), the
				 * target's submission when known: its wait in blk-throttle is
				 * the emulated slow disk's time */
	__u64 complete_ts;
};

enum it_stack_kind {
	IT_STACK_ONCPU = 1,	/* perf cpu-clock sample; value = 1 sample */
	IT_STACK_OFFCPU,	/* value = off-CPU ns, state = state while off */
};

struct it_stack_rec {
	__u32 type;
	__u32 kind;
	__u32 pid;
	__u32 tid;
	__u64 ts;
	__u64 value;
	__u32 state;
	__s32 kstack_id;	/* id in the stacks map, <0 = unavailable (-errno) */
	__s32 ustack_id;	/* the same, or >= IT_UCOPY_ID: a copy (it_ustack_rec), or
				 * IT_UMEMO_ID + a stack user space unwound before (it_umemo) */
	__u32 wkind;		/* off-CPU: what the wait was for, as its state's entries carry
				 * it (enum it_io_kind, it_other_kind); 0 otherwise (lock_wait's
				 * kind is user space's: from the futex wait the stack is in) */
	__u32 ucopy;		/* enum it_ucopy_how: how the user stack was taken */
	__u32 pad_ucopy;
};

/*
 * How a stack record's user stack was taken: what user space reports for the stacks that
 * were not unwound with the CFI (summary.json stacks.*.over_budget, ...).
 */
enum it_ucopy_how {
	IT_UC_OFF = 0,		/* copies off (no stacks, or the kernel lacks the helpers) */
	IT_UC_COPIED,		/* copied: ustack_id is IT_UCOPY_ID + the copy's seq */
	IT_UC_REUSED,		/* unwound before: IT_UMEMO_ID + its id (it_umemo) */
	IT_UC_OVER_BUDGET,	/* off-CPU, over the byte budget: the frame-pointer walk */
	IT_UC_FAILED,		/* the copy failed (unreadable stack, ring buffer full): ditto */
	IT_UC_NO_USER,		/* no user registers (an io_uring worker, a kernel thread) */
};

/*
 * User stacks unwound from the code's CFI in user space (perf --call-graph dwarf's way):
 * the probe copies the user registers and the top IT_USTACK_MAX bytes (at most) of the
 * user stack, from the stack pointer up, into one record, streamed before the stack
 * record that uses it; that record's ustack_id is then IT_UCOPY_ID + the copy's seq
 * (per thread, never 0 mod IT_UCOPY_ID). Registers in DWARF order (x86-64: rax rdx rcx
 * rbx rsi rdi rbp rsp r8-r15 rip).
 */
#define IT_UREGS 17
#define IT_UREG_SP 7
#define IT_UREG_IP 16
#define IT_USTACK_MAX ((32 << 10) - 256)	/* the record stays within a per-CPU value's 32 KiB */
#define IT_UCOPY_ID (1 << 30)
#define IT_UMEMO_ID (1 << 29)	/* .. IT_UCOPY_ID - 1: it_umemo.id, an unwound stack's */

/*
 * A copy whose end is unknown (bpf_find_vma could not say where the stack's mapping
 * ends) is tried long first, then shorter: a bpf_probe_read_user that faults part-way
 * fails whole. A mapping ends on a page boundary, so each shorter try ends on the last
 * page boundary before the failed one's end: the distance from sp to its page's end plus
 * k pages, k descending, which tries the mapping's end itself when it is within reach.
 * (Halving instead ended 2032 bytes above sp a 2192-byte stack: the unwind lost its
 * outermost frames.) IT_UCOPY_STEP is the smallest page size: every mapping ends on a
 * multiple of it.
 */
#define IT_UCOPY_STEP 4096
/* tries at most: the first length (<= IT_USTACK_MAX), then one per page boundary below */
#define IT_UCOPY_TRIES (IT_USTACK_MAX / IT_UCOPY_STEP + 2)

/* The next length to try after a copy of len bytes from sp failed; 0: none is left. */
static inline __attribute__((always_inline)) __u64 it_ucopy_shorter(__u64 sp, __u64 len)
{
	__u64 end = (sp + len - 1) & ~(__u64)(IT_UCOPY_STEP - 1);

	return len && end > sp ? end - sp : 0;
}

/* it_ustack_rec.flags */
#define IT_UCOPY_OFFCPU 1u	/* taken at a switch-out (else an on-CPU sample) */

struct it_ustack_rec {
	__u32 type;
	__u32 size;		/* bytes of stack in data[] */
	__u32 pid;
	__u32 tid;
	__u32 seq;		/* 1 .. IT_UCOPY_ID - 1 */
	__u32 flags;		/* IT_UCOPY_* */
	__u64 regs[IT_UREGS];
	__u8 data[IT_USTACK_MAX];
};

/*
 * An off-CPU stack already unwound, for the switch-outs that would unwind the same
 * (the `ucopy_memo` map, written by user space after unwinding an off-CPU copy whole).
 * The unwinder's frames are a function of the registers it starts from and the stack
 * words it reads, and of those only the return addresses and what points into the stack
 * decide them (user space checks it by unwinding again without the rest): the same pc and
 * stack pointer (the key), and the same values of those registers and words, give the
 * same frames. The probe checks those few words instead of copying kilobytes: a thread
 * blocked at one place again and again (a pool thread's condition variable, an event
 * loop's epoll_wait) is copied once.
 */
#define IT_UMEMO_WORDS 48

struct it_umemo_key {
	__u32 tid;
	__u32 pad;
	__u64 ip, sp;
};

struct it_umemo {
	__u64 regs[IT_UREGS];	/* DWARF order, as it_ustack_rec's */
	__u32 regmask;		/* the ones to check: 1 << DWARF number */
	__u32 id;		/* the stack's: reported as IT_UMEMO_ID + id */
	__u32 n;		/* words in off[], val[] */
	__u16 off[IT_UMEMO_WORDS];	/* byte offsets from sp */
	__u64 val[IT_UMEMO_WORDS];
};

/*
 * A socket a target process waited on, the `sock_waits` map's key: the process and the
 * socket's ends as the kernel holds them. Inet: addresses (IPv4 in the first 4 bytes) and
 * ports in host order; unix: peer_pid, the process that made the other end (SO_PEERCRED's:
 * the listener for a client's socket). Several threads waiting on one socket share it.
 */
struct it_sock_key {
	__u32 pid;		/* tgid of the process that waited */
	__u32 peer_pid;		/* AF_UNIX: the other end's process, 0 unknown */
	__u16 family;		/* AF_INET, AF_INET6, AF_UNIX */
	__u16 proto;		/* IPPROTO_TCP, IPPROTO_UDP; 0 for unix */
	__u16 sport, dport;
	__u8 saddr[16], daddr[16];
};

/*
 * ... and how long: off CPU in a receive or read on it, from the switch-out to the wake-up
 * (io_wait's edges); off CPU in poll, epoll or select when the thread's next read was on
 * it (poll_wait's).
 */
struct it_sock_wait {
	__u64 recv_ns, recvs;	/* time and switch-outs */
	__u64 poll_ns, polls;
};

/* A thread's entry: `tstore` (task storage) or the `threads` hash map (key: tid). Exact
 * totals, kept in the kernel. */
struct it_thread {
	__u64 since;		/* ts of the last transition */
	__u64 switch_out_ts;
	__u64 wake_ts;		/* written by the waker's CPU */
	__u64 start_ts;
	__u64 ns[IT_NSTATES];
	__u64 reads;		/* completed read-family syscalls (incl. socket receives);
				 * io_uring's apart: uring_reads */
	__u64 bytes_read;
	__u64 ctx_switches;	/* voluntary + involuntary switch-outs */
	__u32 pid;
	__u32 state;		/* enum it_state */
	__u32 sys;		/* enum it_sys */
	__u32 on_cpu;
	__u32 seq;
	__u32 n;		/* pending entries in e[] */
	__u32 exited;
	__u32 busy;		/* inside transition(): the tick's age flush keeps out */
	__u32 io_kind;		/* enum it_io_kind of the read-family call the thread is in
				 * (| IT_IOK_DIRECT: a file opened O_DIRECT) */
	__u32 uring_kind;	/* the same of its last io_uring submission */
	__u32 gen;		/* task storage only: the run that made the entry (run_gen) */
	__u32 pad_gen;
	/* the next batch record, built here: out.e[0..n) are the transitions not yet streamed */
	struct it_batch out;
	/* off-CPU stack taken at switch-out, reported at switch-in (stacks enabled) */
	__s32 kstack;
	__s32 ustack;
	__u32 off_state;	/* state entered at the last switch-out (IT_COMPUTE: none yet) */
	__u32 flags;		/* enum it_thread_flags */
	__u32 ucopy;		/* enum it_ucopy_how of ustack */
	__u32 pad_ucopy;
	/*
	 * Steal: the part of the thread's time on CPU that its run queue's clock_task left
	 * out of rq->clock (what the hypervisor took from the vCPU: PARAVIRT_TIME_ACCOUNTING;
	 * with IRQ_TIME_ACCOUNTING, interrupts too), i.e. what rusage and schedstat do not
	 * count as its run time. Read at each switch and scheduler tick of the thread, on the
	 * CPU it runs on.
	 */
	__u64 ckpt_unrun;	/* rq->clock - rq->clock_task of ckpt_rq at the last reading */
	__u64 ckpt_rq;		/* that run queue (an id: a kernel pointer value) */
	__u64 ckpt_on;		/* on CPU since that reading */
	__u64 stolen_ns;
	/* the futex call the thread is in (sys == IT_SYS_LOCK): see it_batch.fx */
	struct it_fx_begin fx;
	__u64 fx_lock0;		/* ns[IT_LOCK_WAIT] at entry */
	__u64 fx_enter_ts;	/* its first switch-out */
	__u32 fx_waker;		/* written by the waker's CPU (sched_waking) */
	__u64 fx_waker_oncpu;	/* ... with the waker's on-CPU time then (it_fx_end) */
	__u32 fx_begun;		/* it went off CPU */
	__u32 fx_pending;	/* enum it_batch_fx: what the next flushed batch carries */
	struct it_fx_end fx_end; /* the last wait that returned */
	/*
	 * Resync after a loss: ns[] as it stood at the last batch the ring took (closed up to
	 * ok_since, that batch's last transition), so the states of the time the lost batches
	 * covered are known exactly, though not their order (it_resync_rec).
	 */
	__u64 ns_ok[IT_NSTATES];
	__u64 ok_since;
	__u32 lost;		/* a batch was lost since the last one the ring took */
	__u32 pad_resync;
	/* the socket of the read it is in (sock.pid 0: none), and the poll waits since its
	 * last read, the next read's if that is on a socket (it_sock_wait) */
	struct it_sock_key sock;
	__u64 poll_pend_ns, poll_pend_n;
	/*
	 * io_uring reads completed for requests it submitted, wherever the completion ran
	 * (an io-wq worker, softirq, its own task work), added atomically there. Apart from
	 * reads and bytes_read, which only its own syscall exits write (no atomic on the read
	 * path), so that neither loses a count to the other: user space adds the two
	 * (it_thread_reads, it_thread_bytes_read).
	 */
	__u64 uring_reads, uring_bytes_read;
	__u32 poll_wake;	/* enum it_poll_wake: the poll-class call it is in (sched_waking) */
	__u32 pad_poll;
	/*
	 * bytes_read and uring_bytes_read by what was read (enum it_io_kind; NONE: not known),
	 * each summing to its total: one add at the read's exit, indexed by the kind its entry
	 * found (io_kind), masked so the verifier sees it bounded (it_thread_bytes_by_kind).
	 * IT_IOK_FILE | IT_IOK_DIRECT's slot holds the file bytes read O_DIRECT.
	 */
	__u64 bytes_read_kind[IT_READ_KIND_SLOTS];
	__u64 uring_bytes_read_kind[IT_READ_KIND_SLOTS];
	/* its last io_uring submission is a read (iot_uring_submit): what a page-cache
	 * insertion inside its io_uring_enter is for (the request runs there once submitted) */
	__u32 uring_issue_read;
	__u32 pad_issue;
};

/* A thread's reads and bytes: its syscalls' and its io_uring requests' (it_thread). */
static inline __u64 it_thread_reads(const struct it_thread *t)
{
	return t->reads + t->uring_reads;
}

static inline __u64 it_thread_bytes_read(const struct it_thread *t)
{
	return t->bytes_read + t->uring_bytes_read;
}

/* ... of them, those of slot k (enum it_io_kind, | IT_IOK_DIRECT: a file read O_DIRECT):
 * they sum to it_thread_bytes_read. */
static inline __u64 it_thread_bytes_by_kind(const struct it_thread *t, unsigned k)
{
	return k < IT_READ_KIND_SLOTS ? t->bytes_read_kind[k] + t->uring_bytes_read_kind[k] : 0;
}

/*
 * Sent just before the first batch the ring takes after a thread lost some: the per-state
 * time from the last delivered batch's last transition (from) up to this batch's last
 * transition, or the exit (to): ns[] less ns_ok[]. User space takes the batch's own
 * transitions out of it, and what is left is what the lost ones held.
 */
struct it_resync_rec {
	__u32 type;
	__u32 tid;
	__u32 seq;		/* of the batch it comes before */
	__u32 pad;
	__u64 from, to;
	__u64 ns[IT_NSTATES];
};

/* Indexes of the per-CPU `counters` array. */
enum it_counter {
	IT_CNT_LOST_BATCHES = 0,	/* ring buffer full */
	IT_CNT_LOST_RECORDS,		/* other records dropped for a full ring buffer */
	IT_CNT_THREADS_FULL,		/* a target thread not tracked: threads map full */
	IT_CNT_PCACHE_BYTES,		/* page-cache insertions on the target's behalf */
	IT_CNT_PCACHE_FOLIOS,
	IT_CNT_BLOCK_BYTES,		/* block-layer read bytes issued by the target */
	IT_CNT_BLOCK_REQS,
	IT_CNT_STACK_ERRORS,		/* stack capture failed (collision / truncation) */
	IT_CNT_URING_SUBMIT,
	IT_CNT_URING_COMPLETE,
	IT_CNT_URING_ASYNC,
	IT_CNT_INFLIGHT_FULL,		/* block / io_uring request not tracked: map full */
	IT_CNT_BATCHES,			/* batches streamed (lost ones included) */
	IT_CNT_SWITCHIN_INFERRED,	/* switch-in not traced, dated by sched_stat_runtime */
	IT_CNT_SWITCHIN_UNSEEN,		/* switch-out of a thread not known to be running */
	/* io_uring completions by where they ran (see iot_uring_complete) */
	IT_CNT_URING_AT_SUBMIT,		/* within the submitting call */
	IT_CNT_URING_TASK_WORK,		/* later, by task work in the submitter */
	IT_CNT_URING_IO_WQ,		/* after a punt to an io-wq worker */
	IT_CNT_UCOPY_BYTES,		/* user stack bytes copied (it_ustack_rec) */
	IT_CNT_UCOPIES,			/* user stacks copied */
	IT_CNT_UCOPY_SKIPPED,		/* off-CPU copies left out: over the byte budget */
	IT_CNT_UCOPY_FAILED,		/* copy failed (stack unreadable, ring buffer full) */
	IT_CNT_UMEMO_HITS,		/* off-CPU stacks found unwound before (it_umemo) */
	IT_CNT_SOCKS_FULL,		/* a socket wait not counted: sock_waits map full */
	/*
	 * Of IT_CNT_PCACHE_BYTES, by what the inserting thread was doing (iot_pcache_add): in a
	 * read-family call, or an io_uring read being issued or run by a worker (the reads'
	 * misses and their readahead); outside any syscall (a page fault: binaries and
	 * libraries paged in, files read through mmap). The rest: other syscalls (writes,
	 * execve, fadvise) and io_uring writes.
	 */
	IT_CNT_PCACHE_READ_BYTES,
	IT_CNT_PCACHE_FAULT_BYTES,
	IT_CNT_MAX,
};

#endif /* IOTRACE_BPF_H */
