"""Hardening against a hostile probe: file paths as time zones, NULs in
credentials and paths, out-of-range timestamps and durations, and error
messages that echo client input cut mid-character."""
import base64
import uuid

from harness import ADMIN_TOKEN, TT_API_KEY, admin_error, expect, unique

ADULT = "d0000000-0000-4000-8000-000000000005"
BAD_ZONES = ["/etc/passwd", "/usr/share/zoneinfo/UTC", "../../../etc/passwd", "Europe/../../etc/passwd",
             "Europe/./Amsterdam", "./UTC", "Europe/Amsterdam\n", "Europe Amsterdam", "Europe//Amsterdam",
             "Europe/Amsterdam/"]


def tt_validation(r, field):
    """Ticket Tailor's 422: {"status", "error_code", "errors": [{"field", "messages"}]}."""
    assert r.status == 422 and r.json["status"] == 422 and r.json["error_code"] == "Validation error", r
    assert [e["field"] for e in r.json["errors"]] == [field] and r.json["errors"][0]["messages"], r


def test_time_zone_must_be_an_iana_name(c):
    for tz in BAD_ZONES:
        admin_error(c.admin("POST", "/locations", {"name": "Venue", "timezone": tz}), 400, "invalid_field", "timezone")
        # an account's zone never changes (its sales are dated in it)
        admin_error(c.admin("PATCH", "/account", {"timezone": tz}), 400, "unknown_field", "timezone")
    assert expect(c.admin("GET", "/account"), 200)["timezone"] == "Europe/Amsterdam"
    for tz in ("UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "Europe/Amsterdam"):
        expect(c.admin("POST", "/locations", {"name": "Venue", "timezone": tz}), 201)


def test_nul_in_form_credentials_is_refused(c):
    # A NUL inside a header value never reaches the handlers: libmicrohttpd
    # 0.9.75 ends the value there (docs/dialects: a token followed by junk
    # after a NUL is the token itself). Form values keep their NUL, so a
    # secret with one in it is not the shorter secret.
    tok = c.convious_token()
    r = c.request("POST", "/convious/oauth/token/", form={
        "grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret\0junk"})
    assert r.status == 400 and r.json["error"] == "invalid_request" and r.json["error_description"], r
    # the same credentials without the NUL still work
    expect(c.admin("GET", "/account"), 200)
    expect(c.request("GET", "/convious/api/v1/orders/", headers={"Authorization": "Bearer " + tok}), 200)


def basic(raw):
    return {"Authorization": "Basic " + base64.b64encode(raw).decode(), "Accept": "application/json"}


def test_basic_auth_is_the_key_and_an_empty_password(c):
    key = TT_API_KEY.encode()
    for raw in (key + b"\0junk:", key + b":\0", key + b"\0:", key + b":secret", key + b":" + key):
        r = c.request("GET", "/tickettailor/v1/ping", headers=basic(raw))
        assert r.status == 401, (raw, r)
    expect(c.request("GET", "/tickettailor/v1/ping", headers=basic(key + b":")), 200)


def test_nul_in_a_path_is_not_the_shorter_path(c):
    expect(c.admin("GET", "/products/" + ADULT), 200)
    for path in ("/admin/v1/products/" + ADULT + "%00", "/admin/v1/products/" + ADULT + "%00junk",
                 "/admin/v1/products%00/" + ADULT):
        r = c.request("GET", path, headers={"Authorization": "Bearer " + ADMIN_TOKEN})
        admin_error(r, 400, "invalid_encoding")
    r = c.tickettailor("GET", "/v1/ping%00")
    assert r.status == 400 and r.json == {"status": 400, "error_code": "Bad Request", "message": r.json["message"]}, r
    r = c.convious("GET", "/api/v1/products/%00/")
    assert r.status == 400 and r.json["error"] == "invalid_encoding" and r.json["message"], r


def test_timestamps_out_of_range_are_refused(c):
    for expires in (9223372036854775807, 253402300800, -1):
        r = c.tickettailor("POST", "/v1/discounts", json_body={
            "code": "TT-" + uuid.uuid4().hex[:8], "name": "Overflow", "type": "fixed_amount", "price": 100,
            "expires": expires})
        tt_validation(r, "expires")
        r = c.tickettailor("POST", "/v1/vouchers", json_body={
            "codes": ["V-" + uuid.uuid4().hex[:8]], "name": "Overflow", "value": 100, "expiry": expires})
        tt_validation(r, "expiry")
    r = c.tickettailor("POST", "/v1/discounts", form={
        "code": "TT-" + uuid.uuid4().hex[:8], "name": "Overflow", "type": "fixed_amount", "price": "100",
        "expires": "99999999999999999999"})
    tt_validation(r, "expires")


def test_scan_durations_out_of_range_are_refused(c):
    for field in ("validity_seconds", "time_seconds"):
        for value in (2 ** 62, 2 ** 63 - 1, 10 * 366 * 86400 + 1):
            r = c.admin("POST", "/products", {"name": unique("Scan"), "price": 100,
                                              "scan": {"limit": "once", field: value}})
            assert admin_error(r, 400, "invalid_scan", "scan." + field)["message"], r
    doc = expect(c.admin("POST", "/products", {"name": unique("Scan"), "price": 100,
                                               "scan": {"limit": "once", "validity_seconds": 86400 * 365}}), 201)
    assert doc["scan"]["validity_seconds"] == 86400 * 365, doc


def test_error_messages_cut_on_character_boundaries(c):
    for include in ("a" + "\u00e9" * 40, "\u00e9" * 40):
        r = c.convious("GET", "/api/v1/orders/", query={"include": include})
        assert r.status == 400 and r.json["error"] == "invalid_include" and r.json["field"] == "include", r
        assert r.json["message"] and "\ufffd" not in r.raw, r
    for after, status in (("or_" + "\u00e9" * 40, 422), ("or_x" + "\u00e9" * 40, 422), ("\U0001f3ab" * 30, 400)):
        r = c.tickettailor("GET", "/v1/orders", query={"starting_after": after})
        assert r.status == status and [e["field"] for e in r.json["errors"]] == ["starting_after"], (after, r)
        assert r.json["message"] and "\ufffd" not in r.raw, r
    for status in ("\u00e9" * 40, "x" + "\u00e9" * 40):
        r = c.convious("GET", "/api/v1/orders/", query={"status": status})
        assert r.status == 400 and r.json["error"] == "invalid_filter" and r.json["field"] == "status", r
        assert r.json["message"] and "\ufffd" not in r.raw, r
