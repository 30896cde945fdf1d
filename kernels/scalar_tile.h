/* scalar_tile.h: the portable query-tile loop shared by blocked.c, omp.c and window.c.
 * Plain C, no intrinsics: static inline functions that the including file instantiates
 * with its own key tile width bk.
 *
 * One query tile = rows [i0, i0 + nq) of one (b, h), nq <= ST_BQ:
 *   span [lo, hi) of every row (plan_span, window_plan.h; without global tokens this is
 *   exactly attn_band); the key range is the union of the rows' spans
 *   m = -inf, l = 0, acc = 0
 *   for each key tile [j0, j0 + bk) inside that range:
 *     S_tile = scale * Q_tile K_tile^T   visible part [jl, jh) of each row only;
 *                                        i, j, d innermost (both rows unit stride)
 *     per row: new max m, rescale l and acc by exp(m_old - m_new)      (st_rescale)
 *     acc += P_tile V_tile               i, j, d innermost (unit stride in V, acc)
 *   [window.c: out-of-band global keys of each row, one by one, the same update]
 *   out = acc / l  (zeros for a row with no visible key)
 * Key tiles outside the union of the spans are never visited, so causal and windowed
 * problems do about half / a band's worth of the work.
 *
 * Workspace of one tile (one slot per thread), st_slot_bytes(Dv, bk) bytes:
 *   S (ST_BQ, bk) floats   score tile: S[r * bk + (j - j0)] for key j of the tile
 *   acc (ST_BQ, Dv) floats unnormalised output rows
 *   m (ST_BQ) floats       running row max
 *   l (ST_BQ) floats       running row sum of exp(s - m)
 *   lo, hi (ST_BQ) ints    span of each row: keys [lo, hi)
 * Head arrays as everywhere: qbh (Lq, D), kbh (Lk, D), vbh (Lk, Dv), obh (Lq, Dv).
 */
#ifndef SCALAR_TILE_H
#define SCALAR_TILE_H

#include <math.h>
#include "attn.h"
#include "window_plan.h"

#define ST_BQ 32        /* query rows per tile */

/* Views of one slot (layout above). */
typedef struct {
    float *S, *acc, *m, *l;
    int *lo, *hi;
} st_tile;

static inline size_t st_slot_bytes(int Dv, int bk)
{
    return ((size_t)ST_BQ * bk + (size_t)ST_BQ * Dv + 2 * ST_BQ) * sizeof(float) +
           2 * ST_BQ * sizeof(int);
}

/* ---- tunable: tile_k = bk (attn.h "tunables"; the query tile stays ST_BQ rows) ----
 * Allowed: bk a multiple of 16 from 16 to ST_MAX_BK. Default: attn.h's tile rule with the
 * score tile (ST_BQ x bk floats) in half of L1d: bk = 128 on 32 KiB, 192 on 48 KiB. A
 * kernel sets .tune = ST_TUNE, .tile_rule = ST_TILE_RULE and takes its bk from st_bk. */
#define ST_MAX_BK 1024
#define ST_TUNE { [ATTN_TUNE_TILE_K] = { 16, ST_MAX_BK, 16 } }
#define ST_TILE_RULE { 2, ST_BQ }

/* bk of problem p: its tune value, or builtin when it is 0; -1 for a value out of range
 * (run refuses it; workspace_bytes then sizes for builtin, never for a wild value). */
static inline int st_bk(const attn_problem *p, int builtin)
{
    const int v = p->tune[ATTN_TUNE_TILE_K];
    return v == 0 ? builtin : v >= 1 && v <= ST_MAX_BK ? v : -1;
}
static inline int st_bk_ws(const attn_problem *p, int builtin)
{
    return st_bk(p, builtin) > 0 ? st_bk(p, builtin) : builtin;
}

static inline st_tile st_carve(void *slot, int Dv, int bk)
{
    st_tile t;
    t.S = slot;
    t.acc = t.S + ST_BQ * bk;
    t.m = t.acc + (size_t)ST_BQ * Dv;
    t.l = t.m + ST_BQ;
    t.lo = (int *)(t.l + ST_BQ);
    t.hi = t.lo + ST_BQ;
    return t;
}

/* q.k with four partial sums: breaks the add dependency chain of a D-long dot product. */
static inline float st_dot(const float *a, const float *b, int D)
{
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    int d = 0;
    for (; d + 4 <= D; d += 4) {
        s0 += a[d] * b[d];
        s1 += a[d + 1] * b[d + 1];
        s2 += a[d + 2] * b[d + 2];
        s3 += a[d + 3] * b[d + 3];
    }
    for (; d < D; d++) s0 += a[d] * b[d];
    return (s0 + s1) + (s2 + s3);
}

/* Raise a row's running max *m to mt if mt is larger, scaling *l and acc (Dv) by
 * exp(m_old - mt); m_old = -inf before the row's first key gives 0 (acc is 0 then). */
static inline void st_rescale(float mt, int Dv, float *m, float *l, float *acc)
{
    if (mt > *m) {
        const float corr = expf(*m - mt);
        *l *= corr;
        for (int d = 0; d < Dv; d++) acc[d] *= corr;
        *m = mt;
    }
}

/* Fold key value vj (Dv) with score s into a row's (l, acc (Dv)); s <= m. */
static inline void st_add(float s, const float *vj, int Dv, float m, float *l, float *acc)
{
    const float pj = expf(s - m);
    *l += pj;
    for (int d = 0; d < Dv; d++) acc[d] += pj * vj[d];
}

/* Rows [i0, i0 + nq) of head (b, h): sets t.lo, t.hi to the rows' spans, resets m, l,
 * acc, and folds in every key of the spans, tile by tile. */
static inline void st_span_tiles(const attn_problem *p, int b, int i0, int nq, int bk,
                                 const float *qbh, const float *kbh, const float *vbh,
                                 st_tile t)
{
    const int D = p->D, Dv = p->Dv;
    int klo, khi;
    plan_spans(p, b, i0, nq, t.lo, t.hi, &klo, &khi);
    for (int r = 0; r < nq; r++) {
        t.m[r] = -INFINITY;
        t.l[r] = 0.0f;
        for (int d = 0; d < Dv; d++) t.acc[(size_t)r * Dv + d] = 0.0f;
    }

    for (int j0 = klo; j0 < khi; j0 += bk) {
        const int j1 = khi - j0 < bk ? khi : j0 + bk;
        for (int r = 0; r < nq; r++) {
            const int jl = t.lo[r] > j0 ? t.lo[r] : j0, jh = t.hi[r] < j1 ? t.hi[r] : j1;
            const float *qi = qbh + (size_t)(i0 + r) * D;
            for (int j = jl; j < jh; j++)
                t.S[r * bk + (j - j0)] = p->scale * st_dot(qi, kbh + (size_t)j * D, D);
        }
        for (int r = 0; r < nq; r++) {
            const int jl = t.lo[r] > j0 ? t.lo[r] : j0, jh = t.hi[r] < j1 ? t.hi[r] : j1;
            if (jl >= jh) continue;
            const float *s = t.S + r * bk - j0;         /* s[j] for j in [jl, jh) */
            float *ar = t.acc + (size_t)r * Dv;
            float mt = s[jl];
            for (int j = jl + 1; j < jh; j++) mt = s[j] > mt ? s[j] : mt;
            st_rescale(mt, Dv, &t.m[r], &t.l[r], ar);
            for (int j = jl; j < jh; j++) st_add(s[j], vbh + (size_t)j * Dv, Dv, t.m[r], &t.l[r], ar);
        }
    }
}

/* out rows [i0, i0 + nq) of obh = acc / l; zeros for a row that saw no key. */
static inline void st_finish(float *obh, int i0, int nq, int Dv, st_tile t)
{
    for (int r = 0; r < nq; r++) {
        float *orow = obh + (size_t)(i0 + r) * Dv;
        const float inv = t.l[r] > 0.0f ? 1.0f / t.l[r] : 0.0f;
        for (int d = 0; d < Dv; d++) orow[d] = t.acc[(size_t)r * Dv + d] * inv;
    }
}

/* The whole tile for masks without global tokens (blocked.c, omp.c): rows
 * [i0, i0 + ST_BQ) clipped to Lq; slot is st_slot_bytes(Dv, bk) bytes of scratch. */
static inline void st_query_tile(const attn_problem *p, int b, int i0, int bk,
                                 const float *qbh, const float *kbh, const float *vbh,
                                 float *obh, void *slot)
{
    const int nq = p->Lq - i0 < ST_BQ ? p->Lq - i0 : ST_BQ;
    const st_tile t = st_carve(slot, p->Dv, bk);
    st_span_tiles(p, b, i0, nq, bk, qbh, kbh, vbh, t);
    st_finish(obh, i0, nq, p->Dv, t);
}

/* st_query_tile as a qtile_fn (qtile_par.h): arg points to the int bk. */
static inline void st_tile_fn(const attn_problem *p, int b, int i0, int nq, const float *qbh,
                           const float *kbh, const float *vbh, float *obh, void *slot,
                           const void *arg)
{
    (void)nq;
    st_query_tile(p, b, i0, *(const int *)arg, qbh, kbh, vbh, obh, slot);
}

#endif /* SCALAR_TILE_H */
