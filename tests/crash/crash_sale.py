"""Crash safety under load: a sale over HTTP (carts, paid bookings, scans,
cancellations, webhooks) while the server is killed with SIGKILL at random
moments, KILLS times. Clients log every 2xx. After each restart every
acknowledged booking, payment, scan and cancellation is present; at the end
no order is half-present (tickets and payments match the order, whether or
not its client saw the answer), the pool is neither oversold nor leaking
holds (after the holds expire, available = capacity - sold exactly), and
every acknowledged order's ORDER.CREATED event reaches a webhook receiver.

usage: crash_sale.py BOXOFFICE_BIN DB_URI KEY_FILE [KILLS]   (prints "N passed, N failed")"""
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
from harness import Client, unique  # noqa: E402
from kill9 import start  # noqa: E402
from crashkit import Tally, prepare, webhook_receiver  # noqa: E402

CAPACITY = 120
SCAN = "/api/v2/accounts/demo/barcode/scan/"


class Ledger:
    """What clients were told: only 2xx answers are recorded."""

    def __init__(self):
        self.lock = threading.Lock()
        self.orders = {}      # order id -> {"quantity", "total"}
        self.scanned = set()  # ticket ids redeemed
        self.cancelled = set()
        self.fresh = []       # acknowledged since the last restart (orders, scans, cancels)

    def add(self, kind, key, value=None):
        with self.lock:
            if kind == "order":
                self.orders[key] = value
            elif kind == "scan":
                self.scanned.add(key)
            else:
                self.cancelled.add(key)
            self.fresh.append((kind, key))

    def take_fresh(self):
        with self.lock:
            fresh, self.fresh = self.fresh, []
            return fresh


def traffic(url, product_id, ledger, stop, barcodes):
    """Six clients: four book paid orders, one scans, one cancels."""
    def booker():
        c = Client(url)
        while not stop.is_set():
            try:
                qty = random.randint(1, 3)
                r = c.admin("POST", "/carts", {"items": [{"product_id": product_id, "quantity": qty}]})
                if r.status != 201:
                    time.sleep(0.02)  # sold out until a cancel frees seats
                    continue
                r = c.admin("POST", "/orders", {"cart_id": r.json["id"], "payment": {"provider": "cash"}})
                if r.status in (200, 201):
                    o = r.json
                    ledger.add("order", o["id"], {"quantity": qty, "total": o["total_gross"]})
                    with ledger.lock:
                        barcodes.extend((t["barcode"], t["id"]) for t in o["tickets"])
            except Exception:
                return  # the server died under us: expected

    def scanner():
        c = Client(url)
        while not stop.is_set():
            try:
                with ledger.lock:
                    item = barcodes.pop(0) if barcodes else None
                if not item:
                    time.sleep(0.01)
                    continue
                r = c.convious("POST", SCAN, {"barcode": item[0]})
                if r.status == 200 and r.json.get("status") == "success":
                    ledger.add("scan", item[1])
            except Exception:
                return

    def canceller():
        c = Client(url)
        while not stop.is_set():
            try:
                with ledger.lock:
                    live = [o for o in ledger.orders if o not in ledger.cancelled]
                if len(live) < 5:
                    time.sleep(0.02)
                    continue
                oid = random.choice(live)
                r = c.admin("POST", "/orders/%s/cancel" % oid, {"reason": "crash test"})
                if r.status == 200:
                    ledger.add("cancel", oid)
                time.sleep(0.05)
            except Exception:
                return

    threads = [threading.Thread(target=f) for f in (booker, booker, booker, booker, scanner, canceller)]
    for t in threads:
        t.start()
    return threads


def order_problems(o, want=None):
    """Why an order read back is not whole, or None."""
    tickets = o.get("tickets") or []
    if want and len(tickets) != want["quantity"]:
        return "%s: %d tickets, acknowledged %d" % (o["id"], len(tickets), want["quantity"])
    if o.get("quantity") is not None and len(tickets) != o["quantity"]:
        return "%s: %d tickets for quantity %s" % (o["id"], len(tickets), o["quantity"])
    paid = sum(p["amount"] for p in o["payments"] if p["kind"] == "payment")
    if paid != o["total_gross"]:
        return "%s: paid %d of %d" % (o["id"], paid, o["total_gross"])
    if o["status"] == "cancelled":
        refunded = sum(p["amount"] for p in o["payments"] if p["kind"] == "refund")
        if refunded <= 0 or any(t["status"] == "valid" for t in tickets):
            return "%s: cancelled but refund %d, tickets %s" % (o["id"], refunded, [t["status"] for t in tickets])
    return None


def check_fresh(c, ledger, fresh):
    """Every acknowledged write of the last run is there after the restart."""
    missing = []
    for kind, key in fresh:
        if kind == "order":
            r = c.admin("GET", "/orders/" + key)
            why = "missing" if r.status != 200 else order_problems(r.json, ledger.orders[key])
        elif kind == "scan":
            r = c.admin("GET", "/tickets/" + key)
            why = None if r.status == 200 and r.json["scan"]["used"] >= 1 else "scan of %s lost" % key
        else:
            r = c.admin("GET", "/orders/" + key)
            why = None if r.status == 200 and r.json["status"] == "cancelled" else "cancel of %s lost" % key
        if why:
            missing.append(why)
    return missing


def all_orders(c):
    orders, after = [], None
    while True:
        q = {"limit": 1000}
        if after:
            q["starting_after"] = after
        page = c.admin("GET", "/orders", query=q).json
        orders += page["data"]
        if not page["has_more"] or not page["data"]:
            return orders
        after = page["data"][-1]["id"]


def main():
    binary, db, key = sys.argv[1:4]
    kills = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    tally = Tally()
    check = tally.check
    hooks, hook_lock = set(), threading.Lock()

    def deliver(body):
        with hook_lock:
            hooks.add(body["payload"]["id"])
        return 200

    rx, hook_url = webhook_receiver(deliver)
    prepare(binary, db, key)
    proc, url = start(binary, db, key)
    c = Client(url)
    pool = c.admin("POST", "/pools", {"name": unique("crash pool"), "capacity": CAPACITY, "per": "total"}).json
    product = c.admin("POST", "/products", {"name": unique("Crash sale"), "price": 1250,
                                            "pools": [{"pool_id": pool["id"], "amount": 1}]}).json
    sub = c.admin("POST", "/webhooks", {"url": hook_url, "events": ["ORDER.CREATED"]}).json
    ledger, barcodes = Ledger(), []
    lost, restarts = [], 0
    for _ in range(kills):
        stop = threading.Event()
        threads = traffic(url, product["id"], ledger, stop, barcodes)
        time.sleep(random.uniform(0.3, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
        proc, url = start(binary, db, key)
        restarts += 1
        lost += check_fresh(Client(url), ledger, ledger.take_fresh())
    c = Client(url)
    check(restarts == kills, "the server restarted after each of %d kills" % kills)
    check(len(ledger.orders) >= kills, "orders were acknowledged between kills (%d orders, %d scans, %d cancels)"
          % (len(ledger.orders), len(ledger.scanned), len(ledger.cancelled)))
    check(not lost, "every acknowledged booking, payment, scan and cancel survived (%s)" % lost[:5])

    ours = [o for o in all_orders(c) if any(t["product_id"] == product["id"] for t in o["tickets"])]
    half = [p for p in (order_problems(o) for o in ours) if p]
    check(not half, "no order is half-present: tickets and payments match (%d orders, %s)" % (len(ours), half[:5]))
    sold = sum(1 for o in ours for t in o["tickets"] if t["status"] == "valid")
    check(sold <= CAPACITY, "sold %d <= capacity %d" % (sold, CAPACITY))
    # every hold expires: what is not sold must come back, no more and no less
    c.admin("POST", "/test/clock", {"advance_seconds": 7200})
    deadline, avail = time.time() + 30, None
    while time.time() < deadline:
        avail = 201  # nothing left to hold when sold out
        if CAPACITY > sold:
            cart = c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": CAPACITY - sold}]})
            if cart.status == 201:
                c.admin("DELETE", "/carts/" + cart.json["id"])
            avail = cart.status
        too_many = c.admin("POST", "/carts", {"items": [{"product_id": product["id"],
                                                         "quantity": CAPACITY - sold + 1}]})
        if avail == 201 and too_many.status == 409:
            break
        if too_many.status == 201:
            c.admin("DELETE", "/carts/" + too_many.json["id"])
        time.sleep(0.5)
    check(avail == 201 and too_many.status == 409,
          "after the holds expire exactly capacity - sold = %d seats can be held (%s / %s)"
          % (CAPACITY - sold, avail, too_many.status))
    # past the retry backoff and the 60 s delivery lease of attempts cut by a kill
    wanted = {"or_" + o for o in ledger.orders}
    deadline = time.time() + 60
    while time.time() < deadline:
        with hook_lock:
            if wanted <= hooks:
                break
        c.admin("POST", "/test/clock", {"advance_seconds": 120})
        time.sleep(1)
    with hook_lock:
        undelivered = wanted - hooks
    check(not undelivered, "every acknowledged order's webhook was delivered (%d of %d missing)"
          % (len(undelivered), len(wanted)))
    c.admin("DELETE", "/webhooks/" + sub["id"])
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    check(proc.returncode == 0, "the last server shuts down cleanly")
    rx.shutdown()
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
