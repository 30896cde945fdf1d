/* tolerance.c: the config-or-kernel tolerance rule (tolerance.h). */
#include <math.h>
#include "core/tolerance.h"

attn_tol attn_case_tol(const attn_case *c)
{
    attn_tol k = { ATTN_TOL_FALLBACK_ATOL, ATTN_TOL_FALLBACK_RTOL };
    if (c->kernel) {
        const attn_tol d = attn_kernel_tol(c->kernel, c->dtype);
        if (d.atol > 0 || d.rtol > 0) k = d;
    }
    attn_tol t;
    t.atol = isnan(c->atol) ? k.atol : c->atol;
    t.rtol = isnan(c->rtol) ? k.rtol : c->rtol;
    return t;
}
