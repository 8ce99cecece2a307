/* The price a catalog listing shows (Ticket Tailor's ticket types, CM.com's
 * event detail, Fourvenues' ticket rates): for a dynamic product the price a
 * hold at that occurrence would lock now, so what a buyer sees is what the
 * cart charges; for any other product its base price, as listings always
 * showed (their price rules and tiers are the dialects' own business). */
#include "api/api.h"

money api_listed_price(engine *e, const account *a, const cat_product *p, const char *occurrence_id, civil_date day,
                       int32_t start_time)
{
    if (!pricing_product_dynamic(e, a, p->id)) return p->price;
    slot at;
    bo_error err = {0};
    /* the same resolution a hold makes (occurrence_resolve), so the same plan cell */
    if (occurrence_resolve(e, a, p->id, NULL, day, start_time, occurrence_id, &at, &err) != BO_OK) return p->price;
    return engine_price_at(e, a, p, &at, 1).unit_price;
}

bool api_reply_cached_priced(http_request *r, void *app_, civil_date from, civil_date to)
{
    const app *ap = app_;
    /* a dynamic price moves with the clock and the plan, neither of which
     * changes a cache stamp: such an account's priced replies are rendered anew */
    if (pricing_account_dynamic(ap->e, api_account(r))) return false;
    return api_reply_cached(r, app_, from, to);
}
