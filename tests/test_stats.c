/* test_stats.c: summary statistics (harness/stats.c) on data with hand-computed answers. */
#include <string.h>

#include "core/stats.h"
#include "test.h"

TEST(stats_one_to_ten)
{
    /* 1..10 shuffled: the caller's order must survive */
    double x[10] = { 7, 3, 10, 1, 5, 9, 2, 8, 6, 4 }, copy[10];
    memcpy(copy, x, sizeof x);
    attn_stats s;
    attn_stats_compute(x, 10, &s);
    CHECK(!memcmp(x, copy, sizeof x));
    CHECK(s.n == 10);
    CHECK_NEAR(s.median, 5.5, 1e-12);
    CHECK_NEAR(s.min, 1, 0);
    CHECK_NEAR(s.max, 10, 0);
    CHECK_NEAR(s.mean, 5.5, 1e-12);
    /* sum of squared deviations 82.5, over n-1 = 9 */
    CHECK_NEAR(s.stddev, sqrt(82.5 / 9), 1e-12);
    CHECK_NEAR(s.cv, sqrt(82.5 / 9) / 5.5, 1e-12);
    /* |x - 5.5| = 0.5 0.5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 4.5: median 2.5 */
    CHECK_NEAR(s.mad, 2.5, 1e-12);
    /* exact binomial, n = 10: P(X <= 1) = 11/1024 <= 0.025 < P(X <= 2) = 56/1024,
     * so ranks 2 and 9 */
    CHECK_NEAR(s.ci_low, 2, 0);
    CHECK_NEAR(s.ci_high, 9, 0);
    /* Q1 = 3.25, Q3 = 7.75, fences -3.5 and 14.5: nothing outside */
    CHECK(s.outliers_low == 0 && s.outliers_high == 0);
}

TEST(stats_planted_outliers)
{
    /* 10..19 with -40 and 100 planted in the middle of the array */
    double x[12] = { 10, 11, 12, 13, 14, -40, 100, 15, 16, 17, 18, 19 };
    attn_stats s;
    attn_stats_compute(x, 12, &s);
    /* sorted: -40 10 11 ... 19 100; type 7: Q1 at rank 2.75 = 11.75, Q3 at 8.25 = 17.25,
     * IQR 5.5, fences 3.5 and 25.5: -40 below, 100 above */
    CHECK(s.outliers_low == 1);
    CHECK(s.outliers_high == 1);
    CHECK_NEAR(s.median, 14.5, 1e-12);
    CHECK_NEAR(s.mean, 205.0 / 12, 1e-12);
    CHECK_NEAR(s.min, -40, 0);
    CHECK_NEAR(s.max, 100, 0);
    /* |x - 14.5| sorted: .5 .5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 4.5 54.5 85.5: median 3 */
    CHECK_NEAR(s.mad, 3.0, 1e-12);
    /* n = 12: P(X <= 2) = 79/4096 <= 0.025 < P(X <= 3) = 299/4096: ranks 3 and 10 */
    CHECK_NEAR(s.ci_low, 11, 0);
    CHECK_NEAR(s.ci_high, 18, 0);
}

TEST(stats_constant_data)
{
    double x[7] = { 3, 3, 3, 3, 3, 3, 3 };
    attn_stats s;
    attn_stats_compute(x, 7, &s);
    CHECK_NEAR(s.median, 3, 0);
    CHECK_NEAR(s.stddev, 0, 0);
    CHECK_NEAR(s.cv, 0, 0);
    CHECK_NEAR(s.mad, 0, 0);
    CHECK_NEAR(s.ci_high - s.ci_low, 0, 0);
    CHECK(s.outliers_low == 0 && s.outliers_high == 0);
}

TEST(stats_zero_and_one_sample)
{
    attn_stats s;
    attn_stats_compute(NULL, 0, &s);
    CHECK(s.n == 0);
    CHECK(s.median == 0 && s.mean == 0 && s.stddev == 0 && s.cv == 0 && s.ci_low == 0);
    double one = 0.125;
    attn_stats_compute(&one, 1, &s);
    CHECK(s.n == 1);
    CHECK(s.median == 0.125 && s.min == 0.125 && s.max == 0.125 && s.mean == 0.125);
    CHECK(s.stddev == 0 && s.cv == 0 && s.mad == 0);     /* no 0/0 from n - 1 */
    CHECK(s.ci_low == 0.125 && s.ci_high == 0.125);
    CHECK(s.outliers_low == 0 && s.outliers_high == 0);
}

TEST(stats_median_ci_ranks)
{
    /* data i+1 at index i, so a CI bound equals its rank */
    static double x[10000];
    for (int i = 0; i < 10000; i++) x[i] = i + 1;
    attn_stats s;
    /* n = 6: P(X = 0) = 1/64 <= 0.025 < P(X <= 1) = 7/64: k = 1, [min, max] */
    attn_stats_compute(x, 6, &s);
    CHECK(s.ci_low == 1 && s.ci_high == 6);
    /* n = 9: P(X <= 1) = 10/512 <= 0.025 < P(X <= 2) = 46/512: ranks 2 and 8 */
    attn_stats_compute(x, 9, &s);
    CHECK(s.ci_low == 2 && s.ci_high == 8);
    /* n = 5: P(X = 0) = 1/32 > 0.025: no rank qualifies, [min, max] */
    attn_stats_compute(x, 5, &s);
    CHECK(s.ci_low == 1 && s.ci_high == 5);
    /* n = 20: ranks 6 and 15 (P(X <= 5) = 0.0207, P(X <= 6) = 0.0577) */
    attn_stats_compute(x, 20, &s);
    CHECK(s.ci_low == 6 && s.ci_high == 15);
    /* large n: close to the normal approximation n/2 -+ 0.98 sqrt(n) = 4902 / 5099,
     * symmetric, and no underflow */
    attn_stats_compute(x, 10000, &s);
    CHECK_NEAR(s.ci_low, 4902, 2);
    CHECK_NEAR(s.ci_high, 10001 - s.ci_low, 0);
}

TEST(stats_quantile_type7)
{
    double x[4] = { 1, 2, 3, 4 };
    CHECK_NEAR(attn_quantile_sorted(x, 4, 0), 1, 0);
    CHECK_NEAR(attn_quantile_sorted(x, 4, 1), 4, 0);
    CHECK_NEAR(attn_quantile_sorted(x, 4, 0.25), 1.75, 1e-12);   /* rank 0.75 */
    CHECK_NEAR(attn_quantile_sorted(x, 4, 0.5), 2.5, 1e-12);
    CHECK_NEAR(attn_quantile_sorted(x, 4, 0.9), 3.7, 1e-12);     /* rank 2.7 */
    CHECK_NEAR(attn_quantile_sorted(x, 1, 0.3), 1, 0);
}

/* Student's t against tabulated values, and the paired rounds on planted data. */
TEST(stats_student_t_and_paired_rounds)
{
    CHECK_NEAR(attn_student_t_quantile(0.975, 1), 12.7062, 1e-3);
    CHECK_NEAR(attn_student_t_quantile(0.975, 5), 2.5706, 1e-4);
    CHECK_NEAR(attn_student_t_quantile(0.95, 3), 2.3534, 1e-4);
    CHECK_NEAR(attn_student_t_quantile(0.995, 30), 2.7500, 1e-4);
    CHECK_NEAR(attn_student_t_p2(2.0, 10), 0.07339, 1e-4);
    CHECK_NEAR(attn_student_t_p2(0.0, 4), 1.0, 1e-12);

    /* a machine that drifts by +-30% between rounds, and a build 25% slower: the paired
     * ratio sees 1.25 with a tight interval; unpaired medians would not */
    double drift[6] = { 1.0, 1.3, 0.8, 1.1, 0.7, 1.25 }, jitter[6] = { 1.01, 0.99, 1.0, 1.02, 0.98, 1.0 };
    double a[6], b[6], r, lo, hi, p;
    for (int i = 0; i < 6; i++) { a[i] = 1e-3 * drift[i]; b[i] = 1.25e-3 * drift[i] * jitter[i]; }
    attn_paired_ratio(a, b, 6, 0.90, &r, &lo, &hi, &p);
    CHECK_NEAR(r, 1.25, 0.01);
    CHECK(lo > 1.22 && hi < 1.28);
    CHECK(p < 1e-6);
    /* the same build twice: ratio near 1, p large */
    for (int i = 0; i < 6; i++) b[i] = a[i] * jitter[i];
    attn_paired_ratio(a, b, 6, 0.90, &r, &lo, &hi, &p);
    CHECK_NEAR(r, 1.0, 0.01);
    CHECK(lo < 1 && hi > 1 && p > 0.1);
    /* a missing side drops that round; one round left: no interval */
    b[0] = NAN; a[1] = 0;
    attn_paired_ratio(a, b, 3, 0.90, &r, &lo, &hi, &p);
    CHECK(isnan(lo) && isnan(p) && r > 0);
}

/* Rounds a disturbance hit: a process slowed as a whole moves one side of one round by
 * 1.3-2x; such rounds are dropped, a change of the build (every round alike) never is,
 * and without a clean majority nothing is. */
TEST(stats_paired_disturbed_rounds)
{
    const double drift[8] = { 1.0, 1.3, 0.8, 1.1, 0.7, 1.25, 0.9, 1.05 };
    const double jit[8] = { 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99 };
    double a[8], b[8];
    unsigned char drop[8];
    for (int slower = 0; slower < 2; slower++) {
        for (int i = 0; i < 8; i++) { a[i] = 1e-3 * drift[i]; b[i] = a[i] * jit[i] * (slower ? 1.25 : 1); }
        CHECK(attn_paired_disturbed(a, b, 8, drop) == 0);       /* a change alone is kept */
        b[2] *= 1.8; a[5] *= 1.6;                               /* two disturbed processes */
        CHECK(attn_paired_disturbed(a, b, 8, drop) == 2);
        for (int i = 0; i < 8; i++) CHECK(drop[i] == (i == 2 || i == 5));
        b[6] *= 1.07;                                           /* 7%: within the 10% floor */
        CHECK(attn_paired_disturbed(a, b, 8, drop) == 2 && !drop[6]);
    }
    /* half the rounds 2x apart: no majority to stand out from, nothing dropped */
    for (int i = 0; i < 6; i++) { a[i] = 1e-3; b[i] = i < 3 ? 1e-3 : 2e-3; }
    CHECK(attn_paired_disturbed(a, b, 6, drop) == 0);
    /* a round with a missing side is neither dropped nor counted; under 3 rounds: none */
    for (int i = 0; i < 6; i++) { a[i] = 1e-3; b[i] = 1e-3 * jit[i]; }
    b[1] = NAN; a[3] = 0; b[4] = 3e-3;
    CHECK(attn_paired_disturbed(a, b, 6, drop) == 1 && drop[4] && !drop[1] && !drop[3]);
    CHECK(attn_paired_disturbed(a, b, 2, drop) == 0);
}
