/* plot_charts.c: the chart model (panels, series, points) and one builder per chart
 * kind (plot.h); plot.c decides which charts a sweep gets. */
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
/* =========================================================== chart model == */

plot_series *plot_panel_add(plot_panel *p, const char *title, plot_style style,
                            const char *colour, int dash, int point)
{
    plot_series *s = &p->sink;
    if (p->n_series == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        plot_series *ns = plot_grow(p->series, (size_t)cap, sizeof *p->series);
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
        plot_point *np = plot_grow(s->pts, (size_t)cap, sizeof *s->pts);
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
        if (p->series[i].style <= PS_POINTS || p->series[i].style == PS_HEAT)
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


/* Point styles per run (filled circle, square, triangle, diamond, ...) and dash types,
 * so overlaid runs of the same kernel share its colour but stay apart. */
static const int run_points[] = { 7, 5, 9, 13, 11, 15 };
static int run_point(int run) { return run_points[run % 6]; }
static int run_dash(int run) { return 1 + run % 5; }

/* Distinct (kernel, run) pairs among the chart's cases, in legend order. */
typedef struct { const char *kernel; int run, peer; } series_key;

/* A peer's series is dashed (long dashes, then the other types per run), a kernel's
 * solid in the first run. */
static int key_dash(const series_key *k) { return k->peer ? 2 + k->run % 4 : run_dash(k->run); }

static int series_keys(const chart_in *in, series_key *out, int max)
{
    int n = 0;
    for (int i = 0; i < in->n; i++) {
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = out[j].run == in->cs[i]->run && !strcmp(out[j].kernel, in->cs[i]->kernel);
        if (!seen && n < max) out[n++] = (series_key){ in->cs[i]->kernel, in->cs[i]->run, in->cs[i]->peer };
    }
    for (int i = 1; i < n; i++)        /* insertion sort: registry order, then run */
        for (int j = i; j > 0; j--) {
            int c = plot_kernel_cmp(out[j - 1].kernel, out[j].kernel);
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
    return x == AX_WINDOW ? plot_window_x(c) : plot_axis_num(c, x);
}

/* Cases of one series sorted by x, stably (pointers into in->cs); out of memory: in
 * file order. */
static int series_cases(const chart_in *in, const series_key *k, const plot_case **out)
{
    int n = 0;
    for (int i = 0; i < in->n; i++)
        if (in->cs[i]->run == k->run && !strcmp(in->cs[i]->kernel, k->kernel)) out[n++] = in->cs[i];
    plot_sort_cases(out, n, in->x, 0);
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
void plot_build_time(const chart_in *in, plot_chart *ch)
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
        plot_series *s = plot_panel_add(p, title, PS_ERRLINES, col, key_dash(&keys[k]), run_point(keys[k].run));
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
void plot_build_memory(const chart_in *in, plot_chart *ch)
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
        int dt = key_dash(&keys[k]), pt = run_point(keys[k].run);
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
void plot_build_gflops(const chart_in *in, plot_chart *ch)
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
                                        key_dash(&keys[k]), run_point(keys[k].run));
        int n = series_cases(in, &keys[k], sc);
        for (int i = 0; i < n; i++) {
            double x = x_of(sc[i], in->x);
            if (sc[i]->ok && sc[i]->gflops > 0) plot_series_add(s, x, sc[i]->gflops, NAN, NAN, sc[i]->id);
            else series_gap(s, x);
        }
    }
    /* one level per distinct (run, isa, threads) that has a measured peak; at most 16
     * (their legend would not fit more), so the scan stays linear in cases */
    enum { MAX_PEAKS = 16 };
    const plot_case *peaks[MAX_PEAKS];
    int n_peaks = 0;
    double first = NAN;
    char first_label[96] = "";
    for (int i = 0; i < in->n && n_peaks < MAX_PEAKS; i++) {
        const plot_case *c = in->cs[i];
        if (!c->ok) continue;
        int dup = 0;
        for (int j = 0; j < n_peaks && !dup; j++)
            dup = peaks[j]->run == c->run && peaks[j]->p.threads == c->p.threads && !strcmp(peaks[j]->isa, c->isa);
        if (dup) continue;
        double pk = plot_peak(&in->set->runs[c->run], c->isa, c->p.threads);
        if (isnan(pk)) continue;
        char t[160];
        snprintf(t, sizeof t, "peak %s, %d thr%s%s: %.3g GFLOP/s", c->isa, c->p.threads, in->set->n_runs > 1 ? " " : "",
                 in->set->n_runs > 1 ? in->set->runs[c->run].label : "", pk);
        plot_series *h = plot_panel_add(p, t, PS_HLINE, "#000000", 2 + n_peaks % 4, 0);
        h->value = pk;
        if (!n_peaks || pk > first) {
            first = pk;
            snprintf(first_label, sizeof first_label, "%s, %d thread%s", c->isa, c->p.threads, c->p.threads == 1 ? "" : "s");
        }
        peaks[n_peaks++] = c;
    }
    if (n_peaks) {  /* several roofs (ISAs): percentages of the highest, said on the axis */
        p->y2_peak = first;
        snprintf(p->y2label, sizeof p->y2label, "%% of measured peak (%s)", first_label);
    }
    free(sc);
}

/* Speedup over the baseline kernel on the same shape, CI-derived bars. */
void plot_build_speedup(const chart_in *in, plot_chart *ch)
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
                                        key_dash(&keys[k]), run_point(keys[k].run));
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
void plot_build_threads(const chart_in *in, plot_chart *ch)
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
                                        key_dash(&keys[k]), run_point(keys[k].run));
        for (int i = 0; i < n; i++)
            if (sc[i]->ok)
                plot_series_add(s, sc[i]->p.threads, one->t_med / sc[i]->t_med,
                                one->t_lo / sc[i]->t_hi, one->t_hi / sc[i]->t_lo, sc[i]->id);
    }
    plot_series *ideal = plot_panel_add(p, "ideal (speedup = threads)", PS_IDEAL, "#000000", 3, 0);
    ideal->value = 1;
    free(sc);
}

/* ------------------------------------------------------------ heat map -- */

/* One kernel's cases of one shape: a cell per tile_q x tile_k used (the first case of a
 * cell when several share it), valued by GFLOP/s; cases not ok leave their cell empty.
 * Fewer than two distinct values on either axis (tile_q = 0, 64 where the default is 64)
 * is no map: the series is emptied and the chart not drawn. */
void plot_build_heat(const chart_in *in, plot_chart *ch)
{
    plot_panel *p = &ch->panels[ch->n_panels++];
    p->yscale = 1;
    snprintf(p->ylabel, sizeof p->ylabel, "query tile rows (tile_q)");
    plot_series *s = plot_panel_add(p, "", PS_HEAT, "#000000", 1, 0);
    for (int i = 0; i < in->n; i++) {
        const plot_case *c = in->cs[i];
        const int tk = c->p.tune_used[ATTN_TUNE_TILE_K], tq = c->p.tune_used[ATTN_TUNE_TILE_Q];
        if (!c->ok || !(c->gflops > 0) || tk <= 0 || tq <= 0) continue;
        int dup = 0;
        for (int j = 0; j < s->n && !dup; j++) dup = s->pts[j].x == tk && s->pts[j].y == tq;
        if (!dup) plot_series_add(s, tk, tq, c->gflops, c->gflops, c->id);
    }
    int two_x = 0, two_y = 0;
    for (int j = 1; j < s->n; j++) {
        two_x |= s->pts[j].x != s->pts[0].x;
        two_y |= s->pts[j].y != s->pts[0].y;
    }
    if (!two_x || !two_y) s->n = 0;
}

/* layer = mha: each part's median as a share (%) of the layer's median time, one line
 * per (kernel, part): the kernel's colour, attention solid, qkv_proj dashed, out_proj
 * dotted. Where the attention line crosses 50% the attention kernel starts to dominate
 * the layer. Cases without parts (layer = attention) are left out. */
void plot_build_parts(const chart_in *in, plot_chart *ch)
{
    static const int part_dash[ATTN_PART_COUNT] = { [ATTN_PART_QKV] = 2, [ATTN_PART_ATTENTION] = 1,
                                                   [ATTN_PART_OUT] = 3 };
    static const int part_point[ATTN_PART_COUNT] = { [ATTN_PART_QKV] = 5, [ATTN_PART_ATTENTION] = 7,
                                                    [ATTN_PART_OUT] = 9 };
    series_key keys[64];
    const plot_case **sc = malloc(in->n * sizeof *sc);
    int nk = series_keys(in, keys, 64);
    plot_panel *p = &ch->panels[ch->n_panels++];
    p->y_from_zero = 1;
    p->yscale = 1;
    snprintf(p->ylabel, sizeof p->ylabel, "share of the layer's median time (%%)");
    ch->key_right = 1;
    for (int k = 0; k < nk && sc; k++) {
        int n = series_cases(in, &keys[k], sc);
        for (int q = 0; q < ATTN_PART_COUNT; q++) {
            char kt[160], title[200];
            series_title(in, &keys[k], kt, sizeof kt);
            plot_fmt(title, sizeof title, "%s: %s", kt, attn_part_names[q]);
            plot_series *s = plot_panel_add(p, title, PS_LINES, plot_kernel_colour(keys[k].kernel),
                                            part_dash[q], part_point[q]);
            for (int i = 0; i < n; i++) {
                const plot_case *c = sc[i];
                double x = x_of(c, in->x);
                if (c->ok && c->part_med[q] >= 0) plot_series_add(s, x, 100.0 * c->part_med[q] / c->t_med, NAN, NAN, c->id);
                else series_gap(s, x);
            }
        }
    }
    plot_panel_add(p, "50%: above it the part dominates the layer", PS_HLINE, "#888888", 2, 0)->value = 50;
    free(sc);
}
