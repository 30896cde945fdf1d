/* features.c: the one table of CPU features a kernel may require, their names, and their
 * detection (once, at start-up) with cpuid and xgetbv.
 *
 * A feature is usable when cpuid reports it AND the OS saves its register state: xgetbv(0)
 * reads XCR0, whose bits say which state components the kernel's XSAVE covers (1 SSE,
 * 2 AVX upper halves, 5-7 AVX-512 opmask / ZMM_Hi256 / Hi16_ZMM, 17-18 AMX TILECFG /
 * TILEDATA). Linux additionally requires a process to ask for AMX tile data with
 * arch_prctl(ARCH_REQ_XCOMP_PERM) before its first tile instruction; that request is not
 * detection and belongs to the AMX kernel, made once, before it runs.
 *
 * Compiled without ISA flags (cpuid and xgetbv are inline assembly), so it runs anywhere.
 * Adding a feature: one ATTN_FEAT_I_* in attn.h and one row here; the static_assert
 * below fails until both exist.
 */
#include <assert.h>
#include <string.h>
#include <strings.h>
#include "attn.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define ATTN_X86 1
#else
#define ATTN_X86 0
#endif

enum { EAX, EBX, ECX, EDX };

#define XCR0_YMM 0x6ull                 /* SSE + AVX state */
#define XCR0_ZMM 0xe6ull                /* plus opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX 0x60000ull             /* TILECFG (bit 17) and TILEDATA (bit 18) */

typedef struct {
    const char *name;                   /* lower case, as `list` and skip reasons print it */
    unsigned leaf, subleaf;             /* cpuid leaf (eax) and subleaf (ecx) */
    int reg, bit;                       /* where cpuid reports it */
    unsigned long long xcr0;            /* state the OS must enable in XCR0 */
} feature_row;

static const feature_row features[] = {
    [ATTN_FEAT_I_AVX]         = { "avx",         1, 0, ECX, 28, XCR0_YMM },
    [ATTN_FEAT_I_AVX2]        = { "avx2",        7, 0, EBX,  5, XCR0_YMM },
    [ATTN_FEAT_I_FMA]         = { "fma",         1, 0, ECX, 12, XCR0_YMM },
    [ATTN_FEAT_I_F16C]        = { "f16c",        1, 0, ECX, 29, XCR0_YMM },
    [ATTN_FEAT_I_AVX512F]     = { "avx512f",     7, 0, EBX, 16, XCR0_ZMM },
    [ATTN_FEAT_I_AVX512BW]    = { "avx512bw",    7, 0, EBX, 30, XCR0_ZMM },
    [ATTN_FEAT_I_AVX512VL]    = { "avx512vl",    7, 0, EBX, 31, XCR0_ZMM },
    [ATTN_FEAT_I_AVX512DQ]    = { "avx512dq",    7, 0, EBX, 17, XCR0_ZMM },
    [ATTN_FEAT_I_AVX512_BF16] = { "avx512_bf16", 7, 1, EAX,  5, XCR0_ZMM },
    [ATTN_FEAT_I_AVX512_FP16] = { "avx512_fp16", 7, 0, EDX, 23, XCR0_ZMM },
    [ATTN_FEAT_I_AMX_TILE]    = { "amx_tile",    7, 0, EDX, 24, XCR0_AMX },
    [ATTN_FEAT_I_AMX_BF16]    = { "amx_bf16",    7, 0, EDX, 22, XCR0_AMX },
    [ATTN_FEAT_I_AMX_INT8]    = { "amx_int8",    7, 0, EDX, 25, XCR0_AMX },
};
static_assert(sizeof features / sizeof features[0] == ATTN_FEAT_COUNT,
              "one row of features[] per ATTN_FEAT_I_* of attn.h");
static_assert(ATTN_FEAT_COUNT <= 32, "attn_features is a 32-bit mask");

const char *attn_feature_name(unsigned feature)
{
    for (int i = 0; i < ATTN_FEAT_COUNT; i++)
        if (feature == 1u << i) return features[i].name ? features[i].name : "?";
    return "?";
}

unsigned attn_feature_parse(const char *s)
{
    if (!s) return 0;
    for (int i = 0; i < ATTN_FEAT_COUNT; i++)
        if (features[i].name && strcasecmp(s, features[i].name) == 0) return 1u << i;
    return 0;
}

char *attn_features_string(attn_features mask, char *buf, size_t n)
{
    if (n == 0) return buf;
    buf[0] = 0;
    for (int i = 0; i < ATTN_FEAT_COUNT; i++)
        if (mask & (1u << i)) {
            if (buf[0]) strncat(buf, ", ", n - strlen(buf) - 1);
            strncat(buf, features[i].name, n - strlen(buf) - 1);
        }
    return buf;
}

/* ------------------------------------------------------------- detection -- */

/* What cpuid reports (cpu) and what the OS also saves the state of (usable). */
typedef struct { attn_features cpu, usable; } detected;

#if ATTN_X86
static unsigned long long read_xcr0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

/* cpuid (leaf, subleaf) into r[EAX..EDX]; 0 when the leaf or subleaf does not exist. */
static int cpuid(unsigned leaf, unsigned subleaf, unsigned r[4])
{
    unsigned max_sub = 0, a, b, c, d;
    if (!__get_cpuid_count(leaf, 0, &a, &b, &c, &d)) return 0;
    max_sub = a;                        /* leaf 7: eax of subleaf 0 is the last subleaf */
    if (subleaf > 0 && (leaf != 7 || subleaf > max_sub)) return 0;
    if (!__get_cpuid_count(leaf, subleaf, &r[EAX], &r[EBX], &r[ECX], &r[EDX])) return 0;
    return 1;
}
#endif

static detected detect(void)
{
    detected f = { 0, 0 };
#if ATTN_X86
    unsigned r1[4] = { 0 };
    cpuid(1, 0, r1);
    const int osxsave = (r1[ECX] >> 27) & 1;
    const unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    for (int i = 0; i < ATTN_FEAT_COUNT; i++) {
        unsigned r[4] = { 0 };
        if (!cpuid(features[i].leaf, features[i].subleaf, r)) continue;
        if (!((r[features[i].reg] >> features[i].bit) & 1)) continue;
        f.cpu |= 1u << i;
        if ((xcr0 & features[i].xcr0) == features[i].xcr0) f.usable |= 1u << i;
    }
#endif
    return f;
}

static detected cpu_state;

/* Detect before main(), so that later calls (threads included) only read. */
__attribute__((constructor)) static void detect_early(void) { cpu_state = detect(); }

attn_features attn_cpu_features(void) { return cpu_state.usable; }

attn_features attn_cpu_features_without_os_state(void) { return cpu_state.cpu & ~cpu_state.usable; }
