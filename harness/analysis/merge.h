/* merge.h: join the results documents of sharded runs into one (`attnbench merge`;
 * the command line is cli/cmd_merge.c).
 *
 * `run --shard K/N` runs every N-th case of the full expansion starting at K and records
 * each case's position in the full expansion ("case_index") and its shard in the context
 * ("shard": "K/N"). Merging puts the cases back in case_index order, so the merged document
 * reads like an unsharded run (without case_index, the order of the inputs is kept).
 * A case is identified by its id (the key of attn_case_key when it has none). The same case
 * in two inputs is kept once when both records are identical and refused when they differ:
 * a merge never picks one measurement over another silently. Contexts that differ in CPU,
 * compiler, flags or git commit are merged with a warning (timings of a sweep spread over
 * unlike machines are not comparable with each other), and missing shards are warned of.
 *
 * Duplicates are found by sorting on the identity: O(n log n) in cases.
 */
#ifndef ATTN_MERGE_H
#define ATTN_MERGE_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Told each warning (one line, no prefix, no newline). */
typedef void (*attn_merge_warn)(void *ctx, const char *msg);

typedef struct attn_merge_info {
    int n_cases;                /* cases in the merged document */
    int n_same;                 /* identical duplicates dropped */
} attn_merge_info;

/* Merge docs[0..n) (names[d]: where doc d came from, for messages and "merged_from").
 * The cases are moved out of docs (each doc is left with an empty "cases"), so the
 * caller still owns and frees docs. On success *merged is the new document (caller
 * frees) and 0 is returned; on a refusal (conflicting duplicates, inputs of different
 * sweeps) or out of memory, -1 with the reason in err. Never prints, never exits. */
int attn_merge_docs(cJSON *const *docs, const char *const *names, int n, cJSON **merged,
                    attn_merge_info *info, attn_merge_warn warn, void *warn_ctx,
                    char *err, size_t errlen);

#endif
