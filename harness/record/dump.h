/* dump.h: --dump DIR: per case DIR/<id>/{q,k,v,out}.npy (+ wq, wk, va) and case.json
 * holding everything needed to recompute the output without reading our code. */
#ifndef ATTN_DUMP_H
#define ATTN_DUMP_H

#include <stddef.h>
#include "core/case.h"
#include "core/inputs.h"

/* Write a little-endian <f4 .npy file. 0 or -1. */
int attn_npy_write(const char *path, const float *data, int ndim, const size_t *shape);
/* Dump one case (inputs and the kernel's output). 0 or -1 (message printed). */
int attn_dump_case(const char *dir, const attn_case *c, const attn_inputs *in);

/* The inputs alone (no out.npy) and case.json, into the existing directory dir itself
 * (a peer's private directory, docs/peers.md). 0 or -1 (message printed). */
int attn_dump_inputs(const char *dir, const attn_case *c, const attn_inputs *in);

#endif
