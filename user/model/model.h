/* model.h - the model's pipeline, the one call the commands make: metrics -> verdicts -> answer. */
#ifndef IOTRACE_MODEL_H
#define IOTRACE_MODEL_H

#include "analysis.h"
#include "timeline.h"
#include "verdict.h"

/*
 * The model in order, each step reading only what the ones before it made:
 *   events   -> timeline   tl_* (timeline.h): fed while tracing, folded by tl_cut, closed
 *                          by tl_finish when the run ends
 *   timeline -> metrics    an_run_compute (analysis.h), per run, as it ends: the session
 *                          attaches stacks and rusage to the computed run
 *   runs     -> figures    an_report_derive: what needs the other runs (speedup, ideal)
 *   figures  -> verdicts   an_verdict_eval (verdict.h), per run, against its sync run
 *   verdicts -> answer     an_answer, for the report as a whole
 * md_report_finish runs the last three once every run is in: commands call it, and nothing
 * else of analysis or verdict. Idempotent. 0 or -EINVAL.
 */
int md_report_finish(struct an_report *rep);

#endif /* IOTRACE_MODEL_H */
