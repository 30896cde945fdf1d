/* vec_avx2_kv.h: the AVX2 microkernels that read K or V rows in place (a2_pv,
 * a2_scores_dots, a2_widen_row), written once over the storage type of the rows they read;
 * vec_avx2.h includes this file once per type (no include guard). Before each include it
 * defines, and after it undefines:
 *   A2KV(x)            the instance's name for x: a2_x for fp32, a2_x_bf16, a2_x_f16
 *   A2KV_T             the element type: float, or uint16_t (the bits of a bf16 / f16)
 *   A2KV_LD(p)         the 8 elements at p widened to fp32, exactly (__m256)
 *   A2KV_LDN(p, n, m)  the first n elements at p widened, 0 in lanes [n, 8) (n <= 0: all
 *                      0), m = a2_mask(n); reads nothing at or past p + n
 * The load is the only difference between the instances, and it is fixed at compile time:
 * a 16-bit instance reads its rows at 2 bytes an element and widens them in registers
 * (bf16: zero-extend to 32 bits and shift left 16; f16: F16C vcvtph2ps), then runs the
 * fp32 instance's arithmetic instruction for instruction, so its results are those of the
 * fp32 instance on the widened values, bit for bit.
 */

/* y[0, n) = x[0, n) widened; y[n, n rounded up to 8) = 0 (y 32-byte aligned). */
static inline void A2KV(widen_row)(const A2KV_T *x, int n, float *y)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_store_ps(y + i, A2KV_LD(x + i));
    if (i < n) _mm256_store_ps(y + i, A2KV_LDN(x + i, n - i, a2_mask(n - i)));
}

/* acc[r][c] += sum_j pt[j][r] v[j][c] for rows r in [0, nr) (nr a multiple of 4), keys j
 * in [0, nk), columns c in [0, Dv). pt is (nk, ldp), v is (nk, ldv), acc is (nr, lda)
 * with lda a multiple of 16 (columns Dv..lda stay 0: V is loaded masked). Register
 * block: 4 rows x 2 column vectors = 8 accumulators held over the whole key loop. */
static inline void A2KV(pv)(const float *pt, int ldp, int nk, const A2KV_T *v, int ldv, int Dv,
                            float *acc, int lda, int nr)
{
    for (int c0 = 0; c0 < Dv; c0 += A2_PV_COLS) {
        const int full = Dv - c0 >= A2_PV_COLS;
        const __m256i m0 = a2_mask(Dv - c0), m1 = a2_mask(Dv - c0 - 8);
        for (int r0 = 0; r0 < nr; r0 += A2_PV_ROWS) {
            float *a0 = acc + (size_t)r0 * lda + c0, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            __m256 c00 = _mm256_load_ps(a0), c01 = _mm256_load_ps(a0 + 8);
            __m256 c10 = _mm256_load_ps(a1), c11 = _mm256_load_ps(a1 + 8);
            __m256 c20 = _mm256_load_ps(a2), c21 = _mm256_load_ps(a2 + 8);
            __m256 c30 = _mm256_load_ps(a3), c31 = _mm256_load_ps(a3 + 8);
            const float *pj = pt + r0;
            const A2KV_T *vj = v + c0;
            for (int j = 0; j < nk; j++, pj += ldp, vj += ldv) {
                __m256 v0, v1;
                if (full) {
                    v0 = A2KV_LD(vj);
                    v1 = A2KV_LD(vj + 8);
                } else {
                    v0 = A2KV_LDN(vj, Dv - c0, m0);
                    v1 = A2KV_LDN(vj + 8, Dv - c0 - 8, m1);
                }
                __m256 b = _mm256_broadcast_ss(pj);
                c00 = _mm256_fmadd_ps(b, v0, c00); c01 = _mm256_fmadd_ps(b, v1, c01);
                b = _mm256_broadcast_ss(pj + 1);
                c10 = _mm256_fmadd_ps(b, v0, c10); c11 = _mm256_fmadd_ps(b, v1, c11);
                b = _mm256_broadcast_ss(pj + 2);
                c20 = _mm256_fmadd_ps(b, v0, c20); c21 = _mm256_fmadd_ps(b, v1, c21);
                b = _mm256_broadcast_ss(pj + 3);
                c30 = _mm256_fmadd_ps(b, v0, c30); c31 = _mm256_fmadd_ps(b, v1, c31);
            }
            _mm256_store_ps(a0, c00); _mm256_store_ps(a0 + 8, c01);
            _mm256_store_ps(a1, c10); _mm256_store_ps(a1 + 8, c11);
            _mm256_store_ps(a2, c20); _mm256_store_ps(a2 + 8, c21);
            _mm256_store_ps(a3, c30); _mm256_store_ps(a3 + 8, c31);
        }
    }
}

/* st[j][r] = scale * sum_d k[j][d] q[r][d] for keys j in [0, nk), rows r in [0, nr), nr a
 * multiple of 4. k is (nk, ldk), read in place (the D % 8 tail masked, so nothing past a
 * row is read); q is (nr, ldq), fp32, 32-byte aligned, ldq a multiple of 8 with columns
 * D..ldq zero; st is (nk, ldst). The same result as a2_scores_t, but each score is a
 * row-wise dot product over D, so a block of few rows (decode: 1 to 16 query rows per kv
 * head) wastes no lanes on padding rows. Keys outer, rows inner: each pair of K rows is
 * read from memory once and reused from L1 by every row. Register block: 2 keys x 4 rows
 * = 8 accumulators, reduced to one vector by a2_reduce4x2. Streaming help: with each pair
 * of keys j, j + 1 it prefetches rows j, j + 1 (those below npf) of pfk (stride ldk, D
 * elements) and pfv (stride ldv, Dv elements), one prefetch per 64 bytes, typically the
 * next block's K and V rows, so the loads of the next block overlap this block's compute
 * (npf = 0: no prefetch). */
static inline void A2KV(scores_dots)(const A2KV_T *k, int ldk, int nk, int D, const float *q,
                                     int ldq, int nr, float scale, float *st, int ldst,
                                     const A2KV_T *pfk, const A2KV_T *pfv, int ldv, int Dv, int npf)
{
    const __m256 vs = _mm256_set1_ps(scale);
    const int dfull = D & ~7, line = 64 / (int)sizeof(A2KV_T);
    const __m256i tm = a2_mask(D - dfull);
    for (int j = 0; j < nk; j += 2) {
        /* an odd count's last key runs as a pair with itself; the copy is not stored */
        const A2KV_T *ka = k + (size_t)j * ldk, *kb = j + 1 < nk ? ka + ldk : ka;
        for (int t = j; t < j + 2 && t < npf; t++) {         /* rows t of the prefetch blocks */
            for (int d = 0; d < D; d += line)
                _mm_prefetch((const char *)(pfk + (size_t)t * ldk + d), A2_STREAM_HINT);
            for (int d = 0; d < Dv; d += line)
                _mm_prefetch((const char *)(pfv + (size_t)t * ldv + d), A2_STREAM_HINT);
        }
        for (int r0 = 0; r0 < nr; r0 += 4) {
            const float *qr = q + (size_t)r0 * ldq;
            __m256 a[4], b[4];
            for (int i = 0; i < 4; i++) a[i] = b[i] = _mm256_setzero_ps();
            int d = 0;
            for (; d < dfull; d += 8) a2_dots_step(A2KV_LD(ka + d), A2KV_LD(kb + d), qr + d, ldq, a, b);
            if (d < D) a2_dots_step(A2KV_LDN(ka + d, D - d, tm), A2KV_LDN(kb + d, D - d, tm), qr + d, ldq, a, b);
            const __m256 s = _mm256_mul_ps(a2_reduce4x2(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]), vs);
            _mm_storeu_ps(st + (size_t)j * ldst + r0, _mm256_castps256_ps128(s));
            if (j + 1 < nk) _mm_storeu_ps(st + (size_t)(j + 1) * ldst + r0, _mm256_extractf128_ps(s, 1));
        }
    }
}
