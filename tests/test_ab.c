/* test_ab.c: attnbench ab: pooling rounds, the paired verdicts on a drifting machine, and
 * an A/A run of the binary against itself end to end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/ab.h"
#include "core/stats.h"
#include "record/results.h"
#include "test.h"

/* A pooled case as attn_ab_pool leaves it: one sample per round (its median). */
static cJSON *pooled(const char *kernel, const double *med, int rounds)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "kernel", kernel);
    cJSON_AddStringToObject(c, "status", "ok");
    cJSON *p = cJSON_AddObjectToObject(c, "params");
    cJSON_AddNumberToObject(p, "heads", 2);
    cJSON *t = cJSON_AddObjectToObject(c, "time_s");
    double s = 0;
    for (int r = 0; r < rounds; r++) s += med[r];
    cJSON_AddNumberToObject(t, "median", s / rounds);
    cJSON_AddItemToObject(t, "samples", cJSON_CreateDoubleArray(med, rounds));
    cJSON_AddItemToObject(c, "ab_round_medians", cJSON_CreateDoubleArray(med, rounds));
    return c;
}

static cJSON *doc_of(void)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddObjectToObject(d, "context");
    cJSON_AddArrayToObject(d, "cases");
    return d;
}

TEST(ab_paired_verdicts_on_a_drifting_machine)
{
    /* the machine slows by up to 2x between rounds; within a round both builds see it */
    const double drift[6] = { 1.0, 1.6, 0.9, 2.0, 1.2, 1.4 };
    const double jit[6] = { 1.01, 0.99, 1.02, 0.98, 1.0, 1.01 };
    /* an A/A case measured under a load average of 7: every round slower, by 10-40% */
    const double loaded[6] = { 1.36, 1.15, 1.10, 1.12, 1.35, 1.40 };
    const char *kernels[5] = { "same1", "same2", "slower", "noisy", "loaded" };
    cJSON *base = doc_of(), *new_ = doc_of();
    for (int k = 0; k < 5; k++) {
        double a[6], b[6];
        for (int r = 0; r < 6; r++) {
            a[r] = 1e-3 * drift[r];
            b[r] = a[r] * jit[r];
            if (k == 2) b[r] *= 1.25;                        /* 25% more work */
            if (k == 3) b[r] *= (r % 2 ? 1.5 : 0.7);         /* rounds that disagree */
            if (k == 4) b[r] = a[r] * loaded[r];             /* p < 0.01, interval +-10% */
        }
        cJSON_AddItemToArray(cJSON_GetObjectItem(base, "cases"), pooled(kernels[k], a, 6));
        cJSON_AddItemToArray(cJSON_GetObjectItem(new_, "cases"), pooled(kernels[k], b, 6));
    }
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_cmp_report r;
    CHECK(attn_compare_cases(base, new_, &o, &r) == 0);
    attn_ab_judge(&r, &o);
    CHECK(r.n == 5);
    for (int i = 0; i < r.n; i++) {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(r.cases[i].base, "kernel"));
        attn_verdict want = !strcmp(k, "slower") ? CMP_REGRESSED :
                            !strcmp(k, "noisy") || !strcmp(k, "loaded") ? CMP_INCONCLUSIVE : CMP_UNCHANGED;
        CHECK_MSG(r.cases[i].verdict == want, "%s: %s (ratio %.3f, p %.3g)", k,
                  attn_verdict_name(r.cases[i].verdict), r.cases[i].ratio, r.cases[i].p);
        if (!strcmp(k, "slower")) CHECK_NEAR(r.cases[i].ratio, 1.25, 0.02);
        if (!strcmp(k, "loaded")) CHECK(r.cases[i].p < 0.01);       /* the t-test alone calls it */
    }
    CHECK(attn_cmp_exit_code(&r) == 1);
    attn_cmp_report_free(&r);
    cJSON_Delete(base);
    cJSON_Delete(new_);
}

TEST(ab_pool_keeps_every_round)
{
    double m1[2] = { 1e-3, 2e-3 }, m2[2] = { 3e-3, 5e-3 };
    cJSON *rounds[3] = { pooled("k", m1, 2), NULL, pooled("k", m2, 2) };
    cJSON *p = attn_ab_pool(rounds, 3);
    CHECK(p != NULL);
    const cJSON *t = cJSON_GetObjectItem(p, "time_s");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(t, "samples")) == 4);
    CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(t, "median")), 2.5e-3, 1e-12);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(t, "rounds")) == 3);
    const cJSON *m = cJSON_GetObjectItem(p, "ab_round_medians");
    CHECK(cJSON_GetArraySize(m) == 3 && cJSON_IsNull(cJSON_GetArrayItem(m, 1)));
    /* a round that failed makes the pooled case fail with that round's status */
    cJSON_ReplaceItemInObject(rounds[2], "status", cJSON_CreateString("crashed"));
    cJSON *q = attn_ab_pool(rounds, 3);
    CHECK(q && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(q, "status")), "crashed"));
    cJSON_Delete(p);
    cJSON_Delete(q);
    for (int i = 0; i < 3; i++) cJSON_Delete(rounds[i]);
}

/* One round's record of a case as `run --case` writes it: samples and their median. */
static cJSON *round_case(const char *kernel, const double *x, int n)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "kernel", kernel);
    cJSON_AddStringToObject(c, "status", "ok");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(c, "params"), "heads", 2);
    attn_stats st;
    attn_stats_compute(x, n, &st);
    cJSON *t = cJSON_AddObjectToObject(c, "time_s");
    cJSON_AddNumberToObject(t, "median", st.median);
    cJSON_AddItemToObject(t, "samples", cJSON_CreateDoubleArray(x, n));
    return c;
}

/* A process that takes the core for part of a round slows the calls it overlaps: here 12
 * of NEW's 20 calls in rounds 2 and 5 take twice as long, which doubles those rounds'
 * medians. Judged by each round's fastest call, the same build stays unchanged and a
 * build 25% slower is still found with the same disturbance. */
TEST(ab_judges_the_fastest_call_of_each_round)
{
    const int R = 6, N = 20;
    for (int slower = 0; slower < 2; slower++) {
        cJSON *rb[6], *rn[6];
        for (int r = 0; r < R; r++) {
            double xb[20], xn[20], drift = 1 + 0.3 * (r % 3);      /* the machine drifts */
            for (int k = 0; k < N; k++) {
                double jit = 1 + 0.004 * ((k * 7 + r * 3) % 5);
                xb[k] = 1e-3 * drift * jit;
                xn[k] = 1e-3 * drift * (1 + 0.004 * ((k * 3 + r) % 5)) * (slower ? 1.25 : 1);
                if ((r == 1 || r == 4) && k < 12) xn[k] *= 2;       /* the disturber */
            }
            rb[r] = round_case("k", xb, N);
            rn[r] = round_case("k", xn, N);
        }
        cJSON *base = doc_of(), *new_ = doc_of();
        cJSON_AddItemToArray(cJSON_GetObjectItem(base, "cases"), attn_ab_pool(rb, R));
        cJSON_AddItemToArray(cJSON_GetObjectItem(new_, "cases"), attn_ab_pool(rn, R));
        const cJSON *pc = cJSON_GetArrayItem(cJSON_GetObjectItem(new_, "cases"), 0);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(pc, "ab_round_mins")) == R);
        CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetArrayItem(cJSON_GetObjectItem(pc, "ab_round_medians"), 1)),
                   2 * 1.3e-3 * (slower ? 1.25 : 1), 2e-5);   /* the disturbed round's median */
        attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
        attn_cmp_report r;
        CHECK(attn_compare_cases(base, new_, &o, &r) == 0);
        attn_ab_judge(&r, &o);
        attn_verdict want = slower ? CMP_REGRESSED : CMP_UNCHANGED;
        CHECK_MSG(r.n == 1 && r.cases[0].verdict == want, "%s build: %s (ratio %.3f, p %.3g) %s",
                  slower ? "slower" : "same", attn_verdict_name(r.cases[0].verdict), r.cases[0].ratio,
                  r.cases[0].p, r.cases[0].note);
        CHECK_NEAR(r.cases[0].ratio, slower ? 1.25 : 1.0, 0.02);
        attn_cmp_report_free(&r);
        cJSON_Delete(base);
        cJSON_Delete(new_);
        for (int k = 0; k < R; k++) { cJSON_Delete(rb[k]); cJSON_Delete(rn[k]); }
    }
}

/* Whole processes slowed (a neighbour on the core's SMT sibling or another VM on the
 * host: the thread's CPU time grows too): round 2 of NEW and round 5 of BASE run 1.9x and
 * 1.7x slower, fastest call included. Measured on this project's Zen 3 VM, rounds
 * like these made 4-27 of 40 cases of a quiet A/A run inconclusive, their intervals
 * +-10-40% wide. Left out as disturbed, the same build is unchanged and a build 25%
 * slower regressed, the two rounds named in the note. With three of the six rounds hit
 * there is no clean majority: nothing is left out and the case stays inconclusive. */
TEST(ab_leaves_out_disturbed_rounds)
{
    const double jit[6] = { 1.01, 0.99, 1.02, 0.98, 1.0, 1.01 }, drift[6] = { 1, 1.2, 0.9, 1.1, 1, 1.3 };
    for (int slower = 0; slower < 3; slower++) {
        double a[6], b[6];
        for (int r = 0; r < 6; r++) {
            a[r] = 1e-3 * drift[r];
            b[r] = a[r] * jit[r] * (slower ? 1.25 : 1);
        }
        b[1] *= 1.9; a[4] *= 1.7;
        if (slower == 2) b[2] *= 1.6;
        cJSON *base = doc_of(), *new_ = doc_of();
        cJSON_AddItemToArray(cJSON_GetObjectItem(base, "cases"), pooled("k", a, 6));
        cJSON_AddItemToArray(cJSON_GetObjectItem(new_, "cases"), pooled("k", b, 6));
        attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
        attn_cmp_report r;
        CHECK(attn_compare_cases(base, new_, &o, &r) == 0);
        attn_ab_judge(&r, &o);
        attn_verdict want = slower == 2 ? CMP_INCONCLUSIVE : slower ? CMP_REGRESSED : CMP_UNCHANGED;
        CHECK_MSG(r.n == 1 && r.cases[0].verdict == want, "%s build: %s (ratio %.3f [%.3f, %.3f]) %s",
                  slower == 2 ? "three rounds hit, slower" : slower ? "slower" : "same", attn_verdict_name(r.cases[0].verdict), r.cases[0].ratio,
                  r.cases[0].ci_low, r.cases[0].ci_high, r.cases[0].note);
        if (slower == 2) {
            CHECK(r.cases[0].rounds_dropped == 0 && !strstr(r.cases[0].note, "left out"));
        } else {
            CHECK_NEAR(r.cases[0].ratio, slower ? 1.25 : 1.0, 0.02);
            CHECK(r.cases[0].rounds_dropped == 2 && strstr(r.cases[0].note, "2 of 6 rounds left out"));
        }
        attn_cmp_report_free(&r);
        cJSON_Delete(base);
        cJSON_Delete(new_);
    }
}

/* --more-rounds, end to end with two fake builds (shell scripts that answer `run ...
 * --case ID -o DIR` with a results file): NEW's rounds 2, 4 and 6 are 1.5x slower, as if
 * a disturbance came and went, rounds after the 6th are clean. Six rounds cannot judge
 * that (half the rounds hit: nothing is left out): exit 3. Six more rounds of the case
 * give 9 clean rounds of 12, the 3 hit ones are left out: unchanged, exit 0. */
TEST(ab_more_rounds_for_inconclusive_cases)
{
    char ini[512], fake[2][512], err[4096], dir[600];
    const char *tmp = test_tmpdir();
    snprintf(ini, sizeof ini, "%s/more.ini", tmp);
    test_write_text(ini, "[more]\nkernels = naive\nheads = 2\nseq_len = 8\n");
    for (int side = 0; side < 2; side++) {
        snprintf(fake[side], sizeof fake[side], "%s/fake-%s.sh", tmp, side ? "new" : "base");
        char text[2048];
        snprintf(text, sizeof text,
                 "#!/bin/sh\n"
                 "[ \"$2\" = --thread-clock ] && exit 2\n"      /* an old build: wall clock */
                 "out=\n"
                 "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n"
                 "n=$(cat \"%s/count-%d\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > \"%s/count-%d\"\n"
                 "t=0.001\n"
                 "if [ %d = 1 ] && [ $n -le 6 ] && [ $((n %% 2)) = 0 ]; then t=0.0015; fi\n"
                 "if [ %d = 1 ] && [ $((n %% 3)) = 1 ]; then t=${t}01; fi\n"   /* +0.1% jitter */
                 "mkdir -p \"$out\"\n"
                 "printf '{\"schema\":1,\"context\":{},\"cases\":[{\"id\":\"x\",\"kernel\":\"naive\","
                 "\"status\":\"ok\",\"params\":{\"heads\":2,\"seq_len\":8},"
                 "\"time_s\":{\"median\":%%s,\"samples\":[%%s,%%s,%%s]}}]}' $t $t $t $t > \"$out/results.json\"\n",
                 tmp, side, tmp, side, side, side);
        test_write_text(fake[side], text);
    }
    CHECK(test_sh(err, sizeof err, "chmod +x %s %s", fake[0], fake[1]) == 0);
    for (int more = 0; more < 2; more++) {
        CHECK(test_sh(err, sizeof err, "rm -f %s/count-0 %s/count-1", tmp, tmp) == 0);
        snprintf(dir, sizeof dir, "%s/more%d", tmp, more);
        int rc = test_sh(err, sizeof err, "%s ab %s --base %s --new %s -q -o %s --more-rounds %d",
                         test_bin(), ini, fake[0], fake[1], dir, more ? 6 : 0);
        CHECK_MSG(rc == (more ? 0 : 3), "--more-rounds %d: exit %d: %s", more ? 6 : 0, rc, err);
        char path[700];
        snprintf(path, sizeof path, "%s/new", dir);
        cJSON *doc = attn_results_load(path, err, sizeof err);
        CHECK_MSG(doc != NULL, "%s", err);
        if (!doc) continue;
        const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "cases"), 0);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(c, "ab_round_mins")) == (more ? 12 : 6));
        const cJSON *ab = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "context"), "ab");
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(ab, "cases_given_more_rounds")) == more);
        cJSON_Delete(doc);
    }
}

/* Noise across cases. 20 cases of the same build, each case's rounds shifted alike by its
 * own factor (a disturbance that hit one side of a case in every round): paired t-tests
 * alone call some of them; with +-1% such noise the gate stays quiet, three cases 25% slower
 * are found and a build 15% slower everywhere is regressed everywhere (pairing removed the
 * machine, so the common change is the build's); with +-20% every case is inconclusive. */
TEST(ab_noise_across_cases)
{
    const int N = 20, R = 6;
    struct { double noise, everywhere; int planted; attn_verdict others; int rc; } runs[] = {
        { 0.01, 1.0, 1, CMP_UNCHANGED, 1 },
        { 0.01, 1.15, 0, CMP_REGRESSED, 1 },
        { 0.20, 1.0, 0, CMP_INCONCLUSIVE, ATTN_EXIT_INCONCLUSIVE },
    };
    for (int k = 0; k < 3; k++) {
        cJSON *base = doc_of(), *new_ = doc_of();
        unsigned s = 12345;
        for (int i = 0; i < N; i++) {
            double a[6], b[6], u = 0;
            for (int j = 0; j < 12; j++) { s = s * 1103515245u + 12345u; u += (s >> 8) / 16777216.0; }
            double f = exp(runs[k].noise * (u - 6)) * runs[k].everywhere;   /* ~ N(0, noise) */
            if (runs[k].planted && i % 7 == 3) f *= 1.25;
            for (int r = 0; r < R; r++) {
                a[r] = 1e-3 * (1 + 0.3 * (r % 3)) * (1 + 0.003 * ((i + r) % 3));
                b[r] = a[r] * f * (1 + 0.003 * ((i * 5 + r) % 3));
            }
            char name[16];
            snprintf(name, sizeof name, "k%d", i);
            cJSON_AddItemToArray(cJSON_GetObjectItem(base, "cases"), pooled(name, a, R));
            cJSON_AddItemToArray(cJSON_GetObjectItem(new_, "cases"), pooled(name, b, R));
        }
        attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
        attn_cmp_report r;
        CHECK(attn_compare_cases(base, new_, &o, &r) == 0);
        attn_ab_judge(&r, &o);
        int wrong = 0;
        for (int i = 0; i < r.n; i++) {
            attn_verdict want = runs[k].planted && i % 7 == 3 ? CMP_REGRESSED : runs[k].others;
            if (r.cases[i].verdict != want && wrong++ < 3)
                fprintf(stderr, "    run %d case %d: %s (ratio %.3f, p %.2g) %s\n", k, i,
                        attn_verdict_name(r.cases[i].verdict), r.cases[i].ratio, r.cases[i].p, r.cases[i].note);
        }
        CHECK_MSG(wrong == 0, "run %d: %d cases judged wrongly", k, wrong);
        CHECK(attn_cmp_exit_code(&r) == runs[k].rc);
        CHECK(r.heavy_noise == (k == 2));
        attn_cmp_report_free(&r);
        cJSON_Delete(base);
        cJSON_Delete(new_);
    }
}

/* The binary against itself: both sides hold every case, with every round's samples;
 * the same build does not regress (0 or 3, not 1). These cases take microseconds, and on
 * a machine loaded by other jobs one of them can be flagged by chance (seen once in a
 * make test at load 4): a 1 is rerun once, and the same build regressing twice running is
 * the failure. */
TEST(ab_binary_against_itself)
{
    char ini[512], dir[512], err[4096];
    snprintf(ini, sizeof ini, "%s/ab.ini", test_tmpdir());
    test_write_text(ini, "[ab]\nkernels = naive, blocked\nheads = 2\nseq_len = 17, 40\nmin_time = 0\nreps = 3\n");
    int rc = 1;
    for (int attempt = 0; attempt < 2 && rc == 1; attempt++) {
        snprintf(dir, sizeof dir, "%s/ab%d", test_tmpdir(), attempt);  /* ab refuses an old -o */
        rc = test_sh(err, sizeof err, "%s ab %s --base %s --new %s --rounds 3 -q -o %s",
                     test_bin(), ini, test_bin(), test_bin(), dir);
    }
    CHECK_MSG(rc == 0 || rc == 3, "exit %d: %s", rc, err);
    for (int s = 0; s < 2; s++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, s ? "new" : "base");
        cJSON *doc = attn_results_load(path, err, sizeof err);
        CHECK_MSG(doc != NULL, "%s", err);
        if (!doc) continue;
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases")) == 4);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
            const cJSON *t = cJSON_GetObjectItem(c, "time_s");
            /* 3 rounds, or 3 + 6 (--more-rounds) for a case the 3 left inconclusive; 3 calls each */
            int rounds = cJSON_GetArraySize(cJSON_GetObjectItem(c, "ab_round_medians"));
            CHECK_MSG(rounds == 3 || rounds == 9, "%d rounds", rounds);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(t, "samples")) == 3 * rounds);
            /* 1-thread cases, both builds know --thread-clock: timed by the thread's CPU time */
            const cJSON *clk = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "settings"), "clock");
            CHECK(cJSON_IsString(clk) && !strcmp(clk->valuestring, "thread_cpu"));
        }
        cJSON_Delete(doc);
    }
    /* --judge: the rounds written judged again, to the same exit code; nothing timed */
    int rc2 = test_sh(err, sizeof err, "%s ab --judge %s --format json > %s/judge.json", test_bin(), dir,
                      test_tmpdir());
    CHECK_MSG(rc2 == rc, "ab exited %d, ab --judge %d: %s", rc, rc2, err);
    rc2 = test_sh(err, sizeof err, "%s ab --judge %s/nothing-here", test_bin(), test_tmpdir());
    CHECK(rc2 == 2 && strstr(err, "nothing-here/base/results.json"));
    rc2 = test_sh(err, sizeof err, "%s ab %s --judge %s", test_bin(), ini, dir);
    CHECK(rc2 == 2 && strstr(err, "times nothing"));
    /* a base binary that is not one is refused before anything runs */
    rc = test_sh(err, sizeof err, "%s ab %s --base /nonexistent --new %s -q -o %s/ab2", test_bin(), ini,
                 test_bin(), test_tmpdir());
    CHECK(rc == 2 && strstr(err, "not an executable"));
}
