#!/usr/bin/env python3
"""Times the first and a deep page of each order and ticket list over HTTP, in
pairs (first, deep, first, deep, ...) on one keep-alive connection, so a
machine that drifts slows both alike; prints each page's median latency and
the deep ÷ first ratio (of the medians, and the median of the pairs' ratios).
With --walk-seconds it then follows /admin/v1/orders pages from the newest
for that long and prints the server's resident memory (VmRSS, and VmHWM, its
peak) before and after. Loopback only; stops by itself.

usage: timeline_pages.py --port P --pid SERVER_PID --admin-token T --cv-token T --tt-key K
                         --order-cursor ID --ticket-cursor ID --seq-cursor N --account SLUG
                         [--pairs N] [--limit L] [--walk-seconds S]
(--pairs 0: only the walk, e.g. with --limit 1000 to read every order of the account)
"""
import argparse
import base64
import http.client
import json
import statistics
import time


def rss(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                name, value = line.split(":")
                out[name] = int(value.split()[0]) // 1024
    return out


class Conn:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path, headers):
        t0 = time.perf_counter()
        self.c.request("GET", path, headers=headers)
        r = self.c.getresponse()
        body = r.read()
        elapsed = time.perf_counter() - t0
        if r.status != 200:
            raise SystemExit("GET %s: %d %s" % (path, r.status, body[:300]))
        return elapsed, body


def pair_times(conn, name, first, deep, headers, pairs):
    for _ in range(3):  # warm both: prepared statements, caches
        conn.get(first, headers)
        conn.get(deep, headers)
    a, b = [], []
    for _ in range(pairs):
        a.append(conn.get(first, headers)[0])
        b.append(conn.get(deep, headers)[0])
    ma, mb = statistics.median(a), statistics.median(b)
    ratios = statistics.median([y / x for x, y in zip(a, b)])
    print("  %-34s page 1 %7.2f ms   deep page %7.2f ms   ratio %.2f (pairs' median %.2f)"
          % (name, ma * 1e3, mb * 1e3, mb / ma, ratios))
    return mb / ma


def main():
    p = argparse.ArgumentParser()
    for name in ("admin-token", "cv-token", "tt-key", "order-cursor", "ticket-cursor", "account"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--seq-cursor", type=int, required=True)
    p.add_argument("--pairs", type=int, default=30)
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--walk-seconds", type=float, default=0)
    p.add_argument("--fill-cache-bytes", type=int, default=0,
                   help="first fill the reply cache with this many bytes of distinct cached replies")
    a = p.parse_args()
    conn = Conn(a.port)
    admin = {"Authorization": "Bearer " + a.admin_token}
    cv = {"Authorization": "Bearer " + a.cv_token}
    tt = {"Authorization": "Basic " + base64.b64encode((a.tt_key + ":").encode()).decode(),
          "Accept": "application/json"}
    seq = base64.urlsafe_b64encode(("s=%d" % a.seq_cursor).encode()).decode().rstrip("=")
    n = a.limit
    print("  server memory before: %s" % rss(a.pid))
    if a.fill_cache_bytes:
        # distinct queries of a cached list: each reply is kept until the byte budget evicts
        sent, i, t0 = 0, 0, time.monotonic()
        while sent < a.fill_cache_bytes and time.monotonic() - t0 < 120:
            sent += len(conn.get("/convious/api/v1/products/?fill=%d" % i, cv)[1])
            i += 1
        print("  reply cache filled: %d distinct replies, %d MB; server memory: %s" % (i, sent >> 20, rss(a.pid)))
    worst = 0
    lists = () if a.pairs == 0 else (
            ("/admin/v1/orders", "/admin/v1/orders?limit=%d" % n,
             "/admin/v1/orders?limit=%d&starting_after=%s" % (n, a.order_cursor), admin),
            ("/convious/api/v1/orders/", "/convious/api/v1/orders/?account=%s&page_size=%d" % (a.account, n),
             "/convious/api/v1/orders/?account=%s&page_size=%d&cursor=%s" % (a.account, n, seq), cv),
            ("/tickettailor/v1/orders", "/tickettailor/v1/orders?limit=%d" % n,
             "/tickettailor/v1/orders?limit=%d&starting_after=or_%s" % (n, a.order_cursor), tt),
            ("/tickettailor/v1/issued_tickets", "/tickettailor/v1/issued_tickets?limit=%d" % n,
             "/tickettailor/v1/issued_tickets?limit=%d&starting_after=it_%s" % (n, a.ticket_cursor), tt))
    for name, first, deep, headers in lists:
        worst = max(worst, pair_times(conn, name, first, deep, headers, a.pairs))
    if lists:
        print("  worst deep ÷ first ratio: %.2f" % worst)
    if a.walk_seconds > 0:
        pages, orders, after = 0, 0, None
        t0 = time.monotonic()
        while time.monotonic() - t0 < a.walk_seconds:
            path = "/admin/v1/orders?limit=%d" % n + ("&starting_after=" + after if after else "")
            body = json.loads(conn.get(path, admin)[1])
            pages += 1
            orders += len(body["data"])
            if not body["has_more"]:
                break
            after = body["data"][-1]["id"]
        secs = time.monotonic() - t0
        print("  walked %d pages (%d orders) of /admin/v1/orders in %.0f s (%.1f pages/s); server memory after: %s"
              % (pages, orders, secs, pages / secs, rss(a.pid)))


if __name__ == "__main__":
    main()
