"""Per-account payment provider settings, the reconciler and cancelling with
the order (docs/PAYMENTS.md): GET/PUT/DELETE /admin/v1/payment_providers/{provider}
keep an API key and a webhook signing secret sealed at rest, show only whether
each is set and its last four characters, and are the account's alone; the
fake provider signs its notifications with the account's webhook secret; a
payment the provider settled without notifying us is found by the reconciler
(the fake provider's test hook POST /payments/fake/settle); cancelling an order
cancels its open payment session. Each test runs in an account of its own, so
the demo account's fake notifications stay unsigned."""
import hashlib
import hmac
import time
import uuid

import pytest

from harness import Client, Skip, admin_error, create_account, expect, unique
from test_payments import URLS
from test_mail import db_rows


class Account:
    def __init__(self, c):
        self.token = "adm_" + uuid.uuid4().hex
        create_account("payprov-" + uuid.uuid4().hex[:8], "Providers", "Europe/Amsterdam", "EUR", self.token)
        self.c = c

    def admin(self, method, path, body=None, **kw):
        return self.c.admin(method, path, body, token=self.token, **kw)

    def product(self, capacity=10, price=1500):
        pool = expect(self.admin("POST", "/pools", {"name": unique("pp"), "capacity": capacity, "per": "total"}), 201)
        return expect(self.admin("POST", "/products", {"name": unique("Workshop"), "price": price,
                                                       "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)["id"]

    def open_order(self, product, quantity=1):
        cart = expect(self.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": quantity}]}), 201)
        return expect(self.admin("POST", "/orders", {"cart_id": cart["id"], "pay_later": True}), 201)

    def start_fake(self, order, status=201, **body):
        r = self.admin("POST", "/orders/%s/payments" % order["id"],
                       dict({"provider": "fake", "method": "card", "callback_urls": URLS}, **body))
        if r.status == 400 and r.json["error"]["code"] == "unknown_provider":
            raise Skip("the fake provider needs a server started with --test-clock")
        return expect(r, status)

    def order(self, order):
        return expect(self.admin("GET", "/orders/" + order["id"]), 200)

    def payment(self, p):
        return expect(self.admin("GET", "/payments/" + p["id"]), 200)


@pytest.fixture(scope="module")
def acct():
    return Account(Client())


def settings_path(provider="fake"):
    return "/payment_providers/" + provider


def signed_notify(c, p, status, secret):
    body = "id=fk_%s&status=%s" % (p["id"], status)
    sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest() if secret else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sig:
        headers["X-Signature"] = sig
    return c.request("POST", "/payments/notify/fake", raw=body.encode(), headers=headers)


def advance(c, seconds):
    expect(c.admin("POST", "/test/clock", {"advance_seconds": seconds}), 200)


def wait_for(fn, seconds=8):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    return fn()


# ---------- settings ----------

def test_settings_are_sealed_never_echoed_and_replaceable(c, acct):
    a = acct.admin("GET", settings_path())
    if a.status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    assert expect(a, 200) == {"provider": "fake", "configured": False,
                              "api_key": {"configured": False, "last4": None},
                              "webhook_secret": {"configured": False, "last4": None}}
    key, secret = "sk_test_" + uuid.uuid4().hex, "whsec_" + uuid.uuid4().hex
    got = expect(acct.admin("PUT", settings_path(), {"api_key": key, "webhook_secret": secret}), 200)
    assert got == {"provider": "fake", "configured": True, "api_key": {"configured": True, "last4": key[-4:]},
                   "webhook_secret": {"configured": True, "last4": secret[-4:]}}, got
    assert key not in str(got) and secret not in str(got)
    assert expect(acct.admin("GET", settings_path()), 200) == got
    # the rows hold no plaintext, only the sealed form
    rows = db_rows("SELECT name, sealed FROM account_secrets WHERE name LIKE 'payment:fake:%'")
    mine = [r for r in rows if r[0] in ("payment:fake:api_key", "payment:fake:webhook_secret")]
    assert len(mine) >= 2, rows
    for _, sealed in rows:
        assert key not in sealed and secret not in sealed and key[8:] not in sealed, sealed
    # PUT replaces: without webhook_secret there is none any more
    replaced = expect(acct.admin("PUT", settings_path(), {"api_key": key + "X"}), 200)
    assert replaced["api_key"]["last4"] == key[-3:] + "X" and replaced["webhook_secret"] == {
        "configured": False, "last4": None}, replaced
    assert expect(acct.admin("DELETE", settings_path()), 204) is None or True
    assert expect(acct.admin("GET", settings_path()), 200)["configured"] is False
    expect(acct.admin("DELETE", settings_path()), 204)  # deleting nothing is no error


@pytest.mark.parametrize("body,code,field", [
    ({}, "missing_field", "api_key"),
    ({"api_key": "short"}, "invalid_field", "api_key"),
    ({"api_key": 12345678}, "invalid_field", "api_key"),
    ({"api_key": "k" * 513}, "invalid_field", "api_key"),
    ({"api_key": "has a space inside"}, "invalid_field", "api_key"),
    ({"api_key": "ctrl\u0001chars-here"}, "invalid_field", "api_key"),
    ({"api_key": "sk_test_12345678", "webhook_secret": "tiny"}, "invalid_field", "webhook_secret"),
    ({"api_key": "sk_test_12345678", "webhook_secret": "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"},
     "invalid_field", "webhook_secret"),
    ({"api_key": "sk_test_12345678", "surprise": 1}, "unknown_field", "surprise"),
])
def test_settings_validation(c, acct, body, code, field):
    if acct.admin("GET", settings_path()).status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    admin_error(acct.admin("PUT", settings_path(), body), 400, code, field)
    assert expect(acct.admin("GET", settings_path()), 200)["configured"] is False


def test_settings_refusals(c, acct):
    for provider in ("mollie", "nope", "%3Cscript%3E"):
        admin_error(acct.admin("GET", settings_path(provider)), 404, "not_found")
        admin_error(acct.admin("PUT", settings_path(provider), {"api_key": "sk_test_12345678"}), 404, "not_found")
        admin_error(acct.admin("DELETE", settings_path(provider)), 404, "not_found")
    admin_error(acct.admin("PUT", settings_path("test"), raw="{"), 400)
    assert c.request("GET", "/admin/v1" + settings_path("test")).status == 401
    # the test provider uses no credentials, but has the same settings
    expect(acct.admin("GET", settings_path("test")), 200)


def configure_fresh(account):
    """Sets a new API key and webhook secret for the fake provider; the secret."""
    if account.admin("GET", settings_path()).status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    secret = "whsec_" + uuid.uuid4().hex
    expect(account.admin("PUT", settings_path(), {"api_key": "sk_test_" + uuid.uuid4().hex,
                                                  "webhook_secret": secret}), 200)
    return secret


def test_another_account_cannot_read_or_use_them(c, acct):
    secret = configure_fresh(acct)
    try:
        other = Account(c)
        assert expect(other.admin("GET", settings_path()), 200)["configured"] is False
        # the other account's fake payments are not bound to this account's secret ...
        op = other.start_fake(other.open_order(other.product()))
        assert signed_notify(c, op, "paid", None).status == 200
        # ... and this account's secret does not sign for it once it has its own
        other_secret = configure_fresh(other)
        op2 = other.start_fake(other.open_order(other.product()))
        r = signed_notify(c, op2, "paid", secret)
        assert r.status == 401 and r.json["error"]["code"] == "invalid_signature", r
        assert other.order({"id": op2["order_id"]})["status"] == "open"
        assert signed_notify(c, op2, "paid", other_secret).status == 200
        # deleting the other's settings leaves this account's in place
        expect(other.admin("DELETE", settings_path()), 204)
        assert expect(acct.admin("GET", settings_path()), 200)["webhook_secret"]["last4"] == secret[-4:]
    finally:
        expect(acct.admin("DELETE", settings_path()), 204)


def test_signed_notifications_with_a_webhook_secret(c, acct):
    secret = configure_fresh(acct)
    try:
        order = acct.open_order(acct.product())
        p = acct.start_fake(order)
        for bad in (None, "wrong-secret-value", secret.upper()):
            r = signed_notify(c, p, "paid", bad)
            assert r.status == 401 and r.json["error"]["code"] == "invalid_signature", (bad, r)
        r = c.request("POST", "/payments/notify/fake", raw=("id=fk_%s&status=paid" % p["id"]).encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded", "X-Signature": "0" * 64})
        assert r.status == 401, r
        assert acct.order(order)["status"] == "open"
        r = signed_notify(c, p, "paid", secret)
        assert r.status == 200 and r.json["status"] == "paid", r
        assert acct.order(order)["status"] == "confirmed"
    finally:
        expect(acct.admin("DELETE", settings_path()), 204)
    # without a secret the fake provider is unauthenticated again (test servers only)
    p2 = acct.start_fake(acct.open_order(acct.product()))
    assert signed_notify(c, p2, "paid", None).status == 200


# ---------- the reconciler ----------

def settle(c, p, status):
    return c.request("POST", "/payments/fake/settle", form={"id": "fk_" + p["id"], "status": status})


def test_reconciler_completes_a_payment_confirmed_without_notification(c, acct):
    order = acct.open_order(acct.product(capacity=2), quantity=2)
    p = acct.start_fake(order)
    r = settle(c, p, "paid")
    assert r.status == 204, r
    # nothing was told to the engine: the order waits for the reconciler
    assert acct.order(order)["status"] == "open" and acct.payment(p)["status"] == "open"
    advance(c, 11)  # past PAYMENT_RECONCILE_EVERY_SECONDS since the session was made
    after = wait_for(lambda: (lambda o: o if o["status"] == "confirmed" else None)(acct.order(order)))
    assert after and {t["status"] for t in after["tickets"]} == {"valid"}, acct.order(order)
    assert acct.payment(p)["status"] == "paid"
    paid = [x for x in after["payments"] if x["kind"] == "payment"]
    assert len(paid) == 1 and paid[0]["reference"] == p["id"], after["payments"]
    # a notification arriving afterwards changes nothing
    assert signed_notify(c, p, "paid", None).json["status"] == "paid"
    assert len([x for x in acct.order(order)["payments"] if x["kind"] == "payment"]) == 1


def test_reconciler_applies_failure_and_expiry(c, acct):
    product = acct.product(capacity=2)
    failed_order = acct.open_order(product)
    failed = acct.start_fake(failed_order)
    expired_order = acct.open_order(product)
    expired = acct.start_fake(expired_order)
    still = acct.start_fake(acct.open_order(acct.product()))
    assert settle(c, failed, "failed").status == 204 and settle(c, expired, "expired").status == 204
    advance(c, 11)
    assert wait_for(lambda: acct.payment(failed)["status"] == "failed" and acct.payment(expired)["status"] == "expired")
    # failed keeps the hold for a retry; expired releases the seats
    assert acct.order(failed_order)["status"] == "open"
    released = acct.order(expired_order)
    assert released["status"] == "cancelled" and released["status_reason"] == "payment_expired", released
    # a session the provider knows nothing of stays open
    assert acct.payment(still)["status"] == "open"


def test_reconciler_late_success_re_holds(c, acct):
    product = acct.product(capacity=1)
    order = acct.open_order(product)
    p = acct.start_fake(order, deadline_seconds=60)
    advance(c, 61)
    assert wait_for(lambda: acct.order(order)["status"] == "cancelled")
    assert settle(c, p, "paid").status == 204
    # the expired session is no longer asked: a late payment needs its notification
    advance(c, 11)
    time.sleep(1.5)
    assert acct.payment(p)["status"] == "expired"
    assert signed_notify(c, p, "paid", None).json["status"] == "paid"
    assert acct.order(order)["status"] == "confirmed"


@pytest.mark.parametrize("form", [
    {"id": "tr_123", "status": "paid"},
    {"id": "fk_", "status": "paid"},
    {"id": "fk_x", "status": "refunded"},
    {"status": "paid"},
    {"id": "fk_" + "a" * 200, "status": "paid"},
    {},
])
def test_settle_hook_hostile(c, form):
    r = c.request("POST", "/payments/fake/settle", form=form)
    if r.status == 404:
        raise Skip("the settle hook needs a server started with --test-clock")
    assert r.status == 400, r


# ---------- cancelling an order cancels its payment ----------

def test_cancelling_the_order_cancels_its_open_session(c, acct):
    product = acct.product(capacity=1)
    order = acct.open_order(product)
    p = acct.start_fake(order)
    expect(acct.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "changed plans"}), 200)
    session = acct.payment(p)
    assert session["status"] == "cancelled" and session["reason"] == "the order was cancelled", session
    # its seat is free, and the reconciler no longer asks about it
    expect(acct.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 1}]}), 201)
    assert settle(c, p, "paid").status == 204
    advance(c, 11)
    time.sleep(1.5)
    assert acct.payment(p)["status"] == "cancelled"
    # a late notification of money is given back, never re-holds a seller's cancellation
    r = signed_notify(c, p, "paid", None)
    assert r.status == 200 and r.json["status"] == "refunded", r
    after = acct.order(order)
    assert after["status"] == "cancelled", after
    # starting a payment of the cancelled order is refused
    admin_error(acct.admin("POST", "/orders/%s/payments" % order["id"],
                           {"provider": "fake", "method": "card", "callback_urls": URLS}), 409, "not_open", "status")


def test_cancelling_with_the_test_page_session(c):
    """The demo account (test mode): the page of a cancelled order's session is finished."""
    from test_payments import open_order, start, page_path, raw, post_form, csrf_of
    order = open_order(c, quantity=1)
    p = start(c, order)
    status, _, html = raw(c, "GET", page_path(p))
    token = csrf_of(html)
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {}), 200)
    assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["status"] == "cancelled"
    assert post_form(c, page_path(p), {"csrf": token, "outcome": "paid"})[0] == 409
    status, _, html = raw(c, "GET", page_path(p))
    assert status == 200 and 'id="status">cancelled<' in html and "<form" not in html


# ---------- a voucher paying part of an open order ----------

def voucher_code(acct, value):
    if not getattr(acct, "tt_key", None):
        acct.tt_key = expect(acct.admin("POST", "/credentials", {"kind": "api_key"}), 201)["secret"]
    code = "VC-" + uuid.uuid4().hex[:10].upper()
    expect(acct.c.tickettailor("POST", "/v1/vouchers", key=acct.tt_key, form={
        "name": "Card", "value": str(value), "expiry": "2000000000", "codes[]": code}), 201)
    return code


def voucher_balance(acct, code):
    vouchers = expect(acct.c.tickettailor("GET", "/v1/vouchers", key=acct.tt_key), 200)["data"]
    for v in vouchers:
        codes = expect(acct.c.tickettailor("GET", "/v1/vouchers/%s/codes" % v["id"], key=acct.tt_key), 200)["data"]
        for x in codes:
            if x["code"] == code:
                return x["value"]
    raise AssertionError("no code " + code)


def test_an_open_order_with_a_partial_voucher_is_charged_the_rest(c, acct):
    code = voucher_code(acct, 400)
    cart = expect(acct.admin("POST", "/carts", {"items": [{"product_id": acct.product(), "quantity": 1}]}), 201)
    order = expect(acct.admin("POST", "/orders", {"cart_id": cart["id"], "pay_later": True, "voucher_code": code}),
                   201)
    assert order["status"] == "open" and voucher_balance(acct, code) == 0, order
    p = acct.start_fake(order, fee=25)
    assert (p["amount"], p["fee"], p["total"]) == (1100, 25, 1125), p
    assert signed_notify(c, p, "paid", None).json["status"] == "paid"
    after = acct.order(order)
    assert after["status"] == "confirmed", after
    assert sorted((x["provider"], x["amount"]) for x in after["payments"] if x["kind"] == "payment") == [
        ("fake", 1125), ("voucher", 400)], after["payments"]


def test_a_late_payment_of_a_voucher_order_is_given_back(c, acct):
    code = voucher_code(acct, 500)
    cart = expect(acct.admin("POST", "/carts", {"items": [{"product_id": acct.product(), "quantity": 1}]}), 201)
    order = expect(acct.admin("POST", "/orders", {"cart_id": cart["id"], "pay_later": True, "voucher_code": code}),
                   201)
    p = acct.start_fake(order, deadline_seconds=60)
    assert p["amount"] == 1000, p
    assert signed_notify(c, p, "expired", None).json["status"] == "expired"
    assert voucher_balance(acct, code) == 500  # released with the seats
    r = signed_notify(c, p, "paid", None)
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert acct.payment(p)["reason"] == "the voucher was released at the payment deadline"
    assert acct.order(order)["status"] == "cancelled"
    assert voucher_balance(acct, code) == 500
