/* config_read.c: the config file -> sections of parsed keys (config_parse.h).
 *
 * inih's ini_parse_stream() pulls the file a line at a time through our reader, which
 * counts lines (the library is built without line numbers in the handler), refuses lines
 * longer than inih's buffer (they would be split and mis-parsed), strips leading blanks
 * (so inih never takes an indented line for a multi-line continuation) and records every
 * [section] header with its line, including sections that hold no keys. Each key is
 * parsed as it arrives (config_value.c): known key, not repeated, every value valid.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "core/config_parse.h"

/* ------------------------------------------------------------------ keys -- */

/* The config's own keys; the case parameters' keys come from core/params.def. */
static const struct { const char *name; vkind kind; } own_keys[K_COUNT] = {
    [K_NAME]         = { "name",         V_NAME },
    [K_KERNELS]      = { "kernels",      V_KERNELS },
    [K_WINDOW]       = { "window",       V_COUNT },
    [K_TILE]         = { "tile",         V_TILE },
    [K_MIN_TIME]     = { "min_time",     V_SECONDS0 },
    [K_REPS]         = { "reps",         V_REPS },
    [K_ROUNDS]       = { "rounds",       V_REPS },
    [K_TIMEOUT]      = { "timeout",      V_SECONDS },
    [K_ATOL]         = { "atol",         V_TOL },
    [K_RTOL]         = { "rtol",         V_TOL },
    [K_SEED]         = { "seed",         V_SEED },
    [K_UNSUPPORTED]  = { "unsupported",  V_UNSUPPORTED },
};

static int is_param(int k) { return k >= K_PARAM && k < K_PARAM + ATTN_N_PARAMS; }

const char *cfg_key_name(int k)
{
    return is_param(k) ? attn_params[k - K_PARAM].key : own_keys[k].name;
}

vkind cfg_key_kind(int k)
{
    if (!is_param(k)) return own_keys[k].kind;
    const attn_param *r = &attn_params[k - K_PARAM];
    switch (r->type) {
    case PT_ENUM:   return V_ENUM;
    case PT_SIDE:   return V_SIDE;
    case PT_DOUBLE: return V_FRACTION;
    default:        return r->min >= 1 ? V_SIZE : V_COUNT;
    }
}

static int product_rank(int k)
{
    return k == K_WINDOW ? WINDOW_PRODUCT : k == K_TILE ? TILE_PRODUCT : attn_params[k - K_PARAM].product;
}

int cfg_dims(int *dims)
{
    int n = 0;
    for (int k = K_PARAM; k <= K_TILE; k++) {       /* insertion by product rank */
        int at = n++;
        while (at > 0 && product_rank(dims[at - 1]) > product_rank(k)) {
            dims[at] = dims[at - 1];
            at--;
        }
        dims[at] = k;
    }
    return n;
}

int cfg_key_order(int *order)
{
    int n = 0;
    order[n++] = K_NAME;
    order[n++] = K_KERNELS;
    n += cfg_dims(order + n);
    for (int k = K_TILE + 1; k < K_COUNT; k++) order[n++] = k;
    return n;
}

/* ---------------------------------------------------------------- errors -- */

void cfg_fail(parser *p, int line, const char *fmt, ...)
{
    if (p->err) return;         /* only the first error: later ones may be its echoes */
    p->err = 1;
    va_list ap;
    va_start(ap, fmt);
    if (line > 0) fprintf(stderr, "%s:%d: ", p->path, line);
    else          fprintf(stderr, "%s: ", p->path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Optimal-string-alignment distance (edits, with adjacent swaps counting one),
 * case-insensitive; words are cut at 63 characters. */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb;
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The candidate closest to word, or NULL when none is close enough to be a typo
 * (at most 2 edits, or a third of the word's length for long words). */
static const char *closest(const char *word, const char *const *cands, int n)
{
    const char *best = NULL;
    int bestd = INT_MAX;
    int limit = (int)strlen(word) / 3;
    if (limit < 2) limit = 2;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < bestd) { bestd = d; best = cands[i]; }
    }
    return bestd <= limit ? best : NULL;
}

/* " (did you mean 'x'?)" or "" into buf. */
const char *cfg_suggest(char *buf, size_t size, const char *word, const char *const *cands, int n)
{
    const char *c = closest(word, cands, n);
    if (c) snprintf(buf, size, " (did you mean '%s'?)", c);
    else buf[0] = '\0';
    return buf;
}

/* "a, b, c" into buf. */
const char *cfg_join(char *buf, size_t size, const char *const *items, int n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", items[i]);
    return buf;
}

/* Names of the registered kernels, in registry order. The array is static: the
 * registry is fixed at build time. */
const char *const *cfg_kernel_names(int *n)
{
    static const char *names[256];
    int count;
    const attn_kernel *ks = attn_kernels(&count);
    if (count > 256) count = 256;
    for (int i = 0; i < count; i++) names[i] = ks[i].name;
    int np;                                 /* then the peers, named like kernels */
    const attn_peer *ps = attn_peers(&np);
    for (int i = 0; i < np && count < 256; i++) names[count++] = ps[i].k.name;
    *n = count;
    return names;
}

char *cfg_trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

int cfg_bad_name(const char *s)
{
    if (!*s) return 1;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 1;
    return 0;
}

/* ------------------------------------------------------- inih callbacks -- */

/* The first of chars in s before an inline comment (';' after a blank), as inih
 * scans, or NULL. */
static const char *str_before_comment(const char *s, const char *chars)
{
    int was_space = 0;
    for (; *s; s++) {
        if (strchr(chars, *s)) return s;
        if (was_space && *s == ';') return NULL;
        was_space = isspace((unsigned char)*s);
    }
    return NULL;
}

/* fgets-style: hand inih the next line (without its newline) and count it. */
static char *reader(char *str, int num, void *stream)
{
    parser *p = stream;
    if (p->err || p->pos >= p->len) return NULL;
    const char *s = p->buf + p->pos;
    const char *nl = memchr(s, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
    p->pos += n + (nl != NULL);
    p->line++;
    if (n > 0 && s[n - 1] == '\r') n--;
    if (n > (size_t)num - 1) {
        cfg_fail(p, p->line, "line is longer than %d characters (%zu); shorten it or split the "
             "sweep into sections", num - 1, n);
        return NULL;
    }
    if (memchr(s, '\0', n)) {
        cfg_fail(p, p->line, "line contains a NUL byte");
        return NULL;
    }
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    memcpy(str, s, n);
    str[n] = '\0';

    if (n == 0 || str[0] == ';' || str[0] == '#') return str;
    if (str[0] != '[') {
        if (!str_before_comment(str, "=:")) {
            cfg_fail(p, p->line, "syntax error: expected '[section]', 'key = value' or a comment (; or #)");
            return NULL;
        }
        return str;
    }
    {
        const char *close = str_before_comment(str + 1, "]");
        if (!close) {
            cfg_fail(p, p->line, "syntax error: section header without a closing ']'");
            return NULL;
        }
        size_t len = (size_t)(close - str - 1);
        if (p->nsec == p->cap) {
            int cap = p->cap ? 2 * p->cap : 8;
            section *ns = realloc(p->secs, (size_t)cap * sizeof *ns);
            if (!ns) { cfg_fail(p, p->line, "out of memory"); return NULL; }
            p->secs = ns;
            p->cap = cap;
        }
        section *sec = &p->secs[p->nsec++];
        memset(sec, 0, sizeof *sec);
        sec->line = p->line;
        snprintf(sec->name, sizeof sec->name, "%.*s", (int)(len < 63 ? len : 63), str + 1);
        if (len > MAX_SWEEP_NAME) {
            cfg_fail(p, p->line, "section name is longer than %d characters", MAX_SWEEP_NAME);
            return NULL;
        }
    }
    return str;
}

static int handler(void *user, const char *section_name, const char *name, const char *value)
{
    parser *p = user;
    int line = p->line;
    if (p->err) return 0;
    if (p->nsec == 0) {
        cfg_fail(p, line, "key '%s' is outside any section (start the file with a [sweep] header)", name);
        return 0;
    }
    section *sec = &p->secs[p->nsec - 1];
    if (strcmp(section_name, sec->name) != 0) {
        /* cannot happen unless inih reads headers differently from reader() */
        cfg_fail(p, line, "internal: section '%s' != '%s'", section_name, sec->name);
        return 0;
    }
    int k;
    for (k = 0; k < K_COUNT; k++)
        if (!strcmp(name, cfg_key_name(k))) break;
    if (k == K_COUNT) {
        const char *names[K_COUNT];
        int order[K_COUNT];
        char list[512], hint[96];
        cfg_key_order(order);
        for (int i = 0; i < K_COUNT; i++) names[i] = cfg_key_name(order[i]);
        cfg_fail(p, line, "unknown key '%s'%s; valid keys: %s", name,
                 cfg_suggest(hint, sizeof hint, name, names, K_COUNT),
                 cfg_join(list, sizeof list, names, K_COUNT));
        return 0;
    }
    keyval *kv = &sec->kv[k];
    if (kv->line) {
        cfg_fail(p, line, "duplicate key '%s' in section [%s] (first set at line %d)",
             name, sec->name, kv->line);
        return 0;
    }
    kv->line = line;
    return cfg_parse_value(p, line, k, value, kv) == 0;
}

/* Why inih rejected line `line` (it reports only the number). */
static void syntax_error(parser *p, int line)
{
    const char *s = p->buf;
    for (int l = 1; l < line && s; l++) {
        s = memchr(s, '\n', p->len - (size_t)(s - p->buf));
        if (s) s++;
    }
    while (s && (*s == ' ' || *s == '\t')) s++;
    if (s && *s == '[')
        cfg_fail(p, line, "syntax error: section header without a closing ']'");
    else
        cfg_fail(p, line, "syntax error: expected '[section]', 'key = value' or a comment (; or #)");
}

/* ------------------------------------------------------------------ file -- */

static int read_file(parser *p)
{
    FILE *f = fopen(p->path, "rb");
    if (!f) {
        cfg_fail(p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    p->buf = malloc(MAX_FILE_BYTES + 1);
    if (!p->buf) { fclose(f); cfg_fail(p, 0, "out of memory"); return -1; }
    p->len = fread(p->buf, 1, MAX_FILE_BYTES + 1, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) { cfg_fail(p, 0, "cannot read: %s", strerror(rerr)); return -1; }
    if (p->len > MAX_FILE_BYTES) { cfg_fail(p, 0, "larger than %d bytes", MAX_FILE_BYTES); return -1; }
    if (p->len >= 3 && !memcmp(p->buf, "\xEF\xBB\xBF", 3)) p->pos = 3;   /* UTF-8 BOM */
    return 0;
}

void cfg_free(parser *p)
{
    for (int s = 0; s < p->nsec; s++)
        for (int k = 0; k < K_COUNT; k++) {
            free(p->secs[s].kv[k].iv);
            free(p->secs[s].kv[k].dv);
            free(p->secs[s].kv[k].kp);
        }
    free(p->secs);
    free(p->buf);
}

int cfg_read(parser *p)
{
    if (read_file(p)) return -1;
    int r = ini_parse_stream(reader, p, handler, p);
    if (!p->err && r > 0) syntax_error(p, r);
    if (!p->err && r < 0) cfg_fail(p, 0, "inih failed (%d)", r);
    return p->err ? -1 : 0;
}
