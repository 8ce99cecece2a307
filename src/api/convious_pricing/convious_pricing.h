/* The Convious pricing API under /convious-pricing (docs/dialects/convious-pricing.md). */
#ifndef BO_CONVIOUS_PRICING_H
#define BO_CONVIOUS_PRICING_H
#include "api/api.h"

/* GET /analytics.js (classic script, global conviousPricing) and /analytics.mjs
 * (ES module): the browser library, public (library.c). */
void cp_library_classic_get(http_request *r, void *app);
void cp_library_module_get(http_request *r, void *app);
#endif
