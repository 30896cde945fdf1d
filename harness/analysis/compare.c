/* compare.c: `attnbench compare BASE NEW`: did a kernel get slower, without crying wolf.
 *
 * Matching. Cases are matched by a canonical key made of the kernel name and every field
 * of "params" (sorted by name), never by the id, which carries the sweep name. When one
 * document holds the same kernel+params twice (two sweeps overlapping), the n-th
 * occurrence in BASE matches the n-th in NEW.
 *
 * Per matched case (both sides "ok"), from the raw samples (time_s.samples, so a copy of a
 * results file with scaled samples is judged on what it holds, not on stale summaries):
 *   ratio  r = median(NEW) / median(BASE); "change" is r - 1.
 *   CI     90% confidence interval of r by Price & Bonett (2002): each side's variance of
 *          the log median from two order statistics whose binomial coverage is known,
 *          combined in log space. Distribution-free, deterministic (no random seed),
 *          O(n log n), so it stays cheap for fast kernels with thousands of samples. Its
 *          lower end is a one-sided 95% confidence bound, the one the rule below uses.
 *   p      two-sided Mann-Whitney U test (exact for tiny untied samples, else normal
 *          approximation with tie and continuity corrections), as scipy and Google
 *          Benchmark's compare.py compute it.
 *
 * Verdict (t = --threshold, default 5%; alpha = --alpha, default 0.01):
 *   regressed  p < alpha  AND  r > 1 + t  AND  CI low > 1 + t/2
 *   improved   p < alpha  AND  1/r > 1 + t  AND  1/(CI high) > 1 + t/2
 *   unchanged  otherwise (the note says which condition was not met)
 * and two guards against the noise of shared machines (measured here: two runs of the same
 * binary minutes apart differ by 2-4% per case (SD), by up to 10% in clean, tight
 * distributions, and by 30% when another process took the core during a case):
 *   - run-to-run noise (noise_floor below): with 8 or more cases, a common shift within
 *     the threshold is taken for machine drift and the spread of the changes across cases
 *     for run-to-run noise; a case must also move 3 sigma beyond the drift.
 *   - disturbed runs: contention slows a case and stretches its timings. When NEW's
 *     relative IQR is over 4x BASE's and above 15%, a regression is not called (the note
 *     says rerun); likewise an improvement when BASE is the stretched side.
 * Why these conditions. The U test alone cries wolf: with 20+ samples it finds a 1% shift
 * "significant". t is the size a team cares about. The CI bound keeps a median pushed over
 * t by a few slow samples from counting unless the data exclude a change below t/2. The
 * guards handle what within-run statistics cannot see. A planted slowdown (every sample
 * scaled) leaves the spread across cases at zero, so the plain rule applies: 15% is found
 * with 10 samples at CV 8%, 2% never passes t. Improvements are judged symmetrically in
 * log space. tests/test_compare.c checks these targets on 200 noisy synthetic cases.
 *
 * Other verdicts: new (only in NEW, or BASE had no valid measurement), missing (only in
 * BASE, or skipped in NEW), invalid (NEW invalid/crashed/timeout while BASE was not).
 * Too few samples (the U test cannot reach alpha: 2/C(nb+nn, nb) >= alpha, or a side
 * under 3) leave the verdict "unchanged" with a warning naming the minimum.
 * The geometric mean of r over cases measured on both sides summarises the run; when
 * nearly all cases moved together a warning says the machine, not a kernel, likely
 * changed. Exit 1 when a case regressed or became invalid.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/util.h"
#include "record/baseline.h"
#include "cli/commands.h"
#include "analysis/compare.h"
#include "record/results.h"

/* ---------------------------------------------------------------------------------- */
/* verdict names                                                                        */

static const char *verdict_names[CMP_N_VERDICTS] = {
    [CMP_UNCHANGED] = "unchanged", [CMP_REGRESSED] = "regressed", [CMP_IMPROVED] = "improved",
    [CMP_NEW] = "new", [CMP_MISSING] = "missing", [CMP_INVALID] = "invalid",
    [CMP_INCONCLUSIVE] = "inconclusive",
};

const char *attn_verdict_name(attn_verdict v)
{
    return (v >= 0 && v < CMP_N_VERDICTS) ? verdict_names[v] : "?";
}

/* ---------------------------------------------------------------------------------- */
/* case keys and labels                                                                 */

/* Append printf output to buf (len is the used length); silently truncates. */
static void appendf(char *buf, size_t n, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
}

/* A JSON scalar as canonical text: numbers %.17g (integers exact), strings raw. */
static void value_text(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9e15) snprintf(out, n, "%.0f", d);
        else snprintf(out, n, "%.17g", d);
    } else if (cJSON_IsString(v)) {
        snprintf(out, n, "%s", v->valuestring);
    } else if (cJSON_IsBool(v)) {
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        snprintf(out, n, "null");
    } else {                    /* arrays/objects: their compact JSON, stable for our writer */
        char *s = cJSON_PrintUnformatted(v);
        snprintf(out, n, "%s", s ? s : "?");
        free(s);
    }
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Does params field `name` change what is measured? Not the sweep's name (the same case
 * in differently named sweeps is the same measurement), not pad without a padding mask,
 * not additive_dim for dot scores. Key and label both leave these out. */
static int param_matters(const cJSON *params, const char *name)
{
    if (!strcmp(name, "sweep")) return 0;
    const cJSON *mask = cJSON_GetObjectItemCaseSensitive(params, "mask");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(params, "score");
    if (!strcmp(name, "pad") && cJSON_IsString(mask) && !strstr(mask->valuestring, "padding")) return 0;
    if (!strcmp(name, "additive_dim") && cJSON_IsString(score) && strcmp(score->valuestring, "additive"))
        return 0;
    return 1;
}

int attn_case_key(const cJSON *c, char *out, size_t n)
{
    out[0] = 0;
    const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(c, "kernel");
    if (!cJSON_IsString(kernel)) return -1;
    appendf(out, n, "kernel=%s;", kernel->valuestring);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "params");
    int np = cJSON_GetArraySize(params);
    if (np <= 0) return 0;
    const char **names = malloc(sizeof *names * (size_t)np);
    if (!names) return -1;
    int k = 0;
    for (const cJSON *f = params->child; f; f = f->next)
        if (f->string && param_matters(params, f->string)) names[k++] = f->string;
    qsort(names, (size_t)k, sizeof *names, cmp_strp);
    for (int i = 0; i < k; i++) {
        char v[256];
        value_text(cJSON_GetObjectItemCaseSensitive(params, names[i]), v, sizeof v);
        appendf(out, n, "%s=%s;", names[i], v);
    }
    free(names);
    return 0;
}

void attn_case_label(const cJSON *c, char *out, size_t n)
{
    /* params written in the label in this order with these short names; the rest of the
     * params (added later) follow as name:value so the label stays unique */
    static const struct { const char *field, *tag; } order[] = {
        { "batch", "b" }, { "heads", "h" }, { "kv_heads", "kv" }, { "q_len", "q" },
        { "kv_len", "k" }, { "head_dim", "d" }, { "v_dim", "dv" }, { "threads", "t" },
        { "mask", "mask" }, { "window_left", "wl" }, { "window_right", "wr" },
        { "globals", "g" }, { "score", "score" },
    };
    const int n_order = (int)(sizeof order / sizeof order[0]);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "params");
    snprintf(out, n, "%s", attn_json_str(c, "kernel", "?"));
    double heads = attn_json_num(p, "heads", NAN), head_dim = attn_json_num(p, "head_dim", NAN);
    for (int i = 0; i < n_order; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, order[i].field);
        if (!v) continue;
        const char *f = order[i].field;
        /* leave out what equals its default: the label is read by people */
        if (!strcmp(f, "kv_heads") && cJSON_IsNumber(v) && v->valuedouble == heads) continue;
        if (!strcmp(f, "v_dim") && cJSON_IsNumber(v) && v->valuedouble == head_dim) continue;
        if ((!strcmp(f, "window_left") || !strcmp(f, "window_right")) && cJSON_IsNumber(v) &&
            v->valuedouble < 0) continue;
        if (!strcmp(f, "globals") && cJSON_IsNumber(v) && v->valuedouble == 0) continue;
        if (!strcmp(f, "score") && cJSON_IsString(v) && !strcmp(v->valuestring, "dot")) continue;
        char t[128];
        value_text(v, t, sizeof t);
        appendf(out, n, "/%s:%s", order[i].tag, t);
    }
    for (const cJSON *f = p ? p->child : NULL; f; f = f->next) {
        int known = 0;
        for (int i = 0; i < n_order && !known; i++) known = f->string && !strcmp(f->string, order[i].field);
        if (known || !f->string || !param_matters(p, f->string)) continue;
        char t[128];
        value_text(f, t, sizeof t);
        appendf(out, n, "/%s:%s", f->string, t);
    }
}

/* ---------------------------------------------------------------------------------- */
/* samples                                                                              */

double *attn_case_samples(const cJSON *c, int *n)
{
    *n = 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "time_s");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "samples");
    int ns = cJSON_IsArray(s) ? cJSON_GetArraySize(s) : 0;
    if (ns > 0) {
        double *x = malloc(sizeof *x * (size_t)ns);
        if (!x) return NULL;
        int k = 0;
        for (const cJSON *e = s->child; e; e = e->next)
            if (cJSON_IsNumber(e) && isfinite(e->valuedouble) && e->valuedouble > 0)
                x[k++] = e->valuedouble;
        if (k > 0) { *n = k; return x; }
        free(x);
    }
    double med = attn_json_num(t, "median", NAN);
    if (!(isfinite(med) && med > 0)) return NULL;
    double *x = malloc(sizeof *x);
    if (x) { x[0] = med; *n = 1; }
    return x;
}

static double median_sorted(const double *s, int n)
{
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* ---------------------------------------------------------------------------------- */
/* Mann-Whitney U                                                                       */

static double norm_sf(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

/* z with norm_sf(z) = p, for p in (0, 1): bisection, plenty fast for a handful of calls. */
static double norm_isf(double p)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200 && hi - lo > 1e-13; i++) {
        double mid = 0.5 * (lo + hi);
        if (norm_sf(mid) > p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

double attn_mwu_min_p(int nx, int ny)
{
    if (nx <= 0 || ny <= 0) return 1;
    double log_c = lgamma(nx + ny + 1.0) - lgamma(nx + 1.0) - lgamma(ny + 1.0);
    double p = 2 * exp(-log_c);
    return p > 1 ? 1 : p;
}

/* P(U >= u) for untied samples of sizes m, n: count orderings by the recursion on the
 * largest element (an x above all j y's adds j to U), one layer of y counts at a time.
 * f[i][u] = number of orderings of i x's and j y's with U = u. */
static double exact_sf(int m, int n, double u_obs)
{
    int umax = m * n;
    double *f = calloc((size_t)(m + 1) * (size_t)(umax + 1), sizeof *f);
    if (!f) return NAN;
#define F(i, u) f[(size_t)(i) * (size_t)(umax + 1) + (size_t)(u)]
    for (int i = 0; i <= m; i++) F(i, 0) = 1;       /* j = 0: a single ordering, U = 0 */
    for (int j = 1; j <= n; j++) {
        /* going up in i, F(i-1, .) already holds layer j (the largest is an x) and F(i, .)
         * still holds layer j-1 (the largest is a y, adding nothing) */
        for (int i = 1; i <= m; i++)
            for (int u = umax; u >= 0; u--)
                F(i, u) = F(i, u) + (u >= j ? F(i - 1, u - j) : 0);
    }
    double total = 0, tail = 0;
    for (int u = 0; u <= umax; u++) {
        total += F(m, u);
        if (u >= u_obs - 1e-9) tail += F(m, u);
    }
#undef F
    free(f);
    return tail / total;
}

double attn_mann_whitney(const double *x, int nx, const double *y, int ny, double *u_out)
{
    if (u_out) *u_out = NAN;
    if (nx <= 0 || ny <= 0) return NAN;
    int n = nx + ny;
    struct obs { double v; int from_x; } *all = malloc(sizeof *all * (size_t)n);
    if (!all) return NAN;
    for (int i = 0; i < nx; i++) all[i] = (struct obs){ x[i], 1 };
    for (int i = 0; i < ny; i++) all[nx + i] = (struct obs){ y[i], 0 };
    /* sort by value (cmp_double reads the struct's first member) */
    qsort(all, (size_t)n, sizeof *all, attn_cmp_double);
    /* average ranks over tie groups; sum of t^3 - t for the variance correction */
    double rank_x = 0, tie_term = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v) j++;
        double r = 0.5 * (i + j) + 1;               /* ranks are 1-based */
        for (int k = i; k <= j; k++) if (all[k].from_x) rank_x += r;
        double t = j - i + 1;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    free(all);
    double u1 = rank_x - 0.5 * nx * (nx + 1.0);    /* pairs with x > y, ties count half */
    if (u_out) *u_out = u1;
    double mn = (double)nx * ny;
    double u = fmax(u1, mn - u1);                   /* two-sided: the larger tail */
    double p;
    if ((nx <= 8 || ny <= 8) && tie_term == 0 && n <= 200) {
        p = 2 * exact_sf(nx, ny, u);
    } else {
        double mu = mn / 2;
        double var = mn / 12 * ((n + 1) - tie_term / ((double)n * (n - 1)));
        if (var <= 0) return 1;                     /* every value tied */
        double z = (u - mu - 0.5) / sqrt(var);
        p = 2 * norm_sf(z);
    }
    return p > 1 ? 1 : p;
}

/* ---------------------------------------------------------------------------------- */
/* CI of the ratio of medians (Price & Bonett 2002)                                     */

/* Variance of the log median of sorted positive samples s (n >= 3): the order statistics
 * c and n-c+1 (1-based), c = round((n+1)/2 - sqrt(n)), cover the median with probability
 * 1 - a, a = 2 P(Binomial(n, 1/2) <= c-1); their log distance is then 2 z_{a/2} SE. */
static double log_median_var(const double *s, int n)
{
    int c = (int)lround((n + 1) / 2.0 - sqrt((double)n));
    if (c < 1) c = 1;
    double cdf = 0, pk = pow(0.5, n);               /* P(B = 0) */
    for (int k = 0; k <= c - 1; k++) {
        cdf += pk;
        pk *= (double)(n - k) / (k + 1);
    }
    double a = 2 * cdf;
    double z = norm_isf(a / 2);
    double se = (log(s[n - c]) - log(s[c - 1])) / (2 * z);
    return se * se;
}

void attn_ratio_ci(const double *x, int nx, const double *y, int ny, double level,
                   double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (nx < 3 || ny < 3) return;
    double *sx = malloc(sizeof *sx * (size_t)nx), *sy = malloc(sizeof *sy * (size_t)ny);
    if (!sx || !sy) { free(sx); free(sy); return; }
    memcpy(sx, x, sizeof *sx * (size_t)nx);
    memcpy(sy, y, sizeof *sy * (size_t)ny);
    qsort(sx, (size_t)nx, sizeof *sx, attn_cmp_double);
    qsort(sy, (size_t)ny, sizeof *sy, attn_cmp_double);
    if (sx[0] > 0 && sy[0] > 0) {
        double lr = log(median_sorted(sy, ny) / median_sorted(sx, nx));
        double half = norm_isf((1 - level) / 2) * sqrt(log_median_var(sx, nx) + log_median_var(sy, ny));
        *lo = exp(lr - half);
        *hi = exp(lr + half);
    }
    free(sx);
    free(sy);
}

/* ---------------------------------------------------------------------------------- */
/* verdicts                                                                             */

static int add_warning(attn_cmp_report *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = realloc(r->warnings, sizeof *w * (size_t)(r->n_warnings + 1));
    if (!w) return -1;
    r->warnings = w;
    if (!(w[r->n_warnings] = strdup(buf))) return -1;
    r->n_warnings++;
    return 0;
}

/* Status of a case: "ok" when absent but timed (older or hand-made files). */
static const char *case_status(const cJSON *c)
{
    const char *s = attn_json_str(c, "status", NULL);
    if (s) return s;
    return cJSON_GetObjectItemCaseSensitive(c, "time_s") ? "ok" : "unknown";
}

static int status_bad(const char *s)   /* a failure of the kernel, not a choice to skip */
{
    return !strcmp(s, "invalid") || !strcmp(s, "crashed") || !strcmp(s, "timeout");
}

/* Keys of every case of a document, made unique by occurrence ("#2" on the second). */
static char (*doc_keys(const cJSON *cases, int *n))[ATTN_CASE_KEY_MAX]
{
    *n = cJSON_GetArraySize(cases);
    char (*keys)[ATTN_CASE_KEY_MAX] = calloc((size_t)(*n ? *n : 1), sizeof *keys);
    if (!keys) return NULL;
    int i = 0;
    for (const cJSON *c = cases->child; c; c = c->next, i++) {
        if (attn_case_key(c, keys[i], sizeof keys[i]) != 0)
            snprintf(keys[i], sizeof keys[i], "id=%s;", attn_json_str(c, "id", "?"));
        int dup = 1;
        for (int j = 0; j < i; j++) {
            const char *h = strchr(keys[j], '#');
            size_t lj = h ? (size_t)(h - keys[j]) : strlen(keys[j]);
            if (lj == strlen(keys[i]) && !strncmp(keys[j], keys[i], lj)) dup++;
        }
        if (dup > 1) appendf(keys[i], sizeof keys[i], "#%d", dup);
    }
    return keys;
}

/* Log-space bounds a change must pass: a regression needs log r > up and a lower CI end
 * above ci_up; an improvement log r < down and an upper CI end below ci_down. */
typedef struct bounds { double up, ci_up, down, ci_down; } bounds;

static bounds plain_bounds(double t)
{
    double l = log1p(t);
    return (bounds){ l, l / 2, -l, -l / 2 };
}

/* Verdict of a case whose ratio, p and CI are known. */
static void decide(attn_cmp_case *cc, const bounds *bd, double alpha)
{
    double lr = log(cc->ratio);
    int sig = cc->p < alpha;
    cc->verdict = CMP_UNCHANGED;
    cc->note[0] = 0;
    if (lr > 0) {
        int big = lr > bd->up, sure = log(cc->ci_low) > bd->ci_up;
        if (sig && big && sure) cc->verdict = CMP_REGRESSED;
        else if (big && !sig)
            snprintf(cc->note, sizeof cc->note, "slower by more than %.1f%%, not significant", 100 * expm1(bd->up));
        else if (big)
            snprintf(cc->note, sizeof cc->note, "CI reaches %+.1f%%, not beyond %+.1f%%",
                     100 * (cc->ci_low - 1), 100 * expm1(bd->ci_up));
        else if (sig && lr > bd->up / 2)
            snprintf(cc->note, sizeof cc->note, "significant, below the %.1f%% threshold", 100 * expm1(bd->up));
    } else {
        int big = lr < bd->down, sure = log(cc->ci_high) < bd->ci_down;
        if (sig && big && sure) cc->verdict = CMP_IMPROVED;
        else if (big && !sig)
            snprintf(cc->note, sizeof cc->note, "faster by more than %.1f%%, not significant", -100 * expm1(bd->down));
        else if (big)
            snprintf(cc->note, sizeof cc->note, "CI reaches %+.1f%%, not beyond %+.1f%%",
                     100 * (cc->ci_high - 1), 100 * expm1(bd->ci_down));
        else if (sig && lr < bd->down / 2)
            snprintf(cc->note, sizeof cc->note, "significant, below the %.1f%% threshold", -100 * expm1(bd->down));
    }
    /* contention slows and stretches one run's timings: a slowdown whose NEW side is far
     * noisier (or a speedup whose BASE side is) may be the disturbance, not the kernel; the
     * other way round the disturbance works against the call, which then stands */
    int suspect = cc->unstable && (cc->verdict == CMP_REGRESSED ? cc->spread_new > cc->spread_base
                                 : cc->verdict == CMP_IMPROVED && cc->spread_base > cc->spread_new);
    if (suspect) {
        double wide = fmax(cc->spread_base, cc->spread_new), narrow = fmin(cc->spread_base, cc->spread_new);
        snprintf(cc->note, sizeof cc->note, "would be %s, but %s timings are far noisier "
                 "(IQR %.0f%% vs %.0f%%): disturbed run? rerun", verdict_names[cc->verdict],
                 cc->spread_new > cc->spread_base ? "NEW" : "BASE", 100 * wide, 100 * narrow);
        cc->verdict = CMP_UNCHANGED;
    }
}

/* Quantile q of sorted data, linear interpolation (type 7). */
static double quantile_sorted(const double *s, int n, double q)
{
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    int hi = lo + 1 < n ? lo + 1 : lo;
    return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/* Statistics and a first verdict (plain threshold) of a case measured on both sides
 * (xb, xn sorted). */
static void judge(attn_cmp_case *cc, const double *xb, int nb, const double *xn, int nn,
                  double t, double alpha)
{
    cc->verdict = CMP_UNCHANGED;
    if (nb < 3 || nn < 3 || attn_mwu_min_p(nb, nn) >= alpha) {
        cc->too_few = 1;
        snprintf(cc->note, sizeof cc->note, "too few samples to decide (%d vs %d)", nb, nn);
        if (nb >= 1 && nn >= 1) cc->p = attn_mann_whitney(xb, nb, xn, nn, NULL);
        return;
    }
    cc->p = attn_mann_whitney(xb, nb, xn, nn, NULL);
    attn_ratio_ci(xb, nb, xn, nn, ATTN_CMP_CI_LEVEL, &cc->ci_low, &cc->ci_high);
    cc->spread_base = (quantile_sorted(xb, nb, 0.75) - quantile_sorted(xb, nb, 0.25)) / cc->base_median;
    cc->spread_new = (quantile_sorted(xn, nn, 0.75) - quantile_sorted(xn, nn, 0.25)) / cc->new_median;
    double wide = fmax(cc->spread_base, cc->spread_new), narrow = fmin(cc->spread_base, cc->spread_new);
    cc->unstable = wide > 0.15 && wide > 4 * narrow;
    bounds bd = plain_bounds(t);
    decide(cc, &bd, alpha);
}

/* Fill one row from the BASE and NEW case objects (either may be NULL). */
static void compare_case(attn_cmp_case *cc, const cJSON *b, const cJSON *nw, const attn_cmp_opts *o)
{
    cc->spread_base = cc->spread_new = NAN;
    cc->base = b;
    cc->new_ = nw;
    cc->base_median = cc->new_median = cc->ratio = NAN;
    cc->ci_low = cc->ci_high = cc->p = NAN;
    attn_case_label(b ? b : nw, cc->label, sizeof cc->label);
    const char *sb = b ? case_status(b) : NULL, *sn = nw ? case_status(nw) : NULL;
    double *xb = NULL, *xn = NULL;
    if (b && !strcmp(sb, "ok")) {
        xb = attn_case_samples(b, &cc->n_base);
        if (xb) {
            qsort(xb, (size_t)cc->n_base, sizeof *xb, attn_cmp_double);
            cc->base_median = median_sorted(xb, cc->n_base);
        }
    }
    if (nw && !strcmp(sn, "ok")) {
        xn = attn_case_samples(nw, &cc->n_new);
        if (xn) {
            qsort(xn, (size_t)cc->n_new, sizeof *xn, attn_cmp_double);
            cc->new_median = median_sorted(xn, cc->n_new);
        }
    }
    if (sn && status_bad(sn) && !(sb && status_bad(sb))) {
        cc->verdict = CMP_INVALID;
        snprintf(cc->note, sizeof cc->note, "%s in NEW: %.200s", sn, attn_json_str(nw, "reason", ""));
    } else if (!nw) {
        cc->verdict = CMP_MISSING;
        snprintf(cc->note, sizeof cc->note, "not in NEW");
    } else if (!b) {
        cc->verdict = CMP_NEW;
        snprintf(cc->note, sizeof cc->note, "not in BASE");
    } else if (sb && sn && status_bad(sb) && status_bad(sn)) {
        cc->verdict = CMP_UNCHANGED;
        snprintf(cc->note, sizeof cc->note, "still failing: %s in BASE, %s in NEW", sb, sn);
    } else if (!xn) {
        cc->verdict = !xb && strcmp(sb, "ok") && !strcmp(sb, sn) ? CMP_UNCHANGED : CMP_MISSING;
        snprintf(cc->note, sizeof cc->note, "%s in NEW%s%.200s", sn,
                 *attn_json_str(nw, "reason", "") ? ": " : "", attn_json_str(nw, "reason", ""));
    } else if (!xb) {
        cc->verdict = CMP_NEW;
        snprintf(cc->note, sizeof cc->note, "%s in BASE", sb);
    } else {
        cc->ratio = cc->new_median / cc->base_median;
        judge(cc, xb, cc->n_base, xn, cc->n_new, o->threshold, o->alpha);
    }
    free(xb);
    free(xn);
}

/* Warn when the two contexts differ where it changes timings. */
static void context_warnings(attn_cmp_report *r, const cJSON *base, const cJSON *new_)
{
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(base, "context");
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(new_, "context");
    static const char *fields[] = { "cpu_model", "compiler", "cflags" };
    for (int i = 0; i < 3; i++) {
        const char *vb = attn_json_str(cb, fields[i], NULL), *vn = attn_json_str(cn, fields[i], NULL);
        if (vb && vn && strcmp(vb, vn))
            add_warning(r, "contexts differ in %s: BASE '%s', NEW '%s'", fields[i], vb, vn);
        else if (!vb != !vn)
            add_warning(r, "context %s is missing in %s", fields[i], vb ? "NEW" : "BASE");
    }
}

/* Run-to-run noise. Two runs of the same build on a shared machine differ case by case
 * by a few percent in clean, tight distributions (other processes, cache and clock state),
 * which no within-run statistic sees, and often by a common shift. With 8 or more decided
 * cases both are measured from the log ratios across cases: the common shift c = their
 * median, the spread sigma = 1.4826 * MAD around it (robust to the few cases that really
 * changed; zero when every case moved by the same factor, as with a planted slowdown).
 * A common shift within the threshold (|c| <= log(1+t)) is taken for drift: a case must
 * then also move beyond c + 3 sigma (or below c - 3 sigma), its CI end keeping the plain
 * rule's margin of half the threshold below that bound. A common shift beyond twice the
 * threshold is the build's (or a machine-wide change, which a warning names): every case
 * is judged by the plain rule. Between the two the bound moves linearly. The plain rule
 * always stays the minimum. */

static void noise_floor(attn_cmp_report *r, const attn_cmp_opts *o)
{
    bounds bd = plain_bounds(o->threshold);
    r->noise_sigma = r->drift = NAN;
    r->eff_threshold = o->threshold;
    r->eff_threshold_down = -expm1(bd.down);
    double *l = malloc(sizeof *l * (size_t)(r->n + 1));
    int m = 0;
    for (int i = 0; l && i < r->n; i++)
        if (isfinite(r->cases[i].ratio) && r->cases[i].ratio > 0 && !r->cases[i].too_few)
            l[m++] = log(r->cases[i].ratio);
    if (m < 8) { free(l); return; }
    qsort(l, (size_t)m, sizeof *l, attn_cmp_double);
    double c = median_sorted(l, m);
    for (int i = 0; i < m; i++) l[i] = fabs(l[i] - c);
    qsort(l, (size_t)m, sizeof *l, attn_cmp_double);
    double sigma = 1.4826 * median_sorted(l, m);
    free(l);
    /* a common shift within the threshold is drift (bounds around it); one beyond twice
     * the threshold is the build's (plain bounds); linearly between */
    double lt = bd.up, ac = fabs(c);
    double w = ac <= lt ? 1 : ac >= 2 * lt ? 0 : (2 * lt - ac) / lt;
    double cu = fmin(fmax(c, -lt), lt);
    r->noise_sigma = sigma;
    r->drift = expm1(c);
    bounds nb;
    nb.up = lt + w * (fmax(lt, cu + 3 * sigma) - lt);
    nb.down = -lt - w * (fmax(lt, 3 * sigma - cu) - lt);
    nb.ci_up = fmax(bd.ci_up, nb.up - lt / 2);       /* the plain rule's margin, kept */
    nb.ci_down = fmin(bd.ci_down, nb.down + lt / 2);
    r->eff_threshold = expm1(nb.up);
    r->eff_threshold_down = -expm1(nb.down);
    for (int i = 0; i < r->n; i++) {
        attn_cmp_case *cc = &r->cases[i];
        if (!isfinite(cc->ratio) || cc->too_few) continue;
        attn_verdict before = cc->verdict;
        decide(cc, &nb, o->alpha);
        if (before != cc->verdict && before != CMP_UNCHANGED)
            snprintf(cc->note, sizeof cc->note, "would be %s, but within the run-to-run noise "
                     "(%+.1f%% .. %+.1f%%)", verdict_names[before], -100 * r->eff_threshold_down,
                     100 * r->eff_threshold);
    }
}

int attn_compare_docs(const cJSON *base, const cJSON *new_, const attn_cmp_opts *o,
                      attn_cmp_report *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(base, "cases");
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(new_, "cases");
    int nb = 0, nn = 0;
    char (*kb)[ATTN_CASE_KEY_MAX] = doc_keys(cb, &nb);
    char (*kn)[ATTN_CASE_KEY_MAX] = doc_keys(cn, &nn);
    const cJSON **vb = calloc((size_t)nb + 1, sizeof *vb), **vn = calloc((size_t)nn + 1, sizeof *vn);
    char *used = calloc((size_t)nn + 1, 1);
    out->cases = calloc((size_t)(nb + nn) + 1, sizeof *out->cases);
    if (!kb || !kn || !vb || !vn || !used || !out->cases) goto oom;
    int i = 0;
    for (const cJSON *c = cb ? cb->child : NULL; c; c = c->next) vb[i++] = c;
    i = 0;
    for (const cJSON *c = cn ? cn->child : NULL; c; c = c->next) vn[i++] = c;

    for (i = 0; i < nb; i++) {                      /* BASE order first */
        int j = 0;
        while (j < nn && (used[j] || strcmp(kb[i], kn[j]))) j++;
        attn_cmp_case *cc = &out->cases[out->n++];
        snprintf(cc->key, sizeof cc->key, "%s", kb[i]);
        if (j < nn) used[j] = 1;
        compare_case(cc, vb[i], j < nn ? vn[j] : NULL, o);
    }
    for (int j = 0; j < nn; j++) {                  /* then what only NEW has */
        if (used[j]) continue;
        attn_cmp_case *cc = &out->cases[out->n++];
        snprintf(cc->key, sizeof cc->key, "%s", kn[j]);
        compare_case(cc, NULL, vn[j], o);
    }

    noise_floor(out, o);

    /* summary, geometric mean, warnings */
    out->min_samples = 3;
    while (attn_mwu_min_p(out->min_samples, out->min_samples) >= o->alpha) out->min_samples++;
    double log_sum = 0;
    int n_up = 0, n_down = 0, n_few = 0;
    char few_list[512] = "";
    for (i = 0; i < out->n; i++) {
        attn_cmp_case *cc = &out->cases[i];
        out->count[cc->verdict]++;
        if (isfinite(cc->ratio) && cc->ratio > 0) {
            log_sum += log(cc->ratio);
            out->n_geomean++;
            n_up += cc->ratio > 1 + o->threshold / 2;
            n_down += cc->ratio < 1 / (1 + o->threshold / 2);
        }
        if (cc->too_few && n_few++ < 3) appendf(few_list, sizeof few_list, "%s%s", n_few > 1 ? ", " : "", cc->label);
    }
    out->geomean = out->n_geomean ? exp(log_sum / out->n_geomean) : NAN;
    context_warnings(out, base, new_);
    if (n_few)
        add_warning(out, "%d case%s with too few samples to decide (need at least %d per side "
                    "for alpha %g): %s%s", n_few, n_few > 1 ? "s" : "", out->min_samples, o->alpha,
                    few_list, n_few > 3 ? ", ..." : "");
    if (out->eff_threshold > o->threshold * 1.0001 ||
        out->eff_threshold_down > o->threshold / (1 + o->threshold) * 1.0001)
        add_warning(out, "run-to-run noise: cases spread by +-%.1f%% around a common shift of %+.1f%%; "
                    "changes counted only beyond %+.1f%% .. %+.1f%%", 100 * out->noise_sigma,
                    100 * out->drift, -100 * out->eff_threshold_down, 100 * out->eff_threshold);
    int m = out->n_geomean;
    if (m >= 4 && (n_up >= 0.9 * m || n_down >= 0.9 * m))
        add_warning(out, "%d of %d cases moved the same way (geomean %+.1f%%): a machine-wide "
                    "change (load, clock, compiler flags) is more likely than a kernel change",
                    n_up > n_down ? n_up : n_down, m, 100 * (out->geomean - 1));
    free(kb); free(kn); free(vb); free(vn); free(used);
    return 0;
oom:
    free(kb); free(kn); free(vb); free(vn); free(used);
    attn_cmp_report_free(out);
    return -1;
}

void attn_cmp_report_free(attn_cmp_report *r)
{
    free(r->cases);
    for (int i = 0; i < r->n_warnings; i++) free(r->warnings[i]);
    free(r->warnings);
    memset(r, 0, sizeof *r);
}

int attn_cmp_exit_code(const attn_cmp_report *r)
{
    if (r->count[CMP_REGRESSED] || r->count[CMP_INVALID]) return 1;
    return r->count[CMP_INCONCLUSIVE] ? ATTN_EXIT_INCONCLUSIVE : 0;
}

/* ---------------------------------------------------------------------------------- */
/* output                                                                               */

static void fmt_ms(char *out, size_t n, double seconds)
{
    double ms = seconds * 1e3;
    if (!isfinite(ms)) snprintf(out, n, "-");
    else if (ms >= 100) snprintf(out, n, "%.1f", ms);
    else if (ms >= 10) snprintf(out, n, "%.2f", ms);
    else if (ms >= 1) snprintf(out, n, "%.3f", ms);
    else snprintf(out, n, "%.4f", ms);
}

static void fmt_pct(char *out, size_t n, double ratio)
{
    if (isfinite(ratio)) snprintf(out, n, "%+.1f%%", 100 * (ratio - 1));
    else snprintf(out, n, "-");
}

static void fmt_ci(char *out, size_t n, const attn_cmp_case *c, const char *sep)
{
    if (isfinite(c->ci_low) && isfinite(c->ci_high))
        snprintf(out, n, "%+.1f%%%s%+.1f%%", 100 * (c->ci_low - 1), sep, 100 * (c->ci_high - 1));
    else snprintf(out, n, "-");
}

static void fmt_p(char *out, size_t n, double p)
{
    if (!isfinite(p)) snprintf(out, n, "-");
    else if (p < 1e-3) snprintf(out, n, "%.0e", p);
    else snprintf(out, n, "%.3f", p);
}

/* "abc1234 2024-05-01" from a document's context, for the header line. */
static void doc_desc(char *out, size_t n, const cJSON *doc)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "context");
    const char *sha = attn_json_str(c, "git_sha", NULL), *date = attn_json_str(c, "date", NULL);
    out[0] = 0;
    if (sha) appendf(out, n, "git %.12s", sha);
    if (date) appendf(out, n, "%s%.10s", sha ? ", " : "", date);
}

static void summary_line(char *out, size_t n, const attn_cmp_report *r)
{
    snprintf(out, n, "%d case%s:", r->n, r->n == 1 ? "" : "s");
    static const attn_verdict order[] = { CMP_REGRESSED, CMP_INVALID, CMP_INCONCLUSIVE, CMP_IMPROVED,
                                          CMP_UNCHANGED, CMP_NEW, CMP_MISSING };
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        appendf(out, n, "%s %d %s", i ? "," : "", r->count[order[i]], verdict_names[order[i]]);
}

static void print_text(FILE *f, const attn_cmp_report *r, const attn_cmp_opts *o,
                       const cJSON *base, const cJSON *new_, const char *bn, const char *nn)
{
    char db[128], dn[128];
    doc_desc(db, sizeof db, base);
    doc_desc(dn, sizeof dn, new_);
    fprintf(f, "BASE %s%s%s%s\nNEW  %s%s%s%s\n", bn, *db ? " (" : "", db, *db ? ")" : "",
            nn, *dn ? " (" : "", dn, *dn ? ")" : "");
    fprintf(f, "threshold %.3g%%, alpha %g; change = median NEW / median BASE - 1 with its %.0f%% CI\n\n",
            100 * o->threshold, o->alpha, 100 * ATTN_CMP_CI_LEVEL);
    int w = 8;
    for (int i = 0; i < r->n; i++) {
        int l = (int)strlen(r->cases[i].label);
        if (l > w) w = l;
    }
    if (w > 90) w = 90;
    fprintf(f, "%-*s %10s %10s %8s %17s %7s  %s\n", w, "case", "base ms", "new ms", "change",
            ATTN_CMP_CI_LEVEL == 0.90 ? "90% CI" : "CI", "p", "verdict");
    for (int i = 0; i < r->n; i++) {
        const attn_cmp_case *c = &r->cases[i];
        char b[32], nw[32], ch[32], ci[64], p[32], v[32];
        fmt_ms(b, sizeof b, c->base_median);
        fmt_ms(nw, sizeof nw, c->new_median);
        fmt_pct(ch, sizeof ch, c->ratio);
        fmt_ci(ci, sizeof ci, c, "..");
        fmt_p(p, sizeof p, c->p);
        snprintf(v, sizeof v, "%s", verdict_names[c->verdict]);
        if (c->verdict == CMP_REGRESSED || c->verdict == CMP_INVALID)
            for (char *s = v; *s; s++) *s = (char)toupper((unsigned char)*s);
        fprintf(f, "%-*s %10s %10s %8s %17s %7s  %s%s%s\n", w, c->label, b, nw, ch, ci, p, v,
                *c->note ? "  " : "", c->note);
    }
    char g[32], s[256];
    fmt_pct(g, sizeof g, r->geomean);
    char gl[64];
    snprintf(gl, sizeof gl, "geomean (%d cases)", r->n_geomean);
    fprintf(f, "%-*s %10s %10s %8s\n\n", w, gl, "", "", g);
    summary_line(s, sizeof s, r);
    fprintf(f, "%s\n", s);
    if (isfinite(r->noise_sigma))
        fprintf(f, "run-to-run noise across cases: +-%.1f%% around %+.1f%%; counted beyond %+.1f%% .. %+.1f%%\n",
                100 * r->noise_sigma, 100 * r->drift, -100 * r->eff_threshold_down, 100 * r->eff_threshold);
    for (int i = 0; i < r->n_warnings; i++) fprintf(f, "warning: %s\n", r->warnings[i]);
}

static void print_md(FILE *f, const attn_cmp_report *r, const attn_cmp_opts *o,
                     const cJSON *base, const cJSON *new_, const char *bn, const char *nn)
{
    char s[256], db[128], dn[128];
    summary_line(s, sizeof s, r);
    doc_desc(db, sizeof db, base);
    doc_desc(dn, sizeof dn, new_);
    int rc = attn_cmp_exit_code(r);
    fprintf(f, "### attnbench compare: %s\n\n", rc == 1 ? "regression found" :
            rc == ATTN_EXIT_INCONCLUSIVE ? "inconclusive: too noisy to judge, rerun" : "no regression");
    fprintf(f, "BASE `%s`%s%s%s, NEW `%s`%s%s%s. Threshold %.3g%%, alpha %g.\n\n", bn,
            *db ? " (" : "", db, *db ? ")" : "", nn, *dn ? " (" : "", dn, *dn ? ")" : "",
            100 * o->threshold, o->alpha);
    fprintf(f, "%s\n\n", s);
    fprintf(f, "| case | base ms | new ms | change | %.0f%% CI | p | verdict |\n", 100 * ATTN_CMP_CI_LEVEL);
    fprintf(f, "|---|---:|---:|---:|:---:|---:|---|\n");
    for (int i = 0; i < r->n; i++) {
        const attn_cmp_case *c = &r->cases[i];
        char b[32], nw[32], ch[32], ci[64], p[32];
        fmt_ms(b, sizeof b, c->base_median);
        fmt_ms(nw, sizeof nw, c->new_median);
        fmt_pct(ch, sizeof ch, c->ratio);
        fmt_ci(ci, sizeof ci, c, " to ");
        fmt_p(p, sizeof p, c->p);
        int bad = c->verdict == CMP_REGRESSED || c->verdict == CMP_INVALID;
        fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s%s%s%s%s |\n", c->label, b, nw, ch, ci, p,
                bad ? "**" : "", verdict_names[c->verdict], bad ? "**" : "",
                *c->note ? ": " : "", c->note);
    }
    char g[32];
    fmt_pct(g, sizeof g, r->geomean);
    fprintf(f, "| **geomean** (%d cases) | | | %s | | | |\n", r->n_geomean, g);
    if (r->n_warnings) fputc('\n', f);
    for (int i = 0; i < r->n_warnings; i++) fprintf(f, "> warning: %s\n", r->warnings[i]);
}

/* JSON numbers must be finite: NAN becomes null. */
static void add_num(cJSON *o, const char *name, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, name, v);
    else cJSON_AddNullToObject(o, name);
}

static void print_json(FILE *f, const attn_cmp_report *r, const attn_cmp_opts *o,
                       const cJSON *base, const cJSON *new_, const char *bn, const char *nn)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "base", bn);
    cJSON_AddStringToObject(root, "new", nn);
    const char *sb = attn_json_str(cJSON_GetObjectItemCaseSensitive(base, "context"), "git_sha", NULL);
    const char *sn = attn_json_str(cJSON_GetObjectItemCaseSensitive(new_, "context"), "git_sha", NULL);
    if (sb) cJSON_AddStringToObject(root, "base_git_sha", sb);
    if (sn) cJSON_AddStringToObject(root, "new_git_sha", sn);
    add_num(root, "threshold", o->threshold);
    add_num(root, "alpha", o->alpha);
    cJSON *cases = cJSON_AddArrayToObject(root, "cases");
    for (int i = 0; i < r->n; i++) {
        const attn_cmp_case *c = &r->cases[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", c->label);
        cJSON_AddStringToObject(e, "key", c->key);
        cJSON_AddStringToObject(e, "verdict", verdict_names[c->verdict]);
        add_num(e, "base_median_s", c->base_median);
        add_num(e, "new_median_s", c->new_median);
        add_num(e, "ratio", c->ratio);
        add_num(e, "change", c->ratio - 1);
        add_num(e, "ci_low", c->ci_low);
        add_num(e, "ci_high", c->ci_high);
        add_num(e, "p", c->p);
        cJSON_AddNumberToObject(e, "n_base", c->n_base);
        cJSON_AddNumberToObject(e, "n_new", c->n_new);
        cJSON_AddBoolToObject(e, "too_few_samples", c->too_few);
        cJSON_AddStringToObject(e, "note", c->note);
        cJSON_AddItemToArray(cases, e);
    }
    cJSON *g = cJSON_AddObjectToObject(root, "geomean");
    add_num(g, "ratio", r->geomean);
    add_num(g, "change", r->geomean - 1);
    cJSON_AddNumberToObject(g, "cases", r->n_geomean);
    cJSON *nz = cJSON_AddObjectToObject(root, "noise");
    add_num(nz, "sigma", r->noise_sigma);
    add_num(nz, "drift", r->drift);
    add_num(nz, "slowdown_counted_above", r->eff_threshold);
    add_num(nz, "speedup_counted_above", r->eff_threshold_down);
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    for (int v = 0; v < CMP_N_VERDICTS; v++) cJSON_AddNumberToObject(sum, verdict_names[v], r->count[v]);
    cJSON *w = cJSON_AddArrayToObject(root, "warnings");
    for (int i = 0; i < r->n_warnings; i++) cJSON_AddItemToArray(w, cJSON_CreateString(r->warnings[i]));
    cJSON_AddNumberToObject(root, "exit_code", attn_cmp_exit_code(r));
    char *s = cJSON_Print(root);
    if (s) fprintf(f, "%s\n", s);
    free(s);
    cJSON_Delete(root);
}

void attn_cmp_print(FILE *f, const char *fmt, const attn_cmp_report *r, const attn_cmp_opts *o,
                    const cJSON *base, const cJSON *new_, const char *base_name, const char *new_name)
{
    if (!strcmp(fmt, "md")) print_md(f, r, o, base, new_, base_name, new_name);
    else if (!strcmp(fmt, "json")) print_json(f, r, o, base, new_, base_name, new_name);
    else print_text(f, r, o, base, new_, base_name, new_name);
}
