"""Fourvenues channels API: PUT /tickets/{id}/refund {amount} (docs/dialects/fourvenues.md): partial or
total refunds, repeatable until nothing is left; the first voids the ticket (seat released, barcode no longer
scans); each goes back to the order's payments (and the payment session's provider) and is listed in the
ticket's `refunds`; the ticket's scan limit gives `for`, its scans `enter` and `entry_time`."""
import concurrent.futures

import pytest

from harness import Client, Skip, expect, unique
from fv_channel import HEX24, ISO_MS, UUID, fv, fv_data, fv_error, fv_ticket_id, iso_day, \
    make_event as make_channel_event, second_account, tag

URLS = {"success": "https://shop.example/ok", "failure": "https://shop.example/failed",
        "cancel": "https://shop.example/cancelled", "expired": "https://shop.example/expired"}


# after the demo concert (day 30): the tests that look for it on the first page of GET /events still find it
DAY = 200


def make_event(c, **kw):
    return make_channel_event(c, occurrences=[{"id": "oc_" + tag(), "start": iso_day(DAY), "end": iso_day(DAY, 23)}],
                              **kw)


def booked(c, token=None, quantity=2):
    """An event with one product (10.00 + 1.00 fee) and a paid order of `quantity` tickets of it."""
    kw = {"token": token} if token else {}
    ev, product = make_event(c, **kw)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": quantity}],
                                             "occurrence_id": ev["occurrences"][0]["id"],
                                             "customer": {"email": "ana@example.com", "name": "Ana Buyer"}}, **kw),
                  201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}, **kw), 201)
    return ev, product, order


def channel_ticket_id(ticket_id):
    """The channel's id of a ticket the admin API named (its engine UUID); anything else as it is."""
    return fv_ticket_id(ticket_id) if UUID.match(ticket_id) else ticket_id


def refund(c, ticket_id, amount, key=None, **kw):
    kw.update({"key": key} if key else {})
    return fv(c, "PUT", "/tickets/%s/refund" % channel_ticket_id(ticket_id), json_body={"amount": amount}, **kw)


def channel_id(c, key=None):
    kw = {"key": key} if key else {}
    return fv_data(fv(c, "GET", "/auth", **kw))["channel"]["_id"]


def ticket(c, ticket_id, key=None):
    kw = {"key": key} if key else {}
    return fv_data(fv(c, "GET", "/tickets/" + channel_ticket_id(ticket_id), **kw))


def scan(c, barcode):
    return expect(c.convious("POST", "/api/v2/accounts/demo/barcode/scan/",
                             {"barcode": barcode, "scannedAt": iso_day(DAY, 20, 30) + "+01:00"}), 200)


def payments(c, order, kind):
    return [p for p in expect(c.admin("GET", "/orders/" + order["id"]), 200)["payments"] if p["kind"] == kind]


def test_partial_then_total(c):
    ev, product, order = booked(c, quantity=2)
    first, second = order["tickets"]
    channel = channel_id(c)
    t = fv_data(refund(c, first["id"], 4.5))
    assert t["_id"] == fv_ticket_id(first["id"]) and HEX24.match(t["_id"]) and t["status"] == "voided", t
    assert t["refunded"] == 4.5 and ISO_MS.match(t["refunded_at"]), t
    assert t["refunds"] == [{"channel_id": channel, "amount": 4.5, "at": t["refunded_at"]}], t
    assert ticket(c, first["id"]) == t
    again = fv_data(refund(c, first["id"], 6.5))
    assert again["refunded"] == 11 and [r["amount"] for r in again["refunds"]] == [4.5, 6.5], again
    assert all(r["channel_id"] == channel and ISO_MS.match(r["at"]) for r in again["refunds"])
    fv_error(refund(c, first["id"], 0.01), 400, "amount_too_large", "amount")
    # the other ticket is untouched; the payment gave back exactly 11 of its 22, and stays paid
    assert ticket(c, second["id"])["status"] == "active"
    assert sum(p["amount"] for p in payments(c, order, "refund")) == 1100
    assert [p["status"] for p in payments(c, order, "payment")] == ["paid"]
    admin_ticket = [x for x in expect(c.admin("GET", "/orders/" + order["id"]), 200)["tickets"]
                    if x["id"] == first["id"]][0]
    assert admin_ticket["status"] == "refunded" and admin_ticket["refund"]["amount"] == 1100, admin_ticket
    assert [r["amount"] for r in admin_ticket["refunds"]] == [450, 650], admin_ticket


def test_total_at_once_and_the_order_fully_refunded(c):
    ev, product, order = booked(c, quantity=2)
    for t in order["tickets"]:
        assert fv_data(refund(c, t["id"], 11))["refunded"] == 11
    assert [p["status"] for p in payments(c, order, "payment")] == ["refunded"]
    assert sum(p["amount"] for p in payments(c, order, "refund")) == 2200
    # cancelling afterwards gives nothing more back: no ticket is live
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "late"}), 200)
    assert sum(p["amount"] for p in payments(c, order, "refund")) == 2200


def test_refund_then_cancel_keeps_tickets_and_payments_in_step(c):
    ev, product, order = booked(c, quantity=2)
    first, second = order["tickets"]
    fv_data(refund(c, first["id"], 3))
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "called off"}), 200)
    assert ticket(c, second["id"])["refunded"] == 11
    assert sum(p["amount"] for p in payments(c, order, "refund")) == 1400
    # the partly refunded ticket keeps what is left of it
    assert fv_data(refund(c, first["id"], 8))["refunded"] == 11
    assert sum(p["amount"] for p in payments(c, order, "refund")) == 2200
    assert [p["status"] for p in payments(c, order, "payment")] == ["refunded"]
    fv_error(refund(c, second["id"], 1), 400, "amount_too_large", "amount")


def test_first_refund_releases_the_seat_and_stops_the_barcode(c):
    ev, product = make_event(c, capacity=1)
    occ = ev["occurrences"][0]["id"]
    cart = {"items": [{"product_id": product["id"], "quantity": 1}], "occurrence_id": occ}
    order = expect(c.admin("POST", "/orders", {"cart_id": expect(c.admin("POST", "/carts", cart), 201)["id"],
                                               "payment": {"provider": "cash"}}), 201)
    expect(c.admin("POST", "/carts", cart), 409)  # sold out
    t = order["tickets"][0]
    fv_data(refund(c, t["id"], 1))
    expect(c.admin("POST", "/carts", cart), 201)  # the seat is back
    assert scan(c, t["barcode"])["status"] != "success"
    after = ticket(c, t["id"])
    assert after["enter"] == 0 and after["entry_time"] is None


def test_over_refund_changes_nothing(c):
    ev, product, order = booked(c, quantity=1)
    t = order["tickets"][0]
    fv_error(refund(c, t["id"], 11.01), 400, "amount_too_large", "amount")
    assert ticket(c, t["id"])["status"] == "active" and payments(c, order, "refund") == []
    assert scan(c, t["barcode"])["status"] == "success"


@pytest.mark.parametrize("body,code,field", [
    ({"amount": 0}, "invalid_amount", "amount"), ({"amount": -1}, "invalid_amount", "amount"),
    ({"amount": "5"}, "invalid_field", "amount"), ({"amount": 1.001}, "invalid_field", "amount"),
    ({"amount": None}, "invalid_field", "amount"), ({"amount": True}, "invalid_field", "amount"),
    ({"amount": 1e300}, "invalid_field", "amount"), ({}, "invalid_field", "amount"),
    ({"amount": 1, "reason": "x"}, "invalid_field", "reason"),
], ids=["zero", "negative", "string", "sub_cent", "null", "bool", "huge", "missing", "unknown"])
def test_bad_amounts(c, body, code, field):
    ev, product, order = booked(c, quantity=1)
    t = order["tickets"][0]
    fv_error(fv(c, "PUT", "/tickets/%s/refund" % fv_ticket_id(t["id"]), json_body=body), 400, code, field)
    assert ticket(c, t["id"])["status"] == "active"


def test_bad_bodies_and_ids(c):
    ev, product, order = booked(c, quantity=1)
    path = "/tickets/%s/refund" % fv_ticket_id(order["tickets"][0]["id"])
    fv_error(fv(c, "PUT", path, raw=b"{", headers={"Content-Type": "application/json"}), 400, "invalid_body")
    fv_error(fv(c, "PUT", path, json_body=[1]), 400, "invalid_body")
    fv_error(fv(c, "PUT", path, raw=b"amount=1", headers={"Content-Type": "application/x-www-form-urlencoded"}),
             400, "invalid_body")
    fv_error(fv(c, "PUT", path, json_body={"amount": 1}, query={"x": "1"}), 400, "invalid_parameter", "x")
    fv_error(fv(c, "POST", path, json_body={"amount": 1}), 405, "method_not_allowed")
    fv_error(fv(c, "PUT", path, json_body={"amount": 1}, key="fv_wrong"), 401, "unauthorized")
    fv_error(refund(c, "nope", 1), 404, "not_found", "id")
    fv_error(refund(c, "x" * 300, 1), 404, "not_found", "id")
    # the engine's UUID (what other dialects show) is no channel ticket id, nor another spelling of the 24 digits
    for wrong in (order["tickets"][0]["id"], fv_ticket_id(order["tickets"][0]["id"]).upper(), "0" * 24):
        fv_error(fv(c, "PUT", "/tickets/%s/refund" % wrong, json_body={"amount": 1}), 404, "not_found", "id")
    assert ticket(c, order["tickets"][0]["id"])["status"] == "active"


def test_unpaid_and_undated_tickets(c):
    ev, product = make_event(c)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "occurrence_id": ev["occurrences"][0]["id"]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "pay_later": True}), 201)
    t = order["tickets"][0]
    assert ticket(c, t["id"])["status"] == "pending_payment"
    fv_error(refund(c, t["id"], 1), 400, "not_paid")
    # a voided ticket was given up without a refund
    ev, product, paid = booked(c, quantity=1)
    expect(c.admin("POST", "/tickets/%s/void" % paid["tickets"][0]["id"]), 200)
    fv_error(refund(c, paid["tickets"][0]["id"], 1), 400, "not_refundable")
    # a ticket of no channel event is not the channel's
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": "d0000000-0000-4000-8000-000000000007",
                                                        "quantity": 1}]}), 201)
    undated = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    fv_error(refund(c, undated["tickets"][0]["id"], 1), 404, "not_found", "id")


def test_free_ticket_is_not_paid(c):
    ev, product = make_event(c, price=0, fee=0)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "occurrence_id": ev["occurrences"][0]["id"]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    fv_error(refund(c, order["tickets"][0]["id"], 1), 400, "not_paid")


def test_another_accounts_ticket(c):
    token, key = second_account(c)
    ev, product, order = booked(c, token=token, quantity=1)
    theirs = order["tickets"][0]["id"]
    fv_error(refund(c, theirs, 1), 404, "not_found", "id")
    assert ticket(c, theirs, key=key)["status"] == "active"
    t = fv_data(refund(c, theirs, 1, key=key))
    assert t["refunds"][0]["channel_id"] == channel_id(c, key=key) != channel_id(c)


def test_refund_of_a_payment_session_goes_back_to_its_provider(c):
    ev, product = make_event(c)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 2}],
                                             "occurrence_id": ev["occurrences"][0]["id"]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "pay_later": True}), 201)
    p = expect(c.admin("POST", "/orders/%s/payments" % order["id"],
                       {"provider": "fake", "method": "card", "fee": 0, "callback_urls": URLS}), 201)
    paid = c.request("POST", "/payments/notify/fake", form={"id": "fk_" + p["id"], "status": "paid"})
    if paid.status == 404:
        raise Skip("the fake provider needs a server started with --test-clock")
    expect(paid, 200)
    first, second = order["tickets"]
    fv_data(refund(c, first["id"], 11))
    fv_data(refund(c, second["id"], 2.5))
    back = payments(c, order, "refund")
    assert [(r["provider"], r["method"], r["reference"], r["amount"]) for r in back] == \
        [("fake", "card", p["id"], 1100), ("fake", "card", p["id"], 250)], back
    assert [x["status"] for x in payments(c, order, "payment")] == ["paid"]
    fv_data(refund(c, second["id"], 8.5))
    assert [x["status"] for x in payments(c, order, "payment")] == ["refunded"]


def test_concurrent_refunds_never_pass_what_was_paid(c):
    ev, product, order = booked(c, quantity=1)
    t = order["tickets"][0]

    def one(_):
        return refund(Client(), t["id"], 3).status

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(8)))
    assert sorted(statuses) == [200] * 3 + [400] * 5, statuses
    after = ticket(c, t["id"])
    assert after["refunded"] == 9 and len(after["refunds"]) == 3, after
    assert sum(p["amount"] for p in payments(c, order, "refund")) == 900


def test_for_and_enter_from_the_scan_limit_and_scans(c):
    ev, product = make_event(c)
    product = expect(c.admin("PATCH", "/products/" + product["id"],
                             {"scan": {"limit": "times_per_day", "times": 3}}), 200)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "occurrence_id": ev["occurrences"][0]["id"]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    t = order["tickets"][0]
    assert ticket(c, t["id"])["for"] == 3
    assert scan(c, t["barcode"])["status"] == "success"
    assert scan(c, t["barcode"])["status"] == "success"
    after = ticket(c, t["id"])
    assert after["enter"] == 2 and ISO_MS.match(after["entry_time"]), after
    unlimited = expect(c.admin("POST", "/products", {
        "name": {"en": unique("Free pass")}, "event_id": ev["id"], "price": 500,
        "scan": {"limit": "none"}}), 201)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": unlimited["id"], "quantity": 1}],
                                             "occurrence_id": ev["occurrences"][0]["id"]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    assert ticket(c, order["tickets"][0]["id"])["for"] == 0
