/* roles.h - what a traced program's thread is for, from its name, its stacks and its waits. */
#ifndef IOTRACE_ROLES_H
#define IOTRACE_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

/*
 * A thread of a program iotrace did not write is named by the program, often not at all
 * (every thread of node is "node"). Its role is read, in this order, from:
 *   1. its name, where the name says: io_uring's workers (iou-wrk-*, iou-sqp-*), libuv's
 *      pool (libuv-worker, named by libuv >= 1.45), V8's workers (V8 DefaultWorke...);
 *   2. its stacks (on- and off-CPU, when captured): its start routine, the frame after
 *      glibc's start_thread (libuv's pool: worker; node's platform: PlatformWorkerThread,
 *      the DelayedTaskScheduler; CPython's threads: thread_run), or the functions it runs
 *      (libuv's loop: uv_run, uv__io_poll; the pool's uv__fs_work; CPython's main:
 *      Py_RunMain, pymain_run_*);
 *   3. what it waited on: a process's event loop is its main thread if that polled
 *      (poll_wait: epoll_wait, poll, select), else (not in CPython, whose helper threads
 *      poll without a loop: a Pool's) the thread that polled longest; in a
 *      process with an event loop (node's main thread always runs one, even when it never
 *      had to wait), another thread that made reads and never polled is its
 *      I/O pool ("uv pool" in node); in a node process, the other threads, which neither
 *      read files nor are the loop, are its platform: V8's workers (GC, compiling: futex
 *      waits) and the delayed-task scheduler (a libuv loop of its own, polling);
 *   4. otherwise: "main" for a process's first thread (python main in a CPython process),
 *      "python thread" for the others of CPython, else the thread's name.
 * Pools and workers are numbered per process in thread-id order ("uv pool 2").
 */

/* What a thread's stack frames say (rl_frame_hints), a bit set. */
enum rl_hint {
	RL_H_LOOP = 1 << 0,	/* libuv's loop: uv_run, uv__io_poll */
	RL_H_UVPOOL = 1 << 1,	/* libuv's thread pool: started in worker, runs uv__fs_work */
	RL_H_V8 = 1 << 2,	/* node's platform: started in PlatformWorkerThread, ... */
	RL_H_PYMAIN = 1 << 3,	/* CPython's main: Py_RunMain, pymain_run_* */
	RL_H_PYTHREAD = 1 << 4,	/* a thread CPython started: thread_run */
};

/* The hints found in one folded stack ("a;b;c", outermost first). */
unsigned rl_frame_hints(const char *frames);

/* One thread as rl_assign sees it. */
struct rl_thread {
	uint32_t pid, tid;
	const char *comm;	/* the thread's name */
	const char *proc_comm;	/* its process's program name ("" unknown) */
	uint64_t states_ns[TL_NSTATES];
	uint64_t reads;
	unsigned hints;		/* rl_frame_hints of its stacks, or-ed */
	char role[32];		/* out */
};

/* Set every thread's role (threads of any processes, in any order). */
void rl_assign(struct rl_thread *t, size_t n);

#endif /* IOTRACE_ROLES_H */
