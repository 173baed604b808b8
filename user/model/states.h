/* states.h - the one list of a thread's states in the time model, shared with the probes. */
#ifndef IOTRACE_STATES_H
#define IOTRACE_STATES_H

/*
 * X(NAME, "name") per state, in value order. The model builds enum tl_state (TL_NAME) and
 * the state names from it; the probes' bpf/iotrace.h builds enum it_state (IT_NAME), the
 * values they record: the two are equal by construction, and user/trace asserts it where
 * it casts one into the other. Macros only, no types, no includes: the BPF side includes
 * this file next to vmlinux.h. The names are summary.json's keys (a contract: add, never
 * rename) and the labels every report prints.
 */
#define TL_STATES(X)                                                                       \
	X(COMPUTE, "compute")		/* on CPU, outside the calls below */              \
	X(IO_CPU, "io_cpu")		/* on CPU in a read, receive or io_uring_enter */  \
	X(IO_WAIT, "io_wait")		/* off CPU in one of those calls */                \
	X(LOCK_WAIT, "lock_wait")	/* off CPU in futex */                             \
	X(POLL_WAIT, "poll_wait")	/* off CPU in epoll, poll or select */             \
	X(OTHER_WAIT, "other_wait")	/* off CPU, any other sleep */                     \
	X(RUNNABLE, "runnable")		/* woken or preempted, waiting for a CPU */

#endif /* IOTRACE_STATES_H */
