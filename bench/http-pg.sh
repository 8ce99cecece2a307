#!/bin/bash
# PostgreSQL over HTTP (issue 10), loopback only, bounded in time, on a
# throwaway PostgreSQL 15 (scripts/pg-test.sh):
#  1. Convious cart + booking spread at random over every slot of 30 days
#     (8 hourly slots a day), 64 clients on one server process, 15 s
#  2. the same load over 3 server processes on the one database (22 clients each)
#  3. pgbench's built-in TPC-B (scale 1), 16 clients, 10 s, as the reference
# and prints bookings/s ÷ TPC-B tps and 3 processes ÷ 1.
# BENCH_PORT picks the first port (default 18299; the next two are used too).
set -u
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/boxoffice-pgbench.XXXXXX)
PG_DIR="$WORK/pg"
SERVERS=()
cleanup() {
    for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    scripts/pg-test.sh stop "$PG_DIR" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
URI=$(scripts/pg-test.sh start "$PG_DIR") || { echo "postgres did not start"; exit 1; }
PORT=${BENCH_PORT:-18299}
B=${BENCH_BIN:-build/boxoffice}
KEY="$WORK/key"
$B migrate --db "$URI" --key-file "$KEY" >/dev/null 2>&1
$B demo --db "$URI" --key-file "$KEY" >/dev/null 2>&1
serve() {
    $B serve --db "$URI" --key-file "$KEY" --listen 127.0.0.1:$1 --no-access-log >"$WORK/server-$1.log" 2>&1 &
    SERVERS+=($!)
}
serve $PORT
sleep 0.5
echo "machine: $(nproc) cores; PostgreSQL 15, synchronous_commit on"
URL=http://127.0.0.1:$PORT
. bench/catalog.sh
bench_catalog 09:00 17:00 1000000 Spread
DAY=$(date -d tomorrow +%F)
sale() { # port clients seconds
    timeout 60 build/bench/http-flash-sale --port $1 --token "$(convious_token http://127.0.0.1:$1)" --category "$CAT" --product "$PROD" \
        --date "$DAY" --time 09:00:00 --days 30 --slots 8 --clients $2 --seconds $3
}
rate() { awk '/bookings\/s/{print $2}' "$@" | paste -sd+ | bc; }

# each phase starts after a 2 s warm-up on every server, so that connections
# are open and statements prepared: a server's steady state is measured
warm() { for p in "$@"; do sale $p 8 2 >/dev/null & done; wait $(jobs -p | tail -n $#); }
echo "--- cart + booking spread over 30 days x 8 slots, 1 process, 64 clients, 15 s ---"
warm $PORT
sale $PORT 64 15 | tee "$WORK/one.out"
serve $((PORT + 1))
serve $((PORT + 2))
sleep 0.5
warm $PORT $((PORT + 1)) $((PORT + 2))
echo "--- the same over 3 processes on one database, 22 clients each, 15 s ---"
CLIENTS=()
for p in $PORT $((PORT + 1)) $((PORT + 2)); do
    sale $p 22 15 >"$WORK/three-$p.out" &
    CLIENTS+=($!)
done
wait "${CLIENTS[@]}"
cat "$WORK"/three-*.out
echo "--- pgbench TPC-B (scale 1), 16 clients, 10 s ---"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
[ -x "$PGBENCH" ] || PGBENCH=pgbench
$PGBENCH -i -s 1 -q "$URI" >/dev/null 2>&1
TPCB=$(timeout 60 $PGBENCH -n -c 16 -j 2 -T 10 "$URI" 2>&1 | tee /dev/stderr | awk '/^tps/{print $3}')
ONE=$(rate "$WORK/one.out")
THREE=$(rate "$WORK"/three-*.out)
python3 -c "print('bookings/s %.0f (1 process), %.0f (3 processes); TPC-B tps %.0f; 1 process / TPC-B %.2f; 3 processes / 1 %.2f' % ($ONE, $THREE, $TPCB, $ONE / $TPCB, $THREE / $ONE))"
