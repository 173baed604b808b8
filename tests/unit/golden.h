/* golden.h - the unit tests' golden files: an output compared with its golden, or recorded. */
#ifndef IOTRACE_TEST_GOLDEN_H
#define IOTRACE_TEST_GOLDEN_H

/* included after <cmocka.h> (and its prerequisites), <stdio.h>, <stdlib.h>, <string.h> */

/* The whole file at path, NUL-terminated, its length in *len; NULL if it can't be opened. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* path holds exactly buf's len bytes. */
static void spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * buf is byte for byte the golden dir/name; with IOTRACE_RECORD_GOLDENS set (not "0"),
 * buf becomes it (scripts/record-goldens.sh). A difference leaves the output in
 * /tmp/iotrace-actual-NAME for a diff.
 */
static void golden_check(const char *dir, const char *name, const char *buf, size_t len)
{
	const char *rec = getenv("IOTRACE_RECORD_GOLDENS");
	char path[4096 + 256], actual[512];
	size_t glen = 0;
	char *g;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rec && *rec && strcmp(rec, "0")) {
		spit(path, buf, len);
		fprintf(stderr, "recorded %s\n", path);
		return;
	}
	g = slurp(path, &glen);
	if (!g)
		fail_msg("missing golden %s (run from the repo root; record with "
			 "scripts/record-goldens.sh)",
			 path);
	if (glen != len || memcmp(g, buf, len)) {
		snprintf(actual, sizeof(actual), "/tmp/iotrace-actual-%s", name);
		spit(actual, buf, len);
		free(g);
		fail_msg("%s differs from the output: diff -u %s %s (re-record with "
			 "scripts/record-goldens.sh if the change is intended)",
			 path, path, actual);
	}
	free(g);
}

#endif /* IOTRACE_TEST_GOLDEN_H */
