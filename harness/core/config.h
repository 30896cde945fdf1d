/* config.h: INI sweep files -> list of cases (see docs/design.md).
 *
 * Every error is reported as "FILE:LINE: message" on stderr before anything runs.
 */
#ifndef ATTN_CONFIG_H
#define ATTN_CONFIG_H

#include "core/case.h"

typedef struct attn_caselist {
    attn_case *cases;
    int n;
} attn_caselist;

/* Parse `path` and expand every section's Cartesian product, shape-major and kernel-minor
 * (all kernels of one shape run next to each other). kernel_filter is a comma list of
 * kernel names that restricts the config's own list, or NULL. Returns 0, or -1 after
 * printing the error. */
int attn_config_load(const char *path, const char *kernel_filter, attn_caselist *out);
void attn_caselist_free(attn_caselist *l);

#endif
