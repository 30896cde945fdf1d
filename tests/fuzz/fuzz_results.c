/* fuzz_results.c: libFuzzer target for the results reader: any bytes as results.json
 * must be refused with a message or read by the schema check, and a document that passes
 * must go through compare (matching, statistics, verdicts, all three printers) without a
 * crash. Built and run by `make fuzz` (scripts/fuzz.sh); inputs it found are kept in
 * tests/fuzz/regress/results/ and replayed by tests/test_fuzz_regress.c in `make test`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/compare.h"
#include "record/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    char err[1024];
    if (doc && attn_results_check(doc, "fuzz.json", err, sizeof err) == 0) {
        attn_cmp_opts o = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
        attn_cmp_report r;
        if (attn_compare_docs(doc, doc, &o, &r) == 0) {
            static FILE *null;
            if (!null) null = fopen("/dev/null", "w");
            if (null) {
                static const char *const fmts[] = { "text", "md", "json" };
                for (int i = 0; i < 3; i++) attn_cmp_print(null, fmts[i], &r, &o, doc, doc, "a", "b");
            }
            attn_cmp_report_free(&r);
        }
    }
    cJSON_Delete(doc);
    return 0;
}
