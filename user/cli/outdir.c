/* outdir.c - the report on stdout and in its folder: -o, or the next free ./iotrace-out/run-N. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "outdir.h"
#include "report.h"
#include "trace/session.h"

#define OD_BASE "iotrace-out"

int od_pick(const char *given, char *out, size_t len)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (given) {
		if ((size_t)snprintf(out, len, "%s", given) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	snprintf(out, len, OD_BASE); /* what a failure names */
	it_sudo_ids(&uid, &gid);
	if (mkdir(OD_BASE, 0755) == 0) {
		/* under sudo the folder belongs to whoever asked for it */
		if (uid != (uid_t)-1 && chown(OD_BASE, uid, gid) < 0)
			return -errno;
	} else if (errno != EEXIST) {
		return -errno;
	}
	if (lstat(OD_BASE, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR; /* a symlink planted in place of the folder is refused */
	/*
	 * Someone else's folder (planted in /tmp, say) could be swapped for a symlink between
	 * this check and the writes, which follow "iotrace-out/": only ours or the invoking
	 * user's is used.
	 */
	if (st.st_uid != geteuid() && !(uid != (uid_t)-1 && st.st_uid == uid))
		return -EPERM;
	for (unsigned n = 1; n < 100000; n++) {
		snprintf(out, len, OD_BASE "/run-%u", n);
		if (lstat(out, &st) < 0 && errno == ENOENT)
			return 0;
	}
	return -EEXIST;
}

struct od_cpu_ctx {
	struct an_report *rep;
	const struct od_out *o;
};

/* rp_write_outdir_cb's hook: iotrace's CPU until now, the report folder but summary.json
 * written */
static void od_cpu(void *ctx)
{
	struct od_cpu_ctx *c = ctx;
	uint64_t user, sys;

	if (c->o->tracer_cpu && !ss_self_cpu(&user, &sys))
		an_report_tracer_cpu(c->rep, user, sys, c->o->win_user_ns, c->o->win_sys_ns,
				     c->o->win_ok);
}

int od_deliver(struct an_report *rep, const struct od_out *o, bool *folder_ok)
{
	struct od_cpu_ctx cpu = {rep, o};

	char dir[4096], abs[PATH_MAX];
	int ret, rc = 0;

	/* the folder first: the text report ends by saying where it is */
	*folder_ok = false;
	ret = od_pick(o->given, dir, sizeof(dir));
	if (ret == 0)
		ret = rp_write_outdir_cb(dir, rep, o->uid, o->gid, od_cpu, &cpu);
	/* no folder: stdout's report has it up to here */
	if (!rep->tracer_total_ok)
		od_cpu(&cpu);
	if (ret < 0) {
		it_err("failed to write the report folder '%s': %s", o->given ? o->given : dir,
		       strerror(-ret));
		rc = IT_EXIT_FAIL;
	} else {
		*folder_ok = true;
		if (!realpath(dir, abs))
			snprintf(abs, sizeof(abs), "%s", dir);
	}
	ret = o->json ? rp_summary_json(stdout, rep)
		      : rp_text(stdout, rep,
				&(struct rp_text_opts){.color = o->color, .width = o->width,
						       .verbose = o->verbose,
						       .folder = *folder_ok ? abs : NULL});
	if (ret < 0) {
		it_err("failed to write the report to stdout: %s", strerror(-ret));
		rc = IT_EXIT_FAIL;
	}
	fflush(stdout);
	return rc;
}
