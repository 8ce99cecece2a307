"""CM.com Ticketing Shop: GET /events/{uuid}/codes/{code} (docs/dialects/cm.md):
base64 variants, discount and voucher objects, errors, access keys, tenancy."""
import base64
import urllib.parse

import pytest

from harness import expect
from cm_shop import CONCERT, STANDARD, VIP, cm, cm_error, make_event, second_account, tag


def b64(text, urlsafe=False, pad=True):
    enc = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(text.encode()).decode()
    return enc if pad else enc.rstrip("=")


def code_path(event, encoded):
    return "/events/%s/codes/%s" % (event, urllib.parse.quote(encoded, safe=""))


def discount(c, **doc):
    code = doc.pop("code", "D" + tag().upper())
    return expect(c.admin("POST", "/discounts", dict({"code": code}, **doc)), 201)


def voucher(c, value=4200, expiry="2000000000"):
    code = "V-" + tag()
    made = expect(c.tickettailor("POST", "/v1/vouchers", form={"name": "Card", "value": str(value), "expiry": expiry,
                                                                "codes[]": code}), 201)
    return code, made


def test_the_doc_example_encoding(c):
    d = discount(c, code="DISCOUNT123-" + tag(), type="fixed", amount=200, product_ids=[STANDARD], max_redemptions=100)
    assert base64.b64encode(b"DISCOUNT123") == b"RElTQ09VTlQxMjM="  # the doc's example
    body = expect(cm(c, "GET", code_path(CONCERT, b64(d["code"]))), 200)
    assert set(body) == {"discount_code", "voucher_code"} and body["voucher_code"] is None
    dc = body["discount_code"]
    assert set(dc) == {"code", "external_code", "fixed_balance", "percentage", "capacity", "stock",
                       "discount_type_id", "description", "ticket_types"}
    assert dc["code"] == d["code"] and dc["discount_type_id"] == "DISCOUNT_TICKET_TYPE"
    assert dc["fixed_balance"] == 2 and dc["percentage"] == 0 and dc["capacity"] == 100 and dc["stock"] == 100
    assert dc["ticket_types"] == [{"uuid": STANDARD, "max_order_amount": None, "fixed_balance": 2}]
    assert set(dc["description"]) == {"nl", "en", "fr", "de"}


@pytest.mark.parametrize("text", ["A", "AB", "ABC", "ABCD", "??>", "???", "Ünï-çødé", "a b+c/d"])
@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("pad", [False, True])
def test_base64_variants(c, text, urlsafe, pad):
    code = "%s-%s" % (text, tag())
    discount(c, code=code, type="percentage", percent_bp=1000)
    body = expect(cm(c, "GET", code_path(CONCERT, b64(code, urlsafe, pad))), 200)
    assert body["discount_code"]["code"] == code


def test_slash_sent_raw_or_as_2F(c):
    code = "???" + tag()[:3]  # base64 "Pz8/..." has a slash
    discount(c, code=code, type="percentage", percent_bp=1000)
    enc = b64(code)
    assert "/" in enc
    for path in ("/events/%s/codes/%s" % (CONCERT, enc), "/events/%s/codes/%s" % (CONCERT, enc.replace("/", "%2F"))):
        assert expect(cm(c, "GET", path), 200)["discount_code"]["code"] == code


@pytest.mark.parametrize("encoded", ["!!!!", "A", "QQ===", "QQ=", "Q=Q=", "RElT-Q09V/TlQx", "AA==", "fw==",
                                     "//8=", "QUJD\tREVG", b64("x" * 73)])
def test_bad_base64_is_400(c, encoded):
    r = cm(c, "GET", "/events/%s/codes/%s" % (CONCERT, encoded.replace("\t", "%09")))
    cm_error(r, 400, "CODE_INVALID", "code")


def test_nul_in_the_path_is_400(c):
    # the router refuses a NUL anywhere in a path, before the handler (every dialect)
    cm_error(cm(c, "GET", "/events/%s/codes/QUJD%%00" % CONCERT), 400, "INVALID_ENCODING")


def test_unknown_code_is_404(c):
    cm_error(cm(c, "GET", code_path(CONCERT, b64("NO-SUCH-" + tag()))), 404, "CODE_NOT_FOUND", "code")


def test_discount_kinds(c):
    # a percentage off the whole order
    d = discount(c, type="percentage", percent_bp=1250)
    dc = expect(cm(c, "GET", code_path(CONCERT, b64(d["code"]))), 200)["discount_code"]
    assert dc["discount_type_id"] == "DISCOUNT_ORDER" and dc["percentage"] == 12.5 and dc["ticket_types"] == []
    assert dc["capacity"] is None and dc["stock"] is None and dc["fixed_balance"] == 0
    # a fixed amount off every ticket: every ticket type of the event is listed
    d = discount(c, type="fixed", amount=150, name="Early bird")
    dc = expect(cm(c, "GET", code_path(CONCERT, b64(d["code"]))), 200)["discount_code"]
    assert dc["discount_type_id"] == "DISCOUNT_TICKET_TYPE" and dc["fixed_balance"] == 1.5
    assert sorted(t["uuid"] for t in dc["ticket_types"]) == sorted([STANDARD, VIP])
    assert dc["description"] == {"nl": "Early bird", "en": "Early bird", "fr": "Early bird", "de": "Early bird"}
    # a percentage on some ticket types only
    d = discount(c, type="percentage", percent_bp=500, product_ids=[VIP])
    dc = expect(cm(c, "GET", code_path(CONCERT, b64(d["code"]))), 200)["discount_code"]
    assert dc["discount_type_id"] == "DISCOUNT_TICKET_TYPE" and dc["percentage"] == 5
    assert dc["ticket_types"] == [{"uuid": VIP, "max_order_amount": None, "fixed_balance": 0}]


def test_discount_of_another_event_is_404(c):
    ev, product, _ = make_event(c)
    d = discount(c, type="fixed", amount=100, product_ids=[product["id"]])
    cm_error(cm(c, "GET", code_path(CONCERT, b64(d["code"]))), 404, "CODE_NOT_FOUND", "code")
    dc = expect(cm(c, "GET", code_path(ev["id"], b64(d["code"]))), 200)["discount_code"]
    assert dc["ticket_types"] == [{"uuid": product["id"], "max_order_amount": 10, "fixed_balance": 1}]


def test_stock_counts_redemptions(c):
    ev, product, occ = make_event(c, capacity=20)
    d = discount(c, type="fixed", amount=100, product_ids=[product["id"]], max_redemptions=3)
    for _ in range(2):
        cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": product["id"], "quantity": 1}],
                                                 "occurrence_id": occ}), 201)
        expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "discount_code": d["code"],
                                           "payment": {"provider": "cash"}}), 201)
    dc = expect(cm(c, "GET", code_path(ev["id"], b64(d["code"]))), 200)["discount_code"]
    assert dc["capacity"] == 3 and dc["stock"] == 1


def test_expired_discount_is_400(c):
    d = discount(c, type="fixed", amount=100, expires_at="2001-01-01T00:00:00Z")
    cm_error(cm(c, "GET", code_path(CONCERT, b64(d["code"]))), 400, "CODE_EXPIRED", "code")


def test_voucher_code(c):
    code, _ = voucher(c, value=4200)
    body = expect(cm(c, "GET", code_path(CONCERT, b64(code))), 200)
    assert body["discount_code"] is None
    assert body["voucher_code"] == {"code": code, "external_code": None, "balance": 42}
    # spending part of it shows what is left
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": STANDARD, "quantity": 1}],
                                             "occurrence_id": "oc_concert_main"}), 201)
    expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "voucher_code": code}), 201)
    body = expect(cm(c, "GET", code_path(CONCERT, b64(code))), 200)
    assert body["voucher_code"]["balance"] == 5.5, body  # 42.00 - (35.00 + 1.50)


def test_expired_voucher_is_400(c):
    code, _ = voucher(c, expiry="1000000000")
    cm_error(cm(c, "GET", code_path(CONCERT, b64(code))), 400, "CODE_EXPIRED", "code")


def test_codes_need_the_access_key(c):
    ev, product, _ = make_event(c)
    d = discount(c, type="percentage", percent_bp=1000)
    expect(c.admin("POST", "/events/%s/access_keys" % ev["id"], {"key": "KEY123"}), 201)
    cm_error(cm(c, "GET", code_path(ev["id"], b64(d["code"]))), 400, "ACCESS_KEY_INVALID", "key")
    cm_error(cm(c, "GET", code_path(ev["id"], "!!")), 400, "ACCESS_KEY_INVALID", "key")
    expect(cm(c, "GET", code_path(ev["id"], b64(d["code"])), query={"key": "KEY123"}), 200)


def test_codes_across_accounts(c):
    d = discount(c, type="percentage", percent_bp=1000)
    code, _ = voucher(c)
    b_admin, b_token = second_account(c)
    cm_error(cm(c, "GET", code_path(CONCERT, b64(d["code"])), token=b_token), 404, "EVENT_NOT_FOUND", "event_uuid")
    ev, _, _ = make_event(c, token=b_admin)
    cm_error(cm(c, "GET", code_path(ev["id"], b64(d["code"])), token=b_token), 404, "CODE_NOT_FOUND", "code")
    cm_error(cm(c, "GET", code_path(ev["id"], b64(code)), token=b_token), 404, "CODE_NOT_FOUND", "code")
    cm_error(cm(c, "GET", code_path(CONCERT, b64(d["code"])), token=None), 401, "UNAUTHORIZED")
