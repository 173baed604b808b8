/* cmd_report.c - iotrace report: re-render one saved run folder, or compare several; no root. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "version.h"

/*
 * Nothing is measured here: the saved model is loaded (summary.json plus the spans and
 * folded stacks beside it) and handed to the same renderers `run` uses, so one folder
 * re-renders to the same summary.json byte for byte. Several folders become one report
 * whose runs are labelled "<folder>:<label>"; each run keeps the figures of its own
 * folder (its speedup is against its own sync run).
 */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iotrace report OUTDIR [OUTDIR...] [-o NEWDIR] [--json] [--no-color] [-v]\n\n"
		"Re-render a saved run folder, or compare several side by side; no root needed.\n\n"
		"  One OUTDIR: its files (report.html, SVGs, trace.json, summary.json) are\n"
		"  written again in place, or into NEWDIR with -o, and the table is printed.\n"
		"  Several: one comparison table, runs labelled FOLDER:LABEL; with -o the\n"
		"  combined report is written into NEWDIR.\n\n"
		"Options:\n"
		"  -o, --output NEWDIR  write the report folder here\n"
		"      --json           print summary.json to stdout instead of the table\n"
		"      --no-color       no colors even on a terminal (also: NO_COLOR set)\n"
		"  -v, --verbose        each run's details, thread tables and findings\n"
		"  -h, --help           this help\n\n"
		"Examples:\n"
		"  iotrace report ./iotrace-out/run-1\n"
		"  iotrace report ./iotrace-out/run-1 ./iotrace-out/run-2 -o compare\n");
}

/* Owner for written files: under sudo the invoking user; root re-rendering in place keeps
 * the folder's owner; anyone else writes as themselves. */
static void owner_for(const char *dir, bool in_place, uid_t *uid, gid_t *gid)
{
	struct stat st;

	it_sudo_ids(uid, gid);
	if (geteuid() != 0 || *uid != (uid_t)-1)
		return;
	if (in_place && lstat(dir, &st) == 0) {
		*uid = st.st_uid;
		*gid = st.st_gid;
	}
}

/* The folder's last path component, for "<folder>:<label>". */
static void folder_name(const char *dir, char *out, size_t len)
{
	char *copy = strdup(dir);
	size_t n;

	if (!copy) {
		snprintf(out, len, "%s", dir);
		return;
	}
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = 0;
	snprintf(out, len, "%s", basename(copy));
	free(copy);
}

/* One report of the loaded ones, its runs named after their folders (the model merges). */
static int merge(struct an_report *reps, char **dirs, size_t n, struct an_report *out)
{
	char (*buf)[NAME_MAX + 1] = calloc(n, sizeof(*buf));
	const char **names = calloc(n, sizeof(*names));
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (buf && names) {
		for (size_t i = 0; i < n; i++) {
			folder_name(dirs[i], buf[i], sizeof(buf[i]));
			names[i] = buf[i];
		}
		ret = an_report_merge(reps, names, n, out);
	}
	free(names);
	free(buf);
	if (!ret)
		snprintf(out->version, sizeof(out->version), "%s", IOTRACE_VERSION);
	return ret;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"no-color", no_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *outdir = NULL, *target;
	bool json = false, color;
	struct an_report *reps = NULL, comb, *rep;
	char err[1024], abs[PATH_MAX];
	const char *folder = NULL;
	size_t n, loaded = 0;
	uid_t uid;
	gid_t gid;
	int c, ret, rc = IT_EXIT_OK;

	optind = 0; /* full re-initialisation: options may follow the folders */
	color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	while ((c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			outdir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'C':
			color = false;
			break;
		case 'v':
			it_verbose++;
			break;
		case 'h':
			usage(stdout);
			return IT_EXIT_OK;
		default:
			fprintf(stderr, "(see iotrace report --help)\n");
			return IT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		it_err("missing OUTDIR: iotrace report OUTDIR [OUTDIR...] (a folder iotrace run or "
		       "trace wrote, e.g. iotrace-out/run-1)");
		return IT_EXIT_USAGE;
	}
	n = (size_t)(argc - optind);
	reps = calloc(n, sizeof(*reps));
	if (!reps) {
		it_err("failed to load the reports: %s", strerror(ENOMEM));
		return IT_EXIT_FAIL;
	}
	memset(&comb, 0, sizeof(comb));
	for (; loaded < n; loaded++) {
		ret = rp_load_outdir(argv[optind + loaded], &reps[loaded], err, sizeof(err));
		if (ret < 0) {
			it_err("%s", err);
			rc = ret == -ENOMEM ? IT_EXIT_FAIL : IT_EXIT_INPUT;
			goto out;
		}
	}
	if (n == 1) {
		rep = &reps[0];
		target = outdir ? outdir : argv[optind];
	} else {
		ret = merge(reps, argv + optind, n, &comb);
		if (ret < 0) {
			it_err("failed to combine the reports: %s", strerror(-ret));
			rc = IT_EXIT_FAIL;
			goto out;
		}
		rep = &comb;
		target = outdir;
	}

	/* the folder first: the text report ends by saying where it is */
	if (target) {
		owner_for(target, !outdir, &uid, &gid);
		ret = rp_write_outdir(target, rep, uid, gid);
		if (ret == -ELOOP) {
			it_err("failed to write the report folder '%s': it is a symbolic link; "
			       "iotrace does not write through links, give the real folder",
			       target);
			rc = IT_EXIT_FAIL;
		} else if (ret < 0) {
			bool in_place = !outdir && (ret == -EACCES || ret == -EPERM || ret == -EROFS);

			/* a folder someone else wrote (or a read-only one) can still be
			 * re-rendered */
			it_err("failed to write the report folder '%s': %s%s", target,
			       strerror(-ret),
			       in_place ? "; give another folder with -o NEWDIR" : "");
			rc = IT_EXIT_FAIL;
		} else if (realpath(target, abs)) {
			folder = abs;
		}
	}
	ret = json ? rp_summary_json(stdout, rep)
		   : rp_text(stdout, rep,
			     &(struct rp_text_opts){.color = color,
						    .width = it_term_cols(STDOUT_FILENO),
						    .verbose = it_verbose, .folder = folder});
	if (ret < 0) {
		it_err("failed to write the report to stdout: %s", strerror(-ret));
		rc = IT_EXIT_FAIL;
	}
out:
	for (size_t i = 0; i < loaded && i < n; i++)
		an_report_free(&reps[i]);
	an_report_free(&comb);
	free(reps);
	return rc;
}
