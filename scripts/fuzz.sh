#!/bin/bash
# Runs every fuzz target (build/fuzz/bin/*, from fuzz/*.c) for FUZZ_SECONDS
# each (default 60), starting from its committed seeds in fuzz/corpus/<target>/.
# New inputs go to a scratch directory, never into the committed seeds; a
# crash, leak, sanitizer report or a hang (one input over 10 s) fails the
# target, and its input is copied to build/fuzz/crashes/<target>/ to be
# reproduced with `build/fuzz/bin/<target> FILE`. Prints one line per target,
# then "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
WORK=$(mktemp -d /tmp/boxoffice-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

bins=(build/fuzz/bin/*)
if [ ! -x "${bins[0]}" ]; then
    echo "not ok - no fuzz targets in build/fuzz/bin (make fuzz-bins)"
    echo "0 passed, 1 failed"
    exit 1
fi
for bin in "${bins[@]}"; do
    name=$(basename "$bin")
    mkdir -p "$WORK/$name/new" "$WORK/$name/out"
    seeds=fuzz/corpus/$name
    [ -d "$seeds" ] || seeds=
    log="$WORK/$name/log"
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$WORK/$name/out/" "$WORK/$name/new" $seeds >"$log" 2>&1 &
    pid=$!
    wait $pid
    status=$?
    # a target's scratch database (fuzz/router.c), left behind when it crashed
    rm -rf "/dev/shm/boxoffice-fuzz-$pid" "/tmp/boxoffice-fuzz-$pid"
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    rate=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    artifacts=$(ls "$WORK/$name/out" | wc -l)
    if [ "$status" -eq 0 ] && [ "$artifacts" -eq 0 ]; then
        echo "ok - fuzz $name: ${runs:-?} runs in ${SECONDS_EACH} s (${rate:-?}/s), no crash"
        PASSED=$((PASSED + 1))
    else
        echo "not ok - fuzz $name: exit $status after ${runs:-?} runs"
        grep -E 'ERROR|SUMMARY|runtime error|fuzz/' "$log" | head -20
        mkdir -p "build/fuzz/crashes/$name"
        cp "$WORK/$name/out/"* "build/fuzz/crashes/$name/" 2>/dev/null
        ls "build/fuzz/crashes/$name" | sed "s|^|   reproduce: $bin build/fuzz/crashes/$name/|"
        FAILED=$((FAILED + 1))
    fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
