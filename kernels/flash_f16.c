/* flash_f16.c: flash attention on f16 (IEEE binary16) q, k, v: the llama.cpp-style f16 KV
 * cache. The tensors are read at 2 bytes an element and widened to fp32 with F16C's
 * vcvtph2ps (exact); all arithmetic is fp32, with flash_avx2's AVX2 + FMA microkernels.
 * What it shows against flash_avx2 on the same shape: what half the bytes of K and V buy
 * when the FLOPs stay fp32.
 *
 * Loop structure (flash_tile.h's, with the 16-bit tiles widened in the thread's scratch):
 *   parallel for (b, h, query tile of BQ rows), heaviest tiles first (qtile_par.h):
 *     bands [lo, hi) of the tile's rows; key range = their union
 *     qt = the tile's Q, widened and transposed (D, BQ)         once per query tile
 *     for each key tile of KT keys inside the union:
 *       kf = K tile widened (KT, D); st = scale * kf qt         a2_scores_t
 *       online softmax per 8 rows, rescaling rows whose max grew
 *       vf = V tile widened (KT, Dv); acc += P vf              a2_pv
 *     out = acc / l (0 for rows with no visible key)
 * Widening a whole tile into L1 scratch, 8 values per vcvtph2ps, costs (KT D + KT Dv) / 8
 * instructions per key tile against KT (D + Dv) BQ FMAs: under 1% at BQ = 64. Widening
 * inside the score microkernel instead would add a convert to every broadcast key element
 * (one per 2 FMAs there). The tile loop is flash_tile.h's, written out because that one
 * reads K and V rows in place as floats; the checks, bands and slices around it are
 * flash16_frame.h's, shared with flash_bf16.
 *
 * Tiles: BQ = 64 query rows, KT = 64 keys, flash_avx2's (the score tile KT x BQ floats,
 * 16 KiB, stays in L1 between the softmax and P V); the widened K and V tiles add 2 x 16
 * KiB at D = Dv = 64, which L2 holds. Both are tunables now (tile_q, tile_k; see below).
 *
 * The 16-bit tensors are p->q16, k16, v16; the float arrays run() gets only locate a head's
 * slice (flash16_frame.h), never read.
 */
#include <string.h>
#include "attn.h"
#include "vec_avx2.h"
#include "flash16_frame.h"
#include "decode_handoff.h"

/* Lq <= FT_DECODE_LQ (decode steps) runs as decode_avx2, which reads f16 q, k, v too */
extern const attn_kernel attn_kernel_decode_avx2;

#ifndef FLASH_F16_BQ
#define FLASH_F16_BQ 64     /* a multiple of A2_ROWS (16) */
#endif
#ifndef FLASH_F16_KT
#define FLASH_F16_KT 64
#endif
#define F16_MAX_TILE 1024

/* The tiles are tunables (attn.h): bq = tile_q (a multiple of A2_ROWS), kt = tile_k, up to
 * F16_MAX_TILE; 0 = the built-in FLASH_F16_BQ x FLASH_F16_KT. The default the harness
 * passes comes from attn.h's tile rule (score tile in half of L1d: 64 x 64 on 32 KiB). */
static int f16_bq(const attn_problem *p)
{
    return p->tune[ATTN_TUNE_TILE_Q] ? p->tune[ATTN_TUNE_TILE_Q] : FLASH_F16_BQ;
}
static int f16_kt(const attn_problem *p)
{
    return p->tune[ATTN_TUNE_TILE_K] ? p->tune[ATTN_TUNE_TILE_K] : FLASH_F16_KT;
}
static int f16_tiles_ok(const attn_problem *p)
{
    const int bq = f16_bq(p), kt = f16_kt(p);
    return bq >= A2_ROWS && bq <= F16_MAX_TILE && bq % A2_ROWS == 0 && kt >= 1 && kt <= F16_MAX_TILE;
}

#define FLASH_F16_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                        ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

/* x[0, n) = the binary16 values h[0, n) widened (exact), 8 at a time; the last < 8
 * through a zero-padded copy, so nothing past h + n is read or x + n written. */
static void widen(const uint16_t *h, size_t n, float *x)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    if (i < n) {
        uint16_t t[8] = { 0 };
        memcpy(t, h + i, (n - i) * sizeof *h);
        a2_store(x + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t)), (int)(n - i));
    }
}

/* One thread's scratch, in floats: qt (D, BQ), st (KT, BQ), acc (BQ, lda), kf (KT, D),
 * vf (KT, Dv) (each of those two rounded up to 16 floats), m, l, corr (BQ), lo, hi (BQ
 * ints). Every part starts 64-byte aligned when the slot does. */
static size_t slot_floats(const attn_problem *p)
{
    const int lda = round_up(p->Dv, A2_PV_COLS), ok = f16_tiles_ok(p);  /* wild: built-in */
    const size_t bq = ok ? f16_bq(p) : FLASH_F16_BQ, kt = ok ? f16_kt(p) : FLASH_F16_KT;
    return bq * ((size_t)p->D + kt + lda + 5) + round_up((int)kt * p->D, 16) +
           (size_t)round_up((int)kt * p->Dv, 16);
}

static void f16_qtile(const attn_problem *p, int b, int i0, int nq, const float *qbh,
                      const float *kbh, const float *vbh, float *obh, void *slot, const void *arg)
{
    const h16_heads h = h16_slices(p, arg, qbh, kbh, vbh);  /* (Lq, D), (Lk, D), (Lk, Dv) */
    const int D = p->D, Dv = p->Dv, lda = round_up(Dv, A2_PV_COLS), bq = f16_bq(p), kt = f16_kt(p);
    float *qt = slot;                               /* (D, bq) query tile transposed */
    float *st = qt + (size_t)D * bq;                /* (kt, bq) scores, then probabilities */
    float *acc = st + (size_t)kt * bq;              /* (bq, lda) unnormalised output rows */
    float *kf = acc + (size_t)bq * lda;             /* (kt, D) widened key tile */
    float *vf = kf + round_up(kt * D, 16);          /* (kt, Dv) widened value tile */
    float *m = vf + round_up(kt * Dv, 16);          /* (bq) running max, sum, rescale */
    float *l = m + bq, *corr = l + bq;
    int *lo = (int *)(corr + bq), *hi = lo + bq;    /* (bq) each row's band [lo, hi) */

    const int nr = round_up(nq, A2_ROWS);
    int klo, khi, maxlo, minhi;
    if (!h16_bands(p, b, i0, nq, nr, lo, hi, &klo, &khi, &maxlo, &minhi, obh)) return;

    for (int r = 0; r < nr; r++) {
        if (r < nq) widen(h.q + (size_t)(i0 + r) * D, (size_t)D, kf);   /* kf: a row buffer here */
        for (int d = 0; d < D; d++) qt[(size_t)d * bq + r] = r < nq ? kf[d] : 0.0f;
        m[r] = -INFINITY;
        l[r] = 0.0f;
        memset(acc + (size_t)r * lda, 0, sizeof(float) * (size_t)lda);
    }

    for (int j0 = klo; j0 < khi; j0 += kt) {
        const int nk = khi - j0 < kt ? khi - j0 : kt;
        widen(h.k + (size_t)j0 * D, (size_t)nk * D, kf);
        a2_scores_t(kf, D, nk, D, qt, bq, nr, p->scale, st, bq);
        const int masked = !(maxlo <= j0 && minhi >= j0 + nk);
        for (int g = 0; g < nr; g += A2_LANES) {
            unsigned grew = a2_softmax_tile(st + g, bq, nk, j0, lo + g, hi + g, masked,
                                            m + g, l + g, corr + g);
            while (grew) {
                const int r = g + __builtin_ctz(grew);
                grew &= grew - 1;
                a2_scale_row(acc + (size_t)r * lda, Dv, corr[r]);
            }
        }
        widen(h.v + (size_t)j0 * Dv, (size_t)nk * Dv, vf);
        a2_pv(st, bq, nk, vf, Dv, Dv, acc, lda, nr);
    }

    for (int r = 0; r < nq; r++)
        a2_store_row(obh + (size_t)(i0 + r) * Dv, acc + (size_t)r * lda, Dv,
                     l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
}

static size_t flash_f16_workspace(const attn_problem *p, int threads)
{
    if (ft_to_decode(p)) return attn_kernel_decode_avx2.workspace_bytes(p, threads);
    return (size_t)threads * slot_floats(p) * sizeof(float);
}

static attn_status flash_f16_run(const attn_problem *p, const float *q, const float *k,
                                 const float *v, float *out, void *workspace, int threads)
{
    if (ft_to_decode(p)) return attn_kernel_decode_avx2.run(p, q, k, v, out, workspace, threads);
    if (!f16_tiles_ok(p)) return ATTN_ERR_INVALID;
    return h16_run(p, q, k, v, out, workspace, threads, FLASH_F16_CAPS, ATTN_F16, f16_bq(p),
                   slot_floats(p) * sizeof(float), f16_qtile);
}

/* f16 tolerance: the inputs are f16 values and widening them is exact, so the reference
 * (computed from the same values) and this kernel differ only by the kernel's own fp32
 * arithmetic, which is flash_avx2's, tile for tile: polynomial exp within 8 u, one
 * rescale per 64-key tile, sums over keys about 3e-5 at 65536 keys; worst 6e-5. The f16
 * inputs are in [-1, 1], so nothing is larger than in fp32. atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_flash_f16 = {
    .name = "flash_f16",
    .desc = "flash on f16 q/k/v: F16C widening of each tile, fp32 AVX2 microkernels, OpenMP",
    .requires = ATTN_REQ_AVX2 | ATTN_FEAT_F16C,
    .caps = FLASH_F16_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F16),
    .tol = { [ATTN_F16] = { 1e-4, 1e-3 } },
    .workspace_bytes = flash_f16_workspace,
    .run = flash_f16_run,
    .unavailable = NULL,
    .tune = { [ATTN_TUNE_TILE_Q] = { A2_ROWS, F16_MAX_TILE, A2_ROWS },
              [ATTN_TUNE_TILE_K] = { 16, F16_MAX_TILE, 16 } },
    .tile_rule = { 2, 256 },
};
