/* tolerance.h: the validation tolerance a case runs under.
 *
 * The rule: a kernel declares its tolerance per input dtype (attn_kernel.tol, derived in a
 * comment in its file); a config section that sets `atol` or `rtol` explicitly overrides
 * that value for its cases (config.c leaves an unset key NaN). results.json records the
 * values actually used (settings.atol, settings.rtol).
 */
#ifndef ATTN_TOLERANCE_H
#define ATTN_TOLERANCE_H

#include "core/case.h"

/* What validation uses when neither the config nor the kernel says (a kernel outside the
 * registry, e.g. a test's stand-in, that declares no tolerance). */
#define ATTN_TOL_FALLBACK_ATOL 1e-4
#define ATTN_TOL_FALLBACK_RTOL 1e-3

/* The tolerance case c validates with: each of atol, rtol from the config when it set
 * that key, else from the kernel's declaration for the case's dtype. */
attn_tol attn_case_tol(const attn_case *c);

#endif /* ATTN_TOLERANCE_H */
