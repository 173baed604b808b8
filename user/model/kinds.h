/* kinds.h - the one list of what a read or a futex wait was for, shared with the probes. */
#ifndef IOTRACE_KINDS_H
#define IOTRACE_KINDS_H

/*
 * Three states are split by what the thread waited for. X(NAME, "name") per kind, in value
 * order; value 0 is "not known" (a thread seeded inside the call, a record lost), which
 * reports count with "other". Macros only (the probes include this file next to
 * vmlinux.h). The names are summary.json's keys (a contract: add, never rename).
 *
 * io_cpu and io_wait, by the type of the file behind the fd at the read's entry (io_uring:
 * the request's file at submission): the probes tell these apart themselves.
 */
#define TL_IO_KINDS(X)                                                                     \
	X(FILE, "file")		/* regular file or block device: storage */                \
	X(PIPE, "pipe")		/* pipe or FIFO: waiting on another process */             \
	X(SOCKET, "socket")	/* network or local socket */                              \
	X(OTHER, "other")	/* tty, eventfd, character devices, anything else */

/*
 * lock_wait, by what the futex was (user space decides, from the address and the call:
 * user/model/waits.c).
 */
#define TL_LOCK_KINDS(X)                                                                   \
	X(MUTEX, "mutex")	/* contention: a mutex's slow path, or a PI futex */       \
	X(GIL, "gil")		/* CPython's global interpreter lock */                    \
	X(JOIN, "join")		/* waiting for a thread to exit */                         \
	X(CONDVAR, "condvar")	/* waiting to be signalled: idle pools, queues */          \
	X(OTHER, "other")	/* anything else */

/*
 * other_wait, by the syscall the thread slept in (the probes tell it): waiting for a child
 * process to change state (wait4, waitid; waitpid goes through them) is waiting on a peer,
 * whose own work is elsewhere (traced when the run follows children).
 */
#define TL_OTHER_KINDS(X)                                                                  \
	X(CHILD, "child")	/* wait4, waitid: a parent waiting for its children */

/*
 * poll_wait, by what ended it: the io kind of the read that came next when that read a pipe
 * or a socket (TL_IOK_PIPE, TL_IOK_SOCKET: what it polled for, a peer's data), unless the
 * probes measured that no peer ended it: then one of these (values after the io kinds, so
 * both fit one span's kind). A poll that returned 0 waited for its timeout (a timer, not
 * data); one that a thread of its own process woke, in process context (writing to a pipe
 * or an eventfd the process polls itself: fio's helper thread), was signalled from within,
 * as a condvar is. Neither is a peer.
 */
#define TL_POLL_KINDS(X)                                                                   \
	X(TIMEOUT, "timeout")	/* the call returned 0: its timeout ended it */           \
	X(OWN_PROCESS, "own_process") /* a thread of its own process woke it */

#endif /* IOTRACE_KINDS_H */
