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
#include "core/peer.h"
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

/* Twenty colours: Tableau 10, navy and black (these twelve stay apart on white and for the
 * common colour-blindnesses), then eight of Tableau 20's light tones, so a registry of up
 * to twenty kernels never gives two kernels one colour in a chart. */
static const char *const palette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#000000",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#9edae5",
};
#define N_PALETTE (int)(sizeof palette / sizeof palette[0])

/* Registry position of a kernel (peers after the kernels), or -1 when this build does
 * not know it. */
static int kernel_rank(const char *name)
{
    int n = 0, np = 0;
    const attn_kernel *k = attn_kernels(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(k[i].name, name)) return i;
    const attn_peer *p = attn_peers(&np);
    for (int i = 0; i < np; i++)
        if (!strcmp(p[i].k.name, name)) return n + i;
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

/* ================================================================ sorting == */

typedef struct { int first; unsigned axes; } sort_key;

static int key_cmp(const plot_case *a, const plot_case *b, const sort_key *k)
{
    int c = k->first >= 0 ? plot_axis_cmp(a, b, k->first) : 0;
    for (int ax = 0; ax < AX_COUNT && !c; ax++)
        if (k->axes & (1u << ax)) c = plot_axis_cmp(a, b, ax);
    return c;
}

static void merge_sort(const plot_case **v, const plot_case **tmp, int n, const sort_key *k)
{
    if (n < 2) return;
    int h = n / 2;
    merge_sort(v, tmp, h, k);
    merge_sort(v + h, tmp, n - h, k);
    if (key_cmp(v[h - 1], v[h], k) <= 0) return;        /* already in order */
    int i = 0, j = h, o = 0;
    while (i < h && j < n) tmp[o++] = key_cmp(v[j], v[i], k) < 0 ? v[j++] : v[i++];
    while (i < h) tmp[o++] = v[i++];
    while (j < n) tmp[o++] = v[j++];
    memcpy(v, tmp, (size_t)n * sizeof *v);
}

int plot_sort_cases(const plot_case **v, int n, int first, unsigned axes)
{
    if (n < 2) return 0;
    const plot_case **tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp) return -1;
    sort_key k = { first, axes };
    merge_sort(v, tmp, n, &k);
    free(tmp);
    return 0;
}

/* Is `axis` a function of `x` among these cases (equal x => equal axis)? Such an axis
 * follows x (kv_len = q_len; kv_heads = heads) and is not split into separate charts.
 * Sorted by (x, axis), a violation shows between neighbours: n log n. Out of memory:
 * "does not follow" (the charts are then split on it, never merged wrongly). */
int plot_follows(const plot_case *const *cs, int n, int axis, int x)
{
    const plot_case **v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) return 0;
    memcpy(v, cs, (size_t)n * sizeof *v);
    int ok = plot_sort_cases(v, n, x, 1u << axis) == 0;
    for (int i = 1; i < n && ok; i++)
        if (!plot_axis_cmp(v[i - 1], v[i], x) && plot_axis_cmp(v[i - 1], v[i], axis)) ok = 0;
    free(v);
    return ok;
}

/* ================================================================== index == */

/* What plot_load_run builds after each run, so that charts and the report never scan
 * every case per case: the sweeps (first-appearance order, each with its cases in file
 * order and the axes it varies), the sweeps sorted by name for lookups, and the valid
 * baseline-kernel cases sorted by shape for plot_baseline_of. */
typedef struct plot_sweep {
    const char *name;
    const plot_case **cases;    /* into plot_index.by_sweep */
    int n;
    unsigned varied;
} plot_sweep;

struct plot_index {
    plot_sweep *sweeps;         /* first-appearance order */
    int n_sweeps;
    int *by_name;               /* sweep numbers sorted by name */
    const plot_case **by_sweep; /* every case, grouped by sweep */
    const plot_case **base;     /* ok baseline cases by (run, shape but threads, threads) */
    int n_base;
};

static void index_free(struct plot_index *x)
{
    if (!x) return;
    free(x->sweeps);
    free(x->by_name);
    free(x->by_sweep);
    free(x->base);
    free(x);
}

void plot_set_free(plot_set *s)
{
    for (int i = 0; i < s->n_runs; i++) cJSON_Delete(s->runs[i].doc);
    free(s->runs);
    free(s->cases);
    index_free(s->index);
    s->runs = NULL;
    s->cases = NULL;
    s->index = NULL;
    s->n_runs = s->n_cases = 0;
}

static const plot_set *sort_set;    /* qsort has no context: the set being indexed */

static int by_sweep_then_pos(const void *a, const void *b)
{
    const plot_case *x = *(const plot_case *const *)a, *y = *(const plot_case *const *)b;
    int c = strcmp(x->sweep, y->sweep);
    return c ? c : (x > y) - (x < y);
}

static int by_first_case(const void *a, const void *b)
{
    const plot_sweep *x = a, *y = b;
    return (x->cases[0] > y->cases[0]) - (x->cases[0] < y->cases[0]);
}

static int by_sweep_name(const void *a, const void *b)
{
    return strcmp(sort_set->index->sweeps[*(const int *)a].name,
                  sort_set->index->sweeps[*(const int *)b].name);
}

/* Order of baseline cases: run, every axis but threads, threads, file position. */
static int base_cmp(const plot_case *a, const plot_case *b, int with_threads)
{
    if (a->run != b->run) return a->run < b->run ? -1 : 1;
    for (int ax = 0; ax < AX_COUNT; ax++) {
        if (ax == AX_THREADS && !with_threads) continue;
        int c = plot_axis_cmp(a, b, ax);
        if (c) return c;
    }
    return 0;
}

static int by_base(const void *a, const void *b)
{
    const plot_case *x = *(const plot_case *const *)a, *y = *(const plot_case *const *)b;
    int c = base_cmp(x, y, 1);
    return c ? c : (x > y) - (x < y);
}

static unsigned varied_of(const plot_sweep *w)
{
    unsigned varied = 0;
    for (int i = 1; i < w->n; i++)
        for (int a = 0; a < AX_COUNT; a++)
            if (!(varied & (1u << a)) && plot_axis_cmp(w->cases[0], w->cases[i], a)) varied |= 1u << a;
    return varied;
}

/* (Re)build s->index: n log n in cases. -1 when out of memory (s->index then NULL). */
static int index_build(plot_set *s)
{
    index_free(s->index);
    s->index = NULL;
    struct plot_index *x = calloc(1, sizeof *x);
    size_t n = (size_t)s->n_cases;
    if (!x || !(x->by_sweep = malloc((n ? n : 1) * sizeof *x->by_sweep)) ||
        !(x->sweeps = malloc((n ? n : 1) * sizeof *x->sweeps)) ||
        !(x->by_name = malloc((n ? n : 1) * sizeof *x->by_name)) ||
        !(x->base = malloc((n ? n : 1) * sizeof *x->base))) {
        index_free(x);
        return -1;
    }
    for (size_t i = 0; i < n; i++) x->by_sweep[i] = &s->cases[i];
    qsort(x->by_sweep, n, sizeof *x->by_sweep, by_sweep_then_pos);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(x->by_sweep[i]->sweep, x->by_sweep[i - 1]->sweep))
            x->sweeps[x->n_sweeps++] = (plot_sweep){ x->by_sweep[i]->sweep, &x->by_sweep[i], 0, 0 };
        x->sweeps[x->n_sweeps - 1].n++;
    }
    qsort(x->sweeps, (size_t)x->n_sweeps, sizeof *x->sweeps, by_first_case);
    for (int k = 0; k < x->n_sweeps; k++) {
        x->sweeps[k].varied = varied_of(&x->sweeps[k]);
        x->by_name[k] = k;
    }
    s->index = x;
    sort_set = s;
    qsort(x->by_name, (size_t)x->n_sweeps, sizeof *x->by_name, by_sweep_name);
    for (size_t i = 0; i < n; i++)
        if (s->baseline && s->cases[i].ok && !strcmp(s->cases[i].kernel, s->baseline))
            x->base[x->n_base++] = &s->cases[i];
    qsort(x->base, (size_t)x->n_base, sizeof *x->base, by_base);
    return 0;
}

int plot_sweep_count(const plot_set *s) { return s->index ? s->index->n_sweeps : 0; }

const char *plot_sweep_name(const plot_set *s, int k) { return s->index->sweeps[k].name; }

static const plot_sweep *find_sweep(const plot_set *s, const char *sweep)
{
    const struct plot_index *x = s->index;
    int lo = 0, hi = x ? x->n_sweeps : 0;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(x->sweeps[x->by_name[mid]].name, sweep);
        if (c == 0) return &x->sweeps[x->by_name[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const plot_case *const *plot_sweep_cases(const plot_set *s, const char *sweep, int *n)
{
    const plot_sweep *w = find_sweep(s, sweep);
    *n = w ? w->n : 0;
    return w ? w->cases : NULL;
}

unsigned plot_varied_axes(const plot_set *s, const char *sweep)
{
    const plot_sweep *w = find_sweep(s, sweep);
    return w ? w->varied : 0;
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
    pc->peer = !strcmp(attn_json_str(o, "kind", ""), "peer");
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

    /* the tunables used (absent: the kernel has none, or an older file): whole numbers
     * from 1 to 2^20, else 0 */
    const cJSON *tu = cJSON_GetObjectItemCaseSensitive(o, "tunables");
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) {
        double v = attn_json_num(tu, attn_tune_names[t], 0);
        pc->p.tune_used[t] = v >= 1 && v <= (1 << 20) && v == floor(v) ? (int)v : 0;
    }
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(o, "parts");
    for (int q = 0; q < ATTN_PART_COUNT; q++)
        pc->part_med[q] = attn_json_num(cJSON_GetObjectItemCaseSensitive(parts, attn_part_names[q]),
                                        "median", NAN);
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
    plot_case *cs = plot_grow(s->cases, (size_t)s->n_cases + (size_t)cJSON_GetArraySize(cases) + 1,
                              sizeof *s->cases);
    s->n_runs++;                /* the document is freed with the set from here on */
    if (!cs) {
        fprintf(stderr, "attnbench plot: %s: out of memory\n", dir);
        return -1;
    }
    s->cases = cs;
    cJSON_ArrayForEach(o, cases)
        if (cJSON_IsObject(o)) flatten_case(&s->cases[s->n_cases++], o, s->n_runs - 1);
    if (index_build(s)) {
        fprintf(stderr, "attnbench plot: %s: out of memory\n", dir);
        return -1;
    }
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

/* The first indexed baseline case of c's run and shape (every axis but threads) with
 * `threads` threads, by binary search; NULL when there is none. */
static const plot_case *base_lookup(const struct plot_index *x, const plot_case *c, int threads)
{
    plot_case key = *c;
    key.p.threads = threads;
    int lo = 0, hi = x->n_base;
    while (lo < hi) {                   /* lower bound of (run, shape, threads) */
        int mid = lo + (hi - lo) / 2;
        if (base_cmp(x->base[mid], &key, 1) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo == x->n_base || base_cmp(x->base[lo], c, 0)) return NULL;
    return x->base[lo]->p.threads == threads ? x->base[lo] : NULL;
}

const plot_case *plot_baseline_of(const plot_set *s, const plot_case *c, int *fallback)
{
    if (fallback) *fallback = 0;
    if (!s->baseline || !strcmp(c->kernel, s->baseline) || !s->index) return NULL;
    const plot_case *b = base_lookup(s->index, c, c->p.threads);
    if (b) return b;
    const plot_case *one = base_lookup(s->index, c, 1);
    if (one && fallback) *fallback = 1;
    return one;
}
