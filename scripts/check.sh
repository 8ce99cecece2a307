#!/bin/bash
# Runs every test: the C unit tests, then the black-box HTTP suite against a
# sanitizer build of the server, once on SQLite and once on a throwaway
# PostgreSQL 15 (scripts/pg-test.sh). Prints "N passed, N failed" last.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/boxoffice-check.XXXXXX)
PASSED=0
FAILED=0
SKIPPED=0
SERVER_PID=
PG_DIR=

cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [ -n "$PG_DIR" ] && scripts/pg-test.sh stop "$PG_DIR" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Adds the counts of a test run's last "N passed, N failed" line; a run that
# crashed before printing one counts as one failure.
tally() {
    local name=$1 log=$2 status=$3
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "not ok - $name: no result line (exit $status)"
        tail -40 "$log"
        FAILED=$((FAILED + 1))
        return
    fi
    local p f
    p=$(echo "$line" | awk '{print $1}')
    f=$(echo "$line" | awk '{print $3}')
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    local s
    s=$(grep -E '^[0-9]+ skipped$' "$log" | tail -1 | awk '{print $1}')
    SKIPPED=$((SKIPPED + ${s:-0}))
    echo "== $name: $line${s:+, $s skipped}"
    grep -E '^skip - ' "$log" | sed 's/^/   /' 
    if [ "$f" -ne 0 ]; then grep -E '^not ok|ERROR|runtime error' "$log" | head -40; fi
}

run_unit() {
    local bin=$1 label=$2
    local log="$WORK/$(basename "$bin")-$label.log"
    "$bin" >"$log" 2>&1
    tally "$(basename "$bin") [$label]" "$log" $?
}

# Starts the sanitizer server on a free port for database $1; sets BOXOFFICE_URL.
start_server() {
    local db=$1 label=$2
    local log="$WORK/server-$label.log"
    build/san/boxoffice migrate --db "$db" --key-file "$WORK/server.key" >>"$log" 2>&1 || return 1
    build/san/boxoffice demo --db "$db" --key-file "$WORK/server.key" >>"$log" 2>&1 || return 1
    build/san/boxoffice serve --db "$db" --key-file "$WORK/server.key" --listen 127.0.0.1:0 --test-clock \
        --webhook-allow 127.0.0.1 --no-access-log >>"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        local port
        port=$(grep -oE 'serving on http://127.0.0.1:[0-9]+' "$log" | head -1 | grep -oE '[0-9]+$')
        if [ -n "$port" ]; then
            export BOXOFFICE_URL="http://127.0.0.1:$port"
            # tests/http/test_reply_bounds.py reads the server's RSS from /proc
            export BOXOFFICE_SERVER_PID=$SERVER_PID
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

stop_server() {
    local label=$1
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID"
    local status=$?
    SERVER_PID=
    local log="$WORK/server-$label.log"
    if [ $status -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$log"; then
        echo "not ok - server [$label] exited $status or reported a sanitizer error"
        grep -E -A30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$log" | head -60
        FAILED=$((FAILED + 1))
    else
        echo "ok - server [$label] shut down cleanly"
        PASSED=$((PASSED + 1))
    fi
}

run_suite() {
    local db=$1 label=$2
    export BOXOFFICE_TEST_DB=$db BOXOFFICE_DB_KIND=$label
    # black-box tests may create a second account with the CLI (isolation tests)
    export BOXOFFICE_BIN=$ROOT/build/san/boxoffice BOXOFFICE_KEY_FILE=$WORK/server.key
    for bin in build/san/tests/*; do
        case "$(basename "$bin")" in
            test_util|test_http) [ "$label" = sqlite ] && run_unit "$bin" "$label" ;;
            test_db_pg) [ "$label" = postgres ] && run_unit "$bin" "$label" ;;
            *) run_unit "$bin" "$label" ;;
        esac
    done
    if start_server "$db" "$label"; then
        local log="$WORK/http-$label.log" second=
        if [ "$label" = postgres ]; then
            # a second server process on the same database (multi-process tests)
            local first_pid=$SERVER_PID first_url=$BOXOFFICE_URL
            if start_server "$db" "$label-2"; then
                second=$SERVER_PID
                export BOXOFFICE_URL2=$BOXOFFICE_URL
            fi
            SERVER_PID=$first_pid
            export BOXOFFICE_URL=$first_url BOXOFFICE_SERVER_PID=$first_pid
        fi
        # the PostgreSQL run provides every environment a test may need: a skip there is a failure
        BOXOFFICE_STRICT_SKIPS=$([ "$label" = postgres ] && echo 1 || echo 0) python3 tests/http/run.py >"$log" 2>&1
        tally "http suite [$label]" "$log" $?
        unset BOXOFFICE_URL2
        if [ -n "$second" ]; then
            local keep=$SERVER_PID
            SERVER_PID=$second
            stop_server "$label-2"
            SERVER_PID=$keep
        fi
        stop_server "$label"
        log="$WORK/kill9-$label.log"
        python3 tests/crash/kill9.py build/san/boxoffice "$db" "$WORK/server.key" >"$log" 2>&1
        tally "kill -9 durability [$label]" "$log" $?
        log="$WORK/crash-sale-$label.log"
        python3 tests/crash/crash_sale.py build/san/boxoffice "$db" "$WORK/server.key" 20 >"$log" 2>&1
        tally "crash safety, 20 kills under load [$label]" "$log" $?
        log="$WORK/crash-idempotency-$label.log"
        python3 tests/crash/crash_idempotency.py build/san/boxoffice "$db" "$WORK/server.key" 10 >"$log" 2>&1
        tally "Idempotency-Key retries across 10 kills [$label]" "$log" $?
        if [ "$label" = postgres ]; then
            log="$WORK/nodes-$label.log"
            python3 tests/crash/nodes.py build/san/boxoffice "$db" "$WORK/server.key" >"$log" 2>&1
            tally "three nodes on one database [$label]" "$log" $?
        fi
    else
        echo "not ok - server [$label] did not start"
        tail -30 "$WORK/server-$label.log"
        FAILED=$((FAILED + 1))
    fi
}

# the Convious pricing browser library (web/analytics/) under node, in three time zones
JS_LOG="$WORK/js.log"
tests/js/run.sh build/gen >"$JS_LOG" 2>&1
tally "browser library (tests/js)" "$JS_LOG" $?

run_suite "sqlite:$WORK/boxoffice.db" sqlite

# every libFuzzer target (fuzz/), briefly: make fuzz runs them longer
FUZZ_LOG="$WORK/fuzz.log"
FUZZ_SECONDS=${CHECK_FUZZ_SECONDS:-30} scripts/fuzz.sh >"$FUZZ_LOG" 2>&1
tally "fuzz targets, ${CHECK_FUZZ_SECONDS:-30} s each" "$FUZZ_LOG" $?
grep -E '^ok - fuzz' "$FUZZ_LOG" | sed 's/^/   /'

PG_DIR="$WORK/pg"
if PG_URI=$(scripts/pg-test.sh start "$PG_DIR" 2>"$WORK/pg.log"); then
    run_suite "$PG_URI" postgres
else
    echo "not ok - PostgreSQL test cluster did not start"
    tail -20 "$WORK/pg.log"
    FAILED=$((FAILED + 1))
fi

# skips are counted apart and shown, never as passes
[ "$SKIPPED" -gt 0 ] && echo "$SKIPPED skipped (see the 'skip -' lines above)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
