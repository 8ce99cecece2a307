"""CM.com Ticketing Shop: the calendar (docs/dialects/cm.md): months and days of
a calendar event, across both DST changes, errors, access keys, tenancy."""
import datetime
import zoneinfo

import pytest

from harness import expect
from cm_shop import CONCERT, cm, cm_error, second_account, tag

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")


def last_sunday(year, month):
    d = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1) if month < 12 else datetime.date(year, 12, 31)
    return d - datetime.timedelta(days=(d.weekday() - 6) % 7)


def next_year():
    return datetime.date.today().year + 1


def utc_iso(local_day, hour=0, minute=0):
    t = datetime.datetime(local_day.year, local_day.month, local_day.day, hour, minute, tzinfo=AMS)
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def calendar_event(c, capacity=16, token=None, closed=None, **schedule):
    kw = {"token": token} if token else {}
    sched = expect(c.admin("POST", "/schedules", dict({"open": "10:00", "close": "12:00", "slot_minutes": 30},
                                                      **schedule), **kw), 201)
    if closed:
        expect(c.admin("PATCH", "/schedules/" + sched["id"], {"closed_dates": closed}, **kw), 200)
    ev = expect(c.admin("POST", "/events", {"name": "Calendar " + tag(), "status": "published",
                                            "schedule_id": sched["id"]}, **kw), 201)
    pool = expect(c.admin("POST", "/pools", {"capacity": capacity}, **kw), 201)
    regular = expect(c.admin("POST", "/products", {
        "name": {"en": "Regular", "nl": "Regulier"}, "event_id": ev["id"], "price": 500,
        "pools": [{"pool_id": pool["id"], "amount": 1}]}, **kw), 201)
    child = expect(c.admin("POST", "/products", {
        "name": {"en": "Child"}, "event_id": ev["id"], "price": 250,
        "pools": [{"pool_id": pool["id"], "amount": 1}]}, **kw), 201)
    return ev, regular, child


def test_month_doc_shape_and_dst_spring(c):
    ev, _, _ = calendar_event(c)
    year = next_year()
    spring = last_sunday(year, 3)
    for month in ("3", "03"):
        days = expect(cm(c, "GET", "/events/%s/calendar/%d/%s" % (ev["id"], year, month)), 200)
        assert len(days) == 31
        assert all(set(d) == {"id", "start_at", "end_at", "status_id", "stock"} for d in days)
        assert days[0]["id"] == "%d-03-01" % year
        assert days[0]["start_at"] == utc_iso(datetime.date(year, 3, 1))  # 23:00 the day before (+01:00)
        assert days[0]["end_at"] == "%d-03-01T22:59:59+00:00" % year
        d = days[spring.day - 1]
        assert d["id"] == spring.isoformat()
        # the 23-hour day: starts at 23:00 UTC (CET), ends at 21:59:59 UTC (CEST)
        assert d["start_at"] == utc_iso(spring) and d["start_at"].endswith("T23:00:00+00:00")
        assert d["end_at"] == "%sT21:59:59+00:00" % spring.isoformat()
        assert d["status_id"] == "OPEN" and d["stock"] == 4 * 16  # 4 slots of 30 minutes, 16 seats each
    slots = expect(cm(c, "GET", "/events/%s/calendar/%d/3/%d" % (ev["id"], year, spring.day)), 200)
    assert [s["id"] for s in slots] == ["%sT%s:00+00:00" % (spring.isoformat(), t)
                                        for t in ("08:00", "08:30", "09:00", "09:30")]  # 10:00 CEST = 08:00 UTC
    before = expect(cm(c, "GET", "/events/%s/calendar/%d/3/%d" % (ev["id"], year, spring.day - 1)), 200)
    assert before[0]["id"] == "%sT09:00:00+00:00" % (spring - datetime.timedelta(days=1)).isoformat()


def test_day_doc_shape_and_dst_autumn(c):
    ev, regular, child = calendar_event(c)
    year = next_year()
    autumn = last_sunday(year, 10)
    days = expect(cm(c, "GET", "/events/%s/timeslots/%d/10" % (ev["id"], year)), 200)
    d = days[autumn.day - 1]
    # the 25-hour day: 22:00 UTC (CEST) to 22:59:59 UTC (CET)
    assert d["start_at"] == "%sT22:00:00+00:00" % (autumn - datetime.timedelta(days=1)).isoformat()
    assert d["end_at"] == "%sT22:59:59+00:00" % autumn.isoformat()
    slots = expect(cm(c, "GET", "/events/%s/calendar/%d/10/%02d" % (ev["id"], year, autumn.day)), 200)
    assert len(slots) == 4
    s = slots[0]
    assert set(s) == {"id", "start_at", "end_at", "status_id", "stock", "ticket_types"}
    assert s["id"] == s["start_at"] == "%sT09:00:00+00:00" % autumn.isoformat()  # 10:00 CET
    assert s["end_at"] == "%sT09:30:00+00:00" % autumn.isoformat()
    assert s["status_id"] == "OPEN" and s["stock"] == 16
    assert s["ticket_types"] == [{"uuid": regular["id"], "name": {"nl": "Regulier", "en": "Regular", "fr": "",
                                                                  "de": ""}},
                                 {"uuid": child["id"], "name": {"nl": "", "en": "Child", "fr": "", "de": ""}}]


def test_closed_past_and_sold_out_days(c):
    year = next_year()
    closed = "%d-05-12" % year
    ev, regular, _ = calendar_event(c, capacity=2, closed=[closed], weekdays=[0, 1, 2, 3, 4])  # Mon-Fri
    days = {d["id"]: d for d in expect(cm(c, "GET", "/events/%s/calendar/%d/5" % (ev["id"], year)), 200)}
    assert days[closed] == dict(days[closed], status_id="CLOSED", stock=0)
    for day_id, d in days.items():
        weekend = datetime.date.fromisoformat(day_id).weekday() >= 5
        assert (d["status_id"] == "CLOSED") == (weekend or day_id == closed), d
        assert d["stock"] == (0 if d["status_id"] == "CLOSED" else 8)
    # sell out one slot: that slot closes, the day keeps the rest
    day = datetime.date(year, 5, 13)
    slots = expect(cm(c, "GET", "/events/%s/calendar/%d/5/13" % (ev["id"], year)), 200)
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": regular["id"], "quantity": 2}],
                                             "date": day.isoformat(), "start_time": "10:00"}), 201)
    assert cart
    slots = expect(cm(c, "GET", "/events/%s/calendar/%d/5/13" % (ev["id"], year)), 200)
    assert slots[0]["status_id"] == "CLOSED" and slots[0]["stock"] == 0 and slots[0]["ticket_types"] == []
    assert slots[1]["status_id"] == "OPEN" and slots[1]["stock"] == 2
    month = {d["id"]: d for d in expect(cm(c, "GET", "/events/%s/calendar/%d/5" % (ev["id"], year)), 200)}
    assert month[day.isoformat()]["stock"] == 6
    # past days are closed
    past = datetime.date.today() - datetime.timedelta(days=40)
    days = expect(cm(c, "GET", "/events/%s/calendar/%d/%d" % (ev["id"], past.year, past.month)), 200)
    assert days[past.day - 1]["status_id"] == "CLOSED" and days[past.day - 1]["stock"] == 0


@pytest.mark.parametrize("path,field", [
    ("/2027/13", "month"), ("/2027/0", "month"), ("/2027/001", "month"), ("/2027/x", "month"),
    ("/27x/1", "year"), ("/10000/1", "year"), ("/1969/12", "year"), ("/2027/2/29", "day"),
    ("/2027/4/31", "day"), ("/2027/1/0", "day"), ("/2027/1/32", "day"), ("/2027/1/-1", "day"),
    ("/2027/1/%2B1", "day"), ("/2027/1/1.5", "day"),
])
def test_impossible_dates_are_400(c, path, field):
    ev, _, _ = calendar_event(c)
    cm_error(cm(c, "GET", "/events/%s/calendar%s" % (ev["id"], path)), 400, "DATE_INVALID", field)


def test_leap_day_is_a_day(c):
    ev, _, _ = calendar_event(c)
    year = next((y for y in range(next_year(), next_year() + 4) if y % 4 == 0))
    slots = expect(cm(c, "GET", "/events/%s/calendar/%d/2/29" % (ev["id"], year)), 200)
    assert len(slots) == 4
    assert len(expect(cm(c, "GET", "/events/%s/calendar/%d/2" % (ev["id"], year)), 200)) == 29


def test_event_without_calendar_is_400(c):
    cm_error(cm(c, "GET", "/events/%s/calendar/2027/1" % CONCERT), 400, "CALENDAR_NOT_ENABLED", "event_uuid")
    cm_error(cm(c, "GET", "/events/%s/calendar/2027/1/1" % CONCERT), 400, "CALENDAR_NOT_ENABLED", "event_uuid")


def test_calendar_access_keys_and_tenancy(c):
    ev, _, _ = calendar_event(c)
    expect(c.admin("POST", "/events/%s/access_keys" % ev["id"], {"key": "CAL-KEY"}), 201)
    cm_error(cm(c, "GET", "/events/%s/calendar/2027/1" % ev["id"]), 400, "ACCESS_KEY_INVALID", "key")
    cm_error(cm(c, "GET", "/events/%s/calendar/2027/13" % ev["id"]), 400, "ACCESS_KEY_INVALID", "key")
    expect(cm(c, "GET", "/events/%s/calendar/2027/1" % ev["id"], query={"key": "CAL-KEY"}), 200)
    b_admin, b_token = second_account(c)
    cm_error(cm(c, "GET", "/events/%s/calendar/2027/1" % ev["id"], query={"key": "CAL-KEY"}, token=b_token), 404,
             "EVENT_NOT_FOUND", "event_uuid")
    cm_error(cm(c, "GET", "/events/%s/calendar/2027/1" % ev["id"], token=None), 401, "UNAUTHORIZED")
