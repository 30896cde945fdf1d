/* flash_tile.h: the tile loop shared by the flash-style kernels (flash, simd_avx2,
 * simd_avx512, flash_avx2, flash_avx512). No intrinsics here: the including file first
 * defines FT_PREFIX and the primitives <prefix>scores_t, softmax_tile, scale_row, pv,
 * store_row (see vec_avx512.h for their contracts) and the sizes FT_LANES (rows per
 * softmax group), FT_ROWS (row multiple of scores_t), FT_PV_ROWS and FT_PV_COLS; then
 * includes this file once and calls ft_workspace() and ft_run().
 * With FT_ACC_T defined (flash_avx2) the accumulators are kept transposed, (Dv, bq), and
 * the primitives are scores_tm, softmax_tile, softmax_exp, pv_t and store_t instead
 * (vec_avx2.h): see "Transposed accumulators" below.
 *
 * Loop structure (FlashAttention-2 order: a thread owns a query tile):
 *   parallel for (b, h, query tile of bq rows), dynamic schedule, heaviest tiles first
 *   (qtile_par.h, shared with the scalar and window kernels):
 *     bands [lo, hi) of the tile's rows (attn_band); key range = their union
 *     qt = the tile's Q transposed (D, bq)                  once per query tile
 *          (general score: the tile's (Q W)^T, ft_project_general; scale 1)
 *     m = -inf, l = 0, acc = 0
 *     for each key tile of kt keys inside the union:
 *       st = scale * K_tile Q_tile^T  (kt, bq)             K read in place
 *       per group of FT_LANES rows (one per lane): tile max, new running max; the rows
 *         whose max grew scale their acc row by e^(m_old - m_new); st = e^(st - m);
 *         l = l * corr + sum; masked keys (only on tiles crossing a band edge) give 0
 *       acc += P V_tile             (bq, Dv)
 *     out = acc / l (0 for rows with no visible key)
 * The Lq x Lk score matrix never exists: per thread only qt, the kt x bq tile, acc and
 * the row statistics (ft_thread_floats). Key tiles outside the union of the tile's bands
 * are never touched, so causal does about half the work and windows a band's worth.
 *
 * Why transposed scores: with scores as K Q^T, one key element is broadcast against a
 * vector of query rows, so the microkernel reads K rows in place (no packing of K per
 * tile, no copy per query head under GQA) and only the query tile is transposed, once,
 * then reused against every key tile; and the online softmax's max, exp and sum run
 * lane-parallel over rows without horizontal reductions. P V then broadcasts pt[j][r].
 *
 * Transposed accumulators (FT_ACC_T): acc^T (Dv, bq) with rows along the vector, so P V
 * has the shape of the scores (one V element broadcast against a vector of P's rows: a
 * 4 x 24 block with 12 accumulators where the row-major P V has 4 x 16 with 8) and a row's
 * rescale is a lane-wise multiply by corr, fused into pv_t's accumulator loads; a tile no
 * mask touches takes its max from scores_tm (no max pass) and its exp from softmax_exp;
 * store_t transposes and divides once per query tile. On the AMD EPYC Zen 3 of
 * 2026-12-06, 1 thread, D = 64, 4608 keys: 10-14% faster than the row-major loop,
 * interleaved in one process (docs/perf.md).
 *
 * Small Lq: the query tile is fitted to Lq (ft_fit: bq = Lq rounded up to FT_ROWS when
 * that is below the kernel's bq), so a decode-like problem neither computes nor stores
 * 64 padded rows. And a kernel may hand problems with Lq <= FT_DECODE_LQ to a decode
 * kernel (ft_workspace_dec / ft_run_dec): flash reads a kv head's K and V once per query
 * head and per query tile and, at Lq = 1, uses one thread per (b, h), while the decode
 * kernels read them once per GQA group and split the keys across threads (decode_split.h).
 *
 * Masks: the band of every row is contiguous (causal, padding, window and cross all
 * reduce to [lo, hi) by attn_band), so a key tile is either wholly visible to every row
 * of the query tile (fast path, no compares) or crosses an edge (per-lane compare).
 * Rows padded up to FT_ROWS get Q = 0 and the empty band; they are never stored.
 */
#ifndef FLASH_TILE_H
#define FLASH_TILE_H

#include "attn.h"
#include "qtile_par.h"
#include "decode_handoff.h"

#define FT_CAT2(a, b) a##b
#define FT_CAT(a, b) FT_CAT2(a, b)
#define FTP(x) FT_CAT(FT_PREFIX, x)

/* Query tile rows (bq, a multiple of FT_ROWS and FT_LANES) and key tile keys (kt). */
typedef struct { int bq, kt; } ft_tiles;


static inline int ft_round_up(int n, int m) { return (n + m - 1) / m * m; }

/* ---- tunables: tile_q = bq, tile_k = kt (attn.h "tunables") ----
 *
 * Allowed: bq a multiple of FT_ROWS (the scores microkernel's row block) from FT_ROWS to
 * FT_MAX_TILE, kt a multiple of 16 from 16 to FT_MAX_TILE (any kt works; steps of 16 keep
 * sweeps small). The kernel's descriptor sets .tune = FT_TUNE, .tile_rule = FT_TILE_RULE.
 *
 * Default from the caches: attn.h's tile rule (attn_tune_defaults) with the including
 * file's constants FT_SCORE_L1_DIV (default 2: the score tile in half of L1d) and
 * FT_DEFAULT_BQ (default 256, the largest default bq): .tile_rule = FT_TILE_RULE. */
#define FT_MAX_TILE 1024
#ifndef FT_SCORE_L1_DIV
#define FT_SCORE_L1_DIV 2
#endif
#ifndef FT_DEFAULT_BQ
#define FT_DEFAULT_BQ 256
#endif
#define FT_TILE_RULE { FT_SCORE_L1_DIV, FT_DEFAULT_BQ }
#define FT_TUNE { [ATTN_TUNE_TILE_Q] = { FT_ROWS, FT_MAX_TILE, FT_ROWS }, \
                  [ATTN_TUNE_TILE_K] = { 16, FT_MAX_TILE, 16 } }

static inline int ft_tiles_ok(ft_tiles t)
{
    return t.bq >= FT_ROWS && t.bq <= FT_MAX_TILE && t.bq % FT_ROWS == 0 &&
           t.kt >= 1 && t.kt <= FT_MAX_TILE;
}

/* The tiles problem p asks for: its tune values where set, else the kernel's built-in. */
static inline ft_tiles ft_asked(const attn_problem *p, ft_tiles builtin)
{
    return (ft_tiles){ p->tune[ATTN_TUNE_TILE_Q] ? p->tune[ATTN_TUNE_TILE_Q] : builtin.bq,
                       p->tune[ATTN_TUNE_TILE_K] ? p->tune[ATTN_TUNE_TILE_K] : builtin.kt };
}

/* The tiles of problem p: ft_asked, or the built-in ones for values the kernel does not
 * allow (run refuses those first: ft_check), so a workspace size is never computed from
 * a wild value. */
static inline ft_tiles ft_pick(const attn_problem *p, ft_tiles builtin)
{
    return ft_tiles_ok(ft_asked(p, builtin)) ? ft_asked(p, builtin) : builtin;
}

/* attn_problem_check plus the tunables: ATTN_ERR_INVALID for tiles outside FT_TUNE. */
static inline int ft_check(const attn_problem *p, unsigned caps, int threads, ft_tiles builtin)
{
    if (!ft_tiles_ok(ft_asked(p, builtin))) return ATTN_ERR_INVALID;
    return attn_problem_check(p, caps, threads);
}

/* The kernel's tiles with bq cut to Lq rounded up to FT_ROWS (a multiple of 16, so the
 * workspace parts stay 64-byte aligned) when Lq is smaller than one query tile. The
 * workspace and the run both use the fitted tiles. */
_Static_assert(FT_ROWS % 16 == 0, "ft_fit keeps bq a multiple of 16 only if FT_ROWS is one");
static inline ft_tiles ft_fit(const attn_problem *p, ft_tiles t)
{
    const int rows = ft_round_up(p->Lq < 1 ? 1 : p->Lq, FT_ROWS);
    if (rows < t.bq) t.bq = rows;
    return t;
}

/* Row stride of acc: Dv rounded up to the PV column chunk. */
static inline int ft_lda(const attn_problem *p) { return ft_round_up(p->Dv, FT_PV_COLS); }

/* Floats of one thread's workspace: qt (D, bq), st (kt, bq), acc (bq, lda), then m, l,
 * corr (bq) floats and lo, hi (bq) ints. bq is a multiple of 16, so every part starts
 * 64-byte aligned when the workspace does. */
static inline size_t ft_thread_floats(const attn_problem *p, ft_tiles t)
{
    return (size_t)t.bq * ((size_t)p->D + t.kt + ft_lda(p) + 5);
}

static inline size_t ft_workspace(const attn_problem *p, int threads, ft_tiles t)
{
    return (size_t)threads * ft_thread_floats(p, ft_fit(p, t)) * sizeof(float);
}

/* The general score's query projection q' = W^T q (W (D, D), s = q^T W k = q' . k) of
 * one row q (D) into column qt_r of the transposed tile (stride bq): q'_e = sum_d
 * W[d][e] q_d, accumulated row by row of W so the inner loop runs over contiguous e.
 * A padding row (live = 0) gets zeros. Once per query tile, D^2 per row against the
 * tile's 4 D per key: the projection is D / (4 Lk) of the work. */
static inline void ft_project_general(const float *w, const float *q, int D, int live,
                                      float *qt_r, int bq)
{
    for (int e = 0; e < D; e++) qt_r[(size_t)e * bq] = 0.0f;
    for (int d = 0; d < D && live; d++) {
        const float x = q[d];
        const float *wd = w + (size_t)d * D;
        for (int e = 0; e < D; e++) qt_r[(size_t)e * bq] += wd[e] * x;
    }
}

/* One query tile: rows [i0, i0 + bq) of (b, h). qbh (Lq, D), kbh (Lk, D), vbh (Lk, Dv)
 * and obh (Lq, Dv) are the head's slices; ws is this thread's workspace. */
static void ft_qtile(const attn_problem *p, int b, const float *qbh, const float *kbh,
                     const float *vbh, float *obh, int i0, ft_tiles t, float *ws)
{
    const int D = p->D, Dv = p->Dv, bq = t.bq, lda = ft_lda(p);
    float *qt = ws;                             /* (D, bq) query tile transposed */
    float *st = qt + (size_t)D * bq;            /* (kt, bq) scores, then probabilities */
    float *acc = st + (size_t)t.kt * bq;        /* (bq, lda) unnormalised output rows, or */
                                                /* FT_ACC_T: (Dv, bq) the same transposed */
    float *m = acc + (size_t)bq * lda;          /* (bq) running max */
    float *l = m + bq;                          /* (bq) running sum */
    float *corr = l + bq;                       /* (bq) rescale factor of the last tile */
    int *lo = (int *)(corr + bq), *hi = lo + bq;/* (bq) each row's band [lo, hi) */

    const int nq = p->Lq - i0 < bq ? p->Lq - i0 : bq;
    const int nr = ft_round_up(nq, FT_ROWS);
    int klo = p->Lk, khi = 0, maxlo = 0, minhi = p->Lk;
    for (int r = 0; r < nr; r++) {
        if (r < nq) {
            attn_band(p, b, i0 + r, &lo[r], &hi[r]);
            if (lo[r] > maxlo) maxlo = lo[r];
            if (hi[r] < minhi) minhi = hi[r];
            if (lo[r] < hi[r]) {
                if (lo[r] < klo) klo = lo[r];
                if (hi[r] > khi) khi = hi[r];
            }
        } else {
            lo[r] = hi[r] = 0;
        }
    }
    if (klo >= khi) {                           /* no row sees any key */
        for (int r = 0; r < nq; r++)
            for (int c = 0; c < Dv; c++) obh[(size_t)(i0 + r) * Dv + c] = 0.0f;
        return;
    }

    const int general = p->score == ATTN_SCORE_GENERAL;
    for (int r = 0; r < nr; r++) {
        const float *qr = qbh + (size_t)(i0 + r) * D;
        if (general) ft_project_general(p->wg, qr, D, r < nq, qt + r, bq);
        else for (int d = 0; d < D; d++) qt[(size_t)d * bq + r] = r < nq ? qr[d] : 0.0f;
        m[r] = -INFINITY;
        l[r] = 0.0f;
#ifdef FT_ACC_T
        for (int c = 0; c < Dv; c++) acc[(size_t)c * bq + r] = 0.0f;
#else
        for (int c = 0; c < lda; c++) acc[(size_t)r * lda + c] = 0.0f;
#endif
    }

    for (int j0 = klo; j0 < khi; j0 += t.kt) {
        const int nk = khi - j0 < t.kt ? khi - j0 : t.kt;
        const int masked = !(maxlo <= j0 && minhi >= j0 + nk);
#ifdef FT_ACC_T
        /* unmasked: the tile max comes with the scores (into corr, read before written) */
        FTP(scores_tm)(kbh + (size_t)j0 * D, D, nk, D, qt, bq, nr, general ? 1.0f : p->scale, st, bq,
                       masked ? NULL : corr);
        unsigned grew = 0;
        for (int g = 0; g < nr; g += FT_LANES)
            grew |= masked ? FTP(softmax_tile)(st + g, bq, nk, j0, lo + g, hi + g, 1, m + g, l + g, corr + g)
                           : FTP(softmax_exp)(st + g, bq, nk, corr + g, m + g, l + g, corr + g);
        FTP(pv_t)(st, bq, nk, vbh + (size_t)j0 * Dv, Dv, Dv, acc, bq, nr, corr, grew != 0);
#else
        FTP(scores_t)(kbh + (size_t)j0 * D, D, nk, D, qt, bq, nr, general ? 1.0f : p->scale, st, bq);
        for (int g = 0; g < nr; g += FT_LANES) {
            unsigned grew = FTP(softmax_tile)(st + g, bq, nk, j0, lo + g, hi + g, masked,
                                              m + g, l + g, corr + g);
            while (grew) {
                const int r = g + __builtin_ctz(grew);
                grew &= grew - 1;
                FTP(scale_row)(acc + (size_t)r * lda, Dv, corr[r]);
            }
        }
        FTP(pv)(st, bq, nk, vbh + (size_t)j0 * Dv, Dv, Dv, acc, lda, nr);
#endif
    }

#ifdef FT_ACC_T
    FTP(store_t)(obh + (size_t)i0 * Dv, Dv, acc, bq, nq, Dv, l);
#else
    for (int r = 0; r < nq; r++)
        FTP(store_row)(obh + (size_t)(i0 + r) * Dv, acc + (size_t)r * lda, Dv,
                       l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
#endif
}

/* ft_qtile as a qtile_fn: arg is the ft_tiles. */
static void ft_tile_fn(const attn_problem *p, int b, int i0, int nq, const float *qbh,
                    const float *kbh, const float *vbh, float *obh, void *slot, const void *arg)
{
    (void)nq;
    ft_qtile(p, b, qbh, kbh, vbh, obh, i0, *(const ft_tiles *)arg, slot);
}

/* Every (b, h, query tile) with `threads` threads (qtile_par.h: heaviest tiles first,
 * one workspace slot of ft_thread_floats per thread). The caller has checked the problem. */
static void ft_run(const attn_problem *p, const float *q, const float *k, const float *v,
                   float *out, void *workspace, int threads, ft_tiles t)
{
    t = ft_fit(p, t);
    qtile_par(p, q, k, v, out, threads, t.bq, workspace, ft_thread_floats(p, t) * sizeof(float),
              ft_tile_fn, &t);
}

/* The same with problems of Lq <= FT_DECODE_LQ query rows handed to the decode kernel
 * dec (whose caps must cover the flash kernel's: the flash kernels and the decode kernels
 * declare the same set, but for the general score, which stays here). Its workspace
 * comes from ft_workspace_dec with the same dec. */
static inline size_t ft_workspace_dec(const attn_problem *p, int threads, ft_tiles t,
                                      const attn_kernel *dec)
{
    return ft_to_decode(p) ? dec->workspace_bytes(p, threads) : ft_workspace(p, threads, t);
}

static inline attn_status ft_run_dec(const attn_problem *p, const float *q, const float *k,
                                     const float *v, float *out, void *workspace, int threads,
                                     ft_tiles t, const attn_kernel *dec)
{
    if (ft_to_decode(p)) return dec->run(p, q, k, v, out, workspace, threads);
    ft_run(p, q, k, v, out, workspace, threads, t);
    return ATTN_OK;
}

#endif /* FLASH_TILE_H */
