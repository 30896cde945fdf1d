/* registry.c: the ONE list of kernels, what a problem needs, and the run-time CPU check.
 *
 * Adding a kernel (every step: README.md "Adding a kernel", docs/kernels.md): write
 * kernels/<name>.c defining `const attn_kernel attn_kernel_<name>`, then add X(<name>) to
 * PORTABLE_KERNELS, or to X86_KERNELS for a file with a build suffix (those are compiled
 * only on x86-64). Tests, `list`, sweeps and plots read this table.
 *
 * A kernel runs when the CPU has every feature of its `requires` mask (features.c detects
 * them), ATTN_ISA does not cap them away, and the build has it (`unavailable` is NULL).
 * The table's copy of each descriptor gets its ISA class derived from `requires`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "attn.h"

#if defined(__x86_64__) || defined(__i386__)
#define ATTN_X86 1
#else
#define ATTN_X86 0
#endif

/* ------------------------------------------------------------- the table -- */

#define PORTABLE_KERNELS(X) X(naive) X(blocked) X(omp) X(flash) X(window) X(decode) X(blas)

#if defined(__x86_64__)
#define X86_KERNELS(X) X(simd_avx2) X(simd_avx512) X(flash_avx2) X(flash_avx512) \
                       X(window_avx512) X(additive_avx512) X(decode_avx2) X(flash_f16) \
                       X(flash_bf16)
#else
#define X86_KERNELS(X)          /* ISA-suffixed files are not compiled here */
#endif

#define ALL_KERNELS(X) PORTABLE_KERNELS(X) X86_KERNELS(X)

#define DECLARE(name) extern const attn_kernel attn_kernel_##name;
ALL_KERNELS(DECLARE)
#undef DECLARE

/* The descriptors live in other translation units, so they are not constant expressions
 * here: the table holds their addresses, and attn_kernels() hands out a contiguous copy. */
#define ADDRESS(name) &attn_kernel_##name,
static const attn_kernel *const sources[] = { ALL_KERNELS(ADDRESS) };
#undef ADDRESS
#define N_KERNELS ((int)(sizeof sources / sizeof sources[0]))

static attn_kernel table[N_KERNELS];
static int table_filled;

static void fill_table(void)
{
    if (table_filled) return;
    for (int i = 0; i < N_KERNELS; i++) {
        table[i] = *sources[i];
        table[i].isa = table[i].library_isa ? attn_isa_available()      /* e.g. blas */
                                            : attn_isa_of(table[i].requires); /* derived */
    }
    table_filled = 1;
}

/* Fill before main() so that later calls from threads only ever read. */
__attribute__((constructor)) static void fill_table_early(void) { fill_table(); }

const attn_kernel *attn_kernels(int *count)
{
    fill_table();
    if (count) *count = N_KERNELS;
    return table;
}

const attn_kernel *attn_kernel_find(const char *name)
{
    fill_table();
    if (!name) return NULL;
    for (int i = 0; i < N_KERNELS; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

/* ---------------------------------------------------------- capabilities -- */

unsigned attn_problem_needs(const attn_problem *p, int threads)
{
    unsigned n = p->score == ATTN_SCORE_ADDITIVE ? ATTN_CAP_ADDITIVE
               : p->score == ATTN_SCORE_GENERAL ? ATTN_CAP_GENERAL : ATTN_CAP_DOT;
    if (p->causal) n |= ATTN_CAP_CAUSAL;
    if (p->kv_len) n |= ATTN_CAP_PADDING;
    if (p->Lq != p->Lk) n |= ATTN_CAP_CROSS;
    if (p->Hkv < p->H) n |= ATTN_CAP_GQA;
    if (p->Dv != p->D) n |= ATTN_CAP_VDIM;
    if (p->window_left >= 0 || p->window_right >= 0) n |= ATTN_CAP_WINDOW;
    if (p->n_globals > 0) n |= ATTN_CAP_GLOBALS;
    if (threads > 1) n |= ATTN_CAP_THREADS;
    return n;
}

const char *attn_cap_name(unsigned cap)
{
    static const char *const names[ATTN_CAP_COUNT] = {
        "dot", "additive", "causal", "padding", "cross", "gqa", "vdim", "window", "globals", "threads",
        "general",
    };
    for (int i = 0; i < ATTN_CAP_COUNT; i++)
        if (cap == 1u << i) return names[i];
    return "?";
}

int attn_problem_check(const attn_problem *p, unsigned caps, int threads)
{
    if (p->B < 1 || p->H < 1 || p->Hkv < 1 || p->Lq < 1 || p->Lk < 1 || p->D < 1 || p->Dv < 1)
        return ATTN_ERR_INVALID;
    if (p->Hkv > p->H || p->H % p->Hkv != 0 || threads < 1) return ATTN_ERR_INVALID;
    if (p->kv_len)
        for (int b = 0; b < p->B; b++)
            if (p->kv_len[b] < 0 || p->kv_len[b] > p->Lk) return ATTN_ERR_INVALID;
    if (p->n_globals < 0 || p->n_globals > p->Lk) return ATTN_ERR_INVALID;
    if (p->n_globals > 0 && !p->key_is_global) return ATTN_ERR_INVALID;
    if (p->score == ATTN_SCORE_ADDITIVE && (p->A < 1 || !p->wq || !p->wk || !p->va))
        return ATTN_ERR_INVALID;
    if (p->score == ATTN_SCORE_GENERAL && !p->wg) return ATTN_ERR_INVALID;
    if (p->score != ATTN_SCORE_DOT && p->score != ATTN_SCORE_ADDITIVE &&
        p->score != ATTN_SCORE_GENERAL) return ATTN_ERR_INVALID;
    if (attn_problem_needs(p, threads) & ~caps) return ATTN_ERR_UNSUPPORTED;
    return ATTN_OK;
}

/* ------------------------------------------------------------------- ISA -- */

static const char *const isa_names[ATTN_ISA_COUNT] = { "portable", "avx2", "avx512" };

const char *attn_isa_name(attn_isa isa)
{
    return (unsigned)isa < ATTN_ISA_COUNT ? isa_names[isa] : "?";
}

int attn_isa_parse(const char *s, attn_isa *out)
{
    static const struct { const char *name; attn_isa isa; } aliases[] = {
        { "portable", ATTN_ISA_PORTABLE }, { "scalar", ATTN_ISA_PORTABLE },
        { "sse2", ATTN_ISA_PORTABLE },     { "avx2", ATTN_ISA_AVX2 },
        { "avx512", ATTN_ISA_AVX512 },     { "avx512f", ATTN_ISA_AVX512 },
    };
    if (!s) return -1;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(s, aliases[i].name) == 0) { *out = aliases[i].isa; return 0; }
    return -1;
}

#define FEAT_VEC256 (ATTN_FEAT_AVX | ATTN_FEAT_AVX2 | ATTN_FEAT_FMA | ATTN_FEAT_F16C)
#define FEAT_VEC512 (ATTN_FEAT_AVX512F | ATTN_FEAT_AVX512BW | ATTN_FEAT_AVX512VL |      \
                     ATTN_FEAT_AVX512DQ | ATTN_FEAT_AVX512_BF16 | ATTN_FEAT_AVX512_FP16)
#define FEAT_AMX    (ATTN_FEAT_AMX_TILE | ATTN_FEAT_AMX_BF16 | ATTN_FEAT_AMX_INT8)

attn_isa attn_isa_of(attn_features requires)
{
    if (requires & (FEAT_VEC512 | FEAT_AMX)) return ATTN_ISA_AVX512;
    if (requires & FEAT_VEC256) return ATTN_ISA_AVX2;
    return ATTN_ISA_PORTABLE;
}

attn_features attn_isa_allows(attn_isa isa)
{
    switch (isa) {
    case ATTN_ISA_PORTABLE: return 0;
    case ATTN_ISA_AVX2:     return FEAT_VEC256;
    case ATTN_ISA_AVX512:   return FEAT_VEC256 | FEAT_VEC512;
    }
    return 0;
}

/* The ATTN_ISA cap (read every time, so tests can change it): the features it allows,
 * every feature when unset. An unrecognised value caps at portable: the safe reading of
 * a typo. *isa is the class named (ATTN_ISA_COUNT when unset). */
static attn_features isa_cap(attn_isa *isa, int *unparsable)
{
    const char *s = getenv("ATTN_ISA");
    *unparsable = 0;
    *isa = (attn_isa)ATTN_ISA_COUNT;
    if (!s || !*s) return ~0u;
    if (attn_isa_parse(s, isa) != 0) {
        *unparsable = 1;
        *isa = ATTN_ISA_PORTABLE;
    }
    return attn_isa_allows(*isa);
}

/* The classes' own requirements: what today's *_avx2.c / *_avx512.c files compile for. */
static attn_features class_requires(attn_isa isa)
{
    return isa == ATTN_ISA_AVX512 ? ATTN_REQ_AVX512 : isa == ATTN_ISA_AVX2 ? ATTN_REQ_AVX2 : 0;
}

attn_isa attn_isa_available(void)
{
    attn_isa named;
    int bad;
    const attn_features have = attn_cpu_features() & isa_cap(&named, &bad);
    attn_isa best = ATTN_ISA_PORTABLE;
    for (int i = 1; i < ATTN_ISA_COUNT; i++)
        if ((class_requires((attn_isa)i) & ~have) == 0) best = (attn_isa)i;
    return best;
}

int attn_kernel_usable(const attn_kernel *k, const char **why)
{
    static _Thread_local char msg[160];
    const char *reason = NULL;
    const attn_features lacks = k->requires & ~attn_cpu_features();
    attn_isa named;
    int bad;
    const attn_features cap = isa_cap(&named, &bad);
    if (k->unavailable) {
        reason = k->unavailable;
    } else if (!ATTN_X86 && k->requires) {
        reason = "not built for this architecture";
    } else if (lacks & ~attn_cpu_features_without_os_state()) {
        char names[128];
        attn_features_string(lacks & ~attn_cpu_features_without_os_state(), names, sizeof names);
        snprintf(msg, sizeof msg, "cpu lacks %s", names);
        reason = msg;
    } else if (lacks) {
        char names[128];
        snprintf(msg, sizeof msg, "os does not enable the register state of %s (xgetbv)",
                 attn_features_string(lacks, names, sizeof names));
        reason = msg;
    } else if (k->requires & ~cap) {
        static const char *const capped[ATTN_ISA_COUNT] = {
            "capped by ATTN_ISA=portable", "capped by ATTN_ISA=avx2", "capped by ATTN_ISA=avx512",
        };
        reason = bad ? "capped by ATTN_ISA (unrecognised value, read as portable)" : capped[named];
    }
    if (why) *why = reason ? reason : "";
    return reason == NULL;
}

/* ------------------------------------------------------------ tolerance -- */

attn_tol attn_kernel_tol(const attn_kernel *k, attn_dtype t)
{
    return (unsigned)t < ATTN_DTYPE_COUNT ? k->tol[t] : (attn_tol){ 0, 0 };
}

/* ------------------------------------------------------------- tunables -- */

const char *const attn_tune_names[ATTN_TUNE_COUNT] = { "tile_q", "tile_k" };

void attn_tune_defaults(const attn_kernel *k, const attn_problem *p, attn_caches c,
                        int out[ATTN_TUNE_COUNT])
{
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) out[t] = 0;
    const attn_tile_rule r = k->tile_rule;
    const attn_tune_range rq = k->tune[ATTN_TUNE_TILE_Q], rk = k->tune[ATTN_TUNE_TILE_K];
    if (r.score_l1_div > 0 && rk.step > 0) {        /* the rule of attn.h */
        const long l1 = c.l1d > 0 ? c.l1d : 32768, l2 = c.l2 > 0 ? c.l2 : 262144;
        const long share = l1 / r.score_l1_div / 4, half2 = l2 / 2 / 4;     /* floats */
        /* a kernel whose tile_q is fixed (not tunable) states it as max_q */
        const long qmin = rq.step > 0 ? (rq.min > 0 ? rq.min : 1) : r.max_q;
        const long kmin = rk.min > 0 ? rk.min : 1;
        long q = qmin, kt;
        while (rq.step > 0 && q * 2 <= r.max_q && (q * 2) * (q * 2) <= share) q *= 2;
        kt = share / q / rk.step * rk.step;
        kt = kt > 256 ? 256 : kt < kmin ? kmin : kt;
        while ((long)p->D * q + q * (long)p->Dv + kt * ((long)p->D + p->Dv) > half2 &&
               (kt > kmin || q > qmin)) {
            if (kt > kmin && (kt >= q || q <= qmin)) kt = kt / 2 / rk.step * rk.step > kmin ? kt / 2 / rk.step * rk.step : kmin;
            else q /= 2;
        }
        out[ATTN_TUNE_TILE_Q] = (int)(q < qmin ? qmin : q);
        out[ATTN_TUNE_TILE_K] = (int)kt;
    }
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) {
        const attn_tune_range r = k->tune[t];
        if (r.step <= 0) { out[t] = 0; continue; }
        int v = out[t] / r.step * r.step;           /* down to a step, then into range */
        out[t] = v < r.min ? r.min : v > r.max ? r.max : v;
    }
}
