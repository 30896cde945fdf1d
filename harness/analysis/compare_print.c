/* compare_print.c: the compare report as a terminal table, a GitHub comment or JSON. */
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
    if (sha) attn_appendf(out, n, "git %.12s", sha);
    if (date) attn_appendf(out, n, "%s%.10s", sha ? ", " : "", date);
}

static void summary_line(char *out, size_t n, const attn_cmp_report *r)
{
    snprintf(out, n, "%d case%s:", r->n, r->n == 1 ? "" : "s");
    static const attn_verdict order[] = { CMP_REGRESSED, CMP_INVALID, CMP_INCONCLUSIVE, CMP_IMPROVED,
                                          CMP_UNCHANGED, CMP_NEW, CMP_MISSING };
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        attn_appendf(out, n, "%s %d %s", i ? "," : "", r->count[order[i]], attn_verdict_name(order[i]));
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
        snprintf(v, sizeof v, "%s", attn_verdict_name(c->verdict));
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
    if (isfinite(r->shift))
        fprintf(f, "machine-wide shift of %+.1f%% removed: each case judged on its change beyond it\n",
                100 * r->shift);
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
                bad ? "**" : "", attn_verdict_name(c->verdict), bad ? "**" : "",
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
        cJSON_AddStringToObject(e, "verdict", attn_verdict_name(c->verdict));
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
        cJSON_AddNumberToObject(e, "rounds_dropped", c->rounds_dropped);
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
    add_num(nz, "machine_shift_removed", r->shift);
    cJSON_AddBoolToObject(nz, "heavy", r->heavy_noise);
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    for (int v = 0; v < CMP_N_VERDICTS; v++) cJSON_AddNumberToObject(sum, attn_verdict_name(v), r->count[v]);
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
