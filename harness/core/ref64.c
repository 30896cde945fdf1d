/* ref64.c: double-precision attention for selected rows (see ref64.h).
 *
 * Per (b, h): additive key projections once (Lk, A), then per row the visible scores in
 * doubles, a max-subtracted softmax and P V. Harness code, so it may allocate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/ref64.h"

int attn_ref64_rows(const attn_problem *p, const float *q, const float *k, const float *v,
                    const int *rows, int n, double *out_rows)
{
    const int add = p->score == ATTN_SCORE_ADDITIVE, A = add ? p->A : 0;
    double *s = malloc(sizeof(double) * (size_t)p->Lk);                 /* (Lk) */
    double *pk = malloc(sizeof(double) * ((size_t)p->Lk * A + 1));      /* (Lk, A) */
    double *pq = malloc(sizeof(double) * ((size_t)A + 1));              /* (A) */
    if (!s || !pk || !pq) {
        free(s);
        free(pk);
        free(pq);
        return -1;
    }

    for (int b = 0; b < p->B; b++) {
        for (int h = 0; h < p->H; h++) {
            const int hk = h / (p->H / p->Hkv);
            const float *K = k + ((size_t)b * p->Hkv + hk) * p->Lk * p->D;   /* (Lk, D) */
            const float *V = v + ((size_t)b * p->Hkv + hk) * p->Lk * p->Dv;  /* (Lk, Dv) */
            for (int j = 0; j < p->Lk && add; j++)
                for (int a = 0; a < A; a++) {
                    double t = 0.0;
                    for (int d = 0; d < p->D; d++)
                        t += (double)p->wk[(size_t)a * p->D + d] * K[(size_t)j * p->D + d];
                    pk[(size_t)j * A + a] = t;
                }

            for (int r = 0; r < n; r++) {
                const int i = rows[r];
                const float *Q = q + (((size_t)b * p->H + h) * p->Lq + i) * p->D;  /* (D) */
                double *o = out_rows + (((size_t)b * p->H + h) * n + r) * p->Dv;   /* (Dv) */
                for (int a = 0; a < A; a++) {
                    double t = 0.0;
                    for (int d = 0; d < p->D; d++) t += (double)p->wq[(size_t)a * p->D + d] * Q[d];
                    pq[a] = t;
                }

                double max = -HUGE_VAL;
                int any = 0;
                for (int j = 0; j < p->Lk; j++) {
                    if (!attn_allowed(p, b, i, j)) continue;
                    double t = 0.0;
                    if (add) {
                        for (int a = 0; a < A; a++) t += (double)p->va[a] * tanh(pq[a] + pk[(size_t)j * A + a]);
                    } else {
                        for (int d = 0; d < p->D; d++) t += (double)Q[d] * K[(size_t)j * p->D + d];
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
                    for (int d = 0; d < p->Dv; d++) o[d] += e * V[(size_t)j * p->Dv + d];
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
