/* fuzz_symbols.c - libFuzzer target: the /proc/kallsyms and /proc/PID/maps readers of symbols.c. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "trace/symbols.h"

/*
 * First byte even: the rest is /proc/kallsyms, and a kernel stack of a few addresses taken
 * from inside the listed range is folded (sym_fold -> kernel_load, kernel_name). Odd: the
 * rest is /proc/PID/maps of a process that does not exist, captured through the public
 * entry point (sym_pid_seen -> read_proc, filter_maps, libdwfl) and a user stack of it
 * folded. Both go through fopen(), served from the input by fuzz.h's interposer.
 */
#define FAKE_PID 0x7ffffff0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tr_stack st;
	char out[4096];
	struct sym *s;
	uint64_t seed = 0;

	if (size < 1)
		return 0;
	for (size_t i = 1; i < size && i < 9; i++)
		seed = seed << 8 | data[i];
	s = sym_new();
	if (!s)
		return 0;
	memset(&st, 0, sizeof(st));
	st.pid = st.tid = FAKE_PID;
	if (!(data[0] & 1)) {
		fuzz_proc_set("/proc/kallsyms", data + 1, size - 1);
		st.kind = IT_STACK_OFFCPU;
		st.nkern = 4;
		st.nuser = 0;
		st.kips[0] = 0xffffffff81000000ull + (seed & 0xffffff);
		st.kips[1] = seed;
		st.kips[2] = 0xffffffffffffffffull;
		st.kips[3] = 0;
	} else {
		fuzz_proc_set("maps", data + 1, size - 1);
		sym_pid_seen(s, FAKE_PID);
		st.kind = IT_STACK_ONCPU;
		st.nkern = 0;
		st.nuser = 3;
		st.uips[0] = 0x400000 + (seed & 0xfffff);
		st.uips[1] = seed;
		st.uips[2] = 0x7f0000000000ull + (seed & 0xffffffff);
	}
	if (sym_fold(s, &st, "fuzz", out, sizeof(out)) < 0)
		abort();
	/* folded-format safe: no ';' inside a frame is checkable only as no control bytes */
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			abort();
	fuzz_proc_set(NULL, NULL, 0);
	sym_free(s);
	return 0;
}
