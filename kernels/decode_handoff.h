/* decode_handoff.h: which problems a flash kernel hands to a decode kernel.
 *
 * At Lq <= FT_DECODE_LQ query rows per head (decode steps) the flash kernels read a kv
 * head's K and V once per query head and per query tile and, at Lq = 1, use one thread
 * per (b, h); the decode kernels (decode_split.h) read them once per GQA group and split
 * the keys across threads. So flash_avx2, flash_avx512 (flash_tile.h: ft_run_dec) and
 * flash_f16 run such problems as decode_avx2, whose capabilities, dtypes and tolerance
 * cover theirs; the general score stays with the flash kernel (no decode kernel has it).
 */
#ifndef DECODE_HANDOFF_H
#define DECODE_HANDOFF_H

#include "attn.h"

#define FT_DECODE_LQ 16

static inline int ft_to_decode(const attn_problem *p)
{
    return p->Lq <= FT_DECODE_LQ && p->score != ATTN_SCORE_GENERAL;
}

#endif /* DECODE_HANDOFF_H */
