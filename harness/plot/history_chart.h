/* history_chart.h: the chart of `attnbench history`, drawn through plot's chart model and
 * its one gnuplot writer (plot_gnuplot.c): OUT/history.svg and .png, with the data and
 * script in OUT/data/history.dat and history.gp (`cd OUT/data && gnuplot history.gp`
 * redraws it). One line per case over the runs (log scale), regressions against the
 * previous run as red triangles. */
#ifndef ATTN_HISTORY_CHART_H
#define ATTN_HISTORY_CHART_H

#include "analysis/history.h"
#include "plot/plot.h"

/* Draw h into dir (created). 0 drawn; -1 not drawn (told on stderr: gnuplot missing or
 * complaining, or dir not writable). */
int plot_history_chart(const attn_history *h, const char *dir);

/* plot_gnuplot_render with a categorical x axis: the tick at x = i (an integer) reads
 * names[i] instead of the number. Defined in plot_gnuplot.c beside the writer it wraps. */
int plot_gnuplot_render_named_x(plot_gnuplot *g, const plot_chart *c, const char *outdir,
                                const char *const *names, int n_names);

#endif
