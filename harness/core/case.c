/* case.c: names of case enums, case ids, the exact count of attended pairs, and the
 * size check that refuses a case no machine like this one could hold (case.h).
 *
 * The pair count is what FLOPs and GFLOP/s are computed from, so it must agree with the
 * mask every kernel applies: it takes the padding lengths from the same helper that builds
 * the tensors (attn_kv_length in inputs.c), the global positions from the same rule
 * (attn_global_positions) and the band from attn_band()'s formula, in closed form (see
 * "pairs" below); tests/test_case.c checks it against attn_allowed() pair by pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "core/case.h"
#include "core/inputs.h"
#include "core/layer.h"
#include "core/machine.h"
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
    return (unsigned)s < ATTN_SCORE_COUNT ? attn_score_names[s] : "?";
}

int attn_score_parse(const char *s, attn_score *out)
{
    for (int i = 0; i < ATTN_SCORE_COUNT; i++)
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

/* ----------------------------------------------------------------- sizes -- */

size_t attn_case_bytes_limit(void)
{
    long phys = attn_phys_mem_bytes();
    int ovf = 0;
    size_t lim = phys > 0 ? attn_size_mul((size_t)phys, ATTN_CASE_MEM_FACTOR, &ovf) : ATTN_CASE_BYTES_CAP;
    return ovf || lim > ATTN_CASE_BYTES_CAP ? ATTN_CASE_BYTES_CAP : lim;
}

int attn_case_size_check(const attn_case *c, size_t limit, char *why, size_t n)
{
    char need[32], lim[32], phys[32];
    size_t inputs = attn_inputs_bytes(c);
    int ovf = inputs == SIZE_MAX;
    size_t proj = 0;
    if (c->score == ATTN_SCORE_ADDITIVE && c->batch > 0 && c->kv_heads > 0 && c->additive_dim > 0 && c->kv_len > 0)
        proj = attn_size_mul(attn_size_mul((size_t)c->batch, (size_t)c->kv_heads, &ovf),
                             attn_size_mul(attn_size_mul((size_t)c->additive_dim, (size_t)c->kv_len, &ovf),
                                           sizeof(float), &ovf), &ovf);
    const char *what = proj > inputs ? "for the additive score's key projections" : "for its inputs";
    size_t bytes = proj > inputs ? proj : inputs;
    if (ovf) {
        snprintf(why, n, "needs more than 2^64 bytes %s: the sizes cannot be represented", what);
        return -1;
    }
    if (bytes <= limit) return 0;
    attn_fmt_bytes((double)bytes, need, sizeof need);
    attn_fmt_bytes((double)limit, lim, sizeof lim);
    attn_fmt_bytes((double)attn_phys_mem_bytes(), phys, sizeof phys);
    snprintf(why, n, "needs %s %s, more than this machine could ever hold (at most %s: %d x its "
             "%s of memory, and never over 128 TiB)", need, what, lim, ATTN_CASE_MEM_FACTOR, phys);
    return -1;
}

/* ----------------------------------------------------------------- pairs -- */

/* The pair count in closed form, O(1) per distinct padded length (once without padding):
 * nothing here is per (row, key) pair, nor per row, per global token or per batch item,
 * so a case of 2^30 tokens (even all of them global) is counted in microseconds; the
 * parent counts it before the memory budget is checked.
 *
 * Row i has the aligned position a = i + Lk - Lq, a in [a0, a1] = [Lk - Lq, Lk - 1]. In
 * batch item b with kv valid keys its band (attn_band) is [l(a), h(a)) with
 *     h(a) = min(kv, a + R + 1)   R = 0 when causal, else window_right (or unbounded)
 *     l(a) = max(0, a - WL)       WL = window_left (or unbounded: l = 0)
 * so the band width max(0, h - l) is piecewise linear in a, summed piece by piece. Global
 * keys (positions pos(g) = floor(g*Lk/n), g < n, the rule of attn_global_positions) add,
 * for every row, the globals below cap(a) = min(kv, a + 1 if causal) outside the band;
 * summed over rows that is a sum over globals of a count of rows, again piecewise linear,
 * in pos(g), whose sums are floor sums. A global query row sees every key below cap: the
 * difference that makes over its band and globals is summed the same way
 * (global_rows_sum). */

#define UNBOUNDED (1L << 40)    /* an open side: far beyond any length (<= 2^30) */

typedef long long ll;

/* sum_{i=0}^{n-1} floor((a*i + b) / m), for n, m >= 1 and a, b >= 0 (the usual Euclid-like
 * reduction; every term here stays below 2^62). */
static ll floor_sum(ll n, ll m, ll a, ll b)
{
    ll ans = 0;
    for (;;) {
        if (a >= m) { ans += (n - 1) * n / 2 * (a / m); a %= m; }
        if (b >= m) { ans += n * (b / m); b %= m; }
        ll y = a * n + b;
        if (y < m) return ans;
        n = y / m;
        b = y % m;
        ll t = m; m = a; a = t;
    }
}

typedef struct {
    ll Lk, n;                   /* keys, global tokens (n = 0: none) */
} globs;

/* pos(g): the position of global g */
static ll gpos(const globs *G, ll g) { return g * G->Lk / G->n; }
/* How many global positions are < x */
static ll gcount(const globs *G, ll x)
{
    if (G->n == 0 || x <= 0) return 0;
    if (x >= G->Lk) return G->n;
    return (x * G->n + G->Lk - 1) / G->Lk;     /* g*Lk/n < x  <=>  g < x*n/Lk */
}
/* sum of pos(g) for g in [g0, g1) */
static ll gpos_sum(const globs *G, ll g0, ll g1)
{
    if (g1 <= g0) return 0;
    return floor_sum(g1, G->n, G->Lk, 0) - floor_sum(g0, G->n, G->Lk, 0);
}

/* sum over integer x in [x0, x1] of max(0, alpha + s*x), s in {-1, 0, 1} */
static ll clamp_sum(ll x0, ll x1, ll alpha, int s)
{
    if (s > 0 && x0 < 1 - alpha) x0 = 1 - alpha;
    if (s < 0 && x1 > alpha - 1) x1 = alpha - 1;
    if (x1 < x0 || (s == 0 && alpha <= 0)) return 0;
    ll n = x1 - x0 + 1;
    return n * alpha + s * ((x0 + x1) * n / 2);
}

static int by_value(const void *x, const void *y)
{
    ll a = *(const ll *)x, b = *(const ll *)y;
    return (a > b) - (a < b);
}

/* Sort cut points, clip them to [lo, hi] and keep lo and hi: the pieces are [c[k], c[k+1]). */
static int cuts(ll *c, int n, ll lo, ll hi)
{
    for (int i = 0; i < n; i++) c[i] = c[i] < lo ? lo : c[i] > hi ? hi : c[i];
    c[n++] = lo;
    c[n++] = hi;
    qsort(c, (size_t)n, sizeof *c, by_value);
    return n;
}

typedef struct {
    ll a0, a1, Lk;              /* aligned positions of the first and last row */
    ll R, WL;                   /* right reach (0 causal), left reach; UNBOUNDED when open */
    int causal;
    globs G;
} rows;

/* sum over rows of the band width in an item with kv valid keys */
static ll band_sum(const rows *r, ll kv)
{
    ll c[4] = { kv - r->R - 1, r->WL + 1 };
    int n = cuts(c, 2, r->a0, r->a1 + 1);
    ll sum = 0;
    for (int k = 0; k + 1 < n; k++) {
        ll x0 = c[k], x1 = c[k + 1] - 1;
        if (x1 < x0) continue;
        int h_lin = x0 < kv - r->R - 1;        /* h = a + R + 1, else kv */
        int l_lin = x0 > r->WL;                /* l = a - WL, else 0 */
        ll alpha = (h_lin ? r->R + 1 : kv) - (l_lin ? -r->WL : 0);
        int slope = h_lin - l_lin;
        sum += clamp_sum(x0, x1, alpha, slope);
    }
    return sum;
}

/* sum over rows of the global keys below cap(a) outside the band, as if no row were a
 * global query: sum over globals g < gcount(kv) of the rows that see g that way. */
static ll globals_sum(const rows *r, ll kv)
{
    const globs *G = &r->G;
    ll ng = gcount(G, kv), sum = 0;
    if (ng == 0) return 0;
    /* rows with pos(g) < cap(a): all rows, or (causal) a >= pos(g) */
    if (!r->causal) {
        sum += ng * (r->a1 - r->a0 + 1);
    } else {
        ll g0 = gcount(G, r->a0) < ng ? gcount(G, r->a0) : ng;    /* pos < a0: every row */
        sum += g0 * (r->a1 - r->a0 + 1) + (ng - g0) * (r->a1 + 1) - gpos_sum(G, g0, ng);
    }
    /* minus the rows whose band holds g: a in [pos - R, pos + WL] within [a0, a1] */
    ll c[5] = { gcount(G, r->a1 - r->WL + 1), gcount(G, r->a0 + r->R), gcount(G, r->a0 - r->WL) };
    int n = cuts(c, 3, 0, ng);
    for (int k = 0; k + 1 < n; k++) {
        ll g0 = c[k], g1 = c[k + 1];
        if (g1 <= g0) continue;
        ll p = gpos(G, g0);
        int hi_lin = p + r->WL <= r->a1;        /* upper end pos + WL, else a1 */
        int lo_lin = p - r->R >= r->a0;         /* lower end pos - R, else a0 */
        ll alpha = (hi_lin ? r->WL : r->a1) - (lo_lin ? -r->R : r->a0) + 1;
        int slope = hi_lin - lo_lin;
        if (alpha + slope * p <= 0) continue;   /* the piece below pos = a0 - WL: no row */
        sum -= alpha * (g1 - g0) + slope * gpos_sum(G, g0, g1);
    }
    return sum;
}

/* floor(x / y) for y > 0, any sign of x */
static ll floor_div(ll x, ll y) { return x >= 0 ? x / y : -((-x + y - 1) / y); }

/* sum of gcount(pos(g) + k) for g in [g0, g1), where 0 <= pos(g) + k <= Lk there. With
 * r(g) = g*Lk mod n, pos(g) = (g*Lk - r)/n, so (pos(g) + k)*n/Lk = g + (k*n - r)/Lk and
 * the count is g + ceil((k*n - r)/Lk); as r < n <= Lk that ceiling takes two values, the
 * lower one exactly when r >= t, and [r >= t] is a difference of floors: floor sums. */
static ll gcount_shift_sum(const globs *G, ll g0, ll g1, ll k)
{
    if (g1 <= g0) return 0;
    ll n = G->n, Lk = G->Lk, N = g1 - g0;
    ll vmax = -floor_div(-k * n, Lk);           /* ceil(k*n / Lk): the value at r = 0 */
    ll t = k * n - (vmax - 1) * Lk;             /* in [1, Lk] */
    ll lower = 0;                               /* how many g have r(g) >= t */
    if (t < n)
        lower = (floor_sum(g1, n, Lk, n - t) - floor_sum(g0, n, Lk, n - t)) -
                (floor_sum(g1, n, Lk, 0) - floor_sum(g0, n, Lk, 0));
    return (g0 + g1 - 1) * N / 2 + vmax * N - lower;
}

/* sum over g in [g0, g1) of F(x) = x - gcount(x), the non-global keys below x, for
 * x = pos(g) + k (lin) or x = k (constant) */
static ll F_sum(const globs *G, ll g0, ll g1, int lin, ll k)
{
    if (g1 <= g0) return 0;
    if (!lin) return (g1 - g0) * (k - gcount(G, k));
    return gpos_sum(G, g0, g1) + k * (g1 - g0) - gcount_shift_sum(G, g0, g1, k);
}

/* A global query row a sees every key below cap(a): what that adds to band + globals is
 * the non-global keys below cap outside the band, F(cap) - F(hi) + F(lo). Over the global
 * rows (global positions in [max(a0, 0), a1]) each of cap, hi and lo is either constant or
 * pos + constant between cut points, so the sum is floor sums again: no loop per row. */
static ll global_rows_sum(const rows *r, ll kv)
{
    const globs *G = &r->G;
    ll gA = gcount(G, r->a0 > 0 ? r->a0 : 0), gB = gcount(G, r->a1 + 1), sum = 0;
    ll c[8] = { gcount(G, kv), gcount(G, kv - r->R - 1), gcount(G, r->WL), gcount(G, kv + r->WL + 1) };
    int n = cuts(c, 4, gA, gB);
    for (int k = 0; k + 1 < n; k++) {
        ll g0 = c[k], g1 = c[k + 1];
        if (g1 <= g0) continue;
        ll p = gpos(G, g0);
        int cap_lin = r->causal && p < kv;              /* cap = p + 1, else kv */
        int h_lin = p + r->R + 1 < kv;                  /* h = p + R + 1, else kv */
        int l_lin = r->WL < UNBOUNDED && p >= r->WL;    /* l = p - WL, else 0 */
        int empty = p > kv + r->WL;                     /* h < l: hi = lo */
        sum += F_sum(G, g0, g1, cap_lin, cap_lin ? 1 : kv);
        if (!empty) sum -= F_sum(G, g0, g1, h_lin, h_lin ? r->R + 1 : kv) - F_sum(G, g0, g1, l_lin, l_lin ? -r->WL : 0);
    }
    return sum;
}

/* The rows of c as band_sum and the rest see them. */
static rows rows_of(const attn_case *c)
{
    rows r = { .a0 = (ll)c->kv_len - c->q_len, .a1 = (ll)c->kv_len - 1, .Lk = c->kv_len,
               .causal = (c->mask & MASK_CAUSAL) != 0 };
    r.R = r.causal ? 0 : c->window_right >= 0 ? c->window_right : UNBOUNDED;
    r.WL = c->window_left >= 0 ? c->window_left : UNBOUNDED;
    r.G.Lk = c->kv_len;
    r.G.n = c->globals < c->kv_len ? c->globals : c->kv_len;
    if (r.G.n < 0) r.G.n = 0;
    return r;
}

/* The attended pairs of one item with kv valid keys (one head). */
static ll item_pairs(const rows *r, ll kv)
{
    ll n = band_sum(r, kv);
    if (r->G.n > 0) n += globals_sum(r, kv) + global_rows_sum(r, kv);
    return n;
}

/* sum over batch items of f(kv_b). Items alike share one count: kv_b falls as b grows
 * (attn_kv_length), so each run of equal lengths is found by binary search and counted
 * once; there are at most min(B, Lk + 1) runs (one without padding). */
static double per_item_sum(const attn_case *c, const rows *r, ll (*f)(const rows *, ll))
{
    double sum = 0.0;
    for (int b = 0; b < c->batch;) {
        int kv = attn_kv_length(c, b), lo = b, hi = c->batch - 1;
        if (!(c->mask & MASK_PADDING)) lo = hi;
        while (lo < hi) {                       /* the last item with this length */
            int mid = lo + (hi - lo + 1) / 2;
            if (attn_kv_length(c, mid) == kv) lo = mid;
            else hi = mid - 1;
        }
        sum += (double)f(r, kv) * (lo - b + 1);
        b = lo + 1;
    }
    return sum;
}

double attn_case_pairs(const attn_case *c)
{
    if (c->batch < 1 || c->q_len < 1 || c->kv_len < 1) return 0;
    rows r = rows_of(c);
    return per_item_sum(c, &r, item_pairs) * c->heads;
}

double attn_case_flops(const attn_case *c)
{
    return attn_case_attention_flops(c) + attn_layer_proj_flops(c);
}

double attn_case_attention_flops(const attn_case *c)
{
    double pairs = attn_case_pairs(c);
    if (c->score == ATTN_SCORE_DOT) return pairs * (2.0 * c->head_dim + 2.0 * c->v_dim);
    if (c->score == ATTN_SCORE_GENERAL)     /* q' = W^T q once per query row and head */
        return pairs * (2.0 * c->head_dim + 2.0 * c->v_dim) +
               2.0 * c->head_dim * c->head_dim * c->q_len * (double)c->batch * c->heads;
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
    unsigned needs = attn_problem_needs(&p, c->threads);
    /* mha: the layer's projections run on c->threads; a kernel without threads runs its
     * attention on one (core/layer.c), so every kernel can be measured inside the layer */
    return c->layer == ATTN_LAYER_MHA ? needs & ~(unsigned)ATTN_CAP_THREADS : needs;
}

/* ----------------------------------------------------------------- bytes -- */

int attn_case_elem_bytes(const attn_case *c)
{
    return (int)attn_dtype_size(c->dtype);
}

/* The keys some row of an item with kv valid keys sees, in closed form. Both ends of a
 * row's band, l(a) and h(a), grow with a by at most one per row, and the rows with a
 * non-empty band are consecutive (a from -R to kv + WL - 1), so their bands overlap in
 * turn and cover one interval [l(first), h(last)). A global query row covers [0, cap(a)),
 * the widest for the last such row; and a global key below kv is seen by every global
 * row (or, past them, by the row whose cap reaches it). The count is the union of the two
 * intervals plus the global keys below kv outside both. */
static ll visible_keys(const rows *r, ll kv)
{
    const globs *G = &r->G;
    if (kv <= 0) return 0;
    ll first = r->a0 > -r->R ? r->a0 : -r->R, last = r->a1 < kv + r->WL - 1 ? r->a1 : kv + r->WL - 1;
    ll bl = 0, bh = 0;                          /* the bands' union [bl, bh) */
    if (first <= last) {
        bl = first - r->WL > 0 ? first - r->WL : 0;
        bh = last + r->R + 1 < kv ? last + r->R + 1 : kv;
    }
    ll gcap = 0;                                /* global rows cover [0, gcap) */
    ll g_hi = gcount(G, r->a1 + 1), g_lo = gcount(G, r->a0 > 0 ? r->a0 : 0);
    if (g_hi > g_lo) {
        ll p = gpos(G, g_hi - 1);
        gcap = r->causal && p + 1 < kv ? p + 1 : kv;
    }
    ll n, in_globals;                           /* keys covered, global keys among them */
    if (bh <= bl) {
        n = gcap;
        in_globals = gcount(G, gcap);
    } else {
        ll from = bl > gcap ? bl : gcap;        /* the band's part above [0, gcap) */
        n = gcap + (bh > from ? bh - from : 0);
        in_globals = gcount(G, gcap) + (bh > from ? gcount(G, bh) - gcount(G, from) : 0);
    }
    return n + gcount(G, kv) - in_globals;
}

double attn_case_bytes(const attn_case *c, int elem_bytes)
{
    double keys = 0.0;          /* visible keys summed over batch items */
    if (c->batch > 0 && c->q_len > 0 && c->kv_len > 0) {
        rows r = rows_of(c);
        keys = per_item_sum(c, &r, visible_keys);
    }

    double eb = elem_bytes, rows = (double)c->batch * c->heads * c->q_len;
    double bytes = rows * c->head_dim * eb                      /* q */
                 + keys * c->kv_heads * (c->head_dim + c->v_dim) * eb   /* k, v */
                 + rows * c->v_dim * 4.0;                       /* out, fp32 */
    if (c->score == ATTN_SCORE_ADDITIVE)
        bytes += (2.0 * c->additive_dim * c->head_dim + c->additive_dim) * eb;   /* Wq, Wk, va */
    if (c->score == ATTN_SCORE_GENERAL) bytes += (double)c->head_dim * c->head_dim * eb;  /* W */
    return bytes + attn_layer_bytes(c);
}
