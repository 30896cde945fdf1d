/* cmd_ab.c: `attnbench ab CONFIG --base BIN --new BIN`: two builds timed interleaved.
 *
 * For round r = 1..R and every case of CONFIG (in the config's order), both binaries run
 * the case back to back in fresh processes (`BIN run CONFIG --case ID --no-peak`), BASE
 * first in odd rounds of even cases and NEW first otherwise (A B, B A, ...), so drift of
 * the machine falls on both alike. Each side's rounds are pooled into DIR/base and DIR/new
 * (ordinary results directories: plot and compare read them), and each case is judged on
 * its paired rounds (analysis/ab.h); cases still inconclusive then get --more-rounds
 * rounds (after every case's first rounds) and are judged on all of theirs. Prints
 * compare's table; exits as compare does:
 * 0 pass, 1 regression, 2 usage or error, 3 inconclusive (rerun).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "analysis/ab.h"
#include "analysis/compare.h"
#include "cli/commands.h"
#include "core/config.h"
#include "record/results.h"
#include "util/util.h"

static const char usage_text[] =
    "usage: attnbench ab CONFIG.ini --base BIN --new BIN [options]\n"
    "       attnbench ab --judge DIR [--threshold PCT] [--alpha A] [--format F]\n"
    "\n"
    "Time every case of CONFIG with two builds of attnbench, interleaved: in each round\n"
    "both run the case back to back (order alternating), so a machine that drifts slows\n"
    "both alike. Each case is judged on its paired rounds (ratio of the two sides' fastest\n"
    "call in each round, paired t-test, 90% interval; method: docs/regression.md). Both\n"
    "builds must know `run --case` and `--no-peak` (scripts/ab-build.sh builds two git\n"
    "revisions).\n"
    "\n"
    "options:\n"
    "  --base BIN, --new BIN  the two attnbench binaries\n"
    "  -o DIR                 output (default results/ab-<config>-<date>): DIR/base and\n"
    "                         DIR/new are results directories, DIR/logs the runs' stderr\n"
    "  --rounds R             paired rounds, 2..100 (default 6)\n"
    "  --more-rounds M        then M more rounds of the cases still inconclusive, judged\n"
    "                         on all their rounds (0..100, default 6; 0: none)\n"
    "  --kernels a,b          only these kernels\n"
    "  --threshold PCT        change that counts (default 5)\n"
    "  --alpha A              significance of the paired t-test (default 0.01)\n"
    "  --format F             text (default), md or json\n"
    "  -q                     no progress lines\n"
    "  --judge DIR            time nothing: judge the rounds an earlier `ab -o DIR` wrote\n"
    "                         (DIR/base, DIR/new) again, e.g. with another threshold\n"
    "\n"
    "exit status: 0 no regression; 1 a case regressed or became invalid; 2 usage or\n"
    "error; 3 inconclusive: the rounds disagree too much to judge, rerun\n";

typedef struct {
    const char *config, *bin[2], *dir, *kernels;
    const char *judge;          /* --judge DIR: judge an earlier run's rounds, time nothing */
    int rounds, quiet;
    int more;                   /* --more-rounds: rounds added to cases still inconclusive */
    int thread_clock;           /* both builds know `run --thread-clock`: pass it */
} ab_opts;

static const char *const side_name[2] = { "base", "new" };

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* Run `bin run CONFIG --case ID --no-peak -q -o work` with stderr into log; its exit
 * status (0/1: results written, 2: error), or -1 when it could not run. */
/* Does build bin know `run --thread-clock`? (`run --thread-clock --help` exits 0 where it
 * does; an older build refuses the option with 2.) */
static int knows_thread_clock(const char *bin)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) { dup2(nul, 1); dup2(nul, 2); close(nul); }
        execl(bin, bin, "run", "--thread-clock", "--help", (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int run_one(const ab_opts *o, int side, const char *id, const char *work, const char *log)
{
    const char *argv[16];
    int k = 0;
    argv[k++] = o->bin[side];
    argv[k++] = "run";
    argv[k++] = o->config;
    argv[k++] = "--case";
    argv[k++] = id;
    argv[k++] = "--no-peak";
    argv[k++] = "-q";
    argv[k++] = "-o";
    argv[k++] = work;
    if (o->kernels) { argv[k++] = "--kernels"; argv[k++] = o->kernels; }
    if (o->thread_clock) argv[k++] = "--thread-clock";
    argv[k] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
        if (fd >= 0) { dup2(fd, 2); close(fd); }
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) { dup2(nul, 1); close(nul); }
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "attnbench ab: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The one case of a finished run directory (detached, owned), and its context into *ctx
 * the first time. NULL when the run left none. */
static cJSON *take_case(const char *work, cJSON **ctx)
{
    char err[512];
    cJSON *doc = attn_results_load(work, err, sizeof err);
    if (!doc) return NULL;
    cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    cJSON *c = cases && cases->child ? cJSON_DetachItemViaPointer(cases, cases->child) : NULL;
    if (!*ctx) *ctx = cJSON_DetachItemFromObjectCaseSensitive(doc, "context");
    cJSON_Delete(doc);
    return c;
}

/* Print the last lines of a log file to stderr (why a run failed). */
static void tail_log(const char *log)
{
    char *text = attn_read_file(log, NULL);
    if (!text) return;
    size_t n = strlen(text);
    fprintf(stderr, "%s", n > 800 ? text + n - 800 : text);
    free(text);
}

/* Round r of case i with both builds, base first in one round and new first in the next
 * (A B, B A, ...); the two case records into round[(i * 2 + side) * stride + r]. 0, or 2
 * when a binary could not be run. */
static int time_round(const ab_opts *o, const attn_caselist *list, int i, int r, cJSON **round,
                      int stride, cJSON *ctx[2], int warned[2])
{
    char work[4300], log[4400];
    const char *id = list->cases[i].id;
    for (int k = 0; k < 2; k++) {
        int side = (r + i) % 2 ? 1 - k : k;
        snprintf(work, sizeof work, "%s/work-%s", o->dir, side_name[side]);
        snprintf(log, sizeof log, "%s/logs/%s.log", o->dir, side_name[side]);
        nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        int st = run_one(o, side, id, work, log);
        cJSON *c = st == 0 || st == 1 ? take_case(work, &ctx[side]) : NULL;
        round[((size_t)i * 2 + side) * stride + r] = c;
        if (st < 0 || st == 127) {
            fprintf(stderr, "\nattnbench ab: %s could not be run (see %s)\n", o->bin[side], log);
            return 2;
        }
        if (!c && !warned[side]++) {
            fprintf(stderr, "\nattnbench ab: %s has no result for %s (exit %d); its cases are "
                    "reported missing/new. From %s:\n", side_name[side], id, st, log);
            tail_log(log);
        }
    }
    return 0;
}

/* Each side's document: every case's rounds so far (done[i] of them) pooled, the rounds
 * kept; at[k] = the list index of the k-th case of docs[0] (may be NULL). */
static void pool_docs(const ab_opts *o, int n, cJSON **round, int stride, const int *done,
                      cJSON *const ctx[2], int more_cases, cJSON *docs[2], int *at)
{
    for (int side = 0; side < 2; side++) {
        docs[side] = cJSON_CreateObject();
        cJSON_AddNumberToObject(docs[side], "schema", 1);
        cJSON *c = ctx[side] ? cJSON_Duplicate(ctx[side], 1) : cJSON_CreateObject();
        cJSON *ab = cJSON_AddObjectToObject(c, "ab");
        cJSON_AddStringToObject(ab, "side", side_name[side]);
        cJSON_AddStringToObject(ab, "binary", o->bin[side]);
        cJSON_AddStringToObject(ab, "other", o->bin[1 - side]);
        cJSON_AddNumberToObject(ab, "rounds", o->rounds);
        cJSON_AddNumberToObject(ab, "more_rounds", o->more);
        cJSON_AddNumberToObject(ab, "cases_given_more_rounds", more_cases);
        cJSON_AddItemToObject(docs[side], "context", c);
        cJSON *cases = cJSON_AddArrayToObject(docs[side], "cases");
        for (int i = 0, k = 0; i < n; i++) {
            cJSON *pooled = attn_ab_pool(&round[((size_t)i * 2 + side) * stride], done[i]);
            if (!pooled) continue;
            cJSON_AddItemToArray(cases, pooled);
            if (side == 0 && at) at[k++] = i;
        }
    }
}

/* All rounds of all cases, then --more-rounds of the cases still inconclusive; per side
 * the pooled document in docs[side]. 0, or 2. */
static int measure(const ab_opts *o, const attn_caselist *list, const attn_cmp_opts *co, cJSON *docs[2])
{
    int n = list->n, rc = 0, stride = o->rounds + o->more, more_cases = 0;
    cJSON **round = calloc((size_t)n * stride * 2, sizeof *round);   /* [case][side][round] */
    int *done = calloc((size_t)n + 1, sizeof *done), *at = calloc((size_t)n + 1, sizeof *at);
    int *again = calloc((size_t)n + 1, sizeof *again);
    cJSON *ctx[2] = { NULL, NULL };
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", o->dir);
    if (!round || !done || !at || !again || attn_mkdir_p(logs) != 0) {
        fprintf(stderr, "attnbench ab: cannot create %s: %s\n", logs, strerror(errno));
        free(round); free(done); free(at); free(again);
        return 2;
    }
    int warned[2] = { 0, 0 };
    time_t t0 = time(NULL);
    for (int r = 0; r < o->rounds && !rc; r++)
        for (int i = 0; i < n && !rc; i++) {
            if (!o->quiet && (isatty(2) || i == 0))
                fprintf(stderr, "%sab: round %d/%d, case %d/%d (%lds)%s", isatty(2) ? "\r" : "", r + 1,
                        o->rounds, i + 1, n, (long)(time(NULL) - t0), isatty(2) ? "   " : "\n");
            rc = time_round(o, list, i, r, round, stride, ctx, warned);
        }
    for (int i = 0; i < n; i++) done[i] = o->rounds;
    /* more rounds for the cases the first rounds could not judge: a disturbance that hit
     * half of a case's rounds leaves it inconclusive, and new rounds, later, mostly miss it */
    if (!rc && o->more > 0) {
        attn_cmp_report r;
        pool_docs(o, n, round, stride, done, ctx, 0, docs, at);
        if (attn_compare_cases(docs[0], docs[1], co, &r) == 0) {
            attn_ab_judge(&r, co);
            for (int c = 0; c < r.n; c++) {
                if (r.cases[c].verdict != CMP_INCONCLUSIVE || !r.cases[c].base) continue;
                int k = 0;
                const cJSON *e;
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(docs[0], "cases")) {
                    if (e == r.cases[c].base) { again[at[k]] = 1; more_cases++; break; }
                    k++;
                }
            }
            attn_cmp_report_free(&r);
        }
        cJSON_Delete(docs[0]);
        cJSON_Delete(docs[1]);
        docs[0] = docs[1] = NULL;
        if (more_cases && !o->quiet)
            fprintf(stderr, "%sab: %d case%s inconclusive after %d rounds: %d more rounds of %s\n",
                    isatty(2) ? "\n" : "", more_cases, more_cases > 1 ? "s" : "", o->rounds, o->more,
                    more_cases > 1 ? "them" : "it");
        for (int r = o->rounds; r < stride && more_cases && !rc; r++)
            for (int i = 0; i < n && !rc; i++)
                if (again[i]) rc = time_round(o, list, i, r, round, stride, ctx, warned);
        for (int i = 0; i < n; i++)
            if (again[i]) done[i] = stride;
    }
    if (!o->quiet && isatty(2)) fprintf(stderr, "\n");
    for (int side = 0; side < 2; side++) {
        char work[4300];
        snprintf(work, sizeof work, "%s/work-%s", o->dir, side_name[side]);
        nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    pool_docs(o, n, round, stride, done, ctx, more_cases, docs, NULL);
    for (size_t k = 0; k < (size_t)n * stride * 2; k++) cJSON_Delete(round[k]);
    cJSON_Delete(ctx[0]);
    cJSON_Delete(ctx[1]);
    free(round); free(done); free(at); free(again);
    return rc;
}

static int parse_args(int argc, char **argv, ab_opts *o, attn_cmp_opts *co, const char **fmt)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        if (!strcmp(a, "-q")) { o->quiet = 1; continue; }
        if (a[0] != '-') {
            if (o->config) { fprintf(stderr, "attnbench ab: more than one config ('%s', '%s')\n", o->config, a); return 2; }
            o->config = a;
            continue;
        }
        if (!v) { fprintf(stderr, "attnbench ab: %s needs a value (see --help)\n", a); return 2; }
        i++;
        if (!strcmp(a, "--base")) o->bin[0] = v;
        else if (!strcmp(a, "--new")) o->bin[1] = v;
        else if (!strcmp(a, "-o")) o->dir = v;
        else if (!strcmp(a, "--kernels")) o->kernels = v;
        else if (!strcmp(a, "--judge")) o->judge = v;
        else if (!strcmp(a, "--rounds")) {
            long r;
            if (attn_parse_long(v, 2, 100, &r)) { fprintf(stderr, "attnbench ab: --rounds '%s': expected 2..100\n", v); return 2; }
            o->rounds = (int)r;
        } else if (!strcmp(a, "--more-rounds")) {
            long r;
            if (attn_parse_long(v, 0, 100, &r)) { fprintf(stderr, "attnbench ab: --more-rounds '%s': expected 0..100\n", v); return 2; }
            o->more = (int)r;
        } else if (!strcmp(a, "--threshold")) {
            if (attn_parse_double(v, &x) || x <= 0 || x >= 1000) {
                fprintf(stderr, "attnbench ab: --threshold '%s': expected a percentage such as 5\n", v);
                return 2;
            }
            co->threshold = x / 100;
        } else if (!strcmp(a, "--alpha")) {
            if (attn_parse_double(v, &x) || !(x > 0 && x < 1)) {
                fprintf(stderr, "attnbench ab: --alpha '%s': expected a number between 0 and 1\n", v);
                return 2;
            }
            co->alpha = x;
        } else if (!strcmp(a, "--format")) {
            if (strcmp(v, "text") && strcmp(v, "md") && strcmp(v, "json")) {
                fprintf(stderr, "attnbench ab: --format '%s': expected text, md or json\n", v);
                return 2;
            }
            *fmt = v;
        } else {
            fprintf(stderr, "attnbench ab: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (o->judge) {
        if (o->config || o->bin[0] || o->bin[1] || o->dir || o->kernels) {
            fprintf(stderr, "attnbench ab: --judge DIR times nothing: give no CONFIG, --base, --new, -o or --kernels\n");
            return 2;
        }
        return -1;
    }
    if (!o->config || !o->bin[0] || !o->bin[1]) {
        fprintf(stderr, "attnbench ab: need CONFIG, --base BIN and --new BIN\n");
        fputs(usage_text, stderr);
        return 2;
    }
    for (int s = 0; s < 2; s++)
        if (access(o->bin[s], X_OK) != 0) {
            fprintf(stderr, "attnbench ab: --%s %s: not an executable file\n", side_name[s], o->bin[s]);
            return 2;
        }
    return -1;
}

/* Judge the pooled documents of DIR on their paired rounds and print the report; the exit
 * code (0 pass, 1 regression, 2 error, 3 inconclusive). */
static int judge(const char *dir, const cJSON *base, const cJSON *new_, const attn_cmp_opts *co,
                 const char *fmt)
{
    attn_cmp_report r;
    if (attn_compare_cases(base, new_, co, &r) != 0) {
        fprintf(stderr, "attnbench ab: out of memory\n");
        return 2;
    }
    attn_ab_judge(&r, co);
    char bn[1100], nn[1100];
    snprintf(bn, sizeof bn, "%s/base", dir);
    snprintf(nn, sizeof nn, "%s/new", dir);
    attn_cmp_print(stdout, fmt, &r, co, base, new_, bn, nn);
    int rc = attn_cmp_exit_code(&r);
    attn_cmp_report_free(&r);
    return rc;
}

/* ab --judge DIR: the rounds an earlier run wrote, judged again. */
static int judge_again(const char *dir, const attn_cmp_opts *co, const char *fmt)
{
    cJSON *docs[2] = { NULL, NULL };
    char path[4200], err[4096];
    int rc = 0;
    for (int s = 0; s < 2 && rc == 0; s++) {
        snprintf(path, sizeof path, "%s/%s/results.json", dir, side_name[s]);
        docs[s] = attn_results_load(path, err, sizeof err);
        if (!docs[s]) { fprintf(stderr, "attnbench ab: --judge: %s\n", err); rc = 2; }
    }
    if (rc == 0) rc = judge(dir, docs[0], docs[1], co, fmt);
    cJSON_Delete(docs[0]);
    cJSON_Delete(docs[1]);
    return rc;
}

int attn_cmd_ab(int argc, char **argv)
{
    ab_opts o = { .rounds = 6, .more = 6 };
    attn_cmp_opts co = { ATTN_CMP_DEFAULT_THRESHOLD, ATTN_CMP_DEFAULT_ALPHA };
    const char *fmt = "text";
    int rc = parse_args(argc, argv, &o, &co, &fmt);
    if (rc >= 0) return rc;
    if (o.judge) return judge_again(o.judge, &co, fmt);

    attn_caselist list;
    if (attn_config_load(o.config, o.kernels, &list) != 0) return 2;
    char dir[1024], path[1100];
    if (!o.dir) {
        const char *b = strrchr(o.config, '/') ? strrchr(o.config, '/') + 1 : o.config;
        time_t t = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        snprintf(dir, sizeof dir, "results/ab-%.*s-%s", (int)strcspn(b, "."), b, stamp);
        o.dir = dir;
    }
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/%s/results.json", o.dir, side_name[s]);
        if (access(path, F_OK) == 0) {
            fprintf(stderr, "attnbench ab: %s already exists; choose another -o DIR\n", path);
            attn_caselist_free(&list);
            return 2;
        }
    }
    /* 1-thread cases by the thread's CPU time when both builds can: a round that shared
     * its core with another process for its whole life is then not slower */
    o.thread_clock = knows_thread_clock(o.bin[0]) && knows_thread_clock(o.bin[1]);
    if (!o.quiet)
        fprintf(stderr, "ab: %d cases x %d rounds x 2 builds, results in %s; 1-thread cases timed by %s\n",
                list.n, o.rounds, o.dir, o.thread_clock ? "thread CPU time" :
                "the wall clock (a build lacks run --thread-clock)");
    cJSON *docs[2] = { NULL, NULL };
    rc = measure(&o, &list, &co, docs);
    attn_caselist_free(&list);
    for (int s = 0; s < 2 && rc == 0; s++) {
        snprintf(path, sizeof path, "%s/%s", o.dir, side_name[s]);
        if (attn_mkdir_p(path) != 0 || attn_results_write_doc(path, docs[s], 0) != 0) rc = 2;
    }
    if (rc == 0) rc = judge(o.dir, docs[0], docs[1], &co, fmt);
    cJSON_Delete(docs[0]);
    cJSON_Delete(docs[1]);
    return rc;
}
