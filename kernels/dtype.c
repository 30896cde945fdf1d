/* dtype.c: the storage types of q, k and v (attn.h "precision"): their names and the
 * round-to-nearest-even conversions between fp32 and bf16 / binary16, in portable C.
 *
 * Written once for everyone: the harness rounds generated inputs with them
 * (core/inputs.c), tests check them bit by bit (tests/test_dtype.c), and a SIMD kernel's
 * hardware conversions (vcvtph2ps, vcvtneps2bf16) are checked against them. Bit layouts:
 *   fp32  s eeeeeeee mmmmmmmmmmmmmmmmmmmmmmm   bias 127
 *   bf16  s eeeeeeee mmmmmmm                   the top half of an fp32, bias 127
 *   f16   s eeeee    mmmmmmmmmm                bias 15, subnormals k * 2^-24
 */
#include <string.h>
#include "attn.h"

const char *const attn_dtype_names[ATTN_DTYPE_COUNT] = {
    [ATTN_F32] = "f32", [ATTN_BF16] = "bf16", [ATTN_F16] = "f16",
};

const char *attn_dtype_name(attn_dtype t)
{
    return (unsigned)t < ATTN_DTYPE_COUNT ? attn_dtype_names[t] : "?";
}

static uint32_t bits_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* bf16 is the top 16 bits: add just under half of the dropped part's unit, plus the kept
 * part's lowest bit (ties go to even); a carry moves into the exponent as it should, up to
 * inf. A NaN must not carry into inf: it keeps its top bits with the quiet bit set. */
uint16_t attn_f32_to_bf16(float x)
{
    uint32_t u = bits_of(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float attn_bf16_to_f32(uint16_t h) { return float_of((uint32_t)h << 16); }

uint16_t attn_f32_to_f16(float x)
{
    const uint32_t u = bits_of(x), a = u & 0x7fffffffu;
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    if (a > 0x7f800000u)                        /* NaN: quiet, top payload bits kept */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u)                       /* >= 65520 (the tie above 65504), inf */
        return (uint16_t)(sign | 0x7c00u);
    if (a >= 0x38800000u) {                     /* >= 2^-14: a normal half */
        uint32_t r = a - 0x38000000u;           /* exponent rebiased 127 -> 15 */
        r += 0x0fffu + ((r >> 13) & 1u);        /* round the 13 dropped bits, ties to even */
        return (uint16_t)(sign | (r >> 13));
    }
    if (a <= 0x33000000u)                       /* <= 2^-25: zero (2^-25 is a tie, to 0) */
        return sign;
    /* subnormal half k * 2^-24: the 24-bit significand m is worth m * 2^(e - 150) */
    const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;             /* 14 (e = 112) .. 24 (e = 102) */
    uint32_t k = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (k & 1u))) k++;   /* k = 1024 is 2^-14, normal */
    return (uint16_t)(sign | k);
}

float attn_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f)                              /* inf; NaN made quiet, as vcvtph2ps does */
        return float_of(sign | 0x7f800000u | (m ? 0x400000u : 0) | (m << 13));
    if (e) return float_of(sign | ((e + 112) << 23) | (m << 13));          /* normal */
    const float mag = (float)m * 0x1p-24f;                                   /* subnormal, 0 */
    return float_of(sign | bits_of(mag));
}

/* One loop per dtype, so each conversion inlines (a portable kernel's block of rows). */
void attn_widen16(attn_dtype t, const uint16_t *h, size_t n, float *x)
{
    if (t == ATTN_BF16)
        for (size_t i = 0; i < n; i++) x[i] = attn_bf16_to_f32(h[i]);
    else
        for (size_t i = 0; i < n; i++) x[i] = attn_f16_to_f32(h[i]);
}
