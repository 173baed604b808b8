/* cli.h - what the subcommands share: the command table, exit codes, messages. */
#ifndef IOTRACE_CLI_H
#define IOTRACE_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Exit codes (documented in README.md). `iotrace trace` exits with the traced command's
 * status instead, as time(1) does.
 */
enum {
	IT_EXIT_OK = 0,
	IT_EXIT_FAIL = 1,	/* the run failed (workload error, I/O error writing output) */
	IT_EXIT_USAGE = 2,	/* bad command line */
	IT_EXIT_PERM = 3,	/* not root / missing CAP_BPF, CAP_PERFMON */
	IT_EXIT_KERNEL = 4,	/* kernel lacks BTF or a required probe cannot attach */
	IT_EXIT_INPUT = 5,	/* bad input: DIR missing/empty, not a run folder, bad summary */
	IT_EXIT_INTR = 130,	/* interrupted by SIGINT (143 for SIGTERM, 129 SIGHUP) */
};

struct it_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

int cmd_run(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* -v 1 (each run's details), -vv or --debug 2 (and libbpf's messages) */
extern int it_verbose;
/* libbpf's own messages: at -vv */
#define IT_VERBOSE_LIBBPF 2
extern const char *it_prog;

/* "iotrace: " + message on stderr. */
void it_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void it_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit code for "not permitted", with the message naming the fix (sudo). */
int it_require_root(const char *what);
/* The invoking user under sudo (SUDO_UID/SUDO_GID, as root only), else -1/-1. */
void it_sudo_ids(uid_t *uid, gid_t *gid);
/* A whole number of [min, max] from an option's argument; -EINVAL with a message naming
 * the option otherwise. */
int it_parse_uint(const char *s, const char *what, unsigned min, unsigned max, unsigned *v);
/* SIGINT, SIGTERM, SIGHUP to sa's handler (which only sets a flag), SIGHUP only unless
 * iotrace was started with it ignored (nohup); SIGPIPE ignored, so a closed stdout is a
 * write error, not a death. */
void it_catch_signals(const struct sigaction *sa);
/* The signals iotrace was started with ignoring (SIG_IGN), as it_catch_signals found them. */
extern sigset_t it_ignored_at_start;
/* Warn (stderr) about what the last run lost, naming the full ring buffer or map. */
struct tr_stats;
void it_warn_losses(const char *label, const struct tr_stats *st);

/* The terminal's width in columns (COLUMNS when set), 0 when fd is not a terminal. */
unsigned it_term_cols(int fd);

/* Which run is under way (progress.c): quiet prints nothing. */
struct it_progress {
	bool quiet, tty, drawn;
	unsigned cols, i, n;
	char label[96];
};
void it_progress_init(struct it_progress *p, bool quiet);
void it_progress_begin(struct it_progress *p, const char *label, unsigned i, unsigned n);
/* ss_spec.tick: redraw with the time since the run started (terminal only). */
void it_progress_tick(void *arg, uint64_t elapsed_ns);
/* Erase the line before anything else is written. */
void it_progress_end(struct it_progress *p);

#endif /* IOTRACE_CLI_H */
