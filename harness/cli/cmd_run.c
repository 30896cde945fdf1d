/* cmd_run.c: `attnbench run CONFIG.ini`: expand the sweeps, measure the peaks the cases
 * need, run every case (runner.c), record it as it finishes (results.c), report progress. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "record/baseline.h"
#include "cli/commands.h"
#include "core/config.h"
#include "core/machine.h"
#include "record/results.h"
#include "core/runner.h"

static const char usage_text[] =
    "usage: attnbench run CONFIG.ini [options]\n"
    "\n"
    "Run every case of the config's sweeps: validate each kernel against the naive\n"
    "reference, time it, measure its memory, and write DIR/results.json and results.csv\n"
    "as cases finish.\n"
    "\n"
    "options:\n"
    "  -o DIR               output directory (default results/<config>-<date>-<time>)\n"
    "  --kernels a,b        only these kernels (of those the config names)\n"
    "  --resume             continue DIR: run only the cases it does not hold yet\n"
    "  --dump DIR           write each case's q, k, v, out (.npy) and case.json under DIR\n"
    "  --format FMT         json and csv are always written; gbench also writes\n"
    "                       results.gbench.json (Google Benchmark's JSON)\n"
    "  --mem-budget SIZE    skip cases needing more memory (default half of RAM; 512M, 4G)\n"
    "  --shard K/N          run only cases K, K+N, K+2N, ... (0 <= K < N); see `merge`\n"
    "  --case ID            run only the case with this id (as `attnbench ab` does)\n"
    "  --no-peak            do not measure the FMA peaks (pct_peak is then null)\n"
    "  --save-baseline NAME store the results as this machine's baseline NAME\n"
    "  -q, --quiet          no progress lines\n"
    "\n"
    "exit status: 0 all cases ok or skipped; 1 a case was invalid, crashed or timed out;\n"
    "2 usage or config error\n";

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0) return -1;
    switch (*end) {
    case 'k': case 'K': v *= 1024.0; end++; break;
    case 'm': case 'M': v *= 1024.0 * 1024; end++; break;
    case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; end++; break;
    }
    if (*end == 'i' || *end == 'I') end++;
    if (*end == 'b' || *end == 'B') end++;
    if (*end) return -1;
    *out = (size_t)v;
    return 0;
}

static void fmt_eta(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void progress(int done, int total, const attn_case *c, const attn_result *r, double eta)
{
    char t[32] = "", e[32];
    fmt_eta(eta, e, sizeof e);
    fprintf(stderr, "[%*d/%d] %-15s %s", total >= 100 ? 3 : 2, done, total, c->kernel->name, c->id);
    if (r->status == ST_OK) {
        attn_fmt_time(r->st.median, t, sizeof t);
        fprintf(stderr, "  ok %s  %.2f GFLOP/s", t, r->gflops);
        if (r->pct_peak >= 0) fprintf(stderr, " (%.1f%% peak)", r->pct_peak);
        if (r->unstable) fprintf(stderr, "  UNSTABLE cv=%.1f%%", 100 * r->st.cv);
    } else {
        fprintf(stderr, "  %s: %s", attn_status_name(r->status), r->reason);
    }
    fprintf(stderr, "  ETA %s\n", e);
}

/* Measure the peak of (isa, threads) once. A multi-threaded peak far below threads x the
 * 1-thread peak means another process held a core while it was measured: it is measured
 * again (twice at most, keeping the best) and, if still low, said, because pct_peak of
 * those cases would read too high. */
static void measure_peak(attn_peaks *peaks, attn_isa isa, int t, int quiet)
{
    double *g = &peaks->gflops[isa][t];
    if (*g > 0) return;
    if (t > 1) measure_peak(peaks, isa, 1, quiet);
    if (!quiet)
        fprintf(stderr, "measuring %s peak with %d thread%s...\n", attn_isa_name(isa), t, t > 1 ? "s" : "");
    double one = peaks->gflops[isa][1], expect = 0.75 * t * one;
    *g = attn_peak_measure(isa, t, 0.3);
    for (int again = 0; t > 1 && *g < expect && again < 2; again++) {
        double g2 = attn_peak_measure(isa, t, 0.3);
        if (g2 > *g) *g = g2;
    }
    if (t > 1 && *g < expect && t <= attn_cpu_cores())
        fprintf(stderr, "attnbench: warning: %s peak on %d threads is %.1f GFLOP/s, under %.0f%% of "
                "%d x the 1-thread %.1f: the cores seem busy; pct_peak of %d-thread cases may read high\n",
                attn_isa_name(isa), t, *g, 75.0, t, one, t);
}

int attn_cmd_run(int argc, char **argv)
{
    const char *config = NULL, *out_dir = NULL, *kernels = NULL, *dump = NULL, *baseline = NULL;
    const char *case_id = NULL;
    int resume = 0, gbench = 0, quiet = 0, shard_k = 0, shard_n = 1, no_peak = 0, sharded = 0;
    size_t budget = (size_t)(attn_phys_mem_bytes() / 2);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        else if (!strcmp(a, "--resume")) { resume = 1; takes = 0; }
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { quiet = 1; takes = 0; }
        else if (!strcmp(a, "--no-peak")) { no_peak = 1; takes = 0; }
        else if (a[0] != '-') {
            if (config) { fprintf(stderr, "attnbench run: more than one config ('%s', '%s')\n", config, a); return 2; }
            config = a;
            takes = 0;
        } else if (!val) {
            fprintf(stderr, "attnbench run: %s needs a value (see --help)\n", a);
            return 2;
        } else if (!strcmp(a, "-o")) out_dir = val;
        else if (!strcmp(a, "--kernels")) kernels = val;
        else if (!strcmp(a, "--case")) case_id = val;
        else if (!strcmp(a, "--dump")) dump = val;
        else if (!strcmp(a, "--save-baseline")) baseline = val;
        else if (!strcmp(a, "--format")) {
            if (!strcmp(val, "gbench")) gbench = 1;
            else if (strcmp(val, "json") && strcmp(val, "csv")) {
                fprintf(stderr, "attnbench run: --format '%s' is not one of json, csv, gbench\n", val);
                return 2;
            }
        } else if (!strcmp(a, "--mem-budget")) {
            if (parse_size(val, &budget)) {
                fprintf(stderr, "attnbench run: --mem-budget '%s' is not a size (e.g. 512M, 4G)\n", val);
                return 2;
            }
        } else if (!strcmp(a, "--shard")) {
            char extra;
            if (sscanf(val, "%d/%d%c", &shard_k, &shard_n, &extra) != 2 || shard_n < 1 ||
                shard_k < 0 || shard_k >= shard_n) {
                fprintf(stderr, "attnbench run: --shard '%s' is not K/N with 0 <= K < N\n", val);
                return 2;
            }
            sharded = 1;
        } else {
            fprintf(stderr, "attnbench run: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        i += takes;
    }
    if (!config) { fputs(usage_text, stderr); return 2; }

    attn_caselist list;
    if (attn_config_load(config, kernels, &list) != 0) return 2;
    for (int i = 0; i < list.n; i++) list.cases[i].index = i;
    if (case_id) {              /* one case: the shard that holds only it */
        if (sharded) { fprintf(stderr, "attnbench run: --case and --shard exclude each other\n"); attn_caselist_free(&list); return 2; }
        int j = 0;
        while (j < list.n && strcmp(list.cases[j].id, case_id)) j++;
        if (j == list.n) {
            fprintf(stderr, "attnbench run: --case '%s': %s has no case with this id\n", case_id, config);
            attn_caselist_free(&list);
            return 2;
        }
        shard_k = j;
        shard_n = list.n;
    }

    char dir_buf[1024];
    if (!out_dir) {
        const char *base = strrchr(config, '/') ? strrchr(config, '/') + 1 : config;
        int len = (int)strcspn(base, ".");
        time_t t = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        snprintf(dir_buf, sizeof dir_buf, "results/%.*s-%s", len, base, stamp);
        out_dir = dir_buf;
    }

    /* the roof for pct_peak: each (ISA, threads) pair the selected cases use */
    attn_peaks *peaks = calloc(1, sizeof *peaks);
    if (!peaks) { attn_caselist_free(&list); return 2; }
    for (int i = shard_k; i < list.n; i += shard_n) {
        const attn_case *c = &list.cases[i];
        if (!no_peak && c->threads <= ATTN_MAX_THREADS && attn_kernel_usable(c->kernel, &(const char *){0}))
            measure_peak(peaks, c->kernel->isa, c->threads, quiet);
    }
    cJSON *ctx = attn_context_json(peaks);
    cJSON_AddStringToObject(ctx, "config", config);
    if (sharded && shard_n > 1) {
        char s[32];
        snprintf(s, sizeof s, "%d/%d", shard_k, shard_n);
        cJSON_AddStringToObject(ctx, "shard", s);
    }
    attn_results *res = attn_results_open(out_dir, ctx, resume, gbench);
    if (!res) { free(peaks); attn_caselist_free(&list); return 2; }

    attn_run_opts opts = { .mem_budget = budget, .dump_dir = dump };
    int total = 0, done = 0, failed = 0, io_error = 0;
    long units = 0, units_done = 0;     /* child runs (rounds) planned and done, for the ETA */
    for (int i = shard_k; i < list.n; i += shard_n)
        if (!resume || !attn_results_has(res, list.cases[i].id)) {
            total++;
            units += list.cases[i].rounds > 1 ? list.cases[i].rounds : 1;
        }
    if (!quiet)
        fprintf(stderr, "%d case%s to run, results in %s\n", total, total == 1 ? "" : "s", out_dir);

    /* Rounds (config `rounds = R`): a case is timed in R child processes, one per pass
     * over the sweep, each with reps/R calls and min_time/R seconds. A slow spell of a
     * shared machine, or a process that happens to be placed badly, then spreads over
     * every case's samples instead of biasing the few cases measured during it, and the
     * statistics (and compare) see that noise inside the run. A case is written when its
     * last round is done; one that fails a round is written at once. */
    int max_rounds = 1;
    for (int i = shard_k; i < list.n; i += shard_n)
        if (list.cases[i].rounds > max_rounds) max_rounds = list.cases[i].rounds;
    attn_result *acc = calloc((size_t)list.n, sizeof *acc);
    if (!acc) { attn_results_close(res); free(peaks); attn_caselist_free(&list); return 2; }

    double spent = 0;
    struct timespec ts0;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    for (int round = 0; round < max_rounds && !io_error; round++)
        for (int i = shard_k; i < list.n; i += shard_n) {
            const attn_case *c = &list.cases[i];
            int rounds = c->rounds > 1 ? c->rounds : 1;
            if (resume && attn_results_has(res, c->id)) continue;
            if (round >= rounds || (round > 0 && acc[i].status != ST_OK)) continue;
            attn_case part = *c;
            part.reps = (c->reps + rounds - 1) / rounds;
            part.min_time = c->min_time / rounds;
            opts.peak_gflops = c->threads <= ATTN_MAX_THREADS ? peaks->gflops[c->kernel->isa][c->threads] : 0;
            opts.no_validation = round > 0;
            opts.dump_dir = round == 0 ? dump : NULL;
            attn_result r;
            attn_run_case(&part, &opts, &r);
            units_done++;
            if (r.status != ST_OK) units -= rounds - 1 - round;  /* its later rounds will not run */
            if (round == 0) acc[i] = r;
            else if (attn_result_merge(&acc[i], &r, &opts) != 0) {
                attn_result_free(&r);
                acc[i].status = ST_CRASHED;
                snprintf(acc[i].reason, sizeof acc[i].reason, "out of memory merging rounds");
            }
            if (round < rounds - 1 && acc[i].status == ST_OK) continue;

            done++;
            if (acc[i].status == ST_INVALID || acc[i].status == ST_CRASHED || acc[i].status == ST_TIMEOUT)
                failed++;
            if (attn_results_add(res, c, &acc[i]) != 0) io_error = 1;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            spent = (ts.tv_sec - ts0.tv_sec) + 1e-9 * (ts.tv_nsec - ts0.tv_nsec);
            if (!quiet) progress(done, total, c, &acc[i], spent / units_done * (units - units_done));
            attn_result_free(&acc[i]);
            if (io_error) break;
        }
    for (int i = 0; i < list.n; i++) attn_result_free(&acc[i]);
    free(acc);
    attn_results_close(res);
    free(peaks);
    attn_caselist_free(&list);
    if (io_error) return 2;
    if (!quiet)
        fprintf(stderr, "%d case%s run in %.1f s, %d failed; results in %s\n", done,
                done == 1 ? "" : "s", spent, failed, out_dir);
    if (baseline && attn_baseline_save(out_dir, baseline) != 0) return 2;
    return failed ? 1 : 0;
}
