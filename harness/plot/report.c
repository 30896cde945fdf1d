/* report.c: report.md and report.html for `attnbench plot`.
 *
 * Both files carry the same content, written once through a tiny two-format writer
 * (doc_*): the machine context in words, a case count, the fastest valid kernel of every
 * shape with its speedup over the baseline and % of peak, every invalid / skipped /
 * crashed / timed-out / unstable case with its reason, and the charts (the Markdown links
 * the PNGs; the HTML embeds the SVGs as data: URIs, so it is one self-contained file).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"
#include "plot/plot.h"
#include "record/results.h"

/* ================================================= two-format writer == */

typedef struct doc { FILE *md, *html; } doc;

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else if (*s == '\'') fputs("&#39;", f);
        else fputc(*s, f);
    }
}

/* Markdown table cells and text: '|' would end a cell, newlines a row. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n') fputc(' ', f);
        else if (*s == '<') fputs("&lt;", f);      /* renderers pass raw HTML through */
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

static void doc_heading(doc *d, int level, const char *text)
{
    fprintf(d->md, "\n%.*s ", level, "######");
    md_text(d->md, text);
    fprintf(d->md, "\n\n");
    fprintf(d->html, "<h%d>", level);
    html_text(d->html, text);
    fprintf(d->html, "</h%d>\n", level);
}

static void doc_para(doc *d, const char *text)
{
    md_text(d->md, text);
    fprintf(d->md, "\n\n");
    fprintf(d->html, "<p>");
    html_text(d->html, text);
    fprintf(d->html, "</p>\n");
}

static void doc_row(doc *d, int header, int n, char cells[][256])
{
    fprintf(d->md, "|");
    fprintf(d->html, "<tr>");
    for (int i = 0; i < n; i++) {
        fprintf(d->md, " ");
        md_text(d->md, cells[i]);
        fprintf(d->md, " |");
        fprintf(d->html, header ? "<th>" : "<td>");
        html_text(d->html, cells[i]);
        fprintf(d->html, header ? "</th>" : "</td>");
    }
    fprintf(d->md, "\n");
    fprintf(d->html, "</tr>\n");
    if (header) {
        fprintf(d->md, "|");
        for (int i = 0; i < n; i++) fprintf(d->md, "---|");
        fprintf(d->md, "\n");
    }
}

static void doc_table_begin(doc *d) { fprintf(d->html, "<table>\n"); }
static void doc_table_end(doc *d) { fprintf(d->md, "\n"); fprintf(d->html, "</table>\n"); }

static void base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(t[v >> 18 & 63], f);
        fputc(t[v >> 12 & 63], f);
        fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? t[v & 63] : '=', f);
    }
}

static void doc_chart(doc *d, const plot_drawn *c, const char *rel, const char *abs)
{
    char first[400];
    snprintf(first, sizeof first, "%s", c->title);
    char *nl = strchr(first, '\n');
    if (nl) *nl = 0;
    doc_heading(d, 3, first);
    if (nl) doc_para(d, nl + 1);
    fprintf(d->md, "![");
    md_text(d->md, first);
    fprintf(d->md, "](%s%s.png)  \n[SVG](%s%s.svg) · data: [%s.dat](%sdata/%s.dat) · script: [%s.gp](%sdata/%s.gp)\n\n",
            rel, c->name, rel, c->name, c->name, rel, c->name, c->name, rel, c->name);

    char path[4400];
    snprintf(path, sizeof path, "%s/%s.svg", abs, c->name);
    size_t n = 0;
    char *svg = attn_read_file(path, &n);
    fprintf(d->html, "<figure>");
    if (svg) {
        fprintf(d->html, "<img alt=\"");
        html_text(d->html, first);
        fprintf(d->html, "\" src=\"data:image/svg+xml;base64,");
        base64(d->html, (const unsigned char *)svg, n);
        fprintf(d->html, "\">");
    } else {
        fprintf(d->html, "<img alt=\"");
        html_text(d->html, first);
        fprintf(d->html, "\" src=\"");
        html_text(d->html, rel);
        html_text(d->html, c->name);
        fprintf(d->html, ".png\">");
    }
    static const char *const ext[2][2] = { { ".dat", "data" }, { ".gp", "script" } };
    fprintf(d->html, "<figcaption>");
    for (int i = 0; i < 2; i++) {
        fprintf(d->html, "%s<a href=\"", i ? " · " : "");
        html_text(d->html, rel);
        fprintf(d->html, "data/");
        html_text(d->html, c->name);
        fprintf(d->html, "%s\">%s</a>", ext[i][0], ext[i][1]);
    }
    fprintf(d->html, "</figcaption></figure>\n");
    free(svg);
}

static void fmt_bytes(double b, char *buf, size_t n)
{
    if (b >= 1024.0 * 1024 * 1024) snprintf(buf, n, "%.3g GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024) snprintf(buf, n, "%.3g MiB", b / (1024.0 * 1024));
    else if (b >= 1024) snprintf(buf, n, "%.3g KiB", b / 1024);
    else snprintf(buf, n, "%.0f B", b);
}

/* Any JSON value as short text: strings as is, arrays joined, objects "key value". */
static void json_words(const cJSON *v, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    if (!v || cJSON_IsNull(v)) snprintf(buf, n, "unknown");
    else if (cJSON_IsString(v)) snprintf(buf, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) snprintf(buf, n, "%g", v->valuedouble);
    else if (cJSON_IsBool(v)) snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "yes" : "no");
    else {
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            char one[256];
            if (cJSON_IsNumber(e) && e->valuedouble >= 1024) fmt_bytes(e->valuedouble, one, sizeof one);
            else json_words(e, one, sizeof one);
            if (len < n)
                len += snprintf(buf + len, n - len, "%s%s%s%s", len ? ", " : "",
                                cJSON_IsObject(v) && e->string ? e->string : "",
                                cJSON_IsObject(v) && e->string ? " " : "", one);
        }
        if (!len) snprintf(buf, n, "none");
    }
}

static const char *ctx_str(const cJSON *ctx, const char *key, char *buf, size_t n)
{
    json_words(cJSON_GetObjectItemCaseSensitive(ctx, key), buf, n);
    return buf;
}

static void context_words(doc *d, const plot_run *r)
{
    const cJSON *c = r->context;
    char host[128], cpu[256], cores[32], isa[128], caches[512], gov[64], cc[256], fl[512], sha[64], date[64];
    char text[3000];
    snprintf(text, sizeof text,
             "Measured on %s, a %s with %s cores (ISA: %s; caches: %s; frequency governor: %s), "
             "on %s. Built with %s, flags %s, from git %s.",
             ctx_str(c, "host", host, sizeof host), ctx_str(c, "cpu_model", cpu, sizeof cpu),
             ctx_str(c, "cores", cores, sizeof cores), ctx_str(c, "isa", isa, sizeof isa),
             ctx_str(c, "caches", caches, sizeof caches), ctx_str(c, "governor", gov, sizeof gov),
             ctx_str(c, "date", date, sizeof date), ctx_str(c, "compiler", cc, sizeof cc),
             ctx_str(c, "cflags", fl, sizeof fl), ctx_str(c, "git_sha", sha, sizeof sha));
    doc_para(d, text);

    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(c, "peak_gflops"), *isa_o, *t;
    size_t len = snprintf(text, sizeof text, "Measured fp32 FMA peak (the roof for %% of peak):");
    int any = 0;
    cJSON_ArrayForEach(isa_o, pk) {
        len += snprintf(text + len, sizeof text - len, "%s %s:", any ? ";" : "", isa_o->string);
        int first = 1;
        cJSON_ArrayForEach(t, isa_o) {
            if (!cJSON_IsNumber(t) || len >= sizeof text) continue;
            len += snprintf(text + len, sizeof text - len, "%s %s thread%s %.1f GFLOP/s", first ? "" : ",",
                            t->string, strcmp(t->string, "1") ? "s" : "", t->valuedouble);
            first = 0;
        }
        any = 1;
    }
    if (!any) snprintf(text, sizeof text, "No measured peak in this results file (%% of peak not available).");
    else if (len < sizeof text) snprintf(text + len, sizeof text - len, ".");
    doc_para(d, text);

    /* the second roof: % of roof divides by min(peak, intensity x bandwidth) */
    len = snprintf(text, sizeof text, "Measured memory read bandwidth (with the peak, the roof for %% of roof):");
    any = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c, "bandwidth_gbs")) {
        if (!cJSON_IsNumber(t) || !t->string || len >= sizeof text) continue;
        len += snprintf(text + len, sizeof text - len, "%s %s thread%s %.1f GB/s", any ? "," : "",
                        t->string, strcmp(t->string, "1") ? "s" : "", t->valuedouble);
        any = 1;
    }
    if (any) {
        if (len < sizeof text) snprintf(text + len, sizeof text - len, ".");
        doc_para(d, text);
    }
}

/* ========================================================== sections == */

/* The shapes (every axis alike) among the cases of one run and sweep, in order of their
 * first case in the file: the cases sorted stably by every axis, so one shape is a run of
 * them; n log n. Returns the shape count and sets *cases (malloc'd, sorted) and *shapes
 * (malloc'd), or -1 when out of memory. */
typedef struct { long first; int start, n; } shape;

static int by_first(const void *a, const void *b)
{
    const shape *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static int shapes_of(const plot_set *s, const char *sweep, int run, const plot_case ***cases,
                     shape **shapes)
{
    int n_all = 0, n = 0, ns = 0;
    const plot_case *const *all = plot_sweep_cases(s, sweep, &n_all);
    const plot_case **v = malloc(((size_t)n_all + 1) * sizeof *v);
    shape *sh = malloc(((size_t)n_all + 1) * sizeof *sh);
    if (!v || !sh) goto fail;
    for (int i = 0; i < n_all; i++)
        if (all[i]->run == run) v[n++] = all[i];
    if (plot_sort_cases(v, n, -1, (1u << AX_COUNT) - 1)) goto fail;
    for (int i = 0; i < n; i++) {
        int same = i > 0;
        for (int a = 0; a < AX_COUNT && same; a++) same = !plot_axis_cmp(v[i - 1], v[i], a);
        if (!same) sh[ns++] = (shape){ (long)(v[i] - s->cases), i, 0 };   /* stable: its first */
        sh[ns - 1].n++;
    }
    qsort(sh, (size_t)ns, sizeof *sh, by_first);
    *cases = v;
    *shapes = sh;
    return ns;
fail:
    free(v);
    free(sh);
    return -1;
}

static void summary(doc *d, const plot_set *s, int run)
{
    static const char *const st[] = { "ok", "invalid", "skipped", "crashed", "timeout" };
    int count[6] = { 0 }, total = 0, unstable = 0;
    for (int i = 0; i < s->n_cases; i++) {
        const plot_case *c = &s->cases[i];
        if (c->run != run) continue;
        total++;
        unstable += c->ok && c->unstable;
        int k = 5;
        for (int j = 0; j < 5; j++)
            if (!strcmp(c->status, st[j])) k = j;
        count[k]++;
    }
    char text[512];
    snprintf(text, sizeof text, "%d cases: %d ok (%d of them unstable, CV > 5%%), %d invalid, %d skipped, "
             "%d crashed, %d timed out%s.", total, count[0], unstable, count[1], count[2], count[3], count[4],
             count[5] ? ", others with an unknown status" : "");
    doc_para(d, text);
}

static void fastest_tables(doc *d, const plot_set *s, int run)
{
    int any_fallback = 0, n_sw = plot_sweep_count(s);
    char (*cells)[256] = malloc(20 * sizeof *cells);
    shape *order = malloc(((size_t)n_sw + 1) * sizeof *order);   /* first case of the run, sweep */
    int n_order = 0;
    for (int k = 0; k < n_sw && order; k++) {
        int m;
        const plot_case *const *cs = plot_sweep_cases(s, plot_sweep_name(s, k), &m);
        for (int i = 0; i < m; i++)
            if (cs[i]->run == run) { order[n_order++] = (shape){ (long)(cs[i] - s->cases), k, m }; break; }
    }
    if (order) qsort(order, (size_t)n_order, sizeof *order, by_first);
    for (int t = 0; t < n_order && cells; t++) {      /* one table per sweep, in file order */
        const plot_case *sw = &s->cases[order[t].first];
        const plot_case **sc = NULL;
        shape *shapes = NULL;
        int ns = shapes_of(s, sw->sweep, run, &sc, &shapes);
        if (ns < 0) break;

        unsigned varied = plot_varied_axes(s, sw->sweep);
        /* columns that only repeat another (kv_len = q_len, kv_heads = heads, v_dim =
         * head_dim in every case) are left out */
        int same_kv = 1, same_kvh = 1, same_dv = 1, n_sc = 0;
        for (int g = 0; g < ns; g++) n_sc += shapes[g].n;
        for (int j = 0; j < n_sc; j++) {
            const plot_case *c = sc[j];
            same_kv &= c->p.kv_len == c->p.q_len;
            same_kvh &= c->p.kv_heads == c->p.heads;
            same_dv &= c->p.v_dim == c->p.head_dim;
        }
        unsigned cols = varied;
        if (same_kv && (varied & (1u << AX_Q_LEN))) cols &= ~(1u << AX_KV_LEN);
        if (same_kvh && (varied & (1u << AX_HEADS))) cols &= ~(1u << AX_KV_HEADS);
        if (same_dv && (varied & (1u << AX_HEAD_DIM))) cols &= ~(1u << AX_V_DIM);
        char title[160], fixed[1024];
        snprintf(title, sizeof title, "Sweep %s", sw->sweep);
        doc_heading(d, 3, title);
        size_t len = snprintf(fixed, sizeof fixed, "Fixed:");
        for (int a = 0; a < AX_COUNT; a++) {
            if (varied & (1u << a)) continue;
            char v[64];
            plot_axis_value_text(sw, a, v, sizeof v);
            if (len < sizeof fixed)
                len += snprintf(fixed + len, sizeof fixed - len, "%s %s %s", len > 6 ? "," : "", plot_axis_name(a), v);
        }
        doc_para(d, fixed);

        int nc = 0;
        for (int a = 0; a < AX_COUNT && nc < 10; a++)
            if (cols & (1u << a)) snprintf(cells[nc++], 256, "%s", plot_axis_name(a));
        snprintf(cells[nc++], 256, "fastest valid kernel");
        snprintf(cells[nc++], 256, "median time");
        snprintf(cells[nc++], 256, "speedup over %s", s->baseline);
        snprintf(cells[nc++], 256, "%% of peak");
        snprintf(cells[nc++], 256, "%% of roof");
        snprintf(cells[nc++], 256, "valid kernels");
        int has_peers = 0;          /* peers: the fastest of them against our fastest */
        for (int j = 0; j < n_sc; j++) has_peers |= sc[j]->peer;
        if (has_peers) {
            snprintf(cells[nc++], 256, "fastest peer");
            snprintf(cells[nc++], 256, "peer / kernel median (> 1: ours faster)");
        }
        doc_table_begin(d);
        doc_row(d, 1, nc, cells);
        for (int g = 0; g < ns; g++) {          /* one row per shape, in file order */
            const plot_case *c = sc[shapes[g].start];
            const plot_case *best = NULL, *peer = NULL;
            int valid = 0;
            for (int j = shapes[g].start; j < shapes[g].start + shapes[g].n; j++) {
                const plot_case *o = sc[j];
                if (!o->ok) continue;
                if (o->peer) {
                    if (!peer || o->t_med < peer->t_med) peer = o;
                    continue;
                }
                valid++;
                if (!best || o->t_med < best->t_med) best = o;
            }
            int k = 0;
            for (int a = 0; a < AX_COUNT && k < 10; a++)
                if (cols & (1u << a)) plot_axis_value_text(c, a, cells[k++], 256);
            if (!best) {
                snprintf(cells[k++], 256, "no valid kernel");
                for (int z = 0; z < 4; z++) snprintf(cells[k++], 256, "-");
                snprintf(cells[k++], 256, "0");
            } else {
                int fb = 0;
                const plot_case *b = plot_baseline_of(s, best, &fb);
                any_fallback |= fb;
                snprintf(cells[k++], 256, "%s%s", best->kernel, best->unstable ? " (unstable)" : "");
                attn_fmt_time(best->t_med, cells[k++], 256);
                if (!strcmp(best->kernel, s->baseline)) snprintf(cells[k++], 256, "1 (is the baseline)");
                else if (b) snprintf(cells[k++], 256, "%.2fx%s", b->t_med / best->t_med, fb ? " †" : "");
                else snprintf(cells[k++], 256, "no valid %s case", s->baseline);
                if (isfinite(best->pct_peak)) snprintf(cells[k++], 256, "%.1f%%", best->pct_peak);
                else snprintf(cells[k++], 256, "-");
                if (isfinite(best->pct_roof)) snprintf(cells[k++], 256, "%.1f%%", best->pct_roof);
                else snprintf(cells[k++], 256, "-");
                snprintf(cells[k++], 256, "%d", valid);
            }
            if (has_peers && peer) {
                char t[32];
                attn_fmt_time(peer->t_med, t, sizeof t);
                snprintf(cells[k++], 256, "%s %s", peer->kernel, t);
                if (best) snprintf(cells[k++], 256, "%.2f", peer->t_med / best->t_med);
                else snprintf(cells[k++], 256, "-");
            } else if (has_peers) {
                snprintf(cells[k++], 256, "no valid peer");
                snprintf(cells[k++], 256, "-");
            }
            doc_row(d, 0, k, cells);
        }
        doc_table_end(d);
        free(sc);
        free(shapes);
    }
    if (any_fallback) {
        char t[256];
        snprintf(t, sizeof t, "† %s has no valid case at this thread count; the speedup is over its 1-thread time.",
                 s->baseline);
        doc_para(d, t);
    }
    free(order);
    free(cells);
}

static void problems(doc *d, const plot_set *s, int run)
{
    char (*cells)[256] = malloc(4 * sizeof *cells);
    int n = 0;
    for (int i = 0; i < s->n_cases; i++) {
        const plot_case *c = &s->cases[i];
        if (c->run != run || !strcmp(c->status, "ok")) continue;
        if (!n++) {
            snprintf(cells[0], 256, "case");
            snprintf(cells[1], 256, "kernel");
            snprintf(cells[2], 256, "status");
            snprintf(cells[3], 256, "reason");
            doc_table_begin(d);
            doc_row(d, 1, 4, cells);
        }
        snprintf(cells[0], 256, "%s", c->id);
        snprintf(cells[1], 256, "%s", c->kernel);
        snprintf(cells[2], 256, "%s", c->status);
        snprintf(cells[3], 256, "%s", c->reason[0] ? c->reason : "no reason recorded");
        doc_row(d, 0, 4, cells);
    }
    if (n) doc_table_end(d);
    else doc_para(d, "Every case ran and validated.");

    n = 0;
    for (int i = 0; i < s->n_cases; i++) {
        const plot_case *c = &s->cases[i];
        if (c->run != run || !c->ok || !c->unstable) continue;
        if (!n++) {
            doc_para(d, "Unstable cases (coefficient of variation over 5%; their timings are less trustworthy):");
            snprintf(cells[0], 256, "case");
            snprintf(cells[1], 256, "kernel");
            snprintf(cells[2], 256, "CV");
            snprintf(cells[3], 256, "median (95%% CI)");
            doc_table_begin(d);
            doc_row(d, 1, 4, cells);
        }
        char a[64], b[64], m[64];
        attn_fmt_time(c->t_med, m, sizeof m);
        attn_fmt_time(c->t_lo, a, sizeof a);
        attn_fmt_time(c->t_hi, b, sizeof b);
        snprintf(cells[0], 256, "%s", c->id);
        snprintf(cells[1], 256, "%s", c->kernel);
        snprintf(cells[2], 256, isfinite(c->cv) ? "%.1f%%" : "-", c->cv * 100);
        snprintf(cells[3], 256, "%s (%s to %s)", m, a, b);
        doc_row(d, 0, 4, cells);
    }
    if (n) doc_table_end(d);
    free(cells);
}

/* ============================================================ report == */

int plot_report_write(const plot_set *s, const plot_drawn *charts, int n_charts,
                      const char *report_dir, const char *plots_rel, const char *plots_abs)
{
    char md_path[4200], html_path[4200], md_tmp[4300], html_tmp[4300];
    snprintf(md_path, sizeof md_path, "%s/report.md", report_dir);
    snprintf(html_path, sizeof html_path, "%s/report.html", report_dir);
    snprintf(md_tmp, sizeof md_tmp, "%s.tmp", md_path);
    snprintf(html_tmp, sizeof html_tmp, "%s.tmp", html_path);
    doc d = { fopen(md_tmp, "w"), fopen(html_tmp, "w") };
    if (!d.md || !d.html) {
        fprintf(stderr, "attnbench plot: cannot write %s: %s\n", d.md ? html_tmp : md_tmp, strerror(errno));
        if (d.md) fclose(d.md), remove(md_tmp);
        if (d.html) fclose(d.html), remove(html_tmp);
        return -1;
    }

    char title[512];
    size_t len = snprintf(title, sizeof title, "attnbench report:");
    for (int r = 0; r < s->n_runs && len < sizeof title; r++)
        len += snprintf(title + len, sizeof title - len, "%s %s", r ? " vs" : "", s->runs[r].label);
    fprintf(d.html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    html_text(d.html, title);
    fprintf(d.html, "</title>\n<style>body{font-family:sans-serif;max-width:1500px;margin:2em auto;padding:0 1em}"
                    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;"
                    "text-align:left}th{background:#f3f3f3}img{max-width:100%%;height:auto}"
                    "figure{margin:1em 0}</style></head><body>\n");
    fprintf(d.md, "# ");
    md_text(d.md, title);
    fprintf(d.md, "\n");
    fprintf(d.html, "<h1>");
    html_text(d.html, title);
    fprintf(d.html, "</h1>\n");

    for (int r = 0; r < s->n_runs; r++) {
        char h[600];
        if (s->n_runs > 1) {
            snprintf(h, sizeof h, "Run %s (%s)", s->runs[r].label, s->runs[r].dir);
            doc_heading(&d, 2, h);
        }
        doc_heading(&d, s->n_runs > 1 ? 3 : 2, "Machine and build");
        context_words(&d, &s->runs[r]);
        summary(&d, s, r);
        doc_heading(&d, s->n_runs > 1 ? 3 : 2, "Fastest valid kernel per shape");
        fastest_tables(&d, s, r);
        doc_heading(&d, s->n_runs > 1 ? 3 : 2, "Invalid, skipped, crashed and unstable cases");
        problems(&d, s, r);
    }

    doc_heading(&d, 2, "Charts");
    if (n_charts == 0)
        doc_para(&d, "No charts were drawn (gnuplot missing, or no sweep varies an axis that is charted). "
                     "The gnuplot scripts and data are in the data/ folder next to where the charts go.");
    else
        doc_para(&d, "Every chart is drawn from results.json alone; its data file lists the case id of every "
                     "point, and its script redraws it (cd into data/ and run gnuplot NAME.gp).");
    for (int i = 0; i < n_charts; i++) doc_chart(&d, &charts[i], plots_rel, plots_abs);
    fprintf(d.html, "</body></html>\n");

    int bad = ferror(d.md) || ferror(d.html);
    bad |= fclose(d.md) != 0;
    bad |= fclose(d.html) != 0;
    if (bad || rename(md_tmp, md_path) || rename(html_tmp, html_path)) {
        fprintf(stderr, "attnbench plot: cannot write %s: %s\n", md_path, strerror(errno));
        remove(md_tmp);
        remove(html_tmp);
        return -1;
    }
    return 0;
}
