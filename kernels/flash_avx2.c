/* flash_avx2.c: FlashAttention-2 style tiled online softmax with the AVX2
 * microkernels of simd_avx2.h, OpenMP over (batch, head, query tile). The fastest
 * exact kernel of the suite on an AVX2 machine.
 *
 * Loop structure: flash_tile.h (a thread owns a query tile of BQ rows; key tiles of KT
 * keys; scores as K Q^T with a 4-key x 64-row register block; vectorised online softmax
 * with a polynomial exp; P V with a 4-row x 64-column register block; rescale only the
 * rows whose max grew; divide once at the end; tiles outside the causal/window band are
 * skipped whole).
 *
 * Tile sizes, from the caches (L1d 32 KiB, L2 1 MiB per core on the EPYC of the targets):
 * the working set of one key tile is the score tile st (KT x BQ floats), the query tile
 * qt (D x BQ), the accumulator (BQ x Dv) and the K and V rows of the tile (KT x (D + Dv)).
 * BQ = 64 is one register block of scores_t (4 row vectors). KT = 64 keeps st at 16 KiB,
 * so st written by scores_t is still in L1 when the softmax and P V read it; K, V tiles
 * (32 KiB at D = 64) and acc stream from L2. The measured sweep (L = 4096, H = 8, D = 64,
 * 1 thread, GFLOP/s, see docs/perf.md) confirmed it: see the SWEEP note below.
 * Override at build time with -DFLASH_AVX2_BQ=... -DFLASH_AVX2_KT=... to re-sweep.
 */
#include "attn.h"
#include "simd_avx2.h"

#define FT_PREFIX a2_
#define FT_LANES A2_LANES
#define FT_ROWS A2_ROWS
#define FT_PV_ROWS A2_PV_ROWS
#define FT_PV_COLS A2_PV_COLS
#include "flash_tile.h"

#ifndef FLASH_AVX2_BQ
#define FLASH_AVX2_BQ 64
#endif
#ifndef FLASH_AVX2_KT
#define FLASH_AVX2_KT 64
#endif

static const ft_tiles tiles = { FLASH_AVX2_BQ, FLASH_AVX2_KT };

#define FLASH_AVX2_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                           ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

static size_t flash_avx2_workspace(const attn_problem *p, int threads)
{
    return ft_workspace(p, threads, tiles);
}

static attn_status flash_avx2_run(const attn_problem *p, const float *q, const float *k,
                                    const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, FLASH_AVX2_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;
    ft_run(p, q, k, v, out, workspace, threads, tiles);
    return ATTN_OK;
}

const attn_kernel attn_kernel_flash_avx2 = {
    .name = "flash_avx2",
    .desc = "flash (online softmax, query tiles per thread) with AVX2 microkernels, OpenMP",
    .isa = ATTN_ISA_AVX2,
    .caps = FLASH_AVX2_CAPS,
    .workspace_bytes = flash_avx2_workspace,
    .run = flash_avx2_run,
};
