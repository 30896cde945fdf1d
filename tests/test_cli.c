/* test_cli.c: the command line as a hostile user types it: every numeric option of run,
 * peak, compare, history and merge refuses NaN, infinities, out-of-range values and
 * trailing junk with exit 2 and "attnbench CMD: --opt 'value': expected ..."; and the
 * peak-measuring child dies with its parent. Runs $ATTNBENCH (default build/attnbench). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/peak.h"
#include "test.h"

static const char *bin(void)
{
    const char *b = getenv("ATTNBENCH");
    return b ? b : "build/attnbench";
}

/* Run `attnbench ARGS` (ARGS already shell-quoted); its stderr into err. Exit status. */
static int run(char *err, size_t n, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/null", bin(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t got = fread(err, 1, n - 1, p);
    err[got] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `attnbench CMD OPT 'VAL' REST` exits 2 saying "attnbench CMD: OPT 'VAL': expected". */
/* (the other arguments never lead anywhere: a value let through must not start a sweep
 * or a long measurement, so the config does not exist and peak measures 1 ms) */
static void refused(const char *cmd, const char *opt, const char *val, const char *rest)
{
    char args[1024], err[4096], want[512];
    snprintf(args, sizeof args, "%s %s '%s' %s", cmd, opt, val, rest);
    snprintf(want, sizeof want, "attnbench %s: %s '%s': expected", cmd, opt, val);
    int rc = run(err, sizeof err, args);
    CHECK_MSG(rc == 2, "attnbench %s: exit %d, want 2\n%s", args, rc, err);
    CHECK_MSG(strstr(err, want) != NULL, "attnbench %s: no \"%s\" in:\n%s", args, want, err);
}

TEST(cli_run_refuses_hostile_numbers)
{
    static const char *sizes[] = { "nan", "NaN", "inf", "-inf", "infinity", "1e30", "0", "-1", "0.5",
                                   "12Q", "4G junk", "", "0x10", "1e400", "2048P" };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        refused("run", "--mem-budget", sizes[i], "/nonexistent/attn-test.ini");
    static const char *shards[] = { "1/1", "2/1", "0/0", "1/2x", "-1/2", "99999999999/2", "1/99999999999",
                                    " 1/2", "1/", "/2", "nan/2", "1.5/2" };
    for (size_t i = 0; i < sizeof shards / sizeof *shards; i++)
        refused("run", "--shard", shards[i], "/nonexistent/attn-test.ini");
    /* a value left off, and an unknown option, are usage errors too */
    char err[4096];
    CHECK(run(err, sizeof err, "run /nonexistent/attn-test.ini --mem-budget") == 2 && strstr(err, "attnbench run: --mem-budget needs a value"));
    CHECK(run(err, sizeof err, "run /nonexistent/attn-test.ini --mem-budgt 4G") == 2 && strstr(err, "attnbench run: unknown option '--mem-budgt'"));
}

TEST(cli_peak_refuses_hostile_numbers)
{
    static const char *secs[] = { "nan", "inf", "-inf", "0", "-1", "1e9", "601", "1x", "", "1e-9" };
    for (size_t i = 0; i < sizeof secs / sizeof *secs; i++) refused("peak", "--seconds", secs[i], "--threads 1 --bogus");
    static const char *thr[] = { "0", "-1", "nan", "1,,2", "1,", ",1", "99999999999", "2x", " 1", "1.5" };
    for (size_t i = 0; i < sizeof thr / sizeof *thr; i++) refused("peak", "--threads", thr[i], "--seconds 0.001 --bogus");
}

TEST(cli_compare_history_refuse_hostile_numbers)
{
    static const char *pct[] = { "nan", "inf", "-inf", "-1", "1000", "5x", "", "5%%%%", "1e400" };
    static const char *alpha[] = { "nan", "inf", "0", "1", "-0.5", "0.05x", "" };
    for (size_t i = 0; i < sizeof pct / sizeof *pct; i++) {
        refused("compare", "--threshold", pct[i], "a b");
        refused("history", "--threshold", pct[i], "a");
    }
    for (size_t i = 0; i < sizeof alpha / sizeof *alpha; i++) {
        refused("compare", "--alpha", alpha[i], "a b");
        refused("history", "--alpha", alpha[i], "a");
    }
    /* both spellings of a value, and one prefix for every command's messages */
    char err[4096];
    CHECK(run(err, sizeof err, "compare --threshold=nan a b") == 2 && strstr(err, "attnbench compare: --threshold 'nan'"));
    CHECK(run(err, sizeof err, "history --alpha=2 a") == 2 && strstr(err, "attnbench history: --alpha '2'"));
    CHECK(run(err, sizeof err, "merge --bogus") == 2 && strstr(err, "attnbench merge: unknown option '--bogus'"));
    CHECK(run(err, sizeof err, "plot --bogus") == 2 && strstr(err, "attnbench plot: unknown option '--bogus'"));
    CHECK(run(err, sizeof err, "merge -o") == 2 && strstr(err, "attnbench merge: -o needs a value"));
}

/* ------------------------------------------------------------- peak child -- */

/* A child of pid, from /proc/<pid>/task/<pid>/children or a scan of /proc; 0 if none. */
static long child_of(pid_t pid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    long found = 0;
    while (d && !found && (e = readdir(d))) {
        char path[300], buf[512];
        long p = atol(e->d_name), ppid = 0;
        if (p <= 0) continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", p);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        const char *rp = strrchr(buf, ')');
        if (rp && sscanf(rp + 1, " %*c %ld", &ppid) == 1 && ppid == pid) found = p;
    }
    if (d) closedir(d);
    return found;
}

TEST(cli_peak_child_dies_with_its_parent)
{
    /* a `kill` of attnbench alone (not its group) while it measures a peak must not
     * leave the FMA loop burning a core for the rest of its alarm */
    pid_t parent = fork();
    if (parent == 0) {
        attn_peak_measure(ATTN_ISA_PORTABLE, 1, 60);
        _exit(0);
    }
    long child = 0;
    for (int i = 0; i < 500 && child <= 0; i++) {
        usleep(10000);
        child = child_of(parent);
    }
    usleep(50000);                  /* let it reach its prctl */
    kill(parent, SIGKILL);
    waitpid(parent, NULL, 0);
    CHECK_MSG(child > 0, "no peak child seen");
    int gone = 0;
    for (int i = 0; i < 200 && child > 0 && !(gone = !test_pid_alive(child)); i++) usleep(10000);
    CHECK_MSG(gone, "peak child %ld still running after its parent was killed", child);
    if (!gone && child > 0) kill((pid_t)child, SIGKILL);
}
