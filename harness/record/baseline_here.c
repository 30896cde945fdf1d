/* baseline_here.c: the baseline path for the machine this process runs on.
 *
 * Apart from baseline.c because it needs machine.c (attn_context_json); what only reads
 * results files (compare, tests) then links without it.
 */
#include "record/baseline.h"
#include "core/machine.h"

int attn_baseline_path(const char *name, char *out, size_t n)
{
    cJSON *ctx = attn_context_json(NULL);
    if (!ctx) return -1;
    int rc = attn_baseline_path_for(ctx, name, out, n);
    cJSON_Delete(ctx);
    return rc;
}
