/* peak.h: the per-ISA fp32 FMA loops behind attn_peak_measure (peak.c).
 *
 * Each loop runs `iters` rounds over a fixed set of independent register accumulators
 * (enough chains to cover the FMA latency on both pipes), folds them into a volatile
 * sink so nothing is optimised away, and returns the flops it performed: 2 per lane per
 * fused multiply-add (portable: 1 per mul plus 1 per add). Only the _avx2.c/_avx512.c
 * files hold intrinsics; their loops exist on x86-64 builds only.
 */
#ifndef ATTN_PEAK_H
#define ATTN_PEAK_H

#include <cjson/cJSON.h>
#include "attn.h"

#define PEAK_TRIALS 5           /* a peak is the best of this many trials */

/* Measured fp32 FMA throughput in GFLOP/s of `isa` code on `threads` threads, run for
 * about `seconds`. Runs in a forked child (the parent never starts OpenMP threads, so
 * forking stays safe). Returns 0 when the ISA is not usable here. */
double attn_peak_measure(attn_isa isa, int threads, double seconds);

/* Table of measured roofs: FMA peak gflops[isa][threads] and read bandwidth
 * gbs[threads] (core/bandwidth.h) over a buffer of bw_buffer_bytes; 0 = not measured. */
#define ATTN_MAX_THREADS 256
typedef struct attn_peaks {
    double gflops[ATTN_ISA_COUNT][ATTN_MAX_THREADS + 1];
    double gbs[ATTN_MAX_THREADS + 1];
    double bw_buffer_bytes;
} attn_peaks;

/* The roofline: attainable GFLOP/s at `intensity` FLOPs per byte under an FMA peak of
 * peak_gflops and a read bandwidth of gbs GB/s, min(peak, intensity x bandwidth).
 * 0 when either roof or the intensity is unknown (<= 0 or not finite). */
double attn_roof_gflops(double peak_gflops, double gbs, double intensity);
/* FLOPs per byte where the two roofs meet (peak / bandwidth); 0 when unknown. */
double attn_ridge_intensity(double peak_gflops, double gbs);

/* 1 when a loop for `isa` is built in and the CPU (and ATTN_ISA) allow it. */
int attn_peak_usable(attn_isa isa);


double attn_peak_loop_portable(long iters);   /* peak.c, baseline C: mul + add */
#if defined(__x86_64__)
double attn_peak_loop_avx2(long iters);       /* peak_avx2.c:   12 x 8-lane FMA chains */
double attn_peak_loop_avx512(long iters);     /* peak_avx512.c: 16 x 16-lane FMA chains */
#endif

/* { "<isa>": { "<threads>": gflops } } of the nonzero entries (context.peak_gflops). */
cJSON *attn_peaks_json(const attn_peaks *p);
/* { "<threads>": GB/s } of the nonzero entries (context.bandwidth_gbs). */
cJSON *attn_bandwidth_json(const attn_peaks *p);

#endif
