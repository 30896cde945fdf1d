/* config_parse.h: what the three files of the config loader share (not a public header).
 *
 *   config_read.c   the file, inih's line reader with line numbers, the key table,
 *                   "FILE:LINE: message" errors with "did you mean" hints
 *   config_value.c  one key's value text -> checked values (lists, ranges, enums)
 *   config.c        sections -> cases: defaults, cross-key checks, the product
 *
 * The case-parameter keys come from the table in core/params.def: key K_PARAM + p is the
 * config key of row p. name, kernels, the `window` shorthand and the run settings are the
 * config's own keys.
 */
#ifndef ATTN_CONFIG_PARSE_H
#define ATTN_CONFIG_PARSE_H

#include <stddef.h>
#include "core/config.h"
#include "core/peer.h"
#include "core/params.h"

#define MAX_FILE_BYTES  (1 << 20)
#define MAX_LIST        4096        /* values one key may expand to */
#define MAX_CASES       100000      /* cases one file may expand to */
#define MAX_SWEEP_NAME  48          /* inih truncates section names at 49 characters */

typedef enum {
    V_NAME,     /* one sweep name */
    V_KERNELS,  /* kernel names or '*' */
    V_SIZE,     /* integer list, each >= 1 */
    V_COUNT,    /* integer list, each >= 0 */
    V_SIDE,     /* integer list, each >= 0 or unbounded (-1, inf, none) -> -1 */
    V_ENUM,     /* names of an enum row of the parameter table */
    V_FRACTION, /* real list in [0, 1] */
    V_SECONDS0, /* one real >= 0 */
    V_SECONDS,  /* one real > 0 */
    V_TOL,      /* one real >= 0 */
    V_REPS,     /* one integer >= 1 */
    V_SEED,     /* one unsigned 64-bit integer */
    V_UNSUPPORTED, /* skip | omit */
    V_TILE,     /* tile_q x tile_k pairs: "64x64, 64x128" (iv holds q, k, q, k, ...) */
} vkind;

typedef enum {
    K_NAME, K_KERNELS,
    K_PARAM,                                /* K_PARAM + p: the key of table row p */
    K_WINDOW = K_PARAM + ATTN_N_PARAMS,     /* shorthand: both window sides */
    K_TILE,                                 /* shorthand: tile_q x tile_k pairs */
    K_MIN_TIME, K_REPS, K_ROUNDS, K_TIMEOUT, K_ATOL, K_RTOL, K_SEED, K_UNSUPPORTED,
    K_COUNT
} key_id;

/* Rank of the `window` shorthand in the product: after pad, before window_left. */
#define WINDOW_PRODUCT 9
/* Rank of the `tile` shorthand: after dtype, before tile_q and tile_k. */
#define TILE_PRODUCT 17

const char *cfg_key_name(int k);
vkind cfg_key_kind(int k);
/* The keys in the order error messages list them (name, kernels, the product's keys
 * outermost first, the run settings); returns K_COUNT. */
int cfg_key_order(int *order);
/* The product's keys (rows and the window shorthand), outermost first; returns the count. */
int cfg_dims(int *dims);

/* One key's values in one section. Integers and enums use iv, reals dv, kernels kp. */
typedef struct {
    int line;                   /* 0: key absent */
    int n;                      /* values (V_TILE: pairs) */
    long *iv;
    double *dv;
    const attn_kernel **kp;
    int all_kernels;            /* kernels = * */
    unsigned long long seed;
    char text[64];              /* name */
} keyval;

typedef struct {
    char name[64];              /* header text; the `name` key overrides it */
    int line;
    keyval kv[K_COUNT];
} section;

typedef struct {
    const char *path;
    char *buf;
    size_t len, pos;
    int line;                   /* line number of the last line handed to inih */
    section *secs;
    int nsec, cap;
    int err;                    /* an error has been printed; everything else is ignored */
} parser;

/* Print "FILE:LINE: message" (or "FILE: message" when line is 0), the first error only. */
void cfg_fail(parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* " (did you mean 'x'?)" or "" into buf. */
const char *cfg_suggest(char *buf, size_t size, const char *word, const char *const *cands, int n);
/* "a, b, c" into buf. */
const char *cfg_join(char *buf, size_t size, const char *const *items, int n);
/* Names of the registered kernels, in registry order. */
const char *const *cfg_kernel_names(int *n);
char *cfg_trim(char *s);
/* Letters, digits, '_', '-', '.': the sweep name becomes part of case ids and paths. */
int cfg_bad_name(const char *s);

/* Parse the value of key k (config_value.c). 0, or -1 after cfg_fail. */
int cfg_parse_value(parser *p, int line, int k, const char *value, keyval *kv);

/* Read p->path and parse every section and key into p (config_read.c). 0 or -1. */
int cfg_read(parser *p);
void cfg_free(parser *p);

#endif
