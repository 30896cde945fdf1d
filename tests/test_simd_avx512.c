/* test_simd_avx512.c: runs vec_avx512.h's primitives for test_simd.c. Compiled with the
 * AVX-512 flags (the _avx512 suffix); test_simd.c calls it only when the CPU has them. */
#if defined(__x86_64__)
#include "../kernels/vec_avx512.h"

void test_simd_exp_avx512(const float *x, float *y, int n);
float test_simd_hmax_avx512(const float *x);
float test_simd_hsum_avx512(const float *x);

/* y[0, n) = a512_exp(x[0, n)), 16 at a time with a masked tail (nothing past y + n). */
void test_simd_exp_avx512(const float *x, float *y, int n)
{
    for (int i = 0; i < n; i += 16) {
        const int w = n - i < 16 ? n - i : 16;
        a512_store(y + i, a512_exp(a512_load(x + i, w)), w);
    }
}

/* Horizontal max / sum of x[0, 16). */
float test_simd_hmax_avx512(const float *x) { return a512_hmax(_mm512_loadu_ps(x)); }
float test_simd_hsum_avx512(const float *x) { return a512_hsum(_mm512_loadu_ps(x)); }
#endif
