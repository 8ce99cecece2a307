#!/bin/bash
# Benchmarks, bounded in time, loopback only. Prints figures beside a
# reference measured in the same run. Usage: bench/run.sh [sqlite|postgres|http|pricing|all]
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
    PSQL="psql -X -q -d $URI"
    PGBENCH=/usr/lib/postgresql/15/bin/pgbench
    [ -x "$PGBENCH" ] || PGBENCH=pgbench
    hot_row() {
        $PSQL -c "DROP TABLE IF EXISTS bench_inventory, bench_tickets;
                  CREATE TABLE bench_inventory (id INT PRIMARY KEY, used BIGINT, capacity BIGINT);
                  INSERT INTO bench_inventory VALUES (1, 0, 1000000000000);
                  CREATE TABLE bench_tickets (id BIGSERIAL PRIMARY KEY, barcode TEXT);" 2>/dev/null
        timeout 60 $PGBENCH -n -c 8 -j 2 -T 10 -f bench/pg-hot-row.sql "$URI" 2>&1 | tee "$WORK/hot.out" |
            grep -E "^tps|latency average"
    }
    rate() { awk '/bookings\/s/{print $2}' "$1"; }
    # engine and reference alternate, twice, so a drift of the shared machine shows in both
    for round in 1 2; do
        echo "--- engine flash sale, PostgreSQL 15, 1 process x 64 threads (round $round) ---"
        timeout 300 build/bench/engine-flash-sale --db "$URI" --workers 64 --capacity 6000 | tee "$WORK/one.out"
        echo "--- engine flash sale, 3 processes x 21 threads on one database (round $round) ---"
        timeout 300 build/bench/engine-flash-sale --db "$URI" --workers 21 --processes 3 --capacity 6000 |
            tee "$WORK/three.out"
        echo "--- raw ceiling: pgbench, conditional update of one hot row + insert, 8 clients, 10 s (round $round) ---"
        hot_row
        python3 -c "print('engine / pgbench hot row: %.2f; 3 processes / 1: %.2f' % ($(rate "$WORK/one.out") / \
            $(awk '/^tps/{print $3}' "$WORK/hot.out"), $(rate "$WORK/three.out") / $(rate "$WORK/one.out")))"
    done
    scripts/pg-test.sh stop "$PG_DIR" >/dev/null 2>&1
    PG_DIR=
    echo "--- HTTP on PostgreSQL: cart + booking over every slot, 1 and 3 processes, against pgbench TPC-B ---"
    bench/http-pg.sh
fi

if [ "$WHAT" = all ] || [ "$WHAT" = pricing ]; then
    echo "--- dynamic pricing: a synthetic season, five policies (bench/pricing-season.sh) ---"
    bench/pricing-season.sh
    echo "--- Convious pricing: rtp against nginx, analytics ingest beside bookings (bench/convious-pricing.sh) ---"
    bench/convious-pricing.sh
fi

if [ "$WHAT" = all ] || [ "$WHAT" = http ]; then
    if [ -x bench/http-flash-sale.sh ]; then bench/http-flash-sale.sh; fi
    echo "--- reads against nginx serving the same bytes (bench/http-read.sh) ---"
    bench/http-read.sh
    echo "--- CM shop checkout: reserve -> checkout -> pay, and the event detail against nginx (bench/cm-checkout.sh) ---"
    bench/cm-checkout.sh
fi
