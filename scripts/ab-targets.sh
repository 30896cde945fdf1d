#!/bin/bash
# ab-targets.sh: the campaign behind issue 16's targets for `attnbench ab`, on this machine.
#
#   scripts/ab-targets.sh [--runs N] [--rounds R] [--kernels a,b] [--config INI]
#                         [--plant KERNEL] [--out DIR] [--no-disturb] [--light] [--check-plant]
#
# It builds this checkout's HEAD twice in scratch git worktrees under DIR (default
# /tmp/attnbench-ab-targets): the build as committed, and a planted build in which one
# kernel (--plant, default flash_avx2) does 25% more work at every shape (its run()
# first computes a quarter of the heads, or of the batch, and then the whole problem; the
# output is the whole problem's, so validation still passes). Then N runs (default 20)
# of `attnbench ab CONFIG`, alternating:
#   aa     the committed build against itself: no case may be flagged
#   plant  committed (base) against planted (new): the planted kernel's cases regressed,
#          no other kernel flagged
# While each run goes, a disturber starts at random moments: a CPU-bound process pinned
# to one core (taskset) for 3-15 s, then 3-20 s of pause, so some rounds of some cases
# share their core and others do not (--no-disturb: none).
#
# Writes DIR/summary.tsv, one line per run: run, kind, exit code, regressed / improved /
# inconclusive cases (count and kernels), the planted kernel's regressed cases over its
# cases, cases of other kernels regressed, improved or invalid (in aa runs: of every
# kernel), seconds disturbed, seconds the run took, load average at its end. Every run's
# results (DIR/run-K-KIND/{base,new}) and report (DIR/run-K-KIND.json) are kept.
#
# --light     the config's shapes and kernels with reps = 5, min_time = 0.1, rounds = 1
#             (DIR/light.ini): ab's own rounds give the samples; a run costs far less
# --check-plant  only measure the plant: one undisturbed ab run of the planted kernel
#             (3 rounds), whose changes per shape should be +20% .. +30%, then stop
#
# Requires bash, git, make, taskset (util-linux) and python3 (the summary). Results and
# what was run are in docs/regression.md ("The targets, measured").
set -eu

runs=20 rounds=6 kernels="" config=configs/ci.ini plant=flash_avx2
out=/tmp/attnbench-ab-targets disturb=1 check=0 light=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --kernels) kernels=$2; shift 2 ;;
        --config) config=$2; shift 2 ;;
        --plant) plant=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-disturb) disturb=0; shift ;;
        --check-plant) check=1; shift ;;
        --light) light=1; shift ;;
        -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "$0: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $runs$rounds in *[!0-9]*|'') echo "$0: --runs and --rounds take numbers" >&2; exit 2 ;; esac
for tool in git make taskset python3; do
    command -v "$tool" >/dev/null || { echo "$0: needs $tool" >&2; exit 2; }
done
top=$(git rev-parse --show-toplevel)
[ -f "$top/kernels/$plant.c" ] || { echo "$0: --plant $plant: no kernels/$plant.c" >&2; exit 2; }
case $config in /*) ;; *) config=$top/$config ;; esac
[ -f "$config" ] || { echo "$0: no config $config" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
rev=$(git -C "$top" rev-parse HEAD)
if [ "$light" = 1 ]; then
    sed -e 's/^\(reps *=\).*/\1 5/' -e 's/^\(min_time *=\).*/\1 0.1/' -e 's/^\(rounds *=\).*/\1 1/' \
        "$config" >"$out/light.ini"
    config=$out/light.ini
fi

# -- the two builds -------------------------------------------------------------------
worktree() {    # worktree DIR: HEAD checked out at DIR (reused when there)
    if [ -d "$1" ]; then git -C "$1" checkout -q --force --detach "$rev"
    else git -C "$top" worktree add -q --force --detach "$1" "$rev"; fi
}
worktree "$out/src-base"
worktree "$out/src-plant"
# the plant: the kernel's .run becomes a wrapper that runs the original on a quarter of
# the heads (or of the batch) first, writing into the output the full run then overwrites
python3 - "$out/src-plant/kernels/$plant.c" <<'EOF'
import re, sys
path = sys.argv[1]
src = open(path).read()
m = re.search(r'\.run\s*=\s*(\w+)\s*,', src)
if not m:
    sys.exit("ab-targets: no .run = NAME in " + path)
orig = m.group(1)
wrapper = '''
/* PLANT (scripts/ab-targets.sh): 25%% more work at every shape. */
static attn_status plant_run(const attn_problem *p, const float *q, const float *k,
                             const float *v, float *out, void *ws, int threads)
{
    attn_problem pq = *p;
    if (p->H %% 4 == 0) {
        pq.H = p->H / 4;
        pq.Hkv = p->Hkv <= pq.H && pq.H %% p->Hkv == 0 ? p->Hkv : 1;
    } else if (p->B %% 4 == 0) {
        pq.B = p->B / 4;
    } else {
        pq.H = 0;
    }
    if (pq.H) (void)%s(&pq, q, k, v, out, ws, threads);
    return %s(p, q, k, v, out, ws, threads);
}

''' % (orig, orig)
d = re.search(r'^const attn_kernel attn_kernel_', src, re.M).start()   # the definition, not an extern
src = src[:d] + wrapper + src[d:]
src = src.replace(m.group(0), '.run = plant_run,', 1)
open(path, 'w').write(src)
EOF
for side in base plant; do
    echo "ab-targets: building $side ($rev)" >&2
    make -C "$out/src-$side" -j"$(nproc)" build/attnbench >"$out/build-$side.log" 2>&1 ||
        { echo "$0: build of $side failed, see $out/build-$side.log" >&2; exit 2; }
done
bin_base=$out/src-base/build/attnbench bin_plant=$out/src-plant/build/attnbench

if [ "$check" = 1 ]; then
    rm -rf "$out/check-plant"
    set +e
    "$bin_base" ab "$config" --base "$bin_base" --new "$bin_plant" --kernels "$plant" --rounds 3 \
        -q -o "$out/check-plant"
    echo "ab-targets: exit $? (the planted kernel's ratios above should be +20% .. +30%)"
    exit 0
fi

# -- the disturber ----------------------------------------------------------------------
ncpu=$(nproc)
disturber() {   # disturber LOG: until killed, busy one random core for 3-15 s, pause 3-20 s
    trap 'kill "$busy" 2>/dev/null; exit 0' TERM
    busy=
    while :; do
        sleep $((3 + RANDOM % 18)) & wait $!      # in the background: TERM ends the wait
        core=$((RANDOM % ncpu)) len=$((3 + RANDOM % 13))
        echo "$(date +%s) $len $core" >>"$1"
        taskset -c "$core" timeout "$len" sh -c 'while :; do :; done' &
        busy=$!
        wait "$busy" || true
    done
}

# -- the runs -------------------------------------------------------------------------
summary=$out/summary.tsv
printf 'run\tkind\texit\tregressed\timproved\tinconclusive\tplanted_regressed\tothers_flagged\tdisturbed_s\twall_s\tload\n' >"$summary"
for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) = 1 ]; then kind=aa new=$bin_base; else kind=plant new=$bin_plant; fi
    dir=$out/run-$i-$kind
    rm -rf "$dir" "$dir.json" "$out/disturb-$i.log"
    : >"$out/disturb-$i.log"
    dpid=
    if [ "$disturb" = 1 ]; then disturber "$out/disturb-$i.log" & dpid=$!; fi
    t0=$(date +%s)
    set +e
    "$bin_base" ab "$config" --base "$bin_base" --new "$new" --rounds "$rounds" -q -o "$dir" \
        ${kernels:+--kernels "$kernels"} --format json >"$dir.json" 2>"$dir.err"
    rc=$?
    set -e
    t1=$(date +%s)
    if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null || true; fi
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    python3 - "$dir.json" "$kind" "$plant" "$i" "$rc" "$out/disturb-$i.log" "$t0" "$t1" "$load" \
        >>"$summary" <<'EOF'
import json, sys
path, kind, plant, run, rc, dlog, t0, t1, load = sys.argv[1:]
t0, t1 = int(t0), int(t1)
try:
    cases = json.load(open(path))["cases"]
except Exception as e:
    cases = []
kern = lambda c: c["name"].split("/")[0]
by = lambda v: [c for c in cases if c["verdict"] == v]
reg, imp, inc = by("regressed"), by("improved"), by("inconclusive")
mine = [c for c in cases if kern(c) == plant]
planted = "%d/%d" % (sum(c["verdict"] == "regressed" for c in mine), len(mine)) if kind == "plant" else "-"
others = sum(c["verdict"] in ("regressed", "improved", "invalid")
             for c in cases if kind == "aa" or kern(c) != plant)
dist = 0
for line in open(dlog):
    s, n, _ = line.split()
    dist += max(0, min(int(s) + int(n), t1) - max(int(s), t0))
names = lambda l: ",".join(sorted(set(kern(c) for c in l))) or "-"
print("\t".join([run, kind, rc, "%d %s" % (len(reg), names(reg)), "%d %s" % (len(imp), names(imp)),
                 "%d %s" % (len(inc), names(inc)), planted, str(others), str(dist), str(t1 - t0), load]))
EOF
    tail -n 1 "$summary" >&2
done
echo "ab-targets: summary in $summary" >&2
