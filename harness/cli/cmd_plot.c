/* cmd_plot.c: `attnbench plot DIR...`: options; the charts and report are plot/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/opts.h"
#include "plot/plot.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: attnbench plot DIR [DIR...] [--baseline KERNEL] [-o OUTDIR]\n"
        "\n"
        "Charts (PNG and SVG, drawn by gnuplot) and a report from results.json alone.\n"
        "  one DIR:      charts in DIR/plots/, report in DIR/report.md and DIR/report.html\n"
        "  several DIRs: the same kernels overlaid, labelled by run (before/after); charts\n"
        "                and report in FIRST_DIR/plots/overlay/\n"
        "  -o OUTDIR     charts in OUTDIR instead (the report goes there too)\n"
        "  --baseline K  speedups are over kernel K (default naive)\n"
        "The gnuplot scripts and data files (with case ids) are kept in the charts' data/\n"
        "folder: cd there and run `gnuplot NAME.gp` to redraw a chart by hand.\n"
        "Without gnuplot the report (tables) and the scripts are still written; exit 0.\n"
        "Exit: 0 ok; 1 gnuplot reported a problem with a chart; 2 usage or unreadable results.\n");
}

int attn_cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *baseline = "naive";
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    int n_dirs = 0;
    if (!dirs) return 2;
    attn_argv a = { .argc = argc, .argv = argv, .cmd = "plot" };
    for (a.i = 1; a.i < argc; a.i++) {
        const char *v;
        if (attn_opt_flag(&a, "--help", "-h")) { usage(stdout); free(dirs); return 0; }
        else if ((v = attn_opt_value(&a, "-o"))) out = v;
        else if ((v = attn_opt_value(&a, "--baseline"))) baseline = v;
        else if (a.missing || argv[a.i][0] == '-') {
            int rc = a.missing ? 2 : attn_opt_unknown(&a);
            free(dirs);
            return rc;
        } else dirs[n_dirs++] = argv[a.i];
    }
    if (!n_dirs) { usage(stderr); free(dirs); return 2; }
    int rc = plot_main(dirs, n_dirs, out, baseline);
    free(dirs);
    return rc;
}

