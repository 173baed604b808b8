/* peers.c - the other end of a socket a traced process waited on: its address, and its process when it is on this machine. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peers.h"

#define PR_AF_UNIX 1
#define PR_AF_INET 2
#define PR_AF_INET6 10
#define PR_TCP_LISTEN 0x0a

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The address as IPv6 bytes (an IPv4 one mapped), to compare across the tcp and tcp6 tables. */
static void as_v6(uint16_t family, const uint8_t *a, uint8_t *out)
{
	if (family == PR_AF_INET) {
		memcpy(out, v4mapped, 12);
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
}

static bool is_any(const uint8_t *a6)
{
	static const uint8_t zero[16];

	return !memcmp(a6, zero, 16) || (!memcmp(a6, v4mapped, 12) && !memcmp(a6 + 12, zero, 4));
}

/* An address of this machine's loopback, or the socket's own address (a connection to
 * one of the machine's addresses runs over loopback with that address at both ends). */
static bool is_local(const struct it_sock_key *k)
{
	uint8_t d[16], s[16];
	static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	as_v6(k->family, k->daddr, d);
	as_v6(k->family, k->saddr, s);
	if (!memcmp(d, v4mapped, 12) && d[12] == 127)
		return true;
	return !memcmp(d, lo6, 16) || !memcmp(d, s, 16);
}

/* "127.0.0.1:8000", "[::1]:8000" */
static void format_addr(const struct it_sock_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (k->family == PR_AF_INET) {
		inet_ntop(AF_INET, k->daddr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, k->dport);
	} else {
		inet_ntop(AF_INET6, k->daddr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, k->dport);
	}
}

/* "0100007F:1F40" or 32 hex digits ":port": /proc/net/{tcp,udp}[6]'s address (the words
 * of the address as the kernel holds them, printed as native integers). */
static bool parse_addr(const char *s, uint8_t *a6, unsigned *port)
{
	size_t n = strcspn(s, ":");
	uint32_t w[4];

	if (n != 8 && n != 32)
		return false;
	for (size_t i = 0; i < n / 8; i++) {
		char h[9];

		memcpy(h, s + 8 * i, 8);
		h[8] = '\0';
		w[i] = (uint32_t)strtoul(h, NULL, 16);
	}
	if (n == 8)
		as_v6(PR_AF_INET, (const uint8_t *)w, a6);
	else
		memcpy(a6, w, 16);
	*port = (unsigned)strtoul(s + n + 1, NULL, 16);
	return true;
}

/*
 * The inode of the socket at the other end, from the kernel's tables of this network
 * namespace: the connection's other end if it is still open (its local end is our remote
 * one and the reverse), else the socket listening on (or, for UDP, bound to) our remote
 * address and port. 0 if none.
 */
static unsigned long peer_inode(const struct it_sock_key *k)
{
	static const char *const tcp[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	static const char *const udp[] = {"/proc/net/udp", "/proc/net/udp6"};
	const char *const *files = k->proto == 17 ? udp : tcp;
	uint8_t d[16], s[16];
	unsigned long listener = 0;

	as_v6(k->family, k->daddr, d);
	as_v6(k->family, k->saddr, s);
	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "re");
		char line[512];

		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp)) {
			char la[64], ra[64];
			unsigned st, lport, rport;
			unsigned long ino;
			uint8_t l6[16], r6[16];

			if (sscanf(line, " %*u: %63s %63s %x %*s %*s %*s %*s %*s %lu", la, ra, &st,
				   &ino) != 4)
				continue;
			if (!parse_addr(la, l6, &lport) || !parse_addr(ra, r6, &rport) || !ino)
				continue;
			if (lport != k->dport)
				continue;
			if (!memcmp(l6, d, 16) && rport == k->sport && !memcmp(r6, s, 16)) {
				fclose(fp);
				return ino;
			}
			if ((k->proto == 17 || st == PR_TCP_LISTEN) && (!memcmp(l6, d, 16) || is_any(l6)))
				listener = ino;
		}
		fclose(fp);
	}
	return listener;
}

/* The process holding socket inode ino open, by a walk of every process's fds; 0 none. */
static uint32_t inode_owner(unsigned long ino)
{
	char want[64], path[600], link[64];
	DIR *proc = opendir("/proc");
	struct dirent *e;
	uint32_t found = 0;

	if (!proc)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	while (!found && (e = readdir(proc))) {
		DIR *fds;
		struct dirent *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", e->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			ssize_t n;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", e->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (!strcmp(link, want)) {
				found = (uint32_t)strtoul(e->d_name, NULL, 10);
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* Its comm and argv (joined by spaces) while it lives; left "" otherwise. */
static void describe(struct pr_peer *p)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/comm", p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, p->comm, sizeof(p->comm) - 1);
		close(fd);
		p->comm[n > 0 ? n : 0] = '\0';
		p->comm[strcspn(p->comm, "\n")] = '\0';
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, p->cmdline, sizeof(p->cmdline) - 1);
		close(fd);
		if (n < 0)
			n = 0;
		p->cmdline[n] = '\0';
		while (n > 0 && p->cmdline[n - 1] == '\0')
			n--;
		for (ssize_t i = 0; i < n; i++)
			if (p->cmdline[i] == '\0')
				p->cmdline[i] = ' ';
	}
}

void pr_find(const struct it_sock_key *k, struct pr_peer *p)
{
	unsigned long ino;

	memset(p, 0, sizeof(*p));
	if (k->family == PR_AF_UNIX) {
		snprintf(p->addr, sizeof(p->addr), "unix socket");
		p->local = true;
		p->pid = k->peer_pid;
	} else {
		format_addr(k, p->addr, sizeof(p->addr));
		p->local = is_local(k);
		if (p->local) {
			ino = peer_inode(k);
			if (ino)
				p->pid = inode_owner(ino);
		}
	}
	if (p->pid)
		describe(p);
}

bool pr_same_end(const struct it_sock_key *a, const struct it_sock_key *b)
{
	if (a->pid != b->pid || a->family != b->family || a->proto != b->proto)
		return false;
	if (a->family == PR_AF_UNIX)
		return a->peer_pid == b->peer_pid;
	return a->dport == b->dport && !memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}
