/* history_chart.c: see history_chart.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "plot/history_chart.h"

/* The writer keeps at most 256 series per panel, and a legend of hundreds of lines is
 * unreadable anyway: the chart shows the first cases (the table shows them all). */
#define MAX_ROWS_DRAWN 200

/* The legend below the chart holds about this many entries before gnuplot cannot fit
 * them: with more cases, only those that regressed somewhere are named (the first few). */
#define MAX_TITLES 7

static int regressed(const attn_history *h, int r)
{
    for (int d = 0; d < h->n_runs; d++)
        if (attn_history_at(h, d, r)->mark == '^') return 1;
    return 0;
}

/* One series per case: its kernel's colour, a dash per case of the same kernel. */
static int add_rows(plot_panel *p, const attn_history *h, int n_rows)
{
    for (int r = 0, titled = 0; r < n_rows; r++) {
        int same = 0, named = n_rows <= MAX_TITLES || (titled < MAX_TITLES && regressed(h, r));
        titled += named;
        for (int q = r - 1; q >= 0 && same < 4; q--) same += !strcmp(h->rows[q].kernel, h->rows[r].kernel);
        plot_series *s = plot_panel_add(p, named ? h->rows[r].label : "", PS_LINES,
                                        plot_kernel_colour(h->rows[r].kernel), 1 + same % 4, 7);
        if (!s) return -1;
        for (int d = 0; d < h->n_runs; d++) {
            const attn_history_cell *c = attn_history_at(h, d, r);
            if (isfinite(c->median)) plot_series_add(s, d, c->median, NAN, NAN, NULL);
        }
    }
    plot_series *reg = plot_panel_add(p, "regression against the previous run", PS_MARKS, "#d62728", 1, 9);
    if (!reg) return -1;
    for (int r = 0; r < n_rows; r++)
        for (int d = 0; d < h->n_runs; d++) {
            const attn_history_cell *c = attn_history_at(h, d, r);
            if (c->mark == '^' && isfinite(c->median)) plot_series_add(reg, d, c->median, NAN, NAN, NULL);
        }
    return 0;
}

int plot_history_chart(const attn_history *h, const char *dir)
{
    plot_chart *c = calloc(1, sizeof *c);
    const char **names = calloc((size_t)h->n_runs + 1, sizeof *names);
    int rc = -1;
    if (!c || !names) goto done;
    snprintf(c->name, sizeof c->name, "history");
    snprintf(c->title, sizeof c->title, "Median time per case over runs (red: regression against the previous run)%s",
             h->n_rows > MAX_TITLES ? "\nlegend: cases that regressed (first few); all cases in the table" : "");
    snprintf(c->xlabel, sizeof c->xlabel, "run (oldest first)");
    c->n_panels = 1;
    plot_panel *p = &c->panels[0];
    snprintf(p->ylabel, sizeof p->ylabel, "median time per call (ms)");
    p->logy = 1;
    p->yscale = 1e3;
    int n_rows = h->n_rows < MAX_ROWS_DRAWN ? h->n_rows : MAX_ROWS_DRAWN;
    if (n_rows < h->n_rows)
        fprintf(stderr, "attnbench history: the chart shows the first %d of %d cases (the table has them all)\n",
                n_rows, h->n_rows);
    if (add_rows(p, h, n_rows)) goto done;
    for (int d = 0; d < h->n_runs; d++) names[d] = h->run_label[d];

    char data[4200];
    snprintf(data, sizeof data, "%s/data", dir);
    if (attn_mkdir_p(data) != 0) {
        fprintf(stderr, "attnbench history: cannot create %s: %s\n", data, strerror(errno));
        goto done;
    }
    plot_gnuplot g;
    plot_gnuplot_probe(&g);
    rc = plot_gnuplot_render_named_x(&g, c, dir, names, h->n_runs);
    if (!g.present)
        fprintf(stderr, "attnbench history: gnuplot not found, chart not drawn (script and data in "
                "%s/data); install it with: sudo apt-get install gnuplot-nox (or: make deps)\n", dir);
    else if (rc == 0)
        fprintf(stderr, "attnbench history: chart in %s/history.svg and history.png\n", dir);
done:
    if (c) plot_chart_free(c);
    free(c);
    free(names);
    return rc;
}
