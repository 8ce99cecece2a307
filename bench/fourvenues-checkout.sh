#!/bin/bash
# The Fourvenues channel checkout against the wire (issue 13), on a release
# build and SQLite with durable commits: 64 clients (build/bench/fourvenues-checkout)
# check out 2 tickets, open the payment page and pay, on a rate of capacity
# 10,000 (two price tiers, 4,000 then unlimited) until it is sold out. Prints
# paid checkouts/s and p50/p99 per step; then, from a local receiver of the
# payment.success webhooks, the delivery lag (paid answered -> delivered)
# p50/p99 and duplicate deliveries; then the oversold check: tickets holding a
# seat against the capacity, the tier's count against its quantity, paid
# checkouts against confirmed orders. Targets: >= 1,500 paid checkouts/s,
# nothing oversold, lag p99 < 1 s. Loopback only, about two minutes at most.
# BENCH_PORT picks the port (default 18631; the receiver takes a free one),
# BENCH_BIN the server (default build/boxoffice). `make bench` builds the client.
set -u
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/boxoffice-fvbench.XXXXXX)
SERVER=
RECEIVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    [ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null && wait "$RECEIVER" 2>/dev/null
    [ -n "${BENCH_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
PORT=${BENCH_PORT:-18631}
CAPACITY=10000
TIER1=4000
DBFILE="$WORK/bench.db"
B=${BENCH_BIN:-build/boxoffice}
for tool in curl python3 sqlite3 build/bench/fourvenues-checkout; do
    command -v $tool >/dev/null || { echo "fourvenues-checkout: $tool is not there (make bench)"; exit 1; }
done
# the receiver: one line "payment_id wall-clock-ms webhook-id" per delivery, 200 at once;
# it binds a free port and writes it to $WORK/rx_port
python3 - "$WORK/rx_port" "$WORK/received" <<'PY' &
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
out, lock = open(sys.argv[2], "w", buffering=1), threading.Lock()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        at = time.time() * 1e3
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        try:
            doc = json.loads(body)
            with lock:
                out.write("%s %.3f %s\n" % (doc["payload"]["payment_id"], at, doc["id"]))
        except Exception:
            pass
    def log_message(self, *a):
        pass
ThreadingHTTPServer.daemon_threads = True
# a real receiver's backlog (nginx, node: 511); Python's default of 5 drops a burst of connects for 1 s
ThreadingHTTPServer.request_queue_size = 128
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
RECEIVER=$!
for _ in $(seq 50); do [ -s "$WORK/rx_port" ] && break; sleep 0.1; done
RX_PORT=$(cat "$WORK/rx_port")
$B migrate --db "sqlite:$DBFILE" --key-file "$WORK/key" >/dev/null 2>&1
$B demo --db "sqlite:$DBFILE" --key-file "$WORK/key" >/dev/null 2>&1
$B serve --db "sqlite:$DBFILE" --key-file "$WORK/key" --listen 127.0.0.1:$PORT --webhook-allow 127.0.0.1 \
    ${BENCH_SERVE_ARGS:-} --no-access-log >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
kill -0 $SERVER 2>/dev/null || { echo "fourvenues-checkout: the server did not start:"; cat "$WORK/server.log"; exit 1; }
URL=http://127.0.0.1:$PORT
KEY=fv_demo_key # the demo's channel key (docs/demo.md); the demo account is in test mode
admin() { curl -s -X "$1" -H "Authorization: Bearer demo-admin-token" -H "Content-Type: application/json" -d "$3" \
          "$URL/admin/v1$2"; }
fv() { curl -s -X "$1" -H "X-Api-Key: $KEY" -H "Content-Type: application/json" ${3:+-d "$3"} "$URL/fourvenues$2"; }
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
DAY=$(date -d '+30 days' +%F)
EVENT=$(admin POST /events "{\"name\":\"Fourvenues bench\",\"status\":\"published\",\"occurrences\":[{\"id\":\"fvbench\",
        \"start\":\"${DAY}T23:00:00\",\"end\":\"${DAY}T23:59:00\"}]}" | id_of)
POOL=$(admin POST /pools "{\"capacity\":$CAPACITY}" | id_of)
PRODUCT=$(admin POST /products "{\"name\":{\"en\":\"Entrada\"},\"event_id\":\"$EVENT\",\"price\":1200,
          \"pools\":[{\"pool_id\":\"$POOL\",\"amount\":1}],\"max_per_order\":10,\"price_tiers\":[
          {\"id\":\"early\",\"name\":\"Early Bird\",\"price\":1200,\"quantity\":$TIER1,\"fee_percent_bp\":1000},
          {\"id\":\"regular\",\"name\":\"Regular\",\"price\":1450,\"fee_amount\":150}]}" | id_of)
admin PATCH /channel_settings '{"platform_fee":50}' >/dev/null
fv POST /webhooks/endpoints "{\"name\":\"bench\",\"url\":\"http://127.0.0.1:$RX_PORT/hook\"}" >/dev/null
read -r RATE PRICE <<<"$(fv GET '/events?limit=100' | python3 -c '
import json, sys
for e in json.load(sys.stdin)["data"]:
    if e["name"] == "Fourvenues bench":
        r = e["ticket_rates"][0]
        print(r["_id"], r["prices"][0]["_id"])')"
[ -n "$RATE" ] || { echo "fourvenues-checkout: the bench rate is not listed"; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# the webhook worker thread's CPU ticks (its name is bo-webhooks), for its CPU per delivery
worker_ticks() { for t in /proc/$SERVER/task/*; do [ "$(cat $t/comm)" = bo-webhooks ] && awk '{print $14 + $15}' $t/stat; done; }
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "--- Fourvenues checkout: 64 clients, checkout (2 tickets) -> page -> pay, capacity $CAPACITY (SQLite, durable) ---"
T0=$(ticks)
W0=$(worker_ticks)
timeout 150 build/bench/fourvenues-checkout --port $PORT --key $KEY --rate "$RATE" --price "$PRICE" --clients 64 \
    --paid-log "$WORK/paid" | tee "$WORK/co.out"
T1=$(ticks)
PAID=$(awk '/paid checkouts in/{print $5}' "$WORK/co.out")
python3 -c "import os,sys; print('  server CPU   %.0f us per paid checkout' % ((int(sys.argv[2])-int(sys.argv[1]))/os.sysconf('SC_CLK_TCK')*1e6/max(int(sys.argv[3]),1)))" \
    "$T0" "$T1" "${PAID:-0}"
# the outbox drains behind the sale: wait (at most 30 s) for every paid checkout's webhook
for _ in $(seq 300); do
    [ "$(cut -d' ' -f1 "$WORK/received" 2>/dev/null | sort -u | wc -l)" -ge "${PAID:-0}" ] && break
    sleep 0.1
done
W1=$(worker_ticks)
python3 - "$WORK/paid" "$WORK/received" "${W0:-0}" "${W1:-0}" <<'PY'
import os, sys
paid = dict(l.split()[:2] for l in open(sys.argv[1]) if l.strip())
first, ids, count = {}, {}, 0
for line in open(sys.argv[2]):
    pid, at, wid = line.split()
    count += 1
    first.setdefault(pid, float(at))
    ids.setdefault(pid, set()).add(wid)
lags = sorted(first[p] - float(t) for p, t in paid.items() if p in first)
missing = len([p for p in paid if p not in first])
dup_ids = sum(1 for s in ids.values() if len(s) > 1)
q = lambda f: lags[min(int(len(lags) * f), len(lags) - 1)] if lags else 0.0
print("  payment.success: %d delivered for %d paid (%d missing, %d redelivered, %d payments with two ids); "
      "lag p50 %.1f ms, p99 %.1f ms (target < 1000)" % (len(first), len(paid), missing, count - len(first), dup_ids,
                                                         q(0.5), q(0.99)))
arrivals = sorted(float(l.split()[1]) for l in open(sys.argv[2]) if l.strip())
if len(arrivals) > 1:
    span = (arrivals[-1] - arrivals[0]) / 1e3
    cpu = (int(sys.argv[4]) - int(sys.argv[3])) / os.sysconf("SC_CLK_TCK")
    print("  webhook worker: %d deliveries in %.1f s (%.0f/s from the first to the last), its thread's CPU %.0f us "
          "per delivery" % (count, span, count / max(span, 1e-3), cpu * 1e6 / count))
PY
SEATS=$(sqlite3 "$DBFILE" "SELECT count(*) FROM tickets WHERE product_id = '$PRODUCT' AND status IN ('valid', 'unpaid')")
EARLY=$(sqlite3 "$DBFILE" "SELECT COALESCE(SUM(used), 0) FROM price_tier_sales WHERE product_id = '$PRODUCT' AND tier_id = 'early'")
EARLY_TICKETS=$(sqlite3 "$DBFILE" "SELECT count(*) FROM tickets WHERE product_id = '$PRODUCT' AND status IN ('valid', 'unpaid')
                                   AND doc LIKE '%\"price_tier\":{\"id\":\"early\"%'")
CONFIRMED=$(sqlite3 "$DBFILE" "SELECT count(*) FROM orders WHERE channel = 'fourvenues' AND status = 'confirmed'")
python3 - "$SEATS" "$CAPACITY" "$EARLY" "$EARLY_TICKETS" "$TIER1" "$CONFIRMED" "${PAID:-0}" <<'PY'
import sys
seats, cap, early, early_tickets, tier1, confirmed, paid = map(int, sys.argv[1:])
print("  oversold check: %d seats taken of %d (oversold %d); tier 1 counted %d, %d live tickets at it, of %d "
      "(oversold %d); %d orders confirmed, %d paid by the clients%s" % (
          seats, cap, max(seats - cap, 0), early, early_tickets, tier1, max(max(early, early_tickets) - tier1, 0),
          confirmed, paid, "" if confirmed == paid else "  (MISMATCH)"))
PY
