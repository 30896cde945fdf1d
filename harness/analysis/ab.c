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
    cJSON *medians = cJSON_CreateArray(), *mins = cJSON_CreateArray();
    for (int r = 0; r < rounds; r++) {
        const cJSON *c = round[r];
        if (!c) {
            cJSON_AddItemToArray(medians, cJSON_CreateNull());
            cJSON_AddItemToArray(mins, cJSON_CreateNull());
            continue;
        }
        if (first < 0) first = r;
        const char *st = attn_json_str(c, "status", "");
        if (strcmp(st, "ok") && bad < 0) bad = r;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "time_s");
        double med = attn_json_num(t, "median", NAN), lo = INFINITY;
        cJSON_AddItemToArray(medians, isfinite(med) ? cJSON_CreateNumber(med) : cJSON_CreateNull());
        iters = attn_json_int(t, "iters_per_sample", iters);
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(t, "samples"))
            if (cJSON_IsNumber(s) && s->valuedouble > 0 && s->valuedouble < lo) lo = s->valuedouble;
        cJSON_AddItemToArray(mins, isfinite(lo) ? cJSON_CreateNumber(lo) : cJSON_CreateNull());
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(t, "samples")) {
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                double *nx = realloc(x, (size_t)cap * sizeof *nx);
                if (!nx) { free(x); cJSON_Delete(medians); cJSON_Delete(mins); return NULL; }
                x = nx;
            }
            x[n++] = s->valuedouble;
        }
    }
    if (first < 0) { free(x); cJSON_Delete(medians); cJSON_Delete(mins); return NULL; }
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
    set_field(out, "ab_round_mins", mins);
    free(x);
    return out;
}

/* Each round's value of a pooled case into m (NAN where missing): its fastest call
 * (ab_round_mins), or, in files written before those were kept, its median. */
static int round_values(const cJSON *c, double *m, int max)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "ab_round_mins");
    if (!cJSON_IsArray(a)) a = cJSON_GetObjectItemCaseSensitive(c, "ab_round_medians");
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        if (n == max) break;
        m[n++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
    return n;
}

/* Do the rounds pin the case's change down to within the threshold: is its interval
 * narrower than +-log(1 + t)? */
static int precise(const attn_cmp_case *c, double lt)
{
    return isfinite(c->ci_low) && (log(c->ci_high) - log(c->ci_low)) / 2 < lt;
}

/* The verdict of a case whose paired ratio, interval and p are set; lt = log(1 + t) and
 * lb >= lt the bound a change must pass (widened by the noise across cases). */
static void ab_verdict(attn_cmp_case *c, int rounds, double lt, double lb, double alpha, int heavy)
{
    double lr = log(c->ratio), lo = log(c->ci_low), hi = log(c->ci_high);
    int sure = precise(c, lt);
    c->note[0] = 0;
    if (sure && c->p < alpha && lr > lb && lo > lb - lt / 2) {
        c->verdict = CMP_REGRESSED;
    } else if (sure && c->p < alpha && lr < -lb && hi < -lb + lt / 2) {
        c->verdict = CMP_IMPROVED;
    } else if (!sure) {
        c->verdict = CMP_INCONCLUSIVE;
        snprintf(c->note, sizeof c->note, "moved %+.1f%%, but the %d rounds only pin it down to "
                 "%+.0f%% .. %+.0f%%, not within %.0f%%: rerun", 100 * (c->ratio - 1), rounds,
                 100 * (c->ci_low - 1), 100 * (c->ci_high - 1), 100 * expm1(lt));
    } else if (fabs(lr) > lb) {
        c->verdict = CMP_INCONCLUSIVE;
        snprintf(c->note, sizeof c->note, "moved %+.1f%% but the %d rounds disagree (p %.2g): rerun",
                 100 * (c->ratio - 1), rounds, c->p);
    } else if (heavy) {
        c->verdict = CMP_INCONCLUSIVE;
        snprintf(c->note, sizeof c->note, "cases too noisy to see %.0f%%: rerun", 100 * expm1(lt));
    } else {
        c->verdict = CMP_UNCHANGED;
        if (fabs(lr) > lt)
            snprintf(c->note, sizeof c->note, "within the noise across cases (+-%.1f%%)", 100 * expm1(lb));
    }
}

void attn_ab_judge(attn_cmp_report *r, const attn_cmp_opts *o)
{
    enum { MAX_ROUNDS = 1024 };
    static double mb[MAX_ROUNDS], mn[MAX_ROUNDS];
    static unsigned char drop[MAX_ROUNDS];
    double lt = log1p(o->threshold);
    int *rounds = calloc((size_t)r->n + 1, sizeof *rounds);    /* -1: not measured on both */
    if (!rounds) return;
    /* paired statistics of every case measured on both sides */
    for (int i = 0; i < r->n; i++) {
        attn_cmp_case *c = &r->cases[i];
        rounds[i] = -1;
        if (!isfinite(c->ratio)) continue;      /* new, missing, invalid: as compare found them */
        int nb = round_values(c->base, mb, MAX_ROUNDS), nn = round_values(c->new_, mn, MAX_ROUNDS);
        int n = nb < nn ? nb : nn, kept = 0;
        c->rounds_dropped = attn_paired_disturbed(mb, mn, n, drop);
        for (int k = 0; k < n; k++)         /* the rounds no disturbance hit, in order */
            if (!drop[k]) { mb[kept] = mb[k]; mn[kept] = mn[k]; kept++; }
        rounds[i] = kept;
        attn_paired_ratio(mb, mn, kept, ATTN_CMP_CI_LEVEL, &c->ratio, &c->ci_low, &c->ci_high, &c->p);
        c->too_few = !isfinite(c->ci_low);
    }
    /* the noise across cases: pairing removes the machine's drift, so the median change is
     * the build's and is not subtracted; what the precise cases spread around it is noise
     * that the rounds of one case did not show (a disturbance that hit several rounds of
     * one side alike) */
    double center, sigma;
    for (int i = 0; i < r->n; i++)     /* the spread is measured on the precise cases */
        if (rounds[i] >= 0 && !precise(&r->cases[i], lt)) r->cases[i].too_few = 1;
    int m = attn_cmp_log_spread(r, &center, &sigma);
    for (int i = 0; i < r->n; i++)
        if (rounds[i] >= 0) r->cases[i].too_few = !isfinite(r->cases[i].ci_low);
    double lb = lt;
    r->heavy_noise = 0;
    r->noise_sigma = NAN;
    if (m >= 8) {
        r->noise_sigma = sigma;
        lb = fmax(lt, 3 * sigma);
        r->heavy_noise = 3 * sigma > log1p(2 * o->threshold);
    }
    for (int i = 0; i < r->n; i++) {
        attn_cmp_case *c = &r->cases[i];
        if (rounds[i] < 0) continue;
        if (c->too_few) {
            c->verdict = CMP_INCONCLUSIVE;
            snprintf(c->note, sizeof c->note, "fewer than 2 paired rounds");
            continue;
        }
        ab_verdict(c, rounds[i], lt, lb, o->alpha, r->heavy_noise);
        if (c->rounds_dropped) {
            size_t len = strlen(c->note);
            snprintf(c->note + len, sizeof c->note - len, "%s%d of %d rounds left out as disturbed",
                     len ? "; " : "", c->rounds_dropped, rounds[i] + c->rounds_dropped);
        }
    }
    free(rounds);
    memset(r->count, 0, sizeof r->count);
    double logsum = 0;
    r->n_geomean = 0;
    for (int i = 0; i < r->n; i++) {
        r->count[r->cases[i].verdict]++;
        if (r->cases[i].ratio > 0) { logsum += log(r->cases[i].ratio); r->n_geomean++; }
    }
    r->geomean = r->n_geomean ? exp(logsum / r->n_geomean) : NAN;
    r->drift = m >= 8 ? expm1(center) : NAN;    /* the build's common change, not drift */
    r->shift = NAN;
    r->eff_threshold = expm1(lb);
    r->eff_threshold_down = -expm1(-lb);
    if (lb > lt * 1.0001)
        attn_cmp_warn(r, "noise across cases: paired changes spread by +-%.1f%%; changes counted "
                      "only beyond +-%.1f%%", 100 * sigma, 100 * expm1(lb));
    if (r->heavy_noise)
        attn_cmp_warn(r, "heavy noise: a change of twice the %.3g%% threshold can pass unseen; cases "
                      "not called are inconclusive (rerun on a quieter machine)", 100 * o->threshold);
}
