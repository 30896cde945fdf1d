/* test_simd.c: the SIMD headers' primitives against libm and plain loops, on every ISA
 * this CPU offers: the polynomial exp to a few ulp over the range softmax uses, exactly
 * 0 for very negative inputs, -inf and NaN (a masked score must never turn into NaN),
 * masked tails that write nothing past the end, horizontal max and sum. The kernels'
 * results are tested against naive in test_kernels.c; this catches an exp that is off by
 * more than the kernels' tolerance would notice. */
#include <float.h>
#include <stdlib.h>
#include "test.h"
#include "attn.h"

#if defined(__x86_64__)
void test_simd_exp_avx2(const float *x, float *y, int n);
float test_simd_hmax_avx2(const float *x);
float test_simd_hsum_avx2(const float *x);
void test_simd_exp_avx512(const float *x, float *y, int n);
float test_simd_hmax_avx512(const float *x);
float test_simd_hsum_avx512(const float *x);

typedef struct {
    attn_isa isa;
    void (*exp)(const float *x, float *y, int n);
    float (*hmax)(const float *x);
    float (*hsum)(const float *x);
    int lanes;
} simd_impl;

static const simd_impl impls[] = {
    { ATTN_ISA_AVX2, test_simd_exp_avx2, test_simd_hmax_avx2, test_simd_hsum_avx2, 8 },
    { ATTN_ISA_AVX512, test_simd_exp_avx512, test_simd_hmax_avx512, test_simd_hsum_avx512, 16 },
};

TEST(simd_exp_accuracy_and_specials)
{
    /* -87 .. 88 in steps of 1/64 (the softmax argument s - max is <= 0; the positive side
     * is there for other users), then the special values; n = 11205 + 6 is not a
     * multiple of 8 or 16, so the masked tail runs */
    const int ngrid = 175 * 64 + 5;
    const float special[] = { -87.5f, -100.0f, -1e30f, -INFINITY, NAN, 0.0f };
    const int nsp = (int)(sizeof special / sizeof special[0]), n = ngrid + nsp;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * (n + 1));
    for (int i = 0; i < ngrid; i++) x[i] = -87.0f + (float)i / 64.0f;
    for (int i = 0; i < nsp; i++) x[ngrid + i] = special[i];

    for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
        if (attn_isa_available() < impls[m].isa) continue;
        const char *isa = attn_isa_name(impls[m].isa);
        y[n] = 12345.0f;                                    /* sentinel past the end */
        impls[m].exp(x, y, n);
        double worst = 0.0;
        for (int i = 0; i < ngrid; i++) {
            double want = exp((double)x[i]), rel = fabs(y[i] - want) / want;
            if (rel > worst) worst = rel;
        }
        CHECK_MSG(worst <= 4.0 * FLT_EPSILON, "%s exp: worst relative error %.3g (%.2f ulp)",
                  isa, worst, worst / FLT_EPSILON);
        for (int i = 0; i < nsp - 1; i++)
            CHECK_MSG(y[ngrid + i] == 0.0f, "%s exp(%g) = %g, want exactly 0", isa, x[ngrid + i],
                      y[ngrid + i]);
        CHECK_MSG(y[n - 1] == 1.0f, "%s exp(0) = %.9g", isa, y[n - 1]);
        CHECK_MSG(y[n] == 12345.0f, "%s exp wrote past the end of its tail", isa);
    }
    free(x);
    free(y);
}

TEST(simd_horizontal_max_and_sum)
{
    float v[16];
    for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
        if (attn_isa_available() < impls[m].isa) continue;
        const int n = impls[m].lanes;
        for (int pos = 0; pos < n; pos++) {                 /* the max in every lane */
            double sum = 0.0;
            for (int i = 0; i < n; i++) { v[i] = (float)(i % 5) - 7.0f; sum += v[i]; }
            v[pos] = 3.5f;
            sum += 3.5 - ((pos % 5) - 7.0);
            CHECK_MSG(impls[m].hmax(v) == 3.5f, "%s hmax, max in lane %d", attn_isa_name(impls[m].isa), pos);
            CHECK_NEAR(impls[m].hsum(v), sum, 1e-5);
        }
    }
}
#endif

/* vec_portable.h's p_exp (flash, blas), a loop GCC vectorises: against double exp over
 * a dense sweep of [-100, 0] (step 2^-10): relative error <= 1.2e-7 (the bound its comment
 * states) where e^x is a normal float, absolute error < FLT_MIN where it is subnormal or
 * below (the result is then a subnormal or exactly 0); -inf and -NaN give exactly 0,
 * 0 and -0 give 1. */
#include "../kernels/vec_portable.h"
TEST(portable_exp_accuracy_and_specials)
{
    const int n = 100 * 1024 + 1;
    float *x = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) x[i] = -100.0f + (float)i / 1024.0f;
    for (int i = 0; i < n; i++) x[i] = p_exp(x[i]);
    double worst = 0.0, worst_abs = 0.0;
    int subnormal = 0;
    for (int i = 0; i < n; i++) {
        const double xi = -100.0 + (double)i / 1024.0, want = exp(xi);
        if (want >= FLT_MIN) {
            const double rel = fabs(x[i] - want) / want;
            if (rel > worst) worst = rel;
        } else {
            const double a = fabs(x[i] - want);
            if (a > worst_abs) worst_abs = a;
            if (x[i] > 0.0f && x[i] < FLT_MIN) subnormal++;
        }
    }
    CHECK_MSG(worst <= 1.2e-7, "p_exp: worst relative error %.3g", worst);
    CHECK_MSG(worst_abs < FLT_MIN, "p_exp: worst absolute error below FLT_MIN %.3g", worst_abs);
    CHECK_MSG(subnormal > 0, "p_exp: no subnormal result in (-87.68, -87.33)");
    CHECK(p_exp(-INFINITY) == 0.0f);
    CHECK(p_exp(-NAN) == 0.0f);
    CHECK(p_exp(-1e30f) == 0.0f);
    CHECK(p_exp(0.0f) == 1.0f);
    CHECK(p_exp(-0.0f) == 1.0f);
    free(x);
}
