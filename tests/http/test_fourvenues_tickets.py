"""Fourvenues channels API: GET /tickets (+ filters) and GET /tickets/{id}, from the engine's
tickets: scans give enter and entry_time, a cancellation's refund gives refunds
(docs/dialects/fourvenues.md)."""
import pytest

from harness import expect
from fv_channel import HEX24, ISO_MS, channel_events, find_by_name, fv, fv_data, fv_error, iso_day, make_event, \
    second_account

GUIDE = "d0000000-0000-4000-8000-000000000007"  # undated: no channel event
TICKET_KEYS = {"_id", "event_id", "ticket_rate_id", "qr_code", "status", "price", "payment_currency", "channel_id",
               "fees", "full_name", "phone", "email", "gender", "birthday", "address", "postal_code", "country_code",
               "personal_document_type", "personal_document_number", "answers", "supplements", "refunded",
               "refunded_at", "refunds", "for", "enter", "entry_time", "total_supplements", "total_fees",
               "total_price", "warranty"}


def booked(c, token=None, quantity=2):
    """An event with one product (10.00 + 1.00 fee) and a paid order of `quantity` tickets of it."""
    kw = {"token": token} if token else {}
    ev, product = make_event(c, **kw)
    occ = ev["occurrences"][0]["id"]
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": quantity}],
                                             "occurrence_id": occ,
                                             "customer": {"email": "ana@example.com", "name": "Ana Buyer"}}, **kw),
                  201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}, **kw), 201)
    return ev, product, order


def event_tickets(c, ev, key=None, **query):
    kw = {"key": key} if key else {}
    # page through: other tests add events on the same night
    for offset in range(0, 100000, 100):
        events = fv_data(fv(c, "GET", "/events", query={"limit": "100", "offset": str(offset)}, **kw))
        found = find_by_name(events, ev["name"])
        if found or len(events) < 100:
            break
    e = found[0]
    return e, fv_data(fv(c, "GET", "/tickets", query=dict(query, event_id=e["_id"]), **kw))


def test_ticket_shape(c):
    ev, product, order = booked(c)
    e, tickets = event_tickets(c, ev)
    assert sorted(t["_id"] for t in tickets) == sorted(t["id"] for t in order["tickets"])
    t = tickets[0]
    assert set(t) == TICKET_KEYS
    assert t["event_id"] == e["_id"] and t["ticket_rate_id"] == e["ticket_rates"][0]["_id"]
    assert HEX24.match(t["event_id"]) and HEX24.match(t["ticket_rate_id"])
    assert t["qr_code"] in [x["barcode"] for x in order["tickets"]] and t["status"] == "active"
    assert t["price"]["price"] == 10 and t["price"]["fee_type"] == "fixed" and t["price"]["fee_quantity"] == 1
    assert t["price"]["_id"] == e["ticket_rates"][0]["prices"][0]["_id"]
    assert t["fees"] == {"organization": 1, "discocil": 0} and t["total_fees"] == 1 and t["total_price"] == 11
    assert t["payment_currency"] == "EUR" and t["channel_id"] is None
    assert t["full_name"] == "Ana Buyer" and t["email"] == "ana@example.com" and t["phone"] is None
    assert t["answers"] == [] and t["supplements"] == [] and t["refunds"] == [] and t["refunded"] == 0
    assert t["for"] == 1 and t["enter"] == 0 and t["entry_time"] is None and t["refunded_at"] is None
    assert t["warranty"] == {"total": 0, "hours": 0} and t["total_supplements"] == 0
    assert fv_data(fv(c, "GET", "/tickets/" + t["_id"])) == t


def test_scans_give_enter_and_entry_time(c):
    ev, product, order = booked(c, quantity=1)
    barcode = order["tickets"][0]["barcode"]
    scanned = expect(c.convious("POST", "/api/v2/accounts/demo/barcode/scan/",
                                {"barcode": barcode, "scannedAt": iso_day(20, 20, 30) + "+01:00",
                                 "forceScan": True}), 200)
    assert scanned["status"] == "success", scanned
    t = fv_data(fv(c, "GET", "/tickets/" + order["tickets"][0]["id"]))
    assert t["enter"] == 1 and ISO_MS.match(t["entry_time"]), t


def test_a_cancelled_order_is_voided_and_refunded(c):
    ev, product, order = booked(c, quantity=1)
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "no show"}), 200)
    t = fv_data(fv(c, "GET", "/tickets/" + order["tickets"][0]["id"]))
    assert t["status"] == "voided"
    assert t["refunded"] == 11 and ISO_MS.match(t["refunded_at"]), t
    assert t["refunds"] == [{"channel_id": None, "amount": 11, "at": t["refunded_at"]}]


def test_filters_and_pages(c):
    ev, product, order = booked(c, quantity=3)
    e, tickets = event_tickets(c, ev)
    assert len(tickets) == 3
    rate = e["ticket_rates"][0]["_id"]
    assert fv_data(fv(c, "GET", "/tickets", query={"ticket_rate_id": rate})) == tickets
    assert event_tickets(c, ev, status="active")[1] == tickets
    assert event_tickets(c, ev, status="voided")[1] == []
    assert event_tickets(c, ev, status="pending_payment")[1] == []
    assert event_tickets(c, ev, limit="2")[1] == tickets[:2]
    assert event_tickets(c, ev, limit="2", offset="2")[1] == tickets[2:]
    assert event_tickets(c, ev, start_date=iso_day(1)[:10])[1] == []  # bought today, not tomorrow
    assert event_tickets(c, ev, start_date=iso_day(-1)[:10], end_date=iso_day(1)[:10])[1] == tickets
    assert fv_data(fv(c, "GET", "/tickets", query={"event_id": "0" * 24})) == []
    assert fv_data(fv(c, "GET", "/tickets", query={"payment_id": "0" * 24, "event_id": e["_id"]})) == []
    # every listed ticket is a channel event's
    assert all(HEX24.match(t["event_id"]) for t in fv_data(fv(c, "GET", "/tickets", query={"limit": "100"})))


@pytest.mark.parametrize("query,field", [
    ({"event_id": "x"}, "event_id"), ({"ticket_rate_id": "A" * 24}, "ticket_rate_id"),
    ({"payment_id": "1234567890"}, "payment_id"), ({"status": "valid"}, "status"), ({"status": ""}, "status"),
    ({"start_date": "2027-13-01"}, "start_date"), ({"end_date": "yesterday"}, "end_date"),
    ({"start_date": "2027-02-01", "end_date": "2027-01-01"}, "end_date"), ({"limit": "101"}, "limit"),
    ({"offset": "-5"}, "offset"), ({"qr_code": "ABC"}, "qr_code"),
], ids=["event", "rate", "payment", "status", "empty_status", "start", "end", "reversed", "limit", "offset",
        "unknown"])
def test_bad_filters(c, query, field):
    fv_error(fv(c, "GET", "/tickets", query=query), 400, "invalid_parameter", field)


def test_not_found(c):
    fv_error(fv(c, "GET", "/tickets/nope"), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/tickets/" + "x" * 300), 404, "not_found", "id")
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]}), 201)
    undated = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    fv_error(fv(c, "GET", "/tickets/" + undated["tickets"][0]["id"]), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/tickets/" + undated["tickets"][0]["id"], query={"x": "1"}), 400, "invalid_parameter",
             "x")


def test_another_accounts_tickets(c):
    token, key = second_account(c)
    ev, product, order = booked(c, token=token, quantity=1)
    theirs = order["tickets"][0]["id"]
    assert fv_data(fv(c, "GET", "/tickets/" + theirs, key=key))["_id"] == theirs
    fv_error(fv(c, "GET", "/tickets/" + theirs), 404, "not_found", "id")
    assert theirs not in [t["_id"] for t in fv_data(fv(c, "GET", "/tickets", query={"limit": "100"}))]
    e, listed = event_tickets(c, ev, key=key)
    assert fv_data(fv(c, "GET", "/tickets", query={"event_id": e["_id"]})) == []
