/* fuzz.h - what every libFuzzer target here shares: the fopen() interposer and a scratch dir. */
#ifndef IOTRACE_FUZZ_H
#define IOTRACE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The targets are linked with -Wl,--wrap=fopen: the readers of /proc files in
 * user/symbols.c open fixed paths, so a fuzzed /proc/kallsyms or /proc/PID/maps is served
 * from memory instead (fuzz_proc_set), without touching the code under test. Every other
 * path goes to the real fopen.
 */
FILE *__real_fopen(const char *path, const char *mode);

static const uint8_t *fuzz_proc_data;
static size_t fuzz_proc_len;
static const char *fuzz_proc_path; /* "/proc/kallsyms", or "maps" for any /proc/N/maps */

static inline void fuzz_proc_set(const char *which, const uint8_t *data, size_t len)
{
	fuzz_proc_path = which;
	fuzz_proc_data = data;
	fuzz_proc_len = len;
}

FILE *__wrap_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode)
{
	if (fuzz_proc_path) {
		size_t n = strlen(path);
		int hit = !strcmp(fuzz_proc_path, "maps")
				  ? !strncmp(path, "/proc/", 6) && n > 5 && !strcmp(path + n - 5, "/maps")
				  : !strcmp(path, fuzz_proc_path);

		if (hit) {
			/* fmemopen of an empty buffer fails: serve a copy, with room for a NUL */
			char *copy = malloc(fuzz_proc_len + 1);
			FILE *f;

			if (!copy)
				return NULL;
			memcpy(copy, fuzz_proc_data, fuzz_proc_len);
			copy[fuzz_proc_len] = 0;
			f = fmemopen(NULL, fuzz_proc_len + 1, "w+");
			if (f) {
				fwrite(copy, 1, fuzz_proc_len, f);
				rewind(f);
			}
			free(copy);
			return f;
		}
	}
	return __real_fopen(path, mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* IOTRACE_FUZZ_H */
