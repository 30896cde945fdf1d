/* decode_split.h: the split-KV driver shared by the decode kernels (decode, decode_avx2,
 * decode_avx512), and the part function of the SIMD ones. No intrinsics here.
 *
 * Use: the including file picks a dec_geom (keys per block, softmax lanes, acc column
 * multiple), defines a part function (dec_part_fn) that runs one group's rows over one
 * key range, and calls dec_workspace() and dec_run(). A SIMD kernel first defines
 * DEC_PREFIX, DEC_LANES (its softmax's lanes, also its geom's lanes) and DEC_PF (prefetch
 * distance in keys) and has the primitives <prefix>scores_dots, softmax_tile, scale_row
 * and pv (contracts in vec_avx2.h / vec_avx512.h); this file then defines dec_simd_part,
 * the part function for them (the loop is at the end of this file).
 *
 * Rows: for batch item b and kv head g, the group's rows are the Lq query rows of each of
 * its G = H / Hkv query heads, R = G x Lq of them; row r is query row i = r % Lq of query
 * head g*G + r / Lq. Its band [lo, hi) is attn_band(b, i) (the same for every head).
 *
 * Plan (from B, Hkv, Lk and threads only, never kv_len, so the workspace size is known
 * before the call):
 *   nsplit = 1                           when B x Hkv >= DEC_PARTS_PER_THREAD x threads
 *          = min(ceil(DEC_PARTS_PER_THREAD x threads / (B x Hkv)), Lk / DEC_MIN_CHUNK)
 *                                        otherwise (at least 1)
 * Work items are (b, g, chunk c < nsplit); chunk c is the c-th of nsplit equal pieces
 * (rounded up to DEC_CHUNK_ALIGN keys) of the union of the group's bands.
 *   parallel (exactly `threads` threads):
 *     for each work item, dynamic schedule:
 *       part(b, g, chunk) -> this thread's scratch: m (R), l (R), acc (R, Dv) unnormalised
 *       nsplit == 1: out rows = acc / l  (0 when l == 0: the row sees no key)
 *       else:        copy m, l, acc into the item's part slot
 *     barrier
 *     nsplit > 1: for each (b, g, row): merge the nsplit parts by log-sum-exp:
 *       M = max m_c, L = sum l_c e^(m_c - M), out = sum acc_c e^(m_c - M) / L
 * Part slots exist only when nsplit > 1, that is when B x Hkv < 4 x threads; then there
 * are B x Hkv x nsplit < 4 x threads + B x Hkv < 8 x threads of them. Workspace:
 *   threads x scratch (q rows, a key block of scores, acc, row statistics)
 *   + parts x R x (Dv + 2) floats; nothing of size Lk.
 */
#ifndef DECODE_SPLIT_H
#define DECODE_SPLIT_H

#include <math.h>
#include <omp.h>
#include "attn.h"

#ifndef DEC_PARTS_PER_THREAD
#define DEC_PARTS_PER_THREAD 4      /* work items per thread when the groups are few */
#endif
#ifndef DEC_MIN_CHUNK
#define DEC_MIN_CHUNK 256           /* keys: no chunk is planned smaller than this */
#endif
#define DEC_CHUNK_ALIGN 16          /* chunk boundaries on multiples of this many keys */

static inline int dec_round_up(int n, int m) { return (n + m - 1) / m * m; }
static inline size_t dec_round_up_z(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* A kernel's block geometry: kb keys per block; lanes, the rows per softmax vector (8 or
 * 16: row statistics and score rows are rounded up to it, and q rows padded to it); cols,
 * the column multiple of acc's row stride (the PV microkernel's column chunk). */
typedef struct { int kb, lanes, cols; } dec_geom;

/* Sizes of one problem's plan and per-thread scratch. Every scratch array starts on a
 * multiple of 16 floats (64 bytes) from the workspace start. */
typedef struct {
    int G, R;           /* query heads per kv head; rows per group (G x Lq) */
    int R4, RL;         /* R rounded up to 4 (compute rows) and to the softmax lanes */
    int ldq;            /* row stride of the packed q rows: D rounded up to the lanes */
    int lda;            /* row stride of acc: Dv rounded up to geom.cols */
    int kb;             /* keys per block */
    int nsplit;         /* chunks per (b, g) */
    int nparts;         /* part slots (0 when nsplit == 1) */
    /* offsets in floats inside one thread's scratch */
    size_t o_q, o_st, o_acc, o_m, o_l, o_corr, o_lo, o_hi, thread_floats;
    size_t part_floats; /* floats of one part slot: R x (Dv + 2) */
} dec_layout;

static inline dec_layout dec_plan(const attn_problem *p, int threads, dec_geom geom)
{
    dec_layout L;
    L.G = p->H / p->Hkv;
    L.R = L.G * p->Lq;
    L.R4 = dec_round_up(L.R, 4);
    L.RL = dec_round_up(L.R, geom.lanes);
    L.ldq = dec_round_up(p->D, geom.lanes);
    L.lda = dec_round_up(p->Dv, geom.cols);
    L.kb = geom.kb;
    long groups = (long)p->B * p->Hkv, want = (long)DEC_PARTS_PER_THREAD * threads;
    int ns = 1;
    if (groups < want) {
        long n = (want + groups - 1) / groups, cap = p->Lk / DEC_MIN_CHUNK;
        if (n > cap) n = cap;
        ns = n < 1 ? 1 : (int)n;
    }
    L.nsplit = ns;
    L.nparts = ns > 1 ? (int)(groups * ns) : 0;
    size_t o = 0;
    L.o_q = o;    o += dec_round_up_z((size_t)L.R4 * L.ldq, 16);
    L.o_st = o;   o += dec_round_up_z((size_t)L.kb * L.RL, 16);
    L.o_acc = o;  o += dec_round_up_z((size_t)L.R4 * L.lda, 16);
    L.o_m = o;    o += dec_round_up_z((size_t)L.RL, 16);
    L.o_l = o;    o += dec_round_up_z((size_t)L.RL, 16);
    L.o_corr = o; o += dec_round_up_z((size_t)L.RL, 16);
    L.o_lo = o;   o += dec_round_up_z((size_t)L.RL, 16);     /* ints, float-sized */
    L.o_hi = o;   o += dec_round_up_z((size_t)L.RL, 16);
    L.thread_floats = o;
    L.part_floats = (size_t)L.R * ((size_t)p->Dv + 2);
    return L;
}

static inline size_t dec_workspace(const attn_problem *p, int threads, dec_geom geom)
{
    dec_layout L = dec_plan(p, threads, geom);
    return ((size_t)threads * L.thread_floats + (size_t)L.nparts * L.part_floats) * sizeof(float);
}

/* One part: the group's R rows (query rows qg: head hh's rows start at qg + hh*Lq*D)
 * against keys [k0, k1) of kbh (Lk, D) / vbh (Lk, Dv). lo, hi (RL ints in scratch) are
 * already filled (padding rows: empty band). On return the scratch holds m, l (RL) and
 * acc (R4 x lda), unnormalised: out row r = acc[r] / l[r]; l[r] == 0 means row r saw no
 * key of the range (then acc[r] is 0 and m[r] is -inf). */
typedef void (*dec_part_fn)(const attn_problem *p, const dec_layout *L, const float *qg,
                            const float *kbh, const float *vbh, int k0, int k1, float *scratch);

/* The union [*ulo, *uhi) of the bands of batch item b's Lq rows; fills lo, hi (RL) for
 * the rows of one group (row r has query row r % Lq; rows R..RL get an empty band). */
static inline void dec_bands(const attn_problem *p, const dec_layout *L, int b, int *lo, int *hi,
                             int *ulo, int *uhi)
{
    int a = p->Lk, z = 0;
    for (int i = 0; i < p->Lq; i++) {
        int l, h;
        attn_band(p, b, i, &l, &h);
        if (l < h) {
            if (l < a) a = l;
            if (h > z) z = h;
        } else {
            l = h = 0;
        }
        for (int hh = 0; hh < L->G; hh++) {
            lo[hh * p->Lq + i] = l;
            hi[hh * p->Lq + i] = h;
        }
    }
    for (int r = L->R; r < L->RL; r++) lo[r] = hi[r] = 0;
    if (a >= z) a = z = 0;
    *ulo = a;
    *uhi = z;
}

static void dec_run(const attn_problem *p, const float *q, const float *k, const float *v,
                    float *out, void *workspace, int threads, dec_geom geom, dec_part_fn part)
{
    const dec_layout L = dec_plan(p, threads, geom);
    const int D = p->D, Dv = p->Dv, Lq = p->Lq, ns = L.nsplit;
    float *ws = (float *)workspace;
    float *parts = ws + (size_t)threads * L.thread_floats;
    const long groups = (long)p->B * p->Hkv, items = groups * ns;

#pragma omp parallel num_threads(threads)
    {
        float *sc = ws + (size_t)omp_get_thread_num() * L.thread_floats;
        int *lo = (int *)(sc + L.o_lo), *hi = (int *)(sc + L.o_hi);
        const float *m = sc + L.o_m, *l = sc + L.o_l, *acc = sc + L.o_acc;
#pragma omp for schedule(dynamic, 1)
        for (long it = 0; it < items; it++) {
            const int c = (int)(it % ns), g = (int)(it / ns % p->Hkv), b = (int)(it / ns / p->Hkv);
            int ulo, uhi;
            dec_bands(p, &L, b, lo, hi, &ulo, &uhi);
            const int cs = dec_round_up((uhi - ulo + ns - 1) / ns, DEC_CHUNK_ALIGN);
            long k0 = ulo + (long)c * cs, k1 = k0 + cs;
            if (k1 > uhi) k1 = uhi;
            if (k0 > k1) k0 = k1;
            const size_t h0 = (size_t)b * p->H + (size_t)g * L.G;     /* first query head */
            const size_t kvh = (size_t)b * p->Hkv + g;
            part(p, &L, q + h0 * Lq * D, k + kvh * p->Lk * D, v + kvh * p->Lk * Dv,
                 (int)k0, (int)k1, sc);
            if (ns == 1) {
                for (int r = 0; r < L.R; r++) {
                    float *o = out + (h0 * Lq + r) * Dv;            /* rows of a group are contiguous */
                    const float *a = acc + (size_t)r * L.lda;
                    const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
                    for (int x = 0; x < Dv; x++) o[x] = a[x] * inv;
                }
            } else {
                float *slot = parts + (size_t)it * L.part_floats;
                for (int r = 0; r < L.R; r++) {
                    float *s = slot + (size_t)r * (Dv + 2);
                    s[0] = m[r];
                    s[1] = l[r];
                    const float *a = acc + (size_t)r * L.lda;
                    for (int x = 0; x < Dv; x++) s[2 + x] = a[x];
                }
            }
        }
        /* implicit barrier: every part is written */
        if (ns > 1) {
#pragma omp for schedule(static)
            for (long gr = 0; gr < groups * L.R; gr++) {
                const long grp = gr / L.R;
                const int r = (int)(gr % L.R);
                const float *s0 = parts + (size_t)grp * ns * L.part_floats + (size_t)r * (Dv + 2);
                float M = -INFINITY;
                for (int c = 0; c < ns; c++) {
                    const float *s = s0 + (size_t)c * L.part_floats;
                    if (s[1] > 0.0f && s[0] > M) M = s[0];
                }
                const size_t h0 = (size_t)(grp / p->Hkv) * p->H + (size_t)(grp % p->Hkv) * L.G;
                float *o = out + (h0 * Lq + r) * Dv;
                for (int x = 0; x < Dv; x++) o[x] = 0.0f;
                if (M == -INFINITY) continue;               /* no part saw a key */
                float sum = 0.0f;
                for (int c = 0; c < ns; c++) {
                    const float *s = s0 + (size_t)c * L.part_floats;
                    if (!(s[1] > 0.0f)) continue;
                    const float w = expf(s[0] - M);
                    sum += s[1] * w;
                    for (int x = 0; x < Dv; x++) o[x] += s[2 + x] * w;
                }
                const float inv = 1.0f / sum;
                for (int x = 0; x < Dv; x++) o[x] *= inv;
            }
        }
    }
}

/* ------------------------------------------------- the SIMD part function -- */

#ifdef DEC_PREFIX
#define DEC_CAT2(a, b) a##b
#define DEC_CAT(a, b) DEC_CAT2(a, b)
#define DECP(x) DEC_CAT(DEC_PREFIX, x)

/* The part function of decode_avx2 and decode_avx512 (a dec_part_fn):
 *   q rows packed once as qp (R4, ldq): rows padded to 4 and columns to the lanes, zeros
 *   m = -inf, l = 0, acc = 0 (R4 x lda); score lanes R4..RL zero (never written below)
 *   for each block of kb keys of [k0, k1):
 *     st = scale * K_blk Q^T (kb, RL)   <prefix>scores_dots: row-wise dot products, K read
 *                                       in place, each K row from memory once for all R
 *                                       rows; prefetches the block DEC_PF keys ahead
 *     per group of `lanes` rows: <prefix>softmax_tile (online softmax across the rows of
 *       a vector; the per-row band [lo, hi) compared only on blocks crossing a band edge:
 *       the ragged causal edge of Lq > 1, padding, window); rescale only the acc rows
 *       whose max grew
 *     acc += P V_blk                     <prefix>pv (4-row blocks), V read in place
 * Rows R..R4 compute on zero q rows; they are never output. */
static void dec_simd_part(const attn_problem *p, const dec_layout *L, const float *qg,
                          const float *kbh, const float *vbh, int k0, int k1, float *sc)
{
    const int D = p->D, Dv = p->Dv, R = L->R, R4 = L->R4, RL = L->RL, ldq = L->ldq, lda = L->lda;
    const int lanes = DEC_LANES;
    float *qp = sc + L->o_q, *st = sc + L->o_st, *acc = sc + L->o_acc;
    float *m = sc + L->o_m, *l = sc + L->o_l, *corr = sc + L->o_corr;
    const int *lo = (const int *)(sc + L->o_lo), *hi = (const int *)(sc + L->o_hi);

    for (int r = 0; r < R4; r++)
        for (int d = 0; d < ldq; d++)
            qp[(size_t)r * ldq + d] = r < R && d < D ? qg[(size_t)r * D + d] : 0.0f;
    for (int r = 0; r < RL; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    for (size_t e = 0; e < (size_t)R4 * lda; e++) acc[e] = 0.0f;
    for (int j = 0; j < L->kb; j++)
        for (int r = R4; r < RL; r++) st[(size_t)j * RL + r] = 0.0f;
    int maxlo = 0, minhi = p->Lk;
    for (int r = 0; r < R; r++) {
        if (lo[r] > maxlo) maxlo = lo[r];
        if (hi[r] < minhi) minhi = hi[r];
    }

    for (int j0 = k0; j0 < k1; j0 += L->kb) {
        const int nk = k1 - j0 < L->kb ? k1 - j0 : L->kb;
        /* prefetch the block DEC_PF keys ahead: K and V stream in while this computes */
        const int jp = j0 + DEC_PF, npf = DEC_PF > 0 && jp < k1 ? (k1 - jp < nk ? k1 - jp : nk) : 0;
        DECP(scores_dots)(kbh + (size_t)j0 * D, D, nk, D, qp, ldq, R4, p->scale, st, RL,
                          kbh + (size_t)jp * D, vbh + (size_t)jp * Dv, Dv, Dv, npf);
        const int masked = !(maxlo <= j0 && minhi >= j0 + nk);
        for (int g = 0; g < RL; g += lanes) {
            unsigned grew = DECP(softmax_tile)(st + g, RL, nk, j0, lo + g, hi + g, masked,
                                               m + g, l + g, corr + g);
            while (grew) {
                const int r = g + __builtin_ctz(grew);
                grew &= grew - 1;
                if (r < R4) DECP(scale_row)(acc + (size_t)r * lda, lda, corr[r]);
            }
        }
        DECP(pv)(st, RL, nk, vbh + (size_t)j0 * Dv, Dv, Dv, acc, lda, R4);
    }
}
#endif /* DEC_PREFIX */

#endif /* DECODE_SPLIT_H */
