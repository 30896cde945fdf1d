/* test_e2e.c: the built binary end to end, as a user runs it.
 *
 * Runs $ATTNBENCH (default build/attnbench) on configs/quick.ini and on small configs
 * written here, then reads what it wrote with cJSON: every case of the config is there,
 * every one ok (or skipped because this CPU lacks an ISA), the schema's fields present;
 * bad configs exit 2 with FILE:LINE; --resume, --dump and --shard do what they say. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "record/results.h"
#include "test.h"

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static const char small_ini[] =
    "[small]\n"
    "kernels = naive, blocked\n"
    "heads = 2\n"
    "head_dim = 8\n"
    "seq_len = 7, 16\n"
    "mask = none, causal\n"
    "min_time = 0\n"
    "reps = 3\n";

TEST(e2e_quick_ini_all_cases_ok)
{
    char dir[512], err[8192];
    snprintf(dir, sizeof dir, "%s/quick", test_tmpdir());
    int rc = test_sh(err, sizeof err, "%s run configs/quick.ini -q -o %s", test_bin(), dir);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);

    attn_caselist list;
    CHECK(attn_config_load("configs/quick.ini", NULL, &list) == 0);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    if (!doc) return;
    CHECK(cJSON_GetObjectItem(doc, "schema")->valueint == 1);
    const cJSON *ctx = cJSON_GetObjectItem(doc, "context");
    const char *ctx_fields[] = { "date", "host", "cpu_model", "isa", "cores", "caches", "governor",
                                 "compiler", "cflags", "git_sha", "peak_gflops" };
    for (size_t i = 0; i < sizeof ctx_fields / sizeof *ctx_fields; i++)
        CHECK_MSG(cJSON_HasObjectItem(ctx, ctx_fields[i]), "context.%s missing", ctx_fields[i]);

    const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
    CHECK_MSG(cJSON_GetArraySize(cases) == list.n, "%d cases written, config has %d",
              cJSON_GetArraySize(cases), list.n);
    const cJSON *c;
    int ok = 0;
    cJSON_ArrayForEach(c, cases) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "id"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(c, "status"));
        const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(c, "reason"));
        CHECK(id && st);
        if (!id || !st) continue;
        int cpu_skip = !strcmp(st, "skipped") && reason &&
                       (strstr(reason, "cpu lacks") || strstr(reason, "built without"));
        CHECK_MSG(!strcmp(st, "ok") || cpu_skip, "%s: %s (%s)", id, st, reason ? reason : "");
        if (strcmp(st, "ok")) continue;
        ok++;
        const char *fields[] = { "kernel", "params", "validation", "time_s", "unstable", "flops",
                                 "gflops", "pct_peak", "memory" };
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
            CHECK_MSG(cJSON_HasObjectItem(c, fields[i]), "%s: %s missing", id, fields[i]);
        const cJSON *t = cJSON_GetObjectItem(c, "time_s");
        const cJSON *samples = cJSON_GetObjectItem(t, "samples");
        CHECK(cJSON_GetArraySize(samples) >= 1);
        double med = cJSON_GetNumberValue(cJSON_GetObjectItem(t, "median"));
        double lo = cJSON_GetNumberValue(cJSON_GetObjectItem(t, "ci_low"));
        double hi = cJSON_GetNumberValue(cJSON_GetObjectItem(t, "ci_high"));
        CHECK_MSG(lo <= med && med <= hi && med > 0, "%s: ci [%g, %g] median %g", id, lo, hi, med);
        const cJSON *v = cJSON_GetObjectItem(c, "validation");
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(v, "passed")));
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(v, "rows_checked")) >= 1);
        const cJSON *pr = cJSON_GetObjectItem(c, "params");
        const char *pf[] = { "batch", "heads", "kv_heads", "q_len", "kv_len", "head_dim", "v_dim",
                             "threads", "mask", "window_left", "window_right", "globals", "score" };
        for (size_t i = 0; i < sizeof pf / sizeof *pf; i++)
            CHECK_MSG(cJSON_HasObjectItem(pr, pf[i]), "%s: params.%s missing", id, pf[i]);
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "memory"), "peak_rss_bytes")) > 0);
    }
    CHECK(ok > 0);
    cJSON_Delete(doc);
    attn_caselist_free(&list);

    char csv[600];
    snprintf(csv, sizeof csv, "%s/results.csv", dir);
    CHECK(exists(csv));
}

TEST(e2e_bad_config_exits_2_with_file_line)
{
    char ini[512], dir[512], err[4096];
    snprintf(ini, sizeof ini, "%s/bad.ini", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/bad-out", test_tmpdir());
    test_write_text(ini, "[s]\nkernels = naive\nhaeds = 4\n");
    int rc = test_sh(err, sizeof err, "%s run %s -o %s", test_bin(), ini, dir);
    CHECK_MSG(rc == 2, "exit %d", rc);
    char want[600];
    snprintf(want, sizeof want, "%s:3:", ini);
    CHECK_MSG(strstr(err, want) != NULL, "stderr: %s", err);
    CHECK_MSG(strstr(err, "heads") != NULL, "no suggestion: %s", err);
    CHECK(test_count_cases(dir) < 0);        /* nothing ran, nothing written */

    rc = test_sh(err, sizeof err, "%s run %s/no-such.ini", test_bin(), test_tmpdir());
    CHECK(rc == 2);
    rc = test_sh(err, sizeof err, "%s run", test_bin());
    CHECK(rc == 2);
    rc = test_sh(err, sizeof err, "%s frobnicate", test_bin());
    CHECK(rc == 2);
}

TEST(e2e_resume_runs_only_missing_and_never_overwrites)
{
    char ini[512], dir[512], err[4096];
    snprintf(ini, sizeof ini, "%s/small.ini", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/resume", test_tmpdir());
    test_write_text(ini, small_ini);
    int rc = test_sh(err, sizeof err, "%s run %s -q --kernels naive -o %s", test_bin(), ini, dir);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    CHECK(test_count_cases(dir) == 4);
    /* the same directory again without --resume: refused, results kept */
    rc = test_sh(err, sizeof err, "%s run %s -q -o %s", test_bin(), ini, dir);
    CHECK(rc == 2);
    CHECK(test_count_cases(dir) == 4);
    /* --resume adds the blocked cases only */
    rc = test_sh(err, sizeof err, "%s run %s --resume -o %s", test_bin(), ini, dir);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    CHECK_MSG(strstr(err, "4 cases to run") != NULL, "stderr: %s", err);
    CHECK(test_count_cases(dir) == 8);
}

TEST(e2e_dump_writes_npy_and_case_json)
{
    char ini[512], dir[512], dump[512], err[4096];
    snprintf(ini, sizeof ini, "%s/small.ini", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/dumprun", test_tmpdir());
    snprintf(dump, sizeof dump, "%s/dump", test_tmpdir());
    test_write_text(ini, small_ini);
    int rc = test_sh(err, sizeof err, "%s run %s -q --kernels blocked -o %s --dump %s", test_bin(), ini, dir, dump);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK(doc != NULL);
    if (!doc) return;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "id"));
        const char *files[] = { "q.npy", "k.npy", "v.npy", "out.npy", "case.json" };
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s/%s", dump, id, files[i]);
            CHECK_MSG(exists(path), "missing %s", path);
        }
    }
    cJSON_Delete(doc);
}

TEST(e2e_shards_cover_the_sweep_once)
{
    char ini[512], d0[512], d1[512], err[4096];
    snprintf(ini, sizeof ini, "%s/small.ini", test_tmpdir());
    snprintf(d0, sizeof d0, "%s/shard0", test_tmpdir());
    snprintf(d1, sizeof d1, "%s/shard1", test_tmpdir());
    test_write_text(ini, small_ini);
    CHECK(test_sh(err, sizeof err, "%s run %s -q --shard 0/3 -o %s", test_bin(), ini, d0) == 0);
    CHECK(test_sh(err, sizeof err, "%s run %s -q --shard 1/3 -o %s", test_bin(), ini, d1) == 0);
    CHECK(test_count_cases(d0) == 3);        /* cases 0, 3, 6 of 8 */
    CHECK(test_count_cases(d1) == 3);        /* cases 1, 4, 7 */
    CHECK(test_sh(err, sizeof err, "%s run %s -q --shard 3/3 -o %s/x", test_bin(), ini, test_tmpdir()) == 2);

    /* the third shard, then merge: the same cases, in the order of an unsharded run */
    char d2[512], merged[512], whole[512];
    snprintf(d2, sizeof d2, "%s/shard2", test_tmpdir());
    snprintf(merged, sizeof merged, "%s/merged", test_tmpdir());
    snprintf(whole, sizeof whole, "%s/whole", test_tmpdir());
    CHECK(test_sh(err, sizeof err, "%s run %s -q --shard 2/3 -o %s", test_bin(), ini, d2) == 0);
    CHECK(test_sh(err, sizeof err, "%s run %s -q -o %s", test_bin(), ini, whole) == 0);
    int rc = test_sh(err, sizeof err, "%s merge -o %s %s %s %s", test_bin(), merged, d1, d2, d0);
    CHECK_MSG(rc == 0, "merge exit %d: %s", rc, err);
    cJSON *m = attn_results_load(merged, err, sizeof err), *w = attn_results_load(whole, err, sizeof err);
    CHECK(m && w);
    if (m && w) {
        const cJSON *mc = cJSON_GetObjectItem(m, "cases"), *wc = cJSON_GetObjectItem(w, "cases");
        CHECK(cJSON_GetArraySize(mc) == 8 && cJSON_GetArraySize(wc) == 8);
        for (int i = 0; i < 8 && i < cJSON_GetArraySize(mc); i++)
            CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(mc, i), "id")),
                          cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(wc, i), "id"))));
    }
    cJSON_Delete(m);
    cJSON_Delete(w);
    char csv[600];
    snprintf(csv, sizeof csv, "%s/results.csv", merged);
    CHECK(exists(csv));
}

TEST(e2e_compare_and_baseline)
{
    char ini[512], a[512], err[8192];
    snprintf(ini, sizeof ini, "%s/small.ini", test_tmpdir());
    snprintf(a, sizeof a, "%s/base", test_tmpdir());
    test_write_text(ini, small_ini);
    int rc = test_sh(err, sizeof err, "ATTN_BASELINE_DIR=%s/baselines %s run %s -q --kernels blocked "
                "--format gbench --save-baseline main -o %s", test_tmpdir(), test_bin(), ini, a);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    char gb[600];
    snprintf(gb, sizeof gb, "%s/results.gbench.json", a);
    CHECK(exists(gb));
    /* a run compared with itself: nothing regressed */
    rc = test_sh(err, sizeof err, "%s compare %s %s", test_bin(), a, a);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    /* and with the baseline it saved, found by name for this machine */
    rc = test_sh(err, sizeof err, "ATTN_BASELINE_DIR=%s/baselines %s compare --baseline main %s", test_tmpdir(), test_bin(), a);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    rc = test_sh(err, sizeof err, "ATTN_BASELINE_DIR=%s/baselines %s compare --baseline nope %s", test_tmpdir(), test_bin(), a);
    CHECK(rc == 2);
}

TEST(e2e_list_and_info)
{
    char err[4096];
    CHECK(test_sh(err, sizeof err, "%s list | grep -q '^naive'", test_bin()) == 0);
    /* tunables under their kernel: flash has both tiles, blocked the key tile, naive none */
    CHECK(test_sh(err, sizeof err, "%s list | awk '/^[a-z]/ { k = $1 } /tunables:/ { print k \": \" $0 }' "
                  "| grep -q '^flash: .*tile_q 16..1024 step 16 (here [1-9][0-9]*), tile_k'", test_bin()) == 0);
    CHECK(test_sh(err, sizeof err, "%s list | awk '/^[a-z]/ { k = $1 } /tunables:/ { print k \": \" $0 }' "
                  "| grep -q '^blocked: *tunables: tile_k 16..1024 step 16 (here [1-9]'", test_bin()) == 0);
    CHECK(test_sh(err, sizeof err, "%s list | awk '/^[a-z]/ { k = $1 } /tunables:/ { print k }' "
                  "| grep -qx naive", test_bin()) != 0);
    CHECK(test_sh(err, sizeof err, "%s info | grep -q cpu_model", test_bin()) == 0);
    CHECK(test_sh(err, sizeof err, "%s run --help | grep -q resume", test_bin()) == 0);
}

/* variants.ini is CI's sweep of every mask and shape variant over every kernel: nothing
 * may be invalid, crash or time out; a skip must name a missing capability or ISA; and
 * every usable kernel must have run (ok) on some variant. */
TEST(e2e_variants_ini_every_kernel_every_variant)
{
    char dir[512], err[8192];
    snprintf(dir, sizeof dir, "%s/variants", test_tmpdir());
    int rc = test_sh(err, sizeof err, "%s run configs/variants.ini -q -o %s", test_bin(), dir);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    if (!doc) return;
    int nk;
    const attn_kernel *reg = attn_kernels(&nk);
    int *ok = calloc((size_t)nk, sizeof *ok);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "id"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(c, "status"));
        const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(c, "reason"));
        const char *kernel = cJSON_GetStringValue(cJSON_GetObjectItem(c, "kernel"));
        if (!id || !st || !kernel) { CHECK(0); continue; }
        if (!strcmp(st, "ok")) {
            for (int k = 0; k < nk; k++) ok[k] += !strcmp(reg[k].name, kernel);
            continue;
        }
        CHECK_MSG(!strcmp(st, "skipped") && reason &&
                  (strstr(reason, "does not support") || strstr(reason, "cpu lacks") ||
                   strstr(reason, "built without") || strstr(reason, "does not accept dtype")),
                  "%s: %s (%s)", id, st, reason ? reason : "");
    }
    for (int k = 0; k < nk; k++)
        if (attn_kernel_usable(&reg[k], &(const char *){0}))
            CHECK_MSG(ok[k] > 0, "kernel %s ran no variant", reg[k].name);
    free(ok);
    cJSON_Delete(doc);
}

/* rounds = 3: each case is timed in three child processes, one per pass over the sweep;
 * its samples are all of theirs together, its validation from the first */
TEST(e2e_rounds_pool_samples_of_every_round)
{
    char ini[512], dir[512], err[4096];
    snprintf(ini, sizeof ini, "%s/rounds.ini", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/rounds", test_tmpdir());
    test_write_text(ini, "[r]\nkernels = naive, blocked\nheads = 2\nseq_len = 19\nmin_time = 0\n"
                    "reps = 7\nrounds = 3\n");
    int rc = test_sh(err, sizeof err, "%s run %s -q -o %s", test_bin(), ini, dir);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK(doc != NULL);
    if (!doc) return;
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases")) == 2);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        const cJSON *t = cJSON_GetObjectItem(c, "time_s");
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(t, "rounds")) == 3);
        /* ceil(7 / 3) = 3 timed samples a round, min_time 0 */
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(t, "samples")) == 9);
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(t, "n")) == 9);
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "validation"), "passed")));
    }
    cJSON_Delete(doc);
}

/* ATTN_ISA caps the ISA for a run: the same binary then skips, with the reason, the
 * kernels that need more, as it does on a CPU without them */
TEST(e2e_isa_cap_skips_with_reason)
{
    char ini[512], dir[512], err[4096];
    snprintf(ini, sizeof ini, "%s/isa.ini", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/isa", test_tmpdir());
    test_write_text(ini, "[isa]\nkernels = *\nunsupported = omit\nheads = 2\nseq_len = 33\nmin_time = 0\nreps = 2\n");
    int rc = test_sh(err, sizeof err, "ATTN_ISA=portable %s run %s -q -o %s", test_bin(), ini, dir);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK(doc != NULL);
    if (!doc) return;
    int ok = 0, capped = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        const char *isa = cJSON_GetStringValue(cJSON_GetObjectItem(c, "isa"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(c, "status"));
        const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(c, "reason"));
        if (!isa || !st) { CHECK(0); continue; }
        /* a kernel this build lacks (blas without CBLAS) or this CPU lacks (avx512 on
         * an AVX2 machine) says so before any cap */
        if (reason && (strstr(reason, "built without") || strstr(reason, "cpu lacks"))) {
            CHECK_MSG(!strcmp(st, "skipped"), "%s: %s", st, reason);
            if (strcmp(isa, "portable")) capped++;
        } else if (!strcmp(isa, "portable")) {
            CHECK_MSG(!strcmp(st, "ok"), "%s", st);
            ok++;
        } else {
            /* the cap is named, unless the CPU itself lacks the feature (that reason wins) */
            CHECK_MSG(!strcmp(st, "skipped") && reason &&
                      (strstr(reason, "ATTN_ISA=portable") || strstr(reason, "cpu lacks")),
                      "%s: %s", st, reason ? reason : "");
            capped++;
        }
    }
    CHECK(ok > 0);
    CHECK(capped > 0);
    cJSON_Delete(doc);
    CHECK(test_sh(err, sizeof err, "ATTN_ISA=portable %s list | grep '^flash_avx512' | grep -q ' no '", test_bin()) == 0);
}
