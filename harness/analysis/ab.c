/* ab.c: pooling and paired judgement for `attnbench ab` (see ab.h for the method). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/ab.h"
#include "core/stats.h"
#include "util/util.h"

/* time_s of a pooled case from all rounds' samples. */
static cJSON *pooled_time(const double *x, int n, int rounds, int iters)
{
    attn_stats st;
    attn_stats_compute(x, n, &st);
    cJSON *t = cJSON_CreateObject();
    const struct { const char *name; double v; } f[] = {
        { "median", st.median }, { "min", st.min }, { "max", st.max }, { "mean", st.mean },
        { "stddev", st.stddev }, { "mad", st.mad }, { "cv", st.cv }, { "ci_low", st.ci_low },
        { "ci_high", st.ci_high },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (isfinite(f[i].v)) cJSON_AddNumberToObject(t, f[i].name, f[i].v);
        else cJSON_AddNullToObject(t, f[i].name);
    }
    cJSON_AddNumberToObject(t, "n", n);
    cJSON_AddNumberToObject(t, "outliers_low", st.outliers_low);
    cJSON_AddNumberToObject(t, "outliers_high", st.outliers_high);
    cJSON_AddNumberToObject(t, "iters_per_sample", iters);
    cJSON_AddNumberToObject(t, "rounds", rounds);
    cJSON_AddItemToObject(t, "samples", cJSON_CreateDoubleArray(x, n));
    return t;
}

/* o[name] = v, whether or not o had the field (replace alone leaks v when it had not) */
static void set_field(cJSON *o, const char *name, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    cJSON_AddItemToObject(o, name, v);
}

cJSON *attn_ab_pool(cJSON *const *round, int rounds)
{
    int first = -1, bad = -1, n = 0, cap = 0, iters = 1;
    double *x = NULL;
    cJSON *medians = cJSON_CreateArray();
    for (int r = 0; r < rounds; r++) {
        const cJSON *c = round[r];
        if (!c) { cJSON_AddItemToArray(medians, cJSON_CreateNull()); continue; }
        if (first < 0) first = r;
        const char *st = attn_json_str(c, "status", "");
        if (strcmp(st, "ok") && bad < 0) bad = r;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "time_s");
        double med = attn_json_num(t, "median", NAN);
        cJSON_AddItemToArray(medians, isfinite(med) ? cJSON_CreateNumber(med) : cJSON_CreateNull());
        iters = attn_json_int(t, "iters_per_sample", iters);
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(t, "samples")) {
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                double *nx = realloc(x, (size_t)cap * sizeof *nx);
                if (!nx) { free(x); cJSON_Delete(medians); return NULL; }
                x = nx;
            }
            x[n++] = s->valuedouble;
        }
    }
    if (first < 0) { free(x); cJSON_Delete(medians); return NULL; }
    cJSON *out = cJSON_Duplicate(round[bad >= 0 ? bad : first], 1);
    if (bad < 0 && n > 0) {
        set_field(out, "time_s", pooled_time(x, n, rounds, iters));
        /* gflops, pct_peak, gbytes_s and pct_roof follow the pooled median */
        double flops = attn_json_num(out, "flops", NAN), med = attn_json_num(
            cJSON_GetObjectItemCaseSensitive(out, "time_s"), "median", NAN);
        double g0 = attn_json_num(round[first], "gflops", NAN), p0 = attn_json_num(round[first], "pct_peak", NAN);
        double r0 = attn_json_num(round[first], "pct_roof", NAN), bytes = attn_json_num(out, "bytes", NAN);
        if (isfinite(flops) && med > 0) {
            double g = flops / med * 1e-9;
            set_field(out, "gflops", cJSON_CreateNumber(g));
            if (isfinite(p0) && g0 > 0)
                set_field(out, "pct_peak", cJSON_CreateNumber(p0 * g / g0));
            if (isfinite(r0) && g0 > 0)
                set_field(out, "pct_roof", cJSON_CreateNumber(r0 * g / g0));
        }
        if (isfinite(bytes) && bytes > 0 && med > 0)
            set_field(out, "gbytes_s", cJSON_CreateNumber(bytes / med * 1e-9));
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(out, "time_s");
        set_field(out, "unstable", cJSON_CreateBool(attn_json_num(t, "cv", 0) > ATTN_UNSTABLE_CV));
    }
    set_field(out, "ab_round_medians", medians);
    free(x);
    return out;
}

/* The medians of a pooled case's rounds into m (rounds long; NAN where missing). */
static int round_medians(const cJSON *c, double *m, int max)
{
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c, "ab_round_medians")) {
        if (n == max) break;
        m[n++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
    return n;
}

void attn_ab_judge(attn_cmp_report *r, const attn_cmp_opts *o)
{
    enum { MAX_ROUNDS = 1024 };
    static double mb[MAX_ROUNDS], mn[MAX_ROUNDS];
    double t = o->threshold;
    for (int i = 0; i < r->n; i++) {
        attn_cmp_case *c = &r->cases[i];
        if (c->verdict != CMP_UNCHANGED && c->verdict != CMP_REGRESSED && c->verdict != CMP_IMPROVED)
            continue;           /* new, missing, invalid: as compare found them */
        int nb = round_medians(c->base, mb, MAX_ROUNDS), nn = round_medians(c->new_, mn, MAX_ROUNDS);
        int rounds = nb < nn ? nb : nn;
        double ratio, lo, hi, p;
        attn_paired_ratio(mb, mn, rounds, ATTN_CMP_CI_LEVEL, &ratio, &lo, &hi, &p);
        c->ratio = ratio;
        c->ci_low = lo;
        c->ci_high = hi;
        c->p = p;
        c->note[0] = 0;
        if (!isfinite(lo)) {
            c->verdict = CMP_INCONCLUSIVE;
            snprintf(c->note, sizeof c->note, "fewer than 2 paired rounds");
        } else if (p < o->alpha && ratio > 1 + t && lo > 1 + t / 2) {
            c->verdict = CMP_REGRESSED;
        } else if (p < o->alpha && 1 / ratio > 1 + t && 1 / hi > 1 + t / 2) {
            c->verdict = CMP_IMPROVED;
        } else if (ratio > 1 + t || 1 / ratio > 1 + t) {
            c->verdict = CMP_INCONCLUSIVE;
            snprintf(c->note, sizeof c->note, "moved %+.1f%% but the %d rounds disagree (p %.2g): rerun",
                     100 * (ratio - 1), rounds, p);
        } else if (hi > 1 + t && lo < 1 / (1 + t)) {
            c->verdict = CMP_INCONCLUSIVE;
            snprintf(c->note, sizeof c->note, "rounds too noisy to see %.0f%%: rerun", 100 * t);
        } else {
            c->verdict = CMP_UNCHANGED;
        }
    }
    memset(r->count, 0, sizeof r->count);
    double logsum = 0;
    r->n_geomean = 0;
    for (int i = 0; i < r->n; i++) {
        r->count[r->cases[i].verdict]++;
        if (r->cases[i].ratio > 0) { logsum += log(r->cases[i].ratio); r->n_geomean++; }
    }
    r->geomean = r->n_geomean ? exp(logsum / r->n_geomean) : NAN;
    /* compare's cross-case drift and noise guard do not apply to paired rounds */
    r->noise_sigma = r->drift = NAN;
    r->eff_threshold = t;
    r->eff_threshold_down = t / (1 + t);
}
