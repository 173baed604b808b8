/* fuzz_parse.c - libFuzzer target: size and rate options (wl_parse_size, wl_parse_rate). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "workload.h"

/* A NUL-terminated copy of the input is parsed both ways; whatever is accepted is a
 * whole, non-zero number of bytes that fits in 63 bits (workload.h), and parsing never
 * reads past the string (ASan). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t v = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (wl_parse_size(s, &v) == 0 && (v == 0 || v >> 63))
		abort();
	v = 0;
	if (wl_parse_rate(s, &v) == 0 && (v == 0 || v >> 63))
		abort();
	free(s);
	return 0;
}
