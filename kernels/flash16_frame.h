/* flash16_frame.h: the frame the 16-bit flash kernels (flash_f16, flash_bf16) share around
 * their own tile arithmetic. No intrinsics.
 *
 *   h16_run      check the problem (capabilities, then dtype, then the 16-bit tensors),
 *                and run every (b, h, query tile) through qtile_par.h
 *   h16_slices   a head's q16, k16, v16 slices from the float slices qtile_par hands out
 *   h16_bands    the rows' bands [lo, hi), their union [klo, khi) and whether every row
 *                sees all of a key range (maxlo, minhi); a query tile that sees no key
 *                gets zero rows here
 * The tile loop between (Q packing, key tiles, softmax, P V, stores) is each kernel's:
 * flash_tile.h's loop, written out because that one reads K and V rows in place as floats.
 */
#ifndef FLASH16_FRAME_H
#define FLASH16_FRAME_H

#include <string.h>
#include "attn.h"
#include "qtile_par.h"

/* The float arrays run() got, passed to the tile function: a float slice minus its base is
 * the element offset of the same slice in q16, k16, v16. The floats are never read. */
typedef struct { const float *q, *k, *v; } h16_bases;

typedef struct { const uint16_t *q, *k, *v; } h16_heads;

static inline h16_heads h16_slices(const attn_problem *p, const void *arg, const float *qbh,
                                   const float *kbh, const float *vbh)
{
    const h16_bases *fb = arg;
    h16_heads h = { p->q16 + (qbh - fb->q), p->k16 + (kbh - fb->k), p->v16 + (vbh - fb->v) };
    return h;
}

/* The bands of query rows [i0, i0 + nq) of batch item b into lo, hi (nr entries: rows
 * past nq get the empty band), their union into [*klo, *khi), the largest lo and smallest
 * hi into *maxlo, *minhi (a key tile inside [maxlo, minhi) needs no mask). Returns 0, with
 * obh's rows zeroed, when no row sees any key. */
static inline int h16_bands(const attn_problem *p, int b, int i0, int nq, int nr, int *lo,
                            int *hi, int *klo, int *khi, int *maxlo, int *minhi, float *obh)
{
    *klo = p->Lk, *khi = 0, *maxlo = 0, *minhi = p->Lk;
    for (int r = 0; r < nr; r++) {
        lo[r] = hi[r] = 0;
        if (r >= nq) continue;
        attn_band(p, b, i0 + r, &lo[r], &hi[r]);
        if (lo[r] > *maxlo) *maxlo = lo[r];
        if (hi[r] < *minhi) *minhi = hi[r];
        if (lo[r] < hi[r] && lo[r] < *klo) *klo = lo[r];
        if (lo[r] < hi[r] && hi[r] > *khi) *khi = hi[r];
    }
    if (*klo < *khi) return 1;
    memset(obh + (size_t)i0 * p->Dv, 0, sizeof(float) * (size_t)nq * p->Dv);
    return 0;
}

/* run() of a 16-bit flash kernel taking dtype t: the checks, then tile over every (b, h,
 * query tile of bq rows) with slot_bytes of workspace per thread. */
static inline attn_status h16_run(const attn_problem *p, const float *q, const float *k,
                                  const float *v, float *out, void *workspace, int threads,
                                  unsigned caps, attn_dtype t, int bq, size_t slot_bytes,
                                  qtile_fn *tile)
{
    int st = attn_problem_check(p, caps, threads);
    if (st != ATTN_OK) return (attn_status)st;
    if (p->dtype != t) return ATTN_ERR_UNSUPPORTED;
    if (!p->q16 || !p->k16 || !p->v16 || !q || !k || !v) return ATTN_ERR_INVALID;
    const h16_bases fb = { q, k, v };
    qtile_par(p, q, k, v, out, threads, bq, workspace, slot_bytes, tile, &fb);
    return ATTN_OK;
}

#endif /* FLASH16_FRAME_H */
