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
/* What a line's share is of (an_verdict.share). */
enum an_share_of {
	AN_SHARE_NONE,		/* a note, or a figure of its own (near_ideal) */
	AN_SHARE_WALL,		/* of the run's wall */
	AN_SHARE_CAPACITY,	/* of ncpu x the wall */
};

struct an_rule {
	const char *id;
	/*
	 * Fills text with the finding and its evidence, lower case, no final period (it is
	 * also a headline clause), and returns true when the rule holds for run (sync =
	 * same-cache sync run or NULL; rep may be NULL). A rule whose input is unavailable
	 * does not fire.
	 */
	bool (*fires)(const struct an_run *run, const struct an_run *sync, const struct an_report *rep,
		      char *text, size_t len, double *share);
	/* what *share (set when it fires) is of; the rule leaves it alone for NONE */
	enum an_share_of of;
	const char *advice;	/* what it means, appended to the verdict text; may be NULL */
	const char *advice_one;	/* ... for a run whose work ran on one thread; NULL: advice */
	bool cause;		/* may appear in the headline (false: notes on data quality) */
};
extern const struct an_rule an_rules[];
extern const size_t an_nrules;
/* Pairs of rule ids that never fire together on one run (their lines would contradict). */
extern const char *const an_rule_conflicts[][2];
extern const size_t an_nconflicts;
/* Evaluate all rules for one run into run->verdict ("Finding — advice.") and headline. */
void an_verdict_eval(struct an_run *run, const struct an_run *sync, const struct an_report *rep);
/* The closing answer for a report (md5dir: can threads overlap disk reads with compute
 * here, and what would it take), from the runs' numbers; "" when there is nothing to say. */
void an_answer(const struct an_report *rep, char *buf, size_t len);

#endif /* IOTRACE_VERDICT_H */
