/* rp_json.h - JSON writing shared by the JSON renderers, and the summary.json loader (reports/). */
#ifndef IOTRACE_RP_JSON_H
#define IOTRACE_RP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/analysis.h"

/*
 * A tiny streaming writer: the renderers decide the key order, the writer only places
 * separators and indentation, so the same model always gives the same bytes. A container
 * opened "flat" prints on one line ({"a": 1, "b": 2}); others put one member per line,
 * indented by two spaces. Reals print as %.6f (shares, ratios) and a non-finite real as
 * null, so a value read back prints again identically.
 */
#define RP_JW_MAXDEPTH 32

struct rp_jw {
	FILE *f;
	int depth;
	bool first[RP_JW_MAXDEPTH];	/* nothing written yet at this level */
	bool flat[RP_JW_MAXDEPTH];
	bool after_key;
};

void rp_jw_init(struct rp_jw *w, FILE *f);
void rp_jw_key(struct rp_jw *w, const char *key);
void rp_jw_obj(struct rp_jw *w, bool flat);
void rp_jw_obj_end(struct rp_jw *w);
void rp_jw_arr(struct rp_jw *w, bool flat);
void rp_jw_arr_end(struct rp_jw *w);
void rp_jw_str(struct rp_jw *w, const char *s);	/* NULL -> null */
void rp_jw_u64(struct rp_jw *w, uint64_t v);
void rp_jw_i64(struct rp_jw *w, int64_t v);
void rp_jw_real(struct rp_jw *w, double v);	/* %.6f, null when not finite */
void rp_jw_null(struct rp_jw *w);
void rp_jw_bool(struct rp_jw *w, bool v);
/* Ends the document with a newline; 0 or -errno if anything failed to write. */
int rp_jw_finish(struct rp_jw *w);

/*
 * s as a quoted JSON string: quotes, backslash and control characters escaped; <, >, &
 * and U+2028/U+2029 as \u escapes (safe inside HTML <script> and JavaScript); valid UTF-8
 * kept as is; every byte that is not valid UTF-8, and U+FFFD itself, written as \ufffd.
 * The loader turns each U+FFFD back into one 0xff byte, so a string that went through
 * JSON once prints again with the same bytes and never grows (comm stays 15 bytes).
 */
void rp_json_string(FILE *f, const char *s);

#define RP_SUMMARY_SCHEMA_PREFIX "iotrace.summary/"
#define RP_SUMMARY_SCHEMA_VERSION 1
#define RP_SUMMARY_SCHEMA RP_SUMMARY_SCHEMA_PREFIX "1"

/* Read OUTDIR's summary.json (path given) into r (zeroed first; reports/load_summary.c).
 * -errno, message in err. */
int rp_summary_load(const char *path, struct an_report *r, char *err, size_t errlen);

#endif /* IOTRACE_RP_JSON_H */
