/* test_config.c: INI sweep parsing and expansion (harness/core/config*.c; keys from core/params.def).
 *
 * Error messages are captured by pointing file descriptor 2 at a temporary file around
 * attn_config_load() (load_capture below), so the tests check the exact "FILE:LINE:"
 * prefix that a user sees, with no special error API. Good-path configs are written to
 * temporary files; the bad ones live in tests/configs/, one per kind of error, and the
 * tests run from the repository root (as `make test` does).
 */
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/tolerance.h"
#include "core/inputs.h"
#include "test.h"

/* attn_config_load() with stderr captured into msg. */
static int load_capture(const char *path, const char *filter, attn_caselist *l,
                        char *msg, size_t size)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    if (!tmp || saved < 0) {
        msg[0] = '\0';
        return attn_config_load(path, filter, l);
    }
    dup2(fileno(tmp), 2);
    int rc = attn_config_load(path, filter, l);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(msg, 1, size - 1, tmp);
    msg[n] = '\0';
    fclose(tmp);
    return rc;
}

/* Write text to a fresh temporary .ini file; the caller unlinks path. */
static void write_config(char *path, size_t size, const char *text)
{
    snprintf(path, size, "/tmp/attn_test_cfg_XXXXXX.ini");
    int fd = mkstemps(path, 4);
    if (fd < 0) { path[0] = '\0'; return; }
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

/* Load text as a config; returns the load's result, message in msg. */
static int load_text(const char *text, const char *filter, attn_caselist *l, char *msg, size_t size)
{
    char path[64];
    write_config(path, sizeof path, text);
    int rc = load_capture(path, filter, l, msg, size);
    unlink(path);
    return rc;
}

static int n_kernels(void)
{
    int n;
    attn_kernels(&n);
    return n;
}

/* Same problem and run settings (everything but kernel and id). */
static int same_shape(const attn_case *a, const attn_case *b)
{
    return !strcmp(a->sweep, b->sweep) && a->batch == b->batch && a->heads == b->heads &&
           a->kv_heads == b->kv_heads && a->q_len == b->q_len && a->kv_len == b->kv_len &&
           a->head_dim == b->head_dim && a->v_dim == b->v_dim && a->threads == b->threads &&
           a->mask == b->mask && a->pad == b->pad && a->window_left == b->window_left &&
           a->window_right == b->window_right && a->globals == b->globals &&
           a->score == b->score && a->additive_dim == b->additive_dim && a->seed == b->seed;
}

/* ------------------------------------------------------- shipped configs -- */

/* Shapes per kernel in each shipped config, counted by hand from its lists (each file's
 * header comment shows the multiplication):
 *   variants masks 1+1+2+2, cross 3x2x2, gqa 4x2, vdim 3, window 2x2,
 *            window_asym 2x2, globals 2x2, additive 2x2, odd 3x2x2,
 *            window_globals_mixed 3x2x2x2, dtype 2x2x2x2x2         = 113
 * Their sections list kernels = *, so each shape runs every registered kernel. Other
 * configs (benchmarks with named kernels, quick.ini with `unsupported = omit`) must load
 * with unique ids. */
static const struct { const char *file; int shapes; } shipped[] = {
    { "configs/variants.ini", 113 },
};

TEST(config_shipped_files_expand)
{
    glob_t g;
    int nk = n_kernels();
    CHECK(glob("configs/*.ini", 0, NULL, &g) == 0);
    CHECK(g.gl_pathc >= 4);
    for (size_t f = 0; f < g.gl_pathc; f++) {
        const char *path = g.gl_pathv[f];
        int expect = -1;
        for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
            if (!strcmp(shipped[i].file, path)) expect = shipped[i].shapes * nk;

        attn_caselist l;
        char msg[2048];
        int rc = load_capture(path, NULL, &l, msg, sizeof msg);
        CHECK_MSG(rc == 0, "%s: %s", path, msg);
        if (rc) continue;
        if (expect > 0) CHECK_MSG(l.n == expect, "%s: %d cases, expected %d", path, l.n, expect);
        for (int i = 0; i < l.n; i++) {
            const attn_case *c = &l.cases[i];
            /* kernel-minor: the kernels of one shape are adjacent, in registry order */
            if (expect > 0) {
                CHECK(c->kernel == &attn_kernels(&nk)[i % nk]);
                if (i % nk) CHECK(same_shape(c, &l.cases[i - i % nk]));
            }
            CHECK(c->heads % c->kv_heads == 0);
            CHECK(!strcmp(c->file, path) && c->line > 0);
            CHECK(c->id[0] != '\0');
            for (int j = 0; j < i; j++)
                CHECK_MSG(strcmp(c->id, l.cases[j].id) != 0, "%s: duplicate id %s", path, c->id);
        }
        attn_caselist_free(&l);
        CHECK(l.cases == NULL && l.n == 0);
    }
    globfree(&g);
}

/* Cases of kernel k in l. */
static int cases_of(const attn_caselist *l, const attn_kernel *k)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) n += l->cases[i].kernel == k;
    return n;
}

/* quick.ini is what CI and `make bench` run: every registered kernel is in it, and with
 * `unsupported = omit` every case it generates is one its kernel can run. */
TEST(config_quick_covers_every_kernel_with_runnable_cases)
{
    attn_caselist l;
    char msg[2048];
    int nk, rc = load_capture("configs/quick.ini", NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (rc) return;
    const attn_kernel *reg = attn_kernels(&nk);
    for (int k = 0; k < nk; k++)
        CHECK_MSG(cases_of(&l, &reg[k]) > 0, "kernel %s has no case in configs/quick.ini", reg[k].name);
    for (int i = 0; i < l.n; i++)
        CHECK_MSG(!(attn_case_needs(&l.cases[i]) & ~l.cases[i].kernel->caps) &&
                  attn_kernel_accepts(l.cases[i].kernel, l.cases[i].dtype),
                  "%s: its kernel cannot run it", l.cases[i].id);
    attn_caselist_free(&l);
}

/* seqlen.ini with `unsupported = omit`: 6 seq_len x 2 mask x 2 threads = 24 shapes for a
 * multi-threaded dot kernel, the 12 one-thread shapes for a single-threaded one, none for
 * a kernel without the dot score or one that does not take f32 inputs. */
TEST(config_seqlen_gives_each_kernel_the_shapes_it_can_run)
{
    attn_caselist l;
    char msg[2048];
    int nk, rc = load_capture("configs/seqlen.ini", NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (rc) return;
    const attn_kernel *reg = attn_kernels(&nk);
    for (int k = 0; k < nk; k++) {
        int n = cases_of(&l, &reg[k]);
        int want = !(reg[k].caps & ATTN_CAP_DOT) || !attn_kernel_accepts(&reg[k], ATTN_F32) ? 0
                 : (reg[k].caps & ATTN_CAP_THREADS) ? 24 : 12;
        CHECK_MSG(n == want, "%s: %d cases, expected %d", reg[k].name, n, want);
    }
    attn_caselist_free(&l);
}

TEST(config_unsupported_omit_drops_only_what_cannot_run)
{
    char path[] = "/tmp/attn-omit-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    const char *text = "[s]\nkernels = naive, blocked\nthreads = 1, 2\nunsupported = omit\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    attn_caselist l;
    char msg[2048];
    int rc = load_capture(path, NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (!rc) {
        /* naive and blocked are single-threaded: the threads = 2 cases are not generated */
        CHECK(l.n == 2);
        for (int i = 0; i < l.n; i++) CHECK(l.cases[i].threads == 1);
        attn_caselist_free(&l);
    }
    FILE *f = fopen(path, "w");
    fputs("[s]\nkernels = naive\nunsupported = drop\n", f);
    fclose(f);
    rc = load_capture(path, NULL, &l, msg, sizeof msg);
    CHECK(rc == -1);
    CHECK_MSG(strstr(msg, ":3: unsupported: 'drop' is not one of skip") != NULL, "%s", msg);
    unlink(path);
}

/* ------------------------------------------------------------ bad files -- */

TEST(config_errors_say_file_line_and_what)
{
    static const struct { const char *file; int line; const char *says; } bad[] = {
        { "bad_unknown_key", 5, "unknown key 'colour'; valid keys: name, kernels, batch, heads" },
        { "bad_misspelled_key", 4, "unknown key 'haeds' (did you mean 'heads'?)" },
        { "bad_mask", 5, "mask: 'casual' is not one of none, causal, padding, causal_padding "
                         "(did you mean 'causal'?)" },
        { "bad_empty_list", 4, "seq_len: empty value" },
        { "bad_gqa", 6, "kv_heads 3 does not divide heads 4" },
        { "bad_outside_section", 3, "key 'kernels' is outside any section" },
        { "bad_duplicate_key", 6, "duplicate key 'heads' in section [s] (first set at line 4)" },
        { "bad_range", 4, "seq_len: range '256..8192*1' does not progress" },
        { "bad_kernel", 3, "kernels: unknown kernel 'no_such_kernel'" },
        { "bad_long_line", 4, "line is longer than 199 characters" },
        { "bad_pad", 5, "pad: '1.5' is not a fraction in [0, 1]" },
        { "bad_no_kernels", 6, "section [b] has no 'kernels' key" },
        { "bad_globals", 6, "globals 100 is more than the 64 keys" },
        { "bad_zero_size", 4, "head_dim: '0' is not valid: must be a positive integer" },
        { "bad_syntax", 4, "syntax error" },
        { "bad_header", 5, "syntax error: section header without a closing ']'" },
        { "does_not_exist", 0, "cannot open: No such file or directory" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[128], prefix[160], msg[2048];
        snprintf(path, sizeof path, "tests/configs/%s.ini", bad[i].file);
        if (bad[i].line) snprintf(prefix, sizeof prefix, "%s:%d: %s", path, bad[i].line, bad[i].says);
        else snprintf(prefix, sizeof prefix, "%s: %s", path, bad[i].says);
        attn_caselist l = { (attn_case *)&l, 99 };
        int rc = load_capture(path, NULL, &l, msg, sizeof msg);
        CHECK_MSG(rc == -1, "%s: returned %d", path, rc);
        CHECK(l.cases == NULL && l.n == 0);
        CHECK_MSG(!strncmp(msg, prefix, strlen(prefix)), "expected '%s...', got '%s'", prefix, msg);
        /* exactly one line: the first error only */
        char *nl = strchr(msg, '\n');
        CHECK_MSG(nl && nl[1] == '\0', "not one line: '%s'", msg);
    }
    /* the unknown kernel message lists the registered kernels */
    char msg[2048];
    attn_caselist l;
    CHECK(load_capture("tests/configs/bad_kernel.ini", NULL, &l, msg, sizeof msg) == -1);
    const char *list = strstr(msg, "; kernels: ");
    CHECK(list && strstr(list, "naive"));
}

/* The config text is refused, with `says` in the message (left in msg). */
static void expect_refused(const char *text, const char *says, char *msg, size_t size)
{
    attn_caselist l;
    int rc = load_text(text, NULL, &l, msg, size);
    CHECK_MSG(rc == -1 && l.n == 0, "'%s' was accepted", text);
    CHECK_MSG(strstr(msg, says), "'%s': expected '%s' in '%s'", text, says, msg);
}

TEST(config_value_errors)
{
    static const struct { const char *text; const char *says; } bad[] = {
        { "[s]\nkernels = naive\nheads = 8\nkv_heads = 16\n", ":4: kv_heads 16 does not divide heads 8" },
        { "[s]\nkernels = naive\nseq_len = 8..2\n", ":3: seq_len: range '8..2' is empty" },
        { "[s]\nkernels = naive\nseq_len = 1..8+0\n", ":3: seq_len: range '1..8+0' does not progress" },
        { "[s]\nkernels = naive\nseq_len = 0..8*2\n", ":3: seq_len: '0..8*2' is not valid: must be a positive integer" },
        { "[s]\nkernels = naive\nwindow = 0..8*2\n", "does not progress (a geometric range cannot start at 0)" },
        { "[s]\nkernels = naive\nseq_len = 64, 64\n", ":3: seq_len: the value 64 appears twice" },
        { "[s]\nkernels = naive\nseq_len = 64,,128\n", ":3: seq_len: empty item" },
        { "[s]\nkernels = naive\nseq_len = 1..100000\n", ":3: seq_len: the list expands to more than" },
        { "[s]\nkernels = naive\nwindow = -1\n", ":3: window: '-1' is not valid" },
        { "[s]\nkernels = naive\nwindow_left = -2\n", ":3: window_left: '-2' is not valid" },
        { "[s]\nkernels = naive\nwindow_left = inf, -1\n", ":3: window_left: the value -1 appears twice" },
        { "[s]\nkernels = naive\nscore = dot, additve\n", ":3: score: 'additve' is not one of dot, additive, general (did you mean 'additive'?)" },
        { "[s]\nkernels = naive\nmin_time = 0.1, 0.2\n", ":3: min_time: takes one value" },
        { "[s]\nkernels = naive\ntimeout = 0\n", ":3: timeout: '0' is not valid" },
        { "[s]\nkernels = naive\nreps = 0\n", ":3: reps: '0' is not valid" },
        { "[s]\nkernels = naive\nseed = -3\n", ":3: seed: '-3' is not valid" },
        { "[s]\nkernels = naive\nthreads = two\n", ":3: threads: 'two' is not an integer" },
        { "[s]\nkernels = naive\nname = a b\n", ":3: name: 'a b' is not valid" },
        { "[s]\nkernels = *, naive\n", ":2: kernels: '*' (all kernels) cannot be combined" },
        { "[s]\nkernels = naive, naive\n", ":2: kernels: 'naive' appears twice" },
        { "[s]\nkernels = naiv\n", ":2: kernels: unknown kernel 'naiv' (did you mean 'naive'?)" },
        { "[s]\nkernels = naive\n[t]\nkernels = naive\nname = s\n", ":5: sweep name 's' is already used at line 1" },
        { "; nothing\n", "no [section]" },
        { "[s]\nkernels = naive\n  seq_len = 64\n     128\n", ":4: syntax error" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[2048];
        expect_refused(bad[i].text, bad[i].says, msg, sizeof msg);
    }
}

/* Sizes whose byte counts cannot be represented, or that no machine like this one could
 * hold, are refused at expansion with the line of the size key most to blame. */
TEST(config_sizes_that_cannot_be_held)
{
    static const struct { const char *text, *says; } bad[] = {
        /* B*H*L*D = 2^120 elements: wraps 64 bits many times over */
        { "[s]\nkernels = naive\nbatch = 1073741824\nheads = 1073741824\nseq_len = 1073741824\n"
          "head_dim = 1073741824\n", ":3: batch: the case (batch 1073741824" },
        /* exactly 2^64 elements of q: wraps to 0 */
        { "[s]\nkernels = naive\nbatch = 65536\nheads = 65536\nseq_len = 65536\nhead_dim = 131072\n",
          ":6: head_dim: the case" },
        /* 2^16 * 2^16 * 2^16 * 4 B * 4 tensors = 2^52 bytes: fits size_t, over 128 TiB */
        { "[s]\nkernels = flash\nheads = 65536\nhead_dim = 65536\nseq_len = 65536\n", ":3: heads: the case" },
        /* additive key projections: B*Hkv*A*Lk = 2^50 floats */
        { "[s]\nkernels = naive\nscore = additive\nadditive_dim = 1073741824\nseq_len = 1048576\nhead_dim = 1\n",
          ":4: additive_dim: the case" },
        { "[s]\nkernels = naive\nthreads = 65537\n", ":3: threads: '65537' is too large (at most 65536)" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[2048];
        expect_refused(bad[i].text, bad[i].says, msg, sizeof msg);
        CHECK_MSG(i >= 4 || strstr(msg, "cannot be represented") || strstr(msg, "could ever hold"),
                  "no reason in '%s'", msg);
    }
    /* the limit: 16 x physical memory, never over 2^47; a case exactly at it passes */
    size_t lim = attn_case_bytes_limit();
    CHECK(lim > 0 && lim <= ATTN_CASE_BYTES_CAP);
    attn_case c;
    memset(&c, 0, sizeof c);
    c.batch = c.heads = c.kv_heads = 1; c.head_dim = c.v_dim = 64; c.threads = 1;
    c.q_len = c.kv_len = 1 << 30; c.window_left = c.window_right = -1;
    char why[256];
    size_t in = attn_inputs_bytes(&c);            /* 4 tensors of 2^36 floats = 1 TiB, + 64 B */
    CHECK_MSG(in == ((size_t)1 << 40) + 64, "%zu", in);
    CHECK(attn_case_size_check(&c, in, why, sizeof why) == 0);
    CHECK(attn_case_size_check(&c, in - 1, why, sizeof why) == -1 && strstr(why, "1.0 TiB for its inputs"));
    /* seq_len 1073741824 in a config: refused exactly when 1 TiB is over this machine's limit */
    attn_caselist l;
    char msg[2048];
    int rc = load_text("[s]\nkernels = flash\nseq_len = 1073741824\n", NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == (in > lim ? -1 : 0), "limit %zu, inputs %zu: rc %d: %s", lim, in, rc, msg);
    if (rc == 0) attn_caselist_free(&l);
    else CHECK_MSG(strstr(msg, ":3: seq_len: the case"), "%s", msg);
}

/* ------------------------------------------------------- ranges, defaults -- */

/* The q_len of each case of a one-kernel config whose only list is seq_len. */
static int seq_lens(const char *list, int *out, int max)
{
    char text[256], msg[1024];
    snprintf(text, sizeof text, "[s]\nkernels = naive\nseq_len = %s\n", list);
    attn_caselist l;
    if (load_text(text, NULL, &l, msg, sizeof msg)) return -1;
    int n = l.n < max ? l.n : max;
    for (int i = 0; i < n; i++) out[i] = l.cases[i].q_len;
    attn_caselist_free(&l);
    return n;
}

TEST(config_range_syntax)
{
    static const struct { const char *list; int n; int v[8]; } r[] = {
        { "256..8192*2", 6, { 256, 512, 1024, 2048, 4096, 8192 } },
        { "3..100*3", 4, { 3, 9, 27, 81 } },          /* stops below the end it misses */
        { "1..8", 8, { 1, 2, 3, 4, 5, 6, 7, 8 } },
        { "1..32+10", 4, { 1, 11, 21, 31 } },
        { "3..9+3", 3, { 3, 6, 9 } },                 /* includes the end it reaches */
        { "5..5", 1, { 5 } },
        { " 7 , 2..4 ,100", 5, { 7, 2, 3, 4, 100 } }, /* items keep their order */
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        int v[16];
        int n = seq_lens(r[i].list, v, 16);
        CHECK_MSG(n == r[i].n, "'%s': %d values, expected %d", r[i].list, n, r[i].n);
        for (int j = 0; j < n && j < r[i].n; j++)
            CHECK_MSG(v[j] == r[i].v[j], "'%s'[%d] = %d, expected %d", r[i].list, j, v[j], r[i].v[j]);
    }
}

TEST(config_defaults_and_following_keys)
{
    attn_caselist l;
    char msg[1024];
    int rc = load_text("; comment\n[base]\nkernels = naive\nheads = 2, 4\nhead_dim = 40\n"
                       "seq_len = 64, 100\n", NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (rc) return;
    /* kv_heads, v_dim and kv_len follow per case: 2 heads x 2 seq_len, not a product */
    CHECK(l.n == 4);
    for (int i = 0; i < l.n; i++) {
        const attn_case *c = &l.cases[i];
        CHECK(c->kv_heads == c->heads);
        CHECK(c->v_dim == 40 && c->head_dim == 40);
        CHECK(c->kv_len == c->q_len);
        CHECK(c->batch == 1 && c->threads == 1 && c->mask == MASK_NONE);
        CHECK(c->window_left == -1 && c->window_right == -1 && c->globals == 0);
        CHECK(c->score == ATTN_SCORE_DOT && c->additive_dim == 64);
        CHECK_NEAR(c->pad, 0.25, 0);
        CHECK_NEAR(c->min_time, 0.2, 0);
        CHECK(c->reps == 5);
        CHECK_NEAR(c->timeout, 300, 0);
        CHECK(isnan(c->atol) && isnan(c->rtol));     /* unset: the kernel's own */
        CHECK(attn_case_tol(c).atol == c->kernel->tol[ATTN_F32].atol);
        CHECK(attn_case_tol(c).rtol == c->kernel->tol[ATTN_F32].rtol);
        CHECK(c->seed == 42);
        CHECK(!strcmp(c->sweep, "base"));
        CHECK(c->line == 2 && c->file != NULL);
        CHECK(!strcmp(c->kernel->name, "naive"));
    }
    /* shape-major order: heads outside seq_len */
    CHECK(l.cases[0].heads == 2 && l.cases[0].q_len == 64);
    CHECK(l.cases[1].heads == 2 && l.cases[1].q_len == 100);
    CHECK(l.cases[2].heads == 4 && l.cases[2].q_len == 64);
    attn_caselist_free(&l);
}

TEST(config_explicit_values)
{
    attn_caselist l;
    char msg[1024];
    int rc = load_text("[x]\nname = renamed\nkernels = naive\nbatch = 2\nheads = 8\nkv_heads = 2\n"
                       "head_dim = 32\nv_dim = 48\nseq_len = 10\nkv_len = 30\nthreads = 2\n"
                       "mask = causal_padding\npad = 0.5\nwindow = 16\nwindow_right = none\n"
                       "globals = 3\nscore = additive\nadditive_dim = 12\nmin_time = 0\n"
                       "reps = 7\ntimeout = 9.5\natol = 1e-5\nrtol = 0\nseed = 0x10\n",
                       NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (rc) return;
    CHECK(l.n == 1);
    const attn_case *c = &l.cases[0];
    CHECK(!strcmp(c->sweep, "renamed"));
    CHECK(c->batch == 2 && c->heads == 8 && c->kv_heads == 2);
    CHECK(c->head_dim == 32 && c->v_dim == 48 && c->q_len == 10 && c->kv_len == 30);
    CHECK(c->threads == 2 && c->mask == MASK_CAUSAL_PADDING);
    CHECK_NEAR(c->pad, 0.5, 0);
    CHECK(c->window_left == 16 && c->window_right == -1);   /* window_right overrides */
    CHECK(c->globals == 3 && c->score == ATTN_SCORE_ADDITIVE && c->additive_dim == 12);
    CHECK_NEAR(c->min_time, 0, 0);
    CHECK(c->reps == 7);
    CHECK_NEAR(c->timeout, 9.5, 0);
    CHECK_NEAR(c->atol, 1e-5, 0);
    CHECK_NEAR(c->rtol, 0, 0);
    CHECK(attn_case_tol(c).atol == 1e-5 && attn_case_tol(c).rtol == 0);  /* the config wins */
    CHECK(c->seed == 16);
    attn_caselist_free(&l);
}

TEST(config_irrelevant_values_not_multiplied)
{
    attn_caselist l;
    char msg[1024];
    /* pad matters only for padding masks: none x1 + padding x2 */
    int rc = load_text("[s]\nkernels = naive\nmask = none, padding\npad = 0.1, 0.2\n", NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0 && l.n == 3, "rc %d, %d cases: %s", rc, l.n, msg);
    if (!rc) attn_caselist_free(&l);
    /* additive_dim matters only for additive scores: dot x1 + additive x3 */
    rc = load_text("[s]\nkernels = naive\nscore = dot, additive\nadditive_dim = 8, 16, 32\n", NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0 && l.n == 4, "rc %d, %d cases: %s", rc, l.n, msg);
    if (!rc) attn_caselist_free(&l);
    /* window is overridden on both sides: window_left x window_right only */
    rc = load_text("[s]\nkernels = naive\nwindow = 1, 2, 3\nwindow_left = 0, 5\nwindow_right = inf\n",
                   NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0 && l.n == 2, "rc %d, %d cases: %s", rc, l.n, msg);
    if (!rc) {
        CHECK(l.cases[0].window_left == 0 && l.cases[0].window_right == -1);
        CHECK(l.cases[1].window_left == 5 && l.cases[1].window_right == -1);
        attn_caselist_free(&l);
    }
    /* one override: window still sets the other side */
    rc = load_text("[s]\nkernels = naive\nwindow = 0, 4\nwindow_left = 2\n", NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0 && l.n == 2, "rc %d, %d cases: %s", rc, l.n, msg);
    if (!rc) {
        CHECK(l.cases[0].window_left == 2 && l.cases[0].window_right == -1);
        CHECK(l.cases[1].window_left == 2 && l.cases[1].window_right == 4);
        attn_caselist_free(&l);
    }
}

TEST(config_sections_and_kernel_order)
{
    int nk;
    const attn_kernel *reg = attn_kernels(&nk);
    if (nk < 2) return;     /* needs two kernels */
    char text[512], msg[1024];
    /* the config's kernel order is kept, innermost; sections follow each other */
    snprintf(text, sizeof text, "[one]\nkernels = %s, naive\nseq_len = 8, 16\n\n"
             "[two]\nkernels = naive\nseq_len = 4\n", reg[1].name);
    attn_caselist l;
    int rc = load_text(text, NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (rc) return;
    CHECK(l.n == 5);
    CHECK(l.cases[0].kernel == &reg[1] && l.cases[0].q_len == 8);
    CHECK(!strcmp(l.cases[1].kernel->name, "naive") && l.cases[1].q_len == 8);
    CHECK(l.cases[2].kernel == &reg[1] && l.cases[2].q_len == 16);
    CHECK(!strcmp(l.cases[4].sweep, "two") && l.cases[4].line == 5);
    CHECK(!strcmp(l.cases[0].sweep, "one") && l.cases[0].line == 1);
    attn_caselist_free(&l);
}

TEST(config_kernel_filter)
{
    int nk;
    const attn_kernel *reg = attn_kernels(&nk);
    attn_caselist l;
    char msg[1024];
    /* kernels = * restricted to naive */
    int rc = load_capture("configs/variants.ini", "naive", &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (!rc) {
        CHECK(l.n == 113);
        for (int i = 0; i < l.n; i++) CHECK(!strcmp(l.cases[i].kernel->name, "naive"));
        attn_caselist_free(&l);
    }
    /* a name outside the registry is an error, said with the list of kernels */
    rc = load_capture("configs/variants.ini", "naive, nope", &l, msg, sizeof msg);
    CHECK(rc == -1 && l.n == 0);
    CHECK_MSG(!strncmp(msg, "attnbench run: --kernels: unknown kernel 'nope'", 47), "%s", msg);
    rc = load_capture("configs/variants.ini", "naive,", &l, msg, sizeof msg);
    CHECK(rc == -1 && strstr(msg, "--kernels: empty item"));
    if (nk < 2) return;
    /* the filter keeps the config's order, not its own */
    char filter[256];
    snprintf(filter, sizeof filter, "%s,naive", reg[nk - 1].name);
    rc = load_capture("configs/variants.ini", filter, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (!rc) {
        CHECK(l.cases[0].kernel == attn_kernel_find("naive"));
        CHECK(l.cases[1].kernel == &reg[nk - 1]);
        attn_caselist_free(&l);
    }
    /* a filter that leaves nothing of the config is an error */
    const attn_kernel *other = &reg[0] == attn_kernel_find("naive") ? &reg[1] : &reg[0];
    snprintf(filter, sizeof filter, "%s", other->name);
    rc = load_text("[s]\nkernels = naive\n", filter, &l, msg, sizeof msg);
    CHECK(rc == -1 && strstr(msg, "selects none of the kernels"));
}

TEST(config_accepts_comments_crlf_and_colons)
{
    attn_caselist l;
    char msg[1024];
    int rc = load_text("\xEF\xBB\xBF# hash comment\r\n[s] ; trailing comment\r\n"
                       "  kernels: naive   ; indented, colon\r\n\tseq_len = 16 ; tab\r\n",
                       NULL, &l, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    if (!rc) {
        CHECK(l.n == 1 && l.cases[0].q_len == 16 && l.cases[0].line == 2);
        attn_caselist_free(&l);
    }
}

/* The tunables: `tile = QxK` pairs or tile_q / tile_k lists reach the cases (ids tagged
 * only when set), a kernel that does not allow a value has those cases omitted (said on
 * stderr with the file and line), a value no kernel allows is refused at its line. */
TEST(config_tiles_parse_omit_and_refuse)
{
    char msg[2048];
    attn_caselist l;
    CHECK(load_text("[s]\nkernels = naive, flash\nseq_len = 37\ntile = 16x48, 32x16\n", NULL, &l, msg, sizeof msg) == 0);
    CHECK_MSG(l.n == 2, "%d cases", l.n);
    if (l.n == 2) {
        CHECK(l.cases[0].tile_q == 16 && l.cases[0].tile_k == 48 && l.cases[1].tile_q == 32 && l.cases[1].tile_k == 16);
        CHECK(l.cases[0].tune_from == TUNE_CONFIG && l.cases[0].tune_used[0] == 16 && l.cases[0].tune_used[1] == 48);
        CHECK_MSG(strstr(l.cases[0].id, "-tq16-tk48") != NULL, "id %s", l.cases[0].id);
        CHECK(l.cases[0].kernel == attn_kernel_find("flash"));
    }
    CHECK_MSG(strstr(msg, ":1: note: cases omitted: naive has no tunable tile_q"), "stderr: %s", msg);
    attn_caselist_free(&l);

    /* lists are a product; 0 = not set: the kernel's default, no tag in the id */
    CHECK(load_text("[s]\nkernels = flash\nseq_len = 37\ntile_q = 0, 64\ntile_k = 32, 0\n", NULL, &l, msg, sizeof msg) == 0);
    CHECK_MSG(l.n == 4, "%d cases", l.n);
    if (l.n == 4) {
        CHECK_MSG(strstr(l.cases[0].id, "-tq") == NULL && strstr(l.cases[0].id, "-tk32"), "id %s", l.cases[0].id);
        CHECK(l.cases[1].tile_q == 0 && l.cases[1].tile_k == 0 && l.cases[1].tune_from == TUNE_DEFAULT);
        CHECK(l.cases[1].tune_used[0] > 0 && l.cases[1].tune_used[1] > 0);
        CHECK(l.cases[0].tune_from == TUNE_CONFIG && l.cases[0].tune_used[1] == 32 &&
              l.cases[0].tune_used[0] == l.cases[1].tune_used[0]);   /* the other: default */
    }
    attn_caselist_free(&l);

    /* a kernel without tunables keeps its cases when no tile is set */
    CHECK(load_text("[s]\nkernels = naive\nseq_len = 37\n", NULL, &l, msg, sizeof msg) == 0);
    CHECK(l.n == 1 && l.cases[0].tune_from == TUNE_NONE && l.cases[0].tune_used[0] == 0);
    attn_caselist_free(&l);

    static const struct { const char *text; const char *says; } bad[] = {
        { "[s]\nkernels = flash\ntile = 64\n", ":3: tile: '64' is not tile_q x tile_k" },
        { "[s]\nkernels = flash\ntile = 64x\n", ":3: tile: '64x' is not tile_q x tile_k" },
        { "[s]\nkernels = flash\ntile = 0x64\n", ":3: tile: '0x64': tile_q and tile_k must be from 1 to 1024" },
        { "[s]\nkernels = flash\ntile = 64x64, 64x64\n", ":3: tile: the pair 64x64 appears twice" },
        { "[s]\nkernels = flash\ntile = 64x64\n\ntile_q = 64\n", ":5: tile_q: the section also sets `tile` (line 3)" },
        { "[s]\nkernels = flash\ntile_q = 7\n", ":3: tile_q: 7 is allowed by no kernel (flash 16..1024 step 16" },
        { "[s]\nkernels = flash\ntile = 64x40\n", ":3: tile: 40 is allowed by no kernel" },
        { "[s]\nkernels = flash\ntile_k = 2048\n", ":3: tile_k: '2048' is too large (at most 1024)" },
        { "[s]\nkernels = naive\ntile = 64x64\n", ":1: section [s] produces no case" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_refused(bad[i].text, bad[i].says, msg, sizeof msg);
}
