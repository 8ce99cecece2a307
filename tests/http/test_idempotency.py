"""Idempotency-Key on the creating POSTs of every dialect (src/api/idempotency.c).

A retry with the same key and the same request answers the first response
again, with the header Idempotent-Replayed: true, and creates nothing (counted
as capacity taken, orders listed or tickets issued, before and after); the
same key with another body gets 422 idempotency_key_reused; a key that is not
1-255 printable ASCII characters gets 400 in the dialect's error shape; keys
are per account; and eight clients sending one key at once create one object,
the others getting the replay or 409 idempotency_key_in_use.
"""
import datetime
import threading
import uuid

from harness import ADMIN_TOKEN, create_account, expect, admin_error

ADULT = "d0000000-0000-4000-8000-000000000005"
MUSEUM = "d0000000-0000-4000-8000-000000000003"
ACCOUNT = "/api/v1/accounts/demo"
CONCERT_OCC = "ev_oc_concert_main"
STANDARD = "tt_d0000000-0000-4000-8000-00000000000a"


def key():
    return "idem-" + uuid.uuid4().hex


def undated_product(c, token=ADMIN_TOKEN, capacity=100):
    pool = expect(c.admin("POST", "/pools", {"name": key(), "capacity": capacity, "per": "total"}, token=token), 201)
    product = expect(c.admin("POST", "/products", {"name": key(), "price": 700,
                                                  "pools": [{"pool_id": pool["id"], "amount": 1}]}, token=token), 201)
    return product["id"]


def available(c, product, token=ADMIN_TOKEN, day=None, time=None):
    q = {"product_id": product}
    if day:
        q.update({"from": day, "to": day})
    slots = expect(c.admin("GET", "/availability", query=q, token=token), 200)["data"]
    if time:
        slots = [s for s in slots if (s.get("start_time") or "").startswith(time[:5])]
    assert len(slots) == 1, slots
    return slots[0]["available"]


def replayed(first, again):
    assert again.status == first.status, (first, again)
    assert again.raw == first.raw, (first, again)
    assert again.header("Content-Type") == first.header("Content-Type"), (first.headers, again.headers)
    assert again.header("Location") == first.header("Location"), (first.headers, again.headers)
    assert again.header("Idempotent-Replayed") == "true", again.headers
    assert first.header("Idempotent-Replayed") is None, first.headers


def test_admin_cart_and_order_replay(c):
    product = undated_product(c)
    before = available(c, product)
    body = {"items": [{"product_id": product, "quantity": 2}]}
    k = key()
    first = c.admin("POST", "/carts", body, headers={"Idempotency-Key": k})
    cart = expect(first, 201)
    again = c.admin("POST", "/carts", body, headers={"Idempotency-Key": k})
    replayed(first, again)
    assert available(c, product) == before - 2  # one cart's hold, not two
    # the same key with another body: 422, and still nothing new
    other = c.admin("POST", "/carts", {"items": [{"product_id": product, "quantity": 3}]},
                    headers={"Idempotency-Key": k})
    admin_error(other, 422, "idempotency_key_reused")
    assert available(c, product) == before - 2
    # the order: the same key on another path is another request
    email = key() + "@example.com"
    order_body = {"cart_id": cart["id"], "customer": {"email": email}, "payment": {"provider": "cash"}}
    admin_error(c.admin("POST", "/orders", order_body, headers={"Idempotency-Key": k}), 422,
                "idempotency_key_reused")
    ko = key()
    first = c.admin("POST", "/orders", order_body, headers={"Idempotency-Key": ko})
    order = expect(first, 201)
    replayed(first, c.admin("POST", "/orders", order_body, headers={"Idempotency-Key": ko}))
    listed = expect(c.admin("GET", "/orders", query={"email": email}), 200)["data"]
    assert [o["id"] for o in listed] == [order["id"]], listed


def test_admin_error_replies_are_replayed_too(c):
    k = key()
    first = c.admin("POST", "/carts", {"items": []}, headers={"Idempotency-Key": k})
    assert first.status == 400, first
    replayed(first, c.admin("POST", "/carts", {"items": []}, headers={"Idempotency-Key": k}))


def test_without_a_key_nothing_changes(c):
    product = undated_product(c)
    before = available(c, product)
    body = {"items": [{"product_id": product, "quantity": 1}]}
    a = expect(c.admin("POST", "/carts", body), 201)
    b = expect(c.admin("POST", "/carts", body), 201)
    assert a["id"] != b["id"] and available(c, product) == before - 2
    # a GET ignores the header
    r = c.admin("GET", "/carts/" + a["id"], headers={"Idempotency-Key": "x y"})
    assert expect(r, 200)["id"] == a["id"] and r.header("Idempotent-Replayed") is None


def test_convious_cart_and_booking_replay(c):
    day = (datetime.date.today() + datetime.timedelta(days=23)).isoformat()
    before = available(c, ADULT, day=day, time="11:00")
    body = {"categoryId": MUSEUM, "eventDate": day, "startTime": "11:00:00",
            "items": [{"productId": ADULT, "amount": 1}]}
    k = key()
    first = c.convious("POST", ACCOUNT + "/carts/", body, headers={"Idempotency-Key": k})
    cart = expect(first, 200)
    replayed(first, c.convious("POST", ACCOUNT + "/carts/", body, headers={"Idempotency-Key": k}))
    assert available(c, ADULT, day=day, time="11:00") == before - 1
    reused = c.convious("POST", ACCOUNT + "/carts/", dict(body, startTime="12:00:00"), headers={"Idempotency-Key": k})
    assert reused.status == 422 and reused.json["error"] == "idempotency_key_reused", reused
    kb = key()
    booking = {"cartId": cart["id"], "customer": {"email": key() + "@example.com", "name": "Idem"}}
    first = c.convious("POST", ACCOUNT + "/bookings/", booking, headers={"Idempotency-Key": kb})
    expect(first, 200)
    replayed(first, c.convious("POST", ACCOUNT + "/bookings/", booking, headers={"Idempotency-Key": kb}))
    assert available(c, ADULT, day=day, time="11:00") == before - 1


def test_tickettailor_issue_replay(c):
    def left():
        ev = expect(c.tickettailor("GET", "/v1/events/" + CONCERT_OCC), 200)
        return next(t for t in ev["ticket_types"] if t["id"] == STANDARD)["quantity"]
    before = left()
    form = {"event_id": CONCERT_OCC, "ticket_type_id": STANDARD, "full_name": "Idem Potent",
            "email": "idem@example.com", "reference": key()}
    k = key()
    first = c.tickettailor("POST", "/v1/issued_tickets", form=form, headers={"Idempotency-Key": k})
    expect(first, 201)
    replayed(first, c.tickettailor("POST", "/v1/issued_tickets", form=form, headers={"Idempotency-Key": k}))
    assert left() == before - 1
    reused = c.tickettailor("POST", "/v1/issued_tickets", form=dict(form, full_name="Someone Else"),
                            headers={"Idempotency-Key": k})
    assert reused.status == 422 and reused.json["status"] == 422 and reused.json["message"], reused
    assert left() == before - 1


def test_bad_keys_get_400_in_each_dialect(c):
    for bad in ("a b", "x" * 256, "caf\u00e9", "tab\there"):
        h = {"Idempotency-Key": bad}
        admin_error(c.admin("POST", "/carts", {"items": []}, headers=h), 400, "invalid_idempotency_key")
        r = c.convious("POST", ACCOUNT + "/bookings/", {"cartId": "x"}, headers=h)
        assert r.status == 400 and r.json["error"] == "invalid_idempotency_key", r
        r = c.tickettailor("POST", "/v1/issued_tickets", form={"event_id": CONCERT_OCC}, headers=h)
        assert r.status == 400 and r.json["status"] == 400 and r.json["message"], r
    longest = "k" * 223 + uuid.uuid4().hex  # 255 characters: fine
    r = c.admin("POST", "/carts", {"items": []}, headers={"Idempotency-Key": longest})
    assert r.status == 400 and r.json["error"]["code"] != "invalid_idempotency_key", r


def test_keys_are_per_account(c):
    token = "adm_" + uuid.uuid4().hex
    create_account("idem-" + uuid.uuid4().hex[:10], "Idempotency B", "Europe/London", "GBP", token)
    mine, theirs = undated_product(c), undated_product(c, token=token)
    k = key()
    a = c.admin("POST", "/carts", {"items": [{"product_id": mine, "quantity": 1}]}, headers={"Idempotency-Key": k})
    b = c.admin("POST", "/carts", {"items": [{"product_id": theirs, "quantity": 1}]}, token=token,
                headers={"Idempotency-Key": k})
    assert expect(a, 201)["id"] != expect(b, 201)["id"]
    assert a.header("Idempotent-Replayed") is None and b.header("Idempotent-Replayed") is None
    assert available(c, theirs, token=token) == 99


def test_concurrent_twins_create_once(c):
    product = undated_product(c)
    before = available(c, product)
    body = {"items": [{"product_id": product, "quantity": 1}]}
    k = key()
    replies = [None] * 8
    start = threading.Barrier(8)

    def send(i):
        start.wait()
        replies[i] = c.admin("POST", "/carts", body, headers={"Idempotency-Key": k})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert available(c, product) == before - 1, replies
    created = [r for r in replies if r.status == 201]
    assert len({r.raw for r in created}) == 1, replies
    assert len([r for r in created if r.header("Idempotent-Replayed") is None]) == 1, replies
    for r in replies:
        if r.status != 201:
            admin_error(r, 409, "idempotency_key_in_use")
