/* child.h: run a measurement in a forked child and read back one number.
 *
 * The peak and bandwidth loops start OpenMP thread pools; running them in a child keeps
 * the parent free of threads (so the parent can go on forking case children safely) and
 * turns a crash or a hang into a failed measurement instead of a dead sweep. The child
 * dies with its parent (PR_SET_PDEATHSIG) and is killed after alarm_s seconds.
 */
#ifndef ATTN_CHILD_H
#define ATTN_CHILD_H

#include <stddef.h>

/* Fork, call fn(arg) in the child and return its value through a pipe. 0 and *out set,
 * or -1 with a message in err ("child killed by signal 11 (Segmentation fault)"). */
int attn_child_double(double (*fn)(void *arg), void *arg, unsigned alarm_s,
                      double *out, char *err, size_t errlen);

#endif
