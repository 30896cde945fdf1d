/* compare_verdict.c: `attnbench compare BASE NEW`: did a kernel get slower, without crying wolf.
 *
 * Files: record/case_read.c (keys, labels, samples), compare_verdict.c (this: verdicts),
 * compare_print.c (text, markdown, JSON); the statistics are in core/stats.c.
 *
 * Matching. Cases are matched by a canonical key made of the kernel name and every field
 * of "params" (sorted by name), never by the id, which carries the sweep name. When one
 * document holds the same kernel+params twice (two sweeps overlapping), the n-th
 * occurrence in BASE matches the n-th in NEW. Both sides' keys are sorted and merged:
 * n log n (100k cases per side in about 2 s; the pairwise search it replaced took 3.5 s
 * at 10k and grew quadratically).
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
 *   inconclusive  (8 or more cases) the case moved with a machine-wide shift, or the
 *                 noise across cases hides a change of twice t: rerun (exit 3)
 * and two guards against the noise of shared machines (measured here: two runs of the same
 * binary minutes apart differ by 2-4% per case (SD), by up to 10% in clean, tight
 * distributions, and by 30% when another process took the core during a case):
 *   - across cases (cross_case below): with 8 or more cases, a common shift within the
 *     threshold is taken for drift and the spread of the changes across cases for
 *     run-to-run noise: a case must also move 3 sigma beyond the drift. A common shift
 *     beyond the threshold is removed before judging; heavy noise makes what is not
 *     called inconclusive.
 *   - disturbed runs: contention slows a case and stretches its timings. When NEW's
 *     relative IQR is over 4x BASE's and above 15%, a regression is not called (the note
 *     says rerun); likewise an improvement when BASE is the stretched side.
 * Why these conditions. The U test alone cries wolf: with 20+ samples it finds a 1% shift
 * "significant". t is the size a team cares about. The CI bound keeps a median pushed over
 * t by a few slow samples from counting unless the data exclude a change below t/2. The
 * guards handle what within-run statistics cannot see. A slowdown planted in a few cases
 * (every sample scaled) leaves the spread across cases near zero, so the plain rule
 * applies: 15% is found with 10 samples at CV 8%, 2% never passes t. Improvements are judged symmetrically in
 * log space. tests/test_compare.c checks these targets on 200 noisy synthetic cases.
 *
 * Other verdicts: new (only in NEW, or BASE had no valid measurement), missing (only in
 * BASE, or skipped in NEW), invalid (NEW invalid/crashed/timeout while BASE was not).
 * Too few samples (the U test cannot reach alpha: 2/C(nb+nn, nb) >= alpha, or a side
 * under 3) leave the verdict "unchanged" with a warning naming the minimum.
 * The geometric mean of r over cases measured on both sides summarises the run; warnings
 * name a machine-wide shift, heavy noise, or nearly all cases moving together within the
 * threshold. Exit 1 when a case regressed or became invalid, else 3 when one is
 * inconclusive, else 0. attnbench ab uses attn_compare_cases (no rules across cases) and
 * judges each case on its paired rounds (ab.c).
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
#include "core/params.h"
#include "core/stats.h"
#include "record/baseline.h"
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
/* verdicts                                                                             */

int attn_cmp_warn(attn_cmp_report *r, const char *fmt, ...)
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

/* A case of a document with its match key; sorted by (key, position) so that equal keys
 * follow each other in document order and the n-th occurrence gets occ = n. */
typedef struct keyed {
    char *key;
    const cJSON *c;
    int idx, occ;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int s = strcmp(x->key, y->key);
    return s ? s : (x->idx > y->idx) - (x->idx < y->idx);
}

static void keyed_free(keyed *k, int n)
{
    for (int i = 0; k && i < n; i++) free(k[i].key);
    free(k);
}

/* The cases of a document, keyed and sorted (n log n: 100k cases in well under a second).
 * NULL when out of memory. */
static keyed *doc_keys(const cJSON *cases, int *n)
{
    *n = cJSON_GetArraySize(cases);
    keyed *k = calloc((size_t)(*n ? *n : 1), sizeof *k);
    if (!k) return NULL;
    char buf[ATTN_CASE_KEY_MAX];
    int i = 0;
    for (const cJSON *c = cases ? cases->child : NULL; c && i < *n; c = c->next, i++) {
        if (attn_case_key(c, buf, sizeof buf) != 0)
            snprintf(buf, sizeof buf, "id=%s;", attn_json_str(c, "id", "?"));
        k[i] = (keyed){ .key = strdup(buf), .c = c, .idx = i };
        if (!k[i].key) { keyed_free(k, i); return NULL; }
    }
    qsort(k, (size_t)*n, sizeof *k, cmp_keyed);
    for (i = 0; i < *n; i++)
        k[i].occ = i > 0 && !strcmp(k[i].key, k[i - 1].key) ? k[i - 1].occ + 1 : 1;
    return k;
}

/* Pair BASE and NEW cases with equal key and occurrence: a merge of the two sorted lists.
 * match[i] = position in NEW of BASE case i (-1: none); used[j] = 1 when NEW case j has
 * a partner. by_b / by_n: each case's keyed entry by document position. */
static void match_keys(const keyed *kb, int nb, const keyed *kn, int nn, int *match, char *used,
                       const keyed **by_b, const keyed **by_n)
{
    for (int i = 0; i < nb; i++) { match[i] = -1; by_b[kb[i].idx] = &kb[i]; }
    for (int j = 0; j < nn; j++) by_n[kn[j].idx] = &kn[j];
    int i = 0, j = 0;
    while (i < nb && j < nn) {
        int s = strcmp(kb[i].key, kn[j].key);
        if (!s) s = (kb[i].occ > kn[j].occ) - (kb[i].occ < kn[j].occ);
        if (s < 0) i++;
        else if (s > 0) j++;
        else { match[kb[i].idx] = kn[j].idx; used[kn[j].idx] = 1; i++; j++; }
    }
}

static void set_key(attn_cmp_case *cc, const keyed *k)
{
    snprintf(cc->key, sizeof cc->key, "%s", k->key);
    if (k->occ > 1) attn_appendf(cc->key, sizeof cc->key, "#%d", k->occ);
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
    cc->spread_base = (attn_quantile_sorted(xb, nb, 0.75) - attn_quantile_sorted(xb, nb, 0.25)) / cc->base_median;
    cc->spread_new = (attn_quantile_sorted(xn, nn, 0.75) - attn_quantile_sorted(xn, nn, 0.25)) / cc->new_median;
    double wide = fmax(cc->spread_base, cc->spread_new), narrow = fmin(cc->spread_base, cc->spread_new);
    cc->unstable = wide > 0.15 && wide > 4 * narrow;
    bounds bd = plain_bounds(t);
    decide(cc, &bd, alpha);
}

/* A case's samples, sorted (malloc'd; NULL with *n = 0 when none). */
static double *sorted_samples(const cJSON *c, int *n)
{
    double *x = attn_case_samples(c, n);
    if (x) qsort(x, (size_t)*n, sizeof *x, attn_cmp_double);
    return x;
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
    double *xb = b && !strcmp(sb, "ok") ? sorted_samples(b, &cc->n_base) : NULL;
    double *xn = nw && !strcmp(sn, "ok") ? sorted_samples(nw, &cc->n_new) : NULL;
    if (xb) cc->base_median = attn_median_sorted(xb, cc->n_base);
    if (xn) cc->new_median = attn_median_sorted(xn, cc->n_new);
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
            attn_cmp_warn(r, "contexts differ in %s: BASE '%s', NEW '%s'", fields[i], vb, vn);
        else if (!vb != !vn)
            attn_cmp_warn(r, "context %s is missing in %s", fields[i], vb ? "NEW" : "BASE");
    }
}

/* Rules across cases. Two runs of the same build on a shared machine differ case by case
 * by a few percent in clean, tight distributions (other processes, cache and clock state),
 * which no within-run statistic sees, and often by a common shift. With 8 or more decided
 * cases both are measured from the log ratios across cases: the common shift c = their
 * median, the spread sigma = 1.4826 * MAD around it (robust to the few cases that really
 * changed; zero when every case moved by the same factor).
 *   drift (|c| <= log(1+t)): a case must also move beyond c + 3 sigma (or below
 *     c - 3 sigma), its CI end keeping the plain rule's margin of half the threshold below
 *     that bound; the plain rule stays the minimum.
 *   machine-wide shift (|c| > log(1+t)): two runs cannot tell the machine's part from the
 *     build's, so the common part is removed: each case is judged on NEW / shift (ratio,
 *     CI and U test of the shifted samples) against max(t, 3 sigma). A case that stands
 *     out is regressed (or improved) relative to the others; one that moved with the rest
 *     is inconclusive (exit 3), never unchanged and never regressed: a machine that slowed
 *     by 50% between runs gives no wall of REGRESSED, and a kernel 25% slower than the rest
 *     is still found.
 *   heavy noise (3 sigma > log(1 + 2t): a change of twice the threshold could pass unseen):
 *     every measured case not called regressed or improved is inconclusive. A gate that
 *     widens its threshold until nothing counts must not report a pass. */

int attn_cmp_log_spread(const attn_cmp_report *r, double *center, double *sigma)
{
    *center = *sigma = NAN;
    double *l = malloc(sizeof *l * (size_t)(r->n + 1));
    int m = 0;
    for (int i = 0; l && i < r->n; i++)
        if (isfinite(r->cases[i].ratio) && r->cases[i].ratio > 0 && !r->cases[i].too_few)
            l[m++] = log(r->cases[i].ratio);
    if (m > 0) {
        qsort(l, (size_t)m, sizeof *l, attn_cmp_double);
        double c = attn_median_sorted(l, m);
        for (int i = 0; i < m; i++) l[i] = fabs(l[i] - c);
        qsort(l, (size_t)m, sizeof *l, attn_cmp_double);
        *center = c;
        *sigma = 1.4826 * attn_median_sorted(l, m);
    }
    free(l);
    return m;
}

/* Judge case cc on NEW / e^c: the verdict with shifted ratio, CI and U test. */
static void judge_shifted(attn_cmp_case *cc, double c, const bounds *bd, double alpha)
{
    attn_cmp_case tmp = *cc;
    double f = exp(-c);
    tmp.ratio *= f;
    tmp.ci_low *= f;
    tmp.ci_high *= f;
    int nb, nn;
    double *xb = sorted_samples(cc->base, &nb), *xn = sorted_samples(cc->new_, &nn);
    if (xb && xn) {
        for (int k = 0; k < nn; k++) xn[k] *= f;
        tmp.p = attn_mann_whitney(xb, nb, xn, nn, NULL);
    }
    free(xb);
    free(xn);
    decide(&tmp, bd, alpha);
    cc->verdict = tmp.verdict == CMP_UNCHANGED ? CMP_INCONCLUSIVE : tmp.verdict;
    char why[96] = "";
    if (cc->verdict == CMP_INCONCLUSIVE)
        snprintf(why, sizeof why, ", not clearly beyond +-%.1f%%: the build's part cannot be told",
                 100 * expm1(bd->up));
    snprintf(cc->note, sizeof cc->note, "%+.1f%% beyond the machine-wide %+.1f%% shift%s%s%.*s",
             100 * (tmp.ratio - 1), 100 * expm1(c), why, *tmp.note ? "; " : "",
             (int)(sizeof cc->note / 3), tmp.note);
}

static void cross_case(attn_cmp_report *r, const attn_cmp_opts *o)
{
    bounds bd = plain_bounds(o->threshold);
    r->noise_sigma = r->drift = r->shift = NAN;
    r->eff_threshold = o->threshold;
    r->eff_threshold_down = -expm1(bd.down);
    double c, sigma;
    if (attn_cmp_log_spread(r, &c, &sigma) < 8) return;
    double lt = bd.up;
    int shift = fabs(c) > lt;
    r->noise_sigma = sigma;
    r->drift = expm1(c);
    r->heavy_noise = 3 * sigma > log1p(2 * o->threshold);
    bounds nb;
    if (shift) {                    /* bounds on the change beyond the shift */
        r->shift = expm1(c);
        nb.up = fmax(lt, 3 * sigma);
        nb.down = -nb.up;
        nb.ci_up = nb.up - lt / 2;
        nb.ci_down = -nb.ci_up;
        r->eff_threshold = expm1(c + nb.up);
        r->eff_threshold_down = -expm1(c + nb.down);
    } else {                        /* drift: bounds around it, the plain rule the minimum */
        nb.up = fmax(lt, c + 3 * sigma);
        nb.down = -fmax(lt, 3 * sigma - c);
        nb.ci_up = fmax(bd.ci_up, nb.up - lt / 2);
        nb.ci_down = fmin(bd.ci_down, nb.down + lt / 2);
        r->eff_threshold = expm1(nb.up);
        r->eff_threshold_down = -expm1(nb.down);
    }
    for (int i = 0; i < r->n; i++) {
        attn_cmp_case *cc = &r->cases[i];
        if (!isfinite(cc->ratio) || cc->too_few) continue;
        attn_verdict before = cc->verdict;
        if (shift) {
            judge_shifted(cc, c, &nb, o->alpha);
        } else {
            decide(cc, &nb, o->alpha);
            if (before != cc->verdict && before != CMP_UNCHANGED)
                snprintf(cc->note, sizeof cc->note, "would be %s, but within the run-to-run noise "
                         "(%+.1f%% .. %+.1f%%)", verdict_names[before], -100 * r->eff_threshold_down,
                         100 * r->eff_threshold);
        }
        if (r->heavy_noise && cc->verdict == CMP_UNCHANGED) {
            cc->verdict = CMP_INCONCLUSIVE;
            snprintf(cc->note, sizeof cc->note, "noise across cases (+-%.1f%%) hides a %.0f%% change: rerun",
                     100 * sigma, 100 * o->threshold);
        }
    }
}

/* Warnings on what makes the comparison doubtful (added to r). */
static void add_warnings(attn_cmp_report *r, const attn_cmp_opts *o, const cJSON *base,
                         const cJSON *new_, int cross)
{
    r->min_samples = 3;
    while (attn_mwu_min_p(r->min_samples, r->min_samples) >= o->alpha) r->min_samples++;
    int n_up = 0, n_down = 0, n_few = 0;
    char few_list[512] = "";
    for (int i = 0; i < r->n; i++) {
        attn_cmp_case *cc = &r->cases[i];
        if (isfinite(cc->ratio) && cc->ratio > 0) {
            n_up += cc->ratio > 1 + o->threshold / 2;
            n_down += cc->ratio < 1 / (1 + o->threshold / 2);
        }
        if (cc->too_few && n_few++ < 3) attn_appendf(few_list, sizeof few_list, "%s%s", n_few > 1 ? ", " : "", cc->label);
    }
    context_warnings(r, base, new_);
    if (n_few)
        attn_cmp_warn(r, "%d case%s with too few samples to decide (need at least %d per side "
                    "for alpha %g): %s%s", n_few, n_few > 1 ? "s" : "", r->min_samples, o->alpha,
                    few_list, n_few > 3 ? ", ..." : "");
    if (!cross) return;
    if (isfinite(r->shift))
        attn_cmp_warn(r, "machine-wide shift: the median case moved %+.1f%%, beyond the %.3g%% threshold; "
                    "two separate runs cannot tell the machine's part from the build's, so each case is "
                    "judged on its change beyond the shift and the %d that moved with it are inconclusive "
                    "(rerun, or time both builds interleaved with attnbench ab)", 100 * r->shift,
                    100 * o->threshold, r->count[CMP_INCONCLUSIVE]);
    else if (r->eff_threshold > o->threshold * 1.0001 ||
             r->eff_threshold_down > o->threshold / (1 + o->threshold) * 1.0001)
        attn_cmp_warn(r, "run-to-run noise: cases spread by +-%.1f%% around a common shift of %+.1f%%; "
                    "changes counted only beyond %+.1f%% .. %+.1f%%", 100 * r->noise_sigma,
                    100 * r->drift, -100 * r->eff_threshold_down, 100 * r->eff_threshold);
    if (r->heavy_noise)
        attn_cmp_warn(r, "heavy noise: cases spread by +-%.1f%%, so a change of twice the %.3g%% threshold "
                    "can pass unseen; cases not called are inconclusive (rerun on a quieter machine, or "
                    "use attnbench ab)", 100 * r->noise_sigma, 100 * o->threshold);
    int m = r->n_geomean;
    if (!isfinite(r->shift) && m >= 4 && (n_up >= 0.9 * m || n_down >= 0.9 * m))
        attn_cmp_warn(r, "%d of %d cases moved the same way (geomean %+.1f%%): a machine-wide "
                    "change (load, clock, compiler flags) is more likely than a kernel change",
                    n_up > n_down ? n_up : n_down, m, 100 * (r->geomean - 1));
}

static int compare(const cJSON *base, const cJSON *new_, const attn_cmp_opts *o,
                   attn_cmp_report *out, int cross)
{
    memset(out, 0, sizeof *out);
    out->noise_sigma = out->drift = out->shift = NAN;
    out->eff_threshold = o->threshold;
    out->eff_threshold_down = o->threshold / (1 + o->threshold);
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(base, "cases");
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(new_, "cases");
    int nb = 0, nn = 0;
    keyed *kb = doc_keys(cb, &nb), *kn = doc_keys(cn, &nn);
    const keyed **by_b = calloc((size_t)nb + 1, sizeof *by_b), **by_n = calloc((size_t)nn + 1, sizeof *by_n);
    int *match = calloc((size_t)nb + 1, sizeof *match);
    char *used = calloc((size_t)nn + 1, 1);
    out->cases = calloc((size_t)(nb + nn) + 1, sizeof *out->cases);
    if (!kb || !kn || !by_b || !by_n || !match || !used || !out->cases) goto oom;
    match_keys(kb, nb, kn, nn, match, used, by_b, by_n);
    for (int i = 0; i < nb; i++) {                  /* BASE order first */
        attn_cmp_case *cc = &out->cases[out->n++];
        set_key(cc, by_b[i]);
        compare_case(cc, by_b[i]->c, match[i] >= 0 ? by_n[match[i]]->c : NULL, o);
    }
    for (int j = 0; j < nn; j++) {                  /* then what only NEW has */
        if (used[j]) continue;
        attn_cmp_case *cc = &out->cases[out->n++];
        set_key(cc, by_n[j]);
        compare_case(cc, NULL, by_n[j]->c, o);
    }
    if (cross) cross_case(out, o);
    double log_sum = 0;
    for (int i = 0; i < out->n; i++) {
        attn_cmp_case *cc = &out->cases[i];
        out->count[cc->verdict]++;
        if (isfinite(cc->ratio) && cc->ratio > 0) { log_sum += log(cc->ratio); out->n_geomean++; }
    }
    out->geomean = out->n_geomean ? exp(log_sum / out->n_geomean) : NAN;
    add_warnings(out, o, base, new_, cross);
    keyed_free(kb, nb); keyed_free(kn, nn);
    free(by_b); free(by_n); free(match); free(used);
    return 0;
oom:
    keyed_free(kb, nb); keyed_free(kn, nn);
    free(by_b); free(by_n); free(match); free(used);
    attn_cmp_report_free(out);
    return -1;
}

int attn_compare_docs(const cJSON *base, const cJSON *new_, const attn_cmp_opts *o,
                      attn_cmp_report *out)
{
    return compare(base, new_, o, out, 1);
}

int attn_compare_cases(const cJSON *base, const cJSON *new_, const attn_cmp_opts *o,
                       attn_cmp_report *out)
{
    return compare(base, new_, o, out, 0);
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
