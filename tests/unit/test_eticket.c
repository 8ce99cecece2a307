/* E-tickets without a database: the download token (made, read back, and
 * refused when tampered with, cut, of another kind or another server key)
 * and the PDF writer on pages in several European scripts. The PDFs' text
 * and QR codes are checked end to end in tests/http/test_etickets.py. */
#include "check.h"
#include "eticket/eticket.h"
#include "eticket/internal.h"
#include "util/objtext.h"
#include "util/secure.h"
#include <dlfcn.h>
#include <hpdf.h>
#include <hpdf_fontdef.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNT "d0000000-0000-4000-8000-0000000000aa"
#define ORDER "0190f1a2-3b4c-7d5e-8f60-718293a4b5c6"

static void set_key(unsigned char fill)
{
    unsigned char key[SERVER_KEY_BYTES];
    memset(key, fill, sizeof key);
    secure_set_server_key(key);
}

static void test_token_round_trip(void)
{
    char token[ETICKET_TOKEN_MAX], acc[37], id[37];
    CHECK(eticket_token_make(ETICKET_ORDER, ACCOUNT, ORDER, token), "token: made for UUIDs");
    CHECK(strlen(token) == 66, "token: 66 characters (49 bytes, 128-bit MAC)");
    CHECK(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 66,
          "token: URL-safe alphabet only");
    CHECK(eticket_token_read(token, ETICKET_ORDER, acc, id), "token: reads back");
    CHECK(!strcmp(acc, ACCOUNT) && !strcmp(id, ORDER), "token: names its account and object");
    CHECK(!eticket_token_read(token, ETICKET_TICKET, acc, id), "token: an order's token is no ticket's");
    char again[ETICKET_TOKEN_MAX];
    eticket_token_make(ETICKET_ORDER, ACCOUNT, ORDER, again);
    CHECK(!strcmp(token, again), "token: stateless, the same every time");
}

static void test_token_refused(void)
{
    char token[ETICKET_TOKEN_MAX], bad[ETICKET_TOKEN_MAX + 8], acc[37], id[37];
    eticket_token_make(ETICKET_TICKET, ACCOUNT, ORDER, token);
    int flipped_ok = 0;
    for (size_t i = 0; i < strlen(token); i++) { /* every character changed, one at a time */
        strcpy(bad, token);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        flipped_ok += eticket_token_read(bad, ETICKET_TICKET, acc, id);
    }
    CHECK(flipped_ok == 0, "token: any character changed is refused");
    strcpy(bad, token);
    bad[65] = 0;
    CHECK(!eticket_token_read(bad, ETICKET_TICKET, acc, id), "token: truncated is refused");
    snprintf(bad, sizeof bad, "%sA", token);
    CHECK(!eticket_token_read(bad, ETICKET_TICKET, acc, id), "token: extended is refused");
    CHECK(!eticket_token_read("", ETICKET_TICKET, acc, id), "token: empty is refused");
    CHECK(!eticket_token_read(NULL, ETICKET_TICKET, acc, id), "token: NULL is refused");
    memset(bad, 'A', 66), bad[66] = 0;
    CHECK(!eticket_token_read(bad, ETICKET_TICKET, acc, id), "token: garbage of the right length is refused");
    memcpy(bad, token, 67), bad[10] = '+';
    CHECK(!eticket_token_read(bad, ETICKET_TICKET, acc, id), "token: non-URL-safe base64 is refused");
    set_key(0x42);
    CHECK(!eticket_token_read(token, ETICKET_TICKET, acc, id), "token: another server key refuses it");
    set_key(0x17);
    CHECK(eticket_token_read(token, ETICKET_TICKET, acc, id), "token: the key that made it reads it");
    CHECK(!eticket_token_make(ETICKET_TICKET, ACCOUNT, "oc_not_a_uuid", token), "token: none for a non-UUID id");
    CHECK(!eticket_token_make(ETICKET_TICKET, "D0000000-0000-4000-8000-0000000000AA", ORDER, token),
          "token: only the canonical lowercase UUID");
}

static void test_render(void)
{
    eticket_page pages[3] = {
        {.account_name = "Muzeum Narodowe", .title = "Zażółć gęślą jaźń", .when = "Tue 1 Dec 2026, 10:00–11:00 (UTC+01:00)",
         .venue = "Kraków", .address = "al. 3 Maja 1", .order_number = "100042", .holder = "Łukasz Żółkiewski",
         .price = "19.50 PLN incl. tax", .barcode = "123456789012345678"},
        {.account_name = "Μουσείο", .title = "Ωδείο Ηρώδου", .subtitle = "Κανονικό", .when = "Open date",
         .holder = "Γιώργος Παπαδόπουλος", .price = "9.75 EUR incl. tax", .barcode = "9",
         .notice = "UNPAID: not valid for entry until the order is paid"},
        {.account_name = "Эрмитаж", .title = "Очень длинное название события, которое не помещается на одной строке "
                                           "билета формата A6 и поэтому должно быть сокращено",
         .holder = "Жёлтый Щука", .price = "0.00 RUB incl. tax", .barcode = "ABC-123"},
    };
    unsigned char *pdf = NULL;
    size_t len = 0;
    CHECK(eticket_render(pages, 3, &pdf, &len) == 0, "render: three pages in three scripts");
    CHECK(pdf && len > 1000 && !memcmp(pdf, "%PDF-", 5), "render: a PDF");
    CHECK(len < 200 * 1024, "render: fonts embedded as subsets, not whole (under 200 KiB)");
    free(pdf);
    size_t svg_len = 0;
    char *svg = eticket_qr_svg("123456789012345678", &svg_len);
    CHECK(svg && svg_len == strlen(svg) && strstr(svg, "<svg") && strstr(svg, "</svg>"), "qr svg: an SVG document");
    free(svg);
}

/* src/eticket/pdf.c replaces libhpdf's glyph lookup with a binary search:
 * it must answer as libhpdf's own does, for every code point of the font. */
static void test_glyph_lookup_matches_libhpdf(void)
{
    typedef HPDF_UINT16 (*lookup_fn)(HPDF_FontDef, HPDF_UINT16);
    lookup_fn theirs = (lookup_fn)dlsym(RTLD_NEXT, "HPDF_TTFontDef_GetGlyphid");
    CHECK(theirs && theirs != HPDF_TTFontDef_GetGlyphid, "glyphs: libhpdf's lookup is found beside ours");
    if (!theirs) return;
    HPDF_Doc doc = HPDF_New(NULL, NULL);
    HPDF_FontDef def = HPDF_GetTTFontDefFromFile(doc, ETICKET_FONT_REGULAR, HPDF_TRUE);
    CHECK(def != NULL, "glyphs: DejaVu Sans loads");
    long differ = 0, mapped = 0;
    for (unsigned u = 0; def && u <= 0xffff; u++) {
        HPDF_UINT16 mine = HPDF_TTFontDef_GetGlyphid(def, (HPDF_UINT16)u);
        differ += mine != theirs(def, (HPDF_UINT16)u);
        mapped += mine != 0;
    }
    CHECK(differ == 0, "glyphs: the same glyph as libhpdf for all 65,536 code points");
    CHECK(mapped > 3000, "glyphs: DejaVu Sans maps thousands of characters");
    if (def) HPDF_FontDef_Free(def); /* a definition fetched this way is the caller's */
    HPDF_Free(doc);
}

/* A translated name falls back to its first language (objtext_first_string). */
static void test_first_string(void)
{
    char *s = objtext_first_string("{\"n\":1,\"x\":{\"a\":\"inner\"},\"de\":\"Nachtf\\u00fchrung\",\"fr\":\"b\"}");
    CHECK(s && !strcmp(s, "Nachtf\xc3\xbchrung"), "first string: the first top-level string, unescaped");
    free(s);
    CHECK(!objtext_first_string("{\"n\":1,\"o\":{\"a\":\"b\"}}"), "first string: none among other values");
    CHECK(!objtext_first_string("{}") && !objtext_first_string(NULL), "first string: empty or no text");
}

int main(void)
{
    secure_init();
    set_key(0x17);
    test_token_round_trip();
    test_token_refused();
    test_render();
    test_glyph_lookup_matches_libhpdf();
    test_first_string();
    return check_summary();
}
