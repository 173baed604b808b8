/* load.c - a saved run folder read back (summary.json, spans, folded stacks) for the model to rebuild. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/restore.h"
#include "report.h"
#include "rp_json.h"

/*
 * The loaders parse and check the files (layout in report.h); the model does every
 * rebuilding: the ratios from the saved integers (an_run_derive, called by the summary
 * loader), a timeline from the spans (model/restore.h), the stacks through an_stack_add
 * and the wall-clock set as saved (or from them, an_run_wall). Everything is read into memory first,
 * so `iotrace report DIR` may rewrite DIR.
 */

struct lf {
	const char *path;	/* for messages */
	size_t line;
	char *err;
	size_t errlen;
};

static int lf_fail(struct lf *l, const char *what)
{
	snprintf(l->err, l->errlen, "%s:%zu: %s", l->path, l->line, what);
	return -EINVAL;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* Split line (no newline) at tabs into at most max fields; the count. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == '\t') {
			*p = 0;
			f[n++] = p + 1;
		}
	}
	return n;
}

static bool tsv_unescape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s; s++) {
		char c = *s;

		if (c == '\\') {
			s++;
			if (*s == '\\')
				c = '\\';
			else if (*s == 't')
				c = '\t';
			else if (*s == 'n')
				c = '\n';
			else if (*s == 'x' && isxdigit((unsigned char)s[1]) &&
				 isxdigit((unsigned char)s[2])) {
				char hex[3] = {s[1], s[2], 0};

				c = (char)strtoul(hex, NULL, 16);
				s += 2;
			} else {
				return false;
			}
			if (!c)
				return false;
		}
		if (o + 1 >= len)
			return false;
		out[o++] = c;
	}
	out[o] = 0;
	return true;
}

static FILE *open_in(const char *dir, const char *slug, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/runs/%s/%s", dir, slug, name);
	return fopen(path, "re");
}

/* A span's KIND field for its state: the kind (> 0), or -EINVAL. */
static int span_kind_of(int st, const char *name)
{
	if (st == TL_IO_CPU || st == TL_IO_WAIT)
		return wt_io_kind_from_name(name);
	if (st == TL_LOCK_WAIT)
		return wt_lock_kind_from_name(name);
	return -EINVAL;
}

/* spans.tsv: its lines checked here, handed to the model to rebuild the run's timeline. */
static int load_spans(const char *dir, const char *slug, struct an_run *run, char *err,
		      size_t errlen)
{
	char path[4200], *line = NULL, *fl[12];
	size_t cap = 0;
	ssize_t n;
	struct rs_timeline rs;
	struct lf l = {.path = path, .err = err, .errlen = errlen};
	uint64_t ws = 0, we = 0, unmatched = 0, cur_tid = 0;
	bool have_window = false, have_thread = false;
	FILE *f = open_in(dir, slug, "spans.tsv", path, sizeof(path));
	int ret = 0, nf;

	if (!f) {
		if (errno == ENOENT)
			return 0; /* no timeline saved: the timeline views are left out */
		ret = -errno;
		snprintf(err, errlen, "failed to read %s: %s", path, strerror(-ret));
		return ret;
	}
	if (rs_begin(&rs)) {
		fclose(f);
		return -ENOMEM;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		uint64_t v[7];
		int st;

		l.line++;
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		if (l.line == 1) {
			if (strncmp(line, RP_SPANS_MAGIC, strlen(RP_SPANS_MAGIC))) {
				ret = lf_fail(&l, "not an iotrace spans file (first line should "
						  "start with '" RP_SPANS_MAGIC "')");
				break;
			}
			continue;
		}
		if (!n || line[0] == '#')
			continue;
		nf = split(line, fl, 12);
		if (!strcmp(fl[0], "window")) {
			if (nf != 4 || !parse_u64(fl[1], &ws) || !parse_u64(fl[2], &we) ||
			    !parse_u64(fl[3], &unmatched) || we < ws || have_window) {
				ret = lf_fail(&l, "expected one 'window START END IO_UNMATCHED' "
						  "with START <= END");
				break;
			}
			have_window = true;
		} else if (!have_window) {
			ret = lf_fail(&l, "expected the 'window' line first");
			break;
		} else if (!strcmp(fl[0], "thread")) {
			char comm[16], role[32];
			bool ok = nf == 10;

			for (int i = 0; ok && i < 7; i++)
				ok = parse_u64(fl[i + 1], &v[i]);
			if (!ok || v[0] > UINT32_MAX || v[1] > UINT32_MAX || v[3] < v[2] ||
			    !tsv_unescape(fl[8], comm, sizeof(comm)) ||
			    !tsv_unescape(fl[9], role, sizeof(role))) {
				ret = lf_fail(&l, "expected 'thread PID TID START END READS BYTES "
						  "CTX_SWITCHES COMM ROLE'");
				break;
			}
			ret = rs_thread(&rs, &(struct rs_thread){
						 .pid = (uint32_t)v[0], .tid = (uint32_t)v[1],
						 .start = v[2], .end = v[3], .reads = v[4],
						 .bytes_read = v[5], .ctx_switches = v[6],
						 .comm = comm, .role = role});
			if (ret)
				break;
			cur_tid = v[1];
			have_thread = true;
		} else if (!strcmp(fl[0], "io")) {
			if (nf != 3 || !parse_u64(fl[1], &v[0]) || !parse_u64(fl[2], &v[1]) ||
			    v[1] < v[0]) {
				ret = lf_fail(&l, "expected 'io START END' with START <= END");
				break;
			}
			ret = rs_io(&rs, v[0], v[1]);
			if (ret)
				break;
		} else if (!strcmp(fl[0], "dev")) {
			if (nf != 3 || !parse_u64(fl[1], &v[0]) || !parse_u64(fl[2], &v[1]) ||
			    v[1] < v[0]) {
				ret = lf_fail(&l, "expected 'dev START END' with START <= END");
				break;
			}
			ret = rs_dev(&rs, v[0], v[1]);
			if (ret)
				break;
		} else if (!strcmp(fl[0], "gap")) {
			if (nf != 4 || !parse_u64(fl[1], &v[0]) || !parse_u64(fl[2], &v[1]) ||
			    !parse_u64(fl[3], &v[2]) || v[0] != cur_tid || !have_thread ||
			    v[2] < v[1]) {
				ret = lf_fail(&l, "expected 'gap TID START END' after that "
						  "thread's line");
				break;
			}
			rs_gap(&rs, (uint32_t)v[0], v[1], v[2]);
		} else {
			int kind = 0;

			if ((nf != 4 && nf != 5) || !parse_u64(fl[0], &v[0]) ||
			    !parse_u64(fl[1], &v[1]) || !parse_u64(fl[2], &v[2]) || v[2] < v[1] ||
			    (st = tl_state_from_name(fl[3])) < 0 ||
			    (nf == 5 && (kind = span_kind_of(st, fl[4])) < 0)) {
				ret = lf_fail(&l, "expected 'TID START END STATE [KIND]' (a span; "
						  "KIND for io_cpu, io_wait, lock_wait), or a "
						  "'window', 'thread', 'gap', 'io' or 'dev' line");
				break;
			}
			if (!have_thread || v[0] != cur_tid) {
				ret = lf_fail(&l, "a span of a tid other than the 'thread' line "
						  "above it");
				break;
			}
			ret = rs_span_kind(&rs, (uint32_t)v[0], v[1], (enum tl_state)st,
					   (unsigned)kind);
			if (ret)
				break;
		}
	}
	free(line);
	if (!ret && ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "failed to read %s: %s", path, strerror(EIO));
	}
	fclose(f);
	if (!ret && !have_window) {
		l.line = 1;
		ret = lf_fail(&l, "no 'window' line");
	}
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "failed to load %s: %s", path, strerror(ENOMEM));
		rs_abort(&rs);
		return ret;
	}
	ret = rs_finish(&rs, ws, we, unmatched, &run->tl);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "failed to load %s: %s", path, strerror(ENOMEM));
	else if (ret)
		snprintf(err, errlen, "%s: failed to rebuild the timeline: %s", path,
			 strerror(-ret));
	return ret;
}

/* A folded file: "frames value" lines, value after the last space; scale = value unit. */
static int load_folded(const char *dir, const char *slug, const char *name, uint64_t scale,
		       struct an_stackset *s, char *err, size_t errlen)
{
	char path[4200], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct lf l = {.path = path, .err = err, .errlen = errlen};
	uint64_t total = s->total; /* summary.json's figure stays the one shown */
	FILE *f = open_in(dir, slug, name, path, sizeof(path));
	int ret = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "failed to read %s: %s", path, strerror(-ret));
		return ret;
	}
	s->total = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *sp;
		uint64_t v;

		l.line++;
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		if (!n)
			continue;
		sp = strrchr(line, ' ');
		if (!sp || sp == line || !parse_u64(sp + 1, &v) || v > UINT64_MAX / scale ||
		    memchr(line, 0, (size_t)n)) {
			ret = lf_fail(&l, "expected 'frame;frame;... COUNT'");
			break;
		}
		*sp = 0;
		ret = an_stack_add(s, line, v * scale);
		if (ret) {
			snprintf(err, errlen, "failed to load %s: %s", path, strerror(-ret));
			break;
		}
	}
	free(line);
	fclose(f);
	if (!ret && total)
		s->total = total;
	return ret;
}

int rp_load_outdir(const char *outdir, struct an_report *r, char *err, size_t errlen)
{
	char path[4200], (*slugs)[RP_SLUG_MAX] = NULL;
	struct stat st;
	int ret;

	memset(r, 0, sizeof(*r));
	if (stat(outdir, &st) < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "%s: no such folder", outdir);
		else
			snprintf(err, errlen, "failed to open %s: %s", outdir, strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a folder; give the folder a run wrote "
				      "(e.g. iotrace-out/run-1)", outdir);
		return -ENOTDIR;
	}
	snprintf(path, sizeof(path), "%s/summary.json", outdir);
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		snprintf(err, errlen, "%s: not an iotrace run folder (no summary.json)", outdir);
		return -ENOENT;
	}
	ret = rp_summary_load(path, r, err, errlen);
	if (!ret) {
		slugs = rp_run_slugs(r);
		if (!slugs) {
			snprintf(err, errlen, "failed to load %s: %s", outdir, strerror(ENOMEM));
			ret = -ENOMEM;
		}
	}
	for (size_t i = 0; !ret && i < r->nruns; i++) {
		struct an_run *run = &r->runs[i];
		const char *slug = slugs[i];

		ret = load_spans(outdir, slug, run, err, errlen);
		if (!ret)
			ret =
			    load_folded(outdir, slug, "oncpu.folded", 1, &run->oncpu, err, errlen);
		if (!ret)
			ret = load_folded(outdir, slug, "offcpu.folded", 1000, &run->offcpu, err,
					  errlen);
		/* the wall-clock set as written (a traced run's is sized exactly: analysis.h);
		 * rebuilt from the samples only for a folder without it */
		if (!ret)
			ret = load_folded(outdir, slug, "wall.folded", 1, &run->wall, err, errlen);
		if (!ret && !run->wall.n) {
			ret = an_run_wall(run);
		} else if (!ret) {
			run->wall.errors = run->oncpu.errors + run->offcpu.errors;
			memcpy(run->wall.unavailable, run->oncpu.unavailable,
			       sizeof(run->wall.unavailable));
		}
	}
	free(slugs);
	if (ret) {
		an_report_free(r);
		memset(r, 0, sizeof(*r));
	}
	return ret;
}
