"""Webhook formats through /admin/v1: a subscription names the format its
deliveries are sent in (default tickettailor) and an unknown one is refused."""
from harness import admin_error, expect


def test_format_default_explicit_and_unknown(c):
    subs = []
    try:
        plain = expect(c.admin("POST", "/webhooks", {"url": "http://127.0.0.1:1/a"}), 201)
        subs.append(plain["id"])
        assert plain["format"] == "tickettailor", plain
        named = expect(c.admin("POST", "/webhooks", {"url": "http://127.0.0.1:1/b", "format": "tickettailor"}), 201)
        subs.append(named["id"])
        assert named["format"] == "tickettailor", named
        assert expect(c.admin("GET", "/webhooks/" + named["id"]), 200)["format"] == "tickettailor"
        listed = expect(c.admin("GET", "/webhooks"), 200)["data"]
        assert all(s["format"] == "tickettailor" for s in listed if s["id"] in subs), listed
        for bad, code in (("nope", "invalid_format"), ("", "invalid_format"), (7, "invalid_field"),
                          (None, "invalid_field")):
            admin_error(c.admin("POST", "/webhooks", {"url": "http://127.0.0.1:1/c", "format": bad}), 400, code,
                        "format")
    finally:
        for sid in subs:
            expect(c.admin("DELETE", "/webhooks/" + sid), 204)
