"""Several nodes: three server processes on one PostgreSQL database. A flash
sale spread over them sells exactly the capacity; concurrent redeems of the
same barcodes at different nodes succeed exactly once each; one API key's
rate limit is one count across them; every webhook event is delivered exactly
once although three delivery workers share the outbox.

usage: nodes.py BOXOFFICE_BIN DB_URI KEY_FILE   (prints "N passed, N failed")"""
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
from harness import Client  # noqa: E402
from crashkit import Tally, prepare, start, webhook_receiver  # noqa: E402

NODES = 3
CAPACITY = 60
RATE_LIMIT = 30
SCAN = "/api/v2/accounts/demo/barcode/scan/"


def run_threads(target, count):
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def flash_sale(clients, check):
    c = clients[0]
    pool = c.admin("POST", "/pools", {"name": "nodes-" + uuid.uuid4().hex[:8], "capacity": CAPACITY,
                                      "per": "total"}).json
    product = c.admin("POST", "/products", {"name": "Nodes sale", "price": 900,
                                            "pools": [{"pool_id": pool["id"], "amount": 1}]}).json
    time.sleep(0.3)  # every node sees the new catalog version within 100 ms
    sold, errors, lock = [], [], threading.Lock()

    def buyer(n):
        cl = Client(clients[n % NODES].base)
        for i in range(12):
            q = 1 + (n + i) % 2
            r = cl.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": q}]})
            if r.status != 201:
                if r.status != 409:
                    with lock:
                        errors.append(r.status)
                continue
            r = cl.admin("POST", "/orders", {"cart_id": r.json["id"], "payment": {"provider": "cash"}})
            with lock:
                if r.status == 201:
                    sold.append(q)
                else:
                    errors.append(r.status)

    run_threads(buyer, 4 * NODES)
    check(not errors, "flash sale over %d nodes: only 201 and 409 (%s)" % (NODES, errors[:5]))
    check(sum(sold) == CAPACITY, "exactly the capacity was sold: %d of %d" % (sum(sold), CAPACITY))
    for n, cl in enumerate(clients):
        r = cl.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}]})
        check(r.status == 409, "node %d sees the pool sold out (%d)" % (n + 1, r.status))


def same_barcodes(clients, check):
    product = clients[0].admin("POST", "/products", {"name": "Single entry", "price": 500,
                                                     "scan": {"limit": "once"}}).json
    time.sleep(0.3)
    tickets = []
    for _ in range(5):
        cart = clients[0].admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 4}]}).json
        order = clients[0].admin("POST", "/orders", {"cart_id": cart["id"]}).json
        tickets += [t["barcode"] for t in order["tickets"]]
    wins = {b: 0 for b in tickets}
    other, lock = [], threading.Lock()
    for barcode in tickets:
        gate = threading.Barrier(NODES)

        def scan(n, barcode=barcode, gate=gate):
            cl = Client(clients[n].base)
            cl._cv_token = clients[n]._cv_token
            gate.wait()
            r = cl.convious("POST", SCAN, {"barcode": barcode})
            with lock:
                if r.status == 200 and r.json["status"] == "success":
                    wins[barcode] += 1
                elif not (r.status == 200 and r.json["errorCode"] == "already_redeemed"):
                    other.append((r.status, r.raw[:200]))

        run_threads(scan, NODES)
    check(all(w == 1 for w in wins.values()),
          "each of %d barcodes, scanned at %d gates at once, redeemed exactly once (%s)"
          % (len(tickets), NODES, sorted(set(wins.values()))))
    check(not other, "the other gates answer already_redeemed (%s)" % other[:3])


def rate_limit(clients, check):
    api_key = "sk_nodes_" + uuid.uuid4().hex
    clients[0].admin("POST", "/credentials", {"kind": "api_key", "secret": api_key})
    statuses = [clients[i % NODES].tickettailor("GET", "/v1/ping", key=api_key).status for i in range(RATE_LIMIT)]
    check(statuses == [200] * RATE_LIMIT, "%d requests spread over %d nodes are within the limit" % (RATE_LIMIT, NODES))
    over = [cl.tickettailor("GET", "/v1/ping", key=api_key).status for cl in clients]
    check(over == [429] * NODES, "then every node answers 429: one count across nodes (%s)" % over)


def webhooks(clients, check):
    got, lock = [], threading.Lock()

    def deliver(body):
        with lock:
            got.append((body["id"], body["payload"]["id"]))
        return 200

    rx, hook_url = webhook_receiver(deliver)
    sub = clients[0].admin("POST", "/webhooks", {"url": hook_url, "events": ["ORDER.CREATED"]}).json
    time.sleep(0.3)
    booked = []
    for i in range(30):
        cl = clients[i % NODES]
        cart = cl.admin("POST", "/carts", {"items": [{"product_id": "d0000000-0000-4000-8000-000000000007",
                                                       "quantity": 1}]}).json
        booked.append("or_" + cl.admin("POST", "/orders", {"cart_id": cart["id"]}).json["id"])
    deadline = time.time() + 20
    while time.time() < deadline:
        with lock:
            if set(booked) <= {p for _, p in got}:
                break
        time.sleep(0.1)
    time.sleep(1.0)  # a duplicate would arrive by now
    with lock:
        seen = list(got)
    check(set(booked) <= {p for _, p in seen}, "every order booked at any node was delivered (%d of %d)"
          % (len(set(booked) & {p for _, p in seen}), len(booked)))
    ids = [i for i, _ in seen]
    check(len(ids) == len(set(ids)), "no event was delivered twice by the %d workers (%d deliveries, %d events)"
          % (NODES, len(ids), len(set(ids))))
    clients[0].admin("DELETE", "/webhooks/" + sub["id"])
    rx.shutdown()


def main():
    binary, db, key = sys.argv[1:4]
    tally = Tally()
    check = tally.check
    prepare(binary, db, key)
    nodes = [start(binary, db, key, "--rate-limit", str(RATE_LIMIT)) for _ in range(NODES)]
    try:
        clients = [Client(url) for _, url in nodes]
        for cl in clients:
            cl._cv_token = cl.convious_token()
        for part in (flash_sale, same_barcodes, rate_limit, webhooks):
            try:
                part(clients, check)
            except Exception as e:  # a crash of one part is a failure, not the end of the run
                check(False, "%s raised %r" % (part.__name__, e))
    finally:
        for proc, _ in nodes:
            proc.terminate()
        for proc, _ in nodes:
            proc.wait(timeout=30)
    check(all(proc.returncode == 0 for proc, _ in nodes), "the %d nodes shut down cleanly" % NODES)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
