/* config.c: INI sweep files -> the list of cases (docs/params.md; docs/design.md).
 *
 * Three passes, and nothing runs unless all three succeed:
 *   1. read   the whole file (config_read.c): inih with line numbers, every [section]
 *             header recorded with its line, including sections that hold no keys.
 *   2. parse  each key as it arrives (config_value.c): known key, not repeated, every
 *             value valid. The case parameters' keys, ranges and defaults are the rows of
 *             core/params.def.
 *   3. expand each section (here): defaults, cross-key checks (H % Hkv, globals <= kv_len),
 *             the --kernels filter, then the Cartesian product, shape-major and
 *             kernel-minor; every case's sizes checked (attn_case_size_check: byte
 *             counts that fit size_t and a machine like this one), blamed on the line
 *             of the size key with the largest value.
 * The first error is printed as "FILE:LINE: message" (or "FILE: message" when it has
 * no line) and the load returns -1.
 *
 * Product order, outermost first, is the PRODUCT column of core/params.def, with the
 * `window` shorthand between pad and window_left: batch, heads, kv_heads, head_dim, v_dim,
 * seq_len, kv_len, mask, pad, window, window_left, window_right, globals, score,
 * additive_dim, threads, dtype, the `tile` shorthand (tile_q x tile_k pairs), tile_q,
 * tile_k, and innermost the kernels. A value that cannot change the case is
 * not multiplied in (the MATTERS column: pad only matters for padding masks, additive_dim
 * only for additive scores; and window only for a side that window_left/window_right does
 * not override); the case then carries the key's first value. With `unsupported = omit` a
 * kernel is not given the cases it lacks a capability or the dtype for (default `skip`:
 * the runner records them as skipped with the reason, which shows the capability matrix).
 * A tile value a kernel does not allow omits that kernel's cases with it (a note on
 * stderr per kernel and section); a value no kernel allows is an error at its line. Each
 * case's tunables are resolved here (the config's, else the kernel's default for this
 * machine's caches; `run` may then apply wisdom: core/tunables.h).
 *
 * Every case's `file` points at one copy of the path stored after the case array in the
 * same allocation, so attn_caselist_free() frees both.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "core/config_parse.h"
#include "core/tunables.h"

/* Defaults of the run settings a section may leave out (the case parameters' defaults
 * are in core/params.def). kernels is required. */
#define DEF_MIN_TIME  0.2
#define DEF_REPS      5
#define DEF_TIMEOUT   300.0
#define DEF_ATOL      NAN       /* unset: the kernel's declared tolerance (core/tolerance.h) */
#define DEF_RTOL      NAN
#define DEF_SEED      42

/* ------------------------------------------------------------- expansion -- */

static int sweep_name_line(const section *sec)
{
    return sec->kv[K_NAME].line ? sec->kv[K_NAME].line : sec->line;
}

static const char *sweep_name(const section *sec)
{
    return sec->kv[K_NAME].line ? sec->kv[K_NAME].text : sec->name;
}

/* Number of values of key k in the product; an absent key counts 1. */
static int dim_count(const section *sec, int k)
{
    return sec->kv[k].line ? sec->kv[k].n : 1;
}

/* Value i of table row p's key, or def when the key is absent. */
static double value_at(const section *sec, int p, int i, double def)
{
    const keyval *kv = &sec->kv[K_PARAM + p];
    if (!kv->line) return def;
    return attn_params[p].type == PT_DOUBLE ? kv->dv[i] : (double)kv->iv[i];
}

/* The tunable keys: `tile` excludes tile_q and tile_k, and a value no registered kernel
 * allows is refused at its line (one that only some kernels allow omits the cases of the
 * others: expand_section). */
static int check_tiles(parser *p, const section *sec)
{
    const keyval *kv = sec->kv;
    const int rows[ATTN_TUNE_COUNT] = { P_TILE_Q, P_TILE_K };
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) {
        const keyval *one = &kv[K_PARAM + rows[t]];
        if (kv[K_TILE].line && one->line) {
            cfg_fail(p, one->line, "%s: the section also sets `tile` (line %d): use either tile = "
                     "QxK pairs or tile_q / tile_k lists", attn_tune_names[t], kv[K_TILE].line);
            return -1;
        }
        const keyval *src = one->line ? one : &kv[K_TILE];
        int step = one->line ? 1 : 2, off = one->line ? 0 : t;
        for (int i = 0; src->line && i < src->n; i++) {
            int v = (int)src->iv[step * i + off], nreg, ok = v == 0;
            const attn_kernel *reg = attn_kernels(&nreg);
            for (int j = 0; j < nreg && !ok; j++) ok = attn_tune_allows(&reg[j], (attn_tune_id)t, v);
            if (!ok) {
                char list[512] = "";
                for (int j = 0; j < nreg; j++)
                    if (attn_kernel_tunable(&reg[j], (attn_tune_id)t))
                        attn_appendf(list, sizeof list, "%s%s %d..%d step %d", *list ? ", " : "",
                                     reg[j].name, reg[j].tune[t].min, reg[j].tune[t].max,
                                     reg[j].tune[t].step);
                cfg_fail(p, src->line, "%s: %d is allowed by no kernel (%s)", cfg_key_name(
                         one->line ? K_PARAM + rows[t] : K_TILE), v, list);
                return -1;
            }
        }
    }
    return 0;
}

/* Cross-key checks over every combination that the product will form. */
static int check_section(parser *p, const section *sec)
{
    const keyval *kv = sec->kv;
    if (!kv[K_KERNELS].line) {
        cfg_fail(p, sec->line, "section [%s] has no 'kernels' key (list kernel names, or * for all)",
             sec->name);
        return -1;
    }
    if (cfg_bad_name(sec->name) && !kv[K_NAME].line) {
        cfg_fail(p, sec->line, "section name '%s' is not valid: letters, digits, '_', '-' or '.' "
             "(it becomes part of case ids and file names; or set a `name` key)", sec->name);
        return -1;
    }
    if (check_tiles(p, sec)) return -1;
    const keyval *kvh = &kv[K_PARAM + P_KV_HEADS], *glob = &kv[K_PARAM + P_GLOBALS];
    if (kvh->line)
        for (int i = 0; i < dim_count(sec, K_PARAM + P_HEADS); i++)
            for (int j = 0; j < kvh->n; j++) {
                long h = (long)value_at(sec, P_HEADS, i, attn_params[P_HEADS].def), hkv = kvh->iv[j];
                if (h % hkv != 0) {
                    cfg_fail(p, kvh->line, "kv_heads %ld does not divide heads %ld "
                         "(each key/value head serves heads/kv_heads query heads)", hkv, h);
                    return -1;
                }
            }
    if (glob->line) {
        int lk = kv[K_PARAM + P_KV_LEN].line ? P_KV_LEN : P_Q_LEN;
        for (int i = 0; i < glob->n; i++)
            for (int j = 0; j < dim_count(sec, K_PARAM + lk); j++) {
                long g = glob->iv[i], l = (long)value_at(sec, lk, j, attn_params[P_Q_LEN].def);
                if (g > l) {
                    cfg_fail(p, glob->line, "globals %ld is more than the %ld keys "
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
    const char *const *names = cfg_kernel_names(&nk);
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        char *item = cfg_trim(s);
        if (*item == '\0' || n == max || n == 256) {
            fprintf(stderr, "attnbench run: --kernels: %s in '%s'\n", *item ? "too many names" : "empty item", filter);
            p->err = 1;
            return -1;
        }
        out[n] = attn_runnable_find(item);
        if (!out[n]) {
            fprintf(stderr, "attnbench run: --kernels: unknown kernel '%s'%s; kernels: %s\n", item,
                    cfg_suggest(hint, sizeof hint, item, names, nk), cfg_join(list, sizeof list, names, nk));
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

/* The key to blame for a case too large to hold: of the size keys the section sets, the
 * one with the largest value in this case (0 when it sets none: the section's line). */
static int size_key(const section *sec, const attn_case *c)
{
    static const int rows[] = { P_BATCH, P_HEADS, P_KV_HEADS, P_Q_LEN, P_KV_LEN, P_HEAD_DIM,
                                P_V_DIM, P_ADDITIVE_DIM, P_D_MODEL };
    int best = 0;
    double best_v = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int k = K_PARAM + rows[i];
        if (rows[i] == P_ADDITIVE_DIM && c->score != ATTN_SCORE_ADDITIVE) continue;
        if (rows[i] == P_D_MODEL && c->layer != ATTN_LAYER_MHA) continue;
        if (sec->kv[k].line && attn_param_get(c, rows[i]) > best_v) {
            best = k;
            best_v = attn_param_get(c, rows[i]);
        }
    }
    return best;
}

/* Refuse a case whose sizes cannot be represented or held (attn_case_size_check), at the
 * line of the size key most to blame, naming the case's sizes. */
static int check_sizes(parser *p, const section *sec, const attn_case *c, size_t limit)
{
    char why[256];
    if (attn_case_size_check(c, limit, why, sizeof why) == 0) return 0;
    int k = size_key(sec, c);
    cfg_fail(p, k ? sec->kv[k].line : sec->line, "%s%sthe case (batch %d, heads %d, kv_heads %d, "
             "seq_len %d, kv_len %d, head_dim %d, v_dim %d%s) %s; lower the sizes",
             k ? cfg_key_name(k) : "", k ? ": " : "", c->batch, c->heads, c->kv_heads, c->q_len,
             c->kv_len, c->head_dim, c->v_dim, c->score == ATTN_SCORE_ADDITIVE ? ", additive" : "", why);
    return -1;
}

/* Case parameters of the product position idx (indexed by key): each table row from its
 * own key, else from the `window` shorthand (window sides), else its default. Rows are set
 * in product order, so a FOLLOWS default sees the row it follows. */
static void fill_params(const section *sec, const int *dims, int ndims, const int *idx,
                        attn_case *c)
{
    for (int d = 0; d < ndims; d++) {
        int k = dims[d];
        if (k == K_TILE) {
            if (!sec->kv[K_TILE].line) continue;
            c->tile_q = (int)sec->kv[K_TILE].iv[2 * idx[K_TILE]];
            c->tile_k = (int)sec->kv[K_TILE].iv[2 * idx[K_TILE] + 1];
            continue;
        }
        if (k == K_WINDOW) {
            if (!sec->kv[K_WINDOW].line) continue;
            long w = sec->kv[K_WINDOW].iv[idx[K_WINDOW]];
            c->window_left = c->window_right = w > 0 ? (int)w : -1;
            continue;
        }
        int p = k - K_PARAM;
        int by_window = (p == P_WINDOW_LEFT || p == P_WINDOW_RIGHT) && sec->kv[K_WINDOW].line;
        int by_tile = (p == P_TILE_Q || p == P_TILE_K) && sec->kv[K_TILE].line;
        if (sec->kv[k].line) attn_param_set(c, p, value_at(sec, p, idx[k], 0));
        else if (!by_window && !by_tile) attn_param_set(c, p, attn_param_default(c, p));
    }
}

/* A product position that repeats another case: a value of a key that cannot change this
 * case (not its first value), so the case carries the first one (see the top of the file). */
static int redundant(const section *sec, const int *idx, const attn_case *c)
{
    for (int p = 0; p < ATTN_N_PARAMS; p++)
        if (idx[K_PARAM + p] > 0 && !attn_param_matters_in(c, p)) return 1;
    return idx[K_WINDOW] > 0 && sec->kv[K_PARAM + P_WINDOW_LEFT].line &&
           sec->kv[K_PARAM + P_WINDOW_RIGHT].line;
}

/* The case the section's run settings make, before any parameter is set. */
static attn_case section_base(parser *p, const section *sec)
{
    const keyval *kv = sec->kv;
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
    return base;
}

/* A kernel that does not allow a tunable value the section sets: its cases with that
 * value are omitted, said once per kernel and section on stderr. */
static void note_omitted(parser *p, const section *sec, int i, const char *why, char *omitted)
{
    if (i < 256 && omitted[i]) return;
    if (i < 256) omitted[i] = 1;
    fprintf(stderr, "%s:%d: note: cases omitted: %s\n", p->path, sec->line, why);
}

/* Append every case of one section: the product over the table's keys and the window
 * shorthand (cfg_dims: product order), then the kernels. kernels/nk is the section's
 * kernel list after the filter. */
static int expand_section(parser *p, const section *sec, const attn_kernel *const *kernels,
                          int nk, case_vec *out)
{
    int dims[K_COUNT], count[K_COUNT] = { 0 }, idx[K_COUNT] = { 0 };
    int ndims = cfg_dims(dims);
    double total = nk;
    for (int d = 0; d < ndims; d++) {
        count[dims[d]] = dim_count(sec, dims[d]);
        total *= count[dims[d]];
    }
    if (total + out->n > MAX_CASES) {
        cfg_fail(p, sec->line, "section [%s] expands to %.0f cases (at most %d per file); "
                 "split it", sec->name, total, MAX_CASES);
        return -1;
    }
    attn_case base = section_base(p, sec);
    size_t limit = attn_case_bytes_limit();
    const attn_caches caches = attn_machine_caches();
    char omitted[256] = { 0 };      /* kernel i already noted */

    for (;;) {
        attn_case c = base;
        fill_params(sec, dims, ndims, idx, &c);
        if (!redundant(sec, idx, &c)) {
            if (check_sizes(p, sec, &c, limit)) return -1;
            if (out->n + nk > out->cap) {
                int cap = out->cap ? 2 * out->cap : 64;
                while (cap < out->n + nk) cap *= 2;
                attn_case *nv = realloc(out->v, (size_t)cap * sizeof *nv);
                if (!nv) { cfg_fail(p, sec->line, "out of memory"); return -1; }
                out->v = nv;
                out->cap = cap;
            }
            unsigned needs = attn_case_needs(&c);
            for (int i = 0; i < nk; i++) {
                if (c.omit_unsupported &&
                    ((needs & ~kernels[i]->caps) || !attn_kernel_accepts(kernels[i], c.dtype)))
                    continue;
                char why[160];
                if (!attn_case_tunes_allowed(&c, kernels[i], why, sizeof why)) {
                    note_omitted(p, sec, i, why, omitted);
                    continue;
                }
                attn_case *d = &out->v[out->n++];
                *d = c;
                d->kernel = kernels[i];
                attn_case_make_id(d);
                attn_case_resolve_tunables(d, NULL, caches);
            }
        }

        /* odometer: the last dimension turns fastest */
        int d = ndims - 1;
        while (d >= 0 && ++idx[dims[d]] == count[dims[d]]) idx[dims[d--]] = 0;
        if (d < 0) break;
    }
    return 0;
}

/* ------------------------------------------------------------------ load -- */

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
    if (cfg_read(&p)) goto done;
    if (p.nsec == 0) {
        cfg_fail(&p, 0, "no [section]: a config holds one or more sweeps");
        goto done;
    }

    for (int s = 0; s < p.nsec; s++) {
        const section *sec = &p.secs[s];
        if (check_section(&p, sec)) goto done;
        for (int t = 0; t < s; t++)
            if (!strcmp(sweep_name(&p.secs[t]), sweep_name(sec))) {
                cfg_fail(&p, sweep_name_line(sec), "sweep name '%s' is already used at line %d "
                     "(case ids must be unique)", sweep_name(sec), sweep_name_line(&p.secs[t]));
                goto done;
            }

        /* the section's kernels, in its own order (registry order for *), filtered */
        int nreg, nk = 0;
        const attn_kernel *reg = attn_kernels(&nreg);
        const keyval *kk = &sec->kv[K_KERNELS];
        int n_listed = kk->all_kernels ? nreg : kk->n;
        const attn_kernel **ks = malloc((size_t)(n_listed ? n_listed : 1) * sizeof *ks);
        if (!ks) { cfg_fail(&p, sec->line, "out of memory"); goto done; }
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
            cfg_fail(&p, sec->line, "section [%s] produces no case", sec->name);
            goto done;
        }
    }
    if (cv.n == 0) {
        cfg_fail(&p, 0, "--kernels %s selects none of the kernels this config lists",
             kernel_filter ? kernel_filter : "");
        goto done;
    }

    /* one block: the cases, then the path they all point at */
    size_t plen = strlen(path) + 1;
    out->cases = malloc((size_t)cv.n * sizeof(attn_case) + plen);
    if (!out->cases) { cfg_fail(&p, 0, "out of memory"); goto done; }
    char *file = (char *)(out->cases + cv.n);
    memcpy(file, path, plen);
    memcpy(out->cases, cv.v, (size_t)cv.n * sizeof(attn_case));
    for (int i = 0; i < cv.n; i++) out->cases[i].file = file;
    out->n = cv.n;

done:
    free(cv.v);
    cfg_free(&p);
    return p.err ? -1 : 0;
}

void attn_caselist_free(attn_caselist *l)
{
    free(l->cases);
    l->cases = NULL;
    l->n = 0;
}
