/* fuzz_outdir.c - libFuzzer target: `iotrace report` on a fuzzed run folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"
#include "fuzz.h"
#include "report.h"

/*
 * The input is the folder's files cut at a line "----8<----": summary.json, then
 * runs/sync-warm/spans.tsv, oncpu.folded, offcpu.folded (a missing part: no such file).
 * The seeds label their run "sync/warm", so the loader finds those files. What loads is
 * rendered as `iotrace report` does (table, summary.json, trace.json, HTML) to /dev/null:
 * a saved folder is outside input, and everything downstream of the loader sees it.
 */

static const char *const names[] = {"summary.json", "runs/sync-warm/spans.tsv",
				     "runs/sync-warm/oncpu.folded", "runs/sync-warm/offcpu.folded"};
#define NPARTS (sizeof(names) / sizeof(names[0]))
static char dir[64];
static FILE *devnull;

static void put(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (!p)
		return;
	f = fopen(path, "w");
	if (!f)
		abort();
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cut[] = "\n----8<----\n";
	const uint8_t *p = data, *end = data + size;
	struct an_report r;
	char err[512];
	char path[128];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/iotrace-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/runs", dir);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/runs/sync-warm", dir);
		mkdir(path, 0755);
		devnull = fopen("/dev/null", "w");
	}
	for (size_t i = 0; i < NPARTS; i++) {
		const uint8_t *q = p ? memmem(p, (size_t)(end - p), cut, sizeof(cut) - 1) : NULL;

		if (!p) {
			put(names[i], NULL, 0);
			continue;
		}
		put(names[i], p, (size_t)((q ? q : end) - p));
		p = q ? q + sizeof(cut) - 1 : NULL;
	}
	if (rp_load_outdir(dir, &r, err, sizeof(err)) == 0) {
		if (md_report_finish(&r) == 0) {
			rp_text(devnull, &r, &(struct rp_text_opts){.verbose = 1});
			rp_summary_json(devnull, &r);
			rp_perfetto(devnull, &r);
			rp_html(devnull, &r);
		}
		an_report_free(&r);
	} else if (!err[0]) {
		fprintf(stderr, "rp_load_outdir failed without saying why\n");
		abort();
	}
	return 0;
}
