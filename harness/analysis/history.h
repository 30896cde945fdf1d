/* history.h: each case's median over successive runs, as data (`attnbench history`; the
 * command line is cli/cmd_history.c, the chart plot/history_chart.c).
 *
 * The runs are taken in the order given (oldest first, e.g. one results directory per
 * commit). Every run is compared with the one before it exactly as `attnbench compare`
 * does (attn_compare_docs, same threshold and alpha), so the marks are the verdicts CI
 * would have given at that commit. Rows are the cases (by attn_case_key) in first-seen
 * order; building the table is O(n log n) in cases (a sort by key, no scan per case).
 */
#ifndef ATTN_HISTORY_H
#define ATTN_HISTORY_H

#include <stdio.h>
#include <cjson/cJSON.h>
#include "analysis/compare.h"

/* One cell: the case's median in one run, and its mark there:
 *   ' ' timed   '^' regressed / 'v' improved against the previous run
 *   'x' invalid, crashed or timed out   '-' absent (or not timed) */
typedef struct attn_history_cell {
    double median;              /* seconds; NAN when not timed */
    char mark;
} attn_history_cell;

typedef struct attn_history_row {
    char *key;                  /* attn_case_key */
    char *label;                /* attn_case_label */
    char *kernel;
} attn_history_row;

typedef struct attn_history {
    int n_runs, n_rows;
    char (*run_label)[64];      /* (n_runs): commit when recorded, else directory name */
    attn_history_row *rows;     /* (n_rows) */
    attn_history_cell *cells;   /* (n_runs x n_rows): cells[run * n_rows + row] */
} attn_history;

static inline attn_history_cell *attn_history_at(const attn_history *h, int run, int row)
{
    return &h->cells[(size_t)run * (size_t)h->n_rows + (size_t)row];
}

/* Build the table of docs[0..n_runs) (names[d]: where doc d came from, used for its
 * label when it records no commit). 0, or -1 out of memory (h freed). Never prints. */
int attn_history_build(const cJSON *const *docs, const char *const *names, int n_runs,
                       const attn_cmp_opts *o, attn_history *h);
void attn_history_free(attn_history *h);

/* The table as text; returns the number of regressions marked. */
int attn_history_print(FILE *f, const attn_history *h, const attn_cmp_opts *o,
                       const char *const *names);

#endif
