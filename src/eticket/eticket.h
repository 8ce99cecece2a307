/* E-tickets: one PDF page per ticket (libhpdf, DejaVu Sans embedded as UTF-8,
 * the barcode as a QR code drawn from libqrencode), and the tokens of their
 * download URLs (/tickets/{token}.pdf, /orders/{token}.pdf). Depends on the
 * engine's reads and src/util only: every dialect links to the same files and
 * the mail outbox attaches the same PDF (docs/ARCHITECTURE.md, "E-tickets").
 *
 * What is rendered: a ticket that is `valid`, or `unpaid` (marked so: its
 * barcode does not scan until the order is paid). A voided or refunded ticket
 * is never rendered: it is "not found", like a cancelled order, so a download
 * link of a ticket given up stops working instead of handing out a barcode
 * that the gate refuses. */
#ifndef BO_ETICKET_H
#define BO_ETICKET_H
#include "core/engine.h"
#include <stdbool.h>
#include <stddef.h>

/* The PDF of every live ticket of the order, one page each, in the order's
 * ticket order. 0 = ok (*pdf malloc'd, the caller free()s it; *len bytes),
 * 1 = no such order in this account (or nothing live in it: cancelled, every
 * ticket voided), -1 = error (logged). */
int eticket_order_pdf(engine *e, const account *a, const char *order_id, unsigned char **pdf, size_t *len);
/* The same for one ticket (with its order's number, buyer and language when it
 * has an order). 1 = no such ticket in this account, or voided / refunded. */
int eticket_ticket_pdf(engine *e, const account *a, const char *ticket_id, unsigned char **pdf, size_t *len);

/* The QR code of a barcode as an SVG image (black modules on white, a quiet
 * zone of 4 modules), malloc'd, NUL-terminated; NULL on failure. */
char *eticket_qr_svg(const char *barcode, size_t *len);

/* ---- download tokens (src/eticket/token.c) ----
 * A token names one object of one account, and is its own credential:
 * base64url(kind, account id, object id as 16-byte UUIDs, then a 128-bit
 * BLAKE2b MAC of those under the server key with the e-ticket purpose).
 * Nothing is stored: a token stays valid as long as the server key, and
 * the object decides (voided, cancelled) what it still downloads. */
typedef enum { ETICKET_TICKET = 't', ETICKET_ORDER = 'o' } eticket_kind;
#define ETICKET_TOKEN_MAX 72 /* 66 characters and the NUL */
/* False when an id is not a UUID (then no URL is offered). */
bool eticket_token_make(eticket_kind kind, const char *account_id, const char *object_id,
                        char out[ETICKET_TOKEN_MAX]);
/* True, with both ids (canonical lowercase UUIDs), only for a token that
 * eticket_token_make made for this kind under this server key. */
bool eticket_token_read(const char *token, eticket_kind kind, char account_id[37], char object_id[37]);
#endif
