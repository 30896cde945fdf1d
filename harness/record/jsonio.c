/* jsonio.c: whole-file I/O shared by the results writer and every reader of results
 * (compare, plot, history, merge): atomic writes, and loading results.json. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "record/results.h"

int attn_write_file_atomic(const char *path, const char *data, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* Ctrl-C (or a kill) between creating tmp and the rename would leave tmp behind:
     * the signals that end a sweep wait until the file is in place or removed */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, &old);
    int rc = 0;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = -1;
    } else {
        int ok = fwrite(data, 1, len, f) == len;
        ok = (fflush(f) == 0) && ok;
        ok = (fsync(fileno(f)) == 0) && ok;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            errno = e;
            rc = -1;
        }
    }
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return rc;
}

char *attn_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) { free(buf); if (!errno) errno = EIO; return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

cJSON *attn_results_load(const char *path, char *err, size_t errlen)
{
    char file[4096];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(file, sizeof file, "%s/results.json", path);
    else
        snprintf(file, sizeof file, "%s", path);
    char *text = attn_read_file(file, NULL);
    if (!text) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }
    cJSON *doc = cJSON_Parse(text);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        long off = at ? (long)(at - text) : -1;
        snprintf(err, errlen, "%s: not valid JSON (near byte %ld)", file, off);
    } else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "cases"))) {
        snprintf(err, errlen, "%s: not an attnbench results file (no \"cases\" array)", file);
        cJSON_Delete(doc);
        doc = NULL;
    }
    free(text);
    return doc;
}
