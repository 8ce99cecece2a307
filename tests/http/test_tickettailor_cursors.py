"""Ticket Tailor cursors: a list resumed after an object deleted since
continues from its place; an id that never existed is one 422 naming the
parameter, on every list. And the voucher list's created_at ranges."""
import uuid

from harness import expect


def cursor_refused(resp, param):
    assert resp.status == 422, resp
    body = resp.json
    assert body["status"] == 422 and body["error_code"] == "Validation error", body
    assert body["errors"][0]["field"] == param, body
    return body


def all_ids(c, path):
    """Every id of a list, newest first, following its next links."""
    ids, query = [], {"limit": "100"}
    while True:
        page = expect(c.tickettailor("GET", path, query=query), 200)
        ids += [x["id"] for x in page["data"]]
        if not page["links"]["next"]:
            return ids
        query = {"limit": "100", "starting_after": ids[-1]}


def make_discount(c):
    code = "CUR-" + uuid.uuid4().hex[:8]
    return expect(c.tickettailor("POST", "/v1/discounts", json_body={"code": code, "name": code,
                                                                     "type": "fixed_amount", "price": 100}), 201)["id"]


def make_voucher(c):
    return expect(c.tickettailor("POST", "/v1/vouchers", json_body={"name": "Cursor " + uuid.uuid4().hex[:6],
                                                                    "value": 100, "expiry": None,
                                                                    "codes": []}), 201)["id"]


def resume_after_delete(c, path, make):
    mine = [make(c) for _ in range(5)]
    before = all_ids(c, path)
    # the middle one of ours, with neighbours on both sides in the list
    gone = sorted(mine, key=before.index)[2]
    at = before.index(gone)
    expect(c.tickettailor("DELETE", path + "/" + gone), 200)
    after = expect(c.tickettailor("GET", path, query={"starting_after": gone, "limit": "2"}), 200)
    assert [x["id"] for x in after["data"]] == before[at + 1:at + 3], (after, before, at)
    earlier = expect(c.tickettailor("GET", path, query={"ending_before": gone, "limit": "2"}), 200)
    assert [x["id"] for x in earlier["data"]] == before[max(at - 2, 0):at], (earlier, before, at)
    assert gone not in [x["id"] for x in after["data"] + earlier["data"]]
    # the resumed import misses nothing and sees nothing twice
    rest = all_ids(c, path)
    assert rest == [i for i in before if i != gone]
    for m in mine:
        if m != gone:
            expect(c.tickettailor("DELETE", path + "/" + m), 200)


def test_discount_list_resumes_after_a_deleted_discount(c):
    resume_after_delete(c, "/v1/discounts", make_discount)


def test_voucher_list_resumes_after_a_deleted_voucher(c):
    resume_after_delete(c, "/v1/vouchers", make_voucher)


def test_a_cursor_that_never_existed_is_one_422_on_every_list(c):
    for path, prefix in [("/v1/discounts", "di_"), ("/v1/vouchers", "vo_"), ("/v1/orders", "or_"),
                         ("/v1/issued_tickets", "it_")]:
        never = prefix + "never-" + uuid.uuid4().hex[:8]
        for param in ("starting_after", "ending_before"):
            cursor_refused(c.tickettailor("GET", path, query={param: never}), param)


def test_a_deleted_discount_is_not_a_cursor_for_vouchers(c):
    gone = make_discount(c)
    expect(c.tickettailor("DELETE", "/v1/discounts/" + gone), 200)
    cursor_refused(c.tickettailor("GET", "/v1/vouchers", query={"starting_after": "vo_" + gone[3:]}),
                   "starting_after")


def test_voucher_list_applies_created_at_ranges(c):
    v = make_voucher(c)
    far = "9999999999"

    def listed(query):
        return v in [x["id"] for x in expect(c.tickettailor("GET", "/v1/vouchers", query=query), 200)["data"]]

    assert listed({"created_at.lt": far}) and listed({"created_at.gte": "0"})
    assert not listed({"created_at.gt": far}) and not listed({"created_at.lte": "0"})
    assert not listed({"created_at": "1"})
    assert listed({"created_at.gt": "0", "created_at.lt": far})
    expect(c.tickettailor("DELETE", "/v1/vouchers/" + v), 200)
