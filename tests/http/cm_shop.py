"""Helpers of the CM.com shop tests (tests/http/test_cm_*.py): requests with the
product token, the error shape, and catalog objects made for one test."""
import datetime
import json
import uuid

from harness import ADMIN_TOKEN, CM_PRODUCT_TOKEN, create_account, expect
from test_admin_meta import raw_post

SHOP = "/cm/ticketingapi/v2.0/ticketshop"
CONCERT = "d0000000-0000-4000-8000-000000000008"
STANDARD = "d0000000-0000-4000-8000-00000000000a"
VIP = "d0000000-0000-4000-8000-00000000000b"


def cm(c, method, path, token=CM_PRODUCT_TOKEN, **kw):
    h = kw.pop("headers", {})
    h.setdefault("accept", "application/json")
    if token is not None:
        h["X-CM-PRODUCTTOKEN"] = token
    return c.request(method, SHOP + path, headers=h, **kw)


def cm_error(resp, status, code, field=None):
    """Checks the shop's error shape: {message, code, errors: [{field, message}]}."""
    body = expect(resp, status)
    assert set(body) == {"message", "code", "errors"}, body
    assert body["code"] == code, "expected %s, got %r" % (code, resp)
    assert isinstance(body["message"], str) and body["message"]
    if field is None:
        assert body["errors"] == [], body
    else:
        assert [e["field"] for e in body["errors"]] == [field], body
        assert all(set(e) == {"field", "message"} for e in body["errors"]), body
    return body


def iso_day(days, hour=20):
    d = datetime.date.today() + datetime.timedelta(days=days)
    return "%sT%02d:00:00" % (d.isoformat(), hour)


def tag():
    return uuid.uuid4().hex[:10]


def make_event(c, capacity=10, price=1000, fee=100, token=ADMIN_TOKEN, days=20, **event):
    """An event with one occurrence and one ticket type on its own pool; returns (event, product, occurrence)."""
    t = tag()
    occ = "oc_" + t
    doc = dict({"name": "Shop test " + t, "status": "published",
                "occurrences": [{"id": occ, "start": iso_day(days), "end": iso_day(days, 23)}]}, **event)
    ev = expect(c.admin("POST", "/events", doc, token=token), 201)
    pool = expect(c.admin("POST", "/pools", {"capacity": capacity}, token=token), 201)
    product = expect(c.admin("POST", "/products", {
        "name": {"en": "Regular " + t, "nl": "Regulier " + t}, "event_id": ev["id"], "price": price,
        "booking_fee": fee, "pools": [{"pool_id": pool["id"], "amount": 1}], "max_per_order": 10}, token=token), 201)
    return ev, product, occ


def second_account(c):
    """Another account's admin token and product token (Skip without the environment)."""
    token = "adm_" + uuid.uuid4().hex
    create_account("cm-b-" + tag(), "CM tenant B", "Europe/Amsterdam", "EUR", token)
    product_token = expect(c.admin("POST", "/credentials", {"kind": "product_token"}, token=token), 201)["secret"]
    return token, product_token


def cm_raw_post(path, body):
    """POSTs body over a socket, as a client that sends all of it whatever the server says; returns
    (status, JSON body or None)."""
    reply = raw_post(SHOP + path, body, headers=(("X-CM-PRODUCTTOKEN", CM_PRODUCT_TOKEN),))
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    payload = reply.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in reply else b""
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, None
