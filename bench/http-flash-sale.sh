#!/bin/bash
# HTTP benchmarks against a local server (loopback only, bounded in time):
#  1. flash sale through /convious carts + bookings, 64 clients, capacity 10,000
#  2. wrk on GET .../products/<id>/availability/ for a 30-day range
#  3. barcode redeem (Convious scan v2, every scan writes): 64 clients at full
#     load, then paced at 2,000/s (bench/http-redeem.c)
#  4. wrk on nginx serving a small static JSON file, same connections and time
# and prints availability req/s as a ratio of nginx's. Beside each server run:
# the server's CPU time per request (user + system, all threads), which the
# other load on a shared machine disturbs far less than requests/s.
# BENCH_PORT picks the port (default 18199; nginx gets the one below).
set -u
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/boxoffice-httpbench.XXXXXX)
SERVER=; NGINX_PID=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=${BENCH_PORT:-18199}; NGINX_PORT=$((PORT - 1))
DB="sqlite:$WORK/bench.db"
B=${BENCH_BIN:-build/boxoffice}
$B migrate --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B demo --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B serve --db "$DB" --key-file "$WORK/key" --listen 127.0.0.1:$PORT ${BENCH_SERVE_ARGS:-} --no-access-log \
    >"$WORK/server.log" 2>&1 &
SERVER=$!
sleep 0.5
# server CPU ticks (utime + stime of every thread, dead ones included)
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
per_req() { python3 -c "import os,sys; t=(int(sys.argv[2])-int(sys.argv[1]))/os.sysconf('SC_CLK_TCK'); n=int(sys.argv[3]); print('  server CPU   %.0f us per %s (%d)' % (t*1e6/max(n,1), sys.argv[4], n))" "$@"; }
URL=http://127.0.0.1:$PORT
ADMIN=(-s -H "Authorization: Bearer demo-admin-token" -H "Content-Type: application/json")
. bench/catalog.sh
bench_catalog 09:00 10:00 10000 Flash
TOKEN=$(convious_token $URL)
DAY=$(date -d tomorrow +%F); END=$(date -d '+31 days' +%F)
echo "--- HTTP flash sale (SQLite, durable commits) ---"
T0=$(ticks)
timeout 150 build/bench/http-flash-sale --port $PORT --token "$TOKEN" --category "$CAT" --product "$PROD" \
    --date "$DAY" --time 09:00:00 --clients 64 | tee "$WORK/fs.out"
per_req "$T0" "$(ticks)" "$(awk '/bookings in/{print $6}' "$WORK/fs.out")" "booking (cart + booking)"
echo "--- wrk: availability of the demo Adult product for 30 days, 64 connections, 10 s ---"
AVAIL="$URL/convious/api/v1/products/d0000000-0000-4000-8000-000000000005/availability/?date_from=$DAY&date_to=$END"
curl -s -o /dev/null -w "status %{http_code}, %{size_download} bytes\n" -H "Authorization: Bearer $TOKEN" "$AVAIL"
A=$(timeout 30 wrk -t2 -c64 -d10s -H "Authorization: Bearer $TOKEN" "$AVAIL" | tee /dev/stderr | awk '/Requests\/sec/{print $2}')
echo "--- barcode redeem (unlimited-scan ticket, every scan writes): 64 clients at full load, 10 s ---"
CART=$(curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
       -d '{"items":[{"productId":"d0000000-0000-4000-8000-000000000007","amount":1}]}' \
       $URL/convious/api/v1/accounts/demo/carts/ | id_of)
BARCODE=$(curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -d "{\"cartId\":\"$CART\"}" \
       $URL/convious/api/v1/accounts/demo/bookings/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["barcode"]["barcode"])')
T0=$(ticks)
timeout 30 build/bench/http-redeem --port $PORT --token "$TOKEN" --barcode "$BARCODE" --clients 64 --seconds 10 \
    | tee "$WORK/redeem.out"
per_req "$T0" "$(ticks)" "$(awk '/redeems in/{print $(NF-6)}' "$WORK/redeem.out")" "redeem"
echo "--- barcode redeem paced at 2,000/s (8 clients, latency from each request's scheduled time), 10 s ---"
T0=$(ticks)
timeout 30 build/bench/http-redeem --port $PORT --token "$TOKEN" --barcode "$BARCODE" --clients 8 --rate 2000 \
    --seconds 10 | tee "$WORK/redeem.out"
per_req "$T0" "$(ticks)" "$(awk '/redeems in/{print $(NF-6)}' "$WORK/redeem.out")" "redeem"
echo "--- wrk: nginx serving a small static JSON file, 64 connections, 10 s ---"
. bench/nginx.sh
nginx_start "$WORK" $NGINX_PORT || exit 1
echo '{"results":[{"day":"2026-01-01","available":true}]}' > "$WORK/www/small.json"
sleep 0.3
N=$(timeout 30 wrk -t2 -c64 -d10s http://127.0.0.1:$NGINX_PORT/small.json | tee /dev/stderr | awk '/Requests\/sec/{print $2}')
python3 -c "print('availability req/s %.0f, nginx req/s %.0f, ratio %.0f%%' % ($A, $N, 100.0 * $A / $N))"
