/* test_hardening.c: results directories handled as a hostile or careless user would.
 *
 *   - text from a results file (kernel, sweep, mask, context) never runs in gnuplot, a
 *     shell or a browser, and never names a file outside the chart folder;
 *   - one writer per results directory;
 *   - results.json and results.csv always hold the same cases, even after a write error;
 *   - sizes that wrap or that no machine could hold are refused at parse time (exit 2,
 *     FILE:LINE), and a huge case that is accepted is judged (and skipped) at once;
 *   - the readers (history, merge, plot) are linear or n log n in cases: a results file
 *     of 20000 cases (5000 under ASan; ATTN_TEST_BIG_CASES to change it) goes through
 *     each of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include "analysis/history.h"
#include "analysis/merge.h"
#include "core/inputs.h"
#include "plot/plot.h"
#include "core/runner.h"
#include "record/results.h"
#include "test.h"

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Data rows of a CSV file (lines after the header). */
static int csv_rows(const char *path)
{
    char *text = attn_read_file(path, NULL);
    if (!text) return -1;
    int lines = 0;
    for (const char *p = text; *p; p++) lines += *p == '\n';
    free(text);
    return lines - 1;
}

/* A small real run to start from: naive at two lengths, so every chart kind has points. */
static int small_run(const char *dir, char *err, size_t errlen)
{
    char ini[512];
    snprintf(ini, sizeof ini, "%s/hard.ini", test_tmpdir());
    test_write_text(ini, "[hard]\nkernels = naive, blocked\nheads = 2\nseq_len = 16, 32\nmin_time = 0\nreps = 3\n");
    return test_sh(err, errlen, "%s run %s -q -o %s", test_bin(), ini, dir);
}

/* Replace every value of `field` in the cases (top level or in params) by `value`. */
static void poison(cJSON *doc, const char *field, const char *value)
{
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        cJSON *where = cJSON_GetObjectItem(c, field) ? c : cJSON_GetObjectItem(c, "params");
        if (cJSON_GetObjectItem(where, field))
            cJSON_ReplaceItemInObject(where, field, cJSON_CreateString(value));
    }
}

TEST(hardening_hostile_names_run_nothing)
{
    char dir[512], err[4096], mark[512], outside[512], path[600];
    snprintf(dir, sizeof dir, "%s/hostile", test_tmpdir());
    snprintf(mark, sizeof mark, "%s/PWNED", test_tmpdir());
    snprintf(outside, sizeof outside, "%s/escaped", test_tmpdir());
    int rc = small_run(dir, err, sizeof err);
    CHECK_MSG(rc == 0, "run: exit %d: %s", rc, err);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK(doc != NULL);
    if (!doc) return;

    char evil[3000];
    /* a backquote, a system() call after breaking out of either kind of quote, a newline
     * that would end the gnuplot command, HTML, and a path out of the chart folder */
    snprintf(evil, sizeof evil, "k`touch %s`\"; system(\"touch %s\"); '; system('touch %s'); #\n"
             "set output '%s'<script>alert(1)</script>", mark, mark, mark, outside);
    poison(doc, "kernel", evil);
    char sweep[1200];
    snprintf(sweep, sizeof sweep, "../../escaped`touch %s`\"<img src=x onerror=alert(1)>", mark);
    poison(doc, "sweep", sweep);
    cJSON *ctx = cJSON_GetObjectItem(doc, "context");
    cJSON_ReplaceItemInObject(ctx, "cpu_model", cJSON_CreateString(evil));
    char *text = cJSON_Print(doc);
    snprintf(path, sizeof path, "%s/results.json", dir);
    CHECK(text && attn_write_file_atomic(path, text, strlen(text)) == 0);
    free(text);
    cJSON_Delete(doc);

    rc = test_sh(err, sizeof err, "cd %s && %s plot %s", test_tmpdir(), test_bin(), dir);
    CHECK_MSG(rc == 0 || rc == 1, "plot: exit %d: %s", rc, err);
    char hdir[600];
    snprintf(hdir, sizeof hdir, "%s/history", test_tmpdir());
    rc = test_sh(err, sizeof err, "cd %s && %s history %s %s -o %s", test_tmpdir(), test_bin(), dir, dir, hdir);
    CHECK_MSG(rc >= 0 && rc <= 1, "history: exit %d: %s", rc, err);

    CHECK_MSG(!file_exists(mark), "a command from results.json ran (%s exists)", mark);
    CHECK_MSG(!file_exists(outside), "a file was written outside the output folder");
    snprintf(path, sizeof path, "%s/escaped", test_tmpdir());
    char html[600];
    snprintf(html, sizeof html, "%s/report.html", dir);
    char *page = attn_read_file(html, NULL);
    CHECK_MSG(page != NULL, "no report.html");
    if (page) {
        CHECK_MSG(!strstr(page, "<script>alert"), "report.html holds a raw <script> from results.json");
        CHECK_MSG(!strstr(page, "<img src=x"), "report.html holds a raw <img> from results.json");
        free(page);
    }
    /* every chart script quotes what it took from the file: no line starts a command
     * from the poisoned text */
    rc = test_sh(NULL, 0, "grep -rl '^set output .*<script>' %s/plots/data", dir);
    CHECK_MSG(rc != 0, "a chart script carries the poisoned name into set output");
}

TEST(hardening_results_dir_is_locked)
{
    char dir[512], err[4096];
    snprintf(dir, sizeof dir, "%s/locked", test_tmpdir());
    int rc = small_run(dir, err, sizeof err);
    CHECK_MSG(rc == 0, "run: exit %d: %s", rc, err);

    /* a writer holding the directory: a second run into it is refused with a message */
    attn_results *r = attn_results_open(dir, NULL, 1, 0);
    CHECK(r != NULL);
    char ini[512];
    snprintf(ini, sizeof ini, "%s/hard.ini", test_tmpdir());
    rc = test_sh(err, sizeof err, "%s run %s -q --resume -o %s", test_bin(), ini, dir);
    CHECK_MSG(rc == 2, "second writer: exit %d", rc);
    CHECK_MSG(strstr(err, "being written by another attnbench"), "message: %s", err);
    attn_results_close(r);
    /* released: a resume goes through (nothing left to run) */
    rc = test_sh(err, sizeof err, "%s run %s -q --resume -o %s", test_bin(), ini, dir);
    CHECK_MSG(rc == 0, "after release: exit %d: %s", rc, err);
    CHECK(test_count_cases(dir) == 4);
}

TEST(hardening_json_and_csv_replaced_together)
{
    char dir[512], err[4096], csv[600], blocker[700];
    snprintf(dir, sizeof dir, "%s/together", test_tmpdir());
    int rc = small_run(dir, err, sizeof err);
    CHECK_MSG(rc == 0, "run: exit %d: %s", rc, err);
    snprintf(csv, sizeof csv, "%s/results.csv", dir);
    CHECK(test_count_cases(dir) == 4 && csv_rows(csv) == 4);

    /* resume with one more length, while results.csv cannot be written: a directory
     * stands where the CSV's temporary file goes. results.json must not move ahead. */
    char ini[512];
    snprintf(ini, sizeof ini, "%s/hard5.ini", test_tmpdir());
    test_write_text(ini, "[hard]\nkernels = naive, blocked\nheads = 2\nseq_len = 16, 32, 48\nmin_time = 0\nreps = 3\n");
    attn_results *r = attn_results_open(dir, NULL, 1, 0);
    CHECK(r != NULL);
    if (!r) return;
    snprintf(blocker, sizeof blocker, "%s/results.csv.tmp.%ld", dir, (long)getpid());
    CHECK(mkdir(blocker, 0777) == 0);
    attn_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "hard-extra");
    snprintf(c.sweep, sizeof c.sweep, "hard");
    c.kernel = attn_kernel_find("naive");
    c.batch = c.heads = c.kv_heads = c.threads = 1;
    c.q_len = c.kv_len = c.head_dim = c.v_dim = 4;
    c.window_left = c.window_right = -1;
    attn_result res;
    memset(&res, 0, sizeof res);
    res.status = ST_SKIPPED;
    snprintf(res.reason, sizeof res.reason, "test");
    CHECK(attn_results_add(r, &c, &res) != 0);
    CHECK_MSG(test_count_cases(dir) == 4, "results.json moved ahead of results.csv: %d cases", test_count_cases(dir));
    CHECK(csv_rows(csv) == 4);
    rmdir(blocker);
    /* the next write catches up, both files together */
    CHECK(attn_results_add(r, &c, &res) == 0);
    CHECK(test_count_cases(dir) == 5 && csv_rows(csv) == 5);
    attn_results_close(r);
}

/* Schema violations are refused when loading, naming the file, the case and the field. */
TEST(hardening_schema_violations_refused)
{
    static const struct { const char *json, *expect; } bad[] = {
        { "{\"cases\": 3}", "\"cases\"" },
        { "{\"cases\": [1]}", "case 0" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"ok\", \"params\": {}, "
          "\"time_s\": {\"median\": 1, \"samples\": [0.1, -2]}}]}", "time_s.samples[1]" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"fine\", \"params\": {}}]}", "status" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"heads\": {}}}]}", "params.heads" },
        { "{\"cases\": [{\"status\": \"skipped\", \"params\": {}}]}", "kernel" },
        { "{\"cases\": [{\"id\": \"x\", \"kernel\": \"k\", \"status\": \"ok\", \"params\": {}, "
          "\"time_s\": {\"median\": \"fast\"}}]}", "case 0 (x): field \"time_s.median\"" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"ok\", \"params\": {}}]}", "time_s.median" },
        { "{\"context\": [], \"cases\": []}", "context" },
        /* params the readers convert to int: whole numbers in range, names for enums */
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"heads\": 1e300}}]}", "params.heads" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"threads\": 2.5}}]}", "params.threads" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"batch\": -3}}]}", "params.batch" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"window_left\": -2}}]}", "params.window_left" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"pad\": 7}}]}", "params.pad" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"mask\": 3}}]}", "params.mask" },
        { "{\"cases\": [{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {}}, "
          "{\"kernel\": \"k\", \"status\": \"skipped\", \"params\": {\"q_len\": \"x\"}}]}", "case 1: field \"params.q_len\"" },
    };
    char path[512], err[1024];
    snprintf(path, sizeof path, "%s/bad.json", test_tmpdir());
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_write_text(path, bad[i].json);
        cJSON *doc = attn_results_load(path, err, sizeof err);
        CHECK_MSG(doc == NULL, "accepted: %s", bad[i].json);
        cJSON_Delete(doc);
        CHECK_MSG(strstr(err, bad[i].expect) && strstr(err, path), "%s -> '%s' (expected '%s')",
                  bad[i].json, err, bad[i].expect);
    }
    /* not a regular file, and no end to it */
    CHECK(attn_results_load("/dev/zero", err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "not a regular file"), "%s", err);
}

/* A CSV cell from a results file never starts a spreadsheet formula. */
TEST(hardening_csv_cells_are_not_formulas)
{
    char dir[512], err[4096], csv[600], path[600];
    snprintf(dir, sizeof dir, "%s/formula", test_tmpdir());
    int rc = small_run(dir, err, sizeof err);
    CHECK_MSG(rc == 0, "run: exit %d: %s", rc, err);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK(doc != NULL);
    if (!doc) return;
    poison(doc, "kernel", "=HYPERLINK(\"http://x\",\"y\")");
    poison(doc, "sweep", "@SUM(A1)");
    char out[512];
    snprintf(out, sizeof out, "%s/formula-merged", test_tmpdir());
    char *text = cJSON_Print(doc);
    snprintf(path, sizeof path, "%s/results.json", dir);
    CHECK(text && attn_write_file_atomic(path, text, strlen(text)) == 0);
    free(text);
    cJSON_Delete(doc);
    /* merge rewrites results.csv from the (poisoned) results.json */
    rc = test_sh(err, sizeof err, "%s merge -o %s %s", test_bin(), out, dir);
    CHECK_MSG(rc == 0, "merge: exit %d: %s", rc, err);
    snprintf(csv, sizeof csv, "%s/results.csv", out);
    char *cells = attn_read_file(csv, NULL);
    CHECK(cells != NULL);
    if (!cells) return;
    for (const char *p = cells; *p; p++)
        if (p == cells || p[-1] == ',' || p[-1] == '\n') {
            const char *c = *p == '"' ? p + 1 : p;
            CHECK_MSG(*c != '=' && *c != '@', "a cell starts a formula: %.30s", p);
        }
    CHECK(strstr(cells, "\"'=HYPERLINK") != NULL);
    free(cells);
}

/* A config whose sizes wrap 64 bits: `run` refuses it at parse time, FILE:LINE, exit 2,
 * and writes nothing. */
TEST(hardening_wrapping_sizes_refused_by_run)
{
    char ini[512], out[512], err[4096];
    snprintf(ini, sizeof ini, "%s/wrap.ini", test_tmpdir());
    snprintf(out, sizeof out, "%s/wrap-out", test_tmpdir());
    test_write_text(ini, "[wrap]\nkernels = naive\nbatch = 65536\nheads = 65536\nhead_dim = 65536\n"
                         "seq_len = 65536\n");
    int rc = test_sh(err, sizeof err, "%s run %s -q -o %s", test_bin(), ini, out);
    CHECK_MSG(rc == 2, "run: exit %d: %s", rc, err);
    char want[600];
    snprintf(want, sizeof want, "%s:3: batch: the case", ini);
    CHECK_MSG(strstr(err, want) && strstr(err, "cannot be represented"), "%s", err);
    CHECK(!file_exists(out));
}

/* The runner judges a case of 2^30 tokens (which a config refuses only on machines with
 * less than 64 GiB) at once: the pair count is closed form and the estimate checked, so
 * it is skipped over budget in milliseconds, the harness never spinning row by row. A
 * case whose byte counts wrap saturates the estimate and is skipped too. */
TEST(hardening_huge_case_judged_at_once)
{
    attn_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "huge");
    c.kernel = attn_kernel_find("flash");
    c.batch = 4; c.heads = c.kv_heads = 2; c.threads = 1;
    c.q_len = c.kv_len = 1 << 30; c.head_dim = c.v_dim = 64;
    c.mask = MASK_CAUSAL_PADDING; c.pad = 0.5;
    c.window_left = 1024; c.window_right = 0;
    c.min_time = 0.1; c.reps = 1; c.timeout = 5; c.rtol = c.atol = 1e-3;
    attn_run_opts o;
    memset(&o, 0, sizeof o);
    o.mem_budget = (size_t)1 << 30;
    attn_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    attn_run_case(&c, &o, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    CHECK_MSG(r.status == ST_SKIPPED && strstr(r.reason, "over memory budget"), "%s", r.reason);
    CHECK_MSG(dt < 0.5, "judging took %.3f s", dt);
    CHECK(r.flops > 0 && r.need_bytes >= attn_inputs_bytes(&c));
    attn_result_free(&r);

    c.window_left = c.window_right = -1;
    c.batch = c.heads = c.kv_heads = 1 << 20;      /* 2^100 elements of q */
    CHECK(attn_inputs_bytes(&c) == SIZE_MAX);
    CHECK(attn_case_mem_need(&c, &o) == SIZE_MAX);
    attn_run_case(&c, &o, &r);
    CHECK_MSG(r.status == ST_SKIPPED && strstr(r.reason, "over memory budget"), "%s", r.reason);
    attn_result_free(&r);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* A results document of n ok cases over 8 kernels, 500 lengths, 8 head counts and a few
 * batch sizes, written as real runs write them (attn_case_json); odd: every other case. */
static cJSON *big_doc(int n, int part)
{
    static const char *const kernels[] = { "naive", "blocked", "omp", "flash", "window", "decode",
                                           "flash_avx2", "simd_avx2" };
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema", 1);
    cJSON *ctx = cJSON_AddObjectToObject(doc, "context");
    cJSON_AddStringToObject(ctx, "git_sha", part == 1 ? "aaaa" : "bbbb");
    cJSON *arr = cJSON_AddArrayToObject(doc, "cases");
    attn_run_opts o;
    memset(&o, 0, sizeof o);
    for (int i = 0; i < n; i++) {
        if (part >= 2 && i % 2 != part - 2) continue;
        attn_case c;
        memset(&c, 0, sizeof c);
        int k = i % 8, sh = i / 8;
        snprintf(c.sweep, sizeof c.sweep, "big%d", sh / 4000);
        c.kernel = attn_kernel_find(kernels[k]);
        c.q_len = c.kv_len = 16 * (1 + sh % 500);
        c.heads = c.kv_heads = 1 + (sh / 500) % 8;
        c.batch = 1 + sh / 4000;
        c.head_dim = c.v_dim = 64; c.threads = 1; c.additive_dim = 64;
        c.window_left = c.window_right = -1;
        c.index = i;
        attn_case_make_id(&c);
        attn_result r;
        memset(&r, 0, sizeof r);
        double t = 1e-6 * c.q_len * c.heads * (1 + k) * (part == 1 ? 1.0 : 1.01);
        double samples[3] = { t, t * 1.01, t * 0.99 };
        r.status = ST_OK;
        r.samples = samples;
        r.n_samples = 3;
        r.rounds = r.iters_per_sample = 1;
        r.flops = attn_case_flops(&c);
        r.val.passed = r.val.done = 1;
        r.val.against = "naive";
        attn_result_finish(&r, &o);
        cJSON_AddItemToArray(arr, attn_case_json(&c, &r));
    }
    return doc;
}

TEST(hardening_readers_scale_to_many_cases)
{
    const char *env = getenv("ATTN_TEST_BIG_CASES");
#ifdef __SANITIZE_ADDRESS__
    int n = env ? atoi(env) : 5000;         /* make sanitize: ASan makes every step slower */
#else
    int n = env ? atoi(env) : 20000;
#endif
    if (n < 16) n = 16;
    char dir[512], dir2[512], empty[512], err[1024];
    snprintf(dir, sizeof dir, "%s/big", test_tmpdir());
    snprintf(dir2, sizeof dir2, "%s/big2", test_tmpdir());
    snprintf(empty, sizeof empty, "%s/no-gnuplot", test_tmpdir());
    mkdir(dir, 0700);
    mkdir(dir2, 0700);
    double t0 = now_s();
    cJSON *w1 = big_doc(n, 1), *w2 = big_doc(n, 0);
    CHECK(attn_results_write_doc(dir, w1, 0) == 0 && attn_results_write_doc(dir2, w2, 0) == 0);
    cJSON_Delete(w1);
    cJSON_Delete(w2);
    double t_write = now_s() - t0;

    t0 = now_s();
    cJSON *a = attn_results_load(dir, err, sizeof err), *b = attn_results_load(dir2, err, sizeof err);
    double t_load = now_s() - t0;
    CHECK_MSG(a && b, "%s", err);
    if (!a || !b) { cJSON_Delete(a); cJSON_Delete(b); return; }
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(a, "cases")) == n);

    /* history: two runs, every case a row, marks from comparing them */
    t0 = now_s();
    const cJSON *runs[2] = { a, b };
    const char *names[2] = { dir, dir2 };
    attn_cmp_opts co = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    attn_history h;
    int rc = attn_history_build(runs, names, 2, &co, &h);
    double t_hist = now_s() - t0;
    CHECK_MSG(rc == 0 && h.n_rows == n, "history: rc %d, %d rows of %d", rc, rc == 0 ? h.n_rows : -1, n);
    if (rc == 0) attn_history_free(&h);

    /* merge: the cases as two shards (odd and even) back into one document */
    cJSON *sh[2] = { big_doc(n, 2), big_doc(n, 3) }, *merged = NULL;
    const char *shn[2] = { "even", "odd" };
    t0 = now_s();
    rc = attn_merge_docs(sh, shn, 2, &merged, NULL, NULL, NULL, err, sizeof err);
    double t_merge = now_s() - t0;
    CHECK_MSG(rc == 0 && cJSON_GetArraySize(cJSON_GetObjectItem(merged, "cases")) == n, "merge: %s", err);
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(merged, "cases"), 0);
    CHECK(c0 && cJSON_GetObjectItem(c0, "case_index")->valuedouble == 0);
    cJSON_Delete(merged);
    cJSON_Delete(sh[0]);
    cJSON_Delete(sh[1]);
    cJSON_Delete(a);
    cJSON_Delete(b);

    /* plot: charts' data and scripts and the report, without gnuplot (no images drawn) */
    mkdir(empty, 0700);
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", empty, 1);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    t0 = now_s();
    const char *dirs[1] = { dir };
    rc = plot_main(dirs, 1, NULL, "naive");
    double t_plot = now_s() - t0;
    if (saved >= 0) { dup2(saved, 2); close(saved); }
    if (null >= 0) close(null);
    if (old) { setenv("PATH", old, 1); free(old); }
    else unsetenv("PATH");
    char report[600];
    snprintf(report, sizeof report, "%s/report.md", dir);
    CHECK_MSG(rc == 0 && file_exists(report), "plot: rc %d", rc);

    /* not a timing assert (the machine is shared): a quadratic reader takes minutes here */
    fprintf(stderr, "    %d cases: write %.2f s, load 2 files %.2f s, history %.2f s, merge %.2f s, "
            "plot (no gnuplot) %.2f s\n", n, t_write, t_load, t_hist, t_merge, t_plot);
    CHECK_MSG(t_hist + t_merge + t_plot < 240, "readers took %.0f s", t_hist + t_merge + t_plot);
    test_rm_tree(dir);
    test_rm_tree(dir2);
}

/* The indexed baseline lookup (plot_baseline_of, now a binary search) keeps its rule: the
 * baseline of the same run and shape with the same threads, else its 1-thread case
 * (fallback), else none; never the baseline itself, never another shape. */
TEST(hardening_plot_baseline_lookup)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/baseline-index", test_tmpdir());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/results.json", dir);
#define CASE(K, Q, T) "{\"kernel\": \"" K "\", \"status\": \"ok\", \"time_s\": {\"median\": 1}, " \
    "\"params\": {\"q_len\": " #Q ", \"kv_len\": " #Q ", \"threads\": " #T ", \"sweep\": \"s\"}}"
    test_write_text(path, "{\"cases\": [" CASE("flash", 64, 2) ", " CASE("naive", 64, 2) ", "
                          CASE("naive", 64, 1) ", " CASE("flash", 64, 4) ", " CASE("flash", 128, 2) ", "
                          CASE("naive", 32, 2) "]}");
#undef CASE
    plot_set s;
    memset(&s, 0, sizeof s);
    s.baseline = "naive";
    CHECK(plot_load_run(&s, dir) == 0 && s.n_cases == 6);
    if (s.n_cases == 6) {
        int fb = -1;
        CHECK(plot_baseline_of(&s, &s.cases[0], &fb) == &s.cases[1] && fb == 0);
        CHECK(plot_baseline_of(&s, &s.cases[3], &fb) == &s.cases[2] && fb == 1);
        CHECK(plot_baseline_of(&s, &s.cases[4], &fb) == NULL && fb == 0);
        CHECK(plot_baseline_of(&s, &s.cases[1], &fb) == NULL);
        int n = 0;
        CHECK(plot_sweep_count(&s) == 1 && plot_sweep_cases(&s, "s", &n) && n == 6);
        CHECK(plot_sweep_cases(&s, "t", &n) == NULL && n == 0);
        CHECK(plot_varied_axes(&s, "s") == ((1u << AX_Q_LEN) | (1u << AX_KV_LEN) | (1u << AX_THREADS)));
    }
    plot_set_free(&s);
}
