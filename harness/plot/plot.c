/* plot.c: `attnbench plot DIR [DIR...]`: charts and a report from results.json alone.
 *
 * Cases are flattened (plot_case), split by sweep, and for every chart kind whose x axis
 * the sweep varies, one chart is drawn per combination of the OTHER axes the sweep varies
 * (axes that merely follow x, like kv_len = q_len in a self-attention sweep, are not
 * split on). Series are kernels (times runs, when several DIRs are overlaid), each kernel
 * in the same colour everywhere. The chart kinds:
 *
 *   <sweep>-time      median time against sequence length, 95% CI bars, log-log
 *   <sweep>-memory    peak RSS and the kernel's extra bytes against sequence length;
 *                     over-budget skips marked at the bytes they needed
 *   <sweep>-gflops    GFLOP/s against sequence length, measured peak as a line, % of peak
 *   <sweep>-speedup   speedup over the baseline kernel (naive, or --baseline)
 *   <sweep>-heads     median time against heads
 *   <sweep>-threads   speedup over the kernel's own single-thread time, with the ideal line
 *   <sweep>-window    median time against local window size; full attention dashed
 *
 * plot_gnuplot.c draws them; report.c writes report.md / report.html.
 */
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
#include "cli/commands.h"
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
static void *grow(void *p, size_t n, size_t size)
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
static int kernel_cmp(const char *a, const char *b)
{
    int ra = kernel_rank(a), rb = kernel_rank(b);
    if (ra < 0) ra = 1 << 20;
    if (rb < 0) rb = 1 << 20;
    return ra != rb ? (ra < rb ? -1 : 1) : strcmp(a, b);
}

/* ================================================================== axes == */

/* Each axis: its name, its file-name prefix and the table rows it shows (first row, and
 * how many: 2 for the window's two sides). Built from core/params.def's AXIS column. */
typedef struct { const char *name, *short_; int row, n_rows; } axis_def;

#define AX(E, NAME, SHORT) [AX_##E] = { NAME, SHORT, P_ROW, 1 },
#define AXJOIN
#define NOAX
#define P_ROW (-1)      /* filled by axis_defs() */
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
static const axis_def *axis_defs(void)
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

const char *plot_axis_name(int axis) { return axis >= 0 && axis < AX_COUNT ? axis_defs()[axis].name : "?"; }

/* Numeric value of an axis: its first row (enums: their index). */
static double axis_num(const plot_case *c, int axis)
{
    return attn_param_get(&c->p, axis_defs()[axis].row);
}

/* Order of two cases along one axis; 0 = same value. Row by row; an unbounded side (-1)
 * and an enum name this build does not know sort last; ENUM_BY_NAME rows by name. */
static int axis_cmp(const plot_case *a, const plot_case *b, int axis)
{
    const axis_def *d = &axis_defs()[axis];
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
    const axis_def *d = &axis_defs()[axis];
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
static double window_x(const plot_case *c)
{
    if (c->p.window_left < 0 && c->p.window_right < 0) return NAN;
    if (c->p.window_right < 0 || c->p.window_right == c->p.window_left || c->p.window_right == 0) return c->p.window_left < 0 ? c->p.window_right : c->p.window_left;
    if (c->p.window_left < 0 || c->p.window_left == 0) return c->p.window_right;
    return c->p.window_left + c->p.window_right;
}

/* Label of one group: "heads 8, threads 2" (readable) or "h8-t2" (for file names). */
static void group_text(const plot_case *c, unsigned axes, int for_file, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int a = 0; a < AX_COUNT && len < n; a++) {
        if (!(axes & (1u << a))) continue;
        char v[64];
        plot_axis_value_text(c, a, v, sizeof v);
        if (for_file)
            len += snprintf(buf + len, n - len, "%s%s%s", len ? "-" : "", axis_defs()[a].short_, v);
        else
            len += snprintf(buf + len, n - len, "%s%s %s", len ? ", " : "", axis_defs()[a].name, v);
    }
    if (for_file)   /* keep file names to [A-Za-z0-9._-] */
        for (char *p = buf; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '.' || *p == '_' || *p == '-')) *p = '_';
}

static int in_sweep(const plot_case *c, const char *sweep) { return !strcmp(c->sweep, sweep); }

unsigned plot_varied_axes(const plot_set *s, const char *sweep)
{
    unsigned varied = 0;
    const plot_case *first = NULL;
    for (int i = 0; i < s->n_cases; i++) {
        const plot_case *c = &s->cases[i];
        if (!in_sweep(c, sweep)) continue;
        if (!first) { first = c; continue; }
        for (int a = 0; a < AX_COUNT; a++)
            if (axis_cmp(first, c, a)) varied |= 1u << a;
    }
    return varied;
}

/* Is `axis` a function of `x` among these cases (equal x => equal axis)? Such an axis
 * follows x (kv_len = q_len; kv_heads = heads) and is not split into separate charts. */
static int follows(const plot_case *const *cs, int n, int axis, int x)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (!axis_cmp(cs[i], cs[j], x) && axis_cmp(cs[i], cs[j], axis)) return 0;
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

    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "memory");
    pc->rss = attn_json_num(m, "peak_rss_bytes", NAN);
    pc->extra = attn_json_num(m, "kernel_extra_bytes", NAN);
    pc->workspace = attn_json_num(m, "workspace_bytes", NAN);

    /* over-budget skip: the bytes the case needed (absent otherwise) */
    pc->need_bytes = attn_json_num(m, "need_bytes", NAN);
}

static int load_run(plot_set *s, const char *dir)
{
    char err[512];
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    if (!doc) {
        fprintf(stderr, "attnbench plot: %s\n", err);
        return -1;
    }
    plot_run *runs = grow(s->runs, (size_t)s->n_runs + 1, sizeof *s->runs);
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
        plot_case *cs = grow(s->cases, (size_t)s->n_cases + 1, sizeof *s->cases);
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

/* Same shape: every param but the kernel (and, optionally, the threads). */
static int same_shape(const plot_case *a, const plot_case *b, int with_threads)
{
    for (int ax = 0; ax < AX_COUNT; ax++) {
        if (ax == AX_THREADS && !with_threads) continue;
        if (axis_cmp(a, b, ax)) return 0;
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

/* =========================================================== chart model == */

plot_series *plot_panel_add(plot_panel *p, const char *title, plot_style style,
                            const char *colour, int dash, int point)
{
    plot_series *s = &p->sink;
    if (p->n_series == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        plot_series *ns = grow(p->series, (size_t)cap, sizeof *p->series);
        if (ns) {
            p->series = ns;
            p->cap = cap;
        }
    }
    if (p->n_series < p->cap) s = &p->series[p->n_series++];
    else {
        p->oom = 1;
        free(p->sink.pts);
    }
    memset(s, 0, sizeof *s);
    snprintf(s->title, sizeof s->title, "%s", title ? title : "");
    s->style = style;
    snprintf(s->colour, sizeof s->colour, "%s", colour ? colour : "#000000");
    s->dash = dash;
    s->point = point;
    return s;
}

/* A case of the series that has no value (invalid, skipped, crashed): the line breaks
 * there instead of bridging it. */
static void series_gap(plot_series *s, double x)
{
    if (!isnan(x)) plot_series_add(s, x, NAN, NAN, NAN, NULL);
}

void plot_series_add(plot_series *s, double x, double y, double ylo, double yhi, const char *id)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        plot_point *np = grow(s->pts, (size_t)cap, sizeof *s->pts);
        if (!np) { s->oom = 1; return; }
        s->pts = np;
        s->cap = cap;
    }
    s->pts[s->n++] = (plot_point){ x, y, ylo, yhi, id };
}

int plot_panel_points(const plot_panel *p)
{
    int n = 0;
    for (int i = 0; i < p->n_series; i++)
        if (p->series[i].style <= PS_MARKS)
            for (int j = 0; j < p->series[i].n; j++) n += isfinite(p->series[i].pts[j].y);
    return n;
}

int plot_chart_oom(const plot_chart *c)
{
    for (int p = 0; p < c->n_panels; p++) {
        if (c->panels[p].oom) return 1;
        for (int i = 0; i < c->panels[p].n_series; i++)
            if (c->panels[p].series[i].oom) return 1;
    }
    return 0;
}

void plot_chart_free(plot_chart *c)
{
    for (int p = 0; p < c->n_panels; p++) {
        for (int i = 0; i < c->panels[p].n_series; i++) free(c->panels[p].series[i].pts);
        free(c->panels[p].series);
        free(c->panels[p].sink.pts);
    }
    memset(c, 0, sizeof *c);
}

/* ========================================================= chart builders == */

/* What a builder gets: the cases of one chart (one group of one sweep), the x axis. */
typedef struct chart_in {
    const plot_set *set;
    const plot_case **cs;
    int n;
    int x;                      /* plot_axis of the x axis */
} chart_in;

/* Point styles per run (filled circle, square, triangle, diamond, ...) and dash types,
 * so overlaid runs of the same kernel share its colour but stay apart. */
static const int run_points[] = { 7, 5, 9, 13, 11, 15 };
static int run_point(int run) { return run_points[run % 6]; }
static int run_dash(int run) { return 1 + run % 5; }

/* Distinct (kernel, run) pairs among the chart's cases, in legend order. */
typedef struct { const char *kernel; int run; } series_key;

static int series_keys(const chart_in *in, series_key *out, int max)
{
    int n = 0;
    for (int i = 0; i < in->n; i++) {
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = out[j].run == in->cs[i]->run && !strcmp(out[j].kernel, in->cs[i]->kernel);
        if (!seen && n < max) out[n++] = (series_key){ in->cs[i]->kernel, in->cs[i]->run };
    }
    for (int i = 1; i < n; i++)        /* insertion sort: registry order, then run */
        for (int j = i; j > 0; j--) {
            int c = kernel_cmp(out[j - 1].kernel, out[j].kernel);
            if (c < 0 || (c == 0 && out[j - 1].run <= out[j].run)) break;
            series_key t = out[j]; out[j] = out[j - 1]; out[j - 1] = t;
        }
    return n;
}

static void series_title(const chart_in *in, const series_key *k, char *buf, size_t n)
{
    if (in->set->n_runs > 1) snprintf(buf, n, "%s [%s]", k->kernel, in->set->runs[k->run].label);
    else snprintf(buf, n, "%s", k->kernel);
}

static double x_of(const plot_case *c, int x)
{
    return x == AX_WINDOW ? window_x(c) : axis_num(c, x);
}

/* Cases of one series sorted by x (pointers into in->cs). */
static int series_cases(const chart_in *in, const series_key *k, const plot_case **out)
{
    int n = 0;
    for (int i = 0; i < in->n; i++)
        if (in->cs[i]->run == k->run && !strcmp(in->cs[i]->kernel, k->kernel)) out[n++] = in->cs[i];
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && axis_cmp(out[j - 1], out[j], in->x) > 0; j--) {
            const plot_case *t = out[j]; out[j] = out[j - 1]; out[j - 1] = t;
        }
    return n;
}

/* A unit for seconds so tick labels read 1..1000: "s", "ms" or "us". */
static double time_unit(const chart_in *in, const char **name)
{
    double mx = 0;
    for (int i = 0; i < in->n; i++)
        if (in->cs[i]->ok && in->cs[i]->t_hi > mx) mx = in->cs[i]->t_hi;
    if (mx >= 1) { *name = "s"; return 1; }
    if (mx >= 1e-3) { *name = "ms"; return 1e3; }
    *name = "µs";
    return 1e6;
}

static double bytes_unit(double mx, const char **name)
{
    if (mx >= 1024.0 * 1024 * 1024) { *name = "GiB"; return 1.0 / (1024.0 * 1024 * 1024); }
    if (mx >= 1024.0 * 1024) { *name = "MiB"; return 1.0 / (1024.0 * 1024); }
    *name = "KiB";
    return 1.0 / 1024;
}

/* Median time with CI bars, one series per kernel; unstable points ringed. Used for
 * time against sequence length, heads and window (full attention as dashed levels). */
static void build_time(const chart_in *in, plot_chart *ch)
{
    series_key keys[64];
    const plot_case **sc = malloc(in->n * sizeof *sc);
    int nk = series_keys(in, keys, 64), any_unstable = 0;
    const char *unit;
    plot_panel *p = &ch->panels[ch->n_panels++];
    p->yscale = time_unit(in, &unit);
    p->logy = 1;
    snprintf(p->ylabel, sizeof p->ylabel, "median time per call (%s), bars: 95%% CI", unit);
    for (int k = 0; k < nk; k++) {
        char title[160];
        series_title(in, &keys[k], title, sizeof title);
        const char *col = plot_kernel_colour(keys[k].kernel);
        plot_series *s = plot_panel_add(p, title, PS_ERRLINES, col, run_dash(keys[k].run), run_point(keys[k].run));
        int n = series_cases(in, &keys[k], sc);
        plot_series *u = NULL;
        for (int i = 0; i < n; i++) {
            const plot_case *c = sc[i];
            double x = x_of(c, in->x);
            if (!c->ok) { series_gap(s, x); continue; }
            if (isnan(x)) {         /* full attention on a window chart: a dashed level */
                char ft[200];
                plot_fmt(ft, sizeof ft, "%s, full attention", title);
                plot_series *f = plot_panel_add(p, ft, PS_HLINE, col, 2, 0);
                f->value = c->t_med;
                continue;
            }
            plot_series_add(s, x, c->t_med, c->t_lo, c->t_hi, c->id);
            if (c->unstable) {
                if (!u) u = plot_panel_add(p, "", PS_MARKS, col, 1, 6);
                plot_series_add(u, x, c->t_med, NAN, NAN, c->id);
                any_unstable = 1;
            }
        }
    }
    if (any_unstable) plot_panel_add(p, "ringed: unstable (CV > 5%)", PS_KEYONLY, "#555555", 1, 6);
    free(sc);
}

/* Peak RSS (left) and the kernel call's extra resident bytes (right); over-budget skips
 * drawn as crosses at the bytes they would have needed. */
static void build_memory(const chart_in *in, plot_chart *ch)
{
    series_key keys[64];
    const plot_case **sc = malloc(in->n * sizeof *sc);
    int nk = series_keys(in, keys, 64), any_over = 0, any_small = 0;
    double mx = 0, mx_extra = 0;
    for (int i = 0; i < in->n; i++) {
        const plot_case *c = in->cs[i];
        if (c->ok && c->rss > mx) mx = c->rss;
        if (c->need_bytes > mx) mx = c->need_bytes;
        if (c->ok && c->extra > mx_extra) mx_extra = c->extra;
    }
    const char *unit, *unit_extra;
    plot_panel *rss = &ch->panels[ch->n_panels++], *ext = &ch->panels[ch->n_panels++];
    rss->yscale = bytes_unit(mx, &unit);
    ext->yscale = bytes_unit(mx_extra, &unit_extra);
    snprintf(rss->title, sizeof rss->title, "peak RSS of the case process");
    snprintf(rss->ylabel, sizeof rss->ylabel, "peak RSS (%s)", unit);
    snprintf(ext->title, sizeof ext->title, "extra resident memory of the kernel call");
    snprintf(ext->ylabel, sizeof ext->ylabel, "kernel extra (%s)", unit_extra);
    rss->logy = ext->logy = 1;
    for (int k = 0; k < nk; k++) {
        char title[160];
        series_title(in, &keys[k], title, sizeof title);
        const char *col = plot_kernel_colour(keys[k].kernel);
        int dt = run_dash(keys[k].run), pt = run_point(keys[k].run);
        plot_series *a = plot_panel_add(rss, title, PS_LINES, col, dt, pt);
        plot_series *b = plot_panel_add(ext, title, PS_LINES, col, dt, pt);
        plot_series *o = NULL;
        int n = series_cases(in, &keys[k], sc);
        for (int i = 0; i < n; i++) {
            const plot_case *c = sc[i];
            double x = x_of(c, in->x);
            if (isnan(x)) continue;
            if (!c->ok) { series_gap(a, x); series_gap(b, x); }
            if (c->ok && c->rss > 0) plot_series_add(a, x, c->rss, NAN, NAN, c->id);
            if (c->ok && c->extra >= 0) {
                /* below one page is below what RSS can resolve: drawn at 4 KiB */
                double e = c->extra < 4096 ? 4096 : c->extra;
                any_small |= c->extra < 4096;
                plot_series_add(b, x, e, NAN, NAN, c->id);
            }
            if (c->need_bytes > 0) {
                if (!o) o = plot_panel_add(rss, "", PS_MARKS, col, 1, 2);
                plot_series_add(o, x, c->need_bytes, NAN, NAN, c->id);
                any_over = 1;
            }
        }
    }
    if (any_over) plot_panel_add(rss, "cross: skipped, over memory budget (bytes needed)", PS_KEYONLY, "#555555", 1, 2);
    if (any_small) snprintf(ext->title, sizeof ext->title,
                            "extra resident memory of the kernel call (below 4 KiB drawn at 4 KiB)");
    free(sc);
}

/* GFLOP/s with the measured peak of each (ISA, threads) present as a dashed level and,
 * when there is one peak, % of it on the right axis. */
static void build_gflops(const chart_in *in, plot_chart *ch)
{
    series_key keys[64];
    const plot_case **sc = malloc(in->n * sizeof *sc);
    int nk = series_keys(in, keys, 64);
    plot_panel *p = &ch->panels[ch->n_panels++];
    p->yscale = 1;
    p->y_from_zero = 1;
    snprintf(p->ylabel, sizeof p->ylabel, "GFLOP/s (attended pairs only)");
    for (int k = 0; k < nk; k++) {
        char title[160];
        series_title(in, &keys[k], title, sizeof title);
        plot_series *s = plot_panel_add(p, title, PS_LINES, plot_kernel_colour(keys[k].kernel),
                                        run_dash(keys[k].run), run_point(keys[k].run));
        int n = series_cases(in, &keys[k], sc);
        for (int i = 0; i < n; i++) {
            double x = x_of(sc[i], in->x);
            if (sc[i]->ok && sc[i]->gflops > 0) plot_series_add(s, x, sc[i]->gflops, NAN, NAN, sc[i]->id);
            else series_gap(s, x);
        }
    }
    /* one level per distinct (run, isa, threads) that has a measured peak */
    int n_peaks = 0;
    double first = NAN;
    char first_label[96] = "";
    for (int i = 0; i < in->n; i++) {
        const plot_case *c = in->cs[i];
        if (!c->ok) continue;
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = in->cs[j]->ok && in->cs[j]->run == c->run && in->cs[j]->p.threads == c->p.threads &&
                  !strcmp(in->cs[j]->isa, c->isa);
        if (dup) continue;
        double pk = plot_peak(&in->set->runs[c->run], c->isa, c->p.threads);
        if (isnan(pk)) continue;
        char t[160];
        snprintf(t, sizeof t, "peak %s, %d thr%s%s: %.3g GFLOP/s", c->isa, c->p.threads, in->set->n_runs > 1 ? " " : "",
                 in->set->n_runs > 1 ? in->set->runs[c->run].label : "", pk);
        plot_series *h = plot_panel_add(p, t, PS_HLINE, "#000000", 2 + n_peaks % 4, 0);
        h->value = pk;
        if (!n_peaks++ || pk > first) {
            first = pk;
            snprintf(first_label, sizeof first_label, "%s, %d thread%s", c->isa, c->p.threads, c->p.threads == 1 ? "" : "s");
        }
    }
    if (n_peaks) {  /* several roofs (ISAs): percentages of the highest, said on the axis */
        p->y2_peak = first;
        snprintf(p->y2label, sizeof p->y2label, "%% of measured peak (%s)", first_label);
    }
    free(sc);
}

/* Speedup over the baseline kernel on the same shape, CI-derived bars. */
static void build_speedup(const chart_in *in, plot_chart *ch)
{
    series_key keys[64];
    const plot_case **sc = malloc(in->n * sizeof *sc);
    int nk = series_keys(in, keys, 64), any_fallback = 0;
    plot_panel *p = &ch->panels[ch->n_panels++];
    p->yscale = 1;
    p->logy = 1;
    snprintf(p->ylabel, sizeof p->ylabel, "speedup over %s (times faster)", in->set->baseline);
    for (int k = 0; k < nk; k++) {
        if (!strcmp(keys[k].kernel, in->set->baseline)) continue;
        char title[160];
        series_title(in, &keys[k], title, sizeof title);
        plot_series *s = plot_panel_add(p, title, PS_ERRLINES, plot_kernel_colour(keys[k].kernel),
                                        run_dash(keys[k].run), run_point(keys[k].run));
        int n = series_cases(in, &keys[k], sc);
        for (int i = 0; i < n; i++) {
            const plot_case *c = sc[i];
            int fb;
            const plot_case *b = c->ok ? plot_baseline_of(in->set, c, &fb) : NULL;
            if (!b) { series_gap(s, x_of(c, in->x)); continue; }
            any_fallback |= fb;
            /* conservative interval of the ratio of medians from both CIs */
            plot_series_add(s, x_of(c, in->x), b->t_med / c->t_med, b->t_lo / c->t_hi,
                            b->t_hi / c->t_lo, c->id);
        }
    }
    char same[96];
    snprintf(same, sizeof same, "1 = as fast as %s", in->set->baseline);
    plot_series *one = plot_panel_add(p, same, PS_HLINE, "#000000", 3, 0);
    one->value = 1;
    if (any_fallback) {
        size_t L = strlen(ch->title);
        snprintf(ch->title + L, sizeof ch->title - L, "\n(%s has no multi-thread cases: its 1-thread time is the baseline there)",
                 in->set->baseline);
    }
    free(sc);
}

/* Speedup over the kernel's own 1-thread time against threads, with the ideal line. */
static void build_threads(const chart_in *in, plot_chart *ch)
{
    series_key keys[64];
    const plot_case **sc = malloc(in->n * sizeof *sc);
    int nk = series_keys(in, keys, 64);
    plot_panel *p = &ch->panels[ch->n_panels++];
    p->yscale = 1;
    p->y_from_zero = 1;
    snprintf(p->ylabel, sizeof p->ylabel, "speedup over 1 thread (times faster)");
    for (int k = 0; k < nk; k++) {
        int n = series_cases(in, &keys[k], sc);
        const plot_case *one = NULL;
        int valid = 0;
        for (int i = 0; i < n; i++) {
            if (sc[i]->ok && sc[i]->p.threads == 1) one = sc[i];
            valid += sc[i]->ok;
        }
        if (!one || valid < 2) continue;    /* nothing to scale against, or no scaling */
        char title[160];
        series_title(in, &keys[k], title, sizeof title);
        plot_series *s = plot_panel_add(p, title, PS_ERRLINES, plot_kernel_colour(keys[k].kernel),
                                        run_dash(keys[k].run), run_point(keys[k].run));
        for (int i = 0; i < n; i++)
            if (sc[i]->ok)
                plot_series_add(s, sc[i]->p.threads, one->t_med / sc[i]->t_med,
                                one->t_lo / sc[i]->t_hi, one->t_hi / sc[i]->t_lo, sc[i]->id);
    }
    plot_series *ideal = plot_panel_add(p, "ideal (speedup = threads)", PS_IDEAL, "#000000", 3, 0);
    ideal->value = 1;
    free(sc);
}

/* ============================================================ the driver == */

typedef void (*builder)(const chart_in *, plot_chart *);

typedef struct plot_job {
    plot_set *set;
    plot_gnuplot *gp;
    const char *outdir;
    plot_drawn *drawn;
    int n_drawn, cap_drawn;
    int failed;                 /* a chart was lost to an allocation failure: exit 2 */
} plot_job;

static const char *x_label(int x)
{
    switch (x) {
    case AX_Q_LEN: return "sequence length (query tokens)";
    case AX_KV_LEN: return "key/value length (tokens)";
    case AX_HEADS: return "query heads";
    case AX_THREADS: return "threads";
    case AX_WINDOW: return "local window (keys on each side of the query)";
    default: return plot_axis_name(x);
    }
}

/* Params the whole sweep holds fixed, for chart subtitles: "batch 1, heads 8, ...". */
static void fixed_text(const plot_case *c, unsigned varied, char *buf, size_t n)
{
    static const int shown[] = { AX_BATCH, AX_HEADS, AX_KV_HEADS, AX_Q_LEN, AX_KV_LEN, AX_HEAD_DIM,
                                 AX_V_DIM, AX_THREADS, AX_MASK, AX_WINDOW, AX_GLOBALS, AX_SCORE };
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof shown / sizeof shown[0] && len < n; i++) {
        int a = shown[i];
        if (varied & (1u << a)) continue;
        if (a == AX_KV_HEADS && c->p.kv_heads == c->p.heads) continue;
        if (a == AX_KV_LEN && c->p.kv_len == c->p.q_len) continue;
        if (a == AX_V_DIM && c->p.v_dim == c->p.head_dim) continue;
        if (a == AX_GLOBALS && c->p.globals == 0) continue;
        if (a == AX_WINDOW && c->p.window_left < 0 && c->p.window_right < 0) continue;    /* full attention */
        char v[64];
        plot_axis_value_text(c, a, v, sizeof v);
        len += snprintf(buf + len, n - len, "%s%s %s", len ? ", " : "", axis_defs()[a].name, v);
    }
}

/* Draw one chart kind for one sweep: one chart per group of the other varied axes. */
static void draw_kind(plot_job *job, const char *sweep, const char *stem, const char *what,
                      int x, builder build)
{
    plot_set *s = job->set;
    const plot_case **cs = malloc(s->n_cases * sizeof *cs), **grp = malloc(s->n_cases * sizeof *grp);
    const plot_case **reps = malloc(s->n_cases * sizeof *reps);
    int n = 0, n_reps = 0;
    for (int i = 0; i < s->n_cases; i++)
        if (in_sweep(&s->cases[i], sweep)) cs[n++] = &s->cases[i];
    unsigned varied = plot_varied_axes(s, sweep);
    unsigned split = 0;
    for (int a = 0; a < AX_COUNT; a++)
        if (a != x && (varied & (1u << a)) && !follows(cs, n, a, x)) split |= 1u << a;
    /* an axis that follows another split axis adds no groups (kv_len = q_len): drop it */
    for (int a = AX_COUNT - 1; a >= 0; a--)
        for (int b = 0; b < AX_COUNT && (split & (1u << a)); b++)
            if (b != a && (split & (1u << b)) && follows(cs, n, a, b)) split &= ~(1u << a);
    /* one representative case per group, groups in axis order */
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < n_reps && !seen; j++) {
            int same = 1;
            for (int a = 0; a < AX_COUNT && same; a++)
                if ((split & (1u << a)) && axis_cmp(reps[j], cs[i], a)) same = 0;
            seen = same;
        }
        if (!seen) reps[n_reps++] = cs[i];
    }
    for (int i = 1; i < n_reps; i++)
        for (int j = i; j > 0; j--) {
            int c = 0;
            for (int a = 0; a < AX_COUNT && !c; a++)
                if (split & (1u << a)) c = axis_cmp(reps[j - 1], reps[j], a);
            if (c <= 0) break;
            const plot_case *t = reps[j]; reps[j] = reps[j - 1]; reps[j - 1] = t;
        }
    char fixed[400];
    fixed_text(cs[0], varied | (1u << x), fixed, sizeof fixed);

    for (int g = 0; g < n_reps; g++) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            int same = 1;
            for (int a = 0; a < AX_COUNT && same; a++)
                if ((split & (1u << a)) && axis_cmp(reps[g], cs[i], a)) same = 0;
            if (same) grp[m++] = cs[i];
        }
        chart_in in = { s, grp, m, x };
        plot_chart ch;
        memset(&ch, 0, sizeof ch);
        char gf[160], gt[240];
        group_text(reps[g], split, 1, gf, sizeof gf);
        group_text(reps[g], split, 0, gt, sizeof gt);
        snprintf(ch.name, sizeof ch.name, "%s-%s%s%s", sweep, stem, gf[0] ? "-" : "", gf);
        for (char *p = ch.name; *p; p++)
            if (*p == '/' || *p == ' ') *p = '_';
        plot_fmt(ch.title, sizeof ch.title, "%s: %s%s%s\n%s", sweep, what, gt[0] ? ", " : "", gt, fixed);
        snprintf(ch.xlabel, sizeof ch.xlabel, "%s", x_label(x));
        ch.logx = x != AX_THREADS;
        build(&in, &ch);
        if (plot_chart_oom(&ch)) {
            fprintf(stderr, "attnbench plot: %s: out of memory; chart not drawn\n", ch.name);
            job->failed = 1;
            plot_chart_free(&ch);
            continue;
        }

        /* never an empty chart: drop panels without data, skip charts without panels */
        int kept = 0;
        for (int p = 0; p < ch.n_panels; p++) {
            if (plot_panel_points(&ch.panels[p]) == 0) {
                for (int i = 0; i < ch.panels[p].n_series; i++) free(ch.panels[p].series[i].pts);
                free(ch.panels[p].series);
                continue;
            }
            ch.panels[kept++] = ch.panels[p];
        }
        ch.n_panels = kept;
        if (kept && plot_gnuplot_render(job->gp, &ch, job->outdir) == 0) {
            if (job->n_drawn == job->cap_drawn) {
                int cap = job->cap_drawn ? 2 * job->cap_drawn : 16;
                plot_drawn *nd = grow(job->drawn, (size_t)cap, sizeof *job->drawn);
                if (nd) {
                    job->drawn = nd;
                    job->cap_drawn = cap;
                }
            }
            if (job->n_drawn < job->cap_drawn) {
                plot_drawn *d = &job->drawn[job->n_drawn++];
                snprintf(d->name, sizeof d->name, "%s", ch.name);
                snprintf(d->title, sizeof d->title, "%s", ch.title);
            } else {
                fprintf(stderr, "attnbench plot: out of memory; %s left out of the report\n", ch.name);
                job->failed = 1;
            }
        }
        plot_chart_free(&ch);
    }
    free(cs);
    free(grp);
    free(reps);
}

static void draw_sweep(plot_job *job, const char *sweep)
{
    unsigned v = plot_varied_axes(job->set, sweep);
    int seq = (v & (1u << AX_Q_LEN)) ? AX_Q_LEN : (v & (1u << AX_KV_LEN)) ? AX_KV_LEN : -1;
    if (seq >= 0) {
        draw_kind(job, sweep, "time", "median time vs sequence length", seq, build_time);
        draw_kind(job, sweep, "memory", "memory vs sequence length", seq, build_memory);
        draw_kind(job, sweep, "gflops", "GFLOP/s vs sequence length", seq, build_gflops);
        char what[128];
        snprintf(what, sizeof what, "speedup over %s vs sequence length", job->set->baseline);
        draw_kind(job, sweep, "speedup", what, seq, build_speedup);
    }
    if (v & (1u << AX_HEADS)) draw_kind(job, sweep, "heads", "median time vs heads", AX_HEADS, build_time);
    if (v & (1u << AX_THREADS))
        draw_kind(job, sweep, "threads", "speedup vs threads", AX_THREADS, build_threads);
    if (v & (1u << AX_WINDOW))
        draw_kind(job, sweep, "window", "median time vs local window", AX_WINDOW, build_time);
}

/* ============================================================ the command == */

int plot_main(const char *const *dirs, int n_dirs, const char *out, const char *baseline)
{
    plot_set set = { .baseline = baseline };
    int rc = 0;
    for (int i = 0; i < n_dirs && !rc; i++)
        if (load_run(&set, dirs[i])) rc = 2;

    char outdir[4096], datadir[4200], report_dir[4096], first[4096];
    const char *plots_rel;
    attn_results_dir(dirs[0], first, sizeof first);
    int cut = 0;
    if (out) {
        cut |= plot_fmt(outdir, sizeof outdir, "%s", out);
        cut |= plot_fmt(report_dir, sizeof report_dir, "%s", out);
        plots_rel = "";
    } else if (n_dirs == 1) {
        cut |= plot_fmt(outdir, sizeof outdir, "%s/plots", first);
        cut |= plot_fmt(report_dir, sizeof report_dir, "%s", first);
        plots_rel = "plots/";
    } else {
        cut |= plot_fmt(outdir, sizeof outdir, "%s/plots/overlay", first);
        cut |= plot_fmt(report_dir, sizeof report_dir, "%s", outdir);
        plots_rel = "";
    }
    cut |= plot_fmt(datadir, sizeof datadir, "%s/data", outdir);
    if (!rc && cut) {
        fprintf(stderr, "attnbench plot: output path too long: %s\n", outdir);
        rc = 2;
    }
    if (!rc && attn_mkdir_p(datadir)) {
        fprintf(stderr, "attnbench plot: cannot create %s: %s\n", datadir, strerror(errno));
        rc = 2;
    }

    plot_gnuplot gp;
    plot_job job = { .set = &set, .gp = &gp, .outdir = outdir };
    if (!rc) {
        plot_gnuplot_probe(&gp);
        if (!gp.present)
            fprintf(stderr, "attnbench plot: gnuplot not found; install it with: sudo apt-get install "
                            "gnuplot-nox (dnf install gnuplot / brew install gnuplot)\n"
                            "attnbench plot: writing the report without charts; the chart scripts are in %s\n",
                    datadir);
        /* sweeps in order of first appearance */
        for (int i = 0; i < set.n_cases; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = !strcmp(set.cases[j].sweep, set.cases[i].sweep);
            if (!seen) draw_sweep(&job, set.cases[i].sweep);
        }
        if (plot_report_write(&set, job.drawn, job.n_drawn, report_dir, plots_rel, outdir)) rc = 2;
        else if (job.failed) rc = 2;
        else if (gp.problems) {
            fprintf(stderr, "attnbench plot: gnuplot reported problems with %d chart%s (above)\n",
                    gp.problems, gp.problems == 1 ? "" : "s");
            rc = 1;
        }
        if (!rc)
            fprintf(stderr, "attnbench plot: %d chart%s in %s, report in %s/report.md\n", job.n_drawn,
                    job.n_drawn == 1 ? "" : "s", outdir, report_dir);
    }

    for (int i = 0; i < set.n_runs; i++) cJSON_Delete(set.runs[i].doc);
    free(set.runs);
    free(set.cases);
    free(job.drawn);
    return rc;
}
