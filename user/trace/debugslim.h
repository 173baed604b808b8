/* debugslim.h - separate debug files cut to what unwinding and naming read, cached by build-id. */
#ifndef IOTRACE_DEBUGSLIM_H
#define IOTRACE_DEBUGSLIM_H

#include <elfutils/libdwfl.h>

/*
 * A Dwfl_Callbacks.find_debuginfo: the local build-id tree's debug file
 * (dwfl_build_id_find_debuginfo), handed to libdwfl without the DWARF it never needs here.
 *
 * iotrace reads a debug file for its symbol table (names of static functions: start_thread,
 * a library's internals) and .debug_frame (CFI where .eh_frame has none). But when
 * .eh_frame cannot unwind a frame (the outermost one of every stack), libdwfl loads the
 * module's whole DWARF to look for .debug_frame, and libdw decompresses every .debug_*
 * section on the way: Debian's libc6-dbg file is 4 MiB of zlib with no .debug_frame at all,
 * inflated again for each process that unwinds into libc (a build's every cc1, as, ld).
 * So each debug file is copied once into memory (memfd) with its .debug_* sections other
 * than .debug_frame made SHT_NOBITS (libdw skips them), every other section and the program
 * headers as they were, and that copy is given for the same build-id in every process.
 */
int ds_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		      char **debuginfo_file_name);

/* Close the cached copies (sym_free). Modules opened from them keep their own. */
void ds_clear(void);

/* Counters for tests: copies made, copies reused, files given as they were. */
struct ds_stats {
	unsigned long made, reused, kept;
};
void ds_get_stats(struct ds_stats *st);

#endif /* IOTRACE_DEBUGSLIM_H */
