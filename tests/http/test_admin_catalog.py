"""/admin/v1 catalog CRUD for every kind: the happy path and every error path.

One table of cases per kind (a valid document, a second valid document for
PUT, a patch, a wrongly typed field, a required field); the same checks run
over all of them.
"""
import uuid

from harness import expect, unique

DEMO_LOCATION = "d0000000-0000-4000-8000-000000000001"
DEMO_CATEGORY = "d0000000-0000-4000-8000-000000000003"
DEMO_POOL = "d0000000-0000-4000-8000-000000000004"


uniq = unique


def kinds():
    """plural -> (create doc, replacement doc, patch, (field, wrong value), required field)"""
    return {
        "locations": ({"name": "Test venue", "timezone": "Europe/Amsterdam", "address": "Dam 1"},
                      {"name": "Other venue", "timezone": "Europe/London"},
                      {"address": "Museumplein 6"}, ("timezone", "Mars/Olympus"), "name"),
        "categories": ({"name": {"en": "Tours", "nl": "Rondleidingen"}, "flow": "dated", "location_id": DEMO_LOCATION},
                       {"name": "Workshops", "priority": 4},
                       {"parent_id": DEMO_CATEGORY}, ("priority", "high"), "name"),
        "schedules": ({"name": "Summer", "open": "10:00", "close": "18:00", "slot_minutes": 30, "weekdays": [0, 1, 2]},
                      {"open": "08:00", "close": "12:00"},
                      {"close": "19:00"}, ("slot_minutes", "thirty"), "open"),
        "events": ({"name": "Jazz night", "location_id": DEMO_LOCATION, "status": "draft",
                    "occurrences": [{"start": "2031-03-01T20:00:00+01:00", "end": "2031-03-01T23:00:00+01:00"}]},
                   {"name": "Poetry night"},
                   {"status": "published"}, ("status", "live"), "name"),
        "pools": ({"name": "Room A", "capacity": 40, "per": "occurrence"},
                  {"capacity": None},
                  {"capacity": 60}, ("capacity", "forty"), "capacity"),
        "products": ({"name": {"en": "Student"}, "price": 1250, "category_ids": [DEMO_CATEGORY],
                      "pools": [{"pool_id": DEMO_POOL, "amount": 1}], "taxes": [{"rate_bp": 900}]},
                     {"name": "Parking", "price": 500},
                     {"price": 1350, "enabled": False}, ("price", -5), "price"),
        "discounts": ({"code": uniq("SPRING"), "type": "percentage", "percent_bp": 1500},
                      {"code": uniq("FLAT"), "type": "fixed", "amount": 200},
                      {"name": "Spring sale"}, ("type", "half"), "code"),
        "vouchers": ({"name": "Gift card", "value": 2500, "type": "gift_card"},
                     {"name": "Credit", "value": 1000},
                     {"partial_redemption": True}, ("value", "25.00"), "value"),
    }


def error_of(resp, status, code=None, field=None):
    body = expect(resp, status)
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), resp
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, err
    assert isinstance(err["code"], str) and err["code"] and isinstance(err["message"], str) and err["message"], err
    if code:
        assert err["code"] == code, "expected code %s, got %r" % (code, resp)
    if field is not None:
        assert err["field"] == field, "expected field %s, got %r" % (field, resp)
    return err


def create(c, plural, doc):
    r = c.admin("POST", "/" + plural, doc)
    body = expect(r, 201)
    assert r.header("Location", ) and r.header("Location").endswith("/admin/v1/%s/%s" % (plural, body["id"])), r.headers
    return body


def subset(doc, stored):
    """Every field sent is stored as sent (text maps may be normalised from a string)."""
    for k, v in doc.items():
        if isinstance(v, str) and isinstance(stored.get(k), dict):
            assert stored[k] == {"en": v}, (k, stored)
        elif k == "taxes":
            assert stored[k][0]["rate_bp"] == v[0]["rate_bp"], stored
        elif k == "occurrences":
            assert stored[k][0]["start"] == v[0]["start"] and stored[k][0]["id"], stored
        elif v is None:
            assert stored.get(k) is None, (k, stored)
        else:
            assert stored.get(k) == v, (k, v, stored)


def test_crud_every_kind(c):
    for plural, (doc, replacement, patch, _, _) in kinds().items():
        created = create(c, plural, doc)
        oid = created["id"]
        subset(doc, created)
        got = expect(c.admin("GET", "/%s/%s" % (plural, oid)), 200)
        assert got == created, (plural, got, created)
        listed = expect(c.admin("GET", "/" + plural), 200)
        assert listed["count"] == len(listed["data"]) and oid in [d["id"] for d in listed["data"]], plural

        replaced = expect(c.admin("PUT", "/%s/%s" % (plural, oid), replacement), 200)
        assert replaced["id"] == oid
        subset(replacement, replaced)
        for k in doc:
            if k not in replacement:
                assert k not in replaced, "%s: PUT kept %s: %r" % (plural, k, replaced)

        patched = expect(c.admin("PATCH", "/%s/%s" % (plural, oid), patch), 200)
        subset(patch, patched)
        subset({k: v for k, v in replacement.items() if k not in patch}, patched)
        assert expect(c.admin("GET", "/%s/%s" % (plural, oid)), 200) == patched, plural

        r = c.admin("DELETE", "/%s/%s" % (plural, oid))
        assert r.status == 204 and r.raw == "", r
        error_of(c.admin("GET", "/%s/%s" % (plural, oid)), 404, "not_found")
        error_of(c.admin("DELETE", "/%s/%s" % (plural, oid)), 404, "not_found")
        error_of(c.admin("PUT", "/%s/%s" % (plural, oid), replacement), 404, "not_found")
        error_of(c.admin("PATCH", "/%s/%s" % (plural, oid), patch), 404, "not_found")
        assert oid not in [d["id"] for d in expect(c.admin("GET", "/" + plural), 200)["data"]], plural


def test_client_chosen_id_and_duplicates(c):
    for plural, (doc, replacement, _, _, _) in kinds().items():
        oid = uniq("my-" + plural[:4])
        created = create(c, plural, dict(doc, id=oid))
        assert created["id"] == oid
        # a second POST with that id conflicts, whatever the kind (pools included)
        error_of(c.admin("POST", "/" + plural, dict(replacement, id=oid)), 409, "duplicate_id", "id")
        # a body may restate its own id, never another
        expect(c.admin("PUT", "/%s/%s" % (plural, oid), dict(replacement, id=oid)), 200)
        error_of(c.admin("PUT", "/%s/%s" % (plural, oid), dict(replacement, id="other")), 400, "id_mismatch", "id")
        error_of(c.admin("PATCH", "/%s/%s" % (plural, oid), {"id": "other"}), 400, "id_mismatch", "id")
        expect(c.admin("DELETE", "/%s/%s" % (plural, oid)), 204)
    error_of(c.admin("POST", "/locations", {"id": "a/b", "name": "x", "timezone": "UTC"}), 400, "invalid_id", "id")
    error_of(c.admin("POST", "/locations", {"id": "x" * 41, "name": "x", "timezone": "UTC"}), 400, "invalid_id", "id")
    error_of(c.admin("POST", "/locations", {"id": 7, "name": "x", "timezone": "UTC"}), 400, "invalid_field", "id")


def test_malformed_and_non_object_bodies(c):
    for plural in kinds():
        for method, path in (("POST", "/" + plural), ("PUT", "/%s/x" % plural), ("PATCH", "/%s/x" % plural)):
            error_of(c.admin(method, path, raw='{"name": "unterminated'), 400, "invalid_json")
            error_of(c.admin(method, path, raw=''), 400, "invalid_json")
            error_of(c.admin(method, path, raw='{"a": 1} trailing'), 400, "invalid_json")
            for body in ("[]", '[{"name": "x"}]'):
                error_of(c.admin(method, path, raw=body), 400, "invalid_body")
            # a bare scalar is either not JSON text to the parser or not an object to us
            for body in ('"text"', "42", "null", "true"):
                assert error_of(c.admin(method, path, raw=body), 400)["code"] in ("invalid_json", "invalid_body")


def test_wrong_types_missing_and_unknown_fields(c):
    for plural, (doc, _, _, (field, wrong), required) in kinds().items():
        error_of(c.admin("POST", "/" + plural, dict(doc, **{field: wrong})), 400, "invalid_field", field)
        error_of(c.admin("POST", "/" + plural, {k: v for k, v in doc.items() if k != required}), 400,
                 "missing_field", required)
        nullable = plural == "pools"  # capacity null means unlimited
        if not nullable:
            error_of(c.admin("POST", "/" + plural, dict(doc, **{required: None})), 400, "missing_field", required)
        error_of(c.admin("POST", "/" + plural, dict(doc, bogus_field=1)), 400, "unknown_field", "bogus_field")
        error_of(c.admin("POST", "/" + plural, {}), 400, "missing_field")
        # the same rules on PUT and PATCH of an existing object; nothing changes
        oid = create(c, plural, doc)["id"]
        before = expect(c.admin("GET", "/%s/%s" % (plural, oid)), 200)
        error_of(c.admin("PUT", "/%s/%s" % (plural, oid), dict(doc, **{field: wrong})), 400, "invalid_field", field)
        error_of(c.admin("PUT", "/%s/%s" % (plural, oid), {k: v for k, v in doc.items() if k != required}), 400,
                 "missing_field", required)
        error_of(c.admin("PATCH", "/%s/%s" % (plural, oid), {field: wrong}), 400, "invalid_field", field)
        error_of(c.admin("PATCH", "/%s/%s" % (plural, oid), {"bogus_field": 1}), 400, "unknown_field", "bogus_field")
        if not nullable:
            error_of(c.admin("PATCH", "/%s/%s" % (plural, oid), {required: None}), 400, "missing_field", required)
        assert expect(c.admin("GET", "/%s/%s" % (plural, oid)), 200) == before, plural
        expect(c.admin("DELETE", "/%s/%s" % (plural, oid)), 204)


def test_patch_null_removes_optional_field(c):
    loc = create(c, "locations", {"name": "Null test", "timezone": "UTC", "address": "Somewhere 1"})
    patched = expect(c.admin("PATCH", "/locations/" + loc["id"], {"address": None}), 200)
    assert "address" not in patched, patched
    expect(c.admin("DELETE", "/locations/" + loc["id"]), 204)


def test_references_must_exist(c):
    error_of(c.admin("POST", "/categories", {"name": "Orphan", "parent_id": "no-such-category"}), 400,
             "unknown_reference", "parent_id")
    error_of(c.admin("POST", "/products", {"name": "X", "price": 1, "category_ids": ["no-such-category"]}), 400,
             "unknown_reference", "category_ids")
    error_of(c.admin("POST", "/events", {"name": "X", "location_id": "nowhere"}), 400, "unknown_reference",
             "location_id")


def test_kind_specific_validation(c):
    error_of(c.admin("POST", "/schedules", {"open": "18:00", "close": "09:00"}), 400, "invalid_hours", "close")
    error_of(c.admin("POST", "/schedules", {"open": "25:00", "close": "26:00"}), 400, "invalid_field", "open")
    error_of(c.admin("POST", "/discounts", {"code": uniq("F"), "type": "fixed"}), 400, "missing_field", "amount")
    error_of(c.admin("POST", "/events", {"name": "X", "occurrences": [{"start": "tomorrow"}]}), 400,
             "invalid_occurrence", "occurrences")
    error_of(c.admin("POST", "/products", {"name": "X", "price": 1, "taxes": [{"rate_bp": 20000}]}), 400,
             "invalid_tax", "taxes")


def test_unknown_ids_are_404(c):
    for plural in kinds():
        for method in ("GET", "DELETE"):
            error_of(c.admin(method, "/%s/no-such-id" % plural), 404, "not_found")
        error_of(c.admin("PUT", "/%s/no-such-id" % plural, kinds()[plural][0]), 404, "not_found")
        error_of(c.admin("PATCH", "/%s/no-such-id" % plural, {}), 404, "not_found")
        error_of(c.admin("GET", "/%s/%s" % (plural, "z" * 300)), 404, "not_found")
        error_of(c.admin("GET", "/%s/%%C3%%28bad-utf8" % plural), 404, "not_found")


def test_demo_catalog_is_listed(c):
    pools = expect(c.admin("GET", "/pools"), 200)
    assert DEMO_POOL in [p["id"] for p in pools["data"]], pools
    for plural in kinds():
        listed = expect(c.admin("GET", "/" + plural), 200)
        assert set(listed) == {"data", "count"} and listed["count"] == len(listed["data"]), listed
