#!/bin/sh
# slurm-e2e.sh: scripts/slurm-shards.sh end to end on a private one-node Slurm (`make slurm-test`).
#
# Installs Debian's slurm-wlm if it is missing (apt-get, needs root), starts the local Slurm
# (scripts/slurm-local.sh), builds attnbench, runs configs/quick.ini as 3 shards
# (SLURM_E2E_SHARDS=N for another count) through `scripts/slurm-shards.sh --wait` into a
# directory whose name holds a space and a quote, runs the same config unsharded, and
# checks that the merged results hold exactly the cases of the unsharded run (same ids,
# same order, same kernel, params and status). Stops Slurm again unless it was running.
# Exit 0 on success, 1 on a failure, 77 (skipped) when it cannot run here: no apt-get to
# install Slurm, not root, or no python3. Work files: a mktemp directory, kept on failure.
set -eu

cd "$(dirname "$0")/.."
me=slurm-e2e
skip() { echo "$me: SKIP: $*" >&2; exit 77; }
fail() { echo "$me: FAIL: $*" >&2; exit 1; }
now() { date +%s; }
t0=$(now)
n=${SLURM_E2E_SHARDS:-3}
case $n in ''|*[!0-9]*|0*) echo "$me: SLURM_E2E_SHARDS must be a whole number from 1" >&2; exit 2 ;; esac

[ "$(id -u)" = 0 ] || skip "needs root (Slurm runs as SlurmUser=root here)"
command -v python3 >/dev/null 2>&1 || skip "needs python3 for the comparison"
PATH=$PATH:/usr/sbin:/sbin
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
   ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 ||
        skip "Slurm (slurmctld, slurmd, sbatch, munged) is not installed and apt-get is unavailable to install it"
    echo "$me: installing slurm-wlm"
    apt-get update -qq >/dev/null || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm >/dev/null ||
        fail "apt-get install slurm-wlm failed"
fi
t_install=$(now)

started=0
if ! scripts/slurm-local.sh status >/dev/null 2>&1; then
    scripts/slurm-local.sh start || fail "could not start the local Slurm"
    started=1
fi
eval "$(scripts/slurm-local.sh env)"
export SLURM_CONF
t_slurm=$(now)

tmp=$(mktemp -d /tmp/attnbench-slurm-e2e.XXXXXX)
ok=0
cleanup() {
    if [ $started = 1 ]; then scripts/slurm-local.sh stop >/dev/null || true; fi
    if [ $ok = 1 ]; then rm -rf "$tmp"; else echo "$me: work files kept in $tmp" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

make -j2 >"$tmp/make.log" 2>&1 || { tail -n 20 "$tmp/make.log" >&2; fail "make failed"; }
t_make=$(now)

sharded="$tmp/sharded run's out"
rc=0
scripts/slurm-shards.sh --wait configs/quick.ini "$n" "$sharded" || rc=$?
[ $rc = 0 ] || fail "slurm-shards.sh --wait exited $rc"
t_shards=$(now)

rc=0
build/attnbench run configs/quick.ini -q -o "$tmp/unsharded" || rc=$?
[ $rc = 0 ] || fail "unsharded run exited $rc"
t_plain=$(now)

set -- "$sharded/merged/results.json" "$tmp/unsharded/results.json"
k=0
while [ $k -lt "$n" ]; do set -- "$@" "$sharded/shard-$k/results.json"; k=$((k + 1)); done
python3 - "$@" <<'PY' ||
import json, sys
merged, plain = (json.load(open(p))["cases"] for p in sys.argv[1:3])
shards = [json.load(open(p))["cases"] for p in sys.argv[3:]]
def key(c):
    return (c["id"], c["kernel"], json.dumps(c["params"], sort_keys=True))
bad = []
if [c["id"] for c in merged] != [c["id"] for c in plain]:
    m, p = [c["id"] for c in merged], [c["id"] for c in plain]
    bad.append("ids differ: merged %d, unsharded %d; only merged: %s; only unsharded: %s; first out of order at %s"
               % (len(m), len(p), sorted(set(m) - set(p))[:5], sorted(set(p) - set(m))[:5],
                  next((i for i, (a, b) in enumerate(zip(m, p)) if a != b), None)))
else:
    for a, b in zip(merged, plain):
        if key(a) != key(b):
            bad.append("case %s: kernel or params differ" % a["id"])
        elif a["status"] != b["status"]:
            bad.append("case %s: %s merged, %s unsharded" % (a["id"], a["status"], b["status"]))
if len(plain) == 0:
    bad.append("the unsharded run holds no case")
if sum(len(s) for s in shards) != len(merged):
    bad.append("shards hold %d cases, merged %d" % (sum(len(s) for s in shards), len(merged)))
if len(shards) <= len(plain) and any(len(s) == 0 for s in shards):
    bad.append("a shard ran no case")
for b in bad[:20]:
    print("  " + b, file=sys.stderr)
if bad:
    sys.exit(1)
print("slurm-e2e: merged results hold the %d cases of the unsharded run, same ids in the same order "
      "(shards: %s)" % (len(plain), ", ".join(str(len(s)) for s in shards)))
PY
    fail "merged results differ from the unsharded run"

ok=1
t_end=$(now)
echo "$me: PASS in $((t_end - t0)) s ($n shards): install $((t_install - t0)) s, slurm start $((t_slurm - t_install)) s," \
    "make $((t_make - t_slurm)) s, shards + merge under Slurm $((t_shards - t_make)) s," \
    "unsharded run $((t_plain - t_shards)) s"
