/* params.c: the table of case parameters from params.def, and its walkers (params.h). */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "core/params.h"

const char *const attn_mask_names[4] = {
    [MASK_NONE] = "none", [MASK_CAUSAL] = "causal", [MASK_PADDING] = "padding",
    [MASK_CAUSAL_PADDING] = "causal_padding",
};
const char *const attn_score_names[ATTN_SCORE_COUNT] = {
    [ATTN_SCORE_DOT] = "dot", [ATTN_SCORE_ADDITIVE] = "additive", [ATTN_SCORE_GENERAL] = "general",
};
const char *const attn_layer_names[2] = {
    [ATTN_LAYER_ATTENTION] = "attention", [ATTN_LAYER_MHA] = "mha",
};
static_assert(sizeof attn_layer_names / sizeof *attn_layer_names == ATTN_LAYER_MHA + 1,
              "one name per attn_layer_kind");
static_assert(sizeof attn_mask_names / sizeof *attn_mask_names == MASK_CAUSAL_PADDING + 1,
              "one name per attn_mask");
static_assert(sizeof attn_score_names / sizeof *attn_score_names == ATTN_SCORE_GENERAL + 1,
              "one name per attn_score");
/* attn_dtype_names (kernels/dtype.c) is declared with ATTN_DTYPE_COUNT names in attn.h */

/* Column spellings of params.def -> table values. */
#define P_NONE (-1)
#define AX(E, NAME, SHORT, XLABEL) NAME, SHORT, 0
#define AXJOIN NULL, NULL, 1
#define NOAX NULL, NULL, 0
#define ENUM(A) A, (int)(sizeof A / sizeof *A), 0
#define ENUM_BY_NAME(A) A, (int)(sizeof A / sizeof *A), 1
#define NOENUM NULL, 0, 0

const attn_param attn_params[ATTN_N_PARAMS] = {
#define ATTN_PARAM(ID, FIELD, KEY, TYPE, MIN, MAX, DEF, FOLLOWS, ENUM, TAG, IN_ID, MATTERS, \
                   LABEL, LABEL_WHEN, AXIS, PRODUCT)                                        \
    [P_##ID] = { #FIELD, KEY, PT_##TYPE, MIN, MAX, DEF, P_##FOLLOWS, ENUM,    \
                 TAG, PW_##IN_ID, PM_##MATTERS, LABEL, PL_##LABEL_WHEN, AXIS, PRODUCT,       \
                 offsetof(attn_case, FIELD) },
#include "core/params.def"
#undef ATTN_PARAM
};

/* Every member named in the table has the size its type says: a row cannot point an
 * int reader at a double or the other way round. */
#define ATTN_PARAM(ID, FIELD, KEY, TYPE, ...)                                               \
    static_assert(sizeof(((attn_case *)0)->FIELD) == (PT_##TYPE == PT_DOUBLE ? sizeof(double) \
                                                                             : sizeof(int)), \
                  #FIELD ": member size does not match its type");
#include "core/params.def"
#undef ATTN_PARAM

double attn_param_get(const attn_case *c, int p)
{
    const char *at = (const char *)c + attn_params[p].offset;
    if (attn_params[p].type == PT_DOUBLE) return *(const double *)at;
    return *(const int *)at;
}

void attn_param_set(attn_case *c, int p, double v)
{
    char *at = (char *)c + attn_params[p].offset;
    if (attn_params[p].type == PT_DOUBLE) *(double *)at = v;
    else *(int *)at = (int)v;
}

int attn_param_matters_in(const attn_case *c, int p)
{
    switch (attn_params[p].matters) {
    case PM_PADDING: return (c->mask & MASK_PADDING) != 0;
    case PM_ADDITIVE: return c->score == ATTN_SCORE_ADDITIVE;
    case PM_MHA: return c->layer == ATTN_LAYER_MHA;
    default: return 1;
    }
}

int attn_param_enum_parse(int p, const char *s)
{
    for (int i = 0; s && i < attn_params[p].n_names; i++)
        if (!strcmp(s, attn_params[p].names[i])) return i;
    return -1;
}

int attn_param_by_key(const char *s)
{
    for (int p = 0; p < ATTN_N_PARAMS; p++)
        if (!strcmp(s, attn_params[p].key)) return p;
    return -1;
}

int attn_param_by_field(const char *s)
{
    for (int p = 0; p < ATTN_N_PARAMS; p++)
        if (!strcmp(s, attn_params[p].field)) return p;
    return -1;
}

double attn_param_default(const attn_case *c, int p)
{
    int f = attn_params[p].follows;
    if (p == P_D_MODEL) return (double)c->heads * c->head_dim;
    return f >= 0 ? attn_param_get(c, f) : attn_params[p].def;
}

void attn_params_to_json(const attn_case *c, cJSON *o)
{
    for (int p = 0; p < ATTN_N_PARAMS; p++) {
        const attn_param *r = &attn_params[p];
        double v = attn_param_get(c, p);
        switch (r->type) {
        case PT_ENUM:
            cJSON_AddStringToObject(o, r->field, v >= 0 && v < r->n_names ? r->names[(int)v] : "?");
            break;
        case PT_SIDE:
            cJSON_AddNumberToObject(o, r->field, v < 0 ? -1 : v);
            break;
        case PT_DOUBLE:     /* JSON has no NaN */
            if (isfinite(v)) cJSON_AddNumberToObject(o, r->field, v);
            else cJSON_AddNullToObject(o, r->field);
            break;
        default:
            cJSON_AddNumberToObject(o, r->field, v);
        }
    }
    cJSON_AddStringToObject(o, "sweep", c->sweep);
}

void attn_params_from_json(const cJSON *params, attn_case *c)
{
    for (int p = 0; p < ATTN_N_PARAMS; p++) {
        const attn_param *r = &attn_params[p];
        if (r->type == PT_ENUM) {
            const char *s = attn_json_str(params, r->field, NULL);
            attn_param_set(c, p, s ? attn_param_enum_parse(p, s) : r->def);
        } else {
            double v = attn_json_num(params, r->field, NAN);
            attn_param_set(c, p, isnan(v) ? attn_param_default(c, p) : v);
        }
    }
    snprintf(c->sweep, sizeof c->sweep, "%s", attn_json_str(params, "sweep", ""));
}

/* Shortest %g form of x that reads back as x, so distinct pads give distinct ids. */
static void format_double(char *buf, size_t n, double x)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

void attn_params_id(const attn_case *c, char *buf, size_t n)
{
    size_t len = strlen(buf);
    for (int p = 0; p < ATTN_N_PARAMS && len + 1 < n; p++) {
        const attn_param *r = &attn_params[p];
        double v = attn_param_get(c, p);
        int write = r->in_id == PW_ALWAYS ||
                    (r->in_id == PW_MATTERS && attn_param_matters_in(c, p)) ||
                    (r->in_id == PW_NONZERO && v != 0) ||
                    (r->in_id == PW_WINDOW && (c->window_left >= 0 || c->window_right >= 0));
        if (!write) continue;
        char t[48];
        if (r->type == PT_ENUM) snprintf(t, sizeof t, "%s", v >= 0 && v < r->n_names ? r->names[(int)v] : "?");
        else if (r->type == PT_DOUBLE) format_double(t, sizeof t, v);
        else if (r->type == PT_SIDE && v < 0) snprintf(t, sizeof t, "inf");
        else snprintf(t, sizeof t, "%d", (int)v);
        len += (size_t)snprintf(buf + len, n - len, "-%s%s", r->tag, t);
    }
}
