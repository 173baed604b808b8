/* tracer_drv.c - runs a command under the tracer alone and prints kernel totals, timeline and rusage as JSON. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace/tracer.h"

/*
 * The tracer's own test harness (no session, no analysis): proves the probes against
 * independent sources. Usage:
 *   tracer_drv [--stacks] [--follow] [--hz N] [--ringbuf-mb N] [--no-trace] [--out FILE] -- CMD...
 * The command starts only once tracing has begun (it waits on a pipe), like `iotrace trace`.
 * --no-trace runs the same launch without loading anything: the baseline for overhead.
 * JSON goes to FILE (default stderr); the command's stdout/stderr pass through.
 */

#define MAXT 4096

struct drv {
	struct tr_thread_totals th[MAXT];
	size_t nth;
	uint64_t oncpu_samples, oncpu_nokern, oncpu_nouser;
	uint64_t offcpu_ns[TL_NSTATES], offcpu_recs;
	unsigned maxdepth;
};

static struct drv D;

static void on_thread(void *ctx, const struct tr_thread_totals *t)
{
	(void)ctx;
	if (D.nth < MAXT)
		D.th[D.nth++] = *t;
}

static void on_stack(void *ctx, const struct tr_stack *s)
{
	(void)ctx;
	if (s->kind == IT_STACK_ONCPU) {
		D.oncpu_samples += s->value;
		if (s->nkern <= 0)
			D.oncpu_nokern++;
		if (s->nuser <= 0)
			D.oncpu_nouser++;
	} else {
		if (s->state < TL_NSTATES)
			D.offcpu_ns[s->state] += s->value;
		D.offcpu_recs++;
	}
	if (s->nkern > 0 && (unsigned)s->nkern > D.maxdepth)
		D.maxdepth = (unsigned)s->nkern;
}

/* KiB of BPF maps mapped into this process (/proc/self/maps): the ring buffer's data, bss */
static unsigned long bpf_mapped_kb(void)
{
	char line[512];
	unsigned long a, b, kb = 0;
	FILE *m = fopen("/proc/self/maps", "r");

	while (m && fgets(line, sizeof(line), m))
		if (strstr(line, "anon_inode:bpf-map") && sscanf(line, "%lx-%lx", &a, &b) == 2)
			kb += (b - a) >> 10;
	if (m)
		fclose(m);
	return kb;
}

static void json_states(FILE *f, const uint64_t *ns)
{
	fputc('[', f);
	for (int i = 0; i < TL_NSTATES; i++)
		fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)ns[i]);
	fputc(']', f);
}

int main(int argc, char **argv)
{
	struct tr_opts o = {0};
	struct tr *t = NULL;
	struct tl_timeline *tl = NULL;
	struct an_counters c = {0};
	struct tr_stats st = {0};
	struct rusage ru;
	char err[256] = "";
	const char *out = NULL;
	bool trace = true;
	uint64_t t0, t_end, last_ts = 0, t_go;
	unsigned long mapped_run_kb = 0, mapped_stop_kb = 0;
	int go[2], status = 0, ret, opt;
	pid_t pid;
	FILE *f = stderr;
	static const struct option lo[] = {
		{"stacks", no_argument, NULL, 's'}, {"follow", no_argument, NULL, 'f'},
		{"hz", required_argument, NULL, 'z'}, {"ringbuf-mb", required_argument, NULL, 'r'},
		{"no-trace", no_argument, NULL, 'n'}, {"out", required_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'}, {NULL, 0, NULL, 0},
	};

	while ((opt = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (opt) {
		case 's': o.stacks = true; break;
		case 'f': o.follow = true; break;
		case 'z': o.sample_hz = (unsigned)atoi(optarg); break;
		case 'r': o.ringbuf_mb = (unsigned)atoi(optarg); break;
		case 'n': trace = false; break;
		case 'o': out = optarg; break;
		case 'v': o.verbose = true; break;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: tracer_drv [options] -- CMD...\n");
		return 2;
	}
	o.on_thread = on_thread;
	o.on_stack = on_stack;
	if (trace) {
		ret = tr_open(&o, &t, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "tracer_drv: %s\n", err);
			return 1;
		}
		tl = tl_new();
		if (!tl)
			return 1;
	}
	if (pipe(go))
		return 1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		close(go[0]);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(go[0]);
	if (trace) {
		ret = tr_start(t, pid, tl);
		if (ret < 0) {
			fprintf(stderr, "tracer_drv: failed to start tracing: %s\n", strerror(-ret));
			kill(pid, SIGKILL);
			return 1;
		}
	}
	t0 = tr_now();
	t_go = tr_now();
	if (write(go[1], "g", 1) != 1)
		return 1;
	close(go[1]);
	if (trace) {
		siginfo_t si;

		for (;;) {
			ret = tr_poll(t, 10);
			if (ret < 0 && ret != -EINTR) {
				fprintf(stderr, "tracer_drv: poll: %s\n", strerror(-ret));
				break;
			}
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
				break;
		}
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return 1;
	t_end = tr_now();
	if (trace) {
		mapped_run_kb = bpf_mapped_kb();
		ret = tr_stop(t, &c, &last_ts);
		mapped_stop_kb = bpf_mapped_kb();
		if (ret < 0)
			fprintf(stderr, "tracer_drv: stop: %s\n", strerror(-ret));
		tr_last_stats(t, &st);
		if (last_ts > t0 && last_ts < t_end)
			t_end = last_ts;
		ret = tl_finish(tl, t0, t_end);
		if (ret < 0)
			fprintf(stderr, "tracer_drv: tl_finish: %s\n", strerror(-ret));
	}
	if (out) {
		f = fopen(out, "w");
		if (!f)
			return 1;
	}
	fprintf(f, "{\"status\": %d, \"wall_ns\": %llu, \"pid\": %d,\n", status,
		(unsigned long long)(t_end - t_go), (int)pid);
	fprintf(f, " \"bpf_mapped_kb\": [%lu, %lu],\n", mapped_run_kb, mapped_stop_kb);
	fprintf(f, " \"rusage_ns\": %llu,\n",
		(unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
			(unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull);
	fprintf(f, " \"window\": [%llu, %llu],\n", (unsigned long long)t0,
		(unsigned long long)t_end);
	fprintf(f, " \"kernel\": [");
	for (size_t i = 0; i < D.nth; i++) {
		const struct tr_thread_totals *k = &D.th[i];

		fprintf(f, "%s\n  {\"pid\": %u, \"tid\": %u, \"comm\": \"%s\", \"exited\": %d, "
			   "\"start\": %llu, \"end\": %llu, \"reads\": %llu, \"bytes\": %llu, "
			   "\"ctxsw\": %llu, \"stolen\": %llu, \"states\": ",
			i ? "," : "", k->pid, k->tid, k->comm, k->exited,
			(unsigned long long)k->start_ts, (unsigned long long)k->end_ts,
			(unsigned long long)k->reads, (unsigned long long)k->bytes_read,
			(unsigned long long)k->ctx_switches, (unsigned long long)k->stolen_ns);
		json_states(f, k->state_ns);
		fputc('}', f);
	}
	fprintf(f, "],\n \"timeline\": [");
	for (size_t i = 0; tl && i < tl->nthreads; i++) {
		const struct tl_thread *th = &tl->threads[i];

		fprintf(f, "%s\n  {\"pid\": %u, \"tid\": %u, \"comm\": \"%s\", \"start\": %llu, "
			   "\"end\": %llu, \"nspans\": %zu, \"gap_ns\": %llu, \"reads\": %llu, "
			   "\"bytes\": %llu, \"states\": ",
			i ? "," : "", th->pid, th->tid, th->comm, (unsigned long long)th->start,
			(unsigned long long)th->end, th->nspans, (unsigned long long)th->gap_ns,
			(unsigned long long)th->reads, (unsigned long long)th->bytes_read);
		json_states(f, th->state_ns);
		/* the longest span of each state (one wait, told apart from the rest), and how
		 * many spans each state has (a runnable one before each switch-in) */
		{
			uint64_t longest[TL_NSTATES] = {0}, count[TL_NSTATES] = {0};

			for (size_t s = 0; s < th->nspans; s++) {
				const struct tl_span *sp = &th->spans[s];

				if (sp->end - sp->start > longest[sp->state])
					longest[sp->state] = sp->end - sp->start;
				count[sp->state]++;
			}
			fprintf(f, ", \"longest\": ");
			json_states(f, longest);
			fprintf(f, ", \"count\": ");
			json_states(f, count);
		}
		fputc('}', f);
	}
	{
		struct tl_interval *iv = NULL;
		long n = tl && tl->finished ? tl_union_states(tl, TL_MASK_IO, &iv) : 0;

		fprintf(f, "],\n \"io_requests\": %zu, \"io_union_ns\": %llu",
			tl ? tl->nio : 0,
			(unsigned long long)(n > 0 ? tl_iv_length(iv, (size_t)n) : 0));
		free(iv);
	}
	fprintf(f, ",\n \"counters\": {\"reads\": %llu, \"bytes_read\": %llu, "
		   "\"pcache_bytes\": %llu, \"pcache_ok\": %d, \"block_bytes\": %llu, "
		   "\"block_reqs\": %llu, \"block_busy_ns\": %llu, \"block_ok\": %d, "
		   "\"uring_submitted\": %llu, \"uring_completed\": %llu, \"uring_punted\": %llu, "
		   "\"uring_ok\": %d, \"lost_events\": %llu, \"lost_ns\": %llu, \"ctxsw\": %llu},\n",
		(unsigned long long)c.reads, (unsigned long long)c.bytes_read,
		(unsigned long long)c.pcache_insert_bytes, c.pcache_ok,
		(unsigned long long)c.block_bytes, (unsigned long long)c.block_reqs,
		(unsigned long long)c.block_busy_ns, c.block_ok,
		(unsigned long long)c.uring_submitted, (unsigned long long)c.uring_completed,
		(unsigned long long)c.uring_punted, c.uring_ok, (unsigned long long)c.lost_events,
		(unsigned long long)c.lost_ns, (unsigned long long)c.ctx_switches);
	fprintf(f, " \"stats\": {\"batches\": %llu, \"lost_batches\": %llu, \"lost_records\": %llu, "
		   "\"threads_full\": %llu, \"stack_errors\": %llu, \"ringbuf_mb\": %u, "
		   "\"oncpu_ok\": %d, \"pcache_folios\": %llu, \"switchin_inferred\": %llu, "
		   "\"switchin_unseen\": %llu},\n",
		(unsigned long long)st.batches, (unsigned long long)st.lost_batches,
		(unsigned long long)st.lost_records, (unsigned long long)st.threads_full,
		(unsigned long long)st.stack_errors, st.ringbuf_mb, st.oncpu_ok,
		(unsigned long long)st.pcache_folios, (unsigned long long)st.switchin_inferred,
		(unsigned long long)st.switchin_unseen);
	fprintf(f, " \"stacks\": {\"oncpu_samples\": %llu, \"oncpu_nokern\": %llu, "
		   "\"oncpu_nouser\": %llu, \"offcpu_recs\": %llu, \"maxdepth\": %u, \"offcpu_ns\": ",
		(unsigned long long)D.oncpu_samples, (unsigned long long)D.oncpu_nokern,
		(unsigned long long)D.oncpu_nouser, (unsigned long long)D.offcpu_recs, D.maxdepth);
	json_states(f, D.offcpu_ns);
	fprintf(f, "}}\n");
	if (out)
		fclose(f);
	tl_free(tl);
	tr_close(t);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
