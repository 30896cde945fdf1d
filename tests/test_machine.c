/* test_machine.c: machine context (harness/machine.c) and measured peak (harness/peak.c). */
#include <string.h>
#include "core/machine.h"
#include "test.h"

TEST(machine_context_fields)
{
    attn_peaks pk;
    memset(&pk, 0, sizeof pk);
    pk.gflops[ATTN_ISA_PORTABLE][1] = 12.5;
    pk.gflops[ATTN_ISA_PORTABLE][2] = 24.0;
    cJSON *o = attn_context_json(&pk);
    static const char *const strings[] = { "date", "host", "cpu_model", "governor",
        "compiler", "cflags", "git_sha", "isa_flags" };
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
        CHECK_MSG(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, strings[i])),
                  "context.%s missing or not a string", strings[i]);
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(o, "date");
    /* ISO 8601 UTC: 2024-01-31T12:34:56Z */
    CHECK(date && strlen(date->valuestring) == 20 && date->valuestring[10] == 'T' &&
          date->valuestring[19] == 'Z');
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "isa")));
    const cJSON *usable = cJSON_GetObjectItemCaseSensitive(o, "isa_usable");
    CHECK(cJSON_IsArray(usable) && cJSON_GetArraySize(usable) >= 1);
    CHECK(usable && !strcmp(cJSON_GetArrayItem(usable, 0)->valuestring, "portable"));
    const cJSON *cores = cJSON_GetObjectItemCaseSensitive(o, "cores");
    CHECK(cJSON_IsNumber(cores) && cores->valuedouble >= 1 &&
          cores->valuedouble == attn_cpu_cores());
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "caches")));
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "mem_bytes")));
    CHECK(attn_phys_mem_bytes() > (1L << 20));
    /* peak_gflops keeps only measured entries, keyed by ISA then thread count */
    const cJSON *peak = cJSON_GetObjectItemCaseSensitive(o, "peak_gflops");
    CHECK(cJSON_IsObject(peak) && cJSON_GetArraySize(peak) == 1);
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(peak, "portable");
    CHECK(cJSON_GetArraySize(port) == 2);
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(port, "1");
    CHECK(cJSON_IsNumber(one) && one->valuedouble == 12.5);
    cJSON_Delete(o);

    o = attn_context_json(NULL);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "peak_gflops")) == 0);
    cJSON_Delete(o);
}

TEST(machine_cache_sizes)
{
    /* where the machine tells us, caches grow with level */
    long l1 = attn_cache_bytes(1), l2 = attn_cache_bytes(2), l3 = attn_cache_bytes(3);
    CHECK(l1 >= 0 && l2 >= 0 && l3 >= 0);
    if (l1 > 0 && l2 > 0) CHECK(l2 > l1);
    if (l2 > 0 && l3 > 0) CHECK(l3 >= l2);
    CHECK(attn_cache_bytes(9) == 0);
}

TEST(peak_sanity)
{
    double port = attn_peak_measure(ATTN_ISA_PORTABLE, 1, 0.1);
    CHECK_MSG(port > 0.1, "portable peak %.3g GFLOP/s", port);
    CHECK(attn_peak_measure(ATTN_ISA_PORTABLE, 0, 0.1) == 0);    /* nonsense thread count */
    attn_isa top = attn_isa_available();
    for (int i = ATTN_ISA_AVX2; i < ATTN_ISA_COUNT; i++) {
        double g = attn_peak_measure((attn_isa)i, 1, 0.1);
        if (i <= (int)top)   /* 8- or 16-lane FMA beats the baseline mul + add loop */
            CHECK_MSG(g > port, "%s peak %.1f <= portable %.1f GFLOP/s",
                      attn_isa_name((attn_isa)i), g, port);
        else
            CHECK(g == 0);   /* not usable here: nothing measured */
    }
}
