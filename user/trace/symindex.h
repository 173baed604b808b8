/* symindex.h - a module's symbol lookups by binary search, naming what dwfl_module_addrinfo names. */
#ifndef IOTRACE_SYMINDEX_H
#define IOTRACE_SYMINDEX_H

#include <stddef.h>

#include <elfutils/libdwfl.h>

/*
 * dwfl_module_addrinfo scans the whole symbol table at every address it names: node's
 * 109k symbols cost the tracer more CPU than the traced program used. An index cuts a
 * module's address space into stretches that one symbol (or none) names, each answer
 * computed once with libdwfl's own rules (sized symbols first, globals before locals, the
 * binding and size preferences between aliases, assembly labels without a size); a
 * lookup is then a binary search and one dwfl_module_getsym_info. Indexes are shared
 * through a cache by every module of the same file (build-id, else device, inode, size
 * and mtime) wherever it is loaded: the processes of a build, a program's restarts.
 */
struct si_cache;
struct si_index;

struct si_cache *si_cache_new(void);
/* Indexes still held stay valid (si_put frees them). */
void si_cache_free(struct si_cache *c);

/*
 * mod's index, shared or built now (a reference, for si_put). NULL when libdwfl's answer
 * cannot be reproduced here (relocatable files, function descriptors) or on ENOMEM: then
 * call dwfl_module_addrinfo.
 */
struct si_index *si_get(struct si_cache *c, Dwfl_Module *mod);
void si_put(struct si_index *x);

/*
 * dwfl_module_addrinfo(mod, addr, off, sym, NULL, NULL, NULL), from x (which must be
 * mod's, from si_get). *fallback is set when x cannot answer for this address (a module
 * loaded below the lowest address an index is valid for): call dwfl_module_addrinfo.
 */
const char *si_addrinfo(const struct si_index *x, Dwfl_Module *mod, GElf_Addr addr,
			GElf_Off *off, GElf_Sym *sym, bool *fallback);

/* How many indexes c built (each other si_get shared one). */
size_t si_cache_builds(const struct si_cache *c);

/* Bytes the index holds (its stretches), and how many stretches. */
size_t si_bytes(const struct si_index *x, size_t *stretches);

#endif
