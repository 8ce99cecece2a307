"""GET /admin/v1/pricing/references/{reference} and .../explain?date=&time=
(docs/ADMIN_API.md, "Dynamic pricing"; docs/PRICING.md, "Inventory
references"): a Convious pricing inventory reference's settings as the dialect
mapped them, its learned demand in the product model's shape, and why one of
its cells has its price: the price rtp answers for the same cell, seats left
moving with ProductAvailabilityChanged; 404 for unknown, removed and another
account's references; 400 for bad dates and times; hostile references (very
long, percent-encoded slashes) answered cleanly."""
import time
import urllib.parse

import pytest

from harness import Client, admin_error, expect, unique
from test_rtp_inventory import cents, created, day, events, fresh_account_with_admin, prices, rtp, seats

PRICING = {"minAcceptedPrice": "12.50", "maxAcceptedPrice": "18.00", "averageTargetPrice": "15.00",
           "boxOfficePrice": "16.00"}
EXPLAIN_KEYS = {"reference", "occurrence", "dynamic", "planned", "price", "plan_price", "seats_left", "bounds_hit",
                "forecast", "target_bias", "planned_at"}


@pytest.fixture(scope="module")
def acct():
    """(admin token, pricing token) of an account without sales: planned
    prices then depend on the reference alone."""
    _, admin, token = fresh_account_with_admin(Client())
    return admin, token


def path(ref, explain=False):
    return "/pricing/references/" + urllib.parse.quote(ref, safe="") + ("/explain" if explain else "")


def model(c, admin, ref):
    return expect(c.admin("GET", path(ref), token=admin), 200)


def explain(c, admin, ref, date, time_=None):
    query = {"date": date}
    if time_:
        query["time"] = time_
    return expect(c.admin("GET", path(ref, True), query=query, token=admin), 200)


def rtp_cents(c, token, ref, date, time_=None):
    """The price rtp answers a new visitor for one item of the cell, in cents (None: nothing sellable)."""
    times = [time_ + ":00"] if time_ else None
    ((_, _, _, price),) = prices(rtp(c, token, [(ref, 1)], times=times, date_from=date))
    return None if price is None else cents(price)


def planned(c, admin, ref, date, time_=None):
    """The explain once the worker has planned the cell (the explain asks for it, as rtp does)."""
    deadline = time.time() + 60
    x = explain(c, admin, ref, date, time_)
    while not x["planned"] and time.time() < deadline:
        time.sleep(0.3)
        x = explain(c, admin, ref, date, time_)
    assert x["planned"], x
    return x


def same_as_rtp(c, admin, token, ref, date, time_=None):
    """The explain's price is what rtp answers for the cell (read between two
    explains that agree: a plan's price moves with the clock)."""
    for _ in range(5):
        before = explain(c, admin, ref, date, time_)
        answered = rtp_cents(c, token, ref, date, time_)
        after = explain(c, admin, ref, date, time_)
        if before["price"] == after["price"]:
            assert answered == before["price"], (answered, before)
            return before
    raise AssertionError("the price kept moving")


def test_settings_and_learned_demand(c, acct):
    admin, token = acct
    ref = unique("px-model")
    events(c, token, [created(ref, availability=40, pricing=PRICING)])
    got = model(c, admin, ref)
    assert got["reference"] == ref and got["name"] == "Canal tour" and got["availability"] == 40
    assert got["settings"] == {"dynamic": True, "min_price": 1250, "max_price": 1800, "step": 1, "gate_price": 1600,
                               "average_target": 1500, "max_change_per_hour": 0}, got["settings"]
    # the product model's shape: the same keys, the reference's in place of product_id
    product = expect(c.admin("GET", "/pricing/products/d0000000-0000-4000-8000-000000000005"), 200)
    assert set(got) == set(product) - {"product_id"} | {"reference", "name", "availability", "settings"}
    assert got["fitted"] is False and got["fitted_at"] is None and got["reference_price"] == 1600, got
    assert len(got["pace"]) == 12 and got["elasticity"] > 0
    # once rtp asked for a cell, the worker fits the reference and plans the cell
    rtp(c, token, [(ref, 1)], times=None, date_from=day(3))
    planned(c, admin, ref, day(3))
    got = model(c, admin, ref)
    assert got["fitted"] is True and isinstance(got["fitted_at"], int) and got["planned_occurrences"] >= 1, got
    assert got["confidence"]["category_orders"] == 0 and got["confidence"]["product_orders"] == 0, got
    # changed pricing shows at once; unlimited availability is null
    events(c, token, [created(ref, availability=None, pricing={"maxAcceptedPrice": "20.00"})])
    got = model(c, admin, ref)
    assert got["availability"] is None and got["settings"]["max_price"] == 2000
    assert got["settings"]["gate_price"] == 2000 and got["settings"]["average_target"] == 0


def test_explain_is_what_rtp_answers(c, acct):
    admin, token = acct
    ref = unique("px-explain")
    events(c, token, [created(ref, pricing=PRICING)])
    first = explain(c, admin, ref, day(3), "10:00")
    assert set(first) == EXPLAIN_KEYS, first
    assert first["reference"] == ref and first["occurrence"] == day(3) + "T10:00" and first["dynamic"] is True
    # unplanned: the gate price on the grid, no plan price; the seats left now
    assert first["planned"] is False and first["price"] == 1600 and first["plan_price"] is None, first
    assert first["seats_left"] == 100 and first["planned_at"] is None
    x = planned(c, admin, ref, day(3), "10:00")
    assert 1250 <= x["price"] <= 1800 and x["plan_price"] == x["price"] and isinstance(x["planned_at"], int), x
    assert x["bounds_hit"]["at_min"] == (x["price"] == 1250) and x["bounds_hit"]["rate_limited"] is False
    assert x["forecast"]["tickets_to_close"] >= 0 and x["forecast"]["pace_factor"] > 0
    same_as_rtp(c, admin, token, ref, day(3), "10:00")
    # seconds in the time, as rtp's HH:MM:SS: the same cell
    assert explain(c, admin, ref, day(3), "10:00:00")["occurrence"] == day(3) + "T10:00"
    # no time: the day as a whole (rtp's times null)
    whole = planned(c, admin, ref, day(4))
    assert whole["occurrence"] == day(4), whole
    same_as_rtp(c, admin, token, ref, day(4))


def test_seats_left_move_with_availability(c, acct):
    admin, token = acct
    ref = unique("px-seats")
    events(c, token, [created(ref, pricing=PRICING)])
    many = planned(c, admin, ref, day(3), "10:00")
    assert many["seats_left"] == 100
    events(c, token, [seats(ref, day(3), "10:00:00", 2)])
    few = same_as_rtp(c, admin, token, ref, day(3), "10:00")
    assert few["seats_left"] == 2 and few["planned"] is True and few["price"] > many["price"], (few, many)
    # the whole day sells while a start time does: its seats are the most a time has
    assert explain(c, admin, ref, day(3))["seats_left"] == 2
    events(c, token, [seats(ref, day(3), "10:00:00", 0)])
    gone = explain(c, admin, ref, day(3), "10:00")
    assert gone["seats_left"] == 0 and gone["price"] is None and gone["planned"] is False, gone
    assert rtp_cents(c, token, ref, day(3), "10:00") is None
    # another time of that day: the day's seats, else the reference's
    events(c, token, [seats(ref, day(3), None, 7)])
    assert explain(c, admin, ref, day(3), "12:00")["seats_left"] == 7
    # a past day: nothing to sell, without a plan
    past = explain(c, admin, ref, day(-1))
    assert past["price"] is None and past["planned"] is False and past["seats_left"] == 100, past
    # unlimited: null
    events(c, token, [created(ref, availability=None, pricing=PRICING)])
    assert explain(c, admin, ref, day(5))["seats_left"] is None


def test_error_paths(c, acct):
    admin, token = acct
    ref = unique("px-errors")
    events(c, token, [created(ref, pricing=PRICING)])
    base = path(ref, True)
    admin_error(c.admin("GET", base, token=admin), 400, "missing_parameter", "date")
    for bad in ("2026-02-30", "tomorrow", "", "2026-1-1"):
        admin_error(c.admin("GET", base, query={"date": bad}, token=admin), 400, "invalid_parameter", "date")
    for bad in ("25:00", "10", "10:00:00:00", "ten", ""):
        admin_error(c.admin("GET", base, query={"date": day(3), "time": bad}, token=admin), 400,
                    "invalid_parameter", "time")
    admin_error(c.admin("GET", base, query={"date": day(3), "when": "now"}, token=admin), 400,
                "unknown_parameter", "when")
    admin_error(c.admin("GET", path(ref), query={"date": day(3)}, token=admin), 400, "unknown_parameter", "date")
    admin_error(c.admin("GET", base, query={"date": day(3)}, token=None), 401)
    admin_error(c.admin("GET", path(ref), token=None), 401)
    admin_error(c.admin("POST", path(ref), {}, token=admin), 405)
    # unknown, then removed: 404 not_found on both routes
    for r in (unique("px-never"), ref):
        if r == ref:
            events(c, token, [{"type": "ProductRemoved", "payload": {"productReference": ref}}])
        admin_error(c.admin("GET", path(r), token=admin), 404, "not_found")
        admin_error(c.admin("GET", path(r, True), query={"date": day(3)}, token=admin), 404, "not_found")
    # created again, it is back
    events(c, token, [created(ref, pricing=PRICING)])
    assert model(c, admin, ref)["reference"] == ref


def test_another_accounts_reference_is_not_found(c, acct):
    admin, token = acct
    ref = unique("px-scoped")
    events(c, token, [created(ref, pricing=PRICING)])
    _, other_admin, other_token = fresh_account_with_admin(c)
    admin_error(c.admin("GET", path(ref), token=other_admin), 404, "not_found")
    admin_error(c.admin("GET", path(ref, True), query={"date": day(3)}, token=other_admin), 404, "not_found")
    # nor is a demo product a reference, nor a reference a product
    admin_error(c.admin("GET", path("d0000000-0000-4000-8000-000000000005"), token=admin), 404)
    admin_error(c.admin("GET", "/pricing/products/%s" % urllib.parse.quote(ref, safe=""), token=admin), 404)
    # the same reference in the other account is its own
    events(c, other_token, [created(ref, pricing={"minAcceptedPrice": "1.00", "maxAcceptedPrice": "2.00"})])
    assert model(c, other_admin, ref)["settings"]["max_price"] == 200
    assert model(c, admin, ref)["settings"]["max_price"] == 1800
    theirs = explain(c, other_admin, ref, day(3))
    assert theirs["price"] == 200 and theirs["bounds_hit"]["at_max"] is True, theirs
    assert explain(c, admin, ref, day(3))["price"] == 1600


def test_hostile_references(c, acct):
    admin, token = acct
    # very long: longer than any reference can be, answered 404 without a lookup (or 414 by the server)
    for long_ref in ("x" * 129, "x" * 3000, "%" * 600):
        for p in (path(long_ref), path(long_ref, True) + "?date=" + day(3)):
            r = c.admin("GET", p, token=admin)
            assert r.status in (404, 414), (len(long_ref), r)
    longest = "y" * 120 + unique("")[:8]
    events(c, token, [created(longest, pricing=PRICING)])
    assert model(c, admin, longest)["reference"] == longest
    # percent-encoded slashes are part of the reference; a literal slash separates segments
    slashed = unique("px") + "/a/b"
    events(c, token, [created(slashed, pricing=PRICING)])
    assert model(c, admin, slashed)["reference"] == slashed
    assert explain(c, admin, slashed, day(3))["reference"] == slashed
    lower = "/pricing/references/" + urllib.parse.quote(slashed, safe="").replace("%2F", "%2f")
    assert expect(c.admin("GET", lower, token=admin), 200)["reference"] == slashed
    admin_error(c.admin("GET", "/pricing/references/" + slashed, token=admin), 404)
    # a reference that ends in "/explain" is itself, never the explain of another
    trap = unique("px-trap")
    events(c, token, [created(trap, pricing=PRICING),
                      created(trap + "/explain", pricing={"maxAcceptedPrice": "3.00"})])
    got = model(c, admin, trap + "/explain")
    assert got["reference"] == trap + "/explain" and got["settings"]["max_price"] == 300, got
    x = explain(c, admin, trap + "/explain", day(3))
    assert x["reference"] == trap + "/explain" and x["price"] == 300, x
    assert explain(c, admin, trap, day(3))["price"] == 1600
    # text that is not an id: quoted, echoed as given
    odd = "'; DROP TABLE inventory_refs; -- \u00fc\U0001f39f %2F " + unique("")[:6]
    events(c, token, [created(odd, pricing=PRICING)])
    assert model(c, admin, odd)["reference"] == odd
    assert explain(c, admin, odd, day(3))["reference"] == odd
    for p in ("/pricing/references/%ff", "/pricing/references/%ed%a0%80/explain?date=" + day(3),
              "/pricing/references/..%2F..%2Fproducts", "/pricing/references/%2e%2e%2f", "/pricing/references/%2F"):
        r = c.admin("GET", p, token=admin)
        assert r.status in (400, 404), (p, r)
