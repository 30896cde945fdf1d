/* plot_load.c: results.json -> plot cases, their axes (from core/params.def's AXIS
 * column), kernel colours and the lookups the charts need (plot.h). */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/util.h"
#include "attn.h"
#include "plot/plot.h"
#include "record/results.h"
/* ================================================================ helpers == */

int plot_fmt(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r < 0 || (size_t)r >= n ? -1 : 0;
}

/* realloc of n items of size bytes: NULL when out of memory (p is then untouched). */
void *plot_grow(void *p, size_t n, size_t size)
{
    return n > SIZE_MAX / size ? NULL : realloc(p, n * size);
}

/* ================================================================ colours == */

/* Twelve colours that stay apart on white and for the common colour-blindnesses
 * (Tableau 10 plus navy and black). */
static const char *const palette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#000000",
};
#define N_PALETTE (int)(sizeof palette / sizeof palette[0])

/* Registry position of a kernel, or -1 when this build does not know it. */
static int kernel_rank(const char *name)
{
    int n = 0;
    const attn_kernel *k = attn_kernels(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(k[i].name, name)) return i;
    return -1;
}

const char *plot_kernel_colour(const char *kernel)
{
    int r = kernel_rank(kernel);
    if (r >= 0) return palette[r % N_PALETTE];
    uint32_t h = 2166136261u;                   /* FNV-1a: stable across runs and builds */
    for (const char *p = kernel; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return palette[h % N_PALETTE];
}

/* Registry order first, then by name: legends list kernels the same way everywhere. */
int plot_kernel_cmp(const char *a, const char *b)
{
    int ra = kernel_rank(a), rb = kernel_rank(b);
    if (ra < 0) ra = 1 << 20;
    if (rb < 0) rb = 1 << 20;
    return ra != rb ? (ra < rb ? -1 : 1) : strcmp(a, b);
}

/* ================================================================== axes == */

/* Each axis: its name, its file-name prefix and the table rows it shows (first row, and
 * how many: 2 for the window's two sides). Built from core/params.def's AXIS column. */

#define AX(E, NAME, SHORT, XLABEL) [AX_##E] = { NAME, SHORT, XLABEL, P_ROW, 1 },
#define AXJOIN
#define NOAX
#define P_ROW (-1)      /* filled by plot_axis_defs() */
static axis_def axis_table[AX_COUNT] = {
#define ATTN_PARAM(ID, FIELD, KEY, TYPE, MIN, MAX, DEF, FOLLOWS, ENUM, TAG, IN_ID, MATTERS, \
                   LABEL, LABEL_WHEN, AXIS, PRODUCT) AXIS
#include "core/params.def"
#undef ATTN_PARAM
};
#undef AX
#undef AXJOIN
#undef NOAX
#undef P_ROW

/* The axes with their rows: row order is axis order, AXJOIN rows widen the last axis. */
const axis_def *plot_axis_defs(void)
{
    static int done;
    if (!done) {
        int a = -1;
        for (int p = 0; p < ATTN_N_PARAMS; p++) {
            if (attn_params[p].axis_join && a >= 0) axis_table[a].n_rows++;
            else if (attn_params[p].axis && a + 1 < AX_COUNT) axis_table[++a].row = p;
        }
        done = 1;
    }
    return axis_table;
}

const char *plot_axis_name(int axis) { return axis >= 0 && axis < AX_COUNT ? plot_axis_defs()[axis].name : "?"; }

/* Numeric value of an axis: its first row (enums: their index). */
double plot_axis_num(const plot_case *c, int axis)
{
    return attn_param_get(&c->p, plot_axis_defs()[axis].row);
}

/* Order of two cases along one axis; 0 = same value. Row by row; an unbounded side (-1)
 * and an enum name this build does not know sort last; ENUM_BY_NAME rows by name. */
int plot_axis_cmp(const plot_case *a, const plot_case *b, int axis)
{
    const axis_def *d = &plot_axis_defs()[axis];
    for (int r = d->row; r < d->row + d->n_rows; r++) {
        double x = attn_param_get(&a->p, r), y = attn_param_get(&b->p, r);
        attn_param_type t = attn_params[r].type;
        if (t == PT_ENUM && attn_params[r].by_name && x >= 0 && y >= 0)
            return strcmp(attn_params[r].names[(int)x], attn_params[r].names[(int)y]);
        if ((t == PT_SIDE || t == PT_ENUM) && x < 0) x = INFINITY;
        if ((t == PT_SIDE || t == PT_ENUM) && y < 0) y = INFINITY;
        if (isnan(x) || isnan(y)) {
            if (isnan(x) != isnan(y)) return isnan(x) - isnan(y);
            continue;
        }
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

/* One row's value as text: enum name, "inf" for an unbounded side, else %g. */
static void row_text(const plot_case *c, int r, char *buf, size_t n)
{
    double v = attn_param_get(&c->p, r);
    const attn_param *row = &attn_params[r];
    if (row->type == PT_ENUM) snprintf(buf, n, "%s", v >= 0 && v < row->n_names ? row->names[(int)v] : "?");
    else if (row->type == PT_SIDE && v < 0) snprintf(buf, n, "inf");
    else snprintf(buf, n, "%g", v);
}

/* "8", "causal"; an axis of several rows: "full" when every side is unbounded, one value
 * when all sides agree, else "left_right". */
void plot_axis_value_text(const plot_case *c, int axis, char *buf, size_t n)
{
    const axis_def *d = &plot_axis_defs()[axis];
    if (d->n_rows == 1) { row_text(c, d->row, buf, n); return; }
    int all_unbounded = 1, all_same = 1;
    for (int r = d->row; r < d->row + d->n_rows; r++) {
        double v = attn_param_get(&c->p, r);
        all_unbounded &= v < 0;
        all_same &= v == attn_param_get(&c->p, d->row);
    }
    if (all_unbounded) { snprintf(buf, n, "full"); return; }
    if (all_same) { row_text(c, d->row, buf, n); return; }
    size_t len = 0;
    buf[0] = 0;
    for (int r = d->row; r < d->row + d->n_rows && len < n; r++) {
        char t[32];
        row_text(c, r, t, sizeof t);
        len += (size_t)snprintf(buf + len, n - len, "%s%s", r > d->row ? "_" : "", t);
    }
}

/* The window size an x axis shows: the symmetric extent, the bounded side, or left+right.
 * NAN for full attention (drawn as a dashed level instead). */
double plot_window_x(const plot_case *c)
{
    if (c->p.window_left < 0 && c->p.window_right < 0) return NAN;
    if (c->p.window_right < 0 || c->p.window_right == c->p.window_left || c->p.window_right == 0) return c->p.window_left < 0 ? c->p.window_right : c->p.window_left;
    if (c->p.window_left < 0 || c->p.window_left == 0) return c->p.window_right;
    return c->p.window_left + c->p.window_right;
}

/* Label of one group: "heads 8, threads 2" (readable) or "h8-t2" (for file names). */
void plot_group_text(const plot_case *c, unsigned axes, int for_file, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int a = 0; a < AX_COUNT && len < n; a++) {
        if (!(axes & (1u << a))) continue;
        char v[64];
        plot_axis_value_text(c, a, v, sizeof v);
        if (for_file)
            len += snprintf(buf + len, n - len, "%s%s%s", len ? "-" : "", plot_axis_defs()[a].short_, v);
        else
            len += snprintf(buf + len, n - len, "%s%s %s", len ? ", " : "", plot_axis_defs()[a].name, v);
    }
    if (for_file) attn_safe_name(buf);
}

int plot_in_sweep(const plot_case *c, const char *sweep) { return !strcmp(c->sweep, sweep); }

unsigned plot_varied_axes(const plot_set *s, const char *sweep)
{
    unsigned varied = 0;
    const plot_case *first = NULL;
    for (int i = 0; i < s->n_cases; i++) {
        const plot_case *c = &s->cases[i];
        if (!plot_in_sweep(c, sweep)) continue;
        if (!first) { first = c; continue; }
        for (int a = 0; a < AX_COUNT; a++)
            if (plot_axis_cmp(first, c, a)) varied |= 1u << a;
    }
    return varied;
}

/* Is `axis` a function of `x` among these cases (equal x => equal axis)? Such an axis
 * follows x (kv_len = q_len; kv_heads = heads) and is not split into separate charts. */
int plot_follows(const plot_case *const *cs, int n, int axis, int x)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (!plot_axis_cmp(cs[i], cs[j], x) && plot_axis_cmp(cs[i], cs[j], axis)) return 0;
    return 1;
}

/* ================================================================ loading == */

static void flatten_case(plot_case *pc, const cJSON *o, int run)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "params");
    memset(pc, 0, sizeof *pc);
    pc->run = run;
    pc->id = attn_json_str(o, "id", "?");
    pc->kernel = attn_json_str(o, "kernel", "?");
    pc->isa = attn_json_str(o, "isa", attn_json_str(p, "isa", "portable"));
    pc->sweep = attn_json_str(p, "sweep", attn_json_str(o, "sweep", "results"));
    pc->status = attn_json_str(o, "status", "?");
    pc->reason = attn_json_str(o, "reason", "");
    attn_params_from_json(p, &pc->p);      /* every row of core/params.def */

    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time_s");
    pc->t_med = attn_json_num(t, "median", NAN);
    pc->t_lo = attn_json_num(t, "ci_low", NAN);
    pc->t_hi = attn_json_num(t, "ci_high", NAN);
    pc->cv = attn_json_num(t, "cv", NAN);
    if (isnan(pc->t_lo)) pc->t_lo = pc->t_med;
    if (isnan(pc->t_hi)) pc->t_hi = pc->t_med;
    pc->ok = !strcmp(pc->status, "ok") && pc->t_med > 0;
    pc->unstable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "unstable"));
    pc->gflops = attn_json_num(o, "gflops", NAN);
    pc->pct_peak = attn_json_num(o, "pct_peak", NAN);
    pc->intensity = attn_json_num(o, "intensity", NAN);
    pc->pct_roof = attn_json_num(o, "pct_roof", NAN);

    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "memory");
    pc->rss = attn_json_num(m, "peak_rss_bytes", NAN);
    pc->extra = attn_json_num(m, "kernel_extra_bytes", NAN);
    pc->workspace = attn_json_num(m, "workspace_bytes", NAN);

    /* over-budget skip: the bytes the case needed (absent otherwise) */
    pc->need_bytes = attn_json_num(m, "need_bytes", NAN);
}

int plot_load_run(plot_set *s, const char *dir)
{
    char err[512];
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    if (!doc) {
        fprintf(stderr, "attnbench plot: %s\n", err);
        return -1;
    }
    plot_run *runs = plot_grow(s->runs, (size_t)s->n_runs + 1, sizeof *s->runs);
    if (!runs) {
        fprintf(stderr, "attnbench plot: %s: out of memory\n", dir);
        cJSON_Delete(doc);
        return -1;
    }
    s->runs = runs;
    plot_run *r = &s->runs[s->n_runs];
    memset(r, 0, sizeof *r);
    r->dir = dir;
    r->doc = doc;
    r->context = cJSON_GetObjectItemCaseSensitive(doc, "context");
    /* legend label: the directory's basename (the file's folder when given a file) */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    size_t L = strlen(tmp);
    while (L > 1 && tmp[L - 1] == '/') tmp[--L] = 0;
    if (L > 5 && !strcmp(tmp + L - 5, ".json")) snprintf(tmp, sizeof tmp, "%s", dirname(tmp));
    snprintf(r->label, sizeof r->label, "%s", basename(tmp));

    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases"), *o;
    cJSON_ArrayForEach(o, cases) {
        if (!cJSON_IsObject(o)) continue;
        plot_case *cs = plot_grow(s->cases, (size_t)s->n_cases + 1, sizeof *s->cases);
        if (!cs) {
            fprintf(stderr, "attnbench plot: %s: out of memory\n", dir);
            s->n_runs++;        /* the document is freed with the set */
            return -1;
        }
        s->cases = cs;
        flatten_case(&s->cases[s->n_cases++], o, s->n_runs);
    }
    s->n_runs++;
    return 0;
}

/* ============================================================ lookups ===== */

double plot_peak(const plot_run *run, const char *isa, int threads)
{
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(run->context, "peak_gflops");
    const cJSON *byisa = cJSON_GetObjectItemCaseSensitive(pk, isa);
    char key[16];
    snprintf(key, sizeof key, "%d", threads);
    double x = attn_json_num(byisa, key, NAN);
    return x > 0 ? x : NAN;
}

double plot_bandwidth(const plot_run *run, int threads)
{
    char key[16];
    snprintf(key, sizeof key, "%d", threads);
    double x = attn_json_num(cJSON_GetObjectItemCaseSensitive(run->context, "bandwidth_gbs"), key, NAN);
    return x > 0 ? x : NAN;
}

/* Same shape: every param but the kernel (and, optionally, the threads). */
static int same_shape(const plot_case *a, const plot_case *b, int with_threads)
{
    for (int ax = 0; ax < AX_COUNT; ax++) {
        if (ax == AX_THREADS && !with_threads) continue;
        if (plot_axis_cmp(a, b, ax)) return 0;
    }
    return a->run == b->run;
}

const plot_case *plot_baseline_of(const plot_set *s, const plot_case *c, int *fallback)
{
    const plot_case *one = NULL;
    if (fallback) *fallback = 0;
    if (!strcmp(c->kernel, s->baseline)) return NULL;
    for (int i = 0; i < s->n_cases; i++) {
        const plot_case *b = &s->cases[i];
        if (!b->ok || strcmp(b->kernel, s->baseline) || !same_shape(b, c, 0)) continue;
        if (b->p.threads == c->p.threads) return b;
        if (b->p.threads == 1) one = b;
    }
    if (one && fallback) *fallback = 1;
    return one;
}
