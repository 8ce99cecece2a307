#!/bin/bash
# E-ticket PDFs over HTTP against a release build (issue 11; docs/PERFORMANCE.md,
# "E-tickets"): a demo server on SQLite, one order of 1 ticket and one of 100
# (the undated audio guide), then
#   1. GET /tickets/{token}.pdf of the one ticket, 300 times on one keep-alive
#      connection: p50, p99, max (goal: p99 <= 20 ms)
#   2. GET /orders/{token}.pdf of the 100-ticket order, 10 times: median, max
#      (goal: <= 1 s)
#   3. the same one-ticket download from 2 connections at once (the machine's
#      cores): p99 while renders run in parallel
# Each reply is checked to be a PDF. Beside each latency the server's CPU time
# per reply (/proc), which a loaded shared machine disturbs least. Loopback only, about 30 s, stops by itself.
# BENCH_PORT picks the port (default 18464), BENCH_BIN the server (default
# build/boxoffice). The mail part of bench/eticket is added by the mail work.
set -u
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/boxoffice-eticketbench.XXXXXX)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=${BENCH_PORT:-18464}
DB="sqlite:$WORK/bench.db"
B=${BENCH_BIN:-build/boxoffice}
for tool in "$B" curl python3; do
    command -v "$tool" >/dev/null || { echo "eticket: $tool is not there (make build/boxoffice)"; exit 1; }
done
$B migrate --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B demo --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B serve --db "$DB" --key-file "$WORK/key" --listen 127.0.0.1:$PORT --no-access-log >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
timeout 300 python3 - "$PORT" "$SERVER" <<'PY'
import http.client, json, os, statistics, sys, threading, time

port, server = int(sys.argv[1]), sys.argv[2]

def cpu_ms():
    """The server's CPU time so far (user + system, all threads): what a loaded
    shared machine disturbs least, beside the wall-clock latencies."""
    with open("/proc/%s/stat" % server) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
GUIDE = "d0000000-0000-4000-8000-000000000007"
AUTH = {"Authorization": "Bearer demo-admin-token", "Content-Type": "application/json"}

def admin(conn, method, path, body):
    conn.request(method, "/admin/v1" + path, json.dumps(body), AUTH)
    r = conn.getresponse()
    data = r.read()
    assert r.status in (200, 201), (path, r.status, data[:200])
    return json.loads(data)

def order_of(conn, quantity):
    cart = admin(conn, "POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": quantity}]})
    return admin(conn, "POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"},
                                           "customer": {"name": "Łucja Żółć", "language": "en"}})

def timed_gets(path, n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        out.append((time.perf_counter() - t) * 1000)
        assert r.status == 200 and body.startswith(b"%PDF-"), (r.status, body[:100])
    conn.close()
    return out, len(body)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
one = order_of(conn, 1)["tickets"][0]["download_url"].split(str(port), 1)[1]
many = order_of(conn, 100)["download_url"].split(str(port), 1)[1]
timed_gets(one, 20)  # warm up: the server's pool of prepared documents
cpu = cpu_ms()
lat, size = timed_gets(one, 300)
cpu = (cpu_ms() - cpu) / 300
print("one-ticket PDF (%d bytes), 300 sequential GETs: p50 %.1f ms, p99 %.1f ms, max %.1f ms; server CPU %.1f ms each"
      % (size, pct(lat, 50), pct(lat, 99), max(lat), cpu))
cpu = cpu_ms()
lat, size = timed_gets(many, 10)
cpu = (cpu_ms() - cpu) / 10
print("100-ticket order PDF (%d bytes, 100 pages), 10 GETs: median %.0f ms, max %.0f ms; server CPU %.0f ms each"
      % (size, statistics.median(lat), max(lat), cpu))
results = []
def worker():
    results.extend(timed_gets(one, 150)[0])
threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
print("one-ticket PDF from 2 connections at once, 300 GETs: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (pct(results, 50), pct(results, 99), max(results)))
PY
