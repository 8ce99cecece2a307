"""Several server processes sharing one database never oversell.

scripts/check.sh starts a second server on the same PostgreSQL database and
sets BOXOFFICE_URL2; without it (SQLite run) the test has nothing to prove.
Threads hammer both servers with box-office holds on one small pool; the
database is the only arbiter, so the total held must equal capacity exactly."""
import os
import threading
import uuid

from harness import Skip, Client, expect

CAPACITY = 40


def test_two_servers_share_capacity(c):
    url2 = os.environ.get("BOXOFFICE_URL2")
    if not url2:
        raise Skip("single server run (BOXOFFICE_URL2 unset)")
    pool = expect(c.admin("POST", "/pools", {"name": "mp-" + uuid.uuid4().hex[:8], "capacity": CAPACITY,
                                             "per": "total"}), 201)
    product = expect(c.admin("POST", "/products", {"name": "Multi", "price": 100,
                                                  "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)
    clients = [Client(), Client(url2)]
    held = []
    lock = threading.Lock()

    def worker(n):
        cl = clients[n % 2]
        for i in range(15):
            q = 1 + (n + i) % 3
            # a long hold: earlier tests moved the first server's test clock, not the
            # second's, and a skewed reaper must not release these holds mid-test
            r = cl.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": q}],
                                            "hold_seconds": 86400})
            if r.status == 201:
                with lock:
                    held.append(q)
            else:
                assert r.status == 409, r

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(held) <= CAPACITY, "oversold: %d > %d" % (sum(held), CAPACITY)
    assert sum(held) >= CAPACITY - 2, "left seats unsold under pressure: %d" % sum(held)
    # the second server sees the first's catalog and the same remaining count
    r = clients[1].admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 3}],
                                            "hold_seconds": 86400})
    assert r.status == 409, r
