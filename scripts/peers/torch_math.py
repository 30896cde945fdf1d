#!/usr/bin/env python3
"""torch_math.py: peer writing attention as most PyTorch code does (docs/peers.md).

    python scripts/peers/torch_math.py DIR     (the harness runs it; see peer_common.py)

scores = q @ k^T * scale; masked_fill(~mask, -inf); softmax; @ v. k and v repeated per
query head for GQA (repeat_interleave, outside the timed call, as a model's cache would be
laid out). The whole (B, H, Lq, Lk) score matrix is materialised.
"""
import sys

import peer_common


def make_call(torch, case, q, k, v, mask, needs_mask):
    H, Hkv = q.shape[1], k.shape[1]
    if Hkv != H:
        k = k.repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
    kt = k.transpose(-2, -1)
    hidden = ~mask if mask is not None else None
    scale = case["scale"]
    inf = float("-inf")

    def call():
        s = (q @ kt) * scale
        if hidden is not None:
            s = s.masked_fill(hidden, inf)
        return torch.softmax(s, dim=-1) @ v
    return call


if __name__ == "__main__":
    sys.exit(peer_common.run(sys.argv[1], make_call))
