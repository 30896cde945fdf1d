/* compare_verdict.c: `attnbench compare BASE NEW`: did a kernel get slower, without crying wolf.
 *
 * Files: compare_match.c (keys, labels, samples), compare_verdict.c (this: verdicts),
 * compare_print.c (text, markdown, JSON); the statistics are in core/stats.c.
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
        if (dup > 1) attn_appendf(keys[i], sizeof keys[i], "#%d", dup);
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
            cc->base_median = attn_median_sorted(xb, cc->n_base);
        }
    }
    if (nw && !strcmp(sn, "ok")) {
        xn = attn_case_samples(nw, &cc->n_new);
        if (xn) {
            qsort(xn, (size_t)cc->n_new, sizeof *xn, attn_cmp_double);
            cc->new_median = attn_median_sorted(xn, cc->n_new);
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
    double c = attn_median_sorted(l, m);
    for (int i = 0; i < m; i++) l[i] = fabs(l[i] - c);
    qsort(l, (size_t)m, sizeof *l, attn_cmp_double);
    double sigma = 1.4826 * attn_median_sorted(l, m);
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
        if (cc->too_few && n_few++ < 3) attn_appendf(few_list, sizeof few_list, "%s%s", n_few > 1 ? ", " : "", cc->label);
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
