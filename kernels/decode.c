/* decode.c: decode attention for small Lq (meant for Lq <= 16 query rows; correct for any
 * Lq) against a long KV cache, portable C with OpenMP: split-KV (flash-decoding) with all
 * query rows of one GQA group computed against a single pass over the group's K and V.
 *
 * Loop structure (the driver is decode_split.h; this file is the part function):
 *   parallel for work item (b, kv head g, key chunk c), dynamic schedule:
 *     rows = the Lq rows of each of the H/Hkv query heads of group g (R = H/Hkv x Lq)
 *     m = -inf, l = 0, acc = 0 (R x Dv)
 *     for each block of DEC_KB keys of the chunk:     each K row and V row read once
 *       s[j][r] = scale * q_r . k_j               for every row r of the group
 *       per row r, on the keys of its band [lo_r, hi_r) (attn_band: padding, ragged
 *         causal edge, window): block max, new running max, rescale acc_r and l_r when
 *         it grew, p = e^(s - m), l_r += sum p (keys outside the band: p = 0)
 *       acc_r += sum_j p[j][r] v_j
 *     one chunk per (b, g): out = acc / l; else the part (m, l, acc) is kept and, after
 *     a barrier, the parts of one (b, g) are merged by log-sum-exp.
 * Rows with no visible key output zeros. Workspace: per thread the packed rows of one
 * block, acc and row statistics; part slots only when B x Hkv < 4 x threads (then fewer
 * than 8 x threads of them). Nothing of size Lk. The scalar loops leave vectorisation to
 * the compiler; decode_avx2.c is the tuned version.
 *
 * Storage: f32 q, k, v are read in place; bf16 / f16 ones (p->q16, k16, v16) are widened
 * with kernels/dtype.c's scalar conversions (attn_widen16, exact): q once per part, K and
 * V one block of DEC_KB keys at a time into the thread's scratch (kw: DEC_KB x (D + Dv)
 * floats), and the fp32 loops run on the copy. The dtype is asked once per block, never
 * per element.
 */
#include <math.h>
#include "attn.h"
#include "decode_split.h"
#include "vec_portable.h"

#ifndef DEC_KB
#define DEC_KB 32
#endif
static const dec_geom geom = { DEC_KB, 8, 16, 1 };  /* no SIMD: the lanes only pad rows */

#define DECODE_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                     ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

/* The part function (decode_split.h) for every dtype: fp32 rows are read in place; 16-bit
 * q rows are widened once into the scratch's q rows, and each block of 16-bit K and V rows
 * into kw (kb x D, then kb x Dv) before the fp32 loops run on it. */
static void decode_part(const attn_problem *p, const dec_layout *L, const void *qv,
                        const void *kv, const void *vv, int k0, int k1, float *sc)
{
    const int D = p->D, Dv = p->Dv, R = L->R, ldst = L->RL, lda = L->lda;
    float *st = sc + L->o_st, *acc = sc + L->o_acc, *m = sc + L->o_m, *l = sc + L->o_l;
    const int *lo = (const int *)(sc + L->o_lo), *hi = (const int *)(sc + L->o_hi);
    const int half = p->dtype != ATTN_F32;
    float *kw = sc + L->o_kw, *vw = kw + (size_t)L->kb * D;
    const float *qg = qv;
    size_t ldqg = (size_t)D;
    if (half) {
        for (int r = 0; r < R; r++)
            attn_widen16(p->dtype, (const uint16_t *)qv + (size_t)r * D, (size_t)D, sc + L->o_q + (size_t)r * L->ldq);
        qg = sc + L->o_q;
        ldqg = (size_t)L->ldq;
    }

    for (int r = 0; r < R; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
        for (int x = 0; x < lda; x++) acc[(size_t)r * lda + x] = 0.0f;
    }
    for (int j0 = k0; j0 < k1; j0 += L->kb) {
        const int nk = k1 - j0 < L->kb ? k1 - j0 : L->kb;
        const float *kb = (const float *)kv + (size_t)j0 * D, *vb = (const float *)vv + (size_t)j0 * Dv;
        if (half) {
            attn_widen16(p->dtype, (const uint16_t *)kv + (size_t)j0 * D, (size_t)nk * D, kw);
            attn_widen16(p->dtype, (const uint16_t *)vv + (size_t)j0 * Dv, (size_t)nk * Dv, vw);
            kb = kw;
            vb = vw;
        }
        for (int j = 0; j < nk; j++) {
            const float *kj = kb + (size_t)j * D;
            for (int r = 0; r < R; r++)
                st[(size_t)j * ldst + r] = p->scale * p_dot(qg + (size_t)r * ldqg, kj, D);
        }
        for (int r = 0; r < R; r++) {
            int a = lo[r] - j0, z = hi[r] - j0;
            if (a < 0) a = 0;
            if (z > nk) z = nk;
            if (a >= z) {
                for (int j = 0; j < nk; j++) st[(size_t)j * ldst + r] = 0.0f;
                continue;
            }
            float mx = -INFINITY;
            for (int j = a; j < z; j++)
                if (st[(size_t)j * ldst + r] > mx) mx = st[(size_t)j * ldst + r];
            if (mx > m[r]) {
                const float corr = expf(m[r] - mx);    /* 0 when m was -inf (acc, l are 0) */
                float *ar = acc + (size_t)r * lda;
                for (int x = 0; x < Dv; x++) ar[x] *= corr;
                l[r] *= corr;
                m[r] = mx;
            }
            float sum = 0.0f;
            for (int j = 0; j < nk; j++) {
                float *s = st + (size_t)j * ldst + r;
                const float pj = j >= a && j < z ? expf(*s - m[r]) : 0.0f;
                *s = pj;
                sum += pj;
            }
            l[r] += sum;
        }
        for (int j = 0; j < nk; j++) {
            const float *vj = vb + (size_t)j * Dv;
            for (int r = 0; r < R; r++) {
                const float pj = st[(size_t)j * ldst + r];
                if (pj == 0.0f) continue;
                float *ar = acc + (size_t)r * lda;
                for (int x = 0; x < Dv; x++) ar[x] += pj * vj[x];
            }
        }
    }
}

static size_t decode_workspace(const attn_problem *p, int threads)
{
    return dec_workspace(p, threads, geom);
}

static attn_status decode_run(const attn_problem *p, const float *q, const float *k,
                              const float *v, float *out, void *workspace, int threads)
{
    attn_status st = dec_check(p, DECODE_CAPS, threads, DEC_DTYPES);
    if (st != ATTN_OK) return st;
    dec_run(p, q, k, v, out, workspace, threads, geom, decode_part);
    return ATTN_OK;
}

const attn_kernel attn_kernel_decode = {
    .name = "decode",
    .desc = "decode (Lq <= 16): split-KV over threads, one K/V pass per GQA group, log-sum-exp merge, OpenMP; f32, bf16, f16 q/k/v",
    .caps = DECODE_CAPS,
    .dtypes = DEC_DTYPES,
    /* tolerance: the fp32 scores, max and sum of flash with expf, merged by log-sum-exp
     * across parts (one extra rescale per part: a few ulp), far below 1e-4 / 1e-3. bf16,
     * f16: the reference is computed from the rounded inputs and widening them is exact
     * (dtype.c), so the arithmetic, and the bound, are fp32's */
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 }, [ATTN_BF16] = { 1e-4, 1e-3 }, [ATTN_F16] = { 1e-4, 1e-3 } },
    .workspace_bytes = decode_workspace,
    .run = decode_run,
};
