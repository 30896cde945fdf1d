/* npy.c: the strict .npy reader (npy.h).
 *
 * Format: "\x93NUMPY", major, minor, header length (uint16 little-endian for 1.0, uint32
 * for 2.0 and 3.0), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 8, 512, 64), }
 * padded with spaces and ended by '\n', then the data in C order.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "record/npy.h"

#define NPY_HEADER_MAX 65536

/* ------------------------------------------------------ the header dict -- */

typedef struct { const char *s, *end; } cursor;

static void skip_space(cursor *c)
{
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n')) c->s++;
}

static int accept(cursor *c, char ch)
{
    skip_space(c);
    if (c->s < c->end && *c->s == ch) { c->s++; return 1; }
    return 0;
}

/* A quoted string ('...' or "...") without escapes into buf. */
static int quoted(cursor *c, char *buf, size_t n)
{
    skip_space(c);
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"')) return -1;
    char q = *c->s++;
    size_t i = 0;
    while (c->s < c->end && *c->s != q) {
        if (*c->s == '\\' || i + 1 >= n) return -1;
        buf[i++] = *c->s++;
    }
    if (c->s >= c->end) return -1;
    c->s++;
    buf[i] = '\0';
    return 0;
}

static int word(cursor *c, const char *w)
{
    skip_space(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->s) < n || strncmp(c->s, w, n)) return 0;
    c->s += n;
    return 1;
}

/* (a, b, c) or (a,) or (): up to 8 sizes. */
static int shape_tuple(cursor *c, size_t *dims, int *nd)
{
    *nd = 0;
    if (!accept(c, '(')) return -1;
    for (;;) {
        skip_space(c);
        if (accept(c, ')')) return 0;
        if (c->s >= c->end || !isdigit((unsigned char)*c->s) || *nd == 8) return -1;
        size_t v = 0;
        while (c->s < c->end && isdigit((unsigned char)*c->s)) {
            if (v > (SIZE_MAX - 9) / 10) return -1;
            v = v * 10 + (size_t)(*c->s++ - '0');
        }
        dims[(*nd)++] = v;
        if (!accept(c, ',')) return accept(c, ')') ? 0 : -1;
    }
}

/* The dict: descr, fortran_order and shape, each once, nothing else. */
static int parse_header(const char *h, size_t len, char *descr, size_t dn, int *fortran,
                        size_t *dims, int *nd, char *err, size_t en)
{
    cursor c = { h, h + len };
    int seen = 0;
    if (!accept(&c, '{')) { snprintf(err, en, "header is not a dict"); return -1; }
    while (!accept(&c, '}')) {
        char key[32];
        if (quoted(&c, key, sizeof key) != 0 || !accept(&c, ':')) {
            snprintf(err, en, "header dict is malformed");
            return -1;
        }
        int bit;
        if (!strcmp(key, "descr") && quoted(&c, descr, dn) == 0) bit = 1;
        else if (!strcmp(key, "fortran_order") && (word(&c, "False") || (word(&c, "True") && (*fortran = 1))))
            bit = 2;
        else if (!strcmp(key, "shape") && shape_tuple(&c, dims, nd) == 0) bit = 4;
        else {
            snprintf(err, en, "header: unexpected or malformed key '%.31s'", key);
            return -1;
        }
        if (seen & bit) { snprintf(err, en, "header: key '%s' twice", key); return -1; }
        seen |= bit;
        if (!accept(&c, ',')) {
            if (!accept(&c, '}')) { snprintf(err, en, "header dict is malformed"); return -1; }
            break;
        }
    }
    if (seen != 7) { snprintf(err, en, "header lacks descr, fortran_order or shape"); return -1; }
    skip_space(&c);
    if (c.s != c.end) { snprintf(err, en, "text after the header dict"); return -1; }
    return 0;
}

static void shape_text(const size_t *d, int nd, char *buf, size_t n)
{
    size_t at = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < nd && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%zu", i ? ", " : "", d[i]);
    if (at < n) snprintf(buf + at, n - at, ")");
}

/* ------------------------------------------------------------- the file -- */

static int read_npy(FILE *f, const char *path, float *data, int ndim, const size_t *shape,
                    char *err, size_t en)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, en, "%s: not a regular file", path);
        return -1;
    }
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) {
        snprintf(err, en, "%s: not a .npy file (bad magic)", path);
        return -1;
    }
    size_t hlen, pre_len = 10;
    if (pre[6] == 1 && pre[7] == 0) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0 && fread(pre + 10, 1, 2, f) == 2) {
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        pre_len = 12;
    } else {
        snprintf(err, en, "%s: unsupported .npy version %d.%d", path, pre[6], pre[7]);
        return -1;
    }
    if (hlen == 0 || hlen > NPY_HEADER_MAX) {
        snprintf(err, en, "%s: header length %zu out of range", path, hlen);
        return -1;
    }
    char h[NPY_HEADER_MAX + 1];
    if (fread(h, 1, hlen, f) != hlen) { snprintf(err, en, "%s: truncated header", path); return -1; }
    h[hlen] = '\0';
    if (memchr(h, '\0', hlen)) { snprintf(err, en, "%s: NUL byte in the header", path); return -1; }
    char descr[16], why[96];
    int fortran = 0, nd = 0;
    size_t dims[8];
    if (parse_header(h, hlen, descr, sizeof descr, &fortran, dims, &nd, why, sizeof why) != 0) {
        snprintf(err, en, "%s: %s", path, why);
        return -1;
    }
    if (strcmp(descr, "<f4")) { snprintf(err, en, "%s: dtype '%s', expected '<f4' (float32)", path, descr); return -1; }
    if (fortran) { snprintf(err, en, "%s: fortran_order True, expected C order", path); return -1; }
    int same = nd == ndim;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (same && dims[i] != shape[i]) same = 0;
        count *= shape[i];
    }
    if (!same) {
        char got[128], want[128];
        shape_text(dims, nd, got, sizeof got);
        shape_text(shape, ndim, want, sizeof want);
        snprintf(err, en, "%s: shape %s, expected %s", path, got, want);
        return -1;
    }
    double have = (double)sb.st_size - (double)(pre_len + hlen), want = 4.0 * (double)count;
    if (have != want) {
        snprintf(err, en, "%s: %.0f bytes of data, expected %.0f", path, have, want);
        return -1;
    }
    if (count && fread(data, 4, count, f) != count) {
        snprintf(err, en, "%s: short read", path);
        return -1;
    }
    const uint16_t one = 1;
    if (*(const uint8_t *)&one != 1)            /* big-endian host: the file is <f4 */
        for (size_t i = 0; i < count; i++) {
            uint8_t b[4];
            memcpy(b, &data[i], 4);
            uint32_t u = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            memcpy(&data[i], &u, 4);
        }
    return 0;
}

int attn_npy_read_f32(const char *path, float *data, int ndim, const size_t *shape,
                      char *err, size_t errlen)
{
    /* no following a link, no blocking on a FIFO: fstat then refuses what is not a file */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    int rc = read_npy(f, path, data, ndim, shape, err, errlen);
    fclose(f);
    return rc;
}
