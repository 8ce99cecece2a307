"""Slow clients and limits: no caller can make one reply, or the server's memory,
grow without bound (issue 9, defect 3). The probe that found it: a schedule of
1-minute slots over 24 hours, and a year of its availability (a 96 MB reply,
1 GB of RSS per request). Every reply whose size follows the caller's input has
a documented maximum (docs/ADMIN_API.md, docs/dialects/*.md) and answers a 400
naming the field beyond it; requests within it stay cheap in memory."""
import datetime
import threading

from harness import BASE, Skip, admin_error, expect, server_pid, unique

MAX_SLOTS = 20000  # AVAILABILITY_MAX_SLOTS in src/core/engine.h
SLOTS_PER_DAY = 24 * 60 - 1  # 00:00 to 23:59 in 1-minute slots
ACCOUNT = "/api/v1/accounts/demo"


def day(n):
    """Day n counted from the day after tomorrow: the suite's test clock has moved
    hours ahead by the time this file runs (the CM checkout's deadlines alone take
    3.5 hours), and in the account's timezone the server's today can then already
    be the client's tomorrow, whose first minute slots are past."""
    return (datetime.date.today() + datetime.timedelta(days=n + 1)).isoformat()


def minute_product(c):
    """A product sold in 1-minute slots round the clock, every day: the probe's schedule."""
    sched = expect(c.admin("POST", "/schedules", {"name": unique("minutes"), "open": "00:00", "close": "23:59",
                                                   "slot_minutes": 1}), 201)
    cat = expect(c.admin("POST", "/categories", {"name": {"en": unique("Minutes")}, "schedule_id": sched["id"]}), 201)
    pool = expect(c.admin("POST", "/pools", {"name": unique("minute-pool"), "capacity": 5}), 201)
    product = expect(c.admin("POST", "/products", {"name": {"en": unique("Minute")}, "price": 100,
                                                   "category_ids": [cat["id"]],
                                                   "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)
    return product["id"], cat["id"]


def cv_error(resp, status, code, field):
    """Convious' error shape: {"error": code, "message": ..., "field": ...}."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    body = resp.json
    assert isinstance(body, dict) and body.get("error") == code and body.get("field") == field, resp
    assert body.get("message"), resp
    return body


def tt_error(resp, status, field):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    return resp.json


# ---- the probe: a year of 1-minute slots is refused, naming the field ----

def test_admin_year_of_minute_slots_is_refused(c):
    product, _ = minute_product(c)
    err = admin_error(c.admin("GET", "/availability", query={"product_id": product, "from": day(1),
                                                              "to": day(365)}), 400, "too_many_slots", "to")
    assert str(MAX_SLOTS) in err["message"], err


def test_convious_year_of_minute_slots_is_refused(c):
    product, _ = minute_product(c)
    cv_error(c.convious("GET", "/api/v1/products/%s/availability/" % product,
                        query={"date_from": day(1), "date_to": day(366)}), 400, "too_many_slots", "date_to")


def test_convious_cart_period_of_minute_slots_is_refused(c):
    # 60 days is Convious' documented period, but 60 days of 1-minute slots are 86,340 slots
    product, cat = minute_product(c)
    body = {"categoryId": cat, "products": [{"id": product, "amount": 1}]}
    for path in ("/availability/for_period/%s/%s/", "/pricing/for_period/%s/%s/"):
        cv_error(c.convious("POST", ACCOUNT + path % (day(1), day(61)), body), 400, "too_many_slots", "date_to")


def test_convious_pricing_quotes_are_bounded(c):
    # each slot is priced for each product: 3 days of 1-minute slots for 50 products are 215,850 prices
    product, cat = minute_product(c)
    many = {"categoryId": cat, "products": [{"id": product, "amount": 1}] * 50}
    err = cv_error(c.convious("POST", ACCOUNT + "/pricing/for_period/%s/%s/" % (day(1), day(4)), many), 400,
                   "too_many_slots", "date_to")
    assert "100000" in err["message"], err
    one = {"categoryId": cat, "products": [{"id": product, "amount": 1}]}
    prices = expect(c.convious("POST", ACCOUNT + "/pricing/for_period/%s/%s/" % (day(1), day(4)), one), 200)
    assert [p["day"] for p in prices["prices"]] == [day(1), day(2), day(3)], prices
    # one day of it for 50 products (71,950 prices) is within the bound
    assert len(expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(1), many), 200)["prices"]) == SLOTS_PER_DAY


def test_bounded_requests_still_answer(c):
    product, cat = minute_product(c)
    days = MAX_SLOTS // SLOTS_PER_DAY  # 13 whole days fit
    r = expect(c.admin("GET", "/availability", query={"product_id": product, "from": day(1),
                                                       "to": day(days)}), 200)
    assert r["count"] == len(r["data"]) == days * SLOTS_PER_DAY, r["count"]
    first = r["data"][0]
    assert set(first) == {"occurrence", "date", "start_time", "end_time", "starts_at", "ends_at", "available",
                          "open"}, first
    assert first["date"] == day(1) and first["start_time"] == "00:00:00" and first["end_time"] == "00:01:00"
    assert first["available"] == 5 and first["open"] is True and isinstance(first["starts_at"], int)
    admin_error(c.admin("GET", "/availability", query={"product_id": product, "from": day(1),
                                                        "to": day(days + 1)}), 400, "too_many_slots", "to")
    cv = expect(c.convious("GET", "/api/v1/products/%s/availability/" % product,
                           query={"date_from": day(1), "date_to": day(2)}), 200)["results"]
    assert len(cv) == SLOTS_PER_DAY
    assert cv[0]["productId"] == product and cv[0]["categoryId"] == cat and cv[0]["timeFrom"] == "00:00:00"
    assert cv[0]["availability"] == 5 and cv[0]["timeTo"] == "00:01:00"
    body = {"categoryId": cat, "products": [{"id": product, "amount": 2}]}
    slots = expect(c.convious("POST", ACCOUNT + "/availability/%s/" % day(2), body), 200)["results"]
    assert len(slots) == SLOTS_PER_DAY and slots[0]["available"] is True and slots[0]["day"] == day(2)
    prices = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % day(2), body), 200)["prices"]
    assert len(prices) == SLOTS_PER_DAY and prices[0]["price"] == "2.00" and prices[0]["pricingToken"]
    period = expect(c.convious("POST", ACCOUNT + "/availability/for_period/%s/%s/" % (day(1), day(8)), body), 200)["results"]
    assert [p["day"] for p in period] == [day(n) for n in range(1, 8)] and all(p["available"] for p in period)


# ---- page sizes ----

def test_page_sizes_over_the_maximum_are_refused(c):
    admin_error(c.admin("GET", "/orders", query={"limit": 1001}), 400, None, "limit")
    cv_error(c.convious("GET", "/api/v1/orders/", query={"account": "demo", "page_size": 501}), 400,
             "invalid_page_size", "page_size")
    for path in ("/v1/orders", "/v1/issued_tickets", "/v1/events"):
        r = c.tickettailor("GET", path, query={"limit": 101})
        assert r.status == 400 and "limit" in r.raw, (path, r)
    assert expect(c.admin("GET", "/orders", query={"limit": 1000}), 200) is not None
    assert expect(c.tickettailor("GET", "/v1/orders", query={"limit": 100}), 200) is not None


# ---- occurrence ids: the capacity key holds 63 characters ----

def test_long_occurrence_ids_are_refused_where_they_are_made(c):
    long_id = "oc_" + "x" * 61  # 64 characters
    admin_error(c.admin("POST", "/events", {"name": unique("Gig"),
                                            "occurrences": [{"id": long_id, "start": day(5) + "T20:00:00"}]}),
                400, "invalid_occurrence", "occurrences.id")
    ok = expect(c.admin("POST", "/events", {"name": unique("Gig"),
                                            "occurrences": [{"id": long_id[:63], "start": day(5) + "T20:00:00"}]}),
                201)
    assert ok["occurrences"][0]["id"] == long_id[:63]
    admin_error(c.admin("POST", "/carts", {"items": [{"product_id": "p", "quantity": 1}], "occurrence_id": long_id}),
                400, None, "occurrence_id")


# ---- memory: four large-but-allowed requests at once stay bounded ----

def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    raise Skip("cannot read /proc/%d/status (server on another host?)" % pid)


# Before the fix one such request (a year of 1-minute slots) took 1 GB and four
# left 2.6 GB held. Four 20,000-slot replies are about 4 MB of text each; the
# allowance covers them, their slots and the sanitizer build's quarantine.
RSS_GROWTH_LIMIT_KIB = 256 * 1024


def test_four_large_requests_keep_memory_bounded(c):
    pid = server_pid()
    product, cat = minute_product(c)
    days = MAX_SLOTS // SLOTS_PER_DAY
    expect(c.admin("GET", "/availability", query={"product_id": product, "from": day(1), "to": day(1)}), 200)
    before = rss_kib(pid)
    peak = [before]
    failures = []
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_kib(pid))

    def admin_year():
        for _ in range(3):
            r = c.admin("GET", "/availability", query={"product_id": product, "from": day(1), "to": day(days)})
            if r.status != 200 or len(r.json["data"]) != days * SLOTS_PER_DAY:
                failures.append(r)

    def convious_days():
        for _ in range(3):
            r = c.convious("GET", "/api/v1/products/%s/availability/" % product,
                           query={"date_from": day(1), "date_to": day(days + 1)})
            if r.status != 200 or len(r.json["results"]) != days * SLOTS_PER_DAY:
                failures.append(r)

    expect(c.convious("GET", "/api/v1/products/"), 200)  # the token is fetched before the threads start
    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=f) for f in (admin_year, admin_year, convious_days, convious_days)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done.set()
    sampler.join()
    after = rss_kib(pid)
    assert not failures, failures[:1]
    assert peak[0] - before < RSS_GROWTH_LIMIT_KIB, "RSS grew from %d to %d KiB" % (before, peak[0])
    assert after - before < RSS_GROWTH_LIMIT_KIB, "RSS held %d KiB after the replies" % (after - before)
