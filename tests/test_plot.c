/* test_plot.c: `attnbench plot` on the fixture results in tests/data/plot_*.json.
 *
 * Renders each fixture into a temporary directory and checks: every chart the sweep
 * calls for exists as non-empty PNG and SVG, and no other chart (nothing drawn for an
 * axis the sweep does not vary); gnuplot said nothing (no warning, no error); the data
 * files trace points to case ids; report.md lists every invalid and skipped case with its
 * reason and holds the fastest kernel of each shape as computed here from the fixture.
 * Without gnuplot on PATH the fallback is checked instead: message, exit 0, report.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/commands.h"
#include "plot/plot.h"
#include "record/results.h"
#include "test.h"

/* ----------------------------------------------------------------- helpers -- */

static int gnuplot_on_path(void)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/gnuplot", (int)n, path);
        if (n && access(buf, X_OK) == 0) return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* A fresh temp dir holding the fixture as results.json; path into dir. */
static int make_run(const char *fixture, char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/attn_test_plot_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    size_t len;
    char *text = attn_read_file(fixture, &len), path[512];
    if (!text) return -1;
    snprintf(path, sizeof path, "%s/results.json", dir);
    int rc = attn_write_file_atomic(path, text, len);
    free(text);
    return rc;
}

/* Run `attnbench plot ARGS...` with stderr captured into *err (malloc'd). */
static int run_plot(char **err, int argc, const char **args)
{
    char tmpl[] = "/tmp/attn_test_plot_err_XXXXXX";
    int fd = mkstemp(tmpl);
    char *argv[16];
    argv[0] = "plot";
    for (int i = 0; i < argc && i < 14; i++) argv[i + 1] = (char *)args[i];
    argv[argc + 1] = NULL;
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = attn_cmd_plot(argc + 1, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    *err = attn_read_file(tmpl, NULL);
    unlink(tmpl);
    if (!*err) *err = calloc(1, 1);
    return rc;
}

static long file_size(const char *dir, const char *name, const char *ext)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Number of files in dir ending in ext. */
static int count_ext(const char *dir, const char *ext)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    size_t le = strlen(ext);
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        n += l > le && !strcmp(e->d_name + l - le, ext);
    }
    if (d) closedir(d);
    return n;
}

/* Every chart in names[] exists as non-empty PNG and SVG under plots, and the folder holds
 * exactly that many of each (so nothing else was drawn). */
static void check_charts(const char *plots, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        CHECK_MSG(file_size(plots, names[i], ".png") > 1000, "%s/%s.png missing or empty", plots, names[i]);
        CHECK_MSG(file_size(plots, names[i], ".svg") > 1000, "%s/%s.svg missing or empty", plots, names[i]);
    }
    CHECK_MSG(count_ext(plots, ".png") == n, "%d PNG charts in %s, expected %d", count_ext(plots, ".png"), plots, n);
    CHECK_MSG(count_ext(plots, ".svg") == n, "%d SVG charts in %s, expected %d", count_ext(plots, ".svg"), plots, n);
}

static char *read_rel(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return attn_read_file(path, NULL);
}

/* --------------------------------------------------------------- the tests -- */

TEST(plot_seqlen_fixture_charts_and_report)
{
    char dir[256], plots[300], *err;
    CHECK(make_run("tests/data/plot_seqlen.json", dir, sizeof dir) == 0);
    snprintf(plots, sizeof plots, "%s/plots", dir);
    const char *args[] = { dir };
    int rc = run_plot(&err, 1, args);
    if (!gnuplot_on_path()) {
        CHECK(rc == 0);
        CHECK(strstr(err, "gnuplot not found") != NULL);
        free(err);
        test_rm_tree(dir);
        return;
    }
    CHECK_MSG(rc == 0, "attnbench plot exited %d:\n%s", rc, err);
    CHECK_MSG(!strstr(err, "gnuplot /") && !strstr(err, "warning"), "gnuplot complained:\n%s", err);
    /* seq_len and threads vary; heads, window etc. do not: no heads/window charts */
    static const char *const want[] = {
        "seqlen-time-t1", "seqlen-time-t2", "seqlen-memory-t1", "seqlen-memory-t2",
        "seqlen-gflops-t1", "seqlen-gflops-t2", "seqlen-speedup-t1", "seqlen-speedup-t2",
        "seqlen-threads-q128", "seqlen-threads-q256", "seqlen-threads-q512", "seqlen-threads-q1024",
    };
    check_charts(plots, want, 12);

    /* traceability: the data of the time chart names the cases of its points */
    char *dat = read_rel(plots, "data/seqlen-time-t1.dat");
    CHECK(dat && strstr(dat, "seqlen-flash_avx2-b1-h8-kv8-q512-k512-d64-dv64-t1-none"));
    /* the invalid case is not drawn */
    CHECK(dat && !strstr(dat, "seqlen-blocked-b1-h8-kv8-q256-k256-d64-dv64-t1-none"));
    free(dat);
    /* the over-budget skip is marked on the memory chart at the bytes it needed */
    dat = read_rel(plots, "data/seqlen-memory-t1.dat");
    CHECK(dat && strstr(dat, "41943040 41943040 41943040 seqlen-naive-b1-h8-kv8-q1024"));
    free(dat);

    /* report: every non-ok case with its reason, the unstable one, the fastest table */
    char *md = read_rel(dir, "report.md"), *html = read_rel(dir, "report.html");
    CHECK(md && html);
    char lerr[256];
    cJSON *doc = attn_results_load(dir, lerr, sizeof lerr);
    CHECK(doc != NULL);
    const cJSON *cases = cJSON_GetObjectItem(doc, "cases"), *c;
    cJSON_ArrayForEach(c, cases) {
        const char *st = cJSON_GetObjectItem(c, "status")->valuestring;
        const char *id = cJSON_GetObjectItem(c, "id")->valuestring;
        if (strcmp(st, "ok")) {
            CHECK_MSG(md && strstr(md, id), "report.md lacks %s case %s", st, id);
            CHECK_MSG(md && strstr(md, cJSON_GetObjectItem(c, "reason")->valuestring), "report.md lacks reason of %s", id);
        } else if (cJSON_IsTrue(cJSON_GetObjectItem(c, "unstable"))) {
            CHECK_MSG(md && strstr(md, id), "report.md lacks unstable case %s", id);
        }
    }
    /* the fastest valid kernel per (q_len, threads) and its speedup over naive (same
     * threads, else naive's 1-thread time), computed here from the fixture */
    int shapes = 0;
    for (int q = 128; q <= 1024; q *= 2)
        for (int t = 1; t <= 2; t++) {
            const char *best = NULL;
            double best_t = 1e300, naive_t = 0, naive_1 = 0;
            cJSON_ArrayForEach(c, cases) {
                const cJSON *p = cJSON_GetObjectItem(c, "params"), *ts = cJSON_GetObjectItem(c, "time_s");
                int cq = cJSON_GetObjectItem(p, "q_len")->valueint, ct = cJSON_GetObjectItem(p, "threads")->valueint;
                if (cq != q || strcmp(cJSON_GetObjectItem(c, "status")->valuestring, "ok")) continue;
                double med = cJSON_GetObjectItem(ts, "median")->valuedouble;
                const char *k = cJSON_GetObjectItem(c, "kernel")->valuestring;
                if (!strcmp(k, "naive") && ct == t) naive_t = med;
                if (!strcmp(k, "naive") && ct == 1) naive_1 = med;
                if (ct == t && med < best_t) { best_t = med; best = k; }
            }
            if (!best) continue;
            if (!naive_t) naive_t = naive_1;
            char row[256];
            snprintf(row, sizeof row, "| %d | %d | %s", q, t, best);
            const char *at = md ? strstr(md, row) : NULL;
            CHECK_MSG(at, "report.md lacks fastest row '%s'", row);
            if (at && naive_t > 0 && strcmp(best, "naive")) {
                char sp[64];
                snprintf(sp, sizeof sp, "| %.2fx", naive_t / best_t);
                const char *hit = strstr(at, sp), *eol = strchr(at, '\n');
                CHECK_MSG(hit && hit < eol, "row '%s' lacks speedup %s", row, sp);
            }
            shapes++;
        }
    CHECK_MSG(shapes >= 6, "only %d shapes checked", shapes);
    /* the HTML embeds the SVGs */
    CHECK(html && strstr(html, "data:image/svg+xml;base64,"));
    cJSON_Delete(doc);
    free(md);
    free(html);
    free(err);
    test_rm_tree(dir);
}

TEST(plot_heads_and_window_fixtures)
{
    if (!gnuplot_on_path()) return;     /* the fallback has its own test */
    char dir[256], plots[300], *err;
    CHECK(make_run("tests/data/plot_heads.json", dir, sizeof dir) == 0);
    snprintf(plots, sizeof plots, "%s/plots", dir);
    const char *args[] = { dir };
    int rc = run_plot(&err, 1, args);
    CHECK_MSG(rc == 0 && !strstr(err, "gnuplot /"), "plot: rc %d\n%s", rc, err);
    static const char *const heads[] = { "heads-heads" };   /* only heads varies */
    check_charts(plots, heads, 1);
    free(err);
    test_rm_tree(dir);

    CHECK(make_run("tests/data/plot_window.json", dir, sizeof dir) == 0);
    snprintf(plots, sizeof plots, "%s/plots", dir);
    const char *args2[] = { dir, "--baseline", "flash_avx2" };
    rc = run_plot(&err, 3, args2);
    CHECK_MSG(rc == 0 && !strstr(err, "gnuplot /"), "plot: rc %d\n%s", rc, err);
    static const char *const win[] = {
        "window-window-q512", "window-window-q1024",
        "window-time-w16", "window-time-w32", "window-time-w64", "window-time-w128", "window-time-wfull",
        "window-memory-w16", "window-memory-w32", "window-memory-w64", "window-memory-w128", "window-memory-wfull",
        "window-gflops-w16", "window-gflops-w32", "window-gflops-w64", "window-gflops-w128", "window-gflops-wfull",
        "window-speedup-w16", "window-speedup-w32", "window-speedup-w64", "window-speedup-w128", "window-speedup-wfull",
    };
    check_charts(plots, win, 22);
    /* full attention is drawn as a level on the window chart; --baseline is honoured */
    char *gp = read_rel(plots, "data/window-window-q512.gp");
    CHECK(gp && strstr(gp, "naive, full attention"));
    free(gp);
    gp = read_rel(plots, "data/window-speedup-w64.gp");
    CHECK(gp && strstr(gp, "speedup over flash_avx2"));
    free(gp);
    free(err);
    test_rm_tree(dir);
}

TEST(plot_overlay_of_two_runs)
{
    if (!gnuplot_on_path()) return;
    char a[256], b[256], plots[300], *err;
    CHECK(make_run("tests/data/plot_heads.json", a, sizeof a) == 0);
    CHECK(make_run("tests/data/plot_heads.json", b, sizeof b) == 0);
    snprintf(plots, sizeof plots, "%s/plots/overlay", a);
    const char *args[] = { a, b };
    int rc = run_plot(&err, 2, args);
    CHECK_MSG(rc == 0, "plot: rc %d\n%s", rc, err);
    static const char *const heads[] = { "heads-heads" };
    check_charts(plots, heads, 1);
    /* both runs' series, labelled by run */
    char *gp = read_rel(plots, "data/heads-heads.gp");
    CHECK(gp && strstr(gp, strrchr(a, '/') + 1) && strstr(gp, strrchr(b, '/') + 1));
    free(gp);
    char *md = read_rel(plots, "report.md");
    CHECK(md && strstr(md, "Run "));
    free(md);
    free(err);
    test_rm_tree(a);
    test_rm_tree(b);
}

TEST(plot_without_gnuplot_still_reports)
{
    char dir[256], empty[] = "/tmp/attn_test_plot_path_XXXXXX", *err;
    CHECK(mkdtemp(empty) != NULL);
    CHECK(make_run("tests/data/plot_seqlen.json", dir, sizeof dir) == 0);
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", empty, 1);               /* no gnuplot to be found */
    const char *args[] = { dir };
    int rc = run_plot(&err, 1, args);
    if (old) setenv("PATH", old, 1);
    else unsetenv("PATH");
    free(old);
    CHECK(rc == 0);
    CHECK_MSG(strstr(err, "gnuplot not found; install it with: sudo apt-get install gnuplot-nox"),
              "no install hint in:\n%s", err);
    char plots[300];
    snprintf(plots, sizeof plots, "%s/plots", dir);
    CHECK(count_ext(plots, ".png") == 0);
    char *md = read_rel(dir, "report.md");
    CHECK(md && strstr(md, "Fastest valid kernel") && strstr(md, "over memory budget"));
    free(md);
    /* the scripts are still written, to draw the charts elsewhere */
    CHECK(file_size(plots, "data/seqlen-time-t1", ".gp") > 0);
    free(err);
    test_rm_tree(dir);
    rmdir(empty);
}

TEST(plot_usage_errors)
{
    char *err;
    const char *none[] = { "/nonexistent/attn_results_dir" };
    CHECK(run_plot(&err, 1, none) == 2);
    CHECK(strstr(err, "/nonexistent/attn_results_dir") != NULL);
    free(err);
    const char *bad[] = { "--frobnicate" };
    CHECK(run_plot(&err, 1, bad) == 2);
    free(err);
    CHECK(run_plot(&err, 0, NULL) == 2);
    free(err);
}

/* Every registered kernel gets a colour of its own (the roofline chart draws them all). */
TEST(plot_kernel_colours_distinct)
{
    int n = 0;
    const attn_kernel *k = attn_kernels(&n);
    CHECK(n > 1);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            CHECK(strcmp(plot_kernel_colour(k[i].name), plot_kernel_colour(k[j].name)) != 0);
}

/* A sweep over both tiles: one heat map per kernel (GFLOP/s over tile_k x tile_q, the
 * values used), drawn `with image` on the grid of the values, a case that did not run
 * left as an empty (NaN) cell. */
TEST(plot_tile_heat_map)
{
    if (!gnuplot_on_path()) return;     /* the fallback has its own test */
    char dir[256], plots[300], *err;
    CHECK(make_run("tests/data/plot_tiles.json", dir, sizeof dir) == 0);
    snprintf(plots, sizeof plots, "%s/plots", dir);
    const char *args[] = { dir };
    int rc = run_plot(&err, 1, args);
    CHECK_MSG(rc == 0 && !strstr(err, "gnuplot /"), "plot: rc %d\n%s", rc, err);
    static const char *const charts[] = { "tiles-heat-flash", "roofline" };
    check_charts(plots, charts, 2);
    char *gp = read_rel(plots, "data/tiles-heat-flash.gp"), *dat = read_rel(plots, "data/tiles-heat-flash.dat");
    CHECK(gp && strstr(gp, "with image") && strstr(gp, "set xtics (\"16\" 0, \"48\" 1, \"128\" 2)") &&
          strstr(gp, "set ytics (\"16\" 0, \"32\" 1)") && strstr(gp, "flash GFLOP/s over tile sizes"));
    /* 2 x 3 cells, one scan line per tile_q; 32 x 128 did not run: NaN, no case id */
    CHECK(dat && strstr(dat, "\n0 0 ") && strstr(dat, "\n2 1 nan 128 32 -\n"));
    CHECK(dat && strstr(dat, "tiles-flash-b1-h2-kv2-q70-k70-d16-dv16-t1-none-dot-tq16-tk48"));
    free(gp);
    free(dat);
    free(err);
    test_rm_tree(dir);
}

/* The parts chart of mha cases: per kernel one line per part, at 100 x part / whole of
 * each case, sorted by length; a case without parts (layer = attention) breaks the line;
 * a dashed level at 50%. */
TEST(plot_parts_chart_shares_of_the_layer)
{
    static const double L[] = { 2048, 512, 8192 };             /* out of order on purpose */
    static const double qkv[] = { 0.2, 0.5, 0.05 }, att[] = { 0.7, 0.3, 0.9 };
    plot_case cs[7];
    const plot_case *ptr[7];
    memset(cs, 0, sizeof cs);
    for (int i = 0; i < 7; i++) {
        plot_case *c = &cs[i];
        c->kernel = i < 3 ? "flash_avx2" : "blas";
        c->id = "x";
        c->ok = 1;
        c->p.q_len = c->p.kv_len = (int)L[i % 3];
        c->p.layer = ATTN_LAYER_MHA;
        c->t_med = 2.0;
        c->part_med[ATTN_PART_QKV] = 2.0 * qkv[i % 3];
        c->part_med[ATTN_PART_ATTENTION] = 2.0 * att[i % 3];
        c->part_med[ATTN_PART_OUT] = 2.0 * (1 - qkv[i % 3] - att[i % 3]);
        ptr[i] = c;
    }
    cs[6].p.q_len = cs[6].p.kv_len = 4096;                      /* blas: one case without parts */
    for (int q = 0; q < ATTN_PART_COUNT; q++) cs[6].part_med[q] = NAN;
    plot_set set = { .baseline = "naive" };
    chart_in in = { &set, ptr, 7, AX_Q_LEN };
    plot_chart ch;
    memset(&ch, 0, sizeof ch);
    plot_build_parts(&in, &ch);
    CHECK(ch.n_panels == 1);
    const plot_panel *p = &ch.panels[0];
    CHECK_MSG(p->n_series == 2 * ATTN_PART_COUNT + 1, "%d series", p->n_series);
    for (int s = 0; s < p->n_series && p->n_series == 7; s++) {
        const plot_series *se = &p->series[s];
        if (s == 6) { CHECK(se->style == PS_HLINE && se->value == 50); continue; }
        const int flash = strstr(se->title, "flash_avx2") != NULL, part = s % 3;
        CHECK_MSG(strstr(se->title, attn_part_names[part]) != NULL, "series %d: %s", s, se->title);
        CHECK(se->n == (flash ? 3 : 4));
        for (int j = 0; j < se->n; j++) {
            const plot_point *pt = &se->pts[j];
            if (pt->x == 4096) { CHECK(isnan(pt->y)); continue; }    /* the gap */
            const int k = pt->x == 512 ? 1 : pt->x == 2048 ? 0 : 2;
            const double want = part == ATTN_PART_QKV ? qkv[k] : part == ATTN_PART_ATTENTION ? att[k]
                                                                : 1 - qkv[k] - att[k];
            CHECK_NEAR(pt->y, 100 * want, 1e-9);
            if (j) CHECK(pt->x > se->pts[j - 1].x);
        }
    }
    plot_chart_free(&ch);
}
