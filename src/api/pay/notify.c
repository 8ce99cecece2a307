/* POST /payments/notify/{provider}: a payment provider tells us what became
 * of a payment, out of band (docs/PAYMENTS.md). The provider reads its own
 * notification (payment_provider.parse_notification); the engine applies the
 * outcome. The reply is for the provider's retry logic: 200 done (also when it
 * was done before), 400 not a notification of this provider, 404 unknown
 * provider or payment, 409 the payment is finished otherwise. */
#include "api/pay/pay.h"
#include "core/payment.h"

void payment_notify_post(http_request *r, void *app_)
{
    app *a = app_;
    payment_notification n = {.content_type = http_header(r, "Content-Type"),
                              .signature = http_header(r, "X-Signature")};
    n.body = http_body(r, &n.len);
    payment_session *s = http_alloc(r, sizeof *s);
    bo_error err = {0};
    bo_status st = payment_notify(a->e, http_path_param(r, "provider"), &n, a->test_clock, s, &err);
    switch (st) {
    case BO_OK: return http_reply_json(r, 200, json_pack("{s:s,s:s}", "id", s->id, "status", s->status));
    case BO_INVALID:
    case BO_NOT_FOUND:
    case BO_CONFLICT:
        return http_reply_json(r, st == BO_INVALID ? 400 : st == BO_NOT_FOUND ? 404 : 409,
                               json_pack("{s:{s:s,s:s,s:s?}}", "error", "code", err.code, "message", err.message,
                                         "field", *err.field ? err.field : NULL));
    case BO_UNAVAILABLE: api_retry_later(r); return http_reply_error(r, 503, "unavailable", "try again later");
    case BO_UNAUTHORIZED:
        return http_reply_json(r, 401, json_pack("{s:{s:s,s:s,s:s?}}", "error", "code", err.code, "message",
                                                 err.message, "field", *err.field ? err.field : NULL));
    case BO_SOLD_OUT:
    case BO_FORBIDDEN:
    case BO_RATE_LIMITED:
    case BO_INTERNAL: break;
    }
    http_reply_error(r, 500, "internal_error", "the notification could not be applied; send it again");
}

/* POST /payments/fake/settle, form id=fk_<session id>&status=<outcome>: the
 * fake provider's test hook (servers started with --test-clock only). It
 * records the outcome at the fake provider's end and tells the engine
 * nothing, as when a real provider's notification is lost; the reconciler
 * then finds it by asking the provider (docs/PAYMENTS.md). 204, 400 a bad
 * id or status, 404 on a server without test hooks. */
void payment_fake_settle_post(http_request *r, void *app_)
{
    app *a = app_;
    if (!a->test_clock) return http_reply_error(r, 404, "not_found", "no such route");
    bool form = http_body_is_form(r);
    const char *id = form ? http_form(r, "id") : NULL;
    const char *status = form ? http_form(r, "status") : NULL;
    payment_outcome o;
    bo_error err = {0};
    if (!payment_outcome_parse(status, &o))
        return http_reply_json(r, 400, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "invalid_field", "message",
                                                 "status must be paid, failed, cancelled or expired", "field",
                                                 "status"));
    if (payment_fake_settle(id, o, &err) != BO_OK)
        return http_reply_json(r, 400, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", err.code, "message",
                                                 err.message, "field", err.field));
    http_reply_empty(r, 204);
}
