"""Ticket groups, payment methods per event and voucher event series (issue 11):
managed through /admin/v1 (CRUD, references checked, deletes of what is in use
refused), served by Ticket Tailor in the doc's shapes (ticket_groups and
payment_methods on events, group_id on ticket types, event_series_ids on
vouchers), and enforced by the engine: a group's max_per_order over the cart,
a voucher's events when its code pays (refused with nothing spent)."""
import time

from harness import admin_error, expect, unique
from test_tickettailor_discounts import tt_error

GUIDE = "d0000000-0000-4000-8000-000000000007"  # a demo product of no event


class Catalog:
    """Objects a test made, deleted afterwards (dependants first) so the demo
    account's events look as before to the tests after this module."""

    def __init__(self, c):
        self.c = c
        self.made = []

    def add(self, plural, doc):
        obj = expect(self.c.admin("POST", "/" + plural, doc), 201)
        self.made.append((plural, obj["id"]))
        return obj

    def event(self, **extra):
        occ = unique("oc")
        doc = {"name": "Tulip festival", "occurrences": [{"id": occ, "start": "2031-05-01T18:00:00"}]}
        doc.update(extra)
        return self.add("events", doc), occ

    def product(self, event_id, name, **extra):
        doc = {"name": name, "price": 800, "event_id": event_id}
        doc.update(extra)
        return self.add("products", doc)

    def cleanup(self):
        for plural, oid in reversed(self.made):
            r = self.c.admin("DELETE", "/%s/%s" % (plural, oid))
            assert r.status in (204, 404), (plural, oid, r)


def tt_event(c, occ):
    return expect(c.tickettailor("GET", "/v1/events/ev_" + occ), 200)


def test_ticket_groups_on_events_and_ticket_types(c):
    cat = Catalog(c)
    try:
        ev, occ = cat.event()
        empty = cat.add("ticket_groups", {"name": "April 21st", "sort_order": 10, "event_id": ev["id"]})
        group = cat.add("ticket_groups", {"name": "April 20th", "sort_order": 20, "max_per_order": 3})
        assert group["name"] == "April 20th" and group["max_per_order"] == 3
        adult = cat.product(ev["id"], "Adult", group_id=group["id"])
        senior = cat.product(ev["id"], "Senior", group_id=group["id"])
        plain = cat.product(ev["id"], "Plain")
        x = tt_event(c, occ)
        assert x["ticket_groups"] == [
            {"id": "tg_" + empty["id"], "max_per_order": None, "name": "April 21st", "sort_order": 10,
             "ticket_ids": []},
            {"id": "tg_" + group["id"], "max_per_order": 3, "name": "April 20th", "sort_order": 20,
             "ticket_ids": ["tt_" + adult["id"], "tt_" + senior["id"]]},
        ], x["ticket_groups"]
        groups = {t["id"]: t["group_id"] for t in x["ticket_types"]}
        assert groups == {"tt_" + adult["id"]: "tg_" + group["id"], "tt_" + senior["id"]: "tg_" + group["id"],
                          "tt_" + plain["id"]: None}, groups
        listed = expect(c.tickettailor("GET", "/v1/events", query={"limit": 100}), 200)["data"]
        assert next(e for e in listed if e["id"] == "ev_" + occ)["ticket_groups"] == x["ticket_groups"]
        # a group's own event is where it shows while empty; another event shows only groups it uses
        other, other_occ = cat.event()
        assert tt_event(c, other_occ)["ticket_groups"] == []

        # max_per_order counts the group's products together; a product outside it is not counted
        def cart(items):
            return c.admin("POST", "/carts", {"items": items, "occurrence_id": occ})
        admin_error(cart([{"product_id": adult["id"], "quantity": 2}, {"product_id": senior["id"], "quantity": 2}]),
                    400, "invalid_amount", "quantity")
        admin_error(cart([{"product_id": adult["id"], "quantity": 4}]), 400, "invalid_amount", "quantity")
        expect(cart([{"product_id": adult["id"], "quantity": 2}, {"product_id": senior["id"], "quantity": 1},
                     {"product_id": plain["id"], "quantity": 5}]), 201)
        # the limit removed (null), the same cart goes through
        expect(c.admin("PATCH", "/ticket_groups/" + group["id"], {"max_per_order": None}), 200)
        expect(cart([{"product_id": adult["id"], "quantity": 2}, {"product_id": senior["id"], "quantity": 2}]), 201)

        # a group in use stays; out of use (the product moved out) it goes
        admin_error(c.admin("DELETE", "/ticket_groups/" + group["id"]), 409, "in_use")
        # an event a group is shown on stays too
        admin_error(c.admin("DELETE", "/events/" + ev["id"]), 409, "in_use")
        expect(c.admin("PATCH", "/products/" + adult["id"], {"group_id": None}), 200)
        expect(c.admin("PATCH", "/products/" + senior["id"], {"group_id": empty["id"]}), 200)
        assert [g["ticket_ids"] for g in tt_event(c, occ)["ticket_groups"]] == [["tt_" + senior["id"]]]
        assert c.admin("DELETE", "/ticket_groups/" + group["id"]).status == 204
    finally:
        cat.cleanup()


def test_payment_methods_on_events(c):
    cat = Catalog(c)
    try:
        door = cat.add("payment_methods", {"name": "Pay on the door", "kind": "offline", "sort_order": 2,
                                           "instructions": "Pay when you arrive to festival"})
        card = cat.add("payment_methods", {"name": "Card", "kind": "card", "sort_order": 1, "fee_fixed": 35,
                                           "fee_percent_bp": 260, "external_id": "seller222@example.com"})
        off = cat.add("payment_methods", {"name": "Old", "kind": "cash", "enabled": False})
        assert card["fee_fixed"] == 35 and card["fee_percent_bp"] == 260
        ev_all, occ_all = cat.event()
        ev_door, occ_door = cat.event(payment_method_ids=[door["id"], off["id"]])
        mine = {"pm_" + m["id"] for m in (door, card, off)}
        shown = [m for m in tt_event(c, occ_all)["payment_methods"] if m["id"] in mine]
        # none named: every enabled method, by sort_order, in the doc's shape
        assert shown == [
            {"external_id": "seller222@example.com", "id": "pm_" + card["id"], "instructions": None, "name": "Card",
             "type": "card"},
            {"external_id": None, "id": "pm_" + door["id"], "instructions": "Pay when you arrive to festival",
             "name": "Pay on the door", "type": "offline"},
        ], shown
        # named: those of them that are enabled, nothing else
        assert [m["id"] for m in tt_event(c, occ_door)["payment_methods"]] == ["pm_" + door["id"]]
        expect(c.admin("PATCH", "/payment_methods/" + off["id"], {"enabled": True}), 200)
        assert [m["id"] for m in tt_event(c, occ_door)["payment_methods"]] == ["pm_" + off["id"], "pm_" + door["id"]]
        # an event's methods must exist; one in use cannot go
        admin_error(c.admin("PATCH", "/events/" + ev_door["id"], {"payment_method_ids": ["nope"]}), 400,
                    "unknown_reference", "payment_method_ids")
        admin_error(c.admin("DELETE", "/payment_methods/" + door["id"]), 409, "in_use")
        expect(c.admin("PATCH", "/events/" + ev_door["id"], {"payment_method_ids": None}), 200)
        assert c.admin("DELETE", "/payment_methods/" + door["id"]).status == 204
        assert "pm_" + door["id"] not in [m["id"] for m in tt_event(c, occ_door)["payment_methods"]]
    finally:
        cat.cleanup()


def test_admin_crud_and_errors(c):
    cat = Catalog(c)
    try:
        g = cat.add("ticket_groups", {"id": unique("tg"), "name": "Group"})
        r = c.admin("POST", "/ticket_groups", {"name": "Located"})
        assert r.status == 201 and r.header("Location").endswith("/ticket_groups/" + r.json["id"]), r
        cat.made.append(("ticket_groups", r.json["id"]))
        assert expect(c.admin("GET", "/ticket_groups/" + g["id"]), 200)["name"] == "Group"
        assert g["id"] in [x["id"] for x in expect(c.admin("GET", "/ticket_groups"), 200)["data"]]
        put = expect(c.admin("PUT", "/ticket_groups/" + g["id"], {"name": "Renamed", "sort_order": 7}), 200)
        assert put["name"] == "Renamed" and put["sort_order"] == 7
        assert "sort_order" not in expect(c.admin("PATCH", "/ticket_groups/" + g["id"], {"sort_order": None}), 200)
        admin_error(c.admin("POST", "/ticket_groups", {"id": g["id"], "name": "Again"}), 409, "duplicate_id", "id")
        pm = cat.add("payment_methods", {"name": "Bank", "kind": "bank_transfer"})
        assert expect(c.admin("GET", "/payment_methods/" + pm["id"]), 200)["kind"] == "bank_transfer"
        assert pm["id"] in [x["id"] for x in expect(c.admin("GET", "/payment_methods"), 200)["data"]]
        admin_error(c.admin("PUT", "/payment_methods/nope", {"name": "x", "kind": "card"}), 404)
        admin_error(c.admin("GET", "/ticket_groups/nope"), 404)

        cases = [
            ("ticket_groups", {}, "missing_field", "name"),
            ("ticket_groups", {"name": ""}, None, "name"),
            ("ticket_groups", {"name": "x" * 1001}, None, "name"),
            ("ticket_groups", {"name": {"en": "x"}}, None, "name"),
            ("ticket_groups", {"name": "x", "sort_order": -1}, None, "sort_order"),
            ("ticket_groups", {"name": "x", "sort_order": "1"}, None, "sort_order"),
            ("ticket_groups", {"name": "x", "max_per_order": 1.5}, None, "max_per_order"),
            ("ticket_groups", {"name": "x", "event_id": "nope"}, "unknown_reference", "event_id"),
            ("ticket_groups", {"name": "x", "colour": "red"}, "unknown_field", "colour"),
            ("ticket_groups", {"id": "a/b", "name": "x"}, "invalid_id", "id"),
            ("payment_methods", {"name": "x"}, "missing_field", "kind"),
            ("payment_methods", {"name": "x", "kind": "bitcoin"}, None, "kind"),
            ("payment_methods", {"name": "x", "kind": "card", "fee_fixed": -1}, None, "fee_fixed"),
            ("payment_methods", {"name": "x", "kind": "card", "fee_percent_bp": 10001}, "invalid_percentage",
             "fee_percent_bp"),
            ("payment_methods", {"name": "x", "kind": "card", "enabled": "yes"}, None, "enabled"),
            ("payment_methods", {"name": "x", "kind": "card", "instructions": 5}, None, "instructions"),
            ("products", {"name": "x", "price": 1, "group_id": "nope"}, "unknown_reference", "group_id"),
            ("products", {"name": "x", "price": 1, "group_id": 5}, None, "group_id"),
            ("events", {"name": "x", "payment_method_ids": "card"}, None, "payment_method_ids"),
            ("events", {"name": "x", "payment_method_ids": [5]}, None, "payment_method_ids"),
            ("vouchers", {"name": "x", "value": 1, "event_ids": ["nope"]}, "unknown_reference", "event_ids"),
        ]
        for plural, body, code, field in cases:
            admin_error(c.admin("POST", "/" + plural, body), 400, code, field)
        admin_error(c.admin("POST", "/ticket_groups", raw="[1]"), 400)
        admin_error(c.admin("POST", "/payment_methods", raw="{\"name\": \"x\", \"kind\": "), 400)
        assert c.admin("DELETE", "/payment_methods/" + pm["id"]).status == 204
        admin_error(c.admin("GET", "/payment_methods/" + pm["id"]), 404)
        admin_error(c.admin("DELETE", "/payment_methods/" + pm["id"]), 404)
        # another account's objects are not this one's
        admin_error(c.admin("GET", "/ticket_groups/" + g["id"], token="nobody"), 401)
    finally:
        cat.cleanup()


def pay_with(c, code, product, occurrence=None):
    body = {"items": [{"product_id": product, "quantity": 1}]}
    if occurrence:
        body["occurrence_id"] = occurrence
    cart = expect(c.admin("POST", "/carts", body), 201)
    return cart, c.admin("POST", "/orders", {"cart_id": cart["id"], "voucher_code": code,
                                             "payment": {"provider": "cash"}})


def code_value(c, voucher_id, code):
    codes = expect(c.tickettailor("GET", "/v1/vouchers/%s/codes" % voucher_id), 200)["data"]
    return next(x for x in codes if x["code"] == code)["value"]


def test_voucher_event_series(c):
    cat = Catalog(c)
    vouchers = []
    try:
        ev, occ = cat.event()
        ev2, occ2 = cat.event()
        product = cat.product(ev["id"], "Entry")
        code = unique("SERIES").upper()
        expiry = int(time.time()) + 86400 * 60
        v = expect(c.tickettailor("POST", "/v1/vouchers", json_body={
            "name": "Festival only", "value": 500, "expiry": expiry, "codes": [code],
            "event_series_ids": ["es_" + ev["id"]]}), 201)
        vouchers.append(v["id"])
        assert v["event_series_ids"] == ["es_" + ev["id"]]
        assert expect(c.tickettailor("GET", "/v1/vouchers/" + v["id"]), 200)["event_series_ids"] == ["es_" + ev["id"]]
        listed = expect(c.tickettailor("GET", "/v1/vouchers"), 200)["data"]
        assert next(x for x in listed if x["id"] == v["id"])["event_series_ids"] == ["es_" + ev["id"]]
        # the series it names resolves
        expect(c.tickettailor("GET", "/v1/event_series/es_" + ev["id"]), 200)

        # refused for tickets of no event or another event: 400 in the admin shape, nothing spent or sold
        for prod, at in ((GUIDE, None), (cat.product(ev2["id"], "Other")["id"], occ2)):
            cart, r = pay_with(c, code, prod, at)
            admin_error(r, 400, "voucher_not_valid_for_event", "voucher_code")
            assert code_value(c, v["id"], code) == 500
            assert expect(c.admin("GET", "/carts/" + cart["id"]), 200)["status"] == "open"
        # paid for tickets of its event
        _, r = pay_with(c, code, product["id"], occ)
        order = expect(r, 201)
        assert [p["amount"] for p in order["payments"] if p["provider"] == "voucher"] == [500], order["payments"]
        assert code_value(c, v["id"], code) == 0

        # update: {es_id: "1"|"0"|""} adds, removes, keeps; a list replaces
        upd = expect(c.tickettailor("POST", "/v1/vouchers/" + v["id"], json_body={
            "event_series_ids": {"es_" + ev2["id"]: "1", "es_" + ev["id"]: ""}}), 200)
        assert upd["event_series_ids"] == ["es_" + ev["id"], "es_" + ev2["id"]]
        upd = expect(c.tickettailor("POST", "/v1/vouchers/" + v["id"], json_body={
            "event_series_ids": {"es_" + ev["id"]: "0"}}), 200)
        assert upd["event_series_ids"] == ["es_" + ev2["id"]] and upd["name"] == "Festival only"
        # the voucher keeps its event from being deleted
        admin_error(c.admin("DELETE", "/events/" + ev2["id"]), 409, "in_use")
        upd = expect(c.tickettailor("POST", "/v1/vouchers/" + v["id"], json_body={"event_series_ids": []}), 200)
        assert upd["event_series_ids"] == []

        # errors: unknown series, wrong prefix, wrong shapes; nothing is created
        bad = [["es_nope"], ["ev_" + occ], [5], "es_" + ev["id"], {"es_" + ev["id"]: 1}, {"nope": "1"},
               ["es_" + ev["id"]] * 1001, {"es_%d" % i: "1" for i in range(1001)}, [None], ["es_"], ["es_" + "x" * 200]]
        for series in bad:
            tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={
                "name": "Bad", "value": 5, "expiry": expiry, "codes": [], "event_series_ids": series}), 422,
                "event_series_ids")
            tt_error(c.tickettailor("POST", "/v1/vouchers/" + v["id"], json_body={"event_series_ids": series}), 422,
                     "event_series_ids")
        assert "Bad" not in [x["name"] for x in expect(c.tickettailor("GET", "/v1/vouchers"), 200)["data"]]
        assert expect(c.tickettailor("GET", "/v1/vouchers/" + v["id"]), 200)["event_series_ids"] == []

        # a form names one series as event_series_ids[]
        f = expect(c.tickettailor("POST", "/v1/vouchers", form={
            "name": "Form", "value": "100", "expiry": str(expiry), "event_series_ids[]": "es_" + ev["id"]}), 201)
        vouchers.append(f["id"])
        assert f["event_series_ids"] == ["es_" + ev["id"]]
        tt_error(c.tickettailor("POST", "/v1/vouchers", form={
            "name": "Form", "value": "100", "expiry": str(expiry), "event_series_ids[]": "es_nope"}), 422,
            "event_series_ids")
    finally:
        for vid in vouchers:
            c.tickettailor("DELETE", "/v1/vouchers/" + vid)
        cat.cleanup()
