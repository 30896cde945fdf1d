/* inputs.h: deterministic tensors and mask tables for one case.
 *
 * Inputs depend only on the case's shape and seed, never on the kernel, so every
 * kernel of a sweep sees exactly the same numbers (fair comparison, validation against
 * the naive reference, reproducible dumps). Values are uniform in [-1, 1). A bf16 or f16
 * case draws the same numbers, rounds q, k and v to nearest-even into its dtype, and keeps
 * both the 16-bit bits and the rounded values as floats: kernels that read the storage
 * width take the bits, the reference and fp32 code the floats, so validation measures a
 * kernel's own arithmetic and not the rounding of its inputs.
 */
#ifndef ATTN_INPUTS_H
#define ATTN_INPUTS_H

#include <stddef.h>
#include "core/case.h"

/* The tensors of a layer = mha case (core/layer.c), NULL otherwise. dm = d_model.
 *   x (B, Lq, dm)   m (B, Lk, dm): the same array as x for self-attention (Lq == Lk)
 *   wq (dm, H Dq) bq (H D)   wk (dm, Hkv D) bk (Hkv D)   wv (dm, Hkv Dv) bv (Hkv Dv)
 *   wo (H Dv, dm) bo (dm)    out (B, Lq, dm): the layer's output
 *   tmp (B max(Lq, Lk), max(H D, Hkv D, Hkv Dv, H Dv)): one projection, token-major
 * Weights and biases are uniform in [-1, 1) / sqrt(fan-in) (dm for wq, wk, wv and their
 * biases, H Dv for wo and bo), so Q, K, V and out stay O(1). */
typedef struct attn_layer_io {
    int dm;
    float *x, *m, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo, *out, *tmp;
} attn_layer_io;

typedef struct attn_inputs {
    attn_problem p;             /* points into the arrays below */
    float *q, *k, *v, *out;     /* 64-byte aligned, shapes as in attn.h */
    uint16_t *q16, *k16, *v16;  /* bf16/f16 cases: the stored bits of q, k, v (which then
                                   hold the same values widened); NULL for f32 */
    float *wq, *wk, *va;        /* additive parameters, NULL for dot scores */
    float *wg;                  /* (D, D) general score matrix, NULL for other scores */
    int *kv_len;                /* (B) */
    int *global_pos;            /* (n_globals) */
    uint8_t *key_is_global;     /* (Lk) */
    attn_layer_io ly;           /* layer = mha: its tensors (q, k, v, out are then the
                                   projections and the attention's output) */
} attn_inputs;

/* Fill the problem description from a case (no allocation; tables left NULL). */
void attn_problem_from_case(const attn_case *c, attn_problem *p);
/* Allocate and fill. Returns 0, or -1 when memory is short (everything freed). */
int attn_inputs_make(const attn_case *c, attn_inputs *in);
void attn_inputs_free(attn_inputs *in);
/* Bytes attn_inputs_make will allocate, or SIZE_MAX when that does not fit size_t (then
 * attn_inputs_make returns -1). */
size_t attn_inputs_bytes(const attn_case *c);

/* The one rule for the mask tables, shared by the tensors and by attn_case_pairs():
 * out (batch) = valid keys per item: kv_len - round(pad*(b+1)/batch*kv_len) for padding
 * masks (pad = 1 leaves the last item no keys), else kv_len. */
void attn_kv_lengths(const attn_case *c, int *out);
/* The same for one batch item b (no table: what attn_case_pairs uses). */
int attn_kv_length(const attn_case *c, int b);
/* out (globals) = sorted global token positions g*kv_len/globals (the first is 0, like a
 * CLS token). Returns the count, 0 when there are none. */
int attn_global_positions(const attn_case *c, int *out);

/* 64-byte aligned allocation used for every tensor and workspace (NULL on failure). */
void *attn_alloc(size_t bytes);
void attn_free(void *ptr);

#endif
