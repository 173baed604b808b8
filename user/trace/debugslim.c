/* debugslim.c - separate debug files cut to what unwinding and naming read, cached by build-id. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debugslim.h"

#define DS_MAX 64		/* build-ids kept (a build's processes share a handful) */
#define DS_ID_MAX 64		/* longest build-id kept (GNU's are 20 bytes) */

struct ds_ent {
	unsigned char id[DS_ID_MAX];
	int idlen;
	int fd;			/* the copy; -1: give the file as it is (nothing to cut) */
};

static struct ds_ent ents[DS_MAX];
static size_t nents, next_victim;
static struct ds_stats stats;

/*
 * A DWARF section libdw would load and iotrace never reads: all but .debug_frame; and the
 * link to a dwz file of shared DWARF, which then has nothing to share with.
 */
static bool cut(const char *name, const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS || !name)
		return false;
	if (!strcmp(name, ".gnu_debugaltlink"))
		return true;
	if (strncmp(name, ".debug_", 7) && strncmp(name, ".zdebug_", 8))
		return false;
	return strcmp(name, ".debug_frame") && strcmp(name, ".zdebug_frame");
}

/*
 * The debug file behind fd with its cut sections empty (SHT_NOBITS, so libdw skips them),
 * written to a memfd: -1 when there is nothing to cut or the copy failed (the caller gives
 * the file as it is). Section indexes, addresses and the program headers stay as they were,
 * so the symbol table and libdwfl's address matching read the same.
 */
static int slim(int fd)
{
	Elf *in = NULL, *out = NULL;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx, phnum;
	bool any = false;
	int ofd = -1;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	in = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!in || elf_kind(in) != ELF_K_ELF || !gelf_getehdr(in, &eh) ||
	    elf_getshdrstrndx(in, &shstrndx) || elf_getphdrnum(in, &phnum))
		goto fail;
	while ((scn = elf_nextscn(in, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && cut(elf_strptr(in, shstrndx, sh.sh_name), &sh))
			any = true;
	}
	if (!any)
		goto fail;
	ofd = memfd_create("iotrace-debuginfo", MFD_CLOEXEC);
	if (ofd < 0)
		goto fail;
	out = elf_begin(ofd, ELF_C_WRITE, NULL);
	if (!out || !gelf_newehdr(out, gelf_getclass(in)))
		goto fail;
	if (phnum) {
		if (!gelf_newphdr(out, phnum))
			goto fail;
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(in, (int)i, &ph) || !gelf_update_phdr(out, (int)i, &ph))
				goto fail;
		}
	}
	while ((scn = elf_nextscn(in, scn))) {
		Elf_Scn *o = elf_newscn(out);
		Elf_Data *d = NULL, *od;
		GElf_Shdr sh;

		if (!o || !gelf_getshdr(scn, &sh))
			goto fail;
		if (cut(elf_strptr(in, shstrndx, sh.sh_name), &sh)) {
			/* its size stays, as a stripped file's NOBITS sections keep theirs */
			sh.sh_type = SHT_NOBITS;
			sh.sh_flags &= ~(GElf_Xword)SHF_COMPRESSED;
		} else if (sh.sh_type != SHT_NOBITS) {
			/* the bytes as they are in the file (a compressed .debug_frame stays so) */
			while ((d = elf_rawdata(scn, d))) {
				od = elf_newdata(o);
				if (!od)
					goto fail;
				*od = *d;
			}
		}
		if (!gelf_update_shdr(o, &sh))
			goto fail;
	}
	/* the header last: libelf numbered the sections as the input's, e_shstrndx holds */
	{
		GElf_Ehdr oh = eh;

		oh.e_phoff = 0; /* libelf lays the file out: tables after the header */
		oh.e_shoff = 0;
		if (!gelf_update_ehdr(out, &oh))
			goto fail;
	}
	if (elf_update(out, ELF_C_WRITE) < 0)
		goto fail;
	elf_end(out);
	elf_end(in);
	return ofd;
fail:
	if (out)
		elf_end(out);
	if (in)
		elf_end(in);
	if (ofd >= 0)
		close(ofd);
	return -1;
}

static struct ds_ent *find(const unsigned char *id, int n)
{
	for (size_t i = 0; i < nents; i++)
		if (ents[i].idlen == n && !memcmp(ents[i].id, id, (size_t)n))
			return &ents[i];
	return NULL;
}

static struct ds_ent *add(const unsigned char *id, int n, int fd)
{
	struct ds_ent *e;

	if (nents < DS_MAX) {
		e = &ents[nents++];
	} else {
		/* full: the oldest goes (a module opened from it keeps its own fd) */
		e = &ents[next_victim];
		next_victim = (next_victim + 1) % DS_MAX;
		if (e->fd >= 0)
			close(e->fd);
	}
	memcpy(e->id, id, (size_t)n);
	e->idlen = n;
	e->fd = fd;
	return e;
}

/* The local build-id tree's name for a build-id: /usr/lib/debug/.build-id/xx/yyyy.debug */
static bool id_path(const unsigned char *id, int n, char *path, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = (size_t)snprintf(path, len, "/usr/lib/debug/.build-id/");

	if (n < 2 || at + 2 * (size_t)n + 8 > len)
		return false;
	for (int i = 0; i < n; i++) {
		path[at++] = hex[id[i] >> 4];
		path[at++] = hex[id[i] & 15];
		if (!i)
			path[at++] = '/';
	}
	snprintf(path + at, len - at, ".debug");
	return true;
}

int ds_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		      char **debuginfo_file_name)
{
	const unsigned char *id;
	GElf_Addr id_at;
	struct ds_ent *e;
	char path[256];
	int fd, n, copy;

	/*
	 * The copy is opened here, not by dwfl_build_id_find_debuginfo: that one opens the file
	 * into the module itself, and libdwfl then reads that, not what it is given back.
	 * Anything else (no build-id, no such file, nothing to cut, a dwz file's lookup) goes
	 * to it as before.
	 */
	n = dwfl_module_build_id(mod, &id, &id_at);
	if (n <= 0 || n > DS_ID_MAX || !id_path(id, n, path, sizeof(path)))
		goto plain;
	e = find(id, n);
	if (!e) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			goto plain;
		e = add(id, n, slim(fd));
		close(fd);
		if (e->fd >= 0)
			stats.made++;
	} else if (e->fd >= 0) {
		stats.reused++;
	}
	if (e->fd < 0) {
		stats.kept++;
		goto plain;
	}
	/* libdwfl owns (and closes) what it is given: a descriptor of its own on the copy */
	copy = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		goto plain;
	*debuginfo_file_name = strdup(path);
	return copy;
plain:
	return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
					    debuglink_file, debuglink_crc, debuginfo_file_name);
}

void ds_clear(void)
{
	for (size_t i = 0; i < nents; i++)
		if (ents[i].fd >= 0)
			close(ents[i].fd);
	nents = 0;
	next_victim = 0;
}

void ds_get_stats(struct ds_stats *st)
{
	*st = stats;
}
