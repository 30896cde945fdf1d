/* naive.c: the reference kernel. Plain loops, obviously right, not a contender.
 *
 * Loop structure, per (b, h):
 *   S = scores of every query row against every key   (Lq, Lk) materialised in workspace
 *   for each row i: softmax over the keys i may see, then out_i = sum_j P_ij v_j
 * The whole score matrix of one head is kept on purpose, so the O(Lq * Lk) memory of the
 * textbook algorithm shows in the measurements. Every variant of attn.h is supported
 * (dot, additive and general scores, causal, padding, window, globals, GQA/MQA, cross, Dv != D);
 * single-threaded.
 *
 * Masked pairs are skipped (attn_allowed() decides), never given -inf: a row with no
 * visible key outputs zeros instead of 0/0. The softmax subtracts the row max.
 *
 * attn_reference_rows() computes chosen rows with the same two row functions
 * (row_scores, row_softmax_pv), so "naive" means one thing whether all rows are computed
 * or a sample is.
 */
#include <math.h>
#include <string.h>
#include "attn.h"

/* ------------------------------------------------------- shared row code -- */

/* out (A) = w (A, D) x (D): one additive projection, Wq q_i or Wk k_j. */
static void project(const float *w, const float *x, int A, int D, float *out)
{
    for (int a = 0; a < A; a++) {
        float s = 0.0f;
        for (int d = 0; d < D; d++) s += w[(size_t)a * D + d] * x[d];
        out[a] = s;
    }
}

/* out (D) = W^T x for the general score's W (D, D): q'_e = sum_d W[d][e] q_d, so that
 * q^T W k = q' . k. */
static void project_general(const float *w, const float *x, int D, float *out)
{
    for (int e = 0; e < D; e++) out[e] = 0.0f;
    for (int d = 0; d < D; d++)
        for (int e = 0; e < D; e++) out[e] += w[(size_t)d * D + e] * x[d];
}

/* The score of one (query, key) pair. qi, kj are (D); pq, pk are (A), the additive
 * projections of qi and kj (unused for dot scores); for general scores pq is (D), W^T qi. */
static float score(const attn_problem *p, const float *qi, const float *kj,
                   const float *pq, const float *pk)
{
    float s = 0.0f;
    if (p->score == ATTN_SCORE_DOT) {
        for (int d = 0; d < p->D; d++) s += qi[d] * kj[d];
        return p->scale * s;
    }
    if (p->score == ATTN_SCORE_GENERAL) {
        for (int d = 0; d < p->D; d++) s += pq[d] * kj[d];
        return s;
    }
    for (int a = 0; a < p->A; a++) s += p->va[a] * tanhf(pq[a] + pk[a]);
    return s;
}

/* Scores of query row i of batch item b into s (Lk), visible keys only (the others are
 * left as they were). qi is (D), kbh is (Lk, D), pq is (A), pkbh is (Lk, A). */
static void row_scores(const attn_problem *p, int b, int i, const float *qi, const float *kbh,
                       const float *pq, const float *pkbh, float *s)
{
    for (int j = 0; j < p->Lk; j++)
        if (attn_allowed(p, b, i, j))
            s[j] = score(p, qi, kbh + (size_t)j * p->D, pq, pkbh ? pkbh + (size_t)j * p->A : NULL);
}

/* Softmax of row i's visible scores s (Lk, overwritten by the probabilities) and
 * out_row (Dv) = sum_j P_ij v_j with vbh (Lk, Dv). No visible key: zeros. */
static void row_softmax_pv(const attn_problem *p, int b, int i, float *s, const float *vbh,
                           float *out_row)
{
    int any = 0;
    float max = 0.0f;
    for (int j = 0; j < p->Lk; j++)
        if (attn_allowed(p, b, i, j) && (!any || s[j] > max)) { max = s[j]; any = 1; }
    for (int d = 0; d < p->Dv; d++) out_row[d] = 0.0f;
    if (!any) return;

    float sum = 0.0f;
    for (int j = 0; j < p->Lk; j++) {
        if (!attn_allowed(p, b, i, j)) continue;
        s[j] = expf(s[j] - max);
        sum += s[j];
        for (int d = 0; d < p->Dv; d++) out_row[d] += s[j] * vbh[(size_t)j * p->Dv + d];
    }
    for (int d = 0; d < p->Dv; d++) out_row[d] /= sum;
}

/* Key projections Wk k_j of one key/value head: kbh (Lk, D) -> pk (Lk, A). */
static void project_keys(const attn_problem *p, const float *kbh, float *pk)
{
    for (int j = 0; j < p->Lk; j++)
        project(p->wk, kbh + (size_t)j * p->D, p->A, p->D, pk + (size_t)j * p->A);
}

/* Floats of score projections held at once: additive, all keys of one head plus one
 * query (A each); general, one query (D). */
static size_t additive_floats(const attn_problem *p)
{
    return p->score == ATTN_SCORE_ADDITIVE ? ((size_t)p->Lk + 1) * p->A
         : p->score == ATTN_SCORE_GENERAL ? (size_t)p->D : 0;
}

/* The query's projection for its scores into pq: Wq q (additive), W^T q (general). */
static void project_query(const attn_problem *p, const float *qi, float *pq)
{
    if (p->score == ATTN_SCORE_ADDITIVE) project(p->wq, qi, p->A, p->D, pq);
    else if (p->score == ATTN_SCORE_GENERAL) project_general(p->wg, qi, p->D, pq);
}

/* ---------------------------------------------------------------- kernel -- */

#define NAIVE_CAPS (ATTN_CAP_DOT | ATTN_CAP_ADDITIVE | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | \
                    ATTN_CAP_CROSS | ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW |      \
                    ATTN_CAP_GLOBALS | ATTN_CAP_GENERAL)

/* S (Lq, Lk), then for additive scores pk (Lk, A) and pq (A), for general pq (D). */
static size_t naive_workspace(const attn_problem *p, int threads)
{
    (void)threads;
    return ((size_t)p->Lq * p->Lk + additive_floats(p)) * sizeof(float);
}

static attn_status naive_run(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, NAIVE_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;

    const int group = p->H / p->Hkv;
    float *S = workspace;                                   /* (Lq, Lk) */
    float *pk = S + (size_t)p->Lq * p->Lk;                  /* (Lk, A), additive only */
    float *pq = pk + (size_t)p->Lk * p->A;                  /* (A) additive, (D) general */
    const int additive = p->score == ATTN_SCORE_ADDITIVE, proj = p->score != ATTN_SCORE_DOT;

    for (int b = 0; b < p->B; b++) {
        for (int h = 0; h < p->H; h++) {
            const int hk = h / group;
            const float *qbh = q + ((size_t)b * p->H + h) * p->Lq * p->D;     /* (Lq, D) */
            const float *kbh = k + ((size_t)b * p->Hkv + hk) * p->Lk * p->D;  /* (Lk, D) */
            const float *vbh = v + ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv; /* (Lk, Dv) */
            float *obh = out + ((size_t)b * p->H + h) * p->Lq * p->Dv;        /* (Lq, Dv) */

            if (additive) project_keys(p, kbh, pk);
            for (int i = 0; i < p->Lq; i++) {
                const float *qi = qbh + (size_t)i * p->D;
                project_query(p, qi, pq);
                row_scores(p, b, i, qi, kbh, proj ? pq : NULL, additive ? pk : NULL,
                           S + (size_t)i * p->Lk);
            }
            for (int i = 0; i < p->Lq; i++)
                row_softmax_pv(p, b, i, S + (size_t)i * p->Lk, vbh, obh + (size_t)i * p->Dv);
        }
    }
    return ATTN_OK;
}

/* fp32 tolerance: naive rounds the scores (q.k in a recursive sum over D, libm expf at
 * < 1 ulp) and the sums over keys in key order; nothing else. The sums dominate:
 * about 3e-5 at 65536 keys (sqrt(n) u for each sum, their ratio twice that), so
 * atol = 1e-4 keeps a 3x margin; rtol = 1e-3 only widens it for large |ref|.
 * (naive is itself checked against float64 with the same bound.)
 * bf16 / f16: naive reads the float copies of q, k, v, which hold the rounded values
 * exactly, and the reference is computed from the same values; its arithmetic is the
 * fp32 one above, so is its bound. */
const attn_kernel attn_kernel_naive = {
    .name = "naive",
    .desc = "reference: plain loops, full score matrix per head, every variant",
    .requires = 0,
    .caps = NAIVE_CAPS,
    .dtypes = ATTN_DTYPES_ALL,
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 }, [ATTN_BF16] = { 1e-4, 1e-3 }, [ATTN_F16] = { 1e-4, 1e-3 } },
    .workspace_bytes = naive_workspace,
    .run = naive_run,
    .unavailable = NULL,
};

/* ------------------------------------------------------------- reference -- */

/* One score row (Lk), then for additive scores pk (Lk, A) and pq (A), general pq (D). */
size_t attn_reference_scratch_bytes(const attn_problem *p)
{
    return ((size_t)p->Lk + additive_floats(p)) * sizeof(float);
}

void attn_reference_rows(const attn_problem *p,
                         const float *q, const float *k, const float *v,
                         const int *rows, int n, float *out_rows, void *scratch)
{
    const int group = p->H / p->Hkv;
    float *s = scratch;                                     /* (Lk) */
    float *pk = s + p->Lk;                                  /* (Lk, A), additive only */
    float *pq = pk + (size_t)p->Lk * p->A;                  /* (A) additive, (D) general */
    const int additive = p->score == ATTN_SCORE_ADDITIVE, proj = p->score != ATTN_SCORE_DOT;

    for (int b = 0; b < p->B; b++) {
        for (int h = 0; h < p->H; h++) {
            const int hk = h / group;
            const float *qbh = q + ((size_t)b * p->H + h) * p->Lq * p->D;
            const float *kbh = k + ((size_t)b * p->Hkv + hk) * p->Lk * p->D;
            const float *vbh = v + ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv;
            float *obh = out_rows + ((size_t)b * p->H + h) * n * p->Dv;       /* (n, Dv) */

            if (additive) project_keys(p, kbh, pk);
            for (int r = 0; r < n; r++) {
                const int i = rows[r];
                const float *qi = qbh + (size_t)i * p->D;
                project_query(p, qi, pq);
                row_scores(p, b, i, qi, kbh, proj ? pq : NULL, additive ? pk : NULL, s);
                row_softmax_pv(p, b, i, s, vbh, obh + (size_t)r * p->Dv);
            }
        }
    }
}
