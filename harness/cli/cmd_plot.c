/* cmd_plot.c: `attnbench plot DIR...`: options; the charts and report are plot/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
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
    const char **dirs = calloc(argc, sizeof *dirs);
    int n_dirs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); free(dirs); return 0; }
        if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--baseline")) && i + 1 >= argc) {
            fprintf(stderr, "attnbench plot: %s needs a value\n", argv[i]);
            free(dirs);
            return 2;
        }
        if (!strcmp(argv[i], "-o")) out = argv[++i];
        else if (!strcmp(argv[i], "--baseline")) baseline = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "attnbench plot: unknown option '%s'\n", argv[i]);
            usage(stderr);
            free(dirs);
            return 2;
        } else dirs[n_dirs++] = argv[i];
    }
    if (!n_dirs) { usage(stderr); free(dirs); return 2; }
    int rc = plot_main(dirs, n_dirs, out, baseline);
    free(dirs);
    return rc;
}

