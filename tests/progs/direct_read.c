/* direct_read.c - reads a file to the end opened O_DIRECT, and nothing else: a run whose file reads all bypass the page cache. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Usage: direct_read FILE BS    (BS: a multiple of 4096)
 * Prints `direct BYTES` (what its reads returned). Linked static (see the Makefile): a
 * dynamic program's loader reads its libraries' headers with read(2), buffered file
 * reads the test must not see, and a sanitizer's runtime reads /proc.
 */
int main(int argc, char **argv)
{
	unsigned long long bytes = 0;
	void *buf = NULL;
	size_t bs;
	ssize_t n;
	int fd;

	if (argc != 3 || !(bs = strtoul(argv[2], NULL, 0)) || bs % 4096) {
		fprintf(stderr, "usage: direct_read FILE BS (BS a multiple of 4096)\n");
		return 2;
	}
	/* O_DIRECT wants the buffer aligned to the device's logical block: a page is */
	if (posix_memalign(&buf, 4096, bs)) {
		fprintf(stderr, "direct_read: failed to allocate %zu bytes\n", bs);
		return 1;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "direct_read: failed to open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, bs)) > 0)
		bytes += (unsigned long long)n;
	if (n < 0) {
		fprintf(stderr, "direct_read: failed to read %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	free(buf);
	printf("direct %llu\n", bytes);
	return 0;
}
