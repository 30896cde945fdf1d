/* testpeer.c: a peer in plain C that drives the protocol in tests/test_peer.c (no torch).
 *
 *   build/testpeer DIR      (make test builds it; docs/peers.md has the protocol)
 *
 * It reads DIR/q.npy, k.npy, v.npy and case.json, computes the attention with the naive
 * kernel, and writes DIR/out.npy and DIR/times.json, behaving as ATTN_TESTPEER_MODE says:
 *   ok (default)  correct output          wrong     out[0] off by 1
 *   crash         abort()                 hang      sleep forever
 *   garbage       out.npy is not .npy     truncated out.npy cut in half
 *   shape         out.npy one row short   skip      skip.txt "omitted: lacks testing"
 *   notimes       no times.json           badtimes  times.json with a negative sample
 *   exit3         exit status 3 after writing to stderr
 * Dot scores without global tokens only (what its tests ask).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "attn.h"
#include "record/dump.h"
#include "record/npy.h"

static char dir[4096];

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text)
{
    char p[4200];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    if (!f) exit(1);
    fputs(text, f);
    fclose(f);
}

static float *load(const char *name, const size_t *shape)
{
    char p[4200], err[512];
    size_t n = shape[0] * shape[1] * shape[2] * shape[3];
    float *x = malloc(n * sizeof *x + 4);
    path_of(p, sizeof p, name);
    if (!x || attn_npy_read_f32(p, x, 4, shape, err, sizeof err) != 0) {
        fprintf(stderr, "testpeer: %s\n", err);
        exit(1);
    }
    return x;
}

static int num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) { fprintf(stderr, "testpeer: case.json lacks %s\n", k); exit(1); }
    return v->valueint;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: testpeer DIR\n"); return 2; }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    const char *mode = getenv("ATTN_TESTPEER_MODE");
    if (!mode) mode = "ok";
    if (!strcmp(mode, "crash")) abort();
    if (!strcmp(mode, "hang")) for (;;) pause();
    if (!strcmp(mode, "skip")) { write_text("skip.txt", "omitted: lacks testing\n"); return 0; }
    if (!strcmp(mode, "exit3")) { fprintf(stderr, "testpeer: told to fail\n"); return 3; }

    char p[4200];
    path_of(p, sizeof p, "case.json");
    FILE *f = fopen(p, "r");
    static char text[1 << 16];
    size_t got = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[got] = '\0';
    cJSON *doc = cJSON_Parse(text), *prm = cJSON_GetObjectItemCaseSensitive(doc, "params");
    if (!prm) { fprintf(stderr, "testpeer: bad case.json\n"); return 1; }
    attn_problem pb = {
        .B = num(prm, "batch"), .H = num(prm, "heads"), .Hkv = num(prm, "kv_heads"),
        .Lq = num(prm, "q_len"), .Lk = num(prm, "kv_len"), .D = num(prm, "head_dim"),
        .Dv = num(prm, "v_dim"), .window_left = num(doc, "window_left"),
        .window_right = num(doc, "window_right"),
        .causal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "causal")),
        .scale = (float)cJSON_GetObjectItemCaseSensitive(doc, "scale")->valuedouble,
    };
    int *kv = malloc(sizeof(int) * (size_t)pb.B);
    const cJSON *e;
    int b = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "kv_valid_lengths"))
        if (b < pb.B) kv[b++] = e->valueint;
    pb.kv_len = kv;
    const size_t sq[4] = { (size_t)pb.B, (size_t)pb.H, (size_t)pb.Lq, (size_t)pb.D };
    const size_t sk[4] = { (size_t)pb.B, (size_t)pb.Hkv, (size_t)pb.Lk, (size_t)pb.D };
    const size_t sv[4] = { (size_t)pb.B, (size_t)pb.Hkv, (size_t)pb.Lk, (size_t)pb.Dv };
    size_t so[4] = { (size_t)pb.B, (size_t)pb.H, (size_t)pb.Lq, (size_t)pb.Dv };
    float *q = load("q.npy", sq), *k = load("k.npy", sk), *v = load("v.npy", sv);
    float *out = calloc(so[0] * so[1] * so[2] * so[3] + 1, sizeof *out);
    const attn_kernel *naive = attn_kernel_find("naive");
    void *ws = malloc(naive->workspace_bytes(&pb, 1) + 64);
    if (!out || !ws || naive->run(&pb, q, k, v, out, ws, 1) != ATTN_OK) exit(1);

    if (!strcmp(mode, "wrong")) out[0] += 1.0f;
    if (!strcmp(mode, "shape")) so[2] -= 1;
    path_of(p, sizeof p, "out.npy");
    int rc = 0;
    if (!strcmp(mode, "garbage")) write_text("out.npy", "this is not a .npy file\n");
    else if (attn_npy_write(p, out, 4, so) != 0) rc = 1;
    if (!strcmp(mode, "truncated") && truncate(p, 64 + (long)(so[0] * so[1] * so[2] * so[3] * 2)) != 0) rc = 1;

    if (rc == 0 && strcmp(mode, "notimes")) {
        char times[256];
        snprintf(times, sizeof times, "{\"samples_s\": [0.002, 0.001, %s], \"version\": \"testpeer 1\\u0007\", "
                 "\"threads\": %s}", !strcmp(mode, "badtimes") ? "-1" : "0.003",
                 getenv("ATTN_PEER_THREADS") ? getenv("ATTN_PEER_THREADS") : "0");
        write_text("times.json", times);
    }
    free(q); free(k); free(v); free(out); free(ws); free(kv);   /* LeakSanitizer: make sanitize */
    cJSON_Delete(doc);
    return rc;
}
