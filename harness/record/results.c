/* results.c: results.json and results.csv of one run directory, rewritten as cases finish.
 *
 * The run is held in memory as one cJSON document { "schema": 1, "context", "cases" }
 * (docs/design.md, results/README.md). After every attn_results_add the whole document is
 * written and renamed into place (attn_write_file_atomic; each case is printed once and
 * its text kept, so a long sweep is not quadratic), and results.csv is
 * regenerated from the same document, so both files always agree, always parse, and
 * a resumed run's old cases appear in the CSV too. With gbench set, the Google Benchmark
 * view (gbench.c) is rewritten alongside.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/params.h"
#include "core/tunables.h"
#include "core/peer.h"
#include "core/tolerance.h"
#include "record/gbench.h"
#include "record/results.h"

#define RESULTS_SCHEMA 1

struct attn_results {
    char dir[4096];
    char json_path[4200];
    cJSON *doc;                 /* { schema, context, cases } */
    int gbench;
    /* Printed text of each case, in the order of doc.cases (NULL: not printed yet).
     * A case is printed once, not at every rewrite: printing every sample of every
     * finished case after each case made long sweeps quadratic. */
    int lock_fd;                /* DIR/.attnbench.lock, flock'ed while this run writes */
    char **case_text;
    int n_text, cap_text;
};

const char *attn_status_name(attn_case_status s)
{
    static const char *const names[] = {
        [ST_OK] = "ok", [ST_INVALID] = "invalid", [ST_SKIPPED] = "skipped",
        [ST_CRASHED] = "crashed", [ST_TIMEOUT] = "timeout",
    };
    if ((unsigned)s < sizeof names / sizeof names[0] && names[s]) return names[s];
    return "unknown";
}

/* ------------------------------------------------------------- case JSON -- */

/* A number, or null when it is not finite (JSON has no NaN; cJSON would print null
 * anyway, this makes the intent explicit). */
static void add_num(cJSON *o, const char *name, double x)
{
    if (isfinite(x)) cJSON_AddNumberToObject(o, name, x);
    else cJSON_AddNullToObject(o, name);
}

cJSON *attn_params_json(const attn_case *c)
{
    cJSON *p = cJSON_CreateObject();
    attn_params_to_json(c, p);      /* every row of core/params.def, then "sweep" */
    return p;
}

/* The settings the case ran under: enough to reproduce the measurement. */
static cJSON *settings_json(const attn_case *c)
{
    cJSON *s = cJSON_CreateObject();
    add_num(s, "min_time", c->min_time);
    cJSON_AddNumberToObject(s, "reps", c->reps);
    cJSON_AddNumberToObject(s, "rounds", c->rounds > 0 ? c->rounds : 1);
    add_num(s, "timeout", c->timeout);
    add_num(s, "atol", attn_case_tol(c).atol);     /* the values validation used */
    add_num(s, "rtol", attn_case_tol(c).rtol);
    cJSON_AddNumberToObject(s, "seed", (double)c->seed);
    return s;
}

static cJSON *validation_json(const attn_validation *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "passed", v->passed != 0);
    add_num(o, "max_abs_err", v->max_abs_err);
    add_num(o, "max_rel_err", v->max_rel_err);
    cJSON_AddNumberToObject(o, "rows_checked", (double)v->rows_checked);
    cJSON_AddNumberToObject(o, "rows_total", (double)v->rows_total);
    cJSON_AddStringToObject(o, "against", v->against ? v->against : "naive");
    return o;
}

/* A time_s object: the statistics s of samples x (n), with r's batching and rounds. */
static cJSON *stats_json(const attn_result *r, const attn_stats *s, const double *x, int n)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "median", s->median);
    add_num(o, "min", s->min);
    add_num(o, "max", s->max);
    add_num(o, "mean", s->mean);
    add_num(o, "stddev", s->stddev);
    add_num(o, "mad", s->mad);
    add_num(o, "cv", s->cv);
    add_num(o, "ci_low", s->ci_low);
    add_num(o, "ci_high", s->ci_high);
    cJSON_AddNumberToObject(o, "n", n);
    cJSON_AddNumberToObject(o, "iters_per_sample", r->iters_per_sample);
    cJSON_AddNumberToObject(o, "rounds", r->rounds);
    cJSON_AddNumberToObject(o, "outliers_low", s->outliers_low);
    cJSON_AddNumberToObject(o, "outliers_high", s->outliers_high);
    cJSON *a = cJSON_AddArrayToObject(o, "samples");
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, isfinite(x[i]) ? cJSON_CreateNumber(x[i]) : cJSON_CreateNull());
    return o;
}

static cJSON *time_json(const attn_result *r)
{
    return stats_json(r, &r->st, r->samples, r->n_samples);
}

/* "parts" of an mha case: a time_s object per part of the layer (core/layer.h), its
 * samples taken in the same calls as the whole's. */
static cJSON *parts_json(const attn_result *r)
{
    cJSON *o = cJSON_CreateObject();
    for (int q = 0; q < r->n_parts; q++)
        cJSON_AddItemToObject(o, attn_part_names[q],
                              stats_json(r, &r->part_st[q], r->samples + (size_t)(q + 1) * r->n_samples,
                                         r->n_samples));
    return o;
}

cJSON *attn_tunables_json(const attn_case *c)
{
    cJSON *t = cJSON_CreateObject();
    for (int i = 0; i < ATTN_TUNE_COUNT; i++)
        if (c->tune_used[i]) cJSON_AddNumberToObject(t, attn_tune_names[i], c->tune_used[i]);
    cJSON_AddStringToObject(t, "from", attn_tune_source_name(c->tune_from));
    return t;
}

cJSON *attn_case_json(const attn_case *c, const attn_result *res)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddNumberToObject(o, "case_index", c->index);   /* position in the full sweep (merge) */
    cJSON_AddStringToObject(o, "kernel", c->kernel ? c->kernel->name : "?");
    if (c->kernel) cJSON_AddStringToObject(o, "isa", attn_isa_name(c->kernel->isa));
    if (attn_peer_of(c->kernel)) {      /* a program run by the harness (docs/peers.md) */
        cJSON_AddStringToObject(o, "kind", "peer");
        cJSON_AddStringToObject(o, "peer_version", res->peer_version);
    }
    cJSON_AddItemToObject(o, "params", attn_params_json(c));
    cJSON *settings = settings_json(c);
    if (res->thread_clock) cJSON_AddStringToObject(settings, "clock", "thread_cpu");
    cJSON_AddItemToObject(o, "settings", settings);
    if (c->tune_from != TUNE_NONE) cJSON_AddItemToObject(o, "tunables", attn_tunables_json(c));

    cJSON_AddStringToObject(o, "status", attn_status_name(res->status));
    /* a case that did not come out ok always says why */
    const char *reason = res->reason;
    if (res->status != ST_OK && !reason[0]) reason = "no reason recorded";
    cJSON_AddStringToObject(o, "reason", reason);

    if (res->val.done) cJSON_AddItemToObject(o, "validation", validation_json(&res->val));
    else cJSON_AddNullToObject(o, "validation");

    int timed = res->n_samples > 0 && res->samples;
    if (timed) cJSON_AddItemToObject(o, "time_s", time_json(res));
    else cJSON_AddNullToObject(o, "time_s");
    if (timed && res->n_parts > 0) cJSON_AddItemToObject(o, "parts", parts_json(res));

    cJSON_AddBoolToObject(o, "unstable", timed && res->unstable);
    add_num(o, "flops", res->flops);
    if (timed) add_num(o, "gflops", res->gflops);
    else cJSON_AddNullToObject(o, "gflops");
    if (timed && res->pct_peak >= 0) add_num(o, "pct_peak", res->pct_peak);
    else cJSON_AddNullToObject(o, "pct_peak");
    /* the roofline: bytes and intensity describe the case, the rest needs a timing
     * (gbytes_s, pct_roof) or a measured roof (roof_gflops); null when unknown */
    if (res->bytes > 0) add_num(o, "bytes", res->bytes);
    else cJSON_AddNullToObject(o, "bytes");
    if (res->intensity > 0) add_num(o, "intensity", res->intensity);
    else cJSON_AddNullToObject(o, "intensity");
    if (timed && res->gbytes_s > 0) add_num(o, "gbytes_s", res->gbytes_s);
    else cJSON_AddNullToObject(o, "gbytes_s");
    if (res->roof_gflops > 0) add_num(o, "roof_gflops", res->roof_gflops);
    else cJSON_AddNullToObject(o, "roof_gflops");
    if (timed && res->pct_roof >= 0) add_num(o, "pct_roof", res->pct_roof);
    else cJSON_AddNullToObject(o, "pct_roof");

    cJSON *m = cJSON_AddObjectToObject(o, "memory");
    cJSON_AddNumberToObject(m, "peak_rss_bytes", (double)res->peak_rss_bytes);
    cJSON_AddNumberToObject(m, "kernel_extra_bytes", (double)res->kernel_extra_bytes);
    cJSON_AddNumberToObject(m, "workspace_bytes", (double)res->workspace_bytes);
    if (res->need_bytes > 0) {      /* skipped over the budget: the numbers behind the reason */
        cJSON_AddNumberToObject(m, "need_bytes", (double)res->need_bytes);
        cJSON_AddNumberToObject(m, "budget_bytes", (double)res->budget_bytes);
    }
    add_num(o, "wall_s", res->wall_s);
    return o;
}

/* ------------------------------------------------------------------- CSV -- */

/* One column: its header name and where its value sits in a case object
 * ("params.batch" = case["params"]["batch"]). The header is the contract for
 * spreadsheet users: add columns at the end, never rename. The case parameters come from
 * the table (core/params.def) at the NULL row, in table order. */
static const struct { const char *name, *path; } csv_cols[] = {
    { "id", "id" }, { "sweep", "params.sweep" }, { "kernel", "kernel" }, { "isa", "isa" },
    { NULL, NULL },     /* here: one column per row of core/params.def, "params.<field>" */
    { "status", "status" }, { "reason", "reason" },
    { "val_passed", "validation.passed" }, { "val_max_abs_err", "validation.max_abs_err" },
    { "val_max_rel_err", "validation.max_rel_err" },
    { "val_rows_checked", "validation.rows_checked" },
    { "val_rows_total", "validation.rows_total" }, { "val_against", "validation.against" },
    { "time_median", "time_s.median" }, { "time_min", "time_s.min" },
    { "time_max", "time_s.max" }, { "time_mean", "time_s.mean" },
    { "time_stddev", "time_s.stddev" }, { "time_mad", "time_s.mad" },
    { "time_cv", "time_s.cv" }, { "time_ci_low", "time_s.ci_low" },
    { "time_ci_high", "time_s.ci_high" }, { "n_samples", "time_s.n" }, { "iters_per_sample", "time_s.iters_per_sample" },
    { "outliers_low", "time_s.outliers_low" }, { "outliers_high", "time_s.outliers_high" },
    { "unstable", "unstable" }, { "flops", "flops" }, { "gflops", "gflops" },
    { "pct_peak", "pct_peak" }, { "peak_rss_bytes", "memory.peak_rss_bytes" },
    { "kernel_extra_bytes", "memory.kernel_extra_bytes" },
    { "workspace_bytes", "memory.workspace_bytes" }, { "wall_s", "wall_s" },
    { "bytes", "bytes" }, { "intensity", "intensity" }, { "gbytes_s", "gbytes_s" },
    { "roof_gflops", "roof_gflops" }, { "pct_roof", "pct_roof" },
    { "tile_q_used", "tunables.tile_q" }, { "tile_k_used", "tunables.tile_k" },
    { "tunables_from", "tunables.from" },
    { "qkv_proj_median", "parts.qkv_proj.median" }, { "attention_median", "parts.attention.median" },
    { "out_proj_median", "parts.out_proj.median" },
    { "kind", "kind" }, { "peer_version", "peer_version" },
};
#define N_CSV_COLS (int)(sizeof csv_cols / sizeof csv_cols[0])

/* A growing string. On allocation failure it keeps failing quietly; sb.ok tells. */
typedef struct { char *s; size_t n, cap; int ok; } strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
    if (!b->ok) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->n + n + 1 > cap) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) { b->ok = 0; return; }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_str(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* RFC 4180: quote when the field holds a comma, quote or line break; double the quotes. */
/* A text cell. One that a spreadsheet would read as a formula (=, +, -, @, tab or CR
 * first: OWASP's CSV-injection list) gets a leading ' and quotes, so it stays text;
 * numbers are written by sb_csv_value and never come here. */
static void sb_csv_field(strbuf *b, const char *s, int force_quote)
{
    int formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    if (!force_quote && !formula && !strpbrk(s, ",\"\r\n")) { sb_str(b, s); return; }
    sb_put(b, "\"", 1);
    if (formula) sb_put(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"') sb_put(b, "\"\"", 2);
        else sb_put(b, p, 1);
    }
    sb_put(b, "\"", 1);
}

static const cJSON *lookup(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

static void sb_csv_value(strbuf *b, const cJSON *v, int force_quote)
{
    char num[64];
    if (cJSON_IsString(v)) sb_csv_field(b, v->valuestring, force_quote);
    else if (cJSON_IsBool(v)) sb_str(b, cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        /* shortest of %.15g / %.17g that reads back exactly, as cJSON does */
        if (x == floor(x) && fabs(x) < 1e15) snprintf(num, sizeof num, "%.0f", x);
        else if (snprintf(num, sizeof num, "%.15g", x), strtod(num, NULL) != x)
            snprintf(num, sizeof num, "%.17g", x);
        sb_str(b, num);
    } else if (force_quote) sb_str(b, "\"\"");
    /* null or missing: empty field */
}

/* The header (c NULL) or one case's row: csv_cols, the params rows at the NULL entry. */
static void csv_row(strbuf *b, const cJSON *c)
{
    int first = 1;
    for (int j = 0; j < N_CSV_COLS; j++) {
        int from = csv_cols[j].name ? -1 : 0, to = csv_cols[j].name ? 0 : ATTN_N_PARAMS;
        for (int p = from; p < to; p++) {
            const char *name = p < 0 ? csv_cols[j].name : attn_params[p].field;
            if (!first) sb_put(b, ",", 1);
            first = 0;
            if (!c) { sb_str(b, name); continue; }
            const cJSON *v = p < 0 ? lookup(c, csv_cols[j].path)
                : cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "params"), name);
            sb_csv_value(b, v, p < 0 && !strcmp(name, "reason"));
        }
    }
    sb_put(b, "\n", 1);
}

static char *csv_text(const cJSON *cases, size_t *len)
{
    strbuf b = { .ok = 1 };
    csv_row(&b, NULL);
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) csv_row(&b, c);
    if (!b.ok) { free(b.s); return NULL; }
    *len = b.n;
    return b.s;
}

/* ---------------------------------------------------------------- writer -- */

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) { errno = ENAMETOOLONG; return -1; }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
    struct stat st;
    if (stat(p, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
    return 0;
}

/* results.json (given as text), results.csv and results.gbench.json of doc into dir.
 * The JSON and the CSV are replaced together (attn_write_files_atomic), so both always
 * hold the same cases, whatever interrupts the run. */
static int write_files(const char *dir, const char *json, const cJSON *doc, int gbench)
{
    char jpath[4200], cpath[4200];
    snprintf(jpath, sizeof jpath, "%s/results.json", dir);
    snprintf(cpath, sizeof cpath, "%s/results.csv", dir);
    size_t len = 0;
    char *csv = csv_text(cJSON_GetObjectItemCaseSensitive(doc, "cases"), &len);
    if (!csv) {
        fprintf(stderr, "attnbench: %s: out of memory building CSV\n", cpath);
        return -1;
    }
    const char *paths[2] = { jpath, cpath }, *data[2] = { json, csv };
    size_t lens[2] = { strlen(json), len };
    int rc = 0;
    if (attn_write_files_atomic(2, paths, data, lens) != 0) {
        fprintf(stderr, "attnbench: %s: cannot write results.json and results.csv: %s\n", dir, strerror(errno));
        rc = -1;
    }
    free(csv);

    char gpath[4200];
    snprintf(gpath, sizeof gpath, "%s/results.gbench.json", dir);
    if (rc == 0 && gbench && attn_gbench_write(gpath, doc) != 0) rc = -1;
    return rc;
}

int attn_results_write_doc(const char *dir, const cJSON *doc, int gbench)
{
    char *json = cJSON_Print(doc);
    if (!json) {
        fprintf(stderr, "attnbench: %s: out of memory printing results\n", dir);
        return -1;
    }
    int rc = write_files(dir, json, doc, gbench);
    free(json);
    return rc;
}

/* The document as text, from the cached case texts: the same JSON cJSON_Print gives,
 * laid out as { "schema", "context", "cases": [ case, case, ... ] }. */
static char *doc_text(attn_results *r)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(r->doc, "cases");
    int n = cJSON_GetArraySize(cases);
    if (n > r->cap_text) {
        int cap = r->cap_text ? r->cap_text : 64;
        while (cap < n) cap *= 2;
        char **nt = realloc(r->case_text, (size_t)cap * sizeof *nt);
        if (!nt) return NULL;
        memset(nt + r->cap_text, 0, (size_t)(cap - r->cap_text) * sizeof *nt);
        r->case_text = nt;
        r->cap_text = cap;
    }
    r->n_text = n;
    char *ctx = cJSON_Print(cJSON_GetObjectItemCaseSensitive(r->doc, "context"));
    if (!ctx) return NULL;
    size_t len = strlen(ctx) + 64;
    int i = 0;
    for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next, i++) {
        if (!r->case_text[i] && !(r->case_text[i] = cJSON_Print(c))) { free(ctx); return NULL; }
        len += strlen(r->case_text[i]) + 3;
    }
    char *out = malloc(len), *w = out;
    if (out) {
        w += sprintf(w, "{\n\"schema\": %d,\n\"context\": %s,\n\"cases\": [", RESULTS_SCHEMA, ctx);
        for (i = 0; i < n; i++) w += sprintf(w, "%s\n%s", i ? "," : "", r->case_text[i]);
        sprintf(w, "\n]\n}\n");
    }
    free(ctx);
    return out;
}

static int write_all(attn_results *r)
{
    char *json = doc_text(r);
    if (!json) {
        fprintf(stderr, "attnbench: %s: out of memory printing results\n", r->json_path);
        return -1;
    }
    int rc = write_files(r->dir, json, r->doc, r->gbench);
    free(json);
    return rc;
}

/* The resumed run keeps the first run's context (that is when most cases were
 * measured) and appends this session's date and build to context.resumed, so a
 * reader can see that a file mixes sessions, and warns if the build changed. */
static void note_resume(cJSON *old_ctx, const cJSON *new_ctx, const char *path)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(old_ctx, "resumed");
    if (!cJSON_IsArray(list)) {
        cJSON_DeleteItemFromObjectCaseSensitive(old_ctx, "resumed");
        list = cJSON_AddArrayToObject(old_ctx, "resumed");
    }
    cJSON *entry = cJSON_CreateObject();
    static const char *const keys[] = { "date", "host", "git_sha", "cflags" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(new_ctx, keys[i]);
        if (v) cJSON_AddItemToObject(entry, keys[i], cJSON_Duplicate(v, 1));
    }
    cJSON_AddItemToArray(list, entry);

    static const char *const same[] = { "host", "git_sha", "cflags" };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(old_ctx, same[i]);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(new_ctx, same[i]);
        if (cJSON_IsString(a) && cJSON_IsString(b) && strcmp(a->valuestring, b->valuestring))
            fprintf(stderr, "attnbench: warning: resuming %s: %s was '%s', now '%s'\n",
                    path, same[i], a->valuestring, b->valuestring);
    }
}

/* One writer per results directory: two runs (two --resume, or a run and a merge) into
 * one DIR would each rewrite the files from their own view and lose the other's cases.
 * An flock on DIR/.attnbench.lock, held until attn_results_close (the kernel drops it if
 * the process dies); the file holds the writer's pid for the message. */
static int lock_dir(attn_results *r)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.attnbench.lock", r->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        fprintf(stderr, "attnbench: %s: cannot create the lock file: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = read(fd, pid, sizeof pid - 1);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        fprintf(stderr, "attnbench: %s is being written by another attnbench (pid %s); wait for it "
                "to finish or write to another directory (-o)\n", r->dir, *pid ? pid : "?");
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) { /* the pid is only for the message */ }
    r->lock_fd = fd;
    return 0;
}

attn_results *attn_results_open(const char *dir, cJSON *context, int resume, int gbench)
{
    attn_results *r = calloc(1, sizeof *r);
    if (!r) { cJSON_Delete(context); return NULL; }
    if (snprintf(r->dir, sizeof r->dir, "%s", dir) >= (int)sizeof r->dir) {
        fprintf(stderr, "attnbench: %s: directory name too long\n", dir);
        goto fail;
    }
    snprintf(r->json_path, sizeof r->json_path, "%s/results.json", dir);
    r->gbench = gbench;

    r->lock_fd = -1;
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "attnbench: %s: cannot create directory: %s\n", dir, strerror(errno));
        goto fail;
    }
    if (lock_dir(r) != 0) goto fail;
    int exists = access(r->json_path, F_OK) == 0;
    if (exists && !resume) {
        fprintf(stderr, "attnbench: %s already holds results.json; "
                "use --resume to continue it or -o for a new directory\n", dir);
        goto fail;
    }
    if (exists) {
        char err[512];
        r->doc = attn_results_load(r->json_path, err, sizeof err);
        if (!r->doc) {
            fprintf(stderr, "attnbench: cannot resume: %s\n", err);
            goto fail;
        }
        cJSON *old = cJSON_GetObjectItemCaseSensitive(r->doc, "context");
        if (!cJSON_IsObject(old)) {
            /* a context-less file still resumes; this session's context stands in */
            cJSON_DeleteItemFromObjectCaseSensitive(r->doc, "context");
            cJSON_AddItemToObject(r->doc, "context", context ? context : cJSON_CreateObject());
        } else {
            if (context) note_resume(old, context, r->json_path);
            cJSON_Delete(context);
        }
        context = NULL;
    } else {
        r->doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(r->doc, "schema", RESULTS_SCHEMA);
        cJSON_AddItemToObject(r->doc, "context", context ? context : cJSON_CreateObject());
        context = NULL;
        cJSON_AddArrayToObject(r->doc, "cases");
    }
    /* write at once: even a sweep that dies in its first case leaves its context */
    if (write_all(r) != 0) goto fail;
    return r;
fail:
    cJSON_Delete(context);
    cJSON_Delete(r->doc);
    if (r->lock_fd >= 0) close(r->lock_fd);
    free(r);
    return NULL;
}

/* The case with this id and its position in doc.cases, or NULL. */
static cJSON *find_case(const attn_results *r, const char *id, int *pos)
{
    cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r->doc, "cases")) {
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(c, "id");
        if (cJSON_IsString(cid) && !strcmp(cid->valuestring, id)) {
            if (pos) *pos = i;
            return c;
        }
        i++;
    }
    return NULL;
}

int attn_results_has(const attn_results *r, const char *case_id)
{
    return r && find_case(r, case_id, NULL) != NULL;
}

int attn_results_add(attn_results *r, const attn_case *c, const attn_result *res)
{
    cJSON *cases = cJSON_GetObjectItemCaseSensitive(r->doc, "cases");
    cJSON *item = attn_case_json(c, res);
    int pos;
    cJSON *old = find_case(r, c->id, &pos);
    /* a case added twice (the same id) keeps its newest record; --resume skips the ids
     * already held, whatever their status, so it never gets here for them */
    if (old) {
        cJSON_ReplaceItemViaPointer(cases, old, item);
        if (pos < r->n_text) { free(r->case_text[pos]); r->case_text[pos] = NULL; }
    } else {
        cJSON_AddItemToArray(cases, item);
    }
    return write_all(r);
}

void attn_results_close(attn_results *r)
{
    if (!r) return;
    for (int i = 0; i < r->cap_text; i++) free(r->case_text[i]);
    free(r->case_text);
    cJSON_Delete(r->doc);
    if (r->lock_fd >= 0) close(r->lock_fd);     /* releases the lock */
    free(r);
}
