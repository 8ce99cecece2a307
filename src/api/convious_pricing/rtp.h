/* POST /convious-pricing/api/price/rtp (rtp.c), a route of the dialect's
 * table (routes.c, CP_AUTH_TOKEN). */
#ifndef BO_API_CONVIOUS_PRICING_RTP_H
#define BO_API_CONVIOUS_PRICING_RTP_H
#include "api/api.h"

void cvp_rtp(http_request *r, void *app_);
#endif
