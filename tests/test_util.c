/* test_util.c: what tests that run the binary share: its path, one temporary folder
 * (removed at exit unless ATTN_KEEP_TMP is set), a shell runner and a file writer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "record/results.h"
#include "test.h"

const char *test_bin(void)
{
    /* absolute, so a test may cd elsewhere first */
    static char path[4096];
    if (!path[0]) {
        const char *b = getenv("ATTNBENCH");
        if (!b) b = "build/attnbench";
        if (!realpath(b, path)) snprintf(path, sizeof path, "%s", b);
    }
    return path;
}

static char tmp_root[256];

const char *test_tmpdir(void)
{
    if (!tmp_root[0]) {
        snprintf(tmp_root, sizeof tmp_root, "/tmp/attnbench-test-XXXXXX");
        if (!mkdtemp(tmp_root)) { perror("mkdtemp"); exit(2); }
    }
    return tmp_root;
}

__attribute__((destructor)) static void remove_tmp(void)
{
    if (!tmp_root[0] || getenv("ATTN_KEEP_TMP")) return;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
}

/* Run a shell command; returns its exit status, stderr captured into err (if given). */
int test_sh(char *err, size_t errlen, const char *fmt, ...)
{
    char cmd[4096], errfile[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", test_tmpdir());
    char full[5000];
    snprintf(full, sizeof full, "%s 2>%s >/dev/null", cmd, errfile);
    int st = system(full);
    if (err) {
        err[0] = 0;
        char *text = attn_read_file(errfile, NULL);
        if (text) { snprintf(err, errlen, "%s", text); free(text); }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void test_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(text, f);
    fclose(f);
}


/* Cases in a results directory, or -1 when it cannot be read. */
int test_count_cases(const char *dir)
{
    char err[512];
    cJSON *doc = attn_results_load(dir, err, sizeof err);
    if (!doc) return -1;
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases"));
    cJSON_Delete(doc);
    return n;
}
