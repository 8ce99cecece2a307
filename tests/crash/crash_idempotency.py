"""Idempotency-Key across kills: clients send a key on every cart and order
POST while the server is killed with SIGKILL at random moments, KILLS times.
After each restart every client retries the request it got no answer to,
with the same key and body. Nothing may be created twice: each retry answers
2xx (the first response replayed, or the request run now because it never
ran) or 409 idempotency_key_in_use (it was applied and its reply lost), and
either way the object exists exactly once: a client's carts are counted as
the seats its own pool has held, its orders by their unique email.

usage: crash_idempotency.py BOXOFFICE_BIN DB_URI KEY_FILE [KILLS]   (prints "N passed, N failed")"""
import os
import random
import signal
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
from harness import Client, unique  # noqa: E402
from crashkit import Tally, prepare  # noqa: E402
from kill9 import start  # noqa: E402

CLIENTS = 4
CAPACITY = 100000  # never sold out: every refusal here would be a bug


class Shopper:
    """One client: its own pool and product, the carts and orders it knows
    exist, and the request it is waiting on (None when answered)."""

    def __init__(self, c):
        pool = c.admin("POST", "/pools", {"name": unique("idem pool"), "capacity": CAPACITY, "per": "total"}).json
        self.product = c.admin("POST", "/products", {"name": unique("Idem sale"), "price": 900,
                                                     "pools": [{"pool_id": pool["id"], "amount": 1}]}).json["id"]
        self.held = 0          # seats of the carts that exist
        self.emails = []       # one per order that exists
        self.pending = None    # (path, body, key, qty or email) of the request not answered yet
        self.cart = None       # the cart id to book next
        self.problems = []
        self.retries = {"replayed": 0, "in use": 0, "ran": 0}  # how the retries after a kill were answered

    def step(self, c, retry=False):
        """Sends the next request, or the pending one again; True when answered."""
        if self.pending is None:
            if self.cart is None:
                qty = random.randint(1, 3)
                self.pending = ("/carts", {"items": [{"product_id": self.product, "quantity": qty}]},
                                uuid.uuid4().hex, qty)
            else:
                email = "idem-%s@example.com" % uuid.uuid4().hex[:12]
                self.pending = ("/orders", {"cart_id": self.cart, "customer": {"email": email},
                                            "payment": {"provider": "cash"}}, uuid.uuid4().hex, email)
        path, body, key, what = self.pending
        r = c.admin("POST", path, body, headers={"Idempotency-Key": key})
        self.pending = None
        if retry:
            outcome = "replayed" if r.header("Idempotent-Replayed") == "true" else "in use" if r.status == 409 else "ran"
            self.retries[outcome] += 1
        if r.status == 409 and (r.json or {}).get("error", {}).get("code") == "idempotency_key_in_use":
            # applied and its reply lost: it exists, but this client cannot name it
            if path == "/carts":
                self.held += what
            else:
                self.emails.append(what)
            self.cart = None
            return True
        if r.status not in (200, 201):
            self.problems.append("%s answered %r" % (path, r))
            self.cart = None
            return True
        if path == "/carts":
            self.held += what
            self.cart = r.json["id"]
        else:
            self.emails.append(what)
            self.cart = None
        return True

    def check(self, c):
        """What exists is what this client was told exists, exactly once."""
        avail = c.admin("GET", "/availability", query={"product_id": self.product}).json["data"][0]["available"]
        if CAPACITY - avail != self.held:
            self.problems.append("pool holds %d seats, carts acknowledged or applied: %d" % (CAPACITY - avail,
                                                                                             self.held))
        for email in self.emails:
            n = len(c.admin("GET", "/orders", query={"email": email}).json["data"])
            if n != 1:
                self.problems.append("%d orders for %s" % (n, email))


def main():
    binary, db, key = sys.argv[1:4]
    kills = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    tally = Tally()
    prepare(binary, db, key)
    proc, url = start(binary, db, key)
    shoppers = [Shopper(Client(url)) for _ in range(CLIENTS)]
    answered = retried = 0
    for _ in range(kills):
        stop = threading.Event()
        counts = [0] * CLIENTS

        def run(i):
            c = Client(url)
            while not stop.is_set():
                try:
                    shoppers[i].step(c)
                    counts[i] += 1
                except Exception:
                    return  # the server died under us: the request stays pending

        threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
        answered += sum(counts)
        proc, url = start(binary, db, key)
        c = Client(url)
        for s in shoppers:
            if s.pending is not None:
                retried += 1
                s.step(c, retry=True)
            s.check(c)
    outcomes = {k: sum(s.retries[k] for s in shoppers) for k in shoppers[0].retries}
    tally.check(answered > kills, "requests were answered between kills (%d answered, %d retried: %s)"
          % (answered, retried, outcomes))
    problems = [p for s in shoppers for p in s.problems]
    tally.check(not problems, "every retry answered 2xx or 409 and nothing exists twice (%s)" % problems[:5])
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    tally.check(proc.returncode == 0, "the last server shuts down cleanly")
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
