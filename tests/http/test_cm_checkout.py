"""CM.com Ticketing Shop checkout (docs/dialects/cm.md, "Checkout"):
POST /events/{uuid}/reservations/{order_id}/checkout and .../orders/{order_id}/checkout
book the reservation as an open order and start the engine's payment step with
the method's fee by the shop's formula; each outcome through the hosted test
page's form and its redirect to the matching callback; idempotency, another
method, a voucher paying everything, late success both ways, expiry, every
error code, tenancy. The tests run in an account of their own (test mode on),
so its payment methods touch no other test."""
import base64
import threading
import time
import re
import urllib.parse
import uuid

import pytest

from harness import Skip, create_account, expect
from cm_shop import cm, cm_error, make_event, tag
from test_payments import csrf_of, post_form, raw

CALLBACKS = {"success_url": "https://shop.example/ok?x=1", "failed_url": "https://shop.example/failed",
             "cancelled_url": "https://shop.example/cancelled", "expired_url": "https://shop.example/expired#top"}
CUSTOMER = {"first_name": "John", "last_name": "Doe", "email": "john.doe@example.com"}


class Shop:
    """An account of its own in test mode: admin and product tokens, an event with the issue's two ticket
    types (10.00 + 1.00 and 5.00 + 0.50), and iDEAL (0.68) and Bancontact (2.6% + 0.35)."""

    def __init__(self, c):
        self.admin_token = "adm_" + uuid.uuid4().hex
        create_account("cm-co-" + tag(), "CM checkout", "Europe/Amsterdam", "EUR", self.admin_token)
        self.token = expect(self.admin(c, "POST", "/credentials", {"kind": "product_token"}), 201)["secret"]
        expect(self.admin(c, "PATCH", "/payment_settings", {"test_mode": True}), 200)
        self.ideal = expect(self.admin(c, "POST", "/payment_methods", {
            "name": "iDEAL", "kind": "bank_transfer", "fee_fixed": 68, "sort_order": 1}), 201)
        self.bancontact = expect(self.admin(c, "POST", "/payment_methods", {
            "name": "Bancontact", "kind": "card", "fee_fixed": 35, "fee_percent_bp": 260, "sort_order": 2}), 201)
        self.off = expect(self.admin(c, "POST", "/payment_methods", {"name": "Off", "kind": "cash",
                                                                        "enabled": False}), 201)
        self.event, self.regular, self.occ, self.cheap = self.new_event(c)

    def admin(self, c, method, path, body=None):
        return c.admin(method, path, body, token=self.admin_token)

    def new_event(self, c, capacity=100, **event):
        ev, regular, occ = make_event(c, capacity=capacity, price=1000, fee=100, token=self.admin_token, **event)
        pool = expect(self.admin(c, "POST", "/pools", {"capacity": capacity}), 201)
        cheap = expect(self.admin(c, "POST", "/products", {
            "name": "Cheap " + tag(), "event_id": ev["id"], "price": 500, "booking_fee": 50,
            "pools": [{"pool_id": pool["id"], "amount": 1}], "max_per_order": 10}), 201)
        return ev, regular, occ, cheap

    def shop(self, c, method, path, **kw):
        return cm(c, method, path, token=self.token, **kw)

    def reserve(self, c, regular=2, cheap=5, event=None, products=None, **kw):
        regular_p, cheap_p = products or (self.regular, self.cheap)
        types = [{"uuid": regular_p["id"], "amount": regular}, {"uuid": cheap_p["id"], "amount": cheap}]
        return expect(self.shop(c, "POST", "/events/%s/reservations" % (event or self.event)["id"],
                                json_body={"customer_data": CUSTOMER, "ticket_types": types}, **kw), 201)

    def checkout(self, c, path_id, method=None, event=None, route="reservations", **over):
        b = dict({"order_id": path_id, "payment_method_uuid": (method or self.bancontact)["id"],
                  "ideal_issuer_id": None, "callback_urls": CALLBACKS}, **over)
        return self.shop(c, "POST", "/events/%s/%s/%s/checkout" % ((event or self.event)["id"], route, path_id),
                         json_body=b)


_SHOP = {}


@pytest.fixture
def shop(c):
    if "shop" not in _SHOP:
        _SHOP["shop"] = Shop(c)
    return _SHOP["shop"]


def payment_of(c, shop, answer):
    """The payment session behind a checkout's redirect_url (/pay/{id})."""
    path = urllib.parse.urlsplit(answer["redirect_url"]).path
    assert path.startswith("/pay/pay_"), answer
    return expect(shop.admin(c, "GET", "/payments/" + path[len("/pay/"):]), 200), path


def order_by_number(c, shop, number):
    found = expect(shop.admin(c, "GET", "/orders?number=" + number), 200)["data"]
    assert len(found) == 1, found
    return found[0]


def choose(c, page, outcome):
    status, _, html = raw(c, "GET", page)
    assert status == 200, html[:300]
    status, headers, _ = post_form(c, page, {"csrf": csrf_of(html), "outcome": outcome})
    assert status == 303, (status, headers)
    return headers["location"]


def advance(c, seconds):
    r = c.admin("POST", "/test/clock", {"advance_seconds": seconds})
    if r.status == 404:
        raise Skip("needs a server started with --test-clock")
    expect(r, 200)


# ---------- the documented example and the fee table ----------

def test_the_doc_example_with_the_issue_fee_table(c, shop):
    for method, fee, total in ((shop.bancontact, 164, 5114), (shop.ideal, 68, 5018)):
        r = shop.reserve(c)
        before = time.time()
        extra = {"ideal_issuer_id": "ABNANL2A"} if method is shop.ideal else {}
        answer = expect(shop.checkout(c, r["order_id"], method=method, **extra), 201)
        assert set(answer) == {"order_id", "due_at", "status", "redirect_url"}, answer
        assert answer["status"] == "OPEN" and answer["redirect_url"].startswith(c.base + "/pay/pay_"), answer
        assert answer["due_at"].endswith("+00:00")
        order = order_by_number(c, shop, answer["order_id"])
        assert order["status"] == "open" and order["channel"] == "cm" and order["cart_id"] == r["order_id"], order
        assert order["test"] is True, order  # paid through the test provider: marked so from its insert
        session, _ = payment_of(c, shop, answer)
        assert (session["amount"], session["fee"], session["total"]) == (4950, fee, total), session
        assert session["status"] == "open" and session["method"] == method["id"], session
        # the hold runs to the payment deadline (15 minutes), past the reservation's own due_at
        assert session["due_at"] / 1e6 - before >= 890, session
        assert session["callback_urls"] == {"success": CALLBACKS["success_url"], "failure": CALLBACKS["failed_url"],
                                            "cancel": CALLBACKS["cancelled_url"],
                                            "expired": CALLBACKS["expired_url"]}, session


def test_a_discount_code_of_the_reservation_is_carried(c, shop):
    d = expect(shop.admin(c, "POST", "/discounts", {"code": "CO-" + tag(), "type": "fixed", "amount": 100}), 201)
    r = shop.reserve(c, regular=2, cheap=0, query={"code": d["code"]})
    answer = expect(shop.checkout(c, r["order_id"], method=shop.ideal, ideal_issuer_id="INGBNL2A"), 201)
    session, _ = payment_of(c, shop, answer)
    assert (session["amount"], session["fee"]) == (2 * (900 + 100), 68), session


# ---------- idempotency and another method ----------

def test_the_same_body_again_gives_the_same_payment_and_another_method_replaces_it(c, shop):
    r = shop.reserve(c)
    first = expect(shop.checkout(c, r["order_id"]), 201)
    again = expect(shop.checkout(c, r["order_id"]), 201)
    assert again == first
    # by the order number, on either route, it is the same payment
    assert expect(shop.checkout(c, first["order_id"]), 201) == first
    assert expect(shop.checkout(c, first["order_id"], route="orders"), 201) == first
    assert expect(shop.checkout(c, r["order_id"], route="orders"), 201) == first
    other = expect(shop.checkout(c, r["order_id"], method=shop.ideal, ideal_issuer_id="RABONL2U"), 201)
    assert other["order_id"] == first["order_id"] and other["redirect_url"] != first["redirect_url"], other
    old, old_page = payment_of(c, shop, first)
    assert old["status"] == "cancelled" and old["reason"] == "replaced by another payment", old
    new, _ = payment_of(c, shop, other)
    assert new["status"] == "open" and new["fee"] == 68
    # the replaced page takes no outcome
    status, _, html = raw(c, "GET", old_page)
    assert status == 200 and "<form" not in html
    # the reservation cannot change once in checkout
    body = {"order_id": r["order_id"], "customer_data": CUSTOMER,
            "ticket_types": [{"uuid": shop.regular["id"], "amount": 1}]}
    cm_error(shop.shop(c, "PUT", "/events/%s/reservations/%s" % (shop.event["id"], r["order_id"]), json_body=body),
             400, "RESERVATION_COMPLETED", "order_id")


# ---------- each outcome through the page ----------

@pytest.mark.parametrize("outcome,callback,order_status", [
    ("paid", "https://shop.example/ok?x=1&order_id=%s&status=paid", "confirmed"),
    ("failed", "https://shop.example/failed?order_id=%s&status=failed", "open"),
    ("cancelled", "https://shop.example/cancelled?order_id=%s&status=cancelled", "open"),
    ("expired", "https://shop.example/expired?order_id=%s&status=expired#top", "cancelled"),
])
def test_each_outcome_through_the_page_redirects_to_its_callback(c, shop, outcome, callback, order_status):
    r = shop.reserve(c, regular=1, cheap=1)
    answer = expect(shop.checkout(c, r["order_id"]), 201)
    _, page = payment_of(c, shop, answer)
    assert choose(c, page, outcome) == callback % answer["order_id"]
    order = order_by_number(c, shop, answer["order_id"])
    assert order["status"] == order_status, order
    again = shop.checkout(c, r["order_id"])
    if outcome == "paid":
        assert {t["status"] for t in order["tickets"]} == {"valid"}, order
        cm_error(again, 400, "RESERVATION_COMPLETED", "order_id")
    elif outcome == "expired":
        assert {t["status"] for t in order["tickets"]} == {"voided"}, order
        cm_error(again, 400, "RESERVATION_EXPIRED", "order_id")
    else:
        # the hold stays for a retry: the same body starts a new payment, which can be paid
        retry = expect(again, 201)
        assert retry["redirect_url"] != answer["redirect_url"] and retry["order_id"] == answer["order_id"]
        _, retry_page = payment_of(c, shop, retry)
        assert choose(c, retry_page, "paid").endswith("status=paid")
        assert order_by_number(c, shop, answer["order_id"])["status"] == "confirmed"


def test_the_page_follows_a_change_of_the_order_after_its_checkout(c, shop):
    """The page shows the rows its checkout kept (docs/PAYMENTS.md, "The hosted page") only while the order is
    unchanged: a ticket voided after the checkout is gone from the next page, as when the order is read."""
    r = shop.reserve(c, regular=2, cheap=1)
    answer = expect(shop.checkout(c, r["order_id"]), 201)
    _, page = payment_of(c, shop, answer)
    status, _, html = raw(c, "GET", page)
    row = re.compile(r"<tr><td>([^<]*)</td><td class=\"n\">(\d+)</td><td class=\"n\">([^<]*)</td></tr>")
    assert status == 200 and answer["order_id"] in html, html
    assert sorted(q_and_amount for _, *q_and_amount in row.findall(html)) == [["1", "5.50 EUR"], ["2", "22.00 EUR"]], html
    order = order_by_number(c, shop, answer["order_id"])
    regular = [t for t in order["tickets"] if t["product_id"] == shop.regular["id"]]
    expect(shop.admin(c, "POST", "/tickets/%s/void" % regular[0]["id"]), 200)
    status, _, html = raw(c, "GET", page)
    assert status == 200 and 'id="status">open<' in html, html
    assert sorted(q_and_amount for _, *q_and_amount in row.findall(html)) == [["1", "11.00 EUR"], ["1", "5.50 EUR"]], html


# ---------- late success both ways ----------

def late_report(c, shop, capacity, take_seats):
    """A checked-out order whose payment moves to the fake provider (the page cannot be paid after its
    deadline; a provider's late report can), expires, then reports paid."""
    ev, regular, _, cheap = shop.new_event(c, capacity=capacity)
    r = shop.reserve(c, regular=2, cheap=0, event=ev, products=(regular, cheap))
    answer = expect(shop.checkout(c, r["order_id"], event=ev), 201)
    order = order_by_number(c, shop, answer["order_id"])
    p = expect(shop.admin(c, "POST", "/orders/%s/payments" % order["id"], {
        "provider": "fake", "method": shop.bancontact["id"], "fee": 0, "deadline_seconds": 60,
        "callback_urls": {"success": CALLBACKS["success_url"], "failure": CALLBACKS["failed_url"],
                          "cancel": CALLBACKS["cancelled_url"], "expired": CALLBACKS["expired_url"]}}), 201)
    if c.request("POST", "/payments/notify/fake", form={"id": "fk_" + p["id"], "status": "expired"}).status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    assert order_by_number(c, shop, answer["order_id"])["status"] == "cancelled"
    if take_seats:
        shop.reserve(c, regular=take_seats, cheap=0, event=ev, products=(regular, cheap))
    late = c.request("POST", "/payments/notify/fake", form={"id": "fk_" + p["id"], "status": "paid"})
    return late, order_by_number(c, shop, answer["order_id"]), ev, (regular, cheap)


def test_late_success_re_holds_when_seats_remain(c, shop):
    late, order, ev, products = late_report(c, shop, capacity=3, take_seats=0)
    assert late.status == 200 and late.json["status"] == "paid", late
    assert order["status"] == "confirmed" and {t["status"] for t in order["tickets"]} == {"valid"}, order
    shop.reserve(c, regular=1, cheap=0, event=ev, products=products)
    cm_error(shop.shop(c, "POST", "/events/%s/reservations" % ev["id"], json_body={
        "customer_data": CUSTOMER, "ticket_types": [{"uuid": products[0]["id"], "amount": 1}]}),
        400, "SOLD_OUT", "ticket_types")


def test_late_success_refunds_when_the_seats_are_gone(c, shop):
    late, order, ev, products = late_report(c, shop, capacity=2, take_seats=2)
    assert late.status == 200 and late.json["status"] == "refunded", late
    assert order["status"] == "cancelled" and {t["status"] for t in order["tickets"]} == {"voided"}, order
    cm_error(shop.shop(c, "POST", "/events/%s/reservations" % ev["id"], json_body={
        "customer_data": CUSTOMER, "ticket_types": [{"uuid": products[0]["id"], "amount": 1}]}),
        400, "SOLD_OUT", "ticket_types")


# ---------- vouchers ----------

def voucher_code(c, shop, value):
    """A voucher code of the shop's account worth value minor units (codes are made through Ticket Tailor)."""
    if not getattr(shop, "tt_key", None):
        shop.tt_key = expect(shop.admin(c, "POST", "/credentials", {"kind": "api_key"}), 201)["secret"]
    code = "VC-" + tag()
    expect(c.tickettailor("POST", "/v1/vouchers", key=shop.tt_key, form={
        "name": "Card", "value": str(value), "expiry": "2000000000", "codes[]": code}), 201)
    return code


def test_a_voucher_covering_everything_completes_without_payment(c, shop):
    code = voucher_code(c, shop, 100000)
    r = shop.reserve(c, regular=1, cheap=0, query={"code": code})
    answer = expect(shop.checkout(c, r["order_id"]), 201)
    assert answer["status"] == "PAID" and answer["due_at"] is None, answer
    assert answer["redirect_url"] == "https://shop.example/ok?x=1&order_id=%s&status=paid" % answer["order_id"]
    order = order_by_number(c, shop, answer["order_id"])
    assert order["status"] == "confirmed" and {t["status"] for t in order["tickets"]} == {"valid"}, order
    b64 = base64.b64encode(code.encode()).decode()
    balance = expect(shop.shop(c, "GET", "/events/%s/codes/%s" % (shop.event["id"], b64)), 200)["voucher_code"]
    assert balance["balance"] == 1000 - 11, balance
    # the same checkout again answers the same completion; nothing more is spent
    assert expect(shop.checkout(c, r["order_id"]), 201) == answer
    assert expect(shop.shop(c, "GET", "/events/%s/codes/%s" % (shop.event["id"], b64)),
                  200)["voucher_code"]["balance"] == 1000 - 11


def code_balance(c, shop, code):
    b64 = base64.b64encode(code.encode()).decode()
    return expect(shop.shop(c, "GET", "/events/%s/codes/%s" % (shop.event["id"], b64)), 200)["voucher_code"]["balance"]


def session_of(c, shop, answer):
    """The payment session behind a checkout's redirect (its id is the page's path)."""
    pay_id = urllib.parse.urlsplit(answer["redirect_url"]).path.rsplit("/", 1)[1]
    return expect(shop.admin(c, "GET", "/payments/" + pay_id), 200)


def test_a_voucher_paying_part_reduces_the_payment(c, shop):
    code = voucher_code(c, shop, 500)
    r = shop.reserve(c, regular=1, cheap=0, query={"code": code})  # 10.00 + 1.00
    answer = expect(shop.checkout(c, r["order_id"], method=shop.ideal, ideal_issuer_id="INGBNL2A"), 201)
    assert answer["status"] == "OPEN" and answer["due_at"], answer
    # the voucher's part is spent at checkout; the payment charges the rest plus the method's fee
    assert code_balance(c, shop, code) == 0
    session = session_of(c, shop, answer)
    assert (session["amount"], session["fee"], session["total"]) == (600, 68, 668), session
    page = urllib.parse.urlsplit(answer["redirect_url"]).path
    status, _, html = raw(c, "GET", page)
    assert status == 200 and "6.68" in html and "-5.00" in html, html
    # the same checkout again is the same payment; nothing more is spent
    assert expect(shop.checkout(c, r["order_id"], method=shop.ideal, ideal_issuer_id="INGBNL2A"), 201) == answer
    assert code_balance(c, shop, code) == 0
    assert "status=paid" in choose(c, page, "paid")
    order = order_by_number(c, shop, answer["order_id"])
    assert order["status"] == "confirmed" and {t["status"] for t in order["tickets"]} == {"valid"}, order
    paid = sorted((p["provider"], p["amount"]) for p in order["payments"] if p["kind"] == "payment")
    assert paid == [("test", 668), ("voucher", 500)], order["payments"]


def test_a_partial_voucher_takes_the_percentage_fee_off_the_rest_only(c, shop):
    code = voucher_code(c, shop, 2000)
    r = shop.reserve(c, regular=2, cheap=5, query={"code": code})  # 49.50 in all, 29.50 left
    answer = expect(shop.checkout(c, r["order_id"]), 201)  # Bancontact: 2.6% + 0.35
    session = session_of(c, shop, answer)
    # 29.50 × 2.6% = 0.767 -> 0.77, + 0.35
    assert (session["amount"], session["fee"], session["total"]) == (2950, 112, 3062), session


def test_a_failed_payment_keeps_the_voucher_part_and_expiry_gives_it_back(c, shop):
    code = voucher_code(c, shop, 700)
    r = shop.reserve(c, regular=1, cheap=0, query={"code": code})
    answer = expect(shop.checkout(c, r["order_id"], method=shop.ideal, ideal_issuer_id="INGBNL2A"), 201)
    page = urllib.parse.urlsplit(answer["redirect_url"]).path
    assert "status=failed" in choose(c, page, "failed")
    # failed: the hold and the voucher's part stay until the deadline, for a retry
    assert code_balance(c, shop, code) == 0
    retry = expect(shop.checkout(c, r["order_id"], method=shop.ideal, ideal_issuer_id="INGBNL2A"), 201)
    assert retry["order_id"] == answer["order_id"] and retry["redirect_url"] != answer["redirect_url"], retry
    assert session_of(c, shop, retry)["amount"] == 400
    assert code_balance(c, shop, code) == 0
    advance(c, 16 * 60)  # past the 15-minute payment deadline
    deadline = time.time() + 8
    while order_by_number(c, shop, answer["order_id"])["status"] == "open" and time.time() < deadline:
        time.sleep(0.2)
    order = order_by_number(c, shop, answer["order_id"])
    assert order["status"] == "cancelled" and order["status_reason"] == "payment_expired", order
    # the voucher's part went back to its code, exactly once
    assert code_balance(c, shop, code) == 7
    assert [p["status"] for p in order["payments"] if p["provider"] == "voucher" and p["kind"] == "payment"] == \
        ["refunded"], order["payments"]


def test_cancelling_the_order_gives_the_voucher_part_back(c, shop):
    code = voucher_code(c, shop, 300)
    r = shop.reserve(c, regular=1, cheap=0, query={"code": code})
    answer = expect(shop.checkout(c, r["order_id"], method=shop.ideal, ideal_issuer_id="INGBNL2A"), 201)
    order = order_by_number(c, shop, answer["order_id"])
    assert code_balance(c, shop, code) == 0
    expect(shop.admin(c, "POST", "/orders/%s/cancel" % order["id"], {"reason": "buyer left"}), 200)
    assert code_balance(c, shop, code) == 3
    assert session_of(c, shop, answer)["status"] == "cancelled"
    page = urllib.parse.urlsplit(answer["redirect_url"]).path
    status, _, html = raw(c, "GET", page)
    assert status == 200 and "<form" not in html


def test_a_partial_voucher_without_payments_is_refused_and_nothing_is_spent(c, shop):
    code = voucher_code(c, shop, 500)
    r = shop.reserve(c, regular=1, cheap=0, query={"code": code})
    expect(shop.admin(c, "PATCH", "/payment_settings", {"test_mode": False}), 200)
    try:
        cm_error(shop.checkout(c, r["order_id"]), 400, "VOUCHER_INSUFFICIENT", "code")
    finally:
        expect(shop.admin(c, "PATCH", "/payment_settings", {"test_mode": True}), 200)
    cart = expect(shop.admin(c, "GET", "/carts/" + r["order_id"]), 200)
    assert cart["status"] == "open", cart
    assert code_balance(c, shop, code) == 5


def concurrently(n, fn):
    results, lock = [], threading.Lock()

    def one(i):
        r = fn(i)
        with lock:
            results.append(r)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_voucher_balance_never_negative_under_concurrent_checkouts(c, shop):
    code = voucher_code(c, shop, 2500)  # pays two orders of 11.00 and 3.00 of a third
    reservations = [shop.reserve(c, regular=1, cheap=0, query={"code": code}) for _ in range(20)]
    indexed = concurrently(20, lambda i: (i, shop.checkout(c, reservations[i]["order_id"], method=shop.ideal,
                                                         ideal_issuer_id="INGBNL2A")))
    results = [r for _, r in indexed]
    paid = [r for r in results if r.status == 201 and r.json["status"] == "PAID"]
    open_ = [r for r in results if r.status == 201 and r.json["status"] == "OPEN"]
    refused = [r for r in results if r.status != 201]
    assert len(paid) == 2 and len(open_) == 1, [(r.status, r.json) for r in results]
    assert all((r.status, r.json["code"]) == (400, "CODE_INVALID") for r in refused), refused
    assert session_of(c, shop, open_[0].json)["amount"] == 1100 - 300
    assert code_balance(c, shop, code) == 0
    spent = 0
    for r in paid + open_:
        order = order_by_number(c, shop, r.json["order_id"])
        spent += sum(p["amount"] for p in order["payments"] if p["provider"] == "voucher" and p["kind"] == "payment")
    assert spent == 2500  # never more than the voucher held
    # the refused reservations booked nothing: their carts are still open
    for i, r in indexed:
        if r.status == 201:
            continue
        cart = expect(shop.admin(c, "GET", "/carts/" + reservations[i]["order_id"]), 200)
        assert cart["status"] == "open", cart


def test_concurrent_checkouts_of_one_reservation_make_one_payment(c, shop):
    r = shop.reserve(c, regular=1, cheap=1)
    results = concurrently(8, lambda i: shop.checkout(c, r["order_id"]))
    assert {res.status for res in results} == {201}, [(res.status, res.json) for res in results]
    assert len({(res.json["order_id"], res.json["redirect_url"]) for res in results}) == 1, results
    order = order_by_number(c, shop, results[0].json["order_id"])
    assert len(order["tickets"]) == 2, order


# ---------- refusals ----------

def test_expired_reservation_is_400(c, shop):
    r = shop.reserve(c, regular=1, cheap=0)
    advance(c, 3 * 3600)
    cm_error(shop.checkout(c, r["order_id"]), 400, "RESERVATION_EXPIRED", "order_id")


def test_payment_deadline_passing_is_400(c, shop):
    r = shop.reserve(c, regular=1, cheap=0)
    answer = expect(shop.checkout(c, r["order_id"]), 201)
    advance(c, 20 * 60)
    cm_error(shop.checkout(c, r["order_id"]), 400, "RESERVATION_EXPIRED", "order_id")
    assert order_by_number(c, shop, answer["order_id"])["status"] == "cancelled"


LONG_URL = "https://shop.example/" + "a" * 2030


@pytest.mark.parametrize("over,code,field", [
    ({"payment_method_uuid": None}, "PAYMENT_METHOD_INVALID", "payment_method_uuid"),
    ({"payment_method_uuid": 7}, "PAYMENT_METHOD_INVALID", "payment_method_uuid"),
    ({"payment_method_uuid": "00000000-0000-0000-0000-000000000000"}, "PAYMENT_METHOD_INVALID",
     "payment_method_uuid"),
    ({"payment_method_uuid": "OFF"}, "PAYMENT_METHOD_INVALID", "payment_method_uuid"),
    ({"payment_method_uuid": "IDEAL"}, "IDEAL_ISSUER_INVALID", "ideal_issuer_id"),
    ({"payment_method_uuid": "IDEAL", "ideal_issuer_id": "NOPENL2A"}, "IDEAL_ISSUER_INVALID", "ideal_issuer_id"),
    ({"payment_method_uuid": "IDEAL", "ideal_issuer_id": ["ABNANL2A"]}, "IDEAL_ISSUER_INVALID", "ideal_issuer_id"),
    ({"callback_urls": None}, "CALLBACK_URLS_INVALID", "callback_urls"),
    ({"callback_urls": ["https://a.example"]}, "CALLBACK_URLS_INVALID", "callback_urls"),
    ({"callback_urls": dict(CALLBACKS, success_url=None)}, "CALLBACK_URL_INVALID", "callback_urls.success_url"),
    ({"callback_urls": dict(CALLBACKS, failed_url="/relative")}, "CALLBACK_URL_INVALID", "callback_urls.failed_url"),
    ({"callback_urls": dict(CALLBACKS, cancelled_url="javascript:alert(1)")}, "CALLBACK_URL_INVALID",
     "callback_urls.cancelled_url"),
    ({"callback_urls": dict(CALLBACKS, expired_url="ftp://x.example/")}, "CALLBACK_URL_INVALID",
     "callback_urls.expired_url"),
    ({"callback_urls": dict(CALLBACKS, success_url=LONG_URL)}, "CALLBACK_URL_INVALID", "callback_urls.success_url"),
    ({"callback_urls": dict(CALLBACKS, success_url="https://a.example/\"><script>")}, "CALLBACK_URL_INVALID",
     "callback_urls.success_url"),
    ({"callback_urls": dict(CALLBACKS, success_url="https://a.example/x\r\nSet-Cookie: a=b")},
     "CALLBACK_URL_INVALID", "callback_urls.success_url"),
    ({"order_id": "SOMETHING-ELSE"}, "ORDER_ID_MISMATCH", "order_id"),
])
def test_body_refusals_book_nothing(c, shop, over, code, field):
    r = shop.reserve(c, regular=1, cheap=0)
    names = {"OFF": shop.off["id"], "IDEAL": shop.ideal["id"]}
    if over.get("payment_method_uuid") in names:
        over = dict(over, payment_method_uuid=names[over["payment_method_uuid"]])
    cm_error(shop.checkout(c, r["order_id"], **over), 400, code, field)
    assert expect(shop.admin(c, "GET", "/carts/" + r["order_id"]), 200)["status"] == "open"


def test_the_2048_character_url_is_taken(c, shop):
    r = shop.reserve(c, regular=1, cheap=0)
    url = "https://shop.example/" + "a" * (2048 - len("https://shop.example/"))
    expect(shop.checkout(c, r["order_id"], callback_urls=dict(CALLBACKS, success_url=url)), 201)


def test_a_method_the_event_does_not_offer_is_400(c, shop):
    ev, regular, _, cheap = shop.new_event(c, payment_method_ids=[shop.ideal["id"]])
    r = shop.reserve(c, regular=1, cheap=0, event=ev, products=(regular, cheap))
    cm_error(shop.checkout(c, r["order_id"], event=ev), 400, "PAYMENT_METHOD_INVALID", "payment_method_uuid")
    expect(shop.checkout(c, r["order_id"], event=ev, method=shop.ideal, ideal_issuer_id="SNSBNL2A"), 201)


def test_body_and_content_type(c, shop):
    r = shop.reserve(c, regular=1, cheap=0)
    path = "/events/%s/reservations/%s/checkout" % (shop.event["id"], r["order_id"])
    cm_error(shop.shop(c, "POST", path, raw=b"[1]", headers={"Content-Type": "application/json"}), 400,
             "BODY_INVALID")
    cm_error(shop.shop(c, "POST", path, raw=b"{not json", headers={"Content-Type": "application/json"}), 400,
             "BODY_INVALID")
    cm_error(shop.shop(c, "POST", path, raw=b"order_id=1", headers={"Content-Type": "text/plain"}), 400,
             "CONTENT_TYPE_INVALID")
    cm_error(cm(c, "POST", path, token=None, json_body={}), 401, "UNAUTHORIZED")


def test_account_without_test_mode_cannot_check_out(c, shop):
    r = shop.reserve(c, regular=1, cheap=0)
    expect(shop.admin(c, "PATCH", "/payment_settings", {"test_mode": False}), 200)
    try:
        cm_error(shop.checkout(c, r["order_id"]), 400, "PAYMENT_METHOD_UNAVAILABLE", "payment_method_uuid")
    finally:
        expect(shop.admin(c, "PATCH", "/payment_settings", {"test_mode": True}), 200)
    assert expect(shop.admin(c, "GET", "/carts/" + r["order_id"]), 200)["status"] == "open"


def test_unknown_and_other_accounts_orders_are_404(c, shop):
    r = shop.reserve(c, regular=1, cheap=0)
    cm_error(shop.checkout(c, str(uuid.uuid4())), 404, "ORDER_NOT_FOUND", "order_id")
    cm_error(shop.checkout(c, "12345678"), 404, "ORDER_NOT_FOUND", "order_id")
    # the demo account: its own event, this account's reservation id -> 404, and this account's event -> 404
    demo_ev, _, _ = make_event(c)
    b = {"order_id": r["order_id"], "payment_method_uuid": shop.bancontact["id"], "callback_urls": CALLBACKS}
    cm_error(cm(c, "POST", "/events/%s/reservations/%s/checkout" % (demo_ev["id"], r["order_id"]), json_body=b),
             404, "ORDER_NOT_FOUND", "order_id")
    cm_error(cm(c, "POST", "/events/%s/reservations/%s/checkout" % (shop.event["id"], r["order_id"]), json_body=b),
             404, "EVENT_NOT_FOUND", "event_uuid")
    # another event of this account: the reservation is not its
    ev2, _, _, _ = shop.new_event(c)
    cm_error(shop.checkout(c, r["order_id"], event=ev2), 404, "ORDER_NOT_FOUND", "order_id")
    # its order number, once checked out, is not found from the demo account either
    answer = expect(shop.checkout(c, r["order_id"]), 201)
    cm_error(cm(c, "POST", "/events/%s/orders/%s/checkout" % (demo_ev["id"], answer["order_id"]), json_body=b),
             404, "ORDER_NOT_FOUND", "order_id")
    # and an order of another channel is no reservation of the shop
    cart = expect(shop.admin(c, "POST", "/carts", {"items": [{"product_id": shop.regular["id"], "quantity": 1}],
                                                        "occurrence_id": shop.occ}),
                  201)
    admin_order = expect(shop.admin(c, "POST", "/orders", {"cart_id": cart["id"], "pay_later": True}), 201)
    cm_error(shop.checkout(c, admin_order["number"], route="orders"), 404, "ORDER_NOT_FOUND", "order_id")


def test_access_key_is_required_on_checkout(c, shop):
    ev, regular, _, cheap = shop.new_event(c)
    r = shop.reserve(c, regular=1, cheap=0, event=ev, products=(regular, cheap))
    key = "K" + tag()
    expect(shop.admin(c, "POST", "/events/%s/access_keys" % ev["id"], {"key": key}), 201)
    cm_error(shop.checkout(c, r["order_id"], event=ev), 400, "ACCESS_KEY_INVALID", "key")
    path = "/events/%s/reservations/%s/checkout" % (ev["id"], r["order_id"])
    b = {"order_id": r["order_id"], "payment_method_uuid": shop.bancontact["id"], "callback_urls": CALLBACKS}
    expect(shop.shop(c, "POST", path, json_body=b, query={"key": key}), 201)


def test_ticket_status_counts_an_order_in_checkout_as_sold(c, shop):
    """An open reservation takes its seats as IN_RESERVATION, an order in checkout (unpaid tickets) as sold."""
    ev, regular, _, cheap = shop.new_event(c, capacity=2)

    def status():
        d = expect(shop.shop(c, "GET", "/events/" + ev["id"]), 200)
        return next(t["ticket_status_type_id"] for cat in d["categories"] for t in cat["tickets"]
                    if t["uuid"] == regular["id"])
    assert status() == "ONLINE"
    r = shop.reserve(c, regular=2, cheap=0, event=ev, products=(regular, cheap))
    assert status() == "IN_RESERVATION"
    expect(shop.checkout(c, r["order_id"], event=ev), 201)
    assert status() == "SOLD_OUT"
