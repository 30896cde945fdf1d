/* tunables.h: which tunables a case uses and where they came from (include/attn.h
 * "tunables"; docs/design.md section 4).
 *
 * A config may set tile_q and tile_k (core/params.def; 0 = not set). Each set value must
 * be one the case's kernel allows, else the case is omitted (config.c). The values used
 * are, per tunable: the config's, else the wisdom's (`attnbench tune`, record/wisdom.h),
 * else the kernel's default for this machine's caches (attn_tune_defaults). A kernel
 * without tunables uses none (TUNE_NONE). The problem struct carries the values used
 * (attn_problem_from_case), so workspace_bytes and run see the same ones.
 */
#ifndef ATTN_TUNABLES_H
#define ATTN_TUNABLES_H

#include <stddef.h>
#include "core/case.h"

/* "none", "config", "wisdom", "default": results.json tunables.from. */
const char *attn_tune_source_name(attn_tune_source s);

/* The config's value of tunable t of c (0: not set). */
int attn_case_tune_asked(const attn_case *c, attn_tune_id t);

/* 1 when kernel k allows every tunable c's config sets; else 0 with why ("flash_avx512
 * allows tile_q 64..1024 in steps of 64, not 32"; "naive has no tunable tile_q"). */
int attn_case_tunes_allowed(const attn_case *c, const attn_kernel *k, char *why, size_t n);

/* The L1d and L2 sizes of this machine (core/machine.h), detected once. */
attn_caches attn_machine_caches(void);

/* Set c->tune_used and c->tune_from for c's kernel: when the config sets a tunable, its
 * values and the kernel's default for the others (from = config); else wisdom's values
 * (wisdom: ATTN_TUNE_COUNT values, or NULL; from = wisdom); else the kernel's default for
 * caches (from = default). A kernel without tunables: zeros, from = none. */
void attn_case_resolve_tunables(attn_case *c, const int *wisdom, attn_caches caches);

#endif
