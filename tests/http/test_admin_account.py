"""/admin/v1/account: reading it, and changing the cart hold time the engine uses."""
from harness import admin_error, expect


def test_account_read_and_update(c):
    acct = expect(c.admin("GET", "/account"), 200)
    assert acct["slug"] == "demo" and acct["timezone"] == "Europe/Amsterdam"
    try:
        upd = expect(c.admin("PATCH", "/account", {"hold_seconds": 1200}), 200)
        assert upd["hold_seconds"] == 1200 and upd["name"] == acct["name"]
        for body, code, field in (({"hold_seconds": 5}, "invalid_hold", "hold_seconds"),
                                  ({"hold_seconds": "long"}, "invalid_field", "hold_seconds"),
                                  ({"name": ""}, "invalid_name", "name"), ({"slug": "x"}, "unknown_field", "slug"),
                                  ({"name": 3}, "invalid_field", "name")):
            admin_error(c.admin("PATCH", "/account", body), 400, code, field)
        # a new cart now holds for 20 minutes
        cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": "d0000000-0000-4000-8000-000000000007",
                                                            "quantity": 1}]}), 201)
        assert cart["expires_at"] - cart["created_at"] == 1200 * 1000000, cart
    finally:
        expect(c.admin("PATCH", "/account", {"hold_seconds": acct["hold_seconds"]}), 200)
