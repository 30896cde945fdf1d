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
#include "cli/opts.h"
#include "core/bandwidth.h"
#include "core/config.h"
#include "core/machine.h"
#include "record/results.h"
#include "core/runner.h"
#include "core/tunables.h"
#include "record/wisdom.h"

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
    "  --no-peak            do not measure the FMA peaks nor the memory bandwidth\n"
    "  --thread-clock       time 1-thread cases by the thread's CPU time, not the wall\n"
    "                       clock: time the core gave other processes is not counted\n"
    "                       (`ab` uses it; results say settings.clock = \"thread_cpu\")\n"
    "                       (pct_peak, roof_gflops and pct_roof are then null)\n"
    "  --save-baseline NAME store the results as this machine's baseline NAME\n"
    "  --wisdom FILE        tuned tunables from FILE (default results/tuning/<cpu>.json,\n"
    "                       written by `attnbench tune`; used when it exists)\n"
    "  --no-wisdom          no wisdom: tunables a case does not set take the kernel's\n"
    "                       default for this machine's caches\n"
    "  -q, --quiet          no progress lines\n"
    "\n"
    "exit status: 0 all cases ok or skipped; 1 a case was invalid, crashed or timed out;\n"
    "2 usage or config error\n";

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
        if (r->pct_peak >= 0 && r->pct_roof >= 0)
            fprintf(stderr, " (%.1f%% peak, %.1f%% roof)", r->pct_peak, r->pct_roof);
        else if (r->pct_peak >= 0) fprintf(stderr, " (%.1f%% peak)", r->pct_peak);
        if (r->unstable) fprintf(stderr, "  UNSTABLE cv=%.1f%%", 100 * r->st.cv);
        if (r->pct_peak > 100)      /* a peak measured while the machine was slower */
            fprintf(stderr, "  ABOVE THE MEASURED PEAK: rerun on a quieter machine");
    } else {
        fprintf(stderr, "  %s: %s", attn_status_name(r->status), r->reason);
    }
    fprintf(stderr, "  ETA %s\n", e);
}

/* Measure the peak of (isa, threads) once. The peaks of one ISA must agree: a
 * multi-threaded peak far below threads x the 1-thread peak means another process held a
 * core while it was measured; one above it per thread (by over 10%) means the 1-thread
 * peak was measured while the machine was slower (a shared host's speed drifts by tens
 * of percent for seconds at a time: seen on the Zen 3 VM, a 1-thread peak of 73.5
 * GFLOP/s beside a 2-thread 201.9, and kernels at "102% of peak"). The low one is
 * measured again (twice at most, keeping the best) and, if still inconsistent, said,
 * because pct_peak of those cases would read too high. */
static void measure_peak(attn_peaks *peaks, attn_isa isa, int t, int quiet)
{
    double *g = &peaks->gflops[isa][t];
    if (*g > 0) return;
    if (t > 1) measure_peak(peaks, isa, 1, quiet);
    if (!quiet)
        fprintf(stderr, "measuring %s peak with %d thread%s...\n", attn_isa_name(isa), t, t > 1 ? "s" : "");
    double *one = &peaks->gflops[isa][1];
    *g = attn_peak_measure(isa, t, 0.3);
    for (int again = 0; t > 1 && *g < 0.75 * t * *one && again < 2; again++) {
        double g2 = attn_peak_measure(isa, t, 0.3);
        if (g2 > *g) *g = g2;
    }
    for (int again = 0; t > 1 && *g / t > 1.10 * *one && again < 2; again++) {
        double g1 = attn_peak_measure(isa, 1, 0.3);
        if (g1 > *one) *one = g1;
    }
    if (t > 1 && *g < 0.75 * t * *one && t <= attn_cpu_cores())
        fprintf(stderr, "attnbench: warning: %s peak on %d threads is %.1f GFLOP/s, under %.0f%% of "
                "%d x the 1-thread %.1f: the cores seem busy; pct_peak of %d-thread cases may read high\n",
                attn_isa_name(isa), t, *g, 75.0, t, *one, t);
    if (t > 1 && *g / t > 1.10 * *one)
        fprintf(stderr, "attnbench: warning: %s peak on 1 thread is %.1f GFLOP/s, under the %.1f per thread "
                "of %d threads: the machine was slower while it was measured; pct_peak of 1-thread cases "
                "may read high\n", attn_isa_name(isa), *one, *g / t, t);
}

/* Measure the read bandwidth on t threads once (the roofline's second roof). */
static void measure_bandwidth(attn_peaks *peaks, int t, int quiet)
{
    if (peaks->gbs[t] > 0) return;
    if (!(peaks->bw_buffer_bytes > 0)) peaks->bw_buffer_bytes = (double)attn_bandwidth_default_bytes();
    if (!quiet)
        fprintf(stderr, "measuring memory read bandwidth with %d thread%s...\n", t, t > 1 ? "s" : "");
    peaks->gbs[t] = attn_bandwidth_measure(t, (size_t)peaks->bw_buffer_bytes, 0.2);
}

/* ------------------------------------------------------------ options -- */

typedef struct run_args {
    const char *config, *out_dir, *kernels, *dump, *baseline, *case_id, *wisdom;
    int resume, gbench, quiet, shard_k, shard_n, sharded, no_peak, no_wisdom, thread_clock;
    size_t budget;
    char dir_buf[1024];         /* the default out_dir */
} run_args;

/* One option at a->i. 0 taken, 1 --help given, 2 usage error (told). */
static int parse_one(attn_argv *a, run_args *r)
{
    const char *arg = a->argv[a->i], *v;
    if (attn_opt_flag(a, "--help", "-h")) { fputs(usage_text, stdout); return 1; }
    if (attn_opt_flag(a, "--resume", NULL)) r->resume = 1;
    else if (attn_opt_flag(a, "--quiet", "-q")) r->quiet = 1;
    else if (attn_opt_flag(a, "--no-peak", NULL)) r->no_peak = 1;
    else if (attn_opt_flag(a, "--no-wisdom", NULL)) r->no_wisdom = 1;
    else if (attn_opt_flag(a, "--thread-clock", NULL)) r->thread_clock = 1;
    else if (arg[0] != '-') {
        if (r->config) {
            fprintf(stderr, "attnbench run: more than one config ('%s', '%s')\n", r->config, arg);
            return 2;
        }
        r->config = arg;
    } else if ((v = attn_opt_value(a, "-o"))) r->out_dir = v;
    else if ((v = attn_opt_value(a, "--kernels"))) r->kernels = v;
    else if ((v = attn_opt_value(a, "--case"))) r->case_id = v;
    else if ((v = attn_opt_value(a, "--wisdom"))) r->wisdom = v;
    else if ((v = attn_opt_value(a, "--dump"))) r->dump = v;
    else if ((v = attn_opt_value(a, "--save-baseline"))) r->baseline = v;
    else if ((v = attn_opt_value(a, "--format"))) {
        if (!strcmp(v, "gbench")) r->gbench = 1;
        else if (strcmp(v, "json") && strcmp(v, "csv")) {
            fprintf(stderr, "attnbench run: --format '%s': expected json, csv or gbench\n", v);
            return 2;
        }
    } else if ((v = attn_opt_value(a, "--mem-budget"))) {
        if (attn_opt_size(a, "--mem-budget", v, &r->budget)) return 2;
    } else if ((v = attn_opt_value(a, "--shard"))) {
        if (attn_parse_shard(v, &r->shard_k, &r->shard_n)) {
            fprintf(stderr, "attnbench run: --shard '%s': expected K/N with 0 <= K < N <= %d\n", v, ATTN_MAX_SHARDS);
            return 2;
        }
        r->sharded = 1;
    } else if (a->missing) return 2;
    else return attn_opt_unknown(a);
    return 0;
}

/* argv -> r: 0 go on, 1 --help shown (exit 0), 2 usage error (told). */
static int parse_args(int argc, char **argv, run_args *r)
{
    memset(r, 0, sizeof *r);
    r->shard_n = 1;
    r->budget = (size_t)(attn_phys_mem_bytes() / 2);
    attn_argv a = { .argc = argc, .argv = argv, .cmd = "run" };
    for (a.i = 1; a.i < argc; a.i++) {
        int rc = parse_one(&a, r);
        if (rc) return rc;
    }
    if (!r->config) { fputs(usage_text, stderr); return 2; }
    if (!r->out_dir) {
        const char *base = strrchr(r->config, '/') ? strrchr(r->config, '/') + 1 : r->config;
        int len = (int)strcspn(base, ".");
        time_t t = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        snprintf(r->dir_buf, sizeof r->dir_buf, "results/%.*s-%s", len, base, stamp);
        r->out_dir = r->dir_buf;
    }
    return 0;
}

/* -------------------------------------------------------------- the sweep -- */

/* What the sweep loop needs besides the cases. */
typedef struct sweep {
    const run_args *args;
    attn_caselist *list;
    attn_peaks *peaks;
    attn_results *res;
    int total, done, failed, io_error;
    long units, units_done;     /* child runs (rounds) planned and done, for the ETA */
    double spent;
} sweep;

/* Count the cases to run (and their rounds); the most rounds any of them has. */
static int plan(sweep *w)
{
    const run_args *r = w->args;
    int max_rounds = 1;
    for (int i = r->shard_k; i < w->list->n; i += r->shard_n) {
        const attn_case *c = &w->list->cases[i];
        if (c->rounds > max_rounds) max_rounds = c->rounds;
        if (r->resume && attn_results_has(w->res, c->id)) continue;
        w->total++;
        w->units += c->rounds > 1 ? c->rounds : 1;
    }
    return max_rounds;
}

/* Rounds (config `rounds = R`): a case is timed in R child processes, one per pass
 * over the sweep, each with reps/R calls and min_time/R seconds. A slow spell of a
 * shared machine, or a process that happens to be placed badly, then spreads over
 * every case's samples instead of biasing the few cases measured during it, and the
 * statistics (and compare) see that noise inside the run. A case is written when its
 * last round is done; one that fails a round is written at once. */
static void run_round(sweep *w, int round, attn_result *acc, const struct timespec *ts0)
{
    const run_args *r = w->args;
    attn_run_opts opts = { .mem_budget = r->budget, .thread_clock = r->thread_clock };
    for (int i = r->shard_k; i < w->list->n && !w->io_error; i += r->shard_n) {
        const attn_case *c = &w->list->cases[i];
        int rounds = c->rounds > 1 ? c->rounds : 1;
        if (r->resume && attn_results_has(w->res, c->id)) continue;
        if (round >= rounds || (round > 0 && acc[i].status != ST_OK)) continue;
        attn_case part = *c;
        part.reps = (c->reps + rounds - 1) / rounds;
        part.min_time = c->min_time / rounds;
        opts.peak_gflops = c->threads <= ATTN_MAX_THREADS ? w->peaks->gflops[c->kernel->isa][c->threads] : 0;
        opts.bandwidth_gbs = c->threads <= ATTN_MAX_THREADS ? w->peaks->gbs[c->threads] : 0;
        opts.no_validation = round > 0;
        opts.dump_dir = round == 0 ? r->dump : NULL;
        attn_result res;
        attn_run_case(&part, &opts, &res);
        w->units_done++;
        if (res.status != ST_OK) w->units -= rounds - 1 - round;  /* its later rounds will not run */
        if (round == 0) acc[i] = res;
        else if (attn_result_merge(&acc[i], &res, &opts) != 0) {
            attn_result_free(&res);
            acc[i].status = ST_CRASHED;
            snprintf(acc[i].reason, sizeof acc[i].reason, "out of memory merging rounds");
        }
        if (round < rounds - 1 && acc[i].status == ST_OK) continue;

        w->done++;
        if (acc[i].status == ST_INVALID || acc[i].status == ST_CRASHED || acc[i].status == ST_TIMEOUT)
            w->failed++;
        if (attn_results_add(w->res, c, &acc[i]) != 0) w->io_error = 1;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        w->spent = (double)(ts.tv_sec - ts0->tv_sec) + 1e-9 * (double)(ts.tv_nsec - ts0->tv_nsec);
        if (!r->quiet)
            progress(w->done, w->total, c, &acc[i], w->spent / (double)w->units_done * (double)(w->units - w->units_done));
        attn_result_free(&acc[i]);
    }
}

/* The roofs for pct_peak and pct_roof: the FMA peak of each (ISA, threads) pair the
 * selected cases use and the read bandwidth of each thread count; then the context every
 * results file records. */
static cJSON *peaks_and_context(const run_args *r, const attn_caselist *list, attn_peaks *peaks)
{
    for (int i = r->shard_k; i < list->n; i += r->shard_n) {
        const attn_case *c = &list->cases[i];
        if (!r->no_peak && c->threads <= ATTN_MAX_THREADS && attn_kernel_usable(c->kernel, &(const char *){0})) {
            measure_peak(peaks, c->kernel->isa, c->threads, r->quiet);
            measure_bandwidth(peaks, c->threads, r->quiet);
        }
    }
    cJSON *ctx = attn_context_json(peaks);
    cJSON_AddStringToObject(ctx, "config", r->config);
    if (r->sharded && r->shard_n > 1) {
        char s[32];
        snprintf(s, sizeof s, "%d/%d", r->shard_k, r->shard_n);
        cJSON_AddStringToObject(ctx, "shard", s);
    }
    return ctx;
}

/* Wisdom (record/wisdom.h): unless --no-wisdom, the tunables of every case that does not
 * set them come from --wisdom FILE or this CPU's file under results/tuning when one
 * exists. Returns the context's "wisdom" object (what was used), or NULL after an error
 * (a file that is not valid wisdom, or another CPU model's). */
static cJSON *apply_wisdom(const run_args *r, attn_caselist *list)
{
    cJSON *o = cJSON_CreateObject();
    if (r->no_wisdom) {
        cJSON_AddBoolToObject(o, "used", 0);
        cJSON_AddStringToObject(o, "why", "--no-wisdom");
        return o;
    }
    char path[1024], err[2048], model[256];
    if (r->wisdom) snprintf(path, sizeof path, "%s", r->wisdom);
    else attn_wisdom_default_path(path, sizeof path);
    attn_wisdom w;
    int rc = attn_wisdom_load(path, &w, err, sizeof err);
    if (rc == 1 && !r->wisdom) {
        cJSON_AddBoolToObject(o, "used", 0);
        cJSON_AddStringToObject(o, "why", "no wisdom file");
        cJSON_AddStringToObject(o, "path", path);
        return o;
    }
    if (rc == 1) snprintf(err, sizeof err, "%s: no such file", path);
    attn_cpu_model(model, sizeof model);
    if (rc == 0 && strcmp(w.cpu_model, model)) {
        snprintf(err, sizeof err, "%s: made on '%s', this CPU is '%s' (--no-wisdom to run without)",
                 path, w.cpu_model, model);
        rc = -1;
    }
    if (rc != 0) {
        fprintf(stderr, "attnbench run: wisdom: %s\n", err);
        attn_wisdom_free(&w);
        cJSON_Delete(o);
        return NULL;
    }
    int applied = 0;
    for (int i = 0; i < list->n; i++) {
        attn_case *c = &list->cases[i];
        const attn_wisdom_entry *e = c->tune_from == TUNE_DEFAULT ? attn_wisdom_find(&w, c) : NULL;
        if (!e) continue;
        attn_case_resolve_tunables(c, e->tune, attn_machine_caches());
        applied++;
    }
    cJSON_AddBoolToObject(o, "used", 1);
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddStringToObject(o, "fnv1a64", w.hash);
    cJSON_AddStringToObject(o, "updated", w.updated);
    cJSON_AddNumberToObject(o, "entries", w.n);
    cJSON_AddNumberToObject(o, "cases", applied);
    attn_wisdom_free(&w);
    return o;
}

/* --case ID: run only that case, as the shard that holds it alone. 0, or -1 (told). */
static int select_case(run_args *r, const attn_caselist *list)
{
    if (!r->case_id) return 0;
    if (r->sharded) {
        fprintf(stderr, "attnbench run: --case and --shard exclude each other\n");
        return -1;
    }
    int j = 0;
    while (j < list->n && strcmp(list->cases[j].id, r->case_id)) j++;
    if (j == list->n) {
        fprintf(stderr, "attnbench run: --case '%s': %s has no case with this id\n", r->case_id, r->config);
        return -1;
    }
    r->shard_k = j;
    r->shard_n = list->n;
    return 0;
}

/* ------------------------------------------------------------ the command -- */

int attn_cmd_run(int argc, char **argv)
{
    run_args r;
    int rc = parse_args(argc, argv, &r);
    if (rc) return rc == 1 ? 0 : rc;

    attn_caselist list;
    if (attn_config_load(r.config, r.kernels, &list) != 0) return 2;
    for (int i = 0; i < list.n; i++) list.cases[i].index = i;
    if (select_case(&r, &list) != 0) { attn_caselist_free(&list); return 2; }
    cJSON *wisdom = apply_wisdom(&r, &list);
    if (!wisdom) { attn_caselist_free(&list); return 2; }

    sweep w = { .args = &r, .list = &list };
    attn_result *acc = NULL;
    rc = 2;
    if (!(w.peaks = calloc(1, sizeof *w.peaks))) { cJSON_Delete(wisdom); goto done; }
    cJSON *ctx = peaks_and_context(&r, &list, w.peaks);
    cJSON_AddItemToObject(ctx, "wisdom", wisdom);
    w.res = attn_results_open(r.out_dir, ctx, r.resume, r.gbench);
    if (!w.res) goto done;
    int max_rounds = plan(&w);
    if (!r.quiet)
        fprintf(stderr, "%d case%s to run, results in %s\n", w.total, w.total == 1 ? "" : "s", r.out_dir);
    if (!(acc = calloc((size_t)list.n, sizeof *acc))) goto done;

    struct timespec ts0;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    for (int round = 0; round < max_rounds && !w.io_error; round++) run_round(&w, round, acc, &ts0);
    if (w.io_error) goto done;
    if (!r.quiet)
        fprintf(stderr, "%d case%s run in %.1f s, %d failed; results in %s\n", w.done,
                w.done == 1 ? "" : "s", w.spent, w.failed, r.out_dir);
    rc = w.failed ? 1 : 0;
done:
    for (int i = 0; acc && i < list.n; i++) attn_result_free(&acc[i]);
    free(acc);
    if (w.res) attn_results_close(w.res);
    free(w.peaks);
    attn_caselist_free(&list);
    /* the baseline is saved once the results are closed (complete on disk) */
    if (rc != 2 && r.baseline && attn_baseline_save(r.out_dir, r.baseline) != 0) return 2;
    return rc;
}
