/* schema.c: what every reader of results.json (compare, history, merge, plot) may rely
 * on, checked once when the file is loaded (attn_results_load), so a hand-edited or
 * truncated file from another machine is refused with the file, the case and the field
 * instead of being read as if valid. Fields are checked for type and range where present;
 * only kernel, status and params are required of a case. Unknown fields are allowed:
 * the schema only ever grows (design.md, Results). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/params.h"
#include "record/results.h"

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    int index;                  /* case index, -1 for the document level */
    const char *id;
} where;

static int fail(const where *w, const char *field, const char *what)
{
    if (w->index < 0)
        snprintf(w->err, w->errlen, "%s: field \"%s\": %s", w->file, field, what);
    else
        snprintf(w->err, w->errlen, "%s: case %d%s%s%s: field \"%s\": %s", w->file, w->index,
                 w->id ? " (" : "", w->id ? w->id : "", w->id ? ")" : "", field, what);
    return -1;
}

/* A number that is finite and >= 0, or null (when nullable). */
static int nonneg(const where *w, const cJSON *v, const char *field, int nullable)
{
    if (nullable && cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
        return fail(w, field, nullable ? "expected a number >= 0 or null" : "expected a number >= 0");
    return 0;
}

/* Every member of object o (if present) a number >= 0 or null. */
static int numbers_of(const where *w, const cJSON *o, const char *name)
{
    if (!o || cJSON_IsNull(o)) return 0;
    if (!cJSON_IsObject(o)) return fail(w, name, "expected an object or null");
    char field[128];
    for (const cJSON *m = o->child; m; m = m->next) {
        if (!cJSON_IsNumber(m) && !cJSON_IsNull(m) && !cJSON_IsArray(m)) {
            snprintf(field, sizeof field, "%s.%s", name, m->string ? m->string : "?");
            return fail(w, field, "expected a number");
        }
    }
    return 0;
}

static int check_time(const where *w, const cJSON *t)
{
    if (!t || cJSON_IsNull(t)) return 0;
    if (!cJSON_IsObject(t)) return fail(w, "time_s", "expected an object or null");
    char field[64];
    for (const cJSON *m = t->child; m; m = m->next) {
        snprintf(field, sizeof field, "time_s.%s", m->string ? m->string : "?");
        if (m->string && !strcmp(m->string, "samples")) {
            if (!cJSON_IsArray(m)) return fail(w, field, "expected an array of seconds");
            int i = 0;
            for (const cJSON *s = m->child; s; s = s->next, i++) {
                snprintf(field, sizeof field, "time_s.samples[%d]", i);
                if (nonneg(w, s, field, 0)) return -1;
            }
        } else if (nonneg(w, m, field, 1)) {
            return -1;
        }
    }
    return 0;
}

/* A params member that is a row of core/params.def holds what the row can: enum rows a
 * name (one this build does not know is allowed: charts sort it last), real rows a number
 * in the row's range, integer rows a whole number from 0 (-1 for an unbounded window
 * side) to ATTN_PARAM_MAX_SIZE, so readers may convert it to int. */
static int check_param(const where *w, const cJSON *m, const char *field)
{
    for (int p = 0; p < ATTN_N_PARAMS; p++) {
        const attn_param *r = &attn_params[p];
        if (!m->string || strcmp(m->string, r->field)) continue;
        if (r->type == PT_ENUM)
            return cJSON_IsString(m) ? 0 : fail(w, field, "expected a name");
        double v = cJSON_IsNumber(m) ? m->valuedouble : NAN;
        if (r->type == PT_DOUBLE)
            return v >= r->min && v <= r->max ? 0 : fail(w, field, "expected a number in the parameter's range");
        double lo = r->type == PT_SIDE ? -1 : 0;
        if (!(v >= lo && v <= ATTN_PARAM_MAX_SIZE && v == floor(v)))
            return fail(w, field, r->type == PT_SIDE ? "expected a whole number from -1 to 2^30"
                                                     : "expected a whole number from 0 to 2^30");
        return 0;
    }
    return 0;                   /* not a row ("sweep", or a field of a newer version) */
}

static int check_case(const where *w0, const cJSON *c, int index)
{
    where w = *w0;
    w.index = index;
    if (!cJSON_IsObject(c)) return fail(&w, "cases[]", "expected an object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
    if (id && !cJSON_IsString(id)) return fail(&w, "id", "expected a string");
    w.id = id ? id->valuestring : NULL;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "kernel");
    if (!cJSON_IsString(k) || !*k->valuestring) return fail(&w, "kernel", "expected a non-empty string");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "status");
    if (!cJSON_IsString(st)) return fail(&w, "status", "expected a string");
    int known = 0;
    for (int s = ST_OK; s <= ST_TIMEOUT; s++) known |= !strcmp(st->valuestring, attn_status_name((attn_case_status)s));
    if (!known) return fail(&w, "status", "expected ok, invalid, skipped, crashed or timeout");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "params");
    if (!cJSON_IsObject(p)) return fail(&w, "params", "expected an object");
    char field[128];
    for (const cJSON *m = p->child; m; m = m->next) {
        snprintf(field, sizeof field, "params.%s", m->string ? m->string : "?");
        if (cJSON_IsNumber(m) ? !isfinite(m->valuedouble) : !cJSON_IsString(m))
            return fail(&w, field, "expected a finite number or a string");
        if (check_param(&w, m, field)) return -1;
    }
    static const char *const strings[] = { "reason", "isa", "sweep" };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, strings[i]);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) return fail(&w, strings[i], "expected a string");
    }
    static const char *const nums[] = { "case_index", "flops", "gflops", "pct_peak", "wall_s",
                                        "bytes", "intensity", "gbytes_s", "roof_gflops", "pct_roof" };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, nums[i]);
        if (v && nonneg(&w, v, nums[i], 1)) return -1;
    }
    if (check_time(&w, cJSON_GetObjectItemCaseSensitive(c, "time_s"))) return -1;
    if (numbers_of(&w, cJSON_GetObjectItemCaseSensitive(c, "memory"), "memory")) return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "validation");
    if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v)) return fail(&w, "validation", "expected an object or null");
    if (cJSON_IsString(st) && !strcmp(st->valuestring, "ok")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "time_s");
        const cJSON *med = cJSON_GetObjectItemCaseSensitive(t, "median");
        if (!cJSON_IsNumber(med)) return fail(&w, "time_s.median", "an ok case needs its median time");
    }
    return 0;
}

int attn_results_check(const cJSON *doc, const char *file, char *err, size_t errlen)
{
    where w = { file, err, errlen, -1, NULL };
    if (!cJSON_IsObject(doc)) return fail(&w, "(document)", "expected a JSON object");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (schema && !cJSON_IsNumber(schema)) return fail(&w, "schema", "expected a number");
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    if (ctx && !cJSON_IsObject(ctx)) return fail(&w, "context", "expected an object");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    if (!cJSON_IsArray(cases)) return fail(&w, "cases", "not an attnbench results file (no \"cases\" array)");
    int i = 0;
    for (const cJSON *c = cases->child; c; c = c->next, i++) {
        if (i == ATTN_MAX_RESULT_CASES)
            return fail(&w, "cases", "more than " ATTN_STR(ATTN_MAX_RESULT_CASES) " cases (the readers' cap)");
        if (check_case(&w, c, i)) return -1;
    }
    return 0;
}
