"""Fourvenues channels API: the channel key, the envelope and errors, GET /auth and
GET /events, /events/{id}, /events/by-slug/{slug} (docs/dialects/fourvenues.md)."""
import pytest

from harness import admin_error, expect
from fv_channel import (CONCERT_NAME, HEX24, ISO_MS, channel_events, find_by_name, fv, fv_data, fv_error,
                        iso_day, make_event, make_location, second_account, tag)

EVENT_KEYS = {"_id", "organization_id", "name", "slug", "description", "start_date", "end_date", "timezone",
              "image_url", "location", "ticket_rates"}
RATE_KEYS = {"_id", "organization_id", "event_id", "name", "slug", "valid_from", "complete", "type",
             "show_all_prices", "prices", "current_price", "supplements", "warranty", "availability", "available",
             "min", "max", "questions", "fields"}
PRICE_KEYS = {"_id", "name", "price", "valid_until", "quantity", "fee_type", "fee_quantity", "includes",
              "additional_info"}


@pytest.mark.parametrize("key", [None, "", "fv_nope", "x" * 300, "sk_demo_tickettailor", "demo-admin-token"],
                         ids=["none", "empty", "unknown", "long", "tt_key", "admin_token"])
def test_missing_or_unknown_key_is_401(c, key):
    for path in ("/auth", "/events", "/events/" + "0" * 24, "/events/by-slug/x"):
        fv_error(fv(c, "GET", path, key=key), 401, "unauthorized")


def test_unknown_route_and_method(c):
    fv_error(fv(c, "GET", "/nothing"), 404, "not_found")
    fv_error(fv(c, "DELETE", "/events"), 405, "method_not_allowed")
    fv_error(fv(c, "POST", "/auth", json_body={}), 405, "method_not_allowed")


def test_auth_shape(c):
    d = fv_data(fv(c, "GET", "/auth"))
    assert set(d) == {"message", "channel"} and d["message"] == "Authed"
    ch = d["channel"]
    assert set(ch) == {"_id", "name", "slug", "hosts"} and HEX24.match(ch["_id"])
    assert ch["slug"] == "demo" and ch["name"]
    assert len(ch["hosts"]) == 1
    host = ch["hosts"][0]
    assert set(host) == {"_id", "name", "slug", "created_at"} and HEX24.match(host["_id"])
    assert host["slug"] == "demo" and ISO_MS.match(host["created_at"]), host
    # the host is the organization the events belong to
    assert all(e["organization_id"] == host["_id"] for e in channel_events(c))
    fv_error(fv(c, "GET", "/auth", query={"x": "1"}), 400, "invalid_parameter", "x")


def test_each_key_is_its_own_channel(c):
    other = expect(c.admin("POST", "/credentials", {"kind": "channel_key"}), 201)["secret"]
    assert other.startswith("fv_")
    mine, theirs = fv_data(fv(c, "GET", "/auth")), fv_data(fv(c, "GET", "/auth", key=other))
    assert mine["channel"]["_id"] != theirs["channel"]["_id"]
    assert mine["channel"]["hosts"] == theirs["channel"]["hosts"]


def test_get_without_content_type_too(c):
    r = c.request("GET", "/fourvenues/events", headers={"X-Api-Key": "fv_demo_key"})
    assert r.status == 200 and r.header("Content-Type").startswith("application/json")


def test_events_list_shape(c):
    events = channel_events(c)
    concert = find_by_name(events, CONCERT_NAME)
    assert len(concert) == 1, [e["name"] for e in events]
    e = concert[0]
    assert set(e) == EVENT_KEYS
    assert HEX24.match(e["_id"]) and ISO_MS.match(e["start_date"]) and ISO_MS.match(e["end_date"])
    assert e["slug"].startswith("night-at-the-museum-live-concert-20")
    assert e["timezone"] == "Europe/Amsterdam"
    assert e["location"]["name"] == "Amsterdam" and e["location"]["timezone"] == "Europe/Amsterdam"
    assert set(e["location"]) == {"_id", "name", "address", "timezone"} and HEX24.match(e["location"]["_id"])
    assert [r["name"] for r in e["ticket_rates"]] == ["Standard", "VIP"]
    for rate in e["ticket_rates"]:
        assert set(rate) == RATE_KEYS and rate["event_id"] == e["_id"] and HEX24.match(rate["_id"])
        assert rate["organization_id"] == e["organization_id"]
        for key in ("prices", "supplements", "questions", "fields"):
            assert isinstance(rate[key], list), (key, rate)
        assert set(rate["prices"][0]) == PRICE_KEYS and rate["prices"][0]["_id"].isdigit()
        assert rate["current_price"] == rate["prices"][0]
        assert rate["warranty"] == {"enabled": False, "percentage": 0, "hours": 0}
        assert rate["available"] is True and rate["availability"]["available"] > 0
    std = e["ticket_rates"][0]
    assert std["prices"][0]["price"] == 35 and std["prices"][0]["fee_quantity"] == 1.5
    assert std["prices"][0]["fee_type"] == "fixed" and std["prices"][0]["quantity"] == 0
    assert std["min"] == 1 and std["max"] == 0
    # JavaScript's number form: 1.5 and 35, never 1.50 or 35.0
    raw = fv(c, "GET", "/events").raw
    assert '"fee_quantity":1.5,' in raw and '"price":35,' in raw
    assert raw.startswith('{"data":[') and raw.endswith('"success":true}')


def test_event_by_id_and_slug(c):
    e = find_by_name(channel_events(c), CONCERT_NAME)[0]
    assert fv_data(fv(c, "GET", "/events/" + e["_id"])) == e
    assert fv_data(fv(c, "GET", "/events/by-slug/" + e["slug"])) == e
    fv_error(fv(c, "GET", "/events/" + "0" * 24), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/events/by-slug/nope"), 404, "not_found", "slug")
    # the engine's own ids are not channel ids
    fv_error(fv(c, "GET", "/events/d0000000-0000-4000-8000-000000000008"), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/events/" + e["_id"], query={"limit": "1"}), 400, "invalid_parameter", "limit")


def test_each_occurrence_is_an_event_with_its_own_slug(c):
    t = tag()
    occs = [{"id": "a_" + t, "start": iso_day(40), "end": iso_day(40, 23)},
            {"id": "b_" + t, "start": iso_day(41, 20), "end": iso_day(41, 21)},
            {"id": "c_" + t, "start": iso_day(41, 22), "end": iso_day(41, 23)},
            {"id": "d_" + t, "start": iso_day(42), "status": "cancelled"}]
    loc = make_location(c)
    ev, product = make_event(c, occs, location_id=loc["id"], slug="fiesta-" + t)
    mine = find_by_name(channel_events(c, location_id=HEX_OF(c, loc)), ev["name"])
    assert len(mine) == 3, mine  # the cancelled one is not sold
    d40, d41 = iso_day(40)[:10], iso_day(41)[:10]
    assert [e["slug"] for e in mine] == ["fiesta-%s-%s" % (t, d40), "fiesta-%s-%s-2000" % (t, d41),
                                        "fiesta-%s-%s-2200" % (t, d41)]
    assert len({e["_id"] for e in mine}) == 3
    assert mine[1]["start_date"][11:16] in ("18:00", "19:00")  # 20:00 in Madrid, in UTC
    assert mine[0]["timezone"] == "Europe/Madrid" and mine[0]["location"]["address"] == "Calle Mayor 1"
    # a rate per event, each with its own id
    rates = [e["ticket_rates"][0]["_id"] for e in mine]
    assert len(set(rates)) == 3
    for e in mine:
        assert fv_data(fv(c, "GET", "/events/by-slug/" + e["slug"]))["_id"] == e["_id"]
    # drafts are not shown
    expect(c.admin("PATCH", "/events/" + ev["id"], {"status": "draft"}), 200)
    assert find_by_name(channel_events(c), ev["name"]) == []
    fv_error(fv(c, "GET", "/events/" + mine[0]["_id"]), 404, "not_found", "id")


def HEX_OF(c, loc):
    """The channel id of a location, read from an event placed there."""
    ev, _ = make_event(c, location_id=loc["id"])
    return find_by_name(channel_events(c), ev["name"])[0]["location"]["_id"]


def test_slug_is_checked_by_the_catalog(c):
    for bad in ("", "Upper", "a b", "a/b", "x" * 101, 5):
        admin_error(c.admin("POST", "/events", {"name": "Bad slug", "slug": bad}), 400, field="slug")
    admin_error(c.admin("POST", "/products", {"name": {"en": "Bad"}, "price": 100, "slug": "no_underscores"}), 400,
                field="slug")


def test_filters_and_pages(c):
    loc = make_location(c)
    lid = HEX_OF(c, loc)  # one event at day 20
    names = [make_event(c, [{"id": "o_" + tag(), "start": iso_day(d), "end": iso_day(d, 23)}],
                        location_id=loc["id"])[0]["name"] for d in (30, 31, 32)]
    at = channel_events(c, location_id=lid)
    assert len(at) == 4 and [e["name"] for e in at][1:] == names  # by start
    assert [e["start_date"] for e in at] == sorted(e["start_date"] for e in at)
    assert [e["name"] for e in channel_events(c, location_id=lid, limit="2")] == [at[0]["name"], names[0]]
    assert [e["name"] for e in channel_events(c, location_id=lid, limit="2", offset="2")] == names[1:]
    assert channel_events(c, location_id=lid, offset="4") == []
    # start_date and end_date bound the event's time (an event still running at start_date counts)
    assert [e["name"] for e in channel_events(c, location_id=lid, start_date=iso_day(31)[:10])] == names[1:]
    assert [e["name"] for e in channel_events(c, location_id=lid, start_date=iso_day(30, 22) + "Z",
                                              end_date=iso_day(31, 12) + "Z")] == names[:1]
    assert [e["name"] for e in channel_events(c, location_id=lid, end_date=iso_day(25)[:10])] == [at[0]["name"]]
    # past events show when asked for by start_date only
    past_start = iso_day(-400)[:10]
    assert len(channel_events(c, location_id=lid, start_date=past_start)) == 4
    org = fv_data(fv(c, "GET", "/auth"))["channel"]["hosts"][0]["_id"]
    assert len(channel_events(c, location_id=lid, organization_id=org)) == 4
    assert channel_events(c, location_id=lid, organization_id="0" * 24) == []
    assert channel_events(c, location_id="0" * 24) == []


@pytest.mark.parametrize("query,field", [
    ({"start_date": "2027-02-30"}, "start_date"), ({"start_date": "tomorrow"}, "start_date"),
    ({"end_date": "2027-01-01T25:00:00Z"}, "end_date"), ({"start_date": ""}, "start_date"),
    ({"start_date": "2027-02-01", "end_date": "2027-01-01"}, "end_date"),
    ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "-1"}, "limit"), ({"limit": "1.5"}, "limit"),
    ({"limit": "abc"}, "limit"), ({"limit": ""}, "limit"), ({"offset": "-1"}, "offset"),
    ({"offset": "9" * 12}, "offset"), ({"offset": "1e3"}, "offset"),
    ({"event_id": "x"}, "event_id"), ({"sort": "start"}, "sort"),
])
def test_bad_list_arguments_are_400(c, query, field):
    fv_error(fv(c, "GET", "/events", query=query), 400, "invalid_parameter", field)


@pytest.mark.parametrize("path", ["/events/" + "a" * 5000, "/events/%C3%28", "/events/by-slug/%FF",
                                  "/events/" + "%27%20OR%201=1--", "/events/by-slug/" + "x" * 3000,
                                  "/events/%00", "/events/by-slug/..%2F..%2Fauth"],
                         ids=["long_id", "bad_utf8", "bad_byte", "sql", "long_slug", "nul", "dots"])
def test_hostile_paths_are_not_found(c, path):
    r = fv(c, "GET", path)
    assert r.status in (400, 404, 414), r
    if r.status != 414:
        body = expect(r, r.status)
        assert body["success"] is False and body["data"] is None


def test_sold_and_available_follow_bookings(c):
    ev, product = make_event(c, capacity=5)
    e = find_by_name(channel_events(c), ev["name"])[0]
    rate = e["ticket_rates"][0]
    assert rate["availability"] == {"sold": 0, "available": 5} and rate["complete"] is False
    occ = ev["occurrences"][0]["id"]
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 2}],
                                             "occurrence_id": occ}), 201)
    expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    held = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 3}],
                                             "occurrence_id": occ}), 201)
    rate = fv_data(fv(c, "GET", "/events/" + e["_id"]))["ticket_rates"][0]
    assert rate["availability"] == {"sold": 2, "available": 0}
    assert rate["complete"] is True and rate["available"] is False and rate["current_price"] is None
    assert held["id"]


def test_per_ticket_questions_are_listed(c):
    ev, product = make_event(c)
    label = "Talla " + tag()
    expect(c.admin("POST", "/questions", {"label": label, "type": "text", "scope": "ticket",
                                              "required": True, "product_ids": [product["id"]]}), 201)
    rate = find_by_name(channel_events(c), ev["name"])[0]["ticket_rates"][0]
    asked = [x for x in rate["questions"] if x["question"] == label]
    assert len(asked) == 1 and asked[0]["required"] is True and asked[0]["_id"].isdigit()
    assert set(asked[0]) == {"_id", "question", "required"}


def test_another_accounts_events_are_not_found(c):
    token, key = second_account(c)
    theirs, _ = make_event(c, token=token)
    their_events = fv_data(fv(c, "GET", "/events", key=key))
    assert [e["name"] for e in their_events] == [theirs["name"]]
    mine = find_by_name(channel_events(c), CONCERT_NAME)[0]
    fv_error(fv(c, "GET", "/events/" + mine["_id"], key=key), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/events/by-slug/" + mine["slug"], key=key), 404, "not_found", "slug")
    fv_error(fv(c, "GET", "/events/" + their_events[0]["_id"]), 404, "not_found", "id")
    assert find_by_name(channel_events(c), theirs["name"]) == []
    assert fv_data(fv(c, "GET", "/auth", key=key))["channel"]["hosts"][0]["_id"] != mine["organization_id"]


@pytest.mark.parametrize("request_line", [b"G\xffT /fourvenues/events", b"GET /fourvenues/events?\xff\xfe=1",
                                          b"GET /fourvenues/events?a\xc3=1&limit=2"],
                         ids=["method", "param_bytes", "param_cut"])
def test_raw_bytes_get_an_error_in_the_shape(c, request_line):
    """Bytes that are not UTF-8 where a reply might echo them still get JSON in the error shape (never a 500)."""
    import json
    import socket
    from urllib.parse import urlparse
    u = urlparse(c.base)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(request_line + b" HTTP/1.1\r\nHost: x\r\nX-Api-Key: fv_demo_key\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500, reply[:300]
    body = reply.split(b"\r\n\r\n", 1)[1]
    if body:
        doc = json.loads(body)
        assert doc["success"] is False and doc["data"] is None and doc["error"]["code"], doc
