/* cmd_trace.c - `iotrace trace -- CMD` / `-p PID`: the same analysis for any program. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "model/model.h"
#include "outdir.h"
#include "model/units.h"
#include "trace/session.h"

/*
 * How a trace ends, and what happens to the program:
 *   - CMD exits (or, with -p, the process does): the report covers its whole life; iotrace
 *     exits with CMD's status (128+N if signal N killed it), as time(1) does.
 *   - -d SECS elapse: the probes detach and the report is written at once; CMD keeps
 *     running and iotrace waits for it and exits with its status (it cannot leave it
 *     behind: the command dies with iotrace, PR_SET_PDEATHSIG). A -p process is left alone.
 *   - SIGINT/SIGTERM/SIGHUP to iotrace: the report covers what was traced until then; the
 *     signal is passed on to CMD (Ctrl-C at a terminal already sent it), which gets
 *     STOP_GRACE_MS to end before SIGKILL (a second signal kills it at once); iotrace exits
 *     128+N. A -p process is left alone.
 * Processes CMD leaves behind (a daemon it forked) are not waited for.
 * CMD is otherwise untouched: it has iotrace's stdin, stdout, stderr and terminal (the same
 * foreground process group), the signal dispositions iotrace was started with ignored stay
 * ignored, and the signals below that someone sends to iotrace reach it too.
 */
#define STOP_GRACE_MS 5000

static volatile sig_atomic_t stop_sig, nsignals, from_tty;
/* CMD's pid while it runs and is not reaped, 0 otherwise: where forwarded signals go */
static volatile sig_atomic_t cmd_pid;

/* Passed on to CMD without ending the trace (a program's own "reload", "dump", resize). */
static const int forwarded[] = {SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT};

static void on_forward(int sig, siginfo_t *info, void *uctx)
{
	int saved = errno;

	(void)uctx;
	/* the terminal signals the whole foreground group: CMD already has it */
	if (cmd_pid > 0 && !(info && info->si_code == SI_KERNEL))
		kill((pid_t)cmd_pid, sig);
	errno = saved;
}

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	stop_sig = sig;
	/* the terminal signals the whole foreground group, the command included */
	from_tty = info && info->si_code == SI_KERNEL;
	nsignals++;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iotrace trace [OPTIONS] -- CMD [ARGS...]\n"
		"       iotrace trace [OPTIONS] -p PID\n\n"
		"Traces any program with the same probes and analysis as `iotrace run`: where\n"
		"every thread's time went, how much I/O wait was hidden behind computation, why.\n"
		"CMD runs as the invoking user (SUDO_UID) and iotrace exits with its status.\n\n"
		"Options:\n"
		"  -p, --pid PID        attach to a running process (all its threads) instead\n"
		"  -d, --duration SECS  stop tracing after SECS seconds; the report is written\n"
		"                       then, the process keeps running (iotrace waits for CMD)\n"
		"      --no-follow      trace the process itself only, not the processes it\n"
		"                       starts; by default, as perf does, every child (fork/exec)\n"
		"                       is traced too, reported per process and as a whole (with\n"
		"                       -p: its existing children and theirs, and those born while\n"
		"                       tracing)\n"
		"      --follow         the default (kept for scripts that say it)\n"
		"  -l, --label NAME     name of the run (default: the command's name)\n"
		"  -o, --output DIR     report folder (default ./iotrace-out/run-N)\n"
		"      --json           print summary.json to stdout instead of the table (CMD's\n"
		"                       own stdout then goes to stderr, so stdout is JSON only)\n"
		"      --no-color       no colors even on a terminal\n"
		"  -F, --freq HZ        on-CPU stack sampling frequency (default 999)\n"
		"      --no-stacks      do not capture stacks\n"
		"      --ringbuf-mb N   probe ring buffer size in MiB (default: from the CPU count;\n"
		"                       raise it if the report says events were lost)\n"
		"  -v, --verbose        the run's details, thread table and findings; -vv:\n"
		"                       libbpf's messages too\n"
		"      --debug          as -vv\n"
		"  -h, --help           this help\n\n"
		"Examples:\n"
		"  sudo iotrace trace -- python3 hash_all.py ~/photos\n"
		"  sudo iotrace trace -- sh -c 'ls | xargs -P2 md5sum'\n"
		"  sudo iotrace trace -p 4242 -d 10\n\n"
		"The trace ends when CMD exits (a daemon it leaves behind is not waited for), when\n"
		"-d elapses, or on Ctrl-C (passed on to CMD; the report covers what was traced).\n"
		"CMD has iotrace's stdin, stdout, stderr and terminal; SIGUSR1, SIGUSR2, SIGWINCH,\n"
		"SIGALRM and SIGCONT sent to iotrace are passed on to it.\n"
		"A python program's waits for its interpreter lock (the GIL) show as lock_wait.\n\n"
		"Exit status: CMD's status (128+N if killed by signal N); 126/127 if CMD cannot be\n"
		"run; 128+N if iotrace itself was stopped by signal N (130 for Ctrl-C); with -p, 0\n"
		"when the process exited or -d elapsed; otherwise as iotrace run (1 failure,\n"
		"2 usage, 3 not permitted, 4 kernel, 5 bad input such as a PID that does not exist).\n");
}

enum { OPT_FOLLOW = 256, OPT_NO_FOLLOW, OPT_JSON, OPT_NO_COLOR, OPT_NO_STACKS, OPT_RINGBUF_MB,
       OPT_DEBUG };

static const struct option long_opts[] = {
	{"pid", required_argument, NULL, 'p'},
	{"duration", required_argument, NULL, 'd'},
	{"follow", no_argument, NULL, OPT_FOLLOW},
	{"no-follow", no_argument, NULL, OPT_NO_FOLLOW},
	{"label", required_argument, NULL, 'l'},
	{"output", required_argument, NULL, 'o'},
	{"json", no_argument, NULL, OPT_JSON},
	{"no-color", no_argument, NULL, OPT_NO_COLOR},
	{"freq", required_argument, NULL, 'F'},
	{"no-stacks", no_argument, NULL, OPT_NO_STACKS},
	{"ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB},
	{"verbose", no_argument, NULL, 'v'},
	{"debug", no_argument, NULL, OPT_DEBUG},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* As a shell would: 127 when CMD is nowhere to be found, 126 when it can't be executed. */
static int check_command(const char *cmd)
{
	char path[4096];
	const char *p = getenv("PATH");
	struct stat st;

	if (strchr(cmd, '/')) {
		if (stat(cmd, &st) < 0) {
			it_err("failed to run '%s': %s", cmd, strerror(errno));
			return 127;
		}
		goto found;
	}
	if (!p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)n, n ? p : ".", cmd);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			goto found;
		p += n;
		if (*p == ':')
			p++;
	}
	it_err("failed to run '%s': command not found in PATH", cmd);
	return 127;
found:
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		it_err("failed to run '%s': %s", cmd,
		       S_ISDIR(st.st_mode) ? "is a directory" : "permission denied (not executable)");
		return 126;
	}
	return 0;
}

/* A field of /proc/PID/status ("Tgid"), or -1. */
static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* State letter and flags of /proc/PID/stat (after the parenthesised comm). */
static int proc_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -EIO;
	return 0;
}

#define PF_KTHREAD_ 0x00200000UL /* include/linux/sched.h: a kernel thread */

/*
 * Can -p PID be traced? *pid may become the process of a thread id given. Returns 0 or an
 * exit code, having said why not.
 */
static int check_pid(pid_t *pidp)
{
	pid_t pid = *pidp;
	unsigned long flags = 0;
	char state = '?';
	long tgid;

	if (pid == getpid()) {
		it_err("failed to attach to process %d: that is iotrace itself; give the PID of "
		       "the program to trace",
		       (int)pid);
		return IT_EXIT_INPUT;
	}
	tgid = status_field(pid, "Tgid");
	if (tgid <= 0) {
		it_err("failed to attach to process %d: no such process (see ps or pgrep for "
		       "its PID)",
		       (int)pid);
		return IT_EXIT_INPUT;
	}
	if (tgid != pid) {
		/* /proc answers for thread ids too: trace the thread's process, as ps would */
		it_warn("%d is a thread of process %ld: tracing the whole process", (int)pid, tgid);
		pid = (pid_t)tgid;
		if (pid == getpid()) {
			it_err("failed to attach to process %d: that is iotrace itself", (int)pid);
			return IT_EXIT_INPUT;
		}
	}
	if (proc_stat(pid, &state, &flags) < 0) {
		it_err("failed to attach to process %d: no such process (it exited)", (int)pid);
		return IT_EXIT_INPUT;
	}
	if (flags & PF_KTHREAD_) {
		it_err("failed to attach to process %d: it is a kernel thread; iotrace traces "
		       "user processes",
		       (int)pid);
		return IT_EXIT_INPUT;
	}
	if (state == 'Z' || state == 'X') {
		it_err("failed to attach to process %d: it has exited (a zombie its parent has "
		       "not reaped)",
		       (int)pid);
		return IT_EXIT_INPUT;
	}
	*pidp = pid;
	return 0;
}

static bool process_gone(pid_t pid)
{
	char state;
	unsigned long flags;

	return proc_stat(pid, &state, &flags) < 0 || state == 'Z' || state == 'X';
}

/*
 * A command still running when the trace ended (-d, or a signal to iotrace): signal it with
 * sig (0: none), then wait for it. With grace_ms >= 0 it is killed (SIGKILL) if still there
 * after that long; with -1 it may run as long as it likes. A signal to iotrace while
 * waiting is passed on (unless the terminal sent it to the command too); the next one
 * kills. Returns the waitpid status, or -1 if it could not be collected.
 */
static int finish_child(struct wl_child *c, int sig, int grace_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0), status = 0, ret, waited = 0;
	sig_atomic_t seen = nsignals;
	/* with a grace period the command already has the signal, from us or the terminal */
	bool killed = sig == SIGKILL, passed = sig != 0 || grace_ms >= 0;

	if (sig)
		kill(c->pid, sig);
	while (pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};

		if (poll(&p, 1, 50) > 0)
			break;
		waited += 50;
		if (nsignals != seen && !killed) {
			seen = nsignals;
			if (!passed) {
				if (!from_tty)
					kill(c->pid, stop_sig);
				passed = true;
			} else {
				kill(c->pid, SIGKILL);
				killed = true;
			}
		}
		if (grace_ms >= 0 && waited >= grace_ms && !killed) {
			it_warn("the command (pid %d) was still running %s after the trace "
				"was stopped: killing it (SIGKILL)",
				(int)c->pid, un_fmt(UN_DUR, grace_ms * 1e6).s);
			kill(c->pid, SIGKILL);
			killed = true;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	cmd_pid = 0; /* about to be reaped: its pid may be reused from here on */
	do
		ret = wl_wait(c, &status, NULL, NULL);
	while (ret == -EINTR);
	return ret < 0 ? -1 : status;
}

/* The run's name when --label is not given: the command's, or the process's comm. */
static void default_label(pid_t pid, const char *cmd, char *name, size_t len)
{
	char path[64], comm[32] = "", tmp[256];
	FILE *f;

	if (!pid) {
		snprintf(tmp, sizeof(tmp), "%s", cmd);
		snprintf(name, len, "%s", basename(tmp));
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(name, len, "%s", comm[0] ? comm : "process");
}

int cmd_trace(int argc, char **argv)
{
	struct ss_session ss;
	struct an_report rep;
	struct ss_outcome oc = {.child = {.pid = -1}};
	struct ss_spec spec = {0};
	struct wl_opts o = {0};
	struct tr_opts to = {0};
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
	const char *label = NULL, *out_given = NULL;
	char err[512], name[64];
	bool json = false, color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), ss_ok = false;
	bool report_ok = false, win_ok = false;
	uint64_t win_user = 0, win_sys = 0;
	double secs = 0;
	pid_t pid = 0;
	int c, ret, rc = IT_EXIT_OK, json_fd = -1, status = -1;
	unsigned hz = 0;

	memset(&rep, 0, sizeof(rep));
	to.stacks = true;
	to.follow = true; /* a program's children are part of it, as for perf stat/record */
	optind = 1;
	/* '+': stop at the first non-option, so CMD's own options stay CMD's */
	while ((c = getopt_long(argc, argv, "+p:d:l:o:F:vh", long_opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'p':
			errno = 0;
			pid = (pid_t)strtol(optarg, &end, 10);
			if (errno || *end || pid <= 0) {
				it_err("invalid --pid '%s': expected a process id", optarg);
				return IT_EXIT_USAGE;
			}
			break;
		case 'd':
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno || *end || !(secs > 0) || secs > 1e7) {
				it_err("invalid --duration '%s': expected seconds, e.g. 10 or 0.5",
				       optarg);
				return IT_EXIT_USAGE;
			}
			break;
		case OPT_FOLLOW:
			to.follow = true;
			break;
		case OPT_NO_FOLLOW:
			to.follow = false;
			break;
		case 'l':
			label = optarg;
			break;
		case 'o':
			out_given = optarg;
			break;
		case OPT_JSON:
			json = true;
			color = false;
			break;
		case OPT_NO_COLOR:
			color = false;
			break;
		case 'F':
			if (it_parse_uint(optarg, "--freq", 1, 10000, &hz))
				return IT_EXIT_USAGE;
			break;
		case OPT_NO_STACKS:
			to.stacks = false;
			break;
		case OPT_RINGBUF_MB:
			if (it_parse_uint(optarg, "--ringbuf-mb", 1, 1024, &to.ringbuf_mb))
				return IT_EXIT_USAGE;
			break;
		case 'v':
			it_verbose++;
			break;
		case OPT_DEBUG:
			it_verbose = IT_VERBOSE_LIBBPF;
			break;
		case 'h':
			usage(stdout);
			return IT_EXIT_OK;
		default:
			fprintf(stderr, "Try 'iotrace trace --help'.\n");
			return IT_EXIT_USAGE;
		}
	}
	if (pid && optind < argc) {
		it_err("give either -p PID or -- CMD, not both");
		return IT_EXIT_USAGE;
	}
	if (!pid && optind >= argc) {
		it_err("missing command: iotrace trace -- CMD [ARGS...], or -p PID");
		return IT_EXIT_USAGE;
	}
	if (label && (!label[0] || strlen(label) >= sizeof(rep.runs->label))) {
		it_err("invalid --label '%s': expected 1 to %zu characters", label,
		       sizeof(rep.runs->label) - 1);
		return IT_EXIT_USAGE;
	}
	/* the command's problems first, as a shell reports them, before any privilege check */
	rc = pid ? check_pid(&pid) : check_command(argv[optind]);
	if (rc)
		return rc;
	rc = it_require_root("trace a program");
	if (rc)
		return rc;

	it_sudo_ids(&o.uid, &o.gid);
	/* no SA_RESTART: a signal must wake the waits below */
	sigemptyset(&sa.sa_mask);
	it_catch_signals(&sa);
	o.keep_ignored = &it_ignored_at_start;
	if (!pid) {
		struct sigaction fw = {.sa_sigaction = on_forward,
				       .sa_flags = SA_SIGINFO | SA_RESTART};

		sigemptyset(&fw.sa_mask);
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
			if (!sigismember(&it_ignored_at_start, forwarded[i]))
				sigaction(forwarded[i], &fw, NULL);
	}

	to.verbose = it_verbose >= IT_VERBOSE_LIBBPF;
	to.sample_hz = hz;
	ret = ss_open(&ss, &to, &stop_sig, err, sizeof(err));
	if (ret < 0) {
		it_err("%s", err);
		return ret == -EPERM || ret == -EACCES ? IT_EXIT_PERM : IT_EXIT_KERNEL;
	}
	ss_ok = true;

	if (!label) {
		default_label(pid, pid ? NULL : argv[optind], name, sizeof(name));
		label = name;
	}
	ss_report_header(&rep, "trace", ss.ncpu);
	snprintf(rep.device_ceiling_unavailable, sizeof(rep.device_ceiling_unavailable),
		 "not measured by trace (which files the command reads is its own business): "
		 "the ideal bound uses the best whole-run throughput");
	if (!pid) {
		rep.command = calloc((size_t)(argc - optind) + 1, sizeof(char *));
		if (!rep.command) {
			rc = IT_EXIT_FAIL;
			goto out;
		}
		for (int i = optind; i < argc; i++) {
			rep.command[i - optind] = strdup(argv[i]);
			if (!rep.command[i - optind]) {
				rc = IT_EXIT_FAIL;
				goto out;
			}
		}
	}
	rep.runs = calloc(1, sizeof(*rep.runs));
	if (!rep.runs) {
		it_err("failed to allocate the report: %s", strerror(ENOMEM));
		rc = IT_EXIT_FAIL;
		goto out;
	}
	/* --json: stdout carries the summary alone, so the command's stdout goes to stderr */
	if (json && !pid) {
		fflush(stdout);
		json_fd = dup(STDOUT_FILENO);
		if (json_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			it_err("failed to set the command's stdout aside for --json: %s",
			       strerror(errno));
			rc = IT_EXIT_FAIL;
			goto out;
		}
	}
	/* Ctrl-C while the probes loaded: nothing was traced, and CMD never started */
	if (stop_sig) {
		it_err("interrupted (%s) before the trace began: nothing was traced",
		       strsignal(stop_sig));
		rc = 128 + stop_sig;
		goto out;
	}
	/* loading the probes took a while: is the process still there to attach to? */
	if (pid && process_gone(pid)) {
		it_err("failed to attach to process %d: it exited while iotrace was attaching",
		       (int)pid);
		rc = IT_EXIT_INPUT;
		goto out;
	}
	spec.label = label;
	spec.strategy = "trace";
	spec.argv = pid ? NULL : argv + optind;
	spec.attach_pid = pid;
	spec.duration_ns = (uint64_t)(secs * 1e9);
	spec.leave_running = !pid;
	spec.launched_pid = &cmd_pid;
	spec.o = &o;
	ret = ss_run(&ss, &spec, &rep.runs[0], &oc, err, sizeof(err));
	if (json_fd >= 0) {
		/* the command has its copy of the old stdout; ours is the JSON's again */
		dup2(json_fd, STDOUT_FILENO);
		close(json_fd);
		json_fd = -1;
	}
	if (ret >= 0) {
		struct tr_stats st;

		tr_last_stats(ss.tr, &st);
		it_warn_losses(label, &st);
	}
	/* iotrace's CPU in the run's window, for the report's figure outside it */
	win_ok = ss_windows_cpu(&ss, &win_user, &win_sys);
	/* the probes are not needed any more: detach before waiting on anything */
	ss_close(&ss);
	ss_ok = false;
	if (ret < 0) {
		if (pid && process_gone(pid)) {
			it_err("failed to attach to process %d: it exited while iotrace was attaching",
			       (int)pid);
			rc = IT_EXIT_INPUT;
		} else {
			it_err("%s", err);
			rc = ret == -ESRCH ? IT_EXIT_INPUT : IT_EXIT_FAIL;
		}
		goto out;
	}
	rep.nruns = 1;
	rep.runs[0].resident_before = -1; /* nobody prepared the program's files: unknown */
	if (oc.err[0])
		it_err("%s", oc.err);
	if (oc.child.pid > 0 && oc.interrupted) {
		/* cut short: the command ends too, and its end is part of the story */
		status = finish_child(&oc.child, from_tty ? 0 : stop_sig, STOP_GRACE_MS);
		if (status != -1)
			rep.runs[0].exit_status = ss_exit_status(status);
	}
	ret = md_report_finish(&rep);
	if (ret < 0) {
		it_err("failed to analyse the trace: %s", strerror(-ret));
		rc = IT_EXIT_FAIL;
		goto out;
	}
	/* rc is still IT_EXIT_OK here: every failure before went to out */
	rc = od_deliver(&rep,
			&(struct od_out){.given = out_given, .json = json, .color = color,
					 .width = it_term_cols(STDOUT_FILENO), .verbose = it_verbose,
					 .uid = o.uid, .gid = o.gid, .tracer_cpu = true,
					 .win_user_ns = win_user, .win_sys_ns = win_sys,
					 .win_ok = win_ok},
			&report_ok);
	if (oc.child.pid > 0 && !oc.child.reaped) {
		/* -d ended the trace, not the command: as time(1), wait for it */
		fprintf(stderr,
			"iotrace: tracing stopped after %g s; %s (pid %d) is still running: "
			"waiting for it to exit (Ctrl-C passes the signal on)\n",
			secs, label, (int)oc.child.pid);
		status = finish_child(&oc.child, 0, -1);
		oc.exited = status != -1;
	} else if (!pid && oc.exited) {
		status = oc.status;
	}
	if (oc.interrupted)
		rc = 128 + stop_sig; /* as a shell reports a command stopped by that signal */
	else if (!pid && status != -1 && report_ok)
		rc = ss_exit_status(status);
out:
	if (json_fd >= 0) {
		dup2(json_fd, STDOUT_FILENO);
		close(json_fd);
	}
	if (ss_ok)
		ss_close(&ss);
	if (oc.child.pid > 0 && !oc.child.reaped)
		finish_child(&oc.child, SIGKILL, 0);
	wl_result_free(&oc.res);
	an_report_free(&rep);
	return rc;
}
