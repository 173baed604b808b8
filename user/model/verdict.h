/* verdict.h - the rule table and the answer: what the metrics of analysis.h say, in words. */
#ifndef IOTRACE_VERDICT_H
#define IOTRACE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis.h"

/*
 * The verdict reads finished metrics (an_run_compute, an_report_derive) and writes the
 * runs' verdict[] and headline and the report's answer; analysis never calls it.
 */

/* ---- the rules (one table in verdict.c) ---- */
struct an_rule {
	const char *id;
	/*
	 * Fills text with the finding and its evidence, lower case, no final period (it is
	 * also a headline clause), and returns true when the rule holds for run (sync =
	 * same-cache sync run or NULL; rep may be NULL). A rule whose input is unavailable
	 * does not fire.
	 */
	bool (*fires)(const struct an_run *run, const struct an_run *sync, const struct an_report *rep,
		      char *text, size_t len);
	const char *advice;	/* what it means, appended to the verdict text; may be NULL */
	bool cause;		/* may appear in the headline (false: notes on data quality) */
};
extern const struct an_rule an_rules[];
extern const size_t an_nrules;
/* Evaluate all rules for one run into run->verdict ("Finding — advice.") and headline. */
void an_verdict_eval(struct an_run *run, const struct an_run *sync, const struct an_report *rep);
/* The closing answer for a report (md5dir: can threads overlap disk reads with compute
 * here, and what would it take), from the runs' numbers; "" when there is nothing to say. */
void an_answer(const struct an_report *rep, char *buf, size_t len);

#endif /* IOTRACE_VERDICT_H */
