/* runner.c: run one case in a forked child; see runner.h.
 *
 * Parent                                 Child
 *   skip checks: ISA, capabilities,        make inputs (fixed seed, same for every kernel)
 *   memory budget                          first kernel call, watching resident memory
 *   fork ------------------------------->  validate against the reference
 *   read the report pipe until EOF or      (--dump: write inputs and output)
 *   the deadline (then SIGKILL)            warm-up, timed repetitions
 *   wait4: exit status, signal, peak RSS   write one report + raw samples, _exit(0)
 *
 * The parent never enters an OpenMP region, so forking stays safe; kernels start their
 * thread pools inside the child only.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "record/dump.h"
#include "core/inputs.h"
#include "core/layer.h"
#include "core/peak.h"
#include "core/ref64.h"
#include "core/tolerance.h"
#include "core/runner.h"
#include "core/peer.h"

#define MAX_SAMPLES 100000
#define SAMPLE_TARGET 1e-4      /* seconds: shorter calls are timed in batches */
/* Validation runs the whole naive kernel when it costs at most this many FLOPs and its
 * score matrix fits 256 MiB and the memory budget; otherwise it computes rows one by one,
 * a sample costing about half as much, first and last row always in. */
#define REF_FLOPS_DEFAULT 2e9

/* ------------------------------------------------------------ plan --------- */

/* How validation will be done for a case: all rows, or n_rows sampled rows. */
typedef struct {
    int full;       /* 1: run the naive kernel on the whole problem */
    int n_rows;     /* rows per (b, h) when sampling */
} ref_plan;

/* Byte counts below use checked arithmetic (util.h) and saturate at SIZE_MAX, which no
 * memory budget admits: a case whose sizes a config would refuse (attn_case_size_check)
 * but that reaches the runner another way is skipped over budget, never wrapped. */

/* (B, H, rows, Dv) elements of `each` bytes */
static size_t rows_bytes(const attn_case *c, long rows, size_t each, int *ovf)
{
    if (c->batch < 0 || c->heads < 0 || rows < 0 || c->v_dim < 0) { *ovf = 1; return SIZE_MAX; }
    return attn_size_mul(attn_size_mul((size_t)c->batch, (size_t)c->heads, ovf),
                         attn_size_mul(attn_size_mul((size_t)rows, (size_t)c->v_dim, ovf), each, ovf), ovf);
}

/* Bytes the full reference adds to the case: its output (B, H, Lq, Dv) and the naive
 * kernel's workspace. */
static size_t full_reference_bytes(const attn_case *c)
{
    attn_problem p;
    attn_problem_from_case(c, &p);
    const attn_kernel *naive = attn_kernel_find("naive");
    int ovf = 0;
    size_t n = attn_size_add(rows_bytes(c, c->q_len, sizeof(float), &ovf),
                             naive ? naive->workspace_bytes(&p, 1) : 0, &ovf);
    return ovf ? SIZE_MAX : n;
}

/* Inputs and the kernel's workspace: what the case needs before validation. */
static size_t case_base_bytes(const attn_case *c)
{
    attn_problem p;
    attn_problem_from_case(c, &p);
    int ovf = 0;
    size_t n = attn_size_add(attn_inputs_bytes(c), c->kernel->workspace_bytes(&p, c->threads), &ovf);
    return ovf ? SIZE_MAX : n;
}

static ref_plan plan_reference(const attn_case *c, const attn_run_opts *o)
{
    double limit = o->ref_flops > 0 ? o->ref_flops : REF_FLOPS_DEFAULT;
    double per_row = (double)c->kv_len * (2.0 * c->head_dim + 2.0 * c->v_dim +
                     (c->score == ATTN_SCORE_ADDITIVE ? 4.0 * c->additive_dim * c->head_dim : 0));
    double bh = (double)c->batch * c->heads;
    ref_plan r = { 0, c->q_len };
    /* the full reference also has to fit the memory budget (docs/design.md, results/README.md),
     * else a case a sampled reference would fit is skipped as over budget */
    if (bh * c->q_len * per_row <= limit &&
        (double)c->q_len * c->kv_len * sizeof(float) <= 256.0 * 1024 * 1024 &&
        strcmp(c->kernel->name, "naive") != 0 &&
        full_reference_bytes(c) <= o->mem_budget &&
        case_base_bytes(c) <= o->mem_budget - full_reference_bytes(c)) {
        r.full = 1;
        return r;
    }
    double n = 0.5 * limit / (bh * per_row);
    if (n < 8) n = 8;
    if (n < r.n_rows) r.n_rows = (int)n;
    return r;
}

/* rows[0..n) spread evenly over [0, Lq), first and last included. */
static void sample_rows(int Lq, int n, int *rows)
{
    for (int t = 0; t < n; t++)
        rows[t] = n == 1 ? 0 : (int)((double)t * (Lq - 1) / (n - 1) + 0.5);
}

size_t attn_case_mem_need(const attn_case *c, const attn_run_opts *o)
{
    attn_problem p;
    attn_problem_from_case(c, &p);
    int ovf = 0;
    size_t need = case_base_bytes(c);
    ref_plan r = plan_reference(c, o);
    if (r.full) {
        need = attn_size_add(need, full_reference_bytes(c), &ovf);
    } else {
        /* sampled rows: (B, H, n, Dv) floats, or doubles for the naive kernel, whose
         * float64 reference (ref64.c) also holds its score row and tables as doubles,
         * twice the float scratch of attn_reference_rows */
        int is_naive = !strcmp(c->kernel->name, "naive");
        need = attn_size_add(need, rows_bytes(c, r.n_rows, is_naive ? sizeof(double) : sizeof(float), &ovf), &ovf);
        need = attn_size_add(need, attn_size_mul((size_t)r.n_rows, sizeof(int), &ovf), &ovf);
        need = attn_size_add(need, attn_size_mul(attn_reference_scratch_bytes(&p), is_naive ? 2 : 1, &ovf), &ovf);
        need = attn_size_add(need, 64, &ovf);
    }
    if (c->layer == ATTN_LAYER_MHA) {   /* layer reference rows (B, n, dm), float64 layer */
        size_t n = r.full ? (size_t)c->q_len : (size_t)r.n_rows;
        need = attn_size_add(need, attn_size_mul(attn_size_mul((size_t)c->batch * n, (size_t)c->d_model, &ovf),
                                                 sizeof(double), &ovf), &ovf);
        if (!strcmp(c->kernel->name, "naive"))
            need = attn_size_add(need, attn_layer_ref64_bytes(c, (int)n), &ovf);
    }
    return ovf ? SIZE_MAX : need;
}

/* ------------------------------------------------------------ child -------- */

/* What the child sends back, followed by n_samples doubles, then for an mha case
 * n_samples doubles per part (ATTN_PART_COUNT). */
typedef struct {
    int stage;                  /* how far it got: 0 inputs, 1 ran, 2 validated, 3 timed */
    int kernel_status;          /* attn_status of the first call */
    attn_validation val;
    long kernel_extra_bytes;
    int n_samples;
    int n_parts;                /* ATTN_PART_COUNT for mha cases, else 0 */
    long iters_per_sample;
    char reason[256];
    int decided;                /* a peer's run decided the status itself (status below) */
    attn_case_status status;
    long peer_rss_bytes;        /* a peer's peak RSS (wait4 of its process) */
    char peer_version[64];
} child_report;

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') { v = atol(line + n + 1); break; }
    fclose(f);
    return v;
}

/* Reset the kernel's high-water mark so VmHWM after the call is the call's own peak. */
static int reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* out is (B, H, Lq, Dv); ref_f or ref_d (B, H, n, Dv) holds rows rows[0..n) of each (b, h)
 * (rows NULL: all, n = Lq). */
static void compare_rows(const attn_case *c, const float *out, int B, int H, int Lq, int Dv,
                         const float *ref_f, const double *ref_d, const int *rows, int n,
                         attn_validation *v)
{
    const attn_tol tol = attn_case_tol(c);
    v->passed = 1;
    v->max_abs_err = v->max_rel_err = 0;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < n; t++) {
                int i = rows ? rows[t] : t;
                const float *o = out + (((size_t)b * H + h) * Lq + i) * Dv;
                size_t r0 = (((size_t)b * H + h) * n + t) * Dv;
                for (int d = 0; d < Dv; d++) {
                    double ref = ref_d ? ref_d[r0 + d] : ref_f[r0 + d];
                    double err = fabs((double)o[d] - ref);
                    if (!(err <= tol.atol + tol.rtol * fabs(ref))) v->passed = 0;  /* NaN fails */
                    if (isnan(err)) err = INFINITY;
                    double rel = err / fmax(fabs(ref), tol.atol);
                    if (err > v->max_abs_err) v->max_abs_err = err;
                    if (rel > v->max_rel_err) v->max_rel_err = rel;
                }
            }
    v->rows_checked = (long)B * H * n;
    v->rows_total = (long)B * H * Lq;
    v->done = 1;
}

/* Compare the case's output with the reference rows (B, H, n, Dv) of the attention
 * (ref_f) or, for the naive kernel, of the float64 computation (ref_d). An mha case
 * compares its layer output (B, Lq, dm) instead: the attention rows go through the output
 * projection in float64 first (ref_f), the float64 layer gave layer rows (ref_d).
 * Returns 0, or -1 when memory is short. */
static int compare_out(const attn_case *c, const attn_inputs *in, const float *ref_f,
                       const double *ref_d, const int *rows, int n, attn_validation *v)
{
    if (c->layer != ATTN_LAYER_MHA) {
        compare_rows(c, in->out, c->batch, c->heads, c->q_len, c->v_dim, ref_f, ref_d, rows, n, v);
        return 0;
    }
    double *lref = NULL;
    if (ref_f) {
        if (!(lref = malloc(sizeof(double) * (size_t)c->batch * n * in->ly.dm))) return -1;
        attn_layer_out_rows(c, &in->ly, ref_f, n, lref);
        ref_d = lref;
    }
    compare_rows(c, in->ly.out, c->batch, 1, c->q_len, in->ly.dm, NULL, ref_d, rows, n, v);
    free(lref);
    return 0;
}

/* Validate in->out. Returns 0, or -1 if memory for the reference ran out. */
static int validate(const attn_case *c, const attn_run_opts *o, attn_inputs *in, attn_validation *v)
{
    const attn_problem *p = &in->p;
    ref_plan plan = plan_reference(c, o);
    size_t out_n = (size_t)c->batch * c->heads * c->q_len * c->v_dim;
    int is_naive = !strcmp(c->kernel->name, "naive");
    v->against = is_naive ? "float64" : "naive";

    if (plan.full) {
        const attn_kernel *naive = attn_kernel_find("naive");
        float *ref = attn_alloc(out_n * sizeof(float));
        void *ws = attn_alloc(naive->workspace_bytes(p, 1) + 64);
        if (!ref || !ws) { attn_free(ref); attn_free(ws); return -1; }
        naive->run(p, in->q, in->k, in->v, ref, ws, 1);
        int rc = compare_out(c, in, ref, NULL, NULL, c->q_len, v);
        attn_free(ref);
        attn_free(ws);
        return rc;
    }
    int n = plan.n_rows;
    int *rows = malloc(n * sizeof(int));
    size_t ref_n = (size_t)c->batch * c->heads * n * c->v_dim;
    float *ref_f = NULL;
    double *ref_d = NULL;
    void *scratch = NULL;
    int rc = -1;
    if (!rows) goto done;
    sample_rows(c->q_len, n, rows);
    if (is_naive && c->layer == ATTN_LAYER_MHA) {      /* the float64 layer: (B, n, dm) */
        if (!(ref_d = malloc(sizeof(double) * (size_t)c->batch * n * in->ly.dm))) goto done;
        if (attn_layer_ref64_rows(c, in, rows, n, ref_d) != 0) goto done;
    } else if (is_naive) {
        if (!(ref_d = malloc(ref_n * sizeof(double)))) goto done;
        if (attn_ref64_rows(p, in->q, in->k, in->v, rows, n, ref_d) != 0) goto done;
    } else {
        ref_f = attn_alloc(ref_n * sizeof(float));
        scratch = attn_alloc(attn_reference_scratch_bytes(p) + 64);
        if (!ref_f || !scratch) goto done;
        attn_reference_rows(p, in->q, in->k, in->v, rows, n, ref_f, scratch);
    }
    rc = compare_out(c, in, ref_f, ref_d, rows, n, v);
done:
    free(rows);
    free(ref_d);
    attn_free(ref_f);
    attn_free(scratch);
    return rc;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void child_send(int fd, child_report *rep, const double *samples)
{
    write_all(fd, rep, sizeof *rep);
    if (rep->n_samples)
        write_all(fd, samples, (size_t)rep->n_samples * (1 + rep->n_parts) * sizeof(double));
}

/* Does case c time its samples by the thread's CPU time? Only a kernel on one thread
 * (the calling thread does all the work; a peer times itself). */
static int uses_thread_clock(const attn_case *c, const attn_run_opts *o)
{
    return o->thread_clock && c->threads == 1 && !attn_peer_of(c->kernel);
}

/* Seconds on the sample clock: the calling thread's CPU time, or the monotonic clock. */
static double sample_clock(int thread_cpu)
{
    if (!thread_cpu) return attn_now_s();
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One call of what the case times: the kernel, or for layer = mha the whole layer
 * (core/layer.c), which adds each part's seconds to parts. */
static attn_status call_case(const attn_case *c, attn_inputs *in, void *ws, double *parts)
{
    if (c->layer == ATTN_LAYER_MHA) return attn_layer_forward(c, in, ws, parts);
    return c->kernel->run(&in->p, in->q, in->k, in->v, in->out, ws, c->threads);
}

/* Validate in->out (unless a later round), --dump the case; stage 2. Sends the report
 * and exits when the reference could not be made or the output is wrong. */
static void validate_and_dump(const attn_case *c, const attn_run_opts *o, attn_inputs *in,
                              child_report *rep, int fd)
{
    if (o->no_validation) {             /* a later round of a case validated already */
        rep->val.passed = 1;
    } else if (validate(c, o, in, &rep->val) != 0) {
        snprintf(rep->reason, sizeof rep->reason, "could not allocate the validation reference");
        child_send(fd, rep, NULL);
        _exit(0);
    }
    rep->stage = 2;
    if (o->dump_dir && attn_dump_case(o->dump_dir, c, in) != 0)
        snprintf(rep->reason, sizeof rep->reason, "dump to %s failed", o->dump_dir);
    if (!rep->val.passed) {
        child_send(fd, rep, NULL);
        _exit(0);
    }
}

/* A peer instead of a kernel call (core/peer.h): it runs as a program on the inputs and
 * brings back its output and per-call samples; they are validated like a kernel's. The
 * peer gets most of the case's timeout, leaving the rest for validation. */
static void peer_child(const attn_peer *peer, const attn_case *c, const attn_run_opts *o,
                       attn_inputs *in, child_report *rep, int fd, double t0, const char *dir)
{
    attn_peer_out po;
    double left = 0.9 * c->timeout - (attn_now_s() - t0);
    attn_peer_exec(peer, c, in, dir, left > 0.5 ? left : 0.5, &po);
    rep->peer_rss_bytes = po.peak_rss_bytes;
    snprintf(rep->peer_version, sizeof rep->peer_version, "%s", po.version);
    rep->stage = 1;
    if (po.status != ST_OK) {
        rep->decided = 1;
        rep->status = po.status;
        snprintf(rep->reason, sizeof rep->reason, "%s", po.reason);
        child_send(fd, rep, NULL);
        _exit(0);
    }
    validate_and_dump(c, o, in, rep, fd);
    rep->stage = 3;
    rep->n_samples = po.n_samples;
    rep->iters_per_sample = 1;
    child_send(fd, rep, po.samples);
    _exit(0);
}

static void child_main(const attn_case *c, const attn_run_opts *o, int fd, const char *peer_dir)
{
    double t0 = attn_now_s();
    child_report rep;
    memset(&rep, 0, sizeof rep);
    attn_inputs in;
    if (attn_inputs_make(c, &in) != 0) {
        snprintf(rep.reason, sizeof rep.reason, "could not allocate %zu bytes of inputs",
                 attn_inputs_bytes(c));
        child_send(fd, &rep, NULL);
        _exit(0);
    }
    const attn_peer *peer = attn_peer_of(c->kernel);
    if (peer) peer_child(peer, c, o, &in, &rep, fd, t0, peer_dir);
    const attn_kernel *k = c->kernel;
    size_t ws_bytes = k->workspace_bytes(&in.p, c->threads);
    void *ws = attn_alloc(ws_bytes + 64);   /* +64: never a zero-size allocation */
    if (!ws) {
        snprintf(rep.reason, sizeof rep.reason, "could not allocate %zu bytes of workspace", ws_bytes);
        child_send(fd, &rep, NULL);
        _exit(0);
    }

    /* first call: the kernel's own memory (workspace pages are first touched here) */
    long rss0 = status_kb("VmRSS");
    int have_hwm = reset_peak_rss() == 0;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double first_call_s = attn_now_s();
    double parts[ATTN_PART_COUNT] = { 0 };
    rep.kernel_status = call_case(c, &in, ws, parts);
    first_call_s = attn_now_s() - first_call_s;
    getrusage(RUSAGE_SELF, &ru1);
    long hwm = have_hwm ? status_kb("VmHWM") : -1;
    if (hwm >= 0 && rss0 >= 0)
        rep.kernel_extra_bytes = (hwm > rss0 ? hwm - rss0 : 0) * 1024;
    else  /* no clear_refs: growth of the lifetime peak, a lower bound */
        rep.kernel_extra_bytes = (ru1.ru_maxrss - ru0.ru_maxrss) * 1024;
    rep.stage = 1;
    if (rep.kernel_status != ATTN_OK) {
        snprintf(rep.reason, sizeof rep.reason, "kernel returned status %d", rep.kernel_status);
        child_send(fd, &rep, NULL);
        _exit(0);
    }

    validate_and_dump(c, o, &in, &rep, fd);

    /* warm-up: the first call, then more until a tenth of min_time has passed, and at
     * least one more when the first call was short (it paid for page faults) */
    double warm = first_call_s;
    long warm_calls = 0;
    while (warm < 0.1 * c->min_time || (warm_calls == 0 && first_call_s < 0.1)) {
        double a = attn_now_s();
        call_case(c, &in, ws, parts);
        warm += attn_now_s() - a;
        warm_calls++;
    }
    /* A sample times a batch of calls when one call is shorter than SAMPLE_TARGET (or a
     * 200th of min_time): the clock and the loop then cost nothing measurable, and a tiny
     * kernel yields a few hundred samples, not hundreds of thousands. */
    double per_call = warm_calls ? (warm - first_call_s) / warm_calls : first_call_s;
    double target = fmax(SAMPLE_TARGET, c->min_time / 200);
    long iters = per_call > 0 && per_call < target ? (long)ceil(target / per_call) : 1;

    const int n_parts = c->layer == ATTN_LAYER_MHA ? ATTN_PART_COUNT : 0;
    double *samples = malloc((size_t)MAX_SAMPLES * (1 + n_parts) * sizeof(double));
    if (!samples) {
        snprintf(rep.reason, sizeof rep.reason, "could not allocate the sample buffer");
        child_send(fd, &rep, NULL);
        _exit(0);
    }
    double total = 0;
    int n = 0;
    double *part_samples = samples + MAX_SAMPLES;   /* part q, sample t: [q * MAX_SAMPLES + t] */
    const int tclock = uses_thread_clock(c, o);
    while ((n < c->reps || total < c->min_time) && n < MAX_SAMPLES) {
        memset(parts, 0, sizeof parts);
        double a = sample_clock(tclock);
        for (long it = 0; it < iters; it++)
            call_case(c, &in, ws, parts);
        double dt = sample_clock(tclock) - a;
        for (int q = 0; q < n_parts; q++) part_samples[(size_t)q * MAX_SAMPLES + n] = parts[q] / iters;
        samples[n++] = dt / iters;
        total += dt;
    }
    for (int q = 0; q < n_parts; q++)          /* the parts' samples right after the whole's */
        memmove(samples + (size_t)(q + 1) * n, part_samples + (size_t)q * MAX_SAMPLES, sizeof(double) * (size_t)n);
    rep.stage = 3;
    rep.n_parts = n_parts;
    rep.n_samples = n;
    rep.iters_per_sample = iters;
    child_send(fd, &rep, samples);
    _exit(0);
}

/* ------------------------------------------------------------ parent ------- */

static int read_full(int fd, void *buf, size_t n, double deadline)
{
    char *p = buf;
    while (n) {
        double left_ms = (deadline - attn_now_s()) * 1000;
        if (left_ms < 1) return -2;
        /* a long timeout is waited in slices: more than INT_MAX ms does not fit poll() */
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int pr = poll(&pf, 1, left_ms < INT_MAX ? (int)left_ms : INT_MAX);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) continue;                  /* slice over; the deadline check decides */
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;                  /* EOF before the whole report: died */
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void skip(attn_result *r, const char *fmt, const char *a, const char *b)
{
    r->status = ST_SKIPPED;
    snprintf(r->reason, sizeof r->reason, fmt, a, b);
}

attn_case_status attn_run_case(const attn_case *c, const attn_run_opts *o, attn_result *r)
{
    memset(r, 0, sizeof *r);
    r->pct_peak = -1;
    r->flops = attn_case_flops(c);
    r->bytes = attn_case_bytes(c, attn_case_elem_bytes(c));
    r->intensity = r->bytes > 0 && r->flops > 0 ? r->flops / r->bytes : 0;   /* 0: unknown */
    r->roof_gflops = attn_roof_gflops(o->peak_gflops, o->bandwidth_gbs, r->intensity);
    r->pct_roof = -1;
    const attn_kernel *k = c->kernel;
    const char *why;
    if (!attn_kernel_usable(k, &why)) { skip(r, "%s%s", why, ""); return r->status; }
    if (c->layer == ATTN_LAYER_MHA && (why = attn_layer_unavailable())) { skip(r, "%s%s", why, ""); return r->status; }
    if (c->layer == ATTN_LAYER_MHA && c->dtype != ATTN_F32) {
        skip(r, "layer mha runs f32 only (its projections are sgemm), not dtype %s%s",
             attn_dtype_name(c->dtype), "");
        return r->status;
    }

    const attn_peer *peer = attn_peer_of(k);
    if (peer && c->layer == ATTN_LAYER_MHA) {   /* a peer program computes the attention alone */
        skip(r, "peer %s times the attention alone, not layer = mha%s", k->name, "");
        return r->status;
    }
    char peer_why[256];
    if (peer && !attn_peer_available(peer, peer_why, sizeof peer_why)) {
        skip(r, "peer %s unavailable: %s", k->name, peer_why);
        return r->status;
    }

    unsigned missing = attn_case_needs(c) & ~k->caps;
    if (missing) {
        char names[256] = "";
        for (int b = 0; b < ATTN_CAP_COUNT; b++)
            if (missing & (1u << b)) {
                if (*names) strncat(names, ", ", sizeof names - strlen(names) - 1);
                strncat(names, attn_cap_name(1u << b), sizeof names - strlen(names) - 1);
            }
        skip(r, peer ? "peer %s does not support: %s" : "kernel %s does not support: %s", k->name, names);
        return r->status;
    }
    if (!attn_kernel_accepts(k, c->dtype)) {
        skip(r, "kernel %s does not accept dtype %s", k->name, attn_dtype_name(c->dtype));
        return r->status;
    }
    attn_problem p;
    attn_problem_from_case(c, &p);
    r->workspace_bytes = k->workspace_bytes(&p, c->threads);
    size_t need = attn_case_mem_need(c, o);
    if (need > o->mem_budget) {
        char a[32], b[32];
        attn_fmt_bytes((double)need, a, sizeof a);
        attn_fmt_bytes((double)o->mem_budget, b, sizeof b);
        r->status = ST_SKIPPED;
        r->need_bytes = need;
        r->budget_bytes = o->mem_budget;
        snprintf(r->reason, sizeof r->reason,
                 "over memory budget: needs %zu bytes (%s), budget %zu bytes (%s)",
                 need, a, o->mem_budget, b);
        return r->status;
    }

    char peer_dir[PATH_MAX] = "";
    if (peer && attn_peer_mkdir(peer_dir, sizeof peer_dir) != 0) {
        r->status = ST_CRASHED;
        snprintf(r->reason, sizeof r->reason, "peer directory %.300s: %s", peer_dir, strerror(errno));
        return r->status;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        r->status = ST_CRASHED;
        snprintf(r->reason, sizeof r->reason, "pipe: %s", strerror(errno));
        if (peer) attn_peer_rmdir(peer_dir);
        return r->status;
    }
    fflush(NULL);
    double start = attn_now_s();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        if (peer) attn_peer_rmdir(peer_dir);
        r->status = ST_CRASHED;
        snprintf(r->reason, sizeof r->reason, "fork: %s", strerror(errno));
        return r->status;
    }
    if (pid == 0) {
        close(fds[0]);
#ifdef __linux__
        /* the parent killed alone (not its process group) must not leave the case
         * running on, unwatched: die with it (and check it did not die already) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() != parent) _exit(0);
#else
        (void)parent;
#endif
        child_main(c, o, fds[1], peer_dir);
        _exit(0);
    }
    close(fds[1]);

    child_report rep;
    memset(&rep, 0, sizeof rep);
    double deadline = start + c->timeout;
    int rd = read_full(fds[0], &rep, sizeof rep, deadline);
    double *samples = NULL;
    if (rd == 0 && rep.n_samples > 0 && rep.n_samples <= MAX_SAMPLES &&
        rep.n_parts >= 0 && rep.n_parts <= ATTN_PART_COUNT) {
        size_t bytes = (size_t)rep.n_samples * (1 + rep.n_parts) * sizeof(double);
        samples = malloc(bytes);
        rd = samples ? read_full(fds[0], samples, bytes, deadline) : -1;
    }
    if (rd == -2) kill(pid, SIGKILL);
    close(fds[0]);
    int wstatus = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &wstatus, 0, &ru) < 0 && errno == EINTR) {}
    r->wall_s = attn_now_s() - start;
    r->thread_clock = uses_thread_clock(c, o);
    if (peer) attn_peer_rmdir(peer_dir);
    r->peak_rss_bytes = ru.ru_maxrss * 1024L;
    r->kernel_extra_bytes = rep.kernel_extra_bytes;
    r->val = rep.val;
    if (peer) {                 /* the peer's process is what a user would run */
        r->peak_rss_bytes = rep.peer_rss_bytes;
        snprintf(r->peer_version, sizeof r->peer_version, "%s", rep.peer_version);
    }

    if (rd == -2) {
        r->status = ST_TIMEOUT;
        /* the child reports only at its end, so the stage it hung in is unknown here */
        snprintf(r->reason, sizeof r->reason, "timeout after %g s", c->timeout);
    } else if (WIFSIGNALED(wstatus)) {
        r->status = ST_CRASHED;
        snprintf(r->reason, sizeof r->reason, "killed by signal %s", attn_signal_name(WTERMSIG(wstatus)));
    } else if (rd != 0 || (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)) {
        r->status = ST_CRASHED;
        snprintf(r->reason, sizeof r->reason, "child exited with status %d before reporting",
                 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    } else if (rep.decided) {
        r->status = rep.status;
        snprintf(r->reason, sizeof r->reason, "%s", rep.reason);
    } else if (rep.stage < 2) {
        r->status = rep.kernel_status == ATTN_ERR_UNSUPPORTED ? ST_SKIPPED : ST_CRASHED;
        snprintf(r->reason, sizeof r->reason, "%s", rep.reason);
    } else if (!rep.val.passed) {
        r->status = ST_INVALID;
        snprintf(r->reason, sizeof r->reason,
                 "output differs from %s: max abs err %.3g, max rel err %.3g (atol %g, rtol %g)",
                 rep.val.against, rep.val.max_abs_err, rep.val.max_rel_err, attn_case_tol(c).atol,
                 attn_case_tol(c).rtol);
    } else if (rep.stage < 3) {
        r->status = ST_CRASHED;
        snprintf(r->reason, sizeof r->reason, "%s", rep.reason);
    } else {
        r->status = ST_OK;
        snprintf(r->reason, sizeof r->reason, "%s", rep.reason);  /* e.g. a failed dump */
        r->samples = samples;           /* the parts' samples follow the whole's */
        r->n_samples = rep.n_samples;
        r->n_parts = rep.n_parts;
        r->iters_per_sample = rep.iters_per_sample;
        r->rounds = 1;
        samples = NULL;
        attn_result_finish(r, o);
    }
    free(samples);
    return r->status;
}

void attn_result_finish(attn_result *r, const attn_run_opts *o)
{
    attn_stats_compute(r->samples, r->n_samples, &r->st);
    for (int q = 0; q < r->n_parts; q++)
        attn_stats_compute(r->samples + (size_t)(q + 1) * r->n_samples, r->n_samples, &r->part_st[q]);
    r->unstable = r->st.cv > ATTN_UNSTABLE_CV;
    r->gflops = r->st.median > 0 ? r->flops / r->st.median * 1e-9 : 0;
    r->pct_peak = o->peak_gflops > 0 ? 100.0 * r->gflops / o->peak_gflops : -1;
    r->gbytes_s = r->st.median > 0 && r->bytes > 0 ? r->bytes / r->st.median * 1e-9 : 0;
    r->roof_gflops = attn_roof_gflops(o->peak_gflops, o->bandwidth_gbs, r->intensity);
    r->pct_roof = r->roof_gflops > 0 ? 100.0 * r->gflops / r->roof_gflops : -1;
}

int attn_result_merge(attn_result *acc, attn_result *more, const attn_run_opts *o)
{
    if (more->status != ST_OK) {        /* a failing round decides the case */
        attn_validation v = acc->val;
        attn_result_free(acc);
        *acc = *more;
        if (!more->val.done) acc->val = v;
        memset(more, 0, sizeof *more);
        return 0;
    }
    /* each series (the whole, then each part) of acc followed by more's */
    const int na = acc->n_samples, nm = more->n_samples, np = acc->n_parts;
    if (more->n_parts != np) return -1;
    double *s = malloc((size_t)(na + nm) * (1 + np) * sizeof *s);
    if (!s) return -1;
    for (int q = 0; q <= np; q++) {
        memcpy(s + (size_t)q * (na + nm), acc->samples + (size_t)q * na, (size_t)na * sizeof *s);
        memcpy(s + (size_t)q * (na + nm) + na, more->samples + (size_t)q * nm, (size_t)nm * sizeof *s);
    }
    free(acc->samples);
    acc->samples = s;
    acc->n_samples += more->n_samples;
    acc->rounds += more->rounds;
    acc->wall_s += more->wall_s;
    if (more->peak_rss_bytes > acc->peak_rss_bytes) acc->peak_rss_bytes = more->peak_rss_bytes;
    if (more->iters_per_sample > acc->iters_per_sample) acc->iters_per_sample = more->iters_per_sample;
    attn_result_free(more);
    attn_result_finish(acc, o);
    return 0;
}

void attn_result_free(attn_result *r)
{
    free(r->samples);
    r->samples = NULL;
    r->n_samples = 0;
}

const char *attn_signal_name(int sig)
{
    static const struct { int sig; const char *name; } names[] = {
        { SIGSEGV, "SIGSEGV" }, { SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGILL, "SIGILL" },
        { SIGABRT, "SIGABRT" }, { SIGKILL, "SIGKILL" }, { SIGTERM, "SIGTERM" }, { SIGINT, "SIGINT" },
        { SIGXCPU, "SIGXCPU" }, { SIGPIPE, "SIGPIPE" }, { SIGTRAP, "SIGTRAP" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig) return names[i].name;
    static char buf[32];
    snprintf(buf, sizeof buf, "%d", sig);
    return buf;
}
