/* stats.c: summary statistics of timing samples (see stats.h).
 *
 * Order statistics work on a sorted copy; the caller's array is never reordered.
 *
 * 95% CI of the median: distribution-free, from order statistics with EXACT binomial
 * ranks. The number of samples below the true median is Binomial(n, 1/2), so
 * [x(k), x(n+1-k)] (1-based ranks of the sorted data) covers the median with probability
 * 1 - 2 P(X <= k-1). We take the largest k with P(X <= k-1) <= 0.025, which gives
 * coverage >= 95% (n = 10: ranks 2 and 9; n = 20: ranks 6 and 15, as in the usual
 * tables). For n <= 5 even k = 1 falls short: the interval is [min, max] and its
 * coverage is only 1 - 2^(1-n).
 *
 * Outliers: Tukey's fences [Q1 - 1.5 IQR, Q3 + 1.5 IQR], quartiles by type-7 quantiles
 * (linear interpolation between order statistics, R's and NumPy's default).
 *
 * n = 0 gives all zeros; n = 1 gives stddev 0 (no division by n - 1 = 0), cv 0 and a
 * zero-width CI at the one value.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "core/stats.h"

double attn_quantile_sorted(const double *sorted, int n, double q)
{
    if (n <= 0) return 0.0;     /* no data: callers check n first; 0 rather than NaN */
    if (q <= 0) return sorted[0];
    if (q >= 1) return sorted[n - 1];
    double h = (n - 1) * q;     /* type 7: 0-based fractional rank */
    int i = (int)floor(h);
    if (i >= n - 1) return sorted[n - 1];
    return sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]);
}

/* Largest rank k >= 1 with P(X <= k-1) <= alpha / 2 for X ~ Binomial(n, 1/2); 1 when
 * even P(X = 0) exceeds it. The pmf is summed in log space so large n do not underflow. */
static int median_ci_rank(int n)
{
    const double tail = 0.025;
    double cdf = 0;
    int k = 1;
    for (int j = 0; j < n; j++) {
        double logp = lgamma(n + 1.0) - lgamma(j + 1.0) - lgamma(n - j + 1.0) - n * log(2.0);
        cdf += exp(logp);       /* cdf = P(X <= j) */
        if (cdf > tail) break;
        k = j + 1;              /* P(X <= k-1) <= tail */
    }
    if (k > (n + 1) / 2) k = (n + 1) / 2;   /* never cross the median (cannot happen for tail < 0.5) */
    return k;
}

void attn_stats_compute(const double *x, int n, attn_stats *s)
{
    memset(s, 0, sizeof *s);
    s->n = n > 0 ? n : 0;
    if (n <= 0) return;

    double sum = 0, mn = x[0], mx = x[0];
    for (int i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    double mean = sum / n, ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    s->min = mn;
    s->max = mx;
    s->mean = mean;
    s->stddev = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    s->cv = mean != 0 ? s->stddev / fabs(mean) : 0.0;

    double *sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted) {
        /* out of memory: the order statistics fall back to what needs no copy */
        s->median = mean;
        s->ci_low = mn;
        s->ci_high = mx;
        return;
    }
    memcpy(sorted, x, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, attn_cmp_double);

    s->median = attn_quantile_sorted(sorted, n, 0.5);
    int k = median_ci_rank(n);
    s->ci_low = sorted[k - 1];
    s->ci_high = sorted[n - k];

    double q1 = attn_quantile_sorted(sorted, n, 0.25);
    double q3 = attn_quantile_sorted(sorted, n, 0.75);
    double lo = q1 - 1.5 * (q3 - q1), hi = q3 + 1.5 * (q3 - q1);
    for (int i = 0; i < n; i++) {
        s->outliers_low += sorted[i] < lo;
        s->outliers_high += sorted[i] > hi;
    }

    /* MAD: median of |x - median|, reusing the copy */
    for (int i = 0; i < n; i++) sorted[i] = fabs(sorted[i] - s->median);
    qsort(sorted, (size_t)n, sizeof *sorted, attn_cmp_double);
    s->mad = attn_quantile_sorted(sorted, n, 0.5);
    free(sorted);
}

/* ------------------------------------------------------- paired rounds -- */

/* Continued fraction of the regularised incomplete beta function (Lentz's method), for
 * x < (a + 1) / (a + b + 2); attn_betai switches sides otherwise. */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-14) break;
    }
    return h;
}

/* I_x(a, b), the regularised incomplete beta function. */
static double betai(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double attn_student_t_p2(double t, int df)
{
    if (df < 1 || isnan(t)) return NAN;
    if (isinf(t)) return 0;
    return betai(df / 2.0, 0.5, df / (df + t * t));
}

double attn_student_t_quantile(double p, int df)
{
    if (df < 1 || !(p > 0.5 && p < 1)) return NAN;
    /* two-sided tail 2(1-p) is decreasing in t: bisect */
    double lo = 0, hi = 1;
    while (attn_student_t_p2(hi, df) > 2 * (1 - p) && hi < 1e12) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = (lo + hi) / 2;
        if (attn_student_t_p2(mid, df) > 2 * (1 - p)) lo = mid; else hi = mid;
    }
    return (lo + hi) / 2;
}

void attn_paired_ratio(const double *base, const double *new_, int rounds, double level,
                       double *ratio, double *lo, double *hi, double *p)
{
    *ratio = *lo = *hi = *p = NAN;
    int n = 0;
    double sum = 0, sum2 = 0;
    for (int r = 0; r < rounds; r++) {
        if (!(base[r] > 0) || !(new_[r] > 0)) continue;
        double d = log(new_[r] / base[r]);
        sum += d;
        sum2 += d * d;
        n++;
    }
    if (n < 1) return;
    double mean = sum / n;
    *ratio = exp(mean);
    if (n < 2) return;
    double var = (sum2 - n * mean * mean) / (n - 1);
    double se = sqrt(var > 0 ? var : 0) / sqrt((double)n);
    double tq = attn_student_t_quantile(0.5 + level / 2, n - 1);
    *lo = exp(mean - tq * se);
    *hi = exp(mean + tq * se);
    *p = se > 0 ? attn_student_t_p2(mean / se, n - 1) : (mean == 0 ? 1 : 0);
}

int attn_paired_disturbed(const double *base, const double *new_, int rounds, unsigned char *drop)
{
    enum { MAX = 1024 };
    double d[MAX], s[MAX], dev[MAX];
    int n = 0, dropped = 0;
    for (int r = 0; r < rounds; r++) drop[r] = 0;
    if (rounds > MAX) return 0;
    for (int r = 0; r < rounds; r++) {
        d[r] = NAN;
        if (base[r] > 0 && new_[r] > 0) s[n++] = d[r] = log(new_[r] / base[r]);
    }
    if (n < 3) return 0;
    qsort(s, (size_t)n, sizeof *s, attn_cmp_double);
    double med = attn_median_sorted(s, n);
    for (int i = 0; i < n; i++) dev[i] = fabs(s[i] - med);
    qsort(dev, (size_t)n, sizeof *dev, attn_cmp_double);
    double lim = fmax(ATTN_AB_OUTLIER_Z * 1.4826 * attn_median_sorted(dev, n),
                      log1p(ATTN_AB_OUTLIER_FLOOR));
    for (int r = 0; r < rounds; r++)
        if (isfinite(d[r]) && fabs(d[r] - med) > lim) dropped++;
    if (n - dropped < 3 || 2 * (n - dropped) < n) return 0;
    for (int r = 0; r < rounds; r++)
        drop[r] = isfinite(d[r]) && fabs(d[r] - med) > lim;
    return dropped;
}

/* ======================================== comparing two sets of samples == */

double attn_median_sorted(const double *s, int n)
{
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* -------------------------------------------------------- Mann-Whitney U -- */

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

/* ---------------------------- CI of the ratio of medians (Price & Bonett) -- */

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
        double lr = log(attn_median_sorted(sy, ny) / attn_median_sorted(sx, nx));
        double half = norm_isf((1 - level) / 2) * sqrt(log_median_var(sx, nx) + log_median_var(sy, ny));
        *lo = exp(lr - half);
        *hi = exp(lr + half);
    }
    free(sx);
    free(sy);
}
