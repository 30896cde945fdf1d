/* omp.c: the blocked kernel (blocked.c) parallel over (batch, head, query tile) with
 * OpenMP: what threads alone buy over the scalar blocked kernel.
 *
 * Loop structure:
 *   parallel for (b, h, query tile of BQ = 32 rows), schedule(dynamic, 1), heaviest first:
 *     band of every row (attn_band); the key range is the union of the rows' bands
 *     for each key tile of BK = 128 keys inside that range:
 *       S_tile = scale * Q_tile K_tile^T        i, j, d innermost (both rows unit stride)
 *       per row: new max m, rescale l and acc by exp(m_old - m_new)
 *       acc += P_tile V_tile                      i, j, d innermost (unit stride in V, acc)
 *     out = acc / l  (zeros for a row with no visible key)
 * Work items are query tiles, not heads, so 2 threads share even B = H = 1; under a
 * causal mask the tiles of one head differ in cost (the last tile sees every key), so
 * the schedule is dynamic and hands out each head's last tiles first, ending on light
 * ones. Each thread has its own S, acc, m, l, lo, hi in the workspace. Tile sizes: as
 * blocked.c (K and V tiles of 128 x 64 floats stay in L2, the S tile in L1).
 */
#include <math.h>
#include <omp.h>
#include "attn.h"

#define BQ 32
#define BK 128

#define OMP_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                  ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

/* Floats of one thread's workspace: S (BQ, BK), acc (BQ, Dv), m, l (BQ), lo, hi (BQ) ints. */
static size_t thread_floats(const attn_problem *p)
{
    return (size_t)BQ * BK + (size_t)BQ * p->Dv + 4 * BQ;
}

static size_t omp_workspace(const attn_problem *p, int threads)
{
    return (size_t)threads * thread_floats(p) * sizeof(float);
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

/* Query rows [i0, i0 + BQ) of one head: qbh (Lq, D), kbh (Lk, D), vbh (Lk, Dv),
 * obh (Lq, Dv); ws is this thread's workspace. */
static void query_tile(const attn_problem *p, int b, const float *qbh, const float *kbh,
                       const float *vbh, float *obh, int i0, float *ws)
{
    const int D = p->D, Dv = p->Dv;
    float *S = ws;                              /* (BQ, BK) score tile */
    float *acc = S + BQ * BK;                   /* (BQ, Dv) unnormalised output rows */
    float *m = acc + (size_t)BQ * Dv;           /* (BQ) running row max */
    float *l = m + BQ;                          /* (BQ) running row sum of exp */
    int *lo = (int *)(l + BQ);                  /* (BQ) band of each row: keys [lo, hi) */
    int *hi = lo + BQ;

    const int nq = p->Lq - i0 < BQ ? p->Lq - i0 : BQ;
    int klo = p->Lk, khi = 0;                   /* union of the rows' bands */
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
        for (int r = 0; r < nq; r++) {
            const int jl = lo[r] > j0 ? lo[r] : j0, jh = hi[r] < j1 ? hi[r] : j1;
            const float *qi = qbh + (size_t)(i0 + r) * D;
            for (int j = jl; j < jh; j++)
                S[r * BK + (j - j0)] = p->scale * dot(qi, kbh + (size_t)j * D, D);
        }
        for (int r = 0; r < nq; r++) {
            const int jl = lo[r] > j0 ? lo[r] : j0, jh = hi[r] < j1 ? hi[r] : j1;
            if (jl >= jh) continue;
            float *s = S + r * BK - j0;         /* s[j] for j in [jl, jh) */
            float *ar = acc + (size_t)r * Dv;
            float mt = s[jl];
            for (int j = jl + 1; j < jh; j++) mt = s[j] > mt ? s[j] : mt;
            if (mt > m[r]) {
                const float corr = expf(m[r] - mt);     /* 0 on the first visible tile */
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

static attn_status omp_run(const attn_problem *p, const float *q, const float *k,
                           const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, OMP_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;

    const int group = p->H / p->Hkv, nqt = (p->Lq + BQ - 1) / BQ;
    const long items = (long)p->B * p->H * nqt;
    const size_t per = thread_floats(p);

#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (long w = 0; w < items; w++) {
        const int bh = (int)(w / nqt), qi = nqt - 1 - (int)(w % nqt);
        const int b = bh / p->H, h = bh % p->H, hk = h / group;
        float *ws = (float *)workspace + (size_t)omp_get_thread_num() * per;
        query_tile(p, b,
                   q + ((size_t)b * p->H + h) * p->Lq * p->D,
                   k + ((size_t)b * p->Hkv + hk) * p->Lk * p->D,
                   v + ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv,
                   out + ((size_t)b * p->H + h) * p->Lq * p->Dv,
                   qi * BQ, ws);
    }
    return ATTN_OK;
}

const attn_kernel attn_kernel_omp = {
    .name = "omp",
    .desc = "blocked scalar kernel, OpenMP over (batch, head, query tile), dynamic schedule",
    .isa = ATTN_ISA_PORTABLE,
    .caps = OMP_CAPS,
    .workspace_bytes = omp_workspace,
    .run = omp_run,
};
