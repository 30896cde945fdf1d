/* window.c: local sliding-window + global-token attention whose cost is O(N * w)
 * (portable scalar code, OpenMP).
 *
 * Loop structure:
 *   parallel for over (b, h, query tile of BQ = 32 rows), schedule(dynamic):
 *     span of every row (window_plan.h: the band, or [0, cap) for a global query row);
 *     the key range is the union of the rows' spans
 *     for each key tile of BK = 64 keys inside that range:
 *       S_tile = scale * Q_tile K_tile^T           visible part [jl, jh) of each row only
 *       per row: online softmax (FlashAttention-2): new max, rescale l and acc, acc += P V
 *     per ordinary row: the global key columns outside its band, one by one, same update
 *     out = acc / l  (zeros for a row with no visible key)
 * Key tiles outside the union of the tile's spans are never touched, so a window of w
 * keys each side costs about N * (2w + 1 + BQ) score pairs, not N^2. Full attention (no
 * window) is the special case band = every allowed key. Each thread owns one workspace
 * slot (S, acc, m, l, lo, hi), so threads never share scratch lines.
 */
#include <math.h>
#include "attn.h"
#include "window_plan.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define BQ 32
#define BK 64

#define WINDOW_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                     ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_GLOBALS | \
                     ATTN_CAP_THREADS)

/* One thread's slot: S (BQ, BK), acc (BQ, Dv), m (BQ), l (BQ) floats, lo, hi (BQ) ints. */
static size_t slot_bytes(const attn_problem *p)
{
    return plan_round64(((size_t)BQ * BK + (size_t)BQ * p->Dv + 2 * BQ) * sizeof(float) +
                        2 * BQ * sizeof(int));
}

/* Workspace: glist (Lk ints, global positions), then one slot per thread. */
static size_t window_workspace(const attn_problem *p, int threads)
{
    return plan_round64((size_t)p->Lk * sizeof(int)) + (size_t)threads * slot_bytes(p);
}

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

/* Fold one score s of key value vj (Dv) into a row's running (m, l, acc (Dv)). */
static inline void fold_one(float s, const float *vj, int Dv, float *m, float *l, float *acc)
{
    if (s > *m) {
        const float corr = expf(*m - s);    /* *m = -inf on the first key: corr = 0 */
        *l *= corr;
        for (int d = 0; d < Dv; d++) acc[d] *= corr;
        *m = s;
    }
    const float pj = expf(s - *m);
    *l += pj;
    for (int d = 0; d < Dv; d++) acc[d] += pj * vj[d];
}

/* One query tile [i0, i0 + nq) of head (b, h): qbh (Lq, D), kbh (Lk, D), vbh (Lk, Dv),
 * obh (Lq, Dv); glist (ng) the global positions; slot this thread's scratch. */
static void query_tile(const attn_problem *p, int b, int i0, int nq,
                       const float *qbh, const float *kbh, const float *vbh, float *obh,
                       const int *glist, int ng, void *slot)
{
    const int D = p->D, Dv = p->Dv;
    float *S = slot;                            /* (BQ, BK) score tile */
    float *acc = S + BQ * BK;                   /* (BQ, Dv) unnormalised output rows */
    float *m = acc + (size_t)BQ * Dv;           /* (BQ) running row max */
    float *l = m + BQ;                          /* (BQ) running row sum of exp */
    int *lo = (int *)(l + BQ);                  /* (BQ) span of each row: keys [lo, hi) */
    int *hi = lo + BQ;

    int klo = p->Lk, khi = 0, any_ordinary = 0;
    for (int r = 0; r < nq; r++) {
        if (!plan_span(p, b, i0 + r, &lo[r], &hi[r])) any_ordinary = 1;
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
            const float *s = S + r * BK - j0;   /* s[j] for j in [jl, jh) */
            float *ar = acc + (size_t)r * Dv;
            float mt = s[jl];
            for (int j = jl + 1; j < jh; j++) mt = s[j] > mt ? s[j] : mt;
            if (mt > m[r]) {
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

    /* global key columns outside an ordinary row's band (inside ones were in the span) */
    if (ng > 0 && any_ordinary)
        for (int r = 0; r < nq; r++) {
            int blo, bhi;
            if (plan_span(p, b, i0 + r, &blo, &bhi)) continue;     /* global query row */
            const int cap = plan_cap(p, b, i0 + r);
            const float *qi = qbh + (size_t)(i0 + r) * D;
            for (int g = 0; g < ng && glist[g] < cap; g++) {
                const int j = glist[g];
                if (j >= lo[r] && j < hi[r]) continue;
                const float s = p->scale * dot(qi, kbh + (size_t)j * D, D);
                fold_one(s, vbh + (size_t)j * Dv, Dv, &m[r], &l[r], acc + (size_t)r * Dv);
            }
        }

    for (int r = 0; r < nq; r++) {
        float *orow = obh + (size_t)(i0 + r) * Dv;
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        for (int d = 0; d < Dv; d++) orow[d] = acc[(size_t)r * Dv + d] * inv;
    }
}

static attn_status window_run(const attn_problem *p, const float *q, const float *k,
                              const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, WINDOW_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;

    int *glist = workspace;                                     /* (Lk) */
    const int ng = plan_globals(p, glist);
    char *slots = (char *)workspace + plan_round64((size_t)p->Lk * sizeof(int));
    const size_t sb = slot_bytes(p);
    const int group = p->H / p->Hkv, ntiles = (p->Lq + BQ - 1) / BQ;
    const long total = (long)p->B * p->H * ntiles;

    #pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (long t = 0; t < total; t++) {
        const int tile = (int)(t % ntiles), bh = (int)(t / ntiles);
        const int b = bh / p->H, h = bh % p->H, hk = h / group;
        const int i0 = tile * BQ, nq = p->Lq - i0 < BQ ? p->Lq - i0 : BQ;
#ifdef _OPENMP
        void *slot = slots + (size_t)omp_get_thread_num() * sb;
#else
        void *slot = slots;
#endif
        query_tile(p, b, i0, nq,
                   q + ((size_t)b * p->H + h) * p->Lq * p->D,        /* (Lq, D) */
                   k + ((size_t)b * p->Hkv + hk) * p->Lk * p->D,     /* (Lk, D) */
                   v + ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv,    /* (Lk, Dv) */
                   out + ((size_t)b * p->H + h) * p->Lq * p->Dv,     /* (Lq, Dv) */
                   glist, ng, slot);
    }
    return ATTN_OK;
}

const attn_kernel attn_kernel_window = {
    .name = "window",
    .desc = "sliding window + global tokens, O(N*w): 32x64 tiles inside the band, OpenMP",
    .isa = ATTN_ISA_PORTABLE,
    .caps = WINDOW_CAPS,
    .workspace_bytes = window_workspace,
    .run = window_run,
};
