/* compare.h: statistical comparison of two results documents (attnbench compare, history).
 *
 * Cases are matched by kernel + params (a canonical key, see attn_case_key), never by id,
 * so runs of differently named sweeps still match. Each matched case gets the change of
 * its median with a confidence interval, a two-sided Mann-Whitney U test on the raw samples,
 * and a verdict; the decision rule is explained at the top of compare_verdict.c.
 */
#ifndef ATTN_COMPARE_H
#define ATTN_COMPARE_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "core/stats.h"
#include "record/case_read.h"  /* keys, labels and samples of case objects */      /* attn_mann_whitney, attn_ratio_ci (tests and history use them) */

typedef enum {
    CMP_UNCHANGED = 0,      /* within noise, or not enough evidence either way */
    CMP_REGRESSED,          /* significantly slower by more than the threshold */
    CMP_IMPROVED,           /* significantly faster by more than the threshold */
    CMP_NEW,                /* only in NEW (or BASE had no valid measurement) */
    CMP_MISSING,            /* only in BASE (or NEW skipped it) */
    CMP_INVALID,            /* ok in BASE, invalid/crashed/timeout in NEW */
    CMP_INCONCLUSIVE,       /* the noise hides changes of the threshold's size: rerun */
    CMP_N_VERDICTS
} attn_verdict;

const char *attn_verdict_name(attn_verdict v);   /* "unchanged", "regressed", ... */

typedef struct attn_cmp_opts {
    double threshold;       /* relative change counted as real, e.g. 0.05 (default) */
    double alpha;           /* significance level of the U test, e.g. 0.01 (default) */
} attn_cmp_opts;

#define ATTN_CMP_DEFAULT_THRESHOLD 0.05
#define ATTN_CMP_DEFAULT_ALPHA     0.01

/* Level of the reported CI of the ratio; its lower end is the one-sided 95% bound that a
 * regression must clear (see compare_verdict.c). */
#define ATTN_CMP_CI_LEVEL 0.90

typedef struct attn_cmp_case {
    char key[ATTN_CASE_KEY_MAX];   /* canonical match key (attn_case_key) */
    char label[ATTN_CASE_KEY_MAX]; /* short display name (attn_case_label) */
    attn_verdict verdict;
    int n_base, n_new;             /* samples on each side (0: none) */
    double base_median, new_median;/* seconds, from the samples when present; NAN if none */
    double ratio;                  /* new_median / base_median (NAN unless both measured) */
    double ci_low, ci_high;        /* 90% CI of the ratio, Price-Bonett (NAN when not computed) */
    double p;                      /* two-sided Mann-Whitney U p-value (NAN when not tested) */
    int too_few;                   /* 1: fewer samples than the test needs to reach alpha */
    double spread_base, spread_new;/* relative IQR of each side's samples (IQR / median) */
    int unstable;                  /* 1: one side's spread is over 4x the other's and > 15%
                                      (a slowdown with the stretched side NEW is not called) */
    int rounds_dropped;            /* ab: rounds left out as disturbed (attn_paired_disturbed) */
    char note[256];                /* why the verdict is what it is, when not obvious */
    const cJSON *base, *new_;      /* the case objects in the documents (may be NULL) */
} attn_cmp_case;

typedef struct attn_cmp_report {
    attn_cmp_case *cases;          /* (n): BASE order, then cases only NEW has */
    int n;
    int count[CMP_N_VERDICTS];     /* cases per verdict */
    double geomean;                /* geometric mean of ratio over cases measured on both sides */
    int n_geomean;
    int min_samples;               /* per side, the least for which the test can reach alpha */
    double noise_sigma;            /* robust SD of log ratios across cases (NAN: < 8 cases) */
    double drift;                  /* common shift of all cases, e^median(log r) - 1 (NAN: < 8) */
    double eff_threshold;          /* slowdown a regression had to exceed (>= threshold) */
    double eff_threshold_down;     /* time reduction an improvement had to exceed
                                      (>= threshold / (1 + threshold)) */
    double shift;                  /* machine-wide shift removed before judging (the common
                                      change beyond the threshold, e.g. 0.5 = +50%); NAN: none */
    int heavy_noise;               /* 1: the noise across cases hides changes of twice the
                                      threshold: what is not called is inconclusive */
    char **warnings;               /* (n_warnings) one line each, no trailing newline */
    int n_warnings;
} attn_cmp_report;

/* Compare two loaded results documents. Fills out (free with attn_cmp_report_free).
 * Returns 0, or -1 when out of memory. */
int attn_compare_docs(const cJSON *base, const cJSON *new_, const attn_cmp_opts *o,
                      attn_cmp_report *out);
/* The same without the rules across cases (drift, machine-wide shift, heavy noise) and
 * their warnings: for a caller that judges each case on its own paired rounds (ab). */
int attn_compare_cases(const cJSON *base, const cJSON *new_, const attn_cmp_opts *o,
                       attn_cmp_report *out);
void attn_cmp_report_free(attn_cmp_report *r);
/* Median and robust spread (1.4826 MAD) of the log ratios of the cases measured on both
 * sides with enough samples; returns how many there were (NAN values when none). */
int attn_cmp_log_spread(const attn_cmp_report *r, double *center, double *sigma);
/* Append a warning line to r (printf format). 0, or -1 when out of memory. */
int attn_cmp_warn(attn_cmp_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit codes of compare and ab: 0 pass, 1 regression, 2 usage or unreadable input, 3 the
 * run cannot be judged (rerun it). */
#define ATTN_EXIT_INCONCLUSIVE 3
/* Exit code for the report: 1 when any case regressed or became invalid; else 3 when any
 * case is inconclusive; else 0. */
int attn_cmp_exit_code(const attn_cmp_report *r);


/* Print the report: fmt "text" (terminal table), "md" (GitHub comment) or "json".
 * base_name / new_name label the two sides (file names). */
void attn_cmp_print(FILE *f, const char *fmt, const attn_cmp_report *r, const attn_cmp_opts *o,
                    const cJSON *base, const cJSON *new_, const char *base_name,
                    const char *new_name);

#endif
