/* flash_bf16.c: flash attention on bf16 q, k, v with AVX512-BF16: VDPBF16PS (a dot product
 * of bf16 pairs into fp32, 2 multiply-adds per lane per instruction) for Q K^T and for
 * P V, with P rounded to bf16; softmax, running max and sum, and the accumulators fp32.
 * Runs on Intel Cooper Lake / Sapphire Rapids and later and AMD Zen 4 and later.
 *
 * Loop structure (flash_tile.h's, with bf16 pair layouts for the two products):
 *   parallel for (b, h, query tile of BQ rows), heaviest tiles first (qtile_par.h):
 *     bands [lo, hi) of the tile's rows; key range = their union
 *     qp[d2][r] = (q[r][2 d2], q[r][2 d2 + 1]) packed as one 32-bit pair   once per tile
 *     for each key tile of KT keys inside the union:
 *       st = scale * K qp^T (KT, BQ): a K pair broadcast against 16 rows' Q pairs, read
 *         in place from k16; register block 4 keys x 4 row vectors           bf_scores
 *       online softmax per 16 rows (vec_avx512.h's, fp32), rescaling rows whose max grew
 *       pp[j2][r] = (P[2 j2][r], P[2 j2 + 1][r]) rounded to bf16 (VCVTNE2PS2BF16)
 *       vp[j2][c] = (v[2 j2][c], v[2 j2 + 1][c]): two V rows interleaved        bf_pack_v
 *       acc += pp vp: a P pair broadcast against 16 columns' V pairs; 4 rows x 4 column
 *         vectors                                                               bf_pv
 *     out = acc / l (0 for rows with no visible key)
 * An odd D or an odd key count pads the pair with a zero.
 *
 * Tiles: BQ = 64 rows (one 4-vector row group of bf_scores), KT = 64 keys, flash_avx512's
 * sizes: the fp32 score tile (16 KiB) stays in L1 from the scores to the packing of P;
 * the packed P and V tiles are 8 KiB and 16 KiB at Dv = 64. -DFLASH_BF16_BQ=...,
 * -DFLASH_BF16_KT=... (KT even) to re-sweep.
 *
 * The 16-bit tensors are p->q16, k16, v16; the float arrays run() gets only locate a
 * head's slice. The checks, bands and slices around the tile loop are flash16_frame.h's,
 * shared with flash_f16.
 */
#include <string.h>
#include "attn.h"
#include "vec_avx512.h"
#include "flash16_frame.h"

#ifndef FLASH_BF16_BQ
#define FLASH_BF16_BQ 64    /* a multiple of BF_ROWS */
#endif
#ifndef FLASH_BF16_KT
#define FLASH_BF16_KT 64    /* even */
#endif
enum { BQ = FLASH_BF16_BQ, KT = FLASH_BF16_KT, BF_ROWS = 64, BF_COLS = 64 };

#define FLASH_BF16_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                         ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

/* The pair (x[0], x[1]) of bf16 bits as one 32-bit lane value; (x[0], 0) when !two. */
static inline uint32_t pair_at(const uint16_t *x, int two)
{
    return x[0] | (two ? (uint32_t)x[1] << 16 : 0u);
}

static inline __m512 dp(__m512 acc, __m512i a, __m512i b)
{
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

/* The pair at x broadcast to every lane (one vpbroadcastd from memory). */
static inline __m512i bcast_pair(const uint16_t *x)
{
    uint32_t u;
    memcpy(&u, x, sizeof u);
    return _mm512_set1_epi32((int)u);
}

/* st[j][r] = scale * sum_d k[j][d] q[r][d] for keys j in [0, nk), rows r in [0, nr) (nr
 * a multiple of 64). k is (nk, D) bf16 rows read in place; qp is (ceil(D/2), ldq) pairs
 * (for an odd D the last pair's upper half is 0, and the last key element is broadcast
 * alone, so nothing past a row is read). */
static void bf_scores(const uint16_t *k, int nk, int D, const uint32_t *qp, int ldq, int nr,
                      float scale, float *st, int ldst)
{
    const int D2 = D / 2, odd = D & 1;
    const __m512 vs = _mm512_set1_ps(scale);
    for (int r0 = 0; r0 < nr; r0 += BF_ROWS) {
        for (int j = 0; j < nk; j += 4) {
            const int nb = nk - j < 4 ? nk - j : 4;       /* keys in this block */
            const uint16_t *kr[4];
            for (int a = 0; a < 4; a++) kr[a] = k + (size_t)(j + (a < nb ? a : 0)) * D;
            __m512 c[4][4];
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++) c[a][b] = _mm512_setzero_ps();
            for (int d2 = 0; d2 < D2 + odd; d2++) {
                const uint32_t *q = qp + (size_t)d2 * ldq + r0;
                const __m512i q0 = _mm512_load_si512(q), q1 = _mm512_load_si512(q + 16);
                const __m512i q2 = _mm512_load_si512(q + 32), q3 = _mm512_load_si512(q + 48);
                for (int a = 0; a < 4; a++) {
                    const __m512i b = d2 < D2 ? bcast_pair(kr[a] + 2 * d2)
                                              : _mm512_set1_epi32(kr[a][2 * d2]);
                    c[a][0] = dp(c[a][0], b, q0); c[a][1] = dp(c[a][1], b, q1);
                    c[a][2] = dp(c[a][2], b, q2); c[a][3] = dp(c[a][3], b, q3);
                }
            }
            for (int a = 0; a < nb; a++)
                for (int b = 0; b < 4; b++)
                    _mm512_store_ps(st + (size_t)(j + a) * ldst + r0 + 16 * b, _mm512_mul_ps(c[a][b], vs));
        }
    }
}

/* pp[j2][r] = (P[2 j2][r], P[2 j2 + 1][r]) rounded to bf16 (nearest even) for rows
 * [0, nr) (a multiple of 16), keys [0, nk); the pair of an odd last key gets P = 0. */
static void bf_pack_p(const float *st, int ldst, int nk, int nr, uint32_t *pp, int ldp)
{
    /* words of cvtne2ps(b, a): a in 0..15, b in 16..31; interleave them a0 b0 a1 b1 ... */
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                         23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int j = 0; j < nk; j += 2)
        for (int r = 0; r < nr; r += 16) {
            const __m512 a = _mm512_load_ps(st + (size_t)j * ldst + r);
            const __m512 b = j + 1 < nk ? _mm512_load_ps(st + (size_t)(j + 1) * ldst + r) : _mm512_setzero_ps();
            const __m512i ab = (__m512i)_mm512_cvtne2ps_pbh(b, a);
            _mm512_store_si512(pp + (size_t)(j / 2) * ldp + r, _mm512_permutexvar_epi16(idx, ab));
        }
}

/* vp[j2][c] = (v[2 j2][c], v[2 j2 + 1][c]) for keys [0, nk) (an odd last key paired with
 * 0), columns [0, Dv), zeros in columns [Dv, ldv). v is (nk, Dv) bf16 rows. */
static void bf_pack_v(const uint16_t *v, int nk, int Dv, uint32_t *vp, int ldv)
{
    for (int j = 0; j < nk; j += 2) {
        const uint16_t *v0 = v + (size_t)j * Dv, *v1 = v0 + Dv;
        uint32_t *out = vp + (size_t)(j / 2) * ldv;
        for (int c = 0; c < ldv; c += 16) {
            const int w = Dv - c < 16 ? (Dv - c > 0 ? Dv - c : 0) : 16;
            const __mmask16 m = (__mmask16)((1u << w) - 1u);
            const __m256i r0 = _mm256_maskz_loadu_epi16(m, v0 + c);
            const __m256i r1 = j + 1 < nk ? _mm256_maskz_loadu_epi16(m, v1 + c) : _mm256_setzero_si256();
            const __m512i pr = _mm512_or_si512(_mm512_cvtepu16_epi32(r0),
                                               _mm512_slli_epi32(_mm512_cvtepu16_epi32(r1), 16));
            _mm512_store_si512(out + c, pr);
        }
    }
}

/* acc[r][c] += sum_j2 pp[j2][r] . vp[j2][c] (pair dot products) for rows [0, nr) (a
 * multiple of 4), pairs [0, n2), columns [0, lda) (lda a multiple of 64; vp's padding
 * columns are 0). Register block 4 rows x 4 column vectors = 16 accumulators. */
static void bf_pv(const uint32_t *pp, int ldp, int n2, const uint32_t *vp, float *acc, int lda, int nr)
{
    for (int c0 = 0; c0 < lda; c0 += BF_COLS)
        for (int r0 = 0; r0 < nr; r0 += 4) {
            __m512 c[4][4];
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++) c[a][b] = _mm512_load_ps(acc + (size_t)(r0 + a) * lda + c0 + 16 * b);
            for (int j2 = 0; j2 < n2; j2++) {
                const uint32_t *vr = vp + (size_t)j2 * lda + c0, *pr = pp + (size_t)j2 * ldp + r0;
                const __m512i v0 = _mm512_load_si512(vr), v1 = _mm512_load_si512(vr + 16);
                const __m512i v2 = _mm512_load_si512(vr + 32), v3 = _mm512_load_si512(vr + 48);
                for (int a = 0; a < 4; a++) {
                    const __m512i b = _mm512_set1_epi32((int)pr[a]);
                    c[a][0] = dp(c[a][0], b, v0); c[a][1] = dp(c[a][1], b, v1);
                    c[a][2] = dp(c[a][2], b, v2); c[a][3] = dp(c[a][3], b, v3);
                }
            }
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++) _mm512_store_ps(acc + (size_t)(r0 + a) * lda + c0 + 16 * b, c[a][b]);
        }
}

/* One thread's scratch, in 4-byte words: qp (ceil(D/2), BQ), st (KT, BQ), pp (KT/2, BQ),
 * vp (KT/2, lda), acc (BQ, lda), m, l, corr, lo, hi (BQ). BQ and lda are multiples of 16,
 * so every part starts 64-byte aligned when the slot does. */
static size_t slot_words(const attn_problem *p)
{
    const size_t lda = (size_t)round_up(p->Dv, BF_COLS);
    return (size_t)BQ * ((size_t)(p->D + 1) / 2 + KT + KT / 2 + lda + 5) + (size_t)(KT / 2) * lda;
}

static void bf16_qtile(const attn_problem *p, int b, int i0, int nq, const float *qbh,
                       const float *kbh, const float *vbh, float *obh, void *slot, const void *arg)
{
    const h16_heads h = h16_slices(p, arg, qbh, kbh, vbh);  /* (Lq, D), (Lk, D), (Lk, Dv) */
    const int D = p->D, Dv = p->Dv, D2 = (D + 1) / 2, lda = round_up(Dv, BF_COLS);
    uint32_t *qp = slot;                            /* (D2, BQ) Q pairs, transposed */
    float *st = (float *)(qp + (size_t)D2 * BQ);    /* (KT, BQ) scores, then probabilities */
    uint32_t *pp = (uint32_t *)(st + (size_t)KT * BQ);  /* (KT/2, BQ) P pairs */
    uint32_t *vp = pp + (size_t)(KT / 2) * BQ;      /* (KT/2, lda) V pairs */
    float *acc = (float *)(vp + (size_t)(KT / 2) * lda);  /* (BQ, lda) output rows */
    float *m = acc + (size_t)BQ * lda, *l = m + BQ, *corr = l + BQ;
    int *lo = (int *)(corr + BQ), *hi = lo + BQ;    /* (BQ) each row's band [lo, hi) */

    const int nr = round_up(nq, BF_ROWS);
    int klo, khi, maxlo, minhi;
    if (!h16_bands(p, b, i0, nq, nr, lo, hi, &klo, &khi, &maxlo, &minhi, obh)) return;

    for (int r = 0; r < nr; r++) {
        const uint16_t *qr = h.q + (size_t)(i0 + r) * D;
        for (int d2 = 0; d2 < D2; d2++)
            qp[(size_t)d2 * BQ + r] = r < nq ? pair_at(qr + 2 * d2, 2 * d2 + 1 < D) : 0;
        m[r] = -INFINITY;
        l[r] = 0.0f;
        memset(acc + (size_t)r * lda, 0, sizeof(float) * (size_t)lda);
    }

    for (int j0 = klo; j0 < khi; j0 += KT) {
        const int nk = khi - j0 < KT ? khi - j0 : KT;
        bf_scores(h.k + (size_t)j0 * D, nk, D, qp, BQ, nr, p->scale, st, BQ);
        const int masked = !(maxlo <= j0 && minhi >= j0 + nk);
        for (int g = 0; g < nr; g += A512_LANES) {
            unsigned grew = a512_softmax_tile(st + g, BQ, nk, j0, lo + g, hi + g, masked,
                                              m + g, l + g, corr + g);
            while (grew) {
                const int r = g + __builtin_ctz(grew);
                grew &= grew - 1;
                a512_scale_row(acc + (size_t)r * lda, Dv, corr[r]);
            }
        }
        bf_pack_p(st, BQ, nk, nr, pp, BQ);
        bf_pack_v(h.v + (size_t)j0 * Dv, nk, Dv, vp, lda);
        bf_pv(pp, BQ, (nk + 1) / 2, vp, acc, lda, nr);
    }

    for (int r = 0; r < nq; r++)
        a512_store_row(obh + (size_t)(i0 + r) * Dv, acc + (size_t)r * lda, Dv,
                       l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
}

static size_t flash_bf16_workspace(const attn_problem *p, int threads)
{
    return (size_t)threads * slot_words(p) * 4;
}

static attn_status flash_bf16_run(const attn_problem *p, const float *q, const float *k,
                                  const float *v, float *out, void *workspace, int threads)
{
    return h16_run(p, q, k, v, out, workspace, threads, FLASH_BF16_CAPS, ATTN_BF16, BQ,
                   slot_words(p) * 4, bf16_qtile);
}

/* bf16 tolerance. Q K^T: bf16 x bf16 products are exact in fp32 and VDPBF16PS adds them
 * in fp32 (round to nearest), so the scores carry an fp32 kernel's error. P is rounded to
 * bf16 (nearest even, 8 significant bits): each p~_j = p_j (1 + e_j), |e_j| <= 2^-9,
 * while the normaliser l sums the fp32 p_j. The output error is then
 *   |sum_j (p~_j - p_j) v_j| / l <= 2^-9 sum_j p_j |v_j| / l <= 2^-9 max |v| = 1.95e-3
 * (|v| <= 1), reached when one key dominates and its p is a worst-case tie; over many
 * keys of random sign it averages down, but a short or peaked row does not. V is bf16
 * storage (exact), P V accumulates in fp32: plus the fp32 bound, 1e-4. VCVTNE2PS2BF16
 * flushes a subnormal P (below 1.2e-38) to 0: nothing at this scale. Together
 * 2.06e-3: atol = 2.5e-3; rtol = 1e-3 as in fp32 (|ref| <= 1, it hardly widens it). */
const attn_kernel attn_kernel_flash_bf16 = {
    .name = "flash_bf16",
    .desc = "flash on bf16 q/k/v: VDPBF16PS for Q K^T and P V (P rounded to bf16), fp32 softmax, OpenMP",
    .requires = ATTN_REQ_AVX512 | ATTN_FEAT_AVX512_BF16,
    .caps = FLASH_BF16_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_BF16),
    .tol = { [ATTN_BF16] = { 2.5e-3, 1e-3 } },
    .workspace_bytes = flash_bf16_workspace,
    .run = flash_bf16_run,
    .unavailable = NULL,
};
