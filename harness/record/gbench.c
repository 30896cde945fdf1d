/* gbench.c: a results document in Google Benchmark's JSON shape (run --format gbench).
 *
 * So tools built for Google Benchmark read our runs: tools/compare.py (which pairs
 * entries by "name" and runs its own U test on the iteration entries),
 * github-action-benchmark ("googlecpp"), Bencher ("json" adapter for Google Benchmark).
 * The shape follows benchmark's JSONReporter:
 *   { "context": { date, host_name, executable, num_cpus, mhz_per_cpu, cpu_scaling_enabled,
 *                  caches: [{type, level, size, num_sharing}], load_avg: [],
 *                  library_build_type, json_schema_version },
 *     "benchmarks": [ one "iteration" entry per raw sample (repetition_index 0..n-1),
 *                     then the "aggregate" entries <name>_mean, _median, _stddev, _cv ] }
 * Only cases with status ok and samples are written (Google Benchmark has no entry for a
 * skipped benchmark). Names come from attn_case_label: "kernel/b:1/h:8/q:256/...", stable
 * across sweeps; a family is one kernel. Each sample is one entry (iterations = the calls
 * timed together for it, time_s.iters_per_sample; its time is per call), time in
 * ns. We measure wall time only, so cpu_time repeats real_time. The original attnbench
 * context is kept under "attnbench_context" (extra fields are ignored by readers).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/util.h"
#include "record/case_read.h"
#include "record/gbench.h"
#include "record/results.h"

/* One cache entry from a name such as "L1d", "L2" and a size in bytes. */
static void add_cache(cJSON *arr, const char *name, double level, const char *type, double size,
                      double sharing)
{
    cJSON *c = cJSON_CreateObject();
    if (!type) {                                    /* derive from the name: L1d, L1i, L2 */
        size_t l = strlen(name);
        char last = l ? name[l - 1] : 0;
        type = (last == 'd' || last == 'D') ? "Data" : (last == 'i' || last == 'I') ? "Instruction" : "Unified";
    }
    if (!(level > 0)) {
        const char *d = strpbrk(name, "0123456789");
        level = d ? *d - '0' : 0;
    }
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddNumberToObject(c, "level", level);
    cJSON_AddNumberToObject(c, "size", size);
    cJSON_AddNumberToObject(c, "num_sharing", sharing);
    cJSON_AddItemToArray(arr, c);
}

/* Our context's caches, in whichever of the likely shapes machine.c wrote them:
 * an array of {type|name, level, size|size_bytes|bytes, num_sharing|shared_by}, or an
 * object {"L1d": bytes, ...} (a number, or an object with size fields). */
static cJSON *caches_json(const cJSON *ctx)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(ctx, "caches");
    for (const cJSON *e = c ? c->child : NULL; e; e = e->next) {
        if (cJSON_IsNumber(e)) {
            if (e->string && e->valuedouble > 0) add_cache(arr, e->string, 0, NULL, e->valuedouble, 0);
            continue;
        }
        if (!cJSON_IsObject(e)) continue;
        const char *name = e->string ? e->string : attn_json_str(e, "name", "");
        double size = attn_json_num(e, "size", attn_json_num(e, "size_bytes", attn_json_num(e, "bytes", 0)));
        if (!(size > 0)) continue;
        const char *type = attn_json_str(e, "type", NULL);
        if (type && !strcmp(type, "data")) type = "Data";
        else if (type && !strcmp(type, "instruction")) type = "Instruction";
        else if (type && !strcmp(type, "unified")) type = "Unified";
        add_cache(arr, name, attn_json_num(e, "level", 0), type, size,
                  attn_json_num(e, "num_sharing", attn_json_num(e, "shared_by", 0)));
    }
    return arr;
}

static cJSON *context_json(const cJSON *ctx)
{
    cJSON *g = cJSON_CreateObject();
    char now[64];
    time_t t = time(NULL);
    struct tm tm;
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&t, &tm));
    cJSON_AddStringToObject(g, "date", attn_json_str(ctx, "date", now));
    cJSON_AddStringToObject(g, "host_name", attn_json_str(ctx, "host", ""));
    cJSON_AddStringToObject(g, "executable", "attnbench");
    cJSON_AddNumberToObject(g, "num_cpus", attn_json_num(ctx, "cores", 0));
    cJSON_AddNumberToObject(g, "mhz_per_cpu", round(attn_json_num(ctx, "mhz", attn_json_num(ctx, "cpu_mhz", 0))));
    /* Google Benchmark means "frequency scaling may disturb timings": not "performance" */
    const char *gov = attn_json_str(ctx, "governor", NULL);
    cJSON_AddBoolToObject(g, "cpu_scaling_enabled", gov && strcmp(gov, "performance") != 0);
    cJSON_AddItemToObject(g, "caches", caches_json(ctx));
    const cJSON *load = cJSON_GetObjectItemCaseSensitive(ctx, "load_avg");
    cJSON_AddItemToObject(g, "load_avg", cJSON_IsArray(load) ? cJSON_Duplicate(load, 1) : cJSON_CreateArray());
    cJSON_AddStringToObject(g, "library_build_type", "release");
    cJSON_AddNumberToObject(g, "json_schema_version", 1);
    if (ctx) cJSON_AddItemToObject(g, "attnbench_context", cJSON_Duplicate(ctx, 1));
    return g;
}

/* One benchmark entry; ns is the time of one call (iterations calls were timed together) */
static cJSON *entry(const char *name, const char *run_name, int family, int instance,
                    int reps, int threads, long iterations, double ns)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddNumberToObject(e, "family_index", family);
    cJSON_AddNumberToObject(e, "per_family_instance_index", instance);
    cJSON_AddStringToObject(e, "run_name", run_name);
    cJSON_AddStringToObject(e, "run_type", "iteration");
    cJSON_AddNumberToObject(e, "repetitions", reps);
    cJSON_AddNumberToObject(e, "threads", threads);
    cJSON_AddNumberToObject(e, "iterations", iterations);
    cJSON_AddNumberToObject(e, "real_time", ns);
    cJSON_AddNumberToObject(e, "cpu_time", ns);
    cJSON_AddStringToObject(e, "time_unit", "ns");
    return e;
}

cJSON *attn_gbench_doc(const cJSON *doc)
{
    cJSON *out = cJSON_CreateObject();
    if (!out) return NULL;
    cJSON_AddItemToObject(out, "context", context_json(cJSON_GetObjectItemCaseSensitive(doc, "context")));
    cJSON *benchmarks = cJSON_AddArrayToObject(out, "benchmarks");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    /* families: kernels in order of first appearance; names made unique by occurrence */
    int n_cases = cJSON_GetArraySize(cases), n_fam = 0, k = 0;
    const char **fam = calloc((size_t)n_cases + 1, sizeof *fam);
    int *fam_count = calloc((size_t)n_cases + 1, sizeof *fam_count);
    char (*names)[ATTN_CASE_KEY_MAX] = calloc((size_t)n_cases + 1, sizeof *names);
    if (!fam || !fam_count || !names) { free(fam); free(fam_count); free(names); cJSON_Delete(out); return NULL; }
    for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next) {
        if (strcmp(attn_json_str(c, "status", "ok"), "ok")) continue;
        int n = 0;
        double *x = attn_case_samples(c, &n);
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "time_s"), "samples");
        if (!x || !cJSON_IsArray(ts)) { free(x); continue; }   /* a median alone is not a run */
        const char *kernel = attn_json_str(c, "kernel", "?");
        int f = 0;
        while (f < n_fam && strcmp(fam[f], kernel)) f++;
        if (f == n_fam) fam[n_fam++] = kernel;
        char *name = names[k];
        attn_case_label(c, name, ATTN_CASE_KEY_MAX);
        int dup = 1;
        for (int j = 0; j < k; j++) dup += !strcmp(names[j], name);
        if (dup > 1) snprintf(name + strlen(name), ATTN_CASE_KEY_MAX - strlen(name), "#%d", dup);
        k++;
        int threads = (int)attn_json_num(cJSON_GetObjectItemCaseSensitive(c, "params"), "threads", 1);
        int inst = fam_count[f]++;
        const cJSON *tsum = cJSON_GetObjectItemCaseSensitive(c, "time_s");
        long iters = (long)attn_json_num(tsum, "iters_per_sample", 1);
        for (int i = 0; i < n; i++) {
            cJSON *e = entry(name, name, f, inst, n, threads, iters, x[i] * 1e9);
            cJSON_AddNumberToObject(e, "repetition_index", i);
            cJSON_AddItemToArray(benchmarks, e);
        }
        /* aggregates as Google Benchmark computes them (sample stddev, cv = stddev/mean):
         * the same statistics the run recorded in time_s */
        double mean = attn_json_num(tsum, "mean", 0), med = attn_json_num(tsum, "median", 0);
        double sd = attn_json_num(tsum, "stddev", 0);
        static const char *agg[] = { "mean", "median", "stddev", "cv" };
        double val[] = { mean * 1e9, med * 1e9, sd * 1e9, mean > 0 ? sd / mean : 0 };
        for (int a = 0; a < 4; a++) {
            char an[ATTN_CASE_KEY_MAX + 16];
            snprintf(an, sizeof an, "%s_%s", name, agg[a]);
            cJSON *e = entry(an, name, f, inst, n, threads, n, val[a]);
            cJSON_ReplaceItemInObject(e, "run_type", cJSON_CreateString("aggregate"));
            cJSON_ReplaceItemInObject(e, "iterations", cJSON_CreateNumber(n));
            cJSON_AddStringToObject(e, "aggregate_name", agg[a]);
            cJSON_AddStringToObject(e, "aggregate_unit", a == 3 ? "percentage" : "time");
            cJSON_AddItemToArray(benchmarks, e);
        }
        free(x);
    }
    free(fam);
    free(fam_count);
    free(names);
    return out;
}

int attn_gbench_write(const char *path, const cJSON *results_doc)
{
    cJSON *g = attn_gbench_doc(results_doc);
    char *text = g ? cJSON_Print(g) : NULL;
    cJSON_Delete(g);
    if (!text) {
        fprintf(stderr, "attnbench: %s: out of memory\n", path);
        return -1;
    }
    int rc = attn_write_file_atomic(path, text, strlen(text));
    if (rc != 0) fprintf(stderr, "attnbench: cannot write %s: %s\n", path, strerror(errno));
    free(text);
    return rc;
}
