/* cmd_trace.c - `iotrace trace -- CMD` / `-p PID`: the same analysis for any program. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "outdir.h"
#include "report.h"
#include "session.h"

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
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
		"  -d, --duration SECS  stop tracing after SECS seconds (CMD/PID keeps running)\n"
		"      --follow         trace child processes too (fork/exec)\n"
		"  -l, --label NAME     name of the run (default: the command's name)\n"
		"  -o, --output DIR     report folder (default ./iotrace-out/run-N)\n"
		"      --json           print summary.json to stdout instead of the table\n"
		"      --no-color       no colors even on a terminal\n"
		"  -F, --freq HZ        on-CPU stack sampling frequency (default 99)\n"
		"      --no-stacks      do not capture stacks\n"
		"      --ringbuf-mb N   probe ring buffer size in MiB (default: from the CPU count;\n"
		"                       raise it if the report says events were lost)\n"
		"  -v, --verbose        libbpf debug output\n"
		"  -h, --help           this help\n\n"
		"Examples:\n"
		"  sudo iotrace trace -- python3 hash_all.py ~/photos\n"
		"  sudo iotrace trace --follow -- sh -c 'ls | xargs -P2 md5sum'\n"
		"  sudo iotrace trace -p 4242 -d 10\n\n"
		"Exit status: CMD's status (128+N if killed by signal N); 126/127 if CMD cannot be\n"
		"run; otherwise as iotrace run (2 usage, 3 not permitted, 4 kernel, 5 bad input).\n");
}

enum { OPT_FOLLOW = 256, OPT_JSON, OPT_NO_COLOR, OPT_NO_STACKS, OPT_RINGBUF_MB };

static const struct option long_opts[] = {
	{"pid", required_argument, NULL, 'p'},
	{"duration", required_argument, NULL, 'd'},
	{"follow", no_argument, NULL, OPT_FOLLOW},
	{"label", required_argument, NULL, 'l'},
	{"output", required_argument, NULL, 'o'},
	{"json", no_argument, NULL, OPT_JSON},
	{"no-color", no_argument, NULL, OPT_NO_COLOR},
	{"freq", required_argument, NULL, 'F'},
	{"no-stacks", no_argument, NULL, OPT_NO_STACKS},
	{"ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB},
	{"verbose", no_argument, NULL, 'v'},
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

static int check_pid(pid_t pid)
{
	char path[64];

	if (pid == getpid()) {
		it_err("failed to attach to %d: that is iotrace itself", (int)pid);
		return IT_EXIT_INPUT;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (access(path, F_OK) < 0) {
		it_err("failed to attach to process %d: no such process", (int)pid);
		return IT_EXIT_INPUT;
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct ss_session ss;
	struct an_report rep;
	struct ss_outcome oc = {0};
	struct ss_spec spec = {0};
	struct wl_opts o = {0};
	struct tr_opts to = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	const char *label = NULL, *out_given = NULL, *su, *sg;
	char err[512], outdir[4096], name[64];
	bool json = false, color = isatty(STDOUT_FILENO), ss_ok = false;
	double secs = 0;
	pid_t pid = 0;
	int c, ret, rc = IT_EXIT_OK;
	unsigned hz = 0;

	memset(&rep, 0, sizeof(rep));
	to.stacks = true;
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
			hz = (unsigned)strtoul(optarg, &end, 10);
			if (*end || hz < 1 || hz > 10000) {
				it_err("invalid --freq '%s': expected 1 to 10000", optarg);
				return IT_EXIT_USAGE;
			}
			break;
		case OPT_NO_STACKS:
			to.stacks = false;
			break;
		case OPT_RINGBUF_MB:
			errno = 0;
			to.ringbuf_mb = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !isdigit((unsigned char)optarg[0]) || to.ringbuf_mb < 1 ||
			    to.ringbuf_mb > 1024) {
				it_err("invalid --ringbuf-mb '%s': expected 1 to 1024 (MiB)", optarg);
				return IT_EXIT_USAGE;
			}
			break;
		case 'v':
			it_verbose = true;
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
	if (pid) {
		rc = check_pid(pid);
		if (rc)
			return rc;
	} else {
		rc = check_command(argv[optind]);
		if (rc)
			return rc;
	}
	rc = it_require_root("trace a program");
	if (rc)
		return rc;

	su = getenv("SUDO_UID");
	sg = getenv("SUDO_GID");
	o.uid = (uid_t)-1;
	o.gid = (gid_t)-1;
	if (su && sg) {
		o.uid = (uid_t)strtoul(su, NULL, 10);
		o.gid = (gid_t)strtoul(sg, NULL, 10);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	to.verbose = it_verbose;
	to.sample_hz = hz;
	ret = ss_open(&ss, &to, &stop_sig, err, sizeof(err));
	if (ret < 0) {
		it_err("%s", err);
		return ret == -EPERM || ret == -EACCES ? IT_EXIT_PERM : IT_EXIT_KERNEL;
	}
	ss_ok = true;

	if (!label) {
		if (pid) {
			char path[64], comm[32] = "";
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
			f = fopen(path, "r");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = 0;
				fclose(f);
			}
			snprintf(name, sizeof(name), "%s", comm[0] ? comm : "process");
		} else {
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "%s", argv[optind]);
			snprintf(name, sizeof(name), "%s", basename(tmp));
		}
		label = name;
	}
	ss_report_header(&rep, "trace", ss.ncpu);
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
		rc = IT_EXIT_FAIL;
		goto out;
	}
	spec.label = label;
	spec.strategy = label;
	spec.argv = pid ? NULL : argv + optind;
	spec.attach_pid = pid;
	spec.duration_ns = (uint64_t)(secs * 1e9);
	spec.o = &o;
	ret = ss_run(&ss, &spec, &rep.runs[0], &oc, err, sizeof(err));
	if (ret < 0) {
		it_err("%s", err);
		rc = ret == -ESRCH ? IT_EXIT_INPUT : IT_EXIT_FAIL;
		goto out;
	}
	rep.nruns = 1;
	{
		struct tr_stats st;

		tr_last_stats(ss.tr, &st);
		it_warn_losses(label, &st);
	}
	if (oc.err[0])
		it_err("%s", oc.err);
	ret = an_report_finish(&rep);
	if (ret < 0) {
		it_err("failed to analyse the trace: %s", strerror(-ret));
		rc = IT_EXIT_FAIL;
		goto out;
	}
	ret = json ? rp_summary_json(stdout, &rep) : rp_text(stdout, &rep, color);
	if (ret < 0)
		it_err("failed to write the report to stdout: %s", strerror(-ret));
	ret = od_pick(out_given, outdir, sizeof(outdir));
	if (ret == 0)
		ret = rp_write_outdir(outdir, &rep, o.uid, o.gid);
	if (ret < 0) {
		it_err("failed to write the report folder '%s': %s", outdir, strerror(-ret));
		rc = IT_EXIT_FAIL;
	} else if (!json) {
		fprintf(stderr, "iotrace: report written to %s/report.html\n", outdir);
	}
	/* exit as the command did, as time(1) does; an interrupted trace says so */
	if (!pid && oc.exited && rc == IT_EXIT_OK)
		rc = ss_exit_status(oc.status);
	else if (oc.interrupted && rc == IT_EXIT_OK)
		rc = 128 + stop_sig;
out:
	if (ss_ok)
		ss_close(&ss);
	wl_result_free(&oc.res);
	an_report_free(&rep);
	return rc;
}
