"""Hostile input, table-driven (issue 9): every route of every dialect gets bad
requests, and each answer is checked for its status AND the dialect's error
code AND the field it blames, not only for "no 5xx". Around the whole table a
checksum of the demo account's business tables must not move: a refused
request writes nothing.

Each case is one row: (dialect, method, path, query/body/headers, expected
status, code, field). Families of rows come from small helpers, but every
expected outcome is spelled out where the row is made. The error shapes:
  admin         {"error": {"code", "message", "field"}}     field null when none
  convious      {"error": code, "message", "field"?}        field absent when none
  tickettailor  {"status", "error_code", "message", "errors": [{"field", "messages"}]?}
                the code is error_code (the reason phrase); the field is
                errors[0].field, absent (None) outside validation failures
Each row is its own test (pytest parametrize, named by the request). Rows
the server still answers wrongly, where the fix is not a small local one,
are listed in KNOWN_DEFECTS: they are reported as a skip with the reason,
which fails the strict PostgreSQL run of make check, and checked to still
fail (test_known_defects), so a fix shows up.

The checksum covers every account-scoped business table (see BUSINESS_TABLES)
and leaves out what moves by itself: credentials of kind access_token (this
test's own OAuth token), rate_limits (every Ticket Tailor request counts),
auth_version (bumped by credential writes), webhook_events/webhook_deliveries
and a subscription's active/failing_since/updated_at (the delivery worker),
and the columns the cart reaper changes (see reaped_only)."""
import base64
import json
import os
import sqlite3
import subprocess
import time

import pytest

from harness import ADMIN_TOKEN, BASE, TT_API_KEY, Client, Response, Skip
from test_admin_meta import raw_post

SLUG = "demo"
D = "d0000000-0000-4000-8000-0000000000"
LOCATION, SCHEDULE, CATEGORY, POOL, ADULT = D + "01", D + "02", D + "03", D + "04", D + "05"
AUDIO, EVENT, STANDARD = D + "07", D + "08", D + "0a"
OCCURRENCE = "oc_concert_main"
NOPE = "00000000-dead-4bad-8bad-000000000000"
BIG = 2 ** 63          # one past int64
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Case:
    def __init__(self, dialect, method, path, status, code, field, body=None, raw=None, form=None, query=None,
                 headers=None, auth=True, note=""):
        self.dialect, self.method, self.path = dialect, method, path
        self.status, self.code, self.field = status, code, field
        self.body, self.raw, self.form, self.query, self.headers, self.auth = body, raw, form, query, headers, auth
        self.note = note

    def describe(self):
        what = self.note
        if not what:
            given = self.query or self.body or self.form or self.raw
            what = (repr(given) if isinstance(given, bytes) else json.dumps(given, sort_keys=True))[:60] \
                if given is not None else ""
        return "%s %s %s%s" % (self.dialect, self.method, self.path[:70], " [%s]" % what if what else "")


CASES = []
_SEEN = {}


def case(*args, **kw):
    """Adds a row; its name (for failures and KNOWN_DEFECTS) is the request in
    short, numbered when two rows would read the same."""
    k = Case(*args, **kw)
    k.name = k.describe()
    _SEEN[k.name] = _SEEN.get(k.name, 0) + 1
    if _SEEN[k.name] > 1:
        k.name += " #%d" % _SEEN[k.name]
    CASES.append(k)


def admin(method, path, status, code, field, **kw):
    case("admin", method, path, status, code, field, **kw)


def cv(method, path, status, code, field, **kw):
    case("convious", method, path, status, code, field, **kw)


def tt(method, path, status, code, field, **kw):
    case("tickettailor", method, path, status, code, field, **kw)


# --------------------------------------------------------------------------
# /admin/v1: catalog. One valid body per kind; each family mutates it.
# --------------------------------------------------------------------------
VALID = {
    "locations": {"name": "Hostile", "timezone": "Europe/Amsterdam"},
    "categories": {"name": {"en": "Hostile"}},
    "schedules": {"open": "09:00", "close": "17:00"},
    "events": {"name": "Hostile"},
    "pools": {"capacity": 5},
    "products": {"name": {"en": "Hostile"}, "price": 100},
    "discounts": {"code": "HOSTILE", "type": "fixed", "amount": 100},
    "vouchers": {"name": "Hostile", "value": 100},
}
# the demo object of each kind (docs/demo.md), and an id of another kind
EXISTING = {"locations": LOCATION, "categories": CATEGORY, "schedules": SCHEDULE, "events": EVENT, "pools": POOL,
            "products": ADULT}
OTHER_KIND = {"locations": ADULT, "categories": POOL, "schedules": CATEGORY, "events": ADULT, "pools": ADULT,
              "products": POOL, "discounts": ADULT, "vouchers": ADULT}
REQUIRED = {"locations": ["name", "timezone"], "categories": ["name"], "schedules": ["open", "close"],
            "events": ["name"], "pools": ["capacity"], "products": ["name", "price"], "discounts": ["code", "type"],
            "vouchers": ["name", "value"]}


def without(d, key):
    return {k: v for k, v in d.items() if k != key}


def with_(d, **kw):
    out = dict(d)
    out.update(kw)
    return out


def admin_catalog_family(kind):
    base = VALID[kind]
    coll = "/" + kind
    admin("POST", coll, 400, "missing_field", REQUIRED[kind][0], body={}, note="empty object")
    for f in REQUIRED[kind]:
        admin("POST", coll, 400, "missing_field", f, body=without(base, f), note="no " + f)
        admin("POST", coll, 400, "invalid_field", f, body=with_(base, **{f: [1]}), note=f + " a list")
        admin("POST", coll, 400, "invalid_field", f, body=with_(base, **{f: True}), note=f + " a boolean")
    admin("POST", coll, 400, "unknown_field", "bogus_field", body=with_(base, bogus_field=1), note="unknown field")
    admin("POST", coll, 400, "invalid_json", None, raw="{not json", note="malformed")
    admin("POST", coll, 400, "invalid_json", None, raw="", note="no body")
    admin("POST", coll, 400, "invalid_body", None, raw="[]", note="array body")
    admin("POST", coll, 400, "invalid_json", None, raw="42", note="number body")  # not a JSON text to jansson
    admin("POST", coll, 400, "invalid_json", None, raw="capacity=5&name=x", headers=dict(FORM), note="form body")
    admin("POST", coll, 400, "invalid_json", None, raw=json.dumps(base)[:-1] + ', "x": "a\\u0000b"}', note="NUL")
    admin("POST", coll, 400, "invalid_json", None, raw=json.dumps(base)[:-1].encode() + b', "x": "\xff\xfe"}',
          note="invalid UTF-8")
    admin("POST", coll, 400, "invalid_id", "id", body=with_(base, id="x" * 41), note="id too long")
    admin("POST", coll, 400, "invalid_id", "id", body=with_(base, id="a/b"), note="id with slash")
    admin("POST", coll, 413, "payload_too_large", None, raw='{"name": "%s"}' % ("x" * (1 << 20)), note="2 MiB")
    admin("GET", coll, 401, "unauthorized", None, auth=False, note="no token")
    admin("POST", coll, 401, "unauthorized", None, body=base, headers={"Authorization": "Bearer nope"},
          auth=False, note="bad token")
    admin("DELETE", coll, 405, "method_not_allowed", None, note="DELETE on a collection")
    one = coll + "/" + NOPE
    admin("GET", one, 404, "not_found", None, note="unknown id")
    admin("GET", coll + "/" + OTHER_KIND[kind], 404, "not_found", None, note="id of another kind")
    admin("PUT", one, 404, "not_found", None, body=base, note="PUT never creates")
    admin("PATCH", one, 404, "not_found", None, body={}, note="unknown id")
    admin("DELETE", one, 404, "not_found", None, note="unknown id")
    admin("POST", one, 405, "method_not_allowed", None, body=base, note="POST on an object")
    admin("GET", coll + "/" + "%ff%fe", 404, "not_found", None, note="invalid UTF-8 id")
    if kind in EXISTING:
        obj = coll + "/" + EXISTING[kind]
        admin("POST", coll, 409, "duplicate_id", "id", body=with_(base, id=EXISTING[kind]), note="duplicate id")
        admin("PUT", obj, 400, "missing_field", REQUIRED[kind][0], body={}, note="PUT empty")
        admin("PATCH", obj, 400, "invalid_field", REQUIRED[kind][-1], body={REQUIRED[kind][-1]: {"a": [1]}},
              note="PATCH wrong type")
        admin("PATCH", obj, 400, "unknown_field", "bogus_field", body={"bogus_field": 1}, note="PATCH unknown")
        admin("PATCH", obj, 400, "invalid_body", None, raw="[]", note="PATCH array")


for _kind in VALID:
    admin_catalog_family(_kind)

# every field of every kind (src/core/catalog_spec.c) given a value of the wrong type
WRONG = {"string": 5, "text_map": 5, "int": "x", "bool": "x", "enum": "bogus", "ref": 5, "ref_list": "x", "array": "x",
         "object": "x", "date": "2023-02-30", "time": "24:00:01", "money": "x", "instant": "x", "int_or_null": "x",
         "timezone": "Nowhere/Zone"}
FIELDS = {
    "locations": {"name": "string", "timezone": "timezone", "address": "string", "external_ids": "object"},
    "categories": {"name": "text_map", "description": "text_map", "parent_id": "ref", "priority": "int", "enabled": "bool",
                   "show_in_checkout": "bool", "flow": "enum", "schedule_id": "ref", "location_id": "ref",
                   "images": "array", "external_ids": "object"},
    "schedules": {"name": "string", "weekdays": "array", "open": "time", "close": "time", "slot_minutes": "int",
                  "closed_dates": "array", "valid_from": "date", "valid_to": "date"},
    "events": {"name": "string", "description": "string", "location_id": "ref", "category_id": "ref", "schedule_id": "ref",
               "status": "enum", "occurrences": "array", "images": "array", "external_ids": "object", "extras": "object"},
    "pools": {"name": "string", "capacity": "int_or_null", "per": "enum"},
    "products": {"name": "text_map", "description": "text_map", "kind": "enum", "category_ids": "ref_list", "event_id": "ref",
                 "enabled": "bool", "priority": "int", "min_per_order": "int", "max_per_order": "int_or_null",
                 "show_from": "date", "show_to": "date", "valid_from": "date", "valid_to": "date", "dated": "bool",
                 "price": "money", "gate_price": "money", "price_includes_tax": "bool", "booking_fee": "money",
                 "taxes": "array", "prices": "array", "pools": "array", "scan": "object", "barcode_format": "enum",
                 "external_ids": "object", "images": "array", "apf_enabled": "bool", "business_type": "string",
                 "options": "array", "apf_fields": "array"},
    "discounts": {"code": "string", "name": "string", "type": "enum", "amount": "money", "percent_bp": "int",
                  "product_ids": "ref_list", "expires_at": "instant", "max_redemptions": "int_or_null",
                  "external_id": "string"},
    "vouchers": {"name": "string", "value": "money", "type": "enum", "expires_at": "instant", "partial_redemption": "bool"},
}
for _kind, _fields in FIELDS.items():
    for _f, _t in _fields.items():
        admin("POST", "/" + _kind, 400, "invalid_field", _f, body=with_(VALID[_kind], **{_f: WRONG[_t]}),
              note="%s as %s: %r" % (_f, _t, WRONG[_t]))

# field-by-field checks of each kind
P = VALID["products"]
for _f, _v, _code in [("price", -1, "invalid_field"), ("price", 1.5, "invalid_field"), ("price", "12.50", "invalid_field"),
                      ("gate_price", -5, "invalid_field"), ("booking_fee", "x", "invalid_field"),
                      ("kind", "bogus", "invalid_field"), ("barcode_format", "gif", "invalid_field"),
                      ("enabled", "yes", "invalid_field"), ("priority", -1, "invalid_field"),
                      ("valid_from", "2023-02-30", "invalid_field"), ("show_to", "2023-13-01", "invalid_field"),
                      ("category_ids", "nope", "invalid_field"), ("category_ids", [NOPE], "unknown_reference"),
                      ("category_ids", [POOL], "unknown_reference"), ("event_id", NOPE, "unknown_reference"),
                      ("event_id", ADULT, "unknown_reference"), ("pools", [{"pool_id": NOPE}], "unknown_reference"),
                      ("pools", [{"pool_id": ADULT}], "unknown_reference"), ("pools", [{}], "invalid_pool"),
                      ("pools", [{"pool_id": POOL, "amount": 0}], "invalid_pool"),
                      ("pools", [{"pool_id": POOL, "amount": 1001}], "invalid_pool"),
                      ("taxes", [{"rate_bp": 10001}], "invalid_tax"), ("taxes", [{"rate_bp": -1}], "invalid_tax"),
                      ("taxes", [{"rate_bp": 100, "proportion_bp": 1.5}], "invalid_tax"),
                      ("prices", [{"price": -1}], "invalid_price_rule"),
                      ("prices", [{"price": 1, "date_from": "2023-02-30"}], "invalid_price_rule"),
                      ("prices", [{"price": 1, "time_from": "24:00:01"}], "invalid_price_rule"),
                      ("prices", [{"price": 1, "weekdays": [7]}], "invalid_weekday"),
                      ("name", {"en": 5}, "invalid_field"), ("name", "plain text", None),
                      ("description", [], "invalid_field"), ("images", {}, "invalid_field"),
                      ("external_ids", [], "invalid_field"), ("max_per_order", -1, "invalid_field")]:
    if _code:
        admin("POST", "/products", 400, _code, _f, body=with_(P, **{_f: _v}), note="%s=%r" % (_f, _v))
admin("POST", "/products", 400, "invalid_json", None, raw='{"name": {"en": "x"}, "price": %d}' % BIG,
      note="price 2^63")
admin("POST", "/products", 400, "invalid_scan_limit", "scan.limit", body=with_(P, scan={"limit": "twice"}))
admin("POST", "/products", 400, "invalid_limits", "min_per_order", body=with_(P, min_per_order=5, max_per_order=2))
for _k, _v in [("times", -1), ("max_scans", "x"), ("validity_seconds", 10 ** 12), ("time_seconds", -5)]:
    admin("POST", "/products", 400, "invalid_scan", "scan." + _k, body=with_(P, scan={_k: _v}), note="scan." + _k)
admin("PATCH", "/products/" + ADULT, 400, "missing_field", "name", body={"name": None}, note="null required")
admin("PATCH", "/products/" + ADULT, 400, "unknown_reference", "pools", body={"pools": [{"pool_id": NOPE}]})

S = VALID["schedules"]
for _f, _v, _code, _field in [("open", "24:00:01", "invalid_field", "open"), ("close", "25:00", "invalid_field", "close"),
                              ("open", "9am", "invalid_field", "open"), ("close", "08:00", "invalid_hours", "close"),
                              ("slot_minutes", 1441, "invalid_slot", "slot_minutes"),
                              ("slot_minutes", -1, "invalid_field", "slot_minutes"),
                              ("weekdays", [7], "invalid_weekday", "weekdays"),
                              ("weekdays", ["mon"], "invalid_weekday", "weekdays"),
                              ("closed_dates", ["2023-02-30"], "invalid_date", "closed_dates"),
                              ("valid_from", "2023-02-30", "invalid_field", "valid_from"),
                              ("valid_to", "tomorrow", "invalid_field", "valid_to")]:
    admin("POST", "/schedules", 400, _code, _field, body=with_(S, **{_f: _v}), note="%s=%r" % (_f, _v))

E = VALID["events"]
for _f, _v, _code, _field in [("status", "bogus", "invalid_field", "status"),
                              ("occurrences", [{"start": "2030-02-30T10:00:00Z"}], "invalid_occurrence", "occurrences"),
                              ("occurrences", [{"start": "2030-01-01T24:00:01Z"}], "invalid_occurrence", "occurrences"),
                              ("occurrences", [{"start": "2030-01-02T10:00:00Z", "end": "2030-01-01T10:00:00Z"}],
                               "invalid_occurrence", "occurrences"),
                              ("occurrences", [{"start": "2030-01-01T10:00:00Z", "id": "x" * 64}], "invalid_occurrence",
                               "occurrences.id"),
                              ("occurrences", ["2030-01-01T10:00:00Z"], "invalid_occurrence", "occurrences"),
                              ("occurrences", "x", "invalid_field", "occurrences"),
                              ("location_id", NOPE, "unknown_reference", "location_id"),
                              ("category_id", ADULT, "unknown_reference", "category_id"),
                              ("schedule_id", 7, "invalid_field", "schedule_id")]:
    admin("POST", "/events", 400, _code, _field, body=with_(E, **{_f: _v}), note="%s=%r" % (_f, str(_v)[:30]))

for _f, _v, _code, _field in [("capacity", -1, "invalid_field", "capacity"), ("capacity", 1.5, "invalid_field", "capacity"),
                              ("capacity", "5", "invalid_field", "capacity"), ("per", "bogus", "invalid_field", "per"),
                              ("name", 5, "invalid_field", "name")]:
    admin("POST", "/pools", 400, _code, _field, body=with_(VALID["pools"], **{_f: _v}), note="%s=%r" % (_f, _v))
admin("POST", "/pools", 400, "invalid_json", None, raw='{"capacity": %d}' % BIG, note="capacity 2^63")
admin("PATCH", "/pools/" + POOL, 409, "capacity_below_sold", "capacity", body={"capacity": 0},
      note="demo orders hold seats")
admin("DELETE", "/pools/" + POOL, 409, "in_use", None, note="products use it")
admin("DELETE", "/events/" + EVENT, 409, "in_use", None, note="products name it")

for _f, _v, _code, _field in [("timezone", "Mars/Olympus", "invalid_field", "timezone"),
                              ("timezone", "", "invalid_field", "timezone"), ("name", "", "invalid_field", "name"),
                              ("address", 5, "invalid_field", "address")]:
    admin("POST", "/locations", 400, _code, _field, body=with_(VALID["locations"], **{_f: _v}), note="%s=%r" % (_f, _v))

for _f, _v, _code, _field in [("flow", "bogus", "invalid_field", "flow"),
                              ("parent_id", NOPE, "unknown_reference", "parent_id"),
                              ("schedule_id", ADULT, "unknown_reference", "schedule_id"),
                              ("location_id", POOL, "unknown_reference", "location_id"),
                              ("priority", "high", "invalid_field", "priority"),
                              ("show_in_checkout", 1, "invalid_field", "show_in_checkout")]:
    admin("POST", "/categories", 400, _code, _field, body=with_(VALID["categories"], **{_f: _v}), note="%s=%r" % (_f, _v))

DI = VALID["discounts"]
for _b, _code, _field, _note in [(with_(DI, type="bogus"), "invalid_field", "type", "type bogus"),
                                 (without(DI, "amount"), "missing_field", "amount", "fixed without amount"),
                                 (with_(DI, amount=-1), "invalid_field", "amount", "negative amount"),
                                 ({"code": "P", "type": "percentage"}, "invalid_percentage", "percent_bp", "no percent"),
                                 ({"code": "P", "type": "percentage", "percent_bp": 10001}, "invalid_percentage",
                                  "percent_bp", "over 100%"),
                                 (with_(DI, product_ids=[NOPE]), "unknown_reference", "product_ids", "unknown product"),
                                 (with_(DI, product_ids=[POOL]), "unknown_reference", "product_ids", "pool as product"),
                                 (with_(DI, expires_at="2023-02-30T00:00:00Z"), "invalid_field", "expires_at", "bad date"),
                                 (with_(DI, max_redemptions=-1), "invalid_field", "max_redemptions", "negative max"),
                                 (with_(DI, code=""), "invalid_field", "code", "empty code")]:
    admin("POST", "/discounts", 400, _code, _field, body=_b, note=_note)

VO = VALID["vouchers"]
for _f, _v, _code in [("value", -1, "invalid_field"), ("value", "100", "invalid_field"), ("type", "bogus", "invalid_field"),
                      ("expires_at", "2023-02-30T00:00:00Z", "invalid_field"), ("partial_redemption", "yes", "invalid_field")]:
    admin("POST", "/vouchers", 400, _code, _f, body=with_(VO, **{_f: _v}), note="%s=%r" % (_f, _v))

# catalog lists take no query parameters
for _kind in ("products", "pools"):
    admin("GET", "/" + _kind, 400, "unknown_parameter", "limit", query={"limit": "1"}, note="unknown parameter")

# --------------------------------------------------------------------------
# /admin/v1: account, sales, orders, tickets, credentials, webhooks, clock
# --------------------------------------------------------------------------
admin("GET", "/account", 401, "unauthorized", None, auth=False)
admin("GET", "/account", 401, "unauthorized", None, headers={"Authorization": "Basic " + ADMIN_TOKEN}, auth=False,
      note="Basic scheme")
admin("DELETE", "/account", 405, "method_not_allowed", None)
for _b, _code, _field, _note in [({"x": 5}, "unknown_field", "x", "unknown field"),
                                 ({"slug": "other"}, "unknown_field", "slug", "slug cannot change"),
                                 ({"name": ""}, "invalid_name", "name", "empty name"),
                                 ({"name": "x" * 500}, "invalid_name", "name", "long name"),
                                 ({"name": 5}, "invalid_field", "name", "name a number"),
                                 ({"hold_seconds": 59}, "invalid_hold", "hold_seconds", "under a minute"),
                                 ({"hold_seconds": 604801}, "invalid_hold", "hold_seconds", "over 7 days"),
                                 ({"hold_seconds": -1}, "invalid_hold", "hold_seconds", "negative"),
                                 ({"hold_seconds": 1.5}, "invalid_field", "hold_seconds", "float"),
                                 ({"hold_seconds": "900"}, "invalid_field", "hold_seconds", "text")]:
    admin("PATCH", "/account", 400, _code, _field, body=_b, note=_note)
admin("PATCH", "/account", 400, "invalid_json", None, raw='{"hold_seconds": %d}' % BIG, note="2^63")
admin("PATCH", "/account", 400, "invalid_json", None, raw='"name"', note="string body")
admin("PATCH", "/account", 400, "invalid_body", None, raw='["name"]', note="array body")

ITEM = {"product_id": ADULT, "quantity": 1}
CART = {"items": [ITEM], "date": "2030-01-01", "start_time": "10:00"}
for _b, _code, _field, _note in [
        ({}, "missing_field", "items", "empty"),
        (with_(CART, items=[]), "invalid_field", "items", "no items"),
        (with_(CART, items="x"), "invalid_field", "items", "items text"),
        (with_(CART, items=[5]), "invalid_field", "items", "item a number"),
        (with_(CART, items=[{"quantity": 1}]), "missing_field", "items[0].product_id", "no product_id"),
        (with_(CART, items=[{"product_id": ADULT}]), "missing_field", "items[0].quantity", "no quantity"),
        (with_(CART, items=[with_(ITEM, quantity=0)]), "invalid_field", "items[0].quantity", "quantity 0"),
        (with_(CART, items=[with_(ITEM, quantity=-1)]), "invalid_field", "items[0].quantity", "quantity -1"),
        (with_(CART, items=[with_(ITEM, quantity=1001)]), "invalid_field", "items[0].quantity", "quantity 1001"),
        (with_(CART, items=[with_(ITEM, quantity=1.5)]), "invalid_field", "items[0].quantity", "quantity 1.5"),
        (with_(CART, items=[with_(ITEM, quantity="1")]), "invalid_field", "items[0].quantity", "quantity text"),
        (with_(CART, items=[with_(ITEM, product_id="x" * 65)]), "invalid_field", "items[0].product_id", "long id"),
        (with_(CART, items=[ITEM, with_(ITEM, bogus=1)]), "unknown_field", "items[1].bogus", "unknown item field"),
        (with_(CART, items=[with_(ITEM, product_id=NOPE)]), "unknown_product", "product_id", "unknown product"),
        (with_(CART, items=[with_(ITEM, product_id=POOL)]), "unknown_product", "product_id", "pool as product"),
        (with_(CART, date="2023-02-30"), "invalid_field", "date", "2023-02-30"),
        (with_(CART, date="2030-1-1"), "invalid_field", "date", "short date"),
        (with_(CART, date=20300101), "invalid_field", "date", "date a number"),
        (with_(CART, start_time="24:00:01"), "invalid_field", "start_time", "24:00:01"),
        (with_(CART, start_time="10:60"), "invalid_field", "start_time", "10:60"),
        (without(CART, "date"), "missing_field", "date", "time without date"),
        ({"items": [ITEM]}, "date_required", "date", "dated product without date"),
        (with_(CART, date="2020-01-01"), "date_unavailable", "date", "past date"),
        (with_(CART, date="2099-01-01"), "date_unavailable", "date", "date off sale"),
        ({"items": [with_(ITEM, product_id=STANDARD)], "occurrence_id": "nope"}, "unknown_occurrence", "occurrence_id",
         "unknown occurrence"),
        ({"items": [with_(ITEM, product_id=STANDARD)], "occurrence_id": "x" * 64}, "invalid_field", "occurrence_id",
         "occurrence id too long"),
        (with_(CART, hold_seconds=5), "invalid_field", "hold_seconds", "hold 5 s"),
        (with_(CART, hold_seconds=8 * 86400), "invalid_field", "hold_seconds", "hold 8 days"),
        (with_(CART, external_id="x" * 201), "invalid_field", "external_id", "long external id"),
        (with_(CART, customer="a@b.c"), "invalid_field", "customer", "customer text"),
        (with_(CART, customer={"email": 5}), "invalid_field", "customer.email", "email a number"),
        (with_(CART, customer={"email": "x" * 255}), "invalid_field", "customer.email", "email too long"),
        (with_(CART, customer={"marketing_opt_in": "yes"}), "invalid_field", "customer.marketing_opt_in", "opt-in text"),
        (with_(CART, customer={"shoe_size": 44}), "unknown_field", "customer.shoe_size", "unknown customer field"),
        (with_(CART, category_id="x" * 65), "invalid_field", "category_id", "long category"),
        (with_(CART, bogus=True), "unknown_field", "bogus", "unknown field")]:
    admin("POST", "/carts", 400, _code, _field, body=_b, note=_note)
admin("POST", "/carts", 400, "invalid_json", None, raw='{"items": [{"product_id": "%s", "quantity": %d}]}' % (ADULT, BIG),
      note="quantity 2^63")
admin("GET", "/carts/" + NOPE, 404, "not_found", None)
admin("GET", "/carts/" + ADULT, 404, "not_found", None, note="product id as cart")
admin("DELETE", "/carts/" + NOPE, 405, "method_not_allowed", None)

ORDER = {"cart_id": NOPE}
for _b, _status, _code, _field, _note in [
        ({}, 400, "missing_field", "cart_id", "empty"),
        ({"cart_id": 5}, 400, "invalid_field", "cart_id", "cart_id a number"),
        ({"cart_id": ""}, 400, "invalid_field", "cart_id", "empty cart_id"),
        ({"cart_id": "x" * 65}, 400, "invalid_field", "cart_id", "long cart_id"),
        (ORDER, 404, "not_found", "cart_id", "unknown cart"),
        ({"cart_id": ADULT}, 404, "not_found", "cart_id", "product id as cart"),
        (with_(ORDER, payment="cash"), 400, "invalid_field", "payment", "payment text"),
        (with_(ORDER, payment={}), 400, "missing_field", "payment.provider", "payment without provider"),
        (with_(ORDER, payment={"provider": "x", "amount": 5}), 400, "unknown_field", "payment.amount", "payment amount"),
        (with_(ORDER, discount_code="x" * 65), 400, "invalid_field", "discount_code", "long code"),
        (with_(ORDER, voucher_code=7), 400, "invalid_field", "voucher_code", "voucher code a number"),
        (with_(ORDER, extras=[1]), 400, "invalid_field", "extras", "extras a list"),
        (with_(ORDER, customer={"email": ""}), 400, "invalid_field", "customer.email", "empty email"),
        (with_(ORDER, status="confirmed"), 400, "unknown_field", "status", "status cannot be set")]:
    admin("POST", "/orders", _status, _code, _field, body=_b, note=_note)
for _q, _code, _field in [({"sort": "asc"}, "unknown_parameter", "sort"), ({"limit": "0"}, "invalid_parameter", "limit"),
                          ({"limit": "-1"}, "invalid_parameter", "limit"), ({"limit": "1001"}, "invalid_parameter", "limit"),
                          ({"limit": str(BIG)}, "invalid_parameter", "limit"), ({"limit": "1.5"}, "invalid_parameter", "limit"),
                          ({"limit": ""}, "invalid_parameter", "limit"), ({"status": "bogus"}, "invalid_parameter", "status"),
                          ({"status": "open,open,open,open"}, "invalid_parameter", "status"),
                          ({"starting_after": NOPE}, "invalid_cursor", "starting_after"),
                          ({"created_gte": "2023-02-30"}, "invalid_parameter", "created_gte"),
                          ({"created_lte": "24:00:01"}, "invalid_parameter", "created_lte"),
                          ({"created_gte": "x" * 100}, "invalid_parameter", "created_gte"),
                          ({"email": "x" * 300}, "invalid_parameter", "email"), ({"number": ""}, "invalid_parameter", "number"),
                          ({"event_id": "x" * 300}, "invalid_parameter", "event_id")]:
    admin("GET", "/orders", 400, _code, _field, query=_q, note=repr(_q)[:40])
admin("GET", "/orders/" + NOPE, 404, "not_found", None)
admin("GET", "/orders/" + ADULT, 404, "not_found", None, note="product id as order")
admin("POST", "/orders/" + NOPE + "/cancel", 404, "not_found", None, body={})
admin("POST", "/orders/" + NOPE + "/cancel", 400, "invalid_field", "reason", body={"reason": 5}, note="reason a number")
admin("POST", "/orders/" + NOPE + "/cancel", 400, "invalid_field", "reason", body={"reason": "x" * 501}, note="long reason")
admin("POST", "/orders/" + NOPE + "/cancel", 400, "invalid_json", None, raw="{", note="malformed")
admin("GET", "/orders/" + NOPE + "/cancel", 405, "method_not_allowed", None)
# the payment step (issue 12, docs/PAYMENTS.md): the body is checked first, then the order
PAY_URLS = {k: "https://shop.example/" + k for k in ("success", "failure", "cancel", "expired")}
PAY = {"method": "ideal", "callback_urls": PAY_URLS}
for _b, _status, _code, _field, _note in [
        ({}, 400, "missing_field", "method", "empty"),
        (with_(PAY, method=""), 400, "invalid_field", "method", "empty method"),
        (with_(PAY, fee=-1), 400, "invalid_field", "fee", "negative fee"),
        (with_(PAY, fee="1"), 400, "invalid_field", "fee", "fee a string"),
        (with_(PAY, deadline_seconds=59), 400, "invalid_field", "deadline_seconds", "short deadline"),
        (with_(PAY, provider="stripe"), 400, "unknown_provider", "provider", "unknown provider"),
        (with_(PAY, callback_urls=dict(PAY_URLS, success="//x")), 400, "invalid_url", "callback_urls.success",
         "relative success url"),
        (with_(PAY, callback_urls=dict(PAY_URLS, failure="https://x.example/\u0007")), 400, "invalid_url",
         "callback_urls.failure", "control character in a url"),
        (with_(PAY, extra=1), 400, "unknown_field", "extra", "unknown field"),
        (PAY, 404, "not_found", None, "unknown order")]:
    admin("POST", "/orders/" + NOPE + "/payments", _status, _code, _field, body=_b, note=_note)
admin("POST", "/orders/" + NOPE + "/payments", 400, "invalid_json", None, raw="{", note="malformed")
admin("GET", "/payments/" + NOPE, 404, "not_found", None)
admin("GET", "/payments/pay_" + "0" * 32, 404, "not_found", None, note="well-formed unknown id")
admin("POST", "/orders", 400, "invalid_field", "pay_later", body=with_(ORDER, pay_later="yes"), note="pay_later a string")
admin("POST", "/orders", 400, "invalid_field", "payment", body=with_(ORDER, pay_later=True, payment={"provider": "cash"}),
      note="pay_later with a payment")
admin("GET", "/tickets/" + NOPE, 404, "not_found", None)
admin("GET", "/tickets/" + ADULT, 404, "not_found", None, note="product id as ticket")
admin("POST", "/tickets/" + NOPE + "/void", 404, "not_found", None)
admin("DELETE", "/tickets/" + NOPE, 405, "method_not_allowed", None)

AV = {"product_id": ADULT}
for _q, _status, _code, _field in [
        ({}, 400, "missing_parameter", "product_id"), (with_(AV, date="2030-01-01"), 400, "unknown_parameter", "date"),
        (with_(AV, product_id=NOPE), 404, "not_found", "product_id"),
        (with_(AV, **{"from": "2023-02-30"}), 400, "invalid_parameter", "from"),
        (with_(AV, to="2030-13-01"), 400, "invalid_parameter", "to"),
        (with_(AV, **{"from": "2030-01-05", "to": "2030-01-01"}), 400, "invalid_parameter", "to"),
        (with_(AV, **{"from": "2030-01-01", "to": "2031-06-01"}), 400, "invalid_parameter", "to"),
        (with_(AV, category_id="x" * 65), 400, "invalid_parameter", "category_id"),
        (with_(AV, category_id=NOPE), 400, "category_mismatch", "category_id")]:
    admin("GET", "/availability", _status, _code, _field, query=_q,
          note=" ".join("%s=%s" % (k, v[:12]) for k, v in sorted(_q.items()) if v != ADULT) or "no product_id")

for _b, _code, _field, _note in [({}, "missing_field", "kind", "empty"), ({"kind": "root"}, "invalid_field", "kind", "bad kind"),
                                 ({"kind": 5}, "invalid_field", "kind", "kind a number"),
                                 ({"kind": "admin_token", "secret": "short"}, "invalid_field", "secret", "short secret"),
                                 ({"kind": "admin_token", "secret": "x" * 257}, "invalid_field", "secret", "long secret"),
                                 ({"kind": "api_key", "client_id": "c"}, "invalid_field", "client_id", "client_id on api_key"),
                                 ({"kind": "api_key", "label": "x" * 101}, "invalid_field", "label", "long label"),
                                 ({"kind": "api_key", "scopes": ["all"]}, "unknown_field", "scopes", "unknown field")]:
    admin("POST", "/credentials", 400, _code, _field, body=_b, note=_note)
admin("GET", "/credentials", 405, "method_not_allowed", None)

HOOK = "http://127.0.0.1:9/hook"
for _b, _code, _field, _note in [({}, "missing_field", "url", "empty"), ({"url": 5}, "missing_field", "url", "url a number"),
                                 ({"url": "ftp://x/"}, "invalid_url", "url", "ftp"),
                                 ({"url": "http://10.1.2.3/x"}, "invalid_url", "url", "private address"),
                                 ({"url": "http://" + "a" * 5000}, "invalid_url", "url", "long url"),
                                 ({"url": HOOK, "format": "xml"}, "invalid_format", "format", "unknown format"),
                                 ({"url": HOOK, "format": 1}, "invalid_field", "format", "format a number"),
                                 ({"url": HOOK, "events": "order.created"}, "invalid_events", "events", "events text"),
                                 ({"url": HOOK, "events": ["nope"]}, "invalid_events", "events", "unknown event"),
                                 ({"url": HOOK, "events": [None]}, "invalid_events", "events", "null event"),
                                 ({"url": HOOK, "secret": 5}, "invalid_field", "secret", "secret a number"),
                                 ({"url": HOOK, "active": False}, "unknown_field", "active", "unknown field")]:
    admin("POST", "/webhooks", 400, _code, _field, body=_b, note=_note)
admin("GET", "/webhooks", 400, "unknown_parameter", "active", query={"active": "true"}, note="unknown parameter")
admin("GET", "/webhooks", 401, "unauthorized", None, auth=False, note="no token")
admin("POST", "/openapi.json", 405, "method_not_allowed", None, body={}, note="the public document is read-only")
admin("GET", "/webhooks/" + NOPE, 404, "not_found", None)
admin("DELETE", "/webhooks/" + NOPE, 404, "not_found", None)
admin("GET", "/webhooks/" + NOPE + "/deliveries", 404, "not_found", None)
admin("PATCH", "/webhooks/" + NOPE, 405, "method_not_allowed", None, body={})

for _b, _code, _field in [({}, "missing_field", "advance_seconds"), ({"advance_seconds": -1}, "invalid_field", "advance_seconds"),
                          ({"advance_seconds": "5"}, "invalid_field", "advance_seconds"),
                          ({"advance_seconds": 1.5}, "invalid_field", "advance_seconds"),
                          ({"advance_seconds": 10 ** 12}, "invalid_field", "advance_seconds"),
                          ({"advance_seconds": 0, "x": 1}, "unknown_field", "x")]:
    admin("POST", "/test/clock", 400, _code, _field, body=_b, note=repr(_b)[:30])
admin("GET", "/nothing", 404, "route_not_found", None)
admin("GET", "/products/%s/extra" % ADULT, 404, "route_not_found", None)

# --------------------------------------------------------------------------
# /convious
# --------------------------------------------------------------------------
AC = "/api/v1/accounts/%s" % SLUG
OTHER = "/api/v1/accounts/not-%s" % SLUG
CV_ROUTES = [("GET", "/api/v1/orders/"), ("GET", "/api/v1/orders/%s/" % NOPE), ("POST", "/api/v1/orders/%s/status/" % NOPE),
             ("POST", AC + "/carts/"), ("GET", AC + "/carts/%s/" % NOPE), ("PATCH", AC + "/carts/%s/" % NOPE),
             ("DELETE", AC + "/carts/%s/" % NOPE), ("POST", AC + "/bookings/"), ("GET", "/api/v1/products/"),
             ("GET", "/api/v1/products/%s/" % ADULT), ("GET", "/api/v1/products/%s/availability/" % ADULT),
             ("POST", AC + "/availability/for_period/2030-01-01/2030-01-05/"), ("POST", AC + "/availability/2030-01-01/"),
             ("GET", "/api/v1/categories/"), ("POST", AC + "/pricing/for_period/2030-01-01/2030-01-05/"),
             ("POST", AC + "/pricing/2030-01-01/"), ("GET", "/api/v2/accounts/%s/barcode/scan/" % SLUG),
             ("POST", "/api/v2/accounts/%s/barcode/scan/" % SLUG)]
for _m, _p in CV_ROUTES:
    cv(_m, _p, 401, "not_authenticated", None, auth=False, body={} if _m != "GET" else None, note="no token")
    cv(_m, _p, 401, "authentication_failed", None, auth=False, headers={"Authorization": "Bearer nope"},
       body={} if _m != "GET" else None, note="bad token")
    if "/accounts/%s/" % SLUG in _p:
        cv(_m, _p.replace("/accounts/%s/" % SLUG, "/accounts/not-%s/" % SLUG), 404, "account_not_found", "account_slug",
           body={} if _m != "GET" else None, note="another slug")
cv("GET", "/api/v1/orders/", 403, "permission_denied", "account", query={"account": "other"})
cv("PUT", AC + "/carts/", 405, "method_not_allowed", None, body={})
cv("DELETE", "/api/v1/orders/", 405, "method_not_allowed", None)
# product options on cart items, after-payment forms (tests/http/test_convious_options.py, test_convious_apf.py)
cv("POST", AC + "/carts/", 400, "invalid_options", "items.options",
   body={"items": [{"productId": ADULT, "amount": 1, "options": "audio"}]})
cv("POST", AC + "/carts/", 400, "invalid_option_quantity", "items.options.numberOfItems",
   body={"items": [{"productId": ADULT, "amount": 1, "options": [{"optionId": "a", "numberOfItems": -1}]}]})
cv("GET", "/api/v1/orders/%s/apf/" % NOPE, 404, "not_found", None)
cv("POST", "/api/v1/orders/%s/apf/" % NOPE, 400, "invalid_items", "items", body={"items": "x"})
cv("POST", "/api/v1/orders/%s/apf/" % NOPE, 404, "not_found", None,
   body={"items": [{"id": NOPE, "afterPaymentForm": {"name": "A"}}]})
cv("DELETE", "/api/v1/orders/%s/apf/" % NOPE, 405, "method_not_allowed", None)
admin("POST", "/orders/%s/apf" % NOPE, 404, "not_found", None,
      body={"tickets": [{"ticket_id": NOPE, "answers": {"name": "A"}}]})
admin("POST", "/orders/%s/apf" % NOPE, 400, "invalid_field", "tickets", body={"tickets": []})
cv("GET", "/api/v1/nothing/", 404, "not_found", None)
cv("GET", "/api/v1/orders", 404, "not_found", None, note="no trailing slash")

for _q, _code, _field in [({"page_size": "0"}, "invalid_page_size", "page_size"),
                          ({"page_size": "501"}, "invalid_page_size", "page_size"),
                          ({"page_size": "-5"}, "invalid_page_size", "page_size"),
                          ({"page_size": str(BIG)}, "invalid_page_size", "page_size"),
                          ({"page_size": "1.5"}, "invalid_page_size", "page_size"),
                          ({"cursor": "zzz"}, "invalid_cursor", "cursor"), ({"cursor": "A" * 5000}, "invalid_cursor", "cursor"),
                          ({"cursor": "cz0tMQ"}, "invalid_cursor", "cursor"),
                          ({"include": "bogus"}, "invalid_include", "include"),
                          ({"include": "x," * 600}, "invalid_include", "include"),
                          ({"status": "bogus"}, "invalid_filter", "status"),
                          ({"product_type": "bogus"}, "invalid_filter", "product_type"),
                          ({"from_updated_at": "2023-02-30T00:00:00"}, "invalid_date", "from_updated_at"),
                          ({"from_visit_date": "2023-02-30"}, "invalid_date", "from_visit_date"),
                          ({"to_visit_date": "yesterday"}, "invalid_date", "to_visit_date")]:
    cv("GET", "/api/v1/orders/", 400, _code, _field, query=_q, note=repr(_q)[:40])
cv("GET", "/api/v1/orders/", 400, "invalid_filter", "status", query={"status": "open,confirmed,cancelled,open"},
   note="four statuses")
cv("GET", "/api/v1/orders/", 400, "invalid_filter", "products", query={"products": ",".join([ADULT] * 9)},
   note="nine products")
cv("GET", "/api/v1/orders/%s/" % NOPE, 404, "not_found", None)
cv("GET", "/api/v1/orders/%s/" % ADULT, 404, "not_found", None, note="product id as order")
cv("GET", "/api/v1/orders/%s/" % NOPE, 400, "invalid_include", "include", query={"include": "nope"})
ST = "/api/v1/orders/%s/status/" % NOPE
for _b, _status, _code, _field, _note in [({}, 400, "missing_field", "status", "empty"),
                                          # a status that is no string is reported as missing (orders.c codes)
                                          ({"status": 5}, 400, "missing_field", "status", "status a number"),
                                          ({"status": "confirmed"}, 400, "invalid_status", "status", "not cancelled"),
                                          ({"status": "cancelled", "statusReason": 5}, 400, "invalid_field", "statusReason",
                                           "reason a number"),
                                          ({"status": "cancelled"}, 404, "not_found", None, "unknown order")]:
    cv("POST", ST, _status, _code, _field, body=_b, note=_note)
cv("POST", ST, 400, "invalid_json", None, raw="{", note="malformed")
cv("POST", ST, 400, "invalid_json", None, raw="[]", note="array")
cv("POST", ST, 400, "invalid_json", None, raw="status=cancelled", headers=dict(FORM), note="form body")

CI = {"productId": ADULT, "amount": 1}
CB = {"items": [CI], "eventDate": "2030-01-01", "startTime": "10:00:00"}
for _b, _code, _field, _note in [
        ({}, "invalid_items", "items", "empty"), (with_(CB, items=[]), "invalid_items", "items", "no items"),
        (with_(CB, items="x"), "invalid_items", "items", "items text"),
        (with_(CB, items=[5]), "invalid_items", "items.productId", "item a number"),  # no object: no productId
        (with_(CB, items=[CI] * 51), "invalid_items", "items", "51 items"),
        (with_(CB, items=[{"amount": 1}]), "invalid_items", "items.productId", "no productId"),
        (with_(CB, items=[with_(CI, productId=5)]), "invalid_items", "items.productId", "productId a number"),
        (with_(CB, items=[with_(CI, productId="x" * 65)]), "invalid_items", "items.productId", "long productId"),
        (with_(CB, items=[{"productId": ADULT}]), "invalid_amount", "items.amount", "no amount"),
        (with_(CB, items=[with_(CI, amount=0)]), "invalid_amount", "items.amount", "amount 0"),
        (with_(CB, items=[with_(CI, amount=-1)]), "invalid_amount", "items.amount", "amount -1"),
        (with_(CB, items=[with_(CI, amount=1001)]), "invalid_amount", "items.amount", "amount 1001"),
        (with_(CB, items=[with_(CI, amount=1.5)]), "invalid_amount", "items.amount", "amount 1.5"),
        (with_(CB, items=[with_(CI, amount="1")]), "invalid_amount", "items.amount", "amount text"),
        (with_(CB, eventDate="2023-02-30"), "invalid_date", "eventDate", "2023-02-30"),
        (with_(CB, eventDate="30-01-2030"), "invalid_date", "eventDate", "day first"),
        (with_(CB, eventDate=5), "invalid_field", "eventDate", "date a number"),
        (with_(CB, startTime="24:00:01"), "invalid_time", "startTime", "24:00:01"),
        (with_(CB, startTime="10:00:60"), "invalid_time", "startTime", "10:00:60"),
        (with_(CB, endTime="noon"), "invalid_time", "endTime", "endTime noon"),
        (with_(CB, categoryId=5), "invalid_field", "categoryId", "categoryId a number"),
        (with_(CB, externalId="x" * 201), "invalid_field", "externalId", "long externalId"),
        (with_(CB, extras="x"), "invalid_field", "extras", "extras text"),
        ({"items": [with_(CI, productId=AUDIO)], "pricingToken": "garbage"}, "invalid_pricing_token", "pricingToken",
         "garbage token"),
        (with_(CB, pricingToken=5), "invalid_field", "pricingToken", "token a number")]:
    cv("POST", AC + "/carts/", 400, _code, _field, body=_b, note=_note)
cv("POST", AC + "/carts/", 400, "invalid_json", None, raw='{"items": [{"productId": "%s", "amount": %d}]}' % (ADULT, BIG),
   note="amount 2^63")
cv("POST", AC + "/carts/", 400, "invalid_json", None, raw=b'{"items": [], "externalId": "\xc3\x28"}', note="invalid UTF-8")
cv("POST", AC + "/carts/", 400, "invalid_json", None, raw='{"externalId": "a\\u0000b"}', note="NUL")
cv("POST", AC + "/carts/", 400, "unknown_product", "productId", body=with_(CB, items=[with_(CI, productId=NOPE)]),
   note="unknown product")
cv("POST", AC + "/carts/", 400, "unknown_product", "productId", body=with_(CB, items=[with_(CI, productId=POOL)]),
   note="pool as product")
cv("GET", AC + "/carts/%s/" % NOPE, 404, "not_found", None)
cv("GET", AC + "/carts/%s/" % ADULT, 404, "not_found", None, note="product id as cart")
cv("PATCH", AC + "/carts/%s/" % NOPE, 400, "invalid_items", "items", body={"items": []})
cv("PATCH", AC + "/carts/%s/" % NOPE, 400, "invalid_amount", "items.amount", body={"items": [with_(CI, amount=0)]})
cv("PATCH", AC + "/carts/%s/" % NOPE, 404, "not_found", None, body={"items": [CI]})
cv("DELETE", AC + "/carts/%s/" % NOPE, 404, "not_found", "cartId")

for _b, _status, _code, _field, _note in [({}, 400, "missing_field", "cartId", "empty"),
                                          ({"cartId": 5}, 400, "missing_field", "cartId", "cartId a number"),  # bookings.c codes
                                          ({"cartId": NOPE}, 404, "cart_not_found", "cartId", "unknown cart"),
                                          ({"cartId": NOPE, "customer": "x"}, 400, "invalid_field", "customer", "customer text"),
                                          ({"cartId": NOPE, "customer": {"email": "nope"}}, 400, "invalid_email",
                                           "customer.email", "not an email"),
                                          ({"cartId": NOPE, "customer": {"email": 5}}, 400, "invalid_field", "email",
                                           "email a number"),
                                          ({"cartId": NOPE, "extras": []}, 400, "invalid_field", "extras", "extras a list")]:
    cv("POST", AC + "/bookings/", _status, _code, _field, body=_b, note=_note)
cv("POST", AC + "/bookings/", 400, "invalid_json", None, raw="null", note="null body")
cv("POST", AC + "/bookings/", 400, "invalid_json", None, raw="[]", note="array body")
cv("POST", AC + "/bookings/", 400, "invalid_json", None, raw="cartId=" + NOPE, headers=dict(FORM), note="form body")
cv("POST", AC + "/carts/", 400, "invalid_json", None, raw="items=1", headers=dict(FORM), note="form body")

cv("GET", "/api/v1/products/%s/" % NOPE, 404, "not_found", None)
cv("GET", "/api/v1/products/%s/" % POOL, 404, "not_found", None, note="pool as product")
cv("GET", "/api/v1/products/", 400, "invalid_filter", "enabled", query={"enabled": "maybe"})
cv("GET", "/api/v1/products/", 400, "invalid_include", "include", query={"include": "bogus"})
cv("GET", "/api/v1/categories/", 400, "invalid_filter", "root", query={"root": "maybe"})
cv("GET", "/api/v1/categories/", 400, "invalid_include", "include", query={"include": "name,bogus"})
PA = "/api/v1/products/%s/availability/" % ADULT
for _q, _status, _code, _field in [({}, 400, "missing_field", "date_from"), ({"date_from": "2030-01-01"}, 400, "missing_field", "date_to"),
                                   ({"date_from": "2023-02-30", "date_to": "2030-01-01"}, 400, "invalid_date", "date_from"),
                                   ({"date_from": "2030-01-01", "date_to": "2030-02-30"}, 400, "invalid_date", "date_to"),
                                   ({"date_from": "2030-01-05", "date_to": "2030-01-01"}, 400, "invalid_range", "date_to"),
                                   ({"date_from": "2030-01-01", "date_to": "2031-06-01"}, 400, "range_too_long", "date_to")]:
    cv("GET", PA, _status, _code, _field, query=_q, note=repr(_q)[:50])
cv("GET", "/api/v1/products/%s/availability/" % NOPE, 404, "not_found", None,
   query={"date_from": "2030-01-01", "date_to": "2030-01-02"}, note="unknown product")

PRODUCTS = {"products": [{"id": ADULT, "amount": 1}]}
for _what in ("availability", "pricing"):
    day, period = AC + "/%s/2030-01-01/" % _what, AC + "/%s/for_period/2030-01-01/2030-01-05/" % _what
    cv("POST", AC + "/%s/2030-02-30/" % _what, 400, "invalid_date", "date", body=PRODUCTS, note="2030-02-30")
    cv("POST", AC + "/%s/for_period/2023-02-30/2030-01-01/" % _what, 400, "invalid_date", "date_from", body=PRODUCTS)
    cv("POST", AC + "/%s/for_period/2030-01-01/tomorrow/" % _what, 400, "invalid_date", "date_to", body=PRODUCTS)
    cv("POST", AC + "/%s/for_period/2030-01-05/2030-01-01/" % _what, 400, "invalid_range", "date_to", body=PRODUCTS)
    cv("POST", AC + "/%s/for_period/2030-01-01/2030-06-01/" % _what, 400, "range_too_long", "date_to", body=PRODUCTS)
    for _b, _code, _field, _note in [({}, "invalid_products", "products", "empty"),
                                     ({"products": []}, "invalid_products", "products", "no products"),
                                     ({"products": "x"}, "invalid_products", "products", "products text"),
                                     # every fault of an entry is reported on products (availability.c codes)
                                     ({"products": [{"amount": 1}]}, "invalid_products", "products", "no id"),
                                     ({"products": [{"id": ADULT, "amount": 0}]}, "invalid_products", "products",
                                      "amount 0"),
                                     ({"products": [{"id": ADULT, "amount": "x"}]}, "invalid_products", "products",
                                      "amount text"),
                                     (with_(PRODUCTS, categoryId=5), "invalid_field", "categoryId", "categoryId a number")]:
        cv("POST", day, 400, _code, _field, body=_b, note=_note)
    cv("POST", period, 400, "invalid_json", None, raw="{", note="malformed")
    cv("POST", period, 404, "unknown_product", "products", body={"products": [{"id": NOPE, "amount": 1}]},
       note="unknown product")

SCAN = "/api/v2/accounts/%s/barcode/scan/" % SLUG
cv("GET", SCAN, 400, "missing_field", "barcode")
cv("GET", SCAN, 400, "missing_field", "barcode", query={"barcode": ""}, note="empty barcode")
cv("GET", SCAN, 400, "invalid_date", "scanned_at", query={"barcode": "x", "scanned_at": "2023-02-30T00:00:00Z"})
cv("GET", SCAN, 400, "invalid_direction", "direction", query={"barcode": "x", "direction": "sideways"})
for _b, _code, _field, _note in [({}, "missing_field", "barcode", "empty"), ({"barcode": ""}, "missing_field", "barcode", "empty barcode"),
                                 ({"barcode": 5}, "missing_field", "barcode", "barcode a number"),
                                 ({"barcode": "x", "scannedAt": "2023-02-30T00:00:00Z"}, "invalid_date", "scannedAt", "bad scannedAt"),
                                 # the body's older spelling is reported under the documented name
                                 ({"barcode": "x", "scanned_at": "24:00:01"}, "invalid_date", "scannedAt", "bad scanned_at"),
                                 ({"barcode": "x", "scanned_at": 5}, "invalid_date", "scannedAt", "scanned_at a number"),
                                 ({"barcode": "x", "direction": "up"}, "invalid_direction", "direction", "bad direction"),
                                 ({"barcode": "x", "forceScan": "yes"}, "invalid_field", "forceScan", "forceScan text")]:
    cv("POST", SCAN, 400, _code, _field, body=_b, note=_note)

# the token endpoint speaks RFC 6749: {"error", "error_description"}, no field
TOKEN = "/oauth/token/"
cv("POST", TOKEN, 400, "invalid_request", None, auth=False, form={}, note="no grant_type")
cv("POST", TOKEN, 400, "unsupported_grant_type", None, auth=False, form={"grant_type": "password"})
cv("POST", TOKEN, 401, "invalid_client", None, auth=False,
   form={"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "wrong"})
cv("POST", TOKEN, 400, "invalid_request", None, auth=False,  # a form value with a NUL is no value
   form={"grant_type": "client_credentials", "client_id": "nobody\u0000", "client_secret": "x"}, note="NUL in id")
cv("GET", TOKEN, 405, "method_not_allowed", None, auth=False)

# --------------------------------------------------------------------------
# /tickettailor: 400 "Bad Request" for malformed queries and bodies, 422
# "Validation error" for fields, 404 "Not Found"; errors[0].field names it
# --------------------------------------------------------------------------
BAD, INVALID, NOT_FOUND = "Bad Request", "Validation error", "Not Found"
TT_ROUTES = [("GET", "/v1/ping"), ("GET", "/v1/orders"), ("GET", "/v1/orders/or_x"), ("GET", "/v1/issued_tickets"),
             ("POST", "/v1/issued_tickets"), ("GET", "/v1/issued_tickets/it_x"), ("POST", "/v1/issued_tickets/it_x/void"),
             ("GET", "/v1/events"), ("GET", "/v1/events/ev_x"), ("GET", "/v1/discounts"), ("POST", "/v1/discounts"),
             ("GET", "/v1/discounts/di_x"), ("POST", "/v1/discounts/di_x"), ("DELETE", "/v1/discounts/di_x"),
             ("GET", "/v1/vouchers"), ("POST", "/v1/vouchers"), ("GET", "/v1/vouchers/vo_x"), ("POST", "/v1/vouchers/vo_x"),
             ("DELETE", "/v1/vouchers/vo_x"), ("GET", "/v1/vouchers/vo_x/codes"),
             ("POST", "/v1/vouchers/vo_x/codes/vc_x/void")]
for _m, _p in TT_ROUTES:
    tt(_m, _p, 401, "Unauthorized", None, auth=False, note="no key")
tt("GET", "/v1/ping", 401, "Unauthorized", None, auth=False, headers={"Authorization": "Bearer " + TT_API_KEY},
   note="Bearer scheme")
tt("GET", "/v1/ping", 401, "Unauthorized", None, auth=False, note="key with a password",
   headers={"Authorization": "Basic " + base64.b64encode((TT_API_KEY + ":pw").encode()).decode()})
tt("GET", "/v1/nothing", 404, NOT_FOUND, None)
tt("DELETE", "/v1/orders", 405, "Method Not Allowed", None)
tt("PUT", "/v1/discounts/di_x", 405, "Method Not Allowed", None)
for _p, _prefix in [("/v1/orders", "or_"), ("/v1/issued_tickets", "it_"), ("/v1/discounts", "di_"), ("/v1/vouchers", "vo_")]:
    for _q, _field in [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "-1"}, "limit"),
                       ({"limit": "1.5"}, "limit"), ({"limit": str(BIG)}, "limit"),
                       ({"starting_after": "x"}, "starting_after"), ({"ending_before": _prefix}, "ending_before"),
                       ({"starting_after": _prefix + "x" * 200}, "starting_after")]:
        tt("GET", _p, 400, BAD, _field, query=_q, note=repr(_q)[:40])
    tt("GET", _p, 422, INVALID, "starting_after", query={"starting_after": _prefix + NOPE}, note="unknown cursor")
for _q, _field in [({"limit": "0"}, "limit"), ({"starting_after": "or_1"}, "starting_after"),
                   ({"start_at.gte": "-5"}, "start_at.gte"), ({"end_at": "soon"}, "end_at"),
                   ({"start_at.lt": ""}, "start_at.lt")]:
    tt("GET", "/v1/events", 400, BAD, _field, query=_q, note=repr(_q)[:40])
tt("GET", "/v1/events", 422, INVALID, "starting_after", query={"starting_after": "ev_nope"}, note="unknown cursor")
for _q, _field in [({"created_at.gt": "1e99"}, "created_at.gt"), ({"created_at": "-1"}, "created_at"),
                   ({"created_at.lte": "2023-02-30"}, "created_at.lte"), ({"status": "bogus"}, "status"),
                   ({"event_id": "zz"}, "event_id"), ({"event_series_id": "ev_1"}, "event_series_id"),
                   ({"referral_tag": "x" * 101}, "referral_tag")]:
    tt("GET", "/v1/orders", 400, BAD, _field, query=_q, note=repr(_q)[:40])
for _q, _field in [({"status": "bogus"}, "status"), ({"event_id": "or_1"}, "event_id"), ({"order_id": "it_1"}, "order_id")]:
    tt("GET", "/v1/issued_tickets", 400, BAD, _field, query=_q, note=repr(_q)[:40])
tt("GET", "/v1/vouchers", 400, BAD, "expiry_date.gt", query={"expiry_date.gt": "x"})
tt("GET", "/v1/vouchers", 400, BAD, "created_at.lt", query={"created_at.lt": "-1"})
for _p in ("/v1/orders/or_" + NOPE, "/v1/orders/" + NOPE, "/v1/orders/it_" + NOPE, "/v1/issued_tickets/it_" + NOPE,
           "/v1/issued_tickets/or_" + NOPE, "/v1/events/ev_nope", "/v1/events/es_" + EVENT, "/v1/discounts/di_" + NOPE,
           "/v1/discounts/vo_" + NOPE, "/v1/vouchers/vo_" + NOPE, "/v1/vouchers/vo_" + NOPE + "/codes"):
    tt("GET", _p, 404, NOT_FOUND, None, note="unknown or wrong-kind id")
tt("POST", "/v1/issued_tickets/it_" + NOPE + "/void", 404, NOT_FOUND, None)
tt("POST", "/v1/vouchers/vo_" + NOPE + "/codes/vc_" + NOPE + "/void", 404, NOT_FOUND, None)
tt("DELETE", "/v1/discounts/di_" + NOPE, 404, NOT_FOUND, None)
tt("DELETE", "/v1/vouchers/vo_" + NOPE, 404, NOT_FOUND, None)
tt("POST", "/v1/discounts/di_" + NOPE, 404, NOT_FOUND, None, form={"name": "x"})
tt("POST", "/v1/vouchers/vo_" + NOPE, 404, NOT_FOUND, None, form={"name": "x"})

IT = {"event_id": "ev_" + OCCURRENCE, "ticket_type_id": "tt_" + STANDARD, "full_name": "Hostile Guest"}
for _f, _v, _status, _code, _field, _note in [
        ("event_id", None, 422, INVALID, "event_id", "no event_id"), ("ticket_type_id", None, 422, INVALID, "ticket_type_id", "no type"),
        ("full_name", None, 422, INVALID, "full_name", "no name"), ("full_name", "x" * 201, 422, INVALID, "full_name", "long name"),
        ("email", "x" * 255, 422, INVALID, "email", "long email"), ("barcode", "ABC", 422, INVALID, "barcode", "barcode given"),
        ("event_id", "or_1", 422, INVALID, "event_id", "order id as event"),
        ("ticket_type_id", STANDARD, 422, INVALID, "ticket_type_id", "no prefix"),
        # ids in a body that name nothing are the engine's validation failures: 422
        ("event_id", "ev_nope", 422, INVALID, "event_id", "unknown event"),
        ("ticket_type_id", "tt_" + NOPE, 422, INVALID, "ticket_type_id", "unknown type"),
        ("ticket_type_id", "tt_" + POOL, 422, INVALID, "ticket_type_id", "pool as ticket type")]:
    _body = {k: v for k, v in with_(IT, **{_f: _v}).items() if v is not None}
    tt("POST", "/v1/issued_tickets", _status, _code, _field, form=_body, note=_note + " (form)")
    tt("POST", "/v1/issued_tickets", _status, _code, _field, body=_body, note=_note + " (JSON)")
tt("POST", "/v1/issued_tickets", 400, BAD, None, raw="{", note="malformed JSON")
tt("POST", "/v1/issued_tickets", 400, BAD, None, raw="[1]", note="JSON array")
tt("POST", "/v1/issued_tickets", 422, INVALID, "full_name", body=with_(IT, full_name=5), note="name a number")

DIS = {"code": "HOSTILE", "name": "Hostile", "type": "fixed_amount", "price": "100"}
for _f, _v, _field, _note in [("code", None, "code", "no code"), ("name", None, "name", "no name"), ("type", None, "type", "no type"),
                              ("type", "half", "type", "bad type"), ("price", "-1", "price", "negative price"),
                              ("price", "1.5", "price", "price 1.5"), ("price", str(BIG), "price", "price 2^63"),
                              ("price_percent", "101", "price_percent", "101%"), ("max_redemptions", "x", "max_redemptions", "text"),
                              ("expires", "2023-02-30", "expires", "expires a date"), ("code", "x" * 1001, "code", "long code")]:
    _body = {k: v for k, v in with_(DIS, **{_f: _v}).items() if v is not None}
    tt("POST", "/v1/discounts", 422, INVALID, _field, form=_body, note=_note)
tt("POST", "/v1/discounts", 422, INVALID, "ticket_types", body=with_(DIS, ticket_types=["x"]), note="ticket_types not tt_")
tt("POST", "/v1/discounts", 422, INVALID, "code", body=with_(DIS, code=["A"]), note="code a list")
tt("POST", "/v1/discounts", 400, BAD, None, raw="{", note="malformed JSON")
tt("POST", "/v1/discounts", 422, INVALID, "code", raw=json.dumps(DIS), headers=dict(FORM), note="JSON sent as a form")
tt("POST", "/v1/discounts/di_" + NOPE, 404, NOT_FOUND, None, raw="[]", note="the id is looked up before the body")
tt("DELETE", "/v1/discounts/vo_" + NOPE, 404, NOT_FOUND, None, note="voucher id as discount")
tt("DELETE", "/v1/vouchers/di_" + NOPE, 404, NOT_FOUND, None, note="discount id as voucher")
tt("POST", "/v1/issued_tickets/or_" + NOPE + "/void", 404, NOT_FOUND, None, note="order id as ticket")

VOU = {"name": "Hostile", "value": "100", "expiry": "", "codes[]": "HOSTILE1"}
for _f, _v, _field, _note in [("name", None, "name", "no name"), ("value", None, "value", "no value"),
                              ("value", "-5", "value", "negative value"), ("value", "x", "value", "value text"),
                              ("expiry", "soon", "expiry", "expiry text"), ("name", "", "name", "empty name")]:
    _body = {k: v for k, v in with_(VOU, **{_f: _v}).items() if v is not None}
    tt("POST", "/v1/vouchers", 422, INVALID, _field, form=_body, note=_note)
tt("POST", "/v1/vouchers", 422, INVALID, "codes", body={"name": "Hostile", "value": 100, "expiry": None}, note="JSON without codes")
tt("POST", "/v1/vouchers", 422, INVALID, "codes", body={"name": "Hostile", "value": 100, "expiry": None, "codes": "A"},
   note="codes text")

# Cases the server still answers wrongly, the fix being outside a dialect's
# handler or error helper: name -> reason. Reported as one skip, which the
# strict PostgreSQL run of make check counts as a failure: an entry is a
# stopgap that keeps the defect visible, never a way to green.
KNOWN_DEFECTS = {
}


# --------------------------------------------------------------------------
# running a case
# --------------------------------------------------------------------------
def send(c, k):
    headers = dict(k.headers or {})
    if k.auth:
        if k.dialect == "admin":
            headers.setdefault("Authorization", "Bearer " + ADMIN_TOKEN)
        elif k.dialect == "convious":
            headers.setdefault("Authorization", "Bearer " + convious_token(c))
        else:
            headers.setdefault("Authorization", "Basic " + base64.b64encode((TT_API_KEY + ":").encode()).decode())
    if k.dialect == "tickettailor":
        headers.setdefault("Accept", "application/json")
    prefix = {"admin": "/admin/v1", "convious": "/convious", "tickettailor": "/tickettailor"}[k.dialect]
    if k.raw is not None and len(k.raw) > MAX_BODY:
        return send_oversized(c, k.method, prefix + k.path, k.raw, headers)
    return c.request(k.method, prefix + k.path, json_body=k.body, form=k.form, raw=k.raw, headers=headers, query=k.query)


MAX_BODY = 1 << 20  # the server's default body limit


def send_oversized(c, method, path, body, headers):
    """A body over the server's limit: the server answers 413 and may close
    the connection before reading it all (urllib calls that a broken pipe), so
    it goes over a socket (test_admin_meta.raw_post: admin POSTs only)."""
    assert method == "POST" and path.startswith("/admin/v1/") and c.base == BASE, (method, path)
    extra = [(k, v) for k, v in headers.items() if k.lower() not in ("authorization", "content-type")]
    reply = raw_post(path, body if isinstance(body, bytes) else body.encode(), extra)
    status_line, _, rest = reply.partition(b"\r\n")
    head, _, payload = rest.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out = b""
        while payload:
            size, _, payload = payload.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, payload = out + payload[:n], payload[n + 2:]
        payload = out
    return Response(int(status_line.split()[1]) if status_line else 0, {}, payload.decode("utf-8", "replace"))


_TOKEN = {}


def convious_token(c):
    if "t" not in _TOKEN:
        _TOKEN["t"] = c.convious_token()
    return _TOKEN["t"]


def error_of(k, r):
    """(code, field) from a reply in the case's dialect's error shape; raises
    when the shape itself is wrong."""
    b = r.json
    assert isinstance(b, dict), "not a JSON object: %r" % r
    if k.dialect == "admin":
        assert set(b) == {"error"} and set(b["error"]) == {"code", "message", "field"}, "admin shape: %r" % r
        return b["error"]["code"], b["error"]["field"]
    if k.dialect == "convious":
        assert isinstance(b.get("error"), str), "convious shape: %r" % r
        if k.path == TOKEN and k.method == "POST":  # RFC 6749
            assert set(b) == {"error", "error_description"}, "token shape: %r" % r
            return b["error"], None
        assert isinstance(b.get("message"), str) and set(b) <= {"error", "message", "field"}, "convious shape: %r" % r
        return b["error"], b.get("field")
    assert b.get("status") == r.status and isinstance(b.get("message"), str), "tickettailor shape: %r" % r
    assert set(b) <= {"status", "error_code", "message", "errors"}, "tickettailor shape: %r" % r
    errors = b.get("errors")
    if errors is None:
        return b["error_code"], None
    assert len(errors) == 1 and errors[0]["messages"] == [b["message"]], "tickettailor errors[]: %r" % r
    return b["error_code"], errors[0]["field"]


def check(c, k):
    """None when the reply is as the row says, else what differs."""
    r = send(c, k)
    try:
        code, field = error_of(k, r)
    except (AssertionError, KeyError, TypeError) as e:
        return "expected %d %s/%s: %s" % (k.status, k.code, k.field, e)
    if (r.status, code, field) != (k.status, k.code, k.field):
        return "expected %d %s/%s, got %d %s/%s: %s" % (k.status, k.code, k.field, r.status, code, field, r.raw[:160])
    return None


# --------------------------------------------------------------------------
# the database checksum
# --------------------------------------------------------------------------
# table -> the columns compared (everything a refused request could change,
# minus what background workers change by themselves); every row is the
# demo account's
BUSINESS_TABLES = {
    "accounts": "id, slug, name, timezone, currency, hold_seconds, settings, updated_at",
    "credentials": "id, kind, public_id, secret_hash, label, expires_at, revoked",
    "account_secrets": "name, sealed",
    "catalog": "kind, id, parent_id, doc, created_at, updated_at, deleted",
    "catalog_versions": "version",
    "inventory": "pool_id, occurrence, shard, capacity, used",
    "carts": "id, status, channel, occurrence, category_id, day, start_time, external_id, extras, customer, priced, "
             "total, lines, holds, expires_at, order_id, created_at, updated_at",
    "orders": "id, number, status, channel, cart_id, external_id, email, customer_name, total_gross, total_net, "
              "discount_total, created_at, updated_at, change_seq, doc",
    "tickets": "id, order_id, product_id, occurrence, barcode, status, scans_used, inside, first_scan_at, last_scan_at, "
               "redeemed_at, day_scans, invalidated_at, version, updated_at, doc",
    "payments": "id, order_id, kind, provider, method, status, amount, refunded, reference, updated_at, doc",
    "scans": "id, ticket_id, barcode, scanned_at, direction, result, redeemed",
    "counters": "name, value",
    "redemptions": "id, object_kind, object_id, code, order_id, amount",
    "voucher_codes": "id, voucher_id, code, remaining, status, updated_at",
    "webhook_subscriptions": "id, url, events, secret_sealed, format, created_at",
    "webhook_versions": "version",
}
EXTRA_WHERE = {"credentials": " AND kind <> 'access_token'"}
ACCOUNT_COLUMN = {"accounts": "id"}


def queries(account_id):
    for table, cols in sorted(BUSINESS_TABLES.items()):
        where = "%s = '%s'%s" % (ACCOUNT_COLUMN.get(table, "account_id"), account_id, EXTRA_WHERE.get(table, ""))
        yield table, "SELECT %s FROM %s WHERE %s" % (cols, table, where)


def snapshot():
    """{table: sorted rows of text}; raises Skip when the database cannot be read."""
    db = os.environ.get("BOXOFFICE_TEST_DB")
    if not db:
        raise Skip("BOXOFFICE_TEST_DB is not set: the database checksum cannot be taken")
    out = {}
    if db.startswith("sqlite:"):
        path = db[len("sqlite:"):]
        try:
            con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
            (acct,) = con.execute("SELECT id FROM accounts WHERE slug = ?", (SLUG,)).fetchone()
            for table, sql in queries(acct):
                out[table] = sorted(tuple("" if v is None else str(v) for v in row) for row in con.execute(sql))
            con.close()
        except sqlite3.Error as e:
            raise Skip("cannot read %s: %s" % (path, e))
        return out
    if not db.startswith("postgres"):
        raise Skip("unknown database kind %s" % db[:20])

    def psql(sql):
        try:
            run = subprocess.run(["psql", db, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "\x1f", "-R", "\x1e",
                                  "-P", "null=", "-c", sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Skip("psql failed: %s" % e)
        if run.returncode != 0:
            raise Skip("psql failed: %s" % run.stderr.decode(errors="replace")[-200:])
        text = run.stdout.decode("utf-8", "replace")
        return [tuple(rec.split("\x1f")) for rec in text.split("\x1e") if rec.strip("\n")]

    rows = psql("SELECT id FROM accounts WHERE slug = '%s'" % SLUG)
    if not rows:
        raise Skip("no demo account in the database")
    for table, sql in queries(rows[0][0].strip()):
        out[table] = sorted(tuple(v.strip("\n") for v in row) for row in psql(sql))
    return out


CART_COLS = [c.strip() for c in BUSINESS_TABLES["carts"].split(",")]
INV_COLS = [c.strip() for c in BUSINESS_TABLES["inventory"].split(",")]


def reaped_only(before, after):
    """Whether carts and inventory differ only as the hold reaper leaves them
    (core/engine.c, every second): an open cart past its expiry turns
    expired/released, with a new updated_at, and gives its seats back (used
    goes down on its occurrences). Returns the difference it cannot explain."""
    col = {c: i for i, c in enumerate(CART_COLS)}
    old = {row[0]: row for row in before["carts"]}
    new = {row[0]: row for row in after["carts"]}
    if set(old) != set(new):
        return "carts added or removed: %s" % sorted(set(old) ^ set(new))[:5]
    reaped = set()
    for cid in old:
        a, b = old[cid], new[cid]
        if a == b:
            continue
        same = all(a[i] == b[i] for c, i in col.items() if c not in ("status", "updated_at"))
        if not (same and a[col["status"]] == "open" and b[col["status"]] in ("expired", "released")
                and a[col["expires_at"]] and b[col["updated_at"]] and int(a[col["expires_at"]]) <= int(b[col["updated_at"]])):
            return "cart %s changed: %r -> %r" % (cid, a, b)
        reaped.add(a[col["occurrence"]])
    ic = {c: i for i, c in enumerate(INV_COLS)}
    # a pool occurrence's seats may be spread over sub-rows (shard, migration 10)
    inv_old = {row[:3]: row for row in before["inventory"]}
    inv_new = {row[:3]: row for row in after["inventory"]}
    if set(inv_old) != set(inv_new):
        return "inventory rows added or removed: %s" % sorted(set(inv_old) ^ set(inv_new))[:5]
    for key in inv_old:
        a, b = inv_old[key], inv_new[key]
        if a == b:
            continue
        if not (a[ic["capacity"]] == b[ic["capacity"]] and int(b[ic["used"]]) < int(a[ic["used"]]) and key[1] in reaped):
            return "inventory %s changed: %r -> %r" % (key, a, b)
    return None


@pytest.fixture(scope="module")
def checksum_before():
    """The business tables before the first row is sent (None: unreadable, with why)."""
    convious_token(Client())  # the token is a write of its own: before the snapshot
    try:
        return snapshot(), None
    except Skip as why:
        return None, str(why)


def test_case_table(c):
    assert len(CASES) >= 300, len(CASES)
    names = [k.name for k in CASES]
    assert len(set(names)) == len(names), "case names repeat: %s" % sorted({n for n in names if names.count(n) > 1})[:5]


@pytest.mark.parametrize("k", CASES, ids=[k.name for k in CASES])
def test_case(c, k, checksum_before):
    """One row: its status, code and field."""
    if k.name in KNOWN_DEFECTS:
        raise Skip("known defect: %s" % KNOWN_DEFECTS[k.name])
    why = check(c, k)
    assert why is None, why


def test_database_unchanged(c, checksum_before):
    """After every row (the cases sort before this test), the account's
    business tables are what they were before the first."""
    before, skipped = checksum_before
    if skipped:
        raise Skip(skipped)
    assert c.request("GET", "/healthz").status == 200
    time.sleep(0.2)  # let a write that slipped through commit (SQLite group commit)
    after = snapshot()
    changed = [t for t in BUSINESS_TABLES if before[t] != after[t] and t not in ("carts", "inventory")]
    assert not changed, "refused requests changed %s: %s" % (
        changed, [(t, sorted(set(after[t]) - set(before[t]))[:3]) for t in changed])
    why = reaped_only(before, after)
    assert why is None, why


def test_known_defects(c):
    """The rows in KNOWN_DEFECTS: still wrong (else remove them), and shown as
    a skip with their reasons."""
    by_name = {k.name: k for k in CASES}
    missing = [n for n in KNOWN_DEFECTS if n not in by_name]
    assert not missing, "KNOWN_DEFECTS names no case: %s" % missing
    fixed = [n for n in KNOWN_DEFECTS if check(c, by_name[n]) is None]
    assert not fixed, "fixed, remove from KNOWN_DEFECTS: %s" % fixed
    if KNOWN_DEFECTS:
        raise Skip("%d known defects: %s" % (len(KNOWN_DEFECTS),
                                              "; ".join("%s (%s)" % kv for kv in KNOWN_DEFECTS.items())))
