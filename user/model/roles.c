/* roles.c - what a traced program's thread is for, from its name, its stacks and its waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles.h"

/* Does the folded stack have a frame that contains needle? */
static bool has_frame(const char *frames, const char *needle)
{
	return strstr(frames, needle) != NULL;
}

/*
 * The thread's start routine: the frame after glibc's start_thread (stacks are outermost
 * first), into buf; "" when the unwinding did not reach it.
 */
static void start_routine(const char *frames, char *buf, size_t len)
{
	const char *p = strstr(frames, "start_thread;");
	size_t n;

	buf[0] = '\0';
	if (!p || (p != frames && p[-1] != ';'))
		return;
	p += strlen("start_thread;");
	n = strcspn(p, ";");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

unsigned rl_frame_hints(const char *frames)
{
	char start[256];
	unsigned h = 0;

	if (!frames)
		return 0;
	start_routine(frames, start, sizeof(start));
	/* the loop runs anywhere (node's main, a worker's, the platform's scheduler) */
	if (has_frame(frames, "uv__io_poll") || has_frame(frames, "uv_run"))
		h |= RL_H_LOOP;
	/* the pool's thread function (threadpool.c's worker) and the file work it runs; not
	 * uv__work_done, the completions, which the loop thread runs */
	if (!strcmp(start, "worker") || has_frame(frames, "uv__fs_work"))
		h |= RL_H_UVPOOL;
	/* node's platform threads by their start routine only: the main thread calls into
	 * WorkerThreadsTaskRunner too, to post tasks (names may be mangled: substrings) */
	if (strstr(start, "PlatformWorkerThread") || strstr(start, "DelayedTaskScheduler") ||
	    strstr(start, "DefaultWorkerThreadsTaskRunner"))
		h |= RL_H_V8;
	if (has_frame(frames, "Py_RunMain") || has_frame(frames, "pymain_run") ||
	    has_frame(frames, "Py_BytesMain"))
		h |= RL_H_PYMAIN;
	if (!strcmp(start, "thread_run") || !strcmp(start, "pythread_wrapper"))
		h |= RL_H_PYTHREAD;
	return h;
}

static bool prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* 1. what the thread's name says, or NULL */
static const char *by_name(const char *comm)
{
	if (prefix(comm, "iou-wrk-"))
		return "io-wq worker";
	if (prefix(comm, "iou-sqp-"))
		return "sq poll";
	if (prefix(comm, "libuv-worker"))
		return "uv pool";
	if (prefix(comm, "V8 DefaultWork") || prefix(comm, "V8 Worker"))
		return "V8 platform";
	return NULL;
}

/* 2. what its stacks say, or NULL */
static const char *by_hints(unsigned h)
{
	/* node's delayed-task scheduler runs a loop of its own: the platform's first */
	if (h & RL_H_V8)
		return "V8 platform";
	if (h & RL_H_LOOP)
		return "event loop";
	if (h & RL_H_UVPOOL)
		return "uv pool";
	if (h & RL_H_PYTHREAD)
		return "python thread";
	if (h & RL_H_PYMAIN)
		return "python main";
	return NULL;
}

static bool is_python(const char *comm)
{
	return prefix(comm, "python");
}

static bool is_node(const char *comm)
{
	return !strcmp(comm, "node") || !strcmp(comm, "nodejs");
}

/* Roles worth a number: one process has several of them. */
static bool numbered(const char *role)
{
	return !strcmp(role, "uv pool") || !strcmp(role, "V8 platform") ||
	       !strcmp(role, "I/O pool") || !strcmp(role, "python thread");
}

static int by_tid(const void *a, const void *b)
{
	const struct rl_thread *x = *(struct rl_thread *const *)a, *y = *(struct rl_thread *const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* One process's threads, sorted by tid. */
static void assign_process(struct rl_thread **t, size_t n)
{
	const char *pcomm = "";
	struct rl_thread *loop = NULL;
	bool node = false, hinted_loop = false;

	for (size_t i = 0; i < n; i++) {
		if (t[i]->tid == t[i]->pid && t[i]->comm)
			pcomm = t[i]->comm;
		if (t[i]->hints & (RL_H_UVPOOL | RL_H_V8))
			node = true;
		hinted_loop |= (t[i]->hints & RL_H_LOOP) != 0;
	}
	if (!pcomm[0] && n && t[0]->proc_comm)
		pcomm = t[0]->proc_comm;
	node |= is_node(pcomm);
	/*
	 * The event loop (unless the stacks named it): the main thread if it polled at all, as
	 * node's, CPython asyncio's and most loops' do; else the thread that polled longest,
	 * but not in CPython, whose helper threads poll without running a loop (a Pool's
	 * worker handler waits on its workers' sentinels: it read "event loop", and its result
	 * handler, which reads their pipe, "I/O pool").
	 */
	for (size_t i = 0; i < n && !hinted_loop; i++)
		if (t[i]->tid == t[i]->pid && t[i]->states_ns[TL_POLL_WAIT])
			loop = t[i];
	for (size_t i = 0; i < n && !hinted_loop && !loop && !is_python(pcomm); i++)
		if (t[i]->states_ns[TL_POLL_WAIT] &&
		    (!loop || t[i]->states_ns[TL_POLL_WAIT] > loop->states_ns[TL_POLL_WAIT]))
			loop = t[i];
	for (size_t i = 0; i < n; i++) {
		struct rl_thread *x = t[i];
		const char *comm = x->comm ? x->comm : "";
		const char *r = by_name(comm);
		bool main = x->tid == x->pid;

		if (!r)
			r = by_hints(x->hints);
		/* node runs its JavaScript on the main thread's loop, blocked in it or not */
		if (!r && (x == loop || (main && node && !hinted_loop)))
			r = "event loop";
		if (!r && !main && (loop || hinted_loop || node) && x->reads &&
		    !x->states_ns[TL_POLL_WAIT])
			r = node ? "uv pool" : "I/O pool";
		/* node's platform: V8's workers (futex waits), and its delayed-task scheduler,
		 * which runs a libuv loop of its own (polls, reads only its eventfd) */
		if (!r && !main && node && (!x->reads || x->states_ns[TL_POLL_WAIT]))
			r = "V8 platform";
		if (!r && is_python(pcomm))
			r = main ? "python main" : "python thread";
		if (!r)
			r = main ? "main" : comm;
		snprintf(x->role, sizeof(x->role), "%s", r);
	}
	/* number the pools and workers, in tid order */
	for (size_t i = 0; i < n; i++) {
		unsigned k = 0;
		char base[32];

		if (!numbered(t[i]->role)) /* also once numbered: "uv pool 1" */
			continue;
		snprintf(base, sizeof(base), "%s", t[i]->role);
		for (size_t j = i; j < n; j++)
			if (!strcmp(t[j]->role, base))
				snprintf(t[j]->role, sizeof(t[j]->role), "%.20s %u", base, ++k);
	}
}

void rl_assign(struct rl_thread *t, size_t n)
{
	struct rl_thread **v;
	size_t i, j;

	if (!n)
		return;
	v = malloc(n * sizeof(*v));
	if (!v) {
		/* no memory for the grouping: every thread by its name and alone */
		for (i = 0; i < n; i++) {
			struct rl_thread *x = &t[i];

			assign_process(&x, 1);
		}
		return;
	}
	for (i = 0; i < n; i++)
		v[i] = &t[i];
	qsort(v, n, sizeof(*v), by_tid);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j]->pid == v[i]->pid; j++)
			;
		assign_process(v + i, j - i);
	}
	free(v);
}
