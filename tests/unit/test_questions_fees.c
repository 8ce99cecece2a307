/* Booking-fee discounts and custom questions without a database: the money
 * rule (discount_line_fee_total, spread with money_share), the compiler's
 * reading of a discount's booking-fee fields and of a question, and the
 * checks a booking's answers go through (answers_check, answers_check_cart,
 * answers_json). */
#include "check.h"
#include "catalog_doc/catalog_doc.h"
#include "core/engine.h"
#include "core/internal.h"
#include <stdlib.h>
#include <string.h>

static void compile(catalog_model *m, catalog_kind k, const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    catalog_doc_compile(m, k, s);
    free(s);
}

static void test_fee_rule(void)
{
    cat_discount fixed = {.id = "f", .booking_fee_amount = 100};
    CHECK(discount_line_fee_total(&fixed, 150, 3) == 300, "fixed: 1.00 off each of 3 fees of 1.50");
    CHECK(discount_line_fee_total(&fixed, 80, 2) == 160, "fixed: never more than the fee (never below 0)");
    CHECK(discount_line_fee_total(&fixed, 0, 5) == 0, "fixed: no fee, nothing off");
    cat_discount pct = {.id = "p", .booking_fee_percent_bp = 3300};
    money line = discount_line_fee_total(&pct, 199, 3);
    CHECK(line == 197, "percent: 33% of 3 x 1.99 rounded once for the line (1.97)");
    CHECK(money_share(line, 3, 0) == 66 && money_share(line, 3, 1) == 66 && money_share(line, 3, 2) == 65,
          "percent: spread 0.66, 0.66, 0.65 by largest remainder");
    cat_discount tiny = {.id = "t", .booking_fee_percent_bp = 1500};
    CHECK(discount_line_fee_total(&tiny, 1, 999) == 150, "percent: 15% of 999 fees of 0.01 is 1.50, not 0");
    cat_discount all = {.id = "a", .booking_fee_percent_bp = 10000};
    CHECK(discount_line_fee_total(&all, 250, 4) == 1000, "percent: 100% takes the whole fee");
    cat_discount price_only = {.id = "x", .type = DISCOUNT_PERCENTAGE, .percent_bp = 5000};
    CHECK(discount_line_fee_total(&price_only, 250, 4) == 0, "a price discount leaves the fees alone");
    CHECK(discount_line_total(&fixed, 1000, 3) == 0, "a fee discount takes nothing off the price");
}

static void test_compile(catalog_model *m)
{
    const cat_discount *d = model_discount(m, "fee");
    CHECK(d && d->booking_fee_amount == 75 && d->booking_fee_percent_bp == 0, "compile: booking_fee_amount");
    d = model_discount(m, "pct");
    CHECK(d && d->booking_fee_percent_bp == 2500 && d->booking_fee_amount == 0, "compile: booking_fee_percent_bp");
    d = model_discount(m, "plain");
    CHECK(d && !d->booking_fee_amount && !d->booking_fee_percent_bp, "compile: no fee fields, nothing off fees");
    const cat_question *q = model_question(m, "diet");
    CHECK(q && q->type == QUESTION_SELECT && q->noptions == 2 && !strcmp(q->options[1], "vegan"),
          "compile: select question and its options");
    CHECK(q && q->required && q->per_ticket && q->nproducts == 1 && !strcmp(q->label_json, "{\"en\":\"Diet\"}"),
          "compile: required, scope ticket, products, label as JSON text");
    q = model_question(m, "mail");
    CHECK(q && q->type == QUESTION_EMAIL && !q->per_ticket && !q->required && q->nproducts == 0,
          "compile: defaults scope order, not required, every product");
    CHECK(q && question_asked_for(q, "anything"), "question_asked_for: no products, asked for every product");
    q = model_question(m, "diet");
    CHECK(q && question_asked_for(q, "a") && !question_asked_for(q, "b"), "question_asked_for: listed products only");
    CHECK(!model_question(m, "ghost"), "model_question: unknown id");
}

static bool refused(const catalog_model *m, const question_answer *x, size_t n, const char *code, const char *field)
{
    bo_error err = {0};
    bo_status st = answers_check(m, x, n, &err);
    if (st == BO_INVALID && !strcmp(err.code, code) && !strcmp(err.field, field)) return true;
    printf("# got %d %s %s: %s\n", st, err.code, err.field, err.message);
    return false;
}

static void test_answers(catalog_model *m)
{
    question_answer ok[] = {{"mail", -1, "ann@example.com"}, {"diet", 0, "vegan"}, {"diet", 1, "none"}};
    bo_error err = {0};
    CHECK(answers_check(m, ok, 3, &err) == BO_OK, "answers: good ones pass");
    CHECK(refused(m, (question_answer[]){{"ghost", -1, "x"}}, 1, "unknown_question", "answers[0].question_id"),
          "answers: unknown question");
    CHECK(refused(m, (question_answer[]){{"diet", -1, "vegan"}}, 1, "missing_field", "answers[0].ticket_index"),
          "answers: per-ticket question needs a ticket");
    CHECK(refused(m, (question_answer[]){{"mail", 0, "a@b.co"}}, 1, "invalid_field", "answers[0].ticket_index"),
          "answers: order question takes no ticket");
    CHECK(refused(m, (question_answer[]){{"diet", 0, "kosher"}}, 1, "invalid_answer", "answers[0].answer"),
          "answers: select value not among options");
    CHECK(refused(m, (question_answer[]){{"mail", -1, "a@b"}}, 1, "invalid_answer", "answers[0].answer"),
          "answers: e-mail without a domain");
    CHECK(refused(m, (question_answer[]){{"diet", 0, "vegan"}, {"diet", 0, "none"}}, 2, "duplicate_answer",
                  "answers[1].question_id"),
          "answers: one ticket answered twice");
    CHECK(refused(m, (question_answer[]){{"mail", -1, "a@b.co\x01"}}, 1, "invalid_answer", "answers[0].answer"),
          "answers: control characters refused");
    CHECK(refused(m, (question_answer[]){{"mail", -1, NULL}}, 1, "missing_field", "answers[0].answer"),
          "answers: no answer text");

    store_cart_line lines[] = {{.product_id = "a", .quantity = 2}, {.product_id = "b", .quantity = 1}};
    store_cart cart = {.lines = lines, .nlines = 2};
    CHECK(answers_check_cart(m, ok, 3, true, &cart, &err) == BO_OK, "cart: every required question answered");
    CHECK(answers_check_cart(m, ok, 2, true, &cart, &err) == BO_INVALID && !strcmp(err.code, "missing_answer"),
          "cart: ticket 1 of product a misses its required answer");
    CHECK(answers_check_cart(m, ok, 2, false, &cart, &err) == BO_OK,
          "cart: required not enforced for a channel that cannot answer");
    question_answer on_b[] = {{"diet", 2, "vegan"}};
    CHECK(answers_check_cart(m, on_b, 1, false, &cart, &err) == BO_INVALID &&
              !strcmp(err.code, "question_not_asked") && !strcmp(err.field, "answers[0].question_id"),
          "cart: the question is not asked for product b's ticket");
    question_answer past[] = {{"diet", 3, "vegan"}};
    CHECK(answers_check_cart(m, past, 1, false, &cart, &err) == BO_INVALID &&
              !strcmp(err.field, "answers[0].ticket_index"),
          "cart: a ticket index past the cart's tickets");
    store_cart_line only_b[] = {{.product_id = "b", .quantity = 2}};
    store_cart cart_b = {.lines = only_b, .nlines = 1};
    question_answer mail_only[] = {{"mail", -1, "x@y.org"}};
    CHECK(answers_check_cart(m, mail_only, 1, true, &cart_b, &err) == BO_OK,
          "cart: a question of other products is not required");

    char *order = answers_json(m, ok, 3, -1), *t1 = answers_json(m, ok, 3, 1), *t2 = answers_json(m, ok, 3, 2);
    CHECK(order && !strcmp(order, "[{\"question_id\":\"mail\",\"label\":{\"en\":\"Mail\"},\"type\":\"email\","
                                  "\"answer\":\"ann@example.com\"}]"),
          "answers_json: the order's answers");
    CHECK(t1 && strstr(t1, "\"answer\":\"none\"") && !strstr(t1, "vegan"), "answers_json: one ticket's answers");
    CHECK(!t2, "answers_json: NULL for a ticket without answers");
    question_answer empty[] = {{"mail", -1, ""}};
    char *none = answers_json(m, empty, 1, -1);
    CHECK(!none, "answers_json: an empty answer is no answer");
    free(order);
    free(t1);
    free(none);
}

int main(void)
{
    test_fee_rule();
    catalog_model *m = catalog_model_new(catalog_doc_json_codec.release);
    compile(m, CAT_DISCOUNT, "{'id':'fee','code':'FEE','type':'fixed','booking_fee_amount':75}");
    compile(m, CAT_DISCOUNT, "{'id':'pct','code':'PCT','type':'percentage','booking_fee_percent_bp':2500}");
    compile(m, CAT_DISCOUNT, "{'id':'plain','code':'P','type':'fixed','amount':10}");
    compile(m, CAT_QUESTION, "{'id':'diet','label':{'en':'Diet'},'type':'select','options':['none','vegan'],"
                             "'required':true,'scope':'ticket','product_ids':['a']}");
    compile(m, CAT_QUESTION, "{'id':'mail','label':{'en':'Mail'},'type':'email'}");
    test_compile(m);
    test_answers(m);
    catalog_model_free(m);
    return check_summary();
}
