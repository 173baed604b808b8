/* summary_fields.h - summary.json's field tables: one list drives its writer and its loader. */
#ifndef IOTRACE_SUMMARY_FIELDS_H
#define IOTRACE_SUMMARY_FIELDS_H

/*
 * HOW TO ADD A FIELD
 *   1. Add the member to the model (struct an_run, an_thread, an_report... in
 *      user/model/analysis.h), with an _ok flag if it can be unavailable.
 *   2. Add one line to the table below, at the place its key goes in the file (key order
 *      is output order and a contract). That one line is what the writer (reports/json.c)
 *      prints and what the loader (reports/load_summary.c) reads back, type- and
 *      range-checked.
 *      A field that files written before it lack is OPT, so old files still load.
 *   3. Document it in docs/summary-schema.md (names are a contract: add, never rename).
 *   The golden file tests/golden/report/summary.json then changes by that one key: update it.
 *
 * Each table lists the keys of one JSON object, in output order, as F(KIND, "key", ...),
 * where x is the C object written or read (the table says which). KINDs, after the key:
 *   STR   member, load       a string; written as is
 *   STRN  member, load       a string, written null when empty (and null reads as "")
 *   U64   member, load       a whole number >= 0
 *   UINT  member, load, max  the same into an unsigned int, at most max
 *   INT   member, load       a signed int
 *   BOOL  member, load       true or false (absent reads as false)
 *   U64N  member, load, ok   null unless x->ok; loading sets x->ok (null: false)
 *   U64IF member, load, cond null unless cond (an expression of x); loading accepts null
 *                            (as 0) and sets no flag: the flag is another field's
 *   REAL  member, load, lo, hi             a real in [lo, hi]; a non-finite one is null
 *   REALN member, load, ok, lo, hi         as U64N, a real in [lo, hi]
 *   REALIF member, load, cond, lo, hi      as U64IF, a real in [lo, hi]
 *   OBJ   fields, load, sub  a one-line object whose keys are table `fields` of the
 *                            C object sub (an expression of x: x itself, or &x->member)
 *   OBJN  fields, ok         the same, or null unless x->ok; loading sets x->ok; optional
 * and two with no key argument, whose key is the name given:
 *   STATES member            the states of enum tl_state in ns, one line, required
 *   CUSTOM name              hand-written jw_name() (json.c) and ld_name() (load_summary.c):
 *                            arrays, and fields whose writer and loader do not mirror
 * load is REQ (a file without the key is refused) or OPT (absent: the member stays 0).
 */

/* x: struct an_stackset (runs[i].stacks.oncpu, .offcpu) */
#define SUMMARY_STACKSET_FIELDS(F)                                                         \
	F(U64, "total", total, OPT)                                                        \
	F(U64, "errors", errors, OPT)                                                      \
	F(U64, "unwound", unwound, OPT)                                                    \
	F(U64, "cut_short", cut_short, OPT)                                                \
	F(U64, "over_budget", over_budget, OPT)                                            \
	F(U64, "copy_failed", copy_failed, OPT)                                            \
	F(U64, "copy_lost", copy_lost, OPT)                                                \
	F(U64, "unwind_failed", unwind_failed, OPT)                                        \
	F(U64, "kernel_only", kernel_only, OPT)                                            \
	F(U64, "copies_off", copies_off, OPT)                                              \
	F(STRN, "unavailable", unavailable, OPT)

/* x: struct an_run (runs[i].stacks) */
#define SUMMARY_STACKS_FIELDS(F)                                                           \
	F(UINT, "sample_hz", sample_hz, OPT, 1000000)                                      \
	F(OBJ, "oncpu", stackset, OPT, &x->oncpu)                                          \
	F(OBJ, "offcpu", stackset, OPT, &x->offcpu)                                        \
	F(U64N, "ucopy_bytes", ucopy_bytes, OPT, ucopy_ok)                                 \
	F(U64IF, "ucopies", ucopies, OPT, x->ucopy_ok)                                     \
	F(U64IF, "ucopy_skipped", ucopy_skipped, OPT, x->ucopy_ok)                         \
	F(U64IF, "ucopy_reused", ucopy_reused, OPT, x->ucopy_ok)                           \
	F(U64IF, "ucopy_failed", ucopy_failed, OPT, x->ucopy_ok)                           \
	F(U64IF, "ucopy_lost", ucopy_lost, OPT, x->ucopy_ok)                               \
	F(U64IF, "ucopy_unwind_failed", ucopy_unwind_failed, OPT, x->ucopy_ok)             \
	F(REALIF, "ucopy_bytes_per_s", ucopy_bps, OPT, x->ucopy_ok, 0, 1e15)               \
	F(U64N, "elf_files_mapped", elf_files_mapped, OPT, elf_ok)                         \
	F(U64N, "elf_file_uses", elf_file_uses, OPT, elf_ok)

/* x: struct an_run (runs[i].rusage) */
#define SUMMARY_RUSAGE_FIELDS(F)                                                           \
	F(U64, "utime_ns", rusage_utime_ns, REQ)                                           \
	F(U64, "stime_ns", rusage_stime_ns, REQ)                                           \
	F(U64N, "setup_ns", rusage_setup_ns, OPT, rusage_setup_ok)                         \
	F(U64N, "exit_ns", rusage_exit_ns, OPT, rusage_exit_ok)

/* x: struct an_run (runs[i].machine_cpu) */
#define SUMMARY_MACHINE_CPU_FIELDS(F)                                                      \
	F(U64, "busy_ns", machine_busy_ns, REQ)                                            \
	F(U64, "idle_ns", machine_idle_ns, REQ)                                            \
	F(U64, "steal_ns", machine_steal_ns, REQ)                                          \
	F(U64, "iotrace_ns", machine_iotrace_ns, OPT)

/* a {"user", "sys"} pair of CPU times, members u and s */
#define SUMMARY_USER_SYS(F, u, s) F(U64, "user", u, REQ) F(U64, "sys", s, REQ)

/* x: struct an_run (runs[i].tracer_cpu_ns): iotrace's own CPU time in the window */
#define SUMMARY_TRACER_CPU_FIELDS(F) SUMMARY_USER_SYS(F, tracer_user_ns, tracer_sys_ns)

/* x: struct an_report (tracer_cpu_total_ns, ...): iotrace's own CPU over the command */
#define SUMMARY_TRACER_TOTAL_FIELDS(F)                                                     \
	SUMMARY_USER_SYS(F, tracer_total_user_ns, tracer_total_sys_ns)
#define SUMMARY_TRACER_WINDOWS_FIELDS(F)                                                   \
	SUMMARY_USER_SYS(F, tracer_windows_user_ns, tracer_windows_sys_ns)
#define SUMMARY_TRACER_OUTSIDE_FIELDS(F)                                                   \
	SUMMARY_USER_SYS(F, tracer_outside_user_ns, tracer_outside_sys_ns)

/* x: struct an_run (runs[i].uring) */
#define SUMMARY_URING_FIELDS(F)                                                            \
	F(U64N, "submitted", c.uring_submitted, REQ, c.uring_ok)                           \
	F(U64IF, "completed", c.uring_completed, REQ, x->c.uring_ok)                       \
	F(U64IF, "inline", c.uring_inline, OPT, x->c.uring_ok)                             \
	F(U64IF, "punted", c.uring_punted, OPT, x->c.uring_ok)                             \
	F(U64N, "at_submit", c.uring_at_submit, OPT, c.uring_paths_ok)                     \
	F(U64IF, "task_work", c.uring_task_work, OPT, x->c.uring_paths_ok)                 \
	F(U64IF, "io_wq", c.uring_io_wq, OPT, x->c.uring_paths_ok)

/* x: struct an_run (runs[i].bound_ns): the wall by bound, timeline.h's TL_BOUNDS */
#define SUMMARY_BOUND_FIELDS(F)                                                            \
	F(U64, "cpu", bound_ns[TL_B_CPU], REQ)                                             \
	F(U64, "read_cpu", bound_ns[TL_B_READ_CPU], REQ)                                   \
	F(U64, "device", bound_ns[TL_B_DEVICE], REQ)                                       \
	F(U64, "lock", bound_ns[TL_B_LOCK], REQ)                                           \
	F(U64, "cpu_wait", bound_ns[TL_B_CPU_WAIT], REQ)                                   \
	F(U64, "peer", bound_ns[TL_B_PEER], REQ)                                           \
	F(U64, "idle", bound_ns[TL_B_IDLE], REQ)

/* x: struct an_run (runs[i].unused_cpu_ns): unused CPU time by why, TL_UNUSED */
#define SUMMARY_UNUSED_FIELDS(F)                                                           \
	F(U64, "lock", unused_cpu_ns[TL_U_LOCK], REQ)                                      \
	F(U64, "device", unused_cpu_ns[TL_U_DEVICE], REQ)                                  \
	F(U64, "wakeup", unused_cpu_ns[TL_U_WAKEUP], REQ)                                  \
	F(U64, "serial", unused_cpu_ns[TL_U_SERIAL], REQ)

/* x: struct an_repeat (runs[i].repeats[j]) */
#define SUMMARY_REPEAT_FIELDS(F)                                                           \
	F(U64, "wall_ns", wall_ns, REQ)                                                    \
	F(U64, "oncpu_ns", oncpu_ns, OPT)                                                  \
	F(U64, "io_ns", io_ns, OPT)                                                        \
	F(U64, "exposed_io_ns", exposed_io_ns, OPT)                                        \
	F(REALN, "hidden_io", hidden_io, OPT, hidden_io_ok, 0, 1)

/*
 * x: struct an_thread or an_run (io_wait_by_kind_ns, io_cpu_by_kind_ns, lock_wait_by_kind_ns):
 * what the waits were for, kinds.h's keys in its order (slot = kind - 1)
 */
#define SUMMARY_IOW_FIELDS(F)                                                              \
	F(U64, "file", io_wait_by_kind_ns[TL_IOK_FILE - 1], REQ)                           \
	F(U64, "pipe", io_wait_by_kind_ns[TL_IOK_PIPE - 1], REQ)                           \
	F(U64, "socket", io_wait_by_kind_ns[TL_IOK_SOCKET - 1], REQ)                       \
	F(U64, "other", io_wait_by_kind_ns[TL_IOK_OTHER - 1], REQ)
#define SUMMARY_IOC_FIELDS(F)                                                              \
	F(U64, "file", io_cpu_by_kind_ns[TL_IOK_FILE - 1], REQ)                            \
	F(U64, "pipe", io_cpu_by_kind_ns[TL_IOK_PIPE - 1], REQ)                            \
	F(U64, "socket", io_cpu_by_kind_ns[TL_IOK_SOCKET - 1], REQ)                        \
	F(U64, "other", io_cpu_by_kind_ns[TL_IOK_OTHER - 1], REQ)
#define SUMMARY_LKW_FIELDS(F)                                                              \
	F(U64, "mutex", lock_wait_by_kind_ns[TL_LK_MUTEX - 1], REQ)                        \
	F(U64, "gil", lock_wait_by_kind_ns[TL_LK_GIL - 1], REQ)                            \
	F(U64, "join", lock_wait_by_kind_ns[TL_LK_JOIN - 1], REQ)                          \
	F(U64, "condvar", lock_wait_by_kind_ns[TL_LK_CONDVAR - 1], REQ)                    \
	F(U64, "other", lock_wait_by_kind_ns[TL_LK_OTHER - 1], REQ)
/* bytes_read by what was read (an_thread, an_process; an_run's are in c): slot = kind - 1 */
#define SUMMARY_BRK_FIELDS(F)                                                              \
	F(U64, "file", bytes_read_by_kind[TL_IOK_FILE - 1], REQ)                           \
	F(U64, "pipe", bytes_read_by_kind[TL_IOK_PIPE - 1], REQ)                           \
	F(U64, "socket", bytes_read_by_kind[TL_IOK_SOCKET - 1], REQ)                       \
	F(U64, "other", bytes_read_by_kind[TL_IOK_OTHER - 1], REQ)
#define SUMMARY_BRK_RUN_FIELDS(F)                                                          \
	F(U64, "file", c.bytes_read_by_kind[TL_IOK_FILE - 1], REQ)                         \
	F(U64, "pipe", c.bytes_read_by_kind[TL_IOK_PIPE - 1], REQ)                         \
	F(U64, "socket", c.bytes_read_by_kind[TL_IOK_SOCKET - 1], REQ)                     \
	F(U64, "other", c.bytes_read_by_kind[TL_IOK_OTHER - 1], REQ)
/* page_cache_insert_bytes by what the inserting thread was doing (an_run) */
#define SUMMARY_PCC_FIELDS(F)                                                              \
	F(U64, "read", c.pcache_read_bytes, REQ)                                           \
	F(U64, "fault", c.pcache_fault_bytes, REQ)                                         \
	F(U64, "other", c.pcache_other_bytes, REQ)
/* other_wait: waiting for a child process (wait4, waitid), and every other sleep */
#define SUMMARY_OWK_FIELDS(F)                                                              \
	F(U64, "child", other_wait_by_kind_ns[TL_OWK_CHILD - 1], REQ)                      \
	F(U64, "other", other_wait_by_kind_ns[WT_NOW_SLOTS - 1], REQ)
/* poll_wait: what ended it (wt_poll_slot) */
#define SUMMARY_PWK_FIELDS(F)                                                              \
	F(U64, "pipe", poll_wait_by_kind_ns[WT_PW_PIPE], REQ)                              \
	F(U64, "socket", poll_wait_by_kind_ns[WT_PW_SOCKET], REQ)                          \
	F(U64, "timeout", poll_wait_by_kind_ns[WT_PW_TIMEOUT], REQ)                        \
	F(U64, "own_process", poll_wait_by_kind_ns[WT_PW_OWN_PROCESS], REQ)                \
	F(U64, "other", poll_wait_by_kind_ns[WT_PW_OTHER], REQ)

/* x: struct an_thread (runs[i].threads[j]) */
#define SUMMARY_THREAD_FIELDS(F)                                                           \
	F(UINT, "pid", pid, REQ, UINT32_MAX)                                               \
	F(UINT, "tid", tid, REQ, UINT32_MAX)                                               \
	F(STR, "comm", comm, REQ)                                                          \
	F(STR, "role", role, REQ)                                                          \
	F(U64, "lifetime_ns", lifetime_ns, REQ)                                            \
	F(STATES, states_ns)                                                               \
	F(OBJN, "io_wait_by_kind_ns", iow_thread, by_kind_ok)                              \
	F(OBJN, "io_cpu_by_kind_ns", ioc_thread, by_kind_ok)                               \
	F(OBJN, "lock_wait_by_kind_ns", lkw_thread, by_kind_ok)                            \
	F(OBJN, "other_wait_by_kind_ns", owk_thread, other_kind_ok)                        \
	F(OBJN, "poll_wait_by_kind_ns", pwk_thread, poll_kind_ok)                          \
	F(U64, "stolen_ns", stolen_ns, OPT)                                                \
	F(U64, "reads", reads, OPT)                                                        \
	F(U64, "bytes_read", bytes_read, OPT)                                              \
	F(OBJN, "bytes_read_by_kind", brk_thread, bytes_kind_ok)                           \
	F(U64N, "bytes_read_direct", bytes_read_direct, OPT, bytes_direct_ok)              \
	F(U64, "ctx_switches", ctx_switches, OPT)                                          \
	F(U64, "gap_ns", gap_ns, OPT)

/* x: struct an_process (runs[i].processes[j]) */
#define SUMMARY_PROCESS_FIELDS(F)                                                          \
	F(UINT, "pid", pid, REQ, UINT32_MAX)                                               \
	F(UINT, "parent", ppid, REQ, UINT32_MAX)                                           \
	F(STR, "comm", comm, REQ)                                                          \
	F(STR, "cmdline", cmdline, REQ)                                                    \
	F(BOOL, "before_trace", before, OPT)                                               \
	F(U64, "start_ns", start_ns, REQ)                                                  \
	F(U64N, "end_ns", end_ns, REQ, ended)                                              \
	F(INT, "exit_status", exit_status, REQ)                                            \
	F(BOOL, "setuid", setuid, OPT)                                                     \
	F(BOOL, "exit_lost", exit_lost, OPT)                                               \
	F(UINT, "threads", nthreads, REQ, UINT32_MAX)                                      \
	F(STATES, states_ns)                                                               \
	F(U64, "stolen_ns", stolen_ns, OPT)                                                \
	F(U64, "reads", reads, OPT)                                                        \
	F(U64, "bytes_read", bytes_read, OPT)                                              \
	F(OBJN, "bytes_read_by_kind", brk_process, bytes_kind_ok)                          \
	F(U64N, "bytes_read_direct", bytes_read_direct, OPT, bytes_direct_ok)              \
	F(U64, "ctx_switches", ctx_switches, OPT)

/* x: struct an_sockpeer (runs[i].socket_peers[j]) */
#define SUMMARY_SOCKPEER_FIELDS(F)                                                         \
	F(UINT, "pid", pid, REQ, UINT32_MAX)                                               \
	F(STR, "comm", comm, REQ)                                                          \
	F(STR, "peer", addr, REQ)                                                          \
	F(BOOL, "peer_local", local, REQ)                                                  \
	F(UINT, "peer_pid", peer_pid, REQ, UINT32_MAX)                                     \
	F(STR, "peer_comm", peer_comm, REQ)                                                \
	F(STR, "peer_cmdline", peer_cmdline, REQ)                                          \
	F(UINT, "sockets", sockets, REQ, UINT32_MAX)                                       \
	F(U64, "wait_ns", wait_ns, REQ)                                                    \
	F(U64, "recv_wait_ns", recv_wait_ns, REQ)                                          \
	F(U64, "recv_waits", recv_waits, REQ)                                              \
	F(U64, "poll_wait_ns", poll_wait_ns, REQ)                                          \
	F(U64, "poll_waits", poll_waits, REQ)

/* x: struct an_verdict (runs[i].verdict[j]) */
#define SUMMARY_VERDICT_FIELDS(F)                                                          \
	F(STR, "rule", rule, REQ)                                                          \
	F(STR, "text", text, REQ)                                                          \
	F(REALN, "share", share, OPT, share_ok, 0, 1)                                      \
	F(STRN, "share_of", share_of, OPT)

/* x: struct an_run (runs[i]); the ideal bound's device terms are null unless both flags */
#define SUMMARY_IDEAL_DEV(x) ((x)->ideal_ok && (x)->ideal_dev_ok)
#define SUMMARY_RUN_FIELDS(F)                                                              \
	F(STR, "label", label, REQ)                                                        \
	F(STR, "strategy", strategy, REQ)                                                  \
	F(STRN, "cache", cache, REQ)                                                       \
	F(INT, "exit_status", exit_status, REQ)                                            \
	F(BOOL, "interrupted", interrupted, OPT)                                           \
	F(U64, "wall_ns", wall_ns, REQ)                                                    \
	F(U64, "wall_min_ns", wall_min_ns, OPT)                                            \
	F(U64, "wall_max_ns", wall_max_ns, OPT)                                            \
	F(CUSTOM, repeats)                                                                 \
	F(OBJN, "rusage", rusage, rusage_ok)                                               \
	F(OBJN, "machine_cpu", machine_cpu, machine_ok)                                    \
	F(OBJN, "tracer_cpu_ns", tracer_cpu, tracer_cpu_ok)                                \
	F(REALN, "tracer_cpu_share", tracer_cpu_share, OPT, tracer_cpu_share_ok, 0, 1)     \
	F(STATES, states_ns)                                                               \
	F(OBJN, "io_wait_by_kind_ns", iow_run, by_kind_ok)                                 \
	F(OBJN, "io_cpu_by_kind_ns", ioc_run, by_kind_ok)                                  \
	F(OBJN, "lock_wait_by_kind_ns", lkw_run, by_kind_ok)                               \
	F(OBJN, "other_wait_by_kind_ns", owk_run, other_kind_ok)                           \
	F(OBJN, "poll_wait_by_kind_ns", pwk_run, poll_kind_ok)                             \
	F(U64N, "stolen_ns", stolen_ns, OPT, stolen_ok)                                    \
	F(CUSTOM, threads)                                                                 \
	F(CUSTOM, processes)                                                               \
	F(CUSTOM, socket_peers)                                                            \
	F(U64, "blocked_ns", blocked_ns, REQ)                                              \
	F(U64, "blocked_busy_ns", blocked_busy_ns, OPT)                                    \
	F(REALN, "cpu_overlap", cpu_overlap, REQ, cpu_overlap_ok, 0, 1)                    \
	F(U64, "io_ns", io_ns, REQ)                                                        \
	F(REALN, "hidden_io", hidden_io, REQ, hidden_io_ok, 0, 1)                          \
	F(U64, "exposed_io_ns", exposed_io_ns, REQ)                                        \
	F(U64N, "io_block_only_ns", io_block_only_ns, OPT, io_block_only_ok)               \
	F(U64IF, "io_block_only_computing_ns", io_block_only_computing_ns, OPT,            \
	  x->io_block_only_ok)                                                             \
	F(REALN, "hidden_io_readahead", hidden_io_readahead, OPT, hidden_io_readahead_ok,  \
	  0, 1)                                                                            \
	F(U64N, "exposed_io_peer_ns", exposed_io_peer_ns, OPT, exposed_io_peer_ok)         \
	F(OBJN, "bound_ns", bound, bound_ok)                                               \
	F(OBJN, "unused_cpu_ns", unused, unused_cpu_ok)                                    \
	F(REAL, "parallelism", parallelism, REQ, 0, HUGE_VAL)                              \
	F(CUSTOM, concurrency)                                                             \
	F(CUSTOM, concurrency_ns)                                                          \
	F(REALN, "runnable_share", runnable_share, OPT, runnable_share_ok, 0, 1)           \
	F(REALN, "read_oncpu_share", read_oncpu_share, OPT, read_oncpu_share_ok, 0, 1)     \
	F(U64, "switches", switches, OPT)                                                  \
	F(U64, "reads", c.reads, REQ)                                                      \
	F(U64, "bytes_read", c.bytes_read, REQ)                                            \
	F(OBJN, "bytes_read_by_kind", brk_run, c.bytes_kind_ok)                            \
	F(U64N, "bytes_read_direct", c.bytes_read_direct, OPT, c.bytes_direct_ok)          \
	F(U64N, "page_cache_insert_bytes", c.pcache_insert_bytes, REQ, c.pcache_ok)        \
	F(OBJN, "page_cache_insert_bytes_by_cause", pcc, c.pcache_cause_ok)                \
	F(REALN, "hit_ratio", hit_ratio, REQ, hit_ratio_ok, 0, 1)                          \
	F(REALIF, "file_read_hit_ratio", hit_ratio, OPT, x->hit_ratio_ok, 0, 1)            \
	F(STRN, "hit_ratio_unavailable", hit_ratio_unavailable, OPT)                       \
	F(CUSTOM, resident_before)                                                         \
	F(U64N, "block_bytes", c.block_bytes, REQ, c.block_ok)                             \
	F(U64IF, "block_busy_ns", c.block_busy_ns, REQ, x->c.block_ok)                     \
	F(U64IF, "block_reqs", c.block_reqs, OPT, x->c.block_ok)                           \
	F(REALN, "device_rate", device_rate, OPT, device_rate_ok, 0, HUGE_VAL)             \
	F(OBJ, "uring", uring, REQ, x)                                                     \
	F(U64, "ctx_switches", c.ctx_switches, OPT)                                        \
	F(U64, "lost_events", c.lost_events, REQ)                                          \
	F(U64, "lost_ns", c.lost_ns, OPT)                                                  \
	F(U64, "lost_exact_ns", c.lost_exact_ns, OPT)                                      \
	F(U64, "gaps_ns", gaps_ns, OPT)                                                    \
	F(U64, "spans_exact_from_ns", spans_exact_from_ns, OPT)                            \
	F(U64, "spans_resolution_ns", spans_resolution_ns, OPT)                            \
	F(REALN, "speedup_vs_sync", speedup_vs_sync, REQ, speedup_ok, 0, HUGE_VAL)         \
	F(REALN, "ideal_fraction", ideal_fraction, REQ, ideal_ok, 0, HUGE_VAL)             \
	F(U64IF, "ideal_wall_ns", ideal_wall_ns, OPT, x->ideal_ok)                         \
	F(REALIF, "ideal_speedup", ideal_speedup, OPT, x->ideal_ok, 0, HUGE_VAL)           \
	F(U64IF, "ideal_cpu_ns", ideal_cpu_ns, OPT, x->ideal_ok)                           \
	F(CUSTOM, ideal_device_ns)                                                         \
	F(U64IF, "ideal_device_bytes", ideal_dev_bytes, OPT, SUMMARY_IDEAL_DEV(x))         \
	F(REALIF, "ideal_device_rate", ideal_dev_rate, OPT, SUMMARY_IDEAL_DEV(x), 0,       \
	  HUGE_VAL)                                                                        \
	F(OBJ, "stacks", stacks, OPT, x)                                                   \
	F(CUSTOM, locks)                                                                   \
	F(STRN, "headline", headline, OPT)                                                 \
	F(CUSTOM, verdict)

/* x: struct an_report (the top level); "schema" comes first, checked before the rest */
#define SUMMARY_IOTRACE_FIELDS(F) F(STR, "version", version, OPT)
#define SUMMARY_MACHINE_FIELDS(F)                                                          \
	F(UINT, "ncpu", ncpu, REQ, 65536)                                                  \
	F(STR, "kernel", kernel, OPT)
/* x: struct an_report (device_ceiling): how the ceiling was measured, or why it was not */
#define SUMMARY_CEILING_FIELDS(F)                                                          \
	F(STRN, "method", device_ceiling_method, OPT)                                      \
	F(U64, "bytes", device_ceiling_bytes, OPT)                                         \
	F(U64, "ns", device_ceiling_ns, OPT)                                               \
	F(U64, "elapsed_ns", device_ceiling_elapsed_ns, OPT)                               \
	F(UINT, "qd", device_ceiling_qd, OPT, 65536)                                       \
	F(UINT, "block", device_ceiling_block, OPT, UINT32_MAX)                            \
	F(BOOL, "throttled", device_ceiling_throttled, OPT)                                \
	F(STRN, "unavailable", device_ceiling_unavailable, OPT)
#define SUMMARY_REPORT_FIELDS(F)                                                           \
	F(CUSTOM, schema)                                                                  \
	F(OBJ, "iotrace", iotrace, OPT, x)                                                 \
	F(OBJ, "machine", machine, REQ, x)                                                 \
	F(STR, "workload", workload, REQ)                                                  \
	F(CUSTOM, command)                                                                 \
	F(U64IF, "throttle_bps", throttle_bps, OPT, x->throttle_bps > 0)                   \
	F(REALN, "device_rate_best", device_rate_best, OPT, device_rate_best_ok, 0,        \
	  HUGE_VAL)                                                                        \
	F(REALN, "device_ceiling_bps", device_ceiling_bps, OPT, device_ceiling_ok, 0,      \
	  HUGE_VAL)                                                                        \
	F(OBJ, "device_ceiling", ceiling, OPT, x)                                          \
	F(STRN, "answer", answer, OPT)                                                     \
	F(STRN, "readahead", readahead, OPT)                                               \
	F(STRN, "warmup", warmup, OPT)                                                     \
	F(OBJN, "tracer_cpu_total_ns", tracer_total, tracer_total_ok)                      \
	F(OBJN, "tracer_cpu_in_windows_ns", tracer_windows, tracer_outside_ok)             \
	F(OBJN, "tracer_cpu_outside_window_ns", tracer_outside, tracer_outside_ok)         \
	F(CUSTOM, runs)

/*
 * The tables of the nested objects and the C type of their x, which the writer and the
 * loader each turn into a function per table (jw_NAME, ld_NAME) before the run's table.
 */
#define SUMMARY_OBJECT_TABLES(T)                                                           \
	T(stackset, struct an_stackset, SUMMARY_STACKSET_FIELDS)                           \
	T(stacks, struct an_run, SUMMARY_STACKS_FIELDS)                                    \
	T(rusage, struct an_run, SUMMARY_RUSAGE_FIELDS)                                    \
	T(machine_cpu, struct an_run, SUMMARY_MACHINE_CPU_FIELDS)                          \
	T(tracer_cpu, struct an_run, SUMMARY_TRACER_CPU_FIELDS)                            \
	T(tracer_total, struct an_report, SUMMARY_TRACER_TOTAL_FIELDS)                     \
	T(tracer_windows, struct an_report, SUMMARY_TRACER_WINDOWS_FIELDS)                 \
	T(tracer_outside, struct an_report, SUMMARY_TRACER_OUTSIDE_FIELDS)                 \
	T(uring, struct an_run, SUMMARY_URING_FIELDS)                                      \
	T(bound, struct an_run, SUMMARY_BOUND_FIELDS)                                      \
	T(unused, struct an_run, SUMMARY_UNUSED_FIELDS)                                    \
	T(repeat, struct an_repeat, SUMMARY_REPEAT_FIELDS)                                 \
	T(iow_thread, struct an_thread, SUMMARY_IOW_FIELDS)                                \
	T(ioc_thread, struct an_thread, SUMMARY_IOC_FIELDS)                                \
	T(lkw_thread, struct an_thread, SUMMARY_LKW_FIELDS)                                \
	T(owk_thread, struct an_thread, SUMMARY_OWK_FIELDS)                                \
	T(pwk_thread, struct an_thread, SUMMARY_PWK_FIELDS)                                \
	T(brk_thread, struct an_thread, SUMMARY_BRK_FIELDS)                                \
	T(brk_process, struct an_process, SUMMARY_BRK_FIELDS)                              \
	T(brk_run, struct an_run, SUMMARY_BRK_RUN_FIELDS)                                  \
	T(pcc, struct an_run, SUMMARY_PCC_FIELDS)                                          \
	T(iow_run, struct an_run, SUMMARY_IOW_FIELDS)                                      \
	T(ioc_run, struct an_run, SUMMARY_IOC_FIELDS)                                      \
	T(lkw_run, struct an_run, SUMMARY_LKW_FIELDS)                                      \
	T(owk_run, struct an_run, SUMMARY_OWK_FIELDS)                                      \
	T(pwk_run, struct an_run, SUMMARY_PWK_FIELDS)                                      \
	T(thread, struct an_thread, SUMMARY_THREAD_FIELDS)                                 \
	T(process, struct an_process, SUMMARY_PROCESS_FIELDS)                              \
	T(sockpeer, struct an_sockpeer, SUMMARY_SOCKPEER_FIELDS)                           \
	T(verdict_entry, struct an_verdict, SUMMARY_VERDICT_FIELDS)                        \
	T(iotrace, struct an_report, SUMMARY_IOTRACE_FIELDS)                               \
	T(machine, struct an_report, SUMMARY_MACHINE_FIELDS)                               \
	T(ceiling, struct an_report, SUMMARY_CEILING_FIELDS)

#endif /* IOTRACE_SUMMARY_FIELDS_H */
