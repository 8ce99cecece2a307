"""Convious partner API (/convious): the documented flows, their error paths
and hostile input, against the demo account."""
import datetime
import threading
import uuid

from harness import Skip, Client, expect, OAUTH_CLIENT

ADULT = "d0000000-0000-4000-8000-000000000005"
CHILD = "d0000000-0000-4000-8000-000000000006"
GUIDE = "d0000000-0000-4000-8000-000000000007"
MUSEUM = "d0000000-0000-4000-8000-000000000003"
ACCOUNT = "/api/v1/accounts/demo"


def day(n=2):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def cart_body(items, date=None, time="10:00:00", **extra):
    body = {"categoryId": MUSEUM, "eventDate": date or day(), "startTime": time,
            "items": [{"productId": p, "amount": a} for p, a in items]}
    body.update(extra)
    return body


def error(resp, status, code=None):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    assert isinstance(resp.json, dict) and "error" in resp.json and "message" in resp.json, resp
    if code:
        assert resp.json["error"] == code, resp
    return resp.json


def avail(c, product, date, time):
    r = c.convious("GET", "/api/v1/products/%s/availability/" % product,
                   query={"date_from": date, "date_to": (datetime.date.fromisoformat(date) +
                                                         datetime.timedelta(days=1)).isoformat()})
    for s in expect(r, 200)["results"]:
        if s["timeFrom"] == time:
            return s["availability"]
    raise AssertionError("no slot %s on %s" % (time, date))


# ---- OAuth2 ----

def test_oauth_token(c):
    r = c.request("POST", "/convious/oauth/token/", form={"grant_type": "client_credentials",
                                                         "client_id": OAUTH_CLIENT[0], "client_secret": OAUTH_CLIENT[1]})
    body = expect(r, 200)
    assert body["token_type"] == "Bearer" and body["access_token"] and body["expires_in"] > 0
    r = c.request("POST", "/convious/oauth/token/", form={"grant_type": "client_credentials",
                                                         "client_id": OAUTH_CLIENT[0], "client_secret": "wrong"})
    assert r.status == 401 and r.json["error"] == "invalid_client"
    r = c.request("POST", "/convious/oauth/token/", form={"grant_type": "password"})
    assert r.status == 400 and r.json["error"] == "unsupported_grant_type"
    r = c.request("POST", "/convious/oauth/token/", form={})
    assert r.status == 400 and r.json["error"] == "invalid_request" and r.json["error_description"], r


def test_requires_token(c):
    for path in ("/api/v1/orders/", "/api/v1/products/", ACCOUNT + "/carts/x/"):
        error(c.convious("GET", path, token=""), 401)
        error(c.convious("GET", path, token="at_forged"), 401)


def test_other_account_is_refused(c):
    error(c.convious("GET", "/api/v1/orders/", query={"account": "someone-else"}), 403)
    error(c.convious("POST", "/api/v1/accounts/someone-else/carts/", cart_body([(ADULT, 1)])), 404)


# ---- products, categories, availability ----

def test_products_list_and_get(c):
    body = expect(c.convious("GET", "/api/v1/products/", query={
        "include": "name,account,text,categories,resources,images,external_ids,barcode,taxes,scan_options"}), 200)
    assert set(body) == {"next", "previous", "results"}
    adult = next(p for p in body["results"] if p["id"] == ADULT)
    assert adult["name"]["en"] == "Adult" and adult["accountSlug"] == "demo"
    assert adult["taxes"] == [{"type": "VAT", "priceProportionPercentage": "100.00", "taxPercentage": "21.00"}]
    assert adult["resources"][0]["amountUsed"] == 1 and adult["categories"][0]["id"] == MUSEUM
    assert adult["scanOptions"]["scanLimit"] == "once"
    one = expect(c.convious("GET", "/api/v1/products/%s/" % ADULT, query={"include": "name"}), 200)
    assert one["id"] == ADULT and "name" in one and "taxes" not in one
    in_cat = expect(c.convious("GET", "/api/v1/products/", query={"category_id": MUSEUM}), 200)["results"]
    assert {p["id"] for p in in_cat} >= {ADULT, CHILD} and GUIDE not in {p["id"] for p in in_cat}
    error(c.convious("GET", "/api/v1/products/", query={"include": "bogus"}), 400, "invalid_include")
    error(c.convious("GET", "/api/v1/products/%s/" % uuid.uuid4()), 404)


def test_categories(c):
    body = expect(c.convious("GET", "/api/v1/categories/", query={"include": "name,parent_category,images,text",
                                                                  "root": "true"}), 200)
    museum = next(x for x in body["results"] if x["id"] == MUSEUM)
    assert museum["name"]["en"] == "Museum tickets" and museum["parentCategory"] is None
    error(c.convious("GET", "/api/v1/categories/", query={"root": "maybe"}), 400)


def test_product_availability(c):
    r = c.convious("GET", "/api/v1/products/%s/availability/" % ADULT, query={"date_from": day(1), "date_to": day(3)})
    results = expect(r, 200)["results"]
    assert len(results) == 16, len(results)
    first = results[0]
    assert first["day"] == day(1) and first["timeFrom"] == "09:00:00" and first["timeTo"] == "10:00:00"
    assert first["timeFromOffset"] in ("+01:00", "+02:00") and first["availability"] <= 100
    error(c.convious("GET", "/api/v1/products/%s/availability/" % ADULT,
                     query={"date_from": "2023-02-30", "date_to": "2023-03-02"}), 400, "invalid_date")
    error(c.convious("GET", "/api/v1/products/%s/availability/" % ADULT, query={"date_from": day(1)}), 400)
    guide = expect(c.convious("GET", "/api/v1/products/%s/availability/" % GUIDE,
                              query={"date_from": day(1), "date_to": day(2)}), 200)
    assert all(s["availability"] is None for s in guide["results"])


def test_cart_availability(c):
    products = {"categoryId": MUSEUM, "products": [{"id": ADULT, "amount": 2}, {"id": CHILD, "amount": 1}]}
    body = expect(c.convious("POST", ACCOUNT + "/availability/for_period/%s/%s/" % (day(1), day(8)), products), 200)
    assert len(body["results"]) == 7 and all(x["available"] for x in body["results"])
    body = expect(c.convious("POST", ACCOUNT + "/availability/%s/" % day(2), products), 200)
    assert len(body["results"]) == 8 and body["results"][0]["timeFrom"] == "09:00:00"
    error(c.convious("POST", ACCOUNT + "/availability/for_period/%s/%s/" % (day(1), day(70)), products), 400,
          "range_too_long")
    error(c.convious("POST", ACCOUNT + "/availability/%s/" % day(2), {"products": []}), 400)
    error(c.convious("POST", ACCOUNT + "/availability/%s/" % day(2), {"products": [{"id": ADULT, "amount": 0}]}), 400)


# ---- carts and bookings ----

def test_cart_lifecycle(c):
    t = "11:00:00"
    before = avail(c, ADULT, day(3), t)
    r = c.convious("POST", ACCOUNT + "/carts/", cart_body([(ADULT, 2), (CHILD, 1)], date=day(3), time=t,
                                                         externalId="ext-1", extras={"k": "v"}))
    cart = expect(r, 200)
    assert r.header("Location").endswith("/convious/api/v1/accounts/demo/carts/%s/" % cart["id"])
    assert cart["totalPrice"] == "0.00" and cart["items"][0]["gatePrice"] == "22.00"
    assert cart["eventDate"] == day(3) and cart["startTime"] == t and cart["status"] == "open"
    assert cart["expiresAt"] and cart["timezone"] == "Europe/Amsterdam" and cart["extras"] == {"k": "v"}
    assert avail(c, ADULT, day(3), t) == before - 3
    got = expect(c.convious("GET", ACCOUNT + "/carts/%s/" % cart["id"]), 200)
    assert got["id"] == cart["id"] and got["externalId"] == "ext-1"
    upd = expect(c.convious("PATCH", ACCOUNT + "/carts/%s/" % cart["id"], {"items": [{"productId": ADULT,
                                                                                     "amount": 1}]}), 200)
    assert upd["items"] == [{"productId": ADULT, "amount": 1, "price": "0.00", "gatePrice": "22.00"}]
    assert avail(c, ADULT, day(3), t) == before - 1
    expect(c.convious("DELETE", ACCOUNT + "/carts/%s/" % cart["id"]), 200)
    assert avail(c, ADULT, day(3), t) == before
    error(c.convious("DELETE", ACCOUNT + "/carts/%s/" % cart["id"]), 409)
    error(c.convious("GET", ACCOUNT + "/carts/%s/" % uuid.uuid4()), 404)


def test_cart_bad_input(c):
    bad = [
        ({"items": []}, 400),
        ({"items": [{"productId": ADULT, "amount": 0}]}, 400),
        ({"items": [{"productId": ADULT, "amount": -2}]}, 400),
        ({"items": [{"productId": ADULT, "amount": "2"}]}, 400),
        ({"items": [{"productId": 5, "amount": 1}]}, 400),
        (cart_body([(ADULT, 1)], date="2023-02-30"), 400),
        (cart_body([(ADULT, 1)], time="25:00:00"), 400),
        (cart_body([(ADULT, 1)], time="12:30:00"), 400),
        (cart_body([(str(uuid.uuid4()), 1)]), 400),
        (cart_body([(ADULT, 1)], extras=[1, 2]), 400),
        (cart_body([(ADULT, 1)], pricingToken="forged.token"), 400),
    ]
    for body, status in bad:
        error(c.convious("POST", ACCOUNT + "/carts/", body), status)
    error(c.convious("POST", ACCOUNT + "/carts/", raw="{not json"), 400, "invalid_json")
    error(c.convious("POST", ACCOUNT + "/carts/", raw="[1,2]"), 400)
    error(c.convious("POST", ACCOUNT + "/carts/", raw='{"items":' * 5000), 400)


def test_pricing_token_flow(c):
    products = {"categoryId": MUSEUM, "products": [{"id": ADULT, "amount": 2}]}
    prices = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(4), products), 200)["prices"]
    slot = next(p for p in prices if p["timeFrom"] == "13:00:00")
    assert slot["price"] == "39.00" and slot["originalPrice"] == "44.00" and 1 <= slot["color"] <= 5
    period = expect(c.convious("POST", ACCOUNT + "/pricing/for_period/%s/%s/" % (day(4), day(6)), products), 200)
    assert [p["day"] for p in period["prices"]] == [day(4), day(5)]
    body = cart_body([(ADULT, 2)], date=day(4), time="13:00:00", pricingToken=slot["pricingToken"])
    cart = expect(c.convious("POST", ACCOUNT + "/carts/", body), 200)
    assert cart["totalPrice"] == "39.00" and cart["items"][0]["price"] == "19.50"
    # the token is bound to the contents, the date and the time
    error(c.convious("POST", ACCOUNT + "/carts/", cart_body([(ADULT, 3)], date=day(4), time="13:00:00",
                                                            pricingToken=slot["pricingToken"])), 400)
    error(c.convious("POST", ACCOUNT + "/carts/", cart_body([(ADULT, 2)], date=day(4), time="14:00:00",
                                                            pricingToken=slot["pricingToken"])), 400)
    order = expect(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"]}), 200)
    assert order["totalPriceInclTax"] == "39.00" and order["totalPriceExclTax"] == "32.24"
    item = order["items"][0]
    assert item["priceInclTax"] == "19.50" and item["priceExclTax"] == "16.12"
    assert item["taxes"][0] == {"priceProportionPercentage": "100.00", "taxAmount": "3.38", "taxPercentage": "21.00",
                                "type": "VAT", "taxableAmount": "19.50"}


def test_booking_and_order(c):
    cart = expect(c.convious("POST", ACCOUNT + "/carts/", cart_body([(ADULT, 2), (CHILD, 1)], date=day(5),
                                                                    extras={"a": "1"})), 200)
    booking = {"cartId": cart["id"], "customer": {"email": "john.doe+tag@gmail.com", "name": "John",
                                                  "language": "en"}, "extras": {"b": "2"}, "source": "api"}
    r = c.convious("POST", ACCOUNT + "/bookings/", booking)
    order = expect(r, 200)
    assert r.header("Location").endswith("/convious/api/v1/orders/%s/" % order["id"])
    assert order["status"] == "confirmed" and order["quantity"] == 3 and order["visitDate"] == day(5)
    assert order["customer"]["email"] == "john.doe+tag@gmail.com"
    assert len({i["orderItemId"] for i in order["items"]}) == 2 and len(order["items"]) == 3
    assert order["payments"][0]["paymentStatus"] == "paid"
    # booking the same cart again: the same order, not a second one
    again = c.convious("POST", ACCOUNT + "/bookings/", booking)
    assert expect(again, 200)["id"] == order["id"]
    got = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"], query={"include": "items.barcode"}), 200)
    assert "items" in got and "customer" not in got and got["items"][0]["barcode"]["status"] == "available"
    found = expect(c.convious("GET", "/api/v1/orders/", query={"email": "john.doe+tag@gmail.com",
                                                               "include": "customer"}), 200)["results"]
    assert order["id"] in [o["id"] for o in found]
    error(c.convious("POST", ACCOUNT + "/bookings/", {}), 400)
    error(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": str(uuid.uuid4())}), 404)
    error(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"], "customer": "john"}), 400)
    error(c.convious("GET", "/api/v1/orders/%s/" % uuid.uuid4()), 404)


def test_cancel_releases_and_refunds(c):
    t = "15:00:00"
    before = avail(c, ADULT, day(6), t)
    cart = expect(c.convious("POST", ACCOUNT + "/carts/", cart_body([(ADULT, 4)], date=day(6), time=t)), 200)
    order = expect(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"]}), 200)
    assert avail(c, ADULT, day(6), t) == before - 4
    error(c.convious("POST", "/api/v1/orders/%s/status/" % order["id"], {"status": "confirmed"}), 400)
    expect(c.convious("POST", "/api/v1/orders/%s/status/" % order["id"],
                      {"status": "cancelled", "statusReason": "bad weather"}), 200)
    assert avail(c, ADULT, day(6), t) == before
    got = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"],
                            query={"include": "items.refund_details,payments"}), 200)
    assert got["status"] == "cancelled"
    item = got["items"][0]
    assert item["refunded"] and item["invalidatedAt"] and item["refundDetails"]["refundReason"] == "bad weather"
    assert got["payments"][0]["paymentStatus"] == "refunded"
    error(c.convious("POST", "/api/v1/orders/%s/status/" % order["id"], {"status": "cancelled"}), 409)


def test_sold_out_holds_nothing(c):
    t = "16:00:00"
    left = avail(c, ADULT, day(7), t)
    error(c.convious("POST", ACCOUNT + "/carts/", cart_body([(ADULT, 20), (CHILD, left)], date=day(7), time=t)), 409)
    assert avail(c, ADULT, day(7), t) == left


def test_concurrent_carts_never_oversell(c):
    t = "12:00:00"
    date = day(8)
    left = avail(c, ADULT, date, t)
    held = []
    lock = threading.Lock()
    token = c.convious_token()

    def worker():
        cl = Client()
        for _ in range(12):
            r = cl.convious("POST", ACCOUNT + "/carts/", cart_body([(CHILD, 3)], date=date, time=t), token=token)
            if r.status == 200:
                with lock:
                    held.append(3)
            else:
                assert r.status == 409, r

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(held) <= left and left - sum(held) < 3, (left, sum(held))
    assert avail(c, ADULT, date, t) == left - sum(held)


# ---- the timeline ----

def test_timeline_cursor_sees_every_order(c):
    seen, url = [], "/api/v1/orders/?page_size=3"
    pages = 0
    while url and pages < 200:
        body = expect(c.convious("GET", url), 200)
        seen += [o["id"] for o in body["results"]]
        url = body["next"] and body["next"][body["next"].index("/convious") + len("/convious"):]
        pages += 1
    assert len(seen) == len(set(seen)) and len(seen) >= 3
    error(c.convious("GET", "/api/v1/orders/", query={"cursor": "!!!"}), 400, "invalid_cursor")
    error(c.convious("GET", "/api/v1/orders/", query={"status": "paid"}), 400)
    error(c.convious("GET", "/api/v1/orders/", query={"include": "items,nonsense"}), 400)
    error(c.convious("GET", "/api/v1/orders/", query={"from_visit_date": "2023-02-30"}), 400)
    filtered = expect(c.convious("GET", "/api/v1/orders/", query={"status": "cancelled,confirmed",
                                                                  "products": ADULT}), 200)
    assert all(o["status"] in ("cancelled", "confirmed") for o in filtered["results"])


def test_timeline_under_concurrent_updates(c):
    # read the timeline from a point while orders are created and cancelled:
    # every order changed after that point shows up, none is skipped
    start = expect(c.convious("GET", "/api/v1/orders/", query={"page_size": "500"}), 200)
    while start["next"]:
        start = expect(c.convious("GET", start["next"][start["next"].index("/convious") + 9:]), 200)
    cursor_url = start["next"]
    made = []

    def writer():
        cl = Client()
        tok = cl.convious_token()
        for i in range(6):
            cart = cl.convious("POST", ACCOUNT + "/carts/", cart_body([(GUIDE, 1)], date=None), token=tok)
            if cart.status != 200:
                cart = cl.convious("POST", ACCOUNT + "/carts/", {"items": [{"productId": GUIDE, "amount": 1}]},
                                   token=tok)
            o = expect(cart, 200)
            order = expect(cl.convious("POST", ACCOUNT + "/bookings/", {"cartId": o["id"]}, token=tok), 200)
            made.append(order["id"])
            if i % 2:
                cl.convious("POST", "/api/v1/orders/%s/status/" % order["id"], {"status": "cancelled"}, token=tok)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for th in threads:
        th.start()
    seen = set()
    last = start["results"][-1]["updatedAt"] if start["results"] else None
    for _ in range(30):
        query = {"page_size": "2"}
        if last:
            query["from_updated_at"] = last
        body = expect(c.convious("GET", "/api/v1/orders/", query=query), 200)
        while True:
            seen |= {o["id"] for o in body["results"]}
            if not body["next"]:
                break
            body = expect(c.convious("GET", body["next"][body["next"].index("/convious") + 9:]), 200)
        if all(not th.is_alive() for th in threads):
            break
    for th in threads:
        th.join()
    body = expect(c.convious("GET", "/api/v1/orders/", query={"page_size": "500",
                                                              **({"from_updated_at": last} if last else {})}), 200)
    seen |= {o["id"] for o in body["results"]}
    assert set(made) <= seen, set(made) - seen
    del cursor_url


# ---- scanning ----

def book_one(c, product=ADULT, date=None, time="10:00:00"):
    if product == GUIDE:
        body = {"items": [{"productId": GUIDE, "amount": 1}]}
    else:
        body = cart_body([(product, 1)], date=date or day(0) if False else date or day(2), time=time)
    cart = expect(c.convious("POST", ACCOUNT + "/carts/", body), 200)
    order = expect(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"]}), 200)
    return order["items"][0]["barcode"]["barcode"], order


def test_scan_once(c):
    barcode, order = book_one(c)
    scan_at = day(2) + "T10:30:00+01:00"
    check = expect(c.convious("GET", "/api/v2/accounts/demo/barcode/scan/",
                              query={"barcode": barcode, "scanned_at": scan_at}), 200)
    assert check["status"] == "success" and check["errorCode"] is None
    assert check["product"]["id"] == ADULT and check["order"]["eventDate"] == day(2)
    assert check["ticket"]["priceBeforeDiscount"] == "0.00" and check["order"]["startTime"] == "10:00:00"
    r1 = expect(c.convious("POST", "/api/v2/accounts/demo/barcode/scan/", {"barcode": barcode, "scannedAt": scan_at}),
                200)
    assert r1["status"] == "success"
    r2 = expect(c.convious("POST", "/api/v2/accounts/demo/barcode/scan/", {"barcode": barcode, "scannedAt": scan_at}),
                200)
    assert r2["status"] == "error" and r2["errorCode"] == "already_redeemed"
    forced = expect(c.convious("POST", "/api/v2/accounts/demo/barcode/scan/",
                               {"barcode": barcode, "scannedAt": scan_at, "forceScan": True}), 200)
    assert forced["status"] == "success"
    got = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"], query={"include": "items.barcode"}), 200)
    assert got["items"][0]["barcode"]["status"] == "redeemed" and got["items"][0]["barcode"]["redeemed"]


def test_scan_codes(c):
    barcode, _ = book_one(c, time="11:00:00")
    scan = "/api/v2/accounts/demo/barcode/scan/"
    r = expect(c.convious("POST", scan, {"barcode": barcode, "scannedAt": day(1) + "T10:00:00Z"}), 200)
    assert r["errorCode"] == "future_validity", r
    r = expect(c.convious("POST", scan, {"barcode": barcode, "scannedAt": day(4) + "T10:00:00Z"}), 200)
    assert r["errorCode"] == "past_validity", r
    r = expect(c.convious("POST", scan, {"barcode": barcode, "scannedAt": day(2) + "T10:00:00Z",
                                         "direction": "out"}), 200)
    assert r["errorCode"] == "scan_in_required", r
    r = expect(c.convious("POST", scan, {"barcode": "999999999999"}), 200)
    assert r["errorCode"] == "not_found" and r["product"] is None
    error(c.convious("POST", scan, {"scannedAt": "2023-01-01T00:00:00Z"}), 400)
    error(c.convious("POST", scan, {"barcode": barcode, "direction": "sideways"}), 400)
    error(c.convious("POST", scan, {"barcode": barcode, "scannedAt": "2023-02-30T00:00:00Z"}), 400)
    error(c.convious("GET", scan), 400)


def test_scan_race_exactly_one(c):
    barcode, _ = book_one(c, time="14:00:00")
    results = []
    token = c.convious_token()

    def gate():
        r = Client().convious("POST", "/api/v2/accounts/demo/barcode/scan/",
                              {"barcode": barcode, "scannedAt": day(2) + "T13:10:00Z"}, token=token)
        results.append(r.json["status"])

    threads = [threading.Thread(target=gate) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count("success") == 1, results


def test_zz_hold_expires(c):
    # runs last in this module: it moves the server's test clock forward
    t = "13:00:00"
    date = day(9)
    before = avail(c, ADULT, date, t)
    cart = expect(c.convious("POST", ACCOUNT + "/carts/", cart_body([(ADULT, 5)], date=date, time=t)), 200)
    assert avail(c, ADULT, date, t) == before - 5
    r = c.admin("POST", "/test/clock", {"advance_seconds": 901})
    if r.status == 404:
        raise Skip("server runs without --test-clock")
    expect(r, 200)
    got = expect(c.convious("GET", ACCOUNT + "/carts/%s/" % cart["id"]), 200)
    assert got["status"] == "expired", got
    import time
    for _ in range(50):  # the reaper runs every second
        if avail(c, ADULT, date, t) == before:
            break
        time.sleep(0.1)
    assert avail(c, ADULT, date, t) == before
    # an expired cart can still be booked while its seats are free
    order = expect(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"]}), 200)
    assert order["quantity"] == 5 and avail(c, ADULT, date, t) == before - 5
