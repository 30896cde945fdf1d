#!/usr/bin/env python3
"""check-same-cases.py: do two results.json files hold the same cases? (timings aside)

    scripts/check-same-cases.py BEFORE/results.json AFTER/results.json

Compares the list of case ids (and their order), each case's "params", and each case's
set of field paths (e.g. "time_s.median", "memory.peak_rss_bytes"; array items are not
descended into). Values outside params are not compared: they are measurements. Exit 0
when they agree, 1 on any difference (each printed), 2 when a file cannot be read.
Python 3 standard library only.
"""
import json
import sys


def paths(obj, prefix=""):
    """Every field path of a JSON object, dotted; arrays count as leaves."""
    out = set()
    for k, v in obj.items():
        p = prefix + k
        out.add(p)
        if isinstance(v, dict):
            out |= paths(v, p + ".")
    return out


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"check-same-cases: {path}: {e}", file=sys.stderr)
        sys.exit(2)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    a, b = load(argv[1]), load(argv[2])
    ca, cb = a.get("cases", []), b.get("cases", [])
    diffs = 0

    def report(msg):
        nonlocal diffs
        diffs += 1
        print(msg)

    ids_a, ids_b = [c.get("id") for c in ca], [c.get("id") for c in cb]
    if ids_a != ids_b:
        only_a = [i for i in ids_a if i not in set(ids_b)]
        only_b = [i for i in ids_b if i not in set(ids_a)]
        for i in only_a:
            report(f"only in {argv[1]}: {i}")
        for i in only_b:
            report(f"only in {argv[2]}: {i}")
        if not only_a and not only_b:
            report("same ids in a different order")
    by_b = {c.get("id"): c for c in cb}
    for c in ca:
        d = by_b.get(c.get("id"))
        if d is None:
            continue
        pa, pb = c.get("params") or {}, d.get("params") or {}
        if list(pa) != list(pb):
            report(f"{c['id']}: params fields {list(pa)} != {list(pb)}")
        if pa != pb:
            for k in sorted(set(pa) | set(pb)):
                if pa.get(k) != pb.get(k):
                    report(f"{c['id']}: params.{k}: {pa.get(k)!r} != {pb.get(k)!r}")
        fa, fb = paths(c), paths(d)
        for p in sorted(fa - fb):
            report(f"{c['id']}: field {p} only in {argv[1]}")
        for p in sorted(fb - fa):
            report(f"{c['id']}: field {p} only in {argv[2]}")
    print(f"{len(ca)} / {len(cb)} cases, {diffs} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
