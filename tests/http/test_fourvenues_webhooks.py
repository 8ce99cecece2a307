"""Fourvenues channels API: webhook endpoints (POST/GET/DELETE /webhooks/endpoints) and the
fourvenues webhook format on the shared outbox: payment.success signed with x-webhook-signature,
checked on the raw body and on JSON.stringify(JSON.parse(body)) by Node (docs/dialects/fourvenues.md)."""
import hashlib
import hmac
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from contextlib import contextmanager

import pytest

from harness import Skip, expect
from fv_channel import HEX24, fv, fv_data, fv_error, fv_ticket_id, second_account
from test_webhooks import Receiver

GUIDE = "d0000000-0000-4000-8000-000000000007"  # undated, unlimited
HERE = os.path.dirname(os.path.abspath(__file__))


def make_endpoint(c, url, name="Mi web", key=None):
    kw = {"key": key} if key else {}
    return fv_data(fv(c, "POST", "/webhooks/endpoints", json_body={"name": name, "url": url}, **kw), 201)


def delete_endpoint(c, endpoint_id, key=None):
    kw = {"key": key} if key else {}
    return fv_data(fv(c, "DELETE", "/webhooks/endpoints/" + endpoint_id, **kw))


def paid_order(c, extras=None):
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 2}]}), 201)
    body = {"cart_id": cart["id"], "payment": {"provider": "cash"}}
    if extras is not None:
        body["extras"] = extras
    return expect(c.admin("POST", "/orders", body), 201)


def stored_secret(endpoint_id):
    """The subscription's stored secret column, read straight from the database."""
    db = os.environ.get("BOXOFFICE_TEST_DB", "")
    if db.startswith("sqlite:"):
        con = sqlite3.connect("file:%s?mode=ro" % db[len("sqlite:"):], uri=True, timeout=30)
        try:
            row = con.execute("SELECT secret_sealed FROM webhook_subscriptions WHERE id = ?",
                              ("ws_" + endpoint_id,)).fetchone()
        finally:
            con.close()
        return row[0]
    if db.startswith("postgres") and shutil.which("psql"):
        run = subprocess.run(["psql", db, "-X", "-A", "-t", "-q", "-c",
                              "SELECT secret_sealed FROM webhook_subscriptions WHERE id = 'ws_%s'" % endpoint_id],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if run.returncode == 0:
            return run.stdout.decode().strip()
    raise Skip("no readable BOXOFFICE_TEST_DB")


def node_verify(secret, signature, body):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        raise Skip("node is not installed")
    run = subprocess.run([node, os.path.join(HERE, "fv_verify.js"), secret, signature], input=body,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert run.returncode == 0, run.stdout.decode() + run.stderr.decode()


@contextmanager
def listening(c):
    """A local receiver and an endpoint sending to it, both gone afterwards."""
    rx = Receiver()
    made = make_endpoint(c, rx.url)
    try:
        yield rx, made
    finally:
        delete_endpoint(c, made["_id"])
        rx.close()


def header(headers, name):
    return next(v for k, v in headers.items() if k.lower() == name)


def test_endpoints_create_list_delete(c):
    made = make_endpoint(c, "http://127.0.0.1:9/fv-hook", name="Mi web ☃")
    assert set(made) == {"_id", "name", "url", "sign_secret"} and HEX24.match(made["_id"])
    assert made["name"] == "Mi web ☃" and made["url"] == "http://127.0.0.1:9/fv-hook"
    assert len(made["sign_secret"]) >= 32
    listed = fv_data(fv(c, "GET", "/webhooks/endpoints"))
    mine = [e for e in listed if e["_id"] == made["_id"]]
    assert mine == [{"_id": made["_id"], "name": "Mi web ☃", "url": "http://127.0.0.1:9/fv-hook"}]
    assert all("sign_secret" not in e for e in listed)
    # stored sealed: the column holds no trace of the secret
    assert made["sign_secret"] not in stored_secret(made["_id"])
    assert delete_endpoint(c, made["_id"]) == {"_id": made["_id"], "deleted": True}
    assert made["_id"] not in [e["_id"] for e in fv_data(fv(c, "GET", "/webhooks/endpoints"))]
    fv_error(fv(c, "DELETE", "/webhooks/endpoints/" + made["_id"]), 404, "not_found", "id")


def test_admin_subscriptions_of_other_formats_are_not_endpoints(c):
    sub = expect(c.admin("POST", "/webhooks", {"url": "http://127.0.0.1:9/tt", "events": ["ORDER.CREATED"]}), 201)
    try:
        assert sub["id"][3:] not in [e["_id"] for e in fv_data(fv(c, "GET", "/webhooks/endpoints"))]
        fv_error(fv(c, "DELETE", "/webhooks/endpoints/" + sub["id"][3:]), 404, "not_found", "id")
        fv_error(fv(c, "DELETE", "/webhooks/endpoints/" + sub["id"]), 404, "not_found", "id")
    finally:
        expect(c.admin("DELETE", "/webhooks/" + sub["id"]), 204)
    # an /admin/v1 subscription may name the format, and then is one
    fv_sub = expect(c.admin("POST", "/webhooks", {"url": "http://127.0.0.1:9/fv", "format": "fourvenues",
                                                  "events": ["ORDER.PAID"]}), 201)
    try:
        assert fv_sub["id"][3:] in [e["_id"] for e in fv_data(fv(c, "GET", "/webhooks/endpoints"))]
    finally:
        expect(c.admin("DELETE", "/webhooks/" + fv_sub["id"]), 204)


@pytest.mark.parametrize("body,code,field", [
    ({"url": "http://127.0.0.1:9/x"}, "invalid_field", "name"),
    ({"name": "", "url": "http://127.0.0.1:9/x"}, "invalid_field", "name"),
    ({"name": "x" * 101, "url": "http://127.0.0.1:9/x"}, "invalid_field", "name"),
    ({"name": 5, "url": "http://127.0.0.1:9/x"}, "invalid_field", "name"),
    ({"name": "n"}, "invalid_field", "url"),
    ({"name": "n", "url": 7}, "invalid_field", "url"),
    ({"name": "n", "url": "ftp://example.com/x"}, "invalid_url", "url"),
    ({"name": "n", "url": "/relative"}, "invalid_url", "url"),
    ({"name": "n", "url": "http://10.0.0.1/x"}, "invalid_url", "url"),
    ({"name": "n", "url": "http://169.254.169.254/latest"}, "invalid_url", "url"),
    ({"name": "n", "url": "http://127.0.0.1:9/x", "events": ["*"]}, "invalid_field", "events"),
], ids=["no_name", "empty_name", "long_name", "number_name", "no_url", "number_url", "ftp", "relative",
        "private", "metadata", "unknown_field"])
def test_endpoint_validation(c, body, code, field):
    before = fv_data(fv(c, "GET", "/webhooks/endpoints"))
    fv_error(fv(c, "POST", "/webhooks/endpoints", json_body=body), 400, code, field)
    assert fv_data(fv(c, "GET", "/webhooks/endpoints")) == before


def test_endpoint_body_must_be_a_json_object(c):
    fv_error(fv(c, "POST", "/webhooks/endpoints", raw="[1]"), 400, "invalid_body")
    fv_error(fv(c, "POST", "/webhooks/endpoints", raw="{bad"), 400, "invalid_body")
    # a NUL in a text is refused with the body, as jansson reads it
    fv_error(fv(c, "POST", "/webhooks/endpoints", raw='{"name": "a\\u0000b", "url": "http://127.0.0.1:9/x"}'), 400,
             "invalid_body")
    fv_error(fv(c, "POST", "/webhooks/endpoints", raw="name=x", headers={"Content-Type": "text/plain"}), 400,
             "invalid_body")
    fv_error(fv(c, "DELETE", "/webhooks/endpoints/nothex"), 404, "not_found", "id")
    fv_error(fv(c, "DELETE", "/webhooks/endpoints/" + "0" * 24), 404, "not_found", "id")


def test_another_accounts_endpoints(c):
    token, key = second_account(c)
    theirs = make_endpoint(c, "http://127.0.0.1:9/b", key=key)
    assert theirs["_id"] not in [e["_id"] for e in fv_data(fv(c, "GET", "/webhooks/endpoints"))]
    fv_error(fv(c, "DELETE", "/webhooks/endpoints/" + theirs["_id"]), 404, "not_found", "id")
    assert [e["_id"] for e in fv_data(fv(c, "GET", "/webhooks/endpoints", key=key))] == [theirs["_id"]]
    assert delete_endpoint(c, theirs["_id"], key=key)["deleted"] is True


def test_payment_success_signed_and_verified_by_node(c):
    with listening(c) as (rx, made):
        # text JavaScript escapes differently from most JSON writers: control characters, U+2028, non-ASCII
        metadata = {"key": "value", "nota": "café ☃ \u2028 tab\there \u0001 \"quoted\" /slash", "n": 1.1,
                    "big": 1e21, "small": 0.000001, "tiny": 1e-7, "list": [16.1, 10, -0.5]}
        order = paid_order(c, {"metadata": metadata, "send_resources": True})
        headers, body, doc = rx.wait_for(lambda d: d["event"] == "payment.success")
        assert set(doc) == {"id", "event", "payload"} and list(doc) == ["id", "event", "payload"]
        assert header(headers, "x-webhook-id") == doc["id"]
        signature = header(headers, "x-webhook-signature")
        expected = hmac.new(made["sign_secret"].encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, expected) and signature == signature.lower()
        node_verify(made["sign_secret"], signature, body)
        p = doc["payload"]
        assert list(p) == ["payment_id", "resource_type", "resource_ids", "metadata", "send_resources"]
        assert HEX24.match(p["payment_id"]) and p["resource_type"] == "ticket" and p["send_resources"] is True
        # the tickets' 24-hex ids, never the engine's UUIDs
        assert p["resource_ids"] == [fv_ticket_id(t["id"]) for t in order["tickets"]]
        assert all(HEX24.match(i) for i in p["resource_ids"])
        assert p["metadata"] == metadata
        assert b"\\u2028" not in body and "☃".encode() in body and b"\\u0001" in body
        assert b"1e+21" in body and b"0.000001" in body and b"1e-7" in body



def test_only_paid_orders_and_defaults(c):
    with listening(c) as (rx, made):
        cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]}), 201)
        unpaid = expect(c.admin("POST", "/orders", {"cart_id": cart["id"]}), 201)
        order = paid_order(c)
        headers, body, doc = rx.wait_for(lambda d: d["payload"]["resource_ids"] ==
                                         [fv_ticket_id(t["id"]) for t in order["tickets"]])
        assert doc["payload"]["metadata"] == {} and doc["payload"]["send_resources"] is False
        node_verify(made["sign_secret"], header(headers, "x-webhook-signature"), body)
        time.sleep(0.5)
        with rx.lock:
            docs = [json.loads(b) for _, b in rx.requests]
        assert all(d["event"] == "payment.success" for d in docs)
        # booked without a payment: confirmed, but nothing was paid, so no payment.success
        unpaid_ids = [fv_ticket_id(t["id"]) for t in unpaid["tickets"]]
        assert not [d for d in docs if d["payload"]["resource_ids"] == unpaid_ids]



def test_retried_with_the_same_id(c):
    with listening(c) as (rx, made):
        rx.statuses = [500]
        order = paid_order(c)
        ids = [fv_ticket_id(t["id"]) for t in order["tickets"]]
        rx.wait_for(lambda d: d["payload"]["resource_ids"] == ids)
        time.sleep(0.3)
        expect(c.admin("POST", "/test/clock", {"advance_seconds": 17}), 200)
        deadline = time.time() + 8
        seen = []
        while time.time() < deadline:
            with rx.lock:
                seen = [(h, b) for h, b in rx.requests if json.loads(b)["payload"]["resource_ids"] == ids]
            if len(seen) >= 2:
                break
            time.sleep(0.05)
        assert len(seen) == 2, len(seen)
        assert len({json.loads(b)["id"] for _, b in seen}) == 1  # one payment, one webhook id
        assert seen[0][1] == seen[1][1]  # the same bytes, so the same signature
        assert header(seen[0][0], "x-webhook-signature") == header(seen[1][0], "x-webhook-signature")
        node_verify(made["sign_secret"], header(seen[1][0], "x-webhook-signature"), seen[1][1])


def test_payment_success_redelivered_once_after_a_kill_and_restart(c):
    """A payment.success queued by a server whose receiver is down, the server killed (SIGKILL) and started again
    on the same database: delivered after the restart, exactly once, with the id recorded before the kill and a
    valid x-webhook-signature (the outbox is the database's: docs/WEBHOOKS.md)."""
    import harness
    binary, db, key = (os.environ.get(k) for k in ("BOXOFFICE_BIN", "BOXOFFICE_TEST_DB", "BOXOFFICE_KEY_FILE"))
    if not (binary and db and key):
        raise Skip("needs BOXOFFICE_BIN, BOXOFFICE_TEST_DB and BOXOFFICE_KEY_FILE for a second server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    # the receiver is down: its port is bound but not listening, so every connection is refused
    down = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    down.bind(("127.0.0.1", 0))
    port = down.getsockname()[1]
    made = make_endpoint(c, "http://127.0.0.1:%d/hook" % port)
    sub_id = "ws_" + made["_id"]
    # every process keeps the suite server's time (earlier tests may have moved its test clock)
    offset = expect(c.admin("POST", "/test/clock", {"advance_seconds": 0}), 200)["offset_seconds"]
    servers, rx = [], None

    def start_server():
        proc, url = harness.serve(binary, db, "--key-file", key, "--webhook-allow", "127.0.0.1", "--test-clock",
                                  env=env)
        servers.append(proc)
        client = harness.Client(url)
        expect(client.admin("POST", "/test/clock", {"advance_seconds": offset}), 200)
        return proc, client

    def paid_deliveries():
        history = expect(c.admin("GET", "/webhooks/%s/deliveries" % sub_id), 200)["data"]
        return [h for h in history if h["event"] == "ORDER.PAID"]

    try:
        proc, first = start_server()
        order = paid_order(first, {"metadata": {"restart": "kill -9"}})
        tickets = [fv_ticket_id(t["id"]) for t in order["tickets"]]
        for _ in range(100):  # the first attempt fails while the receiver is down
            queued = paid_deliveries()
            if queued and queued[0]["attempts"] >= 1:
                break
            time.sleep(0.1)
        assert len(queued) == 1 and queued[0]["status"] == "pending" and queued[0]["attempts"] >= 1, queued
        assert queued[0]["last_status_code"] is None and queued[0]["last_error"], queued
        event_id = queued[0]["id"]
        proc.kill()  # SIGKILL: no clean shutdown
        proc.wait()
        proc, again = start_server()  # the restart, on the same database
        down.close()
        rx = Receiver(port=port)  # the receiver comes back
        # past the retry's wait (16 s) and any lease the killed process held (60 s), on both clocks
        for client in (c, again):
            expect(client.admin("POST", "/test/clock", {"advance_seconds": 120}), 200)
        headers, body, doc = rx.wait_for(lambda d: d["event"] == "payment.success", timeout=20)
        assert doc["id"] == event_id and header(headers, "x-webhook-id") == event_id
        signature = header(headers, "x-webhook-signature")
        assert hmac.compare_digest(signature, hmac.new(made["sign_secret"].encode(), body, hashlib.sha256).hexdigest())
        node_verify(made["sign_secret"], signature, body)
        assert doc["payload"]["resource_ids"] == tickets and all(HEX24.match(i) for i in tickets)
        assert doc["payload"]["metadata"] == {"restart": "kill -9"}
        # nothing more: later passes of both processes find it delivered
        for client in (c, again):
            expect(client.admin("POST", "/test/clock", {"advance_seconds": 600}), 200)
        time.sleep(6)  # a worker reads what another process did at least every 5 s
        with rx.lock:
            sent = [json.loads(b) for _, b in rx.requests]
        assert [d["id"] for d in sent] == [event_id], sent
        delivered = paid_deliveries()
        assert len(delivered) == 1 and delivered[0]["status"] == "delivered", delivered
    finally:
        for proc in servers:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
        down.close()
        delete_endpoint(c, made["_id"])
        if rx:
            rx.close()
