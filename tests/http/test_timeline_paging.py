"""Paging the order and ticket timelines while orders are created and updated
(issue 10, item 5): no order is skipped or shown twice.

A fresh account books BOOKED orders, then each list of every dialect is read
in small pages while, between two pages, a new order is booked, an order
already read and one not read yet are cancelled, and a ticket is voided.
- Lists newest first by (created_at, id) — /admin/v1/orders, Ticket
  Tailor's /v1/orders and /v1/issued_tickets, forwards and backwards —
  are keyed on columns an update never changes: every order (ticket) that
  existed before the walk appears exactly once, and nothing appears twice.
- The Convious timeline is ordered by change sequence, which an update moves
  on (docs/dialects/convious.md: an updated order re-appears later, none is
  skipped): every order appears, one never updated during the walk exactly
  once, an updated one at most once more, its last appearance showing the
  update; sequences only grow.
"""
import uuid

import pytest

from harness import Client, create_account, expect

BOOKED = 24
PAGE = 5


@pytest.fixture(scope="module")
def venue():
    c = Client()
    token = "adm_" + uuid.uuid4().hex
    slug = "timeline-" + uuid.uuid4().hex[:8]
    create_account(slug, "Timeline paging", "Europe/Amsterdam", "EUR", token)
    key = expect(c.admin("POST", "/credentials", {"kind": "api_key"}, token=token), 201)["secret"]
    client = expect(c.admin("POST", "/credentials", {"kind": "oauth_client"}, token=token), 201)
    c._cv_token = c.convious_token((client["client_id"], client["secret"]))
    pool = expect(c.admin("POST", "/pools", {"name": "Hall", "capacity": 100000, "per": "total"}, token=token), 201)
    product = expect(c.admin("POST", "/products", {"name": "Entry", "price": 1200,
                                                  "pools": [{"pool_id": pool["id"], "amount": 1}]}, token=token), 201)
    return {"c": c, "token": token, "key": key, "slug": slug, "product": product["id"]}


def book(v, n=1):
    c = v["c"]
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": v["product"], "quantity": n}],
                                             "customer": {"email": "t@example.com", "name": "Timeline"}},
                          token=v["token"]), 201)
    return expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}},
                          token=v["token"]), 201)


def fresh_orders(v):
    """BOOKED orders of two tickets each; returns them oldest first."""
    return [book(v, 2) for _ in range(BOOKED)]


class Churn:
    """Between two pages: one new order, an order already read and one not read
    yet cancelled, a ticket voided."""

    def __init__(self, v, orders):
        self.v, self.live = v, [o["id"] for o in orders]
        self.created, self.updated = [], set()

    def __call__(self, seen):
        c, v = self.v["c"], self.v
        self.created.append(book(v)["id"])
        read = [i for i in self.live if i in seen]
        unread = [i for i in self.live if i not in seen]
        for pick in (read[:1], unread[-1:]):
            for order_id in pick:
                expect(c.admin("POST", "/orders/%s/cancel" % order_id, token=v["token"]), 200)
                self.live.remove(order_id)
                self.updated.add(order_id)
        if self.live:
            order = expect(c.admin("GET", "/orders/" + self.live[0], token=v["token"]), 200)
            ticket = next((t for t in order["tickets"] if t["status"] == "valid"), None)
            if ticket:
                expect(c.admin("POST", "/tickets/%s/void" % ticket["id"], token=v["token"]), 200)
                self.updated.add(self.live[0])


def exactly_once(listed, before, created):
    dupes = {i for i in listed if listed.count(i) > 1}
    assert not dupes, "shown twice: %r" % sorted(dupes)
    missing = set(before) - set(listed)
    assert not missing, "skipped: %r" % sorted(missing)
    assert set(listed) <= set(before) | set(created), "unknown ids listed"


def test_admin_orders_newest_first(venue):
    v = venue
    orders = fresh_orders(v)
    before = [o["id"] for o in expect(v["c"].admin("GET", "/orders", token=v["token"], query={"limit": 1000}),
                                      200)["data"]]
    churn = Churn(v, orders)
    listed, after = [], None
    for _ in range(200):
        query = {"limit": PAGE}
        if after:
            query["starting_after"] = after
        page = expect(v["c"].admin("GET", "/orders", token=v["token"], query=query), 200)
        listed += [o["id"] for o in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
        churn(set(listed))
    exactly_once(listed, before, churn.created)
    assert churn.updated, "nothing was updated while paging"


def tt_all(v, path):
    out, query = [], {"limit": 100}
    for _ in range(100):
        page = expect(v["c"].tickettailor("GET", path, key=v["key"], query=query), 200)
        out += page["data"]
        if not page["links"]["next"]:
            return out
        query = {"limit": 100, "starting_after": page["data"][-1]["id"]}
    raise AssertionError("no end")


def tt_walk(v, path, query, direction, churn):
    """The ids of a Ticket Tailor list from `query` on, following links.next
    (older) or links.previous (newer), churning between pages; oldest last."""
    listed = []
    for _ in range(400):
        page = expect(v["c"].tickettailor("GET", path, key=v["key"], query=query), 200)
        ids = [o["id"] for o in page["data"]]
        listed = listed + ids if direction == "next" else ids + listed
        link = page["links"][direction]
        if not link:
            return listed
        name, value = link.split("?", 1)[1].split("=", 1)
        assert name == ("starting_after" if direction == "next" else "ending_before"), link
        query = {"limit": PAGE, name: value}
        churn(set(i[3:] for i in listed))
    raise AssertionError("no end after 400 pages")


@pytest.mark.parametrize("direction", ["next", "previous"])
def test_tickettailor_orders(venue, direction):
    v = venue
    orders = fresh_orders(v)
    everything = tt_all(v, "/v1/orders")
    before = [o["id"] for o in everything]
    churn = Churn(v, orders)
    if direction == "next":
        listed = tt_walk(v, "/v1/orders", {"limit": PAGE}, "next", churn)
    else:  # from the oldest order upwards
        oldest = before[-1]
        listed = tt_walk(v, "/v1/orders", {"limit": PAGE, "ending_before": oldest}, "previous", churn) + [oldest]
    exactly_once(listed, before, ["or_" + i for i in churn.created])
    assert churn.updated, "nothing was updated while paging"


def test_tickettailor_issued_tickets(venue):
    v = venue
    orders = fresh_orders(v)
    before = [t["id"] for t in tt_all(v, "/v1/issued_tickets")]
    churn = Churn(v, orders)
    listed = tt_walk(v, "/v1/issued_tickets", {"limit": PAGE}, "next", lambda _: churn(set()))
    made_later = set(t["id"] for t in tt_all(v, "/v1/issued_tickets")) - set(before)
    exactly_once(listed, before, made_later)


def test_convious_timeline(venue):
    v = venue
    orders = fresh_orders(v)
    c = v["c"]
    churn = Churn(v, orders)
    seen, last_status = [], {}
    path = "/api/v1/orders/"
    query = {"account": v["slug"], "page_size": PAGE}
    for _ in range(400):
        page = expect(c.convious("GET", path, query=query), 200)
        for o in page["results"]:
            seen.append(o["id"])
            last_status[o["id"]] = o["status"]
        if not page["next"]:
            break
        query = {"account": v["slug"], "page_size": PAGE, "cursor": page["next"].split("cursor=")[1].split("&")[0]}
        if len(seen) < BOOKED * 3:  # churn while the booked orders are read; then read to the end
            churn(set(seen))
    for order_id in [o["id"] for o in orders] + churn.created:
        n = seen.count(order_id)
        assert n >= 1, "skipped: %s" % order_id
        if order_id in churn.updated:
            assert n <= 2, "%s shown %d times" % (order_id, n)
        else:
            assert n == 1, "%s shown %d times without an update" % (order_id, n)
    for order_id in churn.updated:
        now = expect(c.admin("GET", "/orders/" + order_id, token=v["token"]), 200)
        if now["status"] == "cancelled":
            assert last_status[order_id] == "cancelled", (order_id, last_status[order_id])


def test_tickettailor_referral_tag_filter_fills_pages(venue):
    """referral_tag is part of the page's query: a page holds `limit` matching
    orders while more match, and the walk finds every tagged order once."""
    v = venue
    c, tag = v["c"], "tag-" + uuid.uuid4().hex[:8]
    tagged = []
    for i in range(7):
        cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": v["product"], "quantity": 1}]},
                              token=v["token"]), 201)
        body = {"cart_id": cart["id"], "payment": {"provider": "cash"}}
        if i % 2 == 0:
            body["extras"] = {"referral_tag": tag}
        else:
            body["extras"] = {"referral_tag": tag + "-other", "note": tag}
        order = expect(c.admin("POST", "/orders", body, token=v["token"]), 201)
        if i % 2 == 0:
            tagged.append("or_" + order["id"])
    listed, query = [], {"limit": 2, "referral_tag": tag}
    for _ in range(10):
        page = expect(c.tickettailor("GET", "/v1/orders", key=v["key"], query=query), 200)
        assert len(page["data"]) == 2 or not page["links"]["next"], page
        assert all(o["referral_tag"] == tag for o in page["data"]), page
        listed += [o["id"] for o in page["data"]]
        if not page["links"]["next"]:
            break
        query = {"limit": 2, "referral_tag": tag, "starting_after": page["data"][-1]["id"]}
    assert sorted(listed) == sorted(tagged), (listed, tagged)
