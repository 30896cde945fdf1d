/* peer.c: the ONE list of peers, where their programs and interpreter are, and whether
 * they can run here (peer.h; the protocol: docs/peers.md).
 *
 * Adding a peer: write scripts/peers/<name>.py speaking the protocol, then add one entry
 * below (PEER(...)): its capabilities and dtypes as a kernel declares them, and the
 * validation tolerance per dtype with why.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"
#include "core/peer.h"

attn_status attn_peer_no_run(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, void *ws, int threads)
{
    (void)p; (void)q; (void)k; (void)v; (void)out; (void)ws; (void)threads;
    return ATTN_ERR_UNSUPPORTED;    /* a peer runs as a program (attn_peer_exec), never here */
}

size_t attn_peer_no_workspace(const attn_problem *p, int threads)
{
    (void)p; (void)threads;
    return 0;
}

/* ------------------------------------------------------------- the table -- */

/* Both torch peers take every mask through an explicit boolean mask built from case.json
 * (padding, windows, globals, causal where its alignment differs from torch's), GQA, and
 * Dv != D. Tolerances: fp32 as every fp32 kernel (1e-4, 1e-3; measured max abs error
 * 2e-7). bf16 and f16: torch computes in the input dtype and rounds the output to it
 * (half an ulp of an output in [-1, 1]: up to 2^-9 in bf16, 2^-12 in f16), plus the
 * rounded scores and probabilities. Measured where outputs are largest (averages of few
 * values: the variant shapes with Lk <= 53, and N = 1024 causal, whose first rows see few
 * keys): max abs error 3.7e-3 (bf16) and 4.3e-4 (f16); declared 8e-3 and 1e-3 for atol
 * and rtol, 2.2-2.3x that. */
#define TORCH_CAPS (ATTN_CAP_DOT | ATTN_CAP_CAUSAL | ATTN_CAP_PADDING | ATTN_CAP_CROSS | \
                    ATTN_CAP_GQA | ATTN_CAP_VDIM | ATTN_CAP_WINDOW | ATTN_CAP_GLOBALS | \
                    ATTN_CAP_THREADS)
#define TORCH_TOL { [ATTN_F32] = { 1e-4, 1e-3 }, [ATTN_BF16] = { 8e-3, 8e-3 }, \
                    [ATTN_F16] = { 1e-3, 1e-3 } }

/* torch_math materialises the scores: q @ k^T, the masked copy and the softmax, each
 * (B, H, Lq, Lk), at 4 bytes at most. Declared as its workspace, so the memory budget
 * skips it with the numbers before it would run the machine out of memory (saturates). */
static size_t math_scores_bytes(const attn_problem *p, int threads)
{
    (void)threads;
    double b = 3.0 * 4 * p->B * (double)p->H * p->Lq * (double)p->Lk;
    return b < 0x1p62 ? (size_t)b : (size_t)1 << 62;
}

#define PEER(NAME, DESC, CAPS, DTYPES, TOL, WORKSPACE, PROGRAM, MODULES) \
    { .k = { .name = NAME, .desc = DESC, .caps = CAPS, .dtypes = DTYPES, .tol = TOL, \
             .workspace_bytes = WORKSPACE, .run = attn_peer_no_run }, \
      .program = PROGRAM, .modules = MODULES }

static attn_peer table[] = {
    PEER("torch_sdpa", "PyTorch scaled_dot_product_attention (is_causal when Lq == Lk, else a boolean mask), enable_gqa",
         TORCH_CAPS, ATTN_DTYPES_ALL, TORCH_TOL, attn_peer_no_workspace, "scripts/peers/torch_sdpa.py", "torch numpy"),
    PEER("torch_math", "PyTorch as most code writes it: q @ k^T * scale, masked_fill -inf, softmax, @ v",
         TORCH_CAPS, ATTN_DTYPES_ALL, TORCH_TOL, math_scores_bytes, "scripts/peers/torch_math.py", "torch numpy"),
};
#define N_PEERS ((int)(sizeof table / sizeof table[0]))

/* A peer's ISA class is the widest this machine offers (its library picks its own code),
 * filled on first use: CPU detection is not ready in constructors. */
static void fill_isa(void)
{
    static int filled;
    if (filled) return;
    for (int i = 0; i < N_PEERS; i++) table[i].k.isa = attn_isa_available();
    filled = 1;
}

const attn_peer *attn_peers(int *count)
{
    fill_isa();
    if (count) *count = N_PEERS;
    return table;
}

const attn_peer *attn_peer_find(const char *name)
{
    fill_isa();
    for (int i = 0; name && i < N_PEERS; i++)
        if (!strcmp(table[i].k.name, name)) return &table[i];
    return NULL;
}

const attn_peer *attn_peer_of(const attn_kernel *k)
{
    return k && k->run == attn_peer_no_run ? (const attn_peer *)(const void *)k : NULL;
}

const attn_kernel *attn_runnable_find(const char *name)
{
    const attn_kernel *k = attn_kernel_find(name);
    const attn_peer *p = k ? NULL : attn_peer_find(name);
    return k ? k : p ? &p->k : NULL;
}

/* ------------------------------------------------------- where things are -- */

const char *attn_peer_root(void)
{
    static char root[PATH_MAX];
    if (root[0]) return root;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return strcpy(root, ".");
    exe[n] = '\0';
    snprintf(root, sizeof root, "%s", dirname(dirname(exe)));   /* build/attnbench -> . */
    return root;
}

const char *attn_peer_python(void)
{
    static char py[PATH_MAX + 32];
    const char *env = getenv("ATTNBENCH_PYTHON");
    if (env && *env) return env;
    snprintf(py, sizeof py, "%s/.venv-peers/bin/python", attn_peer_root());
    return access(py, X_OK) == 0 ? py : "python3";
}

/* ------------------------------------------------------------ the probe -- */

/* Run PY -c <find the modules> MODULES...; missing names (or why the interpreter did not
 * run) into out. 0: all found. */
static int probe_modules(const char *py, const char *modules, char *out, size_t n)
{
    static const char code[] =
        "import importlib.util, sys\n"
        "m = [x for x in sys.argv[1:] if importlib.util.find_spec(x) is None]\n"
        "print(', '.join(m)); sys.exit(1 if m else 0)\n";
    char mods[128], *argv[16] = { (char *)py, "-c", (char *)code };
    int argc = 3;
    snprintf(mods, sizeof mods, "%s", modules);
    for (char *s = strtok(mods, " "); s && argc < 15; s = strtok(NULL, " ")) argv[argc++] = s;
    argv[argc] = NULL;
    int fd[2];
    out[0] = '\0';
    if (pipe(fd) != 0) { snprintf(out, n, "pipe: %s", strerror(errno)); return -1; }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) { close(fd[0]); close(fd[1]); snprintf(out, n, "fork: %s", strerror(errno)); return -1; }
    if (pid == 0) {
        dup2(fd[1], 1);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) { dup2(null, 0); dup2(null, 2); }
        close(fd[0]);
        execvp(py, argv);
        _exit(127);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fd[0], out + got, n - 1 - got)) != 0) {
        if (r < 0) { if (errno == EINTR) continue; break; }
        got += (size_t)r;
    }
    out[got] = '\0';
    out[strcspn(out, "\n")] = '\0';
    close(fd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) snprintf(out, n, "%s", "");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void attn_peer_program(const attn_peer *p, char *buf, size_t n)
{
    if (p->program[0] == '/') snprintf(buf, n, "%s", p->program);
    else snprintf(buf, n, "%s/%s", attn_peer_root(), p->program);
}

static int probe(const attn_peer *p, char *why, size_t n)
{
    char prog[PATH_MAX + 64];
    attn_peer_program(p, prog, sizeof prog);
    if (access(prog, p->modules ? R_OK : X_OK) != 0) {
        snprintf(why, n, "%.160s: %.60s (peers run from the source tree)", prog, strerror(errno));
        return 0;
    }
    if (!p->modules) return 1;
    const char *py = attn_peer_python();
    char missing[128];
    int rc = probe_modules(py, p->modules, missing, sizeof missing);
    if (rc == 0) return 1;
    if (rc == 127) snprintf(why, n, "cannot run %.160s: run make peers, or set ATTNBENCH_PYTHON", py);
    else if (missing[0]) snprintf(why, n, "%.120s cannot import %.100s: run make peers", py, missing);
    else snprintf(why, n, "%.120s failed looking for %.60s (exit %d): run make peers", py, p->modules, rc);
    return 0;
}

int attn_peer_available(const attn_peer *p, char *why, size_t n)
{
    /* remembered by what is probed (program, modules, interpreter), not by the
     * descriptor's address: a test's descriptors come and go on the stack */
    static struct { char key[512]; int ok; char why[256]; } seen[16];
    static int n_seen;
    char key[512];
    snprintf(key, sizeof key, "%.200s|%.60s|%.240s", p->program, p->modules ? p->modules : "",
             p->modules ? attn_peer_python() : "");
    for (int i = 0; i < n_seen; i++)
        if (!strcmp(seen[i].key, key)) {
            snprintf(why, n, "%s", seen[i].why);
            return seen[i].ok;
        }
    char w[256] = "";
    int ok = probe(p, w, sizeof w);
    int slot = n_seen < 16 ? n_seen++ : 15;
    snprintf(seen[slot].key, sizeof seen[slot].key, "%s", key);
    seen[slot].ok = ok;
    snprintf(seen[slot].why, sizeof seen[slot].why, "%s", w);
    snprintf(why, n, "%s", w);
    return ok;
}
