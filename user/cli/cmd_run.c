/* cmd_run.c - `iotrace run WORKLOAD`: every strategy and cache mode, traced, compared, explained. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "model/model.h"
#include "outdir.h"
#include "model/units.h"
#include "trace/session.h"

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iotrace run WORKLOAD [DIR|FILE] [OPTIONS]\n\n"
		"Runs a built-in workload under several concurrency strategies, on a warm and a cold\n"
		"page cache, traces every run with eBPF and explains which one was faster and why.\n\n"
		"Workloads and strategies:\n"
		"  md5dir    MD5 of every regular file of DIR (default: a generated dataset)\n"
		"            sync, threads, callback (libuv), uring (io_uring), procs, gil\n"
		"  readfile  read one large FILE while another thread computes a factorial\n"
		"            sync, threads\n"
		"  fetch     HTTP GET from a slow loopback server beside the factorial\n"
		"            sync, threads\n\n"
		"Options:\n"
		"  -s, --strategies LIST  comma-separated subset of the workload's strategies\n"
		"  -t, --threads N        pool size / processes (default: CPU count)\n"
		"      --chunk SIZE       read size (default 64K)\n"
		"      --qd N             reads in flight for uring and callback (default 16 / 4)\n"
		"      --cache MODE       warm, cold or both (default both; cold needs a block device)\n"
		"      --throttle RATE    limit the dataset disk's read rate, e.g. 50M (cgroup blkio)\n"
		"      --gil-hold-io      gil: hold the lock across reads too\n"
		"      --repeat N         run every strategy N times, interleaved (ABC BCA CAB...), and\n"
		"                         report each run's median with its spread (default 3: the\n"
		"                         default md5dir run then takes ~25 s on 2 CPUs)\n"
		"      --readahead on|off md5dir: the kernel's readahead for each file, on (default,\n"
		"                         POSIX_FADV_SEQUENTIAL as md5sum) or off (POSIX_FADV_RANDOM:\n"
		"                         only a strategy's own reads in flight overlap the disk)\n"
		"      --files N          generated dataset: number of files (default 64)\n"
		"      --file-size SIZE   generated dataset: size of each file (default 8M)\n"
		"      --delay MS         fetch: server answer delay (default 500)\n"
		"      --factorial N      readfile/fetch: compute N! (default 60000)\n"
		"      --verify           print every file's MD5 (md5sum format)\n"
		"  -o, --output DIR       report folder (default ./iotrace-out/run-N)\n"
		"      --json             print summary.json to stdout instead of the table\n"
		"      --no-color         no colors even on a terminal\n"
		"  -F, --freq HZ          on-CPU stack sampling frequency (default 999)\n"
		"      --no-stacks        do not capture stacks (no flame graphs)\n"
		"      --ringbuf-mb N     probe ring buffer size in MiB (default: from the CPU count;\n"
		"                         raise it if the report says events were lost)\n"
		"  -q, --quiet            no progress line\n"
		"  -v, --verbose          each run's details, thread tables and findings; -vv:\n"
		"                         libbpf's messages too\n"
		"      --debug            as -vv\n"
		"  -h, --help             this help\n\n"
		"Examples:\n"
		"  sudo iotrace run md5dir\n"
		"  sudo iotrace run md5dir ~/photos --strategies sync,threads,uring --cache cold "
		"--throttle 100M\n"
		"  sudo iotrace run readfile --cache cold\n"
		"  sudo iotrace run fetch --delay 200\n\n"
		"Exit status: 0 ok, 1 run failed, 2 usage, 3 not permitted (use sudo), 4 kernel "
		"unsupported,\n5 bad input, 130/143 interrupted.\n");
}

enum {
	OPT_CHUNK = 256,
	OPT_QD,
	OPT_CACHE,
	OPT_THROTTLE,
	OPT_GIL_HOLD_IO,
	OPT_READAHEAD,
	OPT_REPEAT,
	OPT_FILES,
	OPT_FILE_SIZE,
	OPT_DELAY,
	OPT_FACTORIAL,
	OPT_VERIFY,
	OPT_JSON,
	OPT_NO_COLOR,
	OPT_NO_STACKS,
	OPT_RINGBUF_MB,
	OPT_DEBUG,
};

static const struct option long_opts[] = {
	{"strategies", required_argument, NULL, 's'},
	{"threads", required_argument, NULL, 't'},
	{"chunk", required_argument, NULL, OPT_CHUNK},
	{"qd", required_argument, NULL, OPT_QD},
	{"cache", required_argument, NULL, OPT_CACHE},
	{"throttle", required_argument, NULL, OPT_THROTTLE},
	{"gil-hold-io", no_argument, NULL, OPT_GIL_HOLD_IO},
	{"readahead", required_argument, NULL, OPT_READAHEAD},
	{"repeat", required_argument, NULL, OPT_REPEAT},
	{"files", required_argument, NULL, OPT_FILES},
	{"file-size", required_argument, NULL, OPT_FILE_SIZE},
	{"delay", required_argument, NULL, OPT_DELAY},
	{"factorial", required_argument, NULL, OPT_FACTORIAL},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"output", required_argument, NULL, 'o'},
	{"json", no_argument, NULL, OPT_JSON},
	{"no-color", no_argument, NULL, OPT_NO_COLOR},
	{"freq", required_argument, NULL, 'F'},
	{"no-stacks", no_argument, NULL, OPT_NO_STACKS},
	{"ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB},
	{"verbose", no_argument, NULL, 'v'},
	{"debug", no_argument, NULL, OPT_DEBUG},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{},
};

struct run_cfg {
	const struct wl_workload *w;
	const char *target;	/* DIR or FILE given by the user */
	char *strategies[16];
	size_t nstrategies;
	bool cache_warm, cache_cold;
	uint64_t throttle_bps;
	unsigned nfiles;
	uint64_t file_size;
	const char *outdir;
	bool json, color, stacks, verify, quiet;
	bool readahead_given;
	unsigned hz;
	unsigned repeat; /* times each strategy runs, interleaved */
	unsigned ringbuf_mb;
	struct wl_opts o;
};

/* Append name to buf's ", "-separated list. */
static void list_add(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
}

static int parse_strategies(struct run_cfg *cfg, const char *list)
{
	char *dup = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	cfg->nstrategies = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!wl_has_strategy(cfg->w, tok)) {
			char valid[256] = "";

			for (const char *const *s = cfg->w->strategies; *s; s++)
				list_add(valid, sizeof(valid), *s);
			it_err("unknown strategy '%s' for %s; valid strategies: %s", tok,
			       cfg->w->name, valid);
			ret = -EINVAL;
			break;
		}
		if (cfg->nstrategies == sizeof(cfg->strategies) / sizeof(cfg->strategies[0])) {
			it_err("too many strategies in '%s'", list);
			ret = -EINVAL;
			break;
		}
		cfg->strategies[cfg->nstrategies] = strdup(tok);
		if (!cfg->strategies[cfg->nstrategies]) {
			ret = -ENOMEM;
			break;
		}
		cfg->nstrategies++;
	}
	free(dup);
	if (!ret && !cfg->nstrategies) {
		it_err("no strategy given in '%s'", list);
		ret = -EINVAL;
	}
	return ret;
}

static int parse_args(int argc, char **argv, struct run_cfg *cfg)
{
	const char *strategies = NULL;
	char names[128] = "";
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cache_warm = cfg->cache_cold = true;
	cfg->repeat = 3;
	cfg->nfiles = 64;
	cfg->file_size = 8ULL << 20;
	cfg->stacks = true;
	cfg->color = isatty(STDOUT_FILENO);
	cfg->o.chunk = 64 << 10;
	cfg->o.uid = (uid_t)-1;
	cfg->o.gid = (gid_t)-1;
	cfg->o.fetch_delay_ms = 500;
	cfg->o.factorial_n = 0; /* the workload's default (60000: ~0.5 s) */

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:t:o:F:vqh", long_opts, NULL)) != -1) {
		uint64_t v;

		switch (c) {
		case 's':
			strategies = optarg;
			break;
		case 't':
			if (it_parse_uint(optarg, "--threads", 1, 4096, &cfg->o.threads))
				return IT_EXIT_USAGE;
			break;
		case OPT_CHUNK:
			if (wl_parse_size(optarg, &v) || v < 512 || v > (64ULL << 20)) {
				it_err("invalid --chunk '%s': expected a size from 512 to 64M, e.g. 64K",
				       optarg);
				return IT_EXIT_USAGE;
			}
			cfg->o.chunk = v;
			break;
		case OPT_QD:
			if (it_parse_uint(optarg, "--qd", 1, 4096, &cfg->o.qd))
				return IT_EXIT_USAGE;
			break;
		case OPT_CACHE:
			if (!strcmp(optarg, "warm")) {
				cfg->cache_cold = false;
			} else if (!strcmp(optarg, "cold")) {
				cfg->cache_warm = false;
			} else if (strcmp(optarg, "both")) {
				it_err("invalid --cache '%s': expected warm, cold or both", optarg);
				return IT_EXIT_USAGE;
			}
			break;
		case OPT_THROTTLE:
			if (wl_parse_rate(optarg, &cfg->throttle_bps)) {
				it_err("invalid --throttle '%s': expected a rate in bytes/s such as "
				       "50M or 1G",
				       optarg);
				return IT_EXIT_USAGE;
			}
			break;
		case OPT_GIL_HOLD_IO:
			cfg->o.gil_hold_io = true;
			break;
		case OPT_REPEAT:
			if (it_parse_uint(optarg, "--repeat", 1, 1000, &cfg->repeat))
				return IT_EXIT_USAGE;
			break;
		case OPT_READAHEAD:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				it_err("invalid --readahead '%s': expected on or off", optarg);
				return IT_EXIT_USAGE;
			}
			cfg->o.readahead_off = !strcmp(optarg, "off");
			cfg->readahead_given = true;
			break;
		case OPT_FILES:
			if (it_parse_uint(optarg, "--files", 1, 10000000, &cfg->nfiles))
				return IT_EXIT_USAGE;
			break;
		case OPT_FILE_SIZE:
			if (wl_parse_size(optarg, &cfg->file_size)) {
				it_err("invalid --file-size '%s': expected a size such as 8M", optarg);
				return IT_EXIT_USAGE;
			}
			break;
		case OPT_DELAY:
			if (it_parse_uint(optarg, "--delay", 0, 600000, &cfg->o.fetch_delay_ms))
				return IT_EXIT_USAGE;
			break;
		case OPT_FACTORIAL:
			if (it_parse_uint(optarg, "--factorial", 1, 100000000, &cfg->o.factorial_n))
				return IT_EXIT_USAGE;
			break;
		case OPT_VERIFY:
			cfg->verify = cfg->o.verify = true;
			break;
		case 'o':
			cfg->outdir = optarg;
			break;
		case OPT_JSON:
			cfg->json = true;
			break;
		case OPT_NO_COLOR:
			cfg->color = false;
			break;
		case 'F':
			if (it_parse_uint(optarg, "--freq", 1, 10000, &cfg->hz))
				return IT_EXIT_USAGE;
			break;
		case OPT_NO_STACKS:
			cfg->stacks = false;
			break;
		case OPT_RINGBUF_MB:
			if (it_parse_uint(optarg, "--ringbuf-mb", 1, 1024, &cfg->ringbuf_mb))
				return IT_EXIT_USAGE;
			break;
		case 'v':
			it_verbose++;
			break;
		case OPT_DEBUG:
			it_verbose = IT_VERBOSE_LIBBPF;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			fprintf(stderr, "Try 'iotrace run --help'.\n");
			return IT_EXIT_USAGE;
		}
	}
	for (size_t i = 0; wl_workloads[i]; i++)
		list_add(names, sizeof(names), wl_workloads[i]->name);
	if (optind >= argc) {
		it_err("missing workload; workloads are %s (see iotrace run --help)", names);
		return IT_EXIT_USAGE;
	}
	cfg->w = wl_find(argv[optind]);
	if (!cfg->w) {
		it_err("unknown workload '%s'; workloads are %s", argv[optind], names);
		return IT_EXIT_USAGE;
	}
	optind++;
	if (optind < argc)
		cfg->target = argv[optind++];
	if (optind < argc) {
		it_err("unexpected argument '%s' (see iotrace run --help)", argv[optind]);
		return IT_EXIT_USAGE;
	}
	if (cfg->readahead_given && !cfg->w->readahead) {
		it_err("--readahead applies to md5dir's reads; %s does not take it",
		       cfg->w->name);
		return IT_EXIT_USAGE;
	}
	if (parse_strategies(cfg, strategies ? strategies : cfg->w->default_strategies))
		return IT_EXIT_USAGE;
	if (cfg->w->input == WL_INPUT_NONE) {
		/* no files: the page cache has no say */
		cfg->cache_warm = true;
		cfg->cache_cold = false;
	}
	if (cfg->json)
		cfg->color = false;
	return 0;
}

/*
 * Before the first measured run, so that no run pays first-use costs the others do not:
 * the files read once into the page cache, its pages allocated and touched (a first cold
 * run otherwise spent 8x the CPU in its reads: readfile, 256 MiB, 76.7 ms against 9.4 ms
 * a run later; 9.3-35 ms with the warm-up); each cold run's preparation then evicts them, so its
 * reads take back pages the kernel has just used (reclaimed ahead). Then the workload's own
 * warm-up in this process, which every run is forked from. What was done goes in the report.
 */
static void warm_up(const struct run_cfg *cfg, struct an_report *rep)
{
	char did[256] = "";
	double resident;
	int n = 0;

	if (cfg->o.dir && wl_cache_prepare(cfg->o.dir, WL_CACHE_WARM, &resident) == 0)
		n = snprintf(rep->warmup, sizeof(rep->warmup), "the files read once into the page "
			     "cache before the first run%s",
			     cfg->cache_cold ? ", then evicted before each cold run, whose reads take "
					       "back pages the kernel has just used"
					     : "");
	if (n < 0 || (size_t)n >= sizeof(rep->warmup))
		n = 0;
	if (cfg->w->warmup && cfg->w->warmup(&cfg->o, did, sizeof(did)) == 0 && did[0])
		snprintf(rep->warmup + n, sizeof(rep->warmup) - (size_t)n, "%s%s", n ? "; " : "",
			 did);
}

/* Check DIR/FILE as given by the user, before anything is loaded. */
static int check_target(const struct run_cfg *cfg)
{
	struct stat st;
	bool want_dir = cfg->w->input == WL_INPUT_DIR;

	if (!cfg->target)
		return 0;
	if (cfg->w->input == WL_INPUT_NONE) {
		it_err("%s takes no DIR or FILE ('%s'): it %s", cfg->w->name, cfg->target,
		       cfg->w->does);
		return IT_EXIT_USAGE;
	}
	if (stat(cfg->target, &st) < 0) {
		it_err("failed to open %s '%s': %s", want_dir ? "directory" : "file", cfg->target,
		       strerror(errno));
		return IT_EXIT_INPUT;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		it_err("'%s' is not a %s; %s %s", cfg->target,
		       want_dir ? "directory" : "regular file", cfg->w->name, cfg->w->does);
		return IT_EXIT_INPUT;
	}
	if (want_dir) {
		char **paths = NULL;
		size_t n = 0;
		uint64_t total;

		/*
		 * Nothing to hash is bad input, not a run: say so before probes are loaded or a
		 * report is written. A listing error is left to the workload, which reports it
		 * as the user it runs as (what root can list, that user may not).
		 */
		if (wl_list_files(cfg->target, &paths, &n, &total) == 0) {
			for (size_t i = 0; i < n; i++)
				free(paths[i]);
			free(paths);
			if (!n) {
				it_err("'%s' has no regular files (symlinks, FIFOs, sockets and "
				       "devices are skipped); %s %s",
				       cfg->target, cfg->w->name, cfg->w->does);
				return IT_EXIT_INPUT;
			}
		}
	}
	return 0;
}

static int digests_differ(const struct wl_result *a, const struct wl_result *b, char *what,
			  size_t len)
{
	if (a->nfiles != b->nfiles) {
		snprintf(what, len, "%zu files vs %zu", a->nfiles, b->nfiles);
		return 1;
	}
	for (size_t i = 0; i < a->nfiles; i++) {
		if (a->files[i].err || b->files[i].err)
			continue;
		if (memcmp(a->files[i].md5, b->files[i].md5, 16)) {
			snprintf(what, len, "%s", a->files[i].path);
			return 1;
		}
	}
	return 0;
}

/*
 * The calibration reads the dataset's files for at most CAL_MAX_NS or CAL_MAX_BYTES (or the
 * dataset, if smaller), whichever ends first: long enough for a throttle's 100 ms slices
 * to average out (at 48 MiB/s, 0.7 s measured 0.97-1.00x of it), and at most a tenth of a
 * default run (64 files of 8 MiB, five strategies, cold and warm): a device that delivers
 * 256 MiB in under 0.7 s reads a tenth of the cold runs' 2.5 GiB, and a slower one makes
 * the cold runs alone last over 7 s. Under CAL_MIN_BYTES there is too little to measure.
 */
#define CAL_MAX_BYTES (256ULL << 20)
#define CAL_MAX_NS 700000000ULL
#define CAL_MIN_BYTES (4ULL << 20)

/*
 * Measure the device's ceiling once for the report, before the cold runs: O_DIRECT reads
 * of the dataset's files with many in flight, inside the throttle's cgroup when throttled
 * (wl_device_calibrate). What was not measured says why; the model then falls back.
 */
static void calibrate(const struct run_cfg *cfg, const char *dir, const char *throttle_procs,
		      struct an_report *rep)
{
	struct wl_ceiling c;
	struct timespec t0, t1;
	char **paths = NULL;
	size_t n = 0;
	uint64_t total = 0, max;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!dir) {
		snprintf(rep->device_ceiling_unavailable, sizeof(rep->device_ceiling_unavailable),
			 "the workload reads a FILE of yours: the calibration reads a directory");
		return;
	}
	ret = wl_list_files(dir, &paths, &n, &total);
	for (size_t i = 0; ret == 0 && i < n; i++)
		free(paths[i]);
	free(paths);
	if (ret < 0) {
		snprintf(rep->device_ceiling_unavailable, sizeof(rep->device_ceiling_unavailable),
			 "failed to list '%s': %s", dir, strerror(-ret));
		return;
	}
	max = total < CAL_MAX_BYTES ? total : CAL_MAX_BYTES;
	if (max < CAL_MIN_BYTES) {
		snprintf(rep->device_ceiling_unavailable, sizeof(rep->device_ceiling_unavailable),
			 "the dataset (%.1f MiB) is too small to measure the device with (%.0f MiB "
			 "at least)",
			 (double)total / (1 << 20), (double)CAL_MIN_BYTES / (1 << 20));
		return;
	}
	if (!cfg->json && !cfg->quiet)
		fprintf(stderr, "iotrace: measuring the device's ceiling (O_DIRECT reads, up to "
				"%.0f MiB or %.1f s)...\n",
			(double)max / (1 << 20), (double)CAL_MAX_NS / 1e9);
	ret = wl_device_calibrate(dir, throttle_procs, max, CAL_MAX_NS, &c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret < 0) {
		snprintf(rep->device_ceiling_unavailable, sizeof(rep->device_ceiling_unavailable),
			 "%s",
			 ret == -EOPNOTSUPP ? "the filesystem refuses O_DIRECT reads"
			 : ret == -ENODATA  ? "the files are too small to measure (under 256 KiB)"
					    : strerror(-ret));
		if (!cfg->json)
			it_warn("failed to measure the device's ceiling: %s; the ideal bound uses "
				"the best run's throughput instead",
				rep->device_ceiling_unavailable);
		return;
	}
	rep->device_ceiling_ok = true;
	rep->device_ceiling_bps = c.bps;
	snprintf(rep->device_ceiling_method, sizeof(rep->device_ceiling_method), "o_direct");
	rep->device_ceiling_bytes = c.bytes;
	rep->device_ceiling_ns = c.ns;
	rep->device_ceiling_qd = c.qd;
	rep->device_ceiling_block = c.block;
	rep->device_ceiling_throttled = c.throttled;
	rep->device_ceiling_elapsed_ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
						    (t1.tv_nsec - t0.tv_nsec));
}

static void print_digests(FILE *f, const struct wl_result *r, const char *dir)
{
	for (size_t i = 0; i < r->nfiles; i++) {
		if (r->files[i].err)
			continue;
		for (int k = 0; k < 16; k++)
			fprintf(f, "%02x", r->files[i].md5[k]);
		fprintf(f, "  %s/%s\n", dir, r->files[i].path);
	}
}

int cmd_run(int argc, char **argv)
{
	struct run_cfg cfg;
	struct ss_session ss;
	struct an_report rep;
	struct wl_throttle thr;
	struct wl_guard guard = {.pid = -1, .fd = -1};
	void *svc = NULL;
	struct wl_result first = {0};
	char err[512], datafile[4096], *dataset = NULL;
	const char *target;
	bool ss_ok = false, thr_ok = false, svc_ok = false, have_first = false, written, onefile;
	int ret, rc = IT_EXIT_OK;
	struct sigaction sa = {.sa_handler = on_signal};
	struct tr_opts to = {0};
	struct it_progress prog;
	unsigned nplanned;

	memset(&rep, 0, sizeof(rep));
	ret = parse_args(argc, argv, &cfg);
	if (ret) {
		/* "sync,fibers": the strategies parsed before the bad one are ours to free */
		for (size_t i = 0; i < cfg.nstrategies; i++)
			free(cfg.strategies[i]);
		return ret < 0 ? IT_EXIT_OK : ret;
	}
	rc = check_target(&cfg);
	if (rc)
		goto out;
	rc = it_require_root("run a workload under the probes");
	if (rc)
		goto out;
	it_sudo_ids(&cfg.o.uid, &cfg.o.gid);
	/* what a SIGKILLed run left (its pid is gone; live runs' are kept) */
	ret = wl_dataset_sweep("/var/tmp", cfg.o.uid);
	if (ret > 0 && !cfg.json)
		it_warn("removed %d dataset%s left under /var/tmp by a killed run", ret,
			ret == 1 ? "" : "s");
	ret = wl_throttle_sweep();
	if (ret > 0 && !cfg.json)
		it_warn("removed %d cgroup%s left by a killed run", ret, ret == 1 ? "" : "s");

	/* before the probes or any thread exist: it must hold none of them */
	ret = wl_guard_start(&guard);
	if (ret < 0)
		it_warn("failed to start the clean-up guardian: %s; if iotrace is killed, the "
			"next run removes what it leaves",
			strerror(-ret));

	sigemptyset(&sa.sa_mask);
	it_catch_signals(&sa);

	to.verbose = it_verbose >= IT_VERBOSE_LIBBPF;
	to.stacks = cfg.stacks;
	to.sample_hz = cfg.hz;
	to.ringbuf_mb = cfg.ringbuf_mb;
	to.follow = true; /* procs: the worker processes are part of the run */
	ret = ss_open(&ss, &to, &stop_sig, err, sizeof(err));
	if (ret < 0) {
		it_err("%s", err);
		rc = ret == -EPERM || ret == -EACCES ? IT_EXIT_PERM : IT_EXIT_KERNEL;
		goto out;
	}
	ss_ok = true;
	ss_report_header(&rep, cfg.w->name, ss.ncpu);
	rep.want_answer = cfg.w->answer;
	if (cfg.w->readahead)
		snprintf(rep.readahead, sizeof(rep.readahead), "%s",
			 cfg.o.readahead_off ? "off" : "on");

	/* the data the workload reads */
	target = cfg.target;
	if (!target && cfg.w->input != WL_INPUT_NONE) {
		unsigned n = cfg.w->gen_files ? cfg.w->gen_files : cfg.nfiles;
		uint64_t size = cfg.w->gen_file_size ? cfg.w->gen_file_size : cfg.file_size;

		if (!cfg.json && !cfg.quiet)
			fprintf(stderr, "iotrace: generating a dataset of %u file%s of %s under "
					"/var/tmp...\n",
				n, n == 1 ? "" : "s", un_bytes(size).s);
		ret = wl_dataset_create("/var/tmp", n, size, cfg.o.uid, cfg.o.gid, &dataset);
		if (ret < 0) {
			it_err("failed to create a dataset under /var/tmp: %s; pass a DIR of your "
			       "own on a disk-backed filesystem",
			       strerror(-ret));
			rc = IT_EXIT_FAIL;
			goto out;
		}
		wl_guard_dataset(&guard, dataset, true);
		target = dataset;
	}
	cfg.o.dir = target;
	if (dataset && cfg.w->input == WL_INPUT_FILE) {
		/* the workload reads the one file generated inside the dataset directory */
		char **paths = NULL;
		size_t n = 0;
		uint64_t total;

		ret = wl_list_files(dataset, &paths, &n, &total);
		if (ret == 0 && n == 1)
			snprintf(datafile, sizeof(datafile), "%s/%s", dataset, paths[0]);
		for (size_t i = 0; ret == 0 && i < n; i++)
			free(paths[i]);
		free(paths);
		if (ret < 0 || n != 1) {
			it_err("failed to find the generated file in %s", dataset);
			rc = IT_EXIT_FAIL;
			goto out;
		}
		cfg.o.dir = datafile;
	}
	if (cfg.cache_cold && cfg.o.dir) {
		double resident;

		ret = wl_cache_prepare(cfg.o.dir, WL_CACHE_COLD, &resident);
		if (ret == -EOPNOTSUPP) {
			if (!cfg.cache_warm) {
				it_err("failed to make '%s' cold: its filesystem has no block device "
				       "(tmpfs, overlay or NFS); use --cache warm or a DIR on a disk",
				       cfg.o.dir);
				rc = IT_EXIT_INPUT;
				goto out;
			}
			it_warn("'%s' is not on a block device: a cold cache is impossible there; "
				"running warm only",
				cfg.o.dir);
			cfg.cache_cold = false;
		}
	}
	if (cfg.throttle_bps) {
		ret = wl_throttle_setup(cfg.o.dir ? cfg.o.dir : "/var/tmp", cfg.throttle_bps, &thr);
		if (ret < 0) {
			it_err("failed to throttle the disk of '%s': %s", cfg.o.dir,
			       ret == -EXDEV || ret == -EOPNOTSUPP
				       ? "its filesystem has no block device (tmpfs, overlay or "
					 "NFS); use a DIR on a disk"
				       : strerror(-ret));
			rc = ret == -EXDEV || ret == -EOPNOTSUPP ? IT_EXIT_INPUT : IT_EXIT_FAIL;
			goto out;
		}
		thr_ok = true;
		wl_guard_cgroup(&guard, thr.path, true);
		cfg.o.throttle_cgroup = thr.procs;
		rep.throttle_bps = cfg.throttle_bps;
	}
	if (cfg.w->service_start) {
		ret = cfg.w->service_start(&cfg.o, &svc);
		if (ret < 0) {
			it_err("failed to start %s: %s", cfg.w->service, strerror(-ret));
			rc = IT_EXIT_FAIL;
			goto out;
		}
		svc_ok = true;
	}

	warm_up(&cfg, &rep);
	onefile = cfg.w->input == WL_INPUT_FILE;
	if (!cfg.cache_cold || !cfg.o.dir)
		snprintf(rep.device_ceiling_unavailable, sizeof(rep.device_ceiling_unavailable),
			 "no cold-cache run: nothing was read from the device");
	/* --json keeps stderr for what goes wrong: no progress there either */
	it_progress_init(&prog, cfg.quiet || cfg.json);
	nplanned = (unsigned)cfg.nstrategies * cfg.repeat *
		   ((cfg.cache_warm ? 1 : 0) + (cfg.cache_cold ? 1 : 0));
	for (int pass = 0; pass < 2 && !stop_sig; pass++) {
		const char *cache = pass == 0 ? "warm" : "cold";

		if ((pass == 0 && !cfg.cache_warm) || (pass == 1 && !cfg.cache_cold))
			continue;
		/* once, before the cold runs: the files' directory (one FILE: the dataset's) */
		if (pass == 1)
			calibrate(&cfg, dataset ? dataset : onefile ? NULL : cfg.o.dir,
				  thr_ok ? thr.procs : NULL, &rep);
		/*
		 * --repeat: round after round of every strategy (ABC BCA CAB ...: each round starts
		 * one later), so that a drift of the machine (another tenant, the host, heat)
		 * falls on every strategy alike instead of on the ones run last.
		 */
		for (size_t k = 0; k < cfg.nstrategies * cfg.repeat && !stop_sig; k++) {
			size_t round = k / cfg.nstrategies;
			size_t i = (k % cfg.nstrategies + round) % cfg.nstrategies;
			char shown[128];
			struct ss_outcome oc;
			struct ss_spec spec = {0};
			struct an_run *run;
			char label[64];
			void *n;
			double resident = -1;
			bool files = cfg.o.dir != NULL;

			if (files) {
				ret = wl_cache_prepare(cfg.o.dir, pass == 0 ? WL_CACHE_WARM
									   : WL_CACHE_COLD,
						       &resident);
				if (ret < 0) {
					it_err("failed to make '%s' %s: %s", cfg.o.dir, cache,
					       strerror(-ret));
					rc = IT_EXIT_FAIL;
					goto report;
				}
			}
			snprintf(label, sizeof(label), "%s/%s", cfg.strategies[i],
				 files ? cache : "-");
			if (!files)
				snprintf(label, sizeof(label), "%s", cfg.strategies[i]);
			snprintf(shown, sizeof(shown), "%s", label);
			if (cfg.repeat > 1)
				snprintf(shown, sizeof(shown), "%s (%zu/%u)", label, round + 1,
					 cfg.repeat);
			it_progress_begin(&prog, shown, (unsigned)rep.nruns + 1, nplanned);
			n = realloc(rep.runs, (rep.nruns + 1) * sizeof(*rep.runs));
			if (!n) {
				it_err("failed to grow the report: %s", strerror(ENOMEM));
				rc = IT_EXIT_FAIL;
				goto report;
			}
			rep.runs = n;
			run = &rep.runs[rep.nruns];
			memset(run, 0, sizeof(*run));
			spec.label = label;
			spec.strategy = cfg.strategies[i];
			spec.cache = files ? cache : NULL;
			spec.w = cfg.w;
			spec.o = &cfg.o;
			/* alone in the throttle's cgroup: its held bios are dispatched by a kworker */
			spec.own_cgroup_id = thr_ok ? thr.id : 0;
			spec.tick = it_progress_tick;
			spec.tick_arg = &prog;
			ret = ss_run(&ss, &spec, run, &oc, err, sizeof(err));
			it_progress_end(&prog);
			if (ret < 0) {
				it_err("%s: %s", label, err);
				rc = IT_EXIT_FAIL;
				goto report;
			}
			{
				struct tr_stats st;

				tr_last_stats(ss.tr, &st);
				it_warn_losses(label, &st);
			}
			run->resident_before = resident;
			rep.nruns++;
			if (oc.interrupted) {
				wl_result_free(&oc.res);
				break;
			}
			if (run->exit_status != 0) {
				it_err("%s: the workload %s %d; its numbers are in the report, the "
				       "remaining runs are skipped",
				       label, run->exit_status > 128 ? "was killed by signal" :
				       "exited with status",
				       run->exit_status > 128 ? run->exit_status - 128
							      : run->exit_status);
				wl_result_free(&oc.res);
				/* the child said why on stderr (e.g. DIR unreadable as SUDO_USER) */
				rc = run->exit_status == WL_EXIT_INPUT ? IT_EXIT_INPUT : IT_EXIT_FAIL;
				goto report;
			}
			for (size_t f = 0; f < oc.res.nfiles; f++)
				if (oc.res.files[f].err && !have_first)
					it_warn("skipped '%s/%s': %s", cfg.o.dir,
						oc.res.files[f].path,
						wl_strerror(oc.res.files[f].err));
			/* what the strategy did (queue depth, processes): a detail, -v's */
			if (oc.res.note[0] && !cfg.json && !cfg.quiet && it_verbose > 0)
				fprintf(stderr, "iotrace: %s: %s\n", label, oc.res.note);
			if (!have_first) {
				first = oc.res;
				have_first = true;
				if (cfg.w->input == WL_INPUT_DIR && first.nfiles == 0) {
					it_err("'%s' has no regular files; %s %s", cfg.o.dir,
					       cfg.w->name, cfg.w->does);
					rc = IT_EXIT_INPUT;
					goto report;
				}
			} else {
				char what[512];

				if (digests_differ(&first, &oc.res, what, sizeof(what))) {
					it_err("%s: digests differ from the first run's (%s); this is a "
					       "bug in iotrace, please report it",
					       label, what);
					rc = IT_EXIT_FAIL;
				}
				wl_result_free(&oc.res);
			}
		}
	}

report:
	if (stop_sig && rc == IT_EXIT_OK)
		rc = 128 + stop_sig;
	if (!rep.nruns)
		goto out;
	/* each run's repetitions become one run: the median, with the spread */
	ret = an_report_fold_repeats(&rep);
	if (ret == 0)
		ret = md_report_finish(&rep);
	if (ret < 0) {
		it_err("failed to analyse the runs: %s", strerror(-ret));
		rc = IT_EXIT_FAIL;
		goto out;
	}
	/* with --json, stdout must stay one JSON document: the digests go to stderr */
	if (cfg.verify && have_first)
		print_digests(cfg.json ? stderr : stdout, &first, cfg.o.dir);
	{
		struct od_out od = {.given = cfg.outdir, .json = cfg.json, .color = cfg.color,
				    .width = it_term_cols(STDOUT_FILENO), .verbose = it_verbose,
				    .uid = cfg.o.uid, .gid = cfg.o.gid, .tracer_cpu = true};

		od.win_ok = ss_windows_cpu(&ss, &od.win_user_ns, &od.win_sys_ns);
		ret = od_deliver(&rep, &od, &written);
	}
	rc = rc ? rc : ret;
out:
	if (svc_ok)
		cfg.w->service_stop(svc);
	if (ss_ok)
		ss_close(&ss);
	if (thr_ok) {
		char path[sizeof(thr.path)];

		snprintf(path, sizeof(path), "%s", thr.path);
		if (wl_throttle_remove(&thr) < 0)
			it_warn("failed to remove cgroup %s; remove it with rmdir", thr.path);
		else
			wl_guard_cgroup(&guard, path, false);
	}
	if (dataset) {
		if (wl_dataset_remove(dataset) < 0)
			it_warn("failed to remove the dataset %s; remove it by hand", dataset);
		else
			wl_guard_dataset(&guard, dataset, false);
	}
	wl_guard_stop(&guard);
	if (have_first)
		wl_result_free(&first);
	an_report_free(&rep);
	free(dataset);
	for (size_t i = 0; i < cfg.nstrategies; i++)
		free(cfg.strategies[i]);
	return rc;
}
