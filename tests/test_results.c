/* test_results.c: results.json / results.csv writer (harness/results.c).
 *
 * Writes synthetic cases (ok with samples, invalid, skipped, crashed) into a fresh
 * temporary directory, reloads them, and checks the docs/design.md schema field by field,
 * resume, the refusal to overwrite, the CSV's shape and quoting, and that atomic
 * writes leave no temporary files behind.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record/results.h"
#include "test.h"

static void make_case(attn_case *c, const char *id, attn_mask mask)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->sweep, sizeof c->sweep, "unit");
    c->kernel = attn_kernel_find("naive");  /* only its name is recorded */
    c->batch = 2; c->heads = 4; c->kv_heads = 2; c->q_len = 17; c->kv_len = 33;
    c->head_dim = 8; c->v_dim = 12; c->threads = 1; c->mask = mask; c->pad = 0.25;
    c->window_left = -1; c->window_right = 3; c->globals = 1; c->score = ATTN_SCORE_DOT;
    c->additive_dim = 16; c->min_time = 0.1; c->reps = 5; c->timeout = 60;
    c->atol = 1e-5; c->rtol = 1e-4; c->seed = 42;
}

static double samples_ok[] = { 1.0e-3, 1.1e-3, 0.9e-3, 1.05e-3, 3.0e-3 };

static void make_ok(attn_result *r)
{
    memset(r, 0, sizeof *r);
    r->status = ST_OK;
    r->val = (attn_validation){ 1, 1, 1.5e-7, 2.5e-6, 100, 136, "naive" };
    r->samples = samples_ok;
    r->n_samples = 5;
    r->st = (attn_stats){ 5, 1.05e-3, 0.9e-3, 3.0e-3, 1.41e-3, 0.9e-3, 0.05e-3, 0.64,
                          0.9e-3, 3.0e-3, 0, 1 };
    r->unstable = 1;
    r->flops = 1.234e6;
    r->gflops = 1.175;
    r->pct_peak = -1;           /* no peak known: must come out null */
    r->peak_rss_bytes = 1 << 20;
    r->kernel_extra_bytes = 4096;
    r->workspace_bytes = 512;
    r->wall_s = 0.5;
}

/* a fresh empty directory under /tmp; caller removes it with rm_dir */
static char *temp_dir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/attn_test_results_XXXXXX");
    return mkdtemp(buf);
}

static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp")) n++;
    if (d) closedir(d);
    return n;
}

static cJSON *minimal_context(const char *date)
{
    cJSON *ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(ctx, "date", date);
    cJSON_AddStringToObject(ctx, "host", "unit-host");
    cJSON_AddStringToObject(ctx, "git_sha", "abc123");
    return ctx;
}

/* Is o[name] present with the given cJSON type test? */
#define HAS(o, name, is) CHECK_MSG((is)(cJSON_GetObjectItemCaseSensitive((o), (name))), \
                                   "field \"%s\" missing or of the wrong type", (name))

static const cJSON *get(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* Write four cases: ok, invalid, skipped (reason with a comma and quotes), crashed. */
static const char *weird_reason = "over budget: needs 3,000 MB, \"budget\" 2,000 MB";

static void write_four(attn_results *r)
{
    attn_case c;
    attn_result res;

    make_case(&c, "unit-fake-ok", MASK_CAUSAL);
    make_ok(&res);
    CHECK(attn_results_add(r, &c, &res) == 0);

    make_case(&c, "unit-fake-invalid", MASK_PADDING);
    memset(&res, 0, sizeof res);
    res.status = ST_INVALID;
    snprintf(res.reason, sizeof res.reason, "max abs err 0.5 > tolerance");
    res.val = (attn_validation){ 1, 0, 0.5, 2.0, 136, 136, "naive" };
    res.pct_peak = -1;
    CHECK(attn_results_add(r, &c, &res) == 0);

    make_case(&c, "unit-fake-skipped", MASK_NONE);
    memset(&res, 0, sizeof res);
    res.status = ST_SKIPPED;
    snprintf(res.reason, sizeof res.reason, "%s", weird_reason);
    res.pct_peak = -1;
    CHECK(attn_results_add(r, &c, &res) == 0);

    make_case(&c, "unit-fake-crashed", MASK_CAUSAL_PADDING);
    memset(&res, 0, sizeof res);
    res.status = ST_CRASHED;
    snprintf(res.reason, sizeof res.reason, "killed by SIGSEGV");
    res.val = (attn_validation){ 1, 1, 0, 0, 10, 136, "naive" };  /* validated, then crashed */
    res.pct_peak = -1;
    CHECK(attn_results_add(r, &c, &res) == 0);
}

TEST(results_schema_fields)
{
    char buf[64], err[512];
    const char *dir = temp_dir(buf, sizeof buf);
    CHECK(dir != NULL);
    if (!dir) return;
    attn_results *r = attn_results_open(dir, minimal_context("2024-01-01T00:00:00Z"), 0, 0);
    CHECK(r != NULL);
    if (!r) { test_rm_tree(dir); return; }
    write_four(r);
    attn_results_close(r);
    CHECK(count_tmp_files(dir) == 0);

    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    if (!doc) { test_rm_tree(dir); return; }
    CHECK(cJSON_IsNumber(get(doc, "schema")) && get(doc, "schema")->valuedouble == 1);
    HAS(doc, "context", cJSON_IsObject);
    const cJSON *cases = get(doc, "cases");
    CHECK(cJSON_GetArraySize(cases) == 4);

    static const char *const params_num[] = { "batch", "heads", "kv_heads", "q_len", "kv_len",
        "head_dim", "v_dim", "threads", "window_left", "window_right", "globals", "pad",
        "additive_dim" };
    static const char *const time_num[] = { "median", "min", "mean", "stddev", "mad", "cv",
        "ci_low", "ci_high", "max", "n", "outliers_low", "outliers_high" };
    static const char *const mem_num[] = { "peak_rss_bytes", "kernel_extra_bytes",
        "workspace_bytes" };
    static const char *const statuses[] = { "ok", "invalid", "skipped", "crashed" };

    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        HAS(c, "id", cJSON_IsString);
        HAS(c, "kernel", cJSON_IsString);
        CHECK(!strcmp(get(c, "kernel")->valuestring, "naive"));
        const cJSON *p = get(c, "params");
        CHECK(cJSON_IsObject(p));
        for (size_t j = 0; j < sizeof params_num / sizeof *params_num; j++)
            HAS(p, params_num[j], cJSON_IsNumber);
        HAS(p, "mask", cJSON_IsString);
        HAS(p, "score", cJSON_IsString);
        HAS(p, "sweep", cJSON_IsString);
        CHECK(get(p, "window_left")->valuedouble == -1);
        CHECK(get(p, "window_right")->valuedouble == 3);
        CHECK(get(p, "q_len")->valuedouble == 17 && get(p, "kv_len")->valuedouble == 33);

        HAS(c, "status", cJSON_IsString);
        CHECK(!strcmp(get(c, "status")->valuestring, statuses[i]));
        HAS(c, "reason", cJSON_IsString);
        if (i > 0) CHECK(get(c, "reason")->valuestring[0] != 0);
        HAS(c, "unstable", cJSON_IsBool);
        HAS(c, "flops", cJSON_IsNumber);
        CHECK(cJSON_HasObjectItem(c, "gflops") && cJSON_HasObjectItem(c, "pct_peak"));
        CHECK(cJSON_IsNull(get(c, "pct_peak")));   /* no peak known in any of them */
        const cJSON *m = get(c, "memory");
        CHECK(cJSON_IsObject(m));
        for (size_t j = 0; j < sizeof mem_num / sizeof *mem_num; j++)
            HAS(m, mem_num[j], cJSON_IsNumber);

        const cJSON *v = get(c, "validation"), *t = get(c, "time_s");
        CHECK(cJSON_HasObjectItem(c, "validation") && cJSON_HasObjectItem(c, "time_s"));
        if (i == 2) CHECK(cJSON_IsNull(v));     /* skipped before validation */
        else {
            CHECK(cJSON_IsObject(v));
            HAS(v, "passed", cJSON_IsBool);
            HAS(v, "max_abs_err", cJSON_IsNumber);
            HAS(v, "max_rel_err", cJSON_IsNumber);
            HAS(v, "rows_checked", cJSON_IsNumber);
            HAS(v, "rows_total", cJSON_IsNumber);
            HAS(v, "against", cJSON_IsString);
            CHECK(cJSON_IsTrue(get(v, "passed")) == (i != 1));
        }
        if (i == 0) {
            CHECK(cJSON_IsObject(t));
            for (size_t j = 0; j < sizeof time_num / sizeof *time_num; j++)
                HAS(t, time_num[j], cJSON_IsNumber);
            const cJSON *s = get(t, "samples");
            CHECK(cJSON_IsArray(s) && cJSON_GetArraySize(s) == 5);
            /* samples round-trip exactly (printed with enough digits) */
            for (int j = 0; j < 5 && j < cJSON_GetArraySize(s); j++)
                CHECK(cJSON_GetArrayItem(s, j)->valuedouble == samples_ok[j]);
            CHECK(get(t, "median")->valuedouble == 1.05e-3);
            CHECK(cJSON_IsTrue(get(c, "unstable")));
            HAS(c, "gflops", cJSON_IsNumber);
            CHECK(get(m, "peak_rss_bytes")->valuedouble == 1 << 20);
        } else {
            CHECK(cJSON_IsNull(t));
            CHECK(cJSON_IsNull(get(c, "gflops")));
            CHECK(cJSON_IsFalse(get(c, "unstable")));
        }
        if (i == 2) CHECK(!strcmp(get(c, "reason")->valuestring, weird_reason));
        i++;
    }
    cJSON_Delete(doc);
    test_rm_tree(dir);
}

TEST(results_refuse_and_resume)
{
    char buf[64], err[512];
    const char *dir = temp_dir(buf, sizeof buf);
    CHECK(dir != NULL);
    if (!dir) return;
    attn_results *r = attn_results_open(dir, minimal_context("2024-01-01T00:00:00Z"), 0, 0);
    CHECK(r != NULL);
    if (!r) { test_rm_tree(dir); return; }
    write_four(r);
    CHECK(attn_results_has(r, "unit-fake-skipped"));
    CHECK(!attn_results_has(r, "unit-fake-other"));
    attn_results_close(r);

    /* without resume, an existing results.json is never overwritten */
    fprintf(stderr, "  (an error message about results.json is expected here)\n");
    CHECK(attn_results_open(dir, minimal_context("2024-01-02T00:00:00Z"), 0, 0) == NULL);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK(doc && cJSON_GetArraySize(get(doc, "cases")) == 4);
    cJSON_Delete(doc);

    /* with resume: old cases kept, a new one appended, the context says it resumed */
    r = attn_results_open(dir, minimal_context("2024-01-02T00:00:00Z"), 1, 0);
    CHECK(r != NULL);
    if (!r) { test_rm_tree(dir); return; }
    CHECK(attn_results_has(r, "unit-fake-ok"));
    CHECK(attn_results_has(r, "unit-fake-crashed"));
    CHECK(!attn_results_has(r, "unit-fake-new"));
    attn_case c;
    attn_result res;
    make_case(&c, "unit-fake-new", MASK_NONE);
    make_ok(&res);
    res.pct_peak = 12.5;
    CHECK(attn_results_add(r, &c, &res) == 0);
    CHECK(attn_results_has(r, "unit-fake-new"));
    /* the same id again replaces its record instead of duplicating it */
    res.gflops = 2.5;
    CHECK(attn_results_add(r, &c, &res) == 0);
    attn_results_close(r);
    CHECK(count_tmp_files(dir) == 0);

    doc = attn_results_load(dir, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    if (!doc) { test_rm_tree(dir); return; }
    const cJSON *cases = get(doc, "cases");
    CHECK(cJSON_GetArraySize(cases) == 5);
    const cJSON *last = cJSON_GetArrayItem(cases, 4);
    CHECK(last && !strcmp(get(last, "id")->valuestring, "unit-fake-new"));
    CHECK(last && get(last, "gflops")->valuedouble == 2.5);
    CHECK(last && get(last, "pct_peak")->valuedouble == 12.5);
    const cJSON *ctx = get(doc, "context");
    CHECK(!strcmp(get(ctx, "date")->valuestring, "2024-01-01T00:00:00Z"));   /* first run's */
    const cJSON *resumed = get(ctx, "resumed");
    CHECK(cJSON_IsArray(resumed) && cJSON_GetArraySize(resumed) == 1);
    const cJSON *r0 = cJSON_GetArrayItem(resumed, 0);
    CHECK(r0 && cJSON_IsString(get(r0, "date")) &&
          !strcmp(get(r0, "date")->valuestring, "2024-01-02T00:00:00Z"));
    cJSON_Delete(doc);
    test_rm_tree(dir);
}

/* Split one CSV line into fields (RFC 4180 quoting). Returns the field count; the
 * fields are written NUL-separated into out. */
static int csv_split(const char *line, char *out, size_t outlen, const char **fields, int maxf)
{
    int nf = 0;
    size_t o = 0;
    const char *p = line;
    for (;;) {
        if (nf < maxf) fields[nf] = out + o;
        nf++;
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"') p++;      /* doubled quote */
                if (o + 1 < outlen) out[o++] = *p;
                p++;
            }
            if (*p == '"') p++;
        } else {
            while (*p && *p != ',' && *p != '\n') {
                if (o + 1 < outlen) out[o++] = *p;
                p++;
            }
        }
        if (o < outlen) out[o++] = 0;
        if (*p != ',') break;
        p++;
    }
    return nf;
}

TEST(results_csv_shape)
{
    char buf[64], path[200];
    const char *dir = temp_dir(buf, sizeof buf);
    CHECK(dir != NULL);
    if (!dir) return;
    attn_results *r = attn_results_open(dir, minimal_context("2024-01-01T00:00:00Z"), 0, 0);
    CHECK(r != NULL);
    if (!r) { test_rm_tree(dir); return; }
    write_four(r);
    attn_results_close(r);

    snprintf(path, sizeof path, "%s/results.csv", dir);
    char *text = attn_read_file(path, NULL);
    CHECK(text != NULL);
    if (!text) { test_rm_tree(dir); return; }
    /* no field here holds a line break, so lines are rows */
    int rows = 0, header_cols = 0, reason_col = -1, status_col = -1;
    char *save = NULL;
    static char fieldbuf[1 << 16];
    const char *f[256];
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int nf = csv_split(line, fieldbuf, sizeof fieldbuf, f, 256);
        CHECK(nf <= 256);
        if (rows == 0) {
            header_cols = nf;
            for (int j = 0; j < nf && j < 256; j++) {
                if (!strcmp(f[j], "reason")) reason_col = j;
                if (!strcmp(f[j], "status")) status_col = j;
            }
            CHECK(!strcmp(f[0], "id"));
        } else {
            CHECK_MSG(nf == header_cols, "row %d has %d columns, header %d", rows, nf, header_cols);
            if (rows == 3 && reason_col >= 0)
                CHECK(!strcmp(f[reason_col], weird_reason));
            if (rows == 3 && status_col >= 0)
                CHECK(!strcmp(f[status_col], "skipped"));
            if (rows == 1 && status_col >= 0)
                CHECK(!strcmp(f[status_col], "ok"));
        }
        rows++;
    }
    CHECK(rows == 5);                  /* header + four cases */
    CHECK(header_cols > 40);
    CHECK(reason_col >= 0 && status_col >= 0);
    free(text);
    CHECK(count_tmp_files(dir) == 0);
    test_rm_tree(dir);
}

TEST(results_status_names)
{
    CHECK(!strcmp(attn_status_name(ST_OK), "ok"));
    CHECK(!strcmp(attn_status_name(ST_INVALID), "invalid"));
    CHECK(!strcmp(attn_status_name(ST_SKIPPED), "skipped"));
    CHECK(!strcmp(attn_status_name(ST_CRASHED), "crashed"));
    CHECK(!strcmp(attn_status_name(ST_TIMEOUT), "timeout"));
}

TEST(results_interrupt_leaves_no_tmp_file)
{
    /* Ctrl-C in the middle of a sweep: the file being rewritten must end up whole under
     * its name, with no results.json.tmp.* beside it. A child rewrites a 16 MiB file in a
     * loop (so a signal almost surely lands inside a write) until SIGINT ends it. */
    char dir[64];
    if (!temp_dir(dir, sizeof dir)) { CHECK(0); return; }
    char path[128];
    snprintf(path, sizeof path, "%s/results.json", dir);
    pid_t pid = fork();
    if (pid == 0) {
        size_t len = (size_t)16 << 20;
        char *buf = malloc(len);
        if (!buf) _exit(3);
        memset(buf, 'x', len);
        for (;;)
            if (attn_write_file_atomic(path, buf, len) != 0) _exit(4);
    }
    CHECK(pid > 0);
    if (pid <= 0) { test_rm_tree(dir); return; }
    for (int i = 0; i < 200 && access(path, F_OK) != 0; i++) usleep(10000);
    usleep(30000);
    kill(pid, SIGINT);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "child status %d", st);
    CHECK_MSG(count_tmp_files(dir) == 0, "temporary files left in %s", dir);
    size_t n = 0;
    char *text = attn_read_file(path, &n);
    CHECK(text && n == (size_t)16 << 20);
    free(text);
    test_rm_tree(dir);
}

/* settings.atol / rtol record what validation used: the kernel's declared tolerance when
 * the config left them unset (NaN), the config's where it set one. */
TEST(results_record_the_tolerance_used)
{
    char buf[64], err[512];
    const char *dir = temp_dir(buf, sizeof buf);
    CHECK(dir != NULL);
    if (!dir) return;
    attn_results *r = attn_results_open(dir, minimal_context("2024-01-01T00:00:00Z"), 0, 0);
    CHECK(r != NULL);
    if (!r) { test_rm_tree(dir); return; }
    attn_case c;
    attn_result res;
    make_case(&c, "unset-tol", MASK_NONE);
    c.atol = c.rtol = NAN;
    make_ok(&res);
    CHECK(attn_results_add(r, &c, &res) == 0);
    make_case(&c, "config-atol", MASK_NONE);
    c.atol = 2e-6;
    c.rtol = NAN;
    make_ok(&res);
    CHECK(attn_results_add(r, &c, &res) == 0);
    attn_results_close(r);

    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    if (!doc) { test_rm_tree(dir); return; }
    const attn_tol k = attn_kernel_find("naive")->tol[ATTN_F32];
    const cJSON *cases = get(doc, "cases");
    const cJSON *s0 = get(cJSON_GetArrayItem(cases, 0), "settings");
    const cJSON *s1 = get(cJSON_GetArrayItem(cases, 1), "settings");
    CHECK(s0 && get(s0, "atol")->valuedouble == k.atol && get(s0, "rtol")->valuedouble == k.rtol);
    CHECK(s1 && get(s1, "atol")->valuedouble == 2e-6 && get(s1, "rtol")->valuedouble == k.rtol);
    cJSON_Delete(doc);
    test_rm_tree(dir);
}
