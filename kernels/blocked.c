/* blocked.c: cache-blocked scalar kernel with an online softmax (portable, one thread).
 * The tile loop lives in scalar_tile.h (shared with omp.c and window.c).
 *
 * Loop structure, per (b, h) (qtile_par.h with one thread):
 *   for each query tile of BQ = 32 rows (st_query_tile):
 *     band of every row (attn_band); the key range is the union of the rows' bands
 *     for each key tile of BK = 128 keys inside that range:
 *       S_tile = scale * Q_tile K_tile^T        i, j, d innermost (both rows unit stride)
 *       per row: new max m, rescale l and acc by exp(m_old - m_new)
 *       acc += P_tile V_tile                      i, j, d innermost (unit stride in V, acc)
 *     out = acc / l  (zeros for a row with no visible key)
 * Tile sizes: K_tile and V_tile are 128 x 64 floats = 32 KiB each at D = 64, which stay
 * in L2 while the 32 query rows reuse them; the S tile (32 x 128 = 16 KiB) and one query
 * row stay in L1. BK is the tunable tile_k (scalar_tile.h: default from the caches by
 * attn.h's tile rule, 128 on 32 KiB L1d; BQ is fixed). Key tiles entirely outside the tile's band are never visited, so causal
 * and windowed problems do about half / a band's worth of the work.
 *
 * Because masks without global tokens are exactly the band [lo, hi) of attn_band(), the
 * kernel supports causal, padding and local windows for free; cross, GQA and Dv != D are
 * only indexing. Not supported: additive scores, global tokens, threads.
 */
#include "attn.h"
#include "qtile_par.h"
#include "scalar_tile.h"

#define BK 128          /* keys per key tile; BQ = ST_BQ = 32 query rows per tile */

#define BLOCKED_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                      ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW)

/* Workspace: one tile slot (scalar_tile.h): S (BQ, BK), acc (BQ, Dv), m, l (BQ) floats,
 * lo, hi (BQ) ints. */
static size_t blocked_workspace(const attn_problem *p, int threads)
{
    (void)threads;
    return st_slot_bytes(p->Dv, st_bk_ws(p, BK));
}

static attn_status blocked_run(const attn_problem *p, const float *q, const float *k,
                               const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, BLOCKED_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;
    const int bk = st_bk(p, BK);            /* one thread: the tiles in turn, slot 0 */
    if (bk < 0) return ATTN_ERR_INVALID;
    qtile_par(p, q, k, v, out, 1, ST_BQ, workspace, st_slot_bytes(p->Dv, bk), st_tile_fn, &bk);
    return ATTN_OK;
}

/* fp32 tolerance: as naive (libm expf, sums over D and over keys: about 3e-5 at 65536
 * keys) plus one rounding of l and acc per rescale by exp(m_old - m_new), at most one
 * per key tile of 128 keys: 512 u = 3e-5 (u = 2^-24) at 65536 keys in the worst case, typically
 * sqrt of that count. Total under 6e-5: atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_blocked = {
    .name = "blocked",
    .desc = "cache-blocked scalar: 32x128 tiles, online softmax, skips masked tiles",
    .requires = 0,
    .caps = BLOCKED_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = blocked_workspace,
    .run = blocked_run,
    .unavailable = NULL,
    .tune = ST_TUNE,
    .tile_rule = ST_TILE_RULE,
};
