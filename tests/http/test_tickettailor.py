"""Ticket Tailor API (/tickettailor): the documented shapes, pagination, error
shape, rate-limit headers, and that it shares one engine with /convious."""
import datetime
import uuid

from harness import expect

CONCERT_OCC = "ev_oc_concert_main"
STANDARD = "tt_d0000000-0000-4000-8000-00000000000a"


def tt_error(resp, status):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    body = resp.json
    assert body["status"] == status and body["error_code"] and body["message"], body
    return body


def test_ping_and_auth(c):
    r = c.tickettailor("GET", "/v1/ping")
    assert expect(r, 200) == {"version": "pong"}
    assert r.header("X-Rate-Limit-Limit") == "2000"
    assert int(r.header("X-Rate-Limit-Remaining")) < 2000 and int(r.header("X-Rate-Limit-Reset")) <= 3600
    tt_error(c.tickettailor("GET", "/v1/ping", key=None), 401)
    tt_error(c.tickettailor("GET", "/v1/ping", key="sk_wrong"), 401)
    tt_error(c.tickettailor("GET", "/v1/ping", headers={"Authorization": "Basic !!!"}, key=None), 401)
    tt_error(c.tickettailor("GET", "/v1/nothing"), 404)
    tt_error(c.tickettailor("DELETE", "/v1/orders"), 405)


def test_orders_shape_and_pagination(c):
    first = expect(c.tickettailor("GET", "/v1/orders", query={"limit": "1"}), 200)
    assert set(first) == {"data", "links"} and len(first["data"]) == 1
    o = first["data"][0]
    assert o["object"] == "order" and o["id"].startswith("or_")
    assert o["currency"] == {"base_multiplier": 100, "code": "eur"}
    assert o["status"] in ("completed", "cancelled", "pending")
    assert all(t["object"] == "issued_ticket" and t["id"].startswith("it_") for t in o["issued_tickets"])
    assert o["line_items"][0]["object"] == "line_item" and o["line_items"][0]["quantity"] >= 1
    assert first["links"]["next"] == "/v1/orders?starting_after=" + o["id"] and first["links"]["previous"] is None
    second = expect(c.tickettailor("GET", "/v1/orders", query={"limit": "1", "starting_after": o["id"]}), 200)
    assert second["data"][0]["id"] != o["id"] and second["data"][0]["created_at"] <= o["created_at"]
    assert second["links"]["previous"] == "/v1/orders?ending_before=" + second["data"][0]["id"]
    back = expect(c.tickettailor("GET", "/v1/orders", query={"limit": "1", "ending_before": second["data"][0]["id"],
                                                            "starting_after": "or_ignored"}), 200)
    assert back["data"][0]["id"] == o["id"]
    one = expect(c.tickettailor("GET", "/v1/orders/" + o["id"]), 200)
    assert one["id"] == o["id"]
    tt_error(c.tickettailor("GET", "/v1/orders/or_%s" % uuid.uuid4()), 404)
    tt_error(c.tickettailor("GET", "/v1/orders/%s" % uuid.uuid4()), 404)
    tt_error(c.tickettailor("GET", "/v1/orders", query={"limit": "101"}), 400)
    tt_error(c.tickettailor("GET", "/v1/orders", query={"starting_after": "or_nope"}), 422)
    tt_error(c.tickettailor("GET", "/v1/orders", query={"created_at.gte": "yesterday"}), 400)
    tt_error(c.tickettailor("GET", "/v1/orders", query={"status": "paid"}), 400)


def test_orders_filters(c):
    done = expect(c.tickettailor("GET", "/v1/orders", query={"status": "cancelled"}), 200)["data"]
    assert done and all(o["status"] == "cancelled" for o in done)
    anna = expect(c.tickettailor("GET", "/v1/orders", query={"email": "anna@example.com"}), 200)["data"]
    assert anna and all(o["buyer_details"]["email"] == "anna@example.com" for o in anna)
    now = int(datetime.datetime.now().timestamp())
    none = expect(c.tickettailor("GET", "/v1/orders", query={"created_at.gt": str(now + 86400)}), 200)
    assert none["data"] == [] and none["links"] == {"next": None, "previous": None}
    barcode = anna[0]["issued_tickets"][0]["barcode"]
    by_code = expect(c.tickettailor("GET", "/v1/orders", query={"barcode": barcode}), 200)["data"]
    assert [o["id"] for o in by_code] == [anna[0]["id"]]


def listed_event(c, event_id):
    """The event as /v1/events lists it, following links.next: timeslots are
    events too (the museum's, and those other tests' categories add), so the
    list is narrowed to the event's start and paged."""
    start = expect(c.tickettailor("GET", "/v1/events/" + event_id), 200)["start"]["unix"]
    query = {"start_at": str(start)}
    while True:
        page = expect(c.tickettailor("GET", "/v1/events", query=query), 200)
        found = [e for e in page["data"] if e["id"] == event_id]
        if found or not page["links"]["next"]:
            return found[0] if found else None
        query = {"start_at": str(start), "starting_after": page["links"]["next"].split("=", 1)[1]}


def test_events(c):
    ev = listed_event(c, CONCERT_OCC)
    assert ev["object"] == "event" and ev["name"].startswith("Night at the Museum")
    assert set(ev["start"]) == {"date", "formatted", "iso", "time", "timezone", "unix"} and ev["start"]["time"] == "20:00"
    assert {t["id"] for t in ev["ticket_types"]} >= {STANDARD}
    std = next(t for t in ev["ticket_types"] if t["id"] == STANDARD)
    assert std["price"] == 3500 and std["booking_fee"] == 150 and std["quantity"] <= 500
    assert ev["tickets_available"] == "true" and ev["hidden"] == "false"
    got = expect(c.tickettailor("GET", "/v1/events/" + CONCERT_OCC), 200)
    assert got["id"] == CONCERT_OCC
    tt_error(c.tickettailor("GET", "/v1/events/ev_nope"), 404)
    later = expect(c.tickettailor("GET", "/v1/events", query={"start_at.gt": str(ev["start"]["unix"])}), 200)
    assert CONCERT_OCC not in [e["id"] for e in later["data"]]
    tt_error(c.tickettailor("GET", "/v1/events", query={"end_at.lte": "soon"}), 400)


def test_issue_scan_and_void(c):
    before = expect(c.tickettailor("GET", "/v1/events/" + CONCERT_OCC), 200)
    left = next(t for t in before["ticket_types"] if t["id"] == STANDARD)["quantity"]
    r = c.tickettailor("POST", "/v1/issued_tickets", form={"event_id": CONCERT_OCC, "ticket_type_id": STANDARD,
                                                           "full_name": "John Doe", "email": "john@example.com",
                                                           "reference": "ext-9"})
    body = expect(r, 201)
    t = body["data"][0]
    assert t["object"] == "issued_ticket" and t["status"] == "valid" and t["full_name"] == "John Doe"
    assert t["event_id"] == CONCERT_OCC and t["ticket_type_id"] == STANDARD and t["reference"] == "ext-9"
    after = expect(c.tickettailor("GET", "/v1/events/" + CONCERT_OCC), 200)
    assert next(x for x in after["ticket_types"] if x["id"] == STANDARD)["quantity"] == left - 1
    # the same engine: the barcode scans at the Convious endpoint
    check = expect(c.convious("GET", "/api/v2/accounts/demo/barcode/scan/", query={"barcode": t["barcode"]}), 200)
    assert check["errorCode"] in (None, "future_validity"), check
    got = expect(c.tickettailor("GET", "/v1/issued_tickets/" + t["id"]), 200)
    assert got["id"] == t["id"]
    listed = expect(c.tickettailor("GET", "/v1/issued_tickets", query={"event_id": CONCERT_OCC, "limit": "100"}), 200)
    assert t["id"] in [x["id"] for x in listed["data"]]
    v = expect(c.tickettailor("POST", "/v1/issued_tickets/%s/void" % t["id"]), 200)
    assert v == {"id": t["id"], "object": "issued_ticket", "voided": True}
    # the object's enum is valid | void; the list filter's doc says voided: both filter
    assert expect(c.tickettailor("GET", "/v1/issued_tickets/" + t["id"]), 200)["status"] == "void"
    for word in ("void", "voided"):
        listed = expect(c.tickettailor("GET", "/v1/issued_tickets", query={"status": word}), 200)
        assert t["id"] in [x["id"] for x in listed["data"]], word
    again = expect(c.tickettailor("GET", "/v1/events/" + CONCERT_OCC), 200)
    assert next(x for x in again["ticket_types"] if x["id"] == STANDARD)["quantity"] == left
    tt_error(c.tickettailor("POST", "/v1/issued_tickets/%s/void" % t["id"]), 422)
    voided = expect(c.tickettailor("GET", "/v1/issued_tickets", query={"status": "voided"}), 200)
    assert t["id"] in [x["id"] for x in voided["data"]]


def test_issue_errors(c):
    tt_error(c.tickettailor("POST", "/v1/issued_tickets", form={"ticket_type_id": STANDARD, "full_name": "x"}), 422)
    tt_error(c.tickettailor("POST", "/v1/issued_tickets", form={"event_id": CONCERT_OCC, "full_name": "x"}), 422)
    tt_error(c.tickettailor("POST", "/v1/issued_tickets", form={"event_id": CONCERT_OCC, "ticket_type_id": STANDARD}),
             422)
    tt_error(c.tickettailor("POST", "/v1/issued_tickets", json_body={"event_id": "ev_nope", "ticket_type_id": STANDARD,
                                                                     "full_name": "x"}), 422)
    tt_error(c.tickettailor("POST", "/v1/issued_tickets", raw="{broken"), 400)
    base = {"event_id": CONCERT_OCC, "ticket_type_id": STANDARD, "full_name": "x"}
    for extra, field in (({"full_name": ""}, "full_name"), ({"email": "a" * 300}, "email"),
                         ({"event_id": 5}, "event_id"), ({"barcode": "B1"}, "barcode")):
        r = c.tickettailor("POST", "/v1/issued_tickets", json_body=dict(base, **extra))
        assert tt_error(r, 422)["errors"][0]["field"] == field, r
    tt_error(c.tickettailor("GET", "/v1/issued_tickets", query={"status": "lost"}), 400)
    tt_error(c.tickettailor("GET", "/v1/issued_tickets/it_%s" % uuid.uuid4()), 404)


def test_sold_out_issue_fails(c):
    # a one-seat event made through the admin API
    day = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    pool = expect(c.admin("POST", "/pools", {"capacity": 1}), 201)
    ev = expect(c.admin("POST", "/events", {"name": "Tiny gig", "occurrences": [{"start": day + "T19:00:00"}]}), 201)
    prod = expect(c.admin("POST", "/products", {"name": "Seat", "price": 1000, "event_id": ev["id"],
                                                "pools": [{"pool_id": pool["id"]}]}), 201)
    occ = "ev_" + ev["occurrences"][0]["id"]
    form = {"event_id": occ, "ticket_type_id": "tt_" + prod["id"], "full_name": "First"}
    expect(c.tickettailor("POST", "/v1/issued_tickets", form=form), 201)
    tt_error(c.tickettailor("POST", "/v1/issued_tickets", form=dict(form, full_name="Second")), 422)


def test_orders_across_dialects(c):
    cart = expect(c.convious("POST", "/api/v1/accounts/demo/carts/", {"items": [
        {"productId": "d0000000-0000-4000-8000-000000000007", "amount": 2}]}), 200)
    order = expect(c.convious("POST", "/api/v1/accounts/demo/bookings/",
                              {"cartId": cart["id"], "customer": {"email": "cross@example.com"}}), 200)
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + order["id"]), 200)
    assert tt["buyer_details"]["email"] == "cross@example.com" and len(tt["issued_tickets"]) == 2
    # booked without a pricing token: Convious prices it at 0, as its doc says
    assert tt["total"] == 0 and tt["status"] == "completed"
