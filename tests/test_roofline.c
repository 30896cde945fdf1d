/* test_roofline.c: the roofline: compulsory bytes of a case (core/case.c) against a
 * brute-force count over every (query, key) pair, the roof math (core/peak.c), the
 * result fields (core/runner.c, record/results.c, record/schema.c), the bandwidth
 * measurement (core/bandwidth.c), and the roofline chart (plot/plot_roofline.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "analysis/ab.h"
#include "cli/commands.h"
#include "core/bandwidth.h"
#include "core/case.h"
#include "core/inputs.h"
#include "core/peak.h"
#include "core/runner.h"
#include "record/results.h"
#include "util/util.h"

/* A small self-attention case; tests change what they need. */
static attn_case roof_case(void)
{
    return (attn_case){
        .sweep = "roof", .kernel = attn_kernel_find("naive"), .batch = 1, .heads = 4, .kv_heads = 4,
        .q_len = 16, .kv_len = 16, .head_dim = 8, .v_dim = 8, .threads = 1, .mask = MASK_NONE, .pad = 0.25,
        .window_left = -1, .window_right = -1, .score = ATTN_SCORE_DOT, .additive_dim = 4, .seed = 1,
    };
}

/* Bytes by brute force: a key of item b is read (once per kv head) when attn_allowed lets
 * some query row see it; q read and out written whole; additive weights once. Also used
 * by test_case.c's random shapes. */
double test_brute_bytes(const attn_case *c, int eb);
double test_brute_bytes(const attn_case *c, int eb)
{
    attn_inputs in;
    if (attn_inputs_make(c, &in) != 0) return -1;
    double keys = 0;
    for (int b = 0; b < c->batch; b++)
        for (int j = 0; j < c->kv_len; j++) {
            int seen = 0;
            for (int i = 0; i < c->q_len && !seen; i++) seen = attn_allowed(&in.p, b, i, j);
            keys += seen;
        }
    attn_inputs_free(&in);
    double rows = (double)c->batch * c->heads * c->q_len;
    double bytes = rows * c->head_dim * eb + keys * c->kv_heads * (c->head_dim + c->v_dim) * eb +
                   rows * c->v_dim * 4.0;
    if (c->score == ATTN_SCORE_ADDITIVE) bytes += (2.0 * c->additive_dim * c->head_dim + c->additive_dim) * eb;
    return bytes;
}

/* (Bytes against brute force on awkward shapes: tests/test_case.c's
 * case_pairs_match_brute_force, which checks pairs and bytes on one grid.) */
TEST(roofline_bytes_scale_with_element_width)
{
    /* the element width scales q, k and v but not out (always fp32) */
    attn_case c = roof_case();
    double b4 = attn_case_bytes(&c, 4), b2 = attn_case_bytes(&c, 2);
    double out = 4.0 * c.batch * c.heads * c.q_len * c.v_dim;
    CHECK_NEAR(b2 - out, (b4 - out) / 2, 1e-9);
    CHECK(attn_case_elem_bytes(&c) == 4);
}

TEST(roofline_bytes_closed_forms)
{
    /* full self-attention: every key read once per kv head */
    attn_case c = roof_case();
    c.batch = 2; c.heads = 8; c.kv_heads = 8; c.q_len = c.kv_len = 100; c.head_dim = 64; c.v_dim = 32;
    double rows = 2.0 * 8 * 100;
    CHECK(attn_case_bytes(&c, 4) == 4 * (rows * 64 + 2.0 * 8 * 100 * (64 + 32) + rows * 32));
    /* causal self-attention: the last row sees every key, so the same bytes */
    c.mask = MASK_CAUSAL;
    CHECK(attn_case_bytes(&c, 4) == 4 * (rows * 64 + 2.0 * 8 * 100 * (64 + 32) + rows * 32));
    /* decode, GQA: one query row per head, the whole cache of each kv head read once */
    c = roof_case();
    c.heads = 32; c.kv_heads = 8; c.q_len = 1; c.kv_len = 32768; c.head_dim = c.v_dim = 128;
    double bytes = attn_case_bytes(&c, 4);
    CHECK(bytes == 4.0 * (32 * 128 + 8.0 * 32768 * 256 + 32 * 128));
    /* ~1 FLOP per byte: 4 heads share each kv head's 1 KiB per key, 4 x 512 FLOPs */
    CHECK_NEAR(attn_case_flops(&c) / bytes, 4.0 * 512 / 1024, 0.01);
    /* Lq > Lk causal: the early rows see nothing, the keys are still read once */
    c = roof_case();
    c.q_len = 20; c.kv_len = 5; c.mask = MASK_CAUSAL; c.heads = c.kv_heads = 1;
    CHECK(attn_case_bytes(&c, 4) == 4.0 * (20 * 8 + 5 * 16 + 20 * 8));
    /* every key padded away: only q and out */
    c = roof_case();
    c.batch = 1; c.mask = MASK_PADDING; c.pad = 1.0;
    CHECK(attn_case_bytes(&c, 4) == 4.0 * 2 * (4 * 16 * 8));
}

TEST(roofline_bytes_large_is_fast)
{
    attn_case c = roof_case();
    c.heads = c.kv_heads = 1;
    c.q_len = c.kv_len = 1 << 20;
    c.mask = MASK_CAUSAL; c.window_left = 255; c.window_right = 0; c.globals = 4;
    clock_t t0 = clock();
    double bytes = attn_case_bytes(&c, 4);
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(bytes == 4.0 * ((double)(1 << 20) * (8 + 16 + 8)));
    CHECK_MSG(s < 2.0, "attn_case_bytes took %.2f s on a 1M-row case", s);
}

TEST(roofline_roof_math)
{
    CHECK(attn_roof_gflops(100, 10, 2) == 20);          /* memory bound: intensity x bandwidth */
    CHECK(attn_roof_gflops(100, 10, 50) == 100);        /* compute bound: the peak */
    CHECK(attn_roof_gflops(100, 10, 10) == 100);        /* the ridge */
    CHECK(attn_ridge_intensity(100, 10) == 10);
    CHECK(attn_roof_gflops(0, 10, 2) == 0);             /* unknown roofs: unknown */
    CHECK(attn_roof_gflops(100, 0, 2) == 0);
    CHECK(attn_roof_gflops(100, 10, NAN) == 0);
    CHECK(attn_roof_gflops(INFINITY, 10, 2) == 0);
    CHECK(attn_ridge_intensity(100, 0) == 0);
}

TEST(roofline_result_fields)
{
    attn_result r;
    memset(&r, 0, sizeof r);
    double samples[] = { 0.01, 0.01, 0.01 };
    r.samples = samples;
    r.n_samples = 3;
    r.flops = 2e9;              /* 200 GFLOP/s at 10 ms */
    r.bytes = 1e9;              /* 100 GB/s, intensity 2 */
    r.intensity = 2;
    attn_run_opts o = { .peak_gflops = 1000, .bandwidth_gbs = 50 };
    attn_result_finish(&r, &o);
    CHECK_NEAR(r.gbytes_s, 100, 1e-9);
    CHECK_NEAR(r.roof_gflops, 100, 1e-9);              /* min(1000, 2 x 50) */
    CHECK_NEAR(r.pct_roof, 200, 1e-9);                 /* above a roof: a roof measured low */
    CHECK_NEAR(r.pct_peak, 20, 1e-9);
    o.bandwidth_gbs = 0;                                /* no bandwidth: no roof */
    attn_result_finish(&r, &o);
    CHECK(r.roof_gflops == 0 && r.pct_roof < 0);

    /* results.json: the five fields; null where unknown; CSV columns at the end */
    attn_case c = roof_case();
    attn_case_make_id(&c);
    r.roof_gflops = 100;
    r.pct_roof = 200;
    cJSON *o1 = attn_case_json(&c, &r);
    CHECK(attn_json_num(o1, "bytes", 0) == 1e9 && attn_json_num(o1, "intensity", 0) == 2);
    CHECK(attn_json_num(o1, "gbytes_s", 0) > 99 && attn_json_num(o1, "roof_gflops", 0) == 100);
    CHECK(attn_json_num(o1, "pct_roof", 0) == 200);
    cJSON_Delete(o1);
    attn_result skipped;
    memset(&skipped, 0, sizeof skipped);
    skipped.status = ST_SKIPPED;
    skipped.pct_roof = -1;
    o1 = attn_case_json(&c, &skipped);
    static const char *const nulls[] = { "bytes", "intensity", "gbytes_s", "roof_gflops", "pct_roof" };
    for (size_t i = 0; i < 5; i++)
        CHECK_MSG(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o1, nulls[i])), "%s not null", nulls[i]);
    cJSON_Delete(o1);
}

TEST(roofline_schema_checks_fields)
{
    static const char *const bad[] = {
        "{\"cases\":[{\"kernel\":\"k\",\"status\":\"ok\",\"params\":{},\"time_s\":{\"median\":1},\"pct_roof\":-3}]}",
        "{\"cases\":[{\"kernel\":\"k\",\"status\":\"ok\",\"params\":{},\"time_s\":{\"median\":1},\"bytes\":\"many\"}]}",
        "{\"cases\":[{\"kernel\":\"k\",\"status\":\"ok\",\"params\":{},\"time_s\":{\"median\":1},\"intensity\":-1}]}",
    };
    char err[512];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *d = cJSON_Parse(bad[i]);
        CHECK(d && attn_results_check(d, "x.json", err, sizeof err) != 0);
        CHECK_MSG(strstr(err, "pct_roof") || strstr(err, "bytes") || strstr(err, "intensity"), "%s", err);
        cJSON_Delete(d);
    }
    cJSON *d = cJSON_Parse("{\"cases\":[{\"kernel\":\"k\",\"status\":\"ok\",\"params\":{},\"time_s\":{\"median\":1},"
                           "\"bytes\":10,\"intensity\":null,\"gbytes_s\":1,\"roof_gflops\":null,\"pct_roof\":null}]}");
    CHECK(d && attn_results_check(d, "x.json", err, sizeof err) == 0);
    cJSON_Delete(d);
}

TEST(roofline_bandwidth_measures)
{
    /* buffer sizing: 8 x LLC within [512 MiB, 2 GiB] and an eighth of memory, whole pages */
    CHECK(attn_bandwidth_buffer_bytes(128L << 20, 64L << 30) == (size_t)1 << 30);
    CHECK(attn_bandwidth_buffer_bytes(16L << 20, 64L << 30) == (size_t)512 << 20);
    CHECK(attn_bandwidth_buffer_bytes(0, 0) == (size_t)512 << 20);
    CHECK(attn_bandwidth_buffer_bytes(1L << 30, 0) == (size_t)2 << 30);
    CHECK(attn_bandwidth_buffer_bytes(32L << 20, 256L << 20) == (size_t)32 << 20);
    CHECK(attn_bandwidth_buffer_bytes(3000001, 0) % 4096 == 0);
    /* the read loops agree on a sum, tails included */
    enum { N = 1000 + 13 };
    static uint64_t w[N] __attribute__((aligned(32)));
    uint64_t want = 0;
    for (size_t i = 0; i < N; i++) { w[i] = i * 2654435761u; want += w[i]; }
    CHECK(attn_bandwidth_read_portable(w, N) == want);
#if defined(__x86_64__)
    if ((attn_cpu_features() & ATTN_REQ_AVX2) == ATTN_REQ_AVX2) CHECK(attn_bandwidth_read_avx2(w, N) == want);
#endif
    /* a short measurement: some GB/s, not absurd (no machine reads 10 TB/s) */
    double g = attn_bandwidth_measure(1, (size_t)16 << 20, 0.02);
    CHECK_MSG(g > 0.1 && g < 10000, "bandwidth %.3g GB/s", g);
    CHECK(attn_bandwidth_measure(0, (size_t)16 << 20, 0.02) == 0);
}

TEST(roofline_ab_pooling_follows_the_pooled_median)
{
    /* two rounds of one case: medians 10 ms and 30 ms; pooled median of 10,10,10,30,30,30
     * is 20 ms, so gflops, gbytes_s, pct_peak and pct_roof follow 20 ms, not round 1's 10 */
    const char *r1 = "{\"kernel\":\"k\",\"status\":\"ok\",\"params\":{},\"flops\":2e9,\"bytes\":1e9,"
                     "\"gflops\":200,\"pct_peak\":20,\"gbytes_s\":100,\"roof_gflops\":100,\"pct_roof\":200,"
                     "\"time_s\":{\"median\":0.01,\"samples\":[0.01,0.01,0.01]}}";
    const char *r2 = "{\"kernel\":\"k\",\"status\":\"ok\",\"params\":{},\"flops\":2e9,\"bytes\":1e9,"
                     "\"gflops\":66.7,\"pct_peak\":6.67,\"gbytes_s\":33.3,\"roof_gflops\":100,\"pct_roof\":66.7,"
                     "\"time_s\":{\"median\":0.03,\"samples\":[0.03,0.03,0.03]}}";
    cJSON *rounds[2] = { cJSON_Parse(r1), cJSON_Parse(r2) };
    CHECK(rounds[0] && rounds[1]);
    cJSON *out = attn_ab_pool(rounds, 2);
    CHECK(out != NULL);
    if (out) {
        CHECK_NEAR(attn_json_num(out, "gflops", 0), 100, 1e-6);
        CHECK_NEAR(attn_json_num(out, "gbytes_s", 0), 50, 1e-6);
        CHECK_NEAR(attn_json_num(out, "pct_peak", 0), 10, 1e-6);
        CHECK_NEAR(attn_json_num(out, "pct_roof", 0), 100, 1e-6);
        CHECK_NEAR(attn_json_num(out, "roof_gflops", 0), 100, 1e-6);   /* the roof does not move */
    }
    cJSON_Delete(out);
    cJSON_Delete(rounds[0]);
    cJSON_Delete(rounds[1]);
}

TEST(roofline_peak_command_prints_both_roofs)
{
    char err[512], path[600];
    snprintf(path, sizeof path, "%s/peak.json", test_tmpdir());
    int rc = test_sh(err, sizeof err, "(%s peak --json --threads 1 --seconds 0.01 > %s)", test_bin(), path);
    CHECK_MSG(rc == 0, "peak --json exit %d: %s", rc, err);
    char *text = attn_read_file(path, NULL);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK_MSG(o != NULL, "peak --json printed no JSON");
    const cJSON *bw = cJSON_GetObjectItemCaseSensitive(o, "bandwidth_gbs");
    CHECK(attn_json_num(bw, "1", 0) > 0.1);
    CHECK(attn_json_num(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "peak_gflops"),
                                                         "portable"), "1", 0) > 0.1);
    CHECK(attn_json_num(o, "bandwidth_buffer_bytes", 0) == (double)attn_bandwidth_default_bytes());
    cJSON_Delete(o);
}

/* ------------------------------------------------------------------ chart -- */

/* The seqlen fixture with intensities, a measured bandwidth and a hostile kernel name. */
static int make_roof_run(char *dir, size_t n)
{
    size_t len;
    char *text = attn_read_file("tests/data/plot_seqlen.json", &len);
    if (!text) return -1;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc) return -1;
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "bandwidth_gbs");
    cJSON *bw = cJSON_AddObjectToObject(ctx, "bandwidth_gbs");
    cJSON_AddNumberToObject(bw, "1", 12.5);
    cJSON_AddNumberToObject(bw, "2", 24.0);
    int i = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        cJSON_DeleteItemFromObjectCaseSensitive(c, "intensity");
        cJSON_AddNumberToObject(c, "intensity", 0.5 + 3.0 * i++);
    }
    snprintf(dir, n, "/tmp/attn_test_roof_XXXXXX");
    char *out = cJSON_Print(doc), path[512];
    cJSON_Delete(doc);
    if (!out || !mkdtemp(dir)) { free(out); return -1; }
    snprintf(path, sizeof path, "%s/results.json", dir);
    int rc = attn_write_file_atomic(path, out, strlen(out));
    free(out);
    return rc;
}

TEST(roofline_chart_drawn_with_roofs)
{
    char dir[256], path[600];
    CHECK(make_roof_run(dir, sizeof dir) == 0);
    char *argv[] = { "plot", dir, NULL };
    fflush(stderr);
    int rc = attn_cmd_plot(2, argv);
    CHECK(rc == 0);
    snprintf(path, sizeof path, "%s/plots/data/roofline.gp", dir);
    char *gp = attn_read_file(path, NULL);
    CHECK_MSG(gp != NULL, "%s missing", path);
    if (gp) {
        CHECK(strstr(gp, "set logscale x 10") && strstr(gp, "set logscale y 10"));
        CHECK(strstr(gp, "with points") != NULL);
        CHECK(strstr(gp, "roof ") != NULL && strstr(gp, "GB/s") != NULL);
    }
    free(gp);
    snprintf(path, sizeof path, "%s/plots/data/roofline.dat", dir);
    char *dat = attn_read_file(path, NULL);
    CHECK(dat && strstr(dat, "ridge") != NULL);
    free(dat);
    /* the report names the bandwidth and has a % of roof column */
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = attn_read_file(path, NULL);
    CHECK(md && strstr(md, "% of roof") && strstr(md, "GB/s"));
    free(md);
    if (access("/usr/bin/gnuplot", X_OK) == 0) {
        struct stat st;
        snprintf(path, sizeof path, "%s/plots/roofline.png", dir);
        CHECK_MSG(stat(path, &st) == 0 && st.st_size > 1000, "%s missing or empty", path);
    }
    test_rm_tree(dir);
}
