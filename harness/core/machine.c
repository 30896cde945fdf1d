/* machine.c: what machine and build produced a run: the "context" object of
 * results.json and `attnbench info`.
 *
 * Everything comes from Linux's /proc and /sys with portable fallbacks (sysconf, uname),
 * so the binary runs anywhere and writes "unknown" rather than failing. The build facts
 * (ATTN_CFLAGS, ATTN_ISA_FLAGS, ATTN_GIT_SHA) are passed in by the Makefile, which
 * rebuilds this file every time so they never go stale.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "util/util.h"
#include "core/machine.h"
#include "core/peak.h"

#ifndef ATTN_CFLAGS
#define ATTN_CFLAGS "unknown"
#endif
#ifndef ATTN_ISA_FLAGS
#define ATTN_ISA_FLAGS "unknown"
#endif
#ifndef ATTN_GIT_SHA
#define ATTN_GIT_SHA "unknown"
#endif

/* ---------------------------------------------------------------- files -- */

/* First line of a small text file, trailing whitespace removed; 0 or -1. */
static int read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *ok = fgets(buf, (int)n, f);
    fclose(f);
    if (!ok) return -1;
    size_t len = strlen(buf);
    while (len && isspace((unsigned char)buf[len - 1])) buf[--len] = 0;
    return 0;
}

/* Value of the first "key<spaces>: value" line of /proc/cpuinfo, into buf; 0 or -1. */
static int cpuinfo_field(const char *key, char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    static char line[8192];
    int rc = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen)) continue;
        char *p = line + klen;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != ':') continue;
        p++;
        while (*p == ' ') p++;
        size_t len = strlen(p);
        while (len && isspace((unsigned char)p[len - 1])) p[--len] = 0;
        snprintf(buf, n, "%s", p);
        rc = 0;
        break;
    }
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------- hardware -- */

int attn_cpu_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

long attn_phys_mem_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? pages * size : 0;
}

long attn_cache_bytes(int level)
{
    /* sysfs lists cpu0's caches as index0..N with level, type and size */
    char path[128], buf[64];
    for (int i = 0; i < 16; i++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (read_line(path, buf, sizeof buf) != 0) break;
        if (atoi(buf) != level) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (read_line(path, buf, sizeof buf) != 0 || !strcmp(buf, "Instruction")) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (read_line(path, buf, sizeof buf) == 0) {
            size_t v;                   /* "32K", "1024K", "32M" */
            if (attn_parse_size(buf, &v) == 0) return (long)v;
        }
    }
    long v = 0;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    if (level == 1) v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    if (level == 2) v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (level == 3) v = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    return v > 0 ? v : 0;
}

/* Instruction-set features that matter for these kernels, as /proc/cpuinfo spells them
 * ("flags" on x86, "Features" on Arm). */
static const char *const isa_flags[] = {
    "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c",
    "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_bf16",
    "avx512_vnni", "avx512_fp16", "amx_tile", "amx_bf16",
    "asimd", "asimdhp", "sve", "sve2",
};

static int has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return 1;
    return 0;
}

static cJSON *isa_json(void)
{
    cJSON *a = cJSON_CreateArray();
    static char flags[8192];
    if (cpuinfo_field("flags", flags, sizeof flags) == 0 ||
        cpuinfo_field("Features", flags, sizeof flags) == 0) {
        for (size_t i = 0; i < sizeof isa_flags / sizeof *isa_flags; i++)
            if (has_word(flags, isa_flags[i]))
                cJSON_AddItemToArray(a, cJSON_CreateString(isa_flags[i]));
        return a;
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    /* no /proc: ask cpuid through the compiler */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse2")) cJSON_AddItemToArray(a, cJSON_CreateString("sse2"));
    if (__builtin_cpu_supports("avx")) cJSON_AddItemToArray(a, cJSON_CreateString("avx"));
    if (__builtin_cpu_supports("avx2")) cJSON_AddItemToArray(a, cJSON_CreateString("avx2"));
    if (__builtin_cpu_supports("fma")) cJSON_AddItemToArray(a, cJSON_CreateString("fma"));
    if (__builtin_cpu_supports("avx512f")) cJSON_AddItemToArray(a, cJSON_CreateString("avx512f"));
    if (__builtin_cpu_supports("avx512bw")) cJSON_AddItemToArray(a, cJSON_CreateString("avx512bw"));
    if (__builtin_cpu_supports("avx512vl")) cJSON_AddItemToArray(a, cJSON_CreateString("avx512vl"));
    if (__builtin_cpu_supports("avx512dq")) cJSON_AddItemToArray(a, cJSON_CreateString("avx512dq"));
#endif
    return a;
}

void attn_cpu_model(char *buf, size_t n)
{
    if (cpuinfo_field("model name", buf, n) == 0) return;
    if (cpuinfo_field("Model", buf, n) == 0) return;        /* Arm boards */
    if (cpuinfo_field("CPU part", buf, n) == 0) return;
    struct utsname u;
    snprintf(buf, n, "%s", uname(&u) == 0 ? u.machine : "unknown");
}

static const char *compiler_name(void)
{
#if defined(__clang__)
    return "clang " __VERSION__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(__VERSION__)
    return __VERSION__;
#else
    return "unknown";
#endif
}

/* -------------------------------------------------------------- context -- */

cJSON *attn_context_json(const attn_peaks *peaks)
{
    cJSON *o = cJSON_CreateObject();
    char buf[512];

    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(o, "date", buf);

    if (gethostname(buf, sizeof buf) != 0) snprintf(buf, sizeof buf, "unknown");
    buf[sizeof buf - 1] = 0;
    cJSON_AddStringToObject(o, "host", buf);

    attn_cpu_model(buf, sizeof buf);
    cJSON_AddStringToObject(o, "cpu_model", buf);
    cJSON_AddItemToObject(o, "isa", isa_json());

    /* the ISAs attnbench's kernels may use here: the hardware's, capped by ATTN_ISA */
    cJSON *usable = cJSON_AddArrayToObject(o, "isa_usable");
    attn_isa top = attn_isa_available();
    for (int i = 0; i <= (int)top && i < ATTN_ISA_COUNT; i++)
        cJSON_AddItemToArray(usable, cJSON_CreateString(attn_isa_name((attn_isa)i)));
    const char *cap = getenv("ATTN_ISA");
    if (cap && *cap) cJSON_AddStringToObject(o, "isa_cap", cap);

    cJSON_AddNumberToObject(o, "cores", attn_cpu_cores());
    cJSON *c = cJSON_AddObjectToObject(o, "caches");
    cJSON_AddNumberToObject(c, "L1d", (double)attn_cache_bytes(1));
    cJSON_AddNumberToObject(c, "L2", (double)attn_cache_bytes(2));
    cJSON_AddNumberToObject(c, "L3", (double)attn_cache_bytes(3));
    cJSON_AddNumberToObject(o, "mem_bytes", (double)attn_phys_mem_bytes());

    if (read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", buf, sizeof buf) != 0)
        snprintf(buf, sizeof buf, "unknown");
    cJSON_AddStringToObject(o, "governor", buf);

    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(o, "os", buf);
    }

    cJSON_AddStringToObject(o, "compiler", compiler_name());
    cJSON_AddStringToObject(o, "cflags", ATTN_CFLAGS);
    cJSON_AddStringToObject(o, "isa_flags", ATTN_ISA_FLAGS);
    cJSON_AddStringToObject(o, "git_sha", ATTN_GIT_SHA);
    cJSON_AddItemToObject(o, "peak_gflops", attn_peaks_json(peaks));
    cJSON_AddItemToObject(o, "bandwidth_gbs", attn_bandwidth_json(peaks));
    if (peaks && peaks->bw_buffer_bytes > 0)
        cJSON_AddNumberToObject(o, "bandwidth_buffer_bytes", peaks->bw_buffer_bytes);
    return o;
}
