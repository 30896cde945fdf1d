/* window_plan.h: which keys each query row visits, shared by the window kernels
 * (window.c, window_avx2.c, window_avx512.c) and additive_avx512.c. No intrinsics.
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

#endif /* WINDOW_PLAN_H */
