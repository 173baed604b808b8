// SPDX-License-Identifier: GPL-2.0
/* floor.bpf.c - make bench's floor: empty programs on every syscall entry and exit. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "iotrace.h"

/*
 * What any tool that times read syscalls pays before doing anything: attaching to
 * sys_enter/sys_exit puts every syscall of the machine on the tracepoint path and runs a
 * program twice per call. iotrace's own overhead is what it adds on top of this.
 *
 * The timed variants (floor --clock, --tstore; only the chosen pair is loaded) are what
 * timing each read at both ends costs on top of that, with nothing else done: the clock
 * read at the entry and the exit of each read-family call (iotrace's set), the difference
 * summed, per CPU (--clock) or in the thread's own task storage (--tstore, where a tool
 * keeps exact per-thread totals). No tool that times every read can cost less.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

struct fl_clk {
	__u64 enter_ts;
	__u64 sum_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_clk);
} clk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fl_clk);
} tclk SEC(".maps");

static __always_inline long regs_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#else
	return regs->syscallno;
#endif
}

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_clock_enter, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	struct fl_clk *c;

	if (it_sys_class(id) != IT_SYS_IO)
		return 0;
	c = bpf_map_lookup_elem(&clk, &zero);
	if (c)
		c->enter_ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_clock_exit, struct pt_regs *regs, long ret)
{
	__u32 zero = 0;
	struct fl_clk *c;

	if (it_sys_class(regs_nr(regs)) != IT_SYS_IO)
		return 0;
	c = bpf_map_lookup_elem(&clk, &zero);
	if (c)
		c->sum_ns += bpf_ktime_get_ns() - c->enter_ts;
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_tstore_enter, struct pt_regs *regs, long id)
{
	struct fl_clk *c;

	if (it_sys_class(id) != IT_SYS_IO)
		return 0;
	c = bpf_task_storage_get(&tclk, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c)
		c->enter_ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_tstore_exit, struct pt_regs *regs, long ret)
{
	struct fl_clk *c;

	if (it_sys_class(regs_nr(regs)) != IT_SYS_IO)
		return 0;
	c = bpf_task_storage_get(&tclk, bpf_get_current_task_btf(), 0, 0);
	if (c)
		c->sum_ns += bpf_ktime_get_ns() - c->enter_ts;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
