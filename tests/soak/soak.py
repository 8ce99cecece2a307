"""Soak: mixed traffic against a release build for SOAK_SECONDS (default 600)
on a fresh SQLite database. Fails when the server's memory keeps growing
(resident size at the end more than 20% + 16 MiB above the middle of the
run) or latency drifts (p99 of the last minute more than twice the first
minute's after warm-up, with a 5 ms floor), or when any request gets a 5xx.

usage: soak.py BOXOFFICE_BIN [SECONDS]   (make soak; prints "N passed, N failed")"""
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
from harness import ADMIN_TOKEN, OAUTH_CLIENT, TT_API_KEY  # noqa: E402

GUIDE = "d0000000-0000-4000-8000-000000000007"    # undated, unlimited
ADULT = "d0000000-0000-4000-8000-000000000005"    # museum timeslots
WARMUP = 30


class Conn:
    """One keep-alive connection; records (when, seconds, status) per request."""

    def __init__(self, host, port, log):
        self.host, self.port, self.log = host, port, log
        self.c = http.client.HTTPConnection(host, port, timeout=30)

    def call(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body) if not isinstance(body, str) else body
            h.setdefault("Content-Type", "application/json")
        started = time.time()
        try:
            self.c.request(method, path, body=data, headers=h)
            r = self.c.getresponse()
            raw = r.read()
            status = r.status
        except (http.client.HTTPException, OSError):
            self.c.close()
            self.c = http.client.HTTPConnection(self.host, self.port, timeout=30)
            raw, status = b"", 599
        self.log.append((started, time.time() - started, status))
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def p99(samples):
    if not samples:
        return 0.0
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def main():
    binary = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("SOAK_SECONDS", "600"))
    work = tempfile.mkdtemp(prefix="boxoffice-soak.")
    db, key = "sqlite:%s/soak.db" % work, "%s/server.key" % work
    for cmd in ("migrate", "demo"):
        subprocess.run([binary, cmd, "--db", db, "--key-file", key], check=True, capture_output=True)
    proc = subprocess.Popen([binary, "serve", "--db", db, "--key-file", key, "--listen", "127.0.0.1:0",
                             "--no-access-log"], stderr=subprocess.PIPE, text=True)
    url = None
    while url is None:
        line = proc.stderr.readline()
        if not line:
            raise SystemExit("server did not start")
        if "serving on http://" in line:
            url = line.split("serving on http://")[1].split()[0].rstrip("/")
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    host, port = url.split(":")[0], int(url.split(":")[1])

    admin = {"Authorization": "Bearer " + ADMIN_TOKEN}
    tok = Conn(host, port, []).call("POST", "/convious/oauth/token/",
                                    "grant_type=client_credentials&client_id=%s&client_secret=%s" % OAUTH_CLIENT,
                                    {"Content-Type": "application/x-www-form-urlencoded"})[1]["access_token"]
    cv = {"Authorization": "Bearer " + tok}
    import base64
    tt = {"Authorization": "Basic " + base64.b64encode((TT_API_KEY + ":").encode()).decode(),
          "Accept": "application/json"}
    stop = threading.Event()
    logs, barcodes, orders, lock = [], [], [], threading.Lock()

    def seller():
        log = []
        logs.append(log)
        c = Conn(host, port, log)
        while not stop.is_set():
            st, cart = c.call("POST", "/admin/v1/carts", {"items": [{"product_id": GUIDE, "quantity": 2}]}, admin)
            if st != 201:
                continue
            st, order = c.call("POST", "/admin/v1/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}},
                               admin)
            if st == 201:
                with lock:
                    barcodes.extend(t["barcode"] for t in order["tickets"])
                    orders.append(order["id"])

    def gate():
        log = []
        logs.append(log)
        c = Conn(host, port, log)
        while not stop.is_set():
            with lock:
                b = barcodes.pop() if barcodes else None
                o = random.choice(orders) if orders and random.random() < 0.05 else None
            if o:
                c.call("POST", "/admin/v1/orders/%s/cancel" % o, {"reason": "soak"}, admin)
            if b:
                c.call("POST", "/convious/api/v2/accounts/demo/barcode/scan/", {"barcode": b}, cv)
            else:
                time.sleep(0.01)

    def reader():
        log = []
        logs.append(log)
        c = Conn(host, port, log)
        paths = [("/convious/api/v1/products/%s/availability/" % ADULT, cv), ("/convious/api/v1/products/", cv),
                 ("/tickettailor/v1/orders?limit=20", tt), ("/admin/v1/orders?limit=20", admin),
                 ("/tickettailor/v1/events", tt)]
        while not stop.is_set():
            path, h = random.choice(paths)
            c.call("GET", path, headers=h)

    threads = [threading.Thread(target=f) for f in (seller, seller, gate, reader, reader)]
    started = time.time()
    for t in threads:
        t.start()
    rss = []
    while time.time() - started < seconds:
        time.sleep(5)
        rss.append((time.time() - started, rss_kib(proc.pid)))
    stop.set()
    for t in threads:
        t.join()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    shutil.rmtree(work, True)

    allreq = [x for log in logs for x in log]
    first = [d for t, d, _ in allreq if started + WARMUP <= t < started + WARMUP + 60]
    last = [d for t, d, _ in allreq if t >= started + seconds - 60]
    errors = sum(1 for _, _, s in allreq if s >= 500)
    mid = sorted(k for t, k in rss if 0.4 * seconds <= t <= 0.6 * seconds) or [0]
    end = sorted(k for t, k in rss if t >= 0.8 * seconds) or [0]
    rss_mid, rss_end = mid[len(mid) // 2], end[len(end) // 2]
    print("soak: %d s, %d requests (%.0f/s), %d 5xx" % (seconds, len(allreq), len(allreq) / seconds, errors))
    print("  rss   start %d KiB, middle %d KiB, end %d KiB, max %d KiB"
          % (rss[0][1] if rss else 0, rss_mid, rss_end, max((k for _, k in rss), default=0)))
    print("  p99   first minute %.1f ms, last minute %.1f ms" % (p99(first) * 1000, p99(last) * 1000))
    passed = failed = 0
    for ok, name in ((errors == 0, "no 5xx answers"),
                     (proc.returncode == 0, "the server shut down cleanly"),
                     (rss_end <= rss_mid * 1.2 + 16384, "memory does not keep growing"),
                     (p99(last) <= max(2 * p99(first), 0.005), "p99 does not drift beyond 2x")):
        print(("ok - " if ok else "not ok - ") + name)
        passed, failed = passed + ok, failed + (not ok)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
