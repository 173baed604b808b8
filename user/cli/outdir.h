/* outdir.h - choosing the report folder: -o as given, or the next free ./iotrace-out/run-N. */
#ifndef IOTRACE_OUTDIR_H
#define IOTRACE_OUTDIR_H

#include <stddef.h>

/* Pick the folder to write (not created, except ./iotrace-out itself). 0 or -errno. */
int od_pick(const char *given, char *out, size_t len);

#endif /* IOTRACE_OUTDIR_H */
