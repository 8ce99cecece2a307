#!/bin/bash
# Benchmarks, bounded in time, loopback only. Prints figures beside a
# reference measured in the same run. Usage: bench/run.sh [sqlite|postgres|http|all]
set -u
cd "$(dirname "$0")/.."
WHAT=${1:-all}
WORK=$(mktemp -d /tmp/boxoffice-bench.XXXXXX)
PG_DIR=
cleanup() {
    [ -n "$PG_DIR" ] && scripts/pg-test.sh stop "$PG_DIR" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"

if [ "$WHAT" = all ] || [ "$WHAT" = sqlite ]; then
    echo "--- engine flash sale, SQLite (WAL, durable commits) ---"
    timeout 300 build/bench/engine-flash-sale --db "sqlite:$WORK/flash.db" --workers 64 --capacity 10000
    echo "--- engine flash sale, SQLite, 10 tickets per booking (allocations per ticket) ---"
    timeout 300 build/bench/engine-flash-sale --db "sqlite:$WORK/flash10.db" --workers 64 --capacity 10000 \
        --tickets-per-booking 10
fi

if [ "$WHAT" = all ] || [ "$WHAT" = postgres ]; then
    PG_DIR="$WORK/pg"
    URI=$(scripts/pg-test.sh start "$PG_DIR") || { echo "postgres did not start"; exit 1; }
    echo "--- engine flash sale, PostgreSQL 15 (threads) ---"
    timeout 300 build/bench/engine-flash-sale --db "$URI" --workers 64 --capacity 10000
    echo "--- engine flash sale, PostgreSQL 15 (4 processes x 16 workers: several servers, one database) ---"
    timeout 300 build/bench/engine-flash-sale --db "$URI" --workers 16 --processes 4 --capacity 10000
    echo "--- raw ceiling: pgbench, conditional update of one hot row + insert, 8 clients, 10 s ---"
    PSQL="psql -X -q -d $URI"
    $PSQL -c "DROP TABLE IF EXISTS bench_inventory, bench_tickets;
              CREATE TABLE bench_inventory (id INT PRIMARY KEY, used BIGINT, capacity BIGINT);
              INSERT INTO bench_inventory VALUES (1, 0, 1000000000000);
              CREATE TABLE bench_tickets (id BIGSERIAL PRIMARY KEY, barcode TEXT);"
    PGBENCH=/usr/lib/postgresql/15/bin/pgbench
    [ -x "$PGBENCH" ] || PGBENCH=pgbench
    timeout 60 $PGBENCH -n -c 8 -j 2 -T 10 -f bench/pg-hot-row.sql "$URI" 2>&1 | grep -E "tps|latency average"
fi

if [ "$WHAT" = all ] || [ "$WHAT" = http ]; then
    if [ -x bench/http-flash-sale.sh ]; then bench/http-flash-sale.sh; fi
    echo "--- reads against nginx serving the same bytes (bench/http-read.sh) ---"
    bench/http-read.sh
fi
