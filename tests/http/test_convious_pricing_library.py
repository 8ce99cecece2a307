"""The Convious pricing browser library as the server serves it:
GET /convious-pricing/analytics.js (classic script) and /analytics.mjs (ES
module), public, from any origin, cacheable and revalidated by ETag, gzipped
for clients that take it. The library's behaviour is tested by
tests/js/analytics.test.js; here it also runs on the bytes served, so the
server cannot serve other bytes than the tested ones."""
import gzip
import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request

import pytest

from harness import ROOT, Skip, scratch_dir

FORMS = ["/convious-pricing/analytics.js", "/convious-pricing/analytics.mjs"]


def get(c, path, method="GET", **headers):
    return c.request(method, path, headers=headers)


def raw(c, path, **headers):
    """The reply's bytes as sent (the harness decodes text)."""
    req = urllib.request.Request(c.base + path, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers), resp.read()


def node_or_skip():
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        raise Skip("node is not installed")
    return node


@pytest.mark.parametrize("path", FORMS)
def test_served_as_javascript_to_any_origin(c, path):
    r = get(c, path, Origin="https://shop.example")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/javascript; charset=utf-8"
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("Cross-Origin-Resource-Policy") == "cross-origin"
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Cache-Control") == "public, max-age=3600"
    assert r.header("Vary") == "Accept-Encoding"
    assert r.header("Content-Encoding") is None
    etag = r.header("ETag")
    assert etag and etag.startswith('"') and etag.endswith('"') and len(etag) == 34, etag
    assert "conviousPricing" in r.raw or "export {" in r.raw
    assert "logOrderCreated" in r.raw


def test_the_two_forms(c):
    classic = get(c, FORMS[0]).raw
    module = get(c, FORMS[1]).raw
    assert "root.conviousPricing = root.conviousPricing || {" in classic
    assert "import.meta" not in classic and "\nexport " not in classic
    assert "const loadedFrom = import.meta.url;" in module and "\nexport {\n" in module
    assert get(c, FORMS[0]).header("ETag") != get(c, FORMS[1]).header("ETag")


@pytest.mark.parametrize("path", FORMS)
def test_no_credentials_needed_nor_looked_at(c, path):
    assert get(c, path, Authorization="Bearer nonsense").status == 200
    assert get(c, path, Cookie="sessionid=x").status == 200


@pytest.mark.parametrize("path", FORMS)
def test_revalidated_by_etag(c, path):
    etag = get(c, path).header("ETag")
    for match in (etag, '"other", ' + etag, "*", "W/" + etag):
        r = get(c, path, **{"If-None-Match": match})
        assert r.status == 304, (match, r)
        assert r.raw == ""
        assert r.header("ETag") == etag
        assert r.header("Cache-Control") == "public, max-age=3600"
        assert r.header("Access-Control-Allow-Origin") == "*"
    for match in ('"other"', etag[:-2] + '"', ""):
        assert get(c, path, **{"If-None-Match": match}).status == 200, match


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize("accept,gzipped", [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, GZIP;q=0.5", True), ("*", True),
    ("gzip;q=0", False), ("gzip; q=0.000, br", False), ("gzip;q=0, *", False), ("br", False),
    ("deflate, *;q=0", False), ("gzipx", False), ("identity", False), ("", False),
])
def test_gzip_for_clients_that_take_it(c, path, accept, gzipped):
    status, headers, body = raw(c, path, **({"Accept-Encoding": accept} if accept else {}))
    assert status == 200
    plain = get(c, path).raw.encode()
    if gzipped:
        assert headers.get("Content-Encoding") == "gzip", accept
        assert gzip.decompress(body) == plain
        assert headers.get("ETag") != get(c, path).header("ETag")
    else:
        assert headers.get("Content-Encoding") is None, accept
        assert body == plain


@pytest.mark.parametrize("path", FORMS)
def test_under_5_kb_gzipped(c, path):
    status, headers, body = raw(c, path, **{"Accept-Encoding": "gzip"})
    assert status == 200 and len(body) < 5000, len(body)
    assert len(gzip.compress(get(c, path).raw.encode(), 9)) < 5000


@pytest.mark.parametrize("path", FORMS)
def test_head(c, path):
    r = get(c, path, method="HEAD")
    assert r.status == 200 and r.raw == ""
    assert r.header("Content-Type") == "text/javascript; charset=utf-8"
    assert r.header("ETag") == get(c, path).header("ETag")
    assert int(r.header("Content-Length")) == len(get(c, path).raw.encode())


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_refused(c, path, method):
    r = c.request(method, path, raw="{}")
    assert r.status == 405, r
    assert "GET" in r.header("Allow")


@pytest.mark.parametrize("path", ["/convious-pricing/analytics", "/convious-pricing/analytics.cjs",
                                  "/convious-pricing/analytics.js.map", "/convious-pricing/Analytics.js",
                                  "/convious-pricing/analytics.js/x", "/convious-pricing/web/analytics/analytics.js",
                                  "/convious-pricing/../convious-pricing/analytics.js%00"])
def test_nothing_else_is_served(c, path):
    assert get(c, path).status in (400, 404), path


def test_the_served_bytes_pass_the_library_tests(c):
    """tests/js/analytics.test.js on the served files, in a zone ahead of UTC."""
    node = node_or_skip()
    where = scratch_dir("boxoffice-analytics-")
    for path in FORMS:
        with open(os.path.join(where, os.path.basename(path)), "w") as out:
            out.write(get(c, path).raw)
    env = dict(os.environ, TZ="Pacific/Auckland")
    run = subprocess.run([node, "--experimental-vm-modules", "--no-warnings",
                          os.path.join(ROOT, "tests/js/analytics.test.js"), where],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, env=env)
    out = run.stdout.decode()
    assert run.returncode == 0, "\n".join(line for line in out.splitlines() if not line.startswith("ok - "))
    assert out.strip().splitlines()[-1].endswith(" passed, 0 failed"), out[-2000:]


@pytest.mark.parametrize("form", ["classic", "module"])
def test_what_the_library_sends_the_ingest_takes(c, form):
    """Every function's request, as the served library makes it (tests/js/emit_events.js), posted to
    POST /convious-pricing/events as a browser on a shop's page would: 200, empty, with CORS."""
    node = node_or_skip()
    where = scratch_dir("boxoffice-analytics-")
    for path in FORMS:
        with open(os.path.join(where, os.path.basename(path)), "w") as out:
            out.write(get(c, path).raw)
    run = subprocess.run([node, "--experimental-vm-modules", "--no-warnings",
                          os.path.join(ROOT, "tests/js/emit_events.js"), where, "demo", form],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    requests = [json.loads(line) for line in run.stdout.decode().splitlines()]
    types = [e["type"] for r in requests for e in json.loads(r["body"])]
    assert sorted(set(types)) == sorted(["PageViewed", "UserEnteredCheckout", "UserSelectedDate", "UserViewedProducts",
                                         "UserViewedPrices", "UserAddedItemToCart", "OrderCreated", "Transaction"])
    preflight = c.request("OPTIONS", "/convious-pricing/events", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,accept-version"})
    if preflight.status in (404, 405):
        raise Skip("this server has no /convious-pricing/events (the ingest of issue 14, branch cpapi)")
    assert preflight.status in (200, 204), preflight
    allowed = (preflight.header("Access-Control-Allow-Headers") or "").lower()
    assert "content-type" in allowed and "accept-version" in allowed, allowed
    for req in requests:
        assert urllib.parse.urlparse(req["url"]).path == "/convious-pricing/events"
        r = c.request("POST", "/convious-pricing/events", raw=req["body"],
                      headers=dict(req["headers"], Origin="https://shop.example"))
        assert r.status == 200 and r.raw == "", (r, req["body"][:500])
        assert r.header("Access-Control-Allow-Origin") == "*"
