/* The payment step's public routes (routes.c): the test provider's hosted
 * page and the providers' notifications. One file per resource. */
#ifndef BO_API_PAY_H
#define BO_API_PAY_H
#include "api/api.h"
#include "core/payment.h"
/* page.c: GET and POST /pay/{payment_id} */
void pay_page_get(http_request *r, void *app_);
void pay_page_post(http_request *r, void *app_);
/* page.c: keeps what the page shows of a payment's order, from the checkout
 * that started it (s open, with the test provider; o read back in the
 * checkout's transaction, which has committed), so the page need not read the
 * order again while it is unchanged. */
void pay_page_remember(http_request *r, const payment_session *s, const order_record *o, const account *a);
/* notify.c: POST /payments/notify/{provider} */
void payment_notify_post(http_request *r, void *app_);
/* notify.c: POST /payments/fake/settle (test servers only) */
void payment_fake_settle_post(http_request *r, void *app_);
#endif
