/* cmd_peak.c: `attnbench peak`: the measured fp32 roofs per ISA and thread count
 * (the loops and the forked measurement are core/peak.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "core/machine.h"
#include "core/peak.h"

/* -------------------------------------------------------------- command -- */

static void peak_usage(FILE *f)
{
    fprintf(f,
        "usage: attnbench peak [--threads N[,N...]] [--seconds S] [--json]\n"
        "\n"
        "Measures the fp32 peak of every ISA usable here: a register-only loop of\n"
        "independent fused multiply-adds (2 flops per lane; portable: a mul + add loop\n"
        "compiled for the baseline ISA), best of %d trials, on each thread count.\n"
        "This is the roof that pct_peak and the roofline charts divide by.\n"
        "\n"
        "  --threads N   thread counts to measure (repeatable or comma list);\n"
        "                default 1 and all %d online cores\n"
        "  --seconds S   time per (ISA, threads) measurement, default 1\n"
        "  --json        print {\"<isa>\": {\"<threads>\": GFLOP/s}} instead of a table\n",
        PEAK_TRIALS, attn_cpu_cores());
}

/* "N[,N...]": thread counts 1..ATTN_MAX_THREADS, each strict, added once. */
static int add_threads(const char *s, int *list, int *n)
{
    char tok[32];
    for (;;) {
        size_t l = strcspn(s, ",");
        long t;
        if (l == 0 || l >= sizeof tok) return -1;
        memcpy(tok, s, l);
        tok[l] = 0;
        if (attn_parse_long(tok, 1, ATTN_MAX_THREADS, &t)) return -1;
        int seen = 0;
        for (int i = 0; i < *n; i++) seen |= list[i] == (int)t;
        if (!seen && *n < ATTN_MAX_THREADS) list[(*n)++] = (int)t;
        if (!s[l]) return 0;
        s += l + 1;
    }
}

int attn_cmd_peak(int argc, char **argv)
{
    int threads[ATTN_MAX_THREADS], nt = 0, json = 0;
    double seconds = 1.0;
    attn_argv a = { .argc = argc, .argv = argv, .cmd = "peak" };
    for (a.i = 1; a.i < argc; a.i++) {
        const char *v;
        if (attn_opt_flag(&a, "--help", "-h")) { peak_usage(stdout); return 0; }
        else if (attn_opt_flag(&a, "--json", NULL)) json = 1;
        else if ((v = attn_opt_value(&a, "--threads"))) {
            if (add_threads(v, threads, &nt) != 0) {
                fprintf(stderr, "attnbench peak: --threads '%s': expected counts 1..%d, "
                        "comma separated\n", v, ATTN_MAX_THREADS);
                return 2;
            }
        } else if ((v = attn_opt_value(&a, "--seconds"))) {
            if (attn_opt_double(&a, "--seconds", v, 0.001, 600, "a number of seconds from 0.001 to 600",
                                &seconds))
                return 2;
        } else if (a.missing) return 2;
        else return attn_opt_unknown(&a);
    }
    if (nt == 0) {
        int cores = attn_cpu_cores();
        threads[nt++] = 1;
        if (cores > 1) threads[nt++] = cores > ATTN_MAX_THREADS ? ATTN_MAX_THREADS : cores;
    }

    static attn_peaks pk;       /* large; zeroed */
    if (!json) {
        printf("fp32 peak GFLOP/s (best of %d trials, %.2g s per cell; 2 flops per FMA lane)\n",
               PEAK_TRIALS, seconds);
        printf("%-10s", "isa");
        for (int j = 0; j < nt; j++) printf(" %9d thr", threads[j]);
        printf("  %12s\n", "per thread");
    }
    for (int i = 0; i < ATTN_ISA_COUNT; i++) {
        attn_isa isa = (attn_isa)i;
        if (!json) printf("%-10s", attn_isa_name(isa));
        if (!attn_peak_usable(isa)) {
            if (!json) printf("  not usable here (cpu lacks it, ATTN_ISA caps it, or not built "
                              "for this architecture)\n");
            continue;
        }
        double last = 0;
        for (int j = 0; j < nt; j++) {
            double g = attn_peak_measure(isa, threads[j], seconds);
            pk.gflops[i][threads[j]] = g;
            last = g / threads[j];
            if (!json) { printf(" %13.1f", g); fflush(stdout); }
        }
        if (!json) printf("  %12.1f\n", last);
    }
    if (json) {
        cJSON *o = attn_peaks_json(&pk);
        char *s = cJSON_Print(o);
        if (s) puts(s);
        free(s);
        cJSON_Delete(o);
    }
    return 0;
}
