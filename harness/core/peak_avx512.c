/* peak_avx512.c: AVX-512F fp32 peak loop (see peak.h).
 *
 * 16 independent 16-lane accumulators, each updated acc = acc * m + a by one vfmadd per
 * round: 16 chains cover a 4-cycle FMA latency on two 512-bit pipes with room to spare,
 * and fit easily in the 32 zmm registers. m < 1 and a small keep values bounded and
 * normal.
 */
#include <immintrin.h>
#include "core/peak.h"

#define N_ACC 16

volatile float attn_peak_sink_avx512;

double attn_peak_loop_avx512(long iters)
{
    const __m512 m = _mm512_set1_ps(0.9999f), a = _mm512_set1_ps(1e-4f);
    __m512 c0 = _mm512_set1_ps(0.50f), c1 = _mm512_set1_ps(0.51f), c2 = _mm512_set1_ps(0.52f);
    __m512 c3 = _mm512_set1_ps(0.53f), c4 = _mm512_set1_ps(0.54f), c5 = _mm512_set1_ps(0.55f);
    __m512 c6 = _mm512_set1_ps(0.56f), c7 = _mm512_set1_ps(0.57f), c8 = _mm512_set1_ps(0.58f);
    __m512 c9 = _mm512_set1_ps(0.59f), c10 = _mm512_set1_ps(0.60f), c11 = _mm512_set1_ps(0.61f);
    __m512 c12 = _mm512_set1_ps(0.62f), c13 = _mm512_set1_ps(0.63f), c14 = _mm512_set1_ps(0.64f);
    __m512 c15 = _mm512_set1_ps(0.65f);
    for (long i = 0; i < iters; i++) {
        c0 = _mm512_fmadd_ps(c0, m, a);   c1 = _mm512_fmadd_ps(c1, m, a);
        c2 = _mm512_fmadd_ps(c2, m, a);   c3 = _mm512_fmadd_ps(c3, m, a);
        c4 = _mm512_fmadd_ps(c4, m, a);   c5 = _mm512_fmadd_ps(c5, m, a);
        c6 = _mm512_fmadd_ps(c6, m, a);   c7 = _mm512_fmadd_ps(c7, m, a);
        c8 = _mm512_fmadd_ps(c8, m, a);   c9 = _mm512_fmadd_ps(c9, m, a);
        c10 = _mm512_fmadd_ps(c10, m, a); c11 = _mm512_fmadd_ps(c11, m, a);
        c12 = _mm512_fmadd_ps(c12, m, a); c13 = _mm512_fmadd_ps(c13, m, a);
        c14 = _mm512_fmadd_ps(c14, m, a); c15 = _mm512_fmadd_ps(c15, m, a);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    __m512 t = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                             _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15)));
    attn_peak_sink_avx512 = _mm512_reduce_add_ps(_mm512_add_ps(s, t));
    return 2.0 * 16 * N_ACC * (double)iters;
}
