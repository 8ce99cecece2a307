/* The dialects' side of the reply cache: what a read reply depends on, from
 * the engine, as the HTTP layer's stamp. */
#include "api/api.h"

bool api_reply_cached(http_request *r, void *app_, civil_date from, civil_date to)
{
    const app *ap = app_;
    const account *a = api_account(r);
    if (!ap->replies || !a) return false;
    read_stamp rs;
    if (!engine_read_stamp(ap->e, a, from, to, &rs)) return false;
    http_cache_stamp stamp = {{rs.catalog, rs.inventory, (uint64_t)rs.clock_offset, rs.access}};
    return http_reply_cached(r, ap->replies, a->id, &stamp);
}
