/* elfshare.h - one libelf Elf per ELF file, shared by every process's Dwfl that maps it. */
#ifndef IOTRACE_ELFSHARE_H
#define IOTRACE_ELFSHARE_H

#include <libelf.h>
#include <sys/types.h>

/*
 * A build's processes map the same files (every cc1 maps cc1, every process libc). A Dwfl
 * opening its own Elf mapped the whole file again, and the pages read through it (symbol
 * table, CFI, code) counted again in iotrace's RSS for each process still held: tracing
 * make -j2, six mappings of the 32 MiB cc1 made 33 MiB of the 73 MiB peak. Here a file is
 * mapped once (ELF_C_READ_MMAP, its descriptor closed at once) and each module gets a
 * reference of that Elf (libelf counts them; libdwfl's elf_end at dwfl_end gives it back).
 * A file is known by device, inode, size and mtime, so a file rebuilt in place is a new one.
 */
struct es_file;

/*
 * A new reference to the shared Elf of the regular file at path, *held set to its entry
 * (give it back with es_put when the module holding the reference is freed) and
 * *file_name to a malloc'd copy of path. NULL when path is no regular ELF file or cannot be
 * opened (the caller then opens it its own way).
 */
Elf *es_get(const char *path, struct es_file **held, char **file_name);

/* A module given f's Elf is freed. A file no module holds stays mapped for the next (a few). */
void es_put(struct es_file *f);

/*
 * n bytes at offset off of the file whose shared Elf (or a reference of it) elf is, read
 * with pread: -1 when elf is none of them. For reads scattered over a big file (the code at
 * each return address, symbols.c's tail calls): through the mapping each touched page, and
 * the kernel's fault-around maps 64 KiB with it, stayed resident in iotrace (cc1: 10 MiB).
 */
ssize_t es_pread(Elf *elf, void *buf, size_t n, off_t off);

/*
 * A slot for what is derived from the file alone, built once for all the processes
 * (symbols.c's function starts: cc1's are 360 KiB, and a build runs many cc1s), freed with
 * free() when the file is unmapped. NULL when elf is no shared Elf.
 */
void **es_slot(Elf *elf);

/* Unmap the files no module holds (sym_free). */
void es_trim(void);

/* Counters: distinct files mapped, references given, files mapped now (held or kept idle). */
struct es_stats {
	unsigned long opened, uses, live;
};
void es_get_stats(struct es_stats *st);

#endif /* IOTRACE_ELFSHARE_H */
