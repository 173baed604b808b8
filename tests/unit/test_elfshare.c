/* test_elfshare.c - one Elf per file: the same file shared, another file apart, code read by pread. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gelf.h>

#include "trace/elfshare.h"

/* A copy of the running test program (another inode, the same bytes). */
static char *copy_self(void)
{
	static char path[] = "/tmp/iot-elfshare-XXXXXX";
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out = mkstemp(path);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	return path;
}

/* The file offset and bytes of the start of .text in elf. */
static off_t text_at(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstr;

	assert_int_equal(elf_getshdrstrndx(elf, &shstr), 0);
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && !strcmp(elf_strptr(elf, shstr, sh.sh_name), ".text"))
			return (off_t)sh.sh_offset;
	fail();
	return 0;
}

static void test_shared_per_file(void **state)
{
	char self[4096], *copy = copy_self(), *n1 = NULL, *n2 = NULL, *n3 = NULL;
	unsigned char a[32], b[32];
	struct es_file *h1, *h2, *h3;
	struct es_stats s0, s;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	Elf *e1, *e2, *e3;
	off_t text;
	int fd;

	(void)state;
	assert_true(len > 0);
	self[len] = 0;
	es_get_stats(&s0);
	/* two processes' modules of one file: one Elf, one mapping, two references */
	e1 = es_get(self, &h1, &n1);
	e2 = es_get(self, &h2, &n2);
	assert_non_null(e1);
	assert_ptr_equal(e1, e2);
	assert_ptr_equal(h1, h2);
	assert_string_equal(n1, self);
	es_get_stats(&s);
	assert_int_equal(s.opened - s0.opened, 1);
	assert_int_equal(s.uses - s0.uses, 2);
	/* another inode with the same bytes is another file */
	e3 = es_get(copy, &h3, &n3);
	assert_non_null(e3);
	assert_ptr_not_equal(e3, e1);
	es_get_stats(&s);
	assert_int_equal(s.opened - s0.opened, 2);
	assert_int_equal(s.live - s0.live, 2);
	/* code read with pread: the bytes the file has there */
	text = text_at(e1);
	assert_int_equal(es_pread(e1, a, sizeof(a), text), (ssize_t)sizeof(a));
	fd = open(self, O_RDONLY | O_CLOEXEC);
	assert_int_equal(pread(fd, b, sizeof(b), text), (ssize_t)sizeof(b));
	close(fd);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(es_pread(NULL, a, sizeof(a), 0), -1);
	/* not ELF, not a regular file: none */
	assert_null(es_get("/proc/self/status", &h1, &n1));
	assert_null(es_get("/dev/null", &h1, &n1));
	/* the modules freed (libdwfl's elf_end, then our es_put), the idle files unmapped */
	elf_end(e1);
	es_put(h1);
	elf_end(e2);
	es_put(h2);
	elf_end(e3);
	es_put(h3);
	es_trim();
	es_get_stats(&s);
	assert_int_equal(s.live, s0.live);
	free(n1);
	free(n2);
	free(n3);
	unlink(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_per_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
