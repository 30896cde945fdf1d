/* decode_avx2.c: decode attention for small Lq (meant for Lq <= 16 query rows; correct for
 * any Lq) against a long KV cache, with the AVX2 + FMA primitives of vec_avx2.h: split-KV
 * (flash-decoding) over threads, all query rows of one GQA group computed against a single
 * pass over the group's K and V. Bandwidth-bound: the aim is to stream K and V once.
 *
 * Storage: q, k, v in f32, bf16 or f16 (the case's dtype), one kernel name for all three
 * so that charts and ratios line up. A 16-bit K/V stream is read at 2 bytes an element and
 * widened in registers (bf16: zero-extend 16 -> 32 bits, shift left 16; f16: F16C
 * vcvtph2ps; both exact), q widened once when packed; every FLOP is fp32. The load is a
 * compile-time parameter: decode_simd_part.h is instanced three times below (dec_simd_part,
 * _bf16, _f16), each over vec_avx2_kv.h's microkernels of its storage type, and run()
 * picks the instance once per call (parts[dtype]); no loop asks for the dtype. F16C comes
 * with the _avx2 suffix's flags (-mavx2 -mfma -mf16c), hence requires ... | F16C.
 *
 * Loop structure (decode_split.h: the driver, plan and log-sum-exp merge; the part
 * function dec_simd_part of decode_simd_part.h over the a2_ primitives):
 *   parallel for work item (b, kv head g, key chunk c), dynamic schedule:
 *     rows = the Lq rows of each of the H/Hkv query heads of group g (R = H/Hkv x Lq),
 *       packed once per item as q (R4, D8): rows padded to 4 and columns to 8 with zeros
 *     m = -inf, l = 0, acc = 0 (R4 x Dv16)
 *     for each block of DEC_AVX2_KB keys of the chunk:
 *       st = scale * K_blk Q^T (kb, R8)    a2_scores_dots: row-wise dot products, 2 keys x
 *                                          4 rows per register block; K read in place
 *                                          (widened in registers when 16-bit), each K
 *                                          row from memory once for all R rows
 *       per 8 rows: a2_softmax_tile (online softmax across 8 rows per vector; per-row
 *         band [lo, hi) from attn_band, compares only on blocks crossing a band edge:
 *         the ragged causal edge of Lq > 1, padding, window); rescale only the acc rows
 *         whose max grew
 *       acc += P V_blk                      a2_pv (4 rows x 16 columns), V read in place
 *     one chunk per (b, g): out = acc / l; else (m, l, acc) go to a part slot and the
 *     parts of one (b, g) are merged by log-sum-exp after a barrier.
 * Rows with no visible key output zeros. Workspace: per thread q, one block of scores,
 * acc and row statistics; part slots (R x (Dv + 2) floats) only when B x Hkv < 4 x threads,
 * fewer than 8 x threads of them. Nothing of size Lk.
 *
 * Why row-wise dots rather than flash's K Q^T with 16-row groups: at Lq = 1 a GQA 4:1
 * group has 4 rows, which the transposed scheme would pad to 16 (4x the FMAs); here rows
 * pad only to 4. There is no decode_avx512: it could not be run on the machine this was
 * written on.
 */
#include "attn.h"
#include "vec_avx2.h"

#define DEC_PREFIX a2_
#define DEC_LANES A2_LANES
#define DEC_PF DEC_AVX2_PF

#ifndef DEC_AVX2_KB
#define DEC_AVX2_KB 32          /* keys per block: K and V blocks of 16 KiB each at D = 128 */
#endif
#ifndef DEC_AVX2_PF
#define DEC_AVX2_PF 64          /* prefetch distance in fp32 keys, two blocks, 64 KiB of K + V at
                                   D = 128 (16-bit rows: 128 keys, the same bytes; on Zen 3, bf16,
                                   1 thread, that ran 4-6% faster than 64 keys in 3 of 3
                                   interleaved series: at the edge of that machine's noise);
                                   0: hardware prefetch only */
#endif

#include "decode_split.h"

#define DEC_KV
#define DEC_KV_T float
#include "decode_simd_part.h"           /* dec_simd_part: fp32 K/V */
#define DEC_KV _bf16
#define DEC_KV_T uint16_t
#include "decode_simd_part.h"           /* dec_simd_part_bf16 */
#define DEC_KV _f16
#define DEC_KV_T uint16_t
#include "decode_simd_part.h"           /* dec_simd_part_f16 (F16C) */

static const dec_part_fn parts[ATTN_DTYPE_COUNT] = {
    [ATTN_F32] = dec_simd_part, [ATTN_BF16] = dec_simd_part_bf16, [ATTN_F16] = dec_simd_part_f16,
};

#define DECODE_AVX2_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                          ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

static const dec_geom geom = { DEC_AVX2_KB, A2_LANES, A2_PV_COLS, 0 };

static size_t decode_avx2_workspace(const attn_problem *p, int threads)
{
    return dec_workspace(p, threads, geom);
}

static attn_status decode_avx2_run(const attn_problem *p, const float *q, const float *k,
                                   const float *v, float *out, void *workspace, int threads)
{
    attn_status st = dec_check(p, DECODE_AVX2_CAPS, threads, DEC_DTYPES);
    if (st != ATTN_OK) return st;
    dec_run(p, q, k, v, out, workspace, threads, geom, parts[p->dtype]);
    return ATTN_OK;
}

const attn_kernel attn_kernel_decode_avx2 = {
    .name = "decode_avx2",
    .desc = "decode (Lq <= 16): split-KV, one K/V pass per GQA group, AVX2 row-wise dots, log-sum-exp merge, OpenMP; f32, bf16, f16 q/k/v widened in registers",
    .requires = ATTN_REQ_AVX2 | ATTN_FEAT_F16C,
    .caps = DECODE_AVX2_CAPS,
    .dtypes = DEC_DTYPES,
    /* tolerance, fp32: the polynomial exp of vec_avx2.h (within 4 ulp), row-wise dot
     * products summed in a different order than naive, one rescale per 32-key block and
     * one log-sum-exp rescale per part: a few e-6 relative in practice, declared as the
     * other fp32 kernels' 1e-4 / 1e-3 (docs/kernels.md derives it for 65536 keys).
     * bf16, f16: the inputs are rounded into the dtype before the reference is computed
     * from them, and widening a bf16 (shift) or an f16 (vcvtph2ps) to fp32 is exact, so
     * this kernel sees exactly the reference's numbers and rounds nothing more than in
     * fp32: the same arithmetic, instruction for instruction (vec_avx2_kv.h), hence the
     * same bound. The rounded inputs are still in [-1, 1], so no sum grows. */
    .tol = { [ATTN_F32] = { 1e-4, 1e-3 }, [ATTN_BF16] = { 1e-4, 1e-3 }, [ATTN_F16] = { 1e-4, 1e-3 } },
    .workspace_bytes = decode_avx2_workspace,
    .run = decode_avx2_run,
};
