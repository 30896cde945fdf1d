/* util.h: the helpers every layer uses, written once: JSON field readers, strict number
 * parsing, directories, time formatting, a double comparator. The bottom layer: it
 * includes nothing of the harness. */
#ifndef ATTN_UTIL_H
#define ATTN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* ------------------------------------------------------------ size arithmetic -- */

/* Checked size arithmetic, written once: a * b and a + b as size_t, or SIZE_MAX with *ovf
 * set to 1 when the result does not fit (the flag is sticky, so a chain of operations is
 * checked once at its end). Every byte count computed from case sizes goes through these. */
static inline size_t attn_size_mul(size_t a, size_t b, int *ovf)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r)) { *ovf = 1; return SIZE_MAX; }
    return r;
}

static inline size_t attn_size_add(size_t a, size_t b, int *ovf)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r)) { *ovf = 1; return SIZE_MAX; }
    return r;
}

/* ------------------------------------------------------------------ clock -- */

/* Seconds on CLOCK_MONOTONIC: what every timed call is measured with. */
double attn_now_s(void);

/* ------------------------------------------------------------ JSON fields -- */

/* o[name] when it is a string (else dflt). */
const char *attn_json_str(const cJSON *o, const char *name, const char *dflt);
/* o[name] when it is a number (else dflt). */
double attn_json_num(const cJSON *o, const char *name, double dflt);
/* o[name] when it is a number, as int (else dflt). */
int attn_json_int(const cJSON *o, const char *name, int dflt);

/* --------------------------------------------------------------- numbers -- */

/* Strict: the whole of s is one finite number (no NaN, no infinity, no leading space or
 * trailing junk, no overflow). 0, or -1 with *out untouched. */
int attn_parse_double(const char *s, double *out);
/* Strict decimal integer in [lo, hi]. 0, or -1 with *out untouched. */
int attn_parse_long(const char *s, long lo, long hi, long *out);

/* Strict byte size: a finite number with an optional K/M/G/T suffix (powers of 1024,
 * optionally followed by "i" and/or "B"): "65536", "512M", "1.5GiB". At least 1 byte and
 * at most 2^60 (so NaN, infinities, 1e30 and trailing junk are refused). 0, or -1. */
int attn_parse_size(const char *s, size_t *out);

/* A shard "K/N": strict decimal integers, 0 <= K < N <= ATTN_MAX_SHARDS. 0, or -1. */
#define ATTN_MAX_SHARDS 1000000
int attn_parse_shard(const char *s, int *k, int *n);

/* qsort comparator for doubles, ascending. */
int attn_cmp_double(const void *a, const void *b);

/* ------------------------------------------------------------------ text -- */

/* "12.3 ms", "1.20 s", "850 µs"; "-" for a time that is not positive. */
void attn_fmt_time(double s, char *buf, size_t n);

/* "512 B", "1.5 KiB", "23.4 GiB", ... "16.0 EiB" (powers of 1024). */
void attn_fmt_bytes(double bytes, char *buf, size_t n);

/* ------------------------------------------------------------- processes -- */

/* In a forked child: be killed (SIGKILL) when the parent dies, so a parent killed alone
 * (not its process group) leaves nothing running on, unwatched. parent is the parent's
 * pid taken before fork(): a parent already gone before the request is caught too, and
 * then the child _exits at once. Linux only; elsewhere nothing. */
void attn_die_with_parent(int parent);

/* ----------------------------------------------------------------- files -- */

/* Reduce a name to [A-Za-z0-9._-] in place (anything else becomes '_'), so text read
 * from a results file can name a file, and stand unquoted in a script, safely. */
void attn_safe_name(char *s);
/* A CPU model as a file name: lowercase alphanumerics, every other run of characters one
 * '-', "(R)" and "(TM)" marks dropped, at most 80 characters of the model
 * ("AMD EPYC 7B13 64-Core Processor" -> "amd-epyc-7b13-64-core-processor"). n >= 81. */
void attn_cpu_slug(const char *model, char *out, size_t n);

/* mkdir -p: 0, or -1 with errno set. */
int attn_mkdir_p(const char *path);
/* The directory of a results argument: the argument itself when it is a directory,
 * otherwise the folder holding the file ("." for a bare file name). */
void attn_results_dir(const char *arg, char *buf, size_t n);

/* Append printf output to the string in buf (n bytes in all); silently truncates. */
void attn_appendf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
