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
ADMIN=(-s -H "Authorization: Bearer demo-admin-token" -H "Content-Type: application/json")
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
SCH=$(curl "${ADMIN[@]}" -d '{"open":"09:00","close":"17:00","slot_minutes":60}' $URL/admin/v1/schedules | id_of)
CAT=$(curl "${ADMIN[@]}" -d "{\"name\":\"Spread\",\"flow\":\"dated\",\"schedule_id\":\"$SCH\"}" $URL/admin/v1/categories | id_of)
POOL=$(curl "${ADMIN[@]}" -d '{"capacity":1000000}' $URL/admin/v1/pools | id_of)
PROD=$(curl "${ADMIN[@]}" -d "{\"name\":\"Spread\",\"price\":2500,\"category_ids\":[\"$CAT\"],\"pools\":[{\"pool_id\":\"$POOL\"}]}" \
       $URL/admin/v1/products | id_of)
token() {
    curl -s -d grant_type=client_credentials -d client_id=demo-client -d client_secret=demo-secret \
        http://127.0.0.1:$1/convious/oauth/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
DAY=$(date -d tomorrow +%F)
sale() { # port clients seconds
    timeout 60 build/bench/http-flash-sale --port $1 --token "$(token $1)" --category "$CAT" --product "$PROD" \
        --date "$DAY" --time 09:00:00 --days 30 --slots 8 --clients $2 --seconds $3
}
rate() { awk '/bookings\/s/{print $2}' "$@" | paste -sd+ | bc; }

echo "--- cart + booking spread over 30 days x 8 slots, 1 process, 64 clients, 15 s ---"
sale $PORT 64 15 | tee "$WORK/one.out"
serve $((PORT + 1))
serve $((PORT + 2))
sleep 0.5
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
