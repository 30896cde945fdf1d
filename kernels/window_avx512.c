/* window_avx512.c: the window kernel (window.c) with AVX-512 microkernels, OpenMP.
 *
 * Loop structure (same plan as window.c, see window_plan.h):
 *   parallel for over (b, h, query tile of BQ = 32 rows), schedule(dynamic):
 *     Qs = scale * Q_tile (rows past Lq are zero); spans of the rows and their union
 *     for each key tile of BK = 64 keys inside the union:
 *       Kt = K_tile^T (D, 64), by 16x16 register transposes (keys past the tile are 0)
 *       S = Qs Kt                      4 rows x 64 keys in 16 zmm accumulators, d innermost
 *       per row: lanes outside its span masked out; online softmax (FlashAttention-2):
 *                new max, corr = exp(m_old - m_new), P = exp(S - m_new), l = l*corr + sum P
 *       acc = corr * acc + P V         4 rows x 64 output columns in 16 zmm, keys innermost
 *     per ordinary row: the global key columns outside its band, one by one
 *     out = acc / l  (zeros for a row with no visible key)
 * Key tiles outside the union of the query tile's spans are never touched: cost
 * O(N * (2w + BQ)) for a window of w keys each side. Every vector loop handles its
 * remainder with masked loads and stores (D, Dv, tile widths not multiples of 16).
 */
#include <immintrin.h>
#include <math.h>
#include "attn.h"
#include "vec_avx512.h"
#include "window_plan.h"

#define BQ 32
#define BK A512_WK     /* keys per key tile (vec_avx512.h's window blocks) */
#define RB A512_WR      /* rows per register block */

#define WINDOW512_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                        ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_GLOBALS | \
                        ATTN_CAP_THREADS)

/* ---------------------------------------------------------------- kernel -- */

/* One thread's slot: Qs (BQ, D), Kt (D, BK), S/P (BQ, BK), acc (BQ, Dv), m, l, corr (BQ)
 * floats, lo, hi (BQ) ints. */
static size_t slot_bytes(const attn_problem *p)
{
    return plan_round64(((size_t)BQ * p->D + (size_t)p->D * BK + (size_t)BQ * BK +
                         (size_t)BQ * p->Dv + 3 * BQ) * sizeof(float) + 2 * BQ * sizeof(int));
}

/* Workspace: glist (Lk ints, global positions), then one slot per thread. */
static size_t window512_workspace(const attn_problem *p, int threads)
{
    return plan_workspace(p, threads, slot_bytes(p));
}

/* One query tile [i0, i0 + nq) of head (b, h) (plan_tile_fn, window_plan.h). */
static void query_tile(const attn_problem *p, int b, int i0, int nq,
                       const float *qbh, const float *kbh, const float *vbh, float *obh,
                       const int *glist, int ng, void *slot)
{
    const int D = p->D, Dv = p->Dv;
    float *Qs = slot;                           /* (BQ, D) scaled query rows, zero past nq */
    float *Kt = Qs + (size_t)BQ * D;            /* (D, BK) transposed key tile */
    float *S = Kt + (size_t)D * BK;             /* (BQ, BK) scores, then probabilities */
    float *acc = S + BQ * BK;                   /* (BQ, Dv) unnormalised output rows */
    float *m = acc + (size_t)BQ * Dv;           /* (BQ) running row max */
    float *l = m + BQ;                          /* (BQ) running row sum of exp */
    float *corr = l + BQ;                       /* (BQ) this tile's rescale of acc */
    int *lo = (int *)(corr + BQ);               /* (BQ) span of each row: keys [lo, hi) */
    int *hi = lo + BQ;

    int klo, khi;
    plan_spans(p, b, i0, nq, lo, hi, &klo, &khi);
    const __m512 sc = _mm512_set1_ps(p->scale);
    for (int r = 0; r < BQ; r++) {
        const float *qi = qbh + (size_t)(i0 + r) * D;
        for (int d = 0; d < D; d += 16) {
            const __mmask16 md = a512_lanes(d, 0, D);
            __m512 x = r < nq ? _mm512_maskz_loadu_ps(md, qi + d) : _mm512_setzero_ps();
            _mm512_mask_storeu_ps(Qs + (size_t)r * D + d, md, _mm512_mul_ps(sc, x));
        }
        if (r >= nq) lo[r] = hi[r] = 0;
        m[r] = -INFINITY;
        l[r] = 0.0f;
        for (int d = 0; d < Dv; d++) acc[(size_t)r * Dv + d] = 0.0f;
    }
    const int nrb = (nq + RB - 1) / RB;         /* row blocks holding real rows */

    for (int j0 = klo; j0 < khi; j0 += BK) {
        const int nk = khi - j0 < BK ? khi - j0 : BK;
        a512_transpose_keys(kbh + (size_t)j0 * D, nk, D, Kt);
        for (int rb = 0; rb < nrb; rb++) a512_scores_rows(Qs, Kt, D, S, rb * RB);

        /* online softmax per row, lanes outside the row's span masked out */
        for (int r = 0; r < nrb * RB; r++) {
            float *s = S + (size_t)r * BK;
            const int jl = lo[r] - j0, jh = hi[r] - j0;   /* span relative to the tile */
            __mmask16 mk[4];
            int any = 0;
            __m512 mx = _mm512_set1_ps(-INFINITY);
            for (int v = 0; v < 4; v++) {
                mk[v] = r < nq ? a512_lanes(16 * v, jl, jh < nk ? jh : nk) : 0;
                any |= mk[v];
                mx = _mm512_mask_max_ps(mx, mk[v], mx, _mm512_loadu_ps(s + 16 * v));
            }
            if (!any) {
                corr[r] = 1.0f;
                for (int v = 0; v < 4; v++) _mm512_storeu_ps(s + 16 * v, _mm512_setzero_ps());
                continue;
            }
            const float mt = _mm512_reduce_max_ps(mx);
            const float mnew = mt > m[r] ? mt : m[r];
            corr[r] = expf(m[r] - mnew);                /* m[r] = -inf at first: 0 */
            m[r] = mnew;
            const __m512 mv = _mm512_set1_ps(mnew);
            __m512 sum = _mm512_setzero_ps();
            for (int v = 0; v < 4; v++) {
                __m512 e = _mm512_maskz_mov_ps(mk[v], a512_exp(_mm512_sub_ps(_mm512_loadu_ps(s + 16 * v), mv)));
                sum = _mm512_add_ps(sum, e);
                _mm512_storeu_ps(s + 16 * v, e);
            }
            l[r] = l[r] * corr[r] + _mm512_reduce_add_ps(sum);
        }

        /* acc = corr * acc + P V over the keys some row of the block sees */
        for (int rb = 0; rb < nrb; rb++) {
            int kl = nk, kh = 0;
            for (int r = rb * RB; r < rb * RB + RB && r < nq; r++) {
                int a = lo[r] - j0, c = hi[r] - j0;
                if (a < 0) a = 0;
                if (c > nk) c = nk;
                if (a < c) {
                    if (a < kl) kl = a;
                    if (c > kh) kh = c;
                }
            }
            if (kl >= kh) continue;     /* every corr of the block is 1: acc unchanged */
            a512_pv_rows(S, corr, vbh + (size_t)j0 * Dv, kl, kh, Dv, acc, rb * RB);
        }
    }

    /* global key columns outside an ordinary row's band (inside ones were in the span) */
    for (int r = 0; r < nq; r++) {
        const int gend = plan_global_end(p, b, i0 + r, glist, ng);
        const float *qi = Qs + (size_t)r * D;
        float *ar = acc + (size_t)r * Dv;
        for (int g = 0; g < gend; g++) {
            const int j = glist[g];
            if (j >= lo[r] && j < hi[r]) continue;
            const float s = a512_dot(qi, kbh + (size_t)j * D, D);
            float c = 1.0f;
            if (s > m[r]) {
                c = expf(m[r] - s);
                m[r] = s;
            }
            const float pj = expf(s - m[r]);
            l[r] = l[r] * c + pj;
            a512_axpby(c, ar, pj, vbh + (size_t)j * Dv, Dv);
        }
    }

    for (int r = 0; r < nq; r++) {
        float *orow = obh + (size_t)(i0 + r) * Dv;
        const __m512 inv = _mm512_set1_ps(l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
        for (int d = 0; d < Dv; d += 16) {
            const __mmask16 md = a512_lanes(d, 0, Dv);
            _mm512_mask_storeu_ps(orow + d, md,
                                  _mm512_mul_ps(inv, _mm512_maskz_loadu_ps(md, acc + (size_t)r * Dv + d)));
        }
    }
}

static attn_status window512_run(const attn_problem *p, const float *q, const float *k,
                                 const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, WINDOW512_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;

    plan_run(p, q, k, v, out, workspace, threads, BQ, slot_bytes(p), query_tile);
    return ATTN_OK;
}

/* fp32 tolerance: window.c's bound (sums about 3e-5, a rescale per 64 keys) with the
 * polynomial exp (8 u: 16 u on the output) and 16-lane partial sums of each row's
 * tile, which only shorten the summation chains. atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_window_avx512 = {
    .name = "window_avx512",
    .desc = "sliding window + global tokens, O(N*w): AVX-512 32x64 tiles in the band, OpenMP",
    .requires = ATTN_REQ_AVX512,
    .caps = WINDOW512_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = window512_workspace,
    .run = window512_run,
    .unavailable = NULL,
};
