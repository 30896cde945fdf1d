#!/bin/sh
# slurm-shards.sh: spread one sweep over a Slurm job array, then merge the shards.
#
#   scripts/slurm-shards.sh [--wait] CONFIG.ini N [OUT]
#
# Submits an array of N tasks; task K runs every N-th case of the sweep starting at case K
# (`attnbench run CONFIG --shard K/N -o OUT/shard-K`). A dependent job then joins the shards
# with `attnbench merge -o OUT/merged OUT/shard-*` (case order as in an unsharded run) and
# writes OUT/merged/results.json, ready for `attnbench compare` or `attnbench plot`.
# Job logs go to OUT/logs. OUT must not hold shards or merged results yet.
#
# Without --wait it exits 0 once both jobs are submitted. With --wait it polls Slurm until
# the merge job has ended and exits 0 only if every shard and the merge exited 0; 1 if a
# shard recorded a failed case (exit 1), was killed or timed out; the merge's own status if
# it failed (the merge log is shown). 2: usage error or a submission refused. Interrupting
# the wait leaves the jobs queued (`scancel` them, or let them finish).
#
# Timings are only comparable on identical machines: pin the array to one node type
# (SBATCH_CONSTRAINT or --constraint below); merge warns when shard contexts differ in CPU,
# compiler or flags. Each task asks for a whole node (--exclusive) so neighbours do not
# disturb the measurements. Run it after `make` from the repository root; paths may hold
# spaces and quotes. scripts/slurm-local.sh starts a one-node Slurm to try it on.
set -eu

me=$(basename "$0")
usage() { echo "usage: $0 [--wait] CONFIG.ini N [OUT]" >&2; exit 2; }
die() { echo "$me: $*" >&2; exit 2; }

wait=0
while [ $# -gt 0 ]; do
    case $1 in
    --wait) wait=1; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] && [ $# -le 3 ] || usage
config=$1
n=$2
out=${3:-results/$(basename "$config" .ini)-$(date +%Y%m%d-%H%M%S)}
case $n in ''|*[!0-9]*|0*) die "N must be a whole number from 1: '$n'" ;; esac
[ -f "$config" ] && [ -r "$config" ] || die "$config: not a readable file"
nl='
'
case $config$out in *"$nl"*) die "file names with a newline are refused" ;; esac

# absolute paths: the jobs do not depend on the directory they start in
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }
# a word for sh, single-quoted, whatever it holds
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
# a file name for sbatch --output: % is a pattern character there
pct() { printf '%s' "$1" | sed 's/%/%%/g'; }

bin=$(abs build/attnbench)
[ -x "$bin" ] || die "$bin not found: run make first (from the repository root)"
config=$(abs "$config")
out=$(abs "$out")
[ ! -e "$out/merged/results.json" ] && [ ! -e "$out/shard-0" ] ||
    die "$out already holds shards or merged results: choose another OUT"
mkdir -p "$out/logs"

# the array: one shard per task; afterany below merges even if a shard exits 1
# (a case failed validation: it is recorded in that shard's results)
array_id=$(sbatch --parsable --array=0-$((n - 1)) --job-name=attnbench-shard \
    --exclusive --time=02:00:00 --output="$(pct "$out")/logs/shard-%a.out" \
    --wrap="exec $(q "$bin") run $(q "$config") --shard \"\$SLURM_ARRAY_TASK_ID/$n\" -o $(q "$out")/shard-\"\$SLURM_ARRAY_TASK_ID\"") ||
    die "sbatch refused the shard array"
array_id=${array_id%%;*}

shards=""
k=0
while [ $k -lt "$n" ]; do
    shards="$shards $(q "$out/shard-$k")"
    k=$((k + 1))
done
merge_id=$(sbatch --parsable --dependency=afterany:"$array_id" --job-name=attnbench-merge \
    --time=00:10:00 --output="$(pct "$out")/logs/merge.out" \
    --wrap="exec $(q "$bin") merge -o $(q "$out/merged")$shards") || {
    scancel "$array_id" 2>/dev/null || true
    die "sbatch refused the merge job; shard array $array_id cancelled"
}
merge_id=${merge_id%%;*}

echo "submitted: shards $array_id (array of $n), merge $merge_id; results in $out/merged"
[ $wait = 1 ] || exit 0

# --wait: poll until the merge job has ended, then judge every job by its state and exit code
# (scontrol -o prints one line per job or array task: KEY=VALUE fields)
fields() { # JOBID -> lines "task state exitcode"
    scontrol -o show job "$1" 2>/dev/null | awk '{
        t = "-"; s = "?"; e = "?"
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^ArrayTaskId=/) t = substr($i, 13)
            else if ($i ~ /^JobState=/) s = substr($i, 10)
            else if ($i ~ /^ExitCode=/) e = substr($i, 10)
        }
        print t, s, e }'
}
ended() { case $1 in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE) return 0 ;; esac; return 1; }

echo "$me: waiting for merge job $merge_id"
while :; do
    st=$(fields "$merge_id" | awk '{ print $2 }')
    [ -n "$st" ] || break # forgotten by slurmctld: ended long ago
    ended "$st" && break
    sleep 2
done

rc=0
shard_report=$(fields "$array_id")
echo "$shard_report" | while read -r t s e; do
    [ -n "$t" ] || continue
    [ "$s" = COMPLETED ] && [ "$e" = 0:0 ] && continue
    echo "$me: shard $t: $s, exit $e (log: $out/logs/shard-$t.out)" >&2
done
if echo "$shard_report" | awk '$2 != "COMPLETED" || $3 != "0:0" { bad = 1 } END { exit !bad }'; then
    rc=1
fi
m=$(fields "$merge_id")
# shellcheck disable=SC2086 # three words
set -- $m
ms=${2:-?}
mc=${3:-?}
if [ -z "$m" ] && [ -f "$out/merged/results.json" ]; then ms=COMPLETED mc=0:0; fi # record purged
if [ "$ms" != COMPLETED ] || [ "$mc" != 0:0 ] || [ ! -f "$out/merged/results.json" ]; then
    echo "$me: merge job $merge_id: $ms, exit $mc; its log:" >&2
    sed 's/^/  /' "$out/logs/merge.out" >&2 2>/dev/null || true
    code=${mc%%:*}
    case $code in ''|*[!0-9]*|0) code=1 ;; esac
    exit "$code"
fi
echo "$me: merged results in $out/merged/results.json"
exit $rc
