/* POST /convious-pricing/api/price/rtp (rtp.c): its own route table under the
 * longest prefix, beside the rest of /convious-pricing. */
#ifndef BO_API_CONVIOUS_PRICING_RTP_H
#define BO_API_CONVIOUS_PRICING_RTP_H
#include "api/api.h"

const http_route_table *convious_pricing_rtp_routes(void);
void cvp_rtp(http_request *r, void *app_);
#endif
