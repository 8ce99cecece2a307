"""Helpers of the Fourvenues channel tests (tests/http/test_fourvenues_*.py): requests with the
channel key, the envelope and error shape, and catalog objects made for one test."""
import datetime
import os
import re
import sqlite3
import subprocess
import uuid

from harness import ADMIN_TOKEN, FV_API_KEY, Skip, create_account, expect

CONCERT_NAME = "Night at the Museum: Live Concert"
HEX24 = re.compile(r"^[0-9a-f]{24}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def fv_ticket_id(engine_id):
    """A ticket's id in this dialect: its engine UUID less the version digit, the variant digit and the last six
    (docs/dialects/fourvenues.md, "Ids")."""
    assert UUID.match(engine_id), engine_id
    h = engine_id.replace("-", "")
    return h[0:12] + h[13:16] + h[17:26]


def engine_ticket_id(fv_id):
    """The engine's (every other dialect's) id of a ticket the channel names fv_id: ticket ids are UUIDv7s whose
    96 significant bits the 24 digits carry exactly."""
    assert HEX24.match(fv_id), fv_id
    h = fv_id
    return "%s-%s-7%s-8%s-%s000000" % (h[0:8], h[8:12], h[12:15], h[15:18], h[18:24])


def db_write(sql):
    """Runs one statement on the server's database directly (a test's way to make what the API cannot)."""
    db = os.environ.get("BOXOFFICE_TEST_DB", "")
    if db.startswith("sqlite:"):
        con = sqlite3.connect(db[len("sqlite:"):], timeout=30)
        try:
            with con:
                return con.execute(sql).rowcount
        finally:
            con.close()
    if db.startswith("postgres") and subprocess.run(["which", "psql"], capture_output=True).returncode == 0:
        run = subprocess.run(["psql", db, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             capture_output=True, timeout=60)
        assert run.returncode == 0, run.stderr.decode(errors="replace")
        return None
    raise Skip("needs a writable BOXOFFICE_TEST_DB")


def fv(c, method, path, key=FV_API_KEY, **kw):
    h = kw.pop("headers", {})
    # channel clients send a JSON content type on GETs too
    h.setdefault("Content-Type", "application/json")
    if key is not None:
        h["X-Api-Key"] = key
    return c.request(method, "/fourvenues" + path, headers=h, **kw)


def fv_data(resp, status=200):
    """The data of a success envelope {"data": ..., "success": true}."""
    body = expect(resp, status)
    assert set(body) == {"data", "success"} and body["success"] is True, body
    return body["data"]


def fv_error(resp, status, code, field=None):
    """Checks the error shape: {"data": null, "success": false, "error": {code, message, fields}}."""
    body = expect(resp, status)
    assert set(body) == {"data", "success", "error"}, body
    assert body["data"] is None and body["success"] is False, body
    err = body["error"]
    assert set(err) == {"code", "message", "fields"}, err
    assert err["code"] == code, "expected %s, got %r" % (code, resp)
    assert isinstance(err["message"], str) and err["message"]
    assert err["fields"] == ([] if field is None else [field]), body
    return err


def tag():
    return uuid.uuid4().hex[:10]


def iso_day(days, hour=20, minute=0):
    d = datetime.date.today() + datetime.timedelta(days=days)
    return "%sT%02d:%02d:00" % (d.isoformat(), hour, minute)


def make_location(c, token=ADMIN_TOKEN, timezone="Europe/Madrid"):
    return expect(c.admin("POST", "/locations", {"name": "Sala " + tag(), "timezone": timezone,
                                                 "address": "Calle Mayor 1"}, token=token), 201)


def make_event(c, occurrences=None, capacity=10, price=1000, fee=100, token=ADMIN_TOKEN, **event):
    """A published event with one ticket product on its own pool; returns (event, product)."""
    t = tag()
    occurrences = occurrences or [{"id": "oc_" + t, "start": iso_day(20), "end": iso_day(20, 23)}]
    doc = dict({"name": "Channel test " + t, "status": "published", "occurrences": occurrences}, **event)
    ev = expect(c.admin("POST", "/events", doc, token=token), 201)
    pool = expect(c.admin("POST", "/pools", {"capacity": capacity}, token=token), 201)
    product = expect(c.admin("POST", "/products", {
        "name": {"en": "General " + t}, "event_id": ev["id"], "price": price, "booking_fee": fee,
        "pools": [{"pool_id": pool["id"], "amount": 1}], "max_per_order": 10}, token=token), 201)
    return ev, product


def channel_events(c, **query):
    return fv_data(fv(c, "GET", "/events", query=query or None))


def find_by_name(events, name):
    return [e for e in events if e["name"] == name]


def second_account(c):
    """Another account's admin token and channel key (Skip without the environment)."""
    token = "adm_" + uuid.uuid4().hex
    create_account("fv-b-" + tag(), "Channel tenant B", "Europe/Madrid", "EUR", token)
    key = expect(c.admin("POST", "/credentials", {"kind": "channel_key"}, token=token), 201)["secret"]
    return token, key
