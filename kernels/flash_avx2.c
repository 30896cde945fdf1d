/* flash_avx2.c: FlashAttention-2 style tiled online softmax with the AVX2 + FMA
 * microkernels of vec_avx2.h, OpenMP over (batch, head, query tile). The fast exact
 * kernel for CPUs without AVX-512; on an AVX-512 machine it shows what the wider vectors
 * and the twice larger register file buy.
 *
 * Loop structure: flash_tile.h with transposed accumulators (FT_ACC_T: a thread owns a
 * query tile of BQ rows; key tiles of KT keys; scores as K Q^T with a 6-key x 16-row
 * register block that also yields each row's tile max; vectorised online softmax with a
 * polynomial exp, 8 rows per vector; acc^T += (P V)^T with a 4-column x 24-row register
 * block, the rescale of the rows whose max grew fused into its loads; transpose and divide
 * once at the end; tiles outside the causal/window band are skipped whole).
 *
 * Tile sizes are tunables (tile_q = BQ, a multiple of 16; tile_k = KT): a config sweeps
 * them, `attnbench tune` stores the best per CPU, and without wisdom the harness derives
 * them from this CPU's caches by attn.h's tile rule: the score tile
 * (KT x BQ floats) in half of L1d, so it is still in L1 when the softmax and P V read it;
 * the query tile (D x BQ), the accumulator and the K, V rows of the tile in half of L2.
 * On 32 KiB L1d that is BQ = 64, KT = 64 (16 KiB). FLASH_AVX2_BQ/KT (64 x 64) are only the
 * built-in values for a problem whose tune values are 0.
 */
#include "attn.h"
#include "vec_avx2.h"

#define FT_PREFIX a2_
#define FT_LANES A2_LANES
#define FT_ROWS A2_ROWS
#define FT_PV_ROWS A2_PV_ROWS
#define FT_PV_COLS A2_PV_COLS
#define FT_ACC_T
#include "flash_tile.h"

#ifndef FLASH_AVX2_BQ
#define FLASH_AVX2_BQ 64
#endif
#ifndef FLASH_AVX2_KT
#define FLASH_AVX2_KT 64
#endif

/* Lq <= FT_DECODE_LQ (decode steps) runs as decode_avx2: see flash_tile.h */
extern const attn_kernel attn_kernel_decode_avx2;

static const ft_tiles tiles = { FLASH_AVX2_BQ, FLASH_AVX2_KT };

#define FLASH_AVX2_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                           ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS | \
                           ATTN_CAP_GENERAL)

static size_t flash_avx2_workspace(const attn_problem *p, int threads)
{
    return ft_workspace_dec(p, threads, ft_pick(p, tiles), &attn_kernel_decode_avx2);
}

static attn_status flash_avx2_run(const attn_problem *p, const float *q, const float *k,
                                    const float *v, float *out, void *workspace, int threads)
{
    int st = ft_check(p, FLASH_AVX2_CAPS, threads, tiles);
    if (st != ATTN_OK) return (attn_status)st;
    return ft_run_dec(p, q, k, v, out, workspace, threads, ft_pick(p, tiles), &attn_kernel_decode_avx2);
}

/* fp32 tolerance: simd_avx2.c's arithmetic with key tiles of 64 (one more rescale per
 * 64 keys: worst 6e-5 at 65536 keys, typically sqrt of that), sums over keys about 3e-5;
 * the probabilities of unmasked tiles from a2_exp_neg: within 7 ulp (8e-7 relative) for
 * arguments in [-16, 0], 23 ulp (1.4e-6) below, a relative error the output inherits (a
 * weighted mean of V), far inside rtol. atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_flash_avx2 = {
    .name = "flash_avx2",
    .desc = "flash (online softmax, query tiles per thread) with AVX2 microkernels, OpenMP",
    .requires = ATTN_REQ_AVX2,
    .caps = FLASH_AVX2_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = flash_avx2_workspace,
    .run = flash_avx2_run,
    .unavailable = NULL,
    .tune = FT_TUNE,
    .tile_rule = FT_TILE_RULE,
};
