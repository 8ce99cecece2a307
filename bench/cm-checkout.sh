#!/bin/bash
# The CM.com shop's checkout against the wire (issue 12), on a release build
# and SQLite with durable commits:
#  1. 64 clients (build/bench/cm-checkout) run reserve -> checkout -> payment
#     page -> pay on an event of capacity 10,000 until it is sold out; prints
#     paid orders/s and p50/p99 per step, then the oversold check: valid
#     tickets of the event against its capacity and the paid orders counted
#     (must be 0 over, and equal).
#  2. wrk (-t2 -c64) on the event detail (GET /cm/.../events/{uuid}) and on
#     nginx serving its exact bytes as a static JSON file, same run; prints
#     ours as a share of nginx's (target >= 50%).
# Targets: >= 1,500 paid orders/s, nothing oversold. Loopback only, bounded in
# time (about 3 minutes), stops by itself. BENCH_PORT picks the port (default
# 18621; nginx gets the one above, or BENCH_NGINX_PORT), BENCH_BIN the server (default
# build/boxoffice), BENCH_SECONDS wrk's run. `make bench` builds the client.
set -u
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/boxoffice-cmbench.XXXXXX)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
    [ -n "${BENCH_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
PORT=${BENCH_PORT:-18621}; NGINX_PORT=${BENCH_NGINX_PORT:-$((PORT + 1))}
SECS=${BENCH_SECONDS:-10}
CAPACITY=10000
DBFILE="$WORK/bench.db"
B=${BENCH_BIN:-build/boxoffice}
for tool in wrk nginx curl python3 sqlite3 build/bench/cm-checkout; do
    command -v $tool >/dev/null || { echo "cm-checkout: $tool is not there (make bench)"; exit 1; }
done
$B migrate --db "sqlite:$DBFILE" --key-file "$WORK/key" >/dev/null 2>&1
$B demo --db "sqlite:$DBFILE" --key-file "$WORK/key" >/dev/null 2>&1
$B serve --db "sqlite:$DBFILE" --key-file "$WORK/key" --listen 127.0.0.1:$PORT ${BENCH_SERVE_ARGS:-} --no-access-log \
    >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT
PRODUCT_TOKEN=11111111-2222-3333-4444-555555555555 # the demo's (docs/demo.md); the demo account is in test mode
admin() { curl -s -X "$1" -H "Authorization: Bearer demo-admin-token" -H "Content-Type: application/json" -d "$3" \
          "$URL/admin/v1$2"; }
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
DAY=$(date -d '+30 days' +%F)
EVENT=$(admin POST /events "{\"name\":\"Checkout bench\",\"status\":\"published\",\"occurrences\":[{\"id\":\"bench\",
        \"start\":\"${DAY}T20:00:00\",\"end\":\"${DAY}T23:00:00\"}]}" | id_of)
POOL=$(admin POST /pools "{\"capacity\":$CAPACITY}" | id_of)
TYPE=$(admin POST /products "{\"name\":\"Regular\",\"event_id\":\"$EVENT\",\"price\":1000,\"booking_fee\":100,
       \"pools\":[{\"pool_id\":\"$POOL\",\"amount\":1}],\"max_per_order\":10}" | id_of)
ON_SALE=$(admin POST /events "{\"name\":\"On sale\",\"status\":\"published\",\"occurrences\":[{\"id\":\"open\",
          \"start\":\"${DAY}T20:00:00\",\"end\":\"${DAY}T23:00:00\"}]}" | id_of)
ON_SALE_POOL=$(admin POST /pools "{\"capacity\":$CAPACITY}" | id_of)
admin POST /products "{\"name\":\"Regular\",\"event_id\":\"$ON_SALE\",\"price\":1000,\"booking_fee\":100,
       \"pools\":[{\"pool_id\":\"$ON_SALE_POOL\",\"amount\":1}],\"max_per_order\":10}" >/dev/null
METHOD=$(admin POST /payment_methods '{"name":"Bancontact","kind":"card","fee_fixed":35,"fee_percent_bp":260}' | id_of)
CM_AUTH="X-CM-PRODUCTTOKEN: $PRODUCT_TOKEN"
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "--- CM checkout: 64 clients, reserve -> checkout -> page -> pay, capacity $CAPACITY (SQLite, durable) ---"
T0=$(ticks)
L0=$(cut -d' ' -f1 /proc/loadavg)
/usr/bin/time -f '%U %S' -o "$WORK/client.cpu" timeout 150 build/bench/cm-checkout --port $PORT \
    --token $PRODUCT_TOKEN --event "$EVENT" --ticket-type "$TYPE" --method "$METHOD" --clients 64 | tee "$WORK/co.out"
T1=$(ticks)
PAID=$(awk '/paid orders in/{print $5}' "$WORK/co.out")
# CPU per paid order is the figure a loaded machine moves least: two idle cores
# would give at most 2 s of CPU / (server + client CPU per paid order)
python3 - "$T0" "$T1" "${PAID:-0}" "$(cat "$WORK/client.cpu")" "$L0" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import os, sys
t0, t1, paid = int(sys.argv[1]), int(sys.argv[2]), max(int(sys.argv[3]), 1)
client = sum(float(x) for x in sys.argv[4].split()[-2:])
server_us = (t1 - t0) / os.sysconf('SC_CLK_TCK') * 1e6 / paid
client_us = client * 1e6 / paid
print('  server CPU   %.0f us per paid order; client %.0f us; two idle cores: at most %.0f paid orders/s'
      ' (server alone on them: %.0f)' % (server_us, client_us, 2e6 / (server_us + client_us), 2e6 / server_us))
print('  load average %s at the start, %s at the end' % (sys.argv[5], sys.argv[6]))
PY
# the database itself: tickets that hold a seat of the event, and confirmed orders
VALID=$(sqlite3 "$DBFILE" "SELECT count(*) FROM tickets WHERE product_id = '$TYPE' AND status IN ('valid', 'unpaid')")
CONFIRMED=$(sqlite3 "$DBFILE" "SELECT count(*) FROM orders WHERE channel = 'cm' AND status = 'confirmed'")
python3 - "$VALID" "$CONFIRMED" "${PAID:-0}" "$CAPACITY" <<'PY'
import sys
valid, confirmed, paid, cap = map(int, sys.argv[1:])
print("  oversold check: %d seats taken of %d, oversold %d; %d orders confirmed, %d paid by the clients%s" % (
    valid, cap, max(valid - cap, 0), confirmed, paid, "" if confirmed == paid else "  (MISMATCH)"))
PY

echo "--- wrk: event detail vs nginx serving the same bytes, 64 connections, ${SECS} s each ---"
. bench/nginx.sh
nginx_start "$WORK" $NGINX_PORT || exit 1
sleep 0.3
# wrk's figures: "req/s p99 requests"
wrk_run() {
    timeout $((SECS + 20)) wrk -t2 -c64 -d"${SECS}s" --latency "$@" 2>&1 | tee -a "$WORK/wrk.log" |
        awk '/Requests\/sec/{rps=$2} /^ +99%/{p99=$2} / requests in /{n=$1} END{printf "%s %s %s\n", rps, p99, n+0}'
}
detail() {
    local name=$1 event=$2 path="$URL/cm/ticketingapi/v2.0/ticketshop/events/$2"
    local bytes
    bytes=$(curl -s -o "$WORK/www/$name.json" -w '%{size_download}' -H "$CM_AUTH" "$path")
    read -r o_rps o_p99 o_n <<<"$(wrk_run -H "$CM_AUTH" "$path")"
    read -r n_rps n_p99 n_n <<<"$(wrk_run "http://127.0.0.1:$NGINX_PORT/$name.json")"
    python3 -c "import sys; a=sys.argv[1:]; print('  %-22s %5s bytes: ours %6.0f req/s (p99 %s), nginx %6.0f req/s (p99 %s), ratio %.0f%% (target >= 50%%)' % (a[0], a[1], float(a[2] or 0), a[3], float(a[4] or 0), a[5], 100.0 * float(a[2] or 0) / max(float(a[4] or 0), 1)))" \
        "$name" "$bytes" "$o_rps" "$o_p99" "$n_rps" "$n_p99"
}
# an event on sale (the shop's common case), then the sold-out one: telling
# SOLD_OUT from IN_RESERVATION counts the event's issued tickets (events.c)
detail on-sale "$ON_SALE"
detail sold-out "$EVENT"
