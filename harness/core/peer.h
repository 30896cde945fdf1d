/* peer.h: external peers, programs outside the suite that the harness runs, validates and
 * times like a kernel (docs/peers.md has the protocol).
 *
 * A peer is a program under scripts/peers/ (PyTorch's SDPA, attention written in torch).
 * For each case the harness's case child makes a private directory, writes the inputs
 * there in the dump format (q.npy, k.npy, v.npy, case.json), runs `PEER DIR` in its own
 * process group under the case's timeout, and reads back DIR/out.npy and DIR/times.json
 * (or DIR/skip.txt). The output is then validated against the naive reference exactly as
 * a kernel's is (core/runner.c), and the samples go through the same statistics.
 *
 * A peer carries a kernel descriptor (name, description, capabilities, dtypes, tolerance
 * per dtype) as its first member, so a case, its id, results.json, compare and the charts
 * treat it as a kernel; its run() is a stub that refuses (attn_peer_of() tells a peer's
 * descriptor by it). harness/core/peer.c holds the one list of peers; `kernels = *` does
 * not select them, naming them does.
 */
#ifndef ATTN_PEER_H
#define ATTN_PEER_H

#include <stddef.h>
#include "attn.h"
#include "core/case.h"
#include "core/inputs.h"
#include "core/runner.h"

typedef struct attn_peer {
    attn_kernel k;              /* first member: a case's `kernel` points here */
    const char *program;        /* absolute, or relative to the project root
                                   (scripts/peers/torch_sdpa.py) */
    const char *modules;        /* Python modules it imports ("torch numpy"); NULL: the
                                   program is an executable, run directly */
} attn_peer;

/* The kernel stubs every peer descriptor carries (k.run, k.workspace_bytes). */
attn_status attn_peer_no_run(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, void *ws, int threads);
size_t attn_peer_no_workspace(const attn_problem *p, int threads);

const attn_peer *attn_peers(int *count);            /* the list, in listing order */
const attn_peer *attn_peer_find(const char *name);
/* The peer whose descriptor k is, or NULL for a kernel. */
const attn_peer *attn_peer_of(const attn_kernel *k);
/* A kernel of the registry or a peer's descriptor named name, or NULL. */
const attn_kernel *attn_runnable_find(const char *name);

/* The project root the peers' relative paths start from: the folder above the one
 * holding the running binary (build/attnbench -> .), or "." when unknown. */
const char *attn_peer_root(void);
/* The program's path: p->program when absolute, else under attn_peer_root(). */
void attn_peer_program(const attn_peer *p, char *buf, size_t n);
/* The Python interpreter for peers: $ATTNBENCH_PYTHON, else ROOT/.venv-peers/bin/python
 * when it exists (make peers), else "python3" (found on PATH). */
const char *attn_peer_python(void);

/* 1 when the peer can run here; else 0 with the reason in why ("python3 cannot import
 * torch: run make peers"). Probed once per program, modules and interpreter in a process
 * (finding the modules, not importing them); not thread-safe (the parent calls it). */
int attn_peer_available(const attn_peer *p, char *why, size_t n);

/* What one run of a peer gave (attn_peer_exec). */
typedef struct attn_peer_out {
    attn_case_status status;    /* ST_OK: out filled and samples read; else why not */
    char reason[256];
    double *samples;            /* seconds per call (malloc'd), n_samples of them */
    int n_samples;
    long peak_rss_bytes;        /* the peer process's peak RSS (wait4) */
    char version[64];           /* what it reported ("torch 2.15.0") */
} attn_peer_out;

/* The peer's private directory: $TMPDIR (or /tmp)/attnbench-peer-XXXXXX, mode 0700
 * (mkdtemp). 0, or -1 with errno. attn_peer_rmdir removes it and the files in it. */
int attn_peer_mkdir(char *dir, size_t n);
void attn_peer_rmdir(const char *dir);

/* In a case child: run peer p on the case's inputs in dir (made by attn_peer_mkdir),
 * writing its output into in->out. The peer's process group is killed at timeout_s.
 * Always fills o (free o->samples). Returns o->status. */
attn_case_status attn_peer_exec(const attn_peer *p, const attn_case *c, attn_inputs *in,
                                const char *dir, double timeout_s, attn_peer_out *o);

#endif
