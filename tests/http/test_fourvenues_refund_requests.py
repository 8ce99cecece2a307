"""Refund requests under a ticket's warranty: the holder posts to /tickets/{e-ticket token}/refund-request until
`warranty.hours` before the event; the seller hears it as the Fourvenues webhook ticket.request_refund (signed,
verified raw and by Node) and refunds through PUT /fourvenues/tickets/{id}/refund
(docs/dialects/fourvenues.md, docs/MODEL.md "Ticket refunds")."""
import datetime
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import time
import urllib.parse

import pytest

from harness import Skip, expect
from fv_channel import HEX24, ISO_MS, fv, fv_data, fv_ticket_id, iso_day, make_event, tag
from test_fourvenues_webhooks import header, listening, node_verify

DAY = 200  # after the demo concert (day 30), which other tests look for on the first page of GET /events


def db_doc(ticket_id, change):
    """Until the Fourvenues checkout (branch fvcheckout) records what a ticket was sold with in its document's
    sale_terms, a test gives a ticket its warranty straight in the database, as that checkout writes it."""
    db = os.environ.get("BOXOFFICE_TEST_DB", "")
    if db.startswith("sqlite:"):
        con = sqlite3.connect(db[len("sqlite:"):], timeout=30)
        try:
            with con:
                doc = json.loads(con.execute("SELECT doc FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0])
                change(doc)
                con.execute("UPDATE tickets SET doc = ? WHERE id = ?", (json.dumps(doc), ticket_id))
        finally:
            con.close()
        return
    if db.startswith("postgres") and shutil.which("psql"):
        def psql(sql):
            run = subprocess.run(["psql", db, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            assert run.returncode == 0, run.stderr.decode()
            return run.stdout.decode()
        doc = json.loads(psql("SELECT doc FROM tickets WHERE id = '%s'" % ticket_id))
        change(doc)
        psql("UPDATE tickets SET doc = $doc$%s$doc$ WHERE id = '%s'" % (json.dumps(doc), ticket_id))
        return
    raise Skip("needs a writable BOXOFFICE_TEST_DB")


def with_warranty(hours, price=120):
    def change(doc):
        # what a checkout records (checkout.c): the price and fees make_event sets, and the warranty
        doc["sale_terms"] = {"price": 1000, "fees": {"organization": 100, "platform": 0}, "supplements": [],
                             "warranty": {"price": price, "hours": hours}}
    return change


def sold(c, start=None, quantity=1):
    """A paid order for an event at `start` (default: day DAY, 20:00 local) and its tickets' e-ticket tokens."""
    start = start or iso_day(DAY)
    ev, product = make_event(c, occurrences=[{"id": "oc_" + tag(), "start": start}])
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": quantity}],
                                             "occurrence_id": ev["occurrences"][0]["id"]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    tokens = [urllib.parse.urlsplit(t["download_url"]).path.split("/")[-1][:-len(".pdf")] for t in order["tickets"]]
    return ev, order, tokens


def ask(c, token, body=None, **kw):
    if body is None and "raw" not in kw:
        return c.request("POST", "/tickets/%s/refund-request" % token, **kw)
    return c.request("POST", "/tickets/%s/refund-request" % token, json_body=body, **kw)


def error(resp, status, code):
    """The downloads' plain error shape: {"error": code, "message": text}."""
    body = expect(resp, status)
    assert set(body) == {"error", "message"} and body["error"] == code and body["message"], body


def test_request_signed_webhook_then_refund(c):
    ev, order, tokens = sold(c)
    t = order["tickets"][0]
    db_doc(t["id"], with_warranty(12))
    with listening(c) as (rx, made):
        first = expect(ask(c, tokens[0], {"reason": "I am ill ☹"}), 201)
        assert first["ticket_id"] == t["id"]  # the holder's route is no channel's: the engine's id
        # until 12 hours before the event's start as the channel shows it
        channel_event = [e for e in fv_data(fv(c, "GET", "/events", query={"start_date": iso_day(DAY - 1)[:10]}))
                         if e["name"] == ev["name"]][0]
        start = datetime.datetime.strptime(channel_event["start_date"], "%Y-%m-%dT%H:%M:%S.%fZ")
        deadline = datetime.datetime.fromisoformat(first["deadline"]).replace(tzinfo=None)
        assert start - deadline == datetime.timedelta(hours=12), (start, deadline)
        again = expect(ask(c, tokens[0]), 200)
        assert again == first  # asked once: the first request stands
        headers, body, doc = rx.wait_for(lambda d: d["event"] == "ticket.request_refund")
        assert list(doc) == ["id", "event", "payload"] and header(headers, "x-webhook-id") == doc["id"]
        signature = header(headers, "x-webhook-signature")
        assert hmac.compare_digest(signature, hmac.new(made["sign_secret"].encode(), body, hashlib.sha256).hexdigest())
        node_verify(made["sign_secret"], signature, body)
        p = doc["payload"]
        assert list(p) == ["ticket_id", "payment_id", "event_id", "ticket_rate_id", "qr_code", "refundable",
                           "requested_at", "reason"]
        assert p["ticket_id"] == fv_ticket_id(t["id"]) and HEX24.match(p["ticket_id"]) and HEX24.match(p["payment_id"]) and HEX24.match(p["event_id"])
        assert p["qr_code"] == t["barcode"] and p["refundable"] == 12.2 and p["reason"] == "I am ill ☹"
        assert ISO_MS.match(p["requested_at"])
        time.sleep(0.5)
        with rx.lock:
            requests = [json.loads(b) for _, b in rx.requests]
        assert len([d for d in requests if d["event"] == "ticket.request_refund"]) == 1
    # the seller refunds through the channel
    assert fv_data(fv(c, "PUT", "/tickets/%s/refund" % p["ticket_id"], json_body={"amount": 11}))["refunded"] == 11
    error(ask(c, tokens[0]), 409, "not_refundable")


def test_no_warranty_and_expired(c):
    ev, order, tokens = sold(c)
    error(ask(c, tokens[0]), 409, "no_warranty")
    # the warranty ends 72 hours before an event two days away: too late
    soon = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ev, order, tokens = sold(c, start=soon)
    db_doc(order["tickets"][0]["id"], with_warranty(72))
    error(ask(c, tokens[0]), 409, "warranty_expired")
    db_doc(order["tickets"][0]["id"], with_warranty(24))
    assert expect(ask(c, tokens[0]), 201)["ticket_id"] == order["tickets"][0]["id"]


@pytest.mark.parametrize("hours", ["12", -1, None, {"x": 1}], ids=["text", "negative", "null", "object"])
def test_malformed_warranty_is_none(c, hours):
    ev, order, tokens = sold(c)
    db_doc(order["tickets"][0]["id"], with_warranty(hours))
    error(ask(c, tokens[0]), 409, "no_warranty")


def test_tickets_not_valid(c):
    ev, order, tokens = sold(c, quantity=2)
    for t in order["tickets"]:
        db_doc(t["id"], with_warranty(12))
    expect(c.admin("POST", "/tickets/%s/void" % order["tickets"][0]["id"]), 200)
    error(ask(c, tokens[0]), 409, "not_refundable")
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "x"}), 200)
    error(ask(c, tokens[1]), 409, "not_refundable")


def test_bad_tokens_and_bodies(c):
    ev, order, tokens = sold(c)
    db_doc(order["tickets"][0]["id"], with_warranty(12))
    error(ask(c, "nope"), 404, "not_found")
    error(ask(c, tokens[0][:-2] + ("AA" if not tokens[0].endswith("AA") else "BB")), 404, "not_found")
    order_token = urllib.parse.urlsplit(order["download_url"]).path.split("/")[-1][:-len(".pdf")]
    error(ask(c, order_token), 404, "not_found")  # an order's token names no ticket
    error(ask(c, "x" * 300), 404, "not_found")
    error(ask(c, tokens[0], raw=b"{", headers={"Content-Type": "application/json"}), 400, "invalid_body")
    error(ask(c, tokens[0], [1]), 400, "invalid_body")
    error(ask(c, tokens[0], {"reason": 5}), 400, "invalid_field")
    error(ask(c, tokens[0], {"why": "x"}), 400, "invalid_field")
    error(ask(c, tokens[0], {"reason": "x" * 501}), 400, "invalid_field")
    assert c.request("GET", "/tickets/%s/refund-request" % tokens[0]).status in (404, 405)
    # nothing was asked by any of those
    assert expect(ask(c, tokens[0]), 201)["ticket_id"] == order["tickets"][0]["id"]
