/* Between the e-ticket's data (eticket.c: engine reads → text) and its
 * drawing (pdf.c: text → PDF), so the layout can be tested without a database. */
#ifndef BO_ETICKET_INTERNAL_H
#define BO_ETICKET_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>

/* What one page shows, every string UTF-8; NULL leaves its line out. */
typedef struct {
    const char *account_name;
    const char *title;        /* the event's name, else the product's */
    const char *subtitle;     /* the product's name under its event's title */
    const char *when;         /* date and slot with the venue's UTC offset */
    const char *venue, *address;
    const char *order_number;
    const char *holder;
    const char *price;        /* incl. tax, with the currency */
    const char *barcode;      /* drawn as a QR code and printed */
    const char *notice;       /* a warning across the page (an unpaid ticket) */
} eticket_page;

/* One A6 page per entry. 0 = ok (*pdf malloc'd, caller frees), -1 = error. */
int eticket_render(const eticket_page *pages, size_t n, unsigned char **pdf, size_t *len);

/* The barcode's QR code (ECC level M, byte mode) as runs of dark modules:
 * start(ctx, side) once with the side in modules, quiet zone included, then
 * run(ctx, row, col, length) for each horizontal run, in modules from the top
 * left of that square. False when the barcode cannot be encoded. */
#define ETICKET_QR_QUIET 4 /* modules of white around the code, as ISO/IEC 18004 asks */
bool eticket_qr_runs(const char *barcode, void (*start)(void *ctx, int side),
                     void (*run)(void *ctx, int row, int col, int length), void *ctx);

#define ETICKET_FONT_REGULAR "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#endif
