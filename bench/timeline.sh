#!/bin/bash
# Timeline at scale (issue 10, item 5): an account of TIMELINE_ORDERS orders
# (1,000,000) built through the engine's bulk booking path (bench/timeline.c),
# then page 1 and page 10,000 (100 a page) of every order and ticket list —
# /admin/v1/orders, /convious/api/v1/orders/, /tickettailor/v1/orders and
# /v1/issued_tickets — timed in pairs over HTTP (bench/timeline_pages.py),
# the ratio printed, and the server's resident memory while it walks the
# admin list. On SQLite and on PostgreSQL. Loopback only, every step bounded.
#
# usage: bench/timeline.sh [sqlite|postgres|all]
#   TIMELINE_ORDERS (1000000), TIMELINE_PAIRS (30), TIMELINE_WALK_SECONDS (60),
#   TIMELINE_BUILD_SECONDS (bound of each build, 3600), BENCH_PORT (18187).
#   Before the walk the reply cache (32 MiB by default) is filled past its
#   budget with distinct cached replies, so the memory read is "cache full".
#   TIMELINE_DIR=DIR keeps the databases in DIR and reuses them on the next
#   run (the build only adds missing orders): building 1,000,000 orders takes
#   minutes on SQLite and much longer on PostgreSQL. Without it a scratch
#   directory is used and removed.
set -u
cd "$(dirname "$0")/.."
WHAT=${1:-all}
ORDERS=${TIMELINE_ORDERS:-1000000}
LIMIT=100
PORT=${BENCH_PORT:-18187}
B=build/boxoffice
if [ -n "${TIMELINE_DIR:-}" ]; then WORK=$TIMELINE_DIR; KEEP=1; mkdir -p "$WORK"; else WORK=$(mktemp -d /tmp/boxoffice-timeline.XXXXXX); KEEP=; fi
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    [ -z "$KEEP" ] && [ -d "$WORK/pg" ] && scripts/pg-test.sh stop "$WORK/pg" >/dev/null 2>&1
    [ -z "$KEEP" ] && rm -rf "$WORK"
}
trap cleanup EXIT
make --no-print-directory -s build/boxoffice build/bench/timeline >/dev/null || exit 1
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $ORDERS orders, $LIMIT a page"

# The deep page: page 10,000, or the last when there are fewer orders.
DEEP=$(( (ORDERS + LIMIT - 1) / LIMIT )); [ "$DEEP" -gt 10000 ] && DEEP=10000
SKIP=$(( (DEEP - 1) * LIMIT - 1 ))
ACCOUNT="(SELECT id FROM accounts WHERE slug = 'timeline')"

run_one() { # KIND URI SQL-COMMAND...
    local kind=$1 uri=$2; shift 2
    local key="$WORK/$kind.key"
    echo "--- $kind: building the account (engine bulk path) ---"
    $B migrate --db "$uri" --key-file "$key" >/dev/null 2>&1 || { echo "migrate failed"; return 1; }
    timeout "${TIMELINE_BUILD_SECONDS:-3600}" build/bench/timeline --db "$uri" --key-file "$key" --orders "$ORDERS" ||
        { echo "build failed or ran out of time"; return 1; }
    # where page DEEP starts: the cursors a client holds after DEEP - 1 pages
    # (read straight from the database; walking there would take minutes)
    local order ticket seq
    order=$("$@" "SELECT id FROM orders WHERE account_id = $ACCOUNT ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $SKIP")
    ticket=$("$@" "SELECT id FROM tickets WHERE account_id = $ACCOUNT ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $SKIP")
    seq=$("$@" "SELECT change_seq FROM orders WHERE account_id = $ACCOUNT ORDER BY change_seq LIMIT 1 OFFSET $SKIP")
    [ -n "$order" ] && [ -n "$ticket" ] && [ -n "$seq" ] || { echo "no cursors"; return 1; }
    $B serve --db "$uri" --key-file "$key" --listen 127.0.0.1:$PORT --no-access-log >"$WORK/$kind-server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
    local token
    token=$(curl -s -d grant_type=client_credentials -d client_id=timeline-client -d client_secret=timeline-secret \
        "http://127.0.0.1:$PORT/convious/oauth/token/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    echo "--- $kind: page 1 vs page $DEEP, ${TIMELINE_PAIRS:-30} pairs each, then a walk of /admin/v1/orders ---"
    timeout 900 python3 bench/timeline_pages.py --port "$PORT" --pid "$SERVER" --account timeline \
        --admin-token timeline-admin-token --cv-token "$token" --tt-key sk_timeline --order-cursor "$order" \
        --ticket-cursor "$ticket" --seq-cursor "$seq" --pairs "${TIMELINE_PAIRS:-30}" --limit $LIMIT \
        --walk-seconds "${TIMELINE_WALK_SECONDS:-60}" --fill-cache-bytes $((48 << 20))
    kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; SERVER=
}

if [ "$WHAT" = all ] || [ "$WHAT" = sqlite ]; then
    run_one sqlite "sqlite:$WORK/timeline.db" sqlite3 -readonly "$WORK/timeline.db"
fi
if [ "$WHAT" = all ] || [ "$WHAT" = postgres ]; then
    URI=$(scripts/pg-test.sh start "$WORK/pg") || { echo "postgres did not start"; exit 1; }
    run_one postgresql "$URI" psql -X -A -t -q -d "$URI" -c
    [ -n "$KEEP" ] || scripts/pg-test.sh stop "$WORK/pg" >/dev/null 2>&1
fi
