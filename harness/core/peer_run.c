/* peer_run.c: one run of a peer, inside a case child (peer.h; protocol: docs/peers.md).
 *
 *   mkdtemp DIR (mode 0700)        q.npy k.npy v.npy case.json (attn_dump_inputs)
 *   fork: own process group,       exec [PYTHON] PROGRAM DIR, with ATTN_PEER_THREADS,
 *         dies with us             _REPS, _MIN_TIME, _WARMUP_S (and OMP/MKL/OPENBLAS threads)
 *   wait4 until exit or timeout    timeout: SIGKILL the whole group
 *   read DIR/skip.txt, or          out.npy (strictly: npy.h) and times.json
 * The case's parent makes DIR before it forks the case child and removes it after, so a
 * case child killed at the case's timeout leaves nothing behind either.
 *
 * Everything read back is data from another program: sizes are capped, text is reduced
 * to printable ASCII before it goes into a reason, and a malformed file makes the case
 * invalid, never this process crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "util/util.h"
#include "record/dump.h"
#include "record/npy.h"
#include "core/peer.h"

#define PEER_MAX_SAMPLES 100000
#define PEER_TEXT_MAX (16u << 20)   /* times.json larger than this is refused */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static attn_case_status fail(attn_peer_out *o, attn_case_status st, const char *fmt, const char *a)
{
    o->status = st;
    snprintf(o->reason, sizeof o->reason, fmt, a);
    return st;
}

/* Printable ASCII only: text from a peer goes into reasons, JSON, reports. */
static void printable(char *s)
{
    for (; *s; s++)
        if (*s < 32 || *s > 126) *s = '?';
}

/* Up to n-1 bytes of DIR/name (a regular file, not followed through a link) into buf;
 * -1 when absent or unreadable. */
static long read_small(const char *dir, const char *name, char *buf, size_t n)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return -1;
    struct stat sb;
    long got = -1;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        got = 0;
        ssize_t r;
        while ((size_t)got + 1 < n && (r = read(fd, buf + got, n - 1 - (size_t)got)) > 0) got += r;
        buf[got] = '\0';
    }
    close(fd);
    return got;
}

/* The last non-empty line of the peer's stderr, for a crash reason. */
static void stderr_tail(const char *dir, char *buf, size_t n)
{
    char text[4096];
    buf[0] = '\0';
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    if (fseek(f, -(long)(sizeof text - 1), SEEK_END) != 0) rewind(f);
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[got] = '\0';
    char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) *--end = '\0';
    char *line = strrchr(text, '\n');
    snprintf(buf, n, "%s", line ? line + 1 : text);
    printable(buf);
}

/* rm DIR/ * and DIR (the peer may have left anything there; no recursion into folders:
 * rmdir then fails and the folder stays, named in no reason, like any temporary file). */
void attn_peer_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[PATH_MAX + 32];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------- the child -- */

static void set_env_long(const char *name, long v)
{
    char s[32];
    snprintf(s, sizeof s, "%ld", v);
    setenv(name, s, 1);
}

/* In the forked peer process: its own group, dies with us, stdio to DIR/stderr.txt. */
static void exec_peer(const attn_peer *p, const attn_case *c, const char *dir, pid_t parent)
{
    setpgid(0, 0);
    attn_die_with_parent(parent);
    char path[PATH_MAX + 32], prog[PATH_MAX + 64], s[64];
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    int err = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    if (err >= 0) { dup2(err, 1); dup2(err, 2); }
    set_env_long("ATTN_PEER_THREADS", c->threads);
    set_env_long("ATTN_PEER_REPS", c->reps);
    snprintf(s, sizeof s, "%.17g", c->min_time);
    setenv("ATTN_PEER_MIN_TIME", s, 1);
    snprintf(s, sizeof s, "%.17g", 0.1 * c->min_time);
    setenv("ATTN_PEER_WARMUP_S", s, 1);
    static const char *const pools[] = { "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS" };
    for (int i = 0; i < 3; i++) set_env_long(pools[i], c->threads);
    attn_peer_program(p, prog, sizeof prog);
    if (p->modules) {
        const char *py = attn_peer_python();
        execlp(py, py, prog, dir, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", py, strerror(errno));
    } else {
        execl(prog, prog, dir, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", prog, strerror(errno));
    }
    _exit(127);
}

/* Fork and wait for the peer (or kill its group at the deadline). 0 exited/killed (st
 * set), 1 timed out, -1 fork failed. */
static int run_and_wait(const attn_peer *p, const attn_case *c, const char *dir, double timeout_s,
                        int *st, struct rusage *ru)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) exec_peer(p, c, dir, parent);
    setpgid(pid, pid);                  /* also here: no window where a kill misses it */
    double deadline = now_s() + timeout_s;
    long nap_us = 200;
    for (;;) {
        pid_t w = wait4(pid, st, WNOHANG, ru);
        if (w == pid) return 0;
        if (w < 0 && errno != EINTR) return -1;
        if (now_s() >= deadline) break;
        struct timespec ts = { 0, nap_us * 1000 };
        nanosleep(&ts, NULL);
        if (nap_us < 20000) nap_us *= 2;    /* short runs are seen at once, long ones cheaply */
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (wait4(pid, st, 0, ru) < 0 && errno == EINTR) {}
    return 1;
}

/* ------------------------------------------------------- reading results -- */

/* times.json: {"samples_s": [positive seconds...], "version": "...", "threads": n}. */
static attn_case_status read_times(const char *dir, const attn_case *c, attn_peer_out *o)
{
    char *text = malloc(PEER_TEXT_MAX);
    if (!text) return fail(o, ST_CRASHED, "%s", "out of memory reading times.json");
    long n = read_small(dir, "times.json", text, PEER_TEXT_MAX);
    if (n < 0) { free(text); return fail(o, ST_INVALID, "%s", "peer wrote no times.json (nor skip.txt)"); }
    if ((size_t)n + 1 >= PEER_TEXT_MAX) { free(text); return fail(o, ST_INVALID, "%s", "times.json over 16 MiB"); }
    cJSON *doc = cJSON_ParseWithLength(text, (size_t)n);
    free(text);
    const cJSON *s = doc ? cJSON_GetObjectItemCaseSensitive(doc, "samples_s") : NULL;
    const cJSON *ver = doc ? cJSON_GetObjectItemCaseSensitive(doc, "version") : NULL;
    const cJSON *thr = doc ? cJSON_GetObjectItemCaseSensitive(doc, "threads") : NULL;
    int count = cJSON_IsArray(s) ? cJSON_GetArraySize(s) : 0;
    if (!doc || !cJSON_IsObject(doc)) fail(o, ST_INVALID, "%s", "times.json is not a JSON object");
    else if (count < 1 || count > PEER_MAX_SAMPLES)
        fail(o, ST_INVALID, "%s", "times.json: samples_s is not an array of 1 to 100000 numbers");
    else if (cJSON_IsNumber(thr) && thr->valuedouble != c->threads) {
        char m[96];
        snprintf(m, sizeof m, "peer ran %.0f threads, the case asks %d", thr->valuedouble, c->threads);
        fail(o, ST_INVALID, "%s", m);
    } else if (!(o->samples = malloc((size_t)count * sizeof(double)))) {
        fail(o, ST_CRASHED, "%s", "out of memory for the samples");
    } else {
        const cJSON *e;
        o->status = ST_OK;
        cJSON_ArrayForEach(e, s) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : NAN;
            if (!(v > 0 && v < 1e9)) {      /* NaN, inf, 0, negative, absurd */
                fail(o, ST_INVALID, "%s", "times.json: a sample is not a positive number of seconds");
                break;
            }
            o->samples[o->n_samples++] = v;
        }
        if (cJSON_IsString(ver)) {
            snprintf(o->version, sizeof o->version, "%s", ver->valuestring);
            printable(o->version);
        }
    }
    cJSON_Delete(doc);
    if (o->status != ST_OK) { free(o->samples); o->samples = NULL; o->n_samples = 0; }
    return o->status;
}

static attn_case_status collect(const attn_peer *p, const attn_case *c, attn_inputs *in,
                                const char *dir, int st, attn_peer_out *o)
{
    char text[256], tail[160];
    if (WIFSIGNALED(st)) {
        stderr_tail(dir, tail, sizeof tail);
        char m[256];
        snprintf(m, sizeof m, "peer killed by signal %s%s%s", attn_signal_name(WTERMSIG(st)),
                 tail[0] ? ": " : "", tail);
        return fail(o, ST_CRASHED, "%s", m);
    }
    if (read_small(dir, "skip.txt", text, sizeof text) >= 0) {
        text[strcspn(text, "\r\n")] = '\0';
        printable(text);
        char m[256];
        snprintf(m, sizeof m, "peer %.40s: %.200s", p->k.name, text[0] ? text : "skipped (no reason given)");
        return fail(o, ST_SKIPPED, "%s", m);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        stderr_tail(dir, tail, sizeof tail);
        char m[256];
        snprintf(m, sizeof m, "peer exited with status %d%s%s", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                 tail[0] ? ": " : "", tail);
        /* 127: the interpreter or the program could not be started at all */
        return fail(o, WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ST_SKIPPED : ST_CRASHED, "%s", m);
    }
    const size_t shape[4] = { (size_t)c->batch, (size_t)c->heads, (size_t)c->q_len, (size_t)c->v_dim };
    char path[PATH_MAX + 32], err[384];
    snprintf(path, sizeof path, "%s/out.npy", dir);
    if (attn_npy_read_f32(path, in->out, 4, shape, err, sizeof err) != 0) {
        char *rel = strstr(err, "out.npy");   /* the temporary directory means nothing later */
        printable(err);
        return fail(o, ST_INVALID, "peer output %.200s", rel ? rel : err);
    }
    return read_times(dir, c, o);
}

int attn_peer_mkdir(char *dir, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/attnbench-peer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

attn_case_status attn_peer_exec(const attn_peer *p, const attn_case *c, attn_inputs *in,
                                const char *dir, double timeout_s, attn_peer_out *o)
{
    memset(o, 0, sizeof *o);
    if (attn_dump_inputs(dir, c, in) != 0)
        return fail(o, ST_CRASHED, "%s", "cannot write the peer's inputs (disk full?)");
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    int w = run_and_wait(p, c, dir, timeout_s, &st, &ru);
    o->peak_rss_bytes = ru.ru_maxrss * 1024L;
    if (w < 0) fail(o, ST_CRASHED, "fork: %s", strerror(errno));
    else if (w == 1) {
        char m[64];
        snprintf(m, sizeof m, "timeout after %.3g s (peer killed)", timeout_s);
        fail(o, ST_TIMEOUT, "%s", m);
    } else collect(p, c, in, dir, st, o);
    return o->status;
}
