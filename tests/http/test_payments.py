"""The payment step (issue 12, docs/PAYMENTS.md): POST /admin/v1/orders/{id}/payments
starts paying an open order; the test provider's page /pay/{id} takes each
outcome through its form (CSRF token) and sends the buyer to the matching
callback URL (303); the fake provider confirms out of band through
/payments/notify/fake; deadlines release the order's seats; a late success
re-holds or refunds. Some tests move the server's test clock forward."""
import http.client
import re
import time
import urllib.parse
import uuid

import pytest

from harness import Client, Skip, admin_error, create_account, expect, unique

GUIDE = "d0000000-0000-4000-8000-000000000007"  # undated, unlimited, 4.50
URLS = {"success": "https://shop.example/ok?cart=7", "failure": "https://shop.example/failed",
        "cancel": "https://shop.example/cancelled", "expired": "https://shop.example/expired#top"}


CSRF_SEEN = {}  # payment id -> the token its open page showed


def raw(c, method, path, body=None, headers=None):
    """One request without following redirects: (status, headers, text)."""
    u = urllib.parse.urlsplit(c.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def post_form(c, path, fields):
    return raw(c, "POST", path, urllib.parse.urlencode(fields),
               {"Content-Type": "application/x-www-form-urlencoded"})


def open_order(c, product=GUIDE, quantity=2):
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": quantity}],
                                            "customer": {"email": unique("pay") + "@example.com"}}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "pay_later": True}), 201)
    assert order["status"] == "open" and {t["status"] for t in order["tickets"]} == {"unpaid"}, order
    return order


def start(c, order, status=201, **body):
    body = dict({"method": "ideal", "fee": 68, "callback_urls": URLS}, **body)
    return expect(c.admin("POST", "/orders/%s/payments" % order["id"], body), status)


def page_path(payment):
    path = urllib.parse.urlsplit(payment["redirect_url"]).path
    assert path == "/pay/" + payment["id"], payment
    return path


def csrf_of(html):
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m, html[:500]
    return m.group(1)


def choose(c, payment, outcome):
    """Opens the page, posts the outcome with its token; the redirect's query."""
    status, _, html = raw(c, "GET", page_path(payment))
    assert status == 200, html[:300]
    CSRF_SEEN[payment["id"]] = csrf_of(html)
    status, headers, _ = post_form(c, page_path(payment), {"csrf": CSRF_SEEN[payment["id"]], "outcome": outcome})
    assert status == 303, (status, headers)
    return headers["location"]


def order_of(c, order):
    return expect(c.admin("GET", "/orders/" + order["id"]), 200)


def advance(c, seconds):
    r = c.admin("POST", "/test/clock", {"advance_seconds": seconds})
    if r.status == 404:
        raise Skip("needs a server started with --test-clock")
    expect(r, 200)


def notify(c, payment, status):
    ref = "fk_" + payment["id"]
    return c.request("POST", "/payments/notify/fake", form={"id": ref, "status": status})


def capped_product(c, capacity):
    pool = expect(c.admin("POST", "/pools", {"name": unique("paypool"), "capacity": capacity, "per": "total"}), 201)
    product = expect(c.admin("POST", "/products", {"name": unique("Paid workshop"), "price": 1500,
                                                  "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)
    return product["id"]


# ---------- starting ----------

def test_start_shows_amount_fee_total_and_deadline(c):
    order = open_order(c)
    before = int(time.time() * 1e6)
    p = start(c, order)
    owed = sum(t["discounted_gross"] + t["booking_fee"] for t in order["tickets"])
    assert p["status"] == "open" and p["provider"] == "test" and p["method"] == "ideal", p
    assert p["amount"] == owed == 900 and p["fee"] == 68 and p["total"] == 968, p
    assert re.fullmatch(r"pay_[0-9a-f]{32}", p["id"]), p["id"]  # 128 random bits
    assert p["due_at"] - before >= 899 * 10**6, p  # 15 minutes by default (the test clock only moves forward)
    assert p["callback_urls"] == URLS and p["reason"] is None, p
    assert order_of(c, order)["test"] is True


def test_start_again_is_idempotent_and_another_method_cancels(c):
    order = open_order(c)
    first = start(c, order)
    again = start(c, order, status=200)
    assert again["id"] == first["id"] and again["due_at"] == first["due_at"], (first, again)
    other = start(c, order, method="bancontact", fee=35)
    assert other["id"] != first["id"] and other["total"] == 935, other
    old = expect(c.admin("GET", "/payments/" + first["id"]), 200)
    assert old["status"] == "cancelled" and old["reason"] == "replaced by another payment", old
    status, _, _ = post_form(c, page_path(first), {"csrf": "x" * 32, "outcome": "paid"})
    assert status == 409 or status == 403, status  # the replaced one is finished
    assert "Pay</button>" not in raw(c, "GET", page_path(first))[2]


def test_start_refusals(c):
    confirmed = expect(c.admin("POST", "/orders", {"cart_id": expect(c.admin("POST", "/carts", {
        "items": [{"product_id": GUIDE, "quantity": 1}]}), 201)["id"], "payment": {"provider": "cash"}}), 201)
    admin_error(c.admin("POST", "/orders/%s/payments" % confirmed["id"],
                        {"method": "ideal", "callback_urls": URLS}), 409, "not_open", "status")
    admin_error(c.admin("POST", "/orders/nope/payments", {"method": "ideal", "callback_urls": URLS}), 404, "not_found")
    admin_error(c.admin("GET", "/payments/pay_" + "0" * 32), 404, "not_found")
    admin_error(c.admin("POST", "/orders", {"cart_id": "x", "pay_later": "yes"}), 400, "invalid_field", "pay_later")
    admin_error(c.admin("POST", "/orders", {"cart_id": "x", "pay_later": True, "payment": {"provider": "cash"}}), 400,
                "invalid_field", "payment")


def test_start_needs_test_mode(c):
    order = open_order(c)
    assert expect(c.admin("PATCH", "/payment_settings", {"test_mode": False}), 200) == {"test_mode": False}
    try:
        admin_error(c.admin("POST", "/orders/%s/payments" % order["id"], {"method": "ideal", "callback_urls": URLS}),
                    403, "test_mode_required", "provider")
    finally:
        assert expect(c.admin("PATCH", "/payment_settings", {"test_mode": True}), 200) == {"test_mode": True}
    assert expect(c.admin("GET", "/payment_settings"), 200) == {"test_mode": True}
    assert expect(c.admin("PATCH", "/payment_settings", {}), 200) == {"test_mode": True}
    admin_error(c.admin("PATCH", "/payment_settings", {"test_mode": "yes"}), 400, "invalid_field", "test_mode")
    admin_error(c.admin("PATCH", "/payment_settings", {"api_key": "x"}), 400, "unknown_field", "api_key")


LONG = "https://shop.example/" + "a" * 2048


@pytest.mark.parametrize("body,code,field", [
    ({"callback_urls": URLS}, "missing_field", "method"),
    ({"method": "", "callback_urls": URLS}, "invalid_field", "method"),
    ({"method": "m" * 65, "callback_urls": URLS}, "invalid_field", "method"),
    ({"method": 7, "callback_urls": URLS}, "invalid_field", "method"),
    ({"method": "ideal"}, "missing_field", "callback_urls"),
    ({"method": "ideal", "callback_urls": "https://x.example"}, "invalid_field", "callback_urls"),
    ({"method": "ideal", "fee": -1, "callback_urls": URLS}, "invalid_field", "fee"),
    ({"method": "ideal", "fee": "0.68", "callback_urls": URLS}, "invalid_field", "fee"),
    ({"method": "ideal", "fee": 1.5, "callback_urls": URLS}, "invalid_field", "fee"),
    ({"method": "ideal", "deadline_seconds": 10, "callback_urls": URLS}, "invalid_field", "deadline_seconds"),
    ({"method": "ideal", "provider": "mollie", "callback_urls": URLS}, "unknown_provider", "provider"),
    ({"method": "ideal", "surprise": 1, "callback_urls": URLS}, "unknown_field", "surprise"),
    ({"method": "ideal", "callback_urls": dict(URLS, success=None)}, "missing_field", "callback_urls.success"),
    ({"method": "ideal", "callback_urls": dict(URLS, extra="https://x.example")}, "unknown_field",
     "callback_urls.extra"),
    ({"method": "ideal", "callback_urls": dict(URLS, failure="/relative")}, "invalid_url", "callback_urls.failure"),
    ({"method": "ideal", "callback_urls": dict(URLS, cancel="javascript:alert(1)")}, "invalid_url",
     "callback_urls.cancel"),
    ({"method": "ideal", "callback_urls": dict(URLS, expired="ftp://x.example/")}, "invalid_url",
     "callback_urls.expired"),
    ({"method": "ideal", "callback_urls": dict(URLS, success="https://x.example/a b")}, "invalid_url",
     "callback_urls.success"),
    ({"method": "ideal", "callback_urls": dict(URLS, success="https://x.example/\"><script>")}, "invalid_url",
     "callback_urls.success"),
    ({"method": "ideal", "callback_urls": dict(URLS, success="https://x.example/\r\nSet-Cookie: a=b")},
     "invalid_url", "callback_urls.success"),
    ({"method": "ideal", "callback_urls": dict(URLS, success="https:///nohost")}, "invalid_url",
     "callback_urls.success"),
    ({"method": "ideal", "callback_urls": dict(URLS, success=LONG)}, "invalid_field", "callback_urls.success"),
])
def test_start_hostile_bodies(c, body, code, field):
    order = open_order(c, quantity=1)
    admin_error(c.admin("POST", "/orders/%s/payments" % order["id"], body), 400, code, field)
    assert order_of(c, order)["status"] == "open"
    admin_error(c.admin("POST", "/orders/%s/payments" % order["id"], raw="{"), 400)


def test_another_account_sees_nothing(c):
    order = open_order(c, quantity=1)
    p = start(c, order)
    token = "adm_" + uuid.uuid4().hex
    create_account("pay-other-" + uuid.uuid4().hex[:8], "Other", "Europe/Paris", "EUR", token)
    admin_error(c.admin("POST", "/orders/%s/payments" % order["id"], {"method": "ideal", "callback_urls": URLS},
                        token=token), 404, "not_found")
    admin_error(c.admin("GET", "/payments/" + p["id"], token=token), 404, "not_found")
    assert expect(c.admin("GET", "/payment_settings", token=token), 200) == {"test_mode": False}
    assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["status"] == "open"


# ---------- the page, each outcome ----------

def test_page_shows_items_fee_total_deadline_and_escapes(c):
    order = open_order(c)
    p = start(c, order, method='<script>alert("x")</script>&')
    status, headers, html = raw(c, "GET", page_path(p))
    assert status == 200 and headers["content-type"].startswith("text/html"), (status, headers)
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer", headers
    assert "Audio guide" in html and "9.00 EUR" in html and "0.68 EUR" in html, html
    assert '<th class="n" id="total">9.68 EUR</th>' in html, html
    assert re.search(r'<time id="due_at">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d</time>', html), html
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html, html
    assert "<form method=\"post\" action=\"/pay/%s\">" % p["id"] in html and "<script" not in html
    for outcome in ("paid", "failed", "cancelled", "expired"):
        assert 'name="outcome" value="%s"' % outcome in html


def test_pay_through_the_page(c):
    order = open_order(c)
    p = start(c, order)
    location = choose(c, p, "paid")
    assert location == "https://shop.example/ok?cart=7&order_id=%s&status=paid" % order["number"], location
    after = order_of(c, order)
    assert after["status"] == "confirmed" and {t["status"] for t in after["tickets"]} == {"valid"}, after
    pays = [x for x in after["payments"] if x["kind"] == "payment"]
    assert len(pays) == 1 and pays[0]["status"] == "paid" and pays[0]["amount"] == 968, pays
    assert pays[0]["provider"] == "test" and pays[0]["method"] == "ideal" and pays[0]["reference"] == p["id"], pays
    assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["status"] == "paid"
    # a finished payment cannot be paid again: no form, and a replayed post is refused
    status, _, html = raw(c, "GET", page_path(p))
    assert status == 200 and "<form" not in html and 'id="status">paid<' in html, html
    status, _, _ = post_form(c, page_path(p), {"csrf": csrf_of_payment(c, p), "outcome": "paid"})
    assert status == 409, status
    assert len([x for x in order_of(c, order)["payments"] if x["kind"] == "payment"]) == 1


def csrf_of_payment(c, p):
    """The token as the open page showed it (kept by choose)."""
    return CSRF_SEEN[p["id"]]


def test_fail_and_cancel_keep_the_hold_for_a_retry(c):
    for outcome, url, status in (("failed", "https://shop.example/failed", "failed"),
                                 ("cancelled", "https://shop.example/cancelled", "cancelled")):
        order = open_order(c)
        p = start(c, order)
        location = choose(c, p, outcome)
        assert location == "%s?order_id=%s&status=%s" % (url, order["number"], status), location
        held = order_of(c, order)
        assert held["status"] == "open" and {t["status"] for t in held["tickets"]} == {"unpaid"}, held
        assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["status"] == status
        retry = start(c, order)  # the same request again: a new session, the old one is finished
        assert retry["id"] != p["id"], retry
        assert choose(c, retry, "paid").endswith("status=paid")
        assert order_of(c, order)["status"] == "confirmed"


def test_explicit_expiry_releases_the_hold(c):
    order = open_order(c)
    p = start(c, order)
    location = choose(c, p, "expired")
    assert location == "https://shop.example/expired?order_id=%s&status=expired#top" % order["number"], location
    after = order_of(c, order)
    assert after["status"] == "cancelled" and after["status_reason"] == "payment_expired", after
    assert {t["status"] for t in after["tickets"]} == {"voided"}, after
    admin_error(c.admin("POST", "/orders/%s/payments" % order["id"], {"method": "ideal", "callback_urls": URLS}),
                409, "not_open", "status")


def test_csrf_and_form_refusals(c):
    order = open_order(c, quantity=1)
    p = start(c, order)
    path = page_path(p)
    status, _, html = raw(c, "GET", path)
    token = csrf_of(html)
    assert post_form(c, path, {"outcome": "paid"})[0] == 403
    assert post_form(c, path, {"csrf": "0" * 32, "outcome": "paid"})[0] == 403
    assert post_form(c, path, {"csrf": token[:-1], "outcome": "paid"})[0] == 403
    assert raw(c, "POST", path, '{"csrf": "%s", "outcome": "paid"}' % token,
               {"Content-Type": "application/json"})[0] == 403
    assert post_form(c, path, {"csrf": token, "outcome": "refund"})[0] == 400
    assert post_form(c, path, {"csrf": token})[0] == 400
    assert order_of(c, order)["status"] == "open"
    assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["status"] == "open"


@pytest.mark.parametrize("path", ["/pay/pay_" + "0" * 32, "/pay/nope", "/pay/%3Cscript%3E", "/pay/" + "a" * 300])
def test_unknown_payment_pages(c, path):
    status, headers, html = raw(c, "GET", path)
    assert status == 404 and "<script" not in html, (status, html[:200])
    assert post_form(c, path, {"csrf": "x", "outcome": "paid"})[0] == 404


def test_page_is_the_test_providers_only(c):
    order = open_order(c, quantity=1)
    p = start(c, order, provider="fake")
    assert p["redirect_url"] == "https://fake-provider.invalid/checkout/fk_" + p["id"], p
    assert raw(c, "GET", "/pay/" + p["id"])[0] == 404


# ---------- the fake provider, out of band ----------

def test_fake_provider_confirms_out_of_band(c):
    order = open_order(c)
    p = start(c, order, provider="fake", method="card", fee=0)
    if notify(c, p, "paid").status == 404 and order_of(c, order)["status"] == "open":
        raise Skip("the fake provider needs a server started with --test-clock")
    after = order_of(c, order)
    assert after["status"] == "confirmed" and {t["status"] for t in after["tickets"]} == {"valid"}, after
    assert after["test"] is False, after  # the fake provider is no test-mode provider
    again = notify(c, p, "paid")
    assert again.status == 200 and again.json["status"] == "paid", again  # idempotent
    assert len([x for x in order_of(c, order)["payments"] if x["kind"] == "payment"]) == 1
    assert notify(c, p, "failed").status == 409


@pytest.mark.parametrize("form,status", [
    ({"id": "fk_pay_" + "0" * 32, "status": "paid"}, 404),
    ({"id": "tr_123", "status": "paid"}, 400),
    ({"id": "fk_x", "status": "refunded"}, 400),
    ({"status": "paid"}, 400),
    ({"id": "fk_<script>", "status": "paid"}, 400),
])
def test_fake_notifications_hostile(c, form, status):
    r = c.request("POST", "/payments/notify/fake", form=form)
    assert r.status == status, r
    assert c.request("POST", "/payments/notify/nope", form=form).status == 404
    assert c.request("POST", "/payments/notify/test", form=form).status in (400, 404)


# ---------- deadlines and late successes ----------

def test_deadline_releases_the_hold_and_the_page_expires(c):
    product = capped_product(c, 2)
    order = open_order(c, product=product, quantity=2)
    p = start(c, order, deadline_seconds=60)
    status, _, html = raw(c, "GET", page_path(p))
    CSRF_SEEN[p["id"]] = csrf_of(html)
    admin_error(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 1}]}), 409, "sold_out")
    advance(c, 61)
    deadline = time.time() + 5
    while order_of(c, order)["status"] == "open" and time.time() < deadline:
        time.sleep(0.2)  # the reaper releases it (every second)
    after = order_of(c, order)
    assert after["status"] == "cancelled" and after["status_reason"] == "payment_expired", after
    assert {t["status"] for t in after["tickets"]} == {"voided"}, after
    assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["status"] == "expired"
    status, _, html = raw(c, "GET", page_path(p))
    assert status == 200 and 'id="status">expired<' in html and "<form" not in html, html
    assert post_form(c, page_path(p), {"csrf": CSRF_SEEN[p["id"]], "outcome": "paid"})[0] == 409
    expect(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 2}]}), 201)


def test_pay_after_the_deadline_on_the_page_expires(c):
    order = open_order(c)
    p = start(c, order, deadline_seconds=60)
    status, _, html = raw(c, "GET", page_path(p))
    advance(c, 61)
    status, headers, _ = post_form(c, page_path(p), {"csrf": csrf_of(html), "outcome": "paid"})
    if status == 303:
        assert headers["location"].endswith("status=expired#top"), headers
    else:  # the reaper got there first: the payment is finished
        assert status in (404, 409), status
    assert order_of(c, order)["status"] == "cancelled"


def test_late_success_re_holds_when_seats_remain(c):
    product = capped_product(c, 3)
    order = open_order(c, product=product, quantity=2)
    p = start(c, order, provider="fake", deadline_seconds=60)
    if notify(c, p, "expired").status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    released = order_of(c, order)
    assert released["status"] == "cancelled" and {t["status"] for t in released["tickets"]} == {"voided"}, released
    r = notify(c, p, "paid")
    assert r.status == 200 and r.json["status"] == "paid", r
    after = order_of(c, order)
    assert after["status"] == "confirmed" and after["status_reason"] is None, after
    assert {t["status"] for t in after["tickets"]} == {"valid"}, after
    # two seats taken again, one left: never oversold
    expect(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 1}]}), 201)
    admin_error(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 1}]}), 409, "sold_out")


def test_late_success_refunds_when_seats_are_gone(c):
    product = capped_product(c, 2)
    order = open_order(c, product=product, quantity=2)
    p = start(c, order, provider="fake", fee=35, deadline_seconds=60)
    if notify(c, p, "expired").status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 1}]}), 201)
    expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    r = notify(c, p, "paid")
    assert r.status == 200 and r.json["status"] == "refunded", r
    session = expect(c.admin("GET", "/payments/" + p["id"]), 200)
    assert session["reason"] == "the seats were sold after the payment deadline", session
    after = order_of(c, order)
    assert after["status"] == "cancelled" and {t["status"] for t in after["tickets"]} == {"voided"}, after
    rows = sorted((x["kind"], x["status"], x["amount"], x["reference"]) for x in after["payments"])
    assert rows == [("payment", "refunded", 3035, p["id"]), ("refund", "refunded", 3035, p["id"])], rows
    assert notify(c, p, "paid").json["status"] == "refunded"  # idempotent: no second refund
    assert len(order_of(c, order)["payments"]) == 2
    # one seat sold, one free: the late payment took none
    expect(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 1}]}), 201)
    admin_error(c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 1}]}), 409, "sold_out")


def test_late_success_on_a_cancelled_order_refunds(c):
    order = open_order(c, quantity=1)
    p = start(c, order, provider="fake")
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "changed plans"}), 200)
    r = notify(c, p, "paid")
    if r.status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["reason"] == "the order was cancelled"


# ---------- webhooks: each transition's outbox rows ----------

def test_transitions_queue_webhooks(c):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    received, lock = [], threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sub = expect(c.admin("POST", "/webhooks", {"url": "http://127.0.0.1:%d/hook" % server.server_address[1],
                                               "events": ["ORDER.UPDATED", "ISSUED_TICKET.UPDATED"]}), 201)

    def wait_for(predicate):
        deadline = time.time() + 8
        while time.time() < deadline:
            with lock:
                if any(predicate(d) for d in received):
                    return
            time.sleep(0.05)
        raise AssertionError("no such webhook; got %r" % [(d["event"], d["payload"].get("status")) for d in received])

    try:
        paid = open_order(c, quantity=1)
        choose(c, start(c, paid), "paid")
        wait_for(lambda d: d["event"] == "ORDER.UPDATED" and d["payload"]["id"] == "or_" + paid["id"]
                 and d["payload"]["status"] == "completed")
        expired = open_order(c, quantity=1)
        choose(c, start(c, expired), "expired")
        wait_for(lambda d: d["event"] == "ORDER.UPDATED" and d["payload"]["id"] == "or_" + expired["id"]
                 and d["payload"]["status"] == "cancelled")
        wait_for(lambda d: d["event"] == "ISSUED_TICKET.UPDATED"
                 and d["payload"].get("order_id") == "or_" + expired["id"])
    finally:
        c.admin("DELETE", "/webhooks/" + sub["id"])
        server.shutdown()
