"""Catalog integrity: references between pools, products and events, and what
happens to a held cart when its product or event leaves the catalog.

Decisions (docs/ADMIN_API.md): a product's pools must exist (400
unknown_reference, field pools); a pool a live product uses, or that has held
or sold seats, cannot be deleted (409 in_use); an event a live product names
cannot be deleted (409 in_use); a product can be deleted, and a cart that still
holds it then fails to book with 409 cart_outdated (its seats are not sold).
"""
import datetime

from harness import expect, admin_error, unique

ADULT = "d0000000-0000-4000-8000-000000000005"
MUSEUM = "d0000000-0000-4000-8000-000000000003"
ACCOUNT = "/api/v1/accounts/demo"


def day(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def pool_and_product(c, capacity=3):
    pool = expect(c.admin("POST", "/pools", {"name": unique("pool"), "capacity": capacity, "per": "total"}), 201)
    product = expect(c.admin("POST", "/products", {"name": unique("Workshop"), "price": 1500,
                                                  "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)
    return pool, product


def test_product_pool_must_exist(c):
    admin_error(c.admin("POST", "/products", {"name": "Orphan", "price": 100,
                                              "pools": [{"pool_id": "no-such-pool", "amount": 1}]}),
                400, "unknown_reference", "pools")
    pool, product = pool_and_product(c)
    admin_error(c.admin("PATCH", "/products/" + product["id"], {"pools": [{"pool_id": "no-such-pool"}]}),
                400, "unknown_reference", "pools")
    admin_error(c.admin("PUT", "/products/" + product["id"],
                        {"name": "x", "price": 1, "pools": [{"pool_id": pool["id"]}, {"pool_id": "gone"}]}),
                400, "unknown_reference", "pools")
    # nothing was stored: the product still sells against its pool only
    assert expect(c.admin("GET", "/products/" + product["id"]), 200)["pools"] == [{"pool_id": pool["id"],
                                                                                  "amount": 1}]
    admin_error(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1000}]}), 409,
                "sold_out")


def test_pool_in_use_cannot_be_deleted(c):
    pool, product = pool_and_product(c, capacity=2)
    admin_error(c.admin("DELETE", "/pools/" + pool["id"]), 409, "in_use")
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 2}]}), 201)
    expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    # the product is gone, but the pool still counts two sold seats
    expect(c.admin("DELETE", "/products/" + product["id"]), 204)
    admin_error(c.admin("DELETE", "/pools/" + pool["id"]), 409, "in_use")
    assert expect(c.admin("GET", "/pools/" + pool["id"]), 200)["id"] == pool["id"]
    # a pool nobody uses and nothing was held from goes
    free = expect(c.admin("POST", "/pools", {"name": unique("free"), "capacity": 5}), 201)
    expect(c.admin("DELETE", "/pools/" + free["id"]), 204)


def test_event_named_by_a_product_cannot_be_deleted(c):
    event = expect(c.admin("POST", "/events", {
        "name": unique("Gig"), "status": "published",
        "occurrences": [{"id": unique("oc"), "start": day(20) + "T20:00:00+01:00"}]}), 201)
    occ = event["occurrences"][0]["id"]
    product = expect(c.admin("POST", "/products", {"name": unique("Gig ticket"), "price": 2000,
                                                  "event_id": event["id"]}), 201)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                             "occurrence_id": occ}), 201)
    admin_error(c.admin("DELETE", "/events/" + event["id"]), 409, "in_use")
    # deleting the product first: the held cart no longer books, cleanly
    expect(c.admin("DELETE", "/products/" + product["id"]), 204)
    expect(c.admin("GET", "/carts/" + cart["id"]), 200)
    admin_error(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 409,
                "cart_outdated")
    expect(c.admin("DELETE", "/events/" + event["id"]), 204)
    expect(c.admin("GET", "/carts/" + cart["id"]), 200)
    admin_error(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 409,
                "cart_outdated")


def test_product_deleted_under_admin_cart(c):
    pool, product = pool_and_product(c, capacity=2)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 2}]}), 201)
    expect(c.admin("DELETE", "/products/" + product["id"]), 204)
    admin_error(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 409,
                "cart_outdated")
    # nothing was sold: no order, and a second try answers the same
    admin_error(c.admin("POST", "/orders", {"cart_id": cart["id"]}), 409, "cart_outdated")


def test_product_deleted_under_convious_cart(c):
    doc = expect(c.admin("GET", "/products/" + ADULT), 200)
    for k in ("id", "created_at", "updated_at", "external_ids"):
        doc.pop(k, None)
    doc["name"] = unique("Adult copy")
    product = expect(c.admin("POST", "/products", doc), 201)
    body = {"categoryId": MUSEUM, "eventDate": day(9), "startTime": "11:00:00",
            "items": [{"productId": product["id"], "amount": 1}]}
    cart = expect(c.convious("POST", ACCOUNT + "/carts/", body), 200)
    expect(c.admin("DELETE", "/products/" + product["id"]), 204)
    r = c.convious("GET", ACCOUNT + "/carts/%s/" % cart["id"])
    assert r.status in (200, 404, 409), r
    r = c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"], "customer": {"email": "a@example.com"}})
    assert r.status == 409 and r.json["error"] == "cart_outdated", r


def test_cli_account_refuses_a_taken_admin_token(c):
    """`boxoffice account --admin-token T` with T already another account's:
    non-zero exit, a clear message, no account stored, T still opens its own."""
    import os
    import subprocess
    import uuid
    from harness import Skip, ADMIN_TOKEN
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    db = os.environ.get("BOXOFFICE_TEST_DB")
    binary = os.environ.get("BOXOFFICE_BIN") or next(
        (p for p in (os.path.join(root, "build/san/boxoffice"), os.path.join(root, "build/boxoffice"))
         if os.path.exists(p)), None)
    key = os.environ.get("BOXOFFICE_KEY_FILE")
    if not (db and binary and key and os.path.exists(key)):
        raise Skip("needs BOXOFFICE_TEST_DB, BOXOFFICE_BIN, BOXOFFICE_KEY_FILE")
    slug = "taken-" + uuid.uuid4().hex[:10]

    def account(token):
        return subprocess.run([binary, "account", "--db", db, "--key-file", key, "--slug", slug, "--timezone", "UTC",
                               "--currency", "EUR", "--admin-token", token],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    run = account(ADMIN_TOKEN)
    assert run.returncode != 0, run
    assert b"admin token" in run.stderr and b"another account" in run.stderr, run.stderr
    assert expect(c.admin("GET", "/account"), 200)["slug"] == "demo"
    # nothing was stored: the slug is still free
    token = "adm_" + uuid.uuid4().hex
    run = account(token)
    assert run.returncode == 0, run.stderr
    assert expect(c.admin("GET", "/account", token=token), 200)["slug"] == slug
    assert expect(c.admin("GET", "/account"), 200)["slug"] == "demo"
