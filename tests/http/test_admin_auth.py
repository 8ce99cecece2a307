"""/admin/v1 authentication, credentials, and confinement to one account.

The cross-account tests need a second account, made with the server binary's
`account` command against the database under test. They find it through
BOXOFFICE_TEST_DB (set by scripts/check.sh), BOXOFFICE_BIN (default
build/san/boxoffice, else build/boxoffice) and BOXOFFICE_KEY_FILE (default:
PATH.key beside a SQLite database at PATH); without them they are skipped, saying so.
"""
import re
import uuid

from harness import ADMIN_TOKEN, create_account, TT_API_KEY, expect, admin_error, unique

GUIDE = "d0000000-0000-4000-8000-000000000007"
DEMO_LOCATION = "d0000000-0000-4000-8000-000000000001"
_second = {}


uniq = unique


error_of = admin_error


def second_account(c):
    """An admin token of a fresh second account; Skip when the environment cannot make one."""
    if _second.get("token"):
        return _second["token"]
    token = "adm_" + uuid.uuid4().hex
    create_account(uniq("other"), "Other venue", "Europe/London", "GBP", token)
    expect(c.admin("GET", "/account", token=token), 200)
    _second["token"] = token
    return token


def test_requests_without_a_valid_admin_token_are_401(c):
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Bearer "},
                    {"Authorization": "Basic ZGVtby1hZG1pbi10b2tlbjo="}, {"Authorization": "demo-admin-token"},
                    {"Authorization": "Bearer " + TT_API_KEY}, {"Authorization": "Bearer " + "x" * 2000}):
        r = c.request("GET", "/admin/v1/account", headers=headers)
        error_of(r, 401, "unauthorized")
        assert (r.header("WWW-Authenticate") or "").startswith("Bearer"), r.headers
    # the scheme is case-insensitive (RFC 7235)
    expect(c.request("GET", "/admin/v1/account", headers={"Authorization": "bearer " + ADMIN_TOKEN}), 200)
    # authentication comes before the body is looked at
    error_of(c.admin("POST", "/locations", raw="{not json", token="wrong"), 401, "unauthorized")


def test_account(c):
    a = expect(c.admin("GET", "/account"), 200)
    assert set(a) == {"id", "slug", "name", "timezone", "currency", "hold_seconds"}, a
    assert a["slug"] == "demo" and a["timezone"] == "Europe/Amsterdam" and a["currency"] == "EUR", a
    assert a["hold_seconds"] > 0, a


def test_new_admin_token_works(c):
    r = c.admin("POST", "/credentials", {"kind": "admin_token", "label": "till 2"})
    cred = expect(r, 201)
    assert cred["kind"] == "admin_token" and cred["label"] == "till 2", cred
    assert cred["secret"].startswith("adm_") and len(cred["secret"]) >= 32, cred
    assert "no-store" in (r.header("Cache-Control") or ""), r.headers
    me = expect(c.admin("GET", "/account", token=cred["secret"]), 200)
    assert me["id"] == expect(c.admin("GET", "/account"), 200)["id"]

    chosen = "my-own-admin-secret-" + uuid.uuid4().hex[:8]
    cred = expect(c.admin("POST", "/credentials", {"kind": "admin_token", "secret": chosen}), 201)
    assert cred["secret"] == chosen, cred
    expect(c.admin("GET", "/account", token=chosen), 200)
    # adding the same secret again is idempotent
    expect(c.admin("POST", "/credentials", {"kind": "admin_token", "secret": chosen}), 201)
    # the secret is shown once: there is nothing to read credentials back with
    error_of(c.admin("GET", "/credentials"), 405, "method_not_allowed")


def test_new_api_key_and_other_kinds(c):
    key = expect(c.admin("POST", "/credentials", {"kind": "api_key"}), 201)["secret"]
    assert key.startswith("sk_"), key
    # an api key is not an admin token
    error_of(c.admin("GET", "/account", token=key), 401, "unauthorized")
    r = c.tickettailor("GET", "/v1/ping", key=key)
    if r.status != 404:  # the Ticket Tailor dialect may not be there yet
        expect(r, 200)
    client = expect(c.admin("POST", "/credentials", {"kind": "oauth_client", "secret": "s3cret-" + uuid.uuid4().hex}), 201)
    assert client["client_id"], client
    r = c.request("POST", "/convious/oauth/token/", form={"grant_type": "client_credentials",
                                                         "client_id": client["client_id"], "client_secret": client["secret"]})
    if r.status != 404:
        expect(r, 200)
    named = expect(c.admin("POST", "/credentials", {"kind": "oauth_client", "client_id": uniq("box")}), 201)
    assert named["client_id"].startswith("box-"), named
    token = expect(c.admin("POST", "/credentials", {"kind": "product_token"}), 201)["secret"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", token), token
    assert expect(c.admin("POST", "/credentials", {"kind": "channel_key"}), 201)["secret"].startswith("fv_")


def test_credential_validation(c):
    cases = [
        ({}, "missing_field", "kind"),
        ({"kind": "access_token"}, "invalid_field", "kind"),
        ({"kind": "root"}, "invalid_field", "kind"),
        ({"kind": 1}, "invalid_field", "kind"),
        ({"kind": "api_key", "secret": "short"}, "invalid_field", "secret"),
        ({"kind": "api_key", "secret": "x" * 257}, "invalid_field", "secret"),
        ({"kind": "api_key", "client_id": "abc"}, "invalid_field", "client_id"),
        ({"kind": "api_key", "label": "x" * 101}, "invalid_field", "label"),
        ({"kind": "api_key", "expires": "never"}, "unknown_field", "expires"),
    ]
    for body, code, field in cases:
        error_of(c.admin("POST", "/credentials", body), 400, code, field)
    error_of(c.admin("POST", "/credentials", raw="kind=api_key"), 400, "invalid_json")


def test_other_accounts_catalog_is_invisible(c):
    other = second_account(c)
    oid = uniq("theirs")
    theirs = expect(c.admin("POST", "/locations", {"id": oid, "name": "Their venue", "timezone": "Europe/London"},
                            token=other), 201)
    for method, body in (("GET", None), ("PUT", {"name": "Mine now", "timezone": "UTC"}), ("PATCH", {"name": "x"}),
                         ("DELETE", None)):
        error_of(c.admin(method, "/locations/" + oid, body), 404, "not_found")
    assert oid not in [d["id"] for d in expect(c.admin("GET", "/locations"), 200)["data"]]
    # ids are per account: the demo account may use the same one
    mine = expect(c.admin("POST", "/locations", {"id": oid, "name": "Our venue", "timezone": "UTC"}), 201)
    assert expect(c.admin("GET", "/locations/" + oid, token=other), 200) == theirs
    assert expect(c.admin("GET", "/locations/" + oid), 200) == mine
    expect(c.admin("DELETE", "/locations/" + oid), 204)
    assert expect(c.admin("GET", "/locations/" + oid, token=other), 200) == theirs
    # and references cannot cross accounts either
    error_of(c.admin("POST", "/categories", {"name": "x", "location_id": DEMO_LOCATION}, token=other), 400,
             "unknown_reference", "location_id")
    assert expect(c.admin("GET", "/account", token=other), 200)["currency"] == "GBP"


def test_other_accounts_sales_are_invisible(c):
    other = second_account(c)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]}), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"]}), 201)
    ticket = order["tickets"][0]["id"]
    error_of(c.admin("GET", "/carts/" + cart["id"], token=other), 404, "not_found")
    error_of(c.admin("POST", "/orders", {"cart_id": cart["id"]}, token=other), 404, "not_found")
    error_of(c.admin("GET", "/orders/" + order["id"], token=other), 404, "not_found")
    error_of(c.admin("POST", "/orders/%s/cancel" % order["id"], token=other), 404, "not_found")
    error_of(c.admin("GET", "/tickets/" + ticket, token=other), 404, "not_found")
    error_of(c.admin("POST", "/tickets/%s/void" % ticket, token=other), 404, "not_found")
    error_of(c.admin("GET", "/orders", query={"starting_after": order["id"]}, token=other), 400, "invalid_cursor")
    listed = expect(c.admin("GET", "/orders", query={"number": order["number"]}, token=other), 200)
    assert listed["count"] == 0, listed
    error_of(c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]}, token=other), 400,
             "unknown_product", "product_id")
    error_of(c.admin("GET", "/availability", query={"product_id": GUIDE}, token=other), 404, "not_found")
    # nothing happened to the order
    assert expect(c.admin("GET", "/orders/" + order["id"]), 200)["status"] == "confirmed"
    assert expect(c.admin("GET", "/tickets/" + ticket), 200)["status"] == "valid"


def test_secret_of_another_account_is_refused(c):
    other = second_account(c)
    secret = "shared-" + uuid.uuid4().hex
    expect(c.admin("POST", "/credentials", {"kind": "api_key", "secret": secret}), 201)
    error_of(c.admin("POST", "/credentials", {"kind": "api_key", "secret": secret}, token=other), 409,
             "secret_unavailable", "secret")
    error_of(c.admin("POST", "/credentials", {"kind": "admin_token", "secret": ADMIN_TOKEN}, token=other), 409,
             "secret_unavailable", "secret")
    # the same secret for another kind is a different credential
    expect(c.admin("POST", "/credentials", {"kind": "channel_key", "secret": secret}, token=other), 201)
    assert expect(c.admin("GET", "/account", token=other), 200)["slug"].startswith("other-")
