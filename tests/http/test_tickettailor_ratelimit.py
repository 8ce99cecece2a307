"""Rate limiting per API key, counted in the database: two extra server
processes with a limit of 6 requests an hour share one count, so the seventh
request, to either, gets 429 with Retry-After. Needs BOXOFFICE_BIN,
BOXOFFICE_TEST_DB and BOXOFFICE_KEY_FILE (set by scripts/check.sh)."""
import os
import uuid

from harness import Skip, Client, expect, serve


def start(binary, db, key):
    return serve(binary, db, "--key-file", key, "--rate-limit", "6")


def test_limit_shared_across_processes(c):
    binary, db, key = (os.environ.get(k) for k in ("BOXOFFICE_BIN", "BOXOFFICE_TEST_DB", "BOXOFFICE_KEY_FILE"))
    if not (binary and db and key):
        raise Skip("needs BOXOFFICE_BIN, BOXOFFICE_TEST_DB, BOXOFFICE_KEY_FILE")
    # a fresh key, so the shared test server's requests do not count
    api_key = "sk_rl_" + uuid.uuid4().hex
    expect(c.admin("POST", "/credentials", {"kind": "api_key", "secret": api_key}), 201)
    servers = [start(binary, db, key), start(binary, db, key)]
    try:
        clients = [Client(url) for _, url in servers]
        seen = []
        for i in range(6):
            r = clients[i % 2].tickettailor("GET", "/v1/ping", key=api_key)
            assert r.status == 200, r
            assert r.header("X-Rate-Limit-Limit") == "6"
            seen.append(int(r.header("X-Rate-Limit-Remaining")))
        assert seen == [5, 4, 3, 2, 1, 0], seen
        for cl in clients:
            r = cl.tickettailor("GET", "/v1/ping", key=api_key)
            assert r.status == 429 and r.json["status"] == 429, r
            assert int(r.header("Retry-After")) > 0 and r.header("X-Rate-Limit-Remaining") == "0"
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=20)
