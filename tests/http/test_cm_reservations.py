"""CM.com Ticketing Shop: POST /events/{uuid}/reservations and PUT
.../reservations/{order_id} (docs/dialects/cm.md): the doc's example, every
error code, holds all or nothing, codes, calendars, access keys, tenancy,
update atomicity, and a code with 10 uses under 100 concurrent reservations."""
import copy
import datetime
import threading

import pytest

from harness import expect
from cm_shop import CONCERT, STANDARD, VIP, cm, cm_error, cm_raw_post, make_event, second_account, tag
from test_cm_calendar import calendar_event, next_year, utc_iso

DOC_EXAMPLE = {
    "order_id": None, "due_at": None, "time_slot_id": None,
    "customer_data": {
        "uuid": None, "first_name": "John", "last_name": "Doe", "email": "john.doe@example.com",
        "mobile": "+31612345678", "gender": "M", "address_line_1": None, "address_line_1_building_number": None,
        "address_line_2": None, "address_line_2_building_number": None, "zipcode": None, "city": None, "state": None,
        "organisation_name": None, "position_name": None, "date_of_birth": None, "custom_field_1": None,
        "custom_field_2": None, "custom_field_3": None, "created_at": None, "updated_at": None, "country_id": "NL"},
    "ticket_types": [{"uuid": STANDARD, "amount": 1}, {"uuid": VIP, "amount": 5}],
}
CUSTOMER_KEYS = set(DOC_EXAMPLE["customer_data"])


def body(types, **over):
    b = copy.deepcopy(DOC_EXAMPLE)
    b["ticket_types"] = types
    for k, v in over.items():
        if k in b["customer_data"] and k not in b:
            b["customer_data"][k] = v
        else:
            b[k] = v
    return b


def reserve(c, event, b, **kw):
    return cm(c, "POST", "/events/%s/reservations" % event, json_body=b, **kw)


def test_the_doc_example(c):
    r = expect(reserve(c, CONCERT, DOC_EXAMPLE), 201)
    assert set(r) == {"order_id", "due_at", "time_slot_id", "customer_data", "ticket_types"}
    assert r["time_slot_id"] is None and r["due_at"].endswith("+00:00")
    assert set(r["customer_data"]) == CUSTOMER_KEYS
    cd = r["customer_data"]
    assert cd["first_name"] == "John" and cd["gender"] == "M" and cd["country_id"] == "NL"
    assert cd["uuid"] and cd["created_at"].endswith("+00:00") and cd["address_line_1_building_number"] is None
    assert r["ticket_types"] == [{"uuid": STANDARD, "amount": 1}, {"uuid": VIP, "amount": 5}]
    due = datetime.datetime.fromisoformat(r["due_at"])
    made = datetime.datetime.fromisoformat(cd["created_at"])
    assert (due - made).total_seconds() == 15 * 60, "held for minutes_to_order (15)"
    # the reservation is an engine cart, seen by the other APIs
    cart = expect(c.admin("GET", "/carts/" + r["order_id"]), 200)
    assert cart["channel"] == "cm" and cart["status"] == "open" and cart["occurrence"] == "oc_concert_main"
    assert cart["customer"]["email"] == "john.doe@example.com" and cart["customer"]["name"] == "John Doe"
    assert sorted((l["product_id"], l["quantity"]) for l in cart["lines"]) == sorted([(STANDARD, 1), (VIP, 5)])
    cv = expect(c.convious("GET", "/api/v1/accounts/demo/carts/%s/" % r["order_id"]), 200)
    assert cv
    # the create's reply is made from what the cart's texts were made from; a PUT's reply reads the stored
    # cart: both say the same customer_data (the PUT keeps its uuid and created_at)
    again = expect(cm(c, "PUT", "/events/%s/reservations/%s" % (CONCERT, r["order_id"]),
                      json_body=dict(DOC_EXAMPLE, order_id=r["order_id"])), 200)
    same = lambda d: {k: v for k, v in d.items() if k != "updated_at"}
    assert same(again["customer_data"]) == same(cd), (again, r)
    assert again["time_slot_id"] == r["time_slot_id"] and again["due_at"] == r["due_at"], (again, r)


def test_holds_are_all_or_nothing(c):
    ev, product, occ = make_event(c, capacity=3)
    cm_error(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 4}])), 400, "SOLD_OUT", "ticket_types")
    first = expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 3}])), 201)
    cm_error(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 400, "SOLD_OUT", "ticket_types")
    expect(cm(c, "PUT", "/events/%s/reservations/%s" % (ev["id"], first["order_id"]),
              json_body=dict(body([{"uuid": product["id"], "amount": 2}]), order_id=first["order_id"])), 200)
    expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 201)


@pytest.mark.parametrize("mutate,code,field", [
    (lambda b: b.pop("customer_data"), "CUSTOMER_DATA_REQUIRED", "customer_data"),
    (lambda b: b.update(customer_data="John"), "CUSTOMER_DATA_REQUIRED", "customer_data"),
    (lambda b: b["customer_data"].update(first_name=None), "CUSTOMER_DATA_REQUIRED", "customer_data.first_name"),
    (lambda b: b["customer_data"].update(last_name=""), "CUSTOMER_DATA_REQUIRED", "customer_data.last_name"),
    (lambda b: b["customer_data"].pop("email"), "CUSTOMER_DATA_REQUIRED", "customer_data.email"),
    (lambda b: b["customer_data"].update(email="john"), "CUSTOMER_DATA_INVALID", "customer_data.email"),
    (lambda b: b["customer_data"].update(email="a@b"), "CUSTOMER_DATA_INVALID", "customer_data.email"),
    (lambda b: b["customer_data"].update(email="a b@c.nl"), "CUSTOMER_DATA_INVALID", "customer_data.email"),
    (lambda b: b["customer_data"].update(gender="Q"), "CUSTOMER_DATA_INVALID", "customer_data.gender"),
    (lambda b: b["customer_data"].update(gender="m"), "CUSTOMER_DATA_INVALID", "customer_data.gender"),
    (lambda b: b["customer_data"].update(country_id="XX"), "CUSTOMER_DATA_INVALID", "customer_data.country_id"),
    (lambda b: b["customer_data"].update(country_id="nl"), "CUSTOMER_DATA_INVALID", "customer_data.country_id"),
    (lambda b: b["customer_data"].update(country_id="NLD"), "CUSTOMER_DATA_INVALID", "customer_data.country_id"),
    (lambda b: b["customer_data"].update(date_of_birth="1990-02-30"), "CUSTOMER_DATA_INVALID",
     "customer_data.date_of_birth"),
    (lambda b: b["customer_data"].update(date_of_birth="2999-01-01"), "CUSTOMER_DATA_INVALID",
     "customer_data.date_of_birth"),
    (lambda b: b["customer_data"].update(date_of_birth="01-01-1990"), "CUSTOMER_DATA_INVALID",
     "customer_data.date_of_birth"),
    (lambda b: b["customer_data"].update(city=5), "CUSTOMER_DATA_INVALID", "customer_data.city"),
    (lambda b: b["customer_data"].update(city="x" * 256), "CUSTOMER_DATA_INVALID", "customer_data.city"),
    (lambda b: b.pop("ticket_types"), "TICKET_TYPES_INVALID", "ticket_types"),
    (lambda b: b.update(ticket_types=[]), "TICKET_TYPES_INVALID", "ticket_types"),
    (lambda b: b.update(ticket_types={"uuid": STANDARD}), "TICKET_TYPES_INVALID", "ticket_types"),
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": 1}] * 51), "TICKET_TYPES_INVALID", "ticket_types"),
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": 0}]), "TICKET_TYPES_INVALID", "ticket_types"),
    (lambda b: b.update(ticket_types=[{"uuid": "nope", "amount": 1}]), "TICKET_TYPE_INVALID", "ticket_types[0].uuid"),
    (lambda b: b.update(ticket_types=[{"amount": 1}]), "TICKET_TYPE_INVALID", "ticket_types[0].uuid"),
    (lambda b: b.update(ticket_types=[{"uuid": "d0000000-0000-4000-8000-000000000005", "amount": 1}]),
     "TICKET_TYPE_INVALID", "ticket_types[0].uuid"),  # a museum ticket: not this event's
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": 1}, {"uuid": STANDARD, "amount": 1}]),
     "TICKET_TYPE_INVALID", "ticket_types[1].uuid"),
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": -1}]), "AMOUNT_INVALID", "ticket_types[0].amount"),
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": "1"}]), "AMOUNT_INVALID",
     "ticket_types[0].amount"),
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": 1.5}]), "AMOUNT_INVALID",
     "ticket_types[0].amount"),
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": 1001}]), "AMOUNT_INVALID",
     "ticket_types[0].amount"),
    (lambda b: b.update(ticket_types=[{"uuid": STANDARD, "amount": 2 ** 62}]), "AMOUNT_INVALID",
     "ticket_types[0].amount"),
    (lambda b: b.update(time_slot_id="2027-01-01T10:00:00+00:00"), "TIME_SLOT_INVALID", "time_slot_id"),
])
def test_validation_errors(c, mutate, code, field):
    b = copy.deepcopy(DOC_EXAMPLE)
    mutate(b)
    cm_error(reserve(c, CONCERT, b), 400, code, field)


def test_min_max_and_disabled_types(c):
    ev, product, _ = make_event(c)
    expect(c.admin("PATCH", "/products/" + product["id"], {"min_per_order": 2, "max_per_order": 4}), 200)
    for amount in (1, 5):
        cm_error(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": amount}])), 400, "AMOUNT_INVALID",
                 "ticket_types[0].amount")
    expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 2}])), 201)
    expect(c.admin("PATCH", "/products/" + product["id"], {"enabled": False}), 200)
    cm_error(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 2}])), 400, "TICKET_TYPE_NOT_IN_SALE",
             "ticket_types[0].uuid")


def test_customer_requirements_from_the_event(c):
    ev, product, _ = make_event(c, extras={"customer_data": {"mobile": "REQUIRED", "address_data": "REQUIRED",
                                                            "email": "NOT_IN_USE"}})
    d = expect(cm(c, "GET", "/events/" + ev["id"]), 200)["customer_data"]
    assert d["mobile"] == "REQUIRED" and d["address_data"] == "REQUIRED" and d["email"] == "NOT_IN_USE"
    b = body([{"uuid": product["id"], "amount": 1}], mobile=None)
    cm_error(reserve(c, ev["id"], b), 400, "CUSTOMER_DATA_REQUIRED", "customer_data.mobile")
    b = body([{"uuid": product["id"], "amount": 1}])
    cm_error(reserve(c, ev["id"], b), 400, "CUSTOMER_DATA_REQUIRED", "customer_data.address_line_1")
    b = body([{"uuid": product["id"], "amount": 1}], address_line_1="Konijnenberg", address_line_1_building_number="30",
             zipcode="4825 BD", city="Breda", email=None)
    r = expect(reserve(c, ev["id"], b), 201)
    assert r["customer_data"]["address_line_1_building_number"] == "30" and r["customer_data"]["email"] is None


def test_body_must_be_json(c):
    r = cm(c, "POST", "/events/%s/reservations" % CONCERT, raw="first_name=John",
           headers={"Content-Type": "application/x-www-form-urlencoded"})
    cm_error(r, 400, "CONTENT_TYPE_INVALID")
    cm_error(cm(c, "POST", "/events/%s/reservations" % CONCERT, raw="{"), 400, "BODY_INVALID")
    cm_error(cm(c, "POST", "/events/%s/reservations" % CONCERT, raw="[]"), 400, "BODY_INVALID")
    status, answer = cm_raw_post("/events/%s/reservations" % CONCERT, b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert status == 413, (status, answer)
    assert answer is None or answer["code"] == "PAYLOAD_TOO_LARGE", answer


def test_unknown_event_access_keys_and_tenancy(c):
    cm_error(reserve(c, "nope", DOC_EXAMPLE), 404, "EVENT_NOT_FOUND", "event_uuid")
    ev, product, _ = make_event(c)
    expect(c.admin("POST", "/events/%s/access_keys" % ev["id"], {"key": "RES-KEY"}), 201)
    b = body([{"uuid": product["id"], "amount": 1}])
    cm_error(reserve(c, ev["id"], b), 400, "ACCESS_KEY_INVALID", "key")
    cm_error(reserve(c, ev["id"], b, query={"key": "WRONG"}), 400, "ACCESS_KEY_INVALID", "key")
    made = expect(reserve(c, ev["id"], b, query={"key": "RES-KEY"}), 201)
    b2 = dict(b, order_id=made["order_id"])
    cm_error(cm(c, "PUT", "/events/%s/reservations/%s" % (ev["id"], made["order_id"]), json_body=b2), 400,
             "ACCESS_KEY_INVALID", "key")
    b_admin, b_token = second_account(c)
    cm_error(reserve(c, CONCERT, DOC_EXAMPLE, token=b_token), 404, "EVENT_NOT_FOUND", "event_uuid")
    cm_error(reserve(c, CONCERT, DOC_EXAMPLE, token=None), 401, "UNAUTHORIZED")
    mine = expect(reserve(c, CONCERT, DOC_EXAMPLE), 201)
    own, own_product, _ = make_event(c, token=b_admin)
    b3 = dict(body([{"uuid": own_product["id"], "amount": 1}]), order_id=mine["order_id"])
    cm_error(cm(c, "PUT", "/events/%s/reservations/%s" % (own["id"], mine["order_id"]), json_body=b3,
                token=b_token), 404, "ORDER_NOT_FOUND", "order_id")


def test_update_replaces_contents_and_keeps_due_at(c):
    ev, product, occ = make_event(c, capacity=5)
    made = expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 2}])), 201)
    path = "/events/%s/reservations/%s" % (ev["id"], made["order_id"])
    b = dict(body([{"uuid": product["id"], "amount": 5}], first_name="Jane"), order_id=made["order_id"],
             due_at=made["due_at"])
    expect(c.admin("POST", "/test/clock", {"advance_seconds": 60}), 200)  # the test clock only moves forward
    got = expect(cm(c, "PUT", path, json_body=b), 200)
    assert got["order_id"] == made["order_id"] and got["due_at"] == made["due_at"], "an update never extends a hold"
    assert got["ticket_types"] == [{"uuid": product["id"], "amount": 5}]
    assert got["customer_data"]["first_name"] == "Jane"
    assert got["customer_data"]["uuid"] == made["customer_data"]["uuid"]
    # all 5 seats are this reservation's now; asking for 6 fails and leaves it as it was
    cm_error(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 400, "SOLD_OUT", "ticket_types")
    b6 = dict(b, ticket_types=[{"uuid": product["id"], "amount": 6}])
    expect(c.admin("PATCH", "/products/" + product["id"], {"max_per_order": 10}), 200)
    cm_error(cm(c, "PUT", path, json_body=b6), 400, "SOLD_OUT", "ticket_types")
    cart = expect(c.admin("GET", "/carts/" + made["order_id"]), 200)
    assert [(l["product_id"], l["quantity"]) for l in cart["lines"]] == [(product["id"], 5)]
    # back to 1: the other 4 seats are free again
    expect(cm(c, "PUT", path, json_body=dict(b, ticket_types=[{"uuid": product["id"], "amount": 1}])), 200)
    expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 4}])), 201)


def test_update_errors(c):
    ev, product, _ = make_event(c)
    made = expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 201)
    path = "/events/%s/reservations/%s" % (ev["id"], made["order_id"])
    b = dict(body([{"uuid": product["id"], "amount": 1}]), order_id=made["order_id"])
    cm_error(cm(c, "PUT", path, json_body=dict(b, order_id="other")), 400, "ORDER_ID_MISMATCH", "order_id")
    cm_error(cm(c, "PUT", path, json_body=dict(b, order_id=None)), 400, "ORDER_ID_MISMATCH", "order_id")
    cm_error(cm(c, "PUT", "/events/%s/reservations/nope" % ev["id"], json_body=b), 404, "ORDER_NOT_FOUND", "order_id")
    # another event's path does not find it
    cm_error(cm(c, "PUT", "/events/%s/reservations/%s" % (CONCERT, made["order_id"]), json_body=b), 404,
             "ORDER_NOT_FOUND", "order_id")
    # a cart of another channel is not a reservation
    admin_cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": STANDARD, "quantity": 1}],
                                                   "occurrence_id": "oc_concert_main"}), 201)
    cm_error(cm(c, "PUT", "/events/%s/reservations/%s" % (CONCERT, admin_cart["id"]),
                json_body=dict(DOC_EXAMPLE, order_id=admin_cart["id"])), 404, "ORDER_NOT_FOUND", "order_id")
    # once expired: 400 (a one-minute hold, so the shared test clock moves little)
    hold = expect(c.admin("GET", "/account"), 200)["hold_seconds"]
    expect(c.admin("PATCH", "/account", {"hold_seconds": 60}), 200)
    try:
        short = expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 201)
    finally:
        expect(c.admin("PATCH", "/account", {"hold_seconds": hold}), 200)
    expect(c.admin("POST", "/test/clock", {"advance_seconds": 61}), 200)
    cm_error(cm(c, "PUT", "/events/%s/reservations/%s" % (ev["id"], short["order_id"]),
                json_body=dict(b, order_id=short["order_id"])), 400, "RESERVATION_EXPIRED", "order_id")
    # booked (as checkout will): 400
    made = expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 201)
    expect(c.admin("POST", "/orders", {"cart_id": made["order_id"], "payment": {"provider": "cash"}}), 201)
    cm_error(cm(c, "PUT", "/events/%s/reservations/%s" % (ev["id"], made["order_id"]),
                json_body=dict(b, order_id=made["order_id"])), 400, "RESERVATION_COMPLETED", "order_id")


def test_codes_on_reservations(c):
    ev, product, _ = make_event(c)
    d = expect(c.admin("POST", "/discounts", {"code": "RES-" + tag(), "type": "fixed", "amount": 100,
                                              "max_redemptions": 2}), 201)
    b = body([{"uuid": product["id"], "amount": 1}])
    r1 = expect(reserve(c, ev["id"], b, query={"code": d["code"]}), 201)
    cart = expect(c.admin("GET", "/carts/" + r1["order_id"]), 200)
    assert cart["extras"]["discount_code"] == d["code"]
    dc = expect(cm(c, "GET", "/events/%s/codes/%s" % (ev["id"], __import__("base64").b64encode(
        d["code"].encode()).decode())), 200)["discount_code"]
    assert dc["stock"] == 1, "a held reservation takes a use"
    expect(reserve(c, ev["id"], b, query={"code": d["code"]}), 201)
    cm_error(reserve(c, ev["id"], b, query={"code": d["code"]}), 400, "CODE_SOLD_OUT", "code")
    # an update without the code gives its use back; with it again takes one
    path = "/events/%s/reservations/%s" % (ev["id"], r1["order_id"])
    expect(cm(c, "PUT", path, json_body=dict(b, order_id=r1["order_id"])), 200)
    assert expect(c.admin("GET", "/carts/" + r1["order_id"]), 200)["extras"].get("discount_code") is None
    expect(reserve(c, ev["id"], b, query={"code": d["code"]}), 201)
    cm_error(cm(c, "PUT", path, json_body=dict(b, order_id=r1["order_id"]), query={"code": d["code"]}), 400,
             "CODE_SOLD_OUT", "code")
    cm_error(reserve(c, ev["id"], b, query={"code": "NO-SUCH-CODE"}), 400, "CODE_INVALID", "code")
    expired = expect(c.admin("POST", "/discounts", {"code": "OLD-" + tag(), "type": "fixed", "amount": 100,
                                                    "expires_at": "2001-01-01T00:00:00Z"}), 201)
    cm_error(reserve(c, ev["id"], b, query={"code": expired["code"]}), 400, "CODE_EXPIRED", "code")
    code = "VC-" + tag()
    expect(c.tickettailor("POST", "/v1/vouchers", form={"name": "Card", "value": "1000", "expiry": "2000000000",
                                                        "codes[]": code}), 201)
    r = expect(reserve(c, ev["id"], b, query={"code": code}), 201)
    assert expect(c.admin("GET", "/carts/" + r["order_id"]), 200)["extras"]["voucher_code"] == code


def test_code_with_10_uses_under_100_concurrent_reservations(c):
    ev, product, _ = make_event(c, capacity=1000)
    d = expect(c.admin("POST", "/discounts", {"code": "RUSH-" + tag(), "type": "fixed", "amount": 100,
                                              "max_redemptions": 10}), 201)
    b = body([{"uuid": product["id"], "amount": 1}])
    results = []
    lock = threading.Lock()

    def one():
        r = reserve(c, ev["id"], b, query={"code": d["code"]})
        with lock:
            results.append((r.status, (r.json or {}).get("code")))
    threads = [threading.Thread(target=one) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if r[0] == 201]
    assert len(wins) == 10, sorted(set(results))
    assert all(r == (400, "CODE_SOLD_OUT") for r in results if r[0] != 201), sorted(set(results))
    dc = expect(cm(c, "GET", "/events/%s/codes/%s" % (ev["id"], __import__("base64").b64encode(
        d["code"].encode()).decode())), 200)["discount_code"]
    assert dc["stock"] == 0 and dc["capacity"] == 10


def test_calendar_reservations(c):
    ev, regular, _ = calendar_event(c, capacity=2)
    year = next_year()
    day = datetime.date(year, 6, 15)
    slots = expect(cm(c, "GET", "/events/%s/calendar/%d/6/15" % (ev["id"], year)), 200)
    b = body([{"uuid": regular["id"], "amount": 2}])
    cm_error(reserve(c, ev["id"], b), 400, "TIME_SLOT_REQUIRED", "time_slot_id")
    cm_error(reserve(c, ev["id"], dict(b, time_slot_id=day.isoformat())), 400, "TIME_SLOT_INVALID", "time_slot_id")
    cm_error(reserve(c, ev["id"], dict(b, time_slot_id=utc_iso(day, 3))), 400, "TIME_SLOT_INVALID", "time_slot_id")
    cm_error(reserve(c, ev["id"], dict(b, time_slot_id="soon")), 400, "TIME_SLOT_INVALID", "time_slot_id")
    cm_error(reserve(c, ev["id"], dict(b, time_slot_id=5)), 400, "TIME_SLOT_INVALID", "time_slot_id")
    r = expect(reserve(c, ev["id"], dict(b, time_slot_id=slots[1]["id"])), 201)
    assert r["time_slot_id"] == slots[1]["id"]
    cart = expect(c.admin("GET", "/carts/" + r["order_id"]), 200)
    assert cart["day"] == day.isoformat() and cart["start_time"] == "10:30:00" or cart["start_time"] in (37800,)
    after = expect(cm(c, "GET", "/events/%s/calendar/%d/6/15" % (ev["id"], year)), 200)
    assert after[1]["status_id"] == "CLOSED" and after[0]["stock"] == 2
    cm_error(reserve(c, ev["id"], dict(b, time_slot_id=slots[1]["id"])), 400, "SOLD_OUT", "ticket_types")


def test_idempotency_key(c):
    ev, product, _ = make_event(c, capacity=2)
    b = body([{"uuid": product["id"], "amount": 2}])
    key = {"Idempotency-Key": "cm-" + tag()}
    first = reserve(c, ev["id"], b, headers=dict(key))
    again = reserve(c, ev["id"], b, headers=dict(key))
    assert first.status == again.status == 201 and first.json == again.json
    assert again.header("Idempotent-Replayed") == "true"
    cm_error(reserve(c, ev["id"], dict(b, time_slot_id=None, order_id="x"), headers=dict(key)), 422,
             "IDEMPOTENCY_KEY_REUSED")
    cm_error(reserve(c, ev["id"], b, headers={"Idempotency-Key": "bad key \u00e9"}), 400, "INVALID_IDEMPOTENCY_KEY")
