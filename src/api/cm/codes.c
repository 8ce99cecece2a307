/* GET /events/{event_uuid}/codes/{code}: what a discount or voucher code is
 * worth at this event. The code travels base64-encoded (the doc); standard or
 * URL-safe alphabet, with or without padding, and with "/" sent as %2F (the
 * route takes the rest of the path). */
#include "api/cm/reservation.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CM_CODE_MAX 72 /* decoded bytes: the engine's codes are at most 64 characters */

/* Decodes text into out (NUL-terminated); false when it is not base64 of a
 * 1..CM_CODE_MAX byte UTF-8 text without control characters. */
bool cm_code_decode(const char *text, char out[CM_CODE_MAX + 1])
{
    size_t n = text ? strlen(text) : 0, pad = 0;
    if (n == 0 || n > 4 * ((CM_CODE_MAX + 2) / 3)) return false;
    while (pad < n && text[n - 1 - pad] == '=') pad++;
    size_t body = n - pad;
    /* padding, when sent, must complete the last quantum exactly */
    if (pad > 2 || (pad && (body + pad) % 4) || body % 4 == 1) return false;
    char std[4 * ((CM_CODE_MAX + 2) / 3) + 1];
    bool urlsafe = false, standard = false;
    for (size_t i = 0; i < body; i++) {
        char ch = text[i];
        if (ch == '-' || ch == '_') urlsafe = true, ch = ch == '-' ? '+' : '/';
        else if (ch == '+' || ch == '/') standard = true;
        std[i] = ch;
    }
    if (urlsafe && standard) return false; /* one alphabet or the other */
    std[body] = 0;
    unsigned char raw[CM_CODE_MAX + 3];
    size_t len = 0;
    const char *end = NULL;
    if (sodium_base642bin(raw, sizeof raw, std, body, NULL, &len, &end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) ||
        end != std + body || len == 0 || len > CM_CODE_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (raw[i] < 0x20 || raw[i] == 0x7f) return false;
    memcpy(out, raw, len);
    out[len] = 0;
    json_t *as_text = json_string(out); /* NULL unless UTF-8 */
    json_decref(as_text);
    return as_text != NULL;
}

static json_t *discount_json(const account *a, const catalog_model *m, const cm_event *ce, const cat_discount *d,
                             int64_t used)
{
    int decimals = a->currency_decimals;
    bool per_ticket = d->type == DISCOUNT_FIXED || d->nproducts;
    json_t *types = json_array();
    for (size_t i = 0; per_ticket && i < model_count(m, CAT_PRODUCT); i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        if (!p->event_id || strcmp(p->event_id, ce->event->id) || !discount_applies_to(d, p->id)) continue;
        json_array_append_new(
            types, json_pack("{s:s,s:o,s:o}", "uuid", p->id, "max_order_amount",
                             p->max_per_order < 0 ? json_null() : json_integer(p->max_per_order), "fixed_balance",
                             cm_money(d->type == DISCOUNT_FIXED ? d->amount : 0, decimals)));
    }
    const json_t *doc = model_decoded(m, CAT_DISCOUNT, d->id);
    const json_t *name = json_object_get(doc, "name");
    int64_t left = d->max_redemptions < 0 ? -1 : d->max_redemptions - used;
    return json_pack("{s:s,s:s?,s:o,s:o,s:o,s:o,s:s,s:o,s:o}", "code", d->code, "external_code", d->external_id,
                     "fixed_balance", cm_money(d->type == DISCOUNT_FIXED ? d->amount : 0, decimals), "percentage",
                     cm_percent(d->type == DISCOUNT_PERCENTAGE ? d->percent_bp : 0), "capacity",
                     d->max_redemptions < 0 ? json_null() : json_integer(d->max_redemptions), "stock",
                     left < 0 && d->max_redemptions < 0 ? json_null() : json_integer(left > 0 ? left : 0),
                     "discount_type_id", per_ticket ? "DISCOUNT_TICKET_TYPE" : "DISCOUNT_ORDER", "description",
                     json_is_string(name) ? cm_texts(name)
                                          : cm_texts4("Korting", "Discount", "Code promotionnel", "Rabatt"),
                     "ticket_types", types);
}

/* A discount that names products is a code of the events those belong to. */
bool cm_discount_for_event(const catalog_model *m, const cm_event *ce, const cat_discount *d)
{
    if (!d->nproducts) return true;
    for (size_t i = 0; i < d->nproducts; i++) {
        const cat_product *p = model_product(m, d->product_ids[i]);
        if (p && p->event_id && !strcmp(p->event_id, ce->event->id)) return true;
    }
    return false;
}

void cm_code_get(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    cm_event ce;
    catalog_view *v = cm_event_open(r, e, &ce);
    if (!v) return;
    const catalog_model *m = catalog_view_model(v);
    char code[CM_CODE_MAX + 1];
    if (!cm_code_decode(http_path_param(r, "code"), code)) {
        catalog_view_close(v);
        return cm_error(r, 400, "CODE_INVALID", "code", "the code must be base64 of the code's text");
    }
    instant_us now = clock_now();
    const cat_discount *d = model_discount_by_code(m, code);
    if (d && cm_discount_for_event(m, &ce, d)) {
        int64_t redeemed = 0;
        bool expired = d->expires_at && d->expires_at <= now;
        int64_t held = 0;
        if (!expired && (discount_times_redeemed(e, a, d->id, &redeemed) != BO_OK ||
                         discount_uses_held(e, a, d->id, &held) != BO_OK)) {
            catalog_view_close(v);
            return cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
        }
        if (expired) {
            catalog_view_close(v);
            return cm_error(r, 400, "CODE_EXPIRED", "code", "this code has expired");
        }
        /* the shop's reservations hold a use (and keep it once booked); other
         * channels' orders only count it: the larger is what is gone */
        json_t *body = json_pack("{s:o,s:n}", "discount_code",
                                 discount_json(a, m, &ce, d, redeemed > held ? redeemed : held), "voucher_code");
        catalog_view_close(v);
        return cm_reply(r, 200, body);
    }
    voucher_code_state vc;
    bo_status st = voucher_code_find(e, a, code, &vc);
    const cat_voucher *voucher = st == BO_OK ? model_voucher(m, vc.voucher_id) : NULL;
    bool expired = voucher && voucher->expires_at && voucher->expires_at <= now;
    catalog_view_close(v);
    if (st == BO_INTERNAL) return cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
    /* a voided code, or one whose voucher is gone, is no code at all */
    if (!voucher || (!vc.available && vc.remaining > 0))
        return cm_error(r, 404, "CODE_NOT_FOUND", "code", "no such discount or voucher code");
    if (expired) return cm_error(r, 400, "CODE_EXPIRED", "code", "this code has expired");
    cm_reply(r, 200, json_pack("{s:n,s:{s:s,s:n,s:o}}", "discount_code", "voucher_code", "code", code, "external_code",
                               "balance", cm_money(vc.available ? vc.remaining : 0, a->currency_decimals)));
}
