/* test_case.c: case names and ids, the attended-pair count, and the input tensors. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "test.h"
#include "core/case.h"
#include "core/inputs.h"

static attn_case base_case(void)
{
    attn_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.sweep, sizeof c.sweep, "quick");
    c.kernel = attn_kernel_find("naive");
    c.batch = 1; c.heads = 8; c.kv_heads = 8; c.q_len = 256; c.kv_len = 256;
    c.head_dim = 64; c.v_dim = 64; c.threads = 1;
    c.mask = MASK_NONE; c.pad = 0.25;
    c.window_left = c.window_right = -1;
    c.score = ATTN_SCORE_DOT; c.additive_dim = 64;
    c.seed = 42;
    return c;
}

TEST(case_names_roundtrip)
{
    for (int m = 0; m < 4; m++) {
        attn_mask got;
        CHECK(attn_mask_parse(attn_mask_name((attn_mask)m), &got) == 0 && got == (attn_mask)m);
    }
    for (int s = 0; s < 2; s++) {
        attn_score got;
        CHECK(attn_score_parse(attn_score_name((attn_score)s), &got) == 0 && got == (attn_score)s);
    }
    attn_mask m;
    attn_score sc;
    CHECK(attn_mask_parse("casual", &m) != 0);
    CHECK(attn_score_parse("dotty", &sc) != 0);
    CHECK(strcmp(attn_mask_name(MASK_CAUSAL_PADDING), "causal_padding") == 0);
}

/* Brute force with attn_allowed over every (b, i, j), on the same tables the tensors use. */
static double brute_pairs(const attn_case *c)
{
    attn_inputs in;
    if (attn_inputs_make(c, &in) != 0) return -1;
    double n = 0;
    for (int b = 0; b < c->batch; b++)
        for (int i = 0; i < c->q_len; i++)
            for (int j = 0; j < c->kv_len; j++) n += attn_allowed(&in.p, b, i, j);
    attn_inputs_free(&in);
    return n * c->heads;
}

double test_brute_bytes(const attn_case *c, int eb);     /* tests/test_roofline.c */

/* Pairs and bytes against brute force on a grid: length 1, primes, Lq != Lk both ways,
 * every mask, a fully padded item (pad 1.0), windows on either side, globals, MHA, GQA
 * and MQA, Dv != D, additive. */
TEST(case_pairs_match_brute_force)
{
    static const int lens[][2] = { { 1, 1 }, { 1, 7 }, { 1, 13 }, { 7, 7 }, { 9, 9 }, { 5, 12 },
                                   { 12, 5 }, { 17, 17 }, { 17, 31 } };
    static const double pads[] = { 0.3, 1.0 };
    static const int wins[][2] = { { -1, -1 }, { 2, 2 }, { 3, 0 }, { 0, 5 }, { 0, 0 }, { -1, 1 }, { 4, -1 } };
    static const int globals[] = { 0, 1, 3 };
    static const int heads[][2] = { { 4, 4 }, { 4, 2 }, { 6, 1 } };
    int checked = 0;
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
        for (int m = 0; m < 4; m++)
            for (size_t pd = 0; pd < 2; pd++)
                for (size_t w = 0; w < sizeof wins / sizeof wins[0]; w++)
                    for (size_t g = 0; g < 3; g++) {
                        if (!(m & MASK_PADDING) && pd > 0) continue;
                        attn_case c = base_case();
                        size_t hk = (l + w + g) % 3;
                        c.batch = 3;
                        c.heads = heads[hk][0];
                        c.kv_heads = heads[hk][1];
                        c.head_dim = 3; c.v_dim = (int)(2 + l % 3);
                        c.q_len = lens[l][0]; c.kv_len = lens[l][1];
                        c.mask = (attn_mask)m; c.pad = pads[pd];
                        c.window_left = wins[w][0]; c.window_right = wins[w][1];
                        c.globals = globals[g] < c.kv_len ? globals[g] : 0;
                        if ((l + w) % 5 == 0) { c.score = ATTN_SCORE_ADDITIVE; c.additive_dim = 4; }
                        double fast = attn_case_pairs(&c), slow = brute_pairs(&c);
                        double by = attn_case_bytes(&c, 4), by_slow = test_brute_bytes(&c, 4);
                        CHECK_MSG(fast == slow && by == by_slow,
                                  "q%d k%d h%d/%d mask %s pad %g window (%d,%d) globals %d %s: "
                                  "pairs %.0f, brute force %.0f; bytes %.0f, brute force %.0f",
                                  c.q_len, c.kv_len, c.heads, c.kv_heads, attn_mask_name(c.mask), c.pad,
                                  c.window_left, c.window_right, c.globals, attn_score_name(c.score),
                                  fast, slow, by, by_slow);
                        checked++;
                    }
    CHECK(checked > 1000);
}


/* The closed forms (pairs, and the keys attn_case_bytes counts) against brute force on
 * random shapes: lengths 1..40 (Lq < Lk, Lq > Lk, primes), every mask, pads up to 1,
 * windows on either side or both (0 included), 0 to Lk global tokens, 1 to 5 items. */
TEST(case_pairs_random_shapes_match_brute_force)
{
    uint64_t s = 12345;
    int checked = 0;
    for (int t = 0; t < 3000; t++) {
        attn_case c = base_case();
        c.heads = c.kv_heads = 1; c.head_dim = c.v_dim = 1;
#define RND(n) (int)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (n)
        c.batch = 1 + RND(5);
        c.q_len = 1 + RND(40);
        c.kv_len = RND(3) == 0 ? c.q_len : 1 + RND(40);
        c.mask = (attn_mask)RND(4);
        c.pad = RND(5) * 0.25;
        c.window_left = RND(3) == 0 ? -1 : RND(12);
        c.window_right = RND(3) == 0 ? -1 : RND(12);
        c.globals = RND(3) == 0 ? 0 : RND(c.kv_len + 1);
#undef RND
        double fast = attn_case_pairs(&c), slow = brute_pairs(&c);
        double by = attn_case_bytes(&c, 4), by_slow = test_brute_bytes(&c, 4);
        CHECK_MSG(fast == slow && by == by_slow, "b%d q%d k%d mask %s pad %g window (%d,%d) "
                  "globals %d: pairs %.0f, brute force %.0f; bytes %.0f, brute force %.0f",
                  c.batch, c.q_len, c.kv_len, attn_mask_name(c.mask), c.pad, c.window_left,
                  c.window_right, c.globals, fast, slow, by, by_slow);
        if (fast != slow || by != by_slow) break;
        checked++;
    }
    CHECK(checked == 3000);
}

/* The largest lengths a config accepts are counted in closed form, not row by row: pairs,
 * FLOPs and bytes of a 2^30-token case with padding, a window and global tokens take well
 * under a second (measured: microseconds). */
TEST(case_pairs_of_a_billion_tokens_are_instant)
{
    attn_case c = base_case();
    c.batch = 8; c.heads = c.kv_heads = 1;
    c.q_len = c.kv_len = 1 << 30;
    c.mask = MASK_CAUSAL_PADDING; c.pad = 0.5;
    c.window_left = 4096; c.window_right = 0; c.globals = 64;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double pairs = attn_case_pairs(&c), flops = attn_case_flops(&c), bytes = attn_case_bytes(&c, 4);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    CHECK_MSG(dt < 0.5, "counting took %.3f s", dt);
    /* each row sees at most its window (4097 keys) plus the 64 globals, or all keys */
    CHECK(pairs > 0 && pairs < 8.0 * (1 << 30) * (4097 + 64) + 8.0 * 64 * (1 << 30));
    CHECK(flops == pairs * 4 * 64);
    CHECK(bytes > 8.0 * (1 << 30) * 128 * 4 && bytes <= 8.0 * (1 << 30) * 256 * 4);
    /* every key global: every row a global query, seeing all keys below min(kv_b, i + 1) */
    c.globals = 1 << 30;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pairs = attn_case_pairs(&c);
    bytes = attn_case_bytes(&c, 4);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    dt = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    CHECK_MSG(dt < 0.5, "counting with 2^30 global tokens took %.3f s", dt);
    double want = 0, L = 1 << 30;
    for (int b = 0; b < 8; b++) {
        double kv = attn_kv_length(&c, b);
        want += kv * (kv + 1) / 2 + (L - kv) * kv;
    }
    CHECK_MSG(fabs(pairs - want) <= 1e-12 * want, "pairs %.17g, expected %.17g", pairs, want);
    CHECK(bytes > 0);
    c.mask = MASK_NONE; c.window_left = c.window_right = -1; c.globals = 0;
    CHECK(attn_case_pairs(&c) == 8.0 * (1 << 30) * (double)(1 << 30));
    /* 2^30 padded batch items of one token: counted per run of equal lengths, not per item */
    c.batch = 1 << 30; c.q_len = c.kv_len = 1; c.mask = MASK_PADDING; c.pad = 0.5;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pairs = attn_case_pairs(&c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    dt = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    CHECK_MSG(dt < 0.5, "counting 2^30 items took %.3f s", dt);
    CHECK(pairs == (double)(1 << 30) - 1);      /* the last item loses round(0.5) = 1 key */
}

TEST(case_pairs_and_flops)
{
    attn_case c = base_case();
    c.batch = 2; c.q_len = c.kv_len = 100;
    CHECK(attn_case_pairs(&c) == 2.0 * 8 * 100 * 100);
    c.mask = MASK_CAUSAL;
    CHECK(attn_case_pairs(&c) == 2.0 * 8 * 100 * 101 / 2);
    CHECK(attn_case_flops(&c) == attn_case_pairs(&c) * 4 * 64);
    c.mask = MASK_PADDING; c.pad = 1.0;      /* item 0 loses 50 keys, item 1 all */
    CHECK(attn_case_pairs(&c) == 8.0 * 100 * 50);
    c.mask = MASK_NONE; c.score = ATTN_SCORE_ADDITIVE; c.additive_dim = 16;
    double pairs = attn_case_pairs(&c);
    CHECK(attn_case_flops(&c) == pairs * (3 * 16 + 2 * 64) + 2.0 * 16 * 64 * 200 * 2 * 8);
}

TEST(case_pairs_large_is_fast)
{
    /* closed form: a million-long sequence counts instantly */
    attn_case c = base_case();
    c.q_len = c.kv_len = 1 << 20; c.heads = 1; c.kv_heads = 1;
    c.mask = MASK_CAUSAL; c.window_left = 255; c.window_right = 0; c.globals = 4;
    double pairs = attn_case_pairs(&c);
    CHECK(pairs > 256.0 * (1 << 20) - 1e6 && pairs < 261.0 * (1 << 20) + 4.0 * (1 << 20));
}

TEST(case_ids_unique_and_safe)
{
    enum { N = 24 };
    attn_case cs[N];
    for (int i = 0; i < N; i++) cs[i] = base_case();
    cs[1].kernel = attn_kernel_find("blocked");
    cs[2].batch = 2;
    cs[3].heads = 16; cs[3].kv_heads = 16;
    cs[4].kv_heads = 2;
    cs[5].q_len = 512;
    cs[6].kv_len = 512;
    cs[7].head_dim = 128;
    cs[8].v_dim = 32;
    cs[9].threads = 2;
    cs[10].mask = MASK_CAUSAL;
    cs[11].mask = MASK_PADDING;
    cs[12].mask = MASK_PADDING; cs[12].pad = 0.5;
    cs[13].mask = MASK_CAUSAL_PADDING;
    cs[14].window_left = 16;
    cs[15].window_right = 16;
    cs[16].window_left = 16; cs[16].window_right = 16;
    cs[17].globals = 2;
    cs[18].score = ATTN_SCORE_ADDITIVE;
    cs[19].score = ATTN_SCORE_ADDITIVE; cs[19].additive_dim = 32;
    snprintf(cs[20].sweep, sizeof cs[20].sweep, "long");
    snprintf(cs[21].sweep, sizeof cs[21].sweep, "a/b c");     /* unsafe characters */
    cs[22].mask = MASK_PADDING; cs[22].pad = 0.25 + 1e-12;    /* pads that print alike at %g */
    cs[23].window_left = 0; cs[23].window_right = 0;
    for (int i = 0; i < N; i++) {
        attn_case_make_id(&cs[i]);
        CHECK_MSG(strpbrk(cs[i].id, "/ \\:*?\"<>|") == NULL, "unsafe id '%s'", cs[i].id);
        for (int j = 0; j < i; j++)
            CHECK_MSG(strcmp(cs[i].id, cs[j].id) != 0, "cases %d and %d share id '%s'", i, j, cs[i].id);
    }
    /* parameters that do not change the measurement do not change the id */
    attn_case a = base_case(), b = base_case();
    b.pad = 0.9; b.additive_dim = 7; b.seed = 1;
    attn_case_make_id(&a);
    attn_case_make_id(&b);
    CHECK_MSG(strcmp(a.id, b.id) == 0, "'%s' vs '%s'", a.id, b.id);
    CHECK(strstr(a.id, "naive") != NULL && strstr(a.id, "quick") == a.id);
}

TEST(inputs_deterministic_and_kernel_independent)
{
    attn_case a = base_case(), b = base_case();
    a.q_len = a.kv_len = 33; a.heads = a.kv_heads = 2;
    b = a;
    b.kernel = attn_kernel_find("blocked");
    b.threads = 3;
    b.mask = MASK_CAUSAL;
    attn_inputs x, y;
    CHECK(attn_inputs_make(&a, &x) == 0);
    CHECK(attn_inputs_make(&b, &y) == 0);
    size_t nq = (size_t)a.batch * a.heads * a.q_len * a.head_dim;
    CHECK(memcmp(x.q, y.q, nq * sizeof(float)) == 0);
    CHECK(memcmp(x.v, y.v, (size_t)a.batch * a.kv_heads * a.kv_len * a.v_dim * sizeof(float)) == 0);
    CHECK(((uintptr_t)x.q % 64) == 0 && ((uintptr_t)x.k % 64) == 0 && ((uintptr_t)x.out % 64) == 0);
    double mn = 1, mx = -1, sum = 0;
    for (size_t e = 0; e < nq; e++) {
        mn = fmin(mn, x.q[e]); mx = fmax(mx, x.q[e]); sum += x.q[e];
    }
    CHECK(mn >= -1 && mx < 1 && mn < -0.9 && mx > 0.9 && fabs(sum / nq) < 0.05);
    CHECK(memcmp(x.q, x.k, 64 * sizeof(float)) != 0);   /* separate streams */
    CHECK(x.p.kv_len == NULL && y.p.causal == 1 && x.p.scale == 0.125f);
    attn_inputs_free(&y);

    a.seed = 43;
    CHECK(attn_inputs_make(&a, &y) == 0);
    CHECK(memcmp(x.q, y.q, nq * sizeof(float)) != 0);
    attn_inputs_free(&x);
    attn_inputs_free(&y);
    CHECK(attn_inputs_bytes(&a) >= (nq * 2 + 2 * 33 * 64 * 2) * sizeof(float));
}

TEST(inputs_mask_tables)
{
    attn_case c = base_case();
    c.batch = 4; c.kv_len = 10; c.q_len = 10; c.mask = MASK_PADDING; c.pad = 1.0;
    int kv[4];
    attn_kv_lengths(&c, kv);
    CHECK(kv[0] == 10 - 3 && kv[1] == 10 - 5 && kv[2] == 10 - 8 && kv[3] == 0);  /* round(2.5) = 3 */
    c.mask = MASK_CAUSAL;
    attn_kv_lengths(&c, kv);
    CHECK(kv[0] == 10 && kv[3] == 10);

    c.globals = 3;
    int g[3];
    CHECK(attn_global_positions(&c, g) == 3 && g[0] == 0 && g[1] == 3 && g[2] == 6);
    attn_inputs in;
    c.score = ATTN_SCORE_ADDITIVE; c.additive_dim = 5;
    CHECK(attn_inputs_make(&c, &in) == 0);
    CHECK(in.p.n_globals == 3 && in.p.key_is_global[3] == 1 && in.p.key_is_global[4] == 0);
    CHECK(in.p.wq && in.p.wk && in.p.va && in.p.A == 5);
    float lim = 1.0f / 8.0f;    /* 1/sqrt(64) */
    for (int e = 0; e < 5 * 64; e++) CHECK(fabsf(in.wq[e]) <= lim);
    attn_inputs_free(&in);
}
