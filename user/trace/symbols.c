/* symbols.c - kernel (kallsyms) and user (libdwfl) symbolization of raw stacks into folded frames. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "debugslim.h"
#include "elfshare.h"
#include "symbols.h"
#include "symindex.h"

#define SYM_NAME_MAX 200	/* longer names (C++ templates) are cut: frames stay readable */
#define SYM_CACHE 4096		/* direct-mapped (pid, ip) -> name cache, power of two */
#define SYM_TAIL_CACHE 1024	/* direct-mapped (pid, call site, callee) -> tail call */
#if defined(__x86_64__)
#define SYM_TAIL_CALLS 1	/* tail_call decodes x86-64 calls */
#else
#define SYM_TAIL_CALLS 0
#endif
/*
 * Maps are re-read after a miss (exec, dlopen) at once SYM_MAX_RECAPTURE times, then at
 * most once per SYM_RECAPTURE_NS: an interpreter loads a library per extension module as
 * it starts, and a broken frame-pointer chain misses on junk addresses forever.
 */
#define SYM_MAX_RECAPTURE 8
#define SYM_RECAPTURE_NS (100ULL * 1000 * 1000)
#define SYM_MAX_PROCS 16	/* beyond this, processes that have exited are forgotten */
#define SYM_TOP_MARGIN 128	/* sym_unwind's top: past the outermost frame's stack pointer */
#define SYM_READS_MAX 256	/* stack words one walk may read to be checked (umemo_words) */
#define POISON 0x5eed0000dead5eedULL	/* neither code nor stack */
#define SYM_KERNEL_SLACK (1 << 20) /* past the last kernel symbol by more: not kernel text */

static const char CUT_FRAME[] = "[deeper frames cut]";

/* 8 bytes a symbol (~120k of them): the address as an offset from the lowest one (kernel
 * and module text lie within 2 GiB of each other on x86-64 and arm64: see kernel_load) */
struct ksym {
	uint32_t off;		/* addr - kbase */
	uint32_t name;		/* offset into kpool */
};

struct anon_range {
	uint64_t start, end;
};

/* The copy being unwound: what the unwinder's callbacks read (dwfl_attach_state's arg). */
struct uw_copy {
	pid_t tid;
	bool given;		/* next_thread has returned the thread */
	const uint64_t *regs;
	const unsigned char *stack;
	uint64_t sp;
	size_t size;
	uint64_t *ips;
	int n, max;
	bool last_activation;	/* the last frame's pc is not a return address */
	uint64_t last_sp;	/* the last frame's stack pointer, 0 unknown */
	/* the words of the copy read (distinct, as offsets from sp); -1: too many */
	uint16_t reads[SYM_READS_MAX];
	int nreads;
	/* a second walk, to tell which of them matter (umemo_words): only the words at
	 * keep[] read true, any other read of memory gives POISON, as do registers not in
	 * keep_regs */
	bool verify;
	const uint16_t *keep;
	int nkeep;
	uint32_t keep_regs;
};

/*
 * One reading of a process's mappings: the lines libdwfl is given (filter_maps), and when
 * the read began and ended (CLOCK_MONOTONIC, the probes' clock): what a fork inherited is
 * told from the readings of its parent on either side of the fork (proc_inherit).
 */
struct sym_maps {
	char *text;		/* NULL: none */
	size_t len;
	uint64_t t0, t1;
};
#define SYM_MAPS_KEPT 4		/* readings kept per process, the newest last */

struct sym_proc {
	pid_t pid;
	Dwfl *dwfl;		/* NULL: the process was gone before we could capture it */
	bool attached;		/* dwfl_attach_state done on this dwfl */
	/* the unwinder's callbacks' argument: its own allocation, as libdwfl keeps its
	 * address while this entry may move (proc_evict, the table's growth) */
	struct uw_copy *uw;
	struct sym_maps maps[SYM_MAPS_KEPT];
	/* a fork gone before its maps were read: dwfl holds what it had certainly inherited
	 * from its parent and kept (proc_inherit), never read again */
	bool inherited;
	struct anon_range *anon; /* executable anonymous mappings (JIT code) */
	size_t nanon;
	struct anon_range vdso;
	unsigned recaptures;
	uint64_t recapture_ts;	/* CLOCK_MONOTONIC ns of the last one */
	struct fdef *defs;	/* functions looked up by name (tail calls), of this dwfl */
	size_t ndefs;
	uint64_t used;		/* s->tick at the last use, for eviction */
};

/* What a user address turned out to be. */
enum ukind {
	U_NAMED,	/* a symbol, or module+offset: a real frame */
	U_ANON,		/* executable anonymous memory */
	U_JUNK,		/* in no executable mapping: the frame-pointer chain broke */
};

struct cache_ent {
	pid_t pid;
	uint64_t ip;
	char *name;	/* NULL: empty slot */
};

/* A tail call inferred (or not) between a call site and the function found below it. */
struct tail_ent {
	pid_t pid;
	uint64_t ra, callee;	/* callee: a hash of the function's name */
	char *name;	/* "" none, NULL: empty slot */
};

/* The definitions of a function name in a process (the target a PLT stub binds). */
#define FDEF_MAX 4
#define FDEFS_MAX 256	/* names kept per process */
struct fdef {
	char *name;
	int n;
	bool ifunc;	/* an IFUNC: what it resolves to is not known here */
	uint64_t lo[FDEF_MAX], hi[FDEF_MAX];
};

/*
 * A process's mappings as sym_data_name last read them: futex words are named when their
 * wait is decided, which in a short program can be after it exited (a CPython run of 45 ms
 * lost every GIL name in 5 of 20 runs). The text of /proc/PID/maps, as read.
 */
struct sym_dmaps {
	pid_t pid;		/* 0: free */
	uint64_t taken;		/* CLOCK_MONOTONIC ns */
	char *maps;
	size_t len;
	bool young;		/* taken at an exec: before ld.so mapped the libraries */
};
#define SYM_DATA_PROCS 64	/* processes whose mappings are kept (oldest capture evicted) */
#define SYM_DATA_REFRESH_NS (10ull * 1000 * 1000) /* sym_data_seen's re-read, at most this often */
#define SYM_DATA_YOUNG_NS (2ull * 1000 * 1000) /* sym_data_tick's re-read, this long after an exec */

/*
 * A process forked by another, not exec'd since, or one that exec'd (ppid 0), as the
 * fork and exec records said (sym_proc_forked), with its maps and its parent's read when
 * the record came: the probes wake the consumer for it, so a fork of a few ms is often
 * still alive then, and its parent has not exec'd yet (pyenv's shim).
 */
struct sym_fork {
	pid_t pid;		/* 0: free */
	pid_t ppid;		/* 0: the pid exec'd a new program at ts */
	uint64_t ts;		/* the fork or the exec, CLOCK_MONOTONIC */
	struct sym_maps own;	/* pid's, read after ts (text NULL: it was gone) */
	struct sym_maps par;	/* ppid's, read after the fork */
	bool settled;		/* sym_tick reads own no more */
};
#define SYM_FORKS 1024
#define SYM_FORK_READS 64	/* the newest forks whose readings are kept (~1-8 KiB each) */
/* sym_tick reads a new program's maps again while it lives, this long after its exec */
#define SYM_EXEC_REREAD_NS (100ull * 1000 * 1000)

struct sym {
	struct ksym *k;
	uint64_t kbase;		/* address of k[].off 0 */
	size_t nk;
	char *kpool;
	int kstate;		/* 0 not loaded yet, 1 loaded, -1 unavailable */
	struct sym_proc *procs;
	size_t nprocs, capprocs;
	uint64_t tick;
	struct cache_ent cache[SYM_CACHE];
	struct tail_ent tails[SYM_TAIL_CACHE];
	struct sym_dmaps dmaps[SYM_DATA_PROCS];
	struct si_cache *sidx;	/* symbol indexes, shared by the processes mapping a file */
	struct sym_fork forks[SYM_FORKS];	/* the last forks seen (sym_proc_forked) */
	size_t nextfork;
};


/* Outermost frames of a complete user stack: a stack ending anywhere else was cut short. */
static const char *const entry_frames[] = {
	"_start", "__libc_start_main", "__libc_start_call_main", "main", "start_thread",
	"clone", "clone3", "__clone", "__clone3", "__GI___clone", "__GI___clone3",
	"thread_start", "__clone_internal",
};

static void dwfl_free(Dwfl *d);
static void kernel_unload(struct sym *s);

struct sym *sym_new(void)
{
	struct sym *s = calloc(1, sizeof(struct sym));

	/* without the cache, each module indexes its own symbols */
	if (s)
		s->sidx = si_cache_new();
	return s;
}

static void defs_free(struct sym_proc *p)
{
	for (size_t i = 0; i < p->ndefs; i++)
		free(p->defs[i].name);
	free(p->defs);
	p->defs = NULL;
	p->ndefs = 0;
}

static void tails_clear(struct sym *s)
{
	for (size_t i = 0; i < SYM_TAIL_CACHE; i++) {
		free(s->tails[i].name);
		s->tails[i].name = NULL;
	}
}

static void maps_clear(struct sym_maps *m)
{
	free(m->text);
	*m = (struct sym_maps){0};
}

static void proc_free(struct sym_proc *p)
{
	if (p->dwfl)
		dwfl_free(p->dwfl);
	free(p->anon);
	free(p->uw);
	for (int i = 0; i < SYM_MAPS_KEPT; i++)
		maps_clear(&p->maps[i]);
	defs_free(p);
}

void sym_free(struct sym *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++)
		proc_free(&s->procs[i]);
	free(s->procs);
	for (size_t i = 0; i < SYM_CACHE; i++)
		free(s->cache[i].name);
	tails_clear(s);
	kernel_unload(s);
	for (size_t i = 0; i < SYM_DATA_PROCS; i++)
		free(s->dmaps[i].maps);
	for (size_t i = 0; i < SYM_FORKS; i++) {
		maps_clear(&s->forks[i].own);
		maps_clear(&s->forks[i].par);
	}
	si_cache_free(s->sidx);
	ds_clear();
	es_trim();
	free(s);
}

/* Copy a name into a frame: ';' separates frames and control bytes break the line format. */
static void copy_name(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < len && i < SYM_NAME_MAX; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c == ';' ? ':' : (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* ---- kernel ---- */

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * One line of /proc/kallsyms ("ffffffff81000000 T _stext", a module's with "\t[mod]"): a
 * text symbol with a visible address? *name points into line (the name is cut there).
 * Parsed by hand: sscanf took as long as the kernel took to write the 120k lines.
 */
static bool ksym_parse(char *line, uint64_t *addr, char **name)
{
	uint64_t a = 0;
	char *p = line, *n, type;
	int digits = 0;

	for (;; p++, digits++) {
		unsigned c = (unsigned char)*p;

		if (c - '0' < 10)
			a = a << 4 | (c - '0');
		else if ((c | 0x20) - 'a' < 6)
			a = a << 4 | ((c | 0x20) - 'a' + 10);
		else
			break;
	}
	if (!digits || digits > 16 || *p != ' ')
		return false;
	type = p[1];
	if (!type || p[2] != ' ')
		return false;
	n = p + 3;
	p = n;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	if (p == n || p - n > 255)
		return false;
	*p = '\0';
	*addr = a;
	*name = n;
	/* text only; zero addresses mean kptr_restrict hides them from us */
	return a && (type == 't' || type == 'T' || type == 'w' || type == 'W');
}

/*
 * One pass over /proc/kallsyms into two arrays reserved large (virtual memory only: a page
 * becomes resident once written), so that nothing is copied as they fill and exactly what
 * is written stays resident. Growing them with realloc left up to twice their size
 * resident (the old copies, freed in the heap), and this table is the biggest thing
 * iotrace holds while tracing with stacks. Offsets are from 2 GiB below the first text
 * symbol: kernel and module text lie within 2 GiB of each other (x86-64, arm64).
 */
#define KSYM_MAX (4u << 20)		/* symbols (the kernel has ~120k) */
#define KPOOL_MAX (256u << 20)		/* bytes of names */
#define KBASE_BELOW (2ull << 30)

static void *reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void kernel_unload(struct sym *s)
{
	if (s->k)
		munmap(s->k, KSYM_MAX * sizeof(*s->k));
	if (s->kpool)
		munmap(s->kpool, KPOOL_MAX);
	s->k = NULL;
	s->kpool = NULL;
	s->nk = 0;
}

static void kernel_load(struct sym *s)
{
	size_t poollen = 0;
	uint64_t addr;
	char line[512], *name;
	bool first = true;
	FILE *f;

	s->kstate = -1;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	s->k = reserve(KSYM_MAX * sizeof(*s->k));
	s->kpool = reserve(KPOOL_MAX);
	if (!s->k || !s->kpool)
		goto out;
	while (fgets(line, sizeof(line), f) && s->nk < KSYM_MAX) {
		size_t nl;

		if (!ksym_parse(line, &addr, &name))
			continue;
		if (first) {
			s->kbase = addr > KBASE_BELOW ? addr - KBASE_BELOW : 0;
			first = false;
		}
		nl = strlen(name) + 1;
		/* outside the 4 GiB window (no such kernel seen): left unnamed */
		if (addr < s->kbase || addr - s->kbase > UINT32_MAX || poollen + nl > KPOOL_MAX)
			continue;
		memcpy(s->kpool + poollen, name, nl);
		s->k[s->nk].off = (uint32_t)(addr - s->kbase);
		s->k[s->nk].name = (uint32_t)poollen;
		s->nk++;
		poollen += nl;
	}
	if (s->nk) {
		qsort(s->k, s->nk, sizeof(*s->k), ksym_cmp);
		s->kstate = 1;
	}
out:
	fclose(f);
	if (s->kstate < 0)
		kernel_unload(s);
}

void sym_kernel_load(struct sym *s)
{
	if (!s->kstate)
		kernel_load(s);
}

/* Name of the kernel function containing ip, or NULL. */
static const char *kernel_name(struct sym *s, uint64_t ip)
{
	size_t lo = 0, hi;
	uint64_t off;

	if (!s->kstate)
		kernel_load(s);
	if (s->kstate < 0 || ip < s->kbase)
		return NULL;
	off = ip - s->kbase;
	if (off < s->k[0].off || off > (uint64_t)s->k[s->nk - 1].off + SYM_KERNEL_SLACK)
		return NULL;
	hi = s->nk;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->k[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return s->kpool + s->k[lo].name;
}

/* ---- user ---- */

/* The pid whose modules are being opened (callbacks get no context of their own). */
static __thread pid_t capturing;

/*
 * A file deleted since it was mapped (a rebuilt binary, an unlinked temporary) cannot be
 * opened by name, but the kernel still holds it: /proc/PID/map_files/START-END.
 */
static int open_mapped(pid_t pid, const char *name, char **file_name)
{
	char path[64], line[4096];
	size_t n = strlen(name);
	int fd = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fd < 0 && fgets(line, sizeof(line), f)) {
		const char *p = strchr(line, '/');
		uint64_t a, b;

		if (!p || strncmp(p, name, n) || (p[n] != '\n' && strcmp(p + n, " (deleted)\n")) ||
		    sscanf(line, "%" SCNx64 "-%" SCNx64, &a, &b) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, a, b);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			*file_name = strdup(path);
	}
	fclose(f);
	return fd;
}

static bool module_held(void **ud, struct es_file *f);

static int find_elf(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct es_file *held;
	int fd;

	/* a regular file: the Elf every process mapping it shares (elfshare.h) */
	if (name[0] == '/' && (*elfp = es_get(name, &held, file_name))) {
		if (module_held(ud, held))
			return -1;
		elf_end(*elfp);
		es_put(held);
		free(*file_name);
		*file_name = NULL;
		*elfp = NULL;
	}
	fd = dwfl_linux_proc_find_elf(mod, ud, name, base, file_name, elfp);

	/* a traced command (trace -- CMD) is exec'd by iotrace: keep our files out of it */
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fd >= 0 || *elfp || capturing <= 0 || name[0] != '/')
		return fd;
	return open_mapped(capturing, name, file_name);
}

/*
 * Separate debug files only from the local build-id tree: the standard callback would
 * ask debuginfod servers (DEBUGINFOD_URLS is set system-wide on Debian), a network
 * fetch per library in the middle of a run.
 */
static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = ds_find_debuginfo, /* dwfl_build_id_find_debuginfo's, cut */
};

/* Open each module's ELF now: after the process exits, /proc/PID/exe and [vdso] are gone. */
static int open_module(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start, void *arg)
{
	GElf_Addr bias;

	(void)ud;
	(void)name;
	(void)start;
	(void)arg;
	dwfl_module_getelf(mod, &bias);
	return DWARF_CB_OK;
}

/* All of a /proc file (their size is not known beforehand). malloc'd, NUL-terminated. */
static char *read_proc(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *nb;
	FILE *f = fopen(path, "re");
	size_t r;

	if (!f || !buf)
		goto fail;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	if (f)
		fclose(f);
	free(buf);
	return NULL;
}

static int add_range(struct anon_range **v, size_t *n, size_t *cap, uint64_t a, uint64_t b)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		void *nv = realloc(*v, nc * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[*n].start = a;
	(*v)[*n].end = b;
	(*n)++;
	return 0;
}

/* The path field of a maps line ("" for anonymous memory), and its length to the newline. */
static const char *map_path(const char *line, size_t *plen)
{
	const char *p = line;

	/* address perms offset dev inode, then spaces, then the path */
	for (int field = 0; field < 5; field++) {
		while (*p && *p != ' ' && *p != '\n')
			p++;
		while (*p == ' ')
			p++;
	}
	*plen = strcspn(p, "\n");
	return p;
}

/*
 * Which mappings libdwfl sees: only those of files the process runs code from (a group of
 * consecutive mappings of one file with an executable one among them). The rest must stay
 * out: a workload forked from iotrace inherits iotrace's own read-only mappings of the
 * ELF files it symbolizes, and reporting those as modules would open and map the files
 * again at each capture, doubling the mappings with every run. Executable memory with no
 * file behind it (JIT code) and the vDSO are kept aside for "[anon]" / "[vdso]".
 */
static int filter_maps(struct sym_proc *p, char *maps, size_t len, char *out, size_t *outlen)
{
	size_t o = 0, cap = 0;
	char *line = maps;

	if (p) {
		p->nanon = 0;
		p->vdso.start = p->vdso.end = 0;
	}
	while (line < maps + len) {
		char *group = line, *next;
		const char *path;
		size_t plen, glen;
		bool exec = false;

		path = map_path(line, &plen);
		/* the group: this line and the following ones of the same path */
		for (next = line; next < maps + len;) {
			const char *pp;
			size_t pl;
			char *eol = strchr(next, '\n');
			char perms[8] = "";
			uint64_t a, b;

			pp = map_path(next, &pl);
			if (next != line && (pl != plen || memcmp(pp, path, plen) || *path != '/'))
				break;
			if (sscanf(next, "%" SCNx64 "-%" SCNx64 " %7s", &a, &b, perms) == 3 &&
			    perms[2] == 'x') {
				exec = true;
				if (!p) {
					/* only the files wanted */
				} else if (!plen || (*path == '[' && strncmp(path, "[vdso]", 6) &&
					      strncmp(path, "[vsyscall]", 10))) {
					if (add_range(&p->anon, &p->nanon, &cap, a, b))
						return -ENOMEM;
				} else if (!strncmp(path, "[vdso]", 6)) {
					p->vdso.start = a;
					p->vdso.end = b;
				}
			}
			next = eol ? eol + 1 : maps + len;
			if (*path != '/')
				break;
		}
		glen = (size_t)(next - group);
		if (exec && *path == '/') {
			memcpy(out + o, group, glen);
			o += glen;
		}
		line = next;
	}
	*outlen = o;
	return 0;
}

static uint64_t mono_ns(void);

/*
 * Read pid's mappings while it is alive: the lines libdwfl is given in *m (its anonymous
 * executable ranges and vDSO into p, unless NULL). False when the process is gone.
 */
static bool maps_read(pid_t pid, struct sym_proc *p, struct sym_maps *m)
{
	char path[64], *maps, *kept = NULL;
	size_t len = 0, klen = 0;
	uint64_t t0 = mono_ns();

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = read_proc(path, &len);
	/* an exiting process (a zombie) has no mappings left: it is gone as well */
	if (maps && len && (kept = malloc(len + 1)) && !filter_maps(p, maps, len, kept, &klen)) {
		kept[klen] = '\0';
		*m = (struct sym_maps){.text = kept, .len = klen, .t0 = t0, .t1 = mono_ns()};
		free(maps);
		return true;
	}
	free(kept);
	free(maps);
	return false;
}

/* Keep a reading of p's mappings (taken over), the oldest dropped. */
static void maps_keep(struct sym_proc *p, struct sym_maps *m)
{
	maps_clear(&p->maps[0]);
	memmove(&p->maps[0], &p->maps[1], (SYM_MAPS_KEPT - 1) * sizeof(p->maps[0]));
	p->maps[SYM_MAPS_KEPT - 1] = *m;
	*m = (struct sym_maps){0};
}

/* p's modules from the lines of a maps file (filter_maps'): its dwfl replaced. */
static bool proc_build(struct sym_proc *p, const char *text, size_t len)
{
	Dwfl *d = dwfl_begin(&proc_callbacks);
	FILE *f = NULL;
	bool ok = false;

	if (!d)
		return false;
	dwfl_report_begin(d);
	f = len ? fmemopen((void *)text, len, "r") : NULL;
	if ((f && dwfl_linux_proc_maps_report(d, f) != 0) || dwfl_report_end(d, NULL, NULL) != 0)
		goto out;
	capturing = p->pid;
	dwfl_getmodules(d, open_module, NULL, 0);
	capturing = 0;
	if (p->dwfl)
		dwfl_free(p->dwfl);
	p->dwfl = d;
	p->attached = false;
	defs_free(p);
	d = NULL;
	ok = true;
out:
	if (f)
		fclose(f);
	if (d)
		dwfl_free(d);
	return ok;
}

static struct sym_fork *fork_find(struct sym *s, pid_t pid);
static struct sym_proc *proc_find(struct sym *s, pid_t pid);

/* Whether maps text a and b have a line alike. */
static bool maps_share(const struct sym_maps *a, const struct sym_maps *b)
{
	char *out;
	size_t n;

	if (!a->text || !b->text || !(out = malloc(a->len + 1)))
		return false;
	n = sym_maps_common(a->text, a->len, b->text, b->len, out);
	free(out);
	return n > 0;
}

/*
 * Whether m, read now of a fork not known to have exec'd (its records are taken in order,
 * its exec's not yet), is still its parent's program: a fork of a shell or make execs
 * within a ms, before the drain that unwinds its first stacks, which ran the parent's
 * code. A new program's mappings share no line with the parent's (ASLR), its copy's do.
 * No reading of the parent, no telling: yes.
 */
static bool fork_same_program(struct sym *s, pid_t pid, const struct sym_maps *m)
{
	struct sym_fork *f = fork_find(s, pid);
	struct sym_proc *q;
	bool any = false;

	if (!f || f->ppid <= 0)
		return true;
	if (f->par.text) {
		if (maps_share(m, &f->par))
			return true;
		any = true;
	}
	q = proc_find(s, f->ppid);
	for (int i = 0; q && i < SYM_MAPS_KEPT; i++) {
		if (!q->maps[i].text)
			continue;
		if (maps_share(m, &q->maps[i]))
			return true;
		any = true;
	}
	return !any;
}

/*
 * (Re)read pid's mappings while it is alive. False when the process is gone, or when it
 * is a fork whose stacks so far ran its parent's program and it exec'd another since.
 */
static bool proc_capture(struct sym *s, struct sym_proc *p)
{
	struct sym_maps m;

	/* what a fork inherited is all it has: its pid may be another process's by now */
	if (p->inherited || !maps_read(p->pid, p, &m))
		return false;
	if (!fork_same_program(s, p->pid, &m)) {
		maps_clear(&m);
		p->nanon = 0;
		p->vdso.start = p->vdso.end = 0;
		return false;
	}
	maps_keep(p, &m);
	return proc_build(p, p->maps[SYM_MAPS_KEPT - 1].text, p->maps[SYM_MAPS_KEPT - 1].len);
}

/* Forget the cached names of pid, which the kernel can reuse (all of them: pid 0). */
static void cache_forget(struct sym *s, pid_t pid)
{
	for (size_t i = 0; i < SYM_CACHE; i++)
		if (!pid || s->cache[i].pid == pid) {
			free(s->cache[i].name);
			s->cache[i].name = NULL;
		}
	for (size_t i = 0; i < SYM_TAIL_CACHE; i++)
		if (!pid || s->tails[i].pid == pid) {
			free(s->tails[i].name);
			s->tails[i].name = NULL;
		}
}

/* Forget s->procs[i]: the last entry moves into its place. */
static void proc_drop(struct sym *s, size_t i, bool all_names)
{
	pid_t pid = s->procs[i].pid;

	proc_free(&s->procs[i]);
	s->procs[i] = s->procs[--s->nprocs];
	cache_forget(s, all_names ? 0 : pid);
}

/*
 * Forget a process that has exited and was not used for the longest time, once many are
 * kept: each holds its files open (a run of iotrace sees a few processes per strategy).
 */
static void proc_evict(struct sym *s)
{
	size_t victim = SIZE_MAX;

	for (size_t i = 0; i < s->nprocs; i++) {
		struct sym_proc *p = &s->procs[i];

		if (kill(p->pid, 0) == 0 || errno != ESRCH)
			continue;
		if (victim == SIZE_MAX || p->used < s->procs[victim].used)
			victim = i;
	}
	if (victim != SIZE_MAX)
		proc_drop(s, victim, true);
}

static struct sym_proc *proc_find(struct sym *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static struct sym_fork *fork_find(struct sym *s, pid_t pid)
{
	for (size_t i = 0; i < SYM_FORKS; i++)
		if (s->forks[i].pid == pid)
			return &s->forks[i];
	return NULL;
}

size_t sym_maps_common(const char *a, size_t alen, const char *b, size_t blen, char *out)
{
	size_t o = 0;

	for (const char *l = a, *e; l < a + alen; l = e) {
		const char *nl = memchr(l, '\n', (size_t)(a + alen - l));
		size_t n;

		e = nl ? nl + 1 : a + alen;
		n = (size_t)(e - l);
		for (const char *m = b, *f; m < b + blen; m = f) {
			const char *ml = memchr(m, '\n', (size_t)(b + blen - m));

			f = ml ? ml + 1 : b + blen;
			if ((size_t)(f - m) == n && !memcmp(l, m, n)) {
				memcpy(out + o, l, n);
				o += n;
				break;
			}
		}
	}
	out[o] = '\0';
	return o;
}

/*
 * Where a reading of the parent's mappings stands against a fork at ts: a reading that
 * ended before it (a "before"), the latest such; one that began after it, the earliest.
 * A sibling's reading of its own (forked earlier or later by the same parent, not
 * exec'd) counts as a reading of the parent at the sibling's fork: what it inherited then,
 * with what it changed since, which no reading of the parent has (see proc_inherit).
 */
struct inherit_pick {
	uint64_t ts;
	const struct sym_maps *before, *after;
	uint64_t bt, at;
};

static void inherit_consider(struct inherit_pick *k, const struct sym_maps *m, uint64_t lo,
			     uint64_t hi)
{
	if (!m->text)
		return;
	if (hi < k->ts && (!k->before || hi > k->bt)) {
		k->before = m;
		k->bt = hi;
	}
	if (lo > k->ts && (!k->after || lo < k->at)) {
		k->after = m;
		k->at = lo;
	}
}

/* The lines of a alike in b, malloc'd into *out: their length (0: none, *out NULL). */
static size_t maps_common(const struct sym_maps *a, const struct sym_maps *b, char **out)
{
	size_t len;

	*out = NULL;
	if (!a || !b || !a->text || !b->text || !(*out = malloc(a->len + 1)))
		return 0;
	len = sym_maps_common(a->text, a->len, b->text, b->len, *out);
	if (!len) {
		free(*out);
		*out = NULL;
	}
	return len;
}

/*
 * A fork gone before its own mappings could be read (a worker process of a few ms, its
 * stacks drained after its exit) is unwound and named with what it had from its parent for
 * certain: the mappings found alike in two readings of the parent's, one that ended before
 * the fork and one that began after it. What the child mapped or unmapped itself is in
 * neither, and what the parent changed in between is in only one: such addresses stay
 * unnamed, never another file's names. The child's own reading at its fork record (it
 * may have exec'd before it: its new program's mappings lie elsewhere, ASLR) is taken as
 * far as a reading of the parent has the same lines. No such pair of readings, nothing is
 * inherited. A process that exec'd and is gone has its new program's mappings as read at
 * the exec record: ld.so maps the libraries later, so frames there stay unnamed.
 */
static void proc_inherit(struct sym *s, struct sym_proc *p)
{
	struct sym_fork *f = fork_find(s, p->pid), *g;
	struct sym_proc *q;
	struct inherit_pick k = {0};
	struct sym_maps now = {0};
	char *c1 = NULL, *c2 = NULL;
	size_t l1, l2;

	if (!f)
		return;
	if (f->ppid <= 0) {
		if (f->own.text && proc_build(p, f->own.text, f->own.len))
			p->inherited = true;
		return;
	}
	k.ts = f->ts;
	q = proc_find(s, f->ppid);
	if (q == p)
		return;
	for (int i = 0; q && i < SYM_MAPS_KEPT; i++)
		inherit_consider(&k, &q->maps[i], q->maps[i].t0, q->maps[i].t1);
	for (size_t i = 0; i < SYM_FORKS; i++) {
		g = &s->forks[i];
		if (g == f || g->pid <= 0 || g->ppid != f->ppid)
			continue;
		inherit_consider(&k, &g->par, g->par.t0, g->par.t1);
		inherit_consider(&k, &g->own, g->ts, g->ts);
	}
	inherit_consider(&k, &f->par, f->par.t0, f->par.t1);
	/* the parent's own record's reading (its exec's, or its fork's) */
	if ((g = fork_find(s, f->ppid)))
		inherit_consider(&k, &g->own, g->own.t0, g->own.t1);
	if (k.before && !k.after && !f->own.text && q && maps_read(q->pid, NULL, &now) &&
	    now.t0 > f->ts)
		k.after = &now;
	/* the child's own lines that its parent has too; else the parent's certain ones */
	l1 = maps_common(&f->own, k.after ? k.after : k.before, &c1);
	l2 = maps_common(k.before, k.after, &c2);
	if (l2 > l1) {
		free(c1);
		c1 = c2;
		l1 = l2;
		c2 = NULL;
	}
	if (l1 && proc_build(p, c1, l1))
		p->inherited = true;
	free(c1);
	free(c2);
	/* a later fork's reading before it */
	if (now.text && q)
		maps_keep(q, &now);
	maps_clear(&now);
}

static struct sym_proc *proc_get(struct sym *s, pid_t pid)
{
	struct sym_proc *p = proc_find(s, pid);

	if (p) {
		p->used = ++s->tick;
		return p;
	}
	if (s->nprocs >= SYM_MAX_PROCS)
		proc_evict(s);
	if (s->nprocs == s->capprocs) {
		size_t ncap = s->capprocs ? s->capprocs * 2 : 16;
		void *n = realloc(s->procs, ncap * sizeof(*s->procs));

		if (!n)
			return NULL;
		s->procs = n;
		s->capprocs = ncap;
	}
	p = &s->procs[s->nprocs];
	memset(p, 0, sizeof(*p));
	p->uw = calloc(1, sizeof(*p->uw));
	if (!p->uw)
		return NULL;
	s->nprocs++;
	p->pid = pid;
	p->used = ++s->tick;
	if (!proc_capture(s, p))
		proc_inherit(s, p);
	return p;
}

void sym_pid_seen(struct sym *s, pid_t pid)
{
	if (s && pid > 0)
		proc_get(s, pid);
}

void sym_proc_forked(struct sym *s, pid_t pid, pid_t ppid, uint64_t ts)
{
	struct sym_fork *f;
	struct sym_proc *p;

	if (!s || pid <= 0 || ppid == pid)
		return;
	/* a new process (the pid reused), or a new program: what was read of it is stale */
	if ((p = proc_find(s, pid)))
		proc_drop(s, (size_t)(p - s->procs), false);
	f = fork_find(s, pid);
	if (!f) {
		struct sym_fork *old = &s->forks[(s->nextfork + SYM_FORKS - SYM_FORK_READS) %
						 SYM_FORKS];

		maps_clear(&old->own);
		maps_clear(&old->par);
		f = &s->forks[s->nextfork];
		s->nextfork = (s->nextfork + 1) % SYM_FORKS;
	}
	maps_clear(&f->own);
	maps_clear(&f->par);
	*f = (struct sym_fork){.pid = pid, .ppid = ppid > 0 ? ppid : 0, .ts = ts};
	/*
	 * Read now, while they may live (the text only, ~20 us for a shell): a fork that
	 * exits within a few ms is gone by the next drain, and so is a parent's state at the
	 * fork once it exec'd; a fork that is still the parent's copy has its mappings.
	 */
	maps_read(pid, NULL, &f->own);
	if (ppid > 0)
		maps_read(ppid, NULL, &f->par);
}

void sym_tick(struct sym *s)
{
	uint64_t now;

	if (!s)
		return;
	now = mono_ns();
	for (size_t i = 0; i < SYM_FORKS; i++) {
		struct sym_fork *f = &s->forks[i];
		struct sym_maps m;

		if (!f->pid || f->ppid > 0 || f->settled)
			continue;
		if (now - f->ts > SYM_EXEC_REREAD_NS || !maps_read(f->pid, NULL, &m)) {
			f->settled = true;
			continue;
		}
		maps_clear(&f->own);
		f->own = m;
	}
}

static bool in_anon(const struct sym_proc *p, uint64_t ip)
{
	for (size_t i = 0; i < p->nanon; i++)
		if (ip >= p->anon[i].start && ip < p->anon[i].end)
			return true;
	return false;
}

/* "libfoo.so.1" from "/usr/lib/libfoo.so.1 (deleted)"; "[vdso]" without its pid. */
static void module_label(const char *name, char *out, size_t len)
{
	const char *b = strrchr(name, '/');
	size_t n;

	if (!strncmp(name, "[vdso", 5)) {
		snprintf(out, len, "[vdso]");
		return;
	}
	b = b ? b + 1 : name;
	n = strcspn(b, " ");
	if (n >= len)
		n = len - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

/*
 * Function starts of a module from its .eh_frame_hdr search table (the unwinder's index,
 * present in stripped files too): ELF addresses, sorted. Built once per module and kept
 * in the module's userdata slot; an empty table when the file has none we can read.
 */
struct fstarts {
	size_t n;
	uint64_t v[];
};

static struct fstarts *fstarts_build(Elf *elf)
{
	const unsigned char *raw, *h;
	struct fstarts *t = NULL;
	size_t size, nph, ptrlen;
	uint32_t count;
	GElf_Phdr ph;

	raw = elf ? (const unsigned char *)elf_rawfile(elf, &size) : NULL;
	if (!raw || elf_getphdrnum(elf, &nph))
		return NULL;
	for (size_t i = 0; i < nph; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
			continue;
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset || ph.p_filesz < 12)
			return NULL;
		h = raw + ph.p_offset;
		/* version 1; count as udata4; table as datarel sdata4: what toolchains emit */
		ptrlen = (h[1] & 0x0f) == 0x03 || (h[1] & 0x0f) == 0x0b ? 4
			 : (h[1] & 0x0f) == 0x04 || (h[1] & 0x0f) == 0x0c ? 8 : 0;
		if (h[0] != 1 || h[2] != 0x03 || h[3] != 0x3b || !ptrlen || 4 + ptrlen + 4 > ph.p_filesz)
			return NULL;
		memcpy(&count, h + 4 + ptrlen, 4);
		if (!count || count > (ph.p_filesz - 8 - ptrlen) / 8)
			return NULL;
		t = malloc(sizeof(*t) + count * sizeof(t->v[0]));
		if (!t)
			return NULL;
		t->n = count;
		for (uint32_t k = 0; k < count; k++) {
			int32_t loc;

			memcpy(&loc, h + 8 + ptrlen + (size_t)k * 8, 4);
			t->v[k] = ph.p_vaddr + (uint64_t)(int64_t)loc;
		}
		return t;
	}
	return NULL;
}

/*
 * What we hang on a module (its userdata slot), each part made at its first use: its
 * function starts, and its symbol index (symindex.c: the same names as
 * dwfl_module_addrinfo without its scan of the whole table at every address).
 */
struct modinfo {
	struct fstarts *fs;	/* NULL: not built yet; empty: none readable */
	struct si_index *si;	/* NULL: none (dwfl_module_addrinfo then) */
	bool si_tried;
	struct es_file *held;	/* the shared Elf its main file is (elfshare.c), or NULL */
	bool fs_shared;		/* fs is that file's (es_slot), not the module's */
};

/* Note in a module's userdata that its Elf is f's (given back at free_module_data). */
static bool module_held(void **ud, struct es_file *f)
{
	struct modinfo *mi = *ud ? *ud : (*ud = calloc(1, sizeof(struct modinfo)));

	if (!mi)
		return false;
	es_put(mi->held);
	mi->held = f;
	return true;
}

static struct modinfo *modinfo_of(Dwfl_Module *mod)
{
	void **slot = NULL;

	dwfl_module_info(mod, &slot, NULL, NULL, NULL, NULL, NULL, NULL);
	if (!slot)
		return NULL;
	if (!*slot)
		*slot = calloc(1, sizeof(struct modinfo));
	return *slot;
}

/* The start of the function containing ELF address a, or a itself when unknown. */
static uint64_t function_start(Dwfl_Module *mod, uint64_t a)
{
	static struct fstarts none;
	struct modinfo *mi = modinfo_of(mod);
	struct fstarts *t;
	GElf_Addr bias;
	size_t lo = 0, hi;

	if (!mi)
		return a;
	if (!mi->fs) {
		Elf *elf = dwfl_module_getelf(mod, &bias);
		void **slot = es_slot(elf);

		/* one table per file, whatever the number of processes mapping it */
		if (slot) {
			if (!*slot) {
				t = fstarts_build(elf);
				*slot = t ? t : calloc(1, sizeof(struct fstarts));
			}
			t = *slot;
			mi->fs_shared = true;
		} else {
			t = fstarts_build(elf);
		}
		mi->fs = t ? t : &none;
	}
	t = mi->fs;
	if (!t->n || a < t->v[0])
		return a;
	hi = t->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return t->v[lo];
}

/* dwfl_module_addrinfo(mod, a, off, gs, NULL, NULL, NULL), from the module's index. */
static const char *mod_addrinfo(struct sym *s, Dwfl_Module *mod, uint64_t a, GElf_Off *off,
				GElf_Sym *gs)
{
	struct modinfo *mi = modinfo_of(mod);
	const char *name;
	bool fallback = true;

	if (mi && !mi->si_tried) {
		mi->si_tried = true;
		mi->si = si_get(s->sidx, mod);
	}
	if (mi && mi->si) {
		name = si_addrinfo(mi->si, mod, a, off, gs, &fallback);
		if (!fallback)
			return name;
	}
	return dwfl_module_addrinfo(mod, a, off, gs, NULL, NULL, NULL);
}

static int free_module_data(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start,
			    void *arg)
{
	struct modinfo *mi = *ud;

	(void)mod;
	(void)name;
	(void)start;
	(void)arg;
	if (mi) {
		if (mi->fs && mi->fs->n && !mi->fs_shared)
			free(mi->fs);
		si_put(mi->si);
		es_put(mi->held);
		free(mi);
	}
	*ud = NULL;
	return DWARF_CB_OK;
}

/* dwfl_end, and what we hung on its modules. */
static void dwfl_free(Dwfl *d)
{
	if (!d)
		return;
	dwfl_getmodules(d, free_module_data, NULL, 0);
	dwfl_end(d);
}

static enum ukind user_frame_uncached(struct sym *s, struct sym_proc *p, uint64_t ip, char *buf,
				      size_t len)
{
	Dwfl_Module *mod;
	const char *name, *modname;
	Dwarf_Addr low = 0;
	GElf_Addr bias = 0;
	GElf_Off off;
	GElf_Sym gs;
	char label[128];

	/* the maps lines first: a module's range spans the holes between its segments, where
	 * anonymous memory may have been mapped since */
	if (ip >= p->vdso.start && ip < p->vdso.end) {
		snprintf(buf, len, "[vdso]");
		return U_NAMED;
	}
	if (in_anon(p, ip)) {
		snprintf(buf, len, "[anon]");
		return U_ANON;
	}
	mod = dwfl_addrmodule(p->dwfl, ip);
	if (!mod)
		return U_JUNK;
	name = mod_addrinfo(s, mod, ip, &off, &gs);
	if (name && *name) {
		copy_name(buf, len, name);
		return U_NAMED;
	}
	/*
	 * Stripped, or code no symbol covers (libcrypto's assembly): module + the ELF address
	 * of the function's start, so all samples in one function are one frame (and
	 * `addr2line -f -e` with debug info names it later).
	 */
	modname = dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
	module_label(modname ? modname : "[unknown]", label, sizeof(label));
	if (!dwfl_module_getelf(mod, &bias))
		bias = low;
	snprintf(buf, len, "%s+0x%" PRIx64, label, function_start(mod, ip - bias));
	copy_name(buf, len, buf);
	return U_NAMED;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* May p's maps be read again now (and if so, count it)? */
static bool may_recapture(struct sym_proc *p)
{
	uint64_t now = mono_ns();

	if (p->recaptures >= SYM_MAX_RECAPTURE && now - p->recapture_ts < SYM_RECAPTURE_NS)
		return false;
	p->recaptures++;
	p->recapture_ts = now;
	return true;
}

/*
 * A recapture that found what was missing (a library loaded since: CPython loads one per
 * extension module it imports, and its hashing thread's libcrypto came after the first
 * eight) does not count against the limit, which is there for addresses no capture will
 * ever find: the limit left every sample in a library loaded late unnamed until the next
 * 100 ms, a share of the run that varied with when the drain ran.
 */
static void recapture_done(struct sym_proc *p, bool found)
{
	if (found && p->recaptures)
		p->recaptures--;
}

static enum ukind user_frame(struct sym *s, struct sym_proc *p, uint64_t ip, char *tmp, size_t len,
			     const char **name)
{
	struct cache_ent *c = &s->cache[(ip ^ (ip >> 12) ^ (uint64_t)p->pid * 0x9e3779b1u) &
					(SYM_CACHE - 1)];
	enum ukind k;

	if (c->name && c->pid == p->pid && c->ip == ip) {
		*name = c->name;
		return U_NAMED;
	}
	k = user_frame_uncached(s, p, ip, tmp, len);
	/* a library loaded since the capture: read the maps again while the process lives */
	if (k == U_JUNK && may_recapture(p)) {
		if (proc_capture(s, p))
			k = user_frame_uncached(s, p, ip, tmp, len);
		recapture_done(p, k != U_JUNK);
	}
	*name = tmp;
	if (k == U_NAMED) {
		char *d = strdup(tmp);

		if (d) {
			free(c->name);
			c->name = d;
			c->pid = p->pid;
			c->ip = ip;
			*name = d;
		}
	}
	return k;
}

/* ---- unwinding a copy of the user stack ---- */

/*
 * libdwfl's unwinder asks for the process's threads and their registers through these
 * callbacks (the way it reads a core file): here the one thread is the copy's, its
 * registers the ones copied, and memory is readable only where the stack was copied.
 * What the CFI needs of the code itself libdwfl reads from the ELF files.
 */
static pid_t uw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct uw_copy *c = arg;

	(void)dwfl;
	if (c->given)
		return 0;
	c->given = true;
	*thread_argp = c;
	return c->tid;
}

static bool uw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct uw_copy *c = arg;

	(void)dwfl;
	if (c->verify) {
		*result = POISON;
		for (int i = 0; i < c->nkeep; i++)
			if (addr == c->sp + c->keep[i])
				memcpy(result, c->stack + c->keep[i], sizeof(*result));
		return true;
	}
	if (addr < c->sp || addr - c->sp + sizeof(*result) > c->size)
		return false;
	memcpy(result, c->stack + (addr - c->sp), sizeof(*result));
	if (c->nreads >= 0) {
		uint16_t off = (uint16_t)(addr - c->sp);
		int i = 0;

		while (i < c->nreads && c->reads[i] != off)
			i++;
		if (i == c->nreads)
			c->nreads = i < SYM_READS_MAX ? (c->reads[i] = off, i + 1) : -1;
	}
	return true;
}

static bool uw_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct uw_copy *c = thread_arg;
	Dwarf_Word r[IT_UREGS];

	for (int i = 0; i < IT_UREGS; i++)
		r[i] = c->verify && i != IT_UREG_SP && i != IT_UREG_IP &&
				       !(c->keep_regs & (1u << i)) ? POISON : c->regs[i];
	if (!dwfl_thread_state_registers(thread, 0, IT_UREGS, r))
		return false;
	dwfl_thread_state_register_pc(thread, c->regs[IT_UREG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks uw_callbacks = {
	.next_thread = uw_next_thread,
	.memory_read = uw_memory_read,
	.set_initial_registers = uw_set_initial_registers,
};

static int uw_frame(Dwfl_Frame *state, void *arg)
{
	struct uw_copy *c = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act) || !pc)
		return DWARF_CB_ABORT;
	c->last_activation = act;
	if (dwfl_frame_reg(state, IT_UREG_SP, &sp) != 0)
		sp = 0;
	c->last_sp = sp;
	/* the same frame twice: the CFI (or the frame-pointer fallback) made no progress */
	if (c->n && c->ips[c->n - 1] == pc && c->n >= 2 && c->ips[c->n - 2] == pc)
		return DWARF_CB_ABORT;
	c->ips[c->n++] = pc;
	return c->n < c->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/*
 * Is the frame at pc the outermost one: does its CFI say the return address is undefined
 * (what _start and clone3's child path declare)? The unwinder's own return value cannot
 * tell: it also ends without an error where the copy of the stack ended.
 */
static bool outermost(Dwfl *d, Dwarf_Addr pc, bool activation)
{
	Dwfl_Module *mod;
	Dwarf_CFI *cfi;
	Dwarf_Frame *frame = NULL;
	Dwarf_Op ops_mem[3], *ops = NULL;
	Dwarf_Addr bias = 0, a = activation ? pc : pc - 1;
	size_t nops = 1;
	bool signalp;
	int ra;

	mod = dwfl_addrmodule(d, a);
	if (!mod)
		return false;
	for (int pass = 0; pass < 2 && !frame; pass++) {
		cfi = pass ? dwfl_module_dwarf_cfi(mod, &bias) : dwfl_module_eh_cfi(mod, &bias);
		if (cfi && dwarf_cfi_addrframe(cfi, a - bias, &frame) != 0)
			frame = NULL;
	}
	if (!frame)
		return false;
	ra = dwarf_frame_info(frame, NULL, NULL, &signalp);
	if (ra < 0 || dwarf_frame_register(frame, ra, ops_mem, &ops, &nops) != 0)
		nops = 1;
	free(frame);
	return nops == 0 && ops == ops_mem;
}

/*
 * Which of the words and registers the walk just made read (p->uw) decide its frames, for
 * it_umemo: the return addresses, and the words and registers that point into the stack
 * (saved frame pointers, from which a frame-pointer function's CFI computes its frame).
 * Saved copies of other registers (a loop counter, a futex word's value) change from one
 * call to the next and decide nothing, but the unwinder reads them all. Checked by walking
 * again with everything else replaced by a value that is neither code nor stack: the same
 * frames, or nothing is kept (-1). The count of words in reads[], set with *regs.
 */
static int umemo_words(struct sym_proc *p, const uint64_t *ips, int n, uint16_t *reads,
		       uint32_t *regs)
{
	struct uw_copy *c = p->uw;
	uint64_t lo = c->sp, hi = c->sp + c->size + (64 << 10), again[128], w;
	uint16_t keep[IT_UMEMO_WORDS];
	int nkeep = 0, m;
	bool in;

	if (c->nreads < 0 || n >= 128)
		return -1;
	*regs = 0;
	for (int i = 0; i < IT_UREGS; i++)
		if (i != IT_UREG_SP && i != IT_UREG_IP && c->regs[i] >= lo && c->regs[i] < hi)
			*regs |= 1u << i;
	for (int i = 0; i < c->nreads; i++) {
		memcpy(&w, c->stack + c->reads[i], sizeof(w));
		in = w >= lo && w < hi;
		for (int j = 1; j < n && !in; j++)
			in = w == ips[j];
		if (!in)
			continue;
		if (nkeep == IT_UMEMO_WORDS)
			return -1;
		keep[nkeep++] = c->reads[i];
	}
	memcpy(again, ips, (size_t)n * sizeof(*ips));
	c->ips = again;
	c->n = 0;
	c->max = n + 1;
	c->given = false;
	c->verify = true;
	c->keep = keep;
	c->nkeep = nkeep;
	c->keep_regs = *regs;
	dwfl_getthread_frames(p->dwfl, c->tid, uw_frame, c);
	c->verify = false;
	m = c->n;
	if (m != n || memcmp(again, ips, (size_t)n * sizeof(*ips)) ||
	    !outermost(p->dwfl, again[m - 1], c->last_activation))
		return -1;
	memcpy(reads, keep, (size_t)nkeep * sizeof(*keep));
	return nkeep;
}

int sym_unwind(struct sym *s, pid_t pid, pid_t tid, const uint64_t *regs, const void *stack,
	       size_t size, uint64_t *ips, int max, bool *complete, uint64_t *top,
	       uint16_t *reads, int *nreads, uint32_t *regmask)
{
	struct sym_proc *p;
	int n;

	*complete = false;
	*top = 0;
	if (nreads)
		*nreads = -1;
	if (!s || !regs || !stack || !ips || max <= 0)
		return -EINVAL;
	p = proc_get(s, pid);
	if (!p || !p->dwfl)
		return -ESRCH;
	/*
	 * Code in no module we know: the process exec'd (trace -- CMD is captured from its
	 * fork) or loaded a library since the capture: read the maps again while it lives.
	 */
	if (!dwfl_addrmodule(p->dwfl, regs[IT_UREG_IP]) && !in_anon(p, regs[IT_UREG_IP]) &&
	    may_recapture(p)) {
		proc_capture(s, p);
		if (!p->dwfl)
			return -ESRCH;
		recapture_done(p, dwfl_addrmodule(p->dwfl, regs[IT_UREG_IP]) ||
				  in_anon(p, regs[IT_UREG_IP]));
	}
	if (!p->attached) {
		if (!dwfl_attach_state(p->dwfl, NULL, pid, &uw_callbacks, p->uw))
			return -ENOEXEC;
		p->attached = true;
	}
	*p->uw = (struct uw_copy){.tid = tid, .regs = regs, .stack = stack,
				 .sp = regs[IT_UREG_SP], .size = size, .ips = ips, .max = max};
	/* its result says nothing more: it ends without error where the copy ends, too */
	dwfl_getthread_frames(p->dwfl, tid, uw_frame, p->uw);
	if (!p->uw->n)
		return -ENOENT;
	*complete = outermost(p->dwfl, p->uw->ips[p->uw->n - 1], p->uw->last_activation);
	/* what the walk read lies below the outermost frame's stack pointer */
	if (*complete && p->uw->last_sp > p->uw->sp)
		*top = p->uw->last_sp + SYM_TOP_MARGIN;
	n = p->uw->n;
	if (nreads && *complete)
		*nreads = umemo_words(p, ips, n, reads, regmask);
	return n;
}

static bool is_entry(const char *name)
{
	for (size_t i = 0; i < sizeof(entry_frames) / sizeof(entry_frames[0]); i++)
		if (!strcmp(name, entry_frames[i]))
			return true;
	return false;
}

/* ---- tail calls: frames inferred from the call before a return address ---- */

/*
 * A function that ends by jumping to another (EVP_DigestUpdate to the digest's update)
 * leaves no frame: the unwound stack goes from its caller straight to the function it
 * jumped to. As debuggers do, the call instruction just before the caller's return address
 * says which function was called; when the frame below is not that function, the callee
 * tail-called its way there, and it is put back as "NAME (tail call)". Only what the
 * call names is inferred (a chain of tail calls shows its first link), only for direct
 * calls (rel32, through a PLT stub or the GOT), on x86-64 code.
 */

/* The allocated section of elf holding ELF address a, its header in *sh. */
static Elf_Scn *scn_at(Elf *elf, uint64_t a, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, sh) && (sh->sh_flags & SHF_ALLOC) && sh->sh_type != SHT_NOBITS &&
		    a >= sh->sh_addr && a - sh->sh_addr < sh->sh_size)
			return scn;
	return NULL;
}

/* n bytes of the file's code at ELF address a, and its section's name; false if none. */
static bool code_at(Elf *elf, uint64_t a, unsigned char *out, size_t n, const char **secname)
{
	GElf_Shdr sh;
	Elf_Scn *scn = scn_at(elf, a, &sh);
	Elf_Data *d;
	size_t shstr;

	if (!scn || !(sh.sh_flags & SHF_EXECINSTR) || a - sh.sh_addr + n > sh.sh_size)
		return false;
	/* a shared file's code is read, not touched in its mapping (elfshare.h) */
	if (es_pread(elf, out, n, (off_t)(sh.sh_offset + (a - sh.sh_addr))) != (ssize_t)n) {
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || a - sh.sh_addr + n > d->d_size)
			return false;
		memcpy(out, (const unsigned char *)d->d_buf + (a - sh.sh_addr), n);
	}
	if (secname) {
		*secname = NULL;
		if (!elf_getshdrstrndx(elf, &shstr))
			*secname = elf_strptr(elf, shstr, sh.sh_name);
		if (!*secname)
			*secname = "";
	}
	return true;
}

/* The dynamic symbol a GOT slot (ELF address) is relocated to (.rela.plt, .rela.dyn). */
static const char *got_symbol(Elf *elf, uint64_t slot)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh, ssh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d, *sd;
		Elf_Scn *sym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		sym = elf_getscn(elf, sh.sh_link);
		if (!d || !sym || !gelf_getshdr(sym, &ssh) || !(sd = elf_getdata(sym, NULL)))
			continue;
		for (size_t k = 0; k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Rela r;
			GElf_Sym gs;
			const char *nm;

			if (!gelf_getrela(d, (int)k, &r) || r.r_offset != slot)
				continue;
			if (!GELF_R_SYM(r.r_info) || !gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &gs))
				return NULL;
			nm = elf_strptr(elf, ssh.sh_link, gs.st_name);
			return nm && *nm ? nm : NULL;
		}
	}
	return NULL;
}

/* The GOT slot a PLT stub at ELF address a jumps through: jmp *slot(%rip), after an
 * endbr64 and a bnd prefix if any (.plt, .plt.sec, .plt.got); 0 if it is not one. */
static uint64_t plt_slot(Elf *elf, uint64_t a)
{
	unsigned char b[11] = {0};
	size_t i = 0;
	int32_t disp;

	/* a .plt.got entry is 8 bytes and may end its section: read only what is there */
	if (!code_at(elf, a, b, sizeof(b), NULL) && !code_at(elf, a, b, 6, NULL))
		return 0;
	if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa)
		i = 4;
	if (b[i] == 0xf2)
		i++;
	if (b[i] != 0xff || b[i + 1] != 0x25)
		return 0;
	memcpy(&disp, b + i + 2, 4);
	return a + i + 6 + (uint64_t)(int64_t)disp;
}

/* Does symbol name sym (maybe versioned, "f@@V") name function f? */
static bool same_name(const char *sym, const char *f)
{
	size_t n = strlen(f);

	return !strncmp(sym, f, n) && (sym[n] == '\0' || sym[n] == '@');
}

/* The GNU hash of a dynamic symbol's name (as ld.so computes it). */
static uint32_t gnu_hash(const char *name)
{
	uint32_t h = 5381;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = h * 33 + *c;
	return h;
}

/*
 * Look name up in a module's dynamic symbols as the dynamic linker binds a PLT call: by
 * its .gnu.hash table, so each name costs a few probes per module, not a scan of every
 * symbol (a scan of all modules' symbols per name held up the drain: lost events).
 */
static int fdef_module(Dwfl_Module *mod, void **ud, const char *mname, Dwarf_Addr start, void *arg)
{
	struct fdef *d = arg;
	GElf_Addr bias = 0;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	Elf_Scn *scn = NULL, *sym;
	GElf_Shdr sh, ssh;
	Elf_Data *hd, *sd;
	const uint32_t *w;
	uint32_t nb, symoff, nbloom, h, i;
	size_t words;

	(void)ud;
	(void)mname;
	(void)start;
	if (!elf)
		return DWARF_CB_OK;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_HASH)
			break;
	if (!scn || !(hd = elf_rawdata(scn, NULL)) || hd->d_size < 16 ||
	    !(sym = elf_getscn(elf, sh.sh_link)) || !gelf_getshdr(sym, &ssh) ||
	    !(sd = elf_getdata(sym, NULL)) || !ssh.sh_entsize)
		return DWARF_CB_OK;
	w = hd->d_buf;
	words = hd->d_size / 4;
	nb = w[0];
	symoff = w[1];
	nbloom = w[2];
	/* header, bloom words (8 bytes each on 64-bit), buckets, then the chains */
	if (!nb || 4 + (size_t)nbloom * 2 + nb > words)
		return DWARF_CB_OK;
	h = gnu_hash(d->name);
	i = w[4 + nbloom * 2 + h % nb];
	if (i < symoff)
		return DWARF_CB_OK;
	for (; d->n < FDEF_MAX && i < ssh.sh_size / ssh.sh_entsize; i++) {
		size_t c = 4 + (size_t)nbloom * 2 + nb + (i - symoff);
		GElf_Sym gs;
		const char *nm;
		int type;

		if (c >= words)
			break;
		if ((w[c] | 1) == (h | 1) && gelf_getsym(sd, (int)i, &gs) &&
		    (nm = elf_strptr(elf, ssh.sh_link, gs.st_name)) && !strcmp(nm, d->name) &&
		    gs.st_shndx != SHN_UNDEF) {
			type = GELF_ST_TYPE(gs.st_info);
			if (type == STT_GNU_IFUNC)
				d->ifunc = true;
			if (type == STT_FUNC || type == STT_GNU_IFUNC) {
				d->lo[d->n] = gs.st_value + bias;
				d->hi[d->n] = gs.st_value + bias + gs.st_size;
				d->n++;
			}
		}
		if (w[c] & 1)
			break;
	}
	return DWARF_CB_OK;
}

/* The process's definitions of exported function name (at most FDEF_MAX), kept. */
static const struct fdef *fdef_get(struct sym_proc *p, const char *name)
{
	struct fdef *d, *nv;

	for (size_t i = 0; i < p->ndefs; i++)
		if (!strcmp(p->defs[i].name, name))
			return &p->defs[i];
	if (p->ndefs >= FDEFS_MAX)
		defs_free(p);
	nv = realloc(p->defs, (p->ndefs + 1) * sizeof(*p->defs));
	if (!nv)
		return NULL;
	p->defs = nv;
	d = &p->defs[p->ndefs];
	memset(d, 0, sizeof(*d));
	d->name = strdup(name);
	if (!d->name)
		return NULL;
	p->ndefs++;
	dwfl_getmodules(p->dwfl, fdef_module, d, 0);
	return d;
}

/*
 * The function the call just before return address ra calls, as "NAME (tail call)" in
 * out, when the frame below (at address callee, in function cname) is not in it; else
 * false. Conservative: an indirect call, a call whose target is no function's start, an
 * IFUNC (resolved at run time to another function) or a name found defined nowhere infer
 * nothing.
 */
static bool tail_call(struct sym *s, struct sym_proc *p, uint64_t ra, uint64_t callee,
		      const char *cname, char *out, size_t len)
{
	Dwfl_Module *mod = dwfl_addrmodule(p->dwfl, ra - 1), *tmod;
	Elf *elf, *telf;
	GElf_Addr bias = 0, tbias = 0, cbias = 0;
	GElf_Off off;
	GElf_Sym gs;
	unsigned char b[6];
	const char *sec = "", *name = NULL;
	uint64_t target;
	int32_t disp;
	char label[128];

	elf = mod ? dwfl_module_getelf(mod, &bias) : NULL;
	if (!elf || ra - bias < 6 || !code_at(elf, ra - bias - 6, b, 6, NULL))
		return false;
	if (b[1] == 0xe8) {
		/* call rel32 */
		memcpy(&disp, b + 2, 4);
		target = ra + (uint64_t)(int64_t)disp;
	} else if (b[0] == 0xff && b[1] == 0x15) {
		/* call *slot(%rip) (-fno-plt): the slot's relocation names it */
		memcpy(&disp, b + 2, 4);
		name = got_symbol(elf, ra - bias + (uint64_t)(int64_t)disp);
		if (!name)
			return false;
		target = 0;
	} else {
		return false;
	}
	if (!name) {
		unsigned char t;

		tmod = dwfl_addrmodule(p->dwfl, target);
		telf = tmod ? dwfl_module_getelf(tmod, &tbias) : NULL;
		if (!telf || !code_at(telf, target - tbias, &t, 1, &sec))
			return false;
		if (!strncmp(sec, ".plt", 4)) {
			uint64_t slot = plt_slot(telf, target - tbias);

			name = slot ? got_symbol(telf, slot) : NULL;
			if (!name)
				return false;
		} else {
			/* a call within a file: to a function's start, or the bytes were no call */
			const char *tn = mod_addrinfo(s, tmod, target, &off, &gs);
			Dwfl_Module *cmod = dwfl_addrmodule(p->dwfl, callee);

			if (tn && *tn && off == 0) {
				if (gs.st_size ? callee >= target && callee - target < gs.st_size
					       : cmod == tmod &&
						 function_start(tmod, callee - tbias) == target - tbias)
					return false;
				if (cname && same_name(cname, tn))
					return false;
				copy_name(label, sizeof(label), tn);
				snprintf(out, len, "%s (tail call)", label);
				return true;
			}
			if (tn && *tn)
				return false;
			if (function_start(tmod, target - tbias) != target - tbias)
				return false;
			if (cmod == tmod && dwfl_module_getelf(cmod, &cbias) &&
			    function_start(cmod, callee - cbias) == target - tbias)
				return false;
			module_label(dwfl_module_info(tmod, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
				     label, sizeof(label));
			snprintf(out, len, "%s+0x%" PRIx64 " (tail call)", label, target - tbias);
			return true;
		}
	}
	/* a PLT or GOT call: the function the name binds to, wherever it is defined */
	{
		const struct fdef *d;

		if (cname && (same_name(cname, name) ||
			      (!strncmp(cname, name, strlen(name)) && cname[strlen(name)] == '.')))
			return false;
		d = fdef_get(p, name);
		if (!d || !d->n || d->ifunc)
			return false;
		for (int i = 0; i < d->n; i++)
			if (callee >= d->lo[i] && (callee < d->hi[i] || (d->hi[i] == d->lo[i] && callee == d->lo[i])))
				return false;
		copy_name(label, sizeof(label), name);
		snprintf(out, len, "%s (tail call)", label);
		return true;
	}
}

/* tail_call, remembered per (pid, call site, callee's function): a copy of the name, or NULL. */
static char *tail_frame(struct sym *s, struct sym_proc *p, uint64_t ra, uint64_t callee,
			const char *cname)
{
	uint64_t fh = 0xcbf29ce484222325ULL;
	struct tail_ent *c;
	char buf[SYM_NAME_MAX + 32];

	for (const unsigned char *q = (const unsigned char *)cname; *q; q++)
		fh = (fh ^ *q) * 0x100000001b3ULL;
	c = &s->tails[(ra ^ (ra >> 12) ^ (fh >> 20) ^ (uint64_t)p->pid * 0x9e3779b1u) &
		      (SYM_TAIL_CACHE - 1)];
	if (!c->name || c->pid != p->pid || c->ra != ra || c->callee != fh) {
		free(c->name);
		c->name = strdup(tail_call(s, p, ra, callee, cname, buf, sizeof(buf)) ? buf : "");
		c->pid = p->pid;
		c->ra = ra;
		c->callee = fh;
		if (!c->name)
			return NULL;
	}
	return c->name[0] ? strdup(c->name) : NULL;
}

/* ---- folding ---- */

struct out {
	char *buf;
	size_t len, pos;
	bool first, full;
	const char *last;	/* previous frame, to collapse runs of [anon] / [unknown] */
};

/* Append one frame (suffix for kernel frames); past the end keep room for the cut marker. */
static void put(struct out *o, const char *name, const char *suffix)
{
	size_t need = strlen(name) + strlen(suffix) + (o->first ? 0 : 1);
	size_t reserve = sizeof(CUT_FRAME) + 1;

	if (o->full)
		return;
	if (o->pos + need + reserve > o->len) {
		o->full = true;
		o->pos += snprintf(o->buf + o->pos, o->len - o->pos, "%s%s", o->first ? "" : ";",
				   CUT_FRAME);
		return;
	}
	o->pos += snprintf(o->buf + o->pos, o->len - o->pos, "%s%s%s", o->first ? "" : ";", name,
			   suffix);
	o->first = false;
}

/* Collapse repeats of placeholder frames ("[anon];[anon]") that carry no information. */
static void put_placeholder(struct out *o, const char *name)
{
	if (o->last && !strcmp(o->last, name))
		return;
	put(o, name, "");
	o->last = name;
}

static void fold_user(struct sym *s, const struct tr_stack *st, struct out *o)
{
	char *names[127], *tails[127] = {0}, tmp[SYM_NAME_MAX + 64];
	enum ukind kinds[127];
	struct sym_proc *p = proc_get(s, (pid_t)st->pid);
	int n = st->nuser > 127 ? 127 : st->nuser, use = 0;
	/* unwound with the CFI to the outermost frame: whole, whatever its names */
	bool complete = st->uwalk == TR_UWALK_CFI_END;

	if (n <= 0)
		return;
	if (!p || !p->dwfl) {
		put_placeholder(o, "[unknown]");
		return;
	}
	/* leaf first, as captured: walk out until an entry frame or a broken link */
	for (int i = 0; i < n; i++) {
		/* a return address points after the call: look up the call itself */
		uint64_t ip = i ? st->uips[i] - 1 : st->uips[i];
		const char *name;
		enum ukind k = user_frame(s, p, ip, tmp, sizeof(tmp), &name);

		if (k == U_JUNK) {
			complete = false;
			break;
		}
		/* names come from a cache slot a later lookup may replace: keep our own copy */
		names[use] = k == U_ANON ? NULL : strdup(name);
		if (k != U_ANON && !names[use])
			break;
		kinds[use++] = k;
		/*
		 * the call this frame made, when the frame below is not in the function it
		 * called (not in a frame-pointer walk: a frame it skipped would look the same)
		 */
		if (SYM_TAIL_CALLS && i && st->uwalk != TR_UWALK_FP && k == U_NAMED && kinds[use - 2] == U_NAMED &&
		    strcmp(names[use - 2], "__restore_rt"))
			tails[use - 1] = tail_frame(s, p, st->uips[i],
						    i > 1 ? st->uips[i - 1] - 1 : st->uips[i - 1],
						    names[use - 2]);
		if (k == U_NAMED && is_entry(name)) {
			complete = true;
			break;
		}
	}
	if (!complete)
		put(o, SYM_CUT, "");
	for (int i = use - 1; i >= 0; i--) {
		if (kinds[i] == U_ANON) {
			put_placeholder(o, "[anon]");
			continue;
		}
		put(o, names[i], "");
		o->last = NULL;
		free(names[i]);
		if (tails[i]) {
			put(o, tails[i], "");
			free(tails[i]);
		}
	}
}

/*
 * Frames of the capture itself: a stack taken in the sched_switch tracepoint or in the
 * cpu-clock sampling interrupt starts (leaf side) with the BPF program, the tracepoint or
 * perf plumbing and the timer interrupt. They are iotrace observing, not the program
 * running: dropped, as offcputime and perf do, so the leaf is __schedule or the
 * interrupted function (none at all for a sample taken in user mode).
 */
static const char *const capture_prefixes[] = {
	"bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_", "trace_call_bpf",
	"perf_trace_run_bpf_submit", "bpf_overflow_handler", "__perf_event_overflow",
	"perf_event_overflow", "perf_swevent_hrtimer", "__hrtimer_run_queues",
	"hrtimer_interrupt", "__sysvec_apic_timer_interrupt", "sysvec_apic_timer_interrupt",
	"asm_sysvec_apic_timer_interrupt",
};

static bool capture_frame(const char *name)
{
	for (size_t i = 0; i < sizeof(capture_prefixes) / sizeof(capture_prefixes[0]); i++)
		if (!strncmp(name, capture_prefixes[i], strlen(capture_prefixes[i])))
			return true;
	return false;
}

static void fold_kernel(struct sym *s, const struct tr_stack *st, struct out *o)
{
	int n = st->nkern > 127 ? 127 : st->nkern, leaf = 0;
	char buf[SYM_NAME_MAX + 1];

	while (leaf < n) {
		const char *name = kernel_name(s, leaf ? st->kips[leaf] - 1 : st->kips[leaf]);

		if (!name || !capture_frame(name))
			break;
		leaf++;
	}
	for (int i = n - 1; i >= leaf; i--) {
		uint64_t ip = i ? st->kips[i] - 1 : st->kips[i];
		const char *name = kernel_name(s, ip);

		if (name) {
			copy_name(buf, sizeof(buf), name);
			put(o, buf, "_[k]");
			o->last = NULL;
		} else {
			put_placeholder(o, "[kernel]_[k]");
		}
	}
}

int sym_fold(struct sym *s, const struct tr_stack *st, const char *prefix, char *out, size_t len)
{
	struct out o = {.buf = out, .len = len, .first = true};
	size_t plen;

	if (!s || !st || !out || !len)
		return -EINVAL;
	prefix = prefix ? prefix : "";
	plen = strlen(prefix);
	if (plen + sizeof(CUT_FRAME) + 2 > len)
		return -ENOSPC;
	memcpy(out, prefix, plen + 1);
	o.pos = plen;
	o.first = plen == 0;
	fold_user(s, st, &o);
	fold_kernel(s, st, &o);
	if (st->nuser <= 0 && st->nkern <= 0)
		put(&o, "[no stack]", "");
	return (int)o.pos;
}

/* ---- data addresses (futex words) ---- */

/*
 * The object symbol of ELF file path covering address addr of a process that mapped the
 * file at base (its offset-0 address): "name" or "name+0xOFF" in out, else "file+0xADDR".
 * One scan of the symbol table, nothing kept: it runs once per futex word, while the
 * probes' records wait, so it must stay cheap (no copy of a big program's symbols).
 */
static void data_symbol(const char *path, uint64_t base, uint64_t addr, bool anon, char *out,
			size_t len)
{
	uint64_t ea = addr, best_off = 0;
	char label[128], best[SYM_NAME_MAX] = "";
	Elf_Scn *scn;
	GElf_Ehdr eh;
	Elf *elf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		elf_version(EV_CURRENT);
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	}
	if (elf && gelf_getehdr(elf, &eh)) {
		if (eh.e_type == ET_DYN)
			ea = addr - base;
		/* .symtab when there is one (static objects too), else .dynsym */
		for (int pass = 0; pass < 2 && !best[0]; pass++) {
			scn = NULL;
			while ((scn = elf_nextscn(elf, scn)) && !best[0]) {
				GElf_Shdr sh;
				Elf_Data *d;

				if (!gelf_getshdr(scn, &sh) ||
				    sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) || !sh.sh_entsize)
					continue;
				d = elf_getdata(scn, NULL);
				for (size_t k = 0; d && k < sh.sh_size / sh.sh_entsize; k++) {
					GElf_Sym gs;
					const char *nm;

					if (!gelf_getsym(d, (int)k, &gs) || !gs.st_size ||
					    GELF_ST_TYPE(gs.st_info) != STT_OBJECT || ea < gs.st_value ||
					    ea - gs.st_value >= gs.st_size)
						continue;
					nm = elf_strptr(elf, sh.sh_link, gs.st_name);
					if (!nm || !*nm)
						continue;
					copy_name(best, sizeof(best), nm);
					best_off = ea - gs.st_value;
					break;
				}
			}
		}
	} else {
		ea = addr - base;
	}
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	if (best[0] && best_off)
		snprintf(out, len, "%s+0x%" PRIx64, best, best_off);
	else if (best[0])
		snprintf(out, len, "%s", best);
	else if (anon)
		/* anonymous memory after a file's mapping, no object there: not its .bss but a
		 * mapping that happened to follow it (a thread's stack: seen named after liblzma) */
		snprintf(out, len, "[anon]");
	else {
		module_label(path, label, sizeof(label));
		snprintf(out, len, "%s+0x%" PRIx64, label, ea);
	}
}

/* The capture of pid, or NULL. */
static struct sym_dmaps *dmaps_find(struct sym *s, pid_t pid)
{
	for (size_t i = 0; i < SYM_DATA_PROCS; i++)
		if (s->dmaps[i].pid == pid && s->dmaps[i].maps)
			return &s->dmaps[i];
	return NULL;
}

/* Read pid's mappings into its capture (a new one evicts the oldest): it, or NULL (-errno
 * in *err, the old capture kept: the process is gone or exiting). */
static struct sym_dmaps *dmaps_read(struct sym *s, pid_t pid, int *err)
{
	struct sym_dmaps *d = dmaps_find(s, pid);
	char path[64], *maps, *shrunk;
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	errno = 0;
	maps = read_proc(path, &len);
	if (!maps || !len) {
		/* an exiting process (a zombie) has no mappings left: it is gone as well */
		*err = !maps && errno ? -errno : -ESRCH;
		free(maps);
		return NULL;
	}
	/* read_proc's buffer is 64 KiB at least: keep what was read */
	shrunk = realloc(maps, len + 1);
	if (shrunk)
		maps = shrunk;
	if (!d) {
		d = &s->dmaps[0];
		for (size_t i = 1; i < SYM_DATA_PROCS && d->maps; i++)
			if (!s->dmaps[i].maps || s->dmaps[i].taken < d->taken)
				d = &s->dmaps[i];
	}
	free(d->maps);
	*d = (struct sym_dmaps){.pid = pid, .taken = mono_ns(), .maps = maps, .len = len};
	return d;
}

int sym_data_seen(struct sym *s, pid_t pid, bool again)
{
	struct sym_dmaps *d;
	int err = 0;

	if (!s || pid <= 0)
		return -EINVAL;
	d = dmaps_find(s, pid);
	if (d && !again && mono_ns() - d->taken < SYM_DATA_REFRESH_NS)
		return 0;
	d = dmaps_read(s, pid, &err);
	if (d)
		d->young = again;
	return d ? 0 : err;
}

void sym_data_tick(struct sym *s)
{
	uint64_t now = mono_ns();
	int err;

	for (size_t i = 0; s && i < SYM_DATA_PROCS; i++) {
		struct sym_dmaps *d = &s->dmaps[i];

		if (!d->maps || !d->young || now - d->taken < SYM_DATA_YOUNG_NS)
			continue;
		/* gone: the capture at its exec is all there is */
		d->young = false;
		dmaps_read(s, d->pid, &err);
	}
}

int sym_data_name(struct sym *s, pid_t pid, uint64_t addr, char *out, size_t len)
{
	char *maps, *line, *next, file[512] = "";
	uint64_t base = UINT64_MAX, prev_end = 0;
	struct sym_dmaps *d;
	size_t mlen = 0;
	int ret = -ENOENT;

	out[0] = 0;
	/* now if it lives (the freshest), else as last captured */
	d = dmaps_read(s, pid, &ret);
	if (!d)
		d = dmaps_find(s, pid);
	if (!d)
		return ret;
	ret = -ENOENT;
	maps = d->maps;
	mlen = d->len;
	/* the mapping of addr; anonymous memory right after a file's is its .bss */
	for (line = maps; line < maps + mlen; line = next) {
		uint64_t a, b, off;
		const char *p;
		size_t plen;

		next = strchr(line, '\n');
		next = next ? next + 1 : maps + mlen;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64, &a, &b, &off) != 3)
			continue;
		p = map_path(line, &plen);
		if (plen && *p == '/') {
			if (plen >= sizeof(file) || strncmp(file, p, plen) || file[plen]) {
				snprintf(file, sizeof(file), "%.*s", (int)plen, p);
				base = a - off;
			}
		} else if (plen || a != prev_end) {
			file[0] = 0;
		}
		prev_end = b;
		if (addr < a || addr >= b)
			continue;
		if (file[0]) {
			data_symbol(file, base, addr, !plen, out, len);
		} else if (plen && *p == '[') {
			snprintf(out, len, "%.*s", (int)strcspn(p, "]\n") + 1, p);
		} else {
			snprintf(out, len, "[anon]");
		}
		ret = 0;
		break;
	}
	return ret;
}
