"""Black-box HTTP test harness: a tiny client and a runner, standard library only.

Test modules are tests/http/test_*.py, run by pytest (run.py, conftest.py);
every function named test_* takes the fixture `c`, a Client bound to the
server under test, and fails by raising (assert), or skips by raising Skip
when what it needs is not there (a visible skip, never a pass). Case tables
use @pytest.mark.parametrize. run.py prints "ok - module.test" / "not ok -
module.test" / "skip - module.test: why" per test, "N skipped" when any did,
and a last line "N passed, N failed".

Environment: BOXOFFICE_URL (server base URL), BOXOFFICE_DB_KIND (sqlite|postgres).
"""
import atexit
import base64
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

try:  # under pytest (run.py) a Skip is pytest's own skip
    import pytest
    Skip = pytest.skip.Exception
except ImportError:
    class Skip(Exception):
        """Raised by a test whose environment is missing: reported as skipped."""


BASE = os.environ.get("BOXOFFICE_URL", "http://127.0.0.1:8080")


def server_pid():
    """The process id of the server under test (BOXOFFICE_SERVER_PID, else whoever listens on its port)."""
    pid = os.environ.get("BOXOFFICE_SERVER_PID")
    if pid:
        return int(pid)
    port = urllib.parse.urlparse(BASE).port
    try:
        out = subprocess.run(["ss", "-ltnpH", "sport = :%d" % port], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10).stdout.decode()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    m = re.search(r"pid=(\d+)", out)
    if not m:
        raise Skip("cannot find the server's pid (set BOXOFFICE_SERVER_PID)")
    return int(m.group(1))


_SCRATCH = []


def scratch_dir(prefix="boxoffice-"):
    """A fresh directory under this run's scratch root, which goes when the run ends."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="boxoffice-tests-"))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return tempfile.mkdtemp(prefix=prefix, dir=_SCRATCH[0])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def serve(binary, db, *extra, env=None):
    """Starts another `boxoffice serve` on db at a free port; returns (process, base URL).
    The caller terminates it."""
    proc = subprocess.Popen([binary, "serve", "--db", db, "--listen", "127.0.0.1:0", "--no-access-log"] + list(extra),
                            stderr=subprocess.PIPE, text=True, env=env)
    for _ in range(200):
        line = proc.stderr.readline()
        if "serving on http://" in line:
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, line.split("serving on ")[1].split()[0]
        if not line:
            break
    proc.kill()
    raise AssertionError("server did not start")


def create_account(slug, name, timezone, currency, admin_token):
    """Makes another account with `boxoffice account` on the server's database;
    Skip when the environment names no binary, database or server key."""
    db = os.environ.get("BOXOFFICE_TEST_DB")
    binary = os.environ.get("BOXOFFICE_BIN") or next(
        (p for p in (os.path.join(ROOT, "build/san/boxoffice"), os.path.join(ROOT, "build/boxoffice"))
         if os.path.exists(p)), None)
    key = os.environ.get("BOXOFFICE_KEY_FILE")
    if not key and db and db.startswith("sqlite:"):
        key = db[len("sqlite:"):] + ".key"  # the server's default: beside the database
    if not (db and binary and key and os.path.exists(key)):
        raise Skip("no second account (needs BOXOFFICE_TEST_DB, BOXOFFICE_BIN, BOXOFFICE_KEY_FILE)")
    run = subprocess.run([binary, "account", "--db", db, "--key-file", key, "--slug", slug, "--name", name,
                          "--timezone", timezone, "--currency", currency, "--admin-token", admin_token],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert run.returncode == 0, "account command failed: %s" % run.stderr.decode(errors="replace")[-300:]
DB_KIND = os.environ.get("BOXOFFICE_DB_KIND", "sqlite")

# The demo account's fixed credentials (docs/demo.md).
ADMIN_TOKEN = "demo-admin-token"
OAUTH_CLIENT = ("demo-client", "demo-secret")
TT_API_KEY = "sk_demo_tickettailor"
CM_PRODUCT_TOKEN = "11111111-2222-3333-4444-555555555555"
FV_API_KEY = "fv_demo_key"


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def header(self, name):
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.raw[:300])


class Client:
    def __init__(self, base=BASE):
        self.base = base.rstrip("/")

    def request(self, method, path, json_body=None, form=None, headers=None, raw=None, query=None):
        url = self.base + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        data = None
        hdrs = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Response(resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read().decode("utf-8", "replace"))

    # --- authenticated helpers per dialect ---
    def admin(self, method, path, json_body=None, token=ADMIN_TOKEN, **kw):
        h = kw.pop("headers", {})
        if token:
            h["Authorization"] = "Bearer " + token
        return self.request(method, "/admin/v1" + path, json_body=json_body, headers=h, **kw)

    def convious_token(self, client=OAUTH_CLIENT):
        r = self.request("POST", "/convious/oauth/token/", form={
            "grant_type": "client_credentials", "client_id": client[0], "client_secret": client[1]})
        assert r.status == 200, r
        return r.json["access_token"]

    def convious(self, method, path, json_body=None, token=None, **kw):
        h = kw.pop("headers", {})
        if token is None:
            token = getattr(self, "_cv_token", None) or self.convious_token()
            self._cv_token = token
        if token:
            h["Authorization"] = "Bearer " + token
        return self.request(method, "/convious" + path, json_body=json_body, headers=h, **kw)

    def tickettailor(self, method, path, key=TT_API_KEY, **kw):
        h = kw.pop("headers", {})
        h.setdefault("Accept", "application/json")
        if key:
            h["Authorization"] = "Basic " + base64.b64encode((key + ":").encode()).decode()
        return self.request(method, "/tickettailor" + path, headers=h, **kw)


def expect(resp, status):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    return resp.json


def admin_error(resp, status, code=None, field=None):
    """Checks an /admin/v1 error reply: {"error": {code, message, field}}."""
    body = expect(resp, status)
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, err
    if code:
        assert err["code"] == code, "expected code %s, got %r" % (code, resp)
    if field is not None:
        assert err["field"] == field, "expected field %s, got %r" % (field, resp)
    return err


def db_rows(sql):
    """Rows of a query on the server's database, read directly."""
    db = os.environ.get("BOXOFFICE_TEST_DB")
    if not db:
        raise Skip("BOXOFFICE_TEST_DB is not set: the database cannot be read")
    if db.startswith("sqlite:"):
        path = db[len("sqlite:"):]
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
        if os.path.exists(path + "-analytics"):  # the server's analytics tables (store/db_sqlite.c)
            con.execute("ATTACH DATABASE ? AS analytics", ("file:%s-analytics?mode=ro" % path,))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    run = subprocess.run(["psql", db, "-X", "-A", "-t", "-q", "-F", "\x1f", "-c", sql], capture_output=True, timeout=60)
    if run.returncode != 0:
        raise Skip("psql failed: %s" % run.stderr.decode(errors="replace")[-200:])
    return [tuple(line.split("\x1f")) for line in run.stdout.decode().splitlines() if line]


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def tt_error(resp, status, field=None):
    """Checks a Ticket Tailor error reply: {status, error_code, message[, errors: [{field, messages}]]}."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    assert resp.json["status"] == status and resp.json["message"], resp
    if field:
        assert resp.json["errors"][0]["field"] == field, resp
    return resp.json
