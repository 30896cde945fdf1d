/* window.c: local sliding-window + global-token attention whose cost is O(N * w)
 * (portable scalar code, OpenMP). The tile loop over the spans is scalar_tile.h's
 * (shared with blocked.c and omp.c); the parallel loop is plan_run (window_plan.h).
 *
 * Loop structure:
 *   parallel for over (b, h, query tile of BQ = 32 rows), schedule(dynamic):
 *     span of every row (window_plan.h: the band, or [0, cap) for a global query row);
 *     the key range is the union of the rows' spans
 *     for each key tile of BK = 64 keys inside that range:
 *       S_tile = scale * Q_tile K_tile^T           visible part [jl, jh) of each row only
 *       per row: online softmax (FlashAttention-2): new max, rescale l and acc, acc += P V
 *     per ordinary row: the global key columns outside its band, one by one, same update
 *     out = acc / l  (zeros for a row with no visible key)
 * Key tiles outside the union of the tile's spans are never touched, so a window of w
 * keys each side costs about N * (2w + 1 + BQ) score pairs, not N^2. Full attention (no
 * window) is the special case band = every allowed key. Each thread owns one workspace
 * slot (S, acc, m, l, lo, hi), so threads never share scratch lines.
 */
#include "attn.h"
#include "scalar_tile.h"
#include "window_plan.h"

#define BK 64           /* keys per key tile; BQ = ST_BQ = 32 query rows per tile */

#define WINDOW_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                     ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_GLOBALS | \
                     ATTN_CAP_THREADS)

/* One thread's slot: a tile slot of scalar_tile.h, S (BQ, BK), acc (BQ, Dv), m, l (BQ)
 * floats, lo, hi (BQ) ints, rounded up to whole cache lines. */
static size_t slot_bytes(const attn_problem *p)
{
    return plan_round64(st_slot_bytes(p->Dv, BK));
}

/* Workspace: glist (Lk ints, global positions), then one slot per thread. */
static size_t window_workspace(const attn_problem *p, int threads)
{
    return plan_workspace(p, threads, slot_bytes(p));
}

/* One query tile [i0, i0 + nq) of head (b, h) (plan_tile_fn): the rows' spans as dense
 * key tiles (scalar_tile.h), then each ordinary row's global key columns outside its
 * band one by one with the same online-softmax update. */
static void query_tile(const attn_problem *p, int b, int i0, int nq,
                       const float *qbh, const float *kbh, const float *vbh, float *obh,
                       const int *glist, int ng, void *slot)
{
    const int D = p->D, Dv = p->Dv;
    const st_tile t = st_carve(slot, Dv, BK);
    st_span_tiles(p, b, i0, nq, BK, qbh, kbh, vbh, t);

    for (int r = 0; r < nq && ng > 0; r++) {      /* ng = 0: no per-row work at all */
        const int gend = plan_global_end(p, b, i0 + r, glist, ng);
        const float *qi = qbh + (size_t)(i0 + r) * D;
        float *ar = t.acc + (size_t)r * Dv;
        for (int g = 0; g < gend; g++) {
            const int j = glist[g];
            if (j >= t.lo[r] && j < t.hi[r]) continue;      /* in the span: done above */
            const float s = p->scale * st_dot(qi, kbh + (size_t)j * D, D);
            st_rescale(s, Dv, &t.m[r], &t.l[r], ar);
            st_add(s, vbh + (size_t)j * Dv, Dv, t.m[r], &t.l[r], ar);
        }
    }
    st_finish(obh, i0, nq, Dv, t);
}

static attn_status window_run(const attn_problem *p, const float *q, const float *k,
                              const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, WINDOW_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;
    plan_run(p, q, k, v, out, workspace, threads, ST_BQ, slot_bytes(p), query_tile);
    return ATTN_OK;
}

/* fp32 tolerance: blocked.c's arithmetic over the span (key tiles of 64: at most one
 * rescale per 64 keys, worst 6e-5 at 65536 keys, typically far less since a window
 * row visits 2w + 1 keys) plus one rescale per out-of-band global key (16 at most in
 * the configs). Under 1e-4 for every configured shape: atol = 1e-4, rtol = 1e-3. */
const attn_kernel attn_kernel_window = {
    .name = "window",
    .desc = "sliding window + global tokens, O(N*w): 32x64 tiles inside the band, OpenMP",
    .requires = 0,
    .caps = WINDOW_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = window_workspace,
    .run = window_run,
    .unavailable = NULL,
};
