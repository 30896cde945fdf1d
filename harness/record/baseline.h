/* baseline.h: named baselines stored per machine (run --save-baseline, compare --baseline).
 *
 * Layout: <root>/<machine key>/<NAME>.json, root = $ATTN_BASELINE_DIR or
 * "results/baselines". The machine key is a slug of the context's cpu_model and core
 * count ("intel-xeon-platinum-8375c-cpu-2-90ghz-2c"), so a baseline made on one CPU is
 * never picked up on another; compare also refuses one whose recorded cpu_model differs.
 */
#ifndef ATTN_BASELINE_H
#define ATTN_BASELINE_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Root directory of all baselines ($ATTN_BASELINE_DIR or "results/baselines"). */
const char *attn_baseline_root(void);

/* Filesystem-safe machine key from a results context (cpu_model + cores).
 * 0, or -1 when the context has no cpu_model (out gets "unknown-machine"). */
int attn_machine_key(const cJSON *context, char *out, size_t n);

/* 1 when NAME is usable as a baseline name: [A-Za-z0-9._-]+, not starting with '.'. */
int attn_baseline_name_ok(const char *name);

/* Path of baseline NAME for the machine described by context: root/key/NAME.json. 0 or -1. */
int attn_baseline_path_for(const cJSON *context, const char *name, char *out, size_t n);

/* Like attn_baseline_path_for, and the file must exist: otherwise prints on stderr what
 * is missing, which baselines exist for this machine and for others, and how to save one;
 * returns -1. */
int attn_baseline_find(const cJSON *context, const char *name, char *out, size_t n);

/* Copy the results.json of a results directory (or the file itself) to
 * root/<key from its context>/NAME.json, atomically, creating directories. Prints the
 * saved path on stderr. 0, or -1 after an error message. */
int attn_baseline_save(const char *results_dir_or_file, const char *name);

/* Path of baseline NAME for the machine this process runs on (attn_context_json).
 * Lives in baseline_here.c so that the rest links without machine.c. 0 or -1. */
int attn_baseline_path(const char *name, char *out, size_t n);

#endif
