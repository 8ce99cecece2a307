"""The server key is found without the working directory, recorded in the
database (its fingerprint), and a command with another key is refused.

On SQLite the key defaults to a file beside the database (PATH.key), so the
CLI run from any directory uses the same key; on PostgreSQL it must be named.
Every command (migrate, demo, account, serve) started with another key than
the one the database was set up with exits 3 with a message saying so, and
none makes a new key where the database already records one. The default-path
cases run on a fresh SQLite database of their own; the refusals also run on
the database under test (BOXOFFICE_TEST_DB with BOXOFFICE_KEY_FILE)."""
import os
import sqlite3
import subprocess
import tempfile
import uuid

from harness import Skip, Client, expect, scratch_dir
from test_readiness import binary, own_settings, serve


def run(args, cwd=None):
    """Runs the CLI; serve is given a port so that, were it not refused, it would serve (and time out here)."""
    if args[0] == "serve":
        args = args + ["--listen", "127.0.0.1:0", "--no-access-log"]
    return subprocess.run([binary()] + args, cwd=cwd or scratch_dir("boxoffice-cwd-"), env=own_settings(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)


def new_account(db, cwd, *key):
    token = "tok_" + uuid.uuid4().hex
    slug = "key-" + uuid.uuid4().hex[:10]
    r = run(["account", "--db", db, *key, "--slug", slug, "--timezone", "UTC", "--currency", "EUR",
             "--admin-token", token], cwd=cwd)
    return r, slug, token


def wrong_key_file():
    fd, path = tempfile.mkstemp(prefix="boxoffice-wrong-", suffix=".key", dir=scratch_dir())
    os.write(fd, os.urandom(32))
    os.close(fd)
    return path


def refused(r, *words):
    assert r.returncode == 3, (r.returncode, r.stderr)
    for w in words:
        assert w in r.stderr, r.stderr


def serve_and_auth(db, token, slug):
    """Starts a server on db (its key found the default way) and checks token is slug's admin token."""
    proc, url = serve(binary(), db)
    try:
        acct = expect(Client(url).admin("GET", "/account", token=token), 200)
        assert acct["slug"] == slug, acct
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_sqlite_key_beside_database_from_any_directory(c):
    work = scratch_dir("boxoffice-key-")
    path = os.path.join(work, "data", "box.db")
    db = "sqlite:" + path
    first, second = scratch_dir(), scratch_dir()
    assert run(["migrate", "--db", db], cwd=first).returncode == 0
    assert os.path.exists(path + ".key") and os.stat(path + ".key").st_mode & 0o777 == 0o600
    r, slug, token = new_account(db, second)
    assert r.returncode == 0, r.stderr
    # nothing was made relative to either working directory
    assert os.listdir(first) == [] and os.listdir(second) == [], (os.listdir(first), os.listdir(second))
    serve_and_auth(db, token, slug)


def test_sqlite_wrong_or_missing_key_refused(c):
    work = scratch_dir("boxoffice-key-")
    path = os.path.join(work, "box.db")
    db = "sqlite:" + path
    assert run(["migrate", "--db", db]).returncode == 0
    assert run(["demo", "--db", db]).returncode == 0
    wrong = wrong_key_file()
    r, slug, _ = new_account(db, None, "--key-file", wrong)
    refused(r, "not the key this database was set up with", wrong)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM accounts WHERE slug = ?", (slug,)).fetchone()[0] == 0
    # the key moved away: refused, and no new key is made in its place
    os.rename(path + ".key", path + ".moved")
    for cmd in ("serve", "demo", "migrate"):
        refused(run([cmd, "--db", db]), "no server key at", "set up with one")
        assert not os.path.exists(path + ".key"), cmd
    assert run(["demo", "--db", db, "--key-file", path + ".moved"]).returncode == 0


def test_sqlite_database_without_fingerprint(c):
    """A database from before the record: the key it is used with is recorded at
    the first run; where no key is found, none is made while accounts exist."""
    work = scratch_dir("boxoffice-key-")
    path = os.path.join(work, "box.db")
    db = "sqlite:" + path
    assert run(["migrate", "--db", db]).returncode == 0
    assert run(["demo", "--db", db]).returncode == 0
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM server_key")
    legacy = os.path.join(work, "server.key")
    os.rename(path + ".key", legacy)
    refused(run(["serve", "--db", db]), "already has accounts", "--key-file")
    assert not os.path.exists(path + ".key")
    assert run(["demo", "--db", db, "--key-file", legacy]).returncode == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM server_key").fetchone()[0] == 1
    refused(run(["demo", "--db", db, "--key-file", wrong_key_file()]), "not the key")


def shared():
    db, key = os.environ.get("BOXOFFICE_TEST_DB"), os.environ.get("BOXOFFICE_KEY_FILE")
    if not (db and key and os.path.exists(key)):
        raise Skip("needs BOXOFFICE_TEST_DB and BOXOFFICE_KEY_FILE")
    return db, key


def test_wrong_key_refused_on_database_under_test(c):
    db, key = shared()
    wrong = wrong_key_file()
    for cmd in ("migrate", "demo", "serve"):
        refused(run([cmd, "--db", db, "--key-file", wrong]), "not the key this database was set up with")
    r, slug, token = new_account(db, None, "--key-file", wrong)
    refused(r, "not the key")
    missing = os.path.join(scratch_dir(), "absent.key")
    refused(run(["demo", "--db", db, "--key-file", missing]), "no server key at")
    assert not os.path.exists(missing)
    # the right key, from another directory, makes a working account
    r, slug, token = new_account(db, scratch_dir(), "--key-file", os.path.abspath(key))
    assert r.returncode == 0, r.stderr
    assert expect(c.admin("GET", "/account", token=token), 200)["slug"] == slug


def test_postgres_needs_a_key_file(c):
    """Refused before connecting: a database that is not there serves as well as one that is."""
    db = os.environ.get("BOXOFFICE_TEST_DB", "")
    if not db.startswith("postgres"):
        db = "postgresql://boxoffice@127.0.0.1:1/nowhere"
    r = run(["demo", "--db", db])
    assert r.returncode == 2 and "--key-file" in r.stderr, (r.returncode, r.stderr)
