/* dump.c: --dump DIR writes each case's tensors as NumPy .npy files plus a case.json that
 * states the whole computation, so anyone can recompute `out` in a few lines of NumPy or
 * PyTorch without reading attnbench's code (docs/design.md, results/README.md).
 *
 * DIR/<case id>/
 *   q.npy   (B, H,   Lq, D)      k.npy (B, Hkv, Lk, D)      v.npy (B, Hkv, Lk, Dv)
 *   out.npy (B, H,   Lq, Dv)     the kernel's output
 *   wq.npy  (A, D)  wk.npy (A, D)  va.npy (A)               additive scores only
 *   wg.npy  (D, D)                                          general scores only
 *   layer = mha (core/layer.h): out.npy is the LAYER's output (B, Lq, dm), attention.npy
 *   (B, H, Lq, Dv) the kernel's, q, k, v the projections it read; and x.npy (B, Lq, dm),
 *   m.npy (B, Lk, dm) (= x for self-attention), w_q.npy (dm, H D), b_q.npy (H D),
 *   w_k.npy (dm, Hkv D), b_k.npy, w_v.npy (dm, Hkv Dv), b_v.npy, w_o.npy (H Dv, dm),
 *   b_o.npy (dm); case.json "layer" states the formula
 *   case.json                    params, the tunables used (tiled kernels), scale, mask
 *                                tables, the mask rule in words,
 *                                storage_dtype (bf16/f16: q, k, v hold the rounded values)
 *
 * .npy v1.0: "\x93NUMPY", version 1.0, little-endian uint16 header length, a Python dict
 * literal padded with spaces to make the whole preamble a multiple of 64 bytes and ending
 * in '\n', then the raw data in C order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "record/dump.h"
#include "record/results.h"

/* ------------------------------------------------------------------ .npy -- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

int attn_npy_write(const char *path, const float *data, int ndim, const size_t *shape)
{
    if (ndim < 0 || ndim > 8) {
        fprintf(stderr, "attnbench: %s: .npy with %d dimensions not supported\n", path, ndim);
        return -1;
    }
    /* header dict as NumPy writes it; a 1-d shape needs the trailing comma: (5,) */
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%zu", i ? ", " : "", shape[i]);
        count *= shape[i];
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");

    /* 10-byte preamble + dict + padding + '\n' = multiple of 64 */
    size_t total = 10 + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8) };

    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "attnbench: %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre;
    ok = ok && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 10 + (size_t)n; ok && i < padded - 1; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    if (host_is_little_endian()) {
        ok = ok && (count == 0 || fwrite(data, sizeof(float), count, f) == count);
    } else {
        for (size_t i = 0; ok && i < count; i++) {
            uint32_t u;
            memcpy(&u, &data[i], 4);
            unsigned char b[4] = { u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff, u >> 24 };
            ok = fwrite(b, 1, 4, f) == 4;
        }
    }
    int err = errno;
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        fprintf(stderr, "attnbench: %s: write failed: %s\n", path, strerror(err ? err : EIO));
        remove(path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- case.json -- */

/* The rule of include/attn.h, for a reader who has only the dump. */
static const char mask_rule[] =
    "Query i (0 <= i < Lq) has aligned position a = i + (Lk - Lq) (bottom_right causal "
    "alignment: the last query lines up with the last key). Key j of batch item b is "
    "visible to query i iff j < kv_valid_lengths[b] (key padding) and, when causal, "
    "j <= a; and moreover at least one of: (window_left < 0 or j >= a - window_left) and "
    "(window_right < 0 or j <= a + window_right) (the local window, -1 = unbounded); j is "
    "one of global_positions (every query sees global keys); 0 <= a < Lk and a is one of "
    "global_positions (global queries see every key not removed by padding or causality). "
    "Scores: dot: s_ij = scale * q_i . k_j; additive: s_ij = va . tanh(Wq q_i + Wk k_j) "
    "with Wq, Wk of shape (A, D) and va of shape (A), shared by all heads, scale not "
    "applied; general: s_ij = q_i^T W k_j with W of shape (D, D) (wg.npy), shared by all "
    "heads, scale not applied. out_i = sum over visible j of softmax_j(s_ij) * v_j; a query with no "
    "visible key outputs zeros. Query head h uses key/value head h / (H / Hkv).";

/* The layer = mha formula, for a reader who has only the dump. */
static const char layer_formula[] =
    "For each batch item b: Q = x[b] @ w_q + b_q (Lq, H*D), K = m[b] @ w_k + b_k (Lk, Hkv*D), "
    "V = m[b] @ w_v + b_v (Lk, Hkv*Dv); head h of Q is columns h*D..h*D+D-1 (likewise K, V "
    "with kv head g), so q[b, h] = Q[:, h*D:(h+1)*D], k[b, g] = K[:, g*D:(g+1)*D], v[b, g] = "
    "V[:, g*Dv:(g+1)*Dv]; attention[b, h] = the attention of mask_rule and score on q, k, v; "
    "C = the heads of attention[b] side by side (Lq, H*Dv), C[i, h*Dv + e] = "
    "attention[b, h, i, e]; out[b] = C @ w_o + b_o (Lq, dm). m is x for self-attention "
    "(Lq == Lk). All row-major, float32.";

static cJSON *shape_json(int ndim, const size_t *shape)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < ndim; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)shape[i]));
    return a;
}

static cJSON *case_doc(const attn_case *c, const attn_inputs *in)
{
    const attn_problem *p = &in->p;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "kernel", c->kernel ? c->kernel->name : "?");
    cJSON_AddItemToObject(o, "params", attn_params_json(c));
    if (c->tune_from != TUNE_NONE) cJSON_AddItemToObject(o, "tunables", attn_tunables_json(c));
    /* the recomputation facts, at top level as docs/design.md names them */
    cJSON_AddStringToObject(o, "score", attn_score_name(p->score));
    cJSON_AddNumberToObject(o, "scale", (double)p->scale);
    cJSON_AddBoolToObject(o, "causal", p->causal != 0);
    cJSON_AddStringToObject(o, "causal_alignment", "bottom_right");
    cJSON *kv = cJSON_AddArrayToObject(o, "kv_valid_lengths");
    for (int b = 0; b < p->B; b++) cJSON_AddItemToArray(kv, cJSON_CreateNumber(attn_kv_valid(p, b)));
    cJSON *gp = cJSON_AddArrayToObject(o, "global_positions");
    for (int g = 0; g < p->n_globals && p->global_pos; g++)
        cJSON_AddItemToArray(gp, cJSON_CreateNumber(p->global_pos[g]));
    cJSON_AddNumberToObject(o, "window_left", p->window_left < 0 ? -1 : p->window_left);
    cJSON_AddNumberToObject(o, "window_right", p->window_right < 0 ? -1 : p->window_right);
    cJSON_AddNumberToObject(o, "additive_dim", p->score == ATTN_SCORE_ADDITIVE ? p->A : 0);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    /* dtype: the element type of the .npy files (always float32: NumPy has no bf16);
     * storage_dtype: what q, k, v were rounded into before any kernel saw them (params.dtype
     * too). The .npy files hold the rounded values, exactly. */
    cJSON_AddStringToObject(o, "dtype", "float32");
    cJSON_AddStringToObject(o, "storage_dtype", attn_dtype_name(p->dtype));
    if (p->dtype != ATTN_F32)
        cJSON_AddStringToObject(o, "rounding", "q, k and v were generated in fp32 and rounded to "
                                "nearest-even (ties to even) into storage_dtype; q.npy, k.npy "
                                "and v.npy hold the rounded values; wq, wk, va and out are fp32");
    cJSON_AddStringToObject(o, "mask_rule", mask_rule);
    if (c->layer == ATTN_LAYER_MHA) {
        cJSON *l = cJSON_AddObjectToObject(o, "layer");
        cJSON_AddStringToObject(l, "kind", "mha");
        cJSON_AddNumberToObject(l, "d_model", in->ly.dm);
        cJSON_AddBoolToObject(l, "cross", p->Lq != p->Lk);
        cJSON_AddStringToObject(l, "formula", layer_formula);
    }
    return o;
}

/* ---------------------------------------------------------------- driver -- */

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) return 0;
    fprintf(stderr, "attnbench: %s: cannot create directory: %s\n", path, strerror(errno));
    return -1;
}

/* Write the tensors (out too when with_out) and case.json into cdir, which exists. */
static int dump_into(const char *cdir, const attn_case *c, const attn_inputs *in, int with_out)
{
    const attn_problem *p = &in->p;
    char path[4096 + ATTN_ID_MAX + 32];
    const size_t B = (size_t)p->B, H = (size_t)p->H, Hkv = (size_t)p->Hkv;
    const size_t Lq = (size_t)p->Lq, Lk = (size_t)p->Lk, D = (size_t)p->D, Dv = (size_t)p->Dv;
    const size_t A = (size_t)p->A, dm = (size_t)in->ly.dm;
    const int add = p->score == ATTN_SCORE_ADDITIVE, mha = c->layer == ATTN_LAYER_MHA;
    const attn_layer_io *y = &in->ly;
    /* `when` 0: not written for this case */
    struct { const char *name; const float *data; int ndim; size_t shape[4]; int when; } t[] = {
        { "q",   in->q,   4, { B, H,   Lq, D  }, 1 },
        { "k",   in->k,   4, { B, Hkv, Lk, D  }, 1 },
        { "v",   in->v,   4, { B, Hkv, Lk, Dv }, 1 },
        { "out", in->out, 4, { B, H,   Lq, Dv }, !mha },
        { "wq",  in->wq,  2, { A, D }, add },
        { "wk",  in->wk,  2, { A, D }, add },
        { "va",  in->va,  1, { A }, add },
        { "wg",  in->wg,  2, { D, D }, p->score == ATTN_SCORE_GENERAL },
        { "attention", in->out, 4, { B, H, Lq, Dv }, mha },
        { "out", y->out,  3, { B, Lq, dm }, mha },
        { "x",   y->x,    3, { B, Lq, dm }, mha },
        { "m",   y->m,    3, { B, Lk, dm }, mha },
        { "w_q", y->wq,   2, { dm, H * D }, mha },
        { "b_q", y->bq,   1, { H * D }, mha },
        { "w_k", y->wk,   2, { dm, Hkv * D }, mha },
        { "b_k", y->bk,   1, { Hkv * D }, mha },
        { "w_v", y->wv,   2, { dm, Hkv * Dv }, mha },
        { "b_v", y->bv,   1, { Hkv * Dv }, mha },
        { "w_o", y->wo,   2, { H * Dv, dm }, mha },
        { "b_o", y->bo,   1, { dm }, mha },
    };
    const int n_t = (int)(sizeof t / sizeof t[0]);

    cJSON *doc = case_doc(c, in);
    cJSON *files = cJSON_AddObjectToObject(doc, "files");
    int rc = 0;
    for (int i = 0; i < n_t && rc == 0; i++) {
        if (!t[i].when || (!with_out && !strcmp(t[i].name, "out"))) continue;
        if (!t[i].data) {
            fprintf(stderr, "attnbench: dump %s: no %s tensor\n", c->id, t[i].name);
            rc = -1;
            break;
        }
        snprintf(path, sizeof path, "%s/%s.npy", cdir, t[i].name);
        rc = attn_npy_write(path, t[i].data, t[i].ndim, t[i].shape);
        cJSON *f = cJSON_AddObjectToObject(files, t[i].name);
        snprintf(path, sizeof path, "%s.npy", t[i].name);
        cJSON_AddStringToObject(f, "file", path);
        cJSON_AddItemToObject(f, "shape", shape_json(t[i].ndim, t[i].shape));
    }
    if (rc == 0) {
        char *s = cJSON_Print(doc);
        snprintf(path, sizeof path, "%s/case.json", cdir);
        if (!s || attn_write_file_atomic(path, s, strlen(s)) != 0) {
            fprintf(stderr, "attnbench: %s: cannot write: %s\n", path, strerror(errno));
            rc = -1;
        }
        free(s);
    }
    cJSON_Delete(doc);
    return rc;
}

int attn_dump_case(const char *dir, const attn_case *c, const attn_inputs *in)
{
    char cdir[4096 + ATTN_ID_MAX];
    if (snprintf(cdir, sizeof cdir, "%s/%s", dir, c->id) >= (int)sizeof cdir) {
        fprintf(stderr, "attnbench: dump directory name too long: %s/%s\n", dir, c->id);
        return -1;
    }
    if (make_dir(dir) != 0 || make_dir(cdir) != 0) return -1;
    return dump_into(cdir, c, in, 1);
}

int attn_dump_inputs(const char *dir, const attn_case *c, const attn_inputs *in)
{
    return dump_into(dir, c, in, 0);
}
