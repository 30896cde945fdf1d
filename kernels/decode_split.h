/* decode_split.h: the split-KV driver shared by the decode kernels (decode, decode_avx2).
 * No intrinsics here.
 *
 * Use: the including file picks a dec_geom (keys per block, softmax lanes, acc column
 * multiple, whether it wants a widened copy of each 16-bit K/V block), has a part
 * function (dec_part_fn) per storage type that runs one group's rows over one key range,
 * and calls dec_check(), dec_workspace() and dec_run(). The SIMD kernels' part function
 * is decode_simd_part.h's dec_simd_part, one instance per storage type.
 *
 * Storage: q, k, v are read in the problem's dtype: the float arrays for f32, p->q16,
 * k16, v16 (2 bytes an element) for bf16 and f16. dec_run hands the part function
 * pointers into that storage (const void *); the part function of that dtype knows the
 * element type, so no loop over elements asks which dtype it reads.
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
 *   threads x scratch (q rows, a key block of scores, acc, row statistics; with
 *   geom.widen and a 16-bit dtype also one widened block of K and V rows)
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
/* the dtypes both decode kernels accept: q, k, v stored as fp32, bf16 or f16 */
#define DEC_DTYPES (ATTN_DTYPE_BIT(ATTN_F32) | ATTN_DTYPE_BIT(ATTN_BF16) | ATTN_DTYPE_BIT(ATTN_F16))

static inline int dec_round_up(int n, int m) { return (n + m - 1) / m * m; }
static inline size_t dec_round_up_z(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* A kernel's block geometry: kb keys per block; lanes, the rows per softmax vector (8 or
 * 16: row statistics and score rows are rounded up to it, and q rows padded to it); cols,
 * the column multiple of acc's row stride (the PV microkernel's column chunk); widen: 1
 * when its part function widens each block of 16-bit K and V rows into scratch (kw) before
 * computing (the portable decode), 0 when it widens in registers. */
typedef struct { int kb, lanes, cols, widen; } dec_geom;

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
    size_t o_q, o_st, o_acc, o_m, o_l, o_corr, o_lo, o_hi, o_kw, thread_floats;
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
    L.o_kw = o;                                                 /* widened K block, V block */
    if (geom.widen && p->dtype != ATTN_F32) o += dec_round_up_z((size_t)L.kb * (p->D + p->Dv), 16);
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
 * against keys [k0, k1) of kbh (Lk, D) / vbh (Lk, Dv), all three in the problem's storage
 * (float, or the uint16_t bits of bf16 / f16). lo, hi (RL ints in scratch) are
 * already filled (padding rows: empty band). On return the scratch holds m, l (RL) and
 * acc (R4 x lda), unnormalised: out row r = acc[r] / l[r]; l[r] == 0 means row r saw no
 * key of the range (then acc[r] is 0 and m[r] is -inf). */
typedef void (*dec_part_fn)(const attn_problem *p, const dec_layout *L, const void *qg,
                            const void *kbh, const void *vbh, int k0, int k1, float *scratch);

/* run()'s checks: the capabilities, then the dtype (one of the mask `dtypes` of
 * ATTN_DTYPE_BIT), then the 16-bit tensors of a 16-bit dtype. */
static inline attn_status dec_check(const attn_problem *p, unsigned caps, int threads,
                                    unsigned dtypes)
{
    int st = attn_problem_check(p, caps, threads);
    if (st != ATTN_OK) return (attn_status)st;
    if ((unsigned)p->dtype >= ATTN_DTYPE_COUNT || !(dtypes & ATTN_DTYPE_BIT(p->dtype)))
        return ATTN_ERR_UNSUPPORTED;
    if (p->dtype != ATTN_F32 && (!p->q16 || !p->k16 || !p->v16)) return ATTN_ERR_INVALID;
    return ATTN_OK;
}

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
    const int f32 = p->dtype == ATTN_F32;
    const size_t es = attn_dtype_size(p->dtype);     /* bytes of one stored element */
    const char *qs = f32 ? (const char *)q : (const char *)p->q16;
    const char *ks = f32 ? (const char *)k : (const char *)p->k16;
    const char *vs = f32 ? (const char *)v : (const char *)p->v16;
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
            part(p, &L, qs + h0 * Lq * D * es, ks + kvh * p->Lk * D * es,
                 vs + kvh * p->Lk * Dv * es, (int)k0, (int)k1, sc);
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

#endif /* DECODE_SPLIT_H */
