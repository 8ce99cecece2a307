/* The Fourvenues dialect's JSON writer (src/api/fourvenues/stringify.c): the
 * bytes JavaScript's JSON.stringify gives for the same value, since webhook
 * receivers verify signatures on them; and its ids. No database. */
#include "check.h"
#include "api/fourvenues/fourvenues.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool number_is(double v, const char *want)
{
    char out[40];
    fv_js_number(v, out);
    if (!strcmp(out, want)) return true;
    printf("# %.17g: got %s, want %s\n", v, out, want);
    return false;
}

static bool text_is(json_t *v, const char *want)
{
    char *text = fv_stringify(v, NULL);
    bool same = text && !strcmp(text, want);
    if (!same) printf("# got %s\n# want %s\n", text ? text : "(null)", want);
    free(text);
    json_decref(v);
    return same;
}

/* The jbuf writers (for replies written straight into text) give what
 * fv_stringify gives for the jansson value the tree's path builds. */
static bool same_as_tree(json_t *tree, void (*write)(jbuf *, const void *), const void *arg)
{
    jbuf w;
    jb_init(&w, 16);
    jb_arr(&w);
    write(&w, arg);
    write(&w, arg); /* a second element: the separator */
    jb_arr_end(&w);
    char *text = jb_take(&w, NULL);
    json_t *list = json_pack("[OO]", tree, tree);
    char *want = fv_stringify(list, NULL);
    bool same = text && want && !strcmp(text, want);
    if (!same) printf("# got  %s\n# want %s\n", text ? text : "(null)", want ? want : "(null)");
    free(text), free(want);
    json_decref(list), json_decref(tree);
    return same;
}

static void write_str(jbuf *w, const void *s) { fv_jb_str(w, s); }
static void write_money(jbuf *w, const void *amount) { fv_jb_money(w, *(const money *)amount, 2); }
static void write_time(jbuf *w, const void *t) { fv_jb_time(w, *(const instant_us *)t); }

static bool str_same(const char *s) { return same_as_tree(s ? json_string(s) : json_null(), write_str, s); }
static bool money_same(money amount) { return same_as_tree(fv_money(amount, 2), write_money, &amount); }
static bool time_same(instant_us t) { return same_as_tree(fv_time(t), write_time, &t); }

int main(void)
{
    /* as Number.prototype.toString prints them (checked against node) */
    CHECK(number_is(0, "0") && number_is(-0.0, "0"), "numbers: zero, and minus zero as 0");
    CHECK(number_is(12, "12") && number_is(1.1, "1.1") && number_is(16.1, "16.1") && number_is(-0.5, "-0.5"),
          "numbers: money in major units");
    CHECK(number_is(0.1 + 0.2, "0.30000000000000004"), "numbers: the shortest text that reads back");
    CHECK(number_is(1e21, "1e+21") && number_is(1e20, "100000000000000000000") &&
              number_is(123456789012345680000.0, "123456789012345680000"),
          "numbers: exponent from 1e21 on, digits below");
    CHECK(number_is(0.000001, "0.000001") && number_is(1e-7, "1e-7") && number_is(1.5e-7, "1.5e-7"),
          "numbers: small ones as JavaScript writes them");
    CHECK(number_is(5e-324, "5e-324") && number_is(1.7976931348623157e308, "1.7976931348623157e+308"),
          "numbers: the extremes");
    CHECK(number_is(NAN, "null") && number_is(INFINITY, "null"), "numbers: not finite is null");
    CHECK(text_is(json_pack("{s:s,s:i,s:f,s:b,s:n,s:[]}", "z", "first", "a", 10, "m", 2.5, "t", 1, "n", "l"),
                  "{\"z\":\"first\",\"a\":10,\"m\":2.5,\"t\":true,\"n\":null,\"l\":[]}"),
          "stringify: compact, keys in insertion order");
    CHECK(text_is(json_string("caf\xc3\xa9 \xe2\x98\x83 \xe2\x80\xa8 \"q\" \\ / \x01\x1f\t\n"),
                  "\"caf\xc3\xa9 \xe2\x98\x83 \xe2\x80\xa8 \\\"q\\\" \\\\ / \\u0001\\u001f\\t\\n\""),
          "stringify: UTF-8 and U+2028 as they are, control characters as lower-case \\u00xx");
    CHECK(text_is(json_stringn("a\0b", 3), "\"a\\u0000b\""), "stringify: a NUL inside a text");
    CHECK(str_same("plain") && str_same("") && str_same(NULL) && str_same("\"q\" \\ / caf\xc3\xa9 \xe2\x80\xa8") &&
              str_same("\x01\x1f\x7f\t\n\b\f\r \"q\" \xf0\x9f\x98\x80"),
          "jbuf: fv_jb_str writes what stringify writes, control characters as lower-case \\u00xx");
    CHECK(money_same(0) && money_same(1200) && money_same(1210) && money_same(1205) && money_same(-5) &&
              money_same(1) && money_same(123456789012345),
          "jbuf: fv_jb_money writes what fv_money stringified writes");
    CHECK(time_same(0) && time_same(1) && time_same(4070923567890000) && time_same(-1000),
          "jbuf: fv_jb_time writes what fv_time stringified writes, 0 as null");
    char a[FV_ID_LEN + 1], b[FV_ID_LEN + 1], c[FV_ID_LEN + 1], n[21];
    fv_public_id("event", "ab", "c", a);
    fv_public_id("event", "a", "bc", b);
    fv_public_id("rate", "ab", "c", c);
    CHECK(strlen(a) == 24 && strspn(a, "0123456789abcdef") == 24, "ids: 24 lower-case hex digits");
    CHECK(strcmp(a, b) && strcmp(a, c), "ids: parts and purposes never run together");
    fv_numeric_id("price", "p", "t", n);
    CHECK(*n && strspn(n, "0123456789") == strlen(n) && strlen(n) <= 15, "numeric ids: up to 15 digits");
    char slug[40];
    fv_slugify("Night at the Museum: Live Concert!", slug, sizeof slug);
    CHECK(!strcmp(slug, "night-at-the-museum-live-concert"), "slugify: lower case, runs of others as one -");
    fv_slugify("¡Fiesta 2027!", slug, sizeof slug);
    CHECK(!strcmp(slug, "fiesta-2027"), "slugify: no leading or trailing -");
    return check_summary();
}
