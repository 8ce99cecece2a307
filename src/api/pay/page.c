/* GET and POST /pay/{payment_id}: the test provider's hosted payment page
 * (docs/PAYMENTS.md). Server-rendered HTML that works without JavaScript: the
 * order's items, the method's fee, the total and the deadline, and a form
 * whose buttons post `outcome` (paid, failed, cancelled, expired) with the
 * session's CSRF token back here; the outcome is applied and the buyer is
 * sent (303) to the matching callback URL. The payment id is the page's
 * secret: the page is public, and says nothing for an id it does not know.
 * Everything shown is escaped. */
#include "api/pay/pay.h"
#include "core/payment.h"
#include "util/objtext.h"
#include "util/secure.h"
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void html_text(GString *out, const char *text)
{
    char *escaped = g_markup_escape_text(text ? text : "", -1);
    g_string_append(out, escaped);
    g_free(escaped);
}

static void html_money(GString *out, money amount, const account *a)
{
    char figure[40];
    money_format(amount, a->currency_decimals, figure, sizeof figure);
    html_text(out, figure);
    g_string_append_c(out, ' ');
    html_text(out, a->currency);
}

/* Replies with the page: nothing of it is cached, framed or leaked in a
 * Referer (its URL is the payment's secret). */
static void reply_html(http_request *r, int status, GString *page)
{
    g_string_append(page, "</main></body></html>\n");
    http_add_header(r, "Cache-Control", "no-store");
    http_add_header(r, "Referrer-Policy", "no-referrer");
    http_add_header(r, "X-Frame-Options", "DENY");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_add_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    size_t len = page->len;
    char *body = g_string_free(page, FALSE);
    /* the server frees with free(): hand it a malloc'd copy */
    char *owned = malloc(len + 1);
    if (owned) memcpy(owned, body, len + 1);
    g_free(body);
    if (!owned) return http_reply_raw(r, 500, "text/plain", "out of memory", 13);
    http_reply_owned(r, status, "text/html; charset=utf-8", owned, len);
}

static GString *page_start(const char *title)
{
    GString *page = g_string_new("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                                 "<meta name=\"robots\" content=\"noindex\"><title>");
    html_text(page, title);
    g_string_append(page, "</title><style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
                          "table{border-collapse:collapse;width:100%}td,th{padding:.3em;border-bottom:1px solid #ddd;"
                          "text-align:left}td.n{text-align:right}button{margin:.3em;padding:.5em 1em}"
                          ".test{background:#fff3cd;padding:.5em}</style></head><body><main><h1>");
    html_text(page, title);
    g_string_append(page, "</h1>");
    return page;
}

static void reply_message(http_request *r, int status, const char *title, const char *message)
{
    GString *page = page_start(title);
    g_string_append(page, "<p>");
    html_text(page, message);
    g_string_append(page, "</p>");
    reply_html(r, status, page);
}

static void reply_unknown(http_request *r)
{
    reply_message(r, 404, "Payment not found", "There is no such payment. Check the link you followed.");
}

/* The name of a ticket's product (its document's translated product_name). */
static const char *product_name(http_request *r, const ticket_record *t)
{
    /* the member alone is parsed: a channel's ticket document is mostly its sale terms */
    char *text = objtext_member(t->doc, "product_name");
    json_t *names = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    free(text);
    const char *name = http_strdup(r, json_is_string(names) ? json_string_value(names) : api_text(names));
    json_decref(names);
    return *name ? name : t->product_id;
}

/* One row per order line: the product, its live tickets, what they cost.
 * Of each ticket's document only the members needed are parsed (the line's
 * name, the ticket's fee). */
static void item_rows(http_request *r, GString *page, const order_record *o, const account *a)
{
    bool *shown = o->ntickets ? calloc(o->ntickets, sizeof *shown) : NULL;
    if (o->ntickets && !shown) return;
    for (size_t i = 0; i < o->ntickets; i++) {
        if (shown[i]) continue;
        const ticket_record *t = &o->tickets[i];
        const char *name = NULL;
        int64_t quantity = 0;
        money amount = 0;
        for (size_t k = i; k < o->ntickets; k++) {
            const ticket_record *u = &o->tickets[k];
            if (strcmp(u->line_id, t->line_id)) continue;
            shown[k] = true;
            bool live = !strcmp(u->status, "unpaid") || !strcmp(u->status, "valid");
            if (k == i) name = product_name(r, t);
            if (!live) continue;
            char *fee_text = objtext_member(u->doc, "booking_fee");
            json_t *fee = fee_text ? json_loads(fee_text, JSON_DECODE_ANY, NULL) : NULL;
            amount += u->price_gross - u->discount + (json_is_integer(fee) ? json_integer_value(fee) : 0);
            json_decref(fee);
            free(fee_text);
            quantity++;
        }
        if (!quantity) continue;
        g_string_append(page, "<tr><td>");
        html_text(page, name);
        g_string_append_printf(page, "</td><td class=\"n\">%lld</td><td class=\"n\">", (long long)quantity);
        html_money(page, amount, a);
        g_string_append(page, "</td></tr>");
    }
    free(shown);
}

/* The rows of the order's part of the table: its lines, then what vouchers
 * paid at booking, which is taken off the total (docs/PAYMENTS.md, "Vouchers"). */
static void order_rows(http_request *r, GString *page, const order_record *o, const account *a)
{
    item_rows(r, page, o, a);
    for (size_t i = 0; i < o->npayments; i++) {
        const store_payment_row *p = &o->payments[i];
        if (strcmp(p->kind, "payment") || strcmp(p->status, "paid") || !p->provider || strcmp(p->provider, "voucher"))
            continue;
        g_string_append(page, "<tr><td>Voucher</td><td></td><td class=\"n voucher\">-");
        html_money(page, p->amount, a);
        g_string_append(page, "</td></tr>");
    }
}

/* ---- the order's rows, kept from the checkout that started the payment ----
 * Every buyer opens the page once, right after the checkout that started its
 * payment; reading the whole order for it (order, tickets, payments) was
 * about a third of the page's cost. The checkout hands its order, read back
 * in its own transaction, to pay_page_remember; the page then reads only the
 * order's number and change number with the session, and shows the kept rows
 * while that change number is the one they were rendered at (every change of
 * the order or of its tickets moves it) and the currency is the same; else it
 * reads the order as before. Process-wide, because the checkout (a dialect's
 * handler) and the page share nothing else; direct-mapped by payment id (a
 * collision just forgets the older entry), bounded, guarded by kept.lock. */
#define KEPT_PAGES 1024

typedef struct {
    char payment_id[72];
    char account_id[40];
    int64_t change_seq;
    char currency[4];
    int currency_decimals;
    char order_number[16]; /* never changes: the POST's redirect takes it from here */
    char *rows;            /* malloc'd HTML; NULL: empty slot */
} kept_page;

static struct {
    pthread_mutex_t lock;
    kept_page slots[KEPT_PAGES];
} kept = {.lock = PTHREAD_MUTEX_INITIALIZER};

static kept_page *kept_slot(const char *payment_id)
{
    return &kept.slots[g_str_hash(payment_id) % KEPT_PAGES];
}

void pay_page_remember(http_request *r, const payment_session *s, const order_record *o, const account *a)
{
    if (!o->order.id || strcmp(o->order.id, s->order_id) || strcmp(s->provider, PAYMENT_TEST_PROVIDER) ||
        strcmp(s->status, "open") || o->order.change_seq < 0 ||
        strlen(s->id) >= sizeof kept.slots[0].payment_id)
        return;
    GString *rows = g_string_new(NULL);
    order_rows(r, rows, o, a);
    char *copy = strdup(rows->str);
    g_string_free(rows, TRUE);
    if (!copy) return;
    pthread_mutex_lock(&kept.lock);
    kept_page *k = kept_slot(s->id);
    free(k->rows);
    *k = (kept_page){.change_seq = o->order.change_seq, .currency_decimals = a->currency_decimals, .rows = copy};
    snprintf(k->payment_id, sizeof k->payment_id, "%s", s->id);
    snprintf(k->account_id, sizeof k->account_id, "%s", s->account_id);
    snprintf(k->currency, sizeof k->currency, "%s", a->currency);
    snprintf(k->order_number, sizeof k->order_number, "%s", o->order.number ? o->order.number : "");
    pthread_mutex_unlock(&kept.lock);
}

/* The kept order number of payment_id's session into number; false when none is kept. */
static bool kept_order_number(const char *payment_id, char number[16])
{
    bool found = false;
    if (!payment_id) return false;
    pthread_mutex_lock(&kept.lock);
    kept_page *k = kept_slot(payment_id);
    if (k->rows && !strcmp(k->payment_id, payment_id) && k->order_number[0]) {
        snprintf(number, 16, "%s", k->order_number);
        found = true;
    }
    pthread_mutex_unlock(&kept.lock);
    return found;
}

/* The kept rows of payment_id (a copy the request owns) and the change number
 * they were rendered at; NULL when none are kept. */
static const char *kept_rows(http_request *r, const char *payment_id, int64_t *change_seq)
{
    const char *rows = NULL;
    if (!payment_id) return NULL;
    pthread_mutex_lock(&kept.lock);
    kept_page *k = kept_slot(payment_id);
    if (k->rows && !strcmp(k->payment_id, payment_id)) {
        rows = http_strdup(r, k->rows);
        *change_seq = k->change_seq;
    }
    pthread_mutex_unlock(&kept.lock);
    return rows;
}

/* Whether the kept rows of s may be shown to a's page: the same account
 * and currency as when they were rendered. */
static bool kept_fits(const payment_session *s, const account *a)
{
    pthread_mutex_lock(&kept.lock);
    kept_page *k = kept_slot(s->id);
    bool fits = k->rows && !strcmp(k->payment_id, s->id) && !strcmp(k->account_id, s->account_id) &&
                !strcmp(k->currency, a->currency) && k->currency_decimals == a->currency_decimals;
    pthread_mutex_unlock(&kept.lock);
    return fits;
}

/* o: the session's order, read with it (freed here), or NULL with rows: its
 * kept rows and its number. */
static void show(http_request *r, const payment_session *s, const account *a, order_record *o, const char *number,
                 const char *rows)
{
    GString *page = page_start("Test payment");
    g_string_append(page, "<p class=\"test\">This is the test payment provider: no money moves.</p><p>Order ");
    html_text(page, o ? o->order.number : number);
    g_string_append(page, " &middot; payment method ");
    html_text(page, s->method);
    g_string_append(page, "</p><table><thead><tr><th>Item</th><th>Quantity</th><th>Amount</th></tr></thead><tbody>");
    if (o) order_rows(r, page, o, a);
    else g_string_append(page, rows);
    g_string_append(page, "<tr><td>Payment fee (");
    html_text(page, s->method);
    g_string_append(page, ")</td><td></td><td class=\"n\">");
    html_money(page, s->fee, a);
    g_string_append(page, "</td></tr></tbody><tfoot><tr><th>Total</th><th></th><th class=\"n\" id=\"total\">");
    html_money(page, s->amount + s->fee, a);
    char due[64];
    iso_format_seconds(s->due_at, a->timezone, due, sizeof due);
    g_string_append(page, "</th></tr></tfoot></table><p>Pay before <time id=\"due_at\">");
    html_text(page, due);
    g_string_append(page, "</time>.</p><p>Status: <strong id=\"status\">");
    html_text(page, s->status);
    g_string_append(page, "</strong></p>");
    if (o) order_record_free(o);
    if (!strcmp(s->status, "open")) {
        g_string_append(page, "<form method=\"post\" action=\"/pay/");
        html_text(page, s->id);
        g_string_append(page, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
        html_text(page, s->csrf);
        g_string_append(page, "\"><button type=\"submit\" name=\"outcome\" value=\"paid\">Pay</button>"
                              "<button type=\"submit\" name=\"outcome\" value=\"failed\">Fail</button>"
                              "<button type=\"submit\" name=\"outcome\" value=\"cancelled\">Cancel</button>"
                              "<button type=\"submit\" name=\"outcome\" value=\"expired\">Let it expire</button>"
                              "</form>");
    } else {
        g_string_append(page, "<p>This payment is finished; it cannot be paid again.</p>");
    }
    reply_html(r, 200, page);
}

/* The test provider's session the path names (expired first when past its
 * deadline) and its account; NULL after replying. */
/* With order or order_number, the session's order or its number in the same read. */
/* With kept_change_seq >= 0 (and both order and order_number), the order is
 * read whole only when it changed since (*order_read). */
static payment_session *page_session(http_request *r, engine *e, account *owner, order_record *order,
                                     char order_number[16], int64_t kept_change_seq, bool *order_read)
{
    payment_session *s = http_alloc(r, sizeof *s);
    bool read = order != NULL;
    bo_status st = payment_find_for_page(e, http_path_param(r, "payment_id"), s, owner, kept_change_seq, order, &read,
                                         order_number);
    if (order_read) *order_read = read;
    if (st == BO_OK && order && read && strcmp(s->provider, PAYMENT_TEST_PROVIDER)) order_record_free(order);
    if (st == BO_NOT_FOUND || (st == BO_OK && strcmp(s->provider, PAYMENT_TEST_PROVIDER))) {
        reply_unknown(r);
        return NULL;
    }
    if (st != BO_OK) {
        reply_message(r, 500, "Payment unavailable", "The payment could not be read; try again.");
        return NULL;
    }
    return s;
}

void pay_page_get(http_request *r, void *app_)
{
    engine *e = ((app *)app_)->e;
    account a;
    order_record o;
    char number[16] = "";
    int64_t kept_change_seq = -1;
    const char *rows = kept_rows(r, http_path_param(r, "payment_id"), &kept_change_seq);
    bool order_read = true;
    payment_session *s = page_session(r, e, &a, &o, rows ? number : NULL, kept_change_seq, &order_read);
    if (!s) return;
    if (order_read) return show(r, s, &a, &o, NULL, NULL);
    /* unchanged since its checkout: the kept rows, unless they no longer fit
     * (then the order is read as on any other page) */
    if (kept_fits(s, &a) && !strcmp(s->status, "open")) return show(r, s, &a, NULL, number, rows);
    s = page_session(r, e, &a, &o, NULL, -1, NULL);
    if (s) show(r, s, &a, &o, NULL, NULL);
}

void pay_page_post(http_request *r, void *app_)
{
    engine *e = ((app *)app_)->e;
    account a;
    char number[16] = "";
    /* an order's number never changes: kept from its checkout, it is not read again */
    bool number_kept = kept_order_number(http_path_param(r, "payment_id"), number);
    payment_session *s = page_session(r, e, &a, NULL, number_kept ? NULL : number, -1, NULL);
    if (!s) return;
    const char *csrf = http_body_is_form(r) ? http_form(r, "csrf") : NULL;
    if (!csrf || !secret_equal(csrf, s->csrf))
        return reply_message(r, 403, "Form refused",
                             "This form was not sent from the payment page. Open the payment page and try again.");
    payment_outcome outcome;
    if (!payment_outcome_parse(http_form(r, "outcome"), &outcome))
        return reply_message(r, 400, "Unknown choice", "Choose Pay, Fail, Cancel or Let it expire.");
    bo_error err = {0};
    bo_status st = payment_report_owned(e, &a, PAYMENT_TEST_PROVIDER, s->id, outcome, true, s, NULL, &err);
    if (st == BO_CONFLICT)
        return reply_message(r, 409, "Payment finished", "This payment is finished; it cannot be paid again.");
    if (st == BO_NOT_FOUND) return reply_unknown(r);
    if (st != BO_OK) return reply_message(r, 500, "Payment unavailable", "The payment could not be changed; try again.");
    char *location = http_alloc(r, 4 * PAYMENT_URL_MAX);
    payment_callback_url(s, number, location, 4 * PAYMENT_URL_MAX);
    http_add_header(r, "Location", location);
    http_add_header(r, "Cache-Control", "no-store");
    http_add_header(r, "Referrer-Policy", "no-referrer");
    http_reply_empty(r, 303);
}
