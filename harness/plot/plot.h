/* plot.h: what `attnbench plot` shares between its files.
 *
 *   plot_load.c     load results, flatten cases, the axes (from core/params.def)
 *   plot_charts.c   the chart model and one builder per chart kind
 *   plot.c          the command: decide which charts a sweep calls for (x = the varied
 *                   axis, one chart per combination of the other varied axes, one series
 *                   per kernel and run), build them
 *   plot_gnuplot.c  write each chart as plots/data/<name>.dat + <name>.gp and run gnuplot
 *   report.c        report.md and report.html next to the charts
 *
 * Everything is drawn from results.json alone; nothing is re-run.
 */
#ifndef ATTN_PLOT_H
#define ATTN_PLOT_H

#include <stdio.h>
#include <cjson/cJSON.h>
#include "core/layer.h"
#include "core/params.h"

/* snprintf that says whether the text fit: 0, or -1 when it was cut short (paths are
 * then refused; titles are merely shortened). */
int plot_fmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ cases -- */

/* One case of a results file, flattened. Strings point into the run's cJSON document. */
typedef struct plot_case {
    int run;                    /* index into plot_set.runs */
    const char *id, *kernel, *isa, *sweep, *status, *reason;
    attn_case p;                /* the case parameters (core/params.def); p.id, p.sweep and
                                   the run settings are not filled */
    int ok;                     /* status "ok" with a median time */
    int unstable;
    double t_med, t_lo, t_hi, cv;   /* seconds (NAN when not timed) */
    double gflops, pct_peak;        /* NAN when absent */
    double intensity, pct_roof;     /* roofline: FLOPs per byte, % of the roof (NAN: absent) */
    double rss, extra, workspace;   /* bytes (NAN when absent) */
    double need_bytes;          /* over-budget skip: bytes the case needed; NAN otherwise */
    double part_med[ATTN_PART_COUNT];  /* layer = mha: median seconds of each part of the
                                          layer (results.json "parts"); NAN otherwise */
    int peer;                   /* "kind": "peer", a program run by the harness (drawn
                                   dashed; the report sets the fastest against our best) */
} plot_case;

typedef struct plot_run {
    const char *dir;            /* as given on the command line */
    char label[64];             /* short name in legends: the directory's basename */
    cJSON *doc;                 /* the whole results.json */
    const cJSON *context;       /* doc.context (may be NULL) */
} plot_run;

typedef struct plot_set {
    plot_run *runs;
    int n_runs;
    plot_case *cases;
    int n_cases;
    const char *baseline;       /* kernel speedups are measured against ("naive") */
    struct plot_index *index;   /* sweeps, their cases and the baseline lookup, rebuilt by
                                   plot_load_run so that no lookup scans every case
                                   (plot_load.c); freed by plot_set_free */
} plot_set;

/* Free what plot_load_run gave s: documents, cases, index. */
void plot_set_free(plot_set *s);
/* Sweeps in order of first appearance: how many, the name of sweep k, and a sweep's cases
 * in file order (NULL, *n = 0 for an unknown name). O(1), O(1), O(log sweeps). */
int plot_sweep_count(const plot_set *s);
const char *plot_sweep_name(const plot_set *s, int k);
const plot_case *const *plot_sweep_cases(const plot_set *s, const char *sweep, int *n);
/* Stable sort of v by axis `first` (-1: none), then by every axis in the bit set `axes`
 * in axis order (a merge sort: n log n, equal cases keep their order). 0, or -1 when out
 * of memory (v untouched). */
int plot_sort_cases(const plot_case **v, int n, int first, unsigned axes);

/* Peak GFLOP/s of `isa` on `threads` threads from a run's context; NAN when unknown. */
double plot_peak(const plot_run *run, const char *isa, int threads);
/* Read bandwidth GB/s on `threads` threads from a run's context; NAN when unknown. */
double plot_bandwidth(const plot_run *run, int threads);

/* The baseline case matching c's shape in c's run: same params with the same thread count
 * when it has a valid one, otherwise its single-thread case (*fallback set to 1).
 * NULL when there is none or c is itself the baseline. */
const plot_case *plot_baseline_of(const plot_set *s, const plot_case *c, int *fallback);

/* Compact "h8 d64 t2 causal"-style text of the params of c that are listed in `axes`
 * (a bit set of plot_axis), used in file names (safe) and labels (readable). */
/* One axis per row of core/params.def with an AX(...) in its AXIS column, in table order;
 * rows marked AXJOIN share the axis before them (window_left + window_right = window). */
#define AX(E, NAME, SHORT, XLABEL) AX_##E,
#define AXJOIN
#define NOAX
enum plot_axis {
#define ATTN_PARAM(ID, FIELD, KEY, TYPE, MIN, MAX, DEF, FOLLOWS, ENUM, TAG, IN_ID, MATTERS, \
                   LABEL, LABEL_WHEN, AXIS, PRODUCT) AXIS
#include "core/params.def"
#undef ATTN_PARAM
    AX_COUNT
};
#undef AX
#undef AXJOIN
#undef NOAX
const char *plot_axis_name(int axis);                /* "heads", "head_dim", ... */
void plot_axis_value_text(const plot_case *c, int axis, char *buf, size_t n); /* "8", "causal", "full" */
/* Bit set of the axes that take more than one value among the cases of one sweep. */
unsigned plot_varied_axes(const plot_set *s, const char *sweep);

/* Kernel colour, "#rrggbb": from the kernel's position in the registry when this build
 * knows it, else from a stable hash of its name; the same in every chart and report. */
const char *plot_kernel_colour(const char *kernel);

/* Internals shared by plot_load.c, plot_charts.c and plot.c. */
typedef struct { const char *name, *short_, *xlabel; int row, n_rows; } axis_def;
const axis_def *plot_axis_defs(void);        /* AX_COUNT axes: name, prefix, x label, rows */
int plot_axis_cmp(const plot_case *a, const plot_case *b, int axis);   /* 0: same value */
double plot_axis_num(const plot_case *c, int axis);   /* its first row's value */
/* Load dir's results.json into s (message printed on failure). 0 or -1. */
int plot_load_run(plot_set *s, const char *dir);
/* "heads 8, threads 2" (readable) or "h8-t2" (for file names) of the axes in the set. */
void plot_group_text(const plot_case *c, unsigned axes, int for_file, char *buf, size_t n);
int plot_in_sweep(const plot_case *c, const char *sweep);
/* Is `axis` a function of `x` among these cases (equal x => equal axis)? */
int plot_follows(const plot_case *const *cs, int n, int axis, int x);
/* Window size an x axis shows (NAN for full attention). */
double plot_window_x(const plot_case *c);
int plot_kernel_cmp(const char *a, const char *b);   /* registry order, then by name */
void *plot_grow(void *p, size_t n, size_t size);     /* realloc of n items; NULL: no memory */

/* ----------------------------------------------------------------- charts -- */

typedef enum {
    PS_ERRLINES,    /* x y ylo yhi: line through points with error bars */
    PS_LINES,       /* x y: line through points */
    PS_MARKS,       /* x y: big open markers only (unstable, over budget) */
    PS_POINTS,      /* x y: one marker per point, no line (roofline: one per case) */
    PS_ROOF,        /* x y: a thin line through the points, no markers (a roof); drawn
                       from the data file but not counted as data (plot_panel_points) */
    PS_HEAT,        /* x y = a cell of a two-tunable grid (tile_k, tile_q), ylo = yhi = its
                       value (GFLOP/s): a heat map, the chart's only series
                       (plot_gnuplot.c draws it `with image` on the grid of distinct x, y) */
    PS_HLINE,       /* constant y = value, dashed (peak, full attention) */
    PS_IDEAL,       /* y = x / x0 (ideal speedup), thin black dashed */
    PS_KEYONLY,     /* no data: a legend entry explaining a marker or dash style */
} plot_style;
/* Styles whose points go to the data file (the rest are constants or legend entries). */
#define PLOT_STYLE_HAS_DATA(st) ((st) <= PS_HEAT)

typedef struct plot_point {
    double x, y, ylo, yhi;
    const char *id;             /* case id, written next to the point in the data file */
} plot_point;

typedef struct plot_series {
    char title[160];            /* legend text; empty = not in the legend */
    plot_style style;
    char colour[8];             /* "#rrggbb" */
    int dash;                   /* gnuplot dash type, 1 = solid */
    int point;                  /* gnuplot point type */
    double value;               /* PS_HLINE: the constant; PS_IDEAL: x0 */
    plot_point *pts;
    int n, cap;
    int oom;                    /* a point could not be stored: the chart is not drawn */
} plot_series;

typedef struct plot_panel {
    char title[160];
    char ylabel[128];
    int logy;
    double yscale;              /* data values are multiplied by this for display (units) */
    double y2_peak;             /* > 0: right axis shows % of this (in displayed units) */
    char y2label[128];
    int y_from_zero;            /* linear axis starting at 0 */
    plot_series *series;
    int n_series, cap;
    plot_series sink;           /* what plot_panel_add hands out when out of memory */
    int oom;                    /* a series could not be added: the chart is not drawn */
} plot_panel;

#define PLOT_MAX_PANELS 2
typedef struct plot_chart {
    char name[200];             /* file stem: <sweep>-<kind>[-<group>] */
    char title[400];            /* may hold "\n" */
    char xlabel[128];
    int logx;
    int logx_decades;           /* with logx: base-10 axis with 1-2-5 ticks over the range
                                   (roofline) instead of ticks at the values the sweep ran */
    int key_right;              /* legend outside on the right (many series), not below */
    plot_panel panels[PLOT_MAX_PANELS];
    int n_panels;
} plot_chart;

/* Out of memory, plot_panel_add returns the panel's sink (never drawn) and plot_series_add
 * drops the point; both mark the chart (plot_chart_oom), which is then not drawn and
 * `attnbench plot` exits 2. Library code never exits. */
plot_series *plot_panel_add(plot_panel *p, const char *title, plot_style style,
                            const char *colour, int dash, int point);
void plot_series_add(plot_series *s, double x, double y, double ylo, double yhi, const char *id);
int plot_chart_oom(const plot_chart *c);         /* 1: some series or point was lost */
int plot_panel_points(const plot_panel *p);      /* data points in it (markers included) */
void plot_chart_free(plot_chart *c);

/* What a builder gets: the cases of one chart (one group of one sweep), the x axis. */
typedef struct chart_in {
    const plot_set *set;
    const plot_case **cs;
    int n;
    int x;                      /* plot_axis of the x axis */
} chart_in;
/* One builder per chart kind (plot_charts.c). */
void plot_build_time(const chart_in *in, plot_chart *ch);
void plot_build_memory(const chart_in *in, plot_chart *ch);
void plot_build_gflops(const chart_in *in, plot_chart *ch);
void plot_build_speedup(const chart_in *in, plot_chart *ch);
void plot_build_threads(const chart_in *in, plot_chart *ch);
void plot_build_parts(const chart_in *in, plot_chart *ch);      /* mha cases: share of parts */
void plot_build_roofline(const chart_in *in, plot_chart *ch);   /* plot_roofline.c */
/* GFLOP/s over tile_q x tile_k (the tunables used) of one kernel's cases: a heat map. */
void plot_build_heat(const chart_in *in, plot_chart *ch);

/* ------------------------------------------------------------- gnuplot -- */

typedef struct plot_gnuplot {
    int present;                /* gnuplot found on PATH */
    int pngcairo, png, svg;     /* terminals it offers */
    int problems;               /* charts gnuplot complained about (warnings or errors) */
    int drawn;                  /* charts drawn */
} plot_gnuplot;

/* Look for gnuplot and its terminals. */
void plot_gnuplot_probe(plot_gnuplot *g);
/* Write outdir/data/<name>.dat and .gp, and (when gnuplot is present) render
 * outdir/<name>.png and .svg. Gnuplot's complaints are printed to stderr and counted.
 * Returns 0 when the chart was drawn. */
int plot_gnuplot_render(plot_gnuplot *g, const plot_chart *c, const char *outdir);

/* ------------------------------------------------------------- report -- */

/* Names of the charts drawn, in order, with their titles, for the report. */
typedef struct plot_drawn {
    char name[200];
    char title[400];
} plot_drawn;

/* Write report.md and report.html into report_dir. plots_rel is the charts' folder
 * relative to report_dir ("plots" or ""); plots_abs the same folder as a path (to read
 * the SVGs the HTML inlines). Returns 0 or -1 (message printed). */
int plot_report_write(const plot_set *s, const plot_drawn *charts, int n_charts,
                      const char *report_dir, const char *plots_rel, const char *plots_abs);

/* `attnbench plot`: load the results in dirs, draw every sweep's charts into out (NULL:
 * beside the first run), write the report. Returns the command's exit code (0, 1 gnuplot
 * reported a problem, 2 unreadable results or output). */
int plot_main(const char *const *dirs, int n_dirs, const char *out, const char *baseline);

#endif
