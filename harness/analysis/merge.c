/* merge.c: the merging behind `attnbench merge`; see merge.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "analysis/compare.h"
#include "analysis/merge.h"

typedef struct item {
    cJSON *c;                   /* detached case object (owned until moved to the result) */
    char *ident;                /* id, or attn_case_key (malloc'd) */
    const char *from;           /* input name */
    double index;               /* case_index, or -1 */
    int order;                  /* arrival order, for stable sorts */
    int dropped;                /* an identical duplicate of an earlier item */
} item;

typedef struct merger {
    attn_merge_warn warn;
    void *warn_ctx;
} merger;

static void warnf(const merger *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(const merger *m, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m->warn) m->warn(m->warn_ctx, msg);
}

static int by_ident(const void *a, const void *b)
{
    const item *x = *(item *const *)a, *y = *(item *const *)b;
    int c = strcmp(x->ident, y->ident);
    return c ? c : x->order - y->order;
}

static int by_index(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return x->order - y->order;
}

/* ------------------------------------------------------------ contexts -- */

/* Warn of contexts unlike the first input's, shards of different splits, shards given
 * twice and shards missing. */
static void check_contexts(const merger *m, cJSON *const *docs, const char *const *names, int n)
{
    static const char *same_fields[] = { "cpu_model", "compiler", "cflags", "git_sha" };
    const cJSON *ctx0 = cJSON_GetObjectItemCaseSensitive(docs[0], "context");
    int shard_n = -1, shards_ok = 1;
    char *seen = NULL;
    for (int d = 0; d < n; d++) {
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(docs[d], "context");
        for (int f = 0; f < 4 && d > 0; f++) {
            const char *a = attn_json_str(ctx0, same_fields[f], ""), *b = attn_json_str(ctx, same_fields[f], "");
            if (strcmp(a, b))
                warnf(m, "%s differs: '%s' in %s, '%s' in %s", same_fields[f], a, names[0], b, names[d]);
        }
        int k, nn;
        const char *sh = attn_json_str(ctx, "shard", NULL);
        if (!sh || attn_parse_shard(sh, &k, &nn)) { shards_ok = 0; continue; }
        if (shard_n < 0) {
            shard_n = nn;
            if (!(seen = calloc((size_t)nn, 1))) return;
        }
        if (nn != shard_n) {
            warnf(m, "%s is shard %s, others are of %d shards", names[d], sh, shard_n);
            shards_ok = 0;
        } else if (seen[k]++) {
            warnf(m, "shard %d/%d given twice", k, nn);
        }
    }
    if (shards_ok && shard_n > 0)
        for (int k = 0; k < shard_n; k++)
            if (!seen[k]) warnf(m, "shard %d/%d is missing", k, shard_n);
    free(seen);
}

/* --------------------------------------------------------------- cases -- */

/* Move every case of every doc into items (arrival order). -1 out of memory. */
static int collect(cJSON *const *docs, const char *const *names, int n, item **out, int *n_out)
{
    int cap = 0, n_items = 0;
    item *items = NULL;
    for (int d = 0; d < n; d++) {
        cJSON *cases = cJSON_GetObjectItemCaseSensitive(docs[d], "cases");
        while (cases && cases->child) {
            if (n_items == cap) {
                cap = cap ? 2 * cap : 256;
                item *ni = realloc(items, sizeof *ni * (size_t)cap);
                if (!ni) goto oom;
                items = ni;
            }
            cJSON *c = cJSON_DetachItemViaPointer(cases, cases->child);
            item it = { .c = c, .from = names[d], .index = -1, .order = n_items };
            const char *id = attn_json_str(c, "id", NULL);
            char key[ATTN_CASE_KEY_MAX];
            if (!id) { attn_case_key(c, key, sizeof key); id = key; }
            const cJSON *ci = cJSON_GetObjectItemCaseSensitive(c, "case_index");
            if (cJSON_IsNumber(ci)) it.index = ci->valuedouble;
            items[n_items++] = it;
            if (!(items[n_items - 1].ident = strdup(id))) goto oom;
        }
    }
    *out = items;
    *n_out = n_items;
    return 0;
oom:
    for (int i = 0; i < n_items; i++) { cJSON_Delete(items[i].c); free(items[i].ident); }
    free(items);
    return -1;
}

/* Mark identical duplicates dropped; -1 (err told) when two records of one case differ. */
static int dedup(item *items, int n, int *n_same, char *err, size_t errlen)
{
    item **p = malloc(sizeof *p * (size_t)(n ? n : 1));
    if (!p) { snprintf(err, errlen, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) p[i] = &items[i];
    qsort(p, (size_t)n, sizeof *p, by_ident);
    int rc = 0;
    for (int i = 1, first = 0; i < n; i++) {
        if (strcmp(p[i]->ident, p[first]->ident)) { first = i; continue; }
        if (!cJSON_Compare(p[first]->c, p[i]->c, 1)) {
            snprintf(err, errlen, "case %s is in %s and %s with different results; refusing to "
                     "choose (remove one input or rerun that shard)", p[i]->ident, p[first]->from, p[i]->from);
            rc = -1;
            break;
        }
        p[i]->dropped = 1;
        (*n_same)++;
    }
    free(p);
    return rc;
}

/* The merged document: the first context without "shard", plus where it came from. */
static cJSON *new_doc(cJSON *const *docs, const char *const *names, int n)
{
    cJSON *merged = cJSON_CreateObject();
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(docs[0], "schema");
    const cJSON *ctx0 = cJSON_GetObjectItemCaseSensitive(docs[0], "context");
    cJSON_AddItemToObject(merged, "schema", schema ? cJSON_Duplicate(schema, 1) : cJSON_CreateNumber(1));
    cJSON *ctx = ctx0 ? cJSON_Duplicate(ctx0, 1) : cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "shard");
    cJSON *from = cJSON_AddArrayToObject(ctx, "merged_from");
    for (int d = 0; d < n; d++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(docs[d], "context");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "path", names[d]);
        if (attn_json_str(c, "shard", NULL)) cJSON_AddStringToObject(e, "shard", attn_json_str(c, "shard", ""));
        if (attn_json_str(c, "host", NULL)) cJSON_AddStringToObject(e, "host", attn_json_str(c, "host", ""));
        cJSON_AddItemToArray(from, e);
    }
    cJSON_AddItemToObject(merged, "context", ctx);
    cJSON_AddArrayToObject(merged, "cases");
    return merged;
}

int attn_merge_docs(cJSON *const *docs, const char *const *names, int n, cJSON **merged,
                    attn_merge_info *info, attn_merge_warn warn, void *warn_ctx,
                    char *err, size_t errlen)
{
    merger m = { warn, warn_ctx };
    item *items = NULL;
    int n_items = 0, kept = 0, all_indexed = 1, rc = -1;
    attn_merge_info dummy;
    if (!info) info = &dummy;
    memset(info, 0, sizeof *info);
    *merged = NULL;
    if (n < 1) { snprintf(err, errlen, "nothing to merge"); return -1; }

    check_contexts(&m, docs, names, n);
    if (collect(docs, names, n, &items, &n_items)) { snprintf(err, errlen, "out of memory"); return -1; }
    if (dedup(items, n_items, &info->n_same, err, errlen)) goto done;
    for (int i = 0; i < n_items; i++) {       /* compact, keeping arrival order */
        if (items[i].dropped) { cJSON_Delete(items[i].c); free(items[i].ident); continue; }
        all_indexed &= items[i].index >= 0;
        items[kept++] = items[i];
    }
    n_items = kept;
    if (all_indexed) {
        qsort(items, (size_t)n_items, sizeof *items, by_index);
        for (int i = 1; i < n_items; i++)
            if (items[i].index == items[i - 1].index) {
                snprintf(err, errlen, "case_index %.0f is both %s (%s) and %s (%s): the inputs "
                         "come from different sweeps", items[i].index, items[i - 1].ident,
                         items[i - 1].from, items[i].ident, items[i].from);
                goto done;
            }
    } else if (n > 1) {
        warnf(&m, "not every case has a case_index; cases kept in argument order");
    }

    if (!(*merged = new_doc(docs, names, n))) { snprintf(err, errlen, "out of memory"); goto done; }
    cJSON *cases = cJSON_GetObjectItemCaseSensitive(*merged, "cases");
    for (int i = 0; i < n_items; i++) { cJSON_AddItemToArray(cases, items[i].c); items[i].c = NULL; }
    info->n_cases = n_items;
    rc = 0;
done:
    for (int i = 0; i < n_items; i++) { cJSON_Delete(items[i].c); free(items[i].ident); }
    free(items);
    return rc;
}
