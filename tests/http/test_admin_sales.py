"""/admin/v1 box-office sales: availability, carts, orders, tickets, and the
capacity rules behind them (sold + held <= capacity; capacity never below it)."""
import datetime
import time
import uuid

from harness import Skip, expect, admin_error, unique

ADULT = "d0000000-0000-4000-8000-000000000005"
CHILD = "d0000000-0000-4000-8000-000000000006"
GUIDE = "d0000000-0000-4000-8000-000000000007"
STANDARD = "d0000000-0000-4000-8000-00000000000a"
MUSEUM_CATEGORY = "d0000000-0000-4000-8000-000000000003"


uniq = unique


error_of = admin_error


def open_slot(c, product, days_ahead=2):
    day = (datetime.date.today() + datetime.timedelta(days=days_ahead)).isoformat()
    slots = expect(c.admin("GET", "/availability", query={"product_id": product, "from": day, "to": day}), 200)
    assert slots["count"] == len(slots["data"]) > 0, slots
    for s in slots["data"]:
        if s["open"] and (s["available"] is None or s["available"] > 5):
            return s
    raise AssertionError("no open slot on %s: %r" % (day, slots))


def undated_product(c, capacity):
    pool = expect(c.admin("POST", "/pools", {"name": uniq("pool"), "capacity": capacity, "per": "total"}), 201)
    product = expect(c.admin("POST", "/products", {"name": uniq("Workshop"), "price": 1500,
                                                  "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)
    return pool, product


def sell(c, product, quantity, **cart):
    body = dict({"items": [{"product_id": product, "quantity": quantity}]}, **cart)
    cart = expect(c.admin("POST", "/carts", body), 201)
    return expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)


def test_box_office_sale_dated(c):
    slot = open_slot(c, ADULT)
    email = uniq("visitor") + "@example.com"
    r = c.admin("POST", "/carts", {"items": [{"product_id": ADULT, "quantity": 2}, {"product_id": CHILD, "quantity": 1}],
                                   "date": slot["date"], "start_time": slot["start_time"][:5],
                                   "category_id": MUSEUM_CATEGORY, "hold_seconds": 600})
    cart = expect(r, 201)
    assert r.header("Location").endswith("/admin/v1/carts/" + cart["id"]), r.headers
    assert cart["status"] == "open" and cart["channel"] == "admin", cart
    assert cart["occurrence"] == slot["occurrence"], (cart, slot)
    assert cart["total"] == 2 * 1950 + 975 and cart["currency"] == "EUR", cart
    assert expect(c.admin("GET", "/carts/" + cart["id"]), 200)["id"] == cart["id"]
    after = open_slot(c, ADULT)
    if after["occurrence"] == slot["occurrence"]:
        assert after["available"] == slot["available"] - 3, (slot, after)

    r = c.admin("POST", "/orders", {"cart_id": cart["id"], "customer": {"email": email, "name": "Box Office"},
                                    "payment": {"provider": "cash", "method": "till", "reference": "T-1"}})
    order = expect(r, 201)
    assert r.header("Location").endswith("/admin/v1/orders/" + order["id"]), r.headers
    assert order["status"] == "confirmed" and order["channel"] == "admin", order
    assert len(order["tickets"]) == 3 and order["customer"]["email"] == email, order
    assert len(order["payments"]) == 1 and order["payments"][0]["provider"] == "cash", order
    assert order["total_gross"] == 2 * 1950 + 975, order
    # booking the same cart again returns the same order, not a second one
    again = expect(c.admin("POST", "/orders", {"cart_id": cart["id"]}), 200)
    assert again["id"] == order["id"], again
    assert expect(c.admin("GET", "/carts/" + cart["id"]), 200)["status"] == "booked"
    assert expect(c.admin("GET", "/orders/" + order["id"]), 200)["id"] == order["id"]
    found = expect(c.admin("GET", "/orders", query={"email": email.upper()}), 200)
    assert [o["id"] for o in found["data"]] == [order["id"]], found

    ticket = order["tickets"][0]
    assert expect(c.admin("GET", "/tickets/" + ticket["id"]), 200)["barcode"] == ticket["barcode"]
    voided = expect(c.admin("POST", "/tickets/%s/void" % ticket["id"]), 200)
    assert voided["status"] == "voided", voided
    error_of(c.admin("POST", "/tickets/%s/void" % ticket["id"]), 409, "already_void")

    cancelled = expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "changed plans"}), 200)
    assert cancelled["status"] == "cancelled", cancelled
    assert cancelled["status_reason"] == "changed plans" or cancelled["status_reason"] is None, cancelled
    error_of(c.admin("POST", "/orders/%s/cancel" % order["id"]), 409, "already_cancelled")


def test_box_office_sale_event_and_undated(c):
    order = sell(c, STANDARD, 2, occurrence_id="oc_concert_main")
    assert order["occurrence"] == "oc_concert_main" or order["tickets"][0]["occurrence"] == "oc_concert_main", order
    order = sell(c, GUIDE, 1)
    assert order["tickets"][0]["product_id"] == GUIDE, order
    # cancel without a body
    assert expect(c.admin("POST", "/orders/%s/cancel" % order["id"]), 200)["status"] == "cancelled"


def test_cart_validation(c):
    slot = open_slot(c, ADULT)
    ok_item = {"product_id": ADULT, "quantity": 1}
    cases = [
        ({}, "missing_field", "items"),
        ({"items": []}, "invalid_field", "items"),
        ({"items": "ADULT"}, "invalid_field", "items"),
        ({"items": [ok_item] * 51}, "invalid_field", "items"),
        ({"items": [{"product_id": ADULT}]}, "missing_field", "items[0].quantity"),
        ({"items": [{"product_id": ADULT, "quantity": "2"}]}, "invalid_field", "items[0].quantity"),
        ({"items": [{"product_id": ADULT, "quantity": 0}]}, "invalid_field", "items[0].quantity"),
        ({"items": [ok_item, {"product_id": 5, "quantity": 1}]}, "invalid_field", "items[1].product_id"),
        ({"items": [dict(ok_item, price=1)]}, "unknown_field", "items[0].price"),
        ({"items": [ok_item], "date": "2026-02-30"}, "invalid_field", "date"),
        ({"items": [ok_item], "date": slot["date"], "start_time": "9 o'clock"}, "invalid_field", "start_time"),
        ({"items": [ok_item], "start_time": "10:00"}, "missing_field", "date"),
        ({"items": [ok_item], "date": slot["date"], "hold_seconds": 0}, "invalid_field", "hold_seconds"),
        ({"items": [ok_item], "date": slot["date"], "unit_price": 1}, "unknown_field", "unit_price"),
        ({"items": [ok_item], "date": slot["date"], "customer": {"email": "a@b.c", "shoe_size": 44}},
         "unknown_field", "customer.shoe_size"),
        ({"items": [ok_item]}, "date_required", "date"),
        ({"items": [{"product_id": "no-such-product", "quantity": 1}]}, "unknown_product", "product_id"),
        ({"items": [ok_item], "date": slot["date"], "start_time": "03:17"}, "unknown_timeslot", "start_time"),
        ({"items": [{"product_id": STANDARD, "quantity": 1}], "occurrence_id": "oc_nope"}, "unknown_occurrence",
         "occurrence_id"),
    ]
    for body, code, field in cases:
        error_of(c.admin("POST", "/carts", body), 400, code, field)
    error_of(c.admin("POST", "/carts", raw="{items:"), 400, "invalid_json")
    error_of(c.admin("GET", "/carts/no-such-cart"), 404, "not_found")


def test_order_validation(c):
    cases = [
        ({}, "missing_field", "cart_id"),
        ({"cart_id": 12}, "invalid_field", "cart_id"),
        ({"cart_id": "x", "customer": "anna@example.com"}, "invalid_field", "customer"),
        ({"cart_id": "x", "customer": {"email": 1}}, "invalid_field", "customer.email"),
        ({"cart_id": "x", "payment": {}}, "missing_field", "payment.provider"),
        ({"cart_id": "x", "payment": {"provider": "cash", "amount": 5}}, "unknown_field", "payment.amount"),
        ({"cart_id": "x", "total": 5}, "unknown_field", "total"),
    ]
    for body, code, field in cases:
        error_of(c.admin("POST", "/orders", body), 400, code, field)
    error_of(c.admin("POST", "/orders", {"cart_id": "no-such-cart"}), 404, "not_found", "cart_id")
    error_of(c.admin("GET", "/orders/no-such-order"), 404, "not_found")
    error_of(c.admin("POST", "/orders/no-such-order/cancel"), 404, "not_found")
    error_of(c.admin("POST", "/orders/no-such-order/cancel", {"why": "x"}), 400, "unknown_field", "why")
    error_of(c.admin("POST", "/orders/no-such-order/cancel", {"reason": "x" * 501}), 400, "invalid_field", "reason")
    error_of(c.admin("GET", "/tickets/no-such-ticket"), 404, "not_found")
    error_of(c.admin("POST", "/tickets/no-such-ticket/void"), 404, "not_found")


def test_capacity_below_sold_conflicts(c):
    pool, product = undated_product(c, 3)
    sell(c, product["id"], 2)
    held = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}]}), 201)
    error_of(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}]}), 409, "sold_out")
    # 2 sold + 1 held: capacity may not drop below 3, by PATCH or by PUT
    error_of(c.admin("PATCH", "/pools/" + pool["id"], {"capacity": 2}), 409, "capacity_below_sold", "capacity")
    error_of(c.admin("PUT", "/pools/" + pool["id"], {"name": pool["name"], "capacity": 1, "per": "total"}), 409,
             "capacity_below_sold", "capacity")
    assert expect(c.admin("GET", "/pools/" + pool["id"]), 200)["capacity"] == 3
    expect(c.admin("PATCH", "/pools/" + pool["id"], {"capacity": 3}), 200)
    expect(c.admin("PATCH", "/pools/" + pool["id"], {"capacity": 5}), 200)
    expect(c.admin("POST", "/orders", {"cart_id": held["id"]}), 201)
    sell(c, product["id"], 2)
    error_of(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}]}), 409, "sold_out")
    avail = expect(c.admin("GET", "/availability", query={"product_id": product["id"]}), 200)
    assert [s["available"] for s in avail["data"]] == [0], avail


def test_hold_expires_with_test_clock(c):
    pool, product = undated_product(c, 1)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "hold_seconds": 10}), 201)
    error_of(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}]}), 409, "sold_out")
    r = c.admin("POST", "/test/clock", {"advance_seconds": 11})
    if r.status == 404:
        raise Skip("server runs without --test-clock")
    expect(r, 200)
    assert expect(c.admin("GET", "/carts/" + cart["id"]), 200)["status"] == "expired"
    # the reaper gives the seat back within its interval (1 s by default)
    for _ in range(50):
        r = c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}]})
        if r.status != 409:
            break
        time.sleep(0.1)
    expect(r, 201)


def test_availability_parameters(c):
    today = datetime.date.today()
    d = lambda n: (today + datetime.timedelta(days=n)).isoformat()
    week = expect(c.admin("GET", "/availability", query={"product_id": ADULT, "from": d(1)}), 200)
    assert {s["date"] for s in week["data"]} == {d(i) for i in range(1, 8)}, week
    one = expect(c.admin("GET", "/availability", query={"product_id": ADULT, "from": d(3), "to": d(3)}), 200)
    assert one["count"] > 1 and {s["date"] for s in one["data"]} == {d(3)}, one
    s = one["data"][0]
    assert set(s) == {"occurrence", "date", "start_time", "end_time", "starts_at", "ends_at", "available", "open"}, s
    error_of(c.admin("GET", "/availability"), 400, "missing_parameter", "product_id")
    error_of(c.admin("GET", "/availability", query={"product_id": ADULT, "from": "tomorrow"}), 400,
             "invalid_parameter", "from")
    error_of(c.admin("GET", "/availability", query={"product_id": ADULT, "from": d(3), "to": d(2)}), 400,
             "invalid_parameter", "to")
    error_of(c.admin("GET", "/availability", query={"product_id": ADULT, "from": d(0), "to": d(400)}), 400,
             "invalid_parameter", "to")
    error_of(c.admin("GET", "/availability", query={"product_id": ADULT, "date": d(1)}), 400, "unknown_parameter")
    error_of(c.admin("GET", "/availability", query={"product_id": "no-such-product"}), 404, "not_found")


def test_orders_list_pagination_and_filters(c):
    for _ in range(3):
        sell(c, GUIDE, 1)
    page1 = expect(c.admin("GET", "/orders", query={"limit": 2}), 200)
    assert set(page1) == {"data", "count", "has_more"}, page1
    assert page1["count"] == 2 and page1["has_more"] is True, page1
    page2 = expect(c.admin("GET", "/orders", query={"limit": 2, "starting_after": page1["data"][-1]["id"]}), 200)
    ids1, ids2 = [o["id"] for o in page1["data"]], [o["id"] for o in page2["data"]]
    assert ids2 and not set(ids1) & set(ids2), (ids1, ids2)
    everything = expect(c.admin("GET", "/orders", query={"limit": 1000}), 200)
    created = [o["created_at"] for o in everything["data"]]
    assert created == sorted(created, reverse=True), "not newest first"
    assert [o["id"] for o in everything["data"]][:4] == ids1 + ids2[:2], "pages do not follow the full list"
    assert everything["has_more"] is False

    cancelled = expect(c.admin("GET", "/orders", query={"status": "cancelled", "limit": 1000}), 200)
    assert cancelled["count"] >= 1 and all(o["status"] == "cancelled" for o in cancelled["data"]), cancelled
    both = expect(c.admin("GET", "/orders", query={"status": "cancelled,confirmed", "limit": 1000}), 200)
    assert both["count"] >= cancelled["count"], both
    number = everything["data"][0]["number"]
    assert [o["number"] for o in expect(c.admin("GET", "/orders", query={"number": number}), 200)["data"]] == [number]
    concert = expect(c.admin("GET", "/orders", query={"event_id": "d0000000-0000-4000-8000-000000000008"}), 200)
    assert all(any(t["event_id"] for t in o["tickets"]) for o in concert["data"]), concert
    assert expect(c.admin("GET", "/orders", query={"created_lte": "2000-01-01T00:00:00Z"}), 200)["count"] == 0
    assert expect(c.admin("GET", "/orders", query={"created_gte": "2999-01-01"}), 200)["count"] == 0
    newest = everything["data"][0]["created_at"]
    iso = datetime.datetime.fromtimestamp(newest / 1e6, datetime.timezone.utc).isoformat()
    assert expect(c.admin("GET", "/orders", query={"created_gte": iso}), 200)["count"] >= 1

    bad = [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "ten"}, "limit"),
           ({"status": "paid"}, "status"), ({"status": ""}, "status"), ({"created_gte": "yesterday"}, "created_gte"),
           ({"email": "x" * 300}, "email")]
    for query, field in bad:
        error_of(c.admin("GET", "/orders", query=query), 400, "invalid_parameter", field)
    error_of(c.admin("GET", "/orders", query={"starting_after": "no-such-order"}), 400, "invalid_cursor",
             "starting_after")
    error_of(c.admin("GET", "/orders", query={"sort": "asc"}), 400, "unknown_parameter")


def test_concurrent_holds_never_exceed_capacity(c):
    import threading
    pool, product = undated_product(c, 10)
    results = []
    lock = threading.Lock()

    def buy():
        r = type(c)().admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}]})
        with lock:
            results.append(r.status)

    threads = [threading.Thread(target=buy) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(results)) == [201, 409] and results.count(201) == 10, results
    avail = expect(c.admin("GET", "/availability", query={"product_id": product["id"]}), 200)
    assert [s["available"] for s in avail["data"]] == [0], avail
