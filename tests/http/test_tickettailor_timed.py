"""Ticket Tailor timed entry (issue 11): each category with a schedule is an
event series (es_cat:<category id>), each of its timeslots an event
(ev_cat:<category id>@<date>T<time>); an event with a schedule of its own is
its series (es_<event id>) with one event per slot (ev_<event id>@<key>).
Listed from the schedules with live quantities; every event_id an order,
issued ticket or check-in carries resolves. Runs in an account of its own,
so the counts are exact."""
import datetime
import uuid

from harness import expect
from test_tenancy import make_second_account
from test_tickettailor import tt_error
from test_webhooks import Receiver

_world = {}
DAYS = 120
SLOTS = ("09:00", "10:00", "11:00")


def day(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def world(c):
    """An account with two categories on one schedule (so they share every
    occurrence key), one concert in between, each with its own pool."""
    if _world:
        return _world
    t = make_second_account(c)
    tag = uuid.uuid4().hex[:8]
    ids = {k: "tm-%s-%s" % (tag, k) for k in ("loc", "sched", "cat_a", "cat_b", "pool_a", "pool_b", "pool_gig",
                                             "prod_a", "prod_a2", "prod_b", "event", "gig", "tour_sched", "tours",
                                             "tour")}
    ids["occ"] = "oc_tm_" + tag
    ids["gig_day"] = day(40)
    docs = [
        ("locations", {"id": ids["loc"], "name": "Timed hall", "timezone": "Europe/London"}),
        ("schedules", {"id": ids["sched"], "name": "Timed hours", "open": "09:00", "close": "12:00",
                       "slot_minutes": 60, "valid_from": day(1), "valid_to": day(DAYS)}),
        ("categories", {"id": ids["cat_a"], "name": {"en": "Gallery A", "nl": "Zaal A"}, "flow": "dated",
                        "schedule_id": ids["sched"], "location_id": ids["loc"]}),
        ("categories", {"id": ids["cat_b"], "name": {"en": "Gallery B"}, "flow": "dated",
                        "schedule_id": ids["sched"], "location_id": ids["loc"]}),
        ("pools", {"id": ids["pool_a"], "capacity": 10, "per": "occurrence"}),
        ("pools", {"id": ids["pool_b"], "capacity": 4, "per": "occurrence"}),
        ("pools", {"id": ids["pool_gig"], "capacity": 50, "per": "occurrence"}),
        ("products", {"id": ids["prod_a"], "name": {"en": "Adult A"}, "price": 1000, "category_ids": [ids["cat_a"]],
                      "pools": [{"pool_id": ids["pool_a"], "amount": 1}]}),
        ("products", {"id": ids["prod_a2"], "name": {"en": "Child A"}, "price": 500, "category_ids": [ids["cat_a"]],
                      "pools": [{"pool_id": ids["pool_a"], "amount": 1}]}),
        ("products", {"id": ids["prod_b"], "name": {"en": "Adult B"}, "price": 1200, "category_ids": [ids["cat_b"]],
                      "pools": [{"pool_id": ids["pool_b"], "amount": 1}]}),
        ("events", {"id": ids["event"], "name": "Timed gig", "location_id": ids["loc"], "status": "published",
                    "occurrences": [{"id": ids["occ"], "start": ids["gig_day"] + "T10:00:00",
                                     "end": ids["gig_day"] + "T11:30:00"}]}),
        ("products", {"id": ids["gig"], "name": {"en": "Gig seat"}, "price": 3000, "event_id": ids["event"],
                      "pools": [{"pool_id": ids["pool_gig"], "amount": 1}]}),
        ("schedules", {"id": ids["tour_sched"], "open": "14:00", "close": "16:00", "slot_minutes": 120,
                       "valid_from": day(1), "valid_to": day(DAYS)}),
        ("events", {"id": ids["tours"], "name": "Guided tour", "location_id": ids["loc"], "status": "published",
                    "schedule_id": ids["tour_sched"]}),
        ("products", {"id": ids["tour"], "name": {"en": "Tour seat"}, "price": 800, "event_id": ids["tours"],
                      "pools": [{"pool_id": ids["pool_gig"], "amount": 1}]}),
    ]
    for plural, doc in docs:
        expect(t.admin(c, "POST", "/" + plural, doc), 201)
    _world.update(t=t, ids=ids)
    return _world


def slot_id(cat, date, time):
    return "ev_cat:%s@%sT%s" % (cat, date, time)


def cart(c, t, product, quantity, date=None, time=None, category=None, occurrence=None):
    body = {"items": [{"product_id": product, "quantity": quantity}]}
    if date:
        body.update(date=date, start_time=time, category_id=category)
    if occurrence:
        body["occurrence_id"] = occurrence
    return expect(t.admin(c, "POST", "/carts", body), 201)


def sell(c, t, *args, **kw):
    made = cart(c, t, *args, **kw)
    return expect(t.admin(c, "POST", "/orders", {"cart_id": made["id"], "payment": {"provider": "cash"}}), 201)


def tt_get(c, t, path, status=200, **kw):
    return expect(t.tt(c, "GET", path, **kw), status)


def all_events(c, t, **query):
    """Every event, following links.next from the first page."""
    seen, q = [], dict(query, limit="100")
    while True:
        page = tt_get(c, t, "/v1/events", query=q)
        assert len(page["data"]) <= 100
        seen += page["data"]
        if not page["links"]["next"]:
            return seen
        q = dict(query, limit="100", starting_after=page["links"]["next"].split("=", 1)[1])


def type_of(event, product):
    return next(x for x in event["ticket_types"] if x["id"] == "tt_" + product)


def test_every_event_id_resolves(c):
    w = world(c)
    t, ids = w["t"], w["ids"]
    date = day(3)
    a = sell(c, t, ids["prod_a"], 2, date, "10:00", ids["cat_a"])
    b = sell(c, t, ids["prod_b"], 1, date, "10:00", ids["cat_b"])
    gig = sell(c, t, ids["gig"], 1, occurrence=ids["occ"])
    tour = sell(c, t, ids["tour"], 2, date, "14:00")
    issued = expect(t.tt(c, "POST", "/v1/issued_tickets", form={
        "event_id": slot_id(ids["cat_a"], date, "11:00"), "ticket_type_id": "tt_" + ids["prod_a"],
        "full_name": "Walk In"}), 201)["data"][0]
    assert issued["event_id"] == slot_id(ids["cat_a"], date, "11:00")
    orders = tt_get(c, t, "/v1/orders")["data"]
    by_id = {o["id"]: o for o in orders}
    # the same slot of two groups is two events
    a_event = by_id["or_" + a["id"]]["issued_tickets"][0]["event_id"]
    b_event = by_id["or_" + b["id"]]["issued_tickets"][0]["event_id"]
    assert a_event == slot_id(ids["cat_a"], date, "10:00") and b_event == slot_id(ids["cat_b"], date, "10:00")
    assert by_id["or_" + gig["id"]]["issued_tickets"][0]["event_id"] == "ev_" + ids["occ"]
    tour_event = "ev_%s@%sT14:00" % (ids["tours"], date)
    assert by_id["or_" + tour["id"]]["issued_tickets"][0]["event_id"] == tour_event
    carried = set()
    for o in orders:
        assert o["event_summary"] and o["event_summary"]["id"] == o["issued_tickets"][0]["event_id"], o
        carried |= {o["event_summary"]["id"]} | {x["event_id"] for x in o["issued_tickets"]}
    carried |= {x["event_id"] for x in tt_get(c, t, "/v1/issued_tickets")["data"]}
    assert len(carried) == 5, carried
    for event_id in carried:
        ev = tt_get(c, t, "/v1/events/" + event_id)
        assert ev["id"] == event_id and ev["object"] == "event"
        series = tt_get(c, t, "/v1/event_series/" + ev["event_series_id"])
        assert series["id"] == ev["event_series_id"] and series["object"] == "event_series"
        assert series["name"] == ev["name"]
    a_ev = tt_get(c, t, "/v1/events/" + a_event)
    assert a_ev["event_series_id"] == "es_cat:" + ids["cat_a"] and a_ev["name"] == "Gallery A"
    assert [x["id"] for x in a_ev["ticket_types"]] == ["tt_" + ids["prod_a"], "tt_" + ids["prod_a2"]]
    assert a_ev["start"]["date"] == date and a_ev["start"]["time"] == "10:00" and a_ev["end"]["time"] == "11:00"
    assert a_ev["total_issued_tickets"] == 2 and a_ev["total_orders"] == 1
    b_ev = tt_get(c, t, "/v1/events/" + b_event)
    assert [x["id"] for x in b_ev["ticket_types"]] == ["tt_" + ids["prod_b"]]
    assert b_ev["total_issued_tickets"] == 1 and type_of(b_ev, ids["prod_b"])["quantity"] == 3
    tour_ev = tt_get(c, t, "/v1/events/" + tour_event)
    assert tour_ev["event_series_id"] == "es_" + ids["tours"] and tour_ev["name"] == "Guided tour"
    assert tour_ev["total_issued_tickets"] == 2 and [x["id"] for x in tour_ev["ticket_types"]] == ["tt_" + ids["tour"]]
    # the filters take the ids the objects carry, and keep groups that share a slot apart
    def tickets(**query):
        return {x["id"] for x in tt_get(c, t, "/v1/issued_tickets", query=query)["data"]}

    def orders_of(**query):
        return {o["id"] for o in tt_get(c, t, "/v1/orders", query=query)["data"]}

    a_tickets = {x["id"] for x in by_id["or_" + a["id"]]["issued_tickets"]}
    b_tickets = {x["id"] for x in by_id["or_" + b["id"]]["issued_tickets"]}
    assert tickets(event_id=a_event) == a_tickets and tickets(event_id=b_event) == b_tickets
    assert tickets(event_id=tour_event) == {x["id"] for x in by_id["or_" + tour["id"]]["issued_tickets"]}
    assert orders_of(event_id=a_event) == {"or_" + a["id"]} and orders_of(event_id=b_event) == {"or_" + b["id"]}
    assert orders_of(event_id=tour_event) == {"or_" + tour["id"]}
    assert orders_of(event_series_id="es_cat:" + ids["cat_b"]) == {"or_" + b["id"]}
    assert orders_of(event_series_id="es_cat:" + ids["cat_a"]) == {"or_" + a["id"]}
    assert orders_of(event_series_id="es_" + ids["tours"]) == {"or_" + tour["id"]}
    assert orders_of(event_series_id="es_cat:" + ids["cat_a"], event_id=b_event) == set()
    assert orders_of(event_id=slot_id("nope", date, "10:00")) == set()
    # a check-in carries the same event id as its ticket
    barcode = by_id["or_" + b["id"]]["issued_tickets"][0]["barcode"]
    scanned = expect(t.cv(c, "POST", "/api/v2/accounts/%s/barcode/scan/" % t.slug,
                          {"barcode": barcode, "scannedAt": date + "T10:15:00+00:00"}), 200)
    assert scanned["status"] == "success", scanned
    check_in = tt_get(c, t, "/v1/check_ins", query={"limit": "1"})["data"][0]
    assert check_in["event_id"] == b_event


def test_series_list_and_get(c):
    w = world(c)
    t, ids = w["t"], w["ids"]
    series = tt_get(c, t, "/v1/event_series")["data"]
    by_id = {s["id"]: s for s in series}
    for cat, name in ((ids["cat_a"], "Gallery A"), (ids["cat_b"], "Gallery B")):
        s = by_id["es_cat:" + cat]
        assert s["name"] == name and s["status"] == "published" and s["total_occurrences"] == DAYS * len(SLOTS)
    assert by_id["es_" + ids["event"]]["total_occurrences"] == 1
    assert by_id["es_" + ids["tours"]]["total_occurrences"] == DAYS
    first = tt_get(c, t, "/v1/event_series", query={"limit": "1"})
    rest = tt_get(c, t, "/v1/event_series", query={"starting_after": first["data"][0]["id"]})["data"]
    assert [s["id"] for s in first["data"] + rest] == [s["id"] for s in series]
    for bad in ("es_cat:nope", "es_cat:", "es_nope", "es_cat:" + ids["prod_a"]):
        tt_error(t.tt(c, "GET", "/v1/event_series/" + bad), 404)


def test_paging_every_slot_once_in_order(c):
    w = world(c)
    t, ids = w["t"], w["ids"]
    events = all_events(c, t)
    got = [e["id"] for e in events]
    assert len(got) == len(set(got)), "an event listed twice"
    want = {slot_id(cat, day(n), s) for cat in (ids["cat_a"], ids["cat_b"]) for n in range(1, DAYS + 1)
            for s in SLOTS} | {"ev_" + ids["occ"]} | {"ev_%s@%sT14:00" % (ids["tours"], day(n))
                                                        for n in range(1, DAYS + 1)}
    assert set(got) == want
    keys = [(e["start"]["unix"], e["id"]) for e in events]
    assert keys == sorted(keys, reverse=True), "not newest start first"
    # the concert sits among the slots of its day
    at = got.index("ev_" + ids["occ"])
    assert events[at - 1]["start"]["unix"] >= events[at]["start"]["unix"] >= events[at + 1]["start"]["unix"]
    # ending_before walks back the same order
    back, q = [], {"limit": "37", "ending_before": got[-1]}
    while True:
        page = tt_get(c, t, "/v1/events", query=q)
        back = [e["id"] for e in page["data"]] + back
        if not page["links"]["previous"]:
            break
        q = {"limit": "37", "ending_before": page["links"]["previous"].split("=", 1)[1]}
    assert back == got[:-1]
    # limit honoured, links as on every list
    two = tt_get(c, t, "/v1/events", query={"limit": "2", "starting_after": got[10]})
    assert [e["id"] for e in two["data"]] == got[11:13]
    assert two["links"]["next"] == "/v1/events?starting_after=" + got[12]
    assert two["links"]["previous"] == "/v1/events?ending_before=" + got[11]


def test_filters(c):
    w = world(c)
    t, ids = w["t"], w["ids"]
    date = day(5)
    noon = int(datetime.datetime.fromisoformat(date + "T11:00:00+00:00").timestamp())
    morning = int(datetime.datetime.fromisoformat(date + "T09:00:00+00:00").timestamp())
    exact = tt_get(c, t, "/v1/events", query={"start_at": str(noon)})["data"]
    assert sorted(e["id"] for e in exact) == sorted(slot_id(cat, date, "11:00") for cat in (ids["cat_a"], ids["cat_b"]))
    ranged = tt_get(c, t, "/v1/events", query={"start_at.gte": str(morning), "start_at.lt": str(noon)})["data"]
    assert [e["start"]["unix"] for e in ranged] == [morning + 3600] * 2 + [morning] * 2
    ends = tt_get(c, t, "/v1/events", query={"end_at.lte": str(morning + 3600), "end_at.gt": str(morning)})["data"]
    assert sorted(e["id"] for e in ends) == sorted(slot_id(cat, date, "09:00") for cat in (ids["cat_a"], ids["cat_b"]))
    assert len(all_events(c, t, status="published")) == 2 * DAYS * len(SLOTS) + 1 + DAYS
    assert tt_get(c, t, "/v1/events", query={"status": "draft"})["data"] == []
    # a disabled category's series is a draft: its slots follow the status filter
    expect(t.admin(c, "PATCH", "/categories/" + ids["cat_b"], {"enabled": False}), 200)
    try:
        drafts = tt_get(c, t, "/v1/events", query={"status": "draft", "start_at": str(noon)})["data"]
        assert [e["id"] for e in drafts] == [slot_id(ids["cat_b"], date, "11:00")]
        assert drafts[0]["status"] == "draft"
        assert tt_get(c, t, "/v1/event_series/es_cat:" + ids["cat_b"])["status"] == "draft"
        published = tt_get(c, t, "/v1/events", query={"status": "published", "start_at": str(noon)})["data"]
        assert [e["id"] for e in published] == [slot_id(ids["cat_a"], date, "11:00")]
    finally:
        expect(t.admin(c, "PATCH", "/categories/" + ids["cat_b"], {"enabled": True}), 200)
    first = tt_get(c, t, "/v1/events", query={"start_at.gt": str(noon), "limit": "1"})["data"]
    assert first and first[0]["start"]["unix"] > noon
    tt_error(t.tt(c, "GET", "/v1/events", query={"start_at.gt": "soon"}), 400)


def test_quantities_move_with_holds_bookings_and_voids(c):
    w = world(c)
    t, ids = w["t"], w["ids"]
    date = day(7)
    event_id = slot_id(ids["cat_a"], date, "09:00")
    unix = int(datetime.datetime.fromisoformat(date + "T09:00:00+00:00").timestamp())

    def now():
        ev = tt_get(c, t, "/v1/events/" + event_id)
        listed = [e for e in tt_get(c, t, "/v1/events", query={"start_at": str(unix)})["data"] if e["id"] == event_id]
        assert listed == [ev], "the list and the event disagree"
        return ev

    ev = now()
    assert (ev["total_holds"], ev["total_issued_tickets"], ev["total_orders"]) == (0, 0, 0)
    adult = type_of(ev, ids["prod_a"])
    assert (adult["quantity"], adult["quantity_held"], adult["quantity_issued"], adult["quantity_total"]) == (10, 0, 0, 10)
    held = cart(c, t, ids["prod_a"], 3, date, "09:00", ids["cat_a"])
    ev = now()
    adult, child = type_of(ev, ids["prod_a"]), type_of(ev, ids["prod_a2"])
    assert (adult["quantity"], adult["quantity_held"], adult["quantity_issued"], adult["quantity_total"]) == (7, 3, 0, 10)
    assert (child["quantity"], child["quantity_held"]) == (7, 0)  # one pool: what is left is shared
    assert (ev["total_holds"], ev["total_issued_tickets"], ev["total_orders"]) == (3, 0, 0)
    order = expect(t.admin(c, "POST", "/orders", {"cart_id": held["id"], "payment": {"provider": "cash"}}), 201)
    ev = now()
    adult = type_of(ev, ids["prod_a"])
    assert (adult["quantity"], adult["quantity_held"], adult["quantity_issued"], adult["quantity_total"]) == (7, 0, 3, 10)
    assert (ev["total_holds"], ev["total_issued_tickets"], ev["total_orders"]) == (0, 3, 1)
    sell(c, t, ids["prod_a2"], 1, date, "09:00", ids["cat_a"])
    ev = now()
    assert (ev["total_issued_tickets"], ev["total_orders"]) == (4, 2)
    assert type_of(ev, ids["prod_a2"])["quantity_issued"] == 1 and type_of(ev, ids["prod_a"])["quantity"] == 6
    ticket = order["tickets"][0]["id"]
    expect(t.tt(c, "POST", "/v1/issued_tickets/it_%s/void" % ticket), 200)
    ev = now()
    adult = type_of(ev, ids["prod_a"])
    assert (adult["quantity"], adult["quantity_issued"], adult["quantity_total"]) == (7, 2, 9)
    assert (ev["total_issued_tickets"], ev["total_orders"]) == (3, 2)
    expect(t.admin(c, "POST", "/orders/%s/cancel" % order["id"], {"reason": "test"}), 200)
    ev = now()
    assert (ev["total_issued_tickets"], ev["total_orders"]) == (1, 1)
    # the other group's slot at the same time never moved
    other = tt_get(c, t, "/v1/events/" + slot_id(ids["cat_b"], date, "09:00"))
    assert (other["total_issued_tickets"], type_of(other, ids["prod_b"])["quantity"]) == (0, 4)


def test_unknown_ids_and_bad_cursors(c):
    w = world(c)
    t, ids = w["t"], w["ids"]
    for bad in (slot_id(ids["cat_a"], day(DAYS + 30), "10:00"),  # outside the schedule, nothing sold
                slot_id(ids["cat_a"], day(3), "10:30"),          # off the grid
                slot_id(ids["cat_a"], day(3), "12:00"),          # after closing
                slot_id(ids["cat_a"], day(3), "10:00:00"),       # not the key's spelling
                slot_id("nope", day(3), "10:00"),
                slot_id(ids["prod_a"], day(3), "10:00"),
                "ev_cat:%s@%s" % (ids["cat_a"], day(3)),
                "ev_%s@%sT10:00" % (ids["event"], day(3)),        # an event with occurrences has no slots
                "ev_nope"):
        tt_error(t.tt(c, "GET", "/v1/events/" + bad), 404)
    tt_get(c, t, "/v1/events/" + slot_id(ids["cat_a"], day(3), "10:00"))
    # a ticket goes only where its type is sold
    wrong = tt_error(t.tt(c, "POST", "/v1/issued_tickets", form={
        "event_id": slot_id(ids["cat_a"], day(3), "10:00"), "ticket_type_id": "tt_" + ids["prod_b"],
        "full_name": "Wrong Room"}), 422)
    assert wrong["errors"][0]["field"] == "ticket_type_id", wrong
    nowhere = tt_error(t.tt(c, "POST", "/v1/issued_tickets", form={
        "event_id": slot_id("nope", day(3), "10:00"), "ticket_type_id": "tt_" + ids["prod_a"],
        "full_name": "Nowhere"}), 422)
    assert nowhere["errors"][0]["field"] == "event_id", nowhere
    # the demo account cannot see this account's slots
    tt_error(c.tickettailor("GET", "/v1/events/" + slot_id(ids["cat_a"], day(3), "10:00")), 404)
    tt_error(t.tt(c, "GET", "/v1/events", query={"starting_after": "or_1"}), 400)
    tt_error(t.tt(c, "GET", "/v1/events", query={"limit": "101"}), 400)
    for param in ("starting_after", "ending_before"):
        for cursor in ("ev_nope", slot_id("nope", day(3), "10:00"), slot_id(ids["cat_a"], day(3), "10:30")):
            bad = tt_error(t.tt(c, "GET", "/v1/events", query={param: cursor}), 422)
            assert bad["errors"][0]["field"] == param, bad


def test_webhook_payloads_name_the_slot(c):
    w = world(c)
    t, ids = w["t"], w["ids"]
    rx = Receiver()
    sub = expect(t.admin(c, "POST", "/webhooks", {"url": rx.url, "events": ["ORDER.CREATED", "ISSUED_TICKET.CREATED"],
                                                  "format": "tickettailor"}), 201)
    try:
        date = day(9)
        order = sell(c, t, ids["prod_b"], 1, date, "11:00", ids["cat_b"])
        want = slot_id(ids["cat_b"], date, "11:00")
        _, _, ticket = rx.wait_for(lambda d: d["event"] == "ISSUED_TICKET.CREATED" and
                                   d["payload"]["order_id"] == "or_" + order["id"])
        _, _, made = rx.wait_for(lambda d: d["event"] == "ORDER.CREATED" and d["payload"]["id"] == "or_" + order["id"])
        assert ticket["payload"]["event_id"] == want
        assert made["payload"]["event_summary"]["id"] == want
        assert made["payload"]["issued_tickets"][0]["event_id"] == want
        ev = tt_get(c, t, "/v1/events/" + want)
        assert tt_get(c, t, "/v1/event_series/" + ev["event_series_id"])["id"] == "es_cat:" + ids["cat_b"]
    finally:
        expect(t.admin(c, "DELETE", "/webhooks/" + sub["id"]), 204)
        rx.close()
