/* opts.h: the option parsing every subcommand shares, written once.
 *
 * Values are taken as "--name=value" or "--name value" ("-o DIR" and "-oDIR" for the
 * one-letter names). Numbers are strict: the whole value is one finite number in the
 * allowed range (no NaN, no infinity, no trailing junk, no overflow). A value that fails
 * is told on stderr as
 *     attnbench CMD: --name 'value': expected ...
 * and the caller returns 2 (usage error). */
#ifndef ATTN_CLI_OPTS_H
#define ATTN_CLI_OPTS_H

#include <stddef.h>

typedef struct attn_argv {
    int argc;
    char **argv;
    int i;                      /* the argument being looked at */
    const char *cmd;            /* "run", "compare", ... for messages */
    int missing;                /* set when an option was last in argv without its value */
} attn_argv;

/* Is argv[i] the option `name` with a value? Returns the value (advancing i past a
 * separate value), or NULL: not this option, or given without a value (missing set and
 * "attnbench CMD: NAME needs a value" told). */
const char *attn_opt_value(attn_argv *a, const char *name);
/* Is argv[i] the flag `name` (or its other spelling alt, may be NULL)? */
int attn_opt_flag(const attn_argv *a, const char *name, const char *alt);

/* Strict numbers. Each returns 0, or -1 after telling
 * "attnbench CMD: NAME 'V': expected WHAT". */
int attn_opt_double(const attn_argv *a, const char *name, const char *v, double lo, double hi,
                    const char *what, double *out);
int attn_opt_long(const attn_argv *a, const char *name, const char *v, long lo, long hi,
                  const char *what, long *out);
/* A percentage, "5" or "5%", in [lo, hi] percent; *out is the fraction (0.05). */
int attn_opt_percent(const attn_argv *a, const char *name, const char *v, double lo, double hi,
                     double *out);
/* A byte size, "512M", "4G", "1.5GiB", "65536": at least 1 byte, at most 2^60. */
int attn_opt_size(const attn_argv *a, const char *name, const char *v, size_t *out);

/* compare's and history's --alpha: a significance level, 0 < A < 1. */
int attn_opt_alpha(const attn_argv *a, const char *v, double *out);

/* "attnbench CMD: unknown option 'X' (see attnbench CMD --help)"; returns 2. */
int attn_opt_unknown(const attn_argv *a);

#endif
