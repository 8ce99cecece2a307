"""/healthz, unmatched /admin/v1 routes, body limits and the test clock."""
import json
import socket
import urllib.parse

from harness import Skip, BASE, expect


def error_of(resp, status, code=None):
    body = expect(resp, status)
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, err
    if code:
        assert err["code"] == code, "expected code %s, got %r" % (code, resp)
    return err


def test_healthz(c):
    r = c.request("GET", "/healthz")
    assert expect(r, 200) == {"status": "ok"}, r


def test_unknown_routes_and_methods(c):
    error_of(c.admin("GET", "/no-such-thing"), 404, "route_not_found")
    error_of(c.admin("GET", "/locations/a/b"), 404, "route_not_found")
    error_of(c.admin("GET", "/orders/x/refund"), 404, "route_not_found")
    error_of(c.admin("DELETE", "/account"), 405, "method_not_allowed")
    error_of(c.admin("PUT", "/locations", {}), 405, "method_not_allowed")
    error_of(c.admin("POST", "/orders/x", {}), 405, "method_not_allowed")
    error_of(c.admin("GET", "/orders/x/cancel"), 405, "method_not_allowed")


def raw_post(path, body, headers=()):
    """Sends a body the way a misbehaving client might, and reads whatever comes back."""
    u = urllib.parse.urlsplit(BASE)
    s = socket.create_connection((u.hostname, u.port or 80), timeout=30)
    head = "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer demo-admin-token\r\n" \
           "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n" % (path, u.netloc, len(body))
    head += "".join("%s: %s\r\n" % h for h in headers) + "\r\n"
    reply = b""
    try:
        s.sendall(head.encode() + body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before reading it all
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return reply


def test_oversized_body_is_413(c):
    big = json.dumps({"name": "x" * (1024 * 1024 + 10), "timezone": "UTC"})
    reply = raw_post("/admin/v1/locations", big.encode())
    status = reply.split(b"\r\n", 1)[0]
    assert b" 413 " in status + b" ", reply[:300]
    # the server is fine afterwards and stored nothing
    names = [d.get("name", "")[:1] for d in expect(c.admin("GET", "/locations"), 200)["data"]]
    assert "x" not in names, names
    # a body just under the limit is read and judged on its content
    r = c.admin("POST", "/locations", {"name": "y" * (900 * 1024), "timezone": "UTC"})
    assert r.status == 400 and r.json["error"]["field"] == "name", r


def test_test_clock(c):
    r = c.admin("POST", "/test/clock", {"advance_seconds": 0})
    if r.status == 404:
        error_of(r, 404, "route_not_found")  # server without --test-clock: the route does not exist
        raise Skip("server runs without --test-clock")
    before = expect(r, 200)["offset_seconds"]
    assert isinstance(before, int) and before >= 0, r
    after = expect(c.admin("POST", "/test/clock", {"advance_seconds": 2}), 200)["offset_seconds"]
    assert after == before + 2, (before, after)
    error_of(c.admin("POST", "/test/clock", {}), 400, "missing_field")
    error_of(c.admin("POST", "/test/clock", {"advance_seconds": -5}), 400, "invalid_field")
    error_of(c.admin("POST", "/test/clock", {"advance_seconds": "5"}), 400, "invalid_field")
    error_of(c.admin("POST", "/test/clock", {"advance_seconds": 1, "rewind": True}), 400, "unknown_field")
    error_of(c.admin("POST", "/test/clock", {"advance_seconds": 1}, token="wrong"), 401, "unauthorized")
