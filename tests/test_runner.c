/* test_runner.c: the runner records what really happened to a case: a correct kernel is
 * ok with samples, a wrong one invalid, a crashing one crashed with the signal's name, a
 * hanging one timeout, an over-budget one skipped with the numbers, a missing capability
 * skipped with its name. The misbehaving kernels are local to this file (never in the
 * registry): they exist only to prove the runner survives them. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/inputs.h"
#include "core/runner.h"
#include "test.h"

static size_t no_ws(const attn_problem *p, int threads) { (void)p; (void)threads; return 0; }

/* computes the right answer by delegating to naive, then spoils one element */
static attn_status wrong_run(const attn_problem *p, const float *q, const float *k, const float *v,
                             float *out, void *ws, int threads)
{
    (void)ws; (void)threads;
    const attn_kernel *naive = attn_kernel_find("naive");
    static float scratch[1 << 16];
    attn_status s = naive->run(p, q, k, v, out, scratch, 1);
    out[(size_t)p->B * p->H * p->Lq * p->Dv - 1] += 0.5f;
    return s;
}

/* SIGABRT rather than SIGSEGV: AddressSanitizer (make sanitize) catches SEGV and exits
 * instead of dying by the signal, which would test ASan rather than the runner */
static attn_status crash_run(const attn_problem *p, const float *q, const float *k, const float *v,
                             float *out, void *ws, int threads)
{
    (void)p; (void)q; (void)k; (void)v; (void)out; (void)ws; (void)threads;
    raise(SIGABRT);
    return ATTN_OK;
}

static attn_status hang_run(const attn_problem *p, const float *q, const float *k, const float *v,
                            float *out, void *ws, int threads)
{
    (void)p; (void)q; (void)k; (void)v; (void)out; (void)ws; (void)threads;
    for (;;) pause();
    return ATTN_OK;
}

static const attn_kernel k_wrong = { .name = "test_wrong", .desc = "off by 0.5 in one element", .caps = ~0u & ~(unsigned)ATTN_CAP_THREADS,
                                   .dtypes = ATTN_DTYPES_ALL,
                                   .workspace_bytes = no_ws, .run = wrong_run };
static const attn_kernel k_crash = { .name = "test_crash", .desc = "raises SIGABRT", .caps = ~0u & ~(unsigned)ATTN_CAP_THREADS,
                                   .dtypes = ATTN_DTYPES_ALL,
                                   .workspace_bytes = no_ws, .run = crash_run };
static const attn_kernel k_hang = { .name = "test_hang", .desc = "never returns", .caps = ~0u & ~(unsigned)ATTN_CAP_THREADS,
                                   .dtypes = ATTN_DTYPES_ALL,
                                   .workspace_bytes = no_ws, .run = hang_run };

static attn_case small_case(const attn_kernel *k)
{
    attn_case c;
    memset(&c, 0, sizeof c);
    c.kernel = k;
    c.batch = 2; c.heads = 2; c.kv_heads = 2; c.q_len = 13; c.kv_len = 13;
    c.head_dim = 8; c.v_dim = 8; c.threads = 1;
    c.mask = MASK_NONE; c.window_left = c.window_right = -1;
    c.score = ATTN_SCORE_DOT; c.additive_dim = 16;
    c.min_time = 0; c.reps = 7; c.timeout = 20; c.atol = 1e-4; c.rtol = 1e-3; c.seed = 42;
    snprintf(c.sweep, sizeof c.sweep, "test");
    attn_case_make_id(&c);
    return c;
}

static attn_run_opts opts(void)
{
    attn_run_opts o = { .mem_budget = (size_t)1 << 30, .dump_dir = NULL, .peak_gflops = 0 };
    return o;
}

TEST(runner_ok_case_has_samples_and_stats)
{
    attn_case c = small_case(attn_kernel_find("blocked"));
    attn_run_opts o = opts();
    o.peak_gflops = 1000;
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_OK);
    CHECK_MSG(r.status == ST_OK, "status %s: %s", attn_status_name(r.status), r.reason);
    CHECK(r.n_samples == 7);            /* min_time 0: exactly reps */
    CHECK(r.val.done && r.val.passed);
    CHECK(r.val.rows_checked == r.val.rows_total && r.val.rows_total == 2 * 2 * 13);
    CHECK(r.st.min <= r.st.median && r.st.median <= r.st.max && r.st.min > 0);
    CHECK(r.flops == 2.0 * 2 * 13 * 13 * (2 * 8 + 2 * 8));
    CHECK_NEAR(r.gflops, r.flops / r.st.median * 1e-9, 1e-9 * r.gflops);
    CHECK_NEAR(r.pct_peak, r.gflops / 10, 1e-9 * r.gflops);
    CHECK(r.peak_rss_bytes > 0);
    attn_result_free(&r);
}

TEST(runner_naive_validates_against_float64)
{
    attn_case c = small_case(attn_kernel_find("naive"));
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_OK);
    CHECK(r.val.against && !strcmp(r.val.against, "float64"));
    CHECK(r.val.max_abs_err < 1e-5);
    CHECK(r.pct_peak < 0);              /* no peak known: none reported */
    attn_result_free(&r);
}

TEST(runner_wrong_kernel_is_invalid)
{
    attn_case c = small_case(&k_wrong);
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_INVALID);
    CHECK(r.val.done && !r.val.passed);
    CHECK(r.val.max_abs_err > 0.49 && r.val.max_abs_err < 0.51);
    CHECK(r.n_samples == 0);            /* an invalid kernel is never timed */
    CHECK(strstr(r.reason, "differs") != NULL);
    attn_result_free(&r);
}

/* layer = mha: the spoilt element of the attention reaches the layer's output through Wo,
 * and the layer validation sees it. */
TEST(runner_wrong_kernel_in_mha_layer_is_invalid)
{
    if (attn_layer_unavailable()) return;           /* built without CBLAS: no mha */
    attn_case c = small_case(&k_wrong);
    c.layer = ATTN_LAYER_MHA;
    c.d_model = 20;
    attn_case_make_id(&c);
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_INVALID);
    CHECK(r.val.done && !r.val.passed && r.val.max_abs_err > 1e-3);
    CHECK(r.val.rows_total == 2 * 13);              /* the layer's (b, i) output rows */
    attn_result_free(&r);
}

/* layer = mha: every sample of the whole has its parts, measured inside the same calls, so
 * each sample's parts sum to at most the whole and to most of it (the layer does nothing
 * outside its three parts but set the BLAS thread count). */
TEST(runner_mha_parts_sum_to_the_whole)
{
    if (attn_layer_unavailable()) return;
    attn_case c = small_case(attn_kernel_find("blocked"));
    c.layer = ATTN_LAYER_MHA;
    c.d_model = 24;
    /* one thread: this test process has run OpenMP regions (other tests), and libgomp
     * does not survive a fork after that; the binary's parent never enters one. Two
     * threads run through the binary in test_layer.c. */
    c.q_len = 40;
    c.kv_len = 40;
    c.reps = 20;
    attn_case_make_id(&c);
    attn_run_opts o = opts();
    attn_result r;
    CHECK_MSG(attn_run_case(&c, &o, &r) == ST_OK, "%s", r.reason);
    CHECK(r.n_parts == ATTN_PART_COUNT && r.n_samples == 20);
    CHECK(!strcmp(r.val.against, "naive") && r.val.rows_total == 2 * 40);
    int most = 0;
    for (int t = 0; t < r.n_samples && r.n_parts == ATTN_PART_COUNT; t++) {
        double sum = 0;
        for (int q = 0; q < ATTN_PART_COUNT; q++) {
            double x = r.samples[(size_t)(q + 1) * r.n_samples + t];
            CHECK(x > 0);
            sum += x;
        }
        CHECK_MSG(sum <= r.samples[t] * (1 + 1e-9), "sample %d: parts %.3g s > whole %.3g s", t, sum, r.samples[t]);
        most += sum >= 0.5 * r.samples[t];
    }
    CHECK_MSG(most >= r.n_samples / 2, "parts under half the whole in %d of %d samples", r.n_samples - most, r.n_samples);
    CHECK(r.part_st[ATTN_PART_ATTENTION].median > 0 && r.part_st[ATTN_PART_QKV].median > 0);
    /* the projections' FLOPs are in the case's: 2 B Lq dm (H D + Hkv (D + Dv) + H Dv) more */
    CHECK_NEAR(r.flops - 2.0 * 2 * 40 * 40 * (2 * 8 + 2 * 8), 2.0 * 2 * 40 * 24 * (16 + 32 + 16), 1e-6);
    attn_result_free(&r);
}

/* A kernel that requires a CPU feature this machine lacks is skipped, the feature named. */
TEST(runner_missing_feature_is_skipped_naming_it)
{
    attn_features lacks = ~attn_cpu_features() & ~attn_cpu_features_without_os_state() &
                          ((1u << ATTN_FEAT_COUNT) - 1);
    if (!lacks) return;                 /* a CPU with every feature: nothing to skip */
    const unsigned f = lacks & -lacks;  /* the lowest missing feature */
    attn_kernel k = k_wrong;
    k.name = "test_needs_feature";
    k.requires = f;
    attn_case c = small_case(&k);
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_SKIPPED);
    char want[64];
    snprintf(want, sizeof want, "cpu lacks %s", attn_feature_name(f));
    CHECK_MSG(strstr(r.reason, want) != NULL, "reason '%s', want '%s'", r.reason, want);
    CHECK(r.n_samples == 0);
    attn_result_free(&r);
}

/* The kernel's declared tolerance applies unless the case (the config) sets one: a kernel
 * off by 0.5 passes with a declared atol of 0.6 and fails when the config says 1e-4. */
TEST(runner_tolerance_kernel_default_and_config_override)
{
    attn_kernel k = k_wrong;
    k.name = "test_wrong_tolerant";
    k.dtypes = ATTN_DTYPE_BIT(ATTN_F32);
    k.tol[ATTN_F32] = (attn_tol){ 0.6, 0 };
    attn_case c = small_case(&k);
    c.atol = c.rtol = NAN;              /* config did not set them */
    c.reps = 1;
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_OK);
    CHECK(r.val.passed);
    attn_result_free(&r);

    c.atol = 1e-4;                      /* config sets atol: it wins; rtol stays the kernel's */
    CHECK(attn_run_case(&c, &o, &r) == ST_INVALID);
    CHECK_MSG(strstr(r.reason, "atol 0.0001, rtol 0") != NULL, "reason: %s", r.reason);
    attn_result_free(&r);
}

TEST(runner_crash_is_recorded_with_signal)
{
    attn_case c = small_case(&k_crash);
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_CRASHED);
    CHECK_MSG(strstr(r.reason, "SIGABRT") != NULL, "reason: %s", r.reason);
    attn_result_free(&r);
}

TEST(runner_hang_times_out)
{
    attn_case c = small_case(&k_hang);
    c.timeout = 0.5;
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_TIMEOUT);
    CHECK(r.wall_s < 5);
    CHECK(strstr(r.reason, "timeout") != NULL);
    attn_result_free(&r);
}

TEST(runner_over_budget_is_skipped_with_numbers)
{
    attn_case c = small_case(attn_kernel_find("naive"));
    attn_run_opts o = opts();
    o.mem_budget = 1000;
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_SKIPPED);
    char want[64];
    snprintf(want, sizeof want, "needs %zu bytes", attn_case_mem_need(&c, &o));
    CHECK_MSG(strstr(r.reason, want) && strstr(r.reason, "budget 1000 bytes"), "reason: %s", r.reason);
    attn_result_free(&r);
}

TEST(runner_missing_capability_is_skipped_by_name)
{
    attn_case c = small_case(attn_kernel_find("naive"));
    c.threads = 2;                      /* naive is single-threaded */
    attn_run_opts o = opts();
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_SKIPPED);
    CHECK_MSG(strstr(r.reason, "threads") != NULL, "reason: %s", r.reason);
    attn_result_free(&r);
}

TEST(runner_large_case_samples_rows)
{
    /* the full naive reference over the validation cost limit: rows are sampled */
    attn_case c = small_case(attn_kernel_find("blocked"));
    c.q_len = 101; c.kv_len = 67;
    attn_run_opts o = opts();
    o.ref_flops = 1e5;
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_OK);
    CHECK_MSG(r.val.rows_checked < r.val.rows_total && r.val.rows_checked >= 8,
              "rows %ld of %ld", r.val.rows_checked, r.val.rows_total);
    attn_result_free(&r);
}

TEST(runner_reference_samples_rows_to_fit_the_budget)
{
    /* docs/design.md: the reference samples rows when the full one would not fit the memory
     * budget. A budget just under what the full reference needs must give a sampled
     * validation, not an over-budget skip. */
    attn_case c = small_case(attn_kernel_find("blocked"));
    c.batch = 1; c.heads = 1; c.kv_heads = 1; c.q_len = 256; c.kv_len = 256;
    attn_run_opts o = opts();
    size_t full = attn_case_mem_need(&c, &o);     /* 256 KiB naive workspace inside */
    o.mem_budget = full - 1;
    size_t sampled = attn_case_mem_need(&c, &o);
    CHECK_MSG(sampled < full - 200000, "need %zu with budget %zu, %zu without", sampled, o.mem_budget, full);
    attn_result r;
    CHECK_MSG(attn_run_case(&c, &o, &r) == ST_OK, "status %s: %s", attn_status_name(r.status), r.reason);
    /* row by row, the reference needs one score row, so every row is still checked */
    CHECK_MSG(r.val.done && r.val.passed && r.val.rows_checked == r.val.rows_total,
              "rows %ld of %ld", r.val.rows_checked, r.val.rows_total);
    attn_result_free(&r);
}

TEST(runner_huge_timeout_is_no_timeout)
{
    /* timeout is any positive number of seconds; 1e7 s (or more) must not overflow the
     * poll() milliseconds into an instant timeout */
    attn_case c = small_case(attn_kernel_find("blocked"));
    c.timeout = 1e7;
    attn_run_opts o = opts();
    attn_result r;
    CHECK_MSG(attn_run_case(&c, &o, &r) == ST_OK, "status %s: %s", attn_status_name(r.status), r.reason);
    attn_result_free(&r);
}

TEST(runner_mem_need_covers_the_float64_reference)
{
    /* the naive kernel is validated by ref64.c, whose tables are doubles: (Lk) scores and
     * (Lk, A) additive key projections; the budget check must count them at 8 bytes */
    attn_case c = small_case(attn_kernel_find("naive"));
    c.batch = 1; c.heads = 1; c.kv_heads = 1; c.q_len = 8; c.kv_len = 4096;
    c.score = ATTN_SCORE_ADDITIVE; c.additive_dim = 64;
    attn_run_opts o = opts();
    attn_problem p;
    attn_problem_from_case(&c, &p);
    size_t ref64 = sizeof(double) * ((size_t)c.kv_len * (1 + c.additive_dim) + c.additive_dim);
    size_t floor = attn_inputs_bytes(&c) + c.kernel->workspace_bytes(&p, 1) + ref64;
    CHECK_MSG(attn_case_mem_need(&c, &o) >= floor, "need %zu < %zu", attn_case_mem_need(&c, &o), floor);
}

/* writes its process id to the file named by ATTN_TEST_PIDFILE, then never returns */
static attn_status hang_pid_run(const attn_problem *p, const float *q, const float *k, const float *v,
                                float *out, void *ws, int threads)
{
    (void)p; (void)q; (void)k; (void)v; (void)out; (void)ws; (void)threads;
    FILE *f = fopen(getenv("ATTN_TEST_PIDFILE"), "w");
    if (f) { fprintf(f, "%ld\n", (long)getpid()); fclose(f); }
    for (;;) pause();
    return ATTN_OK;
}
static const attn_kernel k_hang_pid = { .name = "test_hang_pid", .desc = "never returns", .caps = ~0u & ~(unsigned)ATTN_CAP_THREADS,
                                   .dtypes = ATTN_DTYPES_ALL,
                                   .workspace_bytes = no_ws, .run = hang_pid_run };

TEST(runner_child_dies_with_the_sweep)
{
    /* `kill` of the attnbench process alone (not its group) must not leave a case's
     * child running on: a hung kernel would burn a core until its timeout or forever */
    char pidfile[] = "/tmp/attn_test_pid_XXXXXX";
    int fd = mkstemp(pidfile);
    if (fd < 0) { CHECK(0); return; }
    close(fd);
    unlink(pidfile);
    setenv("ATTN_TEST_PIDFILE", pidfile, 1);
    pid_t sweep = fork();
    if (sweep == 0) {
        attn_case c = small_case(&k_hang_pid);
        c.timeout = 120;
        attn_run_opts o = opts();
        attn_result r;
        attn_run_case(&c, &o, &r);
        _exit(0);
    }
    long child = 0;
    for (int i = 0; i < 500 && child <= 0; i++) {
        usleep(10000);
        FILE *f = fopen(pidfile, "r");
        if (f) { if (fscanf(f, "%ld", &child) != 1) child = 0; fclose(f); }
    }
    kill(sweep, SIGKILL);
    waitpid(sweep, NULL, 0);
    CHECK(child > 0);
    int gone = 0;
    for (int i = 0; i < 200 && child > 0 && !(gone = !test_pid_alive(child)); i++) usleep(10000);
    CHECK_MSG(gone, "case child %ld still running after its parent was killed", child);
    if (!gone && child > 0) kill((pid_t)child, SIGKILL);
    unlink(pidfile);
}
