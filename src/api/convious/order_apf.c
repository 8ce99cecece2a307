/* After-payment forms under /api/v1/orders/<order_id>/apf/ (the order's
 * unfilledApfUrl): GET shows each ticket's form with its answers, POST
 * answers it. The Convious doc shows the form only as it comes back
 * (items.afterPaymentForm, unfilledApf); how it is filled is ours, documented
 * in docs/dialects/convious.md. Also the order's parts that show options and
 * forms (cv_jb_ticket_options, cv_jb_after_payment_form, cv_jb_unfilled_apf). */
#include "api/convious/convious.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APF_ITEMS_MAX 1000
#define APF_ANSWERS_MAX 50 /* a form's fields at most (catalog_spec.c) */

static bool ticket_live(const json_t *t)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    return status && (!strcmp(status, "valid") || !strcmp(status, "unpaid"));
}

void cv_jb_ticket_options(jbuf *b, const account *a, const json_t *ticket, bool with_taxes)
{
    jb_key(b, "options");
    jb_arr(b);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(ticket, "options"), i, o)
    {
        jb_obj(b);
        const char *name = api_text(json_object_get(o, "name"));
        jb_kstr(b, "name", name ? name : json_string_value(json_object_get(o, "id")));
        jb_kint(b, "numberOfItems", json_integer_value(json_object_get(o, "quantity")));
        /* the options' whole price for this ticket: numberOfItems of them */
        money gross = json_integer_value(json_object_get(o, "gross")), net = json_integer_value(json_object_get(o, "net"));
        jb_key(b, "price");
        cv_jb_money(b, a, gross);
        jb_key(b, "priceInclTax");
        cv_jb_money(b, a, gross);
        jb_key(b, "priceExclTax");
        cv_jb_money(b, a, net);
        if (with_taxes) {
            jb_key(b, "taxes");
            jb_arr(b);
            size_t k;
            json_t *tax;
            json_array_foreach(json_object_get(o, "taxes"), k, tax)
            {
                char rate[16], proportion[16];
                rate_format((int32_t)json_integer_value(json_object_get(tax, "rate_bp")), rate, sizeof rate);
                rate_format((int32_t)json_integer_value(json_object_get(tax, "proportion_bp")), proportion,
                            sizeof proportion);
                jb_obj(b);
                jb_kstr(b, "priceProportionPercentage", proportion);
                jb_key(b, "taxAmount");
                cv_jb_money(b, a, json_integer_value(json_object_get(tax, "tax")));
                jb_kstr(b, "taxPercentage", rate);
                const char *type = json_string_value(json_object_get(tax, "type"));
                jb_kstr(b, "type", type ? type : "VAT");
                jb_key(b, "taxableAmount");
                cv_jb_money(b, a, json_integer_value(json_object_get(tax, "taxable")));
                jb_obj_end(b);
            }
            jb_arr_end(b);
        }
        jb_obj_end(b);
    }
    jb_arr_end(b);
}

void cv_jb_after_payment_form(jbuf *b, const json_t *ticket)
{
    const json_t *holder = json_object_get(ticket, "holder"), *answers = json_object_get(ticket, "apf");
    if (!json_is_object(answers) || !json_object_size(answers)) {
        if (json_is_object(holder)) jb_kjson(b, "afterPaymentForm", holder);
        else {
            jb_key(b, "afterPaymentForm");
            jb_obj(b);
            jb_obj_end(b);
        }
        return;
    }
    json_t *form = json_is_object(holder) ? json_deep_copy(holder) : json_object();
    json_object_update(form, (json_t *)answers);
    jb_kjson(b, "afterPaymentForm", form);
    json_decref(form);
}

/* Whether a live ticket of the order leaves a required field empty. */
static bo_status order_unfilled(engine *e, const account *a, const json_t *order, bool *unfilled)
{
    *unfilled = false;
    const char *status = json_string_value(json_object_get(order, "status"));
    const json_t *tickets = json_object_get(order, "tickets");
    size_t n = json_array_size(tickets), live = 0;
    if (!n || (status && !strcmp(status, "cancelled"))) return BO_OK;
    const char **products = calloc(n, sizeof *products);
    char **answers = calloc(n, sizeof *answers);
    bo_status st = products && answers ? BO_OK : BO_INTERNAL;
    for (size_t i = 0; st == BO_OK && i < n; i++) {
        const json_t *t = json_array_get(tickets, i);
        if (!ticket_live(t)) continue;
        const json_t *apf = json_object_get(t, "apf");
        products[live] = json_string_value(json_object_get(t, "product_id"));
        answers[live++] = apf ? json_dumps(apf, JSON_COMPACT) : NULL;
    }
    if (st == BO_OK) st = apf_unfilled(e, a, live, products, (const char *const *)answers, unfilled);
    for (size_t i = 0; answers && i < live; i++) free(answers[i]);
    free(answers);
    free(products);
    return st;
}

static void apf_url(http_request *r, const json_t *order, char *url, size_t len)
{
    snprintf(url, len, "%s/convious/api/v1/orders/%s/apf/", r ? http_base_url(r) : "",
             json_string_value(json_object_get(order, "id")));
}

void cv_jb_unfilled_apf(jbuf *b, http_request *r, engine *e, const account *a, const json_t *order)
{
    bool unfilled = false;
    /* a catalog that cannot be read shows the form as filled rather than fail the order */
    if (order_unfilled(e, a, order, &unfilled) != BO_OK) unfilled = false;
    jb_kbool(b, "unfilledApf", unfilled);
    if (!unfilled) return jb_knull(b, "unfilledApfUrl");
    char url[256];
    apf_url(r, order, url, sizeof url);
    jb_kstr(b, "unfilledApfUrl", url);
}

/* The form of every ticket whose product asks one, with its answers. */
static void reply_forms(http_request *r, engine *e, const account *a, const json_t *order)
{
    bool unfilled = false;
    if (order_unfilled(e, a, order, &unfilled) != BO_OK)
        return cv_error(r, 500, "internal_error", NULL, "the catalog could not be read");
    catalog_view *catalog = catalog_view_open(e, a);
    jbuf b;
    jb_init(&b, 1024);
    jb_obj(&b);
    jb_kstr(&b, "orderId", json_string_value(json_object_get(order, "id")));
    jb_kbool(&b, "unfilledApf", unfilled);
    jb_key(&b, "items");
    jb_arr(&b);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(order, "tickets"), i, t)
    {
        const json_t *product =
            catalog_view_find(catalog, CAT_PRODUCT, json_string_value(json_object_get(t, "product_id")));
        if (!ticket_live(t) || !json_is_true(json_object_get(product, "apf_enabled"))) continue;
        const json_t *answers = json_object_get(t, "apf");
        jb_obj(&b);
        jb_kstr(&b, "id", json_string_value(json_object_get(t, "id")));
        jb_kstr(&b, "productId", json_string_value(json_object_get(t, "product_id")));
        const char *name = api_text(json_object_get(t, "product_name"));
        if (name) jb_kstr(&b, "product", name);
        jb_key(&b, "fields");
        jb_arr(&b);
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(product, "apf_fields"), k, f)
        {
            const char *id = json_string_value(json_object_get(f, "id"));
            const char *type = json_string_value(json_object_get(f, "type"));
            jb_obj(&b);
            jb_kstr(&b, "id", id);
            jb_kjson(&b, "label", json_object_get(f, "label"));
            jb_kstr(&b, "type", type ? type : "text");
            jb_kbool(&b, "required", json_is_true(json_object_get(f, "required")));
            const char *value = json_string_value(json_object_get(answers, id));
            if (value) jb_kstr(&b, "value", value);
            else jb_knull(&b, "value");
            jb_obj_end(&b);
        }
        jb_arr_end(&b);
        jb_obj_end(&b);
    }
    jb_arr_end(&b);
    jb_obj_end(&b);
    catalog_view_close(catalog);
    cv_reply_jbuf(r, &b);
}

static void reply_order_forms(http_request *r, engine *e, const account *a, const char *order_id)
{
    json_t *o;
    bo_status st = order_get_json(e, a, order_id, &o);
    if (st != BO_OK) return cv_missing(r, st);
    reply_forms(r, e, a, o);
    json_decref(o);
}

void cv_order_apf_get(http_request *r, void *app_)
{
    reply_order_forms(r, cv_engine(app_), api_account(r), http_path_param(r, "order_id"));
}

/* One answer as text: strings as given, true/false and numbers as written,
 * null clears it; false for anything else. */
static bool answer_text(http_request *r, const json_t *v, const char **out)
{
    char buf[64];
    if (json_is_string(v)) *out = json_string_value(v);
    else if (json_is_null(v)) *out = "";
    else if (json_is_boolean(v)) *out = json_is_true(v) ? "true" : "false";
    else if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        *out = http_strdup(r, buf);
    } else return false;
    return *out != NULL;
}

static const cv_field_code apf_codes[] = {
    {"items", "invalid_items", NULL},
    {"items.id", "invalid_items", NULL},
    {"items.afterPaymentForm", "invalid_answer", NULL},
    {NULL, NULL, NULL},
};

void cv_order_apf_post(http_request *r, void *app_)
{
    json_t *body = cv_body(r);
    if (!body) return;
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    json_t *items = NULL;
    const body_field fields[] = {{"items", BF_ARRAY, true, 1, APF_ITEMS_MAX, &items, NULL}};
    if (!CV_FIELDS(r, body, "", fields, apf_codes)) return;
    size_t n = json_array_size(items);
    if (!n) return cv_error(r, 400, "invalid_items", "items", "items must be a non-empty list");
    apf_ticket_answers *tickets = calloc(n, sizeof *tickets);
    apf_answer *answers = calloc(n * APF_ANSWERS_MAX, sizeof *answers);
    if (!tickets || !answers) {
        free(tickets);
        free(answers);
        return cv_error(r, 500, "internal_error", NULL, "out of memory");
    }
    bool ok = true;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *ticket_id = NULL;
        json_t *form = NULL;
        const body_field item_fields[] = {
            {"id", BF_STRING, true, 1, BF_UNLIMITED, &ticket_id, NULL},
            {"afterPaymentForm", BF_OBJECT, true, 0, 0, &form, NULL},
        };
        if (!(ok = CV_FIELDS(r, it, "items.", item_fields, apf_codes))) break;
        if (json_object_size(form) > APF_ANSWERS_MAX) {
            cv_error(r, 400, "invalid_answer", "items.afterPaymentForm", "at most %d answers per ticket",
                     APF_ANSWERS_MAX);
            ok = false;
            break;
        }
        apf_answer *mine = answers + i * APF_ANSWERS_MAX;
        tickets[i] = (apf_ticket_answers){ticket_id, mine, 0};
        const char *key;
        json_t *v;
        json_object_foreach(form, key, v)
        {
            const char *text = NULL;
            if (!answer_text(r, v, &text)) {
                cv_error(r, 400, "invalid_answer", "items.afterPaymentForm",
                         "answers are strings, numbers, true, false or null");
                ok = false;
                break;
            }
            mine[tickets[i].nanswers++] = (apf_answer){key, text};
        }
        if (!ok) break;
    }
    bo_error err = {0};
    const char *order_id = http_path_param(r, "order_id");
    if (ok && order_apf_answer(e, a, order_id, tickets, n, &err) != BO_OK) {
        cv_fail(r, &err);
        ok = false;
    }
    free(tickets);
    free(answers);
    if (ok) reply_order_forms(r, e, a, order_id);
}
