/* registry.c: the ONE list of kernels, what a problem needs, and the run-time CPU check.
 *
 * Adding a kernel: write kernels/<name>.c defining `const attn_kernel attn_kernel_<name>`,
 * then add X(<name>) to PORTABLE_KERNELS, or to X86_KERNELS for a file with an ISA suffix
 * (those are compiled only on x86-64). Tests, `list`, sweeps and plots read this table.
 *
 * This file is compiled without ISA flags, so it runs on any x86-64: the CPU features are
 * read with cpuid and xgetbv (inline assembly), never with intrinsics.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "attn.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define ATTN_X86 1
#else
#define ATTN_X86 0
#endif

/* ------------------------------------------------------------- the table -- */

#define PORTABLE_KERNELS(X) X(naive) X(blocked) X(omp) X(flash) X(window) X(decode) X(blas)

#if defined(__x86_64__)
#define X86_KERNELS(X) X(simd_avx2) X(simd_avx512) X(flash_avx2) X(flash_avx512) \
                       X(window_avx512) X(additive_avx512) X(decode_avx2)
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
    for (int i = 0; i < N_KERNELS; i++) table[i] = *sources[i];
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
    unsigned n = p->score == ATTN_SCORE_ADDITIVE ? ATTN_CAP_ADDITIVE : ATTN_CAP_DOT;
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
    if (p->score != ATTN_SCORE_DOT && p->score != ATTN_SCORE_ADDITIVE) return ATTN_ERR_INVALID;
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

/* What the CPU and the OS offer; read once. `missing` names the first absent feature
 * of each ISA level, for attn_kernel_usable()'s message. */
typedef struct {
    attn_isa best;
    const char *missing[ATTN_ISA_COUNT];
} cpu_features;

#if ATTN_X86
static unsigned long long read_xcr0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

static const cpu_features *cpu(void)
{
    static cpu_features f;
    static int done;
    if (done) return &f;
    f.best = ATTN_ISA_PORTABLE;
    f.missing[ATTN_ISA_PORTABLE] = NULL;
#if ATTN_X86
    unsigned a, b, c, d;
    unsigned ecx1 = 0, ebx7 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) ecx1 = c;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) ebx7 = b;
    int osxsave = (ecx1 >> 27) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    int os_ymm = (xcr0 & 0x6) == 0x6;           /* XMM and YMM state saved by the OS */
    int os_zmm = (xcr0 & 0xe6) == 0xe6;         /* plus opmask, ZMM_Hi256, Hi16_ZMM */

    const char *m2 = NULL;
    if (!((ecx1 >> 28) & 1)) m2 = "avx";
    else if (!((ebx7 >> 5) & 1)) m2 = "avx2";
    else if (!((ecx1 >> 12) & 1)) m2 = "fma";
    else if (!os_ymm) m2 = "os support for ymm state";
    f.missing[ATTN_ISA_AVX2] = m2;

    const char *m512 = m2;
    if (!m512) {
        if (!((ebx7 >> 16) & 1)) m512 = "avx512f";
        else if (!((ebx7 >> 30) & 1)) m512 = "avx512bw";
        else if (!((ebx7 >> 31) & 1)) m512 = "avx512vl";
        else if (!((ebx7 >> 17) & 1)) m512 = "avx512dq";
        else if (!os_zmm) m512 = "os support for zmm state";
    }
    f.missing[ATTN_ISA_AVX512] = m512;
    if (!m2) f.best = ATTN_ISA_AVX2;
    if (!m512) f.best = ATTN_ISA_AVX512;
#else
    f.missing[ATTN_ISA_AVX2] = f.missing[ATTN_ISA_AVX512] = "x86";
#endif
    done = 1;
    return &f;
}

/* The ATTN_ISA cap (read every time, so tests can change it); ATTN_ISA_COUNT when unset.
 * An unrecognised value caps at portable: the safe reading of a typo. */
static attn_isa isa_cap(int *unparsable)
{
    const char *s = getenv("ATTN_ISA");
    attn_isa cap;
    *unparsable = 0;
    if (!s || !*s) return (attn_isa)ATTN_ISA_COUNT;
    if (attn_isa_parse(s, &cap) != 0) { *unparsable = 1; return ATTN_ISA_PORTABLE; }
    return cap;
}

attn_isa attn_isa_available(void)
{
    int bad;
    attn_isa best = cpu()->best, cap = isa_cap(&bad);
    return cap < best ? cap : best;
}

int attn_kernel_usable(const attn_kernel *k, const char **why)
{
    const char *reason = NULL;
    if (k->unavailable) {
        reason = k->unavailable;            /* this build lacks what it needs (a library) */
    } else if ((unsigned)k->isa >= ATTN_ISA_COUNT) {
        reason = "unknown isa";
    } else if (!ATTN_X86 && k->isa != ATTN_ISA_PORTABLE) {
        reason = "not built for this architecture";
    } else if (cpu()->missing[k->isa]) {
        /* messages are static strings: one per feature we name */
        const char *m = cpu()->missing[k->isa];
        static const char *const msgs[][2] = {
            { "avx", "cpu lacks avx" }, { "avx2", "cpu lacks avx2" }, { "fma", "cpu lacks fma" },
            { "avx512f", "cpu lacks avx512f" }, { "avx512bw", "cpu lacks avx512bw" },
            { "avx512vl", "cpu lacks avx512vl" }, { "avx512dq", "cpu lacks avx512dq" },
            { "os support for ymm state", "os does not enable ymm state (xgetbv)" },
            { "os support for zmm state", "os does not enable zmm state (xgetbv)" },
        };
        reason = "cpu lacks a required feature";
        for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
            if (strcmp(m, msgs[i][0]) == 0) reason = msgs[i][1];
    } else {
        int bad;
        attn_isa cap = isa_cap(&bad);
        if (k->isa > cap) {
            static const char *const capped[ATTN_ISA_COUNT] = {
                "capped by ATTN_ISA=portable", "capped by ATTN_ISA=avx2", "capped by ATTN_ISA=avx512",
            };
            reason = bad ? "capped by ATTN_ISA (unrecognised value, read as portable)" : capped[cap];
        }
    }
    if (why) *why = reason ? reason : "";
    return reason == NULL;
}
