/* cmd_info.c: `attnbench info`: the machine context every results.json records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "core/machine.h"

/* -------------------------------------------------------------- command -- */

int attn_cmd_info(int argc, char **argv)
{
    int with_peak = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: attnbench info [--peak]\n"
                   "\n"
                   "Prints the machine context that every results.json records, as JSON:\n"
                   "date, host, cpu_model, isa, isa_usable, cores, caches, mem_bytes,\n"
                   "governor, os, compiler, cflags, isa_flags, git_sha, peak_gflops.\n"
                   "\n"
                   "  --peak   also measure peak_gflops (1 thread and all cores, ~0.5 s each;\n"
                   "           `attnbench peak` measures with more options)\n");
            return 0;
        }
        if (!strcmp(argv[i], "--peak")) { with_peak = 1; continue; }
        fprintf(stderr, "attnbench info: unknown argument '%s' (try --help)\n", argv[i]);
        return 2;
    }
    static attn_peaks pk;
    if (with_peak) {
        int cores = attn_cpu_cores();
        if (cores > ATTN_MAX_THREADS) cores = ATTN_MAX_THREADS;
        for (int i = 0; i <= (int)attn_isa_available() && i < ATTN_ISA_COUNT; i++) {
            pk.gflops[i][1] = attn_peak_measure((attn_isa)i, 1, 0.5);
            if (cores > 1) pk.gflops[i][cores] = attn_peak_measure((attn_isa)i, cores, 0.5);
        }
    }
    cJSON *o = attn_context_json(with_peak ? &pk : NULL);
    char *s = cJSON_Print(o);
    int rc = s ? 0 : 1;
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
    return rc;
}
