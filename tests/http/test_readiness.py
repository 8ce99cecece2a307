"""Liveness and readiness: /healthz says the process and its database answer;
/readyz says the database takes writes. A write refused because the database
is full answers 503 with Retry-After in each dialect's error shape (never 500),
and /readyz answers 503 meanwhile while /healthz stays 200.

How the full database is made: a second server on a fresh SQLite database,
started with --sqlite-max-pages set to the database's current page count, so
SQLite refuses with SQLITE_FULL ("database or disk is full", the code the OS's
ENOSPC becomes) as soon as a write needs one more page. Filling a real disk
needs root (a tiny tmpfs); this is the same error through the same path.
PostgreSQL's disk-full (SQLSTATE 53100) maps to the same status but cannot be
provoked here, so the full database is a SQLite one on every run, whatever
the database under test. Needs BOXOFFICE_BIN."""
import datetime
import itertools
import os
import sqlite3
import subprocess
import threading

import harness
from harness import Skip, Client, expect, ROOT, scratch_dir

GUIDE = "d0000000-0000-4000-8000-000000000007"
ADULT = "d0000000-0000-4000-8000-000000000005"
MUSEUM = "d0000000-0000-4000-8000-000000000003"
CONCERT_OCC = "ev_oc_concert_main"
STANDARD = "tt_d0000000-0000-4000-8000-00000000000a"


def binary():
    b = os.environ.get("BOXOFFICE_BIN") or os.path.join(ROOT, "build", "san", "boxoffice")
    if not os.path.exists(b):
        raise Skip("needs BOXOFFICE_BIN")
    return b


def own_settings():
    """The environment without BOXOFFICE_* settings: a second server or CLI run
    takes its settings from its arguments only (the suite's BOXOFFICE_KEY_FILE
    would otherwise override the default key path)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}


def serve(b, db, *extra):
    return harness.serve(b, db, *extra, env=own_settings())


def test_ready_and_healthy(c):
    r = c.request("GET", "/readyz")
    assert r.status == 200 and r.json == {"status": "ready"}, r
    assert r.header("Cache-Control") == "no-store"
    assert expect(c.request("GET", "/healthz"), 200) == {"status": "ok"}


def until_refused(write, limit=3000):
    """Repeats a write until it is refused; every answer before must be a success."""
    for _ in range(limit):
        r = write()
        if r.status >= 300:
            return r
    raise AssertionError("the database never filled up")


def full_reply(r):
    assert r.status == 503, r
    assert int(r.header("Retry-After")) > 0, r
    return r.json


def test_full_database_answers_503(c):
    b = binary()
    work = scratch_dir("boxoffice-full-")
    db = "sqlite:" + os.path.join(work, "full.db")
    for cmd in ("migrate", "demo"):
        subprocess.run([b, cmd, "--db", db], check=True, capture_output=True, timeout=60, env=own_settings())
    with sqlite3.connect(os.path.join(work, "full.db")) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    proc, url = serve(b, db, "--sqlite-max-pages", str(pages))
    try:
        full = Client(url)
        assert full.request("GET", "/readyz").status == 200
        # each dialect's writes fill their own tables: each goes on until refused
        def admin_cart():
            return full.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 1}]})
        body = full_reply(until_refused(admin_cart))
        assert body["error"]["code"] == "storage_full" and body["error"]["message"], body
        # at once: writes committed in one batch fail together, each as full, none as 500
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(admin_cart().status)) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(answers) <= {201, 503} and 503 in answers, answers
        days = itertools.count(1)  # a day each, so no timeslot sells out first
        body = full_reply(until_refused(lambda: full.convious(
            "POST", "/api/v1/accounts/demo/carts/",
            {"categoryId": MUSEUM, "eventDate": (datetime.date.today() + datetime.timedelta(days=next(days))).isoformat(),
             "startTime": "10:00:00", "items": [{"productId": ADULT, "amount": 1}]})))
        assert body["error"] == "storage_full" and body["message"], body
        body = full_reply(until_refused(lambda: full.tickettailor(
            "POST", "/v1/issued_tickets", form={"event_id": CONCERT_OCC, "ticket_type_id": STANDARD,
                                                "full_name": "Fill Up", "email": "fill@example.com"})))
        assert body["status"] == 503 and body["error_code"] == "Service Unavailable" and body["message"], body
        # not ready while writes are refused for lack of room, yet alive and reading
        r = full.request("GET", "/readyz")
        assert r.status == 503 and r.json == {"status": "unavailable", "reason": "full"}, r
        assert int(r.header("Retry-After")) > 0
        assert expect(full.request("GET", "/healthz"), 200) == {"status": "ok"}
        expect(full.admin("GET", "/account"), 200)
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
