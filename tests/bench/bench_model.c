/* bench_model.c - model speed: feed, tl_finish and an_run_compute, in events/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "model/analysis.h"
#include "model/timeline.h"

/*
 * usage: bench_model [MILLIONS [THREADS]]   (default 10 million transitions, 8 threads)
 *
 * Each thread loops compute -> read (io_cpu -> io_wait -> io_cpu) -> compute, preempted
 * now and then, and every 16th read also leaves an io_uring-style request in flight. The
 * events arrive the way the tracer delivers them: per-thread batches of 30, batches of
 * different threads interleaved, and every 7th batch held back behind the next one (the
 * reordering tl_finish has to undo). The timeline is folded as the session folds it
 * (tl_cut), so this is the path a long trace takes. No timing is asserted: this only prints.
 */

#define BATCH 30
#define FOLD (1u << 18)			/* as user/session.c */
#define LAG (250ULL * 1000 * 1000)	/* as TR_EVENT_DELAY_NS */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct gen {
	uint32_t tid;
	uint64_t ts;
	unsigned step;
};

/* The next transition of one thread: (ts, state). */
static enum tl_state next(struct gen *g, uint64_t *ts)
{
	static const enum tl_state cycle[] = {TL_COMPUTE, TL_IO_CPU, TL_IO_WAIT, TL_IO_CPU,
					      TL_COMPUTE, TL_RUNNABLE};
	enum tl_state s = cycle[g->step % 6];

	g->ts += 500 + (g->tid * 37 + g->step * 101) % 3000;
	g->step++;
	*ts = g->ts;
	return s;
}

int main(int argc, char **argv)
{
	double millions = argc > 1 ? atof(argv[1]) : 10.0;
	unsigned nthreads = argc > 2 ? (unsigned)atoi(argv[2]) : 8;
	uint64_t total = (uint64_t)(millions * 1e6), fed = 0, ioreq = 0, t_end = 0;
	struct tl_timeline *tl = tl_new();
	struct an_counters c = {0};
	struct an_run run;
	struct gen *g;
	struct rusage ru;
	double t0, t1, t2, t3;
	size_t fold_at = FOLD, folds = 0;
	int ret;

	if (!tl || !nthreads || total < BATCH) {
		fprintf(stderr, "usage: %s [MILLIONS [THREADS]]\n", argv[0]);
		return 2;
	}
	g = calloc(nthreads, sizeof(*g));
	if (!g)
		return 1;
	for (unsigned i = 0; i < nthreads; i++) {
		g[i].tid = 1000 + i;
		g[i].ts = 1000000 + i;
		if (!tl_thread_add(tl, 1000, g[i].tid, g[i].ts, TL_RUNNABLE, "bench"))
			return 1;
	}

	t0 = now();
	{
		struct {
			uint32_t tid;
			uint64_t ts[BATCH];
			enum tl_state st[BATCH];
		} held = {0};
		unsigned nb = 0;

		while (fed < total) {
			for (unsigned i = 0; i < nthreads && fed < total; i++, nb++) {
				uint64_t ts[BATCH];
				enum tl_state st[BATCH];

				for (int k = 0; k < BATCH; k++) {
					st[k] = next(&g[i], &ts[k]);
					if (st[k] == TL_IO_WAIT && g[i].step % 16 == 3) {
						uint64_t id = ioreq++;

						tl_io_begin(tl, id, ts[k]);
						tl_io_end(tl, id, ts[k] + 20000);
					}
				}
				/* every 7th batch arrives after the next one */
				if (nb % 7 == 0 && !held.tid) {
					held.tid = g[i].tid;
					memcpy(held.ts, ts, sizeof(ts));
					memcpy(held.st, st, sizeof(st));
					continue;
				}
				for (int k = 0; k < BATCH; k++)
					if (tl_transition(tl, 1000, g[i].tid, ts[k], st[k]))
						return 1;
				fed += BATCH;
				if (held.tid) {
					for (int k = 0; k < BATCH; k++)
						if (tl_transition(tl, 1000, held.tid, held.ts[k],
								  held.st[k]))
							return 1;
					fed += BATCH;
					held.tid = 0;
				}
			}			/* fold as the session does: once FOLD events are held, all but the last
			 * 250 ms of (simulated) time, then when twice what was left is held */
			if (tl_pending(tl) >= fold_at) {
				uint64_t oldest = UINT64_MAX;

				for (unsigned i = 0; i < nthreads; i++)
					if (g[i].ts < oldest)
						oldest = g[i].ts;
				if (oldest > 1000000 + LAG && oldest - LAG > tl->cut_at) {
					if (tl_cut(tl, 1000000, oldest - LAG))
						return 1;
					folds++;
				}
				fold_at = 2 * tl_pending(tl) > FOLD ? 2 * tl_pending(tl) : FOLD;
			}
		}
		if (held.tid) {
			for (int k = 0; k < BATCH; k++)
				tl_transition(tl, 1000, held.tid, held.ts[k], held.st[k]);
			fed += BATCH;
		}
	}
	for (unsigned i = 0; i < nthreads; i++)
		if (g[i].ts > t_end)
			t_end = g[i].ts;
	t1 = now();
	ret = tl_finish(tl, 1000000, t_end + 1);
	t2 = now();
	if (ret) {
		fprintf(stderr, "tl_finish: %s\n", strerror(-ret));
		return 1;
	}
	memset(&run, 0, sizeof(run));
	ret = an_run_compute(&run, tl, &c, 4);
	t3 = now();
	if (ret) {
		fprintf(stderr, "an_run_compute: %s\n", strerror(-ret));
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("bench_model: %llu transitions + %llu I/O edges, %u threads\n",
	       (unsigned long long)fed, (unsigned long long)(2 * ioreq), nthreads);
	printf("  feed (with %zu folds) %.3f s, tl_finish %.3f s, an_run_compute %.3f s\n", folds,
	       t1 - t0, t2 - t1, t3 - t2);
	printf("  model: %.1f M events/s (feed + finish + analysis; target >= 5)\n",
	       (double)(fed + 2 * ioreq) / (t3 - t0) / 1e6);
	printf("  peak RSS %.0f MiB; timeline drawn at %llu ns resolution\n",
	       (double)ru.ru_maxrss / 1024, (unsigned long long)tl->resolution_ns);
	printf("  check: parallelism %.2f, cpu overlap %.3f, hidden io %.3f\n", run.parallelism,
	       run.cpu_overlap, run.hidden_io);
	an_run_free(&run);
	free(g);
	return 0;
}
