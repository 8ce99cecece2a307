"""Fourvenues channels API: GET /list-rates?event_id= and GET /list-rates/by-slug/{slug}, the guest lists
(catalog kind guest_list, managed at /admin/v1/guest_lists) of channel events, read-only
(docs/dialects/fourvenues.md, docs/MODEL.md "Guest lists")."""
import pytest

from harness import admin_error, expect
from fv_channel import HEX24, ISO_MS, channel_events, find_by_name, fv, fv_data, fv_error, iso_day, make_event, \
    second_account, tag

LIST_KEYS = {"_id", "organization_id", "event_id", "name", "slug", "prices"}
PRICE_KEYS = {"_id", "name", "price", "from", "valid_from", "valid_until", "men", "women", "age"}
# after the demo concert (day 30), so the tests that look for it on the first page of GET /events still find it
DAY = 210


def night(c, token=None, nights=1):
    kw = {"token": token} if token else {}
    occurrences = [{"id": "oc_%s_%d" % (tag(), i), "start": iso_day(DAY + i), "end": iso_day(DAY + i, 23)}
                   for i in range(nights)]
    ev, _ = make_event(c, occurrences=occurrences, **kw)
    return ev


def guest_list(c, ev, token=None, **doc):
    kw = {"token": token} if token else {}
    body = dict({"name": "Lista VIP " + tag(), "event_id": ev["id"], "prices": [
        {"id": "early", "name": "Free before 1:00", "price": 0, "men": False, "women": True, "min_age": 18,
         "valid_until": iso_day(DAY, 23, 59) + "Z"},
        {"id": "late", "name": "After 1:00", "price": 1250, "valid_from": iso_day(DAY, 23, 59) + "Z",
         "shown_from": "2020-01-01T00:00:00Z"},
        {"id": "hidden", "name": "Not shown yet", "price": 500, "shown_from": "2099-01-01T00:00:00Z"},
    ]}, **doc)
    return expect(c.admin("POST", "/guest_lists", body, **kw), 201)


def channel_event(c, ev, key=None):
    kw = {"key": key} if key else {}
    return [e for e in fv_data(fv(c, "GET", "/events", query={"start_date": iso_day(DAY - 1)[:10]}, **kw))
            if e["name"] == ev["name"]]


def test_list_rate_shape(c):
    ev = night(c)
    g = guest_list(c, ev, slug="lista-vip")
    e = channel_event(c, ev)[0]
    rates = fv_data(fv(c, "GET", "/list-rates", query={"event_id": e["_id"]}))
    assert len(rates) == 1
    rate = rates[0]
    assert set(rate) == LIST_KEYS and HEX24.match(rate["_id"]) and HEX24.match(rate["organization_id"])
    assert rate["event_id"] == e["_id"] and rate["name"] == g["name"] and rate["slug"] == "lista-vip"
    assert rate["organization_id"] == e["organization_id"]
    assert [p["name"] for p in rate["prices"]] == ["Free before 1:00", "After 1:00"]  # not yet shown: left out
    early, late = rate["prices"]
    assert all(set(p) == PRICE_KEYS and p["_id"].isdigit() for p in rate["prices"])
    assert early["price"] == 0 and early["men"] is False and early["women"] is True and early["age"] == 18
    assert early["from"] is None and early["valid_from"] is None and ISO_MS.match(early["valid_until"])
    assert late["price"] == 12.5 and late["men"] is True and late["women"] is True and late["age"] == 0
    assert late["from"] == "2020-01-01T00:00:00.000Z" and ISO_MS.match(late["valid_from"])
    assert late["valid_until"] is None
    by_slug = fv_data(fv(c, "GET", "/list-rates/by-slug/lista-vip", query={"event_id": e["_id"]}))
    assert by_slug == rate
    # GETs with a JSON content type are accepted; none too
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": e["_id"]}, headers={"Content-Type": ""})) == rates


def test_one_rate_per_night_and_derived_slug(c):
    ev = night(c, nights=2)
    name = "Guest List " + tag()
    guest_list(c, ev, name=name)
    nights = channel_event(c, ev)
    assert len(nights) == 2
    both = fv_data(fv(c, "GET", "/list-rates", query={"event_id": ",".join(e["_id"] for e in nights)}))
    assert [r["event_id"] for r in both] == [e["_id"] for e in nights]
    assert both[0]["_id"] != both[1]["_id"] and both[0]["slug"] == both[1]["slug"] == name.lower().replace(" ", "-")
    assert [p["_id"] for p in both[0]["prices"]] == [p["_id"] for p in both[1]["prices"]]
    # without event_id the slug names the first night
    assert fv_data(fv(c, "GET", "/list-rates/by-slug/" + both[0]["slug"])) == both[0]
    assert fv_data(fv(c, "GET", "/list-rates/by-slug/" + both[0]["slug"], query={"event_id": nights[1]["_id"]})) \
        == both[1]
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": nights[0]["_id"], "limit": "1"})) == both[:1]
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": ",".join(e["_id"] for e in nights),
                                                      "offset": "1"})) == both[1:]


def test_disabled_and_deleted_lists_are_not_served(c):
    ev = night(c)
    g = guest_list(c, ev, slug="closed-" + tag())
    e = channel_event(c, ev)[0]
    expect(c.admin("PATCH", "/guest_lists/" + g["id"], {"enabled": False}), 200)
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": e["_id"]})) == []
    fv_error(fv(c, "GET", "/list-rates/by-slug/" + g["slug"]), 404, "not_found", "slug")
    expect(c.admin("DELETE", "/guest_lists/" + g["id"]), 204)
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": e["_id"]})) == []


def test_an_event_with_a_guest_list_cannot_be_deleted(c):
    ev = expect(c.admin("POST", "/events", {"name": "Lists only " + tag(), "status": "published",
                                            "occurrences": [{"start": iso_day(DAY)}]}), 201)
    g = guest_list(c, ev)
    admin_error(c.admin("DELETE", "/events/" + ev["id"]), 409, "in_use")
    expect(c.admin("DELETE", "/guest_lists/" + g["id"]), 204)
    expect(c.admin("DELETE", "/events/" + ev["id"]), 204)


@pytest.mark.parametrize("query,field", [
    ({}, "event_id"), ({"event_id": ""}, "event_id"), ({"event_id": "x"}, "event_id"),
    ({"event_id": "A" * 24}, "event_id"), ({"event_id": ",".join(["0" * 24] * 51)}, "event_id"),
    ({"event_id": "0" * 24, "limit": "0"}, "limit"), ({"event_id": "0" * 24, "offset": "-1"}, "offset"),
    ({"event_id": "0" * 24, "slug": "x"}, "slug"),
], ids=["missing", "empty", "short", "upper", "too_many", "limit", "offset", "unknown"])
def test_bad_list_arguments(c, query, field):
    fv_error(fv(c, "GET", "/list-rates", query=query), 400, "invalid_parameter", field)


def test_unknown_and_bad_by_slug(c):
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": "0" * 24})) == []
    fv_error(fv(c, "GET", "/list-rates/by-slug/nope"), 404, "not_found", "slug")
    fv_error(fv(c, "GET", "/list-rates/by-slug/nope", query={"event_id": "x"}), 400, "invalid_parameter", "event_id")
    fv_error(fv(c, "GET", "/list-rates/by-slug/nope", query={"event_id": "0" * 24 + "," + "1" * 24}), 400,
             "invalid_parameter", "event_id")
    fv_error(fv(c, "GET", "/list-rates/by-slug/nope", query={"limit": "1"}), 400, "invalid_parameter", "limit")
    fv_error(fv(c, "POST", "/list-rates", json_body={}), 405, "method_not_allowed")
    fv_error(fv(c, "GET", "/list-rates", query={"event_id": "0" * 24}, key="fv_wrong"), 401, "unauthorized")


def test_another_accounts_lists(c):
    token, key = second_account(c)
    ev = night(c, token=token)
    g = guest_list(c, ev, token=token, slug="theirs-" + tag())
    theirs = channel_event(c, ev, key=key)[0]
    assert len(fv_data(fv(c, "GET", "/list-rates", query={"event_id": theirs["_id"]}, key=key))) == 1
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": theirs["_id"]})) == []
    fv_error(fv(c, "GET", "/list-rates/by-slug/" + g["slug"]), 404, "not_found", "slug")
    admin_error(c.admin("GET", "/guest_lists/" + g["id"]), 404)


@pytest.mark.parametrize("change,field", [
    ({"name": None}, "name"), ({"event_id": "nope"}, "event_id"), ({"prices": []}, "prices"),
    ({"prices": [{"id": "a", "name": "A"}]}, "prices"), ({"prices": [{"id": "a", "name": "A", "price": -1}]}, "prices"),
    ({"prices": [{"id": "a", "name": "A", "price": 1}, {"id": "a", "name": "B", "price": 1}]}, "prices"),
    ({"prices": [{"id": "a", "name": "A", "price": 1, "men": "yes"}]}, "prices"),
    ({"prices": [{"id": "a", "name": "A", "price": 1, "min_age": 151}]}, "prices"),
    ({"prices": [{"id": "a", "name": "A", "price": 1, "valid_from": "tomorrow"}]}, "prices"),
    ({"prices": [{"id": "a", "name": "A", "price": 1, "valid_from": "2030-01-02T00:00:00Z",
                  "valid_until": "2030-01-01T00:00:00Z"}]}, "prices"),
    ({"prices": [{"id": "a", "name": "A", "price": 1, "age": 18}]}, "prices"),
    ({"slug": "Not A Slug"}, "slug"), ({"colour": "red"}, "colour"),
], ids=["no_name", "unknown_event", "no_prices", "no_price", "negative", "duplicate_id", "men", "age", "bad_time",
        "reversed", "unknown_price_key", "slug", "unknown_field"])
def test_admin_refuses_bad_guest_lists(c, change, field):
    ev = night(c)
    body = {"name": "List", "event_id": ev["id"], "prices": [{"id": "a", "name": "A", "price": 100}]}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    admin_error(c.admin("POST", "/guest_lists", body), 400, None, field)


def test_admin_crud(c):
    ev = night(c)
    g = guest_list(c, ev)
    assert expect(c.admin("GET", "/guest_lists/" + g["id"]), 200) == g
    assert g["id"] in [x["id"] for x in expect(c.admin("GET", "/guest_lists"), 200)["data"]]
    renamed = expect(c.admin("PATCH", "/guest_lists/" + g["id"], {"name": "Renamed"}), 200)
    assert renamed["name"] == "Renamed" and renamed["prices"] == g["prices"]
    e = channel_event(c, ev)[0]
    assert fv_data(fv(c, "GET", "/list-rates", query={"event_id": e["_id"]}))[0]["name"] == "Renamed"
