/* fuzz_readers.h: every reader of a results document, run on one document that passed
 * the schema check: compare (matching, statistics, verdicts, all three printers),
 * history (the document against itself: table and marks) and merge (the document with a
 * copy of itself: duplicates dropped). Shared by the fuzz target (fuzz_results.c) and the
 * replay of what it found (tests/test_fuzz_regress.c), so both drive the same code.
 * Returns compare's result (0, or -1 when it refused the document). */
#ifndef ATTN_FUZZ_READERS_H
#define ATTN_FUZZ_READERS_H

#include <stdio.h>
#include "analysis/compare.h"
#include "analysis/history.h"
#include "analysis/merge.h"

static FILE *devnull(void)
{
    static FILE *null;
    if (!null) null = fopen("/dev/null", "w");
    return null;
}

static int fuzz_readers(cJSON *doc)
{
    attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_cmp_report r;
    int rc = attn_compare_docs(doc, doc, &o, &r);
    if (rc == 0) {
        if (devnull()) {
            static const char *const fmts[] = { "text", "md", "json" };
            for (int i = 0; i < 3; i++) attn_cmp_print(devnull(), fmts[i], &r, &o, doc, doc, "a", "b");
        }
        attn_cmp_report_free(&r);
    }
    const cJSON *two[2] = { doc, doc };
    const char *names[2] = { "a/results.json", "b" };
    attn_history h;
    if (attn_history_build(two, names, 2, &o, &h) == 0) {
        if (devnull()) attn_history_print(devnull(), &h, &o, names);
        attn_history_free(&h);
    }
    cJSON *copies[2] = { cJSON_Duplicate(doc, 1), cJSON_Duplicate(doc, 1) }, *merged = NULL;
    char err[1024];
    if (copies[0] && copies[1] &&
        attn_merge_docs(copies, names, 2, &merged, NULL, NULL, NULL, err, sizeof err) == 0)
        cJSON_Delete(merged);
    cJSON_Delete(copies[0]);
    cJSON_Delete(copies[1]);
    return rc;
}

#endif
