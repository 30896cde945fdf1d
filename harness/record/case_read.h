/* case_read.h: reading one case object of results.json: its canonical match key, its
 * display label and its timed samples. Used by compare, history and the Google Benchmark
 * writer; the key and label follow the parameter table (core/params.def: MATTERS, LABEL,
 * LABEL_WHEN). */
#ifndef ATTN_CASE_READ_H
#define ATTN_CASE_READ_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define ATTN_CASE_KEY_MAX 1024

/* Canonical match key of a case object: "kernel=K;" then every params field sorted by
 * name, "name=value;" (numbers printed with %.17g). Independent of id and sweep name.
 * Returns 0, or -1 when the case has no kernel (out is then ""). */
int attn_case_key(const cJSON *c, char *out, size_t n);
/* Short stable name from kernel + params, fields at their default left out:
 * "flash_avx2/b:1/h:8/q:4096/k:4096/d:64/t:2/mask:none" (also the Google Benchmark name). */
void attn_case_label(const cJSON *c, char *out, size_t n);

/* Samples of a case in seconds (time_s.samples, else time_s.median as a single sample).
 * Returns a malloc'd array (caller frees) and sets *n; NULL with *n = 0 when none. */
double *attn_case_samples(const cJSON *c, int *n);

#endif
