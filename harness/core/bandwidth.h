/* bandwidth.h: sustained memory read bandwidth, the second roof of the roofline.
 *
 * Decode-style attention streams the KV cache once and does ~1 FLOP per byte, so it is
 * bound by memory bandwidth, not by FMAs; pct_roof divides by min(FMA peak, intensity x
 * bandwidth) (attn_roof_gflops, core/peak.h). The measurement reads a buffer several
 * times the last-level cache, each thread its own contiguous slice (first touched by that
 * thread, so its pages sit on that thread's memory node), summing 64-bit words in four
 * independent chains: 256-bit loads where the CPU has AVX2 (bandwidth_avx2.c), else a
 * loop the compiler vectorises for the baseline ISA. All passes run inside one OpenMP
 * region; a pass is timed between two barriers, so thread start-up and wake-up are not
 * counted as memory time. Best of at least BW_TRIALS passes, in a forked child
 * (core/child.h).
 */
#ifndef ATTN_BANDWIDTH_H
#define ATTN_BANDWIDTH_H

#include <stddef.h>
#include <stdint.h>

#define BW_TRIALS 5

/* Buffer bytes for the measurement: 8 x the last-level cache, at least 512 MiB, at most
 * 2 GiB and an eighth of physical memory (llc or phys 0 = unknown). The floor is there
 * because the cache a VM reports can be smaller than what serves it: on a 2-vCPU EPYC
 * (Zen 2) VM reporting a 16 MiB L3, a 64 MiB buffer read about twice as fast as 256 MiB
 * or 1 GiB, which agreed with each other (docs/perf.md, "The bandwidth roof"). */
size_t attn_bandwidth_buffer_bytes(long llc_bytes, long phys_bytes);

/* attn_bandwidth_buffer_bytes for this machine: its last-level cache (L3, else L2) and
 * its memory (core/machine.h). */
size_t attn_bandwidth_default_bytes(void);

/* Read bandwidth in GB/s (1e9 bytes/s) of `threads` threads over a buffer of `bytes`,
 * run for about `seconds`. 0 when it could not be measured (message on stderr). */
double attn_bandwidth_measure(int threads, size_t bytes, double seconds);

/* The read loops: sum of n 64-bit words (w 32-byte aligned). Exposed for the tests. */
uint64_t attn_bandwidth_read_portable(const uint64_t *w, size_t n);
#if defined(__x86_64__)
uint64_t attn_bandwidth_read_avx2(const uint64_t *w, size_t n);    /* bandwidth_avx2.c */
#endif

#endif
