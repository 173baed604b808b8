/* compute.c - the original's other two tests: readfile and fetch beside a BN factorial, and
 * the loopback HTTP server fetch talks to. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wl_internal.h"
#include "workload.h"

/* n! the way the original's reduce(lambda a, b: a * b, ...) does it: one multiplication by
 * each factor in turn, so the cost grows as n^2 like the Python it reproduces. */
long wl_factorial(unsigned n)
{
	BIGNUM *r = BN_new();
	long bits;

	if (!r || !BN_one(r)) {
		BN_free(r);
		return -ENOMEM;
	}
	for (unsigned i = 2; i <= n; i++)
		if (!BN_mul_word(r, i)) {
			BN_free(r);
			return -ENOMEM;
		}
	bits = BN_num_bits(r);
	BN_free(r);
	return bits;
}

/* Both workloads: an I/O task beside a compute task, in turn (sync) or at once (threads). */
struct pair {
	const struct wl_opts *o;
	/* I/O side result */
	struct wl_file_result file;
	char path[300];
	/* compute side */
	long bits;
};

static void *factorial_thread(void *arg)
{
	struct pair *p = arg;

	wl_name_self("iot-factorial");
	p->bits = wl_factorial(p->o->factorial_n ? p->o->factorial_n : WL_DEF_FACTORIAL);
	return NULL;
}

static int run_pair(const char *strategy, struct pair *p, void *(*io)(void *), const char *ioname,
		    int res_fd, const char *what)
{
	struct wl_result r;
	int rc = WL_EXIT_OK, ret;

	if (!strcmp(strategy, "sync")) {
		io(p);
		p->bits = wl_factorial(p->o->factorial_n ? p->o->factorial_n : WL_DEF_FACTORIAL);
	} else if (!strcmp(strategy, "threads")) {
		pthread_t a, b;

		(void)ioname;
		if ((ret = pthread_create(&a, NULL, io, p)) ||
		    (ret = pthread_create(&b, NULL, factorial_thread, p))) {
			wl_child_err("%s: cannot start a thread: %s", what, strerror(ret));
			return WL_EXIT_FAIL;
		}
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	} else {
		wl_child_err("%s: unknown strategy '%s'", what, strategy);
		return WL_EXIT_FAIL;
	}
	if (p->bits < 0) {
		wl_child_err("%s: factorial: %s", what, strerror((int)-p->bits));
		rc = WL_EXIT_FAIL;
	}
	memset(&r, 0, sizeof(r));
	p->file.path = p->path;
	r.files = &p->file;
	r.nfiles = 1;
	r.bytes = p->file.size;
	snprintf(r.note, sizeof(r.note), "%s %llu bytes%s%s; %u! has %ld bits", what,
		 (unsigned long long)p->file.size, p->file.err ? ": " : "",
		 p->file.err ? wl_strerror(p->file.err) : "",
		 p->o->factorial_n ? p->o->factorial_n : WL_DEF_FACTORIAL, p->bits);
	ret = wl_res_write(res_fd, &r);
	if (ret < 0) {
		wl_child_err("%s: cannot write results: %s", what, strerror(-ret));
		rc = WL_EXIT_FAIL;
	}
	return rc;
}

/* ---- readfile ---- */

static void *read_thread(void *arg)
{
	struct pair *p = arg;
	size_t chunk = p->o->chunk ? p->o->chunk : WL_DEF_CHUNK;
	char *buf;
	struct stat st;
	uint64_t got = 0;
	int fd;

	if (chunk > WL_MAX_CHUNK)
		chunk = WL_MAX_CHUNK;
	wl_name_self("iot-reader");
	fd = open(p->o->dir, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		p->file.err = errno;
		return NULL;
	}
	buf = malloc(chunk);
	if (!buf || fstat(fd, &st) < 0) {
		p->file.err = buf ? errno : ENOMEM;
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = read(fd, buf, chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			p->file.err = errno;
			break;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
	}
	p->file.size = got;
	if (!p->file.err && got != (uint64_t)st.st_size)
		p->file.err = WL_ECHANGED;
out:
	free(buf);
	close(fd);
	return NULL;
}

int wl_readfile_run(const char *strategy, const struct wl_opts *o, int res_fd)
{
	struct pair p = {.o = o};
	struct stat st;

	if (!o->dir) {
		wl_child_err("readfile: no file given");
		return WL_EXIT_INPUT;
	}
	if (stat(o->dir, &st) < 0 || !S_ISREG(st.st_mode)) {
		wl_child_err("readfile: '%s' %s", o->dir,
			     errno && !S_ISDIR(st.st_mode) ? strerror(errno)
							   : "is not a regular file");
		return WL_EXIT_INPUT;
	}
	snprintf(p.path, sizeof(p.path), "%s", o->dir);
	return run_pair(strategy, &p, read_thread, "iot-reader", res_fd, "read");
}

/* ---- fetch: the client ---- */

/* Deterministic body, so that a test can check what arrived. */
static unsigned char body[WL_FETCH_BODY];
static pthread_once_t body_once = PTHREAD_ONCE_INIT;

static void body_init(void)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < sizeof(body); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		body[i] = (unsigned char)x;
	}
}

const unsigned char *wl_fetch_body(void)
{
	pthread_once(&body_once, body_init);
	return body;
}

/* GET / and read the answer with read(): the wait is a socket receive the probes see. */
static void *fetch_thread(void *arg)
{
	struct pair *p = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->o->fetch_port)};
	size_t cap = WL_FETCH_BODY + 4096, len = 0, hlen = 0;
	unsigned long long clen = 0;
	char req[160], *buf, *hend = NULL;
	int fd, n;
	EVP_MD_CTX *ctx;

	wl_name_self("iot-fetch");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	buf = malloc(cap + 1);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!buf || fd < 0) {
		p->file.err = buf ? errno : ENOMEM;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		p->file.err = errno;
		goto out;
	}
	n = snprintf(req, sizeof(req),
		     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: iotrace\r\n"
		     "Connection: close\r\n\r\n",
		     p->o->fetch_port);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		p->file.err = errno ? errno : EIO;
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				p->file.err = ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			p->file.err = errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		buf[len] = 0;
		if (!hend && (hend = strstr(buf, "\r\n\r\n"))) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");

			hlen = (size_t)(hend - buf) + 4;
			if (cl && cl < hend)
				clen = strtoull(cl + 17, NULL, 10);
		}
		if (hend && clen && len - hlen >= clen)
			break;
	}
	if (!hend || strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 8, " 200", 4)) {
		p->file.err = EPROTO;
		goto out;
	}
	p->file.size = len - hlen;
	if (clen && p->file.size != clen)
		p->file.err = EPROTO;
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
		EVP_DigestUpdate(ctx, buf + hlen, p->file.size);
		EVP_DigestFinal_ex(ctx, p->file.md5, NULL);
	}
	EVP_MD_CTX_free(ctx);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

int wl_fetch_run(const char *strategy, const struct wl_opts *o, int res_fd)
{
	struct pair p = {.o = o};

	if (!o->fetch_port) {
		wl_child_err("fetch: no server port (wl_fetch_server_start() gives one)");
		return WL_EXIT_INPUT;
	}
	snprintf(p.path, sizeof(p.path), "http://127.0.0.1:%u/", o->fetch_port);
	return run_pair(strategy, &p, fetch_thread, "iot-fetch", res_fd, "fetched");
}

/* ---- fetch: the server, a thread of the caller's (outside the traced thread group) ---- */

/* Wait for fd (ignored if negative) to be ready for ev, or the stop eventfd (left readable,
 * so every wait after it sees it too): 1 ready, 0 timeout, -1 stop. */
static int wait_fd(const struct wl_server *srv, int fd, short ev, int timeout_ms)
{
	struct pollfd pf[2] = {{.fd = fd, .events = ev}, {.fd = srv->stop_fd, .events = POLLIN}};
	int n;

	do
		n = poll(pf, 2, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (pf[1].revents & POLLIN))
		return -1;
	if (n == 0)
		return 0;
	return (pf[0].revents & (ev | POLLERR | POLLHUP)) ? 1 : 0;
}

static void serve(struct wl_server *srv, int c)
{
	char req[4096], hdr[160];
	size_t len = 0, off;
	int hl;

	/* the request: up to its blank line (5 s of silence and we give up on it) */
	while (len < sizeof(req) - 1) {
		ssize_t n;

		if (wait_fd(srv, c, POLLIN, 5000) <= 0)
			return;
		n = recv(c, req + len, sizeof(req) - 1 - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	/* the delay that the client's thread spends blocked in read() */
	if (srv->delay_ms && wait_fd(srv, -1, 0, (int)srv->delay_ms) < 0)
		return;
	if (strncmp(req, "GET ", 4)) {
		hl = snprintf(hdr, sizeof(hdr),
			      "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
			      "Connection: close\r\n\r\n");
		send(c, hdr, (size_t)hl, MSG_NOSIGNAL);
		return;
	}
	hl = snprintf(hdr, sizeof(hdr),
		      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		      "Content-Length: %u\r\nConnection: close\r\n\r\n",
		      WL_FETCH_BODY);
	if (send(c, hdr, (size_t)hl, MSG_NOSIGNAL) != hl)
		return;
	for (off = 0; off < WL_FETCH_BODY;) {
		ssize_t n;

		if (wait_fd(srv, c, POLLOUT, 5000) <= 0)
			return;
		n = send(c, body + off, WL_FETCH_BODY - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
	srv->served++;
}

static void *server_thread(void *arg)
{
	struct wl_server *srv = arg;

	wl_name_self("iotrace-httpd");
	for (;;) {
		int c;

		if (wait_fd(srv, srv->listen_fd, POLLIN, -1) < 0)
			break;
		c = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(srv, c);
		close(c);
	}
	return NULL;
}

int wl_fetch_server_start(unsigned delay_ms, uint16_t *port, struct wl_server *srv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	sigset_t all, old;
	int one = 1, ret;

	memset(srv, 0, sizeof(*srv));
	srv->listen_fd = srv->stop_fd = -1;
	srv->delay_ms = delay_ms;
	wl_fetch_body();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	srv->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (srv->listen_fd < 0 || srv->stop_fd < 0)
		goto fail_errno;
	setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(srv->listen_fd, 16) < 0 ||
	    getsockname(srv->listen_fd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail_errno;
	srv->port = ntohs(sa.sin_port);
	/* the thread takes no signals: Ctrl-C is the caller's main thread's to handle */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&srv->thread, NULL, server_thread, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		ret = -ret;
		goto fail;
	}
	srv->running = true;
	if (port)
		*port = srv->port;
	return 0;
fail_errno:
	ret = -errno;
fail:
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	srv->listen_fd = srv->stop_fd = -1;
	return ret;
}

void wl_fetch_server_stop(struct wl_server *srv)
{
	uint64_t one = 1;

	if (!srv || !srv->running)
		return;
	if (write(srv->stop_fd, &one, sizeof(one)) != sizeof(one))
		pthread_cancel(srv->thread); /* cannot happen with an eventfd; never hang */
	pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
	close(srv->stop_fd);
	srv->listen_fd = srv->stop_fd = -1;
	srv->running = false;
}

int wl_fetch_service_start(struct wl_opts *o, void **svc)
{
	struct wl_server *srv = calloc(1, sizeof(*srv));
	int ret;

	if (!srv)
		return -ENOMEM;
	ret = wl_fetch_server_start(o->fetch_delay_ms, &o->fetch_port, srv);
	if (ret < 0) {
		free(srv);
		return ret;
	}
	*svc = srv;
	return 0;
}

void wl_fetch_service_stop(void *svc)
{
	wl_fetch_server_stop(svc);
	free(svc);
}
