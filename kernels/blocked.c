/* blocked.c: cache-blocked scalar kernel with an online softmax (portable, one thread).
 *
 * Loop structure, per (b, h):
 *   for each query tile of BQ = 32 rows:
 *     band of every row (attn_band); the key range is the union of the rows' bands
 *     for each key tile of BK = 128 keys inside that range:
 *       S_tile = scale * Q_tile K_tile^T        i, j, d innermost (both rows unit stride)
 *       per row: new max m, rescale l and acc by exp(m_old - m_new)
 *       acc += P_tile V_tile                      i, j, d innermost (unit stride in V, acc)
 *     out = acc / l  (zeros for a row with no visible key)
 * Tile sizes: K_tile and V_tile are 128 x 64 floats = 32 KiB each at D = 64, which stay
 * in L2 while the 32 query rows reuse them; the S tile (32 x 128 = 16 KiB) and one query
 * row stay in L1. Key tiles entirely outside the tile's band are never visited, so causal
 * and windowed problems do about half / a band's worth of the work.
 *
 * Because masks without global tokens are exactly the band [lo, hi) of attn_band(), the
 * kernel supports causal, padding and local windows for free; cross, GQA and Dv != D are
 * only indexing. Not supported: additive scores, global tokens, threads.
 */
#include <math.h>
#include "attn.h"

#define BQ 32
#define BK 128

#define BLOCKED_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                      ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW)

/* Workspace: S (BQ, BK), acc (BQ, Dv), m (BQ), l (BQ) floats, then lo, hi (BQ) ints. */
static size_t blocked_workspace(const attn_problem *p, int threads)
{
    (void)threads;
    return ((size_t)BQ * BK + (size_t)BQ * p->Dv + 2 * BQ) * sizeof(float) + 2 * BQ * sizeof(int);
}

/* q.k with four partial sums: breaks the add dependency chain of a D-long dot product. */
static inline float dot(const float *a, const float *b, int D)
{
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    int d = 0;
    for (; d + 4 <= D; d += 4) {
        s0 += a[d] * b[d];
        s1 += a[d + 1] * b[d + 1];
        s2 += a[d + 2] * b[d + 2];
        s3 += a[d + 3] * b[d + 3];
    }
    for (; d < D; d++) s0 += a[d] * b[d];
    return (s0 + s1) + (s2 + s3);
}

static attn_status blocked_run(const attn_problem *p, const float *q, const float *k,
                               const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, BLOCKED_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;

    const int D = p->D, Dv = p->Dv, group = p->H / p->Hkv;
    float *S = workspace;                       /* (BQ, BK) score tile */
    float *acc = S + BQ * BK;                   /* (BQ, Dv) unnormalised output rows */
    float *m = acc + (size_t)BQ * Dv;           /* (BQ) running row max */
    float *l = m + BQ;                          /* (BQ) running row sum of exp */
    int *lo = (int *)(l + BQ);                  /* (BQ) band of each row: keys [lo, hi) */
    int *hi = lo + BQ;

    for (int b = 0; b < p->B; b++) {
        for (int h = 0; h < p->H; h++) {
            const int hk = h / group;
            const float *qbh = q + ((size_t)b * p->H + h) * p->Lq * D;       /* (Lq, D) */
            const float *kbh = k + ((size_t)b * p->Hkv + hk) * p->Lk * D;    /* (Lk, D) */
            const float *vbh = v + ((size_t)b * p->Hkv + hk) * p->Lk * Dv;   /* (Lk, Dv) */
            float *obh = out + ((size_t)b * p->H + h) * p->Lq * Dv;          /* (Lq, Dv) */

            for (int i0 = 0; i0 < p->Lq; i0 += BQ) {
                const int nq = p->Lq - i0 < BQ ? p->Lq - i0 : BQ;
                int klo = p->Lk, khi = 0;       /* union of the rows' bands */
                for (int r = 0; r < nq; r++) {
                    attn_band(p, b, i0 + r, &lo[r], &hi[r]);
                    if (lo[r] < hi[r]) {
                        if (lo[r] < klo) klo = lo[r];
                        if (hi[r] > khi) khi = hi[r];
                    }
                    m[r] = -INFINITY;
                    l[r] = 0.0f;
                    for (int d = 0; d < Dv; d++) acc[(size_t)r * Dv + d] = 0.0f;
                }

                for (int j0 = klo; j0 < khi; j0 += BK) {
                    const int j1 = khi - j0 < BK ? khi : j0 + BK;

                    /* S_tile: only the visible part [jl, jh) of each row is computed */
                    for (int r = 0; r < nq; r++) {
                        const int jl = lo[r] > j0 ? lo[r] : j0, jh = hi[r] < j1 ? hi[r] : j1;
                        const float *qi = qbh + (size_t)(i0 + r) * D;
                        for (int j = jl; j < jh; j++)
                            S[r * BK + (j - j0)] = p->scale * dot(qi, kbh + (size_t)j * D, D);
                    }

                    /* online softmax and P V, row by row */
                    for (int r = 0; r < nq; r++) {
                        const int jl = lo[r] > j0 ? lo[r] : j0, jh = hi[r] < j1 ? hi[r] : j1;
                        if (jl >= jh) continue;
                        float *s = S + r * BK - j0;     /* s[j] for j in [jl, jh) */
                        float *ar = acc + (size_t)r * Dv;
                        float mt = s[jl];
                        for (int j = jl + 1; j < jh; j++) mt = s[j] > mt ? s[j] : mt;
                        if (mt > m[r]) {
                            /* m[r] = -inf on the first visible tile: corr = 0, acc is 0 */
                            const float corr = expf(m[r] - mt);
                            l[r] *= corr;
                            for (int d = 0; d < Dv; d++) ar[d] *= corr;
                            m[r] = mt;
                        }
                        for (int j = jl; j < jh; j++) {
                            const float pj = expf(s[j] - m[r]);
                            const float *vj = vbh + (size_t)j * Dv;
                            l[r] += pj;
                            for (int d = 0; d < Dv; d++) ar[d] += pj * vj[d];
                        }
                    }
                }

                for (int r = 0; r < nq; r++) {
                    float *orow = obh + (size_t)(i0 + r) * Dv;
                    const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
                    for (int d = 0; d < Dv; d++) orow[d] = acc[(size_t)r * Dv + d] * inv;
                }
            }
        }
    }
    return ATTN_OK;
}

const attn_kernel attn_kernel_blocked = {
    .name = "blocked",
    .desc = "cache-blocked scalar: 32x128 tiles, online softmax, skips masked tiles",
    .isa = ATTN_ISA_PORTABLE,
    .caps = BLOCKED_CAPS,
    .workspace_bytes = blocked_workspace,
    .run = blocked_run,
};
