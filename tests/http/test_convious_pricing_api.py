"""The Convious pricing API under /convious-pricing (docs/dialects/convious-pricing.md):
its OAuth token endpoint (the same clients and tokens as /convious), the
Accept-Version header, inventory events (the documented example, each
validation path with the event's index and field, batch atomicity, retries,
another account's references), browser analytics events (every kind, CORS and
the preflight, validation, product resolution, the sales history of inventory
references, rate limits per cookie and per network, retention with the test
clock) and hostile input. The database is read directly to see what was kept."""
import glob
import http.client
import json
import os
import random
import shutil
import tempfile
import time
import uuid
import zlib

import pytest

from harness import (DB_KIND, OAUTH_CLIENT, Client, Response, Skip, create_account, db_rows, expect, serve, server_pid,
                     unique)

EVENTS = "/convious-pricing/events"
DEMO = "(SELECT id FROM accounts WHERE slug = 'demo')"
DEMO_PRODUCT = "d0000000-0000-4000-8000-000000000005"


def cp_token(c, client=OAUTH_CLIENT):
    r = c.request("POST", "/convious-pricing/oauth/token/", form={
        "grant_type": "client_credentials", "client_id": client[0], "client_secret": client[1]})
    body = expect(r, 200)
    assert body["token_type"] == "Bearer" and body["access_token"], body
    return body["access_token"]


def post(c, events=None, token=None, version="1.0.0", raw=None, headers=None):
    h = dict(headers or {})
    if version is not None:
        h["Accept-Version"] = version
    if token:
        h["Authorization"] = "Bearer " + token
    if raw is not None:
        return c.request("POST", EVENTS, raw=raw, headers=h)
    return c.request("POST", EVENTS, json_body=events, headers=h)


def cp_error(resp, status, code, field=None, index=None):
    """A Convious-shaped error: {"error", "message", "field"?, "index"?}."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    body = resp.json
    assert body["error"] == code and body["message"], resp
    if field is not None:
        assert body.get("field") == field, resp
    if index is not None:
        assert body.get("index") == index, resp
    return body


def created(ref, availability=3, pricing=None, name="Product"):
    return {"type": "ProductCreated", "payload": {
        "productReference": ref, "name": name, "availability": availability,
        "pricing": pricing or {"minAcceptedPrice": "12.50", "maxAcceptedPrice": "18.00",
                               "averageTargetPrice": "16.50", "boxOfficePrice": "19.99"}}}


def ref_row(ref, account=DEMO):
    rows = db_rows("SELECT name, availability, min_price, max_price, step, gate_price, average_target, removed"
                   " FROM inventory_refs WHERE account_id = %s AND reference = '%s'" % (account, ref))
    return tuple(None if v in (None, "") else int(v) if str(v).lstrip("-").isdigit() else v
                 for v in rows[0]) if rows else None


@pytest.fixture(scope="module")
def token():
    return cp_token(Client())


def ok_empty(resp):
    assert resp.status == 200 and resp.raw == "", resp


# ---------- OAuth, versions, bearer ----------

def test_token_from_either_prefix_works_on_both(c):
    mine = cp_token(c)
    theirs = c.convious_token()
    for tok in (mine, theirs):
        ok_empty(post(c, [created(unique("tok"))], token=tok))
        expect(c.convious("GET", "/api/v1/products/", token=tok), 200)
    # the token endpoint needs no Accept-Version and answers RFC 6749 errors
    r = c.request("POST", "/convious-pricing/oauth/token/", form={
        "grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "wrong"})
    assert r.status == 401 and r.json["error"] == "invalid_client", r


@pytest.mark.parametrize("version,ok", [("1.0.0", True), ("1.0.7", True), ("1.0.123", True), (None, False),
                                        ("", False), ("2.0.0", False), ("1.1.0", False), ("1.0", False),
                                        ("1.0.x", False), ("1.0.0 ", False), ("v1.0.0", False)])
def test_accept_version(c, token, version, ok):
    for tok in (token, None):  # inventory and analytics alike
        batch = [created(unique("ver"))] if tok else [page_view(unique("cookie"))]
        r = post(c, batch, token=tok, version=version)
        if ok:
            ok_empty(r)
            continue
        body = cp_error(r, 400, "missing_version" if version is None else "unsupported_version", "Accept-Version")
        assert body["supported_versions"] == ["1.0.0"] and "1.0.0" in body["message"], body


def test_bad_bearer_is_401_and_inventory_needs_one(c, token):
    cp_error(post(c, [created(unique("bad"))], token="at_" + "0" * 64), 401, "authentication_failed")
    cp_error(post(c, [created(unique("bad"))], headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401,
             "not_authenticated")
    cp_error(post(c, [created(unique("bad"))]), 401, "not_authenticated")
    # a bad bearer is refused on analytics too: given, it must be valid
    cp_error(post(c, [page_view("c")], token="at_" + "1" * 64), 401, "authentication_failed")


def test_unknown_route_and_method_in_convious_shape(c):
    r = c.request("GET", "/convious-pricing/nothing", headers={"Accept-Version": "1.0.0"})
    cp_error(r, 404, "not_found")
    r = c.request("GET", EVENTS, headers={"Accept-Version": "1.0.0"})
    assert r.status == 405 and "POST" in (r.header("Allow") or ""), r


# ---------- inventory events ----------

def test_documented_example(c, token):
    ref = unique("doc")
    example = [created(ref), {"type": "ProductRemoved", "payload": {"productReference": ref}}]
    ok_empty(post(c, example, token=token))
    assert ref_row(ref) == ("Product", 3, 1250, 1800, 1, 1999, 1650, 1)
    # created again, it is back (and a retried batch gives the same result)
    ok_empty(post(c, [created(ref, availability=None)], token=token))
    assert ref_row(ref) == ("Product", None, 1250, 1800, 1, 1999, 1650, 0)
    ok_empty(post(c, example, token=token))
    ok_empty(post(c, example, token=token))
    assert ref_row(ref)[7] == 1


def test_pricing_changed_and_availability(c, token):
    ref = unique("avail")
    ok_empty(post(c, [created(ref, availability=10)], token=token))
    ok_empty(post(c, [
        {"type": "ProductPricingChanged", "payload": {"productReference": ref, "pricing": {
            "minAcceptedPrice": None, "maxAcceptedPrice": 20, "averageTargetPrice": None}}},
        {"type": "ProductAvailabilityChanged", "payload": {"productReference": ref, "eventdate": "2018-03-03",
                                                            "startTime": "10:00:00", "availability": 4}},
        {"type": "ProductAvailabilityChanged", "payload": {"productReference": ref, "eventDate": "2018-03-03",
                                                            "startTime": None, "availability": 0}},
        {"type": "ProductAvailabilityChanged", "payload": {"productReference": ref, "eventDate": "2018-03-04",
                                                            "availability": 7}},
        {"type": "ProductAvailabilityChanged", "payload": {"productReference": ref, "eventDate": "2018-03-03",
                                                            "startTime": "10:00:00", "availability": 2}},
    ], token=token))
    # no minimum: one price step; no box-office price: the maximum; no target: 0
    assert ref_row(ref) == ("Product", 10, 1, 2000, 1, 2000, 0, 0)
    rows = db_rows("SELECT day, start_time, seats_left FROM inventory_ref_seats WHERE account_id = %s AND"
                   " reference = '%s' ORDER BY day, start_time" % (DEMO, ref))
    day = 17593  # 2018-03-03
    assert [tuple(int(v) for v in row) for row in rows] == [(day, -1, 0), (day, 36000, 2), (day + 1, -1, 7)], rows


def test_grid_step_is_coarsened_for_wide_ranges(c, token):
    ref = unique("wide")
    ok_empty(post(c, [created(ref, pricing={"maxAcceptedPrice": "100000.00"})], token=token))
    name, _, low, high, step, gate, target, _ = ref_row(ref)
    assert (low, high, step, gate, target) == (1000, 10000000, 1000, 10000000, 0)
    ok_empty(post(c, [created(ref, pricing={"minAcceptedPrice": "0.00", "maxAcceptedPrice": "0.01"})], token=token))
    assert ref_row(ref)[2:5] == (1, 1, 1)


BAD_INVENTORY = [
    ("not an object", "nope", "invalid_event", "type"),
    ("no type", {"payload": {}}, "missing_field", "type"),
    ("unknown type", {"type": "ProductExploded", "payload": {}}, "invalid_event_type", "type"),
    ("type not a string", {"type": 7, "payload": {}}, "invalid_event_type", "type"),
    ("no payload", {"type": "ProductRemoved"}, "missing_field", "payload"),
    ("payload not an object", {"type": "ProductRemoved", "payload": []}, "invalid_field", "payload"),
    ("no reference", {"type": "ProductRemoved", "payload": {}}, "missing_field", "payload.productReference"),
    ("empty reference", {"type": "ProductRemoved", "payload": {"productReference": ""}}, "invalid_field",
     "payload.productReference"),
    ("long reference", {"type": "ProductRemoved", "payload": {"productReference": "x" * 129}}, "invalid_field",
     "payload.productReference"),
    ("reference a number", {"type": "ProductRemoved", "payload": {"productReference": 5}}, "invalid_field",
     "payload.productReference"),
    ("no name", {"type": "ProductCreated", "payload": {"productReference": "r", "pricing": {
        "maxAcceptedPrice": "1.00"}}}, "missing_field", "payload.name"),
    ("negative availability", created("r", availability=-1), "invalid_field", "payload.availability"),
    ("fractional availability", created("r", availability=1.5), "invalid_field", "payload.availability"),
    ("string availability", created("r", availability="3"), "invalid_field", "payload.availability"),
    ("no pricing", {"type": "ProductCreated", "payload": {"productReference": "r", "name": "n"}}, "missing_field",
     "payload.pricing"),
    ("pricing not an object", {"type": "ProductPricingChanged", "payload": {"productReference": "r", "pricing": "1"}},
     "invalid_field", "payload.pricing"),
    ("no maximum", created("r", pricing={"minAcceptedPrice": "1.00"}), "missing_field",
     "payload.pricing.maxAcceptedPrice"),
    ("three places", created("r", pricing={"maxAcceptedPrice": "12.505"}), "invalid_price",
     "payload.pricing.maxAcceptedPrice"),
    ("three places as a number", created("r", pricing={"maxAcceptedPrice": 12.505}), "invalid_price",
     "payload.pricing.maxAcceptedPrice"),
    ("negative", created("r", pricing={"maxAcceptedPrice": "-1.00"}), "invalid_price",
     "payload.pricing.maxAcceptedPrice"),
    ("exponent", created("r", pricing={"maxAcceptedPrice": "1e3"}), "invalid_price",
     "payload.pricing.maxAcceptedPrice"),
    ("garbage", created("r", pricing={"maxAcceptedPrice": "twelve"}), "invalid_price",
     "payload.pricing.maxAcceptedPrice"),
    ("huge", created("r", pricing={"maxAcceptedPrice": "99999999999999999999"}), "invalid_price",
     "payload.pricing.maxAcceptedPrice"),
    ("zero maximum", created("r", pricing={"maxAcceptedPrice": "0"}), "invalid_price",
     "payload.pricing.maxAcceptedPrice"),
    ("min over max", created("r", pricing={"minAcceptedPrice": "20.00", "maxAcceptedPrice": "18.00"}),
     "invalid_price", "payload.pricing.minAcceptedPrice"),
    ("target over max", created("r", pricing={"maxAcceptedPrice": "18.00", "averageTargetPrice": "18.01"}),
     "invalid_price", "payload.pricing.averageTargetPrice"),
    ("target under min", created("r", pricing={"minAcceptedPrice": "12.50", "maxAcceptedPrice": "18.00",
                                               "averageTargetPrice": "12.49"}),
     "invalid_price", "payload.pricing.averageTargetPrice"),
    ("zero box office", created("r", pricing={"maxAcceptedPrice": "18.00", "boxOfficePrice": "0.00"}),
     "invalid_price", "payload.pricing.boxOfficePrice"),
    ("box office a bool", created("r", pricing={"maxAcceptedPrice": "18.00", "boxOfficePrice": True}),
     "invalid_price", "payload.pricing.boxOfficePrice"),
    ("no date", {"type": "ProductAvailabilityChanged", "payload": {"productReference": "r", "availability": 1}},
     "missing_field", "payload.eventDate"),
    ("bad date", {"type": "ProductAvailabilityChanged", "payload": {"productReference": "r", "eventDate": "2018-02-30",
                                                                     "availability": 1}},
     "invalid_date", "payload.eventDate"),
    ("bad lowercase date", {"type": "ProductAvailabilityChanged", "payload": {
        "productReference": "r", "eventdate": "03/03/2018", "availability": 1}}, "invalid_date", "payload.eventdate"),
    ("bad time", {"type": "ProductAvailabilityChanged", "payload": {"productReference": "r", "eventDate": "2018-03-03",
                                                                     "startTime": "25:00:00", "availability": 1}},
     "invalid_time", "payload.startTime"),
    ("no seats", {"type": "ProductAvailabilityChanged", "payload": {"productReference": "r",
                                                                     "eventDate": "2018-03-03"}},
     "missing_field", "payload.availability"),
    ("null seats", {"type": "ProductAvailabilityChanged", "payload": {"productReference": "r",
                                                                       "eventDate": "2018-03-03",
                                                                       "availability": None}},
     "missing_field", "payload.availability"),
]


@pytest.mark.parametrize("why,event,code,field", BAD_INVENTORY, ids=[b[0] for b in BAD_INVENTORY])
def test_inventory_validation_names_index_and_field(c, token, why, event, code, field):
    first = unique("valid")
    r = post(c, [created(first), created(unique("valid")), event], token=token)
    cp_error(r, 400, code, "[2].%s" % field, 2)
    assert ref_row(first) is None, "nothing of a refused batch is applied"


def test_batch_atomicity_on_an_unknown_reference(c, token):
    a, b = unique("atom"), unique("atom")
    r = post(c, [created(a), created(b), {"type": "ProductPricingChanged", "payload": {
        "productReference": unique("never"), "pricing": {"maxAcceptedPrice": "5.00"}}}], token=token)
    cp_error(r, 400, "unknown_product", "[2].payload.productReference", 2)
    assert ref_row(a) is None and ref_row(b) is None
    # a reference created earlier in the same batch is known to the events after it
    ok_empty(post(c, [created(a), {"type": "ProductAvailabilityChanged", "payload": {
        "productReference": a, "eventDate": "2030-01-01", "availability": 1}}], token=token))
    for kind in ("ProductRemoved", "ProductAvailabilityChanged"):
        event = {"type": kind, "payload": {"productReference": unique("never"), "eventDate": "2030-01-01",
                                           "availability": 1}}
        cp_error(post(c, [event], token=token), 400, "unknown_product", "[0].payload.productReference", 0)


@pytest.mark.parametrize("body,code", [
    ("[]", "empty_batch"), ("{}", "invalid_json"), ("nope", "invalid_json"), ("", "invalid_json"),
    ('[{"type":"ProductRemoved","payload":{"productReference":"a\\u0000b"}}]', "invalid_json"),
    ("[" + ",".join(['{"type":"ProductRemoved","payload":{"productReference":"x"}}'] * 1001) + "]",
     "too_many_events"),
])
def test_batch_shape(c, token, body, code):
    cp_error(post(c, raw=body, token=token), 400, code)


def test_a_full_batch_of_1000_is_one_transaction(c, token):
    refs = [unique("k") for _ in range(1000)]
    ok_empty(post(c, [created(ref) for ref in refs], token=token))
    count = db_rows("SELECT COUNT(*) FROM inventory_refs WHERE account_id = %s AND reference IN (%s)" % (
        DEMO, ",".join("'%s'" % r for r in refs)))
    assert int(count[0][0]) == 1000


def test_mixed_batch_is_refused(c, token):
    r = post(c, [created(unique("mix")), page_view("c")], token=token)
    cp_error(r, 400, "mixed_batch", "[1].type", 1)


def test_references_never_alias_products_and_hostile_text(c, token):
    # a reference spelled like a Boxoffice product id is the caller's own
    before = expect(c.convious("GET", "/api/v1/products/%s/" % DEMO_PRODUCT), 200)
    ok_empty(post(c, [created(DEMO_PRODUCT, pricing={"maxAcceptedPrice": "1.00"})], token=token))
    assert expect(c.convious("GET", "/api/v1/products/%s/" % DEMO_PRODUCT), 200) == before
    # removed again, analytics naming that id find the Boxoffice product (an active reference comes first)
    ok_empty(post(c, [{"type": "ProductRemoved", "payload": {"productReference": DEMO_PRODUCT}}], token=token))
    cookie = unique("alias")
    ok_empty(post(c, [analytics("UserViewedPrices", cookie, productId=DEMO_PRODUCT)]))
    assert tuple(events_of(cookie)[0][2:4]) == ("product", DEMO_PRODUCT)
    odd = "'; DROP TABLE inventory_refs; -- ü🎟"
    ok_empty(post(c, [created(odd, name="名前 <script>")], token=token))
    rows = db_rows("SELECT name FROM inventory_refs WHERE account_id = %s AND reference = '%s'" % (
        DEMO, odd.replace("'", "''")))
    assert rows and rows[0][0] == "名前 <script>", rows


# ---------- analytics ----------

def page_view(cookie, account="demo", **extra):
    payload = {"accountId": account, "cookieId": cookie, "time": "2026-01-01T10:00:00Z",
               "refererUrl": "https://example.com/", "currentUrl": "https://shop.example.com/tickets"}
    payload.update(extra)
    return {"type": "PageViewed", "payload": payload}


def analytics(kind, cookie, account="demo", **payload):
    payload.update({"accountId": account, "cookieId": cookie, "time": payload.get("time", 1767261600000)})
    return {"type": kind, "payload": payload}


def flush(client=None):
    """Writes the server's queued analytics now (they are written within about 200 ms anyway): the test hook
    POST /admin/v1/test/analytics-flush of --test-clock servers, so the database can be read right after."""
    client = client or Client(os.environ["BOXOFFICE_URL"])
    r = client.admin("POST", "/test/analytics-flush", {})
    if r.status == 404:
        raise Skip("the server does not run with --test-clock: queued analytics cannot be flushed")
    return expect(r, 200)["written"]


RAW_COLUMNS = ("account_id", "kind", "cookie_id", "ip_prefix", "product_kind", "product_key", "order_id", "detail")


def gzip_lines(path):
    """The lines of a file of gzip members; a member still being appended (another server) is left out."""
    data, lines = open(path, "rb").read(), []
    while data:
        member = zlib.decompressobj(31)
        try:
            text = member.decompress(data)
        except zlib.error:
            break
        if not member.eof:
            break
        lines += text.decode().splitlines()
        data = member.unused_data
    return lines


def raw_events(cookie=None, ip_net=None):
    """The raw events stored for a cookie (or from the /24 ip_net), in order, as dicts: on SQLite from the server's
    log beside the database (store/analytics_log.c: <db>-analytics-events/YYYY-MM-DD.ndjson.gz, JSON lines), on
    PostgreSQL from the analytics_events table (its default)."""
    db = os.environ.get("BOXOFFICE_TEST_DB")
    if not db:
        raise Skip("BOXOFFICE_TEST_DB is not set: the stored events cannot be read")
    if db.startswith("sqlite:"):
        events = []
        for path in sorted(glob.glob(db[len("sqlite:"):] + "-analytics-events/*.ndjson.gz")):
            events += [json.loads(line) for line in gzip_lines(path)]
    else:
        where = "cookie_id = '%s'" % cookie if cookie else "ip_prefix LIKE '%s.%%'" % ip_net
        rows = db_rows("SELECT %s FROM analytics_events WHERE %s ORDER BY id" % (", ".join(RAW_COLUMNS), where))
        events = [dict(zip(RAW_COLUMNS, row), detail=json.loads(row[-1])) for row in rows]
    return [ev for ev in events if (cookie is None or ev["cookie_id"] == cookie) and
            (ip_net is None or ev["ip_prefix"].startswith(ip_net + "."))]


def events_of(cookie, client=None):
    flush(client)
    return [(ev["kind"], ev["ip_prefix"], ev["product_kind"], ev["product_key"], ev["order_id"] or "")
            for ev in raw_events(cookie)]


def test_every_analytics_event_is_stored_and_counted(c):
    cookie = unique("cookie")
    ref = unique("sold")
    ok_empty(post(c, [created(ref)], token=cp_token(c)))
    batch = [
        page_view(cookie),
        analytics("UserEnteredCheckout", cookie),
        analytics("UserSelectedDate", cookie, eventDate="2026-05-01", productId=ref),
        analytics("UserViewedProducts", cookie),
        analytics("UserViewedPrices", cookie, productId=DEMO_PRODUCT),
        analytics("UserAddedItemToCart", cookie, productId="no-such-product"),
        analytics("OrderCreated", cookie, orderId="o-" + cookie, items=[
            {"productId": ref, "amount": 2, "price": 12.99, "eventDate": "2018-05-01", "location": "Almere"},
            {"productId": DEMO_PRODUCT, "amount": 1, "price": "11.99"},
            {"productId": ref, "amount": 1, "price": 11, "eventDate": "2018-05-01T00:00:00.000+02:00"}]),
        analytics("Transaction", cookie, orderId="o-" + cookie, totalAmount=48.97),
    ]
    r = post(c, batch)
    ok_empty(r)
    assert r.header("Access-Control-Allow-Origin") == "*", r.headers
    rows = events_of(cookie)
    kinds = [row[0] for row in rows]
    assert kinds == ["PageViewed", "UserEnteredCheckout", "UserSelectedDate", "UserViewedProducts",
                     "UserViewedPrices", "UserAddedItemToCart", "OrderCreated", "Transaction"], rows
    # never a full address: the /24 (or /48) of the client
    assert all(row[1] == "127.0.0.0/24" for row in rows), rows
    assert tuple(rows[2][2:4]) == ("reference", ref)
    assert tuple(rows[4][2:4]) == ("product", DEMO_PRODUCT)
    assert tuple(rows[5][2:4]) == ("", "")
    assert rows[6][4] == "o-" + cookie and rows[7][4] == "o-" + cookie
    sales = db_rows("SELECT line, quantity, unit_price, event_day FROM inventory_ref_sales WHERE account_id = %s"
                    " AND reference = '%s' ORDER BY line" % (DEMO, ref))
    assert [tuple(int(v) for v in s) for s in sales] == [(0, 2, 1299, 17652), (2, 1, 1100, 17652)], sales
    # a retried event (the library retries) does not sell twice
    ok_empty(post(c, [batch[6]]))
    flush(c)
    again = db_rows("SELECT COUNT(*) FROM inventory_ref_sales WHERE account_id = %s AND reference = '%s'" % (DEMO, ref))
    assert int(again[0][0]) == 2
    counters = db_rows("SELECT kind, product_key, count FROM analytics_daily WHERE account_id = %s AND"
                       " product_key = '%s'" % (DEMO, ref))
    assert [(k, p) for k, p, _ in counters] == [("UserSelectedDate", ref)], counters
    views = [ev for ev in raw_events(cookie) if ev["kind"] == "PageViewed"]
    assert views[0]["detail"]["currentUrl"] == "https://shop.example.com/tickets", views


def test_analytics_fields_beside_the_type_and_account_by_id(c):
    cookie = unique("cookie")
    account_id = db_rows("SELECT id FROM accounts WHERE slug = 'demo'")[0][0]
    ok_empty(post(c, [{"type": "UserViewedProducts", "accountId": account_id, "cookieId": cookie,
                       "time": "2026-01-01T10:00:00+01:00"}]))
    assert [row[0] for row in events_of(cookie)] == ["UserViewedProducts"]


def test_analytics_hostile_input(c, token):
    cookie = unique("hostile")
    # a valid bearer changes nothing for analytics: they are scoped by accountId
    ok_empty(post(c, [page_view(cookie, currentUrl="https://x/?q=<script>'\"\u00e9")], token=token))
    assert len(events_of(cookie)) == 1
    deep = {"type": "PageViewed", "payload": {"accountId": "demo", "cookieId": cookie, "time": 1, "extra": []}}
    node = deep["payload"]["extra"]
    for _ in range(500):
        node.append([])
        node = node[0]
    r = post(c, [deep])
    assert r.status in (200, 400), r  # never a crash: jansson refuses nesting past its limit
    assert len(events_of(cookie)) <= 2


def test_preflight(c):
    r = c.request("OPTIONS", EVENTS, headers={"Origin": "https://shop.example.com",
                                              "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type,accept-version"})
    assert r.status == 204, r
    assert r.header("Access-Control-Allow-Origin") == "*"
    allowed = (r.header("Access-Control-Allow-Headers") or "").lower()
    assert "content-type" in allowed and "accept-version" in allowed, r.headers
    assert "POST" in (r.header("Access-Control-Allow-Methods") or "")
    # errors carry the CORS headers too, or the page could not read them
    r = post(c, [page_view("c")], version=None)
    assert r.status == 400 and r.header("Access-Control-Allow-Origin") == "*", r


BAD_ANALYTICS = [
    ("no account", {"type": "PageViewed", "payload": {"cookieId": "c", "time": 1}}, "missing_field",
     "payload.accountId"),
    ("unknown account", page_view("c", account="no-such-account"), "unknown_account", "payload.accountId"),
    ("account not a string", page_view("c", account=5), "invalid_field", "payload.accountId"),
    ("no cookie", {"type": "PageViewed", "payload": {"accountId": "demo", "time": 1}}, "missing_field",
     "payload.cookieId"),
    ("empty cookie", page_view(""), "invalid_field", "payload.cookieId"),
    ("long cookie", page_view("c" * 129), "invalid_field", "payload.cookieId"),
    ("no time", {"type": "PageViewed", "payload": {"accountId": "demo", "cookieId": "c"}}, "missing_field",
     "payload.time"),
    ("bad time", page_view("c", time="yesterday"), "invalid_time", "payload.time"),
    ("negative time", page_view("c", time=-5), "invalid_time", "payload.time"),
    ("fractional time", page_view("c", time=1.5), "invalid_time", "payload.time"),
    ("url too long", page_view("c", currentUrl="https://x/" + "a" * 2048), "invalid_field", "payload.currentUrl"),
    ("url a number", page_view("c", refererUrl=5), "invalid_field", "payload.refererUrl"),
    ("payload a list", {"type": "PageViewed", "payload": [1]}, "invalid_field", "payload"),
    ("bad selected date", analytics("UserSelectedDate", "c", eventDate="01-05-2018"), "invalid_date",
     "payload.eventDate"),
    ("product a number", analytics("UserViewedPrices", "c", productId=7), "invalid_field", "payload.productId"),
    ("order without id", analytics("OrderCreated", "c", items=[{"productId": "p", "amount": 1, "price": 1}]),
     "missing_field", "payload.orderId"),
    ("order without items", analytics("OrderCreated", "c", orderId="o"), "missing_field", "payload.items"),
    ("order with no items", analytics("OrderCreated", "c", orderId="o", items=[]), "invalid_field", "payload.items"),
    ("item not an object", analytics("OrderCreated", "c", orderId="o", items=[1]), "invalid_field",
     "payload.items[0]"),
    ("item without product", analytics("OrderCreated", "c", orderId="o", items=[{"amount": 1, "price": 1}]),
     "missing_field", "payload.items[0].productId"),
    ("item amount zero", analytics("OrderCreated", "c", orderId="o", items=[
        {"productId": "p", "amount": 1, "price": 1}, {"productId": "p", "amount": 0, "price": 1}]),
     "invalid_field", "payload.items[1].amount"),
    ("item amount fractional", analytics("OrderCreated", "c", orderId="o", items=[
        {"productId": "p", "amount": 1.5, "price": 1}]), "invalid_field", "payload.items[0].amount"),
    ("item without price", analytics("OrderCreated", "c", orderId="o", items=[{"productId": "p", "amount": 1}]),
     "missing_field", "payload.items[0].price"),
    ("item negative price", analytics("OrderCreated", "c", orderId="o", items=[
        {"productId": "p", "amount": 1, "price": -1}]), "invalid_price", "payload.items[0].price"),
    ("item bad date", analytics("OrderCreated", "c", orderId="o", items=[
        {"productId": "p", "amount": 1, "price": 1, "eventDate": "2018-13-01"}]), "invalid_date",
     "payload.items[0].eventDate"),
    ("101 items", analytics("OrderCreated", "c", orderId="o", items=[{"productId": "p", "amount": 1, "price": 1}] * 101),
     "invalid_field", "payload.items"),
    ("items an object", analytics("OrderCreated", "c", orderId="o", items={"productId": "p"}), "invalid_field",
     "payload.items"),
    ("location too long", analytics("OrderCreated", "c", orderId="o", items=[
        {"productId": "p", "amount": 1, "price": 1, "location": "L" * 201}]), "invalid_field",
     "payload.items[0].location"),
    ("long order id", analytics("OrderCreated", "c", orderId="o" * 129, items=[
        {"productId": "p", "amount": 1, "price": 1}]), "invalid_field", "payload.orderId"),
    ("transaction without total", analytics("Transaction", "c", orderId="o"), "missing_field",
     "payload.totalAmount"),
    ("transaction bad total", analytics("Transaction", "c", orderId="o", totalAmount="1.001"), "invalid_price",
     "payload.totalAmount"),
]


@pytest.mark.parametrize("why,event,code,field", BAD_ANALYTICS, ids=[b[0] for b in BAD_ANALYTICS])
def test_analytics_validation_names_index_and_field(c, why, event, code, field):
    cookie = unique("valid")
    r = post(c, [page_view(cookie), event])
    cp_error(r, 400, code, "[1].%s" % field, 1)
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert events_of(cookie) == [], "nothing of a refused batch is stored"


def test_rate_limit_per_cookie(c):
    cookie, other = unique("busy"), unique("calm")
    ok_empty(post(c, [page_view(cookie)] * 600))
    r = post(c, [page_view(cookie)])
    cp_error(r, 429, "rate_limited")
    assert r.header("Retry-After") == "60" and r.header("Access-Control-Allow-Origin") == "*", r.headers
    assert len(events_of(cookie)) == 600
    # a batch counts whole: one over the limit stores none of it
    r = post(c, [page_view(other), page_view(cookie)])
    assert r.status == 429 and events_of(other) == [], r
    ok_empty(post(c, [page_view(other)]))


def second_server(*flags):
    binary, db, key = (os.environ.get(k) for k in ("BOXOFFICE_BIN", "BOXOFFICE_TEST_DB", "BOXOFFICE_KEY_FILE"))
    if not (binary and db and key):
        raise Skip("needs BOXOFFICE_BIN, BOXOFFICE_TEST_DB and BOXOFFICE_KEY_FILE for a second server")
    return serve(binary, db, "--key-file", key, "--test-clock", *flags)


def post_from(url, source, events):
    """POST /events from the local address source (any 127.x.y.z reaches the server)."""
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", EVENTS, json.dumps(events), {"Content-Type": "application/json",
                                                          "Accept-Version": "1.0.0"})
        resp = conn.getresponse()
        raw = resp.read().decode()
        return Response(resp.status, dict(resp.getheaders()), raw)
    finally:
        conn.close()


def test_rate_limit_per_network(c):
    proc, url = second_server("--analytics-per-ip", "5", "--reaper-ms", "0")
    try:
        # a /24 of its own: the counts are shared by every server on the database
        net = "127.%d.%d" % (random.randrange(1, 255), random.randrange(1, 255))
        ok_empty(post_from(url, net + ".1", [page_view(unique("a")) for _ in range(3)]))
        ok_empty(post_from(url, net + ".2", [page_view(unique("b")) for _ in range(2)]))
        cookie = unique("c")
        cp_error(post_from(url, net + ".3", [page_view(cookie)]), 429, "rate_limited")
        assert events_of(cookie, Client(url)) == []
        prefixes = {ev["ip_prefix"] for ev in raw_events(ip_net=net)}
        assert prefixes == {net + ".0/24"}, prefixes
        # another network is not held back
        ok_empty(post_from(url, "127.%d.0.1" % ((int(net.split(".")[1]) % 254) + 1), [page_view(cookie)]))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_network_limit_counts_every_server(c):
    """Accepted batches are queued and written later, but the limit is the database's count (what every server
    wrote) plus the server's own queue: a second server sees what the first one took."""
    # both servers on the real clock (the suite's server may have a test clock moved by other tests, and the
    # counts are per minute of the clock), and not at the end of a minute: both posts count in the same one
    first, first_url = second_server("--reaper-ms", "0")
    proc, url = second_server("--analytics-per-ip", "5", "--reaper-ms", "0")
    try:
        while time.time() % 60 > 50:
            time.sleep(0.5)
        net = "127.%d.%d" % (random.randrange(1, 255), random.randrange(1, 255))
        ok_empty(post_from(first_url, net + ".1", [page_view(unique("a")) for _ in range(4)]))
        flush(Client(first_url))
        cp_error(post_from(url, net + ".2", [page_view(unique("b")) for _ in range(2)]), 429, "rate_limited")
        # its own queue counts before it is written
        other_net = "127.%d.%d" % ((int(net.split(".")[1]) % 254) + 1, random.randrange(1, 255))
        ok_empty(post_from(url, other_net + ".1", [page_view(unique("d")) for _ in range(3)]))
        cp_error(post_from(url, other_net + ".2", [page_view(unique("e")) for _ in range(3)]), 429, "rate_limited")
    finally:
        for p in (proc, first):
            p.terminate()
            p.wait(timeout=30)


def test_queued_events_are_written_without_the_hook(c):
    """The writer thread writes the queue every ~200 ms on its own; a clean stop writes what is left."""
    cookie = unique("later")
    ok_empty(post(c, [page_view(cookie), analytics("UserViewedProducts", cookie)]))
    deadline = time.time() + 10
    while len(raw_events(cookie)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert len(raw_events(cookie)) == 2
    proc, url = second_server("--reaper-ms", "0")
    cookie = unique("stop")
    try:
        ok_empty(post(Client(url), [page_view(cookie)]))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(raw_events(cookie)) == 1


def page_view_through(analytics_dir, cookie):
    """A page view posted to, and written by, a second server started with --analytics-dir analytics_dir."""
    proc, url = second_server("--analytics-dir", analytics_dir, "--reaper-ms", "0")
    try:
        ok_empty(post(Client(url), [page_view(cookie)]))
        flush(Client(url))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_raw_events_go_where_analytics_dir_says(c):
    """--analytics-dir: the log in a directory of the operator's choosing, on either database; `none`: the
    analytics_events table."""
    where = tempfile.mkdtemp(prefix="bo-events-")
    try:
        placed = unique("placed")
        page_view_through(where + "/log", placed)
        logged = [json.loads(line) for path in glob.glob(where + "/log/*.ndjson.gz") for line in gzip_lines(path)]
        assert [(ev["cookie_id"], ev["kind"], ev["ip_prefix"]) for ev in logged] == [
            (placed, "PageViewed", "127.0.0.0/24")], logged
        assert raw_events(placed) == [], "not also in the default place"
    finally:
        shutil.rmtree(where)
    tabled = unique("tabled")
    page_view_through("none", tabled)
    assert db_rows("SELECT kind FROM analytics_events WHERE cookie_id = '%s'" % tabled) == [("PageViewed",)]


def test_other_accounts(c, token):
    admin = "adm_" + uuid.uuid4().hex
    slug = "cp-" + uuid.uuid4().hex[:10]
    create_account(slug, "Pricing B", "Europe/London", "GBP", admin)
    client = expect(c.admin("POST", "/credentials", {"kind": "oauth_client"}, token=admin), 201)
    theirs = cp_token(c, (client["client_id"], client["secret"]))
    b = "(SELECT id FROM accounts WHERE slug = '%s')" % slug
    shared = unique("shared")
    ok_empty(post(c, [created(shared)], token=token))
    ok_empty(post(c, [created(shared, pricing={"maxAcceptedPrice": "30.00"}, name="B's")], token=theirs))
    assert ref_row(shared)[0:4] == ("Product", 3, 1250, 1800)
    assert ref_row(shared, b)[0:4] == ("B's", 3, 1, 3000)
    mine_only = unique("mine")
    ok_empty(post(c, [created(mine_only)], token=token))
    cp_error(post(c, [{"type": "ProductRemoved", "payload": {"productReference": mine_only}}], token=theirs), 400,
             "unknown_product", "[0].payload.productReference", 0)
    assert ref_row(mine_only)[7] == 0
    # analytics are scoped by accountId: B's product ids resolve in B alone
    cookie = unique("cookie")
    ok_empty(post(c, [analytics("UserViewedPrices", cookie, account=slug, productId=mine_only),
                      analytics("UserViewedPrices", cookie, account=slug, productId=shared),
                      analytics("UserViewedPrices", cookie, productId=mine_only)]))
    flush(c)
    b_id = db_rows("SELECT id FROM accounts WHERE slug = '%s'" % slug)[0][0]
    rows = raw_events(cookie)
    flags = [(r["account_id"] == b_id, r["product_kind"], r["product_key"]) for r in rows]
    assert flags == [(True, "", ""), (True, "reference", shared), (False, "reference", mine_only)], rows


def test_a_batch_names_at_most_16_accounts(c):
    slugs = ["demo"]
    for _ in range(16):
        slugs.append("cpa-" + uuid.uuid4().hex[:10])
        create_account(slugs[-1], "Many", "Europe/Amsterdam", "EUR", "adm_" + uuid.uuid4().hex)
    cookie = unique("many")
    ok_empty(post(c, [page_view(cookie, account=s) for s in slugs[:16]]))
    cp_error(post(c, [page_view(cookie, account=s) for s in slugs]), 400, "too_many_accounts", "[16].payload.accountId",
             16)
    assert len(events_of(cookie)) == 16


def test_retention_prunes_events_and_counters(c):
    proc, url = second_server("--analytics-retention-days", "1", "--reaper-ms", "100")
    try:
        other = Client(url)
        cookie = unique("old")
        ok_empty(post(other, [page_view(cookie), analytics("UserViewedProducts", cookie)]))
        assert len(events_of(cookie, other)) == 2
        time.sleep(0.5)
        assert len(events_of(cookie, other)) == 2, "kept within the retention"
        expect(other.admin("POST", "/test/clock", {"advance_seconds": 2 * 86400}), 200)
        for _ in range(200):
            if not events_of(cookie, other):
                break
            time.sleep(0.05)
        assert events_of(cookie, other) == []
        old = db_rows("SELECT COUNT(*) FROM analytics_daily WHERE day < %d" % (int(time.time()) // 86400 + 1))
        assert int(old[0][0]) == 0, old
        leftover = db_rows("SELECT COUNT(*) FROM analytics_rates WHERE window_start < %d" % (
            int(time.time()) - 3600 + 2 * 86400))
        assert int(leftover[0][0]) == 0, leftover
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_analytics_thread_runs_below_the_requests(c):
    """The analytics writer leaves the cores to requests: SCHED_IDLE where its transactions hold nothing a
    request waits on (SQLite: a connection and a file of their own), so a waking booking takes its core at once;
    nice 10 where it holds a pooled connection through them (PostgreSQL), which a starved thread must not
    (docs/ARCHITECTURE.md)."""
    pid = server_pid()
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(task + "/comm") as f:
                if f.read().strip() != "bo-analytics":
                    continue
            with open(task + "/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # from field 3, the state
        except OSError:
            continue
        policy, nice = int(fields[38]), int(fields[16])  # fields 41 and 19 of proc(5)
        if DB_KIND == "postgres":
            assert (policy, nice) == (0, 10), (policy, nice)
        else:
            assert policy == 5, policy  # SCHED_IDLE
        return
    raise Skip("no bo-analytics thread in /proc/%d (server on another host?)" % pid)
