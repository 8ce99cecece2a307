/* Drawing e-tickets: one A6 portrait page (105 × 148 mm, a phone screen's
 * proportions and a quarter of A4 when printed) per ticket. libhpdf keeps all
 * its state in the document, so each render has its own HPDF_Doc and renders
 * run in parallel without a lock. DejaVu Sans is embedded (only the glyphs
 * used) through libhpdf's UTF-8 encoder, so Polish, Greek, Cyrillic ... names
 * print as written, and a ToUnicode map keeps the text extractable. */
#include "eticket/internal.h"
#include "util/log.h"
#include <hpdf.h>
#include <hpdf_fontdef.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PAGE_W 297.64f /* A6 in points */
#define PAGE_H 419.53f
#define MARGIN 20.0f
#define QR_SIDE 150.0f  /* points, quiet zone included: about 53 mm */
#define MIN_FONT 7.0f

/* libhpdf's own lookup of a character's glyph, replaced: the executable's
 * definition wins over the shared library's (its internal calls go through
 * the PLT, as fuzz/request.h relies on for libmicrohttpd). Making a UTF-8
 * font asks it for each of the 65,536 code points, and libhpdf 2.3 scans the
 * cmap's segments one by one (DejaVu Sans has about 1,000): 40 ms per font
 * per document, measured, twice the whole budget of a ticket. The same
 * answer by binary search over the sorted segment ends costs under 1 ms.
 * tests/unit/test_eticket.c compares it with libhpdf's for every code point
 * of both fonts. Reads the font definition only (per document, no lock). */
HPDF_UINT16 HPDF_TTFontDef_GetGlyphid(HPDF_FontDef fontdef, HPDF_UINT16 unicode)
{
    HPDF_TTFontDefAttr attr = (HPDF_TTFontDefAttr)fontdef->attr;
    const HPDF_TTF_CmapRange *cmap = &attr->cmap;
    if (cmap->format == 0) return cmap->glyph_id_array[unicode & 0xff];
    HPDF_UINT segments = cmap->seg_count_x2 / 2;
    HPDF_UINT lo = 0, hi = segments; /* the first segment whose end is >= unicode */
    while (lo < hi) {
        HPDF_UINT mid = lo + (hi - lo) / 2;
        if (cmap->end_count[mid] < unicode) lo = mid + 1;
        else hi = mid;
    }
    if (lo == segments || cmap->start_count[lo] > unicode) return 0;
    if (cmap->id_range_offset[lo] == 0) return (HPDF_UINT16)(unicode + cmap->id_delta[lo]);
    HPDF_UINT idx = cmap->id_range_offset[lo] / 2 + (HPDF_UINT)(unicode - cmap->start_count[lo]) - (segments - lo);
    if (idx >= cmap->glyph_id_array_count) return 0; /* libhpdf tests >, reading one past */
    return (HPDF_UINT16)(cmap->glyph_id_array[idx] + cmap->id_delta[lo]);
}

/* zlib's deflateInit, replaced the same way, for the same reason: libhpdf
 * compresses every document's copy of the font (its tables and a 128 KiB
 * character-to-glyph map, about 300 KB) at zlib's default level 6, which was
 * half of a ticket's CPU time. Level 1 (Z_BEST_SPEED) takes a third less time
 * per ticket (18 to 12 ms of CPU, measured) for a file 4% larger. Nothing else
 * in the server calls deflateInit (libcurl and libpq only inflate, if
 * anything), so only libhpdf's streams are affected. */
int deflateInit_(z_streamp strm, int level, const char *version, int stream_size)
{
    (void)level;
    return deflateInit2_(strm, Z_BEST_SPEED, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY, version, stream_size);
}

typedef struct {
    HPDF_STATUS error, detail;
} render_error;

static void HPDF_STDCALL on_error(HPDF_STATUS error, HPDF_STATUS detail, void *data)
{
    render_error *e = data;
    if (!e->error) e->error = error, e->detail = detail;
}

/* A libhpdf document with DejaVu Sans loaded. Loading and parsing the font
 * file is most of what is left of a render's cost once glyph lookups are
 * fast, and libhpdf keeps a document's font definitions across
 * HPDF_FreeDoc / HPDF_NewDoc: so finished documents wait in a small pool for
 * the next render, on any thread (a libhpdf document is used by one thread at
 * a time; the pool's lock only guards the list). */
typedef struct {
    HPDF_Doc doc;
    render_error err;   /* the doc's error handler writes here */
    const char *font;   /* the loaded font's name in doc */
} prepared_doc;

#define IDLE_DOCS_MAX 4 /* a few MB each (the font's tables): enough for two cores' renders */
static struct {
    pthread_mutex_t lock;
    prepared_doc *idle[IDLE_DOCS_MAX];
    size_t n;
} doc_pool = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

static void prepared_free(prepared_doc *d)
{
    if (d->doc) HPDF_Free(d->doc);
    free(d);
}

static prepared_doc *prepared_take(void)
{
    pthread_mutex_lock(&doc_pool.lock);
    prepared_doc *d = doc_pool.n ? doc_pool.idle[--doc_pool.n] : NULL;
    pthread_mutex_unlock(&doc_pool.lock);
    if (d) {
        if (HPDF_NewDoc(d->doc) == HPDF_OK && HPDF_SetCurrentEncoder(d->doc, "UTF-8") == HPDF_OK) return d;
        prepared_free(d);
    }
    d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->doc = HPDF_New(on_error, &d->err);
    if (!d->doc || HPDF_UseUTFEncodings(d->doc) != HPDF_OK || HPDF_SetCurrentEncoder(d->doc, "UTF-8") != HPDF_OK ||
        !(d->font = HPDF_LoadTTFontFromFile(d->doc, ETICKET_FONT_REGULAR, HPDF_TRUE))) {
        log_error("eticket: cannot load %s (libhpdf error 0x%04lx)", ETICKET_FONT_REGULAR,
                  (unsigned long)d->err.error);
        prepared_free(d);
        return NULL;
    }
    return d;
}

/* Back to the pool when it rendered cleanly (a failed document is dropped). */
static void prepared_give_back(prepared_doc *d)
{
    bool keep = !d->err.error;
    HPDF_FreeDoc(d->doc);
    pthread_mutex_lock(&doc_pool.lock);
    if (keep && doc_pool.n < IDLE_DOCS_MAX) doc_pool.idle[doc_pool.n++] = d, d = NULL;
    pthread_mutex_unlock(&doc_pool.lock);
    if (d) prepared_free(d);
}

typedef struct {
    HPDF_Doc doc;
    HPDF_Font font;
    HPDF_Page page;
    float y; /* baseline of the next line, from the bottom */
} pen;

/* Bytes of the longest prefix of s (a whole number of UTF-8 characters) whose
 * width at the current font fits `width`. */
static size_t fitting_prefix(HPDF_Page page, const char *s, float width)
{
    size_t len = strlen(s), lo = 0;
    char *buf = malloc(len + 1);
    if (!buf) return 0;
    for (size_t end = 1; end <= len; end++) {
        if (end < len && ((unsigned char)s[end] & 0xc0) == 0x80) continue; /* inside a character */
        memcpy(buf, s, end);
        buf[end] = 0;
        if (HPDF_Page_TextWidth(page, buf) > width) break;
        lo = end;
    }
    free(buf);
    return lo;
}

/* One line of text, shrunk from `size` down to MIN_FONT to fit the width, cut
 * with an ellipsis beyond that (a name of a hundred characters stays on its page). */
static void line(pen *p, bool bold, float size, const char *text)
{
    if (!text || !*text) return;
    /* bold: one embedded font (DejaVu Sans) filled and stroked, which halves
     * what each document embeds and compresses against loading the Bold face */
    float width = PAGE_W - 2 * MARGIN - (bold ? 2 : 0);
    HPDF_Page_SetFontAndSize(p->page, p->font, size);
    while (size > MIN_FONT && HPDF_Page_TextWidth(p->page, text) > width) {
        size -= 0.5f;
        HPDF_Page_SetFontAndSize(p->page, p->font, size);
    }
    p->y -= size * 1.25f;
    HPDF_Page_SetTextRenderingMode(p->page, bold ? HPDF_FILL_THEN_STROKE : HPDF_FILL);
    if (bold) HPDF_Page_SetLineWidth(p->page, size * 0.035f);
    HPDF_Page_BeginText(p->page);
    if (HPDF_Page_TextWidth(p->page, text) <= width) {
        HPDF_Page_TextOut(p->page, MARGIN, p->y, text);
    } else {
        size_t keep = fitting_prefix(p->page, text, width - HPDF_Page_TextWidth(p->page, "…"));
        char *cut = malloc(keep + sizeof "…");
        if (cut) {
            memcpy(cut, text, keep);
            strcpy(cut + keep, "…");
            HPDF_Page_TextOut(p->page, MARGIN, p->y, cut);
            free(cut);
        }
    }
    HPDF_Page_EndText(p->page);
}

static void labelled(pen *p, const char *label, const char *value)
{
    if (!value || !*value) return;
    size_t n = strlen(label) + strlen(value) + 3;
    char *text = malloc(n);
    if (!text) return;
    snprintf(text, n, "%s: %s", label, value);
    line(p, false, 9.5f, text);
    free(text);
}

/* The QR code as filled rectangles, one per run of dark modules in a row,
 * on a white square that includes the quiet zone. */
typedef struct {
    HPDF_Page page;
    float x, y, side, module;
} qr_area;

static void qr_start(void *ctx, int modules)
{
    qr_area *q = ctx;
    q->module = q->side / (float)modules;
    HPDF_Page_SetRGBFill(q->page, 1, 1, 1);
    HPDF_Page_Rectangle(q->page, q->x, q->y, q->side, q->side);
    HPDF_Page_Fill(q->page);
    HPDF_Page_SetRGBFill(q->page, 0, 0, 0);
}

static void qr_run(void *ctx, int row, int col, int length)
{
    qr_area *q = ctx;
    float top = q->y + q->side - (float)row * q->module;
    HPDF_Page_Rectangle(q->page, q->x + (float)col * q->module, top - q->module, (float)length * q->module, q->module);
}

static bool draw_qr(pen *p, const char *barcode, float x, float y, float side)
{
    qr_area q = {p->page, x, y, side, 0};
    if (!eticket_qr_runs(barcode, qr_start, qr_run, &q)) return false;
    HPDF_Page_Fill(p->page);
    return true;
}

static bool draw_page(pen *p, const eticket_page *t)
{
    p->page = HPDF_AddPage(p->doc);
    if (!p->page) return false;
    HPDF_Page_SetWidth(p->page, PAGE_W);
    HPDF_Page_SetHeight(p->page, PAGE_H);
    p->y = PAGE_H - MARGIN + 4;
    HPDF_Page_SetRGBFill(p->page, 0.35f, 0.35f, 0.35f);
    line(p, false, 9, t->account_name);
    HPDF_Page_SetRGBFill(p->page, 0, 0, 0);
    p->y -= 4;
    line(p, true, 15, t->title);
    line(p, true, 11, t->subtitle);
    p->y -= 2;
    line(p, false, 10, t->when);
    line(p, false, 10, t->venue);
    line(p, false, 8.5f, t->address);

    float qr_y = p->y - 8 - QR_SIDE;
    if (!draw_qr(p, t->barcode, (PAGE_W - QR_SIDE) / 2, qr_y, QR_SIDE)) return false;
    p->y = qr_y - 2;
    HPDF_Page_SetFontAndSize(p->page, p->font, 10);
    float w = HPDF_Page_TextWidth(p->page, t->barcode);
    if (w <= PAGE_W - 2 * MARGIN) { /* centred under the code */
        p->y -= 12.5f;
        HPDF_Page_BeginText(p->page);
        HPDF_Page_TextOut(p->page, (PAGE_W - w) / 2, p->y, t->barcode);
        HPDF_Page_EndText(p->page);
    } else {
        line(p, false, 10, t->barcode);
    }
    p->y -= 6;
    labelled(p, "Order", t->order_number);
    labelled(p, "Name", t->holder);
    labelled(p, "Price", t->price);
    if (t->notice) {
        p->y -= 4;
        HPDF_Page_SetRGBFill(p->page, 0.75f, 0, 0);
        HPDF_Page_SetRGBStroke(p->page, 0.75f, 0, 0);
        line(p, true, 10, t->notice);
        HPDF_Page_SetRGBFill(p->page, 0, 0, 0);
        HPDF_Page_SetRGBStroke(p->page, 0, 0, 0);
    }
    return true;
}

int eticket_render(const eticket_page *pages, size_t n, unsigned char **pdf, size_t *len)
{
    prepared_doc *d = prepared_take();
    if (!d) return -1;
    pen p = {.doc = d->doc};
    int rc = -1;
    HPDF_SetCompressionMode(p.doc, HPDF_COMP_ALL);
    HPDF_SetInfoAttr(p.doc, HPDF_INFO_CREATOR, "Boxoffice");
    if (!(p.font = HPDF_GetFont(p.doc, d->font, "UTF-8"))) goto done;
    for (size_t i = 0; i < n; i++)
        if (!draw_page(&p, &pages[i])) goto done;
    if (d->err.error || HPDF_SaveToStream(p.doc) != HPDF_OK) goto done;
    HPDF_UINT32 size = HPDF_GetStreamSize(p.doc), got = size;
    unsigned char *out = malloc(size ? size : 1);
    if (!out) goto done;
    HPDF_ReadFromStream(p.doc, out, &got); /* says HPDF_STREAM_EOF once it has read it all */
    if (got != size) {
        free(out);
        goto done;
    }
    *pdf = out;
    *len = got;
    rc = 0;
done:
    if (rc) {
        log_error("eticket: PDF render failed (libhpdf error 0x%04lx, detail %lu)", (unsigned long)d->err.error,
                  (unsigned long)d->err.detail);
        if (!d->err.error) d->err.error = HPDF_FAILD_TO_ALLOC_MEM; /* not for the pool either */
    }
    prepared_give_back(d);
    return rc;
}
