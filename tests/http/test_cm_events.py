"""CM.com Ticketing Shop: authentication, errors, GET /events, GET /events/{uuid},
and access keys (docs/dialects/cm.md)."""
import pytest

from harness import expect, admin_error
from cm_shop import CONCERT, STANDARD, cm, cm_error, make_event, second_account, tag

EVENT_KEYS = {"uuid", "name", "start_at", "end_at", "online_from", "online_till", "is_ongoing", "description",
              "discount_label", "minutes_to_order", "shop_image", "is_discount_enabled", "is_calendar_enabled",
              "is_order_invoicing_enabled", "google_analytics_tracking_code", "google_adwords_conversion_code",
              "google_adwords_conversion_label", "google_adwords_remarketing_code",
              "google_adwords_remarketing_label", "facebook_pixel_tracking_code", "support_email",
              "organiser_entity", "privacy_policy_url", "newsletter_label", "terms_and_conditions_url"}
TICKET_KEYS = {"uuid", "price", "fixed_fee", "is_visible", "is_selectable_on_calendar", "min_order_amount",
               "max_order_amount", "online_from", "online_till", "display_order", "name", "subtitle",
               "description", "ticket_status_type_id", "tags", "is_unlimited"}
LANGS = {"nl", "en", "fr", "de"}


def ticket_of(detail, uuid):
    for cat in detail["categories"]:
        for t in cat["tickets"]:
            if t["uuid"] == uuid:
                return t
    raise AssertionError("no ticket %s in %r" % (uuid, detail["categories"]))


@pytest.mark.parametrize("token", [None, "", "00000000-0000-0000-0000-000000000000", "x" * 300, "sk_demo_tickettailor"])
def test_missing_or_unknown_token_is_401(c, token):
    for path in ("/events", "/events/" + CONCERT, "/events/nope"):
        cm_error(cm(c, "GET", path, token=token), 401, "UNAUTHORIZED")


def test_unknown_route_and_method(c):
    cm_error(cm(c, "GET", "/nothing"), 404, "NOT_FOUND")
    cm_error(cm(c, "DELETE", "/events"), 405, "METHOD_NOT_ALLOWED")


def test_events_list_doc_shape(c):
    listed = expect(cm(c, "GET", "/events"), 200)
    assert isinstance(listed, list)
    concert = [e for e in listed if e["uuid"] == CONCERT]
    assert len(concert) == 1, listed
    e = concert[0]
    assert set(e) == {"uuid", "name", "start_at", "end_at", "venue_name"}
    assert e["name"] == "Night at the Museum: Live Concert" and e["venue_name"] == "Amsterdam"
    assert e["start_at"].endswith("T19:00:00+00:00") or e["start_at"].endswith("T20:00:00+00:00"), e
    assert e["end_at"][-6:] == "+00:00"


def test_get_needs_no_content_type(c):
    r = c.request("GET", "/cm/ticketingapi/v2.0/ticketshop/events",
                  headers={"accept": "application/json", "X-CM-PRODUCTTOKEN": "11111111-2222-3333-4444-555555555555"})
    assert r.status == 200 and r.header("Content-Type").startswith("application/json")


def test_event_object_doc_shape(c):
    d = expect(cm(c, "GET", "/events/" + CONCERT), 200)
    assert set(d) == {"event", "shop_style", "venue", "categories", "ticket_statuses", "customer_data",
                      "payment_methods", "ideal_issuers"}
    assert set(d["event"]) == EVENT_KEYS
    assert d["event"]["minutes_to_order"] == 15 and d["event"]["is_calendar_enabled"] is False
    assert set(d["event"]["description"]) == LANGS
    assert d["event"]["discount_label"]["en"] == "Discount"
    assert set(d["venue"]) == {"name", "address_line_1", "address_line_2", "zipcode", "city", "country_id"}
    assert [s["id"] for s in d["ticket_statuses"]] == ["NOT_IN_SALE", "DOOR_SALE", "IN_RESERVATION", "ONLINE",
                                                       "SOLD_OUT"]
    assert d["customer_data"]["email"] == "REQUIRED" and d["customer_data"]["gender"] == "NOT_IN_USE"
    assert set(d["customer_data"]["custom_field_1_label"]) == LANGS
    assert d["payment_methods"] == []  # the demo account has no payment_method objects
    assert {"id": "INGBNL2A", "name": "ING"} in d["ideal_issuers"]
    t = ticket_of(d, STANDARD)
    assert set(t) == TICKET_KEYS
    assert t["price"] == 35 and t["fixed_fee"] == 1.5 and t["ticket_status_type_id"] == "ONLINE"
    assert t["name"] == {"nl": "", "en": "Standard", "fr": "", "de": ""}
    assert t["is_unlimited"] is False
    # money is printed from minor units: 1.5, never 1.50000000001
    raw = cm(c, "GET", "/events/" + CONCERT).raw
    assert '"fixed_fee":1.5,' in raw and '"price":35,' in raw


def test_money_prints_without_float_artefacts(c):
    ev, product, _ = make_event(c, price=1950, fee=68)
    raw = cm(c, "GET", "/events/" + ev["id"]).raw
    assert '"price":19.5,' in raw and '"fixed_fee":0.68,' in raw, raw[:2000]


def test_unknown_event_is_404(c):
    cm_error(cm(c, "GET", "/events/00000000-0000-0000-0000-000000000000"), 404, "EVENT_NOT_FOUND", "event_uuid")
    cm_error(cm(c, "GET", "/events/%27%20OR%201%3D1"), 404, "EVENT_NOT_FOUND", "event_uuid")


def test_draft_cancelled_and_past_events_are_not_in_the_shop(c):
    draft, _, _ = make_event(c, status="draft")
    cancelled, _, _ = make_event(c, status="cancelled")
    past, _, _ = make_event(c, days=-3)
    listed = [e["uuid"] for e in expect(cm(c, "GET", "/events"), 200)]
    assert draft["id"] not in listed and cancelled["id"] not in listed and past["id"] not in listed
    cm_error(cm(c, "GET", "/events/" + draft["id"]), 404, "EVENT_NOT_FOUND", "event_uuid")
    cm_error(cm(c, "GET", "/events/" + cancelled["id"]), 404, "EVENT_NOT_FOUND", "event_uuid")
    # a past event is still readable, its tickets no longer on sale
    d = expect(cm(c, "GET", "/events/" + past["id"]), 200)
    assert d["categories"][0]["tickets"][0]["ticket_status_type_id"] == "NOT_IN_SALE"


def test_calendar_event_has_null_dates(c):
    sched = expect(c.admin("POST", "/schedules", {"open": "10:00", "close": "17:00", "slot_minutes": 30}), 201)
    ev = expect(c.admin("POST", "/events", {"name": "Calendar " + tag(), "status": "published",
                                            "schedule_id": sched["id"]}), 201)
    listed = {e["uuid"]: e for e in expect(cm(c, "GET", "/events"), 200)}
    assert listed[ev["id"]]["start_at"] is None and listed[ev["id"]]["end_at"] is None
    assert listed[ev["id"]]["venue_name"] is None
    d = expect(cm(c, "GET", "/events/" + ev["id"]), 200)
    assert d["event"]["is_calendar_enabled"] is True and d["event"]["is_ongoing"] is True
    assert d["event"]["start_at"] is None and d["categories"] == []


def test_ticket_statuses_from_the_engine(c):
    ev, product, occ = make_event(c, capacity=2)
    d = expect(cm(c, "GET", "/events/" + ev["id"]), 200)
    assert ticket_of(d, product["id"])["ticket_status_type_id"] == "ONLINE"
    # one sold, one held: everything left is in reservation
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "occurrence_id": occ}), 201)
    expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    held = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "occurrence_id": occ}), 201)
    d = expect(cm(c, "GET", "/events/" + ev["id"]), 200)
    assert ticket_of(d, product["id"])["ticket_status_type_id"] == "IN_RESERVATION"
    expect(c.admin("POST", "/orders", {"cart_id": held["id"], "payment": {"provider": "cash"}}), 201)
    d = expect(cm(c, "GET", "/events/" + ev["id"]), 200)
    assert ticket_of(d, product["id"])["ticket_status_type_id"] == "SOLD_OUT"
    # switched off: not in sale
    expect(c.admin("PATCH", "/products/" + product["id"], {"enabled": False}), 200)
    d = expect(cm(c, "GET", "/events/" + ev["id"]), 200)
    t = ticket_of(d, product["id"])
    assert t["ticket_status_type_id"] == "NOT_IN_SALE" and t["is_visible"] is False


def test_online_window_and_door_sale(c):
    ev, product, _ = make_event(c)
    import datetime
    yesterday = (datetime.date.today() - datetime.timedelta(days=2)).isoformat()
    later = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    expect(c.admin("PATCH", "/products/" + product["id"], {"show_to": yesterday}), 200)
    t = ticket_of(expect(cm(c, "GET", "/events/" + ev["id"]), 200), product["id"])
    assert t["ticket_status_type_id"] == "NOT_IN_SALE" and t["online_till"].endswith("+00:00")
    expect(c.admin("PATCH", "/products/" + product["id"], {"gate_price": 1200}), 200)
    t = ticket_of(expect(cm(c, "GET", "/events/" + ev["id"]), 200), product["id"])
    assert t["ticket_status_type_id"] == "DOOR_SALE"
    expect(c.admin("PATCH", "/products/" + product["id"], {"show_to": None, "show_from": later}), 200)
    t = ticket_of(expect(cm(c, "GET", "/events/" + ev["id"]), 200), product["id"])
    assert t["ticket_status_type_id"] == "NOT_IN_SALE" and t["online_from"].endswith("+00:00")


def test_another_accounts_event_is_404_and_not_listed(c):
    b_admin, b_token = second_account(c)
    listed = expect(cm(c, "GET", "/events", token=b_token), 200)
    assert CONCERT not in [e["uuid"] for e in listed]
    cm_error(cm(c, "GET", "/events/" + CONCERT, token=b_token), 404, "EVENT_NOT_FOUND", "event_uuid")
    # B may use the same event id for its own event: each sees its own
    own, _, _ = make_event(c, token=b_admin)
    cm_error(cm(c, "GET", "/events/" + own["id"]), 404, "EVENT_NOT_FOUND", "event_uuid")
    assert expect(cm(c, "GET", "/events/" + own["id"], token=b_token), 200)["event"]["uuid"] == own["id"]


def test_access_keys(c):
    ev, product, _ = make_event(c)
    path = "/events/%s/access_keys" % ev["id"]
    made = expect(c.admin("POST", path, {"key": "KEY123", "label": "press"}), 201)
    assert made == {"event_id": ev["id"], "key": "KEY123", "label": "press"}
    expect(c.admin("POST", path, {"key": "OTHER-KEY"}), 201)
    expect(c.admin("POST", path, {"key": "KEY123"}), 201)  # adding it again changes nothing

    def listed(**q):
        return [e["uuid"] for e in expect(cm(c, "GET", "/events", query=q or None), 200)]
    assert ev["id"] not in listed() and ev["id"] not in listed(key="WRONG") and ev["id"] not in listed(key="")
    assert ev["id"] in listed(key="KEY123") and ev["id"] in listed(key="OTHER-KEY")
    assert ev["id"] not in listed(key="key123"), "keys are case-sensitive"
    assert CONCERT in listed() and CONCERT in listed(key="KEY123"), "a key does not hide unlocked events"
    for q in (None, {"key": "WRONG"}, {"key": "x" * 500}, {"key": "KEY123 "}):
        cm_error(cm(c, "GET", "/events/" + ev["id"], query=q), 400, "ACCESS_KEY_INVALID", "key")
    assert expect(cm(c, "GET", "/events/" + ev["id"], query={"key": "KEY123"}), 200)["event"]["uuid"] == ev["id"]
    # unknown events stay 404 whatever the key
    cm_error(cm(c, "GET", "/events/nope", query={"key": "KEY123"}), 404, "EVENT_NOT_FOUND", "event_uuid")
    # removing every key unlocks it
    assert c.admin("DELETE", path + "/KEY123").status == 204
    cm_error(cm(c, "GET", "/events/" + ev["id"], query={"key": "KEY123"}), 400, "ACCESS_KEY_INVALID", "key")
    admin_error(c.admin("DELETE", path + "/KEY123"), 404, "not_found", "access_key")
    assert c.admin("DELETE", path + "/OTHER-KEY").status == 204
    assert ev["id"] in listed()


@pytest.mark.parametrize("body,code,field", [
    ({}, "missing_field", "key"),
    ({"key": ""}, "invalid_field", "key"),
    ({"key": "has space"}, "invalid_access_key", "access_key"),
    ({"key": "x" * 65}, "invalid_field", "key"),
    ({"key": 5}, "invalid_field", "key"),
    ({"key": "tab\there"}, "invalid_access_key", "access_key"),
])
def test_access_key_admin_errors(c, body, code, field):
    ev, _, _ = make_event(c)
    admin_error(c.admin("POST", "/events/%s/access_keys" % ev["id"], body), 400, code, field)


def test_access_keys_are_per_account(c):
    ev, _, _ = make_event(c)
    admin_error(c.admin("POST", "/events/nope/access_keys", {"key": "KEY123"}), 404, "not_found", "event_id")
    b_admin, b_token = second_account(c)
    admin_error(c.admin("POST", "/events/%s/access_keys" % ev["id"], {"key": "KEY123"}, token=b_admin), 404,
                "not_found", "event_id")
    expect(c.admin("POST", "/events/%s/access_keys" % ev["id"], {"key": "KEY123"}), 201)
    admin_error(c.admin("DELETE", "/events/%s/access_keys/KEY123" % ev["id"], token=b_admin), 404, "not_found",
                "access_key")
    cm_error(cm(c, "GET", "/events/" + ev["id"], query={"key": "KEY123"}, token=b_token), 404, "EVENT_NOT_FOUND",
             "event_uuid")


def test_payment_methods_with_their_fees(c):
    """The account's payment_method objects the event offers, by sort_order, fees in major units."""
    ideal = expect(c.admin("POST", "/payment_methods", {"name": "iDEAL", "kind": "bank_transfer", "fee_fixed": 68,
                                                        "sort_order": 10}), 201)
    bancontact = expect(c.admin("POST", "/payment_methods", {"name": "Bancontact", "kind": "card", "fee_fixed": 35,
                                                             "fee_percent_bp": 260, "sort_order": 5,
                                                             "instructions": "pay by card"}), 201)
    off = expect(c.admin("POST", "/payment_methods", {"name": "Off", "kind": "cash", "enabled": False}), 201)
    try:
        methods = expect(cm(c, "GET", "/events/" + CONCERT), 200)["payment_methods"]
        assert [m["uuid"] for m in methods] == [bancontact["id"], ideal["id"]]
        assert methods[0] == {"uuid": bancontact["id"], "name": "Bancontact", "description": "pay by card",
                              "fixed_fee": 0.35, "percentage_fee": 2.6, "image_uri": None, "display_order": 5,
                              "currency_id": "EUR"}
        assert methods[1]["fixed_fee"] == 0.68 and methods[1]["percentage_fee"] == 0
    finally:
        for m in (ideal, bancontact, off):
            expect(c.admin("DELETE", "/payment_methods/" + m["id"]), 204)


def test_event_detail_is_kept_and_every_change_shows_at_once(c):
    """The event detail is served from the reply cache (docs/dialects/cm.md): a repeated read is the
    kept reply (its ETag gets a 304), and every change it shows is in the very next reply: seats held
    and given back, an access key added (the kept reply is not served without it) or removed (not with
    it), the account's hold length. An account of its own, so its hold length touches no other test."""
    admin, token = second_account(c)
    ev, product, occ = make_event(c, capacity=1, token=admin)
    path, keys = "/events/" + ev["id"], "/events/%s/access_keys" % ev["id"]

    def detail(**q):
        return expect(cm(c, "GET", path, token=token, query=q or None), 200)

    def status(**q):
        return ticket_of(detail(**q), product["id"])["ticket_status_type_id"]
    first = cm(c, "GET", path, token=token)
    etag = first.header("ETag")
    assert first.status == 200 and etag, first.headers
    again = cm(c, "GET", path, token=token, headers={"If-None-Match": etag})
    assert again.status == 304 and again.raw == "", again
    # the last seat held, sold, then given back
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "occurrence_id": occ}, token=admin), 201)
    assert status() == "IN_RESERVATION"
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}},
                           token=admin), 201)
    assert status() == "SOLD_OUT"
    expect(c.admin("POST", "/orders/%s/cancel" % order["id"], token=admin), 200)
    assert status() == "ONLINE"
    # a key locks the event: the reply kept without a key is not served any more
    k1, k2 = "K1-" + tag(), "K2-" + tag()
    expect(c.admin("POST", keys, {"key": k1}, token=admin), 201)
    cm_error(cm(c, "GET", path, token=token), 400, "ACCESS_KEY_INVALID", "key")
    assert status(key=k1) == "ONLINE"
    cm_error(cm(c, "GET", path, token=token, query={"key": k2}), 400, "ACCESS_KEY_INVALID", "key")
    # a second key, then the first removed: the reply kept for ?key=K1 is not served
    expect(c.admin("POST", keys, {"key": k2}, token=admin), 201)
    assert status(key=k1) == "ONLINE" and status(key=k2) == "ONLINE"
    assert c.admin("DELETE", keys + "/" + k1, token=admin).status == 204
    cm_error(cm(c, "GET", path, token=token, query={"key": k1}), 400, "ACCESS_KEY_INVALID", "key")
    assert status(key=k2) == "ONLINE"
    # the account's hold length is minutes_to_order
    expect(c.admin("PATCH", "/account", {"hold_seconds": 1200}, token=admin), 200)
    assert detail(key=k2)["event"]["minutes_to_order"] == 20
    expect(c.admin("PATCH", "/account", {"hold_seconds": 600}, token=admin), 200)
    assert detail(key=k2)["event"]["minutes_to_order"] == 10
    # the last key removed unlocks it for everyone
    assert c.admin("DELETE", keys + "/" + k2, token=admin).status == 204
    assert status() == "ONLINE"


def test_a_key_locks_an_account_that_had_none_at_once(c):
    """The server remembers that an account has no access keys (docs/dialects/cm.md): the first key locks its
    event from the next request on, and removing the last key opens it again; another account is not touched."""
    b_admin, b_token = second_account(c)
    ev, _, _ = make_event(c, token=b_admin)
    other, _, _ = make_event(c)
    path = "/events/%s/calendar/2027/1" % ev["id"]
    for _ in range(2):  # the second answer comes from what the first remembered
        cm_error(cm(c, "GET", path, token=b_token), 400, "CALENDAR_NOT_ENABLED", "event_uuid")
    expect(c.admin("POST", "/events/%s/access_keys" % ev["id"], {"key": "B-KEY"}, token=b_admin), 201)
    cm_error(cm(c, "GET", path, token=b_token), 400, "ACCESS_KEY_INVALID", "key")
    cm_error(cm(c, "GET", path, token=b_token, query={"key": "B-KEY"}), 400, "CALENDAR_NOT_ENABLED", "event_uuid")
    cm_error(cm(c, "GET", "/events/%s/calendar/2027/1" % other["id"]), 400, "CALENDAR_NOT_ENABLED", "event_uuid")
    expect(c.admin("DELETE", "/events/%s/access_keys/B-KEY" % ev["id"], token=b_admin), 204)
    for _ in range(2):
        cm_error(cm(c, "GET", path, token=b_token), 400, "CALENDAR_NOT_ENABLED", "event_uuid")
