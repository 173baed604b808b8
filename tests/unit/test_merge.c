/* test_merge.c - an_report_merge: saved reports combined into one, on hand-made reports. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/analysis.h"

/* A report of nruns runs labelled label0, label1... with a speedup each to recognize them. */
static void mk(struct an_report *r, const char *kernel, const char *workload, uint64_t throttle,
	       const char *answer, const char *const *labels, size_t nruns, double speedup0)
{
	memset(r, 0, sizeof(*r));
	r->ncpu = 4;
	snprintf(r->kernel, sizeof(r->kernel), "%s", kernel);
	snprintf(r->workload, sizeof(r->workload), "%s", workload);
	snprintf(r->answer, sizeof(r->answer), "%s", answer);
	r->throttle_bps = throttle;
	r->runs = calloc(nruns, sizeof(*r->runs));
	assert_non_null(r->runs);
	r->nruns = nruns;
	for (size_t i = 0; i < nruns; i++) {
		snprintf(r->runs[i].label, sizeof(r->runs[i].label), "%s", labels[i]);
		r->runs[i].speedup_vs_sync = speedup0 + (double)i;
		r->runs[i].speedup_ok = true;
	}
}

static void test_merge_two_folders(void **state)
{
	static const char *const a_labels[] = {"sync/warm", "threads/warm"};
	static const char *const b_labels[] = {"sync/cold"};
	static const char *const names[] = {"run-1", "run-2"};
	struct an_report reps[2], out;

	(void)state;
	mk(&reps[0], "6.1", "md5dir", 1000, "No: the disk.", a_labels, 2, 1.0);
	mk(&reps[1], "6.1", "md5dir", 1000, "", b_labels, 1, 5.0);
	assert_int_equal(an_report_merge(reps, names, 2, &out), 0);

	assert_int_equal(out.nruns, 3);
	assert_string_equal(out.runs[0].label, "run-1:sync/warm");
	assert_string_equal(out.runs[1].label, "run-1:threads/warm");
	assert_string_equal(out.runs[2].label, "run-2:sync/cold");
	/* each run keeps its own figures: nothing is recomputed against the other folder */
	assert_true(out.runs[1].speedup_vs_sync == 2.0 && out.runs[1].speedup_ok);
	assert_true(out.runs[2].speedup_vs_sync == 5.0);
	/* shared by all: kept */
	assert_string_equal(out.kernel, "6.1");
	assert_string_equal(out.workload, "md5dir");
	assert_int_equal(out.throttle_bps, 1000);
	assert_int_equal(out.ncpu, 4);
	/* only the folder with an answer has a line */
	assert_string_equal(out.answer, "run-1: No: the disk.");
	assert_string_equal(out.version, ""); /* the caller's */
	/* the sources gave their runs away */
	assert_null(reps[0].runs);
	assert_int_equal(reps[0].nruns, 0);
	assert_null(reps[1].runs);
	an_report_free(&reps[0]);
	an_report_free(&reps[1]);
	an_report_free(&out);
}

static void test_merge_mixed_and_same_names(void **state)
{
	static const char *const l[] = {"sync/warm"};
	static const char *const names[] = {"run", "run", "other"};
	struct an_report reps[3], out;

	(void)state;
	mk(&reps[0], "6.1", "md5dir", 1000, "first", l, 1, 1.0);
	mk(&reps[1], "6.8", "md5dir", 0, "second", l, 1, 1.0);
	mk(&reps[2], "6.1", "fetch", 1000, "third", l, 1, 1.0);
	assert_int_equal(an_report_merge(reps, names, 3, &out), 0);

	/* a name given twice: the later one is numbered by its place among the sources */
	assert_string_equal(out.runs[0].label, "run:sync/warm");
	assert_string_equal(out.runs[1].label, "run#2:sync/warm");
	assert_string_equal(out.runs[2].label, "other:sync/warm");
	assert_string_equal(out.kernel, "mixed");
	assert_string_equal(out.workload, "mixed");
	assert_int_equal(out.throttle_bps, 0);
	assert_string_equal(out.answer, "run: first\nrun#2: second\nother: third");
	for (int i = 0; i < 3; i++)
		an_report_free(&reps[i]);
	an_report_free(&out);
}

/* A 60-byte label stays whole; the name is cut to the 8 bytes that remain at least. */
static void test_merge_long_label(void **state)
{
	char label[61];
	const char *labels[] = {label};
	static const char *const names[] = {"a-long-folder-name"};
	struct an_report rep, out;

	(void)state;
	memset(label, 'x', 60);
	label[60] = 0;
	mk(&rep, "6.1", "md5dir", 0, "", labels, 1, 1.0);
	assert_int_equal(an_report_merge(&rep, names, 1, &out), 0);
	/* 64-byte field: 8 bytes of name, ':' and 54 of the label fit; the label is cut
	 * rather than the name below 8 bytes */
	assert_int_equal(strlen(out.runs[0].label), 63);
	assert_memory_equal(out.runs[0].label, "a-long-f:xxxx", 13);
	an_report_free(&rep);
	an_report_free(&out);
}

static void test_merge_nothing(void **state)
{
	struct an_report out;

	(void)state;
	assert_int_equal(an_report_merge(NULL, NULL, 0, &out), -EINVAL);
	assert_null(out.runs);
	assert_int_equal(out.nruns, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_two_folders),
		cmocka_unit_test(test_merge_mixed_and_same_names),
		cmocka_unit_test(test_merge_long_label),
		cmocka_unit_test(test_merge_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
