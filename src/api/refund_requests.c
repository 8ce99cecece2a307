/* POST /tickets/{token}/refund-request [{reason}]: the holder of a ticket
 * bought with a refund warranty asks for a refund (ticket_request_refund).
 * The e-ticket's download token (src/eticket/token.c) is the credential, as
 * for its PDF: whoever holds the ticket holds its link. The seller hears of
 * it through the outbox (ISSUED_TICKET.REFUND_REQUESTED; Fourvenues'
 * ticket.request_refund) and refunds through its channel. */
#include "api/api.h"
#include "eticket/eticket.h"
#include <string.h>

static json_t *instant_json(instant_us t)
{
    char text[48];
    iso_format_seconds(t, NULL, text, sizeof text);
    return json_string(text);
}

/* The optional body's reason: none, or a JSON object {reason: text}. False after a 400. */
static bool reason_of(http_request *r, const char **reason)
{
    size_t len = 0;
    *reason = NULL;
    if (!http_body(r, &len) || !len) return true;
    const char *why = NULL;
    json_t *body = http_body_json(r, &why);
    const char *key;
    json_t *v;
    if (!json_is_object(body)) {
        http_reply_error(r, 400, "invalid_body", "send no body, or a JSON object {\"reason\": text}");
        return false;
    }
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "reason") || !json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
            http_reply_error(r, 400, "invalid_field", "the body takes one field, reason: text");
            return false;
        }
        *reason = json_string_value(v);
    }
    return true;
}

void api_ticket_refund_request(http_request *r, void *app_)
{
    engine *e = ((app *)app_)->e;
    const char *token = http_path_param(r, "token");
    char account_id[37], ticket_id[37];
    account a;
    /* a bad token, and one naming nothing, get the downloads' same 404 */
    if (!token || strlen(token) >= ETICKET_TOKEN_MAX || !eticket_token_read(token, ETICKET_TICKET, account_id, ticket_id))
        return http_reply_error(r, 404, "not_found", "no such e-ticket");
    switch (account_by_id(e, account_id, &a)) {
    case BO_OK: break;
    case BO_NOT_FOUND: return http_reply_error(r, 404, "not_found", "no such e-ticket");
    default: return http_reply_error(r, 500, "internal_error", "storage failed");
    }
    const char *reason;
    if (!reason_of(r, &reason)) return;
    ticket_refund_request_result out;
    bo_error err = {0};
    switch (ticket_request_refund(e, &a, ticket_id, reason, &out, &err)) {
    case BO_OK: break;
    case BO_NOT_FOUND: return http_reply_error(r, 404, "not_found", "no such e-ticket");
    case BO_INVALID: return http_reply_error(r, 400, err.code, err.message);
    case BO_CONFLICT: return http_reply_error(r, 409, err.code, err.message);
    case BO_UNAVAILABLE: api_retry_later(r); return http_reply_error(r, 503, "unavailable", "try again later");
    default: return http_reply_error(r, 500, "internal_error", "storage failed");
    }
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, out.created ? 201 : 200,
                    json_pack("{s:s,s:o,s:o}", "ticket_id", ticket_id, "requested_at", instant_json(out.requested_at),
                              "deadline", instant_json(out.deadline)));
}
