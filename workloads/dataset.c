/* dataset.c - generated datasets, the file listing every workload uses, and page-cache control. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wl_internal.h"
#include "workload.h"

#define DATASET_PREFIX "iotrace-data-"
#define LIST_MAX_DEPTH 128

/* Filesystems whose pages have no block device behind them (or not one we can see). */
static const unsigned long not_disk[] = {
    TMPFS_MAGIC,
    RAMFS_MAGIC,
    OVERLAYFS_SUPER_MAGIC,
    NFS_SUPER_MAGIC,
    SMB_SUPER_MAGIC,
    0xFF534D42UL /* cifs */,
    0xFE534D42UL /* smb2 */,
    FUSE_SUPER_MAGIC,
    V9FS_MAGIC,
    PROC_SUPER_MAGIC,
    SYSFS_MAGIC,
    0x00c36400UL /* ceph */,
    0x6B414653UL /* afs */,
    0x19830326UL /* fhgfs */,
};

int wl_fs_disk_backed(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(not_disk) / sizeof(not_disk[0]); i++)
		if ((unsigned long)sf.f_type == not_disk[i])
			return 0;
	return 1;
}

/* ---- generated datasets ---- */

/* xoshiro256**: fast enough to write random files at disk speed, seeded by getrandom() */
struct prng {
	uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t prng_next(struct prng *p)
{
	uint64_t *s = p->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static int prng_seed(struct prng *p)
{
	size_t got = 0;

	while (got < sizeof(p->s)) {
		ssize_t n = getrandom((char *)p->s + got, sizeof(p->s) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	if (!(p->s[0] | p->s[1] | p->s[2] | p->s[3]))
		p->s[0] = 1;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "file-" then at least six digits: the names wl_dataset_create() makes */
static bool ours(const char *name)
{
	size_t digits = 0;

	if (strncmp(name, "file-", 5))
		return false;
	for (const char *p = name + 5; *p; p++, digits++)
		if (*p < '0' || *p > '9')
			return false;
	return digits >= 6;
}

int wl_dataset_create(const char *base, unsigned nfiles, uint64_t size, uid_t uid, gid_t gid,
		      char **dir)
{
	enum { BUF = 1 << 20 };
	struct prng rng;
	uint64_t *buf = NULL;
	char *path = NULL;
	int dfd = -1, ret;

	*dir = NULL;
	if (!base || !nfiles)
		return -EINVAL;
	ret = wl_fs_disk_backed(base);
	if (ret <= 0)
		return ret < 0 ? ret : -EXDEV;
	ret = prng_seed(&rng);
	if (ret < 0)
		return ret;
	/* the creator's pid in the name lets wl_dataset_sweep() find what a killed run left */
	if (asprintf(&path, "%s/" DATASET_PREFIX "%d-XXXXXX", base, (int)getpid()) < 0)
		return -ENOMEM;
	if (!mkdtemp(path)) {
		ret = -errno;
		free(path);
		return ret;
	}
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	buf = malloc(BUF);
	if (dfd < 0 || !buf) {
		ret = dfd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	if (uid != (uid_t)-1 && fchown(dfd, uid, gid) < 0) {
		ret = -errno;
		goto fail;
	}
	for (unsigned i = 0; i < nfiles; i++) {
		char name[32];
		uint64_t left = size;
		int fd;

		snprintf(name, sizeof(name), "file-%06u", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			ret = -errno;
			goto fail;
		}
		ret = uid != (uid_t)-1 && fchown(fd, uid, gid) < 0 ? -errno : 0;
		while (!ret && left) {
			size_t n = left < BUF ? (size_t)left : BUF;

			for (size_t w = 0; w < (n + 7) / 8; w++)
				buf[w] = prng_next(&rng);
			ret = write_all(fd, buf, n);
			left -= n;
		}
		if (close(fd) < 0 && !ret)
			ret = -errno;
		if (ret)
			goto fail;
	}
	free(buf);
	close(dfd);
	*dir = path;
	return 0;
fail:
	free(buf);
	if (dfd >= 0)
		close(dfd);
	wl_dataset_remove(path);
	free(path);
	return ret;
}

int wl_dataset_remove(const char *dir)
{
	const char *base;
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if (!dir)
		return -EINVAL;
	base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	if (strncmp(base, DATASET_PREFIX, strlen(DATASET_PREFIX)))
		return -EINVAL;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (ours(e->d_name) && unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
			ret = -errno;
	closedir(d);
	if (rmdir(dir) < 0)
		return -errno;
	return ret;
}

/* "<prefix><pid>-..." whose pid is gone: what a killed run left behind */
bool wl_orphan_name(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long pid;

	if (strncmp(name, prefix, n) || name[n] < '1' || name[n] > '9')
		return false;
	errno = 0;
	pid = strtol(name + n, &end, 10);
	if (errno || *end != '-' || pid <= 0 || pid > INT_MAX)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/*
 * Only real directories owned by root or the caller: a symlink an unprivileged user planted
 * under such a name would otherwise have root delete the file-NNNNNN files of whatever
 * directory it points to. In a sticky base (/var/tmp) nobody else can swap the entry.
 */
int wl_dataset_sweep(const char *base, uid_t caller)
{
	struct dirent *e;
	int removed = 0;
	DIR *d = opendir(base);

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct stat st;
		char *path;

		if (!wl_orphan_name(e->d_name, DATASET_PREFIX))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != caller))
			continue;
		if (asprintf(&path, "%s/%s", base, e->d_name) < 0)
			break;
		if (wl_dataset_remove(path) == 0)
			removed++;
		free(path);
	}
	closedir(d);
	return removed;
}

/* ---- listing ---- */

struct list {
	char **v;
	size_t n, cap;
	uint64_t total;
};

static int add(struct list *l, const char *prefix, const char *name, const char *suffix)
{
	char *s;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (asprintf(&s, "%s%s%s%s", prefix, *prefix ? "/" : "", name, suffix) < 0)
		return -ENOMEM;
	l->v[l->n++] = s;
	return 0;
}

/* Walk dfd (consumed). Types come from d_type, or fstatat without following: nothing but
 * directories is ever opened. */
static int walk(struct list *l, int dfd, const char *prefix, int depth)
{
	struct dirent *e;
	DIR *d = fdopendir(dfd);
	int ret = 0;

	if (!d) {
		ret = -errno;
		close(dfd);
		return ret;
	}
	while (!ret && (errno = 0, e = readdir(d))) {
		unsigned char type = e->d_type;
		struct stat st;
		bool have_st = false;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (type == DT_UNKNOWN || type == DT_REG) {
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				/* vanished while listing: let the open report it */
				if (type == DT_REG)
					ret = add(l, prefix, e->d_name, "");
				continue;
			}
			have_st = true;
			type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_LNK;
		}
		if (type == DT_REG) {
			ret = add(l, prefix, e->d_name, "");
			if (have_st)
				l->total += (uint64_t)st.st_size;
		} else if (type == DT_DIR) {
			char *sub;
			int sfd = -1;

			if (depth < LIST_MAX_DEPTH)
				sfd = openat(dirfd(d), e->d_name,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd < 0) {
				/* "sub/": opening it fails the same way, and is reported */
				ret = add(l, prefix, e->d_name, "/");
				continue;
			}
			if (asprintf(&sub, "%s%s%s", prefix, *prefix ? "/" : "", e->d_name) < 0) {
				close(sfd);
				ret = -ENOMEM;
				break;
			}
			ret = walk(l, sfd, sub, depth + 1);
			free(sub);
			/* a subdirectory that vanished or cannot be read: reported via its entry */
			if (ret == -EACCES || ret == -ENOENT || ret == -EPERM)
				ret = add(l, prefix, e->d_name, "/");
		}
		/* symlinks, FIFOs, sockets, devices: skipped unopened */
	}
	if (!ret && errno && !e)
		ret = -errno;
	closedir(d);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wl_list_files(const char *dir, char ***paths, size_t *n, uint64_t *total_bytes)
{
	struct list l = {0};
	int fd, ret;

	*paths = NULL;
	*n = 0;
	if (total_bytes)
		*total_bytes = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = walk(&l, fd, "", 0);
	if (ret < 0) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		return ret;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	*paths = l.v;
	*n = l.n;
	if (total_bytes)
		*total_bytes = l.total;
	return 0;
}

/* ---- page cache ---- */

/* cachestat(2), Linux 6.5: tells whether a file has dirty pages (not in glibc 2.36) */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct cs_range {
	uint64_t off, len;
};
struct cs_stat {
	uint64_t cache, dirty, writeback, evicted, recently_evicted;
};

/* Pages of fd (size bytes) in the page cache, by mincore. */
static int resident_pages(int fd, uint64_t size, uint64_t *res, uint64_t *pages)
{
	long psz = sysconf(_SC_PAGESIZE);
	size_t np = (size_t)((size + (uint64_t)psz - 1) / (uint64_t)psz);
	unsigned char *vec;
	void *map;
	int ret = 0;

	*pages = np;
	*res = 0;
	if (!np)
		return 0;
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	vec = malloc(np);
	if (!vec)
		ret = -ENOMEM;
	else if (mincore(map, (size_t)size, vec) < 0)
		ret = -errno;
	else
		for (size_t i = 0; i < np; i++)
			*res += vec[i] & 1;
	free(vec);
	munmap(map, (size_t)size);
	return ret;
}

static int read_all(int fd, char *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
	}
}

static int make_cold(int fd)
{
	struct cs_range r = {0, 0};
	struct cs_stat cs;

	/* dirty or under writeback pages cannot be dropped: write them first, only if any */
	if (syscall(__NR_cachestat, fd, &r, &cs, 0) < 0 || cs.dirty || cs.writeback)
		if (fdatasync(fd) < 0)
			return -errno;
	return -posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

/* Prepare one file; adds to the page counts. Files that cannot be opened are left to the
 * workload to report. */
static int prepare_one(int dfd, const char *path, enum wl_cache mode, char *buf, size_t blen,
		       uint64_t *res, uint64_t *pages)
{
	uint64_t r = 0, p = 0;
	struct stat st;
	int fd, ret = 0;

	/* inside a directory, a symlink is not one of its files; a FILE given is followed */
	fd = openat(dfd, path,
		    O_RDONLY | O_NONBLOCK | O_CLOEXEC | (dfd == AT_FDCWD ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	for (int attempt = 0; attempt < 3; attempt++) {
		if (mode == WL_CACHE_WARM) {
			if (lseek(fd, 0, SEEK_SET) < 0) {
				ret = -errno;
				break;
			}
			ret = read_all(fd, buf, blen);
		} else {
			ret = make_cold(fd);
		}
		if (ret < 0)
			break;
		ret = resident_pages(fd, (uint64_t)st.st_size, &r, &p);
		if (ret < 0 || (mode == WL_CACHE_WARM ? r == p : r == 0))
			break;
	}
	*res += r;
	*pages += p;
out:
	close(fd);
	return ret;
}

int wl_cache_prepare(const char *path, enum wl_cache mode, double *resident)
{
	enum { BUF = 1 << 20 };
	uint64_t res = 0, pages = 0, total;
	struct stat st;
	char **paths = NULL, *buf;
	size_t n = 0;
	int ret = 0, dfd;

	if (resident)
		*resident = mode == WL_CACHE_WARM ? 1 : 0;
	if (mode == WL_CACHE_NONE)
		return 0;
	if (mode != WL_CACHE_WARM && mode != WL_CACHE_COLD)
		return -EINVAL;
	if (stat(path, &st) < 0)
		return -errno;
	if (mode == WL_CACHE_COLD) {
		ret = wl_fs_disk_backed(path);
		if (ret <= 0)
			return ret < 0 ? ret : -EOPNOTSUPP;
	}
	buf = malloc(BUF);
	if (!buf)
		return -ENOMEM;
	if (S_ISDIR(st.st_mode)) {
		ret = wl_list_files(path, &paths, &n, &total);
		if (ret < 0)
			goto out;
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			ret = -errno;
			goto out;
		}
		for (size_t i = 0; i < n && ret >= 0; i++)
			ret = prepare_one(dfd, paths[i], mode, buf, BUF, &res, &pages);
		close(dfd);
	} else if (S_ISREG(st.st_mode)) {
		ret = prepare_one(AT_FDCWD, path, mode, buf, BUF, &res, &pages);
	} else {
		ret = -EINVAL;
	}
	if (ret >= 0 && resident)
		*resident = pages ? (double)res / (double)pages : mode == WL_CACHE_WARM ? 1 : 0;
out:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(buf);
	return ret < 0 ? ret : 0;
}
