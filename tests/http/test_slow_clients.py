"""Slow clients, connection limits and authentication before the body
(reliability issue, defects 2 and 12).

- One client address cannot take every connection (a per-address limit), and a
  probe (GET /healthz) keeps answering within 2 s while 1,100 slow connections
  are held from eleven other addresses.
- A request must arrive whole within the request timeout: sending a byte now
  and then does not extend it, idle connections do not outlive it, and
  connections it cuts free the server's connection budget.
- A request that fails authentication is answered from its headers, in its
  dialect's error shape, without the server waiting for (or keeping) its body.

Clients bind to 127.0.0.2, 127.0.0.3, ... (all loopback on Linux) to act as
different addresses. The limit tests start their own server processes with
small limits on the test database (BOXOFFICE_BIN, BOXOFFICE_TEST_DB,
BOXOFFICE_KEY_FILE, set by scripts/check.sh); every test is bounded in time.
"""
import base64
import errno
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse

from harness import BASE, Skip

ADMIN_AUTH = "Authorization: Bearer demo-admin-token\r\n"


def start_server(*flags):
    binary, db, key = (os.environ.get(k) for k in ("BOXOFFICE_BIN", "BOXOFFICE_TEST_DB", "BOXOFFICE_KEY_FILE"))
    if not (binary and db and key):
        raise Skip("needs BOXOFFICE_BIN, BOXOFFICE_TEST_DB, BOXOFFICE_KEY_FILE")
    proc = subprocess.Popen([binary, "serve", "--db", db, "--key-file", key, "--listen", "127.0.0.1:0",
                             "--no-access-log"] + list(flags), stderr=subprocess.PIPE, text=True)
    probe_port = None
    for _ in range(200):
        line = proc.stderr.readline()
        if "probes on http://" in line:
            probe_port = int(line.split("probes on http://127.0.0.1:")[1].split("/")[0])
        if "serving on http://" in line:
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            port = int(line.split("serving on http://127.0.0.1:")[1].split()[0])
            return (proc, port, probe_port) if "--probe-listen" in flags else (proc, port)
        if not line:
            break
    proc.kill()
    raise AssertionError("server did not start")


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("server did not stop within 30 s")
    assert proc.returncode == 0, "server exited %d" % proc.returncode


def open_from(source, port, count):
    """Starts `count` non-blocking connections from address `source`; a
    connect never blocks the test even when the server's backlog is full."""
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((source, 0))
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    return socks


def closed_by_server(s):
    """True once the server has closed or reset the connection."""
    try:
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError as e:  # a connect still in progress is not closed
        return e.errno not in (errno.EAGAIN, errno.ENOTCONN)


def send_some(s, data):
    try:
        s.send(data)
    except OSError:
        pass  # closed by the server: closed_by_server says so


def probe(port, source="127.0.0.1", timeout=2.0):
    """GET /healthz on a fresh connection; returns (status line, seconds)."""
    started = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while b"\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    except OSError as e:
        return "failed: %s" % e, time.monotonic() - started
    finally:
        s.close()
    return reply.split(b"\r\n", 1)[0].decode(errors="replace"), time.monotonic() - started


def test_probe_answers_while_1100_slow_connections_are_held(c):
    proc, port = start_server("--request-timeout", "30", "--max-connections", "1500",
                              "--max-connections-per-ip", "100")
    socks = []
    try:
        # eleven addresses hold 100 connections each; the first tries 200 and gets 100
        by_source = {}
        for i in range(11):
            source = "127.0.0.%d" % (i + 2)
            by_source[source] = open_from(source, port, 200 if i == 0 else 100)
            socks += by_source[source]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # until the server has taken or refused them all
            time.sleep(0.5)
            for s in socks:
                send_some(s, b"P")  # a request line, one byte at a time
            refused = sum(closed_by_server(s) for s in by_source["127.0.0.2"])
            if refused >= 100:
                break
        refused = sum(closed_by_server(s) for s in by_source["127.0.0.2"])
        assert refused == 100, "the first address should keep exactly 100 of its 200, %d closed" % refused
        held = sum(not closed_by_server(s) for s in socks)
        assert held == 1100, "1,100 slow connections should be held, %d are" % held
        for _ in range(5):
            status, took = probe(port)
            assert status.startswith("HTTP/1.1 200"), (status, took)
            assert took < 2.0, "probe took %.2f s" % took
            for s in socks:
                send_some(s, b"O")
        # the address at its limit gets nothing more; another address still does
        status, _ = probe(port, source="127.0.0.2")
        assert not status.startswith("HTTP/1.1 200"), status
        status, _ = probe(port, source="127.0.0.20")
        assert status.startswith("HTTP/1.1 200"), status
        assert sum(not closed_by_server(s) for s in socks) == 1100, "the slow connections were still within time"
    finally:
        for s in socks:
            s.close()
        stop_server(proc)


def wait_closed(socks, trickle, seconds):
    """Trickles `trickle` bytes into the sockets every 0.25 s until the server
    has closed them all or `seconds` pass; returns when each was closed."""
    started = time.monotonic()
    closed_at = {}
    while len(closed_at) < len(socks) and time.monotonic() - started < seconds:
        for i, s in enumerate(socks):
            if i in closed_at:
                continue
            if closed_by_server(s):
                closed_at[i] = time.monotonic() - started
            elif trickle[i]:
                send_some(s, trickle[i])
        time.sleep(0.25)
    return closed_at


def test_trickling_does_not_extend_the_request_deadline(c):
    proc, port = start_server("--request-timeout", "2", "--max-connections", "100",
                              "--max-connections-per-ip", "50")
    socks = []
    try:
        # 10 trickle headers, 10 trickle an authenticated body, 10 say nothing
        header_tricklers = open_from("127.0.0.2", port, 10)
        body_tricklers = open_from("127.0.0.2", port, 10)
        silent = open_from("127.0.0.2", port, 10)
        socks = header_tricklers + body_tricklers + silent
        time.sleep(0.2)
        for s in header_tricklers:
            send_some(s, b"GET /healthz HTTP/1.1\r\n")
        for s in body_tricklers:
            send_some(s, ("POST /admin/v1/locations HTTP/1.1\r\nHost: x\r\n" + ADMIN_AUTH +
                          "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{").encode())
        trickle = [b"X-Slow: 1\r\n"] * 10 + [b" "] * 10 + [None] * 10
        closed_at = wait_closed(socks, trickle, 8)
        assert len(closed_at) == 30, "still open after 8 s: %d of 30" % (30 - len(closed_at))
        late = max(closed_at.values())
        assert late < 5.0, "a connection outlived the 2 s request timeout by %.1f s" % (late - 2)
        assert min(closed_at.values()) > 1.0, "cut before its time: %.2f s" % min(closed_at.values())
        status, _ = probe(port)
        assert status.startswith("HTTP/1.1 200"), status
    finally:
        for s in socks:
            s.close()
        stop_server(proc)


def test_probe_listener_answers_while_every_connection_is_taken(c):
    """Slow clients from two addresses take the whole connection budget: the
    main address refuses newcomers until the deadline cuts the slow ones, and
    the probe listener, with connections of its own, answers all along."""
    proc, port, probe_port = start_server("--request-timeout", "2", "--max-connections", "100",
                                          "--max-connections-per-ip", "50", "--probe-listen", "127.0.0.1:0")
    socks = []
    try:
        socks = open_from("127.0.0.2", port, 50) + open_from("127.0.0.3", port, 50)
        time.sleep(0.5)
        for s in socks:
            send_some(s, b"G")
        assert not any(closed_by_server(s) for s in socks), "the budget should hold all 100"
        started = time.monotonic()
        status, _ = probe(port)
        assert not status.startswith("HTTP/1.1 200"), "the main address should be full: %s" % status
        status, took = probe(probe_port)
        assert status.startswith("HTTP/1.1 200") and took < 2.0, (status, took)
        while time.monotonic() - started < 8:
            for s in socks:
                send_some(s, b"E")
            status, took = probe(probe_port)
            assert status.startswith("HTTP/1.1 200") and took < 2.0, (status, took)
            status, _ = probe(port)
            if status.startswith("HTTP/1.1 200"):
                break
            time.sleep(0.25)
        freed = time.monotonic() - started
        assert status.startswith("HTTP/1.1 200"), "main address still full after 8 s: %s" % status
        assert freed < 4.5, "the slow clients held every connection %.1f s (request timeout 2 s)" % freed
    finally:
        for s in socks:
            s.close()
        stop_server(proc)


# ---- authentication before the body (defect 12): on the shared test server ----

def base_port():
    u = urllib.parse.urlsplit(BASE)
    return u.hostname, u.port or 80


def read_reply(s):
    """Reads one reply (headers and a Content-Length body) from a blocking socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a reply: %r" % data[:200])
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(head.split(b" ")[1]), head.decode(errors="replace"), json.loads(rest[:length] or b"null")


UNAUTHENTICATED = [
    # path, bad credentials header, expected body (each dialect's shape, as before)
    ("/admin/v1/locations", "", {"error": {"code": "unauthorized", "message":
                                           "send Authorization: Bearer <admin token>", "field": None}}),
    ("/admin/v1/locations", "Authorization: Bearer wrong\r\n",
     {"error": {"code": "unauthorized", "message": "unknown or revoked admin token", "field": None}}),
    ("/convious/api/v1/accounts/demo/carts/", "", None),
    ("/convious/api/v1/accounts/demo/carts/", "Authorization: Bearer wrong\r\n", None),
    ("/tickettailor/v1/issued_tickets",
     "Authorization: Basic %s\r\n" % base64.b64encode(b"sk_wrong:").decode(), None),
]


def unauthenticated_reference(c, path, auth):
    """The same request sent whole through the ordinary client: the reply that
    must not change."""
    headers = {}
    if auth:
        name, value = auth.strip().split(": ", 1)
        headers[name] = value
    return c.request("POST", path, json_body={"x": 1}, headers=headers)


def test_unauthenticated_big_body_is_answered_without_reading_it(c):
    host, port = base_port()
    for path, auth, expected in UNAUTHENTICATED:
        ref = unauthenticated_reference(c, path, auth)
        assert ref.status == 401, ref
        s = socket.create_connection((host, port), timeout=5)
        try:
            # announces 1 MiB and sends none of it: the answer must come anyway
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
                       "Content-Length: 1048576\r\n\r\n" % (path, auth)).encode())
            status, head, body = read_reply(s)
            assert status == 401, (path, head)
            assert body == ref.json, (path, body, ref.json)
            if expected is not None:
                assert body == expected, body
            # and the server does not wait for that body: it closes
            s.settimeout(5)
            assert s.recv(1) == b"", "connection left open for a body nobody will read"
        finally:
            s.close()


def test_many_unfinished_unauthenticated_posts_each_get_401(c):
    host, port = base_port()
    socks = []
    try:
        started = time.monotonic()
        for _ in range(100):
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(b"POST /admin/v1/locations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1048576\r\n\r\n" + b"{" * 1000)
            socks.append(s)
        for s in socks:
            status, _, body = read_reply(s)
            assert status == 401 and body["error"]["code"] == "unauthorized", body
        assert time.monotonic() - started < 20, "answers should not wait for bodies"
    finally:
        for s in socks:
            s.close()


def test_small_body_after_failed_auth_keeps_the_connection(c):
    """A small body sent after its headers (a separate packet) is read and
    dropped: the client gets its 401 and can use the connection again."""
    host, port = base_port()
    s = socket.create_connection((host, port), timeout=10)
    try:
        body = json.dumps({"name": "never stored", "timezone": "UTC"}).encode()
        s.sendall(("POST /admin/v1/locations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)).encode())
        time.sleep(0.2)
        s.sendall(body)
        status, _, reply = read_reply(s)
        assert status == 401 and reply["error"]["code"] == "unauthorized", reply
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, reply = read_reply(s)
        assert status == 200 and reply == {"status": "ok"}, reply
    finally:
        s.close()


def test_authenticated_body_still_arrives_in_pieces(c):
    """The route is chosen on the headers, but an authenticated handler still
    runs on the whole body, however it was split."""
    host, port = base_port()
    s = socket.create_connection((host, port), timeout=10)
    try:
        body = json.dumps({"name": "Split body hall", "timezone": "Europe/Amsterdam"}).encode()
        s.sendall(("POST /admin/v1/locations HTTP/1.1\r\nHost: x\r\n" + ADMIN_AUTH +
                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)).encode())
        for i in range(0, len(body), 7):
            s.sendall(body[i:i + 7])
            time.sleep(0.02)
        status, head, reply = read_reply(s)
        assert status == 201 and reply["name"] == "Split body hall", (head, reply)
    finally:
        s.close()


def test_route_without_authentication_keeps_at_most_16_kib(c):
    """The one route a client reaches before proving who it is (the Convious
    token request) keeps at most 16 KiB of a body; more is read, dropped and
    refused with 413."""
    form = {"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret"}
    r = c.request("POST", "/convious/oauth/token/", form=dict(form, padding="x" * (17 * 1024)))
    assert r.status == 413 and isinstance(r.json, dict), r
    r = c.request("POST", "/convious/oauth/token/", form=dict(form, padding="x" * (8 * 1024)))
    assert r.status == 200 and r.json["access_token"], r
