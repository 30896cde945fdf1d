/* ref64.h: an independent double-precision attention for selected query rows.
 *
 * Written apart from kernels/naive.c (own loops, doubles throughout, attn_allowed() per
 * pair) so that it can judge the naive kernel, which in turn judges every other kernel.
 */
#ifndef ATTN_REF64_H
#define ATTN_REF64_H

#include "attn.h"

/* For every (b, h), query rows rows[0..n) into out_rows, which is (B, H, n, Dv).
 * q, k, v are shaped as in attn.h. Returns 0, or -1 when memory is short. */
int attn_ref64_rows(const attn_problem *p, const float *q, const float *k, const float *v,
                    const int *rows, int n, double *out_rows);
/* The same from double q, k, v (the float64 layer's projections, core/layer.c). */
int attn_ref64_rows_d(const attn_problem *p, const double *q, const double *k, const double *v,
                      const int *rows, int n, double *out_rows);

#endif
