/* test_layer.c: the multi-head attention layer (layer = mha, core/layer.c).
 *
 * Every kernel that can run a shape runs it inside the layer: the layer's output must
 * match the same layer with the naive kernel and the float64 layer (projections, the
 * attention and the output projection in doubles, written apart from the sgemm path), on
 * awkward shapes: L = 1, primes, Lq != Lk both ways, d_model not a multiple of the vector
 * width, GQA and MQA, Dv != D, padding with fully masked rows, the general score. The
 * dump of an mha case is recomputed by scripts/peers/check_dump.py from x, m and the
 * weights alone when NumPy is there ($PYTHON, default python3); skipped otherwise.
 */
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "attn.h"
#include "core/case.h"
#include "core/inputs.h"
#include "core/layer.h"

typedef struct {
    const char *name;
    int B, H, Hkv, Lq, Lk, D, Dv, dm;
    attn_mask mask;
    double pad;
    attn_score score;
} lshape;

static const lshape lshapes[] = {
    /* name            B  H Hkv Lq  Lk   D  Dv  dm  mask                 pad  score */
    { "L1",            1, 2, 2,  1,  1,  8,  8, 16, MASK_NONE,             0, ATTN_SCORE_DOT },
    { "prime13",       2, 3, 3, 13, 13,  5,  5, 15, MASK_CAUSAL,           0, ATTN_SCORE_DOT },
    { "cross-q<k",     1, 4, 4,  7, 29, 16, 16, 60, MASK_NONE,             0, ATTN_SCORE_DOT },
    { "cross-q>k",     2, 2, 2, 31, 11,  8,  8, 20, MASK_CAUSAL,           0, ATTN_SCORE_DOT },
    { "gqa-dm60",      1, 6, 2, 37, 37, 10, 10, 60, MASK_CAUSAL,           0, ATTN_SCORE_DOT },
    { "mqa-vdim",      2, 4, 1, 17, 41, 12, 20, 33, MASK_PADDING,        0.4, ATTN_SCORE_DOT },
    { "pad1-masked",   3, 2, 2, 19, 19,  8,  8, 16, MASK_CAUSAL_PADDING, 1.0, ATTN_SCORE_DOT },
    { "general",       2, 4, 2, 23, 47, 16, 16, 50, MASK_CAUSAL_PADDING, 0.3, ATTN_SCORE_GENERAL },
    { "general-L1",    1, 2, 2,  1,  1,  8,  8, 16, MASK_NONE,             0, ATTN_SCORE_GENERAL },
    { "tiles",         1, 2, 2, 150, 150, 32, 32, 64, MASK_CAUSAL,        0, ATTN_SCORE_DOT },
};
#define N_LSHAPES ((int)(sizeof lshapes / sizeof lshapes[0]))

static attn_case lcase(const lshape *s, const attn_kernel *k)
{
    attn_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.sweep, sizeof c.sweep, "test");
    c.kernel = k;
    c.batch = s->B; c.heads = s->H; c.kv_heads = s->Hkv; c.q_len = s->Lq; c.kv_len = s->Lk;
    c.head_dim = s->D; c.v_dim = s->Dv; c.threads = 1; c.mask = s->mask; c.pad = s->pad;
    c.window_left = c.window_right = -1; c.score = s->score; c.additive_dim = 8;
    c.layer = ATTN_LAYER_MHA; c.d_model = s->dm; c.seed = 7;
    attn_case_make_id(&c);
    return c;
}

/* The layer's output (B, Lq, dm) with kernel k on threads threads, malloc'd; NULL when the
 * kernel refuses the shape. */
static float *layer_out(const lshape *s, const attn_kernel *k, int threads)
{
    attn_case c = lcase(s, k);
    c.threads = threads;
    attn_inputs in;
    if (attn_inputs_make(&c, &in) != 0) return NULL;
    void *ws = attn_alloc(k->workspace_bytes(&in.p, threads) + 64);
    double parts[ATTN_PART_COUNT] = { 0 };
    attn_status st = ws ? attn_layer_forward(&c, &in, ws, parts) : ATTN_ERR_INVALID;
    size_t n = (size_t)s->B * s->Lq * s->dm;
    float *out = st == ATTN_OK ? malloc(n * sizeof(float)) : NULL;
    if (out) memcpy(out, in.ly.out, n * sizeof(float));
    attn_free(ws);
    attn_inputs_free(&in);
    return out;
}

/* The float64 layer, all rows: (B, Lq, dm). */
static double *layer_ref64(const lshape *s)
{
    attn_case c = lcase(s, attn_kernel_find("naive"));
    attn_inputs in;
    double *ref = malloc(sizeof(double) * (size_t)s->B * s->Lq * s->dm);
    int *rows = malloc(sizeof(int) * (size_t)s->Lq);
    int ok = ref && rows && attn_inputs_make(&c, &in) == 0;
    for (int i = 0; ok && i < s->Lq; i++) rows[i] = i;
    if (ok) {
        ok = attn_layer_ref64_rows(&c, &in, rows, s->Lq, ref) == 0;
        attn_inputs_free(&in);
    }
    free(rows);
    if (!ok) { free(ref); return NULL; }
    return ref;
}

/* Largest |a - b| over n, INFINITY for a NaN. */
static double max_err_fd(const float *a, const double *b, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= e)) e = isnan(d) ? INFINITY : d;
    }
    return e;
}

TEST(layer_every_kernel_matches_naive_layer_and_float64)
{
    if (attn_layer_unavailable()) return;           /* built without CBLAS: no mha */
    int nk, ran = 0;
    const attn_kernel *ks = attn_kernels(&nk);
    const attn_kernel *naive = attn_kernel_find("naive");
    for (int si = 0; si < N_LSHAPES; si++) {
        const lshape *s = &lshapes[si];
        const size_t n = (size_t)s->B * s->Lq * s->dm;
        double *ref = layer_ref64(s);
        float *nv = layer_out(s, naive, 1);
        CHECK_MSG(ref && nv, "%s: no naive or float64 layer", s->name);
        if (!ref || !nv) { free(ref); free(nv); continue; }
        CHECK_MSG(max_err_fd(nv, ref, n) < 1e-5, "%s: naive layer vs float64: %.3g", s->name,
                  max_err_fd(nv, ref, n));
        double *nvd = malloc(n * sizeof(double));
        for (size_t i = 0; nvd && i < n; i++) nvd[i] = nv[i];
        for (int i = 0; i < nk && nvd; i++) {
            const attn_kernel *k = &ks[i];
            attn_case c = lcase(s, k);
            if (!attn_kernel_usable(k, NULL) || (attn_case_needs(&c) & ~k->caps) ||
                !attn_kernel_accepts(k, ATTN_F32)) continue;
            for (int t = 1; t <= 2; t++) {      /* threads: the projections' (and the kernel's) */
                float *o = layer_out(s, k, t);
                CHECK_MSG(o != NULL, "%s: %s refused the layer", s->name, k->name);
                if (!o) continue;
                ran++;
                double e_naive = max_err_fd(o, nvd, n), e_64 = max_err_fd(o, ref, n);
                CHECK_MSG(e_naive < 1e-4 && e_64 < 1e-4, "%s, %s, %d threads: layer vs naive layer "
                          "%.3g, vs float64 %.3g", s->name, k->name, t, e_naive, e_64);
                free(o);
            }
        }
        free(nvd);
        free(ref);
        free(nv);
    }
    CHECK(ran >= N_LSHAPES);                        /* naive at least, on every shape */
}

/* the float64 layer of sampled rows is the same as of all rows, row for row */
TEST(layer_ref64_sampled_rows_are_the_full_rows)
{
    const lshape *s = &lshapes[5];
    attn_case c = lcase(s, attn_kernel_find("naive"));
    attn_inputs in;
    CHECK(attn_inputs_make(&c, &in) == 0);
    double *full = layer_ref64(s);
    const int rows[] = { 0, 9, s->Lq - 1 };
    double *some = malloc(sizeof(double) * (size_t)s->B * 3 * s->dm);
    CHECK(full && some && attn_layer_ref64_rows(&c, &in, rows, 3, some) == 0);
    for (int b = 0; full && some && b < s->B; b++)
        for (int r = 0; r < 3; r++)
            for (int j = 0; j < s->dm; j++)
                CHECK_NEAR(some[((size_t)b * 3 + r) * s->dm + j],
                           full[((size_t)b * s->Lq + rows[r]) * s->dm + j], 1e-12);
    free(full);
    free(some);
    attn_inputs_free(&in);
}

static const char mha_ini[] =
    "[mha]\n"
    "kernels = naive, blas, flash_avx2, flash\n"
    "layer = mha\n"
    "heads = 6\n"
    "kv_heads = 6, 2\n"
    "head_dim = 12\n"
    "seq_len = 19\n"
    "kv_len = 19, 41\n"
    "d_model = 44\n"
    "mask = causal_padding\n"
    "pad = 0.5\n"
    "batch = 2\n"
    "score = dot, general\n"
    "threads = 2\n"
    "unsupported = omit\n"
    "min_time = 0\n"
    "reps = 2\n";

/* --dump of mha cases, recomputed by check_dump.py in NumPy from x, m and the weights */
TEST(layer_dump_recomputed_independently)
{
    if (attn_layer_unavailable()) return;
    char ini[512], dir[512], dump[512], err[4096];
    snprintf(ini, sizeof ini, "%s/mha.ini", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/mharun", test_tmpdir());
    snprintf(dump, sizeof dump, "%s/mhadump", test_tmpdir());
    test_write_text(ini, mha_ini);
    int rc = test_sh(err, sizeof err, "%s run %s -q -o %s --dump %s", test_bin(), ini, dir, dump);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    /* its charts include the parts chart (kv_len varies: against it) */
    rc = test_sh(err, sizeof err, "%s plot %s && { ! command -v gnuplot >/dev/null || ls %s/plots/mha-parts-*.png; }",
                 test_bin(), dir, dir);
    CHECK_MSG(rc == 0, "plot exit %d: %s", rc, err);
    if (test_sh(NULL, 0, "\"${PYTHON:-python3}\" -c 'import numpy' 2>/dev/null") != 0) {
        printf("     (layer_dump_recomputed_independently: no NumPy, dump not recomputed)\n");
        return;
    }
    rc = test_sh(err, sizeof err, "\"${PYTHON:-python3}\" scripts/peers/check_dump.py %s >&2", dump);
    CHECK_MSG(rc == 0, "check_dump.py exit %d: %s", rc, err);
    /* and it does look: a spoilt weight fails it */
    rc = test_sh(err, sizeof err, "d=$(ls -d %s/*general* | head -1) && \"${PYTHON:-python3}\" -c "
                 "\"import numpy as np; a = np.load('$d/w_k.npy'); a[0, 0] += 0.1; np.save('$d/w_k.npy', a)\" && "
                 "\"${PYTHON:-python3}\" scripts/peers/check_dump.py %s", dump, dump);
    CHECK_MSG(rc != 0, "check_dump.py passed a dump with a spoilt w_k");
}
