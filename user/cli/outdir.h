/* outdir.h - the end of `run` and `trace`: the report folder, then the report on stdout. */
#ifndef IOTRACE_OUTDIR_H
#define IOTRACE_OUTDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct an_report;

/* Pick the folder to write (not created, except ./iotrace-out itself). 0 or -errno. */
int od_pick(const char *given, char *out, size_t len);

/* How `run` and `trace` hand over a finished report. */
struct od_out {
	const char *given;	/* -o DIR, or NULL: the next free ./iotrace-out/run-N */
	bool json;		/* stdout gets summary.json instead of the text report */
	bool color;
	unsigned width;		/* the terminal's columns, 0 = none */
	int verbose;		/* rp_text_opts.verbose */
	uid_t uid;		/* the folder's owner (the invoking user under sudo), -1 = keep */
	gid_t gid;
	/* the report gets iotrace's own CPU until summary.json is written, and of it what the
	 * runs' windows had (win_*, ss_windows_cpu; win_ok: known) */
	bool tracer_cpu;
	uint64_t win_user_ns, win_sys_ns;
	bool win_ok;
};

/*
 * Pick and write the report folder, then print the finished report on stdout (the text,
 * which ends with the folder's absolute path, or summary.json with --json). Each failure
 * is said on stderr. 0, or IT_EXIT_FAIL if either failed; *folder_ok: the folder was
 * written.
 */
int od_deliver(struct an_report *rep, const struct od_out *o, bool *folder_ok);

#endif /* IOTRACE_OUTDIR_H */
