/* test.h: the smallest test framework that does the job.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-6); }
 *
 * Every TEST in every tests/test_*.c registers itself (no list to maintain);
 * tests/test_main.c runs them all, or those whose name contains argv[1], and ends with
 * the line "N passed, N failed". A test passes when none of its CHECKs failed.
 */
#ifndef ATTN_TEST_H
#define ATTN_TEST_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef void (*test_fn)(void);
/* Remove a directory tree a test made under /tmp (refuses any other path). */
void test_rm_tree(const char *dir);
/* Is process pid running (not gone, not a zombie)? From /proc; 0 where it is missing. */
int test_pid_alive(long pid);
void test_register(const char *name, test_fn fn, const char *file);
void test_fail(const char *file, int line, const char *fmt, ...);

#define TEST(name)                                                          \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void test_reg_##name(void)          \
    { test_register(#name, test_##name, __FILE__); }                        \
    static void test_##name(void)

#define CHECK(cond)                                                         \
    do { if (!(cond)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)

#define CHECK_MSG(cond, ...)                                                \
    do { if (!(cond)) test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

#define CHECK_NEAR(a, b, tol)                                               \
    do { double a_ = (a), b_ = (b);                                         \
         if (!(fabs(a_ - b_) <= (tol)))                                     \
             test_fail(__FILE__, __LINE__, "%s = %.9g, %s = %.9g, |diff| > %g", \
                       #a, a_, #b, b_, (double)(tol)); } while (0)

/* tests/test_util.c: for tests that run build/attnbench ($ATTNBENCH) */
const char *test_bin(void);
/* One temporary directory for the whole test run, removed at exit. */
const char *test_tmpdir(void);
/* Run a shell command; its exit status, its stderr captured into err (if given). */
int test_sh(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void test_write_text(const char *path, const char *text);
/* Cases in DIR/results.json, or -1 when it cannot be read. */
int test_count_cases(const char *dir);

#endif
