"""E-tickets (docs/ARCHITECTURE.md, "E-tickets"): GET /tickets/{token}.pdf and
.svg, GET /orders/{token}.pdf, and every dialect's link to them (/admin/v1
download_url, Convious ticketDownloadUrl, Ticket Tailor barcode_url and
qr_code_url). The PDFs' text is read with pdftotext and their QR codes with
pdftoppm + zbarimg (poppler-utils, zbar-tools); without them the tests skip.
"""
import datetime
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover
    ZoneInfo = None

import pytest

from harness import Client, Skip, create_account, expect

ADULT = "d0000000-0000-4000-8000-000000000005"
CHILD = "d0000000-0000-4000-8000-000000000006"
GUIDE = "d0000000-0000-4000-8000-000000000007"
STANDARD = "d0000000-0000-4000-8000-00000000000a"
HOLDER = "Zażółć Gęślą — Ωμέγα Παπαδόπουλος — Жёлтый Щукин"


def day(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def tools():
    for tool in ("pdftotext", "pdftoppm", "zbarimg"):
        if not shutil.which(tool):
            raise Skip("needs %s (poppler-utils, zbar-tools)" % tool)


def download(url):
    """(status, headers, bytes) of a GET without credentials."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def header(headers, name):
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def pdf_of(url):
    status, headers, body = download(url)
    assert status == 200, (url, status, body[:200])
    assert header(headers, "Content-Type") == "application/pdf"
    assert header(headers, "Content-Disposition").startswith("inline; filename=")
    assert "private" in header(headers, "Cache-Control")
    assert body.startswith(b"%PDF-")
    return body


def pdf_text(pdf):
    """The PDF's text, one string per page."""
    run = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True)
    return run.stdout.decode("utf-8").split("\f")[:-1]


def qr_codes(pdf):
    """What zbarimg reads from each page rendered at 150 dpi, in page order."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        subprocess.run(["pdftoppm", "-r", "150", "-png", path, os.path.join(d, "p")], check=True,
                       stderr=subprocess.DEVNULL)
        pages = sorted(p for p in os.listdir(d) if p.endswith(".png"))
        out = []
        for p in pages:
            run = subprocess.run(["zbarimg", "-q", "--raw", os.path.join(d, p)], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            out.append(run.stdout.decode().strip())
        return out


def utc_offset(date, time):
    if ZoneInfo is None:
        raise Skip("needs zoneinfo")
    local = datetime.datetime.fromisoformat(date + "T" + time).replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
    minutes = int(local.utcoffset().total_seconds() // 60)
    return "UTC%s%02d:%02d" % ("+" if minutes >= 0 else "-", abs(minutes) // 60, abs(minutes) % 60)


def book(c, items, customer=None, date=None, start_time=None, token=None):
    body = {"items": [{"product_id": p, "quantity": q} for p, q in items]}
    if date:
        body["date"] = date
    if start_time:
        body["start_time"] = start_time
    kw = {"token": token} if token else {}
    cart = expect(c.admin("POST", "/carts", body, **kw), 201)
    order_body = {"cart_id": cart["id"], "payment": {"provider": "cash"}}
    if customer:
        order_body["customer"] = customer
    return expect(c.admin("POST", "/orders", order_body, **kw), 201)


def scan(c, barcode, at):
    body = {"barcode": barcode, "scannedAt": at}
    return expect(c.convious("POST", "/api/v2/accounts/demo/barcode/scan/", body), 200)


@pytest.fixture(scope="module")
def museum():
    """A paid order of two museum tickets at 10:00, three days from now."""
    c = Client()
    customer = {"email": "et-%s@example.com" % uuid.uuid4().hex[:8], "name": HOLDER, "language": "en"}
    return book(c, [(ADULT, 1), (CHILD, 1)], customer, date=day(3), start_time="10:00")


def test_order_pdf_shows_every_field(c, museum):
    tools()
    order = museum
    assert order["download_url"].startswith(c.base + "/orders/") and order["download_url"].endswith(".pdf")
    account = expect(c.admin("GET", "/account"), 200)
    pages = pdf_text(pdf_of(order["download_url"]))
    assert len(pages) == 2, pages
    date = datetime.date.fromisoformat(day(3))
    when = "%s %d %s %d, 10:00–11:00 (%s)" % (date.strftime("%a"), date.day, date.strftime("%b"), date.year,
                                              utc_offset(day(3), "10:00"))
    # pages in the order's ticket order (its lines may come in either order)
    names = {ADULT: ("Adult", "19.50"), CHILD: ("Child", "9.75")}
    for page, ticket in zip(pages, order["tickets"]):
        name, price = names[ticket["product_id"]]
        assert account["name"] in page, page
        assert name in page and when in page, page
        assert "Amsterdam" in page and "Museumplein" in page, page  # venue name and address
        assert "Order: " + order["number"] in page, page
        assert "Name: " + HOLDER in page, page  # Polish, Greek and Cyrillic as written
        assert "Price: %s EUR incl. tax" % price in page, page
        assert ticket["barcode"] in page, page


def test_qr_code_is_the_barcode_and_scans_once(c, museum):
    tools()
    pdf = pdf_of(museum["download_url"])
    assert qr_codes(pdf) == [t["barcode"] for t in museum["tickets"]]
    ticket = museum["tickets"][0]
    one = pdf_of(ticket["download_url"])
    assert qr_codes(one) == [ticket["barcode"]]
    assert len(pdf_text(one)) == 1
    at = day(3) + "T10:30:00" + utc_offset(day(3), "10:30")[3:]
    assert scan(c, ticket["barcode"], at)["status"] == "success"
    again = scan(c, ticket["barcode"], at)
    assert again["status"] == "error" and again["errorCode"] == "already_redeemed"


def test_ticket_and_order_urls_in_admin_reads(c, museum):
    got = expect(c.admin("GET", "/orders/" + museum["id"]), 200)
    assert got["download_url"] == museum["download_url"]
    assert [t["download_url"] for t in got["tickets"]] == [t["download_url"] for t in museum["tickets"]]
    t = expect(c.admin("GET", "/tickets/" + museum["tickets"][1]["id"]), 200)
    assert t["download_url"] == museum["tickets"][1]["download_url"] and "/tickets/" in t["download_url"]
    listed = expect(c.admin("GET", "/orders", query={"limit": "5"}), 200)["data"]
    assert all("download_url" in o for o in listed)
    assert all(o["download_url"] is None for o in listed if o["status"] == "cancelled")


def test_product_name_in_the_customers_language(c):
    tools()
    pid = str(uuid.uuid4())
    expect(c.admin("POST", "/products", {"id": pid, "name": {"en": "Night tour", "pl": "Zwiedzanie nocą",
                                                               "el": "Νυχτερινή ξενάγηση"},
                                         "price": 1234}), 201)
    polish = book(c, [(pid, 1)], {"name": "Łucja", "language": "pl"})
    text = pdf_text(pdf_of(polish["download_url"]))[0]
    assert "Zwiedzanie nocą" in text and "Night tour" not in text, text
    assert "Price: 12.34 EUR incl. tax" in text and "Open date" in text, text
    greek = book(c, [(pid, 1)], {"name": "Νίκος", "language": "el"})
    assert "Νυχτερινή ξενάγηση" in pdf_text(pdf_of(greek["download_url"]))[0]
    other = book(c, [(pid, 1)], {"name": "Hans", "language": "de"})  # no German name: English
    assert "Night tour" in pdf_text(pdf_of(other["download_url"]))[0]


def test_ticket_tailor_issued_ticket_links(c):
    tools()
    r = c.tickettailor("POST", "/v1/issued_tickets", form={"event_id": "ev_oc_concert_main",
                                                           "ticket_type_id": "tt_" + STANDARD,
                                                           "full_name": "Γιώργος Παπαδόπουλος"})
    t = expect(r, 201)["data"][0]
    assert t["qr_code_url"] and t["qr_code_url"] == t["barcode_url"], t
    assert t["qr_code_url"].startswith(c.base + "/tickets/") and t["qr_code_url"].endswith(".svg")
    status, headers, svg = download(t["qr_code_url"])
    assert status == 200 and header(headers, "Content-Type") == "image/svg+xml"
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"<path" in svg
    listed = expect(c.tickettailor("GET", "/v1/issued_tickets/" + t["id"]), 200)
    assert listed["barcode_url"] == t["barcode_url"]
    text = pdf_text(pdf_of(t["qr_code_url"][:-4] + ".pdf"))[0]
    assert "Night at the Museum: Live Concert" in text and "Standard" in text, text
    assert "20:00–23:00" in text and "Name: Γιώργος Παπαδόπουλος" in text, text
    assert "Price: 35.00 EUR incl. tax + 1.50 EUR booking fee" in text, text
    assert t["barcode"] in text
    orders = expect(c.tickettailor("GET", "/v1/orders", query={"limit": "3"}), 200)["data"]
    for o in orders:
        for it in o["issued_tickets"]:
            if it["status"] == "valid":
                assert it["barcode_url"].endswith(".svg") and it["qr_code_url"] == it["barcode_url"], it
            else:
                assert it["barcode_url"] is None and it["qr_code_url"] is None, it
    # voided: the image and the PDF are gone, and the list shows no link
    expect(c.tickettailor("POST", "/v1/issued_tickets/%s/void" % t["id"]), 200)
    assert download(t["qr_code_url"])[0] == 404
    assert download(t["qr_code_url"][:-4] + ".pdf")[0] == 404
    assert expect(c.tickettailor("GET", "/v1/issued_tickets/" + t["id"]), 200)["barcode_url"] is None


def test_convious_ticket_download_url(c):
    tools()
    cart = expect(c.convious("POST", "/api/v1/accounts/demo/carts/", {"items": [{"productId": GUIDE, "amount": 2}]}),
                  200)
    order = expect(c.convious("POST", "/api/v1/accounts/demo/bookings/", {"cartId": cart["id"]}), 200)
    url = order["ticketDownloadUrl"]
    assert url.startswith(c.base + "/orders/") and url.endswith(".pdf"), url
    got = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"], query={"include": "items.barcode"}), 200)
    assert got["ticketDownloadUrl"] == url
    pdf = pdf_of(url)
    assert len(pdf_text(pdf)) == 2
    assert sorted(qr_codes(pdf)) == sorted(i["barcode"]["barcode"] for i in got["items"])


def test_voided_ticket_and_cancelled_order(c):
    order = book(c, [(GUIDE, 3)], {"name": "Void Test"})
    voided = order["tickets"][0]
    assert download(voided["download_url"])[0] == 200
    after = expect(c.admin("POST", "/tickets/%s/void" % voided["id"]), 200)
    assert after["download_url"] is None
    assert download(voided["download_url"])[0] == 404
    if shutil.which("pdftotext"):
        assert len(pdf_text(pdf_of(order["download_url"]))) == 2  # the live ones only
    cancelled = expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {}), 200)
    assert cancelled["download_url"] is None and all(t["download_url"] is None for t in cancelled["tickets"])
    assert download(order["download_url"])[0] == 404
    assert download(order["tickets"][1]["download_url"])[0] == 404


def bad_tokens(ticket_url, order_url):
    base, token = ticket_url.rsplit("/tickets/", 1)
    token = token[:-4]
    order_token = order_url.rsplit("/", 1)[1][:-4]
    flipped = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    last = token[:-1] + ("A" if token[-1] != "A" else "B")
    return base, [
        "/tickets/%s.pdf" % flipped,            # tampered in the ids
        "/tickets/%s.pdf" % last,               # tampered in the MAC
        "/tickets/%s.pdf" % token[:-1],         # truncated
        "/tickets/%s.pdf" % token[:40],
        "/tickets/%sA.pdf" % token,             # extended
        "/tickets/%s.pdf" % ("A" * len(token)),  # garbage of the right length
        "/tickets/garbage.pdf",
        "/tickets/.pdf",
        "/tickets/%s" % token,                  # no extension
        "/tickets/%s.png" % token,              # unknown extension
        "/tickets/%s.pdf" % order_token,        # an order's token for a ticket
        "/orders/%s.pdf" % token,               # a ticket's token for an order
        "/orders/%s.svg" % order_token,
        "/tickets/%s.pdf" % ("x" * 5000),
        "/tickets/%25ff%25fe.pdf",
        "/tickets/%s%%2e%%2e.pdf" % token,
        "/orders/",
        "/tickets/%s.pdf/extra" % token,
    ]


def test_bad_tokens_are_404(c, museum):
    base, paths = bad_tokens(museum["tickets"][0]["download_url"], museum["download_url"])
    assert download(museum["tickets"][0]["download_url"])[0] == 200
    for path in paths:
        status, headers, body = download(base + path)
        assert status == 404, (path, status, body[:200])
        assert b"%PDF" not in body and b"<svg" not in body, path


def test_another_accounts_order(c, museum):
    token = "adm_" + uuid.uuid4().hex
    slug = "et-b-" + uuid.uuid4().hex[:8]
    create_account(slug, "Teatr Wielki — Θέατρο", "Europe/Warsaw", "PLN", token)
    pid = str(uuid.uuid4())
    expect(c.admin("POST", "/products", {"id": pid, "name": {"en": "Balcony"}, "price": 5000}, token=token), 201)
    theirs = book(c, [(pid, 1)], {"name": "Ewa"}, token=token)
    text = pdf_text(pdf_of(theirs["download_url"]))[0] if shutil.which("pdftotext") else None
    if text is not None:
        assert "Teatr Wielki — Θέατρο" in text and "Price: 50.00 PLN incl. tax" in text, text
    # the account is inside the MAC: B's account bytes with A's object (or the
    # reverse) are refused, as is any mix of the two tokens
    mine = museum["download_url"].rsplit("/", 1)[1][:-4]
    other = theirs["download_url"].rsplit("/", 1)[1][:-4]
    base = museum["download_url"].rsplit("/orders/", 1)[0]
    for mixed in (other[:23] + mine[23:], mine[:23] + other[23:], other[:44] + mine[44:], mine[:44] + other[44:]):
        assert download(base + "/orders/%s.pdf" % mixed)[0] == 404, mixed
    # and B's admin does not see A's order, nor A's its
    assert c.admin("GET", "/orders/" + museum["id"], token=token).status == 404
    assert c.admin("GET", "/orders/" + theirs["id"]).status == 404
