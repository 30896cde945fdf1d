/* cmd_merge.c: `attnbench merge -o OUT DIR...`: options, loading, writing. The merging
 * itself (order, duplicates, shard checks) is analysis/merge.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/util.h"
#include "analysis/merge.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "record/results.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: attnbench merge -o OUT RESULTS... [--gbench] [--force]\n"
"\n"
"Join the results of sharded runs (run --shard K/N) into OUT/results.json, in the case\n"
"order of an unsharded run. RESULTS are results directories or results.json files.\n"
"The same case twice is kept once if identical and refused if the records differ.\n"
"\n"
"options:\n"
"  -o OUT     output directory (created; refused if it already holds results.json)\n"
"  --gbench   also write OUT/results.gbench.json (Google Benchmark's JSON shape)\n"
"  --force    overwrite OUT/results.json\n"
"  --help     this text\n");
}

static void warn(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "attnbench merge: warning: %s\n", msg);
}

/* Write merged into out (created; an existing results.json only with force). 0 or 2. */
static int write_out(const char *out, const cJSON *merged, int gbench, int force)
{
    char path[4200];
    struct stat st;
    if (attn_mkdir_p(out) != 0) {
        fprintf(stderr, "attnbench merge: cannot create %s: %s\n", out, strerror(errno));
        return 2;
    }
    snprintf(path, sizeof path, "%s/results.json", out);
    if (!force && stat(path, &st) == 0) {
        fprintf(stderr, "attnbench merge: %s already exists (--force to overwrite)\n", path);
        return 2;
    }
    return attn_results_write_doc(out, merged, gbench) ? 2 : 0;
}

int attn_cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int gbench = 0, force = 0, n_in = 0, rc = 2;
    const char **in = calloc((size_t)argc, sizeof *in);
    if (!in) return 2;
    attn_argv a = { .argc = argc, .argv = argv, .cmd = "merge" };
    for (a.i = 1; a.i < argc; a.i++) {
        const char *v;
        if (attn_opt_flag(&a, "--help", "-h")) { usage(stdout); free(in); return 0; }
        else if ((v = attn_opt_value(&a, "-o"))) out = v;
        else if (attn_opt_flag(&a, "--gbench", NULL)) gbench = 1;
        else if (attn_opt_flag(&a, "--force", NULL)) force = 1;
        else if (a.missing || argv[a.i][0] == '-') {
            if (!a.missing) attn_opt_unknown(&a);
            free(in);
            return 2;
        } else in[n_in++] = argv[a.i];
    }
    if (!out || n_in == 0) {
        fprintf(stderr, "attnbench merge: need -o OUT and at least one results directory\n");
        usage(stderr);
        free(in);
        return 2;
    }

    cJSON **docs = calloc((size_t)n_in, sizeof *docs), *merged = NULL;
    char err[4096];
    attn_merge_info info;
    if (!docs) goto done;
    for (int d = 0; d < n_in; d++)
        if (!(docs[d] = attn_results_load(in[d], err, sizeof err))) {
            fprintf(stderr, "attnbench merge: %s\n", err);
            goto done;
        }
    if (attn_merge_docs(docs, in, n_in, &merged, &info, warn, NULL, err, sizeof err)) {
        fprintf(stderr, "attnbench merge: %s\n", err);
        goto done;
    }
    if ((rc = write_out(out, merged, gbench, force)) == 0)
        fprintf(stderr, "attnbench merge: %d cases from %d inputs into %s/results.json%s\n", info.n_cases,
                n_in, out, info.n_same ? " (identical duplicates kept once)" : "");
done:
    for (int d = 0; docs && d < n_in; d++) cJSON_Delete(docs[d]);
    free(docs);
    cJSON_Delete(merged);
    free(in);
    return rc;
}
