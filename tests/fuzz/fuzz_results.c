/* fuzz_results.c: libFuzzer target for the results reader: any bytes as results.json
 * must be refused with a message or read by the schema check, and a document that passes
 * must go through every reader (fuzz_readers.h: compare, history, merge) without a
 * crash. Built and run by `make fuzz` (scripts/fuzz.sh); inputs it found are kept in
 * tests/fuzz/regress/results/ and replayed by tests/test_fuzz_regress.c in `make test`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record/results.h"
#include "fuzz_readers.h"

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
    if (doc && attn_results_check(doc, "fuzz.json", err, sizeof err) == 0) fuzz_readers(doc);
    cJSON_Delete(doc);
    return 0;
}
