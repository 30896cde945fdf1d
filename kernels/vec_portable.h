/* vec_portable.h: the portable (plain C) versions of the flash primitives of
 * vec_avx2.h / vec_avx512.h, with the same contracts (see vec_avx512.h and flash_tile.h):
 * their inner loops run over P_LANES query rows (scores, softmax) or over Dv (P V) with
 * unit stride, which the compiler vectorises for the baseline ISA. expf is the C
 * library's, element by element: the SIMD headers are the ones with a vector exp.
 * No intrinsics; used by flash.c (the flash primitives) and decode.c (p_dot).
 */
#ifndef VEC_PORTABLE_H
#define VEC_PORTABLE_H

#include <math.h>
#include <stddef.h>

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
 * a512_softmax_tile (vec_avx512.h). Returns bit r set where row r's max grew. */
static inline unsigned p_softmax_tile(float *st, int ldst, int nk, int j0, const int *lo,
                               const int *hi, int masked, float *m, float *l, float *corr)
{
    float mt[P_LANES], sum[P_LANES], msub[P_LANES];
    unsigned grew = 0;
    for (int r = 0; r < P_LANES; r++) mt[r] = -INFINITY;
    for (int j = 0; j < nk; j++) {
        const float *s = st + (size_t)j * ldst;
        for (int r = 0; r < P_LANES; r++) {
            const int ok = !masked || (lo[r] <= j0 + j && j0 + j < hi[r]);
            if (ok && s[r] > mt[r]) mt[r] = s[r];
        }
    }
    for (int r = 0; r < P_LANES; r++) {
        const float mnew = mt[r] > m[r] ? mt[r] : m[r];
        corr[r] = 1.0f;
        if (mnew > m[r]) {          /* m = -inf before the first visible key: corr = 0 */
            corr[r] = expf(m[r] - mnew);
            grew |= 1u << r;
        }
        m[r] = mnew;
        msub[r] = mnew == -INFINITY ? 0.0f : mnew;
        sum[r] = 0.0f;
    }
    for (int j = 0; j < nk; j++) {
        float *s = st + (size_t)j * ldst;
        for (int r = 0; r < P_LANES; r++) {
            const int ok = !masked || (lo[r] <= j0 + j && j0 + j < hi[r]);
            s[r] = ok ? expf(s[r] - msub[r]) : 0.0f;
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
