"""peer_common.py: the harness side of the peer protocol for the torch peers (docs/peers.md).

    PEER DIR    DIR holds q.npy, k.npy, v.npy (float32) and case.json (the dump format);
                the environment gives ATTN_PEER_THREADS, ATTN_PEER_REPS,
                ATTN_PEER_MIN_TIME and ATTN_PEER_WARMUP_S.
    writes      DIR/out.npy (float32, (B, H, Lq, Dv)) and DIR/times.json
                {"samples_s": [...], "version": "torch 2.x", "threads": n},
                or DIR/skip.txt ("omitted: lacks X" / "skipped: reason").

A peer module gives run(DIR, make_call), where make_call(torch, case, q, k, v, mask,
needs_mask) returns a function computing out (B, H, Lq, Dv) in the case's dtype. Inputs,
mask, dtype conversion and the zeroing of rows that see no key are done here, outside the
timed call except the zeroing; every sample is one call.
"""
import json
import os
import sys
import time

MAX_SAMPLES = 100000


def skip(d, text):
    with open(os.path.join(d, "skip.txt"), "w") as f:
        f.write(text + "\n")


def mask_needed(case, Lq, Lk):
    """Does the case need an explicit mask beyond plain causal?  (padding, window, globals)"""
    return (any(n < Lk for n in case["kv_valid_lengths"]) or case["window_left"] >= 0
            or case["window_right"] >= 0 or len(case["global_positions"]) > 0)


def run(d, make_call):
    try:
        import numpy as np
        import torch
    except ImportError as e:
        skip(d, "skipped: cannot import %s (run make peers)" % e.name)
        return 0
    with open(os.path.join(d, "case.json")) as f:
        case = json.load(f)
    if case["score"] != "dot":
        skip(d, "omitted: lacks %s score" % case["score"])
        return 0
    dtypes = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}
    dt = dtypes.get(case["storage_dtype"])
    if dt is None:
        skip(d, "omitted: lacks dtype %s" % case["storage_dtype"])
        return 0
    threads = int(os.environ.get("ATTN_PEER_THREADS", "1"))
    reps = int(os.environ.get("ATTN_PEER_REPS", "5"))
    min_time = float(os.environ.get("ATTN_PEER_MIN_TIME", "0"))
    warmup_s = float(os.environ.get("ATTN_PEER_WARMUP_S", "0"))
    torch.set_num_threads(threads)

    def load(name):
        return torch.from_numpy(np.load(os.path.join(d, name + ".npy"))).to(dt).contiguous()

    q, k, v = load("q"), load("k"), load("v")
    Lq, Lk = q.shape[2], k.shape[2]
    needs = mask_needed(case, Lq, Lk)
    mask = None
    if needs or case["causal"]:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from check_dump import visible             # the one Python copy of the mask rule
        mask = torch.from_numpy(visible(case, Lq, Lk))[:, None, :, :]   # (B, 1, Lq, Lk)
    empty = None                                    # rows that see no key output zeros
    if mask is not None and not bool(mask.any(dim=-1).all()):
        empty = ~mask.any(dim=-1, keepdim=True)     # (B, 1, Lq, 1)
    call = make_call(torch, case, q, k, v, mask, needs)

    def once():
        out = call()
        return out.masked_fill(empty, 0) if empty is not None else out

    with torch.inference_mode():
        t = time.perf_counter()
        out = once()
        first = warm = time.perf_counter() - t
        calls = 0                       # the runner's rule: warm-up until a tenth of
        while warm < warmup_s or (calls == 0 and first < 0.1):   # min_time, one more
            t = time.perf_counter()                              # after a short first call
            once()
            warm += time.perf_counter() - t
            calls += 1
        samples, total = [], 0.0
        while (len(samples) < reps or total < min_time) and len(samples) < MAX_SAMPLES:
            t = time.perf_counter()
            once()
            dt_s = time.perf_counter() - t
            samples.append(dt_s)
            total += dt_s
    np.save(os.path.join(d, "out.npy"), out.float().contiguous().numpy())
    with open(os.path.join(d, "times.json"), "w") as f:
        json.dump({"samples_s": samples, "version": "torch " + torch.__version__,
                   "threads": torch.get_num_threads()}, f)
    return 0
