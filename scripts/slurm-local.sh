#!/bin/sh
# slurm-local.sh: a private single-node Slurm on this machine, for trying slurm-shards.sh.
#
#   scripts/slurm-local.sh start|stop|status|env
#
# start  writes STATE/slurm.conf (one node: this host, its CPUs, memory a bit below what is
#        free; one partition), creates a private munge key, starts munged, slurmctld and
#        slurmd as daemons with their sockets, pid files, spool and logs under STATE, and
#        waits until sinfo shows the node idle. Nothing is written under /etc and no
#        systemd is needed. Already running: says so and exits 0.
# stop   cancels this cluster's jobs, ends the three daemons (by their pid files), removes
#        STATE. Not running: exits 0.
# status says whether it runs and prints sinfo.
# env    prints `export SLURM_CONF=...`: eval "$(scripts/slurm-local.sh env)" points
#        sbatch, squeue, sinfo and scancel at this cluster.
#
# STATE is $ATTNBENCH_SLURM_DIR, default /tmp/attnbench-slurm. Ports: $ATTNBENCH_SLURM_PORT
# (slurmctld, default 6817) and the next one (slurmd). Needs root (SlurmUser=root) and
# Debian's slurm-wlm (slurmctld, slurmd, munge); tests/slurm-e2e.sh installs it.
# Timeout for start: $ATTNBENCH_SLURM_TIMEOUT seconds (default 60).
set -eu

state=${ATTNBENCH_SLURM_DIR:-/tmp/attnbench-slurm}
port=${ATTNBENCH_SLURM_PORT:-6817}
timeout=${ATTNBENCH_SLURM_TIMEOUT:-60}
conf=$state/slurm.conf
sock=$state/munge/munge.socket
me=$(basename "$0")

die() { echo "$me: $*" >&2; exit 1; }

# a live pid from a pid file, or nothing
pid_of() {
    [ -s "$1" ] || return 1
    p=$(cat "$1" 2>/dev/null) || return 1
    case $p in ''|*[!0-9]*) return 1 ;; esac
    kill -0 "$p" 2>/dev/null || return 1
    echo "$p"
}

running() {
    pid_of "$state/slurmctld.pid" >/dev/null && pid_of "$state/slurmd.pid" >/dev/null &&
        pid_of "$state/munge/munged.pid" >/dev/null
}

tails() {
    for f in "$state/slurmctld.log" "$state/slurmd.log" "$state/munge/munged.log"; do
        [ -f "$f" ] || continue
        echo "--- last lines of $f" >&2
        tail -n 15 "$f" >&2
    done
}

# end one daemon by its pid file: TERM, up to 10 s, then KILL
end_pid() {
    p=$(pid_of "$1") || return 0
    kill "$p" 2>/dev/null || true
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
}

# a start that failed: show the logs, end what was started, keep STATE for the logs
fail_start() {
    tails
    end_pid "$state/slurmd.pid"
    end_pid "$state/slurmctld.pid"
    end_pid "$state/munge/munged.pid"
    die "$*; daemons ended, logs kept in $state ('$0 stop' removes it)"
}

do_stop() {
    if [ ! -d "$state" ]; then echo "$me: not running"; return 0; fi
    if running; then
        # jobs first, so that no slurmstepd outlives slurmd
        SLURM_CONF=$conf scancel --quiet --user="$(id -un)" 2>/dev/null || true
        i=0
        while [ $i -lt 50 ] && [ -n "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ]; do
            sleep 0.2; i=$((i + 1))
        done
    fi
    end_pid "$state/slurmd.pid"
    end_pid "$state/slurmctld.pid"
    end_pid "$state/munge/munged.pid"
    rm -rf "$state"
    echo "$me: stopped; $state removed"
}

do_start() {
    if running; then
        echo "$me: already running (SLURM_CONF=$conf)"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "needs root (SlurmUser=root)"
    for b in munged slurmctld slurmd sinfo sbatch; do
        command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] ||
            die "$b not found: apt-get install slurm-wlm"
    done
    PATH=$PATH:/usr/sbin
    # leftovers of a start that failed half way
    if [ -d "$state" ]; then do_stop >/dev/null; fi

    # a port already taken (the machine's own Slurm, another state dir) would leave sinfo
    # talking to someone else's slurmctld
    if command -v ss >/dev/null 2>&1; then
        for p in "$port" $((port + 1)); do
            if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
                die "port $p is in use (another Slurm?): set ATTNBENCH_SLURM_PORT"
            fi
        done
    fi
    node=$(hostname -s)
    cpus=$(nproc)
    # RealMemory: 90% of MemAvailable, in MiB
    mem=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
    [ "${mem:-0}" -gt 0 ] || mem=1024
    mkdir -p "$state/munge" "$state/ctld" "$state/spool"
    chmod 755 "$state" "$state/munge"   # munged: its socket dir must be searchable by all

    cat >"$conf" <<EOF
# written by scripts/slurm-local.sh: a private one-node cluster, removed by its stop
ClusterName=attnbench
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$state/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
    : >"$state/plugstack.conf"

    # a private munge key: the machine's own munge (if any) is left alone
    key=$state/munge/munge.key
    if [ ! -s "$key" ]; then
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile="$key" >/dev/null
        else
            dd if=/dev/urandom of="$key" bs=1024 count=1 2>/dev/null
        fi
    fi
    chmod 400 "$key"
    munged --key-file="$key" --socket="$sock" --pid-file="$state/munge/munged.pid" \
        --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed" ||
        fail_start "munged failed to start"

    export SLURM_CONF="$conf"
    slurmctld -f "$conf" || fail_start "slurmctld failed to start"
    slurmd -f "$conf" || fail_start "slurmd failed to start"

    # wait until the node is idle
    i=0
    while :; do
        st=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
        case $st in idle*) break ;; esac
        if [ $i -ge $((timeout * 5)) ]; then
            fail_start "node $node not idle after ${timeout}s (sinfo state: '${st:-none}')"
        fi
        sleep 0.2
        i=$((i + 1))
    done
    echo "$me: running: node $node, $cpus CPUs, ${mem} MiB, partition local"
    echo "export SLURM_CONF=$conf"
}

do_status() {
    if running; then
        echo "$me: running (SLURM_CONF=$conf)"
        SLURM_CONF=$conf sinfo
        return 0
    fi
    if [ -d "$state" ]; then
        echo "$me: not (fully) running, but $state exists: '$0 stop' cleans up"
    else
        echo "$me: not running"
    fi
    return 3
}

case ${1:-} in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
env) echo "export SLURM_CONF=$conf" ;;
*) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
