/* merge.c: `attnbench merge -o OUT DIR...`: join the results of sharded runs.
 *
 * `run --shard K/N` runs every N-th case of the full expansion starting at K and records
 * each case's position in the full expansion ("case_index") and its shard in the context
 * ("shard": "K/N"). Merging puts the cases back in case_index order, so the merged file
 * reads like an unsharded run (without case_index, the order of the arguments is kept).
 * A case is identified by its id (the key of attn_case_key when it has none). The same case
 * in two inputs is kept once when both records are identical and refused when they differ:
 * a merge never picks one measurement over another silently. Contexts that differ in CPU,
 * compiler, flags or git commit are merged with a warning (timings of a sweep spread over
 * unlike machines are not comparable with each other), and missing shards are reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/util.h"
#include "cli/commands.h"
#include "analysis/compare.h"
#include "record/gbench.h"
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

typedef struct item {
    cJSON *c;               /* detached case object (owned) */
    char ident[ATTN_CASE_KEY_MAX];
    const char *from;       /* input path */
    double index;           /* case_index, or -1 */
    int order;              /* arrival order, for a stable sort */
} item;

static int by_index(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return x->order - y->order;
}

int attn_cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int gbench = 0, force = 0, n_in = 0;
    const char **in = calloc((size_t)argc, sizeof *in);
    if (!in) return 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); free(in); return 0; }
        else if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strncmp(argv[i], "-o", 2) && argv[i][2]) out = argv[i] + 2;
        else if (!strcmp(argv[i], "--gbench")) gbench = 1;
        else if (!strcmp(argv[i], "--force")) force = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "merge: unknown option '%s' (see attnbench merge --help)\n", argv[i]);
            free(in);
            return 2;
        } else in[n_in++] = argv[i];
    }
    if (!out || n_in == 0) {
        fprintf(stderr, "merge: need -o OUT and at least one results directory\n");
        usage(stderr);
        free(in);
        return 2;
    }

    int rc = 2, n_items = 0, cap = 0, n_same = 0, all_indexed = 1;
    cJSON **docs = calloc((size_t)n_in, sizeof *docs);
    item *items = NULL;
    cJSON *merged = NULL;
    char path[4096], err[4096];
    if (!docs) goto done;
    for (int d = 0; d < n_in; d++) {
        if (!(docs[d] = attn_results_load(in[d], err, sizeof err))) {
            fprintf(stderr, "merge: %s\n", err);
            goto done;
        }
    }

    /* contexts: compare everything with the first input */
    const cJSON *ctx0 = cJSON_GetObjectItemCaseSensitive(docs[0], "context");
    static const char *same_fields[] = { "cpu_model", "compiler", "cflags", "git_sha" };
    int shard_n = -1, shards_ok = 1;
    char *seen_shard = NULL;
    for (int d = 0; d < n_in; d++) {
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(docs[d], "context");
        for (int f = 0; f < 4 && d > 0; f++) {
            const char *a = attn_json_str(ctx0, same_fields[f], ""), *b = attn_json_str(ctx, same_fields[f], "");
            if (strcmp(a, b))
                fprintf(stderr, "merge: warning: %s differs: '%s' in %s, '%s' in %s\n",
                        same_fields[f], a, in[0], b, in[d]);
        }
        int k, n;
        const char *sh = attn_json_str(ctx, "shard", NULL);
        if (!sh || sscanf(sh, "%d/%d", &k, &n) != 2 || n < 1 || k < 0 || k >= n) { shards_ok = 0; continue; }
        if (shard_n < 0) {
            shard_n = n;
            if (!(seen_shard = calloc((size_t)n, 1))) goto done;
        }
        if (n != shard_n) {
            fprintf(stderr, "merge: warning: %s is shard %s, others are of %d shards\n", in[d], sh, shard_n);
            shards_ok = 0;
        } else if (seen_shard[k]++) {
            fprintf(stderr, "merge: warning: shard %d/%d given twice\n", k, n);
        }
    }
    if (shards_ok && shard_n > 0)
        for (int k = 0; k < shard_n; k++)
            if (!seen_shard[k]) fprintf(stderr, "merge: warning: shard %d/%d is missing\n", k, shard_n);
    free(seen_shard);

    /* cases: detach them, refusing conflicting duplicates */
    for (int d = 0; d < n_in; d++) {
        cJSON *cases = cJSON_GetObjectItemCaseSensitive(docs[d], "cases");
        while (cases->child) {
            cJSON *c = cJSON_DetachItemViaPointer(cases, cases->child);
            item it = { .c = c, .from = in[d], .index = -1, .order = n_items };
            const char *id = attn_json_str(c, "id", NULL);
            if (id) snprintf(it.ident, sizeof it.ident, "%s", id);
            else attn_case_key(c, it.ident, sizeof it.ident);
            const cJSON *ci = cJSON_GetObjectItemCaseSensitive(c, "case_index");
            if (cJSON_IsNumber(ci)) it.index = ci->valuedouble;
            else all_indexed = 0;
            int j = 0;
            while (j < n_items && strcmp(items[j].ident, it.ident)) j++;
            if (j < n_items) {
                if (cJSON_Compare(items[j].c, c, 1)) { n_same++; cJSON_Delete(c); continue; }
                fprintf(stderr, "merge: case %s is in %s and %s with different results; "
                        "refusing to choose (remove one input or rerun that shard)\n",
                        it.ident, items[j].from, in[d]);
                cJSON_Delete(c);
                goto done;
            }
            if (n_items == cap) {
                cap = cap ? 2 * cap : 256;
                item *ni = realloc(items, sizeof *ni * (size_t)cap);
                if (!ni) { cJSON_Delete(c); goto done; }
                items = ni;
            }
            items[n_items++] = it;
        }
    }
    if (all_indexed) {
        qsort(items, (size_t)n_items, sizeof *items, by_index);
        for (int i = 1; i < n_items; i++)
            if (items[i].index == items[i - 1].index) {
                fprintf(stderr, "merge: case_index %.0f is both %s (%s) and %s (%s): the inputs "
                        "come from different sweeps\n", items[i].index, items[i - 1].ident,
                        items[i - 1].from, items[i].ident, items[i].from);
                goto done;
            }
    } else if (n_in > 1) {
        fprintf(stderr, "merge: warning: not every case has a case_index; cases kept in argument order\n");
    }

    /* the merged document: first context without "shard", plus where it came from */
    merged = cJSON_CreateObject();
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(docs[0], "schema");
    cJSON_AddItemToObject(merged, "schema", schema ? cJSON_Duplicate(schema, 1) : cJSON_CreateNumber(1));
    cJSON *ctx = ctx0 ? cJSON_Duplicate(ctx0, 1) : cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "shard");
    cJSON *from = cJSON_AddArrayToObject(ctx, "merged_from");
    for (int d = 0; d < n_in; d++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(docs[d], "context");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "path", in[d]);
        if (attn_json_str(c, "shard", NULL)) cJSON_AddStringToObject(e, "shard", attn_json_str(c, "shard", ""));
        if (attn_json_str(c, "host", NULL)) cJSON_AddStringToObject(e, "host", attn_json_str(c, "host", ""));
        cJSON_AddItemToArray(from, e);
    }
    cJSON_AddItemToObject(merged, "context", ctx);
    cJSON *cases = cJSON_AddArrayToObject(merged, "cases");
    for (int i = 0; i < n_items; i++) { cJSON_AddItemToArray(cases, items[i].c); items[i].c = NULL; }

    struct stat st;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "merge: cannot create %s: %s\n", out, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/results.json", out);
    if (!force && stat(path, &st) == 0) {
        fprintf(stderr, "merge: %s already exists (--force to overwrite)\n", path);
        goto done;
    }
    if (attn_results_write_doc(out, merged, gbench) != 0) goto done;
    fprintf(stderr, "merge: %d cases from %d inputs into %s/results.json%s\n", n_items, n_in, out,
            n_same ? " (identical duplicates kept once)" : "");
    rc = 0;
done:
    for (int i = 0; i < n_items; i++) cJSON_Delete(items[i].c);
    free(items);
    for (int d = 0; docs && d < n_in; d++) cJSON_Delete(docs[d]);
    free(docs);
    cJSON_Delete(merged);
    free(in);
    return rc;
}
