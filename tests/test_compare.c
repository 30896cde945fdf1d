/* test_compare.c: compare (U test, CI, verdicts, exit codes), baselines, gbench, merge,
 * history, on synthetic results documents with fixed-seed lognormal timing noise.
 * Files go under tests/tmp/ (gitignored). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "record/baseline.h"
#include "cli/commands.h"
#include "analysis/compare.h"
#include "record/gbench.h"
#include "record/results.h"
#include "core/stats.h"
#include "test.h"

/* ---------------------------------------------------------------------------------- */
/* fixtures                                                                             */

typedef struct { unsigned long long s; } rng;

static double rng_u01(rng *r)     /* splitmix64 -> (0, 1) */
{
    unsigned long long z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(rng *r)
{
    double u = rng_u01(r), v = rng_u01(r);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Run-to-run noise between two runs: every sample of case i of doc multiplied by
 * common * exp(sigma * N(0,1)), its own draw, and by plant too where i == plant_i or the
 * case's kernel is plant_kernel (NULL: none). */
static void jitter_cases(cJSON *doc, rng *r, double sigma, double common, int plant_i,
                         const char *plant_kernel, double plant)
{
    int i = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(c, "kernel"));
        int planted = i++ == plant_i || (plant_kernel && k && !strcmp(k, plant_kernel));
        double f = common * exp(sigma * rng_normal(r)) * (planted ? plant : 1);
        cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(cJSON_GetObjectItem(c, "time_s"), "samples"))
            cJSON_SetNumberValue(e, e->valuedouble * f);
    }
}

static cJSON *make_context(const char *cpu, const char *compiler)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "date", "2024-05-01T12:00:00+0000");
    cJSON_AddStringToObject(c, "host", "testhost");
    cJSON_AddStringToObject(c, "cpu_model", cpu);
    cJSON_AddNumberToObject(c, "cores", 2);
    cJSON_AddStringToObject(c, "compiler", compiler);
    cJSON_AddStringToObject(c, "cflags", "-O3 -g -fopenmp");
    cJSON_AddStringToObject(c, "git_sha", "abc123");
    cJSON_AddStringToObject(c, "governor", "performance");
    return c;
}

/* Case i of a fixture: distinct params per i, a kernel name from a small set. */
static cJSON *make_case(int i, const char *status, const double *samples, int n)
{
    static const char *kernels[] = { "naive", "blocked", "flash_avx2" };
    cJSON *c = cJSON_CreateObject();
    char id[64];
    snprintf(id, sizeof id, "sweep-%d", i);
    cJSON_AddStringToObject(c, "id", id);
    cJSON_AddStringToObject(c, "kernel", kernels[i % 3]);
    cJSON *p = cJSON_AddObjectToObject(c, "params");
    cJSON_AddNumberToObject(p, "batch", 1);
    cJSON_AddNumberToObject(p, "heads", 4);
    cJSON_AddNumberToObject(p, "kv_heads", 4);
    cJSON_AddNumberToObject(p, "q_len", 64 * (1 + i / 3));
    cJSON_AddNumberToObject(p, "kv_len", 64 * (1 + i / 3));
    cJSON_AddNumberToObject(p, "head_dim", 64);
    cJSON_AddNumberToObject(p, "v_dim", 64);
    cJSON_AddNumberToObject(p, "threads", 1);
    cJSON_AddStringToObject(p, "mask", "none");
    cJSON_AddNumberToObject(p, "window_left", -1);
    cJSON_AddNumberToObject(p, "window_right", -1);
    cJSON_AddNumberToObject(p, "globals", 0);
    cJSON_AddStringToObject(p, "score", "dot");
    cJSON_AddStringToObject(c, "status", status);
    cJSON_AddNumberToObject(c, "case_index", i);
    if (samples) {
        /* the summary a run records beside its samples (gbench reads it) */
        attn_stats st;
        attn_stats_compute(samples, n, &st);
        cJSON *t = cJSON_AddObjectToObject(c, "time_s");
        cJSON_AddNumberToObject(t, "median", st.median);
        cJSON_AddNumberToObject(t, "mean", st.mean);
        cJSON_AddNumberToObject(t, "stddev", st.stddev);
        cJSON_AddNumberToObject(t, "cv", st.cv);
        cJSON_AddItemToObject(t, "samples", cJSON_CreateDoubleArray(samples, n));
    }
    return c;
}

/* A document of n_cases ok cases; case i has true median 1 ms * (1 + i%7), n samples in
 * [nmin, nmax] and lognormal noise with CV in [cv_min, cv_max], all from seed. Every
 * sample is multiplied by scale. The per-case n and CV depend on i only (not the seed),
 * so two seeds give two independent runs of the same sweep. */
static cJSON *make_doc(int n_cases, unsigned long long seed, double scale, int nmin, int nmax,
                       double cv_min, double cv_max)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema", 1);
    cJSON_AddItemToObject(doc, "context", make_context("Test CPU @ 2.0GHz", "gcc 12.2"));
    cJSON *cases = cJSON_AddArrayToObject(doc, "cases");
    rng shape = { 12345 }, noise = { seed };
    double x[64];
    for (int i = 0; i < n_cases; i++) {
        int n = nmin + (int)(rng_u01(&shape) * (nmax - nmin + 1));
        double cv = cv_min + rng_u01(&shape) * (cv_max - cv_min);
        for (int k = 0; k < n; k++) x[k] = scale * 1e-3 * (1 + i % 7) * exp(cv * rng_normal(&noise));
        cJSON_AddItemToArray(cases, make_case(i, "ok", x, n));
    }
    return doc;
}

/* Multiply every sample of every `every`-th case (0, every, 2*every, ...) of a document
 * by f (a planted change), in place; every = 1: the whole run. */
static void scale_cases(cJSON *doc, double f, int every)
{
    cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        if (i++ % every) continue;
        cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "time_s"), "samples");
        cJSON *e;
        cJSON_ArrayForEach(e, s) cJSON_SetNumberValue(e, e->valuedouble * f);
    }
}

static void scale_doc(cJSON *doc, double f) { scale_cases(doc, f, 1); }

static int count_verdict(const cJSON *base, const cJSON *new_, attn_verdict v, int *exit_code)
{
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_cmp_report r;
    if (attn_compare_docs(base, new_, &o, &r) != 0) return -1;
    int n = r.count[v];
    if (exit_code) *exit_code = attn_cmp_exit_code(&r);
    attn_cmp_report_free(&r);
    return n;
}

/* Print the cases whose verdict is not v (diagnostics for a failed check). */
static void print_misses(const cJSON *base, const cJSON *new_, attn_verdict v)
{
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_cmp_report r;
    if (attn_compare_docs(base, new_, &o, &r) != 0) return;
    for (int i = 0; i < r.n; i++) {
        const attn_cmp_case *c = &r.cases[i];
        if (c->verdict != v)
            fprintf(stderr, "    %s: %s, n %d/%d, ratio %.4f, CI %.4f..%.4f, p %.3g %s\n", c->label,
                    attn_verdict_name(c->verdict), c->n_base, c->n_new, c->ratio, c->ci_low,
                    c->ci_high, c->p, c->note);
    }
    attn_cmp_report_free(&r);
}

static void write_doc(const char *dir, const cJSON *doc)
{
    char path[512];
    mkdir("tests/tmp", 0777);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/results.json", dir);
    char *s = cJSON_Print(doc);
    CHECK(attn_write_file_atomic(path, s, strlen(s)) == 0);
    free(s);
}

/* ---------------------------------------------------------------------------------- */
/* statistics                                                                           */

/* Reference values from scipy 1.17.1:
 *   python3 -c "from scipy.stats import mannwhitneyu as m; r = m(x, y,
 *               alternative='two-sided'); print(r.statistic, r.pvalue)"
 * (method 'auto': exact when one side has <= 8 values and there are no ties, else the
 * normal approximation with tie and continuity corrections). */
TEST(compare_mwu_matches_scipy)
{
    double x1[] = { 1.1, 2.3, 0.7, 3.4, 1.9, 2.8, 0.5, 4.1, 2.2, 3.0 };
    double y1[] = { 2.9, 3.8, 4.4, 2.5, 5.1, 3.3, 4.0, 3.6, 4.8 };
    double u;
    CHECK_NEAR(attn_mann_whitney(x1, 10, y1, 9, &u), 0.007963489206549997, 1e-12);
    CHECK_NEAR(u, 12.0, 0);
    /* ties: asymptotic with tie correction */
    double x2[] = { 1, 2, 2, 3, 3, 3, 4, 5, 6, 7 };
    double y2[] = { 3, 4, 4, 5, 5, 6, 8, 9, 9, 10, 11 };
    CHECK_NEAR(attn_mann_whitney(x2, 10, y2, 11, &u), 0.011834023516337876, 1e-12);
    CHECK_NEAR(u, 19.0, 0);
    /* exact */
    double x3[] = { 1.5, 2.7, 0.3, 4.2, 3.3 };
    double y3[] = { 5.1, 6.0, 2.9, 7.7, 4.9, 8.1 };
    CHECK_NEAR(attn_mann_whitney(x3, 5, y3, 6, &u), 0.017316017316017316, 1e-12);
    CHECK_NEAR(u, 2.0, 0);
    double x4[] = { 10.5, 12.25, 9.75 }, y4[20];
    for (int i = 0; i < 20; i++) y4[i] = 11.0 + 0.5 * i;
    CHECK_NEAR(attn_mann_whitney(x4, 3, y4, 20, &u), 0.007905138339920948, 1e-12);
    /* symmetric in its arguments; identical samples give p = 1 */
    CHECK_NEAR(attn_mann_whitney(y1, 9, x1, 10, NULL), 0.007963489206549997, 1e-12);
    CHECK_NEAR(attn_mann_whitney(x1, 10, x1, 10, NULL), 1.0, 1e-12);
    CHECK(isnan(attn_mann_whitney(x1, 0, y1, 9, NULL)));
    /* the smallest p reachable: 2/C(10,5) = 2/252 */
    CHECK_NEAR(attn_mwu_min_p(5, 5), 2.0 / 252, 1e-12);
    CHECK_NEAR(attn_mwu_min_p(4, 4), 2.0 / 70, 1e-12);
}

/* The ratio CI covers the true ratio of medians about 95% of the time. */
TEST(compare_ratio_ci_coverage)
{
    rng r = { 7 };
    int covered = 0, trials = 400;
    double x[20], y[25];
    for (int t = 0; t < trials; t++) {
        for (int i = 0; i < 20; i++) x[i] = exp(0.05 * rng_normal(&r));
        for (int i = 0; i < 25; i++) y[i] = 1.1 * exp(0.08 * rng_normal(&r));
        double lo, hi;
        attn_ratio_ci(x, 20, y, 25, 0.95, &lo, &hi);
        CHECK(lo < hi);
        covered += lo <= 1.1 && 1.1 <= hi;
    }
    CHECK_MSG(covered >= 0.91 * trials && covered <= 0.99 * trials, "coverage %d/%d", covered, trials);
    double lo, hi;
    attn_ratio_ci(x, 2, y, 25, 0.95, &lo, &hi);
    CHECK(isnan(lo) && isnan(hi));
}

/* ---------------------------------------------------------------------------------- */
/* verdicts and planted changes                                                         */

TEST(compare_case_key_and_label)
{
    double s[3] = { 1, 2, 3 };
    cJSON *a = make_case(0, "ok", s, 3), *b = make_case(0, "ok", s, 3);
    cJSON_ReplaceItemInObject(b, "id", cJSON_CreateString("another-sweep-name"));
    /* params in another order: same key */
    cJSON *p = cJSON_DetachItemFromObject(b, "params");
    cJSON *q = cJSON_CreateObject();
    while (p->child) {
        cJSON *last = p->child;
        while (last->next) last = last->next;
        cJSON_AddItemToObject(q, last->string, cJSON_Duplicate(last, 1));
        cJSON_DeleteItemFromObject(p, last->string);
    }
    cJSON_Delete(p);
    cJSON_AddItemToObject(b, "params", q);
    char ka[ATTN_CASE_KEY_MAX], kb[ATTN_CASE_KEY_MAX];
    CHECK(attn_case_key(a, ka, sizeof ka) == 0);
    CHECK(attn_case_key(b, kb, sizeof kb) == 0);
    CHECK_MSG(!strcmp(ka, kb), "%s vs %s", ka, kb);
    CHECK(strstr(ka, "kernel=naive;") == ka);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(b, "params"), "threads", cJSON_CreateNumber(2));
    attn_case_key(b, kb, sizeof kb);
    CHECK(strcmp(ka, kb) != 0);

    char l[ATTN_CASE_KEY_MAX];
    cJSON *c = cJSON_Parse("{\"kernel\":\"flash_avx2\",\"params\":{\"batch\":1,\"heads\":8,"
        "\"kv_heads\":8,\"q_len\":4096,\"kv_len\":4096,\"head_dim\":64,\"v_dim\":64,\"threads\":2,"
        "\"mask\":\"none\",\"window_left\":-1,\"window_right\":-1,\"globals\":0,\"score\":\"dot\"}}");
    attn_case_label(c, l, sizeof l);
    CHECK_MSG(!strcmp(l, "flash_avx2/b:1/h:8/q:4096/k:4096/d:64/t:2/mask:none"), "%s", l);
    cJSON *pc = cJSON_GetObjectItem(c, "params");
    cJSON_ReplaceItemInObject(pc, "kv_heads", cJSON_CreateNumber(2));
    cJSON_ReplaceItemInObject(pc, "window_left", cJSON_CreateNumber(128));
    cJSON_AddNumberToObject(pc, "pad", 0.25);
    cJSON_AddStringToObject(pc, "sweep", "perf");
    /* pad matters only under a padding mask; the sweep's name never */
    attn_case_label(c, l, sizeof l);
    CHECK_MSG(!strcmp(l, "flash_avx2/b:1/h:8/kv:2/q:4096/k:4096/d:64/t:2/mask:none/wl:128"), "%s", l);
    cJSON_ReplaceItemInObject(pc, "mask", cJSON_CreateString("causal_padding"));
    attn_case_label(c, l, sizeof l);
    CHECK_MSG(!strcmp(l, "flash_avx2/b:1/h:8/kv:2/q:4096/k:4096/d:64/t:2/mask:causal_padding/wl:128/pad:0.25"), "%s", l);
    char k1[ATTN_CASE_KEY_MAX], k2[ATTN_CASE_KEY_MAX];
    attn_case_key(c, k1, sizeof k1);
    cJSON_ReplaceItemInObject(pc, "sweep", cJSON_CreateString("ci"));
    attn_case_key(c, k2, sizeof k2);
    CHECK_MSG(!strcmp(k1, k2) && !strstr(k1, "sweep"), "%s vs %s", k1, k2);
    cJSON_Delete(a); cJSON_Delete(b); cJSON_Delete(c);
}

/* The targets of the issue on 200 noisy fixture cases (10-30 samples, CV 3-8%): a
 * slowdown planted in every 5th case (40 of 200: a few kernels changed, the machine not). */
TEST(compare_planted_changes)
{
    const int N = 200, EVERY = 5, NP = N / EVERY;
    cJSON *a = make_doc(N, 1, 1.0, 10, 30, 0.03, 0.08);
    int rc = -1;
    CHECK(count_verdict(a, a, CMP_UNCHANGED, &rc) == N);      /* identical */
    CHECK(rc == 0);
    cJSON *s = cJSON_Duplicate(a, 1);
    scale_cases(s, 1.15, EVERY);
    int n15 = count_verdict(a, s, CMP_REGRESSED, &rc);
    CHECK_MSG(n15 == NP, "15%% slowdown flagged on %d of %d cases", n15, NP);
    if (n15 != NP) print_misses(a, s, CMP_REGRESSED);
    CHECK(rc == 1);
    CHECK(count_verdict(a, s, CMP_UNCHANGED, NULL) == N - NP);
    cJSON_Delete(s);
    s = cJSON_Duplicate(a, 1);
    scale_cases(s, 1.02, EVERY);
    int n2 = count_verdict(a, s, CMP_REGRESSED, &rc);
    CHECK_MSG(n2 == 0, "2%% slowdown flagged on %d cases", n2);
    CHECK(rc == 0);
    cJSON_Delete(s);
    s = cJSON_Duplicate(a, 1);
    scale_cases(s, 0.8, EVERY);
    int n8 = count_verdict(a, s, CMP_IMPROVED, &rc);
    CHECK_MSG(n8 == NP, "20%% speedup seen on %d of %d cases", n8, NP);
    CHECK(rc == 0);
    cJSON_Delete(s);
    /* every case 2% slower: drift within the threshold, a pass; every case 15% slower:
     * a machine-wide shift, which two runs cannot tell from the build: inconclusive */
    s = cJSON_Duplicate(a, 1);
    scale_doc(s, 1.02);
    CHECK(count_verdict(a, s, CMP_UNCHANGED, &rc) == N && rc == 0);
    scale_doc(s, 1.15 / 1.02);
    CHECK(count_verdict(a, s, CMP_INCONCLUSIVE, &rc) == N && rc == ATTN_EXIT_INCONCLUSIVE);
    cJSON_Delete(s);

    /* A/A: an independent run of the same sweep, also with the whole machine 3% slower */
    int aa = 0, aa_drift = 0, indep15 = 0;
    for (unsigned long long seed = 2; seed < 7; seed++) {
        cJSON *b = make_doc(N, seed, 1.0, 10, 30, 0.03, 0.08);
        aa += count_verdict(a, b, CMP_REGRESSED, NULL) + count_verdict(a, b, CMP_IMPROVED, NULL);
        scale_doc(b, 1.03);
        aa_drift += count_verdict(a, b, CMP_REGRESSED, NULL);
        scale_cases(b, 1.15, EVERY);
        indep15 += count_verdict(a, b, CMP_REGRESSED, NULL);
        cJSON_Delete(b);
    }
    CHECK_MSG(aa <= 2, "A/A: %d of %d cases flagged", aa, 5 * N);
    CHECK_MSG(aa_drift <= 5, "A/A with 3%% drift: %d of %d cases flagged", aa_drift, 5 * N);
    /* in independent runs the cases also differ by their medians' sampling noise (CV up to
     * 8% on 10 samples), which the bound of 3 sigma across cases takes in: 15% is near it */
    CHECK_MSG(indep15 >= 0.8 * 5 * NP, "independent run +15%%: %d of %d flagged", indep15, 5 * NP);
    fprintf(stderr, "  planted: 15%% %d/%d, 2%% %d, 20%% faster %d/%d; A/A %d/%d, A/A+3%% %d/%d, "
            "independent+15%% %d/%d\n", n15, NP, n2, n8, NP, aa, 5 * N, aa_drift, 5 * N, indep15, 5 * NP);
    cJSON_Delete(a);
}

/* The two-runs example of the issue: the machine slowed by 50% between two runs (each
 * case also moved by its own 2% of run-to-run noise) and one kernel (flash_avx2, a third
 * of the cases) got 27% slower on top, +90% in all. Only that kernel is regressed; the
 * others moved with the machine and are inconclusive, with a warning naming the shift.
 * Without the changed kernel the whole comparison is inconclusive (exit 3), never a pass
 * and never a wall of REGRESSED. */
TEST(compare_machine_wide_shift)
{
    const int N = 60;
    cJSON *a = make_doc(N, 31, 1.0, 20, 20, 0.02, 0.03);
    for (int with_kernel = 1; with_kernel >= 0; with_kernel--) {
        cJSON *b = make_doc(N, 32, 1.0, 20, 20, 0.02, 0.03);
        rng r = { 77 };
        jitter_cases(b, &r, 0.02, 1.5, -1, with_kernel ? "flash_avx2" : NULL, 1.9 / 1.5);
        attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
        attn_cmp_report rep;
        CHECK(attn_compare_docs(a, b, &o, &rep) == 0);
        CHECK_NEAR(rep.shift, 0.5, 0.03);
        int wrong = 0;
        for (int i = 0; i < rep.n; i++) {
            const attn_cmp_case *cc = &rep.cases[i];
            int changed = with_kernel && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cc->base, "kernel")), "flash_avx2");
            attn_verdict want = changed ? CMP_REGRESSED : CMP_INCONCLUSIVE;
            if (cc->verdict != want && wrong++ < 3)
                fprintf(stderr, "    %s: %s (ratio %.3f) %s\n", cc->label, attn_verdict_name(cc->verdict),
                        cc->ratio, cc->note);
        }
        CHECK_MSG(wrong == 0, "%d cases judged wrongly (with the changed kernel: %d)", wrong, with_kernel);
        CHECK(rep.count[CMP_REGRESSED] == (with_kernel ? N / 3 : 0));
        CHECK(attn_cmp_exit_code(&rep) == (with_kernel ? 1 : ATTN_EXIT_INCONCLUSIVE));
        int named = 0;
        char pct[32];
        snprintf(pct, sizeof pct, "moved %+.1f%%", 100 * rep.shift);
        for (int i = 0; i < rep.n_warnings; i++)
            named |= strstr(rep.warnings[i], "machine-wide shift") && strstr(rep.warnings[i], pct);
        CHECK(named);
        for (int i = 0; !named && i < rep.n_warnings; i++) fprintf(stderr, "    warning: %s\n", rep.warnings[i]);
        attn_cmp_report_free(&rep);
        cJSON_Delete(b);
    }
    cJSON_Delete(a);
}

/* Heavy machine noise (issue 15: A/A under load, cases spread by +-25%): the noise hides
 * changes of the threshold's size, so the gate must not pass. One case really 50% slower
 * is not lost in a pass: every measured case is regressed or inconclusive, exit 1 or 3,
 * and a warning says why. */
TEST(compare_heavy_noise_is_inconclusive)
{
    const int N = 40;
    cJSON *a = make_doc(N, 41, 1.0, 20, 20, 0.02, 0.03);
    cJSON *b = make_doc(N, 42, 1.0, 20, 20, 0.02, 0.03);
    rng r = { 43 };
    jitter_cases(b, &r, 0.25, 1.0, 5, NULL, 1.5);
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_cmp_report rep;
    CHECK(attn_compare_docs(a, b, &o, &rep) == 0);
    CHECK(rep.heavy_noise && rep.noise_sigma > 0.15);
    CHECK_MSG(rep.count[CMP_UNCHANGED] == 0, "%d cases unchanged under +-%.0f%% noise",
              rep.count[CMP_UNCHANGED], 100 * rep.noise_sigma);
    CHECK(rep.count[CMP_REGRESSED] + rep.count[CMP_IMPROVED] + rep.count[CMP_INCONCLUSIVE] == N);
    CHECK(rep.cases[5].verdict == CMP_INCONCLUSIVE || rep.cases[5].verdict == CMP_REGRESSED);
    int rc = attn_cmp_exit_code(&rep), warned = 0;
    CHECK(rc == 1 || rc == ATTN_EXIT_INCONCLUSIVE);
    for (int k = 0; k < rep.n_warnings; k++) warned |= strstr(rep.warnings[k], "heavy noise") != NULL;
    CHECK(warned);
    attn_cmp_report_free(&rep);
    /* ordinary run-to-run noise (+-1%) is not heavy: an A/A comparison passes */
    cJSON_Delete(b);
    b = make_doc(N, 42, 1.0, 20, 20, 0.02, 0.03);
    CHECK(attn_compare_docs(a, b, &o, &rep) == 0);
    CHECK(!rep.heavy_noise && attn_cmp_exit_code(&rep) == 0);
    attn_cmp_report_free(&rep);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Matching is n log n: 100k cases per side, NEW in reverse order with some keys twice,
 * are matched completely (a quadratic match takes hours here). The bound is generous
 * (sanitizers, a loaded machine); it measured about a second. */
TEST(compare_100k_cases)
{
    const int N = 100000;
    cJSON *docs[2];
    for (int d = 0; d < 2; d++) {
        docs[d] = cJSON_CreateObject();
        cJSON *cases = cJSON_AddArrayToObject(docs[d], "cases");
        for (int k = 0; k < N; k++) {
            int i = d ? N - 1 - k : k;          /* NEW in reverse order */
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "kernel", i % 2 ? "flash" : "naive");
            cJSON_AddStringToObject(c, "status", "ok");
            cJSON *p = cJSON_AddObjectToObject(c, "params");
            cJSON_AddNumberToObject(p, "heads", 1 + i % 7);
            cJSON_AddNumberToObject(p, "q_len", i < N - 100 ? i / 2 : 17);  /* the last 100 share keys */
            double x[5] = { 1e-3, 1.1e-3, 0.9e-3, 1.05e-3, 0.95e-3 };
            cJSON_AddItemToObject(cJSON_AddObjectToObject(c, "time_s"), "samples", cJSON_CreateDoubleArray(x, 5));
            cJSON_AddItemToArray(cases, c);
        }
    }
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_cmp_report rep;
    double t0 = wall_s();
    CHECK(attn_compare_docs(docs[0], docs[1], &o, &rep) == 0);
    double dt = wall_s() - t0;
    CHECK_MSG(rep.n == N && rep.count[CMP_UNCHANGED] == N, "%d rows, %d unchanged, %d new, %d missing",
              rep.n, rep.count[CMP_UNCHANGED], rep.count[CMP_NEW], rep.count[CMP_MISSING]);
    CHECK_MSG(dt < 60, "100k cases compared in %.1f s", dt);
    fprintf(stderr, "  100k cases per side compared in %.2f s\n", dt);
    attn_cmp_report_free(&rep);
    cJSON_Delete(docs[0]);
    cJSON_Delete(docs[1]);
}

/* Real runs differ per case by a few percent in clean distributions (measured here: SD
 * 2-4% between two runs of the same binary). 20 cases, 20 samples at CV 1.5%, each case of
 * NEW shifted by its own exp(0.04 N(0,1)): A/A must stay quiet in at least 9 of 10
 * repetitions, and one case really 25% slower must still be found. */
TEST(compare_run_to_run_noise)
{
    const int N = 20, REPS = 10;
    int noisy_runs = 0, found = 0;
    rng r = { 99 };
    for (int rep = 0; rep < REPS; rep++) {
        cJSON *a = make_doc(N, 100 + rep, 1.0, 20, 20, 0.015, 0.015);
        cJSON *b = make_doc(N, 200 + rep, 1.0, 20, 20, 0.015, 0.015);
        jitter_cases(b, &r, 0.04, 1.0, 7, NULL, 1.25);
        attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
        attn_cmp_report rep_;
        CHECK(attn_compare_docs(a, b, &o, &rep_) == 0);
        int others = 0;
        for (int k = 0; k < rep_.n; k++)
            if (k != 7) others += rep_.cases[k].verdict == CMP_REGRESSED;
            else found += rep_.cases[k].verdict == CMP_REGRESSED;
        noisy_runs += others > 0;
        CHECK(isfinite(rep_.noise_sigma) && rep_.noise_sigma > 0.01);
        attn_cmp_report_free(&rep_);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    CHECK_MSG(noisy_runs <= 1, "%d of %d A/A repetitions flagged a case", noisy_runs, REPS);
    CHECK_MSG(found >= 8, "the 25%% slower case found in %d of %d", found, REPS);
    fprintf(stderr, "  run-to-run noise: A/A flagged in %d/%d repetitions; 25%% found %d/%d\n",
            noisy_runs, REPS, found, REPS);
}

/* A slowdown whose NEW timings are stretched by contention is not called; one whose BASE
 * timings were stretched stands (the disturbance worked against it). */
TEST(compare_disturbed_runs)
{
    double clean[20], stretched[20];
    rng r = { 5 };
    for (int i = 0; i < 20; i++) {
        clean[i] = 1e-3 * exp(0.01 * rng_normal(&r));
        stretched[i] = 1e-3 * (1 + 0.6 * rng_u01(&r));     /* IQR about 30% */
    }
    cJSON *a = cJSON_CreateObject(), *b = cJSON_CreateObject();
    cJSON *ca = cJSON_AddArrayToObject(a, "cases"), *cb = cJSON_AddArrayToObject(b, "cases");
    cJSON_AddItemToArray(ca, make_case(0, "ok", clean, 20));
    cJSON_AddItemToArray(cb, make_case(0, "ok", stretched, 20));
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_cmp_report rep;
    CHECK(attn_compare_docs(a, b, &o, &rep) == 0);
    CHECK(rep.cases[0].ratio > 1.2 && rep.cases[0].p < 0.01 && rep.cases[0].unstable);
    CHECK(rep.cases[0].verdict == CMP_UNCHANGED && strstr(rep.cases[0].note, "rerun"));
    attn_cmp_report_free(&rep);
    for (int i = 0; i < 20; i++) clean[i] *= 1.6;                  /* NEW clean and slower */
    cJSON_DeleteItemFromArray(ca, 0);
    cJSON_AddItemToArray(ca, make_case(0, "ok", stretched, 20));
    cJSON_DeleteItemFromArray(cb, 0);
    cJSON_AddItemToArray(cb, make_case(0, "ok", clean, 20));
    CHECK(attn_compare_docs(a, b, &o, &rep) == 0);
    CHECK(rep.cases[0].unstable && rep.cases[0].verdict == CMP_REGRESSED);
    attn_cmp_report_free(&rep);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

TEST(compare_new_missing_invalid_geomean)
{
    double s[12], t[12];
    rng r = { 3 };
    for (int i = 0; i < 12; i++) s[i] = 1e-3 * exp(0.02 * rng_normal(&r));
    cJSON *base = cJSON_CreateObject(), *nw = cJSON_CreateObject();
    cJSON_AddItemToObject(base, "context", make_context("Test CPU", "gcc 12.2"));
    cJSON_AddItemToObject(nw, "context", make_context("Test CPU", "gcc 13.1"));
    cJSON *cb = cJSON_AddArrayToObject(base, "cases"), *cn = cJSON_AddArrayToObject(nw, "cases");
    /* 0: x1.21, 1: unchanged, 2: only in base, 3: only in new, 4: crashed in new,
     * 5: skipped in new, 6: 4 samples per side at x1.5 (too few to decide) */
    for (int i = 0; i < 12; i++) t[i] = s[i] * 1.21;
    cJSON_AddItemToArray(cb, make_case(0, "ok", s, 12));
    cJSON_AddItemToArray(cn, make_case(0, "ok", t, 12));
    cJSON_AddItemToArray(cb, make_case(1, "ok", s, 12));
    cJSON_AddItemToArray(cn, make_case(1, "ok", s, 12));
    cJSON_AddItemToArray(cb, make_case(2, "ok", s, 12));
    cJSON_AddItemToArray(cn, make_case(3, "ok", s, 12));
    cJSON_AddItemToArray(cb, make_case(4, "ok", s, 12));
    cJSON *crashed = make_case(4, "crashed", NULL, 0);
    cJSON_AddStringToObject(crashed, "reason", "SIGSEGV");
    cJSON_AddItemToArray(cn, crashed);
    cJSON_AddItemToArray(cb, make_case(5, "ok", s, 12));
    cJSON_AddItemToArray(cn, make_case(5, "skipped", NULL, 0));
    for (int i = 0; i < 4; i++) t[i] = s[i] * 1.5;
    cJSON_AddItemToArray(cb, make_case(6, "ok", s, 4));
    cJSON_AddItemToArray(cn, make_case(6, "ok", t, 4));

    attn_cmp_opts o = { 0.05, 0.01 };
    attn_cmp_report rep, *rp = &rep;
    CHECK(attn_compare_docs(base, nw, &o, rp) == 0);
    CHECK(rp->n == 7);
    attn_verdict want[7] = { CMP_REGRESSED, CMP_UNCHANGED, CMP_MISSING, CMP_INVALID, CMP_MISSING,
                             CMP_UNCHANGED, CMP_NEW };   /* base order, then new-only */
    for (int i = 0; i < 7 && i < rp->n; i++)
        CHECK_MSG(rp->cases[i].verdict == want[i], "case %d (%s): %s, want %s", i, rp->cases[i].label,
                  attn_verdict_name(rp->cases[i].verdict), attn_verdict_name(want[i]));
    CHECK(rp->n >= 6 && rp->cases[5].too_few && isfinite(rp->cases[5].ratio));
    /* geomean over the three measured cases: (1.21 * 1 * 1.5)^(1/3) */
    CHECK(rp->n_geomean == 3);
    CHECK_NEAR(rp->geomean, cbrt(1.21 * 1.5), 1e-9);
    CHECK(rp->min_samples == 5);
    CHECK(attn_cmp_exit_code(rp) == 1);
    int saw_compiler = 0, saw_few = 0;
    for (int i = 0; i < rp->n_warnings; i++) {
        saw_compiler |= strstr(rp->warnings[i], "compiler") != NULL;
        saw_few |= strstr(rp->warnings[i], "too few samples") && strstr(rp->warnings[i], "at least 5");
    }
    CHECK(saw_compiler && saw_few);
    attn_cmp_report_free(rp);

    /* the crash alone also fails the comparison; without it and the regression, exit 0 */
    cJSON_DeleteItemFromArray(cn, 0);
    cJSON_AddItemToArray(cn, make_case(0, "ok", s, 12));
    CHECK(count_verdict(base, nw, CMP_INVALID, NULL) == 1);
    cJSON_DeleteItemFromArray(cn, 2);        /* the crashed case: now missing, not invalid */
    int rc = -1;
    CHECK(count_verdict(base, nw, CMP_REGRESSED, &rc) == 0);
    CHECK(rc == 0);
    cJSON_Delete(base);
    cJSON_Delete(nw);
}

/* ---------------------------------------------------------------------------------- */
/* the command, baselines                                                               */

/* Call a subcommand with a NULL-terminated argument list. */
static int run_argv(int (*fn)(int, char **), const char **args)
{
    char *argv[16];
    int argc = 0;
    while (argc < 15 && args[argc]) { argv[argc] = (char *)args[argc]; argc++; }
    argv[argc] = NULL;
    return fn(argc, argv);
}
#define run_cmd(fn, ...) run_argv(fn, (const char *[]){ __VA_ARGS__, NULL })

static int file_contains(const char *path, const char *what)
{
    char *s = attn_read_file(path, NULL);
    int found = s && strstr(s, what);
    free(s);
    return found;
}

TEST(compare_command_exit_codes_and_formats)
{
    cJSON *a = make_doc(12, 11, 1.0, 20, 20, 0.03, 0.05);
    cJSON *b = cJSON_Duplicate(a, 1);
    scale_cases(b, 1.15, 3);                /* the 4 naive cases */
    cJSON *c = cJSON_Duplicate(a, 1);
    scale_doc(c, 1.02);
    write_doc("tests/tmp/cmp_a", a);
    write_doc("tests/tmp/cmp_b", b);
    write_doc("tests/tmp/cmp_c", c);
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a", "tests/tmp/cmp_b", "--format", "md",
                  "-o", "tests/tmp/cmp.md") == 1);
    CHECK(file_contains("tests/tmp/cmp.md", "**regressed**"));
    CHECK(file_contains("tests/tmp/cmp.md", "| **geomean** (12 cases) | | | +4.8% |"));
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a/results.json", "tests/tmp/cmp_c",
                  "--format=json", "-o", "tests/tmp/cmp.json") == 0);
    char *s = attn_read_file("tests/tmp/cmp.json", NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    CHECK(j && cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "unchanged")->valueint == 12);
    CHECK(j && cJSON_GetObjectItem(j, "exit_code")->valueint == 0);
    cJSON_Delete(j);
    free(s);
    /* --threshold 20: the 15% slowdown no longer counts; --alpha 1e-9 (beyond what 20
     * samples can reach) neither */
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a", "tests/tmp/cmp_b", "--threshold", "20",
                  "-o", "tests/tmp/cmp.txt") == 0);
    CHECK(file_contains("tests/tmp/cmp.txt", "threshold 20%"));
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a", "tests/tmp/cmp_b", "--alpha", "1e-12",
                  "-o", "tests/tmp/cmp.txt") == 0);
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a", "tests/tmp/cmp_b", "-o", "tests/tmp/cmp.txt") == 1);
    CHECK(file_contains("tests/tmp/cmp.txt", "REGRESSED"));
    /* every case 15% slower: a machine-wide shift, inconclusive (exit 3), named as such */
    cJSON *d = cJSON_Duplicate(a, 1);
    scale_doc(d, 1.15);
    write_doc("tests/tmp/cmp_d", d);
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a", "tests/tmp/cmp_d", "-o", "tests/tmp/cmp.txt") == 3);
    CHECK(file_contains("tests/tmp/cmp.txt", "machine-wide shift of +15.0% removed"));
    CHECK(file_contains("tests/tmp/cmp.txt", "inconclusive"));
    cJSON_Delete(d);
    /* usage errors */
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a") == 2);
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a", "tests/tmp/cmp_b", "--alpha", "2") == 2);
    CHECK(run_cmd(attn_cmd_compare, "compare", "tests/tmp/cmp_a", "tests/tmp/nope") == 2);
    cJSON_Delete(a); cJSON_Delete(b); cJSON_Delete(c);
}

/* An empty BASE or NEW is refused (exit 2, naming which): judged against anything, a run
 * without cases would pass every gate. */
TEST(compare_refuses_an_empty_run)
{
    cJSON *a = make_doc(3, 51, 1.0, 10, 10, 0.03, 0.03), *e = cJSON_CreateObject();
    cJSON_AddItemToObject(e, "context", make_context("Test CPU @ 2.0GHz", "gcc 12.2"));
    cJSON_AddArrayToObject(e, "cases");
    write_doc("tests/tmp/cmp_full", a);
    write_doc("tests/tmp/cmp_empty", e);
    char err[4096];
    int rc = test_sh(err, sizeof err, "%s compare tests/tmp/cmp_full tests/tmp/cmp_empty", test_bin());
    CHECK_MSG(rc == 2 && strstr(err, "NEW tests/tmp/cmp_empty") && strstr(err, "holds no case"), "exit %d: %s", rc, err);
    rc = test_sh(err, sizeof err, "%s compare tests/tmp/cmp_empty tests/tmp/cmp_full", test_bin());
    CHECK_MSG(rc == 2 && strstr(err, "BASE tests/tmp/cmp_empty") && strstr(err, "holds no case"), "exit %d: %s", rc, err);
    CHECK(test_sh(err, sizeof err, "%s compare tests/tmp/cmp_full tests/tmp/cmp_full", test_bin()) == 0);
    cJSON_Delete(a);
    cJSON_Delete(e);
}

TEST(compare_baselines_per_machine)
{
    setenv("ATTN_BASELINE_DIR", "tests/tmp/baselines", 1);
    cJSON *a = make_doc(6, 21, 1.0, 15, 15, 0.03, 0.03);
    cJSON *b = cJSON_Duplicate(a, 1);
    scale_doc(b, 1.2);
    write_doc("tests/tmp/bl_a", a);
    write_doc("tests/tmp/bl_b", b);
    char key[256], path[1024];
    CHECK(attn_machine_key(cJSON_GetObjectItem(a, "context"), key, sizeof key) == 0);
    CHECK_MSG(!strcmp(key, "test-cpu-2-0ghz-2c"), "%s", key);
    CHECK(!attn_baseline_name_ok("../x") && !attn_baseline_name_ok(".hidden") && attn_baseline_name_ok("main-1.2_x"));
    CHECK(attn_baseline_save("tests/tmp/bl_a", "main") == 0);
    CHECK(attn_baseline_path_for(cJSON_GetObjectItem(a, "context"), "main", path, sizeof path) == 0);
    CHECK_MSG(!strcmp(path, "tests/tmp/baselines/test-cpu-2-0ghz-2c/main.json"), "%s", path);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK(run_cmd(attn_cmd_compare, "compare", "--baseline", "main", "tests/tmp/bl_a", "-o", "tests/tmp/bl.txt") == 0);
    CHECK(run_cmd(attn_cmd_compare, "compare", "--baseline", "main", "tests/tmp/bl_b", "-o", "tests/tmp/bl.txt") == 1);
    CHECK(run_cmd(attn_cmd_compare, "compare", "--baseline", "nosuch", "tests/tmp/bl_b") == 2);
    /* a baseline file whose CPU differs from NEW's (copied by hand): refused unless --force */
    cJSON *other = cJSON_Duplicate(a, 1);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(other, "context"), "cpu_model", cJSON_CreateString("Other CPU"));
    char *s = cJSON_Print(other);
    CHECK(attn_write_file_atomic(path, s, strlen(s)) == 0);
    free(s);
    CHECK(run_cmd(attn_cmd_compare, "compare", "--baseline", "main", "tests/tmp/bl_a", "-o", "tests/tmp/bl.txt") == 2);
    CHECK(run_cmd(attn_cmd_compare, "compare", "--baseline", "main", "tests/tmp/bl_a", "--force", "-o", "tests/tmp/bl.txt") == 0);
    cJSON_Delete(a); cJSON_Delete(b); cJSON_Delete(other);
    unsetenv("ATTN_BASELINE_DIR");
}

/* ---------------------------------------------------------------------------------- */
/* gbench, merge, history                                                               */

TEST(compare_gbench_shape)
{
    cJSON *a = make_doc(4, 31, 1.0, 10, 10, 0.03, 0.03);
    cJSON_AddItemToArray(cJSON_GetObjectItem(a, "cases"), make_case(4, "skipped", NULL, 0));
    mkdir("tests/tmp", 0777);
    CHECK(attn_gbench_write("tests/tmp/gbench.json", a) == 0);
    char *s = attn_read_file("tests/tmp/gbench.json", NULL);
    cJSON *g = s ? cJSON_Parse(s) : NULL;
    free(s);
    CHECK(g != NULL);
    if (!g) { cJSON_Delete(a); return; }
    cJSON *ctx = cJSON_GetObjectItem(g, "context");
    static const char *ctx_fields[] = { "date", "host_name", "executable", "num_cpus", "mhz_per_cpu",
        "cpu_scaling_enabled", "caches", "load_avg", "library_build_type" };
    for (int i = 0; i < 9; i++) CHECK_MSG(cJSON_GetObjectItem(ctx, ctx_fields[i]) != NULL, "context.%s", ctx_fields[i]);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(ctx, "cpu_scaling_enabled")));
    cJSON *bm = cJSON_GetObjectItem(g, "benchmarks");
    CHECK(cJSON_GetArraySize(bm) == 4 * (10 + 4));   /* skipped case left out */
    const cJSON *case0 = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "cases"), 0);
    char label[ATTN_CASE_KEY_MAX];
    attn_case_label(case0, label, sizeof label);
    cJSON *first = cJSON_GetArrayItem(bm, 0);
    static const char *fields[] = { "name", "family_index", "per_family_instance_index", "run_name",
        "run_type", "repetitions", "repetition_index", "threads", "iterations", "real_time",
        "cpu_time", "time_unit" };
    for (int i = 0; i < 12; i++) CHECK_MSG(cJSON_GetObjectItem(first, fields[i]) != NULL, "benchmark.%s", fields[i]);
    CHECK(!strcmp(cJSON_GetObjectItem(first, "name")->valuestring, label));
    CHECK(!strcmp(cJSON_GetObjectItem(first, "run_type")->valuestring, "iteration"));
    CHECK(!strcmp(cJSON_GetObjectItem(first, "time_unit")->valuestring, "ns"));
    double s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(case0, "time_s"), "samples"), 0)->valuedouble;
    CHECK_NEAR(cJSON_GetObjectItem(first, "real_time")->valuedouble, s0 * 1e9, 1e-6);
    /* aggregates after the ten iterations: mean, median, stddev, cv; median matches */
    cJSON *med = cJSON_GetArrayItem(bm, 11);
    char want[ATTN_CASE_KEY_MAX + 16];
    snprintf(want, sizeof want, "%s_median", label);
    CHECK(!strcmp(cJSON_GetObjectItem(med, "name")->valuestring, want));
    CHECK(!strcmp(cJSON_GetObjectItem(med, "run_type")->valuestring, "aggregate"));
    CHECK(!strcmp(cJSON_GetObjectItem(med, "aggregate_name")->valuestring, "median"));
    int n = 0;
    double *x = attn_case_samples(case0, &n);
    for (int i = 1; i < n; i++) for (int j = i; j > 0 && x[j] < x[j - 1]; j--) { double t = x[j]; x[j] = x[j - 1]; x[j - 1] = t; }
    CHECK_NEAR(cJSON_GetObjectItem(med, "real_time")->valuedouble, 0.5 * (x[4] + x[5]) * 1e9, 1e-6);
    free(x);
    /* the third kernel family (case 2 is flash_avx2) */
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(bm, 2 * 14), "family_index")->valueint == 2);
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(bm, 3 * 14), "per_family_instance_index")->valueint == 1);
    cJSON_Delete(g);
    cJSON_Delete(a);
}

TEST(compare_merge_shards)
{
    cJSON *whole = make_doc(7, 41, 1.0, 10, 12, 0.03, 0.05);
    cJSON *sh[2];
    for (int k = 0; k < 2; k++) {             /* shard k/2: cases k, k+2, ... */
        sh[k] = cJSON_Duplicate(whole, 1);
        cJSON_AddStringToObject(cJSON_GetObjectItem(sh[k], "context"), "shard", k ? "1/2" : "0/2");
        cJSON *cases = cJSON_GetObjectItem(sh[k], "cases");
        for (int i = 6; i >= 0; i--) if (i % 2 != k) cJSON_DeleteItemFromArray(cases, i);
    }
    write_doc("tests/tmp/shard0", sh[0]);
    write_doc("tests/tmp/shard1", sh[1]);
    /* shards given in reverse: the order comes from case_index */
    CHECK(run_cmd(attn_cmd_merge, "merge", "-o", "tests/tmp/merged", "--force", "tests/tmp/shard1",
                  "tests/tmp/shard0", "--gbench") == 0);
    char err[256];
    cJSON *m = attn_results_load("tests/tmp/merged", err, sizeof err);
    CHECK(m != NULL);
    if (m) {
        CHECK(cJSON_Compare(cJSON_GetObjectItem(m, "cases"), cJSON_GetObjectItem(whole, "cases"), 1));
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "context"), "shard") == NULL);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "context"), "merged_from")) == 2);
        CHECK(count_verdict(whole, m, CMP_UNCHANGED, NULL) == 7);
    }
    struct stat st;
    CHECK(stat("tests/tmp/merged/results.gbench.json", &st) == 0);
    /* identical duplicate: fine; conflicting duplicate: refused; existing output: refused */
    CHECK(run_cmd(attn_cmd_merge, "merge", "-o", "tests/tmp/merged", "--force", "tests/tmp/shard0",
                  "tests/tmp/shard0", "tests/tmp/shard1") == 0);
    scale_doc(sh[0], 1.1);
    write_doc("tests/tmp/shard0b", sh[0]);
    CHECK(run_cmd(attn_cmd_merge, "merge", "-o", "tests/tmp/merged", "--force", "tests/tmp/shard0",
                  "tests/tmp/shard0b", "tests/tmp/shard1") == 2);
    CHECK(run_cmd(attn_cmd_merge, "merge", "-o", "tests/tmp/merged", "tests/tmp/shard0", "tests/tmp/shard1") == 2);
    cJSON_Delete(m); cJSON_Delete(whole); cJSON_Delete(sh[0]); cJSON_Delete(sh[1]);
}

TEST(compare_history_marks_regressions)
{
    cJSON *r1 = make_doc(3, 51, 1.0, 15, 15, 0.02, 0.02);
    cJSON *r2 = make_doc(3, 52, 1.0, 15, 15, 0.02, 0.02);
    cJSON *r3 = make_doc(3, 53, 1.0, 15, 15, 0.02, 0.02);
    scale_doc(r3, 1.3);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r2, "context"), "git_sha", cJSON_CreateString("def456"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r3, "context"), "git_sha", cJSON_CreateString("0a1b2c"));
    write_doc("tests/tmp/hist1", r1);
    write_doc("tests/tmp/hist2", r2);
    write_doc("tests/tmp/hist3", r3);
    /* stdout carries the table; keep the test log readable by sending it to a file */
    fflush(stdout);
    int saved = dup(1), fd = open("tests/tmp/history.txt", O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd >= 0) dup2(fd, 1);
    int rc = run_cmd(attn_cmd_history, "history", "tests/tmp/hist1", "tests/tmp/hist2", "tests/tmp/hist3",
                     "-o", "tests/tmp/hist_out", NULL);
    fflush(stdout);
    if (fd >= 0) { dup2(saved, 1); close(fd); }
    close(saved);
    CHECK(rc == 0);
    CHECK(file_contains("tests/tmp/history.txt", "3 regressions marked"));
    CHECK(file_contains("tests/tmp/history.txt", "0a1b2c"));
    /* the chart goes through plot's writer: data/history.dat holds one block per case
     * (x = run, y = median) and one for the regression marks, all at run 2 */
    char *d = attn_read_file("tests/tmp/hist_out/data/history.dat", NULL);
    int flagged = 0, lines = 0, in_reg = 0;
    for (char *l = d; l && *l; ) {
        double run, y;
        if (!strncmp(l, "# index", 7)) in_reg = !strncmp(strchr(l, ':') ? strchr(l, ':') : l, ": regression", 12);
        else if (*l != '#' && sscanf(l, "%lf %lf", &run, &y) == 2) {
            if (in_reg) { flagged++; CHECK(run == 2); }
            else lines++;
        }
        char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
    CHECK_MSG(lines == 9 && flagged == 3, "lines %d flagged %d", lines, flagged);
    free(d);
    /* the script names the runs on the x axis, escaped as gnuplot strings */
    CHECK(file_contains("tests/tmp/hist_out/data/history.gp", "'0a1b2c' 2"));
    cJSON_Delete(r1); cJSON_Delete(r2); cJSON_Delete(r3);
}
