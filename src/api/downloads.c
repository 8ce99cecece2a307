/* GET /tickets/{token}.pdf, /tickets/{token}.svg and /orders/{token}.pdf: the
 * e-tickets every dialect links to. No other authentication: the token is
 * the credential (src/eticket/token.c), and names its account. A token that
 * is malformed, tampered with, of another kind, or names nothing live gets
 * the same 404, so a probe learns nothing. Public, but not on the probe
 * listener: these are their own tables, not the root one. */
#include "api/api.h"
#include "eticket/eticket.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void not_found(http_request *r) { http_reply_error(r, 404, "not_found", "no such e-ticket"); }

/* The token of a "{token}.{ext}" path segment, or NULL. */
static const char *token_of(http_request *r, const char *ext)
{
    const char *file = http_path_param(r, "file");
    size_t n = file ? strlen(file) : 0, e = strlen(ext);
    if (n <= e + 1 || file[n - e - 1] != '.' || strcmp(file + n - e, ext) || n - e - 1 >= ETICKET_TOKEN_MAX)
        return NULL;
    char *token = http_strdup(r, file);
    token[n - e - 1] = 0;
    return token;
}

/* The account and object a token names, or false (replied 404 or 500). */
static bool resolve(http_request *r, engine *e, eticket_kind kind, const char *ext, account *a, char id[37])
{
    char account_id[37];
    const char *token = token_of(r, ext);
    if (!token || !eticket_token_read(token, kind, account_id, id)) {
        not_found(r);
        return false;
    }
    switch (account_by_id(e, account_id, a)) {
    case BO_OK: return true;
    case BO_NOT_FOUND: not_found(r); return false;
    default: http_reply_error(r, 500, "internal_error", "storage failed"); return false;
    }
}

/* Downloads are personal (a name, a barcode): no shared cache keeps them, and
 * the token in the URL is not handed on to links' targets. */
static void private_headers(http_request *r)
{
    http_add_header(r, "Cache-Control", "private, no-cache");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_add_header(r, "Referrer-Policy", "no-referrer");
}

static void reply_pdf(http_request *r, int rc, unsigned char *pdf, size_t len, const char *filename)
{
    if (rc == 1) return not_found(r);
    if (rc != 0) return http_reply_error(r, 500, "internal_error", "the e-ticket could not be rendered");
    char disposition[128];
    snprintf(disposition, sizeof disposition, "inline; filename=\"%s\"", filename);
    private_headers(r);
    http_add_header(r, "Content-Disposition", disposition);
    http_reply_owned(r, 200, "application/pdf", (char *)pdf, len);
}

/* A PDF download: the token's account and object, rendered by `render`
 * (eticket_ticket_pdf or eticket_order_pdf). */
static void serve_pdf(http_request *r, void *app_, eticket_kind kind,
                      int (*render)(engine *, const account *, const char *, unsigned char **, size_t *))
{
    engine *e = ((app *)app_)->e;
    account a;
    char id[37];
    if (!resolve(r, e, kind, "pdf", &a, id)) return;
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc = render(e, &a, id, &pdf, &len);
    char filename[64];
    snprintf(filename, sizeof filename, "%s-%s.pdf", kind == ETICKET_ORDER ? "tickets" : "ticket", id);
    reply_pdf(r, rc, pdf, len, filename);
}

static void order_pdf(http_request *r, void *app_) { serve_pdf(r, app_, ETICKET_ORDER, eticket_order_pdf); }

/* The ticket's QR code alone, as an image: live tickets only, as for the PDF. */
static void ticket_svg(http_request *r, void *app_)
{
    account a;
    char id[37];
    if (!resolve(r, ((app *)app_)->e, ETICKET_TICKET, "svg", &a, id)) return;
    ticket_record t;
    switch (ticket_get(((app *)app_)->e, &a, id, &t)) {
    case BO_OK: break;
    case BO_NOT_FOUND: return not_found(r);
    default: return http_reply_error(r, 500, "internal_error", "storage failed");
    }
    bool live = !strcmp(t.status, "valid") || !strcmp(t.status, "unpaid");
    size_t len = 0;
    char *svg = live ? eticket_qr_svg(t.barcode, &len) : NULL;
    ticket_record_free(&t);
    if (!live) return not_found(r);
    if (!svg) return http_reply_error(r, 500, "internal_error", "the QR code could not be drawn");
    private_headers(r);
    http_reply_owned(r, 200, "image/svg+xml", svg, len);
}

bool api_eticket_url(http_request *r, eticket_kind kind, const char *account_id, const char *id, const char *ext,
                     char *out, size_t n)
{
    char token[ETICKET_TOKEN_MAX];
    if (!id || !eticket_token_make(kind, account_id, id, token)) return false;
    snprintf(out, n, "%s/%s/%s.%s", r ? http_base_url(r) : "", kind == ETICKET_ORDER ? "orders" : "tickets", token,
             ext);
    return true;
}

/* One route per table: the router matches whole segments, so the extension
 * is told apart here. */
static void ticket_file(http_request *r, void *app_)
{
    const char *file = http_path_param(r, "file");
    size_t n = file ? strlen(file) : 0;
    if (n > 4 && !strcmp(file + n - 4, ".svg")) return ticket_svg(r, app_);
    serve_pdf(r, app_, ETICKET_TICKET, eticket_ticket_pdf);
}

static const http_route ticket_routes[] = {{"GET", "/{file}", ticket_file, 0},
                                           {"POST", "/{token}/refund-request", api_ticket_refund_request, 0}};
static const http_route order_routes[] = {{"GET", "/{file}", order_pdf, 0}};
static const http_route_table tickets_table = {"/tickets", ticket_routes, sizeof ticket_routes / sizeof ticket_routes[0],
                                              NULL, NULL, NULL};
static const http_route_table orders_table = {"/orders", order_routes, 1, NULL, NULL, NULL};

const http_route_table *ticket_download_routes(void) { return &tickets_table; }
const http_route_table *order_download_routes(void) { return &orders_table; }
