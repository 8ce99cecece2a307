/* What an e-ticket says, from the engine's reads: the order and its tickets as
 * stored, and the catalog version in force for names, venue and time zone.
 * The free-form parts (names, holder, customer) are JSON text read with
 * objtext, as the engine reads them: no JSON tree here. */
#include "eticket/eticket.h"
#include "eticket/internal.h"
#include "util/log.h"
#include "util/objtext.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The texts of one page, owned (eticket_page borrows them). */
typedef struct {
    char *title, *subtitle, *when, *venue, *address, *holder, *price;
} page_texts;

static void page_texts_free(page_texts *t)
{
    free(t->title), free(t->subtitle), free(t->when), free(t->venue), free(t->address), free(t->holder);
    free(t->price);
}

/* What every page of one render shares. */
typedef struct {
    const account *a;
    const catalog_model *m;
    const char *language;       /* the order's customer language, NULL for "en" */
    const char *order_number;   /* NULL without an order */
    const char *customer_name;  /* the buyer, when a ticket names no holder */
    const char *currency;
} render_ctx;

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

/* A translated name ({"en": ..., "pl": ...} as text): the language asked, else
 * English, else the first one. */
static char *translated(const char *texts, const char *language)
{
    char *s = language ? objtext_string(texts, language) : NULL;
    if (!s || !*s) free(s), s = objtext_string(texts, "en");
    if (!s || !*s) free(s), s = objtext_first_string(texts);
    return s;
}

/* A holder's or customer's name: name, full_name, else first and last name. */
static char *person_name(const char *obj)
{
    if (!obj) return NULL;
    static const char *const keys[] = {"full_name", "name"};
    for (size_t i = 0; i < 2; i++) {
        char *s = objtext_string(obj, keys[i]);
        if (s && *s) return s;
        free(s);
    }
    char *first = objtext_string(obj, "first_name"), *last = objtext_string(obj, "last_name");
    char *out = NULL;
    if ((first && *first) || (last && *last)) {
        size_t n = (first ? strlen(first) : 0) + (last ? strlen(last) : 0) + 2;
        out = malloc(n);
        if (out) snprintf(out, n, "%s%s%s", first ? first : "", first && *first && last && *last ? " " : "",
                          last ? last : "");
    }
    free(first), free(last);
    return out;
}

/* The first of the product's categories that names a venue (want_schedule
 * false) or a schedule; NULL when none does. */
static const cat_category *category_with(const cat_product *p, const catalog_model *m, bool want_schedule)
{
    for (size_t i = 0; p && i < p->ncategories; i++) {
        const cat_category *c = model_category(m, p->category_ids[i]);
        if (c && (want_schedule ? c->schedule != NULL : c->location != NULL)) return c;
    }
    return NULL;
}

static const cat_location *venue_of(const cat_product *p, const catalog_model *m)
{
    if (p && p->event && p->event->location) return p->event->location;
    const cat_category *c = category_with(p, m, false);
    return c ? c->location : NULL;
}

static const cat_schedule *schedule_of(const cat_product *p, const catalog_model *m)
{
    if (p && p->event && p->event->schedule) return p->event->schedule;
    const cat_category *c = category_with(p, m, true);
    return c ? c->schedule : NULL;
}

/* "Tue 1 Dec 2026" */
static void day_text(civil_date day, char *out, size_t n)
{
    static const char *const weekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, mo, d;
    date_to_ymd(day, &y, &mo, &d);
    snprintf(out, n, "%s %d %s %d", weekdays[date_weekday(day)], d, months[mo - 1], y);
}

/* "UTC+01:00" at instant t in zone tz. */
static void offset_text(const char *tz, instant_us t, char out[16])
{
    char off[7];
    tz_offset_format(tz_offset_at(tz, t), off);
    snprintf(out, 16, "UTC%s", off);
}

/* When the ticket is for, in the venue's zone with its UTC offset then: a
 * timeslot ("2026-12-01T10:00", ending a schedule slot later), a whole day, an
 * event occurrence (its start and end as written in the catalog), or any day. */
static char *when_text(const char *occurrence, const cat_product *p, const catalog_model *m, const char *tz)
{
    char out[160], day[32], off[16], from[9], to[9];
    civil_date d;
    int32_t secs;
    size_t n = strlen(occurrence);
    if (n == 10 && date_parse(occurrence, &d)) {
        day_text(d, day, sizeof day);
        offset_text(tz, tz_local_to_instant(tz, d, 12 * 3600), off);
        snprintf(out, sizeof out, "%s, all day (%s)", day, off);
        return strdup(out);
    }
    if (n > 11 && occurrence[10] == 'T') {
        char date[11];
        memcpy(date, occurrence, 10), date[10] = 0;
        if (date_parse(date, &d) && time_of_day_parse(occurrence + 11, &secs)) {
            day_text(d, day, sizeof day);
            offset_text(tz, tz_local_to_instant(tz, d, secs), off);
            time_of_day_format(secs, from), from[5] = 0;
            const cat_schedule *s = schedule_of(p, m);
            if (s && s->slot_seconds > 0 && secs + s->slot_seconds <= SECS_PER_DAY) {
                time_of_day_format(secs + s->slot_seconds == SECS_PER_DAY ? 0 : secs + s->slot_seconds, to), to[5] = 0;
                snprintf(out, sizeof out, "%s, %s–%s (%s)", day, from, to, off);
            } else {
                snprintf(out, sizeof out, "%s, %s (%s)", day, from, off);
            }
            return strdup(out);
        }
    }
    const cat_event *ev = p ? p->event : NULL;
    for (size_t i = 0; *occurrence && ev && i < ev->noccurrences; i++) {
        const cat_occurrence *o = &ev->occurrences[i];
        instant_us start, end = 0;
        if (strcmp(o->id, occurrence) || !o->start_text || !iso_parse(o->start_text, tz, &start)) continue;
        tz_instant_to_local(tz, start, &d, &secs);
        day_text(d, day, sizeof day);
        offset_text(tz, start, off);
        time_of_day_format(secs, from), from[5] = 0;
        if (o->end_text && iso_parse(o->end_text, tz, &end) && end > start) {
            civil_date end_day;
            int32_t end_secs;
            tz_instant_to_local(tz, end, &end_day, &end_secs);
            time_of_day_format(end_secs, to), to[5] = 0;
            snprintf(out, sizeof out, "%s, %s–%s (%s)", day, from, to, off);
        } else {
            snprintf(out, sizeof out, "%s, %s (%s)", day, from, off);
        }
        return strdup(out);
    }
    return strdup(*occurrence ? occurrence : "Open date: valid on any day");
}

static int64_t doc_integer(const char *doc, const char *key, int64_t dflt)
{
    char *v = objtext_member(doc, key);
    char *end = NULL;
    long long n = v ? strtoll(v, &end, 10) : 0;
    bool ok = v && end != v && !*end;
    free(v);
    return ok ? (int64_t)n : dflt;
}

/* "35.00 EUR incl. tax", with the booking fee when there is one. */
static char *price_text(const store_ticket_row *t, const render_ctx *x)
{
    money paid = doc_integer(t->doc, "discounted_gross", t->price_gross - t->discount);
    money fee = doc_integer(t->doc, "booking_fee", 0);
    char amount[40], fee_text[40], out[128];
    money_format(paid, x->a->currency_decimals, amount, sizeof amount);
    if (fee > 0) {
        money_format(fee, x->a->currency_decimals, fee_text, sizeof fee_text);
        snprintf(out, sizeof out, "%s %s incl. tax + %s %s booking fee", amount, x->currency, fee_text, x->currency);
    } else {
        snprintf(out, sizeof out, "%s %s incl. tax", amount, x->currency);
    }
    return strdup(out);
}

static bool ticket_live(const store_ticket_row *t)
{
    return !strcmp(t->status, "valid") || !strcmp(t->status, "unpaid");
}

static void fill_page(const store_ticket_row *t, const render_ctx *x, page_texts *s, eticket_page *pg)
{
    const cat_product *p = model_product(x->m, t->product_id);
    char *names = objtext_member(t->doc, "product_name");
    char *product = names ? translated(names, x->language) : NULL;
    if (!product && p && p->name_json) product = translated(p->name_json, x->language);
    free(names);
    const char *event_id = t->event_id ? t->event_id : p ? p->event_id : NULL;
    char *event = event_id ? objtext_string(model_doc(x->m, CAT_EVENT, event_id), "name") : NULL;
    if (event && *event) {
        s->title = event, s->subtitle = product;
    } else {
        free(event);
        s->title = product ? product : strdup(t->product_id);
    }
    const cat_location *loc = venue_of(p, x->m);
    const char *tz = loc && loc->timezone ? loc->timezone : x->a->timezone;
    if (loc) {
        const char *doc = model_doc(x->m, CAT_LOCATION, loc->id);
        s->venue = objtext_string(doc, "name"), s->address = objtext_string(doc, "address");
    }
    s->when = when_text(t->occurrence, p, x->m, tz);
    char *holder = objtext_member(t->doc, "holder");
    s->holder = person_name(holder);
    free(holder);
    if (!s->holder) s->holder = dup_or_null(x->customer_name);
    s->price = price_text(t, x);
    *pg = (eticket_page){.account_name = x->a->name, .title = s->title, .subtitle = s->subtitle, .when = s->when,
                         .venue = s->venue, .address = s->address, .order_number = x->order_number,
                         .holder = s->holder, .price = s->price, .barcode = t->barcode,
                         .notice = !strcmp(t->status, "unpaid")
                                       ? "UNPAID: not valid for entry until the order is paid"
                                       : NULL};
}

/* Renders the live ones of tickets[0..n); 1 when none is live. */
static int render_tickets(engine *e, const account *a, const store_ticket_row *tickets, size_t n,
                          const store_order_row *order, unsigned char **pdf, size_t *len)
{
    size_t live = 0;
    for (size_t i = 0; i < n; i++) live += ticket_live(&tickets[i]);
    if (!live) return 1;
    catalog_view *v = catalog_view_open(e, a);
    if (!v) return -1;
    char *customer = order ? objtext_member(order->doc, "customer") : NULL;
    char *language = customer ? objtext_string(customer, "language") : NULL;
    char *customer_name = person_name(customer);
    render_ctx x = {.a = a, .m = catalog_view_model(v), .language = language && *language ? language : NULL,
                    .order_number = order ? order->number : NULL, .customer_name = customer_name,
                    .currency = order && order->currency && *order->currency ? order->currency : a->currency};
    eticket_page *pages = calloc(live, sizeof *pages);
    page_texts *texts = calloc(live, sizeof *texts);
    int rc = -1;
    if (pages && texts) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (ticket_live(&tickets[i])) fill_page(&tickets[i], &x, &texts[k], &pages[k]), k++;
        rc = eticket_render(pages, live, pdf, len);
    }
    for (size_t i = 0; texts && i < live; i++) page_texts_free(&texts[i]);
    free(pages), free(texts), free(customer), free(language), free(customer_name);
    catalog_view_close(v);
    return rc;
}

int eticket_order_pdf(engine *e, const account *a, const char *order_id, unsigned char **pdf, size_t *len)
{
    order_record o;
    switch (order_get(e, a, order_id, &o)) {
    case BO_OK: break;
    case BO_NOT_FOUND: return 1;
    default: return -1;
    }
    int rc = !strcmp(o.order.status, "cancelled")
                 ? 1
                 : render_tickets(e, a, o.tickets, o.ntickets, &o.order, pdf, len);
    order_record_free(&o);
    return rc;
}

int eticket_ticket_pdf(engine *e, const account *a, const char *ticket_id, unsigned char **pdf, size_t *len)
{
    ticket_record t;
    switch (ticket_get(e, a, ticket_id, &t)) {
    case BO_OK: break;
    case BO_NOT_FOUND: return 1;
    default: return -1;
    }
    int rc = 1;
    if (ticket_live(&t)) {
        order_record o;
        bool has_order = false;
        bo_status st = t.order_id ? order_get(e, a, t.order_id, &o) : BO_NOT_FOUND;
        if (st == BO_OK) has_order = true;
        if (st == BO_OK || st == BO_NOT_FOUND)
            rc = render_tickets(e, a, &t, 1, has_order ? &o.order : NULL, pdf, len);
        else
            rc = -1;
        if (has_order) order_record_free(&o);
    }
    ticket_record_free(&t);
    return rc;
}
