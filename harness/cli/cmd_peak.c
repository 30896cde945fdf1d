/* cmd_peak.c: `attnbench peak`: the two measured roofs of the roofline per thread count:
 * fp32 FMA peak per ISA (core/peak.c) and memory read bandwidth (core/bandwidth.c), and
 * the ridge where they meet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "core/bandwidth.h"
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
        "Then the sustained memory read bandwidth: each thread sums its own slice of a\n"
        "buffer 8 x the last-level cache, at least 512 MiB (%zu MiB here), best of at least\n"
        "%d passes.\n"
        "pct_peak divides by the FMA peak; pct_roof by min(peak, intensity x bandwidth),\n"
        "and the ridge is the intensity (FLOP/byte) where the two roofs meet.\n"
        "\n"
        "  --threads N   thread counts to measure (repeatable or comma list);\n"
        "                default 1 and all %d online cores\n"
        "  --seconds S   time per (ISA, threads) measurement and per bandwidth\n"
        "                measurement, default 1\n"
        "  --json        print {\"peak_gflops\": {\"<isa>\": {\"<threads>\": GFLOP/s}},\n"
        "                \"bandwidth_gbs\": {\"<threads>\": GB/s}, \"bandwidth_buffer_bytes\": N}\n",
        PEAK_TRIALS, attn_bandwidth_default_bytes() >> 20, BW_TRIALS, attn_cpu_cores());
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

/* The read bandwidth on each thread count into pk and, unless json, its table row and
 * the ridge of every usable ISA (pk's FMA peaks measured already). */
static void measure_bandwidth(attn_peaks *pk, const int *threads, int nt, double seconds, int json)
{
    size_t bw_bytes = attn_bandwidth_default_bytes();
    pk->bw_buffer_bytes = (double)bw_bytes;
    if (!json)
        printf("\nmemory read bandwidth GB/s (buffer %zu MiB, best of >= %d passes)\n%-10s", bw_bytes >> 20,
               BW_TRIALS, "read");
    for (int j = 0; j < nt; j++) {
        pk->gbs[threads[j]] = attn_bandwidth_measure(threads[j], bw_bytes, seconds);
        if (!json) { printf(" %13.1f", pk->gbs[threads[j]]); fflush(stdout); }
    }
    if (json) return;
    printf("\n\nridge FLOP/byte (peak / bandwidth: below it a kernel is bound by memory)\n");
    for (int i = 0; i < ATTN_ISA_COUNT; i++) {
        if (!attn_peak_usable((attn_isa)i)) continue;
        printf("%-10s", attn_isa_name((attn_isa)i));
        for (int j = 0; j < nt; j++) {
            double r = attn_ridge_intensity(pk->gflops[i][threads[j]], pk->gbs[threads[j]]);
            if (r > 0) printf(" %13.2f", r);
            else printf(" %13s", "-");
        }
        printf("\n");
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

    measure_bandwidth(&pk, threads, nt, seconds, json);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "peak_gflops", attn_peaks_json(&pk));
        cJSON_AddItemToObject(o, "bandwidth_gbs", attn_bandwidth_json(&pk));
        cJSON_AddNumberToObject(o, "bandwidth_buffer_bytes", pk.bw_buffer_bytes);
        char *s = cJSON_Print(o);
        if (s) puts(s);
        free(s);
        cJSON_Delete(o);
    }
    return 0;
}
