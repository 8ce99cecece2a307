"""CM.com Ticketing Shop, the issue's test list beyond the per-endpoint files
(docs/dialects/cm.md): calendar slots and reservations across both DST changes
(a schedule spanning the spring gap and the autumn overlap), updates that are
atomic under concurrency and when refused, and an update racing a checkout."""
import datetime
import threading

from harness import expect
from cm_shop import cm, cm_error, make_event, tag
from test_cm_calendar import calendar_event, last_sunday, next_year, utc_iso
from test_cm_checkout import shop  # noqa: F401 (the fixture)
from test_cm_reservations import body, reserve


def concurrently(calls):
    results = [None] * len(calls)

    def one(i):
        results[i] = calls[i]()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def slots_of(c, ev, day):
    return expect(cm(c, "GET", "/events/%s/calendar/%d/%d/%d" % (ev["id"], day.year, day.month, day.day)), 200)


def parse(text):
    return datetime.datetime.fromisoformat(text)


# ---------- both DST changes ----------

def test_a_schedule_across_the_spring_gap_and_the_autumn_overlap(c):
    """01:00-04:00 local in 30-minute slots, Europe/Amsterdam: on the spring day
    02:00-03:00 does not exist, on the autumn day it happens twice."""
    ev, regular, _ = calendar_event(c, capacity=3, open="01:00", close="04:00")
    year = next_year()
    for day, expected in ((last_sunday(year, 3), 4), (last_sunday(year, 10), 6)):
        slots = slots_of(c, ev, day)
        ids = [s["id"] for s in slots]
        assert len(ids) == expected and len(set(ids)) == len(ids) and ids == sorted(ids), slots
        for s in slots:
            assert s["id"] == s["start_at"], s
            assert parse(s["end_at"]) - parse(s["start_at"]) == datetime.timedelta(minutes=30), s
        month = expect(cm(c, "GET", "/events/%s/calendar/%d/%d" % (ev["id"], year, day.month)), 200)
        assert month[day.day - 1]["stock"] == 3 * expected, month[day.day - 1]
        # every slot is reservable by its id, and holds its own seats
        for s in slots:
            r = expect(reserve(c, ev["id"], dict(body([{"uuid": regular["id"], "amount": 3}]), time_slot_id=s["id"])),
                       201)
            assert r["time_slot_id"] == s["id"], r
        assert all(s["status_id"] == "CLOSED" and s["stock"] == 0 for s in slots_of(c, ev, day))
    spring = last_sunday(year, 3)
    # 01:30 UTC on the spring day is 03:30 CEST, a slot; 02:00 local never happened, so no slot is at 00:00+01:00
    assert [s["id"][11:16] for s in slots_of(c, ev, spring)] == ["00:00", "00:30", "01:00", "01:30"]


def test_reservations_on_both_dst_days_hold_the_local_slot(c):
    ev, regular, _ = calendar_event(c, capacity=2)  # 10:00-12:00 local, 30-minute slots
    year = next_year()
    spring, autumn = last_sunday(year, 3), last_sunday(year, 10)
    cases = [
        (spring - datetime.timedelta(days=1), "09:00"),  # CET: 10:00 = 09:00 UTC
        (spring, "08:00"),                                # CEST: 10:00 = 08:00 UTC
        (autumn - datetime.timedelta(days=1), "08:00"),  # still CEST
        (autumn, "09:00"),                                # CET again
    ]
    b = body([{"uuid": regular["id"], "amount": 2}])
    for day, utc in cases:
        slot_id = "%sT%s:00+00:00" % (day.isoformat(), utc)
        assert slot_id == utc_iso(day, 10)
        r = expect(reserve(c, ev["id"], dict(b, time_slot_id=slot_id)), 201)
        cart = expect(c.admin("GET", "/carts/" + r["order_id"]), 200)
        assert cart["day"] == day.isoformat() and cart["start_time"] == 10 * 3600, (day, cart)
        after = slots_of(c, ev, day)
        assert after[0]["id"] == slot_id and after[0]["status_id"] == "CLOSED" and after[1]["stock"] == 2, after
    # the other offset's 10:00 is no slot: 09:00 UTC on the spring day is 11:00 CEST (a slot, free),
    # 07:00 UTC is 09:00 CEST (before opening)
    cm_error(reserve(c, ev["id"], dict(b, time_slot_id="%sT07:00:00+00:00" % spring.isoformat())), 400,
             "TIME_SLOT_INVALID", "time_slot_id")
    # 10:00 UTC on the autumn day is 11:00 CET: a slot of its own, free
    assert expect(reserve(c, ev["id"], dict(b, time_slot_id="%sT10:00:00+00:00" % autumn.isoformat())), 201)
    r = expect(reserve(c, ev["id"], dict(b, time_slot_id="%sT09:00:00+00:00" % spring.isoformat())), 201)
    assert expect(c.admin("GET", "/carts/" + r["order_id"]), 200)["start_time"] == 11 * 3600


# ---------- update atomicity ----------

def test_concurrent_updates_leave_one_whole_update(c):
    ev, product, _ = make_event(c, capacity=10)
    expect(c.admin("PATCH", "/products/" + product["id"], {"max_per_order": 10}), 200)
    made = expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 201)
    path = "/events/%s/reservations/%s" % (ev["id"], made["order_id"])

    def update(k):
        b = dict(body([{"uuid": product["id"], "amount": k}], first_name="N%d" % k), order_id=made["order_id"])
        return lambda: cm(c, "PUT", path, json_body=b)
    results = concurrently([update(k) for k in list(range(1, 11)) * 2])
    for r in results:
        assert r.status == 200 or (r.status, r.json["code"]) == (400, "SOLD_OUT"), r
    assert any(r.status == 200 for r in results)
    cart = expect(c.admin("GET", "/carts/" + made["order_id"]), 200)
    quantity = sum(line["quantity"] for line in cart["lines"])
    # contents and customer come from the same update, never a mix
    assert cart["customer"]["first_name"] == "N%d" % quantity, cart
    # and it holds exactly its seats: the rest can be reserved, not one more
    if quantity < 10:
        expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 10 - quantity}])), 201)
    cm_error(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 400, "SOLD_OUT", "ticket_types")


def test_a_refused_update_changes_nothing(c):
    ev, product, _ = make_event(c, capacity=6)
    d = expect(c.admin("POST", "/discounts", {"code": "ONE-" + tag(), "type": "fixed", "amount": 100,
                                              "max_redemptions": 1}), 201)
    other = expect(c.admin("POST", "/discounts", {"code": "TWO-" + tag(), "type": "fixed", "amount": 50,
                                                  "max_redemptions": 1}), 201)
    made = expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 2}], first_name="Ann"),
                          query={"code": other["code"]}), 201)
    expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}]), query={"code": d["code"]}), 201)
    path = "/events/%s/reservations/%s" % (ev["id"], made["order_id"])
    before = expect(c.admin("GET", "/carts/" + made["order_id"]), 200)

    def unchanged():
        now = expect(c.admin("GET", "/carts/" + made["order_id"]), 200)
        assert [(l["product_id"], l["quantity"]) for l in now["lines"]] == \
            [(l["product_id"], l["quantity"]) for l in before["lines"]], now
        assert now["customer"] == before["customer"] and now["extras"] == before["extras"], now
        assert now["expires_at"] == before["expires_at"], now
    new = dict(body([{"uuid": product["id"], "amount": 3}], first_name="Bob"), order_id=made["order_id"])
    # a used-up code: nothing of the update is applied, the old code stays
    cm_error(cm(c, "PUT", path, json_body=new, query={"code": d["code"]}), 400, "CODE_SOLD_OUT", "code")
    unchanged()
    # more seats than are left: likewise
    cm_error(cm(c, "PUT", path, json_body=dict(new, ticket_types=[{"uuid": product["id"], "amount": 6}])), 400,
             "SOLD_OUT", "ticket_types")
    unchanged()
    # bad customer data with new contents: likewise
    bad = dict(new)
    bad["customer_data"] = dict(new["customer_data"], email="not an email")
    cm_error(cm(c, "PUT", path, json_body=bad, query={"code": other["code"]}), 400, "CUSTOMER_DATA_INVALID",
             "customer_data.email")
    unchanged()
    # the seats it held are still its own: exactly 3 are free
    expect(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 3}])), 201)
    cm_error(reserve(c, ev["id"], body([{"uuid": product["id"], "amount": 1}])), 400, "SOLD_OUT", "ticket_types")


def test_an_update_racing_a_checkout_is_all_or_nothing(c, shop):
    for _ in range(4):
        r = shop.reserve(c, regular=1, cheap=0)
        path = "/events/%s/reservations/%s" % (shop.event["id"], r["order_id"])
        update = dict(body([{"uuid": shop.regular["id"], "amount": 2}]), order_id=r["order_id"])
        put, checkout = concurrently([lambda: shop.shop(c, "PUT", path, json_body=update),
                                      lambda: shop.checkout(c, r["order_id"])])
        assert checkout.status == 201, checkout
        order = expect(shop.admin(c, "GET", "/orders?number=" + checkout.json["order_id"]), 200)["data"][0]
        if put.status == 200:
            assert len(order["tickets"]) == 2, order  # the update came first and was booked whole
        else:
            assert put.status == 400 and put.json["code"] == "RESERVATION_COMPLETED", put
            assert len(order["tickets"]) == 1, order
