"""After-payment forms (issue 11): a product with apf_enabled asks its
apf_fields per ticket after booking. The Convious order's unfilledApf is true
while a live ticket leaves a required field empty, and unfilledApfUrl points
at GET/POST /convious/api/v1/orders/{id}/apf/ (our endpoint: the doc shows only
the form's result, items.afterPaymentForm); /admin/v1 answers with POST
/orders/{id}/apf. Answers are all or none, checked per field type."""
import datetime
import uuid

import pytest

from harness import expect, admin_error

ACCOUNT = "/api/v1/accounts/demo"
FIELDS = [{"id": "name", "label": {"en": "Full name", "nl": "Naam"}, "required": True},
          {"id": "email", "label": "E-mail", "type": "email", "required": True},
          {"id": "phone", "label": "Phone", "type": "phone"},
          {"id": "born", "label": "Date of birth", "type": "date"},
          {"id": "age", "label": "Age", "type": "number"},
          {"id": "news", "label": "Newsletter", "type": "checkbox"}]


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def cv_error(resp, status, code, field=None):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    assert resp.json["error"] == code and resp.json.get("field") == field, resp
    return resp.json


def product(c, enabled=True, fields=None):
    pool = expect(c.admin("POST", "/pools", {"name": uniq("pool"), "capacity": 5000, "per": "total"}), 201)
    doc = {"name": {"en": uniq("Form")}, "price": 500, "pools": [{"pool_id": pool["id"], "amount": 1}],
           "apf_enabled": enabled, "apf_fields": FIELDS if fields is None else fields}
    return expect(c.admin("POST", "/products", doc), 201)


def cv_order(c, *products):
    """A Convious order of one ticket of each product given (undated)."""
    cart = expect(c.convious("POST", ACCOUNT + "/carts/", {
        "items": [{"productId": p["id"], "amount": n} for p, n in products]}), 200)
    return expect(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"]}), 200)


def cv_get(c, order_id, include="items"):
    return expect(c.convious("GET", "/api/v1/orders/%s/" % order_id, query={"include": include}), 200)


def answer(c, order_id, items):
    return c.convious("POST", "/api/v1/orders/%s/apf/" % order_id, {"items": items})


def apf_path(order_id):
    return "/api/v1/orders/%s/apf/" % order_id


# ---- the flow ----

def test_unfilled_until_every_required_field_is_answered(c):
    p = product(c)
    order = cv_order(c, (p, 2))
    oid = order["id"]
    assert order["unfilledApf"] is True
    assert order["unfilledApfUrl"].endswith("/convious/api/v1/orders/%s/apf/" % oid)
    t0, t1 = [i["id"] for i in order["items"]]
    assert all(i["afterPaymentForm"] == {} for i in order["items"])

    form = expect(c.convious("GET", apf_path(oid)), 200)
    assert form["orderId"] == oid and form["unfilledApf"] is True
    assert [i["id"] for i in form["items"]] == [t0, t1]
    assert form["items"][0]["fields"][0] == {"id": "name", "label": {"en": "Full name", "nl": "Naam"},
                                             "type": "text", "required": True, "value": None}
    assert [f["type"] for f in form["items"][0]["fields"]] == ["text", "email", "phone", "date", "number", "checkbox"]

    # one ticket answered in full, the other in part: still unfilled
    got = expect(answer(c, oid, [{"id": t0, "afterPaymentForm": {"name": "Ann Smith", "email": "ann@example.com",
                                                                 "news": True, "age": 42}},
                                 {"id": t1, "afterPaymentForm": {"name": "Bob"}}]), 200)
    assert got["unfilledApf"] is True
    assert {f["id"]: f["value"] for f in got["items"][0]["fields"]} == {
        "name": "Ann Smith", "email": "ann@example.com", "phone": None, "born": None, "age": "42", "news": "true"}
    o = cv_get(c, oid)
    assert o["unfilledApf"] is True and o["unfilledApfUrl"]

    # the last required answer: filled, and the timeline shows the order again
    before = o["updatedAt"]
    got = expect(answer(c, oid, [{"id": t1, "afterPaymentForm": {"email": "bob@example.com"}}]), 200)
    assert got["unfilledApf"] is False
    o = cv_get(c, oid)
    assert o["unfilledApf"] is False and o["unfilledApfUrl"] is None and o["updatedAt"] >= before
    forms = {i["id"]: i["afterPaymentForm"] for i in o["items"]}
    assert forms[t0] == {"name": "Ann Smith", "email": "ann@example.com", "age": "42", "news": "true"}
    assert forms[t1] == {"name": "Bob", "email": "bob@example.com"}
    # the same in the timeline
    listed = expect(c.convious("GET", "/api/v1/orders/", query={"order_number": o["number"], "include": "items"}),
                    200)["results"]
    assert listed and listed[0]["unfilledApf"] is False and listed[0]["items"][0]["afterPaymentForm"]

    # clearing a required answer (null) makes the order unfilled again; the canonical ticket says why
    got = expect(answer(c, oid, [{"id": t1, "afterPaymentForm": {"email": None}}]), 200)
    assert got["unfilledApf"] is True
    canon = expect(c.admin("GET", "/orders/%s" % oid), 200)
    assert {t["id"]: t.get("apf") for t in canon["tickets"]}[t1] == {"name": "Bob"}


def test_order_without_forms_is_filled(c):
    plain = product(c, enabled=False)
    optional = product(c, fields=[{"id": "note", "label": "Note"}])
    order = cv_order(c, (plain, 1), (optional, 1))
    assert order["unfilledApf"] is False and order["unfilledApfUrl"] is None
    form = expect(c.convious("GET", apf_path(order["id"])), 200)
    assert [i["productId"] for i in form["items"]] == [optional["id"]]
    # a product asking no form takes no answers
    plain_ticket = next(i["id"] for i in order["items"] if i["productId"] == plain["id"])
    cv_error(answer(c, order["id"], [{"id": plain_ticket, "afterPaymentForm": {"note": "x"}}]), 400,
             "apf_not_enabled", "items.id")


def test_voided_and_cancelled_tickets_ask_nothing(c):
    p = product(c)
    order = cv_order(c, (p, 2))
    t0, t1 = [i["id"] for i in order["items"]]
    expect(c.admin("POST", "/tickets/%s/void" % t0), 200)
    # the voided ticket no longer counts, and takes no answers
    cv_error(answer(c, order["id"], [{"id": t0, "afterPaymentForm": {"name": "X"}}]), 409, "ticket_not_live", "items.id")
    expect(answer(c, order["id"], [{"id": t1, "afterPaymentForm": {"name": "Y", "email": "y@example.com"}}]), 200)
    assert cv_get(c, order["id"])["unfilledApf"] is False
    other = cv_order(c, (p, 1))
    expect(c.convious("POST", "/api/v1/orders/%s/status/" % other["id"], {"status": "cancelled"}), 200)
    assert cv_get(c, other["id"])["unfilledApf"] is False
    cv_error(answer(c, other["id"], [{"id": other["items"][0]["id"], "afterPaymentForm": {"name": "Z"}}]), 409,
             "order_cancelled", "status")


def test_holder_fields_stay_under_the_answers(c):
    p = product(c)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": p["id"], "quantity": 1}]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"]}), 201)
    t = order["tickets"][0]["id"]
    got = expect(c.admin("POST", "/orders/%s/apf" % order["id"], {"tickets": [
        {"ticket_id": t, "answers": {"name": "Ann", "email": "ann@example.com", "news": False}}]}), 200)
    assert got["tickets"][0]["apf"] == {"name": "Ann", "email": "ann@example.com", "news": "false"}
    o = cv_get(c, order["id"])
    assert o["unfilledApf"] is False and o["items"][0]["afterPaymentForm"]["news"] == "false"


# ---- errors: status, code, field; nothing written ----

BAD_VALUES = [
    ("email without at", "email", "ann.example.com"),
    ("email with space", "email", "ann @example.com"),
    ("phone letters", "phone", "call me"),
    ("phone too short", "phone", "123"),
    ("date malformed", "born", "2026-13-40"),
    ("number word", "age", "forty"),
    ("number trailing dot", "age", "4."),
    ("checkbox word", "news", "yes"),
    ("text too long", "name", "x" * 501),
]


@pytest.mark.parametrize("name,field,value", BAD_VALUES, ids=[r[0] for r in BAD_VALUES])
def test_invalid_answers_are_refused(c, name, field, value):
    p = product(c)
    order = cv_order(c, (p, 1))
    t = order["items"][0]["id"]
    cv_error(answer(c, order["id"], [{"id": t, "afterPaymentForm": {field: value}}]), 400, "invalid_answer",
             "items.afterPaymentForm")
    assert cv_get(c, order["id"])["items"][0]["afterPaymentForm"] == {}


def test_text_of_500_characters_in_any_script_is_taken(c):
    p = product(c)
    order = cv_order(c, (p, 1))
    t = order["items"][0]["id"]
    name = "Ж" * 500
    expect(answer(c, order["id"], [{"id": t, "afterPaymentForm": {"name": name, "email": "a@b.nl"}}]), 200)
    assert cv_get(c, order["id"])["items"][0]["afterPaymentForm"]["name"] == name


def test_request_errors(c):
    p = product(c)
    order = cv_order(c, (p, 2))
    oid = order["id"]
    t0, t1 = [i["id"] for i in order["items"]]
    other = cv_order(c, (p, 1))["items"][0]["id"]
    cv_error(c.convious("GET", apf_path(str(uuid.uuid4()))), 404, "not_found")
    cv_error(answer(c, str(uuid.uuid4()), [{"id": t0, "afterPaymentForm": {"name": "A"}}]), 404, "not_found")
    cv_error(answer(c, oid, [{"id": other, "afterPaymentForm": {"name": "A"}}]), 404, "unknown_ticket", "items.id")
    cv_error(answer(c, oid, [{"id": "x" * 300, "afterPaymentForm": {"name": "A"}}]), 404, "unknown_ticket", "items.id")
    cv_error(answer(c, oid, [{"id": t0, "afterPaymentForm": {"shoe_size": "44"}}]), 400, "unknown_apf_field",
             "items.afterPaymentForm")
    cv_error(answer(c, oid, [{"id": t0, "afterPaymentForm": {"name": {"first": "A"}}}]), 400, "invalid_answer",
             "items.afterPaymentForm")
    cv_error(answer(c, oid, [{"id": t0, "afterPaymentForm": {"name": 1.5}}]), 400, "invalid_answer",
             "items.afterPaymentForm")
    cv_error(answer(c, oid, [{"id": t0, "afterPaymentForm": {}}]), 400, "missing_field", "items.afterPaymentForm")
    cv_error(answer(c, oid, [{"id": t0, "afterPaymentForm": {"name": "A"}},
                             {"id": t0, "afterPaymentForm": {"name": "B"}}]), 400, "duplicate_ticket", "items.id")
    cv_error(answer(c, oid, [{"afterPaymentForm": {"name": "A"}}]), 400, "invalid_items", "items.id")
    cv_error(answer(c, oid, [{"id": t0, "afterPaymentForm": "name=A"}]), 400, "invalid_answer",
             "items.afterPaymentForm")
    cv_error(answer(c, oid, [{"id": t0}]), 400, "invalid_answer", "items.afterPaymentForm")
    cv_error(answer(c, oid, []), 400, "invalid_items", "items")
    cv_error(answer(c, oid, "all"), 400, "invalid_items", "items")
    cv_error(c.convious("POST", apf_path(oid), {}), 400, "invalid_items", "items")
    r = c.convious("POST", apf_path(oid), raw='{"items": [{"id": "%s", "afterPaymentForm": {"name": "A\\u0000B"}}]}'
                   % t0)
    assert r.status == 400 and r.json["error"], r
    r = c.convious("POST", apf_path(oid), raw='{"items": [')
    assert r.status == 400, r
    for method in ("GET", "POST"):
        r = c.convious(method, apf_path(oid), {"items": [{"id": t0, "afterPaymentForm": {"name": "A"}}]},
                       token="at_forged")
        assert r.status == 401 and r.json["error"], r
    # all or none: the first ticket's good answers are not kept when the second's fail
    cv_error(answer(c, oid, [{"id": t0, "afterPaymentForm": {"name": "Kept?", "email": "k@example.com"}},
                             {"id": t1, "afterPaymentForm": {"email": "broken"}}]), 400, "invalid_answer",
             "items.afterPaymentForm")
    assert all(i["afterPaymentForm"] == {} for i in cv_get(c, oid)["items"])


def test_admin_errors(c):
    p = product(c)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": p["id"], "quantity": 1}]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"]}), 201)
    oid, t = order["id"], order["tickets"][0]["id"]
    path = "/orders/%s/apf" % oid
    admin_error(c.admin("POST", path, {}), 400, "missing_field", "tickets")
    admin_error(c.admin("POST", path, {"tickets": []}), 400, "invalid_field", "tickets")
    admin_error(c.admin("POST", path, {"tickets": ["x"]}), 400, "invalid_field", "tickets")
    admin_error(c.admin("POST", path, {"tickets": [{"ticket_id": t}]}), 400, "missing_field", "tickets[0].answers")
    admin_error(c.admin("POST", path, {"tickets": [{"ticket_id": t, "answers": {"name": 3}}]}), 400,
                "invalid_field", "answers")
    admin_error(c.admin("POST", path, {"tickets": [{"ticket_id": t, "answers": {"x": "1"}}]}), 400,
                "unknown_apf_field", "answers")
    admin_error(c.admin("POST", path, {"tickets": [{"ticket_id": t, "answers": {"email": "nope"}}]}), 400,
                "invalid_answer", "answers")
    admin_error(c.admin("POST", path, {"tickets": [{"ticket_id": t, "answers": {}}], "more": 1}), 400,
                "unknown_field", "more")
    admin_error(c.admin("POST", path, {"tickets": [{"ticket_id": str(uuid.uuid4()), "answers": {"name": "A"}}]}),
                404, "not_found", "ticket_id")
    admin_error(c.admin("POST", "/orders/%s/apf" % uuid.uuid4(), {"tickets": [{"ticket_id": t,
                                                                               "answers": {"name": "A"}}]}),
                404, "not_found")
    assert "apf" not in expect(c.admin("GET", "/orders/%s" % oid), 200)["tickets"][0]


def test_another_accounts_order_is_not_found(c):
    """Forms and options are scoped by account: account B reaches none of the demo account's orders."""
    from harness import create_account
    slug, token = uniq("apf"), "tok-" + uuid.uuid4().hex
    create_account(slug, "APF tenant", "Europe/London", "GBP", token)
    p = product(c)
    order = cv_order(c, (p, 1))
    t = order["items"][0]["id"]
    body = {"tickets": [{"ticket_id": t, "answers": {"name": "Intruder"}}]}
    admin_error(c.admin("POST", "/orders/%s/apf" % order["id"], body, token=token), 404, "not_found")
    # B's product of the same option ids is B's own; the demo product's options are unknown to B's carts
    admin_error(c.admin("POST", "/carts", {"items": [{"product_id": p["id"], "quantity": 1,
                                                      "options": [{"option_id": "x"}]}]}, token=token),
                400, "unknown_product")
    assert cv_get(c, order["id"])["items"][0]["afterPaymentForm"] == {}
