/* The QR code of a barcode as an SVG image: what Ticket Tailor's
 * `qr_code_url` and `barcode_url` name (the doc calls them image URLs). One
 * path, a run of dark modules per subpath, in a viewBox counted in modules so
 * any size scales crisply. */
#include "eticket/eticket.h"
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>

#define QR_QUIET 4 /* modules of white around the code, as ISO/IEC 18004 asks */

char *eticket_qr_svg(const char *barcode, size_t *len)
{
    QRcode *qr = QRcode_encodeString(barcode, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) return NULL;
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f) {
        QRcode_free(qr);
        return NULL;
    }
    int side = qr->width + 2 * QR_QUIET;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
            "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
            side, side, side * 8, side * 8, side, side);
    for (int row = 0; row < qr->width; row++) {
        for (int col = 0; col < qr->width;) {
            if (!(qr->data[row * qr->width + col] & 1)) {
                col++;
                continue;
            }
            int start = col;
            while (col < qr->width && (qr->data[row * qr->width + col] & 1)) col++;
            fprintf(f, "M%d %dh%dv1h-%dz", start + QR_QUIET, row + QR_QUIET, col - start, col - start);
        }
    }
    fputs("\"/></svg>\n", f);
    QRcode_free(qr);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    if (len) *len = n;
    return text;
}
