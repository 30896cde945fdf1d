/* test_fuzz_regress.c: every input the fuzzers (tests/fuzz/, `make fuzz`) found a bug
 * with, replayed through the same code in `make test` (and under ASan+UBSan in `make
 * sanitize`). A file named *.bad.* must be refused with a message; *.ok.* must load. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "record/results.h"
#include "fuzz/fuzz_readers.h"
#include "test.h"

typedef int (*replay_fn)(const char *path);

static int replay_config(const char *path)
{
    attn_caselist l = { 0 };
    int rc = attn_config_load(path, NULL, &l);
    if (rc == 0) attn_caselist_free(&l);
    return rc;
}

static int replay_results(const char *path)
{
    char err[1024];
    cJSON *doc = attn_results_load(path, err, sizeof err);
    if (!doc) return -1;
    int rc = fuzz_readers(doc);
    cJSON_Delete(doc);
    return rc;
}

static int replay_dir(const char *dir, replay_fn fn)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int want_ok = strstr(e->d_name, ".ok.") != NULL, want_bad = strstr(e->d_name, ".bad.") != NULL;
        CHECK_MSG(want_ok || want_bad, "%s: name it *.ok.* or *.bad.*", path);
        int rc = fn(path);
        CHECK_MSG(want_ok ? rc == 0 : rc != 0, "%s: %s", path, rc == 0 ? "accepted" : "refused");
        n++;
    }
    if (d) closedir(d);
    return n;
}

TEST(fuzz_regressions_replay)
{
    int n = replay_dir("tests/fuzz/regress/config", replay_config);
    n += replay_dir("tests/fuzz/regress/results", replay_results);
    CHECK_MSG(n > 0, "no regression inputs found (run from the repository root)");
}
