/* test_tunables.c: wisdom files (record/wisdom.h) and `attnbench tune` / `run` with them.
 *
 * A wisdom file written, read back and merged keeps every entry; malformed files are
 * refused with the path and the field, never half-read; `tune` writes this CPU's file and
 * `run` applies it to the cases that set no tiles, naming the file in the context, while
 * --no-wisdom, a config's tiles and a bad file (exit 2, no results) behave as documented.
 * (Config parsing of the tile keys: test_config.c; tiles reaching kernels: test_kernels.c.) */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"
#include "core/machine.h"
#include "record/results.h"
#include "record/wisdom.h"
#include "test.h"

static attn_wisdom_entry entry(const char *kernel, int d, int len_log2, int q, int k)
{
    attn_wisdom_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.kernel, sizeof e.kernel, "%s", kernel);
    e.head_dim = d;
    e.dtype = ATTN_F32;
    e.len_log2 = len_log2;
    e.tune[0] = q;
    e.tune[1] = k;
    e.default_tune[0] = e.default_tune[1] = 64;
    e.median_s = 0.25;
    e.gflops = 12.5;
    e.default_median_s = 0.3;
    e.points = 16;
    snprintf(e.date, sizeof e.date, "2026-12-05T08:00:00Z");
    return e;
}

TEST(wisdom_write_read_merge_round_trip)
{
    char path[512], err[1024];
    snprintf(path, sizeof path, "%s/wisdom-rt/sub/w.json", test_tmpdir());
    attn_wisdom w;
    memset(&w, 0, sizeof w);
    snprintf(w.cpu_model, sizeof w.cpu_model, "Test CPU \"quoted\"");
    snprintf(w.updated, sizeof w.updated, "2026-12-05T08:00:00Z");
    attn_wisdom_entry a = entry("flash", 64, 12, 32, 128), b = entry("flash", 128, 12, 16, 64);
    CHECK(attn_wisdom_put(&w, &a) == 0 && attn_wisdom_put(&w, &b) == 0 && w.n == 2);
    CHECK(attn_wisdom_save(path, &w) == 0);     /* creates the directories */
    attn_wisdom_free(&w);

    attn_wisdom r;
    CHECK_MSG(attn_wisdom_load(path, &r, err, sizeof err) == 0, "%s", err);
    CHECK(r.n == 2 && !strcmp(r.cpu_model, "Test CPU \"quoted\"") && strlen(r.hash) == 16);
    CHECK(r.n == 2 && !memcmp(&r.e[0], &a, sizeof a) && !memcmp(&r.e[1], &b, sizeof b));
    char hash1[17];
    snprintf(hash1, sizeof hash1, "%s", r.hash);

    /* merge: the same kernel and class is replaced, a new class added */
    attn_wisdom_entry a2 = entry("flash", 64, 12, 64, 64), c = entry("flash_avx2", 64, 10, 64, 32);
    CHECK(attn_wisdom_put(&r, &a2) == 0 && attn_wisdom_put(&r, &c) == 0 && r.n == 3);
    CHECK(attn_wisdom_save(path, &r) == 0);
    attn_wisdom_free(&r);
    CHECK_MSG(attn_wisdom_load(path, &r, err, sizeof err) == 0, "%s", err);
    CHECK(r.n == 3 && r.e[0].tune[0] == 64 && r.e[0].tune[1] == 64 && r.e[2].len_log2 == 10);
    CHECK(strcmp(r.hash, hash1) != 0);

    /* lookup by a case's kernel and class: 4096 and 5000 keys share class 12 */
    attn_case cs;
    memset(&cs, 0, sizeof cs);
    cs.kernel = attn_kernel_find("flash");
    cs.head_dim = 64;
    cs.kv_len = 5000;
    const attn_wisdom_entry *f = attn_wisdom_find(&r, &cs);
    CHECK(f && f->tune[0] == 64);
    cs.kv_len = 8192;                           /* class 13: none */
    CHECK(attn_wisdom_find(&r, &cs) == NULL);
    cs.kv_len = 4096;
    cs.dtype = ATTN_BF16;                       /* another dtype: none */
    CHECK(attn_wisdom_find(&r, &cs) == NULL);
    attn_wisdom_free(&r);

    snprintf(path, sizeof path, "%s/wisdom-rt/none.json", test_tmpdir());
    CHECK(attn_wisdom_load(path, &r, err, sizeof err) == 1 && r.n == 0);
}

TEST(wisdom_malformed_files_refused)
{
    static const char good_entry[] =
        "{\"kernel\": \"flash\", \"head_dim\": 64, \"dtype\": \"f32\", \"len_log2\": 12, "
        "\"tile_q\": 32, \"tile_k\": 128, \"median_s\": 0.1, \"gflops\": 10, \"default_tile_q\": 32, "
        "\"default_tile_k\": 128, \"default_median_s\": 0.1, \"points\": 4, \"date\": \"x\"}";
    static const struct { const char *text, *says; } bad[] = {
        { "not json", "not a JSON object" },
        { "[]", "not a JSON object" },
        { "{\"schema\": \"attnbench-wisdom-2\", \"cpu_model\": \"c\", \"updated\": \"u\", \"entries\": []}", "schema" },
        { "{\"schema\": \"attnbench-wisdom-1\", \"updated\": \"u\", \"entries\": []}", "cpu_model" },
        { "{\"schema\": \"attnbench-wisdom-1\", \"cpu_model\": \"c\", \"updated\": \"u\", \"entries\": {}}", "entries" },
        { "{\"schema\": \"attnbench-wisdom-1\", \"cpu_model\": \"c\", \"updated\": \"u\", \"entries\": [1]}", "entries[0]" },
        { "{\"schema\": \"attnbench-wisdom-1\", \"cpu_model\": \"c\", \"updated\": \"u\", \"entries\": [%s, %s]}", "entries[1].(the same kernel and class" },
        { "{\"schema\": \"attnbench-wisdom-1\", \"cpu_model\": \"c\", \"updated\": \"u\", \"entries\": [%s]}", "" },
    };
    /* one field of the good entry broken at a time */
    static const struct { const char *from, *to, *field; } edits[] = {
        { "\"tile_q\": 32", "\"tile_q\": 7", "tile_q" },            /* flash does not allow it */
        { "\"tile_k\": 128", "\"tile_k\": \"128\"", "tile_k" },
        { "\"head_dim\": 64", "\"head_dim\": 64.5", "head_dim" },
        { "\"dtype\": \"f32\"", "\"dtype\": \"f64\"", "dtype" },
        { "\"len_log2\": 12", "\"len_log2\": 31", "len_log2" },
        { "\"median_s\": 0.1", "\"median_s\": -1", "median_s" },
        { "\"kernel\": \"flash\"", "\"kernel\": \"../x\"", "kernel" },
        { "\"points\": 4, ", "", "points" },
    };
    char path[512], text[4096], err[1024];
    snprintf(path, sizeof path, "%s/wisdom-bad.json", test_tmpdir());
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] + sizeof edits / sizeof edits[0]; i++) {
        const char *says;
        if (i < sizeof bad / sizeof bad[0]) {
            snprintf(text, sizeof text, bad[i].text, good_entry, good_entry);
            says = bad[i].says;
            if (!*says) {                       /* the good file itself loads */
                test_write_text(path, text);
                attn_wisdom w;
                CHECK_MSG(attn_wisdom_load(path, &w, err, sizeof err) == 0 && w.n == 1, "%s", err);
                attn_wisdom_free(&w);
                continue;
            }
        } else {
            const size_t j = i - sizeof bad / sizeof bad[0];
            char e[1024];
            const char *at = strstr(good_entry, edits[j].from);
            snprintf(e, sizeof e, "%.*s%s%s", (int)(at - good_entry), good_entry, edits[j].to,
                     at + strlen(edits[j].from));
            snprintf(text, sizeof text, "{\"schema\": \"attnbench-wisdom-1\", \"cpu_model\": \"c\", "
                     "\"updated\": \"u\", \"entries\": [%s, %s]}", good_entry, e);
            says = edits[j].field;
        }
        test_write_text(path, text);
        attn_wisdom w;
        int rc = attn_wisdom_load(path, &w, err, sizeof err);
        CHECK_MSG(rc == -1 && w.n == 0 && w.e == NULL, "'%s' was read (rc %d)", text, rc);
        CHECK_MSG(!strncmp(err, path, strlen(path)) && strstr(err, says), "'%s': expected '%s' in '%s'", text, says, err);
        if (i >= sizeof bad / sizeof bad[0]) CHECK_MSG(strstr(err, "entries[1]."), "%s", err);
    }
}

/* The context's wisdom object and the first case's tunables of a run directory. */
static cJSON *load_run(const char *dir, const cJSON **wisdom, const cJSON **tunables)
{
    char err[1024];
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    *wisdom = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "context"), "wisdom");
    *tunables = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "cases"), 0), "tunables");
    return doc;
}

TEST(e2e_tune_writes_wisdom_and_run_uses_it)
{
    char dir[512], ini[600], err[8192], wpath[700], model[256], slug[128];
    snprintf(dir, sizeof dir, "%s/tune", test_tmpdir());
    CHECK(test_sh(err, sizeof err, "mkdir -p %s", dir) == 0);
    snprintf(ini, sizeof ini, "%s/t.ini", dir);
    test_write_text(ini, "[t]\nkernels = flash, naive\nheads = 1\nhead_dim = 8\nseq_len = 37\n"
                         "min_time = 0\nreps = 1\n");
    int rc = test_sh(err, sizeof err, "ATTN_TUNING_DIR=%s/tuning %s tune %s -q", dir, test_bin(), ini);
    CHECK_MSG(rc == 0, "tune exit %d: %s", rc, err);
    attn_cpu_model(model, sizeof model);
    attn_cpu_slug(model, slug, sizeof slug);
    snprintf(wpath, sizeof wpath, "%s/tuning/%s.json", dir, slug);
    attn_wisdom w;
    CHECK_MSG(attn_wisdom_load(wpath, &w, err, sizeof err) == 0, "%s", err);
    CHECK(w.n == 1 && !strcmp(w.e[0].kernel, "flash") && w.e[0].head_dim == 8 && w.e[0].len_log2 == 5);
    CHECK(w.n == 1 && w.e[0].points == 16 && !strcmp(w.cpu_model, model));   /* 4 x 4 grid, the default 32x128 on it */
    /* pin a pair the default never is, so the run shows where its tiles came from */
    if (w.n == 1) { w.e[0].tune[0] = 48; w.e[0].tune[1] = 80; }
    CHECK(attn_wisdom_save(wpath, &w) == 0);
    attn_wisdom_free(&w);

    /* run finds this CPU's file by itself; --dump's case.json records the same tunables */
    char out[700];
    snprintf(out, sizeof out, "%s/run1", dir);
    rc = test_sh(err, sizeof err, "ATTN_TUNING_DIR=%s/tuning %s run %s -q --no-peak -o %s --dump %s/dump",
                 dir, test_bin(), ini, out, dir);
    CHECK_MSG(rc == 0, "run exit %d: %s", rc, err);
    const cJSON *wis, *tun;
    cJSON *doc = load_run(out, &wis, &tun);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(wis, "used")));
    CHECK(!strcmp(attn_json_str(wis, "path", ""), wpath));
    CHECK(strlen(attn_json_str(wis, "fnv1a64", "")) == 16);
    CHECK(attn_json_int(tun, "tile_q", 0) == 48 && attn_json_int(tun, "tile_k", 0) == 80);
    CHECK(!strcmp(attn_json_str(tun, "from", ""), "wisdom"));
    char dumped[900];
    snprintf(dumped, sizeof dumped, "%s/dump/%s/case.json", dir,
             attn_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "cases"), 0), "id", "?"));
    char *text = attn_read_file(dumped, NULL);
    cJSON *cj = text ? cJSON_Parse(text) : NULL;
    const cJSON *dt = cJSON_GetObjectItem(cj, "tunables");
    CHECK_MSG(attn_json_int(dt, "tile_q", 0) == 48 && !strcmp(attn_json_str(dt, "from", ""), "wisdom"),
              "%s: %s", dumped, text ? text : "(missing)");
    cJSON_Delete(cj);
    free(text);
    cJSON_Delete(doc);

    /* --no-wisdom: the cache-derived default */
    snprintf(out, sizeof out, "%s/run2", dir);
    rc = test_sh(err, sizeof err, "ATTN_TUNING_DIR=%s/tuning %s run %s -q --no-peak --no-wisdom -o %s", dir, test_bin(), ini, out);
    CHECK_MSG(rc == 0, "run exit %d: %s", rc, err);
    doc = load_run(out, &wis, &tun);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(wis, "used")));
    CHECK(!strcmp(attn_json_str(tun, "from", ""), "default") && attn_json_int(tun, "tile_q", 0) == 32);
    cJSON_Delete(doc);

    /* a bad file, or another CPU's: exit 2, the message names the file, no results */
    static const char *const files[] = {
        "{\"schema\": \"attnbench-wisdom-1\"}",
        "{\"schema\": \"attnbench-wisdom-1\", \"cpu_model\": \"Other CPU\", \"updated\": \"u\", \"entries\": []}",
    };
    static const char *const says[] = { "cpu_model", "made on 'Other CPU'" };
    for (int i = 0; i < 2; i++) {
        test_write_text(wpath, files[i]);
        snprintf(out, sizeof out, "%s/run-bad%d", dir, i);
        rc = test_sh(err, sizeof err, "ATTN_TUNING_DIR=%s/tuning %s run %s -q --no-peak -o %s", dir, test_bin(), ini, out);
        CHECK_MSG(rc == 2 && strstr(err, wpath) && strstr(err, says[i]), "exit %d: %s", rc, err);
        struct stat st;
        CHECK_MSG(stat(out, &st) != 0, "%s was created", out);
        rc = test_sh(err, sizeof err, "ATTN_TUNING_DIR=%s/tuning %s tune %s -q", dir, test_bin(), ini);
        CHECK_MSG(rc == 2 && strstr(err, says[i]), "tune exit %d: %s", rc, err);
    }
}
