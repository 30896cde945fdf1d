/* test_params.c: every row of the parameter table (harness/core/params.def) reaches every
 * consumer, and two cases that differ only in it are never taken for one.
 *
 * For each row: a config that gives its key two values (in a context where the row
 * matters: a padding mask for pad, additive scores for additive_dim) -> two cases with
 * those values -> distinct ids -> results.json params holding the field -> results.csv
 * holding the column, different in the two rows -> distinct compare keys and labels ->
 * a chart axis that tells them apart (so neither a series nor a same-shape group merges
 * them). A row dropped from any consumer fails here by name. Then the other side: a row
 * that does not matter (pad without padding, additive_dim with dot scores) does not
 * multiply the config's product nor split compare keys.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"
#include "core/config.h"
#include "core/params.h"
#include "record/results.h"
#include "analysis/compare.h"
#include "plot/plot.h"
#include "test.h"

/* Keys every test config sets (unless the row under test is one of them). */
static const struct { const char *key, *value; } base_keys[] = {
    { "kernels", "naive" }, { "heads", "2" }, { "seq_len", "16" }, { "head_dim", "8" },
};

/* Two distinct valid values of row p as config text, and the context that makes it
 * matter ("mask = padding" for pad, "score = additive" for additive_dim). */
static void row_values(int p, char *v, size_t n, const char **context)
{
    const attn_param *r = &attn_params[p];
    *context = r->matters == PM_PADDING ? "mask = padding\n"
             : r->matters == PM_ADDITIVE ? "score = additive\n"
             : r->matters == PM_MHA ? "layer = mha\n" : "";
    switch (r->type) {
    case PT_ENUM:   snprintf(v, n, "%s, %s", r->names[0], r->names[1]); break;
    case PT_DOUBLE: snprintf(v, n, "%g, %g", r->min + 0.25 * (r->max - r->min),
                             r->min + 0.5 * (r->max - r->min)); break;
    case PT_SIDE:   snprintf(v, n, "inf, 2"); break;
    default:        snprintf(v, n, "%g, %g", r->min, r->min + 1); break;
    }
    for (int t = 0; t < ATTN_TUNE_COUNT; t++)      /* a tunable: a kernel that has it */
        if (!strcmp(r->key, attn_tune_names[t])) {
            snprintf(v, n, "0, 64");
            *context = "kernels = flash\n";
        }
}

/* Load config text; 0 on success. */
static int load_text(const char *text, attn_caselist *l)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/attn_test_params_XXXXXX.ini");
    int fd = mkstemps(path, 4);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    int rc = attn_config_load(path, NULL, l);
    unlink(path);
    return rc;
}

/* The config of row p: its key with two values, the base keys it does not override. */
static void row_config(int p, char *buf, size_t n)
{
    char v[128];
    const char *context;
    row_values(p, v, sizeof v, &context);
    size_t len = (size_t)snprintf(buf, n, "[rows]\n%s = %s\n%s", attn_params[p].key, v, context);
    for (size_t i = 0; i < sizeof base_keys / sizeof base_keys[0]; i++)
        if (strcmp(base_keys[i].key, attn_params[p].key) && !strstr(context, base_keys[i].key))
            len += (size_t)snprintf(buf + len, n - len, "%s = %s\n", base_keys[i].key, base_keys[i].value);
}

/* Write the cases as a results directory; returns the loaded plot set (caller frees). */
static int write_and_plot(const attn_case *cs, int n, char *dir, plot_set *set)
{
    snprintf(dir, 64, "/tmp/attn_test_params_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema", 1);
    cJSON *ctx = cJSON_AddObjectToObject(doc, "context");
    cJSON_AddStringToObject(ctx, "date", "2026-01-01T00:00:00Z");
    cJSON *arr = cJSON_AddArrayToObject(doc, "cases");
    attn_result res;
    memset(&res, 0, sizeof res);
    res.status = ST_SKIPPED;
    snprintf(res.reason, sizeof res.reason, "test");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, attn_case_json(&cs[i], &res));
    int rc = attn_results_write_doc(dir, doc, 0);
    cJSON_Delete(doc);
    memset(set, 0, sizeof *set);
    set->baseline = "naive";
    return rc ? rc : plot_load_run(set, dir);
}

static void free_set(plot_set *s)
{
    plot_set_free(s);
}

/* The column of `field` in a CSV header line, or -1. */
static int csv_column(const char *header, const char *field)
{
    int col = 0;
    size_t fl = strlen(field);
    for (const char *s = header; *s && *s != '\n'; col++) {
        size_t len = strcspn(s, ",\n");
        if (len == fl && !strncmp(s, field, fl)) return col;
        s += len + (s[len] == ',');
    }
    return -1;
}

/* Field `col` of CSV line `line` (no quoted commas in these rows) into out. */
static void csv_field(const char *line, int col, char *out, size_t n)
{
    for (int i = 0; i < col && line; i++) {
        line = strpbrk(line, ",\n");
        if (line) line++;
    }
    size_t len = line ? strcspn(line, ",\n") : 0;
    snprintf(out, n, "%.*s", (int)len, line ? line : "");
}

static void check_row(int p)
{
    const attn_param *r = &attn_params[p];
    char text[1024];
    row_config(p, text, sizeof text);
    attn_caselist l = { 0 };
    CHECK_MSG(load_text(text, &l) == 0, "%s: config '%s' does not load", r->field, text);
    CHECK_MSG(l.n == 2, "%s: %d cases from '%s', expected 2", r->field, l.n, text);
    if (l.n != 2) { attn_caselist_free(&l); return; }
    attn_case *a = &l.cases[0], *b = &l.cases[1];
    CHECK_MSG(attn_param_get(a, p) != attn_param_get(b, p), "%s: the config's two values did not reach the cases", r->field);
    CHECK_MSG(attn_param_matters_in(a, p) && attn_param_matters_in(b, p), "%s: context does not make it matter", r->field);
    CHECK_MSG(strcmp(a->id, b->id) != 0, "%s: both cases have the id %s", r->field, a->id);

    /* results.json params */
    cJSON *pa = attn_params_json(a), *pb = attn_params_json(b);
    CHECK_MSG(cJSON_GetObjectItemCaseSensitive(pa, r->field) != NULL, "%s: not in results.json params", r->field);
    attn_case back;
    memset(&back, 0, sizeof back);
    attn_params_from_json(pa, &back);
    CHECK_MSG(attn_param_get(&back, p) == attn_param_get(a, p), "%s: does not read back from JSON", r->field);
    cJSON_Delete(pa);
    cJSON_Delete(pb);

    /* results.csv, compare, plot: through a results directory */
    char dir[64];
    plot_set set;
    int rc = write_and_plot(l.cases, 2, dir, &set);
    CHECK_MSG(rc == 0 && set.n_cases == 2, "%s: results directory not written or loaded", r->field);
    if (rc == 0 && set.n_cases == 2) {
        char path[128];
        snprintf(path, sizeof path, "%s/results.csv", dir);
        size_t len;
        char *csv = attn_read_file(path, &len);
        int col = csv ? csv_column(csv, r->field) : -1;
        CHECK_MSG(col >= 0, "%s: no results.csv column", r->field);
        if (col >= 0) {
            const char *l1 = strchr(csv, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
            char f1[64], f2[64];
            csv_field(l1, col, f1, sizeof f1);
            csv_field(l2, col, f2, sizeof f2);
            CHECK_MSG(strcmp(f1, f2) != 0, "%s: both CSV rows hold '%s'", r->field, f1);
        }
        free(csv);

        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(set.runs[0].doc, "cases");
        const cJSON *ja = cJSON_GetArrayItem(cases, 0), *jb = cJSON_GetArrayItem(cases, 1);
        char ka[ATTN_CASE_KEY_MAX], kb[ATTN_CASE_KEY_MAX], la[ATTN_CASE_KEY_MAX], lb[ATTN_CASE_KEY_MAX];
        attn_case_key(ja, ka, sizeof ka);
        attn_case_key(jb, kb, sizeof kb);
        attn_case_label(ja, la, sizeof la);
        attn_case_label(jb, lb, sizeof lb);
        CHECK_MSG(strcmp(ka, kb) != 0, "%s: one compare key %s", r->field, ka);
        CHECK_MSG(strcmp(la, lb) != 0, "%s: one compare label %s", r->field, la);
        char want[96];
        snprintf(want, sizeof want, ";%s=", r->field);
        CHECK_MSG(strstr(ka, want) != NULL, "%s: not in the compare key %s", r->field, ka);

        /* a chart axis tells them apart: different series points or chart groups, never
         * one same-shape group */
        int differ = -1;
        for (int ax = 0; ax < AX_COUNT; ax++)
            if (plot_axis_cmp(&set.cases[0], &set.cases[1], ax)) differ = ax;
        CHECK_MSG(differ >= 0, "%s: no chart axis tells the two cases apart", r->field);
        CHECK_MSG(plot_varied_axes(&set, set.cases[0].sweep) != 0, "%s: the sweep varies no axis", r->field);
    }
    free_set(&set);
    test_rm_tree(dir);
    attn_caselist_free(&l);
}

TEST(params_every_row_reaches_every_consumer)
{
    for (int p = 0; p < ATTN_N_PARAMS; p++) check_row(p);
}

/* The table is self-consistent: unique fields, keys and product ranks; enum defaults name
 * a value; FOLLOWS points at an earlier row in the product; every row on a chart axis. */
TEST(params_table_is_consistent)
{
    int axis_rows = 0;
    for (int p = 0; p < ATTN_N_PARAMS; p++) {
        const attn_param *r = &attn_params[p];
        for (int q = 0; q < p; q++) {
            CHECK_MSG(strcmp(r->field, attn_params[q].field), "field %s twice", r->field);
            CHECK_MSG(strcmp(r->key, attn_params[q].key), "key %s twice", r->key);
            CHECK_MSG(r->product != attn_params[q].product, "%s and %s share product rank %d",
                      r->field, attn_params[q].field, r->product);
        }
        CHECK_MSG(r->def >= r->min - (r->type == PT_SIDE) && r->def <= r->max, "%s: default out of range", r->field);
        if (r->type == PT_ENUM) CHECK_MSG(r->names && r->def < r->n_names, "%s: enum names", r->field);
        if (r->follows >= 0)
            CHECK_MSG(attn_params[r->follows].product < r->product, "%s follows a later row", r->field);
        axis_rows += r->axis != NULL || r->axis_join;
    }
    CHECK_MSG(axis_rows == ATTN_N_PARAMS, "a row without a chart axis can merge cases in plots");
    int rows = 0;
    for (int ax = 0; ax < AX_COUNT; ax++) rows += plot_axis_defs()[ax].n_rows;
    CHECK(rows == ATTN_N_PARAMS);
}

/* pad without padding and additive_dim with dot scores change nothing: one case, and two
 * hand-made cases that differ only there share their compare key, label and id. */
TEST(params_that_do_not_matter_do_not_split)
{
    static const struct { const char *cfg; int row; double other; } cases[] = {
        { "[s]\nkernels = naive\nseq_len = 16\nmask = causal\npad = 0.1, 0.2\n", P_PAD, 0.4 },
        { "[s]\nkernels = naive\nseq_len = 16\nadditive_dim = 8, 16\n", P_ADDITIVE_DIM, 32 },
        { "[s]\nkernels = naive\nseq_len = 16\nd_model = 8, 16\n", P_D_MODEL, 32 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        attn_caselist l = { 0 };
        CHECK(load_text(cases[i].cfg, &l) == 0);
        CHECK_MSG(l.n == 1, "'%s' expands to %d cases, expected 1", cases[i].cfg, l.n);
        if (l.n < 1) continue;
        attn_case b = l.cases[0];
        attn_param_set(&b, cases[i].row, cases[i].other);
        attn_case_make_id(&b);
        CHECK_MSG(!strcmp(b.id, l.cases[0].id), "%s splits ids", attn_params[cases[i].row].field);
        attn_result res;
        memset(&res, 0, sizeof res);
        cJSON *ja = attn_case_json(&l.cases[0], &res), *jb = attn_case_json(&b, &res);
        char ka[ATTN_CASE_KEY_MAX], kb[ATTN_CASE_KEY_MAX], la[ATTN_CASE_KEY_MAX], lb[ATTN_CASE_KEY_MAX];
        attn_case_key(ja, ka, sizeof ka);
        attn_case_key(jb, kb, sizeof kb);
        attn_case_label(ja, la, sizeof la);
        attn_case_label(jb, lb, sizeof lb);
        CHECK_MSG(!strcmp(ka, kb), "%s splits compare keys: %s / %s", attn_params[cases[i].row].field, ka, kb);
        CHECK_MSG(!strcmp(la, lb), "%s splits labels: %s / %s", attn_params[cases[i].row].field, la, lb);
        cJSON_Delete(ja);
        cJSON_Delete(jb);
        attn_caselist_free(&l);
    }
}

/* An over-budget skip records the numbers behind its reason as fields. */
TEST(params_over_budget_skip_fields)
{
    attn_caselist l = { 0 };
    CHECK(load_text("[s]\nkernels = naive\nseq_len = 16\n", &l) == 0);
    if (l.n < 1) return;
    attn_result res;
    memset(&res, 0, sizeof res);
    res.status = ST_SKIPPED;
    res.need_bytes = 1000;
    res.budget_bytes = 10;
    cJSON *o = attn_case_json(&l.cases[0], &res);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "memory");
    CHECK(attn_json_num(m, "need_bytes", 0) == 1000);
    CHECK(attn_json_num(m, "budget_bytes", 0) == 10);
    cJSON_Delete(o);
    attn_caselist_free(&l);
}
