/* machine.h: machine context (attnbench info, results.json "context") and measured peak. */
#ifndef ATTN_MACHINE_H
#define ATTN_MACHINE_H

#include <cjson/cJSON.h>
#include "attn.h"
#include "core/peak.h"

/* The context object of docs/design.md (date, host, cpu_model, isa, cores, caches, governor,
 * compiler, cflags, git_sha, peak_gflops, bandwidth_gbs, bandwidth_buffer_bytes). peaks may be NULL. Caller owns the result. */
cJSON *attn_context_json(const attn_peaks *peaks);

/* Cache sizes in bytes (0 if unknown); used by kernels' tile choices and the context. */
long attn_cache_bytes(int level);
/* The CPU's model name as the context records it ("AMD EPYC 7B13 64-Core Processor"). */
void attn_cpu_model(char *buf, size_t n);
int attn_cpu_cores(void);
long attn_phys_mem_bytes(void);

#endif
