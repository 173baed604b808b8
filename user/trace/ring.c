/* ring.c - the consumer of the probes' BPF ring buffer, its data mapped once (see ring.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ring.h"

/*
 * The layout the kernel exposes (kernel/bpf/ringbuf.c): page 0 holds the consumer
 * position (ours to write), page 1 the producer position, then the data area of
 * max_entries bytes (a power of two, whole pages). Each record is an 8-byte header (length
 * with a busy and a discard bit, then the page offset) and its data, rounded up to 8.
 */
struct rg {
	rg_fn fn;
	void *ctx;
	int epfd;
	size_t page, size, mask;
	unsigned long *cons;	   /* consumer position (RW page) */
	const unsigned long *prod; /* producer position (RO mapping, then the data) */
	const uint8_t *data;
	int fd;			   /* the map, to map the data again after rg_idle */
	uint8_t *wrap;		   /* a record that wraps around the end, made whole */
	size_t wrap_cap;
};

/* The producer page and ONE copy of the data (libbpf maps two). 0 or -errno. */
static int map_data(struct rg *r)
{
	void *p;

	if (r->prod)
		return 0;
	p = mmap(NULL, r->page + r->size, PROT_READ, MAP_SHARED, r->fd, (off_t)r->page);
	if (p == MAP_FAILED)
		return -errno;
	r->prod = p;
	r->data = (const uint8_t *)p + r->page;
	return 0;
}

struct rg *rg_new(int map_fd, rg_fn fn, void *ctx)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct epoll_event ev = {.events = EPOLLIN};
	struct rg *r;
	void *p;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len) < 0)
		return NULL;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1))) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fn = fn;
	r->ctx = ctx;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->size = info.max_entries;
	r->mask = r->size - 1;
	r->epfd = -1;
	r->fd = map_fd;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->cons = p;
	if (map_data(r) < 0)
		goto fail;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		goto fail;
	return r;
fail:
	err = errno;
	rg_free(r);
	errno = err;
	return NULL;
}

void rg_idle(struct rg *r)
{
	if (!r || !r->prod)
		return;
	munmap((void *)r->prod, r->page + r->size);
	r->prod = NULL;
	r->data = NULL;
	free(r->wrap);
	r->wrap = NULL;
	r->wrap_cap = 0;
}

void rg_free(struct rg *r)
{
	if (!r)
		return;
	if (r->cons)
		munmap(r->cons, r->page);
	if (r->prod)
		munmap((void *)r->prod, r->page + r->size);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r->wrap);
	free(r);
}

int rg_consume(struct rg *r)
{
	unsigned long cons = __atomic_load_n(r->cons, __ATOMIC_ACQUIRE), prod;
	int n = map_data(r);

	if (n < 0)
		return n;

	for (;;) {
		bool got = false;

		prod = __atomic_load_n(r->prod, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			size_t off = cons & r->mask;
			const uint32_t *hdr = (const uint32_t *)(r->data + off);
			uint32_t raw = __atomic_load_n(hdr, __ATOMIC_ACQUIRE), len;
			void *rec;

			if (raw & BPF_RINGBUF_BUSY_BIT)
				goto done; /* reserved, not yet submitted: the rest waits */
			got = true;
			len = raw & ~(uint32_t)BPF_RINGBUF_DISCARD_BIT;
			cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
			if (!(raw & BPF_RINGBUF_DISCARD_BIT)) {
				size_t start = (off + BPF_RINGBUF_HDR_SZ) & r->mask;
				int ret;

				if (start + len <= r->size) {
					rec = (void *)(r->data + start);
				} else {
					size_t first = r->size - start;

					if (len > r->wrap_cap) {
						uint8_t *w = realloc(r->wrap, len);

						if (!w)
							return -ENOMEM;
						r->wrap = w;
						r->wrap_cap = len;
					}
					memcpy(r->wrap, r->data + start, first);
					memcpy(r->wrap + first, r->data, len - first);
					rec = r->wrap;
				}
				ret = r->fn(r->ctx, rec, len);
				if (ret < 0) {
					__atomic_store_n(r->cons, cons, __ATOMIC_RELEASE);
					return ret;
				}
				n++;
			}
			__atomic_store_n(r->cons, cons, __ATOMIC_RELEASE);
		}
		if (!got)
			break;
	}
done:
	return n;
}

int rg_poll(struct rg *r, int timeout_ms)
{
	struct epoll_event ev;
	int cnt = epoll_wait(r->epfd, &ev, 1, timeout_ms);

	if (cnt < 0)
		return errno == EINTR ? 0 : -errno;
	return rg_consume(r);
}
