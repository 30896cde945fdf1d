#!/bin/sh
# fuzz.sh SECONDS [TARGET...]: run each libFuzzer target (config, results; default both;
# built by `make fuzz` into build-fuzz/) for SECONDS under ASan + UBSan, seeded from the
# repository's configs and results files.
# A crash, leak or timeout stops that target and leaves its input in build-fuzz/crashes/;
# minimise it, fix the bug, and keep the input under tests/fuzz/regress/<target>/ so
# `make test` replays it from then on (tests/test_fuzz_regress.c).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-config results}
b=build-fuzz
mkdir -p "$b/crashes"
status=0
for t in $targets; do
    corpus=$b/corpus-$t
    mkdir -p "$corpus"
    if [ "$t" = config ]; then
        cp configs/*.ini tests/configs/*.ini tests/fuzz/regress/config/* "$corpus"/ 2>/dev/null || true
    else
        cp tests/data/*.json tests/fuzz/regress/results/* "$corpus"/ 2>/dev/null || true
        for d in results/*/results.json; do [ -f "$d" ] && cp "$d" "$corpus/$(echo "$d" | tr / _)"; done
    fi
    echo "fuzz: $t for ${secs} s (corpus $corpus)" >&2
    start=$(date +%s)
    # -close_fd_mask=2: the config reader reports every bad input on stderr
    if ! "$b/fuzz_$t" "$corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 \
            -max_len=65536 -close_fd_mask=2 -artifact_prefix="$b/crashes/$t-" \
            -print_final_stats=1 2>"$b/fuzz-$t.log"; then
        echo "fuzz: $t found a problem: see $b/fuzz-$t.log and $b/crashes/" >&2
        tail -40 "$b/fuzz-$t.log" >&2
        status=1
    fi
    end=$(date +%s)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$b/fuzz-$t.log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t ran $((end - start)) s, $runs inputs" >&2
done
exit $status
