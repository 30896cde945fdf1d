/* layer.c: the multi-head attention layer around a kernel (see layer.h).
 *
 * Each projection is ONE sgemm over all tokens of the batch, (B L, dm) x (dm, heads hd),
 * into tmp (token-major, heads side by side), then a copy that adds the bias and splits
 * the heads into the (B, heads, L, hd) layout attn.h wants. The output projection copies
 * the heads' outputs back side by side (the concatenation), sets out to the bias and
 * accumulates one sgemm (B Lq, H Dv) x (H Dv, dm) into it. One big sgemm per weight
 * rather than one per head: OpenBLAS packs x once per weight instead of once per head.
 * Threads: OpenMP over blocks of token rows, each thread one sgemm on its rows with
 * OpenBLAS set to one thread (restored after), and its rows' bias, split and
 * concatenation: the kernels' own OpenMP team, so no OpenBLAS pthreads spin beside it
 * (kernels/blas.c measured OpenBLAS's threads and an OpenMP team fighting over the cores,
 * up to 4x slower; an A/B of the two ways here, flash_avx2, L = 2048, H = 16, d_model
 * 1024, 2 threads, on the 2-core Zen 3 at load 5, was within its noise: 0.84 / 1.42 s a
 * layer with OpenBLAS's threads, 1.20 / 1.23 s with these).
 *
 * Built with CBLAS only (the Makefile gives this file CBLAS_DEFS, as kernels/blas.c):
 * without it attn_layer_unavailable() says why and mha cases are skipped with that.
 * The float64 references are plain loops and need no CBLAS.
 */
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "core/layer.h"
#include "core/ref64.h"

#ifdef ATTN_HAVE_CBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

const char *const attn_part_names[ATTN_PART_COUNT] = {
    [ATTN_PART_QKV] = "qkv_proj", [ATTN_PART_ATTENTION] = "attention", [ATTN_PART_OUT] = "out_proj",
};

const char *attn_layer_unavailable(void)
{
#ifdef ATTN_HAVE_CBLAS
    return NULL;
#else
    return "layer mha needs CBLAS for its projections: built without it (install libopenblas-dev, scripts/install-deps.sh)";
#endif
}

/* ------------------------------------------------------------ forward -- */

#ifdef ATTN_HAVE_CBLAS

/* This thread's share [*r0, *r1) of n rows (the whole when not in a parallel region). */
static void my_rows(long n, long *r0, long *r1)
{
#ifdef _OPENMP
    const long t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const long t = 0, nt = 1;
#endif
    *r0 = n * t / nt;
    *r1 = n * (t + 1) / nt;
}

/* dst (B, heads, L, hd) = the heads of (in (B L, dm) w (dm, heads hd)) + bias (heads hd),
 * this thread's token rows; tmp holds their token-major product. */
static void project(const float *in, const float *w, const float *bias, int B, int L, int dm,
                    int heads, int hd, float *tmp, float *dst)
{
    const int n = heads * hd;
    long r0, r1;
    my_rows((long)B * L, &r0, &r1);
    if (r1 <= r0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), n, dm, 1.0f,
                in + (size_t)r0 * dm, dm, w, n, 0.0f, tmp + (size_t)r0 * n, n);
    for (long r = r0; r < r1; r++) {
        const long b = r / L, i = r % L;
        const float *s = tmp + (size_t)r * n;
        for (int h = 0; h < heads; h++) {
            float *d = dst + (((size_t)b * heads + h) * L + i) * hd;
            for (int e = 0; e < hd; e++) d[e] = s[(size_t)h * hd + e] + bias[(size_t)h * hd + e];
        }
    }
}

/* out (B Lq, dm) = concat (B Lq, H Dv) Wo + bo for this thread's rows; concat is gathered
 * into tmp from o (B, H, Lq, Dv). */
static void out_project(const attn_problem *p, const attn_layer_io *y, const float *o)
{
    const int H = p->H, Lq = p->Lq, Dv = p->Dv, dm = y->dm, w = H * Dv;
    long r0, r1;
    my_rows((long)p->B * Lq, &r0, &r1);
    if (r1 <= r0) return;
    for (long r = r0; r < r1; r++) {
        const long b = r / Lq, i = r % Lq;
        for (int h = 0; h < H; h++)
            memcpy(y->tmp + (size_t)r * w + (size_t)h * Dv, o + (((size_t)b * H + h) * Lq + i) * Dv,
                   sizeof(float) * (size_t)Dv);
        memcpy(y->out + (size_t)r * dm, y->bo, sizeof(float) * (size_t)dm);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), dm, w, 1.0f,
                y->tmp + (size_t)r0 * w, w, y->wo, dm, 1.0f, y->out + (size_t)r0 * dm, dm);
}

attn_status attn_layer_forward(const attn_case *c, attn_inputs *in, void *ws, double *part_s)
{
    const attn_problem *p = &in->p;
    const attn_layer_io *y = &in->ly;
    const int B = p->B, H = p->H, Hkv = p->Hkv, Lq = p->Lq, Lk = p->Lk, dm = y->dm;
    const int prev = openblas_get_num_threads();
    openblas_set_num_threads(1);        /* each OpenMP thread's sgemm runs on that thread */

    double t0 = attn_now_s();
    /* the three sgemm of a thread reuse its rows of tmp: a barrier between them */
#pragma omp parallel num_threads(c->threads)
    {
        project(y->x, y->wq, y->bq, B, Lq, dm, H, p->D, y->tmp, in->q);
#pragma omp barrier
        project(y->m, y->wk, y->bk, B, Lk, dm, Hkv, p->D, y->tmp, in->k);
#pragma omp barrier
        project(y->m, y->wv, y->bv, B, Lk, dm, Hkv, p->Dv, y->tmp, in->v);
    }
    double t1 = attn_now_s();
    /* a kernel without threads runs the attention on one; the projections use them all */
    const int kt = (c->kernel->caps & ATTN_CAP_THREADS) ? c->threads : 1;
    attn_status st = c->kernel->run(p, in->q, in->k, in->v, in->out, ws, kt);
    double t2 = attn_now_s();
    if (st == ATTN_OK) {
#pragma omp parallel num_threads(c->threads)
        out_project(p, y, in->out);
    }
    double t3 = attn_now_s();
    openblas_set_num_threads(prev);
    if (st != ATTN_OK) return st;

    part_s[ATTN_PART_QKV] += t1 - t0;
    part_s[ATTN_PART_ATTENTION] += t2 - t1;
    part_s[ATTN_PART_OUT] += t3 - t2;
    return ATTN_OK;
}

#else

attn_status attn_layer_forward(const attn_case *c, attn_inputs *in, void *ws, double *part_s)
{
    (void)c; (void)in; (void)ws; (void)part_s;
    return ATTN_ERR_UNSUPPORTED;
}

#endif /* ATTN_HAVE_CBLAS */

/* ---------------------------------------------------------- float64 -- */

/* out_rows (B, n, dm) = concat(o) Wo + bo in doubles, o (B, H, n, Dv) as floats (of) or
 * doubles (od). */
static void out_rows64(const attn_case *c, const attn_layer_io *ly, const float *of,
                       const double *od, int n, double *out_rows)
{
    const int H = c->heads, Dv = c->v_dim, dm = ly->dm;
    for (int b = 0; b < c->batch; b++)
        for (int r = 0; r < n; r++) {
            double *o = out_rows + ((size_t)b * n + r) * dm;
            for (int j = 0; j < dm; j++) o[j] = ly->bo[j];
            for (int h = 0; h < H; h++)
                for (int e = 0; e < Dv; e++) {
                    const size_t at = (((size_t)b * H + h) * n + r) * Dv + e;
                    const double a = of ? (double)of[at] : od[at];
                    const float *w = ly->wo + ((size_t)h * Dv + e) * dm;
                    for (int j = 0; j < dm; j++) o[j] += a * w[j];
                }
        }
}

void attn_layer_out_rows(const attn_case *c, const attn_layer_io *ly, const float *o_rows,
                         int n, double *out_rows)
{
    out_rows64(c, ly, o_rows, NULL, n, out_rows);
}

/* Token row i of item b of src (B, L, dm) times w (dm, heads hd) plus bias, in doubles,
 * into row i of dst (B, heads, L, hd). acc holds heads hd doubles. */
static void project_row64(const float *src, const float *w, const float *bias, int b, int i,
                          int L, int dm, int heads, int hd, double *acc, double *dst)
{
    const int n = heads * hd;
    const float *x = src + ((size_t)b * L + i) * dm;
    for (int j = 0; j < n; j++) acc[j] = bias[j];
    for (int k = 0; k < dm; k++) {
        const double a = x[k];
        const float *wk = w + (size_t)k * n;
        for (int j = 0; j < n; j++) acc[j] += a * wk[j];
    }
    for (int h = 0; h < heads; h++)
        memcpy(dst + (((size_t)b * heads + h) * L + i) * hd, acc + (size_t)h * hd, sizeof(double) * (size_t)hd);
}

/* doubles of Q (B, H, Lq, D), K, V, the attention rows (B, H, n, Dv) and one row */
static size_t ref64_doubles(const attn_case *c, int n, int *ovf)
{
    const size_t B = (size_t)c->batch, Lq = (size_t)c->q_len, Lk = (size_t)c->kv_len;
    size_t q = attn_size_mul(attn_size_mul(B * c->heads, Lq, ovf), (size_t)c->head_dim, ovf);
    size_t kv = attn_size_mul(attn_size_mul(B * c->kv_heads, Lk, ovf),
                              (size_t)c->head_dim + c->v_dim, ovf);
    size_t o = attn_size_mul(attn_size_mul(B * c->heads, (size_t)n, ovf), (size_t)c->v_dim, ovf);
    size_t row = (size_t)c->heads * c->head_dim + (size_t)c->kv_heads * (c->head_dim + c->v_dim) +
                 (size_t)c->heads * c->v_dim;
    return attn_size_add(attn_size_add(q, kv, ovf), attn_size_add(o, row, ovf), ovf);
}

size_t attn_layer_ref64_bytes(const attn_case *c, int n)
{
    int ovf = 0;
    size_t b = attn_size_mul(ref64_doubles(c, n, &ovf), sizeof(double), &ovf);
    return ovf ? SIZE_MAX : b;
}

int attn_layer_ref64_rows(const attn_case *c, const attn_inputs *in, const int *rows, int n,
                          double *out_rows)
{
    const attn_problem *p = &in->p;
    const attn_layer_io *y = &in->ly;
    const int B = p->B, H = p->H, Hkv = p->Hkv, D = p->D, Dv = p->Dv;
    double *q = malloc(sizeof(double) * (size_t)B * H * p->Lq * D);     /* sampled rows only */
    double *k = malloc(sizeof(double) * (size_t)B * Hkv * p->Lk * D);
    double *v = malloc(sizeof(double) * (size_t)B * Hkv * p->Lk * Dv);
    double *o = malloc(sizeof(double) * (size_t)B * H * n * Dv);
    double *acc = malloc(sizeof(double) * ((size_t)H * D + (size_t)Hkv * (D + Dv) + (size_t)H * Dv));
    int rc = -1;
    if (!q || !k || !v || !o || !acc) goto done;
    for (int b = 0; b < B; b++) {
        for (int r = 0; r < n; r++)
            project_row64(y->x, y->wq, y->bq, b, rows[r], p->Lq, y->dm, H, D, acc, q);
        for (int j = 0; j < p->Lk; j++) {
            project_row64(y->m, y->wk, y->bk, b, j, p->Lk, y->dm, Hkv, D, acc, k);
            project_row64(y->m, y->wv, y->bv, b, j, p->Lk, y->dm, Hkv, Dv, acc, v);
        }
    }
    if (attn_ref64_rows_d(p, q, k, v, rows, n, o) != 0) goto done;
    out_rows64(c, y, NULL, o, n, out_rows);
    rc = 0;
done:
    free(q);
    free(k);
    free(v);
    free(o);
    free(acc);
    return rc;
}

/* --------------------------------------------------------------- flops -- */

double attn_layer_proj_flops(const attn_case *c)
{
    if (c->layer != ATTN_LAYER_MHA) return 0.0;
    const double B = c->batch, dm = c->d_model;
    return 2.0 * B * dm * ((double)c->q_len * c->heads * c->head_dim +
                           (double)c->kv_len * c->kv_heads * (c->head_dim + c->v_dim) +
                           (double)c->q_len * c->heads * c->v_dim);
}

double attn_layer_bytes(const attn_case *c)
{
    if (c->layer != ATTN_LAYER_MHA) return 0.0;
    const double B = c->batch, dm = c->d_model, hq = (double)c->heads * c->head_dim;
    const double hkv = (double)c->kv_heads * (c->head_dim + c->v_dim), ho = (double)c->heads * c->v_dim;
    const double x = B * c->q_len * dm, m = c->q_len != c->kv_len ? B * c->kv_len * dm : 0.0;
    return 4.0 * (x + m + (dm + 1) * (hq + hkv) + (ho + 1) * dm + x);
}
