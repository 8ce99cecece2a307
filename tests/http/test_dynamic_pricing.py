"""Dynamic pricing (docs/PRICING.md, issue 14): the admin settings, model and
explain routes, the partner API's prices and pricing tokens, a hold keeping
its price, and POST /convious-pricing/api/price/rtp with each validation path.

The tests build their own schedule, category, pool and product on the demo
account, and turn dynamic pricing off again when the module ends, so the
demo's products and the suites after this one see the price tables."""
import datetime
import time
import uuid

import pytest

from harness import Client, expect, admin_error, create_account

ACCOUNT = "/api/v1/accounts/demo"
RTP = "/convious-pricing/api/price/rtp"
V = {"Accept-Version": "1.0.0"}
SETTINGS = {"dynamic": True, "min_price": 1000, "max_price": 3000, "step": 50, "gate_price": 2500}


def day(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def dyn():
    c = Client()
    ids = {k: "dp-%s-%s" % (k, uuid.uuid4().hex[:8]) for k in ("schedule", "category", "pool", "product", "other")}
    expect(c.admin("POST", "/schedules", {"id": ids["schedule"], "open": "10:00", "close": "13:00",
                                          "slot_minutes": 60, "valid_from": day(1), "valid_to": day(20)}), 201)
    expect(c.admin("POST", "/categories", {"id": ids["category"], "name": {"en": "Dynamic"}, "flow": "dated",
                                           "schedule_id": ids["schedule"]}), 201)
    expect(c.admin("POST", "/pools", {"id": ids["pool"], "capacity": 30}), 201)
    for p in ("product", "other"):
        expect(c.admin("POST", "/products", {"id": ids[p], "name": {"en": "Dynamic " + p}, "price": 2000,
                                             "category_ids": [ids["category"]],
                                             "pools": [{"pool_id": ids["pool"], "amount": 1}]}), 201)
    yield ids
    for p in ("product", "other"):
        off = dict(SETTINGS, dynamic=False)
        expect(c.admin("PUT", "/pricing/products/%s/settings" % ids[p], off), 200)


def settings(c, product, **kw):
    body = dict(SETTINGS, **kw)
    got = expect(c.admin("PUT", "/pricing/products/%s/settings" % product, body), 200)
    expect(c.admin("POST", "/pricing/products/%s/recompute" % product), 200)
    return got


def explain(c, product, date, time="11:00"):
    return expect(c.admin("GET", "/pricing/products/%s/explain" % product, query={"date": date, "time": time}), 200)


def on_grid(price, s=SETTINGS):
    return s["min_price"] <= price <= s["max_price"] and (price - s["min_price"]) % s["step"] == 0


# ---- admin: settings ----

def test_settings_default_roundtrip_and_errors(c, dyn):
    p = "dp-fresh-" + uuid.uuid4().hex[:8]
    expect(c.admin("POST", "/products", {"id": p, "name": {"en": "Fresh"}, "price": 900,
                                         "category_ids": [dyn["category"]]}), 201)
    got = expect(c.admin("GET", "/pricing/products/%s/settings" % p), 200)
    assert got["dynamic"] is False and got["updated_at"] is None and got["product_id"] == p
    put = expect(c.admin("PUT", "/pricing/products/%s/settings" % p, dict(SETTINGS, average_target=2000,
                                                                         max_change_per_hour=200)), 200)
    assert put["dynamic"] is True and put["average_target"] == 2000 and put["max_change_per_hour"] == 200
    assert isinstance(put["updated_at"], int)
    got = expect(c.admin("GET", "/pricing/products/%s/settings" % p), 200)
    assert got == put
    path = "/pricing/products/%s/settings" % p
    bad = [
        (dict(SETTINGS, min_price=4000), "invalid_pricing", "max_price"),
        (dict(SETTINGS, average_target=500), "invalid_pricing", "average_target"),
        (dict(SETTINGS, min_price=1, max_price=10 ** 6, step=1), "invalid_pricing", "step"),
        (dict(SETTINGS, step=0), "invalid_field", "step"),
        (dict(SETTINGS, min_price=0), "invalid_field", "min_price"),
        (dict(SETTINGS, gate_price=-5), "invalid_field", "gate_price"),
        (dict(SETTINGS, max_change_per_hour=-1), "invalid_field", "max_change_per_hour"),
        (dict(SETTINGS, max_price=10 ** 15), "invalid_field", "max_price"),
        (dict(SETTINGS, step="50"), "invalid_field", "step"),
        (dict(SETTINGS, dynamic="yes"), "invalid_field", "dynamic"),
        ({k: v for k, v in SETTINGS.items() if k != "gate_price"}, "missing_field", "gate_price"),
        (dict(SETTINGS, colour="red"), "unknown_field", "colour"),
    ]
    for body, code, field in bad:
        admin_error(c.admin("PUT", path, body), 400, code, field)
    assert expect(c.admin("GET", path), 200) == put, "a refused write changed nothing"
    admin_error(c.admin("PUT", path, raw="[1]"), 400)
    admin_error(c.admin("PUT", path, raw="{nope"), 400)
    admin_error(c.admin("PUT", "/pricing/products/no-such-product/settings", SETTINGS), 404)
    admin_error(c.admin("GET", "/pricing/products/no-such-product/settings"), 404)
    admin_error(c.admin("GET", path, token=None), 401)
    expect(c.admin("PUT", path, dict(SETTINGS, dynamic=False)), 200)


# ---- admin: model and explain ----

def test_model_and_explain(c, dyn):
    p = dyn["product"]
    settings(c, p)
    model = expect(c.admin("GET", "/pricing/products/%s" % p), 200)
    assert model["fitted"] is True and model["product_id"] == p
    assert len(model["pace"]) == 12 and model["pace"][-1]["until_hours"] is None
    assert all(b["orders_per_hour"] >= 0 for b in model["pace"])
    assert sorted(model["weekday_factors"]) == sorted(["monday", "tuesday", "wednesday", "thursday", "friday",
                                                       "saturday", "sunday"])
    assert model["elasticity"] > 0 and model["reference_price"] == 2500
    assert set(model["confidence"]) == {"product_orders", "category_orders", "account_orders"}
    assert model["planned_occurrences"] >= 3 * 13  # the days of the 14-day horizon the schedule opens
    x = explain(c, p, day(3))
    assert x["dynamic"] is True and x["planned"] is True and x["occurrence"] == day(3) + "T11:00"
    assert on_grid(x["price"]) and x["plan_price"] == x["price"] and x["seats_left"] == 30
    assert set(x["bounds_hit"]) == {"at_min", "at_max", "rate_limited"}
    assert x["bounds_hit"]["at_min"] == (x["price"] == 1000)
    assert x["forecast"]["tickets_to_close"] >= 0 and x["forecast"]["pace_factor"] > 0
    # far beyond the plans' horizon: the gate price on the grid until the worker plans it
    far = explain(c, p, day(19))
    assert on_grid(far["price"])
    for _ in range(100):  # the background worker plans an asked-for occurrence within a second or so
        if far["planned"]:
            break
        time.sleep(0.1)
        far = explain(c, p, day(19))
    assert far["planned"] and on_grid(far["price"]), far
    base = "/pricing/products/%s/explain" % p
    admin_error(c.admin("GET", base), 400, "missing_parameter", "date")
    admin_error(c.admin("GET", base, query={"date": "2026-02-30"}), 400)
    admin_error(c.admin("GET", base, query={"date": day(3), "time": "25:00"}), 400, "invalid_parameter", "time")
    admin_error(c.admin("GET", base, query={"date": day(3), "when": "now"}), 400)
    assert c.admin("GET", base, query={"date": day(3), "time": "10:30"}).status in (400, 404)
    admin_error(c.admin("GET", "/pricing/products/nope/explain", query={"date": day(3)}), 404)
    admin_error(c.admin("GET", "/pricing/products/nope"), 404)
    admin_error(c.admin("POST", "/pricing/products/nope/recompute"), 404)


def test_min_equals_max_gives_that_price(c, dyn):
    p = dyn["product"]
    settings(c, p, min_price=2200, max_price=2200)
    x = explain(c, p, day(4))
    assert x["price"] == 2200 and x["bounds_hit"]["at_min"] and x["bounds_hit"]["at_max"]
    settings(c, p)


# ---- the partner API ----

def cart(dyn, n=2, product="product"):
    return {"categoryId": dyn["category"], "products": [{"id": dyn[product], "amount": n}]}


def test_partner_prices_colours_and_for_period(c, dyn):
    p = dyn["product"]
    settings(c, p)
    unit = explain(c, p, day(5))["price"]
    prices = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(5), cart(dyn)), 200)["prices"]
    slot = next(s for s in prices if s["timeFrom"] == "11:00:00")
    assert slot["price"] == "%.2f" % (2 * unit / 100) and slot["originalPrice"] == "50.00"
    # where the cart's price sits between its dynamic bounds: 5 at the minimum, 1 at the maximum
    lo, hi = 2 * 1000, 2 * 3000
    price = round(float(slot["price"]) * 100)
    want = 5 if price <= lo else 1 if price >= hi else 5 - (price - lo) * 4 // (hi - lo)
    assert slot["color"] == want
    palette = {1: "#E53935", 2: "#FB8C00", 3: "#FDD835", 4: "#00AC1E", 5: "#00701A"}
    assert slot["colorCode"] == palette[slot["color"]]
    # a price a quarter of the way up sits at 4, #00AC1E (the doc's example: well under the gate price)
    settings(c, p, min_price=1750, max_price=1750)
    settings(c, dyn["other"], min_price=1000, max_price=3000)
    mixed = {"categoryId": dyn["category"], "products": [{"id": p, "amount": 1}, {"id": dyn["other"], "amount": 1}]}
    one = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(5), mixed), 200)["prices"][0]
    other_unit = explain(c, dyn["other"], day(5), one["timeFrom"][:5])["price"]
    total = 1750 + other_unit
    assert one["price"] == "%.2f" % (total / 100) and one["originalPrice"] == "50.00"
    assert one["color"] == (5 if total <= 2750 else 5 - (total - 2750) * 4 // 2000)
    settings(c, p, min_price=1500, max_price=1500)
    settings(c, dyn["other"], min_price=1000, max_price=3000, gate_price=2000)
    settings(c, dyn["other"], min_price=1500, max_price=3500, step=100)
    q = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(5), cart(dyn, 1, "other")), 200)["prices"]
    for s in q:
        cents = round(float(s["price"]) * 100)
        if cents == 2000:
            assert s["color"] == 4 and s["colorCode"] == "#00AC1E"
    expect(c.admin("PUT", "/pricing/products/%s/settings" % dyn["other"], dict(SETTINGS, dynamic=False)), 200)
    settings(c, p)
    # per day the cheapest available slot, the whole cart's price
    period = expect(c.convious("POST", ACCOUNT + "/pricing/for_period/%s/%s/" % (day(5), day(8)), cart(dyn)),
                    200)["prices"]
    assert [d["day"] for d in period] == [day(5), day(6), day(7)]
    for d in period:
        slots = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % d["day"], cart(dyn)), 200)["prices"]
        assert d["price"] == min((s["price"] for s in slots), key=float) and d["originalPrice"] == "50.00"
        assert d["available"] is True and 1 <= d["color"] <= 5


def test_pricing_token_keeps_the_quoted_price(c, dyn):
    p = dyn["product"]
    settings(c, p, min_price=1200, max_price=1200)
    slot = next(s for s in expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(6), cart(dyn)), 200)["prices"]
                if s["timeFrom"] == "12:00:00")
    assert slot["price"] == "24.00"
    settings(c, p, min_price=2800, max_price=2800)  # the price moved
    now = next(s for s in expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(6), cart(dyn)), 200)["prices"]
               if s["timeFrom"] == "12:00:00")
    assert now["price"] == "56.00"
    body = {"categoryId": dyn["category"], "eventDate": day(6), "startTime": "12:00:00",
            "items": [{"productId": p, "amount": 2}], "pricingToken": slot["pricingToken"]}
    made = expect(c.convious("POST", ACCOUNT + "/carts/", body), 200)
    assert made["totalPrice"] == "24.00", "a token stays valid after the price moved, at its price"
    order = expect(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": made["id"]}), 200)
    assert order["totalPriceInclTax"] == "24.00", "booking never re-prices"
    # mismatched: another category, date, time, quantity; forged
    for change in ({"categoryId": None}, {"eventDate": day(7)}, {"startTime": "11:00:00"},
                   {"items": [{"productId": p, "amount": 3}]},
                   {"pricingToken": slot["pricingToken"][:-4] + ("AAAA" if slot["pricingToken"][-4:] != "AAAA"
                                                                 else "BBBB")}):
        bad = dict(body, **change)
        if bad.get("categoryId") is None:
            bad.pop("categoryId")
        r = c.convious("POST", ACCOUNT + "/carts/", bad)
        assert r.status == 400 and r.json["error"] in ("pricing_token_mismatch", "invalid_pricing_token"), (change, r)
    settings(c, p)


def test_pricing_token_of_another_account(c, dyn):
    slug = "dp" + uuid.uuid4().hex[:8]
    token = "adm_" + uuid.uuid4().hex
    create_account(slug, "Other", "Europe/Amsterdam", "EUR", token)
    slot = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(6), cart(dyn)), 200)["prices"][0]
    cred = expect(c.admin("POST", "/credentials", {"kind": "oauth_client"}, token=token), 201)
    r = c.request("POST", "/convious/oauth/token/", form={"grant_type": "client_credentials",
                                                         "client_id": cred["client_id"],
                                                         "client_secret": cred["secret"]})
    other = expect(r, 200)["access_token"]
    body = {"eventDate": day(6), "startTime": slot["timeFrom"], "items": [{"productId": dyn["product"], "amount": 2}],
            "pricingToken": slot["pricingToken"]}
    r = c.convious("POST", "/api/v1/accounts/%s/carts/" % slug, body, token=other)
    assert 400 <= r.status < 500, r


# ---- holds lock the price ----

def test_hold_keeps_its_price_and_booking_never_reprices(c, dyn):
    p = dyn["product"]
    settings(c, p, min_price=1300, max_price=1300)
    held = expect(c.admin("POST", "/carts", {"category_id": dyn["category"], "date": day(7), "start_time": "10:00",
                                             "items": [{"product_id": p, "quantity": 3}]}), 201)
    assert held["total"] == 3 * 1300, held
    settings(c, p, min_price=2900, max_price=2900)
    assert explain(c, p, day(7), "10:00")["price"] == 2900
    again = expect(c.admin("GET", "/carts/%s" % held["id"]), 200)
    assert again["total"] == 3 * 1300, "the hold keeps the price it was made at"
    order = expect(c.admin("POST", "/orders", {"cart_id": held["id"]}), 201)
    assert order["total_gross"] == 3 * 1300, "booking never re-prices"
    settings(c, p)


def test_sold_out_gives_no_price(c, dyn):
    p = dyn["product"]
    settings(c, p)
    expect(c.admin("POST", "/carts", {"category_id": dyn["category"], "date": day(8), "start_time": "12:00",
                                      "items": [{"product_id": p, "quantity": 30}]}), 201)
    expect(c.admin("POST", "/pricing/products/%s/recompute" % p), 200)
    x = explain(c, p, day(8), "12:00")
    assert x["price"] is None and x["seats_left"] == 0
    r = rtp(c, dyn, dateFrom=day(8), dateTo=day(8), times=["12:00:00"])
    assert expect(r, 200)["prices"][0]["products"][0]["price"] is None


# ---- rtp ----

def rtp_body(dyn, **kw):
    body = {"cookieId": "cookie-" + uuid.uuid4().hex, "ip": "244.245.246.247", "dateFrom": day(2),
            "dateTo": day(3), "timezone": "Europe/Amsterdam",
            "products": [{"productReference": dyn["product"], "numberOfItems": 2}],
            "times": ["10:00:00", "11:00:00", "09:00:00"]}
    body.update(kw)
    return {k: v for k, v in body.items() if v is not Ellipsis}


def rtp(c, dyn, headers=V, **kw):
    return c.request("POST", RTP, rtp_body(dyn, **kw), headers=dict(headers, Authorization="Bearer " +
                                                                    c.convious_token()))


def test_rtp_documented_shape(c, dyn):
    settings(c, dyn["product"])
    got = expect(rtp(c, dyn), 200)["prices"]
    assert [(p["priceDate"], p["priceTime"]) for p in got] == [
        (day(2), "10:00:00"), (day(2), "11:00:00"), (day(2), "09:00:00"),
        (day(3), "10:00:00"), (day(3), "11:00:00"), (day(3), "09:00:00")]
    for cell in got:
        (item,) = cell["products"]
        assert item["productReference"] == dyn["product"] and item["numberOfItems"] == 2
        if cell["priceTime"] == "09:00:00":
            assert item["price"] is None, "the venue is closed at 09:00"
        else:
            assert isinstance(item["price"], str) and on_grid(round(float(item["price"]) * 100))
    # times null: one price per day, the cheapest sellable slot
    daily = expect(rtp(c, dyn, times=None), 200)["prices"]
    assert [(p["priceDate"], p["priceTime"]) for p in daily] == [(day(2), None), (day(3), None)]
    # outside the schedule's validity: null
    far = expect(rtp(c, dyn, dateFrom=day(40), dateTo=day(40), times=None), 200)["prices"]
    assert far[0]["products"][0]["price"] is None
    # ISO instants as the vendor's JS client sends them: that instant's day in the request's zone
    iso = expect(rtp(c, dyn, dateFrom=day(2) + "T08:00:00.000Z", dateTo=day(2) + "T21:00:00Z", times=None,
                     timezone="Europe/Amsterdam"), 200)["prices"]
    assert [p["priceDate"] for p in iso] == [day(2)]
    iso = expect(rtp(c, dyn, dateFrom=day(1) + "T23:30:00Z", dateTo=day(2), times=None), 200)["prices"]
    assert [p["priceDate"] for p in iso] == [day(2)], "23:30Z is the next day in Amsterdam"
    # no ip is fine; IPv6 is fine
    expect(rtp(c, dyn, ip=Ellipsis), 200)
    expect(rtp(c, dyn, ip="2001:db8::1"), 200)
    # Accept-Version: any 1.0.x
    expect(rtp(c, dyn, headers={"Accept-Version": "1.0.7"}), 200)
    # fields the doc does not name are ignored, as everywhere in the partner API
    assert expect(rtp(c, dyn, locale="nl", times=None), 200)["prices"] == daily


def test_rtp_quotes_are_held_per_visitor_never_higher(c, dyn):
    p = dyn["product"]
    settings(c, p, min_price=1400, max_price=1400)
    first = expect(rtp(c, dyn, cookieId="visitor-a"), 200)["prices"][0]["products"][0]["price"]
    assert first == "14.00"
    settings(c, p, min_price=2400, max_price=2400)
    held = expect(rtp(c, dyn, cookieId="visitor-a"), 200)["prices"][0]["products"][0]["price"]
    fresh = expect(rtp(c, dyn, cookieId="visitor-b"), 200)["prices"][0]["products"][0]["price"]
    assert held == "14.00" and fresh == "24.00"
    settings(c, p, min_price=1100, max_price=1100)
    lower = expect(rtp(c, dyn, cookieId="visitor-a"), 200)["prices"][0]["products"][0]["price"]
    assert lower == "11.00", "a held quote never makes anyone pay more than the current price"
    settings(c, p)


RTP_BAD = [
    ({"cookieId": Ellipsis}, "cookieId"),
    ({"cookieId": ""}, "cookieId"),
    ({"cookieId": 12}, "cookieId"),
    ({"cookieId": "x" * 300}, "cookieId"),
    ({"ip": "999.1.1.1"}, "ip"),
    ({"ip": "not-an-ip"}, "ip"),
    ({"dateFrom": Ellipsis}, "dateFrom"),
    ({"dateFrom": "2026-02-30"}, "dateFrom"),
    ({"dateTo": "tomorrow"}, "dateTo"),
    ({"dateFrom": day(5), "dateTo": day(4)}, "dateTo"),
    ({"dateFrom": day(1), "dateTo": day(93)}, "dateTo"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": Ellipsis}, "timezone"),
    ({"products": []}, "products"),
    ({"products": Ellipsis}, "products"),
    ({"products": {"productReference": "x"}}, "products"),
    ({"products": [{"productReference": "x", "numberOfItems": 1}] * 51}, "products"),
    ({"products": [{"productReference": "no-such-product", "numberOfItems": 1}]}, "products[0].productReference"),
    ({"products": [{"numberOfItems": 1}]}, "products[0].productReference"),
    ({"products": ["p"]}, "products"),
    ({"products": [{"productReference": "p", "numberOfItems": 0}]}, "products[0].numberOfItems"),
    ({"products": [{"productReference": "p", "numberOfItems": "2"}]}, "products[0].numberOfItems"),
    ({"times": ["10:00"]}, "times[0]"),
    ({"times": ["25:00:00"]}, "times[0]"),
    ({"times": [36000]}, "times[0]"),
    ({"times": []}, "times"),
    ({"times": "10:00:00"}, "times"),
    ({"dateFrom": day(1), "dateTo": day(92), "times": ["%02d:%02d:00" % (h, m) for h in range(24) for m in (0, 30)],
      "products": [{"productReference": "P", "numberOfItems": 1}] * 3}, "times"),
]


@pytest.mark.parametrize("change,field", RTP_BAD)
def test_rtp_validation(c, dyn, change, field):
    change = dict(change)
    if "products" in change and isinstance(change["products"], list):
        change["products"] = [dict(p, productReference=dyn["product"])
                              if isinstance(p, dict) and p.get("productReference") in ("p", "P") else p
                              for p in change["products"]]
    r = rtp(c, dyn, **change)
    assert r.status == 400 and r.json["field"] == field and r.json["error"] and r.json["message"], r


def test_rtp_headers_and_auth(c, dyn):
    body = rtp_body(dyn)
    token = c.convious_token()
    r = c.request("POST", RTP, body, headers={"Authorization": "Bearer " + token})
    assert r.status == 400 and r.json["error"] == "missing_version" and r.json["field"] == "Accept-Version", r
    assert r.json["supported_versions"] == ["1.0.0"], r
    for v in ("2.0.0", "1.1.0", "1.0", "1.0.x", "1.0.0.0", "1.00"):
        r = c.request("POST", RTP, body, headers={"Authorization": "Bearer " + token, "Accept-Version": v})
        assert r.status == 400 and r.json["error"] == "unsupported_version", (v, r)
    # Accept-Version is checked before the bearer, as on every route of the dialect
    assert c.request("POST", RTP, body).status == 400
    assert c.request("POST", RTP, body, headers=V).status == 401
    assert c.request("POST", RTP, body, headers=dict(V, Authorization="Bearer nope")).status == 401
    assert c.request("POST", RTP, body, headers=dict(V, Authorization="Bearer " + "x" * 5000)).status in (400, 401)
    for raw in ("{nope", "[]", "null", '"x"', '{"cookieId":' * 3000):
        r = c.request("POST", RTP, raw=raw, headers=dict(V, Authorization="Bearer " + token))
        assert r.status == 400, (raw[:20], r)
    assert c.request("GET", RTP, headers=dict(V, Authorization="Bearer " + token)).status == 405
