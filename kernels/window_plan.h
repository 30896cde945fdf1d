/* window_plan.h: which keys each query row visits, shared by the window kernels
 * (window.c, window_avx512.c), additive_avx512.c and scalar_tile.h (blocked.c, omp.c,
 * whose problems have no global tokens: there a span is the band). No intrinsics.
 *
 * attn.h's mask splits into two parts that tile differently:
 *   - a contiguous range of keys per query row, its "span" [lo, hi): the band of
 *     attn_band() for an ordinary row; for a GLOBAL query row (its aligned position is a
 *     global token) every key that padding and causality allow, [0, cap);
 *   - for an ordinary row, the global key columns j < cap that lie OUTSIDE its band
 *     (those inside are already in the span: each key is counted once).
 * cap = min(kv_valid, a + 1 if causal) with a = i + Lk - Lq, the aligned position.
 * Span tiles are visited as dense key tiles; the out-of-band global columns are visited
 * one by one from a sorted list of global positions built from key_is_global (the table
 * attn_allowed() reads, so the two can never disagree).
 */
#ifndef WINDOW_PLAN_H
#define WINDOW_PLAN_H

#include "attn.h"
#include "qtile_par.h"

/* Keys [0, cap) that padding and causality leave to query i of batch item b. */
static inline int plan_cap(const attn_problem *p, int b, int i)
{
    long a = (long)i + p->Lk - p->Lq;
    long cap = attn_kv_valid(p, b);
    if (p->causal && a + 1 < cap) cap = a + 1;
    return cap < 0 ? 0 : (int)cap;
}

/* Span [*lo, *hi) of query i of batch b (see above); returns 1 if the row is a global
 * query (it then needs no out-of-band global columns), else 0. */
static inline int plan_span(const attn_problem *p, int b, int i, int *lo, int *hi)
{
    int a = i + p->Lk - p->Lq;
    if (attn_query_is_global(p, a)) {
        *lo = 0;
        *hi = plan_cap(p, b, i);
        return 1;
    }
    attn_band(p, b, i, lo, hi);
    return 0;
}

/* Spans lo, hi (nq) of query rows [i0, i0 + nq) of batch b, and their union
 * [*klo, *khi) over the non-empty ones (empty: *klo >= *khi). */
static inline void plan_spans(const attn_problem *p, int b, int i0, int nq, int *lo, int *hi,
                              int *klo, int *khi)
{
    *klo = p->Lk;
    *khi = 0;
    for (int r = 0; r < nq; r++) {
        plan_span(p, b, i0 + r, &lo[r], &hi[r]);
        if (lo[r] < hi[r]) {
            if (lo[r] < *klo) *klo = lo[r];
            if (hi[r] > *khi) *khi = hi[r];
        }
    }
}

/* The global key columns query i of batch b visits besides its span are the glist[g],
 * g < the returned count, that lie outside the span (those inside are counted there):
 * none for a global query row, else the global positions below plan_cap(). */
static inline int plan_global_end(const attn_problem *p, int b, int i, const int *glist, int ng)
{
    if (ng == 0 || attn_query_is_global(p, i + p->Lk - p->Lq)) return 0;
    const int cap = plan_cap(p, b, i);
    int g = 0;
    while (g < ng && glist[g] < cap) g++;
    return g;
}

/* glist (Lk ints) = the global key positions, ascending; returns how many. */
static inline int plan_globals(const attn_problem *p, int *glist)
{
    int n = 0;
    if (p->n_globals > 0)
        for (int j = 0; j < p->Lk; j++)
            if (p->key_is_global[j]) glist[n++] = j;
    return n;
}

/* Bytes rounded up to a whole number of 64-byte lines, so per-thread slots of a
 * workspace stay aligned and never share a cache line. */
static inline size_t plan_round64(size_t bytes)
{
    return (bytes + 63) & ~(size_t)63;
}

/* ------------------------------------------------ tile loop of the window kernels -- */

/* A window kernel's work on query rows [i0, i0 + nq) of one head: qbh (Lq, D),
 * kbh (Lk, D), vbh (Lk, Dv), obh (Lq, Dv); glist (ng) the global key positions; slot
 * this thread's scratch. */
typedef void plan_tile_fn(const attn_problem *p, int b, int i0, int nq,
                          const float *qbh, const float *kbh, const float *vbh, float *obh,
                          const int *glist, int ng, void *slot);

/* Workspace of plan_run: glist (Lk ints), then one slot of slot_bytes per thread. */
static inline size_t plan_workspace(const attn_problem *p, int threads, size_t slot_bytes)
{
    return plan_round64((size_t)p->Lk * sizeof(int)) + (size_t)threads * slot_bytes;
}

/* What plan_run hands qtile_par: the global list and the window kernel's tile. */
typedef struct { const int *glist; int ng; plan_tile_fn *tile; } plan_arg;

static inline void plan_tile(const attn_problem *p, int b, int i0, int nq, const float *qbh,
                             const float *kbh, const float *vbh, float *obh, void *slot,
                             const void *arg)
{
    const plan_arg *a = arg;
    a->tile(p, b, i0, nq, qbh, kbh, vbh, obh, a->glist, a->ng, slot);
}

/* The global key list, then every (b, h, query tile of bq rows) through qtile_par.h
 * (heaviest tiles first), with this thread's slot of the workspace (plan_workspace;
 * slot_bytes a multiple of 64). */
static inline void plan_run(const attn_problem *p, const float *q, const float *k,
                            const float *v, float *out, void *workspace, int threads,
                            int bq, size_t slot_bytes, plan_tile_fn *tile)
{
    int *glist = workspace;                                     /* (Lk) */
    const plan_arg a = { glist, plan_globals(p, glist), tile };
    char *slots = (char *)workspace + plan_round64((size_t)p->Lk * sizeof(int));
    qtile_par(p, q, k, v, out, threads, bq, slots, slot_bytes, plan_tile, &a);
}

#endif /* WINDOW_PLAN_H */
