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
 *   <sweep>-heat-<kernel>  GFLOP/s over tile_k x tile_q (the tunables used), a heat map
 *                     per kernel and shape, when the sweep varies both tiles
 *   roofline[-<run>]  per run, every case: GFLOP/s against FLOPs per byte, log-log, with
 *                     the measured roofs (plot_roofline.c)
 *
 * plot_load.c reads the results and holds the axes; plot_charts.c builds each kind;
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
#include "plot/plot.h"
#include "record/results.h"
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

/* The x axis title: the axis's x label in core/params.def, else its name. */
static const char *x_label(int x)
{
    const axis_def *d = &plot_axis_defs()[x];
    return d->xlabel ? d->xlabel : d->name;
}

/* Params the whole sweep holds fixed, for chart subtitles: "batch 1, heads 8, ...". */
static void fixed_text(const plot_case *c, unsigned varied, char *buf, size_t n)
{
    static const int shown[] = { AX_BATCH, AX_HEADS, AX_KV_HEADS, AX_Q_LEN, AX_KV_LEN, AX_HEAD_DIM,
                                 AX_V_DIM, AX_THREADS, AX_MASK, AX_WINDOW, AX_GLOBALS, AX_SCORE,
                                 AX_DTYPE, AX_LAYER, AX_D_MODEL };
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof shown / sizeof shown[0] && len < n; i++) {
        int a = shown[i];
        if (varied & (1u << a)) continue;
        if (a == AX_KV_HEADS && c->p.kv_heads == c->p.heads) continue;
        if (a == AX_KV_LEN && c->p.kv_len == c->p.q_len) continue;
        if (a == AX_V_DIM && c->p.v_dim == c->p.head_dim) continue;
        if (a == AX_GLOBALS && c->p.globals == 0) continue;
        if (a == AX_DTYPE && c->p.dtype == ATTN_F32) continue;
        if ((a == AX_LAYER || a == AX_D_MODEL) && c->p.layer != ATTN_LAYER_MHA) continue;
        if (a == AX_WINDOW && c->p.window_left < 0 && c->p.window_right < 0) continue;    /* full attention */
        char v[64];
        plot_axis_value_text(c, a, v, sizeof v);
        len += snprintf(buf + len, n - len, "%s%s %s", len ? ", " : "", plot_axis_defs()[a].name, v);
    }
}

/* Draw a built chart and list it for the report. Never an empty chart: panels without
 * data are dropped, a chart without panels is skipped. */
static void render(plot_job *job, plot_chart *ch)
{
    /* never an empty chart: drop panels without data, skip charts without panels */
    int kept = 0;
    for (int p = 0; p < ch->n_panels; p++) {
        if (plot_panel_points(&ch->panels[p]) == 0) {
            for (int i = 0; i < ch->panels[p].n_series; i++) free(ch->panels[p].series[i].pts);
            free(ch->panels[p].series);
            free(ch->panels[p].sink.pts);
            continue;
        }
        ch->panels[kept++] = ch->panels[p];
    }
    ch->n_panels = kept;
    if (kept && plot_gnuplot_render(job->gp, ch, job->outdir) == 0) {
        if (job->n_drawn == job->cap_drawn) {
            int cap = job->cap_drawn ? 2 * job->cap_drawn : 16;
            plot_drawn *nd = plot_grow(job->drawn, (size_t)cap, sizeof *job->drawn);
            if (nd) {
                job->drawn = nd;
                job->cap_drawn = cap;
            }
        }
        if (job->n_drawn < job->cap_drawn) {
            plot_drawn *d = &job->drawn[job->n_drawn++];
            snprintf(d->name, sizeof d->name, "%s", ch->name);
            snprintf(d->title, sizeof d->title, "%s", ch->title);
        } else {
            fprintf(stderr, "attnbench plot: out of memory; %s left out of the report\n", ch->name);
            job->failed = 1;
        }
    }
}

/* Do a and b agree on every axis in the bit set `split`? */
static int same_group(const plot_case *a, const plot_case *b, unsigned split)
{
    for (int ax = 0; ax < AX_COUNT; ax++)
        if ((split & (1u << ax)) && plot_axis_cmp(a, b, ax)) return 0;
    return 1;
}

/* The varied axes a sweep's charts split on: all but x (and y, -1: none) and those that
 * follow x; an axis that follows another split axis adds no groups (kv_len = q_len). */
static unsigned split_axes(const plot_case *const *cs, int n, unsigned varied, int x, int y)
{
    unsigned split = 0;
    for (int a = 0; a < AX_COUNT; a++)
        if (a != x && a != y && (varied & (1u << a)) && !plot_follows(cs, n, a, x)) split |= 1u << a;
    for (int a = AX_COUNT - 1; a >= 0; a--)
        for (int b = 0; b < AX_COUNT && (split & (1u << a)); b++)
            if (b != a && (split & (1u << b)) && plot_follows(cs, n, a, b)) split &= ~(1u << a);
    return split;
}

/* Draw one chart kind for one sweep: one chart per group of the other varied axes. The
 * sweep's cases are sorted (stably) by the split axes, so each group is a run of them and
 * groups come in axis order: n log n in the sweep's cases. */
static void draw_kind(plot_job *job, const char *sweep, const char *stem, const char *what,
                      int x, builder build)
{
    plot_set *s = job->set;
    int n = 0;
    const plot_case *const *all = plot_sweep_cases(s, sweep, &n);
    const plot_case **cs = malloc(((size_t)n + 1) * sizeof *cs);
    if (!cs) {
        fprintf(stderr, "attnbench plot: %s: out of memory; charts not drawn\n", sweep);
        job->failed = 1;
        return;
    }
    if (n) memcpy(cs, all, (size_t)n * sizeof *cs);
    unsigned varied = plot_varied_axes(s, sweep);
    unsigned split = split_axes(cs, n, varied, x, -1);
    if (n == 0 || plot_sort_cases(cs, n, -1, split)) {
        if (n) {
            fprintf(stderr, "attnbench plot: %s: out of memory; charts not drawn\n", sweep);
            job->failed = 1;
        }
        free(cs);
        return;
    }
    char fixed[400];
    fixed_text(cs[0], varied | (1u << x), fixed, sizeof fixed);

    for (int g0 = 0, g1; g0 < n; g0 = g1) {
        for (g1 = g0 + 1; g1 < n && same_group(cs[g0], cs[g1], split); g1++) {}
        const plot_case **grp = cs + g0, *rep = cs[g0];
        int m = g1 - g0;
        chart_in in = { s, grp, m, x };
        plot_chart ch;
        memset(&ch, 0, sizeof ch);
        char gf[160], gt[240];
        plot_group_text(rep, split, 1, gf, sizeof gf);
        plot_group_text(rep, split, 0, gt, sizeof gt);
        snprintf(ch.name, sizeof ch.name, "%s-%s%s%s", sweep, stem, gf[0] ? "-" : "", gf);
        attn_safe_name(ch.name);   /* the sweep name comes from results.json */
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

        render(job, &ch);
        plot_chart_free(&ch);
    }
    free(cs);
}

/* Heat maps of a sweep that varies both tiles: GFLOP/s over tile_k x tile_q, one chart per
 * kernel, run and group of the other varied axes (the shape). Sorted by those axes, each
 * group is a run of cases; inside it each (run, kernel) pair in order of appearance. */
static void draw_heat(plot_job *job, const char *sweep)
{
    int n = 0;
    const plot_case *const *all = plot_sweep_cases(job->set, sweep, &n);
    const plot_case **cs = malloc(((size_t)n + 1) * sizeof *cs), **sub = malloc(((size_t)n + 1) * sizeof *sub);
    unsigned varied = plot_varied_axes(job->set, sweep), split = 0;
    if (cs && n) memcpy(cs, all, (size_t)n * sizeof *cs);
    if (cs && sub) split = split_axes(cs, n, varied, AX_TILE_K, AX_TILE_Q);
    if (!cs || !sub || plot_sort_cases(cs, n, -1, split)) {
        fprintf(stderr, "attnbench plot: %s: out of memory; heat maps not drawn\n", sweep);
        job->failed = 1;
        n = 0;
    }
    char fixed[400];
    if (n) fixed_text(cs[0], varied | (1u << AX_TILE_Q) | (1u << AX_TILE_K), fixed, sizeof fixed);
    for (int g0 = 0, g1; g0 < n; g0 = g1) {
        for (g1 = g0 + 1; g1 < n && same_group(cs[g0], cs[g1], split); g1++) {}
        for (int i = g0; i < g1; i++) {
            int first = 1, m = 0;           /* (run, kernel) of cs[i], first time seen? */
            for (int j = g0; j < i && first; j++) first = !(cs[j]->run == cs[i]->run && !strcmp(cs[j]->kernel, cs[i]->kernel));
            if (!first) continue;
            for (int j = i; j < g1; j++)
                if (cs[j]->run == cs[i]->run && !strcmp(cs[j]->kernel, cs[i]->kernel)) sub[m++] = cs[j];
            chart_in in = { job->set, sub, m, AX_TILE_K };
            plot_chart ch;
            memset(&ch, 0, sizeof ch);
            char gf[160], gt[240];
            const char *run = job->set->n_runs > 1 ? job->set->runs[cs[i]->run].label : "";
            plot_group_text(cs[i], split, 1, gf, sizeof gf);
            plot_group_text(cs[i], split, 0, gt, sizeof gt);
            plot_fmt(ch.name, sizeof ch.name, "%s-heat-%s%s%s%s%s", sweep, cs[i]->kernel, *run ? "-" : "",
                     run, gf[0] ? "-" : "", gf);
            attn_safe_name(ch.name);
            plot_fmt(ch.title, sizeof ch.title, "%s: %s GFLOP/s over tile sizes%s%s%s%s\n%s", sweep,
                     cs[i]->kernel, *run ? ", run " : "", run, gt[0] ? ", " : "", gt, fixed);
            snprintf(ch.xlabel, sizeof ch.xlabel, "%s", x_label(AX_TILE_K));
            plot_build_heat(&in, &ch);
            if (plot_chart_oom(&ch)) {
                fprintf(stderr, "attnbench plot: %s: out of memory; chart not drawn\n", ch.name);
                job->failed = 1;
            } else render(job, &ch);
            plot_chart_free(&ch);
        }
    }
    free(cs);
    free(sub);
}

/* Does the sweep hold a timed mha case (with parts)? */
static int has_parts(const plot_set *s, const char *sweep)
{
    int n;
    const plot_case *const *cs = plot_sweep_cases(s, sweep, &n);
    for (int i = 0; i < n; i++)
        if (cs[i]->ok && cs[i]->part_med[ATTN_PART_ATTENTION] >= 0) return 1;
    return 0;
}

static void draw_sweep(plot_job *job, const char *sweep)
{
    unsigned v = plot_varied_axes(job->set, sweep);
    int seq = (v & (1u << AX_Q_LEN)) ? AX_Q_LEN : (v & (1u << AX_KV_LEN)) ? AX_KV_LEN : -1;
    if (seq >= 0) {
        draw_kind(job, sweep, "time", "median time vs sequence length", seq, plot_build_time);
        draw_kind(job, sweep, "memory", "memory vs sequence length", seq, plot_build_memory);
        draw_kind(job, sweep, "gflops", "GFLOP/s vs sequence length", seq, plot_build_gflops);
        char what[128];
        snprintf(what, sizeof what, "speedup over %s vs sequence length", job->set->baseline);
        draw_kind(job, sweep, "speedup", what, seq, plot_build_speedup);
        if (has_parts(job->set, sweep))
            draw_kind(job, sweep, "parts", "share of each part in the mha layer's time vs sequence length",
                      seq, plot_build_parts);
    }
    if (v & (1u << AX_HEADS)) draw_kind(job, sweep, "heads", "median time vs heads", AX_HEADS, plot_build_time);
    if (v & (1u << AX_THREADS))
        draw_kind(job, sweep, "threads", "speedup vs threads", AX_THREADS, plot_build_threads);
    if (v & (1u << AX_WINDOW))
        draw_kind(job, sweep, "window", "median time vs local window", AX_WINDOW, plot_build_time);
    if ((v & (1u << AX_TILE_Q)) && (v & (1u << AX_TILE_K))) draw_heat(job, sweep);
}

/* The roofline chart of run r: every case of the run, whatever its sweep
 * (plot_roofline.c); drawn only when some case has an intensity and a timing. */
static void draw_roofline(plot_job *job, int r)
{
    plot_set *s = job->set;
    const plot_case **cs = malloc(((size_t)s->n_cases + 1) * sizeof *cs);
    if (!cs) {
        fprintf(stderr, "attnbench plot: out of memory; roofline chart not drawn\n");
        job->failed = 1;
        return;
    }
    int n = 0;
    for (int i = 0; i < s->n_cases; i++)
        if (s->cases[i].run == r) cs[n++] = &s->cases[i];
    chart_in in = { s, cs, n, -1 };
    plot_chart ch;
    memset(&ch, 0, sizeof ch);
    if (s->n_runs > 1) snprintf(ch.name, sizeof ch.name, "roofline-%s", s->runs[r].label);
    else snprintf(ch.name, sizeof ch.name, "roofline");
    attn_safe_name(ch.name);       /* the label comes from a directory name */
    plot_fmt(ch.title, sizeof ch.title, "roofline: GFLOP/s vs arithmetic intensity%s%s\n"
             "roof = min(measured FMA peak, intensity x measured read bandwidth)",
             s->n_runs > 1 ? ", run " : "", s->n_runs > 1 ? s->runs[r].label : "");
    plot_build_roofline(&in, &ch);
    if (plot_chart_oom(&ch)) {
        fprintf(stderr, "attnbench plot: %s: out of memory; chart not drawn\n", ch.name);
        job->failed = 1;
    } else {
        render(job, &ch);
    }
    plot_chart_free(&ch);
    free(cs);
}

/* ============================================================ the command == */

int plot_main(const char *const *dirs, int n_dirs, const char *out, const char *baseline)
{
    plot_set set = { .baseline = baseline };
    int rc = 0;
    for (int i = 0; i < n_dirs && !rc; i++)
        if (plot_load_run(&set, dirs[i])) rc = 2;

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
        for (int k = 0; k < plot_sweep_count(&set); k++)     /* in order of first appearance */
            draw_sweep(&job, plot_sweep_name(&set, k));
        for (int r = 0; r < set.n_runs; r++) draw_roofline(&job, r);
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

    plot_set_free(&set);
    free(job.drawn);
    return rc;
}
