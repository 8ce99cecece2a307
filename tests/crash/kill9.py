"""Acknowledged means durable: book orders from several threads, kill -9 the
server in the middle, restart it on the same database, and check that every
order and every redeem that got a 2xx is still there.

usage: kill9.py BOXOFFICE_BIN DB_URI KEY_FILE   (prints "N passed, N failed")"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
from harness import Client  # noqa: E402
import crashkit  # noqa: E402
from crashkit import Tally, prepare, webhook_receiver  # noqa: E402

GUIDE = "d0000000-0000-4000-8000-000000000007"  # undated, unlimited: never sold out


def start(binary, db, key):
    """A server with the test clock (the redelivery moves it past the retry)."""
    return crashkit.start(binary, db, key, "--test-clock")


def webhook_redelivery(binary, db, key, check):
    """A webhook that failed before a kill -9 is sent again, with the same id,
    by the next server process on the same database."""
    got, answer = [], {"status": 500}

    def deliver(body):
        got.append(body)
        return answer["status"]

    rx, hook_url = webhook_receiver(deliver)
    proc, url = start(binary, db, key)
    c = Client(url)
    sub = c.admin("POST", "/webhooks", {"url": hook_url, "events": ["ORDER.CREATED"],
                                        "secret": "restart-secret"}).json
    cart = c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]}).json
    order = c.admin("POST", "/orders", {"cart_id": cart["id"]}).json
    deadline = time.time() + 10
    while not got and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    check(len(got) == 1 and got[0]["payload"]["id"] == "or_" + order["id"], "webhook attempted once, then kill -9")
    answer["status"] = 200
    proc, url = start(binary, db, key)
    c = Client(url)
    # past the 16 s retry, or the 60 s lease if the kill came before the attempt was recorded
    c.admin("POST", "/test/clock", {"advance_seconds": 61})
    deadline = time.time() + 10
    while len(got) < 2 and time.time() < deadline:
        time.sleep(0.05)
    check(len(got) >= 2 and got[1]["id"] == got[0]["id"], "the restarted server redelivers it with the same id")
    # the sender records the result after the receiver has answered: wait for it
    deadline = time.time() + 10
    while True:
        history = c.admin("GET", "/webhooks/%s/deliveries" % sub["id"]).json["data"]
        if (history and history[0]["status"] == "delivered") or time.time() > deadline:
            break
        time.sleep(0.05)
    # the attempt before the kill is recorded unless the kill came first: 1 or 2
    check(history and history[0]["status"] == "delivered" and history[0]["attempts"] in (1, 2),
          "delivery history shows it delivered")
    c.admin("DELETE", "/webhooks/" + sub["id"])
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    rx.shutdown()


def main():
    binary, db, key = sys.argv[1:4]
    tally = Tally()
    check = tally.check
    prepare(binary, db, key)
    proc, url = start(binary, db, key)
    c = Client(url)
    acked_orders = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker():
        cl = Client(url)
        while not stop.is_set():
            try:
                r = cl.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]})
                if r.status != 201:
                    continue
                r = cl.admin("POST", "/orders", {"cart_id": r.json["id"], "payment": {"provider": "cash"}})
                if r.status in (200, 201):
                    with lock:
                        acked_orders.append(r.json["id"])
            except Exception:
                return  # the server died under us: expected

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    check(len(acked_orders) > 20, "orders were acknowledged before the kill (%d)" % len(acked_orders))
    proc, url = start(binary, db, key)
    c = Client(url)
    missing = [o for o in acked_orders if c.admin("GET", "/orders/" + o).status != 200]
    check(not missing, "every acknowledged order survived kill -9 (%d missing)" % len(missing))
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    check(proc.returncode == 0, "restarted server shuts down cleanly")
    webhook_redelivery(binary, db, key, check)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
