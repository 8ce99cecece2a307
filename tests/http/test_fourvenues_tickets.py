"""Fourvenues channels API: GET /tickets (+ filters) and GET /tickets/{id}, from the engine's
tickets: scans give enter and entry_time, a cancellation's refund gives refunds
(docs/dialects/fourvenues.md)."""
import datetime

import pytest

from harness import expect
from fv_channel import HEX24, ISO_MS, UUID, channel_events, db_write, engine_ticket_id, find_by_name, fv, fv_data, \
    fv_error, fv_ticket_id, iso_day, make_event, second_account

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
    # 24 hex digits here; every other dialect shows the engine's UUID for the same ticket
    assert all(HEX24.match(t["_id"]) for t in tickets)
    assert sorted(t["_id"] for t in tickets) == sorted(fv_ticket_id(t["id"]) for t in order["tickets"])
    t = tickets[0]
    assert set(t) == TICKET_KEYS
    engine_id = engine_ticket_id(t["_id"])
    assert UUID.match(engine_id) and engine_id in [x["id"] for x in order["tickets"]]
    assert expect(c.admin("GET", "/tickets/" + engine_id), 200)["id"] == engine_id
    fv_error(fv(c, "GET", "/tickets/" + engine_id), 404, "not_found", "id")  # a UUID is no channel ticket id
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
    t = fv_data(fv(c, "GET", "/tickets/" + fv_ticket_id(order["tickets"][0]["id"])))
    assert t["enter"] == 1 and ISO_MS.match(t["entry_time"]), t


def test_a_cancelled_order_is_voided_and_refunded(c):
    ev, product, order = booked(c, quantity=1)
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "no show"}), 200)
    t = fv_data(fv(c, "GET", "/tickets/" + fv_ticket_id(order["tickets"][0]["id"])))
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
    # days around the purchase on the server's clock, which the suite has moved hours ahead of this one's
    bought = datetime.datetime.fromtimestamp(order["created_at"] / 1e6, datetime.timezone.utc).date()
    def day(n):
        return (bought + datetime.timedelta(days=n)).isoformat()
    assert event_tickets(c, ev, start_date=day(1))[1] == []  # bought that day, not the next
    assert event_tickets(c, ev, start_date=day(-1), end_date=day(1))[1] == tickets
    assert fv_data(fv(c, "GET", "/tickets", query={"event_id": "0" * 24})) == []
    assert fv_data(fv(c, "GET", "/tickets", query={"payment_id": "0" * 24, "event_id": e["_id"]})) == []
    # every listed ticket is a channel event's
    every = fv_data(fv(c, "GET", "/tickets", query={"limit": "100"}))
    assert all(HEX24.match(t["event_id"]) and HEX24.match(t["_id"]) for t in every)


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
    fv_error(fv(c, "GET", "/tickets/" + fv_ticket_id(undated["tickets"][0]["id"])), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/tickets/" + fv_ticket_id(undated["tickets"][0]["id"]), query={"x": "1"}), 400,
             "invalid_parameter", "x")
    ev, product, order = booked(c, quantity=1)
    mine = fv_ticket_id(order["tickets"][0]["id"])
    assert fv_data(fv(c, "GET", "/tickets/" + mine))["_id"] == mine
    for wrong in (order["tickets"][0]["id"], mine.upper(), mine[:-1], mine + "0", "0" * 24, "f" * 24,
                  mine[:12] + "-" + mine[13:], "%20" + mine):
        fv_error(fv(c, "GET", "/tickets/" + wrong), 404, "not_found", "id")


def test_another_accounts_tickets(c):
    token, key = second_account(c)
    ev, product, order = booked(c, token=token, quantity=1)
    theirs = fv_ticket_id(order["tickets"][0]["id"])
    assert fv_data(fv(c, "GET", "/tickets/" + theirs, key=key))["_id"] == theirs
    fv_error(fv(c, "GET", "/tickets/" + theirs), 404, "not_found", "id")
    assert theirs not in [t["_id"] for t in fv_data(fv(c, "GET", "/tickets", query={"limit": "100"}))]
    e, listed = event_tickets(c, ev, key=key)
    assert fv_data(fv(c, "GET", "/tickets", query={"event_id": e["_id"]})) == []


@pytest.mark.parametrize("old_id", ["%s-7e8f-a123-456789abcdef", "%s-41d1-90b4-00c04fd430c8"],
                         ids=["uuidv7", "uuidv4"])
def test_a_ticket_made_before_24_hex_ids(c, old_id):
    """A ticket whose engine id is an older UUID (v7 with all its random bits, or v4, as tickets had before):
    the channel sees 96 of its bits as its 24 hex digits and finds it by them."""
    token, key = second_account(c)
    ev, product, order = booked(c, quantity=1)
    new_id = order["tickets"][0]["id"]
    old = old_id % new_id[:13]  # a millisecond of now (v7), or any 48 bits (v4): this ticket's own
    db_write("UPDATE tickets SET id = '%s' WHERE id = '%s'" % (old, new_id))
    shown = fv_ticket_id(old)
    assert shown == new_id[:8] + new_id[9:13] + old[15:18] + old[20:23] + old[24:30]
    t = fv_data(fv(c, "GET", "/tickets/" + shown))
    assert t["_id"] == shown and t["qr_code"] == order["tickets"][0]["barcode"]
    e, listed = event_tickets(c, ev)
    assert [x["_id"] for x in listed] == [shown]
    assert expect(c.admin("GET", "/tickets/" + old), 200)["id"] == old  # other dialects: the engine's id
    fv_error(fv(c, "GET", "/tickets/" + old), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/tickets/" + shown, key=key), 404, "not_found", "id")  # scoped by account
    # the digits not carried do not matter; a digit carried does
    fv_error(fv(c, "GET", "/tickets/" + shown[:-1] + ("0" if shown[-1] != "0" else "1")), 404, "not_found", "id")
    refunded = fv_data(fv(c, "PUT", "/tickets/%s/refund" % shown, json_body={"amount": 11}))
    assert refunded["_id"] == shown and refunded["status"] == "voided" and refunded["refunded"] == 11
