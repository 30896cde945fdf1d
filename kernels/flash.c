/* flash.c: portable FlashAttention-2 style kernel: tiled online softmax, OpenMP over
 * (batch, head, query tile), plain C that the compiler vectorises for the baseline ISA.
 *
 * Loop structure: flash_tile.h (each thread owns a query tile, its accumulator and its
 * running max and sum; loops over key tiles inside the tile's band; rescales a row only
 * when its max grows; divides once at the end; never materialises Lq x Lk; key tiles
 * above the causal diagonal or outside a window are never touched). The primitives below
 * are the scalar versions of simd_avx512.h's, with the same contracts: their inner loops
 * run over 16 query rows (scores, softmax) or over Dv (P V) with unit stride. expf is
 * the C library's, element by element: the SIMD kernels are the ones with a vector exp.
 *
 * Tile sizes: BQ = 32 rows, KT = 128 keys, as blocked.c: K, V tiles of 128 x 64 floats
 * (32 KiB each at D = 64) stay in L2 while the 32 query rows reuse them; the score tile
 * (16 KiB) and the 32-row query tile (8 KiB at D = 64) stay in L1.
 */
#include <math.h>
#include "attn.h"

#define P_LANES 16

/* st[j][r] = scale * sum_d k[j][d] qt[d][r], keys j in [0, nk), rows r in [0, nr). */
static void p_scores_t(const float *k, int ldk, int nk, int D, const float *qt, int ldq,
                       int nr, float scale, float *st, int ldst)
{
    for (int j = 0; j < nk; j++) {
        const float *kj = k + (size_t)j * ldk;
        float *s = st + (size_t)j * ldst;
        for (int r = 0; r < nr; r++) s[r] = 0.0f;
        for (int d = 0; d < D; d++) {
            const float kd = kj[d], *qd = qt + (size_t)d * ldq;
            for (int r = 0; r < nr; r++) s[r] += kd * qd[r];
        }
        for (int r = 0; r < nr; r++) s[r] *= scale;
    }
}

/* Online-softmax update of P_LANES rows against one key tile; contract of
 * a512_softmax_tile (simd_avx512.h). Returns bit r set where row r's max grew. */
static unsigned p_softmax_tile(float *st, int ldst, int nk, int j0, const int *lo,
                               const int *hi, int masked, float *m, float *l, float *corr)
{
    float mt[P_LANES], sum[P_LANES], msub[P_LANES];
    unsigned grew = 0;
    for (int r = 0; r < P_LANES; r++) mt[r] = -INFINITY;
    for (int j = 0; j < nk; j++) {
        const float *s = st + (size_t)j * ldst;
        for (int r = 0; r < P_LANES; r++) {
            const int ok = !masked || (lo[r] <= j0 + j && j0 + j < hi[r]);
            if (ok && s[r] > mt[r]) mt[r] = s[r];
        }
    }
    for (int r = 0; r < P_LANES; r++) {
        const float mnew = mt[r] > m[r] ? mt[r] : m[r];
        corr[r] = 1.0f;
        if (mnew > m[r]) {          /* m = -inf before the first visible key: corr = 0 */
            corr[r] = expf(m[r] - mnew);
            grew |= 1u << r;
        }
        m[r] = mnew;
        msub[r] = mnew == -INFINITY ? 0.0f : mnew;
        sum[r] = 0.0f;
    }
    for (int j = 0; j < nk; j++) {
        float *s = st + (size_t)j * ldst;
        for (int r = 0; r < P_LANES; r++) {
            const int ok = !masked || (lo[r] <= j0 + j && j0 + j < hi[r]);
            s[r] = ok ? expf(s[r] - msub[r]) : 0.0f;
            sum[r] += s[r];
        }
    }
    for (int r = 0; r < P_LANES; r++) l[r] = l[r] * corr[r] + sum[r];
    return grew;
}

/* x[0, n) *= c. */
static void p_scale_row(float *x, int n, float c)
{
    for (int i = 0; i < n; i++) x[i] *= c;
}

/* acc[r][c] += sum_j pt[j][r] v[j][c]; pt (nk, ldp), v (nk, ldv), acc (nr, lda). */
static void p_pv(const float *pt, int ldp, int nk, const float *v, int ldv, int Dv,
                 float *acc, int lda, int nr)
{
    for (int r = 0; r < nr; r++) {
        float *a = acc + (size_t)r * lda;
        for (int j = 0; j < nk; j++) {
            const float pj = pt[(size_t)j * ldp + r];
            const float *vj = v + (size_t)j * ldv;
            if (pj == 0.0f) continue;           /* masked key */
            for (int c = 0; c < Dv; c++) a[c] += pj * vj[c];
        }
    }
}

/* out[0, n) = acc[0, n) * c. */
static void p_store_row(float *out, const float *acc, int n, float c)
{
    for (int i = 0; i < n; i++) out[i] = acc[i] * c;
}

#define FT_PREFIX p_
#define FT_LANES P_LANES
#define FT_ROWS P_LANES
#define FT_PV_ROWS 1
#define FT_PV_COLS 16
#include "flash_tile.h"

static const ft_tiles tiles = { 32, 128 };

#define FLASH_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                    ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

static size_t flash_workspace(const attn_problem *p, int threads)
{
    return ft_workspace(p, threads, tiles);
}

static attn_status flash_run(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, FLASH_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;
    ft_run(p, q, k, v, out, workspace, threads, tiles);
    return ATTN_OK;
}

/* fp32 tolerance: libm expf; scores summed over D in order; sums over keys in key
 * order per row (about 3e-5 at 65536 keys); one rounding of l and acc per rescale, at
 * most one per key tile of 128 (worst 3e-5 at 65536 keys). Under 6e-5: atol = 1e-4,
 * rtol = 1e-3. */
const attn_kernel attn_kernel_flash = {
    .name = "flash",
    .desc = "portable flash: online softmax over key tiles, query tiles per thread, OpenMP",
    .requires = 0,
    .caps = FLASH_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = flash_workspace,
    .run = flash_run,
    .unavailable = NULL,
};
