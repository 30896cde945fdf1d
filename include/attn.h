/* attn.h: the public contract of attnbench.
 *
 * Everything a kernel needs to know and everything the harness may ask of a kernel:
 * the problem description, the mask semantics every kernel applies identically, the
 * kernel descriptor, and the registry (the ONE list of kernels, kernels/registry.c).
 * No intrinsics here: this header is included by code compiled for baseline x86-64.
 *
 * Tensors are fp32 (q, k, v also in 16-bit storage for bf16/f16 problems: attn_problem's
 * dtype, q16, k16, v16), row-major, 64-byte aligned, allocated by the harness:
 *   q   is (B, H,   Lq, D)      query
 *   k   is (B, Hkv, Lk, D)      key
 *   v   is (B, Hkv, Lk, Dv)     value
 *   out is (B, H,   Lq, Dv)     output
 * Query head h reads key/value head h / (H / Hkv)  (MHA: Hkv == H, GQA: 1 < Hkv < H, MQA: Hkv == 1).
 *
 * Which keys a query row sees (the same rule in every kernel; see attn_allowed()):
 *   a = i + (Lk - Lq) is query i's ALIGNED position ("bottom_right" causal alignment:
 *   the last query lines up with the last key, so a decode step Lq = 1 sees every key).
 *   Key j is visible to query i of batch item b iff
 *       j < kv_len[b]                                   (key padding; hard mask)
 *   and (!causal || j <= a)                             (causal; hard mask)
 *   and ( (wl < 0 || j >= a - wl) && (wr < 0 || j <= a + wr)     (local window)
 *         || key_is_global[j]                                    (every query sees globals)
 *         || (0 <= a < Lk && key_is_global[a]) )                 (global queries see all)
 * A row with no visible key outputs zeros, never NaN.
 *
 * Scores: dot:      s = scale * q.k                       (scale defaults to 1/sqrt(D))
 *         additive: s = va . tanh(Wq q + Wk k)            (Bahdanau; scale NOT applied)
 *                   Wq, Wk are (A, D), va is (A); shared by all heads.
 *         general:  s = q^T W k = (W^T q) . k              (Luong; scale NOT applied)
 *                   W is (D, D), shared by all heads; needs D == D of k (always).
 * out_i = sum_j softmax_j(s_ij) v_j over the visible keys j.
 */
#ifndef ATTN_H
#define ATTN_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- problem -- */

typedef enum { ATTN_SCORE_DOT = 0, ATTN_SCORE_ADDITIVE = 1, ATTN_SCORE_GENERAL = 2 } attn_score;

/* Storage type of q, k and v (out is always fp32): fp32, bfloat16 (8 exponent bits, 8
 * significand bits), IEEE binary16 (5 exponent bits, 11 significand bits). A kernel
 * declares the mask of dtypes it accepts and a validation tolerance for each. */
typedef enum { ATTN_F32 = 0, ATTN_BF16 = 1, ATTN_F16 = 2, ATTN_DTYPE_COUNT } attn_dtype;
#define ATTN_DTYPE_BIT(t) (1u << (t))
#define ATTN_DTYPES_ALL ((1u << ATTN_DTYPE_COUNT) - 1u)

/* Bytes of one stored element of q, k or v in dtype t (4 for f32, 2 for bf16 and f16;
 * 0 for an unknown value): what traffic counts at storage width use. */
static inline size_t attn_dtype_size(attn_dtype t)
{
    return t == ATTN_F32 ? 4 : (t == ATTN_BF16 || t == ATTN_F16) ? 2 : 0;
}

typedef struct attn_problem {
    int B, H, Hkv;          /* batch, query heads, key/value heads (H % Hkv == 0) */
    int Lq, Lk;             /* query and key lengths (cross-attention when they differ) */
    int D, Dv;              /* q/k head dim, v/out head dim */
    float scale;            /* dot-score scale, normally 1/sqrt(D) */

    int causal;             /* 1: causal mask, bottom-right aligned (see above) */
    const int *kv_len;      /* (B) valid keys per batch item, or NULL: all Lk valid */

    int window_left;        /* local window extents around the aligned position; */
    int window_right;       /* -1 = unbounded on that side (both -1: full attention) */
    int n_globals;          /* Longformer global tokens */
    const int *global_pos;  /* (n_globals) sorted key positions, or NULL */
    const uint8_t *key_is_global; /* (Lk) 1 where the key position is global, or NULL */

    attn_score score;
    int A;                  /* additive hidden size */
    const float *wq;        /* (A, D) additive query projection, or NULL */
    const float *wk;        /* (A, D) additive key projection, or NULL */
    const float *va;        /* (A)    additive output vector, or NULL */
    const float *wg;        /* (D, D) general (Luong) score matrix, or NULL */

    /* Storage precision of q, k, v. The float arrays run() gets always hold the values
     * exactly (for bf16/f16: the 16-bit values widened), so an fp32 kernel computes the
     * same attention from them; a kernel that reads the storage width reads q16, k16, v16:
     * the same shapes as q, k, v, 64-byte aligned, bf16 or binary16 bits (NULL for f32). */
    attn_dtype dtype;
    const uint16_t *q16, *k16, *v16;

    /* Tunables (see "tunables" below): tune[ATTN_TUNE_TILE_Q] query-tile rows and
     * tune[ATTN_TUNE_TILE_K] key-tile keys, as the harness resolved them (config, wisdom,
     * or the kernel's default from the cache sizes); 0 = the kernel's built-in value.
     * workspace_bytes and run read the same values. */
    int tune[2];
} attn_problem;

/* Number of valid keys of batch item b. */
static inline int attn_kv_valid(const attn_problem *p, int b)
{
    return p->kv_len ? p->kv_len[b] : p->Lk;
}

/* Is query position a (aligned) a global token? */
static inline int attn_query_is_global(const attn_problem *p, int a)
{
    return p->n_globals > 0 && a >= 0 && a < p->Lk && p->key_is_global[a];
}

/* The contiguous band [*lo, *hi) of keys query i of batch b sees when global tokens are
 * ignored: padding, causal and window applied. *lo >= *hi means the band is empty.
 * Kernels that tile over keys use this to skip whole tiles. */
static inline void attn_band(const attn_problem *p, int b, int i, int *lo, int *hi)
{
    long a = (long)i + p->Lk - p->Lq;
    long l = 0, h = attn_kv_valid(p, b);
    if (p->causal && a + 1 < h) h = a + 1;
    if (p->window_right >= 0 && a + p->window_right + 1 < h) h = a + p->window_right + 1;
    if (p->window_left >= 0 && a - p->window_left > l) l = a - p->window_left;
    if (h < l) h = l;
    *lo = (int)l;
    *hi = (int)h;
}

/* May query i of batch item b see key j?  The one definition of the mask. */
static inline int attn_allowed(const attn_problem *p, int b, int i, int j)
{
    long a = (long)i + p->Lk - p->Lq;
    if (j >= attn_kv_valid(p, b)) return 0;
    if (p->causal && j > a) return 0;
    int in_window = (p->window_left < 0 || j >= a - p->window_left) &&
                    (p->window_right < 0 || j <= a + p->window_right);
    if (in_window) return 1;
    if (p->n_globals > 0 && (p->key_is_global[j] || attn_query_is_global(p, (int)a))) return 1;
    return 0;
}

/* ------------------------------------------------------------ capabilities -- */

/* What a problem needs and what a kernel declares. A kernel runs a problem only when
 * (attn_problem_needs(p) & ~kernel->caps) == 0; otherwise the case is skipped. */
enum {
    ATTN_CAP_DOT      = 1u << 0,  /* dot-product score */
    ATTN_CAP_ADDITIVE = 1u << 1,  /* additive (Bahdanau) score */
    ATTN_CAP_CAUSAL   = 1u << 2,
    ATTN_CAP_PADDING  = 1u << 3,  /* key-padding lengths per batch item */
    ATTN_CAP_CROSS    = 1u << 4,  /* Lq != Lk */
    ATTN_CAP_GQA      = 1u << 5,  /* Hkv < H */
    ATTN_CAP_VDIM     = 1u << 6,  /* Dv != D */
    ATTN_CAP_WINDOW   = 1u << 7,  /* local window */
    ATTN_CAP_GLOBALS  = 1u << 8,  /* global tokens */
    ATTN_CAP_THREADS  = 1u << 9,  /* uses threads > 1 */
    ATTN_CAP_GENERAL  = 1u << 10, /* general (Luong) score q^T W k */
};
#define ATTN_CAP_COUNT 11

/* Capability bits a problem run with `threads` threads requires. */
unsigned attn_problem_needs(const attn_problem *p, int threads);
/* Name of one capability bit ("causal", "padding", ...). */
const char *attn_cap_name(unsigned cap);
/* What every kernel's run() checks first: ATTN_ERR_INVALID for an inconsistent problem
 * (sizes < 1, H % Hkv != 0, kv_len outside [0, Lk], missing global, additive or general tables,
 * threads < 1), ATTN_ERR_UNSUPPORTED when it needs a bit outside caps, else ATTN_OK. */
int attn_problem_check(const attn_problem *p, unsigned caps, int threads);

/* ----------------------------------------------------------- CPU features -- */

/* What a kernel requires of the CPU: a mask of features, detected once at start-up by
 * cpuid and xgetbv (kernels/features.c holds the one table: name, cpuid leaf, subleaf,
 * register and bit, and the XCR0 state the OS must enable). A feature the CPU has but
 * whose register state the OS does not save counts as missing. Detection does not ask
 * Linux for AMX tile permission (arch_prctl ARCH_REQ_XCOMP_PERM): an AMX kernel does. */
typedef enum {
    ATTN_FEAT_I_AVX, ATTN_FEAT_I_AVX2, ATTN_FEAT_I_FMA, ATTN_FEAT_I_F16C,
    ATTN_FEAT_I_AVX512F, ATTN_FEAT_I_AVX512BW, ATTN_FEAT_I_AVX512VL, ATTN_FEAT_I_AVX512DQ,
    ATTN_FEAT_I_AVX512_BF16, ATTN_FEAT_I_AVX512_FP16,
    ATTN_FEAT_I_AMX_TILE, ATTN_FEAT_I_AMX_BF16, ATTN_FEAT_I_AMX_INT8,
    ATTN_FEAT_COUNT
} attn_feature_index;

#define ATTN_FEAT_AVX         (1u << ATTN_FEAT_I_AVX)
#define ATTN_FEAT_AVX2        (1u << ATTN_FEAT_I_AVX2)
#define ATTN_FEAT_FMA         (1u << ATTN_FEAT_I_FMA)
#define ATTN_FEAT_F16C        (1u << ATTN_FEAT_I_F16C)
#define ATTN_FEAT_AVX512F     (1u << ATTN_FEAT_I_AVX512F)
#define ATTN_FEAT_AVX512BW    (1u << ATTN_FEAT_I_AVX512BW)
#define ATTN_FEAT_AVX512VL    (1u << ATTN_FEAT_I_AVX512VL)
#define ATTN_FEAT_AVX512DQ    (1u << ATTN_FEAT_I_AVX512DQ)
#define ATTN_FEAT_AVX512_BF16 (1u << ATTN_FEAT_I_AVX512_BF16)
#define ATTN_FEAT_AVX512_FP16 (1u << ATTN_FEAT_I_AVX512_FP16)
#define ATTN_FEAT_AMX_TILE    (1u << ATTN_FEAT_I_AMX_TILE)
#define ATTN_FEAT_AMX_BF16    (1u << ATTN_FEAT_I_AMX_BF16)
#define ATTN_FEAT_AMX_INT8    (1u << ATTN_FEAT_I_AMX_INT8)

/* What the two build suffixes of today compile for (Makefile FLAGS_avx2, FLAGS_avx512):
 * a kernel file *_avx2.c requires ATTN_REQ_AVX2, *_avx512.c ATTN_REQ_AVX512. */
#define ATTN_REQ_AVX2   (ATTN_FEAT_AVX | ATTN_FEAT_AVX2 | ATTN_FEAT_FMA)
#define ATTN_REQ_AVX512 (ATTN_REQ_AVX2 | ATTN_FEAT_AVX512F | ATTN_FEAT_AVX512BW | \
                         ATTN_FEAT_AVX512VL | ATTN_FEAT_AVX512DQ)

typedef unsigned attn_features;

/* Name of one feature bit ("avx512f", "amx_bf16"); "?" for anything else. */
const char *attn_feature_name(unsigned feature);
/* The feature bit named s (case-insensitive), 0 for an unknown name. */
unsigned attn_feature_parse(const char *s);
/* Comma-separated names of the bits of mask, "avx512f, avx512bw"; returns buf. */
char *attn_features_string(attn_features mask, char *buf, size_t n);
/* What this CPU and OS offer (detected once), not capped by ATTN_ISA. */
attn_features attn_cpu_features(void);
/* Features cpuid reports but whose register state the OS does not enable (XCR0). */
attn_features attn_cpu_features_without_os_state(void);

/* ---------------------------------------------------------------- precision -- */

/* Validation passes where |out - ref| <= atol + rtol * |ref| for every element. */
typedef struct { double atol, rtol; } attn_tol;

/* The dtype names, as configs, ids and results spell them: "f32", "bf16", "f16". */
extern const char *const attn_dtype_names[ATTN_DTYPE_COUNT];
const char *attn_dtype_name(attn_dtype t);          /* one of those; "?" for others */

/* Round-to-nearest-even conversions between fp32 and the 16-bit storage types, portable
 * C (kernels/dtype.c). NaN stays NaN (made quiet, sign and top payload bits kept), +-inf
 * stays inf, a finite value past the largest finite 16-bit value rounds to inf (f16: from
 * 65520 on), subnormals are kept, not flushed. Widening is exact (an f16 NaN widens quiet,
 * as F16C's vcvtph2ps does; a bf16 widens by a shift, bits kept). */
uint16_t attn_f32_to_bf16(float x);
float attn_bf16_to_f32(uint16_t h);
uint16_t attn_f32_to_f16(float x);                  /* IEEE 754 binary16 */
float attn_f16_to_f32(uint16_t h);
/* x[0, n) = the values h[0, n) stored in dtype t (bf16 or f16) widened, as above. */
void attn_widen16(attn_dtype t, const uint16_t *h, size_t n, float *x);

/* ---------------------------------------------------------------- tunables -- */

/* A tunable is a kernel parameter that changes speed, never the result beyond the
 * declared tolerance: today the query-tile rows and the key-tile keys of the tiled
 * kernels. A kernel declares for each the values it allows (min..max in steps of step;
 * step 0: not tunable) and a rule deriving its default from the cache sizes; the harness
 * picks the values (config, wisdom, else that default) and passes them in
 * attn_problem.tune. Kernels never read the machine themselves. */
typedef enum { ATTN_TUNE_TILE_Q = 0, ATTN_TUNE_TILE_K = 1, ATTN_TUNE_COUNT } attn_tune_id;
_Static_assert(ATTN_TUNE_COUNT == sizeof(((attn_problem *)0)->tune) / sizeof(int),
               "attn_problem.tune holds one value per tunable");

typedef struct { int min, max, step; } attn_tune_range;

/* Cache sizes in bytes per core (0: unknown) that default rules derive tiles from. */
typedef struct { long l1d, l2; } attn_caches;

/* The default rule of the tiles, one rule for every tiled kernel with its own constants;
 * computed by attn_tune_defaults (registry.c: portable code, so the harness may ask about
 * a kernel this CPU cannot run), per core:
 *   L1d: the score tile (tile_k x tile_q floats) is written, read and rewritten, and read
 *        again between two key tiles: it should stay in L1, in L1d / score_l1_div (2: the
 *        other half for the K, V and accumulator lines streaming through).
 *        tile_q = the largest power of two from tune[TILE_Q].min up to max_q whose
 *        square tile fits that share (a kernel whose tile_q is not tunable: max_q, its
 *        fixed query tile); tile_k = the rest of the share, share / (4 tile_q),
 *        down to a multiple of tune[TILE_K].step, at most 256: a square tile, widened in
 *        keys where L1 allows it.
 *   L2:  the query tile (D x tile_q), the accumulator (tile_q x Dv) and the K and V rows
 *        of a key tile (tile_k x (D + Dv)) in half of L2; while they do not fit, the
 *        larger tile is halved (down to the smallest allowed).
 *   Unknown sizes (0) read as L1d 32 KiB, L2 256 KiB.
 * 32 KiB L1d gives 64 x 64 (max_q >= 64, div 2), 48 KiB (Sapphire Rapids) 64 x 96. */
typedef struct { int score_l1_div, max_q; } attn_tile_rule;

/* The tunable names as configs, results and wisdom spell them: "tile_q", "tile_k". */
extern const char *const attn_tune_names[ATTN_TUNE_COUNT];

/* ----------------------------------------------------------------- kernels -- */

/* The ISA class of a kernel: the widest vector ISA it uses. Results record it per case
 * ("isa") and % of peak divides by the measured peak of that class. The registry derives
 * it from `requires` (attn_isa_of); ATTN_ISA caps a run by class. */
typedef enum { ATTN_ISA_PORTABLE = 0, ATTN_ISA_AVX2 = 1, ATTN_ISA_AVX512 = 2 } attn_isa;
#define ATTN_ISA_COUNT 3

typedef enum {
    ATTN_OK = 0,
    ATTN_ERR_UNSUPPORTED = 1,   /* asked for something outside the declared capabilities */
    ATTN_ERR_INVALID = 2,       /* inconsistent problem (H % Hkv != 0, ...) */
} attn_status;

typedef struct attn_kernel {
    const char *name;           /* unique, also the file name stem: kernels/<name>.c */
    const char *desc;           /* one line */
    attn_features requires;     /* ATTN_FEAT_* bits the CPU must have (0: portable C) */
    attn_isa isa;               /* derived by the registry from requires; leave it out */
    int library_isa;            /* 1: a library that picks its instructions at run time
                                   (OpenBLAS) does the work: isa is then the best class
                                   this CPU has, so pct_peak is against that peak */
    unsigned caps;              /* ATTN_CAP_* bits */
    unsigned dtypes;            /* ATTN_DTYPE_BIT(t) of every input dtype it accepts */
    attn_tol tol[ATTN_DTYPE_COUNT]; /* validation tolerance per accepted dtype, derived in
                                   a comment in the kernel's file from what it rounds */
    /* Scratch memory the kernel needs for this problem and thread count. The harness
     * allocates it (64-byte aligned, uninitialised) and passes it to run(). */
    size_t (*workspace_bytes)(const attn_problem *p, int threads);
    /* Compute out. Never allocates, prints or exits. Thread-count aware kernels use
     * exactly `threads` threads; others are only called with threads == 1. */
    attn_status (*run)(const attn_problem *p,
                       const float *q, const float *k, const float *v, float *out,
                       void *workspace, int threads);
    /* Non-NULL when this build cannot run the kernel at all (e.g. built without the
     * library it wraps): the reason, reported first by attn_kernel_usable(). */
    const char *unavailable;
    /* Tunables: the values each accepts ({0}: not tunable), and the constants of the
     * default rule of its tiles (attn_tile_rule; {0} without tunables). The opening
     * comment of the kernel's file says why. */
    attn_tune_range tune[ATTN_TUNE_COUNT];
    attn_tile_rule tile_rule;
} attn_kernel;

/* --------------------------------------------------------------- registry -- */

const attn_kernel *attn_kernels(int *count);      /* the table, in listing order */
const attn_kernel *attn_kernel_find(const char *name);
const char *attn_isa_name(attn_isa isa);           /* "portable", "avx2", "avx512" */
int attn_isa_parse(const char *s, attn_isa *out);  /* 0 on success */
/* The ISA class of a feature mask: avx512 if it needs any AVX-512 or AMX feature, avx2 if
 * any other vector feature, else portable. */
attn_isa attn_isa_of(attn_features requires);
/* The features an ATTN_ISA class allows (the cap): portable none, avx2 AVX, AVX2, FMA,
 * F16C, avx512 those and every AVX-512 feature (not AMX). */
attn_features attn_isa_allows(attn_isa isa);
/* Highest ISA class this CPU supports, capped by the ATTN_ISA environment variable. */
attn_isa attn_isa_available(void);
/* 1 if the kernel can run here; otherwise 0 and *why says why: k->unavailable,
 * "not built for this architecture", "cpu lacks avx512f, avx512bw",
 * "os does not enable the register state of amx_tile (xgetbv)", "capped by ATTN_ISA=avx2".
 * *why stays valid until the calling thread's next call. */
int attn_kernel_usable(const attn_kernel *k, const char **why);
/* The tolerance validation uses for kernel k on dtype t (its declared one). */
attn_tol attn_kernel_tol(const attn_kernel *k, attn_dtype t);
/* Does kernel k accept inputs stored in dtype t? (The harness gives it no other.) */
static inline int attn_kernel_accepts(const attn_kernel *k, attn_dtype t)
{
    return (unsigned)t < ATTN_DTYPE_COUNT && (k->dtypes & ATTN_DTYPE_BIT(t)) != 0;
}

/* Does kernel k declare tunable t / allow value v for it? */
static inline int attn_kernel_tunable(const attn_kernel *k, attn_tune_id t)
{
    return (unsigned)t < ATTN_TUNE_COUNT && k->tune[t].step > 0;
}
static inline int attn_tune_allows(const attn_kernel *k, attn_tune_id t, int v)
{
    return attn_kernel_tunable(k, t) && v >= k->tune[t].min && v <= k->tune[t].max &&
           v % k->tune[t].step == 0;
}
/* The kernel's default tunables for problem p on caches c (registry.c): k->tile_rule's
 * tiles (above), each brought into the kernel's range; 0 for a tunable k does not have. */
void attn_tune_defaults(const attn_kernel *k, const attn_problem *p, attn_caches c,
                        int out[ATTN_TUNE_COUNT]);

/* -------------------------------------------------------------- reference -- */

/* The naive algorithm for selected query rows: for every (b, h) compute output rows
 * rows[0..n) into out_rows, which is (B, H, n, Dv). scratch must hold
 * attn_reference_scratch_bytes(p) bytes. This is what validation compares with when
 * the full naive kernel would be too big or too slow. */
size_t attn_reference_scratch_bytes(const attn_problem *p);
void attn_reference_rows(const attn_problem *p,
                         const float *q, const float *k, const float *v,
                         const int *rows, int n, float *out_rows, void *scratch);

#endif /* ATTN_H */
