/* Orders and tickets: booking a cart, cancelling, paying later, issuing and
 * voiding single tickets. Each is one transaction: capacity, order, tickets,
 * payments and the outbox events commit together or not at all. */
#include "core/internal.h"
#include "core/payment.h"
#include "store/order_changes.h"
#include "store/price_tiers_store.h"
#include "util/jbuf.h"
#include "util/log.h"
#include "util/objtext.h"
#include "util/secure.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BARCODE_DIGITS 20 /* 66 bits from the CSPRNG */

/* ---------- ticket construction ---------- */

typedef struct {
    money gross, net, tax_total;
} ticket_price;

/* Gross, net and tax of one ticket charged `amount` in the product's tax mode
 * (amount includes tax when the product's prices do). */
static ticket_price price_ticket(const cat_product *p, money amount)
{
    ticket_price tp = {0};
    for (size_t i = 0; i < p->ntaxes; i++)
        tp.tax_total += tax_compute(amount, p->taxes[i].rate_bp, p->taxes[i].proportion_bp, p->price_includes_tax).tax;
    tp.gross = p->price_includes_tax ? amount : amount + tp.tax_total;
    tp.net = p->price_includes_tax ? amount - tp.tax_total : amount;
    return tp;
}

/* Validity window: the visit day (account zone) for dated tickets, the
 * product's valid window or a duration from purchase for undated ones. */
static void validity(const cat_product *p, civil_date day, instant_us slot_ends, const char *tz, instant_us now,
                     instant_us *from, instant_us *to)
{
    *from = 0;
    *to = 0;
    if (day >= 0) {
        *from = tz_local_to_instant(tz, day, 0);
        *to = tz_local_to_instant(tz, day + 1, 0) - 1;
        if (slot_ends > *to) *to = slot_ends;
    } else {
        if (p->valid_from >= 0) *from = tz_local_to_instant(tz, p->valid_from, 0);
        if (p->valid_to >= 0) *to = tz_local_to_instant(tz, p->valid_to + 1, 0) - 1;
    }
    if (p->scan.validity_seconds > 0) {
        if (!*from) *from = now;
        instant_us until = now + p->scan.validity_seconds * US_PER_SEC;
        if (!*to || until < *to) *to = until;
    }
}

static const char *scan_limit_name(scan_limit_kind k)
{
    return k == SCAN_LIMIT_NONE ? "none" : k == SCAN_LIMIT_TIMES_PER_DAY ? "times_per_day" : "once";
}

/* The options sold with each ticket of a line: their value and, as JSON
 * text, the list a ticket's document carries (docs/MODEL.md, "Money": each
 * option is taxed once per ticket on its quantity times its price). */
typedef struct {
    money gross, net;
    char *json; /* malloc'd; NULL when the line has none */
} options_priced;

static void write_tax(jbuf *w, const cat_tax *t, tax_split s)
{
    jb_obj(w);
    jb_key(w, "type"), jb_str(w, t->type);
    jb_key(w, "rate_bp"), jb_int(w, t->rate_bp);
    jb_key(w, "proportion_bp"), jb_int(w, t->proportion_bp);
    jb_key(w, "taxable"), jb_int(w, s.taxable);
    jb_key(w, "tax"), jb_int(w, s.tax);
    jb_obj_end(w);
}

static options_priced price_options(const cat_product *p, const store_cart_line *line)
{
    options_priced op = {0};
    if (!line || !line->noptions) return op;
    jbuf w;
    jb_init(&w, 256);
    jb_arr(&w);
    for (size_t k = 0; k < line->noptions; k++) {
        const store_cart_option *so = &line->options[k];
        const cat_option *o = product_option(p, so->option_id);
        money amount = so->unit_price * so->quantity, tax = 0;
        for (size_t i = 0; o && i < o->ntaxes; i++)
            tax += tax_compute(amount, o->taxes[i].rate_bp, o->taxes[i].proportion_bp, p->price_includes_tax).tax;
        money gross = p->price_includes_tax ? amount : amount + tax, net = p->price_includes_tax ? amount - tax : amount;
        op.gross += gross;
        op.net += net;
        jb_obj(&w);
        jb_key(&w, "id"), jb_str(&w, so->option_id);
        /* an option deleted since the cart was made keeps its price, without name or tax */
        jb_key(&w, "name"), jb_raw(&w, o ? o->name_json : "{}");
        jb_key(&w, "quantity"), jb_int(&w, so->quantity);
        jb_key(&w, "unit_price"), jb_int(&w, so->unit_price);
        jb_key(&w, "gross"), jb_int(&w, gross);
        jb_key(&w, "net"), jb_int(&w, net);
        jb_key(&w, "taxes"), jb_arr(&w);
        for (size_t i = 0; o && i < o->ntaxes; i++)
            write_tax(&w, &o->taxes[i],
                      tax_compute(amount, o->taxes[i].rate_bp, o->taxes[i].proportion_bp, p->price_includes_tax));
        jb_arr_end(&w);
        jb_obj_end(&w);
    }
    jb_arr_end(&w);
    op.json = jb_take(&w, NULL);
    return op;
}

/* The free-form part of a ticket, the same for every ticket of one line;
 * holder is JSON object text or NULL; fee_off is what a discount takes off its
 * booking fee; options those of its line (NULL: none). */
static char *ticket_doc(const cat_product *p, money unit, money discount, money fee_off, const char *holder,
                        const options_priced *options)
{
    ticket_price tp = price_ticket(p, unit - discount);
    jbuf w;
    jb_init(&w, 512);
    jb_obj(&w);
    jb_key(&w, "product_name"), jb_raw(&w, p->name_json);
    jb_key(&w, "barcode_format"), jb_str(&w, p->barcode_format);
    jb_key(&w, "taxes"), jb_arr(&w);
    for (size_t i = 0; i < p->ntaxes; i++) {
        const cat_tax *t = &p->taxes[i];
        write_tax(&w, t, tax_compute(unit - discount, t->rate_bp, t->proportion_bp, p->price_includes_tax));
    }
    jb_arr_end(&w);
    jb_key(&w, "holder"), jb_raw(&w, holder);
    jb_key(&w, "gate_price"), jb_int(&w, p->gate_price_set ? p->gate_price : unit);
    jb_key(&w, "booking_fee"), jb_int(&w, p->booking_fee - fee_off);
    if (fee_off) jb_key(&w, "booking_fee_discount"), jb_int(&w, fee_off);
    jb_key(&w, "tax_total"), jb_int(&w, tp.tax_total);
    jb_key(&w, "allow_overtime"), jb_bool(&w, p->scan.allow_overtime);
    jb_key(&w, "discounted_gross"), jb_int(&w, tp.gross + (options ? options->gross : 0));
    jb_key(&w, "discounted_net"), jb_int(&w, tp.net + (options ? options->net : 0));
    if (options && options->json) {
        jb_key(&w, "options"), jb_raw(&w, options->json);
        jb_key(&w, "options_gross"), jb_int(&w, options->gross);
        jb_key(&w, "options_net"), jb_int(&w, options->net);
    }
    jb_obj_end(&w);
    return jb_take(&w, NULL);
}

/* The document of a ticket sold on its channel's terms: the product's, with
 * the terms' fee and extras, the tier it took (release_ticket gives it back)
 * and the channel's own members. Malloc'd; NULL out of memory. */
static char *terms_doc(const cat_product *p, const ticket_terms *tt, money off, money fee_off, const char *occurrence,
                       const options_priced *options)
{
    char *base = ticket_doc(p, tt->price, off, fee_off, NULL, options);
    ticket_price tp = price_ticket(p, tt->price - off);
    money opt_gross = options ? options->gross : 0, opt_net = options ? options->net : 0;
    jbuf w;
    jb_init(&w, 256);
    jb_obj(&w);
    jb_key(&w, "booking_fee"), jb_int(&w, tt->booking_fee - fee_off);
    jb_key(&w, "discounted_gross"), jb_int(&w, tp.gross + opt_gross + tt->extras);
    jb_key(&w, "discounted_net"), jb_int(&w, tp.net + opt_net + tt->extras);
    jb_key(&w, "extras_gross"), jb_int(&w, tt->extras);
    if (tt->price_tier_id) {
        jb_key(&w, "price_tier"), jb_obj(&w);
        jb_kstr(&w, "id", tt->price_tier_id);
        jb_kstr(&w, "product_id", p->id);
        jb_kstr(&w, "occurrence", occurrence);
        jb_obj_end(&w);
    }
    jb_obj_end(&w);
    char *own = jb_take(&w, NULL);
    char *merged = base && own ? objtext_merge(base, own) : NULL;
    free(base), free(own);
    if (merged && tt->doc) {
        char *more = objtext_merge(merged, tt->doc);
        free(merged);
        merged = more;
    }
    return merged;
}

/* The seats one ticket of p takes at the occurrence, as the store records
 * them with its line (given back when it is voided or refunded). Malloc'd. */
static store_hold *ticket_pools(const cat_product *p, const char *occurrence)
{
    store_hold *h = calloc(p->npools ? p->npools : 1, sizeof *h);
    for (size_t i = 0; h && i < p->npools; i++) {
        snprintf(h[i].pool_id, sizeof h[i].pool_id, "%s", p->pools[i].pool->id);
        snprintf(h[i].occurrence, sizeof h[i].occurrence, "%s", pool_occurrence(p->pools[i].pool, occurrence));
        h[i].amount = p->pools[i].amount;
        h[i].capacity = -1;
    }
    return h;
}

/* Fills the typed columns of a ticket of p; the caller sets ids, status and doc. */
static void ticket_columns(const cat_product *p, money unit, money discount, instant_us valid_from,
                           instant_us valid_to, store_ticket *t)
{
    ticket_price before = price_ticket(p, unit), after = price_ticket(p, unit - discount);
    time_uuid96(t->id); /* its 96 significant bits are the Fourvenues dialect's 24-hex ticket id */
    rand_digits(t->barcode, BARCODE_DIGITS);
    t->product_id = p->id;
    t->price_gross = before.gross;
    t->price_net = before.net;
    t->discount = before.gross - after.gross;
    t->valid_from = valid_from;
    t->valid_to = valid_to;
    t->scan_limit = scan_limit_name(p->scan.limit);
    t->scan_times = p->scan.limit == SCAN_LIMIT_TIMES_PER_DAY ? p->scan.times : 1;
    t->max_scans = p->scan.max_scans;
    t->time_duration = p->scan.time_seconds;
    t->allow_overtime = p->scan.allow_overtime;
    t->in_out = p->scan.in_out;
}

/* ---------- booking ---------- */

typedef struct {
    engine *e;
    const account *a;
    const book_request *req;
    const catalog_snapshot *cs;
    const cat_discount *discount;
    instant_us now;
    char order_id[40];
    bool created, closed, sold_out, discount_exhausted;
    bool terms_wrong;    /* book_request.terms does not match the cart's tickets */
    bool tier_sold_out;  /* a ticket's price tier had no room left */
    bool tier_unknown;   /* a ticket names a tier its product does not have */
    bool barcode_taken;  /* a ticket's own barcode is in use */
    bool cart_outdated; /* a product of the cart, or its event, left the catalog */
    const char *voucher_problem;
    bool answers_refused; /* answers_err says why */
    bo_error answers_err;
    bool voucher_wrong_event;     /* the voucher does not pay for tickets of this event: */
    char voucher_event[48];       /* its id ("" for a product of no event) */
    money voucher_paid;
    money unpaid; /* > 0: a voucher paid part of the order and no payment came for this rest */
    order_record rows; /* the order as booked, when the outbox or the caller wants it */
    bool rows_loaded;
    booked_step then; /* order_book_then's step, in this transaction; NULL none */
    void *then_arg;
    /* book_request.hold's cart, made before the transaction and held in it first */
    const cart_record *held;
    const store_hold *holds;
    size_t nholds;
    bool hold_sold_out; /* its seats were not there */
} book_ctx;

/* Pays up to `due` from a voucher code; the conditional update keeps two
 * orders from spending the same value. */
static db_status spend_voucher(db_conn *c, book_ctx *b, const store_cart *cart, const char *code, money due)
{
    store_voucher_code vc;
    store_status ss = store_voucher_code_find(c, b->a->id, code, &vc);
    if (ss == STORE_NOT_FOUND) {
        b->voucher_problem = "unknown voucher code";
        return DB_ABORT;
    }
    if (ss != STORE_OK) return store_db_status(ss);
    const cat_voucher *voucher = model_voucher(b->cs->model, vc.voucher_id);
    if (!voucher || !vc.available || vc.remaining <= 0) {
        b->voucher_problem = "voucher code is used up or void";
        return DB_ABORT;
    }
    if (voucher->expires_at && voucher->expires_at < b->now) {
        b->voucher_problem = "voucher has expired";
        return DB_ABORT;
    }
    /* a voucher limited to events pays for an order only if every ticket is of one of them */
    for (size_t i = 0; i < cart->nlines; i++) {
        const cat_product *p = model_product(b->cs->model, cart->lines[i].product_id);
        const char *event_id = p ? p->event_id : NULL;
        if (!voucher_applies_to_event(voucher, event_id)) {
            b->voucher_wrong_event = true;
            snprintf(b->voucher_event, sizeof b->voucher_event, "%s", event_id ? event_id : "");
            return DB_ABORT;
        }
    }
    money spend = vc.remaining < due ? vc.remaining : due;
    if (spend <= 0) return DB_OK;
    b->voucher_paid = spend;
    ss = store_voucher_code_spend(c, vc.id, spend, b->now);
    if (ss == STORE_OK)
        ss = store_payment_insert(c, b->a->id, b->order_id, "voucher", "voucher", "paid", spend, code, b->now);
    if (ss == STORE_OK)
        ss = store_redemption_insert(c, b->a->id, "voucher", vc.voucher_id, code, b->order_id, spend, b->now);
    return store_db_status(ss);
}

typedef struct {
    money total_gross, total_net, discount_total, after_gross, after_net, fee_total;
    money fee_discount_total; /* what the discount took off the booking fees (fee_total is after it) */
    int64_t quantity;
    const char *event_id, *category_id;
} order_sums;

/* The tickets a booking makes; the ticket rows point into docs and line_ids. */
typedef struct {
    store_ticket *tickets;
    size_t ntickets, nlines;
    char **docs;         /* four documents per line (its tickets' two discount amounts by their two booking fee
                            discounts: PLAN_DOCS_PER_LINE), shared by its tickets */
    char **own_docs;     /* one per ticket that has answers of its own, else NULL */
    store_hold **pools;  /* one list per line, shared by its tickets */
    char (*line_ids)[40];
} ticket_plan;

#define PLAN_DOCS_PER_LINE 4

static void ticket_plan_free(ticket_plan *tp)
{
    for (size_t i = 0; tp->docs && i < PLAN_DOCS_PER_LINE * tp->nlines; i++) free(tp->docs[i]);
    for (size_t i = 0; tp->own_docs && i < tp->ntickets; i++) free(tp->own_docs[i]);
    free(tp->own_docs);
    for (size_t i = 0; tp->pools && i < tp->nlines; i++) free(tp->pools[i]);
    free(tp->docs);
    free(tp->pools);
    free(tp->line_ids);
    free(tp->tickets);
}

/* Makes the tickets of every line of the cart and sums the order's figures. */
static db_status plan_tickets(book_ctx *b, const store_cart *cart, ticket_plan *plan, order_sums *sum)
{
    const bool unpaid = b->req->status && !strcmp(b->req->status, "open");
    size_t total = 0;
    for (size_t i = 0; i < cart->nlines; i++) total += (size_t)cart->lines[i].quantity;
    *plan = (ticket_plan){.tickets = calloc(total ? total : 1, sizeof *plan->tickets),
                          .nlines = cart->nlines,
                          .docs = calloc(PLAN_DOCS_PER_LINE * cart->nlines + 1, sizeof *plan->docs),
                          .own_docs = calloc(total + 1, sizeof *plan->own_docs),
                          .pools = calloc(cart->nlines + 1, sizeof *plan->pools),
                          .line_ids = calloc(cart->nlines + 1, sizeof *plan->line_ids)};
    if (b->req->terms && b->req->nterms != total) {
        b->terms_wrong = true;
        return DB_ABORT;
    }
    if (b->req->answers && answers_check_cart(b->cs->model, b->req->answers, b->req->nanswers, true, cart,
                                              &b->answers_err) != BO_OK) {
        b->answers_refused = true;
        return DB_ABORT;
    }
    for (size_t i = 0; i < cart->nlines; i++) {
        const store_cart_line *line = &cart->lines[i];
        const cat_product *p = model_product(b->cs->model, line->product_id);
        if (!p || (p->event_id && !p->event)) {
            /* deleted under the cart: the booking fails cleanly (409
             * cart_outdated) and nothing is sold; the cart keeps its hold
             * until it is deleted or expires */
            b->cart_outdated = true;
            return DB_ABORT;
        }
        if (!sum->event_id) sum->event_id = p->event_id;
        if (!sum->category_id && p->ncategories) sum->category_id = p->category_ids[0];
        money unit = line->unit_price;
        /* the line's discount, rounded once, spread over its tickets in shares
         * a cent apart at most: two amounts, one document each */
        money line_off = b->discount && discount_applies_to(b->discount, p->id)
                             ? discount_line_total(b->discount, unit, line->quantity)
                             : 0;
        money low_off = money_share(line_off, line->quantity, line->quantity - 1);
        /* the booking fees' discount, by the same rule (MODEL.md, "Money") */
        money fee_line_off = b->discount && discount_applies_to(b->discount, p->id)
                                 ? discount_line_fee_total(b->discount, p->booking_fee, line->quantity)
                                 : 0;
        money low_fee_off = money_share(fee_line_off, line->quantity, line->quantity - 1);
        instant_us vf, vt;
        validity(p, cart->day, cart->ends_at, b->a->timezone, b->now, &vf, &vt);
        char **docs = &plan->docs[PLAN_DOCS_PER_LINE * i];
        options_priced options = price_options(p, line);
        plan->pools[i] = ticket_pools(p, cart->occurrence);
        time_uuid(plan->line_ids[i]);
        ticket_price before = price_ticket(p, unit);
        for (int64_t q = 0; q < line->quantity; q++) {
            const ticket_terms *tt = b->req->terms ? &b->req->terms[plan->ntickets] : NULL;
            money off = money_share(line_off, line->quantity, q);
            money fee_off = money_share(fee_line_off, line->quantity, q);
            money ticket_unit = unit, extras = 0;
            char *terms_text = NULL;
            if (tt) { /* its own price and fee: its discount is its own too */
                bool applies = b->discount && discount_applies_to(b->discount, p->id);
                ticket_unit = tt->price, extras = tt->extras;
                off = applies ? discount_line_total(b->discount, ticket_unit, 1) : 0;
                fee_off = applies ? discount_line_fee_total(b->discount, tt->booking_fee, 1) : 0;
                terms_text = terms_doc(p, tt, off, fee_off, cart->occurrence, &options);
                if (!terms_text) return DB_ERROR;
            }
            size_t variant = 2 * (size_t)(off != low_off) + (size_t)(fee_off != low_fee_off);
            if (!tt && !docs[variant]) docs[variant] = ticket_doc(p, unit, off, fee_off, NULL, &options);
            const char *base = tt ? terms_text : docs[variant];
            char *answers = b->req->answers ? answers_json(b->cs->model, b->req->answers, b->req->nanswers,
                                                           (int64_t)plan->ntickets)
                                            : NULL;
            if (answers) { /* this ticket's answers make its document its own */
                char *over = malloc(strlen(answers) + 16);
                if (over) sprintf(over, "{\"answers\":%s}", answers);
                plan->own_docs[plan->ntickets] = over ? objtext_merge(base, over) : NULL;
                free(over);
                free(answers);
                free(terms_text);
            } else if (terms_text) {
                plan->own_docs[plan->ntickets] = terms_text;
            }
            store_ticket *t = &plan->tickets[plan->ntickets];
            t->doc = plan->own_docs[plan->ntickets] ? plan->own_docs[plan->ntickets] : docs[variant];
            plan->ntickets++;
            ticket_columns(p, ticket_unit, off, vf, vt, t);
            if (tt && tt->barcode) snprintf(t->barcode, sizeof t->barcode, "%s", tt->barcode);
            /* a ticket's price includes its options and extras; discounts never touch them */
            t->price_gross += options.gross + extras;
            t->price_net += options.net + extras;
            t->order_id = b->order_id;
            t->line_id = plan->line_ids[i];
            t->event_id = p->event_id;
            t->occurrence = cart->occurrence;
            t->status = unpaid ? "unpaid" : "valid";
            t->pools = plan->pools[i];
            t->npools = p->npools;
            ticket_price own_before = tt ? price_ticket(p, ticket_unit) : before;
            ticket_price after = price_ticket(p, ticket_unit - off);
            sum->discount_total += own_before.gross - after.gross;
            sum->after_gross += after.gross + options.gross + extras;
            sum->after_net += after.net + options.net + extras;
            sum->fee_total += (tt ? tt->booking_fee : p->booking_fee) - fee_off;
            sum->fee_discount_total += fee_off;
            sum->total_gross += own_before.gross + options.gross + extras;
            sum->total_net += own_before.net + options.net + extras;
        }
        free(options.json);
        sum->quantity += line->quantity;
    }
    return DB_OK;
}

static void key_int_or_null(jbuf *w, const char *key, bool present, int64_t v)
{
    jb_key(w, key);
    if (present) jb_int(w, v);
    else jb_null(w);
}

/* customer: the cart's and the booking's, merged (JSON object text). */
static char *order_doc(book_ctx *b, const store_cart *cart, const order_sums *sum, const char *customer)
{
    const book_request *req = b->req;
    char *extras = objtext_merge(cart->extras, req->extras);
    jbuf w;
    jb_init(&w, 1024);
    jb_obj(&w);
    jb_key(&w, "customer"), jb_raw(&w, customer);
    jb_key(&w, "extras"), jb_raw(&w, extras);
    free(extras);
    if (sum->category_id) jb_key(&w, "category_id"), jb_str(&w, sum->category_id);
    key_int_or_null(&w, "visit_time", cart->start_time >= 0, cart->start_time);
    key_int_or_null(&w, "visit_end_time", cart->end_time >= 0, cart->end_time);
    key_int_or_null(&w, "starts_at", cart->starts_at != 0, cart->starts_at);
    jb_key(&w, "occurrence"), jb_str(&w, cart->occurrence);
    jb_key(&w, "quantity"), jb_int(&w, sum->quantity);
    jb_key(&w, "total_after_discount_gross"), jb_int(&w, sum->after_gross);
    jb_key(&w, "total_after_discount_net"), jb_int(&w, sum->after_net);
    jb_key(&w, "booking_fee_total"), jb_int(&w, sum->fee_total);
    jb_key(&w, "pricing_tax_included"), jb_int(&w, cart->price_includes_tax);
    jb_key(&w, "discounts"), jb_arr(&w);
    if (b->discount) {
        jb_obj(&w);
        jb_key(&w, "code"), jb_str(&w, b->discount->code);
        jb_key(&w, "type"), jb_str(&w, b->discount->type == DISCOUNT_PERCENTAGE ? "percentage" : "fixed");
        jb_key(&w, "name"), jb_str(&w, b->discount->name);
        jb_key(&w, "amount"), jb_int(&w, sum->discount_total);
        jb_key(&w, "booking_fee_amount"), jb_int(&w, sum->fee_discount_total);
        if (b->discount->external_id) jb_key(&w, "external_id"), jb_str(&w, b->discount->external_id);
        jb_obj_end(&w);
    }
    jb_arr_end(&w);
    jb_key(&w, "reseller"), jb_obj(&w);
    if (req->reseller_id) jb_key(&w, "id"), jb_str(&w, req->reseller_id);
    if (req->reseller_name) jb_key(&w, "name"), jb_str(&w, req->reseller_name);
    jb_obj_end(&w);
    jb_key(&w, "event_id"), jb_str(&w, sum->event_id);
    char *answers = req->answers ? answers_json(b->cs->model, req->answers, req->nanswers, -1) : NULL;
    if (answers) jb_key(&w, "answers"), jb_raw(&w, answers);
    free(answers);
    if (req->test) jb_kbool(&w, "test", true);
    jb_obj_end(&w);
    return jb_take(&w, NULL);
}

/* Reads the order back, as rows, when the outbox (anyone subscribed) or the
 * caller wants it, and records the outbox events from those rows. */
static db_status after_booking(db_conn *c, book_ctx *b, bool created)
{
    bool wanted = false;
    db_status st = created ? events_wanted(c, b->a->id, &wanted) : DB_OK;
    if (st != DB_OK || (!wanted && !b->req->order_out && !b->then)) return st;
    /* only the caller's copy is read after this: commit first (PostgreSQL),
     * so the account's order counter is not held over the reads (not when a
     * step of the caller's still writes in this transaction) */
    if (!wanted && !b->then) db_commit_early(c);
    st = store_db_status(store_order_load(c, b->a->id, b->order_id, &b->rows));
    b->rows_loaded = st == DB_OK;
    if (st == DB_OK && wanted) st = events_record_booking(b->e, c, b->a, &b->rows);
    if (st == DB_OK && b->then) st = b->then(c, &b->rows, created, b->then_arg);
    return st;
}

/* Takes the price tiers the booking's terms name, one count per ticket, in
 * this transaction: a tier with no room left aborts the booking. */
static db_status take_tiers(db_conn *c, book_ctx *b, const store_cart *cart, const ticket_plan *plan)
{
    const ticket_terms *terms = b->req->terms;
    for (size_t i = 0; i < plan->ntickets; i++) {
        if (!terms[i].price_tier_id) continue;
        bool seen = false; /* counted with an earlier ticket of the same product and tier */
        for (size_t j = 0; j < i && !seen; j++)
            seen = terms[j].price_tier_id && !strcmp(terms[j].price_tier_id, terms[i].price_tier_id) &&
                   !strcmp(plan->tickets[j].product_id, plan->tickets[i].product_id);
        if (seen) continue;
        int64_t n = 0;
        for (size_t j = i; j < plan->ntickets; j++)
            n += terms[j].price_tier_id && !strcmp(terms[j].price_tier_id, terms[i].price_tier_id) &&
                 !strcmp(plan->tickets[j].product_id, plan->tickets[i].product_id);
        const cat_product *p = model_product(b->cs->model, plan->tickets[i].product_id);
        const cat_price_tier *tier = NULL;
        for (size_t k = 0; p && k < p->ntiers && !tier; k++)
            if (!strcmp(p->tiers[k].id, terms[i].price_tier_id)) tier = &p->tiers[k];
        if (!tier) {
            b->tier_unknown = true;
            return DB_ABORT;
        }
        store_status ss = store_price_tier_take(c, b->a->id, p->id, cart->occurrence, tier->id, tier->quantity, n);
        if (ss == STORE_SOLD_OUT) {
            b->tier_sold_out = true;
            return DB_ABORT;
        }
        if (ss != STORE_OK) return store_db_status(ss);
    }
    return DB_OK;
}

static db_status book_fn(db_conn *c, void *arg)
{
    book_ctx *b = arg;
    const book_request *req = b->req;
    b->created = false;
    b->voucher_problem = NULL;
    b->terms_wrong = b->tier_sold_out = b->tier_unknown = b->barcode_taken = false;
    b->answers_refused = false;
    b->voucher_wrong_event = false;
    b->voucher_paid = 0;
    b->unpaid = 0;
    if (b->rows_loaded) /* from an attempt that had to run again */ store_order_detail_free(&b->rows);
    b->rows_loaded = false;
    time_uuid(b->order_id);
    store_cart cart;
    bool was_expired = false;
    if (b->held) {
        store_status held = store_cart_insert(c, b->held, b->holds, b->nholds);
        b->hold_sold_out = held == STORE_SOLD_OUT;
        if (held != STORE_OK) return store_db_status(held);
    }
    store_status ss = store_cart_claim(c, b->a->id, req->cart_id, b->order_id, b->now, &cart, &was_expired);
    if (ss == STORE_CONFLICT && *cart.order_id) {
        memcpy(b->order_id, cart.order_id, sizeof b->order_id); /* booked before: the same order again */
        store_cart_free(&cart);
        return after_booking(c, b, false);
    }
    if (ss == STORE_CONFLICT) b->closed = true;
    /* an expired cart's seats were given back by the reaper: take them again */
    if (ss == STORE_OK && was_expired) {
        ss = store_cart_retake(c, b->a->id, req->cart_id);
        if (ss == STORE_SOLD_OUT) b->sold_out = true;
    }
    if (ss != STORE_OK) {
        store_cart_free(&cart);
        return store_db_status(ss);
    }
    ticket_plan plan;
    order_sums sum = {.category_id = *cart.category_id ? cart.category_id : NULL};
    db_status st = plan_tickets(b, &cart, &plan, &sum);
    if (st == DB_OK && req->terms) st = take_tiers(c, b, &cart, &plan);
    /* a channel's own barcode must be free: barcodes are unique in the store, of every account */
    for (size_t i = 0; st == DB_OK && req->terms && i < req->nterms; i++) {
        if (!req->terms[i].barcode) continue;
        st = store_db_status(store_barcode_taken(c, req->terms[i].barcode, &b->barcode_taken));
        if (st == DB_OK && b->barcode_taken) st = DB_ABORT;
    }
    if (st == DB_OK) st = store_db_status(store_tickets_insert(c, b->a->id, plan.tickets, plan.ntickets, b->now));
    if (st == DB_OK && b->discount) {
        char counter[80];
        snprintf(counter, sizeof counter, "discount:%s", b->discount->id);
        int64_t used;
        st = store_db_status(store_counter_next(c, b->a->id, counter, &used));
        if (st == DB_OK && b->discount->max_redemptions >= 0 && used > b->discount->max_redemptions) {
            b->discount_exhausted = true;
            st = DB_ABORT;
        }
        if (st == DB_OK)
            st = store_db_status(store_redemption_insert(c, b->a->id, "discount", b->discount->id,
                                                         b->discount->code, b->order_id, sum.discount_total, b->now));
    }
    if (st == DB_OK && req->voucher_code && *req->voucher_code)
        st = spend_voucher(c, b, &cart, req->voucher_code, sum.after_gross + sum.fee_total);
    money due = sum.after_gross + sum.fee_total - b->voucher_paid;
    /* a sale a voucher pays in part is paid at the till for the rest, or
     * not made (docs/ADMIN_API.md); an open order is paid for the rest later,
     * through the payment step (docs/PAYMENTS.md, "Vouchers") */
    bool pay_later = req->status && !strcmp(req->status, "open");
    if (st == DB_OK && !req->payment && !pay_later && b->voucher_paid > 0 && due > 0) {
        b->unpaid = due;
        st = DB_ABORT;
    }
    if (st == DB_OK && req->payment && (req->payment->amount >= 0 || due > 0 || !b->voucher_paid)) {
        const payment_input *p = req->payment;
        st = store_db_status(store_payment_insert(c, b->a->id, b->order_id, p->provider, p->method,
                                                  p->status ? p->status : "paid", p->amount >= 0 ? p->amount : due,
                                                  p->reference, b->now));
    }
    char *customer = st == DB_OK ? objtext_merge(cart.customer, req->customer) : NULL;
    char *doc = customer ? order_doc(b, &cart, &sum, customer) : NULL;
    if (st == DB_OK && !doc) st = DB_ERROR;
    /* the confirmation mail is queued with the order, so it survives whatever
     * happens after the commit (an open order gets it when paid) */
    if (st == DB_OK && !(req->status && !strcmp(req->status, "open"))) {
        char *recipient = objtext_string(customer, "email");
        st = mail_queue_booked(c, b->a, b->order_id, recipient, b->now);
        free(recipient);
    }
    /* The account's change counter is a hot row: take it last, so its lock is
     * held for one statement and the commit only. */
    if (st == DB_OK) {
        char number[12], visit[11];
        rand_digits(number, 8);
        if (cart.day >= 0) date_format(cart.day, visit);
        char *email = objtext_string(customer, "email"), *name = objtext_string(customer, "name");
        store_order o = {.id = b->order_id, .number = number,
                          .status = req->status && !strcmp(req->status, "open") ? "open" : "confirmed",
                          .channel = req->channel ? req->channel : cart.channel, .cart_id = req->cart_id,
                          .external_id = cart.external_id, .email = email, .customer_name = name,
                          .reseller_id = req->reseller_id, .visit_date = cart.day >= 0 ? visit : NULL,
                          .currency = b->a->currency, .doc = doc, .total_gross = sum.total_gross,
                          .total_net = sum.total_net, .discount_total = sum.discount_total};
        st = store_db_status(store_order_insert_next_change(c, b->a->id, &o, b->now));
        free(email);
        free(name);
    }
    free(doc);
    free(customer);
    ticket_plan_free(&plan);
    store_cart_free(&cart);
    if (st == DB_OK) st = after_booking(c, b, true);
    if (st == DB_OK) b->created = true;
    return st;
}

/* A booking's outcome: the refusal its steps recorded, else the transaction's status. */
static bo_status book_outcome(const book_ctx *b, db_status st, bo_error *err)
{
    const account *a = b->a;
    if (b->hold_sold_out) return bo_fail(err, BO_SOLD_OUT, "sold_out", "items", "not enough tickets left; nothing was held");
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "cart_not_found", "cart_id", "no such cart");
    if (b->closed) return bo_fail(err, BO_CONFLICT, "cart_closed", "cart_id", "the cart was deleted");
    if (b->sold_out)
        return bo_fail(err, BO_SOLD_OUT, "sold_out", "cart_id", "the cart expired and its tickets were sold meanwhile");
    if (b->discount_exhausted)
        return bo_fail(err, BO_CONFLICT, "discount_exhausted", "discount_code", "discount code was used up");
    if (b->cart_outdated)
        return bo_fail(err, BO_CONFLICT, "cart_outdated", "cart_id",
                       "a product of the cart, or its event, is no longer in the catalog");
    if (b->terms_wrong)
        return bo_fail(err, BO_INVALID, "invalid_terms", "items", "the booking's terms must name every ticket of the cart");
    if (b->tier_unknown)
        return bo_fail(err, BO_INVALID, "unknown_price_tier", "price_tier_id", "the product has no such price tier");
    if (b->tier_sold_out)
        return bo_fail(err, BO_SOLD_OUT, "tier_sold_out", "price_tier_id", "a price tier has no tickets left");
    if (b->barcode_taken)
        return bo_fail(err, BO_CONFLICT, "barcode_taken", "barcode", "a ticket's barcode is already in use");
    if (b->answers_refused) {
        *err = b->answers_err;
        return err->status;
    }
    if (b->voucher_problem) return bo_fail(err, BO_INVALID, "invalid_voucher", "voucher_code", "%s", b->voucher_problem);
    if (b->voucher_wrong_event)
        return bo_fail(err, BO_INVALID, "voucher_not_valid_for_event", "voucher_code",
                       *b->voucher_event ? "the voucher does not pay for tickets of event %s"
                                         : "the voucher pays only for tickets of its events%s",
                       b->voucher_event);
    if (b->unpaid > 0) {
        char paid[32], rest[32];
        money_format(b->voucher_paid, a->currency_decimals, paid, sizeof paid);
        money_format(b->unpaid, a->currency_decimals, rest, sizeof rest);
        return bo_fail(err, BO_INVALID, "payment_required", "payment",
                       "the voucher pays %s; a payment is needed for the other %s", paid, rest);
    }
    if (st != DB_OK) return bo_from_db(st, err);
    return BO_OK;
}

/* Whether text (a caller's JSON) is an object: the caller validated it, this
 * only refuses another JSON type. */
static bool object_text(const char *text)
{
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r') text++;
    return *text == '{';
}

bo_status order_book(engine *e, const account *a, const book_request *req, char order_id[40], bool *created,
                     bo_error *err)
{
    return order_book_then(e, a, req, NULL, NULL, order_id, created, err);
}

static bo_status book_prepared(engine *e, const account *a, const book_request *req, booked_step then,
                               void *then_arg, const cart_record *held, const store_hold *holds, size_t nholds,
                               char order_id[40], bool *created, bo_error *err);

bo_status order_book_then(engine *e, const account *a, const book_request *req, booked_step then, void *then_arg,
                          char order_id[40], bool *created, bo_error *err)
{
    if (req->order_out) memset(req->order_out, 0, sizeof *req->order_out);
    if (!req->hold) return book_prepared(e, a, req, then, then_arg, NULL, NULL, 0, order_id, created, err);
    /* the cart is planned (its catalog checks, prices and seats) before the
     * transaction, as cart_create plans it, and held inside it */
    cart_record held;
    store_hold *holds;
    size_t nholds;
    bo_status bs = cart_prepare(e, a, req->hold, &held, &holds, &nholds, err);
    if (bs != BO_OK) return bs;
    book_request with_cart = *req;
    with_cart.cart_id = held.id;
    bs = book_prepared(e, a, &with_cart, then, then_arg, &held, holds, nholds, order_id, created, err);
    store_cart_free(&held);
    free(holds);
    return bs;
}

static bo_status book_prepared(engine *e, const account *a, const book_request *req, booked_step then,
                               void *then_arg, const cart_record *held, const store_hold *holds, size_t nholds,
                               char order_id[40], bool *created, bo_error *err)
{
    if (!req->cart_id || strlen(req->cart_id) > 64)
        return bo_fail(err, BO_INVALID, "missing_field", "cart_id", "cartId is required");
    if (req->customer && !object_text(req->customer))
        return bo_fail(err, BO_INVALID, "invalid_field", "customer", "customer must be an object");
    if (req->extras && !object_text(req->extras))
        return bo_fail(err, BO_INVALID, "invalid_field", "extras", "extras must be an object");
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    book_ctx b = {.e = e, .a = a, .req = req, .cs = cs, .now = clock_now(), .then = then, .then_arg = then_arg,
                  .held = held, .holds = holds, .nholds = nholds};
    if (req->nanswers && answers_check(cs->model, req->answers, req->nanswers, err) != BO_OK) {
        catalog_release(cs);
        return err->status;
    }
    if (req->discount_code && *req->discount_code) {
        b.discount = model_discount_by_code(cs->model, req->discount_code);
        if (!b.discount) {
            catalog_release(cs);
            return bo_fail(err, BO_INVALID, "invalid_discount", "discount_code", "unknown discount code");
        }
        if (b.discount->expires_at && b.discount->expires_at < b.now) {
            catalog_release(cs);
            return bo_fail(err, BO_INVALID, "discount_expired", "discount_code", "discount code has expired");
        }
    }
    db_status st = store_write(e->st, book_fn, &b);
    catalog_release(cs);
    if (st == DB_OK && req->order_out && b.rows_loaded) {
        *req->order_out = b.rows; /* handed over */
    } else if (b.rows_loaded) {
        store_order_detail_free(&b.rows);
    }
    if (book_outcome(&b, st, err) != BO_OK) return err->status;
    memcpy(order_id, b.order_id, 40);
    if (created) *created = b.created;
    return BO_OK;
}

/* ---------- many orders in one transaction ---------- */

typedef struct {
    engine *e;
    const account *a;
    catalog_snapshot *cs;
    const book_request *booking;
    cart_record *carts;
    store_hold **holds;
    size_t *nholds, n;
    bool hold_sold_out; /* a cart's seats were not there */
    book_ctx failed;    /* the booking that refused, for its outcome */
} book_many_ctx;

/* One cart and its booking, in a savepoint: a lost race (an order number
 * taken) reruns that order alone instead of the whole batch. */
static db_status book_one_of_many(db_conn *c, book_many_ctx *x, size_t i)
{
    book_request req = *x->booking;
    req.cart_id = x->carts[i].id;
    req.order_out = NULL;
    for (int attempt = 0;; attempt++) {
        book_ctx b = {.e = x->e, .a = x->a, .req = &req, .cs = x->cs, .now = clock_now()};
        db_status st = db_exec(c, "SAVEPOINT bulk_order", DB_NOARGS, NULL);
        if (st != DB_OK) return st;
        store_status held = store_cart_insert(c, &x->carts[i], x->holds[i], x->nholds[i]);
        x->hold_sold_out = held == STORE_SOLD_OUT;
        st = store_db_status(held);
        if (st == DB_OK) st = book_fn(c, &b);
        if (b.rows_loaded) store_order_detail_free(&b.rows);
        if (st == DB_OK) return db_exec(c, "RELEASE bulk_order", DB_NOARGS, NULL);
        if (db_exec(c, "ROLLBACK TO bulk_order", DB_NOARGS, NULL) != DB_OK) return DB_ERROR;
        db_exec(c, "RELEASE bulk_order", DB_NOARGS, NULL);
        if (st != DB_RETRY || attempt >= 3) {
            x->failed = b;
            return st;
        }
    }
}

static db_status book_many_fn(db_conn *c, void *arg)
{
    book_many_ctx *x = arg;
    x->failed = (book_ctx){.a = x->a};
    for (size_t i = 0; i < x->n; i++) {
        db_status st = book_one_of_many(c, x, i);
        if (st != DB_OK) return st;
    }
    return DB_OK;
}

bo_status orders_book_many(engine *e, const account *a, const cart_request *carts, size_t n,
                           const book_request *booking, bo_error *err)
{
    if ((booking->discount_code && *booking->discount_code) || (booking->voucher_code && *booking->voucher_code))
        return bo_fail(err, BO_INVALID, "invalid_field", "discount_code", "a bulk booking takes no codes");
    if (booking->nanswers)
        return bo_fail(err, BO_INVALID, "invalid_field", "answers", "a bulk booking takes no answers");
    if ((booking->customer && !object_text(booking->customer)) || (booking->extras && !object_text(booking->extras)))
        return bo_fail(err, BO_INVALID, "invalid_field", "customer", "customer and extras must be objects");
    book_many_ctx x = {.e = e, .a = a, .booking = booking, .n = n, .carts = calloc(n + 1, sizeof *x.carts),
                       .holds = calloc(n + 1, sizeof *x.holds), .nholds = calloc(n + 1, sizeof *x.nholds)};
    bo_status bs = BO_OK;
    size_t prepared = 0;
    for (; bs == BO_OK && prepared < n; prepared++)
        bs = cart_prepare(e, a, &carts[prepared], &x.carts[prepared], &x.holds[prepared], &x.nholds[prepared], err);
    if (bs == BO_OK) {
        x.cs = catalog_acquire(e, a);
        if (!x.cs) bs = bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    }
    if (bs == BO_OK) {
        db_status st = store_write(e->st, book_many_fn, &x);
        catalog_release(x.cs);
        bs = x.hold_sold_out ? bo_fail(err, BO_SOLD_OUT, "sold_out", "items", "not enough tickets left; nothing was held")
                             : book_outcome(&x.failed, st, err);
    }
    for (size_t i = 0; i < prepared; i++) {
        store_cart_free(&x.carts[i]);
        free(x.holds[i]);
    }
    free(x.carts);
    free(x.holds);
    free(x.nholds);
    return bs;
}

/* ---------- changes to existing orders and tickets ---------- */

db_status order_touch(engine *e, db_conn *c, const account *a, const char *order_id, instant_us now)
{
    db_status st = store_db_status(store_order_touch(c, a->id, order_id, now));
    return st == DB_OK ? events_record_order(e, c, a, EV_ORDER_UPDATED, order_id) : st;
}

/* Gives a live ticket's seats back and marks it with new_status, with the
 * document `doc` (NULL keeps it). *step gets the store's answer to the change
 * (STORE_CONFLICT: no longer live). */
db_status release_ticket(engine *e, db_conn *c, const account *a, const store_ticket_state *t,
                                const char *new_status, const char *doc, instant_us now, store_status *step)
{
    *step = store_ticket_invalidate(c, a->id, t->id, new_status, t->pools, t->npools, doc, now);
    db_status st = store_db_status(*step);
    /* a ticket sold at a price tier gives its place in the tier back with its seats */
    char *tier = st == DB_OK && t->doc ? objtext_member(t->doc, "price_tier") : NULL;
    if (tier) {
        char *id = objtext_string(tier, "id"), *product = objtext_string(tier, "product_id");
        char *occurrence = objtext_string(tier, "occurrence");
        if (id && product && occurrence)
            st = store_db_status(store_price_tier_give_back(c, a->id, product, occurrence, id, 1));
        free(id), free(product), free(occurrence), free(tier);
    }
    return st == DB_OK ? events_record_ticket(e, c, a->id, EV_TICKET_UPDATED, t->id) : st;
}

typedef struct {
    engine *e;
    const account *a;
    const char *order_id, *reason, *by;
    instant_us now;
    store_status refused; /* the order's state refused it: STORE_NOT_FOUND or STORE_CONFLICT (cancelled) */
    payment_session *closed; /* the open payment session cancelled with the order; id "" none */
} cancel_ctx;

/* Refunds the order for every live ticket (order_refund) and records each
 * ticket's part in its document. */
static db_status refund_tickets(db_conn *c, cancel_ctx *x)
{
    store_ticket_state *t;
    size_t n;
    money refunded = 0, *amounts = NULL;
    db_status st = store_db_status(store_order_live_tickets(c, x->a->id, x->order_id, &t, &n));
    if (st == DB_OK) st = (amounts = calloc(n ? n : 1, sizeof *amounts)) ? DB_OK : DB_ERROR;
    if (st == DB_OK) st = order_refund(c, x->a->id, x->order_id, t, n, x->now, amounts, &refunded);
    for (size_t i = 0; i < n && st == DB_OK; i++) {
        jbuf w;
        jb_init(&w, 256);
        jb_obj(&w);
        jb_key(&w, "refund"), jb_obj(&w);
        if (x->reason) jb_kstr(&w, "reason", x->reason);
        if (x->by) jb_kstr(&w, "by", x->by);
        jb_kint(&w, "at", x->now);
        jb_kint(&w, "amount", amounts[i]);
        jb_kbool(&w, "paid", refunded > 0);
        jb_obj_end(&w);
        jb_obj_end(&w);
        char *refund = jb_take(&w, NULL);
        char *doc = refund ? objtext_merge(t[i].doc, refund) : NULL;
        free(refund);
        if (!doc) {
            st = DB_ERROR;
            break;
        }
        store_status step;
        st = release_ticket(x->e, c, x->a, &t[i], "refunded", doc, x->now, &step);
        free(doc);
        if (step == STORE_CONFLICT) st = DB_RETRY; /* voided meanwhile: read the order again */
    }
    free(amounts);
    store_ticket_states_free(t, n);
    return st;
}

/* The order's document with the cancellation fields set (malloc'd text). */
char *cancelled_doc(const char *doc_text, const char *reason, const char *by, instant_us now)
{
    jbuf w;
    jb_init(&w, 256);
    jb_obj(&w);
    jb_kstr(&w, "status_reason", reason);
    jb_kint(&w, "cancelled_at", now);
    jb_kstr(&w, "cancelled_by", by);
    jb_obj_end(&w);
    char *fields = jb_take(&w, NULL);
    char *text = fields ? objtext_merge(doc_text, fields) : NULL;
    free(fields);
    return text;
}

static db_status cancel_fn(db_conn *c, void *arg)
{
    cancel_ctx *x = arg;
    x->refused = STORE_OK;
    store_order_state o;
    store_status ss = store_order_state_get(c, x->a->id, x->order_id, &o);
    if (ss == STORE_OK && !strcmp(o.status, "cancelled")) ss = STORE_CONFLICT;
    if (ss == STORE_NOT_FOUND || ss == STORE_CONFLICT) x->refused = ss;
    db_status st = store_db_status(ss);
    if (st == DB_OK) st = refund_tickets(c, x);
    if (st == DB_OK) {
        char *doc = cancelled_doc(o.doc, x->reason, x->by, x->now);
        ss = doc ? store_order_cancel(c, x->a->id, x->order_id, doc, x->now) : STORE_ERROR;
        free(doc);
        if (ss == STORE_NOT_FOUND || ss == STORE_CONFLICT) x->refused = ss;
        st = store_db_status(ss);
    }
    store_order_state_free(&o);
    /* nobody can pay for it any more: its payment session ends with it */
    if (st == DB_OK) st = payment_sessions_end_with_order(c, x->a, x->order_id, x->now, x->closed);
    if (st == DB_OK) st = events_record_order(x->e, c, x->a, EV_ORDER_UPDATED, x->order_id);
    return st;
}

bo_status order_cancel(engine *e, const account *a, const char *order_id, const char *reason, const char *by,
                       bo_error *err)
{
    if (!order_id || strlen(order_id) > 64) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    if (reason && strlen(reason) > 500)
        return bo_fail(err, BO_INVALID, "invalid_field", "reason", "reason is at most 500 characters");
    payment_session *closed = calloc(1, sizeof *closed);
    if (!closed) return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    cancel_ctx x = {e, a, order_id, reason, by, clock_now(), STORE_OK, closed};
    db_status st = store_write(e->st, cancel_fn, &x);
    if (st == DB_OK && x.refused == STORE_OK) payment_session_cancel_at_provider(e, a, closed);
    free(closed);
    switch (x.refused) {
    case STORE_CONFLICT:
        return bo_fail(err, BO_CONFLICT, "already_cancelled", "status", "the order is already cancelled");
    case STORE_NOT_FOUND: return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    case STORE_OK:
    case STORE_SOLD_OUT:
    case STORE_RETRY:
    case STORE_FULL:
    case STORE_ERROR: break;
    }
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    return bo_from_db(st, err);
}

typedef struct {
    engine *e;
    const account *a;
    const char *order_id;
    const payment_input *p;
    instant_us now;
    store_status paid;
} paid_ctx;

static db_status mark_paid_fn(db_conn *c, void *arg)
{
    paid_ctx *x = arg;
    store_payment pay = {x->p ? x->p->provider : NULL, x->p ? x->p->method : NULL, x->p ? x->p->reference : NULL,
                         x->p ? x->p->amount : -1};
    db_status st = pay.amount < 0 ? order_owed(c, x->a->id, x->order_id, &pay.amount) : DB_OK;
    x->paid = st == DB_OK ? store_order_mark_paid(c, x->a->id, x->order_id, &pay, x->now) : STORE_ERROR;
    st = store_db_status(x->paid);
    if (st == DB_OK) st = mail_queue_paid(c, x->a, x->order_id, x->now);
    if (st == DB_OK) st = events_record_order(x->e, c, x->a, EV_ORDER_UPDATED, x->order_id);
    return st == DB_OK ? events_record_order(x->e, c, x->a, EV_ORDER_PAID, x->order_id) : st;
}

bo_status order_mark_paid(engine *e, const account *a, const char *order_id, const payment_input *p, bo_error *err)
{
    paid_ctx x = {e, a, order_id, p, clock_now(), STORE_OK};
    db_status st = store_write(e->st, mark_paid_fn, &x);
    switch (x.paid) {
    case STORE_CONFLICT: return bo_fail(err, BO_CONFLICT, "not_open", "status", "only open orders can be paid");
    case STORE_NOT_FOUND: return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    case STORE_OK:
    case STORE_SOLD_OUT:
    case STORE_RETRY:
    case STORE_FULL:
    case STORE_ERROR: break;
    }
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    return bo_from_db(st, err);
}

typedef struct {
    engine *e;
    const account *a;
    const catalog_snapshot *cs;
    const cat_product *product;
    const slot *at;
    const char *holder;
    money price;
    instant_us now;
    char ticket_id[40];
    bool sold_out;
} issue_ctx;

static db_status issue_fn(db_conn *c, void *arg)
{
    issue_ctx *x = arg;
    cart_line line = {x->product->id, 1};
    store_hold *holds;
    bo_error err;
    int n = pool_needs_for(x->cs->model, x->at->key, &line, 1, &holds, &err);
    if (n < 0) return DB_ERROR;
    store_status ss = store_inventory_take(c, x->a->id, holds, (size_t)n);
    free(holds);
    if (ss == STORE_SOLD_OUT) x->sold_out = true;
    if (ss != STORE_OK) return store_db_status(ss);
    char line_id[37];
    time_uuid(line_id);
    instant_us vf, vt;
    validity(x->product, x->at->day, x->at->day >= 0 ? x->at->ends_at : 0, x->a->timezone, x->now, &vf, &vt);
    store_ticket t = {0};
    ticket_columns(x->product, x->price, 0, vf, vt, &t);
    char *doc = ticket_doc(x->product, x->price, 0, 0, x->holder, NULL);
    store_hold *pools = ticket_pools(x->product, x->at->key);
    t.pools = pools;
    t.npools = x->product->npools;
    t.line_id = line_id;
    t.event_id = x->product->event_id;
    t.occurrence = x->at->key;
    t.status = "valid";
    t.doc = doc;
    ss = doc && pools ? store_tickets_insert(c, x->a->id, &t, 1, x->now) : STORE_ERROR;
    free(doc);
    free(pools);
    if (ss != STORE_OK) return store_db_status(ss);
    memcpy(x->ticket_id, t.id, sizeof x->ticket_id);
    return events_record_ticket(x->e, c, x->a->id, EV_TICKET_CREATED, x->ticket_id);
}

bo_status ticket_issue(engine *e, const account *a, const char *product_id, const char *occurrence_id,
                       civil_date day, int32_t start_time, const char *holder, const char *channel,
                       char ticket_id[40], bo_error *err)
{
    (void)channel;
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const cat_product *p = model_product(cs->model, product_id);
    slot at;
    bo_status bs = p ? occurrence_resolve_in(cs->model, a, p, NULL, day, start_time, occurrence_id, &at, err)
                     : bo_fail(err, BO_INVALID, "unknown_product", "product_id", "no product with id %s", product_id);
    if (bs == BO_OK && !at.open) bs = bo_fail(err, BO_SOLD_OUT, "not_available", "occurrence_id", "not on sale");
    if (bs != BO_OK) {
        catalog_release(cs);
        return bs;
    }
    if (holder && !object_text(holder)) {
        catalog_release(cs);
        return bo_fail(err, BO_INVALID, "invalid_field", "holder", "holder must be an object");
    }
    issue_ctx x = {e, a, cs, p, &at, holder, engine_price_at(e, a, p, &at, 1).unit_price, clock_now(), {0}, false};
    db_status st = store_write(e->st, issue_fn, &x);
    catalog_release(cs);
    if (x.sold_out) return bo_fail(err, BO_SOLD_OUT, "sold_out", "product_id", "no tickets left");
    if (st != DB_OK) return bo_from_db(st, err);
    memcpy(ticket_id, x.ticket_id, 40);
    return BO_OK;
}

typedef struct {
    engine *e;
    const account *a;
    const char *ticket_id;
    instant_us now;
    store_status refused; /* STORE_NOT_FOUND, or STORE_CONFLICT: already void */
} void_ctx;

static db_status void_fn(db_conn *c, void *arg)
{
    void_ctx *x = arg;
    x->refused = STORE_OK;
    store_ticket_state t;
    store_status ss = store_ticket_state_get(c, x->a->id, x->ticket_id, &t);
    if (ss == STORE_OK && strcmp(t.status, "valid") && strcmp(t.status, "unpaid")) ss = STORE_CONFLICT;
    db_status st = store_db_status(ss);
    if (st == DB_OK) st = release_ticket(x->e, c, x->a, &t, "voided", NULL, x->now, &ss);
    if (ss == STORE_NOT_FOUND || ss == STORE_CONFLICT) x->refused = ss;
    if (st == DB_OK && *t.order_id) st = order_touch(x->e, c, x->a, t.order_id, x->now);
    store_ticket_state_free(&t);
    return st;
}

bo_status ticket_void(engine *e, const account *a, const char *ticket_id, bo_error *err)
{
    if (!ticket_id || strlen(ticket_id) > 64) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such ticket");
    void_ctx x = {e, a, ticket_id, clock_now(), STORE_OK};
    db_status st = store_write(e->st, void_fn, &x);
    switch (x.refused) {
    case STORE_CONFLICT: return bo_fail(err, BO_CONFLICT, "already_void", "", "the ticket is already void");
    case STORE_NOT_FOUND: return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such ticket");
    case STORE_OK:
    case STORE_SOLD_OUT:
    case STORE_RETRY:
    case STORE_FULL:
    case STORE_ERROR: break;
    }
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such ticket");
    return bo_from_db(st, err);
}
