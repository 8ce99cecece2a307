"""The reply cache of read endpoints (issue 10): a kept reply is never the stale one.

Every cached endpoint of every dialect is a row of ENDPOINTS. Its replies
carry an ETag that If-None-Match turns into a 304; every write a reply depends
on (a hold, a booking, a cancel, a cart expiring, a catalog edit, a closed
date) changes the very next reply of every endpoint that shows it, in this
process at once (its stamps; no sleeping); a write on a day an endpoint does
not cover leaves its reply and ETag as they were; two accounts with the same
ids never see each other's replies; and another server process on the same
database sees a hold within the cache's age (BOXOFFICE_URL2, PostgreSQL run).

The oracle for "not stale" is a fresh render: the same request with some
letters of its path percent-encoded is the same question under a key the cache
has never seen (the key is the URI as sent), so it always misses. A cached
reply must equal it byte for byte (but for pricing tokens' issue second).

The tests build their worlds far in the future (FIRST_DAY), so that
other suites' lists and the days read here never meet."""
import base64
import datetime
import itertools
import json
import os
import random
import time
import urllib.parse
import uuid

import pytest

from harness import ADMIN_TOKEN, CM_PRODUCT_TOKEN, TT_API_KEY, Client, Skip, create_account, expect, unique

# what the world's fixed numbers make visible: two seats a slot, bought two at a time
CAPACITY = 2
CART_AMOUNT = 2
PRICE = 1000
SLOT = "10:00"
REAPER_WAIT_S = 5
FIRST_DAY = 200  # far beyond the other suites' dates, so their event lists never meet these events


def day(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


class Caller:
    """One account's credentials and a request per dialect, any path spelling."""

    def __init__(self, client, slug="demo", admin_token=None, tt_key=None, oauth=None, cm_token=None):
        self.client, self.slug = client, slug
        self.admin_token, self.tt_key, self.oauth = admin_token, tt_key, oauth
        self.cm_token = cm_token
        self._cv = None

    def with_client(self, client):
        other = Caller(client, self.slug, self.admin_token, self.tt_key, self.oauth, self.cm_token)
        other._cv = self._cv
        return other

    def admin(self, method, path, body=None, **kw):
        kw = dict(kw, token=self.admin_token) if self.admin_token else kw
        return self.client.admin(method, path, body, **kw)

    def headers(self, dialect):
        """The Authorization (and Accept) headers a raw request to dialect needs."""
        if dialect == "admin":
            return {"Authorization": "Bearer " + (self.admin_token or ADMIN_TOKEN)}
        if dialect == "convious":
            if self._cv is None:
                self._cv = self.client.convious_token(*([self.oauth] if self.oauth else []))
            return {"Authorization": "Bearer " + self._cv}
        if dialect == "cm":
            return {"X-CM-PRODUCTTOKEN": self.cm_token or CM_PRODUCT_TOKEN}
        key = self.tt_key or TT_API_KEY
        return {"Authorization": "Basic " + base64.b64encode((key + ":").encode()).decode(),
                "Accept": "application/json"}


_spelling = itertools.count(1)


def respell(path, n):
    """path with the letters chosen by n's bits percent-encoded: the same route, another cache key."""
    out, bit = [], 0
    for ch in path:
        if ch.isalpha():
            if n >> bit & 1:
                ch = "%%%02X" % ord(ch)
            bit += 1
        out.append(ch)
    assert n < 1 << bit, "not enough letters in %s to spell it %d ways" % (path, n)
    return "".join(out)


# ---- the world a test builds: a timed product and an event, each day independent ----

def build_world(caller, days, ids=None, price=PRICE, capacity=CAPACITY, tag="Cache"):
    """A product sold in one 10:00 slot a day and an event with one occurrence a day, on `days` days two
    apart (per-occurrence pools: each day's seats are its own). Returns one view per day: what the
    endpoints read on that day."""
    ids = ids or {k: str(uuid.uuid4()) for k in ("sched", "cat", "pool", "timed", "event", "gig_pool", "gig")}
    covered = [day(FIRST_DAY + 2 * i) for i in range(days)]
    occs = ids.get("occs") or ["oc_" + uuid.uuid4().hex[:12] for _ in covered]
    # a start time of its own, so that a Ticket Tailor list filtered on it holds this world's event alone
    start = "T%02d:%02d:%02d" % (random.randrange(12, 22), random.randrange(60), random.randrange(60))
    docs = [
        ("schedules", {"id": ids["sched"], "name": tag + " hours", "open": SLOT, "close": "11:00",
                       "slot_minutes": 60}),
        ("categories", {"id": ids["cat"], "name": {"en": tag + " tickets"}, "flow": "dated",
                        "schedule_id": ids["sched"]}),
        ("pools", {"id": ids["pool"], "name": tag + " slots", "capacity": capacity, "per": "occurrence"}),
        ("products", {"id": ids["timed"], "name": {"en": tag + " entry"}, "price": price,
                      "category_ids": [ids["cat"]], "pools": [{"pool_id": ids["pool"], "amount": 1}]}),
        ("events", {"id": ids["event"], "name": tag + " gig", "status": "published",
                    "occurrences": [{"id": occ, "start": d + start} for occ, d in zip(occs, covered)]}),
        ("pools", {"id": ids["gig_pool"], "name": tag + " seats", "capacity": capacity, "per": "occurrence"}),
        ("products", {"id": ids["gig"], "name": {"en": tag + " seat"}, "price": price, "event_id": ids["event"],
                      "pools": [{"pool_id": ids["gig_pool"], "amount": 1}]}),
    ]
    for kind, doc in docs:
        expect(caller.admin("POST", "/" + kind, doc), 201)
    views = []
    for d, occ in zip(covered, occs):
        w = dict(ids, covered=d, next_day=day_after(d, 1), end=day_after(d, 2), occ=occ, occs=occs)
        w["gig_unix"] = str(expect(get(caller, ENDPOINT["tt_event"], w), 200)["start"]["unix"])
        views.append(w)
    return views


def day_after(d, n):
    return (datetime.date.fromisoformat(d) + datetime.timedelta(days=n)).isoformat()


# ---- the cached endpoints ----

class Endpoint:
    def __init__(self, name, dialect, method, path, query=None, body=None):
        self.name, self.dialect, self.method = name, dialect, method
        self.path, self.query, self.body = path, query or {}, body

    def url(self, caller, w):
        prefix = {"admin": "/admin/v1", "convious": "/convious/api/v1", "tickettailor": "/tickettailor",
                  "cm": "/cm/ticketingapi/v2.0/ticketshop"}[self.dialect]
        return prefix + self.path.format(slug=caller.slug, **w)

    def __repr__(self):
        return self.name


def cart_question(w):
    return {"categoryId": w["cat"], "products": [{"id": w["timed"], "amount": CART_AMOUNT}]}


ENDPOINTS = [
    Endpoint("admin_availability", "admin", "GET", "/availability",
             {"product_id": "{timed}", "from": "{covered}", "to": "{covered}"}),
    Endpoint("admin_gig_availability", "admin", "GET", "/availability",
             {"product_id": "{gig}", "from": "{covered}", "to": "{covered}"}),
    Endpoint("admin_products", "admin", "GET", "/products"),
    Endpoint("admin_product", "admin", "GET", "/products/{timed}"),
    Endpoint("admin_categories", "admin", "GET", "/categories"),
    Endpoint("admin_category", "admin", "GET", "/categories/{cat}"),
    Endpoint("admin_events", "admin", "GET", "/events"),
    Endpoint("admin_event", "admin", "GET", "/events/{event}"),
    Endpoint("cv_product_availability", "convious", "GET", "/products/{timed}/availability/",
             {"date_from": "{covered}", "date_to": "{next_day}"}),
    Endpoint("cv_gig_availability", "convious", "GET", "/products/{gig}/availability/",
             {"date_from": "{covered}", "date_to": "{next_day}"}),
    Endpoint("cv_cart_day", "convious", "POST", "/accounts/{slug}/availability/{covered}/", body=cart_question),
    Endpoint("cv_cart_period", "convious", "POST", "/accounts/{slug}/availability/for_period/{covered}/{end}/",
             body=cart_question),
    Endpoint("cv_pricing_day", "convious", "POST", "/accounts/{slug}/pricing/{covered}/", body=cart_question),
    Endpoint("cv_pricing_period", "convious", "POST", "/accounts/{slug}/pricing/for_period/{covered}/{end}/",
             body=cart_question),
    Endpoint("cv_products", "convious", "GET", "/products/", {"category_id": "{cat}", "include": "name"}),
    Endpoint("cv_product", "convious", "GET", "/products/{timed}/", {"include": "name,categories,resources"}),
    Endpoint("cv_categories", "convious", "GET", "/categories/", {"include": "name"}),
    Endpoint("tt_events", "tickettailor", "GET", "/v1/events", {"start_at.gte": "{gig_unix}",
                                                                 "start_at.lte": "{gig_unix}", "limit": "100"}),
    Endpoint("tt_event", "tickettailor", "GET", "/v1/events/ev_{occ}"),
    # the shop's event detail: its ticket statuses are of the event's first occurrence (the first day), so
    # it is in the writes below that change every day alike (docs/dialects/cm.md; holds: test_cm_events.py)
    Endpoint("cm_event", "cm", "GET", "/events/{event}"),
]
ENDPOINT = {e.name: e for e in ENDPOINTS}


def get(caller, e, w, spelling=0, headers=None):
    """e's reply for w; spelling > 0 asks the same under a never-seen key."""
    path = e.url(caller, w)
    if spelling:
        path = respell(path, spelling)
    query = {k: v.format(**w) for k, v in e.query.items()}
    if query:
        path += "?" + urllib.parse.urlencode(query)
    body = json.dumps(e.body(w)) if e.body else None
    h = dict(caller.headers(e.dialect), **(headers or {}))
    return caller.client.request(e.method, path, raw=body, headers=h)


def fresh(caller, e, w):
    return get(caller, e, w, spelling=next(_spelling))


# Their pricing tokens carry the second they were issued: two renders a second apart differ there
# (a kept reply repeats its tokens for the cache's age). Compared without them (`content`).
TIME_VARYING = {"cv_pricing_day", "cv_pricing_period"}


def content(e, resp):
    """What a reply says, but for what changes with the clock's second alone."""
    if e.name not in TIME_VARYING or resp.json is None:
        return resp.raw
    body = json.loads(resp.raw)
    for price in body.get("prices", []):
        price.pop("pricingToken", None)
    return json.dumps(body)


def etag_of(resp):
    tag = resp.header("ETag")
    assert tag and tag.startswith('"') and tag.endswith('"') and len(tag) > 2, resp.headers
    return tag


def reply(caller, e, w):
    """e's reply, checked to be a 200 with an ETag and no staler than a fresh render."""
    r = get(caller, e, w)
    assert r.status == 200, (e, r)
    etag_of(r)
    f = fresh(caller, e, w)
    assert f.status == 200 and content(e, f) == content(e, r), \
        "%s: the cached reply is not what a fresh render says:\n%r\n%r" % (e, r, f)
    return r


# ---- ETag and If-None-Match ----

@pytest.fixture(scope="module")
def shared_world():
    """Two days of one world, for the tests that only read (and one hold on its second day)."""
    return build_world(Caller(Client()), days=2)


@pytest.mark.parametrize("e", ENDPOINTS, ids=lambda e: e.name)
def test_etag_and_if_none_match(c, e, shared_world):
    # a time-varying reply re-rendered in the next second has a new tag: tried again then
    for attempt in range(3 if e.name in TIME_VARYING else 1):
        try:
            return etag_rules(Caller(c), e, shared_world[0])
        except AssertionError:
            if attempt == 2 or e.name not in TIME_VARYING:
                raise


def etag_rules(caller, e, w):
    first = get(caller, e, w)
    assert first.status == 200, first
    tag = etag_of(first)
    again = get(caller, e, w)
    assert again.raw == first.raw and again.header("ETag") == tag, "a repeated read has another reply or ETag"
    for name, sent in (("its own tag", tag), ("its weak form (If-None-Match compares weakly)", "W/" + tag),
                       ("a list naming it", '"0123456789abcdef", ' + tag), ("*", "*")):
        r = get(caller, e, w, headers={"If-None-Match": sent})
        assert r.status == 304, "%s with %s: %r" % (e, name, r)
        assert r.raw == "", "a 304 has no body: %r" % r.raw
        assert r.header("ETag") == tag, "a 304 names the tag it matched: %r" % r.headers
    for name, sent in (("another tag", '"0123456789abcdef0123456789abcdef"'),
                       ("another weak tag", 'W/"0123456789abcdef0123456789abcdef"'),
                       ("a prefix of it", tag[:-2] + '"'), ("it unquoted", tag.strip('"'))):
        r = get(caller, e, w, headers={"If-None-Match": sent})
        assert r.status == 200 and r.raw == first.raw and r.header("ETag") == tag, "%s with %s: %r" % (e, name, r)
    # a miss (a key never seen) renders the same bytes, so the same tag, and honours If-None-Match too
    f = get(caller, e, w, spelling=next(_spelling), headers={"If-None-Match": tag})
    assert f.status == 304 and f.header("ETag") == tag, f


# ---- writes change the very next reply ----

def hold(caller, w, **extra):
    """One seat of the day's slot and one of its gig, in two carts."""
    timed = expect(caller.admin("POST", "/carts", dict({"items": [{"product_id": w["timed"], "quantity": 1}],
                                                        "date": w["covered"], "start_time": SLOT}, **extra)), 201)
    gig = expect(caller.admin("POST", "/carts", dict({"items": [{"product_id": w["gig"], "quantity": 1}],
                                                      "occurrence_id": w["occ"]}, **extra)), 201)
    return [timed["id"], gig["id"]]


def book(caller, carts):
    return [expect(caller.admin("POST", "/orders", {"cart_id": cart, "payment": {"provider": "cash"}}), 201)["id"]
            for cart in carts]


def cancel(caller, orders):
    for order in orders:
        assert expect(caller.admin("POST", "/orders/%s/cancel" % order), 200)["status"] == "cancelled"


def move_clock(caller, seconds):
    r = caller.admin("POST", "/test/clock", {"advance_seconds": seconds})
    if r.status == 404:
        raise Skip("server runs without --test-clock")
    expect(r, 200)


def expire(caller, w):
    """Moves the clock past the carts' hold and waits for the reaper to give the seats back, as a fresh
    render sees it (a key never asked before cannot be served from the cache)."""
    move_clock(caller, 11)
    deadline = time.monotonic() + REAPER_WAIT_S
    while True:
        slots = [expect(fresh(caller, ENDPOINT[name], w), 200)["data"][0]
                 for name in ("admin_availability", "admin_gig_availability")]
        if all(s["available"] == CAPACITY for s in slots):
            return
        assert time.monotonic() < deadline, "the reaper did not release the expired holds: %r" % slots
        time.sleep(0.05)


def patch(caller, kind, id_, doc):
    expect(caller.admin("PATCH", "/%s/%s" % (kind, id_), doc), 200)


COUNTS = ["admin_availability", "admin_gig_availability", "cv_product_availability", "cv_gig_availability",
          "tt_events", "tt_event"]
CART_QUESTIONS = ["cv_cart_day", "cv_cart_period", "cv_pricing_day", "cv_pricing_period"]
SEATS = COUNTS + CART_QUESTIONS
TIMED_SEATS = ["admin_availability", "cv_product_availability"] + CART_QUESTIONS
PRODUCT_DOC = ["admin_products", "admin_product", "cv_products", "cv_product"]
PRICE_SHOWN = ["admin_products", "admin_product", "cv_pricing_day", "cv_pricing_period", "tt_events", "tt_event",
               "cm_event"]


def nothing(caller, w):
    return None


def set_capacity(caller, w, i):
    # 2 -> 1 -> 2 ...: each step changes the counts, and whether a cart of two fits
    for pool in (w["pool"], w["gig_pool"]):
        patch(caller, "pools", pool, {"capacity": CAPACITY - 1 if i % 2 == 0 else CAPACITY})


# name: (what happens first, the write under test (caller, day's view, what happened first, step),
#        the endpoints whose very next reply it must change)
WRITES = {
    "hold": (nothing, lambda caller, w, _, i: hold(caller, w, hold_seconds=600), SEATS),
    # a booking sells seats that were held: availability stays, the issued tickets show it
    "booking": (hold, lambda caller, w, carts, i: book(caller, carts), ["tt_events", "tt_event"]),
    "cancel": (lambda caller, w: book(caller, hold(caller, w)), lambda caller, w, orders, i: cancel(caller, orders),
               SEATS),
    "cart_expiry": (lambda caller, w: hold(caller, w, hold_seconds=10), lambda caller, w, _, i: expire(caller, w),
                    SEATS),
    "price": (nothing, lambda caller, w, _, i: [patch(caller, "products", w[p], {"price": PRICE + 1 + i})
                                                for p in ("timed", "gig")], PRICE_SHOWN),
    "name": (nothing, lambda caller, w, _, i: [patch(caller, "products", w[p], {"name": {"en": unique("Renamed")}})
                                               for p in ("timed", "gig")],
             PRODUCT_DOC + ["tt_events", "tt_event", "cm_event"]),
    "capacity": (nothing, lambda caller, w, _, i: set_capacity(caller, w, i), SEATS),
    "closed_date": (nothing, lambda caller, w, _, i: patch(caller, "schedules", w["sched"], {
        "closed_dates": [day(FIRST_DAY + 2 * k) for k in range(i + 1)]}), TIMED_SEATS),
    "category": (nothing, lambda caller, w, _, i: patch(caller, "categories", w["cat"],
                                                        {"name": {"en": unique("Renamed")}}),
                 ["admin_categories", "admin_category", "cv_categories"]),
    "event": (nothing, lambda caller, w, _, i: patch(caller, "events", w["event"], {"name": unique("Renamed gig")}),
              ["admin_events", "admin_event", "tt_events", "tt_event", "cm_event"]),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_write_changes_the_next_reply(c, write):
    """For each endpoint that shows it: its reply is kept, the write happens, and the very next reply
    is the new one. Each endpoint gets a day of its own, so that the read, the write and the read
    again follow each other closely (well within the cache's age: the stamp, not the age, decides)."""
    setup, act, names = WRITES[write]
    caller = Caller(c)
    views = build_world(caller, days=len(names))
    stale = []
    for i, (name, w) in enumerate(zip(names, views)):
        e = ENDPOINT[name]
        state = setup(caller, w)
        before = reply(caller, e, w)
        assert get(caller, e, w).raw == before.raw  # kept, and served again
        act(caller, w, state, i)
        after = get(caller, e, w)
        assert after.status == 200, (e, after)
        if content(e, after) == content(e, before) or etag_of(after) == etag_of(before):
            stale.append("%s: the reply after the %s is the one before it (%s)" % (e, write, after.raw[:300]))
            continue
        if content(e, fresh(caller, e, w)) != content(e, after):
            stale.append("%s: the reply after the %s is not what a fresh render says" % (e, write))
        again = get(caller, e, w, headers={"If-None-Match": etag_of(before)})
        if again.status != 200 or content(e, again) != content(e, after):
            stale.append("%s: the ETag from before the %s still gets %r" % (e, write, again))
    assert not stale, "\n".join(stale)


def test_hold_on_another_day_leaves_covered_replies_alone(c, shared_world):
    caller, w, other = Caller(c), shared_world[0], shared_world[1]
    day_bound = TIMED_SEATS + ["admin_gig_availability", "cv_gig_availability", "tt_event", "cm_event"] + PRODUCT_DOC
    before = {name: reply(caller, ENDPOINT[name], w) for name in day_bound}
    expect(caller.admin("POST", "/carts", {"items": [{"product_id": w["timed"], "quantity": CAPACITY}],
                                           "date": other["covered"], "start_time": SLOT, "hold_seconds": 600}), 201)
    expect(caller.admin("POST", "/carts", {"items": [{"product_id": w["gig"], "quantity": CAPACITY}],
                                           "occurrence_id": other["occ"], "hold_seconds": 600}), 201)
    for name in day_bound:
        e = ENDPOINT[name]
        after = reply(caller, e, w)
        assert content(e, after) == content(e, before[name]), \
            "%s changed with a hold on %s, a day it does not cover" % (name, other["covered"])
        if name in TIME_VARYING:
            continue
        assert etag_of(after) == etag_of(before[name]), (name, after.headers)
        r = get(caller, e, w, headers={"If-None-Match": etag_of(before[name])})
        assert r.status == 304, (name, r)
    # and the day the holds are on does show them
    for name in ("admin_availability", "admin_gig_availability"):
        assert expect(get(caller, ENDPOINT[name], other), 200)["data"][0]["available"] == 0


# ---- accounts ----

def second_account(c):
    token = "adm_" + uuid.uuid4().hex
    slug = "cache-" + uuid.uuid4().hex[:10]
    create_account(slug, "Cache tenant", "Europe/Amsterdam", "EUR", token)
    tt_key = expect(c.admin("POST", "/credentials", {"kind": "api_key"}, token=token), 201)["secret"]
    client = expect(c.admin("POST", "/credentials", {"kind": "oauth_client"}, token=token), 201)
    cm_token = expect(c.admin("POST", "/credentials", {"kind": "product_token"}, token=token), 201)["secret"]
    return Caller(c, slug, token, tt_key, (client["client_id"], client["secret"]), cm_token)


def test_accounts_with_the_same_ids_never_share_replies(c):
    a = Caller(c)
    b = second_account(c)
    ids = {k: str(uuid.uuid4()) for k in ("sched", "cat", "pool", "timed", "event", "gig_pool", "gig")}
    ids["occs"] = ["oc_" + uuid.uuid4().hex[:12]]
    wa = build_world(a, 1, dict(ids), price=PRICE, capacity=CAPACITY, tag="Tenant A")[0]
    # B's values differ wherever a reply shows them: price, names, seats (a cart of two does not fit)
    wb = build_world(b, 1, dict(ids), price=PRICE * 3, capacity=CAPACITY - 1, tag="Tenant B")[0]
    for e in ENDPOINTS:
        first_a = reply(a, e, wa)
        first_b = reply(b, e, wb)
        assert content(e, first_a) != content(e, first_b), "%s: two accounts' different catalogs render alike" % e
        # alternate while both are kept: each account gets its own, every time
        for _ in range(3):
            assert content(e, get(b, e, wb)) == content(e, first_b), "%s: account B was served another reply" % e
            assert content(e, get(a, e, wa)) == content(e, first_a), "%s: account A was served another reply" % e
        crossed = get(b, e, wb, headers={"If-None-Match": etag_of(first_a)})
        assert crossed.status == 200 and content(e, crossed) == content(e, first_b), "%s: A's ETag got B a 304" % e
    # a write in one account changes its own replies only
    kept_a = {name: reply(a, ENDPOINT[name], wa) for name in COUNTS}
    kept_b = {name: reply(b, ENDPOINT[name], wb) for name in COUNTS}
    hold(b, wb, hold_seconds=600)
    for name in COUNTS:
        e = ENDPOINT[name]
        assert etag_of(reply(a, e, wa)) == etag_of(kept_a[name]), "%s: B's hold changed A's reply" % e
        assert reply(b, e, wb).raw != kept_b[name].raw, "%s: B's hold did not change B's reply" % e


# ---- another server process on the same database ----

MULTI_PROCESS_WAIT_S = 1.0  # 100 ms promised (50 ms cache age + 50 ms catalog recheck); the rest is slack


def wait_for_change(caller, e, w, old):
    start = time.monotonic()
    while True:
        r = get(caller, e, w)
        if r.status == 200 and r.raw != old.raw:
            return r
        if time.monotonic() - start > MULTI_PROCESS_WAIT_S:
            raise AssertionError("%s on the other server still shows the reply from before after %.1f s" % (
                e, MULTI_PROCESS_WAIT_S))
        time.sleep(0.01)


def test_other_process_sees_writes_within_the_cache_age(c):
    url2 = os.environ.get("BOXOFFICE_URL2")
    if not url2:
        raise Skip("single server run (BOXOFFICE_URL2 unset)")
    here = Caller(c)
    there = here.with_client(Client(url2))
    w = build_world(here, 1)[0]
    watched = ["admin_availability", "admin_gig_availability", "admin_product", "cv_product"]
    before = {}
    for name in watched:  # the other server learns of the new catalog within its recheck
        deadline = time.monotonic() + MULTI_PROCESS_WAIT_S
        while True:
            before[name] = get(there, ENDPOINT[name], w)
            if before[name].status == 200:
                break
            assert time.monotonic() < deadline, "%s: the other server never saw the new catalog" % name
            time.sleep(0.01)
    # a long hold: earlier tests moved this server's test clock, not the other's
    hold(here, w, hold_seconds=86400)
    for name in watched[:2]:
        seen = wait_for_change(there, ENDPOINT[name], w, before[name])
        assert seen.json["data"][0]["available"] == CAPACITY - 1, seen
    patch(here, "products", w["timed"], {"price": PRICE + 7})
    patch(here, "products", w["timed"], {"name": {"en": unique("Renamed")}})
    for name in watched[2:]:
        wait_for_change(there, ENDPOINT[name], w, before[name])
    # and the other way round
    seen_here = get(here, ENDPOINT["admin_availability"], w)
    hold(there, w, hold_seconds=86400)
    seen = wait_for_change(here, ENDPOINT["admin_availability"], w, seen_here)
    assert seen.json["data"][0]["available"] == CAPACITY - 2, seen
