/* plot_gnuplot.c: one plot_chart -> OUT/data/NAME.dat + OUT/data/NAME.gp -> OUT/NAME.png, .svg
 *
 * The data file holds one block per drawn series (gnuplot `index`), columns
 *   x  y  ylo  yhi  case_id
 * in raw units (seconds, bytes), so every point on a chart traces back to a case. The
 * script converts units, sets axes, ticks and styles, and draws the chart once per output
 * format; `cd OUT/data && gnuplot NAME.gp` redraws it. gnuplot runs in a child process
 * with its stdout and stderr captured: anything it says is a warning or an error, printed
 * and counted (a clean chart is silent).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "plot/plot.h"
#include "plot/history_chart.h"

/* ========================================================= child process == */

/* Run argv (PATH searched) in directory cwd with stdout+stderr captured into *out
 * (malloc'd, NUL-terminated). Returns the exit status, 127 when it could not start. */
static int run_capture(const char *cwd, char *const argv[], char **out)
{
    int fd[2];
    *out = NULL;
    if (pipe(fd)) return 127;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) { close(fd[0]); close(fd[1]); return 127; }
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        close(fd[1]);
        if (cwd && chdir(cwd)) _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1024 > cap) buf = realloc(buf, cap *= 2);
        if (!buf) break;
        ssize_t r = read(fd[0], buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd[0]);
    if (buf) buf[n] = 0;
    *out = buf;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", prog);
        if (access(dir, X_OK) == 0) return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

void plot_gnuplot_probe(plot_gnuplot *g)
{
    memset(g, 0, sizeof *g);
    if (!on_path("gnuplot")) return;
    char *argv[] = { "gnuplot", "-e", "set terminal", NULL }, *out = NULL;
    run_capture(NULL, argv, &out);
    /* the list is "   name  description" lines; match the first word of each */
    for (char *line = out; line && *line;) {
        char *end = strchr(line, '\n');
        char word[32];
        if (sscanf(line, " %31s", word) == 1) {
            if (!strcmp(word, "pngcairo")) g->pngcairo = 1;
            if (!strcmp(word, "png")) g->png = 1;
            if (!strcmp(word, "svg")) g->svg = 1;
        }
        line = end ? end + 1 : NULL;
    }
    free(out);
    g->present = g->pngcairo || g->png || g->svg;
    if (!g->present)
        fprintf(stderr, "attnbench plot: this gnuplot offers neither png nor svg output; no charts drawn\n");
}

/* ================================================================ script == */

/* Set only during plot_gnuplot_render_named_x: tick labels of a categorical x axis. */
static const char *const *x_names;
static int n_x_names;

/* A gnuplot string literal that gnuplot never interprets: single quotes, inside which
 * gnuplot does no backquote substitution, no macro expansion and no backslash escapes
 * (a quote is doubled); a newline becomes a concatenated "\n" (titles use it for a second
 * line); other control characters become spaces, so the command line cannot end early.
 * Text from results.json (kernel, sweep, mask, context fields) only reaches a script
 * through here. */
static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n') fputs("'.\"\\n\".'", f);
        else if (ch == '\'') fputs("''", f);
        else if (ch < 0x20 || ch == 0x7f) fputc(' ', f);
        else fputc(ch, f);
    }
    fputc('\'', f);
}

/* A case id as one whitespace-free token of a data file (ids are filesystem-safe when
 * attnbench wrote them; one from an edited results.json may not be). */
static void dat_token(FILE *f, const char *s)
{
    if (!s || !*s) { fputc('-', f); return; }
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        fputc(ch <= 0x20 || ch == 0x7f || ch == '#' ? '_' : ch, f);
    }
}

/* %g without exponents for the integers tick labels mostly are. */
static void num_text(double x, char *buf, size_t n)
{
    if (x == floor(x) && fabs(x) < 1e15) snprintf(buf, n, "%.0f", x);
    else snprintf(buf, n, "%.3g", x);
}

/* Is point i of series s drawable on these axes (log axes need positive values)? */
static int drawable(const plot_chart *c, const plot_panel *p, const plot_point *pt)
{
    if (!isfinite(pt->x) || !isfinite(pt->y)) return 0;
    if (c->logx && pt->x <= 0) return 0;
    if (p->logy && pt->y <= 0) return 0;
    return 1;
}

static int series_drawn(const plot_chart *c, const plot_panel *p, const plot_series *s)
{
    if (!PLOT_STYLE_HAS_DATA(s->style)) return 0;
    for (int i = 0; i < s->n; i++)
        if (drawable(c, p, &s->pts[i])) return 1;
    return 0;
}

/* Ticks for a log y axis over [lo, hi]: powers of ten over a wide range, 1-2-5 over a
 * few decades, finer steps (then plain linear steps) over a narrow one, so every axis has
 * at least three labelled ticks and never a crowd of them. */
static int log_ticks(double lo, double hi, double *t, int max)
{
    static const double fine[] = { 1, 1.5, 2, 3, 4, 5, 6, 8 }, mid[] = { 1, 2, 5 }, one[] = { 1 };
    double decades = log10(hi / lo);
    const double *m = decades > 4 ? one : decades > 1.2 ? mid : fine;
    int len = decades > 4 ? 1 : decades > 1.2 ? 3 : 8, n = 0;
    int step = decades > 10 ? (int)ceil(decades / 10) : 1;
    for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)); e++) {
        if (e % step) continue;
        for (int i = 0; i < len && n < max; i++) {
            double v = m[i] * pow(10, e);
            if (v >= lo && v <= hi) t[n++] = v;
        }
    }
    if (n >= 3) return n;
    /* narrow range: linear steps of 1, 2 or 5 times a power of ten */
    double raw = (hi - lo) / 4, p10 = pow(10, floor(log10(raw)));
    double st = raw / p10 < 2 ? p10 : raw / p10 < 5 ? 2 * p10 : 5 * p10;
    n = 0;
    for (double v = ceil(lo / st) * st; v <= hi && n < max; v += st) t[n++] = v;
    return n;
}

static void write_ytics(FILE *f, const char *axis, const double *t, int n)
{
    fprintf(f, "set %stics (", axis);
    for (int i = 0; i < n; i++) {
        char b[32];
        num_text(t[i], b, sizeof b);
        fprintf(f, "%s\"%s\" %.9g", i ? ", " : "", b, t[i]);
    }
    fprintf(f, ")\n");
}

/* Index of each drawn series in the data file, or -1. */
static int write_data(const plot_chart *c, const char *path, int idx[][256])
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "# %s: data of the chart %s.png / .svg (attnbench plot)\n", c->name, c->name);
    fprintf(f, "# one block per series (gnuplot index N); columns: x y y_low y_high case_id\n");
    fprintf(f, "# y in raw units (seconds, bytes, GFLOP/s, ratio); y_low/y_high: 95%% CI where drawn\n");
    int block = 0;
    for (int p = 0; p < c->n_panels; p++) {
        const plot_panel *pn = &c->panels[p];
        for (int s = 0; s < pn->n_series && s < 256; s++) {
            const plot_series *sr = &pn->series[s];
            idx[p][s] = -1;
            if (!series_drawn(c, pn, sr)) continue;
            fprintf(f, "%s# index %d: %s%s%s\n", block ? "\n\n" : "", block,
                    sr->title[0] ? sr->title : "(markers)", pn->title[0] ? " | panel: " : "", pn->title);
            int written = 0, gap = 0;
            for (int i = 0; i < sr->n; i++) {
                const plot_point *pt = &sr->pts[i];
                if (!drawable(c, pn, pt)) {
                    gap = 1;    /* one blank line breaks the line (two would end the block) */
                    continue;
                }
                if (gap && written) fprintf(f, "\n");
                gap = 0;
                written++;
                double lo = isfinite(pt->ylo) ? pt->ylo : pt->y, hi = isfinite(pt->yhi) ? pt->yhi : pt->y;
                fprintf(f, "%.9g %.9g %.9g %.9g ", pt->x, pt->y, lo, hi);
                dat_token(f, pt->id);
                fputc('\n', f);
            }
            idx[p][s] = block++;
        }
    }
    int bad = ferror(f);
    return (fclose(f) || bad) ? -1 : 0;
}

static void write_panel(FILE *f, const plot_chart *c, int p, const int *idx, const char *dat,
                        const char *title)
{
    const plot_panel *pn = &c->panels[p];
    double sc = pn->yscale > 0 ? pn->yscale : 1;
    double lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < pn->n_series && s < 256; s++) {   /* idx holds 256 (write_data) */
        const plot_series *sr = &pn->series[s];
        if (sr->style == PS_HLINE) {
            if (!pn->logy || sr->value > 0) { lo = fmin(lo, sr->value * sc); hi = fmax(hi, sr->value * sc); }
            continue;
        }
        if (idx[s] < 0) continue;
        for (int i = 0; i < sr->n; i++) {
            const plot_point *pt = &sr->pts[i];
            if (!drawable(c, pn, pt)) continue;
            double a = pt->y, b = pt->y;
            if (isfinite(pt->ylo) && (!pn->logy || pt->ylo > 0)) a = fmin(a, pt->ylo);
            if (isfinite(pt->yhi)) b = fmax(b, pt->yhi);
            lo = fmin(lo, a * sc);
            hi = fmax(hi, b * sc);
        }
    }
    fprintf(f, "    set title ");
    gp_str(f, title);
    fprintf(f, "\n    set ylabel ");
    gp_str(f, pn->ylabel);
    fprintf(f, "\n");
    if (pn->logy) {
        if (!(hi > lo)) { lo /= 2; hi *= 2; }
        double t[64];
        lo /= 1.35;
        hi *= 1.35;
        int n = log_ticks(lo, hi, t, 64);
        fprintf(f, "    set logscale y 10\n    set yrange [%.6g:%.6g]\n    ", lo, hi);
        write_ytics(f, "y", t, n);
        fprintf(f, "    set mytics default\n");
    } else {
        fprintf(f, "    unset logscale y\n    set yrange [%s:%.6g]\n    set ytics autofreq\n",
                pn->y_from_zero ? "0" : "*", hi > 0 ? hi * 1.12 : 1);
    }
    if (pn->y2_peak > 0) {
        /* percent ticks in round steps (20, 25, 50 ...), not y's ticks converted */
        double top = (hi > 0 ? hi * 1.12 : 1) * 100 / (pn->y2_peak * sc), raw = top / 5;
        double p10 = pow(10, floor(log10(raw))), r = raw / p10;
        double st = r < 1.5 ? p10 : r < 3 ? 2 * p10 : r < 7 ? 5 * p10 : 10 * p10;
        fprintf(f, "    set ytics nomirror\n    set y2tics 0, %g\n    set format y2 \"%%g%%%%\"\n", st);
        fprintf(f, "    set link y2 via y*100.0/%.9g inverse y*%.9g/100.0\n    set y2label ",
                pn->y2_peak * sc, pn->y2_peak * sc);
        gp_str(f, pn->y2label);
        fprintf(f, "\n");
    } else {
        fprintf(f, "    unset y2tics\n    unset y2label\n    set ytics mirror\n    set format y2\n");
    }

    fprintf(f, "    plot ");
    int first = 1;
    for (int s = 0; s < pn->n_series && s < 256; s++) {   /* idx holds 256 (write_data) */
        const plot_series *sr = &pn->series[s];
        if (PLOT_STYLE_HAS_DATA(sr->style) && idx[s] < 0) continue;
        fprintf(f, "%s", first ? "" : ", \\\n         ");
        first = 0;
        switch (sr->style) {
        case PS_ERRLINES:
            fprintf(f, "'%s' index %d using 1:($2*%.9g):($3*%.9g):($4*%.9g) with yerrorlines lw 2 ps 1.1", dat,
                    idx[s], sc, sc, sc);
            break;
        case PS_LINES:
            fprintf(f, "'%s' index %d using 1:($2*%.9g) with linespoints lw 2 ps 1.1", dat, idx[s], sc);
            break;
        case PS_MARKS:
            fprintf(f, "'%s' index %d using 1:($2*%.9g) with points lw 2 ps 2.4", dat, idx[s], sc);
            break;
        case PS_POINTS:
            fprintf(f, "'%s' index %d using 1:($2*%.9g) with points lw 1.5 ps 1.3", dat, idx[s], sc);
            break;
        case PS_ROOF:
            fprintf(f, "'%s' index %d using 1:($2*%.9g) with lines lw 2", dat, idx[s], sc);
            break;
        case PS_HLINE:
            fprintf(f, "%.9g with lines lw 1.5", sr->value * sc);
            break;
        case PS_IDEAL:
            fprintf(f, "x/%.9g with lines lw 1.5", sr->value);
            break;
        case PS_HEAT:       /* drawn by write_heat_script, never among lines */
        case PS_KEYONLY:
            if (sr->point > 0) fprintf(f, "keyentry with %s lw 2 ps 2", sr->dash > 1 ? "linespoints" : "points");
            else fprintf(f, "keyentry with lines lw 1.5");
            break;
        }
        fprintf(f, " lc rgb '%s' dt %d", sr->colour, sr->dash > 0 ? sr->dash : 1);
        if (sr->point > 0 && sr->style != PS_HLINE && sr->style != PS_IDEAL) fprintf(f, " pt %d", sr->point);
        if (sr->title[0]) {
            fprintf(f, " title ");
            gp_str(f, sr->title);
        } else fprintf(f, " notitle");
    }
    fprintf(f, "\n");
}

/* The script's head: what it draws, and the loop over the output formats (the caller
 * writes the body and closes the loop with "set output\n}"). */
static void write_terminals(FILE *f, const plot_gnuplot *g, const plot_chart *c, const char *dat,
                            int w, int h)
{
    fprintf(f, "# %s.gp: draws ../%s.png and ../%s.svg from %s (attnbench plot).\n", c->name, c->name,
            c->name, dat);
    fprintf(f, "# Redraw by hand: cd into this folder and run  gnuplot %s.gp\n", c->name);
    fprintf(f, "set encoding utf8\n");
    fprintf(f, "do for [fmt in \"%s%s\"] {\n", g->pngcairo || g->png || !g->present ? "png " : "",
            g->svg || !g->present ? "svg" : "");
    fprintf(f, "  if (fmt eq \"png\") {\n");
    if (g->pngcairo || !g->present)
        fprintf(f, "    set terminal pngcairo size %d,%d noenhanced font \"sans,11\" background rgb \"white\"\n", w, h);
    else
        fprintf(f, "    set terminal png size %d,%d noenhanced font \"sans,10\" background rgb \"white\"\n", w, h);
    fprintf(f, "    set output \"../%s.png\"\n  } else {\n", c->name);
    fprintf(f, "    set terminal svg size %d,%d dynamic noenhanced font \"sans,11\" background rgb \"white\"\n", w, h);
    fprintf(f, "    set output \"../%s.svg\"\n  }\n", c->name);
}

/* ------------------------------------------------------------ heat map -- */

/* The distinct values of x (or y) of s's points, sorted; their count (at most max). */
static int heat_axis(const plot_series *s, int want_y, double *v, int max)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        double a = want_y ? s->pts[i].y : s->pts[i].x;
        int seen = 0;
        for (int j = 0; j < n && !seen; j++) seen = v[j] == a;
        if (!seen && n < max) v[n++] = a;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) { double t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
    return n;
}

static int heat_index(const double *v, int n, double a)
{
    for (int i = 0; i < n; i++)
        if (v[i] == a) return i;
    return -1;
}

/* A heat map (PS_HEAT, the chart's one series): data on the full grid of the distinct x
 * and y values, one scan line per y, NaN where no case ran (drawn blank); cells at their
 * indices so that `with image` sees a regular grid, the ticks name the values. */
static int write_heat(const plot_gnuplot *g, const plot_chart *c, const char *dat_path,
                      const char *gp_path, const char *dat)
{
    const plot_series *s = &c->panels[0].series[0];
    double xs[64], ys[64];
    int nx = heat_axis(s, 0, xs, 64), ny = heat_axis(s, 1, ys, 64);
    FILE *f = fopen(dat_path, "w");
    if (!f) return -1;
    fprintf(f, "# %s: data of the heat map %s.png / .svg (attnbench plot)\n", c->name, c->name);
    fprintf(f, "# columns: x_index y_index value x y case_id (x, y: the tunables; value: GFLOP/s, NaN: not run)\n");
    for (int yi = 0; yi < ny; yi++) {
        for (int xi = 0; xi < nx; xi++) {
            const plot_point *pt = NULL;
            for (int i = 0; i < s->n && !pt; i++)
                if (heat_index(xs, nx, s->pts[i].x) == xi && heat_index(ys, ny, s->pts[i].y) == yi) pt = &s->pts[i];
            fprintf(f, "%d %d %.9g %.9g %.9g ", xi, yi, pt ? pt->ylo : NAN, xs[xi], ys[yi]);
            dat_token(f, pt ? pt->id : NULL);
            fputc('\n', f);
        }
        fputc('\n', f);
    }
    int bad = ferror(f);
    if (fclose(f) || bad) return -1;

    if (!(f = fopen(gp_path, "w"))) return -1;
    write_terminals(f, g, c, dat, 900, 700);
    fprintf(f, "    set title ");
    gp_str(f, c->title);
    fprintf(f, "\n    set xlabel ");
    gp_str(f, c->xlabel);
    fprintf(f, "\n    set ylabel ");
    gp_str(f, c->panels[0].ylabel);
    fprintf(f, "\n    set cblabel 'GFLOP/s'\n    unset key\n    set palette rgbformulae 33,13,10\n");
    fprintf(f, "    set xrange [-0.5:%.1f]\n    set yrange [-0.5:%.1f]\n", nx - 0.5, ny - 0.5);
    for (int axis = 0; axis < 2; axis++) {
        const double *v = axis ? ys : xs;
        fprintf(f, "    set %stics (", axis ? "y" : "x");
        for (int i = 0; i < (axis ? ny : nx); i++) {
            char b[32];
            num_text(v[i], b, sizeof b);
            fprintf(f, "%s\"%s\" %d", i ? ", " : "", b, i);
        }
        fprintf(f, ")\n");
    }
    fprintf(f, "    plot '%s' using 1:2:3 with image, \\\n", dat);
    fprintf(f, "         '' using 1:2:($3 == $3 ? sprintf(\"%%.1f\", $3) : \"\") with labels font \",10\"\n");
    fprintf(f, "    set output\n}\n");
    bad = ferror(f);
    return (fclose(f) || bad) ? -1 : 0;
}

static int write_script(const plot_gnuplot *g, const plot_chart *c, const char *path, const char *dat,
                        int idx[][256])
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    write_terminals(f, g, c, dat, c->n_panels > 1 ? 1500 : c->key_right ? 1400 : 1100, 640);

    /* x axis: ticks at the values the sweep ran */
    double xs[256], all_lo = INFINITY, all_hi = -INFINITY;   /* all_*: every x, not the first 256 */
    int nx = 0;
    for (int p = 0; p < c->n_panels; p++)
        for (int s = 0; s < c->panels[p].n_series; s++) {
            if (idx[p][s] < 0) continue;
            const plot_series *sr = &c->panels[p].series[s];
            for (int i = 0; i < sr->n; i++) {
                if (!drawable(c, &c->panels[p], &sr->pts[i])) continue;
                all_lo = fmin(all_lo, sr->pts[i].x);
                all_hi = fmax(all_hi, sr->pts[i].x);
                int seen = 0;
                for (int j = 0; j < nx && !seen; j++) seen = xs[j] == sr->pts[i].x;
                if (!seen && nx < 256) xs[nx++] = sr->pts[i].x;
            }
        }
    for (int i = 1; i < nx; i++)
        for (int j = i; j > 0 && xs[j - 1] > xs[j]; j--) { double t = xs[j]; xs[j] = xs[j - 1]; xs[j - 1] = t; }
    double xmin = nx ? all_lo : 1, xmax = nx ? all_hi : 2;
    fprintf(f, "    set xlabel ");
    gp_str(f, c->xlabel);
    fprintf(f, "\n");
    if (c->logx && c->logx_decades) {
        if (xmax <= xmin) { xmin /= 2; xmax *= 2; }
        double t[64];
        int n = log_ticks(xmin / 1.35, xmax * 1.35, t, 64);
        fprintf(f, "    set logscale x 10\n    set xrange [%.6g:%.6g]\n    ", xmin / 1.35, xmax * 1.35);
        write_ytics(f, "x", t, n);
    } else if (c->logx) {
        if (xmax <= xmin) { xmin /= 2; xmax *= 2; }
        fprintf(f, "    set logscale x 2\n    set xrange [%.6g:%.6g]\n", xmin / 1.25, xmax * 1.25);
    } else {
        double pad = xmax > xmin ? 0.06 * (xmax - xmin) : 0.5;
        if (pad < 0.5) pad = 0.5;
        fprintf(f, "    unset logscale x\n    set xrange [%.6g:%.6g]\n", xmin - pad, xmax + pad);
    }
    if (!(c->logx && c->logx_decades)) {
        int step = nx > 14 ? (nx + 13) / 14 : 1;
        fprintf(f, "    set xtics %s(", x_names ? "rotate by -30 " : "");
        for (int i = 0, k = 0; i < nx; i += step, k++) {
            char b[32];
            num_text(xs[i], b, sizeof b);
            fprintf(f, "%s", k ? ", " : "");
            if (x_names && xs[i] == floor(xs[i]) && xs[i] >= 0 && xs[i] < n_x_names) gp_str(f, x_names[(int)xs[i]]);
            else fprintf(f, "\"%s\"", b);
            fprintf(f, " %.9g", xs[i]);
        }
        fprintf(f, ")\n");
    }
    fprintf(f, "    set mxtics default\n");
    fprintf(f, "    set grid xtics ytics lc rgb \"#d4d4d4\" lw 1 dt 1\n");
    fprintf(f, "    set bars small\n");
    fprintf(f, "    set border lw 1\n");
    if (c->n_panels > 1) {
        fprintf(f, "    set key top left inside Left reverse opaque box lc rgb \"#cccccc\" samplen 2.5 spacing 1.1 font \",10\"\n");
        fprintf(f, "    set multiplot layout 1,%d title ", c->n_panels);
        gp_str(f, c->title);
        fprintf(f, "\n");
    } else if (c->key_right) {
        fprintf(f, "    set key outside right top Left reverse samplen 2.5 spacing 1.0 font \",9\"\n");
    } else {
        fprintf(f, "    set key below Left reverse samplen 2.5 spacing 1.1 font \",10\" maxrows 4 height 1\n");
    }
    for (int p = 0; p < c->n_panels; p++) {
        /* one panel: the chart's title on top of it; several: the multiplot title above */
        char title[600];
        if (c->n_panels == 1)
            snprintf(title, sizeof title, "%s%s%s", c->title, c->panels[p].title[0] ? "\n" : "",
                     c->panels[p].title);
        else snprintf(title, sizeof title, "%s", c->panels[p].title);
        write_panel(f, c, p, idx[p], dat, title);
    }
    if (c->n_panels > 1) fprintf(f, "    unset multiplot\n");
    fprintf(f, "    set output\n}\n");
    int bad = ferror(f);
    return (fclose(f) || bad) ? -1 : 0;
}

/* ================================================================= render == */

static int nonempty(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

int plot_gnuplot_render(plot_gnuplot *g, const plot_chart *c, const char *outdir)
{
    char datadir[4200], dat[4400], gp[4400], file[300];
    static int idx[PLOT_MAX_PANELS][256];
    if (plot_fmt(datadir, sizeof datadir, "%s/data", outdir) ||
        plot_fmt(dat, sizeof dat, "%s/%s.dat", datadir, c->name) ||
        plot_fmt(gp, sizeof gp, "%s/%s.gp", datadir, c->name) ||
        plot_fmt(file, sizeof file, "%s.dat", c->name)) {
        fprintf(stderr, "attnbench plot: path too long under %s\n", outdir);
        g->problems++;
        return -1;
    }
    int heat = c->n_panels == 1 && c->panels[0].n_series == 1 && c->panels[0].series[0].style == PS_HEAT;
    if (heat ? write_heat(g, c, dat, gp, file) : (write_data(c, dat, idx) || write_script(g, c, gp, file, idx))) {
        fprintf(stderr, "attnbench plot: cannot write %s: %s\n", gp, strerror(errno));
        g->problems++;
        return -1;
    }
    if (!g->present) return -1;

    char script[300], *out = NULL;
    plot_fmt(script, sizeof script, "%s.gp", c->name);   /* fits: name is shorter */
    char *argv[] = { "gnuplot", script, NULL };
    int st = run_capture(datadir, argv, &out);
    char png[4400], svg[4400];
    plot_fmt(png, sizeof png, "%s/%s.png", outdir, c->name);   /* as long as dat: fits */
    plot_fmt(svg, sizeof svg, "%s/%s.svg", outdir, c->name);
    int missing = ((g->pngcairo || g->png) && !nonempty(png)) || (g->svg && !nonempty(svg));
    int bad = st != 0 || (out && out[0]) || missing;
    if (bad) {
        fprintf(stderr, "attnbench plot: gnuplot %s/%s (exit %d)%s:\n%s", datadir, script, st,
                missing ? ", chart missing or empty" : "", out && out[0] ? out : "(no message)\n");
        g->problems++;
    } else g->drawn++;
    free(out);
    return bad ? -1 : 0;
}

/* A categorical x axis (history's runs): see plot/history_chart.h. */
int plot_gnuplot_render_named_x(plot_gnuplot *g, const plot_chart *c, const char *outdir,
                                const char *const *names, int n_names)
{
    x_names = names;
    n_x_names = n_names;
    int rc = plot_gnuplot_render(g, c, outdir);
    x_names = NULL;
    n_x_names = 0;
    return rc;
}
