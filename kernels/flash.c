/* flash.c: portable FlashAttention-2 style kernel: tiled online softmax, OpenMP over
 * (batch, head, query tile), plain C that the compiler vectorises for the baseline ISA.
 *
 * Loop structure: flash_tile.h (each thread owns a query tile, its accumulator and its
 * running max and sum; loops over key tiles inside the tile's band; rescales a row only
 * when its max grows; divides once at the end; never materialises Lq x Lk; key tiles
 * above the causal diagonal or outside a window are never touched). The primitives, in
 * vec_portable.h, are the scalar versions of vec_avx512.h's, with the same contracts:
 * their inner loops run over 16 query rows (scores, softmax) or over Dv (P V) with unit
 * stride. The exp is p_exp (vec_portable.h), branch-free plain C that GCC vectorises
 * for SSE2 (libm's expf, a call per element, is not).
 *
 * Tile sizes: BQ = 32 rows, KT = 128 keys, as blocked.c: K, V tiles of 128 x 64 floats
 * (32 KiB each at D = 64) stay in L2 while the 32 query rows reuse them; the score tile
 * (16 KiB) and the 32-row query tile (8 KiB at D = 64) stay in L1. These are tunables now
 * (tile_q, tile_k; attn.h): the default comes from flash_tile.h's rule on the detected
 * caches (attn.h's tile rule: score tile in half of L1d) with BQ capped at 32 (FT_DEFAULT_BQ),
 * which gives 32 x 128 on 32 KiB L1d and 32 x 192 on 48 KiB; a config or wisdom may set
 * others (BQ a multiple of 16).
 */
#include "attn.h"
#include "vec_portable.h"

#define FT_PREFIX p_
#define FT_LANES P_LANES
#define FT_ROWS P_LANES
#define FT_PV_ROWS 1
#define FT_PV_COLS 16
#define FT_DEFAULT_BQ 32     /* default tiles 32 x 128 on 32 KiB L1d: see above */
#include "flash_tile.h"

/* Lq <= FT_DECODE_LQ (decode steps) runs as decode: see flash_tile.h */
extern const attn_kernel attn_kernel_decode;

static const ft_tiles tiles = { 32, 128 };

#define FLASH_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                    ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

static size_t flash_workspace(const attn_problem *p, int threads)
{
    return ft_workspace_dec(p, threads, ft_pick(p, tiles), &attn_kernel_decode);
}

static attn_status flash_run(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, void *workspace, int threads)
{
    int st = ft_check(p, FLASH_CAPS, threads, tiles);
    if (st != ATTN_OK) return (attn_status)st;
    return ft_run_dec(p, q, k, v, out, workspace, threads, ft_pick(p, tiles), &attn_kernel_decode);
}

/* fp32 tolerance: p_exp, relative error <= 1.2e-7 (1 FLT_EPSILON, as libm expf's order),
 * 0 for e^x < FLT_MIN (absolute error < 1.2e-38, nothing next to a row sum >= 1); scores summed over D in order; sums over keys in key
 * order per row (about 3e-5 at 65536 keys); one rounding of l and acc per rescale, at
 * most one per key tile of 128 (worst 3e-5 at 65536 keys). Under 6e-5: atol = 1e-4,
 * rtol = 1e-3. */
const attn_kernel attn_kernel_flash = {
    .name = "flash",
    .desc = "portable flash: online softmax over key tiles, query tiles per thread, OpenMP",
    .requires = 0,
    .caps = FLASH_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = flash_workspace,
    .run = flash_run,
    .unavailable = NULL,
    .tune = FT_TUNE,
    .tile_rule = FT_TILE_RULE,
};
