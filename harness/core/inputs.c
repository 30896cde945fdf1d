/* inputs.c: deterministic tensors and mask tables for one case (see inputs.h).
 *
 * Every tensor comes from its own splitmix64 stream, seeded by the case's seed mixed with
 * the shape and the tensor's name: never with the kernel or the thread count, so every
 * kernel of a shape sees the same numbers. Values are uniform in [-1, 1) with 24 random
 * bits, exact in fp32. A bf16/f16 case then rounds q, k, v into its dtype (round_to_dtype):
 * the dtype is not in the seed, so it sees the f32 case's numbers, rounded.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "core/inputs.h"

/* ------------------------------------------------------------ allocation -- */

#define ALIGN 64

static size_t round_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

void *attn_alloc(size_t bytes)
{
    void *ptr = NULL;
    /* rounded up so the size is a multiple of the alignment (aligned_alloc's rule); the
     * memory is not touched here, so its first touch happens where it is used */
    if (bytes > SIZE_MAX - ALIGN) return NULL;      /* would wrap when rounded up */
    if (posix_memalign(&ptr, ALIGN, round_up(bytes ? bytes : 1)) != 0) return NULL;
    return ptr;
}

void attn_free(void *ptr) { free(ptr); }

/* ------------------------------------------------------------ mask rules -- */

int attn_kv_length(const attn_case *c, int b)
{
    if (!(c->mask & MASK_PADDING)) return c->kv_len;
    long lose = lround(c->pad * (b + 1) / c->batch * c->kv_len);
    if (lose < 0) lose = 0;
    if (lose > c->kv_len) lose = c->kv_len;
    return c->kv_len - (int)lose;
}

void attn_kv_lengths(const attn_case *c, int *out)
{
    for (int b = 0; b < c->batch; b++) out[b] = attn_kv_length(c, b);
}

int attn_global_positions(const attn_case *c, int *out)
{
    int n = c->globals < c->kv_len ? c->globals : c->kv_len;
    if (n < 0) n = 0;
    for (int g = 0; g < n; g++) out[g] = (int)((long)g * c->kv_len / n);
    return n;
}

/* --------------------------------------------------------------- problem -- */

void attn_problem_from_case(const attn_case *c, attn_problem *p)
{
    memset(p, 0, sizeof *p);
    p->B = c->batch;
    p->H = c->heads;
    p->Hkv = c->kv_heads;
    p->Lq = c->q_len;
    p->Lk = c->kv_len;
    p->D = c->head_dim;
    p->Dv = c->v_dim;
    p->scale = 1.0f / sqrtf((float)c->head_dim);
    p->causal = (c->mask & MASK_CAUSAL) != 0;
    p->window_left = c->window_left;
    p->window_right = c->window_right;
    p->n_globals = c->globals;
    p->score = c->score;
    p->A = c->score == ATTN_SCORE_ADDITIVE ? c->additive_dim : 0;
    p->dtype = c->dtype;
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) p->tune[t] = c->tune_used[t];
}

/* ---------------------------------------------------------------- inputs -- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Seed of one tensor's stream: the case seed, the shape, and the tensor's name. */
static uint64_t stream_seed(const attn_case *c, const char *tensor)
{
    const long shape[] = { c->batch, c->heads, c->kv_heads, c->q_len, c->kv_len,
                           c->head_dim, c->v_dim, c->additive_dim };
    uint64_t s = c->seed;
    for (size_t i = 0; i < sizeof shape / sizeof shape[0]; i++) {
        s ^= (uint64_t)shape[i];
        s = splitmix64(&s);
    }
    if (c->layer == ATTN_LAYER_MHA) {   /* mha tensors depend on d_model too (only there,
                                           so attention cases keep their numbers) */
        s ^= (uint64_t)c->d_model;
        s = splitmix64(&s);
    }
    for (const char *t = tensor; *t; t++) {
        s ^= (uint64_t)(unsigned char)*t;
        s = splitmix64(&s);
    }
    return s;
}

/* x (n) = uniform [-1, 1) * mul from the named stream. */
static void fill_uniform(const attn_case *c, const char *tensor, float *x, size_t n, float mul)
{
    uint64_t s = stream_seed(c, tensor);
    for (size_t i = 0; i < n; i++) {
        float u = (float)(splitmix64(&s) >> 40) * (1.0f / 8388608.0f) - 1.0f;  /* 2^-23 */
        x[i] = u * mul;
    }
}

/* x (n) rounded to nearest-even into dtype t: h (n) gets the 16-bit values, x the same
 * values widened back (exact). */
static void round_to_dtype(attn_dtype t, float *x, uint16_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t == ATTN_BF16) {
            h[i] = attn_f32_to_bf16(x[i]);
            x[i] = attn_bf16_to_f32(h[i]);
        } else {
            h[i] = attn_f32_to_f16(x[i]);
            x[i] = attn_f16_to_f32(h[i]);
        }
    }
}

/* Element counts of every array attn_inputs_make allocates, in allocation order (q16,
 * k16, v16 are uint16_t, 0 for f32), with
 * checked arithmetic (util.h): ovf is set when a count, or a count's bytes, does not fit
 * size_t (config expansion refuses such cases; see attn_case_size_check in case.c). */
typedef struct {
    size_t q, k, v, out, wq, wk, va, kv_len, gpos, is_global, q16, k16, v16, wg;
    size_t lx, lm, lwq, lbq, lwk, lbk, lwv, lbv, lwo, lbo, lout, ltmp;  /* layer = mha */
    int ovf;
} sizes;

/* a * b * c * d elements of 4 bytes each, checked */
static size_t elems4(long a, long b, long c, long d, int *ovf)
{
    if (a < 0 || b < 0 || c < 0 || d < 0) { *ovf = 1; return SIZE_MAX; }
    size_t n = attn_size_mul(attn_size_mul((size_t)a, (size_t)b, ovf),
                             attn_size_mul((size_t)c, (size_t)d, ovf), ovf);
    attn_size_mul(n, sizeof(float), ovf);
    return n;
}

static sizes sizes_of(const attn_case *c)
{
    sizes z = { 0 };
    int add = c->score == ATTN_SCORE_ADDITIVE;
    z.q = elems4(c->batch, c->heads, c->q_len, c->head_dim, &z.ovf);
    z.k = elems4(c->batch, c->kv_heads, c->kv_len, c->head_dim, &z.ovf);
    z.v = elems4(c->batch, c->kv_heads, c->kv_len, c->v_dim, &z.ovf);
    z.out = elems4(c->batch, c->heads, c->q_len, c->v_dim, &z.ovf);
    z.wq = z.wk = add ? elems4(c->additive_dim, c->head_dim, 1, 1, &z.ovf) : 0;
    z.va = add ? elems4(c->additive_dim, 1, 1, 1, &z.ovf) : 0;
    z.kv_len = elems4(c->batch, 1, 1, 1, &z.ovf);
    z.gpos = c->globals > 0 ? (size_t)c->globals : 0;
    z.is_global = c->globals > 0 ? elems4(c->kv_len, 1, 1, 1, &z.ovf) : 0;
    int half = c->dtype != ATTN_F32;
    z.q16 = half ? z.q : 0;
    z.k16 = half ? z.k : 0;
    z.v16 = half ? z.v : 0;
    z.wg = c->score == ATTN_SCORE_GENERAL ? elems4(c->head_dim, c->head_dim, 1, 1, &z.ovf) : 0;
    if (c->layer == ATTN_LAYER_MHA) {
        long dm = c->d_model, hq = (long)c->heads * c->head_dim, hk = (long)c->kv_heads * c->head_dim;
        long hv = (long)c->kv_heads * c->v_dim, ho = (long)c->heads * c->v_dim;
        long L = c->q_len > c->kv_len ? c->q_len : c->kv_len, w = hq;
        if (hk > w) w = hk;
        if (hv > w) w = hv;
        if (ho > w) w = ho;
        z.lx = elems4(c->batch, c->q_len, dm, 1, &z.ovf);
        z.lm = c->q_len != c->kv_len ? elems4(c->batch, c->kv_len, dm, 1, &z.ovf) : 0;
        z.lwq = elems4(dm, hq, 1, 1, &z.ovf);
        z.lbq = (size_t)hq;
        z.lwk = elems4(dm, hk, 1, 1, &z.ovf);
        z.lbk = (size_t)hk;
        z.lwv = elems4(dm, hv, 1, 1, &z.ovf);
        z.lbv = (size_t)hv;
        z.lwo = elems4(ho, dm, 1, 1, &z.ovf);
        z.lbo = (size_t)dm;
        z.lout = elems4(c->batch, c->q_len, dm, 1, &z.ovf);
        z.ltmp = elems4(c->batch, L, w, 1, &z.ovf);
    }
    return z;
}

/* Bytes of n items of size each, rounded up to the alignment; checked. */
static size_t bytes_of(size_t n, size_t size, int *ovf)
{
    return attn_size_add(attn_size_mul(n, size, ovf), ALIGN - 1, ovf) / ALIGN * ALIGN;
}

size_t attn_inputs_bytes(const attn_case *c)
{
    sizes z = sizes_of(c);
    const size_t n[] = { z.q, z.k, z.v, z.out, z.wq, z.wk, z.va, z.kv_len, z.gpos, z.is_global,
                         z.q16, z.k16, z.v16, z.wg, z.lx, z.lm, z.lwq, z.lbq, z.lwk, z.lbk,
                         z.lwv, z.lbv, z.lwo, z.lbo, z.lout, z.ltmp };
    const size_t each[] = { 4, 4, 4, 4, 4, 4, 4, sizeof(int), sizeof(int), 1, 2, 2, 2, 4,
                            4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4 };
    _Static_assert(sizeof n == sizeof each, "one element size per array");
    size_t total = 0;
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        total = attn_size_add(total, bytes_of(n[i], each[i], &z.ovf), &z.ovf);
    return z.ovf ? SIZE_MAX : total;
}

void attn_inputs_free(attn_inputs *in)
{
    attn_free(in->q);
    attn_free(in->k);
    attn_free(in->v);
    attn_free(in->out);
    attn_free(in->wq);
    attn_free(in->wk);
    attn_free(in->va);
    attn_free(in->kv_len);
    attn_free(in->global_pos);
    attn_free(in->key_is_global);
    attn_free(in->q16);
    attn_free(in->k16);
    attn_free(in->v16);
    attn_free(in->wg);
    attn_layer_io *y = &in->ly;
    float *arrays[] = { y->x, y->m != y->x ? y->m : NULL, y->wq, y->bq, y->wk, y->bk, y->wv,
                        y->bv, y->wo, y->bo, y->out, y->tmp };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) attn_free(arrays[i]);
    memset(in, 0, sizeof *in);
}

int attn_inputs_make(const attn_case *c, attn_inputs *in)
{
    sizes z = sizes_of(c);
    memset(in, 0, sizeof *in);
    if (z.ovf) return -1;
    in->q = attn_alloc(z.q * sizeof(float));
    in->k = attn_alloc(z.k * sizeof(float));
    in->v = attn_alloc(z.v * sizeof(float));
    in->out = attn_alloc(z.out * sizeof(float));
    in->kv_len = attn_alloc(z.kv_len * sizeof(int));
    int ok = in->q && in->k && in->v && in->out && in->kv_len;
    if (z.wq) {
        in->wq = attn_alloc(z.wq * sizeof(float));
        in->wk = attn_alloc(z.wk * sizeof(float));
        in->va = attn_alloc(z.va * sizeof(float));
        ok = ok && in->wq && in->wk && in->va;
    }
    if (z.gpos) {
        in->global_pos = attn_alloc(z.gpos * sizeof(int));
        in->key_is_global = attn_alloc(z.is_global);
        ok = ok && in->global_pos && in->key_is_global;
    }
    if (z.q16) {
        in->q16 = attn_alloc(z.q16 * sizeof(uint16_t));
        in->k16 = attn_alloc(z.k16 * sizeof(uint16_t));
        in->v16 = attn_alloc(z.v16 * sizeof(uint16_t));
        ok = ok && in->q16 && in->k16 && in->v16;
    }
    if (z.wg) {
        in->wg = attn_alloc(z.wg * sizeof(float));
        ok = ok && in->wg;
    }
    if (z.lx) {
        attn_layer_io *y = &in->ly;
        y->dm = c->d_model;
        y->x = attn_alloc(z.lx * sizeof(float));
        y->m = z.lm ? attn_alloc(z.lm * sizeof(float)) : y->x;
        y->wq = attn_alloc(z.lwq * sizeof(float));
        y->bq = attn_alloc(z.lbq * sizeof(float));
        y->wk = attn_alloc(z.lwk * sizeof(float));
        y->bk = attn_alloc(z.lbk * sizeof(float));
        y->wv = attn_alloc(z.lwv * sizeof(float));
        y->bv = attn_alloc(z.lbv * sizeof(float));
        y->wo = attn_alloc(z.lwo * sizeof(float));
        y->bo = attn_alloc(z.lbo * sizeof(float));
        y->out = attn_alloc(z.lout * sizeof(float));
        y->tmp = attn_alloc(z.ltmp * sizeof(float));
        ok = ok && y->x && y->m && y->wq && y->bq && y->wk && y->bk && y->wv && y->bv &&
             y->wo && y->bo && y->out && y->tmp;
    }
    if (!ok) {
        attn_inputs_free(in);
        return -1;
    }

    fill_uniform(c, "q", in->q, z.q, 1.0f);
    fill_uniform(c, "k", in->k, z.k, 1.0f);
    fill_uniform(c, "v", in->v, z.v, 1.0f);
    memset(in->out, 0, z.out * sizeof(float));

    attn_problem_from_case(c, &in->p);
    if (z.q16) {
        round_to_dtype(c->dtype, in->q, in->q16, z.q);
        round_to_dtype(c->dtype, in->k, in->k16, z.k);
        round_to_dtype(c->dtype, in->v, in->v16, z.v);
        in->p.q16 = in->q16;
        in->p.k16 = in->k16;
        in->p.v16 = in->v16;
    }
    attn_kv_lengths(c, in->kv_len);
    if (c->mask & MASK_PADDING) in->p.kv_len = in->kv_len;
    if (z.wq) {
        /* 1/sqrt(D) keeps Wq q + Wk k near unit size, so tanh is not saturated */
        float w = 1.0f / sqrtf((float)c->head_dim);
        fill_uniform(c, "wq", in->wq, z.wq, w);
        fill_uniform(c, "wk", in->wk, z.wk, w);
        fill_uniform(c, "va", in->va, z.va, 1.0f);
        in->p.wq = in->wq;
        in->p.wk = in->wk;
        in->p.va = in->va;
    }
    if (z.wg) {
        /* 1/sqrt(D): the entries of W^T q have variance 1/9 (q's 1/3, over 3), so the
         * unscaled q^T W k has standard deviation sqrt(D / 27): 1.5 at D = 64 */
        fill_uniform(c, "wg", in->wg, z.wg, 1.0f / sqrtf((float)c->head_dim));
        in->p.wg = in->wg;
    }
    if (z.lx) {
        attn_layer_io *y = &in->ly;
        const float in_w = 1.0f / sqrtf((float)c->d_model);
        const float out_w = 1.0f / sqrtf((float)c->heads * c->v_dim);
        fill_uniform(c, "x", y->x, z.lx, 1.0f);
        if (z.lm) fill_uniform(c, "m", y->m, z.lm, 1.0f);
        fill_uniform(c, "Wq", y->wq, z.lwq, in_w);
        fill_uniform(c, "bq", y->bq, z.lbq, in_w);
        fill_uniform(c, "Wk", y->wk, z.lwk, in_w);
        fill_uniform(c, "bk", y->bk, z.lbk, in_w);
        fill_uniform(c, "Wv", y->wv, z.lwv, in_w);
        fill_uniform(c, "bv", y->bv, z.lbv, in_w);
        fill_uniform(c, "Wo", y->wo, z.lwo, out_w);
        fill_uniform(c, "bo", y->bo, z.lbo, out_w);
        memset(y->out, 0, z.lout * sizeof(float));
    }
    if (z.gpos) {
        int n = attn_global_positions(c, in->global_pos);
        memset(in->key_is_global, 0, z.is_global);
        for (int g = 0; g < n; g++) in->key_is_global[in->global_pos[g]] = 1;
        in->p.n_globals = n;
        in->p.global_pos = in->global_pos;
        in->p.key_is_global = in->key_is_global;
    }
    return 0;
}
