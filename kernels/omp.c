/* omp.c: the blocked kernel (blocked.c) parallel over (batch, head, query tile) with
 * OpenMP: what threads alone buy over the scalar blocked kernel. The tile loop is
 * blocked.c's, from scalar_tile.h.
 *
 * Loop structure:
 *   parallel for (b, h, query tile of BQ = 32 rows), schedule(dynamic, 1), heaviest first
 *   (qtile_par.h):
 *     blocked.c's query tile (st_query_tile, scalar_tile.h): bands of the rows, key
 *     tiles of BK = 128 keys over their union, S_tile = scale * Q_tile K_tile^T, online
 *     softmax, acc += P_tile V_tile; out = acc / l  (zeros for a row with no visible key)
 * Work items are query tiles, not heads, so 2 threads share even B = H = 1; under a
 * causal mask the tiles of one head differ in cost (the last tile sees every key), so
 * the schedule is dynamic and hands out each head's last tiles first, ending on light
 * ones. Each thread has its own S, acc, m, l, lo, hi in the workspace. Tile sizes: as
 * blocked.c (K and V tiles of 128 x 64 floats stay in L2, the S tile in L1; BK is the
 * tunable tile_k, scalar_tile.h).
 */
#include "attn.h"
#include "qtile_par.h"
#include "scalar_tile.h"

#define BK 128          /* keys per key tile; BQ = ST_BQ = 32 query rows per tile */

#define OMP_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                  ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

/* Workspace: one tile slot (scalar_tile.h) per thread: S (BQ, BK), acc (BQ, Dv),
 * m, l (BQ) floats, lo, hi (BQ) ints. */
static size_t omp_workspace(const attn_problem *p, int threads)
{
    return (size_t)threads * st_slot_bytes(p->Dv, st_bk_ws(p, BK));
}

static attn_status omp_run(const attn_problem *p, const float *q, const float *k,
                           const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, OMP_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;
    const int bk = st_bk(p, BK);
    if (bk < 0) return ATTN_ERR_INVALID;
    qtile_par(p, q, k, v, out, threads, ST_BQ, workspace, st_slot_bytes(p->Dv, bk), st_tile_fn, &bk);
    return ATTN_OK;
}

/* fp32 tolerance: blocked.c's arithmetic in the same order per row (threads only split
 * query tiles): its bound, atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_omp = {
    .name = "omp",
    .desc = "blocked scalar kernel, OpenMP over (batch, head, query tile), dynamic schedule",
    .requires = 0,
    .caps = OMP_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = omp_workspace,
    .run = omp_run,
    .unavailable = NULL,
    .tune = ST_TUNE,
    .tile_rule = ST_TILE_RULE,
};
