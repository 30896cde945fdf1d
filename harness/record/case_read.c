/* case_read.c: one case object of results.json read back: the canonical key compare
 * matches cases by, the display label, the timed samples (record/case_read.h).
 *
 * The key is the kernel name and every "params" field that matters (sorted by name);
 * which fields matter, and how the label shows them, are columns of the parameter table
 * (core/params.def: MATTERS, LABEL, LABEL_WHEN). analysis/compare_verdict.c judges.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/util.h"
#include "core/params.h"
#include "core/stats.h"
#include "record/case_read.h"

/* ---------------------------------------------------------------------------------- */
/* case keys and labels                                                                 */

/* A JSON scalar as canonical text: numbers %.17g (integers exact), strings raw. */
static void value_text(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9e15) snprintf(out, n, "%.0f", d);
        else snprintf(out, n, "%.17g", d);
    } else if (cJSON_IsString(v)) {
        snprintf(out, n, "%s", v->valuestring);
    } else if (cJSON_IsBool(v)) {
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        snprintf(out, n, "null");
    } else {                    /* arrays/objects: their compact JSON, stable for our writer */
        char *s = cJSON_PrintUnformatted(v);
        snprintf(out, n, "%s", s ? s : "?");
        free(s);
    }
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Does params field `name` change what is measured? Not the sweep's name (the same case
 * in differently named sweeps is the same measurement), not a row whose MATTERS column
 * says it cannot in this case (pad without a padding mask, additive_dim for dot scores);
 * a field this build's table does not know does. Key and label both leave these out. */
static int param_matters(const attn_case *c, const char *name)
{
    if (!strcmp(name, "sweep")) return 0;
    int p = attn_param_by_field(name);
    return p < 0 || attn_param_matters_in(c, p);
}

int attn_case_key(const cJSON *c, char *out, size_t n)
{
    out[0] = 0;
    const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(c, "kernel");
    if (!cJSON_IsString(kernel)) return -1;
    attn_appendf(out, n, "kernel=%s;", kernel->valuestring);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "params");
    int np = cJSON_GetArraySize(params);
    if (np <= 0) return 0;
    const char **names = malloc(sizeof *names * (size_t)np);
    if (!names) return -1;
    attn_case pc;
    memset(&pc, 0, sizeof pc);
    attn_params_from_json(params, &pc);
    int k = 0;
    for (const cJSON *f = params->child; f; f = f->next)
        if (f->string && param_matters(&pc, f->string)) names[k++] = f->string;
    qsort(names, (size_t)k, sizeof *names, cmp_strp);
    for (int i = 0; i < k; i++) {
        char v[256];
        value_text(cJSON_GetObjectItemCaseSensitive(params, names[i]), v, sizeof v);
        attn_appendf(out, n, "%s=%s;", names[i], v);
    }
    free(names);
    return 0;
}

void attn_case_label(const cJSON *c, char *out, size_t n)
{
    /* the rows with a LABEL tag, in table order, left out at their default when the row
     * says so (the label is read by people); then every other params field that matters,
     * as name:value, so the label stays unique */
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "params");
    attn_case pc;
    memset(&pc, 0, sizeof pc);
    attn_params_from_json(p, &pc);
    snprintf(out, n, "%s", attn_json_str(c, "kernel", "?"));
    for (int r = 0; r < ATTN_N_PARAMS; r++) {
        const attn_param *row = &attn_params[r];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, row->field);
        if (!row->label || !v) continue;
        if (row->label_when == PL_NOT_DEFAULT &&
            attn_param_get(&pc, r) == attn_param_default(&pc, r)) continue;
        char t[128];
        value_text(v, t, sizeof t);
        attn_appendf(out, n, "/%s:%s", row->label, t);
    }
    for (const cJSON *f = p ? p->child : NULL; f; f = f->next) {
        if (!f->string) continue;
        int r = attn_param_by_field(f->string);
        if ((r >= 0 && attn_params[r].label) || !param_matters(&pc, f->string)) continue;
        char t[128];
        value_text(f, t, sizeof t);
        attn_appendf(out, n, "/%s:%s", f->string, t);
    }
}

/* ---------------------------------------------------------------------------------- */
/* samples                                                                              */

double *attn_case_samples(const cJSON *c, int *n)
{
    *n = 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "time_s");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "samples");
    int ns = cJSON_IsArray(s) ? cJSON_GetArraySize(s) : 0;
    if (ns > 0) {
        double *x = malloc(sizeof *x * (size_t)ns);
        if (!x) return NULL;
        int k = 0;
        for (const cJSON *e = s->child; e; e = e->next)
            if (cJSON_IsNumber(e) && isfinite(e->valuedouble) && e->valuedouble > 0)
                x[k++] = e->valuedouble;
        if (k > 0) { *n = k; return x; }
        free(x);
    }
    double med = attn_json_num(t, "median", NAN);
    if (!(isfinite(med) && med > 0)) return NULL;
    double *x = malloc(sizeof *x);
    if (x) { x[0] = med; *n = 1; }
    return x;
}
