/* config_value.c: one key's value text -> its checked values (config_parse.h).
 *
 * Lists ("1, 2, 4"), ranges ("256..8192*2", "1..32+4"), unbounded window sides ("inf"),
 * enum names, fractions, and the run settings' single values. The range a case
 * parameter accepts comes from its row in core/params.def. Errors are "FILE:LINE: key: ...".
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "core/config_parse.h"

/* A whole decimal integer token (range checks come after, with their own messages). */
static int parse_long(const char *s, long *out)
{
    return attn_parse_long(s, LONG_MIN, LONG_MAX, out);
}

/* Split value on commas into trimmed, non-empty items. Returns the item count, or -1
 * after reporting an empty list or an empty item. The items point into buf. */
static int split_list(parser *p, int line, const char *key, const char *value,
                      char *buf, size_t size, char **items, int max)
{
    snprintf(buf, size, "%s", value);
    if (*cfg_trim(buf) == '\0') {
        cfg_fail(p, line, "%s: empty value (give at least one)", key);
        return -1;
    }
    int n = 0;
    char *s = buf;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        char *item = cfg_trim(s);
        if (*item == '\0') {
            cfg_fail(p, line, "%s: empty item in the list '%s'", key, value);
            return -1;
        }
        if (n == max) {
            cfg_fail(p, line, "%s: more than %d items", key, max);
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
        cfg_fail(p, line, "%s: the list expands to more than %d values", key, MAX_LIST);
        return -1;
    }
    for (int i = 0; i < kv->n; i++)
        if (kv->iv[i] == v) {
            cfg_fail(p, line, "%s: the value %ld appears twice", key, v);
            return -1;
        }
    kv->iv[kv->n++] = v;
    return 0;
}

/* One integer of a V_SIZE / V_COUNT / V_SIDE list, range-checked against the row (or the
 * `window` shorthand: >= 0). */
static int check_int(parser *p, int line, int k, const char *tok, long v)
{
    const char *key = cfg_key_name(k);
    vkind kind = cfg_key_kind(k);
    long lo = k == K_WINDOW ? 0 : (long)attn_params[k - K_PARAM].min;
    long hi = k == K_WINDOW ? ATTN_PARAM_MAX_SIZE : (long)attn_params[k - K_PARAM].max;
    if (kind == V_SIDE && v == -1) return 0;
    if (v < lo) {
        const char *what = kind == V_SIZE ? "a positive integer"
                         : kind == V_COUNT ? "an integer >= 0"
                         : "an integer >= 0, or -1, inf or none for unbounded";
        cfg_fail(p, line, "%s: '%s' is not valid: must be %s", key, tok, what);
        return -1;
    }
    if (v > hi) {
        cfg_fail(p, line, "%s: '%s' is too large (at most %ld)", key, tok, hi);
        return -1;
    }
    return 0;
}

/* Integer list: items "7", "256..8192*2" (geometric), "1..32+4" or "1..8" (arithmetic),
 * and for V_SIDE also "inf" / "none" (= -1). Ranges include end when they reach it. */
static int parse_ints(parser *p, int line, int k, const char *value, keyval *kv)
{
    const char *key = cfg_key_name(k);
    vkind kind = cfg_key_kind(k);
    char buf[256], *items[128];
    int n = split_list(p, line, key, value, buf, sizeof buf, items, 128);
    if (n < 0) return -1;
    kv->iv = malloc(MAX_LIST * sizeof *kv->iv);
    if (!kv->iv) { cfg_fail(p, line, "out of memory"); return -1; }
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
                cfg_fail(p, line, "%s: '%s' is not an integer (lists look like '1, 2, 4', "
                     "ranges like '256..8192*2' or '1..32+1')%s", key, tok,
                     kind == V_SIDE ? "; -1, inf or none mean unbounded" : "");
                return -1;
            }
            if (check_int(p, line, k, tok, v) || push_long(p, line, key, kv, v)) return -1;
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
            if (parse_long(cfg_trim(op + 1), &step)) goto bad_range;
        }
        if (parse_long(cfg_trim(a), &start) || parse_long(cfg_trim(b), &end)) goto bad_range;
        if (check_int(p, line, k, tok, start) || check_int(p, line, k, tok, end))
            return -1;
        if (start < 0) {
            cfg_fail(p, line, "%s: range '%s' cannot start at -1 (write unbounded values alone)", key, tok);
            return -1;
        }
        if (start > end) {
            cfg_fail(p, line, "%s: range '%s' is empty (start > end)", key, tok);
            return -1;
        }
        if ((mode == '*' && (step < 2 || start == 0)) || (mode == '+' && step < 1)) {
            cfg_fail(p, line, "%s: range '%s' does not progress (%s)", key, tok,
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
        cfg_fail(p, line, "%s: '%s' is not a range (write START..END, START..END*FACTOR or "
             "START..END+STEP, e.g. 256..8192*2)", key, tok);
        return -1;
    }
    return 0;
}

/* Names of an enum row (mask, score). */
static int parse_enums(parser *p, int line, int k, const char *value, keyval *kv)
{
    const attn_param *r = &attn_params[k - K_PARAM];
    char buf[256], *items[16], list[256], hint[96];
    int n = split_list(p, line, r->key, value, buf, sizeof buf, items, 16);
    if (n < 0) return -1;
    kv->iv = malloc(16 * sizeof *kv->iv);
    if (!kv->iv) { cfg_fail(p, line, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        long v = attn_param_enum_parse(k - K_PARAM, items[i]);
        if (v < 0) {
            cfg_fail(p, line, "%s: '%s' is not one of %s%s", r->key, items[i],
                     cfg_join(list, sizeof list, r->names, r->n_names),
                     cfg_suggest(hint, sizeof hint, items[i], r->names, r->n_names));
            return -1;
        }
        if (push_long(p, line, r->key, kv, v)) return -1;
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
    if (!kv->kp) { cfg_fail(p, line, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        const attn_kernel *k = attn_runnable_find(items[i]);   /* a kernel or a peer */
        if (!strcmp(items[i], "*")) {
            cfg_fail(p, line, "kernels: '*' (all kernels) cannot be combined with names");
            return -1;
        }
        if (!k) {
            int nk;
            const char *const *names = cfg_kernel_names(&nk);
            cfg_fail(p, line, "kernels: unknown kernel '%s'%s; kernels: %s", items[i],
                 cfg_suggest(hint, sizeof hint, items[i], names, nk), cfg_join(list, sizeof list, names, nk));
            return -1;
        }
        for (int j = 0; j < kv->n; j++)
            if (kv->kp[j] == k) {
                cfg_fail(p, line, "kernels: '%s' appears twice", items[i]);
                return -1;
            }
        kv->kp[kv->n++] = k;
    }
    return 0;
}

/* Real list of a DOUBLE row, each in the row's range. */
static int parse_reals(parser *p, int line, int k, const char *value, keyval *kv)
{
    const char *key = cfg_key_name(k);
    char buf[256], *items[64];
    int n = split_list(p, line, key, value, buf, sizeof buf, items, 64);
    if (n < 0) return -1;
    kv->dv = malloc((size_t)n * sizeof *kv->dv);
    if (!kv->dv) { cfg_fail(p, line, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        double v;
        const attn_param *r = &attn_params[k - K_PARAM];
        if (attn_parse_double(items[i], &v) || v < r->min || v > r->max) {
            cfg_fail(p, line, "%s: '%s' is not a fraction in [%g, %g]", key, items[i],
                     r->min, r->max);
            return -1;
        }
        for (int j = 0; j < kv->n; j++)
            if (kv->dv[j] == v) {
                cfg_fail(p, line, "%s: the value %s appears twice", key, items[i]);
                return -1;
            }
        kv->dv[kv->n++] = v;
    }
    return 0;
}

/* `tile = 64x64, 64x128`: pairs tile_q x tile_k, each in its row's range and not 0. */
static int parse_tiles(parser *p, int line, const char *value, keyval *kv)
{
    char buf[256], *items[128];
    int n = split_list(p, line, "tile", value, buf, sizeof buf, items, 128);
    if (n < 0) return -1;
    kv->iv = malloc(2 * (size_t)n * sizeof *kv->iv);
    if (!kv->iv) { cfg_fail(p, line, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        char *x = strchr(items[i], 'x'), a[64], b[64];
        long q, kk;
        if (x) {
            snprintf(a, sizeof a, "%.*s", (int)(x - items[i]), items[i]);
            snprintf(b, sizeof b, "%s", x + 1);
        }
        if (!x || parse_long(cfg_trim(a), &q) || parse_long(cfg_trim(b), &kk)) {
            cfg_fail(p, line, "tile: '%s' is not tile_q x tile_k (e.g. 'tile = 64x64, 64x128')", items[i]);
            return -1;
        }
        const long lim[2] = { (long)attn_params[P_TILE_Q].max, (long)attn_params[P_TILE_K].max };
        if (q < 1 || kk < 1 || q > lim[0] || kk > lim[1]) {
            cfg_fail(p, line, "tile: '%s': tile_q and tile_k must be from 1 to %ld", items[i], lim[0]);
            return -1;
        }
        for (int j = 0; j < kv->n; j++)
            if (kv->iv[2 * j] == q && kv->iv[2 * j + 1] == kk) {
                cfg_fail(p, line, "tile: the pair %ldx%ld appears twice", q, kk);
                return -1;
            }
        kv->iv[2 * kv->n] = q;
        kv->iv[2 * kv->n + 1] = kk;
        kv->n++;
    }
    return 0;
}

int cfg_parse_value(parser *p, int line, int k, const char *value, keyval *kv)
{
    const char *key = cfg_key_name(k);
    vkind kind = cfg_key_kind(k);
    switch (kind) {
    case V_NAME: {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", value);
        char *s = cfg_trim(buf);
        if (cfg_bad_name(s) || strlen(s) > MAX_SWEEP_NAME) {
            cfg_fail(p, line, "name: '%s' is not valid: 1 to %d letters, digits, '_', '-' or '.' "
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
        return parse_ints(p, line, k, value, kv);
    case V_ENUM:
        return parse_enums(p, line, k, value, kv);
    case V_FRACTION:
        return parse_reals(p, line, k, value, kv);
    case V_TILE:
        return parse_tiles(p, line, value, kv);
    default: break;
    }

    /* the run settings take one value */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    char *s = cfg_trim(buf);
    if (*s == '\0') { cfg_fail(p, line, "%s: empty value", key); return -1; }
    if (strchr(s, ',')) { cfg_fail(p, line, "%s: takes one value, not a list ('%s')", key, s); return -1; }
    kv->n = 1;
    if (kind == V_REPS) {
        long v;
        if (parse_long(s, &v) || v < 1 || v > 1000000) {
            cfg_fail(p, line, "%s: '%s' is not valid: must be an integer from 1 to 1000000", key, s);
            return -1;
        }
        kv->iv = malloc(sizeof *kv->iv);
        if (!kv->iv) { cfg_fail(p, line, "out of memory"); return -1; }
        kv->iv[0] = v;
        return 0;
    }
    if (kind == V_UNSUPPORTED) {
        if (strcmp(s, "skip") && strcmp(s, "omit")) {
            cfg_fail(p, line, "%s: '%s' is not one of skip (record the case as skipped), omit (do "
                 "not generate it)", key, s);
            return -1;
        }
        kv->iv = malloc(sizeof *kv->iv);
        if (!kv->iv) { cfg_fail(p, line, "out of memory"); return -1; }
        kv->iv[0] = !strcmp(s, "omit");
        return 0;
    }
    if (kind == V_SEED) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 0);
        if (*s == '-' || end == s || *end || errno == ERANGE) {
            cfg_fail(p, line, "%s: '%s' is not valid: must be an unsigned 64-bit integer", key, s);
            return -1;
        }
        kv->seed = v;
        return 0;
    }
    double v;
    int bad = attn_parse_double(s, &v) != 0;
    if (!bad) bad = kind == V_SECONDS ? !(v > 0) : !(v >= 0);
    if (bad) {
        cfg_fail(p, line, "%s: '%s' is not valid: must be a number %s", key, s,
             kind == V_SECONDS ? "> 0 (seconds)" : kind == V_SECONDS0 ? ">= 0 (seconds)" : ">= 0");
        return -1;
    }
    kv->dv = malloc(sizeof *kv->dv);
    if (!kv->dv) { cfg_fail(p, line, "out of memory"); return -1; }
    kv->dv[0] = v;
    return 0;
}
