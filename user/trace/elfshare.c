/* elfshare.c - one libelf Elf per ELF file, shared by every process's Dwfl that maps it. */
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfshare.h"

#define ES_IDLE_MAX 16		/* files kept mapped that no module holds (the next process's) */

struct es_file {
	Elf *elf;		/* the cache's own reference */
	int fd;			/* the file, for es_pread */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	void *slot;		/* es_slot's, freed with the entry */
	unsigned long holders;	/* modules given a reference, not freed yet */
	uint64_t used;		/* tick of the last es_get or es_put, for trimming idle ones */
	struct es_file *next;
};

static struct es_file *files;
static size_t nidle;
static uint64_t tick;
static struct es_stats stats;

static bool same(const struct es_file *f, const struct stat *st)
{
	return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Unmap idle files, the least recently used first, until at most keep are left. */
static void trim(size_t keep)
{
	while (nidle > keep) {
		struct es_file **pp, **victim = NULL;

		for (pp = &files; *pp; pp = &(*pp)->next)
			if (!(*pp)->holders && (!victim || (*pp)->used < (*victim)->used))
				victim = pp;
		if (!victim)
			break;
		struct es_file *f = *victim;

		*victim = f->next;
		elf_end(f->elf);
		close(f->fd);
		free(f->slot);
		free(f);
		nidle--;
		stats.live--;
	}
}

/* A new entry for the file at path (st its stat), mapped whole; NULL if no ELF file. */
static struct es_file *open_file(const char *path, const struct stat *st)
{
	struct es_file *f;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	/* mapped whole: libelf needs the descriptor no more (es_pread keeps it, O_CLOEXEC) */
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_cntl(elf, ELF_C_FDREAD) ||
	    !(f = calloc(1, sizeof(*f)))) {
		if (elf)
			elf_end(elf);
		close(fd);
		return NULL;
	}
	*f = (struct es_file){.elf = elf, .fd = fd, .dev = st->st_dev, .ino = st->st_ino,
			      .size = st->st_size, .mtime = st->st_mtim, .next = files};
	files = f;
	nidle++;		/* held below */
	stats.opened++;
	stats.live++;
	return f;
}

Elf *es_get(const char *path, struct es_file **held, char **file_name)
{
	struct es_file *f;
	struct stat st;
	char *name;
	Elf *ref;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return NULL;
	for (f = files; f && !same(f, &st); f = f->next)
		;
	if (!f && !(f = open_file(path, &st)))
		return NULL;
	name = strdup(path);
	/* the same descriptor again: libelf counts the reference (dup_elf) */
	ref = name ? elf_begin(-1, ELF_C_READ_MMAP, f->elf) : NULL;
	if (!ref) {
		free(name);
		if (!f->holders)
			trim(ES_IDLE_MAX);
		return NULL;
	}
	if (!f->holders++)
		nidle--;
	f->used = ++tick;
	stats.uses++;
	*held = f;
	*file_name = name;
	return ref;
}

void es_put(struct es_file *f)
{
	if (!f || !f->holders)
		return;
	f->used = ++tick;
	if (!--f->holders) {
		nidle++;
		trim(ES_IDLE_MAX);
	}
}

ssize_t es_pread(Elf *elf, void *buf, size_t n, off_t off)
{
	for (struct es_file *f = files; f; f = f->next)
		if (f->elf == elf)
			return pread(f->fd, buf, n, off);
	return -1;
}

void **es_slot(Elf *elf)
{
	for (struct es_file *f = files; f; f = f->next)
		if (f->elf == elf)
			return &f->slot;
	return NULL;
}

void es_trim(void)
{
	trim(0);
}

void es_get_stats(struct es_stats *st)
{
	*st = stats;
}
