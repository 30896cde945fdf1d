#!/usr/bin/env python3
"""check_dump.py: recompute every dumped case in NumPy float64, independently of our C code.

    build/attnbench run CONFIG.ini --dump DUMP
    python3 scripts/peers/check_dump.py DUMP [--atol 1e-4] [--rtol 1e-3]

Reads only DUMP/<case id>/{q,k,v,out}.npy (+ wq, wk, va; wg) and case.json (the mask rule
in its fields: kv_valid_lengths, causal, causal_alignment, window_left/right,
global_positions, scale, score), recomputes the attention in float64 and compares with
out.npy. A layer = mha case (case.json "layer") is recomputed from x, m and the weights
alone: Q, K, V projected in float64 (q, k, v .npy are not read), the attention, the heads
concatenated, the output projection; out.npy is then the layer's output (B, Lq, d_model). Prints one
line per failing case and a summary; exits 1 if any case is off. Optional: needs NumPy,
which the benchmark itself never does.
"""
import argparse
import json
import os
import sys

import numpy as np


def visible(case, Lq, Lk):
    """(B, Lq, Lk) boolean mask from case.json's fields alone."""
    B = case["params"]["batch"]
    valid = case["kv_valid_lengths"]
    wl, wr = case["window_left"], case["window_right"]
    glob = set(case["global_positions"])
    assert case["causal_alignment"] == "bottom_right"
    i = np.arange(Lq)[:, None]
    j = np.arange(Lk)[None, :]
    a = i + (Lk - Lq)
    window = np.ones((Lq, Lk), bool)
    if wl >= 0:
        window &= j >= a - wl
    if wr >= 0:
        window &= j <= a + wr
    gk = np.zeros((Lq, Lk), bool)
    for g in glob:
        if 0 <= g < Lk:
            gk[:, g] = True
    aq = (a >= 0) & (a < Lk) & np.isin(a, list(glob)) if glob else np.zeros((Lq, 1), bool)
    soft = window | gk | aq
    if case["causal"]:
        soft &= j <= a
    m = np.zeros((B, Lq, Lk), bool)
    for b in range(B):
        m[b] = soft & (j < valid[b])
    return m


def load(d, name):
    return np.load(os.path.join(d, name + ".npy")).astype(np.float64)


def heads(t, n):
    """(B, L, n*hd) -> (B, n, L, hd): head h is columns h*hd .. (h+1)*hd - 1."""
    B, L, w = t.shape
    return t.reshape(B, L, n, w // n).transpose(0, 2, 1, 3)


def layer_qkv(d, case):
    """q, k, v of an mha layer from x, m and the projections, in float64."""
    p = case["params"]
    H, Hkv = p["heads"], p["kv_heads"]
    x, m = load(d, "x"), load(d, "m")
    q = heads(x @ load(d, "w_q") + load(d, "b_q"), H)
    k = heads(m @ load(d, "w_k") + load(d, "b_k"), Hkv)
    v = heads(m @ load(d, "w_v") + load(d, "b_v"), Hkv)
    return q, k, v


def recompute(d, case):
    if "layer" in case:
        q, k, v = layer_qkv(d, case)
        att, (B, H, Lq, Dv) = attention(d, case, q, k, v)
        cat = att.transpose(0, 2, 1, 3).reshape(B, Lq, H * Dv)    # heads side by side
        out = cat @ load(d, "w_o") + load(d, "b_o")
        return out, out.shape
    return attention(d, case, load(d, "q"), load(d, "k"), load(d, "v"))


def attention(d, case, q, k, v):
    B, H, Lq, D = q.shape
    Hkv, Lk = k.shape[1], k.shape[2]
    Dv = v.shape[3]
    kh = np.repeat(k, H // Hkv, axis=1)          # query head h reads kv head h // (H/Hkv)
    vh = np.repeat(v, H // Hkv, axis=1)
    if case["score"] == "dot":
        s = case["scale"] * np.einsum("bhid,bhjd->bhij", q, kh)
    elif case["score"] == "general":
        s = np.einsum("bhid,de,bhje->bhij", q, load(d, "wg"), kh)    # q^T W k, unscaled
    else:
        wq = np.load(os.path.join(d, "wq.npy")).astype(np.float64)
        wk = np.load(os.path.join(d, "wk.npy")).astype(np.float64)
        va = np.load(os.path.join(d, "va.npy")).astype(np.float64)
        pq = np.einsum("ad,bhid->bhia", wq, q)
        pk = np.einsum("ad,bhjd->bhja", wk, kh)
        s = np.einsum("a,bhija->bhij", va, np.tanh(pq[:, :, :, None, :] + pk[:, :, None, :, :]))
    m = visible(case, Lq, Lk)[:, None, :, :]
    s = np.where(m, s, -np.inf)
    mx = s.max(axis=-1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    p = np.where(m, np.exp(s - mx), 0.0)
    den = p.sum(axis=-1, keepdims=True)
    out = np.einsum("bhij,bhjd->bhid", p, vh) / np.where(den > 0, den, 1.0)
    return out, (B, H, Lq, Dv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-3)
    args = ap.parse_args()
    cases = sorted(c for c in os.listdir(args.dump) if os.path.isfile(os.path.join(args.dump, c, "case.json")))
    bad = 0
    worst = 0.0
    for c in cases:
        d = os.path.join(args.dump, c)
        with open(os.path.join(d, "case.json")) as f:
            case = json.load(f)
        ref, shape = recompute(d, case)
        out = np.load(os.path.join(d, "out.npy")).astype(np.float64)
        err = np.abs(out - ref)
        ok = out.shape == shape and np.all(np.isfinite(out)) and np.all(err <= args.atol + args.rtol * np.abs(ref))
        worst = max(worst, float(err.max()) if err.size else 0.0)
        if not ok:
            bad += 1
            print(f"FAIL {c}: max abs err {err.max():.3g}")
    print(f"{len(cases) - bad} passed, {bad} failed (max abs err {worst:.3g}) in {args.dump}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
