/* replay.c - make test's side of the fuzzers: every file of tests/fuzz/corpus/NAME through its target. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* the target's entry point (fuzz.h, included by the target, defines its fopen interposer) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Built with gcc against the normal objects (and, with SANITIZE=1, ASan+UBSan), it feeds
 * the seeds and every input that once crashed a target (saved as a regression test) to
 * LLVMFuzzerTestOneInput, so a fixed crash stays fixed without clang or a fuzzing run.
 * FUZZ_NAME: the target ("outdir", "parse", "symbols").
 */

#define CORPUS "tests/fuzz/corpus/" FUZZ_NAME

static void test_corpus(void **state)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d = opendir(CORPUS);

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512];
		uint8_t *buf;
		long len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), CORPUS "/%s", e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		buf = malloc((size_t)len + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests_name("fuzz corpus " FUZZ_NAME, tests, NULL, NULL);
}
