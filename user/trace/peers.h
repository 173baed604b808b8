/* peers.h - the other end of a socket a traced process waited on. */
#ifndef IOTRACE_PEERS_H
#define IOTRACE_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "iotrace.h"

struct pr_peer {
	char addr[64];		/* "127.0.0.1:8000", "[::1]:8000", "unix socket" */
	bool local;		/* on this machine */
	uint32_t pid;		/* the process holding the other end, 0 not found */
	char comm[16];		/* its name and argv while it lives ("" after) */
	char cmdline[128];
};

/*
 * The other end of socket k, now: a unix socket's from the probes (the process that made
 * it), a connection on this machine's from the kernel's socket tables and every process's
 * fds (the connection's other end if still open, else the socket listening on its port).
 * Call it while that end's process may still live: at the run's end.
 */
void pr_find(const struct it_sock_key *k, struct pr_peer *p);

/* Do a and b have the same waiting process and the same other end (their own ends aside)? */
bool pr_same_end(const struct it_sock_key *a, const struct it_sock_key *b);

#endif /* IOTRACE_PEERS_H */
