/* test_peer.c: the peer protocol end to end with a plain-C peer (tests/peers/testpeer.c,
 * built by make test; no torch): a correct output is ok with the peer's own samples and
 * version, a wrong one invalid, a crash crashed with the signal, a hang a timeout, a
 * missing program or interpreter skipped with the reason, a malformed out.npy or
 * times.json invalid with a clear reason; the private directory never outlives a case.
 * Also the strict .npy reader on its own, and peers in configs and `list`. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/peer.h"
#include "core/runner.h"
#include "record/dump.h"
#include "record/npy.h"
#include "record/results.h"
#include "test.h"

#define TP_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                 ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_THREADS)

/* A peer descriptor outside the list, running `program` (modules: run by Python). */
static attn_peer test_peer(const char *name, const char *program, const char *modules)
{
    attn_peer p = { .k = { .name = name, .desc = "test peer", .caps = TP_CAPS,
                           .dtypes = ATTN_DTYPE_BIT(ATTN_F32), .tol = { [ATTN_F32] = { 1e-4, 1e-3 } },
                           .workspace_bytes = attn_peer_no_workspace, .run = attn_peer_no_run },
                    .program = program, .modules = modules };
    return p;
}

static const char *testpeer_path(void)
{
    static char path[PATH_MAX];
    const char *e = getenv("ATTN_TESTPEER");
    if (!realpath(e && *e ? e : "build/testpeer", path)) path[0] = '\0';
    return path;
}

static attn_case peer_case(const attn_peer *p)
{
    attn_case c;
    memset(&c, 0, sizeof c);
    c.kernel = &p->k;
    c.batch = 2; c.heads = 4; c.kv_heads = 2; c.q_len = 13; c.kv_len = 5;   /* primes, Lq > Lk */
    c.head_dim = 7; c.v_dim = 11; c.threads = 2;
    c.mask = MASK_CAUSAL_PADDING; c.pad = 0.5; c.window_left = c.window_right = -1;
    c.score = ATTN_SCORE_DOT; c.additive_dim = 16;
    c.min_time = 0; c.reps = 3; c.timeout = 20; c.atol = NAN; c.rtol = NAN; c.seed = 7;
    snprintf(c.sweep, sizeof c.sweep, "peer");
    attn_case_make_id(&c);
    return c;
}

/* Entries in the test's TMPDIR: a peer's private directory must be gone after its case. */
static int tmp_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return d ? n : -1;
}

/* Run case c with ATTN_TESTPEER_MODE=mode under a private TMPDIR; r filled. */
static attn_case_status run_mode(attn_case *c, const char *mode, attn_result *r)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/peer-tmp", test_tmpdir());
    mkdir(tmp, 0700);
    const char *old = getenv("TMPDIR");
    char saved[PATH_MAX] = "";
    if (old) snprintf(saved, sizeof saved, "%s", old);
    setenv("TMPDIR", tmp, 1);
    setenv("ATTN_TESTPEER_MODE", mode, 1);
    attn_run_opts o = { .mem_budget = (size_t)1 << 30 };
    attn_run_case(c, &o, r);
    if (old) setenv("TMPDIR", saved, 1); else unsetenv("TMPDIR");
    unsetenv("ATTN_TESTPEER_MODE");
    CHECK_MSG(tmp_entries(tmp) == 0, "mode %s left %d entries in %s", mode, tmp_entries(tmp), tmp);
    return r->status;
}

TEST(peer_ok_is_validated_and_timed_from_its_samples)
{
    CHECK_MSG(testpeer_path()[0], "build/testpeer missing (make test builds it; ATTN_TESTPEER)");
    attn_peer p = test_peer("testpeer", testpeer_path(), NULL);
    attn_case c = peer_case(&p);
    attn_result r;
    CHECK_MSG(run_mode(&c, "ok", &r) == ST_OK, "status %s: %s", attn_status_name(r.status), r.reason);
    CHECK(r.val.done && r.val.passed && r.val.rows_checked == 2 * 4 * 13);
    CHECK(r.n_samples == 3);
    CHECK_NEAR(r.st.median, 0.002, 1e-12);      /* the peer's samples, not our clock */
    CHECK(!strcmp(r.peer_version, "testpeer 1?"));   /* control character made printable */
    CHECK(r.peak_rss_bytes > 0);
    cJSON *j = attn_case_json(&c, &r);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
    CHECK(cJSON_IsString(kind) && !strcmp(kind->valuestring, "peer"));
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "peer_version")));
    cJSON_Delete(j);
    attn_result_free(&r);
}

/* A peer program computes the attention alone: a layer = mha case is skipped with the
 * reason, the program never started (its "ok" output would be the wrong tensor). */
TEST(peer_skips_the_mha_layer)
{
    attn_peer p = test_peer("testpeer", testpeer_path(), NULL);
    attn_case c = peer_case(&p);
    c.layer = ATTN_LAYER_MHA;
    c.d_model = 28;
    attn_result r;
    CHECK(run_mode(&c, "ok", &r) == ST_SKIPPED);
    CHECK_MSG(strstr(r.reason, "attention alone") != NULL, "%s", r.reason);
    CHECK(r.n_samples == 0);
    attn_result_free(&r);
}

TEST(peer_failures_are_recorded_with_their_reasons)
{
    attn_peer p = test_peer("testpeer", testpeer_path(), NULL);
    attn_case c = peer_case(&p);
    static const struct { const char *mode; attn_case_status st; const char *reason; } t[] = {
        { "wrong",     ST_INVALID, "output differs from naive" },
        { "crash",     ST_CRASHED, "SIGABRT" },
        { "exit3",     ST_CRASHED, "status 3: testpeer: told to fail" },
        { "skip",      ST_SKIPPED, "peer testpeer: omitted: lacks testing" },
        { "garbage",   ST_INVALID, "out.npy: not a .npy file (bad magic)" },
        { "truncated", ST_INVALID, "bytes of data, expected" },
        { "shape",     ST_INVALID, "shape (2, 4, 12, 11), expected (2, 4, 13, 11)" },
        { "notimes",   ST_INVALID, "no times.json" },
        { "badtimes",  ST_INVALID, "not a positive number" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        attn_result r;
        run_mode(&c, t[i].mode, &r);
        CHECK_MSG(r.status == t[i].st && strstr(r.reason, t[i].reason),
                  "mode %s: %s: %s", t[i].mode, attn_status_name(r.status), r.reason);
        CHECK(r.n_samples == 0);
        attn_result_free(&r);
    }
}

TEST(peer_hang_times_out_and_is_killed)
{
    attn_peer p = test_peer("testpeer", testpeer_path(), NULL);
    attn_case c = peer_case(&p);
    c.timeout = 1;
    attn_result r;
    CHECK_MSG(run_mode(&c, "hang", &r) == ST_TIMEOUT, "%s: %s", attn_status_name(r.status), r.reason);
    CHECK(strstr(r.reason, "timeout after") && r.wall_s < 5);
    attn_result_free(&r);
}

TEST(peer_missing_program_or_interpreter_is_skipped_with_the_reason)
{
    attn_peer gone = test_peer("gone", "/nonexistent/peer", NULL);
    attn_case c = peer_case(&gone);
    attn_result r;
    CHECK(run_mode(&c, "ok", &r) == ST_SKIPPED);
    CHECK_MSG(strstr(r.reason, "/nonexistent/peer: No such file"), "%s", r.reason);
    attn_result_free(&r);

    /* a Python peer whose interpreter does not exist (ATTNBENCH_PYTHON names it) */
    setenv("ATTNBENCH_PYTHON", "/nonexistent/python3", 1);
    attn_peer py = test_peer("nopython", testpeer_path(), "numpy");
    c = peer_case(&py);
    CHECK(run_mode(&c, "ok", &r) == ST_SKIPPED);
    CHECK_MSG(strstr(r.reason, "cannot run /nonexistent/python3: run make peers"), "%s", r.reason);
    unsetenv("ATTNBENCH_PYTHON");
    attn_result_free(&r);

    /* a capability the peer lacks: skipped before anything runs */
    attn_peer tp = test_peer("testpeer", testpeer_path(), NULL);
    c = peer_case(&tp);
    c.globals = 2;
    CHECK(run_mode(&c, "ok", &r) == ST_SKIPPED && strstr(r.reason, "peer testpeer does not support: globals"));
    attn_result_free(&r);
}

/* ------------------------------------------------------------ .npy reader -- */

static void write_bytes(const char *path, const char *hdr, size_t data_bytes)
{
    FILE *f = fopen(path, "wb");
    size_t n = strlen(hdr + 10) + 10;       /* hdr starts with the 10-byte preamble */
    fwrite(hdr, 1, n, f);
    for (size_t i = 0; i < data_bytes; i++) fputc(0, f);
    fclose(f);
}

TEST(npy_reader_is_strict)
{
    char path[PATH_MAX], err[256];
    snprintf(path, sizeof path, "%s/t.npy", test_tmpdir());
    float x[6] = { 1, 2, 3, 4, 5, 6 }, y[6];
    size_t shape[2] = { 2, 3 }, wrong[2] = { 3, 2 };
    CHECK(attn_npy_write(path, x, 2, shape) == 0);
    CHECK(attn_npy_read_f32(path, y, 2, shape, err, sizeof err) == 0 && y[5] == 6);
    CHECK(attn_npy_read_f32(path, y, 2, wrong, err, sizeof err) != 0 && strstr(err, "shape (2, 3), expected (3, 2)"));
    static const struct { const char *dict; const char *why; } bad[] = {
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", "dtype '<f8'" },
        { "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "fortran_order True" },
        { "{'descr': '<f4', 'descr': '<f4', 'shape': (2, 3), }", "twice" },
        { "{'descr': '<f4', 'shape': (2, 3), }", "lacks" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", "unexpected" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 99999999999999999999999)}", "malformed" },
        { "['descr']", "not a dict" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char hdr[256] = "\x93NUMPY\x01\x00";
        size_t n = strlen(bad[i].dict) + 1;
        hdr[8] = (char)n;
        hdr[9] = 0;
        snprintf(hdr + 10, sizeof hdr - 10, "%s\n", bad[i].dict);
        write_bytes(path, hdr, 24);
        CHECK_MSG(attn_npy_read_f32(path, y, 2, shape, err, sizeof err) != 0 && strstr(err, bad[i].why),
                  "%s: %s", bad[i].dict, err);
    }
    /* version 2.0 (4-byte header length) is read; a directory is refused */
    char hdr[256] = "\x93NUMPY\x02\x00";
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
    hdr[8] = (char)strlen(dict);
    hdr[9] = hdr[10] = hdr[11] = 0;
    FILE *f = fopen(path, "wb");
    fwrite(hdr, 1, 12, f);
    fputs(dict, f);
    fwrite(x, 4, 6, f);
    fclose(f);
    CHECK_MSG(attn_npy_read_f32(path, y, 2, shape, err, sizeof err) == 0 && y[0] == 1, "%s", err);
    CHECK(attn_npy_read_f32(test_tmpdir(), y, 2, shape, err, sizeof err) != 0);
}

/* --------------------------------------------------------- configs, list -- */

TEST(peers_are_named_in_configs_never_selected_by_star)
{
    char ini[PATH_MAX];
    snprintf(ini, sizeof ini, "%s/peers.ini", test_tmpdir());
    test_write_text(ini, "[a]\nkernels = *\nseq_len = 8\n[b]\nkernels = flash, torch_sdpa\nseq_len = 8\n");
    attn_caselist l;
    CHECK(attn_config_load(ini, NULL, &l) == 0);
    int peers = 0, kernels = 0;
    for (int i = 0; i < l.n; i++) {
        if (attn_peer_of(l.cases[i].kernel)) {
            peers++;
            CHECK(!strcmp(l.cases[i].sweep, "b") && !strcmp(l.cases[i].kernel->name, "torch_sdpa"));
        } else kernels++;
    }
    CHECK(peers == 1 && kernels > 1);
    attn_caselist_free(&l);
}

TEST(cli_peer_unavailable_is_listed_and_skipped)
{
    char ini[PATH_MAX], err[512];
    snprintf(ini, sizeof ini, "%s/peer-cli.ini", test_tmpdir());
    test_write_text(ini, "[s]\nkernels = torch_sdpa, torch_math\nseq_len = 9\nheads = 2\nhead_dim = 8\n");
    CHECK(test_sh(err, sizeof err, "ATTNBENCH_PYTHON=/nonexistent/py %s list | grep -A2 '^torch_sdpa' | "
                  "grep -q 'cannot run /nonexistent/py: run make peers'", test_bin()) == 0);
    CHECK_MSG(test_sh(err, sizeof err, "ATTNBENCH_PYTHON=/nonexistent/py %s run %s -q --no-peak -o %s/peer-cli",
                      test_bin(), ini, test_tmpdir()) == 0, "%s", err);
    CHECK(test_sh(err, sizeof err, "grep -c '\"kind\":\\s*\"peer\"' %s/peer-cli/results.json | grep -qx 2 && "
                  "grep -q 'peer torch_sdpa unavailable: cannot run /nonexistent/py' %s/peer-cli/results.json",
                  test_tmpdir(), test_tmpdir()) == 0);
}

/* ------------------------------------------------------------- charts -- */

TEST(plot_draws_peers_dashed_and_reports_the_ratio)
{
    attn_peer p = test_peer("testpeer", testpeer_path(), NULL);
    char dir[PATH_MAX], err[512];
    snprintf(dir, sizeof dir, "%s/peer-plot", test_tmpdir());
    attn_results *res = attn_results_open(dir, NULL, 0, 0);
    CHECK(res != NULL);
    for (int lq = 13; lq <= 17 && res; lq += 4) {   /* two lengths: a time-vs-length chart */
        attn_case pc = peer_case(&p), kc;
        pc.q_len = lq;
        pc.threads = 1;     /* naive, no OpenMP: this process may have run OpenMP already,
                               and a forked child must not enter it (core/runner.c) */
        attn_case_make_id(&pc);
        kc = pc;
        kc.kernel = attn_kernel_find("naive");
        attn_case_make_id(&kc);
        attn_result pr, kr;
        CHECK(run_mode(&pc, "ok", &pr) == ST_OK);
        attn_run_opts o = { .mem_budget = (size_t)1 << 30 };
        CHECK_MSG(attn_run_case(&kc, &o, &kr) == ST_OK, "%s: %s", attn_status_name(kr.status), kr.reason);
        kr.st.median = 0.001;               /* ours twice as fast as the peer's 0.002 s */
        CHECK(attn_results_add(res, &pc, &pr) == 0 && attn_results_add(res, &kc, &kr) == 0);
        attn_result_free(&pr);
        attn_result_free(&kr);
    }
    if (res) attn_results_close(res);
    CHECK_MSG(test_sh(err, sizeof err, "%s plot %s >/dev/null", test_bin(), dir) == 0, "%s", err);
    /* the peer's series dashed (dt 2), the kernel's solid; the report's ratio 0.002 / 0.001 */
    CHECK(test_sh(err, sizeof err, "grep -h \"dt 2 .*title 'testpeer'\" %s/plots/data/*.gp | grep -q . && "
                  "grep -h \"dt 1 .*title 'naive'\" %s/plots/data/*.gp | grep -q .", dir, dir) == 0);
    CHECK(test_sh(err, sizeof err, "test $(grep -c '| naive[^|]* | 1 ms |.*| testpeer 2 ms | 2.00 |' %s/report.md) = 2",
                  dir) == 0);
}
