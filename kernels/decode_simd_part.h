/* decode_simd_part.h: dec_simd_part, the part function (decode_split.h's dec_part_fn) of
 * the SIMD decode kernels, written once over a primitive set and the storage type of q, K
 * and V; included once per storage type (no include guard). No intrinsics here.
 *
 * The includer defines, before the first include:
 *   DEC_PREFIX  the primitives' prefix (a2_): softmax_tile, scale_row, and the row
 *               microkernels scores_dots, pv, widen_row (contracts in vec_avx2.h)
 *   DEC_LANES   its softmax's lanes (also its dec_geom's lanes)
 *   DEC_PF      the prefetch distance in keys of fp32 rows (0: hardware prefetch only);
 *               16-bit rows are prefetched twice as many keys ahead: the same bytes
 * and before each include (this file undefines them at its end):
 *   DEC_KV      the storage type's suffix: empty for fp32, _bf16, _f16. The part function
 *               is dec_simd_part<DEC_KV> and calls <prefix>scores_dots<DEC_KV>,
 *               <prefix>pv<DEC_KV>, <prefix>widen_row<DEC_KV>: the load of K, V and q
 *               rows is fixed when the instance is compiled (vec_avx2_kv.h), never asked
 *               per element
 *   DEC_KV_T    the element type: float, or uint16_t (the bits of a bf16 / f16)
 *
 * dec_simd_part<DEC_KV>:
 *   q rows widened and packed once as qp (R4, ldq): rows padded to 4 and columns to the
 *   lanes, zeros
 *   m = -inf, l = 0, acc = 0 (R4 x lda); score lanes R4..RL zero (never written below)
 *   for each block of kb keys of [k0, k1):
 *     st = scale * K_blk Q^T (kb, RL)   <prefix>scores_dots: row-wise dot products, K read
 *                                       in place in its storage type and widened in
 *                                       registers, each K row from memory once for all R
 *                                       rows; prefetches the block DEC_PF fp32 keys'
 *                                       bytes ahead
 *     per group of `lanes` rows: <prefix>softmax_tile (online softmax across the rows of
 *       a vector; the per-row band [lo, hi) compared only on blocks crossing a band edge:
 *       the ragged causal edge of Lq > 1, padding, window); rescale only the acc rows
 *       whose max grew
 *     acc += P V_blk                     <prefix>pv (4-row blocks), V read in place
 * Rows R..R4 compute on zero q rows; they are never output. All arithmetic is fp32: a
 * 16-bit instance computes exactly what the fp32 instance computes on the widened values.
 */
#ifndef DEC_CAT
#define DEC_CAT2(a, b) a##b
#define DEC_CAT(a, b) DEC_CAT2(a, b)
#define DECP(x) DEC_CAT(DEC_PREFIX, x)
#endif

static void DEC_CAT(dec_simd_part, DEC_KV)(const attn_problem *p, const dec_layout *L,
                                          const void *qv, const void *kv, const void *vv,
                                          int k0, int k1, float *sc)
{
    const DEC_KV_T *qg = qv, *kbh = kv, *vbh = vv;
    const int D = p->D, Dv = p->Dv, R = L->R, R4 = L->R4, RL = L->RL, ldq = L->ldq, lda = L->lda;
    const int lanes = DEC_LANES;
    const int pf = DEC_PF * (int)(sizeof(float) / sizeof(DEC_KV_T));     /* keys: same bytes */
    float *qp = sc + L->o_q, *st = sc + L->o_st, *acc = sc + L->o_acc;
    float *m = sc + L->o_m, *l = sc + L->o_l, *corr = sc + L->o_corr;
    const int *lo = (const int *)(sc + L->o_lo), *hi = (const int *)(sc + L->o_hi);

    for (size_t e = 0; e < (size_t)R4 * ldq; e++) qp[e] = 0.0f;
    for (int r = 0; r < R; r++) DECP(DEC_CAT(widen_row, DEC_KV))(qg + (size_t)r * D, D, qp + (size_t)r * ldq);
    for (int r = 0; r < RL; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    for (size_t e = 0; e < (size_t)R4 * lda; e++) acc[e] = 0.0f;
    for (int j = 0; j < L->kb; j++)
        for (int r = R4; r < RL; r++) st[(size_t)j * RL + r] = 0.0f;
    int maxlo = 0, minhi = p->Lk;
    for (int r = 0; r < R; r++) {
        if (lo[r] > maxlo) maxlo = lo[r];
        if (hi[r] < minhi) minhi = hi[r];
    }

    for (int j0 = k0; j0 < k1; j0 += L->kb) {
        const int nk = k1 - j0 < L->kb ? k1 - j0 : L->kb;
        /* prefetch the block pf keys ahead: K and V stream in while this computes */
        const int jp = j0 + pf, npf = pf > 0 && jp < k1 ? (k1 - jp < nk ? k1 - jp : nk) : 0;
        DECP(DEC_CAT(scores_dots, DEC_KV))(kbh + (size_t)j0 * D, D, nk, D, qp, ldq, R4, p->scale,
                                           st, RL, kbh + (size_t)jp * D, vbh + (size_t)jp * Dv,
                                           Dv, Dv, npf);
        const int masked = !(maxlo <= j0 && minhi >= j0 + nk);
        for (int g = 0; g < RL; g += lanes) {
            unsigned grew = DECP(softmax_tile)(st + g, RL, nk, j0, lo + g, hi + g, masked,
                                               m + g, l + g, corr + g);
            while (grew) {
                const int r = g + __builtin_ctz(grew);
                grew &= grew - 1;
                if (r < R4) DECP(scale_row)(acc + (size_t)r * lda, lda, corr[r]);
            }
        }
        DECP(DEC_CAT(pv, DEC_KV))(st, RL, nk, vbh + (size_t)j0 * Dv, Dv, Dv, acc, lda, R4);
    }
}

#undef DEC_KV
#undef DEC_KV_T
