#!/usr/bin/env python3
"""torch_sdpa.py: peer running torch.nn.functional.scaled_dot_product_attention (docs/peers.md).

    python scripts/peers/torch_sdpa.py DIR     (the harness runs it; see peer_common.py)

is_causal only where torch's alignment equals ours: torch's causal mask is top-left
aligned, ours bottom-right, so they agree when Lq == Lk; otherwise, and whenever padding,
a window or global tokens are asked for, an explicit boolean mask (True = attend). GQA
through enable_gqa (torch >= 2.5), else k and v repeated per query head.
"""
import sys

import peer_common


def gqa_supported(F, q):
    """Does this torch take enable_gqa (2.5 on)?  SDPA is a builtin: no signature to read."""
    x = q[:1, :1, :1]
    try:
        F.scaled_dot_product_attention(x, x, x, enable_gqa=False)
        return True
    except TypeError:
        return False


def make_call(torch, case, q, k, v, mask, needs_mask):
    F = torch.nn.functional
    H, Hkv = q.shape[1], k.shape[1]
    kw = {"scale": case["scale"]}
    if Hkv != H:
        if gqa_supported(F, q):
            kw["enable_gqa"] = True
        else:
            k = k.repeat_interleave(H // Hkv, dim=1)
            v = v.repeat_interleave(H // Hkv, dim=1)
    if case["causal"] and not needs_mask and q.shape[2] == k.shape[2]:
        kw["is_causal"] = True
    elif mask is not None:
        kw["attn_mask"] = mask
    return lambda: F.scaled_dot_product_attention(q, k, v, **kw)


if __name__ == "__main__":
    sys.exit(peer_common.run(sys.argv[1], make_call))
