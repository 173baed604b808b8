/* cmd_check.c - `iotrace check`: can this kernel and this user run iotrace, probe by probe? */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "trace/tracer.h"

/*
 * Everything is tested for real (each probe loaded and attached, then detached), because a
 * kernel can list a tracepoint and still refuse to attach to it. Fast: one load of the
 * probes, no ring-buffer or map of any size. Exit 0 only if a run can work.
 */

#define MAX_PROBES 32

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct check {
	struct utsname u;
	bool btf;
	bool root, cap_bpf, cap_perfmon, cap_sys_admin;
	bool privileged;
	bool tracefs;
	char tracefs_at[64];
	bool blkio_v1, io_v2;
	char blkio_at[256];
	bool steal;		/* per-thread steal measurable (stolen_ns) */
	struct tr_probe_status st[MAX_PROBES];
	size_t nst;
	bool probes_tested;
	int probe_err;
	bool required_ok;
	int exit;
	char reason[256];
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: iotrace check [--json] [-v]\n\n"
		   "Checks that this kernel and user can run iotrace: kernel BTF, privileges, each\n"
		   "probe (loaded and attached for real, then removed), and whether --throttle can\n"
		   "work (cgroup blkio/io controller). Needs root to test the probes.\n\n"
		   "Options:\n"
		   "      --json      machine-readable result on stdout\n"
		   "  -v, --verbose   libbpf debug output\n"
		   "  -h, --help      this help\n\n"
		   "Exit status: 0 a run can work; 3 not permitted (use sudo); 4 the kernel lacks BTF\n"
		   "or a required probe.\n");
}

static bool cap_has(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

static void check_privileges(struct check *c)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	c->root = geteuid() == 0;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == 0) {
		c->cap_bpf = cap_has(d, CAP_BPF);
		c->cap_perfmon = cap_has(d, CAP_PERFMON);
		c->cap_sys_admin = cap_has(d, CAP_SYS_ADMIN);
	}
	/* CAP_SYS_ADMIN implies both on kernels that have them */
	c->privileged = c->root || c->cap_sys_admin || (c->cap_bpf && c->cap_perfmon);
}

/* Mount point of the first mount of fstype (with option opt in its options, if given). */
static bool find_mount(const char *fstype, const char *opt, char *at, size_t len)
{
	char line[1024], dev[256], dir[256], type[64], opts[512];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %255s %63s %511s", dev, dir, type, opts) != 4)
			continue;
		if (strcmp(type, fstype))
			continue;
		if (opt) {
			char *p = opts, *tok;

			while ((tok = strsep(&p, ",")) && strcmp(tok, opt))
				;
			if (!tok)
				continue;
		}
		snprintf(at, len, "%s", dir);
		found = true;
	}
	fclose(f);
	return found;
}

static void check_throttle(struct check *c)
{
	char at[256], path[512], buf[256];
	FILE *f;

	if (find_mount("cgroup", "blkio", at, sizeof(at))) {
		snprintf(path, sizeof(path), "%s/blkio.throttle.read_bps_device", at);
		if (access(path, F_OK) == 0) {
			c->blkio_v1 = true;
			snprintf(c->blkio_at, sizeof(c->blkio_at), "%s", at);
		}
	}
	if (find_mount("cgroup2", NULL, at, sizeof(at))) {
		snprintf(path, sizeof(path), "%s/cgroup.controllers", at);
		f = fopen(path, "re");
		if (f) {
			if (fgets(buf, sizeof(buf), f)) {
				char *p = buf, *tok;

				buf[strcspn(buf, "\n")] = 0;
				while ((tok = strsep(&p, " ")))
					if (!strcmp(tok, "io"))
						c->io_v2 = true;
			}
			fclose(f);
		}
		if (c->io_v2 && !c->blkio_v1)
			snprintf(c->blkio_at, sizeof(c->blkio_at), "%s", at);
	}
}

static const char *plain_err(int err)
{
	switch (-err) {
	case 0:
		return "ok";
	case ENOENT:
		return "this kernel has no such tracepoint";
	case EPERM:
	case EACCES:
		return "not permitted";
	case EINVAL:
		return "rejected by the kernel (BPF verifier or attach type)";
	case EOPNOTSUPP:
	case 524: /* ENOTSUPP */
		return "not supported by this kernel";
	case ENODEV:
		return "no such event on this machine";
	default:
		return strerror(-err);
	}
}

static void run_checks(struct check *c)
{
	uname(&c->u);
	c->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	check_privileges(c);
	c->tracefs = find_mount("tracefs", NULL, c->tracefs_at, sizeof(c->tracefs_at));
	check_throttle(c);
	c->steal = c->btf && tr_steal_measurable();
	c->required_ok = false;
	if (c->privileged && c->btf) {
		c->probe_err = tr_probe_check(c->st, MAX_PROBES, &c->nst);
		c->probes_tested = c->probe_err == 0;
		c->required_ok = c->probes_tested;
		for (size_t i = 0; i < c->nst; i++)
			if (c->st[i].required && c->st[i].err)
				c->required_ok = false;
	}

	if (!c->btf) {
		c->exit = IT_EXIT_KERNEL;
		snprintf(c->reason, sizeof(c->reason),
			 "failed to find the kernel's BTF (/sys/kernel/btf/vmlinux): iotrace needs a "
			 "kernel built with CONFIG_DEBUG_INFO_BTF=y");
	} else if (!c->privileged) {
		c->exit = IT_EXIT_PERM;
		snprintf(c->reason, sizeof(c->reason),
			 "failed to test the probes: loading eBPF probes needs root (or CAP_BPF and "
			 "CAP_PERFMON); run it with sudo: sudo iotrace check");
	} else if (!c->probes_tested) {
		c->exit = IT_EXIT_KERNEL;
		snprintf(c->reason, sizeof(c->reason), "failed to test the probes: %s",
			 strerror(-c->probe_err));
	} else if (!c->required_ok) {
		c->exit = IT_EXIT_KERNEL;
		snprintf(c->reason, sizeof(c->reason),
			 "failed to attach a required probe on this kernel (see the FAIL lines)");
	} else {
		c->exit = IT_EXIT_OK;
		snprintf(c->reason, sizeof(c->reason), "iotrace can run here");
	}
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_json(const struct check *c)
{
	printf("{\"kernel\": ");
	json_str(c->u.release);
	printf(", \"arch\": ");
	json_str(c->u.machine);
	printf(", \"btf\": %s, \"euid\": %u, \"privileged\": %s, \"cap_bpf\": %s, "
	       "\"cap_perfmon\": %s,\n",
	       c->btf ? "true" : "false", (unsigned)geteuid(), c->privileged ? "true" : "false",
	       c->cap_bpf ? "true" : "false", c->cap_perfmon ? "true" : "false");
	printf(" \"tracefs\": %s, \"tracefs_needed\": false,\n", c->tracefs ? "true" : "false");
	printf(" \"probes\": ");
	if (!c->probes_tested) {
		printf("null");
	} else {
		printf("[");
		for (size_t i = 0; i < c->nst; i++) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			json_str(c->st[i].name);
			printf(", \"what\": ");
			json_str(c->st[i].desc);
			printf(", \"required\": %s, \"ok\": %s, \"error\": ",
			       c->st[i].required ? "true" : "false", c->st[i].err ? "false" : "true");
			if (c->st[i].err)
				json_str(plain_err(c->st[i].err));
			else
				printf("null");
			printf("}");
		}
		printf("]");
	}
	printf(",\n \"throttle\": {\"cgroup_v1_blkio\": %s, \"cgroup_v2_io\": %s},\n",
	       c->blkio_v1 ? "true" : "false", c->io_v2 ? "true" : "false");
	printf(" \"steal\": %s,\n", c->steal ? "true" : "false");
	printf(" \"can_run\": %s, \"exit\": %d, \"reason\": ", c->exit == 0 ? "true" : "false",
	       c->exit);
	json_str(c->reason);
	printf("}\n");
}

static void line(const char *tag, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void line(const char *tag, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("  %-5s %-30s ", tag, what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void print_text(const struct check *c)
{
	printf("iotrace check: Linux %s (%s)\n", c->u.release, c->u.machine);
	line(c->btf ? "ok" : "FAIL", "kernel BTF", "%s",
	     c->btf ? "/sys/kernel/btf/vmlinux present" : "missing: needs CONFIG_DEBUG_INFO_BTF=y");
	if (c->root)
		line("ok", "privileges", "running as root");
	else if (c->privileged)
		line("ok", "privileges", "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)");
	else
		line("FAIL", "privileges", "not root and no CAP_BPF + CAP_PERFMON: use sudo");
	line("info", "tracefs",
	     c->tracefs ? "mounted at %s (not needed: iotrace attaches through BTF)"
			: "%snot mounted (not needed: iotrace attaches through BTF)",
	     c->tracefs ? c->tracefs_at : "");
	if (c->probes_tested) {
		for (size_t i = 0; i < c->nst; i++) {
			const struct tr_probe_status *s = &c->st[i];
			char what[96];

			snprintf(what, sizeof(what), "%s", s->name);
			if (!s->err)
				line("ok", what, "%s", s->desc);
			else
				line(s->required ? "FAIL" : "warn", what, "%s: %s%s", s->desc,
				     plain_err(s->err),
				     s->required ? " (required)" : " (optional: that figure will be null)");
		}
	} else if (c->btf) {
		line("skip", "probes", "not tested: %s",
		     c->privileged ? strerror(-c->probe_err) : "needs root");
	}
	if (c->steal)
		line("ok", "steal", "hypervisor steal per thread (run-queue clocks via the task's cfs_rq)");
	else if (c->btf)
		line("warn", "steal", "not measurable without group scheduling (CONFIG_FAIR_GROUP_SCHED): "
				      "stolen_ns will be null");
	if (c->blkio_v1)
		line("ok", "--throttle", "cgroup v1 blkio throttling at %s", c->blkio_at);
	else if (c->io_v2)
		line("ok", "--throttle", "cgroup v2 io controller at %s", c->blkio_at);
	else
		line("warn", "--throttle", "no cgroup blkio/io controller: --throttle won't work");
	printf("%s\n", c->exit == 0 ? "iotrace can run here." : "iotrace cannot run here:");
}

int cmd_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct check *c;
	bool json = false;
	int opt, rc;

	optind = 1;
	opterr = 0; /* our own message, naming iotrace */
	while ((opt = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'v':
			it_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return IT_EXIT_OK;
		default:
			it_err("unknown option '%s' (see iotrace check --help)", argv[optind - 1]);
			return IT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		it_err("unexpected argument '%s' (see iotrace check --help)", argv[optind]);
		return IT_EXIT_USAGE;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		it_err("failed to check: %s", strerror(ENOMEM));
		return IT_EXIT_FAIL;
	}
	tr_set_verbose(it_verbose > 0);
	run_checks(c);
	if (json)
		print_json(c);
	else
		print_text(c);
	if (c->exit)
		it_err("%s", c->reason);
	rc = c->exit;
	free(c);
	return rc;
}
