"""Dynamic prices in the other dialects' listings (issue 14: "other dialects show the current price"):
Ticket Tailor's ticket types, CM.com's event detail and Fourvenues' ticket rates show a dynamic
product's current price at that occurrence, which is what a hold made then charges; the price moves
when the plan moves (settings + recompute), and static products keep their base price. Fourvenues'
checkout answers conditions_changed when the dynamic price moved since the rate was shown
(docs/dialects/*.md, docs/PRICING.md).

Each test makes its own event and products on the demo account and turns dynamic pricing off again."""
from contextlib import contextmanager

from harness import expect
import cm_shop
from cm_shop import cm
from fv_channel import fv_data, fv_error
import fv_channel
from test_cm_reservations import body as cm_body, reserve
from test_fourvenues_checkout import body_for, checkout, engine_order, rate_of, fresh_rate

RANGE = {"dynamic": True, "min_price": 1000, "max_price": 3000, "step": 50, "gate_price": 2500}


def fixed(price):
    """Settings whose grid is one price: the plan can only say that one."""
    return dict(RANGE, min_price=price, max_price=price, gate_price=price)


def plan(c, product, body):
    expect(c.admin("PUT", "/pricing/products/%s/settings" % product, body), 200)
    expect(c.admin("POST", "/pricing/products/%s/recompute" % product), 200)


@contextmanager
def dynamic(c, product, body):
    plan(c, product, body)
    try:
        yield
    finally:
        expect(c.admin("PUT", "/pricing/products/%s/settings" % product, dict(RANGE, dynamic=False)), 200)


def static_twin(c, product, price=2000):
    """A second ticket product of the same event, never dynamic."""
    return expect(c.admin("POST", "/products", {"name": {"en": "Static " + product["id"]}, "price": price,
                                                "event_id": product["event_id"], "max_per_order": 10}), 201)


def on_grid(price, s=RANGE):
    return s["min_price"] <= price <= s["max_price"] and (price - s["min_price"]) % s["step"] == 0


# ---------- Ticket Tailor ----------

def tt_event(c, occ):
    return expect(c.tickettailor("GET", "/v1/events/ev_" + occ), 200)


def tt_type(event, product):
    return next(t for t in event["ticket_types"] if t["id"] == "tt_" + product["id"])


def tt_issue(c, occ, product):
    r = c.tickettailor("POST", "/v1/issued_tickets", form={"event_id": "ev_" + occ,
                                                           "ticket_type_id": "tt_" + product["id"],
                                                           "full_name": "Dyn Buyer"})
    t = expect(r, 201)["data"][0]
    return expect(c.admin("GET", "/tickets/" + t["id"][len("it_"):]), 200)  # issued without an order


def test_tickettailor_ticket_types_show_the_dynamic_price(c):
    ev, product, occ = cm_shop.make_event(c, capacity=20, price=1000, fee=0)
    twin = static_twin(c, product)
    assert tt_type(tt_event(c, occ), product)["price"] == 1000, "off: the base price, as before"
    with dynamic(c, product["id"], fixed(1300)):
        event = tt_event(c, occ)
        assert tt_type(event, product)["price"] == 1300 and tt_type(event, product)["type"] == "paid"
        assert tt_type(event, twin)["price"] == 2000, "a static product is unchanged"
        assert tt_issue(c, occ, product)["price_gross"] == 1300, "the issued ticket is charged the listed price"
        # the plan moves: the listing follows at once (no cached reply), and so does the charge
        plan(c, product["id"], fixed(2700))
        assert tt_type(tt_event(c, occ), product)["price"] == 2700
        start = str(tt_event(c, occ)["start"]["unix"])
        listed = [e for e in expect(c.tickettailor("GET", "/v1/events", query={"start_at": start}), 200)["data"]
                  if e["id"] == "ev_" + occ]
        assert listed and tt_type(listed[0], product)["price"] == 2700, "the list shows it too"
        assert tt_issue(c, occ, product)["price_gross"] == 2700
        # a real range: whatever the plan says is on the grid, and what is charged
        plan(c, product["id"], RANGE)
        shown = tt_type(tt_event(c, occ), product)["price"]
        assert on_grid(shown)
        assert tt_issue(c, occ, product)["price_gross"] == shown
    assert tt_type(tt_event(c, occ), product)["price"] == 1000, "off again: the base price"


# ---------- CM.com ----------

def cm_ticket(c, event_id, product):
    detail = expect(cm(c, "GET", "/events/" + event_id), 200)
    for cat in detail["categories"]:
        for t in cat["tickets"]:
            if t["uuid"] == product["id"]:
                return t
    raise AssertionError("no ticket %s" % product["id"])


def cm_hold_total(c, event_id, product, amount):
    made = expect(reserve(c, event_id, cm_body([{"uuid": product["id"], "amount": amount}])), 201)
    cart = expect(c.admin("GET", "/carts/" + made["order_id"]), 200)
    return cart["total"]


def test_cm_event_detail_shows_the_dynamic_price(c):
    ev, product, occ = cm_shop.make_event(c, capacity=20, price=1000, fee=100)
    twin = static_twin(c, product, price=3500)
    assert cm_ticket(c, ev["id"], product)["price"] == 10
    with dynamic(c, product["id"], fixed(1250)):
        assert cm_ticket(c, ev["id"], product)["price"] == 12.5
        assert cm_ticket(c, ev["id"], twin)["price"] == 35, "a static product is unchanged"
        assert cm_hold_total(c, ev["id"], product, 2) == 2 * 1250, "the reservation holds the shown price"
        plan(c, product["id"], fixed(2900))
        # served from the reply cache otherwise: a dynamic account's detail is rendered anew
        assert cm_ticket(c, ev["id"], product)["price"] == 29
        assert cm_hold_total(c, ev["id"], product, 1) == 2900
        plan(c, product["id"], RANGE)
        shown = round(cm_ticket(c, ev["id"], product)["price"] * 100)
        assert on_grid(shown) and cm_hold_total(c, ev["id"], product, 1) == shown
    assert cm_ticket(c, ev["id"], product)["price"] == 10


# ---------- Fourvenues ----------

def test_fourvenues_rates_and_checkout_follow_the_dynamic_price(c):
    ev, product = fv_channel.make_event(c, capacity=20, price=1000, fee=100)
    rate = rate_of(c, ev)
    assert rate["prices"][0]["price"] == 10 and rate["current_price"]["price"] == 10
    with dynamic(c, product["id"], fixed(1300)):
        rate = fresh_rate(c, rate)
        assert [p["price"] for p in rate["prices"]] == [13] and rate["current_price"]["price"] == 13
        assert rate_of(c, ev)["prices"][0]["price"] == 13, "the event's rates show it too"
        pid = rate["prices"][0]["_id"]
        # the buyer saw 13 and is charged 13: nothing changed
        answer = fv_data(checkout(c, body_for(rate, [{"price_id": pid, "price": 13}])), 201)
        assert answer["conditions_changed"] is False and answer["tickets"][0]["price"]["price"] == 13
        order = engine_order(c, answer["tickets"][0]["_id"])
        assert order["total_after_discount_gross"] == 1300, order
        # the plan moves to 27: a buyer who saw 13 gets conditions_changed and pays the new price
        plan(c, product["id"], fixed(2700))
        assert fresh_rate(c, rate)["current_price"]["price"] == 27
        moved = fv_data(checkout(c, body_for(rate, [{"price_id": pid, "price": 13}, {"price_id": pid}])), 201)
        assert moved["conditions_changed"] is True
        assert [t["price"]["price"] for t in moved["tickets"]] == [27, 27]
        assert engine_order(c, moved["tickets"][0]["_id"])["total_after_discount_gross"] == 2 * 2700
        # the price seen now, as a number or the decimal string: unchanged
        for seen in (27, "27", "27.00", 27.0):
            same = fv_data(checkout(c, body_for(rate, [{"price_id": pid, "price": seen}])), 201)
            assert same["conditions_changed"] is False, seen
        # without a price the rate's listed base price (10) is what the buyer is taken to have seen
        assert fv_data(checkout(c, body_for(rate)), 201)["conditions_changed"] is True
        # hostile prices: 400 naming the ticket's field, nothing sold
        sold_before = fresh_rate(c, rate)["availability"]["sold"]
        for bad in ("abc", -1, "-1", 12.345, "12.345", {}, [], True, "1e3", "x" * 100, 1e300):
            fv_error(checkout(c, body_for(rate, [{"price_id": pid, "price": bad}])), 400, "invalid_field",
                     "tickets[0].price")
        assert fresh_rate(c, rate)["availability"]["sold"] == sold_before
        # a real range: the rate's price is on the grid and is what the checkout charges
        plan(c, product["id"], RANGE)
        shown = fresh_rate(c, rate)["current_price"]["price"]
        assert on_grid(round(shown * 100))
        got = fv_data(checkout(c, body_for(rate, [{"price_id": pid, "price": shown}])), 201)
        assert got["conditions_changed"] is False and got["tickets"][0]["price"]["price"] == shown
    back = fresh_rate(c, rate)
    assert back["current_price"]["price"] == 10
    # a static rate: a price in the body is only the buyer's view, the rate's own rule decides
    static = fv_data(checkout(c, body_for(back, [{"price_id": back["prices"][0]["_id"], "price": 99}])), 201)
    assert static["conditions_changed"] is False and static["tickets"][0]["price"]["price"] == 10
