/* ref64.c: double-precision attention for selected rows (see ref64.h).
 *
 * Per (b, h): additive key projections once (Lk, A), then per row the visible scores in
 * doubles, a max-subtracted softmax and P V. Harness code, so it may allocate. q, k, v are
 * floats (the kernels' inputs) or doubles (the float64 layer's own projections): one body
 * reads either through at().
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/ref64.h"

/* One tensor as float or double (exactly one of f, d is non-NULL). */
typedef struct { const float *f; const double *d; } arr;

static inline double at(arr a, size_t i) { return a.f ? (double)a.f[i] : a.d[i]; }

static int ref64_rows(const attn_problem *p, arr q, arr k, arr v, const int *rows, int n,
                      double *out_rows)
{
    const int add = p->score == ATTN_SCORE_ADDITIVE, A = add ? p->A : 0;
    const int gen = p->score == ATTN_SCORE_GENERAL;
    double *s = malloc(sizeof(double) * (size_t)p->Lk);                 /* (Lk) */
    double *pk = malloc(sizeof(double) * ((size_t)p->Lk * A + 1));      /* (Lk, A) */
    double *pq = malloc(sizeof(double) * ((size_t)A + p->D + 1));       /* (A) or (D) */
    if (!s || !pk || !pq) {
        free(s);
        free(pk);
        free(pq);
        return -1;
    }

    for (int b = 0; b < p->B; b++) {
        for (int h = 0; h < p->H; h++) {
            const int hk = h / (p->H / p->Hkv);
            const size_t K = ((size_t)b * p->Hkv + hk) * p->Lk * p->D;   /* (Lk, D) at k + K */
            const size_t V = ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv;  /* (Lk, Dv) at v + V */
            for (int j = 0; j < p->Lk && add; j++)
                for (int a = 0; a < A; a++) {
                    double t = 0.0;
                    for (int d = 0; d < p->D; d++)
                        t += (double)p->wk[(size_t)a * p->D + d] * at(k, K + (size_t)j * p->D + d);
                    pk[(size_t)j * A + a] = t;
                }

            for (int r = 0; r < n; r++) {
                const int i = rows[r];
                const size_t Q = (((size_t)b * p->H + h) * p->Lq + i) * p->D;  /* (D) at q + Q */
                double *o = out_rows + (((size_t)b * p->H + h) * n + r) * p->Dv;   /* (Dv) */
                for (int a = 0; a < A; a++) {
                    double t = 0.0;
                    for (int d = 0; d < p->D; d++) t += (double)p->wq[(size_t)a * p->D + d] * at(q, Q + d);
                    pq[a] = t;
                }
                for (int e = 0; e < p->D && gen; e++) {         /* q' = W^T q */
                    double t = 0.0;
                    for (int d = 0; d < p->D; d++) t += (double)p->wg[(size_t)d * p->D + e] * at(q, Q + d);
                    pq[e] = t;
                }

                double max = -HUGE_VAL;
                int any = 0;
                for (int j = 0; j < p->Lk; j++) {
                    if (!attn_allowed(p, b, i, j)) continue;
                    double t = 0.0;
                    if (add) {
                        for (int a = 0; a < A; a++) t += (double)p->va[a] * tanh(pq[a] + pk[(size_t)j * A + a]);
                    } else if (gen) {
                        for (int d = 0; d < p->D; d++) t += pq[d] * at(k, K + (size_t)j * p->D + d);
                    } else {
                        for (int d = 0; d < p->D; d++) t += at(q, Q + d) * at(k, K + (size_t)j * p->D + d);
                        t *= (double)p->scale;
                    }
                    s[j] = t;
                    if (t > max) max = t;
                    any = 1;
                }
                memset(o, 0, sizeof(double) * (size_t)p->Dv);
                if (!any) continue;
                double sum = 0.0;
                for (int j = 0; j < p->Lk; j++) {
                    if (!attn_allowed(p, b, i, j)) continue;
                    double e = exp(s[j] - max);
                    sum += e;
                    for (int d = 0; d < p->Dv; d++) o[d] += e * at(v, V + (size_t)j * p->Dv + d);
                }
                for (int d = 0; d < p->Dv; d++) o[d] /= sum;
            }
        }
    }
    free(s);
    free(pk);
    free(pq);
    return 0;
}

int attn_ref64_rows(const attn_problem *p, const float *q, const float *k, const float *v,
                    const int *rows, int n, double *out_rows)
{
    return ref64_rows(p, (arr){ q, NULL }, (arr){ k, NULL }, (arr){ v, NULL }, rows, n, out_rows);
}

int attn_ref64_rows_d(const attn_problem *p, const double *q, const double *k, const double *v,
                      const int *rows, int n, double *out_rows)
{
    return ref64_rows(p, (arr){ NULL, q }, (arr){ NULL, k }, (arr){ NULL, v }, rows, n, out_rows);
}
