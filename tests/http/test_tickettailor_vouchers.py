"""Ticket Tailor vouchers and codes: CRUD, and value and expiry enforced when
a code pays for an order."""
import time
import uuid

from harness import expect

GUIDE = "d0000000-0000-4000-8000-000000000007"


def tt_error(resp, status, field=None):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    assert resp.json["status"] == status, resp
    if field:
        assert resp.json["errors"][0]["field"] == field, resp
    return resp.json


def pay_with(c, code):
    cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": GUIDE, "quantity": 2}]}), 201)
    return c.admin("POST", "/orders", {"cart_id": cart["id"], "voucher_code": code, "payment": {"provider": "cash"}})


def test_voucher_lifecycle(c):
    tag = uuid.uuid4().hex[:6]
    codes = ["GIFT-A-" + tag, "GIFT-B-" + tag]
    expiry = int(time.time()) + 86400 * 60
    v = expect(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "Gift card", "value": 600, "expiry": expiry,
                                                                "codes": codes, "event_series_ids": []}), 201)
    assert v["object"] == "voucher" and v["id"].startswith("vo_") and v["value"] == 600
    assert v["total_codes"] == 2 and v["available_codes"] == 2 and v["expiry"]["unix"] == expiry
    listed = expect(c.tickettailor("GET", "/v1/vouchers"), 200)
    assert v["id"] in [x["id"] for x in listed["data"]]
    on_day = expect(c.tickettailor("GET", "/v1/vouchers", query={"expiry_date": str(expiry)}), 200)["data"]
    assert [x["id"] for x in on_day] == [v["id"]], on_day
    later = expect(c.tickettailor("GET", "/v1/vouchers", query={"expiry_date.gt": str(expiry)}), 200)["data"]
    assert v["id"] not in [x["id"] for x in later]
    tt_error(c.tickettailor("GET", "/v1/vouchers", query={"expiry_date.lte": "soon"}), 400)
    order = expect(pay_with(c, codes[0]), 201)
    voucher_payments = [p for p in order["payments"] if p["provider"] == "voucher"]
    assert voucher_payments[0]["amount"] == 600 and order["payments"][-1]["amount"] == 300, order["payments"]
    got = expect(c.tickettailor("GET", "/v1/vouchers/" + v["id"] + "/codes"), 200)["data"]
    a = next(x for x in got if x["code"] == codes[0])
    assert a["object"] == "voucher_code" and a["value"] == 0 and a["used"] is not None and a["voucher_id"] == v["id"]
    r = pay_with(c, codes[0])
    assert r.status == 400 and r.json["error"]["code"] == "invalid_voucher", r
    b = next(x for x in got if x["code"] == codes[1])
    expect(c.tickettailor("POST", "/v1/vouchers/%s/codes/%s/void" % (v["id"], b["id"])), 200)
    assert pay_with(c, codes[1]).status == 400
    tt_error(c.tickettailor("POST", "/v1/vouchers/%s/codes/%s/void" % (v["id"], b["id"])), 404)
    assert expect(c.tickettailor("GET", "/v1/vouchers/" + v["id"]), 200)["available_codes"] == 0
    upd = expect(c.tickettailor("POST", "/v1/vouchers/" + v["id"], json_body={"name": "Renamed card"}), 200)
    assert upd["name"] == "Renamed card" and upd["value"] == 600
    expect(c.tickettailor("DELETE", "/v1/vouchers/" + v["id"]), 200)
    tt_error(c.tickettailor("GET", "/v1/vouchers/" + v["id"]), 404)


def test_expired_voucher_refused(c):
    code = "OLD-" + uuid.uuid4().hex[:6]
    v = expect(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "Old", "value": 500,
                                                                "expiry": int(time.time()) - 3600, "codes": [code]}),
               201)
    r = pay_with(c, code)
    assert r.status == 400 and "expired" in r.json["error"]["message"], r
    expect(c.tickettailor("DELETE", "/v1/vouchers/" + v["id"]), 200)


def test_voucher_validation(c):
    tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={"value": 5, "expiry": 1, "codes": []}), 422)
    tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "x", "value": -5, "expiry": 1, "codes": []}), 422)
    tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "x", "value": 5, "expiry": 1, "codes": "A"}), 422)
    tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "x", "value": 5, "expiry": 1, "codes": [""]}), 422)
    dup = "DUP-" + uuid.uuid4().hex[:6]
    v = expect(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "x", "value": 5, "expiry": 2000000000,
                                                                "codes": [dup]}), 201)
    tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "y", "value": 5, "expiry": 2000000000,
                                                               "codes": [dup]}), 422)
    expect(c.tickettailor("DELETE", "/v1/vouchers/" + v["id"]), 200)
    tt_error(c.tickettailor("GET", "/v1/vouchers/vo_nope/codes"), 404)
    tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "x", "value": 5, "codes": []}), 422, "expiry")
    tt_error(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "x", "value": 5, "expiry": 1}), 422, "codes")
    tt_error(c.tickettailor("POST", "/v1/vouchers", form={"name": "x", "value": "5x", "expiry": "1"}), 422, "value")


def test_voucher_from_a_form(c):
    code = "FORM-" + uuid.uuid4().hex[:6]
    v = expect(c.tickettailor("POST", "/v1/vouchers", form={"name": "Form card", "value": "250",
                                                            "expiry": "2000000000", "codes[]": code}), 201)
    assert v["value"] == 250 and v["total_codes"] == 1 and v["expiry"]["unix"] == 2000000000
    expect(c.tickettailor("DELETE", "/v1/vouchers/" + v["id"]), 200)
    v = expect(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "No expiry", "value": "300", "expiry": None,
                                                                "codes": []}), 201)
    assert v["value"] == 300 and v["expiry"] is None
    expect(c.tickettailor("DELETE", "/v1/vouchers/" + v["id"]), 200)
