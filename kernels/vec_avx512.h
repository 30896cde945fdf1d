/* vec_avx512.h: AVX-512F primitives and attention microkernels (16 fp32 lanes).
 *
 * Included only by files named *_avx512.c (compiled with -mavx512f ...). Every function
 * is a small static inline with one job; every vector loop handles its remainder with
 * masked loads and stores, so no length has to be a multiple of 16.
 *
 * Layouts the microkernels share (the "transposed score tile" scheme, see flash_tile.h):
 *   qt  (D, ldq)   the query tile transposed: qt[d][r] = q[row r][d]; rows padded with 0
 *   st  (nk, ldst) scores, then probabilities, transposed: st[j][r] for key j, row r
 *   acc (nr, lda)  unnormalised output rows; lda a multiple of 64, padding columns 0
 * Scores are computed as K x Q^T: one key element broadcast times 16 query rows, so the
 * keys are read in place (no per-head or per-tile copy of K) and the online softmax runs
 * across 16 rows at once (one lane per row).
 *
 * API (stable: the window and additive kernels reuse it; their own blocks at the end):
 *   a512_mask(n)                 lanes [0, n) set, n clamped to [0, 16]
 *   a512_load(p, n), a512_store  load / store the first n floats, zeros in the other lanes
 *   a512_exp(x)                  e^x, ~1 ulp on [-87.3, 88.3]; below (and -inf, NaN): 0
 *   a512_hmax(x), a512_hsum(x)   horizontal max / sum of the 16 lanes
 *   a512_lanes(base, lo, hi)     lanes [lo, hi) of the vector starting at element base
 *   a512_dot(a, b, n)            a . b over n floats
 *   a512_scores_t(...)           st = scale * K Q^T for 64-row groups  (register block 4x4)
 *   a512_softmax_tile(...)       online-softmax update of 16 rows against one key tile
 *   a512_scale_row(x, n, c)      x[0, n) *= c
 *   a512_pv(...)                 acc += P V for 4-row blocks and 64-column chunks (4x4)
 *   a512_store_row(...)          out[0, n) = acc[0, n) * c
 *   a512_transpose16(r)          16 x 16 floats transposed in registers
 *   a512_transpose_keys(...)     a key tile transposed, (nk, D) -> (D, A512_WK)   (window)
 *   a512_scores_rows(...)        S = Qs Kt for 4 rows x 64 keys                   (window)
 *   a512_pv_rows(...)            acc = corr * acc + P V for 4 rows                (window)
 *   a512_axpby(c, acc, p, x, n)  acc = c * acc + p * x
 *   a512_tanh(x)                 1 - 2 / (e^2x + 1), |x| clamped to 9            (additive)
 *   a512_additive_scores(...)    va . tanh(qp + kpT[:, j]) for 64 keys            (additive)
 */
#ifndef VEC_AVX512_H
#define VEC_AVX512_H

#include <immintrin.h>
#include <math.h>

#define A512_LANES 16
#define A512_ROWS 64        /* rows per group in a512_scores_t: 4 vectors of 16 */
#define A512_PV_ROWS 4      /* rows per block in a512_pv */
#define A512_PV_COLS 64     /* columns per chunk in a512_pv: acc's lda is a multiple of this */

/* ------------------------------------------------------------ primitives -- */

/* Mask with lanes [0, n) set; n <= 0 gives none, n >= 16 all. */
static inline __mmask16 a512_mask(int n)
{
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* The first n floats of p (zeros in the other lanes; nothing past p + n is read). */
static inline __m512 a512_load(const float *p, int n)
{
    return n >= 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(a512_mask(n), p);
}

/* Store the first n lanes of x to p (nothing past p + n is written). */
static inline void a512_store(float *p, __m512 x, int n)
{
    if (n >= 16) _mm512_storeu_ps(p, x);
    else _mm512_mask_storeu_ps(p, a512_mask(n), x);
}

/* e^x lane-wise, Cephes expf: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an
 * exact product), e^r = 1 + r + r^2 P(r) with P of degree 5, then scaled by 2^n with
 * scalef. Lanes below -87.33 (where e^x is under FLT_MIN), -inf and NaN give exactly 0,
 * so a masked score never turns into a NaN or a denormal; above 88.3 saturates. */
static inline __m512 a512_exp(__m512 x)
{
    const __m512 lo = _mm512_set1_ps(-87.3365447f), hi = _mm512_set1_ps(88.3762626f);
    const __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);   /* false for NaN too */
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_scalef_ps(keep, y, n);
}

/* Largest / sum of the 16 lanes. */
static inline float a512_hmax(__m512 x) { return _mm512_reduce_max_ps(x); }
static inline float a512_hsum(__m512 x) { return _mm512_reduce_add_ps(x); }

/* Lanes [lo, hi) of a 16-lane vector whose lane 0 is element `base` (none if empty). */
static inline __mmask16 a512_lanes(int base, int lo, int hi)
{
    int a = lo - base, b = hi - base;
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    if (a >= b) return 0;
    return (__mmask16)(((1u << (b - a)) - 1u) << a);
}

/* a . b over n floats (one vector accumulator, the last vector masked). */
static inline float a512_dot(const float *a, const float *b, int n)
{
    __m512 s = _mm512_setzero_ps();
    for (int d = 0; d < n; d += 16) {
        const __mmask16 m = a512_lanes(d, 0, n);
        s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + d), _mm512_maskz_loadu_ps(m, b + d), s);
    }
    return _mm512_reduce_add_ps(s);
}

/* ---------------------------------------------------------- microkernels -- */

/* st[j][r] = scale * sum_d k[j][d] qt[d][r] for keys j in [0, nk) and rows r in [0, nr),
 * nr a multiple of 64. k is (nk, ldk), qt is (D, ldq), st is (nk, ldst); ldq and ldst
 * multiples of 16. Register block: 4 keys x 4 row vectors = 16 accumulators; per d one
 * load of 4 qt vectors and 4 broadcast key elements feed 16 FMAs. */
static inline void a512_scores_t(const float *k, int ldk, int nk, int D,
                                 const float *qt, int ldq, int nr, float scale,
                                 float *st, int ldst)
{
    const __m512 vs = _mm512_set1_ps(scale);
    for (int r0 = 0; r0 < nr; r0 += A512_ROWS) {
        int j = 0;
        for (; j + 4 <= nk; j += 4) {
            const float *k0 = k + (size_t)j * ldk, *k1 = k0 + ldk, *k2 = k1 + ldk, *k3 = k2 + ldk;
            __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
            __m512 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
            __m512 c30 = c00, c31 = c00, c32 = c00, c33 = c00;
            const float *qd = qt + r0;
            for (int d = 0; d < D; d++, qd += ldq) {
                const __m512 q0 = _mm512_load_ps(qd), q1 = _mm512_load_ps(qd + 16);
                const __m512 q2 = _mm512_load_ps(qd + 32), q3 = _mm512_load_ps(qd + 48);
                __m512 b = _mm512_set1_ps(k0[d]);
                c00 = _mm512_fmadd_ps(b, q0, c00); c01 = _mm512_fmadd_ps(b, q1, c01);
                c02 = _mm512_fmadd_ps(b, q2, c02); c03 = _mm512_fmadd_ps(b, q3, c03);
                b = _mm512_set1_ps(k1[d]);
                c10 = _mm512_fmadd_ps(b, q0, c10); c11 = _mm512_fmadd_ps(b, q1, c11);
                c12 = _mm512_fmadd_ps(b, q2, c12); c13 = _mm512_fmadd_ps(b, q3, c13);
                b = _mm512_set1_ps(k2[d]);
                c20 = _mm512_fmadd_ps(b, q0, c20); c21 = _mm512_fmadd_ps(b, q1, c21);
                c22 = _mm512_fmadd_ps(b, q2, c22); c23 = _mm512_fmadd_ps(b, q3, c23);
                b = _mm512_set1_ps(k3[d]);
                c30 = _mm512_fmadd_ps(b, q0, c30); c31 = _mm512_fmadd_ps(b, q1, c31);
                c32 = _mm512_fmadd_ps(b, q2, c32); c33 = _mm512_fmadd_ps(b, q3, c33);
            }
            float *s = st + (size_t)j * ldst + r0;
            _mm512_store_ps(s, _mm512_mul_ps(c00, vs));      _mm512_store_ps(s + 16, _mm512_mul_ps(c01, vs));
            _mm512_store_ps(s + 32, _mm512_mul_ps(c02, vs)); _mm512_store_ps(s + 48, _mm512_mul_ps(c03, vs));
            s += ldst;
            _mm512_store_ps(s, _mm512_mul_ps(c10, vs));      _mm512_store_ps(s + 16, _mm512_mul_ps(c11, vs));
            _mm512_store_ps(s + 32, _mm512_mul_ps(c12, vs)); _mm512_store_ps(s + 48, _mm512_mul_ps(c13, vs));
            s += ldst;
            _mm512_store_ps(s, _mm512_mul_ps(c20, vs));      _mm512_store_ps(s + 16, _mm512_mul_ps(c21, vs));
            _mm512_store_ps(s + 32, _mm512_mul_ps(c22, vs)); _mm512_store_ps(s + 48, _mm512_mul_ps(c23, vs));
            s += ldst;
            _mm512_store_ps(s, _mm512_mul_ps(c30, vs));      _mm512_store_ps(s + 16, _mm512_mul_ps(c31, vs));
            _mm512_store_ps(s + 32, _mm512_mul_ps(c32, vs)); _mm512_store_ps(s + 48, _mm512_mul_ps(c33, vs));
        }
        for (; j < nk; j++) {                               /* remaining keys, one at a time */
            const float *kj = k + (size_t)j * ldk;
            __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
            const float *qd = qt + r0;
            for (int d = 0; d < D; d++, qd += ldq) {
                const __m512 b = _mm512_set1_ps(kj[d]);
                c0 = _mm512_fmadd_ps(b, _mm512_load_ps(qd), c0);
                c1 = _mm512_fmadd_ps(b, _mm512_load_ps(qd + 16), c1);
                c2 = _mm512_fmadd_ps(b, _mm512_load_ps(qd + 32), c2);
                c3 = _mm512_fmadd_ps(b, _mm512_load_ps(qd + 48), c3);
            }
            float *s = st + (size_t)j * ldst + r0;
            _mm512_store_ps(s, _mm512_mul_ps(c0, vs));      _mm512_store_ps(s + 16, _mm512_mul_ps(c1, vs));
            _mm512_store_ps(s + 32, _mm512_mul_ps(c2, vs)); _mm512_store_ps(s + 48, _mm512_mul_ps(c3, vs));
        }
    }
}

/* Online-softmax update of 16 rows (one per lane) against one key tile.
 * st (nk, ldst) points at the rows' first lane: scores in, probabilities out (0 where
 * masked). Key j of the tile is key j0 + j; when `masked`, lane r keeps only keys in
 * [lo[r], hi[r]), else every key is visible to every lane. m, l (16) are the running max
 * and sum, updated; corr (16) receives each row's accumulator factor e^(m_old - m_new).
 * Returns the lanes whose max grew (their accumulator rows must be scaled by corr; a
 * lane whose max stays put keeps its accumulator untouched). A lane that has seen no
 * visible key keeps m = -inf, l = 0 and gets probabilities 0. */
static inline __mmask16 a512_softmax_tile(float *st, int ldst, int nk, int j0, const int *lo,
                                          const int *hi, int masked, float *m, float *l,
                                          float *corr)
{
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const __m512i vlo = _mm512_loadu_si512(lo), vhi = _mm512_loadu_si512(hi);
    __m512 mt = ninf;
    if (masked) {
        for (int j = 0; j < nk; j++) {
            const __m512i vj = _mm512_set1_epi32(j0 + j);
            const __mmask16 ok = _mm512_cmp_epi32_mask(vlo, vj, _MM_CMPINT_LE) &
                                 _mm512_cmp_epi32_mask(vj, vhi, _MM_CMPINT_LT);
            mt = _mm512_mask_max_ps(mt, ok, mt, _mm512_load_ps(st + (size_t)j * ldst));
        }
    } else {
        __m512 mt1 = ninf;
        int j = 0;
        for (; j + 2 <= nk; j += 2) {
            mt = _mm512_max_ps(mt, _mm512_load_ps(st + (size_t)j * ldst));
            mt1 = _mm512_max_ps(mt1, _mm512_load_ps(st + (size_t)(j + 1) * ldst));
        }
        if (j < nk) mt = _mm512_max_ps(mt, _mm512_load_ps(st + (size_t)j * ldst));
        mt = _mm512_max_ps(mt, mt1);
    }
    const __m512 mold = _mm512_loadu_ps(m);
    const __m512 mnew = _mm512_max_ps(mold, mt);
    const __mmask16 grew = _mm512_cmp_ps_mask(mnew, mold, _CMP_GT_OQ);
    /* a lane with no visible key so far subtracts 0, not -inf (its probabilities are 0) */
    const __m512 msub = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(mnew, ninf, _CMP_EQ_OQ), mnew,
                                             _mm512_setzero_ps());
    const __m512 c = _mm512_mask_blend_ps(grew, _mm512_set1_ps(1.0f),
                                          a512_exp(_mm512_sub_ps(mold, msub)));
    __m512 sum0 = _mm512_setzero_ps(), sum1 = sum0;
    if (masked) {
        for (int j = 0; j < nk; j++) {
            const __m512i vj = _mm512_set1_epi32(j0 + j);
            const __mmask16 ok = _mm512_cmp_epi32_mask(vlo, vj, _MM_CMPINT_LE) &
                                 _mm512_cmp_epi32_mask(vj, vhi, _MM_CMPINT_LT);
            float *s = st + (size_t)j * ldst;
            const __m512 pj = _mm512_maskz_mov_ps(ok, a512_exp(_mm512_sub_ps(_mm512_load_ps(s), msub)));
            _mm512_store_ps(s, pj);
            sum0 = _mm512_add_ps(sum0, pj);
        }
    } else {
        int j = 0;
        for (; j + 2 <= nk; j += 2) {
            float *s = st + (size_t)j * ldst;
            const __m512 p0 = a512_exp(_mm512_sub_ps(_mm512_load_ps(s), msub));
            const __m512 p1 = a512_exp(_mm512_sub_ps(_mm512_load_ps(s + ldst), msub));
            _mm512_store_ps(s, p0);
            _mm512_store_ps(s + ldst, p1);
            sum0 = _mm512_add_ps(sum0, p0);
            sum1 = _mm512_add_ps(sum1, p1);
        }
        if (j < nk) {
            float *s = st + (size_t)j * ldst;
            const __m512 p0 = a512_exp(_mm512_sub_ps(_mm512_load_ps(s), msub));
            _mm512_store_ps(s, p0);
            sum0 = _mm512_add_ps(sum0, p0);
        }
    }
    _mm512_storeu_ps(l, _mm512_fmadd_ps(_mm512_loadu_ps(l), c, _mm512_add_ps(sum0, sum1)));
    _mm512_storeu_ps(m, mnew);
    _mm512_storeu_ps(corr, c);
    return grew;
}

/* x[0, n) *= c. */
static inline void a512_scale_row(float *x, int n, float c)
{
    const __m512 vc = _mm512_set1_ps(c);
    for (int i = 0; i < n; i += 16) {
        const int w = n - i < 16 ? n - i : 16;
        a512_store(x + i, _mm512_mul_ps(a512_load(x + i, w), vc), w);
    }
}

/* acc[r][c] += sum_j pt[j][r] v[j][c] for rows r in [0, nr) (nr a multiple of 4), keys j
 * in [0, nk), columns c in [0, Dv). pt is (nk, ldp), v is (nk, ldv), acc is (nr, lda)
 * with lda a multiple of 64 (columns Dv..lda stay 0: V is loaded masked). Register
 * block: 4 rows x 4 column vectors = 16 accumulators held over the whole key loop; per
 * key 4 V vectors and 4 broadcast probabilities feed 16 FMAs. */
static inline void a512_pv(const float *pt, int ldp, int nk, const float *v, int ldv, int Dv,
                           float *acc, int lda, int nr)
{
    for (int c0 = 0; c0 < Dv; c0 += A512_PV_COLS) {
        const __mmask16 m0 = a512_mask(Dv - c0), m1 = a512_mask(Dv - c0 - 16);
        const __mmask16 m2 = a512_mask(Dv - c0 - 32), m3 = a512_mask(Dv - c0 - 48);
        for (int r0 = 0; r0 < nr; r0 += A512_PV_ROWS) {
            float *a0 = acc + (size_t)r0 * lda + c0, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            __m512 c00 = _mm512_load_ps(a0), c01 = _mm512_load_ps(a0 + 16);
            __m512 c02 = _mm512_load_ps(a0 + 32), c03 = _mm512_load_ps(a0 + 48);
            __m512 c10 = _mm512_load_ps(a1), c11 = _mm512_load_ps(a1 + 16);
            __m512 c12 = _mm512_load_ps(a1 + 32), c13 = _mm512_load_ps(a1 + 48);
            __m512 c20 = _mm512_load_ps(a2), c21 = _mm512_load_ps(a2 + 16);
            __m512 c22 = _mm512_load_ps(a2 + 32), c23 = _mm512_load_ps(a2 + 48);
            __m512 c30 = _mm512_load_ps(a3), c31 = _mm512_load_ps(a3 + 16);
            __m512 c32 = _mm512_load_ps(a3 + 32), c33 = _mm512_load_ps(a3 + 48);
            const float *pj = pt + r0, *vj = v + c0;
            for (int j = 0; j < nk; j++, pj += ldp, vj += ldv) {
                const __m512 v0 = _mm512_maskz_loadu_ps(m0, vj), v1 = _mm512_maskz_loadu_ps(m1, vj + 16);
                const __m512 v2 = _mm512_maskz_loadu_ps(m2, vj + 32), v3 = _mm512_maskz_loadu_ps(m3, vj + 48);
                __m512 b = _mm512_set1_ps(pj[0]);
                c00 = _mm512_fmadd_ps(b, v0, c00); c01 = _mm512_fmadd_ps(b, v1, c01);
                c02 = _mm512_fmadd_ps(b, v2, c02); c03 = _mm512_fmadd_ps(b, v3, c03);
                b = _mm512_set1_ps(pj[1]);
                c10 = _mm512_fmadd_ps(b, v0, c10); c11 = _mm512_fmadd_ps(b, v1, c11);
                c12 = _mm512_fmadd_ps(b, v2, c12); c13 = _mm512_fmadd_ps(b, v3, c13);
                b = _mm512_set1_ps(pj[2]);
                c20 = _mm512_fmadd_ps(b, v0, c20); c21 = _mm512_fmadd_ps(b, v1, c21);
                c22 = _mm512_fmadd_ps(b, v2, c22); c23 = _mm512_fmadd_ps(b, v3, c23);
                b = _mm512_set1_ps(pj[3]);
                c30 = _mm512_fmadd_ps(b, v0, c30); c31 = _mm512_fmadd_ps(b, v1, c31);
                c32 = _mm512_fmadd_ps(b, v2, c32); c33 = _mm512_fmadd_ps(b, v3, c33);
            }
            _mm512_store_ps(a0, c00); _mm512_store_ps(a0 + 16, c01);
            _mm512_store_ps(a0 + 32, c02); _mm512_store_ps(a0 + 48, c03);
            _mm512_store_ps(a1, c10); _mm512_store_ps(a1 + 16, c11);
            _mm512_store_ps(a1 + 32, c12); _mm512_store_ps(a1 + 48, c13);
            _mm512_store_ps(a2, c20); _mm512_store_ps(a2 + 16, c21);
            _mm512_store_ps(a2 + 32, c22); _mm512_store_ps(a2 + 48, c23);
            _mm512_store_ps(a3, c30); _mm512_store_ps(a3 + 16, c31);
            _mm512_store_ps(a3 + 32, c32); _mm512_store_ps(a3 + 48, c33);
        }
    }
}

/* out[0, n) = acc[0, n) * c (acc 64-byte aligned, out any alignment). */
static inline void a512_store_row(float *out, const float *acc, int n, float c)
{
    const __m512 vc = _mm512_set1_ps(c);
    for (int i = 0; i < n; i += 16) {
        const int w = n - i < 16 ? n - i : 16;
        a512_store(out + i, _mm512_mul_ps(_mm512_load_ps(acc + i), vc), w);
    }
}

/* ------------------------------------------------- window and additive blocks -- */

/* The row-major score tile scheme of window_avx512.c (Q times a transposed key tile, rows
 * of S and P per query row) and the additive score of additive_avx512.c. */
#define A512_WK 64          /* keys per tile of a512_transpose_keys / scores_rows / pv_rows */
#define A512_WR 4           /* rows per register block of a512_scores_rows / pv_rows */

/* In-register transpose of 16 x 16 floats. */
static inline void a512_transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 4; c++) {
            t[8 * i + c] = _mm512_shuffle_f32x4(r[8 * i + c], r[8 * i + 4 + c], 0x88);
            t[8 * i + 4 + c] = _mm512_shuffle_f32x4(r[8 * i + c], r[8 * i + 4 + c], 0xdd);
        }
    for (int c = 0; c < 8; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
    }
}

/* Kt (D, A512_WK) = K rows [0, nk) of kt0 (nk, D) transposed; columns nk..A512_WK-1 are zero. */
static inline void a512_transpose_keys(const float *kt0, int nk, int D, float *Kt)
{
    for (int j0 = 0; j0 < A512_WK; j0 += 16)
        for (int d0 = 0; d0 < D; d0 += 16) {
            const __mmask16 md = a512_lanes(d0, 0, D);
            __m512 r[16];
            for (int c = 0; c < 16; c++)
                r[c] = j0 + c < nk ? _mm512_maskz_loadu_ps(md, kt0 + (size_t)(j0 + c) * D + d0)
                                   : _mm512_setzero_ps();
            a512_transpose16(r);
            const int nd = D - d0 < 16 ? D - d0 : 16;
            for (int c = 0; c < nd; c++) _mm512_storeu_ps(Kt + (size_t)(d0 + c) * A512_WK + j0, r[c]);
        }
}

/* S rows [r0, r0 + A512_WR) (BQ, A512_WK) = Qs rows (BQ, D) times Kt (D, A512_WK). */
static inline void a512_scores_rows(const float *Qs, const float *Kt, int D, float *S, int r0)
{
    __m512 c[A512_WR][4];
    for (int r = 0; r < A512_WR; r++)
        for (int v = 0; v < 4; v++) c[r][v] = _mm512_setzero_ps();
    for (int d = 0; d < D; d++) {
        const float *kd = Kt + (size_t)d * A512_WK;
        const __m512 k0 = _mm512_loadu_ps(kd), k1 = _mm512_loadu_ps(kd + 16);
        const __m512 k2 = _mm512_loadu_ps(kd + 32), k3 = _mm512_loadu_ps(kd + 48);
        for (int r = 0; r < A512_WR; r++) {
            const __m512 qv = _mm512_set1_ps(Qs[(size_t)(r0 + r) * D + d]);
            c[r][0] = _mm512_fmadd_ps(qv, k0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(qv, k1, c[r][1]);
            c[r][2] = _mm512_fmadd_ps(qv, k2, c[r][2]);
            c[r][3] = _mm512_fmadd_ps(qv, k3, c[r][3]);
        }
    }
    for (int r = 0; r < A512_WR; r++)
        for (int v = 0; v < 4; v++) _mm512_storeu_ps(S + (size_t)(r0 + r) * A512_WK + 16 * v, c[r][v]);
}

/* acc rows [r0, r0 + A512_WR) (BQ, Dv) = corr * acc + P (BQ, A512_WK) V_tile (nk, Dv), over the tile
 * keys [kl, kh) where some of the A512_WR rows has nonzero P. */
static inline void a512_pv_rows(const float *P, const float *corr, const float *vt0, int kl, int kh,
                            int Dv, float *acc, int r0)
{
    for (int c0 = 0; c0 < Dv; c0 += 64) {
        __mmask16 mv[4];
        for (int v = 0; v < 4; v++) mv[v] = a512_lanes(c0 + 16 * v, 0, Dv);
        __m512 a[A512_WR][4];
        for (int r = 0; r < A512_WR; r++) {
            const __m512 cr = _mm512_set1_ps(corr[r0 + r]);
            float *ar = acc + (size_t)(r0 + r) * Dv + c0;
            for (int v = 0; v < 4; v++)
                a[r][v] = _mm512_mul_ps(cr, _mm512_maskz_loadu_ps(mv[v], ar + 16 * v));
        }
        for (int j = kl; j < kh; j++) {
            const float *vj = vt0 + (size_t)j * Dv + c0;
            __m512 x[4];
            for (int v = 0; v < 4; v++) x[v] = _mm512_maskz_loadu_ps(mv[v], vj + 16 * v);
            for (int r = 0; r < A512_WR; r++) {
                const __m512 pr = _mm512_set1_ps(P[(size_t)(r0 + r) * A512_WK + j]);
                for (int v = 0; v < 4; v++) a[r][v] = _mm512_fmadd_ps(pr, x[v], a[r][v]);
            }
        }
        for (int r = 0; r < A512_WR; r++) {
            float *ar = acc + (size_t)(r0 + r) * Dv + c0;
            for (int v = 0; v < 4; v++) _mm512_mask_storeu_ps(ar + 16 * v, mv[v], a[r][v]);
        }
    }
}

/* acc (Dv) = c * acc + p * x (Dv). */
static inline void a512_axpby(float c, float *acc, float pj, const float *x, int Dv)
{
    for (int d = 0; d < Dv; d += 16) {
        const __mmask16 m = a512_lanes(d, 0, Dv);
        __m512 a = _mm512_mul_ps(_mm512_set1_ps(c), _mm512_maskz_loadu_ps(m, acc + d));
        a = _mm512_fmadd_ps(_mm512_set1_ps(pj), _mm512_maskz_loadu_ps(m, x + d), a);
        _mm512_mask_storeu_ps(acc + d, m, a);
    }
}

/* tanh(x) = 1 - 2 / (exp(2x) + 1); |x| clamped to 9, where tanh is 1 in float. */
static inline __m512 a512_tanh(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-9.0f)), _mm512_set1_ps(9.0f));
    const __m512 y = _mm512_add_ps(a512_exp(_mm512_add_ps(x, x)), _mm512_set1_ps(1.0f));
    __m512 r = _mm512_rcp14_ps(y);                                  /* 1/y to 14 bits */
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(y, r, _mm512_set1_ps(2.0f)));  /* Newton: 28 */
    return _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), r, _mm512_set1_ps(1.0f));
}

/* Additive scores s[j] for keys j in [j0, j1) (j1 - j0 <= 64): va . tanh(qp + kpT[:, j]);
 * qp, va (A), kpT (A, ldk) key projections transposed (additive_avx512.c). */
static inline void a512_additive_scores(const float *qp, const float *va, const float *kpT, size_t ldk,
                               int A, int j0, int j1, float *s)
{
    __mmask16 mk[4];
    __m512 c[4];
    for (int v = 0; v < 4; v++) {
        mk[v] = a512_lanes(j0 + 16 * v, j0, j1);
        c[v] = _mm512_setzero_ps();
    }
    for (int a = 0; a < A; a++) {
        const __m512 qa = _mm512_set1_ps(qp[a]), vaa = _mm512_set1_ps(va[a]);
        const float *kr = kpT + (size_t)a * ldk + j0;
        for (int v = 0; v < 4; v++) {
            const __m512 x = _mm512_add_ps(qa, _mm512_maskz_loadu_ps(mk[v], kr + 16 * v));
            c[v] = _mm512_fmadd_ps(vaa, a512_tanh(x), c[v]);
        }
    }
    for (int v = 0; v < 4; v++) _mm512_mask_storeu_ps(s + j0 + 16 * v, mk[v], c[v]);
}

#endif /* VEC_AVX512_H */
