/* bandwidth.c: see bandwidth.h.
 *
 * measure_here (in the forked child):
 *   allocate the buffer (4 KiB aligned)
 *   one OpenMP region of `threads` threads:
 *     each thread first-touches its slice (slices are whole 4 KiB pages)
 *     repeat (at least BW_TRIALS passes, until `seconds` have passed):
 *       barrier; thread 0 reads the clock
 *       each thread sums its slice
 *       barrier; thread 0 reads the clock: bytes / time is this pass's rate
 *     the best pass is the result
 * Thread 0 decides when to stop and tells the others through a shared flag read after
 * a barrier, so every thread runs the same passes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include "attn.h"
#include "core/bandwidth.h"
#include "core/child.h"
#include "core/machine.h"

#define BW_MAX_PASSES 1000

size_t attn_bandwidth_buffer_bytes(long llc_bytes, long phys_bytes)
{
    size_t b = llc_bytes > 0 ? 8 * (size_t)llc_bytes : 0;
    if (b < ((size_t)512 << 20)) b = (size_t)512 << 20;
    if (b > ((size_t)2 << 30)) b = (size_t)2 << 30;
    if (phys_bytes > 0 && b > (size_t)phys_bytes / 8) b = (size_t)phys_bytes / 8;
    return b & ~(size_t)4095;
}

size_t attn_bandwidth_default_bytes(void)
{
    long llc = attn_cache_bytes(3);
    if (llc <= 0) llc = attn_cache_bytes(2);
    return attn_bandwidth_buffer_bytes(llc, attn_phys_mem_bytes());
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

uint64_t attn_bandwidth_read_portable(const uint64_t *w, size_t n)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { s0 += w[i]; s1 += w[i + 1]; s2 += w[i + 2]; s3 += w[i + 3]; }
    for (; i < n; i++) s0 += w[i];
    return s0 + s1 + s2 + s3;
}

typedef uint64_t (*read_fn)(const uint64_t *w, size_t n);

static read_fn pick_reader(void)
{
#if defined(__x86_64__)
    if ((attn_cpu_features() & ATTN_REQ_AVX2) == ATTN_REQ_AVX2) return attn_bandwidth_read_avx2;
#endif
    return attn_bandwidth_read_portable;
}

typedef struct { int threads; size_t bytes; double seconds; } bw_args;

static volatile uint64_t sink;

/* Words [lo, hi) of thread t of n: whole pages, the last thread takes the rest. */
static void slice(size_t words, int t, int n, size_t *lo, size_t *hi)
{
    const size_t page = 4096 / sizeof(uint64_t);
    size_t pages = words / page;
    *lo = pages * (size_t)t / (size_t)n * page;
    *hi = t == n - 1 ? words : pages * (size_t)(t + 1) / (size_t)n * page;
}

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
    read_fn rd = pick_reader();
    int threads = a->threads, got = 0, stop = 0;
    double best = 0, t0 = 0, t_end = 0;
    uint64_t total = 0;
    omp_set_dynamic(0);
    #pragma omp parallel num_threads(threads) reduction(+:total)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        size_t lo, hi;
        slice(words, t, n, &lo, &hi);
        for (size_t i = lo; i < hi; i++) buf[i] = i * 0x9E3779B97F4A7C15ull;
        #pragma omp master
        {
            got = n;
            t_end = now() + a->seconds;
        }
        for (int pass = 0; ; pass++) {
            #pragma omp barrier
            if (stop || got != threads) break;      /* read by all after the barrier */
            #pragma omp barrier                     /* no one starts before the clock does */
            #pragma omp master
            t0 = now();
            total += rd(buf + lo, hi - lo);
            #pragma omp barrier
            #pragma omp master
            {
                double t1 = now(), rate = (double)(words * sizeof(uint64_t)) / (t1 - t0) * 1e-9;
                if (rate > best) best = rate;
                stop = (pass + 1 >= BW_TRIALS && t1 >= t_end) || pass + 1 >= BW_MAX_PASSES;
            }
        }
    }
    sink += total;
    free(buf);
    if (got != threads) {
        fprintf(stderr, "attnbench: bandwidth: asked for %d threads, OpenMP gave %d\n", threads, got);
        return 0;
    }
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
