/* child.c: see child.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/child.h"
#include "util/util.h"

int attn_child_double(double (*fn)(void *arg), void *arg, unsigned alarm_s,
                      double *out, char *err, size_t errlen)
{
    int fd[2];
    if (pipe(fd) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);               /* the child must not flush the parent's buffers again */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        attn_die_with_parent(parent);   /* no measurement burning a core on, unwatched */
        close(fd[0]);
        alarm(alarm_s);         /* a stuck child must not hang a sweep */
        double r = fn(arg);
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    double r = 0;
    ssize_t n;
    do n = read(fd[0], &r, sizeof r); while (n < 0 && errno == EINTR);
    close(fd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (n == (ssize_t)sizeof r && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        *out = r;
        return 0;
    }
    if (WIFSIGNALED(st))
        snprintf(err, errlen, "child killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(err, errlen, "measurement failed");
    return -1;
}
