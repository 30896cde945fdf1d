/* util.c: see util.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include "util/util.h"

const char *attn_json_str(const cJSON *o, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

double attn_json_num(const cJSON *o, const char *name, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int attn_json_int(const cJSON *o, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

int attn_parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int attn_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int attn_parse_size(const char *s, size_t *out)
{
    char num[64];
    double scale = 1, v;
    size_t l = s ? strspn(s, "0123456789.eE+-") : 0;
    if (l == 0 || l >= sizeof num) return -1;
    memcpy(num, s, l);
    num[l] = 0;
    const char *end = s + l;
    switch (*end) {
    case 'k': case 'K': scale = 1024.0; end++; break;
    case 'm': case 'M': scale = 1024.0 * 1024; end++; break;
    case 'g': case 'G': scale = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': scale = 1024.0 * 1024 * 1024 * 1024; end++; break;
    }
    if (scale > 1 && (*end == 'i' || *end == 'I')) end++;
    if (*end == 'b' || *end == 'B') end++;
    if (*end || attn_parse_double(num, &v)) return -1;
    v *= scale;
    if (!(v >= 1 && v <= 1152921504606846976.0)) return -1;     /* 2^60 */
    *out = (size_t)v;
    return 0;
}

int attn_parse_shard(const char *s, int *k, int *n)
{
    char buf[32];
    const char *slash = s ? strchr(s, '/') : NULL;
    long lk, ln;
    if (!slash || (size_t)(slash - s) >= sizeof buf) return -1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = 0;
    if (attn_parse_long(slash + 1, 1, ATTN_MAX_SHARDS, &ln) || attn_parse_long(buf, 0, ln - 1, &lk)) return -1;
    *k = (int)lk;
    *n = (int)ln;
    return 0;
}

int attn_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void attn_fmt_time(double s, char *buf, size_t n)
{
    if (!(s > 0)) snprintf(buf, n, "-");
    else if (s >= 1) snprintf(buf, n, "%.3g s", s);
    else if (s >= 1e-3) snprintf(buf, n, "%.3g ms", s * 1e3);
    else snprintf(buf, n, "%.3g µs", s * 1e6);
}

void attn_fmt_bytes(double b, char *buf, size_t n)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = 0;
    while (b >= 1024 && i < 6) { b /= 1024; i++; }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, unit[i]);
}

void attn_die_with_parent(int parent)
{
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() != (pid_t)parent) _exit(0);
#else
    (void)parent;
#endif
}

int attn_mkdir_p(const char *path)
{
    char tmp[4200];
    int r = snprintf(tmp, sizeof tmp, "%s", path);
    if (r < 0 || (size_t)r >= sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0777) && errno != EEXIST ? -1 : 0;
}

void attn_results_dir(const char *arg, char *buf, size_t n)
{
    struct stat st;
    snprintf(buf, n, "%s", arg);
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) return;
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0; else snprintf(buf, n, ".");
}

void attn_safe_name(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-')) *s = '_';
}

void attn_appendf(char *buf, size_t n, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
}

void attn_cpu_slug(const char *model, char *out, size_t n)
{
    size_t k = 0;
    const char *s = model;
    while (*s && k < 80 && k + 1 < n) {
        if (!strncasecmp(s, "(r)", 3)) { s += 3; continue; }
        if (!strncasecmp(s, "(tm)", 4)) { s += 4; continue; }
        unsigned char ch = (unsigned char)*s++;
        if (isalnum(ch)) out[k++] = (char)tolower(ch);
        else if (k && out[k - 1] != '-') out[k++] = '-';
    }
    while (k && out[k - 1] == '-') k--;
    out[k] = 0;
}

double attn_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
