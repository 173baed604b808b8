/* test_symindex.c - the symbol index names every address exactly as dwfl_module_addrinfo does, in real binaries. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elfutils/libdwfl.h>

#include "trace/symindex.h"

/* as the tracer opens them: separate debug files from the local build-id tree only */
static const Dwfl_Callbacks offline = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_build_id_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static Dwfl_Module *load(Dwfl **d, const char *path, uint64_t base)
{
	Dwfl_Module *m;

	*d = dwfl_begin(&offline);
	assert_non_null(*d);
	dwfl_report_begin(*d);
	m = dwfl_report_elf(*d, "mod", path, -1, base, false);
	assert_int_equal(dwfl_report_end(*d, NULL, NULL), 0);
	return m;
}

/* Addresses where the answer changes (around every symbol's start and end, every
 * section's bounds) and random ones in the module, up to max, in random order. */
static size_t addresses(Dwfl_Module *m, uint64_t *out, size_t max)
{
	size_t n = 0, cap = 1 << 16;
	uint64_t *all = malloc(cap * sizeof(*all)), low = 0, high = 0, bias = 0;
	int ns = dwfl_module_getsymtab(m);
	Elf *elf = dwfl_module_getelf(m, &bias);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	assert_non_null(all);
	dwfl_module_info(m, NULL, &low, &high, NULL, NULL, NULL, NULL);
	/* what the tracer looks up: addresses in the module (libdwfl found it there) */
#define ADD(a) do { if ((a) < low) break; if (n == cap) { cap *= 2; all = realloc(all, cap * sizeof(*all)); \
		assert_non_null(all); } all[n++] = (a); } while (0)
	for (int i = 1; i < ns; i++) {
		GElf_Sym s;
		GElf_Addr v;
		GElf_Word shndx;

		if (!dwfl_module_getsym_info(m, i, &s, &v, &shndx, NULL, NULL))
			continue;
		for (int d = -1; d <= 1; d++) {
			ADD(v + (uint64_t)d);
			ADD(v + s.st_size + (uint64_t)d);
		}
	}
	while (elf && (scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC))
			for (int d = -1; d <= 1; d++) {
				ADD(sh.sh_addr + bias + (uint64_t)d);
				ADD(sh.sh_addr + bias + sh.sh_size + (uint64_t)d);
			}
	for (size_t i = 0; i < max / 4 && high > low; i++)
		ADD(low + next_rand() % (high - low));
#undef ADD
	for (size_t i = n; i > 1; i--) {
		size_t j = next_rand() % i;
		uint64_t t = all[i - 1];

		all[i - 1] = all[j];
		all[j] = t;
	}
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}

/* Each address named by the index as by libdwfl: name, offset, symbol. Returns how many named. */
static size_t compare(const struct si_index *x, Dwfl_Module *m, const uint64_t *a, size_t n,
		      const char *path)
{
	size_t named = 0;

	for (size_t i = 0; i < n; i++) {
		GElf_Off o1 = 0, o2 = 0;
		GElf_Sym s1, s2;
		bool fb;
		const char *n1 = dwfl_module_addrinfo(m, a[i], &o1, &s1, NULL, NULL, NULL);
		const char *n2 = si_addrinfo(x, m, a[i], &o2, &s2, &fb);

		assert_false(fb);
		if (!n1 != !n2 || (n1 && (strcmp(n1, n2) || o1 != o2 || s1.st_value != s2.st_value ||
					  s1.st_size != s2.st_size || s1.st_info != s2.st_info))) {
			fprintf(stderr, "%s: 0x%" PRIx64 ": libdwfl %s+0x%" PRIx64 ", index %s+0x%" PRIx64 "\n",
				path, a[i], n1 ? n1 : "(none)", (uint64_t)o1, n2 ? n2 : "(none)",
				(uint64_t)o2);
			fail();
		}
		named += n1 != NULL;
	}
	return named;
}

/*
 * One file loaded at two addresses: the second module gets the first's index (when its
 * values all move with the load address) and both name max addresses as libdwfl does.
 */
static bool check_file(const char *path, size_t max)
{
	struct si_cache *c = si_cache_new();
	struct si_index *x1, *x2;
	Dwfl *d1, *d2;
	Dwfl_Module *m1, *m2;
	uint64_t *a = malloc(max * sizeof(*a)), bias = 0;
	size_t n, named, stretches, bytes;
	GElf_Ehdr eh;
	Elf *elf;
	bool dyn;

	assert_non_null(c);
	assert_non_null(a);
	if (access(path, R_OK)) {
		fprintf(stderr, "  %s: not installed, not compared\n", path);
		free(a);
		si_cache_free(c);
		return false;
	}
	m1 = load(&d1, path, 0x7f1200000000ULL);
	assert_non_null(m1);
	elf = dwfl_module_getelf(m1, &bias);
	assert_non_null(elf);
	assert_non_null(gelf_getehdr(elf, &eh));
	dyn = eh.e_type == ET_DYN;
	x1 = si_get(c, m1);
	assert_non_null(x1);
	n = addresses(m1, a, max);
	named = compare(x1, m1, a, n, path);
	bytes = si_bytes(x1, &stretches);
	fprintf(stderr, "  %s: %zu addresses, %zu named, %d symbols, %zu stretches, %zu bytes\n",
		path, n, named, dwfl_module_getsymtab(m1), stretches, bytes);
	assert_true(named > n / 4);

	/* the same file elsewhere (an executable stays at its address): one index, still exact */
	m2 = load(&d2, path, 0x7f3400010000ULL);
	assert_non_null(m2);
	x2 = si_get(c, m2);
	assert_non_null(x2);
	if (dyn)
		assert_ptr_equal(x1, x2);
	assert_int_equal(si_cache_builds(c), 1);
	/* let go by every module, kept idle for the next (a process's maps read again) */
	si_put(x2);
	si_put(x1);
	x1 = si_get(c, m1);
	x2 = si_get(c, m2);
	assert_non_null(x1);
	assert_non_null(x2);
	assert_int_equal(si_cache_builds(c), 1);
	n = addresses(m2, a, max / 4);
	compare(x2, m2, a, n, path);
	si_put(x2);
	si_put(x1);
	si_cache_free(c);
	dwfl_end(d1);
	dwfl_end(d2);
	free(a);
	return true;
}

static void test_libraries(void **state)
{
	(void)state;
	/* libc with libc6-dbg's symbols (locals, labels without a size, aliases), libcrypto's
	 * .dynsym only (its assembly has no symbol: nothing named, as libdwfl) */
	assert_true(check_file("/lib/x86_64-linux-gnu/libc.so.6", 12000) ||
		    check_file("/lib/aarch64-linux-gnu/libc.so.6", 12000));
	check_file("/lib/x86_64-linux-gnu/libcrypto.so.3", 8000);
	check_file("/lib/x86_64-linux-gnu/libstdc++.so.6", 4000);
}

static void test_programs(void **state)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)state;
	/* our own binary: a full .symtab with static functions */
	assert_true(n > 0);
	self[n] = '\0';
	assert_true(check_file(self, 6000));
	check_file("/usr/bin/python3.11", 4000);
	check_file("/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", 4000);
	/* 109k symbols: libdwfl's scan is slow, fewer addresses */
	check_file("/usr/bin/node", 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libraries),
		cmocka_unit_test(test_programs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
