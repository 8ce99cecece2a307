"""Product options (issue 11): extra priced choices sold with each ticket of a
cart item ("audio guide +2.50"), modelled in the catalog (product `options`),
chosen on Convious and /admin/v1 carts, counted in the order's totals, taxes
and refunds (docs/MODEL.md, "Money") and shown as the Convious doc's
items.options. Every figure is checked exactly, in minor units."""
import datetime
import uuid

import pytest

from harness import expect, admin_error

MUSEUM = "d0000000-0000-4000-8000-000000000003"
ACCOUNT = "/api/v1/accounts/demo"


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def day(n=9):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def cv_error(resp, status, code, field):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    assert resp.json["error"] == code and resp.json.get("field") == field, resp
    return resp.json


def product(c, price=1000, includes_tax=True, options=None, dated=True, **extra):
    """A product of its own pool (no other test's sales count), sold in the museum's slots when dated."""
    pool = expect(c.admin("POST", "/pools", {"name": uniq("pool"), "capacity": 5000, "per": "total"}), 201)
    doc = {"name": {"en": uniq("Options")}, "price": price, "price_includes_tax": includes_tax,
           "taxes": [{"type": "VAT", "rate_bp": 2100, "proportion_bp": 10000}],
           "pools": [{"pool_id": pool["id"], "amount": 1}],
           "options": options if options is not None else [
               {"id": "audio", "name": {"en": "Audio guide", "nl": "Audiotour"}, "price": 250},
               {"id": "book", "name": "Guide book", "price": 999, "taxes": [{"rate_bp": 900}], "max_quantity": 2}]}
    if dated:
        doc["category_ids"] = [MUSEUM]
    doc.update(extra)
    return expect(c.admin("POST", "/products", doc), 201)


def priced_slot(c, product_id, amount, date=None):
    body = {"categoryId": MUSEUM, "products": [{"id": product_id, "amount": amount}]}
    prices = expect(c.convious("POST", ACCOUNT + "/pricing/%s/" % (date or day()), body), 200)["prices"]
    return next(p for p in prices if p["timeFrom"] == "11:00:00")


def cv_cart(c, product_id, amount, options, token=True, date=None):
    body = {"categoryId": MUSEUM, "eventDate": date or day(), "startTime": "11:00:00",
            "items": [{"productId": product_id, "amount": amount, "options": options}]}
    if token:
        body["pricingToken"] = priced_slot(c, product_id, amount, date)["pricingToken"]
    return c.convious("POST", ACCOUNT + "/carts/", body)


def cv_book(c, cart):
    return expect(c.convious("POST", ACCOUNT + "/bookings/", {"cartId": cart["id"]}), 200)


def admin_cart(c, product_id, quantity, options):
    return c.admin("POST", "/carts", {"items": [{"product_id": product_id, "quantity": quantity,
                                                  "options": options}]})


# ---- the documented example: items.options on the order ----

def test_documented_example_on_convious(c):
    p = product(c)
    cart = expect(cv_cart(c, p["id"], 2, [{"optionId": "audio"}, {"optionId": "book", "numberOfItems": 2}]), 200)
    # 2 x (10.00 + 2.50 + 2 x 9.99)
    assert cart["totalPrice"] == cart["total"] == "64.96", cart
    assert cart["items"][0]["price"] == "10.00"
    assert cart["items"][0]["options"] == [{"optionId": "audio", "numberOfItems": 1, "price": "2.50"},
                                           {"optionId": "book", "numberOfItems": 2, "price": "9.99"}]
    order = cv_book(c, cart)
    assert order["totalPriceInclTax"] == "64.96" and order["totalDiscountedPriceInclTax"] == "64.96"
    # net: 10.00 - 1.74 VAT, 2.50 - 0.43 VAT, 19.98 - 1.65 VAT (9%), per ticket
    assert order["totalPriceExclTax"] == "57.32", order
    for item in order["items"]:
        assert item["priceInclTax"] == item["discountedPriceInclTax"] == "32.48"
        assert item["priceExclTax"] == "28.66"
        assert item["discountedPriceWithoutOptionsInclTax"] == "10.00"
        assert item["pricePerItemWithoutOptionsAfterDiscount"] == "10.00"
        assert item["discountedPriceWithoutOptionsExclTax"] == "8.26"
        # the ticket's taxes leave the options out, as the doc says
        assert item["taxes"] == [{"priceProportionPercentage": "100.00", "taxAmount": "1.74", "taxPercentage": "21.00",
                                  "type": "VAT", "taxableAmount": "10.00"}]
        assert item["options"] == [
            {"name": "Audio guide", "numberOfItems": 1, "price": "2.50", "priceInclTax": "2.50",
             "priceExclTax": "2.07", "taxes": [{"priceProportionPercentage": "100.00", "taxAmount": "0.43",
                                                 "taxPercentage": "21.00", "type": "VAT", "taxableAmount": "2.50"}]},
            {"name": "Guide book", "numberOfItems": 2, "price": "19.98", "priceInclTax": "19.98",
             "priceExclTax": "18.33", "taxes": [{"priceProportionPercentage": "100.00", "taxAmount": "1.65",
                                                  "taxPercentage": "9.00", "type": "VAT", "taxableAmount": "19.98"}]}]
    # items.options alone: the options without their taxes (those come with items.taxes)
    got = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"], query={"include": "items.options"}), 200)
    assert all(set(o) == {"name", "numberOfItems", "price", "priceInclTax", "priceExclTax"}
               for i in got["items"] for o in i["options"]), got["items"]
    got = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"], query={"include": "items"}), 200)
    assert all("options" not in i for i in got["items"])
    # the canonical ticket carries them (admin, webhooks)
    canon = expect(c.admin("GET", "/orders/%s" % order["id"]), 200)
    t = canon["tickets"][0]
    assert t["price_gross"] == 3248 and t["price_net"] == 2866 and t["options_gross"] == 2248
    assert [(o["id"], o["quantity"], o["unit_price"], o["gross"], o["net"]) for o in t["options"]] == [
        ("audio", 1, 250, 250, 207), ("book", 2, 999, 1998, 1833)]
    assert canon["total_gross"] == 6496 and canon["total_net"] == 5732


def test_ticket_without_options_shows_an_empty_list(c):
    p = product(c)
    order = cv_book(c, expect(cv_cart(c, p["id"], 1, []), 200))
    item = order["items"][0]
    assert item["options"] == [] and item["priceInclTax"] == item["discountedPriceWithoutOptionsInclTax"] == "10.00"
    assert "options" not in expect(c.admin("GET", "/orders/%s" % order["id"]), 200)["tickets"][0]


def test_unpriced_cart_prices_its_options_at_zero(c):
    p = product(c)
    cart = expect(cv_cart(c, p["id"], 1, [{"optionId": "audio"}], token=False), 200)
    assert cart["totalPrice"] == "0.00" and cart["items"][0]["options"][0]["price"] == "0.00"
    order = cv_book(c, cart)
    assert order["totalPriceInclTax"] == "0.00" and order["items"][0]["options"][0]["priceInclTax"] == "0.00"


def test_cart_update_restates_the_options(c):
    p = product(c)
    cart = expect(cv_cart(c, p["id"], 1, [{"optionId": "audio"}]), 200)
    assert cart["totalPrice"] == "12.50"
    slot = priced_slot(c, p["id"], 2)
    body = {"items": [{"productId": p["id"], "amount": 2, "options": [{"optionId": "book"}]}],
            "pricingToken": slot["pricingToken"]}
    updated = expect(c.convious("PATCH", ACCOUNT + "/carts/%s/" % cart["id"], body), 200)
    assert updated["totalPrice"] == "39.98" and updated["items"][0]["options"] == [
        {"optionId": "book", "numberOfItems": 1, "price": "9.99"}]
    got = expect(c.convious("GET", ACCOUNT + "/carts/%s/" % cart["id"]), 200)
    assert got["items"] == updated["items"] and got["totalPrice"] == "39.98"
    # without options the item has none
    body["items"][0].pop("options")
    plain = expect(c.convious("PATCH", ACCOUNT + "/carts/%s/" % cart["id"], body), 200)
    assert "options" not in plain["items"][0] and plain["totalPrice"] == "20.00"


# ---- totals and taxes: rounding per docs/MODEL.md ----

def test_tax_exclusive_options_round_once_per_ticket(c):
    p = product(c, price=1000, includes_tax=False, dated=False,
                options=[{"id": "x", "name": "Extra", "price": 333}])
    cart = expect(admin_cart(c, p["id"], 3, [{"option_id": "x", "quantity": 3}]), 201)
    # per ticket: 10.00 + 21% = 12.10; options 3 x 3.33 = 9.99 + 21% (2.0979 -> 2.10) = 12.09
    assert cart["total"] == 3 * (1210 + 1209) and cart["lines"][0]["options"] == [
        {"option_id": "x", "quantity": 3, "unit_price": 333}]
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"]}), 201)
    assert order["total_gross"] == cart["total"] == 7257 and order["total_net"] == 3 * (1000 + 999)
    for t in order["tickets"]:
        assert t["price_gross"] == 2419 and t["price_net"] == 1999 and t["options_net"] == 999
        assert t["options"][0]["taxes"] == [{"type": "VAT", "rate_bp": 2100, "proportion_bp": 10000,
                                             "taxable": 999, "tax": 210}]


def test_discounts_leave_options_alone(c):
    p = product(c, dated=False)
    code = uniq("HALF").upper()
    expect(c.admin("POST", "/discounts", {"code": code, "type": "percentage", "percent_bp": 5000}), 201)
    cart = expect(admin_cart(c, p["id"], 2, [{"option_id": "audio"}]), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "discount_code": code}), 201)
    # half of the tickets' 2 x 10.00; the audio guides stay 2.50 each
    assert order["discount_total"] == 1000 and order["total_gross"] == 2500
    assert order["total_after_discount_gross"] == 1500
    for t in order["tickets"]:
        assert t["discount"] == 500 and t["discounted_gross"] == 750


# ---- refunds ----

def test_cancel_refunds_the_options(c):
    p = product(c, dated=False, booking_fee=100)
    cart = expect(admin_cart(c, p["id"], 2, [{"option_id": "book", "quantity": 2}]), 201)
    order = expect(c.admin("POST", "/orders", {"cart_id": cart["id"], "payment": {"provider": "cash"}}), 201)
    paid = [x["amount"] for x in order["payments"] if x["kind"] == "payment"]
    assert paid == [2 * (1000 + 1998 + 100)], order["payments"]
    cancelled = expect(c.admin("POST", "/orders/%s/cancel" % order["id"], {"reason": "closed"}), 200)
    amounts = [t["refund"]["amount"] for t in cancelled["tickets"]]
    assert amounts == [3098, 3098], cancelled["tickets"]
    assert sum(x["amount"] for x in cancelled["payments"] if x["kind"] == "refund") == 6196


def test_convious_cancel_refunds_the_options(c):
    p = product(c)
    order = cv_book(c, expect(cv_cart(c, p["id"], 1, [{"optionId": "audio"}]), 200))
    expect(c.convious("POST", "/api/v1/orders/%s/status/" % order["id"], {"status": "cancelled",
                                                                          "statusReason": "rain"}), 200)
    got = expect(c.convious("GET", "/api/v1/orders/%s/" % order["id"],
                            query={"include": "items.refund_details,items.options"}), 200)
    item = got["items"][0]
    assert item["refunded"] and item["refundDetails"]["itemPriceInclTax"] == "12.50"
    assert item["options"][0]["priceInclTax"] == "2.50"


# ---- error paths: status, code, field ----

CV_ERRORS = [
    ("unknown option", [{"optionId": "nope"}], "unknown_option", "items.options.optionId"),
    ("over max", [{"optionId": "book", "numberOfItems": 3}], "invalid_option_quantity",
     "items.options.numberOfItems"),
    ("zero", [{"optionId": "audio", "numberOfItems": 0}], "invalid_option_quantity", "items.options.numberOfItems"),
    ("over engine max", [{"optionId": "audio", "numberOfItems": 101}], "invalid_option_quantity",
     "items.options.numberOfItems"),
    ("duplicate", [{"optionId": "audio"}, {"optionId": "audio"}], "duplicate_option", "items.options.optionId"),
    ("missing id", [{"numberOfItems": 1}], "invalid_options", "items.options.optionId"),
    ("id not a string", [{"optionId": 7}], "invalid_options", "items.options.optionId"),
    ("id too long", [{"optionId": "a" * 65}], "invalid_options", "items.options.optionId"),
    ("count not an integer", [{"optionId": "audio", "numberOfItems": "2"}], "invalid_option_quantity",
     "items.options.numberOfItems"),
    ("not a list", {"optionId": "audio"}, "invalid_options", "items.options"),
    ("too many", [{"optionId": "o%d" % i} for i in range(9)], "invalid_options", "items.options"),
]


@pytest.mark.parametrize("name,options,code,field", CV_ERRORS, ids=[r[0] for r in CV_ERRORS])
def test_convious_option_errors(c, name, options, code, field):
    p = product(c)
    body = {"categoryId": MUSEUM, "eventDate": day(), "startTime": "11:00:00",
            "items": [{"productId": p["id"], "amount": 1, "options": options}]}
    cv_error(c.convious("POST", ACCOUNT + "/carts/", body), 400, code, field)


def test_convious_option_error_holds_nothing(c):
    p = product(c, options=[{"id": "one", "name": "One", "price": 100, "max_quantity": 1}])
    cart = expect(cv_cart(c, p["id"], 2, [{"optionId": "one"}]), 200)
    before = expect(c.admin("GET", "/availability", query={"product_id": p["id"], "from": day(), "to": day()}), 200)
    cv_error(cv_cart(c, p["id"], 5, [{"optionId": "one", "numberOfItems": 2}], token=False), 400,
             "invalid_option_quantity", "items.options.numberOfItems")
    body = {"items": [{"productId": p["id"], "amount": 3, "options": [{"optionId": "two"}]}]}
    cv_error(c.convious("PATCH", ACCOUNT + "/carts/%s/" % cart["id"], body), 400, "unknown_option",
             "items.options.optionId")
    after = expect(c.admin("GET", "/availability", query={"product_id": p["id"], "from": day(), "to": day()}), 200)
    assert after == before
    assert expect(c.convious("GET", ACCOUNT + "/carts/%s/" % cart["id"]), 200)["items"][0]["amount"] == 2


def test_option_of_another_product_is_unknown(c):
    p, q = product(c), product(c, options=[{"id": "other", "name": "Other", "price": 1}])
    body = {"categoryId": MUSEUM, "eventDate": day(), "startTime": "11:00:00",
            "items": [{"productId": p["id"], "amount": 1, "options": [{"optionId": "other"}]},
                      {"productId": q["id"], "amount": 1}]}
    cv_error(c.convious("POST", ACCOUNT + "/carts/", body), 400, "unknown_option", "items.options.optionId")


def test_admin_option_errors(c):
    p = product(c, dated=False)
    admin_error(admin_cart(c, p["id"], 1, [{"option_id": "nope"}]), 400, "unknown_option", "options.option_id")
    admin_error(admin_cart(c, p["id"], 1, [{"option_id": "book", "quantity": 3}]), 400, "invalid_option_quantity",
                "options.quantity")
    admin_error(admin_cart(c, p["id"], 1, [{"option_id": "book", "quantity": 0}]), 400, "invalid_field",
                "items[0].options[0].quantity")
    admin_error(admin_cart(c, p["id"], 1, [{"option_id": 5}]), 400, "invalid_field", "items[0].options[0].option_id")
    admin_error(admin_cart(c, p["id"], 1, [{"option_id": "audio", "extra": 1}]), 400, "unknown_field",
                "items[0].options[0].extra")
    admin_error(admin_cart(c, p["id"], 1, ["audio"]), 400, "invalid_field", "options")
    admin_error(admin_cart(c, p["id"], 1, [{"option_id": "audio"}, {"option_id": "audio"}]), 400,
                "duplicate_option", "options.option_id")


CATALOG_ERRORS = [
    ("option without id", [{"name": "A", "price": 1}], None, "invalid_field", "options.id"),
    ("option id too long", [{"id": "x" * 65, "name": "A", "price": 1}], None, "invalid_field", "options.id"),
    ("duplicate option id", [{"id": "a", "name": "A", "price": 1}, {"id": "a", "name": "B", "price": 2}], None,
     "duplicate_id", "options.id"),
    ("option without price", [{"id": "a", "name": "A"}], None, "missing_field", "options.price"),
    ("negative price", [{"id": "a", "name": "A", "price": -1}], None, "invalid_field", "options.price"),
    ("price not integer", [{"id": "a", "name": "A", "price": "2.50"}], None, "invalid_field", "options.price"),
    ("unknown option field", [{"id": "a", "name": "A", "price": 1, "colour": "red"}], None, "unknown_field",
     "options.colour"),
    ("bad option tax", [{"id": "a", "name": "A", "price": 1, "taxes": [{"rate_bp": 20000}]}], None, "invalid_tax",
     "options.taxes"),
    ("max quantity zero", [{"id": "a", "name": "A", "price": 1, "max_quantity": 0}], None, "invalid_field",
     "options.max_quantity"),
    ("option not an object", ["a"], None, "invalid_field", "options.id"),
    ("options not a list", {"id": "a"}, None, "invalid_field", "options"),
    ("too many options", [{"id": "o%d" % i, "name": "O", "price": 1} for i in range(51)], None, "invalid_field",
     "options"),
    ("form field without label", None, [{"id": "f"}], "missing_field", "apf_fields.label"),
    ("form field bad type", None, [{"id": "f", "label": "F", "type": "colour"}], "invalid_field", "apf_fields.type"),
    ("form field required not bool", None, [{"id": "f", "label": "F", "required": "yes"}], "invalid_field",
     "apf_fields.required"),
    ("duplicate form field", None, [{"id": "f", "label": "F"}, {"id": "f", "label": "G"}], "duplicate_id",
     "apf_fields.id"),
]


@pytest.mark.parametrize("name,options,fields,code,field", CATALOG_ERRORS, ids=[r[0] for r in CATALOG_ERRORS])
def test_catalog_rejects_bad_options_and_forms(c, name, options, fields, code, field):
    doc = {"name": {"en": "Bad"}, "price": 100}
    if options is not None:
        doc["options"] = options
    if fields is not None:
        doc["apf_fields"] = fields
    admin_error(c.admin("POST", "/products", doc), 400, code, field)


def test_options_are_part_of_the_product_document(c):
    p = product(c, dated=False)
    got = expect(c.admin("GET", "/products/%s" % p["id"]), 200)
    assert got["options"][1] == {"id": "book", "name": {"en": "Guide book"}, "price": 999,
                                 "taxes": [{"rate_bp": 900, "proportion_bp": 10000, "type": "VAT"}],
                                 "max_quantity": 2}
    changed = expect(c.admin("PATCH", "/products/%s" % p["id"], {"options": [
        {"id": "audio", "name": "Audio guide", "price": 300}]}), 200)
    assert [o["id"] for o in changed["options"]] == ["audio"]
    cart = expect(admin_cart(c, p["id"], 1, [{"option_id": "audio"}]), 201)
    assert cart["total"] == 1300
    admin_error(admin_cart(c, p["id"], 1, [{"option_id": "book"}]), 400, "unknown_option", "options.option_id")
