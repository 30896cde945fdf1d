/* peak.c: measured fp32 peak GFLOP/s per ISA and thread count (`attnbench peak`), the
 * roof that pct_peak and the roofline charts divide by.
 *
 * attn_peak_measure forks a child; the child calibrates the ISA's register-only FMA
 * loop (peak.h) to about seconds/5 per call, runs it 5 times on `threads` OpenMP
 * threads and sends the best rate back through a pipe. Forking keeps the parent free of
 * OpenMP: a process that has started an OpenMP thread pool cannot safely fork, and the
 * runner forks for every case. The portable roof is a baseline-compiled mul + add loop,
 * the honest ceiling for kernels written in plain C.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "commands.h"
#include "peak.h"

#define PEAK_TRIALS 5
#define PORTABLE_ACC 48         /* 12 SSE vectors of 4 (+2 constants) fit 16 xmm registers */

volatile float attn_peak_sink_portable;

/* ------------------------------------------------------------ the loops -- */

double attn_peak_loop_portable(long iters)
{
    /* acc is (PORTABLE_ACC): independent chains; the compiler keeps them in registers
     * and vectorises across j with whatever the baseline ISA offers */
    float acc[PORTABLE_ACC];
    for (int j = 0; j < PORTABLE_ACC; j++) acc[j] = 0.5f + 0.001f * (float)j;
    const float m = 0.9999f, a = 1e-4f;
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < PORTABLE_ACC; j++) acc[j] = acc[j] * m + a;
    float s = 0;
    for (int j = 0; j < PORTABLE_ACC; j++) s += acc[j];
    attn_peak_sink_portable = s;
    return 2.0 * PORTABLE_ACC * (double)iters;
}

typedef double (*peak_loop)(long iters);

static peak_loop loop_for(attn_isa isa)
{
    switch (isa) {
    case ATTN_ISA_PORTABLE: return attn_peak_loop_portable;
#if defined(__x86_64__)
    case ATTN_ISA_AVX2:     return attn_peak_loop_avx2;
    case ATTN_ISA_AVX512:   return attn_peak_loop_avx512;
#endif
    default:                return NULL;
    }
}

/* ------------------------------------------------------------ the child -- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best GFLOP/s of PEAK_TRIALS parallel runs of fn; runs only in the forked child. */
static double measure_here(peak_loop fn, int threads, double seconds)
{
    double trial = seconds / PEAK_TRIALS;
    /* calibrate on one thread: every thread runs the same iteration count */
    long iters = 1024;
    double dt = 0;
    for (;;) {
        double t0 = now();
        fn(iters);
        dt = now() - t0;
        if (dt >= 0.01 || dt >= trial / 2 || iters > (1L << 40)) break;
        iters *= 2;
    }
    if (dt > 0) iters = (long)((double)iters * trial / dt);
    if (iters < 1) iters = 1;

    double best = 0;
#ifdef _OPENMP
    omp_set_dynamic(0);
    int got = 0;
    #pragma omp parallel num_threads(threads)   /* start the pool outside the timing */
    {
        #pragma omp single
        got = omp_get_num_threads();
    }
    if (got != threads) {
        fprintf(stderr, "attnbench peak: asked for %d threads, OpenMP gave %d\n", threads, got);
        return 0;
    }
    for (int r = 0; r < PEAK_TRIALS; r++) {
        double flops = 0, t0 = now();
        #pragma omp parallel num_threads(threads) reduction(+:flops)
        flops += fn(iters);
        double rate = flops / (now() - t0) * 1e-9;
        if (rate > best) best = rate;
    }
#else
    if (threads != 1) {
        fprintf(stderr, "attnbench peak: built without OpenMP, cannot run %d threads\n", threads);
        return 0;
    }
    for (int r = 0; r < PEAK_TRIALS; r++) {
        double t0 = now();
        double rate = fn(iters) / (now() - t0) * 1e-9;
        if (rate > best) best = rate;
    }
#endif
    return best;
}

double attn_peak_measure(attn_isa isa, int threads, double seconds)
{
    peak_loop fn = loop_for(isa);
    if (!fn || isa > attn_isa_available() || threads < 1 || threads > ATTN_MAX_THREADS)
        return 0;
    if (!(seconds > 0)) seconds = 0.05;

    int fd[2];
    if (pipe(fd) != 0) {
        fprintf(stderr, "attnbench peak: pipe: %s\n", strerror(errno));
        return 0;
    }
    fflush(NULL);               /* the child must not flush the parent's buffers again */
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "attnbench peak: fork: %s\n", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return 0;
    }
    if (pid == 0) {
        close(fd[0]);
        alarm((unsigned)(seconds * 4) + 30);     /* a stuck child must not hang a sweep */
        double r = measure_here(fn, threads, seconds);
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    double r = 0;
    ssize_t n;
    do n = read(fd[0], &r, sizeof r); while (n < 0 && errno == EINTR);
    close(fd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof r || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFSIGNALED(st))
            fprintf(stderr, "attnbench peak: %s x %d threads: child killed by signal %d (%s)\n",
                    attn_isa_name(isa), threads, WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
            fprintf(stderr, "attnbench peak: %s x %d threads: measurement failed\n",
                    attn_isa_name(isa), threads);
        return 0;
    }
    return r;
}

cJSON *attn_peaks_json(const attn_peaks *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!p) return o;
    for (int i = 0; i < ATTN_ISA_COUNT; i++) {
        cJSON *per = NULL;
        for (int t = 1; t <= ATTN_MAX_THREADS; t++) {
            if (!(p->gflops[i][t] > 0)) continue;
            if (!per) per = cJSON_AddObjectToObject(o, attn_isa_name((attn_isa)i));
            char key[16];
            snprintf(key, sizeof key, "%d", t);
            cJSON_AddNumberToObject(per, key, p->gflops[i][t]);
        }
    }
    return o;
}

/* -------------------------------------------------------------- command -- */

static void peak_usage(FILE *f)
{
    fprintf(f,
        "usage: attnbench peak [--threads N[,N...]] [--seconds S] [--json]\n"
        "\n"
        "Measures the fp32 peak of every ISA usable here: a register-only loop of\n"
        "independent fused multiply-adds (2 flops per lane; portable: a mul + add loop\n"
        "compiled for the baseline ISA), best of %d trials, on each thread count.\n"
        "This is the roof that pct_peak and the roofline charts divide by.\n"
        "\n"
        "  --threads N   thread counts to measure (repeatable or comma list);\n"
        "                default 1 and all %d online cores\n"
        "  --seconds S   time per (ISA, threads) measurement, default 1\n"
        "  --json        print {\"<isa>\": {\"<threads>\": GFLOP/s}} instead of a table\n",
        PEAK_TRIALS, attn_cpu_cores());
}

static int add_threads(const char *s, int *list, int *n)
{
    char *end;
    for (;;) {
        long t = strtol(s, &end, 10);
        if (end == s || t < 1 || t > ATTN_MAX_THREADS || (*end && *end != ',')) return -1;
        int seen = 0;
        for (int i = 0; i < *n; i++) seen |= list[i] == (int)t;
        if (!seen && *n < ATTN_MAX_THREADS) list[(*n)++] = (int)t;
        if (!*end) return 0;
        s = end + 1;
    }
}

int attn_cmd_peak(int argc, char **argv)
{
    int threads[ATTN_MAX_THREADS], nt = 0, json = 0;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { peak_usage(stdout); return 0; }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!strcmp(a, "--threads") || !strcmp(a, "--seconds")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "attnbench peak: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--threads")) {
                if (add_threads(v, threads, &nt) != 0) {
                    fprintf(stderr, "attnbench peak: --threads '%s': expected counts 1..%d, "
                            "comma separated\n", v, ATTN_MAX_THREADS);
                    return 2;
                }
            } else {
                char *end;
                seconds = strtod(v, &end);
                if (end == v || *end || !(seconds > 0) || seconds > 600) {
                    fprintf(stderr, "attnbench peak: --seconds '%s': expected a number in "
                            "(0, 600]\n", v);
                    return 2;
                }
            }
            continue;
        }
        fprintf(stderr, "attnbench peak: unknown argument '%s'\n", a);
        peak_usage(stderr);
        return 2;
    }
    if (nt == 0) {
        int cores = attn_cpu_cores();
        threads[nt++] = 1;
        if (cores > 1) threads[nt++] = cores > ATTN_MAX_THREADS ? ATTN_MAX_THREADS : cores;
    }

    static attn_peaks pk;       /* large; zeroed */
    attn_isa top = attn_isa_available();
    if (!json) {
        printf("fp32 peak GFLOP/s (best of %d trials, %.2g s per cell; 2 flops per FMA lane)\n",
               PEAK_TRIALS, seconds);
        printf("%-10s", "isa");
        for (int j = 0; j < nt; j++) printf(" %9d thr", threads[j]);
        printf("  %12s\n", "per thread");
    }
    for (int i = 0; i < ATTN_ISA_COUNT; i++) {
        attn_isa isa = (attn_isa)i;
        if (!json) printf("%-10s", attn_isa_name(isa));
        if (isa > top || !loop_for(isa)) {
            if (!json) printf("  not usable here (cpu lacks it, ATTN_ISA caps it, or not built "
                              "for this architecture)\n");
            continue;
        }
        double last = 0;
        for (int j = 0; j < nt; j++) {
            double g = attn_peak_measure(isa, threads[j], seconds);
            pk.gflops[i][threads[j]] = g;
            last = g / threads[j];
            if (!json) { printf(" %13.1f", g); fflush(stdout); }
        }
        if (!json) printf("  %12.1f\n", last);
    }
    if (json) {
        cJSON *o = attn_peaks_json(&pk);
        char *s = cJSON_Print(o);
        if (s) puts(s);
        free(s);
        cJSON_Delete(o);
    }
    return 0;
}
