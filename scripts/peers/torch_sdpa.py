#!/usr/bin/env python3
"""torch_sdpa.py: peer running torch.nn.functional.scaled_dot_product_attention (docs/peers.md).

    python scripts/peers/torch_sdpa.py DIR     (the harness runs it; see peer_common.py)

is_causal only where torch's alignment equals ours: torch's causal mask is top-left
aligned, ours bottom-right, so they agree when Lq == Lk; otherwise, and whenever padding,
a window or global tokens are asked for, an explicit boolean mask (True = attend). GQA
through enable_gqa (torch >= 2.5), else k and v repeated per query head.
"""
import inspect
import sys

import peer_common


def make_call(torch, case, q, k, v, mask, needs_mask):
    F = torch.nn.functional
    H, Hkv = q.shape[1], k.shape[1]
    kw = {"scale": case["scale"]}
    if Hkv != H:
        if "enable_gqa" in inspect.signature(F.scaled_dot_product_attention).parameters:
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
