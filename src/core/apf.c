/* After-payment forms: the fields a product asks per ticket once it is booked
 * (cat_apf_field), answered later, and whether an order still misses a
 * required answer. Answers live in the ticket's document as `apf`, an object
 * of field id -> text, written whole on each change so a cleared answer is
 * gone; the engine reads them with objtext, never with a tree. */
#include "core/internal.h"
#include "util/jbuf.h"
#include "util/objtext.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define APF_VALUE_MAX 500 /* characters of one answer */

static bool is_email(const char *v)
{
    const char *at = strchr(v, '@');
    if (!at || at == v || !at[1] || strchr(at + 1, '@') || strlen(v) > 254) return false;
    for (const char *p = v; *p; p++)
        if (isspace((unsigned char)*p)) return false;
    return strchr(at + 1, '.') != NULL;
}

static bool is_phone(const char *v)
{
    int digits = 0;
    for (const char *p = v; *p; p++) {
        if (isdigit((unsigned char)*p)) digits++;
        else if (!strchr("+-() .", *p)) return false;
    }
    return digits >= 5 && strlen(v) <= 32;
}

static bool is_number(const char *v)
{
    const char *p = v + (*v == '-');
    size_t int_digits = strspn(p, "0123456789");
    if (!int_digits) return false;
    p += int_digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        if (!frac) return false;
        p += 1 + frac;
    }
    return !*p && strlen(v) <= 32;
}

/* Code points of UTF-8 text (the dialect's parser checked the encoding). */
static size_t characters(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Whether `value` is a well-formed answer to f ("" clears an answer). */
static bool answer_valid(const cat_apf_field *f, const char *value)
{
    if (!*value) return true;
    civil_date d;
    switch (f->type) {
    case APF_TEXT: return characters(value) <= APF_VALUE_MAX;
    case APF_EMAIL: return is_email(value);
    case APF_PHONE: return is_phone(value);
    case APF_DATE: return date_parse(value, &d);
    case APF_NUMBER: return is_number(value);
    case APF_CHECKBOX: return !strcmp(value, "true") || !strcmp(value, "false");
    }
    return false;
}

/* Whether the ticket's answers (its `apf` object text, NULL none) leave a
 * required field of p empty. */
static bool ticket_unfilled(const cat_product *p, const char *answers)
{
    if (!p->apf_enabled) return false;
    for (size_t i = 0; i < p->napf_fields; i++) {
        if (!p->apf_fields[i].required) continue;
        char *v = answers ? objtext_string(answers, p->apf_fields[i].id) : NULL;
        bool empty = !v || !*v;
        free(v);
        if (empty) return true;
    }
    return false;
}

bo_status apf_unfilled(engine *e, const account *a, size_t n, const char *const *product_ids,
                       const char *const *answers, bool *unfilled)
{
    *unfilled = false;
    if (!n) return BO_OK;
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return BO_INTERNAL;
    for (size_t i = 0; i < n && !*unfilled; i++) {
        const cat_product *p = product_ids[i] ? model_product(cs->model, product_ids[i]) : NULL;
        *unfilled = p && ticket_unfilled(p, answers[i]);
    }
    catalog_release(cs);
    return BO_OK;
}

/* The answers of one ticket checked against p; fails with err. */
static bo_status check_answers(const cat_product *p, const apf_ticket_answers *t, bo_error *err)
{
    if (!p->apf_enabled || !p->napf_fields)
        return bo_fail(err, BO_INVALID, "apf_not_enabled", "ticket_id", "the ticket's product asks no form");
    if (!t->nanswers) return bo_fail(err, BO_INVALID, "missing_field", "apf_answers", "no answers given");
    for (size_t k = 0; k < t->nanswers; k++) {
        const apf_answer *ans = &t->answers[k];
        const cat_apf_field *f = product_apf_field(p, ans->field_id);
        if (!f)
            return bo_fail(err, BO_INVALID, "unknown_apf_field", "apf_answers", "the form has no field %.64s",
                           ans->field_id ? ans->field_id : "");
        if (!ans->value || !answer_valid(f, ans->value))
            return bo_fail(err, BO_INVALID, "invalid_answer", "apf_answer", "%s is not a valid answer to field %s",
                           ans->value ? "the value" : "null", f->id);
    }
    return BO_OK;
}

/* The ticket's new `apf` object: every field of p in the form's order, from
 * this request's answers or else the stored ones, empty ones left out. */
static char *merged_answers(const cat_product *p, const apf_ticket_answers *t, const char *stored)
{
    jbuf w;
    jb_init(&w, 256);
    jb_obj(&w);
    jb_key(&w, "apf"), jb_obj(&w);
    for (size_t i = 0; i < p->napf_fields; i++) {
        const char *id = p->apf_fields[i].id;
        const char *given = NULL;
        for (size_t k = 0; k < t->nanswers; k++)
            if (!strcmp(t->answers[k].field_id, id)) given = t->answers[k].value;
        char *old = given ? NULL : stored ? objtext_string(stored, id) : NULL;
        const char *v = given ? given : old;
        if (v && *v) jb_kstr(&w, id, v);
        free(old);
    }
    jb_obj_end(&w);
    jb_obj_end(&w);
    return jb_take(&w, NULL);
}

typedef struct {
    engine *e;
    const account *a;
    const catalog_snapshot *cs;
    const char *order_id;
    const apf_ticket_answers *tickets;
    size_t n;
    instant_us now;
    bo_error *err;
    bool refused; /* err says why */
} apf_ctx;

static db_status refuse(apf_ctx *x, bo_status st, const char *code, const char *field, const char *msg)
{
    bo_fail(x->err, st, code, field, "%s", msg);
    x->refused = true;
    return DB_ABORT;
}

static db_status answer_fn(db_conn *c, void *arg)
{
    apf_ctx *x = arg;
    x->refused = false;
    db_status st = DB_OK;
    for (size_t i = 0; i < x->n && st == DB_OK; i++) {
        const apf_ticket_answers *t = &x->tickets[i];
        store_ticket_row row;
        store_status ss = store_ticket_load(c, x->a->id, t->ticket_id, &row);
        if (ss == STORE_NOT_FOUND || (ss == STORE_OK && (!row.order_id || strcmp(row.order_id, x->order_id)))) {
            if (ss == STORE_OK) store_ticket_row_free(&row);
            return refuse(x, BO_NOT_FOUND, "unknown_ticket", "ticket_id", "the order has no such ticket");
        }
        if (ss != STORE_OK) return store_db_status(ss);
        const cat_product *p = model_product(x->cs->model, row.product_id);
        if (strcmp(row.status, "valid") && strcmp(row.status, "unpaid"))
            st = refuse(x, BO_CONFLICT, "ticket_not_live", "ticket_id", "the ticket was voided or refunded");
        else if (!p)
            st = refuse(x, BO_CONFLICT, "product_gone", "ticket_id", "the ticket's product left the catalog");
        else if (check_answers(p, t, x->err) != BO_OK) {
            x->refused = true;
            st = DB_ABORT;
        }
        if (st == DB_OK) {
            char *stored = objtext_member(row.doc, "apf");
            char *apf = merged_answers(p, t, stored);
            char *doc = apf ? objtext_merge(row.doc, apf) : NULL;
            ss = doc ? store_ticket_set_doc(c, x->a->id, row.id, row.doc, doc, x->now) : STORE_ERROR;
            free(stored);
            free(apf);
            free(doc);
            if (ss == STORE_CONFLICT)
                st = refuse(x, BO_CONFLICT, "ticket_not_live", "ticket_id", "the ticket was voided or refunded");
            else st = store_db_status(ss);
            if (st == DB_OK) st = events_record_ticket(x->e, c, x->a->id, EV_TICKET_UPDATED, row.id);
        }
        store_ticket_row_free(&row);
    }
    /* the order comes again in the change timeline, its unfilledApf moved */
    return st == DB_OK ? order_touch(x->e, c, x->a, x->order_id, x->now) : st;
}

bo_status order_apf_answer(engine *e, const account *a, const char *order_id, const apf_ticket_answers *tickets,
                           size_t n, bo_error *err)
{
    if (!order_id || strlen(order_id) > 64) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    if (!n) return bo_fail(err, BO_INVALID, "missing_field", "apf_answers", "no tickets to answer for");
    if (n > APF_TICKETS_MAX)
        return bo_fail(err, BO_INVALID, "invalid_field", "apf_answers", "at most %d tickets at once", APF_TICKETS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!tickets[i].ticket_id || strlen(tickets[i].ticket_id) > 64)
            return bo_fail(err, BO_NOT_FOUND, "unknown_ticket", "ticket_id", "the order has no such ticket");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(tickets[i].ticket_id, tickets[j].ticket_id))
                return bo_fail(err, BO_INVALID, "duplicate_ticket", "ticket_id", "a ticket appears twice");
    }
    order_record o;
    bo_status found = order_get(e, a, order_id, &o);
    if (found == BO_NOT_FOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    if (found != BO_OK) return bo_fail(err, BO_INTERNAL, "internal_error", "", "the order could not be read");
    bool cancelled = !strcmp(o.order.status, "cancelled");
    order_record_free(&o);
    if (cancelled) return bo_fail(err, BO_CONFLICT, "order_cancelled", "status", "the order is cancelled");
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    apf_ctx x = {e, a, cs, order_id, tickets, n, clock_now(), err, false};
    db_status st = store_write(e->st, answer_fn, &x);
    catalog_release(cs);
    if (x.refused) return err->status;
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    return bo_from_db(st, err);
}
