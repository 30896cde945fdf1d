/* blas.c: standard attention through CBLAS (OpenBLAS): per (batch, head) and per block
 * of BR query rows, S = scale * Q K^T by sgemm, masked row softmax, O = P V by sgemm.
 * The textbook algorithm as most code writes it, with the score matrix bounded to one
 * block of rows: the peer against which the flash kernels' fusion is measured.
 *
 * Loop structure, per (b, h, block of BR query rows [i0, i0 + nb)):
 *   bands [lo, hi) of the block's rows (attn_band); key range [klo, khi) = their union
 *   (empty: the block's output rows are zeros, no gemm)
 *   S (nb, khi - klo) = scale * Q[i0:i0+nb] K[klo:khi]^T   sgemm; Q, K read in place
 *                         (K of kv head h / (H / Hkv): no copy under GQA)
 *   per row: max over its band, S = e^(S - max) inside the band and 0 outside it, sum;
 *            inv = 1 / sum (0 for a row with no visible key)
 *   O[i0:i0+nb] = S V[klo:khi]                              sgemm straight into out
 *   per row: O *= inv (a row with no visible key is written as zeros)
 * The union of the bands is what makes causal cost about half (each block stops at its
 * last row's diagonal) and a window about a band's worth. Within the union the gemm does
 * the masked pairs too (at most a BR-wide triangle per block under causal); the softmax
 * gives them probability 0. Masks: the capabilities exclude global tokens, so every
 * row's visible keys are exactly its contiguous band, and attn_band() is attn_allowed().
 *
 * Workspace: per thread one block of scores, BR x Lk floats (2 MiB at BR = 128,
 * Lk = 4096), plus the block's bands and 1/sum; never Lq x Lk.
 *
 * Block size BR = 128 rows. The K panel (and in P V the V panel) that OpenBLAS packs on
 * every call is reused by BR rows, so the packing is 1/BR of the work. Measured sgemm
 * rates on the 2-core AMD EPYC (Zen 3), OpenBLAS 0.3.21 (Zen core), one head, N = 4096,
 * D = 64, 1 thread, GFLOP/s for Q K^T / P V: BR 32: 56 / 68; 64: 61 / 75; 128: 65 / 76;
 * 256: 62 / 69; 512: 64 / 68. 128 is the best and keeps the S block at 2 MiB per thread
 * (Lk = 4096): larger blocks only grow the workspace.
 *
 * Softmax: portable C (this file takes no ISA flags); e^x is the Cephes polynomial of
 * vec_avx2.h written as plain C the compiler vectorises (omp simd), ~1 ulp.
 *
 * Threads (kept: OpenMP over (b, h, row block), one-thread BLAS inside). Both ways
 * measured on the 2-core EPYC (Zen 3), Debian's OpenBLAS 0.3.21 pthread variant
 * (libopenblas0-pthread), B = 1, H = 8, D = 64, no mask, median ms, 1 / 2 threads:
 *   (a) OpenMP outside, openblas_set_num_threads(1):  N 1024: 75.6 / 47.3;  N 4096: 1384 / 1018
 *   (b) BLAS threads on each gemm, softmax rows on OpenMP (-DBLAS_OUTER_OMP=0):
 *                                                      N 1024: 81.6 / 420.9; N 4096: 1336 / 3644
 * (both before the softmax's exp was vectorised; the ratio is what counts). In (b) the
 * gemms of one block are small for OpenBLAS's threads, and its spinning pthreads and the
 * OpenMP team fight over the two cores between gemm and softmax. With the pthread
 * variant, concurrent sgemm calls from OpenMP threads are safe only with
 * openblas_set_num_threads(1) (each call then runs on its caller), which (a) sets and
 * restores; the OpenMP variant (libopenblas0-openmp) would also see omp_in_parallel().
 *
 * Without CBLAS (the Makefile found no OpenBLAS, or CBLAS=0) this file still builds a
 * descriptor: `unavailable` gives the reason and run() only checks the problem.
 */
#include <string.h>
#include "attn.h"
#include "vec_portable.h"   /* p_exp: the branch-free exp the softmax loop vectorises */

#ifdef ATTN_HAVE_CBLAS
#include <cblas.h>
#include <omp.h>
#endif

#define BLAS_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                   ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

#ifndef BLAS_BR
#define BLAS_BR 128
#endif

/* 1: OpenMP over (b, h, row block), one-thread BLAS inside each; 0: one block at a time,
 * the gemms on OpenBLAS's own threads and the softmax rows on OpenMP threads. */
#ifndef BLAS_OUTER_OMP
#define BLAS_OUTER_OMP 1
#endif

/* Floats of one thread's workspace: S (BR, Lk), then inv (BR) floats and lo, hi (BR)
 * ints; rounded up to 16 floats so every thread's part starts 64-byte aligned. */
static size_t blas_thread_floats(const attn_problem *p)
{
    size_t n = (size_t)BLAS_BR * p->Lk + 3 * (size_t)BLAS_BR;
    return (n + 15) / 16 * 16;
}

static size_t blas_workspace(const attn_problem *p, int threads)
{
#if BLAS_OUTER_OMP
    return (size_t)threads * blas_thread_floats(p) * sizeof(float);
#else
    (void)threads;
    return blas_thread_floats(p) * sizeof(float);
#endif
}

#ifdef ATTN_HAVE_CBLAS

/* Row s (n scores of keys klo..klo+n) of a query whose band is [lo, hi) (absolute key
 * indices, inside [klo, klo + n) or empty): probabilities e^(s - max) in the band, 0
 * outside; returns 1 / sum, or 0 when the band is empty. */
static float blas_row_softmax(float *s, int n, int lo, int hi)
{
    if (lo >= hi) {
        memset(s, 0, sizeof(float) * (size_t)n);
        return 0.0f;
    }
    float *band = s + lo;
    const int m = hi - lo;
    float mx = band[0];
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < m; j++) mx = band[j] > mx ? band[j] : mx;
#pragma omp simd
    for (int j = 0; j < m; j++) band[j] = p_exp(band[j] - mx);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < m; j++) sum += band[j];
    memset(s, 0, sizeof(float) * (size_t)lo);
    memset(s + hi, 0, sizeof(float) * (size_t)(n - hi));
    return 1.0f / sum;
}

/* Bands of rows [i0, i0 + nb) of batch b into lo, hi; their union into [*klo, *khi)
 * (*klo >= *khi when no row sees a key). */
static void blas_bands(const attn_problem *p, int b, int i0, int nb, int *lo, int *hi,
                       int *klo, int *khi)
{
    int ulo = p->Lk, uhi = 0;
    for (int r = 0; r < nb; r++) {
        attn_band(p, b, i0 + r, &lo[r], &hi[r]);
        if (lo[r] < hi[r]) {
            if (lo[r] < ulo) ulo = lo[r];
            if (hi[r] > uhi) uhi = hi[r];
        }
    }
    *klo = ulo;
    *khi = uhi;
}

/* Head slices of (b, h): qbh (Lq, D), kbh (Lk, D), vbh (Lk, Dv), obh (Lq, Dv). */
typedef struct { const float *q, *k, *v; float *o; } blas_head;

static blas_head blas_slices(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, int b, int h)
{
    const int hk = h / (p->H / p->Hkv);
    blas_head s = {
        q + ((size_t)b * p->H + h) * p->Lq * p->D,
        k + ((size_t)b * p->Hkv + hk) * p->Lk * p->D,
        v + ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv,
        out + ((size_t)b * p->H + h) * p->Lq * p->Dv,
    };
    return s;
}

/* O rows [i0, i0 + nb) *= inv[r]; rows with inv 0 (no visible key) become exact zeros. */
static void blas_scale_rows(const attn_problem *p, float *obh, int i0, int nb, const float *inv)
{
    for (int r = 0; r < nb; r++) {
        float *o = obh + (size_t)(i0 + r) * p->Dv;
        const float f = inv[r];
        if (f == 0.0f) {
            memset(o, 0, sizeof(float) * (size_t)p->Dv);
            continue;
        }
#pragma omp simd
        for (int c = 0; c < p->Dv; c++) o[c] *= f;
    }
}

static void blas_zero_rows(const attn_problem *p, float *obh, int i0, int nb)
{
    memset(obh + (size_t)i0 * p->Dv, 0, sizeof(float) * (size_t)nb * p->Dv);
}

#if BLAS_OUTER_OMP

/* One block, all on the calling thread (BLAS set to one thread by the caller). */
static void blas_block(const attn_problem *p, int b, blas_head hd, int i0, float *ws)
{
    const int nb = p->Lq - i0 < BLAS_BR ? p->Lq - i0 : BLAS_BR;
    float *S = ws;                                      /* (nb, nk) */
    float *inv = S + (size_t)BLAS_BR * p->Lk;           /* (BR) */
    int *lo = (int *)(inv + BLAS_BR), *hi = lo + BLAS_BR;
    int klo, khi;
    blas_bands(p, b, i0, nb, lo, hi, &klo, &khi);
    if (klo >= khi) { blas_zero_rows(p, hd.o, i0, nb); return; }
    const int nk = khi - klo;

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, nk, p->D, p->scale,
                hd.q + (size_t)i0 * p->D, p->D, hd.k + (size_t)klo * p->D, p->D,
                0.0f, S, nk);
    for (int r = 0; r < nb; r++)
        inv[r] = blas_row_softmax(S + (size_t)r * nk, nk, lo[r] - klo, hi[r] - klo);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, p->Dv, nk, 1.0f,
                S, nk, hd.v + (size_t)klo * p->Dv, p->Dv, 0.0f, hd.o + (size_t)i0 * p->Dv, p->Dv);
    blas_scale_rows(p, hd.o, i0, nb, inv);
}

static void blas_compute(const attn_problem *p, const float *q, const float *k, const float *v,
                         float *out, void *workspace, int threads)
{
    const int nblk = (p->Lq + BLAS_BR - 1) / BLAS_BR;
    const long items = (long)p->B * p->H * nblk;
    const size_t per = blas_thread_floats(p);
    /* Each thread calls sgemm concurrently: OpenBLAS must run them on the calling thread.
     * The pthread build (Debian's default) needs openblas_set_num_threads(1) for that; the
     * OpenMP build also sees omp_in_parallel(). The setting is global: restored after. */
    const int prev = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (long w = 0; w < items; w++) {
        /* last blocks of a head first: under a causal mask they are the heaviest */
        const int bh = (int)(w / nblk), blk = nblk - 1 - (int)(w % nblk);
        const int b = bh / p->H, h = bh % p->H;
        blas_block(p, b, blas_slices(p, q, k, v, out, b, h), blk * BLAS_BR,
                   (float *)workspace + (size_t)omp_get_thread_num() * per);
    }
    openblas_set_num_threads(prev);
}

#else /* BLAS threads */

static void blas_compute(const attn_problem *p, const float *q, const float *k, const float *v,
                         float *out, void *workspace, int threads)
{
    const int nblk = (p->Lq + BLAS_BR - 1) / BLAS_BR;
    float *S = workspace;
    float *inv = S + (size_t)BLAS_BR * p->Lk;
    int *lo = (int *)(inv + BLAS_BR), *hi = lo + BLAS_BR;
    const int prev = openblas_get_num_threads();
    openblas_set_num_threads(threads);
    for (int b = 0; b < p->B; b++)
        for (int h = 0; h < p->H; h++) {
            blas_head hd = blas_slices(p, q, k, v, out, b, h);
            for (int blk = 0; blk < nblk; blk++) {
                const int i0 = blk * BLAS_BR, nb = p->Lq - i0 < BLAS_BR ? p->Lq - i0 : BLAS_BR;
                int klo, khi;
                blas_bands(p, b, i0, nb, lo, hi, &klo, &khi);
                if (klo >= khi) { blas_zero_rows(p, hd.o, i0, nb); continue; }
                const int nk = khi - klo;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, nk, p->D, p->scale,
                            hd.q + (size_t)i0 * p->D, p->D, hd.k + (size_t)klo * p->D, p->D,
                            0.0f, S, nk);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
                for (int r = 0; r < nb; r++)
                    inv[r] = blas_row_softmax(S + (size_t)r * nk, nk, lo[r] - klo, hi[r] - klo);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, p->Dv, nk, 1.0f,
                            S, nk, hd.v + (size_t)klo * p->Dv, p->Dv, 0.0f,
                            hd.o + (size_t)i0 * p->Dv, p->Dv);
                blas_scale_rows(p, hd.o, i0, nb, inv);
            }
        }
    openblas_set_num_threads(prev);
}

#endif /* BLAS_OUTER_OMP */
#endif /* ATTN_HAVE_CBLAS */

static attn_status blas_run(const attn_problem *p, const float *q, const float *k,
                            const float *v, float *out, void *workspace, int threads)
{
    int st = attn_problem_check(p, BLAS_CAPS, threads);
    if (st != ATTN_OK) return (attn_status)st;
#ifdef ATTN_HAVE_CBLAS
    blas_compute(p, q, k, v, out, workspace, threads);
    return ATTN_OK;
#else
    (void)q; (void)k; (void)v; (void)out; (void)workspace;
    return ATTN_ERR_UNSUPPORTED;
#endif
}

const attn_kernel attn_kernel_blas = {
    .name = "blas",
    .desc = "standard attention: S = Q K^T and O = P V by CBLAS sgemm (OpenBLAS) per block of 128 rows, OpenMP",
    .library_isa = 1,           /* OpenBLAS picks AVX2 / AVX-512 kernels at run time */
    .caps = BLAS_CAPS,
    .dtypes = ATTN_DTYPE_BIT(ATTN_F32),
    /* tolerance: sgemm's own summation order (blocked, FMA) and a ~1 ulp exp: a few
     * e-6 relative in practice, declared as the other fp32 kernels' 1e-4 / 1e-3 */
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
    .workspace_bytes = blas_workspace,
    .run = blas_run,
#ifndef ATTN_HAVE_CBLAS
    .unavailable = "built without CBLAS: install libopenblas-dev (scripts/install-deps.sh)",
#endif
};
