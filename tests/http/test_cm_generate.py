"""CM.com Ticketing Shop: POST /events/{uuid}/reservations/generate (docs/dialects/cm.md):
free reservations completed at once, one QR barcode per ticket, paid types refused."""
import datetime
import re

from harness import expect
from test_etickets import pdf_of
from cm_shop import CONCERT, STANDARD, cm, cm_error, make_event, second_account
from test_cm_reservations import body
from test_cm_calendar import calendar_event, next_year


def generate(c, event, b, **kw):
    return cm(c, "POST", "/events/%s/reservations/generate" % event, json_body=b, **kw)


def free_event(c, capacity=20):
    ev, product, occ = make_event(c, capacity=capacity, price=0, fee=0)
    vip = expect(c.admin("POST", "/products", {"name": {"en": "Free VIP", "nl": "Gratis VIP"}, "event_id": ev["id"],
                                               "price": 0, "pools": product["pools"]}), 201)
    return ev, product, vip, occ


def test_the_doc_example(c):
    ev, product, vip, occ = free_event(c)
    b = body([{"uuid": product["id"], "amount": 1}, {"uuid": vip["id"], "amount": 5}])
    r = expect(generate(c, ev["id"], b), 201)
    assert set(r) == {"order_id", "order_uuid", "customer_data_uuid", "download_url", "barcodes"}
    assert len(r["barcodes"]) == 6, "one barcode per ticket"
    for bc in r["barcodes"]:
        assert set(bc) == {"barcode_id", "type", "ticket_type_uuid", "name", "subtitle"}
        assert bc["type"] == "QRCODE" and set(bc["name"]) == {"nl", "en", "fr", "de"}
    assert sorted(bc["ticket_type_uuid"] for bc in r["barcodes"]) == sorted([product["id"]] + [vip["id"]] * 5)
    assert len({bc["barcode_id"] for bc in r["barcodes"]}) == 6
    assert [bc["name"]["nl"] for bc in r["barcodes"] if bc["ticket_type_uuid"] == vip["id"]][0] == "Gratis VIP"
    # the order's PDF e-tickets, the link every dialect gives (docs/ARCHITECTURE.md, "E-tickets")
    token = re.search(r"/orders/([A-Za-z0-9_-]+)\.pdf$", r["download_url"])
    assert token and len(token.group(1)) >= 22, r["download_url"]
    pdf_of(r["download_url"])
    # a confirmed order of every API
    order = expect(c.admin("GET", "/orders/" + r["order_uuid"]), 200)
    assert order["number"] == r["order_id"] and order["status"] == "confirmed" and order["channel"] == "cm"
    assert order["customer"]["uuid"] == r["customer_data_uuid"] and order["customer"]["email"] == "john.doe@example.com"
    assert order["quantity"] == 6 and order["total_gross"] == 0
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + r["order_uuid"]), 200)
    assert tt["id"] == "or_" + r["order_uuid"]
    # its barcodes scan at the Convious scan endpoint, once
    scan = "/api/v2/accounts/demo/barcode/scan/"
    first = r["barcodes"][0]["barcode_id"]
    at = datetime.datetime.fromtimestamp(order["starts_at"] / 1e6 + 60, datetime.timezone.utc).isoformat()
    got = expect(c.convious("POST", scan, {"barcode": first, "scannedAt": at}), 200)
    assert got["status"] == "success", got
    again = expect(c.convious("POST", scan, {"barcode": first, "scannedAt": at}), 200)
    assert again["errorCode"] == "already_redeemed", again
    # another generate gets another order, another token
    r2 = expect(generate(c, ev["id"], b), 201)
    assert r2["order_uuid"] != r["order_uuid"] and r2["download_url"] != r["download_url"]


def test_paid_types_are_refused_and_nothing_is_held(c):
    ev, product, occ = make_event(c, capacity=2, price=1000, fee=0)
    cm_error(generate(c, ev["id"], body([{"uuid": product["id"], "amount": 2}])), 400, "TICKET_TYPE_NOT_FREE",
             "ticket_types[0].uuid")
    fee_only, fee_product, _ = make_event(c, capacity=2, price=0, fee=50)
    cm_error(generate(c, fee_only["id"], body([{"uuid": fee_product["id"], "amount": 1}])), 400,
             "TICKET_TYPE_NOT_FREE", "ticket_types[0].uuid")
    ruled, ruled_product, _ = make_event(c, capacity=2, price=0, fee=0)
    expect(c.admin("PATCH", "/products/" + ruled_product["id"], {"prices": [{"weekdays": [5, 6], "price": 500}]}),
           200)
    cm_error(generate(c, ruled["id"], body([{"uuid": ruled_product["id"], "amount": 1}])), 400,
             "TICKET_TYPE_NOT_FREE", "ticket_types[0].uuid")
    # mixed: a free type at index 1 does not hide the paid one at 0... and the index is the body's
    ev2, free_product, vip, _ = free_event(c)
    paid = expect(c.admin("POST", "/products", {"name": {"en": "Paid"}, "event_id": ev2["id"], "price": 100}), 201)
    cm_error(generate(c, ev2["id"], body([{"uuid": free_product["id"], "amount": 0},
                                           {"uuid": vip["id"], "amount": 1}, {"uuid": paid["id"], "amount": 1}])),
             400, "TICKET_TYPE_NOT_FREE", "ticket_types[2].uuid")
    cm_error(generate(c, CONCERT, body([{"uuid": STANDARD, "amount": 1}])), 400, "TICKET_TYPE_NOT_FREE",
             "ticket_types[0].uuid")
    # nothing was held: both seats of the paid event are still there
    expect(cm(c, "POST", "/events/%s/reservations" % ev["id"], json_body=body([{"uuid": product["id"], "amount": 2}])),
           201)


def test_sold_out_and_validation(c):
    ev, product, vip, _ = free_event(c, capacity=3)
    cm_error(generate(c, ev["id"], body([{"uuid": product["id"], "amount": 4}])), 400, "SOLD_OUT", "ticket_types")
    expect(generate(c, ev["id"], body([{"uuid": product["id"], "amount": 3}])), 201)
    cm_error(generate(c, ev["id"], body([{"uuid": vip["id"], "amount": 1}])), 400, "SOLD_OUT", "ticket_types")
    cm_error(generate(c, ev["id"], body([{"uuid": vip["id"], "amount": 1}], email="nope")), 400,
             "CUSTOMER_DATA_INVALID", "customer_data.email")
    cm_error(generate(c, ev["id"], body([])), 400, "TICKET_TYPES_INVALID", "ticket_types")
    cm_error(generate(c, "nope", body([{"uuid": vip["id"], "amount": 1}])), 404, "EVENT_NOT_FOUND", "event_uuid")


def test_access_key_is_required_too(c):
    ev, product, _, _ = free_event(c)
    expect(c.admin("POST", "/events/%s/access_keys" % ev["id"], {"key": "FREE-KEY"}), 201)
    b = body([{"uuid": product["id"], "amount": 1}])
    cm_error(generate(c, ev["id"], b), 400, "ACCESS_KEY_INVALID", "key")
    expect(generate(c, ev["id"], b, query={"key": "FREE-KEY"}), 201)


def test_tenancy(c):
    ev, product, _, _ = free_event(c)
    b_admin, b_token = second_account(c)
    cm_error(generate(c, ev["id"], body([{"uuid": product["id"], "amount": 1}]), token=b_token), 404,
             "EVENT_NOT_FOUND", "event_uuid")
    cm_error(generate(c, ev["id"], body([{"uuid": product["id"], "amount": 1}]), token="bad"), 401, "UNAUTHORIZED")


def test_calendar_generate_takes_a_time_slot(c):
    ev, regular, _ = calendar_event(c, capacity=2)
    expect(c.admin("PATCH", "/products/" + regular["id"], {"price": 0}), 200)
    year = next_year()
    slots = expect(cm(c, "GET", "/events/%s/calendar/%d/7/14" % (ev["id"], year)), 200)
    b = body([{"uuid": regular["id"], "amount": 2}])
    cm_error(generate(c, ev["id"], b), 400, "TIME_SLOT_REQUIRED", "time_slot_id")
    r = expect(generate(c, ev["id"], dict(b, time_slot_id=slots[0]["id"])), 201)
    order = expect(c.admin("GET", "/orders/" + r["order_uuid"]), 200)
    assert order["visit_date"] == datetime.date(year, 7, 14).isoformat()
    after = expect(cm(c, "GET", "/events/%s/calendar/%d/7/14" % (ev["id"], year)), 200)
    assert after[0]["status_id"] == "CLOSED" and after[1]["stock"] == 2
