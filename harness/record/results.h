/* results.h: results.json and results.csv, written as cases finish.
 *
 * After every case both files are rewritten whole to a temporary name and renamed into
 * place, so an interrupted sweep always leaves complete, parseable files holding every
 * finished case. --resume reloads results.json and skips the ids it already holds.
 */
#ifndef ATTN_RESULTS_H
#define ATTN_RESULTS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "core/case.h"
#include "core/runner.h"

typedef struct attn_results attn_results;

/* Open DIR (created if missing). With resume, existing cases are kept; without it, a DIR
 * that already holds results.json is refused (returns NULL after an error message).
 * context is adopted (owned by the results). gbench: also write results.gbench.json. */
attn_results *attn_results_open(const char *dir, cJSON *context, int resume, int gbench);
int attn_results_has(const attn_results *r, const char *case_id);
/* Append one case and rewrite the files. Returns 0, -1 on I/O error (message printed). */
int attn_results_add(attn_results *r, const attn_case *c, const attn_result *res);
void attn_results_close(attn_results *r);

/* Write a whole results document into DIR: results.json, results.csv and (gbench) results.gbench.json,
 * each atomically. Used by the writer above and by `merge`. 0, or -1 (message printed). */
int attn_results_write_doc(const char *dir, const cJSON *doc, int gbench);

/* The JSON object of one case as in docs/design.md (used by the writer and by tests). */
cJSON *attn_case_json(const attn_case *c, const attn_result *res);
/* Its "params" object alone (also the core of a dump's case.json). */
cJSON *attn_params_json(const attn_case *c);
/* The case's "tunables" object: the values used (never 0) and "from" (config, wisdom,
 * default); for a case whose tune_from is not TUNE_NONE. */
cJSON *attn_tunables_json(const attn_case *c);

/* jsonio.c ---------------------------------------------------------------------- */
/* The most a file read by attn_read_file may hold (results files: 100k cases with their
 * samples fit many times over). */
#define ATTN_MAX_FILE_BYTES ((long long)1 << 30)
/* Write a string to path atomically (temp file + rename). 0 or -1 (errno set). */
int attn_write_file_atomic(const char *path, const char *data, size_t len);
/* The same for n (<= 8) files at once: all are written to temporary names first, then
 * renamed; on any error none is replaced. Either all or none (short of a power cut). */
int attn_write_files_atomic(int n, const char *const *paths, const char *const *data, const size_t *lens);
/* Whole file as a NUL-terminated malloc'd string (NULL, errno set, on failure). */
char *attn_read_file(const char *path, size_t *len);
/* Load a results.json, given the file or its directory. NULL with a message in err when
 * the file is missing, not JSON, or has no "cases" array. */
cJSON *attn_results_load(const char *path, char *err, size_t errlen);

/* Most cases a results file may hold (attn_results_check): ten times a config's cap. */
#define ATTN_MAX_RESULT_CASES 1000000
#define ATTN_STR_(x) #x
#define ATTN_STR(x) ATTN_STR_(x)
/* schema.c: check what readers rely on (types and ranges of the fields present; kernel,
 * status and params required of every case). 0, or -1 with "FILE: case N (id): field
 * F: what was expected" in err. attn_results_load calls it. */
int attn_results_check(const cJSON *doc, const char *file, char *err, size_t errlen);

#endif
