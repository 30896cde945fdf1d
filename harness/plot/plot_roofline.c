/* plot_roofline.c: the roofline chart of a run (plot_build_roofline, plot.h).
 *
 * log-log GFLOP/s against arithmetic intensity (FLOPs per byte of compulsory traffic,
 * results' `intensity`): one point per valid case, coloured by kernel, one series per
 * (kernel, threads) with the thread count as the marker; one roof per (ISA, threads)
 * among those cases, min(FMA peak, intensity x read bandwidth) from the run's context,
 * drawn as a line bending at the ridge. A point's height under its roof is its pct_roof.
 *
 *   sort the plottable cases by (kernel in registry order, threads): one pass makes the
 *     case series
 *   distinct (isa, threads) with both roofs measured: one roof each, over the x range of
 *     the points widened to include every ridge
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attn.h"
#include "plot/plot.h"

#define MAX_THREAD_KINDS 8
#define MAX_ROOFS 32

static int by_kernel_threads(const void *a, const void *b)
{
    const plot_case *x = *(const plot_case *const *)a, *y = *(const plot_case *const *)b;
    int c = plot_kernel_cmp(x->kernel, y->kernel);
    if (c) return c;
    if (x->p.threads != y->p.threads) return x->p.threads < y->p.threads ? -1 : 1;
    return (x->intensity > y->intensity) - (x->intensity < y->intensity);
}

static int plottable(const plot_case *c)
{
    return c->ok && isfinite(c->intensity) && c->intensity > 0 && isfinite(c->gflops) && c->gflops > 0;
}

/* Marker of a thread count: filled circle, square, triangle, diamond, ... by rank. */
static int thread_point(const int *kinds, int n_kinds, int threads)
{
    static const int pts[] = { 7, 5, 9, 13, 11, 15, 3, 1 };
    for (int i = 0; i < n_kinds; i++)
        if (kinds[i] == threads) return pts[i % 8];
    return 1;
}

typedef struct { const char *isa; int threads; double peak, gbs; } roof;

void plot_build_roofline(const chart_in *in, plot_chart *ch)
{
    plot_panel *p = &ch->panels[ch->n_panels++];
    p->yscale = 1;
    p->logy = 1;
    ch->logx = 1;
    ch->logx_decades = 1;
    ch->key_right = 1;
    snprintf(ch->xlabel, sizeof ch->xlabel, "arithmetic intensity (FLOP per byte of compulsory traffic)");
    snprintf(p->ylabel, sizeof p->ylabel, "GFLOP/s (attended pairs only)");

    const plot_case **cs = malloc(((size_t)in->n + 1) * sizeof *cs);
    if (!cs) { p->oom = 1; return; }
    int n = 0;
    for (int i = 0; i < in->n; i++)
        if (plottable(in->cs[i])) cs[n++] = in->cs[i];
    qsort(cs, (size_t)n, sizeof *cs, by_kernel_threads);

    /* thread counts present, ascending (markers); roofs; the x range */
    int kinds[MAX_THREAD_KINDS], n_kinds = 0;
    roof roofs[MAX_ROOFS];
    int n_roofs = 0;
    double xlo = INFINITY, xhi = -INFINITY;
    for (int i = 0; i < n; i++) {
        const plot_case *c = cs[i];
        xlo = fmin(xlo, c->intensity);
        xhi = fmax(xhi, c->intensity);
        int seen = 0;
        for (int k = 0; k < n_kinds && !seen; k++) seen = kinds[k] == c->p.threads;
        if (!seen && n_kinds < MAX_THREAD_KINDS) {
            int k = n_kinds++;
            for (; k > 0 && kinds[k - 1] > c->p.threads; k--) kinds[k] = kinds[k - 1];
            kinds[k] = c->p.threads;
        }
        seen = 0;
        for (int r = 0; r < n_roofs && !seen; r++) seen = roofs[r].threads == c->p.threads && !strcmp(roofs[r].isa, c->isa);
        if (seen || n_roofs == MAX_ROOFS) continue;
        const plot_run *run = &in->set->runs[c->run];
        roof rf = { c->isa, c->p.threads, plot_peak(run, c->isa, c->p.threads), plot_bandwidth(run, c->p.threads) };
        if (isfinite(rf.peak) && isfinite(rf.gbs)) roofs[n_roofs++] = rf;
    }

    /* the case series: one per (kernel, threads) run of the sorted cases */
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && !strcmp(cs[j]->kernel, cs[i]->kernel) && cs[j]->p.threads == cs[i]->p.threads) j++;
        char title[160];
        snprintf(title, sizeof title, "%s, %d thr", cs[i]->kernel, cs[i]->p.threads);
        plot_series *s = plot_panel_add(p, title, PS_POINTS, plot_kernel_colour(cs[i]->kernel), 1,
                                        thread_point(kinds, n_kinds, cs[i]->p.threads));
        for (int k = i; k < j; k++) plot_series_add(s, cs[k]->intensity, cs[k]->gflops, NAN, NAN, cs[k]->id);
        i = j;
    }

    /* the roofs, over the points' x range widened to show every ridge */
    for (int r = 0; r < n_roofs; r++) {
        double ridge = roofs[r].peak / roofs[r].gbs;
        xlo = fmin(xlo, ridge);
        xhi = fmax(xhi, ridge);
    }
    xlo /= 2;
    xhi *= 2;
    for (int r = 0; r < n_roofs; r++) {
        const roof *rf = &roofs[r];
        double ridge = rf->peak / rf->gbs;
        char title[160];
        snprintf(title, sizeof title, "roof %s %d thr: %.3g GFLOP/s, %.3g GB/s", rf->isa, rf->threads, rf->peak,
                 rf->gbs);
        /* colour by ISA, dash by thread count (solid: the fewest threads) */
        static const char *const isa_colour[ATTN_ISA_COUNT] = { "#999999", "#000000", "#3a3a8c" };
        int isa = 0;
        while (isa < ATTN_ISA_COUNT && strcmp(attn_isa_name((attn_isa)isa), rf->isa)) isa++;
        int rank = 0;
        while (rank < n_kinds && kinds[rank] != rf->threads) rank++;
        plot_series *s = plot_panel_add(p, title, PS_ROOF, isa < ATTN_ISA_COUNT && isa_colour[isa] ? isa_colour[isa] : "#666666", 1 + rank % 5, 0);
        plot_series_add(s, xlo, fmin(rf->peak, xlo * rf->gbs), NAN, NAN, "roof");
        plot_series_add(s, ridge, rf->peak, NAN, NAN, "ridge");
        plot_series_add(s, xhi, fmin(rf->peak, xhi * rf->gbs), NAN, NAN, "roof");
    }
    free(cs);
}
