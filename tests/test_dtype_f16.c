/* test_dtype_f16.c: the portable binary16 conversions of kernels/dtype.c against the
 * hardware's (F16C vcvtph2ps / vcvtps2ph, round to nearest even), which flash_f16 widens
 * with. Built with the _f16 suffix flags (-mavx2 -mfma -mf16c); runs where the CPU has
 * F16C, else passes saying so. */
#include <immintrin.h>
#include <string.h>
#include "test.h"
#include "attn.h"

TEST(dtype_f16_portable_matches_f16c)
{
    if (!(attn_cpu_features() & ATTN_FEAT_F16C)) {
        printf("  (cpu lacks f16c: not compared)\n");
        return;
    }
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float hw = _cvtsh_ss((unsigned short)h), sw = attn_f16_to_f32((uint16_t)h);
        if (memcmp(&hw, &sw, 4) != 0 && bad++ < 3)
            test_fail(__FILE__, __LINE__, "widen %#06x: f16c %a, portable %a", h, hw, sw);
    }
    /* every float exponent, a spread of significands, both signs; and the specials */
    uint64_t s = 12345;
    for (long i = 0; i < (1L << 21); i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t u = (uint32_t)(s >> 32);
        if (i < 4) u = (uint32_t[]){ 0x7f800001u, 0xffc00000u, 0x477ff000u, 0x33000000u }[i];
        float x;
        memcpy(&x, &u, 4);
        unsigned short hw = _cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT);
        uint16_t sw = attn_f32_to_f16(x);
        if (hw != sw && bad++ < 6)
            test_fail(__FILE__, __LINE__, "narrow %#010x: f16c %#06x, portable %#06x", u, hw, sw);
    }
    CHECK(bad == 0);
}
