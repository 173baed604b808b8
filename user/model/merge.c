/* merge.c - several reports (saved runs) combined into one, for comparing them side by side. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

/*
 * Nothing is recomputed: each run keeps the figures of its own report (its speedup is
 * against its own sync run), so the merged report is a table of independent results. What
 * the sources share (kernel, workload, throttle) is kept; what they do not becomes "mixed",
 * or 0 for the throttle. Labels stay unique: "<name>:<label>", a name given twice numbered.
 */

#define NAME_LEN 48

/* Source i's name, numbered "#i+1" when an earlier source has the same one. */
static void unique_name(char (*names)[NAME_LEN], const char *const *given, size_t i)
{
	snprintf(names[i], NAME_LEN, "%s", given[i]);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(names[i], names[j])) {
			snprintf(names[i], NAME_LEN, "%.36s#%u", given[i], (unsigned)(i + 1) % 100000);
			return;
		}
}

/* "<name>:<label>", keeping the run's own label whole and shortening the name if needed. */
static void prefix_label(struct an_run *run, const char *name)
{
	char label[sizeof(run->label)];
	int room = (int)sizeof(label) - 2 - (int)strlen(run->label);

	if (room < 8)
		room = 8;
	/* truncation is intended (a 63-byte label): the count is not needed */
	if (snprintf(label, sizeof(label), "%.*s:%s", room, name, run->label) < 0)
		label[0] = 0;
	memcpy(run->label, label, sizeof(label));
}

/* The device ceiling's fields of src (measured or why not). */
static void copy_ceiling(struct an_report *out, const struct an_report *src)
{
	out->device_ceiling_bps = src->device_ceiling_bps;
	out->device_ceiling_ok = src->device_ceiling_ok;
	memcpy(out->device_ceiling_method, src->device_ceiling_method,
	       sizeof(out->device_ceiling_method));
	out->device_ceiling_bytes = src->device_ceiling_bytes;
	out->device_ceiling_ns = src->device_ceiling_ns;
	out->device_ceiling_elapsed_ns = src->device_ceiling_elapsed_ns;
	out->device_ceiling_qd = src->device_ceiling_qd;
	out->device_ceiling_block = src->device_ceiling_block;
	out->device_ceiling_throttled = src->device_ceiling_throttled;
	memcpy(out->device_ceiling_unavailable, src->device_ceiling_unavailable,
	       sizeof(out->device_ceiling_unavailable));
}

int an_report_merge(struct an_report *reps, const char *const *names, size_t n,
		    struct an_report *out)
{
	size_t total = 0, k = 0;
	char (*uniq)[NAME_LEN];

	memset(out, 0, sizeof(*out));
	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		total += reps[i].nruns;
	uniq = calloc(n, sizeof(*uniq));
	out->runs = calloc(total ? total : 1, sizeof(*out->runs));
	if (!out->runs || !uniq) {
		free(uniq);
		free(out->runs);
		out->runs = NULL;
		return -ENOMEM;
	}
	out->ncpu = reps[0].ncpu;
	snprintf(out->kernel, sizeof(out->kernel), "%s", reps[0].kernel);
	snprintf(out->workload, sizeof(out->workload), "%s", reps[0].workload);
	out->throttle_bps = reps[0].throttle_bps;
	copy_ceiling(out, &reps[0]);
	snprintf(out->readahead, sizeof(out->readahead), "%s", reps[0].readahead);
	for (size_t i = 0; i < n; i++) {
		unique_name(uniq, names, i);
		if (strcmp(reps[i].workload, out->workload))
			snprintf(out->workload, sizeof(out->workload), "mixed");
		if (strcmp(reps[i].kernel, out->kernel))
			snprintf(out->kernel, sizeof(out->kernel), "mixed");
		if (reps[i].throttle_bps != out->throttle_bps)
			out->throttle_bps = 0;
		if (reps[i].device_ceiling_ok != out->device_ceiling_ok ||
		    reps[i].device_ceiling_bps != out->device_ceiling_bps) {
			struct an_report none = {0};

			copy_ceiling(out, &none);
			snprintf(out->device_ceiling_unavailable,
				 sizeof(out->device_ceiling_unavailable),
				 "the combined reports measured their devices apart");
		}
		if (strcmp(reps[i].readahead, out->readahead))
			out->readahead[0] = '\0'; /* folders that differ: no one setting */
		if (reps[i].answer[0]) {
			size_t used = strlen(out->answer);

			snprintf(out->answer + used, sizeof(out->answer) - used, "%s%s: %s",
				 used ? "\n" : "", uniq[i], reps[i].answer);
		}
		for (size_t r = 0; r < reps[i].nruns; r++) {
			struct an_run *run = &out->runs[k++];

			*run = reps[i].runs[r];
			prefix_label(run, uniq[i]);
		}
		free(reps[i].runs);
		reps[i].runs = NULL;
		reps[i].nruns = 0;
	}
	out->nruns = total;
	free(uniq);
	return 0;
}
