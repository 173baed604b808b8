/* md5dir.c - MD5 of every regular file in a directory, under six concurrency strategies. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "wl_internal.h"
#include "workload.h"

/* What every strategy shares: the file list, where results go, the digest. */
struct job {
	const struct wl_opts *o;
	const char *dir;
	int dirfd;
	char **paths;
	size_t n;
	struct wl_file_result *res; /* n, indexed like paths */
	unsigned char *done;	    /* procs: which results were written */
	size_t chunk;
	unsigned nthreads;
	EVP_MD *md5;
	_Atomic size_t *next; /* the work queue: next file index to take */
	pthread_mutex_t *gil;
	bool hold_io;
	unsigned pool; /* reported pool size */
	char note[256];
};

/* The kernel's readahead for this file: doubled (SEQUENTIAL, as md5sum asks) or off
 * (RANDOM: each read fetches what it asks for, so only the strategy's own concurrency
 * overlaps the disk with the hashing). */
static void advise(const struct job *j, int fd)
{
	posix_fadvise(fd, 0, 0, j->o->readahead_off ? POSIX_FADV_RANDOM : POSIX_FADV_SEQUENTIAL);
}

/* Open for reading without following a symlink or blocking on a FIFO that replaced a
 * listed file; -errno. */
static int open_file(struct job *j, size_t i, struct stat *st)
{
	int fd, fl;

	fd = openat(j->dirfd, j->paths[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
	}
	/* O_NONBLOCK only guarded the open; io_uring would take it as "never wait" */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	advise(j, fd);
	return fd;
}

static void gil_drop(struct job *j)
{
	if (j->gil && !j->hold_io)
		pthread_mutex_unlock(j->gil);
}

static void gil_take(struct job *j)
{
	if (j->gil && !j->hold_io)
		pthread_mutex_lock(j->gil);
}

/* read() loop until EOF, as md5sum does. With a GIL, the caller holds it; it is let go
 * around each system call unless hold_io, as CPython's _Py_read does. */
static void hash_one(struct job *j, size_t i, unsigned char *buf, EVP_MD_CTX *ctx,
		     struct wl_file_result *r)
{
	struct stat st;
	uint64_t got = 0;
	int fd;

	r->err = 0;
	gil_drop(j);
	fd = open_file(j, i, &st);
	gil_take(j);
	if (fd < 0) {
		r->err = -fd;
		return;
	}
	EVP_DigestInit_ex2(ctx, j->md5, NULL);
	for (;;) {
		ssize_t n;

		gil_drop(j);
		n = read(fd, buf, j->chunk);
		gil_take(j);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->err = errno;
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		got += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, r->md5, NULL);
	r->size = got;
	if (!r->err && got != (uint64_t)st.st_size)
		r->err = WL_ECHANGED;
	gil_drop(j);
	close(fd);
	gil_take(j);
}

static unsigned char *alloc_buf(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 1))
		return NULL;
	return p;
}

/* ---- sync, threads, gil: the same loop, on one or N threads ---- */

struct worker {
	struct job *j;
	unsigned id;
	pthread_t th;
	int err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job *j = w->j;
	unsigned char *buf = alloc_buf(j->chunk);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char name[32]; /* comm keeps 15: enough for 4 digits */

	if (w->id) {
		snprintf(name, sizeof(name), "iot-worker-%u", w->id);
		wl_name_self(name);
	}
	if (!buf || !ctx) {
		w->err = ENOMEM;
		goto out;
	}
	if (j->gil)
		pthread_mutex_lock(j->gil);
	for (;;) {
		size_t i = atomic_fetch_add(j->next, 1);

		if (i >= j->n)
			break;
		hash_one(j, i, buf, ctx, &j->res[i]);
	}
	if (j->gil)
		pthread_mutex_unlock(j->gil);
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return NULL;
}

static int run_threads(struct job *j, unsigned n)
{
	struct worker *w = calloc(n, sizeof(*w));
	unsigned started = 0;
	int ret = 0;

	if (!w)
		return -ENOMEM;
	for (unsigned t = 0; t < n; t++) {
		w[t].j = j;
		w[t].id = t + 1;
		ret = -pthread_create(&w[t].th, NULL, worker_main, &w[t]);
		if (ret < 0)
			break;
		started++;
	}
	for (unsigned t = 0; t < started; t++) {
		pthread_join(w[t].th, NULL);
		if (w[t].err && !ret)
			ret = -w[t].err;
	}
	free(w);
	return ret;
}

static int run_sync(struct job *j)
{
	struct worker w = {.j = j, .id = 0};

	worker_main(&w);
	return -w.err;
}

/* ---- procs: N processes take files from a shared counter, results in shared memory ---- */

static int run_procs(struct job *j, unsigned n)
{
	struct wl_file_result *shared;
	size_t bytes = j->n * sizeof(*shared) + j->n + 8 + sizeof(_Atomic size_t);
	pid_t *pids;
	void *map;
	int ret = 0;
	pid_t me = getpid();

	map = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (map == MAP_FAILED)
		return -errno;
	pids = calloc(n, sizeof(*pids));
	if (!pids) {
		munmap(map, bytes);
		return -ENOMEM;
	}
	shared = map;
	j->done = (unsigned char *)(shared + j->n);
	j->next = (_Atomic size_t *)(j->done + j->n);
	/* the counter lives after a byte array: keep it aligned */
	j->next = (_Atomic size_t *)(((uintptr_t)j->next + 7) & ~(uintptr_t)7);
	atomic_store(j->next, 0);
	for (unsigned p = 0; p < n; p++) {
		pid_t pid = fork();

		if (pid < 0) {
			ret = -errno;
			break;
		}
		if (pid == 0) {
			unsigned char *buf = alloc_buf(j->chunk);
			EVP_MD_CTX *ctx = EVP_MD_CTX_new();
			char name[32]; /* comm keeps 15: enough for 4 digits */

			snprintf(name, sizeof(name), "iot-proc-%u", p + 1);
			wl_name_self(name);
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			if (getppid() != me || !buf || !ctx)
				_exit(WL_EXIT_FAIL);
			for (;;) {
				size_t i = atomic_fetch_add(j->next, 1);

				if (i >= j->n)
					break;
				hash_one(j, i, buf, ctx, &shared[i]);
				j->done[i] = 1;
			}
			_exit(0); /* no atexit handlers, no stdio copies of the parent's */
		}
		pids[p] = pid;
	}
	for (unsigned p = 0; p < n; p++) {
		int st;

		if (!pids[p])
			continue;
		while (waitpid(pids[p], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			if (WIFSIGNALED(st))
				wl_child_err("md5dir procs: process %u was killed by signal %d",
					     p + 1, WTERMSIG(st));
			else
				wl_child_err("md5dir procs: process %u exited with status %d",
					     p + 1, WEXITSTATUS(st));
			if (!ret)
				ret = -ECHILD;
		}
	}
	for (size_t i = 0; i < j->n; i++) {
		j->res[i] = shared[i];
		if (!j->done[i])
			j->res[i].err = ECHILD; /* its process died before finishing it */
	}
	j->done = NULL;
	j->next = NULL;
	free(pids);
	munmap(map, bytes);
	return ret;
}

/* ---- callback: libuv uv_fs_* with callbacks, hashing on the loop thread ---- */

struct uvslot {
	uv_fs_t req;
	struct job *j;
	size_t idx;
	uv_file fd;
	int64_t off;
	uint64_t size; /* at open */
	unsigned char *buf;
	EVP_MD_CTX *ctx;
	char *path;
	size_t pathcap;
	size_t *next;
};

static void uv_start_next(struct uvslot *s);

static void uv_on_close(uv_fs_t *req)
{
	struct uvslot *s = req->data;

	uv_fs_req_cleanup(req);
	uv_start_next(s);
}

static void uv_finish(struct uvslot *s, int err)
{
	struct wl_file_result *r = &s->j->res[s->idx];

	EVP_DigestFinal_ex(s->ctx, r->md5, NULL);
	r->size = (uint64_t)s->off;
	r->err = err ? err : (uint64_t)s->off != s->size ? WL_ECHANGED : 0;
	if (uv_fs_close(s->req.loop, &s->req, s->fd, uv_on_close) < 0)
		uv_start_next(s);
}

static void uv_on_read(uv_fs_t *req);

static void uv_issue_read(struct uvslot *s)
{
	uv_buf_t b = uv_buf_init((char *)s->buf, (unsigned)s->j->chunk);
	int r = uv_fs_read(s->req.loop, &s->req, s->fd, &b, 1, s->off, uv_on_read);

	if (r < 0)
		uv_finish(s, -r);
}

static void uv_on_read(uv_fs_t *req)
{
	struct uvslot *s = req->data;
	ssize_t n = req->result;

	uv_fs_req_cleanup(req);
	if (n == UV_EINTR || n == UV_EAGAIN) {
		uv_issue_read(s);
		return;
	}
	if (n < 0) {
		uv_finish(s, (int)-n);
		return;
	}
	if (n == 0) {
		uv_finish(s, 0);
		return;
	}
	EVP_DigestUpdate(s->ctx, s->buf, (size_t)n);
	s->off += n;
	uv_issue_read(s);
}

static void uv_on_open(uv_fs_t *req)
{
	struct uvslot *s = req->data;
	ssize_t fd = req->result;
	struct stat st;

	uv_fs_req_cleanup(req);
	if (fd < 0) {
		s->j->res[s->idx].err = (int)-fd;
		uv_start_next(s);
		return;
	}
	s->fd = (uv_file)fd;
	s->off = 0;
	EVP_DigestInit_ex2(s->ctx, s->j->md5, NULL);
	/* on the loop thread: cheap, and it catches a FIFO or directory swapped in */
	if (fstat(s->fd, &st) < 0) {
		uv_finish(s, errno);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		uv_finish(s, S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
		return;
	}
	s->size = (uint64_t)st.st_size;
	advise(s->j, s->fd);
	uv_issue_read(s);
}

static void uv_start_next(struct uvslot *s)
{
	struct job *j = s->j;
	size_t need;
	int r;

	while (*s->next < j->n) {
		s->idx = (*s->next)++;
		need = strlen(j->dir) + strlen(j->paths[s->idx]) + 2;
		if (need > s->pathcap) {
			char *p = realloc(s->path, need);

			if (!p) {
				j->res[s->idx].err = ENOMEM;
				continue;
			}
			s->path = p;
			s->pathcap = need;
		}
		snprintf(s->path, need, "%s/%s", j->dir, j->paths[s->idx]);
		r = uv_fs_open(s->req.loop, &s->req, s->path,
			       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0, uv_on_open);
		if (r == 0)
			return;
		j->res[s->idx].err = -r;
	}
}

/* libuv 1.44 leaves its pool threads with the comm of the thread that created them. Give
 * each a name of its own: one work item per pool thread, each held until all have started
 * (or 300 ms: if the pool is smaller than we think, the rest go unnamed, nothing hangs). */
struct pool_namer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned want, seen;
};

static void name_pool_thread(uv_work_t *w)
{
	struct pool_namer *pn = w->data;
	struct timespec until;
	char name[32]; /* comm keeps 15: enough for 4 digits */
	unsigned id;

	pthread_mutex_lock(&pn->mu);
	id = ++pn->seen;
	pthread_cond_broadcast(&pn->cv);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 300 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (pn->seen < pn->want)
		if (pthread_cond_timedwait(&pn->cv, &pn->mu, &until))
			break;
	pthread_mutex_unlock(&pn->mu);
	snprintf(name, sizeof(name), "iot-uvpool-%u", id);
	wl_name_self(name);
}

static void name_pool_done(uv_work_t *w, int status)
{
	(void)w;
	(void)status;
}

/* The pool size libuv 1.44 will use (threadpool.c: env, clamped to 1..1024, default 4). */
static unsigned uv_pool_size(const struct wl_opts *o, bool *from_env)
{
	const char *e = getenv("UV_THREADPOOL_SIZE");
	char buf[16];
	long v;

	*from_env = e != NULL;
	if (!e && o->threads) {
		/* --threads sizes the pool when the environment does not */
		snprintf(buf, sizeof(buf), "%u", o->threads > 1024 ? 1024 : o->threads);
		setenv("UV_THREADPOOL_SIZE", buf, 1);
		e = getenv("UV_THREADPOOL_SIZE");
	}
	if (!e)
		return 4;
	v = atol(e);
	if (v <= 0)
		v = 1;
	if (v > 1024)
		v = 1024;
	return (unsigned)v;
}

static int run_callback(struct job *j)
{
	unsigned qd = j->o->qd ? j->o->qd : WL_DEF_QD_CALLBACK, pool;
	struct pool_namer pn = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct uvslot *slots;
	uv_work_t *works;
	uv_loop_t loop;
	size_t next = 0;
	bool from_env;
	int ret = 0;

	pool = uv_pool_size(j->o, &from_env);
	/* pool threads are born with this thread's comm: let even that one say what they are */
	wl_name_self("iot-uvpool");
	if (uv_loop_init(&loop))
		return -ENOMEM;
	slots = calloc(qd, sizeof(*slots));
	works = calloc(pool, sizeof(*works));
	if (!slots || !works) {
		ret = -ENOMEM;
		goto out;
	}
	pn.want = pool;
	for (unsigned i = 0; i < pool; i++) {
		works[i].data = &pn;
		uv_queue_work(&loop, &works[i], name_pool_thread, name_pool_done);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	wl_name_self("iot-loop");
	for (unsigned i = 0; i < qd; i++) {
		slots[i].j = j;
		slots[i].next = &next;
		slots[i].req.loop = &loop;
		slots[i].req.data = &slots[i];
		slots[i].buf = alloc_buf(j->chunk);
		slots[i].ctx = EVP_MD_CTX_new();
		if (!slots[i].buf || !slots[i].ctx) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (unsigned i = 0; i < qd; i++)
		uv_start_next(&slots[i]);
	uv_run(&loop, UV_RUN_DEFAULT);
	j->pool = pool;
	snprintf(j->note, sizeof(j->note),
		 "libuv pool: %u threads (UV_THREADPOOL_SIZE%s), %u files in flight", pool,
		 from_env	 ? " from the environment"
		 : j->o->threads ? " set from --threads"
				 : " unset: default 4",
		 qd);
out:
	for (unsigned i = 0; slots && i < qd; i++) {
		free(slots[i].buf);
		free(slots[i].path);
		EVP_MD_CTX_free(slots[i].ctx);
	}
	free(slots);
	free(works);
	uv_loop_close(&loop);
	return ret;
}

/* ---- uring: reads in flight over several files while the one thread hashes ---- */

/*
 * One thread keeps the queue full while it computes. Each of the qd buffers is free, in a
 * read, or holds a completed chunk waiting for its turn in its file's digest (a file is
 * hashed in order; files are independent). Up to maxfiles files are being read at once, so
 * one file's open, readahead ramp and tail overlap the others' reads. A buffer goes back to
 * the ring as soon as its chunk is hashed: the next read is submitted before the next chunk
 * is hashed, so reads stay in flight while the loop computes. Completions are reaped
 * without waiting while any are ready; the loop waits only when nothing is ready to hash.
 * Buffers and files are registered with the ring when the kernel allows it (no buffer
 * import or file lookup per read); plain reads otherwise.
 *
 * No IORING_SETUP_COOP_TASKRUN: a cold buffered read completes by task work, and without
 * that flag the kernel interrupts the hashing thread to run it as soon as the data is in,
 * so the completion (and the I/O a tracer sees under way) ends when the read did.
 */

struct ufile;

struct ureq {
	struct ufile *f;
	uint64_t off;
	size_t len, done;
	unsigned char *buf;
	unsigned bi; /* index among the registered buffers */
	bool complete, eof;
	struct ureq *next; /* in the file's FIFO, or the free list */
};

struct ufile {
	size_t idx;
	int fd;
	int slot; /* registered file slot, or -1: reads name fd */
	uint64_t size, issue_off, hashed;
	EVP_MD_CTX *ctx;
	struct ureq *head, *tail;
	unsigned pending; /* chunks issued and not yet hashed (or dropped) */
	bool truncated;
	int err;
};

struct uring_state {
	struct job *j;
	struct io_uring ring;
	struct ureq *free;
	struct ufile **files; /* open files, oldest first */
	unsigned nfiles, maxfiles;
	int *slots; /* free registered-file slots (a stack) */
	unsigned nslots;
	unsigned inflight;
	size_t next;
	bool fixed_bufs, fixed_files;
	uint64_t submitted, resubmitted, waits;
};

static void u_finalize(struct uring_state *u, unsigned k)
{
	struct ufile *f = u->files[k];
	struct wl_file_result *r = &u->j->res[f->idx];

	EVP_DigestFinal_ex(f->ctx, r->md5, NULL);
	r->size = f->hashed;
	r->err = f->err ? f->err : f->truncated || f->hashed != f->size ? WL_ECHANGED : 0;
	EVP_MD_CTX_free(f->ctx);
	if (f->slot >= 0) {
		int none = -1;

		io_uring_register_files_update(&u->ring, (unsigned)f->slot, &none, 1);
		u->slots[u->nslots++] = f->slot;
	}
	close(f->fd);
	free(f);
	memmove(&u->files[k], &u->files[k + 1], (u->nfiles - k - 1) * sizeof(*u->files));
	u->nfiles--;
}

/* Open the next listed file into the open set; false when none is left. */
static bool u_open_next(struct uring_state *u)
{
	struct job *j = u->j;

	while (u->next < j->n) {
		size_t i = u->next++;
		struct stat st;
		struct ufile *f;
		int fd = open_file(j, i, &st);

		if (fd < 0) {
			j->res[i].err = -fd;
			continue;
		}
		f = calloc(1, sizeof(*f));
		if (f)
			f->ctx = EVP_MD_CTX_new();
		if (!f || !f->ctx) {
			free(f);
			close(fd);
			j->res[i].err = ENOMEM;
			continue;
		}
		f->idx = i;
		f->fd = fd;
		f->slot = -1;
		f->size = (uint64_t)st.st_size;
		EVP_DigestInit_ex2(f->ctx, j->md5, NULL);
		if (u->fixed_files && u->nslots) {
			int s = u->slots[u->nslots - 1];

			if (io_uring_register_files_update(&u->ring, (unsigned)s, &fd, 1) == 1) {
				f->slot = s;
				u->nslots--;
			}
		}
		u->files[u->nfiles++] = f;
		if (f->size == 0) {
			u_finalize(u, u->nfiles - 1);
			continue;
		}
		return true;
	}
	return false;
}

static void u_prep(struct uring_state *u, struct ureq *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	struct ufile *f = q->f;
	int fd = f->slot >= 0 ? f->slot : f->fd;
	unsigned len = (unsigned)(q->len - q->done);

	/* never NULL: each buffer is in at most one read, and the ring has qd entries */
	if (u->fixed_bufs)
		io_uring_prep_read_fixed(sqe, fd, q->buf + q->done, len, q->off + q->done, q->bi);
	else
		io_uring_prep_read(sqe, fd, q->buf + q->done, len, q->off + q->done);
	if (f->slot >= 0)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, q);
	u->inflight++;
}

/* The open file that still has bytes to ask for and the fewest reads out (the oldest of
 * those: it streams ahead), opening another while fewer than maxfiles are being read. */
static struct ufile *u_pick(struct uring_state *u)
{
	struct ufile *best = NULL;
	unsigned issuing = 0;

	for (unsigned k = 0; k < u->nfiles; k++) {
		struct ufile *f = u->files[k];

		if (f->issue_off >= f->size)
			continue;
		issuing++;
		if (!best || f->pending < best->pending)
			best = f;
	}
	if (issuing < u->maxfiles && (!best || best->pending) && u_open_next(u))
		return u->files[u->nfiles - 1];
	return best;
}

/* Give every free buffer a read. */
static void u_fill(struct uring_state *u)
{
	struct ufile *f;

	while (u->free && (f = u_pick(u))) {
		struct ureq *q = u->free;
		uint64_t left = f->size - f->issue_off;

		u->free = q->next;
		q->f = f;
		q->off = f->issue_off;
		q->len = left < u->j->chunk ? (size_t)left : u->j->chunk;
		q->done = 0;
		q->complete = q->eof = false;
		q->next = NULL;
		if (f->tail)
			f->tail->next = q;
		else
			f->head = q;
		f->tail = q;
		f->pending++;
		f->issue_off += q->len;
		u_prep(u, q);
		u->submitted++;
	}
}

static int u_submit(struct uring_state *u)
{
	int ret;

	if (!io_uring_sq_ready(&u->ring))
		return 0;
	do
		ret = io_uring_submit(&u->ring);
	while (ret == -EINTR);
	return ret < 0 ? ret : 0;
}

static void u_complete(struct uring_state *u, struct ureq *q, int res)
{
	struct ufile *f = q->f;

	u->inflight--;
	if (res == -EAGAIN || res == -EINTR) {
		u_prep(u, q);
		u->resubmitted++;
		return;
	}
	if (res < 0) {
		if (!f->err)
			f->err = -res;
		q->complete = true;
	} else if (res == 0) {
		q->complete = q->eof = true; /* EOF before the size seen at open */
	} else {
		q->done += (size_t)res;
		if (q->done < q->len) {
			/* short read: the rest of this chunk, before anything after it is hashed */
			u_prep(u, q);
			u->resubmitted++;
			return;
		}
		q->complete = true;
	}
}

/* Take every completion that is ready, without waiting; how many. */
static unsigned u_reap(struct uring_state *u)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		u_complete(u, io_uring_cqe_get_data(cqe), cqe->res);
		seen++;
	}
	io_uring_cq_advance(&u->ring, seen);
	return seen;
}

/*
 * Hash every chunk that is next in its file, oldest file first; each buffer goes straight
 * back into a read, submitted before the next chunk is hashed. A file is finalized once
 * nothing more of it is due. Returns chunks hashed, or -errno from a submit.
 */
static int u_hash_ready(struct uring_state *u)
{
	int hashed = 0, ret;

	for (unsigned k = 0; k < u->nfiles;) {
		struct ufile *f = u->files[k];

		while (f->head && f->head->complete) {
			struct ureq *q = f->head;

			f->head = q->next;
			if (!f->head)
				f->tail = NULL;
			if (!f->err && !f->truncated) {
				EVP_DigestUpdate(f->ctx, q->buf, q->done);
				f->hashed += q->done;
				if (q->eof)
					f->truncated = true;
			}
			f->pending--;
			hashed++;
			if (f->err || f->truncated)
				f->issue_off = f->size; /* stop asking: it ended early or failed */
			q->next = u->free;
			u->free = q;
			u_fill(u);
			ret = u_submit(u);
			if (ret < 0)
				return ret;
		}
		if (f->err || f->truncated)
			f->issue_off = f->size;
		if (!f->pending && f->issue_off >= f->size)
			u_finalize(u, k);
		else
			k++;
	}
	return hashed;
}

static int u_setup(struct uring_state *u, struct ureq *reqs, unsigned qd)
{
	struct iovec *iov = calloc(qd, sizeof(*iov));
	unsigned maxslots = qd + u->maxfiles;
	int ret;

	ret = io_uring_queue_init(qd, &u->ring, 0);
	if (ret < 0) {
		wl_child_err("md5dir uring: io_uring_queue_init(%u): %s", qd, strerror(-ret));
		free(iov);
		return ret;
	}
	/* registering is an optimisation: a kernel or a memlock limit that refuses it leaves
	 * plain reads, which work everywhere io_uring does */
	if (iov) {
		for (unsigned i = 0; i < qd; i++) {
			iov[i].iov_base = reqs[i].buf;
			iov[i].iov_len = u->j->chunk;
		}
		u->fixed_bufs = io_uring_register_buffers(&u->ring, iov, qd) == 0;
		free(iov);
	}
	/* every open file holds a slot: those being read, and finished ones whose last
	 * chunks wait (each holds a buffer) */
	u->slots = calloc(maxslots, sizeof(*u->slots));
	if (u->slots && io_uring_register_files_sparse(&u->ring, maxslots) == 0) {
		u->fixed_files = true;
		for (unsigned i = 0; i < maxslots; i++)
			u->slots[u->nslots++] = (int)(maxslots - 1 - i);
	}
	return 0;
}

static int run_uring(struct job *j)
{
	unsigned qd = j->o->qd ? j->o->qd : WL_DEF_QD_URING;
	struct uring_state u = {.j = j};
	struct ureq *reqs;
	int ret;

	/* a few files at once, each at least two reads deep (its readahead streams on) */
	u.maxfiles = qd / 2 < 1 ? 1 : qd / 2 > WL_URING_FILES ? WL_URING_FILES : qd / 2;
	reqs = calloc(qd, sizeof(*reqs));
	u.files = calloc(qd + u.maxfiles, sizeof(*u.files));
	if (!reqs || !u.files) {
		free(reqs);
		free(u.files);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < qd; i++) {
		reqs[i].buf = alloc_buf(j->chunk);
		reqs[i].bi = i;
		if (!reqs[i].buf) {
			ret = -ENOMEM;
			goto out_bufs;
		}
		reqs[i].next = u.free;
		u.free = &reqs[i];
	}
	ret = u_setup(&u, reqs, qd);
	if (ret < 0)
		goto out_bufs;
	u_fill(&u);
	for (;;) {
		ret = u_submit(&u);
		if (ret < 0)
			break;
		if (!u.inflight && !u.nfiles)
			break;
		if (!u_reap(&u) && !u.free) {
			/* nothing ready and nothing to issue: wait for one */
			ret = io_uring_submit_and_wait(&u.ring, 1);
			if (ret < 0 && ret != -EINTR)
				break;
			u.waits++;
			continue;
		}
		ret = u_hash_ready(&u);
		if (ret < 0)
			break;
		if (!ret && u.inflight) {
			ret = io_uring_submit_and_wait(&u.ring, 1);
			if (ret < 0 && ret != -EINTR)
				break;
			u.waits++;
		}
		u_fill(&u);
	}
	if (ret < 0)
		wl_child_err("md5dir uring: io_uring_enter: %s", strerror(-ret));
	else
		ret = 0;
	/* a failed submit leaves files open: their digests stay ECANCELED */
	while (u.nfiles) {
		u.files[u.nfiles - 1]->err = ECANCELED;
		u_finalize(&u, u.nfiles - 1);
	}
	io_uring_queue_exit(&u.ring);
	snprintf(j->note, sizeof(j->note),
		 "io_uring: queue depth %u over up to %u files, %s buffers and files, %llu reads "
		 "(%llu resubmitted), waited %llu times",
		 qd, u.maxfiles,
		 u.fixed_bufs && u.fixed_files ? "registered"
		 : u.fixed_bufs		       ? "registered buffers, plain"
		 : u.fixed_files	       ? "plain buffers, registered"
					       : "plain",
		 (unsigned long long)u.submitted, (unsigned long long)u.resubmitted,
		 (unsigned long long)u.waits);
out_bufs:
	for (unsigned i = 0; i < qd; i++)
		free(reqs[i].buf);
	free(reqs);
	free(u.files);
	free(u.slots);
	return ret;
}

/* ---- warm-up, in the caller before the first run ---- */

static void *warm_thread(void *arg)
{
	return arg;
}

/*
 * What the first run would otherwise do alone: libcrypto's provider loaded and MD5's code
 * and tables paged in (fetch and hash one chunk), a ring set up and torn down at the
 * strategies' depth with its buffers registered, a libuv loop, a thread created and
 * joined. The runs are forks of this process: each starts from that state.
 */
int wl_md5dir_warmup(const struct wl_opts *o, char *did, size_t len)
{
	size_t chunk = o->chunk ? o->chunk : WL_DEF_CHUNK;
	unsigned qd = o->qd ? o->qd : WL_DEF_QD_URING;
	unsigned char *buf = alloc_buf(chunk), md[EVP_MAX_MD_SIZE];
	EVP_MD *md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	struct io_uring ring;
	struct iovec iov;
	uv_loop_t loop;
	pthread_t th;
	int ret = 0;

	if (!buf || !md5) {
		ret = buf ? -ENOENT : -ENOMEM;
		goto out;
	}
	memset(buf, 0xa5, chunk);
	EVP_Digest(buf, chunk, md, NULL, md5, NULL);
	if (io_uring_queue_init(qd, &ring, 0) == 0) {
		iov.iov_base = buf;
		iov.iov_len = chunk;
		io_uring_register_buffers(&ring, &iov, 1);
		io_uring_queue_exit(&ring);
	}
	if (uv_loop_init(&loop) == 0) {
		uv_run(&loop, UV_RUN_NOWAIT);
		uv_loop_close(&loop);
	}
	if (pthread_create(&th, NULL, warm_thread, NULL) == 0)
		pthread_join(th, NULL);
	snprintf(did, len,
		 "MD5 (libcrypto), io_uring, libuv and a thread used once before the first run "
		 "(every run is forked from that state)");
out:
	EVP_MD_free(md5);
	free(buf);
	return ret;
}

/* ---- the body ---- */

int wl_md5dir_run(const char *strategy, const struct wl_opts *o, int res_fd)
{
	struct job j = {.o = o, .dirfd = -1};
	struct wl_result r;
	pthread_mutex_t gil = PTHREAD_MUTEX_INITIALIZER;
	_Atomic size_t next = 0;
	uint64_t total;
	int ret, rc = WL_EXIT_OK;

	memset(&r, 0, sizeof(r));
	if (!o->dir) {
		wl_child_err("md5dir: no directory given");
		return WL_EXIT_INPUT;
	}
	j.dir = o->dir;
	j.chunk = o->chunk ? o->chunk : WL_DEF_CHUNK;
	if (j.chunk > WL_MAX_CHUNK)
		j.chunk = WL_MAX_CHUNK;
	j.nthreads = o->threads ? o->threads : wl_ncpu();
	j.next = &next;
	j.hold_io = o->gil_hold_io;
	j.dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j.dirfd < 0) {
		wl_child_err("md5dir: cannot open directory '%s': %s", o->dir, strerror(errno));
		return WL_EXIT_INPUT;
	}
	ret = wl_list_files(o->dir, &j.paths, &j.n, &total);
	if (ret < 0) {
		wl_child_err("md5dir: cannot list '%s': %s", o->dir, strerror(-ret));
		close(j.dirfd);
		return WL_EXIT_INPUT;
	}
	j.res = calloc(j.n ? j.n : 1, sizeof(*j.res));
	j.md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	if (!j.res || !j.md5) {
		wl_child_err("md5dir: %s", j.res ? "libcrypto has no MD5" : strerror(ENOMEM));
		rc = WL_EXIT_FAIL;
		goto out;
	}
	/* a file no strategy got to (it failed midway) must not pass for an empty digest */
	for (size_t i = 0; i < j.n; i++)
		j.res[i].err = ECANCELED;
	if (!strcmp(strategy, "sync")) {
		ret = run_sync(&j);
		snprintf(j.note, sizeof(j.note), "1 thread");
	} else if (!strcmp(strategy, "threads")) {
		ret = run_threads(&j, j.nthreads);
		snprintf(j.note, sizeof(j.note), "%u worker threads", j.nthreads);
	} else if (!strcmp(strategy, "gil")) {
		j.gil = &gil;
		ret = run_threads(&j, j.nthreads);
		snprintf(j.note, sizeof(j.note), "%u threads, one global lock %s", j.nthreads,
			 j.hold_io ? "held across reads" : "released around reads");
	} else if (!strcmp(strategy, "procs")) {
		ret = run_procs(&j, j.nthreads);
		snprintf(j.note, sizeof(j.note), "%u processes", j.nthreads);
	} else if (!strcmp(strategy, "callback")) {
		ret = run_callback(&j);
	} else if (!strcmp(strategy, "uring")) {
		ret = run_uring(&j);
	} else {
		wl_child_err("md5dir: unknown strategy '%s'", strategy);
		rc = WL_EXIT_FAIL;
		goto out;
	}
	if (ret < 0) {
		wl_child_err("md5dir %s: %s", strategy, strerror(-ret));
		rc = WL_EXIT_FAIL;
	}
	for (size_t i = 0; i < j.n; i++) {
		j.res[i].path = j.paths[i];
		r.bytes += j.res[i].size;
	}
	r.files = j.res;
	r.nfiles = j.n;
	r.pool_threads = j.pool;
	snprintf(r.note, sizeof(r.note), "%s", j.note);
	ret = wl_res_write(res_fd, &r);
	if (ret < 0) {
		wl_child_err("md5dir: cannot write results: %s", strerror(-ret));
		rc = WL_EXIT_FAIL;
	}
out:
	for (size_t i = 0; i < j.n; i++)
		free(j.paths[i]);
	free(j.paths);
	free(j.res);
	EVP_MD_free(j.md5);
	close(j.dirfd);
	return rc;
}
