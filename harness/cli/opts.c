/* opts.c: see opts.h. */
#include <stdio.h>
#include <string.h>
#include "util/util.h"
#include "cli/opts.h"

const char *attn_opt_value(attn_argv *a, const char *name)
{
    const char *arg = a->argv[a->i];
    size_t l = strlen(name);
    if (strncmp(arg, name, l)) return NULL;
    if (arg[l] == '=') return arg + l + 1;
    if (arg[l]) return l == 2 && name[0] == '-' && name[1] != '-' ? arg + l : NULL;  /* -oDIR */
    if (a->i + 1 >= a->argc) {
        fprintf(stderr, "attnbench %s: %s needs a value (see attnbench %s --help)\n", a->cmd, name, a->cmd);
        a->missing = 1;
        return NULL;
    }
    return a->argv[++a->i];
}

int attn_opt_flag(const attn_argv *a, const char *name, const char *alt)
{
    const char *arg = a->argv[a->i];
    return !strcmp(arg, name) || (alt && !strcmp(arg, alt));
}

static int bad(const attn_argv *a, const char *name, const char *v, const char *what)
{
    fprintf(stderr, "attnbench %s: %s '%s': expected %s\n", a->cmd, name, v, what);
    return -1;
}

int attn_opt_double(const attn_argv *a, const char *name, const char *v, double lo, double hi,
                    const char *what, double *out)
{
    double x;
    if (attn_parse_double(v, &x) || x < lo || x > hi) return bad(a, name, v, what);
    *out = x;
    return 0;
}

int attn_opt_long(const attn_argv *a, const char *name, const char *v, long lo, long hi,
                  const char *what, long *out)
{
    return attn_parse_long(v, lo, hi, out) ? bad(a, name, v, what) : 0;
}

int attn_opt_percent(const attn_argv *a, const char *name, const char *v, double lo, double hi,
                     double *out)
{
    char buf[64], what[96];
    size_t l = strlen(v);
    double pct;
    snprintf(what, sizeof what, "a percentage from %g to %g, such as 5", lo, hi);
    if (l == 0 || l >= sizeof buf) return bad(a, name, v, what);
    memcpy(buf, v, l + 1);
    if (buf[l - 1] == '%') buf[l - 1] = 0;
    if (attn_parse_double(buf, &pct) || pct < lo || pct > hi) return bad(a, name, v, what);
    *out = pct / 100;
    return 0;
}

int attn_opt_size(const attn_argv *a, const char *name, const char *v, size_t *out)
{
    if (attn_parse_size(v, out)) return bad(a, name, v, "a size of at least 1 byte such as 512M or 4G (at most 1E)");
    return 0;
}

int attn_opt_alpha(const attn_argv *a, const char *v, double *out)
{
    double x;
    if (attn_parse_double(v, &x) || !(x > 0 && x < 1))
        return bad(a, "--alpha", v, "a number between 0 and 1 such as 0.01");
    *out = x;
    return 0;
}

int attn_opt_unknown(const attn_argv *a)
{
    fprintf(stderr, "attnbench %s: unknown option '%s' (see attnbench %s --help)\n", a->cmd,
            a->argv[a->i], a->cmd);
    return 2;
}
