/* cmd_tune.c: `attnbench tune CONFIG.ini`: measure each kernel's tunables over the
 * config's shapes and store the best per (CPU model, kernel, shape class) in the wisdom
 * file that `run` reads (record/wisdom.h; docs/perf.md "Tile sizes").
 *
 * Points: a case whose kernel has tunables is measured at every tile_q x tile_k of the
 * config when it sets them, else at each pair of TUNE_GRID the kernel allows and at the
 * kernel's cache-derived default (once: not again when it is a pair of the grid). Each
 * point runs as `run` runs a case (forked, validated, timed; the config's rounds
 * interleaved). Per (kernel, class) the tile pair with the lowest geometric-mean median
 * over the class's shapes wins (only pairs measured on every shape of the class compete).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/config.h"
#include "core/machine.h"
#include "core/runner.h"
#include "core/tunables.h"
#include "record/results.h"
#include "record/wisdom.h"

static const int TUNE_GRID[] = { 32, 64, 128, 256 };
#define N_GRID (int)(sizeof TUNE_GRID / sizeof TUNE_GRID[0])

static const char usage_text[] =
    "usage: attnbench tune CONFIG.ini [options]\n"
    "\n"
    "Measure each kernel's tunables (tile_q x tile_k) on the config's shapes: the config's\n"
    "tile values, or when it sets none every pair of 32, 64, 128, 256 the kernel allows\n"
    "and its default for this machine's caches. Store the best per (kernel, shape class:\n"
    "head_dim, dtype, log2 of kv_len) in the wisdom file, merged with what it holds;\n"
    "`attnbench run` then uses it (unless --no-wisdom).\n"
    "\n"
    "options:\n"
    "  -o FILE          wisdom file (default results/tuning/<cpu model>.json)\n"
    "  --kernels a,b    only these kernels (of those the config names)\n"
    "  --results DIR    also write every point as a results directory (for `plot`)\n"
    "  -q, --quiet      no progress lines\n"
    "\n"
    "exit status: 0 wisdom written; 1 a point was invalid, crashed or timed out (the\n"
    "others are still used); 2 usage, config or wisdom file error, or nothing to tune\n";

typedef struct {
    const char *config, *out, *kernels, *results;
    int quiet;
} tune_args;

static int parse_args(int argc, char **argv, tune_args *t)
{
    memset(t, 0, sizeof *t);
    attn_argv a = { .argc = argc, .argv = argv, .cmd = "tune" };
    for (a.i = 1; a.i < argc; a.i++) {
        const char *arg = argv[a.i], *v;
        if (attn_opt_flag(&a, "--help", "-h")) { fputs(usage_text, stdout); return 1; }
        if (attn_opt_flag(&a, "--quiet", "-q")) t->quiet = 1;
        else if (arg[0] != '-') {
            if (t->config) {
                fprintf(stderr, "attnbench tune: more than one config ('%s', '%s')\n", t->config, arg);
                return 2;
            }
            t->config = arg;
        } else if ((v = attn_opt_value(&a, "-o"))) t->out = v;
        else if ((v = attn_opt_value(&a, "--kernels"))) t->kernels = v;
        else if ((v = attn_opt_value(&a, "--results"))) t->results = v;
        else if (a.missing) return 2;
        else return attn_opt_unknown(&a);
    }
    if (!t->config) { fputs(usage_text, stderr); return 2; }
    return 0;
}

/* ------------------------------------------------------------ the points -- */

typedef struct {
    attn_case *v;
    int n, cap;
} points;

static int push(points *p, const attn_case *c)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        attn_case *nv = realloc(p->v, (size_t)cap * sizeof *nv);
        if (!nv) return -1;
        p->v = nv;
        p->cap = cap;
    }
    p->v[p->n++] = *c;
    return 0;
}

/* The points of one case of the config (see the top of the file). */
static int add_points(points *p, const attn_case *c)
{
    if (c->tune_from == TUNE_NONE) return 0;            /* no tunables */
    if (c->tune_from == TUNE_CONFIG) return push(p, c);
    int on_grid = 0;                                    /* the cache-derived default */
    for (int i = 0; i < N_GRID; i++)
        for (int j = 0; j < N_GRID; j++)
            on_grid |= c->tune_used[0] == TUNE_GRID[i] && c->tune_used[1] == TUNE_GRID[j];
    if (!on_grid && push(p, c)) return -1;
    for (int i = 0; i < N_GRID; i++)
        for (int j = 0; j < N_GRID; j++) {
            attn_case g = *c;
            g.tile_q = TUNE_GRID[i];
            g.tile_k = TUNE_GRID[j];
            if (!attn_case_tunes_allowed(&g, g.kernel, (char[8]){0}, 8)) continue;
            attn_case_make_id(&g);
            attn_case_resolve_tunables(&g, NULL, attn_machine_caches());
            if (push(p, &g)) return -1;
        }
    return 0;
}

/* ------------------------------------------------------------ the choice -- */

/* One (kernel, class, tile pair): the sum of log medians over the shapes it ran on. */
typedef struct {
    attn_wisdom_entry key;              /* kernel, class and tune */
    int def[ATTN_TUNE_COUNT];           /* the kernel's cache-derived default for the class */
    double log_median, log_gflops;
    int shapes;
} group;

static group *find_group(group *g, int n, const attn_wisdom_entry *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(g[i].key.kernel, key->kernel) && g[i].key.head_dim == key->head_dim &&
            g[i].key.dtype == key->dtype && g[i].key.len_log2 == key->len_log2 &&
            !memcmp(g[i].key.tune, key->tune, sizeof key->tune))
            return &g[i];
    return NULL;
}

static int same_class(const group *a, const group *b)
{
    return !strcmp(a->key.kernel, b->key.kernel) && a->key.head_dim == b->key.head_dim &&
           a->key.dtype == b->key.dtype && a->key.len_log2 == b->key.len_log2;
}

/* The best tile pair of each class of the groups into w; prints the table. Returns the
 * number of classes. */
static int choose(group *g, int n, attn_wisdom *w, const char *date)
{
    int classes = 0;
    char seen[n > 0 ? n : 1];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < n; i++) {
        if (seen[i]) continue;
        int most = 0, best = -1, deflt = -1;
        for (int j = i; j < n; j++)
            if (same_class(&g[i], &g[j]) && g[j].shapes > most) most = g[j].shapes;
        const int *dt = g[i].def;
        for (int j = i; j < n; j++) {
            if (!same_class(&g[i], &g[j])) continue;
            seen[j] = 1;
            if (g[j].shapes < most) continue;
            if (best < 0 || g[j].log_median < g[best].log_median) best = j;
            if (!memcmp(g[j].key.tune, dt, sizeof g[j].key.tune)) deflt = j;
        }
        attn_wisdom_entry e = g[best].key;
        e.median_s = exp(g[best].log_median / most);
        e.gflops = exp(g[best].log_gflops / most);
        memcpy(e.default_tune, dt, sizeof e.default_tune);
        e.default_median_s = deflt >= 0 ? exp(g[deflt].log_median / most) : 0;
        e.points = 0;
        for (int j = i; j < n; j++) e.points += same_class(&g[i], &g[j]) && g[j].shapes == most;
        snprintf(e.date, sizeof e.date, "%s", date);
        if (attn_wisdom_put(w, &e)) return -1;
        printf("%-14s d%-4d %-4s 2^%-3d best %4dx%-4d %8.2f GFLOP/s  default %4dx%-4d ",
               e.kernel, e.head_dim, attn_dtype_name(e.dtype), e.len_log2, e.tune[0], e.tune[1],
               e.gflops, e.default_tune[0], e.default_tune[1]);
        if (deflt >= 0) printf("%.3fx slower", e.default_median_s / e.median_s);
        else printf("not measured");
        printf("  (%d pairs, %d shape%s)\n", e.points, most, most == 1 ? "" : "s");
        classes++;
    }
    return classes;
}

/* Every point into acc[i]. A config's `rounds = R` works as in `run`: R passes over the
 * points, each point a child per pass with reps/R calls and min_time/R seconds, the
 * samples pooled; so a slow spell of a shared machine spreads over every point instead
 * of favouring the points measured outside it. */
static void measure(points *pts, int quiet, attn_result *acc)
{
    int rounds = 1;
    for (int i = 0; i < pts->n; i++)
        if (pts->v[i].rounds > rounds) rounds = pts->v[i].rounds;
    attn_run_opts opts = { .mem_budget = (size_t)(attn_phys_mem_bytes() / 2) };
    for (int round = 0; round < rounds; round++)
        for (int i = 0; i < pts->n; i++) {
            attn_case *c = &pts->v[i];
            const int rc = c->rounds > 1 ? c->rounds : 1;
            if (round >= rc || (round > 0 && acc[i].status != ST_OK)) continue;
            attn_case part = *c;
            part.index = i;
            part.reps = (c->reps + rc - 1) / rc;
            part.min_time = c->min_time / rc;
            opts.no_validation = round > 0;
            attn_result r;
            attn_run_case(&part, &opts, &r);
            if (round == 0) acc[i] = r;
            else if (attn_result_merge(&acc[i], &r, &opts) != 0) {
                attn_result_free(&r);
                acc[i].status = ST_CRASHED;
                snprintf(acc[i].reason, sizeof acc[i].reason, "out of memory merging rounds");
            }
            if (!quiet && (round == rc - 1 || acc[i].status != ST_OK))
                fprintf(stderr, "[%d/%d] %s  %dx%d (%s)  %s %.2f GFLOP/s\n", i + 1, pts->n, c->id,
                        c->tune_used[0], c->tune_used[1], attn_tune_source_name(c->tune_from),
                        attn_status_name(acc[i].status), acc[i].status == ST_OK ? acc[i].gflops : 0.0);
        }
}

/* ------------------------------------------------------------ the command -- */

int attn_cmd_tune(int argc, char **argv)
{
    tune_args t;
    int rc = parse_args(argc, argv, &t);
    if (rc) return rc == 1 ? 0 : rc;

    char path[1024], err[2048], model[256], date[32];
    if (t.out) snprintf(path, sizeof path, "%s", t.out);
    else attn_wisdom_default_path(path, sizeof path);
    attn_cpu_model(model, sizeof model);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));

    /* the existing file first: a bad one stops before any measuring */
    attn_wisdom w;
    int lrc = attn_wisdom_load(path, &w, err, sizeof err);
    if (lrc == 0 && strcmp(w.cpu_model, model)) {
        snprintf(err, sizeof err, "%s: made on '%s', this CPU is '%s'", path, w.cpu_model, model);
        lrc = -1;
        attn_wisdom_free(&w);
    }
    if (lrc < 0) { fprintf(stderr, "attnbench tune: %s\n", err); return 2; }

    attn_caselist list;
    if (attn_config_load(t.config, t.kernels, &list) != 0) { attn_wisdom_free(&w); return 2; }
    points pts = { NULL, 0, 0 };
    group *g = NULL;
    attn_results *res = NULL;
    attn_result *acc = NULL;
    int ng = 0, failed = 0;
    rc = 2;
    for (int i = 0; i < list.n; i++) {
        const char *why;
        if (!attn_kernel_usable(list.cases[i].kernel, &why)) continue;
        if (add_points(&pts, &list.cases[i])) goto oom;
    }
    if (pts.n == 0) {
        fprintf(stderr, "attnbench tune: %s: no case of a kernel with tunables that this CPU runs\n", t.config);
        goto done;
    }
    if (!(g = calloc((size_t)pts.n, sizeof *g))) goto oom;
    if (t.results && !(res = attn_results_open(t.results, attn_context_json(NULL), 0, 0))) goto done;

    if (!(acc = calloc((size_t)pts.n, sizeof *acc))) goto oom;
    measure(&pts, t.quiet, acc);
    for (int i = 0; i < pts.n; i++) {
        const attn_case *c = &pts.v[i];
        const attn_result *r = &acc[i];
        if (r->status == ST_OK && r->st.median > 0) {
            attn_wisdom_entry key;
            memset(&key, 0, sizeof key);
            snprintf(key.kernel, sizeof key.kernel, "%s", c->kernel->name);
            attn_wisdom_class(c, &key.head_dim, &key.dtype, &key.len_log2);
            memcpy(key.tune, c->tune_used, sizeof key.tune);
            group *gr = find_group(g, ng, &key);
            if (!gr) {
                attn_case d = *c;               /* the default: c without the config's tiles */
                d.tile_q = d.tile_k = 0;
                attn_case_resolve_tunables(&d, NULL, attn_machine_caches());
                gr = &g[ng++];
                gr->key = key;
                memcpy(gr->def, d.tune_used, sizeof gr->def);
            }
            gr->log_median += log(r->st.median);
            gr->log_gflops += log(r->gflops > 0 ? r->gflops : 1e-300);
            gr->shapes++;
        } else if (r->status != ST_SKIPPED) failed = 1;
        if (res && attn_results_add(res, c, r) != 0) goto done;
    }
    if (ng == 0) {
        fprintf(stderr, "attnbench tune: no point came out ok: nothing to store\n");
        goto done;
    }
    snprintf(w.cpu_model, sizeof w.cpu_model, "%s", model);
    snprintf(w.updated, sizeof w.updated, "%s", date);
    if (choose(g, ng, &w, date) < 0) goto oom;
    if (attn_wisdom_save(path, &w) != 0) goto done;
    fprintf(stderr, "attnbench tune: wisdom for %d kernel class%s in %s\n", w.n, w.n == 1 ? "" : "es", path);
    rc = failed;
    goto done;
oom:
    fprintf(stderr, "attnbench tune: out of memory\n");
done:
    if (res) attn_results_close(res);
    for (int i = 0; acc && i < pts.n; i++) attn_result_free(&acc[i]);
    free(acc);
    free(g);
    free(pts.v);
    attn_caselist_free(&list);
    attn_wisdom_free(&w);
    return rc;
}
