"""Ticket Tailor's check-ins (the engine's redeeming scans), event series
(the engine's events) and the 404 of an unknown collection."""
import datetime
import uuid

from harness import expect
from test_convious import ADULT, MUSEUM, day
from test_tickettailor import tt_error
from test_tickettailor_cursors import all_ids

SCAN = "/api/v2/accounts/demo/barcode/scan/"
MISSING = "The requested resource does not exist."


def book_one(c):
    body = {"categoryId": MUSEUM, "eventDate": day(2), "startTime": "10:00:00",
            "items": [{"productId": ADULT, "amount": 1}]}
    cart = expect(c.convious("POST", "/api/v1/accounts/demo/carts/", body), 200)
    order = expect(c.convious("POST", "/api/v1/accounts/demo/bookings/", {"cartId": cart["id"]}), 200)
    return order["items"][0]["barcode"]["barcode"]


def scan(c, barcode):
    return expect(c.convious("POST", SCAN, {"barcode": barcode, "scannedAt": day(2) + "T10:30:00+01:00"}), 200)


def ticket_of(c, barcode):
    found = expect(c.tickettailor("GET", "/v1/issued_tickets", query={"barcode": barcode}), 200)["data"]
    assert len(found) == 1, found
    return found[0]


def test_check_ins_are_redeems_newest_first(c):
    scan(c, book_one(c))  # an older one, so the page below has a next
    first, second = book_one(c), book_one(c)
    assert scan(c, first)["status"] == "success"
    assert scan(c, second)["status"] == "success"
    assert scan(c, second)["errorCode"] == "already_redeemed"  # refused: not a check-in
    scan(c, "999%09d" % (uuid.uuid4().int % 10**9))  # names no ticket: not a check-in
    page = expect(c.tickettailor("GET", "/v1/check_ins", query={"limit": "2"}), 200)
    assert set(page) == {"data", "links"} and len(page["data"]) == 2
    newest, older = page["data"]
    for ch, barcode in ((newest, second), (older, first)):
        t = ticket_of(c, barcode)
        assert ch["object"] == "check_in" and ch["id"].startswith("ch_")
        assert ch["issued_ticket_id"] == t["id"] and ch["event_id"] == t["event_id"]
        assert ch["ticket_type_id"] == t["ticket_type_id"] and ch["quantity"] == 1
        assert isinstance(ch["checkin_at"], int) and isinstance(ch["created_at"], int)
        assert ch["checkin_at"] == int(datetime.datetime.fromisoformat(day(2) + "T10:30:00+01:00").timestamp())
        assert expect(c.tickettailor("GET", "/v1/issued_tickets/" + ch["issued_ticket_id"]), 200)["barcode"] == barcode
    assert int(newest["id"][3:]) > int(older["id"][3:])
    assert page["links"]["next"] == "/v1/check_ins?starting_after=" + older["id"]
    assert page["links"]["previous"] is None


def test_check_ins_cursor_pages(c):
    for _ in range(3):
        scan(c, book_one(c))
    top = expect(c.tickettailor("GET", "/v1/check_ins", query={"limit": "3"}), 200)["data"]
    ids = [ch["id"] for ch in top]
    one = expect(c.tickettailor("GET", "/v1/check_ins", query={"limit": "1", "starting_after": ids[0]}), 200)
    assert [ch["id"] for ch in one["data"]] == ids[1:2]
    assert one["links"]["previous"] == "/v1/check_ins?ending_before=" + ids[1]
    assert one["links"]["next"] == "/v1/check_ins?starting_after=" + ids[1]
    back = expect(c.tickettailor("GET", "/v1/check_ins", query={"limit": "2", "ending_before": ids[2]}), 200)
    assert [ch["id"] for ch in back["data"]] == ids[0:2]
    # a trailing slash is the same list
    slash = expect(c.tickettailor("GET", "/v1/check_ins/", query={"limit": "3"}), 200)["data"]
    assert [ch["id"] for ch in slash] == ids
    tt_error(c.tickettailor("GET", "/v1/check_ins", query={"starting_after": "it_1"}), 400)
    tt_error(c.tickettailor("GET", "/v1/check_ins", query={"limit": "0"}), 400)
    bad = tt_error(c.tickettailor("GET", "/v1/check_ins", query={"starting_after": "ch_nope"}), 422)
    assert bad["errors"][0]["field"] == "starting_after"
    tt_error(c.tickettailor("GET", "/v1/check_ins", query={"ending_before": "ch_0"}), 422)
    tt_error(c.tickettailor("GET", "/v1/check_ins", key=None), 401)


def test_event_series_are_the_engines_events(c):
    series = expect(c.tickettailor("GET", "/v1/event_series"), 200)
    assert set(series) == {"data", "links"} and series["data"]
    ids = [s["id"] for s in series["data"]]
    assert len(set(ids)) == len(ids) and all(i.startswith("es_") for i in ids)
    for s in series["data"]:
        assert s["object"] == "event_series" and s["name"] and s["currency"] == "eur"
        assert s["status"] and s["timezone"] and s["total_occurrences"] >= 0
        assert expect(c.tickettailor("GET", "/v1/event_series/" + s["id"]), 200) == s
        assert expect(c.tickettailor("GET", "/v1/event_series/" + s["id"] + "/"), 200) == s
    # every series an event names resolves (among all series: the first page holds the newest only, and a
    # long test run makes more than a page of events)
    every = set(all_ids(c, "/v1/event_series"))
    for ev in expect(c.tickettailor("GET", "/v1/events"), 200)["data"]:
        assert ev["event_series_id"] in every
    if len(ids) > 1:
        first = expect(c.tickettailor("GET", "/v1/event_series", query={"limit": "1"}), 200)
        assert [s["id"] for s in first["data"]] == ids[:1]
        assert first["links"]["next"] == "/v1/event_series?starting_after=" + ids[0]
        # the page after the first series continues where the full page did (it may reach one further,
        # when the tests before this one made more series than a page holds)
        rest = expect(c.tickettailor("GET", "/v1/event_series", query={"starting_after": ids[0]}), 200)
        assert [s["id"] for s in rest["data"]][:len(ids) - 1] == ids[1:]
    tt_error(c.tickettailor("GET", "/v1/event_series", query={"starting_after": "es_%s" % uuid.uuid4()}), 422)
    assert tt_error(c.tickettailor("GET", "/v1/event_series/es_%s" % uuid.uuid4()), 404)["message"] == MISSING
    assert tt_error(c.tickettailor("GET", "/v1/event_series/ev_1"), 404)["message"] == MISSING


def test_unknown_collections_answer_the_docs_404(c):
    for path in ("/v1/nothing", "/v1/products", "/v1/check_ins/ch_1/extra", "/v2/orders"):
        body = tt_error(c.tickettailor("GET", path), 404)
        assert body == {"status": 404, "error_code": body["error_code"], "message": MISSING}, body


def test_check_ins_and_series_are_per_account(c):
    from test_tenancy import make_second_account
    scan(c, book_one(c))
    demo = expect(c.tickettailor("GET", "/v1/check_ins", query={"limit": "1"}), 200)["data"]
    assert demo
    other = make_second_account(c)
    assert expect(other.tt(c, "GET", "/v1/check_ins"), 200)["data"] == []
    assert expect(other.tt(c, "GET", "/v1/check_ins", query={"ending_before": "ch_1"}), 200)["data"] == []
    assert expect(other.tt(c, "GET", "/v1/event_series"), 200)["data"] == []
    series = expect(c.tickettailor("GET", "/v1/event_series", query={"limit": "1"}), 200)["data"][0]
    tt_error(other.tt(c, "GET", "/v1/event_series/" + series["id"]), 404)
