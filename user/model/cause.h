/* cause.h - a run's cause in short: the table's cause column and the Answer's strategy lines. */
#ifndef IOTRACE_CAUSE_H
#define IOTRACE_CAUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis.h"

/*
 * What held a run back, as a name for a table column and a reason, the finding in one
 * line without its evidence ("the disk was the ceiling"). The text report, report.html and
 * the Answer's lines all ask here, so the short forms have one source: an_run_cause is the
 * one function that chooses. The name is the bound that held the wall longest with its
 * share ("CPU 97%", "device 61%"; bound_ns), or for a saved run without bounds its first
 * cause rule's ("page cache", "disk", "lock", ...); the reason is the run's first cause
 * among its verdict lines. A run no rule explained gets "none found" / "no rule found a
 * limiting cause", one that did not finish "did not finish" or "interrupted".
 */
struct an_cause {
	char name[32];
	char reason[192];
};
void an_run_cause(const struct an_run *run, struct an_cause *c);

/*
 * What a run's waits on peers (io_wait on anything but storage: the peer bound,
 * exposed_io_peer_ns) were on: "pipe" or "socket" when its io_wait split shows only that
 * kind besides files, else "peer".
 */
const char *an_run_peer_word(const struct an_run *run);

/*
 * The Answer's lines, one per strategy in the order of its first run, each naming every
 * run of the strategy with its speedup and reason: "threads: warm 1.96× — the CPUs were
 * saturated; cold 0.98× — the disk was the ceiling". Runs that share a reason share it
 * ("gil: warm 0.92×, cold 0.97× — threads took turns on a lock"). Returns how many lines
 * were written (at most max).
 */
#define AN_LINE 320
size_t an_answer_lines(const struct an_report *rep, char (*lines)[AN_LINE], size_t max);

/*
 * What the machine's CPUs did in a run's window, iotrace's own CPU named apart from the
 * other programs': "the machine's CPU time in the run: 4.00 s, busy 3.00 s (this run's
 * threads 2.00 s, iotrace's own tracing 150 ms: user 100 ms, system 50.0 ms, 4% of the
 * machine's CPU time; other programs about 850 ms), idle 1.00 s". The other programs'
 * part is what is left of /proc/stat's ticks ("about"). False (buf "") when the machine's
 * CPU was not measured.
 */
bool an_machine_line(const struct an_run *run, char *buf, size_t len);

/*
 * The question the report answers, for its first line: the disk question of a report with
 * an Answer (md5dir), which strategy was fastest when runs compare with a sync run, else
 * where a traced program's time went.
 */
const char *an_question(const struct an_report *rep);

/* Whether run is the fastest of its cache mode's non-sync runs (by speedup over sync). */
bool an_run_is_best(const struct an_report *rep, const struct an_run *run);

#endif /* IOTRACE_CAUSE_H */
