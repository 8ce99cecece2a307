"""Fourvenues channels API: POST /tickets/checkout and GET /payments, /payments/{id}
(docs/dialects/fourvenues.md, "Checkout"): the seed's body, every refusal, tiers taken in the
booking's transaction under concurrency, the fee/supplement/warranty table, each payment outcome
through the hosted page, expiry releasing seats, qr_code clashes and the metadata limit."""
import json
import re
import threading
import urllib.parse
from contextlib import contextmanager

import pytest

from harness import ADMIN_TOKEN, admin_error, expect
from fv_channel import HEX24, ISO_MS, UUID, engine_ticket_id, find_by_name, fv, fv_data, fv_error, fv_ticket_id, \
    iso_day, second_account, tag
from test_fourvenues_webhooks import header, listening, node_verify
from test_cm_checkout import advance, choose as choose_on_page
from test_payments import raw

OK_URL = "https://app.yourwebpage.com/checkout/internal-id/success"
ERR_URL = "https://app.yourwebpage.com/checkout/internal-id/error"

EXAMPLE_TIERS = [
    {"id": "early", "name": "Early Bird", "price": 1200, "quantity": 100, "fee_percent_bp": 1000,
     "valid_until": "2099-01-01T00:00:00Z", "includes": "1 Drink", "additional_info": "Only valid before 2:00 am."},
    {"id": "regular", "name": "Regular", "price": 1450, "fee_amount": 150},
]


def tiered_event(c, tiers=EXAMPLE_TIERS, token=ADMIN_TOKEN, capacity=100, **product):
    """A published event with one tiered product on its own pool; returns (event, product, pool)."""
    t = tag()
    ev = expect(c.admin("POST", "/events", {"name": "Checkout " + t, "status": "published", "occurrences": [
        {"id": "oc_" + t, "start": iso_day(500), "end": iso_day(500, 23)}]}, token=token), 201)
    pool = expect(c.admin("POST", "/pools", {"capacity": capacity}, token=token), 201)
    doc = dict({"name": {"en": "Entrada " + t}, "event_id": ev["id"], "price": 1200, "max_per_order": 10,
                "pools": [{"pool_id": pool["id"], "amount": 1}], "price_tiers": tiers}, **product)
    prod = expect(c.admin("POST", "/products", doc, token=token), 201)
    return ev, prod, pool


def rate_of(c, ev, key=None):
    """The event's one rate, paging GET /events (every test adds events on the same night)."""
    kw = {"key": key} if key else {}
    for offset in range(0, 100000, 100):
        events = fv_data(fv(c, "GET", "/events", query={"limit": "100", "offset": str(offset)}, **kw))
        found = find_by_name(events, ev["name"])
        if found:
            return found[0]["ticket_rates"][0]
        assert len(events) == 100, "event %s not listed" % ev["name"]


def fresh_rate(c, rate):
    return fv_data(fv(c, "GET", "/ticket-rates/" + rate["_id"]))


def price_id(rate, name):
    return next(p["_id"] for p in rate["prices"] if p["name"] == name)


def body_for(rate, tickets=None, **over):
    tickets = tickets if tickets is not None else [{"price_id": rate["prices"][0]["_id"]}]
    return dict({"redirect_url": OK_URL, "error_url": ERR_URL, "ticket_rate_id": rate["_id"], "tickets": tickets},
                **over)


def checkout(c, body, key=None):
    kw = {"key": key} if key else {}
    return fv(c, "POST", "/tickets/checkout", json_body=body, **kw)


@contextmanager
def platform_fee(c, amount, token=ADMIN_TOKEN):
    assert expect(c.admin("PATCH", "/channel_settings", {"platform_fee": amount}, token=token), 200) == {
        "platform_fee": amount}
    try:
        yield
    finally:
        expect(c.admin("PATCH", "/channel_settings", {"platform_fee": 0}, token=token), 200)


def page_of(answer):
    path = urllib.parse.urlsplit(answer["payment_url"]).path
    assert path.startswith("/pay/pay_"), answer
    return path


def choose(c, answer, outcome):
    """Posts the outcome through the hosted page's form; where the buyer is sent."""
    return choose_on_page(c, page_of(answer), outcome)


def engine_order(c, ticket_id):
    """The engine's order of the ticket the channel names ticket_id (24 hex; the admin API shows its UUID)."""
    assert HEX24.match(ticket_id), ticket_id
    t = expect(c.admin("GET", "/tickets/" + engine_ticket_id(ticket_id)), 200)
    assert UUID.match(t["id"]) and fv_ticket_id(t["id"]) == ticket_id, t
    return expect(c.admin("GET", "/orders/" + t["order_id"]), 200)


# ---------- the documented example and the fee table ----------

def test_the_documented_example(c):
    ev, prod, _ = tiered_event(c, supplements=[{"id": "drink", "name": "Drink", "price": 100}],
                               warranty={"enabled": True, "percent_bp": 1000, "hours": 12})
    rate = rate_of(c, ev)
    early = price_id(rate, "Early Bird")
    drink = rate["supplements"][0]["_id"]
    holder = {"price_id": early, "qr_code": "ABCDE12345-" + tag(), "full_name": "John Doe", "phone": "+34666666666",
              "email": "john@fourvenues.com", "gender": "0", "birthday": "1990-01-01",
              "address": "123 Main St, New York, NY 10001", "postal_code": "10001", "country_code": "ES",
              "personal_document_type": "dni", "personal_document_number": "1234567890",
              "supplements": [{"supplement_id": drink}, {"supplement_id": drink}], "warranty": True}
    with platform_fee(c, 50):
        answer = fv_data(checkout(c, body_for(rate, [holder, {"price_id": early}], send_resourcers=True,
                                              metadata={"key": "value"})), 201)
    assert list(answer) == ["payment_id", "payment_url", "total_amount", "tickets", "conditions_changed"]
    assert HEX24.match(answer["payment_id"]) and answer["payment_url"].startswith(c.base + "/pay/pay_")
    assert answer["total_amount"] == 29.6 and answer["conditions_changed"] is False
    one, two = answer["tickets"]
    assert one["status"] == two["status"] == "pending_payment"
    assert one["qr_code"] == holder["qr_code"] and two["qr_code"].isdigit()
    assert one["ticket_rate_id"] == rate["_id"] and one["event_id"] == rate["event_id"]
    channel = fv_data(fv(c, "GET", "/auth"))["channel"]["_id"]
    assert one["channel_id"] == two["channel_id"] == channel and one["payment_currency"] == "EUR"
    assert one["price"] == {"_id": early, "name": "Early Bird", "price": 12, "valid_until": "2099-01-01T00:00:00.000Z",
                            "quantity": 100, "fee_type": "percentage", "fee_quantity": 10, "includes": "1 Drink",
                            "additional_info": "Only valid before 2:00 am."}
    assert one["fees"] == {"organization": 1.2, "discocil": 0.5} and one["total_fees"] == 1.7
    assert one["supplements"] == [{"supplement_id": drink, "price": 1}]  # the repeat collapsed
    assert one["total_supplements"] == 1 and one["warranty"] == {"total": 1.2, "hours": 12}
    assert one["total_price"] == 15.9 and two["total_price"] == 13.7
    assert two["supplements"] == [] and two["warranty"] == {"total": 0, "hours": 0}
    assert one["full_name"] == "John Doe" and one["gender"] == 0 and one["birthday"] == "1990-01-01"
    assert one["country_code"] == "ES" and one["personal_document_type"] == "dni"
    assert one["email"] == "john@fourvenues.com" and one["phone"] == "+34666666666"
    # the money is the engine's order: every dialect and a refund see the same totals
    assert HEX24.match(one["_id"]) and HEX24.match(two["_id"]) and one["_id"] != two["_id"]
    order = engine_order(c, one["_id"])
    assert sorted(fv_ticket_id(t["id"]) for t in order["tickets"]) == sorted([one["_id"], two["_id"]])
    assert order["channel"] == "fourvenues" and order["status"] == "open"
    assert order["total_after_discount_gross"] + order["booking_fee_total"] == 2960, order
    assert order["booking_fee_total"] == 340
    # the same tickets through GET /tickets/{id}
    again = fv_data(fv(c, "GET", "/tickets/" + one["_id"]))
    assert again["total_price"] == 15.9 and again["price"] == one["price"] and again["fees"] == one["fees"]
    # the payment
    p = fv_data(fv(c, "GET", "/payments/" + answer["payment_id"]))
    assert list(p) == ["_id", "status", "rate_id", "organization_id", "event_id", "resource_type", "resource_ids",
                       "total", "send_resources", "metadata", "currency", "paid_at", "expires_at"]
    assert p["_id"] == answer["payment_id"] and p["status"] == "pending" and p["rate_id"] == rate["_id"]
    assert p["event_id"] == rate["event_id"] and p["organization_id"] == rate["organization_id"]
    assert p["resource_type"] == "ticket" and sorted(p["resource_ids"]) == sorted([one["_id"], two["_id"]])
    assert p["total"] == {"amount": 29.6, "fees": 3.4} and p["send_resources"] is True
    assert p["metadata"] == {"key": "value"} and p["currency"] == "EUR" and p["paid_at"] is None
    assert ISO_MS.match(p["expires_at"])
    assert fresh_rate(c, rate)["availability"]["sold"] == 2


HOSTILE = "Zo\u00eb \"Q\" \\ back\u0001\u001f\u007f\u2028 \U0001F600 </script>"
ONE_LINE = "Zo\u00eb \"Q\" \\ \U0001F600 </script>"  # an answer is one line


def js_stringify(value):
    """JSON.stringify's text of a parsed value (for these values Python writes the same: compact, UTF-8, control
    characters as lower-case \\u00xx, floats in their shortest form)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ticket_texts_as_read(c, answer):
    """Each ticket of a checkout's answer as GET /tickets/{id} writes it (from the canonical ticket, its document
    parsed): the text between {"data": and ,"success":true}."""
    texts = []
    for t in answer["tickets"]:
        r = fv(c, "GET", "/tickets/" + t["_id"])
        assert r.status == 200 and r.raw.startswith('{"data":{') and r.raw.endswith(',"success":true}'), r
        texts.append(r.raw[len('{"data":'):-len(',"success":true}')])
    return texts


def tiered_case(c):
    """Tiers by percentage and by amount (the first sold out by the first two tickets), supplements, a warranty,
    a discount, answers, hostile text."""
    tiers = [{"id": "vip", "name": "V\u00ecp \"Gold\" \\ " + HOSTILE, "price": 1205, "quantity": 2,
              "fee_percent_bp": 1050, "valid_until": "2099-03-04T05:06:07.890Z", "includes": HOSTILE,
              "additional_info": "line\nbreak"},
             {"id": "door", "name": "Door", "price": 1999, "fee_amount": 133}]
    ev, prod, _ = tiered_event(c, tiers, supplements=[{"id": "s1", "name": "One", "price": 105},
                                                      {"id": "s2", "name": "Two", "price": 250}],
                               warranty={"enabled": True, "percent_bp": 750, "hours": 36})
    for required in (True, False):
        expect(c.admin("POST", "/questions", {"label": {"en": "Q " + tag()}, "type": "text", "required": required,
                                              "scope": "ticket", "product_ids": [prod["id"]]}), 201)
    code = "FV" + tag().upper()
    expect(c.admin("POST", "/discounts", {"code": code, "name": "Ten", "type": "percentage", "percent_bp": 1000}), 201)
    rate = rate_of(c, ev)
    required, optional = ([q["_id"] for q in rate["questions"] if q["required"] is want][0] for want in (True, False))
    sups = [{"supplement_id": s["_id"]} for s in rate["supplements"]]
    vip, door = price_id(rate, tiers[0]["name"]), price_id(rate, "Door")
    holder = {"full_name": HOSTILE, "email": "zo\u00eb@example.com", "phone": "+34 600", "gender": 1,
              "birthday": "1990-02-03", "address": HOSTILE, "postal_code": "08001", "country_code": "ES",
              "personal_document_type": "passport", "personal_document_number": "X\t1"}
    tickets = [dict(holder, price_id=vip, supplements=sups, warranty=True,
                    answers=[{"question_id": required, "answer": ONE_LINE}, {"question_id": optional, "answer": ""}]),
               {"price_id": vip, "qr_code": "QR-" + tag(), "answers": [{"question_id": optional, "answer": "x"},
                                                                       {"question_id": required, "answer": "y"}]},
               {"price_id": door, "full_name": "Other", "gender": "0", "supplements": sups[1:],
                "answers": [{"question_id": required, "answer": "z"}]}]
    return body_for(rate, tickets, discount_code=code, metadata={"k": HOSTILE})


def untiered_case(c):
    """A product without tiers: its own price, its booking fee, its name in the first language it has."""
    ev, prod, _ = tiered_event(c, [], price=1001, booking_fee=99, name={"es": "Entrada \u00f1 " + HOSTILE, "fr": "x"})
    rate = rate_of(c, ev)
    return body_for(rate, [{"price_id": rate["prices"][0]["_id"]}, {"price_id": rate["prices"][0]["_id"],
                                                                     "email": "second@example.com"}])


@pytest.mark.parametrize("case", [tiered_case, untiered_case])
def test_the_reply_tickets_are_the_tickets_as_read_byte_for_byte(c, case):
    """The checkout writes its reply's tickets from the values it holds (docs/dialects/fourvenues.md, "Checkout"):
    each is, byte for byte, the object GET /tickets/{id} writes from the stored ticket, in the body's order, and
    the whole reply is what JSON.stringify gives back for it."""
    body = case(c)
    with platform_fee(c, 37):
        r = checkout(c, body)
    answer = fv_data(r, 201)
    assert len(answer["tickets"]) == len(body["tickets"])
    texts = ticket_texts_as_read(c, answer)
    assert answer["conditions_changed"] is False and [t["price"]["_id"] for t in answer["tickets"]] == [
        t["price_id"] for t in body["tickets"]], answer
    assert '"tickets":[' + ",".join(texts) + '],"conditions_changed":false},"success":true}' in r.raw, r.raw
    assert r.raw == js_stringify(json.loads(r.raw)), r.raw
    for sent, got in zip(body["tickets"], answer["tickets"]):
        if "qr_code" in sent:
            assert got["qr_code"] == sent["qr_code"]
    assert answer["tickets"][0]["full_name"] == body["tickets"][0].get("full_name", answer["tickets"][0]["full_name"])


@pytest.mark.parametrize("tier,supplements,warranty,expected", [
    # price, fee rule, supplements, warranty %: total_price
    ({"price": 1205, "fee_percent_bp": 1000}, [], None, {"fees": 1.21, "total": 13.26}),   # 1.205 → 1.21
    ({"price": 1000, "fee_amount": 150}, [], None, {"fees": 1.5, "total": 11.5}),
    ({"price": 1000, "fee_percent_bp": 0}, [300, 250], None, {"fees": 0, "total": 15.5}),
    ({"price": 1999, "fee_percent_bp": 250}, [], 250, {"fees": 0.5, "total": 20.99}),     # 49.975→50, 49.975→50
    ({"price": 0, "fee_amount": 0}, [100], 1000, {"fees": 0, "total": 1}),
])
def test_fee_supplement_warranty_table(c, tier, supplements, warranty, expected):
    sups = [{"id": "s%d" % i, "name": "Sup %d" % i, "price": p} for i, p in enumerate(supplements)]
    extra = {"supplements": sups} if sups else {}
    if warranty is not None:
        extra["warranty"] = {"enabled": True, "percent_bp": warranty, "hours": 6}
    ev, _, _ = tiered_event(c, [dict({"id": "t", "name": "T"}, **tier)], **extra)
    rate = rate_of(c, ev)
    ticket = {"price_id": rate["prices"][0]["_id"], "supplements": [{"supplement_id": s["_id"]} for s in rate["supplements"]],
              "warranty": warranty is not None}
    answer = fv_data(checkout(c, body_for(rate, [ticket])), 201)
    t = answer["tickets"][0]
    assert t["total_fees"] == expected["fees"] and t["fees"]["discocil"] == 0, t
    assert t["total_price"] == expected["total"] and answer["total_amount"] == expected["total"], t


def test_a_product_without_tiers_sells_at_its_price_and_booking_fee(c):
    ev, _, _ = tiered_event(c, [], price=1000, booking_fee=120)
    rate = rate_of(c, ev)
    answer = fv_data(checkout(c, body_for(rate)), 201)
    t = answer["tickets"][0]
    assert t["price"]["price"] == 10 and t["fees"] == {"organization": 1.2, "discocil": 0}
    assert t["total_price"] == 11.2 and answer["total_amount"] == 11.2 and answer["conditions_changed"] is False


def test_a_discount_code_takes_its_part_off_the_price(c):
    code = "FV" + tag().upper()
    expect(c.admin("POST", "/discounts", {"code": code, "name": "Ten", "type": "percentage", "percent_bp": 1000}), 201)
    ev, _, _ = tiered_event(c, [{"id": "t", "name": "T", "price": 2000, "fee_amount": 100}])
    rate = rate_of(c, ev)
    answer = fv_data(checkout(c, body_for(rate, discount_code=code)), 201)
    assert answer["total_amount"] == 19 and answer["tickets"][0]["total_price"] == 19  # 20 - 2 + 1
    fv_error(checkout(c, body_for(rate, discount_code="NOPE-" + tag())), 400, "unknown_discount_code", "discount_code")


def test_the_correct_spelling_and_metadata_defaults(c):
    ev, _, _ = tiered_event(c)
    rate = rate_of(c, ev)
    answer = fv_data(checkout(c, body_for(rate, send_resources=True)), 201)
    p = fv_data(fv(c, "GET", "/payments/" + answer["payment_id"]))
    assert p["send_resources"] is True and p["metadata"] == {}
    answer = fv_data(checkout(c, body_for(rate)), 201)
    assert fv_data(fv(c, "GET", "/payments/" + answer["payment_id"]))["send_resources"] is False


# ---------- refusals ----------

@pytest.mark.parametrize("over,status,code,field", [
    ({"ticket_rate_id": None}, 400, "invalid_field", "ticket_rate_id"),
    ({"ticket_rate_id": "XYZ"}, 400, "invalid_field", "ticket_rate_id"),
    ({"ticket_rate_id": "0" * 24}, 404, "not_found", "ticket_rate_id"),
    ({"redirect_url": None}, 400, "invalid_url", "redirect_url"),
    ({"redirect_url": "/relative"}, 400, "invalid_url", "redirect_url"),
    ({"redirect_url": "ftp://x.example/"}, 400, "invalid_url", "redirect_url"),
    ({"error_url": "javascript:alert(1)"}, 400, "invalid_url", "error_url"),
    ({"error_url": "https://x.example/\"><script>"}, 400, "invalid_url", "error_url"),
    ({"send_resourcers": "yes"}, 400, "invalid_field", "send_resourcers"),
    ({"send_resources": 1}, 400, "invalid_field", "send_resources"),
    ({"metadata": [1]}, 400, "invalid_field", "metadata"),
    ({"metadata": "x"}, 400, "invalid_field", "metadata"),
    ({"discount_code": 5}, 400, "invalid_field", "discount_code"),
    ({"tickets": []}, 400, "invalid_field", "tickets"),
    ({"tickets": "x"}, 400, "invalid_field", "tickets"),
    ({"tickets": [{"price_id": "P"}] * 11}, 400, "invalid_field", "tickets"),  # max_per_order 10
    ({"tickets": [7]}, 400, "invalid_field", "tickets[0].price_id"),
    ({"tickets": [{}]}, 400, "invalid_field", "tickets[0].price_id"),
    ({"tickets": [{"price_id": "123"}]}, 400, "invalid_field", "tickets[0].price_id"),
    ({"tickets": [{"price_id": "P", "gender": 2}]}, 400, "invalid_field", "tickets[0].gender"),
    ({"tickets": [{"price_id": "P", "gender": "man"}]}, 400, "invalid_field", "tickets[0].gender"),
    ({"tickets": [{"price_id": "P", "gender": True}]}, 400, "invalid_field", "tickets[0].gender"),
    ({"tickets": [{"price_id": "P", "birthday": "1990-02-30"}]}, 400, "invalid_field", "tickets[0].birthday"),
    ({"tickets": [{"price_id": "P", "birthday": "2999-01-01"}]}, 400, "invalid_field", "tickets[0].birthday"),
    ({"tickets": [{"price_id": "P", "birthday": "01/01/1990"}]}, 400, "invalid_field", "tickets[0].birthday"),
    ({"tickets": [{"price_id": "P", "country_code": "XX"}]}, 400, "invalid_field", "tickets[0].country_code"),
    ({"tickets": [{"price_id": "P", "country_code": "es"}]}, 400, "invalid_field", "tickets[0].country_code"),
    ({"tickets": [{"price_id": "P", "personal_document_type": "id"}]}, 400, "invalid_field",
     "tickets[0].personal_document_type"),
    ({"tickets": [{"price_id": "P", "email": "not-an-email"}]}, 400, "invalid_field", "tickets[0].email"),
    ({"tickets": [{"price_id": "P", "full_name": ""}]}, 400, "invalid_field", "tickets[0].full_name"),
    ({"tickets": [{"price_id": "P", "full_name": "x" * 201}]}, 400, "invalid_field", "tickets[0].full_name"),
    ({"tickets": [{"price_id": "P", "full_name": "a\u0000b"}]}, 400, None, None),
    ({"tickets": [{"price_id": "P", "supplements": [{"supplement_id": "999"}]}]}, 400, "invalid_field",
     "tickets[0].supplements[0].supplement_id"),
    ({"tickets": [{"price_id": "P", "supplements": "drink"}]}, 400, "invalid_field", "tickets[0].supplements"),
    ({"tickets": [{"price_id": "P", "warranty": "yes"}]}, 400, "invalid_field", "tickets[0].warranty"),
    ({"tickets": [{"price_id": "P"}, {"price_id": "P", "qr_code": "short"}]}, 400, "invalid_field",
     "tickets[1].qr_code"),
    ({"tickets": [{"price_id": "P", "qr_code": "has space 123"}]}, 400, "invalid_field", "tickets[0].qr_code"),
    ({"tickets": [{"price_id": "P", "qr_code": "Q" * 65}]}, 400, "invalid_field", "tickets[0].qr_code"),
    ({"tickets": [{"price_id": "P", "answers": [{"question_id": "1", "answer": "x"}]}]}, 400, "invalid_field",
     "tickets[0].answers[0].question_id"),
])
def test_refusals_hold_nothing(c, over, status, code, field):
    ev, _, _ = tiered_event(c, capacity=20)
    rate = rate_of(c, ev)
    body = body_for(rate, **over)
    if isinstance(body["tickets"], list):
        body["tickets"] = [dict(t, price_id=rate["prices"][0]["_id"]) if isinstance(t, dict) and t.get("price_id") == "P"
                           else t for t in body["tickets"]]
    r = checkout(c, body)
    if code is None:
        assert r.status == status, r
    else:
        fv_error(r, status, code, field)
    assert fresh_rate(c, rate)["availability"] == {"sold": 0, "available": 20}


def test_warranty_only_where_enabled_and_min_per_order(c):
    ev, _, _ = tiered_event(c, min_per_order=2)
    rate = rate_of(c, ev)
    p = rate["prices"][0]["_id"]
    fv_error(checkout(c, body_for(rate, [{"price_id": p}])), 400, "invalid_field", "tickets")
    fv_error(checkout(c, body_for(rate, [{"price_id": p}, {"price_id": p, "warranty": True}])), 400,
             "invalid_field", "tickets[1].warranty")
    fv_data(checkout(c, body_for(rate, [{"price_id": p}, {"price_id": p, "warranty": False}])), 201)


def test_required_questions(c):
    ev, prod, _ = tiered_event(c)
    expect(c.admin("POST", "/questions", {"label": {"en": "Shoe size"}, "type": "text", "required": True,
                                              "scope": "ticket", "product_ids": [prod["id"]]}), 201)
    rate = rate_of(c, ev)
    qid = rate["questions"][0]["_id"]
    p = rate["prices"][0]["_id"]
    fv_error(checkout(c, body_for(rate, [{"price_id": p}])), 400, "missing_answer", "tickets[0].answers")
    fv_error(checkout(c, body_for(rate, [{"price_id": p, "answers": [{"question_id": qid, "answer": 42}]}])), 400,
             "invalid_field", "tickets[0].answers[0].answer")
    answer = fv_data(checkout(c, body_for(rate, [{"price_id": p, "answers": [{"question_id": qid, "answer": "44"}]}])),
                     201)
    assert answer["tickets"][0]["answers"] == [{"question_id": qid, "answer": "44"}]


def test_metadata_at_1024_and_1025_bytes(c):
    ev, _, _ = tiered_event(c)
    rate = rate_of(c, ev)
    base = len(json.dumps({"k": ""}, separators=(",", ":")))
    at_limit = {"k": "x" * (1024 - base)}
    assert len(json.dumps(at_limit, separators=(",", ":"))) == 1024
    answer = fv_data(checkout(c, body_for(rate, metadata=at_limit)), 201)
    assert fv_data(fv(c, "GET", "/payments/" + answer["payment_id"]))["metadata"] == at_limit
    over = {"k": "x" * (1025 - base)}
    fv_error(checkout(c, body_for(rate, metadata=over)), 400, "invalid_field", "metadata")
    # bytes, not characters: 512 two-byte characters are 1,024 bytes plus the rest
    fv_error(checkout(c, body_for(rate, metadata={"k": "é" * 512})), 400, "invalid_field", "metadata")


def test_body_must_be_a_json_object_and_the_key_is_required(c):
    ev, _, _ = tiered_event(c)
    rate = rate_of(c, ev)
    fv_error(fv(c, "POST", "/tickets/checkout", raw=b"[1]"), 400, "invalid_body")
    fv_error(fv(c, "POST", "/tickets/checkout", raw=b"{", headers={"Content-Type": "application/json"}), 400,
             "invalid_body")
    fv_error(fv(c, "POST", "/tickets/checkout", json_body=body_for(rate), key=None), 401, "unauthorized")
    fv_error(fv(c, "POST", "/tickets/checkout", json_body=body_for(rate), key="fv_nope"), 401, "unauthorized")


def test_off_sale_and_sold_out(c):
    past = [{"id": "gone", "name": "Gone", "price": 800, "valid_until": "2020-01-01T00:00:00Z"}]
    ev, _, _ = tiered_event(c, past)
    rate = rate_of(c, ev)
    fv_error(checkout(c, body_for(rate)), 409, "sold_out", "tickets")  # no tier left
    ev, _, _ = tiered_event(c, capacity=1)
    rate = rate_of(c, ev)
    p = rate["prices"][0]["_id"]
    fv_error(checkout(c, body_for(rate, [{"price_id": p}, {"price_id": p}])), 409, "sold_out", "tickets")
    fv_data(checkout(c, body_for(rate, [{"price_id": p}])), 201)
    fv_error(checkout(c, body_for(rate, [{"price_id": p}])), 409, "sold_out", "tickets")


def test_another_accounts_rate_and_payment_are_not_found(c):
    token, key = second_account(c)
    expect(c.admin("PATCH", "/payment_settings", {"test_mode": True}, token=token), 200)
    ev_b, _, _ = tiered_event(c, token=token)
    rate_b = rate_of(c, ev_b, key=key)
    fv_error(checkout(c, body_for(rate_b)), 404, "not_found", "ticket_rate_id")
    answer_b = fv_data(checkout(c, body_for(rate_b), key=key), 201)
    fv_error(fv(c, "GET", "/payments/" + answer_b["payment_id"]), 404, "not_found", "id")
    assert answer_b["payment_id"] not in [p["_id"] for p in fv_data(fv(c, "GET", "/payments?limit=100"))]
    assert fv_data(fv(c, "GET", "/payments/" + answer_b["payment_id"], key=key))["_id"] == answer_b["payment_id"]
    # the same qr_code in two accounts: barcodes are unique server-wide, so the second is refused
    qr = "SHARED-" + tag()
    fv_data(checkout(c, body_for(rate_b, [{"price_id": rate_b["prices"][0]["_id"], "qr_code": qr}]), key=key), 201)
    ev, _, _ = tiered_event(c)
    rate = rate_of(c, ev)
    fv_error(checkout(c, body_for(rate, [{"price_id": rate["prices"][0]["_id"], "qr_code": qr}])), 409,
             "qr_code_taken", "tickets[0].qr_code")


def test_a_rate_no_longer_sold_is_not_found(c):
    """Checkout finds the rate from its id alone: a draft event or a disabled product is not on sale."""
    ev, prod, _ = tiered_event(c)
    rate = rate_of(c, ev)
    expect(c.admin("PATCH", "/events/" + ev["id"], {"status": "draft"}), 200)
    fv_error(checkout(c, body_for(rate)), 404, "not_found", "ticket_rate_id")
    expect(c.admin("PATCH", "/events/" + ev["id"], {"status": "published"}), 200)
    assert fv_data(checkout(c, body_for(rate)), 201)["payment_id"]
    expect(c.admin("PATCH", "/products/" + prod["id"], {"enabled": False}), 200)
    fv_error(checkout(c, body_for(rate)), 404, "not_found", "ticket_rate_id")


def test_an_account_without_payments_cannot_check_out(c):
    token, key = second_account(c)
    ev, _, _ = tiered_event(c, token=token)
    rate = rate_of(c, ev, key=key)
    fv_error(checkout(c, body_for(rate), key=key), 409, "payments_unavailable")
    assert fv_data(fv(c, "GET", "/ticket-rates/" + rate["_id"], key=key))["availability"]["sold"] == 0


def test_qr_code_clashes(c):
    ev, _, _ = tiered_event(c, capacity=10)
    rate = rate_of(c, ev)
    p = rate["prices"][0]["_id"]
    qr = "Fiesta-" + tag()
    made = fv_data(checkout(c, body_for(rate, [{"price_id": p, "qr_code": qr}])), 201)
    assert made["tickets"][0]["qr_code"] == qr
    fv_error(checkout(c, body_for(rate, [{"price_id": p}, {"price_id": p, "qr_code": qr}])), 409, "qr_code_taken",
             "tickets[1].qr_code")
    other = "Other-" + tag()
    fv_error(checkout(c, body_for(rate, [{"price_id": p, "qr_code": other}, {"price_id": p, "qr_code": other}])), 409,
             "qr_code_taken", "tickets[1].qr_code")
    assert fresh_rate(c, rate)["availability"] == {"sold": 1, "available": 9}
    # the code scans like any ticket's barcode once paid
    choose(c, made, "paid")
    found = fv_data(fv(c, "GET", "/tickets/" + made["tickets"][0]["_id"]))
    assert found["qr_code"] == qr and found["status"] == "active"


# ---------- tiers under concurrency ----------

def test_tier_rollover_under_concurrency(c):
    tiers = [{"id": "t1", "name": "Tier 1", "price": 1000, "quantity": 100, "fee_amount": 100},
             {"id": "t2", "name": "Tier 2", "price": 1500, "fee_amount": 100}]
    ev, _, _ = tiered_event(c, tiers, capacity=200)
    rate = rate_of(c, ev)
    first = price_id(rate, "Tier 1")
    results, lock = [], threading.Lock()

    def one():
        r = checkout(c, body_for(rate, [{"price_id": first}]))
        with lock:
            results.append(r)
    threads = [threading.Thread(target=one) for _ in range(150)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers = [fv_data(r, 201) for r in results]
    at_one = [a for a in answers if a["tickets"][0]["price"]["name"] == "Tier 1"]
    at_two = [a for a in answers if a["tickets"][0]["price"]["name"] == "Tier 2"]
    assert len(at_one) == 100 and len(at_two) == 50, (len(at_one), len(at_two))
    assert all(a["conditions_changed"] is False and a["total_amount"] == 11 for a in at_one)
    assert all(a["conditions_changed"] is True and a["total_amount"] == 16 for a in at_two)
    now = fresh_rate(c, rate)
    assert now["current_price"]["name"] == "Tier 2" and now["availability"] == {"sold": 150, "available": 50}


def test_a_later_tier_asked_while_an_earlier_is_active_gets_the_active_one(c):
    ev, _, _ = tiered_event(c)
    rate = rate_of(c, ev)
    answer = fv_data(checkout(c, body_for(rate, [{"price_id": price_id(rate, "Regular")}])), 201)
    assert answer["conditions_changed"] is True and answer["tickets"][0]["price"]["name"] == "Early Bird"


# ---------- payment outcomes ----------

@pytest.mark.parametrize("outcome", ["paid", "failed", "cancelled", "expired"])
def test_each_outcome_through_the_page(c, outcome):
    ev, _, _ = tiered_event(c, capacity=10)
    rate = rate_of(c, ev)
    p = rate["prices"][0]["_id"]
    answer = fv_data(checkout(c, body_for(rate, [{"price_id": p}, {"price_id": p}])), 201)
    location = choose(c, answer, outcome)
    base = OK_URL if outcome == "paid" else ERR_URL
    parts = urllib.parse.urlsplit(location)
    assert location.startswith(base + "?payment_id=" + answer["payment_id"] + "&"), location
    query = urllib.parse.parse_qs(parts.query)
    assert query["payment_id"] == [answer["payment_id"]] and query["status"] == [outcome]
    payment = fv_data(fv(c, "GET", "/payments/" + answer["payment_id"]))
    assert payment["status"] == outcome
    statuses = {fv_data(fv(c, "GET", "/tickets/" + t["_id"]))["status"] for t in answer["tickets"]}
    if outcome == "paid":
        assert statuses == {"active"} and ISO_MS.match(payment["paid_at"])
        assert fresh_rate(c, rate)["availability"] == {"sold": 2, "available": 8}
    elif outcome == "expired":
        assert statuses == {"voided"} and payment["paid_at"] is None
        now = fresh_rate(c, rate)
        assert now["availability"] == {"sold": 0, "available": 10}
    else:  # the hold stays until the deadline
        assert statuses == {"pending_payment"} and payment["paid_at"] is None


PAGE_ROW = re.compile(r"<tr><td>([^<]*)</td><td class=\"n\">(\d+)</td><td class=\"n\">([^<]*)</td></tr>")


def page_after_checkout(c):
    """A checkout of two Early Bird tickets (12 + 10% fee each), the first with a 1.00 supplement; its answer,
    the engine's order and the rows of its payment page."""
    ev, prod, _ = tiered_event(c, supplements=[{"id": "drink", "name": "Drink", "price": 100}])
    rate = rate_of(c, ev)
    early = price_id(rate, "Early Bird")
    answer = fv_data(checkout(c, body_for(rate, [{"price_id": early, "supplements": [
        {"supplement_id": rate["supplements"][0]["_id"]}]}, {"price_id": early}])), 201)
    assert answer["total_amount"] == 27.4, answer
    order = engine_order(c, answer["tickets"][0]["_id"])
    status, _, html = raw(c, "GET", page_of(answer))
    assert status == 200 and "Order " + order["number"] + " " in html and 'id="status">open<' in html, html
    assert 'id="total">27.40 EUR<' in html, html
    return answer, order, prod, html


def test_the_page_after_a_checkout_shows_its_rows_and_the_redirect_its_order_number(c):
    """The checkout hands the order it read back to the payment page (docs/PAYMENTS.md, "The order's rows,
    kept from the checkout"): the page's rows and the POST's redirect are the order's, as when it is read."""
    answer, order, prod, html = page_after_checkout(c)
    assert PAGE_ROW.findall(html) == [(prod["name"]["en"], "2", "27.40 EUR")], html
    location = choose(c, answer, "paid")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query == {"payment_id": [answer["payment_id"]], "order_id": [order["number"]], "status": ["paid"]}, location
    # paid: the order changed, so the page reads it again and shows it finished
    status, _, html = raw(c, "GET", page_of(answer))
    assert status == 200 and 'id="status">paid<' in html and "cannot be paid again" in html, html
    assert PAGE_ROW.findall(html) == [(prod["name"]["en"], "2", "27.40 EUR")], html


def test_the_page_follows_a_ticket_voided_after_the_checkout(c):
    """The kept rows are shown only while the order is unchanged: a ticket voided after the checkout is gone
    from the next page, as when the order is read."""
    answer, order, prod, _ = page_after_checkout(c)
    with_drink = engine_ticket_id(answer["tickets"][0]["_id"])
    expect(c.admin("POST", "/tickets/%s/void" % with_drink), 200)
    status, _, html = raw(c, "GET", page_of(answer))
    assert status == 200 and 'id="status">open<' in html, html
    assert PAGE_ROW.findall(html) == [(prod["name"]["en"], "1", "13.20 EUR")], html


def test_expiry_voids_and_releases_seats_and_tier_places(c):
    tiers = [{"id": "t1", "name": "Tier 1", "price": 1000, "quantity": 2},
             {"id": "t2", "name": "Tier 2", "price": 1500}]
    ev, _, _ = tiered_event(c, tiers, capacity=5)
    rate = rate_of(c, ev)
    p = price_id(rate, "Tier 1")
    answer = fv_data(checkout(c, body_for(rate, [{"price_id": p}, {"price_id": p}])), 201)
    assert fresh_rate(c, rate)["current_price"]["name"] == "Tier 2"
    advance(c, 20 * 60)
    assert fv_data(fv(c, "GET", "/payments/" + answer["payment_id"]))["status"] == "expired"
    # the page finds its payment past the deadline and releases it (the reaper would too)
    status, _, _ = raw(c, "GET", page_of(answer))
    assert status in (200, 303, 410), status
    for t in answer["tickets"]:
        assert fv_data(fv(c, "GET", "/tickets/" + t["_id"]))["status"] == "voided"
    now = fresh_rate(c, rate)
    assert now["availability"] == {"sold": 0, "available": 5} and now["current_price"]["name"] == "Tier 1"
    assert fv_data(fv(c, "GET", "/payments/" + answer["payment_id"]))["status"] == "expired"


def test_paid_queues_a_signed_payment_success(c):
    ev, _, _ = tiered_event(c)
    rate = rate_of(c, ev)
    with listening(c) as (rx, made):
        answer = fv_data(checkout(c, body_for(rate, send_resourcers=True, metadata={"order": "A-1", "n": 1.1})), 201)
        choose(c, answer, "paid")
        headers, body, doc = rx.wait_for(lambda d: d["event"] == "payment.success" and
                                         d["payload"]["payment_id"] == answer["payment_id"])
        assert doc["payload"] == {"payment_id": answer["payment_id"], "resource_type": "ticket",
                                  "resource_ids": doc["payload"]["resource_ids"],
                                  "metadata": {"order": "A-1", "n": 1.1}, "send_resources": True}
        assert sorted(doc["payload"]["resource_ids"]) == sorted(t["_id"] for t in answer["tickets"])
        assert all(HEX24.match(i) for i in doc["payload"]["resource_ids"])
        assert header(headers, "x-webhook-id") == doc["id"]
        node_verify(made["sign_secret"], header(headers, "x-webhook-signature"), body)
    # GET /tickets finds the tickets by the payment
    listed = fv_data(fv(c, "GET", "/tickets", query={"payment_id": answer["payment_id"]}))
    assert sorted(t["_id"] for t in listed) == sorted(t["_id"] for t in answer["tickets"])


def test_payments_list_filters(c):
    ev, _, _ = tiered_event(c)
    rate = rate_of(c, ev)
    a1 = fv_data(checkout(c, body_for(rate)), 201)
    a2 = fv_data(checkout(c, body_for(rate)), 201)
    listed = fv_data(fv(c, "GET", "/payments", query={"event_id": rate["event_id"]}))
    assert [p["_id"] for p in listed] == [a2["payment_id"], a1["payment_id"]]  # newest first
    assert [p["_id"] for p in fv_data(fv(c, "GET", "/payments", query={"event_id": rate["event_id"], "limit": "1",
                                                                     "offset": "1"}))] == [a1["payment_id"]]
    assert fv_data(fv(c, "GET", "/payments", query={"event_id": "f" * 24})) == []
    assert fv_data(fv(c, "GET", "/payments", query={"organization_id": "f" * 24})) == []
    mine = fv_data(fv(c, "GET", "/payments", query={"organization_id": rate["organization_id"],
                                                     "event_id": rate["event_id"]}))
    assert [p["_id"] for p in mine] == [a2["payment_id"], a1["payment_id"]]
    assert fv_data(fv(c, "GET", "/payments", query={"event_id": rate["event_id"],
                                                     "start_date": "2999-01-01"})) == []
    for q, field in (({"limit": "0"}, "limit"), ({"offset": "-1"}, "offset"), ({"start_date": "x"}, "start_date"),
                     ({"event_id": "x"}, "event_id"), ({"organization_id": "1"}, "organization_id"),
                     ({"status": "paid"}, "status"),
                     ({"start_date": "2030-01-02", "end_date": "2030-01-01"}, "end_date")):
        fv_error(fv(c, "GET", "/payments", query=q), 400, "invalid_parameter", field)
    fv_error(fv(c, "GET", "/payments/" + "0" * 24), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/payments/nope"), 404, "not_found", "id")


def test_platform_fee_setting(c):
    assert expect(c.admin("GET", "/channel_settings"), 200) == {"platform_fee": 0}
    for bad in (-1, "50", 1.5, 100000001):
        admin_error(c.admin("PATCH", "/channel_settings", {"platform_fee": bad}), 400, "invalid_field", "platform_fee")
    admin_error(c.admin("PATCH", "/channel_settings", {"discocil": 1}), 400, "unknown_field", "discocil")
    with platform_fee(c, 75):
        assert expect(c.admin("GET", "/channel_settings"), 200) == {"platform_fee": 75}
        # another account's setting is its own
        token, _ = second_account(c)
        assert expect(c.admin("GET", "/channel_settings", token=token), 200) == {"platform_fee": 0}


def test_a_late_payment_never_sells_a_tier_past_its_quantity(c):
    """Money that comes after the deadline re-holds the tickets only if their tier still has room."""
    from test_payments import URLS, notify
    tiers = [{"id": "t1", "name": "Tier 1", "price": 1000, "quantity": 1},
             {"id": "t2", "name": "Tier 2", "price": 1500}]
    ev, _, _ = tiered_event(c, tiers, capacity=5)
    rate = rate_of(c, ev)
    first = fv_data(checkout(c, body_for(rate, [{"price_id": price_id(rate, "Tier 1")}])), 201)
    order = engine_order(c, first["tickets"][0]["_id"])
    # the buyer pays through a provider that reports out of band
    p = expect(c.admin("POST", "/orders/%s/payments" % order["id"],
                       {"provider": "fake", "method": "card", "callback_urls": URLS, "deadline_seconds": 60}), 201)
    if notify(c, p, "expired").status == 404:
        pytest.skip("the fake provider needs a server started with --test-clock")
    assert fresh_rate(c, rate)["current_price"]["name"] == "Tier 1"  # its place went back
    second = fv_data(checkout(c, body_for(rate, [{"price_id": price_id(rate, "Tier 1")}])), 201)
    assert not second["conditions_changed"]
    r = notify(c, p, "paid")
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert expect(c.admin("GET", "/payments/" + p["id"]), 200)["reason"] == \
        "the seats were sold after the payment deadline"
    assert fv_data(fv(c, "GET", "/tickets/" + first["tickets"][0]["_id"]))["status"] == "voided"
    # one place of Tier 1, held by the second buyer: the next pays Tier 2
    third = fv_data(checkout(c, body_for(rate, [{"price_id": price_id(rate, "Tier 1")}])), 201)
    assert third["conditions_changed"] and third["tickets"][0]["price"]["name"] == "Tier 2", third
