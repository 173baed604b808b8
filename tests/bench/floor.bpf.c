// SPDX-License-Identifier: GPL-2.0
/* floor.bpf.c - make bench's floor: empty programs on every syscall entry and exit. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/*
 * What any tool that times read syscalls pays before doing anything: attaching to
 * sys_enter/sys_exit puts every syscall of the machine on the tracepoint path and runs a
 * program twice per call. iotrace's own overhead is what it adds on top of this.
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

char LICENSE[] SEC("license") = "GPL";
