/* vec_portable.h: the portable (plain C) versions of the flash primitives of
 * vec_avx2.h / vec_avx512.h, with the same contracts (see vec_avx512.h and flash_tile.h):
 * their inner loops run over P_LANES query rows (scores, softmax) or over Dv (P V) with
 * unit stride, which the compiler vectorises for the baseline ISA, exp included: p_exp
 * is branch-free plain C (libm's expf is a call per element that GCC cannot vectorise
 * without -ffast-math). No intrinsics; used by flash.c (the flash primitives), decode.c
 * (p_dot) and blas.c (p_exp).
 */
#ifndef VEC_PORTABLE_H
#define VEC_PORTABLE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* e^x for x <= 88 (a score minus its row max is <= 0): Cephes expf. x = n ln2 + r with
 * n = round(x log2 e) and |r| <= ln2/2 (ln2 split in two so n ln2 is exact), e^r =
 * 1 + r + r^2 P(r) with P of degree 5, and 2^n built in the float's exponent field.
 *
 * Clamp: x below -88 (-inf, and NaN with the sign bit, included) is read as -88. Done on
 * the bits as an unsigned min (negative floats sort above positive ones as unsigned, and
 * by magnitude among themselves), so that the loop stays branch-free: a float compare
 * would be kept as a branch under GCC's default -ftrapping-math, and no loop over it
 * would vectorise. x <= -87.68 then has n = -127, 2^n is the bit pattern 0, and the
 * result is exactly 0: -inf (a masked score) gives 0, never NaN.
 *
 * Accuracy, measured over every float in [-88, 0] against double exp: max relative error
 * 1.18e-7 (1.0 FLT_EPSILON) where e^x is a normal float (x >= -87.33); below that the
 * result is a subnormal or 0, absolute error under 8.4e-39 (< FLT_MIN). Positive x up to
 * 88.37 is as accurate; above, n = 128 overflows the exponent field (inf, then nonsense):
 * not clamped, as every caller passes x <= 0. GCC -O3 vectorises a loop over it for baseline SSE2 into ~30
 * instructions per 4 floats (pcmpgtd + and/andnot/or for the clamp, cvttps2dq + pslld
 * for 2^n). */
static inline float p_exp(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    b = b < 0xc2b00000u ? b : 0xc2b00000u;          /* 0xc2b00000 = -88.0f */
    float xc;
    memcpy(&xc, &b, sizeof xc);
    /* round to nearest by the 1.5 * 2^23 trick: |xc log2 e| < 2^22 */
    const float t = xc * 1.44269504088896341f + 12582912.0f;
    const float n = t - 12582912.0f;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * (r * r) + (r + 1.0f);
    /* n in [-127, 127]: 2^n as a float is (n + 127) << 23, and 0 for n = -127 */
    const int32_t bits = (int32_t)((uint32_t)((int32_t)n + 127) << 23);
    float e;
    memcpy(&e, &bits, sizeof e);
    return y * e;
}

#define P_LANES 16

/* st[j][r] = scale * sum_d k[j][d] qt[d][r], keys j in [0, nk), rows r in [0, nr). */
static inline void p_scores_t(const float *k, int ldk, int nk, int D, const float *qt, int ldq,
                       int nr, float scale, float *st, int ldst)
{
    for (int j = 0; j < nk; j++) {
        const float *kj = k + (size_t)j * ldk;
        float *s = st + (size_t)j * ldst;
        for (int r = 0; r < nr; r++) s[r] = 0.0f;
        for (int d = 0; d < D; d++) {
            const float kd = kj[d], *qd = qt + (size_t)d * ldq;
            for (int r = 0; r < nr; r++) s[r] += kd * qd[r];
        }
        for (int r = 0; r < nr; r++) s[r] *= scale;
    }
}

/* sum_d a[d] b[d] over [0, n), summed in P_DOT_LANES interleaved partial sums (lane t
 * takes d = t mod P_DOT_LANES) that the compiler keeps in vector registers: a plain
 * `s += a[d] * b[d]` loop is one serial chain of dependent adds (without -ffast-math the
 * compiler may not reorder it): with it the portable decode kernel ran 2x slower. */
#define P_DOT_LANES 16
static inline float p_dot(const float *a, const float *b, int n)
{
    float part[P_DOT_LANES] = { 0 };
    int d = 0;
    for (; d + P_DOT_LANES <= n; d += P_DOT_LANES)
        for (int t = 0; t < P_DOT_LANES; t++) part[t] += a[d + t] * b[d + t];
    for (int t = 0; d + t < n; t++) part[t] += a[d + t] * b[d + t];
    float s = 0.0f;
    for (int t = 0; t < P_DOT_LANES; t++) s += part[t];
    return s;
}

/* Online-softmax update of P_LANES rows against one key tile; contract of
 * a512_softmax_tile (vec_avx512.h). Returns bit r set where row r's max grew.
 * Every loop over r is branch-free (selects, p_exp) so that it vectorises: a masked key
 * becomes -inf, which the max ignores and p_exp turns into exactly 0. The tile's keys
 * are read twice (max, then exp); the exp pass also sums. */
static inline unsigned p_softmax_tile(float *st, int ldst, int nk, int j0, const int *lo,
                               const int *hi, int masked, float *m, float *l, float *corr)
{
    float mt[P_LANES], sum[P_LANES], msub[P_LANES];
    unsigned grew = 0;
    if (masked) {                   /* keys outside a row's band [lo, hi) read as -inf */
        for (int j = 0; j < nk; j++) {
            float *s = st + (size_t)j * ldst;
            for (int r = 0; r < P_LANES; r++)
                s[r] = lo[r] <= j0 + j && j0 + j < hi[r] ? s[r] : -INFINITY;
        }
    }
    for (int r = 0; r < P_LANES; r++) mt[r] = -INFINITY;
    for (int j = 0; j < nk; j++) {
        const float *s = st + (size_t)j * ldst;
        for (int r = 0; r < P_LANES; r++) mt[r] = s[r] > mt[r] ? s[r] : mt[r];
    }
    for (int r = 0; r < P_LANES; r++) {
        const float mnew = mt[r] > m[r] ? mt[r] : m[r];
        corr[r] = 1.0f;
        if (mnew > m[r]) {          /* m = -inf before the first visible key: corr = 0 */
            corr[r] = p_exp(m[r] - mnew);
            grew |= 1u << r;
        }
        m[r] = mnew;
        msub[r] = mnew == -INFINITY ? 0.0f : mnew;
        sum[r] = 0.0f;
    }
    for (int j = 0; j < nk; j++) {
        float *s = st + (size_t)j * ldst;
        for (int r = 0; r < P_LANES; r++) {
            s[r] = p_exp(s[r] - msub[r]);
            sum[r] += s[r];
        }
    }
    for (int r = 0; r < P_LANES; r++) l[r] = l[r] * corr[r] + sum[r];
    return grew;
}

/* x[0, n) *= c. */
static inline void p_scale_row(float *x, int n, float c)
{
    for (int i = 0; i < n; i++) x[i] *= c;
}

/* acc[r][c] += sum_j pt[j][r] v[j][c]; pt (nk, ldp), v (nk, ldv), acc (nr, lda). */
static inline void p_pv(const float *pt, int ldp, int nk, const float *v, int ldv, int Dv,
                 float *acc, int lda, int nr)
{
    for (int r = 0; r < nr; r++) {
        float *a = acc + (size_t)r * lda;
        for (int j = 0; j < nk; j++) {
            const float pj = pt[(size_t)j * ldp + r];
            const float *vj = v + (size_t)j * ldv;
            if (pj == 0.0f) continue;           /* masked key */
            for (int c = 0; c < Dv; c++) a[c] += pj * vj[c];
        }
    }
}

/* out[0, n) = acc[0, n) * c. */
static inline void p_store_row(float *out, const float *acc, int n, float c)
{
    for (int i = 0; i < n; i++) out[i] = acc[i] * c;
}

#endif /* VEC_PORTABLE_H */
