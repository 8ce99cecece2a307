"""Booking-fee discounts (docs/MODEL.md, "Money"): a discount's
booking_fee_amount (per ticket, never below a fee of 0) or booking_fee_percent_bp
(of the line's fees, rounded once, spread by largest remainder), managed through
/admin/v1 and Ticket Tailor's booking_fee / booking_fee_percent; what an order
charges, what its tickets carry, and what a cancellation refunds."""
import uuid

import pytest

from harness import admin_error, expect, tt_error, unique


def product(c, price, fee):
    """An undated product of its own pool, so no other test's sales count."""
    pool = expect(c.admin("POST", "/pools", {"name": unique("pool"), "capacity": 5000, "per": "total"}), 201)
    return expect(c.admin("POST", "/products", {
        "name": {"en": unique("Fee")}, "price": price, "booking_fee": fee, "price_includes_tax": True,
        "taxes": [{"type": "VAT", "rate_bp": 2100, "proportion_bp": 10000}],
        "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)


def discount(c, **fields):
    body = dict({"code": unique("FEE").upper(), "type": "fixed"}, **fields)
    return expect(c.admin("POST", "/discounts", body), 201)


def book(c, items, **body):
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": p, "quantity": q} for p, q in items]}), 201)
    return c.admin("POST", "/orders", dict({"cart_id": cart["id"], "payment": {"provider": "cash"}}, **body))


def charged(order):
    return sum(p["amount"] for p in order["payments"] if p["kind"] == "payment")


def fees_of(order, product_id):
    return sorted((t["booking_fee"] for t in order["tickets"] if t["product_id"] == product_id), reverse=True)


def test_fixed_booking_fee_discount_per_ticket(c):
    p = product(c, 1000, 150)
    d = discount(c, booking_fee_amount=100, product_ids=[p["id"]])
    assert d["booking_fee_amount"] == 100 and "amount" not in d
    order = expect(book(c, [(p["id"], 3)], discount_code=d["code"]), 201)
    assert fees_of(order, p["id"]) == [50, 50, 50]
    assert order["booking_fee_total"] == 150 and order["discount_total"] == 0
    assert order["total_after_discount_gross"] == 3000
    assert order["discounts"][0]["booking_fee_amount"] == 300 and order["discounts"][0]["amount"] == 0
    # what the order charges: tickets after discount plus the fees after theirs
    assert charged(order) == 3000 + 150


def test_fixed_booking_fee_discount_never_below_zero(c):
    p = product(c, 1000, 150)
    d = discount(c, booking_fee_amount=500)
    order = expect(book(c, [(p["id"], 2)], discount_code=d["code"]), 201)
    assert fees_of(order, p["id"]) == [0, 0]
    assert order["booking_fee_total"] == 0 and order["discounts"][0]["booking_fee_amount"] == 300
    assert charged(order) == 2000


def test_percentage_booking_fee_rounded_once_per_line(c):
    # 33% of 3 x 1.99 = 1.9701 -> 1.97 for the line, spread 0.66, 0.66, 0.65
    p = product(c, 1000, 199)
    d = discount(c, booking_fee_percent_bp=3300)
    order = expect(book(c, [(p["id"], 3)], discount_code=d["code"]), 201)
    assert fees_of(order, p["id"]) == [134, 133, 133]
    assert order["booking_fee_total"] == 400 and order["discounts"][0]["booking_fee_amount"] == 197
    assert charged(order) == 3000 + 400


def test_price_and_fee_discount_together_and_only_on_listed_products(c):
    on, off = product(c, 1000, 100), product(c, 2000, 300)
    d = discount(c, type="percentage", percent_bp=1000, booking_fee_percent_bp=5000, product_ids=[on["id"]])
    order = expect(book(c, [(on["id"], 2), (off["id"], 1)], discount_code=d["code"]), 201)
    assert fees_of(order, on["id"]) == [50, 50] and fees_of(order, off["id"]) == [300]
    assert order["discount_total"] == 200  # 10% of 2 x 10.00
    assert order["booking_fee_total"] == 400
    assert order["discounts"][0] == {"code": d["code"], "type": "percentage", "name": d["code"], "amount": 200,
                                     "booking_fee_amount": 100}
    assert charged(order) == 1800 + 2000 + 400


def test_cancel_refunds_the_discounted_fees_and_tickets_agree(c):
    p = product(c, 1000, 199)
    d = discount(c, booking_fee_percent_bp=3300)
    order = expect(book(c, [(p["id"], 3)], discount_code=d["code"]), 201)
    cancelled = expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "fee"}), 200)
    refunds = [x["amount"] for x in cancelled["payments"] if x["kind"] == "refund"]
    amounts = sorted((t["refund"]["amount"] for t in cancelled["tickets"]), reverse=True)
    assert amounts == [1134, 1133, 1133]
    assert sum(amounts) == sum(refunds) == charged(order) == 3400


def test_voided_ticket_keeps_the_rest_of_the_refund_in_step(c):
    p = product(c, 1000, 150)
    d = discount(c, booking_fee_amount=50)
    order = expect(book(c, [(p["id"], 2)], discount_code=d["code"]), 201)
    expect(c.admin("POST", "/tickets/%s/void" % order["tickets"][0]["id"]), 200)
    cancelled = expect(c.admin("POST", "/orders/%s/cancel" % order["id"]), 200)
    refunds = [x["amount"] for x in cancelled["payments"] if x["kind"] == "refund"]
    live = [t for t in cancelled["tickets"] if t["refund"]]
    assert [t["refund"]["amount"] for t in live] == [1100]
    assert sum(refunds) == 1100


def test_ticket_tailor_order_shows_the_discounted_fees(c):
    p = product(c, 1000, 150)
    d = discount(c, booking_fee_amount=100)
    order = expect(book(c, [(p["id"], 2)], discount_code=d["code"]), 201)
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + order["id"]), 200)
    assert tt["total"] == 2000 + 100
    assert [(li["booking_fee"], li["total"], li["quantity"]) for li in tt["line_items"]] == [(50, 2100, 2)]


# ---- the catalog document (admin) ----

@pytest.mark.parametrize("fields, status, code, field", [
    ({"booking_fee_amount": 10, "booking_fee_percent_bp": 100}, 400, "invalid_field", "booking_fee_percent_bp"),
    ({"booking_fee_percent_bp": 10001}, 400, "invalid_percentage", "booking_fee_percent_bp"),
    ({"booking_fee_percent_bp": -1}, 400, "invalid_field", "booking_fee_percent_bp"),
    ({"booking_fee_amount": -5}, 400, "invalid_field", "booking_fee_amount"),
    ({"booking_fee_amount": "5"}, 400, "invalid_field", "booking_fee_amount"),
    ({"booking_fee_amount": 1.5}, 400, "invalid_field", "booking_fee_amount"),
    ({"booking_fee_amount": 10 ** 13}, 400, "invalid_field", "booking_fee_amount"),
    ({}, 400, "missing_field", "amount"),  # a fixed discount with nothing off
])
def test_admin_discount_booking_fee_errors(c, fields, status, code, field):
    body = dict({"code": unique("BAD"), "type": "fixed"}, **fields)
    admin_error(c.admin("POST", "/discounts", body), status, code, field)


def test_admin_patch_clears_a_booking_fee_rule(c):
    d = discount(c, amount=100, booking_fee_amount=50)
    d = expect(c.admin("PATCH", "/discounts/" + d["id"], {"booking_fee_amount": None,
                                                         "booking_fee_percent_bp": 2500}), 200)
    assert "booking_fee_amount" not in d and d["booking_fee_percent_bp"] == 2500


# ---- Ticket Tailor ----

def test_ticket_tailor_discount_booking_fee_lifecycle(c):
    code = unique("TTFEE")
    d = expect(c.tickettailor("POST", "/v1/discounts", json_body={
        "code": code, "name": "Fee off", "type": "fixed_amount", "booking_fee": 75, "max_redemptions": 5}), 201)
    assert d["booking_fee"] == 75 and d["booking_fee_percent"] is None
    got = expect(c.tickettailor("GET", "/v1/discounts/" + d["id"]), 200)
    assert got["booking_fee"] == 75 and got["booking_fee_percent"] is None
    listed = expect(c.tickettailor("GET", "/v1/discounts", query={"code": code}), 200)["data"]
    assert [(x["booking_fee"], x["booking_fee_percent"]) for x in listed] == [(75, None)]
    # setting the percentage replaces the fixed amount
    upd = expect(c.tickettailor("POST", "/v1/discounts/" + d["id"], json_body={"booking_fee_percent": 50}), 200)
    assert upd["booking_fee"] is None and upd["booking_fee_percent"] == 50
    # it applies: 50% of 2 x 1.50
    p = product(c, 1000, 150)
    order = expect(book(c, [(p["id"], 2)], discount_code=code), 201)
    assert order["booking_fee_total"] == 150 and fees_of(order, p["id"]) == [75, 75]
    # null clears it, but a fixed discount must then take something off the price
    tt_error(c.tickettailor("POST", "/v1/discounts/" + d["id"], json_body={"booking_fee_percent": None}), 422, "price")
    upd = expect(c.tickettailor("POST", "/v1/discounts/" + d["id"], json_body={"booking_fee_percent": None,
                                                                               "price": 10}), 200)
    assert upd["booking_fee"] is None and upd["booking_fee_percent"] is None and upd["price"] == 10
    # a form body reads the same
    upd = expect(c.tickettailor("POST", "/v1/discounts/" + d["id"], form={"booking_fee": "20"}), 200)
    assert upd["booking_fee"] == 20 and upd["booking_fee_percent"] is None
    expect(c.tickettailor("DELETE", "/v1/discounts/" + d["id"]), 200)


def test_ticket_tailor_percentage_discount_of_the_fee_alone(c):
    d = expect(c.tickettailor("POST", "/v1/discounts", form={
        "code": unique("TTPF"), "name": "Half fee", "type": "percentage", "booking_fee_percent": "50"}), 201)
    assert d["booking_fee_percent"] == 50 and d["type"] == "percentage"
    expect(c.tickettailor("DELETE", "/v1/discounts/" + d["id"]), 200)


@pytest.mark.parametrize("body, field", [
    ({"booking_fee": -1}, "booking_fee"),
    ({"booking_fee": "ten"}, "booking_fee"),
    ({"booking_fee": 10 ** 13}, "booking_fee"),
    ({"booking_fee_percent": 101}, "booking_fee_percent"),
    ({"booking_fee_percent": -5}, "booking_fee_percent"),
    ({"booking_fee_percent": 2.5}, "booking_fee_percent"),
    ({"booking_fee": 10, "booking_fee_percent": 10}, "booking_fee_percent"),
])
def test_ticket_tailor_booking_fee_validation(c, body, field):
    full = dict({"code": unique("TTBAD"), "name": "x", "type": "fixed_amount", "price": 1}, **body)
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body=full), 422, field)


def test_ticket_tailor_form_booking_fee_must_be_a_number(c):
    tt_error(c.tickettailor("POST", "/v1/discounts", form={"code": unique("TTF"), "name": "x", "type": "fixed_amount",
                                                          "booking_fee": "1e3"}), 422, "booking_fee")
