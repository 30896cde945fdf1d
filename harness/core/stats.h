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

/* Paired rounds (attnbench ab): round r timed both builds back to back, so the machine's
 * drift falls on both; base[r] and new_[r] are their medians in round r. On the log
 * ratios d_r = ln(new_r / base_r): *ratio = e^mean(d), [*lo, *hi] its `level` (e.g. 0.90)
 * Student-t confidence interval, *p the two-sided paired t-test p-value. Rounds with a
 * missing side (<= 0 or NAN) are left out; NAN where fewer than 2 rounds remain. */
void attn_paired_ratio(const double *base, const double *new_, int rounds, double level,
                       double *ratio, double *lo, double *hi, double *p);
/* Rounds a disturbance hit (attnbench ab): on the log ratios d_r of the rounds with both
 * sides, sets drop[r] = 1 for each d_r farther than max(ATTN_AB_OUTLIER_Z robust SDs,
 * ln(1 + ATTN_AB_OUTLIER_FLOOR)) from their median (robust SD = 1.4826 MAD; the modified
 * z-score of Iglewicz and Hoaglin), 0 elsewhere; returns how many it dropped. It drops
 * nothing when that would keep fewer than 3 rounds or fewer than half of them: without a
 * clean majority there is no value to stand out from. A change of the build moves every
 * round alike and is never dropped; a process slowed as a whole (a neighbour on the
 * core's sibling, another VM on the host) moves one side of one round by 1.3-2x. */
#define ATTN_AB_OUTLIER_Z 3.5
#define ATTN_AB_OUTLIER_FLOOR 0.10
int attn_paired_disturbed(const double *base, const double *new_, int rounds, unsigned char *drop);
/* Two-sided p of Student's t with df degrees of freedom: P(|T| >= |t|). */
double attn_student_t_p2(double t, int df);
/* The p-quantile (0.5 < p < 1) of Student's t with df degrees of freedom. */
double attn_student_t_quantile(double p, int df);

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
