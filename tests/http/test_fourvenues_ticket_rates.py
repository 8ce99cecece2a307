"""Fourvenues channels API: ticket rates with price tiers, supplements and warranty
(GET /ticket-rates, /ticket-rates/{id}, /ticket-rates/by-slug/{slug}; docs/dialects/fourvenues.md)."""
import datetime

import pytest

from harness import admin_error, expect
from fv_channel import (HEX24, channel_events, find_by_name, fv, fv_data, fv_error, iso_day, second_account, tag)

PAST = "2020-01-01T00:00:00Z"


def future(days=10):
    return (datetime.datetime.utcnow() + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def tiered_event(c, tiers, token=None, capacity=100, **product):
    """An event with one tiered product on its own pool; returns (event, product, pool)."""
    t = tag()
    kw = {"token": token} if token else {}
    ev = expect(c.admin("POST", "/events", {"name": "Tiers " + t, "status": "published", "occurrences": [
        {"id": "oc_" + t, "start": iso_day(15), "end": iso_day(15, 23)}]}, **kw), 201)
    pool = expect(c.admin("POST", "/pools", {"capacity": capacity}, **kw), 201)
    doc = dict({"name": {"en": "Entrada " + t}, "event_id": ev["id"], "price": 1200,
                "pools": [{"pool_id": pool["id"], "amount": 1}], "price_tiers": tiers}, **product)
    prod = expect(c.admin("POST", "/products", doc, **kw), 201)
    return ev, prod, pool


def channel_event(c, ev, key=None):
    kw = {"key": key} if key else {}
    events = fv_data(fv(c, "GET", "/events", **kw))
    return find_by_name(events, ev["name"])[0]


EXAMPLE_TIERS = [
    {"id": "early", "name": "Early Bird", "price": 1200, "quantity": 100, "fee_percent_bp": 1000,
     "valid_until": "2099-01-01T00:00:00Z", "includes": "1 Drink", "additional_info": "Only valid before 2:00 am."},
    {"id": "regular", "name": "Regular", "price": 1450, "fee_amount": 150},
]


def test_the_documented_example_rate(c):
    ev, prod, _ = tiered_event(c, EXAMPLE_TIERS, supplements=[{"id": "drink", "name": "Drink", "price": 100}],
                               warranty={"enabled": True, "percent_bp": 1000, "hours": 12}, slug="entrada-" + tag())
    e = channel_event(c, ev)
    rate = e["ticket_rates"][0]
    assert rate["slug"] == prod["slug"] and HEX24.match(rate["_id"]) and rate["event_id"] == e["_id"]
    early, regular = rate["prices"]
    assert early == {"_id": early["_id"], "name": "Early Bird", "price": 12, "valid_until": "2099-01-01T00:00:00.000Z",
                     "quantity": 100, "fee_type": "percentage", "fee_quantity": 10, "includes": "1 Drink",
                     "additional_info": "Only valid before 2:00 am."}
    assert regular["fee_type"] == "fixed" and regular["fee_quantity"] == 1.5 and regular["price"] == 14.5
    assert regular["valid_until"] is None and regular["quantity"] == 0 and regular["includes"] == ""
    assert early["_id"].isdigit() and regular["_id"].isdigit() and early["_id"] != regular["_id"]
    assert rate["current_price"] == early
    assert len(rate["supplements"]) == 1 and rate["supplements"][0]["price"] == 1
    assert rate["supplements"][0]["name"] == "Drink" and rate["supplements"][0]["_id"].isdigit()
    assert rate["warranty"] == {"enabled": True, "percentage": 10, "hours": 12}
    assert rate["availability"] == {"sold": 0, "available": 100} and rate["available"] is True
    raw = fv(c, "GET", "/ticket-rates/" + rate["_id"]).raw
    assert '"price":14.5,' in raw and '"fee_quantity":1.5,' in raw and '"fee_quantity":10,' in raw


def test_the_active_tier_is_the_first_not_past_its_deadline(c):
    tiers = [{"id": "gone", "name": "Gone", "price": 800, "valid_until": PAST},
             {"id": "now", "name": "Now", "price": 1000, "valid_until": future()},
             {"id": "later", "name": "Later", "price": 1500}]
    ev, _, _ = tiered_event(c, tiers)
    rate = channel_event(c, ev)["ticket_rates"][0]
    assert [p["name"] for p in rate["prices"]] == ["Gone", "Now", "Later"]  # every tier is shown
    assert rate["current_price"]["name"] == "Now" and rate["complete"] is False


def test_no_tier_left_is_complete(c):
    ev, _, _ = tiered_event(c, [{"id": "gone", "name": "Gone", "price": 800, "valid_until": PAST}])
    rate = channel_event(c, ev)["ticket_rates"][0]
    assert rate["current_price"] is None and rate["complete"] is True and rate["available"] is False
    assert rate["availability"]["available"] == 100


def test_a_product_without_tiers_has_one_price(c):
    ev, prod, _ = tiered_event(c, [], booking_fee=125)
    rate = channel_event(c, ev)["ticket_rates"][0]
    assert len(rate["prices"]) == 1 and rate["prices"][0]["price"] == 12
    assert rate["prices"][0]["fee_type"] == "fixed" and rate["prices"][0]["fee_quantity"] == 1.25
    assert rate["current_price"] == rate["prices"][0]
    assert rate["supplements"] == [] and rate["warranty"] == {"enabled": False, "percentage": 0, "hours": 0}


def test_get_by_id_and_by_slug(c):
    ev, prod, _ = tiered_event(c, EXAMPLE_TIERS, slug="por-slug-" + tag())
    e = channel_event(c, ev)
    rate = e["ticket_rates"][0]
    assert fv_data(fv(c, "GET", "/ticket-rates/" + rate["_id"])) == rate
    assert fv_data(fv(c, "GET", "/ticket-rates/by-slug/%s" % prod["slug"], query={"event_id": e["_id"]})) == rate
    fv_error(fv(c, "GET", "/ticket-rates/by-slug/%s" % prod["slug"]), 400, "invalid_parameter", "event_id")
    fv_error(fv(c, "GET", "/ticket-rates/by-slug/%s" % prod["slug"], query={"event_id": "x"}), 400,
             "invalid_parameter", "event_id")
    fv_error(fv(c, "GET", "/ticket-rates/by-slug/nope", query={"event_id": e["_id"]}), 404, "not_found", "slug")
    other = find_by_name(channel_events(c), "Night at the Museum: Live Concert")[0]
    fv_error(fv(c, "GET", "/ticket-rates/by-slug/%s" % prod["slug"], query={"event_id": other["_id"]}), 404,
             "not_found", "slug")
    fv_error(fv(c, "GET", "/ticket-rates/" + "0" * 24), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/ticket-rates/" + e["_id"]), 404, "not_found", "id")  # an event's id is no rate's
    fv_error(fv(c, "GET", "/ticket-rates/" + rate["_id"], query={"x": "1"}), 400, "invalid_parameter", "x")


def test_list_by_event_ids(c):
    ev1, _, _ = tiered_event(c, EXAMPLE_TIERS)
    ev2, _, _ = tiered_event(c, [])
    e1, e2 = channel_event(c, ev1), channel_event(c, ev2)
    both = fv_data(fv(c, "GET", "/ticket-rates", query={"event_id": "%s,%s" % (e1["_id"], e2["_id"])}))
    # events in start order (these two start together: then by id)
    first, second = sorted((e1, e2), key=lambda e: (e["start_date"], e["_id"]))
    assert both == first["ticket_rates"] + second["ticket_rates"]
    one = fv_data(fv(c, "GET", "/ticket-rates", query={"event_id": e2["_id"]}))
    assert one == e2["ticket_rates"]
    assert fv_data(fv(c, "GET", "/ticket-rates", query={"event_id": "0" * 24})) == []
    assert fv_data(fv(c, "GET", "/ticket-rates", query={"event_id": "%s,%s" % (e1["_id"], e2["_id"]),
                                                         "limit": "1", "offset": "1"})) == second["ticket_rates"]
    everything = fv_data(fv(c, "GET", "/ticket-rates", query={"limit": "100"}))
    assert all(set(r) >= {"_id", "prices", "current_price"} for r in everything) and everything


@pytest.mark.parametrize("query,field", [
    ({"event_id": ""}, "event_id"), ({"event_id": "abc"}, "event_id"), ({"event_id": "0" * 24 + ","}, "event_id"),
    ({"event_id": ",".join(["0" * 24] * 51)}, "event_id"), ({"event_id": "G" * 24}, "event_id"),
    ({"event_id": "0" * 25}, "event_id"), ({"limit": "0"}, "limit"), ({"offset": "x"}, "offset"),
    ({"ticket_rate_id": "1"}, "ticket_rate_id"),
], ids=["empty", "short", "trailing_comma", "too_many", "not_hex", "long", "limit", "offset", "unknown"])
def test_bad_list_arguments(c, query, field):
    fv_error(fv(c, "GET", "/ticket-rates", query=query), 400, "invalid_parameter", field)


@pytest.mark.parametrize("tiers,field", [
    ([{"id": "a", "name": "A"}], "price_tiers"),
    ([{"id": "a", "name": "A", "price": 1, "fee_amount": 1, "fee_percent_bp": 1}], "price_tiers"),
    ([{"id": "a", "name": "A", "price": 1}, {"id": "a", "name": "B", "price": 2}], "price_tiers"),
    ([{"id": "a", "name": "A", "price": 1, "valid_until": "2027-02-30"}], "price_tiers"),
    ([{"id": "", "name": "A", "price": 1}], "price_tiers"),
    ("not a list", "price_tiers"),
], ids=["no_price", "two_fees", "same_id", "bad_deadline", "empty_id", "not_list"])
def test_the_catalog_checks_tiers(c, tiers, field):
    admin_error(c.admin("POST", "/products", {"name": {"en": "Bad"}, "price": 100, "price_tiers": tiers}), 400,
                field=field)


def test_the_catalog_checks_supplements_and_warranty(c):
    admin_error(c.admin("POST", "/products", {"name": {"en": "Bad"}, "price": 100,
                                              "supplements": [{"id": "s", "name": "S"}]}), 400, "invalid_supplement",
                "supplements")
    admin_error(c.admin("POST", "/products", {"name": {"en": "Bad"}, "price": 100,
                                              "warranty": {"enabled": True, "percent_bp": 20000, "hours": 1}}), 400,
                "invalid_warranty", "warranty")


def test_another_accounts_rates_are_not_found(c):
    token, key = second_account(c)
    ev, prod, _ = tiered_event(c, EXAMPLE_TIERS, token=token, slug="ajena")
    theirs = channel_event(c, ev, key=key)
    rate = theirs["ticket_rates"][0]
    assert fv_data(fv(c, "GET", "/ticket-rates/" + rate["_id"], key=key)) == rate
    fv_error(fv(c, "GET", "/ticket-rates/" + rate["_id"]), 404, "not_found", "id")
    fv_error(fv(c, "GET", "/ticket-rates/by-slug/ajena", query={"event_id": theirs["_id"]}), 404, "not_found", "slug")
    assert fv_data(fv(c, "GET", "/ticket-rates", query={"event_id": theirs["_id"]})) == []
    mine = find_by_name(channel_events(c), "Night at the Museum: Live Concert")[0]
    fv_error(fv(c, "GET", "/ticket-rates/" + mine["ticket_rates"][0]["_id"], key=key), 404, "not_found", "id")
