/* wisdom.h: the tuned tunables of one CPU model, results/tuning/<cpu-slug>.json.
 *
 * `attnbench tune` measures each kernel's tunables (tile_q x tile_k) over a config's
 * shapes and keeps, per (kernel, shape class), the best median; `run` then uses those
 * values for cases that do not set them (unless --no-wisdom). The shape class of a case
 * is (head_dim, dtype, floor(log2(kv_len))): the tiles' working set grows with the head
 * dimension and the element width, and the key length decides how many key tiles a
 * query tile streams (1000 and 1500 keys share class 9; 4096 is class 12).
 *
 * The file is data: attn_wisdom_load refuses (with "FILE: where: what") anything that
 * is not exactly the schema below, and a file of another CPU model; `tune` merges its
 * findings into the existing file and writes it atomically.
 *
 *   { "schema": "attnbench-wisdom-1", "cpu_model": "...", "updated": "2026-12-05T08:00:00Z",
 *     "entries": [ { "kernel": "flash_avx2", "head_dim": 64, "dtype": "f32", "len_log2": 12,
 *                    "tile_q": 64, "tile_k": 128,             the best
 *                    "median_s": ..., "gflops": ...,          its time (geometric mean
 *                                                              over the class's shapes)
 *                    "default_tile_q": 64, "default_tile_k": 64, "default_median_s": ...,
 *                                                  (the cache-derived default; 0 s: not measured)
 *                    "points": 16,                            tile settings measured
 *                    "date": "2026-12-05T08:00:00Z" } ] }
 */
#ifndef ATTN_WISDOM_H
#define ATTN_WISDOM_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "core/case.h"

#define ATTN_WISDOM_SCHEMA "attnbench-wisdom-1"
#define ATTN_WISDOM_MAX_ENTRIES 10000

typedef struct {
    char kernel[64];
    int head_dim, len_log2;             /* the shape class, with dtype */
    attn_dtype dtype;
    int tune[ATTN_TUNE_COUNT];          /* the best values */
    double median_s, gflops;
    int default_tune[ATTN_TUNE_COUNT];  /* the kernel's cache-derived default, and its time */
    double default_median_s;
    int points;
    char date[32];
} attn_wisdom_entry;

typedef struct {
    char cpu_model[256];
    char updated[32];
    char hash[17];                      /* FNV-1a 64 of the file's bytes, hex ("" if new) */
    attn_wisdom_entry *e;
    int n;
} attn_wisdom;

/* The directory of wisdom files: $ATTN_TUNING_DIR, else "results/tuning". */
const char *attn_wisdom_root(void);
/* root/<slug of this CPU's model>.json. */
void attn_wisdom_default_path(char *out, size_t n);

/* The shape class of a case. */
void attn_wisdom_class(const attn_case *c, int *head_dim, attn_dtype *dtype, int *len_log2);

/* Read path into w (zeroed first). 0 read; 1 no such file (w empty); -1 refused, with
 * "PATH: where: what" in err. */
int attn_wisdom_load(const char *path, attn_wisdom *w, char *err, size_t errlen);
/* Add e, replacing an entry of the same kernel and class. 0, or -1 out of memory. */
int attn_wisdom_put(attn_wisdom *w, const attn_wisdom_entry *e);
/* The entry for c's kernel and shape class, or NULL. */
const attn_wisdom_entry *attn_wisdom_find(const attn_wisdom *w, const attn_case *c);
/* Write w to path atomically (directories created). 0, or -1 after a message. */
int attn_wisdom_save(const char *path, const attn_wisdom *w);
void attn_wisdom_free(attn_wisdom *w);

#endif
