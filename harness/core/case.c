/* case.c: names of case enums, case ids, and the exact count of attended pairs (case.h).
 *
 * The pair count is what FLOPs and GFLOP/s are computed from, so it must agree with the
 * mask every kernel applies: it takes the padding lengths and global positions from the
 * same helpers that build the tensors (inputs.c) and the band from attn_band().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/case.h"
#include "core/inputs.h"
#include "core/params.h"

/* ----------------------------------------------------------------- names -- */

const char *attn_mask_name(attn_mask m)
{
    return (unsigned)m < 4 ? attn_mask_names[m] : "?";
}

int attn_mask_parse(const char *s, attn_mask *out)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, attn_mask_names[i]) == 0) { *out = (attn_mask)i; return 0; }
    return -1;
}

const char *attn_score_name(attn_score s)
{
    return (unsigned)s < 2 ? attn_score_names[s] : "?";
}

int attn_score_parse(const char *s, attn_score *out)
{
    for (int i = 0; i < 2; i++)
        if (s && strcmp(s, attn_score_names[i]) == 0) { *out = (attn_score)i; return 0; }
    return -1;
}

/* -------------------------------------------------------------------- id -- */

/* "<sweep>-<kernel>" then the rows' id tags (core/params.def): "-b1-h8-kv8-q256-k256-d64-
 * dv64-t1-<mask>[-p0.25][-wl<L>-wr<R>][-g<n>]-<score>[-a<A>]". Parts that do not change
 * the measurement are left out (the IN_ID column). Characters outside [A-Za-z0-9._-] in
 * the sweep name become '_'. */
void attn_case_make_id(attn_case *c)
{
    char sweep[sizeof c->sweep];
    size_t i;
    for (i = 0; c->sweep[i] && i + 1 < sizeof sweep; i++) {
        char ch = c->sweep[i];
        int safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        sweep[i] = safe ? ch : '_';
    }
    sweep[i] = '\0';
    if (i == 0) snprintf(sweep, sizeof sweep, "sweep");
    snprintf(c->id, sizeof c->id, "%s-%s", sweep, c->kernel ? c->kernel->name : "none");
    attn_params_id(c, c->id, sizeof c->id);
}

/* ----------------------------------------------------------------- pairs -- */

/* Is x in the sorted array a (n)? */
static int contains(const int *a, int n, int x)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == x;
}

/* The problem of c with its mask tables, as the tensors get them (inputs.c): *kv the valid
 * keys per batch item (p->kv_len points at it), *gpos the *ng sorted global positions.
 * 0, or -1 when memory is short (nothing to free). The caller frees *kv and *gpos. */
static int mask_tables(const attn_case *c, attn_problem *p, int **kv, int **gpos, int *ng)
{
    *kv = malloc(sizeof(int) * (size_t)(c->batch > 0 ? c->batch : 1));
    *gpos = malloc(sizeof(int) * (size_t)(c->globals > 0 ? c->globals : 1));
    if (!*kv || !*gpos) {
        free(*kv);
        free(*gpos);
        return -1;
    }
    attn_problem_from_case(c, p);
    attn_kv_lengths(c, *kv);
    p->kv_len = *kv;
    *ng = attn_global_positions(c, *gpos);
    return 0;
}

/* Per query row: the band's width, plus the global keys outside the band that padding
 * and causality still let it see; a global query sees every such key. O(B*Lq*(1+G)). */
double attn_case_pairs(const attn_case *c)
{
    attn_problem p;
    int *kv, *gpos, ng;
    if (mask_tables(c, &p, &kv, &gpos, &ng) != 0) return -1.0;

    double pairs = 0.0;
    for (int b = 0; b < c->batch; b++) {
        for (int i = 0; i < c->q_len; i++) {
            int lo, hi;
            attn_band(&p, b, i, &lo, &hi);
            long n = hi - lo;
            if (ng > 0) {
                long a = (long)i + c->kv_len - c->q_len;
                long cap = kv[b];                       /* keys padding and causality allow */
                if (p.causal && a + 1 < cap) cap = a + 1;
                if (cap < 0) cap = 0;
                if (a >= 0 && a < c->kv_len && contains(gpos, ng, (int)a)) {
                    n = cap;
                } else {
                    for (int g = 0; g < ng; g++)
                        if (gpos[g] < cap && (gpos[g] < lo || gpos[g] >= hi)) n++;
                }
            }
            pairs += (double)n;
        }
    }
    free(kv);
    free(gpos);
    return pairs * c->heads;
}

double attn_case_flops(const attn_case *c)
{
    double pairs = attn_case_pairs(c);
    if (c->score == ATTN_SCORE_DOT) return pairs * (2.0 * c->head_dim + 2.0 * c->v_dim);
    double A = c->additive_dim;
    double proj = 2.0 * A * c->head_dim * ((double)c->q_len + c->kv_len) * c->batch * c->heads;
    return pairs * (3.0 * A + 2.0 * c->v_dim) + proj;
}

unsigned attn_case_needs(const attn_case *c)
{
    attn_problem p;
    attn_problem_from_case(c, &p);
    static const int any_length = 0;
    if (c->mask & MASK_PADDING) p.kv_len = &any_length;   /* only its presence matters */
    return attn_problem_needs(&p, c->threads);
}

/* ----------------------------------------------------------------- bytes -- */

typedef struct { long lo, hi; } key_span;

static int span_cmp(const void *a, const void *b)
{
    const key_span *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

int attn_case_elem_bytes(const attn_case *c)
{
    return (int)attn_dtype_size(c->dtype);
}

/* Per batch item, the keys some query row sees form a union of spans: each row's band
 * (attn_band), [0, cap) for a global query (it sees every key padding and causality
 * allow), and each global key below the largest cap of any row. The spans are sorted by
 * start and merged; their total length is the item's visible key count, the same for
 * every kv head of the item. */
double attn_case_bytes(const attn_case *c, int elem_bytes)
{
    attn_problem p;
    int *kv, *gpos, ng;
    if (mask_tables(c, &p, &kv, &gpos, &ng) != 0) return -1.0;
    key_span *sp = malloc(sizeof *sp * ((size_t)(c->q_len > 0 ? c->q_len : 0) + (size_t)ng + 1));
    if (!sp) {
        free(kv);
        free(gpos);
        return -1.0;
    }

    double keys = 0.0;          /* visible keys summed over batch items */
    for (int b = 0; b < c->batch; b++) {
        int n = 0;
        long maxcap = 0;
        for (int i = 0; i < c->q_len; i++) {
            long a = (long)i + c->kv_len - c->q_len;
            long cap = kv[b];                           /* keys padding and causality allow */
            if (p.causal && a + 1 < cap) cap = a + 1;
            if (cap < 0) cap = 0;
            if (cap > maxcap) maxcap = cap;
            if (ng > 0 && a >= 0 && a < c->kv_len && contains(gpos, ng, (int)a)) {
                if (cap > 0) sp[n++] = (key_span){ 0, cap };
                continue;
            }
            int lo, hi;
            attn_band(&p, b, i, &lo, &hi);
            if (hi > lo) sp[n++] = (key_span){ lo, hi };
        }
        for (int g = 0; g < ng; g++)
            if (gpos[g] < maxcap) sp[n++] = (key_span){ gpos[g], (long)gpos[g] + 1 };
        qsort(sp, (size_t)n, sizeof *sp, span_cmp);
        long end = 0, count = 0;
        for (int s = 0; s < n; s++) {
            long lo = sp[s].lo > end ? sp[s].lo : end;
            if (sp[s].hi > lo) count += sp[s].hi - lo;
            if (sp[s].hi > end) end = sp[s].hi;
        }
        keys += (double)count;
    }
    free(kv);
    free(gpos);
    free(sp);

    double eb = elem_bytes, rows = (double)c->batch * c->heads * c->q_len;
    double bytes = rows * c->head_dim * eb                      /* q */
                 + keys * c->kv_heads * (c->head_dim + c->v_dim) * eb   /* k, v */
                 + rows * c->v_dim * 4.0;                       /* out, fp32 */
    if (c->score == ATTN_SCORE_ADDITIVE)
        bytes += (2.0 * c->additive_dim * c->head_dim + c->additive_dim) * eb;   /* Wq, Wk, va */
    return bytes;
}
