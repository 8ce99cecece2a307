"""Money rules (docs/MODEL.md, "Money"): what a cancellation refunds and where
it goes, how a percentage discount is rounded and spread, what a cart's
totals mean, and what a voucher that covers part of an admin order needs.
Every figure is an exact integer of minor units, checked in the canonical
documents and where Ticket Tailor and Convious show them."""
import datetime
import uuid

from harness import expect


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def error_of(resp, status, code, field):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    err = resp.json["error"]
    assert err["code"] == code and err["field"] == field, resp
    return err


def product(c, price, fee=0, includes_tax=True, rate_bp=2100):
    """An undated product of its own pool, so no other test's sales count."""
    pool = expect(c.admin("POST", "/pools", {"name": uniq("pool"), "capacity": 5000, "per": "total"}), 201)
    return expect(c.admin("POST", "/products", {
        "name": {"en": uniq("Money")}, "price": price, "booking_fee": fee, "price_includes_tax": includes_tax,
        "taxes": [{"type": "VAT", "rate_bp": rate_bp, "proportion_bp": 10000}],
        "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)


def cart_of(c, product_id, quantity):
    return expect(c.admin("POST", "/carts", {"items": [{"product_id": product_id, "quantity": quantity}]}), 201)


def book(c, cart, **body):
    return c.admin("POST", "/orders", dict({"cart_id": cart["id"]}, **body))


def voucher(c, value):
    code = uniq("GIFT").upper()
    v = expect(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "Gift", "value": value,
                                                                "expiry": 2000000000, "codes": [code]}), 201)
    return v, code


def code_row(c, voucher_id, code):
    codes = expect(c.tickettailor("GET", "/v1/vouchers/%s/codes" % voucher_id), 200)["data"]
    return next(x for x in codes if x["code"] == code)


def refunds(order):
    return [p for p in order["payments"] if p["kind"] == "refund"]


def cancel(c, order, reason="money rules"):
    return expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": reason}), 200)


# ---- defect 5: one refund rule for every payment kind ----

def test_cancel_gives_the_voucher_its_value_back(c):
    p = product(c, 1000, fee=150)
    v, code = voucher(c, 1500)
    order = expect(book(c, cart_of(c, p["id"], 2), voucher_code=code, payment={"provider": "cash"}), 201)
    paid = {x["provider"]: x["amount"] for x in order["payments"] if x["kind"] == "payment"}
    assert paid == {"voucher": 1500, "cash": 800}, order["payments"]  # 2 x (10.00 + 1.50 fee)
    assert code_row(c, v["id"], code)["value"] == 0

    cancelled = cancel(c, order, "rain")
    assert cancelled["status"] == "cancelled"
    # every payment goes back where it came from, in full: one refund row each
    back = sorted((x["provider"], x["method"], x["reference"], x["amount"]) for x in refunds(cancelled))
    assert back == [("cash", None, None, 800), ("voucher", "voucher", code, 1500)], cancelled["payments"]
    assert all(x["status"] == "refunded" for x in cancelled["payments"]), cancelled["payments"]
    # the tickets' refund amounts are the order's refund: price after discount plus booking fee
    amounts = [t["refund"]["amount"] for t in cancelled["tickets"]]
    assert amounts == [1150, 1150] and all(t["refund"]["paid"] for t in cancelled["tickets"]), cancelled["tickets"]
    assert sum(amounts) == sum(x["amount"] for x in refunds(cancelled)) == 2300
    # the code has its value back and reads as unused; it pays again
    row = code_row(c, v["id"], code)
    assert row["value"] == 1500 and row["used"] is None, row
    again = expect(book(c, cart_of(c, p["id"], 1), voucher_code=code), 201)
    assert [x["amount"] for x in again["payments"] if x["provider"] == "voucher"] == [1150], again["payments"]
    assert code_row(c, v["id"], code)["value"] == 350
    # Ticket Tailor shows the order's total and what was refunded of it
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + order["id"]), 200)
    assert tt["total"] == 2300 and tt["refund_amount"] == 2300 and tt["status"] == "cancelled", tt


def test_cancel_refunds_booking_fees_with_the_tickets(c):
    p = product(c, 1000, fee=150)
    order = expect(book(c, cart_of(c, p["id"], 3), payment={"provider": "card", "reference": "R-1"}), 201)
    assert [x["amount"] for x in order["payments"]] == [3450]
    cancelled = cancel(c, order)
    assert [(x["provider"], x["reference"], x["amount"]) for x in refunds(cancelled)] == [("card", "R-1", 3450)]
    assert [t["refund"]["amount"] for t in cancelled["tickets"]] == [1150] * 3
    assert [t["status"] for t in cancelled["tickets"]] == ["refunded"] * 3


def test_cancel_after_a_void_refunds_only_the_live_tickets(c):
    p = product(c, 1000, fee=150)
    order = expect(book(c, cart_of(c, p["id"], 2), payment={"provider": "cash"}), 201)
    expect(c.admin("POST", "/tickets/%s/void" % order["tickets"][0]["id"]), 200)
    cancelled = cancel(c, order)
    # the voided ticket was given up without a refund; the live one is refunded with its fee
    live = [t for t in cancelled["tickets"] if t["status"] == "refunded"]
    assert len(live) == 1 and live[0]["refund"]["amount"] == 1150, cancelled["tickets"]
    assert [x["amount"] for x in refunds(cancelled)] == [1150], cancelled["payments"]
    # a payment refunded in part stays paid: its refund row says how much went back
    assert [x["status"] for x in cancelled["payments"] if x["kind"] == "payment"] == ["paid"]


def test_cancel_of_an_unpaid_order_refunds_nothing(c):
    p = product(c, 1000, fee=150)
    order = expect(book(c, cart_of(c, p["id"], 2)), 201)  # no payment record
    assert order["payments"] == []
    cancelled = cancel(c, order)
    assert refunds(cancelled) == []
    assert [(t["refund"]["amount"], t["refund"]["paid"]) for t in cancelled["tickets"]] == [(0, False)] * 2


# ---- defect 11: a percentage is rounded once per order line ----

def percentage_discount(c, percent_bp):
    code = uniq("PCT").upper()
    expect(c.admin("POST", "/discounts", {"code": code, "type": "percentage", "percent_bp": percent_bp}), 201)
    return code


def test_percentage_rounds_once_per_line(c):
    p = product(c, 1)  # 0.01 each
    code = percentage_discount(c, 1500)
    order = expect(book(c, cart_of(c, p["id"], 200), discount_code=code, payment={"provider": "cash"}), 201)
    # 15% of 200 x 0.01 = 0.30; rounding each ticket's 0.0015 would give 0.00
    assert order["discount_total"] == 30 and order["discounts"][0]["amount"] == 30, order["discounts"]
    discounts = [t["discount"] for t in order["tickets"]]
    assert sum(discounts) == 30 and sorted(set(discounts)) == [0, 1], discounts
    assert order["total_after_discount_gross"] == 170 and order["payments"][0]["amount"] == 170
    assert sum(t["discounted_gross"] for t in order["tickets"]) == 170


def test_percentage_spread_by_largest_remainder(c):
    p = product(c, 1003)
    code = percentage_discount(c, 1500)
    order = expect(book(c, cart_of(c, p["id"], 3), discount_code=code, payment={"provider": "cash"}), 201)
    # 15% of 30.09 = 4.5135 -> 4.51 for the line, spread 1.51 + 1.50 + 1.50 (not 3 x 1.50 = 4.50)
    assert order["discount_total"] == 451, order
    assert sorted(t["discount"] for t in order["tickets"]) == [150, 150, 151]
    assert sorted(t["discounted_gross"] for t in order["tickets"]) == [852, 853, 853]
    # each ticket's taxes follow its own discounted price
    for t in order["tickets"]:
        assert t["taxes"][0]["taxable"] == t["discounted_gross"], t
    assert order["total_after_discount_gross"] == 3009 - 451
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + order["id"]), 200)
    assert tt["subtotal"] == 2558 and tt["total"] == 2558, tt
    assert tt["line_items"][0]["total"] == 2558 and tt["line_items"][0]["quantity"] == 3, tt["line_items"]


# ---- issue 16: a cart's totals are the order's figures ----

def test_cart_totals_are_the_orders(c):
    p = product(c, 1000, fee=100, includes_tax=False)  # 10.00 + 21% VAT = 12.10, fee 1.00
    cart = cart_of(c, p["id"], 2)
    assert cart["lines"][0]["unit_price"] == 1000 and cart["price_includes_tax"] is False, cart
    assert cart["total"] == 2420 and cart["total_gross"] == 2420, cart
    assert cart["booking_fee_total"] == 200 and cart["total_due"] == 2620, cart
    order = expect(book(c, cart, payment={"provider": "cash"}), 201)
    assert order["total_gross"] == cart["total"] and order["booking_fee_total"] == cart["booking_fee_total"]
    assert order["payments"][0]["amount"] == cart["total_due"]
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + order["id"]), 200)
    assert tt["total"] == cart["total_due"], tt


def test_convious_cart_total_and_cancel(c):
    day = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    category, adult = "d0000000-0000-4000-8000-000000000003", "d0000000-0000-4000-8000-000000000005"
    body = {"categoryId": category, "products": [{"id": adult, "amount": 2}]}
    slot = expect(c.convious("POST", "/api/v1/accounts/demo/pricing/%s/" % day, body), 200)["prices"][0]
    cart = expect(c.convious("POST", "/api/v1/accounts/demo/carts/", {
        "categoryId": category, "eventDate": day, "startTime": slot["timeFrom"],
        "items": [{"productId": adult, "amount": 2}], "pricingToken": slot["pricingToken"]}), 200)
    order = expect(c.convious("POST", "/api/v1/accounts/demo/bookings/", {"cartId": cart["id"]}), 200)
    assert cart["total"] == cart["totalPrice"] == order["total"] == order["totalPriceInclTax"], (cart, order)
    expect(c.convious("POST", "/api/v1/orders/%s/status/" % order["id"],
                      {"status": "cancelled", "statusReason": "closed"}), 200)
    got = expect(c.admin("GET", "/orders/" + order["id"]), 200)
    paid = sum(x["amount"] for x in got["payments"] if x["kind"] == "payment")
    assert paid > 0 and sum(x["amount"] for x in refunds(got)) == paid, got["payments"]
    assert sum(t["refund"]["amount"] for t in got["tickets"]) == paid, got["tickets"]
    cv = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"],
                           query={"include": "items.refund_details,payments"}), 200)
    assert [x["paymentStatus"] for x in cv["payments"]] == ["refunded"]
    assert all(i["refunded"] and i["refundDetails"]["refundReason"] == "closed" for i in cv["items"])


# ---- issue 16: a voucher covering part of an admin order needs a payment for the rest ----

def test_partial_voucher_without_payment_is_refused(c):
    p = product(c, 1000, fee=150)
    v, code = voucher(c, 1000)
    cart = cart_of(c, p["id"], 2)
    err = error_of(book(c, cart, voucher_code=code), 400, "payment_required", "payment")
    assert "13.00" in err["message"] or "1300" in err["message"], err
    # nothing was sold or spent: the code keeps its value and the cart can still be booked
    assert code_row(c, v["id"], code)["value"] == 1000
    assert expect(c.admin("GET", "/carts/" + cart["id"]), 200)["status"] == "open"
    order = expect(book(c, cart, voucher_code=code, payment={"provider": "cash"}), 201)
    assert order["status"] == "confirmed"
    assert sorted(x["amount"] for x in order["payments"]) == [1000, 1300], order["payments"]


def test_voucher_covering_everything_needs_no_payment(c):
    p = product(c, 1000, fee=150)
    v, code = voucher(c, 5000)
    order = expect(book(c, cart_of(c, p["id"], 2), voucher_code=code), 201)
    assert order["status"] == "confirmed" and [x["amount"] for x in order["payments"]] == [2300]
    assert code_row(c, v["id"], code)["value"] == 2700
