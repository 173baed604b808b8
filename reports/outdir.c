/* outdir.c - the run folder: writes every file of the layout safely, and loads a saved one back. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "rp_json.h"

/*
 * Writing: the folder is opened once (O_NOFOLLOW) and every file is created relative to
 * its directory fd, as a new temporary (O_CREAT|O_EXCL|O_NOFOLLOW) renamed over the final
 * name when complete. So a symlink planted in the folder is replaced, never written
 * through; a reader never sees half a file; and re-rendering a folder in place works.
 *
 * Loading reads everything into memory first, so `iotrace report DIR` may rewrite DIR.
 */

#define SPANS_MAGIC "# iotrace spans/1"

void rp_slug(const char *label, char *slug, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	for (const char *p = label; *p && o + 1 < len; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/')
			slug[o++] = '-';
		else if (isalnum(c) || c == '-' || c == '_' || c == '+' || c == ',' || c == '=' ||
			 c == '@' || c == ':' || (c == '.' && o > 0))
			slug[o++] = (char)c;
		else
			slug[o++] = '_'; /* a leading dot, spaces, bytes a shell would trip on */
	}
	if (!o && len > 3)
		o = (size_t)snprintf(slug, len, "run");
	slug[o] = 0;
}

#define SLUG_MAX 96

/*
 * The folder names of all runs, in order: each run's slug, made unique among the runs
 * before it with "-2", "-3"... (labels are unique, but two may map to one slug). Loader
 * and writer both use this, so they agree. malloc'd; NULL on ENOMEM.
 */
static char (*run_slugs(const struct an_report *r))[SLUG_MAX]
{
	char (*s)[SLUG_MAX] = calloc(r->nruns ? r->nruns : 1, SLUG_MAX);

	if (!s)
		return NULL;
	for (size_t i = 0; i < r->nruns; i++) {
		rp_slug(r->runs[i].label, s[i], SLUG_MAX);
		for (unsigned k = 2;; k++) {
			size_t j;

			for (j = 0; j < i && strcmp(s[j], s[i]); j++)
				;
			if (j == i)
				break;
			rp_slug(r->runs[i].label, s[i], SLUG_MAX - 12);
			snprintf(s[i] + strlen(s[i]), 12, "-%u", k);
		}
	}
	return s;
}

/* ---- writing ---- */

struct wctx {
	uid_t uid;
	gid_t gid;
};

/* mkdir name under dirfd (an existing directory is fine) and open it, refusing symlinks. */
static int open_dir(int dirfd, const char *name, const struct wctx *w, int *out)
{
	bool created = true;
	int fd;

	if (mkdirat(dirfd, name, 0755) < 0) {
		if (errno != EEXIST)
			return -errno;
		created = false;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		struct stat st;
		int ret = -errno;

		/* O_DIRECTORY reports a symlink as ENOTDIR: say what it really is */
		if (ret == -ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			ret = -ELOOP;
		return ret;
	}
	if (created && (w->uid != (uid_t)-1 || w->gid != (gid_t)-1) &&
	    fchown(fd, w->uid, w->gid) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

typedef int (*emit_fn)(FILE *f, const void *a, const void *b);

/* Write dirfd/name through a fresh temporary, then rename it into place. */
static int write_file(int dirfd, const char *name, const struct wctx *w, emit_fn fn, const void *a,
		      const void *b)
{
	char tmp[128];
	FILE *f;
	int fd, ret;

	snprintf(tmp, sizeof(tmp), ".%s.tmp%ld", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		/* left by an iotrace that died with our pid: ours to replace */
		unlinkat(dirfd, tmp, 0);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0644);
	}
	if (fd < 0)
		return -errno;
	if ((w->uid != (uid_t)-1 || w->gid != (gid_t)-1) && fchown(fd, w->uid, w->gid) < 0) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	ret = fn(f, a, b);
	if (!ret && (fflush(f) == EOF || ferror(f)))
		ret = errno ? -errno : -EIO;
	if (fclose(f) == EOF && !ret)
		ret = errno ? -errno : -EIO;
	if (ret)
		goto fail;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		ret = -errno;
		goto fail;
	}
	return 0;
fail:
	unlinkat(dirfd, tmp, 0);
	return ret;
}

/* comm and role may hold any byte but NUL: tabs, newlines and backslashes are escaped */
static void tsv_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static int emit_spans(FILE *f, const void *a, const void *b)
{
	const struct tl_timeline *tl = a;

	(void)b;
	fputs(SPANS_MAGIC ": window WIN_START WIN_END IO_UNMATCHED; per thread a 'thread' "
	      "line, its spans 'TID START END STATE' and its lost stretches 'gap TID START END'; "
	      "'io START END' = I/O in flight; times in ns (see reports/report.h)\n",
	      f);
	fprintf(f, "window\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", tl->win_start, tl->win_end,
		tl->io_unmatched);
	for (size_t i = 0; i < tl->nthreads; i++) {
		const struct tl_thread *t = &tl->threads[i];

		fprintf(f,
			"thread\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			"\t%" PRIu64 "\t%" PRIu64 "\t",
			t->pid, t->tid, t->start, t->end, t->reads, t->bytes_read, t->ctx_switches);
		tsv_str(f, t->comm);
		fputc('\t', f);
		tsv_str(f, t->role);
		fputc('\n', f);
		for (size_t s = 0; s < t->nspans; s++)
			fprintf(f, "%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%s\n", t->tid,
				t->spans[s].start, t->spans[s].end,
				tl_state_name(t->spans[s].state));
		for (size_t g = 0; g < t->ngaps; g++)
			fprintf(f, "gap\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\n", t->tid,
				t->gaps[g].start, t->gaps[g].end);
	}
	for (size_t i = 0; i < tl->nio; i++)
		fprintf(f, "io\t%" PRIu64 "\t%" PRIu64 "\n", tl->io[i].start, tl->io[i].end);
	return 0;
}

static int emit_summary(FILE *f, const void *a, const void *b)
{
	(void)b;
	return rp_summary_json(f, a);
}

static int emit_perfetto(FILE *f, const void *a, const void *b)
{
	(void)b;
	return rp_perfetto(f, a);
}

static int emit_html(FILE *f, const void *a, const void *b)
{
	(void)b;
	return rp_html(f, a);
}

static int emit_folded(FILE *f, const void *a, const void *b)
{
	(void)b;
	return rp_folded(f, a);
}

struct flame_args {
	const char *title, *unit;
};

static int emit_flame(FILE *f, const void *a, const void *b)
{
	const struct flame_args *fa = b;

	return rp_flame_svg(f, a, fa->title, fa->unit);
}

struct diff_args {
	const struct an_stackset *base;
	const char *title;
};

static int emit_diff(FILE *f, const void *a, const void *b)
{
	const struct diff_args *d = b;

	return rp_flame_diff_svg(f, d->base, a, d->title, "µs");
}

static int emit_timeline(FILE *f, const void *a, const void *b)
{
	(void)b;
	return rp_timeline_svg(f, a);
}

/*
 * The folded files are in the units of the layout (report.h): off-CPU in microseconds,
 * wall = on-CPU samples scaled to microseconds (1e6 / sample_hz each) plus off-CPU. The
 * model keeps off-CPU in ns; these are unit conversions for the files, not metrics.
 */
static int to_us(const struct an_stackset *s, double scale, struct an_stackset *out)
{
	for (size_t i = 0; i < s->n; i++) {
		double v = (double)s->v[i].value * scale + 0.5;
		int ret = an_stack_add(out, s->v[i].frames, (uint64_t)v);

		if (ret)
			return ret;
	}
	return 0;
}

static int write_run(int runsfd, const struct an_report *r, size_t i, const char *slug,
		     const struct wctx *w)
{
	const struct an_run *run = &r->runs[i];
	const struct an_run *sync = an_sync_of(r, run);
	struct an_stackset off = {0};
	struct flame_args fa;
	char title[160];
	int fd, ret;

	ret = open_dir(runsfd, slug, w, &fd);
	if (ret)
		return ret;
	if (run->tl) {
		ret = write_file(fd, "spans.tsv", w, emit_spans, run->tl, NULL);
		if (!ret)
			ret = write_file(fd, "timeline.svg", w, emit_timeline, run, NULL);
		if (ret)
			goto out;
	}
	ret = to_us(&run->offcpu, 1e-3, &off);
	if (ret)
		goto out;
	snprintf(off.unavailable, sizeof(off.unavailable), "%s", run->offcpu.unavailable);
	off.errors = run->offcpu.errors;
	ret = write_file(fd, "oncpu.folded", w, emit_folded, &run->oncpu, NULL);
	if (!ret)
		ret = write_file(fd, "offcpu.folded", w, emit_folded, &off, NULL);
	if (!ret)
		ret = write_file(fd, "wall.folded", w, emit_folded, &run->wall, NULL);
	if (ret)
		goto out;
	snprintf(title, sizeof(title), "%s: wall clock (on- and off-CPU)", run->label);
	fa = (struct flame_args){title, "µs"};
	ret = write_file(fd, "flame-wall.svg", w, emit_flame, &run->wall, &fa);
	if (ret)
		goto out;
	snprintf(title, sizeof(title), "%s: on-CPU", run->label);
	fa = (struct flame_args){title, "samples"};
	ret = write_file(fd, "flame-oncpu.svg", w, emit_flame, &run->oncpu, &fa);
	if (ret)
		goto out;
	snprintf(title, sizeof(title), "%s: off-CPU", run->label);
	fa = (struct flame_args){title, "µs"};
	ret = write_file(fd, "flame-offcpu.svg", w, emit_flame, &off, &fa);
	if (ret)
		goto out;
	if (sync && sync != run) {
		struct diff_args d = {.base = &sync->wall, .title = title};

		snprintf(title, sizeof(title), "%s against %s: wall clock", run->label,
			 sync->label);
		ret = write_file(fd, "flame-diff.svg", w, emit_diff, &run->wall, &d);
	}
out:
	an_stackset_free(&off);
	close(fd);
	return ret;
}

int rp_write_outdir(const char *outdir, const struct an_report *r, uid_t uid, gid_t gid)
{
	struct wctx w = {.uid = uid, .gid = gid};
	char (*slugs)[SLUG_MAX] = run_slugs(r);
	int dfd, runsfd, ret;

	if (!slugs) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = open_dir(AT_FDCWD, outdir, &w, &dfd);
	if (ret)
		goto out_free;
	ret = open_dir(dfd, "runs", &w, &runsfd);
	if (ret)
		goto out_close;
	for (size_t i = 0; i < r->nruns && !ret; i++)
		ret = write_run(runsfd, r, i, slugs[i], &w);
	close(runsfd);
	if (!ret)
		ret = write_file(dfd, "summary.json", &w, emit_summary, r, NULL);
	if (!ret)
		ret = write_file(dfd, "trace.json", &w, emit_perfetto, r, NULL);
	if (!ret)
		ret = write_file(dfd, "report.html", &w, emit_html, r, NULL);
out_close:
	close(dfd);
out_free:
	free(slugs);
	return ret;
}

/* ---- loading ---- */

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

/* Rebuild the run's timeline from spans.tsv through the timeline's own API. */
static int load_spans(const char *dir, const char *slug, struct an_run *run, char *err,
		      size_t errlen)
{
	char path[4200], *line = NULL, *fl[12];
	size_t cap = 0;
	ssize_t n;
	struct tl_timeline *tl = NULL;
	struct lf l = {.path = path, .err = err, .errlen = errlen};
	uint64_t ws = 0, we = 0, unmatched = 0, ioid = 0, cur_tid = 0;
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
	tl = tl_new();
	if (!tl) {
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
			if (strncmp(line, SPANS_MAGIC, strlen(SPANS_MAGIC))) {
				ret = lf_fail(&l, "not an iotrace spans file (first line should "
						  "start with '" SPANS_MAGIC "')");
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
			struct tl_thread *t;
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
			/*
			 * A tid the kernel reused has a second thread line starting at or after
			 * the first one's end: tl_thread_add then opens a new entry, as it did
			 * when the run was traced.
			 */
			t = tl_thread_add(tl, (uint32_t)v[0], (uint32_t)v[1], v[2], TL_COMPUTE,
					  comm);
			if (!t) {
				ret = -ENOMEM;
				break;
			}
			snprintf(t->role, sizeof(t->role), "%s", role);
			t->reads = v[4];
			t->bytes_read = v[5];
			t->ctx_switches = v[6];
			ret = tl_thread_exit(tl, (uint32_t)v[1], v[3], comm);
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
			ret = tl_io_begin(tl, ++ioid, v[0]);
			if (!ret)
				ret = tl_io_end(tl, ioid, v[1]);
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
			tl_gap(tl, (uint32_t)v[0], v[1], v[2]);
		} else {
			if (nf != 4 || !parse_u64(fl[0], &v[0]) || !parse_u64(fl[1], &v[1]) ||
			    !parse_u64(fl[2], &v[2]) || v[2] < v[1] ||
			    (st = tl_state_from_name(fl[3])) < 0) {
				ret = lf_fail(&l, "expected 'TID START END STATE' (a span), or a "
						  "'window', 'thread', 'gap' or 'io' line");
				break;
			}
			if (!have_thread || v[0] != cur_tid) {
				ret = lf_fail(&l, "a span of a tid other than the 'thread' line "
						  "above it");
				break;
			}
			/*
			 * The thread was born in compute at START; a first span at the same
			 * instant replaces that (an empty span is dropped by tl_finish).
			 */
			ret = tl_transition(tl, 0, (uint32_t)v[0], v[1], (enum tl_state)st);
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
	if (!ret) {
		ret = tl_finish(tl, ws, we);
		if (ret)
			snprintf(err, errlen, "%s: failed to rebuild the timeline: %s", path,
				 strerror(-ret));
	}
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "failed to load %s: %s", path, strerror(ENOMEM));
		tl_free(tl);
		return ret;
	}
	tl->io_unmatched = unmatched;
	run->tl = tl;
	return 0;
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
	char path[4200], (*slugs)[SLUG_MAX] = NULL;
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
		slugs = run_slugs(r);
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
		if (!ret)
			ret = an_run_wall(run);
	}
	free(slugs);
	if (ret) {
		an_report_free(r);
		memset(r, 0, sizeof(*r));
	}
	return ret;
}
