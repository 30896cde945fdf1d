/* cmd_history.c: `attnbench history DIR...`: options and loading; the table is
 * analysis/history.c, the chart plot/history_chart.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "analysis/history.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "plot/history_chart.h"
#include "record/results.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: attnbench history RESULTS... [-o OUTDIR] [--threshold PCT] [--alpha A]\n"
"\n"
"Each case's median over successive runs (RESULTS are results directories or files,\n"
"oldest first), marking where compare against the previous run finds a regression ('^')\n"
"or an improvement ('v'). Prints a table and draws OUTDIR/history.svg and history.png\n"
"with gnuplot (default OUTDIR: the last run's plots/; data and script in OUTDIR/data/).\n"
"\n"
"options:\n"
"  -o OUTDIR         where the chart goes\n"
"  --threshold PCT   as for compare (default %g)\n"
"  --alpha A         as for compare (default %g)\n"
"  --help            this text\n",
            100 * ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA);
}

/* argv -> options and inputs: 0 go on, 1 --help shown, 2 usage error (told). */
static int parse_args(int argc, char **argv, attn_cmp_opts *o, const char **outdir, const char **in, int *n_in)
{
    attn_argv a = { .argc = argc, .argv = argv, .cmd = "history" };
    for (a.i = 1; a.i < argc; a.i++) {
        const char *v;
        if (attn_opt_flag(&a, "--help", "-h")) { usage(stdout); return 1; }
        else if ((v = attn_opt_value(&a, "-o"))) *outdir = v;
        else if ((v = attn_opt_value(&a, "--threshold"))) {
            if (attn_opt_percent(&a, "--threshold", v, 0, 999, &o->threshold)) return 2;
        } else if ((v = attn_opt_value(&a, "--alpha"))) {
            if (attn_opt_alpha(&a, v, &o->alpha)) return 2;
        } else if (a.missing) return 2;
        else if (argv[a.i][0] == '-') return attn_opt_unknown(&a);
        else in[(*n_in)++] = argv[a.i];
    }
    if (*n_in == 0) {
        fprintf(stderr, "attnbench history: give at least one results directory\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

int attn_cmd_history(int argc, char **argv)
{
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    const char *outdir = NULL;
    const char **in = calloc((size_t)argc, sizeof *in);
    int n_runs = 0;
    if (!in) return 2;
    int rc = parse_args(argc, argv, &o, &outdir, in, &n_runs);
    if (rc) { free(in); return rc == 1 ? 0 : rc; }

    cJSON **docs = calloc((size_t)n_runs, sizeof *docs);
    attn_history h;
    char err[4096];
    rc = 2;
    if (!docs) goto done;
    for (int d = 0; d < n_runs; d++)
        if (!(docs[d] = attn_results_load(in[d], err, sizeof err))) {
            fprintf(stderr, "attnbench history: %s\n", err);
            goto done;
        }
    if (attn_history_build((const cJSON *const *)docs, in, n_runs, &o, &h) != 0) {
        fprintf(stderr, "attnbench history: out of memory\n");
        goto done;
    }
    attn_history_print(stdout, &h, &o, in);
    char dir[4200];
    if (outdir) snprintf(dir, sizeof dir, "%s", outdir);
    else {
        char last[4096];
        attn_results_dir(in[n_runs - 1], last, sizeof last);
        snprintf(dir, sizeof dir, "%s/plots", last);
    }
    fflush(stdout);
    plot_history_chart(&h, dir);    /* a missing chart is told, not fatal */
    attn_history_free(&h);
    rc = 0;
done:
    for (int d = 0; docs && d < n_runs; d++) cJSON_Delete(docs[d]);
    free(docs);
    free(in);
    return rc;
}
