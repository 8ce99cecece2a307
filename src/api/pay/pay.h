/* The payment step's public routes (routes.c): the test provider's hosted
 * page and the providers' notifications. One file per resource. */
#ifndef BO_API_PAY_H
#define BO_API_PAY_H
#include "api/api.h"
/* page.c: GET and POST /pay/{payment_id} */
void pay_page_get(http_request *r, void *app_);
void pay_page_post(http_request *r, void *app_);
/* notify.c: POST /payments/notify/{provider} */
void payment_notify_post(http_request *r, void *app_);
/* notify.c: POST /payments/fake/settle (test servers only) */
void payment_fake_settle_post(http_request *r, void *app_);
#endif
