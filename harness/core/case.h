/* case.h: one benchmark case, the unit a sweep expands into and a results file records.
 *
 * A case is a kernel plus every problem parameter plus the run settings of its sweep.
 * config.c makes them from INI files; inputs.c turns one into tensors; runner.c runs it.
 */
#ifndef ATTN_CASE_H
#define ATTN_CASE_H

#include <stdint.h>
#include "attn.h"

#define ATTN_ID_MAX 256

/* Where a case's tunables came from: none (the kernel has none, or not resolved yet),
 * the config, the wisdom file, the kernel's default for this machine's caches. */
typedef enum { TUNE_NONE = 0, TUNE_CONFIG, TUNE_WISDOM, TUNE_DEFAULT } attn_tune_source;

typedef enum { MASK_NONE = 0, MASK_CAUSAL = 1, MASK_PADDING = 2, MASK_CAUSAL_PADDING = 3 } attn_mask;

/* layer = attention: the kernel alone; mha: a multi-head attention layer around it
 * (projections by CBLAS sgemm, core/layer.c). */
typedef enum { ATTN_LAYER_ATTENTION = 0, ATTN_LAYER_MHA = 1 } attn_layer_kind;

typedef struct attn_case {
    char id[ATTN_ID_MAX];       /* unique, filesystem-safe; see attn_case_make_id() */
    char sweep[64];             /* section name (or its `name` key) */
    const attn_kernel *kernel;

    /* problem */
    int batch, heads, kv_heads, q_len, kv_len, head_dim, v_dim, threads;
    attn_mask mask;             /* bit 0 causal, bit 1 padding */
    double pad;                 /* padding: item b loses round(pad*(b+1)/batch*kv_len) keys */
    int window_left, window_right;  /* -1 = unbounded */
    int globals;                /* number of global tokens */
    attn_score score;
    int additive_dim;
    attn_dtype dtype;           /* storage type of q, k, v (out stays fp32) */
    int tile_q, tile_k;         /* tunables the config asks for (0: not set; attn.h) */

    /* the tunables used (attn_case_resolve_tunables, core/tunables.h): values (0 for a
     * tunable the kernel lacks) and where they came from */
    int tune_used[ATTN_TUNE_COUNT];
    attn_tune_source tune_from;
    attn_layer_kind layer;      /* attention (the kernel alone) or mha (the whole layer) */
    int d_model;                /* model width of the mha layer (default heads x head_dim) */

    /* run settings */
    double min_time;            /* seconds of timed runs at least (0: exactly reps) */
    int reps;                   /* timed runs at least */
    int rounds;                 /* timed in this many child processes, one per pass over the
                                   sweep, reps and min_time split between them (default 1) */
    double timeout;             /* seconds for the whole case (child killed after) */
    double atol, rtol;          /* validation tolerance */
    int omit_unsupported;       /* config `unsupported = omit`: such cases are not generated */
    uint64_t seed;              /* input seed; same shape => same inputs for every kernel */

    const char *file;           /* config file and line of the section header, for messages */
    int line;
    int index;                  /* position in the config's full expansion (shards keep it) */
} attn_case;

const char *attn_mask_name(attn_mask m);           /* "none", "causal", "padding", "causal_padding" */
int attn_mask_parse(const char *s, attn_mask *out); /* 0 on success */
#define ATTN_SCORE_COUNT 3
const char *attn_score_name(attn_score s);          /* "dot", "additive", "general" */
int attn_score_parse(const char *s, attn_score *out);

/* Fill c->id from the kernel and params: "<sweep>-<kernel>-b1-h8-kv8-q256-k256-d64-dv64-t1-none-..."
 * Two cases with the same id are the same measurement (used by --resume, compare, dumps). */
void attn_case_make_id(attn_case *c);

/* Capability bits (ATTN_CAP_*) a kernel needs to run this case. */
unsigned attn_case_needs(const attn_case *c);

/* Sizes a config may ask for. A case is refused when its byte counts do not fit size_t,
 * or when its inputs (q, k, v, out and the mask and additive tables), or the key
 * projections an additive score keeps (B, Hkv, A, Lk floats), need more than
 * attn_case_bytes_limit(): ATTN_CASE_MEM_FACTOR times this machine's physical memory,
 * and never more than 2^47 bytes (128 TiB, the user address space of x86-64 and arm64
 * with 4-level page tables). Cases under the limit but over the run's memory budget are
 * skipped at run time instead (with the bytes they need). With these limits, and threads
 * <= 65536 (core/params.def), every kernel's workspace and the runner's estimate fit in
 * 63 bits. */
#define ATTN_CASE_MEM_FACTOR 16
#define ATTN_CASE_BYTES_CAP ((size_t)1 << 47)
size_t attn_case_bytes_limit(void);
/* 0 when the case can be represented and held (bytes <= limit); else -1 with the reason
 * ("needs 16.0 TiB for its inputs, more than ...") in why. */
int attn_case_size_check(const attn_case *c, size_t limit, char *why, size_t n);

/* Exact number of (query, key) pairs attended over all batch items and heads, in closed
 * form: O(log B) per distinct padded length (at most min(B, Lk + 1); one without
 * padding). Never per row, per pair, per global token or per batch item. */
double attn_case_pairs(const attn_case *c);
/* FLOPs counted from attended pairs: dot 2*D + 2*Dv per pair; additive 3*A + 2*Dv per pair
 * plus 2*A*D per query row and per key row per (b, h) for the projections; general
 * 2*D + 2*Dv per pair plus 2*D*D per query row per (b, h). attn_case_flops adds, for
 * layer = mha, the layer's projections (attn_layer_proj_flops). */
double attn_case_flops(const attn_case *c);
double attn_case_attention_flops(const attn_case *c);

/* Bytes per element of q, k and v as stored: attn_dtype_size of the case's dtype (4 f32,
 * 2 bf16 and f16). out is always written as fp32. */
int attn_case_elem_bytes(const attn_case *c);
/* Compulsory memory traffic of the case, the roofline's byte count: q read once, k and v
 * of the keys some query row of the batch item can see read once per kv head (a key no
 * row sees is never needed), out written once (fp32), and for additive scores Wq, Wk and
 * va once (general: W). elem_bytes is the storage width of q, k, v (attn_case_elem_bytes).
 * An mha case adds the layer's own x, m, weights, biases and output (attn_layer_bytes).
 * Closed form like attn_case_pairs (the same cost), never per row, so the parent judges
 * a 2^30-token case at once. */
double attn_case_bytes(const attn_case *c, int elem_bytes);

#endif
