"""POST /convious-pricing/api/price/rtp for inventory references (docs/PRICING.md,
"Inventory references"; docs/dialects/convious-pricing.md): a reference
created by POST /convious-pricing/events is priced within its bounds and on its
grid, the gate price until the pricing worker has planned a cell; seats left
from ProductAvailabilityChanged (none, or fewer than numberOfItems: null; a
change moves the price at once); removed or another account's: 400 as an
unknown product; references and products in one request."""
import datetime
import time
import uuid

import pytest

from harness import Client, create_account, expect, unique

RTP = "/convious-pricing/api/price/rtp"
EVENTS = "/convious-pricing/events"
V = {"Accept-Version": "1.0.0"}
DEMO_PRODUCT = "d0000000-0000-4000-8000-000000000005"
PRICING = {"minAcceptedPrice": "12.50", "maxAcceptedPrice": "18.00"}  # gate: the maximum; step 1 cent


def day(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def cents(text):
    whole, _, frac = text.partition(".")
    assert len(frac) == 2, text
    return int(whole) * 100 + int(frac)


@pytest.fixture(scope="module")
def token():
    return Client().convious_token()


def fresh_account_with_admin(c):
    """(slug, admin token, pricing token) of a new account."""
    slug = "ri" + uuid.uuid4().hex[:8]
    admin = "adm_" + uuid.uuid4().hex
    create_account(slug, "Other", "Europe/Amsterdam", "EUR", admin)
    cred = expect(c.admin("POST", "/credentials", {"kind": "oauth_client"}, token=admin), 201)
    return slug, admin, expect(c.request("POST", "/convious-pricing/oauth/token/", form={
        "grant_type": "client_credentials", "client_id": cred["client_id"], "client_secret": cred["secret"]}),
        200)["access_token"]


def fresh_account(c):
    """(slug, token) of a new account: the demand model shrinks a reference
    towards its account's sales, so tests that compare planned prices start
    from an account with none (the demo's grow with every run)."""
    slug, _, token = fresh_account_with_admin(c)
    return slug, token


@pytest.fixture(scope="module")
def quiet():
    """A token of an account without sales."""
    return fresh_account(Client())[1]


def events(c, token, batch):
    r = c.request("POST", EVENTS, json_body=batch, headers=dict(V, Authorization="Bearer " + token))
    assert r.status == 200, r


def created(ref, availability=100, pricing=PRICING):
    return {"type": "ProductCreated", "payload": {"productReference": ref, "name": "Canal tour",
                                                  "availability": availability, "pricing": pricing}}


def seats(ref, date, start, left):
    return {"type": "ProductAvailabilityChanged", "payload": {"productReference": ref, "eventDate": date,
                                                               "startTime": start, "availability": left}}


def rtp(c, token, products, times=("10:00:00",), date_from=None, date_to=None, cookie=None):
    body = {"cookieId": cookie or "cookie-" + uuid.uuid4().hex, "dateFrom": date_from or day(3),
            "dateTo": date_to or date_from or day(3), "timezone": "Europe/Amsterdam",
            "products": [{"productReference": p, "numberOfItems": n} for p, n in products],
            "times": list(times) if times is not None else None}
    return c.request("POST", RTP, body, headers=dict(V, Authorization="Bearer " + token))


def prices(resp):
    """[(date, time, reference, price)] of a 200 answer."""
    return [(cell["priceDate"], cell["priceTime"], item["productReference"], item["price"])
            for cell in expect(resp, 200)["prices"] for item in cell["products"]]


def price_of(c, token, ref, items=1, times=("10:00:00",), date=None):
    ((_, _, _, price),) = prices(rtp(c, token, [(ref, items)], times=times, date_from=date))
    return price


def within(price, lo=1250, hi=1800):
    return price is not None and lo <= cents(price) <= hi


def planned_price(c, token, ref, gate="18.00", **kw):
    """The price once the worker has planned the cell: the gate until then
    (100 seats for a few orders a day price at the bottom of the range)."""
    deadline = time.time() + 60
    while True:
        price = price_of(c, token, ref, **kw)
        if price != gate or time.time() > deadline:
            return price
        time.sleep(0.3)


def unknown(resp, index=0):
    assert resp.status == 400, resp
    assert resp.json["error"] == "unknown_product", resp
    assert resp.json["field"] == "products[%d].productReference" % index, resp


def test_reference_priced_within_bounds_on_its_grid(c, quiet):
    token = quiet
    ref = unique("rtp-ref")
    events(c, token, [created(ref)])
    first = prices(rtp(c, token, [(ref, 2)], times=["10:00:00", "14:30:00"], date_from=day(3), date_to=day(4)))
    assert [(d, t) for d, t, _, _ in first] == [(day(3), "10:00:00"), (day(3), "14:30:00"),
                                                (day(4), "10:00:00"), (day(4), "14:30:00")]
    # before the worker has planned a cell: the gate price (no boxOfficePrice: the maximum) on the grid
    assert all(r == ref and p == "18.00" for _, _, r, p in first), first
    planned = planned_price(c, token, ref)
    assert within(planned) and planned != "18.00", planned
    # times null: the day as a whole, priced as well
    daily = planned_price(c, token, ref, times=None)
    assert within(daily), daily
    # a grid coarser than a cent: every price on it
    coarse = unique("rtp-coarse")
    events(c, token, [created(coarse, pricing={"minAcceptedPrice": "10", "maxAcceptedPrice": "200000",
                                               "boxOfficePrice": "150"})])
    assert price_of(c, token, coarse) == "150.00"
    got = planned_price(c, token, coarse, gate="150.00")
    assert within(got, 1000, 20000000) and (cents(got) - 1000) % 2000 == 0, got


def test_availability_null_and_moves(c, quiet):
    token = quiet
    ref = unique("rtp-seats")
    events(c, token, [created(ref), seats(ref, day(3), "11:00:00", 0), seats(ref, day(4), None, 1)])
    assert price_of(c, token, ref, times=["11:00:00"]) is None, "no seats at 11:00"
    assert price_of(c, token, ref, items=2, times=None, date=day(4)) is None, "one seat, two items"
    assert within(price_of(c, token, ref, items=1, times=None, date=day(4))), "one seat, one item"
    many = planned_price(c, token, ref)
    assert within(many), many
    # two seats left where there were 100: the plan prices that at once, higher
    events(c, token, [seats(ref, day(3), "10:00:00", 2)])
    few = price_of(c, token, ref)
    assert within(few) and cents(few) > cents(many), (few, many)
    assert price_of(c, token, ref, items=3) is None, "fewer seats than items"
    events(c, token, [seats(ref, day(3), "10:00:00", 0)])
    assert price_of(c, token, ref) is None, "sold out"
    # a past day: nothing to sell
    assert price_of(c, token, ref, times=None, date=day(-1)) is None


def test_removed_is_unknown_and_created_again_is_back(c, token):
    ref = unique("rtp-gone")
    events(c, token, [created(ref)])
    assert within(price_of(c, token, ref))
    events(c, token, [{"type": "ProductRemoved", "payload": {"productReference": ref}}])
    unknown(rtp(c, token, [(ref, 1)]))
    unknown(rtp(c, token, [(DEMO_PRODUCT, 1), (ref, 1)]), index=1)
    events(c, token, [created(ref)])
    assert within(price_of(c, token, ref))
    unknown(rtp(c, token, [(unique("never-created"), 1)]))


def test_mixed_request_and_a_reference_spelled_like_a_product(c, token):
    ref = unique("rtp-mixed")
    events(c, token, [created(ref)])
    got = prices(rtp(c, token, [(DEMO_PRODUCT, 1), (ref, 2)], times=None, date_from=day(3), date_to=day(4)))
    assert [r for _, _, r, _ in got] == [DEMO_PRODUCT, ref, DEMO_PRODUCT, ref]
    assert all(within(p) for _, _, r, p in got if r == ref), got
    # hostile text as a reference: echoed as given, priced as any other
    odd = "'; DROP TABLE inventory_refs; -- ü🎟 " + uuid.uuid4().hex[:6]
    events(c, token, [created(odd, availability=None)])
    ((_, _, echoed, price),) = prices(rtp(c, token, [(odd, 1000)]))
    assert echoed == odd and within(price), price
    # a reference spelled like a product's id: while active it is the one priced (as analytics resolve
    # product ids), and the product never takes its prices; removed, the id is the product's again
    before = prices(rtp(c, token, [(DEMO_PRODUCT, 1)], times=None))
    events(c, token, [created(DEMO_PRODUCT, pricing={"maxAcceptedPrice": "1.00"})])
    try:
        assert prices(rtp(c, token, [(DEMO_PRODUCT, 1)], times=None)) == [(day(3), None, DEMO_PRODUCT, "1.00")]
    finally:
        events(c, token, [{"type": "ProductRemoved", "payload": {"productReference": DEMO_PRODUCT}}])
    assert prices(rtp(c, token, [(DEMO_PRODUCT, 1)], times=None)) == before


def test_visitor_keeps_a_reference_price_that_rose(c, quiet):
    token = quiet
    ref = unique("rtp-hold")
    events(c, token, [created(ref)])
    cookie = "cookie-" + uuid.uuid4().hex
    low = planned_price(c, token, ref)
    ((_, _, _, held),) = prices(rtp(c, token, [(ref, 1)], cookie=cookie))
    assert held == low
    events(c, token, [seats(ref, day(3), "10:00:00", 1)])
    assert cents(price_of(c, token, ref)) > cents(low), "a new visitor sees the higher price"
    ((_, _, _, again),) = prices(rtp(c, token, [(ref, 1)], cookie=cookie))
    assert again == low, "the visitor keeps the quote"


def test_another_accounts_reference_is_unknown(c, token):
    ref = unique("rtp-scoped")
    events(c, token, [created(ref)])
    _, other = fresh_account(c)
    unknown(rtp(c, other, [(ref, 1)]))
    # the same reference in the other account: its own, with its own prices
    events(c, other, [created(ref, pricing={"minAcceptedPrice": "1.00", "maxAcceptedPrice": "2.00"})])
    assert price_of(c, other, ref) == "2.00"
    assert within(price_of(c, other, ref), 100, 200)
    assert within(price_of(c, token, ref))


def test_sales_from_order_created_raise_the_price(c):
    """OrderCreated items are the reference's sales: the worker refits and
    replans after them (at most every 30 s), and a day selling fast is dearer."""
    slug, token = fresh_account(c)
    ref = unique("rtp-sold")
    events(c, token, [created(ref), seats(ref, day(5), None, 100)])
    calm = planned_price(c, token, ref, times=None, date=day(5))
    assert within(calm) and calm != "18.00", calm
    cookie = unique("buyer")
    orders = [{"type": "OrderCreated", "payload": {
        "accountId": slug, "cookieId": cookie, "time": int(time.time() * 1000), "orderId": "%s-%d" % (cookie, i),
        "items": [{"productId": ref, "amount": 4, "price": 18, "eventDate": day(5)}]}} for i in range(40)]
    r = c.request("POST", EVENTS, json_body=orders, headers=V)
    assert r.status == 200, r
    deadline = time.time() + 75
    busy = calm
    while busy == calm and time.time() < deadline:
        time.sleep(0.5)
        busy = price_of(c, token, ref, times=None, date=day(5))
    assert within(busy) and cents(busy) > cents(calm), (busy, calm)
