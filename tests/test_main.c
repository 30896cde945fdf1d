/* test_main.c: runs every registered TEST; see test.h. */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"

#define MAX_TESTS 1024

typedef struct { const char *name; test_fn fn; const char *file; int order; } test_entry;
static test_entry tests[MAX_TESTS];
static int n_tests;
static int cur_failures;

void test_register(const char *name, test_fn fn, const char *file)
{
    if (n_tests == MAX_TESTS) { fprintf(stderr, "test.h: more than %d tests\n", MAX_TESTS); exit(2); }
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    tests[n_tests].file = file;
    tests[n_tests].order = n_tests;
    n_tests++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    if (cur_failures++ < 10) {      /* first ten failures of a test, then quiet */
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "  %s:%d: ", file, line);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

int test_pid_alive(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

void test_rm_tree(const char *dir)
{
    if (strncmp(dir, "/tmp/", 5) != 0) return;      /* only what tests made */
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[4200];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0) test_rm_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static int by_file_then_order(const void *a, const void *b)
{
    const test_entry *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : x->order - y->order;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    /* constructors run in link order; a stable order by file keeps logs comparable */
    qsort(tests, n_tests, sizeof tests[0], by_file_then_order);
    for (int i = 0; i < n_tests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        cur_failures = 0;
        tests[i].fn();
        if (cur_failures) {
            fprintf(stderr, "FAIL %s (%s, %d checks failed)\n", tests[i].name, tests[i].file, cur_failures);
            failed++;
        } else {
            fprintf(stderr, "ok   %s\n", tests[i].name);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
