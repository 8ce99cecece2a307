/* Request rate limits: a counter per key and fixed hourly window, kept in the
 * database so that every server process sharing it counts the same requests. */
#include "core/internal.h"
#include <stdio.h>

bo_status ratelimit_hit(engine *e, const char *key, long limit, long *remaining, long *reset_seconds)
{
    int64_t now = clock_now() / US_PER_SEC;
    int64_t window = now - now % 3600, count;
    store_status st = store_rate_limit_hit(e->st, key, window, &count);
    *reset_seconds = (long)(window + 3600 - now);
    if (st != STORE_OK) {
        *remaining = limit; /* fail open: a storage hiccup must not lock clients out */
        return BO_INTERNAL;
    }
    *remaining = limit - (long)count;
    return *remaining < 0 ? BO_RATE_LIMITED : BO_OK;
}
