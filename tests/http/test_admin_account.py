"""/admin/v1/account: reading it, and changing the cart hold time the engine uses."""
from harness import expect


def test_account_read_and_update(c):
    acct = expect(c.admin("GET", "/account"), 200)
    assert acct["slug"] == "demo" and acct["timezone"] == "Europe/Amsterdam"
    try:
        upd = expect(c.admin("PATCH", "/account", {"hold_seconds": 1200}), 200)
        assert upd["hold_seconds"] == 1200 and upd["name"] == acct["name"]
        for body in ({"hold_seconds": 5}, {"hold_seconds": "long"}, {"name": ""}, {"slug": "x"}, {"name": 3}):
            r = c.admin("PATCH", "/account", body)
            assert r.status == 400, (body, r)
        # a new cart now holds for 20 minutes
        cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": "d0000000-0000-4000-8000-000000000007",
                                                            "quantity": 1}]}), 201)
        assert cart["expires_at"] - cart["created_at"] == 1200 * 1000000, cart
    finally:
        expect(c.admin("PATCH", "/account", {"hold_seconds": acct["hold_seconds"]}), 200)
