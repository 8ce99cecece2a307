/* Confirmation e-mail. When an order is confirmed (booked confirmed, or an
 * open one paid) in an account that enabled mail, and the order has a
 * customer e-mail, a row of the mail outbox is written in the same
 * transaction (store/mail_store.h), so it survives a crash. A sender thread
 * (core/sender.c, as for webhooks) claims due rows, builds the message (text
 * and HTML, the order's PDF e-tickets attached through the registered
 * renderer) and hands it to the account's SMTP server with libcurl. An
 * attempt that fails is retried with backoff for MAIL_RETRY_FOR_SECONDS after
 * the mail was queued, then the mail is failed; a permanent refusal (an SMTP
 * 5xx reply) fails it at once. The SMTP host obeys the outgoing-address rule
 * of webhooks (webhooks_host_allowed, webhooks_open_socket and the operator's
 * --webhook-allow). The state (queued | sent | failed) is on the order record
 * (order_record.mail). */
#ifndef BO_CORE_MAIL_H
#define BO_CORE_MAIL_H
#include "core/engine.h"
#include <stdbool.h>
#include <stddef.h>

#define MAIL_RETRY_FOR_SECONDS (24LL * 3600)
/* Attempt n+1 waits MAIL_FIRST_RETRY_SECONDS * 2^(n-1) after attempt n,
 * at most MAIL_MAX_RETRY_WAIT_SECONDS. */
#define MAIL_FIRST_RETRY_SECONDS 30
#define MAIL_MAX_RETRY_WAIT_SECONDS 3600

/* ---------- the e-ticket PDF (agreed with src/eticket) ---------- */

/* Renders the order's e-tickets as one PDF: 0 = ok (*pdf malloc'd, the
 * caller free()s it), 1 = no such order in this account, -1 = error. */
typedef int (*order_pdf_renderer)(engine *e, const account *a, const char *order_id, unsigned char **pdf,
                                  size_t *len);
/* Registers the renderer mail attaches, at start-up (NULL: none; mail then
 * goes without attachment, and says so in the log). */
void mail_set_pdf_renderer(engine *e, order_pdf_renderer fn);

/* ---------- settings ---------- */

typedef enum { MAIL_STARTTLS, MAIL_TLS, MAIL_PLAIN } mail_security;
/* "starttls" | "tls" | "none" */
const char *mail_security_name(mail_security s);

/* An account's settings as the admin API shows them; strings owned
 * (mail_settings_free), NULL when unset. The password is never read back:
 * only whether one is stored. */
typedef struct {
    bool enabled;
    char *host;
    int port;
    mail_security security;
    char *username;
    bool password_set;
    char *from_address, *from_name, *reply_to;
    instant_us updated_at; /* 0: never saved */
} mail_settings;
void mail_settings_free(mail_settings *m);

/* The account's settings, or the defaults (disabled, port 587, starttls)
 * when it never saved any. BO_INTERNAL when storage failed. */
bo_status mail_settings_get(engine *e, const account *a, mail_settings *out);

/* What a client writes: the whole settings (PUT). Strings NULL = unset. */
typedef struct {
    bool enabled;
    const char *host;
    int port;                /* 0: the security's default (587 starttls, 465 tls, 25 none) */
    const char *security;    /* NULL: starttls */
    const char *username;
    bool password_given;     /* false: keep the stored password */
    const char *password;    /* when given: the new one, NULL clears it */
    const char *from_address, *from_name, *reply_to;
} mail_settings_input;

/* Validates and stores them (the password sealed with the server key) and
 * fills *out as mail_settings_get would. BO_INVALID with field: host (not a
 * host name or address; a private, loopback or reserved address not allowed by
 * the operator: code host_not_allowed), port, security, username, password,
 * from_address, from_name, reply_to (code invalid_field; missing_field for
 * host and from_address when enabled). */
bo_status mail_settings_put(engine *e, const account *a, const mail_settings_input *in, mail_settings *out,
                            bo_error *err);

/* ---------- queueing (steps of the confirming transaction) ---------- */

/* A booking confirmed an order for `recipient` (NULL or "": no mail). */
db_status mail_queue_booked(db_conn *c, const account *a, const char *order_id, const char *recipient,
                            instant_us now);
/* An open order was paid: mail to the e-mail it was booked with. */
db_status mail_queue_paid(db_conn *c, const account *a, const char *order_id, instant_us now);

/* ---------- the message ---------- */

typedef struct {
    const char *product;    /* the ticket's product or event, in the customer's language */
    const char *occurrence; /* the date or slot key ("2026-12-01T10:00"); NULL or "" undated */
    money price;            /* incl. tax, minor units */
} mail_ticket_line;

/* What a confirmation says; every string UTF-8, borrowed. */
typedef struct {
    const char *message_id;   /* without brackets: order-id.mail-id@host */
    instant_us date;
    const char *from_address, *from_name, *reply_to, *to_address, *to_name;
    const char *account_name, *order_number, *visit_date;
    const char *currency;
    int currency_decimals;
    money total;
    const mail_ticket_line *tickets;
    size_t ntickets;
    const unsigned char *pdf; /* NULL: no attachment */
    size_t pdf_len;
    const char *pdf_name;     /* "tickets-<number>.pdf" */
    const char *boundary;     /* unique within the message (the mail id) */
} mail_message;

/* The RFC 5322 message with CRLF line endings, no line longer than 998
 * octets: headers (non-ASCII subject and display names as RFC 2047 encoded
 * words), multipart/mixed of multipart/alternative (text/plain, text/html,
 * both base64) and the PDF (application/pdf, base64 wrapped at 76).
 * malloc'd; *len gets its length. */
char *mail_message_build(const mail_message *m, size_t *len);
/* An RFC 2047 encoding of a header value: the text itself when it is
 * printable ASCII, else UTF-8 B encoded words of at most 75 characters
 * joined by CRLF SP (folded). malloc'd. */
char *mail_header_encode(const char *text);

/* ---------- the sender ---------- */

void mail_start(engine *e);
void mail_stop(engine *e);
/* One pass: sends what is due now; returns how many were attempted. */
int mail_deliver_due(engine *e);
#endif
