/* params.h: the table of case parameters (rows in core/params.def; docs/params.md).
 *
 * Every place that spells a case parameter (config keys and expansion, ids, results.json
 * "params", results.csv columns, compare keys and labels, chart axes) walks this table;
 * adding a parameter is one row in params.def plus the code that uses the value.
 */
#ifndef ATTN_PARAMS_H
#define ATTN_PARAMS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "core/case.h"

#define ATTN_PARAM_MAX_SIZE (1 << 30)   /* largest integer value, keeps products in range */
#define ATTN_PARAM_MAX_THREADS 65536       /* keeps threads x per-thread workspace in range */

typedef enum {
#define ATTN_PARAM(ID, ...) P_##ID,
#include "core/params.def"
#undef ATTN_PARAM
    ATTN_N_PARAMS
} attn_param_id;

typedef enum { PT_INT, PT_SIDE, PT_DOUBLE, PT_ENUM } attn_param_type;
typedef enum { PW_ALWAYS, PW_MATTERS, PW_WINDOW, PW_NONZERO } attn_param_in_id;
typedef enum { PM_ALWAYS, PM_PADDING, PM_ADDITIVE, PM_MHA } attn_param_matters;
typedef enum { PL_ALWAYS, PL_NOT_DEFAULT } attn_param_label_when;

typedef struct attn_param {
    const char *field;          /* attn_case member, JSON params field, CSV column */
    const char *key;            /* config key */
    attn_param_type type;
    double min, max;            /* allowed config range (PT_SIDE also takes -1) */
    double def;                 /* default (PT_ENUM: index into names) */
    int follows;                /* P_ id whose value is the default, or -1 */
    const char *const *names;   /* PT_ENUM: value names (n_names of them) */
    int n_names;
    int by_name;                /* PT_ENUM: charts order values by name, not by index */
    const char *tag;            /* id tag ("b" -> "-b1"); "" for enums (name alone) */
    attn_param_in_id in_id;
    attn_param_matters matters;
    const char *label;          /* compare label tag, or NULL: "/field:value" at the end */
    attn_param_label_when label_when;
    const char *axis;           /* plot axis name ("window" for both sides), or NULL */
    const char *axis_short;     /* its prefix in chart file names */
    int axis_join;              /* 1: shares the previous row's axis */
    int product;                /* rank in a config section's Cartesian product */
    size_t offset;              /* offsetof(attn_case, field) */
} attn_param;

extern const attn_param attn_params[ATTN_N_PARAMS];
extern const char *const attn_mask_names[4];
extern const char *const attn_score_names[ATTN_SCORE_COUNT];
extern const char *const attn_layer_names[2];

/* Value of parameter p of c as a double (enums: their index). */
double attn_param_get(const attn_case *c, int p);
void attn_param_set(attn_case *c, int p, double v);
/* Does parameter p change what c measures (MATTERS column)? */
int attn_param_matters_in(const attn_case *c, int p);
/* Index of an enum name in row p's names, or -1. */
int attn_param_enum_parse(int p, const char *s);
/* Row whose config key / field is s, or -1. */
int attn_param_by_key(const char *s);
int attn_param_by_field(const char *s);
/* Default of p for a case whose earlier rows are already set (FOLLOWS column; d_model's
 * default is heads x head_dim, the one default that is a product of two rows). */
double attn_param_default(const attn_case *c, int p);

/* results.json "params" member of c: every row in table order, then "sweep". */
void attn_params_to_json(const attn_case *c, cJSON *params);
/* The reverse, for analysis and plots: absent fields take their defaults; an enum name
 * this build does not know becomes -1. */
void attn_params_from_json(const cJSON *params, attn_case *c);
/* Append "-b1-h8-..." (the rows' id tags) to buf. */
void attn_params_id(const attn_case *c, char *buf, size_t n);

#endif
