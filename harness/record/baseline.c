/* baseline.c: named baselines stored per machine; see baseline.h for the layout.
 *
 * The machine key comes from the context recorded in the results themselves (not from the
 * machine running the command), so saving a baseline from results copied off another
 * host files it under that host's CPU, and `compare --baseline NAME NEW` looks in NEW's
 * machine directory.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "util/util.h"
#include "record/baseline.h"
#include "record/results.h"

const char *attn_baseline_root(void)
{
    const char *e = getenv("ATTN_BASELINE_DIR");
    return (e && *e) ? e : "results/baselines";
}

int attn_machine_key(const cJSON *context, char *out, size_t n)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(context, "cpu_model");
    const cJSON *cores = cJSON_GetObjectItemCaseSensitive(context, "cores");
    if (!cJSON_IsString(model) || !*model->valuestring) {
        snprintf(out, n, "unknown-machine");
        return -1;
    }
    char slug[128];
    attn_cpu_slug(model->valuestring, slug, sizeof slug);
    if (cJSON_IsNumber(cores)) snprintf(out, n, "%s-%dc", slug, cores->valueint);
    else snprintf(out, n, "%s", slug);
    return 0;
}

int attn_baseline_name_ok(const char *name)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 100) return 0;
    for (const char *s = name; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-') return 0;
    return 1;
}

int attn_baseline_path_for(const cJSON *context, const char *name, char *out, size_t n)
{
    char key[160];
    if (!attn_baseline_name_ok(name)) return -1;
    attn_machine_key(context, key, sizeof key);
    int w = snprintf(out, n, "%s/%s/%s.json", attn_baseline_root(), key, name);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

/* Names in dir ending ".json", without it, joined by ", " into out. */
static void list_json(const char *dir, char *out, size_t n)
{
    out[0] = 0;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json") && strlen(out) + l + 3 < n) {
            if (*out) strcat(out, ", ");
            strncat(out, e->d_name, l - 5);
        }
    }
    closedir(d);
}

int attn_baseline_find(const cJSON *context, const char *name, char *out, size_t n)
{
    if (!attn_baseline_name_ok(name)) {
        fprintf(stderr, "attnbench: '%s' is not a baseline name (letters, digits, '.', '_', '-')\n", name);
        return -1;
    }
    if (attn_baseline_path_for(context, name, out, n) != 0) {
        fprintf(stderr, "attnbench: baseline path too long\n");
        return -1;
    }
    struct stat st;
    if (stat(out, &st) == 0) return 0;
    char key[160], dir[4096], here[1024];
    attn_machine_key(context, key, sizeof key);
    snprintf(dir, sizeof dir, "%s/%s", attn_baseline_root(), key);
    list_json(dir, here, sizeof here);
    fprintf(stderr, "attnbench: no baseline '%s' for this machine (%s): %s does not exist\n",
            name, key, out);
    if (*here) fprintf(stderr, "attnbench: baselines for this machine: %s\n", here);
    /* other machines' directories: a hint that the baseline was made elsewhere */
    DIR *d = opendir(attn_baseline_root());
    if (d) {
        char others[1024] = "";
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.' && strcmp(e->d_name, key) && strlen(others) + strlen(e->d_name) + 3 < sizeof others) {
                if (*others) strcat(others, ", ");
                strcat(others, e->d_name);
            }
        closedir(d);
        if (*others) fprintf(stderr, "attnbench: other machines with baselines: %s (not comparable)\n", others);
    }
    fprintf(stderr, "attnbench: save a baseline with: attnbench run CONFIG --save-baseline %s\n", name);
    return -1;
}

/* mkdir -p for the directory part of path. */
static int make_parents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

int attn_baseline_save(const char *results, const char *name)
{
    if (!attn_baseline_name_ok(name)) {
        fprintf(stderr, "attnbench: '%s' is not a baseline name (letters, digits, '.', '_', '-')\n", name);
        return -1;
    }
    char err[4096], path[4096];
    cJSON *doc = attn_results_load(results, err, sizeof err);
    if (!doc) { fprintf(stderr, "attnbench: %s\n", err); return -1; }
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    if (attn_machine_key(ctx, path, sizeof path) != 0)
        fprintf(stderr, "attnbench: warning: %s has no context cpu_model; filed under %s\n", results, path);
    int rc = -1;
    char *text = cJSON_Print(doc);
    if (attn_baseline_path_for(ctx, name, path, sizeof path) != 0)
        fprintf(stderr, "attnbench: baseline path too long\n");
    else if (!text)
        fprintf(stderr, "attnbench: out of memory\n");
    else if (make_parents(path) != 0 || attn_write_file_atomic(path, text, strlen(text)) != 0)
        fprintf(stderr, "attnbench: cannot write %s: %s\n", path, strerror(errno));
    else {
        fprintf(stderr, "attnbench: baseline saved: %s\n", path);
        rc = 0;
    }
    free(text);
    cJSON_Delete(doc);
    return rc;
}
