"""Tenancy: two accounts that use identical ids never touch each other.

Account A is the demo account; account B is a fresh account made with the
server binary's `account` command (as in test_admin_auth.py: BOXOFFICE_TEST_DB,
BOXOFFICE_BIN, BOXOFFICE_KEY_FILE; without them every test here is skipped,
saying so). B gets its own Ticket Tailor API key and Convious OAuth client
through /admin/v1/credentials, so every dialect is checked in both directions.

Every catalog kind is created in both accounts with the same ids and names
(fresh per run), and differs only in values (capacity, price, discount amount,
voucher value), so a read that answers from the wrong account shows.

test_pool_ids_are_per_account covers capacity: inventory must be counted per
account, whatever the pool id. It reports every broken step it sees, not only
the first, so one run shows the whole picture.
"""
import datetime
import random
import uuid

from harness import ADMIN_TOKEN, create_account, TT_API_KEY, OAUTH_CLIENT, expect, admin_error

DEMO_POOL = "d0000000-0000-4000-8000-000000000004"
DEMO_ADULT = "d0000000-0000-4000-8000-000000000005"
DEMO_MUSEUM = "d0000000-0000-4000-8000-000000000003"
KINDS = ("locations", "schedules", "categories", "events", "pools", "products", "discounts", "vouchers")
_world = {}


def day(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


# ---- the error shape of each dialect ----

def cv_error(resp, status, code):
    """Convious: {"error": code, "message": ..., ["field": ...]}."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    body = resp.json
    assert isinstance(body, dict) and body.get("error") == code and body.get("message"), \
        "expected error %s, got %r" % (code, resp)
    return body


def tt_error(resp, status):
    """Ticket Tailor: {"status", "error_code", "message"} (+ "errors" on validation failures)."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    body = resp.json
    assert isinstance(body, dict) and body.get("status") == status and body.get("message"), resp
    phrase = {404: "Not Found", 422: "Validation error"}.get(status)
    if phrase:
        assert body.get("error_code") == phrase, "expected error_code %s, got %r" % (phrase, resp)
    return body


# ---- the two accounts ----

class Tenant:
    """One account's credentials, with a request helper per dialect."""

    def __init__(self, label, slug, admin, tt_key, oauth, currency):
        self.label, self.slug, self.token, self.tt_key, self.oauth = label, slug, admin, tt_key, oauth
        self.currency = currency
        self._cv = None

    def admin(self, c, method, path, body=None, **kw):
        return c.admin(method, path, body, token=self.token, **kw)

    def cv(self, c, method, path, body=None, **kw):
        if self._cv is None:
            self._cv = c.convious_token(self.oauth)
        return c.convious(method, path, body, token=self._cv, **kw)

    def tt(self, c, method, path, **kw):
        return c.tickettailor(method, path, key=self.tt_key, **kw)

    def __repr__(self):
        return self.label


def make_second_account(c):
    token = "adm_" + uuid.uuid4().hex
    slug = "tenant-" + uuid.uuid4().hex[:10]
    create_account(slug, "Tenant B", "Europe/London", "GBP", token)
    me = expect(c.admin("GET", "/account", token=token), 200)
    assert me["slug"] == slug and me["currency"] == "GBP", me
    tt_key = expect(c.admin("POST", "/credentials", {"kind": "api_key"}, token=token), 201)["secret"]
    client = expect(c.admin("POST", "/credentials", {"kind": "oauth_client"}, token=token), 201)
    return Tenant("B", slug, token, tt_key, (client["client_id"], client["secret"]), "GBP")


def shared_docs(tag, ids, capacity, price, percent_bp, voucher_value, tz):
    """The catalog both accounts create: the same ids and names, different values."""
    return [
        ("locations", {"id": ids["loc"], "name": "Tenancy hall", "timezone": tz}),
        ("schedules", {"id": ids["sched"], "name": "Tenancy hours", "open": "09:00", "close": "17:00",
                       "slot_minutes": 60}),
        ("categories", {"id": ids["cat"], "name": {"en": "Tenancy tickets"}, "flow": "dated",
                        "schedule_id": ids["sched"], "location_id": ids["loc"]}),
        ("events", {"id": ids["event"], "name": "Tenancy gig", "location_id": ids["loc"], "status": "published",
                    "occurrences": [{"id": ids["occ"], "start": ids["gig_day"] + "T20:00:00",
                                     "end": ids["gig_day"] + "T23:00:00"}]}),
        ("pools", {"id": ids["slot_pool"], "name": "Tenancy slots", "capacity": capacity["slot"],
                   "per": "occurrence"}),
        ("pools", {"id": ids["gig_pool"], "name": "Tenancy seats", "capacity": capacity["gig"], "per": "occurrence"}),
        ("products", {"id": ids["timed"], "name": {"en": "Tenancy entry"}, "price": price["timed"],
                      "category_ids": [ids["cat"]], "pools": [{"pool_id": ids["slot_pool"], "amount": 1}]}),
        ("products", {"id": ids["gig"], "name": {"en": "Tenancy seat"}, "price": price["gig"],
                      "event_id": ids["event"], "pools": [{"pool_id": ids["gig_pool"], "amount": 1}]}),
        ("products", {"id": ids["undated"], "name": {"en": "Tenancy guide"}, "price": price["undated"]}),
        ("discounts", {"id": ids["discount"], "code": ids["code"], "name": "Tenancy discount", "type": "percentage",
                       "percent_bp": percent_bp, "max_redemptions": 1, "external_id": "ext-" + tag}),
        ("vouchers", {"id": ids["voucher"], "name": "Tenancy voucher", "value": voucher_value}),
    ]


def own_docs(prefix, tz):
    """One object of every kind that only one account has."""
    return {
        "locations": {"id": prefix + "loc", "name": "Only here", "timezone": tz},
        "schedules": {"id": prefix + "sched", "open": "10:00", "close": "12:00"},
        "categories": {"id": prefix + "cat", "name": "Only here"},
        "events": {"id": prefix + "event", "name": "Only here", "status": "published",
                   "occurrences": [{"id": prefix + "occ", "start": day(12) + "T19:00:00"}]},
        "pools": {"id": prefix + "pool", "capacity": 7},
        "products": {"id": prefix + "prod", "name": "Only here", "price": 100},
        "discounts": {"id": prefix + "disc", "code": prefix.upper() + "CODE", "type": "fixed", "amount": 50},
        "vouchers": {"id": prefix + "vouch", "name": "Only here", "value": 100},
    }


def world(c):
    """Both accounts with their catalogs, made once per run; Skip when B cannot be made."""
    if "A" in _world:
        return _world
    b = make_second_account(c)
    a = Tenant("A", "demo", ADMIN_TOKEN, TT_API_KEY, OAUTH_CLIENT, "EUR")
    tag = uuid.uuid4().hex[:8]
    ids = {k: "tn-%s-%s" % (tag, k) for k in ("loc", "sched", "cat", "event", "slot_pool", "gig_pool", "timed",
                                             "gig", "undated", "discount", "voucher")}
    ids["occ"] = "oc_tn_" + tag
    ids["code"] = "TN-" + tag.upper()
    ids["voucher_code"] = "TNV-" + tag.upper()
    ids["gig_day"] = day(14)
    values = {
        a: dict(capacity={"slot": 5, "gig": 4}, price={"timed": 1000, "gig": 3000, "undated": 1000},
                percent_bp=1000, voucher_value=300, tz="Europe/Amsterdam"),
        b: dict(capacity={"slot": 3, "gig": 2}, price={"timed": 2000, "gig": 4000, "undated": 2000},
                percent_bp=5000, voucher_value=700, tz="Europe/London"),
    }
    docs = {}
    for t in (a, b):
        docs[t] = {}
        for plural, doc in shared_docs(tag, ids, **values[t]):
            docs[t][doc["id"]] = expect(t.admin(c, "POST", "/" + plural, doc), 201)
    only = {a: own_docs("tn-%s-a-" % tag, "Europe/Amsterdam"), b: own_docs("tn-%s-b-" % tag, "Europe/London")}
    only_made = {a: {}, b: {}}
    for t in (a, b):
        for plural in KINDS:
            only_made[t][plural] = expect(t.admin(c, "POST", "/" + plural, only[t][plural]), 201)
    _world.update(A=a, B=b, tag=tag, ids=ids, values=values, docs=docs, only=only, only_made=only_made)
    return _world


def cart(c, t, product, quantity, **extra):
    return t.admin(c, "POST", "/carts", dict({"items": [{"product_id": product, "quantity": quantity}]}, **extra))


def sell(c, t, product, quantity, **extra):
    booking = {k: extra.pop(k) for k in ("discount_code", "voucher_code", "customer") if k in extra}
    made = expect(cart(c, t, product, quantity, **extra), 201)
    return expect(t.admin(c, "POST", "/orders", dict({"cart_id": made["id"], "payment": {"provider": "cash"}},
                                                      **booking)), 201)


def slot_available(c, t, product, date, start):
    slots = expect(t.admin(c, "GET", "/availability", query={"product_id": product, "from": date, "to": date}),
                   200)["data"]
    found = [s["available"] for s in slots if s["start_time"] == start]
    assert len(found) == 1, "%s: no slot %s on %s in %r" % (t, start, date, slots)
    return found[0]


def cv_available(c, t, product, date, start):
    r = t.cv(c, "GET", "/api/v1/products/%s/availability/" % product,
             query={"date_from": date, "date_to": (datetime.date.fromisoformat(date) +
                                                   datetime.timedelta(days=1)).isoformat()})
    found = [s["availability"] for s in expect(r, 200)["results"] if s["timeFrom"] == start]
    assert len(found) == 1, "%s: no Convious slot %s on %s: %r" % (t, start, date, r)
    return found[0]


def tt_left(c, t, occ, product):
    ev = expect(t.tt(c, "GET", "/v1/events/ev_" + occ), 200)
    return next(x for x in ev["ticket_types"] if x["id"] == "tt_" + product)["quantity"]


class Soft:
    """Collects failed checks so one run of a scenario reports every broken step."""

    def __init__(self):
        self.failures = []

    def check(self, what, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except AssertionError as e:
            self.failures.append("%s: %s" % (what, e))
            return None

    def equal(self, what, got, want):
        if got != want:
            self.failures.append("%s: expected %r, got %r" % (what, want, got))

    def done(self):
        assert not self.failures, "%d broken step(s):\n  - %s" % (len(self.failures), "\n  - ".join(self.failures))


# ---- 1. the same ids in both accounts ----

def test_identical_catalog_ids_in_both_accounts(c):
    w = world(c)
    a, b, docs = w["A"], w["B"], w["docs"]
    for t in (a, b):
        for oid, doc in docs[t].items():
            plural = next(p for p, d in shared_docs(w["tag"], w["ids"], **w["values"][t]) if d["id"] == oid)
            assert expect(t.admin(c, "GET", "/%s/%s" % (plural, oid)), 200) == doc, (t, plural, oid)
            listed = [d for d in expect(t.admin(c, "GET", "/" + plural), 200)["data"] if d["id"] == oid]
            assert listed == [doc], (t, plural, listed)
            # the id is taken in this account, whatever the other has
            admin_error(t.admin(c, "POST", "/" + plural, doc), 409, "duplicate_id", "id")
    # the values really differ: each account reads its own
    pools = w["ids"]["slot_pool"]
    assert expect(a.admin(c, "GET", "/pools/" + pools), 200)["capacity"] == 5
    assert expect(b.admin(c, "GET", "/pools/" + pools), 200)["capacity"] == 3
    # a change in one account leaves the other's object as it was
    loc = w["ids"]["loc"]
    before_b = expect(b.admin(c, "GET", "/locations/" + loc), 200)
    patched = expect(a.admin(c, "PATCH", "/locations/" + loc, {"address": "Dam 1"}), 200)
    assert patched["address"] == "Dam 1"
    assert expect(b.admin(c, "GET", "/locations/" + loc), 200) == before_b
    replaced = expect(b.admin(c, "PUT", "/vouchers/" + w["ids"]["voucher"], {"name": "Tenancy voucher", "value": 700,
                                                                            "partial_redemption": True}), 200)
    assert replaced["partial_redemption"] is True
    assert "partial_redemption" not in expect(a.admin(c, "GET", "/vouchers/" + w["ids"]["voucher"]), 200)
    # deleting in one account deletes nothing in the other
    dels = {plural: doc for plural, doc in own_docs("tn-%s-del-" % w["tag"], "UTC").items()}
    for t in (a, b):
        for plural, doc in dels.items():
            expect(t.admin(c, "POST", "/" + plural, doc), 201)
    for plural, doc in dels.items():
        path = "/%s/%s" % (plural, doc["id"])
        kept = expect(b.admin(c, "GET", path), 200)
        r = a.admin(c, "DELETE", path)
        assert r.status == 204, (plural, r)
        admin_error(a.admin(c, "GET", path), 404, "not_found")
        assert expect(b.admin(c, "GET", path), 200) == kept, plural
        assert doc["id"] in [d["id"] for d in expect(b.admin(c, "GET", "/" + plural), 200)["data"]], plural
        assert doc["id"] not in [d["id"] for d in expect(a.admin(c, "GET", "/" + plural), 200)["data"]], plural
        expect(b.admin(c, "DELETE", path), 204)
    # the dialects read each account's own version of the shared product and event
    ids = w["ids"]
    for t, price in ((a, 3000), (b, 4000)):
        ev = expect(t.tt(c, "GET", "/v1/events/ev_" + ids["occ"]), 200)
        assert ev["id"] == "ev_" + ids["occ"] and ev["name"] == "Tenancy gig", ev
        std = [x for x in ev["ticket_types"] if x["id"] == "tt_" + ids["gig"]]
        assert len(std) == 1 and std[0]["price"] == price, (t, ev["ticket_types"])
        prod = expect(t.cv(c, "GET", "/api/v1/products/%s/" % ids["timed"], query={"include": "name,account"}), 200)
        assert prod["id"] == ids["timed"] and prod["name"]["en"] == "Tenancy entry", prod
        assert prod["accountSlug"] == t.slug, (t, prod)
        cats = expect(t.cv(c, "GET", "/api/v1/categories/", query={"include": "name"}), 200)["results"]
        assert [x["name"]["en"] for x in cats if x["id"] == ids["cat"]] == ["Tenancy tickets"], (t, cats)


# ---- 2. capacity ----

def _same_ids_capacity(c, w, soft):
    """Pools with one id, capacity 5 in A and 3 in B: each account sells exactly its own."""
    a, b, ids = w["A"], w["B"], w["ids"]
    timed = ids["timed"]
    date, start = day(20), "10:00:00"
    slot = {"date": date, "start_time": "10:00"}
    # B fills its slot completely
    b_order = soft.check("B sells its 3 seats", sell, c, b, timed, 3, **slot)
    soft.check("B's 4th seat is sold out", admin_error, cart(c, b, timed, 1, **slot), 409, "sold_out")
    soft.equal("B's availability when full", soft.check("B availability", slot_available, c, b, timed, date, start), 0)
    # A's pool of the same id is untouched
    soft.equal("A's admin availability after B sold out",
               soft.check("A availability", slot_available, c, a, timed, date, start), 5)
    soft.equal("A's Convious availability after B sold out",
               soft.check("A Convious availability", cv_available, c, a, timed, date, start), 5)
    held = soft.check("A holds 4 of its 5 seats", lambda: expect(cart(c, a, timed, 4, **slot), 201))
    if held:
        soft.check("A books the 4", lambda: expect(a.admin(c, "POST", "/orders", {"cart_id": held["id"]}), 201))
    soft.check("A sells its 5th seat", sell, c, a, timed, 1, **slot)
    soft.check("A's 6th seat is sold out", admin_error, cart(c, a, timed, 1, **slot), 409, "sold_out")
    soft.check("A's 6th seat is sold out (Convious)", cv_error,
               a.cv(c, "POST", "/api/v1/accounts/%s/carts/" % a.slug,
                    {"categoryId": ids["cat"], "eventDate": date, "startTime": start,
                     "items": [{"productId": timed, "amount": 1}]}), 409, "sold_out")
    soft.equal("A's availability when full",
               soft.check("A availability", slot_available, c, a, timed, date, start), 0)
    # A's sold-out changes nothing for B: a cancelled B order gives B back exactly its seats
    if b_order:
        soft.check("B cancels", lambda: expect(b.admin(c, "POST", "/orders/%s/cancel" % b_order["id"]), 200))
        soft.equal("B's availability after cancelling 3",
                   soft.check("B availability", slot_available, c, b, timed, date, start), 3)
        soft.equal("B's Convious availability after cancelling 3",
                   soft.check("B Convious availability", cv_available, c, b, timed, date, start), 3)
        soft.equal("A's availability after B cancelled",
                   soft.check("A availability", slot_available, c, a, timed, date, start), 0)
        soft.check("A is still sold out after B cancelled", admin_error, cart(c, a, timed, 1, **slot), 409,
                   "sold_out")
        soft.check("B sells 3 again", sell, c, b, timed, 3, **slot)
    # the event pools, through Ticket Tailor: 4 in A, 2 in B, one occurrence id
    occ, gig = ids["occ"], ids["gig"]
    form = {"event_id": "ev_" + occ, "ticket_type_id": "tt_" + gig, "full_name": "Tenancy"}
    for i in range(2):
        soft.check("B issues ticket %d of 2" % (i + 1), lambda: expect(b.tt(c, "POST", "/v1/issued_tickets",
                                                                          form=form), 201))
    soft.check("B's 3rd ticket is refused", tt_error, b.tt(c, "POST", "/v1/issued_tickets", form=form), 422)
    soft.equal("B's ticket type quantity when full", soft.check("B TT event", tt_left, c, b, occ, gig), 0)
    soft.equal("A's ticket type quantity after B sold out", soft.check("A TT event", tt_left, c, a, occ, gig), 4)
    for i in range(4):
        soft.check("A issues ticket %d of 4" % (i + 1), lambda: expect(a.tt(c, "POST", "/v1/issued_tickets",
                                                                          form=form), 201))
    soft.check("A's 5th ticket is refused", tt_error, a.tt(c, "POST", "/v1/issued_tickets", form=form), 422)
    soft.equal("A's ticket type quantity when full", soft.check("A TT event", tt_left, c, a, occ, gig), 0)
    # capacity changes apply to the own account only
    soft.check("B raises its slot pool to 50", lambda: expect(b.admin(c, "PATCH", "/pools/" + ids["slot_pool"],
                                                                      {"capacity": 50}), 200))
    soft.check("A is still sold out after B raised its capacity", admin_error, cart(c, a, timed, 1, **slot), 409,
               "sold_out")
    soft.equal("A's availability after B raised its capacity",
               soft.check("A availability", slot_available, c, a, timed, date, start), 0)
    soft.equal("B's availability after raising to 50",
               soft.check("B availability", slot_available, c, b, timed, date, start), 47)
    # and A may lower its own pool to what A sold, whatever B holds
    soft.check("A lowers its slot pool to its 5 sold",
               lambda: expect(a.admin(c, "PATCH", "/pools/" + ids["slot_pool"], {"capacity": 5}), 200))
    soft.check("A may not lower below its 5 sold", admin_error,
               a.admin(c, "PATCH", "/pools/" + ids["slot_pool"], {"capacity": 4}), 409, "capacity_below_sold",
               "capacity")


def _demo_pool_id_in_another_account(c, w, soft):
    """B makes a pool with the demo museum pool's id: the demo's 100-seat slots stay the demo's."""
    a, b, tag = w["A"], w["B"], w["tag"]
    rnd = random.Random(tag)
    date = day(rnd.randint(40, 100))
    hour = rnd.randint(9, 16)
    start, hhmm = "%02d:00:00" % hour, "%02d:00" % hour
    expect(b.admin(c, "POST", "/schedules", {"id": "tn-%s-hj-sched" % tag, "open": "09:00", "close": "17:00",
                                             "slot_minutes": 60}), 201)
    expect(b.admin(c, "POST", "/categories", {"id": "tn-%s-hj-cat" % tag, "name": "Hijack", "flow": "dated",
                                              "schedule_id": "tn-%s-hj-sched" % tag}), 201)
    # ids are per account: B may use the demo's pool id
    expect(b.admin(c, "POST", "/pools", {"id": DEMO_POOL, "name": "Museum timeslot", "capacity": 1,
                                         "per": "occurrence"}), 201)
    product = expect(b.admin(c, "POST", "/products", {"id": "tn-%s-hj-prod" % tag, "name": "Hijack", "price": 100,
                                                      "category_ids": ["tn-%s-hj-cat" % tag],
                                                      "pools": [{"pool_id": DEMO_POOL, "amount": 1}]}), 201)["id"]
    slot = {"date": date, "start_time": hhmm}
    soft.check("B holds its only seat", lambda: expect(cart(c, b, product, 1, **slot), 201))
    soft.check("B's second seat is sold out", admin_error, cart(c, b, product, 1, **slot), 409, "sold_out")
    soft.equal("the demo's admin availability after B's hold",
               soft.check("demo availability", slot_available, c, a, DEMO_ADULT, date, start), 100)
    soft.equal("the demo's Convious availability after B's hold",
               soft.check("demo Convious availability", cv_available, c, a, DEMO_ADULT, date, start), 100)
    soft.check("the demo's own next cart for that slot", lambda: expect(cart(c, a, DEMO_ADULT, 1, **slot), 201))
    soft.check("B raises its pool to 100000",
               lambda: expect(b.admin(c, "PATCH", "/pools/" + DEMO_POOL, {"capacity": 100000}), 200))
    # the demo fills its 100 seats (one may be held already), and not one more
    for _ in range(6):
        left = soft.check("demo availability", slot_available, c, a, DEMO_ADULT, date, start)
        if not left or left <= 0:
            break
        soft.check("the demo holds %d of its seats" % min(left, 20),
                   lambda: expect(cart(c, a, DEMO_ADULT, min(left, 20), **slot), 201))
    held = [cart(c, a, DEMO_ADULT, 1, **slot) for _ in range(2)]
    for i, r in enumerate(held):
        soft.check("the demo's seat %d beyond its 100 (%s)" % (101 + i, "oversold" if r.status == 201 else "refused"),
                   admin_error, r, 409, "sold_out")
    soft.check("the demo's seat beyond its 100 (Convious)", cv_error,
               a.cv(c, "POST", "/api/v1/accounts/demo/carts/",
                    {"categoryId": DEMO_MUSEUM, "eventDate": date, "startTime": start,
                     "items": [{"productId": DEMO_ADULT, "amount": 1}]}), 409, "sold_out")
    soft.equal("B's availability shows only B's one seat",
               soft.check("B availability", slot_available, c, b, product, date, start), 99999)
    soft.equal("B's Convious availability shows only B's one seat",
               soft.check("B Convious availability", cv_available, c, b, product, date, start), 99999)


def test_pool_ids_are_per_account(c):
    # Fails on the code that keys inventory rows by pool id and occurrence
    # only (not by account); must pass once inventory is per account.
    w = world(c)
    soft = Soft()
    _same_ids_capacity(c, w, soft)
    _demo_pool_id_in_another_account(c, w, soft)
    soft.done()


# ---- 3. one account's objects are 404 to the other ----

def test_catalog_of_one_account_is_404_to_the_other(c):
    w = world(c)
    a, b, only = w["A"], w["B"], w["only"]
    for me, other in ((a, b), (b, a)):
        for plural in KINDS:
            theirs = only[other][plural]
            path = "/%s/%s" % (plural, theirs["id"])
            for method, body in (("GET", None), ("PUT", theirs), ("PATCH", {}), ("DELETE", None)):
                admin_error(me.admin(c, method, path, body), 404, "not_found")
            listed = expect(me.admin(c, "GET", "/" + plural), 200)
            assert theirs["id"] not in [d["id"] for d in listed["data"]], (me, plural)
            assert expect(other.admin(c, "GET", path), 200)["id"] == theirs["id"], (other, plural)
        # references cannot reach into the other account
        admin_error(me.admin(c, "POST", "/categories", {"name": "x", "schedule_id": only[other]["schedules"]["id"]}),
                    400, "unknown_reference", "schedule_id")
        admin_error(me.admin(c, "GET", "/availability", query={"product_id": only[other]["products"]["id"]}), 404,
                    "not_found")
        admin_error(cart(c, me, only[other]["products"]["id"], 1), 400, "unknown_product", "product_id")
        # Convious: products, categories, availability
        prod = only[other]["products"]["id"]
        cv_error(me.cv(c, "GET", "/api/v1/products/%s/" % prod), 404, "not_found")
        cv_error(me.cv(c, "GET", "/api/v1/products/%s/availability/" % prod,
                       query={"date_from": day(1), "date_to": day(2)}), 404, "not_found")
        assert prod not in [p["id"] for p in expect(me.cv(c, "GET", "/api/v1/products/"), 200)["results"]]
        cats = expect(me.cv(c, "GET", "/api/v1/categories/"), 200)["results"]
        assert only[other]["categories"]["id"] not in [x["id"] for x in cats], me
        r = me.cv(c, "POST", "/api/v1/accounts/%s/carts/" % me.slug, {"items": [{"productId": prod, "amount": 1}]})
        assert r.status == 400, r
        # Ticket Tailor: events, ticket types, discounts, vouchers
        occ = only[other]["events"]["occurrences"][0]["id"]
        tt_error(me.tt(c, "GET", "/v1/events/ev_" + occ), 404)
        events = expect(me.tt(c, "GET", "/v1/events"), 200)["data"]
        assert "ev_" + occ not in [e["id"] for e in events], me
        tt_error(me.tt(c, "GET", "/v1/discounts/di_" + only[other]["discounts"]["id"]), 404)
        tt_error(me.tt(c, "POST", "/v1/discounts/di_" + only[other]["discounts"]["id"], json_body={"name": "x"}), 404)
        tt_error(me.tt(c, "DELETE", "/v1/discounts/di_" + only[other]["discounts"]["id"]), 404)
        found = expect(me.tt(c, "GET", "/v1/discounts", query={"code": only[other]["discounts"]["code"]}), 200)
        assert found["data"] == [], (me, found)
        tt_error(me.tt(c, "GET", "/v1/vouchers/vo_" + only[other]["vouchers"]["id"]), 404)
        tt_error(me.tt(c, "GET", "/v1/vouchers/vo_%s/codes" % only[other]["vouchers"]["id"]), 404)
        tt_error(me.tt(c, "DELETE", "/v1/vouchers/vo_" + only[other]["vouchers"]["id"]), 404)
        vouchers = expect(me.tt(c, "GET", "/v1/vouchers"), 200)["data"]
        assert "vo_" + only[other]["vouchers"]["id"] not in [v["id"] for v in vouchers], me
        tt_error(me.tt(c, "POST", "/v1/issued_tickets", form={"event_id": "ev_" + occ, "ticket_type_id": "tt_" + prod,
                                                              "full_name": "x"}), 422)
        # a slug that is not the token's names no account
        cv_error(me.cv(c, "POST", "/api/v1/accounts/%s/carts/" % other.slug,
                       {"items": [{"productId": only[other]["products"]["id"], "amount": 1}]}), 404,
                 "account_not_found")
    # a product's pools name pools of its own account only: A's product that names
    # B's pool id is refused (an unknown pool, 400 unknown_reference) and B's pool
    # is untouched
    b_pool = only[b]["pools"]["id"]
    b_prod = expect(b.admin(c, "POST", "/products", {"id": "tn-%s-b-pooled" % w["tag"], "name": "Pooled",
                                                    "price": 100, "pools": [{"pool_id": b_pool}]}), 201)["id"]
    admin_error(a.admin(c, "POST", "/products", {"id": "tn-%s-a-borrower" % w["tag"], "name": "Borrower",
                                                 "price": 100, "pools": [{"pool_id": b_pool}]}), 400,
                "unknown_reference", "pools")
    left = expect(b.admin(c, "GET", "/availability", query={"product_id": b_prod}), 200)["data"]
    assert [s["available"] for s in left] == [7], left
    sell(c, b, b_prod, 7)
    admin_error(cart(c, b, b_prod, 1), 409, "sold_out")
    # nothing of the other account was changed by any of this
    for t in (a, b):
        for plural in KINDS:
            got = expect(t.admin(c, "GET", "/%s/%s" % (plural, only[t][plural]["id"])), 200)
            assert got == w["only_made"][t][plural], (t, plural, got)


def test_sales_of_one_account_are_404_to_the_other(c):
    w = world(c)
    a, b, ids = w["A"], w["B"], w["ids"]
    for me, other in ((a, b), (b, a)):
        email = "tn-%s-%s@example.com" % (w["tag"], other.label.lower())
        theirs = sell(c, other, ids["undated"], 2, customer={"email": email})
        open_cart = expect(cart(c, other, ids["undated"], 1, external_id="tn-open-" + w["tag"]), 201)
        ticket = theirs["tickets"][0]
        oid, cid, tid = theirs["id"], open_cart["id"], ticket["id"]
        # /admin/v1
        admin_error(me.admin(c, "GET", "/carts/" + cid), 404, "not_found")
        admin_error(me.admin(c, "POST", "/orders", {"cart_id": cid}), 404, "not_found", "cart_id")
        admin_error(me.admin(c, "GET", "/orders/" + oid), 404, "not_found")
        admin_error(me.admin(c, "POST", "/orders/%s/cancel" % oid), 404, "not_found")
        admin_error(me.admin(c, "GET", "/tickets/" + tid), 404, "not_found")
        admin_error(me.admin(c, "POST", "/tickets/%s/void" % tid), 404, "not_found")
        admin_error(me.admin(c, "GET", "/orders", query={"starting_after": oid}), 400, "invalid_cursor",
                    "starting_after")
        for query in ({"number": theirs["number"]}, {"email": email}):
            assert expect(me.admin(c, "GET", "/orders", query=query), 200)["data"] == [], (me, query)
        assert oid not in [o["id"] for o in expect(me.admin(c, "GET", "/orders", query={"limit": 1000}),
                                                   200)["data"]], me
        # Convious
        cv_error(me.cv(c, "GET", "/api/v1/orders/%s/" % oid), 404, "not_found")
        cv_error(me.cv(c, "POST", "/api/v1/orders/%s/status/" % oid, {"status": "cancelled"}), 404, "not_found")
        mine = "/api/v1/accounts/%s/carts/%s/" % (me.slug, cid)
        cv_error(me.cv(c, "GET", mine), 404, "not_found")
        cv_error(me.cv(c, "PATCH", mine, {"items": [{"productId": ids["undated"], "amount": 2}]}), 404, "not_found")
        cv_error(me.cv(c, "DELETE", mine), 404, "not_found")
        cv_error(me.cv(c, "GET", "/api/v1/accounts/%s/carts/%s/" % (other.slug, cid)), 404, "account_not_found")
        booked = cv_error(me.cv(c, "POST", "/api/v1/accounts/%s/bookings/" % me.slug, {"cartId": cid}), 404,
                          "cart_not_found")
        assert booked["field"] == "cartId", booked
        unknown = me.cv(c, "POST", "/api/v1/accounts/%s/bookings/" % me.slug, {"cartId": str(uuid.uuid4())})
        assert (unknown.status, unknown.json) == (404, booked), (unknown, booked)
        for query in ({"order_number": theirs["number"]}, {"email": email}):
            assert expect(me.cv(c, "GET", "/api/v1/orders/", query=query), 200)["results"] == [], (me, query)
        scan = expect(me.cv(c, "POST", "/api/v2/accounts/%s/barcode/scan/" % me.slug,
                            {"barcode": ticket["barcode"]}), 200)
        assert scan["status"] == "error" and scan["errorCode"] == "not_found", (me, scan)
        # Ticket Tailor
        tt_error(me.tt(c, "GET", "/v1/orders/or_" + oid), 404)
        tt_error(me.tt(c, "GET", "/v1/issued_tickets/it_" + tid), 404)
        tt_error(me.tt(c, "POST", "/v1/issued_tickets/it_%s/void" % tid), 404)
        for query in ({"email": email}, {"barcode": ticket["barcode"]}):
            assert expect(me.tt(c, "GET", "/v1/orders", query=query), 200)["data"] == [], (me, query)
        assert "or_" + oid not in [o["id"] for o in expect(me.tt(c, "GET", "/v1/orders"), 200)["data"]], me
        listed = expect(me.tt(c, "GET", "/v1/issued_tickets", query={"limit": "100"}), 200)["data"]
        assert "it_" + tid not in [x["id"] for x in listed], me
        tt_error(me.tt(c, "GET", "/v1/orders", query={"starting_after": "or_" + oid}), 422)
        # nothing happened to the other account's sale
        assert expect(other.admin(c, "GET", "/orders/" + oid), 200)["status"] == "confirmed"
        assert expect(other.admin(c, "GET", "/tickets/" + tid), 200)["status"] == "valid"
        assert expect(other.admin(c, "GET", "/carts/" + cid), 200)["status"] == "open"
        assert expect(other.cv(c, "GET", "/api/v1/orders/%s/" % oid), 200)["id"] == oid
        assert expect(other.tt(c, "GET", "/v1/orders/or_" + oid), 200)["buyer_details"]["email"] == email
        got = expect(other.cv(c, "GET", "/api/v1/accounts/%s/carts/%s/" % (other.slug, cid)), 200)
        assert got["externalId"] == "tn-open-" + w["tag"], got
    # B's whole order lists, in every dialect, are exactly B's own orders
    own = expect(b.admin(c, "GET", "/orders", query={"limit": 1000}), 200)
    assert own["has_more"] is False and own["count"] >= 1, own
    own = {o["id"] for o in own["data"]}
    seen, url = set(), "/api/v1/orders/?page_size=500"
    while url:
        body = expect(b.cv(c, "GET", url), 200)
        seen |= {o["id"] for o in body["results"]}
        url = body["next"] and body["next"][body["next"].index("/convious") + len("/convious"):]
    assert seen == own, (seen ^ own)
    tt = expect(b.tt(c, "GET", "/v1/orders", query={"limit": "100"}), 200)
    assert tt["links"]["next"] is None and {o["id"] for o in tt["data"]} == {"or_" + x for x in own}, tt
    tickets = expect(b.tt(c, "GET", "/v1/issued_tickets", query={"limit": "100"}), 200)["data"]
    assert {t["order_id"] for t in tickets if t.get("order_id")} <= {"or_" + x for x in own}, tickets


# ---- 4. codes and external ids are per account ----

def test_codes_and_external_ids_are_per_account(c):
    w = world(c)
    a, b, ids, tag = w["A"], w["B"], w["ids"], w["tag"]
    code = ids["code"]
    # the same discount code in both accounts (made in world()); each booking uses its own account's
    ext = "tn-ext-" + tag
    orders = {}
    for t, price, percent in ((a, 1000, 10), (b, 2000, 50)):
        o = sell(c, t, ids["undated"], 2, discount_code=code.lower(), external_id=ext)
        assert o["total_gross"] == 2 * price and o["discount_total"] == 2 * price * percent // 100, (t, o)
        assert [(d["code"], d["external_id"]) for d in o["discounts"]] == [(code, "ext-" + tag)], (t, o["discounts"])
        assert o["external_id"] == ext and o["currency"] == t.currency, (t, o)
        orders[t] = o
    # max_redemptions 1 on both, same discount id: each account used its own once
    for t in (a, b):
        made = expect(cart(c, t, ids["undated"], 1), 201)
        admin_error(t.admin(c, "POST", "/orders", {"cart_id": made["id"], "discount_code": code}), 409,
                    "discount_exhausted", "discount_code")
        got = expect(t.tt(c, "GET", "/v1/discounts/di_" + ids["discount"]), 200)
        assert got["times_redeemed"] == 1 and got["code"] == code, (t, got)
        listed = expect(t.tt(c, "GET", "/v1/discounts", query={"code": code}), 200)["data"]
        assert [x["id"] for x in listed] == ["di_" + ids["discount"]] and \
            listed[0]["price_percent"] == (10 if t is a else 50), (t, listed)
    # the same code made through Ticket Tailor in both accounts
    tt_code = "TNT-" + tag.upper()
    made = {}
    for t, price in ((a, 100), (b, 250)):
        d = expect(t.tt(c, "POST", "/v1/discounts", json_body={"code": tt_code, "name": "Same code",
                                                              "type": "fixed_amount", "price": price}), 201)
        assert d["code"] == tt_code and d["price"] == price, d
        made[t] = d
    for t, price in ((a, 100), (b, 250)):
        o = sell(c, t, ids["undated"], 1, discount_code=tt_code)
        assert o["discount_total"] == price, (t, o)
        assert expect(t.tt(c, "GET", "/v1/discounts/" + made[t]["id"]), 200)["times_redeemed"] == 1
    # the same voucher code in both accounts; each payment spends its own account's value
    vcode = ids["voucher_code"]
    vouchers = {}
    for t, value in ((a, 300), (b, 700)):
        v = expect(t.tt(c, "POST", "/v1/vouchers", json_body={"name": "Same code", "value": value,
                                                             "expiry": 2000000000, "codes": [vcode]}), 201)
        assert v["value"] == value and v["total_codes"] == 1, v
        vouchers[t] = v
    paid = sell(c, a, ids["undated"], 1, voucher_code=vcode)
    spent = [p["amount"] for p in paid["payments"] if p["provider"] == "voucher"]
    assert spent == [300] and paid["total_gross"] == 1000, paid["payments"]
    codes = expect(b.tt(c, "GET", "/v1/vouchers/%s/codes" % vouchers[b]["id"]), 200)["data"]
    assert [(x["code"], x["value"], x["used"]) for x in codes] == [(vcode, 700, None)], codes
    paid = sell(c, b, ids["undated"], 1, voucher_code=vcode)
    spent = [p["amount"] for p in paid["payments"] if p["provider"] == "voucher"]
    assert spent == [700] and paid["total_gross"] == 2000, paid["payments"]
    codes = expect(a.tt(c, "GET", "/v1/vouchers/%s/codes" % vouchers[a]["id"]), 200)["data"]
    assert [(x["code"], x["value"]) for x in codes] == [(vcode, 0)], codes
    # a code only the other account has is unknown here
    r = a.admin(c, "POST", "/orders", {"cart_id": expect(cart(c, a, ids["undated"], 1), 201)["id"],
                                       "discount_code": w["only"][b]["discounts"]["code"]})
    admin_error(r, 400, "invalid_discount", "discount_code")
    # external ids: each account finds only its own order
    for t in (a, b):
        found = expect(t.tt(c, "GET", "/v1/orders", query={"txn_id": ext}), 200)["data"]
        assert [o["id"] for o in found] == ["or_" + orders[t]["id"]], (t, found)
        assert found[0]["txn_id"] == ext
    # order numbers are looked up in the own account only
    for me, other in ((a, b), (b, a)):
        n = orders[other]["number"]
        assert expect(me.admin(c, "GET", "/orders", query={"number": n}), 200)["data"] == []
        assert [o["id"] for o in expect(other.admin(c, "GET", "/orders", query={"number": n}), 200)["data"]] == \
            [orders[other]["id"]]
        assert expect(me.cv(c, "GET", "/api/v1/orders/", query={"order_number": n}), 200)["results"] == []
