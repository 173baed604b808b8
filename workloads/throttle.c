/* throttle.c - size/rate parsing and the read-bandwidth cgroup that emulates a slow disk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "wl_internal.h"
#include "workload.h"

/* ---- parsing ---- */

static const struct {
	const char *unit;
	uint64_t mult;
} units[] = {
    {"", 1},
    {"B", 1},
    {"k", 1ULL << 10},
    {"K", 1ULL << 10},
    {"Ki", 1ULL << 10},
    {"KiB", 1ULL << 10},
    {"M", 1ULL << 20},
    {"Mi", 1ULL << 20},
    {"MiB", 1ULL << 20},
    {"G", 1ULL << 30},
    {"Gi", 1ULL << 30},
    {"GiB", 1ULL << 30},
    {"T", 1ULL << 40},
    {"Ti", 1ULL << 40},
    {"TiB", 1ULL << 40},
    {"kB", 1000ULL},
    {"KB", 1000ULL},
    {"MB", 1000000ULL},
    {"GB", 1000000000ULL},
    {"TB", 1000000000000ULL},
};

static int parse_amount(const char *s, bool rate, uint64_t *out)
{
	uint64_t ip = 0, fp = 0, fscale = 1, mult = 0, v, f;
	char unit[8];
	size_t ulen;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, *p - '0', &ip))
			return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (fscale >= 1000000000ULL)
				return -EINVAL; /* more precision than any unit has bytes */
			fp = fp * 10 + (uint64_t)(*p - '0');
			fscale *= 10;
		}
	}
	ulen = strlen(p);
	if (rate && ulen >= 2 && !strcmp(p + ulen - 2, "/s"))
		ulen -= 2;
	if (ulen >= sizeof(unit))
		return -EINVAL;
	memcpy(unit, p, ulen);
	unit[ulen] = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i].unit))
			mult = units[i].mult;
	if (!mult)
		return -EINVAL;
	if (__builtin_mul_overflow(ip, mult, &v))
		return -EINVAL;
	/* fp/fscale of a unit must come out in whole bytes */
	if (__builtin_mul_overflow(fp, mult, &f) || f % fscale)
		return -EINVAL;
	if (__builtin_add_overflow(v, f / fscale, &v) || v > (uint64_t)INT64_MAX || v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int wl_parse_rate(const char *s, uint64_t *bps) { return parse_amount(s, true, bps); }

int wl_parse_size(const char *s, uint64_t *bytes) { return parse_amount(s, false, bytes); }

/* ---- the device ---- */

static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	size_t len = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

/* The sysfs directory of MAJ:MIN, moved from a partition to its disk. */
static int disk_dir(unsigned maj, unsigned min, char *out, size_t len)
{
	char link[64], real[PATH_MAX], part[PATH_MAX + 16];

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", maj, min);
	if (!realpath(link, real))
		return -errno;
	snprintf(part, sizeof(part), "%s/partition", real);
	if (access(part, F_OK) == 0) {
		char *slash = strrchr(real, '/');

		if (!slash)
			return -ENODEV;
		*slash = 0;
	}
	if (strlen(real) >= len)
		return -ENAMETOOLONG;
	strcpy(out, real);
	return 0;
}

struct hier {
	char root[PATH_MAX]; /* mount point */
	int v2;
};

/* Where to throttle: v2 when its root hands the io controller down, else v1 blkio. */
static int find_hierarchy(struct hier *h)
{
	char line[4096], v2root[PATH_MAX] = "", v1root[PATH_MAX] = "";
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], *sep, fstype[64], src[256], opts[1024];

		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s %255s %1023s", fstype, src, opts) != 3)
			continue;
		if (!strcmp(fstype, "cgroup2") && !v2root[0])
			snprintf(v2root, sizeof(v2root), "%s", mnt);
		if (!strcmp(fstype, "cgroup") && !v1root[0]) {
			for (char *o = strtok(opts, ","); o; o = strtok(NULL, ","))
				if (!strcmp(o, "blkio"))
					snprintf(v1root, sizeof(v1root), "%s", mnt);
		}
	}
	fclose(f);
	if (v2root[0]) {
		char path[PATH_MAX + 32], ctl[256];

		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", v2root);
		if (read_line(path, ctl, sizeof(ctl)) == 0) {
			for (char *o = strtok(ctl, " "); o; o = strtok(NULL, " "))
				if (!strcmp(o, "io")) {
					snprintf(h->root, sizeof(h->root), "%s", v2root);
					h->v2 = 1;
					return 0;
				}
		}
	}
	if (v1root[0]) {
		snprintf(h->root, sizeof(h->root), "%s", v1root);
		h->v2 = 0;
		return 0;
	}
	return -ENODEV;
}

static int set_limit(const struct wl_throttle *t, const char *devno, uint64_t bps)
{
	char path[300 + 40], val[96];

	if (t->v2) {
		snprintf(path, sizeof(path), "%s/io.max", t->path);
		snprintf(val, sizeof(val), "%s rbps=%llu\n", devno, (unsigned long long)bps);
	} else {
		snprintf(path, sizeof(path), "%s/blkio.throttle.read_bps_device", t->path);
		snprintf(val, sizeof(val), "%s %llu\n", devno, (unsigned long long)bps);
	}
	return write_str(path, val);
}

/* Limit the disk itself; if the controller refuses it (some stacked devices), each of its
 * slaves' disks instead. */
static int limit_device(const struct wl_throttle *t, const char *sysdir, uint64_t bps, int depth)
{
	char path[PATH_MAX + 32], devno[32];
	struct dirent *e;
	DIR *d;
	int ret, got = 0;

	snprintf(path, sizeof(path), "%s/dev", sysdir);
	ret = read_line(path, devno, sizeof(devno));
	if (ret < 0)
		return ret;
	ret = set_limit(t, devno, bps);
	if (ret == 0 || depth > 4 || (ret != -EINVAL && ret != -ENODEV && ret != -EOPNOTSUPP))
		return ret;
	snprintf(path, sizeof(path), "%s/slaves", sysdir);
	d = opendir(path);
	if (!d)
		return ret;
	while ((e = readdir(d))) {
		char dev[PATH_MAX + 300], disk[PATH_MAX];
		unsigned maj, min;

		if (e->d_name[0] == '.')
			continue;
		snprintf(dev, sizeof(dev), "%s/%s/dev", path, e->d_name);
		if (read_line(dev, devno, sizeof(devno)) < 0 ||
		    sscanf(devno, "%u:%u", &maj, &min) != 2 ||
		    disk_dir(maj, min, disk, sizeof(disk)))
			continue;
		if (limit_device(t, disk, bps, depth + 1) == 0)
			got++;
	}
	closedir(d);
	return got ? 0 : ret;
}

int wl_throttle_setup(const char *dir, uint64_t bps, struct wl_throttle *t)
{
	char sysdir[PATH_MAX];
	unsigned char rnd[8];
	struct hier h;
	struct stat st;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!dir || !bps)
		return -EINVAL;
	if (stat(dir, &st) < 0)
		return -errno;
	ret = wl_fs_disk_backed(dir);
	if (ret <= 0 || major(st.st_dev) == 0)
		return ret < 0 ? ret : -EXDEV;
	ret = disk_dir(major(st.st_dev), minor(st.st_dev), sysdir, sizeof(sysdir));
	if (ret < 0)
		return ret == -ENOENT ? -EXDEV : ret;
	ret = find_hierarchy(&h);
	if (ret < 0)
		return ret;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	/* unguessable, and with our pid so that wl_throttle_sweep() can tell a leftover */
	ret = snprintf(t->path, sizeof(t->path), "%s/iotrace-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
		       h.root, (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		       rnd[6], rnd[7]);
	if (ret >= (int)sizeof(t->path)) {
		t->path[0] = 0;
		return -ENAMETOOLONG;
	}
	t->v2 = h.v2;
	snprintf(t->procs, sizeof(t->procs), "%s/cgroup.procs", t->path);
	if (mkdir(t->path, 0755) < 0) {
		ret = errno == EACCES || errno == EROFS ? -EPERM : -errno;
		t->path[0] = t->procs[0] = 0;
		return ret;
	}
	ret = limit_device(t, sysdir, bps, 0);
	/* a cgroup's id is its kernfs node's, which is the directory's inode number */
	if (ret == 0 && stat(t->path, &st) < 0)
		ret = -errno;
	if (ret < 0) {
		rmdir(t->path);
		t->path[0] = t->procs[0] = 0;
		return ret;
	}
	t->id = (uint64_t)st.st_ino;
	return 0;
}

int wl_throttle_remove(struct wl_throttle *t)
{
	char parent[sizeof(t->path) + 16], buf[4096];
	const char *base;
	int ret = 0;

	if (!t || !t->path[0])
		return 0;
	base = strrchr(t->path, '/');
	if (!base || strncmp(base + 1, "iotrace", 7))
		return -EINVAL;
	snprintf(parent, sizeof(parent), "%.*s/cgroup.procs", (int)(base - t->path), t->path);
	for (int attempt = 0; attempt < 100; attempt++) {
		int fd = open(t->procs, O_RDONLY | O_CLOEXEC);
		ssize_t n = 0;

		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		if (n > 0) {
			/* a leftover (say, a child of a killed run): back to the root */
			buf[n] = 0;
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
				char pid[32];

				snprintf(pid, sizeof(pid), "%s\n", line);
				write_str(parent, pid);
			}
		}
		if (rmdir(t->path) == 0 || errno == ENOENT) {
			ret = 0;
			break;
		}
		ret = -errno;
		if (errno != EBUSY)
			break;
		/* exiting tasks linger in the group for a moment */
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	if (!ret)
		t->path[0] = t->procs[0] = 0;
	return ret;
}

int wl_throttle_sweep(void)
{
	struct hier h;
	struct dirent *e;
	int removed = 0, ret;
	DIR *d;

	ret = find_hierarchy(&h);
	if (ret < 0)
		return ret == -ENODEV ? 0 : ret;
	d = opendir(h.root);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct wl_throttle t = {.v2 = h.v2};

		if (e->d_type != DT_DIR || !wl_orphan_name(e->d_name, "iotrace-"))
			continue;
		if (snprintf(t.path, sizeof(t.path), "%s/%s", h.root, e->d_name) >=
		    (int)sizeof(t.path))
			continue;
		snprintf(t.procs, sizeof(t.procs), "%s/cgroup.procs", t.path);
		if (wl_throttle_remove(&t) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
