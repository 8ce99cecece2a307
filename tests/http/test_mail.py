"""Confirmation mail: the account's SMTP settings through /admin/v1/account/mail
(validation, the password write-only and sealed at rest, the outgoing-address
rule of --webhook-allow), and delivery from the durable outbox to a local SMTP
receiver (aiosmtpd under /usr/bin/python3, started here): one mail per booking
with the right headers and parts, a receiver that is down gets the mail once
it is up and never twice, and Convious' emailStatus follows the mail.

The receiver and the server's test clock are shared with nothing else: every
test restores the demo account's mail settings (disabled) when it ends."""
import email
import email.policy
import glob
import os
import socket
import subprocess
import time

import pytest

from harness import Skip, admin_error, db_rows, expect, unique, scratch_dir

GUIDE = "d0000000-0000-4000-8000-000000000007"
SYSTEM_PYTHON = "/usr/bin/python3"

RECEIVER = r"""
import itertools, os, sys, time
from aiosmtpd.controller import Controller
out, port = sys.argv[1], int(sys.argv[2])
count = itertools.count()
class Handler:
    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(out, "%06d-%d.eml" % (next(count), os.getpid()))
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n"
                     % (envelope.mail_from, ",".join(envelope.rcpt_tos))).encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """A local SMTP server writing each message it accepts to a directory."""

    def __init__(self, port=None):
        if not os.path.exists(SYSTEM_PYTHON) or subprocess.run(
                [SYSTEM_PYTHON, "-c", "import aiosmtpd"], capture_output=True).returncode != 0:
            raise Skip("no aiosmtpd for %s (Debian's python3-aiosmtpd)" % SYSTEM_PYTHON)
        self.dir = scratch_dir("smtp-")
        self.port = port or free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([SYSTEM_PYTHON, "-c", RECEIVER, self.dir, str(self.port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready", self.proc.stderr.read()
        return self

    def stop(self):
        if self.proc:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*.eml"))):
            with open(path, "rb") as f:
                out.append(email.message_from_binary_file(f, policy=email.policy.default))
        return out

    def raw(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*.eml"))):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_for(self, n, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.messages()
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise AssertionError("%d mail(s) within %.0f s, wanted %d" % (len(self.messages()), timeout, n))


SETTINGS = "/account/mail"


def enable(c, port, **extra):
    body = {"enabled": True, "host": "127.0.0.1", "port": port, "security": "none",
            "from_address": "tickets@example.org", "from_name": "Théâtre Zürich", "reply_to": "help@example.org"}
    body.update(extra)
    return expect(c.admin("PUT", SETTINGS, body), 200)


@pytest.fixture(autouse=True)
def mail_disabled_after(c):
    yield
    c.admin("PUT", SETTINGS, {"enabled": False, "password": None})


def book(c, email_address, name="Zoë Ærøskøbing", amount=1):
    cart = expect(c.convious("POST", "/api/v1/accounts/demo/carts/", {"items": [{"productId": GUIDE, "amount": amount}]}),
                  200)
    return expect(c.convious("POST", "/api/v1/accounts/demo/bookings/",
                             {"cartId": cart["id"], "customer": {"email": email_address, "name": name}}), 200)


def admin_mail(c, order_id):
    return expect(c.admin("GET", "/orders/%s" % order_id), 200)["confirmation_mail"]


def wait_mail(c, order_id, predicate, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = admin_mail(c, order_id)
        if m and predicate(m):
            return m
        time.sleep(0.05)
    raise AssertionError("mail state never matched: %r" % admin_mail(c, order_id))


def email_status(c, order_id):
    c._cv_token = None  # the test clock may have moved past the last token's expiry
    return expect(c.convious("GET", "/api/v1/orders/%s/" % order_id), 200)["emailStatus"]


# ---------- settings ----------

def test_settings_default_and_crud(c):
    got = expect(c.admin("GET", SETTINGS), 200)
    assert set(got) == {"enabled", "host", "port", "security", "username", "password_set", "from_address",
                        "from_name", "reply_to", "updated_at"}, got
    put = expect(c.admin("PUT", SETTINGS, {"enabled": False, "host": "127.0.0.1", "security": "tls",
                                           "from_address": "a@example.org"}), 200)
    assert put["port"] == 465 and put["security"] == "tls" and put["enabled"] is False, put
    assert put["password_set"] is False and put["updated_at"] > 0
    assert expect(c.admin("GET", SETTINGS), 200) == put
    put = expect(c.admin("PUT", SETTINGS, {"enabled": False, "host": "127.0.0.1", "port": 2525}), 200)
    assert put["security"] == "starttls" and put["port"] == 2525 and put["from_address"] is None, put


SECRET_PASSWORD = "pa55-Wörd-never-echoed"


def test_password_write_only_and_sealed(c):
    put = expect(c.admin("PUT", SETTINGS, {"enabled": False, "host": "127.0.0.1", "username": "mailer",
                                           "password": SECRET_PASSWORD}), 200)
    assert put["password_set"] is True and "password" not in put, put
    got = c.admin("GET", SETTINGS)
    assert SECRET_PASSWORD not in got.raw and got.json["password_set"] is True
    # absent keeps the stored one; null removes it
    assert expect(c.admin("PUT", SETTINGS, {"enabled": False, "host": "127.0.0.1"}), 200)["password_set"] is True
    sealed = db_rows("SELECT password_sealed FROM mail_settings")
    assert sealed and all(SECRET_PASSWORD not in (row[0] or "") for row in sealed), sealed
    assert any(row[0] for row in sealed)
    assert expect(c.admin("PUT", SETTINGS, {"enabled": False, "password": None}), 200)["password_set"] is False


@pytest.mark.parametrize("body,status,code,field", [
    ({}, 400, "missing_field", "enabled"),
    ({"enabled": "yes"}, 400, "invalid_field", "enabled"),
    ({"enabled": True, "from_address": "a@example.org"}, 400, "missing_field", "host"),
    ({"enabled": True, "host": "127.0.0.1"}, 400, "missing_field", "from_address"),
    ({"enabled": False, "host": "bad host!"}, 400, "invalid_field", "host"),
    ({"enabled": False, "host": "-x.example"}, 400, "invalid_field", "host"),
    ({"enabled": False, "host": "a" * 254}, 400, "invalid_field", "host"),
    ({"enabled": False, "port": 0}, 400, "invalid_field", "port"),
    ({"enabled": False, "port": 70000}, 400, "invalid_field", "port"),
    ({"enabled": False, "port": "25"}, 400, "invalid_field", "port"),
    ({"enabled": False, "security": "ssl"}, 400, "invalid_field", "security"),
    ({"enabled": False, "from_address": "no-at-sign"}, 400, "invalid_field", "from_address"),
    ({"enabled": False, "from_address": "a@b.org\r\nBcc: x@y.org"}, 400, "invalid_field", "from_address"),
    ({"enabled": False, "from_address": "<a@b.org>"}, 400, "invalid_field", "from_address"),
    ({"enabled": False, "from_name": "Evil\r\nBcc: x@y.org"}, 400, "invalid_field", "from_name"),
    ({"enabled": False, "from_name": "x" * 201}, 400, "invalid_field", "from_name"),
    ({"enabled": False, "reply_to": "nobody"}, 400, "invalid_field", "reply_to"),
    ({"enabled": False, "username": "a\nb"}, 400, "invalid_field", "username"),
    ({"enabled": False, "password": ""}, 400, "invalid_field", "password"),
    ({"enabled": False, "password": "a\u0007b"}, 400, "invalid_field", "password"),
    ({"enabled": False, "password": "a\u0000b"}, 400, "invalid_json", None),
    ({"enabled": False, "colour": "red"}, 400, "unknown_field", "colour"),
    # the outgoing-address rule (the test server allows 127.0.0.1 only)
    ({"enabled": False, "host": "10.0.0.1"}, 400, "host_not_allowed", "host"),
    ({"enabled": False, "host": "192.168.1.20"}, 400, "host_not_allowed", "host"),
    ({"enabled": False, "host": "169.254.169.254"}, 400, "host_not_allowed", "host"),
    ({"enabled": False, "host": "::1"}, 400, "host_not_allowed", "host"),
    ({"enabled": False, "host": "127.0.0.2"}, 400, "host_not_allowed", "host"),
    ({"enabled": False, "host": "no-such-host.invalid"}, 400, "host_not_allowed", "host"),
])
def test_settings_validation(c, body, status, code, field):
    before = expect(c.admin("GET", SETTINGS), 200)
    admin_error(c.admin("PUT", SETTINGS, body), status, code, field)
    assert expect(c.admin("GET", SETTINGS), 200) == before, "a refused PUT changed the settings"


def test_settings_not_json(c):
    admin_error(c.admin("PUT", SETTINGS, raw=b"not json", headers={"Content-Type": "application/json"}), 400,
                "invalid_json")
    admin_error(c.admin("PUT", SETTINGS, raw=b"[1]", headers={"Content-Type": "application/json"}), 400,
                "invalid_body")
    admin_error(c.admin("GET", SETTINGS, query={"x": "1"}), 400)


# ---------- delivery ----------

def test_booking_sends_one_mail(c):
    rx = Receiver().start()
    try:
        enable(c, rx.port)
        address = unique("buyer") + "@example.com"
        order = book(c, address, amount=2)
        assert order["emailStatus"] in ("sending", "delivered"), order["emailStatus"]
        (msg,) = rx.wait_for(1)
        mail = wait_mail(c, order["id"], lambda m: m["status"] == "sent")
        assert mail["attempts"] == 1 and mail["last_error"] is None and mail["sent_at"] > 0, mail
        assert email_status(c, order["id"]) == "delivered"
        number = expect(c.admin("GET", "/orders/%s" % order["id"]), 200)["number"]
        assert msg["X-Envelope-To"] == address and msg["X-Envelope-From"] == "tickets@example.org"
        assert msg["To"].addresses[0].addr_spec == address
        assert msg["To"].addresses[0].display_name == "Zoë Ærøskøbing"
        assert msg["From"].addresses[0].display_name == "Théâtre Zürich"
        assert msg["From"].addresses[0].addr_spec == "tickets@example.org"
        assert msg["Reply-To"].addresses[0].addr_spec == "help@example.org"
        assert str(msg["Subject"]) == "Zoë Ærøskøbing, your tickets: order %s" % number, msg["Subject"]
        assert msg["MIME-Version"] == "1.0" and msg["Date"]
        assert msg["Message-ID"].startswith("<%s." % order["id"]) and msg["Message-ID"].endswith("@example.org>")
        assert msg.get_content_type() == "multipart/mixed"
        types = [p.get_content_type() for p in msg.walk()]
        assert types[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"], types
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        for body in (text, html):
            assert number in body and "Audio guide" in body and "Total" in body and "EUR" in body, body
        assert text.count("Audio guide") == 2
        pdfs = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
        if (order.get("ticketDownloadUrl") or "").endswith(".pdf"):  # the e-ticket renderer is linked in
            assert len(pdfs) == 1, types
        for pdf in pdfs:
            assert pdf.get_content().startswith(b"%PDF"), pdf.get_content()[:16]
            assert pdf.get_filename() == "tickets-%s.pdf" % number
        raw = rx.raw()[0].split(b"\r\n", 2)[2]  # past the receiver's envelope lines
        assert b"\n" not in raw.replace(b"\r\n", b""), "a bare LF in the message"
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        assert raw.decode("ascii")  # 7-bit: every non-ASCII header encoded, every body base64
        time.sleep(0.5)
        assert len(rx.messages()) == 1, "a second mail for one order"
    finally:
        rx.stop()


def test_hostile_customer_fields_stay_out_of_headers(c):
    rx = Receiver().start()
    try:
        enable(c, rx.port)
        order = book(c, unique("h") + "@example.com", name="Eve\r\nBcc: victim@example.net <x>")
        (msg,) = rx.wait_for(1)
        assert msg["Bcc"] is None and "victim" not in str(msg["X-Envelope-To"])
        assert "Eve" in str(msg["Subject"])
        # an address mail cannot go to fails at once, without a connection
        bad = book(c, "a b@example.com")
        mail = wait_mail(c, bad["id"], lambda m: m["status"] == "failed")
        assert mail["attempts"] == 1 and "address" in mail["last_error"], mail
        assert email_status(c, bad["id"]) == "dropped"
        assert order["id"] != bad["id"]
    finally:
        rx.stop()


def test_no_mail_when_disabled_or_no_email(c):
    expect(c.admin("PUT", SETTINGS, {"enabled": False, "host": "127.0.0.1"}), 200)
    order = book(c, unique("quiet") + "@example.com")
    assert admin_mail(c, order["id"]) is None
    assert email_status(c, order["id"]) == "disabled"


def test_receiver_down_then_up_delivered_once(c):
    rx = Receiver()  # not started: nothing listens on its port
    try:
        enable(c, rx.port)
        order = book(c, unique("later") + "@example.com")
        mail = wait_mail(c, order["id"], lambda m: m["attempts"] >= 1)
        assert mail["status"] == "queued" and mail["last_error"], mail
        assert email_status(c, order["id"]) == "deferred"
        rx.start()
        # the first retry is due 30 s after the failed attempt: move the server's clock
        expect(c.admin("POST", "/test/clock", {"advance_seconds": 31}), 200)
        rx.wait_for(1)
        mail = wait_mail(c, order["id"], lambda m: m["status"] == "sent")
        assert mail["attempts"] == 2 and mail["last_error"] is None, mail
        assert email_status(c, order["id"]) == "delivered"
        # later passes find nothing to send (giving up after a day: tests/unit/test_mail.c)
        expect(c.admin("POST", "/test/clock", {"advance_seconds": 300}), 200)
        time.sleep(2.5)
        assert len(rx.messages()) == 1, "sent twice"
        assert admin_mail(c, order["id"])["attempts"] == 2
    finally:
        rx.stop()


def test_mail_state_in_lists(c):
    rx = Receiver().start()
    try:
        enable(c, rx.port)
        address = unique("list") + "@example.com"
        order = book(c, address)
        rx.wait_for(1)
        wait_mail(c, order["id"], lambda m: m["status"] == "sent")
        listed = expect(c.convious("GET", "/api/v1/orders/", query={"email": address}), 200)
        rows = listed["results"] if isinstance(listed, dict) and "results" in listed else listed
        assert [o["emailStatus"] for o in rows] == ["delivered"], rows
        page = expect(c.admin("GET", "/orders", query={"email": address}), 200)["data"]
        assert [o["confirmation_mail"]["status"] for o in page] == ["sent"], page
    finally:
        rx.stop()


def test_kill9_after_booking_then_sent_once_by_another_process(c):
    """The mail row is committed with the order: a process killed (SIGKILL)
    right after acknowledging a booking loses no mail, and the server still
    running sends it, once, though both processes' senders claimed from the
    same outbox."""
    import harness
    binary, db, key = (os.environ.get(k) for k in ("BOXOFFICE_BIN", "BOXOFFICE_TEST_DB", "BOXOFFICE_KEY_FILE"))
    if not (binary and db and key):
        raise Skip("needs BOXOFFICE_BIN, BOXOFFICE_TEST_DB and BOXOFFICE_KEY_FILE for a second server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    rx = Receiver()  # down while the second server lives
    enable(c, rx.port)
    proc, url = harness.serve(binary, db, "--key-file", key, "--webhook-allow", "127.0.0.1", "--test-clock", env=env)
    try:
        other = harness.Client(url)
        # the two processes keep the same time, as real ones do: the mail rows the other writes are dated on
        # this server's (test) clock, which earlier tests may have moved days ahead, past the 24 h retry window
        offset = expect(c.admin("POST", "/test/clock", {"advance_seconds": 0}), 200)["offset_seconds"]
        expect(other.admin("POST", "/test/clock", {"advance_seconds": offset}), 200)
        orders = [book(other, unique("k9") + "@example.com") for _ in range(3)]
    finally:
        proc.kill()  # SIGKILL: no clean shutdown, maybe mid-attempt
        proc.wait()
    try:
        for order in orders:
            assert admin_mail(c, order["id"]) is not None, "a mail row was lost"
        rx.start()
        # past the retry wait and any lease the killed process held (core/mail.c LEASE_SECONDS)
        expect(c.admin("POST", "/test/clock", {"advance_seconds": 600}), 200)
        got = rx.wait_for(3, timeout=30)
        for order in orders:
            wait_mail(c, order["id"], lambda m: m["status"] == "sent")
        time.sleep(2)
        got = rx.messages()
        ids = sorted(str(m["Message-ID"]) for m in got)
        assert len(got) == 3 and len(set(ids)) == 3, ids
        for order in orders:
            assert sum(i.startswith("<%s." % order["id"]) for i in ids) == 1
    finally:
        rx.stop()
