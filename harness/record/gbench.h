/* gbench.h: Google Benchmark's JSON shape of a results document, so compare.py,
 * github-action-benchmark or Bencher can read attnbench results. */
#ifndef ATTN_GBENCH_H
#define ATTN_GBENCH_H

#include <cjson/cJSON.h>

/* Convert a whole results document ({schema, context, cases}) and write it to path
 * atomically. 0 or -1 (message printed). */
int attn_gbench_write(const char *path, const cJSON *results_doc);
/* The converted document itself (caller owns it), NULL when out of memory. */
cJSON *attn_gbench_doc(const cJSON *results_doc);

#endif
