/* stats.h: robust summary statistics of timing samples. */
#ifndef ATTN_STATS_H
#define ATTN_STATS_H

typedef struct attn_stats {
    int n;
    double median, min, max, mean, stddev;  /* stddev: sample (n-1) */
    double mad;                 /* median absolute deviation (unscaled) */
    double cv;                  /* stddev / mean */
    double ci_low, ci_high;     /* distribution-free 95% CI of the median (order statistics) */
    int outliers_low, outliers_high;  /* Tukey fences: beyond 1.5 IQR from the quartiles */
} attn_stats;

#define ATTN_UNSTABLE_CV 0.05

void attn_stats_compute(const double *x, int n, attn_stats *s);
/* Quantile q in [0,1] of sorted data, linear interpolation (type 7). */
double attn_quantile_sorted(const double *sorted, int n, double q);

/* Median of sorted data (the mean of the middle two when n is even). */
double attn_median_sorted(const double *sorted, int n);

/* ------------------------------------------ comparing two sets of samples -- */
/* (attnbench compare and history) */

/* Two-sided Mann-Whitney U test of x (nx) against y (ny). Exact distribution when one
 * side has at most 8 samples and there are no ties (like scipy's method="auto"),
 * otherwise the normal approximation with tie and continuity corrections.
 * *u_out (if not NULL) gets U of x (pairs with x > y, ties half). Returns p in [0,1],
 * NAN when a side is empty. */
double attn_mann_whitney(const double *x, int nx, const double *y, int ny, double *u_out);
/* Smallest two-sided p the test can give with nx and ny untied samples: 2 / C(nx+ny, nx). */
double attn_mwu_min_p(int nx, int ny);
/* Distribution-free CI (level, e.g. 0.95) of median(y) / median(x) for positive samples:
 * Price & Bonett (2002), from order statistics of each side's logs. NAN bounds when a side
 * has fewer than 3 samples. */
void attn_ratio_ci(const double *x, int nx, const double *y, int ny, double level,
                   double *lo, double *hi);

#endif
