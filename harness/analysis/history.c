/* history.c: `attnbench history DIR...`: each case's median over successive runs.
 *
 * The runs are taken in the order given (oldest first, e.g. one results directory per
 * commit). Every run is compared with the one before it exactly as `attnbench compare`
 * does (attn_compare_docs, same threshold and alpha), so the marks in the table and the
 * chart are the verdicts CI would have given at that commit:
 *   table   rows: cases (attn_case_label), columns: runs, cells: median in ms, followed by
 *           '^' regressed or 'v' improved against the previous run, 'x' when the case was
 *           invalid/crashed/timeout there, '-' when absent
 *   chart   OUT/history.svg and .png (gnuplot; OUT/history.dat and history.gp are kept
 *           so the chart can be redrawn or restyled): median over runs per case, log
 *           scale, regressions as red triangles
 * OUT is -o OUTDIR, by default the plots/ folder of the last run.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/util.h"
#include "cli/commands.h"
#include "analysis/compare.h"
#include "record/results.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: attnbench history RESULTS... [-o OUTDIR] [--threshold PCT] [--alpha A]\n"
"\n"
"Each case's median over successive runs (RESULTS are results directories or files,\n"
"oldest first), marking where compare against the previous run finds a regression ('^')\n"
"or an improvement ('v'). Prints a table and draws OUTDIR/history.svg and history.png\n"
"with gnuplot (default OUTDIR: the last run's plots/).\n"
"\n"
"options:\n"
"  -o OUTDIR         where the chart goes\n"
"  --threshold PCT   as for compare (default %g)\n"
"  --alpha A         as for compare (default %g)\n"
"  --help            this text\n",
            100 * ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA);
}

/* One cell of the table. */
typedef struct cell { double median; char mark; } cell;

typedef struct row { char key[ATTN_CASE_KEY_MAX], label[ATTN_CASE_KEY_MAX]; } row;

static int find_row(const row *rows, int n, const char *key)
{
    for (int i = 0; i < n; i++) if (!strcmp(rows[i].key, key)) return i;
    return -1;
}

/* gnuplot string literal: double quotes, with '"' and '\' escaped. */
static void gp_str(FILE *f, const char *s)   /* as plot_gnuplot.c: never interpreted */
{
    fputc('\'', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\'') fputs("''", f);
        else fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, f);
    }
    fputc('\'', f);
}

/* Write history.dat and history.gp into dir and run gnuplot there. 0, or -1 (told). */
static int draw(const char *dir, const row *rows, int n_rows, cell *const *cells, int n_runs,
                char (*run_label)[64])
{
    char path[2200];
    attn_mkdir_p(dir);
    snprintf(path, sizeof path, "%s/history.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "history: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    fprintf(f, "# attnbench history: one block per case (gnuplot index = row); "
               "columns: run, median_ms, regressed (1/0), improved (1/0)\n");
    for (int r = 0; r < n_rows; r++) {
        fprintf(f, "# %s\n", rows[r].label);
        for (int d = 0; d < n_runs; d++) {
            const cell *c = &cells[d][r];
            if (isfinite(c->median))
                fprintf(f, "%d %.6g %d %d\n", d, c->median * 1e3, c->mark == '^', c->mark == 'v');
        }
        fprintf(f, "\n\n");
    }
    fclose(f);

    snprintf(path, sizeof path, "%s/history.gp", dir);
    if (!(f = fopen(path, "w"))) { fprintf(stderr, "history: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    fprintf(f, "# attnbench history chart; redraw with: cd %s && gnuplot history.gp\n", dir);
    fprintf(f, "set title \"Median time per case over runs (red: regression against the previous run)\"\n"
               "set ylabel \"median time per call (ms)\"\nset logscale y\nset grid ytics\n"
               "set key outside right top font \",8\"\nset xrange [-0.5:%d.5]\nset xtics rotate by -30 (", n_runs - 1);
    for (int d = 0; d < n_runs; d++) {
        if (d) fputs(", ", f);
        gp_str(f, run_label[d]);
        fprintf(f, " %d", d);
    }
    fputs(")\n", f);
    /* one plot command, written twice: once per terminal */
    for (int t = 0; t < 2; t++) {
        if (t == 0)
            fprintf(f, "set terminal svg size 1100,600 dynamic\nset output \"history.svg\"\n");
        else
            fprintf(f, "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) { set terminal pngcairo size 1100,600 } "
                       "else { set terminal png size 1100,600 }\nset output \"history.png\"\n");
        fputs("plot ", f);
        for (int r = 0; r < n_rows; r++) {
            fprintf(f, "\"history.dat\" index %d using 1:2 with linespoints pt 7 ps 0.6 title ", r);
            gp_str(f, rows[r].label);
            fputs(", \\\n     ", f);
        }
        fputs("\"history.dat\" using 1:($3 > 0 ? $2 : 1/0) with points pt 9 ps 2 lc rgb \"red\" "
              "title \"regression\"\n", f);
    }
    fclose(f);

    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "history: gnuplot not found, chart not drawn (data in %s/history.dat); "
                "install it with: sudo apt-get install gnuplot-nox (or: make deps)\n", dir);
        return -1;
    }
    /* run in dir so the script's relative names work; quote dir for the shell */
    char cmd[8192] = "cd '";
    size_t k = strlen(cmd);
    for (const char *s = dir; *s && k + 8 < sizeof cmd; s++) {
        if (*s == '\'') { memcpy(cmd + k, "'\\''", 4); k += 4; }
        else cmd[k++] = *s;
    }
    snprintf(cmd + k, sizeof cmd - k, "' && gnuplot history.gp");
    if (system(cmd) != 0) {
        fprintf(stderr, "history: gnuplot failed on %s/history.gp\n", dir);
        return -1;
    }
    fprintf(stderr, "history: chart in %s/history.svg and history.png\n", dir);
    return 0;
}

int attn_cmd_history(int argc, char **argv)
{
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    const char *outdir = NULL;
    const char **in = calloc((size_t)argc, sizeof *in);
    int n_runs = 0;
    if (!in) return 2;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); free(in); return 0; }
        else if (!strcmp(argv[i], "-o") && i + 1 < argc) outdir = argv[++i];
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) {
            o.threshold = strtod(argv[++i], &end) / 100;
            if (*end && strcmp(end, "%")) { fprintf(stderr, "history: --threshold '%s': expected a percentage\n", argv[i]); free(in); return 2; }
        } else if (!strcmp(argv[i], "--alpha") && i + 1 < argc) {
            o.alpha = strtod(argv[++i], &end);
            if (*end || !(o.alpha > 0 && o.alpha < 1)) { fprintf(stderr, "history: --alpha '%s': expected 0 < A < 1\n", argv[i]); free(in); return 2; }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "history: unknown option or missing value '%s' (see attnbench history --help)\n", argv[i]);
            free(in);
            return 2;
        } else in[n_runs++] = argv[i];
    }
    if (n_runs == 0) { fprintf(stderr, "history: give at least one results directory\n"); usage(stderr); free(in); return 2; }

    int rc = 2, n_rows = 0;
    cJSON **docs = calloc((size_t)n_runs, sizeof *docs);
    cell **cells = calloc((size_t)n_runs, sizeof *cells);
    char (*label)[64] = calloc((size_t)n_runs, sizeof *label);
    int n_cases_total = 0;
    row *rows = NULL;
    char err[4096];
    if (!docs || !cells || !label) goto done;
    for (int d = 0; d < n_runs; d++) {
        if (!(docs[d] = attn_results_load(in[d], err, sizeof err))) { fprintf(stderr, "history: %s\n", err); goto done; }
        n_cases_total += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(docs[d], "cases"));
    }
    if (!(rows = calloc((size_t)n_cases_total + 1, sizeof *rows))) goto done;
    for (int d = 0; d < n_runs; d++) {
        /* run label: the commit when recorded, else the directory's name */
        const char *sha = attn_json_str(cJSON_GetObjectItemCaseSensitive(docs[d], "context"), "git_sha", NULL);
        char dir[4096];
        attn_results_dir(in[d], dir, sizeof dir);
        const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        snprintf(label[d], sizeof label[d], "%.12s", sha && strcmp(sha, "unknown") ? sha : base);
        for (int e = 0; e < d; e++)
            if (!strcmp(label[e], label[d])) { snprintf(label[d], sizeof label[d], "%.40s#%d", base, d + 1); break; }
        /* rows: every case key in first-seen order */
        for (const cJSON *c = cJSON_GetObjectItemCaseSensitive(docs[d], "cases")->child; c; c = c->next) {
            char key[ATTN_CASE_KEY_MAX];
            if (attn_case_key(c, key, sizeof key) != 0 || find_row(rows, n_rows, key) >= 0) continue;
            snprintf(rows[n_rows].key, sizeof rows[n_rows].key, "%s", key);
            attn_case_label(c, rows[n_rows].label, sizeof rows[n_rows].label);
            n_rows++;
        }
    }
    for (int d = 0; d < n_runs; d++) {
        if (!(cells[d] = calloc((size_t)n_rows + 1, sizeof *cells[d]))) goto done;
        for (int r = 0; r < n_rows; r++) { cells[d][r].median = NAN; cells[d][r].mark = '-'; }
        for (const cJSON *c = cJSON_GetObjectItemCaseSensitive(docs[d], "cases")->child; c; c = c->next) {
            char key[ATTN_CASE_KEY_MAX];
            int r;
            if (attn_case_key(c, key, sizeof key) != 0 || (r = find_row(rows, n_rows, key)) < 0) continue;
            if (isfinite(cells[d][r].median) || cells[d][r].mark == 'x') continue;  /* first occurrence */
            const char *st = attn_json_str(c, "status", "ok");
            if (!strcmp(st, "invalid") || !strcmp(st, "crashed") || !strcmp(st, "timeout")) { cells[d][r].mark = 'x'; continue; }
            int n = 0;
            double *x = strcmp(st, "ok") ? NULL : attn_case_samples(c, &n);
            if (!x) continue;
            qsort(x, (size_t)n, sizeof *x, attn_cmp_double);
            cells[d][r].median = n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
            cells[d][r].mark = ' ';
            free(x);
        }
        if (d == 0) continue;
        attn_cmp_report rep;
        if (attn_compare_docs(docs[d - 1], docs[d], &o, &rep) != 0) goto done;
        for (int i = 0; i < rep.n; i++) {
            int r = find_row(rows, n_rows, rep.cases[i].key);
            if (r < 0 || !isfinite(cells[d][r].median)) continue;
            if (rep.cases[i].verdict == CMP_REGRESSED) cells[d][r].mark = '^';
            if (rep.cases[i].verdict == CMP_IMPROVED) cells[d][r].mark = 'v';
        }
        attn_cmp_report_free(&rep);
    }

    /* the table */
    int w = 4, cw = 10;
    for (int r = 0; r < n_rows; r++) if ((int)strlen(rows[r].label) > w) w = (int)strlen(rows[r].label);
    for (int d = 0; d < n_runs; d++) if ((int)strlen(label[d]) + 1 > cw) cw = (int)strlen(label[d]) + 1;
    printf("median ms per run; ^ regressed, v improved against the previous run (threshold %.3g%%, "
           "alpha %g), x failed, - absent\n\n%-*s", 100 * o.threshold, o.alpha, w, "case");
    for (int d = 0; d < n_runs; d++) printf(" %*s", cw, label[d]);
    printf("\n");
    int n_reg = 0;
    for (int r = 0; r < n_rows; r++) {
        printf("%-*s", w, rows[r].label);
        for (int d = 0; d < n_runs; d++) {
            const cell *c = &cells[d][r];
            char v[64];
            if (isfinite(c->median)) {
                double ms = c->median * 1e3;
                snprintf(v, sizeof v, ms >= 100 ? "%.1f%c" : ms >= 10 ? "%.2f%c" : ms >= 1 ? "%.3f%c" : "%.4f%c", ms, c->mark);
            } else snprintf(v, sizeof v, "%c ", c->mark);
            n_reg += c->mark == '^';
            printf(" %*s", cw, v);
        }
        printf("\n");
    }
    printf("\n");
    for (int d = 0; d < n_runs; d++)
        printf("%-*s %s\n", cw, label[d], in[d]);
    printf("%d regression%s marked\n", n_reg, n_reg == 1 ? "" : "s");

    char dir[2100];
    if (outdir) snprintf(dir, sizeof dir, "%s", outdir);
    else {
        char last[2048];
        attn_results_dir(in[n_runs - 1], last, sizeof last);
        snprintf(dir, sizeof dir, "%s/plots", last);
    }
    draw(dir, rows, n_rows, cells, n_runs, label);   /* a missing chart is told, not fatal */
    rc = 0;
done:
    for (int d = 0; d < n_runs; d++) {
        if (docs) cJSON_Delete(docs[d]);
        if (cells) free(cells[d]);
    }
    free(docs);
    free(cells);
    free(label);
    free(rows);
    free(in);
    return rc;
}
