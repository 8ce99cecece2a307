"""Ticket Tailor discounts: CRUD, validation, and times_redeemed counted from
real bookings (max_redemptions enforced when the code is used)."""
import time
import uuid

from harness import expect, tt_error

ADULT = "d0000000-0000-4000-8000-000000000005"
GUIDE = "d0000000-0000-4000-8000-000000000007"


def sell(c, code):
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 2}]}), 201)
    return c.admin("POST", "/orders", {"cart_id": cart["id"], "discount_code": code, "payment": {"provider": "cash"}})


def test_discount_lifecycle_and_redemptions(c):
    code = "TT-" + uuid.uuid4().hex[:8]
    expires = int(time.time()) + 86400 * 30
    r = c.tickettailor("POST", "/v1/discounts", json_body={
        "code": code, "name": "Test discount", "type": "fixed_amount", "price": 100, "max_redemptions": 1,
        "expires": expires, "ticket_types": ["tt_" + GUIDE]})
    d = expect(r, 201)
    assert d["object"] == "discount" and d["id"].startswith("di_") and d["code"] == code
    assert d["price"] == 100 and d["type"] == "fixed_amount" and d["times_redeemed"] == 0
    assert d["ticket_types"] == ["tt_" + GUIDE] and d["expires"]["unix"] == expires
    order = expect(sell(c, code), 201)
    assert order["discount_total"] == 200 and order["total_after_discount_gross"] == 700
    got = expect(c.tickettailor("GET", "/v1/discounts/" + d["id"]), 200)
    assert got["times_redeemed"] == 1
    r = sell(c, code)
    assert r.status == 409, r  # used up
    listed = expect(c.tickettailor("GET", "/v1/discounts", query={"code": code}), 200)
    assert [x["id"] for x in listed["data"]] == [d["id"]]
    upd = expect(c.tickettailor("POST", "/v1/discounts/" + d["id"], json_body={
        "name": "Renamed", "ticket_types": {"tt_" + GUIDE: "0", "tt_" + ADULT: "1"}}), 200)
    assert upd["name"] == "Renamed" and upd["ticket_types"] == ["tt_" + ADULT] and upd["times_redeemed"] == 1
    gone = expect(c.tickettailor("DELETE", "/v1/discounts/" + d["id"]), 200)
    assert gone == {"id": d["id"], "object": "discount", "deleted": True}
    tt_error(c.tickettailor("GET", "/v1/discounts/" + d["id"]), 404)


def test_percentage_discount_from_a_form(c):
    code = "PCT-" + uuid.uuid4().hex[:8]
    d = expect(c.tickettailor("POST", "/v1/discounts", form={"code": code, "name": "Ten percent",
                                                             "type": "percentage", "price_percent": "10"}), 201)
    assert d["price_percent"] == 10 and d["type"] == "percentage" and d["max_redemptions"] is None
    d = expect(c.tickettailor("POST", "/v1/discounts/" + d["id"], form={"max_redemptions": "5"}), 200)
    assert d["max_redemptions"] == 5 and d["price_percent"] == 10
    order = expect(sell(c, code), 201)
    assert order["discount_total"] == 90  # 10% of 2 x 4.50
    expect(c.tickettailor("DELETE", "/v1/discounts/" + d["id"]), 200)


def test_discount_validation(c):
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"name": "x", "type": "fixed_amount"}), 422, "code")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": "X1", "name": "x", "type": "bogus"}), 422,
             "type")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": "X2", "name": "x", "type": "fixed_amount",
                                                                "price": -5}), 422, "price")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": "X3", "name": "x", "type": "percentage",
                                                                "price_percent": 150}), 422, "price_percent")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": "X4", "name": "x", "type": "fixed_amount"}),
             422, "price")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": "X5", "name": "x", "type": "fixed_amount",
                                                                "price": 1, "ticket_types": ["tt_nope"]}), 422)
    tt_error(c.tickettailor("POST", "/v1/discounts", raw="[]"), 400)
    # form values are text: numbers must read as whole numbers
    e = tt_error(c.tickettailor("POST", "/v1/discounts", form={"code": "X6", "name": "x", "type": "fixed_amount",
                                                              "price": "ten"}), 422, "price")
    assert e["error_code"] == "Validation error", e
    tt_error(c.tickettailor("POST", "/v1/discounts", form={"code": "X7", "name": "x", "type": "percentage",
                                                          "price_percent": "101"}), 422, "price_percent")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": "X8", "name": "x", "type": "fixed_amount",
                                                                "price": 1.5}), 422, "price")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": "X9", "name": "x", "type": "fixed_amount",
                                                                "price": 1, "expires": 10 ** 15}), 422, "expires")
    tt_error(c.tickettailor("POST", "/v1/discounts", json_body={"code": 7, "name": "x", "type": "fixed_amount"}),
             422, "code")
    tt_error(c.tickettailor("GET", "/v1/discounts/di_" + str(uuid.uuid4())), 404)
    tt_error(c.tickettailor("GET", "/v1/discounts", query={"starting_after": "di_nope"}), 422)
