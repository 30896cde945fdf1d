/* test_decode.c: the memory promises of the decode kernels and of the flash kernels at
 * small Lq (issue 10). Their outputs are checked against naive in test_kernels.c (the
 * dec-* shapes, with 1, 2 and 3 threads); here, what the kernels ask for as workspace:
 *   - the decode kernels (every registered kernel named decode*): O(threads x (rows +
 *     Dv)), nothing of size Lk: the same bytes at Lk = 65536 and 1048576, and under a
 *     bound far below one head's K;
 *   - the flash-tile kernels (flash*, simd_*): at Lq = 1 no 64-row query tile (less
 *     than at Lq = 64), never more at Lq = 24, and nothing of size Lk either.
 * workspace_bytes is only called for kernels usable here: an _avx2 file's code may use
 * AVX2 instructions even in its size computation.
 */
#include <string.h>
#include "test.h"
#include "attn.h"

static attn_problem decode_problem(int Lq, int Lk)
{
    attn_problem p;
    memset(&p, 0, sizeof p);
    p.B = 1; p.H = 32; p.Hkv = 8; p.Lq = Lq; p.Lk = Lk; p.D = 128; p.Dv = 128;
    p.scale = 0.088388f;
    p.window_left = p.window_right = -1;
    return p;
}

/* The kernel called name, when it is registered and this CPU and build can run it. */
static const attn_kernel *usable(const char *name)
{
    const attn_kernel *k = attn_kernel_find(name);
    const char *why;
    return k && attn_kernel_usable(k, &why) ? k : NULL;
}

TEST(decode_workspace_independent_of_lk)
{
    int nk, tested = 0;
    const attn_kernel *ks = attn_kernels(&nk);
    for (int n = 0; n < nk; n++) {
        if (strncmp(ks[n].name, "decode", 6) != 0) continue;
        const attn_kernel *k = usable(ks[n].name);
        if (!k) continue;
        tested++;
        for (int t = 1; t <= 8; t++)
            for (int lq = 1; lq <= 16; lq += 3) {
                attn_problem a = decode_problem(lq, 65536), b = decode_problem(lq, 1 << 20);
                const size_t wa = k->workspace_bytes(&a, t), wb = k->workspace_bytes(&b, t);
                /* rows R = 4 x Lq <= 64: per thread q (R x D), a 32-key score block, acc
                 * (R x Dv) and row statistics, and fewer than 8 x threads part slots of
                 * R x (Dv + 2): under 300 KiB per thread; one head's K is 32 MiB */
                const size_t bound = (size_t)t * 300 * 1024;
                CHECK_MSG(wa == wb, "%s threads %d Lq %d: workspace %zu at Lk 65536, %zu at 1048576",
                          k->name, t, lq, wa, wb);
                CHECK_MSG(wb > 0 && wb <= bound, "%s threads %d Lq %d: workspace %zu (bound %zu)",
                          k->name, t, lq, wb, bound);
            }
    }
    CHECK(tested >= 1);                 /* the portable decode kernel runs everywhere */
}

TEST(flash_small_lq_workspace)
{
    static const char *const names[] = { "flash", "flash_avx2", "flash_avx512",
                                         "simd_avx2", "simd_avx512" };
    int tested = 0;
    for (int n = 0; n < 5; n++) {
        const attn_kernel *k = usable(names[n]);
        if (!k) continue;
        tested++;
        const int t = (k->caps & ATTN_CAP_THREADS) ? 2 : 1;
        for (int lq = 1; lq <= 24; lq += 23) {      /* 1: the decode hand-off; 24: a fitted tile */
            attn_problem small = decode_problem(lq, 65536), big = decode_problem(lq, 1 << 20);
            attn_problem full = decode_problem(64, 65536);
            const size_t ws = k->workspace_bytes(&small, t), wf = k->workspace_bytes(&full, t);
            CHECK_MSG(ws == k->workspace_bytes(&big, t), "%s Lq %d: workspace grows with Lk",
                      k->name, lq);
            /* Lq = 1: strictly less (hand-off, or a 16-row tile for simd_*); Lq = 24: a
             * tile of 32 rows, less than 64 for the 64-row kernels, equal for flash's 32 */
            CHECK_MSG(lq == 1 ? ws < wf : ws <= wf, "%s: workspace %zu at Lq %d, %zu at Lq 64: "
                      "the query tile is not fitted to Lq", k->name, ws, lq, wf);
        }
    }
    CHECK(tested >= 1);
}
