/* POST /tickets/checkout: the seed's body verbatim (docs/dialects/fourvenues.md,
 * "Checkout"). Every ticket of one rate is held in one cart, booked as one
 * open order whose tickets carry their own terms (book_request.terms: the
 * price tier taken in the booking's transaction, the tier's price and fee,
 * the account's platform fee, supplements and warranty), then paid through
 * the engine's payment step (core/payment.h) on the hosted page. The payment's
 * id is the order's external_id. */
#include "api/fourvenues/fourvenues.h"
#include "api/pay/pay.h"
#include "core/payment.h"
#include "util/jbuf.h"
#include "util/objtext.h"
#include "util/secure.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECKOUT_MAX_TICKETS 100
#define METADATA_MAX_BYTES 1024
#define HOLDER_TEXT_MAX 200
/* a price tier that fills between the plan and the booking: plan again */
#define TIER_ATTEMPTS 20

/* ISO 3166-1 alpha-2, officially assigned codes. */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO "
    "FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE "
    "JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO "
    "MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW "
    "PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM "
    "TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

static bool country_known(const char *code)
{
    if (strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') return false;
    for (size_t k = 0; k + 2 < sizeof countries; k += 3)
        if (countries[k] == code[0] && countries[k + 1] == code[1]) return true;
    return false;
}

/* One ticket of the body, checked. */
typedef struct {
    int requested;                  /* the tier its price_id names (-1: the product's own price) */
    bool price_seen;                /* the body's optional price: what the buyer was shown for it */
    money seen_price;
    const char *qr_code;            /* NULL: generated */
    json_t *holder;                 /* the holder's fields, as the canonical ticket's holder */
    const cat_supplement **supplements;
    size_t nsupplements;
    bool warranty;
    question_answer *answers;
    size_t nanswers;
} fv_ticket_in;

/* The body, checked. */
typedef struct {
    fv_event ev;
    const cat_product *p;
    char rate_id[FV_ID_LEN + 1];
    char channel_id[FV_ID_LEN + 1]; /* the key's channel (auth.c): the tickets' channel_id */
    fv_ticket_in *tickets;
    size_t n;
    json_t *metadata; /* borrowed */
    json_t *holders;  /* owns every ticket's holder; the caller frees it */
    bool send_resources;
    const char *redirect_url, *error_url, *discount_code;
    money own_price; /* a product without tiers: its price now (a dynamic product's current one) */
    bool dynamic;    /* own_price is a dynamic price, which may have moved since the rate was shown */
} checkout_in;

/* Refuses with the field named after ticket i: "tickets[i].<name>". */
static bool ticket_error(http_request *r, int status, const char *code, size_t i, const char *name, const char *message)
{
    char field[128];
    snprintf(field, sizeof field, "tickets[%zu].%s", i, name);
    fv_error(r, status, code, field, "%s", message);
    return false;
}

static bool qr_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 6 || n > 64) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

/* A holder text field: absent or null, else text of 1..HOLDER_TEXT_MAX bytes without NUL. */
static bool holder_text(http_request *r, const json_t *t, size_t i, const char *name, json_t *holder,
                        const char *as)
{
    const json_t *v = json_object_get(t, name);
    if (!v || json_is_null(v)) return true;
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) != json_string_length(v) || strlen(s) > HOLDER_TEXT_MAX)
        return ticket_error(r, 400, "invalid_field", i, name, "must be text of 1 to 200 characters");
    json_object_set_new(holder, as, json_string(s));
    return true;
}

static bool holder_checked(http_request *r, const json_t *t, size_t i, json_t *holder)
{
    static const char *const texts[][2] = {{"full_name", "name"},   {"phone", "phone"},
                                           {"email", "email"},      {"address", "address"},
                                           {"postal_code", "postal_code"},
                                           {"personal_document_number", "personal_document_number"}};
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
        if (!holder_text(r, t, i, texts[k][0], holder, texts[k][1])) return false;
    const char *email = json_string_value(json_object_get(holder, "email"));
    const char *at = email ? strchr(email, '@') : NULL;
    if (email && (!at || at == email || !at[1] || strchr(at + 1, '@') || strpbrk(email, " \t\r\n<>,;")))
        return ticket_error(r, 400, "invalid_field", i, "email", "email must be an e-mail address");
    const json_t *g = json_object_get(t, "gender");
    if (g && !json_is_null(g)) {
        const char *gs = json_string_value(g);
        int64_t v = json_is_integer(g) ? json_integer_value(g) : gs && !strcmp(gs, "0") ? 0 : gs && !strcmp(gs, "1") ? 1 : -1;
        if (v != 0 && v != 1) return ticket_error(r, 400, "invalid_field", i, "gender", "gender is 0 or 1");
        json_object_set_new(holder, "gender", json_integer(v));
    }
    const json_t *b = json_object_get(t, "birthday");
    if (b && !json_is_null(b)) {
        civil_date day, today;
        int32_t secs;
        tz_instant_to_local("UTC", clock_now(), &today, &secs);
        if (!json_is_string(b) || !date_parse(json_string_value(b), &day) || day > today ||
            day < date_from_ymd(1900, 1, 1))
            return ticket_error(r, 400, "invalid_field", i, "birthday",
                                "birthday must be a real date (YYYY-MM-DD) from 1900 to today");
        json_object_set_new(holder, "birthday", json_string(json_string_value(b)));
    }
    const json_t *cc = json_object_get(t, "country_code");
    if (cc && !json_is_null(cc)) {
        if (!json_is_string(cc) || !country_known(json_string_value(cc)))
            return ticket_error(r, 400, "invalid_field", i, "country_code",
                                "country_code must be an ISO 3166-1 alpha-2 code (ES)");
        json_object_set_new(holder, "country_code", json_string(json_string_value(cc)));
    }
    const json_t *dt = json_object_get(t, "personal_document_type");
    if (dt && !json_is_null(dt)) {
        const char *s = json_string_value(dt);
        if (!s || (strcmp(s, "dni") && strcmp(s, "nie") && strcmp(s, "passport") && strcmp(s, "other")))
            return ticket_error(r, 400, "invalid_field", i, "personal_document_type",
                                "personal_document_type is dni, nie, passport or other");
        json_object_set_new(holder, "personal_document_type", json_string(s));
    }
    return true;
}

/* The tier a price_id names: its index, -1 for a product without tiers; false when none. */
static bool tier_of(const cat_product *p, const char *price_id, int *out)
{
    char id[21];
    if (!p->ntiers) {
        fv_numeric_id("price", p->id, "", id);
        *out = -1;
        return !strcmp(id, price_id);
    }
    for (size_t k = 0; k < p->ntiers; k++) {
        fv_numeric_id("price", p->id, p->tiers[k].id, id);
        if (!strcmp(id, price_id)) return *out = (int)k, true;
    }
    return false;
}

static bool supplements_checked(http_request *r, const cat_product *p, const json_t *t, size_t i, fv_ticket_in *out)
{
    const json_t *list = json_object_get(t, "supplements");
    if (!list || json_is_null(list)) return true;
    if (!json_is_array(list) || json_array_size(list) > 100)
        return ticket_error(r, 400, "invalid_field", i, "supplements", "supplements is a list of {supplement_id}");
    out->supplements = http_alloc(r, (p->nsupplements + 1) * sizeof *out->supplements);
    size_t k;
    json_t *s;
    json_array_foreach(list, k, s)
    {
        const char *sid = json_string_value(json_object_get(s, "supplement_id"));
        const cat_supplement *found = NULL;
        for (size_t x = 0; sid && x < p->nsupplements && !found; x++) {
            char id[21];
            fv_numeric_id("supplement", p->id, p->supplements[x].id, id);
            if (!strcmp(id, sid)) found = &p->supplements[x];
        }
        if (!found) {
            char name[64];
            snprintf(name, sizeof name, "supplements[%zu].supplement_id", k);
            return ticket_error(r, 400, "invalid_field", i, name, "not a supplement of this ticket rate");
        }
        bool seen = false; /* each at most once per ticket: a repeat collapses */
        for (size_t x = 0; x < out->nsupplements && !seen; x++) seen = out->supplements[x] == found;
        if (!seen) out->supplements[out->nsupplements++] = found;
    }
    return true;
}

/* The ticket's answers to the rate's questions; every required one present. */
static bool answers_checked(http_request *r, const catalog_model *m, const cat_product *p, const json_t *t, size_t i,
                            fv_ticket_in *out)
{
    const json_t *list = json_object_get(t, "answers");
    if (list && !json_is_null(list) && (!json_is_array(list) || json_array_size(list) > 100))
        return ticket_error(r, 400, "invalid_field", i, "answers", "answers is a list of {question_id, answer}");
    size_t n = json_array_size(list);
    out->answers = http_alloc(r, (n + 1) * sizeof *out->answers);
    size_t k;
    json_t *x;
    json_array_foreach(list, k, x)
    {
        const char *qid = json_string_value(json_object_get(x, "question_id"));
        const json_t *answer = json_object_get(x, "answer");
        const cat_question *q = NULL;
        for (size_t j = 0; qid && j < model_count(m, CAT_QUESTION) && !q; j++) {
            const cat_question *c = model_object_at(m, CAT_QUESTION, j);
            char id[21];
            fv_numeric_id("question", c->id, NULL, id);
            if (c->per_ticket && question_asked_for(c, p->id) && !strcmp(id, qid)) q = c;
        }
        char name[48];
        snprintf(name, sizeof name, "answers[%zu].question_id", k);
        if (!q) return ticket_error(r, 400, "invalid_field", i, name, "not a question of this ticket rate");
        snprintf(name, sizeof name, "answers[%zu].answer", k);
        const char *text = json_string_value(answer);
        if (!text || strlen(text) != json_string_length(answer) || strlen(text) > 2000)
            return ticket_error(r, 400, "invalid_field", i, name, "an answer is text of at most 2000 characters");
        out->answers[out->nanswers++] = (question_answer){q->id, (int64_t)i, text};
    }
    for (size_t j = 0; j < model_count(m, CAT_QUESTION); j++) {
        const cat_question *q = model_object_at(m, CAT_QUESTION, j);
        if (!q->per_ticket || !q->required || !question_asked_for(q, p->id)) continue;
        bool answered = false;
        for (size_t a = 0; a < out->nanswers && !answered; a++)
            answered = !strcmp(out->answers[a].question_id, q->id) && *out->answers[a].answer;
        if (!answered) return ticket_error(r, 400, "missing_answer", i, "answers", "a required question is not answered");
    }
    return true;
}

/* The optional price a ticket was shown at, as the rates render it (a number
 * or a decimal string, at most the currency's decimals); false when malformed. */
static bool seen_price_parsed(const json_t *v, int decimals, money *out)
{
    char text[40];
    if (json_is_string(v)) {
        if (json_string_length(v) >= sizeof text) return false;
        snprintf(text, sizeof text, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0 && d < 1e12)) return false;
        /* the shortest text that reads back as d: 12.3 stays "12.3", never "12.300000000000001" */
        for (int digits = 1; digits <= 17; digits++) {
            snprintf(text, sizeof text, "%.*g", digits, d);
            if (strtod(text, NULL) == d) break;
        }
        if (strchr(text, 'e')) return false;
    } else {
        return false;
    }
    return money_parse(text, decimals, out) && *out >= 0 && *out < (money)1e15;
}

static bool ticket_checked(http_request *r, const catalog_model *m, const cat_product *p, int decimals,
                           const json_t *t, size_t i, json_t *holders, fv_ticket_in *out)
{
    if (!json_is_object(t)) return ticket_error(r, 400, "invalid_field", i, "price_id", "every ticket is an object");
    const char *price_id = json_string_value(json_object_get(t, "price_id"));
    if (!price_id || !tier_of(p, price_id, &out->requested))
        return ticket_error(r, 400, "invalid_field", i, "price_id", "price_id must be one of the rate's prices");
    const json_t *seen = json_object_get(t, "price");
    if (seen && !json_is_null(seen)) {
        out->price_seen = true;
        if (!seen_price_parsed(seen, decimals, &out->seen_price))
            return ticket_error(r, 400, "invalid_field", i, "price",
                                "price is the price the rate showed, a non-negative amount in the currency");
    }
    const json_t *qr = json_object_get(t, "qr_code");
    if (qr && !json_is_null(qr)) {
        out->qr_code = json_string_value(qr);
        if (!out->qr_code || !qr_code_ok(out->qr_code))
            return ticket_error(r, 400, "invalid_field", i, "qr_code", "qr_code is 6 to 64 of A-Z, a-z, 0-9 and -");
    }
    out->holder = json_object();
    json_array_append_new(holders, out->holder);
    if (!holder_checked(r, t, i, out->holder) || !supplements_checked(r, p, t, i, out) ||
        !answers_checked(r, m, p, t, i, out))
        return false;
    const json_t *w = json_object_get(t, "warranty");
    if (w && !json_is_null(w) && !json_is_boolean(w))
        return ticket_error(r, 400, "invalid_field", i, "warranty", "warranty is true or false");
    out->warranty = json_is_true(w);
    if (out->warranty && !p->warranty.enabled)
        return ticket_error(r, 400, "invalid_field", i, "warranty", "this ticket rate offers no warranty");
    return true;
}

/* The rate the body names in this account: false after a 404. */
static bool rate_found(http_request *r, const account *a, const catalog_model *m, const char *rate_id, checkout_in *in)
{
    if (fv_rate_find(a, m, rate_id, &in->p, &in->ev)) return true;
    fv_error(r, 404, "not_found", "ticket_rate_id", "no such ticket rate");
    return false;
}

static bool url_checked(http_request *r, const json_t *body, const char *name, const char **out)
{
    *out = json_string_value(json_object_get(body, name));
    if (*out && payment_callback_url_ok(*out) && strlen(*out) < PAYMENT_URL_MAX - 64) return true;
    fv_error(r, 400, "invalid_url", name, "%s must be an absolute http(s) URL", name);
    return false;
}

static bool flag_checked(http_request *r, const json_t *body, const char *name, bool *out)
{
    const json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v)) return true;
    if (!json_is_boolean(v)) {
        fv_error(r, 400, "invalid_field", name, "%s is true or false", name);
        return false;
    }
    *out = *out || json_is_true(v);
    return true;
}

/* Reads and checks the body; false after replying. */
static bool checkout_parsed(http_request *r, const account *a, const catalog_model *m, checkout_in *in)
{
    json_t *body = fv_body_object(r);
    if (!body) return false;
    const char *rate_id = json_string_value(json_object_get(body, "ticket_rate_id"));
    if (!rate_id || strlen(rate_id) != FV_ID_LEN || strspn(rate_id, "0123456789abcdef") != FV_ID_LEN) {
        fv_error(r, 400, "invalid_field", "ticket_rate_id", "ticket_rate_id must be an id of 24 hex digits");
        return false;
    }
    if (!url_checked(r, body, "redirect_url", &in->redirect_url) || !url_checked(r, body, "error_url", &in->error_url))
        return false;
    /* the seed's own spelling and the right one: either asks for the resources */
    if (!flag_checked(r, body, "send_resourcers", &in->send_resources) ||
        !flag_checked(r, body, "send_resources", &in->send_resources))
        return false;
    json_t *metadata = json_object_get(body, "metadata");
    if (metadata && !json_is_null(metadata)) {
        size_t len = 0;
        char *text = json_is_object(metadata) ? fv_stringify(metadata, &len) : NULL;
        free(text);
        if (!text || len > METADATA_MAX_BYTES) {
            fv_error(r, 400, "invalid_field", "metadata", "metadata is an object of at most 1024 bytes as JSON");
            return false;
        }
        in->metadata = metadata;
    }
    const json_t *code = json_object_get(body, "discount_code");
    if (code && !json_is_null(code)) {
        in->discount_code = json_string_value(code);
        if (!in->discount_code || !*in->discount_code || strlen(in->discount_code) > 64) {
            fv_error(r, 400, "invalid_field", "discount_code", "discount_code is text of 1 to 64 characters");
            return false;
        }
    }
    if (!rate_found(r, a, m, rate_id, in)) return false;
    memcpy(in->rate_id, rate_id, sizeof in->rate_id);
    const json_t *tickets = json_object_get(body, "tickets");
    const cat_product *p = in->p;
    int64_t min = p->min_per_order > 0 ? p->min_per_order : 1;
    int64_t max = p->max_per_order >= 0 && p->max_per_order < CHECKOUT_MAX_TICKETS ? p->max_per_order
                                                                                  : CHECKOUT_MAX_TICKETS;
    size_t n = json_array_size(tickets);
    if (!json_is_array(tickets) || (int64_t)n < min || (int64_t)n > max) {
        fv_error(r, 400, "invalid_field", "tickets", "this rate sells %lld to %lld tickets at a time", (long long)min,
                 (long long)max);
        return false;
    }
    in->tickets = http_alloc(r, n * sizeof *in->tickets);
    memset(in->tickets, 0, n * sizeof *in->tickets);
    in->n = n;
    for (size_t i = 0; i < n; i++)
        if (!ticket_checked(r, m, p, a->currency_decimals, json_array_get(tickets, i), i, in->holders, &in->tickets[i]))
            return false;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i && in->tickets[i].qr_code; j++)
            if (in->tickets[j].qr_code && !strcmp(in->tickets[i].qr_code, in->tickets[j].qr_code))
                return ticket_error(r, 409, "qr_code_taken", i, "qr_code", "two tickets name the same qr_code");
    return true;
}

/* ---------- the terms of each ticket ---------- */

/* What one ticket is sold at. */
typedef struct {
    int tier;              /* -1: the product's own price */
    money price, organization, platform, supplements, warranty;
} ticket_money;

/* Gives each ticket the active tier as the counts stand (each ticket counts
 * towards its tier, so a tier with one left sells one here); false when no
 * tier is left for some ticket (*sold_out). *changed: a ticket's tier is not the one it asked for. */
static bo_status plan_money(engine *e, const account *a, const checkout_in *in, money platform, ticket_money *out,
                            bool *changed, bool *sold_out)
{
    const cat_product *p = in->p;
    *changed = *sold_out = false;
    int64_t *used = calloc(p->ntiers + 1, sizeof *used);
    if (!used) return BO_INTERNAL;
    bo_status bs = price_tier_usage(e, a, p, in->ev.occurrence->id, used);
    instant_us now = clock_now();
    for (size_t i = 0; bs == BO_OK && i < in->n && !*sold_out; i++) {
        ticket_money *t = &out[i];
        *t = (ticket_money){.tier = -1, .price = in->own_price, .organization = p->booking_fee, .platform = platform};
        if (p->ntiers) {
            t->tier = price_tier_active(p, now, used);
            if (t->tier < 0) {
                *sold_out = true;
                break;
            }
            used[t->tier]++;
            t->price = p->tiers[t->tier].price;
            t->organization = price_tier_fee(&p->tiers[t->tier]);
        }
        if (t->tier != in->tickets[i].requested) *changed = true;
        /* a dynamic price moved since it was shown: since the price the body says
         * the buyer saw, or without one since the rate's listed base price */
        if (in->dynamic && t->price != (in->tickets[i].price_seen ? in->tickets[i].seen_price : p->price))
            *changed = true;
        for (size_t k = 0; k < in->tickets[i].nsupplements; k++) t->supplements += in->tickets[i].supplements[k]->price;
        if (in->tickets[i].warranty) t->warranty = warranty_price(&p->warranty, t->price);
    }
    free(used);
    return bs;
}

/* What the ticket's document carries for the channel (docs/MODEL.md, "Ticket"):
 * the holder and sale_terms. Malloc'd JSON text, written straight (no tree):
 * it is made for every ticket of every checkout. */
static char *terms_doc(const checkout_in *in, const char *payment_id, size_t i, const ticket_money *t)
{
    const cat_product *p = in->p;
    const cat_price_tier *tier = t->tier >= 0 ? &p->tiers[t->tier] : NULL;
    jbuf w;
    jb_init(&w, 1024);
    jb_obj(&w);
    jb_kjson(&w, "holder", in->tickets[i].holder);
    jb_key(&w, "sale_terms");
    jb_obj(&w);
    jb_kstr(&w, "price_tier_id", tier ? tier->id : NULL);
    jb_key(&w, "tier");
    if (tier) { /* the tier as it was sold, so the ticket shows it after the catalog moves on */
        jb_obj(&w);
        jb_kstr(&w, "id", tier->id);
        jb_kstr(&w, "name", tier->name);
        jb_kint(&w, "price", tier->price);
        jb_kint(&w, "valid_until", tier->valid_until);
        jb_kint(&w, "quantity", tier->quantity);
        jb_kint(&w, "fee_percent_bp", tier->fee_percent_bp);
        jb_kstr(&w, "includes", tier->includes);
        jb_kstr(&w, "additional_info", tier->additional_info);
        jb_obj_end(&w);
    } else {
        jb_null(&w);
    }
    jb_kint(&w, "price", t->price);
    jb_key(&w, "fees");
    jb_obj(&w);
    jb_kint(&w, "organization", t->organization);
    jb_kint(&w, "platform", t->platform);
    jb_obj_end(&w);
    jb_key(&w, "supplements");
    jb_arr(&w);
    for (size_t k = 0; k < in->tickets[i].nsupplements; k++) {
        const cat_supplement *sup = in->tickets[i].supplements[k];
        jb_obj(&w);
        jb_kstr(&w, "id", sup->id);
        jb_kstr(&w, "name", sup->name);
        jb_kint(&w, "price", sup->price);
        jb_obj_end(&w);
    }
    jb_arr_end(&w);
    jb_key(&w, "warranty");
    if (in->tickets[i].warranty) {
        jb_obj(&w);
        jb_kint(&w, "price", t->warranty);
        jb_kint(&w, "hours", p->warranty.hours);
        jb_obj_end(&w);
    } else {
        jb_null(&w);
    }
    jb_kstr(&w, "payment_id", payment_id);
    jb_kint(&w, "index", (int64_t)i);
    jb_kstr(&w, "channel_id", in->channel_id);
    jb_obj_end(&w);
    jb_obj_end(&w);
    return jb_take(&w, NULL);
}

/* ---------- the reply ---------- */

/* The reply's tickets are written straight into text from what the checkout
 * holds (the body, each ticket's terms, its booked row): the seed's ticket
 * object exactly as fv_ticket_json and fv_ticket_sale_terms make it of the
 * canonical ticket (GET /tickets/{id}), key for key and byte for byte, without
 * parsing the documents the booking just wrote; that was ~8% of the server's
 * CPU per paid checkout (docs/PERFORMANCE.md, "Fourvenues checkout").
 * tests/http/test_fourvenues_checkout.py compares the two texts. */

/* The holder's text member, else fallback, else null. */
static void holder_member(jbuf *w, const json_t *holder, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(holder, key));
    fv_jb_str(w, v ? v : fallback);
}

/* The price the ticket was sold at: its tier as its rate showed it, else the product's own price. */
static void price_write(jbuf *w, const account *a, const checkout_in *in, const ticket_money *t)
{
    const cat_product *p = in->p;
    const cat_price_tier *tier = t->tier >= 0 ? &p->tiers[t->tier] : NULL;
    int d = a->currency_decimals;
    char id[21];
    fv_numeric_id("price", p->id, tier ? tier->id : "", id);
    jb_obj(w);
    JB_KEY(w, "_id"), jb_str(w, id);
    JB_KEY(w, "name");
    if (tier) {
        fv_jb_str(w, tier->name);
    } else { /* the product's name, as its tickets' documents carry it */
        json_t *names = json_loads(p->name_json ? p->name_json : "{}", 0, NULL);
        fv_jb_str(w, api_text(names));
        json_decref(names);
    }
    JB_KEY(w, "price"), fv_jb_money(w, t->price, d);
    JB_KEY(w, "valid_until");
    if (tier) fv_jb_time(w, tier->valid_until);
    else jb_null(w);
    JB_KEY(w, "quantity"), jb_int(w, tier ? tier->quantity : 0);
    JB_KEY(w, "fee_type"), jb_str(w, tier && tier->fee_percent_bp >= 0 ? "percentage" : "fixed");
    JB_KEY(w, "fee_quantity");
    if (tier && tier->fee_percent_bp >= 0) fv_jb_money(w, tier->fee_percent_bp, 2);
    else fv_jb_money(w, t->organization, d);
    JB_KEY(w, "includes"), fv_jb_str(w, tier ? tier->includes : "");
    JB_KEY(w, "additional_info"), fv_jb_str(w, tier ? tier->additional_info : "");
    jb_obj_end(w);
}

/* Ticket i of the body, booked as row. */
static void ticket_write(jbuf *w, const account *a, const checkout_in *in, size_t i, const ticket_money *t,
                         const ticket_record *row)
{
    const fv_ticket_in *x = &in->tickets[i];
    const json_t *holder = x->holder, *buyer = in->tickets[0].holder; /* the order's customer */
    int d = a->currency_decimals;
    char id[FV_ID_LEN + 1];
    jb_obj(w);
    fv_ticket_id(row->id, id);
    JB_KEY(w, "_id"), jb_str(w, id);
    fv_public_id("event", row->event_id, row->occurrence, id);
    JB_KEY(w, "event_id"), jb_str(w, id);
    fv_public_id("rate", row->product_id, row->occurrence, id);
    JB_KEY(w, "ticket_rate_id"), jb_str(w, id);
    JB_KEY(w, "qr_code"), fv_jb_str(w, row->barcode);
    JB_KEY(w, "status"), jb_str(w, fv_ticket_status(row->status));
    JB_KEY(w, "price"), price_write(w, a, in, t);
    JB_KEY(w, "payment_currency"), fv_jb_str(w, a->currency);
    JB_KEY(w, "channel_id"), jb_str(w, in->channel_id);
    JB_KEY(w, "fees"), jb_obj(w);
    JB_KEY(w, "organization"), fv_jb_money(w, t->organization, d);
    JB_KEY(w, "discocil"), fv_jb_money(w, t->platform, d);
    jb_obj_end(w);
    JB_KEY(w, "full_name"), holder_member(w, holder, "name", json_string_value(json_object_get(buyer, "name")));
    JB_KEY(w, "phone"), holder_member(w, holder, "phone", NULL);
    JB_KEY(w, "email"), holder_member(w, holder, "email", json_string_value(json_object_get(buyer, "email")));
    const json_t *gender = json_object_get(holder, "gender");
    JB_KEY(w, "gender");
    if (json_is_integer(gender)) jb_int(w, json_integer_value(gender));
    else jb_null(w);
    static const char *const texts[] = {"birthday", "address", "postal_code", "country_code", "personal_document_type",
                                        "personal_document_number"};
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
        jb_key(w, texts[k]), holder_member(w, holder, texts[k], NULL);
    JB_KEY(w, "answers"), jb_arr(w);
    for (size_t k = 0; k < x->nanswers; k++) {
        if (!*x->answers[k].answer) continue; /* an empty answer to an optional question is no answer */
        char qid[21];
        fv_numeric_id("question", x->answers[k].question_id, NULL, qid);
        jb_obj(w);
        JB_KEY(w, "question_id"), jb_str(w, qid);
        JB_KEY(w, "answer"), fv_jb_str(w, x->answers[k].answer);
        jb_obj_end(w);
    }
    jb_arr_end(w);
    JB_KEY(w, "supplements"), jb_arr(w);
    money supplements = 0;
    for (size_t k = 0; k < x->nsupplements; k++) {
        char sid[21];
        fv_numeric_id("supplement", in->p->id, x->supplements[k]->id, sid);
        supplements += x->supplements[k]->price;
        jb_obj(w);
        JB_KEY(w, "supplement_id"), jb_str(w, sid);
        JB_KEY(w, "price"), fv_jb_money(w, x->supplements[k]->price, d);
        jb_obj_end(w);
    }
    jb_arr_end(w);
    /* a ticket just booked: no refund, no scan yet */
    JB_KEY(w, "refunded"), jb_int(w, 0);
    JB_KEY(w, "refunded_at"), jb_null(w);
    JB_KEY(w, "refunds"), jb_arr(w), jb_arr_end(w);
    JB_KEY(w, "for"), jb_int(w, fv_ticket_entries(row->scan_limit, row->max_scans, row->scan_times));
    JB_KEY(w, "enter"), jb_int(w, row->scans_used);
    JB_KEY(w, "entry_time");
    if (row->first_scan_at != STORE_NULL_INT) fv_jb_time(w, row->first_scan_at);
    else jb_null(w);
    money warranty = x->warranty ? t->warranty : 0;
    JB_KEY(w, "total_supplements"), fv_jb_money(w, supplements, d);
    JB_KEY(w, "total_fees"), fv_jb_money(w, t->organization + t->platform, d);
    JB_KEY(w, "total_price"),
        fv_jb_money(w, t->price - row->discount + t->organization + t->platform + supplements + warranty, d);
    JB_KEY(w, "warranty"), jb_obj(w);
    JB_KEY(w, "total"), fv_jb_money(w, warranty, d);
    JB_KEY(w, "hours"), jb_int(w, x->warranty ? in->p->warranty.hours : 0);
    jb_obj_end(w);
    jb_obj_end(w);
}

/* Where in the body the booked ticket stood: its terms' index (terms_doc), read in place; -1 when none. */
static int64_t body_index(const ticket_record *row)
{
    size_t len;
    const char *terms = row->doc ? objtext_span(row->doc, "sale_terms", &len) : NULL;
    const char *index = terms && *terms == '{' ? objtext_span(terms, "index", &len) : NULL;
    if (!index || *index < '0' || *index > '9') return -1;
    return strtoll(index, NULL, 10);
}

/* The reply: the payment, then the order's tickets (as the booking read them back) in the body's order. */
static void reply_checkout(http_request *r, const account *a, const checkout_in *in, const char *payment_id,
                           const payment_session *s, const order_record *o, const ticket_money *money_of,
                           bool changed)
{
    const ticket_record **by_index = calloc(o->ntickets + 1, sizeof *by_index);
    json_t *url = api_absolute_url(r, s->redirect_url);
    jbuf w;
    jb_init(&w, 2048 + 1536 * o->ntickets);
    jb_obj(&w);
    JB_KEY(&w, "data"), jb_obj(&w);
    JB_KEY(&w, "payment_id"), jb_str(&w, payment_id);
    JB_KEY(&w, "payment_url"), fv_jb_str(&w, json_string_value(url));
    JB_KEY(&w, "total_amount"), fv_jb_money(&w, s->amount + s->fee, a->currency_decimals);
    JB_KEY(&w, "tickets"), jb_arr(&w);
    for (size_t k = 0; by_index && k < o->ntickets; k++) {
        int64_t at = body_index(&o->tickets[k]);
        if (at >= 0 && (size_t)at < o->ntickets && (size_t)at < in->n && !by_index[at]) by_index[at] = &o->tickets[k];
    }
    for (size_t i = 0; by_index && i < o->ntickets; i++)
        if (by_index[i] && by_index[i]->event_id) ticket_write(&w, a, in, i, &money_of[i], by_index[i]);
    jb_arr_end(&w);
    JB_KEY(&w, "conditions_changed"), jb_bool(&w, changed);
    jb_obj_end(&w);
    JB_KEY(&w, "success"), jb_bool(&w, true);
    jb_obj_end(&w);
    json_decref(url);
    if (!by_index) w.failed = true;
    free(by_index);
    size_t len = 0;
    char *text = jb_take(&w, &len);
    if (!text) return fv_error(r, 500, "internal_error", NULL, "out of memory");
    http_reply_owned(r, 201, "application/json", text, len);
}

/* A callback URL with payment_id added to its query (the page adds order_id and status). */
static const char *with_payment_id(http_request *r, const char *url, const char *payment_id)
{
    const char *hash = strchr(url, '#');
    size_t head = hash ? (size_t)(hash - url) : strlen(url);
    const char *sep = !memchr(url, '?', head) ? "?" : url[head - 1] == '?' || url[head - 1] == '&' ? "" : "&";
    size_t n = strlen(url) + strlen(payment_id) + 16;
    char *out = http_alloc(r, n);
    snprintf(out, n, "%.*s%spayment_id=%s%s", (int)head, url, sep, payment_id, hash ? hash : "");
    return out;
}

/* The order's extras: what payment.success and GET /payments read back. */
static char *extras_text(const checkout_in *in, const char *payment_id)
{
    json_t *x = json_pack("{s:s,s:s,s:s,s:o,s:b,s:b}", "payment_id", payment_id, "rate_id", in->rate_id, "event_id",
                          in->ev.id, "metadata", in->metadata ? json_incref(in->metadata) : json_object(),
                          "send_resources", in->send_resources, "notify_customer", in->send_resources);
    char *text = x ? json_dumps(x, JSON_COMPACT) : NULL;
    json_decref(x);
    return text;
}

/* The first ticket's holder is the order's customer (name, e-mail). */
static char *customer_text(const checkout_in *in)
{
    const json_t *h = in->tickets[0].holder;
    json_t *c = json_object();
    if (json_object_get(h, "email")) json_object_set(c, "email", json_object_get(h, "email"));
    if (json_object_get(h, "name")) json_object_set(c, "name", json_object_get(h, "name"));
    if (json_object_get(h, "phone")) json_object_set(c, "phone", json_object_get(h, "phone"));
    char *text = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return text;
}

/* Which ticket's qr_code is in use: the first the account has (another
 * account's cannot be named), else the first given. */
static size_t clashing_ticket(engine *e, const account *a, const checkout_in *in)
{
    size_t first = in->n;
    for (size_t i = 0; i < in->n; i++) {
        if (!in->tickets[i].qr_code) continue;
        if (first == in->n) first = i;
        ticket_page page = {0};
        bo_error err = {0};
        ticket_query q = {.limit = 1, .barcode = in->tickets[i].qr_code};
        bool found = tickets_list(e, a, &q, &page, &err) == BO_OK && page.n;
        ticket_page_free(&page);
        if (found) return i;
    }
    return first == in->n ? 0 : first;
}

/* The channel adds no fee of its own for paying: the fees are in each ticket's terms. */
static bool no_method_fee(const order_record *o, void *arg, money *fee)
{
    (void)o, (void)arg;
    *fee = 0;
    return true;
}

/* Holds the cart, books it with each ticket's terms and starts its payment in
 * one write transaction (book_request.hold, payment_book_and_start: an order
 * that cannot be paid is never written, and a refusal holds nothing),
 * planning the tiers again when one filled meanwhile. */
static bo_status book_and_start(engine *e, const account *a, const checkout_in *in, const cart_request *hold,
                                const char *payment_id, money platform, const payment_start_request *start,
                                ticket_money *money_of, bool *changed, order_record *booked, payment_session *s,
                                bo_error *err)
{
    ticket_terms *terms = calloc(in->n, sizeof *terms);
    char **docs = calloc(in->n, sizeof *docs);
    size_t nanswers = 0;
    for (size_t i = 0; i < in->n; i++) nanswers += in->tickets[i].nanswers;
    question_answer *answers = calloc(nanswers + 1, sizeof *answers);
    if (!terms || !docs || !answers) {
        free(terms), free(docs), free(answers);
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    }
    nanswers = 0;
    for (size_t i = 0; i < in->n; i++)
        for (size_t k = 0; k < in->tickets[i].nanswers; k++) answers[nanswers++] = in->tickets[i].answers[k];
    bo_status bs = BO_SOLD_OUT;
    for (int attempt = 0; attempt < TIER_ATTEMPTS; attempt++) {
        bool sold_out = false;
        bs = plan_money(e, a, in, platform, money_of, changed, &sold_out);
        if (bs != BO_OK) {
            bo_fail(err, bs, "internal_error", "", "storage failure");
            break;
        }
        if (sold_out) {
            bs = bo_fail(err, BO_SOLD_OUT, "sold_out", "tickets", "no price of this ticket rate is left");
            break;
        }
        for (size_t i = 0; i < in->n; i++) {
            free(docs[i]);
            docs[i] = terms_doc(in, payment_id, i, &money_of[i]);
            const ticket_money *t = &money_of[i];
            terms[i] = (ticket_terms){.price_tier_id = t->tier >= 0 ? in->p->tiers[t->tier].id : NULL,
                                      .price = t->price, .booking_fee = t->organization + t->platform,
                                      .extras = t->supplements + t->warranty, .barcode = in->tickets[i].qr_code,
                                      .doc = docs[i]};
        }
        book_request req = {.hold = hold, .status = "open", .channel = "fourvenues",
                            .discount_code = in->discount_code, .answers = answers, .nanswers = nanswers,
                            .terms = terms, .nterms = in->n, .order_out = booked};
        bs = payment_book_and_start(e, a, &req, start, no_method_fee, NULL, s, NULL, err);
        if (bs != BO_SOLD_OUT || strcmp(err->code, "tier_sold_out")) break;
    }
    for (size_t i = 0; i < in->n; i++) free(docs[i]);
    free(docs), free(terms), free(answers);
    return bs;
}

static void checkout(http_request *r, void *app_, checkout_in *in_)
{
    checkout_in in = *in_;
    engine *e = fv_engine(app_);
    const account *a = api_account(r);
    catalog_view *v = catalog_view_open(e, a);
    if (!v) return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    bool test_mode = false;
    money platform = 0;
    if (!checkout_parsed(r, a, catalog_view_model(v), &in)) return catalog_view_close(v);
    char key_hash[65];
    secret_hash(http_header(r, "X-Api-Key"), key_hash);
    fv_public_id("channel", a->id, key_hash, in.channel_id);
    instant_us now = clock_now();
    instant_us valid_from = in.p->show_from < 0 ? 0 : tz_local_to_instant(in.ev.timezone, in.p->show_from, 0);
    if (in.ev.end < now || (valid_from && valid_from > now)) {
        catalog_view_close(v);
        return fv_error(r, 409, "not_on_sale", "ticket_rate_id", "this ticket rate is not on sale");
    }
    /* refused before anything is held: a checkout that cannot be paid sells nothing */
    if (account_sale_settings_get(e, a, &test_mode, &platform) != BO_OK) {
        catalog_view_close(v);
        return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    }
    if (!test_mode) {
        catalog_view_close(v);
        return fv_error(r, 409, "payments_unavailable", NULL,
                        "this organization takes no payments yet (the test provider serves accounts in test mode)");
    }
    char payment_id[FV_ID_LEN + 1];
    unsigned char raw[FV_ID_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(payment_id, sizeof payment_id, raw, sizeof raw);
    char *extras = extras_text(&in, payment_id), *customer = customer_text(&in);
    cart_line line = {in.p->id, (int64_t)in.n};
    /* one engine call: the price the rate shows now is the one the hold locks and the order charges */
    in.dynamic = !in.p->ntiers && pricing_product_dynamic(e, a, in.p->id);
    in.own_price = in.dynamic ? api_listed_price(e, a, in.p, in.ev.occurrence->id, -1, -1) : in.p->price;
    money unit = in.p->ntiers ? in.p->tiers[0].price : in.own_price;
    cart_request creq = {.channel = "fourvenues", .day = -1, .start_time = -1, .end_time = -1,
                         .occurrence_id = in.ev.occurrence->id, .lines = &line, .nlines = 1, .unit_prices = &unit,
                         .external_id = payment_id, .extras = extras, .customer = customer,
                         .discount_code = in.discount_code};
    bo_error err = {0};
    ticket_money *money_of = http_alloc(r, in.n * sizeof *money_of);
    bool changed = false;
    payment_start_request start = {.provider = PAYMENT_TEST_PROVIDER, .method = "fourvenues",
                                   .success_url = with_payment_id(r, in.redirect_url, payment_id),
                                   .failure_url = with_payment_id(r, in.error_url, payment_id),
                                   .test_server = ((app *)app_)->test_clock};
    start.cancel_url = start.expired_url = start.failure_url;
    payment_session *s = http_alloc(r, sizeof *s);
    order_record booked = {0};
    bo_status bs = book_and_start(e, a, &in, &creq, payment_id, platform, &start, money_of, &changed, &booked, s, &err);
    free(extras), free(customer);
    catalog_view_close(v);
    if (bs != BO_OK) {
        order_record_free(&booked);
        /* the hold's refusals: a limited discount's uses held as seats are */
        if (!strcmp(err.field, "discount_code") && (err.status == BO_SOLD_OUT || err.status == BO_INVALID))
            return fv_error(r, err.status == BO_SOLD_OUT ? 409 : 400, err.code, "discount_code", "%s", err.message);
        if (!strcmp(err.code, "barcode_taken")) {
            size_t i = clashing_ticket(e, a, &in);
            ticket_error(r, 409, "qr_code_taken", i, "qr_code", "this qr_code is already in use");
            return;
        }
        if (!strcmp(err.code, "sold_out"))
            return fv_error(r, 409, "sold_out", "tickets", "%s", err.message);
        return fv_fail(r, &err);
    }
    pay_page_remember(r, s, &booked, a); /* the buyer's next step is its page */
    reply_checkout(r, a, &in, payment_id, s, &booked, money_of, changed);
    order_record_free(&booked);
}

void fv_checkout(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    checkout_in in = {.holders = json_array()};
    if (!in.holders) return fv_error(r, 500, "internal_error", NULL, "out of memory");
    checkout(r, app_, &in);
    json_decref(in.holders);
}
