/* flash_avx512.c: FlashAttention-2 style tiled online softmax with the AVX-512
 * microkernels of vec_avx512.h, OpenMP over (batch, head, query tile). The fastest
 * exact kernel of the suite on an AVX-512 machine.
 *
 * Loop structure: flash_tile.h (a thread owns a query tile of BQ rows; key tiles of KT
 * keys; scores as K Q^T with a 4-key x 64-row register block; vectorised online softmax
 * with a polynomial exp; P V with a 4-row x 64-column register block; rescale only the
 * rows whose max grew; divide once at the end; tiles outside the causal/window band are
 * skipped whole).
 *
 * Tile sizes, derived from the caches (L1d 32 KiB, L2 1 MiB per core on the EPYC it was tuned on):
 * the working set of one key tile is the score tile st (KT x BQ floats), the query tile
 * qt (D x BQ), the accumulator (BQ x Dv) and the K and V rows of the tile (KT x (D + Dv)).
 * BQ = 64 is one register block of scores_t (4 row vectors). KT = 64 keeps st at 16 KiB,
 * so st written by scores_t is still in L1 when the softmax and P V read it; qt (16 KiB
 * at D = 64), acc and the K, V rows of the tile come from L2. A sweep on that machine
 * (1 thread, B = 1, H = 8, L = 4096, median GFLOP/s; noise about +-5%) agreed:
 *     BQ x KT     64x64   64x128   64x256   128x64   128x128
 *     D=64 none    94.8     70.4     94.5     88.4      87.1
 *     D=64 causal  92.0     81.5     93.4     83.2      83.1
 *     D=128 none   90.9     91.1     88.6     88.8      82.3
 * KT = 128 (st = 32 KiB, the whole L1) dips at D = 64; BQ = 128 doubles qt and acc and
 * loses a little everywhere; 64 x 64 is best or within noise of best.
 * The tiles are now tunables (tile_q = BQ, a multiple of 64; tile_k = KT): configs sweep
 * them, `attnbench tune` stores the best per CPU, and without wisdom the harness derives
 * them from the caches by attn.h's tile rule (st in half of L1d, qt, acc
 * and the K, V rows in half of L2), which gives the 64 x 64 above on 32 KiB L1d and
 * 64 x 96 on 48 KiB. FLASH_AVX512_BQ/KT are the built-in values for tune values of 0.
 */
#include "attn.h"
#include "vec_avx512.h"

#define FT_PREFIX a512_
#define FT_LANES A512_LANES
#define FT_ROWS A512_ROWS
#define FT_PV_ROWS A512_PV_ROWS
#define FT_PV_COLS A512_PV_COLS
#include "flash_tile.h"

#ifndef FLASH_AVX512_BQ
#define FLASH_AVX512_BQ 64
#endif
#ifndef FLASH_AVX512_KT
#define FLASH_AVX512_KT 64
#endif

/* Lq <= FT_DECODE_LQ (decode steps) runs as decode_avx2: see flash_tile.h */
extern const attn_kernel attn_kernel_decode_avx2;

static const ft_tiles tiles = { FLASH_AVX512_BQ, FLASH_AVX512_KT };

#define FLASH_AVX512_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                           ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS | \
                           ATTN_CAP_GENERAL)

static size_t flash_avx512_workspace(const attn_problem *p, int threads)
{
    return ft_workspace_dec(p, threads, ft_pick(p, tiles), &attn_kernel_decode_avx2);
}

static attn_status flash_avx512_run(const attn_problem *p, const float *q, const float *k,
                                    const float *v, float *out, void *workspace, int threads)
{
    int st = ft_check(p, FLASH_AVX512_CAPS, threads, tiles);
    if (st != ATTN_OK) return (attn_status)st;
    return ft_run_dec(p, q, k, v, out, workspace, threads, ft_pick(p, tiles), &attn_kernel_decode_avx2);
}

/* fp32 tolerance: simd_avx512.c's arithmetic with key tiles of 64 (a rescale per 64
 * keys: worst 6e-5 at 65536 keys, typically sqrt of that), polynomial exp within 8 u
 * (16 u on the output), sums over keys about 3e-5. atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_flash_avx512 = {
    .name = "flash_avx512",
    .desc = "flash (online softmax, query tiles per thread) with AVX-512 microkernels, OpenMP",
    .requires = ATTN_REQ_AVX512,
    .caps = FLASH_AVX512_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = flash_avx512_workspace,
    .run = flash_avx512_run,
    .unavailable = NULL,
    .tune = FT_TUNE,
    .tile_rule = FT_TILE_RULE,
};
