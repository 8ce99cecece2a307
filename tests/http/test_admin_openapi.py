"""docs/openapi.json, as served at GET /admin/v1/openapi.json, and the routes
the server really has: every documented operation is served (and needs the
admin token unless documented public), a documented path answers 405 to every
other method, and the route table in src/api/admin/routes.c lists exactly the
documented operations (when the source tree is next to the tests)."""
import json
import os
import re

from harness import Skip, expect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = ("get", "post", "put", "patch", "delete")


def load(c):
    r = c.request("GET", "/admin/v1/openapi.json")
    doc = expect(r, 200)
    assert (r.header("Content-Type") or "").startswith("application/json"), r.headers
    assert isinstance(doc, dict), r
    return doc


def operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def concrete(path):
    return "/admin/v1" + re.sub(r"\{[^}]+\}", "probe-nonexistent-id", path)


def test_document_is_served_publicly_and_well_formed(c):
    doc = load(c)
    assert doc["openapi"].startswith("3.0."), doc["openapi"]
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": "/admin/v1"}], doc["servers"]
    assert doc["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    # the file in the repo is the document served
    path = os.path.join(ROOT, "docs", "openapi.json")
    if os.path.exists(path):
        with open(path) as f:
            assert json.load(f) == doc, "docs/openapi.json differs from the served document: rebuild"
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)), "duplicate operationId"
    for path, method, op in operations(doc):
        assert op.get("responses"), (path, method)
        for name in re.findall(r"\{([^}]+)\}", path):
            params = doc["paths"][path].get("parameters", []) + op.get("parameters", [])
            assert any(p["name"] == name and p["in"] == "path" for p in params), (path, name)

    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(doc):
        target = doc
        for part in ref.lstrip("#/").split("/"):
            assert part in target, "unresolved $ref " + ref
            target = target[part]


def test_every_documented_operation_is_served(c):
    doc = load(c)
    for path, method, op in operations(doc):
        body = {} if method in ("post", "put", "patch") else None
        r = c.admin(method.upper(), concrete(path)[len("/admin/v1"):], body)
        code = (r.json or {}).get("error", {}).get("code") if isinstance(r.json, dict) else None
        if path == "/test/clock" and code == "route_not_found":
            continue  # a server without --test-clock hides it
        assert r.status != 405 and code != "route_not_found", "%s %s is documented but not served: %r" % (
            method.upper(), path, r)
        assert str(r.status) in op["responses"], "%s %s answered %d, undocumented: %r" % (
            method.upper(), path, r.status, r)
        # and without a token it is refused, unless documented public
        public = op.get("security", doc.get("security")) == []
        r = c.admin(method.upper(), concrete(path)[len("/admin/v1"):], body, token=None)
        if public:
            assert r.status != 401, (path, method, r)
        elif not (path == "/test/clock" and r.status == 404):
            assert r.status == 401 and r.json["error"]["code"] == "unauthorized", (path, method, r)


def test_undocumented_methods_are_405(c):
    doc = load(c)
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                continue
            r = c.admin(method.upper(), concrete(path)[len("/admin/v1"):], {} if method != "get" else None)
            assert r.status == 405 and r.json["error"]["code"] == "method_not_allowed", (method, path, r)


def test_route_table_matches_document(c):
    source = os.path.join(ROOT, "src", "api", "admin", "routes.c")
    if not os.path.exists(source):
        raise Skip("%s not found" % source)
    with open(source) as f:
        table = set(re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*"([^"]+)"', f.read()))
    documented = {(m.upper(), p) for p, m, _ in operations(load(c))}
    assert table, "no routes parsed from routes.c"
    assert table - documented == set(), "served but not documented: %s" % sorted(table - documented)
    assert documented - table == set(), "documented but not served: %s" % sorted(documented - table)
