/* test_dtype.c: the dtype case parameter (issue 12) and what it relies on.
 *
 *   conversions   every one of the 65536 bf16 / f16 values widens to the float it names
 *                 and rounds back to itself; the midpoint between two neighbours rounds to
 *                 the even one, a float one ulp either side of it to the nearer one; NaN,
 *                 inf, overflow, subnormals and signed zeros by hand
 *   inputs        a bf16/f16 case draws the f32 case's numbers, rounded: the float copies
 *                 hold exactly the widened 16-bit values, and the bytes are counted
 *   config, ids   dtype = f32 (the default) leaves ids as they were; bf16/f16 add a tag;
 *                 a bad value is FILE:LINE; `unsupported = omit` drops kernels that do not
 *                 accept the dtype, `skip` records them skipped naming the dtype
 * Kernels on bf16/f16 inputs are checked against naive in test_kernels.c (every dtype).
 */
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "attn.h"
#include "core/case.h"
#include "core/config.h"
#include "core/inputs.h"
#include "core/ref64.h"
#include "core/runner.h"
#include "core/tolerance.h"
#include "record/dump.h"
#include "record/results.h"

static uint32_t fbits(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static float ffrom(uint32_t u)
{
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static int is_nan_f(float x) { return x != x; }

/* -------------------------------------------------------------------- bf16 -- */

TEST(dtype_bf16_every_value_round_trips)
{
    for (uint32_t h = 0; h < 0x10000; h++) {
        float x = attn_bf16_to_f32((uint16_t)h);
        CHECK_MSG(fbits(x) == h << 16, "bf16 %#06x widens to %#010x", h, fbits(x));
        uint16_t back = attn_f32_to_bf16(x);
        if ((h & 0x7fff) > 0x7f80) {                /* NaN: stays NaN, quiet, same sign */
            CHECK_MSG((back & 0x7fff) > 0x7f80 && (back & 0x40) && (back & 0x8000) == (h & 0x8000),
                      "bf16 NaN %#06x -> %#06x", h, back);
        } else {
            CHECK_MSG(back == h, "bf16 %#06x -> %g -> %#06x", h, x, back);
        }
    }
}

/* Between neighbours a < b (as bf16 bit patterns h, h + 1 of the same sign): the midpoint
 * goes to the even pattern, one float ulp below it to a, above it to b. */
TEST(dtype_bf16_ties_to_even_and_nearest)
{
    int bad = 0;
    for (uint32_t h = 0; h < 0x7f80 && bad < 5; h++) {
        for (uint32_t s = 0; s < 2; s++) {
            uint32_t lo = (s << 15) | h;
            uint32_t mid = (lo << 16) | 0x8000;     /* exactly halfway to lo + 1 */
            uint16_t even = (lo & 1) ? (uint16_t)(lo + 1) : (uint16_t)lo;
            if (attn_f32_to_bf16(ffrom(mid)) != even) bad++;
            if (attn_f32_to_bf16(ffrom(mid - 1)) != lo) bad++;
            if (attn_f32_to_bf16(ffrom(mid + 1)) != (uint16_t)(lo + 1)) bad++;
        }
    }
    CHECK_MSG(bad == 0, "%d bf16 rounding errors", bad);
    CHECK(attn_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);             /* tie, to even (1) */
    CHECK(attn_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);         /* tie, to even (up) */
    CHECK(attn_f32_to_bf16(3.4028235e38f) == 0x7f80);             /* FLT_MAX rounds to inf */
    CHECK(attn_f32_to_bf16(-INFINITY) == 0xff80 && attn_f32_to_bf16(INFINITY) == 0x7f80);
    CHECK(attn_f32_to_bf16(-0.0f) == 0x8000 && attn_f32_to_bf16(0.0f) == 0);
    CHECK(attn_f32_to_bf16(ffrom(0x00000001)) == 0);               /* smallest subnormal: 0 */
    CHECK(attn_f32_to_bf16(ffrom(0x00018000)) == 0x0002);          /* subnormal tie, to even */
    CHECK(attn_f32_to_bf16(ffrom(0x7f800001)) == 0x7fc0);          /* sNaN, low payload: quiet */
    CHECK(attn_f32_to_bf16(ffrom(0xffffffff)) == 0xffff);
    CHECK(is_nan_f(attn_bf16_to_f32(attn_f32_to_bf16(NAN))));
}

/* --------------------------------------------------------------------- f16 -- */

/* The float value of binary16 h computed from its definition with ldexp. */
static double f16_value(uint32_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
    return (h & 0x8000) ? -v : v;
}

TEST(dtype_f16_every_value_round_trips)
{
    for (uint32_t h = 0; h < 0x10000; h++) {
        float x = attn_f16_to_f32((uint16_t)h);
        uint16_t back = attn_f32_to_f16(x);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) {     /* NaN */
            CHECK_MSG(is_nan_f(x) && (back & 0x7fff) > 0x7c00 && (back & 0x200) &&
                      (back & 0x8000) == (h & 0x8000), "f16 NaN %#06x -> %g -> %#06x", h, x, back);
            continue;
        }
        if ((h & 0x7fff) == 0x7c00) {
            CHECK(isinf(x) && (x < 0) == ((h & 0x8000) != 0));
        } else {
            CHECK_MSG((double)x == f16_value(h), "f16 %#06x widens to %.9g, want %.9g", h, x, f16_value(h));
            CHECK_MSG((signbit(x) != 0) == ((h & 0x8000) != 0), "f16 %#06x: sign", h);
        }
        CHECK_MSG(back == h, "f16 %#06x -> %.9g -> %#06x", h, x, back);
    }
}

TEST(dtype_f16_ties_to_even_and_nearest)
{
    int bad = 0;
    for (uint32_t h = 0; h < 0x7c00 && bad < 5; h++) {
        for (uint32_t s = 0; s < 2; s++) {
            uint16_t lo = (uint16_t)((s << 15) | h), hi = (uint16_t)(lo + 1);
            /* exact midpoint in float (every f16 midpoint is a float), and a float ulp off */
            float a = attn_f16_to_f32(lo);
            float b = h + 1 == 0x7c00 ? (s ? -65536.0f : 65536.0f) : attn_f16_to_f32(hi);
            float mid = (float)(((double)a + (double)b) / 2);
            CHECK_MSG((double)mid == ((double)a + (double)b) / 2, "midpoint of %#06x not exact", lo);
            uint16_t even = (lo & 1) ? hi : lo;
            uint16_t got = attn_f32_to_f16(mid);
            if (got != even) { bad++; test_fail(__FILE__, __LINE__, "tie %.9g -> %#06x, want %#06x", mid, got, even); }
            float below = nextafterf(mid, a), above = nextafterf(mid, b);
            if (attn_f32_to_f16(below) != lo) { bad++; test_fail(__FILE__, __LINE__, "%.9g -> %#06x", below, attn_f32_to_f16(below)); }
            if (attn_f32_to_f16(above) != hi) { bad++; test_fail(__FILE__, __LINE__, "%.9g -> %#06x", above, attn_f32_to_f16(above)); }
        }
    }
    CHECK(bad == 0);
    CHECK(attn_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(attn_f32_to_f16(65519.996f) == 0x7bff);             /* just under the tie */
    CHECK(attn_f32_to_f16(65520.0f) == 0x7c00);               /* tie: even is 2^16, inf */
    CHECK(attn_f32_to_f16(-1e30f) == 0xfc00 && attn_f32_to_f16(INFINITY) == 0x7c00);
    CHECK(attn_f32_to_f16(0x1p-24f) == 0x0001);               /* smallest subnormal */
    CHECK(attn_f32_to_f16(0x1p-25f) == 0x0000);               /* tie with 0: even */
    CHECK(attn_f32_to_f16(nextafterf(0x1p-25f, 1)) == 0x0001);
    CHECK(attn_f32_to_f16(-0x1p-26f) == 0x8000);              /* underflow keeps the sign */
    CHECK(attn_f32_to_f16(0x1p-14f - 0x1p-25f) == 0x0400);    /* tie at the top of the subnormals, to even (normal) */
    CHECK(attn_f32_to_f16(1e-40f) == 0 && attn_f32_to_f16(-0.0f) == 0x8000);   /* fp32 subnormal input */
    CHECK(attn_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00);        /* tie, to even (1) */
    CHECK(attn_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02);    /* tie, to even (up) */
    CHECK(attn_f32_to_f16(ffrom(0x7f800001)) == 0x7e00);       /* sNaN, low payload: quiet */
    CHECK(attn_f32_to_f16(ffrom(0xffc00000)) == 0xfe00);
}

/* ------------------------------------------------------------------ inputs -- */

static attn_case small_case(attn_dtype t)
{
    attn_case c;
    memset(&c, 0, sizeof c);
    c.batch = 2; c.heads = 3; c.kv_heads = 1; c.q_len = 7; c.kv_len = 11;
    c.head_dim = 5; c.v_dim = 6; c.threads = 1; c.mask = MASK_CAUSAL;
    c.window_left = c.window_right = -1; c.seed = 99; c.dtype = t;
    return c;
}

TEST(dtype_inputs_are_the_f32_numbers_rounded)
{
    attn_case c32 = small_case(ATTN_F32);
    attn_inputs in32;
    CHECK(attn_inputs_make(&c32, &in32) == 0);
    CHECK(in32.q16 == NULL && in32.p.q16 == NULL && in32.p.dtype == ATTN_F32);
    const size_t nq = 2 * 3 * 7 * 5, nk = 2 * 1 * 11 * 5, nv = 2 * 1 * 11 * 6;
    for (int t = ATTN_BF16; t < ATTN_DTYPE_COUNT; t++) {
        attn_case c = small_case((attn_dtype)t);
        attn_inputs in;
        CHECK(attn_inputs_make(&c, &in) == 0);
        CHECK(in.p.dtype == (attn_dtype)t);
        CHECK(in.p.q16 == in.q16 && in.p.k16 == in.k16 && in.p.v16 == in.v16 && in.q16 && in.k16 && in.v16);
        CHECK(((uintptr_t)in.q16 | (uintptr_t)in.k16 | (uintptr_t)in.v16) % 64 == 0);
        struct { const float *f32, *f; const uint16_t *h; size_t n; } ts[] = {
            { in32.q, in.q, in.q16, nq }, { in32.k, in.k, in.k16, nk }, { in32.v, in.v, in.v16, nv },
        };
        int changed = 0;
        for (int i = 0; i < 3; i++)
            for (size_t e = 0; e < ts[i].n; e++) {
                uint16_t want = t == ATTN_BF16 ? attn_f32_to_bf16(ts[i].f32[e]) : attn_f32_to_f16(ts[i].f32[e]);
                float wide = t == ATTN_BF16 ? attn_bf16_to_f32(ts[i].h[e]) : attn_f16_to_f32(ts[i].h[e]);
                CHECK_MSG(ts[i].h[e] == want && ts[i].f[e] == wide, "%s tensor %d element %zu",
                          attn_dtype_name((attn_dtype)t), i, e);
                changed += ts[i].f[e] != ts[i].f32[e];
            }
        /* 24 random bits do not fit 8 or 11: nearly every value moved */
        CHECK_MSG(changed > (int)(nq + nk + nv) * 9 / 10, "%s: only %d values changed",
                  attn_dtype_name((attn_dtype)t), changed);
        CHECK(attn_inputs_bytes(&c) >= attn_inputs_bytes(&c32) + 2 * (nq + nk + nv));
        /* the roofline's traffic counts q, k, v at storage width, out at fp32 */
        CHECK(attn_case_elem_bytes(&c) == 2 && attn_case_elem_bytes(&c32) == 4);
        double out = 4.0 * 2 * 3 * 7 * 6, b32 = attn_case_bytes(&c32, attn_case_elem_bytes(&c32));
        CHECK_NEAR(attn_case_bytes(&c, attn_case_elem_bytes(&c)) - out, (b32 - out) / 2, 1e-9);
        attn_inputs_free(&in);
    }
    attn_inputs_free(&in32);
}

/* ------------------------------------------------------------ config, ids -- */

static int load_text(const char *text, const char *filter, attn_caselist *l)
{
    char path[512];
    snprintf(path, sizeof path, "%s/dtype.ini", test_tmpdir());
    test_write_text(path, text);
    return attn_config_load(path, filter, l);
}

TEST(dtype_config_ids_and_default)
{
    attn_caselist l;
    CHECK(load_text("[s]\nkernels = naive, flash\nseq_len = 8\n", NULL, &l) == 0);
    CHECK(l.n == 2);
    for (int i = 0; i < l.n; i++) {
        CHECK(l.cases[i].dtype == ATTN_F32);
        CHECK_MSG(!strstr(l.cases[i].id, "f32") && !strstr(l.cases[i].id, "16"), "id %s", l.cases[i].id);
    }
    attn_caselist_free(&l);

    /* unsupported = skip (default): every kernel gets every dtype; omit: only accepted ones */
    CHECK(load_text("[s]\nkernels = naive, flash\nseq_len = 8\ndtype = f32, bf16, f16\n", NULL, &l) == 0);
    CHECK(l.n == 6);
    int tagged = 0;
    for (int i = 0; i < l.n; i++) {
        const char *tag = l.cases[i].dtype == ATTN_BF16 ? "-bf16" : l.cases[i].dtype == ATTN_F16 ? "-f16" : NULL;
        if (tag) {
            size_t n = strlen(l.cases[i].id), m = strlen(tag);
            CHECK_MSG(n > m && !strcmp(l.cases[i].id + n - m, tag), "id %s", l.cases[i].id);
            tagged++;
        }
        for (int j = 0; j < i; j++) CHECK(strcmp(l.cases[i].id, l.cases[j].id) != 0);
    }
    CHECK(tagged == 4);
    attn_caselist_free(&l);

    CHECK(load_text("[s]\nkernels = naive, flash\nseq_len = 8\ndtype = f32, bf16, f16\n"
                    "unsupported = omit\n", NULL, &l) == 0);
    int n_flash = 0;
    for (int i = 0; i < l.n; i++) {
        CHECK(attn_kernel_accepts(l.cases[i].kernel, l.cases[i].dtype));
        n_flash += !strcmp(l.cases[i].kernel->name, "flash");
    }
    CHECK(l.n == 4 && n_flash == 1);        /* naive x 3, flash only f32 */
    attn_caselist_free(&l);
}

TEST(dtype_config_rejects_bad_value_with_line)
{
    attn_caselist l;
    char err[512] = "";
    char path[512];
    snprintf(path, sizeof path, "%s/dtype-bad.ini", test_tmpdir());
    test_write_text(path, "[s]\nkernels = naive\n\ndtype = f32, fp8\n");
    int rc = test_sh(err, sizeof err, "'%s' run '%s' -o '%s/dtype-bad-out' --no-peak", test_bin(), path, test_tmpdir());
    CHECK_MSG(rc == 2, "exit %d", rc);
    char want[600];
    snprintf(want, sizeof want, "%s:4:", path);
    CHECK_MSG(strstr(err, want) && strstr(err, "dtype"), "stderr: %s", err);
    (void)l;
}

/* A kernel that does not accept the case's dtype is skipped naming it; naive validates a
 * bf16 case against float64 of the rounded values under its declared bf16 tolerance. */
TEST(dtype_runner_skips_unaccepted_and_validates_naive)
{
    attn_case c = small_case(ATTN_BF16);
    c.kernel = attn_kernel_find("flash");
    c.min_time = 0; c.reps = 1; c.timeout = 60; c.atol = c.rtol = NAN;
    attn_case_make_id(&c);
    attn_run_opts o;
    memset(&o, 0, sizeof o);
    o.mem_budget = (size_t)1 << 30;
    attn_result r;
    CHECK(attn_run_case(&c, &o, &r) == ST_SKIPPED);
    CHECK_MSG(strstr(r.reason, "does not accept dtype bf16") != NULL, "reason: %s", r.reason);
    attn_result_free(&r);

    c.kernel = attn_kernel_find("naive");
    CHECK(attn_run_case(&c, &o, &r) == ST_OK);
    CHECK(r.val.done && r.val.passed && !strcmp(r.val.against, "float64"));
    attn_tol t = attn_case_tol(&c), d = attn_kernel_tol(c.kernel, ATTN_BF16);
    CHECK(t.atol == d.atol && t.rtol == d.rtol);
    attn_result_free(&r);
}

/* --dump of an f16 case: q.npy holds the rounded values (each an exact f16), case.json
 * says float32 files of f16 storage and params.dtype f16. */
TEST(dtype_dump_writes_rounded_values_and_storage_dtype)
{
    char dir[] = "/tmp/attn_test_dtype_dump_XXXXXX", path[64 + ATTN_ID_MAX];
    CHECK(mkdtemp(dir) != NULL);
    attn_case c = small_case(ATTN_F16);
    c.kernel = attn_kernel_find("naive");
    snprintf(c.sweep, sizeof c.sweep, "unit");
    attn_case_make_id(&c);
    attn_inputs in;
    CHECK(attn_inputs_make(&c, &in) == 0);
    CHECK(attn_dump_case(dir, &c, &in) == 0);

    snprintf(path, sizeof path, "%s/%s/q.npy", dir, c.id);
    size_t len = 0;
    char *npy = attn_read_file(path, &len);
    const size_t nq = 2 * 3 * 7 * 5;
    CHECK(npy && len >= nq * 4 + 64);
    if (npy && len >= nq * 4 + 64) {
        const unsigned char *data = (const unsigned char *)npy + len - nq * 4;   /* little-endian host */
        int exact = 1;
        for (size_t e = 0; e < nq; e++) {
            float x;
            memcpy(&x, data + 4 * e, 4);
            exact &= x == in.q[e] && attn_f16_to_f32(attn_f32_to_f16(x)) == x;
        }
        CHECK(exact);
    }
    free(npy);

    snprintf(path, sizeof path, "%s/%s/case.json", dir, c.id);
    char *text = attn_read_file(path, NULL);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    CHECK(doc != NULL);
    if (doc) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "dtype");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(doc, "storage_dtype");
        const cJSON *pd = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "params"), "dtype");
        CHECK(cJSON_IsString(d) && !strcmp(d->valuestring, "float32"));
        CHECK(cJSON_IsString(sd) && !strcmp(sd->valuestring, "f16"));
        CHECK(cJSON_IsString(pd) && !strcmp(pd->valuestring, "f16"));
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "rounding")));
    }
    cJSON_Delete(doc);
    free(text);
    attn_inputs_free(&in);
    test_rm_tree(dir);
}

/* ---------------------------------------------------------------- flash_f16 -- */

/* flash_f16 widens exactly and then runs flash_avx2's arithmetic: on an f16 problem it
 * matches flash_avx2 run on the float copies of the same values to rounding (identical
 * tiles give identical bits; 1e-6 leaves room for a re-tuned tile size), where a wrong
 * widening or a wrong head offset would be off by 1e-3 or more. It refuses a problem of
 * another dtype or without its 16-bit tensors. */
TEST(dtype_flash_f16_is_flash_avx2_on_the_widened_values)
{
    const attn_kernel *f16 = attn_kernel_find("flash_f16"), *f32 = attn_kernel_find("flash_avx2");
    CHECK(f16 && f32);
    const char *why;
    if (!f16 || !f32 || !attn_kernel_usable(f16, &why) || !attn_kernel_usable(f32, &why)) return;
    attn_case c = small_case(ATTN_F16);
    c.batch = 2; c.heads = 4; c.kv_heads = 2; c.q_len = 150; c.kv_len = 203; c.head_dim = 40;
    c.v_dim = 24; c.mask = MASK_CAUSAL_PADDING; c.pad = 0.3;
    attn_inputs in;
    CHECK(attn_inputs_make(&c, &in) == 0);
    const size_t n_out = (size_t)2 * 4 * 150 * 24;
    float *want = attn_alloc(n_out * sizeof(float)), *got = attn_alloc(n_out * sizeof(float));
    for (int threads = 1; threads <= 2; threads++) {
        void *w1 = attn_alloc(f32->workspace_bytes(&in.p, threads));
        void *w2 = attn_alloc(f16->workspace_bytes(&in.p, threads));
        memset(got, 0xff, n_out * sizeof(float));
        CHECK(f32->run(&in.p, in.q, in.k, in.v, want, w1, threads) == ATTN_OK);
        CHECK(f16->run(&in.p, in.q, in.k, in.v, got, w2, threads) == ATTN_OK);
        double worst = 0;
        for (size_t e = 0; e < n_out; e++) {
            double d = fabs((double)got[e] - want[e]);
            if (!(d <= worst)) worst = isnan(d) ? INFINITY : d;
        }
        CHECK_MSG(worst <= 1e-6, "threads %d: flash_f16 differs from flash_avx2 by %g", threads, worst);
        attn_free(w1);
        attn_free(w2);
    }
    void *w = attn_alloc(f16->workspace_bytes(&in.p, 1));
    attn_problem p = in.p;
    p.k16 = NULL;
    CHECK(f16->run(&p, in.q, in.k, in.v, got, w, 1) == ATTN_ERR_INVALID);
    p = in.p;
    p.dtype = ATTN_BF16;
    CHECK(f16->run(&p, in.q, in.k, in.v, got, w, 1) == ATTN_ERR_UNSUPPORTED);
    p.dtype = ATTN_F32;
    CHECK(f16->run(&p, in.q, in.k, in.v, got, w, 1) == ATTN_ERR_UNSUPPORTED);
    attn_free(w);
    attn_free(want);
    attn_free(got);
    attn_inputs_free(&in);
}

/* flash_bf16 (where the CPU has AVX512-BF16; its correctness on every shape is
 * kernels_match_naive's, in bf16) refuses other dtypes and a problem without its 16-bit
 * tensors, and its error on a long row stays inside the bound it declares, above zero
 * (P is really rounded). */
TEST(dtype_flash_bf16_refuses_and_stays_in_its_bound)
{
    const attn_kernel *k = attn_kernel_find("flash_bf16");
    CHECK(k != NULL);
    const char *why;
    if (!k) return;
    CHECK(k->dtypes == ATTN_DTYPE_BIT(ATTN_BF16) && k->tol[ATTN_BF16].atol < 1e-2);
    if (!attn_kernel_usable(k, &why)) {
        CHECK_MSG(strstr(why, "avx512"), "why: %s", why);
        return;
    }
    attn_case c = small_case(ATTN_BF16);
    c.batch = 1; c.heads = 2; c.kv_heads = 1; c.q_len = 77; c.kv_len = 1500; c.head_dim = 33;
    c.v_dim = 48; c.mask = MASK_CAUSAL;
    attn_inputs in;
    CHECK(attn_inputs_make(&c, &in) == 0);
    const size_t n_out = (size_t)2 * 77 * 48;
    float *got = attn_alloc(n_out * sizeof(float));
    void *w = attn_alloc(k->workspace_bytes(&in.p, 2));
    CHECK(k->run(&in.p, in.q, in.k, in.v, got, w, 2) == ATTN_OK);
    int rows[77];
    for (int i = 0; i < 77; i++) rows[i] = i;
    double *ref = malloc(n_out * sizeof(double)), worst = 0;
    CHECK(attn_ref64_rows(&in.p, in.q, in.k, in.v, rows, 77, ref) == 0);
    for (size_t e = 0; e < n_out; e++) {
        double d = fabs(got[e] - ref[e]);
        if (!(d <= worst)) worst = isnan(d) ? INFINITY : d;
    }
    CHECK_MSG(worst > 0 && worst <= k->tol[ATTN_BF16].atol, "max error %g", worst);
    attn_problem p = in.p;
    p.v16 = NULL;
    CHECK(k->run(&p, in.q, in.k, in.v, got, w, 1) == ATTN_ERR_INVALID);
    p = in.p;
    p.dtype = ATTN_F16;
    CHECK(k->run(&p, in.q, in.k, in.v, got, w, 1) == ATTN_ERR_UNSUPPORTED);
    free(ref);
    attn_free(w);
    attn_free(got);
    attn_inputs_free(&in);
}

/* attn_widen16 is the scalar conversions over an array: every 16-bit value of each dtype
 * (NaNs compared by bits), and nothing past n written. */
TEST(dtype_widen16_is_the_scalar_conversion)
{
    uint16_t *h = malloc(65536 * sizeof *h);
    float *x = malloc(65537 * sizeof *x);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    for (int t = ATTN_BF16; t < ATTN_DTYPE_COUNT; t++) {
        x[65536] = 7.0f;
        attn_widen16((attn_dtype)t, h, 65536, x);
        int bad = 0;
        for (uint32_t i = 0; i < 65536; i++) {
            const float w = t == ATTN_BF16 ? attn_bf16_to_f32(h[i]) : attn_f16_to_f32(h[i]);
            if (fbits(x[i]) != fbits(w) && bad++ < 3)
                test_fail(__FILE__, __LINE__, "%s %#06x: %a, want %a", attn_dtype_name((attn_dtype)t), i, x[i], w);
        }
        CHECK(x[65536] == 7.0f);
    }
    free(h);
    free(x);
}

/* ------------------------------------------------------------ decode kernels -- */

/* The decode kernels stream K and V in the problem's storage: on a bf16 / f16 problem
 * they read q16, k16, v16 (the float copies are poisoned with NaN here, so reading them
 * shows), widen exactly and run the fp32 arithmetic, so the output equals, bit for bit,
 * the same kernel run as f32 on the widened values. A wrong widening, head offset or row
 * stride would differ by far more than an ulp; the shape has D and Dv not multiples of 8
 * (the 16-bit tails), a ragged causal edge and padding, and two key chunks per group at 2
 * threads (the merge). They refuse a problem without its 16-bit tensors, and an unknown
 * dtype. */
TEST(dtype_decode_kernels_read_the_16bit_storage)
{
    static const char *const names[] = { "decode", "decode_avx2" };
    int tested = 0;
    for (int n = 0; n < 2; n++) {
        const attn_kernel *k = attn_kernel_find(names[n]);
        const char *why;
        CHECK(k != NULL);
        if (!k || !attn_kernel_usable(k, &why)) continue;
        for (int t = ATTN_BF16; t < ATTN_DTYPE_COUNT; t++) {
            CHECK(attn_kernel_accepts(k, (attn_dtype)t));
            attn_case c = small_case((attn_dtype)t);
            c.batch = 2; c.heads = 8; c.kv_heads = 2; c.q_len = 3; c.kv_len = 1000;
            c.head_dim = 37; c.v_dim = 20; c.mask = MASK_CAUSAL_PADDING; c.pad = 0.3;
            attn_inputs in;
            CHECK(attn_inputs_make(&c, &in) == 0);
            const size_t n_out = (size_t)2 * 8 * 3 * 20;
            const size_t nq = (size_t)2 * 8 * 3 * 37, nk = (size_t)2 * 2 * 1000 * 37, nv = (size_t)2 * 2 * 1000 * 20;
            float *want = attn_alloc(n_out * sizeof(float)), *got = attn_alloc(n_out * sizeof(float));
            for (int threads = 1; threads <= 2; threads++) {
                attn_problem p32 = in.p;
                p32.dtype = ATTN_F32;
                p32.q16 = p32.k16 = p32.v16 = NULL;
                void *w32 = attn_alloc(k->workspace_bytes(&p32, threads));
                void *w = attn_alloc(k->workspace_bytes(&in.p, threads));
                CHECK(k->run(&p32, in.q, in.k, in.v, want, w32, threads) == ATTN_OK);
                float *fq = malloc(nq * sizeof(float)), *fk = malloc(nk * sizeof(float)),
                      *fv = malloc(nv * sizeof(float));
                for (size_t e = 0; e < nq; e++) fq[e] = NAN;
                for (size_t e = 0; e < nk; e++) fk[e] = NAN;
                for (size_t e = 0; e < nv; e++) fv[e] = NAN;
                memset(got, 0xff, n_out * sizeof(float));
                CHECK(k->run(&in.p, fq, fk, fv, got, w, threads) == ATTN_OK);
                CHECK_MSG(memcmp(got, want, n_out * sizeof(float)) == 0,
                          "%s %s threads %d: differs from the kernel in f32 on the widened values",
                          k->name, attn_dtype_name((attn_dtype)t), threads);
                attn_problem p = in.p;
                p.v16 = NULL;
                CHECK(k->run(&p, fq, fk, fv, got, w, threads) == ATTN_ERR_INVALID);
                p = in.p;
                p.dtype = ATTN_DTYPE_COUNT;
                CHECK(k->run(&p, fq, fk, fv, got, w, threads) == ATTN_ERR_UNSUPPORTED);
                free(fq);
                free(fk);
                free(fv);
                attn_free(w32);
                attn_free(w);
            }
            tested++;
            attn_free(want);
            attn_free(got);
            attn_inputs_free(&in);
        }
    }
    CHECK(tested >= 2);                 /* the portable decode runs everywhere */
}
