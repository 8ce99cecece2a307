"""Custom questions (docs/MODEL.md, "Custom questions"): the catalog kind
`question` on /admin/v1, answers given when booking at the box office (checked
against the typed questions before anything is written), and Ticket Tailor's
`buyer_details.custom_questions` and issued tickets' `custom_questions`.

Every question here names products of its own test, so the required ones ask
nothing of the other tests' bookings."""
import datetime

import pytest

from harness import admin_error, expect, unique


def product(c, price=1000):
    pool = expect(c.admin("POST", "/pools", {"name": unique("pool"), "capacity": 5000, "per": "total"}), 201)
    return expect(c.admin("POST", "/products", {
        "name": {"en": unique("Q")}, "price": price, "pools": [{"pool_id": pool["id"], "amount": 1}]}), 201)


def question(c, **fields):
    return expect(c.admin("POST", "/questions", fields), 201)


def cart(c, items):
    return expect(c.admin("POST", "/carts", {"items": [{"product_id": p, "quantity": q} for p, q in items]}), 201)


def book(c, the_cart, answers, **body):
    return c.admin("POST", "/orders", dict({"cart_id": the_cart["id"], "answers": answers}, **body))


@pytest.fixture
def setup(c):
    """Two products; a required order question (email) and a required ticket
    question (select) asked for the first product only; an optional checkbox."""
    a, b = product(c), product(c, 2000)
    email = question(c, label={"en": "Contact e-mail", "nl": "Contact e-mail"}, type="email", required=True,
                     scope="order", product_ids=[a["id"], b["id"]])
    diet = question(c, label="Diet", type="select", options=["none", "vegan", "halal"], required=True, scope="ticket",
                    product_ids=[a["id"]])
    news = question(c, label="Newsletter", type="checkbox", scope="order", product_ids=[a["id"]])
    yield {"a": a, "b": b, "email": email, "diet": diet, "news": news}
    for q in (email, diet, news):
        c.admin("DELETE", "/questions/" + q["id"])


def good_answers(s, tickets_of_a=2):
    return [{"question_id": s["email"]["id"], "answer": "ann@example.com"},
            {"question_id": s["news"]["id"], "answer": True}] + [
        {"question_id": s["diet"]["id"], "ticket_index": i, "answer": ["vegan", "none", "halal"][i % 3]}
        for i in range(tickets_of_a)]


# ---- the catalog kind ----

def test_question_documented_example_and_crud(c):
    p = product(c)
    q = question(c, label={"en": "T-shirt size"}, type="select", options=["S", "M", "L"], required=False,
                 scope="ticket", product_ids=[p["id"]])
    assert q["label"] == {"en": "T-shirt size"} and q["options"] == ["S", "M", "L"] and q["id"]
    assert expect(c.admin("GET", "/questions/" + q["id"]), 200) == q
    assert q["id"] in [x["id"] for x in expect(c.admin("GET", "/questions"), 200)["data"]]
    q2 = expect(c.admin("PATCH", "/questions/" + q["id"], {"options": ["S", "M", "L", "XL"]}), 200)
    assert q2["options"] == ["S", "M", "L", "XL"]
    # a plain-text label becomes a translation map
    q3 = question(c, label="Phone", type="phone", scope="order", product_ids=[p["id"]])
    assert q3["label"] == {"en": "Phone"}
    for x in (q, q3):
        expect(c.admin("DELETE", "/questions/" + x["id"]), 204)
    admin_error(c.admin("GET", "/questions/" + q["id"]), 404, "not_found", None)


@pytest.mark.parametrize("body, code, field", [
    ({"type": "text"}, "missing_field", "label"),
    ({"label": "x"}, "missing_field", "type"),
    ({"label": "x", "type": "colour"}, "invalid_field", "type"),
    ({"label": "", "type": "text"}, "invalid_field", "label"),
    ({"label": {}, "type": "text"}, "invalid_field", "label"),
    ({"label": "x", "type": "select"}, "missing_field", "options"),
    ({"label": "x", "type": "select", "options": []}, "missing_field", "options"),
    ({"label": "x", "type": "select", "options": ["a", "a"]}, "invalid_field", "options"),
    ({"label": "x", "type": "select", "options": ["a", 1]}, "invalid_field", "options"),
    ({"label": "x", "type": "select", "options": [""]}, "invalid_field", "options"),
    ({"label": "x", "type": "select", "options": ["o%d" % i for i in range(101)]}, "invalid_field", "options"),
    ({"label": "x", "type": "select", "options": "a,b"}, "invalid_field", "options"),
    ({"label": "x", "type": "text", "options": ["a"]}, "invalid_field", "options"),
    ({"label": "x", "type": "text", "scope": "line"}, "invalid_field", "scope"),
    ({"label": "x", "type": "text", "required": "yes"}, "invalid_field", "required"),
    ({"label": "x", "type": "text", "product_ids": ["no-such-product"]}, "unknown_reference", "product_ids"),
    ({"label": "x", "type": "text", "product_ids": "p1"}, "invalid_field", "product_ids"),
    ({"label": "x", "type": "text", "colour": "red"}, "unknown_field", "colour"),
])
def test_question_document_errors(c, body, code, field):
    admin_error(c.admin("POST", "/questions", body), 400, code, field)


# ---- answering when booking ----

def test_answers_are_stored_on_the_order_and_its_tickets(c, setup):
    s = setup
    the_cart = cart(c, [(s["a"]["id"], 2), (s["b"]["id"], 1)])
    order = expect(book(c, the_cart, good_answers(s), customer={"email": "ann@example.com", "name": "Ann"}), 201)
    assert [(x["question_id"], x["label"], x["type"], x["answer"]) for x in order["answers"]] == [
        (s["email"]["id"], {"en": "Contact e-mail", "nl": "Contact e-mail"}, "email", "ann@example.com"),
        (s["news"]["id"], {"en": "Newsletter"}, "checkbox", "true")]
    a_tickets = [t for t in order["tickets"] if t["product_id"] == s["a"]["id"]]
    b_tickets = [t for t in order["tickets"] if t["product_id"] == s["b"]["id"]]
    assert sorted(t["answers"][0]["answer"] for t in a_tickets) == ["none", "vegan"]
    assert all(len(t["answers"]) == 1 and t["answers"][0]["question_id"] == s["diet"]["id"] for t in a_tickets)
    assert [t["answers"] for t in b_tickets] == [[]]
    # read back the same
    assert expect(c.admin("GET", "/orders/" + order["id"]), 200)["answers"] == order["answers"]
    got = expect(c.admin("GET", "/tickets/" + a_tickets[0]["id"]), 200)
    assert got["answers"] == a_tickets[0]["answers"]

    # Ticket Tailor: {question, answer} in the label's English text
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + order["id"]), 200)
    assert tt["buyer_details"]["custom_questions"] == [
        {"question": "Contact e-mail", "answer": "ann@example.com"}, {"question": "Newsletter", "answer": "true"}]
    by_type = {}
    for it in tt["issued_tickets"]:
        by_type.setdefault(it["ticket_type_id"], []).append(it["custom_questions"])
    assert sorted(x[0]["answer"] for x in by_type["tt_" + s["a"]["id"]]) == ["none", "vegan"]
    assert all(x[0]["question"] == "Diet" for x in by_type["tt_" + s["a"]["id"]])
    assert by_type["tt_" + s["b"]["id"]] == [[]]
    one = expect(c.tickettailor("GET", "/v1/issued_tickets/it_" + a_tickets[0]["id"]), 200)
    assert one["custom_questions"] == [{"question": "Diet", "answer": a_tickets[0]["answers"][0]["answer"]}]


def test_an_order_without_questions_answers_empty(c):
    p = product(c)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart(c, [(p["id"], 1)])["id"]}), 201)
    assert order["answers"] == [] and order["tickets"][0]["answers"] == []
    tt = expect(c.tickettailor("GET", "/v1/orders/or_" + order["id"]), 200)
    assert tt["buyer_details"]["custom_questions"] == [] and tt["issued_tickets"][0]["custom_questions"] == []


def test_optional_questions_may_go_unanswered_and_questions_follow_products(c, setup):
    s = setup
    # product b alone: only the e-mail question is asked
    order = expect(book(c, cart(c, [(s["b"]["id"], 2)]), [{"question_id": s["email"]["id"], "answer": "b@x.org"}]),
                   201)
    assert [x["answer"] for x in order["answers"]] == ["b@x.org"]


def answer_types_setup(c):
    p = product(c)
    kinds = {}
    for t in ("text", "textarea", "email", "phone", "date", "number", "checkbox"):
        kinds[t] = question(c, label=t, type=t, scope="order", product_ids=[p["id"]])
    kinds["agree"] = question(c, label="I agree", type="checkbox", required=True, scope="order",
                              product_ids=[p["id"]])
    return p, kinds


def test_each_answer_type_checked(c):
    p, kinds = answer_types_setup(c)
    good = {"text": "Hello", "textarea": "line one\nline two", "email": "a.b@example.co.uk", "phone": "+31 (20) 123-4567",
            "date": "2026-02-28", "number": "-12.50", "checkbox": False, "agree": True}
    bad = {"text": "two\nlines", "textarea": "x" * 2001, "email": "not an email", "phone": "call me",
           "date": "2026-02-30", "number": "12,5", "checkbox": "maybe", "agree": False}
    the_cart = cart(c, [(p["id"], 1)])
    try:
        for kind, value in bad.items():
            answers = [{"question_id": kinds[k]["id"], "answer": v} for k, v in good.items() if k != kind]
            answers.append({"question_id": kinds[kind]["id"], "answer": value})
            admin_error(book(c, the_cart, answers), 400, "invalid_answer", "answers[%d].answer" % (len(answers) - 1))
        answers = [{"question_id": kinds[k]["id"], "answer": v} for k, v in good.items()]
        order = expect(book(c, the_cart, answers), 201)
        got = {x["question_id"]: x["answer"] for x in order["answers"]}
        assert got[kinds["checkbox"]["id"]] == "false" and got[kinds["agree"]["id"]] == "true"
        assert got[kinds["textarea"]["id"]] == "line one\nline two"
    finally:
        for q in kinds.values():
            c.admin("DELETE", "/questions/" + q["id"])


def test_refused_answers_write_nothing(c, setup):
    """Every refusal below leaves the cart open and sells nothing: the same cart
    books afterwards as a new order (201, not the 200 of a booked cart)."""
    s = setup
    the_cart = cart(c, [(s["a"]["id"], 2), (s["b"]["id"], 1)])
    ok = good_answers(s)
    email, diet, news = s["email"]["id"], s["diet"]["id"], s["news"]["id"]
    cases = [
        (ok[:-1], 400, "missing_answer", "answers"),  # ticket 1 has no diet
        (ok[1:], 400, "missing_answer", "answers"),   # no e-mail
        ([dict(ok[0], answer="")] + ok[1:], 400, "missing_answer", "answers"),
        (ok + [{"question_id": "no-such-question", "answer": "x"}], 400, "unknown_question",
         "answers[4].question_id"),
        (ok + [{"question_id": s["a"]["id"], "answer": "x"}], 400, "unknown_question", "answers[4].question_id"),
        (ok + [dict(ok[2])], 400, "duplicate_answer", "answers[4].question_id"),
        (ok[:2] + [{"question_id": diet, "ticket_index": 0, "answer": "kosher"}] + ok[3:], 400, "invalid_answer",
         "answers[2].answer"),
        (ok[:2] + [{"question_id": diet, "answer": "vegan"}] + ok[3:], 400, "missing_field",
         "answers[2].ticket_index"),
        (ok + [{"question_id": diet, "ticket_index": 2, "answer": "vegan"}], 400, "question_not_asked",
         "answers[4].question_id"),  # ticket 2 is product b
        (ok + [{"question_id": diet, "ticket_index": 3, "answer": "vegan"}], 400, "invalid_field",
         "answers[4].ticket_index"),
        ([dict(ok[0], ticket_index=0)] + ok[1:], 400, "invalid_field", "answers[0].ticket_index"),
        ([{"question_id": email, "answer": 5}] + ok[1:], 400, "invalid_field", "answers[0].answer"),
        ([{"question_id": email}] + ok[1:], 400, "missing_field", "answers[0].answer"),
        ([{"question_id": email, "answer": None}] + ok[1:], 400, "missing_field", "answers[0].answer"),
        ([{"answer": "x"}] + ok[1:], 400, "missing_field", "answers[0].question_id"),
        ([{"question_id": 7, "answer": "x"}] + ok[1:], 400, "invalid_field", "answers[0].question_id"),
        ([dict(ok[0], colour="red")] + ok[1:], 400, "unknown_field", "answers[0].colour"),
        ([dict(ok[2], ticket_index=-1)] + ok[:2] + ok[3:], 400, "invalid_field", "answers[0].ticket_index"),
        ([dict(ok[2], ticket_index="0")] + ok[:2] + ok[3:], 400, "invalid_field", "answers[0].ticket_index"),
        (["x"] + ok, 400, "invalid_field", "answers"),
        ({"question_id": email}, 400, "invalid_field", "answers"),
        ([{"question_id": news, "answer": "yes"}] + ok[:1] + ok[2:], 400, "invalid_answer", "answers[0].answer"),
        ([dict(ok[0], answer="a@b.c\u0007")] + ok[1:], 400, "invalid_answer", "answers[0].answer"),
        ([dict(ok[0], answer="x" * 501)] + ok[1:], 400, "invalid_answer", "answers[0].answer"),
        ([dict(ok[0], question_id="q" * 65)] + ok[1:], 400, "invalid_field", "answers[0].question_id"),
        (ok * 300, 400, "invalid_field", "answers"),  # over 1000 answers
    ]
    for answers, status, code, field in cases:
        admin_error(book(c, the_cart, answers), status, code, field)
    assert expect(book(c, the_cart, ok), 201)["quantity"] == 3


def test_a_question_deleted_is_no_longer_asked(c):
    p = product(c)
    q = question(c, label="Must", type="text", required=True, scope="order", product_ids=[p["id"]])
    the_cart = cart(c, [(p["id"], 1)])
    admin_error(book(c, the_cart, []), 400, "missing_answer", "answers")
    expect(c.admin("DELETE", "/questions/" + q["id"]), 204)
    order = expect(book(c, the_cart, []), 201)
    assert order["answers"] == []


def test_answers_with_a_discount_and_voucher_together(c, setup):
    """Per-ticket documents with answers keep the ticket's price and fee shares."""
    s = setup
    d = expect(c.admin("POST", "/discounts", {"code": unique("QD").upper(), "type": "percentage", "percent_bp": 3333}),
               201)
    order = expect(book(c, cart(c, [(s["a"]["id"], 3)]), good_answers(s, 3), discount_code=d["code"],
                        payment={"provider": "cash"}), 201)
    assert sorted(t["discount"] for t in order["tickets"]) == [333, 333, 334]
    assert sorted(t["answers"][0]["answer"] for t in order["tickets"]) == ["halal", "none", "vegan"]
    assert sum(t["discounted_gross"] for t in order["tickets"]) == order["total_after_discount_gross"] == 2000


def test_a_channel_without_answers_books_without_them(c):
    """Convious' booking has no field for answers (docs/MODEL.md, "Custom questions"): a required question
    does not stop it, while the box office, which can answer, must."""
    adult, museum = "d0000000-0000-4000-8000-000000000005", "d0000000-0000-4000-8000-000000000003"
    q = question(c, label="Required here", type="text", required=True, scope="ticket", product_ids=[adult])
    try:
        visit = (datetime.date.today() + datetime.timedelta(days=9)).isoformat()
        body = {"categoryId": museum, "eventDate": visit, "startTime": "11:00:00",
                "items": [{"productId": adult, "amount": 1}]}
        cv_cart = expect(c.convious("POST", "/api/v1/accounts/demo/carts/", body), 200)
        order = expect(c.convious("POST", "/api/v1/accounts/demo/bookings/", {"cartId": cv_cart["id"]}), 200)
        assert order["status"] == "confirmed"
        admin_cart = expect(c.admin("POST", "/carts", {"items": [{"product_id": adult, "quantity": 1}],
                                                       "date": visit, "start_time": "11:00"}), 201)
        admin_error(book(c, admin_cart, []), 400, "missing_answer", "answers")
        admin_error(c.admin("POST", "/orders", {"cart_id": admin_cart["id"]}), 400, "missing_answer", "answers")
    finally:
        c.admin("DELETE", "/questions/" + q["id"])
