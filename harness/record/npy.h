/* npy.h: read a float32 .npy file written by another program, strictly.
 *
 * What a peer writes is data: the reader checks the magic, the version (1.0, 2.0, 3.0),
 * that the header is a dict of exactly 'descr' ('<f4'), 'fortran_order' (False) and
 * 'shape' (a tuple of the expected sizes), and that the file holds exactly that many
 * elements after the header, before it copies anything. The writer is in dump.h.
 */
#ifndef ATTN_NPY_H
#define ATTN_NPY_H

#include <stddef.h>

/* Read path into data (count = product of shape[0..ndim)). 0, or -1 with the reason in
 * err ("shape (1, 8, 5, 64), expected (1, 8, 6, 64)"; "file has 1000 bytes of data,
 * expected 2048"); data is then left unspecified. */
int attn_npy_read_f32(const char *path, float *data, int ndim, const size_t *shape,
                      char *err, size_t errlen);

#endif
