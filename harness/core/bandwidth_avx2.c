/* bandwidth_avx2.c: the AVX2 read loop of the bandwidth roof (bandwidth.h): 256-bit
 * aligned loads, four independent 4 x 64-bit add chains (128 bytes per iteration), so the
 * loads, not the adds, set the pace. Used when the CPU has AVX2 (bandwidth.c). */
#include <immintrin.h>
#include "core/bandwidth.h"

uint64_t attn_bandwidth_read_avx2(const uint64_t *w, size_t n)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(w + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(w + i + 4)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(w + i + 8)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(w + i + 12)));
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t s = (uint64_t)_mm256_extract_epi64(a0, 0) + (uint64_t)_mm256_extract_epi64(a0, 1) +
                 (uint64_t)_mm256_extract_epi64(a0, 2) + (uint64_t)_mm256_extract_epi64(a0, 3);
    for (; i < n; i++) s += w[i];
    return s;
}
