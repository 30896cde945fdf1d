/* test_dump.c: the .npy writer and --dump's per-case directory (harness/dump.c).
 *
 * Parses what was written the way NumPy would: magic, version, header length (the whole
 * preamble a multiple of 64, ending in '\n'), the dict's descr/order/shape, and the data
 * bytes after it.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record/dump.h"
#include "record/results.h"
#include "test.h"

/* Check one .npy file: its shape string and that its data equals data[0..count). */
static void check_npy(const char *path, const char *shape_str, const float *data, size_t count)
{
    size_t len = 0;
    char *buf = attn_read_file(path, &len);
    CHECK_MSG(buf != NULL, "%s: cannot read", path);
    if (!buf) return;
    CHECK(len >= 10 && !memcmp(buf, "\x93NUMPY", 6));
    CHECK(buf[6] == 1 && buf[7] == 0);
    size_t hlen = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8);
    CHECK_MSG((10 + hlen) % 64 == 0, "%s: preamble %zu bytes, not a multiple of 64", path, 10 + hlen);
    CHECK(10 + hlen <= len);
    if (10 + hlen > len) { free(buf); return; }
    CHECK(buf[10 + hlen - 1] == '\n');
    char *header = strndup(buf + 10, hlen);
    CHECK(strstr(header, "'descr': '<f4'") != NULL);
    CHECK(strstr(header, "'fortran_order': False") != NULL);
    char want[128];
    snprintf(want, sizeof want, "'shape': %s", shape_str);
    CHECK_MSG(strstr(header, want) != NULL, "%s: header %s lacks %s", path, header, want);
    CHECK(header[0] == '{');
    free(header);
    CHECK_MSG(len - 10 - hlen == count * sizeof(float), "%s: %zu data bytes, want %zu",
              path, len - 10 - hlen, count * sizeof(float));
    if (len - 10 - hlen == count * sizeof(float))
        CHECK(!memcmp(buf + 10 + hlen, data, count * sizeof(float)));   /* x86/Arm: little endian */
    free(buf);
}

TEST(npy_header_and_data)
{
    char dir[] = "/tmp/attn_test_npy_XXXXXX", path[128];
    CHECK(mkdtemp(dir) != NULL);
    float x[2 * 3 * 5];
    for (int i = 0; i < 30; i++) x[i] = (float)i * 0.5f - 3.25f;
    size_t shape3[] = { 2, 3, 5 }, shape1[] = { 30 };
    snprintf(path, sizeof path, "%s/a.npy", dir);
    CHECK(attn_npy_write(path, x, 3, shape3) == 0);
    check_npy(path, "(2, 3, 5)", x, 30);
    snprintf(path, sizeof path, "%s/b.npy", dir);
    CHECK(attn_npy_write(path, x, 1, shape1) == 0);
    check_npy(path, "(30,)", x, 30);             /* a 1-tuple needs its comma */
    test_rm_tree(dir);
}

static float *filled(size_t n, float base)
{
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; a && i < n; i++) a[i] = base + (float)i * 0.001f;
    return a;
}

TEST(dump_case_additive)
{
    enum { B = 2, H = 4, HKV = 2, LQ = 3, LK = 5, D = 6, DV = 7, A = 9 };
    char dir[] = "/tmp/attn_test_dump_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);

    attn_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "unit-fake-additive");
    snprintf(c.sweep, sizeof c.sweep, "unit");
    c.kernel = attn_kernel_find("naive");   /* only its name is recorded */
    c.batch = B; c.heads = H; c.kv_heads = HKV; c.q_len = LQ; c.kv_len = LK;
    c.head_dim = D; c.v_dim = DV; c.threads = 1; c.mask = MASK_CAUSAL_PADDING; c.pad = 0.25;
    c.window_left = 2; c.window_right = -1; c.globals = 1; c.score = ATTN_SCORE_ADDITIVE;
    c.additive_dim = A; c.seed = 7;

    int kv_len[B] = { 4, 3 }, gpos[1] = { 2 };
    uint8_t is_global[LK] = { 0, 0, 1, 0, 0 };
    attn_inputs in;
    memset(&in, 0, sizeof in);
    in.q = filled((size_t)B * H * LQ * D, 0.1f);
    in.k = filled((size_t)B * HKV * LK * D, 0.2f);
    in.v = filled((size_t)B * HKV * LK * DV, 0.3f);
    in.out = filled((size_t)B * H * LQ * DV, 0.4f);
    in.wq = filled((size_t)A * D, 0.5f);
    in.wk = filled((size_t)A * D, 0.6f);
    in.va = filled(A, 0.7f);
    in.kv_len = kv_len;
    in.global_pos = gpos;
    in.key_is_global = is_global;
    in.p = (attn_problem){ .B = B, .H = H, .Hkv = HKV, .Lq = LQ, .Lk = LK, .D = D, .Dv = DV,
        .scale = 0.25f, .causal = 1, .kv_len = kv_len, .window_left = 2, .window_right = -1,
        .n_globals = 1, .global_pos = gpos, .key_is_global = is_global,
        .score = ATTN_SCORE_ADDITIVE, .A = A, .wq = in.wq, .wk = in.wk, .va = in.va };

    CHECK(attn_dump_case(dir, &c, &in) == 0);
#define NPY(name, shape, arr, n) \
    snprintf(path, sizeof path, "%s/unit-fake-additive/" name ".npy", dir); \
    check_npy(path, shape, arr, n)
    NPY("q", "(2, 4, 3, 6)", in.q, (size_t)B * H * LQ * D);
    NPY("k", "(2, 2, 5, 6)", in.k, (size_t)B * HKV * LK * D);
    NPY("v", "(2, 2, 5, 7)", in.v, (size_t)B * HKV * LK * DV);
    NPY("out", "(2, 4, 3, 7)", in.out, (size_t)B * H * LQ * DV);
    NPY("wq", "(9, 6)", in.wq, (size_t)A * D);
    NPY("wk", "(9, 6)", in.wk, (size_t)A * D);
    NPY("va", "(9,)", in.va, (size_t)A);
#undef NPY

    snprintf(path, sizeof path, "%s/unit-fake-additive/case.json", dir);
    char *text = attn_read_file(path, NULL);
    CHECK(text != NULL);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    CHECK(doc != NULL);
    if (doc) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "params");
        CHECK(cJSON_IsObject(p));
        static const char *const pnames[] = { "batch", "heads", "kv_heads", "q_len", "kv_len",
            "head_dim", "v_dim", "threads", "mask", "window_left", "window_right", "globals",
            "score" };
        for (size_t i = 0; i < sizeof pnames / sizeof *pnames; i++)
            CHECK_MSG(cJSON_HasObjectItem(p, pnames[i]), "params.%s missing", pnames[i]);
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(doc, "kv_valid_lengths");
        CHECK(cJSON_GetArraySize(kv) == B);
        CHECK(cJSON_GetArrayItem(kv, 0) && cJSON_GetArrayItem(kv, 0)->valuedouble == 4);
        CHECK(cJSON_GetArrayItem(kv, 1) && cJSON_GetArrayItem(kv, 1)->valuedouble == 3);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(doc, "global_positions");
        CHECK(cJSON_GetArraySize(g) == 1 && cJSON_GetArrayItem(g, 0)->valuedouble == 2);
        CHECK(cJSON_GetObjectItemCaseSensitive(doc, "scale")->valuedouble == 0.25);
        CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(doc, "causal_alignment")->valuestring,
                      "bottom_right"));
        CHECK(cJSON_GetObjectItemCaseSensitive(doc, "window_left")->valuedouble == 2);
        CHECK(cJSON_GetObjectItemCaseSensitive(doc, "window_right")->valuedouble == -1);
        CHECK(cJSON_GetObjectItemCaseSensitive(doc, "additive_dim")->valuedouble == A);
        CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(doc, "kernel")->valuestring, "naive"));
        CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(doc, "score")->valuestring, "additive"));
        const cJSON *rule = cJSON_GetObjectItemCaseSensitive(doc, "mask_rule");
        CHECK(cJSON_IsString(rule) && strlen(rule->valuestring) > 200);
    }
    cJSON_Delete(doc);
    free(text);
    free(in.q); free(in.k); free(in.v); free(in.out); free(in.wq); free(in.wk); free(in.va);
    test_rm_tree(dir);
}
