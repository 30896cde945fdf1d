/* main.c: `attnbench SUBCOMMAND ...`: dispatch to the subcommands of commands.h. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    { "list",    attn_cmd_list,    "kernels: name, ISA, capabilities, available here or why not" },
    { "run",     attn_cmd_run,     "run the sweeps of a config file, validate, time, write results" },
    { "peak",    attn_cmd_peak,    "measured fp32 FMA peak GFLOP/s per ISA (the roofline's roof)" },
    { "compare", attn_cmd_compare, "compare two runs with statistics; exit 1 on a regression" },
    { "ab",      attn_cmd_ab,      "two builds timed interleaved on a config; exit 1 on a regression" },
    { "history", attn_cmd_history, "each kernel's median over successive runs, with regressions" },
    { "merge",   attn_cmd_merge,   "join the results of sharded runs into one directory" },
    { "plot",    attn_cmd_plot,    "gnuplot charts and a report for results directories" },
    { "info",    attn_cmd_info,    "machine context as JSON" },
    { "tune",    attn_cmd_tune,    "sweep kernels' tile sizes, store the best in results/tuning/ (wisdom)" },
};
#define N_CMDS (int)(sizeof cmds / sizeof cmds[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: attnbench COMMAND [ARGS]   (attnbench COMMAND --help for more)\n\ncommands:\n");
    for (int i = 0; i < N_CMDS; i++) fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (int i = 0; i < N_CMDS; i++)
        if (!strcmp(argv[1], cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "attnbench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
