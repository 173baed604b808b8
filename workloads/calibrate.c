/* calibrate.c - the storage ceiling measured: O_DIRECT reads, many in flight, in the run's cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wl_internal.h"

/*
 * What a strategy can reach is bounded by how fast the device (behind the throttle, if any)
 * delivers bytes to a reader that keeps it busy. A rate measured over a run's own busy
 * stretches is no such bound: a reader with one request in flight sees each request's
 * latency, and a throttled cgroup's requests are held before they are dispatched, so the
 * device looks fast while the cgroup is slow. So the ceiling is measured directly: reads
 * that skip the page cache (O_DIRECT, so the run's cache state is not disturbed and nothing
 * is served from memory), CAL_QD of them in flight, from the dataset's own files (the same
 * disk and placement), by a child placed in the run's throttle cgroup. The rate is the
 * least-squares slope of bytes completed against time, after the first CAL_SKIP_DIV-th of
 * the bytes: a throttle's initial allowance and the queue's ramp-up are left out, and the
 * throttle's own rhythm (blk-throttle releases a slice's budget at once, so completions
 * come in steps every 100 ms) averages out, where a rate between two chosen completions
 * would be off by up to a step.
 */
#define CAL_QD 32u
#define CAL_BLOCK (256u * 1024)
#define CAL_SKIP_DIV 8u

struct cal_msg {
	int err;		/* 0 or errno */
	double bps;		/* the fitted rate */
	uint64_t total_bytes, total_ns;
};

/* Least-squares fit of bytes against seconds, over the completions after the skip. */
struct cal_fit {
	double n, st, sb, stt, stb;
};

static void fit_add(struct cal_fit *f, double t, double b)
{
	f->n += 1;
	f->st += t;
	f->sb += b;
	f->stt += t * t;
	f->stb += t * b;
}

static double fit_slope(const struct cal_fit *f)
{
	double den = f->n * f->stt - f->st * f->st;

	return f->n >= 3 && den > 0 ? (f->n * f->stb - f->st * f->sb) / den : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct cal_file {
	int fd;
	uint64_t size, off;
};

/* The next block to read, round-robin over the files; false when every file is read. */
static bool next_block(struct cal_file *f, size_t nf, size_t *cur, int *fd, uint64_t *off)
{
	for (size_t tries = 0; tries < nf; tries++) {
		struct cal_file *c = &f[(*cur + tries) % nf];

		if (c->off + CAL_BLOCK <= c->size) {
			*fd = c->fd;
			*off = c->off;
			c->off += CAL_BLOCK;
			*cur = (*cur + tries + 1) % nf;
			return true;
		}
	}
	return false;
}

/* In the child: read up to max_bytes (or for max_ns) and measure. */
static void measure(const char *dir, char **paths, size_t n, uint64_t max_bytes, uint64_t max_ns,
		    struct cal_msg *m)
{
	struct io_uring ring;
	struct cal_file *files = calloc(n, sizeof(*files));
	void *buf = NULL;
	size_t nf = 0, cur = 0;
	unsigned inflight = 0, freeslot[CAL_QD], nfree = CAL_QD;
	uint64_t t0, skip_at = max_bytes / CAL_SKIP_DIV, mark_ns = 0, done = 0;
	struct cal_fit fit = {0};
	bool ring_ok = false;
	int ret;

	if (!files || posix_memalign(&buf, 4096, (size_t)CAL_QD * CAL_BLOCK)) {
		m->err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, paths[i]);
		fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (fd < 0) {
			if (errno == EINVAL) { /* the filesystem does not do O_DIRECT */
				m->err = EOPNOTSUPP;
				goto out;
			}
			continue;
		}
		if (fstat(fd, &st) || st.st_size < (off_t)CAL_BLOCK) {
			close(fd);
			continue;
		}
		files[nf++] = (struct cal_file){.fd = fd, .size = (uint64_t)st.st_size};
	}
	if (!nf) {
		m->err = ENODATA;
		goto out;
	}
	for (unsigned i = 0; i < CAL_QD; i++)
		freeslot[i] = i;
	ret = io_uring_queue_init(CAL_QD, &ring, 0);
	if (ret) {
		m->err = -ret;
		goto out;
	}
	ring_ok = true;
	t0 = now_ns();
	for (;;) {
		struct io_uring_cqe *cqe;
		bool more = done + (uint64_t)inflight * CAL_BLOCK < max_bytes &&
			    now_ns() - t0 < max_ns;

		while (more && nfree) {
			struct io_uring_sqe *sqe;
			uint64_t off;
			int fd;

			if (!next_block(files, nf, &cur, &fd, &off)) {
				more = false;
				break;
			}
			sqe = io_uring_get_sqe(&ring);
			if (!sqe)
				break;
			/* one buffer slot per request in flight, returned at its completion */
			nfree--;
			io_uring_prep_read(sqe, fd, (char *)buf + (size_t)freeslot[nfree] * CAL_BLOCK,
					   CAL_BLOCK, off);
			io_uring_sqe_set_data64(sqe, freeslot[nfree]);
			inflight++;
		}
		if (!inflight)
			break;
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR) {
			m->err = -ret;
			goto out;
		}
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			if (cqe->res < 0) {
				m->err = -cqe->res == EINVAL ? EOPNOTSUPP : -cqe->res;
				io_uring_cqe_seen(&ring, cqe);
				goto out;
			}
			done += (uint64_t)cqe->res;
			freeslot[nfree++] = (unsigned)io_uring_cqe_get_data64(cqe);
			inflight--;
			io_uring_cqe_seen(&ring, cqe);
			if (done >= skip_at) {
				uint64_t t = now_ns();

				if (!mark_ns)
					mark_ns = t;
				fit_add(&fit, (double)(t - mark_ns) / 1e9, (double)done);
			}
		}
	}
	m->total_bytes = done;
	m->total_ns = now_ns() - t0;
	m->bps = fit_slope(&fit);
	if (m->bps <= 0)
		m->err = ENODATA;
out:
	if (ring_ok)
		io_uring_queue_exit(&ring);
	for (size_t i = 0; i < nf; i++)
		close(files[i].fd);
	free(files);
	free(buf);
}

int wl_device_calibrate(const char *dir, const char *throttle_procs, uint64_t max_bytes,
			uint64_t max_ns, struct wl_ceiling *out)
{
	struct cal_msg m = {0};
	char **paths = NULL;
	size_t n = 0;
	uint64_t total = 0;
	int pfd[2], status, ret;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	ret = wl_list_files(dir, &paths, &n, &total);
	if (ret)
		return ret;
	if (pipe2(pfd, O_CLOEXEC)) {
		ret = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		m.err = throttle_procs ? -wl_cgroup_join(throttle_procs) : 0;
		if (!m.err)
			measure(dir, paths, n, max_bytes, max_ns, &m);
		if (write(pfd[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	ret = (int)read(pfd[0], &m, sizeof(m));
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret != (int)sizeof(m)) {
		ret = -EIO;
		goto out;
	}
	ret = -m.err;
	if (!ret) {
		out->bps = m.bps;
		out->bytes = m.total_bytes;
		out->ns = m.total_ns;
		out->qd = CAL_QD;
		out->block = CAL_BLOCK;
		out->throttled = throttle_procs != NULL;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return ret;
}
