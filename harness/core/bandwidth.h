/* bandwidth.h: sustained memory read bandwidth, the second roof of the roofline.
 *
 * Decode-style attention streams the KV cache once and does ~1 FLOP per byte, so it is
 * bound by memory bandwidth, not by FMAs; pct_roof divides by min(FMA peak, intensity x
 * bandwidth). The measurement reads a buffer several times the last-level cache, each
 * thread its own contiguous slice (first touched by that thread), with a loop of
 * independent 64-bit integer adds that the compiler vectorises for the baseline ISA
 * (integer sums vectorise without -ffast-math; one core of any x86-64 can add far
 * faster than DRAM delivers). Best of BW_TRIALS passes, in a forked child (core/child.h).
 */
#ifndef ATTN_BANDWIDTH_H
#define ATTN_BANDWIDTH_H

#include <stddef.h>

#define BW_TRIALS 5

/* Buffer bytes for the measurement: 4 x the last-level cache, at least 64 MiB, at most
 * 2 GiB and an eighth of physical memory (llc or phys 0 = unknown). */
size_t attn_bandwidth_buffer_bytes(long llc_bytes, long phys_bytes);

/* Read bandwidth in GB/s (1e9 bytes/s) of `threads` threads over a buffer of `bytes`,
 * run for about `seconds`. 0 when it could not be measured (message on stderr). */
double attn_bandwidth_measure(int threads, size_t bytes, double seconds);

#endif
