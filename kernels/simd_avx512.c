/* simd_avx512.c: the blocked algorithm (blocked.c) with the AVX-512 microkernels of
 * vec_avx512.h, single-threaded: what SIMD alone buys over the scalar blocked kernel.
 *
 * Loop structure, per (b, h) (flash_tile.h with one thread):
 *   for each query tile of 64 rows (one register block of scores_t):
 *     key range = union of the rows' bands (attn_band); for each key tile of 128 keys:
 *       S^T = scale * K_tile Q_tile^T     4 keys x 64 rows register block, K read in place
 *       online softmax, 16 rows per vector (polynomial exp), rescale rows whose max grew
 *       acc += P V_tile                   4 rows x 64 columns register block
 *     out = acc / l
 * The tile sizes are blocked.c's key tile (128) and the smallest query tile the score
 * microkernel allows (64); flash_avx512 is the same loop tuned and threaded.
 * The tiles are tunables (tile_q, tile_k; attn.h); the default is attn.h's tile rule on the
 * detected caches with the score tile allowed the whole of L1d (FT_SCORE_L1_DIV 1), which
 * gives those 64 x 128 on 32 KiB L1d.
 */
#include "attn.h"
#include "vec_avx512.h"

#define FT_PREFIX a512_
#define FT_LANES A512_LANES
#define FT_ROWS A512_ROWS
#define FT_PV_ROWS A512_PV_ROWS
#define FT_PV_COLS A512_PV_COLS
#define FT_SCORE_L1_DIV 1    /* default tiles 64 x 128 on 32 KiB L1d: see above */
#include "flash_tile.h"

static const ft_tiles tiles = { 64, 128 };

#define SIMD_AVX512_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                          ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW)

static size_t simd_avx512_workspace(const attn_problem *p, int threads)
{
    (void)threads;
    return ft_workspace(p, 1, ft_pick(p, tiles));
}

static attn_status simd_avx512_run(const attn_problem *p, const float *q, const float *k,
                                   const float *v, float *out, void *workspace, int threads)
{
    int st = ft_check(p, SIMD_AVX512_CAPS, threads, tiles);
    if (st != ATTN_OK) return (attn_status)st;
    ft_run(p, q, k, v, out, workspace, 1, ft_pick(p, tiles));
    return ATTN_OK;
}

/* fp32 tolerance: the polynomial exp (a512_exp, Cephes, relative error within 4 FLT_EPSILON = 8 u,
 * test_simd.c's bound) enters numerator and denominator alike: at most 16 u |v| = 1e-6
 * on the output. Scores in FMA chains over D, keys per lane in key
 * order (about 3e-5 at 65536 keys), one rescale per key tile of 128. Under 6e-5:
 * atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_simd_avx512 = {
    .name = "simd_avx512",
    .desc = "blocked online softmax with AVX-512 FMA microkernels and polynomial exp, 1 thread",
    .requires = ATTN_REQ_AVX512,
    .caps = SIMD_AVX512_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = simd_avx512_workspace,
    .run = simd_avx512_run,
    .unavailable = NULL,
    .tune = FT_TUNE,
    .tile_rule = FT_TILE_RULE,
};
