/* test_kernels.c: the naive kernel against double precision, and every registered kernel
 * against the naive kernel, over a table of awkward shapes and mask variants, for every
 * input dtype (f32, and bf16 / f16: inputs rounded into the dtype, naive and the float64
 * reference computed from the rounded values).
 *
 * A new kernel is tested by being in the registry: kernels_match_naive runs it on every
 * shape whose needs its capabilities cover, for every dtype it accepts (and with 2 and 3
 * threads when it declares THREADS), and kernels_refuse_unsupported checks it refuses the
 * rest.
 */
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "attn.h"
#include "core/case.h"
#include "core/inputs.h"
#include "core/ref64.h"

#define ATOL 1e-5
#define RTOL 1e-4

/* ---------------------------------------------------------------- shapes -- */

typedef struct {
    const char *name;
    int B, H, Hkv, Lq, Lk, D, Dv;
    attn_mask mask;
    double pad;
    int wl, wr, globals;
    attn_score score;
    int A;
} shape;

#define DOT ATTN_SCORE_DOT, 0
#define ADD(a) ATTN_SCORE_ADDITIVE, a
#define GEN ATTN_SCORE_GENERAL, 0
#define FULL -1, -1, 0

static const shape shapes[] = {
    /* name              B  H Hkv  Lq   Lk   D  Dv  mask             pad   wl  wr  g  score */
    { "L1",              1, 2, 2,   1,   1,  8,  8, MASK_NONE,           0, FULL, DOT },
    { "L1-causal",       2, 1, 1,   1,   1,  3,  3, MASK_CAUSAL,         0, FULL, DOT },
    { "prime7",          2, 3, 3,   7,   7,  5,  5, MASK_NONE,           0, FULL, DOT },
    { "prime13-causal",  1, 2, 2,  13,  13, 17, 17, MASK_CAUSAL,         0, FULL, DOT },
    { "prime31-pad",     3, 2, 2,  31,  31, 16, 16, MASK_PADDING,      0.5, FULL, DOT },
    { "prime97-cpad",    2, 1, 1,  97,  97,  8,  8, MASK_CAUSAL_PADDING, 0.3, FULL, DOT },
    { "pad1",            2, 2, 2,  13,  13,  8,  8, MASK_PADDING,      1.0, FULL, DOT },
    { "pad1-causal",     3, 1, 1,  11,  11,  6,  6, MASK_CAUSAL_PADDING, 1.0, FULL, DOT },
    { "cross-q>k",       1, 2, 2,  37,  13,  9,  9, MASK_NONE,           0, FULL, DOT },
    { "cross-q>k-causal",2, 2, 2,  37,  13,  9,  9, MASK_CAUSAL,         0, FULL, DOT },
    { "cross-q<k",       1, 2, 2,   5,  97, 12, 12, MASK_NONE,           0, FULL, DOT },
    { "cross-q<k-causal",1, 1, 1,   5,  97, 12, 12, MASK_CAUSAL,         0, FULL, DOT },
    { "cross-pad",       2, 1, 1,  19,  53,  7,  7, MASK_CAUSAL_PADDING, 0.6, FULL, DOT },
    { "gqa",             2, 6, 2,  31,  31,  8,  8, MASK_CAUSAL,         0, FULL, DOT },
    { "mqa",             1, 4, 1,  13,  29, 16, 16, MASK_NONE,           0, FULL, DOT },
    { "vdim-wide",       1, 2, 2,  13,  13, 12, 20, MASK_NONE,           0, FULL, DOT },
    { "vdim-narrow",     1, 2, 1,  17,  23, 33,  7, MASK_CAUSAL,         0, FULL, DOT },
    { "win-sym",         1, 2, 2,  40,  40,  8,  8, MASK_NONE,           0, 3, 3, 0, DOT },
    { "win-left",        1, 1, 1,  40,  40,  8,  8, MASK_NONE,           0, 5, 0, 0, DOT },
    { "win-right",       1, 1, 1,  40,  40,  8,  8, MASK_NONE,           0, 0, 7, 0, DOT },
    { "win-left-only",   1, 1, 1,  29,  29,  8,  8, MASK_NONE,           0, 4, -1, 0, DOT },
    { "win-causal",      1, 2, 2,  40,  40,  8,  8, MASK_CAUSAL,         0, 4, -1, 0, DOT },
    { "win-cross-pad",   2, 1, 1,  23,  41,  8,  8, MASK_PADDING,      0.4, 2, 6, 0, DOT },
    { "globals-win",     1, 2, 2,  40,  40,  8,  8, MASK_NONE,           0, 2, 2, 3, DOT },
    { "globals-causal",  2, 1, 1,  33,  33,  8,  8, MASK_CAUSAL_PADDING, 0.3, 3, 0, 4, DOT },
    { "globals-cross",   1, 2, 1,  17,  45,  8,  6, MASK_NONE,           0, 1, 1, 5, DOT },
    { "globals-full",    1, 1, 1,  16,  16,  4,  4, MASK_NONE,           0, -1, -1, 2, DOT },
    { "additive",        1, 2, 2,  13,  13,  8,  8, MASK_NONE,           0, FULL, ADD(6) },
    { "additive-cpad",   2, 1, 1,  11,  11,  5,  9, MASK_CAUSAL_PADDING, 0.5, FULL, ADD(7) },
    { "additive-gqa-x",  1, 4, 2,   9,  21,  8,  8, MASK_CAUSAL,         0, FULL, ADD(16) },
    { "additive-win-g",  1, 1, 1,  24,  24,  8,  8, MASK_NONE,           0, 2, 2, 3, ADD(4) },
    /* past the blocked kernel's 32 x 128 tiles, with remainders in both directions */
    { "tiles",           1, 1, 1, 150, 300, 64, 64, MASK_NONE,           0, FULL, DOT },
    { "tiles-causal",    1, 2, 1, 129, 257, 20, 24, MASK_CAUSAL,         0, FULL, DOT },
    { "tiles-cpad",      2, 1, 1, 200, 200, 16, 16, MASK_CAUSAL_PADDING, 0.45, FULL, DOT },
    { "tiles-win",       1, 1, 1, 300, 300, 16, 16, MASK_NONE,           0, 40, 90, 0, DOT },
    { "tiles-q>k",       1, 1, 1, 260, 140, 16, 16, MASK_CAUSAL,         0, FULL, DOT },
    /* windows with global tokens, decode steps, Lq > Lk, empty batch items, GQA windows:
     * past the window kernels' 32 x 64 tiles, with remainders */
    { "wg-tiles",        1, 2, 2, 300, 300, 24, 24, MASK_NONE,           0, 33, 33, 7, DOT },
    { "wg-mistral",      1, 2, 1, 270, 270, 16, 16, MASK_CAUSAL,         0, 70, -1, 0, DOT },
    { "wg-mistral-g",    2, 1, 1, 203, 203, 16, 16, MASK_CAUSAL_PADDING, 0.3, 50, -1, 5, DOT },
    { "wg-asym",         1, 1, 1, 257, 257, 20, 12, MASK_NONE,           0, 100, 3, 4, DOT },
    { "wg-asym-right",   1, 1, 1, 190, 190, 16, 16, MASK_PADDING,      0.2, 0, 45, 3, DOT },
    { "wg-all-global",   1, 1, 1,  70,  70,  8,  8, MASK_CAUSAL,         0, 2, 2, 70, DOT },
    { "wg-many-global",  1, 2, 2, 100, 100,  8,  8, MASK_NONE,           0, 1, 1, 40, DOT },
    { "wg-decode",       2, 4, 2,   1, 300, 32, 32, MASK_CAUSAL_PADDING, 0.3, 64, -1, 6, DOT },
    { "wg-decode-full",  1, 2, 2,   1, 130, 16, 16, MASK_NONE,           0, FULL, DOT },
    { "wg-q>k",          1, 1, 1, 150,  70, 16, 16, MASK_CAUSAL,         0, 10, 10, 3, DOT },
    { "wg-q>k-nocausal", 1, 2, 1, 150,  70, 16, 16, MASK_PADDING,      0.4, 5, 20, 3, DOT },
    { "wg-pad1",         3, 2, 2,  90,  90,  8,  8, MASK_PADDING,      1.0, 8, 8, 4, DOT },
    { "wg-pad1-causal",  2, 1, 1,  77,  77,  8,  8, MASK_CAUSAL_PADDING, 1.0, 6, 0, 3, DOT },
    { "wg-gqa",          2, 6, 2, 140, 140, 16, 16, MASK_CAUSAL,         0, 20, 5, 5, DOT },
    { "wg-mqa-cross",    1, 4, 1,  60, 210, 16, 24, MASK_PADDING,      0.3, 12, 12, 4, DOT },
    { "wg-w0",           1, 1, 1,  80,  80,  8,  8, MASK_NONE,           0, 0, 0, 3, DOT },
    { "additive-win-x",  2, 2, 1,  37,  70, 12, 10, MASK_CAUSAL_PADDING, 0.4, 9, 3, 0, ADD(20) },
    { "additive-q>k",    1, 2, 2,  45,  21,  8,  8, MASK_CAUSAL,         0, FULL, ADD(17) },
    { "additive-pad1",   2, 1, 1,  19,  19,  6,  6, MASK_PADDING,      1.0, FULL, ADD(5) },
    { "additive-tiles",  1, 2, 1, 100, 150, 40, 33, MASK_PADDING,      0.2, FULL, ADD(35) },
    { "additive-decode", 1, 3, 3,   1,  90, 16, 16, MASK_CAUSAL,         0, FULL, ADD(64) },
    { "additive-mw-g",   1, 2, 2,  67,  67, 16, 16, MASK_CAUSAL,         0, 10, -1, 4, ADD(24) },
    /* decode: few query rows against a long cache, GQA 4:1 and MQA, ragged cache lengths
     * (pad 1.0: the last item fully padded), the ragged causal edge of Lq > 1, sliding
     * windows; Lk past the decode kernels' key chunks (split-KV and its merge) */
    { "dec-q1-k1-gqa",   1, 8, 2,   1,    1, 16, 16, MASK_NONE,           0, FULL, DOT },
    { "dec-q2-k7-mqa",   2, 4, 1,   2,    7,  8,  8, MASK_CAUSAL,         0, FULL, DOT },
    { "dec-q16-k7-c",    1, 8, 2,  16,    7,  8,  8, MASK_CAUSAL,         0, FULL, DOT },
    { "dec-q1-k1000-mqa",1, 4, 1,   1, 1000, 24, 24, MASK_NONE,           0, FULL, DOT },
    { "dec-q3-k1000-c",  1, 8, 2,   3, 1000, 32, 20, MASK_CAUSAL,         0, FULL, DOT },
    { "dec-q16-k1000-cp",2, 8, 2,  16, 1000, 20, 12, MASK_CAUSAL_PADDING, 0.4, FULL, DOT },
    { "dec-q1-k4099",    1, 8, 2,   1, 4099,128,128, MASK_NONE,           0, FULL, DOT },
    { "dec-q5-k4099-p1", 3, 4, 1,   5, 4099, 16, 24, MASK_PADDING,      1.0, FULL, DOT },
    { "dec-q4-k4099-cp", 2, 8, 2,   4, 4099, 64, 64, MASK_CAUSAL_PADDING, 0.7, FULL, DOT },
    { "dec-q2-k4099-win",1, 4, 1,   2, 4099, 16, 16, MASK_CAUSAL,         0, 700, -1, 0, DOT },
    { "dec-q16-k1000-w", 1, 8, 2,  16, 1000,  9,  9, MASK_PADDING,      0.3, 5, 3, 0, DOT },
    { "dec-q5-k7-mqa-p", 2, 4, 1,   5,    7, 12, 12, MASK_CAUSAL_PADDING, 0.5, FULL, DOT },
    /* issue 10's decode shape (H 32 on 8 kv heads, D 128) at a prime cache length, with
     * Dv != D; MHA with a prime Lq; Lq = 17, one past the flash kernels' hand-off to the
     * decode kernels (their query tile fitted to 32 rows) */
    { "dec-q1-k97-h32",  2,32, 8,   1,   97,128, 72, MASK_PADDING,      0.5, FULL, DOT },
    { "dec-q13-k2053-mha",2, 3, 3, 13, 2053, 24, 40, MASK_CAUSAL_PADDING, 0.5, 300, -1, 0, DOT },
    { "dec-q17-k300-gqa",1, 8, 2,  17,  300, 16, 16, MASK_CAUSAL,         0, FULL, DOT },
    /* Luong's general score q^T W k: L = 1 (no hand-off to the decode kernels), primes, D
     * not a multiple of the vector width, Lq != Lk both ways, GQA, fully masked rows
     * (pad 1.0, causal Lq > Lk), a window, past the flash query and key tiles */
    { "gen-L1",          1, 2, 2,   1,   1,  8,  8, MASK_NONE,           0, FULL, GEN },
    { "gen-prime13",     2, 3, 3,  13,  13, 17, 17, MASK_CAUSAL,         0, FULL, GEN },
    { "gen-q<k-gqa",     1, 6, 2,   5,  97, 12, 20, MASK_PADDING,      0.3, FULL, GEN },
    { "gen-q>k-causal",  2, 2, 1,  37,  13,  9,  9, MASK_CAUSAL,         0, FULL, GEN },
    { "gen-pad1",        3, 2, 2,  31,  31,  7,  7, MASK_CAUSAL_PADDING, 1.0, FULL, GEN },
    { "gen-win",         1, 2, 2,  70,  70,  8,  8, MASK_NONE,           0, 5, 9, 0, GEN },
    { "gen-tiles",       1, 2, 1, 150, 301, 33, 24, MASK_CAUSAL,         0, FULL, GEN },
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static attn_case case_of_dtype(const shape *s, const attn_kernel *k, attn_dtype t)
{
    attn_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.sweep, sizeof c.sweep, "test");
    c.kernel = k;
    c.batch = s->B;
    c.heads = s->H;
    c.kv_heads = s->Hkv;
    c.q_len = s->Lq;
    c.kv_len = s->Lk;
    c.head_dim = s->D;
    c.v_dim = s->Dv;
    c.threads = 1;
    c.mask = s->mask;
    c.pad = s->pad;
    c.window_left = s->wl;
    c.window_right = s->wr;
    c.globals = s->globals;
    c.score = s->score;
    c.additive_dim = s->A;
    c.dtype = t;
    c.seed = 1234;
    return c;
}

static attn_case case_of(const shape *s, const attn_kernel *k)
{
    return case_of_dtype(s, k, ATTN_F32);
}

/* The bound kernels_match_naive holds kernel k to on dtype t. A kernel that computes in
 * fp32 declares 1e-4 / 1e-3, sized for sums over 65536 keys; on these rows (at most 4099
 * keys) it is held to a tenth of that. A kernel that rounds an operand (bf16 P) declares
 * a bound that does not shrink with the row length: it is held to that bound. */
static attn_tol test_tol(const attn_kernel *k, attn_dtype t)
{
    attn_tol d = attn_kernel_tol(k, t);
    if (d.atol <= 1e-4 && d.rtol <= 1e-3) return (attn_tol){ ATOL, RTOL };
    return d;
}

/* Run kernel k on in's problem into out (B, H, Lq, Dv), with a workspace of exactly the
 * size it asks for, filled with NaN bytes so that reading unwritten scratch shows. */
static attn_status run_kernel(const attn_kernel *k, const attn_inputs *in, float *out, int threads)
{
    size_t ws = k->workspace_bytes(&in->p, threads);
    void *w = attn_alloc(ws);
    if (!w) return ATTN_ERR_INVALID;
    memset(w, 0xff, ws);
    attn_status st = k->run(&in->p, in->q, in->k, in->v, out, w, threads);
    attn_free(w);
    return st;
}

static size_t out_count(const attn_problem *p)
{
    return (size_t)p->B * p->H * p->Lq * p->Dv;
}

/* Does query row i of batch b see no key at all? */
static int row_empty(const attn_problem *p, int b, int i)
{
    for (int j = 0; j < p->Lk; j++)
        if (attn_allowed(p, b, i, j)) return 0;
    return 1;
}

/* Compare got with want, both (B, H, Lq, Dv); failures name the kernel, shape and element.
 * Rows with no visible key must be exactly zero in got. Returns the number of mismatches. */
static int compare(const char *kernel, const char *shape_name, int threads, const attn_problem *p,
                   const float *got, const float *want_f, const double *want_d,
                   double atol, double rtol)
{
    int bad = 0;
    for (int b = 0; b < p->B; b++)
        for (int h = 0; h < p->H; h++)
            for (int i = 0; i < p->Lq; i++) {
                int empty = row_empty(p, b, i);
                for (int d = 0; d < p->Dv; d++) {
                    size_t e = (((size_t)b * p->H + h) * p->Lq + i) * p->Dv + d;
                    double g = got[e], w = want_f ? want_f[e] : want_d[e];
                    int ok = empty ? g == 0.0 : (g == g && fabs(g - w) <= atol + rtol * fabs(w));
                    if (!ok && bad++ < 3)
                        test_fail(__FILE__, __LINE__,
                                  "%s on %s (threads %d): out[b%d h%d i%d d%d] = %.9g, want %.9g%s",
                                  kernel, shape_name, threads, b, h, i, d, g, w,
                                  empty ? " (row sees no key: must be exactly 0)" : "");
                }
            }
    return bad;
}

/* ------------------------------------------------------------- the naive -- */

TEST(naive_matches_float64)
{
    const attn_kernel *naive = attn_kernel_find("naive");
    CHECK(naive != NULL);
    if (!naive) return;
    for (int t = 0; t < ATTN_DTYPE_COUNT; t++)
    for (int s = 0; s < N_SHAPES; s++) {
        attn_case c = case_of_dtype(&shapes[s], naive, (attn_dtype)t);
        attn_inputs in;
        CHECK(attn_inputs_make(&c, &in) == 0);
        const attn_problem *p = &in.p;
        CHECK_MSG(run_kernel(naive, &in, in.out, 1) == ATTN_OK, "naive refused %s", shapes[s].name);

        int *rows = malloc(sizeof(int) * (size_t)p->Lq);
        double *ref = malloc(sizeof(double) * out_count(p));
        for (int i = 0; i < p->Lq; i++) rows[i] = i;
        CHECK(attn_ref64_rows(p, in.q, in.k, in.v, rows, p->Lq, ref) == 0);
        char label[96];
        snprintf(label, sizeof label, "%s %s", shapes[s].name, attn_dtype_name((attn_dtype)t));
        compare("naive", label, 1, p, in.out, NULL, ref, ATOL, RTOL);
        free(rows);
        free(ref);
        attn_inputs_free(&in);
    }
}

/* The shapes that should produce empty rows really do, so the zero checks are exercised. */
TEST(shapes_include_empty_rows)
{
    const char *want[] = { "pad1", "pad1-causal", "cross-q>k-causal", "tiles-q>k" };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++)
        for (int s = 0; s < N_SHAPES; s++) {
            if (strcmp(shapes[s].name, want[w]) != 0) continue;
            attn_case c = case_of(&shapes[s], NULL);
            attn_inputs in;
            CHECK(attn_inputs_make(&c, &in) == 0);
            int empty = 0;
            for (int b = 0; b < in.p.B; b++)
                for (int i = 0; i < in.p.Lq; i++) empty += row_empty(&in.p, b, i);
            CHECK_MSG(empty > 0, "shape %s has no empty rows", want[w]);
            attn_inputs_free(&in);
        }
}

TEST(reference_rows_equal_naive)
{
    const attn_kernel *naive = attn_kernel_find("naive");
    if (!naive) { CHECK(naive != NULL); return; }
    for (int s = 0; s < N_SHAPES; s++) {
        attn_case c = case_of(&shapes[s], naive);
        attn_inputs in;
        CHECK(attn_inputs_make(&c, &in) == 0);
        const attn_problem *p = &in.p;
        CHECK(run_kernel(naive, &in, in.out, 1) == ATTN_OK);

        /* first, middle, last, and a repeat, out of order */
        int rows[4] = { p->Lq - 1, 0, p->Lq / 2, p->Lq - 1 };
        int n = 4;
        float *got = malloc(sizeof(float) * (size_t)p->B * p->H * n * p->Dv);
        void *scratch = attn_alloc(attn_reference_scratch_bytes(p));
        attn_reference_rows(p, in.q, in.k, in.v, rows, n, got, scratch);
        for (int b = 0; b < p->B; b++)
            for (int h = 0; h < p->H; h++)
                for (int r = 0; r < n; r++)
                    for (int d = 0; d < p->Dv; d++) {
                        float g = got[(((size_t)b * p->H + h) * n + r) * p->Dv + d];
                        float w = in.out[(((size_t)b * p->H + h) * p->Lq + rows[r]) * p->Dv + d];
                        CHECK_MSG(fabsf(g - w) <= 1e-6f * (1.0f + fabsf(w)),
                                  "%s: reference row %d [b%d h%d d%d] = %.9g, naive %.9g",
                                  shapes[s].name, rows[r], b, h, d, g, w);
                    }
        free(got);
        attn_free(scratch);
        attn_inputs_free(&in);
    }
}

/* ------------------------------------------------------- every kernel ---- */

TEST(kernels_match_naive)
{
    int nk;
    const attn_kernel *ks = attn_kernels(&nk);
    const attn_kernel *naive = attn_kernel_find("naive");
    CHECK(nk >= 2 && naive != NULL);
    if (!naive) return;
    for (int dt = 0; dt < ATTN_DTYPE_COUNT; dt++)
    for (int s = 0; s < N_SHAPES; s++) {
        attn_case c = case_of_dtype(&shapes[s], naive, (attn_dtype)dt);
        attn_inputs in;
        CHECK(attn_inputs_make(&c, &in) == 0);
        const attn_problem *p = &in.p;
        CHECK(run_kernel(naive, &in, in.out, 1) == ATTN_OK);
        float *got = attn_alloc(sizeof(float) * out_count(p));
        char label[96];
        snprintf(label, sizeof label, "%s %s", shapes[s].name, attn_dtype_name((attn_dtype)dt));

        for (int ki = 0; ki < nk; ki++) {
            const attn_kernel *k = &ks[ki];
            const char *why;
            if (k == naive || !attn_kernel_usable(k, &why) || !attn_kernel_accepts(k, (attn_dtype)dt))
                continue;
            const attn_tol tol = test_tol(k, (attn_dtype)dt);
            static const int thread_counts[] = { 1, 2, 3 };
            for (int t = 0; t < 3; t++) {
                int threads = thread_counts[t];
                if (attn_problem_needs(p, threads) & ~k->caps) continue;
                memset(got, 0xff, sizeof(float) * out_count(p));   /* NaN: unwritten shows */
                attn_status st = run_kernel(k, &in, got, threads);
                CHECK_MSG(st == ATTN_OK, "%s on %s (threads %d): status %d",
                          k->name, label, threads, (int)st);
                if (st == ATTN_OK)
                    compare(k->name, label, threads, p, got, in.out, NULL, tol.atol, tol.rtol);
            }
        }
        attn_free(got);
        attn_inputs_free(&in);
    }
}

/* Every kernel covers at least one shape of the table: else it was never tested. */
TEST(kernels_are_covered_by_shapes)
{
    int nk;
    const attn_kernel *ks = attn_kernels(&nk);
    for (int ki = 0; ki < nk; ki++) {
        int covered = 0;
        for (int s = 0; s < N_SHAPES && !covered; s++) {
            attn_case c = case_of(&shapes[s], &ks[ki]);
            attn_problem p;
            attn_problem_from_case(&c, &p);
            static const int some_len = 1;      /* needs() only asks whether it is NULL */
            if (c.mask & MASK_PADDING) p.kv_len = &some_len;
            covered = !(attn_problem_needs(&p, 1) & ~ks[ki].caps);
        }
        CHECK_MSG(covered, "kernel %s runs on none of the test shapes", ks[ki].name);
    }
}

/* Asked for what it does not declare, or for an inconsistent problem, a kernel refuses
 * before touching anything (NULL workspace, out left as it was). */
TEST(kernels_refuse_unsupported)
{
    int nk;
    const attn_kernel *ks = attn_kernels(&nk);
    for (int s = 0; s < N_SHAPES; s++) {
        attn_case c = case_of(&shapes[s], NULL);
        attn_inputs in;
        CHECK(attn_inputs_make(&c, &in) == 0);
        float *out = attn_alloc(sizeof(float) * out_count(&in.p));
        for (int ki = 0; ki < nk; ki++) {
            const attn_kernel *k = &ks[ki];
            const char *why;
            if (!attn_kernel_usable(k, &why)) continue;
            int threads = k->caps & ATTN_CAP_THREADS ? 1 : 2;
            unsigned missing = attn_problem_needs(&in.p, threads) & ~k->caps;
            if (!missing) continue;
            for (size_t e = 0; e < out_count(&in.p); e++) out[e] = 7.0f;
            attn_status st = k->run(&in.p, in.q, in.k, in.v, out, NULL, threads);
            CHECK_MSG(st == ATTN_ERR_UNSUPPORTED, "%s on %s (threads %d): status %d, want unsupported",
                      k->name, shapes[s].name, threads, (int)st);
            CHECK_MSG(out[0] == 7.0f, "%s wrote out while refusing %s", k->name, shapes[s].name);
        }
        attn_free(out);
        attn_inputs_free(&in);
    }

    /* H % Hkv != 0 is invalid for everyone */
    attn_case c = case_of(&shapes[2], NULL);
    attn_inputs in;
    CHECK(attn_inputs_make(&c, &in) == 0);
    in.p.Hkv = 2;   /* H = 3 */
    for (int ki = 0; ki < nk; ki++)
        CHECK_MSG(ks[ki].run(&in.p, in.q, in.k, in.v, in.out, NULL, 1) == ATTN_ERR_INVALID,
                  "%s accepted H=3, Hkv=2", ks[ki].name);
    attn_inputs_free(&in);
}

/* A batch item with kv_len 0 (set by hand, not by pad) outputs zeros in every kernel. */
TEST(kernels_zero_length_item)
{
    int nk;
    const attn_kernel *ks = attn_kernels(&nk);
    attn_case c = case_of(&shapes[4], NULL);    /* prime31-pad: B = 3 */
    attn_inputs in;
    CHECK(attn_inputs_make(&c, &in) == 0);
    in.kv_len[0] = 0;
    in.kv_len[1] = 1;
    const attn_kernel *naive = attn_kernel_find("naive");
    float *want = attn_alloc(sizeof(float) * out_count(&in.p));
    float *got = attn_alloc(sizeof(float) * out_count(&in.p));
    CHECK(run_kernel(naive, &in, want, 1) == ATTN_OK);
    for (int ki = 0; ki < nk; ki++) {
        const char *why;
        if (!attn_kernel_usable(&ks[ki], &why) || (attn_problem_needs(&in.p, 1) & ~ks[ki].caps) ||
            !attn_kernel_accepts(&ks[ki], ATTN_F32))
            continue;
        memset(got, 0xff, sizeof(float) * out_count(&in.p));
        CHECK(run_kernel(&ks[ki], &in, got, 1) == ATTN_OK);
        compare(ks[ki].name, "kv_len {0,1,..}", 1, &in.p, got, want, NULL, ATOL, RTOL);
    }
    attn_free(want);
    attn_free(got);
    attn_inputs_free(&in);
}

/* ------------------------------------------------------------- registry -- */

TEST(registry_names_unique_and_found)
{
    int nk;
    const attn_kernel *ks = attn_kernels(&nk);
    for (int i = 0; i < nk; i++) {
        CHECK_MSG(attn_kernel_find(ks[i].name) == &ks[i], "find(%s)", ks[i].name);
        CHECK(ks[i].desc && ks[i].desc[0]);
        CHECK_MSG(ks[i].caps & (ATTN_CAP_DOT | ATTN_CAP_ADDITIVE | ATTN_CAP_GENERAL), "%s has no score", ks[i].name);
        for (int j = 0; j < i; j++) CHECK(strcmp(ks[i].name, ks[j].name) != 0);
    }
    CHECK(attn_kernel_find("no-such-kernel") == NULL);
    CHECK(attn_kernel_find("naive") && attn_kernel_find("naive")->caps == (ATTN_CAP_DOT |
          ATTN_CAP_ADDITIVE | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | ATTN_CAP_GQA |
          ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_GLOBALS | ATTN_CAP_GENERAL));
}

TEST(registry_problem_needs)
{
    attn_problem p;
    memset(&p, 0, sizeof p);
    p.B = 1; p.H = 4; p.Hkv = 4; p.Lq = p.Lk = 8; p.D = p.Dv = 4;
    p.window_left = p.window_right = -1;
    CHECK(attn_problem_needs(&p, 1) == ATTN_CAP_DOT);
    int kv = 8;
    uint8_t isg[8] = { 1 };
    p.Hkv = 2; p.Lq = 3; p.Dv = 5; p.causal = 1; p.kv_len = &kv; p.window_left = 0;
    p.n_globals = 1; p.key_is_global = isg; p.score = ATTN_SCORE_ADDITIVE;
    CHECK(attn_problem_needs(&p, 4) == (ATTN_CAP_ADDITIVE | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING |
          ATTN_CAP_CROSS | ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_GLOBALS |
          ATTN_CAP_THREADS));
    for (int i = 0; i < ATTN_CAP_COUNT; i++) CHECK(strcmp(attn_cap_name(1u << i), "?") != 0);
    CHECK(strcmp(attn_cap_name(ATTN_CAP_WINDOW), "window") == 0);
}

TEST(registry_isa_names)
{
    attn_isa isa;
    for (int i = 0; i < ATTN_ISA_COUNT; i++) {
        CHECK(attn_isa_parse(attn_isa_name((attn_isa)i), &isa) == 0 && isa == (attn_isa)i);
    }
    CHECK(attn_isa_parse("sse2", &isa) == 0 && isa == ATTN_ISA_PORTABLE);
    CHECK(attn_isa_parse("avx512f", &isa) == 0 && isa == ATTN_ISA_AVX512);
    CHECK(attn_isa_parse("avx3", &isa) != 0);
}

/* A kernel whose build lacks what it needs (blas without CBLAS) is unusable, with its
 * `unavailable` reason ahead of any CPU or ATTN_ISA reason; blas is usable exactly when
 * it has no reason. */
TEST(registry_unavailable_reason_first)
{
    attn_kernel fake = { .name = "fake_lib", .desc = "test", .isa = ATTN_ISA_AVX512,
                         .caps = ATTN_CAP_DOT, .unavailable = "built without libfoo" };
    const char *why = NULL;
    CHECK(attn_kernel_usable(&fake, &why) == 0);
    CHECK_MSG(why && !strcmp(why, "built without libfoo"), "why = '%s'", why ? why : "(null)");
    fake.unavailable = NULL;
    fake.isa = ATTN_ISA_PORTABLE;
    CHECK(attn_kernel_usable(&fake, &why) == 1 && why && !why[0]);

    const attn_kernel *blas = attn_kernel_find("blas");
    CHECK(blas != NULL);
    if (!blas) return;
    int usable = attn_kernel_usable(blas, &why);
    CHECK(usable == (blas->unavailable == NULL));
    if (!usable)
        CHECK_MSG(strstr(why, "built without CBLAS") && strstr(why, "libopenblas-dev"), "why = '%s'", why);
    /* OpenBLAS picks its own instructions: blas is judged against this CPU's best peak */
    CHECK(blas->library_isa && blas->isa == attn_isa_available());
}

TEST(registry_isa_cap_from_env)
{
    const char *old = getenv("ATTN_ISA");
    char *saved = old ? strdup(old) : NULL;
    attn_kernel fake = { .name = "fake512", .desc = "test", .requires = ATTN_REQ_AVX512,
                         .caps = ATTN_CAP_DOT, .workspace_bytes = NULL, .run = NULL };
    const char *why = NULL;

    setenv("ATTN_ISA", "portable", 1);
    CHECK(attn_isa_available() == ATTN_ISA_PORTABLE);
    CHECK(attn_kernel_usable(&fake, &why) == 0);
    CHECK_MSG(why && why[0] && (strstr(why, "ATTN_ISA") || strstr(why, "lacks") || strstr(why, "architecture")),
              "why = '%s'", why ? why : "(null)");
    CHECK(attn_kernel_usable(attn_kernel_find("naive"), &why) == 1);

    setenv("ATTN_ISA", "avx2", 1);
    CHECK(attn_isa_available() <= ATTN_ISA_AVX2);
    CHECK(attn_kernel_usable(&fake, &why) == 0);

    setenv("ATTN_ISA", "bogus", 1);
    CHECK(attn_isa_available() == ATTN_ISA_PORTABLE);

    unsetenv("ATTN_ISA");
    attn_isa best = attn_isa_available();
    CHECK_MSG(attn_kernel_usable(&fake, &why) == (best == ATTN_ISA_AVX512), "best %s, why '%s'",
              attn_isa_name(best), why);
    if (saved) { setenv("ATTN_ISA", saved, 1); free(saved); }
}

/* ---------------------------------------------------- features, dtypes, tolerance -- */

TEST(registry_feature_names_and_parsing)
{
    for (int i = 0; i < ATTN_FEAT_COUNT; i++) {
        const char *n = attn_feature_name(1u << i);
        CHECK_MSG(strcmp(n, "?") != 0, "feature bit %d has no name", i);
        CHECK_MSG(attn_feature_parse(n) == 1u << i, "'%s' does not parse back", n);
        for (int j = 0; j < i; j++) CHECK(strcmp(n, attn_feature_name(1u << j)) != 0);
    }
    CHECK(attn_feature_parse("AVX512F") == ATTN_FEAT_AVX512F);
    CHECK(attn_feature_parse("amx_bf16") == ATTN_FEAT_AMX_BF16);
    CHECK(attn_feature_parse("avx3") == 0 && attn_feature_parse(NULL) == 0);
    CHECK(strcmp(attn_feature_name(ATTN_FEAT_AVX2 | ATTN_FEAT_FMA), "?") == 0);
    char buf[128];
    CHECK(!strcmp(attn_features_string(ATTN_FEAT_AVX512BW | ATTN_FEAT_AVX512F, buf, sizeof buf),
                  "avx512f, avx512bw"));
    CHECK(!strcmp(attn_features_string(0, buf, sizeof buf), ""));
    /* the OS-state set is a subset of what cpuid reports, never of what is usable */
    CHECK((attn_cpu_features() & attn_cpu_features_without_os_state()) == 0);
}

/* The ISA class is derived from requires, and agrees with the file-name suffix. */
TEST(registry_isa_class_from_requires)
{
    CHECK(attn_isa_of(0) == ATTN_ISA_PORTABLE);
    CHECK(attn_isa_of(ATTN_REQ_AVX2) == ATTN_ISA_AVX2);
    CHECK(attn_isa_of(ATTN_FEAT_F16C) == ATTN_ISA_AVX2);
    CHECK(attn_isa_of(ATTN_REQ_AVX512) == ATTN_ISA_AVX512);
    CHECK(attn_isa_of(ATTN_REQ_AVX2 | ATTN_FEAT_AMX_BF16) == ATTN_ISA_AVX512);
    CHECK((attn_isa_allows(ATTN_ISA_AVX512) & ATTN_REQ_AVX512) == ATTN_REQ_AVX512);
    CHECK((attn_isa_allows(ATTN_ISA_AVX2) & ATTN_FEAT_AVX512F) == 0);
    CHECK(attn_isa_allows(ATTN_ISA_PORTABLE) == 0);
    int n;
    const attn_kernel *ks = attn_kernels(&n);
    for (int i = 0; i < n; i++) {
        const attn_kernel *k = &ks[i];
        CHECK_MSG(k->isa == (k->library_isa ? attn_isa_available() : attn_isa_of(k->requires)),
                  "%s: isa %s", k->name, attn_isa_name(k->isa));
        /* a file named *_avx2.c / *_avx512.c is built with exactly that ISA's flags, so
         * it requires that class's features; a file without a build suffix, none */
        size_t len = strlen(k->name);
        if (len > 7 && !strcmp(k->name + len - 7, "_avx512"))
            CHECK_MSG(k->requires == ATTN_REQ_AVX512, "%s: requires %#x", k->name, k->requires);
        else if (len > 5 && !strcmp(k->name + len - 5, "_avx2"))   /* -mavx2 -mfma -mf16c: F16C if it reads f16 */
            CHECK_MSG((k->requires & ~ATTN_FEAT_F16C) == ATTN_REQ_AVX2, "%s: requires %#x", k->name, k->requires);
        else if (len > 4 && !strcmp(k->name + len - 4, "_f16"))      /* -mavx2 -mfma -mf16c */
            CHECK_MSG(k->requires == (ATTN_REQ_AVX2 | ATTN_FEAT_F16C), "%s: requires %#x", k->name, k->requires);
        else if (len > 5 && !strcmp(k->name + len - 5, "_bf16"))     /* avx512 + -mavx512bf16 */
            CHECK_MSG(k->requires == (ATTN_REQ_AVX512 | ATTN_FEAT_AVX512_BF16), "%s: requires %#x", k->name, k->requires);
        else if (!strchr(k->name, '_'))
            CHECK_MSG(k->requires == 0, "%s: requires %#x", k->name, k->requires);
    }
}

/* A kernel needing features the CPU lacks is not usable and the reason names them all;
 * `unavailable` is reported before anything else. */
TEST(registry_missing_features_are_named)
{
    const attn_features have = attn_cpu_features();
    const attn_features lacks = ~have & ~attn_cpu_features_without_os_state() &
                                ((1u << ATTN_FEAT_COUNT) - 1);
    const char *why = NULL;
    attn_kernel fake = { .name = "fake", .desc = "test", .caps = ATTN_CAP_DOT };
    fake.requires = have;                       /* everything here: usable (no cap set) */
    const char *old = getenv("ATTN_ISA");
    char *saved = old ? strdup(old) : NULL;
    unsetenv("ATTN_ISA");
    CHECK_MSG(attn_kernel_usable(&fake, &why) == 1, "why '%s'", why);
    if (lacks) {
        unsigned f1 = lacks & -lacks, rest = lacks & ~f1, f2 = rest & -rest;
        fake.requires = have | f1 | f2;
        CHECK(attn_kernel_usable(&fake, &why) == 0);
        char want[96];
        snprintf(want, sizeof want, "cpu lacks %s", attn_feature_name(f1));
        CHECK_MSG(strstr(why, want) == why, "why '%s', want '%s...'", why, want);
        if (f2) CHECK_MSG(strstr(why, attn_feature_name(f2)) != NULL, "why '%s'", why);
        fake.unavailable = "built without CBLAS";
        CHECK(attn_kernel_usable(&fake, &why) == 0 && !strcmp(why, "built without CBLAS"));
    }
    if (saved) { setenv("ATTN_ISA", saved, 1); free(saved); }
}

TEST(registry_dtypes_and_tolerance)
{
    CHECK(!strcmp(attn_dtype_name(ATTN_F32), "f32"));
    CHECK(!strcmp(attn_dtype_name(ATTN_BF16), "bf16") && !strcmp(attn_dtype_name(ATTN_F16), "f16"));
    CHECK(!strcmp(attn_dtype_name((attn_dtype)ATTN_DTYPE_COUNT), "?"));
    CHECK(attn_dtype_size(ATTN_F32) == 4 && attn_dtype_size(ATTN_BF16) == 2 && attn_dtype_size(ATTN_F16) == 2);
    CHECK(attn_dtype_size((attn_dtype)ATTN_DTYPE_COUNT) == 0);
    int n;
    const attn_kernel *ks = attn_kernels(&n);
    for (int i = 0; i < n; i++) {
        const attn_kernel *k = &ks[i];
        CHECK_MSG(k->dtypes != 0, "%s accepts no dtype", k->name);
        CHECK_MSG((k->dtypes & ~ATTN_DTYPES_ALL) == 0, "%s: unknown dtype bits", k->name);
        for (int t = 0; t < ATTN_DTYPE_COUNT; t++)
            if (k->dtypes & ATTN_DTYPE_BIT(t)) {
                attn_tol tol = attn_kernel_tol(k, (attn_dtype)t);
                CHECK_MSG(tol.atol > 0 && tol.atol < 1 && tol.rtol >= 0 && tol.rtol < 1,
                          "%s: tolerance for %s is atol %g rtol %g", k->name,
                          attn_dtype_name((attn_dtype)t), tol.atol, tol.rtol);
                /* the kernels_match_naive bound is at least as strict as the declared one */
                attn_tol held = test_tol(k, (attn_dtype)t);
                CHECK(held.atol <= tol.atol && held.rtol <= tol.rtol + 1e-12);
            }
        CHECK_MSG(k->unavailable == NULL, "%s: unavailable '%s'", k->name, k->unavailable);
    }
    CHECK(attn_kernel_find("naive")->dtypes == ATTN_DTYPES_ALL);
}

/* ------------------------------------------------------------- tunables -- */

/* The tiles a problem carries reach the kernel: every kernel with tunables validates at
 * two tile settings (the smallest query tile it allows with 16-key tiles, and twice that
 * with 48-key tiles: neither divides these lengths; 0, its built-in query tile, where
 * tile_q is not tunable), asks for a workspace that follows the tiles, and refuses a
 * value it does not allow. */
TEST(kernels_tiles_reach_the_kernel)
{
    static const char *const names[] = { "prime97-cpad", "cross-q>k-causal", "cross-pad", "dec-q17-k300-gqa" };
    int nk, tested = 0;
    const attn_kernel *ks = attn_kernels(&nk);
    const attn_kernel *naive = attn_kernel_find("naive");
    for (int dt = 0; dt < ATTN_DTYPE_COUNT; dt++)
    for (int s = 0; s < N_SHAPES; s++) {
        int pick = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) pick |= !strcmp(shapes[s].name, names[i]);
        if (!pick) continue;
        attn_case c = case_of_dtype(&shapes[s], naive, (attn_dtype)dt);
        attn_inputs in;
        CHECK(attn_inputs_make(&c, &in) == 0);
        CHECK(run_kernel(naive, &in, in.out, 1) == ATTN_OK);
        float *got = attn_alloc(sizeof(float) * out_count(&in.p));
        for (int ki = 0; ki < nk; ki++) {
            const attn_kernel *k = &ks[ki];
            const char *why;
            if (!attn_kernel_tunable(k, ATTN_TUNE_TILE_K) || !attn_kernel_usable(k, &why) ||
                !attn_kernel_accepts(k, (attn_dtype)dt)) continue;
            const attn_tol tol = test_tol(k, (attn_dtype)dt);
            const int q0 = k->tune[ATTN_TUNE_TILE_Q].min;   /* 0 when not tunable */
            const int set[2][2] = { { q0, 16 }, { 2 * q0, 48 } };
            size_t ws[2];
            for (int t = 0; t < 2; t++) {
                in.p.tune[ATTN_TUNE_TILE_Q] = set[t][0];
                in.p.tune[ATTN_TUNE_TILE_K] = set[t][1];
                CHECK((q0 == 0 || attn_tune_allows(k, ATTN_TUNE_TILE_Q, set[t][0])) &&
                      attn_tune_allows(k, ATTN_TUNE_TILE_K, set[t][1]));
                ws[t] = k->workspace_bytes(&in.p, 2);
                memset(got, 0xff, sizeof(float) * out_count(&in.p));
                int threads = k->caps & ATTN_CAP_THREADS ? 2 : 1;
                attn_status st = run_kernel(k, &in, got, threads);
                char label[96];
                snprintf(label, sizeof label, "%s %s tiles %dx%d", shapes[s].name,
                         attn_dtype_name((attn_dtype)dt), set[t][0], set[t][1]);
                CHECK_MSG(st == ATTN_OK, "%s on %s: status %d", k->name, label, (int)st);
                if (st == ATTN_OK) compare(k->name, label, threads, &in.p, got, in.out, NULL, tol.atol, tol.rtol);
                tested++;
            }
            if (in.p.Lq > 16)   /* (Lq <= 16 goes to a decode kernel, which has no tiles) */
                CHECK_MSG(ws[0] < ws[1], "%s on %s: workspace %zu at %dx%d, %zu at %dx%d", k->name,
                          shapes[s].name, ws[0], set[0][0], set[0][1], ws[1], set[1][0], set[1][1]);
            if (q0) {
                in.p.tune[ATTN_TUNE_TILE_Q] = q0 + 1;        /* not a multiple of the step */
                CHECK_MSG(k->run(&in.p, in.q, in.k, in.v, got, NULL, 1) == ATTN_ERR_INVALID,
                          "%s accepted tile_q %d", k->name, q0 + 1);
            }
            in.p.tune[ATTN_TUNE_TILE_Q] = 0;
            in.p.tune[ATTN_TUNE_TILE_K] = k->tune[ATTN_TUNE_TILE_K].max + 1;
            CHECK_MSG(k->run(&in.p, in.q, in.k, in.v, got, NULL, 1) == ATTN_ERR_INVALID,
                      "%s accepted tile_k %d", k->name, in.p.tune[ATTN_TUNE_TILE_K]);
            in.p.tune[ATTN_TUNE_TILE_K] = 0;
        }
        attn_free(got);
        attn_inputs_free(&in);
    }
    CHECK(tested >= 24);    /* flash, blocked and omp at least, on 4 shapes x 2 settings */
}

/* The defaults come from the caches, within what each kernel allows: 32 KiB L1d gives the
 * tiles the kernels were tuned with, 48 KiB wider key tiles, a small L2 smaller tiles. */
TEST(kernels_tile_defaults_follow_the_caches)
{
    const attn_problem d64 = { .B = 1, .H = 1, .Hkv = 1, .Lq = 4096, .Lk = 4096, .D = 64, .Dv = 64 };
    const attn_problem d128 = { .B = 1, .H = 1, .Hkv = 1, .Lq = 4096, .Lk = 4096, .D = 128, .Dv = 128 };
    const struct { const char *kernel; const attn_problem *p; attn_caches c; int q, k; } want[] = {
        { "flash_avx2",   &d64,  { 32768, 524288 },  64,  64 },
        { "flash_avx2",   &d64,  { 49152, 2097152 }, 64,  96 },
        { "flash_avx2",   &d64,  { 0, 0 },           64,  64 },   /* unknown: 32 KiB, 256 KiB */
        { "flash_avx2",   &d128, { 32768, 131072 },  32,  32 },   /* L2 bound: 16384 floats */
        { "flash_avx512", &d64,  { 32768, 1048576 }, 64,  64 },
        { "flash_avx512", &d64,  { 49152, 2097152 }, 64,  96 },
        { "flash",        &d64,  { 32768, 524288 },  32, 128 },
        { "simd_avx2",    &d64,  { 32768, 524288 },  64, 128 },
        { "flash_f16",    &d64,  { 49152, 2097152 }, 64,  96 },
        { "blocked",      &d64,  { 32768, 524288 },   0, 128 },   /* tile_q fixed at 32 */
        { "omp",          &d64,  { 49152, 524288 },   0, 192 },
        { "naive",        &d64,  { 32768, 524288 },   0,   0 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const attn_kernel *k = attn_kernel_find(want[i].kernel);
        if (!k) continue;                   /* an ISA file not built on this architecture */
        int out[ATTN_TUNE_COUNT];
        attn_tune_defaults(k, want[i].p, want[i].c, out);
        CHECK_MSG(out[ATTN_TUNE_TILE_Q] == want[i].q && out[ATTN_TUNE_TILE_K] == want[i].k,
                  "%s D=%d L1d %ld L2 %ld: default %dx%d, want %dx%d", want[i].kernel, want[i].p->D,
                  want[i].c.l1d, want[i].c.l2, out[0], out[1], want[i].q, want[i].k);
        for (int t = 0; t < ATTN_TUNE_COUNT; t++)
            CHECK(out[t] == 0 ? !attn_kernel_tunable(k, (attn_tune_id)t) : attn_tune_allows(k, (attn_tune_id)t, out[t]));
    }
}
