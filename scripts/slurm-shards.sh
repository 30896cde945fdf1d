#!/bin/sh
# slurm-shards.sh: spread one sweep over a Slurm job array, then merge the shards.
#
#   scripts/slurm-shards.sh CONFIG.ini N [OUT]
#
# Submits an array of N tasks; task K runs every N-th case of the sweep starting at case K
# (`attnbench run CONFIG --shard K/N -o OUT/shard-K`). A dependent job then joins the shards
# with `attnbench merge -o OUT/merged OUT/shard-*` (case order as in an unsharded run) and
# writes OUT/merged/results.json, ready for `attnbench compare` or `attnbench plot`.
#
# Timings are only comparable on identical machines: pin the array to one node type
# (SBATCH_CONSTRAINT or --constraint below); merge warns when shard contexts differ in CPU,
# compiler or flags. Each task asks for a whole node (--exclusive) so neighbours do not
# disturb the measurements. Run it from the repository root after `make`.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG.ini N [OUT]" >&2
    exit 2
fi
config=$1
n=$2
out=${3:-results/$(basename "$config" .ini)-$(date +%Y%m%d-%H%M%S)}
bin=$(pwd)/build/attnbench
[ -x "$bin" ] || { echo "$0: $bin not found: run make first" >&2; exit 2; }
mkdir -p "$out/logs"

# the array: one shard per task; afterany below merges even if a shard exits 1
# (a case failed validation: it is recorded in that shard's results)
array_id=$(sbatch --parsable --array=0-$((n - 1)) --job-name=attnbench-shard \
    --exclusive --time=02:00:00 --output="$out/logs/shard-%a.out" \
    --wrap="'$bin' run '$config' --shard \$SLURM_ARRAY_TASK_ID/$n -o '$out/shard-'\$SLURM_ARRAY_TASK_ID")

shards=""
k=0
while [ $k -lt "$n" ]; do
    shards="$shards '$out/shard-$k'"
    k=$((k + 1))
done
merge_id=$(sbatch --parsable --dependency=afterany:"$array_id" --job-name=attnbench-merge \
    --time=00:10:00 --output="$out/logs/merge.out" \
    --wrap="'$bin' merge -o '$out/merged' $shards")

echo "submitted: shards $array_id (array of $n), merge $merge_id; results in $out/merged"
