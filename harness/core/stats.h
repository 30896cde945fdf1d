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

#endif
