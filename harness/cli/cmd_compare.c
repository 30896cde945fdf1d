/* cmd_compare.c: `attnbench compare BASE NEW`: options, loading, the baseline lookup and
 * the exit code. The comparison itself is analysis/compare_*.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "analysis/compare.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "record/baseline.h"
#include "record/results.h"

/* ---------------------------------------------------------------------------------- */
/* the command                                                                          */

static void usage(FILE *f)
{
    fprintf(f,
"usage: attnbench compare BASE NEW [options]\n"
"       attnbench compare --baseline NAME NEW [options]\n"
"\n"
"Compare two runs case by case (matched by kernel and params). BASE and NEW are results\n"
"files or results directories. Per case: the change of the median with its 90%% CI, a\n"
"Mann-Whitney U test on the raw samples, and a verdict: regressed, improved, unchanged,\n"
"new, missing, invalid, inconclusive. A regression needs p < alpha, a change above the\n"
"threshold, and a CI whose lower end clears half the threshold; with 8 or more cases,\n"
"also a change beyond the run-to-run noise seen across cases. When the cases moved\n"
"together by more than the threshold (a machine-wide shift), each is judged on its\n"
"change beyond the shift and those that moved with it are inconclusive; under heavy\n"
"noise, every case not called is. Method: docs/regression.md.\n"
"\n"
"exit status: 0 no regression; 1 a case regressed or became invalid; 2 usage error,\n"
"unreadable input, or a BASE or NEW without cases; 3 inconclusive: rerun, or time\n"
"both builds interleaved with attnbench ab\n"
"\n"
"options:\n"
"  --threshold PCT   smallest change that counts, in percent (default %g)\n"
"  --alpha A         significance level of the U test (default %g)\n"
"  --format F        text (default), md (for CI comments) or json\n"
"  -o FILE           write the report to FILE instead of stdout\n"
"  --baseline NAME   BASE is the baseline NAME stored for NEW's machine under\n"
"                    %s/<machine>/NAME.json (saved by run --save-baseline NAME)\n"
"  --force           compare with a baseline from another CPU anyway\n"
"  --help            this text\n",
            100 * ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA, attn_baseline_root());
}

int attn_cmd_compare(int argc, char **argv)
{
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    const char *fmt = "text", *baseline = NULL, *outfile = NULL, *pos[2] = { NULL, NULL };
    int npos = 0, force = 0;
    attn_argv a = { .argc = argc, .argv = argv, .cmd = "compare" };
    for (a.i = 1; a.i < argc; a.i++) {
        const char *v, *arg = argv[a.i];
        if (attn_opt_flag(&a, "--help", "-h")) { usage(stdout); return 0; }
        else if (attn_opt_flag(&a, "--force", NULL)) force = 1;
        else if ((v = attn_opt_value(&a, "--threshold"))) {
            if (attn_opt_percent(&a, "--threshold", v, 0, 999, &o.threshold)) return 2;
        } else if ((v = attn_opt_value(&a, "--alpha"))) {
            if (attn_opt_alpha(&a, v, &o.alpha)) return 2;
        } else if ((v = attn_opt_value(&a, "--format"))) {
            if (strcmp(v, "text") && strcmp(v, "md") && strcmp(v, "json")) {
                fprintf(stderr, "attnbench compare: --format '%s': expected text, md or json\n", v);
                return 2;
            }
            fmt = v;
        } else if ((v = attn_opt_value(&a, "--baseline"))) {
            baseline = v;
        } else if ((v = attn_opt_value(&a, "-o"))) {
            outfile = v;
        } else if (a.missing) {
            return 2;
        } else if (arg[0] == '-' && arg[1]) {
            return attn_opt_unknown(&a);
        } else if (npos < 2) {
            pos[npos++] = arg;
        } else {
            fprintf(stderr, "attnbench compare: too many arguments ('%s')\n", arg);
            return 2;
        }
    }
    if (baseline ? npos != 1 : npos != 2) {
        fprintf(stderr, baseline ? "attnbench compare: with --baseline NAME give only NEW\n"
                                 : "attnbench compare: need BASE and NEW\n");
        usage(stderr);
        return 2;
    }
    const char *new_path = baseline ? pos[0] : pos[1];
    char err[4096], base_path[4096];
    cJSON *new_ = attn_results_load(new_path, err, sizeof err);
    if (!new_) { fprintf(stderr, "attnbench compare: %s\n", err); return 2; }
    if (baseline) {
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(new_, "context");
        if (attn_baseline_find(ctx, baseline, base_path, sizeof base_path) != 0) {
            cJSON_Delete(new_);
            return 2;
        }
    } else {
        snprintf(base_path, sizeof base_path, "%s", pos[0]);
    }
    cJSON *base = attn_results_load(base_path, err, sizeof err);
    if (!base) { fprintf(stderr, "attnbench compare: %s\n", err); cJSON_Delete(new_); return 2; }
    if (baseline) {
        /* a baseline is only meaningful on the CPU that made it: refuse, not warn */
        const char *cb = attn_json_str(cJSON_GetObjectItemCaseSensitive(base, "context"), "cpu_model", "?");
        const char *cn = attn_json_str(cJSON_GetObjectItemCaseSensitive(new_, "context"), "cpu_model", "?");
        if (strcmp(cb, cn) && !force) {
            fprintf(stderr, "attnbench compare: baseline %s was measured on '%s', NEW on '%s'; timings of "
                    "different CPUs are not comparable (--force to compare anyway)\n",
                    base_path, cb, cn);
            cJSON_Delete(base);
            cJSON_Delete(new_);
            return 2;
        }
    }
    /* an empty run judged against anything would pass every gate: refuse it */
    const char *side[2] = { "BASE", "NEW" }, *path[2] = { base_path, new_path };
    const cJSON *doc[2] = { base, new_ };
    for (int s = 0; s < 2; s++)
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc[s], "cases")) == 0) {
            fprintf(stderr, "attnbench compare: %s %s holds no case: nothing to compare (an empty "
                    "run is no pass)\n", side[s], path[s]);
            cJSON_Delete(base);
            cJSON_Delete(new_);
            return 2;
        }
    attn_cmp_report r;
    if (attn_compare_docs(base, new_, &o, &r) != 0) {
        fprintf(stderr, "attnbench compare: out of memory\n");
        cJSON_Delete(base);
        cJSON_Delete(new_);
        return 2;
    }
    FILE *f = stdout;
    if (outfile && !(f = fopen(outfile, "w"))) {
        fprintf(stderr, "attnbench compare: -o %s: %s\n", outfile, strerror(errno));
        f = stdout;
    }
    attn_cmp_print(f, fmt, &r, &o, base, new_, base_path, new_path);
    if (f != stdout) fclose(f);
    /* warnings also on stderr when the report goes elsewhere or is machine-read */
    if (f != stdout || strcmp(fmt, "text"))
        for (int i = 0; i < r.n_warnings; i++) fprintf(stderr, "attnbench compare: warning: %s\n", r.warnings[i]);
    int rc = attn_cmp_exit_code(&r);
    attn_cmp_report_free(&r);
    cJSON_Delete(base);
    cJSON_Delete(new_);
    return rc;
}
