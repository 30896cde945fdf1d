/* vec_avx2.h: AVX2 + FMA primitives and attention microkernels (8 fp32 lanes).
 *
 * Included only by files named *_avx2.c (compiled with -mavx2 -mfma). The same API as
 * vec_avx512.h with the a2_ prefix; every vector loop handles its remainder with masked
 * loads and stores (vmaskmov), so no length has to be a multiple of 8.
 *
 * Layouts the microkernels share (the "transposed score tile" scheme, see flash_tile.h):
 *   qt  (D, ldq)   the query tile transposed: qt[d][r] = q[row r][d]; rows padded with 0
 *   st  (nk, ldst) scores, then probabilities, transposed: st[j][r] for key j, row r
 *   acc (nr, lda)  unnormalised output rows; lda a multiple of 16, padding columns 0
 * Scores are computed as K x Q^T: one key element broadcast times 8 query rows, so the
 * keys are read in place and the online softmax runs across 8 rows at once.
 *
 * API (stable: the window and additive kernels reuse it):
 *   a2_mask(n)                  integer lane mask, lanes [0, n) set (n clamped to [0, 8])
 *   a2_load(p, n), a2_store     load / store the first n floats, zeros in the other lanes
 *   a2_exp(x)                   e^x, ~1 ulp on [-87.3, 88.3]; below (and -inf, NaN): 0
 *   a2_hmax(x), a2_hsum(x)      horizontal max / sum of the 8 lanes
 *   a2_exp_neg(x)               e^x for x <= 0, fewer FMA-port operations than a2_exp
 *                               (within 23 ulp; the unmasked softmax of flash_avx2)
 *   a2_scores_t(...)            st = scale * K Q^T for 16-row groups  (register block 6x2)
 *   a2_scores_tm(...)           the same, also each row's max over the tile (a2_softmax_exp)
 *   a2_softmax_exp(...)         online-softmax update of 8 rows given their tile max
 *   a2_pv_t(...)                acc^T += (P V)^T: accumulators transposed (Dv, rows),
 *                               4 columns x 24 rows register block, rescale fused
 *   a2_store_t(...)             out rows from transposed accumulators, divided by l
 *   a2_softmax_tile(...)        online-softmax update of 8 rows against one key tile
 *   a2_scale_row(x, n, c)       x[0, n) *= c
 *   a2_pv(...)                  acc += P V for 4-row blocks and 16-column chunks (4x2)
 *   a2_store_row(...)           out[0, n) = acc[0, n) * c
 *   a2_reduce4x2(...)           8 dot-product accumulators -> one vector of 8 sums
 *   a2_scores_dots(...)         st = scale * K Q^T with row-wise dot products (2 keys x
 *                               4 rows), for few rows: no padding of rows to 16 (decode)
 *   a2_widen_row(x, n, y)       y = x (n elements), zeros up to a multiple of 8
 *   a2_pv_bf16, a2_scores_dots_bf16, a2_widen_row_bf16, and _f16: the same on V, K or x
 *                               stored as bf16 / f16 bits, widened in registers (exact);
 *                               the instances of vec_avx2_kv.h, one per storage type
 * Included files are built with -mavx2 -mfma -mf16c (the _avx2 suffix): the f16 loads use
 * F16C, so a kernel that calls an _f16 instance requires ATTN_FEAT_F16C too.
 */
#ifndef VEC_AVX2_H
#define VEC_AVX2_H

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define A2_LANES 8
#define A2_ROWS 16          /* rows per group in a2_scores_t: 2 vectors of 8 */
#define A2_PV_ROWS 4        /* rows per block in a2_pv */
#define A2_PV_COLS 16       /* columns per chunk in a2_pv: acc's lda is a multiple of this */
#ifndef A2_STREAM_HINT
#define A2_STREAM_HINT _MM_HINT_T1  /* prefetch hint of a2_scores_dots' streaming prefetches */
#endif

/* ------------------------------------------------------------ primitives -- */

/* Lanes [0, n) all ones, the others zero (the mask form vmaskmov wants). */
static inline __m256i a2_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The first n floats of p (zeros in the other lanes; nothing past p + n is read). */
static inline __m256 a2_load(const float *p, int n)
{
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, a2_mask(n));
}

/* Store the first n lanes of x to p (nothing past p + n is written). */
static inline void a2_store(float *p, __m256 x, int n)
{
    if (n >= 8) _mm256_storeu_ps(p, x);
    else _mm256_maskstore_ps(p, a2_mask(n), x);
}

/* e^x lane-wise, Cephes expf: x = n ln2 + r with |r| <= ln2/2, e^r = 1 + r + r^2 P(r)
 * with P of degree 5, times 2^n built in the exponent field. Lanes below -87.33 (where
 * e^x is under FLT_MIN), -inf and NaN give exactly 0; above 88.3 saturates. */
static inline __m256 a2_exp(__m256 x)
{
    const __m256 lo = _mm256_set1_ps(-87.3365447f), hi = _mm256_set1_ps(88.3762626f);
    const __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);           /* false for NaN too */
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* n is in [-126, 128]: 2^n as a float is (n + 127) << 23 */
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(e)), keep);
}

/* e^x lane-wise for x <= 0 (a softmax argument s - max), with 7 operations on the FMA
 * ports where a2_exp has 11: x log2 e = n + f with n = round(x log2 e) taken from the
 * low mantissa bits of x log2 e + 1.5 * 2^23 (no round, no convert), f in [-1/2, 1/2];
 * 2^f by a degree-5 minimax polynomial (relative error 7.5e-8 on [-1/2, 1/2], fitted by
 * Remez on the relative error); 2^n added to the exponent field as an integer. Measured
 * against double exp on every 64th float of [-86, 0]: within 4 ulp on [-1, 0], 7 ulp on
 * [-16, 0], 23 ulp at -85 (the error of the float log2 e times |x|), mean 2 ulp. Lanes
 * below -86 give e^-86 (4e-38), not 0: the 2^n trick needs a normal result. x > 0 is
 * outside its contract (garbage); the caller masks such lanes (a2_softmax_tile's band). */
static inline __m256 a2_exp_neg(__m256 x)
{
    const __m256 magic = _mm256_set1_ps(12582912.0f), log2e = _mm256_set1_ps(1.44269504088896341f);
    x = _mm256_max_ps(x, _mm256_set1_ps(-86.0f));
    const __m256 nm = _mm256_fmadd_ps(x, log2e, magic);         /* n in the low mantissa bits */
    const __m256 f = _mm256_fmsub_ps(x, log2e, _mm256_sub_ps(nm, magic));
    __m256 y = _mm256_set1_ps(1.3276471979e-03f);
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(9.6755413342e-03f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(5.5507132735e-02f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(2.4022119724e-01f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(6.9314696706e-01f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.0000000717e+00f));
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(y),
                                                _mm256_slli_epi32(_mm256_castps_si256(nm), 23)));
}

/* Largest / sum of the 8 lanes. */
static inline float a2_hmax(__m256 x)
{
    __m128 v = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    v = _mm_max_ps(v, _mm_movehl_ps(v, v));
    v = _mm_max_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}
static inline float a2_hsum(__m256 x)
{
    __m128 v = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

/* ---------------------------------------------------------- microkernels -- */

/* st[j][r] = scale * sum_d k[j][d] qt[d][r] for keys j in [0, nk) and rows r in [0, nr),
 * nr a multiple of 16; a2_scores_tm also writes mx[r] = max_j st[j][r] (mx 32-byte
 * aligned; NULL: no max), so an unmasked tile needs no separate max pass. k is (nk, ldk),
 * qt is (D, ldq), st is (nk, ldst); ldq and ldst multiples of 8. Register block: 6 keys
 * x 2 row vectors = 12 accumulators, 2 query vectors and a broadcast: 15 of the 16 registers (a 4 x 2 block, 8 accumulators, ran
 * at 55 GFLOP/s on the target machine, this one at 68). The last nk % 6 keys run through
 * the same block (repeating the last key; only real keys are stored): before, they went
 * one key at a time on 2 accumulator chains, bound by FMA latency; on the AMD EPYC Zen 2
 * of 2026-12-04 a 64 x 64 tile at D = 64 went from 7.04 to 6.34 us (best of 200). */
static inline void a2_scores_tm(const float *k, int ldk, int nk, int D,
                                const float *qt, int ldq, int nr, float scale,
                                float *st, int ldst, float *mx)
{
    const __m256 vs = _mm256_set1_ps(scale);
    for (int r0 = 0; r0 < nr; r0 += A2_ROWS) {
        __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
        for (int j = 0; j < nk; j += 6) {
            /* a last block of nk - j < 6 keys reads the last key again in place of the
             * missing ones and stores only its nk - j rows: one pass of the 12-accumulator
             * block costs less than the same keys one by one (2 chains, FMA-latency bound) */
            const int n6 = nk - j < 6 ? nk - j : 6;
            const float *k0 = k + (size_t)j * ldk;
            const float *k1 = k0 + (n6 > 1 ? ldk : 0), *k2 = k0 + (size_t)(n6 > 2 ? 2 : n6 - 1) * ldk;
            const float *k3 = k0 + (size_t)(n6 > 3 ? 3 : n6 - 1) * ldk;
            const float *k4 = k0 + (size_t)(n6 > 4 ? 4 : n6 - 1) * ldk, *k5 = k0 + (size_t)(n6 - 1) * ldk;
            __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
            __m256 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            __m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;
            const float *qd = qt + r0;
            for (int d = 0; d < D; d++, qd += ldq) {
                const __m256 q0 = _mm256_load_ps(qd), q1 = _mm256_load_ps(qd + 8);
                __m256 b = _mm256_broadcast_ss(k0 + d);
                c00 = _mm256_fmadd_ps(b, q0, c00); c01 = _mm256_fmadd_ps(b, q1, c01);
                b = _mm256_broadcast_ss(k1 + d);
                c10 = _mm256_fmadd_ps(b, q0, c10); c11 = _mm256_fmadd_ps(b, q1, c11);
                b = _mm256_broadcast_ss(k2 + d);
                c20 = _mm256_fmadd_ps(b, q0, c20); c21 = _mm256_fmadd_ps(b, q1, c21);
                b = _mm256_broadcast_ss(k3 + d);
                c30 = _mm256_fmadd_ps(b, q0, c30); c31 = _mm256_fmadd_ps(b, q1, c31);
                b = _mm256_broadcast_ss(k4 + d);
                c40 = _mm256_fmadd_ps(b, q0, c40); c41 = _mm256_fmadd_ps(b, q1, c41);
                b = _mm256_broadcast_ss(k5 + d);
                c50 = _mm256_fmadd_ps(b, q0, c50); c51 = _mm256_fmadd_ps(b, q1, c51);
            }
            c00 = _mm256_mul_ps(c00, vs); c01 = _mm256_mul_ps(c01, vs); c10 = _mm256_mul_ps(c10, vs);
            c11 = _mm256_mul_ps(c11, vs); c20 = _mm256_mul_ps(c20, vs); c21 = _mm256_mul_ps(c21, vs);
            c30 = _mm256_mul_ps(c30, vs); c31 = _mm256_mul_ps(c31, vs); c40 = _mm256_mul_ps(c40, vs);
            c41 = _mm256_mul_ps(c41, vs); c50 = _mm256_mul_ps(c50, vs); c51 = _mm256_mul_ps(c51, vs);
            if (mx) {   /* a short block's repeated key has a real key's score: max unchanged */
                m0 = _mm256_max_ps(m0, _mm256_max_ps(_mm256_max_ps(_mm256_max_ps(c00, c10), _mm256_max_ps(c20, c30)),
                                                     _mm256_max_ps(c40, c50)));
                m1 = _mm256_max_ps(m1, _mm256_max_ps(_mm256_max_ps(_mm256_max_ps(c01, c11), _mm256_max_ps(c21, c31)),
                                                     _mm256_max_ps(c41, c51)));
            }
            float *s = st + (size_t)j * ldst + r0;
            _mm256_store_ps(s, c00); _mm256_store_ps(s + 8, c01);
            if (n6 < 2) continue;
            s += ldst;
            _mm256_store_ps(s, c10); _mm256_store_ps(s + 8, c11);
            if (n6 < 3) continue;
            s += ldst;
            _mm256_store_ps(s, c20); _mm256_store_ps(s + 8, c21);
            if (n6 < 4) continue;
            s += ldst;
            _mm256_store_ps(s, c30); _mm256_store_ps(s + 8, c31);
            if (n6 < 5) continue;
            s += ldst;
            _mm256_store_ps(s, c40); _mm256_store_ps(s + 8, c41);
            if (n6 < 6) continue;
            s += ldst;
            _mm256_store_ps(s, c50); _mm256_store_ps(s + 8, c51);
        }
        if (mx) {
            _mm256_store_ps(mx + r0, m0);
            _mm256_store_ps(mx + r0 + 8, m1);
        }
    }
}
static inline void a2_scores_t(const float *k, int ldk, int nk, int D, const float *qt, int ldq,
                               int nr, float scale, float *st, int ldst)
{
    a2_scores_tm(k, ldk, nk, D, qt, ldq, nr, scale, st, ldst, NULL);
}

/* Lanes r with lo[r] <= j < hi[r] all ones (vlo, vhi: the 8 rows' bands). */
static inline __m256 a2_band_ok(__m256i vlo, __m256i vhi, int j)
{
    const __m256i vj = _mm256_set1_epi32(j);
    return _mm256_castsi256_ps(_mm256_andnot_si256(_mm256_cmpgt_epi32(vlo, vj),
                                                   _mm256_cmpgt_epi32(vhi, vj)));
}

/* st[j] = e^(st[j] - msub) for the nk rows of 8 lanes of a tile no mask touches (neg:
 * a2_exp_neg, else a2_exp; a constant once inlined); returns the lane-wise sums. Two
 * rows per step on two sum chains. */
static inline __m256 a2_exp_tile(float *st, int ldst, int nk, __m256 msub, int neg)
{
    __m256 sum0 = _mm256_setzero_ps(), sum1 = sum0;
    int j = 0;
    for (; j + 2 <= nk; j += 2) {
        float *s = st + (size_t)j * ldst;
        const __m256 x0 = _mm256_sub_ps(_mm256_load_ps(s), msub);
        const __m256 x1 = _mm256_sub_ps(_mm256_load_ps(s + ldst), msub);
        const __m256 p0 = neg ? a2_exp_neg(x0) : a2_exp(x0), p1 = neg ? a2_exp_neg(x1) : a2_exp(x1);
        _mm256_store_ps(s, p0);
        _mm256_store_ps(s + ldst, p1);
        sum0 = _mm256_add_ps(sum0, p0);
        sum1 = _mm256_add_ps(sum1, p1);
    }
    if (j < nk) {
        float *s = st + (size_t)j * ldst;
        const __m256 x0 = _mm256_sub_ps(_mm256_load_ps(s), msub);
        const __m256 p0 = neg ? a2_exp_neg(x0) : a2_exp(x0);
        _mm256_store_ps(s, p0);
        sum0 = _mm256_add_ps(sum0, p0);
    }
    return _mm256_add_ps(sum0, sum1);
}

/* Online-softmax update of 8 rows (one per lane) against one key tile; the same contract
 * as a512_softmax_tile: st (nk, ldst) scores in, probabilities out (0 where masked); key j
 * of the tile is key j0 + j; when `masked` lane r keeps only keys in [lo[r], hi[r]) (lo,
 * hi read only then); m, l (8) running max and sum, updated; corr (8) the factor
 * e^(m_old - m_new). tmax (8 floats, unmasked tiles only) the rows' tile max when the
 * caller has it (a2_scores_tm; read before corr is written, so it may be corr itself): no
 * max pass, and the exp is a2_exp_neg; NULL: a max pass and a2_exp. Returns the lanes
 * (bit r) whose max grew: only their accumulator rows need scaling by corr. */
static inline unsigned a2_softmax_update(float *st, int ldst, int nk, int j0, const int *lo,
                                         const int *hi, int masked, const float *tmax,
                                         float *m, float *l, float *corr)
{
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const __m256i vlo = masked ? _mm256_loadu_si256((const __m256i *)lo) : _mm256_setzero_si256();
    const __m256i vhi = masked ? _mm256_loadu_si256((const __m256i *)hi) : _mm256_setzero_si256();
    __m256 mt = ninf, mt1 = ninf;
    if (tmax) {
        mt = _mm256_loadu_ps(tmax);
    } else if (masked) {
        for (int j = 0; j < nk; j++)
            mt = _mm256_max_ps(mt, _mm256_blendv_ps(ninf, _mm256_load_ps(st + (size_t)j * ldst),
                                                    a2_band_ok(vlo, vhi, j0 + j)));
    } else {
        int j = 0;
        for (; j + 2 <= nk; j += 2) {
            mt = _mm256_max_ps(mt, _mm256_load_ps(st + (size_t)j * ldst));
            mt1 = _mm256_max_ps(mt1, _mm256_load_ps(st + (size_t)(j + 1) * ldst));
        }
        if (j < nk) mt = _mm256_max_ps(mt, _mm256_load_ps(st + (size_t)j * ldst));
    }
    mt = _mm256_max_ps(mt, mt1);
    const __m256 mold = _mm256_loadu_ps(m);
    const __m256 mnew = _mm256_max_ps(mt, mold);
    const __m256 grew = _mm256_cmp_ps(mnew, mold, _CMP_GT_OQ);
    /* a lane with no visible key so far subtracts 0, not -inf (its probabilities are 0) */
    const __m256 msub = _mm256_andnot_ps(_mm256_cmp_ps(mnew, ninf, _CMP_EQ_OQ), mnew);
    const __m256 c = _mm256_blendv_ps(_mm256_set1_ps(1.0f), a2_exp(_mm256_sub_ps(mold, msub)), grew);
    __m256 sum = _mm256_setzero_ps();
    if (masked) {
        for (int j = 0; j < nk; j++) {
            float *s = st + (size_t)j * ldst;
            const __m256 pj = _mm256_and_ps(a2_exp(_mm256_sub_ps(_mm256_load_ps(s), msub)),
                                            a2_band_ok(vlo, vhi, j0 + j));
            _mm256_store_ps(s, pj);
            sum = _mm256_add_ps(sum, pj);
        }
    } else {
        sum = a2_exp_tile(st, ldst, nk, msub, tmax != NULL);
    }
    _mm256_storeu_ps(l, _mm256_fmadd_ps(_mm256_loadu_ps(l), c, sum));
    _mm256_storeu_ps(m, mnew);
    _mm256_storeu_ps(corr, c);
    return (unsigned)_mm256_movemask_ps(grew);
}

/* The API of the other ISAs (flash_tile.h, window kernels): the update with a max pass. */
static inline unsigned a2_softmax_tile(float *st, int ldst, int nk, int j0, const int *lo,
                                       const int *hi, int masked, float *m, float *l, float *corr)
{
    return a2_softmax_update(st, ldst, nk, j0, lo, hi, masked, NULL, m, l, corr);
}

/* The update of a tile no mask touches, given its rows' max tmax (from a2_scores_tm). */
static inline unsigned a2_softmax_exp(float *st, int ldst, int nk, const float *tmax,
                                      float *m, float *l, float *corr)
{
    return a2_softmax_update(st, ldst, nk, 0, NULL, NULL, 0, tmax, m, l, corr);
}

/* One register block of a2_pv_t: columns c[0..3] (a short block repeats its last column:
 * computed twice, stored once: n real ones) x NV = 1, 2 or 3 row vectors from row r0.
 * Written out per NV (A2_PVT_BLOCK): with arrays indexed in loops, gcc 12 kept the
 * accumulators in memory and the block ran at half speed. */
#define A2_PVT_V1(X) X(0)
#define A2_PVT_V2(X) X(0) X(1)
#define A2_PVT_V3(X) X(0) X(1) X(2)
#define A2_PVT_BLOCK(NV)                                                                      \
static inline void a2_pv_t_block##NV(const float *pt, int ldp, int nk, const float *v, int ldv, \
                                     const int c[4], int n, float *acct, int lda, int r0,       \
                                     const float *corr, int rescale)                            \
{                                                                                             \
    float *a0 = acct + (size_t)c[0] * lda + r0, *a1 = acct + (size_t)c[1] * lda + r0;          \
    float *a2 = acct + (size_t)c[2] * lda + r0, *a3 = acct + (size_t)c[3] * lda + r0;          \
    A2_PVT_V##NV(A2_PVT_DECL)                                                                 \
    if (rescale) { A2_PVT_V##NV(A2_PVT_SCALE) }                                               \
    const float *pj = pt + r0, *vj = v;                                                       \
    for (int j = 0; j < nk; j++, pj += ldp, vj += ldv) {                                      \
        A2_PVT_V##NV(A2_PVT_LDP)                                                              \
        __m256 b = _mm256_broadcast_ss(vj + c[0]);                                            \
        A2_PVT_V##NV(A2_PVT_FMA0)                                                             \
        b = _mm256_broadcast_ss(vj + c[1]);                                                   \
        A2_PVT_V##NV(A2_PVT_FMA1)                                                             \
        b = _mm256_broadcast_ss(vj + c[2]);                                                   \
        A2_PVT_V##NV(A2_PVT_FMA2)                                                             \
        b = _mm256_broadcast_ss(vj + c[3]);                                                   \
        A2_PVT_V##NV(A2_PVT_FMA3)                                                             \
    }                                                                                         \
    A2_PVT_V##NV(A2_PVT_ST0)                                                                  \
    if (n > 1) { A2_PVT_V##NV(A2_PVT_ST1) }                                                   \
    if (n > 2) { A2_PVT_V##NV(A2_PVT_ST2) }                                                   \
    if (n > 3) { A2_PVT_V##NV(A2_PVT_ST3) }                                                   \
}
#define A2_PVT_DECL(u) __m256 x0##u = _mm256_load_ps(a0 + 8 * u), x1##u = _mm256_load_ps(a1 + 8 * u), \
                              x2##u = _mm256_load_ps(a2 + 8 * u), x3##u = _mm256_load_ps(a3 + 8 * u);
#define A2_PVT_SCALE(u) { const __m256 f = _mm256_load_ps(corr + r0 + 8 * u);                  \
                          x0##u = _mm256_mul_ps(x0##u, f); x1##u = _mm256_mul_ps(x1##u, f);    \
                          x2##u = _mm256_mul_ps(x2##u, f); x3##u = _mm256_mul_ps(x3##u, f); }
#define A2_PVT_LDP(u) const __m256 p##u = _mm256_load_ps(pj + 8 * u);
#define A2_PVT_FMA0(u) x0##u = _mm256_fmadd_ps(b, p##u, x0##u);
#define A2_PVT_FMA1(u) x1##u = _mm256_fmadd_ps(b, p##u, x1##u);
#define A2_PVT_FMA2(u) x2##u = _mm256_fmadd_ps(b, p##u, x2##u);
#define A2_PVT_FMA3(u) x3##u = _mm256_fmadd_ps(b, p##u, x3##u);
#define A2_PVT_ST0(u) _mm256_store_ps(a0 + 8 * u, x0##u);
#define A2_PVT_ST1(u) _mm256_store_ps(a1 + 8 * u, x1##u);
#define A2_PVT_ST2(u) _mm256_store_ps(a2 + 8 * u, x2##u);
#define A2_PVT_ST3(u) _mm256_store_ps(a3 + 8 * u, x3##u);
A2_PVT_BLOCK(1)
A2_PVT_BLOCK(2)
A2_PVT_BLOCK(3)

/* acct[c][r] = acct[c][r] * (rescale ? corr[r] : 1) + sum_j pt[j][r] v[j][c] for columns
 * c in [0, Dv), rows r in [0, nr) (nr a multiple of 8), keys j in [0, nk). The
 * accumulators are transposed, acct (Dv, lda), lda a multiple of 8: with rows along the
 * vector, P V has the shape of a2_scores_t (one V element broadcast against 8 rows of P),
 * needs no column padding, and the online softmax's rescale of a row is a lane-wise
 * multiply, fused here into the load of the block (corr = 1 in rows whose max did not
 * grow). Register block: 4 columns x 3 row vectors (24 rows) = 12 accumulators, 3 loads of
 * P and 4 broadcasts of V per 12 FMAs; the last 8 or 16 rows of nr run as 4 x 1 or 4 x 2. */
static inline void a2_pv_t(const float *pt, int ldp, int nk, const float *v, int ldv, int Dv,
                           float *acct, int lda, int nr, const float *corr, int rescale)
{
    for (int c0 = 0; c0 < Dv; c0 += 4) {
        const int n = Dv - c0 < 4 ? Dv - c0 : 4;
        const int c[4] = { c0, c0 + (n > 1), c0 + (n > 2 ? 2 : n - 1), c0 + n - 1 };
        int r0 = 0;
        for (; r0 + 24 <= nr; r0 += 24)
            a2_pv_t_block3(pt, ldp, nk, v, ldv, c, n, acct, lda, r0, corr, rescale);
        if (nr - r0 == 16) a2_pv_t_block2(pt, ldp, nk, v, ldv, c, n, acct, lda, r0, corr, rescale);
        else if (nr - r0 == 8) a2_pv_t_block1(pt, ldp, nk, v, ldv, c, n, acct, lda, r0, corr, rescale);
    }
}

/* out[r][c] = acct[c][r] / l[r] (0 where l[r] = 0: a row that saw no key) for rows r in
 * [0, nq) and columns c in [0, Dv); out (nq, ldo), acct (Dv, lda). Once per query tile. */
static inline void a2_store_t(float *out, int ldo, const float *acct, int lda, int nq, int Dv,
                              const float *l)
{
    for (int r = 0; r < nq; r++) {
        const float il = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        for (int c = 0; c < Dv; c++) out[(size_t)r * ldo + c] = acct[(size_t)c * lda + r] * il;
    }
}

/* x[0, n) *= c. */
static inline void a2_scale_row(float *x, int n, float c)
{
    const __m256 vc = _mm256_set1_ps(c);
    for (int i = 0; i < n; i += 8) {
        const int w = n - i < 8 ? n - i : 8;
        a2_store(x + i, _mm256_mul_ps(a2_load(x + i, w), vc), w);
    }
}

/* out[0, n) = acc[0, n) * c (acc 32-byte aligned, out any alignment). */
static inline void a2_store_row(float *out, const float *acc, int n, float c)
{
    const __m256 vc = _mm256_set1_ps(c);
    for (int i = 0; i < n; i += 8) {
        const int w = n - i < 8 ? n - i : 8;
        a2_store(out + i, _mm256_mul_ps(_mm256_load_ps(acc + i), vc), w);
    }
}

/* One column step of a row-wise dot product, 2 keys x 4 rows: a[i] += x q_i, b[i] += y q_i
 * with q_i = q + i ldq (8 floats each, 32-byte aligned); x, y the keys' 8 elements, already
 * widened. Inlined, a and b stay in registers. */
static inline void a2_dots_step(__m256 x, __m256 y, const float *q, int ldq, __m256 a[4], __m256 b[4])
{
    for (int i = 0; i < 4; i++) {
        const __m256 w = _mm256_load_ps(q + (size_t)i * ldq);
        a[i] = _mm256_fmadd_ps(x, w, a[i]);
        b[i] = _mm256_fmadd_ps(y, w, b[i]);
    }
}

/* [sum a0, sum a1, sum a2, sum a3, sum b0, sum b1, sum b2, sum b3]: the horizontal sums of
 * 8 accumulators (two keys x four rows of a row-wise dot product) in one vector. */
static inline __m256 a2_reduce4x2(__m256 a0, __m256 a1, __m256 a2, __m256 a3,
                                  __m256 b0, __m256 b1, __m256 b2, __m256 b3)
{
    const __m256 ta = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    const __m256 tb = _mm256_hadd_ps(_mm256_hadd_ps(b0, b1), _mm256_hadd_ps(b2, b3));
    /* ta = [a0..a3 over lanes 0-3 | a0..a3 over lanes 4-7], likewise tb */
    return _mm256_add_ps(_mm256_permute2f128_ps(ta, tb, 0x20), _mm256_permute2f128_ps(ta, tb, 0x31));
}

/* ---------------------------------------- K/V rows in any storage type -- */

/* The loads of vec_avx2_kv.h's instances (its contract): 8 elements widened to fp32, and
 * the first n of them. bf16 is the top half of an fp32: zero-extend, shift left 16 (exact);
 * f16 through F16C's vcvtph2ps (exact). The 16-bit tails go through a zeroed copy (AVX2
 * has no masked 16-bit load): only rows whose length is not a multiple of 8 take it. */
static inline __m128i a2_ld16n(const uint16_t *p, int n)
{
    uint16_t t[8] = { 0 };
    if (n > 0) memcpy(t, p, sizeof *p * (size_t)(n < 8 ? n : 8));
    return _mm_loadu_si128((const __m128i *)t);
}
static inline __m256 a2_bf16_ps(__m128i h)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
#define A2_LD16(p) _mm_loadu_si128((const __m128i *)(p))

#define A2KV(x) a2_##x
#define A2KV_T float
#define A2KV_LD(p) _mm256_loadu_ps(p)
#define A2KV_LDN(p, n, m) _mm256_maskload_ps(p, m)
#include "vec_avx2_kv.h"
#undef A2KV
#undef A2KV_T
#undef A2KV_LD
#undef A2KV_LDN

#define A2KV(x) a2_##x##_bf16
#define A2KV_T uint16_t
#define A2KV_LD(p) a2_bf16_ps(A2_LD16(p))
#define A2KV_LDN(p, n, m) ((void)(m), a2_bf16_ps(a2_ld16n(p, n)))
#include "vec_avx2_kv.h"
#undef A2KV
#undef A2KV_T
#undef A2KV_LD
#undef A2KV_LDN

#define A2KV(x) a2_##x##_f16
#define A2KV_T uint16_t
#define A2KV_LD(p) _mm256_cvtph_ps(A2_LD16(p))
#define A2KV_LDN(p, n, m) ((void)(m), _mm256_cvtph_ps(a2_ld16n(p, n)))
#include "vec_avx2_kv.h"
#undef A2KV
#undef A2KV_T
#undef A2KV_LD
#undef A2KV_LDN

#endif /* VEC_AVX2_H */
