/* bandwidth.c: see bandwidth.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include "core/bandwidth.h"
#include "core/child.h"

size_t attn_bandwidth_buffer_bytes(long llc_bytes, long phys_bytes)
{
    size_t b = llc_bytes > 0 ? 4 * (size_t)llc_bytes : 0;
    if (b < ((size_t)64 << 20)) b = (size_t)64 << 20;
    if (b > ((size_t)2 << 30)) b = (size_t)2 << 30;
    if (phys_bytes > 0 && b > (size_t)phys_bytes / 8) b = (size_t)phys_bytes / 8;
    return b & ~(size_t)4095;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Sum of n 64-bit words, four independent chains. */
static uint64_t read_words(const uint64_t *w, size_t n)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { s0 += w[i]; s1 += w[i + 1]; s2 += w[i + 2]; s3 += w[i + 3]; }
    for (; i < n; i++) s0 += w[i];
    return s0 + s1 + s2 + s3;
}

typedef struct { int threads; size_t bytes; double seconds; } bw_args;

static volatile uint64_t sink;

/* In the child: GB/s, best of the passes that fit in `seconds` (at least BW_TRIALS). */
static double measure_here(void *arg)
{
    const bw_args *a = arg;
    size_t words = a->bytes / sizeof(uint64_t);
    uint64_t *buf = aligned_alloc(4096, words * sizeof(uint64_t));
    if (!buf) {
        fprintf(stderr, "attnbench: bandwidth: cannot allocate %zu bytes\n", a->bytes);
        return 0;
    }
    int threads = a->threads;
    omp_set_dynamic(0);
    int got = 0;
    /* each thread first-touches the slice it will read */
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        size_t lo = words * (size_t)t / (size_t)n, hi = words * (size_t)(t + 1) / (size_t)n;
        for (size_t i = lo; i < hi; i++) buf[i] = i * 0x9E3779B97F4A7C15ull;
        #pragma omp single
        got = n;
    }
    if (got != threads) {
        fprintf(stderr, "attnbench: bandwidth: asked for %d threads, OpenMP gave %d\n", threads, got);
        free(buf);
        return 0;
    }
    double best = 0, t_end = now() + a->seconds;
    for (int r = 0; r < BW_TRIALS || now() < t_end; r++) {
        uint64_t s = 0;
        double t0 = now();
        #pragma omp parallel num_threads(threads) reduction(+:s)
        {
            int t = omp_get_thread_num();
            size_t lo = words * (size_t)t / (size_t)threads, hi = words * (size_t)(t + 1) / (size_t)threads;
            s += read_words(buf + lo, hi - lo);
        }
        double dt = now() - t0;
        sink += s;
        double rate = (double)(words * sizeof(uint64_t)) / dt * 1e-9;
        if (rate > best) best = rate;
        if (r > 1000) break;
    }
    free(buf);
    return best;
}

double attn_bandwidth_measure(int threads, size_t bytes, double seconds)
{
    if (threads < 1 || bytes < 4096) return 0;
    if (!(seconds > 0)) seconds = 0.2;
    bw_args a = { threads, bytes, seconds };
    double gbs = 0;
    char err[256];
    /* generous alarm: first touch of a large buffer plus the passes */
    if (attn_child_double(measure_here, &a, (unsigned)(seconds * 4) + 60, &gbs, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench: bandwidth x %d threads: %s\n", threads, err);
        return 0;
    }
    return gbs;
}
