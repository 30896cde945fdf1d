/* wisdom.c: read, merge and write wisdom files (record/wisdom.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "core/machine.h"
#include "record/results.h"
#include "record/wisdom.h"

#define WISDOM_MAX_BYTES (16 << 20)

const char *attn_wisdom_root(void)
{
    const char *e = getenv("ATTN_TUNING_DIR");
    return (e && *e) ? e : "results/tuning";
}

void attn_wisdom_default_path(char *out, size_t n)
{
    char model[256], slug[128];
    attn_cpu_model(model, sizeof model);
    attn_cpu_slug(model, slug, sizeof slug);
    snprintf(out, n, "%s/%s.json", attn_wisdom_root(), *slug ? slug : "unknown-cpu");
}

void attn_wisdom_class(const attn_case *c, int *head_dim, attn_dtype *dtype, int *len_log2)
{
    int l = 0;
    while (l < 30 && (2L << l) <= c->kv_len) l++;
    *head_dim = c->head_dim;
    *dtype = c->dtype;
    *len_log2 = l;
}

static int same_class(const attn_wisdom_entry *a, const attn_wisdom_entry *b)
{
    return !strcmp(a->kernel, b->kernel) && a->head_dim == b->head_dim &&
           a->dtype == b->dtype && a->len_log2 == b->len_log2;
}

const attn_wisdom_entry *attn_wisdom_find(const attn_wisdom *w, const attn_case *c)
{
    attn_wisdom_entry key;
    memset(&key, 0, sizeof key);
    snprintf(key.kernel, sizeof key.kernel, "%s", c->kernel->name);
    attn_wisdom_class(c, &key.head_dim, &key.dtype, &key.len_log2);
    for (int i = 0; i < w->n; i++)
        if (same_class(&w->e[i], &key)) return &w->e[i];
    return NULL;
}

int attn_wisdom_put(attn_wisdom *w, const attn_wisdom_entry *e)
{
    for (int i = 0; i < w->n; i++)
        if (same_class(&w->e[i], e)) { w->e[i] = *e; return 0; }
    attn_wisdom_entry *nv = realloc(w->e, (size_t)(w->n + 1) * sizeof *nv);
    if (!nv) return -1;
    w->e = nv;
    w->e[w->n++] = *e;
    return 0;
}

void attn_wisdom_free(attn_wisdom *w)
{
    free(w->e);
    memset(w, 0, sizeof *w);
}

/* ------------------------------------------------------------------ read -- */

static uint64_t fnv1a64(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* A string member of o, 1..max-1 characters, copied into out. */
static int get_str(const cJSON *o, const char *name, char *out, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) >= max) return -1;
    snprintf(out, max, "%s", v->valuestring);
    return 0;
}

/* A whole-number member of o in [lo, hi]. */
static int get_int(const cJSON *o, const char *name, long lo, long hi, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
        v->valuedouble != floor(v->valuedouble)) return -1;
    *out = (int)v->valuedouble;
    return 0;
}

/* A finite number >= 0 (seconds, GFLOP/s). */
static int get_num(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0) return -1;
    *out = v->valuedouble;
    return 0;
}

/* One entry; NULL, or the name of the field that is wrong. */
static const char *read_entry(const cJSON *o, attn_wisdom_entry *e)
{
    char dt[8];
    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(o)) return "(not an object)";
    if (get_str(o, "kernel", e->kernel, sizeof e->kernel)) return "kernel";
    for (const char *s = e->kernel; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return "kernel";
    if (get_int(o, "head_dim", 1, 1 << 30, &e->head_dim)) return "head_dim";
    if (get_str(o, "dtype", dt, sizeof dt)) return "dtype";
    int t = 0;
    while (t < ATTN_DTYPE_COUNT && strcmp(attn_dtype_names[t], dt)) t++;
    if (t == ATTN_DTYPE_COUNT) return "dtype";
    e->dtype = (attn_dtype)t;
    if (get_int(o, "len_log2", 0, 30, &e->len_log2)) return "len_log2";
    static const char *const def_names[ATTN_TUNE_COUNT] = { "default_tile_q", "default_tile_k" };
    for (int i = 0; i < ATTN_TUNE_COUNT; i++) {
        if (get_int(o, attn_tune_names[i], 1, 1 << 20, &e->tune[i])) return attn_tune_names[i];
        if (get_int(o, def_names[i], 1, 1 << 20, &e->default_tune[i])) return def_names[i];
    }
    if (get_num(o, "median_s", &e->median_s)) return "median_s";
    if (get_num(o, "gflops", &e->gflops)) return "gflops";
    if (get_num(o, "default_median_s", &e->default_median_s)) return "default_median_s";
    if (get_int(o, "points", 1, 1 << 20, &e->points)) return "points";
    if (get_str(o, "date", e->date, sizeof e->date)) return "date";
    /* a kernel of this build must allow the values (another build's are kept as data) */
    const attn_kernel *k = attn_kernel_find(e->kernel);
    for (int i = 0; k && i < ATTN_TUNE_COUNT; i++)
        if (!attn_tune_allows(k, (attn_tune_id)i, e->tune[i])) return attn_tune_names[i];
    return NULL;
}

int attn_wisdom_load(const char *path, attn_wisdom *w, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 1;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    char *text = attn_read_file(path, &len);
    if (!text) { snprintf(err, errlen, "%s: cannot read (not a regular file?)", path); return -1; }
    if (len > WISDOM_MAX_BYTES) {
        snprintf(err, errlen, "%s: %zu bytes, more than a wisdom file holds (%d)", path, len, WISDOM_MAX_BYTES);
        free(text);
        return -1;
    }
    snprintf(w->hash, sizeof w->hash, "%016llx", (unsigned long long)fnv1a64(text, len));
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    const char *bad = NULL;
    int index = -1;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(doc, "entries");
    if (!cJSON_IsObject(doc)) bad = "not a JSON object";
    else if (!cJSON_IsString(schema) || strcmp(schema->valuestring, ATTN_WISDOM_SCHEMA))
        bad = "schema: not \"" ATTN_WISDOM_SCHEMA "\"";
    else if (get_str(doc, "cpu_model", w->cpu_model, sizeof w->cpu_model)) bad = "cpu_model: not a string";
    else if (get_str(doc, "updated", w->updated, sizeof w->updated)) bad = "updated: not a date string";
    else if (!cJSON_IsArray(entries) || cJSON_GetArraySize(entries) > ATTN_WISDOM_MAX_ENTRIES)
        bad = "entries: not an array (of at most 10000)";
    else {
        const cJSON *o;
        cJSON_ArrayForEach(o, entries) {
            attn_wisdom_entry e;
            index++;
            if ((bad = read_entry(o, &e)) != NULL) break;
            for (int i = 0; i < w->n && !bad; i++)
                if (same_class(&w->e[i], &e)) bad = "(the same kernel and class as an earlier entry)";
            if (bad) break;
            if (attn_wisdom_put(w, &e)) { bad = "(out of memory)"; break; }
        }
    }
    cJSON_Delete(doc);
    if (!bad) return 0;
    if (index >= 0) snprintf(err, errlen, "%s: entries[%d].%s: missing or not valid", path, index, bad);
    else snprintf(err, errlen, "%s: %s", path, bad);
    attn_wisdom_free(w);
    return -1;
}

/* ----------------------------------------------------------------- write -- */

int attn_wisdom_save(const char *path, const attn_wisdom *w)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "schema", ATTN_WISDOM_SCHEMA);
    cJSON_AddStringToObject(doc, "cpu_model", w->cpu_model);
    cJSON_AddStringToObject(doc, "updated", w->updated);
    cJSON *arr = cJSON_AddArrayToObject(doc, "entries");
    for (int i = 0; i < w->n; i++) {
        const attn_wisdom_entry *e = &w->e[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kernel", e->kernel);
        cJSON_AddNumberToObject(o, "head_dim", e->head_dim);
        cJSON_AddStringToObject(o, "dtype", attn_dtype_name(e->dtype));
        cJSON_AddNumberToObject(o, "len_log2", e->len_log2);
        for (int t = 0; t < ATTN_TUNE_COUNT; t++) cJSON_AddNumberToObject(o, attn_tune_names[t], e->tune[t]);
        cJSON_AddNumberToObject(o, "median_s", e->median_s);
        cJSON_AddNumberToObject(o, "gflops", e->gflops);
        cJSON_AddNumberToObject(o, "default_tile_q", e->default_tune[ATTN_TUNE_TILE_Q]);
        cJSON_AddNumberToObject(o, "default_tile_k", e->default_tune[ATTN_TUNE_TILE_K]);
        cJSON_AddNumberToObject(o, "default_median_s", e->default_median_s);
        cJSON_AddNumberToObject(o, "points", e->points);
        cJSON_AddStringToObject(o, "date", e->date);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (!text) { fprintf(stderr, "attnbench: %s: out of memory\n", path); return -1; }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    int rc = 0;
    if (slash && attn_mkdir_p(dir) != 0) {
        fprintf(stderr, "attnbench: cannot create %s: %s\n", dir, strerror(errno));
        rc = -1;
    } else if (attn_write_file_atomic(path, text, strlen(text)) != 0) {
        fprintf(stderr, "attnbench: cannot write %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    free(text);
    return rc;
}
