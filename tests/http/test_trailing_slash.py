"""One router rule for every dialect (issue 11): a path with one trailing slash more than its route's pattern
names the same resource, as published Ticket Tailor clients call `/v1/orders/?limit=2` and
`/v1/events/{id}/`. Convious spells its paths with the slash, so leaving it out stays 404."""
from harness import expect


def test_tickettailor_list_with_trailing_slash(c):
    plain = expect(c.tickettailor("GET", "/v1/orders", query={"limit": "2"}), 200)
    slashed = expect(c.tickettailor("GET", "/v1/orders/", query={"limit": "2"}), 200)
    assert [o["id"] for o in slashed["data"]] == [o["id"] for o in plain["data"]]


def test_tickettailor_object_with_trailing_slash(c):
    events = expect(c.tickettailor("GET", "/v1/events"), 200)["data"]
    assert events, "the demo account has events"
    one = expect(c.tickettailor("GET", "/v1/events/%s/" % events[0]["id"]), 200)
    assert one["id"] == events[0]["id"]
    missing = c.tickettailor("GET", "/v1/events/ev_nope/")
    assert missing.status == 404, missing


def test_admin_with_trailing_slash(c):
    assert expect(c.admin("GET", "/products/"), 200)["data"] == expect(c.admin("GET", "/products"), 200)["data"]


def test_only_one_slash_and_methods_still_checked(c):
    assert c.tickettailor("GET", "/v1/orders//").status == 404
    resp = c.admin("DELETE", "/products/")
    assert resp.status == 405, resp
    assert "GET" in (resp.header("Allow") or ""), resp


def test_convious_without_its_slash_stays_404(c):
    assert c.convious("GET", "/api/v1/orders").status == 404
