/* layer.h: the multi-head attention layer around a kernel (layer = mha).
 *
 * Forward pass of one mha case, for batch item b (dm = d_model; core/inputs.h has the
 * tensors and their layouts):
 *   Q = x Wq + bq   (Lq, H D)      split into heads: q (B, H, Lq, D)     } qkv_proj
 *   K = m Wk + bk   (Lk, Hkv D)    split: k (B, Hkv, Lk, D)              }
 *   V = m Wv + bv   (Lk, Hkv Dv)   split: v (B, Hkv, Lk, Dv)             }
 *   o = the kernel under test on q, k, v (attn.h)  (B, H, Lq, Dv)        attention
 *   out = concat_h(o) Wo + bo      (Lq, dm), heads concatenated h-major  out_proj
 * m is x for self-attention (Lq == Lk), the encoder states for cross-attention. The
 * projections are CBLAS sgemm calls on the case's threads (one per OpenMP thread), the
 * same code for every kernel, so kernels differ only in the attention; a kernel without
 * ATTN_CAP_THREADS (naive, simd_*) runs the attention on one thread. This is harness code: the
 * kernels stay the attention core.
 */
#ifndef ATTN_LAYER_H
#define ATTN_LAYER_H

#include "core/case.h"
#include "core/inputs.h"

/* The parts of an mha case's time, in the order results.json "parts" lists them. */
enum { ATTN_PART_QKV, ATTN_PART_ATTENTION, ATTN_PART_OUT, ATTN_PART_COUNT };
extern const char *const attn_part_names[ATTN_PART_COUNT];   /* "qkv_proj", ... */

/* NULL when this build can run mha cases, else why not (built without CBLAS). */
const char *attn_layer_unavailable(void);

/* One forward pass of c's layer with kernel k (workspace ws) on in: in->q, k, v get the
 * projections, in->out the attention, in->ly.out the layer's output. part_s
 * (ATTN_PART_COUNT) gets the seconds of each part added to it. Returns the kernel's
 * status (ATTN_ERR_UNSUPPORTED without CBLAS). */
attn_status attn_layer_forward(const attn_case *c, attn_inputs *in, void *ws, double *part_s);

/* The output projection, in float64, of rows of an attention output: o_rows
 * (B, H, n, Dv) holds rows rows[0..n) of every (b, h) (rows NULL: all Lq rows, n = Lq);
 * out_rows (B, n, dm) gets concat(o) Wo + bo. */
void attn_layer_out_rows(const attn_case *c, const attn_layer_io *ly, const float *o_rows,
                         int n, double *out_rows);

/* The float64 layer for rows[0..n) of every batch item: projections of x, m in doubles,
 * the float64 attention (core/ref64.c) and the output projection; out_rows is (B, n, dm).
 * Only the sampled query rows are projected. Returns 0, or -1 when memory is short. */
int attn_layer_ref64_rows(const attn_case *c, const attn_inputs *in, const int *rows, int n,
                          double *out_rows);
/* Bytes attn_layer_ref64_rows allocates for c (Q, K, V in doubles, the attention rows). */
size_t attn_layer_ref64_bytes(const attn_case *c, int n);

/* FLOPs of the three projections (2 per multiply-add), added to the attention's; 0 for
 * layer = attention. */
double attn_layer_proj_flops(const attn_case *c);
/* Compulsory bytes of the layer around the attention: x and m read, the weights and
 * biases read, out written, fp32; 0 for layer = attention. */
double attn_layer_bytes(const attn_case *c);

#endif
