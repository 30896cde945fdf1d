/* machine.h: machine context (attnbench info, results.json "context") and measured peak. */
#ifndef ATTN_MACHINE_H
#define ATTN_MACHINE_H

#include <cjson/cJSON.h>
#include "attn.h"

/* Measured fp32 FMA throughput in GFLOP/s of `isa` code on `threads` threads, run for
 * about `seconds`. Runs in a forked child (the parent never starts OpenMP threads, so
 * forking stays safe). Returns 0 when the ISA is not usable here. */
double attn_peak_measure(attn_isa isa, int threads, double seconds);

/* Table of measured peaks: peak[isa][threads], 0 = not measured. */
#define ATTN_MAX_THREADS 256
typedef struct attn_peaks {
    double gflops[ATTN_ISA_COUNT][ATTN_MAX_THREADS + 1];
} attn_peaks;

/* The context object of DESIGN.md (date, host, cpu_model, isa, cores, caches, governor,
 * compiler, cflags, git_sha, peak_gflops). peaks may be NULL. Caller owns the result. */
cJSON *attn_context_json(const attn_peaks *peaks);

/* Cache sizes in bytes (0 if unknown); used by kernels' tile choices and the context. */
long attn_cache_bytes(int level);
int attn_cpu_cores(void);
long attn_phys_mem_bytes(void);

#endif
