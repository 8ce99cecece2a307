/* GET /convious-pricing/analytics.js and /analytics.mjs: the browser library
 * that sends a shop's analytics events to POST /convious-pricing/events. Both
 * forms are made from web/analytics/analytics.js at build time and embedded in
 * the binary (build/gen/analytics_js.c, by web/analytics/build.sh), so a server
 * needs no installed files and the bytes served are the bytes tested. Public:
 * any shop's pages load it, from any origin. */
#include "api/convious_pricing/convious_pricing.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* build/gen/analytics_js.c: NUL-terminated bytes, their length, their quoted ETag */
extern const unsigned char analytics_classic[], analytics_classic_gz[], analytics_module[], analytics_module_gz[];
extern const unsigned long analytics_classic_len, analytics_classic_gz_len, analytics_module_len,
    analytics_module_gz_len;
extern const char analytics_classic_etag[], analytics_classic_gz_etag[], analytics_module_etag[],
    analytics_module_gz_etag[];

typedef struct {
    const unsigned char *bytes;
    unsigned long len;
    const char *etag;
} library_form;

/* True when Accept-Encoding takes gzip (RFC 9110 12.5.3): gzip named without
 * q=0, or else "*" without q=0. Every browser sends it; other clients get the
 * plain bytes. */
static bool takes_gzip(const char *accept)
{
    int gzip = -1, any = -1; /* -1 unnamed, 0 refused, 1 taken */
    for (const char *p = accept ? accept : ""; *p;) {
        p += strspn(p, " ,");
        size_t coding = strcspn(p, " ;,"), element = strcspn(p, ",");
        const char *q = strstr(p, "q=");
        int taken = !q || q >= p + element || strtod(q + 2, NULL) > 0;
        if (coding == 4 && !strncasecmp(p, "gzip", 4)) gzip = taken;
        else if (coding == 1 && *p == '*') any = taken;
        p += element;
    }
    return gzip >= 0 ? gzip : any > 0;
}

static void serve(http_request *r, const library_form *plain, const library_form *gzipped)
{
    bool gz = takes_gzip(http_header(r, "Accept-Encoding"));
    const library_form *form = gz ? gzipped : plain;
    /* a module fetched from another origin needs CORS; a classic script does
     * not, but integrity checks (SRI) on it do */
    http_add_header(r, "Access-Control-Allow-Origin", "*");
    http_add_header(r, "Cross-Origin-Resource-Policy", "cross-origin");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    /* an hour fresh, then revalidated by ETag: an upgrade reaches every page within the hour */
    http_add_header(r, "Cache-Control", "public, max-age=3600");
    http_add_header(r, "Vary", "Accept-Encoding");
    http_add_header(r, "ETag", form->etag);
    const char *match = http_header(r, "If-None-Match");
    if (match && (strstr(match, form->etag) || !strcmp(match, "*"))) return http_reply_empty(r, 304);
    if (gz) http_add_header(r, "Content-Encoding", "gzip");
    http_reply_raw(r, 200, "text/javascript; charset=utf-8", (const char *)form->bytes, form->len);
}

void cp_library_classic_get(http_request *r, void *app_)
{
    library_form plain = {analytics_classic, analytics_classic_len, analytics_classic_etag};
    library_form gzipped = {analytics_classic_gz, analytics_classic_gz_len, analytics_classic_gz_etag};
    serve(r, &plain, &gzipped);
}

void cp_library_module_get(http_request *r, void *app_)
{
    library_form plain = {analytics_module, analytics_module_len, analytics_module_etag};
    library_form gzipped = {analytics_module_gz, analytics_module_gz_len, analytics_module_gz_etag};
    serve(r, &plain, &gzipped);
}
