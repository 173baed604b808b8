/* test_debugslim.c - libc's debug file, cut and cached: the same names, no DWARF to inflate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elfutils/libdwfl.h>

#include "trace/debugslim.h"

static const char *const libcs[] = {"/lib/x86_64-linux-gnu/libc.so.6",
				    "/lib/aarch64-linux-gnu/libc.so.6", "/lib64/libc.so.6"};

static const Dwfl_Callbacks plain_cb = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_build_id_find_debuginfo,
};
static const Dwfl_Callbacks slim_cb = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = ds_find_debuginfo,
};

static Dwfl_Module *open_libc(const Dwfl_Callbacks *cb, Dwfl **d)
{
	Dwfl_Module *m = NULL;

	*d = dwfl_begin(cb);
	assert_non_null(*d);
	for (size_t i = 0; i < sizeof(libcs) / sizeof(libcs[0]) && !m; i++)
		if (access(libcs[i], R_OK) == 0)
			m = dwfl_report_offline(*d, "libc", libcs[i], -1);
	dwfl_report_end(*d, NULL, NULL);
	return m;
}

/* start_thread is static: only a debug file's .symtab names it. Its address, 0 if absent. */
static GElf_Addr start_thread(Dwfl_Module *m)
{
	int n = dwfl_module_getsymtab(m);

	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr a;
		const char *name = dwfl_module_getsym_info(m, i, &sym, &a, NULL, NULL, NULL);

		if (name && !strcmp(name, "start_thread") && GELF_ST_TYPE(sym.st_info) == STT_FUNC)
			return a;
	}
	return 0;
}

static void test_libc_debug_cut_and_cached(void **state)
{
	Dwfl *plain, *slim, *again;
	Dwfl_Module *mp, *ms, *ma;
	GElf_Addr at, bias;
	struct ds_stats st0, st;

	(void)state;
	ds_get_stats(&st0);
	mp = open_libc(&plain_cb, &plain);
	if (!mp || !start_thread(mp) || !dwfl_module_getdwarf(mp, &bias)) {
		dwfl_end(plain);
		skip(); /* no libc, or no libc6-dbg with its DWARF: nothing to cut */
	}
	at = start_thread(mp);
	ms = open_libc(&slim_cb, &slim);
	assert_non_null(ms);
	/* the same symbol table, read from the copy: the static function at the same place */
	assert_int_equal(start_thread(ms), at);
	assert_int_equal(dwfl_module_getsymtab(ms), dwfl_module_getsymtab(mp));
	assert_string_equal(dwfl_module_addrname(ms, at + 1), "start_thread");
	/* no DWARF left to load (libc's debug file has no .debug_frame); .eh_frame unwinds */
	assert_null(dwfl_module_getdwarf(ms, &bias));
	assert_non_null(dwfl_module_eh_cfi(ms, &bias));
	ds_get_stats(&st);
	assert_int_equal(st.made - st0.made, 1);
	assert_int_equal(st.reused - st0.reused, 0);
	/* a second process's libc: the copy again, not a new one */
	ma = open_libc(&slim_cb, &again);
	assert_int_equal(start_thread(ma), at);
	ds_get_stats(&st);
	assert_int_equal(st.made - st0.made, 1);
	assert_int_equal(st.reused - st0.reused, 1);
	dwfl_end(again);
	dwfl_end(slim);
	dwfl_end(plain);
	ds_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libc_debug_cut_and_cached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
