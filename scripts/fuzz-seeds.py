#!/usr/bin/env python3
"""Writes seed inputs for fuzz/router (the request format of fuzz/request.h).

  scripts/fuzz-seeds.py specs SEEDS_DIR OUT_DIR
      the example requests of the vendor documents (SEEDS_DIR/*.txt): every
      Convious request line with its JSON payload, every Ticket Tailor request
      line with its body parameters as a form.
  scripts/fuzz-seeds.py http OUT_DIR [TEST_FILE ...]
      runs tests/http (against BOXOFFICE_URL, as tests/http/run.py does) and
      writes every request the tests send through harness.Client.

Placeholders in paths become the demo account's fixed ids (docs/demo.md).
Authorization headers are left out: fuzz/router adds the demo credential of
the path's dialect. Files are named by their content's hash, so running it
again adds nothing twice. Shrink the result with libFuzzer's -merge=1
(docs/DEVELOPING.md, "Fuzzing")."""
import hashlib
import json
import os
import re
import sys

DEMO = "d0000000-0000-4000-8000-0000000000"
PLACEHOLDERS = {
    "account_slug": "demo", "product_id": DEMO + "05", "category_id": DEMO + "03", "date": "2026-12-01",
    "date_from": "2026-12-01", "date_to": "2026-12-03", "visit_date_from_date": "2026-12-01",
    "visit_date_to_date": "2026-12-03", "update_timestamp": "2026-11-01T00:00:00Z", "inclusions": "products",
    "order_status_filter": "paid", "product_type_filter": "dated", "list_if_product_uuids": DEMO + "05",
    "has_external_id": "false", "enabled": "true", "direction": "in", "scanned_at": "2026-12-01T10:00:00Z",
}


def write(out, method, target, headers, body):
    text = "%s %s\n" % (method, target)
    text += "".join("%s: %s\n" % kv for kv in headers)
    data = text.encode() + b"\n" + (body if isinstance(body, bytes) else body.encode())
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def fill(path):
    path = re.sub(r"<([a-z_]+)>", lambda m: PLACEHOLDERS.get(m.group(1), "x_" + m.group(1)), path)
    return re.sub(r"\{([a-z_]+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "x_" + m.group(1)), path)


def json_after(lines, i):
    """The JSON object that starts on the first line after i that is '{', up to the next request line."""
    for j in range(i + 1, min(i + 12, len(lines))):
        if re.match(r"^(GET|POST|PATCH|DELETE) ", lines[j]):
            return None
        if lines[j].strip() == "{":
            depth, chunk = 0, []
            for line in lines[j:]:
                chunk.append(line)
                depth += line.count("{") + line.count("[") - line.count("}") - line.count("]")
                if depth <= 0:
                    break
            text = "\n".join(chunk)
            try:
                json.loads(text)
            except ValueError:
                pass
            return text
    return None


def convious(lines, out):
    for i, line in enumerate(lines):
        m = re.match(r"^(GET|POST|PATCH|DELETE) https://(api|identity)\.convious\.com(/\S*)", line)
        if not m:
            continue
        method, path = m.group(1), fill(m.group(3))
        if m.group(2) == "identity":
            body = "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret"
            write(out, method, "/convious" + path, [("Content-Type", "application/x-www-form-urlencoded")], body)
            continue
        body = json_after(lines, i) if method in ("POST", "PATCH") else None
        headers = [("Content-Type", "application/json")] if body else []
        write(out, method, "/convious" + path, headers, body or "")


def tickettailor_form(lines, i):
    """'key: value', 'key:' + '- item' and 'key:' + 'sub: value' lines after 'Body parameter'."""
    pairs, key = [], None
    for line in lines[i + 1:]:
        if line.startswith("Parameters"):
            break
        if line.startswith("- ") and key:
            pairs.append((key + "[]", line[2:].strip()))
            continue
        m = re.match(r"^([a-z_0-9]+):\s*(.*)$", line)
        if not m:
            continue
        k, v = m.group(1), m.group(2).strip().strip('"')
        if v == "":
            key = k
        elif key and k.startswith(("tt_", "ev_", "es_")):
            pairs.append(("%s[%s]" % (key, k), v))
        else:
            key = None
            pairs.append((k, v))
    from urllib.parse import urlencode
    return urlencode(pairs)


def tickettailor(lines, out):
    for i, line in enumerate(lines):
        m = re.match(r"^(GET|POST|DELETE) (/v1\S*)$", line)
        if not m:
            continue
        method, path = m.group(1), fill(m.group(2))
        body = ""
        for j in range(i + 1, min(i + 4, len(lines))):
            if lines[j].startswith("Body parameter"):
                body = tickettailor_form(lines, j)
        headers = [("Accept", "application/json")]
        if body:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        write(out, method, "/tickettailor" + path, headers, body)


def specs(seeds_dir, out):
    for name, parse in (("convious-partner-api.txt", convious), ("tickettailor-api.txt", tickettailor)):
        with open(os.path.join(seeds_dir, name), encoding="utf-8") as f:
            parse(f.read().splitlines(), out)


def http(out, files):
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "http")
    sys.path.insert(0, here)
    import harness
    import run
    original = harness.Client.request

    def recording(self, method, path, json_body=None, form=None, headers=None, raw=None, query=None):
        from urllib.parse import urlencode
        target = path + (("&" if "?" in path else "?") + urlencode(query) if query else "")
        hdrs = [(k, v) for k, v in (headers or {}).items() if k.lower() != "authorization"]
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.append(("Content-Type", "application/json"))
        elif form is not None:
            body = urlencode(form).encode()
            hdrs.append(("Content-Type", "application/x-www-form-urlencoded"))
        elif raw is not None:
            body = raw if isinstance(raw, bytes) else raw.encode()
        if "\n" not in target and len(body) < 64 * 1024:
            write(out, method, target, hdrs, body)
        return original(self, method, path, json_body=json_body, form=form, headers=headers, raw=raw, query=query)

    harness.Client.request = recording
    return run.main(["run.py"] + files)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "specs":
        os.makedirs(sys.argv[3], exist_ok=True)
        specs(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "http":
        os.makedirs(sys.argv[2], exist_ok=True)
        http(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
