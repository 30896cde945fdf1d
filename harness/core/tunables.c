/* tunables.c: the tunables a case uses (core/tunables.h). */
#include <stdio.h>
#include <string.h>

#include "core/inputs.h"
#include "core/machine.h"
#include "core/tunables.h"

const char *attn_tune_source_name(attn_tune_source s)
{
    static const char *const names[] = { "none", "config", "wisdom", "default" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int attn_case_tune_asked(const attn_case *c, attn_tune_id t)
{
    return t == ATTN_TUNE_TILE_Q ? c->tile_q : t == ATTN_TUNE_TILE_K ? c->tile_k : 0;
}

int attn_case_tunes_allowed(const attn_case *c, const attn_kernel *k, char *why, size_t n)
{
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) {
        int v = attn_case_tune_asked(c, (attn_tune_id)t);
        if (v == 0 || attn_tune_allows(k, (attn_tune_id)t, v)) continue;
        const attn_tune_range r = k->tune[t];
        if (!attn_kernel_tunable(k, (attn_tune_id)t))
            snprintf(why, n, "%s has no tunable %s", k->name, attn_tune_names[t]);
        else
            snprintf(why, n, "%s allows %s %d..%d in steps of %d, not %d", k->name,
                     attn_tune_names[t], r.min, r.max, r.step, v);
        return 0;
    }
    return 1;
}

attn_caches attn_machine_caches(void)
{
    static attn_caches c;
    static int done;
    if (!done) {
        c.l1d = attn_cache_bytes(1);
        c.l2 = attn_cache_bytes(2);
        done = 1;
    }
    return c;
}

void attn_case_resolve_tunables(attn_case *c, const int *wisdom, attn_caches caches)
{
    const attn_kernel *k = c->kernel;
    int any_tunable = 0, any_asked = 0, def[ATTN_TUNE_COUNT];
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) {
        any_tunable |= attn_kernel_tunable(k, (attn_tune_id)t);
        any_asked |= attn_case_tune_asked(c, (attn_tune_id)t) != 0;
    }
    memset(c->tune_used, 0, sizeof c->tune_used);
    c->tune_from = TUNE_NONE;
    if (!any_tunable) return;
    attn_problem p;
    attn_problem_from_case(c, &p);
    attn_tune_defaults(k, &p, caches, def);
    c->tune_from = any_asked ? TUNE_CONFIG : wisdom ? TUNE_WISDOM : TUNE_DEFAULT;
    for (int t = 0; t < ATTN_TUNE_COUNT; t++) {
        int asked = attn_case_tune_asked(c, (attn_tune_id)t);
        c->tune_used[t] = !attn_kernel_tunable(k, (attn_tune_id)t) ? 0
                        : any_asked ? (asked ? asked : def[t])
                        : wisdom ? wisdom[t] : def[t];
    }
}
