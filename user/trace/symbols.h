/* symbols.h - names raw kernel and user stack addresses and folds them into "a;b;c" frames. */
#ifndef IOTRACE_SYMBOLS_H
#define IOTRACE_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tracer.h"

/*
 * The symbolizer owns every address-to-name decision. Kernel frames come from
 * /proc/kallsyms (read once, sorted, binary search). User frames come from elfutils'
 * libdwfl, one Dwfl per process, reported from /proc/PID/maps: the mappings (and the ELF
 * files behind them) are captured the first time a pid is seen, so a process that has
 * exited by the time its stacks are folded still symbolizes. Rules for a frame:
 *   named symbol              "md5_block_asm_data_order"  (kernel: "vfs_read_[k]")
 *   in a file, no symbol      "libfoo.so+0x1a2b"  (offset = ELF address; stripped binaries)
 *   in anonymous exec memory  "[anon]"            (JIT code)
 *   pid never captured        "[unknown]"
 * never a bare address. A user stack that stops short of a program or thread entry
 * (_start, __libc_start_main, start_thread, clone...), e.g. a frame-pointer walk through
 * libcrypto's assembly, gets "[truncated]" as its outermost frame; one unwound with the
 * CFI to the outermost frame (sym_unwind) is whole whatever its names.
 * Frame names never contain ';' or control characters (folded-format safe).
 */

/* The outermost frame of a user stack that stops short of its entry (see above). */
#define SYM_CUT "[truncated]"

struct sym;

struct sym *sym_new(void);
void sym_free(struct sym *s);

/*
 * Read the kernel's symbol table now (idempotent) rather than at the first kernel frame
 * named: 120k lines of /proc/kallsyms cost ~25 ms of CPU, which the workload would share
 * its CPUs with if the first stack came while it ran.
 */
void sym_kernel_load(struct sym *s);

/*
 * Capture pid's mappings now, while it is alive (idempotent; a no-op for a pid already
 * captured). Call it as early as a new target process is known: sym_fold does it lazily
 * too, which is too late for a process that exits before its first stack is drained.
 */
void sym_pid_seen(struct sym *s, pid_t pid);

/*
 * pid was forked by ppid at ts (CLOCK_MONOTONIC ns, the probes' clock), or exec'd a new
 * program (ppid 0). Call it as the record comes (the probes wake user space for it): the
 * maps of pid, and of ppid at a fork, are read now as text while they may live. A fork
 * that is gone before its own mappings are read (a worker process of a few ms, its
 * stacks drained after its exit) is unwound and named with the mappings it had from its
 * parent for certain, if any; a program gone after its exec, with its maps as last read
 * (see symbols.c proc_inherit, sym_tick).
 */
void sym_proc_forked(struct sym *s, pid_t pid, pid_t ppid, uint64_t ts);

/*
 * Call it every few ms: a program exec'd is read at its exec record, before ld.so mapped
 * its libraries; while it lives (SYM_EXEC_REREAD_NS) it is read again, so one that exits
 * before its stacks are unwound has its libraries.
 */
void sym_tick(struct sym *s);

/*
 * The lines of maps text a (alen bytes) that b holds too, in a's order, into out (room for
 * alen + 1): the mappings two readings of a process agree on. Their length.
 */
size_t sym_maps_common(const char *a, size_t alen, const char *b, size_t blen, char *out);

/*
 * Unwind a user stack the probes copied (it_ustack_rec) with the code's call-frame
 * information (.eh_frame, .debug_frame), as perf --call-graph dwarf does with libdwfl:
 * regs are the thread's user registers (IT_UREGS, DWARF order), stack the size bytes from
 * regs[IT_UREG_SP] up. Fills ips leaf first (after the first, return addresses) and sets
 * *complete when the walk reached the outermost frame (whose CFI ends the chain: _start,
 * clone3's child) rather than the end of the copy; then *top is where the walk's reads
 * ended (above the outermost frame's stack pointer, which stays put while the thread
 * lives: no later copy of the thread needs to go further), else 0. With nreads: for a
 * complete walk, the stack words (offsets from the stack pointer, reads[0..*nreads), at
 * most IT_UMEMO_WORDS) and registers (*regmask, 1 << DWARF number) whose values alone,
 * with pc and sp, decide the frames (it_umemo); *nreads = -1 when that could not be
 * shown. The frame count, or -errno.
 */
int sym_unwind(struct sym *s, pid_t pid, pid_t tid, const uint64_t *regs, const void *stack,
	       size_t size, uint64_t *ips, int max, bool *complete, uint64_t *top,
	       uint16_t *reads, int *nreads, uint32_t *regmask);

/*
 * Fold st into out as "prefix;user frames root first;kernel frames root first", kernel
 * frames suffixed "_[k]" (as FlameGraph does); an empty prefix adds no leading ';'.
 * A stack too deep for len keeps its root side and ends in "[deeper frames cut]".
 * Returns the length written, or -EINVAL / -ENOSPC (len too small for the prefix).
 */
int sym_fold(struct sym *s, const struct tr_stack *st, const char *prefix, char *out, size_t len);

/*
 * Name a data address of pid (a futex word): the object symbol covering it ("g_lock",
 * "_PyRuntime+0x1a8") from the ELF file mapped there (its .bss included), else
 * "file+0xADDR", or the mapping: "[heap]", "[stack]", "[anon]". From its mappings now
 * while it lives, else from their last capture (sym_data_seen, or an earlier name): a
 * process that exited is named as it was then. 0, or -errno (out ""): never captured.
 */
int sym_data_name(struct sym *s, pid_t pid, uint64_t addr, char *out, size_t len);
/*
 * Capture pid's mappings for sym_data_name while it is alive: as it is seen creating a
 * thread (its libraries are loaded by then) or exec'ing (again = true: a new program, the
 * old capture is wrong). Re-read at most every SYM_DATA_REFRESH_NS unless again; the last
 * SYM_DATA_PROCS processes are kept. 0, or -errno (the process is gone: its capture kept).
 */
int sym_data_seen(struct sym *s, pid_t pid, bool again);
/*
 * Call it every few ms: a capture taken at an exec (again) holds the program and ld.so
 * only, not the libraries it maps next (pyenv's CPython has _PyRuntime in libpython), so
 * it is taken once more SYM_DATA_YOUNG_NS or more after, while the process still lives.
 */
void sym_data_tick(struct sym *s);

#endif /* IOTRACE_SYMBOLS_H */
