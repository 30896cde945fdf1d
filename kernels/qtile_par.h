/* qtile_par.h: the one (batch, head, query tile) OpenMP decomposition of the tiled
 * kernels: flash_tile.h (flash, simd_*, flash_*), scalar_tile.h (blocked, omp) and
 * window_plan.h (window, window_avx512). No intrinsics.
 *
 *   parallel for over (b, h, query tile of bq rows), schedule(dynamic, 1):
 *     within a head the LAST query tiles come first: under a causal mask they see the
 *     most keys, so the dynamic schedule ends on light tiles instead of waiting on a
 *     heavy one; tile(p, b, i0, nq, head slices, this thread's slot, arg)
 * Work items are query tiles, not heads, so 2 threads share even B = H = 1. Each thread
 * owns slot t of `slots` (slot_bytes each, a multiple of 64 so slots never share a cache
 * line): scratch is never shared. A tile writes only its own output rows, so the result
 * does not depend on the thread count or the order the tiles run in.
 */
#ifndef QTILE_PAR_H
#define QTILE_PAR_H

#include <stddef.h>
#include "attn.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* The work on query rows [i0, i0 + nq) of one head: qbh (Lq, D), kbh (Lk, D), vbh (Lk, Dv)
 * and obh (Lq, Dv) are the head's slices, slot this thread's scratch, arg the kernel's. */
typedef void qtile_fn(const attn_problem *p, int b, int i0, int nq,
                      const float *qbh, const float *kbh, const float *vbh, float *obh,
                      void *slot, const void *arg);

/* Every (b, h, query tile of bq rows) of the problem with `threads` threads (1: in order
 * on the calling thread's slot 0). The caller has checked the problem. */
static inline void qtile_par(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, int threads, int bq,
                             void *slots, size_t slot_bytes, qtile_fn *tile, const void *arg)
{
    const int group = p->H / p->Hkv, nqt = (p->Lq + bq - 1) / bq;
    const long items = (long)p->B * p->H * nqt;

#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (long w = 0; w < items; w++) {
        const int bh = (int)(w / nqt), qi = nqt - 1 - (int)(w % nqt);
        const int b = bh / p->H, h = bh % p->H, hk = h / group;
        const int i0 = qi * bq, nq = p->Lq - i0 < bq ? p->Lq - i0 : bq;
#ifdef _OPENMP
        void *slot = (char *)slots + (size_t)omp_get_thread_num() * slot_bytes;
#else
        void *slot = slots;
#endif
        tile(p, b, i0, nq,
             q + ((size_t)b * p->H + h) * p->Lq * p->D,          /* (Lq, D) */
             k + ((size_t)b * p->Hkv + hk) * p->Lk * p->D,       /* (Lk, D) */
             v + ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv,      /* (Lk, Dv) */
             out + ((size_t)b * p->H + h) * p->Lq * p->Dv,       /* (Lq, Dv) */
             slot, arg);
    }
}

#endif /* QTILE_PAR_H */
