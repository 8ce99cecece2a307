/* The QR code of a barcode: its runs of dark modules (what the PDF and the
 * image both draw), and as an SVG image, which is what Ticket Tailor's
 * `qr_code_url` and `barcode_url` name (the doc calls them image URLs): one
 * path, a run per subpath, in a viewBox counted in modules so any size scales
 * crisply. */
#include "eticket/eticket.h"
#include "eticket/internal.h"
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>

bool eticket_qr_runs(const char *barcode, void (*start)(void *ctx, int side),
                     void (*run)(void *ctx, int row, int col, int length), void *ctx)
{
    QRcode *qr = QRcode_encodeString(barcode, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) return false;
    start(ctx, qr->width + 2 * ETICKET_QR_QUIET);
    for (int row = 0; row < qr->width; row++) {
        const unsigned char *modules = qr->data + (size_t)row * (size_t)qr->width;
        for (int col = 0; col < qr->width;) {
            if (!(modules[col] & 1)) {
                col++;
                continue;
            }
            int first = col;
            while (col < qr->width && (modules[col] & 1)) col++;
            run(ctx, row + ETICKET_QR_QUIET, first + ETICKET_QR_QUIET, col - first);
        }
    }
    QRcode_free(qr);
    return true;
}

static void svg_start(void *f, int side)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
            "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
            side, side, side * 8, side * 8, side, side);
}

static void svg_run(void *f, int row, int col, int length) { fprintf(f, "M%d %dh%dv1h-%dz", col, row, length, length); }

char *eticket_qr_svg(const char *barcode, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f) return NULL;
    bool drawn = eticket_qr_runs(barcode, svg_start, svg_run, f);
    if (drawn) fputs("\"/></svg>\n", f);
    if (fclose(f) != 0 || !drawn) {
        free(text);
        return NULL;
    }
    if (len) *len = n;
    return text;
}
