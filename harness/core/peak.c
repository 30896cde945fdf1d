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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "util/util.h"
#include "core/child.h"
#include "core/peak.h"

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

/* measure_here's arguments, for the forked child (core/child.h) */
typedef struct { peak_loop fn; int threads; double seconds; } peak_job;

static double run_job(void *arg)
{
    const peak_job *j = arg;
    return measure_here(j->fn, j->threads, j->seconds);
}

double attn_peak_measure(attn_isa isa, int threads, double seconds)
{
    peak_loop fn = loop_for(isa);
    if (!fn || isa > attn_isa_available() || threads < 1 || threads > ATTN_MAX_THREADS)
        return 0;
    if (!(seconds > 0)) seconds = 0.05;

    peak_job job = { fn, threads, seconds };
    double r = 0;
    char err[256];
    if (attn_child_double(run_job, &job, (unsigned)(seconds * 4) + 30, &r, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench peak: %s x %d threads: %s\n", attn_isa_name(isa), threads, err);
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

cJSON *attn_bandwidth_json(const attn_peaks *p)
{
    cJSON *o = cJSON_CreateObject();
    for (int t = 1; p && t <= ATTN_MAX_THREADS; t++) {
        if (!(p->gbs[t] > 0)) continue;
        char key[16];
        snprintf(key, sizeof key, "%d", t);
        cJSON_AddNumberToObject(o, key, p->gbs[t]);
    }
    return o;
}

static int known(double x) { return isfinite(x) && x > 0; }

double attn_roof_gflops(double peak_gflops, double gbs, double intensity)
{
    if (!known(peak_gflops) || !known(gbs) || !known(intensity)) return 0;
    double mem = intensity * gbs;
    return mem < peak_gflops ? mem : peak_gflops;
}

double attn_ridge_intensity(double peak_gflops, double gbs)
{
    return known(peak_gflops) && known(gbs) ? peak_gflops / gbs : 0;
}

int attn_peak_usable(attn_isa isa)
{
    return isa <= attn_isa_available() && loop_for(isa) != NULL;
}
