/* outdir.c - the run folder: writes every file of the layout safely (reports/load.c reads it back). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "report.h"
#include "rp_json.h"

/*
 * Writing: the folder is opened once (O_NOFOLLOW) and every file is created relative to
 * its directory fd, as a new temporary (O_CREAT|O_EXCL|O_NOFOLLOW) renamed over the final
 * name when complete. So a symlink planted in the folder is replaced, never written
 * through; a reader never sees half a file; and re-rendering a folder in place works.
 */

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

/*
 * The folder names of all runs, in order: each run's slug, made unique among the runs
 * before it with "-2", "-3"... (labels are unique, but two may map to one slug). Loader
 * and writer both use this, so they agree. malloc'd; NULL on ENOMEM.
 */
char (*rp_run_slugs(const struct an_report *r))[RP_SLUG_MAX]
{
	char (*s)[RP_SLUG_MAX] = calloc(r->nruns ? r->nruns : 1, RP_SLUG_MAX);

	if (!s)
		return NULL;
	for (size_t i = 0; i < r->nruns; i++) {
		rp_slug(r->runs[i].label, s[i], RP_SLUG_MAX);
		for (unsigned k = 2;; k++) {
			size_t j;

			for (j = 0; j < i && strcmp(s[j], s[i]); j++)
				;
			if (j == i)
				break;
			rp_slug(r->runs[i].label, s[i], RP_SLUG_MAX - 12);
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
	fputs(RP_SPANS_MAGIC ": window WIN_START WIN_END IO_UNMATCHED; per thread a 'thread' "
	      "line, its spans 'TID START END STATE' and its lost stretches 'gap TID START END'; "
	      "'io START END' = I/O in flight; 'dev START END' = the device busy for the run (its "
	      "block requests); times in ns (see reports/report.h)\n",
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
		for (size_t s = 0; s < t->nspans; s++) {
			const struct tl_span *sp = &t->spans[s];
			const char *kind = rp_span_kind(sp->state, sp->kind);

			fprintf(f, "%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%s%s%s\n", t->tid,
				sp->start, sp->end, tl_state_name(sp->state), kind ? "\t" : "",
				kind ? kind : "");
		}
		for (size_t g = 0; g < t->ngaps; g++)
			fprintf(f, "gap\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\n", t->tid,
				t->gaps[g].start, t->gaps[g].end);
	}
	for (size_t i = 0; i < tl->nio; i++)
		fprintf(f, "io\t%" PRIu64 "\t%" PRIu64 "\n", tl->io[i].start, tl->io[i].end);
	for (size_t i = 0; i < tl->ndev; i++)
		fprintf(f, "dev\t%" PRIu64 "\t%" PRIu64 "\n", tl->dev[i].start, tl->dev[i].end);
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
	return rp_write_outdir_cb(outdir, r, uid, gid, NULL, NULL);
}

int rp_write_outdir_cb(const char *outdir, const struct an_report *r, uid_t uid, gid_t gid,
		       void (*before_summary)(void *ctx), void *ctx)
{
	struct wctx w = {.uid = uid, .gid = gid};
	char (*slugs)[RP_SLUG_MAX] = rp_run_slugs(r);
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
		ret = write_file(dfd, "trace.json", &w, emit_perfetto, r, NULL);
	if (!ret)
		ret = write_file(dfd, "report.html", &w, emit_html, r, NULL);
	/* last: its figures may cover the writing of the rest (before_summary) */
	if (!ret && before_summary)
		before_summary(ctx);
	if (!ret)
		ret = write_file(dfd, "summary.json", &w, emit_summary, r, NULL);
out_close:
	close(dfd);
out_free:
	free(slugs);
	return ret;
}
