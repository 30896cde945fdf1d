/* test_simd_avx2.c: runs vec_avx2.h's primitives for test_simd.c. Compiled with the
 * AVX2 flags (the _avx2 suffix); test_simd.c calls it only when the CPU has them. */
#if defined(__x86_64__)
#include "../kernels/vec_avx2.h"

void test_simd_exp_avx2(const float *x, float *y, int n);
float test_simd_hmax_avx2(const float *x);
float test_simd_hsum_avx2(const float *x);

/* y[0, n) = a2_exp(x[0, n)), 8 at a time with a masked tail (nothing past y + n). */
void test_simd_exp_avx2(const float *x, float *y, int n)
{
    for (int i = 0; i < n; i += 8) {
        const int w = n - i < 8 ? n - i : 8;
        a2_store(y + i, a2_exp(a2_load(x + i, w)), w);
    }
}

/* Horizontal max / sum of x[0, 8). */
float test_simd_hmax_avx2(const float *x) { return a2_hmax(_mm256_loadu_ps(x)); }
float test_simd_hsum_avx2(const float *x) { return a2_hsum(_mm256_loadu_ps(x)); }
#endif
