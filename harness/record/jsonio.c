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

/* Write one temporary file; 0, or -1 with errno (and the file removed). */
static int write_tmp(const char *tmp, const char *data, size_t len)
{
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int attn_write_files_atomic(int n, const char *const *paths, const char *const *data, const size_t *lens)
{
    char tmp[8][4200];
    if (n < 1 || n > 8) { errno = EINVAL; return -1; }
    for (int i = 0; i < n; i++)
        if (snprintf(tmp[i], sizeof tmp[i], "%s.tmp.%ld", paths[i], (long)getpid()) >= (int)sizeof tmp[i]) {
            errno = ENAMETOOLONG;
            return -1;
        }
    /* Ctrl-C (or a kill) between creating a tmp and its rename would leave it behind, or
     * one file renamed and not the other: the signals that end a sweep wait until every
     * file is in place or removed. Every tmp is written before any is renamed, so a write
     * error (a full disk) leaves all the old files as they were. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, &old);
    int rc = 0, written = 0;
    for (; written < n && rc == 0; written++)
        if (write_tmp(tmp[written], data[written], lens[written]) != 0) rc = -1;
    if (rc != 0) written--;
    for (int i = 0; i < written && rc == 0; i++)
        if (rename(tmp[i], paths[i]) != 0) rc = -1;
    int e = errno;
    for (int i = 0; i < written; i++) unlink(tmp[i]);   /* no-op for the renamed ones */
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return rc;
}

int attn_write_file_atomic(const char *path, const char *data, size_t len)
{
    return attn_write_files_atomic(1, &path, &data, &len);
}

char *attn_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    /* a regular file of bounded size: /dev/zero or a FIFO must not grow us without end */
    struct stat st;
    int e = 0;
    if (fstat(fileno(f), &st) != 0) e = errno;
    else if (!S_ISREG(st.st_mode)) e = EINVAL;
    else if (st.st_size > ATTN_MAX_FILE_BYTES) e = EFBIG;
    if (e) {
        fclose(f);
        errno = e;
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= ATTN_MAX_FILE_BYTES) { free(buf); buf = NULL; errno = EFBIG; break; }
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) { free(buf); if (err || !errno) errno = EIO; return NULL; }
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
        snprintf(err, errlen, "%s: %s", file, errno == EINVAL ? "not a regular file" :
                 errno == EFBIG ? "larger than the 1 GiB a results file may hold" : strerror(errno));
        return NULL;
    }
    cJSON *doc = cJSON_Parse(text);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        long off = at ? (long)(at - text) : -1;
        snprintf(err, errlen, "%s: not valid JSON (near byte %ld)", file, off);
    } else if (attn_results_check(doc, file, err, errlen) != 0) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    free(text);
    return doc;
}
