/* config.c: INI sweep files -> the list of cases (DESIGN.md "Config format").
 *
 * Three passes, and nothing runs unless all three succeed:
 *   1. read   the whole file into memory; inih's ini_parse_stream() pulls it a line at a
 *             time through our reader, which counts lines (the library is built without
 *             line numbers in the handler), refuses lines longer than inih's buffer
 *             (they would be split and mis-parsed), strips leading blanks (so inih never
 *             takes an indented line for a multi-line continuation) and records every
 *             [section] header with its line, including sections that hold no keys.
 *   2. parse  each key as it arrives: known key, not repeated, every value valid.
 *   3. expand each section: defaults, cross-key checks (H % Hkv, globals <= kv_len),
 *             the --kernels filter, then the Cartesian product, shape-major and
 *             kernel-minor.
 * The first error is printed as "FILE:LINE: message" (or "FILE: message" when it has
 * no line) and the load returns -1.
 *
 * Product order, outermost first: batch, heads, kv_heads, head_dim, v_dim, seq_len,
 * kv_len, mask, pad, window, window_left, window_right, globals, score, additive_dim,
 * threads, and innermost the kernels. A value that cannot change the case is not
 * multiplied in: pad only matters for padding masks, additive_dim only for additive
 * scores, window only for a side that window_left/window_right does not override; the
 * case then carries the key's first value. With `unsupported = omit` a kernel is not
 * given the cases it lacks a capability for (default `skip`: the runner records them as
 * skipped with the reason, which shows the capability matrix).
 *
 * Every case's `file` points at one copy of the path stored after the case array in the
 * same allocation, so attn_caselist_free() frees both.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "util/util.h"
#include "core/config.h"

#define MAX_FILE_BYTES  (1 << 20)
#define MAX_LIST        4096        /* values one key may expand to */
#define MAX_CASES       100000      /* cases one file may expand to */
#define MAX_SIZE        (1 << 30)   /* largest size value, keeps products in range */
#define MAX_SWEEP_NAME  48          /* inih truncates section names at 49 characters */

/* ------------------------------------------------------------------ keys -- */

typedef enum {
    V_NAME,     /* one sweep name */
    V_KERNELS,  /* kernel names or '*' */
    V_SIZE,     /* integer list, each >= 1 */
    V_COUNT,    /* integer list, each >= 0 */
    V_SIDE,     /* integer list, each >= 0 or unbounded (-1, inf, none) -> -1 */
    V_MASK,     /* mask names */
    V_SCORE,    /* score names */
    V_FRACTION, /* real list in [0, 1] */
    V_SECONDS0, /* one real >= 0 */
    V_SECONDS,  /* one real > 0 */
    V_TOL,      /* one real >= 0 */
    V_REPS,     /* one integer >= 1 */
    V_SEED,     /* one unsigned 64-bit integer */
    V_UNSUPPORTED, /* skip | omit */
} vkind;

/* The order of this table is the product order (see the top of the file). */
typedef enum {
    K_NAME, K_KERNELS,
    K_BATCH, K_HEADS, K_KV_HEADS, K_HEAD_DIM, K_V_DIM, K_SEQ_LEN, K_KV_LEN,
    K_MASK, K_PAD, K_WINDOW, K_WINDOW_LEFT, K_WINDOW_RIGHT, K_GLOBALS, K_SCORE,
    K_ADDITIVE_DIM, K_THREADS,
    K_MIN_TIME, K_REPS, K_ROUNDS, K_TIMEOUT, K_ATOL, K_RTOL, K_SEED, K_UNSUPPORTED,
    K_COUNT
} key_id;

#define K_FIRST_DIM K_BATCH
#define K_LAST_DIM  K_THREADS

static const struct { const char *name; vkind kind; } keys[K_COUNT] = {
    [K_NAME]         = { "name",         V_NAME },
    [K_KERNELS]      = { "kernels",      V_KERNELS },
    [K_BATCH]        = { "batch",        V_SIZE },
    [K_HEADS]        = { "heads",        V_SIZE },
    [K_KV_HEADS]     = { "kv_heads",     V_SIZE },
    [K_HEAD_DIM]     = { "head_dim",     V_SIZE },
    [K_V_DIM]        = { "v_dim",        V_SIZE },
    [K_SEQ_LEN]      = { "seq_len",      V_SIZE },
    [K_KV_LEN]       = { "kv_len",       V_SIZE },
    [K_MASK]         = { "mask",         V_MASK },
    [K_PAD]          = { "pad",          V_FRACTION },
    [K_WINDOW]       = { "window",       V_COUNT },
    [K_WINDOW_LEFT]  = { "window_left",  V_SIDE },
    [K_WINDOW_RIGHT] = { "window_right", V_SIDE },
    [K_GLOBALS]      = { "globals",      V_COUNT },
    [K_SCORE]        = { "score",        V_SCORE },
    [K_ADDITIVE_DIM] = { "additive_dim", V_SIZE },
    [K_THREADS]      = { "threads",      V_SIZE },
    [K_MIN_TIME]     = { "min_time",     V_SECONDS0 },
    [K_REPS]         = { "reps",         V_REPS },
    [K_ROUNDS]       = { "rounds",       V_REPS },
    [K_TIMEOUT]      = { "timeout",      V_SECONDS },
    [K_ATOL]         = { "atol",         V_TOL },
    [K_RTOL]         = { "rtol",         V_TOL },
    [K_SEED]         = { "seed",         V_SEED },
    [K_UNSUPPORTED]  = { "unsupported",  V_UNSUPPORTED },
};

/* Defaults of the keys a section may leave out. kernels is required. kv_heads, v_dim
 * and kv_len follow heads, head_dim and seq_len case by case; mask none, window 0 (full),
 * globals 0, score dot, threads 1. The size defaults below let a section name only what
 * it sweeps; DESIGN.md gives no defaults for them. */
#define DEF_BATCH     1
#define DEF_HEADS     1
#define DEF_HEAD_DIM  64
#define DEF_SEQ_LEN   256
#define DEF_PAD       0.25
#define DEF_ADDITIVE  64
#define DEF_MIN_TIME  0.2
#define DEF_REPS      5
#define DEF_TIMEOUT   300.0
#define DEF_ATOL      NAN       /* unset: the kernel's declared tolerance (core/tolerance.h) */
#define DEF_RTOL      NAN
#define DEF_SEED      42

/* One key's values in one section. Integers and enums use iv, reals dv, kernels kp. */
typedef struct {
    int line;                   /* 0: key absent */
    int n;
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

/* ---------------------------------------------------------------- errors -- */

static void fail(parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(parser *p, int line, const char *fmt, ...)
{
    if (p->err) return;         /* only the first error: later ones may be its echoes */
    p->err = 1;
    va_list ap;
    va_start(ap, fmt);
    if (line > 0) fprintf(stderr, "%s:%d: ", p->path, line);
    else          fprintf(stderr, "%s: ", p->path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Optimal-string-alignment distance (edits, with adjacent swaps counting one),
 * case-insensitive; words are cut at 63 characters. */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb;
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The candidate closest to word, or NULL when none is close enough to be a typo
 * (at most 2 edits, or a third of the word's length for long words). */
static const char *closest(const char *word, const char *const *cands, int n)
{
    const char *best = NULL;
    int bestd = INT_MAX;
    int limit = (int)strlen(word) / 3;
    if (limit < 2) limit = 2;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < bestd) { bestd = d; best = cands[i]; }
    }
    return bestd <= limit ? best : NULL;
}

/* " (did you mean 'x'?)" or "" into buf. */
static const char *suggest(char *buf, size_t size, const char *word, const char *const *cands, int n)
{
    const char *c = closest(word, cands, n);
    if (c) snprintf(buf, size, " (did you mean '%s'?)", c);
    else buf[0] = '\0';
    return buf;
}

/* "a, b, c" into buf. */
static const char *join(char *buf, size_t size, const char *const *items, int n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", items[i]);
    return buf;
}

/* Names of the registered kernels, in registry order. The array is static: the
 * registry is fixed at build time. */
static const char *const *kernel_names(int *n)
{
    static const char *names[256];
    int count;
    const attn_kernel *ks = attn_kernels(&count);
    if (count > 256) count = 256;
    for (int i = 0; i < count; i++) names[i] = ks[i].name;
    *n = count;
    return names;
}

/* --------------------------------------------------------- value parsing -- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* A whole decimal integer token. */
static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE) return -1;
    *out = v;
    return 0;
}

/* Split value on commas into trimmed, non-empty items. Returns the item count, or -1
 * after reporting an empty list or an empty item. The items point into buf. */
static int split_list(parser *p, int line, const char *key, const char *value,
                      char *buf, size_t size, char **items, int max)
{
    snprintf(buf, size, "%s", value);
    if (*trim(buf) == '\0') {
        fail(p, line, "%s: empty value (give at least one)", key);
        return -1;
    }
    int n = 0;
    char *s = buf;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        char *item = trim(s);
        if (*item == '\0') {
            fail(p, line, "%s: empty item in the list '%s'", key, value);
            return -1;
        }
        if (n == max) {
            fail(p, line, "%s: more than %d items", key, max);
            return -1;
        }
        items[n++] = item;
        if (!comma) break;
        s = comma + 1;
    }
    return n;
}

static int push_long(parser *p, int line, const char *key, keyval *kv, long v)
{
    if (kv->n == MAX_LIST) {
        fail(p, line, "%s: the list expands to more than %d values", key, MAX_LIST);
        return -1;
    }
    for (int i = 0; i < kv->n; i++)
        if (kv->iv[i] == v) {
            fail(p, line, "%s: the value %ld appears twice", key, v);
            return -1;
        }
    kv->iv[kv->n++] = v;
    return 0;
}

/* One integer of a V_SIZE / V_COUNT / V_SIDE list, range-checked. */
static int check_int(parser *p, int line, const char *key, vkind kind, const char *tok, long v)
{
    long lo = kind == V_SIZE ? 1 : 0;
    if (kind == V_SIDE && v == -1) return 0;
    if (v < lo) {
        const char *what = kind == V_SIZE ? "a positive integer"
                         : kind == V_COUNT ? "an integer >= 0"
                         : "an integer >= 0, or -1, inf or none for unbounded";
        fail(p, line, "%s: '%s' is not valid: must be %s", key, tok, what);
        return -1;
    }
    if (v > MAX_SIZE) {
        fail(p, line, "%s: '%s' is too large (at most %d)", key, tok, MAX_SIZE);
        return -1;
    }
    return 0;
}

/* Integer list: items "7", "256..8192*2" (geometric), "1..32+4" or "1..8" (arithmetic),
 * and for V_SIDE also "inf" / "none" (= -1). Ranges include end when they reach it. */
static int parse_ints(parser *p, int line, const char *key, vkind kind, const char *value, keyval *kv)
{
    char buf[256], *items[128];
    int n = split_list(p, line, key, value, buf, sizeof buf, items, 128);
    if (n < 0) return -1;
    kv->iv = malloc(MAX_LIST * sizeof *kv->iv);
    if (!kv->iv) { fail(p, line, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        char *tok = items[i];
        long v;
        if (kind == V_SIDE && (!strcmp(tok, "inf") || !strcmp(tok, "none"))) {
            if (push_long(p, line, key, kv, -1)) return -1;
            continue;
        }
        char *dots = strstr(tok, "..");
        if (!dots) {
            if (parse_long(tok, &v)) {
                fail(p, line, "%s: '%s' is not an integer (lists look like '1, 2, 4', "
                     "ranges like '256..8192*2' or '1..32+1')%s", key, tok,
                     kind == V_SIDE ? "; -1, inf or none mean unbounded" : "");
                return -1;
            }
            if (check_int(p, line, key, kind, tok, v) || push_long(p, line, key, kv, v)) return -1;
            continue;
        }
        /* range: START..END, START..END*FACTOR or START..END+STEP */
        char a[64], b[64], *op;
        long start, end, step = 1;
        char mode = '+';
        snprintf(a, sizeof a, "%.*s", (int)(dots - tok), tok);
        snprintf(b, sizeof b, "%s", dots + 2);
        if ((op = strpbrk(b, "*+")) != NULL) {
            mode = *op;
            *op = '\0';
            if (parse_long(trim(op + 1), &step)) goto bad_range;
        }
        if (parse_long(trim(a), &start) || parse_long(trim(b), &end)) goto bad_range;
        if (check_int(p, line, key, kind, tok, start) || check_int(p, line, key, kind, tok, end))
            return -1;
        if (start < 0) {
            fail(p, line, "%s: range '%s' cannot start at -1 (write unbounded values alone)", key, tok);
            return -1;
        }
        if (start > end) {
            fail(p, line, "%s: range '%s' is empty (start > end)", key, tok);
            return -1;
        }
        if ((mode == '*' && (step < 2 || start == 0)) || (mode == '+' && step < 1)) {
            fail(p, line, "%s: range '%s' does not progress (%s)", key, tok,
                 mode == '*' ? (start == 0 ? "a geometric range cannot start at 0"
                                           : "the factor must be at least 2")
                             : "the step must be at least 1");
            return -1;
        }
        for (v = start; v <= end; v = mode == '*' ? v * step : v + step) {
            if (push_long(p, line, key, kv, v)) return -1;
            if ((mode == '*' && v > end / step) || (mode == '+' && v > end - step)) break;
        }
        continue;
    bad_range:
        fail(p, line, "%s: '%s' is not a range (write START..END, START..END*FACTOR or "
             "START..END+STEP, e.g. 256..8192*2)", key, tok);
        return -1;
    }
    return 0;
}

/* mask / score names. */
static int parse_enums(parser *p, int line, const char *key, vkind kind, const char *value, keyval *kv)
{
    char buf[256], *items[16], list[128], hint[96];
    const char *names[4];
    int nnames = kind == V_MASK ? 4 : 2;
    for (int i = 0; i < nnames; i++)
        names[i] = kind == V_MASK ? attn_mask_name((attn_mask)i) : attn_score_name((attn_score)i);
    int n = split_list(p, line, key, value, buf, sizeof buf, items, 16);
    if (n < 0) return -1;
    kv->iv = malloc(16 * sizeof *kv->iv);
    if (!kv->iv) { fail(p, line, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        int ok;
        long v;
        if (kind == V_MASK) { attn_mask m; ok = attn_mask_parse(items[i], &m) == 0; v = m; }
        else                { attn_score s; ok = attn_score_parse(items[i], &s) == 0; v = s; }
        if (!ok) {
            fail(p, line, "%s: '%s' is not one of %s%s", key, items[i],
                 join(list, sizeof list, names, nnames),
                 suggest(hint, sizeof hint, items[i], names, nnames));
            return -1;
        }
        if (push_long(p, line, key, kv, v)) return -1;
    }
    return 0;
}

static int parse_kernels(parser *p, int line, const char *value, keyval *kv)
{
    char buf[256], *items[128], list[2048], hint[96];
    int n = split_list(p, line, "kernels", value, buf, sizeof buf, items, 128);
    if (n < 0) return -1;
    if (n == 1 && !strcmp(items[0], "*")) {
        kv->all_kernels = 1;
        return 0;
    }
    kv->kp = malloc((size_t)n * sizeof *kv->kp);
    if (!kv->kp) { fail(p, line, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        const attn_kernel *k = attn_kernel_find(items[i]);
        if (!strcmp(items[i], "*")) {
            fail(p, line, "kernels: '*' (all kernels) cannot be combined with names");
            return -1;
        }
        if (!k) {
            int nk;
            const char *const *names = kernel_names(&nk);
            fail(p, line, "kernels: unknown kernel '%s'%s; kernels: %s", items[i],
                 suggest(hint, sizeof hint, items[i], names, nk), join(list, sizeof list, names, nk));
            return -1;
        }
        for (int j = 0; j < kv->n; j++)
            if (kv->kp[j] == k) {
                fail(p, line, "kernels: '%s' appears twice", items[i]);
                return -1;
            }
        kv->kp[kv->n++] = k;
    }
    return 0;
}

/* Letters, digits, '_', '-', '.': the sweep name becomes part of case ids and paths. */
static int bad_name(const char *s)
{
    if (!*s) return 1;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 1;
    return 0;
}

static int parse_value(parser *p, int line, key_id k, const char *value, keyval *kv)
{
    const char *key = keys[k].name;
    vkind kind = keys[k].kind;
    switch (kind) {
    case V_NAME: {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", value);
        char *s = trim(buf);
        if (bad_name(s) || strlen(s) > MAX_SWEEP_NAME) {
            fail(p, line, "name: '%s' is not valid: 1 to %d letters, digits, '_', '-' or '.' "
                 "(it becomes part of case ids and file names)", s, MAX_SWEEP_NAME);
            return -1;
        }
        snprintf(kv->text, sizeof kv->text, "%s", s);
        kv->n = 1;
        return 0;
    }
    case V_KERNELS:
        return parse_kernels(p, line, value, kv);
    case V_SIZE: case V_COUNT: case V_SIDE:
        return parse_ints(p, line, key, kind, value, kv);
    case V_MASK: case V_SCORE:
        return parse_enums(p, line, key, kind, value, kv);
    case V_FRACTION: {
        char buf[256], *items[64];
        int n = split_list(p, line, key, value, buf, sizeof buf, items, 64);
        if (n < 0) return -1;
        kv->dv = malloc((size_t)n * sizeof *kv->dv);
        if (!kv->dv) { fail(p, line, "out of memory"); return -1; }
        for (int i = 0; i < n; i++) {
            double v;
            if (attn_parse_double(items[i], &v) || v < 0 || v > 1) {
                fail(p, line, "%s: '%s' is not a fraction in [0, 1] (the share of keys the "
                     "last batch item loses to padding)", key, items[i]);
                return -1;
            }
            for (int j = 0; j < kv->n; j++)
                if (kv->dv[j] == v) {
                    fail(p, line, "%s: the value %s appears twice", key, items[i]);
                    return -1;
                }
            kv->dv[kv->n++] = v;
        }
        return 0;
    }
    default: break;
    }

    /* the run settings take one value */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    char *s = trim(buf);
    if (*s == '\0') { fail(p, line, "%s: empty value", key); return -1; }
    if (strchr(s, ',')) { fail(p, line, "%s: takes one value, not a list ('%s')", key, s); return -1; }
    kv->n = 1;
    if (kind == V_REPS) {
        long v;
        if (parse_long(s, &v) || v < 1 || v > 1000000) {
            fail(p, line, "%s: '%s' is not valid: must be an integer from 1 to 1000000", key, s);
            return -1;
        }
        kv->iv = malloc(sizeof *kv->iv);
        if (!kv->iv) { fail(p, line, "out of memory"); return -1; }
        kv->iv[0] = v;
        return 0;
    }
    if (kind == V_UNSUPPORTED) {
        if (strcmp(s, "skip") && strcmp(s, "omit")) {
            fail(p, line, "%s: '%s' is not one of skip (record the case as skipped), omit (do "
                 "not generate it)", key, s);
            return -1;
        }
        kv->iv = malloc(sizeof *kv->iv);
        if (!kv->iv) { fail(p, line, "out of memory"); return -1; }
        kv->iv[0] = !strcmp(s, "omit");
        return 0;
    }
    if (kind == V_SEED) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 0);
        if (*s == '-' || end == s || *end || errno == ERANGE) {
            fail(p, line, "%s: '%s' is not valid: must be an unsigned 64-bit integer", key, s);
            return -1;
        }
        kv->seed = v;
        return 0;
    }
    double v;
    int bad = attn_parse_double(s, &v) != 0;
    if (!bad) bad = kind == V_SECONDS ? !(v > 0) : !(v >= 0);
    if (bad) {
        fail(p, line, "%s: '%s' is not valid: must be a number %s", key, s,
             kind == V_SECONDS ? "> 0 (seconds)" : kind == V_SECONDS0 ? ">= 0 (seconds)" : ">= 0");
        return -1;
    }
    kv->dv = malloc(sizeof *kv->dv);
    if (!kv->dv) { fail(p, line, "out of memory"); return -1; }
    kv->dv[0] = v;
    return 0;
}

/* ------------------------------------------------------- inih callbacks -- */

/* The first of chars in s before an inline comment (';' after a blank), as inih
 * scans, or NULL. */
static const char *str_before_comment(const char *s, const char *chars)
{
    int was_space = 0;
    for (; *s; s++) {
        if (strchr(chars, *s)) return s;
        if (was_space && *s == ';') return NULL;
        was_space = isspace((unsigned char)*s);
    }
    return NULL;
}

/* fgets-style: hand inih the next line (without its newline) and count it. */
static char *reader(char *str, int num, void *stream)
{
    parser *p = stream;
    if (p->err || p->pos >= p->len) return NULL;
    const char *s = p->buf + p->pos;
    const char *nl = memchr(s, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
    p->pos += n + (nl != NULL);
    p->line++;
    if (n > 0 && s[n - 1] == '\r') n--;
    if (n > (size_t)num - 1) {
        fail(p, p->line, "line is longer than %d characters (%zu); shorten it or split the "
             "sweep into sections", num - 1, n);
        return NULL;
    }
    if (memchr(s, '\0', n)) {
        fail(p, p->line, "line contains a NUL byte");
        return NULL;
    }
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    memcpy(str, s, n);
    str[n] = '\0';

    if (n == 0 || str[0] == ';' || str[0] == '#') return str;
    if (str[0] != '[') {
        if (!str_before_comment(str, "=:")) {
            fail(p, p->line, "syntax error: expected '[section]', 'key = value' or a comment (; or #)");
            return NULL;
        }
        return str;
    }
    {
        const char *close = str_before_comment(str + 1, "]");
        if (!close) {
            fail(p, p->line, "syntax error: section header without a closing ']'");
            return NULL;
        }
        size_t len = (size_t)(close - str - 1);
        if (p->nsec == p->cap) {
            int cap = p->cap ? 2 * p->cap : 8;
            section *ns = realloc(p->secs, (size_t)cap * sizeof *ns);
            if (!ns) { fail(p, p->line, "out of memory"); return NULL; }
            p->secs = ns;
            p->cap = cap;
        }
        section *sec = &p->secs[p->nsec++];
        memset(sec, 0, sizeof *sec);
        sec->line = p->line;
        snprintf(sec->name, sizeof sec->name, "%.*s", (int)(len < 63 ? len : 63), str + 1);
        if (len > MAX_SWEEP_NAME) {
            fail(p, p->line, "section name is longer than %d characters", MAX_SWEEP_NAME);
            return NULL;
        }
    }
    return str;
}

static int handler(void *user, const char *section_name, const char *name, const char *value)
{
    parser *p = user;
    int line = p->line;
    if (p->err) return 0;
    if (p->nsec == 0) {
        fail(p, line, "key '%s' is outside any section (start the file with a [sweep] header)", name);
        return 0;
    }
    section *sec = &p->secs[p->nsec - 1];
    if (strcmp(section_name, sec->name) != 0) {
        /* cannot happen unless inih reads headers differently from reader() */
        fail(p, line, "internal: section '%s' != '%s'", section_name, sec->name);
        return 0;
    }
    int k;
    for (k = 0; k < K_COUNT; k++)
        if (!strcmp(name, keys[k].name)) break;
    if (k == K_COUNT) {
        const char *names[K_COUNT];
        char list[512], hint[96];
        for (int i = 0; i < K_COUNT; i++) names[i] = keys[i].name;
        fail(p, line, "unknown key '%s'%s; valid keys: %s", name,
             suggest(hint, sizeof hint, name, names, K_COUNT), join(list, sizeof list, names, K_COUNT));
        return 0;
    }
    keyval *kv = &sec->kv[k];
    if (kv->line) {
        fail(p, line, "duplicate key '%s' in section [%s] (first set at line %d)",
             name, sec->name, kv->line);
        return 0;
    }
    kv->line = line;
    return parse_value(p, line, (key_id)k, value, kv) == 0;
}

/* Why inih rejected line `line` (it reports only the number). */
static void syntax_error(parser *p, int line)
{
    const char *s = p->buf;
    for (int l = 1; l < line && s; l++) {
        s = memchr(s, '\n', p->len - (size_t)(s - p->buf));
        if (s) s++;
    }
    while (s && (*s == ' ' || *s == '\t')) s++;
    if (s && *s == '[')
        fail(p, line, "syntax error: section header without a closing ']'");
    else
        fail(p, line, "syntax error: expected '[section]', 'key = value' or a comment (; or #)");
}

/* ------------------------------------------------------------- expansion -- */

static int sweep_name_line(const section *sec)
{
    return sec->kv[K_NAME].line ? sec->kv[K_NAME].line : sec->line;
}

static const char *sweep_name(const section *sec)
{
    return sec->kv[K_NAME].line ? sec->kv[K_NAME].text : sec->name;
}

/* Number of values of key k in the product; keys that follow another key count 1. */
static int dim_count(const section *sec, int k)
{
    return sec->kv[k].line ? sec->kv[k].n : 1;
}

static long int_at(const section *sec, int k, int i, long def)
{
    return sec->kv[k].line ? sec->kv[k].iv[i] : def;
}

/* Cross-key checks over every combination that the product will form. */
static int check_section(parser *p, const section *sec)
{
    const keyval *kv = sec->kv;
    if (!kv[K_KERNELS].line) {
        fail(p, sec->line, "section [%s] has no 'kernels' key (list kernel names, or * for all)",
             sec->name);
        return -1;
    }
    if (bad_name(sec->name) && !kv[K_NAME].line) {
        fail(p, sec->line, "section name '%s' is not valid: letters, digits, '_', '-' or '.' "
             "(it becomes part of case ids and file names; or set a `name` key)", sec->name);
        return -1;
    }
    if (kv[K_KV_HEADS].line)
        for (int i = 0; i < dim_count(sec, K_HEADS); i++)
            for (int j = 0; j < kv[K_KV_HEADS].n; j++) {
                long h = int_at(sec, K_HEADS, i, DEF_HEADS), hkv = kv[K_KV_HEADS].iv[j];
                if (h % hkv != 0) {
                    fail(p, kv[K_KV_HEADS].line, "kv_heads %ld does not divide heads %ld "
                         "(each key/value head serves heads/kv_heads query heads)", hkv, h);
                    return -1;
                }
            }
    if (kv[K_GLOBALS].line) {
        int lk = kv[K_KV_LEN].line ? K_KV_LEN : K_SEQ_LEN;
        for (int i = 0; i < kv[K_GLOBALS].n; i++)
            for (int j = 0; j < dim_count(sec, lk); j++) {
                long g = kv[K_GLOBALS].iv[i], l = int_at(sec, lk, j, DEF_SEQ_LEN);
                if (g > l) {
                    fail(p, kv[K_GLOBALS].line, "globals %ld is more than the %ld keys "
                         "(kv_len %ld): global tokens are key positions", g, l, l);
                    return -1;
                }
            }
    }
    return 0;
}

/* Parse the --kernels filter into a list of kernels. */
static int parse_filter(parser *p, const char *filter, const attn_kernel **out, int max)
{
    char buf[1024], list[2048], hint[96];
    snprintf(buf, sizeof buf, "%s", filter);
    int n = 0;
    char *s = buf;
    int nk;
    const char *const *names = kernel_names(&nk);
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        char *item = trim(s);
        if (*item == '\0' || n == max || n == 256) {
            fprintf(stderr, "--kernels: %s in '%s'\n", *item ? "too many names" : "empty item", filter);
            p->err = 1;
            return -1;
        }
        out[n] = attn_kernel_find(item);
        if (!out[n]) {
            fprintf(stderr, "--kernels: unknown kernel '%s'%s; kernels: %s\n", item,
                    suggest(hint, sizeof hint, item, names, nk), join(list, sizeof list, names, nk));
            p->err = 1;
            return -1;
        }
        n++;
        if (!comma) break;
        s = comma + 1;
    }
    return n;
}

typedef struct {
    attn_case *v;
    int n, cap;
} case_vec;

/* Append every case of one section: the product over K_FIRST_DIM..K_LAST_DIM, then the
 * kernels. kernels/nk is the section's kernel list after the filter. */
static int expand_section(parser *p, const section *sec, const attn_kernel *const *kernels,
                          int nk, case_vec *out)
{
    const keyval *kv = sec->kv;
    int count[K_COUNT], idx[K_COUNT];
    double total = nk;
    for (int k = K_FIRST_DIM; k <= K_LAST_DIM; k++) {
        count[k] = dim_count(sec, k);
        idx[k] = 0;
        total *= count[k];
    }
    if (total + out->n > MAX_CASES) {
        fail(p, sec->line, "section [%s] expands to %.0f cases (at most %d per file); "
             "split it", sec->name, total, MAX_CASES);
        return -1;
    }
    attn_case base;
    memset(&base, 0, sizeof base);
    snprintf(base.sweep, sizeof base.sweep, "%s", sweep_name(sec));
    base.min_time = kv[K_MIN_TIME].line ? kv[K_MIN_TIME].dv[0] : DEF_MIN_TIME;
    base.reps = kv[K_REPS].line ? (int)kv[K_REPS].iv[0] : DEF_REPS;
    base.rounds = kv[K_ROUNDS].line ? (int)kv[K_ROUNDS].iv[0] : 1;
    base.timeout = kv[K_TIMEOUT].line ? kv[K_TIMEOUT].dv[0] : DEF_TIMEOUT;
    base.atol = kv[K_ATOL].line ? kv[K_ATOL].dv[0] : DEF_ATOL;
    base.rtol = kv[K_RTOL].line ? kv[K_RTOL].dv[0] : DEF_RTOL;
    base.seed = kv[K_SEED].line ? kv[K_SEED].seed : DEF_SEED;
    base.omit_unsupported = kv[K_UNSUPPORTED].line ? (int)kv[K_UNSUPPORTED].iv[0] : 0;
    base.file = p->path;        /* replaced by the caselist's own copy at the end */
    base.line = sec->line;

    for (;;) {
        attn_case c = base;
        c.batch = (int)int_at(sec, K_BATCH, idx[K_BATCH], DEF_BATCH);
        c.heads = (int)int_at(sec, K_HEADS, idx[K_HEADS], DEF_HEADS);
        c.kv_heads = (int)int_at(sec, K_KV_HEADS, idx[K_KV_HEADS], c.heads);
        c.head_dim = (int)int_at(sec, K_HEAD_DIM, idx[K_HEAD_DIM], DEF_HEAD_DIM);
        c.v_dim = (int)int_at(sec, K_V_DIM, idx[K_V_DIM], c.head_dim);
        c.q_len = (int)int_at(sec, K_SEQ_LEN, idx[K_SEQ_LEN], DEF_SEQ_LEN);
        c.kv_len = (int)int_at(sec, K_KV_LEN, idx[K_KV_LEN], c.q_len);
        c.mask = (attn_mask)int_at(sec, K_MASK, idx[K_MASK], MASK_NONE);
        c.pad = kv[K_PAD].line ? kv[K_PAD].dv[idx[K_PAD]] : DEF_PAD;
        long w = int_at(sec, K_WINDOW, idx[K_WINDOW], 0);
        c.window_left = c.window_right = w > 0 ? (int)w : -1;
        if (kv[K_WINDOW_LEFT].line) c.window_left = (int)kv[K_WINDOW_LEFT].iv[idx[K_WINDOW_LEFT]];
        if (kv[K_WINDOW_RIGHT].line) c.window_right = (int)kv[K_WINDOW_RIGHT].iv[idx[K_WINDOW_RIGHT]];
        c.globals = (int)int_at(sec, K_GLOBALS, idx[K_GLOBALS], 0);
        c.score = (attn_score)int_at(sec, K_SCORE, idx[K_SCORE], ATTN_SCORE_DOT);
        c.additive_dim = (int)int_at(sec, K_ADDITIVE_DIM, idx[K_ADDITIVE_DIM], DEF_ADDITIVE);
        c.threads = (int)int_at(sec, K_THREADS, idx[K_THREADS], 1);

        /* values that cannot change this case are taken once (see the top of the file) */
        int redundant = (idx[K_PAD] > 0 && !(c.mask & MASK_PADDING)) ||
                        (idx[K_ADDITIVE_DIM] > 0 && c.score != ATTN_SCORE_ADDITIVE) ||
                        (idx[K_WINDOW] > 0 && kv[K_WINDOW_LEFT].line && kv[K_WINDOW_RIGHT].line);
        if (!redundant) {
            if (out->n + nk > out->cap) {
                int cap = out->cap ? 2 * out->cap : 64;
                while (cap < out->n + nk) cap *= 2;
                attn_case *nv = realloc(out->v, (size_t)cap * sizeof *nv);
                if (!nv) { fail(p, sec->line, "out of memory"); return -1; }
                out->v = nv;
                out->cap = cap;
            }
            unsigned needs = attn_case_needs(&c);
            for (int i = 0; i < nk; i++) {
                if (c.omit_unsupported && (needs & ~kernels[i]->caps)) continue;
                attn_case *d = &out->v[out->n++];
                *d = c;
                d->kernel = kernels[i];
                attn_case_make_id(d);
            }
        }

        /* odometer: the last dimension turns fastest */
        int k = K_LAST_DIM;
        while (k >= K_FIRST_DIM && ++idx[k] == count[k]) idx[k--] = 0;
        if (k < K_FIRST_DIM) break;
    }
    return 0;
}

/* ------------------------------------------------------------------ load -- */

static int read_file(parser *p)
{
    FILE *f = fopen(p->path, "rb");
    if (!f) {
        fail(p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    p->buf = malloc(MAX_FILE_BYTES + 1);
    if (!p->buf) { fclose(f); fail(p, 0, "out of memory"); return -1; }
    p->len = fread(p->buf, 1, MAX_FILE_BYTES + 1, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) { fail(p, 0, "cannot read: %s", strerror(rerr)); return -1; }
    if (p->len > MAX_FILE_BYTES) { fail(p, 0, "larger than %d bytes", MAX_FILE_BYTES); return -1; }
    if (p->len >= 3 && !memcmp(p->buf, "\xEF\xBB\xBF", 3)) p->pos = 3;   /* UTF-8 BOM */
    return 0;
}

static void free_parser(parser *p)
{
    for (int s = 0; s < p->nsec; s++)
        for (int k = 0; k < K_COUNT; k++) {
            free(p->secs[s].kv[k].iv);
            free(p->secs[s].kv[k].dv);
            free(p->secs[s].kv[k].kp);
        }
    free(p->secs);
    free(p->buf);
}

int attn_config_load(const char *path, const char *kernel_filter, attn_caselist *out)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.path = path;
    out->cases = NULL;
    out->n = 0;
    case_vec cv = { NULL, 0, 0 };
    const attn_kernel *filter[256];
    int nfilter = 0;

    if (kernel_filter && (nfilter = parse_filter(&p, kernel_filter, filter, 256)) < 0) goto done;
    if (read_file(&p)) goto done;

    int r = ini_parse_stream(reader, &p, handler, &p);
    if (!p.err && r > 0) syntax_error(&p, r);
    if (!p.err && r < 0) fail(&p, 0, "inih failed (%d)", r);
    if (p.err) goto done;
    if (p.nsec == 0) {
        fail(&p, 0, "no [section]: a config holds one or more sweeps");
        goto done;
    }

    for (int s = 0; s < p.nsec; s++) {
        const section *sec = &p.secs[s];
        if (check_section(&p, sec)) goto done;
        for (int t = 0; t < s; t++)
            if (!strcmp(sweep_name(&p.secs[t]), sweep_name(sec))) {
                fail(&p, sweep_name_line(sec), "sweep name '%s' is already used at line %d "
                     "(case ids must be unique)", sweep_name(sec), sweep_name_line(&p.secs[t]));
                goto done;
            }

        /* the section's kernels, in its own order (registry order for *), filtered */
        int nreg, nk = 0;
        const attn_kernel *reg = attn_kernels(&nreg);
        const keyval *kk = &sec->kv[K_KERNELS];
        int n_listed = kk->all_kernels ? nreg : kk->n;
        const attn_kernel **ks = malloc((size_t)(n_listed ? n_listed : 1) * sizeof *ks);
        if (!ks) { fail(&p, sec->line, "out of memory"); goto done; }
        for (int i = 0; i < n_listed; i++) {
            const attn_kernel *k = kk->all_kernels ? &reg[i] : kk->kp[i];
            int keep = !kernel_filter;
            for (int j = 0; j < nfilter; j++) keep |= filter[j] == k;
            if (keep) ks[nk++] = k;
        }
        int before = cv.n;
        int rc = nk ? expand_section(&p, sec, ks, nk, &cv) : 0;
        free(ks);
        if (rc) goto done;
        if (!kernel_filter && cv.n == before) {
            fail(&p, sec->line, "section [%s] produces no case", sec->name);
            goto done;
        }
    }
    if (cv.n == 0) {
        fail(&p, 0, "--kernels %s selects none of the kernels this config lists",
             kernel_filter ? kernel_filter : "");
        goto done;
    }

    /* one block: the cases, then the path they all point at */
    size_t plen = strlen(path) + 1;
    out->cases = malloc((size_t)cv.n * sizeof(attn_case) + plen);
    if (!out->cases) { fail(&p, 0, "out of memory"); goto done; }
    char *file = (char *)(out->cases + cv.n);
    memcpy(file, path, plen);
    memcpy(out->cases, cv.v, (size_t)cv.n * sizeof(attn_case));
    for (int i = 0; i < cv.n; i++) out->cases[i].file = file;
    out->n = cv.n;

done:
    free(cv.v);
    free_parser(&p);
    return p.err ? -1 : 0;
}

void attn_caselist_free(attn_caselist *l)
{
    free(l->cases);
    l->cases = NULL;
    l->n = 0;
}
