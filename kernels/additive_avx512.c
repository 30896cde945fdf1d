/* additive_avx512.c: Bahdanau additive attention, s_ij = va . tanh(Wq q_i + Wk k_j),
 * with AVX-512 and OpenMP (naive.c holds the reference loops).
 *
 * Loop structure:
 *   phase 1, parallel for over (b, kv head, key block of 64):
 *     kpT[b, hk] (A, Lk) = (Wk k_j for every key j), stored transposed so that 16
 *     consecutive keys of one hidden unit are one vector. Computed once per key/value
 *     head and shared by its query heads (GQA/MQA copy nothing).
 *   phase 2, parallel for over (b, h, query block of 8 rows), schedule(dynamic):
 *     per row i: qp = Wq q_i (A); span [lo, hi) and out-of-band globals (window_plan.h)
 *       for keys of the span, 64 at a time (4 zmm, the last ones masked):
 *         s_j = sum_a va[a] * tanh(qp[a] + kpT[a, j])        a innermost, 4 chains
 *       out-of-band global keys: the same sum, one key at a time
 *       two-pass softmax over the visible scores (max, then exp and sum)
 *       out_i = sum_j p_j v_j / sum_j p_j                    (zeros if no visible key)
 * tanh(x) = 1 - 2 / (exp(2x) + 1) with x clamped to [-9, 9] (tanh(9) rounds to 1 in
 * float), a512_tanh and a512_additive_scores in vec_avx512.h, 1/y by rcp14 and a Newton step.
 * The cost is Lq * (visited keys) * A tanh evaluations; the projections are O((Lq + Lk) A D).
 */
#include <immintrin.h>
#include <math.h>
#include "attn.h"
#include "vec_avx512.h"
#include "window_plan.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define KB 64           /* keys per phase-1 block and per phase-2 score block */
#define QB 8            /* query rows per phase-2 work item */

#define ADDITIVE512_CAPS (ATTN_CAP_ADDITIVE | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING |          \
                          ATTN_CAP_CROSS | ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | \
                          ATTN_CAP_GLOBALS | ATTN_CAP_THREADS)

/* ---------------------------------------------------------------- kernel -- */

/* One thread's slot: qp (A), s (Lk), gs (Lk) scores, acc (Dv) floats. */
static size_t slot_bytes(const attn_problem *p)
{
    return plan_round64(((size_t)p->A + 2 * (size_t)p->Lk + p->Dv) * sizeof(float));
}

/* Workspace: glist (Lk ints), kpT (B, Hkv, A, Lk), then one slot per thread. */
static size_t additive512_workspace(const attn_problem *p, int threads)
{
    return plan_round64((size_t)p->Lk * sizeof(int)) +
           plan_round64((size_t)p->B * p->Hkv * p->A * p->Lk * sizeof(float)) +
           (size_t)threads * slot_bytes(p);
}

/* Output row orow (Dv) of query i of batch item b: qi (D), kpT (A, Lk) this kv head's key
 * projections, vbh (Lk, Dv); glist (ng) the global positions; slot this thread's scratch. */
static void query_row(const attn_problem *p, int b, int i, const float *qi, const float *kpT,
                      const float *vbh, float *orow, const int *glist, int ng, float *slot)
{
    const int A = p->A, Dv = p->Dv, Lk = p->Lk;
    float *qp = slot;                   /* (A) Wq q_i */
    float *s = qp + A;                  /* (Lk) scores of the span, s[j] */
    float *gs = s + Lk;                 /* (Lk) scores of the out-of-band globals, in glist order */
    float *acc = gs + Lk;               /* (Dv) */

    for (int a = 0; a < A; a++) qp[a] = a512_dot(p->wq + (size_t)a * p->D, qi, p->D);
    int lo, hi;
    plan_span(p, b, i, &lo, &hi);

    for (int j0 = lo; j0 < hi; j0 += KB)
        a512_additive_scores(qp, p->va, kpT, (size_t)Lk, A, j0, hi - j0 < KB ? hi : j0 + KB, s);
    float mx = -INFINITY;
    int any = lo < hi;
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int j = lo; j < hi; j += 16)
        mv = _mm512_mask_max_ps(mv, a512_lanes(j, j, hi), mv, _mm512_loadu_ps(s + j));
    if (any) mx = _mm512_reduce_max_ps(mv);

    /* out-of-band global keys: gs[g] for g < gend outside [lo, hi), else unused */
    const int gend = plan_global_end(p, b, i, glist, ng);
    for (int g = 0; g < gend; g++) {
        const int j = glist[g];
        if (j >= lo && j < hi) continue;
        float t = 0.0f;
        for (int a = 0; a < A; a++) t += p->va[a] * tanhf(qp[a] + kpT[(size_t)a * Lk + j]);
        gs[g] = t;
        if (!any || t > mx) mx = t;
        any = 1;
    }

    for (int d = 0; d < Dv; d++) acc[d] = 0.0f;
    if (!any) {
        for (int d = 0; d < Dv; d++) orow[d] = 0.0f;
        return;
    }

    /* p_j = exp(s_j - max), in place, and their sum */
    const __m512 mb = _mm512_set1_ps(mx);
    __m512 sum = _mm512_setzero_ps();
    for (int j = lo; j < hi; j += 16) {
        const __mmask16 m = a512_lanes(j, j, hi);
        const __m512 e = _mm512_maskz_mov_ps(m, a512_exp(_mm512_sub_ps(_mm512_loadu_ps(s + j), mb)));
        _mm512_mask_storeu_ps(s + j, m, e);
        sum = _mm512_add_ps(sum, e);
    }
    float l = _mm512_reduce_add_ps(sum);

    /* acc = sum_j p_j v_j, 64 output columns (4 zmm, masked past Dv) at a time */
    for (int c0 = 0; c0 < Dv; c0 += 64) {
        __mmask16 md[4];
        __m512 av[4];
        for (int v = 0; v < 4; v++) {
            md[v] = a512_lanes(c0 + 16 * v, 0, Dv);
            av[v] = _mm512_setzero_ps();
        }
        for (int j = lo; j < hi; j++) {
            const __m512 pj = _mm512_set1_ps(s[j]);
            const float *vj = vbh + (size_t)j * Dv + c0;
            for (int v = 0; v < 4; v++)
                av[v] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(md[v], vj + 16 * v), av[v]);
        }
        for (int g = 0; g < gend; g++) {
            const int j = glist[g];
            if (j >= lo && j < hi) continue;
            const float pj = expf(gs[g] - mx);
            if (c0 == 0) l += pj;
            const float *vj = vbh + (size_t)j * Dv + c0;
            for (int v = 0; v < 4; v++)
                av[v] = _mm512_fmadd_ps(_mm512_set1_ps(pj), _mm512_maskz_loadu_ps(md[v], vj + 16 * v), av[v]);
        }
        for (int v = 0; v < 4; v++) _mm512_mask_storeu_ps(acc + c0 + 16 * v, md[v], av[v]);
    }
    const float inv = 1.0f / l;
    for (int d = 0; d < Dv; d++) orow[d] = acc[d] * inv;
}

static attn_status additive512_run(const attn_problem *p, const float *q, const float *k,
                                   const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, ADDITIVE512_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;

    const int A = p->A, D = p->D, Lk = p->Lk, group = p->H / p->Hkv;
    int *glist = workspace;                                     /* (Lk) */
    const int ng = plan_globals(p, glist);
    float *kpT = (float *)((char *)workspace + plan_round64((size_t)Lk * sizeof(int)));
    char *slots = (char *)kpT + plan_round64((size_t)p->B * p->Hkv * A * Lk * sizeof(float));
    const size_t sb = slot_bytes(p);
    const int kblocks = (Lk + KB - 1) / KB, qblocks = (p->Lq + QB - 1) / QB;
    const long total1 = (long)p->B * p->Hkv * kblocks, total2 = (long)p->B * p->H * qblocks;

    #pragma omp parallel num_threads(threads)
    {
        /* phase 1: kpT[b, hk][a][j] = Wk[a] . k[b, hk, j] */
        #pragma omp for schedule(static)
        for (long t = 0; t < total1; t++) {
            const int bhk = (int)(t / kblocks), j0 = (int)(t % kblocks) * KB;
            const int j1 = Lk - j0 < KB ? Lk : j0 + KB;
            const float *kbh = k + (size_t)bhk * Lk * D;            /* (Lk, D) */
            float *kp = kpT + (size_t)bhk * A * Lk;                 /* (A, Lk) */
            for (int j = j0; j < j1; j++)
                for (int a = 0; a < A; a++)
                    kp[(size_t)a * Lk + j] = a512_dot(p->wk + (size_t)a * D, kbh + (size_t)j * D, D);
        }
        /* (implicit barrier: every key projection is ready) */

        #ifdef _OPENMP
        float *slot = (float *)(slots + (size_t)omp_get_thread_num() * sb);
        #else
        float *slot = (float *)slots;
        #endif
        #pragma omp for schedule(dynamic)
        for (long t = 0; t < total2; t++) {
            const int bh = (int)(t / qblocks), i0 = (int)(t % qblocks) * QB;
            const int b = bh / p->H, h = bh % p->H, hk = h / group;
            const int i1 = p->Lq - i0 < QB ? p->Lq : i0 + QB;
            const float *kp = kpT + ((size_t)b * p->Hkv + hk) * A * Lk;        /* (A, Lk) */
            const float *vbh = v + ((size_t)b * p->Hkv + hk) * Lk * p->Dv;   /* (Lk, Dv) */
            for (int i = i0; i < i1; i++)
                query_row(p, b, i, q + (((size_t)b * p->H + h) * p->Lq + i) * D, kp, vbh,
                          out + (((size_t)b * p->H + h) * p->Lq + i) * p->Dv, glist, ng, slot);
        }
    }
    return ATTN_OK;
}

/* fp32 tolerance: each score is sum_a va[a] tanh(.) over A terms, tanh through the
 * polynomial exp (8 u) and rcp14 plus one Newton step (about 2^-27 relative): each
 * term is off by under 1e-7, the score by under A 1e-7 (6.4e-6 at A = 64), which
 * scales p_j by up to 1 + 6.4e-6 and the output by up to 1.3e-5; plus the sums over
 * keys (about 3e-5). Under 5e-5 at A = 64: atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_additive_avx512 = {
    .name = "additive_avx512",
    .desc = "additive (Bahdanau) score: key projections once per kv head, AVX-512 tanh, OpenMP",
    .requires = ATTN_REQ_AVX512,
    .caps = ADDITIVE512_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = additive512_workspace,
    .run = additive512_run,
    .unavailable = NULL,
};
