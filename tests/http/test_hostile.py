"""Hostile input on every write endpoint and many read endpoints of every
dialect: malformed JSON, deep nesting, wrong types, huge and negative
numbers, NUL characters, long strings, junk query strings. The server
(built with ASan and UBSan in `make check`) must answer each with a status
below 500 and stay up."""
import json

from harness import expect

ADULT = "d0000000-0000-4000-8000-000000000005"

BODIES = [
    "{not json", "[]", "42", '"string"', "null", "{}",
    "[" * 3000 + "]" * 3000,
    json.dumps({"items": [{"productId": ADULT, "amount": 10 ** 30}]}),
    json.dumps({"items": [{"productId": ADULT, "amount": -(2 ** 63)}]}),
    json.dumps({"items": [{"productId": ADULT, "amount": 1.5e308}]}),
    json.dumps({"items": "nope", "categoryId": 7, "eventDate": ["x"], "startTime": {}}),
    json.dumps({"cartId": "\u0000" * 10, "customer": {"email": "a\u0000b@c"}}),
    json.dumps({"barcode": "x" * 100000}),
    json.dumps({"name": "\ud83c\udfab" * 500, "price": "12.50", "capacity": -1}),
    json.dumps({"status": ["cancelled"], "statusReason": {"a": 1}}),
    json.dumps({"url": "http://" + "a" * 5000, "events": [None, 1]}),
    json.dumps({"code": None, "name": 1, "type": "percentage", "price_percent": "1e9"}),
]

QUERIES = ["?include=%00", "?date_from=9999-99-99&date_to=-1", "?cursor=" + "A" * 5000, "?limit=-1",
           "?page_size=99999999999999999999", "?starting_after=or_%27%3B--", "?created_at.gt=1e99",
           "?email=%ff%fe", "?status=" + ",".join(["x"] * 50), "?barcode=&scanned_at=2023-02-30T00:00:00Z"]


def endpoints(c):
    slug = "demo"
    return [
        ("convious", "POST", "/oauth/token/"),
        ("convious", "POST", "/api/v1/accounts/%s/carts/" % slug),
        ("convious", "PATCH", "/api/v1/accounts/%s/carts/x/" % slug),
        ("convious", "POST", "/api/v1/accounts/%s/bookings/" % slug),
        ("convious", "POST", "/api/v1/orders/x/status/"),
        ("convious", "POST", "/api/v1/accounts/%s/availability/for_period/2030-01-01/2030-01-05/" % slug),
        ("convious", "POST", "/api/v1/accounts/%s/availability/2030-01-01/" % slug),
        ("convious", "POST", "/api/v1/accounts/%s/pricing/2030-01-01/" % slug),
        ("convious", "POST", "/api/v2/accounts/%s/barcode/scan/" % slug),
        ("admin", "POST", "/products"), ("admin", "POST", "/pools"), ("admin", "POST", "/events"),
        ("admin", "POST", "/schedules"), ("admin", "POST", "/carts"), ("admin", "POST", "/orders"),
        ("admin", "PATCH", "/account"), ("admin", "POST", "/webhooks"), ("admin", "POST", "/credentials"),
        ("admin", "PATCH", "/products/" + ADULT), ("admin", "POST", "/test/clock"),
        ("tickettailor", "POST", "/v1/issued_tickets"), ("tickettailor", "POST", "/v1/discounts"),
        ("tickettailor", "POST", "/v1/vouchers"), ("tickettailor", "POST", "/v1/discounts/di_x"),
    ]


READS = [
    ("convious", "/api/v1/orders/"), ("convious", "/api/v1/products/"), ("convious", "/api/v1/categories/"),
    ("convious", "/api/v1/products/%s/availability/" % ADULT), ("convious", "/api/v2/accounts/demo/barcode/scan/"),
    ("admin", "/orders"), ("admin", "/availability"), ("tickettailor", "/v1/orders"),
    ("tickettailor", "/v1/events"), ("tickettailor", "/v1/issued_tickets"), ("tickettailor", "/v1/discounts"),
    ("tickettailor", "/v1/vouchers"),
]


def call(c, dialect, method, path, **kw):
    if dialect == "admin":
        return c.admin(method, path, **kw)
    if dialect == "convious":
        return c.convious(method, path, **kw)
    return c.tickettailor(method, path, **kw)


def test_hostile_bodies(c):
    failures = []
    for dialect, method, path in endpoints(c):
        for body in BODIES:
            for ctype in ("application/json", "application/x-www-form-urlencoded"):
                r = call(c, dialect, method, path, raw=body, headers={"Content-Type": ctype})
                if r.status >= 500 or r.status < 200:
                    failures.append((dialect, method, path, body[:40], ctype, r.status))
    assert not failures, failures[:10]


def test_hostile_queries(c):
    failures = []
    for dialect, path in READS:
        for q in QUERIES:
            r = call(c, dialect, "GET", path + q)
            if r.status >= 500:
                failures.append((dialect, path, q[:40], r.status))
    assert not failures, failures[:10]


def test_hostile_paths_and_headers(c):
    for path in ("/convious/api/v1/orders/%ff%fe/", "/tickettailor/v1/orders/or_%c3%28",
                 "/admin/v1/orders/%ed%a0%80", "/convious/api/v1/orders/%2e%2e%2f/", "/admin/v1/products/" + "x" * 3000,
                 "/tickettailor/v1/orders/or_" + "%00" * 10, "/admin/v1/../v1/products", "//", "/%ff"):
        r = c.request("GET", path, headers={"Authorization": "Bearer demo-admin-token"})
        assert r.status < 500, (path, r)
    for path in ("/convious/api/v1/orders/%ff%fe/", "/convious/api/v1/accounts/demo/carts/%c3%28/"):
        assert c.convious("GET", path[len("/convious"):]).status == 404
    assert c.tickettailor("GET", "/v1/orders/or_%c3%28").status == 404
    for auth in ("Bearer", "Basic", "Basic " + "A" * 3000, "Bearer " + "x" * 5000, "\u00e9"):
        r = c.request("GET", "/tickettailor/v1/ping", headers={"Authorization": auth})
        assert r.status == 401, (auth[:20], r)
    # still serving
    expect(c.request("GET", "/healthz"), 200)
