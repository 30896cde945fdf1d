/* history.c: the trend table behind `attnbench history`; see history.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "core/stats.h"
#include "analysis/history.h"

/* One case of one run, while the rows are found. */
typedef struct entry {
    char *key;
    const cJSON *c;
    int run;
    long order;                 /* arrival over all runs: first-seen order of the rows */
    int row;
} entry;

static int by_key_order(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* rows sorted by first arrival: a permutation of group heads */
static int by_order(const void *a, const void *b)
{
    const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
    return (x->order > y->order) - (x->order < y->order);
}

typedef struct key_row { const char *key; int row; } key_row;

static int by_key(const void *a, const void *b)
{
    return strcmp(((const key_row *)a)->key, ((const key_row *)b)->key);
}

/* --------------------------------------------------------------- labels -- */

static void label_runs(attn_history *h, const cJSON *const *docs, const char *const *names)
{
    for (int d = 0; d < h->n_runs; d++) {
        /* the commit when recorded, else the directory's name */
        const char *sha = attn_json_str(cJSON_GetObjectItemCaseSensitive(docs[d], "context"), "git_sha", NULL);
        char dir[4096];
        attn_results_dir(names[d], dir, sizeof dir);
        const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        snprintf(h->run_label[d], sizeof h->run_label[d], "%.12s", sha && strcmp(sha, "unknown") ? sha : base);
        for (int e = 0; e < d; e++)     /* runs are few: quadratic in runs is fine */
            if (!strcmp(h->run_label[e], h->run_label[d])) {
                snprintf(h->run_label[d], sizeof h->run_label[d], "%.40s#%d", base, d + 1);
                break;
            }
    }
}

/* ----------------------------------------------------------------- rows -- */

/* Every case of every run as an entry, sorted by (key, arrival). -1 out of memory. */
static int collect(const cJSON *const *docs, int n_runs, entry **out, long *n_out)
{
    long n = 0, cap = 0;
    entry *e = NULL;
    for (int d = 0; d < n_runs; d++) {
        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(docs[d], "cases");
        for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next) {
            char key[ATTN_CASE_KEY_MAX];
            if (attn_case_key(c, key, sizeof key) != 0) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                entry *ne = realloc(e, sizeof *ne * (size_t)cap);
                if (!ne) goto oom;
                e = ne;
            }
            e[n] = (entry){ .key = strdup(key), .c = c, .run = d, .order = n };
            if (!e[n++].key) goto oom;
        }
    }
    qsort(e, (size_t)n, sizeof *e, by_key_order);
    *out = e;
    *n_out = n;
    return 0;
oom:
    for (long i = 0; i < n; i++) free(e[i].key);
    free(e);
    return -1;
}

/* Rows from the sorted entries (one per key, in first-seen order); each entry's row set. */
static int make_rows(attn_history *h, entry *e, long n)
{
    long n_groups = 0;
    for (long i = 0; i < n; i++) n_groups += i == 0 || strcmp(e[i].key, e[i - 1].key);
    entry **head = malloc(sizeof *head * (size_t)(n_groups ? n_groups : 1));
    h->rows = calloc((size_t)(n_groups ? n_groups : 1), sizeof *h->rows);
    if (!head || !h->rows) { free(head); return -1; }
    for (long i = 0, g = 0; i < n; i++)
        if (i == 0 || strcmp(e[i].key, e[i - 1].key)) head[g++] = &e[i];
    qsort(head, (size_t)n_groups, sizeof *head, by_order);
    for (long r = 0; r < n_groups; r++) {
        char label[ATTN_CASE_KEY_MAX];
        attn_case_label(head[r]->c, label, sizeof label);
        attn_history_row *row = &h->rows[r];
        row->key = strdup(head[r]->key);
        row->label = strdup(label);
        row->kernel = strdup(attn_json_str(head[r]->c, "kernel", "?"));
        h->n_rows++;
        if (!row->key || !row->label || !row->kernel) { free(head); return -1; }
        head[r]->row = (int)r;
    }
    free(head);
    for (long i = 1; i < n; i++)        /* heads carry their row; spread it over the group */
        if (!strcmp(e[i].key, e[i - 1].key)) e[i].row = e[i - 1].row;
    return 0;
}

/* ---------------------------------------------------------------- cells -- */

static void fill_cell(attn_history_cell *cell, const cJSON *c)
{
    if (isfinite(cell->median) || cell->mark != '-') return;     /* first occurrence wins */
    const char *st = attn_json_str(c, "status", "ok");
    if (!strcmp(st, "invalid") || !strcmp(st, "crashed") || !strcmp(st, "timeout")) { cell->mark = 'x'; return; }
    int n = 0;
    double *x = strcmp(st, "ok") ? NULL : attn_case_samples(c, &n);
    if (!x || n < 1) { free(x); return; }
    qsort(x, (size_t)n, sizeof *x, attn_cmp_double);
    cell->median = attn_quantile_sorted(x, n, 0.5);
    cell->mark = ' ';
    free(x);
}

/* Regression and improvement marks of run d against run d - 1. */
static int mark_run(attn_history *h, const cJSON *const *docs, int d, const attn_cmp_opts *o,
                    const key_row *index)
{
    attn_cmp_report rep;
    if (attn_compare_docs(docs[d - 1], docs[d], o, &rep) != 0) return -1;
    for (int i = 0; i < rep.n; i++) {
        key_row k = { rep.cases[i].key, 0 };
        const key_row *hit = bsearch(&k, index, (size_t)h->n_rows, sizeof *index, by_key);
        if (!hit) continue;
        attn_history_cell *cell = attn_history_at(h, d, hit->row);
        if (!isfinite(cell->median)) continue;
        if (rep.cases[i].verdict == CMP_REGRESSED) cell->mark = '^';
        if (rep.cases[i].verdict == CMP_IMPROVED) cell->mark = 'v';
    }
    attn_cmp_report_free(&rep);
    return 0;
}

int attn_history_build(const cJSON *const *docs, const char *const *names, int n_runs,
                       const attn_cmp_opts *o, attn_history *h)
{
    entry *e = NULL;
    long n = 0;
    key_row *index = NULL;
    memset(h, 0, sizeof *h);
    h->n_runs = n_runs;
    if (!(h->run_label = calloc((size_t)(n_runs ? n_runs : 1), sizeof *h->run_label))) goto oom;
    label_runs(h, docs, names);
    if (collect(docs, n_runs, &e, &n) || make_rows(h, e, n)) goto oom;
    h->cells = malloc(sizeof *h->cells * ((size_t)n_runs * (size_t)h->n_rows + 1));
    index = malloc(sizeof *index * (size_t)(h->n_rows + 1));
    if (!h->cells || !index) goto oom;
    for (size_t i = 0; i < (size_t)n_runs * (size_t)h->n_rows; i++) h->cells[i] = (attn_history_cell){ NAN, '-' };
    for (long i = 0; i < n; i++)          /* sorted by arrival within a key: first one first */
        fill_cell(attn_history_at(h, e[i].run, e[i].row), e[i].c);
    for (int r = 0; r < h->n_rows; r++) index[r] = (key_row){ h->rows[r].key, r };
    qsort(index, (size_t)h->n_rows, sizeof *index, by_key);
    for (int d = 1; d < n_runs; d++)
        if (mark_run(h, docs, d, o, index)) goto oom;
    for (long i = 0; i < n; i++) free(e[i].key);
    free(e);
    free(index);
    return 0;
oom:
    for (long i = 0; i < n; i++) free(e[i].key);
    free(e);
    free(index);
    attn_history_free(h);
    return -1;
}

void attn_history_free(attn_history *h)
{
    for (int r = 0; h->rows && r < h->n_rows; r++) {
        free(h->rows[r].key);
        free(h->rows[r].label);
        free(h->rows[r].kernel);
    }
    free(h->rows);
    free(h->cells);
    free(h->run_label);
    memset(h, 0, sizeof *h);
}

/* ---------------------------------------------------------------- table -- */

int attn_history_print(FILE *f, const attn_history *h, const attn_cmp_opts *o,
                       const char *const *names)
{
    int w = 4, cw = 10, n_reg = 0;
    for (int r = 0; r < h->n_rows; r++) if ((int)strlen(h->rows[r].label) > w) w = (int)strlen(h->rows[r].label);
    for (int d = 0; d < h->n_runs; d++) if ((int)strlen(h->run_label[d]) + 1 > cw) cw = (int)strlen(h->run_label[d]) + 1;
    fprintf(f, "median ms per run; ^ regressed, v improved against the previous run (threshold %.3g%%, "
            "alpha %g), x failed, - absent\n\n%-*s", 100 * o->threshold, o->alpha, w, "case");
    for (int d = 0; d < h->n_runs; d++) fprintf(f, " %*s", cw, h->run_label[d]);
    fprintf(f, "\n");
    for (int r = 0; r < h->n_rows; r++) {
        fprintf(f, "%-*s", w, h->rows[r].label);
        for (int d = 0; d < h->n_runs; d++) {
            const attn_history_cell *c = attn_history_at(h, d, r);
            char v[64];
            if (isfinite(c->median)) {
                double ms = c->median * 1e3;
                snprintf(v, sizeof v, ms >= 100 ? "%.1f%c" : ms >= 10 ? "%.2f%c" : ms >= 1 ? "%.3f%c" : "%.4f%c", ms, c->mark);
            } else snprintf(v, sizeof v, "%c ", c->mark);
            n_reg += c->mark == '^';
            fprintf(f, " %*s", cw, v);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    for (int d = 0; d < h->n_runs; d++) fprintf(f, "%-*s %s\n", cw, h->run_label[d], names[d]);
    fprintf(f, "%d regression%s marked\n", n_reg, n_reg == 1 ? "" : "s");
    return n_reg;
}
