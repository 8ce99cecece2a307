"""Tenancy over the route tables: every authenticated route of every dialect,
called by a fresh account C with the ids of the demo account A's objects,
finds nothing, changes nothing and shows none of A's data; every list C can
read shows none of A's objects.

The routes come from the server binary itself (`boxoffice routes`), so a route
added later is covered without touching this file: a path parameter this file
cannot fill fails the test, naming it.
"""
import datetime
import os
import subprocess
import uuid

import pytest

from harness import ROOT, Client, Skip, create_account, expect
from fv_channel import fv_ticket_id
from test_rtp_inventory import created, events

GUIDE = "d0000000-0000-4000-8000-000000000007"  # undated, unlimited


def tomorrow(n=1):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def served_routes():
    binary = os.environ.get("BOXOFFICE_BIN") or os.path.join(ROOT, "build/san/boxoffice")
    if not os.path.exists(binary):
        raise Skip("needs BOXOFFICE_BIN to list the routes")
    out = subprocess.run([binary, "routes"], stdout=subprocess.PIPE, check=True, text=True).stdout
    return [tuple(line.split()[:2]) + (int(line.split()[2]),) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def world():
    """A's objects, marked so that a leak shows, and C's credentials."""
    a = Client()
    mark = "tenancy-a-%s@example.com" % uuid.uuid4().hex[:12]
    cart = expect(a.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 2}],
                                             "customer": {"email": mark, "name": "A Buyer"}}), 201)
    order = expect(a.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    open_cart = expect(a.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]}), 201)
    hook = expect(a.admin("POST", "/webhooks", {"url": "http://127.0.0.1:9/", "events": ["ORDER.CREATED"]}), 201)
    pay_cart = expect(a.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}],
                                                 "customer": {"email": mark}}), 201)
    pay_order = expect(a.admin("POST", "/orders", {"cart_id": pay_cart["id"], "pay_later": True}), 201)
    payment = expect(a.admin("POST", "/orders/%s/payments" % pay_order["id"], {"method": "ideal", "callback_urls": {
        k: "https://shop.example/" + k for k in ("success", "failure", "cancel", "expired")}}), 201)
    tag = uuid.uuid4().hex[:8]
    expect(a.tickettailor("POST", "/v1/discounts", form={"code": "TEN-" + tag, "name": "A's discount",
                                                         "type": "percentage", "price_percent": "10"}), 201)
    expect(a.tickettailor("POST", "/v1/vouchers", form={"name": "A's card", "value": "250", "expiry": "2000000000",
                                                        "codes[]": "A-" + tag}), 201)
    # an optional question asks nothing of other bookings
    expect(a.admin("POST", "/questions", {"label": "A's question", "type": "text", "scope": "order"}), 201)
    ids = {"orders": order["id"], "tickets": order["tickets"][0]["id"], "carts": open_cart["id"],
           "webhooks": hook["id"], "payments": payment["id"]}
    # kinds the demo account has none of
    ids["ticket_groups"] = expect(a.admin("POST", "/ticket_groups", {"name": "A's group"}), 201)["id"]
    ids["payment_methods"] = expect(a.admin("POST", "/payment_methods", {"name": "A's till", "kind": "cash"}),
                                    201)["id"]
    for kind in ("locations", "categories", "schedules", "events", "pools", "products", "discounts", "vouchers",
                 "questions"):
        listed = expect(a.admin("GET", "/" + kind), 200)["data"]
        assert listed, "the demo account has no %s" % kind
        ids[kind] = listed[0]["id"]
    ids["guest_lists"] = expect(a.admin("POST", "/guest_lists", {"name": "A's list", "event_id": ids["events"],
                                                                 "prices": [{"id": "p", "name": "Free", "price": 0}]}),
                                201)["id"]
    cv_cart = expect(a.convious("POST", "/api/v1/accounts/demo/carts/",
                                {"items": [{"productId": GUIDE, "amount": 1}]}), 200)
    tt = {}
    for name, path in (("order_id", "/v1/orders"), ("ticket_id", "/v1/issued_tickets"), ("event_id", "/v1/events"),
                       ("discount_id", "/v1/discounts"), ("voucher_id", "/v1/vouchers"),
                       ("event_series_id", "/v1/event_series")):
        data = expect(a.tickettailor("GET", path), 200)["data"]
        assert data, "the demo account has nothing at %s" % path
        tt[name] = data[0]["id"]
    codes = expect(a.tickettailor("GET", "/v1/vouchers/%s/codes" % tt["voucher_id"]), 200)
    codes = codes["data"] if isinstance(codes, dict) else codes
    tt["voucher_code_id"] = codes[0]["id"] if codes else "vc_none"

    concert = "d0000000-0000-4000-8000-000000000008"  # the demo's event: A's CM reservation of it
    reservation = expect(a.request("POST", "/cm/ticketingapi/v2.0/ticketshop/events/%s/reservations" % concert,
                                   json_body={"customer_data": {"first_name": "A", "last_name": "Buyer",
                                                                "email": mark},
                                              "ticket_types": [{"uuid": "d0000000-0000-4000-8000-00000000000a",
                                                                "amount": 1}]},
                                   headers={"X-CM-PRODUCTTOKEN": "11111111-2222-3333-4444-555555555555"}), 201)
    cm_ids = {"event_uuid": concert, "order_id": reservation["order_id"]}
    a_events = expect(a.request("GET", "/fourvenues/events", headers={"X-Api-Key": "fv_demo_key"}), 200)["data"]
    assert a_events, "the demo account has no channel events"
    fv_ids = {"id": a_events[0]["_id"], "slug": a_events[0]["slug"]}
    a_rate = next((r["_id"] for e in a_events for r in e["ticket_rates"]), "0" * 24)
    a_tickets = expect(a.request("GET", "/fourvenues/tickets", headers={"X-Api-Key": "fv_demo_key"}), 200)["data"]
    # a channel ticket id of A's (24 hex: a UUID would be 404 in any account)
    fv_ids.update(rate_id=a_rate, ticket_id=a_tickets[0]["_id"] if a_tickets else fv_ticket_id(ids["tickets"]))
    # a Convious pricing inventory reference of A's (/admin/v1/pricing/references/{reference})
    pricing_token = expect(a.request("POST", "/convious-pricing/oauth/token/", form={
        "grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret"}),
        200)["access_token"]
    ids["reference"] = "tenancy-" + uuid.uuid4().hex[:8]
    events(a, pricing_token, [created(ids["reference"])])
    token = "adm_" + uuid.uuid4().hex
    slug = "tenant-c-" + uuid.uuid4().hex[:8]
    create_account(slug, "Tenant C", "Europe/Paris", "EUR", token)
    c_key = expect(a.admin("POST", "/credentials", {"kind": "api_key"}, token=token), 201)["secret"]
    client = expect(a.admin("POST", "/credentials", {"kind": "oauth_client"}, token=token), 201)
    c_product_token = expect(a.admin("POST", "/credentials", {"kind": "product_token"}, token=token), 201)["secret"]
    c_channel_key = expect(a.admin("POST", "/credentials", {"kind": "channel_key"}, token=token), 201)["secret"]
    cc = Client()
    cc._cv_token = cc.convious_token((client["client_id"], client["secret"]))
    return {"a": a, "mark": mark, "order": order, "ids": ids, "cv": {"cart_id": cv_cart["id"]}, "tt": tt,
            "c": cc, "c_token": token, "c_key": c_key, "c_slug": slug,
            "c_product_token": c_product_token, "cm": cm_ids, "c_channel_key": c_channel_key, "fv": fv_ids}


def fill(path, w):
    """The path with A's ids in its parameters; None names a parameter this file cannot fill."""
    ids, parts = w["ids"], path.split("/")
    for i, part in enumerate(parts):
        if not (part.startswith("{") and part.endswith("}")):
            continue
        name = part[1:-1]
        if path.startswith("/admin/v1/") and name == "id":
            value = ids.get(parts[i - 1])
        elif path.startswith("/admin/v1/") and name == "reference":
            value = ids["reference"]
        elif path.startswith("/admin/v1/") and name == "key":
            value = "KEY123"  # an event's access key: A's event is not found before the key matters
        elif path.startswith("/cm/"):
            value = {"event_uuid": w["cm"]["event_uuid"], "code*": "VEVOLUE=", "year": "2027", "month": "1",
                     "day": "1", "order_id": w["cm"]["order_id"]}.get(name)
        elif path.startswith("/fourvenues/"):
            value = w["fv"].get(name)
            if name == "id" and path.startswith("/fourvenues/ticket-rates/"):
                value = w["fv"]["rate_id"]
            elif name == "id" and path.startswith("/fourvenues/tickets/"):
                value = w["fv"]["ticket_id"]
        elif path.startswith("/convious/"):
            value = {"account_slug": "demo", "cart_id": w["cv"]["cart_id"], "order_id": w["order"]["id"],
                     "product_id": GUIDE, "date": tomorrow(), "date_from": tomorrow(),
                     "date_to": tomorrow(2)}.get(name)
        elif path.startswith("/tickettailor/"):
            value = w["tt"].get(name)
        else:
            value = None
        if value is None:
            return None, name
        parts[i] = value
    return "/".join(parts), None


def call_as_c(w, method, path, body=None, query=None):
    c = w["c"]
    kw = {"query": query} if query else {}
    if path.startswith("/admin/v1"):
        return c.admin(method, path[len("/admin/v1"):], body if method != "GET" else None, token=w["c_token"], **kw)
    if path.startswith("/convious"):
        return c.convious(method, path[len("/convious"):], body if method != "GET" else None, **kw)
    if path.startswith("/tickettailor"):
        extra = {"raw": "", "headers": {"Content-Type": "application/x-www-form-urlencoded"}} \
            if method != "GET" else {}
        return c.tickettailor(method, path[len("/tickettailor"):], key=w["c_key"], **extra, **kw)
    if path.startswith("/cm"):
        return c.request(method, path, query=query, headers={"X-CM-PRODUCTTOKEN": w["c_product_token"]},
                         **({"json_body": body} if method != "GET" else {}))
    if path.startswith("/fourvenues"):
        return c.request(method, path, query=query, headers={"X-Api-Key": w["c_channel_key"]},
                         **({"json_body": body} if method != "GET" else {}))
    raise AssertionError("unknown dialect of " + path)


def leaks(w, resp):
    """A's private data in a reply: the buyer's email, the order, a barcode."""
    text = resp.raw or ""
    marks = [w["mark"], w["order"]["number"]] + [t["barcode"] for t in w["order"]["tickets"]]
    return [m for m in marks if m and m in text]


def test_every_route_with_ids_finds_nothing_of_another_account(world):
    w, problems, called = world, [], []
    for method, path, auth in served_routes():
        if not auth or path.startswith("/admin/v1/test/"):
            continue  # public routes; the test clock is not an account's
        if path.startswith("/admin/v1/payment_providers/"):
            continue  # {provider} names a provider, not A's row: each account reads its own (test_payment_providers)
        if "{" not in path:
            continue  # lists and creates: below
        filled, missing = fill(path, w)
        if missing:
            problems.append("%s %s: no A id for {%s} (teach fill())" % (method, path, missing))
            continue
        r = call_as_c(w, method, filled, body={})
        called.append(r.status)
        if 200 <= r.status < 300:
            problems.append("%s %s -> %d with another account's ids" % (method, filled, r.status))
        elif r.status >= 500:
            problems.append("%s %s -> %d" % (method, filled, r.status))
        if leaks(w, r):
            problems.append("%s %s leaks %s" % (method, filled, leaks(w, r)))
    assert not problems, "\n".join(problems)
    assert len(called) >= 50, "only %d routes with ids were tried" % len(called)
    assert 404 in called, "no route answered not found: %s" % sorted(set(called))


def test_every_list_shows_nothing_of_another_account(world):
    w, problems, lists = world, [], 0
    for method, path, auth in served_routes():
        if not auth or method != "GET" or "{" in path.replace("{account_slug}", ""):
            continue
        path = path.replace("{account_slug}", w["c_slug"])
        r = call_as_c(w, "GET", path)
        lists += r.status == 200
        if r.status >= 500:
            problems.append("GET %s -> %d" % (path, r.status))
        if leaks(w, r):
            problems.append("GET %s leaks %s" % (path, leaks(w, r)))
        for own in (w["ids"]["orders"], w["ids"]["tickets"]):
            if own in (r.raw or ""):
                problems.append("GET %s shows A's %s" % (path, own))
    assert not problems, "\n".join(problems)
    assert lists >= 20, "only %d lists answered 200" % lists


def test_barcodes_and_carts_of_another_account_through_own_paths(world):
    w = world
    slug = w["c_slug"]
    for t in w["order"]["tickets"]:
        for method in ("GET", "POST"):
            body = {"barcode": t["barcode"]} if method == "POST" else None
            query = {"barcode": t["barcode"]} if method == "GET" else None
            r = call_as_c(w, method, "/convious/api/v2/accounts/%s/barcode/scan/" % slug, body, query)
            assert r.status in (200, 400, 404) and not (r.json or {}).get("status") == "success", r
            assert not leaks(w, r) or leaks(w, r) == [t["barcode"]], leaks(w, r)
    r = call_as_c(w, "POST", "/convious/api/v1/accounts/%s/bookings/" % slug, {"cartId": w["cv"]["cart_id"]})
    assert r.status in (400, 404), r
    r = call_as_c(w, "POST", "/admin/v1/orders", {"cart_id": w["ids"]["carts"]})
    assert r.status in (400, 404), r


def test_nothing_of_a_changed(world):
    """Runs last in this module (alphabetical): A's objects survived every call C made."""
    w, a = world, world["a"]
    order = expect(a.admin("GET", "/orders/" + w["order"]["id"]), 200)
    assert order["status"] == "confirmed" and all(t["status"] == "valid" for t in order["tickets"]), order
    assert all(t["scan"]["used"] == 0 for t in order["tickets"]), order["tickets"]
    assert expect(a.admin("GET", "/carts/" + w["ids"]["carts"]), 200)["status"] == "open"
    expect(a.admin("GET", "/webhooks/" + w["ids"]["webhooks"]), 200)
    for kind in ("locations", "categories", "schedules", "events", "pools", "products", "discounts", "vouchers",
                 "questions", "ticket_groups", "payment_methods", "guest_lists"):
        expect(a.admin("GET", "/%s/%s" % (kind, w["ids"][kind])), 200)
    for name, path in (("order_id", "/v1/orders/"), ("discount_id", "/v1/discounts/"),
                       ("voucher_id", "/v1/vouchers/")):
        expect(a.tickettailor("GET", path + w["tt"][name]), 200)
    a.admin("DELETE", "/webhooks/" + w["ids"]["webhooks"])  # nothing listens on port 9
    # made by world(): leave the demo account as it was
    for kind in ("ticket_groups", "payment_methods", "guest_lists"):
        a.admin("DELETE", "/%s/%s" % (kind, w["ids"][kind]))
