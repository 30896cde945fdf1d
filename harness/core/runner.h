/* runner.h: run one case in a forked child and bring back a validated measurement.
 *
 * The child builds the inputs, calls the kernel once while watching its resident memory,
 * validates the output against the naive reference (all rows, or a sample when the full
 * reference is too big or slow), warms up, and times repetitions. A crash, a signal or
 * a timeout in the child becomes a recorded status; the sweep goes on.
 */
#ifndef ATTN_RUNNER_H
#define ATTN_RUNNER_H

#include <stddef.h>
#include "core/case.h"
#include "core/layer.h"
#include "core/stats.h"

typedef enum {
    ST_OK = 0, ST_INVALID, ST_SKIPPED, ST_CRASHED, ST_TIMEOUT
} attn_case_status;

typedef struct attn_validation {
    int done;                   /* 0: not validated (skipped/crashed before it) */
    int passed;
    double max_abs_err, max_rel_err;
    long rows_checked;          /* (b, h, i) rows compared */
    long rows_total;            /* B * H * Lq */
    const char *against;        /* "naive" or "float64" (the naive kernel itself) */
} attn_validation;

typedef struct attn_result {
    attn_case_status status;
    char reason[512];           /* why skipped/invalid/crashed, "" when ok */
    attn_validation val;
    double *samples;            /* seconds per call, malloc'd, n_samples long; for an mha
                                   case followed by n_samples per part (n_parts of them) */
    int n_samples;
    int n_parts;                /* ATTN_PART_COUNT for layer = mha, else 0 */
    attn_stats part_st[ATTN_PART_COUNT];   /* statistics of each part's samples */
    long iters_per_sample;      /* calls timed together for one sample (fast kernels) */
    int rounds;                 /* child processes whose samples these are (config `rounds`) */
    attn_stats st;
    int unstable;
    double flops, gflops, pct_peak;   /* pct_peak < 0 when no peak is known */
    /* the roofline (core/peak.h): compulsory bytes (attn_case_bytes), flops / bytes,
     * bytes / median, min(peak, intensity x bandwidth) (0: a roof unknown) and gflops as
     * % of it (< 0 when the roof is unknown) */
    double bytes, intensity, gbytes_s, roof_gflops, pct_roof;
    long peak_rss_bytes;        /* child's peak RSS from wait4 */
    long kernel_extra_bytes;    /* resident memory the first kernel call added */
    size_t workspace_bytes;
    size_t need_bytes, budget_bytes;  /* skipped over the memory budget: what the case
                                         needs and the budget (0 otherwise) */
    double wall_s;              /* whole case, child start to end */
    char peer_version[64];      /* a peer's library version ("torch 2.15.0"), else "" */
    int thread_clock;           /* samples are thread CPU time (attn_run_opts.thread_clock) */
} attn_result;

typedef struct attn_run_opts {
    size_t mem_budget;          /* bytes; cases needing more are skipped */
    const char *dump_dir;       /* NULL or directory for --dump */
    double peak_gflops;         /* measured peak for this kernel's ISA and threads (0: unknown) */
    double bandwidth_gbs;       /* measured read bandwidth on the case's threads (0: unknown) */
    int no_validation;          /* later rounds of a case: validated in its first round */
    int thread_clock;           /* time 1-thread kernel cases by the calling thread's CPU
                                   time (CLOCK_THREAD_CPUTIME_ID): `run --thread-clock`,
                                   passed by `ab`; a core shared with another process then
                                   slows no sample (its cache traffic still can) */
    double ref_flops;           /* validate all rows when the naive reference costs at most
                                   this many FLOPs, else a sample costing about half (0: 2e9) */
} attn_run_opts;

const char *attn_status_name(attn_case_status s);  /* "ok", "invalid", ... (results.c) */
const char *attn_signal_name(int sig);              /* "SIGSEGV", ..., or the number */

/* Memory the case needs (inputs + workspace + validation reference), for the budget. */
size_t attn_case_mem_need(const attn_case *c, const attn_run_opts *o);

/* Run the case. Always fills r (free with attn_result_free). Returns r->status. */
attn_case_status attn_run_case(const attn_case *c, const attn_run_opts *o, attn_result *r);
void attn_result_free(attn_result *r);
/* Statistics, GFLOP/s, % of peak, the roofline fields and the unstable flag from r's
 * samples. */
void attn_result_finish(attn_result *r, const attn_run_opts *o);
/* Add a later round of the same case to acc (more is emptied): its samples are appended
 * and the statistics recomputed; a round that did not come out ok replaces acc. 0 or -1. */
int attn_result_merge(attn_result *acc, attn_result *more, const attn_run_opts *o);

#endif
